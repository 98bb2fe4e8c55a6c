/* service-state.h - one service as berth sees it: systemd's state, the current release, the
 * last readiness check, the kernel's usage and limits, the Go decision, a crash loop
 *
 * The one model of a service that `berth status` prints and `berth daemon` exports: gathered for
 * many services at once, with the D-Bus questions about all of them in flight together (one round
 * trip for N services, not 3N) and only the cgroup files that are shown read. No logging: what
 * could not be found out is left unknown (have_* false) or carried in the state.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus.h"
#include "cgroup.h"
#include "goruntime.h"
#include "health.h"
#include "sandbox.h"
#include "txn.h"

struct manifest;

enum service_state_flags {
	SERVICE_STATE_GO = 1 << 0,           /* the Go decision (reads the manifest and the binary) */
	SERVICE_STATE_CPU_INTERVAL = 1 << 1, /* CPU since the previous call (keeps /run/berth/cpu/NAME) */
	SERVICE_STATE_PROBE = 1 << 2,        /* probe health once now, if active (blocking) */
	SERVICE_STATE_SANDBOX = 1 << 3,      /* what the sandbox may have refused the latest run (journal) */
};

struct service_state {
	const char *name;         /* set by the caller, borrowed */
	int bus_error;            /* < 0: systemd could not be asked (bus_error_text says why) */
	char *bus_error_text;
	struct unit_status st;
	bool have_status;
	char *release;            /* current release, NULL if none */
	char *running;            /* the release the main process runs, NULL if unknown or not running */
	bool have_txn;            /* an unfinished deploy/rollback/apply left its record (txn.h) */
	struct txn txn;
	int64_t ready_msec;       /* from the last readiness check, -1 unknown */
	bool health_checked;
	struct probe_result health;
	bool crash_loop;          /* systemd's start limit stopped the restarts */
	unsigned loop_restarts;
	uint64_t loop_span_usec;
	bool have_cgroup;
	struct cgroup_usage cg;   /* what the kernel enforces and counts (libcgroup) */
	char **mismatches;        /* kernel vs what systemd was asked */
	bool have_go;
	struct go_decision go;    /* what the unit tells the Go runtime, and why */
	bool have_delta;          /* CPU over the interval since the previous gathering */
	uint64_t delta_usec, delta_usage_usec, delta_periods, delta_throttled, delta_throttled_usec;
	const struct sandbox_hint *sandbox; /* from the latest run's log lines or exit (sandbox.h) */
	char *sandbox_line;
	/* private to service-state.c */
	uint64_t release_since;          /* when the current release was installed or made current */
	struct manifest *probe_manifest; /* kept for the probe that runs beside the others' */
	struct health_spec probe_spec;
};

/* Fills v[0..n) (each with .name set) from systemd, the release store, the kernel. Returns 0 or
 * -ENOMEM; a service systemd could not be asked about (or the bus broke) has bus_error set and
 * the rest of its state unknown. */
int service_state_gather(sd_bus *bus, struct service_state *v, size_t n, unsigned flags);
/* The part that needs no bus, once v->st is known (have_status). */
void service_state_fill_local(struct service_state *v, unsigned flags);
void service_state_release(struct service_state *v);
