/* test-manifest.c - manifest_load(), the key table, and the validation helpers
 *
 * Fixtures in $SRCDIR/tests/fixtures/manifests; files with bytes that are awkward in git (invalid
 * UTF-8, control characters, NUL) are written by the tests themselves into a temporary directory.
 */
#include "test.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "manifest-keys.h"
#include "manifest.h"
#include "size.h"
#include "strv.h"

static char tmpdir[] = "/tmp/test-manifest.XXXXXX";
static char **tmpfiles;

static const char *srcdir(void)
{
	const char *s = getenv("SRCDIR");
	if (s && *s)
		return s;
#ifdef SRCDIR
	return SRCDIR;
#else
	return ".";
#endif
}

static char *fixture(const char *name)
{
	char *p;
	assert_true(asprintf(&p, "%s/tests/fixtures/manifests/%s", srcdir(), name) > 0);
	return p;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	tmpfiles = calloc(1, sizeof(char *));
	return tmpfiles ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	STRV_FOREACH(f, tmpfiles)
		(void)unlink(*f);
	strv_free(tmpfiles);
	return rmdir(tmpdir) < 0 ? -1 : 0;
}

/* Writes len bytes into a new file in the temporary directory; returns its path (static storage
 * until teardown). */
static const char *write_bytes(const char *data, size_t len)
{
	static unsigned counter;
	char *p;
	FILE *f;

	assert_true(asprintf(&p, "%s/m%u.ini", tmpdir, counter++) > 0);
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strv_push(&tmpfiles, p), 0);
	return p;
}

static const char *write_text(const char *text)
{
	return write_bytes(text, strlen(text));
}

static int load_text(const char *text, struct manifest **m, struct manifest_diags *d)
{
	return manifest_load(write_text(text), m, d);
}

static void dump_diags(const char *path, const struct manifest_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char *s = manifest_diag_format(path, &d->items[i]);
		print_message("  diag: %s\n", s);
		free(s);
	}
}

/* The diag at line for section/key (NULL: any), whose message contains needle. */
static const struct manifest_diag *find_diag(const struct manifest_diags *d, unsigned line, const char *section,
					     const char *key, const char *needle)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct manifest_diag *x = &d->items[i];
		if (x->line != line)
			continue;
		if (section && !streq_ptr(x->section, section))
			continue;
		if (key && !streq_ptr(x->key, key))
			continue;
		if (needle && !strstr(x->message, needle))
			continue;
		return x;
	}
	return NULL;
}

#define assert_diag(d, line, section, key, needle)                                                 \
	do {                                                                                       \
		if (!find_diag((d), (line), (section), (key), (needle))) {                         \
			dump_diags("file", (d));                                                   \
			fail_msg("no diag at line %u [%s] %s containing \"%s\"", (unsigned)(line),       \
				 (section) ? (section) : "-", (key) ? (key) : "-", (needle) ? (needle) : ""); \
		}                                                                                  \
	} while (0)

/* Loads text that must be valid. */
static struct manifest *load_ok(const char *text)
{
	struct manifest *m = NULL;
	struct manifest_diags d = { 0 };
	const char *path = write_text(text);
	int r = manifest_load(path, &m, &d);

	if (r != 0) {
		dump_diags(path, &d);
		fail_msg("manifest_load() = %d for:\n%s", r, text);
	}
	assert_int_equal(d.n, 0);
	assert_non_null(m);
	return m;
}

/* Loads text that must be refused; returns the diags. */
static void load_bad(const char *text, struct manifest_diags *d)
{
	struct manifest *m = (struct manifest *)0x1;
	int r = load_text(text, &m, d);

	if (r != -EINVAL)
		fail_msg("manifest_load() = %d, expected -EINVAL, for:\n%s", r, text);
	assert_true(m == (struct manifest *)0x1); /* untouched on failure */
	assert_true(d->n > 0);
	for (size_t i = 0; i < d->n; i++) {
		assert_non_null(d->items[i].message);
		/* every message is printable: no control characters */
		for (const char *p = d->items[i].message; *p; p++)
			assert_false((unsigned char)*p < 0x20 || *p == 0x7f);
		assert_null(strstr(d->items[i].message, "internal error"));
	}
}

static void assert_strv_equal(char **l, const char *const *expected)
{
	size_t i = 0;
	for (; expected[i]; i++) {
		if (!l[i])
			fail_msg("missing element %zu \"%s\"", i, expected[i]);
		assert_string_equal(l[i], expected[i]);
	}
	if (l[i])
		fail_msg("extra element %zu \"%s\"", i, l[i]);
}

/* ---- whole fixtures ------------------------------------------------------------------------ */

