/* test-diff.c - unified diffs, compared hunk for hunk with `diff -u` */
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"
#include "macro.h"

/* diffutils is Essential: yes in Debian */
#define DIFF_BIN "/usr/bin/diff"

static char tmpdir[] = "/tmp/berth-test-diff-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char p[sizeof(tmpdir) + 8];
	snprintf(p, sizeof(p), "%s/a", tmpdir);
	(void)unlink(p);
	snprintf(p, sizeof(p), "%s/b", tmpdir);
	(void)unlink(p);
	return rmdir(tmpdir);
}

static void write_file(const char *name, const char *text)
{
	char p[sizeof(tmpdir) + 8];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs(strempty(text), f);
	assert_int_equal(fclose(f), 0);
}

/* What `diff -u a b` prints, from the line after the two headers. */
static char *gnu_diff(const char *a, const char *b)
{
	write_file("a", a);
	write_file("b", b);
	char pa[sizeof(tmpdir) + 8], pb[sizeof(tmpdir) + 8];
	snprintf(pa, sizeof(pa), "%s/a", tmpdir);
	snprintf(pb, sizeof(pb), "%s/b", tmpdir);

	int fds[2];
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)dup2(fds[1], STDOUT_FILENO);
		execl(DIFF_BIN, "diff", "-u", pa, pb, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);

	char *out = NULL;
	size_t out_len = 0;
	FILE *m = open_memstream(&out, &out_len);
	assert_non_null(m);
	char buf[4096];
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, m);
	fclose(m);
	close(fds[0]);

	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) <= 1);
	return out;
}

static const char *skip_headers(const char *s)
{
	for (int k = 0; k < 2; k++) {
		const char *nl = strchr(s, '\n');
		if (!nl)
			return "";
		s = nl + 1;
	}
	return s;
}

static char *our_diff(const char *a, const char *b, int *ret)
{
	char *out = NULL;
	size_t out_len = 0;
	FILE *m = open_memstream(&out, &out_len);
	assert_non_null(m);
	*ret = diff_unified(m, "a/unit", a, "b/unit", b, false);
	fclose(m);
	return out;
}

static size_t count_changed(const char *hunks)
{
	size_t n = 0;
	for (const char *p = hunks; *p; p = strchrnul(p, '\n'), p += *p ? 1 : 0)
		if (*p == '+' || *p == '-')
			n++;
	return n;
}

/* The hunks, headers excluded, must be byte for byte those of diff -u; the return value is the
 * number of +/- lines. */
static void check_like_gnu(const char *a, const char *b)
{
	int r;
	char *exp = gnu_diff(a, b);
	char *got = our_diff(a, b, &r);
	if (!streq(skip_headers(exp), skip_headers(got)))
		print_error("a:\n%s\nb:\n%s\ndiff -u:\n%s\nours:\n%s\n", strempty(a), strempty(b),
			    exp, got);
	assert_string_equal(skip_headers(exp), skip_headers(got));
	if (streq(strempty(a), strempty(b))) {
		assert_int_equal(r, 0);
		assert_string_equal(got, "");
	} else {
		assert_int_equal(r, (int)count_changed(skip_headers(got)));
		assert_true(startswith(got, "--- a/unit\n+++ b/unit\n@@ -"));
	}
	free(exp);
	free(got);
}

static const char unit_a[] = "[Unit]\n"
			     "Description=hello\n"
			     "After=network-online.target\n"
			     "Wants=network-online.target\n"
			     "\n"
			     "[Service]\n"
			     "Type=notify\n"
			     "ExecStart=/var/lib/berth/hello/current/hello\n"
			     "User=hello\n"
			     "Environment=PORT=8080\n"
			     "Environment=LOG=info\n"
			     "MemoryMax=512M\n"
			     "TasksMax=64\n"
			     "Restart=on-failure\n"
			     "RestartSec=1s\n"
			     "\n"
			     "[Install]\n"
			     "WantedBy=multi-user.target\n";

