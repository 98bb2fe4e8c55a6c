/* deploy.h - putting a release of a service in place and making it healthy, or putting the
 * previous one back. Used by deploy (one service), apply (many, batched) and rollback.
 *
 * deploy_plan() changes nothing: it judges the binary, renders the unit and compares with what is
 * installed and running, and refuses (before any change) what would fail: wrong architecture,
 * missing user, a port held by another process, a unit berth does not own. The other steps make
 * the changes, report each step, and fill the result.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "binary.h"
#include "bus.h"
#include "manifest.h"
#include "release.h"
#include "report.h"

struct deploy_plan {
	struct manifest *m;           /* borrowed */
	struct release_store store;
	struct binary_verdict verdict;
	char *binary;                 /* path of the new binary */
	char *version;                /* release to deploy */
	char *sha256;                 /* NULL when the fast path found it equal to current */
	char *unit_name;              /* NAME.service */
	char *unit_path;              /* /etc/systemd/system/NAME.service */
	char *new_unit;               /* rendered text */
	char *old_unit;               /* installed text, NULL if none */
	char *old_current;            /* current release before this deploy, NULL if none */
	char *dropin_path;            /* berth limit's drop-in (49-berth-limits.conf) */
	char *old_dropin;             /* installed text, NULL if none */
	char *new_dropin;             /* text for this manifest, NULL: remove (or none) */
	bool dropin_changes;          /* counted in unit_changes too */
	bool release_exists;
	bool release_changes;         /* current will point elsewhere */
	bool unit_changes;
	bool needs_enable;
	bool is_active;               /* active or activating before the deploy */
	bool needs_job;               /* start or restart */
	struct unit_status status;
};

struct deploy_outcome {
	int exit_code;                /* BERTH_EXIT_* */
	bool changed;
	bool rolled_back;
	int64_t ready_msec;           /* start job to healthy, -1 unknown */
	char *failure;                /* why the release failed, NULL on success */
	char *rolled_back_to;
	char **journal;               /* last lines of the failed start */
};

/* Everything that can be known without changing anything. Returns BERTH_EXIT_OK or the exit code
 * of the refusal (the reason was reported with cli_error). */
int deploy_plan(sd_bus *bus, struct manifest *m, const char *binary_override, const char *version_override,
		struct deploy_plan *ret);
/* Prints what would change (--check) and, with diff, the unit diff. */
void deploy_print_plan(const struct deploy_plan *p, struct report *rep, bool diff);
/* Writes the release, the unit copy and the unit; switches current. No reload, no job. */
int deploy_install(struct deploy_plan *p, struct report *rep);
/* Enables the unit if needed. */
int deploy_enable(sd_bus *bus, struct deploy_plan *p, struct report *rep);
/* The method for the job this plan needs ("StartUnit"/"RestartUnit"), NULL if none. */
const char *deploy_job_method(const struct deploy_plan *p);
/* After the job ended with result (NULL = timed out): records success, or explains the failure
 * and rolls back when the manifest says so. Needs the lock held. */
void deploy_finish(sd_bus *bus, struct deploy_plan *p, const char *job_result, usec_t elapsed,
		   usec_t job_started_realtime, struct report *rep, struct deploy_outcome *out);
void deploy_plan_release(struct deploy_plan *p);
void deploy_outcome_release(struct deploy_outcome *o);

/* The user and group the manifest names exist on this host: BERTH_EXIT_OK or, reported,
 * BERTH_EXIT_INVALID (a service would fail at start). */
int deploy_check_identity(const struct manifest *m);

/* The manifest's [health] as a probe spec (defaults filled in); false if it has no check. */
#include "health.h"
bool deploy_health_spec(const struct manifest *m, struct health_spec *ret);

/* The job timeout that fits a manifest: ready_timeout + stop timeout + margins. */
usec_t deploy_job_timeout(const struct manifest *m);
/* Realtime clock in µs (journal timestamps). */
uint64_t realtime_usec(void);
