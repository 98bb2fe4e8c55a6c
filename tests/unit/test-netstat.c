/* test-netstat.c - /proc/net/netstat's header/value line pairs, the saved sample and the delta
 * (pure, on fixture text), then reading a fixture file and saving/loading a sample in a temp
 * directory. The host's /proc is only read.
 */
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "netstat.h"

/* Linux 6.1's /proc/net/netstat, shortened in the middle of TcpExt (the real one is ~4 KiB). */
static const char fixture[] =
	"TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled RcvPruned "
	"OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive "
	"PAWSEstab DelayedACKs DelayedACKLocked DelayedACKLost ListenOverflows ListenDrops TCPHPHits "
	"TCPPureAcks TCPReqQFullDoCookies TCPReqQFullDrop TCPFastOpenListenOverflow TCPMigrateReqSuccess\n"
	"TcpExt: 17 3 0 0 0 0 0 0 0 0 106207 0 0 0 0 182 9 21 4242 4343 53 214305 17 0 0 0\n"
	"IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts InOctets "
	"OutOctets InMcastOctets OutMcastOctets InBcastOctets OutBcastOctets InCsumErrors InNoECTPkts "
	"InECT1Pkts InECT0Pkts InCEPkts ReasmOverlaps\n"
	"IpExt: 0 0 0 0 0 0 414541166 35700435 0 0 0 0 0 654305 0 0 0 0\n"
	"MPTcpExt: MPCapableSYNRX MPCapableSYNTX ListenOverflows\n"
	"MPTcpExt: 1 2 999\n";

