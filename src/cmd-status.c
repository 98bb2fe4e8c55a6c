/* cmd-status.c - berth status [NAME...]: state, release, readiness, health now, usage */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth.h"
#include "cli.h"
#include "deploy.h"
#include "lock.h"
#include "log.h"
#include "report.h"
#include "service-state.h"
#include "services.h"
#include "strv.h"
#include "term.h"
#include "txn.h"
#include "unit.h"

static bool known(uint64_t v)
{
	return v != UINT64_MAX;
}

static const char *fmt_span(char *buf, size_t len, uint64_t usec)
{
	uint64_t s = usec / USEC_PER_SEC;
	if (s < 60)
		snprintf(buf, len, "%.1fs", (double)usec / USEC_PER_SEC);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s % 86400 / 3600);
	return buf;
}

static void print_human(struct service_state *v, size_t n)
{
	char up[32], mem[64], a[32], b[32], cpu[32], ready[32];
	uint64_t now = realtime_usec();

	printf("%s%-16s %-22s %7s %8s %4s  %-13s %8s  %-9s %-15s %s%s\n", term_out(TERM_BOLD), "SERVICE", "STATE",
	       "PID", "UPTIME", "RST", "RELEASE", "READY", "HEALTH", "MEMORY", "CPU", term_out(TERM_RESET));
	for (size_t i = 0; i < n; i++) {
		struct unit_status *s = &v[i].st;
		char state[64];
		bool active = streq_ptr(s->active_state, "active");
		snprintf(state, sizeof(state), "%s/%s", strempty(s->active_state), strempty(s->sub_state));
		if (active && s->active_enter_usec && now > s->active_enter_usec)
			fmt_span(up, sizeof(up), now - s->active_enter_usec);
		else
			snprintf(up, sizeof(up), "-");
		if (known(s->memory_current))
			snprintf(mem, sizeof(mem), "%s/%s", format_size_human(a, sizeof(a), s->memory_current),
				 known(s->memory_max) ? format_size_human(b, sizeof(b), s->memory_max) : "-");
		else
			snprintf(mem, sizeof(mem), "-");
		if (known(s->cpu_usage_nsec))
			snprintf(cpu, sizeof(cpu), "%.2fs", (double)s->cpu_usage_nsec / 1e9);
		else
			snprintf(cpu, sizeof(cpu), "-");
		if (v[i].ready_msec >= 0)
			snprintf(ready, sizeof(ready), "%" PRId64 "ms", v[i].ready_msec);
		else
			snprintf(ready, sizeof(ready), "-");
		const char *health = !active ? "-" : !v[i].health_checked ? "n/a" :
						     v[i].health.healthy ? "healthy" : "UNHEALTHY";
		const char *sc = active ? term_out(TERM_GREEN) : streq_ptr(s->active_state, "failed") ? term_out(TERM_RED) : "";
		printf("%-16s %s%-22s%s %7" PRIu32 " %8s %4" PRIu32 "  %-13s %8s  %-9s %-15s %s\n", v[i].name, sc, state,
		       term_out(TERM_RESET), s->main_pid, up, s->n_restarts, v[i].release ? v[i].release : "-", ready,
		       health, mem, cpu);
		if (v[i].have_cgroup) {
			const struct cgroup_usage *c = &v[i].cg;
			char peak[32] = "-", tasks[64] = "-", thr[64] = "-";
			if (known(c->memory_peak))
				format_size_human(peak, sizeof(peak), c->memory_peak);
			if (known(c->tasks_current))
				snprintf(tasks, sizeof(tasks), "%" PRIu64 "/%s", c->tasks_current,
					 known(c->tasks_max) ? (snprintf(b, sizeof(b), "%" PRIu64, c->tasks_max), b) : "max");
			if (v[i].have_delta && v[i].delta_periods > 0)
				snprintf(thr, sizeof(thr), "%.0f%% of periods over the last %.1fs (%.2f CPUs used)",
					 100.0 * (double)v[i].delta_throttled / (double)v[i].delta_periods,
					 (double)v[i].delta_usec / 1e6,
					 (double)v[i].delta_usage_usec / (double)v[i].delta_usec);
			else if (known(c->nr_periods) && c->nr_periods > 0)
				snprintf(thr, sizeof(thr), "%.0f%% of periods since start (%.2fs)",
					 100.0 * (double)c->nr_throttled / (double)c->nr_periods,
					 (double)c->throttled_usec / 1e6);
			printf("  └ cgroup v%d: memory peak %s, OOM kills %s, tasks %s, CPU throttled %s\n", (int)c->version,
			       peak, known(c->oom_kills) ? (snprintf(a, sizeof(a), "%" PRIu64, c->oom_kills), a) : "-",
			       tasks, thr);
		}
		STRV_FOREACH(mm, v[i].mismatches)
			printf("  %s└ limits: %s%s\n", term_out(TERM_RED), *mm, term_out(TERM_RESET));
		if (v[i].have_txn)
			printf("  %s└ unfinished %s from %s to %s (berth stopped at step %s): the next berth deploy, rollback or apply of %s finishes it%s\n",
			       term_out(TERM_RED), strempty(v[i].txn.op), v[i].txn.from ? v[i].txn.from : "nothing",
			       strempty(v[i].txn.to), strempty(v[i].txn.step), v[i].name, term_out(TERM_RESET));
		if (v[i].running && !streq_ptr(v[i].running, v[i].release))
			printf("  %s└ running %s, current is %s: the next berth deploy restarts it%s\n", term_out(TERM_RED),
			       v[i].running, strempty(v[i].release), term_out(TERM_RESET));
		if (streq_ptr(s->result, "oom-kill"))
			printf("  %s└ last stop: killed by the kernel for exceeding MemoryMax (oom-kill)%s\n",
			       term_out(TERM_RED), term_out(TERM_RESET));
		if (v[i].health_checked && !v[i].health.healthy)
			printf("  %s└ health: %s%s\n", term_out(TERM_RED), v[i].health.reason, term_out(TERM_RESET));
		if (v[i].crash_loop)
			printf("  %s└ crash loop: %u restarts in %s, then systemd's start limit stopped it (%s; fix it, then berth start %s)%s\n",
			       term_out(TERM_RED), v[i].loop_restarts, fmt_span(a, sizeof(a), v[i].loop_span_usec),
			       strempty(v[i].st.result), v[i].name, term_out(TERM_RESET));
		else if (streq_ptr(s->active_state, "failed"))
			printf("  %s└ failed: %s%s\n", term_out(TERM_RED), strempty(s->result), term_out(TERM_RESET));
		sandbox_print(stdout, "  └ ", "    ", v[i].sandbox, v[i].sandbox_line);
	}
}

