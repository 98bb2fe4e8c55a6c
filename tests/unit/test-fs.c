/* test-fs.c - atomic writes that never follow a symlink, and the host-wide lock
 *
 * Everything happens inside a mkdtemp() directory under /tmp, removed at the end.
 */
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "lock.h"
#include "macro.h"

static char tmpdir[] = "/tmp/berth-test-fs-XXXXXX";

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* nftw, not the code under test: the directory goes even if fs_remove() is broken */
static int teardown(void **state)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* "<tmpdir>/<rel>" in one of a few rotating buffers, enough for one call's arguments. */
static const char *P(const char *fmt, ...) _printf_(1, 2);
static const char *P(const char *fmt, ...)
{
	static char bufs[32][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % ELEMENTSOF(bufs)];
	int n = snprintf(b, PATH_MAX, "%s/", tmpdir);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b + n, PATH_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return b;
}

static void make_dir(const char *p)
{
	assert_int_equal(mkdir(p, 0755), 0);
}

static void put(const char *p, const char *text)
{
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Content of a file (following nothing); "" for a missing one would hide bugs: NULL then. */
static char *get(const char *p)
{
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		fwrite(chunk, 1, (size_t)n, m);
	close(fd);
	fclose(m);
	return buf;
}

static void assert_content(const char *p, const char *text)
{
	char *c = get(p);
	assert_non_null(c);
	assert_string_equal(c, text);
	free(c);
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

/* Entries of a directory whose name starts with prefix (all if NULL). */
static unsigned count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
		    (!prefix || startswith(de->d_name, prefix)))
			n++;
	closedir(d);
	return n;
}

static void assert_refused_symlink(int r)
{
	if (r != -ELOOP && r != -ENOTDIR)
		print_error("expected -ELOOP or -ENOTDIR, got %d\n", r);
	assert_true(r == -ELOOP || r == -ENOTDIR);
}

static void test_write_atomic(void **state)
{
	make_dir(P("w"));

	assert_int_equal(fs_write_atomic(P("w/f"), "hello", 5, 0640), 0);
	assert_content(P("w/f"), "hello");
	assert_true(S_ISREG(mode_of(P("w/f"))));
	assert_int_equal(mode_of(P("w/f")) & 07777, 0640);

	/* replaced, not rewritten: a reader holding the old file keeps the old content */
	int old = open(P("w/f"), O_RDONLY | O_CLOEXEC);
	assert_true(old >= 0);
	mode_t um = umask(077); /* the mode is exact, whatever the umask */
	assert_int_equal(fs_write_atomic(P("w/f"), "bye!\n", 5, 0644), 0);
	umask(um);
	assert_content(P("w/f"), "bye!\n");
	assert_int_equal(mode_of(P("w/f")) & 07777, 0644);
	char buf[8] = { 0 };
	assert_int_equal(pread(old, buf, sizeof(buf) - 1, 0), 5);
	assert_string_equal(buf, "hello");
	close(old);

	assert_int_equal(fs_write_atomic(P("w/empty"), NULL, 0, 0600), 0);
	assert_content(P("w/empty"), "");

	/* larger than any single write */
	size_t big = 3 * 1024 * 1024 + 17;
	char *data = malloc(big + 1);
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (char)('a' + i % 26);
	data[big] = 0;
	assert_int_equal(fs_write_atomic(P("w/big"), data, big, 0600), 0);
	char *back = get(P("w/big"));
	assert_non_null(back);
	assert_true(strlen(back) == big && memcmp(back, data, big) == 0);
	free(back);
	free(data);

	/* failures leave nothing behind */
	assert_int_equal(fs_write_atomic(P("w/missing/f"), "x", 1, 0600), -ENOENT);
	make_dir(P("w/dir"));
	assert_int_equal(fs_write_atomic(P("w/dir"), "x", 1, 0600), -EISDIR);
	assert_true(S_ISDIR(mode_of(P("w/dir"))));
	assert_int_equal(fs_write_atomic(P("w/f"), NULL, 1, 0600), -EINVAL);
	assert_int_equal(count_entries(P("w"), ".#"), 0);
	assert_int_equal(count_entries(P("w"), NULL), 4);
}

