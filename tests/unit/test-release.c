/* test-release.c - the release store, in a temporary root */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "macro.h"
#include "release.h"
#include "sha256.h"

static char tmpdir[] = "/tmp/berth-test-release-XXXXXX";
/* each test gets its own root below tmpdir */
static char root[PATH_MAX];
static unsigned test_no;

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p);
}

static int group_setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "%s/root%u", tmpdir, ++test_no);
	return mkdir(root, 0755);
}

static const char *P(const char *fmt, ...) _printf_(1, 2);
static const char *P(const char *fmt, ...)
{
	static char bufs[32][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % ELEMENTSOF(bufs)];
	int n = snprintf(b, PATH_MAX, "%s/", root);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b + n, PATH_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return b;
}

static struct release_store store(void)
{
	return (struct release_store){ .root = root, .name = (char *)"hello" };
}

static void put(const char *p, const char *text)
{
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *get(const char *p)
{
	char *s = NULL;
	assert_int_equal(fs_read_file(p, 1 << 20, &s, NULL), 0);
	return s;
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static mode_t mode_of(const char *p)
{
	struct stat st;
	assert_int_equal(lstat(p, &st), 0);
	return st.st_mode;
}

static unsigned count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
		    (!prefix || startswith(de->d_name, prefix)))
			n++;
	closedir(d);
	return n;
}

/* A "binary" with the given content, outside the store; returns its path, sha256 in hex. */
static const char *binary(const char *name, const char *content, char hex[2 * SHA256_DIGEST_SIZE + 1])
{
	const char *p = P("%s", name);
	put(p, content);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(sha256_file(p, hex), 0);
	return p;
}

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000U + (uint64_t)ts.tv_nsec / 1000U;
}

/* release_install() takes berth's own descriptor of the bytes (binary.h): open the test's file. */
static int inst(const struct release_store *s, const char *version, const char *path, const char *hex,
		const char *go_version, const char *module, bool *created)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int r = release_install(s, version, fd, hex, go_version, module, created);
	close(fd);
	return r;
}

static void install(const char *version, const char *content)
{
	struct release_store s = store();
	char hex[65];
	bool created = false;
	const char *bin = binary("bin", content, hex);
	assert_int_equal(inst(&s, version, bin, hex, NULL, NULL, &created), 0);
	assert_true(created);
}

static void test_version_is_valid(void **state)
{
	const char *good[] = { "1", "1.2.3", "v1.0.0+build.5", "abc_DEF-1", "0123456789ab", "a-", "a.",
			       "1234567890123456789012345678901234567890123456789012345678901234" };
	const char *bad[] = { NULL, "", ".", "..", ".hidden", "-x", "a/b", "a b", "a\n", "ä", "a:b",
			      "a\\b", "12345678901234567890123456789012345678901234567890123456789012345" };
	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		assert_true(release_version_is_valid(good[i]));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_false(release_version_is_valid(bad[i]));
}

static void test_paths(void **state)
{
	struct release_store s = store();
	char *p;

	p = release_service_dir(&s);
	assert_string_equal(p, P("hello"));
	free(p);
	p = release_dir(&s, "1.0");
	assert_string_equal(p, P("hello/releases/1.0"));
	free(p);
	p = release_binary_path(&s, "1.0");
	assert_string_equal(p, P("hello/releases/1.0/hello"));
	free(p);
	p = release_unit_copy_path(&s, "1.0");
	assert_string_equal(p, P("hello/releases/1.0/hello.service"));
	free(p);

	/* a trailing slash on the root does not make an empty component */
	char slashed[PATH_MAX + 8];
	snprintf(slashed, sizeof(slashed), "%s//", root);
	struct release_store s2 = { .root = slashed, .name = (char *)"hello" };
	p = release_dir(&s2, "1.0");
	assert_string_equal(p, P("hello/releases/1.0"));
	free(p);

	errno = 0;
	assert_null(release_dir(&s, "../etc"));
	assert_int_equal(errno, EINVAL);
	assert_null(release_binary_path(&s, ""));

	const char *bad_names[] = { "", "a/b", ".hidden", "..", "meta" };
	for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
		struct release_store b = { .root = root, .name = (char *)bad_names[i] };
		assert_null(release_service_dir(&b));
		assert_int_equal(release_purge(&b), -EINVAL);
		char hex[65];
		const char *bin = binary("bin", "x", hex);
		assert_int_equal(inst(&b, "1", bin, hex, NULL, NULL, NULL), -EINVAL);
	}
	struct release_store rel = { .root = (char *)"var/lib/berth", .name = (char *)"hello" };
	assert_null(release_service_dir(&rel));
	struct release *l = NULL;
	size_t n = 0;
	assert_int_equal(release_list(&rel, &l, &n), -EINVAL);
}

