/* test-tune.c - berth tune: profiles, validation, the never-lower rule, plans, and the sysctl
 * effects against a FAKE /proc/sys (a temp directory): apply, read back, previous.conf, revert,
 * idempotence, a kernel that clamps or refuses, all or nothing. The host's /proc/sys is never
 * written: every sysctl_root below points into the temp directory.
 */
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "strv.h"
#include "sysctl.h"
#include "tune.h"

/* --- a kernel as a table, for the pure plan --------------------------------------------------- */

struct fake_key {
	const char *key;
	char *value; /* NULL: not on this kernel */
	int writable;
};

static struct fake_key fk[64];
static size_t fk_n;

/* Debian 12's cloud kernel (6.1) with systemd 252, as berth's VM sees it. */
static const char *const debian12[][2] = {
	{ "fs.file-max", "9223372036854775807" },
	{ "fs.nr_open", "1048576" },
	{ "net.core.somaxconn", "4096" },
	{ "net.ipv4.tcp_max_syn_backlog", "128" },
	{ "net.core.netdev_max_backlog", "1000" },
	{ "net.ipv4.ip_local_port_range", "32768\t60999" },
	{ "net.ipv4.tcp_fin_timeout", "60" },
	{ "net.ipv4.tcp_tw_reuse", "2" },
	{ "net.ipv4.tcp_max_tw_buckets", "8192" },
	{ "net.ipv4.tcp_slow_start_after_idle", "1" },
	{ "net.ipv4.tcp_keepalive_time", "7200" },
	{ "net.ipv4.tcp_keepalive_intvl", "75" },
	{ "net.ipv4.tcp_keepalive_probes", "9" },
	{ "net.ipv4.ip_unprivileged_port_start", "1024" },
	{ "net.ipv4.tcp_congestion_control", "cubic" },
	{ "net.ipv4.tcp_rmem", "4096\t131072\t6291456" },
	{ "vm.swappiness", "60" },
};

static void fk_reset(void)
{
	for (size_t i = 0; i < fk_n; i++)
		free(fk[i].value);
	fk_n = 0;
	for (size_t i = 0; i < ELEMENTSOF(debian12); i++)
		fk[fk_n++] = (struct fake_key){ debian12[i][0], strdup(debian12[i][1]), 0 };
}

static struct fake_key *fk_find(const char *key)
{
	for (size_t i = 0; i < fk_n; i++)
		if (streq(fk[i].key, key))
			return &fk[i];
	return NULL;
}

/* The entry of a key the test knows is there (never NULL). */
static struct fake_key *fk_get(const char *key)
{
	struct fake_key *k = fk_find(key);
	if (!k) {
		fail_msg("no fake key %s", key);
		abort();
	}
	return k;
}

static void fk_set(const char *key, const char *value)
{
	struct fake_key *k = fk_get(key);
	free(k->value);
	k->value = value ? strdup(value) : NULL;
}

static int fk_read(const char *key, char **ret, void *userdata)
{
	struct fake_key *k = fk_find(key);
	if (!k || !k->value)
		return -ENOENT;
	*ret = strdup(k->value);
	return *ret ? 0 : -ENOMEM;
}

static int fk_writable(const char *key, void *userdata)
{
	struct fake_key *k = fk_find(key);
	return k ? k->writable : -ENOENT;
}

static const struct tune_kernel fake_kernel = { fk_read, fk_writable, NULL };

/* What applying the plan would leave: its live values and its previous.conf. */
static void fk_apply(const struct tune_plan *p, struct tune_state *state)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].changed)
			fk_set(p->items[i].key, p->items[i].after);
	tune_state_release(state);
	if (p->state)
		assert_int_equal(tune_state_parse(p->state, state, NULL), 0);
}

static const struct tune_item *find_item(const struct tune_plan *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (streq(p->items[i].key, key))
			return &p->items[i];
	return NULL;
}

/* The plan's item for a key the test expects in it (never NULL). */
static const struct tune_item *item(const struct tune_plan *p, const char *key)
{
	const struct tune_item *it = find_item(p, key);
	if (!it) {
		fail_msg("no item %s in the plan", key);
		abort();
	}
	return it;
}

static int plan_for(const char *profile, const char *file_text, const struct tune_state *state, bool force,
		    struct tune_plan *ret, struct tune_diags *diags)
{
	struct tune_request req;
	int r;

	assert_int_equal(tune_request_init(&req, profile), 0);
	if (file_text) {
		r = tune_request_add_file(&req, "/etc/berth/tune.ini", file_text, diags);
		if (r < 0) {
			tune_request_release(&req);
			return r;
		}
	}
	struct tune_plan_input in = { .request = &req, .state = state, .kernel = &fake_kernel, .force = force };
	r = tune_plan(&in, ret, diags);
	tune_request_release(&req);
	return r;
}

static int plan_revert(const struct tune_state *state, struct tune_plan *ret)
{
	struct tune_plan_input in = { .request = NULL, .state = state, .kernel = &fake_kernel };
	return tune_plan(&in, ret, NULL);
}

static bool has_diag(const struct tune_diags *d, unsigned line, const char *key, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].line == line && streq_ptr(d->items[i].key, key) && strstr(d->items[i].message, needle))
			return true;
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "# diag %u %s: %s\n", d->items[i].line, strempty(d->items[i].key), d->items[i].message);
	return false;
}

static bool has_warning(char **w, const char *needle)
{
	STRV_FOREACH(s, w)
		if (strstr(*s, needle))
			return true;
	return false;
}

/* --- profiles and keys ---------------------------------------------------------------------------- */

static void test_profiles(void **state)
{
	static const char *const web_keys[] = {
		"fs.file-max", "fs.nr_open", "net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog",
		"net.core.netdev_max_backlog", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_fin_timeout",
		"net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_slow_start_after_idle",
		"net.ipv4.tcp_keepalive_time",
	};
	const struct tune_profile *web = tune_profile_find("web"), *proxy = tune_profile_find("proxy"),
				  *def = tune_profile_find("default");

	assert_non_null(web);
	assert_non_null(proxy);
	assert_non_null(def);
	assert_null(tune_profile_find("Web"));
	assert_null(tune_profile_find(NULL));
	assert_int_equal(def->n_settings, 0);
	for (size_t i = 0; i < ELEMENTSOF(web_keys); i++) {
		bool found = false;
		for (size_t j = 0; j < web->n_settings; j++)
			found |= streq(web->settings[j].key, web_keys[i]);
		assert_true(found);
	}
	assert_int_equal(proxy->n_settings, 2);
	assert_string_equal(proxy->settings[0].key, "net.ipv4.ip_local_port_range");
	assert_string_equal(proxy->settings[1].key, "net.ipv4.tcp_tw_reuse");

	/* every value is known, valid, canonical, and has a reason */
	for (size_t p = 0; p < tune_n_profiles; p++)
		for (size_t i = 0; i < tune_profiles[p].n_settings; i++) {
			const struct tune_setting *s = &tune_profiles[p].settings[i];
			_cleanup_free_ char *canon = NULL;
			assert_non_null(tune_key_lookup(s->key));
			assert_null(tune_key_removed(s->key));
			assert_int_equal(tune_value_canonical(s->key, s->value, &canon, NULL), 0);
			assert_string_equal(canon, s->value);
			assert_true(strlen(s->reason) > 40);
		}
	/* the reasons say what the issue asks them to say */
	for (size_t i = 0; i < web->n_settings; i++) {
		if (streq(web->settings[i].key, "net.core.somaxconn"))
			assert_non_null(strstr(web->settings[i].reason, "4096 since Linux 5.4"));
		if (streq(web->settings[i].key, "fs.file-max"))
			assert_non_null(strstr(web->settings[i].reason, "systemd raises it"));
	}
	const char *const *names = tune_profile_names();
	assert_string_equal(names[0], "web");
	assert_string_equal(names[1], "proxy");
	assert_string_equal(names[2], "default");
	assert_null(names[3]);
}