static void test_minimal_defaults(void **state)
{
	_cleanup_free_ char *path = fixture("minimal.ini");
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	struct manifest_diags d = { 0 };

	(void)state;
	assert_int_equal(manifest_load(path, &m, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(m->path, path);
	assert_true(m->dir[0] == '/');
	assert_non_null(strstr(m->dir, "tests/fixtures/manifests"));

	assert_string_equal(m->name, "hello");
	assert_null(m->binary);
	assert_non_null(m->args);
	assert_null(m->args[0]);
	assert_null(m->user); /* dynamic */
	assert_null(m->group);
	assert_null(m->working_directory);
	assert_null(m->environment_file);
	assert_null(m->description);
	assert_non_null(m->after);
	assert_null(m->after[0]);
	assert_non_null(m->wants);
	assert_null(m->wants[0]);
	assert_true(m->stop_timeout == USEC_UNSET);
	assert_int_equal(m->restart, RESTART_ON_FAILURE);
	assert_true(m->restart_delay == USEC_UNSET);
	assert_true(m->start_limit_burst == U64_UNSET);
	assert_true(m->start_limit_interval == USEC_UNSET);

	assert_null(m->env);
	assert_int_equal(m->n_env, 0);

	assert_int_equal(m->cpu_quota_percent, 0);
	assert_true(m->memory_max == SIZE_UNSET);
	assert_true(m->memory_high == SIZE_UNSET);
	assert_true(m->memory_swap_max == SIZE_UNSET);
	assert_true(m->tasks_max == U64_UNSET);
	assert_true(m->nofile == U64_UNSET);
	assert_true(m->cpu_weight == U64_UNSET);
	assert_true(m->io_weight == U64_UNSET);

	assert_null(m->http_url);
	assert_null(m->http_host);
	assert_int_equal(m->http_port, 0);
	assert_null(m->http_path);
	assert_string_equal(m->http_expect, "2xx");
	assert_null(m->tcp_host);
	assert_int_equal(m->tcp_port, 0);
	assert_int_equal(m->listen_port, 0);
	assert_true(m->start_period == USEC_UNSET);
	assert_true(m->interval == USEC_UNSET);
	assert_true(m->timeout == USEC_UNSET);
	assert_true(m->failure_threshold == U64_UNSET);
	assert_true(m->ready_timeout == USEC_UNSET);
	assert_null(m->warmup_url);

	assert_true(m->keep_releases == U64_UNSET);
	assert_true(m->rollback);
	assert_true(m->watch == USEC_UNSET);

	assert_int_equal(m->gomaxprocs_mode, GO_MODE_UNSET);
	assert_int_equal(m->gomaxprocs, 0);
	assert_int_equal(m->gomemlimit_mode, GO_MODE_UNSET);
	assert_int_equal(m->gomemlimit, 0);
	assert_int_equal(m->gomemlimit_ratio_percent, 0);
	assert_null(m->gogc);

	assert_non_null(m->read_write_paths);
	assert_null(m->read_write_paths[0]);
	assert_non_null(m->address_families);
	assert_null(m->address_families[0]);
	assert_false(m->private_network);
	assert_false(m->privileged_port);
	assert_true(m->memory_deny_write_execute);
}

static void test_full_every_field(void **state)
{
	_cleanup_free_ char *path = fixture("full.ini"), *bin = NULL;
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	struct manifest_diags d = { 0 };
	int r;

	(void)state;
	r = manifest_load(path, &m, &d);
	if (r != 0)
		dump_diags(path, &d);
	assert_int_equal(r, 0);

	assert_true(asprintf(&bin, "%s/bin/shop-api", m->dir) > 0);
	assert_string_equal(m->name, "shop-api");
	assert_string_equal(m->binary, bin);
	assert_true(m->binary[0] == '/');
	assert_strv_equal(m->args, (const char *const[]){ "--listen", "127.0.0.1:8080", "--db",
							  "postgres://localhost/shop?sslmode=disable", "-v", NULL });
	assert_string_equal(m->user, "shop");
	assert_string_equal(m->group, "shopgrp");
	assert_string_equal(m->working_directory, "/srv/shop");
	assert_string_equal(m->environment_file, "/etc/shop/env");
	assert_string_equal(m->description, "Shop API (orders, carts)");
	assert_strv_equal(m->after, (const char *const[]){ "network-online.target", "postgresql.service", NULL });
	assert_strv_equal(m->wants, (const char *const[]){ "network-online.target", NULL });
	assert_true(m->stop_timeout == 45 * USEC_PER_SEC);
	assert_int_equal(m->restart, RESTART_ALWAYS);
	assert_true(m->restart_delay == 500 * USEC_PER_MSEC);
	assert_true(m->start_limit_burst == 10);
	assert_true(m->start_limit_interval == 2 * USEC_PER_MINUTE);

	assert_int_equal(m->n_env, 3);
	assert_string_equal(m->env[0].name, "APP_ENV");
	assert_string_equal(m->env[0].value, "production");
	assert_int_equal(m->env[0].line, 23);
	assert_string_equal(m->env[1].name, "Log_Level");
	assert_string_equal(m->env[1].value, "debug");
	assert_int_equal(m->env[1].line, 24);
	assert_string_equal(m->env[2].name, "DATABASE_URL");
	assert_string_equal(m->env[2].value, "postgres://shop@localhost/shop;sslmode=disable");
	assert_int_equal(m->env[2].line, 25);

	assert_int_equal(m->cpu_quota_percent, 150);
	assert_true(m->memory_max == (UINT64_C(1) << 30));
	assert_true(m->memory_high == 768 * (UINT64_C(1) << 20));
	assert_true(m->memory_swap_max == 0);
	assert_true(m->tasks_max == 512);
	assert_true(m->nofile == 65536);
	assert_true(m->cpu_weight == 200);
	assert_true(m->io_weight == 50);

	assert_string_equal(m->http_url, "http://127.0.0.1:8080/healthz?full=1");
	assert_string_equal(m->http_host, "127.0.0.1");
	assert_int_equal(m->http_port, 8080);
	assert_string_equal(m->http_path, "/healthz?full=1");
	assert_string_equal(m->http_expect, "200,204");
	assert_string_equal(m->tcp_host, "::1");
	assert_int_equal(m->tcp_port, 8080);
	assert_int_equal(m->listen_port, 8080);
	assert_true(m->start_period == 10 * USEC_PER_SEC);
	assert_true(m->interval == 3 * USEC_PER_SEC);
	assert_true(m->timeout == 1 * USEC_PER_SEC);
	assert_true(m->failure_threshold == 5);
	assert_true(m->ready_timeout == USEC_PER_HOUR + 30 * USEC_PER_MINUTE);
	assert_string_equal(m->warmup_url, "http://localhost:8080/warmup");

	assert_true(m->keep_releases == 10);
	assert_false(m->rollback);
	assert_true(m->watch == 5 * USEC_PER_MINUTE);

	assert_int_equal(m->gomaxprocs_mode, GO_MODE_VALUE);
	assert_true(m->gomaxprocs == 2);
	assert_int_equal(m->gomemlimit_mode, GO_MODE_VALUE);
	assert_true(m->gomemlimit == 900 * (UINT64_C(1) << 20));
	assert_int_equal(m->gomemlimit_ratio_percent, 0);
	assert_string_equal(m->gogc, "150");

	assert_strv_equal(m->read_write_paths,
			  (const char *const[]){ "/var/lib/shop", "/srv/shop/upload dir", "/var/cache/shop", NULL });
	/* AF_INET is always allowed: only the extras are kept */
	assert_strv_equal(m->address_families, (const char *const[]){ "AF_NETLINK", "AF_PACKET", NULL });
	assert_false(m->private_network);
	assert_true(m->privileged_port);
	assert_false(m->memory_deny_write_execute);
}

static void test_hostile_fixture(void **state)
{
	_cleanup_free_ char *path = fixture("hostile.ini"), *long_value = malloc(901);
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	struct manifest_diags d = { 0 };
	static const struct {
		const char *name, *value;
	} env[] = {
		{ "SPACES", "  value with  spaces  " },
		{ "QUOTES", "say \"hi\" and \\\"bye\\\"" },
		{ "APOSTROPHE", "it's" },
		{ "PERCENT", "100%n %% %h %i" },
		{ "DOLLAR", "$HOME ${HOME} $$ $(id) `id`" },
		{ "SEMI", "a;b#c" },
		{ "MIXED", "it's 50% $HOME; #1 back ${X}" },
		{ "MIXED_BACKSLASH", "it's 50% $HOME \\ back ${X} \"x\"" },
		{ "BACKSLASH", "C:\\path\\to\\x41" },
		{ "EQUALS", "a=b==c" },
		{ "UNICODE", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93" },
		{ "EMPTY", "" },
		{ "LONG", NULL },
		{ "Lower_Case", "kept as written" },
	};
	int r;

	(void)state;
	r = manifest_load(path, &m, &d);
	if (r != 0)
		dump_diags(path, &d);
	assert_int_equal(r, 0);
	memset(long_value, 'x', 900);
	long_value[900] = '\0';

	assert_string_equal(m->name, "hostile");
	assert_string_equal(m->description,
			    "100%n of $USER ${HOME} `id` \"quoted\" 'single' back\\slash %% $$ %i end");
	assert_strv_equal(m->args, (const char *const[]){ "--listen", "127.0.0.1:8080", "two words", "single $HOME",
							  "back slash", "%n", "%%", "%h", "$HOME", "${X}", "$$",
							  "semi;colon", "hash#tag", "dq \"inner\" q", "it's",
							  "back\\slash", "\\n", "--", "end", NULL });
	assert_int_equal(m->restart, RESTART_NO);
	assert_int_equal(m->n_env, ELEMENTSOF(env));
	for (size_t i = 0; i < ELEMENTSOF(env); i++) {
		assert_string_equal(m->env[i].name, env[i].name);
		assert_string_equal(m->env[i].value, env[i].value ? env[i].value : long_value);
	}
}

/* ---- environment, args --------------------------------------------------------------------- */

static void test_environment_case(void **state)
{
	_cleanup_(manifest_freep) struct manifest *m = load_ok("[service]\n"
							       "name = envcase\n"
							       "[environment]\n"
							       "GOGC = 50\n"
							       "MyVar = Mixed Value\n"
							       "lower = x\n"
							       "  Spaced_Name   =   padded   \n"
							       "_U9 = 1\n");

	(void)state;
	assert_int_equal(m->n_env, 5);
	assert_string_equal(m->env[0].name, "GOGC");
	assert_string_equal(m->env[0].value, "50");
	assert_int_equal(m->env[0].line, 4);
	assert_string_equal(m->env[1].name, "MyVar");
	assert_string_equal(m->env[1].value, "Mixed Value");
	assert_int_equal(m->env[1].line, 5);
	assert_string_equal(m->env[2].name, "lower");
	assert_string_equal(m->env[2].value, "x");
	assert_string_equal(m->env[3].name, "Spaced_Name");
	assert_string_equal(m->env[3].value, "padded");
	assert_string_equal(m->env[4].name, "_U9");
	/* [go] gogc is not set, so GOGC in [environment] is fine */
	assert_null(m->gogc);
}

static void test_environment_errors(void **state)
{
	struct manifest_diags d = { 0 };

	(void)state;
	load_bad("[service]\n"
		 "name = x\n"
		 "[environment]\n"
		 "MyVar = 1\n"           /* 4 */
		 "MYVAR = 2\n"           /* 5: same name to iniparser */
		 "MyVar = 3\n"           /* 6: exact duplicate */
		 "1BAD = x\n"            /* 7 */
		 "BAD-NAME = x\n"        /* 8 */
		 "GOMAXPROCS = 4\n"      /* 9: also in [go] */
		 "[go]\n"
		 "gomaxprocs = 2\n",     /* 11 */
		 &d);
	assert_diag(&d, 5, "environment", "MYVAR", "differs only in case from MyVar on line 4");
	assert_diag(&d, 6, "environment", "MyVar", "already set on line 4");
	assert_diag(&d, 7, "environment", "1BAD", "invalid variable name \"1BAD\"");
	assert_diag(&d, 8, "environment", "BAD-NAME", "invalid variable name");
	assert_diag(&d, 9, "environment", "GOMAXPROCS", "[go] gomaxprocs on line 11");
	assert_int_equal(d.n, 5);
	manifest_diags_release(&d);
}

static void test_args_splitting(void **state)
{
	_cleanup_(manifest_freep) struct manifest *m =
		load_ok("[service]\n"
			"name = args\n"
			"args = --listen 127.0.0.1:8080 \"two words\" 'single $HOME' back\\ slash\n");
	_cleanup_(manifest_freep) struct manifest *q = NULL;

	(void)state;
	assert_strv_equal(m->args, (const char *const[]){ "--listen", "127.0.0.1:8080", "two words", "single $HOME",
							  "back slash", NULL });

	/* a value starting with a quote: iniparser alone would keep only "a b" */
	q = load_ok("[service]\nname = args\nargs = \"a b\" c ; comment \"x\"\n");
	assert_strv_equal(q->args, (const char *const[]){ "a b", "c", NULL });
	manifest_free(TAKE_PTR(q));

	/* ; and # inside quotes are text, outside they start a comment */
	q = load_ok("[service]\nname = args\nargs = 'a;b' \"c#d\" e\\;f g # comment\n");
	assert_strv_equal(q->args, (const char *const[]){ "a;b", "c#d", "e;f", "g", NULL });
	manifest_free(TAKE_PTR(q));

	/* empty args: no arguments */
	q = load_ok("[service]\nname = args\nargs =\n");
	assert_non_null(q->args);
	assert_null(q->args[0]);
	manifest_free(TAKE_PTR(q));

	/* "" is one empty argument */
	q = load_ok("[service]\nname = args\nargs = a \"\" b\n");
	assert_strv_equal(q->args, (const char *const[]){ "a", "", "b", NULL });
}

static void test_split_args(void **state)
{
	static const struct {
		const char *in;
		int r;
		const char *out[6];
	} cases[] = {
		{ "", 0, { NULL } },
		{ "   ", 0, { NULL } },
		{ "a", 0, { "a", NULL } },
		{ " a  b\tc ", 0, { "a", "b", "c", NULL } },
		{ "\"a b\" 'c d'", 0, { "a b", "c d", NULL } },
		{ "a\"b c\"d", 0, { "ab cd", NULL } },
		{ "''", 0, { "", NULL } },
		{ "\"\" x", 0, { "", "x", NULL } },
		{ "back\\ slash", 0, { "back slash", NULL } },
		{ "\\\"q\\\"", 0, { "\"q\"", NULL } },
		{ "'no \\ escape'", 0, { "no \\ escape", NULL } },
		{ "\"esc \\\" \\\\ x\"", 0, { "esc \" \\ x", NULL } },
		{ "'it'\\''s'", 0, { "it's", NULL } },
		{ "$HOME ${X} %n", 0, { "$HOME", "${X}", "%n", NULL } },
		{ "\"unterminated", -EINVAL, { NULL } },
		{ "'unterminated", -EINVAL, { NULL } },
		{ "trailing\\", -EINVAL, { NULL } },
		{ "\"a\\\"", -EINVAL, { NULL } },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char **l = (char **)0x1;
		int r = split_args(cases[i].in, &l);
		if (r != cases[i].r)
			fail_msg("split_args(%s) = %d", cases[i].in, r);
		if (r < 0) {
			assert_true(l == (char **)0x1);
			continue;
		}
		assert_strv_equal(l, cases[i].out);
		strv_free(l);
	}
}

/* ---- error classes: each with its exact line, section and key ------------------------------ */

static void test_unknown_keys_and_sections(void **state)
{
	struct manifest_diags d = { 0 };

	(void)state;
	load_bad("name = early\n"             /* 1: before any section */
		 "[service]\n"
		 "name = x\n"
		 "memory = 1G\n"               /* 4: belongs to [resources] */
		 "descripton = typo\n"         /* 5 */
		 "zzzzzz = 1\n"                /* 6: nothing close */
		 "[resources]\n"
		 "memroy = 1G\n"               /* 8 */
		 "[servce]\n"                  /* 9 */
		 "whatever = 1\n"              /* 10: inside an unknown section: not reported again */
		 "[frobnicate]\n"              /* 11 */
		 "[Health]\n"                  /* 12: sections are case-insensitive, like keys */
		 "INTERVAL = 10s\n",           /* 13 */
		 &d);
	assert_diag(&d, 1, NULL, "name", "did you mean [service] name?");
	assert_diag(&d, 4, "service", "memory",
		    "unknown key \"memory\" in [service]: did you mean [resources] memory?");
	assert_diag(&d, 5, "service", "descripton", "did you mean description?");
	assert_diag(&d, 6, "service", "zzzzzz", "unknown key \"zzzzzz\": [service] has name, binary, args");
	assert_diag(&d, 8, "resources", "memroy", "did you mean memory?");
	assert_diag(&d, 9, "servce", NULL, "unknown section [servce]: did you mean [service]?");
	assert_diag(&d, 11, "frobnicate", NULL, "unknown section [frobnicate]: use [service], [environment]");
	assert_int_equal(d.n, 7);
	/* in file order */
	for (size_t i = 1; i < d.n; i++)
		assert_true(d.items[i - 1].line <= d.items[i].line);
	manifest_diags_release(&d);
}

static void test_duplicates(void **state)
{
	struct manifest_diags d = { 0 };

	(void)state;
	load_bad("[service]\n"
		 "name = x\n"
		 "Name = y\n"          /* 3: keys are case-insensitive */
		 "[resources]\n"       /* 4 */
		 "memory = 1G\n"       /* 5 */
		 "[service]\n"         /* 6 */
		 "[resources]\n"       /* 7 */
		 "memory = 2G\n",      /* 8 */
		 &d);
	assert_diag(&d, 3, "service", "name", "duplicate key: name is already set on line 2");
	assert_diag(&d, 6, "service", NULL, "appears again (first on line 1)");
	assert_diag(&d, 7, "resources", NULL, "appears again (first on line 4)");
	assert_diag(&d, 8, "resources", "memory", "already set on line 5");
	assert_int_equal(d.n, 4);
	manifest_diags_release(&d);
}

struct bad_value {
	const char *section, *key, *value, *needle;
};

static const struct bad_value bad_values[] = {
	/* sizes */
	{ "resources", "memory", "512Q",
	  "invalid size \"512Q\": use a whole number with K, M, G or T (powers of 1024), or infinity" },
	{ "resources", "memory", "1.5G", "invalid size \"1.5G\"" },
	{ "resources", "memory", "512MB", "invalid size \"512MB\"" },
	{ "resources", "memory", "-1", "invalid size \"-1\"" },
	{ "resources", "memory", "0", "size \"0\" is too small" },
	{ "resources", "memory", "16777216T", "size \"16777216T\" is too large" },
	{ "resources", "memory_high", "lots", "invalid size \"lots\"" },
	{ "resources", "swap", "1 G", "invalid size \"1 G\"" },
	{ "go", "gomemlimit", "infinity", "invalid value \"infinity\": use auto, off, or a size" },
	{ "go", "gomemlimit", "512K", "size \"512K\" is too small: use at least 1M" },
	/* durations */
	{ "service", "stop_timeout", "5 s", "invalid duration \"5 s\"" },
	{ "service", "stop_timeout", "1.5s", "invalid duration \"1.5s\"" },
	{ "service", "restart_delay", "infinity", "invalid duration \"infinity\"" },
	{ "service", "restart_delay", "5d", "invalid duration \"5d\"" },
	{ "service", "restart_delay", "99999999999h", "duration \"99999999999h\" is too long" },
	{ "health", "interval", "0", "duration \"0\" is too short: use at least 1ms" },
	{ "health", "ready_timeout", "-1s", "invalid duration \"-1s\"" },
	/* percentages and numbers */
	{ "resources", "cpu", "150", "invalid percentage \"150\": use a percentage of one CPU from 1% to 100000%" },
	{ "resources", "cpu", "0%", "percentage \"0%\" is out of range" },
	{ "resources", "cpu", "100001%", "percentage \"100001%\" is out of range" },
	{ "resources", "cpu", "1.5%", "invalid percentage \"1.5%\"" },
	{ "resources", "cpu_weight", "0", "number \"0\" is out of range: use a whole number from 1 to 10000" },
	{ "resources", "io_weight", "10001", "number \"10001\" is out of range" },
	{ "resources", "nofile", "1073741825", "number \"1073741825\" is out of range" },
	{ "resources", "tasks", "0", "number \"0\" is out of range" },
	{ "resources", "tasks", "many", "invalid number \"many\"" },
	{ "health", "failure_threshold", "101", "number \"101\" is out of range: use a whole number from 1 to 100" },
	{ "deploy", "keep_releases", "1", "number \"1\" is out of range: use a whole number from 2 to 100" },
	{ "deploy", "keep_releases", "0x10", "invalid number \"0x10\"" },
	{ "service", "start_limit_burst", "-5", "invalid number \"-5\"" },
	{ "go", "gomaxprocs", "0", "value \"0\" is out of range: use auto, off, or a number from 1 to 1024" },
	{ "go", "gomaxprocs", "1025", "is out of range" },
	{ "go", "gomaxprocs", "Auto", "invalid value \"Auto\"" },
	{ "go", "gogc", "0", "value \"0\" is out of range: use off, or a number from 1 to 100000" },
	{ "go", "gogc", "100001", "is out of range" },
	{ "go", "gomemlimit_ratio", "5%", "percentage \"5%\" is out of range: use a percentage from 10% to 100%" },
	/* ports */
	{ "health", "listen", "0", "port \"0\" is out of range: use a port number from 1 to 65535" },
	{ "health", "listen", "65536", "port \"65536\" is out of range" },
	{ "health", "listen", "http", "invalid port \"http\"" },
	{ "health", "tcp", "127.0.0.1:0", "has an invalid port" },
	{ "health", "tcp", "127.0.0.1:65536", "has an invalid port" },
	{ "health", "tcp", "127.0.0.1", "has no port" },
	{ "health", "tcp", "10.0.0.1:80", "is not on this host" },
	{ "health", "tcp", "example.com:80", "is not on this host" },
	{ "health", "tcp", "::1:80", "without brackets" },
	{ "health", "http", "http://127.0.0.1:0/", "has an invalid port" },
	{ "health", "http", "http://127.0.0.1:65536/", "has an invalid port" },
	/* names */
	{ "service", "name", "-x", "invalid service name \"-x\"" },
	{ "service", "name", ".x", "invalid service name \".x\"" },
	{ "service", "name", "a/b", "invalid service name \"a/b\"" },
	{ "service", "name", "a b", "invalid service name \"a b\"" },
	{ "service", "name", "x\xc3\xa9", "invalid service name" },
	{ "service", "name", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "is longer than 64 characters" },
	{ "service", "user", "Root", "invalid user \"Root\"" },
	{ "service", "user", "a:b", "invalid user" },
	{ "service", "user", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "invalid user" },
	{ "service", "group", "9x", "invalid group \"9x\"" },
	{ "service", "after", "network.target foo", "invalid unit name \"foo\"" },
	{ "service", "wants", "foo@.service", "invalid unit name \"foo@.service\"" },
	{ "service", "wants", "x.servic", "invalid unit name \"x.servic\"" },
	{ "service", "restart", "sometimes", "invalid value \"sometimes\": use on-failure, always or no" },
	{ "service", "restart", "on_failure", "(did you mean on-failure?)" },
	{ "hardening", "address_families", "AF_INET AF_BLUETOOTH", "invalid address family \"AF_BLUETOOTH\"" },
	{ "hardening", "address_families", "af_netlink", "invalid address family \"af_netlink\"" },
	{ "hardening", "network", "maybe", "invalid boolean \"maybe\": use yes or no" },
	{ "deploy", "rollback", "2", "invalid boolean \"2\"" },
	{ "health", "expect", "2xx,", "invalid status set \"2xx,\"" },
	{ "health", "expect", "600", "invalid status set" },
	{ "health", "expect", "299-200", "invalid status set" },
	{ "health", "expect", "6xx", "invalid status set" },
	/* paths */
	{ "service", "working_directory", "srv/app", "path \"srv/app\" is not absolute: use an absolute path" },
	{ "service", "working_directory", "./app", "is not absolute" },
	{ "service", "environment_file", "~/env", "is not absolute" },
	{ "service", "environment_file", "/etc/../shadow", "contains \"..\"" },
	{ "hardening", "read_write_paths", "/var/lib/x relative/y", "path \"relative/y\" is not absolute" },
	{ "hardening", "read_write_paths", "/var/lib/x \"/unterminated", "unterminated quote" },
	{ "hardening", "read_write_paths", "/a/../b", "contains \"..\"" },
	{ "service", "binary", "bin/", "names a directory" },
	{ "service", "binary", "..", "names a directory" },
	/* health URLs: only plain http on this host */
	{ "health", "http", "http://10.0.0.1/", "URL \"http://10.0.0.1/\" is not on this host" },
	{ "health", "http", "https://127.0.0.1:8443/healthz", "uses https" },
	{ "health", "http", "ftp://127.0.0.1/", "is not an http URL" },
	{ "health", "http", "127.0.0.1:8080/healthz", "is not a URL" },
	{ "health", "http", "HTTP://127.0.0.1/", "must start with http:// in lowercase" },
	{ "health", "http", "http://example.com/", "is not on this host" },
	{ "health", "http", "http://[::2]:80/", "is not on this host" },
	{ "health", "http", "http://user@127.0.0.1/", "contains a user name" },
	{ "health", "http", "http://127.0.0.1/a b", "not allowed in a URL path" },
	{ "health", "http", "http://127.0.0.1/%zz", "not allowed in a URL path" },
	{ "health", "http", "http://127.0.0.1?x", "has no path" },
	{ "health", "http", "http://::1/", "without brackets" },
	{ "health", "http", "http://[::1/", "unterminated" },
	{ "health", "http", "http://127.0.0.1.5/", "is not on this host" },
	{ "health", "warmup", "https://localhost/", "uses https" },
	/* empty values */
	{ "resources", "memory", "", "empty value: use a whole number with K" },
	{ "deploy", "keep_releases", "", "or remove the line for the default (5)" },
};

static void test_bad_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(bad_values); i++) {
		const struct bad_value *b = &bad_values[i];
		struct manifest_diags d = { 0 };
		_cleanup_free_ char *text = NULL;

		/* the key is always on line 4 */
		if (streq(b->section, "service") && streq(b->key, "name"))
			assert_true(asprintf(&text, "[service]\n;\n;\nname = %s\n", b->value) > 0);
		else if (streq(b->section, "service"))
			assert_true(asprintf(&text, "[service]\nname = x\n;\n%s = %s\n", b->key, b->value) > 0);
		else
			assert_true(asprintf(&text, "[service]\nname = x\n[%s]\n%s = %s\n", b->section, b->key,
					     b->value) > 0);
		load_bad(text, &d);
		if (!find_diag(&d, 4, b->section, b->key, b->needle)) {
			dump_diags("file", &d);
			fail_msg("[%s] %s = \"%s\": no diag on line 4 containing \"%s\"", b->section, b->key, b->value,
				 b->needle);
		}
		manifest_diags_release(&d);
	}
}

static void test_good_values(void **state)
{
	static const struct {
		const char *section, *key, *value;
	} good[] = {
		{ "resources", "memory", "infinity" },
		{ "resources", "memory", "1073741824" },
		{ "resources", "memory", "512MiB" },
		{ "resources", "swap", "0" },
		{ "resources", "tasks", "infinity" },
		{ "resources", "cpu", "100000%" },
		{ "service", "stop_timeout", "infinity" },
		{ "service", "stop_timeout", "1h 30min" },
		{ "service", "stop_timeout", "90" },
		{ "service", "user", "dynamic" },
		{ "service", "user", "www-data" },
		{ "service", "user", "_svc$" },
		{ "service", "name", "a" },
		{ "service", "name", "A_b.c-9" },
		{ "service", "name", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
		{ "service", "after", "  a.service   b.target  " },
		{ "service", "after", "getty@tty1.service dev-sda\\x2d1.device" },
		{ "service", "binary", "/usr/local/bin/app" },
		{ "service", "binary", "../bin/app" },
		{ "hardening", "address_families", "AF_UNIX AF_INET AF_INET6" },
		{ "hardening", "network", "No" },
		{ "deploy", "rollback", "off" },
		{ "health", "http", "http://localhost/" },
		{ "health", "http", "http://127.1.2.3:1/x/y?z=1&w=%2F" },
		{ "health", "http", "http://[::1]:65535" },
		{ "health", "tcp", "localhost:5432" },
		{ "health", "expect", "2xx, 301 ,302-308" },
		{ "go", "gomaxprocs", "off" },
		{ "go", "gomemlimit", "off" },
		{ "go", "gogc", "off" },
		{ "go", "gomemlimit_ratio", "100%" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		_cleanup_free_ char *text = NULL;
		struct manifest *m;

		if (streq(good[i].section, "service"))
			assert_true(asprintf(&text, "[service]\n%s\n%s = %s\n",
					     streq(good[i].key, "name") ? ";" : "name = x", good[i].key,
					     good[i].value) > 0);
		else
			assert_true(asprintf(&text, "[service]\nname = x\n[%s]\n%s%s = %s\n", good[i].section,
					     streq(good[i].key, "expect") ? "http = http://[::1]/\n" : "", good[i].key,
					     good[i].value) > 0);
		m = load_ok(text);
		manifest_free(m);
	}
}

static void test_cross_checks(void **state)
{
	struct manifest_diags d = { 0 };

	(void)state;
	load_bad("[service]\n"
		 "description = no name\n"
		 "[resources]\n"
		 "memory = 1G\n"
		 "memory_high = 2G\n"          /* 5 */
		 "[health]\n"
		 "expect = 200\n"              /* 7: no http */
		 "timeout = 10s\n"             /* 8: longer than the default interval */
		 "tcp = 127.0.0.1:5432\n"      /* 9 */
		 "[go]\n"
		 "gomemlimit = 2G\n"           /* 11: above memory */
		 "gomemlimit_ratio = 50%\n"    /* 12: only for auto */
		 "gogc = 100\n"                /* 13 */
		 "[hardening]\n"
		 "network = no\n"              /* 15: the checks could not reach it */
		 "[environment]\n"
		 "GOGC = 50\n",                /* 17 */
		 &d);
	assert_diag(&d, 5, "resources", "memory_high", "memory_high (2G) is above memory (1G)");
	assert_diag(&d, 7, "health", "expect", "no http URL");
	assert_diag(&d, 8, "health", "timeout", "timeout (10s) is longer than interval (5s, the default)");
	assert_diag(&d, 11, "go", "gomemlimit", "gomemlimit (2G) is above [resources] memory (1G)");
	assert_diag(&d, 12, "go", "gomemlimit_ratio", "only applies to gomemlimit = auto");
	assert_diag(&d, 15, "hardening", "network", "[health] tcp (on line 9)");
	assert_diag(&d, 17, "environment", "GOGC", "also set by [go] gogc on line 13");
	assert_diag(&d, 0, "service", "name", "required key is missing");
	assert_int_equal(d.n, 8);
	/* the one without a line comes last */
	assert_int_equal(d.items[d.n - 1].line, 0);
	manifest_diags_release(&d);

	/* a key that is given but invalid has its own message, not a second one from a cross-check */
	load_bad("[service]\nname = x\n[health]\nhttp = https://127.0.0.1/\nexpect = 200\ninterval = soon\n"
		 "timeout = 10s\n",
		 &d);
	assert_diag(&d, 4, "health", "http", "uses https");
	assert_diag(&d, 6, "health", "interval", "invalid duration \"soon\"");
	assert_int_equal(d.n, 2);
	manifest_diags_release(&d);

	/* infinity and equal values are fine */
	manifest_free(load_ok("[service]\nname = x\n[resources]\nmemory = 1G\nmemory_high = 1G\n"));
	manifest_free(load_ok("[service]\nname = x\n[resources]\nmemory = infinity\nmemory_high = 8G\n"));
	manifest_free(load_ok("[service]\nname = x\n[health]\ninterval = 2s\ntimeout = 2s\n"));
	manifest_free(load_ok("[service]\nname = x\n[go]\ngomemlimit_ratio = 80%\n"));
	manifest_free(load_ok("[service]\nname = x\n[go]\ngomemlimit = auto\ngomemlimit_ratio = 80%\n"));
	manifest_free(load_ok("[service]\nname = x\n[hardening]\nnetwork = no\n"));
}

/* ---- hostile values ------------------------------------------------------------------------ */

static void test_hostile_literal(void **state)
{
	_cleanup_(manifest_freep) struct manifest *m =
		load_ok("[service]\n"
			"name = lit\n"
			"description = 50%n off for $USER, \"quoted\" and back\\slash\n"
			"[environment]\n"
			"A = %n%s%x\n"
			"B = $VAR ${VAR} $$\n"
			"C = say \"hi\"\n"
			"D = 'has \"double\" quotes'\n"
			"E = \"has 'single' quotes\"\n"
			"F = C:\\dir\\file\n"
			"G = \"semi;colon and #hash\"\n"
			"H = 'semi;colon'\n"
			"I = unquoted ; comment\n"
			"J = unquoted # comment\n"
			"K = trailing backslash is fine here\\ ;\n");

	(void)state;
	assert_string_equal(m->description, "50%n off for $USER, \"quoted\" and back\\slash");
	assert_int_equal(m->n_env, 11);
	assert_string_equal(m->env[0].value, "%n%s%x");
	assert_string_equal(m->env[1].value, "$VAR ${VAR} $$");
	assert_string_equal(m->env[2].value, "say \"hi\"");
	assert_string_equal(m->env[3].value, "has \"double\" quotes");
	assert_string_equal(m->env[4].value, "has 'single' quotes");
	assert_string_equal(m->env[5].value, "C:\\dir\\file");
	assert_string_equal(m->env[6].value, "semi;colon and #hash");
	assert_string_equal(m->env[7].value, "semi;colon");
	assert_string_equal(m->env[8].value, "unquoted");
	assert_string_equal(m->env[9].value, "unquoted");
	/* environment values are written quoted, so a trailing backslash is harmless there; a
	 * comment after it keeps it from continuing the line */
	assert_string_equal(m->env[10].value, "trailing backslash is fine here\\");
}

static void test_hostile_refused(void **state)
{
	static const struct {
		const char *bytes; /* the whole line, key included */
		const char *section, *key, *needle;
	} cases[] = {
		{ "description = caf\xe9", "service", "description", "is not valid UTF-8 (byte 0xe9 at offset 3)" },
		{ "description = \xff\xfe", "service", "description", "is not valid UTF-8 (byte 0xff at offset 0)" },
		{ "description = \xc0\xaf overlong", "service", "description", "is not valid UTF-8" },
		{ "description = \xed\xa0\x80 surrogate", "service", "description", "is not valid UTF-8" },
		{ "description = bell\x01here", "service", "description", "contains the control character 0x01" },
		{ "description = tab\there", "service", "description", "contains a tab" },
		{ "description = del\x7fhere", "service", "description", "contains the control character 0x7f" },
		{ "description = cr\rhere", "service", "description", "contains a carriage return" },
		{ "description = esc\x1b[31mred", "service", "description", "contains the control character 0x1b" },
		{ "description = ends with a backslash\\ ;", "service", "description", "ends with a backslash" },
		{ "working_directory = /srv/x\\ # comment", "service", "working_directory", "ends with a backslash" },
		{ "working_directory = \"/srv/x \"", "service", "working_directory", "ends with a blank" },
		{ "description = \" padded\"", "service", "description", "starts with a blank" },
		{ "description = \"a\\\"b\"", "service", "description", "has a backslash inside quotes" },
		{ "description = \"a\" \"b\"", "service", "description", "continues after its closing \"" },
		{ "description = \"hello\" world", "service", "description", "continues after its closing \"" },
		{ "description = \"unterminated", "service", "description", "has no closing \"" },
		{ "description = 'unterminated", "service", "description", "has no closing '" },
		{ "args = a \x01 b", "service", "args", "contains the control character 0x01" },
		{ "args = \"tab\tinside\"", "service", "args", "contains a tab" },
		{ "args = \xff", "service", "args", "is not valid UTF-8" },
		{ "binary = /bin/\xff", "service", "binary", "is not valid UTF-8" },
		{ "ENV_A = x\x02y", "environment", "ENV_A", "contains the control character 0x02" },
		{ "ENV_B = \xfe", "environment", "ENV_B", "is not valid UTF-8" },
		{ "ENV_C = a\tb", "environment", "ENV_C", "contains a tab" },
		{ "read_write_paths = \"/srv/\x01\"", "hardening", "read_write_paths",
		  "contains the control character" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct manifest_diags d = { 0 };
		_cleanup_free_ char *text = NULL;
		const struct manifest_diag *x;

		assert_true(asprintf(&text, "[service]\nname = x\n[%s]\n%s\n", cases[i].section, cases[i].bytes) > 0);
		if (streq(cases[i].section, "service")) {
			free(text);
			assert_true(asprintf(&text, "[service]\nname = x\n;\n%s\n", cases[i].bytes) > 0);
		}
		load_bad(text, &d);
		x = find_diag(&d, 4, cases[i].section, cases[i].key, cases[i].needle);
		if (!x) {
			dump_diags("file", &d);
			fail_msg("case %zu: no diag on line 4 [%s] %s containing \"%s\"", i, cases[i].section,
				 cases[i].key, cases[i].needle);
		}
		manifest_diags_release(&d);
	}
}

static void test_hostile_keys(void **state)
{
	struct manifest_diags d = { 0 };
	const struct manifest_diag *x;

	(void)state;
	/* key and section names from the file end up in diags: they must come out printable */
	load_bad("[service]\nname = x\nbad\x1b[2Jkey = 1\n[sec\xfftion]\n", &d);
	x = find_diag(&d, 3, "service", NULL, "unknown key");
	assert_non_null(x);
	assert_string_equal(x->key, "bad\\x1b[2Jkey");
	assert_null(strchr(x->key, '\x1b'));
	assert_null(strchr(x->message, '\x1b'));
	x = find_diag(&d, 4, NULL, NULL, "unknown section");
	if (!x || !x->section) {
		fail_msg("no diag for the unknown section");
		return;
	}
	assert_null(strchr(x->section, '\xff'));
	assert_non_null(strstr(x->section, "\\xff"));
	manifest_diags_release(&d);
}

static void test_long_lines(void **state)
{
	struct manifest_diags d = { 0 };
	_cleanup_free_ char *text = NULL, *value = malloc(2048);
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	size_t prefix;

	(void)state;
	assert_non_null(value);
	memset(value, 'v', 2047);
	value[1000] = '\0';

	/* a 1000-character value is kept whole */
	assert_true(asprintf(&text, "[service]\nname = x\ndescription = %s\n[environment]\nLONG = \"%s\"\n", value,
			     value) > 0);
	m = load_ok(text);
	assert_string_equal(m->description, value);
	assert_string_equal(m->env[0].value, value);
	manifest_free(TAKE_PTR(m));
	free(TAKE_PTR(text));

	/* the longest line iniparser reads: MANIFEST_LINE_MAX bytes before the newline */
	prefix = strlen("description = ");
	memset(value, 'v', 2047);
	value[MANIFEST_LINE_MAX - prefix] = '\0';
	assert_true(asprintf(&text, "[service]\nname = x\ndescription = %s\n", value) > 0);
	m = load_ok(text);
	assert_int_equal(strlen(m->description), MANIFEST_LINE_MAX - prefix);
	manifest_free(TAKE_PTR(m));
	free(TAKE_PTR(text));

	/* one more byte: an error naming the line, not a silent cut */
	memset(value, 'v', 2047);
	value[MANIFEST_LINE_MAX - prefix + 1] = '\0';
	assert_true(asprintf(&text, "[service]\nname = x\ndescription = %s\nmemory = 1\n[health]\nlisten = 0\n",
			     value) > 0);
	load_bad(text, &d);
	assert_diag(&d, 3, NULL, NULL, "line is longer than 1022 bytes");
	/* and the scan goes on past it */
	assert_diag(&d, 4, "service", "memory", "did you mean [resources] memory?");
	assert_diag(&d, 6, "health", "listen", "out of range");
	manifest_diags_release(&d);
	free(TAKE_PTR(text));

	/* the same without a final newline */
	assert_true(asprintf(&text, "[service]\nname = x\ndescription = %s", value) > 0);
	load_bad(text, &d);
	assert_diag(&d, 3, NULL, NULL, "line is longer than 1022 bytes");
	manifest_diags_release(&d);
	free(TAKE_PTR(text));

	/* far longer */
	free(value);
	value = malloc(5001);
	memset(value, 'w', 5000);
	value[5000] = '\0';
	assert_true(asprintf(&text, "[service]\nname = x\n[environment]\nX = %s\nY = 1\n", value) > 0);
	load_bad(text, &d);
	assert_diag(&d, 4, NULL, NULL, "line is longer than 1022 bytes");
	assert_int_equal(d.n, 1);
	manifest_diags_release(&d);
	free(TAKE_PTR(text));

	/* continuation lines count together */
	value[600] = '\0';
	assert_true(asprintf(&text, "[service]\nname = x\ndescription = %s\\\n%s\n", value, value) > 0);
	load_bad(text, &d);
	assert_diag(&d, 3, NULL, NULL, "joined with the lines it continues");
	manifest_diags_release(&d);
}

static void test_continuation_and_comments(void **state)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	struct manifest_diags d = { 0 };

	(void)state;
	m = load_ok("# comment\n"
		    "  ; indented comment\n"
		    "[ Service ]\r\n"                       /* CRLF, blanks and case in the header */
		    "NAME = cont\r\n"
		    "description = first \\\n"
		    "   second\n"                           /* the next line's blanks are kept */
		    "# a comment ending in a backslash swallows the next line \\\n"
		    "this line is part of the comment\n"
		    "args = a \\\n"
		    "b\n"
		    "[environment]\n"
		    "X = value ; inline comment\n"
		    "Y = value # inline comment\n"
		    "Z = \"quoted ; not a comment\" ; a comment\n");
	assert_string_equal(m->name, "cont");
	assert_string_equal(m->description, "first    second");
	assert_strv_equal(m->args, (const char *const[]){ "a", "b", NULL });
	assert_string_equal(m->env[0].value, "value");
	assert_string_equal(m->env[1].value, "value");
	assert_string_equal(m->env[2].value, "quoted ; not a comment");
	assert_int_equal(m->env[0].line, 12);

	/* a backslash on the last line continues into nothing */
	load_bad("[service]\nname = x\ndescription = dangling \\", &d);
	assert_diag(&d, 3, NULL, NULL, "continues it onto a line that does not exist");
	manifest_diags_release(&d);

	/* key line numbers count physical lines */
	load_bad("[service]\nname = x\ndescription = a \\\nb \\\nc\nmemory = 1G\n", &d);
	assert_diag(&d, 6, "service", "memory", "did you mean [resources] memory?");
	manifest_diags_release(&d);
}

static void test_syntax_errors(void **state)
{
	struct manifest_diags d = { 0 };

	(void)state;
	load_bad("[service]\n"
		 "name = x\n"
		 "just some words\n"   /* 3 */
		 "[service] ; c\n"     /* 4: iniparser takes no comment after a header */
		 "= value\n"           /* 5 */
		 "[]\n"                /* 6 */
		 "[a]b]\n",            /* 7 */
		 &d);
	assert_diag(&d, 3, NULL, NULL, "syntax error in \"just some words\"");
	assert_diag(&d, 4, NULL, NULL, "a section header is [name] alone on its line");
	assert_diag(&d, 5, NULL, NULL, "syntax error");
	assert_diag(&d, 6, NULL, NULL, "empty section name");
	assert_diag(&d, 7, NULL, NULL, "malformed section header \"[a]b]\"");
	manifest_diags_release(&d);

	/* a byte order mark */
	load_bad("\xef\xbb\xbf[service]\nname = x\n", &d);
	assert_diag(&d, 1, NULL, NULL, "byte order mark");
	manifest_diags_release(&d);

	/* a NUL byte */
	{
		static const char nul[] = "[service]\nname = x\ndescription = a\0b\n";
		struct manifest *m = NULL;
		assert_int_equal(manifest_load(write_bytes(nul, sizeof(nul) - 1), &m, &d), -EINVAL);
		assert_null(m);
		assert_diag(&d, 3, NULL, NULL, "NUL byte");
		manifest_diags_release(&d);
	}

	/* an empty file has no name */
	load_bad("", &d);
	assert_diag(&d, 0, "service", "name", "required key is missing");
	assert_int_equal(d.n, 1);
	manifest_diags_release(&d);
}

static void test_io_errors(void **state)
{
	struct manifest_diags d = { 0 };
	struct manifest *m = NULL;
	_cleanup_free_ char *missing = NULL, *big = malloc(MANIFEST_FILE_MAX + 2);

	(void)state;
	assert_true(asprintf(&missing, "%s/does-not-exist.ini", tmpdir) > 0);
	assert_int_equal(manifest_load(missing, &m, &d), -ENOENT);
	assert_null(m);
	assert_int_equal(d.n, 0);
	assert_int_equal(manifest_load(tmpdir, &m, &d), -EISDIR);
	assert_null(m);
	assert_int_equal(d.n, 0);
	assert_int_equal(manifest_load("/dev/null", &m, &d), -EINVAL);
	assert_diag(&d, 0, NULL, NULL, "not a regular file");
	manifest_diags_release(&d);
	assert_int_equal(manifest_load(NULL, &m, &d), -EINVAL);

	/* too large */
	memset(big, ';', MANIFEST_FILE_MAX + 1);
	big[MANIFEST_FILE_MAX + 1] = '\0';
	for (size_t i = 80; i < MANIFEST_FILE_MAX; i += 80)
		big[i] = '\n';
	assert_int_equal(manifest_load(write_bytes(big, MANIFEST_FILE_MAX + 1), &m, &d), -EINVAL);
	assert_diag(&d, 0, NULL, NULL, "larger than 64 KiB");
	manifest_diags_release(&d);

	/* diags may be NULL */
	assert_int_equal(manifest_load(write_text("[service]\n"), &m, NULL), -EINVAL);
	assert_null(m);
}

static void test_diag_cap_and_order(void **state)
{
	_cleanup_free_ char *text = NULL;
	struct manifest_diags d = { 0 };
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	fprintf(f, "[service]\nname = x\n[resources]\n");
	for (unsigned i = 0; i < 70; i++)
		fprintf(f, "cpu_weight%u = 1\n", i);
	assert_int_equal(fclose(f), 0);
	load_bad(text, &d);
	assert_int_equal(d.n, MANIFEST_DIAGS_MAX);
	assert_int_equal(d.n_dropped, 20);
	for (size_t i = 0; i < d.n; i++)
		assert_int_equal(d.items[i].line, 4 + i);
	manifest_diags_release(&d);
	assert_null(d.items);
	assert_int_equal(d.n, 0);
	manifest_diags_release(NULL);
}

static void test_diag_format(void **state)
{
	struct manifest_diag full = { .line = 12, .section = "resources", .key = "memory", .message = "bad" };
	struct manifest_diag noline = { .line = 0, .section = "service", .key = "name", .message = "missing" };
	struct manifest_diag nokey = { .line = 3, .section = "servce", .message = "unknown" };
	struct manifest_diag bare = { .line = 5, .message = "syntax" };
	struct manifest_diag keyonly = { .line = 1, .key = "name", .message = "early" };
	char *s;

	(void)state;
	s = manifest_diag_format("hello.ini", &full);
	assert_string_equal(s, "hello.ini:12: [resources] memory: bad");
	free(s);
	s = manifest_diag_format("hello.ini", &noline);
	assert_string_equal(s, "hello.ini: [service] name: missing");
	free(s);
	s = manifest_diag_format("hello.ini", &nokey);
	assert_string_equal(s, "hello.ini:3: [servce] unknown");
	free(s);
	s = manifest_diag_format("hello.ini", &bare);
	assert_string_equal(s, "hello.ini:5: syntax");
	free(s);
	s = manifest_diag_format("hello.ini", &keyonly);
	assert_string_equal(s, "hello.ini:1: name: early");
	free(s);
	s = manifest_diag_format(NULL, &full);
	assert_string_equal(s, "line 12: [resources] memory: bad");
	free(s);
	assert_null(manifest_diag_format("x", NULL));
}

static void test_binary_resolution(void **state)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0), *expected = NULL;
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	struct manifest_diags d = { 0 };
	const char *path;

	(void)state;
	assert_non_null(cwd);
	path = write_text("[service]\nname = b\nbinary = ../bin//./app\n");
	/* load it by a relative path from inside the temporary directory */
	assert_int_equal(chdir(tmpdir), 0);
	assert_int_equal(manifest_load(strrchr(path, '/') + 1, &m, &d), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(m->dir, tmpdir);
	assert_true(asprintf(&expected, "%s/../bin/app", tmpdir) > 0);
	assert_string_equal(m->binary, expected);
	manifest_free(TAKE_PTR(m));

	m = load_ok("[service]\nname = b\nbinary = //usr/./local/bin/app\nworking_directory = /srv//app/\n"
		    "[hardening]\nread_write_paths = / /var/lib/\n");
	assert_string_equal(m->binary, "/usr/local/bin/app");
	assert_string_equal(m->working_directory, "/srv/app");
	assert_strv_equal(m->read_write_paths, (const char *const[]){ "/", "/var/lib", NULL });
}

/* ---- helpers ------------------------------------------------------------------------------- */

static void test_name_helpers(void **state)
{
	(void)state;
	assert_true(service_name_is_valid("hello"));
	assert_true(service_name_is_valid("a.b_c-D9"));
	assert_true(service_name_is_valid("9lives"));
	assert_false(service_name_is_valid(""));
	assert_false(service_name_is_valid(NULL));
	assert_false(service_name_is_valid("-x"));
	assert_false(service_name_is_valid(".x"));
	assert_false(service_name_is_valid(".."));
	assert_false(service_name_is_valid("a/b"));
	assert_false(service_name_is_valid("a b"));
	assert_false(service_name_is_valid("a@b"));
	assert_false(service_name_is_valid("a\\b"));
	assert_true(service_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(service_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

	assert_true(env_name_is_valid("GOGC"));
	assert_true(env_name_is_valid("MyVar"));
	assert_true(env_name_is_valid("_"));
	assert_true(env_name_is_valid("a1_"));
	assert_false(env_name_is_valid(""));
	assert_false(env_name_is_valid(NULL));
	assert_false(env_name_is_valid("1A"));
	assert_false(env_name_is_valid("A-B"));
	assert_false(env_name_is_valid("A=B"));
	assert_false(env_name_is_valid("A B"));
	assert_false(env_name_is_valid("\xc3\xa9"));

	assert_true(unit_name_is_valid("network-online.target"));
	assert_true(unit_name_is_valid("postgresql.service"));
	assert_true(unit_name_is_valid("getty@tty1.service"));
	assert_true(unit_name_is_valid("dev-sda\\x2d1.device"));
	assert_true(unit_name_is_valid("-.mount"));
	assert_true(unit_name_is_valid("a.b.socket"));
	assert_false(unit_name_is_valid("getty@.service"));
	assert_false(unit_name_is_valid("@x.service"));
	assert_false(unit_name_is_valid("a@b@c.service"));
	assert_false(unit_name_is_valid("postgresql"));
	assert_false(unit_name_is_valid(".service"));
	assert_false(unit_name_is_valid("x.servic"));
	assert_false(unit_name_is_valid("a b.service"));
	assert_false(unit_name_is_valid("a\\.service"));
	assert_false(unit_name_is_valid("a/b.service"));
	assert_false(unit_name_is_valid(NULL));

	assert_true(user_name_is_valid("www-data"));
	assert_true(user_name_is_valid("_svc"));
	assert_true(user_name_is_valid("machine$"));
	assert_true(user_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(user_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(user_name_is_valid("Root"));
	assert_false(user_name_is_valid("9x"));
	assert_false(user_name_is_valid("-x"));
	assert_false(user_name_is_valid("a$b"));
	assert_false(user_name_is_valid(""));
	assert_false(user_name_is_valid(NULL));
}

static void test_local_http_url(void **state)
{
	static const struct {
		const char *url;
		int r;
		const char *host;
		uint16_t port;
		const char *path;
	} cases[] = {
		{ "http://127.0.0.1:8080/healthz", 0, "127.0.0.1", 8080, "/healthz" },
		{ "http://127.0.0.1/", 0, "127.0.0.1", 80, "/" },
		{ "http://127.0.0.1", 0, "127.0.0.1", 80, "/" },
		{ "http://127.255.0.9:1/a/b?c=d", 0, "127.255.0.9", 1, "/a/b?c=d" },
		{ "http://[::1]:9000/ready", 0, "::1", 9000, "/ready" },
		{ "http://[0:0:0:0:0:0:0:1]/", 0, "0:0:0:0:0:0:0:1", 80, "/" },
		{ "http://localhost:3000/x", 0, "localhost", 3000, "/x" },
		{ "http://LocalHost:3000/x", 0, "localhost", 3000, "/x" },
		{ "http://10.0.0.1/", -EINVAL, NULL, 0, NULL },
		{ "http://0.0.0.0:80/", -EINVAL, NULL, 0, NULL },
		{ "http://128.0.0.1/", -EINVAL, NULL, 0, NULL },
		{ "http://127.0.0.01/", -EINVAL, NULL, 0, NULL },
		{ "http://127.1/", -EINVAL, NULL, 0, NULL },
		{ "http://[::]/", -EINVAL, NULL, 0, NULL },
		{ "http://[::ffff:127.0.0.1]/", -EINVAL, NULL, 0, NULL },
		{ "http://localhost.example.com/", -EINVAL, NULL, 0, NULL },
		{ "https://127.0.0.1/", -EINVAL, NULL, 0, NULL },
		{ "http://127.0.0.1:/", -EINVAL, NULL, 0, NULL },
		{ "http://127.0.0.1:99999/", -EINVAL, NULL, 0, NULL },
		{ "http://127.0.0.1:80x/", -EINVAL, NULL, 0, NULL },
		{ "http:///", -EINVAL, NULL, 0, NULL },
		{ "http://127.0.0.1/#frag", -EINVAL, NULL, 0, NULL },
		{ "http://127.0.0.1/\"", -EINVAL, NULL, 0, NULL },
		{ "", -EINVAL, NULL, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *host = (char *)0x1, *path = (char *)0x1;
		uint16_t port = 7;
		int r = parse_local_http_url(cases[i].url, &host, &port, &path);
		if (r != cases[i].r)
			fail_msg("parse_local_http_url(\"%s\") = %d", cases[i].url, r);
		if (r < 0) {
			assert_true(host == (char *)0x1 && path == (char *)0x1 && port == 7);
			assert_non_null(local_http_url_problem(cases[i].url));
			continue;
		}
		assert_null(local_http_url_problem(cases[i].url));
		assert_string_equal(host, cases[i].host);
		assert_int_equal(port, cases[i].port);
		assert_string_equal(path, cases[i].path);
		free(host);
		free(path);
	}
	assert_int_equal(parse_local_http_url(NULL, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(parse_local_http_url("http://127.0.0.1/", NULL, NULL, NULL), 0);
}

static void test_local_host_port(void **state)
{
	char *host = NULL;
	uint16_t port = 0;

	(void)state;
	assert_int_equal(parse_local_host_port("127.0.0.1:5432", &host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 5432);
	free(host);
	assert_int_equal(parse_local_host_port("[::1]:1", &host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 1);
	free(host);
	assert_int_equal(parse_local_host_port("localhost:65535", &host, &port), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(port, 65535);
	free(host);
	host = (char *)0x1;
	assert_int_equal(parse_local_host_port("127.0.0.1", &host, &port), -EINVAL);
	assert_int_equal(parse_local_host_port("10.1.1.1:80", &host, &port), -EINVAL);
	assert_int_equal(parse_local_host_port("[::1]", &host, &port), -EINVAL);
	assert_int_equal(parse_local_host_port("[::1]x:80", &host, &port), -EINVAL);
	assert_int_equal(parse_local_host_port(":80", &host, &port), -EINVAL);
	assert_int_equal(parse_local_host_port("127.0.0.1:0", &host, &port), -EINVAL);
	assert_int_equal(parse_local_host_port("127.0.0.1:-1", &host, &port), -EINVAL);
	assert_true(host == (char *)0x1);
	assert_non_null(local_host_port_problem(":80"));
	assert_null(local_host_port_problem("localhost:80"));
}

static void test_http_expect(void **state)
{
	static const struct {
		const char *expect;
		bool valid;
		int yes[4], no[4];
	} cases[] = {
		{ "2xx", true, { 200, 204, 299, 0 }, { 199, 300, 404, 0 } },
		{ "2XX", true, { 250, 0 }, { 301, 0 } },
		{ "200", true, { 200, 0 }, { 201, 204, 0 } },
		{ "200,204", true, { 200, 204, 0 }, { 201, 0 } },
		{ "200-299", true, { 200, 250, 299, 0 }, { 300, 199, 0 } },
		{ "2xx,301", true, { 200, 301, 0 }, { 302, 404, 0 } },
		{ "200-299,302", true, { 302, 0 }, { 301, 0 } },
		{ " 200 , 3xx ", true, { 200, 304, 0 }, { 201, 0 } },
		{ "5xx", true, { 500, 599, 0 }, { 499, 0 } },
		{ "", false, { 0 }, { 200, 0 } },
		{ ",", false, { 0 }, { 0 } },
		{ "2xx,", false, { 0 }, { 200, 0 } },
		{ ",200", false, { 0 }, { 200, 0 } },
		{ "20", false, { 0 }, { 0 } },
		{ "2000", false, { 0 }, { 0 } },
		{ "099", false, { 0 }, { 0 } },
		{ "600", false, { 0 }, { 0 } },
		{ "6xx", false, { 0 }, { 0 } },
		{ "0xx", false, { 0 }, { 0 } },
		{ "2x", false, { 0 }, { 0 } },
		{ "299-200", false, { 0 }, { 0 } },
		{ "200-", false, { 0 }, { 0 } },
		{ "200-2xx", false, { 0 }, { 0 } },
		{ "200;204", false, { 0 }, { 0 } },
		{ "ok", false, { 0 }, { 0 } },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		if (http_expect_is_valid(cases[i].expect) != cases[i].valid)
			fail_msg("http_expect_is_valid(\"%s\")", cases[i].expect);
		for (size_t j = 0; cases[i].yes[j]; j++)
			if (!http_status_matches(cases[i].expect, cases[i].yes[j]))
				fail_msg("\"%s\" should match %d", cases[i].expect, cases[i].yes[j]);
		for (size_t j = 0; cases[i].no[j]; j++)
			if (http_status_matches(cases[i].expect, cases[i].no[j]))
				fail_msg("\"%s\" should not match %d", cases[i].expect, cases[i].no[j]);
	}
	assert_false(http_expect_is_valid(NULL));
	assert_false(http_status_matches(NULL, 200));
}

static void test_quote(void **state)
{
	char *q;
	char big[200];

	(void)state;
	q = manifest_quote("plain");
	assert_string_equal(q, "\"plain\"");
	free(q);
	q = manifest_quote("a\"b\\c\x01\xff\xc3\xa9");
	assert_string_equal(q, "\"a\\\"b\\\\c\\x01\\xff\xc3\xa9\"");
	free(q);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	q = manifest_quote(big);
	assert_true(strlen(q) < 80);
	assert_non_null(strstr(q, "...\""));
	free(q);
}

/* ---- the table ----------------------------------------------------------------------------- */

static void test_table(void **state)
{
	const char *const *all = manifest_all_key_names();
	size_t n_all = 0;

	(void)state;
	assert_int_equal(manifest_n_sections, 7);
	for (size_t i = 0; i < manifest_n_keys; i++) {
		const struct manifest_key *k = &manifest_keys[i];
		assert_non_null(manifest_section_lookup(k->section));
		assert_non_null(k->description);
		assert_non_null(manifest_key_allowed(k));
		assert_non_null(manifest_type_name(k->type));
		if (!k->name) {
			assert_string_equal(k->section, "environment");
			assert_true(manifest_key_lookup("environment", "ANYTHING") == k);
			continue;
		}
		n_all++;
		assert_true(manifest_key_lookup(k->section, k->name) == k);
		/* key names are unique over all sections: "did you mean [section] key" relies on it */
		for (size_t j = i + 1; j < manifest_n_keys; j++)
			if (manifest_keys[j].name)
				assert_string_not_equal(k->name, manifest_keys[j].name);
		assert_true(k->set != NULL);
		/* every documented default is a value the key itself accepts */
		if (k->default_text && !streq(k->name, "description")) {
			struct manifest *m = NULL;
			struct manifest_diags d = { 0 };
			_cleanup_free_ char *text = NULL;
			const char *before = streq(k->name, "expect") ? "http = http://127.0.0.1/\n" : "";
			if (streq(k->section, "service"))
				assert_true(asprintf(&text, "[service]\n%s%s = %s\n",
						     streq(k->name, "name") ? "" : "name = x\n", k->name,
						     k->default_text) > 0);
			else
				assert_true(asprintf(&text, "[service]\nname = x\n[%s]\n%s%s = %s\n", k->section,
						     before, k->name, k->default_text) > 0);
			if (load_text(text, &m, &d) != 0) {
				dump_diags("default", &d);
				fail_msg("default of [%s] %s does not load", k->section, k->name);
			}
			manifest_free(m);
		}
	}
	for (; all[0]; all++)
		n_all--;
	assert_int_equal(n_all, 0);
	assert_null(manifest_key_lookup("service", "nope"));
	assert_null(manifest_key_lookup("nope", "name"));
	assert_null(manifest_section_lookup("Service"));
	assert_null(manifest_section_key_names("nope"));
	assert_string_equal(manifest_section_names()[0], "service");
}

/* man/berth.ini.5 documents every section and key of the table, with the same defaults. */
static void test_man_page_matches_table(void **state)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t len = 0;

	(void)state;
	assert_true(asprintf(&path, "%s/man/berth.ini.5", srcdir()) > 0);
	f = fopen(path, "re");
	if (!f)
		fail_msg("cannot open %s", path);
	{
		char buf[4096];
		size_t n;
		FILE *m = open_memstream(&text, &len);
		assert_non_null(m);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			assert_int_equal(fwrite(buf, 1, n, m), n);
		assert_int_equal(fclose(m), 0);
	}
	/* "\-" is how the page writes "-" */
	for (char *r = text, *w = text;; r++) {
		if (r[0] == '\\' && r[1] == '-')
			r++;
		*w++ = *r;
		if (!*r)
			break;
	}

	for (size_t s = 0; s < manifest_n_sections; s++) {
		_cleanup_free_ char *heading = NULL;
		const char *start, *end;

		assert_true(asprintf(&heading, ".SS \"[%s]\"", manifest_sections[s].name) > 0);
		start = strstr(text, heading);
		if (!start)
			fail_msg("man page has no %s", heading);
		end = strstr(start + 1, ".SS ");
		if (!end)
			end = strstr(start + 1, ".SH ");
		if (!end)
			end = start + strlen(start);

		for (size_t i = 0; i < manifest_n_keys; i++) {
			const struct manifest_key *k = &manifest_keys[i];
			_cleanup_free_ char *entry = NULL, *dflt = NULL;
			const char *at, *next;

			if (!streq(k->section, manifest_sections[s].name) || !k->name)
				continue;
			assert_true(asprintf(&entry, ".TP\n.BI \"%s = \"", k->name) > 0);
			at = strstr(start, entry);
			if (!at || at > end)
				fail_msg("man page does not document [%s] %s in its section", k->section, k->name);
			next = strstr(at + 1, ".TP");
			if (!next || next > end)
				next = end;
			assert_true(asprintf(&dflt, "Default: \\fB%s\\fR", k->default_text ? k->default_text : "") > 0);
			if (k->default_text) {
				const char *dd = strstr(at, dflt);
				if (!dd || dd > next)
					fail_msg("man page entry of [%s] %s lacks \"%s\"", k->section, k->name, dflt);
			} else {
				const char *dd = strstr(at, "Default: \\fB");
				if (dd && dd < next)
					fail_msg("man page gives [%s] %s a default the table does not have", k->section,
						 k->name);
			}
		}
	}
}

/* ---- the same meaning on iniparser 4.1 (Debian 12) and 4.2 (Debian 13) ---------------------- */

/* These run against whichever iniparser the tests are linked with, with the same expectations:
 * a text both versions read alike is accepted with that value, any other is refused with a
 * spelling that both read alike. */
static void test_quoting_same_everywhere(void **state)
{
	static const struct {
		const char *line; /* in [environment] */
		const char *value; /* accepted with this value, or NULL: refused */
		const char *needle;
	} cases[] = {
		/* outside quotes a backslash is a backslash, in both */
		{ "V = C:\\dir\\x41", "C:\\dir\\x41", NULL },
		{ "V = a\\\"b\\'c\\\\d", "a\\\"b\\'c\\\\d", NULL },
		{ "V = say \"hi\" and \\\"bye\\\"", "say \"hi\" and \\\"bye\\\"", NULL },
		{ "V = back\\ ; a comment", "back\\", NULL },
		/* quoted without a backslash: the text between the quotes, in both */
		{ "V = \"a;b # c\"", "a;b # c", NULL },
		{ "V = ' padded '", " padded ", NULL },
		{ "V = \"it's\" ; comment \\ with \"quotes\\\"", "it's", NULL },
		{ "V = \"\"", "", NULL },
		{ "V = ''", "", NULL },
		/* quoted with a backslash: 4.1 keeps it, 4.2 takes it as an escape; the advice never
		 * shows an [environment] value (it may be a secret): test_quoting_advice has it shown */
		{ "V = \"C:\\dir\"", NULL, "the value has a backslash inside quotes, which iniparser 4.1 (Debian 12) keeps but 4.2 (Debian 13) takes as an escape: write it without quotes" },
		{ "V = \"C:\\\\dir\"", NULL, "write it without quotes" },
		{ "V = \"a\\\"b\"", NULL, "write it without quotes" },
		{ "V = 'say \\\"hi\\\"'", NULL, "write it without quotes" },
		{ "V = 'it\\'s; ok'", NULL, "write it in \"...\"" },
		{ "V = \"x\\\"", NULL, "end the line with a comment (\" ;\")" },
		{ "V = \"a;b\\\\c\"", NULL, "set the variable in an environment_file instead" },
		{ "V = \" \\\\ \"", NULL, "no spelling reads the same in both" },
		{ "V = \"a\\tb\"", NULL, "has a backslash inside quotes, which iniparser 4.1 (Debian 12) keeps but 4.2 (Debian 13) takes as an escape" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = NULL;

		assert_true(asprintf(&text, "[service]\nname = x\n[environment]\n%s\n", cases[i].line) > 0);
		if (cases[i].value) {
			_cleanup_(manifest_freep) struct manifest *m = load_ok(text);
			assert_int_equal(m->n_env, 1);
			if (!streq(m->env[0].value, cases[i].value))
				fail_msg("%s: read as \"%s\", expected \"%s\"", cases[i].line, m->env[0].value,
					 cases[i].value);
		} else {
			struct manifest_diags d = { 0 };
			load_bad(text, &d);
			assert_int_equal(d.n, 1);
			if (!find_diag(&d, 4, "environment", "V", cases[i].needle)) {
				dump_diags("file", &d);
				fail_msg("%s: no diag containing \"%s\"", cases[i].line, cases[i].needle);
			}
			/* the text between the quotes is not in the message */
			const char *raw = strchr(cases[i].line, '=') + 2;
			_cleanup_free_ char *inner = strndup(raw + 1, strlen(raw) - 2);
			if (strlen(inner) >= 3 && strstr(d.items[0].message, inner))
				fail_msg("%s: the message shows the value: %s", cases[i].line, d.items[0].message);
			manifest_diags_release(&d);
		}
	}
}

/* The same advice for a key that is no secret shows the spelling to use. */
/* The copy anyone may read has no [environment], whatever its case, blanks or continued lines. */
static void test_public_text(void **state)
{
	static const char *const text = "[service]\nname = web\n[ Environment ]\nTOKEN = s3cret \\\n"
					 "[not-a-header]\n  DB = x\n[health]\nhttp = http://127.0.0.1:8080/\n"
					 "[environment]\nMORE = secret2";
	_cleanup_free_ char *pub = NULL;

	(void)state;
	assert_int_equal(manifest_public_text(text, &pub), 0);
	assert_string_equal(pub, "[service]\nname = web\n[health]\nhttp = http://127.0.0.1:8080/\n");
	assert_null(strstr(pub, "secret"));
}

static void test_quoting_advice(void **state)
{
	static const struct {
		const char *line; /* in [service] */
		const char *needle;
	} cases[] = {
		{ "description = \"C:\\dir\"", "write it without quotes, as description = C:\\dir" },
		{ "description = \"a\\\"b\"", "write it without quotes, as description = a\"b" },
		{ "description = 'it\\'s; ok'", "write it as description = \"it's; ok\"" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = NULL;
		struct manifest_diags d = { 0 };

		assert_true(asprintf(&text, "[service]\nname = x\n%s\n", cases[i].line) > 0);
		load_bad(text, &d);
		if (!find_diag(&d, 3, "service", "description", cases[i].needle)) {
			dump_diags("file", &d);
			fail_msg("%s: no diag containing \"%s\"", cases[i].line, cases[i].needle);
		}
		manifest_diags_release(&d);
	}

	/* the advice names the key as written, in any section */
	struct manifest_diags d = { 0 };
	load_bad("[service]\nname = x\nDescription = \"50\\% off\"\n", &d);
	assert_diag(&d, 3, "service", "description", "as Description = 50\\% off");
	assert_int_equal(d.n, 1);
	manifest_diags_release(&d);
}

/* A broken header names another section in 4.1 than in 4.2 ("[service]]": "service" or
 * "service]"): what follows it must not reach the keys of a good section in either. */
static void test_broken_headers_same_everywhere(void **state)
{
	struct manifest_diags d = { 0 };

	(void)state;
	load_bad("[service]\n"
		 "name = good\n"
		 "[service]]\n"        /* 3 */
		 "name = bad name!\n"
		 "[]\n"                /* 5: 4.1 keeps the previous section, 4.2 opens "" */
		 "name = bad too!\n"
		 "[resources]x]\n"     /* 7 */
		 "memory = lots\n"
		 "[resources]\n"
		 "memory = 1G\n",
		 &d);
	assert_diag(&d, 3, NULL, NULL, "malformed section header \"[service]]\"");
	assert_diag(&d, 5, NULL, NULL, "empty section name");
	assert_diag(&d, 7, NULL, NULL, "malformed section header \"[resources]x]\"");
	assert_int_equal(d.n, 3);
	manifest_diags_release(&d);

	/* a repeated key's value is the first one, the one the message points at */
	load_bad("[service]\nname = x\nname = bad name!\n", &d);
	assert_diag(&d, 3, "service", "name", "already set on line 2");
	assert_int_equal(d.n, 1);
	manifest_diags_release(&d);

	/* "[service:name]" would be the same dictionary entry as [service] name */
	load_bad("[service]\nname = x\n[service:name]\n", &d);
	assert_diag(&d, 3, "service:name", NULL, "unknown section");
	assert_int_equal(d.n, 1);
	manifest_diags_release(&d);

	/* a line iniparser would refuse (and then load nothing) does not hide the others' problems */
	load_bad("[service]\nname = x\nnot ini at all\n[resources]\nmemory = lots\n", &d);
	assert_diag(&d, 3, NULL, NULL, "syntax error in \"not ini at all\"");
	assert_diag(&d, 5, "resources", "memory", "invalid size \"lots\"");
	assert_int_equal(d.n, 2);
	manifest_diags_release(&d);
}

/* ---- robustness: mutations of a valid file ------------------------------------------------- */

/* One line of what a load gave, for comparing runs against different iniparser versions. */
static void results_str(FILE *f, const char *what, const char *v)
{
	fprintf(f, " %s=", what);
	if (!v) {
		fputc('-', f);
		return;
	}
	fputc('<', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		fprintf(f, *p < 0x20 || *p >= 0x7f || *p == '<' || *p == '>' ? "\\x%02x" : "%c", *p);
	fputc('>', f);
}

static void results_line(FILE *f, const char *name, unsigned round, int r, const struct manifest *m,
			 const struct manifest_diags *d)
{
	fprintf(f, "%s %u r=%d", name, round, r);
	if (m) {
		char *const *lists[] = { m->args, m->after, m->wants, m->read_write_paths, m->address_families };
		results_str(f, "name", m->name);
		results_str(f, "description", m->description);
		results_str(f, "user", m->user);
		results_str(f, "working_directory", m->working_directory);
		results_str(f, "http", m->http_url);
		for (size_t i = 0; i < ELEMENTSOF(lists); i++)
			STRV_FOREACH(a, lists[i])
				results_str(f, "item", *a);
		for (size_t i = 0; i < m->n_env; i++) {
			fprintf(f, " %u", m->env[i].line);
			results_str(f, m->env[i].name, m->env[i].value);
		}
		fprintf(f, " memory=%" PRIu64 " cpu=%u", m->memory_max, m->cpu_quota_percent);
	}
	for (size_t i = 0; d && i < d->n; i++) {
		_cleanup_free_ char *s = manifest_diag_format(NULL, &d->items[i]);
		results_str(f, "diag", s);
	}
	fputc('\n', f);
}

/* Random edits of the valid fixtures, with the characters INI quoting is made of. No load may
 * crash, leak, or find iniparser and the index in disagreement. With BERTH_MANIFEST_RESULTS=FILE,
 * every result is written to FILE: the same file from a Debian 12 and a Debian 13 build shows
 * that both iniparser versions give every one of these manifests the same meaning. */
static void test_mutations(void **state)
{
	static const char *const fixtures[] = { "full.ini", "hostile.ini" };
	static const char inject[] = "[]=;#\"'\\ \t\n\x01\xff\xc3%$:";
	const char *rounds_env = getenv("BERTH_TEST_MUTATIONS"), *results_env = getenv("BERTH_MANIFEST_RESULTS");
	unsigned rounds = rounds_env ? (unsigned)strtoul(rounds_env, NULL, 10) : 1000;
	uint64_t seed = 0x853c49e6748fea9bULL;
	_cleanup_fclose_ FILE *results = NULL;

	(void)state;
	if (results_env) {
		results = fopen(results_env, "we");
		assert_non_null(results);
	}
	for (size_t fx = 0; fx < ELEMENTSOF(fixtures); fx++) {
		_cleanup_free_ char *path = fixture(fixtures[fx]), *orig = malloc(MANIFEST_FILE_MAX);
		size_t len;
		FILE *f = fopen(path, "re");

		assert_non_null(f);
		assert_non_null(orig);
		len = fread(orig, 1, MANIFEST_FILE_MAX, f);
		fclose(f);
		assert_true(len > 0);

		for (unsigned i = 0; i < rounds; i++) {
			_cleanup_free_ char *buf = malloc(len + 64);
			struct manifest *m = NULL;
			struct manifest_diags d = { 0 };
			size_t n = len;
			int r;

			memcpy(buf, orig, len);
			for (unsigned k = 0; k < 1 + i % 4; k++) {
				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				size_t at = (size_t)(seed % n);
				char c = inject[(seed >> 32) % (sizeof(inject) - 1)];
				switch ((seed >> 48) % 3) {
				case 0: /* replace */
					buf[at] = c;
					break;
				case 1: /* insert */
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = c;
					n++;
					break;
				default: /* delete */
					memmove(buf + at, buf + at + 1, n - at - 1);
					n--;
					break;
				}
			}
			r = manifest_load(write_bytes(buf, n), &m, &d);
			if (results)
				results_line(results, fixtures[fx], i, r, m, &d);
			if (r == 0) {
				assert_non_null(m);
				assert_int_equal(d.n, 0);
				manifest_free(m);
			} else {
				assert_int_equal(r, -EINVAL);
				assert_null(m);
				assert_true(d.n > 0);
				for (size_t j = 0; j < d.n; j++) {
					if (strstr(d.items[j].message, "internal error") ||
					    strstr(d.items[j].message, "INI parser reports")) {
						dump_diags("mutated", &d);
						fail_msg("%s round %u: iniparser and the index disagree", fixtures[fx], i);
					}
				}
				manifest_diags_release(&d);
			}
			(void)unlink(tmpfiles[strv_length(tmpfiles) - 1]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_full_every_field),
		cmocka_unit_test(test_hostile_fixture),
		cmocka_unit_test(test_environment_case),
		cmocka_unit_test(test_environment_errors),
		cmocka_unit_test(test_args_splitting),
		cmocka_unit_test(test_split_args),
		cmocka_unit_test(test_unknown_keys_and_sections),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_hostile_literal),
		cmocka_unit_test(test_hostile_refused),
		cmocka_unit_test(test_hostile_keys),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_continuation_and_comments),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_io_errors),
		cmocka_unit_test(test_diag_cap_and_order),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_binary_resolution),
		cmocka_unit_test(test_name_helpers),
		cmocka_unit_test(test_local_http_url),
		cmocka_unit_test(test_local_host_port),
		cmocka_unit_test(test_http_expect),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_man_page_matches_table),
		cmocka_unit_test(test_quoting_same_everywhere),
		cmocka_unit_test(test_quoting_advice),
		cmocka_unit_test(test_public_text),
		cmocka_unit_test(test_broken_headers_same_everywhere),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
