/* elf.c - our own ELF reader: architecture, interpreter and Go build info of an executable
 *
 * Works on a byte buffer and trusts nothing in it. Every multi-byte field is read through the
 * byte-order helpers below (never by casting a possibly unaligned pointer), and every offset and
 * length is checked against the buffer before use, with 64-bit arithmetic that cannot wrap.
 *
 * The Go build info lookup follows Go's own debug/buildinfo: the ".go.buildinfo" section, or when
 * there is none, the first 64 KiB of the first writable (non-executable) PT_LOAD segment, searched
 * at 16-byte alignment for the 32-byte blob header.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "elf.h"
#include "macro.h"

/* src/elf.h shadows the system <elf.h>, so the few constants we need are spelled out here. */
enum {
	ELF_EI_CLASS = 4,
	ELF_EI_DATA = 5,
	ELF_EI_VERSION = 6,
	ELF_EI_NIDENT = 16,
	ELF_CLASS32 = 1,
	ELF_CLASS64 = 2,
	ELF_DATA2LSB = 1,
	ELF_DATA2MSB = 2,
	ELF_EV_CURRENT = 1,

	ELF_ET_EXEC = 2,
	ELF_ET_DYN = 3,

	ELF_EM_SPARC = 2,
	ELF_EM_386 = 3,
	ELF_EM_68K = 4,
	ELF_EM_MIPS = 8,
	ELF_EM_PARISC = 15,
	ELF_EM_PPC = 20,
	ELF_EM_PPC64 = 21,
	ELF_EM_S390 = 22,
	ELF_EM_ARM = 40,
	ELF_EM_SH = 42,
	ELF_EM_SPARCV9 = 43,
	ELF_EM_IA_64 = 50,
	ELF_EM_X86_64 = 62,
	ELF_EM_AARCH64 = 183,
	ELF_EM_RISCV = 243,
	ELF_EM_BPF = 247,
	ELF_EM_LOONGARCH = 258,

	ELF_PT_LOAD = 1,
	ELF_PT_DYNAMIC = 2,
	ELF_PT_INTERP = 3,
	ELF_PF_X = 1,
	ELF_PF_W = 2,
	ELF_PN_XNUM = 0xffff,

	ELF_SHN_UNDEF = 0,
	ELF_SHN_XINDEX = 0xffff,
	ELF_SHT_SYMTAB = 2,
	ELF_SHT_NOBITS = 8,

	ELF_DT_NULL = 0,
	ELF_DT_FLAGS_1 = 0x6ffffffb,
	ELF_DF_1_PIE = 0x08000000,
};

/* Sizes of the on-disk structures, [0] for ELFCLASS32 and [1] for ELFCLASS64. */
static const size_t ehdr_size[2] = { 52, 64 };
static const size_t phdr_size[2] = { 32, 56 };
static const size_t shdr_size[2] = { 40, 64 };
static const size_t dyn_size[2] = { 8, 16 };

#define INTERP_MAX 4096                  /* PATH_MAX, with the NUL */
#define BUILDINFO_SCAN_MAX (64 * 1024)   /* as much of the data segment as Go searches */
#define BUILDINFO_HEADER_SIZE 32
#define BUILDINFO_ALIGN 16
#define GO_VERSION_MAX 256
#define GO_MODINFO_MAX (1024 * 1024)
#define GO_MODINFO_SENTINEL 16

static const char buildinfo_magic[14] = "\xff Go buildinf:";

struct elf_file {
	const uint8_t *data;
	bool is64;
	bool le;
	uint64_t phoff;
	uint64_t phnum;
	uint64_t shoff;
	uint64_t shnum;
	uint64_t shstrndx;
};

struct elf_phdr {
	uint32_t type;
	uint32_t flags;
	uint64_t offset;
	uint64_t vaddr;
	uint64_t filesz;
};

struct elf_shdr {
	uint32_t name;
	uint32_t type;
	uint64_t offset;
	uint64_t size;
	uint32_t link;
	uint32_t info;
};

static uint16_t rd16(const uint8_t *p, bool le)
{
	return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[1] | p[0] << 8);
}

