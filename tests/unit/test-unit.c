/* test-unit.c - rendering: hardening, limits, Go settings, and that no value can add a directive */
#include "test.h"

#include <inttypes.h>

#include "goruntime.h"
#include "macro.h"
#include "strv.h"
#include "unit.h"
#include "unit-decode.h"

/* Every key berth may write. A rendered unit with any other key has been injected into. */
static const char *const allowed_keys[] = {
	"Description", "Documentation", "After", "Wants", "StartLimitIntervalSec", "StartLimitBurst",
	"Type", "ExecStart", "ExecStartPost", "Restart", "RestartSec", "TimeoutStopSec",
	"TimeoutStartSec", "KillMode", "DynamicUser", "User", "Group", "StateDirectory",
	"StateDirectoryMode", "CacheDirectory", "CacheDirectoryMode", "LogsDirectory", "LogsDirectoryMode", "WorkingDirectory", "Environment",
	"EnvironmentFile", "CPUQuota", "MemoryMax", "MemoryHigh", "MemorySwapMax", "TasksMax",
	"LimitNOFILE", "CPUWeight", "IOWeight", "NoNewPrivileges", "ProtectSystem", "ProtectHome",
	"PrivateTmp", "PrivateDevices", "PrivateMounts", "PrivateUsers", "PrivateNetwork",
	"ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
	"ProtectClock", "ProtectHostname", "ProtectProc", "RestrictNamespaces",
	"RestrictRealtime", "RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute", "RemoveIPC",
	"KeyringMode", "DevicePolicy", "UMask", "SystemCallArchitectures", "SystemCallFilter",
	"SystemCallErrorNumber", "RestrictAddressFamilies", "CapabilityBoundingSet",
	"AmbientCapabilities", "ReadWritePaths", "WantedBy", NULL,
};

static struct manifest *new_manifest(const char *name)
{
	struct manifest *m = calloc(1, sizeof(*m));
	m->name = strdup(name);
	m->path = strdup("/etc/berth/test.ini");
	m->args = calloc(1, sizeof(char *));
	m->after = calloc(1, sizeof(char *));
	m->wants = calloc(1, sizeof(char *));
	m->read_write_paths = calloc(1, sizeof(char *));
	m->address_families = calloc(1, sizeof(char *));
	m->stop_timeout = m->restart_delay = m->start_limit_interval = USEC_UNSET;
	m->start_limit_burst = U64_UNSET;
	m->memory_max = m->memory_high = m->memory_swap_max = SIZE_UNSET;
	m->tasks_max = m->nofile = m->cpu_weight = m->io_weight = U64_UNSET;
	m->memory_deny_write_execute = true;
	m->rollback = true;
	return m;
}

static void free_manifest(struct manifest *m)
{
	free(m->name);
	free(m->path);
	free(m->description);
	strv_free(m->args);
	strv_free(m->after);
	strv_free(m->wants);
	strv_free(m->read_write_paths);
	strv_free(m->address_families);
	for (size_t i = 0; i < m->n_env; i++) {
		free(m->env[i].name);
		free(m->env[i].value);
	}
	free(m->env);
	free(m);
}

static char *render(const struct manifest *m, const struct elf_info *bin, unsigned cpus)
{
	struct unit_context ctx = { .berth_path = "/usr/bin/berth", .binary = bin, .host_cpus = cpus };
	struct rendered_unit out = { 0 };
	assert_int_equal(unit_render(m, &ctx, &out), 0);
	assert_int_equal(out.n_files, 1);
	assert_string_equal(out.files[0].path, "/etc/systemd/system/hello.service");
	char *c = strdup(out.files[0].content);
	rendered_unit_release(&out);
	return c;
}

/* Checks the structure the way systemd reads it: sections, Key=value lines, comments; no line
 * continues onto the next; every key is one berth writes. Returns the number of lines with key. */
static int count_key(const char *unit, const char *key)
{
	int n = 0;
	char *copy = strdup(unit), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(l), bs = 0;
		while (bs < len && l[len - 1 - bs] == '\\')
			bs++;
		assert_true(bs % 2 == 0); /* no continuation lines */
		if (l[0] == '#' || l[0] == ';')
			continue;
		if (l[0] == '[') {
			assert_true(strcmp(l, "[Unit]") == 0 || strcmp(l, "[Service]") == 0 ||
				    strcmp(l, "[Install]") == 0);
			continue;
		}
		char *eq = strchr(l, '=');
		assert_non_null(eq);
		*eq = 0;
		bool known = false;
		for (const char *const *k = allowed_keys; *k; k++)
			known = known || strcmp(*k, l) == 0;
		if (!known)
			fail_msg("unexpected key \"%s\" in rendered unit", l);
		if (strcmp(l, key) == 0)
			n++;
	}
	free(copy);
	return n;
}