static void test_bad_paths(void **state)
{
	make_dir(P("b"));
	const char *bad[] = {
		"relative/f", "", "/", P("b/../b/f"), P("b//f"), P("b/f/"), P("b/./f"), P(".."),
	};
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		char *s = NULL;
		assert_int_equal(fs_write_atomic(bad[i], "x", 1, 0600), -EINVAL);
		assert_int_equal(fs_symlink_atomic("t", bad[i]), -EINVAL);
		assert_int_equal(fs_read_file(bad[i], 10, &s, NULL), -EINVAL);
		assert_int_equal(fs_readlink(bad[i], &s), -EINVAL);
		assert_int_equal(fs_remove(bad[i], true, true), -EINVAL);
		assert_int_equal(fs_fsync_parent(bad[i]), -EINVAL);
		assert_null(s);
	}
	assert_int_equal(fs_mkdir_p_nofollow("relative", 0755), -EINVAL);
	assert_int_equal(fs_mkdir_p_nofollow(P("b/x/../y"), 0755), -EINVAL);
	assert_int_equal(fs_open_dir_nofollow("tmp"), -EINVAL);
	assert_int_equal(fs_open_dir_nofollow(P("b/")), -EINVAL);
	assert_false(exists(P("y")));
	assert_false(exists(P("b/f")));

	int fd = fs_open_dir_nofollow("/");
	assert_true(fd >= 0);
	close(fd);
	fd = fs_open_dir_nofollow(P("b"));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fs_open_dir_nofollow(P("nope")), -ENOENT);
}

/* The classic attack: the target name is a symlink to a file berth must not touch. */
static void test_target_symlink_replaced(void **state)
{
	make_dir(P("t"));
	put(P("t/outside"), "secret\n");
	assert_int_equal(symlink(P("t/outside"), P("t/target")), 0);
	assert_int_equal(symlink(P("t/ghost"), P("t/dangling")), 0);
	mode_t outside_mode = mode_of(P("t/outside"));

	assert_int_equal(fs_write_atomic(P("t/target"), "new\n", 4, 0644), 0);
	assert_true(S_ISREG(mode_of(P("t/target"))));
	assert_content(P("t/target"), "new\n");
	assert_content(P("t/outside"), "secret\n");
	assert_int_equal(mode_of(P("t/outside")), outside_mode);

	assert_int_equal(fs_write_atomic(P("t/dangling"), "x", 1, 0600), 0);
	assert_true(S_ISREG(mode_of(P("t/dangling"))));
	assert_false(exists(P("t/ghost")));

	put(P("t/src"), "copied\n");
	assert_int_equal(symlink(P("t/outside"), P("t/target2")), 0);
	assert_int_equal(fs_copy_atomic(P("t/src"), P("t/target2"), 0755), 0);
	assert_true(S_ISREG(mode_of(P("t/target2"))));
	assert_content(P("t/target2"), "copied\n");
	assert_content(P("t/outside"), "secret\n");
	assert_int_equal(count_entries(P("t"), ".#"), 0);
}

