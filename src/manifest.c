/* manifest.c - loading and validating one service's INI manifest (pure: reads the file, nothing else)
 *
 * The file is read once. iniparser reads those bytes (manifest-ini.c) and is the parser of record
 * for every value; an index of the same lines gives what its dictionary loses: line numbers, the
 * case of [environment] names, repeated keys, and the raw text of args and read_write_paths.
 *
 * What berth refuses it refuses before iniparser sees it, and iniparser is handed only the lines
 * berth takes (the others empty, so line numbers stay): the headers of known sections and the
 * first assignment of each key in them. One more rule keeps the meaning of a manifest the same
 * on every Debian release: iniparser 4.2 takes a backslash inside a quoted value as an escape,
 * where 4.1 keeps it, so such a value is refused, with a spelling that both read alike (see
 * ini_quoted_value_problem() and berth.ini(5)). Everything else berth accepts, both read alike.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "manifest-ini.h"
#include "manifest-keys.h"
#include "manifest.h"
#include "size.h"
#include "strv.h"
#include "suggest.h"
#include "utf8.h"

/* ==== validation helpers ==================================================================== */

static bool char_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool service_name_is_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n > SERVICE_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!char_is_alnum(*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

bool env_name_is_valid(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (const char *p = s; *p; p++)
		if (!char_is_alnum(*p) && *p != '_')
			return false;
	return true;
}

bool user_name_is_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n > 31)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
			continue;
		if (c == '$' && i == n - 1)
			continue;
		return false;
	}
	return true;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool unit_name_is_valid(const char *s)
{
	static const char *const types[] = {
		"service", "socket", "target", "device", "mount", "automount",
		"swap", "timer", "path", "slice", "scope",
	};
	const char *dot, *at = NULL;
	bool known = false;

	if (!s || strlen(s) > 255)
		return false;
	dot = strrchr(s, '.');
	if (!dot || dot == s)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(types); i++)
		if (streq(dot + 1, types[i]))
			known = true;
	if (!known)
		return false;
	for (const char *p = s; p < dot; p++) {
		if (char_is_alnum(*p) || *p == ':' || *p == '_' || *p == '.' || *p == '-')
			continue;
		if (*p == '@' && !at) {
			at = p;
			continue;
		}
		/* systemd's escapes: "\x2d" */
		if (*p == '\\' && p + 3 < dot && p[1] == 'x' && is_hex(p[2]) && is_hex(p[3])) {
			p += 3;
			continue;
		}
		return false;
	}
	/* "foo@bar.service" is fine; a template ("foo@.service") or "@bar.service" is not a unit */
	if (at && (at == s || at + 1 == dot))
		return false;
	return true;
}

