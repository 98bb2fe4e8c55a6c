/* test-health.c - HTTP, TCP and listen probes against tiny forked servers on loopback
 *
 * Each test forks a server on 127.0.0.1 (or ::1) and an ephemeral port that answers in one
 * fixed way: a status code, garbage, nothing at all, or an immediate close. The server checks
 * the exact request bytes and answers 400 if they are not what the probe must send.
 */
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "macro.h"

#define MS USEC_PER_MSEC

enum serve_mode {
	SERVE_STATUS,        /* "HTTP/1.1 <status> ..." after reading the request */
	SERVE_GARBAGE,       /* "garbage\r\n", then close */
	SERVE_GARBAGE_HOLD,  /* "SSH-2.0" without a newline, connection kept open */
	SERVE_SILENT,        /* accepts, never answers, keeps the connection */
	SERVE_CLOSE,         /* accepts and closes at once */
	SERVE_STATUS_NO_CRLF, /* "HTTP/1.0 204" and close: status line without its end */
	SERVE_ANSWER_RESET,  /* answers at once, then closes with the request unread: RST */
};

struct server {
	pid_t pid;
	int family;
	uint16_t port;
	int start_fd; /* delayed servers: write the start time here */
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static socklen_t loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*in);
	}

	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	in6->sin6_addr = in6addr_loopback;
	return sizeof(*in6);
}

/* A socket bound to an ephemeral loopback port, listening unless !listening. -errno on error. */
static int bound_socket(int family, bool listening, uint16_t *ret_port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, 0, &ss);
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (listening && listen(fd, 16) < 0)) {
		int r = -errno;
		close(fd);
		return r;
	}
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*ret_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static bool ipv6_loopback_usable(void)
{
	uint16_t port;
	int fd = bound_socket(AF_INET6, true, &port);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* A port nothing listens on (bound once, then closed). */
static uint16_t closed_port(void)
{
	uint16_t port;
	int fd = bound_socket(AF_INET, true, &port);

	assert_true(fd >= 0);
	close(fd);
	return port;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* Reads the request head (bounded: 4 KiB, 2 s). */
static size_t read_request(int fd, char *buf, size_t size)
{
	size_t have = 0;

	while (have + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, 2000) <= 0)
			break;
		k = recv(fd, buf + have, size - 1 - have, 0);
		if (k <= 0)
			break;
		have += (size_t)k;
		buf[have] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	buf[have] = '\0';
	return have;
}

static _Noreturn void serve(int lfd, enum serve_mode mode, int status, const char *expect_request)
{
	int held[64];
	size_t n_held = 0;

	for (;;) {
		char req[4096], answer[256];
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}

		switch (mode) {
		case SERVE_STATUS:
			read_request(fd, req, sizeof(req));
			if (expect_request && strcmp(req, expect_request) != 0)
				status = 400;
			snprintf(answer, sizeof(answer),
				 "HTTP/1.1 %d Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
			write_all(fd, answer, strlen(answer));
			break;
		case SERVE_STATUS_NO_CRLF:
			read_request(fd, req, sizeof(req));
			write_all(fd, "HTTP/1.0 204", 12);
			break;
		case SERVE_GARBAGE:
			read_request(fd, req, sizeof(req));
			write_all(fd, "garbage\r\n", 9);
			break;
		case SERVE_GARBAGE_HOLD:
			write_all(fd, "SSH-2.0", 7);
			__attribute__((fallthrough));
		case SERVE_SILENT:
			if (n_held < ELEMENTSOF(held)) {
				held[n_held++] = fd;
				continue;
			}
			break;
		case SERVE_CLOSE:
			break;
		case SERVE_ANSWER_RESET: {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			snprintf(answer, sizeof(answer), "HTTP/1.1 %d Busy\r\n\r\n", status);
			write_all(fd, answer, strlen(answer));
			(void)poll(&p, 1, 2000); /* the request is there, unread: close() sends RST */
			close(fd);
			continue;
		}
		}
		shutdown(fd, SHUT_WR);
		/* let the client read the answer before the socket is torn down */
		read_request(fd, req, sizeof(req));
		close(fd);
	}
}

/* Forks the server for a bound socket fd (listening unless delay_ms > 0: then it listens
 * delay_ms after the time the parent sends with server_go()). expect_request: exact bytes or
 * NULL. Takes fd. */
static void server_fork(struct server *s, int fd, enum serve_mode mode, int status, unsigned delay_ms,
			const char *expect_request)
{
	int pipefd[2] = { -1, -1 };
	pid_t pid;

	s->start_fd = -1;
	if (delay_ms > 0)
		assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a failed assertion in the parent must not leave servers behind */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(1);
		if (delay_ms > 0) {
			usec_t t0;
			struct timespec ts;

			close(pipefd[1]);
			if (read(pipefd[0], &t0, sizeof(t0)) != sizeof(t0))
				_exit(1);
			t0 += delay_ms * MS;
			ts.tv_sec = (time_t)(t0 / USEC_PER_SEC);
			ts.tv_nsec = (long)(t0 % USEC_PER_SEC) * 1000L;
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
			if (listen(fd, 16) < 0)
				_exit(1);
		}
		serve(fd, mode, status, expect_request);
	}

	close(fd);
	if (delay_ms > 0) {
		close(pipefd[0]);
		s->start_fd = pipefd[1];
	}
	s->pid = pid;
}

