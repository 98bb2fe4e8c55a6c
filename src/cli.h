/* cli.h - what the cmd-*.c files share: loading a manifest with messages, reporting failures
 *
 * A failure is printed once on stderr as text. With --json, the command's JSON on stdout is
 * {"command": ..., "ok": false, "changed": false, "exit_code": N, "errors": [...]}, each error
 * with "message" and, where known, "file", "line", "section", "key".
 */
#pragma once

#include "diff.h"
#include "json.h"
#include "macro.h"
#include "manifest.h"

/* Records an error (for --json) and prints it on stderr as "berth: error: [file:line: ]message". */
void cli_error(const char *file, unsigned line, const char *section, const char *key, const char *fmt, ...)
	_printf_(5, 6);
/* Prints the JSON failure object when --json is on; returns exit_code. */
int cli_fail(const char *command, int exit_code);
/* Begins the success JSON object with "command", "ok": true, "exit_code": 0; the caller adds keys
 * and calls json_object_end + json_finish. */
void cli_json_begin(struct json *j, const char *command);

/* The key "diff" of a mutating command's --json: with --diff the unified diff of files (the text
 * --diff prints, without colour; "" when nothing differs), else null; null too when files is
 * NULL (nothing was planned) or the text cannot be made. */
void cli_json_diff(struct json *j, const struct diff_file *files, size_t n);

/* Loads and validates a manifest, reporting every problem. Returns BERTH_EXIT_OK,
 * BERTH_EXIT_NOT_FOUND (no such file) or BERTH_EXIT_INVALID. */
int cli_load_manifest(const char *path, struct manifest **ret);

/* Connects to systemd's bus; on failure reports why (not booted with systemd, bus down) and
 * returns BERTH_EXIT_TEMPFAIL. */
#include <systemd/sd-bus.h>
int cli_open_bus(sd_bus **ret);

/* Takes the host-wide lock (lock.h), waiting up to timeout; on failure says why (another berth
 * holds it: BERTH_EXIT_TEMPFAIL; anything else: BERTH_EXIT_FAILURE). *ret_fd is the fd to keep
 * open while changing the host. */
int cli_take_lock(uint64_t timeout_usec, int *ret_fd);

/* BERTH_EXIT_OK if berth manages a service called name, else says so and returns
 * BERTH_EXIT_NOT_FOUND. */
int cli_require_service(const char *name);

/* Online CPUs of this host (sysconf), at least 1. */
unsigned cli_host_cpus(void);
