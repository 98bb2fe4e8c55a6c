/* cmd-limit.c - berth limit NAME: change the cgroup limits of a running service without a restart
 *
 * The live change goes through SetUnitProperties with runtime=true (systemd applies it at once and
 * keeps a copy in /run/systemd/system.control/NAME.service.d/50-<Property>.conf, gone at reboot).
 * Without --runtime the limits are also kept in berth's own drop-in,
 * /etc/systemd/system/NAME.service.d/49-berth-limits.conf (see cgroup.h for the name and what
 * deploy does with it), systemd's /run copies of the properties just set are removed (the drop-in
 * now says the same, and a later manifest change must not be shadowed by them until reboot) and
 * systemd re-reads its units. Never SetUnitProperties with runtime=false: that writes
 * /etc/systemd/system.control/, which outranks every drop-in and which deploy and remove would
 * have to know about.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "berth.h"
#include "bus.h"
#include "cgroup.h"
#include "cli.h"
#include "health.h"
#include "deploy.h"
#include "diff.h"
#include "elf.h"
#include "fs.h"
#include "goruntime.h"
#include "lock.h"
#include "log.h"
#include "runstate.h"
#include "services.h"
#include "strv.h"
#include "term.h"
#include "unit.h"

#define SYSTEM_CONTROL_RUNTIME "/run/systemd/system.control"
#define SYSTEM_CONTROL_PERSISTENT "/etc/systemd/system.control"
#define LIMITS_DROPIN_MAX (64 * 1024)
#define READBACK_TIMEOUT USEC_PER_SEC

static const char *arg_cpu, *arg_memory, *arg_memory_high, *arg_swap, *arg_tasks;
static bool arg_runtime, arg_force, arg_restart;
static usec_t arg_lock_timeout = 60 * USEC_PER_SEC;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "cpu"))
		arg_cpu = arg;
	else if (streq(name, "memory"))
		arg_memory = arg;
	else if (streq(name, "memory-high"))
		arg_memory_high = arg;
	else if (streq(name, "swap"))
		arg_swap = arg;
	else if (streq(name, "tasks"))
		arg_tasks = arg;
	else if (streq(name, "runtime"))
		arg_runtime = true;
	else if (streq(name, "force"))
		arg_force = true;
	else if (streq(name, "restart"))
		arg_restart = true;
	else if (streq(name, "lock-timeout") && parse_duration(arg, false, &arg_lock_timeout) < 0) {
		log_error("berth limit: invalid --lock-timeout \"%s\": use a duration like 30s", arg);
		return BERTH_EXIT_USAGE;
	}
	return 0;
}

/* ---- the requested values ------------------------------------------------------------------- */

static int parse_request(struct cgroup_limits *ret)
{
	struct cgroup_limits req;
	unsigned pct;
	int r;

	cgroup_limits_init(&req);
	if (arg_cpu) {
		if (streq(arg_cpu, "infinity"))
			req.cpu_quota_percent = SIZE_INFINITY;
		else if ((r = parse_percent(arg_cpu, 1, 100000, &pct)) < 0) {
			cli_error(NULL, 0, NULL, NULL,
				  "invalid --cpu \"%s\": use a percentage of one CPU from 1%% to 100000%% (150%% is one and a "
				  "half CPUs), or infinity for no quota",
				  arg_cpu);
			return BERTH_EXIT_INVALID;
		} else
			req.cpu_quota_percent = pct;
	}
	const struct {
		const char *option, *value;
		uint64_t *out;
		uint64_t min;
	} sizes[] = {
		{ "memory", arg_memory, &req.memory_max, 1 },
		{ "memory-high", arg_memory_high, &req.memory_high, 1 },
		{ "swap", arg_swap, &req.memory_swap_max, 0 },
	};
	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		uint64_t v;
		if (!sizes[i].value)
			continue;
		r = parse_size(sizes[i].value, &v);
		if (r >= 0 && v < sizes[i].min)
			r = -ERANGE;
		if (r < 0) {
			cli_error(NULL, 0, NULL, NULL,
				  "invalid --%s \"%s\": use a size like 256M or 2G (K, M, G, T are 1024-based)%s, or infinity",
				  sizes[i].option, sizes[i].value, sizes[i].min ? " above 0" : "");
			return BERTH_EXIT_INVALID;
		}
		*sizes[i].out = v;
	}
	if (arg_tasks) {
		uint64_t v;
		if (streq(arg_tasks, "infinity"))
			req.tasks_max = SIZE_INFINITY;
		else if (parse_uint_range(arg_tasks, 1, 4194304, &v) < 0) {
			cli_error(NULL, 0, NULL, NULL, "invalid --tasks \"%s\": use a whole number from 1 to 4194304, or infinity",
				  arg_tasks);
			return BERTH_EXIT_INVALID;
		} else
			req.tasks_max = v;
	}
	*ret = req;
	return BERTH_EXIT_OK;
}

/* ---- limits as systemd reports them: UINT64_MAX = no limit ----------------------------------- */

struct bus_limits {
	uint64_t cpu; /* CPUQuotaPerSecUSec */
	uint64_t memory_max;
	uint64_t memory_high;
	uint64_t swap_max;
	uint64_t tasks_max;
};

static uint64_t bus_size(uint64_t v)
{
	return v == SIZE_INFINITY ? UINT64_MAX : v;
}

static uint64_t bus_cpu(uint64_t pct)
{
	return pct == SIZE_INFINITY ? UINT64_MAX : pct * 10000;
}