static uint32_t rd32(const uint8_t *p, bool le)
{
	if (le)
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

static uint64_t rd64(const uint8_t *p, bool le)
{
	uint64_t lo = rd32(p + (le ? 0 : 4), le), hi = rd32(p + (le ? 4 : 0), le);
	return hi << 32 | lo;
}

/* A target word: 4 or 8 bytes. */
static uint64_t rdword(const uint8_t *p, bool is64, bool le)
{
	return is64 ? rd64(p, le) : rd32(p, le);
}

/* Whether [off, off+len) lies inside a buffer of size bytes, without overflowing. */
static bool in_bounds(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static bool memeq_str(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

static void read_phdr(const struct elf_file *f, uint64_t i, struct elf_phdr *ret)
{
	const uint8_t *p = f->data + f->phoff + i * phdr_size[f->is64];

	if (f->is64)
		*ret = (struct elf_phdr){
			.type = rd32(p, f->le),
			.flags = rd32(p + 4, f->le),
			.offset = rd64(p + 8, f->le),
			.vaddr = rd64(p + 16, f->le),
			.filesz = rd64(p + 32, f->le),
		};
	else
		*ret = (struct elf_phdr){
			.type = rd32(p, f->le),
			.offset = rd32(p + 4, f->le),
			.vaddr = rd32(p + 8, f->le),
			.filesz = rd32(p + 16, f->le),
			.flags = rd32(p + 24, f->le),
		};
}

/* The caller checks that the section header at off is inside the buffer. */
static void read_shdr_at(const struct elf_file *f, uint64_t off, struct elf_shdr *ret)
{
	const uint8_t *p = f->data + off;

	if (f->is64)
		*ret = (struct elf_shdr){
			.name = rd32(p, f->le),
			.type = rd32(p + 4, f->le),
			.offset = rd64(p + 24, f->le),
			.size = rd64(p + 32, f->le),
			.link = rd32(p + 40, f->le),
			.info = rd32(p + 44, f->le),
		};
	else
		*ret = (struct elf_shdr){
			.name = rd32(p, f->le),
			.type = rd32(p + 4, f->le),
			.offset = rd32(p + 16, f->le),
			.size = rd32(p + 20, f->le),
			.link = rd32(p + 24, f->le),
			.info = rd32(p + 28, f->le),
		};
}

static void read_shdr(const struct elf_file *f, uint64_t i, struct elf_shdr *ret)
{
	read_shdr_at(f, f->shoff + i * shdr_size[f->is64], ret);
}

static const char *go_arch(uint16_t machine, bool is64, bool le)
{
	switch (machine) {
	case ELF_EM_X86_64:
		return is64 && le ? "amd64" : NULL;
	case ELF_EM_AARCH64:
		return is64 && le ? "arm64" : NULL;
	case ELF_EM_386:
		return !is64 && le ? "386" : NULL;
	case ELF_EM_ARM:
		return !is64 && le ? "arm" : NULL;
	case ELF_EM_RISCV:
		return is64 && le ? "riscv64" : NULL;
	case ELF_EM_PPC64:
		return is64 && le ? "ppc64le" : NULL;
	case ELF_EM_S390:
		return is64 && !le ? "s390x" : NULL;
	default:
		return NULL;
	}
}

const char *elf_machine_name(uint16_t machine)
{
	static const struct {
		uint16_t machine;
		const char *name;
	} table[] = {
		{ ELF_EM_SPARC, "SPARC" },
		{ ELF_EM_386, "Intel 80386" },
		{ ELF_EM_68K, "Motorola 68000" },
		{ ELF_EM_MIPS, "MIPS" },
		{ ELF_EM_PARISC, "PA-RISC" },
		{ ELF_EM_PPC, "PowerPC" },
		{ ELF_EM_PPC64, "PowerPC64" },
		{ ELF_EM_S390, "IBM S/390" },
		{ ELF_EM_ARM, "ARM" },
		{ ELF_EM_SH, "SuperH" },
		{ ELF_EM_SPARCV9, "SPARC v9" },
		{ ELF_EM_IA_64, "IA-64" },
		{ ELF_EM_X86_64, "x86-64" },
		{ ELF_EM_AARCH64, "AArch64" },
		{ ELF_EM_RISCV, "RISC-V" },
		{ ELF_EM_BPF, "BPF" },
		{ ELF_EM_LOONGARCH, "LoongArch" },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (table[i].machine == machine)
			return table[i].name;
	return "unknown";
}

const char *elf_host_arch(void)
{
	static const struct {
		const char *machine;
		const char *arch;
	} table[] = {
		{ "x86_64", "amd64" },   { "aarch64", "arm64" }, { "arm64", "arm64" },
		{ "i386", "386" },       { "i486", "386" },      { "i586", "386" },
		{ "i686", "386" },       { "armv6l", "arm" },    { "armv7l", "arm" },
		{ "armv8l", "arm" },     { "riscv64", "riscv64" }, { "ppc64le", "ppc64le" },
		{ "s390x", "s390x" },
	};
	struct utsname u;

	if (uname(&u) < 0)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (streq(u.machine, table[i].machine))
			return table[i].arch;
	return NULL;
}

static void go_buildinfo_release(struct go_buildinfo *go)
{
	free(go->go_version);
	free(go->path);
	free(go->main_module);
	free(go->main_version);
	free(go->goos);
	free(go->goarch);
	free(go->vcs);
	free(go->vcs_revision);
	free(go->vcs_time);
	*go = (struct go_buildinfo){ .cgo_enabled = -1, .vcs_modified = -1 };
}

void elf_info_release(struct elf_info *info)
{
	if (!info)
		return;
	free(info->interpreter);
	go_buildinfo_release(&info->go);
	*info = (struct elf_info){};
}

static int set_field(char **field, const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		return -ENOMEM;
	free(*field);
	*field = p;
	return 0;
}

/* Reads a Go uvarint (encoding/binary): at most 10 bytes, no overflow. */
static int read_uvarint(const uint8_t **p, size_t *left, uint64_t *ret)
{
	uint64_t x = 0;

	for (size_t i = 0; i < 10 && i < *left; i++) {
		uint8_t b = (*p)[i];

		if (b < 0x80) {
			if (i == 9 && b > 1)
				return -EBADMSG;
			*ret = x | (uint64_t)b << (7 * i);
			*p += i + 1;
			*left -= i + 1;
			return 0;
		}
		x |= (uint64_t)(b & 0x7f) << (7 * i);
	}
	return -EBADMSG;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes a Go quoted string ("..." with escapes, or `raw`) at the start of s, as written by
 * strconv.Quote for build settings that need it. Returns the decoded string, its length and the
 * number of input bytes used. NUL bytes are refused: the result is a C string. */
static int go_unquote(const char *s, size_t n, char **ret, size_t *ret_len, size_t *ret_used)
{
	_cleanup_free_ char *buf = NULL;
	size_t i, k = 0;

	if (n < 2 || (s[0] != '"' && s[0] != '`'))
		return -EBADMSG;
	/* The decoded string is never longer than the quoted one. */
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;

	if (s[0] == '`') {
		for (i = 1; i < n && s[i] != '`'; i++)
			if (s[i] != '\r')
				buf[k++] = s[i];
		if (i >= n)
			return -EBADMSG;
		goto done;
	}

	for (i = 1; i < n && s[i] != '"'; i++) {
		uint32_t v = 0;
		int digits = 0, base = 16;

		if (s[i] == '\n')
			return -EBADMSG;
		if (s[i] != '\\') {
			buf[k++] = s[i];
			continue;
		}
		if (++i >= n)
			return -EBADMSG;
		switch (s[i]) {
		case 'a': buf[k++] = '\a'; continue;
		case 'b': buf[k++] = '\b'; continue;
		case 'f': buf[k++] = '\f'; continue;
		case 'n': buf[k++] = '\n'; continue;
		case 'r': buf[k++] = '\r'; continue;
		case 't': buf[k++] = '\t'; continue;
		case 'v': buf[k++] = '\v'; continue;
		case '\\': buf[k++] = '\\'; continue;
		case '"': buf[k++] = '"'; continue;
		case 'x': digits = 2; i++; break;
		case 'u': digits = 4; i++; break;
		case 'U': digits = 8; i++; break;
		case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
			digits = 3;
			base = 8;
			break;
		default:
			return -EBADMSG;
		}
		if (n - i < (size_t)digits)
			return -EBADMSG;
		for (int d = 0; d < digits; d++, i++) {
			int h = hexval(s[i]);

			if (h < 0 || h >= base)
				return -EBADMSG;
			v = v * (uint32_t)base + (uint32_t)h;
		}
		i--; /* the loop's i++ steps past the last digit */

		if (digits == 2 || digits == 3) { /* a byte */
			if (v > 0xff)
				return -EBADMSG;
			buf[k++] = (char)v;
		} else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
			return -EBADMSG;
		} else if (v < 0x80) {
			buf[k++] = (char)v;
		} else if (v < 0x800) {
			buf[k++] = (char)(0xc0 | v >> 6);
			buf[k++] = (char)(0x80 | (v & 0x3f));
		} else if (v < 0x10000) {
			buf[k++] = (char)(0xe0 | v >> 12);
			buf[k++] = (char)(0x80 | ((v >> 6) & 0x3f));
			buf[k++] = (char)(0x80 | (v & 0x3f));
		} else {
			buf[k++] = (char)(0xf0 | v >> 18);
			buf[k++] = (char)(0x80 | ((v >> 12) & 0x3f));
			buf[k++] = (char)(0x80 | ((v >> 6) & 0x3f));
			buf[k++] = (char)(0x80 | (v & 0x3f));
		}
	}
	if (i >= n)
		return -EBADMSG;
done:
	if (memchr(buf, 0, k))
		return -EBADMSG;
	buf[k] = 0; /* k < i < n: there is room */
	*ret = TAKE_PTR(buf);
	*ret_len = k;
	*ret_used = i + 1;
	return 0;
}

/* Go quotes build keys and values containing these (runtime/debug quoteKey, quoteValue). */
static bool needs_quoting(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr(" \t\r\n\"`", s[i]))
			return true;
	return false;
}

static size_t count_tabs(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += s[i] == '\t';
	return c;
}

static int parse_build_line(struct go_buildinfo *go, const char *kv, size_t n)
{
	_cleanup_free_ char *key_buf = NULL, *value_buf = NULL;
	const char *key, *value, *raw;
	size_t key_len, value_len, raw_len, used;
	int r;

	if (n == 0 || kv[0] == '=')
		return -EBADMSG;
	if (kv[0] == '"' || kv[0] == '`') {
		r = go_unquote(kv, n, &key_buf, &key_len, &used);
		if (r < 0)
			return r;
		if (used >= n || kv[used] != '=')
			return -EBADMSG;
		key = key_buf;
	} else {
		const char *eq = memchr(kv, '=', n);

		if (!eq)
			return -EBADMSG;
		key = kv;
		key_len = (size_t)(eq - kv);
		used = key_len;
		if (needs_quoting(key, key_len))
			return -EBADMSG;
	}
	raw = kv + used + 1;
	raw_len = n - used - 1;

	if (raw_len > 0 && (raw[0] == '"' || raw[0] == '`')) {
		r = go_unquote(raw, raw_len, &value_buf, &value_len, &used);
		if (r < 0)
			return r;
		if (used != raw_len)
			return -EBADMSG;
		value = value_buf;
	} else {
		if (needs_quoting(raw, raw_len))
			return -EBADMSG;
		value = raw;
		value_len = raw_len;
	}

	if (memeq_str(key, key_len, "GOOS"))
		return set_field(&go->goos, value, value_len);
	if (memeq_str(key, key_len, "GOARCH"))
		return set_field(&go->goarch, value, value_len);
	if (memeq_str(key, key_len, "vcs"))
		return set_field(&go->vcs, value, value_len);
	if (memeq_str(key, key_len, "vcs.revision"))
		return set_field(&go->vcs_revision, value, value_len);
	if (memeq_str(key, key_len, "vcs.time"))
		return set_field(&go->vcs_time, value, value_len);
	if (memeq_str(key, key_len, "CGO_ENABLED"))
		go->cgo_enabled = memeq_str(value, value_len, "1") ? 1 : memeq_str(value, value_len, "0") ? 0 : -1;
	else if (memeq_str(key, key_len, "vcs.modified"))
		go->vcs_modified = memeq_str(value, value_len, "true") ? 1 : memeq_str(value, value_len, "false") ? 0 : -1;
	else if (memeq_str(key, key_len, "-trimpath"))
		go->trimpath = memeq_str(value, value_len, "true");
	return 0;
}

/* Parses the module info text, with the same rules as Go's runtime/debug.ParseBuildInfo: a final
 * line without a newline is ignored, unknown lines are skipped, malformed known ones are errors. */
static int parse_modinfo(struct go_buildinfo *go, const char *s, size_t n)
{
	bool have_module = false; /* a mod or dep line that a "=>" line may follow */
	int r;

	if (memchr(s, 0, n))
		return -EBADMSG;

	for (;;) {
		const char *nl = memchr(s, '\n', n);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - s);

		if (len >= 5 && memcmp(s, "path\t", 5) == 0) {
			r = set_field(&go->path, s + 5, len - 5);
			if (r < 0)
				return r;
		} else if (len >= 4 && memcmp(s, "mod\t", 4) == 0) {
			const char *v = s + 4, *t1, *t2;
			size_t tabs = count_tabs(v, len - 4);

			if (tabs < 1 || tabs > 2)
				return -EBADMSG;
			t1 = memchr(v, '\t', len - 4);
			t2 = memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1));
			r = set_field(&go->main_module, v, (size_t)(t1 - v));
			if (r < 0)
				return r;
			r = set_field(&go->main_version, t1 + 1, (size_t)((t2 ? t2 : nl) - t1 - 1));
			if (r < 0)
				return r;
			have_module = true;
		} else if (len >= 4 && memcmp(s, "dep\t", 4) == 0) {
			size_t tabs = count_tabs(s + 4, len - 4);

			if (tabs < 1 || tabs > 2)
				return -EBADMSG;
			have_module = true;
		} else if (len >= 3 && memcmp(s, "=>\t", 3) == 0) {
			if (count_tabs(s + 3, len - 3) != 2 || !have_module)
				return -EBADMSG;
			have_module = false;
		} else if (len >= 6 && memcmp(s, "build\t", 6) == 0) {
			r = parse_build_line(go, s + 6, len - 6);
			if (r < 0)
				return r;
		}

		n -= len + 1;
		s = nl + 1;
	}
	return 0;
}

