/* bus.c - systemd over D-Bus */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "bus.h"
#include "macro.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_SERVICE "org.freedesktop.systemd1.Service"
/* how often a wait for jobs looks for jobs that ended unheard */
#define BUS_JOBS_CHECK_USEC (2 * USEC_PER_SEC)

static usec_t mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

/* systemd's own socket, as systemctl uses it as root: there on hosts without a D-Bus daemon too.
 * A direct connection: no bus daemon, no Hello, messages carry no sender. */
static int bus_open_private(sd_bus **ret)
{
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	int r;

	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(bus, "unix:path=" BUS_PRIVATE_SOCKET);
	if (r < 0)
		return r;
	r = sd_bus_start(bus);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(bus);
	return 0;
}

int bus_open_system(sd_bus **ret)
{
	int r;

	if (sd_booted() <= 0)
		return -EHOSTDOWN;
	/* only root may use the private socket; others go through the bus daemon's policy */
	if (geteuid() == 0) {
		r = bus_open_private(ret);
		if (r >= 0)
			return 0;
	}
	return sd_bus_open_system(ret);
}

const char *bus_error_text(const sd_bus_error *error, int r)
{
	if (error && sd_bus_error_is_set(error) && error->message)
		return error->message;
	return strerror(r < 0 ? -r : r);
}

int bus_daemon_reload(sd_bus *bus, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "Reload");
	if (r < 0)
		return r;
	/* a reload under emulation or on a busy host can take seconds: not the 25 s default */
	return sd_bus_call(bus, m, 120 * USEC_PER_SEC, error, &reply);
}

static int read_changes(sd_bus_message *reply, bool *ret_changed)
{
	const char *type, *path, *source;
	bool changed = false;
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "(sss)");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(reply, "(sss)", &type, &path, &source)) > 0)
		changed = true;
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(reply);
	if (r < 0)
		return r;
	if (ret_changed)
		*ret_changed = changed;
	return 0;
}

int bus_enable_unit(sd_bus *bus, const char *unit, bool *ret_changed, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int carries_install_info, r;

	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "EnableUnitFiles", error, &reply, "asbb", 1,
			       unit, 0 /* runtime */, 0 /* force */);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "b", &carries_install_info);
	if (r < 0)
		return r;
	return read_changes(reply, ret_changed);
}

int bus_disable_unit(sd_bus *bus, const char *unit, bool *ret_changed, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "DisableUnitFiles", error, &reply, "asb", 1,
			       unit, 0);
	if (r < 0)
		return r;
	return read_changes(reply, ret_changed);
}

int bus_reset_failed(sd_bus *bus, const char *unit, sd_bus_error *error)
{
	return sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", error, NULL, "s", unit);
}

/* JobRemoved(u id, o job, s unit, s result) */
static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct bus_jobs *jobs = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	for (size_t i = 0; i < jobs->n; i++) {
		struct bus_job *j = &jobs->jobs[i];
		if (j->path && !j->result && streq(j->path, path)) {
			j->result = strdup(result);
			j->finished_at = mono_usec();
		}
	}
	return 0;
}

/* Matches JobRemoved on jobs->bus and subscribes to systemd's job signals. */
static int watch_jobs(struct bus_jobs *jobs)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	/* On the system bus only systemd's own signals count (anyone may send one with its path); on
	 * the private socket systemd is the only peer and its messages carry no sender to match. */
	r = sd_bus_match_signal(jobs->bus, &jobs->match, sd_bus_is_bus_client(jobs->bus) > 0 ? SD_DEST : NULL,
				SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, jobs);
	if (r < 0)
		return r;
	/* Without Subscribe, systemd does not send job signals to us. The subscription lasts as long
	 * as the connection: a second set of jobs on the same bus finds it already there. */
	r = sd_bus_call_method(jobs->bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &error, NULL, NULL);
	if (r < 0 && !sd_bus_error_has_name(&error, "org.freedesktop.systemd1.AlreadySubscribed"))
		return r;
	return 0;
}

int bus_jobs_init(struct bus_jobs *jobs, sd_bus *bus)
{
	memset(jobs, 0, sizeof(*jobs));
	jobs->bus = sd_bus_ref(bus);
	int r = watch_jobs(jobs);
	if (r < 0)
		bus_jobs_release(jobs);
	return r;
}