static void bus_limits_from_status(const struct unit_status *s, struct bus_limits *ret)
{
	*ret = (struct bus_limits){
		.cpu = s->cpu_quota_per_sec_usec,
		.memory_max = s->memory_max,
		.memory_high = s->memory_high,
		.swap_max = s->memory_swap_max,
		.tasks_max = s->tasks_max,
	};
}

static void bus_limits_overlay(struct bus_limits *l, const struct cgroup_limits *req)
{
	if (req->cpu_quota_percent != U64_UNSET)
		l->cpu = bus_cpu(req->cpu_quota_percent);
	if (req->memory_max != SIZE_UNSET)
		l->memory_max = bus_size(req->memory_max);
	if (req->memory_high != SIZE_UNSET)
		l->memory_high = bus_size(req->memory_high);
	if (req->memory_swap_max != SIZE_UNSET)
		l->swap_max = bus_size(req->memory_swap_max);
	if (req->tasks_max != U64_UNSET)
		l->tasks_max = req->tasks_max == SIZE_INFINITY ? UINT64_MAX : req->tasks_max;
}

static bool bus_limits_equal(const struct bus_limits *a, const struct bus_limits *b)
{
	return a->cpu == b->cpu && a->memory_max == b->memory_max && a->memory_high == b->memory_high &&
	       a->swap_max == b->swap_max && a->tasks_max == b->tasks_max;
}

/* The property name systemd uses for the /run/systemd/system.control file of each limit. */
static const struct {
	const char *label;    /* for messages */
	const char *dropin;   /* 50-<dropin>.conf written by SetUnitProperties */
	size_t offset;        /* in struct cgroup_limits */
} limit_props[] = {
	{ "cpu", "CPUQuota", offsetof(struct cgroup_limits, cpu_quota_percent) },
	{ "memory", "MemoryMax", offsetof(struct cgroup_limits, memory_max) },
	{ "memory-high", "MemoryHigh", offsetof(struct cgroup_limits, memory_high) },
	{ "swap", "MemorySwapMax", offsetof(struct cgroup_limits, memory_swap_max) },
	{ "tasks", "TasksMax", offsetof(struct cgroup_limits, tasks_max) },
};

static uint64_t limit_value(const struct cgroup_limits *l, size_t i)
{
	return *(const uint64_t *)((const char *)l + limit_props[i].offset);
}

static void limit_set(struct cgroup_limits *l, size_t i, uint64_t v)
{
	*(uint64_t *)((char *)l + limit_props[i].offset) = v;
}

static int append_limits(sd_bus_message *m, void *userdata)
{
	const struct cgroup_limits *req = userdata;
	int r = 0;

	if (req->cpu_quota_percent != U64_UNSET)
		r = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t", bus_cpu(req->cpu_quota_percent));
	if (r >= 0 && req->memory_max != SIZE_UNSET)
		r = sd_bus_message_append(m, "(sv)", "MemoryMax", "t", bus_size(req->memory_max));
	if (r >= 0 && req->memory_high != SIZE_UNSET)
		r = sd_bus_message_append(m, "(sv)", "MemoryHigh", "t", bus_size(req->memory_high));
	if (r >= 0 && req->memory_swap_max != SIZE_UNSET)
		r = sd_bus_message_append(m, "(sv)", "MemorySwapMax", "t", bus_size(req->memory_swap_max));
	if (r >= 0 && req->tasks_max != U64_UNSET)
		r = sd_bus_message_append(m, "(sv)", "TasksMax", "t",
					  req->tasks_max == SIZE_INFINITY ? UINT64_MAX : req->tasks_max);
	return r < 0 ? r : 0;
}

/* ---- the Go runtime ------------------------------------------------------------------------- */

/* GOMAXPROCS / GOMEMLIMIT in the environment of a running process: 0 if absent, UINT64_MAX if
 * set to something else than berth writes (a number, "NB" for GOMEMLIMIT). */
struct go_env {
	bool known;
	uint64_t gomaxprocs;
	uint64_t gomemlimit;
};

static uint64_t env_number(const char *v, bool bytes)
{
	uint64_t n;
	size_t len = strlen(v);
	_cleanup_free_ char *copy = NULL;

	if (bytes && len > 1 && v[len - 1] == 'B') {
		copy = strndup(v, len - 1);
		if (!copy)
			return UINT64_MAX;
		v = copy;
	}
	return parse_uint_range(v, 0, UINT64_MAX - 1, &n) < 0 ? UINT64_MAX : n;
}

static int read_go_env(uint32_t pid, struct go_env *ret)
{
	char path[64];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct go_env e = { .known = true };

	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/environ", pid);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return negative_errno();
	buf = malloc(1024 * 1024 + 1);
	if (!buf)
		return -ENOMEM;
	len = fread(buf, 1, 1024 * 1024, f);
	if (ferror(f))
		return -EIO;
	buf[len] = 0;
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		const char *v;
		if ((v = startswith(buf + i, "GOMAXPROCS=")))
			e.gomaxprocs = env_number(v, false);
		else if ((v = startswith(buf + i, "GOMEMLIMIT=")))
			e.gomemlimit = env_number(v, true);
	}
	*ret = e;
	return 0;
}

/* ---- the plan -------------------------------------------------------------------------------- */

struct plan {
	const char *name;
	char *unit;
	struct manifest *m;
	struct unit_status before;
	bool active;
	struct cgroup_usage usage_before;
	bool have_usage_before;
	uint64_t memory_current; /* UINT64_MAX unknown */

	struct cgroup_limits req;
	struct bus_limits limits_before, limits_after;
	bool live_changes;

	char *dropin_path;
	char *old_text, *new_text; /* persisted drop-in, NULL: none */
	struct cgroup_limits set_old, base_old; /* what the installed drop-in holds */
	bool file_changes;

