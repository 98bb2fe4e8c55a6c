/* tune.c - host tuning (pure): profiles, known keys, validation, the plan */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "size.h"
#include "strv.h"
#include "suggest.h"
#include "tune.h"

#define INT_MAX_U UINT64_C(2147483647)

/* asprintf() into a new string, NULL on ENOMEM. */
_printf_(1, 2) static char *strprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* What the kernel accepts (6.1; older kernels refuse or clamp, which the read-back catches). */
static const struct tune_key_info known_keys[] = {
	/* host-wide */
	{ "fs.file-max", TUNE_KIND_UINT, 0, UINT64_C(9223372036854775807), TUNE_RAISE, false },
	/* sysctl_nr_open_min = BITS_PER_LONG, sysctl_nr_open_max = INT_MAX & -BITS_PER_LONG (64-bit) */
	{ "fs.nr_open", TUNE_KIND_UINT, 64, UINT64_C(2147483584), TUNE_RAISE, false },
	{ "fs.inotify.max_user_watches", TUNE_KIND_UINT, 1, INT_MAX_U, TUNE_RAISE, false },
	{ "fs.inotify.max_user_instances", TUNE_KIND_UINT, 1, INT_MAX_U, TUNE_RAISE, false },
	{ "vm.max_map_count", TUNE_KIND_UINT, 0, INT_MAX_U, TUNE_RAISE, false },
	{ "vm.swappiness", TUNE_KIND_UINT, 0, 200, TUNE_EXACT, false },
	/* net.core: global except somaxconn */
	{ "net.core.netdev_max_backlog", TUNE_KIND_UINT, 0, INT_MAX_U, TUNE_RAISE, false },
	{ "net.core.rmem_max", TUNE_KIND_UINT, 0, INT_MAX_U, TUNE_RAISE, false },
	{ "net.core.wmem_max", TUNE_KIND_UINT, 0, INT_MAX_U, TUNE_RAISE, false },
	{ "net.core.somaxconn", TUNE_KIND_UINT, 0, INT_MAX_U, TUNE_RAISE, true },
	/* net.ipv4: per network namespace */
	{ "net.ipv4.ip_local_port_range", TUNE_KIND_PORT_RANGE, 1024, 65535, TUNE_WIDEN, true },
	{ "net.ipv4.ip_unprivileged_port_start", TUNE_KIND_UINT, 0, 65535, TUNE_EXACT, true },
	{ "net.ipv4.tcp_max_syn_backlog", TUNE_KIND_UINT, 0, INT_MAX_U, TUNE_RAISE, true },
	{ "net.ipv4.tcp_fin_timeout", TUNE_KIND_UINT, 1, INT_MAX_U / 1000, TUNE_LOWER, true },
	{ "net.ipv4.tcp_tw_reuse", TUNE_KIND_UINT, 0, 2, TUNE_EXACT, true },
	{ "net.ipv4.tcp_max_tw_buckets", TUNE_KIND_UINT, 0, INT_MAX_U, TUNE_RAISE, true },
	{ "net.ipv4.tcp_slow_start_after_idle", TUNE_KIND_UINT, 0, 1, TUNE_EXACT, true },
	/* the per-socket limits of tcp(7): TCP_KEEPIDLE/KEEPINTVL ≤ 32767, TCP_KEEPCNT ≤ 127 */
	{ "net.ipv4.tcp_keepalive_time", TUNE_KIND_UINT, 1, 32767, TUNE_LOWER, true },
	{ "net.ipv4.tcp_keepalive_intvl", TUNE_KIND_UINT, 1, 32767, TUNE_LOWER, true },
	{ "net.ipv4.tcp_keepalive_probes", TUNE_KIND_UINT, 1, 127, TUNE_LOWER, true },
	{ "net.ipv4.tcp_syncookies", TUNE_KIND_UINT, 0, 2, TUNE_EXACT, true },
	{ "net.netfilter.nf_conntrack_max", TUNE_KIND_UINT, 0, INT_MAX_U, TUNE_RAISE, true },
};

static const struct {
	const char *key, *why;
} removed_keys[] = {
	{ "net.ipv4.tcp_tw_recycle",
	  "removed in Linux 4.12: it dropped connections from clients behind NAT (it trusted TCP timestamps "
	  "per remote host); for many outbound connections use net.ipv4.tcp_tw_reuse = 1 and a wider "
	  "net.ipv4.ip_local_port_range" },
	{ "net.ipv4.tcp_abc", "removed in Linux 3.9 (appropriate byte counting): nothing replaces it, remove the line" },
	{ "net.ipv4.tcp_cookie_size", "removed in Linux 3.10 with TCP cookie transactions: remove the line" },
	{ "net.ipv4.netfilter.ip_conntrack_max",
	  "the old ip_conntrack name is gone from current kernels: use net.netfilter.nf_conntrack_max" },
	{ "net.ipv4.ip_conntrack_max",
	  "the old ip_conntrack name is gone from current kernels: use net.netfilter.nf_conntrack_max" },
};

static const struct {
	const char *key, *why;
} noop_keys[] = {
	{ "net.ipv4.tcp_low_latency", "has had no effect since Linux 4.14 (the TCP prequeue it switched off is gone)" },
	{ "net.ipv4.tcp_fack", "has had no effect since Linux 4.15 (FACK loss recovery was replaced by RACK)" },
};

/* --- profiles: every value with the reason for it (also in berth(8) and 60-berth.conf) ---------- */

