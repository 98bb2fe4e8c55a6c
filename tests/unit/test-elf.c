/* test-elf.c - the ELF and Go build info reader: real Go binaries, hand-built ELF images, hostile input
 *
 * $HELLO_AMD64 and $HELLO_ARM64 name the Go fixture binaries (tests/fixtures/hello), $GOHOME_STATIC
 * and $GOHOME_CGO those of tests/fixtures/gohome, that `make check` builds first; the tests fail,
 * not skip, without them.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "goruntime.h"
#include "macro.h"

/* src/elf.h shadows the system <elf.h>: the constants the tests need. */
enum {
	T_ET_REL = 1,
	T_ET_EXEC = 2,
	T_ET_DYN = 3,
	T_EM_386 = 3,
	T_EM_MIPS = 8,
	T_EM_PPC64 = 21,
	T_EM_S390 = 22,
	T_EM_ARM = 40,
	T_EM_X86_64 = 62,
	T_EM_AARCH64 = 183,
	T_EM_RISCV = 243,
	T_PT_LOAD = 1,
	T_PT_DYNAMIC = 2,
	T_PT_INTERP = 3,
	T_PF_X = 1,
	T_PF_W = 2,
	T_PF_R = 4,
	T_SHT_PROGBITS = 1,
	T_SHT_SYMTAB = 2,
	T_SHT_STRTAB = 3,
	T_SHT_NOBITS = 8,
	T_DT_FLAGS_1 = 0x6ffffffb,
	T_DF_1_PIE = 0x08000000,
};

/* cmd/go/internal/modload: the sentinels framing the module info string. */
static const char info_start[] = "0w\xaf\x0c\x92t\b\x02" "A\xe1\xc1\a\xe6\xd6\x18\xe6";
static const char info_end[] = "\xf9" "2C1\x86\x18 r\x00\x82" "B\x10" "A\x16\xd8\xf2";

/* ---- helpers ---------------------------------------------------------------------------- */

static const char *fixture(const char *var)
{
	const char *p = getenv(var);

	if (isempty(p)) {
		fail_msg("$%s is not set: it must name the Go fixture binary that `make check` builds "
			 "(tests/fixtures/hello); run the unit tests through `make check`", var);
		return NULL;
	}
	if (access(p, R_OK) < 0) {
		fail_msg("$%s=%s: %s (the Go fixture is built by `make check`, which needs golang-go)", var, p,
			 strerror(errno));
		return NULL;
	}
	return p;
}

/* Reads a whole file into a buffer of exactly its size, so that ASan and valgrind see any overread. */
static uint8_t *read_all(const char *path, size_t *ret_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t done = 0;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size > 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		assert_true(n > 0);
		done += (size_t)n;
	}
	*ret_size = done;
	return buf;
}