	struct elf_info binary;
	bool have_binary;
	struct go_decision go_env_after; /* what a restart gives the Go runtime */
	struct go_decision go_wanted;    /* what the limits in force now call for */
	struct go_env running;
	bool go_restart_needed;          /* the running process does not have go_wanted */
	bool restart_fixes;              /* and a restart would give it */
};

static void plan_release(struct plan *p)
{
	free(p->unit);
	manifest_free(p->m);
	unit_status_release(&p->before);
	free(p->dropin_path);
	free(p->old_text);
	free(p->new_text);
	if (p->have_binary)
		elf_info_release(&p->binary);
}

static bool is_active(const struct unit_status *s)
{
	return streq_ptr(s->active_state, "active") || streq_ptr(s->active_state, "activating") ||
	       streq_ptr(s->active_state, "reloading");
}

static const char *limit_text(char *buf, size_t len, uint64_t v, bool cpu)
{
	if (v == UINT64_MAX)
		return cpu ? "no quota" : "no limit";
	if (cpu) {
		if (v % 10000 == 0)
			snprintf(buf, len, "%" PRIu64 "%%", v / 10000);
		else
			snprintf(buf, len, "%.2f%%", (double)v / 10000.0);
		return buf;
	}
	return format_size(buf, len, v);
}

/* Loads the installed drop-in. BERTH_EXIT_OK, or a refusal. */
static int load_dropin(struct plan *p)
{
	size_t len;
	int r;

	cgroup_limits_init(&p->set_old);
	cgroup_limits_init(&p->base_old);
	p->dropin_path = cgroup_limits_dropin_path(NULL, p->name);
	if (!p->dropin_path)
		return BERTH_EXIT_FAILURE;
	r = fs_read_file(p->dropin_path, LIMITS_DROPIN_MAX, &p->old_text, &len);
	if (r == -ENOENT)
		return BERTH_EXIT_OK;
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read \"%s\": %m", p->dropin_path);
		return BERTH_EXIT_FAILURE;
	}
	r = cgroup_limits_parse(p->old_text, &p->set_old, &p->base_old);
	if (r < 0) {
		cli_error(NULL, 0, NULL, NULL,
			  "\"%s\" was not written by berth (or was edited): remove it or fix it, then run berth limit again",
			  p->dropin_path);
		return BERTH_EXIT_INVALID;
	}
	return BERTH_EXIT_OK;
}

/* The persisted set after this change: requested limits replace the old ones; one equal to the
 * manifest's value is dropped (the unit already says so). */
static int plan_dropin(struct plan *p, struct cgroup_limits *ret_set)
{
	struct cgroup_limits set = p->set_old, base = p->base_old, man;

	cgroup_limits_from_manifest(p->m, &man);
	for (size_t i = 0; i < ELEMENTSOF(limit_props); i++) {
		uint64_t want = limit_value(&p->req, i);
		if (want == U64_UNSET)
			continue;
		if (want == limit_value(&man, i)) {
			limit_set(&set, i, U64_UNSET);
			limit_set(&base, i, U64_UNSET);
		} else {
			limit_set(&set, i, want);
			limit_set(&base, i, limit_value(&man, i));
		}
	}
	*ret_set = set;
	if (cgroup_limits_is_empty(&set)) {
		p->new_text = NULL;
		return 0;
	}
	struct manifest eff;
	struct go_decision go_unit, go_now;
	cgroup_limits_apply(&set, p->m, &eff);
	go_decide(p->m, p->have_binary ? &p->binary : NULL, cli_host_cpus(), &go_unit);
	go_decide(&eff, p->have_binary ? &p->binary : NULL, cli_host_cpus(), &go_now);
	return cgroup_limits_format(p->name, &set, &base, &go_unit, &go_now, &p->new_text);
}

static void plan_go(struct plan *p, const struct cgroup_limits *set_after)
{
	const struct elf_info *bin = p->have_binary ? &p->binary : NULL;
	const struct bus_limits *a = &p->limits_after;
	struct cgroup_limits live;
	struct manifest eff;

	/* what the limits in force after this change call for, whoever set them (the unit, berth's
	 * drop-in, a --runtime change, an operator's set-property) */
	cgroup_limits_init(&live);
	live.cpu_quota_percent = a->cpu == UINT64_MAX ? SIZE_INFINITY : (a->cpu + 9999) / 10000;
	live.memory_max = a->memory_max == UINT64_MAX ? SIZE_INFINITY : a->memory_max;
	cgroup_limits_apply(&live, p->m, &eff);
	go_decide(&eff, bin, cli_host_cpus(), &p->go_wanted);
	/* what a restart gives: the unit and the drop-in on disk */
	cgroup_limits_apply(set_after, p->m, &eff);
	go_decide(&eff, bin, cli_host_cpus(), &p->go_env_after);

	if (p->active && p->before.main_pid > 0 && read_go_env(p->before.main_pid, &p->running) < 0)
		p->running.known = false;
	/* a variable the manifest sets itself in [environment] is not berth's to compare */
	for (size_t i = 0; i < p->m->n_env; i++) {
		if (streq(p->m->env[i].name, "GOMAXPROCS"))
			p->running.gomaxprocs = p->go_wanted.gomaxprocs;
		else if (streq(p->m->env[i].name, "GOMEMLIMIT"))
			p->running.gomemlimit = p->go_wanted.gomemlimit;
	}
	if (p->running.known && p->go_wanted.gomaxprocs_source != GO_SOURCE_NOT_GO)
		p->go_restart_needed = p->running.gomaxprocs != p->go_wanted.gomaxprocs ||
				       p->running.gomemlimit != p->go_wanted.gomemlimit;
	p->restart_fixes = p->go_restart_needed && p->go_env_after.gomaxprocs == p->go_wanted.gomaxprocs &&
			   p->go_env_after.gomemlimit == p->go_wanted.gomemlimit;
}