int bus_jobs_queue(struct bus_jobs *jobs, const char *method, const char *unit, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *path;
	int r;

	struct bus_job *n = realloc(jobs->jobs, sizeof(*n) * (jobs->n + 1));
	if (!n)
		return -ENOMEM;
	jobs->jobs = n;
	struct bus_job *j = &jobs->jobs[jobs->n];
	memset(j, 0, sizeof(*j));
	j->unit = strdup(unit);
	if (!j->unit)
		return -ENOMEM;
	j->stop = streq(method, "StopUnit");
	jobs->n++;

	j->queued_at = mono_usec();
	r = sd_bus_call_method(jobs->bus, SD_DEST, SD_PATH, SD_MANAGER, method, error, &reply, "ss", unit, "replace");
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	j->path = strdup(path);
	return j->path ? 0 : -ENOMEM;
}

static bool all_done(const struct bus_jobs *jobs)
{
	for (size_t i = 0; i < jobs->n; i++)
		if (jobs->jobs[i].path && !jobs->jobs[i].result)
			return false;
	return true;
}

/* Is the job object still there? A job that finished while we could not hear JobRemoved (systemd
 * re-executed itself, the connection was replaced) is gone: 0 then, 1 if it exists. */
static int job_exists(sd_bus *bus, const char *path)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *state = NULL;
	int r = sd_bus_get_property_string(bus, SD_DEST, path, "org.freedesktop.systemd1.Job", "State", &error, &state);
	if (r >= 0)
		return 1;
	if (sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
	    sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_METHOD) ||
	    sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_INTERFACE))
		return 0;
	return r;
}

/* A job whose JobRemoved we missed: its result from the unit's state now ("done" if a start or
 * restart left it active, or a stop inactive or failed; else "failed"). The signal may also be
 * queued behind the reply that said the job is gone: it is read first and wins. */
static int settle_missed(sd_bus *bus, struct bus_job *j)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ char *state = NULL;
	const char *path;
	int r;

	r = job_exists(bus, j->path);
	if (r != 0)
		return r < 0 ? r : 0;
	while ((r = sd_bus_process(bus, NULL)) > 0)
		if (j->result)
			return 1;
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", &error, &reply, "s", j->unit);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0)
		r = sd_bus_get_property_string(bus, SD_DEST, path, SD_UNIT, "ActiveState", &error, &state);
	if (r < 0)
		return r;
	bool done = j->stop ? streq(state, "inactive") || streq(state, "failed") : streq(state, "active");
	j->result = strdup(done ? "done" : "failed");
	j->finished_at = mono_usec();
	return j->result ? 1 : -ENOMEM;
}

static bool connection_lost(int r)
{
	return r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE || r == -ESHUTDOWN || r == -ECONNABORTED;
}

/* systemd re-executing itself (daemon-reexec, a package upgrade) closes connections to its private
 * socket and may lose its subscribers: then take a new connection and look at the jobs. */
static int reconnect(struct bus_jobs *jobs)
{
	for (unsigned attempt = 0; attempt < 100; attempt++) {
		sd_bus *bus = NULL;
		if (bus_open_system(&bus) >= 0) {
			jobs->match = sd_bus_slot_unref(jobs->match);
			sd_bus_unref(jobs->bus);
			jobs->bus = bus;
			if (watch_jobs(jobs) >= 0)
				return 0;
		}
		(void)usleep(100 * 1000);
	}
	return -ENOTCONN;
}

int bus_jobs_wait(struct bus_jobs *jobs, usec_t timeout)
{
	usec_t deadline = mono_usec() + timeout, next_check = mono_usec() + BUS_JOBS_CHECK_USEC;
	int r;

	while (!all_done(jobs)) {
		if (jobs->should_stop && jobs->should_stop())
			return -ECANCELED;
		r = sd_bus_process(jobs->bus, NULL);
		if (connection_lost(r)) {
			r = reconnect(jobs);
			next_check = 0;
		}
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		usec_t now = mono_usec();
		if (now >= next_check) {
			/* every few seconds: did a job end without its signal reaching us? */
			for (size_t i = 0; i < jobs->n; i++)
				if (jobs->jobs[i].path && !jobs->jobs[i].result) {
					r = settle_missed(jobs->bus, &jobs->jobs[i]);
					if (r < 0 && !connection_lost(r))
						return r;
				}
			next_check = now + BUS_JOBS_CHECK_USEC;
			continue;
		}
		if (now >= deadline)
			return -ETIMEDOUT;
		usec_t until = deadline < next_check ? deadline : next_check;
		r = sd_bus_wait(jobs->bus, until - now);
		if (r < 0 && r != -EINTR && !connection_lost(r))
			return r;
	}
	return 0;
}

