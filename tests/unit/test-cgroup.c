/* test-cgroup.c - cgroup value parsers, the comparison with systemd's view, the nofile check, the
 * persisted-limits drop-in, the cgroup layout and ids, and (as root, on a host with a v1 memory
 * hierarchy) a real read-back */
#include "test.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "cgroup.h"
#include "macro.h"
#include "size.h"
#include "sockdiag.h"
#include "strv.h"

#define M (UINT64_C(1) << 20)

/* ---- parsers ---- */

struct value_case {
	const char *s;
	int r;
	uint64_t v;
};

static void test_parse_value(void **state)
{
	static const struct value_case cases[] = {
		{ "0", 0, 0 },
		{ "123", 0, 123 },
		{ "123\n", 0, 123 },
		{ "268435456", 0, 268435456 },
		{ "max", 0, UINT64_MAX },
		{ "max\n", 0, UINT64_MAX },
		{ "18446744073709551614", 0, UINT64_MAX - 1 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "\n", -EINVAL, 0 },
		{ "12a", -EINVAL, 0 },
		{ " 12", -EINVAL, 0 },
		{ "12\n\n", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "maxx", -EINVAL, 0 },
		{ "MAX", -EINVAL, 0 },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 42;
		int r = cgroup_parse_value(cases[i].s, &v);
		if (r != cases[i].r)
			fail_msg("cgroup_parse_value(\"%s\") = %d, expected %d", cases[i].s, r, cases[i].r);
		if (r == 0)
			assert_true(v == cases[i].v);
		else
			assert_true(v == 42); /* untouched on failure */
	}
}