static const struct tune_setting profile_web[] = {
	{ "fs.file-max", "2097152",
	  "open files on the whole host, one per connection; the kernel's default is about one per 10 KiB "
	  "of RAM, and systemd raises it to the maximum at boot (then berth keeps that)" },
	{ "fs.nr_open", "1048576",
	  "ceiling of any process's nofile limit (LimitNOFILE=); 1048576 is the kernel's default, kept as a "
	  "floor; berth raises it further for a service whose manifest asks for more" },
	{ "net.core.somaxconn", "8192",
	  "accept queue of each listening socket: Go's net.Listen reads it at start as its backlog (restart "
	  "services to use a new value); the kernel's default is 4096 since Linux 5.4, 128 before" },
	{ "net.ipv4.tcp_max_syn_backlog", "8192",
	  "half-open connections queued per listener before SYN cookies take over; the default scales with "
	  "memory and is 128 on small hosts" },
	{ "net.core.netdev_max_backlog", "16384",
	  "packets queued per CPU when the network card delivers faster than the kernel processes them; the "
	  "default 1000 drops packets in bursts at 10 Gbit/s" },
	{ "net.ipv4.ip_local_port_range", "10240 65535",
	  "local ports for outbound connections (databases, upstreams): 55296 instead of the default 28232 "
	  "(32768-60999); keep listening ports below 10240 or reserve them in "
	  "net.ipv4.ip_local_reserved_ports" },
	{ "net.ipv4.tcp_fin_timeout", "30",
	  "seconds an orphaned connection waits in FIN_WAIT_2 for the peer (default 60): frees sockets of "
	  "clients that vanish; TIME_WAIT itself stays 60 s" },
	{ "net.ipv4.tcp_tw_reuse", "1",
	  "new outbound connections may reuse a port still in TIME_WAIT when TCP timestamps make it safe; "
	  "the default 2 allows this on loopback only" },
	{ "net.ipv4.tcp_max_tw_buckets", "262144",
	  "most TIME_WAIT sockets kept; beyond it they are destroyed early and the kernel logs \"time wait "
	  "bucket table overflow\"; the default scales with memory (8192 on 2 GiB)" },
	{ "net.ipv4.tcp_slow_start_after_idle", "0",
	  "an idle keep-alive connection keeps its congestion window instead of starting slowly again "
	  "(default 1), so the first response after a pause is not throttled" },
	{ "net.ipv4.tcp_keepalive_time", "600",
	  "idle seconds before the first keepalive probe (default 7200) on sockets that enable keepalive "
	  "without their own timing; Go sets 15 s itself, so this is for the host's other programs" },
	{ "net.ipv4.tcp_keepalive_intvl", "30",
	  "seconds between keepalive probes (default 75): with 5 probes a dead idle peer is noticed after "
	  "12.5 minutes instead of more than 2 hours" },
	{ "net.ipv4.tcp_keepalive_probes", "5",
	  "unanswered keepalive probes before the connection is dropped (default 9)" },
};

static const struct tune_setting profile_proxy[] = {
	{ "net.ipv4.ip_local_port_range", "10240 65535",
	  "each upstream connection takes a local port per destination address and port: 55296 ports "
	  "instead of the default 28232 (32768-60999); keep listening ports below 10240 or reserve them in "
	  "net.ipv4.ip_local_reserved_ports" },
	{ "net.ipv4.tcp_tw_reuse", "1",
	  "connections the proxy closes first hold their port in TIME_WAIT for 60 s; new outbound "
	  "connections may reuse such ports when TCP timestamps make it safe (the default 2: loopback only)" },
};

const struct tune_profile tune_profiles[] = {
	{ "web", "many concurrent inbound connections (HTTP and gRPC servers)", profile_web, ELEMENTSOF(profile_web) },
	{ "proxy", "many outbound connections (proxies, gateways, fan-out clients)", profile_proxy,
	  ELEMENTSOF(profile_proxy) },
	{ TUNE_PROFILE_DEFAULT, "no tuning: the kernel's values, only what deployed services need", NULL, 0 },
};
const size_t tune_n_profiles = ELEMENTSOF(tune_profiles);

const struct tune_profile *tune_profile_find(const char *name)
{
	for (size_t i = 0; name && i < tune_n_profiles; i++)
		if (streq(tune_profiles[i].name, name))
			return &tune_profiles[i];
	return NULL;
}

const char *const *tune_profile_names(void)
{
	static const char *names[ELEMENTSOF(tune_profiles) + 1];
	for (size_t i = 0; i < tune_n_profiles; i++)
		names[i] = tune_profiles[i].name;
	return names;
}

/* --- keys ------------------------------------------------------------------------------------ */

const struct tune_key_info *tune_key_lookup(const char *key)
{
	for (size_t i = 0; key && i < ELEMENTSOF(known_keys); i++)
		if (streq(known_keys[i].key, key))
			return &known_keys[i];
	return NULL;
}

bool tune_key_namespaced(const char *key)
{
	static const char *const global[] = { "net.ipv4.tcp_mem", "net.ipv4.udp_mem", "net.ipv4.inet_peer_threshold",
					      "net.ipv4.inet_peer_minttl", "net.ipv4.inet_peer_maxttl" };
	const struct tune_key_info *k = tune_key_lookup(key);

	if (k)
		return k->namespaced;
	if (!startswith(key, "net."))
		return false;
	/* net.core.* is global (registered for the initial namespace only), except these */
	if (startswith(key, "net.core."))
		return startswith(key, "net.core.xfrm_") || streq(key, "net.core.txrehash");
	for (size_t i = 0; i < ELEMENTSOF(global); i++)
		if (streq(global[i], key))
			return false;
	return true;
}

const char *tune_key_removed(const char *key)
{
	for (size_t i = 0; key && i < ELEMENTSOF(removed_keys); i++)
		if (streq(removed_keys[i].key, key))
			return removed_keys[i].why;
	return NULL;
}

const char *tune_key_noop(const char *key)
{
	for (size_t i = 0; key && i < ELEMENTSOF(noop_keys); i++)
		if (streq(noop_keys[i].key, key))
			return noop_keys[i].why;
	return NULL;
}

bool tune_key_is_valid(const char *key)
{
	size_t len = 0, comp = 0;

	if (isempty(key))
		return false;
	for (const char *p = key; *p; p++, len++) {
		if (*p == '.') {
			if (comp == 0)
				return false;
			comp = 0;
			continue;
		}
		if (!(isascii((unsigned char)*p) && (isalnum((unsigned char)*p) || *p == '_' || *p == '-')))
			return false;
		comp++;
	}
	return comp > 0 && len <= TUNE_KEY_MAX;
}

/* --- values ---------------------------------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits s at blanks into at most max words; returns the count, or max + 1 if there are more. */
static size_t split_words(const char *s, const char *words[], size_t lens[], size_t max)
{
	size_t n = 0;

	for (const char *p = s; *p;) {
		while (is_blank(*p) || *p == '\n')
			p++;
		if (!*p)
			break;
		const char *w = p;
		while (*p && !is_blank(*p) && *p != '\n')
			p++;
		if (n == max)
			return max + 1;
		words[n] = w;
		lens[n] = (size_t)(p - w);
		n++;
	}
	return n;
}

bool tune_value_equal(const char *a, const char *b)
{
	const char *wa[16], *wb[16];
	size_t la[16], lb[16];

	if (!a || !b)
		return a == b;
	size_t na = split_words(a, wa, la, ELEMENTSOF(wa)), nb = split_words(b, wb, lb, ELEMENTSOF(wb));
	if (na > ELEMENTSOF(wa) || nb > ELEMENTSOF(wb))
		return streq(a, b);
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (la[i] != lb[i] || memcmp(wa[i], wb[i], la[i]) != 0)
			return false;
	return true;
}

