/* test-sockdiag.c - listeners, accept queues and per-state counts from NETLINK_SOCK_DIAG
 *
 * Everything happens on loopback with ephemeral ports. Counts on a port are compared before and
 * after, and against an independent userspace filter (/proc/net/tcp and tcp6), since the host
 * may have other sockets. IPv6 parts are skipped when ::1 is not usable.
 */
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "macro.h"
#include "sockdiag.h"

#define BACKLOG 7
#define N_CLIENTS 5
#define N_MANY 400

static uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

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

/* Listens on the loopback address of family; port 0 = ephemeral. Returns fd or -errno. */
static int listen_on(int family, uint16_t port, int backlog, uint16_t *ret_port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (ret_port)
		*ret_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static int connect_to(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(family, port, &ss);
	int fd;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static uint16_t local_port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static bool ipv6_loopback_usable(void)
{
	int fd = listen_on(AF_INET6, 0, 1, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The userspace filter: per-state counts of sockets whose local port is port, from
 * /proc/net/tcp and /proc/net/tcp6 (st column: the kernel's TCP_* number, hex). */
static void proc_count_states(uint16_t port, uint64_t counts[TCPS_MAX_STATES])
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };

	memset(counts, 0, TCPS_MAX_STATES * sizeof(uint64_t));
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_fclose_ FILE *f = fopen(files[i], "re");
		char line[512];

		if (!f)
			continue; /* no IPv6 */
		if (!fgets(line, sizeof(line), f)) /* header */
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned lport, st;

			if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &lport, &st) != 2)
				continue;
			if (lport != port || st == 0 || st >= TCPS_MAX_STATES)
				continue;
			if (st == TCPS_NEW_SYN_RECV)
				st = TCPS_SYN_RECV;
			counts[st]++;
		}
	}
}

static void assert_counts_match_proc(uint16_t port)
{
	uint64_t kernel[TCPS_MAX_STATES], user[TCPS_MAX_STATES];

	/* /proc/net/tcp is the whole host's: another process's short-lived connection that happens to
	 * use the same port number (parallel tests; seen once: 4 more ESTABLISHED in /proc) comes
	 * and goes between the two reads. Compare again, a few times, before calling it a mismatch. */
	for (int attempt = 0; attempt < 5; attempt++) {
		assert_int_equal(sockdiag_count_states(port, kernel), 0);
		proc_count_states(port, user);
		if (memcmp(kernel + 1, user + 1, sizeof(kernel) - sizeof(kernel[0])) == 0)
			return;
		(void)usleep(200 * 1000);
	}
	for (int s = 1; s < TCPS_MAX_STATES; s++) {
		if (kernel[s] != user[s])
			print_error("port %u state %s: sock_diag %" PRIu64 ", /proc/net %" PRIu64 "\n",
				    port, tcp_state_name(s), kernel[s], user[s]);
		assert_int_equal(kernel[s], user[s]);
	}
}

/* Waits (bounded, 3 s) until counts on port have state == want. */
static void wait_state_count(uint16_t port, int state, uint64_t want)
{
	uint64_t counts[TCPS_MAX_STATES];

	for (unsigned i = 0; i < 300; i++) {
		assert_int_equal(sockdiag_count_states(port, counts), 0);
		if (counts[state] == want)
			return;
		sleep_ms(10);
	}
	print_error("port %u: %s is %" PRIu64 ", want %" PRIu64 "\n", port, tcp_state_name(state),
		    counts[state], want);
	fail();
}