static void test_parse_v1_value(void **state)
{
	static const struct value_case cases[] = {
		{ "67108864", 0, 64 * M },
		{ "67108864\n", 0, 64 * M },
		{ "-1", 0, UINT64_MAX },
		{ "-1\n", 0, UINT64_MAX },
		{ "9223372036854771712", 0, UINT64_MAX }, /* PAGE_COUNTER_MAX with 4K pages */
		{ "9223372036854710272", 0, UINT64_MAX }, /* 64K pages */
		{ "9223372036854775807", 0, UINT64_MAX },
		{ "4611686018427387904", 0, UINT64_C(4611686018427387904) }, /* 4 EiB is still a number */
		{ "0", 0, 0 },
		{ "max", -EINVAL, 0 },
		{ "-2", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 42;
		int r = cgroup_parse_v1_value(cases[i].s, &v);
		if (r != cases[i].r)
			fail_msg("cgroup_parse_v1_value(\"%s\") = %d, expected %d", cases[i].s, r, cases[i].r);
		if (r == 0 && v != cases[i].v)
			fail_msg("cgroup_parse_v1_value(\"%s\") = %" PRIu64, cases[i].s, v);
	}
}

static void test_parse_cpu_max(void **state)
{
	uint64_t q = 1, p = 1;

	assert_int_equal(cgroup_parse_cpu_max("max 100000", &q, &p), 0);
	assert_true(q == UINT64_MAX);
	assert_true(p == 100000);
	assert_int_equal(cgroup_parse_cpu_max("50000 100000\n", &q, &p), 0);
	assert_true(q == 50000);
	assert_true(p == 100000);
	assert_int_equal(cgroup_parse_cpu_max("1000 10000", &q, &p), 0);
	assert_true(q == 1000 && p == 10000);

	q = p = 7;
	assert_int_equal(cgroup_parse_cpu_max("50000", &q, &p), -EINVAL);
	assert_int_equal(cgroup_parse_cpu_max("", &q, &p), -EINVAL);
	assert_int_equal(cgroup_parse_cpu_max("50000  100000", &q, &p), -EINVAL);
	assert_int_equal(cgroup_parse_cpu_max("max max", &q, &p), -EINVAL);
	assert_int_equal(cgroup_parse_cpu_max("max 0", &q, &p), -EINVAL);
	assert_int_equal(cgroup_parse_cpu_max("-1 100000", &q, &p), -EINVAL);
	assert_int_equal(cgroup_parse_cpu_max("50000 100000 1", &q, &p), -EINVAL);
	assert_int_equal(cgroup_parse_cpu_max("99999999999999999999 100000", &q, &p), -ERANGE);
	assert_true(q == 7 && p == 7);
}

static void test_parse_keyed(void **state)
{
	static const char events[] = "low 0\nhigh 12\nmax 345\noom 3\noom_kill 2\noom_group_kill 0\n";
	static const char cpu_stat[] = "usage_usec 350976\nuser_usec 250000\nsystem_usec 100976\n"
				       "nr_periods 40\nnr_throttled 17\nthrottled_usec 812345\n"
				       "nr_bursts 0\nburst_usec 0";
	static const char oom_control[] = "oom_kill_disable 0\nunder_oom 0\noom_kill 5";
	uint64_t v = 0;

	assert_int_equal(cgroup_parse_keyed(events, "oom_kill", &v), 0);
	assert_true(v == 2);
	assert_int_equal(cgroup_parse_keyed(events, "oom", &v), 0);
	assert_true(v == 3);
	assert_int_equal(cgroup_parse_keyed(events, "max", &v), 0);
	assert_true(v == 345);
	assert_int_equal(cgroup_parse_keyed(cpu_stat, "usage_usec", &v), 0);
	assert_true(v == 350976);
	assert_int_equal(cgroup_parse_keyed(cpu_stat, "nr_throttled", &v), 0);
	assert_true(v == 17);
	assert_int_equal(cgroup_parse_keyed(cpu_stat, "throttled_usec", &v), 0);
	assert_true(v == 812345);
	assert_int_equal(cgroup_parse_keyed(cpu_stat, "burst_usec", &v), 0); /* last line, no newline */
	assert_true(v == 0);
	/* "oom_kill" must not match "oom_kill_disable" on the line before */
	assert_int_equal(cgroup_parse_keyed(oom_control, "oom_kill", &v), 0);
	assert_true(v == 5);

	v = 99;
	assert_int_equal(cgroup_parse_keyed(events, "oom_kil", &v), -ENOENT);
	assert_int_equal(cgroup_parse_keyed(cpu_stat, "throttled_time", &v), -ENOENT);
	assert_int_equal(cgroup_parse_keyed("", "oom_kill", &v), -ENOENT);
	assert_int_equal(cgroup_parse_keyed("oom_kill\n", "oom_kill", &v), -ENOENT);
	assert_int_equal(cgroup_parse_keyed("oom_kill x\n", "oom_kill", &v), -EINVAL);
	assert_int_equal(cgroup_parse_keyed("oom_kill \n", "oom_kill", &v), -EINVAL);
	assert_int_equal(cgroup_parse_keyed("oom_kill 99999999999999999999\n", "oom_kill", &v), -ERANGE);
	assert_int_equal(cgroup_parse_keyed(events, "", &v), -EINVAL);
	assert_true(v == 99);
}

static void test_version(void **state)
{
	enum cgroup_version v = 0;

	assert_int_equal(cgroup_version_from_fs_type(CGROUP2_SUPER_MAGIC, &v), 0);
	assert_int_equal(v, BERTH_CGROUP_V2);
	assert_int_equal(cgroup_version_from_fs_type(TMPFS_MAGIC, &v), 0);
	assert_int_equal(v, BERTH_CGROUP_V1);
	v = 0;
	assert_int_equal(cgroup_version_from_fs_type(EXT4_SUPER_MAGIC, &v), -ENOMEDIUM);
	assert_int_equal(v, 0);
}

static void test_layout(void **state)
{
	enum cgroup_layout l = 7;

	assert_int_equal(cgroup_layout_from_fs_types(CGROUP2_SUPER_MAGIC, 0, &l), 0);
	assert_int_equal(l, CGROUP_LAYOUT_UNIFIED);
	/* a unified/ below a cgroup2 root is just a group called "unified" */
	assert_int_equal(cgroup_layout_from_fs_types(CGROUP2_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, &l), 0);
	assert_int_equal(l, CGROUP_LAYOUT_UNIFIED);
	assert_int_equal(cgroup_layout_from_fs_types(TMPFS_MAGIC, CGROUP2_SUPER_MAGIC, &l), 0);
	assert_int_equal(l, CGROUP_LAYOUT_HYBRID);
	assert_int_equal(cgroup_layout_from_fs_types(TMPFS_MAGIC, 0, &l), 0);
	assert_int_equal(l, CGROUP_LAYOUT_LEGACY);
	assert_int_equal(cgroup_layout_from_fs_types(TMPFS_MAGIC, CGROUP_SUPER_MAGIC, &l), 0);
	assert_int_equal(l, CGROUP_LAYOUT_LEGACY);
	l = 7;
	assert_int_equal(cgroup_layout_from_fs_types(EXT4_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, &l), -ENOMEDIUM);
	assert_int_equal(l, 7);

	assert_string_equal(cgroup_v2_mount(CGROUP_LAYOUT_UNIFIED), "/sys/fs/cgroup");
	assert_string_equal(cgroup_v2_mount(CGROUP_LAYOUT_HYBRID), "/sys/fs/cgroup/unified");
	assert_null(cgroup_v2_mount(CGROUP_LAYOUT_LEGACY));
}

static void test_get_id_bad_paths(void **state)
{
	static const char *const bad[] = { "", "/..", "/system.slice/../x", "/a//b", "/a/./b", "/a/" };
	uint64_t id = 42;

	assert_int_equal(cgroup_get_id(NULL, &id), -EINVAL);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(cgroup_get_id(bad[i], &id), -EINVAL);
	assert_true(id == 42);
}

/* The cgroup2 mount point in /proc/self/mountinfo, an independent view of the layout. */
static bool cgroup2_mount_point(char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];

	while (f && fgets(line, sizeof(line), f)) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char mnt[512], *dash = strstr(line, " - ");
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1 && strlen(mnt) < size) {
			strcpy(buf, mnt);
			return true;
		}
	}
	return false;
}

