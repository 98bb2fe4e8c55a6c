/* health.c - is the service healthy? HTTP status, TCP connect, or a listening port
 *
 * Only local addresses are ever contacted, and no name is resolved: "localhost" means
 * 127.0.0.1, then ::1. Connections are non-blocking, and every wait is a poll() against one
 * absolute CLOCK_MONOTONIC deadline, so a probe never takes longer than its timeout whatever
 * the server does (accepts and never answers, trickles bytes, sends garbage).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "health.h"
#include "macro.h"
#include "manifest.h"
#include "size.h"
#include "sockdiag.h"

#define HTTP_STATUS_LINE_MAX 4096 /* read at most this much looking for the status line */
#define HTTP_PATH_MAX 2048
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 16)

usec_t now_usec(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0; /* cannot happen for CLOCK_MONOTONIC */
	return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

/* a + b, saturating at USEC_INFINITY (which stays infinite) */
static usec_t usec_add(usec_t a, usec_t b)
{
	if (a >= USEC_INFINITY || b >= USEC_INFINITY || a > USEC_INFINITY - b)
		return USEC_INFINITY;
	return a + b;
}

static usec_t usec_min(usec_t a, usec_t b)
{
	return a < b ? a : b;
}

static usec_t timeout_or_default(usec_t t)
{
	return t == 0 || t == USEC_UNSET ? HEALTH_DEFAULT_TIMEOUT : t;
}

/* --- addresses ------------------------------------------------------------------------------ */

struct local_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	socklen_t len;
	char text[ADDR_TEXT_MAX]; /* "127.0.0.1:8080", "[::1]:8080" */
};

static void local_addr_v4(struct local_addr *a, struct in_addr addr, uint16_t port)
{
	char ip[INET_ADDRSTRLEN];

	memset(a, 0, sizeof(*a));
	a->u.in.sin_family = AF_INET;
	a->u.in.sin_port = htons(port);
	a->u.in.sin_addr = addr;
	a->len = sizeof(a->u.in);
	(void)inet_ntop(AF_INET, &addr, ip, sizeof(ip));
	snprintf(a->text, sizeof(a->text), "%s:%u", ip, port);
}

static void local_addr_v6(struct local_addr *a, const struct in6_addr *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];

	memset(a, 0, sizeof(*a));
	a->u.in6.sin6_family = AF_INET6;
	a->u.in6.sin6_port = htons(port);
	a->u.in6.sin6_addr = *addr;
	a->len = sizeof(a->u.in6);
	(void)inet_ntop(AF_INET6, addr, ip, sizeof(ip));
	snprintf(a->text, sizeof(a->text), "[%s]:%u", ip, port);
}

/* The addresses to try for host, in order: "localhost" → 127.0.0.1 then ::1; an IPv4 address
 * in 127.0.0.0/8; the IPv6 loopback ::1 (brackets allowed). Anything else is -EINVAL: no name
 * is ever looked up. */
static int local_addrs(const char *host, uint16_t port, struct local_addr ret[2], size_t *ret_n)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr in6;
	struct in_addr in;
	size_t l;

	if (isempty(host) || port == 0)
		return -EINVAL;

	if (strcasecmp(host, "localhost") == 0) {
		in.s_addr = htonl(INADDR_LOOPBACK);
		local_addr_v4(&ret[0], in, port);
		local_addr_v6(&ret[1], &in6addr_loopback, port);
		*ret_n = 2;
		return 0;
	}

	if (inet_pton(AF_INET, host, &in) == 1) {
		if ((ntohl(in.s_addr) >> 24) != 127)
			return -EINVAL;
		local_addr_v4(&ret[0], in, port);
		*ret_n = 1;
		return 0;
	}

	l = strlen(host);
	if (l >= 2 && host[0] == '[' && host[l - 1] == ']') {
		if (l - 2 >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, host + 1, l - 2);
		buf[l - 2] = '\0';
		host = buf;
	}
	if (inet_pton(AF_INET6, host, &in6) == 1 && IN6_IS_ADDR_LOOPBACK(&in6)) {
		local_addr_v6(&ret[0], &in6, port);
		*ret_n = 1;
		return 0;
	}

	return -EINVAL;
}