static int make_plan(sd_bus *bus, struct plan *p)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	char a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX];
	struct cgroup_limits set_after;
	int r, ex;

	r = bus_get_unit_status(bus, p->unit, &p->before, &error);
	if (r < 0) {
		cli_error(NULL, 0, NULL, NULL, "cannot ask systemd about %s: %s", p->unit, bus_error_text(&error, r));
		return BERTH_EXIT_TEMPFAIL;
	}
	if (!streq_ptr(p->before.load_state, "loaded")) {
		cli_error(NULL, 0, NULL, NULL, "%s is not loaded (%s): deploy it first", p->unit,
			  strempty(p->before.load_state));
		return BERTH_EXIT_NOT_FOUND;
	}
	p->active = is_active(&p->before);
	p->memory_current = p->before.memory_current;
	if (p->active && !isempty(p->before.control_group) &&
	    cgroup_read(p->before.control_group, &p->usage_before) >= 0) {
		p->have_usage_before = true;
		if (!(p->usage_before.missing & CGROUP_FIELD_MEMORY_CURRENT))
			p->memory_current = p->usage_before.memory_current;
	}

	bus_limits_from_status(&p->before, &p->limits_before);
	p->limits_after = p->limits_before;
	bus_limits_overlay(&p->limits_after, &p->req);
	p->live_changes = !bus_limits_equal(&p->limits_before, &p->limits_after);

	/* refusals, before anything changes */
	if ((arg_memory || arg_memory_high) && p->limits_after.memory_high != UINT64_MAX &&
	    p->limits_after.memory_max != UINT64_MAX && p->limits_after.memory_high > p->limits_after.memory_max) {
		cli_error(NULL, 0, NULL, NULL,
			  "memory-high %s is above the memory limit %s: the kernel would kill the service before "
			  "throttling it",
			  format_size(a, sizeof(a), p->limits_after.memory_high),
			  format_size(b, sizeof(b), p->limits_after.memory_max));
		return BERTH_EXIT_INVALID;
	}
	if (p->req.memory_max != SIZE_UNSET && p->req.memory_max != SIZE_INFINITY && p->active &&
	    p->memory_current != UINT64_MAX && p->req.memory_max < p->memory_current) {
		if (!arg_force) {
			cli_error(NULL, 0, NULL, NULL,
				  "--memory %s is below what %s uses now (%s): the kernel would reclaim its memory and "
				  "then OOM-kill it if that is not enough; pass --force to do it anyway",
				  arg_memory, p->name, format_size_human(b, sizeof(b), p->memory_current));
			return BERTH_EXIT_INVALID;
		}
		log_warning("--memory %s is below what %s uses now (%s): the kernel reclaims its memory, then OOM-kills "
			    "it if that is not enough",
			    arg_memory, p->name, format_size_human(b, sizeof(b), p->memory_current));
	}

	ex = load_dropin(p);
	if (ex != BERTH_EXIT_OK && !(ex == BERTH_EXIT_INVALID && arg_runtime))
		return ex;
	if (ex != BERTH_EXIT_OK) {
		/* --runtime does not touch it: go on as if it held nothing */
		cgroup_limits_init(&p->set_old);
		cgroup_limits_init(&p->base_old);
	}

	{
		_cleanup_free_ char *exe = NULL;
		struct unit_context ctx = { 0 };
		exe = unit_exec_path(&ctx, p->name);
		if (exe && elf_inspect_file(exe, &p->binary) >= 0)
			p->have_binary = true;
	}

	if (arg_runtime) {
		set_after = p->set_old;
		p->new_text = p->old_text ? strdup(p->old_text) : NULL;
		if (p->old_text && !p->new_text)
			return BERTH_EXIT_FAILURE;
	} else {
		r = plan_dropin(p, &set_after);
		if (r < 0) {
			errno = -r;
			cli_error(NULL, 0, NULL, NULL, "cannot render \"%s\": %m", p->dropin_path);
			return BERTH_EXIT_FAILURE;
		}
	}
	p->file_changes = !streq_ptr(p->old_text, p->new_text);
	plan_go(p, &set_after);
	return BERTH_EXIT_OK;
}

/* ---- applying -------------------------------------------------------------------------------- */