static void test_install(void **state)
{
	struct release_store s = store();
	char hex[65], hex2[65];
	bool created = true;

	mode_t um = umask(077); /* the layout's modes are exact */
	const char *bin = binary("bin1", "binary one\n", hex);
	uint64_t before = now_usec();
	assert_int_equal(inst(&s, "1.0", bin, hex, NULL, NULL, &created), 0);
	uint64_t after = now_usec();
	umask(um);
	assert_true(created);

	assert_int_equal(mode_of(P("hello")) & 07777, 0755);
	assert_int_equal(mode_of(P("hello/releases")) & 07777, 0755);
	assert_int_equal(mode_of(P("hello/releases/1.0")) & 07777, 0755);
	assert_true(S_ISREG(mode_of(P("hello/releases/1.0/hello"))));
	assert_int_equal(mode_of(P("hello/releases/1.0/hello")) & 07777, 0755);
	char *c = get(P("hello/releases/1.0/hello"));
	assert_string_equal(c, "binary one\n");
	free(c);

	struct release r;
	assert_int_equal(release_load(&s, "1.0", &r), 0);
	assert_string_equal(r.sha256, hex);
	assert_true(r.installed_usec >= before && r.installed_usec <= after);
	release_release(&r);

	/* the same binary again: nothing to do */
	created = true;
	assert_int_equal(inst(&s, "1.0", bin, hex, NULL, NULL, &created), 0);
	assert_false(created);
	assert_int_equal(release_install(&s, "1.0", -1, hex, NULL, NULL, NULL), -EINVAL);

	/* another binary under the same version: refused, the release is unchanged */
	const char *other = binary("bin2", "binary two\n", hex2);
	created = true;
	assert_int_equal(inst(&s, "1.0", other, hex2, NULL, NULL, &created), -EEXIST);
	assert_true(created);
	c = get(P("hello/releases/1.0/hello"));
	assert_string_equal(c, "binary one\n");
	free(c);

	/* the hash is the caller's: it read the bytes once (binary.h) */
	assert_int_equal(inst(&s, "2.0", other, NULL, NULL, NULL, &created), -EINVAL);
	assert_int_equal(inst(&s, "2.0", other, hex2, NULL, NULL, &created), 0);
	assert_true(created);
	assert_int_equal(release_load(&s, "2.0", &r), 0);
	assert_string_equal(r.sha256, hex2);
	release_release(&r);

	/* the hash given is recorded as given: it is the hash of the bytes berth read (binary.h), and
	 * hashing the copy again would double a deploy's cost */
	assert_int_equal(inst(&s, "2.5", bin, hex2, NULL, NULL, &created), 0);
	assert_int_equal(release_load(&s, "2.5", &r), 0);
	assert_string_equal(r.sha256, hex2);
	release_release(&r);

	/* bad input */
	assert_int_equal(inst(&s, "3.0", bin, "abc", NULL, NULL, NULL), -EINVAL);
	char upper[65];
	for (size_t i = 0; i < 65; i++)
		upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
	assert_int_equal(inst(&s, "3.0", bin, upper, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(inst(&s, "3.0", bin, hex, "go1.22\n", NULL, NULL), -EINVAL);
	assert_int_equal(inst(&s, "3.0", bin, hex, NULL, "m@v1\nstatus=ok", NULL), -EINVAL);
	assert_int_equal(inst(&s, ".3", bin, hex, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(release_install(&s, "3.0", -1, hex, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(inst(&s, "3.0", root, hex, NULL, NULL, NULL), -EISDIR);
	assert_false(exists(P("hello/releases/3.0")));

	/* files that go with a new release are in it when it appears, with their modes */
	const struct release_file files[] = {
		{ "hello.service", "[Service]\n", 0600 },
		{ "manifest.ini", "[service]\nname = hello\n", 0600 },
		{ "source", "/x\n1 2 3\n", 0644 },
	};
	int fd = open(other, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	um = umask(077);
	assert_int_equal(release_install_with(&s, "4.0", fd, hex2, NULL, NULL, files, 3, &created), 0);
	umask(um);
	assert_true(created);
	c = get(P("hello/releases/4.0/manifest.ini"));
	assert_string_equal(c, "[service]\nname = hello\n");
	free(c);
	assert_int_equal(mode_of(P("hello/releases/4.0/hello.service")) & 07777, 0600);
	assert_int_equal(mode_of(P("hello/releases/4.0/source")) & 07777, 0644);
	assert_int_equal(mode_of(P("hello/releases/4.0/meta")) & 07777, 0644);
	assert_int_equal(release_load(&s, "4.0", &r), 0);
	release_release(&r);
	/* existing: nothing written, the caller knows from created */
	const struct release_file changed[] = { { "manifest.ini", "other\n", 0600 } };
	assert_int_equal(release_install_with(&s, "4.0", fd, hex2, NULL, NULL, changed, 1, &created), 0);
	assert_false(created);
	c = get(P("hello/releases/4.0/manifest.ini"));
	assert_string_equal(c, "[service]\nname = hello\n");
	free(c);
	/* names that are no plain file of the release */
	static const char *const bad_names[] = { "meta", "hello", "a/b", ".hidden", "" };
	for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
		const struct release_file bad = { bad_names[i], "x", 0600 };
		assert_int_equal(release_install_with(&s, "5.0", fd, hex2, NULL, NULL, &bad, 1, NULL), -EINVAL);
	}
	const struct release_file no_content = { "x", NULL, 0600 };
	assert_int_equal(release_install_with(&s, "5.0", fd, hex2, NULL, NULL, &no_content, 1, NULL), -EINVAL);
	assert_int_equal(release_install_with(&s, "5.0", fd, hex2, NULL, NULL, NULL, 1, NULL), -EINVAL);
	close(fd);
	assert_false(exists(P("hello/releases/5.0")));

	/* no half-built release left behind by any of the failures */
	assert_int_equal(count_entries(P("hello/releases"), ".tmp-"), 0);
	assert_int_equal(count_entries(P("hello/releases"), NULL), 4);
}

#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

static void test_meta(void **state)
{
	struct release_store s = store();
	struct release r;
	char hex[65];
	const char *bin = binary("bin", "meta test\n", hex);

	assert_int_equal(inst(&s, "1.2.3", bin, hex, "go1.22.1", "example.com/hello@v1.2.3",
					 NULL),
			 0);
	assert_int_equal(release_load(&s, "1.2.3", &r), 0);
	assert_string_equal(r.version, "1.2.3");
	assert_string_equal(r.sha256, hex);
	assert_string_equal(r.go_version, "go1.22.1");
	assert_string_equal(r.module, "example.com/hello@v1.2.3");
	assert_true(r.installed_usec > 0);
	assert_int_equal(r.deployed_usec, 0);
	assert_int_equal(r.ready_msec, -1);
	assert_string_equal(r.status, "");
	assert_false(r.current);
	assert_false(r.previous);
	uint64_t installed = r.installed_usec;
	release_release(&r);

	assert_int_equal(inst(&s, "plain", bin, hex, NULL, NULL, NULL), 0);
	assert_int_equal(release_load(&s, "plain", &r), 0);
	assert_null(r.go_version);
	assert_null(r.module);
	release_release(&r);

	assert_int_equal(release_set_meta(&s, "1.2.3", "ready_msec", "1234"), 0);
	assert_int_equal(release_set_meta(&s, "1.2.3", "status", "ok"), 0);
	assert_int_equal(release_set_meta(&s, "1.2.3", "deployed_usec", "99"), 0);
	assert_int_equal(release_set_meta(&s, "1.2.3", "note", "kept=as is"), 0);
	assert_int_equal(release_set_meta(&s, "1.2.3", "status", "failed"), 0);
	assert_int_equal(release_set_meta(&s, "1.2.3", "ready_msec", "-1"), 0);
	assert_int_equal(release_set_meta(&s, "1.2.3", "ready_msec", "0"), 0);
	assert_int_equal(release_load(&s, "1.2.3", &r), 0);
	assert_int_equal(r.ready_msec, 0);
	assert_string_equal(r.status, "failed");
	assert_int_equal(r.deployed_usec, 99);
	assert_int_equal(r.installed_usec, installed);
	assert_string_equal(r.go_version, "go1.22.1");
	assert_string_equal(r.sha256, hex);
	release_release(&r);

	char *m = get(P("hello/releases/1.2.3/meta"));
	char expect[512];
	snprintf(expect, sizeof(expect),
		 "version=1.2.3\nsha256=%s\ngo_version=go1.22.1\nmodule=example.com/hello@v1.2.3\n"
		 "installed_usec=%" PRIu64 "\ndeployed_usec=99\ngood_usec=0\nready_msec=0\nstatus=failed\nnote=kept=as is\n",
		 hex, installed);
	assert_string_equal(m, expect);
	free(m);
	assert_int_equal(mode_of(P("hello/releases/1.2.3/meta")) & 07777, 0644);

	/* several keys in one write; all or none */
	const char *keys[] = { "status", "ready_msec", "good_usec" };
	const char *values[] = { "ok", "17", "5" };
	assert_int_equal(release_set_meta_many(&s, "1.2.3", keys, values, 3), 0);
	assert_int_equal(release_load(&s, "1.2.3", &r), 0);
	assert_string_equal(r.status, "ok");
	assert_int_equal(r.ready_msec, 17);
	assert_int_equal(r.good_usec, 5);
	release_release(&r);
	const char *bad_values[] = { "failed", "17", "soon" };
	assert_int_equal(release_set_meta_many(&s, "1.2.3", keys, bad_values, 3), -EINVAL);
	assert_int_equal(release_load(&s, "1.2.3", &r), 0);
	assert_string_equal(r.status, "ok");
	release_release(&r);

	/* what cannot be set */
	assert_int_equal(release_set_meta(&s, "1.2.3", "version", "2"), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "sha256", hex), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "status", "ok\nsha256=0"), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "status", NULL), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "ready_msec", "abc"), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "ready_msec", "-2"), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "installed_usec", "-1"), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "deployed_usec", "99999999999999999999"), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "Bad-Key", "x"), -EINVAL);
	assert_int_equal(release_set_meta(&s, "1.2.3", "", "x"), -EINVAL);
	assert_int_equal(release_set_meta(&s, "9.9", "status", "ok"), -ENOENT);

	/* the unit that came with the release */
	assert_int_equal(release_save_unit(&s, "1.2.3", "[Service]\nExecStart=/x\n"), 0);
	m = get(P("hello/releases/1.2.3/hello.service"));
	assert_string_equal(m, "[Service]\nExecStart=/x\n");
	free(m);
	assert_int_equal(release_save_unit(&s, "9.9", "x"), -ENOENT);
	assert_int_equal(release_save_unit(&s, "1.2.3", NULL), -EINVAL);

	/* damaged meta files are reported, not trusted, not rewritten */
	r = (struct release){ .version = (char *)"untouched" };
	assert_int_equal(release_load(&s, "9.9", &r), -ENOENT);
	put(P("hello/releases/plain/meta"), "version=plain\ngarbage\n");
	assert_int_equal(release_load(&s, "plain", &r), -EBADMSG);
	assert_int_equal(release_set_meta(&s, "plain", "status", "ok"), -EBADMSG);
	put(P("hello/releases/plain/meta"), "version=other\nsha256=" ZEROS "\n");
	assert_int_equal(release_load(&s, "plain", &r), -EBADMSG);
	put(P("hello/releases/plain/meta"), "version=plain\nsha256=short\n");
	assert_int_equal(release_load(&s, "plain", &r), -EBADMSG);
	put(P("hello/releases/plain/meta"), "version=plain\nsha256=" ZEROS "\nready_msec=soon\n");
	assert_int_equal(release_load(&s, "plain", &r), -EBADMSG);
	assert_string_equal(r.version, "untouched");
	/* the minimum, and keys from the future */
	put(P("hello/releases/plain/meta"), "version=plain\nsha256=" ZEROS "\nfuture=1\n");
	assert_int_equal(release_load(&s, "plain", &r), 0);
	assert_int_equal(r.ready_msec, -1);
	assert_string_equal(r.status, "");
	release_release(&r);
	release_release(NULL);
}