/* The value of the only line with key, or the n-th one. */
static char *value_of(const char *unit, const char *key, int nth)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "\n%s=", key);
	const char *p = unit;
	for (int i = 0; i <= nth; i++) {
		p = strstr(p, pat);
		if (!p)
			return NULL;
		p += strlen(pat);
	}
	return strndup(p, strcspn(p, "\n"));
}

static void assert_line(const char *unit, const char *line)
{
	char pat[512];
	snprintf(pat, sizeof(pat), "\n%s\n", line);
	if (!strstr(unit, pat))
		fail_msg("missing line \"%s\" in:\n%s", line, unit);
}

static void test_hardened_defaults(void **state)
{
	struct manifest *m = new_manifest("hello");
	char *u = render(m, NULL, 2);
	const char *lines[] = { "DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict",
				"ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes", "PrivateUsers=yes",
				"ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes",
				"ProtectControlGroups=yes", "ProtectClock=yes", "ProtectHostname=yes",
				"RestrictNamespaces=yes", "RestrictRealtime=yes", "RestrictSUIDSGID=yes",
				"LockPersonality=yes", "MemoryDenyWriteExecute=yes",
				"SystemCallArchitectures=native", "SystemCallFilter=@system-service",
				"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet=",
				"UMask=0077", "StateDirectory=hello", "CacheDirectory=hello",
				"CacheDirectoryMode=0700", "Restart=on-failure", "RestartSec=1s",
				"TimeoutStopSec=30s", "StartLimitBurst=5", "StartLimitIntervalSec=1min",
				"ExecStart=\"/var/lib/berth/hello/current/hello\"", "Description=berth service hello",
				"WantedBy=multi-user.target", NULL };
	for (const char **l = lines; *l; l++)
		assert_line(u, *l);
	assert_int_equal(count_key(u, "ExecStart"), 1);
	assert_int_equal(count_key(u, "User"), 0);
	assert_int_equal(count_key(u, "MemoryMax"), 0);
	assert_int_equal(count_key(u, "PrivateNetwork"), 0);
	assert_non_null(strstr(u, "# Managed by berth"));
	/* deterministic: the same manifest renders the same bytes */
	char *again = render(m, NULL, 2);
	assert_string_equal(u, again);
	free(again);
	free(u);
	free_manifest(m);
}

static void test_hostile_values(void **state)
{
	struct manifest *m = new_manifest("hello");
	const char *args[] = { "--flag=$HOME", "${PATH}", "%n%i%%", "two words", "\"quoted\"", "back\\slash",
			       ";", "\\;", "-", "@x", "x\\", "#not-a-comment", "ExecStartPre=/bin/sh",
			       "[Service]", "ü✓", NULL };
	for (const char **a = args; *a; a++)
		strv_extend(&m->args, *a);
	m->description = strdup("Evil %n $X \"q\" ; # ExecStartPre=/bin/evil");
	m->env = calloc(3, sizeof(*m->env));
	m->env[0] = (struct env_var){ strdup("GOGC"), strdup("50") };
	m->env[1] = (struct env_var){ strdup("MyVar"), strdup("a \"b\" $HOME %n \\ ;# ExecStartPre=/x") };
	m->env[2] = (struct env_var){ strdup("EMPTY"), strdup("") };
	m->n_env = 3;
	strv_extend(&m->read_write_paths, "/srv/with space");
	strv_extend(&m->read_write_paths, "/srv/100%");

	char *u = render(m, NULL, 2);
	assert_int_equal(count_key(u, "ExecStart"), 1);
	assert_int_equal(count_key(u, "ExecStartPost"), 0);
	/* the manifest's three, then HOME and four XDG directories */
	assert_int_equal(count_key(u, "Environment"), 3 + 5);

	char *exec = value_of(u, "ExecStart", 0), **w = NULL;
	int n = decode_words(exec, true, &w);
	assert_int_equal(n, 1 + (int)strv_length(m->args));
	assert_string_equal(w[0], "/var/lib/berth/hello/current/hello");
	for (int i = 1; i < n; i++)
		assert_string_equal(w[i], m->args[i - 1]);
	free_words(w);
	free(exec);

	for (int i = 0; i < 3; i++) {
		char *v = value_of(u, "Environment", i), **e = NULL, *want = NULL;
		assert_int_equal(decode_words(v, false, &e), 1);
		assert_true(asprintf(&want, "%s=%s", m->env[i].name, m->env[i].value) > 0);
		assert_string_equal(e[0], want);
		free(want);
		free_words(e);
		free(v);
	}
	char *d = value_of(u, "Description", 0), *dd = decode_text(d);
	assert_string_equal(dd, m->description);
	free(dd);
	free(d);
	char *rw = value_of(u, "ReadWritePaths", 0), **p = NULL;
	assert_int_equal(decode_words(rw, false, &p), 2);
	assert_string_equal(p[0], "/srv/with space");
	assert_string_equal(p[1], "/srv/100%");
	free_words(p);
	free(rw);
	free(u);
	free_manifest(m);
}