/* cgroup ID of this process: the inode of its cgroup v2 directory; 0 if not found. */
static uint64_t own_cgroup_id(void)
{
	static const char *const mounts[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096], path[4200];
	const char *rel = NULL;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		rel = startswith(line, "0::");
		if (rel)
			break;
	}
	if (!rel)
		return 0;
	line[strcspn(line, "\n")] = '\0';

	for (size_t i = 0; i < ELEMENTSOF(mounts); i++) {
		struct statfs sfs;
		struct stat st;

		if (statfs(mounts[i], &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		snprintf(path, sizeof(path), "%s%s", mounts[i], rel);
		if (stat(path, &st) < 0)
			return 0;
		return st.st_ino;
	}
	return 0;
}

static void test_state_names(void **state)
{
	assert_string_equal(tcp_state_name(TCPS_ESTABLISHED), "ESTABLISHED");
	assert_string_equal(tcp_state_name(TCPS_SYN_SENT), "SYN_SENT");
	assert_string_equal(tcp_state_name(TCPS_SYN_RECV), "SYN_RECV");
	assert_string_equal(tcp_state_name(TCPS_FIN_WAIT1), "FIN_WAIT1");
	assert_string_equal(tcp_state_name(TCPS_FIN_WAIT2), "FIN_WAIT2");
	assert_string_equal(tcp_state_name(TCPS_TIME_WAIT), "TIME_WAIT");
	assert_string_equal(tcp_state_name(TCPS_CLOSE), "CLOSE");
	assert_string_equal(tcp_state_name(TCPS_CLOSE_WAIT), "CLOSE_WAIT");
	assert_string_equal(tcp_state_name(TCPS_LAST_ACK), "LAST_ACK");
	assert_string_equal(tcp_state_name(TCPS_LISTEN), "LISTEN");
	assert_string_equal(tcp_state_name(TCPS_CLOSING), "CLOSING");
	assert_string_equal(tcp_state_name(TCPS_NEW_SYN_RECV), "NEW_SYN_RECV");
	assert_null(tcp_state_name(0));
	assert_null(tcp_state_name(TCPS_MAX_STATES));
	assert_null(tcp_state_name(-1));
	assert_null(tcp_state_name(255));
}

static const struct listen_socket *find_listener(const struct listen_socket *l, size_t n, int family,
						 uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].family == family && l[i].port == port)
			return &l[i];
	return NULL;
}

static void check_listener(const struct listen_socket *s, int fd, const char *addr, uint16_t port,
			   uint32_t queue, uint64_t cgroup_id)
{
	struct stat st;

	assert_non_null(s);
	assert_int_equal(fstat(fd, &st), 0);
	assert_string_equal(s->addr, addr);
	assert_int_equal(s->port, port);
	assert_int_equal(s->accept_queue_max, BACKLOG);
	assert_int_equal(s->accept_queue, queue);
	assert_int_equal(s->inode, st.st_ino);
	if (cgroup_id != 0)
		assert_int_equal(s->cgroup_id, cgroup_id);
}

/* Waits (bounded) until the listener on port/family has queue connections waiting. */
static void wait_accept_queue(int family, uint16_t port, uint32_t queue)
{
	for (unsigned i = 0; i < 300; i++) {
		_cleanup_free_ struct listen_socket *l = NULL;
		const struct listen_socket *s;
		size_t n;

		assert_int_equal(sockdiag_listeners(port, &l, &n), 0);
		s = find_listener(l, n, family, port);
		assert_non_null(s);
		if (!s) /* cmocka's assert is not noreturn: keep -Wnull-dereference quiet */
			return;
		if (s->accept_queue == queue)
			return;
		sleep_ms(10);
	}
	fail_msg("accept queue on port %u never reached %u", port, queue);
}

static void test_listeners(void **state)
{
	_cleanup_free_ struct listen_socket *l = NULL;
	_cleanup_close_ int fd4 = -1, fd6 = -1;
	int clients[N_CLIENTS + 3];
	bool v6 = ipv6_loopback_usable();
	uint64_t cg = own_cgroup_id();
	uint16_t port;
	size_t n;

	fd4 = listen_on(AF_INET, 0, BACKLOG, &port);
	assert_true(fd4 >= 0);
	if (v6) {
		fd6 = listen_on(AF_INET6, port, BACKLOG, NULL);
		if (fd6 < 0) /* someone holds the port on ::1: use another pair */
			v6 = false;
	}

	assert_int_equal(sockdiag_listeners(port, &l, &n), 0);
	assert_int_equal(n, v6 ? 2 : 1);
	check_listener(find_listener(l, n, AF_INET, port), fd4, "127.0.0.1", port, 0, cg);
	if (v6)
		check_listener(find_listener(l, n, AF_INET6, port), fd6, "::1", port, 0, cg);
	free(TAKE_PTR(l));

	/* 5 clients on 127.0.0.1 and 3 on ::1, none accepted */
	for (int i = 0; i < N_CLIENTS; i++) {
		clients[i] = connect_to(AF_INET, port);
		assert_true(clients[i] >= 0);
	}
	for (int i = N_CLIENTS; i < N_CLIENTS + 3; i++)
		clients[i] = v6 ? connect_to(AF_INET6, port) : -1;

	wait_accept_queue(AF_INET, port, N_CLIENTS);
	if (v6)
		wait_accept_queue(AF_INET6, port, 3);

	assert_int_equal(sockdiag_listeners(port, &l, &n), 0);
	assert_int_equal(n, v6 ? 2 : 1);
	check_listener(find_listener(l, n, AF_INET, port), fd4, "127.0.0.1", port, N_CLIENTS, cg);
	if (v6)
		check_listener(find_listener(l, n, AF_INET6, port), fd6, "::1", port, 3, cg);
	free(TAKE_PTR(l));

	/* every port: ours are among them */
	assert_int_equal(sockdiag_listeners(0, &l, &n), 0);
	assert_true(n >= (v6 ? 2u : 1u));
	check_listener(find_listener(l, n, AF_INET, port), fd4, "127.0.0.1", port, N_CLIENTS, cg);
	free(TAKE_PTR(l));

	for (int i = 0; i < N_CLIENTS + 3; i++)
		if (clients[i] >= 0)
			close(clients[i]);
}