static void test_unit_edits(void **state)
{
	/* one line changed */
	check_like_gnu(unit_a, "[Unit]\n"
			       "Description=hello\n"
			       "After=network-online.target\n"
			       "Wants=network-online.target\n"
			       "\n"
			       "[Service]\n"
			       "Type=notify\n"
			       "ExecStart=/var/lib/berth/hello/current/hello\n"
			       "User=hello\n"
			       "Environment=PORT=8080\n"
			       "Environment=LOG=info\n"
			       "MemoryMax=1G\n"
			       "TasksMax=64\n"
			       "Restart=on-failure\n"
			       "RestartSec=1s\n"
			       "\n"
			       "[Install]\n"
			       "WantedBy=multi-user.target\n");
	/* changes at both ends: two hunks */
	check_like_gnu(unit_a, "# managed by berth\n"
			       "[Unit]\n"
			       "Description=hello\n"
			       "After=network-online.target\n"
			       "Wants=network-online.target\n"
			       "\n"
			       "[Service]\n"
			       "Type=notify\n"
			       "ExecStart=/var/lib/berth/hello/current/hello\n"
			       "User=hello\n"
			       "Environment=PORT=8080\n"
			       "Environment=LOG=info\n"
			       "MemoryMax=512M\n"
			       "TasksMax=64\n"
			       "Restart=on-failure\n"
			       "RestartSec=1s\n"
			       "\n"
			       "[Install]\n"
			       "WantedBy=default.target\n");
	/* lines removed, lines added, a new section with its blank line */
	check_like_gnu(unit_a, "[Unit]\n"
			       "Description=hello\n"
			       "\n"
			       "[Service]\n"
			       "Type=notify\n"
			       "ExecStart=/var/lib/berth/hello/current/hello\n"
			       "User=hello\n"
			       "Environment=PORT=8080\n"
			       "Environment=LOG=debug\n"
			       "Environment=EXTRA=1\n"
			       "MemoryMax=512M\n"
			       "TasksMax=64\n"
			       "Restart=on-failure\n"
			       "RestartSec=1s\n"
			       "\n"
			       "[Socket]\n"
			       "ListenStream=8080\n"
			       "\n"
			       "[Install]\n"
			       "WantedBy=multi-user.target\n");
	/* every line different */
	check_like_gnu("a\nb\nc\n", "x\ny\n");
	check_like_gnu(unit_a, unit_a);
}