int split_args(const char *s, char ***ret)
{
	_cleanup_strv_free_ char **l = NULL;
	_cleanup_free_ char *w = NULL;
	size_t n = 0;
	bool in_word = false;
	char q = 0;

	if (!s || !ret)
		return -EINVAL;
	l = calloc(1, sizeof(char *));
	w = malloc(strlen(s) + 1);
	if (!l || !w)
		return -ENOMEM;

	for (const char *p = s; *p; p++) {
		char c = *p;

		if (q == '\'') {
			if (c == '\'')
				q = 0;
			else
				w[n++] = c;
			continue;
		}
		if (c == '\\') {
			if (!p[1])
				return -EINVAL;
			w[n++] = *++p;
			in_word = true;
			continue;
		}
		if (q == '"') {
			if (c == '"')
				q = 0;
			else
				w[n++] = c;
			continue;
		}
		if (c == '"' || c == '\'') {
			q = c;
			in_word = true;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n') {
			if (in_word) {
				char *a = strndup(w, n);
				if (!a || strv_push(&l, a) < 0)
					return -ENOMEM;
				n = 0;
				in_word = false;
			}
			continue;
		}
		w[n++] = c;
		in_word = true;
	}
	if (q)
		return -EINVAL;
	if (in_word) {
		char *a = strndup(w, n);
		if (!a || strv_push(&l, a) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* Whether host (len bytes, without brackets) is this host: 127.0.0.0/8, ::1 or localhost.
 * Names other than localhost are refused rather than resolved: a check must not depend on DNS. */
static const char *local_host_problem(const char *host, size_t len, bool bracketed)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in_addr a4;
	struct in6_addr a6;

	if (len == 0)
		return "has no host";
	if (len >= sizeof(buf))
		return "is not on this host (use 127.0.0.1, [::1] or localhost)";
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (bracketed) {
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return "has an invalid IPv6 address";
		return IN6_IS_ADDR_LOOPBACK(&a6) ? NULL : "is not on this host (use 127.0.0.1, [::1] or localhost)";
	}
	if (strcasecmp(buf, "localhost") == 0)
		return NULL;
	if (inet_pton(AF_INET, buf, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127 ? NULL :
							 "is not on this host (use 127.0.0.1, [::1] or localhost)";
	if (strchr(buf, ':'))
		return "has an IPv6 address without brackets (write [::1])";
	return "is not on this host (use 127.0.0.1, [::1] or localhost)";
}

/* Splits "HOST[:PORT]" (HOST may be "[v6]"); port_required for host:port. */
static const char *parse_authority(const char *a, size_t len, bool port_required, char **ret_host,
				   uint16_t *ret_port)
{
	const char *host = a, *rest, *why;
	size_t hlen;
	bool bracketed = false;
	uint64_t port = 80;

	if (memchr(a, '@', len))
		return "contains a user name (\"@\")";
	if (len > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', len);
		if (!close)
			return "has an unterminated \"[\"";
		host = a + 1;
		hlen = (size_t)(close - host);
		rest = close + 1;
		bracketed = true;
	} else {
		const char *colon = memchr(a, ':', len);
		/* more than one colon: an IPv6 address without brackets */
		if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - a)))
			return "has an IPv6 address without brackets (write [::1])";
		hlen = colon ? (size_t)(colon - a) : len;
		rest = a + hlen;
	}
	why = local_host_problem(host, hlen, bracketed);
	if (why)
		return why;
	if (rest < a + len) {
		char buf[8];
		size_t plen = (size_t)(a + len - rest) - 1;
		if (*rest != ':')
			return "has text after the host";
		if (plen == 0 || plen >= sizeof(buf))
			return "has an invalid port (use 1 to 65535)";
		memcpy(buf, rest + 1, plen);
		buf[plen] = '\0';
		if (parse_uint_range(buf, 1, 65535, &port) < 0)
			return "has an invalid port (use 1 to 65535)";
	} else if (port_required)
		return "has no port";
	if (ret_host) {
		*ret_host = strndup(host, hlen);
		if (!*ret_host)
			return "";
		if (!bracketed && strcasecmp(*ret_host, "localhost") == 0)
			memcpy(*ret_host, "localhost", hlen);
	}
	if (ret_port)
		*ret_port = (uint16_t)port;
	return NULL;
}

/* RFC 3986 path and query characters; '#' (a fragment) has no place in a check. */
static bool url_path_char_ok(const char *p)
{
	static const char extra[] = "-._~!$&'()*+,;=:@/?";
	unsigned char c = (unsigned char)*p;

	if (c == '%')
		return is_hex(p[1]) && is_hex(p[2]);
	return char_is_alnum((char)c) || (c != '\0' && strchr(extra, c));
}

static const char *parse_http_url(const char *url, char **ret_host, uint16_t *ret_port, char **ret_path)
{
	_cleanup_free_ char *host = NULL;
	const char *p, *slash, *why;
	uint16_t port;
	size_t alen;

	if (!url)
		return "is missing";
	p = startswith(url, "http://");
	if (!p) {
		if (strncasecmp(url, "https://", 8) == 0)
			return "uses https, but the check speaks plain http to the service on this host";
		if (strncasecmp(url, "http://", 7) == 0)
			return "must start with http:// in lowercase";
		return strstr(url, "://") ? "is not an http URL" : "is not a URL";
	}
	slash = strchr(p, '/');
	alen = slash ? (size_t)(slash - p) : strlen(p);
	if (memchr(p, '?', alen) || memchr(p, '#', alen))
		return "has no path (add /, like http://127.0.0.1:8080/healthz)";
	why = parse_authority(p, alen, false, ret_host ? &host : NULL, &port);
	if (why)
		return *why ? why : "could not be stored (out of memory)";
	if (slash)
		for (const char *c = slash; *c; c++)
			if (!url_path_char_ok(c))
				return "has a character that is not allowed in a URL path (use %XX escapes)";
	if (ret_path) {
		*ret_path = strdup(slash ? slash : "/");
		if (!*ret_path)
			return "could not be stored (out of memory)";
	}
	if (ret_host)
		*ret_host = TAKE_PTR(host);
	if (ret_port)
		*ret_port = port;
	return NULL;
}

int parse_local_http_url(const char *url, char **ret_host, uint16_t *ret_port, char **ret_path)
{
	_cleanup_free_ char *host = NULL, *path = NULL;
	uint16_t port;
	const char *why = parse_http_url(url, &host, &port, &path);

	if (why)
		return strstr(why, "out of memory") ? -ENOMEM : -EINVAL;
	if (ret_host)
		*ret_host = TAKE_PTR(host);
	if (ret_port)
		*ret_port = port;
	if (ret_path)
		*ret_path = TAKE_PTR(path);
	return 0;
}

const char *local_http_url_problem(const char *url)
{
	return parse_http_url(url, NULL, NULL, NULL);
}

int parse_local_host_port(const char *s, char **ret_host, uint16_t *ret_port)
{
	char *host = NULL;
	uint16_t port;
	const char *why;

	if (!s)
		return -EINVAL;
	why = parse_authority(s, strlen(s), true, &host, &port);
	if (why)
		return *why ? -EINVAL : -ENOMEM;
	if (ret_host)
		*ret_host = host;
	else
		free(host);
	if (ret_port)
		*ret_port = port;
	return 0;
}

const char *local_host_port_problem(const char *s)
{
	if (!s)
		return "is missing";
	return parse_authority(s, strlen(s), true, NULL, NULL);
}

/* Calls fn for each item of a status set; false if the set is malformed. An item is "Nxx"
 * (N 1-5), "NNN" or "NNN-NNN" (100-599), items separated by commas, blanks allowed around them. */
static bool expect_parse(const char *expect, int status, bool *ret_match)
{
	const char *p = expect;
	bool match = false;
	size_t items = 0;

	if (!expect || strlen(expect) > 256)
		return false;
	for (;;) {
		int lo, hi;

		while (*p == ' ')
			p++;
		if (p[0] >= '1' && p[0] <= '5' && (p[1] == 'x' || p[1] == 'X') && (p[2] == 'x' || p[2] == 'X')) {
			lo = (p[0] - '0') * 100;
			hi = lo + 99;
			p += 3;
		} else {
			if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'))
				return false;
			lo = hi = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
			p += 3;
			if (*p == '-') {
				p++;
				if (!(p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
				      p[2] <= '9'))
					return false;
				hi = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
				p += 3;
			}
			if (lo < 100 || hi > 599 || lo > hi)
				return false;
		}
		if (*p >= '0' && *p <= '9')
			return false; /* "2000" */
		items++;
		if (status >= lo && status <= hi)
			match = true;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return false;
		p++;
	}
	if (items == 0)
		return false;
	if (ret_match)
		*ret_match = match;
	return true;
}

bool http_expect_is_valid(const char *expect)
{
	return expect_parse(expect, 0, NULL);
}

bool http_status_matches(const char *expect, int status)
{
	bool match = false;
	return expect_parse(expect, status, &match) && match;
}

/* ==== diags ================================================================================= */

struct diag_list {
	struct manifest_diag *items;
	size_t n, allocated;
	size_t n_dropped;
	bool oom;
};

/* Far more than anyone reads; keeps a hostile file from growing the list without bound. */
#define DIAGS_COLLECT_MAX 4096

static void diag_release(struct manifest_diag *d)
{
	free(d->section);
	free(d->key);
	free(d->message);
}

/* Identifier-like text from the file (a section or key name) made safe to print. */
static char *printable(const char *s)
{
	char *q, *r;
	size_t n;

	if (!s)
		return NULL;
	q = manifest_quote(s);
	if (!q)
		return NULL;
	n = strlen(q);
	r = strndup(q + 1, n - 2); /* without the quotes */
	free(q);
	return r;
}

static void diag_add_take(struct diag_list *l, unsigned line, const char *section, const char *key, char *message)
{
	struct manifest_diag d = { .line = line };

	if (!message) {
		l->oom = true;
		return;
	}
	if (l->n >= DIAGS_COLLECT_MAX) {
		l->n_dropped++;
		free(message);
		return;
	}
	d.message = message;
	d.section = section ? printable(section) : NULL;
	d.key = key ? printable(key) : NULL;
	if ((section && !d.section) || (key && !d.key)) {
		diag_release(&d);
		l->oom = true;
		return;
	}
	if (l->n == l->allocated) {
		size_t na = l->allocated ? l->allocated * 2 : 16;
		struct manifest_diag *ni = realloc(l->items, na * sizeof(*ni));
		if (!ni) {
			diag_release(&d);
			l->oom = true;
			return;
		}
		l->items = ni;
		l->allocated = na;
	}
	l->items[l->n++] = d;
}

static void diag_add(struct diag_list *l, unsigned line, const char *section, const char *key, const char *fmt, ...)
	_printf_(5, 6);
static void diag_add(struct diag_list *l, unsigned line, const char *section, const char *key, const char *fmt, ...)
{
	char *m = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	diag_add_take(l, line, section, key, m);
}

static int diag_order_cmp(const void *a, const void *b, void *userdata)
{
	const struct manifest_diag *items = userdata;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	unsigned li = items[i].line ? items[i].line : UINT32_MAX, lj = items[j].line ? items[j].line : UINT32_MAX;

	if (li != lj)
		return li < lj ? -1 : 1;
	/* same line: in the order they were found */
	return i < j ? -1 : i > j ? 1 : 0;
}

/* Sorts by line, those without one last; stable. */
static int diag_list_sort(struct diag_list *l)
{
	_cleanup_free_ size_t *idx = NULL;
	_cleanup_free_ struct manifest_diag *sorted = NULL;

	if (l->n < 2)
		return 0;
	idx = calloc(l->n, sizeof(size_t));
	sorted = calloc(l->n, sizeof(*sorted));
	if (!idx || !sorted)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		idx[i] = i;
	qsort_r(idx, l->n, sizeof(size_t), diag_order_cmp, l->items);
	for (size_t i = 0; i < l->n; i++)
		sorted[i] = l->items[idx[i]];
	memcpy(l->items, sorted, l->n * sizeof(*sorted));
	return 0;
}

static void diag_list_free(struct diag_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		diag_release(&l->items[i]);
	free(l->items);
	*l = (struct diag_list){ 0 };
}

/* Sorts by line (stable) and hands the first MANIFEST_DIAGS_MAX over to out. */
static void diag_list_finish(struct diag_list *l, struct manifest_diags *out)
{
	size_t keep;

	(void)diag_list_sort(l); /* on ENOMEM, in the order found: still every problem */
	if (!out) {
		diag_list_free(l);
		return;
	}
	keep = l->n < MANIFEST_DIAGS_MAX ? l->n : MANIFEST_DIAGS_MAX;
	for (size_t i = keep; i < l->n; i++)
		diag_release(&l->items[i]);
	out->n_dropped += l->n_dropped + (l->n - keep);
	if (keep > 0) {
		struct manifest_diag *ni = realloc(out->items, (out->n + keep) * sizeof(*ni));
		if (ni) {
			memcpy(ni + out->n, l->items, keep * sizeof(*ni));
			out->items = ni;
			out->n += keep;
		} else {
			for (size_t i = 0; i < keep; i++)
				diag_release(&l->items[i]);
			out->n_dropped += keep;
		}
	}
	free(l->items);
	*l = (struct diag_list){ 0 };
}

void manifest_diags_release(struct manifest_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		diag_release(&d->items[i]);
	free(d->items);
	*d = (struct manifest_diags){ 0 };
}

char *manifest_diag_format(const char *path, const struct manifest_diag *d)
{
	char where[32] = "";
	char *r;

	if (!d)
		return NULL;
	if (d->line)
		snprintf(where, sizeof(where), path ? ":%u" : "line %u", d->line);
	if (asprintf(&r, "%s%s%s%s%s%s%s%s%s", strempty(path), where, path || d->line ? ": " : "",
		     d->section ? "[" : "", strempty(d->section), d->section ? "] " : "", strempty(d->key),
		     d->key ? ": " : "", strempty(d->message)) < 0)
		return NULL;
	return r;
}

/* ==== loading ============================================================================== */

struct loader {
	const char *path;
	struct manifest *m;
	struct diag_list diags;
	struct ini_index index;
	const char **section_of; /* per indexed line: the known section an assignment is in, else NULL */
	size_t *dup_of;          /* per assignment: the first one with the same section and key, or SIZE_MAX */
	bool *keep;              /* per indexed line: handed to iniparser */
	dictionary *dict;
	unsigned key_line[64]; /* first line of each manifest_keys[] entry, 0 if absent */
};

static void loader_release(struct loader *l)
{
	ini_index_release(&l->index);
	free(l->section_of);
	free(l->dup_of);
	free(l->keep);
}

static unsigned *key_line_slot(struct loader *l, const struct manifest_key *k)
{
	size_t i = (size_t)(k - manifest_keys);
	return i < ELEMENTSOF(l->key_line) ? &l->key_line[i] : NULL;
}

static unsigned line_of(struct loader *l, const char *section, const char *key)
{
	const struct manifest_key *k = manifest_key_lookup(section, key);
	unsigned *slot = k ? key_line_slot(l, k) : NULL;
	return slot ? *slot : 0;
}

static struct manifest *manifest_new(void)
{
	struct manifest *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->args = calloc(1, sizeof(char *));
	m->after = calloc(1, sizeof(char *));
	m->wants = calloc(1, sizeof(char *));
	m->read_write_paths = calloc(1, sizeof(char *));
	m->address_families = calloc(1, sizeof(char *));
	if (!m->args || !m->after || !m->wants || !m->read_write_paths || !m->address_families)
		return manifest_free(m);

	m->stop_timeout = USEC_UNSET;
	m->restart_delay = USEC_UNSET;
	m->start_limit_burst = U64_UNSET;
	m->start_limit_interval = USEC_UNSET;
	m->memory_max = SIZE_UNSET;
	m->memory_high = SIZE_UNSET;
	m->memory_swap_max = SIZE_UNSET;
	m->tasks_max = U64_UNSET;
	m->nofile = U64_UNSET;
	m->cpu_weight = U64_UNSET;
	m->io_weight = U64_UNSET;
	m->start_period = USEC_UNSET;
	m->interval = USEC_UNSET;
	m->timeout = USEC_UNSET;
	m->failure_threshold = U64_UNSET;
	m->ready_timeout = USEC_UNSET;
	m->keep_releases = U64_UNSET;
	m->watch = USEC_UNSET;
	m->gomaxprocs_mode = GO_MODE_UNSET;
	m->gomemlimit_mode = GO_MODE_UNSET;

	/* fields without an "unset" value get their documented default from the table */
	for (size_t i = 0; i < manifest_n_keys; i++) {
		const struct manifest_key *k = &manifest_keys[i];
		_cleanup_free_ char *why = NULL;
		if (!(k->flags & MANIFEST_KEY_STORE_DEFAULT))
			continue;
		if (manifest_key_apply(k, k->default_text, m, &why) < 0)
			return manifest_free(m);
	}
	return m;
}

struct manifest *manifest_free(struct manifest *m)
{
	if (!m)
		return NULL;
	free(m->path);
	free(m->dir);
	free(m->name);
	free(m->binary);
	strv_free(m->args);
	free(m->user);
	free(m->group);
	free(m->working_directory);
	free(m->environment_file);
	free(m->description);
	strv_free(m->after);
	strv_free(m->wants);
	for (size_t i = 0; i < m->n_env; i++) {
		free(m->env[i].name);
		free(m->env[i].value);
	}
	free(m->env);
	free(m->http_url);
	free(m->http_host);
	free(m->http_path);
	free(m->http_expect);
	free(m->tcp_host);
	free(m->warmup_url);
	free(m->gogc);
	strv_free(m->read_write_paths);
	strv_free(m->address_families);
	free(m);
	return NULL;
}

/* The manifest's directory as an absolute path, without touching anything but the cwd. */
static int manifest_dir(const char *path, char **ret)
{
	_cleanup_free_ char *cwd = NULL, *d = NULL;
	const char *slash = strrchr(path, '/');
	char *r;

	if (path[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (!cwd)
			return negative_errno();
	}
	if (!slash)
		d = strdup(cwd);
	else if (slash == path)
		d = strdup("/");
	else if (cwd) {
		if (asprintf(&d, "%s/%.*s", cwd, (int)(slash - path), path) < 0)
			d = NULL;
	} else
		d = strndup(path, (size_t)(slash - path));
	if (!d)
		return -ENOMEM;
	r = manifest_path_simplify(d);
	if (!r)
		return -ENOMEM;
	*ret = r;
	return 0;
}

/* The text of a raw value up to the first ';' or '#' outside quotes, trailing blanks cut, with
 * quotes and backslashes as split_args() reads them. */
static char *raw_value_cut(const char *raw)
{
	size_t end = 0;
	char q = 0;

	for (size_t i = 0; raw[i]; i++) {
		char c = raw[i];
		if (q == '\'') {
			if (c == '\'')
				q = 0;
			end = i + 1;
			continue;
		}
		if (c == '\\') {
			if (raw[i + 1])
				i++;
			end = i + 1;
			continue;
		}
		if (q == '"') {
			if (c == '"')
				q = 0;
			end = i + 1;
			continue;
		}
		if (c == '"' || c == '\'') {
			q = c;
			end = i + 1;
			continue;
		}
		if (c == ';' || c == '#')
			break;
		if (!isspace((unsigned char)c))
			end = i + 1;
	}
	return strndup(raw, end);
}

/* The value iniparser read for line e (an assignment in a known section, not a repeat), or
 * NULL: then iniparser refused the file (already reported) or did not see the line as the index
 * did, which is reported here. */
static const char *entry_value(struct loader *l, const struct ini_line *e, const char *section)
{
	const char *v = ini_dictionary_value(l->dict, section, e->key);

	if (!v && l->dict)
		diag_add(&l->diags, e->first, NULL, NULL,
			 "internal error: the INI parser did not read this line as a key of [%s]; please report this",
			 section);
	return v;
}

static void apply_problem(struct loader *l, const struct ini_line *e, const char *section, const char *key,
			  int r, char *why)
{
	if (r == -ENOMEM || !why) {
		free(why);
		l->diags.oom = true;
		return;
	}
	diag_add_take(&l->diags, e->first, section, key, why);
}

/* A quoted value that iniparser 4.1 and 4.2 would read differently, or that loses text: true if
 * reported. */
static bool quoted_value_refused(struct loader *l, const struct ini_line *e, const char *section, const char *key)
{
	bool oom = false;
	_cleanup_free_ char *why = ini_quoted_value_problem(e->name, e->raw, streq(section, "environment"), &oom);
	_cleanup_free_ char *q = NULL;

	if (oom) {
		l->diags.oom = true;
		return true;
	}
	if (!why)
		return false;
	if (streq(section, "environment")) {
		/* never printed: it may be a secret */
		diag_add(&l->diags, e->first, section, key, "the value %s", why);
		return true;
	}
	q = manifest_quote(e->raw);
	diag_add(&l->diags, e->first, section, key, "value %s %s", strempty(q), why);
	return true;
}

static void handle_env(struct loader *l, size_t i)
{
	const struct ini_line *e = &l->index.lines[i];
	const struct manifest_key *k = manifest_key_lookup("environment", e->key);
	const char *value;
	char *problem = NULL;
	struct env_var *nv;
	int r;

	if (!env_name_is_valid(e->name)) {
		_cleanup_free_ char *q = manifest_quote(e->name);
		diag_add(&l->diags, e->first, "environment", e->name,
			 "invalid variable name %s: use letters, digits and _, not starting with a digit", strempty(q));
		return;
	}
	if (l->dup_of[i] != SIZE_MAX) {
		const struct ini_line *f = &l->index.lines[l->dup_of[i]];
		if (streq(f->name, e->name))
			diag_add(&l->diags, e->first, "environment", e->name,
				 "duplicate variable: %s is already set on line %u", e->name, f->first);
		else
			diag_add(
				&l->diags, e->first, "environment", e->name,
				"%s differs only in case from %s on line %u, and the INI parser cannot tell them apart",
				e->name, f->name, f->first);
		return;
	}
	if (quoted_value_refused(l, e, "environment", e->name))
		return;
	value = entry_value(l, e, "environment");
	if (!value)
		return;
	r = manifest_key_apply(k, value, l->m, &problem);
	if (r < 0) {
		apply_problem(l, e, "environment", e->name, r, problem);
		return;
	}
	nv = realloc(l->m->env, (l->m->n_env + 1) * sizeof(*nv));
	if (!nv) {
		l->diags.oom = true;
		return;
	}
	l->m->env = nv;
	nv[l->m->n_env] = (struct env_var){ .name = strdup(e->name), .value = strdup(value), .line = e->first };
	if (!nv[l->m->n_env].name || !nv[l->m->n_env].value) {
		free(nv[l->m->n_env].name);
		free(nv[l->m->n_env].value);
		l->diags.oom = true;
		return;
	}
	l->m->n_env++;
}

/* "did you mean" for a key that section does not have (section NULL: before any section) */
static void diag_unknown_key(struct loader *l, const struct ini_line *e, const char *section)
{
	_cleanup_free_ char *q = manifest_quote(e->name);
	const char *const *names = section ? manifest_section_key_names(section) : NULL;
	const char *near = names ? suggest_closest(e->key, names) : NULL;
	const struct manifest_key *other = NULL;

	if (!q) {
		l->diags.oom = true;
		return;
	}
	if (!near) {
		/* the same key (or a near one) in another section */
		const char *a = suggest_closest(e->key, manifest_all_key_names());
		for (size_t i = 0; a && i < manifest_n_keys && !other; i++)
			if (manifest_keys[i].name && streq(manifest_keys[i].name, a))
				other = &manifest_keys[i];
	}
	if (!section) {
		if (other)
			diag_add(&l->diags, e->first, NULL, e->name,
				 "key %s comes before any [section]: did you mean [%s] %s?", q, other->section,
				 other->name);
		else
			diag_add(&l->diags, e->first, NULL, e->name,
				 "key %s comes before any [section]: start the file with [service]", q);
		return;
	}
	if (near)
		diag_add(&l->diags, e->first, section, e->name, "unknown key %s: did you mean %s?", q, near);
	else if (other)
		diag_add(&l->diags, e->first, section, e->name, "unknown key %s in [%s]: did you mean [%s] %s?", q,
			 section, other->section, other->name);
	else {
		_cleanup_free_ char *list = names ? strv_join((char *const *)names, ", ") : NULL;
		diag_add(&l->diags, e->first, section, e->name, "unknown key %s: [%s] has %s", q, section,
			 list ? list : "other keys");
	}
}

static void diag_unknown_section(struct loader *l, const struct ini_line *e, const char *lower)
{
	_cleanup_free_ char *q = printable(e->name);
	const char *near = suggest_closest(lower, manifest_section_names());
	char list[256] = "";

	if (!q) {
		l->diags.oom = true;
		return;
	}
	if (near) {
		diag_add(&l->diags, e->first, lower, NULL, "unknown section [%s]: did you mean [%s]?", q, near);
		return;
	}
	for (const char *const *n = manifest_section_names(); *n; n++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s[%s]", used ? ", " : "", *n);
	}
	diag_add(&l->diags, e->first, lower, NULL, "unknown section [%s]: use %s", q, list);
}

static void handle_key(struct loader *l, size_t i, const char *section)
{
	const struct ini_line *e = &l->index.lines[i];
	const struct manifest_key *k = manifest_key_lookup(section, e->key);
	_cleanup_free_ char *cut = NULL;
	const char *value;
	char *problem = NULL;
	unsigned *slot;
	int r;

	if (!k) {
		diag_unknown_key(l, e, section);
		return;
	}
	if (l->dup_of[i] != SIZE_MAX) {
		diag_add(&l->diags, e->first, section, k->name, "duplicate key: %s is already set on line %u", k->name,
			 l->index.lines[l->dup_of[i]].first);
		return;
	}
	slot = key_line_slot(l, k);
	if (slot && *slot == 0)
		*slot = e->first;

	if (k->flags & MANIFEST_KEY_RAW) {
		/* split by berth (like a shell), from the text as written: iniparser would end the
		 * value at its first closing quote */
		cut = raw_value_cut(e->raw);
		if (!cut) {
			l->diags.oom = true;
			return;
		}
		value = cut;
	} else {
		if (quoted_value_refused(l, e, section, k->name))
			return;
		value = entry_value(l, e, section);
		if (!value)
			return;
	}
	r = manifest_key_apply(k, value, l->m, &problem);
	if (r < 0)
		apply_problem(l, e, section, k->name, r, problem);
}

/* A section header's name lowercased (as iniparser stores it), and whether berth takes it: not
 * empty, no bracket inside (iniparser 4.1 ends the name at the first ']', 4.2 at the last). */
static char *section_name(const struct ini_line *e, bool *ret_well_formed)
{
	char *lower = strdup(e->name);

	if (!lower)
		return NULL;
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	*ret_well_formed = !isempty(lower) && !strpbrk(lower, "[]");
	return lower;
}

static void diag_section(struct loader *l, const struct ini_line *e, unsigned section_line[static 16])
{
	const struct manifest_section *s;
	bool well_formed;
	_cleanup_free_ char *lower = section_name(e, &well_formed);

	if (!lower) {
		l->diags.oom = true;
		return;
	}
	if (isempty(lower)) {
		diag_add(&l->diags, e->first, NULL, NULL, "empty section name \"[]\": use [service], [resources], ...");
		return;
	}
	if (!well_formed) {
		_cleanup_free_ char *h = NULL, *q = NULL;
		if (asprintf(&h, "[%s]", e->name) < 0)
			h = NULL;
		q = h ? manifest_quote(h) : NULL;
		diag_add(&l->diags, e->first, NULL, NULL, "malformed section header %s: use [name]", strempty(q));
		return;
	}
	s = manifest_section_lookup(lower);
	if (!s) {
		diag_unknown_section(l, e, lower);
		return;
	}
	size_t idx = (size_t)(s - manifest_sections);
	if (idx >= 16)
		return;
	if (section_line[idx])
		diag_add(&l->diags, e->first, s->name, NULL,
			 "section [%s] appears again (first on line %u): keep each section in one place", s->name,
			 section_line[idx]);
	else
		section_line[idx] = e->first;
}

static void diag_line_error(struct loader *l, const struct ini_line *e)
{
	_cleanup_free_ char *q = NULL;

	switch (e->kind) {
	case INI_LINE_TOO_LONG:
		diag_add(&l->diags, e->first, NULL, NULL,
			 "line is longer than %d bytes%s, the most the INI parser reads: shorten it, or move long "
			 "values into environment_file",
			 MANIFEST_LINE_MAX, e->first != e->last ? " (joined with the lines it continues)" : "");
		return;
	case INI_LINE_DANGLING:
		diag_add(&l->diags, e->first, NULL, NULL,
			 "the last line ends with a backslash, which continues it onto a line that does not exist");
		return;
	default:
		break;
	}
	q = manifest_quote(e->text);
	if (!q)
		l->diags.oom = true;
	else if (e->first == 1 && startswith(e->text, "\xef\xbb\xbf"))
		diag_add(&l->diags, e->first, NULL, NULL,
			 "syntax error: the file starts with a byte order mark; save it as UTF-8 without one");
	else if (e->text[0] == '[')
		diag_add(&l->diags, e->first, NULL, NULL,
			 "syntax error in %s: a section header is [name] alone on its line", q);
	else
		diag_add(&l->diags, e->first, NULL, NULL,
			 "syntax error in %s: expected \"key = value\", \"[section]\", or a comment starting with ; or #",
			 q);
}

static int line_key_cmp(const void *a, const void *b, void *userdata)
{
	const struct loader *l = userdata;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(l->section_of[i], l->section_of[j]);

	if (c == 0)
		c = strcmp(l->index.lines[i].key, l->index.lines[j].key);
	if (c == 0)
		c = i < j ? -1 : i > j ? 1 : 0;
	return c;
}

/* Which section each assignment is in, which assignments repeat an earlier one (same section,
 * same lowercased key: iniparser cannot tell them apart), and so which lines iniparser gets:
 * the headers of known sections and the first assignment of each key in them. Everything else
 * is refused by berth anyway (and reported by walk()). */
static int plan(struct loader *l)
{
	_cleanup_free_ size_t *idx = NULL;
	const char *current = NULL;
	size_t n = l->index.n, n_idx = 0;

	l->section_of = calloc(n + 1, sizeof(*l->section_of));
	l->dup_of = calloc(n + 1, sizeof(*l->dup_of));
	l->keep = calloc(n + 1, sizeof(*l->keep));
	idx = calloc(n + 1, sizeof(*idx));
	if (!l->section_of || !l->dup_of || !l->keep || !idx)
		return -ENOMEM;

	for (size_t i = 0; i < n; i++) {
		const struct ini_line *e = &l->index.lines[i];

		l->dup_of[i] = SIZE_MAX;
		if (e->kind == INI_LINE_SECTION) {
			const struct manifest_section *s;
			bool well_formed;
			_cleanup_free_ char *lower = section_name(e, &well_formed);

			if (!lower)
				return -ENOMEM;
			s = well_formed ? manifest_section_lookup(lower) : NULL;
			current = s ? s->name : NULL;
			l->keep[i] = current != NULL;
		} else if (e->kind == INI_LINE_ASSIGNMENT && current) {
			l->section_of[i] = current;
			idx[n_idx++] = i;
		}
	}

	qsort_r(idx, n_idx, sizeof(size_t), line_key_cmp, l);
	for (size_t a = 0; a < n_idx;) {
		size_t b = a + 1;
		while (b < n_idx && streq(l->section_of[idx[a]], l->section_of[idx[b]]) &&
		       streq(l->index.lines[idx[a]].key, l->index.lines[idx[b]].key)) {
			l->dup_of[idx[b]] = idx[a];
			b++;
		}
		l->keep[idx[a]] = true;
		a = b;
	}
	return 0;
}

/* Every line in file order. */
static void walk(struct loader *l)
{
	unsigned section_line[16] = { 0 };
	bool any_section = false;

	for (size_t i = 0; i < l->index.n; i++) {
		const struct ini_line *e = &l->index.lines[i];

		switch (e->kind) {
		case INI_LINE_SECTION:
			any_section = true;
			diag_section(l, e, section_line);
			break;
		case INI_LINE_ASSIGNMENT:
			if (!any_section)
				diag_unknown_key(l, e, NULL);
			else if (!l->section_of[i])
				; /* in an unknown or broken section: reported once, at its header */
			else if (streq(l->section_of[i], "environment"))
				handle_env(l, i);
			else
				handle_key(l, i, l->section_of[i]);
			break;
		default:
			diag_line_error(l, e);
			break;
		}
	}
}

static void format_usec(char buf[static FORMAT_DURATION_MAX], usec_t v)
{
	if (!format_duration(buf, FORMAT_DURATION_MAX, v))
		snprintf(buf, FORMAT_DURATION_MAX, "?");
}

/* Checks that involve more than one key. */
static void cross_check(struct loader *l)
{
	struct manifest *m = l->m;
	char a[FORMAT_DURATION_MAX], b[FORMAT_DURATION_MAX];

	for (size_t i = 0; i < manifest_n_keys; i++) {
		const struct manifest_key *k = &manifest_keys[i];
		unsigned *slot = key_line_slot(l, k);
		if ((k->flags & MANIFEST_KEY_REQUIRED) && slot && *slot == 0)
			diag_add(&l->diags, 0, k->section, k->name, "required key is missing: add it to [%s]%s",
				 k->section, streq(k->name, "name") ? ", e.g. name = hello" : "");
	}

	if (m->memory_max != SIZE_UNSET && m->memory_max != SIZE_INFINITY && m->memory_high != SIZE_UNSET &&
	    m->memory_high != SIZE_INFINITY && m->memory_high > m->memory_max) {
		char x[FORMAT_SIZE_MAX], y[FORMAT_SIZE_MAX];
		diag_add(
			&l->diags, line_of(l, "resources", "memory_high"), "resources", "memory_high",
			"memory_high (%s) is above memory (%s): the kernel would kill the service before throttling it",
			format_size(x, sizeof(x), m->memory_high), format_size(y, sizeof(y), m->memory_max));
	}

	if (m->gomemlimit_mode == GO_MODE_VALUE && m->memory_max != SIZE_UNSET && m->memory_max != SIZE_INFINITY &&
	    m->gomemlimit > m->memory_max) {
		char x[FORMAT_SIZE_MAX], y[FORMAT_SIZE_MAX];
		diag_add(&l->diags, line_of(l, "go", "gomemlimit"), "go", "gomemlimit",
			 "gomemlimit (%s) is above [resources] memory (%s): the kernel would kill the service before "
			 "Go collects harder",
			 format_size(x, sizeof(x), m->gomemlimit), format_size(y, sizeof(y), m->memory_max));
	}
	if (line_of(l, "go", "gomemlimit_ratio") &&
	    (m->gomemlimit_mode == GO_MODE_OFF || m->gomemlimit_mode == GO_MODE_VALUE))
		diag_add(&l->diags, line_of(l, "go", "gomemlimit_ratio"), "go", "gomemlimit_ratio",
			 "gomemlimit_ratio only applies to gomemlimit = auto, but gomemlimit is set on line %u",
			 line_of(l, "go", "gomemlimit"));

	if (line_of(l, "health", "expect") && !line_of(l, "health", "http"))
		diag_add(&l->diags, line_of(l, "health", "expect"), "health", "expect",
			 "expect is for the http check, but [health] has no http URL");

	/* (unless one of them is given but invalid: that has its own message) */
	if (!(line_of(l, "health", "interval") && m->interval == USEC_UNSET) &&
	    !(line_of(l, "health", "timeout") && m->timeout == USEC_UNSET)) {
		usec_t interval = m->interval != USEC_UNSET ? m->interval : 5 * USEC_PER_SEC;
		usec_t timeout = m->timeout != USEC_UNSET ? m->timeout : 2 * USEC_PER_SEC;
		if (timeout > interval) {
			bool on_timeout = m->timeout != USEC_UNSET;
			format_usec(a, timeout);
			format_usec(b, interval);
			diag_add(&l->diags, line_of(l, "health", on_timeout ? "timeout" : "interval"), "health",
				 on_timeout ? "timeout" : "interval",
				 "timeout (%s%s) is longer than interval (%s%s): one check would still run when the "
				 "next starts",
				 a, on_timeout ? "" : ", the default", b,
				 on_timeout && m->interval == USEC_UNSET ? ", the default" : "");
		}
	}

	if (m->private_network && (m->http_url || m->tcp_port || m->listen_port || m->warmup_url)) {
		const char *what = m->http_url ? "http" : m->tcp_port ? "tcp" : m->listen_port ? "listen" : "warmup";
		diag_add(&l->diags, line_of(l, "hardening", "network"), "hardening", "network",
			 "network = no gives the service its own network namespace, where berth cannot reach it for "
			 "[health] %s (on line %u)",
			 what, line_of(l, "health", what));
	}

	/* a variable that [go] sets explicitly must not also be in [environment] */
	for (size_t i = 0; i < m->n_env; i++) {
		static const struct {
			const char *env, *key;
		} go_vars[] = { { "GOMAXPROCS", "gomaxprocs" }, { "GOMEMLIMIT", "gomemlimit" }, { "GOGC", "gogc" } };
		for (size_t j = 0; j < ELEMENTSOF(go_vars); j++) {
			unsigned at = line_of(l, "go", go_vars[j].key);
			if (at && streq(m->env[i].name, go_vars[j].env))
				diag_add(&l->diags, m->env[i].line, "environment", m->env[i].name,
					 "%s is also set by [go] %s on line %u: set it in one place", go_vars[j].env,
					 go_vars[j].key, at);
		}
	}
}

/* What iniparser said about the lines it was given (it is given none that berth refuses, so
 * anything here is news), and that it read them. */
static void report_iniparser(struct loader *l, const struct ini_messages *msgs)
{
	for (size_t i = 0; i < msgs->n; i++) {
		_cleanup_free_ char *q = manifest_quote(msgs->items[i]);
		diag_add(&l->diags, ini_message_line(msgs->items[i], msgs->name), NULL, NULL,
			 "the INI parser reports: %s", strempty(q));
	}
	if (!l->dict && msgs->n == 0)
		diag_add(&l->diags, 0, NULL, NULL, "the INI parser could not read the file");
}

static int read_manifest(const char *path, char **ret, size_t *ret_size, struct diag_list *diags)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t n = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode)) {
		diag_add(diags, 0, NULL, NULL, "not a regular file");
		return -EINVAL;
	}
	buf = malloc(MANIFEST_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t k = read(fd, buf + n, MANIFEST_FILE_MAX + 1 - n);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return negative_errno();
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > MANIFEST_FILE_MAX) {
			diag_add(diags, 0, NULL, NULL, "the file is larger than %d KiB, too large for a manifest",
				 MANIFEST_FILE_MAX / 1024);
			return -EINVAL;
		}
	}
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_size = n;
	return 0;
}

