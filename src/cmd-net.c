/* cmd-net.c - berth net [NAME...]: listeners, accept queues and TCP states of services' ports
 *
 * For each configured port of each service ([health] http, tcp and listen): whether anything
 * listens, each listening socket's accept queue now and its maximum (the backlog the kernel took
 * at listen() time, min(the app's, net.core.somaxconn then)), and the sockets on that local port
 * by TCP state; then the same counts for the whole host, and TcpExt ListenOverflows and
 * ListenDrops with what they gained since the previous call.
 *
 * Go passes net.core.somaxconn to listen(), so a listener whose maximum is below the current
 * somaxconn was opened before somaxconn was raised: it keeps the old backlog until the service is
 * restarted. Unless Go could not read somaxconn at all (a unit with ProcSubset=pid hides /proc/sys)
 * and used its fallback of 128: as root, berth looks for the file through /proc/MAINPID/root to
 * tell the two apart. A listener is the service's when its cgroup (INET_DIAG_CGROUP_ID) is the
 * unit's ControlGroup; another process's socket on the port is shown as such and never flagged.
 * All the socket facts come from ONE sock_diag dump of the host's TCP sockets (sockdiag_scan): the
 * host's counts and every port's listeners and counts at once, however many services and ports;
 * no /proc/net/tcp walk, no ss. Works unprivileged; only the delta needs to write
 * /run/berth/netstat.last.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "berth.h"
#include "bus.h"
#include "cgroup.h"
#include "cli.h"
#include "log.h"
#include "netstat.h"
#include "services.h"
#include "sockdiag.h"
#include "strv.h"
#include "term.h"
#include "unit.h"

/* An accept queue at or above this share of its maximum is "near full". */
#define NET_NEAR_FULL_PERCENT 80
/* Where the unified (v2) cgroup hierarchy may be mounted: cgroup v2, then a hybrid layout. */
enum net_check {
	NET_CHECK_HTTP = 1 << 0,
	NET_CHECK_TCP = 1 << 1,
	NET_CHECK_LISTEN = 1 << 2,
};

struct port_view {
	uint16_t port;
	unsigned checks; /* enum net_check: which [health] keys name this port */
	struct listen_socket *sockets;
	size_t n_sockets;
	uint64_t states[TCPS_MAX_STATES];
};

struct service_view {
	const char *name;
	char *error;        /* why nothing is known about it, or NULL */
	char *active_state; /* NULL if systemd could not be asked */
	uint64_t cgroup_id; /* inode of its cgroup (v2), 0 if unknown */
	int somaxconn_visible; /* can its main process read net.core.somaxconn: 1, 0, -1 unknown */
	struct port_view ports[3];
	size_t n_ports;
};

struct host_view {
	uint64_t states[TCPS_MAX_STATES];
	bool have_counters;
	struct netstat_sample sample;
	bool have_delta;
	bool saved; /* this call's sample was saved (else: no delta as this user) */
	struct netstat_delta delta;
	bool have_somaxconn;
	uint32_t somaxconn;
};

/* The states shown, in this order (NEW_SYN_RECV is reported as SYN_RECV by sockdiag). */
static const int shown_states[] = {
	TCPS_ESTABLISHED, TCPS_SYN_SENT, TCPS_SYN_RECV, TCPS_FIN_WAIT1, TCPS_FIN_WAIT2, TCPS_TIME_WAIT,
	TCPS_CLOSE, TCPS_CLOSE_WAIT, TCPS_LAST_ACK, TCPS_LISTEN, TCPS_CLOSING,
};

static void service_view_release(struct service_view *v)
{
	free(v->error);
	free(v->active_state);
	for (size_t i = 0; i < v->n_ports; i++)
		free(v->ports[i].sockets);
}

static void add_port(struct service_view *v, uint16_t port, enum net_check check)
{
	if (port == 0)
		return;
	for (size_t i = 0; i < v->n_ports; i++)
		if (v->ports[i].port == port) {
			v->ports[i].checks |= check;
			return;
		}
	if (v->n_ports < ELEMENTSOF(v->ports))
		v->ports[v->n_ports++] = (struct port_view){ .port = port, .checks = check };
}

/* The cgroup v2 id of the unit's control group, 0 if unknown. */
static uint64_t cgroup_id_of(const char *control_group)
{
	uint64_t id;
	return cgroup_get_id(control_group, &id) >= 0 ? id : 0;
}