static void test_current_previous(void **state)
{
	struct release_store s = store();
	char *v = (char *)"x";

	install("1", "one");
	install("2", "two");
	install("3", "three");

	assert_int_equal(release_get_current(&s, &v), 0);
	assert_null(v);
	v = (char *)"x";
	assert_int_equal(release_get_previous(&s, &v), 0);
	assert_null(v);

	uint64_t before = now_usec();
	assert_int_equal(release_set_current(&s, "1"), 0);
	assert_int_equal(release_get_current(&s, &v), 0);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(release_get_previous(&s, &v), 0);
	assert_null(v);
	struct release r;
	assert_int_equal(release_load(&s, "1", &r), 0);
	assert_true(r.current);
	assert_false(r.previous);
	assert_true(r.deployed_usec >= before);
	release_release(&r);

	char *t = NULL;
	assert_int_equal(fs_readlink(P("hello/current"), &t), 0);
	assert_string_equal(t, "releases/1"); /* relative: the tree can be moved or inspected */
	free(t);

	/* 1 passes its health gate; the current release is never previous */
	before = now_usec();
	assert_int_equal(release_mark(&s, "1", true, 42), 0);
	assert_int_equal(release_load(&s, "1", &r), 0);
	assert_string_equal(r.status, "ok");
	assert_int_equal(r.ready_msec, 42);
	assert_true(r.good_usec >= before);
	assert_false(r.previous);
	release_release(&r);
	assert_false(exists(P("hello/previous")));

	/* 2 becomes current: previous is the last known good, 1 */
	assert_int_equal(release_set_current(&s, "2"), 0);
	assert_int_equal(fs_readlink(P("hello/current"), &t), 0);
	assert_string_equal(t, "releases/2");
	free(t);
	assert_int_equal(fs_readlink(P("hello/previous"), &t), 0);
	assert_string_equal(t, "releases/1");
	free(t);

	/* the same again changes nothing */
	assert_int_equal(release_set_current(&s, "2"), 0);
	assert_int_equal(release_get_previous(&s, &v), 0);
	assert_string_equal(v, "1");
	free(v);

	/* 2 fails and the rollback makes 1 current: a failed release never becomes previous */
	assert_int_equal(release_mark(&s, "2", false, -1), 0);
	assert_int_equal(release_load(&s, "2", &r), 0);
	assert_string_equal(r.status, "failed");
	release_release(&r);
	assert_int_equal(release_set_current(&s, "1"), 0);
	assert_int_equal(release_get_current(&s, &v), 0);
	assert_string_equal(v, "1");
	free(v);
	v = (char *)"x";
	assert_int_equal(release_get_previous(&s, &v), 0);
	assert_null(v);
	assert_false(exists(P("hello/previous")));

	/* 3 passes; 1 stays the last good one other than current, and then the newest good wins */
	assert_int_equal(release_set_current(&s, "3"), 0);
	assert_int_equal(release_get_previous(&s, &v), 0);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(release_mark(&s, "3", true, -1), 0);
	assert_int_equal(release_load(&s, "3", &r), 0);
	assert_true(r.current);
	assert_int_equal(r.ready_msec, -1); /* unknown stays unknown */
	release_release(&r);
	assert_int_equal(release_load(&s, "1", &r), 0);
	assert_true(r.previous);
	assert_false(r.current);
	release_release(&r);
	assert_int_equal(release_load(&s, "2", &r), 0);
	assert_false(r.previous);
	assert_false(r.current);
	release_release(&r);
	assert_int_equal(release_set_current(&s, "1"), 0);
	assert_int_equal(release_get_previous(&s, &v), 0);
	assert_string_equal(v, "3");
	free(v);
	assert_int_equal(release_set_current(&s, "3"), 0);

	/* meta from before good_usec existed: status ok counts from its deployed_usec */
	assert_int_equal(release_set_meta(&s, "2", "status", "ok"), 0);
	assert_int_equal(release_set_meta(&s, "2", "good_usec", "0"), 0);
	assert_int_equal(release_set_meta(&s, "2", "deployed_usec", "99999999999999999"), 0);
	assert_int_equal(release_update_previous(&s), 0);
	assert_int_equal(release_get_previous(&s, &v), 0);
	assert_string_equal(v, "2");
	free(v);

	/* only complete releases become current */
	assert_int_equal(release_set_current(&s, "4"), -ENOENT);
	assert_int_equal(mkdir(P("hello/releases/4"), 0755), 0);
	assert_int_equal(release_set_current(&s, "4"), -ENOENT);
	assert_int_equal(release_set_current(&s, "../1"), -EINVAL);
	assert_int_equal(release_get_current(&s, &v), 0);
	assert_string_equal(v, "3");
	free(v);

	/* a link berth did not write is not a version, but can be replaced */
	assert_int_equal(unlink(P("hello/current")), 0);
	assert_int_equal(symlink("/etc", P("hello/current")), 0);
	v = (char *)"x";
	assert_int_equal(release_get_current(&s, &v), -EBADMSG);
	assert_int_equal(release_load(&s, "1", &r), -EBADMSG);
	assert_int_equal(release_set_current(&s, "2"), 0);
	assert_int_equal(release_get_current(&s, &v), 0);
	assert_string_equal(v, "2");
	free(v);
}