/* Maps a virtual address to file bytes through the PT_LOAD segments: returns the file offset and
 * how many bytes of the segment's file image follow it. */
static int vaddr_to_offset(const struct elf_file *f, uint64_t addr, uint64_t *ret_offset, uint64_t *ret_avail)
{
	for (uint64_t i = 0; i < f->phnum; i++) {
		struct elf_phdr ph;

		read_phdr(f, i, &ph);
		if (ph.type != ELF_PT_LOAD || addr < ph.vaddr || addr - ph.vaddr >= ph.filesz)
			continue;
		/* PT_LOAD file ranges were checked against the buffer in elf_inspect(). */
		*ret_offset = ph.offset + (addr - ph.vaddr);
		*ret_avail = ph.filesz - (addr - ph.vaddr);
		return 0;
	}
	return -EBADMSG;
}

/* Pre-1.18 build info: reads the Go string header {ptr, len} at addr, then the string. */
static int read_go_string(const struct elf_file *f, uint64_t addr, bool is64, bool le, uint64_t max,
			  const char **ret, size_t *ret_len)
{
	size_t ptr_size = is64 ? 8 : 4;
	uint64_t off, avail, data_addr, data_len;
	int r;

	r = vaddr_to_offset(f, addr, &off, &avail);
	if (r < 0)
		return r;
	if (avail < 2 * ptr_size)
		return -EBADMSG;
	data_addr = rdword(f->data + off, is64, le);
	data_len = rdword(f->data + off + ptr_size, is64, le);
	if (data_len > max)
		return -EBADMSG;
	if (data_len == 0) {
		*ret = "";
		*ret_len = 0;
		return 0;
	}
	r = vaddr_to_offset(f, data_addr, &off, &avail);
	if (r < 0)
		return r;
	if (data_len > avail)
		return -EBADMSG;
	*ret = (const char *)f->data + off;
	*ret_len = (size_t)data_len;
	return 0;
}

