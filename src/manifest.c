/* manifest.c - loading and validating one service's INI manifest (pure: reads the file, nothing else)
 *
 * Two readers look at the same bytes. iniparser (Debian's libiniparser 4.1) parses the file into
 * its dictionary; a line scan here follows the same rules (it mirrors iniparser_load() and
 * iniparser_line() step by step, the same sscanf() patterns included) and adds what the
 * dictionary loses: line numbers, the case of [environment] names, duplicates, the raw text of
 * args and read_write_paths. The values iniparser stored are compared with the scan's; if they
 * ever differ, that is reported instead of guessing which one is right.
 *
 * iniparser rules, as 4.1 implements them:
 *   - a line is at most 1022 bytes plus the newline; a longer one makes iniparser give up;
 *   - a line ending in a backslash (after trailing blanks are cut) continues on the next one:
 *     the backslash is dropped, the next line's leading blanks are kept; comment lines too;
 *   - "[name]" opens a section (name stripped and lowercased); "[]" keeps the previous section;
 *   - "key = value": key up to the first '=', stripped and lowercased;
 *     a value that starts with " or ' ends at the next same quote (no escapes, anything after
 *     the closing quote is ignored); otherwise it ends at the first ';' or '#', blanks cut;
 *   - lines starting with ';' or '#' are comments; anything else is a syntax error.
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

#include <iniparser.h>

#include "macro.h"
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

/* ==== the line scan ========================================================================= */

#define INI_LINE_SIZE 1024 /* iniparser's ASCIILINESZ */

enum line_kind {
	LINE_SECTION,
	LINE_VALUE,
	LINE_ERROR,
};

struct scan_entry {
	enum line_kind kind;
	unsigned line;      /* first physical line */
	unsigned last_line; /* last physical line (where iniparser counts it) */
	char *section;      /* SECTION: its name as iniparser keeps it; VALUE: the section in effect */
	char *inner;        /* SECTION: the text between the brackets, stripped, as written */
	char *key;          /* VALUE: lowercased, as iniparser stores it */
	char *key_raw;      /* VALUE: as written */
	char *value;        /* VALUE: as iniparser stores it */
	char *raw;          /* VALUE: the text after the first '=', leading blanks cut */
	char *error;        /* ERROR: the message */
	size_t dup_of;      /* VALUE: index of the first entry with the same section and key, or SIZE_MAX */
	bool last_of_key;   /* VALUE: the last entry with this section and key (what iniparser keeps) */
};

struct scan {
	struct scan_entry *entries;
	size_t n, allocated;
	size_t n_errors;     /* lines iniparser refuses as well (it then loads nothing) */
};

static void scan_free(struct scan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct scan_entry *e = &s->entries[i];
		free(e->section);
		free(e->inner);
		free(e->key);
		free(e->key_raw);
		free(e->value);
		free(e->raw);
		free(e->error);
	}
	free(s->entries);
	*s = (struct scan){ 0 };
}

static struct scan_entry *scan_new_entry(struct scan *s, enum line_kind kind, unsigned line, unsigned last_line)
{
	if (s->n == s->allocated) {
		size_t na = s->allocated ? s->allocated * 2 : 64;
		struct scan_entry *ne = realloc(s->entries, na * sizeof(*ne));
		if (!ne)
			return NULL;
		s->entries = ne;
		s->allocated = na;
	}
	s->entries[s->n] = (struct scan_entry){
		.kind = kind, .line = line, .last_line = last_line, .dup_of = SIZE_MAX,
	};
	return &s->entries[s->n++];
}

/* ini_too: iniparser fails on this line as well; otherwise only berth is stricter */
static int scan_error(struct scan *s, bool ini_too, unsigned line, unsigned last_line, const char *fmt, ...)
	_printf_(5, 6);