/* A symlink anywhere above the target: refused, and nothing is written anywhere. */
static void test_parent_symlink_refused(void **state)
{
	make_dir(P("p"));
	make_dir(P("p/real"));
	make_dir(P("p/real/sub"));
	put(P("p/real/keep"), "keep\n");
	put(P("p/src"), "src\n");
	assert_int_equal(symlink(P("p/real"), P("p/link")), 0);
	assert_int_equal(symlink("real", P("p/rel")), 0);

	const char *through[] = { P("p/link/f"), P("p/rel/f"), P("p/link/sub/f") };
	for (size_t i = 0; i < ELEMENTSOF(through); i++) {
		char *s = NULL;
		assert_refused_symlink(fs_write_atomic(through[i], "x", 1, 0644));
		assert_refused_symlink(fs_copy_atomic(P("p/src"), through[i], 0755));
		assert_refused_symlink(fs_symlink_atomic("x", through[i]));
		assert_refused_symlink(fs_mkdir_p_nofollow(through[i], 0755));
		assert_refused_symlink(fs_read_file(through[i], 100, &s, NULL));
		assert_refused_symlink(fs_remove(through[i], true, true));
		assert_refused_symlink(fs_fsync_parent(through[i]));
		assert_null(s);
	}
	char *s = NULL;
	assert_refused_symlink(fs_read_file(P("p/link/keep"), 100, &s, NULL));
	assert_refused_symlink(fs_remove(P("p/link/keep"), false, false));
	assert_refused_symlink(fs_open_dir_nofollow(P("p/link")));
	assert_refused_symlink(fs_open_dir_nofollow(P("p/link/sub")));

	assert_content(P("p/real/keep"), "keep\n");
	assert_int_equal(count_entries(P("p/real"), NULL), 2);
	assert_int_equal(count_entries(P("p/real/sub"), NULL), 0);
	assert_int_equal(count_entries(P("p"), ".#"), 0);
}

static void test_mkdir_p(void **state)
{
	mode_t um = umask(077);
	assert_int_equal(fs_mkdir_p_nofollow(P("m/a/b/c"), 0750), 0);
	umask(um);
	assert_true(S_ISDIR(mode_of(P("m/a/b/c"))));
	assert_int_equal(mode_of(P("m")) & 07777, 0750);
	assert_int_equal(mode_of(P("m/a/b/c")) & 07777, 0750);

	/* existing directories are kept as they are */
	assert_int_equal(chmod(P("m/a"), 0700), 0);
	assert_int_equal(fs_mkdir_p_nofollow(P("m/a/b/c"), 0755), 0);
	assert_int_equal(fs_mkdir_p_nofollow(P("m/a/b/d"), 0755), 0);
	assert_int_equal(mode_of(P("m/a")) & 07777, 0700);
	assert_int_equal(mode_of(P("m/a/b/d")) & 07777, 0755);

	make_dir(P("m/real"));
	assert_int_equal(symlink(P("m/real"), P("m/sl")), 0);
	assert_refused_symlink(fs_mkdir_p_nofollow(P("m/sl/x/y"), 0755));
	assert_refused_symlink(fs_mkdir_p_nofollow(P("m/sl"), 0755));
	assert_int_equal(count_entries(P("m/real"), NULL), 0);

	put(P("m/file"), "x");
	assert_int_equal(fs_mkdir_p_nofollow(P("m/file/x"), 0755), -ENOTDIR);
	assert_int_equal(fs_mkdir_p_nofollow(P("m/file"), 0755), -ENOTDIR);
	assert_int_equal(fs_mkdir_p_nofollow("/", 0755), 0);
}

static void test_symlink_atomic(void **state)
{
	char *t = NULL;
	make_dir(P("s"));

	assert_int_equal(fs_symlink_atomic("releases/1", P("s/current")), 0);
	assert_true(S_ISLNK(mode_of(P("s/current"))));
	assert_int_equal(fs_readlink(P("s/current"), &t), 0);
	assert_string_equal(t, "releases/1");
	free(t);

	assert_int_equal(fs_symlink_atomic("releases/2", P("s/current")), 0);
	assert_int_equal(fs_readlink(P("s/current"), &t), 0);
	assert_string_equal(t, "releases/2");
	free(t);

	/* long targets are read whole */
	char longt[1000];
	memset(longt, 'x', sizeof(longt) - 1);
	longt[sizeof(longt) - 1] = 0;
	assert_int_equal(fs_symlink_atomic(longt, P("s/long")), 0);
	assert_int_equal(fs_readlink(P("s/long"), &t), 0);
	assert_string_equal(t, longt);
	free(t);

	put(P("s/file"), "x");
	assert_int_equal(fs_symlink_atomic("releases/3", P("s/file")), 0);
	assert_true(S_ISLNK(mode_of(P("s/file"))));

	/* a directory in the way stays */
	make_dir(P("s/dir"));
	put(P("s/dir/keep"), "k");
	assert_true(fs_symlink_atomic("releases/4", P("s/dir")) < 0);
	assert_true(S_ISDIR(mode_of(P("s/dir"))));
	assert_content(P("s/dir/keep"), "k");

	assert_int_equal(fs_symlink_atomic("", P("s/x")), -EINVAL);
	assert_int_equal(fs_symlink_atomic("t", P("s/missing/x")), -ENOENT);
	assert_int_equal(count_entries(P("s"), ".#"), 0);

	t = (char *)"untouched";
	assert_int_equal(fs_readlink(P("s/dir/keep"), &t), -EINVAL);
	assert_int_equal(fs_readlink(P("s/none"), &t), -ENOENT);
	assert_string_equal(t, "untouched");
}