static void test_context_joins(void **state)
{
	const char *base = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";
	/* 6 unchanged lines between two changes: one hunk */
	check_like_gnu(base, "1\n2\n3\nX\n5\n6\n7\n8\n9\n10\nY\n12\n13\n14\n15\n16\n17\n18\n19\n20\n");
	/* 7: two hunks */
	check_like_gnu(base, "1\n2\n3\nX\n5\n6\n7\n8\n9\n10\n11\nY\n13\n14\n15\n16\n17\n18\n19\n20\n");
	/* first and last line */
	check_like_gnu(base, "0\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n");
	/* pure insertion and pure deletion in the middle */
	check_like_gnu(base, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\nnew\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n");
	check_like_gnu(base, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n14\n15\n16\n17\n18\n19\n20\n");
}

static void test_new_and_removed(void **state)
{
	int r;
	check_like_gnu(NULL, unit_a);
	check_like_gnu(unit_a, NULL);
	check_like_gnu("", "one\n");
	check_like_gnu("one\n", "");

	char *out = our_diff(NULL, "x\ny\n", &r);
	assert_int_equal(r, 2);
	assert_string_equal(out, "--- a/unit\n+++ b/unit\n@@ -0,0 +1,2 @@\n+x\n+y\n");
	free(out);
	out = our_diff(NULL, NULL, &r);
	assert_int_equal(r, 0);
	assert_string_equal(out, "");
	free(out);
	out = our_diff("", NULL, &r);
	assert_int_equal(r, 0);
	free(out);
}

static void test_no_newline(void **state)
{
	check_like_gnu("a\nb\nc", "a\nb\nc\n");
	check_like_gnu("a\nb\nc\n", "a\nb\nc");
	check_like_gnu("a\nb\nc", "a\nB\nc");
	check_like_gnu("a\nb\nc", "a\nb\nd");
	check_like_gnu("x", "y");
	check_like_gnu(NULL, "x");
}

static void test_ambiguous(void **state)
{
	/* repeated lines: where the change is shown is GNU diff's choice, and ours */
	check_like_gnu("x\nx\nx\nx\nx\nx\ny\n", "x\nx\nx\nx\nx\nx\nx\ny\n");
	check_like_gnu("x\nx\nx\nx\nx\nx\ny\n", "x\nx\ny\n");
	check_like_gnu("[A]\na=1\n\n[B]\nb=1\n\n[C]\nc=1\n", "[A]\na=1\n\n[N]\nn=1\n\n[B]\nb=1\n\n[C]\nc=1\n");
	check_like_gnu("c\nc\nc\nb\nb\n", "b\nb\nc\nb\nb\nb\na\n");
	check_like_gnu("a\nb\na\nb\na\nb\n", "b\na\nb\na\nb\na\n");
	check_like_gnu("\n\n\n\n\n\n\n\na\n\n\n\n\n\n\n\n", "\n\n\n\n\n\n\n\nb\n\n\n\n\n\n\n\n\n");
}

/* Up to 40 lines, two in three of them "a", sometimes without the last newline. */
static void random_text(char t[1024], unsigned *seed)
{
	static const char *lines[] = { "a\n", "b\n", "c\n", "\n", "[Service]\n", "d\n" };
	unsigned n = (unsigned)rand_r(seed) % 40, alpha = 2 + (unsigned)rand_r(seed) % 5;

	t[0] = 0;
	for (unsigned i = 0; i < n; i++)
		strcat(t, rand_r(seed) % 3 ? lines[0] : lines[(unsigned)rand_r(seed) % alpha]);
	if (n > 0 && rand_r(seed) % 5 == 0)
		t[strlen(t) - 1] = 0;
}

/* Random texts over a few lines, many of them repeated: the hard cases for matching diff -u. */
static void test_random_like_gnu(void **state)
{
	unsigned seed = 20240611;

	for (unsigned it = 0; it < 150; it++) {
		char a[1024], b[1024];
		random_text(a, &seed);
		random_text(b, &seed);
		check_like_gnu(a, b);
	}
}

static void test_colour(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	assert_non_null(m);
	assert_int_equal(diff_unified(m, "a", "x\nsame\n", "b", "y\nsame\n", true), 2);
	fclose(m);
	assert_non_null(strstr(out, "\x1b[31m-x\x1b[0m\n"));
	assert_non_null(strstr(out, "\x1b[32m+y\x1b[0m\n"));
	assert_non_null(strstr(out, "\x1b[36m@@ -1,2 +1,2 @@\x1b[0m\n"));
	assert_non_null(strstr(out, "\n same\n"));
	free(out);
}

static void test_too_large(void **state)
{
	size_t n = DIFF_MAX_LINES + 1;
	char *a = malloc(2 * n + 1);
	assert_non_null(a);
	for (size_t i = 0; i < n; i++)
		memcpy(a + 2 * i, "a\n", 2);
	a[2 * n] = 0;

	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	assert_non_null(m);
	assert_int_equal(diff_unified(m, "old", a, "new", "b\n", false), 1);
	fclose(m);
	assert_string_equal(out, "old and new differ (too many lines to show the changes)\n");
	free(out);

	/* identical is identical, however large */
	m = open_memstream(&out, &len);
	assert_non_null(m);
	assert_int_equal(diff_unified(m, "old", a, "new", a, false), 0);
	fclose(m);
	assert_string_equal(out, "");
	free(out);

	/* exactly at the limit: still a real diff */
	a[2 * (n - 1)] = 0;
	int r;
	out = our_diff(a, "b\n", &r);
	assert_int_equal(r, (int)n);
	free(out);
	free(a);
}

static void test_files_as_text(void **state)
{
	const struct diff_file files[] = {
		{ "/dev/null", NULL, "u.service", "[Service]\nX=1\n" },
		{ "same", "a\n", "same", "a\n" },
		{ "d.conf", "[Service]\nMemoryMax=1G\n", "/dev/null", NULL },
	};
	char *text = NULL, *out = NULL;
	size_t len = 0;

	/* the text is what the FILE variant writes without colour, every file in turn */
	assert_int_equal(diff_unified_text(files, 3, &text), 4);
	FILE *m = open_memstream(&out, &len);
	assert_non_null(m);
	assert_int_equal(diff_unified_files(m, files, 3, false), 4);
	fclose(m);
	assert_string_equal(text, out);
	assert_string_equal(text, "--- /dev/null\n+++ u.service\n@@ -0,0 +1,2 @@\n+[Service]\n+X=1\n"
				  "--- d.conf\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-[Service]\n-MemoryMax=1G\n");
	free(text);
	free(out);

	/* nothing differs, or no files: an empty string, not NULL */
	text = NULL;
	assert_int_equal(diff_unified_text(files + 1, 1, &text), 0);
	assert_non_null(text);
	assert_string_equal(text, "");
	free(text);
	text = NULL;
	assert_int_equal(diff_unified_text(files, 0, &text), 0);
	assert_string_equal(text, "");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unit_edits),
		cmocka_unit_test(test_context_joins),
		cmocka_unit_test(test_new_and_removed),
		cmocka_unit_test(test_no_newline),
		cmocka_unit_test(test_ambiguous),
		cmocka_unit_test(test_random_like_gnu),
		cmocka_unit_test(test_colour),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_files_as_text),
	};
	return cmocka_run_group_tests_name("diff", tests, setup, teardown);
}