static int scan_error(struct scan *s, bool ini_too, unsigned line, unsigned last_line, const char *fmt, ...)
{
	struct scan_entry *e = scan_new_entry(s, LINE_ERROR, line, last_line);
	va_list ap;
	int r;

	if (!e)
		return -ENOMEM;
	va_start(ap, fmt);
	r = vasprintf(&e->error, fmt, ap);
	va_end(ap);
	if (r < 0) {
		e->error = NULL;
		s->n--;
		return -ENOMEM;
	}
	if (ini_too)
		s->n_errors++;
	return 0;
}

/* iniparser's strstrip(): blanks cut at both ends, in place; returns the new length */
static size_t ini_strstrip(char *s)
{
	char *b = s, *e = s + strlen(s);

	while (*b && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	memmove(s, b, (size_t)(e - b));
	s[e - b] = '\0';
	return (size_t)(e - b);
}

static void ini_strlwc(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* iniparser's strlwc(s, s, len): lowercases and cuts s to at most len - 1 characters. That cut
 * matters after "[]", where the previous section's name is cut to one character. */
static void ini_strlwc_n(char *s, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return;
	for (; s[i] && i < len - 1; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	s[i] = '\0';
}

/* fgets() on the file held in memory, with feof() as glibc's stdio sets it: only when a read
 * ran into the end, not when the buffer filled up exactly at the end. */
static bool mem_fgets(char *dst, size_t size, const char *buf, size_t len, size_t *pos, bool *eof)
{
	size_t i = 0;

	if (*pos >= len) {
		*eof = true;
		return false;
	}
	while (i + 1 < size) {
		char c;
		if (*pos >= len) {
			*eof = true;
			break;
		}
		c = buf[(*pos)++];
		dst[i++] = c;
		if (c == '\n')
			break;
	}
	dst[i] = '\0';
	return true;
}

/* iniparser_line(): classifies one logical line exactly as iniparser 4.1 does, with the same
 * sscanf() patterns; section keeps the section in effect (a "[]" line leaves it unchanged). */
static int scan_line(struct scan *s, const char *input, char section[static INI_LINE_SIZE + 1], unsigned first,
		     unsigned lineno, bool ini_too)
{
	char line[INI_LINE_SIZE + 1], key[INI_LINE_SIZE + 1], value[INI_LINE_SIZE + 1];
	size_t len;
	struct scan_entry *e;

	snprintf(line, sizeof(line), "%s", input);
	len = ini_strstrip(line);
	if (len < 1 || line[0] == '#' || line[0] == ';')
		return 0;

	if (line[0] == '[' && line[len - 1] == ']') {
		char inner[INI_LINE_SIZE + 1];

		(void)sscanf(line, "[%1024[^]]", section);
		ini_strstrip(section);
		ini_strlwc_n(section, len);
		snprintf(inner, sizeof(inner), "%.*s", (int)(len - 2), line + 1);
		ini_strstrip(inner);
		e = scan_new_entry(s, LINE_SECTION, first, lineno);
		if (!e)
			return -ENOMEM;
		e->section = strdup(section);
		e->inner = strdup(inner);
		return e->section && e->inner ? 0 : -ENOMEM;
	}

	if (sscanf(line, "%1024[^=] = \"%1024[^\"]\"", key, value) == 2 ||
	    sscanf(line, "%1024[^=] = '%1024[^\']'", key, value) == 2) {
		/* quoted: the value is kept as it is between the quotes */
	} else if (sscanf(line, "%1024[^=] = %1024[^;#]", key, value) == 2) {
		ini_strstrip(value);
		if (streq(value, "\"\"") || streq(value, "''"))
			value[0] = '\0';
	} else if (sscanf(line, "%1024[^=] = %1024[;#]", key, value) == 2 ||
		   sscanf(line, "%1024[^=] %1024[=]", key, value) == 2) {
		/* "key =", "key = ;comment" */
		value[0] = '\0';
	} else {
		_cleanup_free_ char *q = manifest_quote(line);
		if (!q)
			return -ENOMEM;
		if (first == 1 && startswith(line, "\xef\xbb\xbf"))
			return scan_error(
				s, ini_too, first, lineno,
				"syntax error: the file starts with a byte order mark; save it as UTF-8 without one");
		if (line[0] == '[')
			return scan_error(s, ini_too, first, lineno,
					  "syntax error in %s: a section header is [name] alone on its line", q);
		return scan_error(s, ini_too, first, lineno,
				  "syntax error in %s: expected \"key = value\", \"[section]\", or a comment starting "
				  "with ; or #",
				  q);
	}

	e = scan_new_entry(s, LINE_VALUE, first, lineno);
	if (!e)
		return -ENOMEM;
	{
		const char *eq = strchr(line, '=');
		char raw_key[INI_LINE_SIZE + 1];

		snprintf(raw_key, sizeof(raw_key), "%.*s", (int)(eq - line), line);
		ini_strstrip(raw_key);
		e->key_raw = strdup(raw_key);
		e->key = strdup(raw_key);
		if (e->key)
			ini_strlwc(e->key);
		eq++;
		while (*eq && isspace((unsigned char)*eq))
			eq++;
		e->raw = strdup(eq);
	}
	e->section = strdup(section);
	e->value = strdup(value);
	return e->key_raw && e->key && e->raw && e->section && e->value ? 0 : -ENOMEM;
}

static int scan_buffer(const char *buf, size_t size, struct scan *s)
{
	char line[INI_LINE_SIZE + 1] = "";
	char section[INI_LINE_SIZE + 1] = "";
	size_t pos = 0, last = 0;
	unsigned lineno = 0, first = 0;
	bool eof = false;
	int r;

	while (mem_fgets(line + last, INI_LINE_SIZE - last, buf, size, &pos, &eof)) {
		size_t len;

		lineno++;
		if (last == 0)
			first = lineno;
		len = strlen(line);
		if (len <= 1) {
			/* iniparser skips a lone newline, and a one-byte last line without one: look
			 * at the latter anyway, a stray character there is a mistake */
			if (len == 1 && line[0] != '\n' && last == 0) {
				r = scan_line(s, line, section, first, lineno, false);
				if (r < 0)
					return r;
			}
			continue;
		}
		len--;
		if (line[len] != '\n' && !eof) {
			/* iniparser gives up on the whole file here; report it, skip the line, go on */
			r = scan_error(s, true, first, lineno,
				       "line is longer than %d bytes%s, the most the INI parser reads: shorten it, or "
				       "move long values into environment_file",
				       MANIFEST_LINE_MAX,
				       first != lineno ? " (joined with the lines it continues)" : "");
			if (r < 0)
				return r;
			while (pos < size && buf[pos++] != '\n')
				;
			memset(line, 0, sizeof(line));
			last = 0;
			continue;
		}
		/* trailing newline and blanks */
		while (len != (size_t)-1 && (line[len] == '\n' || isspace((unsigned char)line[len])))
			line[len--] = '\0';
		if (len == (size_t)-1)
			len = 0;
		if (line[len] == '\\') {
			last = len;
			continue;
		}
		last = 0;
		r = scan_line(s, line, section, first, lineno, true);
		if (r < 0)
			return r;
		memset(line, 0, sizeof(line));
	}
	if (last > 0) {
		/* iniparser drops a continued line at the end of the file without a word */
		r = scan_error(
			s, false, first, lineno,
			"the last line ends with a backslash, which continues it onto a line that does not exist");
		if (r < 0)
			return r;
	}
	return 0;
}

static int entry_key_cmp(const void *a, const void *b, void *userdata)
{
	const struct scan_entry *entries = userdata;
	const struct scan_entry *x = &entries[*(const size_t *)a], *y = &entries[*(const size_t *)b];
	int c = strcmp(x->section, y->section);

	if (c == 0)
		c = strcmp(x->key, y->key);
	if (c == 0)
		c = x->line < y->line ? -1 : x->line > y->line ? 1 : 0;
	return c;
}

/* Marks repeated keys (same section, same lowercased key: what iniparser cannot tell apart). */
static int scan_mark_duplicates(struct scan *s)
{
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;

	if (s->n == 0)
		return 0;
	idx = calloc(s->n, sizeof(size_t));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if (s->entries[i].kind == LINE_VALUE)
			idx[n++] = i;
	qsort_r(idx, n, sizeof(size_t), entry_key_cmp, s->entries);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && streq(s->entries[idx[j]].section, s->entries[idx[i]].section) &&
		       streq(s->entries[idx[j]].key, s->entries[idx[i]].key)) {
			s->entries[idx[j]].dup_of = idx[i];
			j++;
		}
		s->entries[idx[j - 1]].last_of_key = true;
		i = j;
	}
	return 0;
}

/* ==== iniparser ============================================================================= */

struct ini_messages {
	char *items[64];
	size_t n;
	bool oom;
};

static struct ini_messages *ini_capture;

static int ini_error_callback(const char *format, ...) _printf_(1, 2);
static int ini_error_callback(const char *format, ...)
{
	char *m = NULL;
	va_list ap;

	if (!ini_capture)
		return 0;
	va_start(ap, format);
	if (vasprintf(&m, format, ap) < 0)
		m = NULL;
	va_end(ap);
	if (!m)
		ini_capture->oom = true;
	else if (ini_capture->n < ELEMENTSOF(ini_capture->items))
		ini_capture->items[ini_capture->n++] = m;
	else
		free(m);
	return 0;
}

static dictionary *ini_load(const char *path, struct ini_messages *msgs)
{
	dictionary *d;

	/* the callback is process-global: point it here only while loading, then restore
	 * iniparser's default */
	ini_capture = msgs;
	iniparser_set_error_callback(ini_error_callback);
	d = iniparser_load(path);
	iniparser_set_error_callback(NULL);
	ini_capture = NULL;
	return d;
}

/* The line number in "iniparser: syntax error in PATH (N):..." or "... too long in PATH (N)". */
static unsigned ini_message_line(const char *msg, const char *path)
{
	static const char *const prefixes[] = { "iniparser: syntax error in ", "iniparser: input line too long in " };

	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
		const char *p = startswith(msg, prefixes[i]);
		uint64_t v;
		char buf[16];
		size_t n;

		if (!p)
			continue;
		p = startswith(p, path);
		if (!p || !(p = startswith(p, " (")))
			return 0;
		n = strspn(p, "0123456789");
		if (n == 0 || n >= sizeof(buf) || p[n] != ')')
			return 0;
		memcpy(buf, p, n);
		buf[n] = '\0';
		return parse_uint_range(buf, 1, UINT32_MAX, &v) < 0 ? 0 : (unsigned)v;
	}
	return 0;
}