/* What systemd says about the unit: its state and cgroup. Optional: without a bus (not booted
 * with systemd, bus down) both stay unknown. */
static void gather_unit(sd_bus *bus, struct service_view *v)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *unit = unit_name_for(v->name);
	struct unit_status st = {};
	int r;

	if (!bus || !unit)
		return;
	r = bus_get_unit_status(bus, unit, &st, &error);
	if (r < 0) {
		log_debug("cannot ask systemd about %s: %s, ignoring", unit, bus_error_text(&error, r));
		return;
	}
	v->active_state = st.active_state ? strdup(st.active_state) : NULL;
	if (streq_ptr(st.active_state, "active") || streq_ptr(st.active_state, "reloading") ||
	    streq_ptr(st.active_state, "deactivating"))
		v->cgroup_id = cgroup_id_of(st.control_group);
	if (st.main_pid > 0) {
		r = netstat_somaxconn_visible((pid_t)st.main_pid);
		if (r < 0)
			log_debug_errno(r, "cannot tell whether %s sees net.core.somaxconn: %m, ignoring", unit);
		else
			v->somaxconn_visible = r;
	}
	unit_status_release(&st);
}

/* The service's own sockets first, then IPv4 before IPv6, then by address. */
static int socket_cmp(const void *a, const void *b, void *userdata)
{
	const struct listen_socket *x = a, *y = b;
	const struct service_view *v = userdata;
	bool ox = v->cgroup_id && x->cgroup_id == v->cgroup_id, oy = v->cgroup_id && y->cgroup_id == v->cgroup_id;

	if (ox != oy)
		return ox ? -1 : 1;
	if (x->family != y->family)
		return x->family == AF_INET ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

/* Fills v from its manifest and systemd; its sockets come from gather_sockets(). A manifest that
 * cannot be read is recorded in v->error. */
static void gather_service(sd_bus *bus, const char *name, struct service_view *v)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	int r;

	v->name = name;
	v->somaxconn_visible = -1;
	r = service_load_manifest(name, &m);
	if (r < 0) {
		errno = -r;
		if (asprintf(&v->error, "cannot read the manifest of \"%s\": %m", name) < 0)
			v->error = NULL;
		return;
	}
	add_port(v, m->http_port, NET_CHECK_HTTP);
	add_port(v, m->tcp_port, NET_CHECK_TCP);
	add_port(v, m->listen_port, NET_CHECK_LISTEN);

	gather_unit(bus, v);
}

/* The sockets of every service's ports and the host's counts by state, from one dump of the
 * host's TCP sockets (sockdiag_scan): 20 000 connections are walked once, not once per port. */
static int gather_sockets(struct service_view *v, size_t n, struct host_view *h)
{
	_cleanup_free_ struct sockdiag_port *ports = NULL;
	size_t k = 0;
	int r;

	ports = calloc(3 * n + 1, sizeof(*ports));
	if (!ports)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < v[i].n_ports; j++)
			ports[k++].port = v[i].ports[j].port;
	r = sockdiag_scan(ports, k, h->states);
	if (r < 0)
		return r;
	k = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < v[i].n_ports; j++) {
			struct port_view *p = &v[i].ports[j];
			p->sockets = TAKE_PTR(ports[k].listeners);
			p->n_sockets = ports[k].n_listeners;
			memcpy(p->states, ports[k].states, sizeof(p->states));
			if (p->n_sockets > 1)
				qsort_r(p->sockets, p->n_sockets, sizeof(*p->sockets), socket_cmp, &v[i]);
			k++;
		}
	return 0;
}

/* The netstat counters now, and the delta since the previous call when that call left a sample
 * and this one can leave its own (a user who cannot write /run/berth gets no delta). */
static void gather_counters(struct host_view *h)
{
	struct netstat_sample prev;
	int r, rl;

	r = netstat_sample_now(&h->sample);
	if (r < 0) {
		log_warning_errno(r, "cannot read the TCP counters in %s: %m, ignoring", NETSTAT_PROC_PATH);
		return;
	}
	h->have_counters = true;

	rl = netstat_load(NULL, &prev);
	if (rl < 0 && rl != -ENOENT)
		log_debug_errno(rl, "cannot read %s: %m, ignoring", NETSTAT_LAST_PATH);
	r = netstat_save(NULL, &h->sample);
	if (r < 0) {
		log_debug_errno(r, "cannot write %s: %m, no deltas", NETSTAT_LAST_PATH);
		return;
	}
	h->saved = true;
	if (rl >= 0 && netstat_delta(&prev, &h->sample, &h->delta) >= 0)
		h->have_delta = true;
}