/* Decodes the blob whose 32-byte header starts at p, with left bytes of its region after p. */
static int parse_buildinfo_blob(const struct elf_file *f, const uint8_t *p, size_t left, struct go_buildinfo *go)
{
	uint8_t ptr_size = p[14], flags = p[15];
	const char *version, *mod;
	size_t version_len, mod_len;
	int r;

	if (ptr_size != 4 && ptr_size != 8)
		return -EBADMSG;

	if (flags & 2) {
		/* Go >= 1.18: two uvarint-prefixed strings follow the header. */
		const uint8_t *q = p + BUILDINFO_HEADER_SIZE;
		size_t n = left - BUILDINFO_HEADER_SIZE;
		uint64_t len;

		r = read_uvarint(&q, &n, &len);
		if (r < 0)
			return r;
		if (len > GO_VERSION_MAX || len > n)
			return -EBADMSG;
		version = (const char *)q;
		version_len = (size_t)len;
		q += len;
		n -= len;

		r = read_uvarint(&q, &n, &len);
		if (r < 0)
			return r;
		if (len > GO_MODINFO_MAX || len > n)
			return -EBADMSG;
		mod = (const char *)q;
		mod_len = (size_t)len;
	} else {
		/* Go < 1.18: pointers to runtime.buildVersion and runtime.modinfo (Go strings). */
		bool is64 = ptr_size == 8, le = !(flags & 1);

		r = read_go_string(f, rdword(p + 16, is64, le), is64, le, GO_VERSION_MAX, &version, &version_len);
		if (r < 0)
			return r;
		r = read_go_string(f, rdword(p + 16 + ptr_size, is64, le), is64, le, GO_MODINFO_MAX, &mod, &mod_len);
		if (r < 0)
			return r;
	}

	if (version_len == 0)
		return -EBADMSG;
	for (size_t i = 0; i < version_len; i++)
		if ((unsigned char)version[i] < 0x20 || (unsigned char)version[i] > 0x7e)
			return -EBADMSG;
	r = set_field(&go->go_version, version, version_len);
	if (r < 0)
		return r;

	/* Module info is framed by 16-byte sentinels (cmd/go modload infoStart/infoEnd); a binary
	 * built outside module mode has none at all. */
	if (mod_len == 0)
		return 0;
	if (mod_len < 2 * GO_MODINFO_SENTINEL + 1 || mod[mod_len - GO_MODINFO_SENTINEL - 1] != '\n')
		return -EBADMSG;
	return parse_modinfo(go, mod + GO_MODINFO_SENTINEL, mod_len - 2 * GO_MODINFO_SENTINEL);
}