static void test_keys(void **state)
{
	assert_true(tune_key_is_valid("net.core.somaxconn"));
	assert_true(tune_key_is_valid("fs.file-max"));
	assert_true(tune_key_is_valid("kernel"));
	assert_false(tune_key_is_valid(""));
	assert_false(tune_key_is_valid(NULL));
	assert_false(tune_key_is_valid(".net"));
	assert_false(tune_key_is_valid("net..core"));
	assert_false(tune_key_is_valid("net.core."));
	assert_false(tune_key_is_valid("net/core/somaxconn"));
	assert_false(tune_key_is_valid("net.core.some maxconn"));
	assert_false(tune_key_is_valid("../../etc/passwd"));

	const char *why = tune_key_removed("net.ipv4.tcp_tw_recycle");
	assert_non_null(why);
	assert_non_null(strstr(why, "4.12"));
	assert_non_null(strstr(why, "NAT"));
	assert_non_null(strstr(why, "net.ipv4.tcp_tw_reuse"));
	assert_non_null(tune_key_removed("net.ipv4.netfilter.ip_conntrack_max"));
	assert_null(tune_key_removed("net.ipv4.tcp_tw_reuse"));
	assert_non_null(tune_key_noop("net.ipv4.tcp_low_latency"));
	assert_null(tune_key_noop("net.core.somaxconn"));

	assert_true(tune_key_namespaced("net.core.somaxconn"));
	assert_true(tune_key_namespaced("net.ipv4.ip_local_port_range"));
	assert_true(tune_key_namespaced("net.ipv4.tcp_congestion_control"));
	assert_false(tune_key_namespaced("net.core.netdev_max_backlog"));
	assert_false(tune_key_namespaced("net.core.rmem_default"));
	assert_false(tune_key_namespaced("net.ipv4.tcp_mem"));
	assert_false(tune_key_namespaced("fs.file-max"));
	assert_false(tune_key_namespaced("vm.swappiness"));
}

static void expect_canonical(const char *key, const char *in, const char *out)
{
	_cleanup_free_ char *c = NULL, *problem = NULL;
	assert_int_equal(tune_value_canonical(key, in, &c, &problem), 0);
	assert_string_equal(c, out);
	assert_null(problem);
}

static void expect_refused(const char *key, const char *in, int error, const char *needle)
{
	_cleanup_free_ char *c = NULL, *problem = NULL;
	assert_int_equal(tune_value_canonical(key, in, &c, &problem), error);
	assert_null(c);
	assert_non_null(problem);
	if (!strstr(problem, needle))
		fail_msg("%s = \"%s\": \"%s\" lacks \"%s\"", key, in, problem, needle);
}

static void test_values(void **state)
{
	expect_canonical("net.core.somaxconn", "8192", "8192");
	expect_canonical("net.core.somaxconn", " 08192 ", "8192");
	expect_canonical("fs.file-max", "9223372036854775807", "9223372036854775807");
	expect_canonical("net.ipv4.tcp_tw_reuse", "0", "0");
	expect_canonical("net.ipv4.ip_local_port_range", "1024 65535", "1024 65535");
	expect_canonical("net.ipv4.ip_local_port_range", "10240\t65535", "10240 65535");
	expect_canonical("net.ipv4.ip_local_port_range", "  10240    65535 ", "10240 65535");
	expect_canonical("net.ipv4.tcp_congestion_control", "bbr", "bbr");
	expect_canonical("net.ipv4.tcp_rmem", "4096 131072 6291456", "4096 131072 6291456");

	/* non-numeric, signs, fractions, hex */
	expect_refused("net.core.somaxconn", "lots", -EINVAL, "not a whole number");
	expect_refused("net.core.somaxconn", "-1", -EINVAL, "not a whole number");
	expect_refused("net.core.somaxconn", "1.5", -EINVAL, "not a whole number");
	expect_refused("net.core.somaxconn", "0x100", -EINVAL, "not a whole number");
	expect_refused("net.core.somaxconn", "8192 8192", -EINVAL, "not a whole number");
	expect_refused("net.core.somaxconn", "", -EINVAL, "empty");
	expect_refused("net.core.somaxconn", "   ", -EINVAL, "empty");
	/* ranges */
	expect_refused("net.ipv4.tcp_tw_reuse", "3", -ERANGE, "from 0 to 2");
	expect_refused("net.core.somaxconn", "2147483648", -ERANGE, "out of range");
	expect_refused("fs.nr_open", "2147483647", -ERANGE, "out of range");
	expect_refused("fs.nr_open", "99999999999999999999999", -ERANGE, "out of range");
	expect_refused("net.ipv4.tcp_keepalive_probes", "0", -ERANGE, "from 1 to 127");
	/* port ranges: ordered, low ≥ 1024, high ≤ 65535 */
	expect_refused("net.ipv4.ip_local_port_range", "1023 65535", -ERANGE, "below 1024");
	expect_refused("net.ipv4.ip_local_port_range", "0 65535", -ERANGE, "below 1024");
	expect_refused("net.ipv4.ip_local_port_range", "1024 65536", -ERANGE, "above 65535");
	expect_refused("net.ipv4.ip_local_port_range", "60999 32768", -ERANGE, "must be below");
	expect_refused("net.ipv4.ip_local_port_range", "32768 32768", -ERANGE, "must be below");
	expect_refused("net.ipv4.ip_local_port_range", "32768", -EINVAL, "two port numbers");
	expect_refused("net.ipv4.ip_local_port_range", "1 2 3", -EINVAL, "two port numbers");
	expect_refused("net.ipv4.ip_local_port_range", "low high", -EINVAL, "two whole numbers");
	expect_refused("net.ipv4.ip_local_port_range", "-1024 65535", -EINVAL, "two whole numbers");
	/* anything else: printable ASCII on one line */
	expect_refused("kernel.core_pattern", "a\nb", -EINVAL, "printable ASCII");
	expect_refused("kernel.core_pattern", "caf\xc3\xa9", -EINVAL, "printable ASCII");

	assert_true(tune_value_equal("32768\t60999", "32768 60999"));
	assert_true(tune_value_equal(" 1  2 ", "1 2"));
	assert_false(tune_value_equal("1 2", "1 2 3"));
	assert_false(tune_value_equal("12", "1 2"));
	assert_false(tune_value_equal("8192", NULL));
	assert_true(sysctl_value_equal("32768\t60999\n", "32768 60999"));
	assert_false(sysctl_value_equal("1 2", "1 23"));
	assert_false(sysctl_value_equal("12", "1"));
}