static void ini_messages_free(struct ini_messages *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i]);
	m->n = 0;
}

static void dictionary_freep(dictionary **d)
{
	if (*d)
		iniparser_freedict(*d);
}

/* ==== loading ============================================================================== */

struct loader {
	const char *path;
	struct manifest *m;
	struct diag_list diags;
	struct scan scan;
	dictionary *dict;
	unsigned key_line[64]; /* first line of each manifest_keys[] entry, 0 if absent */
};

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

/* iniparser ends a quoted value at the next same quote and ignores the rest of the line: catch
 * what that would silently lose. */
static const char *quoted_value_problem(const char *raw)
{
	const char *close, *rest;
	char q = raw[0];

	if (q != '"' && q != '\'')
		return NULL;
	close = strchr(raw + 1, q);
	if (!close)
		return q == '"' ? "has no closing \" (quotes cannot be escaped: use '...' around a value with \")" :
				  "has no closing ' (quotes cannot be escaped: use \"...\" around a value with ')";
	for (rest = close + 1; *rest && isspace((unsigned char)*rest); rest++)
		;
	if (*rest && *rest != ';' && *rest != '#')
		return q == '"' ? "continues after its closing \", which the INI parser ignores (quotes cannot be "
				  "escaped: use '...' around a value with \", or quote the whole value)" :
				  "continues after its closing ', which the INI parser ignores (quotes cannot be "
				  "escaped: use \"...\" around a value with ', or quote the whole value)";
	return NULL;
}