/* Looks for the blob header at 16-byte alignment in the first 64 KiB of [off, off+len). */
static int find_buildinfo(const struct elf_file *f, uint64_t off, uint64_t len, struct go_buildinfo *go)
{
	uint64_t scan = len < BUILDINFO_SCAN_MAX ? len : BUILDINFO_SCAN_MAX;

	for (uint64_t i = 0; i + BUILDINFO_HEADER_SIZE <= scan; i += BUILDINFO_ALIGN) {
		const uint8_t *p = f->data + off + i;
		int r;

		if (memcmp(p, buildinfo_magic, sizeof(buildinfo_magic)) != 0)
			continue;
		r = parse_buildinfo_blob(f, p, (size_t)(len - i), go);
		return r < 0 ? r : 1;
	}
	return 0;
}

/* Returns whether the ET_DYN object's PT_DYNAMIC segment sets DF_1_PIE. */
static bool dynamic_has_pie_flag(const struct elf_file *f, const struct elf_phdr *dyn)
{
	size_t entsize = dyn_size[f->is64], word = entsize / 2;

	for (uint64_t i = 0; i + entsize <= dyn->filesz; i += entsize) {
		const uint8_t *p = f->data + dyn->offset + i;
		uint64_t tag = rdword(p, f->is64, f->le);

		if (tag == ELF_DT_NULL)
			break;
		if (tag == ELF_DT_FLAGS_1)
			return rdword(p + word, f->is64, f->le) & ELF_DF_1_PIE;
	}
	return false;
}