/* The host's side besides its sockets (gather_sockets counts those). */
static void gather_host(struct host_view *h)
{
	int r;

	r = netstat_read_somaxconn(&h->somaxconn);
	if (r < 0)
		log_warning_errno(r, "cannot read net.core.somaxconn: %m, ignoring");
	else
		h->have_somaxconn = true;
	gather_counters(h);
}

/* --- flags ---------------------------------------------------------------------------------- */

/* 1 the service's own socket, 0 another process's, -1 unknown. */
static int socket_owned(const struct service_view *v, const struct listen_socket *s)
{
	if (v->cgroup_id == 0 || s->cgroup_id == 0)
		return -1;
	return s->cgroup_id == v->cgroup_id;
}

/* Opened before somaxconn was raised: Go asks for somaxconn, so its backlog would be that now.
 * Another process's socket asked for whatever it asked for: not flagged. */
static bool socket_backlog_capped(const struct service_view *v, const struct listen_socket *s,
				  const struct host_view *h)
{
	return h->have_somaxconn && socket_owned(v, s) != 0 && s->accept_queue_max < h->somaxconn;
}

static bool socket_near_full(const struct listen_socket *s)
{
	return s->accept_queue > 0 &&
	       (uint64_t)s->accept_queue * 100 >= (uint64_t)s->accept_queue_max * NET_NEAR_FULL_PERCENT;
}

static bool service_running(const struct service_view *v)
{
	return streq_ptr(v->active_state, "active") || streq_ptr(v->active_state, "reloading");
}

/* --- human output --------------------------------------------------------------------------- */

static const char *family_name(int family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}

static const char *fmt_span(char *buf, size_t len, uint64_t usec)
{
	if (usec < 10 * USEC_PER_SEC)
		snprintf(buf, len, "%.1fs", (double)usec / USEC_PER_SEC);
	else if (usec < 2 * USEC_PER_HOUR)
		snprintf(buf, len, "%" PRIu64 "s", usec / USEC_PER_SEC);
	else
		snprintf(buf, len, "%" PRIu64 "h", usec / USEC_PER_HOUR);
	return buf;
}

static void check_names(char *buf, size_t len, unsigned checks)
{
	snprintf(buf, len, "%s%s%s", checks & NET_CHECK_HTTP ? "http," : "", checks & NET_CHECK_TCP ? "tcp," : "",
		 checks & NET_CHECK_LISTEN ? "listen," : "");
	if (*buf)
		buf[strlen(buf) - 1] = 0; /* the last comma */
}

struct widths {
	int name, address;
};

/* The count columns of one row: ESTAB SYN-RECV FIN-WAIT CLOSE-WAIT TIME-WAIT OTHER. */
static void print_counts(const uint64_t s[TCPS_MAX_STATES])
{
	uint64_t other = s[TCPS_SYN_SENT] + s[TCPS_CLOSE] + s[TCPS_LAST_ACK] + s[TCPS_CLOSING];

	printf(" %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10" PRIu64 " %9" PRIu64 " %6" PRIu64 "\n",
	       s[TCPS_ESTABLISHED], s[TCPS_SYN_RECV], s[TCPS_FIN_WAIT1] + s[TCPS_FIN_WAIT2], s[TCPS_CLOSE_WAIT],
	       s[TCPS_TIME_WAIT], other);
}

static void print_note(const char *colour, const char *fmt, ...) _printf_(2, 3);
static void print_note(const char *colour, const char *fmt, ...)
{
	va_list ap;

	printf("  %s└ ", term_out(colour));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("%s\n", term_out(TERM_RESET));
}