int bus_unit_has_job(sd_bus *bus, const char *unit, bool *ret)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *prop = NULL;
	const char *path, *job_path;
	uint32_t id;
	int r;

	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", &error, &reply, "s", unit);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	r = sd_bus_get_property(bus, SD_DEST, path, SD_UNIT, "Job", &error, &prop, "(uo)");
	if (r < 0)
		return r;
	r = sd_bus_message_read(prop, "(uo)", &id, &job_path);
	if (r < 0)
		return r;
	*ret = id != 0;
	return 0;
}

void bus_jobs_release(struct bus_jobs *jobs)
{
	for (size_t i = 0; i < jobs->n; i++) {
		free(jobs->jobs[i].unit);
		free(jobs->jobs[i].path);
		free(jobs->jobs[i].result);
	}
	free(jobs->jobs);
	jobs->match = sd_bus_slot_unref(jobs->match);
	jobs->bus = sd_bus_unref(jobs->bus);
	jobs->jobs = NULL;
	jobs->n = 0;
}

int bus_unit_job(sd_bus *bus, const char *method, const char *unit, usec_t timeout, char **ret_result,
		 usec_t *ret_elapsed, sd_bus_error *error)
{
	struct bus_jobs jobs;
	int r;

	r = bus_jobs_init(&jobs, bus);
	if (r < 0)
		return r;
	r = bus_jobs_queue(&jobs, method, unit, error);
	if (r >= 0)
		r = bus_jobs_wait(&jobs, timeout);
	if (r >= 0) {
		if (ret_result)
			*ret_result = TAKE_PTR(jobs.jobs[0].result);
		if (ret_elapsed)
			*ret_elapsed = jobs.jobs[0].finished_at - jobs.jobs[0].queued_at;
	}
	bus_jobs_release(&jobs);
	return r;
}

/* --- properties ------------------------------------------------------------------------- */

enum prop_type { P_STR, P_U32, P_I32, P_U64, P_ID128, P_BOOL, P_JOB };

struct prop {
	const char *name;
	enum prop_type type;
	size_t offset;
};

#define PROP(n, t, field) { n, t, offsetof(struct unit_status, field) }

static const struct prop unit_props[] = {
	PROP("Id", P_STR, id),
	PROP("LoadState", P_STR, load_state),
	PROP("ActiveState", P_STR, active_state),
	PROP("SubState", P_STR, sub_state),
	PROP("UnitFileState", P_STR, unit_file_state),
	PROP("FragmentPath", P_STR, fragment_path),
	PROP("InvocationID", P_ID128, invocation_id),
	PROP("ActiveEnterTimestamp", P_U64, active_enter_usec),
	PROP("InactiveEnterTimestamp", P_U64, inactive_enter_usec),
	PROP("StateChangeTimestamp", P_U64, state_change_usec),
	PROP("StartLimitBurst", P_U32, start_limit_burst),
	PROP("StartLimitIntervalUSec", P_U64, start_limit_interval_usec),
	PROP("NeedDaemonReload", P_BOOL, need_daemon_reload),
	PROP("Job", P_JOB, job_id),
	{ NULL },
};

static const struct prop service_props[] = {
	PROP("Result", P_STR, result),
	PROP("ControlGroup", P_STR, control_group),
	PROP("MainPID", P_U32, main_pid),
	PROP("NRestarts", P_U32, n_restarts),
	PROP("ExecMainStartTimestamp", P_U64, exec_main_start_usec),
	PROP("ExecMainStatus", P_I32, exec_main_status),
	PROP("ExecMainCode", P_I32, exec_main_code),
	PROP("MemoryCurrent", P_U64, memory_current),
	PROP("MemoryMax", P_U64, memory_max),
	PROP("MemoryHigh", P_U64, memory_high),
	PROP("MemorySwapMax", P_U64, memory_swap_max),
	PROP("CPUUsageNSec", P_U64, cpu_usage_nsec),
	PROP("CPUQuotaPerSecUSec", P_U64, cpu_quota_per_sec_usec),
	PROP("TasksCurrent", P_U64, tasks_current),
	PROP("TasksMax", P_U64, tasks_max),
	PROP("TimeoutStopUSec", P_U64, timeout_stop_usec),
	{ NULL },
};