static int parse_header(const uint8_t *d, size_t size, struct elf_file *f, struct elf_info *info)
{
	uint16_t phentsize, shentsize;

	/* Fewer than 4 bytes: a prefix of the magic is a truncated ELF, anything else is not one. */
	if (size == 0)
		return -EBADMSG;
	if (size < 4)
		return memcmp(d, "\x7f" "ELF", size) == 0 ? -EBADMSG : -ENOEXEC;
	if (memcmp(d, "\x7f" "ELF", 4) != 0)
		return -ENOEXEC;
	if (size < ELF_EI_NIDENT)
		return -EBADMSG;
	if (d[ELF_EI_CLASS] != ELF_CLASS32 && d[ELF_EI_CLASS] != ELF_CLASS64)
		return -EBADMSG;
	if (d[ELF_EI_DATA] != ELF_DATA2LSB && d[ELF_EI_DATA] != ELF_DATA2MSB)
		return -EBADMSG;
	if (d[ELF_EI_VERSION] != ELF_EV_CURRENT)
		return -EBADMSG;

	*f = (struct elf_file){
		.data = d,
		.is64 = d[ELF_EI_CLASS] == ELF_CLASS64,
		.le = d[ELF_EI_DATA] == ELF_DATA2LSB,
	};
	if (size < ehdr_size[f->is64])
		return -EBADMSG;

	info->elf_class = f->is64 ? 64 : 32;
	info->little_endian = f->le;
	info->type = rd16(d + 16, f->le);
	info->machine = rd16(d + 18, f->le);
	if (rd32(d + 20, f->le) != ELF_EV_CURRENT)
		return -EBADMSG;
	if (info->type != ELF_ET_EXEC && info->type != ELF_ET_DYN)
		return -ENOEXEC; /* a valid ELF, but an object file or a core dump */
	info->arch = go_arch(info->machine, f->is64, f->le);

	if (f->is64) {
		f->phoff = rd64(d + 32, f->le);
		f->shoff = rd64(d + 40, f->le);
		phentsize = rd16(d + 54, f->le);
		f->phnum = rd16(d + 56, f->le);
		shentsize = rd16(d + 58, f->le);
		f->shnum = rd16(d + 60, f->le);
		f->shstrndx = rd16(d + 62, f->le);
	} else {
		f->phoff = rd32(d + 28, f->le);
		f->shoff = rd32(d + 32, f->le);
		phentsize = rd16(d + 42, f->le);
		f->phnum = rd16(d + 44, f->le);
		shentsize = rd16(d + 46, f->le);
		f->shnum = rd16(d + 48, f->le);
		f->shstrndx = rd16(d + 50, f->le);
	}

	/* Section headers: with extended numbering, the real counts live in section header 0. */
	if (f->shoff == 0) {
		if (f->shnum != 0)
			return -EBADMSG;
		f->shstrndx = ELF_SHN_UNDEF;
	} else if (f->shnum == 0 || f->phnum == ELF_PN_XNUM || f->shstrndx == ELF_SHN_XINDEX) {
		struct elf_shdr sh0;

		if (shentsize != shdr_size[f->is64] || !in_bounds(size, f->shoff, shentsize))
			return -EBADMSG;
		read_shdr_at(f, f->shoff, &sh0);
		if (f->shnum == 0)
			f->shnum = sh0.size;
		if (f->shstrndx == ELF_SHN_XINDEX)
			f->shstrndx = sh0.link;
		if (f->phnum == ELF_PN_XNUM)
			f->phnum = sh0.info;
	}
	if (f->shnum > 0) {
		if (shentsize != shdr_size[f->is64])
			return -EBADMSG;
		if (f->shnum > size / shdr_size[f->is64] || !in_bounds(size, f->shoff, f->shnum * shdr_size[f->is64]))
			return -EBADMSG;
		if (f->shstrndx >= f->shnum)
			return -EBADMSG;
	}

	if (f->phnum > 0) {
		if (phentsize != phdr_size[f->is64])
			return -EBADMSG;
		if (f->phnum > size / phdr_size[f->is64] || !in_bounds(size, f->phoff, f->phnum * phdr_size[f->is64]))
			return -EBADMSG;
	}
	return 0;
}

