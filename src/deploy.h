/* deploy.h - putting a release of a service in place and making it healthy, or putting the
 * previous one back. Used by deploy (one service), apply (many, batched) and rollback.
 *
 * deploy_plan() changes nothing: it judges the binary, renders the unit and compares with what is
 * installed and running, and refuses (before any change) what would fail: wrong architecture,
 * missing user, a port held by another process, a unit berth does not own, files anyone but root
 * could change. The other steps make the changes inside a transaction (txn.h): deploy_begin()
 * writes its record first, deploy_finish() or deploy_abort() ends it — the new release healthy
 * and committed, or everything put back as it was. deploy_resolve() finishes a transaction that
 * a killed berth left behind.
 *
 * The steps, in order (each one is also a fault-injection point, fault.h, as "OP:after-STEP"):
 *   lock, begin, release-copy, current-switch, unit-write, reload, enable, job-queued, then
 *   "OP:during-health-wait" while the start job runs.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "binary.h"
#include "bus.h"
#include "diff.h"
#include "health.h"
#include "json.h"
#include "manifest.h"
#include "release.h"
#include "report.h"
#include "sandbox.h"
#include "txn.h"

struct deploy_plan {
	const char *op;               /* "deploy", "apply", "rollback": the transaction's name */
	struct manifest *m;           /* borrowed (owned by the caller) */
	struct release_store store;
	struct binary_image image;    /* the caller's binary read once; fd -1 when the release exists */
	struct binary_verdict verdict;
	char *binary;                 /* path of the new binary (realpath), NULL for a rollback */
	char *version;                /* release to deploy */
	char *unit_name;              /* NAME.service */
	char *unit_path;              /* /etc/systemd/system/NAME.service */
	char *new_unit;               /* rendered text */
	char *old_unit;               /* installed text, NULL if none */
	char *old_current;            /* current release before this deploy, NULL if none */
	char *running;                /* the release the main process runs now, NULL if none/unknown */
	char *manifest_path;          /* the manifest's absolute path (origin), NULL for a rollback */
	char *manifest_text;          /* its bytes: saved with the release once it passed */
	char *dropin_path;            /* berth limit's drop-in (49-berth-limits.conf) */
	char *old_dropin;             /* installed text, NULL if none */
	char *new_dropin;             /* text for this manifest, NULL: remove (or none) */
	char **new_owned_dirs;        /* state dirs to record as berth's (first deploy), or NULL */
	bool dropin_changes;          /* counted in unit_changes too */
	bool release_exists;
	bool release_changes;         /* current will point elsewhere */
	bool unit_changes;            /* the unit or drop-in text changes, or systemd has not loaded it */
	bool stale_process;           /* the service runs another release than current */
	bool needs_enable;
	bool is_active;               /* active or activating before the deploy */
	bool was_enabled;
	bool needs_job;               /* start or restart */
	struct unit_status status;
	struct txn txn;               /* while the transaction is open */
	bool txn_open;
};

struct deploy_outcome {
	int exit_code;                /* BERTH_EXIT_* */
	bool changed;
	bool rolled_back;
	int64_t ready_msec;           /* start job to healthy, -1 unknown */
	char *failure;                /* why the release failed, NULL on success */
	char *rolled_back_to;
	char **journal;               /* last lines of the failed start */
	const struct sandbox_hint *sandbox; /* what the sandbox may have refused it (sandbox.h), or NULL */
	const char *sandbox_line;     /* the line of journal that shows it, NULL if the exit did */
};

/* Everything that can be known without changing anything. Returns BERTH_EXIT_OK or the exit code
 * of the refusal (the reason was reported with cli_error). */
int deploy_plan(sd_bus *bus, struct manifest *m, const char *binary_override, const char *version_override,
		struct deploy_plan *ret);
/* The parts of the plan a rollback to target needs: the release's saved unit and manifest
 * (p->m is set and owned by the caller afterwards: free it with manifest_free). */
int deploy_plan_rollback(sd_bus *bus, const char *name, const char *target, struct deploy_plan *ret);
/* Prints what would change (--check) and, with diff, the unit diff. */
void deploy_print_plan(const struct deploy_plan *p, struct report *rep, bool diff);
/* The files the plan changes, for --diff: the unit and berth limit's drop-in. Fills files and
 * returns how many (0 when the unit does not change). */