static char *write_temp(const void *data, size_t size)
{
	char *path = strdup("/tmp/test-elf-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	if (size > 0)
		assert_int_equal(write(fd, data, size), (ssize_t)size);
	assert_int_equal(close(fd), 0);
	return path;
}

/* elf_inspect() on a private copy of exactly size bytes. */
static int inspect_copy(const uint8_t *data, size_t size, struct elf_info *ret)
{
	_cleanup_free_ uint8_t *copy = malloc(size > 0 ? size : 1);

	assert_non_null(copy);
	if (size > 0)
		memcpy(copy, data, size);
	return elf_inspect(size > 0 ? copy : NULL, size, ret);
}

/* What every successful result must satisfy, however hostile the input was. */
static void check_consistent(const struct elf_info *e)
{
	assert_true(e->elf_class == 32 || e->elf_class == 64);
	assert_true(e->type == T_ET_EXEC || e->type == T_ET_DYN);
	if (e->interpreter)
		assert_true(strlen(e->interpreter) > 0 && strlen(e->interpreter) < 4096);
	if (e->is_go) {
		assert_non_null(e->go.go_version);
		assert_true(strlen(e->go.go_version) > 0 && strlen(e->go.go_version) <= 256);
		assert_true(e->go.cgo_enabled >= -1 && e->go.cgo_enabled <= 1);
		assert_true(e->go.vcs_modified >= -1 && e->go.vcs_modified <= 1);
	} else {
		assert_null(e->go.go_version);
		assert_null(e->go.path);
		assert_null(e->go.main_module);
	}
}

/* Small deterministic PRNG (xorshift64*), so that failures reproduce everywhere. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* ---- hand-built ELF images ---------------------------------------------------------------- */

struct image {
	uint8_t *buf;
	size_t size;
	bool is64;
	bool le;
};

static void put(struct image *im, size_t off, uint64_t v, size_t width)
{
	assert_true(off + width <= im->size);
	for (size_t i = 0; i < width; i++) {
		size_t shift = 8 * (im->le ? i : width - 1 - i);

		im->buf[off + i] = (uint8_t)(v >> shift);
	}
}

static void put16(struct image *im, size_t off, uint64_t v)
{
	put(im, off, v, 2);
}

static void put32(struct image *im, size_t off, uint64_t v)
{
	put(im, off, v, 4);
}

static void putword(struct image *im, size_t off, uint64_t v)
{
	put(im, off, v, im->is64 ? 8 : 4);
}

static void put_bytes(struct image *im, size_t off, const void *p, size_t n)
{
	assert_true(off + n <= im->size);
	memcpy(im->buf + off, p, n);
}

static void image_init(struct image *im, size_t size, bool is64, bool le, uint16_t machine, uint16_t type)
{
	*im = (struct image){ .buf = calloc(1, size), .size = size, .is64 = is64, .le = le };
	assert_non_null(im->buf);
	put_bytes(im, 0, "\x7f" "ELF", 4);
	im->buf[4] = is64 ? 2 : 1;
	im->buf[5] = le ? 1 : 2;
	im->buf[6] = 1;
	put16(im, 16, type);
	put16(im, 18, machine);
	put32(im, 20, 1);
	if (is64) {
		put16(im, 52, 64);
		put16(im, 54, 56);
		put16(im, 58, 64);
	} else {
		put16(im, 40, 52);
		put16(im, 42, 32);
		put16(im, 46, 40);
	}
}

static void image_free(struct image *im)
{
	free(im->buf);
	*im = (struct image){};
}

static size_t ehdr_size(const struct image *im)
{
	return im->is64 ? 64 : 52;
}

static void image_phdrs(struct image *im, size_t off, size_t n)
{
	if (im->is64) {
		put(im, 32, off, 8);
		put16(im, 56, n);
	} else {
		put32(im, 28, off);
		put16(im, 44, n);
	}
}

static void image_phdr(struct image *im, size_t i, uint32_t type, uint32_t flags, uint64_t offset, uint64_t vaddr,
		       uint64_t filesz)
{
	size_t phoff = ehdr_size(im); /* program headers always follow the ELF header here */
	if (im->is64) {
		size_t p = phoff + i * 56;

		put32(im, p, type);
		put32(im, p + 4, flags);
		put(im, p + 8, offset, 8);
		put(im, p + 16, vaddr, 8);
		put(im, p + 24, vaddr, 8);
		put(im, p + 32, filesz, 8);
		put(im, p + 40, filesz, 8);
		put(im, p + 48, 0x1000, 8);
	} else {
		size_t p = phoff + i * 32;

		put32(im, p, type);
		put32(im, p + 4, offset);
		put32(im, p + 8, vaddr);
		put32(im, p + 12, vaddr);
		put32(im, p + 16, filesz);
		put32(im, p + 20, filesz);
		put32(im, p + 24, flags);
		put32(im, p + 28, 0x1000);
	}
}

static void image_shdrs(struct image *im, size_t off, size_t n, size_t shstrndx)
{
	if (im->is64) {
		put(im, 40, off, 8);
		put16(im, 60, n);
		put16(im, 62, shstrndx);
	} else {
		put32(im, 32, off);
		put16(im, 48, n);
		put16(im, 50, shstrndx);
	}
}

static void image_shdr(struct image *im, size_t shoff, size_t i, uint32_t name, uint32_t type, uint64_t offset,
		       uint64_t size)
{
	if (im->is64) {
		size_t p = shoff + i * 64;

		put32(im, p, name);
		put32(im, p + 4, type);
		put(im, p + 24, offset, 8);
		put(im, p + 32, size, 8);
	} else {
		size_t p = shoff + i * 40;

		put32(im, p, name);
		put32(im, p + 4, type);
		put32(im, p + 16, offset);
		put32(im, p + 20, size);
	}
}

static size_t put_uvarint(struct image *im, size_t off, uint64_t v)
{
	size_t n = 0;

	do {
		uint8_t b = (uint8_t)(v & 0x7f);

		v >>= 7;
		put_bytes(im, off + n++, &(uint8_t){ b | (v ? 0x80 : 0) }, 1);
	} while (v);
	return n;
}

/* The module info string as the go command embeds it: text framed by the two sentinels. */
static size_t frame_modinfo(char *buf, size_t bufsize, const char *text)
{
	size_t n = strlen(text);

	assert_true(n + 32 <= bufsize);
	memcpy(buf, info_start, 16);
	memcpy(buf + 16, text, n);
	memcpy(buf + 16 + n, info_end, 16);
	return n + 32;
}

/* Writes a Go >= 1.18 blob at off; version_claim/mod_claim are the lengths the varints state.
 * Returns the blob's size. */
static size_t put_new_blob(struct image *im, size_t off, const char *version, uint64_t version_claim,
			   const char *mod, size_t mod_len, uint64_t mod_claim)
{
	size_t p = off;

	put_bytes(im, p, "\xff Go buildinf:", 14);
	im->buf[p + 14] = im->is64 ? 8 : 4;
	im->buf[p + 15] = 2 | (im->le ? 0 : 1);
	p += 32;
	p += put_uvarint(im, p, version_claim);
	put_bytes(im, p, version, strlen(version));
	p += strlen(version);
	p += put_uvarint(im, p, mod_claim);
	put_bytes(im, p, mod, mod_len);
	p += mod_len;
	return p - off;
}

static const char synth_modinfo[] =
	"path\texample.com/synth/cmd/synth\n"
	"mod\texample.com/synth\tv1.2.3\th1:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG=\n"
	"dep\tgolang.org/x/sys\tv0.1.0\th1:xyz=\n"
	"=>\t../sys\t(devel)\t\n"
	"build\t-compiler=gc\n"
	"build\t-ldflags=\"-s -w -X main.v=\\\"1\\\"\"\n"
	"build\t\"odd key\"=`raw value`\n"
	"build\tCGO_ENABLED=1\n"
	"build\tGOARCH=riscv64\n"
	"build\tGOOS=\"li\\x6eu\\u0078\"\n"
	"build\tvcs=git\n"
	"build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\n"
	"build\tvcs.time=2024-01-02T03:04:05Z\n"
	"build\tvcs.modified=false\n"
	"build\t-trimpath=true\n"
	"build\tDefaultGODEBUG=containermaxprocs=0,updatemaxprocs=0\n";

/* A RISC-V (or any) ELF64 image with section headers and a .go.buildinfo section at 0x1000:
 *   phdrs: LOAD R+X [0, 0x1000) at 0x10000; LOAD RW [0x1000, 0x1800) at 0x11000
 *   0x1000 .go.buildinfo, 0x1800 .shstrtab, 0x1900 .symtab, 0x1a00 section headers */
enum { SEC_SHOFF = 0x1a00, SEC_SIZE = 0x1a00 + 5 * 64 };

static void build_section_image(struct image *im, bool with_symtab, const char *version, uint64_t version_claim,
				const char *modtext, int64_t mod_claim_delta)
{
	static const char shstrtab[] = "\0.shstrtab\0.go.buildinfo\0.symtab\0.bss";
	char mod[4096];
	size_t mod_len = modtext ? frame_modinfo(mod, sizeof(mod), modtext) : 0, blob;

	image_init(im, SEC_SIZE, true, true, T_EM_RISCV, T_ET_EXEC);
	image_phdrs(im, 64, 2);
	image_phdr(im, 0, T_PT_LOAD, T_PF_R | T_PF_X, 0, 0x10000, 0x1000);
	image_phdr(im, 1, T_PT_LOAD, T_PF_R | T_PF_W, 0x1000, 0x11000, 0x800);
	blob = put_new_blob(im, 0x1000, version, version_claim, mod, mod_len, (uint64_t)((int64_t)mod_len + mod_claim_delta));
	assert_true(blob <= 0x800);
	put_bytes(im, 0x1800, shstrtab, sizeof(shstrtab));

	image_shdrs(im, SEC_SHOFF, 5, 1);
	image_shdr(im, SEC_SHOFF, 1, 1, T_SHT_STRTAB, 0x1800, sizeof(shstrtab));
	image_shdr(im, SEC_SHOFF, 2, 11, T_SHT_PROGBITS, 0x1000, blob);
	image_shdr(im, SEC_SHOFF, 3, 25, with_symtab ? T_SHT_SYMTAB : T_SHT_PROGBITS, 0x1900, 0x18);
	image_shdr(im, SEC_SHOFF, 4, 33, T_SHT_NOBITS, 0x7fffffff, 0x100000); /* no file bytes: never checked */
}

/* Go < 1.18 layout, no section headers: the blob holds pointers to Go string headers.
 *   ELF64 LE: LOAD R+X [0,0x1000) at 0x400000, LOAD RW [0x1000,0x2000) at 0x500000
 *   0x1004 a misaligned decoy, 0x1030 blob, 0x1100 version header {ptr,len},
 *   0x1120 modinfo header, 0x1200 version, 0x1300 modinfo
 * ELF32 BE (MIPS) when !is64: same offsets, 4-byte pointers. */
enum { OLD_BLOB = 0x1030 };

static void build_old_image(struct image *im, bool is64, const char *version, const char *modtext)
{
	char mod[2048];
	size_t mod_len = modtext ? frame_modinfo(mod, sizeof(mod), modtext) : 0;
	size_t ptr = is64 ? 8 : 4;

	image_init(im, 0x2000, is64, is64, is64 ? T_EM_X86_64 : T_EM_MIPS, T_ET_EXEC);
	image_phdrs(im, ehdr_size(im), 2);
	image_phdr(im, 0, T_PT_LOAD, T_PF_R | T_PF_X, 0, 0x400000, 0x1000);
	image_phdr(im, 1, T_PT_LOAD, T_PF_R | T_PF_W, 0x1000, 0x500000, 0x1000);

	/* Something that looks like the magic but is misaligned must be skipped. */
	put_bytes(im, 0x1004, "\xff Go buildinf:\x10\x10", 16);
	put_bytes(im, OLD_BLOB, "\xff Go buildinf:", 14);
	im->buf[OLD_BLOB + 14] = (uint8_t)ptr;
	im->buf[OLD_BLOB + 15] = is64 ? 0 : 1; /* the blob's own byte order flag */
	putword(im, OLD_BLOB + 16, 0x500100);
	putword(im, OLD_BLOB + 16 + ptr, 0x500120);

	putword(im, 0x1100, 0x500200);
	putword(im, 0x1100 + ptr, strlen(version));
	putword(im, 0x1120, 0x500300);
	putword(im, 0x1120 + ptr, mod_len);
	put_bytes(im, 0x1200, version, strlen(version));
	put_bytes(im, 0x1300, mod, mod_len);
}

/* ---- the Go fixture binaries ---------------------------------------------------------------- */

/* Whether go->main_version is what the toolchain that built the binary stamps for a module
 * built from its own directory: "(devel)" before Go 1.24, and from 1.24 when there is no VCS
 * information; from Go 1.24 with it, a version from the VCS: the tag of the commit ("v1.2.3") or
 * a pseudo-version ending in the commit's time and revision ("v0.0.0-20260102030405-0123456789ab"),
 * with "+dirty" exactly when the tree had changes (vcs.modified). */
static bool main_version_is_right(const struct go_buildinfo *go)
{
	const char *v = go->main_version;
	char stamp[32] = "", dirty_cut[256];
	size_t n;

	if (!v)
		return false;
	if (!go->vcs || !go_version_at_least(go->go_version, 1, 24))
		return streq(v, "(devel)");
	if (v[0] != 'v' || !go->vcs_revision || strlen(go->vcs_revision) < 12 || !go->vcs_time ||
	    go->vcs_modified < 0)
		return false;
	n = strlen(v);
	if (go->vcs_modified) {
		if (n < 6 || !streq(v + n - 6, "+dirty"))
			return false;
		n -= 6;
	} else if (strchr(v, '+'))
		return false;
	if (n >= sizeof(dirty_cut))
		return false;
	memcpy(dirty_cut, v, n);
	dirty_cut[n] = '\0';
	/* "2026-01-02T03:04:05Z" → "20260102030405-" + the first 12 hex digits of the revision, after
	 * "-" (v0.0.0-TIME-REV) or "." (v1.4.3-0.TIME-REV, v1.5.0-rc.1.0.TIME-REV) */
	for (const char *t = go->vcs_time; *t && strlen(stamp) < 14; t++)
		if (*t >= '0' && *t <= '9')
			strncat(stamp, t, 1);
	strcat(stamp, "-");
	strncat(stamp, go->vcs_revision, 12);
	if (strlen(stamp) != 27)
		return false;
	if (n > strlen(stamp) + 1 && streq(dirty_cut + n - strlen(stamp), stamp) &&
	    strchr("-.", dirty_cut[n - strlen(stamp) - 1]))
		return true;
	/* a tagged commit: vMAJOR.MINOR.PATCH */
	return strspn(dirty_cut + 1, "0123456789.") == n - 1 && n >= 6;
}

static void test_main_version_rules(void **state)
{
	static const struct {
		const char *go_version, *main_version, *vcs;
		int modified;
		bool right;
	} cases[] = {
		{ "go1.19.8", "(devel)", NULL, -1, true },
		{ "go1.19.8", "(devel)", "git", 1, true }, /* before 1.24: never from the VCS */
		{ "go1.24.4", "(devel)", NULL, -1, true },
		{ "go1.24.4", "v0.0.0-20261202044253-8115452efd00", "git", 0, true },
		{ "go1.24.4", "v0.0.0-20261202044253-8115452efd00+dirty", "git", 1, true },
		{ "go1.25.0", "v1.4.3-0.20261202044253-8115452efd00", "git", 0, true },
		{ "go1.24.4", "v1.2.3", "git", 0, true },
		{ "go1.24.4", "v1.2.3+dirty", "git", 1, true },
		{ "go1.24.4", "(devel)", "git", 0, false },
		{ "go1.24.4", "v0.0.0-20261202044253-8115452efd00", "git", 1, false },
		{ "go1.24.4", "v0.0.0-20261202044253-8115452efd00+dirty", "git", 0, false },
		{ "go1.24.4", "v0.0.0-20261202044254-8115452efd00", "git", 0, false },
		{ "go1.24.4", "v0.0.0-20261202044253-8115452efd01", "git", 0, false },
		{ "go1.19.8", "v0.0.0-20261202044253-8115452efd00", "git", 0, false },
		{ "go1.24.4", "v1.2.3-pre", "git", 0, false },
		{ "go1.24.4", "v0.0.0x20261202044253-8115452efd00", "git", 0, false },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct go_buildinfo go = {
			.go_version = (char *)cases[i].go_version,
			.main_version = (char *)cases[i].main_version,
			.vcs = (char *)cases[i].vcs,
			.vcs_revision = (char *)"8115452efd0059be61a0f6be2dde6fc31b25633f",
			.vcs_time = (char *)"2026-12-02T04:42:53Z",
			.vcs_modified = cases[i].modified,
		};
		if (main_version_is_right(&go) != cases[i].right)
			fail_msg("%s built %s (vcs %s, modified %d): should be %s", cases[i].go_version,
				 cases[i].main_version, strempty(cases[i].vcs), cases[i].modified,
				 cases[i].right ? "right" : "wrong");
	}
}

static void test_go_amd64(void **state)
{
	const char *path = fixture("HELLO_AMD64");
	_cleanup_(elf_info_release) struct elf_info e = {};

	assert_non_null(path);
	assert_int_equal(elf_inspect_file(path, &e), 0);
	assert_int_equal(e.elf_class, 64);
	assert_true(e.little_endian);
	assert_int_equal(e.machine, T_EM_X86_64);
	assert_string_equal(e.arch, "amd64");
	assert_int_equal(e.type, T_ET_EXEC);
	assert_false(e.pie);
	assert_null(e.interpreter); /* CGO_ENABLED=0: static */
	assert_false(e.stripped);
	assert_true(e.is_go);
	assert_non_null(e.go.go_version);
	assert_non_null(startswith(e.go.go_version, "go1."));
	assert_string_equal(e.go.path, "example.com/hello");
	assert_string_equal(e.go.main_module, "example.com/hello");
	/* "(devel)", or from Go 1.24 a version from git when the tree is a checkout git can read */
	if (!main_version_is_right(&e.go))
		fail_msg("%s stamped main version \"%s\" (vcs %s, revision %s, time %s, modified %d)",
			 e.go.go_version, e.go.main_version, strempty(e.go.vcs), strempty(e.go.vcs_revision),
			 strempty(e.go.vcs_time), e.go.vcs_modified);
	assert_string_equal(e.go.goos, "linux");
	assert_string_equal(e.go.goarch, "amd64");
	assert_int_equal(e.go.cgo_enabled, 0);
	assert_true(e.go.trimpath);
	/* vcs stamping depends on whether the source tree is a git checkout */
	if (e.go.vcs)
		assert_string_equal(e.go.vcs, "git");
	check_consistent(&e);
}

static void test_go_arm64(void **state)
{
	const char *path = fixture("HELLO_ARM64");
	_cleanup_(elf_info_release) struct elf_info e = {};

	assert_non_null(path);
	assert_int_equal(elf_inspect_file(path, &e), 0);
	assert_int_equal(e.elf_class, 64);
	assert_true(e.little_endian);
	assert_int_equal(e.machine, T_EM_AARCH64);
	assert_string_equal(e.arch, "arm64");
	assert_string_equal(elf_machine_name(e.machine), "AArch64");
	assert_null(e.interpreter);
	assert_true(e.is_go);
	assert_non_null(startswith(e.go.go_version, "go1."));
	assert_string_equal(e.go.main_module, "example.com/hello");
	assert_string_equal(e.go.goos, "linux");
	assert_string_equal(e.go.goarch, "arm64");
	assert_int_equal(e.go.cgo_enabled, 0);
	assert_false(e.go.trimpath);
	check_consistent(&e);
}

/* The same program built by Debian's toolchain static and linked against libc (cgo): berth must
 * see which is which (check, deploy's interpreter check). */
static void test_go_static_and_cgo(void **state)
{
	_cleanup_(elf_info_release) struct elf_info st = {}, dyn = {};
	const char *static_path = fixture("GOHOME_STATIC"), *cgo_path = fixture("GOHOME_CGO");

	assert_int_equal(elf_inspect_file(static_path, &st), 0);
	assert_true(st.is_go);
	assert_null(st.interpreter);
	assert_int_equal(st.go.cgo_enabled, 0);
	assert_string_equal(st.go.main_module, "example.com/gohome");
	assert_true(main_version_is_right(&st.go));
	check_consistent(&st);

	assert_int_equal(elf_inspect_file(cgo_path, &dyn), 0);
	assert_true(dyn.is_go);
	assert_non_null(dyn.interpreter);
	assert_non_null(strstr(dyn.interpreter, "ld-linux"));
	assert_int_equal(dyn.go.cgo_enabled, 1);
	assert_string_equal(dyn.arch, elf_host_arch());
	assert_string_equal(dyn.go.main_module, "example.com/gohome");
	assert_string_equal(dyn.go.go_version, st.go.go_version);
	check_consistent(&dyn);
}

static void check_dynamic(const char *path)
{
	_cleanup_(elf_info_release) struct elf_info e = {};

	assert_int_equal(elf_inspect_file(path, &e), 0);
	assert_false(e.is_go);
	assert_non_null(e.interpreter);
	assert_int_equal(access(e.interpreter, F_OK), 0);
	assert_string_equal(e.arch, elf_host_arch());
#if defined(__x86_64__)
	assert_string_equal(e.interpreter, "/lib64/ld-linux-x86-64.so.2");
	assert_int_equal(e.machine, T_EM_X86_64);
#endif
	if (e.type == T_ET_DYN)
		assert_true(e.pie);
	check_consistent(&e);
}

static void test_dynamic(void **state)
{
	check_dynamic("/proc/self/exe");
	check_dynamic("/bin/sh");
}

static void test_file_errors(void **state)
{
	static const char script[] = "#!/bin/sh\necho not an ELF\n";
	struct elf_info e = {}, untouched;
	_cleanup_free_ char *text = NULL, *empty = NULL, *trunc = NULL;

	memset(&e, 0x5a, sizeof(e));
	untouched = e;

	text = write_temp(script, sizeof(script) - 1);
	assert_int_equal(elf_inspect_file(text, &e), -ENOEXEC);
	empty = write_temp(NULL, 0);
	assert_int_equal(elf_inspect_file(empty, &e), -EBADMSG);
	trunc = write_temp("\x7f" "ELF\x02\x01\x01", 7);
	assert_int_equal(elf_inspect_file(trunc, &e), -EBADMSG);
	assert_int_equal(elf_inspect_file("/nonexistent/berth-test-elf", &e), -ENOENT);
	assert_int_equal(elf_inspect_file("/tmp", &e), -EINVAL);
	assert_int_equal(elf_inspect_file("/dev/null", &e), -EINVAL);
	assert_int_equal(elf_inspect_file(NULL, &e), -EINVAL);
	/* ret_ is left alone on failure */
	assert_memory_equal(&e, &untouched, sizeof(e));

	assert_int_equal(elf_inspect(script, sizeof(script) - 1, &e), -ENOEXEC);
	assert_int_equal(elf_inspect("MZ", 2, &e), -ENOEXEC);
	assert_int_equal(elf_inspect("\x7f" "E", 2, &e), -EBADMSG);
	assert_int_equal(elf_inspect(NULL, 0, &e), -EBADMSG);
	assert_int_equal(elf_inspect(NULL, 10, &e), -EINVAL);
	assert_memory_equal(&e, &untouched, sizeof(e));

	(void)unlink(text);
	(void)unlink(empty);
	(void)unlink(trunc);
}

/* ---- truncation and corruption of the real binary ---------------------------------------- */

static uint64_t rd_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static void test_truncated(void **state)
{
	const char *path = fixture("HELLO_AMD64");
	_cleanup_free_ uint8_t *buf = NULL;
	size_t size, phend, shoff;

	assert_non_null(path);
	buf = read_all(path, &size);
	phend = rd_le(buf + 32, 8) + rd_le(buf + 56, 2) * 56;
	shoff = rd_le(buf + 40, 8);
	assert_true(phend < size && shoff < size);

	const size_t lengths[] = {
		0, 1, 2, 3, 4, 5, 15, 16, 17, 51, 52, 63, 64, 65, 100, 119, 120, 121,
		phend - 1, phend, phend + 1, 4095, 4096, 65536, size / 3, size / 2,
		shoff - 1, shoff, shoff + 1, shoff + 64, size - 64, size - 1,
	};
	for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
		_cleanup_(elf_info_release) struct elf_info e = {};
		int r = inspect_copy(buf, lengths[i], &e);

		/* A Go binary ends with its section headers and PT_LOAD covers the rest, so
		 * every cut is detected. */
		if (r == 0) {
			check_consistent(&e);
			fail_msg("truncation to %zu bytes was not detected", lengths[i]);
		}
		assert_int_equal(r, -EBADMSG);
	}

	/* And the full copy works. */
	_cleanup_(elf_info_release) struct elf_info e = {};
	assert_int_equal(elf_inspect(buf, size, &e), 0);
	assert_true(e.is_go);
}

