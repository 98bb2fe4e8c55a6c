/* sockdiag.c - TCP socket facts from the kernel through NETLINK_SOCK_DIAG (libmnl)
 *
 * One SOCK_DIAG_BY_FAMILY dump per address family (AF_INET, then AF_INET6), with the state
 * mask and, when a port is given, an INET_DIAG_REQ_BYTECODE program so that the kernel only
 * sends the sockets whose local port matches. Each dump is read with one 32 KiB buffer (the
 * most the kernel puts in one datagram of a dump) and parsed by mnl_cb_run2() with a data
 * callback that fills a typed struct; callbacks never print.
 *
 * If the kernel marks a dump inconsistent (NLM_F_DUMP_INTR, surfaced by libmnl as EINTR), the
 * whole dump of both families is redone on a fresh socket, a bounded number of times.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "macro.h"
#include "sockdiag.h"

/* The kernel caps one dump datagram at 32 KiB (netlink max_recvmsg_len); a bigger buffer would
 * not make dumps faster. */
#define SOCKDIAG_RECV_SIZE 32768
/* Redo an interrupted (inconsistent) dump at most this many times, then -EAGAIN. */
#define SOCKDIAG_DUMP_ATTEMPTS 8

/* Every state of enum tcp_state_index: bits 1..12. Bit 13 (TCP_BOUND_INACTIVE, kernel ≥ 6.7:
 * bound but neither listening nor connected) is deliberately left out. */
#define SOCKDIAG_ALL_STATES (((UINT32_C(1) << TCPS_MAX_STATES) - 1) & ~UINT32_C(1))

static void mnl_socket_closep(struct mnl_socket **nl)
{
	if (*nl)
		(void)mnl_socket_close(*nl);
}

/* One dump: what to ask for and what to do with each answer. */
struct sockdiag_dump {
	uint32_t states;   /* idiag_states mask: 1 << state */
	uint16_t port;     /* local port filter (bytecode), 0 = none */
	bool port_ge_le;   /* use the S_GE + S_LE pair instead of S_EQ (older kernels) */
	mnl_cb_t cb;       /* data callback, once per socket */
	void (*reset)(void *data); /* called before each attempt of the whole dump */
	void *data;
};

/* Writes the port filter bytecode into ops (room for 4), returns its length in bytes.
 *
 * The kernel runs it as: at each op, if the test holds jump op->yes bytes, else op->no bytes;
 * the socket is accepted if the program ends exactly at its length, rejected if a jump goes 4
 * bytes past it. Port tests take the port (host order) in the `no` field of the following op,
 * which the `yes` jump of 8 bytes skips. */
static size_t sockdiag_port_bytecode(struct inet_diag_bc_op ops[4], uint16_t port, bool ge_le)
{
	size_t len;

	memset(ops, 0, 4 * sizeof(struct inet_diag_bc_op));
	if (!ge_le) {
		len = 2 * sizeof(struct inet_diag_bc_op);
		ops[0] = (struct inet_diag_bc_op){ .code = INET_DIAG_BC_S_EQ, .yes = 8, .no = len + 4 };
		ops[1] = (struct inet_diag_bc_op){ .no = port };
		return len;
	}

	len = 4 * sizeof(struct inet_diag_bc_op);
	ops[0] = (struct inet_diag_bc_op){ .code = INET_DIAG_BC_S_GE, .yes = 8, .no = len + 4 };
	ops[1] = (struct inet_diag_bc_op){ .no = port };
	ops[2] = (struct inet_diag_bc_op){ .code = INET_DIAG_BC_S_LE, .yes = 8, .no = 8 + 4 };
	ops[3] = (struct inet_diag_bc_op){ .no = port };
	return len;
}