/* The value of entry e as iniparser stored it; the scan's copy if iniparser did not load. */
static const char *entry_value(struct loader *l, const struct scan_entry *e)
{
	char k[2 * INI_LINE_SIZE + 2];
	const char *v;

	if (!l->dict || !e->last_of_key || strchr(e->section, ':') ||
	    strlen(e->section) + 1 + strlen(e->key) > INI_LINE_SIZE)
		return e->value;
	snprintf(k, sizeof(k), "%s:%s", e->section, e->key);
	v = iniparser_getstring(l->dict, k, NULL);
	return v ? v : e->value;
}

static void apply_problem(struct loader *l, const struct scan_entry *e, const char *section, const char *key,
			  int r, char *why)
{
	if (r == -ENOMEM || !why) {
		free(why);
		l->diags.oom = true;
		return;
	}
	diag_add_take(&l->diags, e->line, section, key, why);
}

static void handle_env(struct loader *l, const struct scan_entry *e)
{
	const struct manifest_key *k = manifest_key_lookup("environment", e->key);
	const char *value = entry_value(l, e), *why;
	char *problem = NULL;
	struct env_var *nv;
	int r;

	if (!env_name_is_valid(e->key_raw)) {
		_cleanup_free_ char *q = manifest_quote(e->key_raw);
		diag_add(&l->diags, e->line, "environment", e->key_raw,
			 "invalid variable name %s: use letters, digits and _, not starting with a digit", strempty(q));
		return;
	}
	if (e->dup_of != SIZE_MAX) {
		const struct scan_entry *f = &l->scan.entries[e->dup_of];
		if (streq(f->key_raw, e->key_raw))
			diag_add(&l->diags, e->line, "environment", e->key_raw,
				 "duplicate variable: %s is already set on line %u", e->key_raw, f->line);
		else
			diag_add(
				&l->diags, e->line, "environment", e->key_raw,
				"%s differs only in case from %s on line %u, and the INI parser cannot tell them apart",
				e->key_raw, f->key_raw, f->line);
		return;
	}
	why = quoted_value_problem(e->raw);
	if (why) {
		_cleanup_free_ char *q = manifest_quote(e->raw);
		diag_add(&l->diags, e->line, "environment", e->key_raw, "value %s %s", strempty(q), why);
		return;
	}
	r = manifest_key_apply(k, value, l->m, &problem);
	if (r < 0) {
		apply_problem(l, e, "environment", e->key_raw, r, problem);
		return;
	}
	nv = realloc(l->m->env, (l->m->n_env + 1) * sizeof(*nv));
	if (!nv) {
		l->diags.oom = true;
		return;
	}
	l->m->env = nv;
	nv[l->m->n_env] = (struct env_var){ .name = strdup(e->key_raw), .value = strdup(value), .line = e->line };
	if (!nv[l->m->n_env].name || !nv[l->m->n_env].value) {
		free(nv[l->m->n_env].name);
		free(nv[l->m->n_env].value);
		l->diags.oom = true;
		return;
	}
	l->m->n_env++;
}

