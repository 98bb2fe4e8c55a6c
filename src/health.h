/* health.h - is the service healthy? HTTP status, TCP connect, or a listening port (no connection)
 *
 * Probes only ever talk to the local host (the manifest allows nothing else). The HTTP probe is
 * a minimal HTTP/1.0 GET over a non-blocking socket with one deadline for connect+send+receive;
 * it reads the status line only. Everything here returns 0 or -errno and never logs: the probe
 * result carries a one-line reason ("HTTP 503 from http://127.0.0.1:8080/healthz (expected 2xx)",
 * "connection refused on 127.0.0.1:8080", "nothing listens on port 8080",
 * "timed out after 2s on 127.0.0.1:8080", "HTTP: not an HTTP response from http://...").
 *
 * Hosts: "localhost" (tries 127.0.0.1, then ::1), an IPv4 address in 127.0.0.0/8, or ::1 (with
 * or without brackets). Nothing else is accepted (-EINVAL) and no name is ever resolved.
 * NULL http_host / tcp_host mean 127.0.0.1, NULL http_path "/", NULL or "" http_expect "2xx".
 *
 * Two clocks of probing: health_wait_ready() (the start job: be done as soon as the service is
 * healthy) probes every HEALTH_READY_POLL_USEC, or every `interval` if that is shorter; the
 * manifest's `interval` is otherwise the period for supervising a running service, which is
 * the caller's loop around health_probe(). All times are CLOCK_MONOTONIC.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "size.h"

#define HEALTH_DEFAULT_TIMEOUT (2 * USEC_PER_SEC)         /* timeout 0 or USEC_UNSET */
#define HEALTH_DEFAULT_READY_TIMEOUT (60 * USEC_PER_SEC)  /* ready_timeout 0 or USEC_UNSET */
#define HEALTH_READY_POLL_USEC (20 * USEC_PER_MSEC)       /* probe period while waiting for ready: a refused loopback connect costs microseconds, and every poll period is start latency */

struct health_spec {
	/* at least one of http / tcp / listen; all given ones must pass */
	const char *http_host;  /* "127.0.0.1", "::1", "localhost" */
	uint16_t http_port;
	const char *http_path;
	const char *http_expect; /* "2xx" default */
	const char *tcp_host;
	uint16_t tcp_port;
	uint16_t listen_port;
	usec_t timeout;          /* per probe */
	usec_t interval;         /* between probes of a running service (see above for waiting) */
	usec_t start_period;     /* failures during it do not count (waiting lasts at least this long) */
	usec_t ready_timeout;    /* give up waiting for ready after this */
	unsigned failure_threshold; /* consecutive failures that make a running service unhealthy */
};

struct probe_result {
	bool healthy;
	int http_status;   /* 0 if no HTTP probe or no answer */
	usec_t elapsed;    /* time the probe took */
	char reason[256];  /* why not healthy, or "HTTP 200" when healthy */
};

/* Runs every configured probe once, in the order listen, tcp, http (cheapest first), each with
 * its own `timeout`, and stops at the first that fails: result->reason says why. When all pass,
 * reason is the last one's success ("HTTP 200", "TCP connect to 127.0.0.1:8080 succeeded",
 * "port 8080 is listening"). Returns 0 (see result->healthy), -EINVAL for an empty spec, a
 * non-local host, a bad path or expect, or -errno if sock_diag itself fails (listen probe);
 * result is only written when 0 is returned. */
int health_probe(const struct health_spec *spec, struct probe_result *result);
/* Probes at once, then every HEALTH_READY_POLL_USEC (or `interval` if shorter), until healthy or
 * until max(ready_timeout, start_period) from call time has passed: a success at any time,
 * within start_period or not, counts as ready. No probe outlives that deadline (its timeout is
 * cut short) and no sleep goes past it. Returns 0 when healthy (*ret_elapsed = time to ready),
 * -ETIMEDOUT with the last result in *last, or health_probe()'s errors. last and ret_elapsed
 * may be NULL; *last is written after every probe. */
int health_wait_ready(const struct health_spec *spec, struct probe_result *last, usec_t *ret_elapsed);
/* The same, and -ECHILD as soon as exit_fd (a pidfd of the service's main process, or -1 for
 * none) becomes readable: a service that died will not become healthy, so the wait ends at once. */
int health_wait_ready_fd(const struct health_spec *spec, int exit_fd, struct probe_result *last, usec_t *ret_elapsed);
/* One HTTP GET of a local URL (warm-up), with the same host rules and deadline handling as the
 * probe. Returns the status code (100-599, also stored in *ret_status if not NULL), or -errno:
 * -ECONNREFUSED, -ETIMEDOUT, -ENODATA (closed without an answer), -EBADMSG (not HTTP),
 * -EINVAL (host not local, bad path). timeout 0 means HEALTH_DEFAULT_TIMEOUT. */
int health_http_get(const char *host, uint16_t port, const char *path, usec_t timeout, int *ret_status);
/* Monotonic clock in µs. */
usec_t now_usec(void);
