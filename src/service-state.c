/* service-state.c - gathering the state of services: systemd, release store, kernel */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "deploy.h"
#include "fs.h"
#include "journal.h"
#include "release.h"
#include "runstate.h"
#include "service-state.h"
#include "services.h"
#include "strv.h"
#include "unit.h"

static bool known(uint64_t v)
{
	return v != UINT64_MAX;
}

/* The CPU counters of the previous gathering, per service, in /run/berth/cpu/NAME: the share of
 * periods throttled "over the last interval" is the difference with them. */
static void cpu_interval(struct service_state *v)
{
	char path[512], line[256], dir[300];
	_cleanup_free_ char *old = NULL;
	uint64_t t0, u0, p0, n0, th0, now = realtime_usec();
	const struct cgroup_usage *c = &v->cg;
	size_t len;

	if (!known(c->cpu_usage_usec) || !known(c->nr_periods) || !known(c->nr_throttled) || !known(c->throttled_usec))
		return;
	snprintf(path, sizeof(path), "%s/cpu/%s", BERTH_RUN_DIR, v->name);
	if (fs_read_file(path, 4096, &old, &len) >= 0 &&
	    sscanf(old, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64, &t0, &u0, &p0, &n0, &th0) == 5 &&
	    now > t0 && c->cpu_usage_usec >= u0 && c->nr_periods >= p0 && c->nr_throttled >= n0 &&
	    c->throttled_usec >= th0) {
		v->have_delta = true;
		v->delta_usec = now - t0;
		v->delta_usage_usec = c->cpu_usage_usec - u0;
		v->delta_periods = c->nr_periods - p0;
		v->delta_throttled = c->nr_throttled - n0;
		v->delta_throttled_usec = c->throttled_usec - th0;
	}
	/* only root can keep the sample; the others get the cumulative numbers */
	snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", now,
		 c->cpu_usage_usec, c->nr_periods, c->nr_throttled, c->throttled_usec);
	snprintf(dir, sizeof(dir), "%s/cpu", BERTH_RUN_DIR);
	if (fs_mkdir_p_nofollow(dir, 0755) >= 0)
		(void)fs_write_atomic(path, line, strlen(line), 0644);
}

/* The Go version recorded when the release was installed: no need to read the binary again. */
static void fill_go(struct service_state *v, const struct manifest *m, const struct release *rel)
{
	struct elf_info e = { .is_go = rel && rel->go_version, .go.go_version = rel ? rel->go_version : NULL };

	if (!rel)
		return;
	go_decide(m, &e, cli_host_cpus(), &v->go);
	v->go.gogc = NULL; /* points into m, which is freed: not reported */
	v->have_go = true;
}

/* The Go decision now; the health probe now (alone) or, when gathering many services, later and
 * all at once (probe_all): the manifest it needs is kept until then. */
static void fill_manifest_parts(struct service_state *v, const struct release *rel, unsigned flags, bool defer_probe)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	struct health_spec spec;

	if (!(flags & (SERVICE_STATE_GO | SERVICE_STATE_PROBE)) || service_load_manifest(v->name, &m) < 0)
		return;
	if (flags & SERVICE_STATE_GO)
		fill_go(v, m, rel);
	if (!(flags & SERVICE_STATE_PROBE) || !streq_ptr(v->st.active_state, "active") || !deploy_health_spec(m, &spec))
		return;
	if (defer_probe) {
		v->probe_spec = spec;
		v->probe_manifest = TAKE_PTR(m);
	} else if (health_probe(&spec, &v->health) >= 0)
		v->health_checked = true;
}

/* A probe mostly waits for the service to answer: 50 of them one after the other were half of a
 * status of 50 services in the test VM. So they run side by side, up to PROBE_THREADS at a time
 * (each probe has its own socket and deadline; health.c keeps no state). */
#define PROBE_THREADS 16

struct probe_queue {
	struct service_state *v;
	size_t n;
	atomic_size_t next;
};