int manifest_load(const char *path, struct manifest **ret, struct manifest_diags *diags)
{
	_cleanup_(ini_dictionary_freep) dictionary *dict = NULL;
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_free_ char *buf = NULL;
	struct ini_messages msgs = { .n = 0 };
	struct loader l = { .path = path };
	size_t size = 0;
	bool has_nul = false;
	int r;

	if (!path || !ret)
		return -EINVAL;

	r = read_manifest(path, &buf, &size, &l.diags);
	if (r < 0)
		goto finish;

	/* a NUL byte would end the line early for iniparser and for any C string after it */
	for (size_t i = 0, line = 1; i < size; i++) {
		if (buf[i] == '\n')
			line++;
		else if (buf[i] == '\0') {
			diag_add(&l.diags, (unsigned)line, NULL, NULL, "the line contains a NUL byte");
			has_nul = true;
			while (i + 1 < size && buf[i + 1] != '\n')
				i++;
		}
	}
	if (has_nul) {
		r = -EINVAL;
		goto finish;
	}

	m = manifest_new();
	if (!m) {
		r = -ENOMEM;
		goto finish;
	}
	m->path = strdup(path);
	if (!m->path) {
		r = -ENOMEM;
		goto finish;
	}
	r = manifest_dir(path, &m->dir);
	if (r < 0)
		goto finish;

	r = ini_index_build(buf, size, &l.index);
	if (r < 0)
		goto finish;
	r = plan(&l);
	if (r < 0)
		goto finish;
	r = ini_dictionary_load(buf, size, &l.index, l.keep, &dict, &msgs);
	if (r < 0)
		goto finish;
	l.dict = dict;
	l.m = m;

	report_iniparser(&l, &msgs);
	walk(&l);
	cross_check(&l);

	if (l.diags.oom) {
		r = -ENOMEM;
		goto finish;
	}
	r = l.diags.n > 0 || l.diags.n_dropped > 0 ? -EINVAL : 0;

finish:
	ini_messages_release(&msgs);
	loader_release(&l);
	if (r == -EINVAL)
		diag_list_finish(&l.diags, diags);
	else
		diag_list_free(&l.diags);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}