static void test_listeners_none(void **state)
{
	_cleanup_free_ struct listen_socket *l = NULL;
	_cleanup_close_ int fd = -1;
	uint16_t port;
	size_t n = 99;

	/* a port that surely has no listener: bind one, close it */
	fd = listen_on(AF_INET, 0, 1, &port);
	assert_true(fd >= 0);
	close(TAKE_FD(fd));

	assert_int_equal(sockdiag_listeners(port, &l, &n), 0);
	assert_int_equal(n, 0);
	free(TAKE_PTR(l));

	assert_int_equal(sockdiag_listeners(port, NULL, &n), -EINVAL);
}

static void test_port_listening(void **state)
{
	_cleanup_close_ int fd = -1;
	uint16_t port;

	fd = listen_on(AF_INET, 0, BACKLOG, &port);
	assert_true(fd >= 0);
	assert_int_equal(sockdiag_port_listening(port), 1);
	close(TAKE_FD(fd));
	assert_int_equal(sockdiag_port_listening(port), 0);

	if (ipv6_loopback_usable()) {
		fd = listen_on(AF_INET6, 0, BACKLOG, &port);
		assert_true(fd >= 0);
		assert_int_equal(sockdiag_port_listening(port), 1);
		close(TAKE_FD(fd));
		assert_int_equal(sockdiag_port_listening(port), 0);
	}

	assert_int_equal(sockdiag_port_listening(0), -EINVAL);
}

static int accept_one(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, 3000) != 1)
		return -ETIMEDOUT;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* The connection life cycle seen from the server's port. Only sockets whose LOCAL port is the
 * filter port are counted: on loopback each connection has two ends, and the client's end
 * (local port = its ephemeral port) is not among them. */