static void test_never_lower(void **state)
{
	/* higher current values are kept */
	assert_true(tune_keep_current(TUNE_RAISE, "9223372036854775807", "2097152"));
	assert_false(tune_keep_current(TUNE_RAISE, "1000", "16384"));
	assert_false(tune_keep_current(TUNE_RAISE, "4096", "4096"));
	/* timeouts: lower current values are kept */
	assert_true(tune_keep_current(TUNE_LOWER, "15", "30"));
	assert_false(tune_keep_current(TUNE_LOWER, "60", "30"));
	/* exact keys are always set; unparsable values never kept */
	assert_false(tune_keep_current(TUNE_EXACT, "2", "1"));
	assert_false(tune_keep_current(TUNE_RAISE, "-1", "8192"));
	assert_false(tune_keep_current(TUNE_RAISE, NULL, "8192"));

	/* port ranges: "higher" is wider, wherever it sits */
	assert_true(tune_keep_current(TUNE_WIDEN, "1024\t65535", "10240 65535"));
	assert_true(tune_keep_current(TUNE_WIDEN, "2000 60000", "10240 65535"));
	assert_false(tune_keep_current(TUNE_WIDEN, "32768\t60999", "10240 65535"));
	assert_false(tune_keep_current(TUNE_WIDEN, "20000 65535", "10240 65535"));
	assert_false(tune_keep_current(TUNE_WIDEN, "10000 65295", "10240 65535")); /* as wide: set */
	assert_false(tune_keep_current(TUNE_WIDEN, "garbage", "10240 65535"));

	uint64_t lo, hi;
	assert_int_equal(tune_parse_port_range("32768\t60999", &lo, &hi), 0);
	assert_int_equal(lo, 32768);
	assert_int_equal(hi, 60999);
	assert_int_equal(tune_parse_port_range("32768", &lo, &hi), -EINVAL);
}

/* --- host files --------------------------------------------------------------------------------- */