/* On this host, whatever its layout: the id is the inode in the hierarchy that is really cgroup2
 * (on a hybrid host /sys/fs/cgroup/unified, not the tmpfs at /sys/fs/cgroup), and a socket of
 * ours is reported by sock_diag with the id of our own cgroup. */
static void test_get_id_host(void **state)
{
	char mnt[512], own[512] = "", line[600], group[600];
	struct listen_socket *ls = NULL;
	struct statfs fs;
	struct stat st;
	uint64_t id = 0, own_id = 0;
	size_t n = 0;

	if (!cgroup2_mount_point(mnt, sizeof(mnt))) {
		assert_int_equal(cgroup_get_id("/", &id), -ENOMEDIUM);
		print_message("# SKIP: no cgroup2 hierarchy mounted\n");
		skip();
	}
	assert_int_equal(statfs(mnt, &fs), 0);
	assert_true((uint64_t)fs.f_type == CGROUP2_SUPER_MAGIC);
	assert_int_equal(stat(mnt, &st), 0);
	assert_int_equal(cgroup_get_id("/", &id), 0);
	assert_true(id == (uint64_t)st.st_ino);

	enum cgroup_layout layout;
	assert_int_equal(cgroup_detect_layout(&layout), 0);
	assert_non_null(cgroup_v2_mount(layout));
	assert_string_equal(cgroup_v2_mount(layout), mnt);

	/* our own group, as the kernel names it in /proc/self/cgroup's "0::" line */
	FILE *f = fopen("/proc/self/cgroup", "re");
	assert_non_null(f);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0)
			snprintf(own, sizeof(own), "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
	if (f)
		fclose(f);
	assert_true(own[0] == '/');
	assert_int_equal(cgroup_get_id(own, &own_id), 0);
	snprintf(group, sizeof(group), "%s%s", mnt, own);
	assert_int_equal(stat(group, &st), 0);
	assert_true(own_id == (uint64_t)st.st_ino);
	assert_int_equal(cgroup_get_id("/berth-no-such-group", &id), -ENOENT);

	/* what sock_diag says about a socket of ours (kernel >= 5.7 reports cgroup ids) */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(sockdiag_listeners(ntohs(a.sin_port), &ls, &n), 0);
	assert_int_equal(n, 1);
	if (ls && n == 1 && ls[0].cgroup_id != 0)
		assert_true(ls[0].cgroup_id == own_id);
	free(ls);
	close(fd);
}

/* As root on a host with cgroup2: a group of our own below its root has its own id (not the
 * root's 1, which every layout's mount point shares). */
static void test_get_id_child(void **state)
{
	char mnt[512], path[600], name[64];
	struct stat st;
	uint64_t id = 0;

	if (geteuid() != 0 || !cgroup2_mount_point(mnt, sizeof(mnt))) {
		print_message("# SKIP: needs root and a cgroup2 hierarchy\n");
		skip();
	}
	snprintf(name, sizeof(name), "/berth-test-id-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s%s", mnt, name);
	if (mkdir(path, 0755) < 0) {
		print_message("# SKIP: cannot create %s: %s\n", path, strerror(errno));
		skip();
	}
	int r = cgroup_get_id(name, &id);
	int s = stat(path, &st);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(r, 0);
	assert_int_equal(s, 0);
	assert_true(id == (uint64_t)st.st_ino);
	assert_true(id != 1);
}

static void test_field_names(void **state)
{
	const char *key = "x";

	assert_string_equal(cgroup_field_file(CGROUP_FIELD_MEMORY_MAX, BERTH_CGROUP_V2, &key), "memory.max");
	assert_null(key);
	assert_string_equal(cgroup_field_file(CGROUP_FIELD_MEMORY_MAX, BERTH_CGROUP_V1, NULL), "memory.limit_in_bytes");
	assert_string_equal(cgroup_field_file(CGROUP_FIELD_OOM_KILLS, BERTH_CGROUP_V2, &key), "memory.events");
	assert_string_equal(key, "oom_kill");
	assert_string_equal(cgroup_field_file(CGROUP_FIELD_OOM_KILLS, BERTH_CGROUP_V1, &key), "memory.oom_control");
	assert_string_equal(key, "oom_kill");
	assert_string_equal(cgroup_field_file(CGROUP_FIELD_THROTTLED, BERTH_CGROUP_V1, &key), "cpu.stat");
	assert_string_equal(key, "throttled_time");
	assert_string_equal(cgroup_field_file(CGROUP_FIELD_CPU_USAGE, BERTH_CGROUP_V1, NULL), "cpuacct.usage");
	assert_string_equal(cgroup_field_file(CGROUP_FIELD_CPU_QUOTA, BERTH_CGROUP_V2, NULL), "cpu.max");
	assert_string_equal(cgroup_field_file(CGROUP_FIELD_CPU_QUOTA, BERTH_CGROUP_V1, NULL), "cpu.cfs_quota_us");
	assert_string_equal(cgroup_field_file(CGROUP_FIELD_TASKS_MAX, BERTH_CGROUP_V1, NULL), "pids.max");
	assert_null(cgroup_field_file(CGROUP_FIELD_MEMORY_HIGH, BERTH_CGROUP_V1, NULL));

	/* every bit has a distinct name and v2 has a file for it */
	for (unsigned i = 0; i < CGROUP_FIELD_COUNT; i++) {
		const char *n = cgroup_field_name(1u << i);
		assert_non_null(n);
		assert_non_null(cgroup_field_file(1u << i, BERTH_CGROUP_V2, NULL));
		for (unsigned k = 0; k < i; k++)
			assert_string_not_equal(n, cgroup_field_name(1u << k));
	}
	assert_string_equal(cgroup_field_name(CGROUP_FIELD_MEMORY_MAX), "memory_max");
	assert_null(cgroup_field_name(CGROUP_FIELD_MEMORY_MAX | CGROUP_FIELD_MEMORY_HIGH));
	assert_null(cgroup_field_name(0));
}