static void *probe_worker(void *userdata)
{
	struct probe_queue *q = userdata;

	for (;;) {
		size_t i = atomic_fetch_add(&q->next, 1);
		if (i >= q->n)
			return NULL;
		struct service_state *v = &q->v[i];
		if (v->probe_manifest && health_probe(&v->probe_spec, &v->health) >= 0)
			v->health_checked = true;
	}
}

static void probe_all(struct service_state *v, size_t n)
{
	struct probe_queue q = { .v = v, .n = n };
	pthread_t threads[PROBE_THREADS];
	size_t wanted = 0, started = 0;

	for (size_t i = 0; i < n; i++)
		wanted += v[i].probe_manifest != NULL;
	/* this thread probes too; a thread that cannot be created leaves its share to the others */
	while (started + 1 < wanted && started + 1 < PROBE_THREADS &&
	       pthread_create(&threads[started], NULL, probe_worker, &q) == 0)
		started++;
	(void)probe_worker(&q);
	for (size_t t = 0; t < started; t++)
		(void)pthread_join(threads[t], NULL);
	for (size_t i = 0; i < n; i++)
		v[i].probe_manifest = manifest_free(v[i].probe_manifest);
}

/* A crash loop: the start limit refused the next automatic restart. systemd then keeps the
 * crash's own Result (exit-code, signal...); start-limit-hit shows only when a manual start was
 * refused. Only then is the journal read (for how long the loop took). */
static void fill_crash_loop(struct service_state *v)
{
	const struct unit_status *s = &v->st;
	_cleanup_free_ char *unit = NULL;
	bool limit_reached = s->start_limit_burst > 0 && s->n_restarts + 1 >= s->start_limit_burst;
	uint64_t first, last;

	if (!streq_ptr(s->active_state, "failed") ||
	    !(streq_ptr(s->result, "start-limit-hit") || (s->n_restarts > 0 && limit_reached)))
		return;
	unsigned n = s->n_restarts ? s->n_restarts : (unsigned)s->start_limit_burst;
	v->crash_loop = true;
	v->loop_restarts = n;
	unit = unit_name_for(v->name);
	if (unit && journal_restart_span(unit, n ? n : 1, &first, &last) > 0)
		v->loop_span_usec = s->inactive_enter_usec > first ? s->inactive_enter_usec - first : last - first;
}

/* The latest run's last log lines (since its main process started: a run before it may have been
 * another release) and how it ended. Only for a service in trouble (not running, restarted, a
 * failed result or probe): a healthy one costs no journal read, so status scales with services.
 * A stopped unit that systemd has since unloaded has no start time: then the lines since the
 * current release was installed or made current (release_since). */
static void fill_sandbox(struct service_state *v, uint64_t release_since)
{
	const struct unit_status *s = &v->st;
	_cleanup_free_ char *unit = NULL;
	_cleanup_strv_free_ char **lines = NULL;
	const char *line;

	bool trouble = !streq_ptr(s->active_state, "active") || s->n_restarts > 0 ||
		       (s->result && !streq(s->result, "success")) || (v->health_checked && !v->health.healthy);
	uint64_t since = s->exec_main_start_usec ? s->exec_main_start_usec : release_since;
	if (!trouble || !since || !(unit = unit_name_for(v->name)))
		return;
	if (journal_tail(unit, 50, since, &lines) < 0)
		lines = NULL;
	/* a running main process has not ended: its ExecMainCode/Status are a previous run's */
	bool ended = !s->main_pid;
	v->sandbox = sandbox_hint_find(lines, ended ? s->exec_main_code : 0, ended ? s->exec_main_status : 0, &line);
	if (v->sandbox && line)
		v->sandbox_line = strdup(line);
}