static void sleep_usec(usec_t u)
{
	struct timespec ts = { .tv_sec = (time_t)(u / USEC_PER_SEC), .tv_nsec = (long)(u % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Removes systemd's /run copies of the properties this run set: the drop-in holds them now. */
static void forget_runtime_copies(const struct plan *p)
{
	char dir[512], path[600];

	snprintf(dir, sizeof(dir), "%s/%s.d", SYSTEM_CONTROL_RUNTIME, p->unit);
	for (size_t i = 0; i < ELEMENTSOF(limit_props); i++) {
		if (limit_value(&p->req, i) == U64_UNSET)
			continue;
		snprintf(path, sizeof(path), "%s/50-%s.conf", dir, limit_props[i].dropin);
		(void)fs_remove(path, false, true);
	}
	(void)rmdir(dir); /* only if empty */
}

/* An operator's `systemctl set-property` (persistent) outranks berth's drop-in. */
static void warn_persistent_overrides(const struct plan *p)
{
	char path[600];
	struct stat st;

	for (size_t i = 0; i < ELEMENTSOF(limit_props); i++) {
		if (limit_value(&p->req, i) == U64_UNSET)
			continue;
		snprintf(path, sizeof(path), "%s/%s.d/50-%s.conf", SYSTEM_CONTROL_PERSISTENT, p->unit, limit_props[i].dropin);
		if (lstat(path, &st) == 0)
			log_warning("%s (from systemctl set-property) overrides berth's %s limit after the next daemon-reload: "
				    "remove it to keep this one",
				    path, limit_props[i].label);
	}
}

static int write_dropin(const struct plan *p)
{
	int r;

	if (!p->new_text)
		return fs_remove(p->dropin_path, false, true);
	_cleanup_free_ char *dir = strndup(p->dropin_path, strrchr(p->dropin_path, '/') - p->dropin_path);
	if (!dir)
		return -ENOMEM;
	r = fs_mkdir_p_nofollow(dir, 0755);
	if (r < 0)
		return r;
	return fs_write_atomic(p->dropin_path, p->new_text, strlen(p->new_text), 0644);
}

struct outcome {
	int exit_code;
	bool changed;
	bool restarted;
	char *restart_result;
	usec_t restart_elapsed;
	struct unit_status after;
	bool have_after;
	struct cgroup_usage usage;
	bool have_usage;
	char **mismatches;
	bool persisted; /* the drop-in exists after the run */
	usec_t kernel_usec; /* from SetUnitProperties' answer until the cgroup matched; USEC_UNSET if not */
	char *failure;      /* why it failed, for --json */
};

static void outcome_release(struct outcome *o)
{
	free(o->failure);
	free(o->restart_result);
	unit_status_release(&o->after);
	strv_free(o->mismatches);
}

/* Reads the cgroup back until it matches what systemd says, for up to a second (systemd writes
 * the cgroup files from its event loop, after answering). Returns true once it matches. */
static bool read_back(sd_bus *bus, const struct plan *p, struct outcome *o)
{
	usec_t start = now_usec();

	unit_status_release(&o->after);
	o->have_after = bus_get_unit_status(bus, p->unit, &o->after, NULL) >= 0;
	if (!o->have_after || !is_active(&o->after) || isempty(o->after.control_group))
		return false;
	for (;;) {
		char **l = NULL;
		o->have_usage = cgroup_read(o->after.control_group, &o->usage) >= 0;
		if (o->have_usage && cgroup_compare(&o->usage, &o->after, &l) >= 0) {
			strv_free(o->mismatches);
			o->mismatches = l;
			if (strv_length(l) == 0)
				return true;
		}
		if (now_usec() - start >= READBACK_TIMEOUT)
			return false;
		sleep_usec(50 * USEC_PER_MSEC);
	}
}

/* Reports a failure once (stderr, and "failure" in --json); returns BERTH_EXIT_FAILURE. */
static int apply_fail(struct outcome *o, const char *fmt, ...) _printf_(2, 3);
static int apply_fail(struct outcome *o, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg) {
		cli_error(NULL, 0, NULL, NULL, "%s", msg);
		free(o->failure);
		o->failure = msg;
	}
	return BERTH_EXIT_FAILURE;
}

static int apply(sd_bus *bus, struct plan *p, struct outcome *o)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	if (p->live_changes || p->file_changes) {
		/* runtime=true even when persisting: see the top of this file */
		r = bus_set_unit_properties(bus, p->unit, true, append_limits, &p->req, &error);
		if (r < 0)
			return apply_fail(o, "systemd refused the new limits of %s: %s", p->unit, bus_error_text(&error, r));
		o->changed = true;
		/* the live change, checked before the reload below */
		usec_t asked = now_usec();
		if (read_back(bus, p, o))
			o->kernel_usec = now_usec() - asked;
	}
	if (!arg_runtime && (p->live_changes || p->file_changes)) {
		if (p->file_changes) {
			r = write_dropin(p);
			if (r < 0) {
				errno = -r;
				return apply_fail(o,
						  "the new limits of %s are live, but \"%s\" cannot be written: %m (they last "
						  "until the next reboot)",
						  p->name, p->dropin_path);
			}
		}
		forget_runtime_copies(p);
		warn_persistent_overrides(p);
		r = bus_daemon_reload(bus, &error);
		if (r < 0)
			return apply_fail(o, "systemd reload failed: %s", bus_error_text(&error, r));
	}
	if (arg_restart && p->active && p->restart_fixes) {
		r = runstate_remove(p->name);
		if (r < 0)
			log_debug_errno(r, "cannot remove the readiness state of %s: %m, ignoring", p->name);
		r = bus_unit_job(bus, "RestartUnit", p->unit, deploy_job_timeout(p->m), &o->restart_result,
				 &o->restart_elapsed, &error);
		if (r < 0 && r != -ETIMEDOUT)
			return apply_fail(o, "cannot restart %s: %s", p->unit, bus_error_text(&error, r));
		o->changed = true;
		o->restarted = true;
		if (!o->restart_result || !streq(o->restart_result, "done")) {
			struct ready_state rs;
			if (runstate_read_ready(p->name, &rs) >= 0 && !rs.ok)
				return apply_fail(o, "restart of %s failed: %s", p->name, rs.reason);
			return apply_fail(o, "restart of %s failed: job %s", p->name,
					  o->restart_result ? o->restart_result : "did not finish in time");
		}
	}
	return BERTH_EXIT_OK;
}

/* ---- output ---------------------------------------------------------------------------------- */

static void json_limit(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	v == UINT64_MAX ? json_null(j) : json_uint(j, v);
}

static void json_limits(struct json *j, const char *key, const struct bus_limits *l)
{
	json_key(j, key);
	json_object_begin(j);
	json_limit(j, "cpu_quota_per_sec_usec", l->cpu);
	json_limit(j, "memory_max", l->memory_max);
	json_limit(j, "memory_high", l->memory_high);
	json_limit(j, "memory_swap_max", l->swap_max);
	json_limit(j, "tasks_max", l->tasks_max);
	json_object_end(j);
}

static void json_usage(struct json *j, const struct cgroup_usage *u)
{
	const uint64_t values[CGROUP_FIELD_COUNT] = {
		u->memory_current, u->memory_max, u->memory_high, u->memory_peak, u->swap_max,
		u->oom_kills, u->cpu_usage_usec, u->nr_periods, u->nr_throttled, u->throttled_usec,
		u->cpu_quota_usec, u->cpu_period_usec, u->tasks_current, u->tasks_max,
	};

	json_object_begin(j);
	json_key_uint(j, "cgroup_version", (uint64_t)u->version);
	/* null: unknown (see "missing") or no limit ("max") */
	for (unsigned i = 0; i < CGROUP_FIELD_COUNT; i++)
		json_limit(j, cgroup_field_name(1u << i), values[i]);
	json_key(j, "missing");
	json_array_begin(j);
	for (unsigned i = 0; i < CGROUP_FIELD_COUNT; i++)
		if (u->missing & (1u << i))
			json_string(j, cgroup_field_name(1u << i));
	json_array_end(j);
	json_object_end(j);
}

static void json_go(struct json *j, const struct plan *p, const struct outcome *o)
{
	json_key(j, "go");
	json_object_begin(j);
	json_key_string(j, "version", p->have_binary && p->binary.is_go ? p->binary.go.go_version : NULL);
	json_key(j, "running_gomaxprocs");
	p->running.known && p->running.gomaxprocs != UINT64_MAX ? json_uint(j, p->running.gomaxprocs) : json_null(j);
	json_key_uint(j, "gomaxprocs", p->go_wanted.gomaxprocs);
	json_key_string(j, "gomaxprocs_source", go_source_to_string(p->go_wanted.gomaxprocs_source));
	json_key(j, "running_gomemlimit");
	p->running.known && p->running.gomemlimit != UINT64_MAX ? json_uint(j, p->running.gomemlimit) : json_null(j);
	json_key_uint(j, "gomemlimit", p->go_wanted.gomemlimit);
	json_key_string(j, "gomemlimit_source", go_source_to_string(p->go_wanted.gomemlimit_source));
	json_key_bool(j, "restart_needed", p->go_restart_needed && !o->restarted);
	json_key_bool(j, "restart_applies", p->restart_fixes);
	json_key_bool(j, "restarted", o->restarted);
	json_object_end(j);
}

static void print_json(const struct plan *p, const struct outcome *o)
{
	struct json j;
	struct bus_limits after = p->limits_after;

	if (o->have_after && !arg_check)
		bus_limits_from_status(&o->after, &after);
	json_init(&j, stdout);
	json_object_begin(&j);
	json_key_string(&j, "command", "limit");
	json_key_bool(&j, "ok", o->exit_code == BERTH_EXIT_OK);
	json_key_int(&j, "exit_code", o->exit_code);
	json_key_bool(&j, "changed", o->changed);
	json_key_string(&j, "service", p->name);
	json_key_string(&j, "unit", p->unit);
	json_key_bool(&j, "check", arg_check);
	json_key_bool(&j, "runtime", arg_runtime);
	json_key(&j, "limits");
	json_object_begin(&j);
	json_limits(&j, "before", &p->limits_before);
	json_limits(&j, "after", &after);
	json_object_end(&j);
	json_key_string(&j, "persisted_file", o->persisted ? p->dropin_path : NULL);
	json_key(&j, "main_pid");
	uint32_t pid = o->have_after ? o->after.main_pid : p->before.main_pid;
	pid ? json_uint(&j, pid) : json_null(&j);
	json_key(&j, "usage");
	if (o->have_usage)
		json_usage(&j, &o->usage);
	else
		json_null(&j);
	json_key_string(&j, "failure", o->failure);
	json_key(&j, "kernel_msec");
	o->kernel_usec != USEC_UNSET ? json_uint(&j, o->kernel_usec / USEC_PER_MSEC) : json_null(&j);
	json_key(&j, "mismatches");
	json_array_begin(&j);
	STRV_FOREACH(m, o->mismatches)
		json_string(&j, *m);
	json_array_end(&j);
	json_go(&j, p, o);
	json_key(&j, "restart");
	if (o->restarted) {
		json_object_begin(&j);
		json_key_string(&j, "result", o->restart_result);
		json_key_uint(&j, "elapsed_msec", o->restart_elapsed / USEC_PER_MSEC);
		json_object_end(&j);
	} else
		json_null(&j);
	json_object_end(&j);
	json_finish(&j);
}

static void print_usage(const struct cgroup_usage *u)
{
	char a[32], b[32];

	printf("  %-12s cgroup v%d: ", "kernel", (int)u->version);
	if (!(u->missing & CGROUP_FIELD_MEMORY_MAX))
		printf("%s %s", cgroup_field_file(CGROUP_FIELD_MEMORY_MAX, u->version, NULL),
		       u->memory_max == UINT64_MAX ? "max" : format_size_human(a, sizeof(a), u->memory_max));
	if (!(u->missing & CGROUP_FIELD_CPU_QUOTA)) {
		if (u->cpu_quota_usec == UINT64_MAX)
			printf(", CPU quota none");
		else
			printf(", CPU quota %" PRIu64 "us per %" PRIu64 "us", u->cpu_quota_usec, u->cpu_period_usec);
	}
	if (!(u->missing & CGROUP_FIELD_TASKS_MAX)) {
		if (u->tasks_max == UINT64_MAX)
			printf(", pids.max max");
		else
			printf(", pids.max %" PRIu64, u->tasks_max);
	}
	printf("\n");
	printf("  %-12s memory %s", "usage",
	       u->missing & CGROUP_FIELD_MEMORY_CURRENT ? "?" : format_size_human(a, sizeof(a), u->memory_current));
	if (!(u->missing & CGROUP_FIELD_MEMORY_PEAK))
		printf(" (peak %s)", format_size_human(b, sizeof(b), u->memory_peak));
	if (!(u->missing & CGROUP_FIELD_OOM_KILLS))
		printf(", %" PRIu64 " OOM kill%s", u->oom_kills, u->oom_kills == 1 ? "" : "s");
	if (!(u->missing & CGROUP_FIELD_CPU_USAGE))
		printf(", CPU %.2fs", (double)u->cpu_usage_usec / 1e6);
	if (!(u->missing & (CGROUP_FIELD_NR_THROTTLED | CGROUP_FIELD_NR_PERIODS)))
		printf(", throttled in %" PRIu64 " of %" PRIu64 " periods", u->nr_throttled, u->nr_periods);
	if (!(u->missing & CGROUP_FIELD_TASKS_CURRENT))
		printf(", %" PRIu64 " task%s", u->tasks_current, u->tasks_current == 1 ? "" : "s");
	printf("\n");
}

static void print_go(const struct plan *p, const struct outcome *o)
{
	const char *ver = p->have_binary && p->binary.is_go ? p->binary.go.go_version : "this Go";

	if (!p->go_restart_needed || o->restarted || !p->running.known)
		return;
	if (p->running.gomaxprocs != p->go_wanted.gomaxprocs) {
		if (p->go_wanted.gomaxprocs)
			printf("  %-12s %" PRIu64 " in the running process (PID %" PRIu32 "); the CPU quota now calls for %" PRIu64
			       " (%s does not follow cgroup CPU limits)\n",
			       "GOMAXPROCS", p->running.gomaxprocs, p->before.main_pid, p->go_wanted.gomaxprocs, ver);
		else
			printf("  %-12s %" PRIu64 " in the running process (PID %" PRIu32 "); without a CPU quota it should be unset\n",
			       "GOMAXPROCS", p->running.gomaxprocs, p->before.main_pid);
	}
	if (p->running.gomemlimit != p->go_wanted.gomemlimit) {
		char a[32], b[32];
		printf("  %-12s %s in the running process; the memory limit now calls for %s\n", "GOMEMLIMIT",
		       p->running.gomemlimit ? format_size_human(a, sizeof(a), p->running.gomemlimit) : "unset",
		       p->go_wanted.gomemlimit ? format_size_human(b, sizeof(b), p->go_wanted.gomemlimit) : "unset");
	}
	if (p->restart_fixes)
		printf("  %-12s the Go runtime reads these at start: restart to apply them (berth limit %s --restart)\n", "",
		       p->name);
	else
		printf("  %-12s a restart would not apply them: limits set with --runtime do not reach the service's "
		       "environment; set them without --runtime\n",
		       "");
}

static void print_human(const struct plan *p, const struct outcome *o)
{
	static const char *const labels[] = { "cpu", "memory", "memory-high", "swap", "tasks" };
	struct bus_limits after = p->limits_after;
	char a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX];

	if (o->have_after && !arg_check)
		bus_limits_from_status(&o->after, &after);
	const struct bus_limits *bl = &p->limits_before;
	const uint64_t bv[] = { bl->cpu, bl->memory_max, bl->memory_high, bl->swap_max, bl->tasks_max };
	const uint64_t av[] = { after.cpu, after.memory_max, after.memory_high, after.swap_max, after.tasks_max };
	for (size_t i = 0; i < ELEMENTSOF(labels); i++) {
		const char *x = limit_text(a, sizeof(a), bv[i], i == 0), *y = limit_text(b, sizeof(b), av[i], i == 0);
		if (bv[i] != av[i])
			printf("  %-12s %s → %s\n", labels[i], x, y);
		else
			printf("  %-12s %s\n", labels[i], x);
	}
	if (!arg_runtime && !cgroup_limits_is_empty(&p->req))
		printf("  %-12s %s%s\n", "persisted", o->persisted ? p->dropin_path : "nothing",
		       o->persisted ? "" : " (the manifest's values)");
	else if (arg_runtime && !cgroup_limits_is_empty(&p->req))
		printf("  %-12s nothing: until the next reboot%s\n", "persisted",
		       p->old_text ? ", or until berth limit changes the same limit again" : "");
	if (o->have_usage)
		print_usage(&o->usage);
	if (o->kernel_usec != USEC_UNSET)
		printf("  %-12s the cgroup had the new limits %" PRIu64 " ms after systemd was asked\n", "applied",
		       (uint64_t)(o->kernel_usec / USEC_PER_MSEC));
	else if (!p->active)
		printf("  %-12s %s is not running: the limits apply when it starts\n", "kernel", p->unit);
	print_go(p, o);
	if (o->restarted)
		printf("  %-12s restarted in %" PRIu64 " ms, healthy (GOMAXPROCS %" PRIu64 ")\n", "restart",
		       (uint64_t)(o->restart_elapsed / USEC_PER_MSEC), p->go_wanted.gomaxprocs);
	else if (arg_restart && !p->go_restart_needed && !arg_check)
		printf("  %-12s not needed: the running process already has what the limits call for\n", "restart");
}