static size_t find_blob(const uint8_t *buf, size_t size)
{
	for (size_t off = 0; off + 32 <= size; off += 16)
		if (memcmp(buf + off, "\xff Go buildinf:", 14) == 0)
			return off;
	fail_msg("no build info blob in the Go fixture");
	return 0;
}

/* Flips 1-4 bytes chosen from the regions that matter, inspects, then restores the buffer. */
static void fuzz_buffer(uint8_t *buf, size_t size, const size_t regions[][2], size_t n_regions, unsigned iterations,
			unsigned *ret_ok, unsigned *ret_err)
{
	unsigned ok = 0, err = 0;

	for (unsigned it = 0; it < iterations; it++) {
		_cleanup_(elf_info_release) struct elf_info e = {};
		size_t pos[4];
		uint8_t old[4];
		unsigned flips = 1 + (unsigned)(rng() % 4);
		int r;

		for (unsigned k = 0; k < flips; k++) {
			const size_t *reg = regions[rng() % n_regions];
			size_t len = reg[1] > reg[0] ? reg[1] - reg[0] : 1;

			pos[k] = reg[0] + (size_t)(rng() % len);
			assert_true(pos[k] < size);
			old[k] = buf[pos[k]];
			switch (rng() % 4) {
			case 0:
				buf[pos[k]] ^= (uint8_t)(1u << (rng() % 8));
				break;
			case 1:
				buf[pos[k]] = 0xff;
				break;
			case 2:
				buf[pos[k]] = 0;
				break;
			default:
				buf[pos[k]] = (uint8_t)rng();
			}
		}

		r = elf_inspect(buf, size, &e);
		if (r == 0) {
			check_consistent(&e);
			ok++;
		} else {
			assert_true(r == -EBADMSG || r == -ENOEXEC);
			err++;
		}

		for (unsigned k = flips; k > 0; k--)
			buf[pos[k - 1]] = old[k - 1];
	}
	*ret_ok = ok;
	*ret_err = err;
}