static void test_host_file(void **state)
{
	struct tune_request req;
	struct tune_diags d = { 0 };

	assert_int_equal(tune_request_init(&req, "web"), 0);
	size_t n_web = req.n;
	assert_int_equal(tune_request_add_file(&req, "/etc/berth/tune.ini",
					       "# berth tune host overrides\n"
					       "\n"
					       "[sysctl]\n"
					       "# our load balancer opens many connections at once\n"
					       "# (measured: 20k SYN per second at peak)\n"
					       "net.core.somaxconn = 32768\n"
					       "\n"
					       "net.ipv4.tcp_congestion_control=bbr\r\n"
					       "  ; indented comment\n"
					       "  vm.swappiness   =   10  \n",
					       &d),
			 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(req.n, n_web + 2);
	assert_string_equal(req.file, "/etc/berth/tune.ini");
	const struct tune_entry *e = tune_request_find(&req, "net.core.somaxconn");
	assert_string_equal(e->value, "32768");
	assert_string_equal(e->reason,
			    "our load balancer opens many connections at once (measured: 20k SYN per second at peak)");
	assert_string_equal(e->origin, "/etc/berth/tune.ini:6");
	assert_int_equal(e->line, 6);
	assert_int_equal(e->direction, TUNE_RAISE);
	/* an override keeps the profile's place */
	assert_string_equal(req.entries[2].key, "net.core.somaxconn");
	e = tune_request_find(&req, "net.ipv4.tcp_congestion_control");
	assert_string_equal(e->value, "bbr");
	assert_string_equal(e->reason, "set in the host file");
	assert_int_equal(e->direction, TUNE_EXACT);
	e = tune_request_find(&req, "vm.swappiness");
	assert_string_equal(e->value, "10");
	assert_string_equal(e->reason, "indented comment");
	tune_request_release(&req);
}

static void test_host_file_errors(void **state)
{
	struct tune_request req;
	struct tune_diags d = { 0 };

	assert_int_equal(tune_request_init(&req, "proxy"), 0);
	assert_int_equal(tune_request_add_file(&req, "/etc/berth/tune.ini",
					       "net.core.somaxconn = 1\n"         /* 1: outside a section */
					       "[sysctl]\n"                       /* 2 */
					       "net.ipv4.tcp_tw_recycle = 1\n"    /* 3: removed */
					       "net.core.somaxconn = many\n"      /* 4: not a number */
					       "net.ipv4.tcp_fin_timeout = 30\n"  /* 5 */
					       "net.ipv4.tcp_fin_timeout = 20\n"  /* 6: twice */
					       "-net.core.somaxconn = 1\n"        /* 7: sysctl.d prefix */
					       "net/core/somaxconn = 1\n"         /* 8: slashes */
					       "just words\n"                     /* 9: no = */
					       "net.ipv4.ip_local_port_range = 2000 1000\n" /* 10 */
					       "net.core.somaxconn = 100 # big\n" /* 11: comment after value */
					       "[limits]\n"                       /* 12: unknown section */
					       "nofile = 1\n"                     /* 13: skipped with it */
					       "[sysctl\n",                       /* 14: broken section */
					       &d),
			 -EINVAL);
	assert_true(has_diag(&d, 1, "net.core.somaxconn", "outside any section"));
	assert_true(has_diag(&d, 3, "net.ipv4.tcp_tw_recycle", "removed in Linux 4.12"));
	assert_true(has_diag(&d, 4, "net.core.somaxconn", "not a whole number"));
	assert_true(has_diag(&d, 6, "net.ipv4.tcp_fin_timeout", "set twice (first on line 5)"));
	assert_true(has_diag(&d, 7, "-net.core.somaxconn", "prefix"));
	assert_true(has_diag(&d, 8, "net/core/somaxconn", "dots"));
	assert_true(has_diag(&d, 9, NULL, "key = value"));
	assert_true(has_diag(&d, 10, "net.ipv4.ip_local_port_range", "must be below"));
	assert_true(has_diag(&d, 11, "net.core.somaxconn", "line of its own"));
	assert_true(has_diag(&d, 12, NULL, "unknown section [limits]"));
	assert_true(has_diag(&d, 14, NULL, "[sysctl]"));
	assert_int_equal(d.n, 11);
	for (size_t i = 0; i < d.n; i++)
		assert_string_equal(d.items[i].file, "/etc/berth/tune.ini");
	/* the valid lines are in, for tune_plan() to check against the kernel (never applied) */
	assert_int_equal(req.n, 3);
	assert_string_equal(req.file, "/etc/berth/tune.ini");
	assert_string_equal(tune_request_find(&req, "net.ipv4.tcp_fin_timeout")->value, "30");
	assert_string_equal(tune_request_find(&req, "net.ipv4.tcp_tw_reuse")->origin, "profile proxy");
	tune_diags_release(&d);
	tune_request_release(&req);
}

/* --- previous.conf ---------------------------------------------------------------------------------- */

static void test_state_round_trip(void **state)
{
	struct tune_state s = { 0 }, back = { 0 };
	unsigned line = 0;

	s.profile = strdup("web");
	s.file = strdup("/etc/berth/tune.ini");
	s.previous = calloc(3, sizeof(*s.previous));
	s.previous[0] = (struct tune_value){ strdup("net.ipv4.ip_local_port_range"), strdup("32768\t60999") };
	s.previous[1] = (struct tune_value){ strdup("net.core.somaxconn"), strdup("4096") };
	s.previous[2] = (struct tune_value){ strdup("net.ipv4.tcp_rmem"), strdup("4096\t131072\t6291456") };
	s.n = 3;
	_cleanup_free_ char *text = tune_state_format(&s);
	assert_non_null(text);
	assert_non_null(strstr(text, "[request]\nprofile = web\nfile = /etc/berth/tune.ini\n"));
	assert_non_null(strstr(text, "net.ipv4.ip_local_port_range = 32768\t60999\n"));
	assert_int_equal(tune_state_parse(text, &back, &line), 0);
	assert_string_equal(back.profile, "web");
	assert_string_equal(back.file, "/etc/berth/tune.ini");
	assert_int_equal(back.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(back.previous[i].key, s.previous[i].key);
		assert_string_equal(back.previous[i].value, s.previous[i].value); /* the tab survives */
	}
	_cleanup_free_ char *again = tune_state_format(&back);
	assert_string_equal(again, text);
	tune_state_release(&back);
	tune_state_release(&s);

	/* empty and damaged files */
	assert_int_equal(tune_state_parse("", &back, &line), 0);
	assert_int_equal(back.n, 0);
	assert_null(back.profile);
	assert_int_equal(tune_state_parse("# c\n[previous]\nfs.nr_open = 1\nfs.nr_open = 2\n", &back, &line), -EINVAL);
	assert_int_equal(line, 4);
	assert_int_equal(tune_state_parse("fs.nr_open = 1\n", &back, &line), -EINVAL);
	assert_int_equal(line, 1);
	assert_int_equal(tune_state_parse("[request]\ncolour = blue\n", &back, &line), -EINVAL);
	assert_int_equal(line, 2);
	assert_int_equal(tune_state_parse("[previous]\nfs.nr_open =\n", &back, &line), -EINVAL);
}

/* --- plans ------------------------------------------------------------------------------------------ */

static void test_plan_web(void **state)
{
	struct tune_state st = { 0 };
	struct tune_plan p;

	fk_reset();
	assert_int_equal(plan_for("web", NULL, &st, false, &p, NULL), 0);
	assert_true(p.live_changes);

	/* fs.file-max is huge (systemd): kept, not lowered, not managed */
	const struct tune_item *it = item(&p, "fs.file-max");
	assert_int_equal(it->action, TUNE_ACTION_KEEP);
	assert_false(it->changed);
	assert_false(it->managed);
	assert_string_equal(it->after, "9223372036854775807");
	assert_non_null(strstr(it->note, "already higher than 2097152"));
	/* fs.nr_open is already the profile's value: nothing */
	it = item(&p, "fs.nr_open");
	assert_int_equal(it->action, TUNE_ACTION_NONE);
	assert_false(it->managed);
	/* the rest is set; the originals are the kernel's values, tabs and all */
	it = item(&p, "net.ipv4.ip_local_port_range");
	assert_int_equal(it->action, TUNE_ACTION_SET);
	assert_true(it->changed);
	assert_true(it->managed);
	assert_true(it->namespaced);
	assert_string_equal(it->before, "32768\t60999");
	assert_string_equal(it->after, "10240 65535");
	assert_string_equal(it->original, "32768\t60999");
	it = item(&p, "net.core.somaxconn");
	assert_string_equal(it->after, "8192");
	it = item(&p, "net.core.netdev_max_backlog");
	assert_false(it->namespaced);

	/* 60-berth.conf: a berth header, the reasons as comments, managed keys only */
	assert_true(tune_conf_is_ours(p.conf));
	assert_non_null(strstr(p.conf, "\nnet.core.somaxconn = 8192\n"));
	assert_non_null(strstr(p.conf, "\nnet.ipv4.ip_local_port_range = 10240 65535\n"));
	assert_non_null(strstr(p.conf, "# accept queue of each listening socket"));
	assert_null(strstr(p.conf, "fs.file-max ="));
	assert_null(strstr(p.conf, "fs.nr_open ="));
	for (const char *l = p.conf; *l; l = strchr(l, '\n') + 1) /* comments are wrapped */
		assert_true(strcspn(l, "\n") <= 100);
	assert_null(p.saved_conf);

	/* previous.conf: the request and the originals */
	struct tune_state back = { 0 };
	assert_int_equal(tune_state_parse(p.state, &back, NULL), 0);
	assert_string_equal(back.profile, "web");
	assert_null(back.file);
	assert_string_equal(tune_state_previous(&back, "net.ipv4.ip_local_port_range"), "32768\t60999");
	assert_string_equal(tune_state_previous(&back, "net.ipv4.tcp_tw_reuse"), "2");
	assert_null(tune_state_previous(&back, "fs.file-max"));
	assert_string_equal(p.state_early, p.state);
	tune_state_release(&back);
	tune_plan_release(&p);
}

static void test_plan_force(void **state)
{
	struct tune_state st = { 0 };
	struct tune_plan p;

	fk_reset();
	fk_set("net.ipv4.ip_local_port_range", "1024\t65535");
	fk_set("net.ipv4.tcp_fin_timeout", "10");
	assert_int_equal(plan_for("web", NULL, &st, false, &p, NULL), 0);
	assert_int_equal(item(&p, "net.ipv4.ip_local_port_range")->action, TUNE_ACTION_KEEP);
	assert_non_null(strstr(item(&p, "net.ipv4.ip_local_port_range")->note, "wider"));
	assert_int_equal(item(&p, "net.ipv4.tcp_fin_timeout")->action, TUNE_ACTION_KEEP);
	assert_non_null(strstr(item(&p, "net.ipv4.tcp_fin_timeout")->note, "lower"));
	tune_plan_release(&p);

	assert_int_equal(plan_for("web", NULL, &st, true, &p, NULL), 0);
	const struct tune_item *it = item(&p, "fs.file-max");
	assert_int_equal(it->action, TUNE_ACTION_SET);
	assert_string_equal(it->after, "2097152");
	assert_string_equal(it->original, "9223372036854775807");
	assert_non_null(strstr(it->note, "forced"));
	assert_int_equal(item(&p, "net.ipv4.ip_local_port_range")->action, TUNE_ACTION_SET);
	assert_int_equal(item(&p, "net.ipv4.tcp_fin_timeout")->action, TUNE_ACTION_SET);
	tune_plan_release(&p);
}

static void test_plan_idempotent_and_originals(void **state)
{
	struct tune_state st = { 0 };
	struct tune_plan p, p2;

	fk_reset();
	assert_int_equal(plan_for("web", NULL, &st, false, &p, NULL), 0);
	fk_apply(&p, &st);
	_cleanup_free_ char *conf = strdup(p.conf), *state_text = strdup(p.state);
	tune_plan_release(&p);

	/* the same again: nothing changes, the files are the same */
	assert_int_equal(plan_for("web", NULL, &st, false, &p2, NULL), 0);
	assert_false(p2.live_changes);
	assert_false(tune_plan_changes_files(&p2, conf, NULL, state_text));
	for (size_t i = 0; i < p2.n; i++)
		assert_false(p2.items[i].changed);
	tune_plan_release(&p2);

	/* a host file raising somaxconn further: the original stays the kernel's 4096, not berth's 8192 */
	assert_int_equal(plan_for("web", "[sysctl]\nnet.core.somaxconn = 16384\n", &st, false, &p2, NULL), 0);
	assert_string_equal(item(&p2, "net.core.somaxconn")->before, "8192");
	assert_string_equal(item(&p2, "net.core.somaxconn")->after, "16384");
	assert_string_equal(item(&p2, "net.core.somaxconn")->original, "4096");
	fk_apply(&p2, &st);
	tune_plan_release(&p2);
	assert_string_equal(tune_state_previous(&st, "net.core.somaxconn"), "4096");
	assert_string_equal(st.file, "/etc/berth/tune.ini");

	/* dropping the host file again: back to the profile's 8192, even though 16384 is higher now,
	 * because the never-lower rule compares with the value from before berth */
	assert_int_equal(plan_for("web", NULL, &st, false, &p2, NULL), 0);
	assert_string_equal(item(&p2, "net.core.somaxconn")->after, "8192");
	assert_int_equal(item(&p2, "net.core.somaxconn")->action, TUNE_ACTION_SET);
	fk_apply(&p2, &st);
	tune_plan_release(&p2);

	/* switching to proxy (plus a new key): web-only keys go back to their originals, proxy keys stay */
	assert_int_equal(plan_for("proxy", "[sysctl]\nvm.swappiness = 10\n", &st, false, &p2, NULL), 0);
	const struct tune_item *it = item(&p2, "net.core.somaxconn");
	assert_int_equal(it->action, TUNE_ACTION_RESTORE);
	assert_string_equal(it->after, "4096");
	assert_false(it->managed);
	it = item(&p2, "net.ipv4.ip_local_port_range");
	assert_int_equal(it->action, TUNE_ACTION_NONE);
	assert_true(it->managed);
	assert_string_equal(it->original, "32768\t60999");
	assert_null(strstr(p2.conf, "somaxconn"));
	/* written first: every original, old and new, so a crash half-way loses none */
	assert_non_null(strstr(p2.state_early, "net.core.somaxconn = 4096\n"));
	assert_non_null(strstr(p2.state_early, "vm.swappiness = 60\n"));
	assert_null(strstr(p2.state, "net.core.somaxconn"));
	assert_non_null(strstr(p2.state, "vm.swappiness = 60\n"));
	fk_apply(&p2, &st);
	tune_plan_release(&p2);

	/* nothing new to record: nothing written early */
	assert_int_equal(plan_for("proxy", "[sysctl]\nvm.swappiness = 10\n", &st, false, &p2, NULL), 0);
	assert_null(p2.state_early);
	assert_false(p2.live_changes);
	tune_plan_release(&p2);

	/* revert: everything back exactly, the files go */
	assert_int_equal(plan_revert(&st, &p2), 0);
	assert_null(p2.state_early);
	for (size_t i = 0; i < p2.n; i++)
		assert_int_equal(p2.items[i].action, TUNE_ACTION_RESTORE);
	assert_null(p2.conf);
	assert_null(p2.state);
	fk_apply(&p2, &st);
	tune_plan_release(&p2);
	for (size_t i = 0; i < ELEMENTSOF(debian12); i++)
		assert_string_equal(fk_get(debian12[i][0])->value, debian12[i][1]);
	tune_state_release(&st);
}

static void test_plan_profile_value_below_original(void **state)
{
	struct tune_state st = { 0 };
	struct tune_plan p;

	/* berth raised somaxconn from 4096 by a host file; meanwhile the profile's value is below the
	 * original: the original comes back instead of being lowered */
	fk_reset();
	fk_set("net.core.somaxconn", "20000");
	assert_int_equal(tune_state_parse("[previous]\nnet.core.somaxconn = 10000\n", &st, NULL), 0);
	assert_int_equal(plan_for("web", NULL, &st, false, &p, NULL), 0);
	const struct tune_item *it = item(&p, "net.core.somaxconn");
	assert_int_equal(it->action, TUNE_ACTION_RESTORE);
	assert_string_equal(it->after, "10000");
	assert_false(it->managed);
	assert_non_null(strstr(it->note, "restored"));
	assert_null(strstr(p.state, "somaxconn"));
	tune_plan_release(&p);
	tune_state_release(&st);
}

static void test_plan_all_or_nothing(void **state)
{
	struct tune_state st = { 0 };
	struct tune_plan p = { 0 };
	struct tune_diags d = { 0 };

	fk_reset();
	/* an obsolete key in a host file: nothing at all, the error names file, line and key */
	assert_int_equal(plan_for("web", "[sysctl]\nnet.core.somaxconn = 9000\nnet.ipv4.tcp_tw_recycle = 1\n", &st,
				  false, &p, &d),
			 -EINVAL);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0].file, "/etc/berth/tune.ini");
	assert_int_equal(d.items[0].line, 3);
	assert_string_equal(d.items[0].key, "net.ipv4.tcp_tw_recycle");
	assert_non_null(strstr(d.items[0].message, "removed in Linux 4.12"));
	assert_null(p.items);
	tune_diags_release(&d);

	/* keys the kernel does not have, or whose shape differs */
	assert_int_equal(plan_for("proxy",
				  "[sysctl]\n"
				  "net.core.somaxcon = 9000\n"
				  "net.netfilter.nf_conntrack_max = 262144\n"
				  "net.ipv4.tcp_rmem = 4096 131072\n"
				  "net.ipv4.tcp_congestion_control = 1\n"
				  "net.ipv4\n",
				  &st, false, &p, &d),
			 -EINVAL);
	tune_diags_release(&d);
	assert_int_equal(plan_for("proxy",
				  "[sysctl]\n"
				  "net.core.somaxcon = 9000\n"
				  "net.netfilter.nf_conntrack_max = 262144\n"
				  "net.ipv4.tcp_rmem = 4096 131072\n"
				  "net.ipv4.tcp_congestion_control = bbr\n",
				  &st, false, &p, &d),
			 -EINVAL);
	assert_true(has_diag(&d, 2, "net.core.somaxcon", "did you mean net.core.somaxconn?"));
	assert_true(has_diag(&d, 3, "net.netfilter.nf_conntrack_max", "nf_conntrack module"));
	assert_true(has_diag(&d, 4, "net.ipv4.tcp_rmem", "3 whole numbers"));
	assert_int_equal(d.n, 3);
	tune_diags_release(&d);

	/* the kernel refuses port ranges below ip_unprivileged_port_start */
	fk_set("net.ipv4.ip_unprivileged_port_start", "2048");
	assert_int_equal(plan_for("proxy", "[sysctl]\nnet.ipv4.ip_local_port_range = 1024 65535\n", &st, false, &p, &d),
			 -EINVAL);
	assert_true(has_diag(&d, 2, "net.ipv4.ip_local_port_range", "ip_unprivileged_port_start (2048)"));
	tune_diags_release(&d);
	fk_set("net.ipv4.ip_unprivileged_port_start", "1024");

	/* a read-only /proc/sys (a container): refused before anything is written */
	fk_get("net.ipv4.tcp_tw_reuse")->writable = -EROFS;
	assert_int_equal(plan_for("proxy", NULL, &st, false, &p, &d), -EINVAL);
	assert_true(has_diag(&d, 0, "net.ipv4.tcp_tw_reuse", "read-only"));
	tune_diags_release(&d);
	fk_get("net.ipv4.tcp_tw_reuse")->writable = 0;

	/* a profile key this kernel lacks is skipped with a warning; a no-op key is a warning */
	fk_set("net.ipv4.tcp_max_tw_buckets", NULL);
	assert_int_equal(plan_for("web", NULL, &st, false, &p, &d), 0);
	assert_null(find_item(&p, "net.ipv4.tcp_max_tw_buckets"));
	assert_true(has_warning(p.warnings, "net.ipv4.tcp_max_tw_buckets: not on this kernel"));
	tune_plan_release(&p);
}