static void test_read_file(void **state)
{
	char *s = (char *)"untouched";
	size_t len = 1234;
	make_dir(P("r"));
	put(P("r/f"), "0123456789");

	assert_int_equal(fs_read_file(P("r/f"), 100, &s, &len), 0);
	assert_string_equal(s, "0123456789");
	assert_int_equal(len, 10);
	free(s);
	assert_int_equal(fs_read_file(P("r/f"), 10, &s, NULL), 0);
	assert_string_equal(s, "0123456789");
	free(s);

	s = (char *)"untouched";
	len = 1234;
	assert_int_equal(fs_read_file(P("r/f"), 9, &s, &len), -EFBIG);
	assert_int_equal(fs_read_file(P("r/f"), 0, &s, &len), -EFBIG);
	assert_string_equal(s, "untouched");
	assert_int_equal(len, 1234);

	put(P("r/empty"), "");
	assert_int_equal(fs_read_file(P("r/empty"), 0, &s, &len), 0);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	size_t big = 300 * 1000;
	char *data = malloc(big + 1);
	assert_non_null(data);
	memset(data, 'z', big);
	data[big] = 0;
	assert_int_equal(fs_write_atomic(P("r/big"), data, big, 0600), 0);
	assert_int_equal(fs_read_file(P("r/big"), 1 << 20, &s, &len), 0);
	assert_int_equal(len, big);
	assert_string_equal(s, data);
	free(s);
	assert_int_equal(fs_read_file(P("r/big"), SIZE_MAX, &s, &len), 0);
	assert_int_equal(len, big);
	free(s);
	assert_int_equal(fs_read_file(P("r/big"), big - 1, &s, &len), -EFBIG);
	free(data);

	s = (char *)"untouched";
	assert_int_equal(fs_read_file(P("r/none"), 100, &s, NULL), -ENOENT);
	assert_int_equal(symlink(P("r/f"), P("r/link")), 0);
	assert_int_equal(fs_read_file(P("r/link"), 100, &s, NULL), -ELOOP);
	assert_int_equal(fs_read_file(P("r"), 100, &s, NULL), -EISDIR);
	/* a FIFO would block a plain open(): refused without opening */
	assert_int_equal(mkfifo(P("r/fifo"), 0600), 0);
	assert_int_equal(fs_read_file(P("r/fifo"), 100, &s, NULL), -EINVAL);
	assert_string_equal(s, "untouched");
}