static void test_corrupted_go_binary(void **state)
{
	const char *path = fixture("HELLO_AMD64");
	_cleanup_free_ uint8_t *buf = NULL;
	size_t size, phoff, shoff, shnum, shstr_off, shstr_size, blob;
	unsigned ok, err;

	assert_non_null(path);
	buf = read_all(path, &size);
	phoff = rd_le(buf + 32, 8);
	shoff = rd_le(buf + 40, 8);
	shnum = rd_le(buf + 60, 2);
	shstr_off = rd_le(buf + shoff + 64 * rd_le(buf + 62, 2) + 24, 8);
	shstr_size = rd_le(buf + shoff + 64 * rd_le(buf + 62, 2) + 32, 8);
	blob = find_blob(buf, size);

	const size_t regions[][2] = {
		{ 0, 64 },                                    /* ELF header */
		{ phoff, phoff + rd_le(buf + 56, 2) * 56 },   /* program headers */
		{ shoff, shoff + shnum * 64 },                /* section headers */
		{ shstr_off, shstr_off + shstr_size },        /* section names */
		{ blob, blob + 32 },                          /* build info header */
		{ blob + 32, blob + 0x180 },                  /* build info strings */
		{ blob + 32, blob + 48 },                     /* the varints and the version */
	};

	rng_state = 0x6265727468ULL; /* "berth" */
	fuzz_buffer(buf, size, regions, ELEMENTSOF(regions), 600, &ok, &err);
	print_message("# corrupted Go binary: %u inspected fine, %u rejected\n", ok, err);
	assert_true(ok > 0 && err > 0);

	/* The buffer was restored. */
	_cleanup_(elf_info_release) struct elf_info e = {};
	assert_int_equal(elf_inspect(buf, size, &e), 0);
	assert_string_equal(e.go.main_module, "example.com/hello");
}