static void test_read_bad_paths(void **state)
{
	struct cgroup_usage u = { .version = 7 };

	assert_int_equal(cgroup_read(NULL, &u), -EINVAL);
	assert_int_equal(cgroup_read("", &u), -EINVAL);
	assert_int_equal(cgroup_read("/", &u), -EINVAL);
	assert_int_equal(cgroup_read("system.slice/../x", &u), -EINVAL);
	assert_int_equal(cgroup_read("./x", &u), -EINVAL);
	assert_int_equal(cgroup_read("a//b", &u), -EINVAL);
	assert_int_equal(cgroup_read("a/", &u), -EINVAL);
	assert_int_equal(u.version, 7);
}

/* ---- comparison ---- */

static struct cgroup_usage v2_usage(void)
{
	return (struct cgroup_usage){
		.version = BERTH_CGROUP_V2,
		.memory_current = 6 * M,
		.memory_max = 128 * M,
		.memory_high = UINT64_MAX,
		.memory_peak = 7 * M,
		.swap_max = UINT64_MAX,
		.oom_kills = 0,
		.cpu_usage_usec = 1000,
		.nr_periods = 10,
		.nr_throttled = 2,
		.throttled_usec = 500,
		.cpu_quota_usec = 30000,
		.cpu_period_usec = 100000,
		.tasks_current = 6,
		.tasks_max = 77,
	};
}

static struct unit_status want_status(void)
{
	return (struct unit_status){
		.memory_current = 6 * M,
		.memory_max = 128 * M,
		.memory_high = UINT64_MAX,
		.memory_swap_max = UINT64_MAX,
		.cpu_quota_per_sec_usec = 300000,
		.tasks_max = 77,
	};
}

static int compare(const struct cgroup_usage *u, const struct unit_status *w, char ***ret)
{
	int n = cgroup_compare(u, w, ret);
	assert_true(n >= 0);
	assert_non_null(*ret);
	assert_int_equal((size_t)n, strv_length(*ret));
	return n;
}

static void test_compare_match(void **state)
{
	struct cgroup_usage u = v2_usage();
	struct unit_status w = want_status();
	_cleanup_strv_free_ char **l = NULL;

	assert_int_equal(compare(&u, &w, &l), 0);
	l = strv_free(l);

	/* the kernel rounds memory down to pages */
	w.memory_max = 100000000;
	u.memory_max = 99999744;
	assert_int_equal(compare(&u, &w, &l), 0);
	l = strv_free(l);

	/* systemd writes at least 1ms per period: 0.5% of a CPU is "1000 100000" */
	w.cpu_quota_per_sec_usec = 5000;
	u.cpu_quota_usec = 1000;
	assert_int_equal(compare(&u, &w, &l), 0);
	l = strv_free(l);

	/* another period: 150% with 50ms periods */
	w.cpu_quota_per_sec_usec = 1500000;
	u.cpu_quota_usec = 75000;
	u.cpu_period_usec = 50000;
	assert_int_equal(compare(&u, &w, &l), 0);
	l = strv_free(l);

	/* nothing asked, nothing enforced; missing values do not matter then */
	w = want_status();
	w.memory_max = w.cpu_quota_per_sec_usec = w.tasks_max = UINT64_MAX;
	u = v2_usage();
	u.memory_max = UINT64_MAX;
	u.cpu_quota_usec = UINT64_MAX;
	u.tasks_max = UINT64_MAX;
	u.missing = CGROUP_FIELD_MEMORY_HIGH | CGROUP_FIELD_SWAP_MAX;
	assert_int_equal(compare(&u, &w, &l), 0);
}