static int read_prop(sd_bus_message *m, const struct prop *p, struct unit_status *s)
{
	void *field = (char *)s + p->offset;
	const char *str;
	const void *data;
	size_t len;
	int r;

	switch (p->type) {
	case P_STR:
		r = sd_bus_message_read(m, "v", "s", &str);
		if (r < 0)
			return r;
		free(*(char **)field);
		*(char **)field = strdup(str);
		return *(char **)field ? 0 : -ENOMEM;
	case P_U32: {
		/* StartLimitBurst is u, stored as u64 */
		uint32_t v;
		r = sd_bus_message_read(m, "v", "u", &v);
		if (r < 0)
			return r;
		if (p->offset == offsetof(struct unit_status, start_limit_burst))
			s->start_limit_burst = v;
		else
			*(uint32_t *)field = v;
		return 0;
	}
	case P_I32:
		return sd_bus_message_read(m, "v", "i", (int32_t *)field);
	case P_U64:
		return sd_bus_message_read(m, "v", "t", (uint64_t *)field);
	case P_BOOL: {
		int b;
		r = sd_bus_message_read(m, "v", "b", &b);
		if (r >= 0)
			*(bool *)field = b;
		return r;
	}
	case P_JOB: {
		/* (uo): the job's id and object path; id 0 when there is none */
		const char *path;
		return sd_bus_message_read(m, "v", "(uo)", (uint32_t *)field, &path);
	}
	case P_ID128:
		r = sd_bus_message_enter_container(m, 'v', "ay");
		if (r < 0)
			return r;
		r = sd_bus_message_read_array(m, 'y', &data, &len);
		if (r < 0)
			return r;
		if (len == 16) {
			memcpy(s->invocation_id, data, 16);
			s->has_invocation_id = true;
		}
		return sd_bus_message_exit_container(m);
	}
	return -EINVAL;
}

/* Reads a GetAll reply ("a{sv}") into s, the properties of props only. */
static int parse_all(sd_bus_message *reply, const struct prop *props, struct unit_status *s)
{
	const char *name;
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const struct prop *p;
		r = sd_bus_message_read(reply, "s", &name);
		if (r < 0)
			return r;
		for (p = props; p->name; p++)
			if (streq(p->name, name))
				break;
		if (p->name)
			r = read_prop(reply, p, s);
		else
			r = sd_bus_message_skip(reply, "v");
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(reply);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(reply);
}

static void unit_status_init(struct unit_status *s)
{
	memset(s, 0, sizeof(*s));
	s->memory_current = s->memory_max = s->memory_high = s->memory_swap_max = UINT64_MAX;
	s->cpu_usage_nsec = s->cpu_quota_per_sec_usec = s->tasks_current = s->tasks_max = UINT64_MAX;
}

/* Both replies are in (or failed): the Service properties count only for a loaded unit, since
 * a unit that does not exist has only defaults there. */
static void query_finish(struct bus_status_query *q)
{
	int r = q->r;

	if (r >= 0 && streq_ptr(q->status.load_state, "loaded")) {
		if (q->service_r < 0) {
			r = q->service_r;
			(void)sd_bus_error_move(&q->error, &q->service_error);
		} else if (q->service_reply)
			r = parse_all(q->service_reply, service_props, &q->status);
	}
	sd_bus_error_free(&q->service_error);
	q->service_reply = sd_bus_message_unref(q->service_reply);
	if (r < 0)
		unit_status_release(&q->status);
	else
		sd_bus_error_free(&q->error);
	q->r = r;
	if (q->done)
		q->done(q, r, q->userdata);
}

/* The reply to one of the two GetAll calls. */
static int on_status_reply(sd_bus_message *m, struct bus_status_query *q, bool unit_iface)
{
	int r = 0;

	if (sd_bus_message_is_method_error(m, NULL)) {
		int e = sd_bus_message_get_errno(m);
		r = e > 0 ? -e : -EIO;
		(void)sd_bus_error_copy(unit_iface ? &q->error : &q->service_error, sd_bus_message_get_error(m));
	} else if (unit_iface)
		r = parse_all(m, unit_props, &q->status);
	else
		q->service_reply = sd_bus_message_ref(m);
	if (unit_iface)
		q->r = r;
	else
		q->service_r = r;
	if (--q->pending == 0)
		query_finish(q);
	return 0;
}

