/* txn.h - the on-disk record of a change to one service in progress (deploy, rollback, apply)
 *
 * berth writes it before it changes anything of the service and removes it when the change is
 * complete: the new release healthy, or everything put back. If berth dies in between (kill -9,
 * a crash, the power), the next berth command that touches the service finds the record and
 * finishes the job: it rolls forward when the new release runs and is healthy, else back.
 *
 *   /var/lib/berth/NAME/txn/      root 0700; built as .txn-XXXX next to it, then renamed into
 *                                 place, so a record is complete or absent
 *     record                      key=value lines, see struct txn ("format=1" first)
 *     unit.old, dropin.old        the unit and berth's limits drop-in before the change
 *     unit.new, manifest.new      what the release carries once it passed its health gate
 *     step                        the last step reached ("STEP\n"), once past "begin"
 *
 * The contents are those of root-only files (unit environment values): 0600. Every file but step
 * is fsynced, and the directory with them, before the rename makes the record exist: the record
 * is durable before the first change. step is information for status and the resolution's
 * report, which never depends on it: it is replaced atomically but not fsynced (a deploy would
 * otherwise pay two fsyncs per step), so after a power loss it may be older, or empty (then the
 * record's own step, "begin", counts). A berth that does not know step reads "begin".
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TXN_FORMAT 1

struct txn {
	char *service;
	char *op;            /* "deploy", "rollback", "apply" */
	char *from;          /* the current release before; NULL for a first deploy */
	char *to;            /* the release being tried (may equal from: a manifest-only change) */
	char *step;          /* the last step reached, for status and the resolution's report */
	pid_t pid;           /* of the berth that wrote it */
	uint64_t started_usec; /* CLOCK_REALTIME */
	bool had_unit;       /* the unit file existed (unit_old holds it) */
	bool had_dropin;     /* the limits drop-in existed (dropin_old holds it) */
	bool was_active;     /* the service was active or activating */
	bool was_enabled;    /* its unit file state was "enabled" */
	char *unit_old, *dropin_old, *unit_new, *manifest_new; /* file contents, NULL if none */
};

/* Writes the record of t for t->service under state_root; -EEXIST if one exists already. */
int txn_begin(const char *state_root, const struct txn *t);
/* Records step as the last step reached (and t->step = step); see "step" above. */
int txn_set_step(const char *state_root, struct txn *t, const char *step);
/* Loads the record of service: -ENOENT if there is none, -EBADMSG if it is damaged. */
int txn_load(const char *state_root, const char *service, struct txn *ret);
/* True if service has a record (complete or not). */
bool txn_exists(const char *state_root, const char *service);
/* Removes the record, and leftovers of records that were being built. */
int txn_end(const char *state_root, const char *service);
void txn_release(struct txn *t);