static void test_compare_mismatch(void **state)
{
	struct cgroup_usage u = v2_usage();
	struct unit_status w = want_status();
	_cleanup_strv_free_ char **l = NULL;

	u.memory_max = UINT64_MAX;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_string_equal(l[0], "memory.max is max but systemd was asked for 128M: is the memory controller enabled for this slice?");
	l = strv_free(l);

	u = v2_usage();
	u.missing = CGROUP_FIELD_MEMORY_MAX;
	u.memory_max = UINT64_MAX;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_string_equal(l[0], "memory.max cannot be read but systemd was asked for 128M: is the memory controller enabled for this slice?");
	l = strv_free(l);

	u = v2_usage();
	u.memory_max = 64 * M;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_non_null(strstr(l[0], "memory.max is 64M but systemd was asked for 128M"));
	l = strv_free(l);

	/* more than a page above is not rounding */
	u = v2_usage();
	u.memory_max = 128 * M + 4096;
	assert_int_equal(compare(&u, &w, &l), 1);
	l = strv_free(l);

	u = v2_usage();
	w.memory_high = 96 * M;
	w.memory_swap_max = 0;
	assert_int_equal(compare(&u, &w, &l), 2);
	assert_string_equal(l[0], "memory.high is max but systemd was asked for 96M: is the memory controller enabled for this slice?");
	assert_string_equal(l[1], "memory.swap.max is max but systemd was asked for 0: is the memory controller enabled for this slice?");
	l = strv_free(l);

	w = want_status();
	u.cpu_quota_usec = UINT64_MAX;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_string_equal(l[0], "cpu.max is max but systemd was asked for 30%: is the cpu controller enabled for this slice?");
	l = strv_free(l);

	u = v2_usage();
	u.cpu_quota_usec = 50000;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_non_null(strstr(l[0], "cpu.max is 50000 100000 (50%) but systemd was asked for 30%"));
	l = strv_free(l);

	u = v2_usage();
	u.missing = CGROUP_FIELD_CPU_QUOTA | CGROUP_FIELD_CPU_PERIOD | CGROUP_FIELD_TASKS_MAX;
	assert_int_equal(compare(&u, &w, &l), 2);
	assert_string_equal(l[0], "cpu.max cannot be read but systemd was asked for 30%: is the cpu controller enabled for this slice?");
	assert_string_equal(l[1], "pids.max cannot be read but systemd was asked for 77: is the pids controller enabled for this slice?");
	l = strv_free(l);

	u = v2_usage();
	u.tasks_max = 78;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_non_null(strstr(l[0], "pids.max is 78 but systemd was asked for 77"));
	l = strv_free(l);

	/* a limit systemd was not asked for */
	u = v2_usage();
	w.memory_max = UINT64_MAX;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_non_null(strstr(l[0], "memory.max is 128M but systemd was asked for no limit"));
	l = strv_free(l);

	/* v1 names; MemoryHigh and MemorySwapMax are not compared there (systemd cannot set them) */
	u = v2_usage();
	u.version = BERTH_CGROUP_V1;
	u.memory_max = UINT64_MAX;
	u.memory_high = UINT64_MAX;
	u.missing = CGROUP_FIELD_MEMORY_HIGH;
	w = want_status();
	w.memory_high = 96 * M;
	w.memory_swap_max = 0;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_string_equal(l[0], "memory.limit_in_bytes is max but systemd was asked for 128M: is the memory controller enabled for this slice?");
	l = strv_free(l);
	u.memory_max = 128 * M;
	u.cpu_quota_usec = 20000;
	assert_int_equal(compare(&u, &w, &l), 1);
	assert_non_null(strstr(l[0], "cpu.cfs_quota_us is 20000 per 100000 (20%) but systemd was asked for 30%"));
}

/* ---- nofile ---- */

static void test_nofile(void **state)
{
	uint64_t nr_open = 0;

	assert_int_equal(cgroup_nofile_fits(1024, 1048576), 0);
	assert_int_equal(cgroup_nofile_fits(1048576, 1048576), 0);
	assert_int_equal(cgroup_nofile_fits(1048577, 1048576), -ERANGE);

	/* the real file: the kernel's floor for nr_open is 1024 (NR_OPEN_MIN is BITS_PER_LONG) */
	assert_int_equal(cgroup_check_nofile(64, &nr_open), 0);
	assert_true(nr_open >= 64);
	assert_int_equal(cgroup_check_nofile(64, NULL), 0);
	nr_open = 0;
	assert_int_equal(cgroup_check_nofile(UINT64_MAX - 1, &nr_open), -ERANGE);
	assert_true(nr_open > 0); /* named in the refusal */
}

/* ---- the persisted-limits drop-in ---- */

static void manifest_defaults(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->name = (char *)"web";
	m->memory_max = SIZE_UNSET;
	m->memory_high = SIZE_UNSET;
	m->memory_swap_max = SIZE_UNSET;
	m->tasks_max = U64_UNSET;
	m->nofile = U64_UNSET;
	m->cpu_weight = U64_UNSET;
	m->io_weight = U64_UNSET;
}