static void json_u64_or_null(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	known(v) ? json_uint(j, v) : json_null(j);
}

static void print_json(struct service_state *v, size_t n)
{
	struct json j;
	uint64_t now = realtime_usec();

	cli_json_begin(&j, "status");
	json_key(&j, "services");
	json_array_begin(&j);
	for (size_t i = 0; i < n; i++) {
		struct unit_status *s = &v[i].st;
		bool active = streq_ptr(s->active_state, "active");
		json_object_begin(&j);
		json_key_string(&j, "name", v[i].name);
		json_key_string(&j, "unit", s->id);
		json_key_string(&j, "load_state", s->load_state);
		json_key_string(&j, "active_state", s->active_state);
		json_key_string(&j, "sub_state", s->sub_state);
		json_key_string(&j, "unit_file_state", s->unit_file_state);
		json_key_string(&j, "result", s->result);
		json_key(&j, "main_pid");
		s->main_pid ? json_uint(&j, s->main_pid) : json_null(&j);
		json_key(&j, "uptime_usec");
		active && s->active_enter_usec && now > s->active_enter_usec ? json_uint(&j, now - s->active_enter_usec) :
									    json_null(&j);
		json_key_uint(&j, "restarts", s->n_restarts);
		json_key_string(&j, "release", v[i].release);
		json_key_string(&j, "running_release", v[i].running);
		json_key(&j, "transaction");
		if (v[i].have_txn) {
			json_object_begin(&j);
			json_key_string(&j, "op", v[i].txn.op);
			json_key_string(&j, "from", v[i].txn.from);
			json_key_string(&j, "to", v[i].txn.to);
			json_key_string(&j, "step", v[i].txn.step);
			json_key_int(&j, "pid", v[i].txn.pid);
			json_key_uint(&j, "started_usec", v[i].txn.started_usec);
			json_object_end(&j);
		} else
			json_null(&j);
		json_key(&j, "ready_msec");
		v[i].ready_msec >= 0 ? json_int(&j, v[i].ready_msec) : json_null(&j);
		json_key(&j, "health");
		if (v[i].health_checked) {
			json_object_begin(&j);
			json_key_bool(&j, "healthy", v[i].health.healthy);
			json_key_string(&j, "reason", v[i].health.reason);
			json_key_uint(&j, "elapsed_usec", v[i].health.elapsed);
			json_object_end(&j);
		} else
			json_null(&j);
		json_key(&j, "crash_loop");
		if (v[i].crash_loop) {
			json_object_begin(&j);
			json_key_uint(&j, "restarts", v[i].loop_restarts);
			json_key_uint(&j, "span_usec", v[i].loop_span_usec);
			json_object_end(&j);
		} else
			json_null(&j);
		json_u64_or_null(&j, "memory_current", s->memory_current);
		json_u64_or_null(&j, "memory_max", s->memory_max);
		json_u64_or_null(&j, "memory_high", s->memory_high);
		json_u64_or_null(&j, "cpu_usage_nsec", s->cpu_usage_nsec);
		json_u64_or_null(&j, "cpu_quota_per_sec_usec", s->cpu_quota_per_sec_usec);
		json_u64_or_null(&j, "tasks_current", s->tasks_current);
		json_u64_or_null(&j, "tasks_max", s->tasks_max);
		json_key(&j, "cgroup");
		if (v[i].have_cgroup) {
			const struct cgroup_usage *c = &v[i].cg;
			json_object_begin(&j);
			json_key_int(&j, "version", (int)c->version);
			json_u64_or_null(&j, "memory_current", c->memory_current);
			json_u64_or_null(&j, "memory_max", c->memory_max);
			json_u64_or_null(&j, "memory_high", c->memory_high);
			json_u64_or_null(&j, "memory_peak", c->memory_peak);
			json_u64_or_null(&j, "oom_kills", c->oom_kills);
			json_u64_or_null(&j, "cpu_usage_usec", c->cpu_usage_usec);
			json_u64_or_null(&j, "nr_periods", c->nr_periods);
			json_u64_or_null(&j, "nr_throttled", c->nr_throttled);
			json_u64_or_null(&j, "throttled_usec", c->throttled_usec);
			json_u64_or_null(&j, "cpu_quota_usec", c->cpu_quota_usec);
			json_u64_or_null(&j, "cpu_period_usec", c->cpu_period_usec);
			json_u64_or_null(&j, "tasks_current", c->tasks_current);
			json_u64_or_null(&j, "tasks_max", c->tasks_max);
			json_object_end(&j);
		} else
			json_null(&j);
		json_key(&j, "go");
		if (v[i].have_go) {
			const struct go_decision *g = &v[i].go;
			json_object_begin(&j);
			json_key(&j, "gomaxprocs");
			g->gomaxprocs ? json_uint(&j, g->gomaxprocs) : json_null(&j);
			json_key_string(&j, "gomaxprocs_source", go_source_to_string(g->gomaxprocs_source));
			json_key_string(&j, "gomaxprocs_reason", g->why_gomaxprocs);
			json_key(&j, "gomemlimit");
			g->gomemlimit ? json_uint(&j, g->gomemlimit) : json_null(&j);
			json_key_string(&j, "gomemlimit_source", go_source_to_string(g->gomemlimit_source));
			json_key_string(&j, "gomemlimit_reason", g->why_gomemlimit);
			json_object_end(&j);
		} else
			json_null(&j);
		json_key(&j, "cpu_interval");
		if (v[i].have_delta) {
			json_object_begin(&j);
			json_key_uint(&j, "interval_usec", v[i].delta_usec);
			json_key_uint(&j, "usage_usec", v[i].delta_usage_usec);
			json_key_uint(&j, "nr_periods", v[i].delta_periods);
			json_key_uint(&j, "nr_throttled", v[i].delta_throttled);
			json_key_uint(&j, "throttled_usec", v[i].delta_throttled_usec);
			json_key(&j, "throttled_share");
			v[i].delta_periods ? json_double(&j, (double)v[i].delta_throttled / (double)v[i].delta_periods) :
					     json_null(&j);
			json_object_end(&j);
		} else
			json_null(&j);
		sandbox_json(&j, v[i].sandbox, v[i].sandbox_line);
		json_key(&j, "limit_mismatches");
		json_array_begin(&j);
		STRV_FOREACH(mm, v[i].mismatches)
			json_string(&j, *mm);
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* As root, status first finishes what a killed berth left (deploy.h): only when no other berth
 * holds the lock and no start it queued is still running; otherwise status shows it. */
static void resolve_unfinished(sd_bus *bus, char *const *names)
{
	_cleanup_close_ int lock_fd = -1;
	struct report rep;
	pid_t holder;
	bool any = false;

	if (geteuid() != 0)
		return;
	STRV_FOREACH(n, names)
		any |= txn_exists(BERTH_STATE_ROOT, *n);
	if (!any || (lock_fd = lock_acquire(BERTH_LOCK_PATH, 0, &holder)) < 0)
		return;
	report_init(&rep, NULL, true);
	STRV_FOREACH(n, names)
		if (txn_exists(BERTH_STATE_ROOT, *n))
			(void)deploy_resolve(bus, *n, false, &rep);
	if (!arg_json)
		for (size_t i = 0; i < rep.n; i++)
			printf("%s: %s\n", rep.steps[i].step, rep.steps[i].detail);
	report_release(&rep);
}

static int exec_status(int argc, char **argv)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_strv_free_ char **names = NULL;
	int r, ex = BERTH_EXIT_OK;

	if (argc > 0) {
		for (int i = 0; i < argc; i++) {
			if (cli_require_service(argv[i]) != BERTH_EXIT_OK)
				return cli_fail("status", BERTH_EXIT_NOT_FOUND);
			if (strv_extend(&names, argv[i]) < 0)
				return BERTH_EXIT_FAILURE;
		}
	} else if ((r = services_list(&names)) < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot list services in %s: %m", BERTH_STATE_ROOT);
		return cli_fail("status", BERTH_EXIT_FAILURE);
	}
	ex = cli_open_bus(&bus);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("status", ex);
	resolve_unfinished(bus, names);

	size_t n = strv_length(names);
	struct service_state *v = calloc(n + 1, sizeof(*v));
	if (!v)
		return BERTH_EXIT_FAILURE;
	for (size_t i = 0; i < n; i++)
		v[i].name = names[i];
	r = service_state_gather(bus, v, n, SERVICE_STATE_GO | SERVICE_STATE_CPU_INTERVAL | SERVICE_STATE_PROBE |
						    SERVICE_STATE_SANDBOX);
	if (r < 0) {
		free(v);
		return BERTH_EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].bus_error < 0) {
			_cleanup_free_ char *unit = unit_name_for(v[i].name);
			log_error("cannot ask systemd about %s: %s", strempty(unit), strempty(v[i].bus_error_text));
			ex = BERTH_EXIT_FAILURE;
		}
	if (arg_json)
		print_json(v, n);
	else if (n == 0)
		printf("no services deployed by berth\n");
	else
		print_human(v, n);
	for (size_t i = 0; i < n; i++)
		service_state_release(&v[i]);
	free(v);
	return ex;
}

const struct berth_cmd berth_cmd_status = {
	.name = "status",
	.usage = "[NAME...]",
	.summary = "show state, release, readiness, health and usage of services",
	.min_args = 0,
	.max_args = -1,
	.run = exec_status,
};