static void print_port(const struct service_view *v, const struct port_view *p, const struct host_view *h,
		       const struct widths *w, bool first)
{
	char queue[32], checks[32];
	const struct listen_socket *s0 = p->n_sockets ? &p->sockets[0] : NULL;
	bool warn0 = s0 && (socket_near_full(s0) || socket_owned(v, s0) == 0);

	check_names(checks, sizeof(checks), p->checks);
	if (s0)
		snprintf(queue, sizeof(queue), "%" PRIu32 "/%" PRIu32, s0->accept_queue, s0->accept_queue_max);
	else
		snprintf(queue, sizeof(queue), "-");
	printf("%-*s %5" PRIu16 " %-7s %s%-6s%s %-*s %s%11s%s", w->name, first ? v->name : "", p->port, checks,
	       s0 ? "" : term_out(service_running(v) ? TERM_RED : TERM_GREY), s0 ? "yes" : "no", term_out(TERM_RESET),
	       w->address, s0 ? s0->addr : "-", warn0 ? term_out(TERM_YELLOW) : "", queue,
	       warn0 ? term_out(TERM_RESET) : "");
	print_counts(p->states);

	/* further listening sockets on the same port: IPv6 next to IPv4, SO_REUSEPORT groups */
	for (size_t i = 1; i < p->n_sockets; i++) {
		const struct listen_socket *s = &p->sockets[i];
		bool warn = socket_near_full(s) || socket_owned(v, s) == 0;

		snprintf(queue, sizeof(queue), "%" PRIu32 "/%" PRIu32, s->accept_queue, s->accept_queue_max);
		printf("%-*s %5s %-7s %-6s %-*s %s%11s%s\n", w->name, "", "", "", "", w->address, s->addr,
		       warn ? term_out(TERM_YELLOW) : "", queue, warn ? term_out(TERM_RESET) : "");
	}

	if (p->n_sockets == 0) {
		if (service_running(v))
			print_note(TERM_RED, "nothing listens on port %" PRIu16 ", yet %s is %s", p->port, v->name,
				   v->active_state);
		else if (v->active_state)
			print_note(TERM_GREY, "%s is %s", v->name, v->active_state);
	}
	for (size_t i = 0; i < p->n_sockets; i++) {
		const struct listen_socket *s = &p->sockets[i];

		if (socket_owned(v, s) == 0)
			print_note(TERM_YELLOW, "%s:%" PRIu16 " is held by another process, not by %s", s->addr, p->port,
				   v->name);
		if (socket_near_full(s))
			print_note(TERM_RED,
				   "accept queue of %s:%" PRIu16 " near full (%" PRIu32 " of %" PRIu32
				   "): connections wait for accept(), and are dropped once it is full",
				   s->addr, p->port, s->accept_queue, s->accept_queue_max);
		if (socket_backlog_capped(v, s, h) && v->somaxconn_visible == 0)
			print_note(TERM_YELLOW,
				   "backlog of %s:%" PRIu16 " is %" PRIu32 ", below net.core.somaxconn=%" PRIu32
				   ": %s cannot read net.core.somaxconn (its unit hides /proc/sys, ProcSubset=pid),"
				   " so Go listened with its fallback; a restart will not help",
				   s->addr, p->port, s->accept_queue_max, h->somaxconn, v->name);
		else if (socket_backlog_capped(v, s, h))
			print_note(TERM_YELLOW,
				   "backlog of %s:%" PRIu16 " is %" PRIu32 ", below net.core.somaxconn=%" PRIu32
				   " (opened before somaxconn was raised): restart to pick up somaxconn=%" PRIu32
				   " (berth restart %s)",
				   s->addr, p->port, s->accept_queue_max, h->somaxconn, h->somaxconn, v->name);
	}
}