static void test_count_states(void **state)
{
	_cleanup_close_ int lfd = -1;
	uint64_t base[TCPS_MAX_STATES], c[TCPS_MAX_STATES], all[TCPS_MAX_STATES];
	int clients[N_CLIENTS], servers[N_CLIENTS];
	uint16_t port;

	lfd = listen_on(AF_INET, 0, BACKLOG, &port);
	assert_true(lfd >= 0);

	/* the port may still carry TIME_WAIT sockets of an earlier user of it: count from here */
	assert_int_equal(sockdiag_count_states(port, base), 0);
	assert_int_equal(base[TCPS_LISTEN], 1);
	assert_counts_match_proc(port);

	for (int i = 0; i < N_CLIENTS; i++) {
		clients[i] = connect_to(AF_INET, port);
		assert_true(clients[i] >= 0);
		servers[i] = accept_one(lfd);
		assert_true(servers[i] >= 0);
	}

	assert_int_equal(sockdiag_count_states(port, c), 0);
	assert_int_equal(c[TCPS_LISTEN], 1);
	assert_int_equal(c[TCPS_ESTABLISHED], base[TCPS_ESTABLISHED] + N_CLIENTS);
	assert_counts_match_proc(port);

	/* the client ends: one ESTABLISHED socket on each client port */
	for (int i = 0; i < N_CLIENTS; i++) {
		uint64_t cc[TCPS_MAX_STATES];

		assert_int_equal(sockdiag_count_states(local_port_of(clients[i]), cc), 0);
		assert_true(cc[TCPS_ESTABLISHED] >= 1);
	}

	/* the whole host: at least both ends of each connection */
	assert_int_equal(sockdiag_count_states(0, all), 0);
	assert_true(all[TCPS_ESTABLISHED] >= 2 * N_CLIENTS);
	assert_true(all[TCPS_LISTEN] >= 1);

	/* the server closes first: its ends go to FIN_WAIT2, the clients' to CLOSE_WAIT */
	for (int i = 0; i < N_CLIENTS; i++)
		close(servers[i]);
	wait_state_count(port, TCPS_FIN_WAIT2, base[TCPS_FIN_WAIT2] + N_CLIENTS);
	assert_int_equal(sockdiag_count_states(port, c), 0);
	assert_int_equal(c[TCPS_ESTABLISHED], base[TCPS_ESTABLISHED]);
	assert_int_equal(c[TCPS_CLOSE_WAIT], base[TCPS_CLOSE_WAIT]);
	for (int i = 0; i < N_CLIENTS; i++)
		wait_state_count(local_port_of(clients[i]), TCPS_CLOSE_WAIT, 1);
	assert_int_equal(sockdiag_count_states(0, all), 0);
	assert_true(all[TCPS_CLOSE_WAIT] >= N_CLIENTS);
	assert_true(all[TCPS_FIN_WAIT2] >= N_CLIENTS);
	assert_counts_match_proc(port);

	/* then the clients close: the server ends wait in TIME_WAIT */
	for (int i = 0; i < N_CLIENTS; i++)
		close(clients[i]);
	wait_state_count(port, TCPS_TIME_WAIT, base[TCPS_TIME_WAIT] + N_CLIENTS);
	assert_int_equal(sockdiag_count_states(port, c), 0);
	assert_int_equal(c[TCPS_FIN_WAIT2], base[TCPS_FIN_WAIT2]);
	assert_int_equal(c[TCPS_LISTEN], 1);
	assert_counts_match_proc(port);

	assert_int_equal(sockdiag_count_states(0, all), 0);
	for (int s = 1; s < TCPS_MAX_STATES; s++)
		assert_true(all[s] >= c[s]);
	assert_int_equal(all[TCPS_NEW_SYN_RECV], 0); /* folded into SYN_RECV */

	assert_int_equal(sockdiag_count_states(port, NULL), -EINVAL);
}

/* Enough sockets on one port that the answer needs several 32 KiB datagrams (NLM_F_MULTI). */
static void test_count_many(void **state)
{
	_cleanup_close_ int lfd = -1;
	_cleanup_free_ int *fds = NULL;
	_cleanup_free_ struct listen_socket *l = NULL;
	uint64_t base[TCPS_MAX_STATES], c[TCPS_MAX_STATES];
	struct rlimit rl;
	size_t n_many = N_MANY, n;
	uint16_t port;
	uint64_t t0;

	/* 2 fds per connection: stay within the soft limit, raising it up to the hard one */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2 * N_MANY + 64 && rl.rlim_max >= 2 * N_MANY + 64) {
		rl.rlim_cur = 2 * N_MANY + 64;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur < 2 * N_MANY + 64)
		n_many = (rl.rlim_cur - 64) / 2;

	fds = calloc(2 * n_many, sizeof(int));
	assert_non_null(fds);

	lfd = listen_on(AF_INET, 0, 64, &port);
	assert_true(lfd >= 0);
	assert_int_equal(sockdiag_count_states(port, base), 0);

	for (size_t i = 0; i < n_many; i++) {
		fds[2 * i] = connect_to(AF_INET, port);
		assert_true(fds[2 * i] >= 0);
		fds[2 * i + 1] = accept_one(lfd);
		assert_true(fds[2 * i + 1] >= 0);
	}

	t0 = mono_usec();
	assert_int_equal(sockdiag_count_states(port, c), 0);
	assert_true(mono_usec() - t0 < 1000000);
	assert_int_equal(c[TCPS_ESTABLISHED], base[TCPS_ESTABLISHED] + n_many);
	assert_counts_match_proc(port);

	/* all ports: both ends of each */
	t0 = mono_usec();
	assert_int_equal(sockdiag_count_states(0, c), 0);
	assert_true(mono_usec() - t0 < 1000000);
	assert_true(c[TCPS_ESTABLISHED] >= 2 * n_many);

	assert_int_equal(sockdiag_listeners(0, &l, &n), 0);
	assert_non_null(find_listener(l, n, AF_INET, port));

	for (size_t i = 0; i < 2 * n_many; i++)
		close(fds[i]);
}