static int parse_word_uint(const char *w, size_t len, uint64_t *ret)
{
	char buf[32];
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, w, len);
	buf[len] = 0;
	return parse_uint_range(buf, 0, UINT64_MAX, ret);
}

int tune_parse_port_range(const char *s, uint64_t *ret_low, uint64_t *ret_high)
{
	const char *w[2];
	size_t l[2];
	uint64_t lo, hi;

	if (!s || split_words(s, w, l, 2) != 2)
		return -EINVAL;
	if (parse_word_uint(w[0], l[0], &lo) < 0 || parse_word_uint(w[1], l[1], &hi) < 0)
		return -EINVAL;
	*ret_low = lo;
	*ret_high = hi;
	return 0;
}

static bool is_int_word(const char *w, size_t len)
{
	size_t i = 0;
	if (len > 0 && w[0] == '-')
		i = 1;
	if (i == len)
		return false;
	for (; i < len; i++)
		if (!isdigit((unsigned char)w[i]))
			return false;
	return true;
}

static int canonical_uint(const struct tune_key_info *k, const char *v, char **ret, char **ret_problem)
{
	uint64_t n;
	int r = parse_uint_range(v, k->min, k->max, &n);

	if (r == -ERANGE)
		*ret_problem = strprintf("out of range: use a whole number from %" PRIu64 " to %" PRIu64, k->min,
			       k->max);
	else if (r < 0)
		*ret_problem = strprintf("not a whole number: use digits only, from %" PRIu64 " to %" PRIu64, k->min,
			       k->max);
	else if (asprintf(ret, "%" PRIu64, n) < 0)
		r = -ENOMEM;
	return r;
}

static int canonical_port_range(const struct tune_key_info *k, const char *v, char **ret, char **ret_problem)
{
	const char *w[2];
	size_t l[2];
	uint64_t lo, hi;

	if (split_words(v, w, l, 2) != 2) {
		*ret_problem = strdup("use two port numbers, LOW HIGH, e.g. \"10240 65535\"");
		return -EINVAL;
	}
	if (parse_word_uint(w[0], l[0], &lo) < 0 || parse_word_uint(w[1], l[1], &hi) < 0) {
		*ret_problem = strdup("not two whole numbers: use LOW HIGH, e.g. \"10240 65535\"");
		return -EINVAL;
	}
	if (lo < k->min) {
		*ret_problem = strprintf("LOW %" PRIu64 " is below %" PRIu64 ": the ports below it belong to privileged services", lo,
			       k->min);
		return -ERANGE;
	}
	if (hi > k->max) {
		*ret_problem = strprintf("HIGH %" PRIu64 " is above %" PRIu64 ", the highest port", hi, k->max);
		return -ERANGE;
	}
	if (lo >= hi) {
		*ret_problem = strprintf("LOW %" PRIu64 " must be below HIGH %" PRIu64, lo, hi);
		return -ERANGE;
	}
	if (asprintf(ret, "%" PRIu64 " %" PRIu64, lo, hi) < 0)
		return -ENOMEM;
	return 0;
}

int tune_value_canonical(const char *key, const char *value, char **ret, char **ret_problem)
{
	const struct tune_key_info *k = tune_key_lookup(key);
	_cleanup_free_ char *v = NULL;
	char *out = NULL, *problem = NULL;
	int r;

	if (!value)
		return -EINVAL;
	/* trimmed: printable ASCII and tabs only, one line */
	while (is_blank(*value))
		value++;
	size_t len = strlen(value);
	while (len > 0 && is_blank(value[len - 1]))
		len--;
	if (len == 0) {
		r = -EINVAL;
		problem = strdup("empty value");
	} else if (len > TUNE_VALUE_MAX) {
		r = -EINVAL;
		problem = strprintf("value longer than %d bytes", TUNE_VALUE_MAX);
	} else {
		r = 0;
		for (size_t i = 0; i < len && r == 0; i++)
			if (value[i] != '\t' && (value[i] < 0x20 || value[i] > 0x7e)) {
				r = -EINVAL;
				problem = strdup("the value may only hold printable ASCII characters");
			}
	}
	if (r == 0) {
		v = strndup(value, len);
		if (!v)
			r = -ENOMEM;
		else if (!k || k->kind == TUNE_KIND_ANY)
			out = TAKE_PTR(v);
		else if (k->kind == TUNE_KIND_UINT)
			r = canonical_uint(k, v, &out, &problem);
		else
			r = canonical_port_range(k, v, &out, &problem);
	}
	if (r < 0) {
		free(out);
		if (ret_problem)
			*ret_problem = problem;
		else
			free(problem);
		return r;
	}
	*ret = out;
	return 0;
}

bool tune_keep_current(enum tune_direction d, const char *cur, const char *want)
{
	uint64_t c, w, cl, ch, wl, wh;

	if (!cur || !want)
		return false;
	switch (d) {
	case TUNE_RAISE:
	case TUNE_LOWER:
		if (parse_uint_range(cur, 0, UINT64_MAX, &c) < 0 || parse_uint_range(want, 0, UINT64_MAX, &w) < 0)
			return false;
		return d == TUNE_RAISE ? c > w : c < w;
	case TUNE_WIDEN:
		if (tune_parse_port_range(cur, &cl, &ch) < 0 || tune_parse_port_range(want, &wl, &wh) < 0)
			return false;
		if (ch < cl || wh < wl)
			return false;
		return ch - cl > wh - wl;
	case TUNE_EXACT:
	default:
		return false;
	}
}

/* --- diags ------------------------------------------------------------------------------------ */

void tune_diags_release(struct tune_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].key);
		free(d->items[i].message);
	}
	free(d->items);
	*d = (struct tune_diags){ 0 };
}