static void test_parse_fixture(void **state)
{
	struct netstat_counters c = {};
	uint64_t v = 0;

	(void)state;
	assert_int_equal(netstat_parse(fixture, &c), 0);
	assert_int_equal(c.listen_overflows, 4242);
	assert_int_equal(c.listen_drops, 4343);

	/* the first and last fields of a pair, and other pairs */
	assert_int_equal(netstat_find(fixture, "TcpExt", "SyncookiesSent", &v), 0);
	assert_int_equal(v, 17);
	assert_int_equal(netstat_find(fixture, "TcpExt", "TCPMigrateReqSuccess", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(netstat_find(fixture, "IpExt", "InOctets", &v), 0);
	assert_int_equal(v, 414541166);
	assert_int_equal(netstat_find(fixture, "IpExt", "ReasmOverlaps", &v), 0);
	assert_int_equal(v, 0);
	/* the same name under another prefix is another counter */
	assert_int_equal(netstat_find(fixture, "MPTcpExt", "ListenOverflows", &v), 0);
	assert_int_equal(v, 999);
	/* a name that is a prefix of another is not that other */
	assert_int_equal(netstat_find(fixture, "TcpExt", "Listen", &v), -ENOENT);
	assert_int_equal(netstat_find(fixture, "TcpExt", "TW", &v), 0);
	assert_int_equal(v, 106207);
}

static void test_parse_missing(void **state)
{
	struct netstat_counters c = { .listen_overflows = 7, .listen_drops = 8 };
	uint64_t v = 5;

	(void)state;
	assert_int_equal(netstat_find(fixture, "TcpExt", "NoSuchCounter", &v), -ENOENT);
	assert_int_equal(netstat_find(fixture, "Tcp", "ListenOverflows", &v), -ENOENT); /* "Tcp" is not "TcpExt" */
	assert_int_equal(netstat_find(fixture, "Ext", "ListenOverflows", &v), -ENOENT);
	assert_int_equal(netstat_find("", "TcpExt", "ListenOverflows", &v), -ENOENT);
	assert_int_equal(netstat_find("\n\n", "TcpExt", "ListenOverflows", &v), -ENOENT);
	assert_int_equal(v, 5); /* untouched on failure */

	/* ListenDrops absent: the pair is incomplete for netstat_parse */
	assert_int_equal(netstat_parse("TcpExt: ListenOverflows TW\nTcpExt: 1 2\n", &c), -ENOENT);
	assert_int_equal(netstat_parse("IpExt: InOctets\nIpExt: 1\n", &c), -ENOENT);
	assert_int_equal(c.listen_overflows, 7);
	assert_int_equal(c.listen_drops, 8);
}

static void test_parse_malformed(void **state)
{
	struct netstat_counters c = {};
	uint64_t v = 5;

	(void)state;
	/* more names than values, more values than names */
	assert_int_equal(netstat_find("TcpExt: A ListenDrops B\nTcpExt: 1 2\n", "TcpExt", "ListenDrops", &v), -EBADMSG);
	assert_int_equal(netstat_find("TcpExt: A ListenDrops\nTcpExt: 1 2 3\n", "TcpExt", "ListenDrops", &v), -EBADMSG);
	/* a header without its values line: last line, or followed by another prefix */
	assert_int_equal(netstat_find("TcpExt: A ListenDrops", "TcpExt", "ListenDrops", &v), -EBADMSG);
	assert_int_equal(netstat_find("TcpExt: A ListenDrops\n", "TcpExt", "ListenDrops", &v), -EBADMSG);
	assert_int_equal(netstat_find("TcpExt: A ListenDrops\nIpExt: 1 2\n", "TcpExt", "ListenDrops", &v), -EBADMSG);
	/* values that are not unsigned 64-bit decimals */
	assert_int_equal(netstat_find("TcpExt: A ListenDrops\nTcpExt: 1 x\n", "TcpExt", "ListenDrops", &v), -EBADMSG);
	assert_int_equal(netstat_find("TcpExt: A ListenDrops\nTcpExt: 1 -1\n", "TcpExt", "ListenDrops", &v), -EBADMSG);
	assert_int_equal(netstat_find("TcpExt: A ListenDrops\nTcpExt: 1 0x10\n", "TcpExt", "ListenDrops", &v), -EBADMSG);
	assert_int_equal(netstat_find("TcpExt: A ListenDrops\nTcpExt: 1 18446744073709551616\n", "TcpExt", "ListenDrops", &v),
			 -EBADMSG);
	assert_int_equal(netstat_find("TcpExt: A ListenDrops\nTcpExt: 1 1000000000000000000000000000\n", "TcpExt",
				      "ListenDrops", &v),
			 -EBADMSG);
	assert_int_equal(v, 5);
	assert_int_equal(netstat_parse("TcpExt: ListenOverflows ListenDrops\nTcpExt: 1\n", &c), -EBADMSG);
	/* a bad value elsewhere in the pair is not ours to judge ("MaxConn -1" in /proc/net/snmp) */
	assert_int_equal(netstat_find("Tcp: MaxConn ActiveOpens\nTcp: -1 12\n", "Tcp", "ActiveOpens", &v), 0);
	assert_int_equal(v, 12);
}

static void test_parse_layout(void **state)
{
	uint64_t v = 0;

	(void)state;
	/* the largest value, no trailing newline, CRLF, tabs and repeated blanks */
	assert_int_equal(netstat_find("TcpExt: ListenDrops\nTcpExt: 18446744073709551615", "TcpExt", "ListenDrops", &v), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(netstat_find("TcpExt: A\tListenDrops  B\r\nTcpExt:  1 \t 22 3\r\n", "TcpExt", "ListenDrops", &v), 0);
	assert_int_equal(v, 22);
	/* leading zeros are decimal */
	assert_int_equal(netstat_find("TcpExt: ListenDrops\nTcpExt: 010\n", "TcpExt", "ListenDrops", &v), 0);
	assert_int_equal(v, 10);
	/* a second pair with the same prefix is searched too */
	assert_int_equal(netstat_find("TcpExt: A\nTcpExt: 1\nTcpExt: ListenDrops\nTcpExt: 9\n", "TcpExt", "ListenDrops", &v),
			 0);
	assert_int_equal(v, 9);
	/* "TcpExtra:" does not start a TcpExt pair */
	assert_int_equal(netstat_find("TcpExtra: ListenDrops\nTcpExtra: 4\n", "TcpExt", "ListenDrops", &v), -ENOENT);
	/* bad arguments */
	assert_int_equal(netstat_find(fixture, "", "TW", &v), -EINVAL);
	assert_int_equal(netstat_find(fixture, "Tcp:Ext", "TW", &v), -EINVAL);
	assert_int_equal(netstat_find(fixture, "TcpExt", "", &v), -EINVAL);
	assert_int_equal(netstat_find(fixture, "TcpExt", "T W", &v), -EINVAL);
	assert_int_equal(netstat_find(NULL, "TcpExt", "TW", &v), -EINVAL);
	assert_int_equal(netstat_parse(fixture, NULL), -EINVAL);
}

static void test_sample_round_trip(void **state)
{
	struct netstat_sample s = {
		.counters = { .listen_overflows = 12, .listen_drops = UINT64_MAX },
		.netns = 4026531840,
		.time_usec = 123456789012,
	};
	struct netstat_sample back = {};
	_cleanup_free_ char *text = NULL;

	(void)state;
	assert_int_equal(netstat_sample_format(&s, &text), 0);
	assert_non_null(strstr(text, "\nlisten_overflows 12\n"));
	assert_int_equal(netstat_sample_parse(text, &back), 0);
	assert_memory_equal(&s, &back, sizeof(s));

	/* order does not matter, comments, blank lines and unknown keys are skipped */
	assert_int_equal(netstat_sample_parse("# x\n\nlisten_drops 2\nfuture_key 9\ntime_usec 3\n"
					      "listen_overflows 1\nnetns 4\n",
					      &back),
			 0);
	assert_int_equal(back.counters.listen_overflows, 1);
	assert_int_equal(back.counters.listen_drops, 2);
	assert_int_equal(back.time_usec, 3);
	assert_int_equal(back.netns, 4);
}

static void test_sample_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"netns 1\ntime_usec 2\nlisten_overflows 3\n",                     /* a key missing */
		"netns 1\ntime_usec 2\nlisten_overflows 3\nlisten_drops\n",       /* no value */
		"netns 1\ntime_usec 2\nlisten_overflows 3\nlisten_drops -4\n",    /* negative */
		"netns 1\ntime_usec 2\nlisten_overflows 3\nlisten_drops 4 5\n",   /* trailing junk */
		"netns 1\ntime_usec 2\nlisten_overflows 3\nlisten_drops 4x\n",
		"netns 1\ntime_usec 2\nlisten_overflows 3\nlisten_drops 4\nnetns 1\n", /* twice */
	};
	struct netstat_sample s = { .netns = 77 };

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		int r = netstat_sample_parse(bad[i], &s);
		if (r != -EBADMSG)
			fail_msg("case %zu: %d", i, r);
	}
	assert_int_equal(s.netns, 77);
}