/* Every service has a HOME and XDG base directories in its own state and cache directories
 * (many Go programs exit without HOME, which systemd leaves unset with DynamicUser=yes); a name
 * set in [environment] wins and is written once. */
static void test_home_environment(void **state)
{
	static const char *const defaults[] = {
		"Environment=\"HOME=/var/lib/hello\"",
		"Environment=\"XDG_CONFIG_HOME=/var/lib/hello/.config\"",
		"Environment=\"XDG_DATA_HOME=/var/lib/hello/.local/share\"",
		"Environment=\"XDG_STATE_HOME=/var/lib/hello/.local/state\"",
		"Environment=\"XDG_CACHE_HOME=/var/cache/hello\"",
	};
	struct manifest *m = new_manifest("hello");
	char *u = render(m, NULL, 2), **l = NULL;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
		assert_line(u, defaults[i]);
	assert_int_equal(count_key(u, "Environment"), 5);
	assert_line(u, "StateDirectory=hello");
	assert_line(u, "CacheDirectory=hello");
	assert_line(u, "CacheDirectoryMode=0700");
	free(u);

	/* the same with a user of its own: its home in /etc/passwd is not the service's */
	m->user = strdup("www-data");
	u = render(m, NULL, 2);
	assert_line(u, "User=www-data");
	for (size_t i = 0; i < ELEMENTSOF(defaults); i++)
		assert_line(u, defaults[i]);
	free(u);
	free(m->user);
	m->user = NULL;

	m->env = calloc(2, sizeof(*m->env));
	m->env[0] = (struct env_var){ strdup("HOME"), strdup("/srv/home dir") };
	m->env[1] = (struct env_var){ strdup("XDG_CACHE_HOME"), strdup("/tmp/cache") };
	m->n_env = 2;
	u = render(m, NULL, 2);
	assert_int_equal(count_key(u, "Environment"), 5);
	assert_line(u, "Environment=\"HOME=/srv/home dir\"");
	assert_line(u, "Environment=\"XDG_CACHE_HOME=/tmp/cache\"");
	assert_null(strstr(u, "HOME=/var/lib/hello\""));
	assert_null(strstr(u, "XDG_CACHE_HOME=/var/cache/hello"));
	assert_line(u, "Environment=\"XDG_CONFIG_HOME=/var/lib/hello/.config\"");
	free(u);

	/* the list the unit is rendered from */
	assert_int_equal(unit_home_environment(m, &l), 0);
	assert_int_equal(strv_length(l), 3);
	assert_string_equal(l[0], "XDG_CONFIG_HOME=/var/lib/hello/.config");
	strv_free(l);
	free_manifest(m);
}

/* GOMAXPROCS and GOMEMLIMIT for the Go that built the binary: Go 1.25 reads the CPU quota and
 * follows its changes, unless its DefaultGODEBUG (a go.mod older than 1.25) or GODEBUG in
 * [environment] turns that off; no Go reads the memory limit, and Go before 1.19 has none. */