/* Starts a server on a fresh ephemeral port of the loopback address of family. */
static int server_start(struct server *s, int family, enum serve_mode mode, int status, unsigned delay_ms,
			const char *expect_request)
{
	int fd;

	memset(s, 0, sizeof(*s));
	s->family = family;
	s->start_fd = -1;
	fd = bound_socket(family, delay_ms == 0, &s->port);
	if (fd < 0)
		return fd;
	server_fork(s, fd, mode, status, delay_ms, expect_request);
	return 0;
}

/* Delayed servers: start the clock (the child listens delay_ms after `t0`). */
static void server_go(struct server *s, usec_t t0)
{
	assert_int_equal(write(s->start_fd, &t0, sizeof(t0)), (ssize_t)sizeof(t0));
}

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		(void)kill(s->pid, SIGKILL);
		(void)waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	if (s->start_fd >= 0)
		close(TAKE_FD(s->start_fd));
}

static struct health_spec http_spec(const char *host, uint16_t port, const char *expect)
{
	return (struct health_spec){
		.http_host = host,
		.http_port = port,
		.http_path = "/healthz",
		.http_expect = expect,
		.timeout = 2 * USEC_PER_SEC,
	};
}

static void probe_status(int family, const char *host, int status, const char *expect, bool want_healthy)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	char want[256];

	assert_int_equal(server_start(&s, family, SERVE_STATUS, status, 0, NULL), 0);
	spec = http_spec(host, s.port, expect);
	assert_int_equal(health_probe(&spec, &res), 0);
	server_stop(&s);

	assert_int_equal(res.http_status, status);
	assert_int_equal(res.healthy, want_healthy);
	if (want_healthy)
		snprintf(want, sizeof(want), "HTTP %d", status);
	else
		snprintf(want, sizeof(want), "HTTP %d from http://%s%s%s:%u/healthz (expected %s)", status,
			 family == AF_INET6 ? "[" : "", host, family == AF_INET6 ? "]" : "", s.port,
			 expect ? expect : "2xx");
	assert_string_equal(res.reason, want);
	assert_true(res.elapsed < USEC_PER_SEC);
}

static void test_http_status(void **state)
{
	probe_status(AF_INET, "127.0.0.1", 200, NULL, true);
	probe_status(AF_INET, "127.0.0.1", 204, "", true);
	probe_status(AF_INET, "127.0.0.1", 503, NULL, false);
	probe_status(AF_INET, "127.0.0.1", 301, NULL, false);
	probe_status(AF_INET, "127.0.0.1", 404, "2xx", false);
}