/* NLMSG_DONE of a dump carries the dump's final error code (0 if it went well). */
static int sockdiag_done_cb(const struct nlmsghdr *nlh, void *data)
{
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int err;

		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			errno = -err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int sockdiag_dump_family(struct mnl_socket *nl, uint32_t portid, uint32_t seq, uint8_t family,
				const struct sockdiag_dump *d, char *buf)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {};
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;

	/* The request, built in the (≥ MNL_SOCKET_BUFFER_SIZE) receive buffer before any reply. */
	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;

	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = d->states;
	/* No idiag_ext bits: INET_DIAG_CGROUP_ID (the only attribute read here) is sent for every
	 * full socket without being asked for; idiag_ext only reaches attributes 1-8. */
	req->idiag_ext = 0;

	if (d->port != 0) {
		struct inet_diag_bc_op ops[4];
		size_t len = sockdiag_port_bytecode(ops, d->port, d->port_ge_le);

		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, len, ops);
	}

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return negative_errno();

	ctl[NLMSG_DONE] = sockdiag_done_cb;

	for (;;) {
		ssize_t n;
		int r;

		n = mnl_socket_recvfrom(nl, buf, SOCKDIAG_RECV_SIZE);
		if (n < 0) {
			if (errno == EINTR) /* a signal, not an inconsistent dump: nothing was lost */
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -EPIPE;

		r = mnl_cb_run2(buf, (size_t)n, seq, portid, d->cb, d->data, ctl, ELEMENTSOF(ctl));
		if (r < 0)
			return negative_errno(); /* -EINTR for NLM_F_DUMP_INTR, the kernel's error, ... */
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int sockdiag_dump_once(const struct sockdiag_dump *d, char *buf)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	_cleanup_(mnl_socket_closep) struct mnl_socket *nl = NULL;
	uint32_t portid, seq;

	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl)
		return negative_errno();
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return negative_errno();
	portid = mnl_socket_get_portid(nl);
	seq = (uint32_t)time(NULL);
	if (seq == 0)
		seq = 1;

	for (size_t i = 0; i < ELEMENTSOF(families); i++) {
		int r = sockdiag_dump_family(nl, portid, seq + (uint32_t)i, families[i], d, buf);
		if (r < 0)
			return r;
	}
	return 0;
}

static int sockdiag_dump(struct sockdiag_dump *d)
{
	_cleanup_free_ char *buf = NULL;
	int r = -EAGAIN;

	buf = malloc(SOCKDIAG_RECV_SIZE);
	if (!buf)
		return -ENOMEM;

	for (unsigned attempt = 0; attempt < SOCKDIAG_DUMP_ATTEMPTS; attempt++) {
		d->reset(d->data);
		r = sockdiag_dump_once(d, buf);
		if (r == -EINVAL && d->port != 0 && !d->port_ge_le) {
			/* A kernel without INET_DIAG_BC_S_EQ rejects the program: use S_GE + S_LE. */
			d->port_ge_le = true;
			continue;
		}
		if (r != -EINTR)
			return r;
	}
	return r == -EINTR ? -EAGAIN : r;
}

/* The inet_diag_msg of one answer, or NULL (errno = EBADMSG) if the message is too short. */
static const struct inet_diag_msg *sockdiag_msg(const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct inet_diag_msg)) {
		errno = EBADMSG;
		return NULL;
	}
	return mnl_nlmsg_get_payload(nlh);
}

/* --- sockdiag_listeners --------------------------------------------------------------------- */

struct listeners_data {
	struct listen_socket *items;
	size_t n, allocated;
};

static void listeners_reset(void *data)
{
	struct listeners_data *l = data;

	l->n = 0; /* keep the array for the next attempt */
}