_printf_(5, 6) static int diag_add(struct tune_diags *d, const char *file, unsigned line, const char *key,
				   const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (!d)
		return 0;
	if (d->n >= TUNE_DIAGS_MAX) {
		d->n_dropped++;
		return 0;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return -ENOMEM;
	struct tune_diag *n = realloc(d->items, sizeof(*n) * (d->n + 1));
	if (!n) {
		free(msg);
		return -ENOMEM;
	}
	d->items = n;
	d->items[d->n] = (struct tune_diag){ file ? strdup(file) : NULL, line, key ? strdup(key) : NULL, msg };
	d->n++;
	return 0;
}

/* --- requests ---------------------------------------------------------------------------------- */

static void entry_release(struct tune_entry *e)
{
	free(e->key);
	free(e->value);
	free(e->reason);
	free(e->origin);
	free(e->file);
}

void tune_request_release(struct tune_request *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		entry_release(&r->entries[i]);
	free(r->entries);
	free(r->profile);
	free(r->file);
	*r = (struct tune_request){ 0 };
}

static struct tune_entry *request_find_mut(struct tune_request *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (streq(r->entries[i].key, key))
			return &r->entries[i];
	return NULL;
}

const struct tune_entry *tune_request_find(const struct tune_request *r, const char *key)
{
	return request_find_mut((struct tune_request *)r, key);
}

static enum tune_direction key_direction(const char *key)
{
	const struct tune_key_info *k = tune_key_lookup(key);
	return k ? k->direction : TUNE_EXACT;
}

/* Takes ownership of e's strings (freed on failure too). Replaces an entry with the same key. */
static int request_put(struct tune_request *r, struct tune_entry *e)
{
	struct tune_entry *old = request_find_mut(r, e->key);
	if (old) {
		entry_release(old);
		*old = *e;
		return 0;
	}
	struct tune_entry *n = realloc(r->entries, sizeof(*n) * (r->n + 1));
	if (!n) {
		entry_release(e);
		return -ENOMEM;
	}
	r->entries = n;
	r->entries[r->n++] = *e;
	return 0;
}

static int entry_make(struct tune_entry *e, const char *key, const char *value, const char *reason,
		      const char *origin, const char *file, unsigned line)
{
	*e = (struct tune_entry){
		.key = strdup(key),
		.value = strdup(value),
		.reason = strdup(strempty(reason)),
		.origin = strdup(origin),
		.file = file ? strdup(file) : NULL,
		.line = line,
		.direction = key_direction(key),
	};
	if (!e->key || !e->value || !e->reason || !e->origin || (file && !e->file)) {
		entry_release(e);
		return -ENOMEM;
	}
	return 0;
}

int tune_request_init(struct tune_request *r, const char *profile)
{
	const struct tune_profile *p = tune_profile_find(profile);
	_cleanup_free_ char *origin = NULL;
	int k;

	*r = (struct tune_request){ 0 };
	if (!p)
		return -ENOENT;
	r->profile = strdup(p->name);
	if (!r->profile || asprintf(&origin, "profile %s", p->name) < 0) {
		tune_request_release(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_settings; i++) {
		struct tune_entry e;
		if ((k = entry_make(&e, p->settings[i].key, p->settings[i].value, p->settings[i].reason, origin, NULL,
				    0)) < 0 ||
		    (k = request_put(r, &e)) < 0) {
			tune_request_release(r);
			return k;
		}
	}
	return 0;
}

static char *trim(char *s)
{
	while (is_blank(*s))
		s++;
	size_t l = strlen(s);
	while (l > 0 && (is_blank(s[l - 1]) || s[l - 1] == '\r'))
		s[--l] = 0;
	return s;
}

/* A parsed line of a host file, before it goes into the request. */
struct pending {
	char *key, *value, *reason;
	unsigned line;
};

int tune_request_add_file(struct tune_request *r, const char *path, const char *text, struct tune_diags *diags)
{
	_cleanup_free_ char *copy = strdup(strempty(text));
	_cleanup_free_ char *comment = NULL;
	struct pending *pend = NULL;
	size_t n_pend = 0, errors = 0;
	bool in_sysctl = false, any_section = false;
	unsigned lineno = 0;
	int k = 0;

	if (!copy)
		return -ENOMEM;

#define DIAG(line, key, ...)                                                                               \
	do {                                                                                               \
		errors++;                                                                                  \
		if (diag_add(diags, path, (line), (key), __VA_ARGS__) < 0) {                               \
			k = -ENOMEM;                                                                       \
			goto finish;                                                                       \
		}                                                                                          \
	} while (0)

	for (char *p = copy, *next; p; p = next) {
		next = strchr(p, '\n');
		if (next)
			*next++ = 0;
		else if (!*p)
			break;
		lineno++;
		char *l = trim(p);

		if (!*l) {
			free(comment);
			comment = NULL;
			continue;
		}
		if (*l == '#' || *l == ';') {
			char *c = trim(l + 1);
			if (!*c)
				continue;
			char *n = NULL;
			if (asprintf(&n, "%s%s%s", strempty(comment), comment ? " " : "", c) < 0) {
				k = -ENOMEM;
				goto finish;
			}
			free(comment);
			comment = n;
			continue;
		}
		if (*l == '[') {
			char *end = strchr(l, ']');
			free(comment);
			comment = NULL;
			any_section = true;
			if (!end || end[1]) {
				DIAG(lineno, NULL, "a section line is \"[sysctl]\"");
				in_sysctl = false;
				continue;
			}
			*end = 0;
			char *name = trim(l + 1);
			in_sysctl = streq(name, "sysctl");
			if (!in_sysctl)
				DIAG(lineno, NULL, "unknown section [%.64s]: a host file has only [sysctl]", name);
			continue;
		}

		char *eq = strchr(l, '=');
		if (!eq) {
			DIAG(lineno, NULL, "expected \"key = value\"");
			continue;
		}
		*eq = 0;
		char *key = trim(l), *value = trim(eq + 1);
		_cleanup_free_ char *reason = TAKE_PTR(comment);

		if (!any_section) {
			DIAG(lineno, key, "outside any section: put keys below a \"[sysctl]\" line");
			continue;
		}
		if (!in_sysctl)
			continue; /* its section was reported */
		if (*key == '-') {
			DIAG(lineno, key, "the \"-\" prefix of sysctl.d is not supported: berth checks every key");
			continue;
		}
		if (strchr(key, '/')) {
			DIAG(lineno, key, "write the key with dots, e.g. net.core.somaxconn");
			continue;
		}
		if (!tune_key_is_valid(key)) {
			DIAG(lineno, NULL, "\"%.*s\" is not a sysctl name (letters, digits, '_' and '-' between dots)",
			     TUNE_KEY_MAX, key);
			continue;
		}
		const char *why = tune_key_removed(key);
		if (why) {
			DIAG(lineno, key, "not to be used: %s", why);
			continue;
		}
		bool dup = false;
		for (size_t i = 0; i < n_pend; i++)
			if (streq(pend[i].key, key)) {
				DIAG(lineno, key, "set twice (first on line %u)", pend[i].line);
				dup = true;
				break;
			}
		if (dup)
			continue;
		for (const char *c = value; *c; c++)
			if ((*c == '#' || *c == ';') && c > value && is_blank(c[-1])) {
				DIAG(lineno, key, "a comment goes on a line of its own, not after the value");
				dup = true;
				break;
			}
		if (dup)
			continue;

		_cleanup_free_ char *canon = NULL, *problem = NULL;
		int q = tune_value_canonical(key, value, &canon, &problem);
		if (q == -ENOMEM) {
			k = q;
			goto finish;
		}
		if (q < 0) {
			DIAG(lineno, key, "\"%.64s\": %s", value, strempty(problem));
			continue;
		}
		if (n_pend >= TUNE_ENTRIES_MAX) {
			DIAG(lineno, key, "more than %d keys", TUNE_ENTRIES_MAX);
			continue;
		}
		struct pending *np = realloc(pend, sizeof(*np) * (n_pend + 1));
		if (!np) {
			k = -ENOMEM;
			goto finish;
		}
		pend = np;
		pend[n_pend] = (struct pending){ strdup(key), TAKE_PTR(canon), TAKE_PTR(reason), lineno };
		if (!pend[n_pend].key) {
			free(pend[n_pend].value);
			free(pend[n_pend].reason);
			k = -ENOMEM;
			goto finish;
		}
		n_pend++;
	}
#undef DIAG

	/* into a copy of the request, swapped in only when complete; with errors too, so that the caller
	 * can check the valid lines against the kernel and report every problem at once */
	struct tune_request nr = { 0 };
	nr.profile = r->profile ? strdup(r->profile) : NULL;
	nr.file = strdup(path);
	if ((r->profile && !nr.profile) || !nr.file) {
		tune_request_release(&nr);
		k = -ENOMEM;
		goto finish;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct tune_entry *o = &r->entries[i];
		struct tune_entry e;
		if ((k = entry_make(&e, o->key, o->value, o->reason, o->origin, o->file, o->line)) < 0 ||
		    (k = request_put(&nr, &e)) < 0) {
			tune_request_release(&nr);
			goto finish;
		}
		nr.entries[nr.n - 1].direction = o->direction;
	}
	for (size_t i = 0; i < n_pend; i++) {
		_cleanup_free_ char *origin = NULL, *reason = NULL;
		const struct tune_entry *over = tune_request_find(&nr, pend[i].key);
		struct tune_entry e;

		if (asprintf(&origin, "%s:%u", path, pend[i].line) < 0) {
			tune_request_release(&nr);
			k = -ENOMEM;
			goto finish;
		}
		if (pend[i].reason)
			reason = strdup(pend[i].reason);
		else if (over)
			reason = strprintf("set in the host file, instead of %s's %s", over->origin, over->value);
		else
			reason = strdup("set in the host file");
		if (!reason || (k = entry_make(&e, pend[i].key, pend[i].value, reason, origin, path, pend[i].line)) < 0 ||
		    (k = request_put(&nr, &e)) < 0) {
			tune_request_release(&nr);
			k = k < 0 ? k : -ENOMEM;
			goto finish;
		}
	}
	tune_request_release(r);
	*r = nr;
	k = errors > 0 ? -EINVAL : 0;

finish:
	for (size_t i = 0; i < n_pend; i++) {
		free(pend[i].key);
		free(pend[i].value);
		free(pend[i].reason);
	}
	free(pend);
	return k;
}

int tune_request_add_service(struct tune_request *r, const char *service, uint64_t nofile)
{
	const struct tune_entry *cur = tune_request_find(r, "fs.nr_open");
	_cleanup_free_ char *value = NULL, *reason = NULL, *origin = NULL;
	uint64_t have;
	struct tune_entry e;
	int k;

	if (cur && parse_uint_range(cur->value, 0, UINT64_MAX, &have) >= 0 && have >= nofile)
		return 0;
	if (asprintf(&value, "%" PRIu64, nofile) < 0 || asprintf(&origin, "service %s", service) < 0 ||
	    asprintf(&reason,
		     "service \"%s\" asks for nofile = %" PRIu64 " (LimitNOFILE=): systemd cannot start it while "
		     "fs.nr_open is lower",
		     service, nofile) < 0)
		return -ENOMEM;
	if ((k = entry_make(&e, "fs.nr_open", value, reason, origin, NULL, 0)) < 0)
		return k;
	return request_put(r, &e);
}

/* --- previous.conf ---------------------------------------------------------------------------- */

void tune_state_release(struct tune_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->previous[i].key);
		free(s->previous[i].value);
	}
	free(s->previous);
	free(s->profile);
	free(s->file);
	*s = (struct tune_state){ 0 };
}