/* "127.0.0.1:8080", "[::1]:8080", or for a name "localhost:8080" */
static void host_port_text(char *buf, size_t n, const char *host, uint16_t port)
{
	bool v6 = strchr(host, ':') && host[0] != '[';

	snprintf(buf, n, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

/* --- waiting on a socket -------------------------------------------------------------------- */

/* Waits for events on fd until deadline: revents (> 0), -ETIMEDOUT, or -errno. */
static int fd_wait(int fd, short events, usec_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int timeout_ms, r;

		if (deadline >= USEC_INFINITY)
			timeout_ms = -1;
		else {
			usec_t n = now_usec(), left, ms;

			if (n >= deadline)
				return -ETIMEDOUT;
			left = deadline - n;
			ms = (left + USEC_PER_MSEC - 1) / USEC_PER_MSEC; /* round up: no busy loop */
			timeout_ms = ms > INT_MAX ? INT_MAX : (int)ms;
		}

		r = poll(&p, 1, timeout_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (r > 0)
			return p.revents;
		/* r == 0: loop, the clock decides whether the deadline has passed */
	}
}

static int socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return negative_errno();
	return -err;
}

/* Connects a non-blocking socket to a before deadline. */
static int connect_deadline(const struct local_addr *a, usec_t deadline, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	int r;

	fd = socket(a->u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();

	if (connect(fd, &a->u.sa, a->len) < 0) {
		if (errno != EINPROGRESS)
			return negative_errno();

		r = fd_wait(fd, POLLOUT, deadline);
		if (r < 0)
			return r;
		r = socket_error(fd);
		if (r < 0)
			return r;
	}

	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Connects to the first address of addrs that accepts; only refused/unreachable addresses make
 * it go on to the next one (a timeout has used up the deadline). */
static int connect_any(const struct local_addr *addrs, size_t n, usec_t deadline, int *ret_fd,
		       size_t *ret_index)
{
	int r = -EINVAL;

	for (size_t i = 0; i < n; i++) {
		r = connect_deadline(&addrs[i], deadline, ret_fd);
		if (r >= 0) {
			if (ret_index)
				*ret_index = i;
			return 0;
		}
		if (r == -ETIMEDOUT)
			return r;
	}
	return r;
}

/* --- HTTP ----------------------------------------------------------------------------------- */

static bool http_path_is_valid(const char *path)
{
	if (path[0] != '/' || strlen(path) > HTTP_PATH_MAX)
		return false;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

static bool http_prefix_ok(const char *buf, size_t n)
{
	static const char prefix[] = "HTTP/1.";

	return memcmp(buf, prefix, n < sizeof(prefix) - 1 ? n : sizeof(prefix) - 1) == 0;
}

/* "HTTP/1.x NNN[ reason]" → NNN (100-599), or -EBADMSG. */
static int http_parse_status_line(const char *buf, size_t n, int *ret_status)
{
	int status;

	if (n < 12 || !http_prefix_ok(buf, n) || buf[7] < '0' || buf[7] > '9' || buf[8] != ' ')
		return -EBADMSG;
	for (size_t i = 9; i < 12; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return -EBADMSG;
	if (n > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return -EBADMSG;

	status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (status < 100 || status > 599)
		return -EBADMSG;
	*ret_status = status;
	return 0;
}

static int send_all(int fd, const char *buf, size_t n, usec_t deadline)
{
	while (n > 0) {
		ssize_t k = send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return negative_errno();
			r = fd_wait(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		buf += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads until the status line is complete (or EOF, or HTTP_STATUS_LINE_MAX bytes), then parses
 * it. -ENODATA: closed without a byte; -EBADMSG: not HTTP. */
static int read_status(int fd, usec_t deadline, int *ret_status)
{
	char buf[HTTP_STATUS_LINE_MAX];
	size_t have = 0;
	int r;

	for (;;) {
		ssize_t k;

		if (memchr(buf, '\n', have))
			break;
		if (have > 0 && !http_prefix_ok(buf, have))
			return -EBADMSG; /* no need to wait for more of it */
		if (have == sizeof(buf))
			return -EBADMSG;

		k = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				if (have > 0)
					break; /* reset after some bytes: judge what we have */
				return negative_errno();
			}
			r = fd_wait(fd, POLLIN, deadline);
			if (r < 0)
				return r;
			continue;
		}
		if (k == 0)
			break;
		have += (size_t)k;
	}

	if (have == 0)
		return -ENODATA;
	return http_parse_status_line(buf, have, ret_status);
}

/* One GET over an established connection. */
static int http_exchange(int fd, const char *host_header, const char *path, usec_t deadline,
			 int *ret_status)
{
	char req[HTTP_PATH_MAX + 256];
	int n, r, r_send;

	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.0\r\n"
		     "Host: %s\r\n"
		     "User-Agent: berth-health\r\n"
		     "Connection: close\r\n"
		     "\r\n",
		     path, host_header);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -EINVAL;

	/* A server may answer (say, 503) and close before reading the request: then sending fails
	 * but the answer is there to read. */
	r_send = send_all(fd, req, (size_t)n, deadline);
	if (r_send < 0 && r_send != -EPIPE && r_send != -ECONNRESET)
		return r_send;

	r = read_status(fd, deadline, ret_status);
	if (r < 0 && r_send < 0 && (r == -ENODATA || r == -ECONNRESET || r == -EPIPE))
		return r_send;
	return r;
}

struct http_target {
	struct local_addr addrs[2];
	size_t n_addrs;
	char host_header[ADDR_TEXT_MAX + 256]; /* "127.0.0.1:8080", "[::1]:8080", "localhost:8080" */
	char url[ADDR_TEXT_MAX + 256 + HTTP_PATH_MAX]; /* for messages */
	const char *path;
};

static int http_target_init(struct http_target *t, const char *host, uint16_t port, const char *path)
{
	int r;

	if (!path)
		path = "/";
	if (!host)
		host = "127.0.0.1";
	if (!http_path_is_valid(path) || strlen(host) > 255)
		return -EINVAL;

	r = local_addrs(host, port, t->addrs, &t->n_addrs);
	if (r < 0)
		return r;

	if (host[0] == '[')
		snprintf(t->host_header, sizeof(t->host_header), "%s:%u", host, port);
	else
		host_port_text(t->host_header, sizeof(t->host_header), host, port);
	snprintf(t->url, sizeof(t->url), "http://%s%s", t->host_header, path);
	t->path = path;
	return 0;
}

/* GET against t; on failure *reterr_where says which address ("127.0.0.1:8080" or the host as
 * given, for "localhost"). */
static int http_get_target(const struct http_target *t, usec_t deadline, int *ret_status,
			   const char **reterr_where)
{
	_cleanup_close_ int fd = -1;
	size_t i = 0;
	int r;

	*reterr_where = t->n_addrs == 1 ? t->addrs[0].text : t->host_header;

	r = connect_any(t->addrs, t->n_addrs, deadline, &fd, &i);
	if (r < 0)
		return r;
	*reterr_where = t->addrs[i].text;

	return http_exchange(fd, t->host_header, t->path, deadline, ret_status);
}

int health_http_get(const char *host, uint16_t port, const char *path, usec_t timeout, int *ret_status)
{
	struct http_target t;
	const char *where;
	int status = 0, r;

	r = http_target_init(&t, host, port, path);
	if (r < 0)
		return r;

	r = http_get_target(&t, usec_add(now_usec(), timeout_or_default(timeout)), &status, &where);
	if (r < 0)
		return r;

	if (ret_status)
		*ret_status = status;
	return status;
}

/* --- probes --------------------------------------------------------------------------------- */

/* printf into a reason buffer; a reason too long for it (a long URL) ends in "..." and is cut
 * at a character boundary, so it stays valid UTF-8 and one line. */
_printf_(3, 4) static void reason_printf(char *reason, size_t n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(reason, n, fmt, ap);
	va_end(ap);

	if (k < 0) {
		reason[0] = '\0';
		return;
	}
	if ((size_t)k >= n && n >= 4) {
		size_t end = n - 4; /* room for "..." and the NUL */

		while (end > 0 && ((unsigned char)reason[end] & 0xc0) == 0x80)
			end--; /* reason[end] is the first byte cut off: back up to a lead byte */
		memcpy(reason + end, "...", 4);
	}
}

/* "2s", "300ms": the time a probe was given, to the millisecond */
static const char *budget_text(char *buf, size_t n, usec_t budget)
{
	if (budget >= USEC_PER_MSEC)
		budget -= budget % USEC_PER_MSEC;
	if (!format_duration(buf, n, budget))
		snprintf(buf, n, "%lluus", (unsigned long long)budget);
	return buf;
}

/* One line for a failed connection or exchange. */
static void reason_for_error(char *reason, size_t n, int r, const char *where, const char *url,
			     usec_t budget)
{
	char d[FORMAT_DURATION_MAX];
	char e[128];

	switch (r) {
	case -ECONNREFUSED:
		reason_printf(reason, n, "connection refused on %s", where);
		break;
	case -ETIMEDOUT:
		reason_printf(reason, n, "timed out after %s on %s", budget_text(d, sizeof(d), budget), where);
		break;
	case -ECONNRESET:
	case -EPIPE:
		reason_printf(reason, n, "connection reset on %s", where);
		break;
	case -ENODATA:
		reason_printf(reason, n, "connection closed without an answer from %s", url ? url : where);
		break;
	case -EBADMSG:
		reason_printf(reason, n, "HTTP: not an HTTP response from %s", url ? url : where);
		break;
	default:
		reason_printf(reason, n, "%s on %s", strerror_r(-r, e, sizeof(e)), where);
		break;
	}
}

static bool health_spec_is_empty(const struct health_spec *spec)
{
	return spec->http_port == 0 && spec->tcp_port == 0 && spec->listen_port == 0;
}

/* Runs the probes of spec with each one's deadline capped at `cap` (USEC_INFINITY: no cap). */
static int health_probe_capped(const struct health_spec *spec, usec_t cap, struct probe_result *result)
{
	struct probe_result res = {};
	struct http_target http;
	struct local_addr tcp_addrs[2];
	size_t n_tcp = 0;
	usec_t timeout, start;
	int r;

	if (!spec || !result || health_spec_is_empty(spec))
		return -EINVAL;
	if (spec->http_port != 0 && !isempty(spec->http_expect) && !http_expect_is_valid(spec->http_expect))
		return -EINVAL;

	/* everything is checked before anything runs */
	if (spec->http_port != 0) {
		r = http_target_init(&http, spec->http_host, spec->http_port, spec->http_path);
		if (r < 0)
			return r;
	}
	if (spec->tcp_port != 0) {
		r = local_addrs(spec->tcp_host ? spec->tcp_host : "127.0.0.1", spec->tcp_port, tcp_addrs, &n_tcp);
		if (r < 0)
			return r;
	}

	timeout = timeout_or_default(spec->timeout);
	start = now_usec();

	/* 1. listen: no connection at all, and the clearest message when nothing is up yet */
	if (spec->listen_port != 0) {
		r = sockdiag_port_listening(spec->listen_port);
		if (r < 0)
			return r;
		if (r == 0) {
			reason_printf(res.reason, sizeof(res.reason), "nothing listens on port %u", spec->listen_port);
			goto finish;
		}
		reason_printf(res.reason, sizeof(res.reason), "port %u is listening", spec->listen_port);
	}

	/* 2. tcp: a connection, closed at once */
	if (spec->tcp_port != 0) {
		_cleanup_close_ int fd = -1;
		usec_t t0 = now_usec(), deadline = usec_min(usec_add(t0, timeout), cap);
		char where[ADDR_TEXT_MAX + 256];
		size_t i = 0;

		r = connect_any(tcp_addrs, n_tcp, deadline, &fd, &i);
		if (r < 0) {
			if (n_tcp == 1)
				snprintf(where, sizeof(where), "%s", tcp_addrs[0].text);
			else
				host_port_text(where, sizeof(where), spec->tcp_host, spec->tcp_port);
			reason_for_error(res.reason, sizeof(res.reason), r, where, NULL,
					 deadline > t0 ? deadline - t0 : 0);
			goto finish;
		}
		reason_printf(res.reason, sizeof(res.reason), "TCP connect to %s succeeded", tcp_addrs[i].text);
	}

	/* 3. http */
	if (spec->http_port != 0) {
		usec_t t0 = now_usec(), deadline = usec_min(usec_add(t0, timeout), cap);
		const char *expect = isempty(spec->http_expect) ? "2xx" : spec->http_expect;
		const char *where = NULL;
		int status = 0;

		r = http_get_target(&http, deadline, &status, &where);
		if (r < 0) {
			reason_for_error(res.reason, sizeof(res.reason), r, where, http.url,
					 deadline > t0 ? deadline - t0 : 0);
			goto finish;
		}
		res.http_status = status;
		if (!http_status_matches(expect, status)) {
			reason_printf(res.reason, sizeof(res.reason), "HTTP %d from %s (expected %s)", status,
				 http.url, expect);
			goto finish;
		}
		reason_printf(res.reason, sizeof(res.reason), "HTTP %d", status);
	}

	res.healthy = true;
finish:
	res.elapsed = now_usec() - start;
	*result = res;
	return 0;
}

int health_probe(const struct health_spec *spec, struct probe_result *result)
{
	return health_probe_capped(spec, USEC_INFINITY, result);
}

/* Sleeps until t; returns true early when exit_fd (a pidfd, or -1) says its process ended. */
static bool sleep_until(usec_t t, int exit_fd)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / USEC_PER_SEC),
		.tv_nsec = (long)(t % USEC_PER_SEC) * 1000L,
	};

	if (exit_fd < 0) {
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		return false;
	}
	for (;;) {
		usec_t now = now_usec();
		struct pollfd pfd = { .fd = exit_fd, .events = POLLIN };
		int ms = t > now ? (int)((t - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC) : 0;
		int n = poll(&pfd, 1, ms);
		if (n > 0)
			return true;
		if (n == 0 || (n < 0 && errno != EINTR))
			return false;
	}
}

int health_wait_ready(const struct health_spec *spec, struct probe_result *last, usec_t *ret_elapsed)
{
	return health_wait_ready_fd(spec, -1, last, ret_elapsed);
}

int health_wait_ready_fd(const struct health_spec *spec, int exit_fd, struct probe_result *last, usec_t *ret_elapsed)
{
	usec_t start, deadline, wait, poll_every;
	struct probe_result res;
	int r;

	if (!spec || health_spec_is_empty(spec))
		return -EINVAL;

	wait = spec->ready_timeout == 0 || spec->ready_timeout == USEC_UNSET ? HEALTH_DEFAULT_READY_TIMEOUT
									    : spec->ready_timeout;
	if (spec->start_period != USEC_UNSET && spec->start_period > wait)
		wait = spec->start_period;

	poll_every = HEALTH_READY_POLL_USEC;
	if (spec->interval != 0 && spec->interval < poll_every)
		poll_every = spec->interval;

	start = now_usec();
	deadline = usec_add(start, wait);

	bool have_any = false;
	for (;;) {
		usec_t t0 = now_usec();
		/* a probe the deadline cut short may say only "timed out after 8ms": once there is an
		 * earlier result, the reason the caller shows is not taken from such a probe */
		usec_t probe_timeout = spec->timeout ? spec->timeout : HEALTH_DEFAULT_TIMEOUT;
		bool cut = deadline <= t0 || deadline - t0 < probe_timeout;

		r = health_probe_capped(spec, deadline, &res);
		if (r < 0)
			return r;
		if (last && (res.healthy || !cut || !have_any))
			*last = res;
		have_any = true;
		if (res.healthy) {
			if (ret_elapsed)
				*ret_elapsed = now_usec() - start;
			return 0;
		}

		if (now_usec() >= deadline)
			return -ETIMEDOUT;
		if (sleep_until(usec_min(usec_add(t0, poll_every), deadline), exit_fd))
			return -ECHILD;
		if (now_usec() >= deadline)
			return -ETIMEDOUT;
	}
}