static void test_plan_services(void **state)
{
	struct tune_state st = { 0 };
	struct tune_request req;
	struct tune_plan p;

	fk_reset();
	assert_int_equal(tune_request_init(&req, "proxy"), 0);
	assert_int_equal(tune_request_add_service(&req, "api", 2000000), 0);
	assert_int_equal(tune_request_add_service(&req, "small", 1024), 0);
	assert_int_equal(tune_request_add_service(&req, "bigger", 3000000), 0);
	const struct tune_entry *e = tune_request_find(&req, "fs.nr_open");
	assert_string_equal(e->value, "3000000");
	assert_string_equal(e->origin, "service bigger");
	assert_non_null(strstr(e->reason, "nofile = 3000000"));
	struct tune_plan_input in = { .request = &req, .state = &st, .kernel = &fake_kernel };
	assert_int_equal(tune_plan(&in, &p, NULL), 0);
	assert_string_equal(item(&p, "fs.nr_open")->after, "3000000");
	assert_int_equal(item(&p, "fs.nr_open")->action, TUNE_ACTION_SET);
	tune_plan_release(&p);
	tune_request_release(&req);

	/* web's own nr_open already covers a small service */
	assert_int_equal(tune_request_init(&req, "web"), 0);
	assert_int_equal(tune_request_add_service(&req, "api", 65536), 0);
	assert_string_equal(tune_request_find(&req, "fs.nr_open")->origin, "profile web");
	tune_request_release(&req);

	/* --check warns about services above fs.nr_open; after the plan, only those still above */
	struct tune_service svc[] = { { "api", 2000000 }, { "web", 65536 }, { "none", UINT64_MAX } };
	char **w = calloc(1, sizeof(char *));
	assert_int_equal(tune_check_services(svc, 3, 1048576, 2000000, UINT64_C(9223372036854775807), true, &w), 0);
	assert_int_equal(strv_length(w), 1);
	assert_non_null(strstr(w[0], "service \"api\" asks for nofile = 2000000, above fs.nr_open = 1048576"));
	strv_free(w);
	w = calloc(1, sizeof(char *));
	assert_int_equal(tune_check_services(svc, 3, 1048576, 2000000, 0, false, &w), 0);
	assert_int_equal(strv_length(w), 0);
	assert_int_equal(tune_check_services(svc, 3, 1048576, 1048576, 1000000, false, &w), 0);
	assert_int_equal(strv_length(w), 1);
	assert_non_null(strstr(w[0], "systemd cannot start it"));
	strv_free(w);
}