static void test_limits_roundtrip(void **state)
{
	struct cgroup_limits set, base, set2, base2;
	_cleanup_free_ char *text = NULL, *text2 = NULL;

	cgroup_limits_init(&set);
	cgroup_limits_init(&base);
	assert_true(cgroup_limits_is_empty(&set));
	assert_int_equal(cgroup_limits_format("web", &set, &base, NULL, NULL, &text), -ENODATA);
	assert_null(text);

	set.cpu_quota_percent = 30;
	set.memory_max = 96 * M;
	set.memory_swap_max = 0;
	set.tasks_max = SIZE_INFINITY;
	base.cpu_quota_percent = 150;
	base.memory_max = 64 * M;
	/* swap and tasks: not in the manifest (unset) */
	assert_int_equal(cgroup_limits_format("web", &set, &base, NULL, NULL, &text), 0);
	assert_true(startswith(text, CGROUP_LIMITS_MARKER));
	assert_non_null(strstr(text, "\n[Service]\nCPUQuota=30%\nMemoryMax=96M\nMemorySwapMax=0\nTasksMax=infinity\n"));
	assert_non_null(strstr(text, "\n[X-Berth-Limits]\nManifestCPUQuota=150%\nManifestMemoryMax=64M\n"
				     "ManifestMemorySwapMax=\nManifestTasksMax=\n"));
	assert_null(strstr(text, "MemoryHigh"));
	assert_null(strstr(text, "Environment"));

	assert_int_equal(cgroup_limits_parse(text, &set2, &base2), 0);
	assert_memory_equal(&set, &set2, sizeof(set));
	assert_memory_equal(&base, &base2, sizeof(base));
	assert_int_equal(cgroup_limits_format("web", &set2, &base2, NULL, NULL, &text2), 0);
	assert_string_equal(text, text2);

	/* no CPU quota is an empty CPUQuota= (systemd's reset) */
	free(text);
	text = NULL;
	cgroup_limits_init(&set);
	cgroup_limits_init(&base);
	set.cpu_quota_percent = SIZE_INFINITY;
	base.cpu_quota_percent = 50;
	assert_int_equal(cgroup_limits_format("web", &set, &base, NULL, NULL, &text), 0);
	assert_non_null(strstr(text, "\nCPUQuota=\n"));
	assert_int_equal(cgroup_limits_parse(text, &set2, &base2), 0);
	assert_true(set2.cpu_quota_percent == SIZE_INFINITY);
	assert_true(base2.cpu_quota_percent == 50);
	assert_true(set2.memory_max == SIZE_UNSET);
}

static void test_limits_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"[Service]\nMemoryMax=96M\n",                                 /* no marker */
		"# Managed by berth\n[Service]\nMemoryMax=96Q\n",             /* bad value */
		"# Managed by berth\n[Service]\nMemoryMax=\n",                /* empty size */
		"# Managed by berth\n[Service]\nCPUQuota=0%\n",
		"# Managed by berth\n[Service]\nTasksMax=0\n",
		"# Managed by berth\n[Service]\nExecStart=/bin/sh\n",         /* not ours */
		"# Managed by berth\n[Unit]\nAfter=x.service\n",
		"# Managed by berth\nMemoryMax=96M\n",                         /* outside a section */
		"# Managed by berth\n[Service]\nMemoryMax\n",
		"# Managed by berth\n[X-Berth-Limits]\nMemoryMax=96M\n",      /* wrong section for it */
	};
	struct cgroup_limits set, base;

	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		set.memory_max = 42;
		int r = cgroup_limits_parse(bad[i], &set, &base);
		if (r != -EBADMSG)
			fail_msg("parse of bad drop-in %zu: %d", i, r);
		assert_true(set.memory_max == 42);
	}
	/* derived lines, comments, CRLF and a baseline without its limit are fine */
	assert_int_equal(cgroup_limits_parse("# Managed by berth\r\n; comment\r\n[Service]\r\nTasksMax=50\r\n"
					     "Environment=GOMAXPROCS=1\r\nUnsetEnvironment=GOMEMLIMIT\r\n\r\n"
					     "[X-Berth-Limits]\r\nManifestTasksMax=infinity\r\nManifestMemoryMax=1G\r\n",
					     &set, &base),
			 0);
	assert_true(set.tasks_max == 50);
	assert_true(base.tasks_max == SIZE_INFINITY);
	assert_true(base.memory_max == SIZE_UNSET);
	assert_true(set.memory_max == SIZE_UNSET);
}

