/* sandbox.h - what berth's sandbox may have refused a service, from what was recorded
 *
 * systemd's filters refuse with an error (SystemCallErrorNumber=EPERM, EAFNOSUPPORT for a socket
 * family, EROFS for a write under ProtectSystem=strict) and record nothing; the program reports
 * the error in its own words. What is recorded: the program's log line with the errno text, how
 * its main process ended (SIGSYS for a system call killed by the filter, systemd's 2xx statuses
 * for a sandbox it could not set up), and systemd's own "Failed at step ..." line. These map that
 * to the unit setting and the manifest key that relaxes it. No journal, no bus: the callers
 * read those.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "json.h"

struct sandbox_hint {
	const char *id;    /* stable, for --json: "address-family", "read-only", ... */
	const char *cause; /* which part of the sandbox, in the unit's words */
	const char *fix;   /* what to write in the manifest, or what to check */
};

/* The hint a log message points at ("listen: address family not supported by protocol"), or
 * NULL. Matches the kernel's errno texts (as Go, glibc and most runtimes print them) and systemd's
 * "Failed at step NAME" / "Failed to set up mount namespacing" lines, case-insensitively. */
const struct sandbox_hint *sandbox_hint_for_message(const char *message);
/* The hint for how the main process ended (ExecMainCode=, ExecMainStatus=: CLD_EXITED with one of
 * systemd's sandbox-setup statuses such as 226/NAMESPACE, or CLD_KILLED/CLD_DUMPED by SIGSYS), or
 * NULL. */
const struct sandbox_hint *sandbox_hint_for_exit(int code, int status);
/* The newest of lines[] (oldest first, as journal_tail() gives them) that points at a hint, else
 * the exit's hint: the hint, with *ret_line the line (NULL for the exit's). NULL if none. */
const struct sandbox_hint *sandbox_hint_find(char *const *lines, int code, int status, const char **ret_line);

/* The same hint wherever it is shown: the key "sandbox" of --json ({"id", "cause", "fix", "line"},
 * or null), and the human lines: first, "the sandbox may have refused it: CAUSE"; then, each
 * after rest, the line that shows it and the fix. */
void sandbox_json(struct json *j, const struct sandbox_hint *h, const char *line);
void sandbox_print(FILE *f, const char *first, const char *rest, const struct sandbox_hint *h, const char *line);