static void test_list(void **state)
{
	struct release_store s = store();
	struct release *l = (struct release *)1;
	size_t n = 99;

	/* no service directory yet: nothing */
	assert_int_equal(release_list(&s, &l, &n), 0);
	assert_int_equal(n, 0);
	release_list_free(l, n);

	install("1.0", "a");
	install("2.0", "b");
	install("1.5", "c");
	install("x", "d");
	install("1.10", "e");
	assert_int_equal(release_set_meta(&s, "1.0", "installed_usec", "100"), 0);
	assert_int_equal(release_set_meta(&s, "2.0", "installed_usec", "300"), 0);
	assert_int_equal(release_set_meta(&s, "1.5", "installed_usec", "200"), 0);
	assert_int_equal(release_set_meta(&s, "x", "installed_usec", "200"), 0);
	assert_int_equal(release_set_meta(&s, "1.10", "installed_usec", "200"), 0);
	assert_int_equal(release_set_current(&s, "2.0"), 0);
	assert_int_equal(release_mark(&s, "2.0", true, -1), 0);
	assert_int_equal(release_set_current(&s, "1.5"), 0);

	/* strangers in releases/ are not releases; a directory without meta is listed, last */
	assert_int_equal(mkdir(P("hello/releases/.tmp-3.0-0123456789abcdef"), 0755), 0);
	put(P("hello/releases/file"), "");
	assert_int_equal(mkdir(P("hello/releases/bad name"), 0755), 0);
	assert_int_equal(symlink(P("hello/releases/1.0"), P("hello/releases/link")), 0);
	assert_int_equal(mkdir(P("hello/releases/9.9"), 0755), 0);

	assert_int_equal(release_list(&s, &l, &n), 0);
	assert_int_equal(n, 6);
	/* newest first; equal times by version, highest first */
	const char *order[] = { "2.0", "x", "1.10", "1.5", "1.0", "9.9" };
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l[i].version, order[i]);
	assert_true(l[0].previous);
	assert_false(l[0].current);
	assert_true(l[3].current);
	assert_false(l[3].previous);
	for (size_t i = 0; i < n; i++)
		if (i != 0 && i != 3)
			assert_false(l[i].current || l[i].previous);
	assert_int_equal(l[0].installed_usec, 300);
	assert_int_equal(strlen(l[0].sha256), 64);
	assert_string_equal(l[5].sha256, "");
	assert_int_equal(l[5].installed_usec, 0);
	release_list_free(l, n);
	release_list_free(NULL, 0);
}