static void test_http_expect_sets(void **state)
{
	probe_status(AF_INET, "127.0.0.1", 200, "2xx", true);
	probe_status(AF_INET, "127.0.0.1", 299, "2xx", true);
	probe_status(AF_INET, "127.0.0.1", 200, "200,204", true);
	probe_status(AF_INET, "127.0.0.1", 204, "200,204", true);
	probe_status(AF_INET, "127.0.0.1", 503, "200,204", false);
	probe_status(AF_INET, "127.0.0.1", 201, "200,204", false);
	probe_status(AF_INET, "127.0.0.1", 301, "301", true);
	probe_status(AF_INET, "127.0.0.1", 302, "301", false);
	probe_status(AF_INET, "127.0.0.1", 200, "301", false);
}

static void test_http_ipv6(void **state)
{
	if (!ipv6_loopback_usable()) {
		skip();
		return;
	}
	probe_status(AF_INET6, "::1", 200, NULL, true);
	probe_status(AF_INET6, "::1", 503, NULL, false);
	probe_status(AF_INET6, "::1", 301, "301", true);
}

/* The exact bytes on the wire, Host header included. */
static void test_http_request_format(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	char req[512];
	int fd;

	/* the port first, so that the expected request can name it */
	memset(&s, 0, sizeof(s));
	fd = bound_socket(AF_INET, true, &s.port);
	assert_true(fd >= 0);
	snprintf(req, sizeof(req),
		 "GET /healthz?x=1 HTTP/1.0\r\nHost: 127.0.0.1:%u\r\nUser-Agent: berth-health\r\n"
		 "Connection: close\r\n\r\n", s.port);
	server_fork(&s, fd, SERVE_STATUS, 200, 0, req);

	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.http_path = "/healthz?x=1";
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_string_equal(res.reason, "HTTP 200"); /* 400 if the request differed */
	assert_true(res.healthy);

	/* a different Host header makes the server answer 400 */
	spec.http_host = "localhost";
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_int_equal(res.http_status, 400);
	assert_false(res.healthy);
	server_stop(&s);
}

static void test_http_localhost(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;

	/* on 127.0.0.1 */
	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 200, 0, NULL), 0);
	spec = http_spec("localhost", s.port, NULL);
	assert_int_equal(health_probe(&spec, &res), 0);
	server_stop(&s);
	assert_true(res.healthy);
	assert_int_equal(res.http_status, 200);

	/* only on ::1: 127.0.0.1 is refused, ::1 answers */
	if (ipv6_loopback_usable()) {
		assert_int_equal(server_start(&s, AF_INET6, SERVE_STATUS, 503, 0, NULL), 0);
		spec = http_spec("localhost", s.port, NULL);
		assert_int_equal(health_probe(&spec, &res), 0);
		server_stop(&s);
		assert_false(res.healthy);
		assert_int_equal(res.http_status, 503);
		assert_non_null(strstr(res.reason, "HTTP 503 from http://localhost:"));
	}

	/* nowhere */
	spec = http_spec("localhost", closed_port(), NULL);
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	assert_non_null(startswith(res.reason, "connection refused on "));
}