static void test_corrupted_synthetic(void **state)
{
	struct image im;
	const size_t regions[][2] = { { 0, 64 + 2 * 56 }, { 0x1000, 0x1200 }, { 0x1800, 0x1830 }, { SEC_SHOFF, SEC_SIZE } };
	const size_t old_regions[][2] = {
		{ 0, 64 + 2 * 56 }, { OLD_BLOB, OLD_BLOB + 32 }, { 0x1100, 0x1130 }, { 0x1300, 0x1320 },
	};
	unsigned ok, err;

	rng_state = 0x5eed;
	build_section_image(&im, true, "go1.21.5", 8, synth_modinfo, 0);
	fuzz_buffer(im.buf, im.size, regions, ELEMENTSOF(regions), 800, &ok, &err);
	assert_true(ok > 0 && err > 0);
	image_free(&im);

	build_old_image(&im, true, "go1.16.15", "path\tx\nmod\tx\t(devel)\t\n");
	fuzz_buffer(im.buf, im.size, old_regions, ELEMENTSOF(old_regions), 400, &ok, &err);
	assert_true(ok > 0 && err > 0);
	image_free(&im);

	build_old_image(&im, false, "go1.16.15", "path\tx\nmod\tx\t(devel)\t\n");
	fuzz_buffer(im.buf, im.size, old_regions, ELEMENTSOF(old_regions), 400, &ok, &err);
	assert_true(ok > 0 && err > 0);
	image_free(&im);
}

/* ---- hand-built headers ----------------------------------------------------------------- */

static void test_s390x_big_endian(void **state)
{
	static const char interp[] = "/lib/ld64.so.1";
	_cleanup_(elf_info_release) struct elf_info e = {};
	struct image im;

	image_init(&im, 0x200, true, false, T_EM_S390, T_ET_EXEC);
	image_phdrs(&im, 64, 2);
	image_phdr(&im, 0, T_PT_INTERP, T_PF_R, 0x100, 0x1000100, sizeof(interp));
	image_phdr(&im, 1, T_PT_LOAD, T_PF_R | T_PF_X, 0, 0x1000000, 0x200);
	put_bytes(&im, 0x100, interp, sizeof(interp));

	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_int_equal(e.elf_class, 64);
	assert_false(e.little_endian);
	assert_int_equal(e.machine, T_EM_S390);
	assert_string_equal(e.arch, "s390x");
	assert_string_equal(elf_machine_name(e.machine), "IBM S/390");
	assert_int_equal(e.type, T_ET_EXEC);
	assert_string_equal(e.interpreter, interp);
	assert_false(e.pie);
	assert_true(e.stripped); /* no section headers at all */
	assert_false(e.is_go);
	check_consistent(&e);
	elf_info_release(&e);

	/* The bare 64-byte header, no program headers: still a (useless) valid ELF. */
	assert_int_equal(inspect_copy(im.buf, 64, &e), -EBADMSG); /* phdrs cut off */
	put16(&im, 56, 0);
	assert_int_equal(inspect_copy(im.buf, 64, &e), 0);
	assert_string_equal(e.arch, "s390x");
	assert_null(e.interpreter);
	elf_info_release(&e);
	image_free(&im);
}

static void test_i386_elf32(void **state)
{
	static const char interp[] = "/lib/ld-linux.so.2";
	_cleanup_(elf_info_release) struct elf_info e = {};
	struct image im;

	/* ET_DYN with PT_INTERP: a PIE. */
	image_init(&im, 0x300, false, true, T_EM_386, T_ET_DYN);
	image_phdrs(&im, 52, 3);
	image_phdr(&im, 0, T_PT_INTERP, T_PF_R, 0x100, 0x100, sizeof(interp) + 3); /* padded after the NUL */
	image_phdr(&im, 1, T_PT_LOAD, T_PF_R | T_PF_X, 0, 0, 0x300);
	image_phdr(&im, 2, T_PT_DYNAMIC, T_PF_R | T_PF_W, 0x200, 0x200, 3 * 8);
	put_bytes(&im, 0x100, interp, sizeof(interp));
	put32(&im, 0x200, 1); /* DT_NEEDED */
	put32(&im, 0x208, T_DT_FLAGS_1);
	put32(&im, 0x20c, 0);

	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_int_equal(e.elf_class, 32);
	assert_true(e.little_endian);
	assert_int_equal(e.machine, T_EM_386);
	assert_string_equal(e.arch, "386");
	assert_string_equal(elf_machine_name(e.machine), "Intel 80386");
	assert_int_equal(e.type, T_ET_DYN);
	assert_string_equal(e.interpreter, interp);
	assert_true(e.pie);
	assert_false(e.is_go);
	elf_info_release(&e);

	/* Without PT_INTERP, only DF_1_PIE makes it a PIE (a static-pie); otherwise a shared object. */
	image_phdr(&im, 0, 0x6474e551 /* PT_GNU_STACK */, T_PF_R | T_PF_W, 0, 0, 0);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_null(e.interpreter);
	assert_false(e.pie);
	elf_info_release(&e);
	put32(&im, 0x20c, T_DF_1_PIE);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_true(e.pie);
	elf_info_release(&e);

	/* An ELF32 x86-64 (x32) or ELF32 ARM big-endian binary has no Go arch. */
	put16(&im, 18, T_EM_X86_64);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_null(e.arch);
	elf_info_release(&e);
	put16(&im, 18, T_EM_ARM);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_string_equal(e.arch, "arm");
	elf_info_release(&e);
	image_free(&im);
}