static void print_human(const struct service_view *v, size_t n, const struct host_view *h)
{
	struct widths w = { .name = (int)strlen("SERVICE"), .address = (int)strlen("ADDRESS") };
	char a[32];

	for (size_t i = 0; i < n; i++) {
		if ((int)strlen(v[i].name) > w.name)
			w.name = (int)strlen(v[i].name);
		for (size_t k = 0; k < v[i].n_ports; k++)
			for (size_t s = 0; s < v[i].ports[k].n_sockets; s++)
				if ((int)strlen(v[i].ports[k].sockets[s].addr) > w.address)
					w.address = (int)strlen(v[i].ports[k].sockets[s].addr);
	}

	printf("%s%-*s %5s %-7s %-6s %-*s %11s %8s %8s %8s %10s %9s %6s%s\n", term_out(TERM_BOLD), w.name, "SERVICE",
	       "PORT", "CHECK", "LISTEN", w.address, "ADDRESS", "ACCEPT-Q", "ESTAB", "SYN-RECV", "FIN-WAIT",
	       "CLOSE-WAIT", "TIME-WAIT", "OTHER", term_out(TERM_RESET));
	for (size_t i = 0; i < n; i++) {
		if (v[i].error) {
			printf("%-*s %s%s%s\n", w.name, v[i].name, term_out(TERM_RED), v[i].error, term_out(TERM_RESET));
			continue;
		}
		if (v[i].n_ports == 0) {
			printf("%-*s %s(no port: set [health] http, tcp or listen in its manifest)%s\n", w.name,
			       v[i].name, term_out(TERM_GREY), term_out(TERM_RESET));
			continue;
		}
		for (size_t k = 0; k < v[i].n_ports; k++)
			print_port(&v[i], &v[i].ports[k], h, &w, k == 0);
	}
	if (n == 0)
		printf("%s(no services deployed by berth)%s\n", term_out(TERM_GREY), term_out(TERM_RESET));

	snprintf(a, sizeof(a), "%" PRIu64, h->states[TCPS_LISTEN]);
	printf("%s%-*s %5s %-7s %-6s %-*s %11s%s", term_out(TERM_BOLD), w.name, "host", "", "", a, w.address, "", "",
	       term_out(TERM_RESET));
	print_counts(h->states);

	printf("\nnet.core.somaxconn ");
	if (h->have_somaxconn)
		printf("%" PRIu32, h->somaxconn);
	else
		printf("unknown");
	if (!h->have_counters) {
		printf(", listen counters unknown\n");
		return;
	}
	for (int k = 0; k < 2; k++) {
		uint64_t total = k == 0 ? h->sample.counters.listen_overflows : h->sample.counters.listen_drops;
		uint64_t added = k == 0 ? h->delta.added.listen_overflows : h->delta.added.listen_drops;
		bool bad = h->have_delta && added > 0;

		printf(", %s %" PRIu64, k == 0 ? "ListenOverflows" : "ListenDrops", total);
		if (h->have_delta)
			printf(" (%s+%" PRIu64 "%s)", bad ? term_out(TERM_RED) : "", added, bad ? term_out(TERM_RESET) : "");
	}
	if (h->have_delta)
		printf(" since the previous call %s ago\n", fmt_span(a, sizeof(a), h->delta.interval_usec));
	else if (h->saved)
		printf(" (no previous call to compare with)\n");
	else
		printf(" (no delta: only root can keep %s)\n", NETSTAT_LAST_PATH);
}

/* --- JSON ----------------------------------------------------------------------------------- */

static void json_states(struct json *j, const uint64_t states[TCPS_MAX_STATES])
{
	json_object_begin(j);
	for (size_t i = 0; i < ELEMENTSOF(shown_states); i++)
		json_key_uint(j, tcp_state_name(shown_states[i]), states[shown_states[i]]);
	json_object_end(j);
}

static void json_port(struct json *j, const struct service_view *v, const struct port_view *p,
		      const struct host_view *h)
{
	json_object_begin(j);
	json_key_uint(j, "port", p->port);
	json_key(j, "checks");
	json_array_begin(j);
	if (p->checks & NET_CHECK_HTTP)
		json_string(j, "http");
	if (p->checks & NET_CHECK_TCP)
		json_string(j, "tcp");
	if (p->checks & NET_CHECK_LISTEN)
		json_string(j, "listen");
	json_array_end(j);
	json_key_bool(j, "listening", p->n_sockets > 0);
	json_key(j, "sockets");
	json_array_begin(j);
	for (size_t i = 0; i < p->n_sockets; i++) {
		const struct listen_socket *s = &p->sockets[i];
		int owned = socket_owned(v, s);

		json_object_begin(j);
		json_key_string(j, "family", family_name(s->family));
		json_key_string(j, "address", s->addr);
		json_key_uint(j, "accept_queue", s->accept_queue);
		json_key_uint(j, "accept_queue_max", s->accept_queue_max);
		json_key_bool(j, "backlog_capped", socket_backlog_capped(v, s, h));
		json_key_bool(j, "near_full", socket_near_full(s));
		json_key(j, "owned_by_service");
		owned < 0 ? json_null(j) : json_bool(j, owned);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "states");
	json_states(j, p->states);
	json_object_end(j);
}

static void json_delta(struct json *j, const char *key, const struct host_view *h, uint64_t added)
{
	json_key(j, key);
	h->have_delta ? json_uint(j, added) : json_null(j);
}