static void test_copy_atomic(void **state)
{
	make_dir(P("c"));
	size_t n = 200 * 1000 + 3;
	char *data = malloc(n + 1);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('A' + (i * 31) % 26);
	data[n] = 0;
	assert_int_equal(fs_write_atomic(P("c/src"), data, n, 0600), 0);

	assert_int_equal(fs_copy_atomic(P("c/src"), P("c/dst"), 0755), 0);
	assert_int_equal(mode_of(P("c/dst")) & 07777, 0755);
	char *back = get(P("c/dst"));
	assert_non_null(back);
	assert_string_equal(back, data);
	free(back);

	/* a relative source (user input) is fine */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	int r = fs_copy_atomic("c/src", P("c/dst2"), 0700);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(r, 0);
	assert_int_equal(mode_of(P("c/dst2")) & 07777, 0700);
	free(data);

	put(P("c/empty"), "");
	assert_int_equal(fs_copy_atomic(P("c/empty"), P("c/dst3"), 0644), 0);
	assert_content(P("c/dst3"), "");

	/* only a regular file is copied, and nothing is created otherwise */
	assert_int_equal(symlink(P("c/src"), P("c/srclink")), 0);
	assert_int_equal(fs_copy_atomic(P("c/srclink"), P("c/x"), 0755), -ELOOP);
	assert_int_equal(fs_copy_atomic(P("c"), P("c/x"), 0755), -EISDIR);
	assert_int_equal(mkfifo(P("c/fifo"), 0600), 0);
	assert_int_equal(fs_copy_atomic(P("c/fifo"), P("c/x"), 0755), -EINVAL);
	assert_int_equal(fs_copy_atomic(P("c/none"), P("c/x"), 0755), -ENOENT);
	assert_int_equal(fs_copy_atomic("", P("c/x"), 0755), -EINVAL);
	assert_int_equal(fs_copy_atomic("/dev/null", P("c/x"), 0755), -EINVAL);
	assert_false(exists(P("c/x")));
	assert_int_equal(count_entries(P("c"), ".#"), 0);
}

static void test_remove(void **state)
{
	make_dir(P("x"));
	put(P("x/f"), "f");
	assert_int_equal(fs_remove(P("x/f"), false, false), 0);
	assert_false(exists(P("x/f")));
	assert_int_equal(fs_remove(P("x/f"), false, false), -ENOENT);
	assert_int_equal(fs_remove(P("x/f"), false, true), 0);
	assert_int_equal(fs_remove(P("x/nodir/f"), true, true), 0);
	assert_int_equal(fs_remove(P("x/nodir/f"), true, false), -ENOENT);

	make_dir(P("x/d"));
	put(P("x/d/f"), "f");
	assert_int_equal(fs_remove(P("x/d"), false, false), -ENOTEMPTY);
	assert_true(exists(P("x/d/f")));
	assert_int_equal(unlink(P("x/d/f")), 0);
	assert_int_equal(fs_remove(P("x/d"), false, false), 0);
	assert_false(exists(P("x/d")));

	/* a tree with links out of it: the links go, what they point at stays */
	make_dir(P("x/outside"));
	put(P("x/outside/precious"), "precious\n");
	make_dir(P("x/outside/inner"));
	put(P("x/outside/inner/also"), "also\n");
	make_dir(P("x/tree"));
	put(P("x/tree/a"), "a");
	make_dir(P("x/tree/sub"));
	put(P("x/tree/sub/.hidden"), "h");
	make_dir(P("x/tree/sub/deep"));
	put(P("x/tree/sub/deep/c"), "c");
	assert_int_equal(symlink(P("x/outside"), P("x/tree/link_out")), 0);
	assert_int_equal(symlink(P("x/outside"), P("x/tree/sub/deep/link_out")), 0);
	assert_int_equal(symlink(P("x/outside/precious"), P("x/tree/link_file")), 0);
	assert_int_equal(symlink("../../outside", P("x/tree/sub/rel_out")), 0);
	assert_int_equal(mkfifo(P("x/tree/sub/fifo"), 0600), 0);

	assert_int_equal(fs_remove(P("x/tree"), true, false), 0);
	assert_false(exists(P("x/tree")));
	assert_content(P("x/outside/precious"), "precious\n");
	assert_content(P("x/outside/inner/also"), "also\n");
	assert_int_equal(count_entries(P("x/outside"), NULL), 2);

	/* the path itself a symlink to a directory: the link goes, even recursively */
	assert_int_equal(symlink(P("x/outside"), P("x/top")), 0);
	assert_int_equal(fs_remove(P("x/top"), true, false), 0);
	assert_false(exists(P("x/top")));
	assert_content(P("x/outside/precious"), "precious\n");
	assert_int_equal(count_entries(P("x/outside"), NULL), 2);
}

static void test_fsync_parent(void **state)
{
	make_dir(P("y"));
	assert_int_equal(fs_fsync_parent(P("y/anything")), 0);
	assert_int_equal(fs_fsync_parent(P("y")), 0);
	assert_int_equal(fs_fsync_parent(P("none/x")), -ENOENT);
}