static void test_arch_map(void **state)
{
	static const struct {
		bool is64, le;
		uint16_t machine;
		const char *arch;
	} table[] = {
		{ true, true, T_EM_X86_64, "amd64" },    { false, true, T_EM_X86_64, NULL },
		{ true, false, T_EM_X86_64, NULL },      { true, true, T_EM_AARCH64, "arm64" },
		{ true, false, T_EM_AARCH64, NULL },     { false, true, T_EM_AARCH64, NULL },
		{ false, true, T_EM_386, "386" },        { true, true, T_EM_386, NULL },
		{ false, true, T_EM_ARM, "arm" },        { false, false, T_EM_ARM, NULL },
		{ true, true, T_EM_RISCV, "riscv64" },   { false, true, T_EM_RISCV, NULL },
		{ true, true, T_EM_PPC64, "ppc64le" },   { true, false, T_EM_PPC64, NULL },
		{ true, false, T_EM_S390, "s390x" },     { true, true, T_EM_S390, NULL },
		{ false, false, T_EM_S390, NULL },       { false, false, T_EM_MIPS, NULL },
		{ true, true, 0, NULL },                 { true, true, 0xffff, NULL },
	};

	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		_cleanup_(elf_info_release) struct elf_info e = {};
		struct image im;

		image_init(&im, 64, table[i].is64, table[i].le, table[i].machine, T_ET_EXEC);
		assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
		assert_int_equal(e.machine, table[i].machine);
		assert_int_equal(e.elf_class, table[i].is64 ? 64 : 32);
		assert_int_equal(e.little_endian, table[i].le);
		if (!streq_ptr(e.arch, table[i].arch))
			fail_msg("machine %u, ELF%d, %s endian: arch %s, expected %s", table[i].machine,
				 e.elf_class, table[i].le ? "little" : "big", strempty(e.arch), strempty(table[i].arch));
		image_free(&im);
	}
}

static void test_header_errors(void **state)
{
	static const char interp[] = "/lib64/ld-linux-x86-64.so.2";
	struct elf_info e = {};
	struct image im;

	image_init(&im, 0x200, true, true, T_EM_X86_64, T_ET_EXEC);
	image_phdrs(&im, 64, 2);
	image_phdr(&im, 0, T_PT_LOAD, T_PF_R | T_PF_X, 0, 0x400000, 0x200);
	image_phdr(&im, 1, T_PT_INTERP, T_PF_R, 0x100, 0x400100, sizeof(interp));
	put_bytes(&im, 0x100, interp, sizeof(interp));
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_string_equal(e.interpreter, interp);
	assert_string_equal(elf_machine_name(e.machine), "x86-64");
	elf_info_release(&e);

#define EXPECT(expr, err)                                                                          \
	do {                                                                                       \
		uint8_t *saved_ = malloc(im.size);                                                 \
		assert_non_null(saved_);                                                           \
		memcpy(saved_, im.buf, im.size);                                                   \
		expr;                                                                              \
		assert_int_equal(inspect_copy(im.buf, im.size, &e), err);                          \
		memcpy(im.buf, saved_, im.size);                                                   \
		free(saved_);                                                                      \
	} while (0)

	EXPECT(im.buf[4] = 3, -EBADMSG);                           /* EI_CLASS */
	EXPECT(im.buf[5] = 0, -EBADMSG);                           /* EI_DATA */
	EXPECT(im.buf[6] = 2, -EBADMSG);                           /* EI_VERSION */
	EXPECT(put32(&im, 20, 0), -EBADMSG);                       /* e_version */
	EXPECT(put16(&im, 16, T_ET_REL), -ENOEXEC);                /* an object file */
	EXPECT(put16(&im, 16, 4), -ENOEXEC);                       /* a core dump */
	EXPECT(put16(&im, 54, 32), -EBADMSG);                      /* e_phentsize */
	EXPECT(put(&im, 32, 0x1f0, 8), -EBADMSG);                  /* e_phoff: table runs off the end */
	EXPECT(put(&im, 32, UINT64_MAX - 8, 8), -EBADMSG);         /* e_phoff: wraps */
	EXPECT(put16(&im, 56, 0xfffe), -EBADMSG);                  /* e_phnum */
	EXPECT(put16(&im, 56, 0xffff), -EBADMSG);                  /* PN_XNUM without section 0 */
	EXPECT(image_phdr(&im, 0, T_PT_LOAD, T_PF_R, 0x100, 0, 0x101), -EBADMSG);      /* LOAD past EOF */
	EXPECT(image_phdr(&im, 0, T_PT_LOAD, T_PF_R, UINT64_MAX, 0, 2), -EBADMSG);      /* LOAD wraps */
	EXPECT(image_phdr(&im, 1, T_PT_INTERP, T_PF_R, 0x100, 0, 0x101), -EBADMSG);    /* INTERP past EOF */
	EXPECT(image_phdr(&im, 1, T_PT_INTERP, T_PF_R, 0x100, 0, 5), -EBADMSG);        /* no NUL inside */
	EXPECT(image_phdr(&im, 1, T_PT_INTERP, T_PF_R, 0x1ff, 0, 1), -EBADMSG);        /* empty string */
	EXPECT(image_phdr(&im, 0, T_PT_INTERP, T_PF_R, 0x100, 0, sizeof(interp)), -EBADMSG); /* two of them */
	EXPECT(image_phdr(&im, 0, T_PT_DYNAMIC, T_PF_R, 0x1f8, 0, 16), -EBADMSG);     /* DYNAMIC past EOF */
	EXPECT(image_shdrs(&im, 0, 1, 0), -EBADMSG);               /* sections but no table */
	EXPECT(image_shdrs(&im, 0x1c0, 2, 1), -EBADMSG);           /* section headers past EOF */
	EXPECT(image_shdrs(&im, 0x140, 2, 2), -EBADMSG);           /* e_shstrndx >= e_shnum */
	EXPECT((image_shdrs(&im, 0x140, 2, 0), put16(&im, 58, 40)), -EBADMSG); /* e_shentsize */

	/* Section headers at 0x140, the name table at 0x1c0. */
	put_bytes(&im, 0x1c0, "\0.shstrtab\0", 12);
	image_shdrs(&im, 0x140, 2, 1);
	image_shdr(&im, 0x140, 1, 1, T_SHT_STRTAB, 0x1c0, 12);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_true(e.stripped);
	elf_info_release(&e);
	EXPECT(image_shdr(&im, 0x140, 1, 1, T_SHT_STRTAB, 0x1f0, 0x20), -EBADMSG);    /* names past EOF */
	EXPECT(image_shdr(&im, 0x140, 1, 1, T_SHT_NOBITS, 0x1c0, 12), -EBADMSG);      /* names without bytes */
	EXPECT(image_shdr(&im, 0x140, 1, 0x40, T_SHT_STRTAB, 0x1c0, 12), -EBADMSG);   /* name offset */
	EXPECT(memset(im.buf + 0x1c0, 'x', 12), -EBADMSG);                             /* no NUL */
	EXPECT(image_shdr(&im, 0x140, 0, 0, T_SHT_PROGBITS, 0x1000, 1), -EBADMSG);    /* a section past EOF */
#undef EXPECT
	image_free(&im);
}