/* "did you mean" for a key that section does not have (section NULL: before any section) */
static void diag_unknown_key(struct loader *l, const struct scan_entry *e, const char *section)
{
	_cleanup_free_ char *q = manifest_quote(e->key_raw);
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
			diag_add(&l->diags, e->line, NULL, e->key_raw,
				 "key %s comes before any [section]: did you mean [%s] %s?", q, other->section,
				 other->name);
		else
			diag_add(&l->diags, e->line, NULL, e->key_raw,
				 "key %s comes before any [section]: start the file with [service]", q);
		return;
	}
	if (near)
		diag_add(&l->diags, e->line, section, e->key_raw, "unknown key %s: did you mean %s?", q, near);
	else if (other)
		diag_add(&l->diags, e->line, section, e->key_raw, "unknown key %s in [%s]: did you mean [%s] %s?", q,
			 section, other->section, other->name);
	else {
		_cleanup_free_ char *list = names ? strv_join((char *const *)names, ", ") : NULL;
		diag_add(&l->diags, e->line, section, e->key_raw, "unknown key %s: [%s] has %s", q, section,
			 list ? list : "other keys");
	}
}

static void diag_unknown_section(struct loader *l, const struct scan_entry *e)
{
	_cleanup_free_ char *q = printable(e->inner);
	const char *near = suggest_closest(e->section, manifest_section_names());
	char list[256] = "";

	if (!q) {
		l->diags.oom = true;
		return;
	}
	if (near) {
		diag_add(&l->diags, e->line, e->section, NULL, "unknown section [%s]: did you mean [%s]?", q, near);
		return;
	}
	for (const char *const *n = manifest_section_names(); *n; n++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s[%s]", used ? ", " : "", *n);
	}
	diag_add(&l->diags, e->line, e->section, NULL, "unknown section [%s]: use %s", q, list);
}

