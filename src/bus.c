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

int bus_jobs_init(struct bus_jobs *jobs, sd_bus *bus)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	memset(jobs, 0, sizeof(*jobs));
	jobs->bus = sd_bus_ref(bus);
	/* On the system bus only systemd's own signals count (anyone may send one with its path); on
	 * the private socket systemd is the only peer and its messages carry no sender to match. */
	r = sd_bus_match_signal(bus, &jobs->match, sd_bus_is_bus_client(bus) > 0 ? SD_DEST : NULL, SD_PATH,
				SD_MANAGER, "JobRemoved", on_job_removed, jobs);
	if (r < 0)
		goto fail;
	/* Without Subscribe, systemd does not send job signals to us. The subscription lasts as long
	 * as the connection: a second set of jobs on the same bus finds it already there. */
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &error, NULL, NULL);
	if (r < 0 && !sd_bus_error_has_name(&error, "org.freedesktop.systemd1.AlreadySubscribed"))
		goto fail;
	return 0;
fail:
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

int bus_jobs_wait(struct bus_jobs *jobs, usec_t timeout)
{
	usec_t deadline = mono_usec() + timeout;
	int r;

	while (!all_done(jobs)) {
		r = sd_bus_process(jobs->bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		usec_t now = mono_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = sd_bus_wait(jobs->bus, deadline - now);
		if (r < 0 && r != -EINTR)
			return r;
	}
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

enum prop_type { P_STR, P_U32, P_I32, P_U64, P_ID128 };

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

static int get_all(sd_bus *bus, const char *path, const char *iface, const struct prop *props,
		   struct unit_status *s, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *name;
	int r;

	r = sd_bus_call_method(bus, SD_DEST, path, "org.freedesktop.DBus.Properties", "GetAll", error, &reply,
			       "s", iface);
	if (r < 0)
		return r;
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

int bus_get_unit_status(sd_bus *bus, const char *unit, struct unit_status *ret, sd_bus_error *error)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	struct unit_status s = { 0 };
	const char *path;
	int r;

	s.memory_current = s.memory_max = s.memory_high = s.memory_swap_max = UINT64_MAX;
	s.cpu_usage_nsec = s.cpu_quota_per_sec_usec = s.tasks_current = s.tasks_max = UINT64_MAX;

	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", error, &reply, "s", unit);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	r = get_all(bus, path, SD_UNIT, unit_props, &s, error);
	if (r >= 0 && s.load_state && streq(s.load_state, "loaded"))
		r = get_all(bus, path, SD_SERVICE, service_props, &s, error);
	if (r < 0) {
		unit_status_release(&s);
		return r;
	}
	*ret = s;
	return 0;
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