static void test_delta(void **state)
{
	struct netstat_sample prev = { .counters = { 10, 20 }, .netns = 5, .time_usec = 1000000 };
	struct netstat_sample now = { .counters = { 13, 27 }, .netns = 5, .time_usec = 3500000 };
	struct netstat_delta d = {}, keep = { .added = { 99, 99 }, .interval_usec = 99 };

	(void)state;
	assert_int_equal(netstat_delta(&prev, &now, &d), 0);
	assert_int_equal(d.added.listen_overflows, 3);
	assert_int_equal(d.added.listen_drops, 7);
	assert_int_equal(d.interval_usec, 2500000);
	/* nothing happened */
	assert_int_equal(netstat_delta(&now, &now, &d), 0);
	assert_int_equal(d.added.listen_overflows, 0);
	assert_int_equal(d.added.listen_drops, 0);
	assert_int_equal(d.interval_usec, 0);

	/* not comparable: other namespace, counters or clock went backwards */
	d = keep;
	now.netns = 6;
	assert_int_equal(netstat_delta(&prev, &now, &d), -ESTALE);
	now.netns = 5;
	now.counters.listen_overflows = 9;
	assert_int_equal(netstat_delta(&prev, &now, &d), -ESTALE);
	now.counters.listen_overflows = 13;
	now.counters.listen_drops = 19;
	assert_int_equal(netstat_delta(&prev, &now, &d), -ESTALE);
	now.counters.listen_drops = 27;
	now.time_usec = 999999;
	assert_int_equal(netstat_delta(&prev, &now, &d), -ESTALE);
	assert_memory_equal(&d, &keep, sizeof(d));
}

/* --- effects, in a temp directory -------------------------------------------------------------- */

static char tmpdir[] = "/tmp/test-netstat.XXXXXX";

static int setup_tmp(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown_tmp(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_read_file(void **state)
{
	char path[256];
	struct netstat_counters c = {};

	(void)state;
	snprintf(path, sizeof(path), "%s/netstat", tmpdir);
	write_file(path, fixture);
	assert_int_equal(netstat_read(path, &c), 0);
	assert_int_equal(c.listen_overflows, 4242);
	assert_int_equal(c.listen_drops, 4343);

	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(netstat_read(path, &c), -ENOENT);

	/* this host's own: present on every Linux with IPv4 (read only) */
	assert_int_equal(netstat_read(NULL, &c), 0);
}

static void test_save_load(void **state)
{
	char dir[256], path[300];
	struct netstat_sample s = { .counters = { 1, 2 }, .netns = 3, .time_usec = 4 }, back = {}, now = {};
	struct netstat_delta d;
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/run/berth", tmpdir);
	snprintf(path, sizeof(path), "%s/netstat.last", dir);
	assert_int_equal(netstat_load(path, &back), -ENOENT);

	/* the directory is created; the file is replaced atomically */
	assert_int_equal(netstat_save(path, &s), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(netstat_load(path, &back), 0);
	assert_memory_equal(&s, &back, sizeof(s));
	s.counters.listen_overflows = 100;
	assert_int_equal(netstat_save(path, &s), 0);
	assert_int_equal(netstat_load(path, &back), 0);
	assert_int_equal(back.counters.listen_overflows, 100);

	/* a garbled file is not a sample */
	write_file(path, "netns 1\n");
	assert_int_equal(netstat_load(path, &back), -EBADMSG);
	assert_int_equal(back.counters.listen_overflows, 100);

	/* relative paths are refused */
	assert_int_equal(netstat_save("netstat.last", &s), -EINVAL);

	/* two samples of this host a moment apart are comparable */
	assert_int_equal(netstat_sample_now(&back), 0);
	assert_int_equal(netstat_save(path, &back), 0);
	assert_int_equal(netstat_sample_now(&now), 0);
	assert_int_equal(netstat_load(path, &s), 0);
	assert_int_equal(netstat_delta(&s, &now, &d), 0);
	assert_true(now.netns != 0);
}

static void test_somaxconn(void **state)
{
	uint32_t v = 0;
	int r;

	(void)state;
	r = netstat_read_somaxconn(&v);
	if (r == -ENOENT)
		skip(); /* no /proc/sys here */
	assert_int_equal(r, 0);
	assert_true(v > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fixture),
		cmocka_unit_test(test_parse_missing),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_layout),
		cmocka_unit_test(test_sample_round_trip),
		cmocka_unit_test(test_sample_malformed),
		cmocka_unit_test(test_delta),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_somaxconn),
	};
	return cmocka_run_group_tests_name("netstat", tests, setup_tmp, teardown_tmp);
}