static int listener_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, INET_DIAG_MAX) < 0)
		return MNL_CB_OK; /* newer than our headers: not ours to read */

	switch (type) {
	case INET_DIAG_CGROUP_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

/* Appends the listening socket msg (whose attributes start after it in nlh) to l. */
static int listener_add(struct listeners_data *l, const struct nlmsghdr *nlh, const struct inet_diag_msg *msg)
{
	const struct nlattr *tb[INET_DIAG_MAX + 1] = {};
	struct listen_socket *s;

	if (msg->idiag_family != AF_INET && msg->idiag_family != AF_INET6)
		return MNL_CB_OK;

	if (mnl_attr_parse(nlh, sizeof(*msg), listener_attr_cb, tb) < 0)
		return MNL_CB_ERROR;

	if (l->n == l->allocated) {
		size_t m = l->allocated ? l->allocated * 2 : 16;
		struct listen_socket *p;

		p = reallocarray(l->items, m, sizeof(*p));
		if (!p) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		l->items = p;
		l->allocated = m;
	}

	s = &l->items[l->n];
	memset(s, 0, sizeof(*s));
	s->family = msg->idiag_family;
	if (!inet_ntop(msg->idiag_family, msg->id.idiag_src, s->addr, sizeof(s->addr)))
		return MNL_CB_ERROR;
	s->port = ntohs(msg->id.idiag_sport);
	s->accept_queue = msg->idiag_rqueue;
	s->accept_queue_max = msg->idiag_wqueue;
	s->inode = msg->idiag_inode;
	if (tb[INET_DIAG_CGROUP_ID])
		s->cgroup_id = mnl_attr_get_u64(tb[INET_DIAG_CGROUP_ID]);
	l->n++;
	return MNL_CB_OK;
}

static int listeners_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct inet_diag_msg *msg;

	msg = sockdiag_msg(nlh);
	if (!msg)
		return MNL_CB_ERROR;
	if (msg->idiag_state != TCPS_LISTEN)
		return MNL_CB_OK;
	return listener_add(data, nlh, msg);
}

int sockdiag_listeners(uint16_t port, struct listen_socket **ret, size_t *ret_n)
{
	struct listeners_data l = {};
	struct sockdiag_dump d = {
		.states = UINT32_C(1) << TCPS_LISTEN,
		.port = port,
		.cb = listeners_cb,
		.reset = listeners_reset,
		.data = &l,
	};
	int r;

	if (!ret || !ret_n)
		return -EINVAL;

	r = sockdiag_dump(&d);
	if (r < 0) {
		free(l.items);
		return r;
	}

	*ret = l.items;
	*ret_n = l.n;
	return 0;
}

/* --- counting ------------------------------------------------------------------------------- */

struct count_data {
	uint64_t counts[TCPS_MAX_STATES];
};

static void count_reset(void *data)
{
	struct count_data *c = data;

	memset(c->counts, 0, sizeof(c->counts));
}

/* The state index msg is counted under, 0 if none. */
static uint8_t count_state(const struct inet_diag_msg *msg)
{
	uint8_t state = msg->idiag_state;

	if (state == TCPS_NEW_SYN_RECV) /* the kernel reports request sockets as SYN_RECV already */
		state = TCPS_SYN_RECV;
	return state >= TCPS_MAX_STATES ? 0 : state;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct count_data *c = data;
	const struct inet_diag_msg *msg;
	uint8_t state;

	msg = sockdiag_msg(nlh);
	if (!msg)
		return MNL_CB_ERROR;

	state = count_state(msg);
	if (state)
		c->counts[state]++;
	return MNL_CB_OK;
}

static int sockdiag_count(uint32_t states, uint16_t local_port, uint64_t counts[TCPS_MAX_STATES])
{
	struct count_data c = {};
	struct sockdiag_dump d = {
		.states = states,
		.port = local_port,
		.cb = count_cb,
		.reset = count_reset,
		.data = &c,
	};
	int r;

	r = sockdiag_dump(&d);
	if (r < 0)
		return r;

	memcpy(counts, c.counts, sizeof(c.counts));
	return 0;
}

int sockdiag_port_listening(uint16_t port)
{
	uint64_t counts[TCPS_MAX_STATES];
	int r;

	if (port == 0)
		return -EINVAL;

	r = sockdiag_count(UINT32_C(1) << TCPS_LISTEN, port, counts);
	if (r < 0)
		return r;
	return counts[TCPS_LISTEN] > 0;
}

int sockdiag_count_states(uint16_t local_port, uint64_t counts[TCPS_MAX_STATES])
{
	if (!counts)
		return -EINVAL;

	return sockdiag_count(SOCKDIAG_ALL_STATES, local_port, counts);
}

