/* netstat.h - the kernel's listen-queue counters (TcpExt ListenOverflows and ListenDrops in
 * /proc/net/netstat) and net.core.somaxconn, with deltas since the previous call
 *
 * /proc/net/netstat holds pairs of lines, a header and its values, with the same prefix:
 *
 *   TcpExt: SyncookiesSent SyncookiesRecv ... ListenOverflows ListenDrops ...
 *   TcpExt: 0 0 ... 12 12 ...
 *
 * Both counters are per network namespace and only grow (until reboot). A sample of them is kept
 * in /run/berth/netstat.last (tmpfs: gone at boot) so that the next call can say how many were
 * added since; a sample from another network namespace, or counters that went backwards, give no
 * delta. The parsers, the formatter and the delta are pure; reading and saving are effects.
 * Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define NETSTAT_PROC_PATH "/proc/net/netstat"
#define NETSTAT_LAST_PATH "/run/berth/netstat.last"
/* Larger inputs are refused (-EFBIG): /proc/net/netstat is about 4 KiB on Linux 6.x. */
#define NETSTAT_TEXT_MAX (256 * 1024)
/* The saved sample is a few lines. */
#define NETSTAT_SAMPLE_MAX 4096

struct netstat_counters {
	uint64_t listen_overflows; /* TcpExt ListenOverflows: accept queue full when a connection completed */
	uint64_t listen_drops;     /* TcpExt ListenDrops: every SYN or final ACK a listener dropped */
};

struct netstat_sample {
	struct netstat_counters counters;
	uint64_t netns;     /* inode of /proc/self/ns/net: the counters' namespace, 0 if unknown */
	uint64_t time_usec; /* CLOCK_BOOTTIME when taken */
};

struct netstat_delta {
	struct netstat_counters added; /* counted since the previous sample */
	uint64_t interval_usec;        /* time between the two samples */
};

/* --- pure ----------------------------------------------------------------------------------- */

/* The value of field name in the header/value line pair whose prefix is prefix ("TcpExt"), from
 * the text of /proc/net/netstat (or /proc/net/snmp, same format). -ENOENT if there is no such
 * pair or no such field; -EBADMSG if the pair is malformed (the two lines do not have the same
 * number of words) or the value is not an unsigned decimal that fits in 64 bits. */
int netstat_find(const char *text, const char *prefix, const char *name, uint64_t *ret);
/* TcpExt ListenOverflows and ListenDrops from the text of /proc/net/netstat; errors as above. */
int netstat_parse(const char *text, struct netstat_counters *ret);

/* A sample as the text saved in netstat.last ("key value" lines, NUL-terminated, malloc'ed). */
int netstat_sample_format(const struct netstat_sample *s, char **ret);
/* Parses netstat_sample_format()'s text; unknown keys are ignored (a later berth may add some),
 * missing or malformed ones are -EBADMSG. */
int netstat_sample_parse(const char *text, struct netstat_sample *ret);
/* What was added between prev and now. -ESTALE when the two are not comparable: another network
 * namespace, counters that went backwards (a reboot or another namespace), or a clock that did. */
int netstat_delta(const struct netstat_sample *prev, const struct netstat_sample *now,
		  struct netstat_delta *ret);

/* --- effects -------------------------------------------------------------------------------- */

/* Reads and parses path (NULL: NETSTAT_PROC_PATH). */
int netstat_read(const char *path, struct netstat_counters *ret);
/* The counters now, with this process's network namespace and CLOCK_BOOTTIME. */
int netstat_sample_now(struct netstat_sample *ret);
/* net.core.somaxconn now (/proc/sys/net/core/somaxconn). */
int netstat_read_somaxconn(uint32_t *ret);
/* Whether process pid can see net.core.somaxconn in its own /proc (looked up through
 * /proc/PID/root). A unit with ProcSubset=pid hides /proc/sys: Go then cannot read somaxconn and
 * listens with its fallback backlog (syscall.SOMAXCONN, 128), whatever somaxconn is. 1 visible,
 * 0 hidden, -errno unknown: -EACCES / -EPERM when not allowed (not root), -ESRCH if pid is gone. */
int netstat_somaxconn_visible(pid_t pid);
/* The sample saved at path (NULL: NETSTAT_LAST_PATH); -ENOENT if none, -EBADMSG if unreadable. */
int netstat_load(const char *path, struct netstat_sample *ret);
/* Replaces the sample at path (NULL: NETSTAT_LAST_PATH) atomically, mode 0644, creating its
 * directory (0755) if needed. -EACCES and friends when not allowed (not root). */
int netstat_save(const char *path, const struct netstat_sample *s);