static void handle_key(struct loader *l, const struct scan_entry *e, const char *section)
{
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
	if (e->dup_of != SIZE_MAX) {
		diag_add(&l->diags, e->line, section, k->name, "duplicate key: %s is already set on line %u", k->name,
			 l->scan.entries[e->dup_of].line);
		return;
	}
	slot = key_line_slot(l, k);
	if (slot && *slot == 0)
		*slot = e->line;

	if (k->flags & MANIFEST_KEY_RAW) {
		cut = raw_value_cut(e->raw);
		if (!cut) {
			l->diags.oom = true;
			return;
		}
		value = cut;
	} else {
		const char *why = quoted_value_problem(e->raw);
		if (why) {
			_cleanup_free_ char *q = manifest_quote(e->raw);
			diag_add(&l->diags, e->line, section, k->name, "value %s %s", strempty(q), why);
			return;
		}
		value = entry_value(l, e);
	}
	r = manifest_key_apply(k, value, l->m, &problem);
	if (r < 0)
		apply_problem(l, e, section, k->name, r, problem);
}

/* Every logical line in file order. */
static void walk(struct loader *l)
{
	unsigned section_line[16] = { 0 };
	const char *current = NULL; /* known section in effect, NULL if unknown or none yet */
	bool any_section = false;

	for (size_t i = 0; i < l->scan.n; i++) {
		const struct scan_entry *e = &l->scan.entries[i];

		switch (e->kind) {
		case LINE_ERROR:
			diag_add(&l->diags, e->line, NULL, NULL, "%s", e->error);
			break;

		case LINE_SECTION: {
			const struct manifest_section *s;
			_cleanup_free_ char *lower = strdup(e->inner);

			any_section = true;
			current = NULL;
			if (!lower) {
				l->diags.oom = true;
				break;
			}
			ini_strlwc(lower);
			if (isempty(e->inner)) {
				diag_add(&l->diags, e->line, NULL, NULL,
					 "empty section name \"[]\": use [service], [resources], ...");
				break;
			}
			if (!streq(lower, e->section)) {
				_cleanup_free_ char *h = NULL, *q = NULL;
				if (asprintf(&h, "[%s]", e->inner) < 0)
					h = NULL;
				q = h ? manifest_quote(h) : NULL;
				diag_add(&l->diags, e->line, NULL, NULL, "malformed section header %s: use [name]",
					 strempty(q));
				break;
			}
			s = manifest_section_lookup(e->section);
			if (!s) {
				diag_unknown_section(l, e);
				break;
			}
			size_t idx = (size_t)(s - manifest_sections);
			if (idx < ELEMENTSOF(section_line) && section_line[idx]) {
				diag_add(
					&l->diags, e->line, s->name, NULL,
					"section [%s] appears again (first on line %u): keep each section in one place",
					s->name, section_line[idx]);
			} else if (idx < ELEMENTSOF(section_line))
				section_line[idx] = e->line;
			current = s->name;
			break;
		}

		case LINE_VALUE:
			if (!any_section)
				diag_unknown_key(l, e, NULL);
			else if (!current)
				; /* in an unknown or broken section: reported once, at its header */
			else if (streq(current, "environment"))
				handle_env(l, e);
			else
				handle_key(l, e, current);
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

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* iniparser and the scan must agree on what the file holds; if not, say so rather than use
 * values nobody can explain. */
static void compare_with_iniparser(struct loader *l, const struct ini_messages *msgs)
{
	_cleanup_free_ char **names = NULL;
	size_t n = 0, distinct = 0;
	bool colon = false;

	/* iniparser's own complaints, unless the scan already reported that line */
	for (size_t i = 0; i < msgs->n; i++) {
		unsigned at = ini_message_line(msgs->items[i], l->path);
		bool known = false;
		for (size_t j = 0; j < l->scan.n && at; j++) {
			const struct scan_entry *e = &l->scan.entries[j];
			if (e->kind == LINE_ERROR && e->line <= at && at <= e->last_line)
				known = true;
		}
		if (!known) {
			_cleanup_free_ char *q = manifest_quote(msgs->items[i]);
			diag_add(&l->diags, at, NULL, NULL, "the INI parser reports: %s", strempty(q));
		}
	}
	if (msgs->oom)
		l->diags.oom = true;

	if (!l->dict) {
		if (l->scan.n_errors == 0 && msgs->n == 0)
			diag_add(&l->diags, 0, NULL, NULL, "the INI parser could not read the file");
		return;
	}
	if (l->scan.n_errors > 0) {
		diag_add(&l->diags, 0, NULL, NULL,
			 "internal error: the INI parser accepted lines that berth's line scan refused; please report "
			 "this");
		return;
	}

	/* every value, and the number of entries */
	names = calloc(l->scan.n + 1, sizeof(char *));
	if (!names) {
		l->diags.oom = true;
		return;
	}
	for (size_t i = 0; i < l->scan.n; i++) {
		struct scan_entry *e = &l->scan.entries[i];
		if (e->kind == LINE_ERROR)
			continue;
		if (strchr(e->section, ':'))
			colon = true;
		if (e->kind == LINE_SECTION) {
			names[n++] = e->section;
			continue;
		}
		if (e->kind != LINE_VALUE || !e->last_of_key)
			continue;
		if (strchr(e->section, ':') || strlen(e->section) + 1 + strlen(e->key) > INI_LINE_SIZE)
			continue;
		char k[2 * INI_LINE_SIZE + 2];
		snprintf(k, sizeof(k), "%s:%s", e->section, e->key);
		const char *v = iniparser_getstring(l->dict, k, NULL);
		if (!v || !streq(v, e->value)) {
			diag_add(&l->diags, e->line, NULL, NULL,
				 "internal error: the INI parser read this line differently from berth's line scan; "
				 "please report this");
			return;
		}
	}
	if (colon)
		return; /* "[a:b]" and key b in [a] are one dictionary entry: counting would mislead */
	qsort(names, n, sizeof(char *), str_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || !streq(names[i], names[i - 1]))
			distinct++;
	for (size_t i = 0; i < l->scan.n; i++)
		if (l->scan.entries[i].kind == LINE_VALUE && l->scan.entries[i].last_of_key)
			distinct++;
	if ((size_t)l->dict->n != distinct)
		diag_add(&l->diags, 0, NULL, NULL,
			 "internal error: the INI parser found %d entries where berth's line scan found %zu; please "
			 "report this",
			 l->dict->n, distinct);
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
	_cleanup_(dictionary_freep) dictionary *dict = NULL;
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

	r = scan_buffer(buf, size, &l.scan);
	if (r < 0)
		goto finish;
	r = scan_mark_duplicates(&l.scan);
	if (r < 0)
		goto finish;

	dict = ini_load(path, &msgs);
	l.dict = dict;
	l.m = m;

	compare_with_iniparser(&l, &msgs);
	walk(&l);
	cross_check(&l);

	if (l.diags.oom) {
		r = -ENOMEM;
		goto finish;
	}
	r = l.diags.n > 0 || l.diags.n_dropped > 0 ? -EINVAL : 0;

finish:
	ini_messages_free(&msgs);
	scan_free(&l.scan);
	if (r == -EINVAL)
		diag_list_finish(&l.diags, diags);
	else
		diag_list_free(&l.diags);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}