/* The cheaper writes: new files in a private directory, and an unsynced atomic replace. */
static void test_write_new_and_unsynced(void **state)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	make_dir(P("wn"));
	_cleanup_close_ int dfd = fs_open_dir_nofollow(P("wn"));
	assert_true(dfd >= 0);

	assert_int_equal(fs_write_new_at(dfd, "a", "hello\n", 6, 0600), 0);
	assert_int_equal(mode_of(P("wn/a")) & 07777, 0600);
	assert_int_equal(fs_read_file(P("wn/a"), 100, &text, &len), 0);
	assert_string_equal(text, "hello\n");
	/* never an existing file, never through a symlink, never a path */
	assert_int_equal(fs_write_new_at(dfd, "a", "x", 1, 0600), -EEXIST);
	assert_int_equal(symlink(P("wn/a"), P("wn/l")), 0);
	assert_int_equal(fs_write_new_at(dfd, "l", "x", 1, 0600), -EEXIST);
	assert_int_equal(fs_write_new_at(dfd, "x/y", "x", 1, 0600), -EINVAL);
	assert_int_equal(fs_write_new_at(dfd, "..", "x", 1, 0600), -EINVAL);
	assert_int_equal(fs_write_new_at(-1, "b", "x", 1, 0600), -EINVAL);
	assert_int_equal(fs_fsync_dir(P("wn")), 0);
	assert_int_equal(fs_fsync_dir(P("none")), -ENOENT);

	assert_int_equal(fs_write_atomic_unsynced(P("wn/a"), "new\n", 4, 0644), 0);
	free(text);
	text = NULL;
	assert_int_equal(fs_read_file(P("wn/a"), 100, &text, &len), 0);
	assert_string_equal(text, "new\n");
	assert_int_equal(mode_of(P("wn/a")) & 07777, 0644);
	/* a symlink at the name is replaced, not written through */
	assert_int_equal(fs_write_atomic_unsynced(P("wn/l"), "mine\n", 5, 0600), 0);
	assert_false(S_ISLNK(mode_of(P("wn/l"))));
	free(text);
	text = NULL;
	assert_int_equal(fs_read_file(P("wn/a"), 100, &text, &len), 0);
	assert_string_equal(text, "new\n");
	assert_int_equal(fs_write_atomic_unsynced("relative", "x", 1, 0600), -EINVAL);
}

static void test_mkdir_tmp_rename(void **state)
{
	char *a = NULL, *b = NULL;
	make_dir(P("n"));

	assert_int_equal(fs_mkdir_tmp(P("n"), ".tmp-1.0-", 0700, &a), 0);
	assert_int_equal(fs_mkdir_tmp(P("n"), ".tmp-1.0-", 0755, &b), 0);
	assert_string_not_equal(a, b);
	const char *rest = startswith(a, P("n/.tmp-1.0-"));
	assert_non_null(rest);
	assert_int_equal(strlen(rest), 16);
	assert_int_equal(strspn(rest, "0123456789abcdef"), 16);
	assert_true(S_ISDIR(mode_of(a)));
	assert_int_equal(mode_of(a) & 07777, 0700);
	assert_int_equal(mode_of(b) & 07777, 0755);
	assert_int_equal(fs_mkdir_tmp(P("n"), "a/b", 0700, &a), -EINVAL);
	assert_int_equal(fs_mkdir_tmp(P("none"), "x", 0700, &a), -ENOENT);

	put(P("n/in-a"), "x");
	assert_int_equal(fs_rename_noreplace(a, P("n/final")), 0);
	assert_false(exists(a));
	assert_true(S_ISDIR(mode_of(P("n/final"))));
	/* never replaces, not even an empty directory */
	assert_int_equal(fs_rename_noreplace(b, P("n/final")), -EEXIST);
	assert_true(exists(b));
	make_dir(P("n/empty"));
	assert_int_equal(fs_rename_noreplace(b, P("n/empty")), -EEXIST);
	assert_int_equal(fs_rename_noreplace(P("n/in-a"), P("n/final")), -EEXIST);
	assert_int_equal(fs_rename_noreplace(P("n/in-a"), P("n/final/in-a")), 0);
	assert_int_equal(fs_rename_noreplace(P("n/none"), P("n/other")), -ENOENT);
	free(a);
	free(b);
}