/* ---- the command ----------------------------------------------------------------------------- */

static int exec_limit(int argc, char **argv)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct plan p = { .name = argv[0] };
	struct outcome o = { .exit_code = BERTH_EXIT_OK, .kernel_usec = USEC_UNSET };
	int r, ex;

	if (arg_runtime && arg_restart) {
		log_error("berth limit: --restart cannot apply limits set with --runtime (the Go runtime reads them "
			  "from the unit's environment at start): drop one of them");
		return BERTH_EXIT_USAGE;
	}
	ex = parse_request(&p.req);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("limit", ex);
	if (cli_require_service(p.name) != BERTH_EXIT_OK)
		return cli_fail("limit", BERTH_EXIT_NOT_FOUND);
	bool mutating = !cgroup_limits_is_empty(&p.req) || arg_restart;

	p.unit = unit_name_for(p.name);
	if (!p.unit)
		return cli_fail("limit", BERTH_EXIT_FAILURE);
	r = service_load_manifest(p.name, &p.m);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read the manifest of the current release of \"%s\": %m", p.name);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	ex = cli_open_bus(&bus);
	if (ex != BERTH_EXIT_OK)
		goto fail;
	if (mutating && !arg_check) {
		ex = cli_take_lock(arg_lock_timeout, &lock_fd);
		if (ex != BERTH_EXIT_OK)
			goto fail;
	}
	ex = make_plan(bus, &p);
	if (ex != BERTH_EXIT_OK)
		goto fail;

	if (!arg_json)
		printf("%s%s: %s\n", arg_check ? "(check) " : "", p.name,
		       !mutating ? "limits" : arg_check ? "what would change" :
		       arg_runtime ? "changing limits until the next reboot" : "changing limits");
	if (arg_check || !mutating) {
		o.changed = arg_check && (p.live_changes || p.file_changes || (arg_restart && p.restart_fixes));
		o.persisted = (arg_check && mutating ? p.new_text : p.old_text) != NULL;
		if (p.have_usage_before) {
			o.usage = p.usage_before;
			o.have_usage = true;
			(void)cgroup_compare(&o.usage, &p.before, &o.mismatches);
		}
	} else {
		ex = apply(bus, &p, &o);
		o.exit_code = ex;
		o.persisted = arg_runtime ? p.old_text != NULL : p.new_text != NULL;
		(void)read_back(bus, &p, &o);
		if (ex == BERTH_EXIT_OK && strv_length(o.mismatches) > 0) {
			STRV_FOREACH(m, o.mismatches)
				cli_error(NULL, 0, NULL, NULL, "%s", *m);
			o.failure = strdup(o.mismatches[0]);
			o.exit_code = BERTH_EXIT_FAILURE;
		}
	}
	if (!arg_check && !mutating)
		STRV_FOREACH(m, o.mismatches)
			log_warning("%s", *m);

	if (arg_json)
		print_json(&p, &o);
	else {
		print_human(&p, &o);
		if (arg_diff && p.file_changes)
			(void)diff_unified(stdout, p.old_text ? p.dropin_path : "/dev/null", p.old_text,
					   p.new_text ? p.dropin_path : "/dev/null", p.new_text, term_colour(STDOUT_FILENO));
		if (o.exit_code == BERTH_EXIT_OK && mutating)
			printf("%s: %s\n", p.name,
			       arg_check ? (o.changed ? "would change" : "no change needed") :
			       !o.changed ? "no change (already in force)" :
			       o.restarted ? "limits changed, restarted" : "limits changed without a restart");
	}
	ex = o.exit_code;
	outcome_release(&o);
	plan_release(&p);
	return ex;

