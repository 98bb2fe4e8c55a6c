/* manifest.h - one service's INI manifest: the parsed, validated model (pure: no logging, no systemd)
 *
 * manifest_load() reads the file once; iniparser parses those bytes and gives every value, and an
 * index of the same lines (manifest-ini.h) gives what iniparser cannot: line numbers for
 * messages, the exact case of [environment] names, duplicate keys, and the raw text of `args` and
 * `read_write_paths` (iniparser would cut a value at its first closing quote). A manifest means
 * the same with iniparser 4.1 (Debian 12) and 4.2 (Debian 13): text they read differently is
 * refused.
 * Every key of every section is described once, in the table in manifest-keys.c; validation
 * messages, "did you mean", man/berth.ini.5 and `berth help manifest` all follow that table.
 *
 * What is checked here: syntax, types, ranges, names, and that every string can be written into a
 * unit file safely (valid UTF-8, no control characters). What needs the host (does the user
 * exist, is the binary there and an ELF for this machine) is checked by the callers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "size.h"

#define SERVICE_NAME_MAX 64
/* Limits of manifest_load(): a larger file is refused; at most this many diags are kept. */
#define MANIFEST_FILE_MAX (64 * 1024)
#define MANIFEST_DIAGS_MAX 50
/* Longest line iniparser reads (its 1024-byte buffer, less the newline and NUL); a longer line,
 * including one joined from continuation lines, is an error, never silently truncated. */
#define MANIFEST_LINE_MAX 1022

enum restart_policy {
	RESTART_ON_FAILURE, /* default */
	RESTART_ALWAYS,
	RESTART_NO,
};

enum go_mode {
	GO_MODE_UNSET, /* key absent: same as the documented default */
	GO_MODE_AUTO,
	GO_MODE_OFF,
	GO_MODE_VALUE,
};

struct env_var {
	char *name; /* exact case as written in the file */
	char *value;
	unsigned line;
};

struct manifest {
	char *path; /* file it was read from, as given */
	char *dir;  /* its directory: relative `binary` paths are resolved against it */

	/* [service] */
	char *name;        /* required; [A-Za-z0-9_.-], ≤ 64, no leading '-' or '.' */
	char *binary;      /* absolute (resolved against dir if relative in the file); may be NULL if --binary is given */
	char **args;       /* NULL-terminated, split like a shell without expansion; never NULL (empty strv) */
	char *user;        /* NULL → DynamicUser=yes ("dynamic", the default) */
	char *group;       /* NULL → unset */
	char *working_directory; /* absolute or NULL */
	char *environment_file;  /* absolute or NULL */
	char *description;       /* NULL → "berth service NAME" */
	char **after;            /* unit names, NULL-terminated, never NULL */
	char **wants;
	usec_t stop_timeout;     /* USEC_UNSET → default 30s; USEC_INFINITY allowed */
	enum restart_policy restart;
	usec_t restart_delay;    /* USEC_UNSET → default 1s */
	uint64_t start_limit_burst;  /* U64_UNSET → default 5 */
	usec_t start_limit_interval; /* USEC_UNSET → default 60s */

	/* [environment] */
	struct env_var *env;
	size_t n_env;

	/* [resources] */
	unsigned cpu_quota_percent; /* 0 = unset; 150 = 1.5 CPUs */
	uint64_t memory_max;        /* SIZE_UNSET / SIZE_INFINITY / bytes */
	uint64_t memory_high;
	uint64_t memory_swap_max;
	uint64_t tasks_max;         /* U64_UNSET, SIZE_INFINITY for "infinity", or a count */
	uint64_t nofile;            /* U64_UNSET or count (LimitNOFILE) */
	uint64_t cpu_weight;        /* U64_UNSET or 1-10000 */
	uint64_t io_weight;         /* U64_UNSET or 1-10000 */

	/* [health] */
	char *http_url;             /* "http://127.0.0.1:8080/healthz" as written, validated */
	char *http_host;            /* parsed parts of http_url: host without brackets */
	uint16_t http_port;
	char *http_path;            /* starts with '/' */
	char *http_expect;          /* status set as written: "2xx" (default), "200,204", "200-299" */
	char *tcp_host;             /* from tcp = host:port */
	uint16_t tcp_port;          /* 0 = unset */
	uint16_t listen_port;       /* 0 = unset */
	usec_t start_period;        /* USEC_UNSET → default 0 */
	usec_t interval;            /* USEC_UNSET → default 5s */
	usec_t timeout;             /* USEC_UNSET → default 2s (one probe) */
	uint64_t failure_threshold; /* U64_UNSET → default 3 */
	usec_t ready_timeout;       /* USEC_UNSET → default 60s */
	char *warmup_url;           /* NULL or a local http URL */