static void test_extended_numbering(void **state)
{
	_cleanup_(elf_info_release) struct elf_info e = {};
	static const char names[] = "\0.shstrtab\0.symtab";
	struct image im;

	/* e_shnum = 0 and e_shstrndx = SHN_XINDEX: the counts come from section header 0. */
	image_init(&im, 0x400, true, true, T_EM_AARCH64, T_ET_EXEC);
	image_phdrs(&im, 64, 1);
	image_phdr(&im, 0, T_PT_LOAD, T_PF_R | T_PF_X, 0, 0x400000, 0x400);
	put_bytes(&im, 0x100, names, sizeof(names));
	image_shdrs(&im, 0x200, 0, 0xffff);
	put(&im, 0x200 + 32, 3, 8);  /* sh_size: the section count */
	put32(&im, 0x200 + 40, 1);   /* sh_link: the name table index */
	image_shdr(&im, 0x200, 1, 1, T_SHT_STRTAB, 0x100, sizeof(names));
	image_shdr(&im, 0x200, 2, 11, T_SHT_SYMTAB, 0x180, 0x18);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_string_equal(e.arch, "arm64");
	assert_false(e.stripped);
	elf_info_release(&e);

	put(&im, 0x200 + 32, 1000, 8); /* more sections than the file holds */
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_free(&im);
}

/* ---- Go build info blobs ---------------------------------------------------------------- */