fail:
	plan_release(&p);
	return cli_fail("limit", ex);
}

static const struct berth_option options[] = {
	{ "cpu", 0, required_argument, "PERCENT", "CPU quota in percent of one CPU (50%, 150%), or infinity" },
	{ "memory", 0, required_argument, "SIZE", "hard memory limit (MemoryMax=), e.g. 256M, or infinity" },
	{ "memory-high", 0, required_argument, "SIZE", "throttling threshold (MemoryHigh=), or infinity" },
	{ "swap", 0, required_argument, "SIZE", "swap limit (MemorySwapMax=), 0 for none, or infinity" },
	{ "tasks", 0, required_argument, "N", "most processes and threads (TasksMax=), or infinity" },
	{ "runtime", 0, no_argument, NULL, "change the running service only: nothing on disk, gone at reboot" },
	{ "force", 0, no_argument, NULL, "allow a memory limit below what the service uses now" },
	{ "restart", 0, no_argument, NULL, "restart (health-gated) if GOMAXPROCS/GOMEMLIMIT must follow" },
	{ "lock-timeout", 0, required_argument, "DURATION", "wait this long for another berth (default 60s)" },
	{ NULL },
};

const struct berth_cmd berth_cmd_limit = {
	.name = "limit",
	.usage = "NAME",
	.summary = "change the CPU, memory and task limits of a running service without a restart",
	.description =
		"Applies the limits at once (systemd SetUnitProperties), checks that the kernel\n"
		"enforces them and keeps them in /etc/systemd/system/NAME.service.d/\n"
		"49-berth-limits.conf, which `berth deploy` keeps until the manifest changes the\n"
		"same limit. With --runtime nothing is written to disk and the limits last until\n"
		"the next reboot. Without limit options it shows the limits in force and what the\n"
		"kernel reports. A memory limit below the current usage needs --force: the kernel\n"
		"then reclaims memory and OOM-kills the service if that is not enough.\n"
		"Go reads GOMEMLIMIT, and Go before 1.25 sizes GOMAXPROCS, only at start: when a\n"
		"new limit changes them, berth says so, and --restart restarts the service\n"
		"(health-gated) to apply them. --diff shows the change to the drop-in.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK | BERTH_CMD_MUTATES,
	.set_option = set_option,
	.run = exec_limit,
};