static int on_unit_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct bus_status_query *q = userdata;
	q->unit_slot = sd_bus_slot_unref(q->unit_slot);
	return on_status_reply(m, q, true);
}

static int on_service_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct bus_status_query *q = userdata;
	q->service_slot = sd_bus_slot_unref(q->service_slot);
	return on_status_reply(m, q, false);
}

int bus_query_unit_status(sd_bus *bus, const char *unit, struct bus_status_query *q,
			  void (*done)(struct bus_status_query *q, int r, void *userdata), void *userdata)
{
	_cleanup_free_ char *path = NULL;
	int r;

	memset(q, 0, sizeof(*q));
	unit_status_init(&q->status);
	q->done = done;
	q->userdata = userdata;
	/* the unit's object path loads the unit if needed, like LoadUnit: no round trip for it */
	r = sd_bus_path_encode(SD_PATH "/unit", unit, &path);
	if (r < 0)
		return r;
	r = sd_bus_call_method_async(bus, &q->unit_slot, SD_DEST, path, "org.freedesktop.DBus.Properties", "GetAll",
				     on_unit_reply, q, "s", SD_UNIT);
	if (r < 0)
		return r;
	r = sd_bus_call_method_async(bus, &q->service_slot, SD_DEST, path, "org.freedesktop.DBus.Properties",
				     "GetAll", on_service_reply, q, "s", SD_SERVICE);
	if (r < 0) {
		bus_status_query_cancel(q);
		return r;
	}
	q->pending = 2;
	return 0;
}

void bus_status_query_cancel(struct bus_status_query *q)
{
	q->unit_slot = sd_bus_slot_unref(q->unit_slot);
	q->service_slot = sd_bus_slot_unref(q->service_slot);
	q->service_reply = sd_bus_message_unref(q->service_reply);
	sd_bus_error_free(&q->error);
	sd_bus_error_free(&q->service_error);
	unit_status_release(&q->status);
	q->pending = 0;
}

int bus_wait_idle(sd_bus *bus, const size_t *pending)
{
	int r;

	while (*pending > 0) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = sd_bus_wait(bus, UINT64_MAX);
		if (r < 0 && r != -EINTR)
			return r;
	}
	return 0;
}

static void count_down(struct bus_status_query *q, int r, void *userdata)
{
	size_t *pending = userdata;
	(*pending)--;
}

int bus_get_unit_status(sd_bus *bus, const char *unit, struct unit_status *ret, sd_bus_error *error)
{
	struct bus_status_query q;
	size_t pending = 1;
	int r;

	r = bus_query_unit_status(bus, unit, &q, count_down, &pending);
	if (r < 0)
		return r;
	r = bus_wait_idle(bus, &pending);
	if (r < 0) {
		bus_status_query_cancel(&q);
		return r;
	}
	if (q.r < 0) {
		if (error)
			(void)sd_bus_error_move(error, &q.error);
		sd_bus_error_free(&q.error);
		return q.r;
	}
	*ret = q.status;
	return 0;
}

int bus_get_unit_status_settled(sd_bus *bus, const char *unit, usec_t timeout, struct unit_status *ret,
				sd_bus_error *error)
{
	usec_t deadline = mono_usec() + timeout;
	int r;

	for (;;) {
		r = bus_get_unit_status(bus, unit, ret, error);
		if (r < 0 || ret->job_id == 0 || mono_usec() >= deadline)
			return r;
		unit_status_release(ret);
		(void)usleep(100 * 1000);
	}
}

void unit_status_release(struct unit_status *s)
{
	free(s->id);
	free(s->load_state);
	free(s->active_state);
	free(s->sub_state);
	free(s->unit_file_state);
	free(s->result);
	free(s->fragment_path);
	free(s->control_group);
	memset(s, 0, sizeof(*s));
}

int bus_set_unit_properties(sd_bus *bus, const char *unit, bool runtime,
			    int (*append)(sd_bus_message *m, void *userdata), void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "SetUnitProperties");
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "sb", unit, runtime);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r < 0)
		return r;
	r = append(m, userdata);
	if (r < 0)
		return r;
	r = sd_bus_message_close_container(m);
	if (r < 0)
		return r;
	return sd_bus_call(bus, m, 0, error, NULL);
}