static void test_plan_foreign_conf(void **state)
{
	struct tune_state st = { 0 };
	struct tune_request req;
	struct tune_plan p;
	const char *foreign = "# mine\nvm.swappiness = 10\n";

	fk_reset();
	assert_int_equal(tune_request_init(&req, "proxy"), 0);
	struct tune_plan_input in = { .request = &req, .state = &st, .kernel = &fake_kernel, .conf_current = foreign };
	assert_int_equal(tune_plan(&in, &p, NULL), 0);
	assert_string_equal(p.saved_conf, foreign); /* kept aside */
	assert_true(tune_conf_is_ours(p.conf));
	const char *paths[4], *contents[4];
	assert_int_equal(tune_plan_files(&p, "/c", "/s", "/o", paths, contents), 3);
	assert_string_equal(paths[0], "/o"); /* saved before the conf is replaced */
	assert_string_equal(paths[1], "/c");
	assert_string_equal(paths[2], "/s");
	fk_apply(&p, &st);
	_cleanup_free_ char *conf = strdup(p.conf);
	tune_plan_release(&p);
	tune_request_release(&req);

	in = (struct tune_plan_input){ .request = NULL, .state = &st, .kernel = &fake_kernel, .conf_current = conf,
				       .saved_conf_current = foreign };
	assert_int_equal(tune_plan(&in, &p, NULL), 0);
	assert_string_equal(p.conf, foreign); /* put back */
	assert_null(p.saved_conf);
	assert_int_equal(tune_plan_files(&p, "/c", "/s", "/o", paths, contents), 3);
	assert_string_equal(paths[0], "/c"); /* back before the saved copy goes */
	assert_string_equal(paths[1], "/o");
	assert_null(contents[1]);
	tune_plan_release(&p);
	tune_state_release(&st);
}

/* --- the effects module against a fake /proc/sys ----------------------------------------------- */

static char tmp[] = "/tmp/berth-test-tune-XXXXXX";
static char proc[PATH_MAX], conf_path[PATH_MAX], state_path[PATH_MAX], saved_path[PATH_MAX];

static void put(const char *path, const char *text)
{
	_cleanup_free_ char *dir = strdup(path);
	*strrchr(dir, '/') = 0;
	struct stat st;
	if (stat(dir, &st) < 0) {
		/* mkdir -p without a shell */
		for (char *p = dir + 1; *p; p++)
			if (*p == '/') {
				*p = 0;
				(void)mkdir(dir, 0755);
				*p = '/';
			}
		assert_int_equal(mkdir(dir, 0755), 0);
	}
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *get(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	assert_int_not_equal(getdelim(&buf, &len, 0, f), -1);
	fclose(f);
	return buf;
}

static void fake_proc_reset(void)
{
	char p[PATH_MAX * 2];
	for (size_t i = 0; i < ELEMENTSOF(debian12); i++) {
		snprintf(p, sizeof(p), "%s/%s", proc, debian12[i][0]);
		for (char *c = p + strlen(proc) + 1; *c; c++)
			if (*c == '.')
				*c = '/';
		char v[256];
		snprintf(v, sizeof(v), "%s\n", debian12[i][1]);
		put(p, v);
	}
	(void)unlink(conf_path);
	(void)unlink(state_path);
	(void)unlink(saved_path);
}

/* Every file of the fake host, with its content: compared before and after. */
static FILE *snap_f;
static int snap_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_F) {
		_cleanup_free_ char *c = get(path);
		fprintf(snap_f, "%s\n%s\n", path, strempty(c));
	}
	return 0;
}

static char *snapshot(void)
{
	char *buf = NULL;
	size_t len = 0;
	snap_f = open_memstream(&buf, &len);
	assert_int_equal(nftw(tmp, snap_one, 16, FTW_PHYS), 0);
	fclose(snap_f);
	return buf;
}

