/* elf.h - our own reader for ELF executables and Go build info (pure: works on a byte buffer)
 *
 * elf_inspect() never trusts the file: every offset and size is bounds-checked against the buffer,
 * so a truncated or hostile file gives -EBADMSG (or -ENOEXEC for "not an ELF at all"), never a crash.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct go_buildinfo {
	char *go_version;   /* "go1.19.8" */
	char *path;         /* main package path ("path" line), e.g. "example.com/hello" */
	char *main_module;  /* "mod" line: module path */
	char *main_version; /* "mod" line: version, "(devel)" for local builds */
	char *goos;         /* build GOOS=, NULL if absent */
	char *goarch;       /* build GOARCH= */
	int cgo_enabled;    /* build CGO_ENABLED=: 1, 0, or -1 if absent */
	bool trimpath;      /* build -trimpath=true */
	char *vcs;          /* build vcs= ("git"), NULL if absent */
	char *vcs_revision; /* build vcs.revision= */
	char *vcs_time;     /* build vcs.time= */
	int vcs_modified;   /* build vcs.modified=: 1, 0 or -1 if absent */
	char *default_godebug; /* build DefaultGODEBUG= ("containermaxprocs=0,updatemaxprocs=0,..."): the
	                        * GODEBUG defaults of the module's go.mod version, NULL if absent */
};

struct elf_info {
	int elf_class;          /* 32 or 64 */
	bool little_endian;
	uint16_t machine;       /* e_machine (EM_X86_64, EM_AARCH64, ...) */
	const char *arch;       /* Go-style name for machine+class: "amd64", "arm64", "386", "arm", "riscv64", "ppc64le", "s390x", or NULL */
	uint16_t type;          /* ET_EXEC or ET_DYN */
	bool pie;               /* ET_DYN with PT_INTERP or DF_1_PIE */
	char *interpreter;      /* PT_INTERP contents, NULL for a static binary */
	bool stripped;          /* no .symtab section */
	bool is_go;             /* a Go build info blob was found */
	struct go_buildinfo go; /* valid when is_go */
};

/* Inspects an ELF image held in memory (e.g. mmap'ed). */
/* Returns 0 and fills *ret (release it with elf_info_release()); on failure *ret is untouched:
 *   -ENOEXEC  not an ELF file, or an ELF that is no executable (ET_REL object, ET_CORE dump)
 *   -EBADMSG  truncated or inconsistent headers (every PT_LOAD, section and table must lie inside
 *             the buffer), or a Go build info blob that is present but corrupt
 *   -ENOMEM, -EINVAL (ret NULL)
 * A valid ELF without Go build info is a success with is_go false. The Go fields follow
 * `go version -m`: at most 256 bytes of version and 1 MiB of module info are accepted; build
 * settings other than the ones above are ignored; cgo_enabled and vcs_modified are -1 when the
 * setting is absent or has a value other than 0/1 (false/true). */
int elf_inspect(const void *data, size_t size, struct elf_info *ret);
/* Opens, mmaps read-only, inspects and unmaps path. -errno for I/O errors. */
/* Also -EINVAL when path is not a regular file, -EBADMSG when it is empty. */
int elf_inspect_file(const char *path, struct elf_info *ret);
/* Frees every string; accepts NULL or a zeroed struct and leaves the struct zeroed. */
void elf_info_release(struct elf_info *info);

/* Go-style architecture of the machine berth runs on ("amd64", "arm64", ...), from uname(2). */
/* NULL when uname(2) fails or the machine has no Go name here. */
const char *elf_host_arch(void);
/* e_machine name for messages: "x86-64", "AArch64", ... */
/* Never NULL: "unknown" for machines not in the table. */
const char *elf_machine_name(uint16_t machine);