static void test_go_policy_per_version(void **state)
{
	static const struct {
		const char *version, *default_godebug, *env_godebug;
		uint64_t gomaxprocs;
		enum go_source maxprocs_source;
		const char *maxprocs_why;
		uint64_t gomemlimit;
		const char *memlimit_why;
	} cases[] = {
		{ "go1.19.8", NULL, NULL, 2, GO_SOURCE_AUTO,
		  "auto: ceil(CPUQuota=150%), at most the host's CPUs; go1.19.8 does not read cgroup CPU limits (Go 1.25 does)",
		  943718400, "auto: 90% of MemoryMax=1000M, so the GC works harder" },
		{ "go1.24.4", "asynctimerchan=1,tlsmlkem=0", NULL, 2, GO_SOURCE_AUTO,
		  "go1.24.4 does not read cgroup CPU limits", 943718400, "no Go version reads the cgroup memory limit" },
		{ "go1.25.0", NULL, NULL, 0, GO_SOURCE_NATIVE,
		  "auto: go1.25.0 reads the CPU quota itself and follows changes", 943718400, "auto: 90%" },
		{ "go1.26.1", "", NULL, 0, GO_SOURCE_NATIVE, "go1.26.1 reads the CPU quota itself and follows changes",
		  943718400, "auto: 90%" },
		{ "go1.25rc1", NULL, NULL, 0, GO_SOURCE_NATIVE, "reads the CPU quota itself", 943718400, "auto: 90%" },
		{ "devel go1.26-4b2a7c1 Fri May 2 10:00:00 2025 +0000", NULL, NULL, 0, GO_SOURCE_NATIVE,
		  "auto: devel go1.26-4b2a7c1", 943718400, "auto: 90%" },
		{ "devel +4b2a7c1 Tue Aug 1 10:00:00 2023 +0000", NULL, NULL, 2, GO_SOURCE_AUTO,
		  "devel +4b2a7c1 Tue Aug 1 10:00:00 2023 +0000 does not read cgroup CPU limits", 943718400, "auto: 90%" },
		/* go.mod says go 1.24: the runtime keeps the old behaviour */
		{ "go1.25.0", "containermaxprocs=0,decoratemappings=0,updatemaxprocs=0", NULL, 2, GO_SOURCE_AUTO,
		  "go1.25.0 would read the quota itself, but containermaxprocs=0 in the binary's DefaultGODEBUG",
		  943718400, "auto: 90%" },
		{ "go1.25.0", "updatemaxprocs=0", NULL, 0, GO_SOURCE_NATIVE,
		  "go1.25.0 reads the CPU quota itself when it starts, not its changes (updatemaxprocs=0 in the binary's "
		  "DefaultGODEBUG",
		  943718400, "auto: 90%" },
		{ "go1.25.0", "containermaxprocs=0", "containermaxprocs=1", 0, GO_SOURCE_NATIVE, "follows changes", 943718400,
		  "auto: 90%" },
		{ "go1.25.0", NULL, "madvdontneed=1,containermaxprocs=0", 2, GO_SOURCE_AUTO,
		  "but containermaxprocs=0 in [environment] GODEBUG", 943718400, "auto: 90%" },
		{ "go1.26.0", NULL, "updatemaxprocs=0", 0, GO_SOURCE_NATIVE, "(updatemaxprocs=0 in [environment] GODEBUG)",
		  943718400, "auto: 90%" },
		/* GOMEMLIMIT came with Go 1.19 */
		{ "go1.18.10", NULL, NULL, 2, GO_SOURCE_AUTO, "go1.18.10 does not read cgroup CPU limits", 0,
		  "auto: go1.18.10 has no soft memory limit (Go 1.19 added GOMEMLIMIT)" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct manifest *m = new_manifest("hello");
		struct elf_info bin = { .is_go = true,
					.go.go_version = (char *)cases[i].version,
					.go.default_godebug = (char *)cases[i].default_godebug };
		struct go_decision d;
		char *u;

		m->cpu_quota_percent = 150;
		m->memory_max = 1000ULL << 20;
		if (cases[i].env_godebug) {
			m->env = calloc(1, sizeof(*m->env));
			m->env[0] = (struct env_var){ strdup("GODEBUG"), strdup(cases[i].env_godebug) };
			m->n_env = 1;
		}
		go_decide(m, &bin, 8, &d);
		if (d.gomaxprocs != cases[i].gomaxprocs || d.gomaxprocs_source != cases[i].maxprocs_source ||
		    !strstr(d.why_gomaxprocs, cases[i].maxprocs_why))
			fail_msg("%s: GOMAXPROCS %" PRIu64 " (%s): \"%s\"", cases[i].version, d.gomaxprocs,
				 go_source_to_string(d.gomaxprocs_source), d.why_gomaxprocs);
		if (d.gomemlimit != cases[i].gomemlimit || !strstr(d.why_gomemlimit, cases[i].memlimit_why))
			fail_msg("%s: GOMEMLIMIT %" PRIu64 ": \"%s\"", cases[i].version, d.gomemlimit, d.why_gomemlimit);
		assert_int_equal(d.gomemlimit_source, d.gomemlimit ? GO_SOURCE_AUTO : GO_SOURCE_NONE);

		/* the unit says the same, and sets GOMAXPROCS only where Go would not size it itself */
		u = render(m, &bin, 8);
		assert_non_null(strstr(u, d.why_gomaxprocs));
		assert_true(!strstr(u, "Environment=GOMAXPROCS=") == !cases[i].gomaxprocs);
		assert_true(!strstr(u, "Environment=GOMEMLIMIT=") == !cases[i].gomemlimit);
		free(u);
		free_manifest(m);
	}

	unsigned major = 0, minor = 0;
	assert_true(go_version_parse("devel go1.26-4b2a7c1 Fri May 2 10:00:00 2025 +0000", &major, &minor));
	assert_int_equal(major, 1);
	assert_int_equal(minor, 26);
	assert_true(go_version_parse("go1.22.0 X:loopvar", &major, &minor));
	assert_int_equal(minor, 22);
	assert_false(go_version_parse("devel +4b2a7c1 Tue Aug 1 10:00:00 2023 +0000", &major, &minor));
	assert_false(go_version_parse("devel", &major, &minor));
	assert_false(go_version_parse("gccgo", &major, &minor));
}

static void test_unrepresentable_refused(void **state)
{
	struct unit_context ctx = { 0 };
	struct rendered_unit out = { 0 };
	struct manifest *m = new_manifest("hello");

	/* values that slipped past validation are refused, never written */
	strv_extend(&m->args, "ok\nExecStartPre=/bin/evil");
	assert_int_equal(unit_render(m, &ctx, &out), -EINVAL);
	free_manifest(m);

	m = new_manifest("hello");
	m->description = strdup("ends with a backslash\\");
	assert_int_equal(unit_render(m, &ctx, &out), -EINVAL);
	free(m->description);
	m->description = strdup("bad \xff utf8");
	assert_int_equal(unit_render(m, &ctx, &out), -EINVAL);
	free_manifest(m);

	m = new_manifest("hello");
	m->env = calloc(1, sizeof(*m->env));
	m->env[0] = (struct env_var){ strdup("BAD NAME"), strdup("v") };
	m->n_env = 1;
	assert_int_equal(unit_render(m, &ctx, &out), -EINVAL);
	free_manifest(m);
}

static void test_resources(void **state)
{
	struct manifest *m = new_manifest("hello");
	m->cpu_quota_percent = 150;
	m->memory_max = 512ULL << 20;
	m->memory_high = 400ULL << 20;
	m->memory_swap_max = 0;
	m->tasks_max = 64;
	m->nofile = 65536;
	m->cpu_weight = 200;
	m->io_weight = 50;
	m->restart = RESTART_ALWAYS;
	m->stop_timeout = 5 * USEC_PER_SEC;
	m->restart_delay = 250 * USEC_PER_MSEC;
	char *u = render(m, NULL, 8);
	const char *lines[] = { "CPUQuota=150%", "MemoryMax=512M", "MemoryHigh=400M", "MemorySwapMax=0",
				"TasksMax=64", "LimitNOFILE=65536", "CPUWeight=200", "IOWeight=50",
				"Restart=always", "TimeoutStopSec=5s", "RestartSec=250ms", NULL };
	for (const char **l = lines; *l; l++)
		assert_line(u, *l);
	free(u);
	m->tasks_max = SIZE_INFINITY;
	m->memory_max = SIZE_INFINITY;
	m->stop_timeout = USEC_INFINITY;
	u = render(m, NULL, 8);
	assert_line(u, "TasksMax=infinity");
	assert_line(u, "MemoryMax=infinity");
	assert_line(u, "TimeoutStopSec=infinity");
	free(u);
	free_manifest(m);
}

static void test_go_runtime(void **state)
{
	struct manifest *m = new_manifest("hello");
	struct elf_info go119 = { .is_go = true, .go.go_version = (char *)"go1.19.8" };
	struct elf_info go125 = { .is_go = true, .go.go_version = (char *)"go1.25.1" };
	struct elf_info notgo = { .is_go = false };
	char *u;

	m->cpu_quota_percent = 150;
	m->memory_max = 1000ULL << 20;
	u = render(m, &go119, 8);
	assert_line(u, "Environment=GOMAXPROCS=2");
	/* 90 % of 1000 MiB */
	assert_line(u, "Environment=GOMEMLIMIT=943718400B");
	free(u);

	/* never more than the host has, never less than 1 */
	m->cpu_quota_percent = 800;
	u = render(m, &go119, 4);
	assert_line(u, "Environment=GOMAXPROCS=4");
	free(u);
	m->cpu_quota_percent = 10;
	u = render(m, &go119, 4);
	assert_line(u, "Environment=GOMAXPROCS=1");
	free(u);

	/* Go 1.25 reads the quota itself */
	u = render(m, &go125, 4);
	assert_null(strstr(u, "GOMAXPROCS="));
	assert_non_null(strstr(u, "reads the CPU quota itself"));
	free(u);

	/* not Go: nothing */
	m->gogc = strdup("50");
	u = render(m, &notgo, 4);
	assert_null(strstr(u, "GOMAXPROCS="));
	assert_null(strstr(u, "GOMEMLIMIT="));
	assert_null(strstr(u, "GOGC="));
	free(u);

	/* explicit values and off */
	m->gomaxprocs_mode = GO_MODE_VALUE;
	m->gomaxprocs = 3;
	m->gomemlimit_mode = GO_MODE_OFF;
	u = render(m, &go119, 4);
	assert_line(u, "Environment=GOMAXPROCS=3");
	assert_null(strstr(u, "GOMEMLIMIT="));
	assert_line(u, "Environment=\"GOGC=50\"");
	free(u);
	free(m->gogc);
	m->gogc = NULL;

	/* no quota: Go's own default */
	m->gomaxprocs_mode = GO_MODE_AUTO;
	m->cpu_quota_percent = 0;
	u = render(m, &go119, 4);
	assert_null(strstr(u, "GOMAXPROCS="));
	free(u);
	free_manifest(m);

	/* a value in [environment] wins over auto: no second GOMAXPROCS line */
	m = new_manifest("hello");
	m->cpu_quota_percent = 150;
	m->env = calloc(1, sizeof(*m->env));
	m->env[0] = (struct env_var){ strdup("GOMAXPROCS"), strdup("7") };
	m->n_env = 1;
	u = render(m, &go119, 4);
	assert_line(u, "Environment=\"GOMAXPROCS=7\"");
	assert_int_equal(count_key(u, "Environment"), 1 + 5); /* and HOME, XDG_* */
	assert_null(strstr(strstr(u, "GOMAXPROCS=") + 1, "GOMAXPROCS="));
	free(u);
	free_manifest(m);

	assert_true(go_version_at_least("go1.25", 1, 25));
	assert_true(go_version_at_least("go1.26rc1", 1, 25));
	assert_false(go_version_at_least("go1.24.9", 1, 25));
	assert_false(go_version_at_least("devel", 1, 25));
	assert_false(go_version_at_least(NULL, 1, 25));
}

static void test_identity_and_options(void **state)
{
	struct manifest *m = new_manifest("hello");
	m->user = strdup("www-data");
	m->group = strdup("www-data");
	m->privileged_port = true;
	m->private_network = false;
	m->memory_deny_write_execute = false;
	m->working_directory = strdup("/srv/hello");
	strv_extend(&m->after, "postgresql.service");
	strv_extend(&m->wants, "postgresql.service");
	strv_extend(&m->address_families, "AF_NETLINK");
	char *u = render(m, NULL, 2);
	assert_line(u, "User=www-data");
	assert_line(u, "Group=www-data");
	assert_int_equal(count_key(u, "DynamicUser"), 0);
	assert_line(u, "CapabilityBoundingSet=CAP_NET_BIND_SERVICE");
	assert_line(u, "AmbientCapabilities=CAP_NET_BIND_SERVICE");
	assert_int_equal(count_key(u, "PrivateUsers"), 0);
	assert_line(u, "MemoryDenyWriteExecute=no");
	assert_line(u, "WorkingDirectory=/srv/hello");
	assert_line(u, "After=postgresql.service");
	assert_line(u, "Wants=postgresql.service");
	assert_line(u, "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK");
	free(u);
	m->private_network = true;
	u = render(m, NULL, 2);
	assert_line(u, "PrivateNetwork=yes");
	assert_line(u, "RestrictAddressFamilies=AF_UNIX");
	free(u);
	free(m->user);
	free(m->group);
	free(m->working_directory);
	free_manifest(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hardened_defaults),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_home_environment),
		cmocka_unit_test(test_unrepresentable_refused),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_go_runtime),
		cmocka_unit_test(test_go_policy_per_version),
		cmocka_unit_test(test_identity_and_options),
	};
	return cmocka_run_group_tests_name("unit", tests, NULL, NULL);
}