static void test_http_garbage(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	usec_t t0;

	assert_int_equal(server_start(&s, AF_INET, SERVE_GARBAGE, 0, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	assert_int_equal(health_probe(&spec, &res), 0);
	server_stop(&s);
	assert_false(res.healthy);
	assert_int_equal(res.http_status, 0);
	assert_non_null(startswith(res.reason, "HTTP: not an HTTP response from http://127.0.0.1:"));

	/* a non-HTTP server that greets and waits: judged on the first bytes, not after the timeout */
	assert_int_equal(server_start(&s, AF_INET, SERVE_GARBAGE_HOLD, 0, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	t0 = now_usec();
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_true(now_usec() - t0 < USEC_PER_SEC);
	server_stop(&s);
	assert_false(res.healthy);
	assert_non_null(startswith(res.reason, "HTTP: not an HTTP response"));

	/* a complete status line without CRLF before EOF is still an answer */
	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS_NO_CRLF, 0, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	assert_int_equal(health_probe(&spec, &res), 0);
	server_stop(&s);
	assert_true(res.healthy);
	assert_int_equal(res.http_status, 204);
}

static void test_http_timeout(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	char want[128];
	usec_t t0, took;

	assert_int_equal(server_start(&s, AF_INET, SERVE_SILENT, 0, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.timeout = 300 * MS;
	t0 = now_usec();
	assert_int_equal(health_probe(&spec, &res), 0);
	took = now_usec() - t0;
	server_stop(&s);

	assert_false(res.healthy);
	assert_int_equal(res.http_status, 0);
	assert_true(took >= 300 * MS);
	assert_true(took < USEC_PER_SEC);
	assert_true(res.elapsed >= 300 * MS);
	snprintf(want, sizeof(want), "timed out after 300ms on 127.0.0.1:%u", s.port);
	assert_string_equal(res.reason, want);
}

static void test_http_closes(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;

	assert_int_equal(server_start(&s, AF_INET, SERVE_CLOSE, 0, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	assert_int_equal(health_probe(&spec, &res), 0);
	server_stop(&s);
	assert_false(res.healthy);
	assert_int_equal(res.http_status, 0);
	assert_true(startswith(res.reason, "connection closed without an answer from http://127.0.0.1:") ||
		    startswith(res.reason, "connection reset on 127.0.0.1:"));
}

/* The answer arrived, then a reset: the answer counts. */
static void test_http_answer_then_reset(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;

	assert_int_equal(server_start(&s, AF_INET, SERVE_ANSWER_RESET, 503, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(health_probe(&spec, &res), 0);
		assert_false(res.healthy);
		assert_int_equal(res.http_status, 503);
	}
	server_stop(&s);
}

/* ---- a large answer ---------------------------------------------------------------------- */

struct body_report {
	size_t sent;
	int error; /* errno of the write that failed, 0 if all of it went out */
};

/* Answers every connection with 200 and a body of body_size bytes (a /metrics page), written
 * the way a Go handler writes it; reports to report_fd how much went out and the error if a
 * write failed (the "broken pipe" the service would log). */
static _Noreturn void serve_big_body(int lfd, size_t body_size, int report_fd)
{
	static char chunk[65536];

	memset(chunk, 'm', sizeof(chunk));
	for (;;) {
		struct body_report rep = { 0 };
		char req[4096];
		const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n";
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		read_request(fd, req, sizeof(req));
		if (send(fd, head, strlen(head), MSG_NOSIGNAL) < 0)
			rep.error = errno;
		while (!rep.error && rep.sent < body_size) {
			size_t n = body_size - rep.sent < sizeof(chunk) ? body_size - rep.sent : sizeof(chunk);
			ssize_t k = send(fd, chunk, n, MSG_NOSIGNAL);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				rep.error = errno;
				break;
			}
			rep.sent += (size_t)k;
		}
		shutdown(fd, SHUT_WR);
		read_request(fd, req, sizeof(req)); /* until the client closes */
		close(fd);
		if (write(report_fd, &rep, sizeof(rep)) != sizeof(rep))
			_exit(1);
	}
}

static void big_body_server(struct server *s, size_t body_size, int *ret_report_fd)
{
	int pipefd[2], fd;

	memset(s, 0, sizeof(*s));
	s->family = AF_INET;
	s->start_fd = -1;
	fd = bound_socket(AF_INET, true, &s->port);
	assert_true(fd >= 0);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() == 1)
			_exit(1);
		close(pipefd[0]);
		serve_big_body(fd, body_size, pipefd[1]);
	}
	close(fd);
	close(pipefd[1]);
	*ret_report_fd = pipefd[0];
}

static struct body_report next_report(int fd)
{
	struct body_report rep;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(fd, &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	return rep;
}

/* The probe reads the answer to its end before closing: a service whose health URL returns a
 * large page must not see its writes fail ("broken pipe", "connection reset by peer") on every
 * probe, as it would if the probe closed after the status line. */
static void test_http_large_body_read_to_end(void **state)
{
	const size_t body = 8u << 20; /* more than fits in both sockets' buffers */
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	int report;

	big_body_server(&s, body, &report);
	spec = http_spec("127.0.0.1", s.port, NULL);
	for (int i = 0; i < 3; i++) {
		struct body_report rep;

		assert_int_equal(health_probe(&spec, &res), 0);
		assert_true(res.healthy);
		assert_int_equal(res.http_status, 200);
		rep = next_report(report);
		if (rep.error)
			fail_msg("probe %d: the server's write failed after %zu bytes: %s", i, rep.sent,
				 strerror(rep.error));
		assert_int_equal(rep.sent, body);
	}
	assert_int_equal(health_http_get("127.0.0.1", s.port, "/metrics", 0, NULL), 200);
	assert_int_equal(next_report(report).error, 0);
	server_stop(&s);
	close(report);
}

/* Beyond HEALTH_BODY_MAX the probe stops reading: the answer is known, and a page that never
 * ends must not hold the probe until its timeout. */
static void test_http_endless_body_bounded(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	int report;

	big_body_server(&s, (size_t)1 << 40, &report);
	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.timeout = 10 * USEC_PER_SEC;
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_true(res.healthy);
	assert_true(res.elapsed < 5 * USEC_PER_SEC);
	assert_true(next_report(report).sent >= HEALTH_BODY_MAX);
	server_stop(&s);
	close(report);
}

/* A reason longer than the buffer is cut and marked, never split into lines. */
static void test_reason_truncated(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	char path[600];
	size_t l;

	memset(path, 'x', sizeof(path));
	path[0] = '/';
	for (size_t i = 1; i + 2 < sizeof(path); i += 2)
		memcpy(path + i, "\xc3\xa9", 2); /* é: a cut must not split it */
	path[sizeof(path) - 1] = '\0';

	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 500, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.http_path = path;
	assert_int_equal(health_probe(&spec, &res), 0);
	server_stop(&s);

	assert_false(res.healthy);
	l = strlen(res.reason);
	assert_true(l < sizeof(res.reason));
	assert_true(l > 200);
	assert_string_equal(res.reason + l - 3, "...");
	assert_non_null(startswith(res.reason, "HTTP 500 from http://127.0.0.1:"));
	assert_null(strchr(res.reason, '\n'));
	/* the byte before "..." ends a character: it is not a lead byte of é */
	assert_int_not_equal((unsigned char)res.reason[l - 4], 0xc3);
}

static void test_http_refused(void **state)
{
	struct health_spec spec;
	struct probe_result res;
	char want[128];
	uint16_t port = closed_port();

	spec = http_spec("127.0.0.1", port, NULL);
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	assert_int_equal(res.http_status, 0);
	snprintf(want, sizeof(want), "connection refused on 127.0.0.1:%u", port);
	assert_string_equal(res.reason, want);

	if (ipv6_loopback_usable()) {
		spec = http_spec("::1", port, NULL);
		assert_int_equal(health_probe(&spec, &res), 0);
		snprintf(want, sizeof(want), "connection refused on [::1]:%u", port);
		assert_string_equal(res.reason, want);
	}
}

static void test_http_get(void **state)
{
	struct server s;
	int status = 0;

	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 200, 0, NULL), 0);
	assert_int_equal(health_http_get("127.0.0.1", s.port, "/warmup", USEC_PER_SEC, &status), 200);
	assert_int_equal(status, 200);
	assert_int_equal(health_http_get("localhost", s.port, NULL, 0, NULL), 200);
	server_stop(&s);

	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 503, 0, NULL), 0);
	assert_int_equal(health_http_get("127.0.0.1", s.port, "/", USEC_PER_SEC, &status), 503);
	assert_int_equal(status, 503);
	server_stop(&s);

	status = 7;
	assert_int_equal(server_start(&s, AF_INET, SERVE_GARBAGE, 0, 0, NULL), 0);
	assert_int_equal(health_http_get("127.0.0.1", s.port, "/", USEC_PER_SEC, &status), -EBADMSG);
	server_stop(&s);
	assert_int_equal(status, 7); /* untouched on failure */

	assert_int_equal(health_http_get("127.0.0.1", closed_port(), "/", USEC_PER_SEC, &status),
			 -ECONNREFUSED);

	assert_int_equal(server_start(&s, AF_INET, SERVE_SILENT, 0, 0, NULL), 0);
	assert_int_equal(health_http_get("127.0.0.1", s.port, "/", 200 * MS, &status), -ETIMEDOUT);
	server_stop(&s);

	assert_int_equal(health_http_get("192.168.1.1", 80, "/", USEC_PER_SEC, &status), -EINVAL);
	assert_int_equal(health_http_get("example.com", 80, "/", USEC_PER_SEC, &status), -EINVAL);
	assert_int_equal(health_http_get("127.0.0.1", 80, "no-slash", USEC_PER_SEC, &status), -EINVAL);
	assert_int_equal(health_http_get("127.0.0.1", 0, "/", USEC_PER_SEC, &status), -EINVAL);
	assert_int_equal(status, 7);
}

static void test_tcp_probe(void **state)
{
	struct health_spec spec = { .timeout = USEC_PER_SEC };
	struct probe_result res;
	char want[128];
	uint16_t port;
	int fd;

	fd = bound_socket(AF_INET, true, &port);
	assert_true(fd >= 0);
	spec.tcp_host = "127.0.0.1";
	spec.tcp_port = port;
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_true(res.healthy);
	assert_int_equal(res.http_status, 0);
	snprintf(want, sizeof(want), "TCP connect to 127.0.0.1:%u succeeded", port);
	assert_string_equal(res.reason, want);

	spec.tcp_host = "localhost";
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_true(res.healthy);
	close(fd);

	spec.tcp_host = "127.0.0.1";
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	snprintf(want, sizeof(want), "connection refused on 127.0.0.1:%u", port);
	assert_string_equal(res.reason, want);

	spec.tcp_host = "localhost";
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	snprintf(want, sizeof(want), "connection refused on localhost:%u", port);
	assert_string_equal(res.reason, want);

	if (ipv6_loopback_usable()) {
		fd = bound_socket(AF_INET6, true, &port);
		assert_true(fd >= 0);
		spec.tcp_host = "::1";
		spec.tcp_port = port;
		assert_int_equal(health_probe(&spec, &res), 0);
		assert_true(res.healthy);
		snprintf(want, sizeof(want), "TCP connect to [::1]:%u succeeded", port);
		assert_string_equal(res.reason, want);
		close(fd);
	}
}

static void test_listen_probe(void **state)
{
	struct health_spec spec = { .timeout = USEC_PER_SEC };
	struct probe_result res;
	char want[128];
	uint16_t port;
	int fd;

	fd = bound_socket(AF_INET, true, &port);
	assert_true(fd >= 0);
	spec.listen_port = port;
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_true(res.healthy);
	snprintf(want, sizeof(want), "port %u is listening", port);
	assert_string_equal(res.reason, want);
	close(fd);

	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	snprintf(want, sizeof(want), "nothing listens on port %u", port);
	assert_string_equal(res.reason, want);

	/* bound but not listening is not listening */
	fd = bound_socket(AF_INET, false, &port);
	assert_true(fd >= 0);
	spec.listen_port = port;
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	close(fd);
}

/* All configured probes must pass; the first failure is the reason. */
static void test_all_must_pass(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	char want[128];
	uint16_t closed = closed_port();

	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 200, 0, NULL), 0);

	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.listen_port = s.port;
	spec.tcp_host = "127.0.0.1";
	spec.tcp_port = s.port;
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_true(res.healthy);
	assert_string_equal(res.reason, "HTTP 200");

	spec.listen_port = closed;
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	assert_int_equal(res.http_status, 0);
	snprintf(want, sizeof(want), "nothing listens on port %u", closed);
	assert_string_equal(res.reason, want);

	spec.listen_port = s.port;
	spec.tcp_port = closed;
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	snprintf(want, sizeof(want), "connection refused on 127.0.0.1:%u", closed);
	assert_string_equal(res.reason, want);

	spec.tcp_port = s.port;
	spec.http_expect = "204";
	assert_int_equal(health_probe(&spec, &res), 0);
	assert_false(res.healthy);
	assert_int_equal(res.http_status, 200);

	server_stop(&s);
}

static void test_invalid(void **state)
{
	struct health_spec spec = {};
	struct probe_result res = { .reason = "untouched" };
	usec_t elapsed = 42;

	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	assert_int_equal(health_probe(NULL, &res), -EINVAL);
	assert_int_equal(health_wait_ready(&spec, &res, &elapsed), -EINVAL);

	spec = http_spec("example.com", 80, NULL);
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	spec = http_spec("10.1.2.3", 80, NULL);
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	spec = http_spec("::2", 80, NULL);
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	spec = http_spec("", 80, NULL);
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	spec = http_spec("127.0.0.1", 80, NULL);
	spec.http_path = "healthz";
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	spec.http_path = "/a b";
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	spec.http_path = "/x\r\nEvil: 1";
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	spec.http_path = "/";
	spec.http_expect = "2yy";
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	spec = (struct health_spec){ .tcp_host = "8.8.8.8", .tcp_port = 53 };
	assert_int_equal(health_probe(&spec, &res), -EINVAL);
	assert_int_equal(health_wait_ready(&spec, &res, &elapsed), -EINVAL);

	assert_string_equal(res.reason, "untouched");
	assert_int_equal(elapsed, 42);
}

/* The service starts listening 300 ms (+ slack) after the wait began. */
static void test_wait_ready_delayed(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	usec_t elapsed = 0, t0;
	int r;

	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 200, 320, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.interval = 5 * USEC_PER_SEC; /* supervision period: not used while waiting */
	spec.ready_timeout = 5 * USEC_PER_SEC;

	t0 = now_usec();
	server_go(&s, t0);
	r = health_wait_ready(&spec, &res, &elapsed);
	server_stop(&s);

	assert_int_equal(r, 0);
	assert_true(res.healthy);
	assert_string_equal(res.reason, "HTTP 200");
	assert_true(elapsed >= 300 * MS);
	/* found within one fast poll period of listening (generous for valgrind) */
	assert_true(elapsed < 320 * MS + HEALTH_READY_POLL_USEC + 400 * MS);

	/* the same with the listen probe only */
	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 200, 320, NULL), 0);
	spec = (struct health_spec){ .listen_port = s.port, .ready_timeout = 5 * USEC_PER_SEC };
	server_go(&s, now_usec());
	r = health_wait_ready(&spec, &res, &elapsed);
	server_stop(&s);
	assert_int_equal(r, 0);
	assert_true(elapsed >= 300 * MS);
}