const char *tune_state_previous(const struct tune_state *s, const char *key)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (streq(s->previous[i].key, key))
			return s->previous[i].value;
	return NULL;
}

static int state_add(struct tune_state *s, const char *key, const char *value)
{
	struct tune_value *n = realloc(s->previous, sizeof(*n) * (s->n + 1));
	if (!n)
		return -ENOMEM;
	s->previous = n;
	n[s->n] = (struct tune_value){ strdup(key), strdup(value) };
	if (!n[s->n].key || !n[s->n].value) {
		free(n[s->n].key);
		free(n[s->n].value);
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

int tune_state_parse(const char *text, struct tune_state *ret, unsigned *reterr_line)
{
	_cleanup_free_ char *copy = strdup(strempty(text));
	struct tune_state s = { 0 };
	enum { NONE, REQUEST, PREVIOUS } section = NONE;
	unsigned lineno = 0;
	int k = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy, *next; p; p = next) {
		next = strchr(p, '\n');
		if (next)
			*next++ = 0;
		else if (!*p)
			break;
		lineno++;
		char *l = trim(p);
		if (!*l || *l == '#')
			continue;
		if (streq(l, "[request]")) {
			section = REQUEST;
			continue;
		}
		if (streq(l, "[previous]")) {
			section = PREVIOUS;
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq || section == NONE) {
			k = -EINVAL;
			break;
		}
		*eq = 0;
		char *key = trim(l), *value = trim(eq + 1);
		if (section == REQUEST) {
			char **dst = streq(key, "profile") ? &s.profile : streq(key, "file") ? &s.file : NULL;
			if (!dst || *dst || !*value) {
				k = -EINVAL;
				break;
			}
			if (!(*dst = strdup(value))) {
				k = -ENOMEM;
				break;
			}
			continue;
		}
		if (!tune_key_is_valid(key) || !*value || tune_state_previous(&s, key)) {
			k = -EINVAL;
			break;
		}
		if ((k = state_add(&s, key, value)) < 0)
			break;
	}
	if (k < 0) {
		tune_state_release(&s);
		if (k == -EINVAL && reterr_line)
			*reterr_line = lineno;
		return k;
	}
	*ret = s;
	return 0;
}

char *tune_state_format(const struct tune_state *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("# " TUNE_PREVIOUS_PATH " - written by berth tune. Do not edit.\n"
	      "# The values the kernel had before berth first changed each key (never berth's own);\n"
	      "# berth tune --revert writes them back.\n",
	      f);
	if (s->profile || s->file) {
		fputs("[request]\n", f);
		if (s->profile)
			fprintf(f, "profile = %s\n", s->profile);
		if (s->file)
			fprintf(f, "file = %s\n", s->file);
	}
	if (s->n > 0) {
		fputs("[previous]\n", f);
		for (size_t i = 0; i < s->n; i++)
			fprintf(f, "%s = %s\n", s->previous[i].key, s->previous[i].value);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- the plan ---------------------------------------------------------------------------------- */

const char *tune_action_to_string(enum tune_action a)
{
	switch (a) {
	case TUNE_ACTION_SET:
		return "set";
	case TUNE_ACTION_KEEP:
		return "keep";
	case TUNE_ACTION_RESTORE:
		return "restore";
	case TUNE_ACTION_NONE:
	default:
		return "none";
	}
}

static void item_release(struct tune_item *it)
{
	free(it->key);
	free(it->before);
	free(it->after);
	free(it->original);
	free(it->reason);
	free(it->note);
	free(it->origin);
	free(it->file);
}

void tune_plan_release(struct tune_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		item_release(&p->items[i]);
	free(p->items);
	strv_free(p->warnings);
	free(p->conf);
	free(p->saved_conf);
	free(p->state);
	free(p->state_early);
	*p = (struct tune_plan){ 0 };
}

bool tune_conf_is_ours(const char *text)
{
	if (!text)
		return false;
	const char *nl = strchr(text, '\n');
	size_t l = nl ? (size_t)(nl - text) : strlen(text);
	const char *marker = "written by berth tune";
	return text[0] == '#' && memmem(text, l, marker, strlen(marker)) != NULL;
}

static const char *direction_word(enum tune_direction d)
{
	return d == TUNE_LOWER ? "lower" : d == TUNE_WIDEN ? "wider" : "higher";
}

/* Why a key is not there: "not on this kernel" and a hint. */
static char *missing_message(const char *key)
{
	static const char *const hints[][2] = {
		{ "net.netfilter.", "the nf_conntrack module is not loaded: load it at boot (modules-load.d(5))" },
		{ "net.nf_conntrack_", "the nf_conntrack module is not loaded: load it at boot (modules-load.d(5))" },
		{ "net.bridge.", "the br_netfilter module is not loaded: load it at boot (modules-load.d(5))" },
		{ "net.ipv6.", "IPv6 is off on this kernel (ipv6.disable=1?)" },
	};
	const char *names[ELEMENTSOF(known_keys) + 1];
	char *m = NULL;

	for (size_t i = 0; i < ELEMENTSOF(hints); i++)
		if (startswith(key, hints[i][0])) {
			m = strprintf("not on this kernel: %s", hints[i][1]);
			return m;
		}
	for (size_t i = 0; i < ELEMENTSOF(known_keys); i++)
		names[i] = known_keys[i].key;
	names[ELEMENTSOF(known_keys)] = NULL;
	const char *s = suggest_closest(key, names);
	if (s && !streq(s, key))
		m = strprintf("not on this kernel; did you mean %s?", s);
	else
		m = strdup("not on this kernel (nothing under /proc/sys by that name)");
	return m;
}

static bool is_int_value(const char *v, size_t *ret_n)
{
	const char *w[16];
	size_t l[16];
	size_t n = split_words(v, w, l, ELEMENTSOF(w));
	if (n == 0 || n > ELEMENTSOF(w))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_int_word(w[i], l[i]))
			return false;
	*ret_n = n;
	return true;
}

/* A value berth records in previous.conf must come back exactly: one line, no blanks around it. */
static bool value_recordable(const char *v)
{
	size_t l = strlen(v);
	return l > 0 && !strchr(v, '\n') && !is_blank(v[0]) && !is_blank(v[l - 1]) && l <= 4 * TUNE_VALUE_MAX;
}

static int plan_add(struct tune_plan *p, struct tune_item *it)
{
	struct tune_item *n = realloc(p->items, sizeof(*n) * (p->n + 1));
	if (!n) {
		item_release(it);
		return -ENOMEM;
	}
	p->items = n;
	p->items[p->n++] = *it;
	return 0;
}

_printf_(2, 3) static int warn(struct tune_plan *p, const char *fmt, ...)
{
	va_list ap;
	char *m = NULL;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	return m ? strv_push(&p->warnings, m) : -ENOMEM;
}

static void wrap_comment(FILE *f, const char *text)
{
	const size_t width = 96;
	size_t col = 0;
	const char *w[1];
	size_t l[1];

	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != ' ')
			p++;
		w[0] = s;
		l[0] = (size_t)(p - s);
		if (col > 0 && col + 1 + l[0] > width) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0) {
			fputs("#", f);
			col = 1;
		}
		fputc(' ', f);
		fwrite(w[0], 1, l[0], f);
		col += 1 + l[0];
	}
	if (col > 0)
		fputc('\n', f);
}