/* --- one dump for everything --------------------------------------------------------------- */

struct scan_data {
	struct sockdiag_port *ports;
	size_t n_ports;
	struct listeners_data *listeners; /* one per port */
	uint64_t host[TCPS_MAX_STATES];
	uint8_t wanted[65536 / 8];        /* a bit per port in ports[]: most sockets are no one's */
};

static void scan_reset(void *data)
{
	struct scan_data *d = data;

	memset(d->host, 0, sizeof(d->host));
	for (size_t i = 0; i < d->n_ports; i++) {
		memset(d->ports[i].states, 0, sizeof(d->ports[i].states));
		d->listeners[i].n = 0;
	}
}

static int scan_cb(const struct nlmsghdr *nlh, void *data)
{
	struct scan_data *d = data;
	const struct inet_diag_msg *msg;
	uint16_t port;
	uint8_t state;

	msg = sockdiag_msg(nlh);
	if (!msg)
		return MNL_CB_ERROR;
	state = count_state(msg);
	if (!state)
		return MNL_CB_OK;
	d->host[state]++;

	port = ntohs(msg->id.idiag_sport);
	if (!(d->wanted[port / 8] & (1U << (port % 8))))
		return MNL_CB_OK;
	for (size_t i = 0; i < d->n_ports; i++) {
		if (d->ports[i].port != port)
			continue;
		d->ports[i].states[state]++;
		if (msg->idiag_state == TCPS_LISTEN && listener_add(&d->listeners[i], nlh, msg) != MNL_CB_OK)
			return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int sockdiag_scan(struct sockdiag_port *ports, size_t n_ports, uint64_t host[TCPS_MAX_STATES])
{
	_cleanup_free_ struct scan_data *d = NULL;
	int r;

	if ((!ports && n_ports > 0) || !host)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ports = ports;
	d->n_ports = n_ports;
	d->listeners = calloc(n_ports + 1, sizeof(*d->listeners));
	if (!d->listeners)
		return -ENOMEM;
	for (size_t i = 0; i < n_ports; i++) {
		if (ports[i].port == 0) {
			free(d->listeners);
			return -EINVAL;
		}
		d->wanted[ports[i].port / 8] |= (uint8_t)(1U << (ports[i].port % 8));
	}

	struct sockdiag_dump dump = {
		.states = SOCKDIAG_ALL_STATES,
		.cb = scan_cb,
		.reset = scan_reset,
		.data = d,
	};
	r = sockdiag_dump(&dump);
	for (size_t i = 0; i < n_ports; i++) {
		if (r >= 0 && d->listeners[i].n > 0) {
			ports[i].listeners = d->listeners[i].items;
			ports[i].n_listeners = d->listeners[i].n;
		} else
			free(d->listeners[i].items);
	}
	free(d->listeners);
	if (r < 0)
		return r;
	memcpy(host, d->host, sizeof(d->host));
	return 0;
}

void sockdiag_port_release(struct sockdiag_port *p)
{
	if (!p)
		return;
	free(p->listeners);
	p->listeners = NULL;
	p->n_listeners = 0;
}

const char *tcp_state_name(int state)
{
	static const char *const names[TCPS_MAX_STATES] = {
		[TCPS_ESTABLISHED] = "ESTABLISHED",
		[TCPS_SYN_SENT] = "SYN_SENT",
		[TCPS_SYN_RECV] = "SYN_RECV",
		[TCPS_FIN_WAIT1] = "FIN_WAIT1",
		[TCPS_FIN_WAIT2] = "FIN_WAIT2",
		[TCPS_TIME_WAIT] = "TIME_WAIT",
		[TCPS_CLOSE] = "CLOSE",
		[TCPS_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCPS_LAST_ACK] = "LAST_ACK",
		[TCPS_LISTEN] = "LISTEN",
		[TCPS_CLOSING] = "CLOSING",
		[TCPS_NEW_SYN_RECV] = "NEW_SYN_RECV",
	};

	if (state <= 0 || state >= TCPS_MAX_STATES)
		return NULL;
	return names[state];
}