/* Everything but the sandbox hint, which needs the probe's result. */
static void fill_local(struct service_state *v, unsigned flags, bool defer_probe)
{
	struct release_store store = { .root = (char *)BERTH_STATE_ROOT, .name = (char *)v->name };
	struct ready_state rs;

	struct release rel = { .ready_msec = -1 };
	bool have_rel = false;

	v->ready_msec = -1;
	(void)release_get_current(&store, &v->release);
	if (v->release)
		have_rel = release_load(&store, v->release, &rel) >= 0;
	if (runstate_read_ready(v->name, &rs) >= 0 && rs.ok)
		v->ready_msec = rs.ready_msec;
	else if (have_rel)
		v->ready_msec = rel.ready_msec;
	fill_manifest_parts(v, have_rel ? &rel : NULL, flags, defer_probe);
	if (have_rel) {
		v->release_since = rel.deployed_usec > rel.installed_usec ? rel.deployed_usec : rel.installed_usec;
		release_release(&rel);
	}
	if (v->st.main_pid)
		(void)service_running_release(v->name, v->st.main_pid, &v->running);
	v->have_txn = txn_load(BERTH_STATE_ROOT, v->name, &v->txn) >= 0;
	if (!isempty(v->st.control_group) && cgroup_read(v->st.control_group, &v->cg) >= 0) {
		v->have_cgroup = true;
		if (cgroup_compare(&v->cg, &v->st, &v->mismatches) < 0)
			v->mismatches = NULL;
		if (flags & SERVICE_STATE_CPU_INTERVAL)
			cpu_interval(v);
	}
	fill_crash_loop(v);
}

void service_state_fill_local(struct service_state *v, unsigned flags)
{
	fill_local(v, flags, false);
	if (flags & SERVICE_STATE_SANDBOX)
		fill_sandbox(v, v->release_since);
}

struct gathering {
	struct bus_status_query *queries;
	struct service_state *v;
	size_t pending;
};

static void on_status(struct bus_status_query *q, int r, void *userdata)
{
	struct gathering *g = userdata;
	struct service_state *v = &g->v[q - g->queries];

	g->pending--;
	if (r < 0) {
		v->bus_error = r;
		v->bus_error_text = strdup(bus_error_text(&q->error, r));
		sd_bus_error_free(&q->error);
		return;
	}
	v->st = q->status;
	v->have_status = true;
}

int service_state_gather(sd_bus *bus, struct service_state *v, size_t n, unsigned flags)
{
	struct gathering g = { .v = v };
	int r = 0;

	g.queries = calloc(n + 1, sizeof(*g.queries));
	if (!g.queries)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *unit = unit_name_for(v[i].name);
		v[i].ready_msec = -1;
		int k = unit ? bus_query_unit_status(bus, unit, &g.queries[i], on_status, &g) : -ENOMEM;
		if (k < 0) {
			v[i].bus_error = k;
			v[i].bus_error_text = strdup(strerror(-k));
		} else
			g.pending++;
	}
	r = bus_wait_idle(bus, &g.pending);
	if (r < 0)
		/* the connection broke: what did not come back is unknown */
		for (size_t i = 0; i < n; i++)
			if (g.queries[i].pending) {
				bus_status_query_cancel(&g.queries[i]);
				v[i].bus_error = r;
				v[i].bus_error_text = strdup(strerror(-r));
			}
	free(g.queries);
	for (size_t i = 0; i < n; i++)
		if (v[i].have_status)
			fill_local(&v[i], flags, true);
	probe_all(v, n);
	if (flags & SERVICE_STATE_SANDBOX)
		for (size_t i = 0; i < n; i++)
			if (v[i].have_status)
				fill_sandbox(&v[i], v[i].release_since);
	return 0;
}

void service_state_release(struct service_state *v)
{
	free(v->bus_error_text);
	unit_status_release(&v->st);
	free(v->release);
	free(v->running);
	txn_release(&v->txn);
	strv_free(v->mismatches);
	free(v->sandbox_line);
	v->probe_manifest = manifest_free(v->probe_manifest);
	v->sandbox = NULL;
	v->sandbox_line = NULL;
	v->bus_error_text = NULL;
	v->release = NULL;
	v->running = NULL;
	v->have_txn = false;
	v->mismatches = NULL;
}