static void test_new_format_section(void **state)
{
	_cleanup_(elf_info_release) struct elf_info e = {};
	struct image im;

	build_section_image(&im, true, "go1.21.5", 8, synth_modinfo, 0);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_string_equal(e.arch, "riscv64");
	assert_false(e.stripped);
	assert_true(e.is_go);
	assert_string_equal(e.go.go_version, "go1.21.5");
	assert_string_equal(e.go.path, "example.com/synth/cmd/synth");
	assert_string_equal(e.go.main_module, "example.com/synth");
	assert_string_equal(e.go.main_version, "v1.2.3");
	assert_string_equal(e.go.goos, "linux"); /* quoted and escaped in the blob */
	assert_string_equal(e.go.goarch, "riscv64");
	assert_int_equal(e.go.cgo_enabled, 1);
	assert_true(e.go.trimpath);
	assert_string_equal(e.go.vcs, "git");
	assert_string_equal(e.go.vcs_revision, "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(e.go.vcs_time, "2024-01-02T03:04:05Z");
	assert_int_equal(e.go.vcs_modified, 0);
	assert_string_equal(e.go.default_godebug, "containermaxprocs=0,updatemaxprocs=0");
	check_consistent(&e);
	elf_info_release(&e);
	image_free(&im);

	/* Without .symtab: stripped. Without module info (GOPATH mode): only the version. */
	build_section_image(&im, false, "go1.20", 6, NULL, 0);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_true(e.stripped);
	assert_true(e.is_go);
	assert_string_equal(e.go.go_version, "go1.20");
	assert_null(e.go.path);
	assert_null(e.go.goos);
	assert_int_equal(e.go.cgo_enabled, -1);
	assert_int_equal(e.go.vcs_modified, -1);
	assert_false(e.go.trimpath);
	elf_info_release(&e);

	/* Without section names, the blob is found by scanning the first writable PT_LOAD. */
	image_shdrs(&im, 0, 0, 0);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_true(e.is_go);
	assert_true(e.stripped);
	assert_string_equal(e.go.go_version, "go1.20");
	elf_info_release(&e);

	/* And with no blob there either, it is a valid non-Go binary. */
	im.buf[0x1000] = 0;
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_false(e.is_go);
	check_consistent(&e);
	elf_info_release(&e);
	image_free(&im);

	/* A .go.buildinfo section without the blob is corrupt. */
	build_section_image(&im, false, "go1.20", 6, NULL, 0);
	im.buf[0x1001] = 'X';
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_free(&im);
}

static void test_new_format_hostile(void **state)
{
	struct elf_info e = {};
	struct image im;

	/* The version's varint claims 200 bytes; the section holds far fewer. */
	build_section_image(&im, true, "go1.21.5", 200, NULL, 0);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_free(&im);

	/* The modinfo's varint claims one byte more than there is. */
	build_section_image(&im, true, "go1.21.5", 8, synth_modinfo, 1);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_free(&im);

	/* One byte less: the end sentinel no longer lines up. */
	build_section_image(&im, true, "go1.21.5", 8, synth_modinfo, -1);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_free(&im);

	/* The section ends right after the version, but the file goes on with bytes that would make
	 * a plausible 20-byte version and an empty module info: the section bounds must win. */
	build_section_image(&im, true, "go1.21.5", 20, NULL, 0);
	put_bytes(&im, 0x1000 + 41, "-xxxxxxxxxxx\0", 13);
	image_shdr(&im, SEC_SHOFF, 2, 11, T_SHT_PROGBITS, 0x1000, 41);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_shdr(&im, SEC_SHOFF, 2, 11, T_SHT_PROGBITS, 0x1000, 60); /* control: now it fits */
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_string_equal(e.go.go_version, "go1.21.5-xxxxxxxxxxx");
	elf_info_release(&e);
	image_free(&im);

	/* A varint that never ends, and a 10-byte one for 8 whose last byte overflows 64 bits. */
	build_section_image(&im, true, "go1.21.5", 8, NULL, 0);
	memset(im.buf + 0x1000 + 32, 0xff, 10);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	put_bytes(&im, 0x1000 + 32, "\x88\x80\x80\x80\x80\x80\x80\x80\x80\x02go1.21.5\0", 19);
	image_shdr(&im, SEC_SHOFF, 2, 11, T_SHT_PROGBITS, 0x1000, 32 + 19);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	im.buf[0x1000 + 32 + 9] = 0x00; /* control: a redundant but valid 10-byte encoding of 8 */
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_string_equal(e.go.go_version, "go1.21.5");
	elf_info_release(&e);
	image_free(&im);

	/* A version over the 256-byte limit, an empty one, one with control characters. */
	{
		char big[300];

		memset(big, 'g', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		build_section_image(&im, true, big, sizeof(big) - 1, NULL, 0);
		assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
		image_free(&im);
	}
	build_section_image(&im, true, "", 0, NULL, 0);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_free(&im);
	build_section_image(&im, true, "go1\n21", 6, NULL, 0);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_free(&im);

	/* A pointer size that is neither 4 nor 8. */
	build_section_image(&im, true, "go1.21.5", 8, NULL, 0);
	im.buf[0x1000 + 14] = 16;
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	image_free(&im);

	/* Module info that is malformed the way Go's ParseBuildInfo rejects. */
	static const char *const bad_modinfo[] = {
		"mod\tonly-one-column\n",
		"mod\ta\tb\tc\td\n",
		"dep\ta\n",
		"=>\ta\tb\tc\n",                         /* replacement without a module */
		"mod\ta\tb\tc\n=>\tx\ty\n",               /* replacement with 2 columns */
		"build\tnoequals\n",
		"build\t=value\n",
		"build\t\n",
		"build\tkey with space=x\n",
		"build\tkey=value with space\n",
		"build\tGOOS=\"unterminated\n",
		"build\tGOOS=\"bad\\q\"\n",
		"build\tGOOS=\"nul\\x00\"\n",
		"build\tGOOS=\"surrogate\\ud800\"\n",
		"build\tGOOS=\"octal\\400\"\n",
		"build\tGOOS=\"octal\\189\"\n",
		"build\tGOOS=\"x\"trailing\n",
		"build\t\"key\"value\n",
		"build\t`key=x\n",
		"path\tNUL@\n", /* the @ is replaced by a NUL byte below */
	};
	for (size_t i = 0; i < ELEMENTSOF(bad_modinfo); i++) {
		uint8_t *x;

		build_section_image(&im, true, "go1.21.5", 8, bad_modinfo[i], 0);
		x = memmem(im.buf + 0x1000, 0x800, "NUL@", 4);
		if (x)
			x[3] = 0;
		if (inspect_copy(im.buf, im.size, &e) != -EBADMSG)
			fail_msg("modinfo %zu was accepted: %s", i, bad_modinfo[i]);
		image_free(&im);
	}

	/* Accepted oddities: unknown lines, a quoted key, empty and unexpected values. */
	build_section_image(&im, true, "go1.21.5", 8,
			    "whatever\tline\nbuild\t\"GOOS\"=\"plan9\"\nbuild\tGOARCH=\nbuild\tCGO_ENABLED=2\n"
			    "build\tvcs=`h\rg\\x`\nbuild\tvcs.time=\"\\u00e9\\U0001F600\\101\\t\"\n", 0);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_string_equal(e.go.goos, "plan9");
	assert_string_equal(e.go.goarch, "");
	assert_int_equal(e.go.cgo_enabled, -1);
	assert_string_equal(e.go.vcs, "hg\\x"); /* raw strings drop \r and keep backslashes */
	assert_string_equal(e.go.vcs_time, "\xc3\xa9\xf0\x9f\x98\x80" "A\t");
	elf_info_release(&e);
	image_free(&im);
}

static void test_old_format(void **state)
{
	static const char modtext[] =
		"path\texample.com/old\n"
		"mod\texample.com/old\tv0.9.0\th1:old=\n"
		"dep\tgithub.com/x/y\tv1.0.0\n";
	_cleanup_(elf_info_release) struct elf_info e = {};
	struct image im;

	/* ELF64 little endian, 8-byte pointers. */
	build_old_image(&im, true, "go1.16.15", modtext);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_string_equal(e.arch, "amd64");
	assert_true(e.is_go);
	assert_string_equal(e.go.go_version, "go1.16.15");
	assert_string_equal(e.go.path, "example.com/old");
	assert_string_equal(e.go.main_module, "example.com/old");
	assert_string_equal(e.go.main_version, "v0.9.0");
	assert_null(e.go.goos); /* Go < 1.18 recorded no build settings */
	assert_int_equal(e.go.cgo_enabled, -1);
	check_consistent(&e);
	elf_info_release(&e);

	/* Pointers that lead outside every PT_LOAD, or lengths past the segment. */
	put(&im, OLD_BLOB + 16, 0x900000, 8);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	put(&im, OLD_BLOB + 16, 0x500100, 8);
	put(&im, 0x1100, 0x500ffc, 8); /* version string runs off the segment */
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	put(&im, 0x1100, 0x500200, 8);
	put(&im, 0x1120 + 8, UINT64_MAX, 8); /* modinfo length */
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	put(&im, 0x1120 + 8, 0, 8); /* no module info */
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_true(e.is_go);
	assert_null(e.go.path);
	elf_info_release(&e);
	put(&im, OLD_BLOB + 16, 0x500ff8, 8); /* string header straddles the segment end */
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);

	/* A version over the limit, though all of it is there and printable. */
	put(&im, OLD_BLOB + 16, 0x500100, 8);
	memset(im.buf + 0x1400, 'g', 0x200);
	put(&im, 0x1100, 0x500400, 8);
	put(&im, 0x1108, 257, 8);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), -EBADMSG);
	put(&im, 0x1108, 256, 8); /* control */
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_int_equal(strlen(e.go.go_version), 256);
	elf_info_release(&e);
	image_free(&im);

	/* ELF32 big endian (MIPS), 4-byte big-endian pointers. */
	build_old_image(&im, false, "go1.17.13", modtext);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_int_equal(e.elf_class, 32);
	assert_false(e.little_endian);
	assert_int_equal(e.machine, T_EM_MIPS);
	assert_null(e.arch);
	assert_string_equal(elf_machine_name(e.machine), "MIPS");
	assert_true(e.is_go);
	assert_string_equal(e.go.go_version, "go1.17.13");
	assert_string_equal(e.go.main_module, "example.com/old");
	elf_info_release(&e);

	/* The data segment is found as the first writable, non-executable PT_LOAD. */
	image_phdr(&im, 1, T_PT_LOAD, T_PF_R | T_PF_W | T_PF_X, 0x1000, 0x500000, 0x1000);
	assert_int_equal(inspect_copy(im.buf, im.size, &e), 0);
	assert_false(e.is_go);
	image_free(&im);
}

/* ---- the rest of the API ------------------------------------------------------------------ */

static void test_names(void **state)
{
	const char *host = elf_host_arch();

	assert_non_null(host);
#if defined(__x86_64__)
	assert_string_equal(host, "amd64");
#elif defined(__aarch64__)
	assert_string_equal(host, "arm64");
#endif
	assert_string_equal(elf_machine_name(T_EM_X86_64), "x86-64");
	assert_string_equal(elf_machine_name(T_EM_AARCH64), "AArch64");
	assert_string_equal(elf_machine_name(T_EM_PPC64), "PowerPC64");
	assert_string_equal(elf_machine_name(T_EM_RISCV), "RISC-V");
	assert_string_equal(elf_machine_name(0xbeef), "unknown");
}

static void test_release(void **state)
{
	struct elf_info e = {};

	elf_info_release(&e);
	elf_info_release(&e);
	elf_info_release(NULL);
	assert_null(e.interpreter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_main_version_rules),
		cmocka_unit_test(test_go_amd64),
		cmocka_unit_test(test_go_arm64),
		cmocka_unit_test(test_go_static_and_cgo),
		cmocka_unit_test(test_dynamic),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupted_go_binary),
		cmocka_unit_test(test_corrupted_synthetic),
		cmocka_unit_test(test_s390x_big_endian),
		cmocka_unit_test(test_i386_elf32),
		cmocka_unit_test(test_arch_map),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_extended_numbering),
		cmocka_unit_test(test_new_format_section),
		cmocka_unit_test(test_new_format_hostile),
		cmocka_unit_test(test_old_format),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