static usec_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

static void test_lock(void **state)
{
	const char *path = P("l/run/berth/lock");
	int to_child[2], to_parent[2];
	char c = 0;
	pid_t holder = -1;

	make_dir(P("l"));
	assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
	assert_int_equal(pipe2(to_parent, O_CLOEXEC), 0);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* no cmocka in the child: it reports through the pipe (its exit status is valgrind's
		 * when run under it, which counts cmocka's memory in the child as a leak) */
		int fd = lock_acquire(path, 0, NULL);
		char ok = fd >= 0 ? 'y' : 'n';
		(void)!write(to_parent[1], &ok, 1);
		(void)!read(to_child[0], &ok, 1);
		_exit(0);
	}
	assert_int_equal(read(to_parent[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(mode_of(P("l/run")) & 07777, 0755);
	assert_int_equal(mode_of(P("l/run/berth")) & 07777, 0755);

	usec_t t0 = now_usec();
	assert_int_equal(lock_acquire(path, 300 * USEC_PER_MSEC, &holder), -ETIMEDOUT);
	usec_t waited = now_usec() - t0;
	assert_int_equal(holder, pid);
	assert_true(waited >= 300 * USEC_PER_MSEC);
	assert_true(waited < 3 * USEC_PER_SEC);

	/* timeout 0: one try */
	holder = -1;
	t0 = now_usec();
	assert_int_equal(lock_acquire(path, 0, &holder), -ETIMEDOUT);
	assert_true(now_usec() - t0 < 200 * USEC_PER_MSEC);
	assert_int_equal(holder, pid);
	assert_int_equal(lock_acquire(path, 0, NULL), -ETIMEDOUT);

	assert_int_equal(write(to_child[1], "x", 1), 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));

	int fd = lock_acquire(path, 0, &holder);
	assert_true(fd >= 0);
	char expect[32];
	snprintf(expect, sizeof(expect), "%d\n", (int)getpid());
	assert_content(path, expect);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* flock is per open file: a second open in this process is another contender */
	holder = -1;
	assert_int_equal(lock_acquire(path, 100 * USEC_PER_MSEC, &holder), -ETIMEDOUT);
	assert_int_equal(holder, getpid());
	close(fd);
	fd = lock_acquire(path, 100 * USEC_PER_MSEC, NULL);
	assert_true(fd >= 0);
	close(fd);

	/* never through symlinks */
	make_dir(P("l/real"));
	put(P("l/real/target"), "keep\n");
	assert_int_equal(symlink(P("l/real"), P("l/dirlink")), 0);
	assert_int_equal(symlink(P("l/real/target"), P("l/filelink")), 0);
	assert_refused_symlink(lock_acquire(P("l/dirlink/lock"), 0, NULL));
	assert_int_equal(lock_acquire(P("l/filelink"), 0, NULL), -ELOOP);
	assert_content(P("l/real/target"), "keep\n");
	assert_int_equal(count_entries(P("l/real"), NULL), 1);
	assert_int_equal(lock_acquire("relative/lock", 0, NULL), -EINVAL);
	assert_int_equal(lock_acquire(P("l/"), 0, NULL), -EINVAL);
	assert_int_equal(lock_acquire(P("l/.."), 0, NULL), -EINVAL);

	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_target_symlink_replaced),
		cmocka_unit_test(test_parent_symlink_refused),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_symlink_atomic),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_copy_atomic),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_fsync_parent),
		cmocka_unit_test(test_write_new_and_unsynced),
		cmocka_unit_test(test_mkdir_tmp_rename),
		cmocka_unit_test(test_lock),
	};
	return cmocka_run_group_tests_name("fs", tests, setup, teardown);
}