static int setup_root(void **state)
{
	if (!mkdtemp(tmp))
		return -1;
	snprintf(proc, sizeof(proc), "%s/proc/sys", tmp);
	snprintf(conf_path, sizeof(conf_path), "%s/etc/sysctl.d/60-berth.conf", tmp);
	snprintf(state_path, sizeof(state_path), "%s/var/lib/berth/tune/previous.conf", tmp);
	snprintf(saved_path, sizeof(saved_path), "%s/var/lib/berth/tune/60-berth.conf.orig", tmp);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static int teardown_root(void **state)
{
	fk_n = 0;
	return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The fake kernel: counts writes; clamps net.ipv4.tcp_max_tw_buckets to 1048576 (a kernel that
 * clamps instead of refusing); refuses tcp_tw_reuse = 1 when refuse_tw is set. */
static bool refuse_tw;
static int clamping_kernel(const char *key, const char *value, char **ret_stored, void *userdata)
{
	(*(int *)userdata)++;
	*ret_stored = NULL;
	if (refuse_tw && streq(key, "net.ipv4.tcp_tw_reuse") && streq(value, "1"))
		return -EINVAL;
	if (streq(key, "net.ipv4.tcp_max_tw_buckets") && strtoull(value, NULL, 10) > 1048576)
		*ret_stored = strdup("1048576");
	return 0;
}

static int root_read(const char *key, char **ret, void *userdata)
{
	return sysctl_read(userdata, key, ret);
}

static int root_writable(const char *key, void *userdata)
{
	return sysctl_writable(userdata, key);
}

/* What cmd-tune.c does, against the fake host. revert: profile is ignored. */
static int run_tune(const char *profile, const char *file_text, bool revert, struct sysctl_root *root,
		    struct tune_diags *diags, struct sysctl_failure *fail, int *ret_changes)
{
	_cleanup_free_ char *state_text = get(state_path), *conf = get(conf_path), *saved = get(saved_path);
	struct tune_kernel kernel = { root_read, root_writable, root };
	struct tune_state st = { 0 };
	struct tune_request req = { 0 };
	struct tune_plan p = { 0 };
	int r;

	assert_int_equal(tune_state_parse(state_text, &st, NULL), 0);
	if (!revert) {
		assert_int_equal(tune_request_init(&req, profile ? profile : st.profile), 0);
		if (file_text && (r = tune_request_add_file(&req, "/host.ini", file_text, diags)) < 0)
			goto finish;
	}
	struct tune_plan_input in = { .request = revert ? NULL : &req, .state = &st, .kernel = &kernel,
				      .conf_current = conf, .saved_conf_current = saved, .conf_path = conf_path };
	r = tune_plan(&in, &p, diags);
	if (r < 0)
		goto finish;

	struct sysctl_change ch[64];
	size_t n = 0;
	for (size_t i = 0; i < p.n; i++)
		if (p.items[i].changed)
			ch[n++] = (struct sysctl_change){ p.items[i].key, p.items[i].after };
	const char *paths[4], *contents[4];
	struct sysctl_file pre = { state_path, p.state_early, 0644 }, post[4];
	size_t n_post = tune_plan_files(&p, conf_path, state_path, saved_path, paths, contents);
	for (size_t i = 0; i < n_post; i++)
		post[i] = (struct sysctl_file){ paths[i], contents[i], 0644 };
	r = sysctl_commit(root, &pre, p.state_early ? 1 : 0, ch, n, post, n_post, fail);
	if (r >= 0 && ret_changes)
		*ret_changes = r;
finish:
	tune_plan_release(&p);
	tune_request_release(&req);
	tune_state_release(&st);
	return r < 0 ? r : 0;
}

static void test_sysctl_io(void **state)
{
	struct sysctl_root root = { .path = proc };
	_cleanup_free_ char *v = NULL, *path = NULL;

	fake_proc_reset();
	assert_int_equal(sysctl_path(&root, "net.core.somaxconn", &path), 0);
	assert_non_null(strstr(path, "/proc/sys/net/core/somaxconn"));
	assert_int_equal(strncmp(path, tmp, strlen(tmp)), 0); /* never the host's /proc/sys */
	assert_int_equal(sysctl_path(&root, "../etc", &v), -EINVAL);
	assert_int_equal(sysctl_read(&root, "net.ipv4.ip_local_port_range", &v), 0);
	assert_string_equal(v, "32768\t60999");
	free(v);
	v = NULL;
	assert_int_equal(sysctl_read(&root, "net.ipv4.tcp_tw_recycle", &v), -ENOENT);
	assert_int_equal(sysctl_read(&root, "net.core.somaxconn.x", &v), -ENOENT);
	assert_int_equal(sysctl_read(&root, "net.ipv4", &v), -EISDIR);
	assert_int_equal(sysctl_write(&root, "net.ipv4.tcp_tw_recycle", "1"), -ENOENT);
	assert_int_equal(sysctl_write(&root, "net.ipv4", "1"), -EISDIR);
	assert_int_equal(sysctl_write(&root, "net.core.somaxconn", "1\n2"), -EINVAL);
	assert_int_equal(sysctl_write(&root, "net.core.somaxconn", "8192"), 0);
	assert_int_equal(sysctl_read(&root, "net.core.somaxconn", &v), 0);
	assert_string_equal(v, "8192");

	/* a read-only key (no write bit, like fs.file-nr) */
	assert_int_equal(sysctl_writable(&root, "net.core.somaxconn"), 0);
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/net/core/somaxconn", proc);
	assert_int_equal(chmod(p, 0444), 0);
	assert_int_equal(sysctl_writable(&root, "net.core.somaxconn"), -EACCES);
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(sysctl_writable(&root, "net.nothing"), -ENOENT);
}

static void test_apply_revert_exact(void **state)
{
	int calls = 0, changes = -1;
	struct sysctl_root root = { .path = proc, .kernel = clamping_kernel, .userdata = &calls };
	struct sysctl_failure fail = { 0 };

	fake_proc_reset();
	_cleanup_free_ char *before = snapshot();

	/* apply: live values read back as written, 60-berth.conf and previous.conf written */
	assert_int_equal(run_tune("web", "[sysctl]\nnet.ipv4.tcp_congestion_control = reno\n", false, &root, NULL, &fail,
				  &changes),
			 0);
	assert_int_equal(changes, 11 + 1 + 2); /* 11 values + reno, the conf and previous.conf */
	_cleanup_free_ char *v = NULL;
	assert_int_equal(sysctl_read(&root, "net.ipv4.ip_local_port_range", &v), 0);
	assert_string_equal(v, "10240 65535");
	_cleanup_free_ char *conf = get(conf_path), *prev = get(state_path);
	assert_non_null(conf);
	assert_non_null(strstr(conf, "\nnet.core.somaxconn = 8192\n"));
	assert_non_null(strstr(conf, "\nnet.ipv4.tcp_congestion_control = reno\n"));
	assert_non_null(strstr(prev, "net.ipv4.ip_local_port_range = 32768\t60999\n"));
	assert_non_null(strstr(prev, "net.ipv4.tcp_congestion_control = cubic\n"));
	assert_non_null(strstr(prev, "file = /host.ini\n"));
	struct stat st;
	assert_int_equal(stat(conf_path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	/* idempotent: nothing is written the second time, the files are untouched */
	_cleanup_free_ char *applied = snapshot();
	calls = 0;
	assert_int_equal(run_tune("web", "[sysctl]\nnet.ipv4.tcp_congestion_control = reno\n", false, &root, NULL, &fail,
				  &changes),
			 0);
	assert_int_equal(changes, 0);
	assert_int_equal(calls, 0);
	_cleanup_free_ char *again = snapshot();
	assert_string_equal(again, applied);

	/* revert: byte for byte what was there, the conf and previous.conf gone */
	assert_int_equal(run_tune(NULL, NULL, true, &root, NULL, &fail, &changes), 0);
	assert_int_equal(changes, 12 + 2);
	assert_int_equal(access(conf_path, F_OK), -1);
	assert_int_equal(access(state_path, F_OK), -1);
	_cleanup_free_ char *after = snapshot();
	assert_string_equal(after, before);

	/* reverting twice changes nothing */
	assert_int_equal(run_tune(NULL, NULL, true, &root, NULL, &fail, &changes), 0);
	assert_int_equal(changes, 0);
}

static void test_apply_clamp_rolls_back(void **state)
{
	int calls = 0;
	struct sysctl_root root = { .path = proc, .kernel = clamping_kernel, .userdata = &calls };
	struct sysctl_failure fail = { 0 };

	fake_proc_reset();
	_cleanup_free_ char *before = snapshot();

	/* tcp_max_tw_buckets comes after other web keys: they are written, then undone */
	assert_int_equal(run_tune("web", "[sysctl]\nnet.ipv4.tcp_max_tw_buckets = 2000000\n", false, &root, NULL, &fail,
				  NULL),
			 -ERANGE);
	assert_string_equal(fail.key, "net.ipv4.tcp_max_tw_buckets");
	assert_string_equal(fail.stored, "1048576");
	assert_false(fail.rollback_failed);
	assert_true(calls >= 7); /* 6 keys before it, it, then the undoing */
	sysctl_failure_release(&fail);
	_cleanup_free_ char *after = snapshot();
	assert_string_equal(after, before); /* previous.conf written early is gone again too */

	/* a refused value: the same */
	refuse_tw = true;
	assert_int_equal(run_tune("web", NULL, false, &root, NULL, &fail, NULL), -EINVAL);
	assert_string_equal(fail.key, "net.ipv4.tcp_tw_reuse");
	assert_null(fail.stored);
	refuse_tw = false;
	sysctl_failure_release(&fail);
	_cleanup_free_ char *after2 = snapshot();
	assert_string_equal(after2, before);

	/* applied over an earlier tuning, a failure restores that tuning, not the kernel's defaults */
	assert_int_equal(run_tune("proxy", NULL, false, &root, NULL, &fail, NULL), 0);
	_cleanup_free_ char *proxy = snapshot();
	assert_int_equal(run_tune("web", "[sysctl]\nnet.ipv4.tcp_max_tw_buckets = 2000000\n", false, &root, NULL, &fail,
				  NULL),
			 -ERANGE);
	sysctl_failure_release(&fail);
	_cleanup_free_ char *after3 = snapshot();
	assert_string_equal(after3, proxy);
	assert_int_equal(run_tune(NULL, NULL, true, &root, NULL, &fail, NULL), 0);
}

static void test_apply_invalid_changes_nothing(void **state)
{
	int calls = 0;
	struct sysctl_root root = { .path = proc, .kernel = clamping_kernel, .userdata = &calls };
	struct sysctl_failure fail = { 0 };
	struct tune_diags d = { 0 };

	fake_proc_reset();
	_cleanup_free_ char *before = snapshot();
	assert_int_equal(run_tune("web", "[sysctl]\nnet.core.somaxconn = 9000\n\nnet.ipv4.tcp_tw_recycle = 1\n", false,
				  &root, &d, &fail, NULL),
			 -EINVAL);
	assert_true(has_diag(&d, 4, "net.ipv4.tcp_tw_recycle", "4.12"));
	assert_string_equal(d.items[0].file, "/host.ini");
	tune_diags_release(&d);
	assert_int_equal(calls, 0);
	_cleanup_free_ char *after = snapshot();
	assert_string_equal(after, before);

	/* a key missing from this kernel, in a host file */
	assert_int_equal(run_tune("web", "[sysctl]\nnet.ipv4.tcp_nonsense = 1\n", false, &root, &d, &fail, NULL), -EINVAL);
	assert_true(has_diag(&d, 2, "net.ipv4.tcp_nonsense", "not on this kernel"));
	tune_diags_release(&d);
	assert_int_equal(calls, 0);
}

static void test_apply_foreign_conf(void **state)
{
	struct sysctl_root root = { .path = proc };
	struct sysctl_failure fail = { 0 };

	fake_proc_reset();
	put(conf_path, "# someone else's\nvm.swappiness = 10\n");
	_cleanup_free_ char *before = snapshot();
	assert_int_equal(run_tune("proxy", NULL, false, &root, NULL, &fail, NULL), 0);
	_cleanup_free_ char *saved = get(saved_path), *conf = get(conf_path);
	assert_string_equal(saved, "# someone else's\nvm.swappiness = 10\n");
	assert_true(tune_conf_is_ours(conf));
	assert_int_equal(run_tune(NULL, NULL, true, &root, NULL, &fail, NULL), 0);
	_cleanup_free_ char *after = snapshot();
	assert_string_equal(after, before);
}

static void test_container(void **state)
{
	struct sysctl_container c = { 0 };
	char p[PATH_MAX * 2], q[PATH_MAX * 2], prefix[PATH_MAX];

	snprintf(prefix, sizeof(prefix), "%s/ct", tmp);
	snprintf(p, sizeof(p), "%s/proc/self/ns/net", prefix);
	put(p, "a");
	snprintf(q, sizeof(q), "%s/proc/1/ns/net", prefix);
	(void)mkdir(strcat(strcpy(q, prefix), "/proc/1"), 0755);
	(void)mkdir(strcat(strcpy(q, prefix), "/proc/1/ns"), 0755);
	snprintf(q, sizeof(q), "%s/proc/1/ns/net", prefix);
	assert_int_equal(link(p, q), 0);

	/* a host: no marker, same namespace */
	assert_int_equal(sysctl_detect_container(prefix, &c), 0);
	assert_null(c.name);
	assert_false(c.other_netns);

	/* PID 1's environment */
	snprintf(p, sizeof(p), "%s/proc/1/environ", prefix);
	FILE *f = fopen(p, "we");
	fwrite("PATH=/bin\0container=podman\0HOME=/\0", 1, 34, f);
	fclose(f);
	assert_int_equal(sysctl_detect_container(prefix, &c), 0);
	assert_string_equal(c.name, "podman");
	sysctl_container_release(&c);

	/* systemd's marker wins; another network namespace than PID 1's */
	snprintf(p, sizeof(p), "%s/run/systemd/container", prefix);
	put(p, "systemd-nspawn\n");
	assert_int_equal(unlink(q), 0);
	put(q, "b");
	assert_int_equal(sysctl_detect_container(prefix, &c), 0);
	assert_string_equal(c.name, "systemd-nspawn");
	assert_true(c.other_netns);
	sysctl_container_release(&c);
}

static int teardown_fk(void **state)
{
	for (size_t i = 0; i < fk_n; i++)
		free(fk[i].value);
	fk_n = 0;
	return 0;
}

int main(void)
{
	/* one group (one TAP plan); its setup makes the fake host the effects tests use */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_never_lower),
		cmocka_unit_test(test_host_file),
		cmocka_unit_test(test_host_file_errors),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test_teardown(test_plan_web, teardown_fk),
		cmocka_unit_test_teardown(test_plan_force, teardown_fk),
		cmocka_unit_test_teardown(test_plan_idempotent_and_originals, teardown_fk),
		cmocka_unit_test_teardown(test_plan_profile_value_below_original, teardown_fk),
		cmocka_unit_test_teardown(test_plan_all_or_nothing, teardown_fk),
		cmocka_unit_test_teardown(test_plan_services, teardown_fk),
		cmocka_unit_test_teardown(test_plan_foreign_conf, teardown_fk),
		/* the effects module against a fake /proc/sys */
		cmocka_unit_test(test_sysctl_io),
		cmocka_unit_test(test_apply_revert_exact),
		cmocka_unit_test(test_apply_clamp_rolls_back),
		cmocka_unit_test(test_apply_invalid_changes_nothing),
		cmocka_unit_test(test_apply_foreign_conf),
		cmocka_unit_test(test_container),
	};
	return cmocka_run_group_tests_name("tune", tests, setup_root, teardown_root);
}