static void test_limits_go_lines(void **state)
{
	struct cgroup_limits set, base;
	struct manifest m, eff;
	struct go_decision go_unit, go_now;
	_cleanup_free_ char *text = NULL;

	manifest_defaults(&m);
	m.cpu_quota_percent = 150;
	m.memory_max = 64 * M;
	m.gomemlimit_mode = GO_MODE_AUTO;
	cgroup_limits_init(&set);
	cgroup_limits_init(&base);
	set.cpu_quota_percent = 30;
	set.memory_max = 100 * M;
	base.cpu_quota_percent = 150;
	base.memory_max = 64 * M;

	cgroup_limits_apply(&set, &m, &eff);
	assert_int_equal(eff.cpu_quota_percent, 30);
	assert_true(eff.memory_max == 100 * M);
	assert_int_equal(m.cpu_quota_percent, 150); /* the manifest is left alone */

	/* an old Go (binary unknown) on 2 CPUs: 150% gives 2, 30% gives 1 */
	go_decide(&m, NULL, 2, &go_unit);
	go_decide(&eff, NULL, 2, &go_now);
	assert_int_equal(go_unit.gomaxprocs, 2);
	assert_int_equal(go_now.gomaxprocs, 1);
	assert_int_equal(cgroup_limits_format("web", &set, &base, &go_unit, &go_now, &text), 0);
	assert_non_null(strstr(text, "\nEnvironment=GOMAXPROCS=1\n"));
	/* 90% of 100M */
	assert_non_null(strstr(text, "\nEnvironment=GOMEMLIMIT=94371840B\n"));
	free(text);
	text = NULL;

	/* no quota any more: the unit's GOMAXPROCS=2 must go */
	set.cpu_quota_percent = SIZE_INFINITY;
	set.memory_max = SIZE_UNSET;
	base.memory_max = SIZE_UNSET;
	cgroup_limits_apply(&set, &m, &eff);
	assert_int_equal(eff.cpu_quota_percent, 0);
	go_decide(&eff, NULL, 2, &go_now);
	assert_int_equal(cgroup_limits_format("web", &set, &base, &go_unit, &go_now, &text), 0);
	assert_non_null(strstr(text, "\nUnsetEnvironment=GOMAXPROCS\n"));
	assert_null(strstr(text, "GOMEMLIMIT"));
}

static void test_limits_reconcile(void **state)
{
	struct cgroup_limits set, base, man;

	cgroup_limits_init(&set);
	cgroup_limits_init(&base);
	cgroup_limits_init(&man);
	set.cpu_quota_percent = 30;     /* manifest unchanged (150%): kept */
	base.cpu_quota_percent = 150;
	set.memory_max = 96 * M;        /* manifest changed 64M → 128M: the manifest wins */
	base.memory_max = 64 * M;
	set.tasks_max = 50;             /* the manifest now says 50 itself: redundant */
	base.tasks_max = U64_UNSET;
	set.memory_high = 80 * M;       /* manifest still without memory_high: kept */
	man.cpu_quota_percent = 150;
	man.memory_max = 128 * M;
	man.tasks_max = 50;

	assert_true(cgroup_limits_reconcile(&set, &base, &man));
	assert_true(set.cpu_quota_percent == 30);
	assert_true(base.cpu_quota_percent == 150);
	assert_true(set.memory_max == SIZE_UNSET);
	assert_true(base.memory_max == SIZE_UNSET);
	assert_true(set.tasks_max == U64_UNSET);
	assert_true(set.memory_high == 80 * M);
	assert_false(cgroup_limits_reconcile(&set, &base, &man));

	/* a manifest that drops a key it had is a change too */
	man.cpu_quota_percent = U64_UNSET;
	assert_true(cgroup_limits_reconcile(&set, &base, &man));
	assert_true(set.cpu_quota_percent == U64_UNSET);
}

static void test_limits_update_for_manifest(void **state)
{
	struct cgroup_limits set, base;
	struct manifest m;
	struct go_decision gu, gn;
	struct manifest eff;
	_cleanup_free_ char *old = NULL, *same = NULL, *after = NULL;
	char *none = (char *)"x";

	manifest_defaults(&m);
	m.cpu_quota_percent = 150;
	m.memory_max = 64 * M;
	cgroup_limits_init(&set);
	cgroup_limits_init(&base);
	set.cpu_quota_percent = 30;
	base.cpu_quota_percent = 150;
	set.memory_max = 96 * M;
	base.memory_max = 64 * M;
	cgroup_limits_apply(&set, &m, &eff);
	go_decide(&m, NULL, 2, &gu);
	go_decide(&eff, NULL, 2, &gn);
	assert_int_equal(cgroup_limits_format("web", &set, &base, &gu, &gn, &old), 0);

	/* no drop-in: nothing to do */
	assert_int_equal(cgroup_limits_update_for_manifest(NULL, &m, NULL, 2, &none), 0);
	assert_null(none);

	/* the same manifest: the same file */
	assert_int_equal(cgroup_limits_update_for_manifest(old, &m, NULL, 2, &same), 0);
	assert_string_equal(old, same);

	/* the manifest changed memory: MemoryMax goes, CPUQuota and GOMAXPROCS stay; GOMEMLIMIT
	 * comes from the unit again */
	m.memory_max = 128 * M;
	assert_int_equal(cgroup_limits_update_for_manifest(old, &m, NULL, 2, &after), 0);
	assert_non_null(after);
	assert_null(strstr(after, "MemoryMax"));
	assert_null(strstr(after, "GOMEMLIMIT"));
	assert_non_null(strstr(after, "\nCPUQuota=30%\n"));
	assert_non_null(strstr(after, "\nEnvironment=GOMAXPROCS=1\n"));
	free(after);
	after = NULL;

	/* and cpu too: nothing left, remove the file */
	m.cpu_quota_percent = 200;
	none = (char *)"x";
	assert_int_equal(cgroup_limits_update_for_manifest(old, &m, NULL, 2, &none), 0);
	assert_null(none);

	/* a file berth did not write is left alone */
	none = (char *)"x";
	assert_int_equal(cgroup_limits_update_for_manifest("[Service]\nMemoryMax=1G\n", &m, NULL, 2, &none), -EBADMSG);
	assert_string_equal(none, "x");
}

