/* sockdiag.h - TCP socket facts from the kernel through NETLINK_SOCK_DIAG (libmnl)
 *
 * No connection is made and /proc/net/tcp is not parsed: one netlink dump per address family,
 * filtered in the kernel by state mask (and by port with inet_diag bytecode where given).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum tcp_state_index {
	/* the kernel's TCP_* numbering (include/net/tcp_states.h) */
	TCPS_ESTABLISHED = 1,
	TCPS_SYN_SENT,
	TCPS_SYN_RECV,
	TCPS_FIN_WAIT1,
	TCPS_FIN_WAIT2,
	TCPS_TIME_WAIT,
	TCPS_CLOSE,
	TCPS_CLOSE_WAIT,
	TCPS_LAST_ACK,
	TCPS_LISTEN,
	TCPS_CLOSING,
	TCPS_NEW_SYN_RECV,
	TCPS_MAX_STATES,
};

struct listen_socket {
	int family;           /* AF_INET / AF_INET6 */
	char addr[64];        /* printable local address */
	uint16_t port;
	uint32_t accept_queue;     /* idiag_rqueue: connections waiting for accept() */
	uint32_t accept_queue_max; /* idiag_wqueue: the backlog (min(app's, somaxconn)) */
	uint64_t inode;
	uint64_t cgroup_id;   /* INET_DIAG_CGROUP_ID (kernel ≥ 5.7), 0 if unknown */
};

/* Listening TCP sockets on port (0 = all ports), both families. *ret is malloc'ed (NULL when
 * *ret_n is 0); both are set only on success. */
int sockdiag_listeners(uint16_t port, struct listen_socket **ret, size_t *ret_n);
/* Is anything listening on port (any local address)? 1 yes, 0 no, -errno; port 0 is -EINVAL. */
int sockdiag_port_listening(uint16_t port);
/* Counts sockets per TCP state, both families; local_port 0 = every socket on the host.
 * counts has TCPS_MAX_STATES entries, indexed by enum tcp_state_index.
 * With a port, only sockets whose LOCAL port is local_port are counted (filtered in the kernel
 * by inet_diag bytecode): on loopback a connection has two ends, and only the server's end is
 * counted for the server's port. Request sockets (half-open connections, TCP_NEW_SYN_RECV in
 * the kernel) are counted as SYN_RECV, as the kernel reports them; counts[TCPS_NEW_SYN_RECV]
 * stays 0. Bound but inactive sockets (TCP_BOUND_INACTIVE, kernel ≥ 6.7) are not counted.
 * An inconsistent dump is redone (bounded; then -EAGAIN). Fast: ~100k sockets in well under
 * 100 ms, one 32 KiB buffer, no allocation per socket. */
int sockdiag_count_states(uint16_t local_port, uint64_t counts[TCPS_MAX_STATES]);
/* One port's share of a sockdiag_scan(): the listeners on it and its sockets by state, counted
 * as sockdiag_listeners() and sockdiag_count_states(port) would. */
struct sockdiag_port {
	uint16_t port;                    /* set by the caller (not 0) */
	struct listen_socket *listeners;  /* malloc'ed, NULL when n_listeners is 0 */
	size_t n_listeners;
	uint64_t states[TCPS_MAX_STATES];
};

/* Everything `berth net` needs from ONE dump of the host's TCP sockets (one request per address
 * family, no kernel filter): host[] counts every socket by state, as sockdiag_count_states(0), and
 * each ports[i] gets its listeners and the counts of the sockets whose local port it is. A port
 * may appear more than once (each entry gets the same). On failure nothing is allocated. */
int sockdiag_scan(struct sockdiag_port *ports, size_t n_ports, uint64_t host[TCPS_MAX_STATES]);
void sockdiag_port_release(struct sockdiag_port *p);

/* "ESTABLISHED", "SYN_SENT", ..., "LISTEN", "NEW_SYN_RECV"; NULL outside 1..TCPS_MAX_STATES-1. */
const char *tcp_state_name(int state);