/* One dump for everything (berth net): each port gets exactly what the filtered dumps of
 * sockdiag_listeners() and sockdiag_count_states(port) say, a port listed twice gets it twice,
 * and the host's counts are those of sockdiag_count_states(0). */
static void test_scan(void **state)
{
	_cleanup_close_ int la = -1, lb = -1, lc = -1;
	int clients[N_CLIENTS], servers[N_CLIENTS];
	struct sockdiag_port ports[4] = { 0 };
	uint64_t host[TCPS_MAX_STATES], want[TCPS_MAX_STATES];
	uint16_t a, b, c;

	la = listen_on(AF_INET, 0, BACKLOG, &a);
	lb = listen_on(AF_INET, 0, BACKLOG, &b);
	lc = listen_on(AF_INET, 0, BACKLOG, &c);
	assert_true(la >= 0 && lb >= 0 && lc >= 0);
	for (int i = 0; i < N_CLIENTS; i++) {
		clients[i] = connect_to(AF_INET, a);
		assert_true(clients[i] >= 0);
		servers[i] = accept_one(la);
		assert_true(servers[i] >= 0);
	}
	/* c is free again: nothing listens on it and no socket has it as its local port */
	close(TAKE_FD(lc));

	ports[0].port = a;
	ports[1].port = b;
	ports[2].port = a;
	ports[3].port = c;
	assert_int_equal(sockdiag_scan(ports, 4, host), 0);
	for (size_t i = 0; i < 4; i++) {
		_cleanup_free_ struct listen_socket *l = NULL;
		size_t n;

		assert_int_equal(sockdiag_count_states(ports[i].port, want), 0);
		for (int s = 1; s < TCPS_MAX_STATES; s++)
			assert_int_equal(ports[i].states[s], want[s]);
		assert_int_equal(sockdiag_listeners(ports[i].port, &l, &n), 0);
		assert_int_equal(ports[i].n_listeners, n);
		for (size_t k = 0; k < n; k++) {
			assert_int_equal(ports[i].listeners[k].inode, l[k].inode);
			assert_int_equal(ports[i].listeners[k].port, ports[i].port);
			assert_string_equal(ports[i].listeners[k].addr, "127.0.0.1");
		}
	}
	assert_int_equal(ports[0].states[TCPS_ESTABLISHED], N_CLIENTS);
	assert_int_equal(ports[0].states[TCPS_LISTEN], 1);
	assert_int_equal(ports[0].n_listeners, 1);
	assert_int_equal(ports[1].states[TCPS_ESTABLISHED], 0);
	assert_int_equal(ports[1].n_listeners, 1);
	assert_int_equal(ports[2].states[TCPS_ESTABLISHED], N_CLIENTS);
	assert_int_equal(ports[3].n_listeners, 0);
	assert_null(ports[3].listeners);
	assert_int_equal(ports[3].states[TCPS_LISTEN], 0);

	/* the host: both ends of each connection, and the two listeners (other processes may open
	 * and close sockets meanwhile, so not an exact match with a second dump) */
	assert_true(host[TCPS_ESTABLISHED] >= 2 * N_CLIENTS);
	assert_true(host[TCPS_LISTEN] >= 2);
	assert_int_equal(host[TCPS_NEW_SYN_RECV], 0);
	for (size_t i = 0; i < 4; i++)
		sockdiag_port_release(&ports[i]);
	assert_null(ports[0].listeners);

	/* nothing asked but the host */
	assert_int_equal(sockdiag_scan(NULL, 0, host), 0);
	assert_true(host[TCPS_ESTABLISHED] >= 2 * N_CLIENTS);
	/* port 0 is no port; the host's counts are not optional */
	ports[0].port = 0;
	assert_int_equal(sockdiag_scan(ports, 1, host), -EINVAL);
	assert_null(ports[0].listeners);
	ports[0].port = a;
	assert_int_equal(sockdiag_scan(ports, 1, NULL), -EINVAL);

	for (int i = 0; i < N_CLIENTS; i++) {
		close(clients[i]);
		close(servers[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_listeners_none),
		cmocka_unit_test(test_port_listening),
		cmocka_unit_test(test_count_states),
		cmocka_unit_test(test_count_many),
		cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