static void test_wait_ready_immediate(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	usec_t elapsed = 0;

	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 204, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.start_period = 10 * USEC_PER_SEC; /* a success during start_period counts */
	assert_int_equal(health_wait_ready(&spec, &res, &elapsed), 0);
	server_stop(&s);
	assert_true(res.healthy);
	assert_true(elapsed < 500 * MS); /* the first probe is immediate */
}

static void test_wait_ready_timeout(void **state)
{
	struct server s;
	struct health_spec spec;
	struct probe_result res;
	usec_t elapsed = 42, t0, took;
	char want[128];
	uint16_t port = closed_port();

	/* refused all along */
	spec = http_spec("127.0.0.1", port, NULL);
	spec.ready_timeout = 400 * MS;
	t0 = now_usec();
	assert_int_equal(health_wait_ready(&spec, &res, &elapsed), -ETIMEDOUT);
	took = now_usec() - t0;
	assert_int_equal(elapsed, 42);
	assert_false(res.healthy);
	snprintf(want, sizeof(want), "connection refused on 127.0.0.1:%u", port);
	assert_string_equal(res.reason, want);
	assert_true(took >= 400 * MS);
	assert_true(took < 900 * MS);

	/* unhealthy answers: the last one is reported */
	assert_int_equal(server_start(&s, AF_INET, SERVE_STATUS, 503, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.ready_timeout = 300 * MS;
	assert_int_equal(health_wait_ready(&spec, &res, NULL), -ETIMEDOUT);
	server_stop(&s);
	assert_int_equal(res.http_status, 503);
	assert_non_null(startswith(res.reason, "HTTP 503 from http://127.0.0.1:"));

	/* a hanging service: the probe (timeout 2s) is cut short at the ready deadline */
	assert_int_equal(server_start(&s, AF_INET, SERVE_SILENT, 0, 0, NULL), 0);
	spec = http_spec("127.0.0.1", s.port, NULL);
	spec.ready_timeout = 300 * MS;
	t0 = now_usec();
	assert_int_equal(health_wait_ready(&spec, &res, NULL), -ETIMEDOUT);
	took = now_usec() - t0;
	server_stop(&s);
	assert_true(took >= 300 * MS);
	assert_true(took < 800 * MS);
	assert_non_null(startswith(res.reason, "timed out after "));

	/* start_period longer than ready_timeout: waiting lasts the start period */
	spec = http_spec("127.0.0.1", port, NULL);
	spec.ready_timeout = 100 * MS;
	spec.start_period = 500 * MS;
	t0 = now_usec();
	assert_int_equal(health_wait_ready(&spec, &res, NULL), -ETIMEDOUT);
	took = now_usec() - t0;
	assert_true(took >= 500 * MS);
	assert_true(took < USEC_PER_SEC);
}

static void test_now_usec(void **state)
{
	usec_t a = now_usec(), b;

	sleep_ms(20);
	b = now_usec();
	assert_true(a > 0);
	assert_true(b - a >= 20 * MS);
	assert_true(b - a < 2 * USEC_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_now_usec),
		cmocka_unit_test(test_http_status),
		cmocka_unit_test(test_http_expect_sets),
		cmocka_unit_test(test_http_ipv6),
		cmocka_unit_test(test_http_request_format),
		cmocka_unit_test(test_http_localhost),
		cmocka_unit_test(test_http_garbage),
		cmocka_unit_test(test_http_timeout),
		cmocka_unit_test(test_http_closes),
		cmocka_unit_test(test_http_answer_then_reset),
		cmocka_unit_test(test_http_large_body_read_to_end),
		cmocka_unit_test(test_http_endless_body_bounded),
		cmocka_unit_test(test_reason_truncated),
		cmocka_unit_test(test_http_refused),
		cmocka_unit_test(test_http_get),
		cmocka_unit_test(test_tcp_probe),
		cmocka_unit_test(test_listen_probe),
		cmocka_unit_test(test_all_must_pass),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_wait_ready_immediate),
		cmocka_unit_test(test_wait_ready_delayed),
		cmocka_unit_test(test_wait_ready_timeout),
	};

	/* SIGPIPE is left at its default on purpose: the probes must not raise it (MSG_NOSIGNAL) */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