	/* [deploy] */
	uint64_t keep_releases;     /* U64_UNSET → default 5; minimum 2 */
	bool rollback;              /* default true */
	usec_t watch;               /* USEC_UNSET → default 0 (no post-deploy watch) */

	/* [go] */
	enum go_mode gomaxprocs_mode;
	uint64_t gomaxprocs;        /* when GO_MODE_VALUE: 1-1024 */
	enum go_mode gomemlimit_mode;
	uint64_t gomemlimit;        /* when GO_MODE_VALUE: bytes */
	char *gogc;                 /* NULL, "off", or a decimal integer ≥ 1 */
	unsigned gomemlimit_ratio_percent; /* gomemlimit_ratio: 0 → default 90 (% of MemoryMax for auto) */

	/* [hardening] */
	char **read_write_paths;    /* absolute paths, never NULL */
	char **address_families;    /* extra families beyond AF_INET AF_INET6 AF_UNIX, e.g. "AF_NETLINK"; never NULL */
	bool private_network;       /* network = no → PrivateNetwork=yes */
	bool privileged_port;       /* adds only CAP_NET_BIND_SERVICE */
	bool memory_deny_write_execute; /* default true */
};

/* One validation problem: "hello.ini:12: [resources] memory = \"512Q\": not a size; use ...". */
struct manifest_diag {
	unsigned line;  /* 0 if not tied to a line (e.g. a missing required key) */
	char *section;  /* NULL if not tied to a section */
	char *key;      /* NULL if not tied to a key */
	char *message;  /* the problem and what is allowed, e.g. "not a size: use a number with K, M, G or T (1024-based), or infinity" */
};

struct manifest_diags {
	struct manifest_diag *items; /* sorted by line, those without a line (0) last */
	size_t n;                    /* ≤ MANIFEST_DIAGS_MAX */
	size_t n_dropped;            /* further problems found beyond the cap, not in items */
};

/* Parses and validates path. On success returns 0 and *ret. On a validation failure returns
 * -EINVAL and fills diags with every problem found (all of them, in file order, up to a cap);
 * on I/O failure returns -errno (diags may be empty): -ENOENT if it does not exist, -EISDIR for a
 * directory. diags may be NULL. Messages, sections and keys in diags are safe to print: bytes
 * that are not printable UTF-8 are shown as \xNN.
 * Not thread-safe: iniparser's error callback is process-global and is redirected while loading. */
int manifest_load(const char *path, struct manifest **ret, struct manifest_diags *diags);
/* text without its [environment] section (iniparser's rules for headers and continued lines):
 * what may be saved for anyone to read. */
int manifest_public_text(const char *text, char **ret);
struct manifest *manifest_free(struct manifest *m);
static inline void manifest_freep(struct manifest **m)
{
	manifest_free(*m);
}
void manifest_diags_release(struct manifest_diags *d);

/* Formats one diag as "PATH:LINE: [section] key: message" (parts left out when unknown). */
char *manifest_diag_format(const char *path, const struct manifest_diag *d);

/* Validation helpers, shared with the CLI (e.g. `berth limit --memory`) and unit tests. */
bool service_name_is_valid(const char *s);
bool env_name_is_valid(const char *s);
bool unit_name_is_valid(const char *s);  /* "network-online.target", "postgresql.service" */
bool user_name_is_valid(const char *s);  /* POSIX-ish: [a-z_][a-z0-9_-]*[$]?, ≤ 31 */
/* Splits like a shell: blanks separate, "..." and '...' group, \ escapes (not inside '...');
 * no expansion of any kind. Unterminated quote or trailing backslash → -EINVAL. */
int split_args(const char *s, char ***ret);
/* Parses "http://HOST[:PORT]/PATH" where HOST is a local address (127.0.0.0/8, ::1, localhost).
 * Returns -EINVAL for other schemes/hosts; the caller words the message. The port defaults to 80,
 * the path to "/"; the host is returned without brackets. */
int parse_local_http_url(const char *url, char **ret_host, uint16_t *ret_port, char **ret_path);
/* Why parse_local_http_url() refuses url ("uses https, but the check speaks plain http", "is not
 * on this host", ...), or NULL if it accepts it. Static text. */
const char *local_http_url_problem(const char *url);
/* Parses "HOST:PORT" with a local HOST as above ("127.0.0.1:5432", "[::1]:5432",
 * "localhost:5432"); the port is required. -EINVAL otherwise. */
int parse_local_host_port(const char *s, char **ret_host, uint16_t *ret_port);
const char *local_host_port_problem(const char *s);
/* "2xx", "200", "200,204", "200-299,302": returns true if status is in the set. */
bool http_status_matches(const char *expect, int status);
bool http_expect_is_valid(const char *expect);