static void print_json(const struct service_view *v, size_t n, const struct host_view *h, int ex)
{
	struct json j;

	json_init(&j, stdout);
	json_object_begin(&j);
	json_key_string(&j, "command", "net");
	json_key_bool(&j, "ok", ex == BERTH_EXIT_OK);
	json_key_int(&j, "exit_code", ex);
	json_key(&j, "services");
	json_array_begin(&j);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(&j);
		json_key_string(&j, "name", v[i].name);
		json_key_string(&j, "active_state", v[i].active_state);
		json_key_string(&j, "error", v[i].error);
		json_key(&j, "somaxconn_visible");
		v[i].somaxconn_visible < 0 ? json_null(&j) : json_bool(&j, v[i].somaxconn_visible);
		json_key(&j, "ports");
		json_array_begin(&j);
		for (size_t k = 0; k < v[i].n_ports; k++)
			json_port(&j, &v[i], &v[i].ports[k], h);
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);

	json_key(&j, "host");
	json_object_begin(&j);
	json_key(&j, "states");
	json_states(&j, h->states);
	if (h->have_counters) {
		json_key_uint(&j, "listen_overflows", h->sample.counters.listen_overflows);
		json_delta(&j, "listen_overflows_delta", h, h->delta.added.listen_overflows);
		json_key_uint(&j, "listen_drops", h->sample.counters.listen_drops);
		json_delta(&j, "listen_drops_delta", h, h->delta.added.listen_drops);
	} else {
		json_key_null(&j, "listen_overflows");
		json_key_null(&j, "listen_overflows_delta");
		json_key_null(&j, "listen_drops");
		json_key_null(&j, "listen_drops_delta");
	}
	json_key(&j, "somaxconn");
	h->have_somaxconn ? json_uint(&j, h->somaxconn) : json_null(&j);
	json_delta(&j, "interval_usec", h, h->delta.interval_usec);
	json_object_end(&j);

	json_object_end(&j);
	json_finish(&j);
}

/* --- the command ---------------------------------------------------------------------------- */

static int exec_net(int argc, char **argv)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_strv_free_ char **names = NULL;
	struct service_view *v = NULL;
	struct host_view h = {};
	int r = 0, ex = BERTH_EXIT_OK;
	size_t n;

	if (argc > 0) {
		for (int i = 0; i < argc; i++) {
			if (cli_require_service(argv[i]) != BERTH_EXIT_OK)
				return cli_fail("net", BERTH_EXIT_NOT_FOUND);
			if (!strv_contains(names, argv[i]) && strv_extend(&names, argv[i]) < 0)
				return cli_fail("net", BERTH_EXIT_FAILURE);
		}
	} else if ((r = services_list(&names)) < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot list services in %s: %m", BERTH_STATE_ROOT);
		return cli_fail("net", BERTH_EXIT_FAILURE);
	}

	n = strv_length(names);
	if (n > 0) {
		/* systemd only adds the unit's state and cgroup (whose sockets are the service's) */
		r = bus_open_system(&bus);
		if (r < 0)
			log_debug_errno(r, "cannot connect to systemd: %m, ignoring");
	}

	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return cli_fail("net", BERTH_EXIT_FAILURE);
	for (size_t i = 0; i < n; i++) {
		gather_service(bus, names[i], &v[i]);
		if (v[i].error) {
			cli_error(NULL, 0, NULL, NULL, "%s", v[i].error);
			ex = BERTH_EXIT_FAILURE;
		}
	}
	r = gather_sockets(v, n, &h);
	if (r >= 0)
		gather_host(&h);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot ask the kernel about TCP sockets (sock_diag): %m");
		ex = cli_fail("net", BERTH_EXIT_FAILURE);
		goto finish;
	}

	if (arg_json)
		print_json(v, n, &h, ex);
	else
		print_human(v, n, &h);

finish:
	for (size_t i = 0; i < n; i++)
		service_view_release(&v[i]);
	free(v);
	return ex;
}

const struct berth_cmd berth_cmd_net = {
	.name = "net",
	.usage = "[NAME...]",
	.summary = "show listeners, accept queues and TCP connections of services",
	.description =
		"For each port of a service's [health] check (http, tcp, listen): whether anything\n"
		"listens, each listening socket's accept queue and its maximum, and the sockets on\n"
		"that port by TCP state; then the host's counts by state, net.core.somaxconn, and the\n"
		"kernel's ListenOverflows and ListenDrops with what they gained since the previous\n"
		"call (kept in /run/berth/netstat.last; no delta when it cannot be written). A\n"
		"backlog below somaxconn means the socket was opened before somaxconn was raised:\n"
		"restart the service to pick the new value up. Without NAME, every service berth\n"
		"deployed. Runs as any user; changes nothing but that file.",
	.min_args = 0,
	.max_args = -1,
	.run = exec_net,
};