int elf_inspect(const void *data, size_t size, struct elf_info *ret)
{
	_cleanup_(elf_info_release) struct elf_info info = {};
	const struct elf_phdr *dynamic = NULL;
	struct elf_phdr dyn_ph, data_ph = {};
	struct elf_file f;
	uint64_t buildinfo_off = 0, buildinfo_size = 0, strtab_off = 0, strtab_size = 0;
	bool have_data_segment = false, have_buildinfo_section = false, have_symtab = false;
	int r;

	if (!ret || (!data && size > 0))
		return -EINVAL;
	info.go = (struct go_buildinfo){ .cgo_enabled = -1, .vcs_modified = -1 };

	r = parse_header(data, size, &f, &info);
	if (r < 0)
		return r;

	for (uint64_t i = 0; i < f.phnum; i++) {
		struct elf_phdr ph;

		read_phdr(&f, i, &ph);
		switch (ph.type) {
		case ELF_PT_LOAD:
			if (!in_bounds(size, ph.offset, ph.filesz))
				return -EBADMSG; /* truncated */
			if (!have_data_segment && (ph.flags & (ELF_PF_X | ELF_PF_W)) == ELF_PF_W) {
				data_ph = ph;
				have_data_segment = true;
			}
			break;

		case ELF_PT_INTERP: {
			const char *s, *nul;

			/* bounds first: even forming a pointer past the buffer is undefined */
			if (info.interpreter || !in_bounds(size, ph.offset, ph.filesz))
				return -EBADMSG;
			s = (const char *)f.data + ph.offset;
			nul = memchr(s, 0, ph.filesz < INTERP_MAX ? (size_t)ph.filesz : INTERP_MAX);
			if (!nul || nul == s)
				return -EBADMSG;
			info.interpreter = strndup(s, (size_t)(nul - s));
			if (!info.interpreter)
				return -ENOMEM;
			break;
		}

		case ELF_PT_DYNAMIC:
			if (dynamic || !in_bounds(size, ph.offset, ph.filesz))
				return -EBADMSG;
			dyn_ph = ph;
			dynamic = &dyn_ph;
			break;
		}
	}

	/* Sections: every file-backed one must be inside the buffer, and names must be in the table. */
	if (f.shnum > 0 && f.shstrndx != ELF_SHN_UNDEF) {
		struct elf_shdr sh;

		read_shdr(&f, f.shstrndx, &sh);
		if (sh.type == ELF_SHT_NOBITS || !in_bounds(size, sh.offset, sh.size))
			return -EBADMSG;
		strtab_off = sh.offset;
		strtab_size = sh.size;
	}
	for (uint64_t i = 0; i < f.shnum; i++) {
		struct elf_shdr sh;
		const char *name;

		read_shdr(&f, i, &sh);
		if (sh.type != ELF_SHT_NOBITS && !in_bounds(size, sh.offset, sh.size))
			return -EBADMSG;
		if (sh.type == ELF_SHT_SYMTAB)
			have_symtab = true;

		if (f.shstrndx == ELF_SHN_UNDEF)
			continue;
		if (sh.name >= strtab_size)
			return -EBADMSG;
		name = (const char *)f.data + strtab_off + sh.name;
		if (!memchr(name, 0, (size_t)(strtab_size - sh.name)))
			return -EBADMSG;
		if (!have_buildinfo_section && streq(name, ".go.buildinfo")) {
			if (sh.type == ELF_SHT_NOBITS)
				return -EBADMSG;
			have_buildinfo_section = true;
			buildinfo_off = sh.offset;
			buildinfo_size = sh.size;
		}
	}
	info.stripped = !have_symtab;
	info.pie = info.type == ELF_ET_DYN && (info.interpreter || (dynamic && dynamic_has_pie_flag(&f, dynamic)));

	r = 0;
	if (have_buildinfo_section) {
		r = find_buildinfo(&f, buildinfo_off, buildinfo_size, &info.go);
		if (r == 0)
			return -EBADMSG; /* a .go.buildinfo section without the blob */
	} else if (have_data_segment) {
		r = find_buildinfo(&f, data_ph.offset, data_ph.filesz, &info.go);
	}
	if (r < 0)
		return r;
	info.is_go = r > 0;
	if (!info.is_go)
		go_buildinfo_release(&info.go);

	*ret = info;
	info = (struct elf_info){};
	return 0;
}

int elf_inspect_file(const char *path, struct elf_info *ret)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	void *p;
	int r;

	if (!path || !ret)
		return -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size == 0)
		return -EBADMSG;
	if ((uint64_t)st.st_size > SIZE_MAX)
		return -EFBIG;

	/* Note: a file truncated by someone else while mapped would raise SIGBUS; berth only
	 * inspects binaries it has just copied into its own store. */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return negative_errno();
	r = elf_inspect(p, (size_t)st.st_size, ret);
	(void)munmap(p, (size_t)st.st_size);
	return r;
}