/* ---- the v1 read-back on the host ---- */

struct v1_group {
	char path[256];
	char name[64];
};

static bool have_v1_memory(void)
{
	struct statfs fs;
	enum cgroup_version v;

	if (cgroup_detect_version(&v) < 0 || v != BERTH_CGROUP_V1)
		return false;
	return statfs(CGROUP_ROOT "/memory", &fs) == 0 && (uint64_t)fs.f_type == CGROUP_SUPER_MAGIC;
}

static int v1_setup(void **state)
{
	static struct v1_group g;

	*state = NULL;
	if (geteuid() != 0 || !have_v1_memory())
		return 0; /* the test skips */
	snprintf(g.name, sizeof(g.name), "berth-test-%d", (int)getpid());
	snprintf(g.path, sizeof(g.path), CGROUP_ROOT "/memory/%s", g.name);
	if (mkdir(g.path, 0755) < 0) {
		fprintf(stderr, "# cannot create %s: %s\n", g.path, strerror(errno));
		return -1;
	}
	*state = &g;
	return 0;
}

static int v1_teardown(void **state)
{
	struct v1_group *g = *state;

	if (g && rmdir(g->path) < 0) {
		fprintf(stderr, "# cannot remove %s: %s\n", g->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void test_v1_read_back(void **state)
{
	struct v1_group *g = *state;
	struct cgroup_usage u;
	char file[300], name[80];

	if (!g) {
		print_message("# SKIP: needs root and a cgroup v1 memory hierarchy at " CGROUP_ROOT "/memory\n");
		skip();
	}
	snprintf(file, sizeof(file), "%s/memory.limit_in_bytes", g->path);
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t w = write(fd, "64M", 3);
	close(fd);
	assert_int_equal(w, 3);

	assert_int_equal(cgroup_read(g->name, &u), 0);
	assert_int_equal(u.version, BERTH_CGROUP_V1);
	assert_false(u.missing & CGROUP_FIELD_MEMORY_MAX);
	assert_true(u.memory_max == UINT64_C(67108864));
	assert_false(u.missing & CGROUP_FIELD_MEMORY_CURRENT);
	assert_true(u.memory_current == 0); /* nobody in it */
	assert_true(u.missing & CGROUP_FIELD_MEMORY_HIGH); /* no such thing on v1 */
	if (!(u.missing & CGROUP_FIELD_OOM_KILLS))
		assert_true(u.oom_kills == 0);

	/* only the fields asked for are read */
	assert_int_equal(cgroup_read_fields(g->name, CGROUP_FIELD_MEMORY_MAX, &u), 0);
	assert_true(u.memory_max == UINT64_C(67108864));
	assert_int_equal(u.missing, CGROUP_FIELD_ALL & ~CGROUP_FIELD_MEMORY_MAX);
	assert_true(u.memory_current == UINT64_MAX);
	assert_int_equal(cgroup_read_fields(g->name, CGROUP_FIELD_MEMORY_CURRENT | CGROUP_FIELD_OOM_KILLS, &u), 0);
	assert_false(u.missing & CGROUP_FIELD_MEMORY_CURRENT);
	assert_true(u.missing & CGROUP_FIELD_MEMORY_MAX);

	/* a leading slash as in systemd's ControlGroup */
	snprintf(name, sizeof(name), "/%s", g->name);
	assert_int_equal(cgroup_read(name, &u), 0);
	assert_true(u.memory_max == UINT64_C(67108864));

	/* no such group */
	snprintf(name, sizeof(name), "%s-gone", g->name);
	u.version = 7;
	assert_int_equal(cgroup_read(name, &u), -ENOENT);
	assert_int_equal(u.version, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_value),
		cmocka_unit_test(test_parse_v1_value),
		cmocka_unit_test(test_parse_cpu_max),
		cmocka_unit_test(test_parse_keyed),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_get_id_bad_paths),
		cmocka_unit_test(test_get_id_host),
		cmocka_unit_test(test_get_id_child),
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_read_bad_paths),
		cmocka_unit_test(test_compare_match),
		cmocka_unit_test(test_compare_mismatch),
		cmocka_unit_test(test_nofile),
		cmocka_unit_test(test_limits_roundtrip),
		cmocka_unit_test(test_limits_parse_refuses),
		cmocka_unit_test(test_limits_go_lines),
		cmocka_unit_test(test_limits_reconcile),
		cmocka_unit_test(test_limits_update_for_manifest),
		cmocka_unit_test_setup_teardown(test_v1_read_back, v1_setup, v1_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
