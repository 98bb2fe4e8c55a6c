/* bus.h - talking to systemd over D-Bus (sd-bus): reload, enable, jobs, properties
 *
 * Effects only, no policy and no logging: every function returns 0 or -errno and, where systemd
 * said why, fills a caller-provided sd_bus_error that the caller turns into one message.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "size.h"

#define BUS_PRIVATE_SOCKET "/run/systemd/private"

/* Connects to systemd: as root over its private socket (a direct connection that needs no D-Bus
 * daemon, as systemctl does), else or if that fails over the system bus. -EHOSTDOWN if this host
 * was not booted with systemd; otherwise the system bus's error. */
int bus_open_system(sd_bus **ret);

/* Manager.Reload, which returns once systemd has re-read all unit files. */
int bus_daemon_reload(sd_bus *bus, sd_bus_error *error);
/* Manager.EnableUnitFiles / DisableUnitFiles for one unit (persistent, not forced).
 * *ret_changed tells whether any symlink was created or removed. */
int bus_enable_unit(sd_bus *bus, const char *unit, bool *ret_changed, sd_bus_error *error);
int bus_disable_unit(sd_bus *bus, const char *unit, bool *ret_changed, sd_bus_error *error);
/* Manager.ResetFailed for one unit (so that a start limit hit does not block the next start). */
int bus_reset_failed(sd_bus *bus, const char *unit, sd_bus_error *error);

/* Jobs: queue any number, then wait for all of them through the JobRemoved signal. */
struct bus_job {
	char *unit;
	bool stop;     /* StopUnit: done when the unit is inactive or failed, not when it is active */
	char *path;    /* job object path, NULL until queued */
	char *result;  /* "done", "failed", "timeout", "canceled", "dependency", "skipped"; NULL while running */
	usec_t queued_at;  /* monotonic */
	usec_t finished_at;
};

struct bus_jobs {
	sd_bus *bus;
	sd_bus_slot *match;
	struct bus_job *jobs;
	size_t n;
	bool (*should_stop)(void); /* optional: asked at every wake-up; true ends the wait with -ECANCELED */
};

/* Subscribes to JobRemoved before any job is queued, so no result can be missed. */
int bus_jobs_init(struct bus_jobs *jobs, sd_bus *bus);
/* method: "StartUnit", "RestartUnit", "StopUnit", "TryRestartUnit"; mode "replace". */
int bus_jobs_queue(struct bus_jobs *jobs, const char *method, const char *unit, sd_bus_error *error);
/* Waits until every queued job was removed or timeout passes (-ETIMEDOUT; jobs still running keep
 * result NULL), or should_stop says so (-ECANCELED). */
int bus_jobs_wait(struct bus_jobs *jobs, usec_t timeout);
void bus_jobs_release(struct bus_jobs *jobs);
/* Whether systemd has a job queued or running for unit (a start a killed berth left running). */
int bus_unit_has_job(sd_bus *bus, const char *unit, bool *ret);
/* One job, queued and waited for. *ret_result is "done" etc. (static string from the job). */
int bus_unit_job(sd_bus *bus, const char *method, const char *unit, usec_t timeout, char **ret_result,
		 usec_t *ret_elapsed, sd_bus_error *error);

/* What status needs, from the Unit and Service interfaces in two GetAll calls. */
struct unit_status {
	char *id;
	char *load_state;      /* "loaded", "not-found", ... */
	char *active_state;    /* "active", "failed", "activating", ... */
	char *sub_state;       /* "running", "start-post", "auto-restart", ... */
	char *unit_file_state; /* "enabled", "disabled", ... */
	char *result;          /* Service.Result: "success", "exit-code", "oom-kill", "start-limit-hit", ... */
	char *fragment_path;
	char *control_group;   /* "/system.slice/NAME.service" */
	uint8_t invocation_id[16];
	bool has_invocation_id;
	bool need_daemon_reload;        /* the unit file on disk changed since systemd loaded it */
	uint32_t main_pid;
	uint32_t job_id;                /* a job systemd has queued or runs for the unit; 0: none */
	uint32_t n_restarts;
	uint64_t active_enter_usec;     /* CLOCK_REALTIME µs */
	uint64_t inactive_enter_usec;
	uint64_t state_change_usec;
	uint64_t exec_main_start_usec;
	int32_t exec_main_status;
	int32_t exec_main_code;         /* CLD_EXITED, CLD_KILLED, ... */
	uint64_t memory_current;        /* UINT64_MAX if unknown */
	uint64_t memory_max;
	uint64_t memory_high;
	uint64_t memory_swap_max;
	uint64_t cpu_usage_nsec;
	uint64_t cpu_quota_per_sec_usec; /* UINT64_MAX: no quota */
	uint64_t tasks_current;
	uint64_t tasks_max;
	uint64_t timeout_stop_usec;
	uint64_t start_limit_burst;
	uint64_t start_limit_interval_usec;
};

/* GetAll of the Unit and Service interfaces on the unit's object path (which loads the unit, as
 * LoadUnit would). A unit that does not exist comes back with load_state "not-found". */
int bus_get_unit_status(sd_bus *bus, const char *unit, struct unit_status *ret, sd_bus_error *error);
/* The same once systemd has no job for the unit: while one is queued or running (the start of an
 * enabled unit at boot, somebody's restart), asks again every 100 ms, for up to timeout. Whatever
 * berth decides from a state in the middle of a job is wrong: an inactive unit whose start is
 * queued is not stopped, and the MainPID of a starting one may not have exec()ed yet. *ret->job_id
 * is not 0 when timeout ran out first. */
int bus_get_unit_status_settled(sd_bus *bus, const char *unit, usec_t timeout, struct unit_status *ret,
				sd_bus_error *error);
void unit_status_release(struct unit_status *s);

/* The same, asynchronously: both calls are queued at once and done(q, r) runs from the bus's
 * processing (sd_bus_process, or its event loop) when both replied. On r >= 0 q->status holds the
 * result (the caller releases it); on r < 0, q->error says why where systemd did. Many queries
 * can be in flight together, so asking about N units costs one round trip, not 3N. q must stay
 * put until done ran or bus_status_query_cancel(). */
struct bus_status_query {
	struct unit_status status;
	sd_bus_error error;
	int r;
	/* private */
	unsigned pending;
	int service_r;
	sd_bus_error service_error;
	sd_bus_slot *unit_slot, *service_slot;
	sd_bus_message *service_reply;
	void (*done)(struct bus_status_query *q, int r, void *userdata);
	void *userdata;
};
int bus_query_unit_status(sd_bus *bus, const char *unit, struct bus_status_query *q,
			  void (*done)(struct bus_status_query *q, int r, void *userdata), void *userdata);
/* Drops the calls still in flight (done will not run) and what was received. */
void bus_status_query_cancel(struct bus_status_query *q);
/* Processes the bus until *pending drops to 0 (the callbacks count it down). */
int bus_wait_idle(sd_bus *bus, const size_t *pending);

/* SetUnitProperties with runtime or persistent scope. props is a NULL-terminated list of
 * "Name" / type / value triples encoded by the caller through the append callback. */
int bus_set_unit_properties(sd_bus *bus, const char *unit, bool runtime,
			    int (*append)(sd_bus_message *m, void *userdata), void *userdata,
			    sd_bus_error *error);

/* Text for a failed call: the bus error's message, else strerror(-r). */
const char *bus_error_text(const sd_bus_error *error, int r);
