/* journal.h - reading a service's logs with sd-journal */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "size.h"

/* Entries an unprivileged user cannot forge, only: the service's own output (_SYSTEMD_UNIT=),
 * systemd's messages about it (_PID=1 and UNIT=) and its core dumps (systemd-coredump's, as root
 * or its own system user). A `logger` line that claims UNIT=NAME.service is not. */
struct journal_query {
	const char *unit;              /* "NAME.service": its own output and systemd's messages about it */
	char **invocation_ids;         /* NULL or hex ids: only these runs (berth logs --release) */
	unsigned lines;                /* last N entries (0 = all matching) */
	uint64_t since_usec;           /* CLOCK_REALTIME, 0 = no lower bound */
	bool follow;                   /* keep printing new entries until interrupted */
	bool json;                     /* one JSON object per line */
};

/* Prints entries as "Nov 25 14:03:11 hello[1234]: message" (or JSON lines, each with the key
 * "sandbox") to f; after the first line that points at a sandbox refusal of each kind, what it
 * means and how to relax it (sandbox.h) on stderr.
 * Returns 0, or -errno (e.g. -ENOENT: no journal files). */
int journal_print(const struct journal_query *q, FILE *f);
/* The last n messages of unit (both the service's output and systemd's lines about it) since
 * since_usec, as strings "hello[1234]: message". */
int journal_tail(const char *unit, unsigned n, uint64_t since_usec, char ***ret);

/* systemd's "restart scheduled" messages (SD_MESSAGE_UNIT_RESTART_SCHEDULED) for unit: the
 * realtime µs of the oldest and newest of the last n, for "crash loop: N restarts in T".
 * Returns how many were found (0..n) or -errno. */
int journal_restart_span(const char *unit, unsigned n, uint64_t *ret_first, uint64_t *ret_last);
