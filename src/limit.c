/* limit.c - the plan, the change and the read-back of `berth limit` (see limit.h) */
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
#include "deploy.h"
#include "fs.h"
#include "goruntime.h"
#include "health.h"
#include "limit.h"
#include "log.h"
#include "runstate.h"
#include "strv.h"
#include "unit.h"

#define SYSTEM_CONTROL_RUNTIME "/run/systemd/system.control"
#define SYSTEM_CONTROL_PERSISTENT "/etc/systemd/system.control"
#define LIMITS_DROPIN_MAX (64 * 1024)
#define READBACK_TIMEOUT USEC_PER_SEC

/* ---- limits as systemd reports them: UINT64_MAX = no limit ----------------------------------- */

static uint64_t bus_size(uint64_t v)
{
	return v == SIZE_INFINITY ? UINT64_MAX : v;
}

static uint64_t bus_cpu(uint64_t pct)
{
	return pct == SIZE_INFINITY ? UINT64_MAX : pct * 10000;
}

void limit_values_from_status(const struct unit_status *s, struct limit_values *ret)
{
	*ret = (struct limit_values){
		.cpu = s->cpu_quota_per_sec_usec,
		.memory_max = s->memory_max,
		.memory_high = s->memory_high,
		.swap_max = s->memory_swap_max,
		.tasks_max = s->tasks_max,
	};
}

static void limit_values_overlay(struct limit_values *l, const struct cgroup_limits *req)
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

static bool limit_values_equal(const struct limit_values *a, const struct limit_values *b)
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

void limit_plan_release(struct limit_plan *p)
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

static bool limit_unit_is_active(const struct unit_status *s)
{
	return streq_ptr(s->active_state, "active") || streq_ptr(s->active_state, "activating") ||
	       streq_ptr(s->active_state, "reloading");
}

/* Loads the installed drop-in. BERTH_EXIT_OK, or a refusal. */
static int load_dropin(struct limit_plan *p)
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
static int plan_dropin(struct limit_plan *p, struct cgroup_limits *ret_set)
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

static void plan_go(struct limit_plan *p, const struct cgroup_limits *set_after)
{
	const struct elf_info *bin = p->have_binary ? &p->binary : NULL;
	const struct limit_values *a = &p->limits_after;
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

int limit_plan(sd_bus *bus, struct limit_plan *p)
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
	p->active = limit_unit_is_active(&p->before);
	p->memory_current = p->before.memory_current;
	if (p->active && !isempty(p->before.control_group) &&
	    cgroup_read(p->before.control_group, &p->usage_before) >= 0) {
		p->have_usage_before = true;
		if (!(p->usage_before.missing & CGROUP_FIELD_MEMORY_CURRENT))
			p->memory_current = p->usage_before.memory_current;
	}

	limit_values_from_status(&p->before, &p->limits_before);
	p->limits_after = p->limits_before;
	limit_values_overlay(&p->limits_after, &p->req);
	p->live_changes = !limit_values_equal(&p->limits_before, &p->limits_after);

	/* refusals, before anything changes */
	if ((p->req.memory_max != SIZE_UNSET || p->req.memory_high != SIZE_UNSET) && p->limits_after.memory_high != UINT64_MAX &&
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
		if (!p->opt.force) {
			cli_error(NULL, 0, NULL, NULL,
				  "--memory %s is below what %s uses now (%s): the kernel would reclaim its memory and "
				  "then OOM-kill it if that is not enough; pass --force to do it anyway",
				  p->opt.memory_arg, p->name, format_size_human(b, sizeof(b), p->memory_current));
			return BERTH_EXIT_INVALID;
		}
		log_warning("--memory %s is below what %s uses now (%s): the kernel reclaims its memory, then OOM-kills "
			    "it if that is not enough",
			    p->opt.memory_arg, p->name, format_size_human(b, sizeof(b), p->memory_current));
	}

	ex = load_dropin(p);
	if (ex != BERTH_EXIT_OK && !(ex == BERTH_EXIT_INVALID && p->opt.runtime))
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

	if (p->opt.runtime) {
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
static void forget_runtime_copies(const struct limit_plan *p)
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
static void warn_persistent_overrides(const struct limit_plan *p)
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

static int write_dropin(const struct limit_plan *p)
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

void limit_outcome_release(struct limit_outcome *o)
{
	free(o->failure);
	free(o->restart_result);
	unit_status_release(&o->after);
	strv_free(o->mismatches);
}

/* Reads the cgroup back until it matches what systemd says, for up to a second (systemd writes
 * the cgroup files from its event loop, after answering). Returns true once it matches. */
bool limit_read_back(sd_bus *bus, const struct limit_plan *p, struct limit_outcome *o)
{
	usec_t start = now_usec();

	unit_status_release(&o->after);
	o->have_after = bus_get_unit_status(bus, p->unit, &o->after, NULL) >= 0;
	if (!o->have_after || !limit_unit_is_active(&o->after) || isempty(o->after.control_group))
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
static int apply_fail(struct limit_outcome *o, const char *fmt, ...) _printf_(2, 3);
static int apply_fail(struct limit_outcome *o, const char *fmt, ...)
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

int limit_apply(sd_bus *bus, struct limit_plan *p, struct limit_outcome *o)
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
		if (limit_read_back(bus, p, o))
			o->kernel_usec = now_usec() - asked;
	}
	if (!p->opt.runtime && (p->live_changes || p->file_changes)) {
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
	if (p->opt.restart && p->active && p->restart_fixes) {
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