static void test_prune(void **state)
{
	struct release_store s = store();
	struct release *l;
	size_t n;
	char num[8];

	assert_int_equal(release_prune(&s, 3), 0);

	for (unsigned i = 1; i <= 6; i++) {
		char v[8], content[8];
		snprintf(v, sizeof(v), "v%u", i);
		snprintf(content, sizeof(content), "c%u", i);
		install(v, content);
		snprintf(num, sizeof(num), "%u", i);
		assert_int_equal(release_set_meta(&s, v, "installed_usec", num), 0);
	}
	/* old releases as current and previous: they keep their places */
	assert_int_equal(release_set_current(&s, "v1"), 0);
	assert_int_equal(release_mark(&s, "v1", true, -1), 0);
	assert_int_equal(release_set_current(&s, "v2"), 0);
	assert_int_equal(mkdir(P("hello/releases/.tmp-v7-0123456789abcdef"), 0755), 0);
	put(P("hello/releases/.tmp-v7-0123456789abcdef/hello"), "half");

	assert_int_equal(release_prune(&s, 3), 3);
	assert_int_equal(release_list(&s, &l, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[0].version, "v6");
	assert_string_equal(l[1].version, "v2");
	assert_string_equal(l[2].version, "v1");
	release_list_free(l, n);
	assert_false(exists(P("hello/releases/v5")));
	assert_false(exists(P("hello/releases/v3")));
	assert_int_equal(count_entries(P("hello/releases"), ".tmp-"), 0);

	assert_int_equal(release_prune(&s, 3), 0);
	assert_int_equal(release_prune(&s, 1), 1);
	assert_int_equal(release_prune(&s, 0), 0);
	assert_int_equal(release_list(&s, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_true(l[0].current);
	assert_true(l[1].previous);
	release_list_free(l, n);
	assert_true(exists(P("hello/releases/v2/hello")));
	assert_true(exists(P("hello/releases/v1/hello")));

	/* the other slots go to good releases first, never to a failed one ahead of them */
	for (unsigned i = 7; i <= 10; i++) {
		char v[8], content[8];
		snprintf(v, sizeof(v), "v%u", i);
		snprintf(content, sizeof(content), "c%u", i);
		install(v, content);
		snprintf(num, sizeof(num), "%u", i);
		assert_int_equal(release_set_meta(&s, v, "installed_usec", num), 0);
	}
	assert_int_equal(release_mark(&s, "v10", false, -1), 0); /* newest, failed */
	assert_int_equal(release_mark(&s, "v7", true, -1), 0);   /* oldest of these, good */
	/* v7 passed long ago: v1, which passed later, stays previous */
	assert_int_equal(release_set_meta(&s, "v7", "good_usec", "1"), 0);
	assert_int_equal(release_update_previous(&s), 0);
	assert_true(exists(P("hello/previous")));
	char *prev = NULL;
	assert_int_equal(release_get_previous(&s, &prev), 0);
	assert_string_equal(prev, "v1");
	free(prev);
	assert_int_equal(release_prune(&s, 4), 2);
	assert_true(exists(P("hello/releases/v7/hello")));  /* good */
	assert_true(exists(P("hello/releases/v9/hello")));  /* never judged, newest of those */
	assert_false(exists(P("hello/releases/v8")));
	assert_false(exists(P("hello/releases/v10"))); /* failed: first to go */
	assert_int_equal(release_prune(&s, 3), 1);
	assert_false(exists(P("hello/releases/v9")));
	assert_true(exists(P("hello/releases/v7/hello")));
}

static void test_purge(void **state)
{
	struct release_store s = store();

	assert_int_equal(release_purge(&s), 0);

	install("1", "one");
	assert_int_equal(release_set_current(&s, "1"), 0);
	/* a symlink planted in the tree is unlinked, never descended into */
	assert_int_equal(mkdir(P("outside"), 0755), 0);
	put(P("outside/precious"), "precious\n");
	assert_int_equal(symlink(P("outside"), P("hello/releases/1/planted")), 0);

	assert_int_equal(release_purge(&s), 0);
	assert_false(exists(P("hello")));
	char *c = get(P("outside/precious"));
	assert_string_equal(c, "precious\n");
	free(c);
	assert_int_equal(release_purge(&s), 0);
}

/* <root>/<name> planted as a symlink: nothing is written through it. */
static void test_symlinked_store(void **state)
{
	struct release_store s = store();
	char hex[65];
	const char *bin = binary("bin", "x", hex);

	assert_int_equal(mkdir(P("elsewhere"), 0755), 0);
	assert_int_equal(symlink(P("elsewhere"), P("hello")), 0);
	int r = inst(&s, "1", bin, hex, NULL, NULL, NULL);
	assert_true(r == -ELOOP || r == -ENOTDIR);
	assert_int_equal(count_entries(P("elsewhere"), NULL), 0);

	struct release *l = NULL;
	size_t n = 0;
	r = release_list(&s, &l, &n);
	assert_true(r == -ELOOP || r == -ENOTDIR);

	/* purge unlinks the link itself */
	assert_int_equal(release_purge(&s), 0);
	assert_false(exists(P("hello")));
	assert_true(exists(P("elsewhere")));

	/* and releases/ as a link */
	assert_int_equal(mkdir(P("hello"), 0755), 0);
	assert_int_equal(symlink(P("elsewhere"), P("hello/releases")), 0);
	r = inst(&s, "1", bin, hex, NULL, NULL, NULL);
	assert_true(r == -ELOOP || r == -ENOTDIR);
	assert_int_equal(count_entries(P("elsewhere"), NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_version_is_valid, setup),
		cmocka_unit_test_setup(test_paths, setup),
		cmocka_unit_test_setup(test_install, setup),
		cmocka_unit_test_setup(test_meta, setup),
		cmocka_unit_test_setup(test_current_previous, setup),
		cmocka_unit_test_setup(test_list, setup),
		cmocka_unit_test_setup(test_prune, setup),
		cmocka_unit_test_setup(test_purge, setup),
		cmocka_unit_test_setup(test_symlinked_store, setup),
	};
	return cmocka_run_group_tests_name("release", tests, group_setup, group_teardown);
}
