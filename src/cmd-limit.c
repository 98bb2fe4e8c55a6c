/* cmd-limit.c - berth limit NAME: change the cgroup limits of a running service without a restart
 * (options and output; the plan, the change and the read-back are in limit.c) */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "berth.h"
#include "cgroup.h"
#include "cli.h"
#include "diff.h"
#include "limit.h"
#include "log.h"
#include "services.h"
#include "strv.h"
#include "term.h"
#include "unit.h"

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

/* ---- output ---------------------------------------------------------------------------------- */

static void json_limit(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	v == UINT64_MAX ? json_null(j) : json_uint(j, v);
}

static void json_limits(struct json *j, const char *key, const struct limit_values *l)
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

static void json_go(struct json *j, const struct limit_plan *p, const struct limit_outcome *o)
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

/* The drop-in's change, for --diff */
static struct diff_file dropin_diff(const struct limit_plan *p)
{
	return (struct diff_file){ p->old_text ? p->dropin_path : "/dev/null", p->old_text,
				   p->new_text ? p->dropin_path : "/dev/null", p->new_text };
}

static void print_json(const struct limit_plan *p, const struct limit_outcome *o)
{
	struct json j;
	struct limit_values after = p->limits_after;

	if (o->have_after && !arg_check)
		limit_values_from_status(&o->after, &after);
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
	struct diff_file df = dropin_diff(p);
	cli_json_diff(&j, &df, p->file_changes ? 1 : 0);
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

static void print_go(const struct limit_plan *p, const struct limit_outcome *o)
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

static void print_human(const struct limit_plan *p, const struct limit_outcome *o)
{
	static const char *const labels[] = { "cpu", "memory", "memory-high", "swap", "tasks" };
	struct limit_values after = p->limits_after;
	char a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX];

	if (o->have_after && !arg_check)
		limit_values_from_status(&o->after, &after);
	const struct limit_values *bl = &p->limits_before;
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
	struct limit_plan p = { .name = argv[0] };
	struct limit_outcome o = { .exit_code = BERTH_EXIT_OK, .kernel_usec = USEC_UNSET };
	int r, ex;

	if (arg_runtime && arg_restart) {
		log_error("berth limit: --restart cannot apply limits set with --runtime (the Go runtime reads them "
			  "from the unit's environment at start): drop one of them");
		return BERTH_EXIT_USAGE;
	}
	ex = parse_request(&p.req);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("limit", ex);
	p.opt = (struct limit_options){
		.memory_arg = arg_memory, .runtime = arg_runtime, .force = arg_force, .restart = arg_restart
	};
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
	ex = limit_plan(bus, &p);
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
		ex = limit_apply(bus, &p, &o);
		o.exit_code = ex;
		o.persisted = arg_runtime ? p.old_text != NULL : p.new_text != NULL;
		(void)limit_read_back(bus, &p, &o);
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
		struct diff_file df = dropin_diff(&p);
		if (arg_diff && p.file_changes)
			(void)diff_unified_files(stdout, &df, 1, term_colour(STDOUT_FILENO));
		if (o.exit_code == BERTH_EXIT_OK && mutating)
			printf("%s: %s\n", p.name,
			       arg_check ? (o.changed ? "would change" : "no change needed") :
			       !o.changed ? "no change (already in force)" :
			       o.restarted ? "limits changed, restarted" : "limits changed without a restart");
	}
	ex = o.exit_code;
	limit_outcome_release(&o);
	limit_plan_release(&p);
	return ex;

fail:
	limit_plan_release(&p);
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
