/* test-txn.c - the transaction record (txn.h), trust checks (trust.h) and reading a binary once
 * (binary.h), in a temporary root */
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binary.h"
#include "fs.h"
#include "macro.h"
#include "sha256.h"
#include "strv.h"
#include "trust.h"
#include "txn.h"

static char root[] = "/tmp/berth-test-txn-XXXXXX";

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p);
}

static int group_setup(void **state)
{
	return mkdtemp(root) && chmod(root, 0755) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	return nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *P(const char *leaf)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 8];
	snprintf(b, PATH_MAX, "%s/%s", root, leaf);
	return b;
}

static void put(const char *path, const char *content, mode_t mode)
{
	assert_int_equal(fs_write_atomic(path, content, strlen(content), mode), 0);
}

static void test_record_round_trip(void **state)
{
	struct txn t = {
		.service = (char *)"web",
		.op = (char *)"deploy",
		.from = (char *)"v1",
		.to = (char *)"v2",
		.step = (char *)"begin",
		.pid = 4242,
		.started_usec = 123456789,
		.had_unit = true,
		.had_dropin = false,
		.was_active = true,
		.was_enabled = true,
		.unit_old = (char *)"# Managed by berth\n[Service]\nEnvironment=SECRET=x\n",
		.unit_new = (char *)"# Managed by berth\n[Service]\n",
		.manifest_new = (char *)"[service]\nname = web\n",
	};
	struct txn l = { 0 };

	assert_false(txn_exists(root, "web"));
	assert_int_equal(txn_load(root, "web", &l), -ENOENT);
	assert_int_equal(txn_begin(root, &t), 0);
	assert_true(txn_exists(root, "web"));
	/* one record per service at a time */
	assert_int_equal(txn_begin(root, &t), -EEXIST);

	struct stat st;
	assert_int_equal(lstat(P("web/txn"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(lstat(P("web/txn/unit.old"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(lstat(P("web/txn/dropin.old"), &st), -1);

	assert_int_equal(txn_load(root, "web", &l), 0);
	assert_string_equal(l.op, "deploy");
	assert_string_equal(l.from, "v1");
	assert_string_equal(l.to, "v2");
	assert_string_equal(l.step, "begin");
	assert_int_equal(l.pid, 4242);
	assert_int_equal(l.started_usec, 123456789);
	assert_true(l.had_unit && !l.had_dropin && l.was_active && l.was_enabled);
	assert_string_equal(l.unit_old, t.unit_old);
	assert_null(l.dropin_old);
	assert_string_equal(l.unit_new, t.unit_new);
	assert_string_equal(l.manifest_new, t.manifest_new);

	_cleanup_free_ char *record = NULL, *again = NULL;
	size_t len;
	assert_int_equal(fs_read_file(P("web/txn/record"), 4096, &record, &len), 0);
	assert_int_equal(txn_set_step(root, &l, "unit-write"), 0);
	assert_string_equal(l.step, "unit-write");
	txn_release(&l);
	assert_int_equal(txn_load(root, "web", &l), 0);
	assert_string_equal(l.step, "unit-write");
	/* the step goes to its own file: the durable record is never rewritten after the begin */
	assert_int_equal(fs_read_file(P("web/txn/record"), 4096, &again, &len), 0);
	assert_string_equal(again, record);
	assert_int_equal(lstat(P("web/txn/step"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(txn_set_step(root, &l, "bad\nstep"), -EINVAL);
	assert_int_equal(txn_set_step(root, &l, ""), -EINVAL);
	assert_string_equal(l.step, "unit-write");
	txn_release(&l);
	/* a step file a power loss left empty or cut short: the record's own step counts */
	put(P("web/txn/step"), "", 0600);
	assert_int_equal(txn_load(root, "web", &l), 0);
	assert_string_equal(l.step, "begin");
	txn_release(&l);
	put(P("web/txn/step"), "job-que", 0600);
	assert_int_equal(txn_load(root, "web", &l), 0);
	assert_string_equal(l.step, "begin");
	txn_release(&l);
	txn_release(NULL);

	/* a first deploy has no from */
	struct txn first = t;
	first.service = (char *)"new";
	first.from = NULL;
	first.had_unit = false;
	assert_int_equal(txn_begin(root, &first), 0);
	assert_int_equal(txn_load(root, "new", &l), 0);
	assert_null(l.from);
	assert_null(l.unit_old);
	txn_release(&l);

	/* a record being built when berth died is swept with the end */
	assert_int_equal(mkdir(P("web/.txn-0123456789abcdef"), 0700), 0);
	assert_int_equal(txn_end(root, "web"), 0);
	assert_false(txn_exists(root, "web"));
	assert_int_equal(lstat(P("web/.txn-0123456789abcdef"), &st), -1);
	assert_int_equal(txn_end(root, "web"), 0);
	assert_int_equal(txn_end(root, "new"), 0);

	/* values that would break the record are refused */
	struct txn bad = t;
	bad.service = (char *)"bad";
	bad.to = (char *)"v2\nfrom=evil";
	assert_int_equal(txn_begin(root, &bad), -EINVAL);
	assert_false(txn_exists(root, "bad"));
	bad.service = (char *)"../etc";
	assert_int_equal(txn_begin(root, &bad), -EINVAL);
}

static void test_damaged_record(void **state)
{
	struct txn l = { 0 };

	assert_int_equal(mkdir(P("dmg"), 0755), 0);
	assert_int_equal(mkdir(P("dmg/txn"), 0700), 0);
	/* no record file: a record that was never complete */
	assert_int_equal(txn_load(root, "dmg", &l), -EBADMSG);
	put(P("dmg/txn/record"), "format=1\nop=deploy\nto=v2\nhad_unit=1\n", 0600);
	/* says it saved a unit, but it is not there */
	assert_int_equal(txn_load(root, "dmg", &l), -EBADMSG);
	put(P("dmg/txn/record"), "format=2\nop=deploy\nto=v2\n", 0600);
	assert_int_equal(txn_load(root, "dmg", &l), -EBADMSG); /* a newer format is not guessed at */
	put(P("dmg/txn/record"), "format=1\nop=deploy\nto=v2\nwas_active=yes\n", 0600);
	assert_int_equal(txn_load(root, "dmg", &l), -EBADMSG);
	put(P("dmg/txn/record"), "format=1\nop=deploy\nto=v2\nnewer_key=1\n", 0600);
	assert_int_equal(txn_load(root, "dmg", &l), 0); /* unknown keys of a newer berth are fine */
	txn_release(&l);
}

static void test_trust(void **state)
{
	struct trust_problem tp;

	assert_int_equal(mkdir(P("t"), 0755), 0);
	put(P("t/ok.ini"), "x", 0644);
	assert_int_equal(trust_check_path(P("t/ok.ini"), &tp), 0);
	assert_null(tp.path);

	put(P("t/gw.ini"), "x", 0664);
	assert_int_equal(trust_check_path(P("t/gw.ini"), &tp), -EPERM);
	assert_string_equal(tp.path, P("t/gw.ini"));
	assert_string_equal(tp.problem, "is writable by group");
	char fix[PATH_MAX + 16];
	snprintf(fix, sizeof(fix), "chmod go-w %s", P("t/gw.ini"));
	assert_string_equal(tp.fix, fix);
	trust_problem_release(&tp);

	put(P("t/ow.ini"), "x", 0646);
	assert_int_equal(trust_check_path(P("t/ow.ini"), &tp), -EPERM);
	assert_string_equal(tp.problem, "is writable by others");
	trust_problem_release(&tp);

	/* another user's file, even read-only */
	put(P("t/user.ini"), "x", 0644);
	assert_int_equal(chown(P("t/user.ini"), 65534, 65534), 0);
	assert_int_equal(trust_check_path(P("t/user.ini"), &tp), -EPERM);
	assert_non_null(strstr(tp.problem, "uid 65534"));
	snprintf(fix, sizeof(fix), "chown root %s", P("t/user.ini"));
	assert_string_equal(tp.fix, fix);
	trust_problem_release(&tp);

	/* a directory above it anyone can write to */
	assert_int_equal(mkdir(P("t/open"), 0777), 0);
	assert_int_equal(chmod(P("t/open"), 0777), 0);
	put(P("t/open/x.ini"), "x", 0644);
	assert_int_equal(trust_check_path(P("t/open/x.ini"), &tp), -EPERM);
	assert_string_equal(tp.path, P("t/open"));
	assert_string_equal(tp.problem, "is writable by group and others");
	trust_problem_release(&tp);

	/* ... unless it is a root sticky directory, like /tmp */
	assert_int_equal(mkdir(P("t/sticky"), 0755), 0);
	assert_int_equal(chmod(P("t/sticky"), 01777), 0);
	put(P("t/sticky/x.ini"), "x", 0644);
	assert_int_equal(trust_check_path(P("t/sticky/x.ini"), &tp), 0);

	/* a symlink that belongs to someone else is not followed on trust */
	assert_int_equal(symlink(P("t/ok.ini"), P("t/link.ini")), 0);
	assert_int_equal(trust_check_path(P("t/link.ini"), &tp), 0);
	assert_int_equal(lchown(P("t/link.ini"), 65534, 65534), 0);
	assert_int_equal(trust_check_path(P("t/link.ini"), &tp), -EPERM);
	trust_problem_release(&tp);

	assert_int_equal(trust_check_path(P("t/none.ini"), &tp), -ENOENT);
	assert_int_equal(trust_check_path("", &tp), -EINVAL);

	assert_string_equal(trust_reserved_name("journal"), "/var/log/journal");
	assert_string_equal(trust_reserved_name("berth"), "/var/lib/berth");
	assert_string_equal(trust_reserved_name("private"), "/var/lib/private");
	assert_null(trust_reserved_name("hello"));
	assert_null(trust_reserved_name("journald"));
}

static void test_binary_image(void **state)
{
	struct binary_image img = { .fd = -1 };
	char hex[2 * SHA256_DIGEST_SIZE + 1];

	put(P("bin"), "not an ELF at all\n", 0755);
	assert_int_equal(binary_image_read(P("bin"), &img), 0);
	assert_int_equal(sha256_file(P("bin"), hex), 0);
	assert_string_equal(img.sha256, hex);
	assert_int_equal(img.size, 18);
	/* sealed: nobody can change the bytes berth judged and installs */
	assert_int_equal(write(img.fd, "x", 1), -1);
	assert_int_equal(ftruncate(img.fd, 1), -1);
	assert_int_equal(fcntl(img.fd, F_GET_SEALS) & (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
			 F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	/* replacing the caller's file afterwards changes nothing of what berth holds */
	put(P("bin"), "something else entirely\n", 0755);
	char buf[64] = "";
	assert_int_equal(pread(img.fd, buf, sizeof(buf) - 1, 0), 18);
	assert_string_equal(buf, "not an ELF at all\n");

	struct binary_verdict v = { 0 };
	assert_int_equal(binary_judge_image(&img, &v), 0);
	assert_non_null(v.error);
	assert_non_null(strstr(v.error, "not an ELF"));
	binary_verdict_release(&v);
	binary_image_release(&img);
	assert_int_equal(img.fd, -1);
	binary_image_release(&img);

	/* empty, missing, a directory, a FIFO (refused without blocking) */
	put(P("empty"), "", 0755);
	assert_int_equal(binary_image_read(P("empty"), &img), 0);
	assert_int_equal(binary_judge_image(&img, &v), 0);
	assert_non_null(strstr(v.error, "damaged or truncated"));
	binary_verdict_release(&v);
	binary_image_release(&img);
	assert_int_equal(binary_image_read(P("none"), &img), -ENOENT);
	assert_int_equal(binary_image_read(root, &img), -EISDIR);
	assert_int_equal(mkfifo(P("fifo"), 0600), 0);
	assert_int_equal(binary_image_read(P("fifo"), &img), -EINVAL);
	assert_int_equal(binary_judge(P("fifo"), &v), 0);
	assert_string_equal(v.error, "not a regular file");
	binary_verdict_release(&v);
}

/* A release berth installed is judged in place, and the verdict is the one a full read gives. */
static void test_binary_judge_release(void **state)
{
	struct binary_verdict full = { 0 }, mapped = { 0 };
	_cleanup_free_ char *self = realpath("/proc/self/exe", NULL);

	assert_non_null(self);
	assert_int_equal(binary_judge(self, &full), 0);
	assert_int_equal(binary_judge_release(self, &mapped), 0);
	assert_null(full.error);
	assert_null(mapped.error);
	assert_string_equal(mapped.info.arch, full.info.arch);
	assert_int_equal(mapped.info.is_go, full.info.is_go);
	assert_int_equal(strv_length(mapped.warnings), strv_length(full.warnings));
	binary_verdict_release(&full);
	binary_verdict_release(&mapped);

	put(P("rel-text"), "not an ELF at all\n", 0755);
	assert_int_equal(binary_judge_release(P("rel-text"), &mapped), 0);
	assert_non_null(strstr(mapped.error, "not an ELF"));
	binary_verdict_release(&mapped);
	put(P("rel-empty"), "", 0755);
	assert_int_equal(binary_judge_release(P("rel-empty"), &mapped), 0);
	assert_non_null(strstr(mapped.error, "damaged or truncated"));
	binary_verdict_release(&mapped);
	/* never through a symlink, never anything but a regular file */
	assert_int_equal(symlink(self, P("rel-link")), 0);
	assert_int_equal(binary_judge_release(P("rel-link"), &mapped), -ELOOP);
	assert_int_equal(mkfifo(P("rel-fifo"), 0600), 0);
	assert_int_equal(binary_judge_release(P("rel-fifo"), &mapped), -EINVAL);
	assert_int_equal(binary_judge_release(root, &mapped), -EINVAL);
	assert_int_equal(binary_judge_release(P("rel-none"), &mapped), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_damaged_record),
		cmocka_unit_test(test_trust),
		cmocka_unit_test(test_binary_image),
		cmocka_unit_test(test_binary_judge_release),
	};
	return cmocka_run_group_tests_name("txn", tests, group_setup, group_teardown);
}