size_t deploy_diff_files(const struct deploy_plan *p, struct diff_file files[static 2]);
/* The key "diff" of --json (cli_json_diff); null also for a service that has no plan. */
void deploy_json_diff(struct json *j, const struct deploy_plan *p);
/* True when the plan installs, switches, rewrites or (re)starts anything: that is done inside a
 * transaction. Without one, at most the unit is enabled and the release's saved manifest and
 * source stamp are refreshed (deploy_refresh_release), none of which touches what runs. */
bool deploy_plan_needs_txn(const struct deploy_plan *p);
/* "PATH\nDEV INO SIZE MTIME CTIME\n" of the caller's binary: the quick check for "same file". */
char *deploy_source_stamp(const struct deploy_plan *p);

/* The whole transaction for one service: begin, install, reload, enable, start and wait, then
 * deploy_finish() (or deploy_abort() when a step fails or a signal comes). A signal during the
 * wait ends it early and the service is put back. *busp is replaced when systemd re-executed
 * meanwhile. Needs the lock held and interrupt_arm()ed. */
void deploy_run(sd_bus **busp, struct deploy_plan *p, struct report *rep, struct deploy_outcome *out);
/* For a plan that needs no transaction: saves the manifest and source stamp with the release if
 * they changed, and the origin. */
int deploy_refresh_release(struct deploy_plan *p, struct report *rep);

/* Writes the transaction record. Nothing of the service has changed yet. */
int deploy_begin(struct deploy_plan *p);
/* Marks a step reached in the record, and is the fault-injection point "OP:after-STEP". */
void deploy_step(struct deploy_plan *p, const char *step);
/* Writes the release, switches current, writes the drop-in and the unit. No reload, no job. */
int deploy_install(struct deploy_plan *p, struct report *rep);
/* Enables the unit if needed, before the daemon reload that follows: systemd 257 flags a unit
 * NeedDaemonReload= after its [Install] symlinks change, as `systemctl enable` knows (it reloads).
 * Returns 1 if symlinks changed (a reload is due), 0 if not, or -errno. */
int deploy_enable(sd_bus *bus, struct deploy_plan *p, struct report *rep);
/* The method for the job this plan needs ("StartUnit"/"RestartUnit"), NULL if none. */
const char *deploy_job_method(const struct deploy_plan *p);
/* After the job ended with result (NULL = timed out, "interrupted" = a signal): runs the
 * [deploy] watch, then commits the release, or explains the failure and rolls back. Ends the
 * transaction. Needs the lock held. */
void deploy_finish(sd_bus *bus, struct deploy_plan *p, const char *job_result, usec_t elapsed,
		   usec_t job_started_realtime, struct report *rep, struct deploy_outcome *out);
/* A step failed before the start job (why says which), or a signal came: puts everything back and
 * ends the transaction. */
void deploy_abort(sd_bus *bus, struct deploy_plan *p, const char *why, struct report *rep,
		  struct deploy_outcome *out);
void deploy_plan_release(struct deploy_plan *p);
void deploy_outcome_release(struct deploy_outcome *o);

/* A transaction record of name that a killed berth left: roll forward when the new release runs
 * and is healthy, else put the old one back. A start job the killed berth queued is waited for
 * first (with wait; else -EBUSY while it runs). Reports what it did as a step "resolve". Returns 0
 * (also when there was nothing to do) or -errno; needs the lock held. */
int deploy_resolve(sd_bus *bus, const char *name, bool wait, struct report *rep);
/* deploy_resolve() for every service that has a record (apply, status). */
int deploy_resolve_all(sd_bus *bus, bool wait, struct report *rep);

/* The user and group the manifest names exist on this host: BERTH_EXIT_OK or, reported,
 * BERTH_EXIT_INVALID (a service would fail at start). */
int deploy_check_identity(const struct manifest *m);
/* Files berth takes as root from the caller (the manifest and its directory, environment_file, the
 * binary and their parent directories) must be root's and not writable by group or others, like
 * sshd's StrictModes; and the service name must not be one of the system's directories under
 * /var/lib, /var/cache or /var/log. Reports each problem with the command that fixes it and
 * returns BERTH_EXIT_INVALID, else BERTH_EXIT_OK. binary may be NULL. */
int deploy_check_trust(const struct manifest *m, const char *binary);

/* The manifest's [health] as a probe spec (defaults filled in); false if it has no check. */
bool deploy_health_spec(const struct manifest *m, struct health_spec *ret);

/* The job timeout that fits a manifest: ready_timeout + stop timeout + margins. */
usec_t deploy_job_timeout(const struct manifest *m);
/* Realtime clock in µs (journal timestamps). */
uint64_t realtime_usec(void);
