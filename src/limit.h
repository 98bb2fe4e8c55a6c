/* limit.h - changing the cgroup limits of a running service without a restart: the plan (what
 * is in force, what the request changes, berth's persisted drop-in, what the Go runtime then
 * needs), applying it through systemd, and reading the kernel's values back. `berth limit` is the
 * thin command over it, as cmd-deploy.c is over deploy.c.
 *
 * The live change goes through SetUnitProperties with runtime=true (systemd applies it at once and
 * keeps a copy in /run/systemd/system.control/NAME.service.d/50-<Property>.conf, gone at reboot).
 * Without runtime the limits are also kept in berth's own drop-in,
 * /etc/systemd/system/NAME.service.d/49-berth-limits.conf (see cgroup.h for the name and what
 * deploy does with it), systemd's /run copies of the properties just set are removed (the drop-in
 * now says the same, and a later manifest change must not be shadowed by them until reboot) and
 * systemd re-reads its units. Never SetUnitProperties with runtime=false: that writes
 * /etc/systemd/system.control/, which outranks every drop-in and which deploy and remove would
 * have to know about.
 *
 * Like deploy.c, refusals and failures are reported here with cli_error (once) and the functions
 * return a BERTH_EXIT_* code.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus.h"
#include "cgroup.h"
#include "elf.h"
#include "goruntime.h"
#include "manifest.h"

/* Limits as systemd reports them: UINT64_MAX = no limit. */
struct limit_values {
	uint64_t cpu; /* CPUQuotaPerSecUSec */
	uint64_t memory_max;
	uint64_t memory_high;
	uint64_t swap_max;
	uint64_t tasks_max;
};

void limit_values_from_status(const struct unit_status *s, struct limit_values *ret);

/* GOMAXPROCS / GOMEMLIMIT in the environment of a running process: 0 if absent, UINT64_MAX if
 * set to something else than berth writes (a number, "NB" for GOMEMLIMIT). */
struct go_env {
	bool known;
	uint64_t gomaxprocs;
	uint64_t gomemlimit;
};

struct limit_options {
	const char *memory_arg; /* --memory as given, for messages */
	bool runtime;           /* change the running service only */
	bool force;             /* allow a memory limit below the current usage */
	bool restart;           /* restart if GOMAXPROCS/GOMEMLIMIT must follow */
};

/* The caller sets name, unit, m (owned), req and opt; limit_plan() fills the rest. */
struct limit_plan {
	const char *name;
	char *unit;
	struct manifest *m;
	struct unit_status before;
	bool active;
	struct cgroup_usage usage_before;
	bool have_usage_before;
	uint64_t memory_current; /* UINT64_MAX unknown */

	struct limit_options opt;
	struct cgroup_limits req;
	struct limit_values limits_before, limits_after;
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

struct limit_outcome {
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

/* Everything that can be known without changing anything, and the refusals (memory-high above
 * the memory limit, a memory limit below the usage without force, a drop-in berth did not write). */
int limit_plan(sd_bus *bus, struct limit_plan *p);
/* Sets the limits live, persists them (unless runtime), restarts if asked and needed. */
int limit_apply(sd_bus *bus, struct limit_plan *p, struct limit_outcome *o);
/* Reads the cgroup back until it matches what systemd says, for up to a second (systemd writes
 * the cgroup files from its event loop, after answering). Returns true once it matches. */
bool limit_read_back(sd_bus *bus, const struct limit_plan *p, struct limit_outcome *o);
void limit_plan_release(struct limit_plan *p);
void limit_outcome_release(struct limit_outcome *o);