static char *render_conf(const struct tune_plan *p, const struct tune_request *req, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "# %s - written by berth tune (profile %s%s%s).\n", path, req ? req->profile : "none",
		req && req->file ? ", host file " : "", req && req->file ? req->file : "");
	fputs("# Do not edit: berth tune rewrites this file and berth tune --revert removes it; put your own\n"
	      "# values in a host file given to berth tune. systemd-sysctl applies it at boot.\n",
	      f);
	for (size_t i = 0; i < p->n; i++) {
		const struct tune_item *it = &p->items[i];
		if (!it->managed)
			continue;
		_cleanup_free_ char *c = NULL;
		fputc('\n', f);
		if (asprintf(&c, "%s (%s%s)", it->reason, it->origin,
			     it->namespaced ? "; per network namespace" : "") < 0)
			c = NULL;
		wrap_comment(f, c ? c : it->reason);
		fprintf(f, "%s = %s\n", it->key, it->after);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int kernel_read(const struct tune_kernel *k, const char *key, char **ret)
{
	char *v = NULL;
	int r = k->read(key, &v, k->userdata);
	if (r < 0)
		return r;
	if (!v)
		return -EIO;
	*ret = v;
	return 0;
}

static int kernel_writable(const struct tune_kernel *k, const char *key)
{
	return k->writable ? k->writable(key, k->userdata) : 0;
}

static int unwritable_diag(struct tune_diags *diags, const struct tune_plan_input *in, const char *file,
			   unsigned line, const char *key, int err)
{
	const char *where = tune_key_namespaced(key) ? "" : " (a host-wide key: set it on the host)";
	if (err == -EROFS)
		return diag_add(diags, file, line, key, "cannot be changed here: /proc/sys is read-only%s%s",
				in->in_container ? " in this container" : "", in->in_container ? where : "");
	return diag_add(diags, file, line, key, "cannot be changed here: %s%s", strerror(-err),
			in->in_container ? where : "");
}

int tune_plan(const struct tune_plan_input *in, struct tune_plan *ret, struct tune_diags *diags)
{
	const struct tune_request *req = in->request;
	struct tune_plan p = { 0 };
	size_t errors_before = diags ? diags->n + diags->n_dropped : 0;
	bool failed = false;
	int k;

	p.warnings = calloc(1, sizeof(char *));
	if (!p.warnings)
		return -ENOMEM;

#define FAIL(...)                                                                                          \
	do {                                                                                               \
		failed = true;                                                                             \
		if ((k = diag_add(diags, __VA_ARGS__)) < 0)                                                \
			goto finish;                                                                       \
	} while (0)

	/* 1. the keys of the request */
	for (size_t i = 0; req && i < req->n; i++) {
		const struct tune_entry *e = &req->entries[i];
		const struct tune_key_info *info = tune_key_lookup(e->key);
		const char *orig = tune_state_previous(in->state, e->key);
		_cleanup_free_ char *live = NULL;
		const char *why;

		if ((why = tune_key_removed(e->key))) {
			FAIL(e->file, e->line, e->key, "not to be used: %s", why);
			continue;
		}
		k = kernel_read(in->kernel, e->key, &live);
		if (k == -ENOENT) {
			_cleanup_free_ char *m = missing_message(e->key);
			if (!m) {
				k = -ENOMEM;
				goto finish;
			}
			if (e->file)
				FAIL(e->file, e->line, e->key, "%s", m);
			else if ((k = warn(&p, "%s: %s; skipped (%s)", e->key, m, e->origin)) < 0)
				goto finish;
			continue;
		}
		if (k == -ENOMEM)
			goto finish;
		if (k == -EISDIR) {
			FAIL(e->file, e->line, e->key, "a group of keys (a directory under /proc/sys), not a key");
			continue;
		}
		if (k < 0) {
			FAIL(e->file, e->line, e->key, "cannot read its value: %s", strerror(-k));
			continue;
		}
		if (!value_recordable(live)) {
			FAIL(e->file, e->line, e->key, "its current value is not one plain line: berth cannot record it");
			continue;
		}
		if ((why = tune_key_noop(e->key)) && (k = warn(&p, "%s %s", e->key, why)) < 0)
			goto finish;

		/* the value must have the kernel's shape */
		size_t n_live, n_want;
		if (!info && is_int_value(live, &n_live) && (!is_int_value(e->value, &n_want) || n_want != n_live)) {
			FAIL(e->file, e->line, e->key, "\"%s\" does not fit: the kernel's value is \"%s\", %zu whole number%s",
			     e->value, live, n_live, n_live == 1 ? "" : "s");
			continue;
		}
		if (info && info->kind == TUNE_KIND_PORT_RANGE) {
			_cleanup_free_ char *ups = NULL;
			uint64_t lo, hi, start;
			if (tune_parse_port_range(e->value, &lo, &hi) >= 0 &&
			    kernel_read(in->kernel, "net.ipv4.ip_unprivileged_port_start", &ups) >= 0 &&
			    parse_uint_range(ups, 0, 65535, &start) >= 0 && lo < start) {
				FAIL(e->file, e->line, e->key,
				     "the kernel refuses a range starting below net.ipv4.ip_unprivileged_port_start (%" PRIu64 ")",
				     start);
				continue;
			}
			if (tune_parse_port_range(e->value, &lo, &hi) >= 0 && lo % 2 == hi % 2 &&
			    (k = warn(&p,
				      "%s = %s: the kernel prefers ends of different parity (it gives connect() and bind() "
				      "ports of either parity)",
				      e->key, e->value)) < 0)
				goto finish;
		}

		/* decide: compare with the value from before berth (else the live one) */
		const char *base = orig ? orig : live;
		bool keep = !in->force && tune_keep_current(e->direction, base, e->value);
		bool managed = !keep && !tune_value_equal(e->value, base);
		const char *after = managed ? e->value : base;
		struct tune_item it = {
			.key = strdup(e->key),
			.before = strdup(live),
			.after = strdup(after),
			.original = managed ? strdup(base) : NULL,
			.reason = strdup(e->reason),
			.origin = strdup(e->origin),
			.file = e->file ? strdup(e->file) : NULL,
			.line = e->line,
			.managed = managed,
			.changed = !tune_value_equal(live, after),
			.namespaced = tune_key_namespaced(e->key),
		};
		if (managed)
			it.action = it.changed ? TUNE_ACTION_SET : TUNE_ACTION_NONE;
		else if (orig && it.changed)
			it.action = TUNE_ACTION_RESTORE;
		else
			it.action = keep ? TUNE_ACTION_KEEP : TUNE_ACTION_NONE;
		if (keep)
			it.note = strprintf("%s: %s %s is already %s than %s (--force sets it)",
				       orig ? "restored" : "kept", orig ? "the value from before berth," : "the current",
				       base, direction_word(e->direction), e->value);
		else if (orig && !managed)
			it.note = strprintf("restored: the value from before berth is already %s", e->value);
		else if (in->force && tune_keep_current(e->direction, base, e->value))
			it.note = strprintf("forced: %s was %s", base, direction_word(e->direction));
		if (!it.key || !it.before || !it.after || (managed && !it.original) || !it.reason || !it.origin ||
		    (e->file && !it.file)) {
			item_release(&it);
			k = -ENOMEM;
			goto finish;
		}
		if (it.changed && (k = kernel_writable(in->kernel, e->key)) < 0) {
			if ((k = unwritable_diag(diags, in, e->file, e->line, e->key, k)) < 0) {
				item_release(&it);
				goto finish;
			}
			failed = true;
		}
		if ((k = plan_add(&p, &it)) < 0)
			goto finish;
	}

	/* 2. keys berth changed before that the request no longer wants: back to their old values */
	for (size_t i = 0; in->state && i < in->state->n; i++) {
		const struct tune_value *v = &in->state->previous[i];
		_cleanup_free_ char *live = NULL;

		if (req && tune_request_find(req, v->key))
			continue;
		k = kernel_read(in->kernel, v->key, &live);
		if (k == -ENOENT) {
			if ((k = warn(&p, "%s is no longer on this kernel: its value from before berth (%s) is forgotten",
				      v->key, v->value)) < 0)
				goto finish;
			continue;
		}
		if (k == -ENOMEM)
			goto finish;
		if (k < 0) {
			FAIL(NULL, 0, v->key, "cannot read its value: %s", strerror(-k));
			continue;
		}
		struct tune_item it = {
			.key = strdup(v->key),
			.before = strdup(live),
			.after = strdup(v->value),
			.reason = strdup(req ? "no longer tuned: back to the value from before berth"
					     : "berth tune --revert: back to the value from before berth"),
			.origin = strdup("previous.conf"),
			.changed = !tune_value_equal(live, v->value),
			.namespaced = tune_key_namespaced(v->key),
		};
		it.action = it.changed ? TUNE_ACTION_RESTORE : TUNE_ACTION_NONE;
		if (!it.key || !it.before || !it.after || !it.reason || !it.origin) {
			item_release(&it);
			k = -ENOMEM;
			goto finish;
		}
		if (it.changed && (k = kernel_writable(in->kernel, v->key)) < 0) {
			if ((k = unwritable_diag(diags, in, NULL, 0, v->key, k)) < 0) {
				item_release(&it);
				goto finish;
			}
			failed = true;
		}
		if ((k = plan_add(&p, &it)) < 0)
			goto finish;
	}
#undef FAIL

	if (failed || (diags && diags->n + diags->n_dropped > errors_before)) {
		k = -EINVAL;
		goto finish;
	}

	/* 3. the files */
	struct tune_state final = { 0 }, early = { 0 };
	bool any_managed = false, new_originals = false;
	k = 0;
	for (size_t i = 0; i < p.n; i++)
		p.live_changes |= p.items[i].changed;
	if (req) {
		bool remember = !streq_ptr(req->profile, TUNE_PROFILE_DEFAULT) || req->file;
		final.profile = remember ? (char *)req->profile : NULL;
		final.file = remember ? req->file : NULL;
	}
	early.profile = final.profile;
	early.file = final.file;
	/* early: every old original, then the new ones */
	for (size_t i = 0; k >= 0 && in->state && i < in->state->n; i++)
		k = state_add(&early, in->state->previous[i].key, in->state->previous[i].value);
	for (size_t i = 0; k >= 0 && i < p.n; i++) {
		if (!p.items[i].managed)
			continue;
		any_managed = true;
		k = state_add(&final, p.items[i].key, p.items[i].original);
		if (k >= 0 && !tune_state_previous(&early, p.items[i].key)) {
			k = state_add(&early, p.items[i].key, p.items[i].original);
			new_originals = true;
		}
	}
	if (k >= 0) {
		if (final.n > 0 || final.profile || final.file)
			p.state = tune_state_format(&final);
		if (new_originals)
			p.state_early = tune_state_format(&early);
		if ((!p.state && (final.n > 0 || final.profile || final.file)) || (new_originals && !p.state_early))
			k = -ENOMEM;
	}
	/* the request's strings are borrowed, not owned */
	final.profile = final.file = early.profile = early.file = NULL;
	tune_state_release(&final);
	tune_state_release(&early);
	if (k < 0)
		goto finish;

	/* a 60-berth.conf berth did not write is kept aside and put back when berth has nothing left */
	const char *saved = in->saved_conf_current;
	if (!saved && in->conf_current && !tune_conf_is_ours(in->conf_current))
		saved = in->conf_current;
	if (any_managed) {
		p.conf = render_conf(&p, req, in->conf_path ? in->conf_path : TUNE_CONF_PATH);
		p.saved_conf = saved ? strdup(saved) : NULL;
		if (!p.conf || (saved && !p.saved_conf)) {
			k = -ENOMEM;
			goto finish;
		}
	} else if (saved && !(p.conf = strdup(saved))) {
		k = -ENOMEM;
		goto finish;
	}
	k = 0;

finish:
	if (k < 0) {
		tune_plan_release(&p);
		return k;
	}
	*ret = p;
	return 0;
}

size_t tune_plan_files(const struct tune_plan *p, const char *conf_path, const char *state_path, const char *saved_path,
		       const char *paths[static 4], const char *contents[static 4])
{
	size_t n = 0;

	if (p->saved_conf) {
		paths[n] = saved_path;
		contents[n++] = p->saved_conf;
	}
	paths[n] = conf_path;
	contents[n++] = p->conf;
	if (!p->saved_conf) {
		paths[n] = saved_path;
		contents[n++] = NULL;
	}
	paths[n] = state_path;
	contents[n++] = p->state;
	return n;
}

bool tune_plan_changes_files(const struct tune_plan *p, const char *conf_current, const char *saved_current,
			     const char *state_current)
{
	return !streq_ptr(p->conf, conf_current) || !streq_ptr(p->saved_conf, saved_current) ||
	       !streq_ptr(p->state, state_current);
}

int tune_check_services(const struct tune_service *s, size_t n, uint64_t nr_open_now, uint64_t nr_open_after,
			uint64_t file_max_after, bool check, char ***warnings)
{
	for (size_t i = 0; i < n; i++) {
		char *m = NULL;
		uint64_t f = s[i].nofile;

		if (f == U64_UNSET)
			continue;
		if (nr_open_after > 0 && f > nr_open_after) {
			if (asprintf(&m,
				     "service \"%s\" asks for nofile = %" PRIu64 ", above fs.nr_open = %" PRIu64
				     ": systemd cannot start it (LimitNOFILE= fails); run berth tune to raise fs.nr_open",
				     s[i].name, f, nr_open_after) < 0)
				return -ENOMEM;
		} else if (check && nr_open_now > 0 && f > nr_open_now) {
			if (asprintf(&m,
				     "service \"%s\" asks for nofile = %" PRIu64 ", above fs.nr_open = %" PRIu64
				     ": systemd cannot start it until fs.nr_open is raised (berth tune raises it to %" PRIu64 ")",
				     s[i].name, f, nr_open_now, nr_open_after) < 0)
				return -ENOMEM;
		} else if (file_max_after > 0 && f > file_max_after) {
			if (asprintf(&m,
				     "service \"%s\" asks for nofile = %" PRIu64 ", above fs.file-max = %" PRIu64
				     ": the host-wide limit stops it first",
				     s[i].name, f, file_max_after) < 0)
				return -ENOMEM;
		}
		if (m && strv_push(warnings, m) < 0)
			return -ENOMEM;
	}
	return 0;
}
