/* manifest-keys.c - the one table of every manifest section and key, and how each is stored */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "manifest-keys.h"
#include "manifest.h"
#include "size.h"
#include "strv.h"
#include "suggest.h"
#include "utf8.h"

/* offsetof() of a field of struct manifest, checked at compile time to have type T, so that
 * the setter for a type never writes through the wrong kind of field. */
#define FIELD(f, T)                                                                                \
	(offsetof(struct manifest, f) +                                                            \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((struct manifest *)0)->f), T) ? 1 : -1]))

#define AT(m, k, T) ((T *)(void *)((char *)(m) + (k)->offset))

/* ---- messages ------------------------------------------------------------------------------ */

#define QUOTE_MAX 64

char *manifest_quote(const char *s)
{
	size_t n = strlen(s), shown = 0;
	/* worst case 4 bytes out per byte in, plus quotes, "..." and NUL */
	char *buf = malloc(QUOTE_MAX * 4 + 8), *p = buf;

	if (!buf)
		return NULL;
	*p++ = '"';
	for (size_t i = 0; i < n && shown < QUOTE_MAX;) {
		unsigned char c = (unsigned char)s[i];
		size_t l = utf8_char_len(s + i, n - i);

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
			i++;
		} else if (l == 0 || c < 0x20 || c == 0x7f) {
			p += sprintf(p, "\\x%02x", c);
			i++;
		} else {
			memcpy(p, s + i, l);
			p += l;
			i += l;
		}
		shown++;
		if (shown == QUOTE_MAX && i < n)
			p = stpcpy(p, "...");
	}
	*p++ = '"';
	*p = '\0';
	return buf;
}

/* Sets *ret to the formatted message and returns -EINVAL, or -ENOMEM. */
static int problem(char **ret, const char *fmt, ...) _printf_(2, 3);
static int problem(char **ret, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (r < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return -EINVAL;
}

/* "invalid size "512Q": use a whole number with K, M, G or T (powers of 1024), or infinity" */
static int problem_value(char **ret, const char *what, const char *value, const char *detail, const char *use)
{
	_cleanup_free_ char *q = manifest_quote(value);

	if (!q)
		return -ENOMEM;
	if (detail)
		return problem(ret, "%s %s %s: use %s", what, q, detail, use);
	return problem(ret, "invalid %s %s: use %s", what, q, use);
}

static const char *type_noun(enum manifest_type t)
{
	static const char *const nouns[_MANIFEST_TYPE_MAX] = {
		[MANIFEST_TYPE_TEXT] = "value",
		[MANIFEST_TYPE_NAME] = "service name",
		[MANIFEST_TYPE_PATH] = "path",
		[MANIFEST_TYPE_BINARY] = "path",
		[MANIFEST_TYPE_ARGS] = "arguments",
		[MANIFEST_TYPE_USER] = "user",
		[MANIFEST_TYPE_GROUP] = "group",
		[MANIFEST_TYPE_UNITS] = "unit name",
		[MANIFEST_TYPE_ENUM] = "value",
		[MANIFEST_TYPE_DURATION] = "duration",
		[MANIFEST_TYPE_SIZE] = "size",
		[MANIFEST_TYPE_PERCENT] = "percentage",
		[MANIFEST_TYPE_UINT] = "number",
		[MANIFEST_TYPE_PORT] = "port",
		[MANIFEST_TYPE_BOOL] = "boolean",
		[MANIFEST_TYPE_URL] = "URL",
		[MANIFEST_TYPE_STATUS] = "status set",
		[MANIFEST_TYPE_HOST_PORT] = "address",
		[MANIFEST_TYPE_PATHS] = "path",
		[MANIFEST_TYPE_FAMILIES] = "address family",
		[MANIFEST_TYPE_GO] = "value",
		[MANIFEST_TYPE_ENV] = "value",
	};
	return t < _MANIFEST_TYPE_MAX && nouns[t] ? nouns[t] : "value";
}

const char *manifest_type_name(enum manifest_type t)
{
	static const char *const names[_MANIFEST_TYPE_MAX] = {
		[MANIFEST_TYPE_TEXT] = "text",
		[MANIFEST_TYPE_NAME] = "name",
		[MANIFEST_TYPE_PATH] = "path",
		[MANIFEST_TYPE_BINARY] = "path",
		[MANIFEST_TYPE_ARGS] = "arguments",
		[MANIFEST_TYPE_USER] = "user",
		[MANIFEST_TYPE_GROUP] = "group",
		[MANIFEST_TYPE_UNITS] = "unit names",
		[MANIFEST_TYPE_ENUM] = "choice",
		[MANIFEST_TYPE_DURATION] = "duration",
		[MANIFEST_TYPE_SIZE] = "size",
		[MANIFEST_TYPE_PERCENT] = "percentage",
		[MANIFEST_TYPE_UINT] = "number",
		[MANIFEST_TYPE_PORT] = "port",
		[MANIFEST_TYPE_BOOL] = "boolean",
		[MANIFEST_TYPE_URL] = "URL",
		[MANIFEST_TYPE_STATUS] = "status set",
		[MANIFEST_TYPE_HOST_PORT] = "host:port",
		[MANIFEST_TYPE_PATHS] = "paths",
		[MANIFEST_TYPE_FAMILIES] = "address families",
		[MANIFEST_TYPE_GO] = "auto, off or a value",
		[MANIFEST_TYPE_ENV] = "text",
	};
	return t < _MANIFEST_TYPE_MAX && names[t] ? names[t] : "value";
}

static const char *type_allowed(enum manifest_type t)
{
	switch (t) {
	case MANIFEST_TYPE_TEXT:
	case MANIFEST_TYPE_ENV:
		return "one line of UTF-8 text without control characters";
	case MANIFEST_TYPE_NAME:
		return "1 to 64 letters, digits, \"_\", \".\" or \"-\", not starting with \"-\" or \".\"";
	case MANIFEST_TYPE_PATH:
		return "an absolute path, like /srv/app";
	case MANIFEST_TYPE_BINARY:
		return "a path to the binary, absolute or relative to the manifest's directory";
	case MANIFEST_TYPE_ARGS:
		return "words separated by blanks, quoted like a shell (\"two words\", 'single', back\\ slash)";
	case MANIFEST_TYPE_USER:
		return "dynamic, or a user name: lowercase letters, digits, \"_\" and \"-\", up to 31 characters";
	case MANIFEST_TYPE_GROUP:
		return "a group name: lowercase letters, digits, \"_\" and \"-\", up to 31 characters";
	case MANIFEST_TYPE_UNITS:
		return "unit names separated by blanks, like network-online.target postgresql.service";
	case MANIFEST_TYPE_DURATION:
		return "a duration like 500ms, 30s, 5min, 1h or 1h30min (a bare number is seconds)";
	case MANIFEST_TYPE_SIZE:
		return "a whole number with K, M, G or T (powers of 1024), or infinity";
	case MANIFEST_TYPE_PORT:
		return "a port number from 1 to 65535";
	case MANIFEST_TYPE_BOOL:
		return "yes or no (or true/false, on/off, 1/0)";
	case MANIFEST_TYPE_URL:
		return "http://127.0.0.1:PORT/PATH, http://[::1]:PORT/PATH or http://localhost:PORT/PATH";
	case MANIFEST_TYPE_STATUS:
		return "statuses and ranges separated by commas, like 2xx, 200, 200,204, 200-299 or 2xx,301";
	case MANIFEST_TYPE_HOST_PORT:
		return "127.0.0.1:PORT, [::1]:PORT or localhost:PORT";
	case MANIFEST_TYPE_PATHS:
		return "absolute paths separated by blanks; quote a path with spaces in \"...\"";
	default:
		return "a valid value";
	}
}

const char *manifest_key_allowed(const struct manifest_key *k)
{
	return k->allowed ? k->allowed : type_allowed(k->type);
}

/* ---- value checks shared by every key ----------------------------------------------------- */

const char *manifest_value_problem(const char *s)
{
	static _Thread_local char buf[64];
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t l = utf8_char_len(s + i, n - i);

		if (l == 0) {
			snprintf(buf, sizeof(buf), "is not valid UTF-8 (byte 0x%02x at offset %zu)", c, i);
			return buf;
		}
		if (c == '\t')
			return "contains a tab (control characters are not allowed)";
		if (c == '\r')
			return "contains a carriage return (control characters are not allowed)";
		if (c < 0x20 || c == 0x7f) {
			snprintf(buf, sizeof(buf), "contains the control character 0x%02x", c);
			return buf;
		}
		i += l;
	}
	return NULL;
}

int manifest_key_apply(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	const char *why;
	size_t n;

	if (!k || !value || !m || !ret_problem)
		return -EINVAL;

	why = manifest_value_problem(value);
	/* an [environment] value may be a secret: messages name the variable, never show the value */
	_cleanup_free_ char *q = k->set ? manifest_quote(value) : strdup("");
	if (!q)
		return -ENOMEM;
	const char *shown = k->set ? q : "", *sep = k->set ? " " : "";
	if (why)
		return problem(ret_problem, "value%s%s %s", sep, shown, why);
	n = strlen(value);
	if (n == 0 && !(k->flags & MANIFEST_KEY_EMPTY_OK)) {
		if (k->default_text)
			return problem(ret_problem, "empty value: use %s, or remove the line for the default (%s)",
				       manifest_key_allowed(k), k->default_text);
		return problem(ret_problem, "empty value: use %s, or remove the line", manifest_key_allowed(k));
	}
	if ((k->flags & MANIFEST_KEY_UNQUOTED) && n > 0 && value[n - 1] == '\\')
		return problem(ret_problem,
			       "value%s%s ends with a backslash, which would continue the line in the unit file", sep,
			       shown);
	if ((k->flags & MANIFEST_KEY_UNQUOTED) && n > 0 && (value[0] == ' ' || value[n - 1] == ' '))
		/* only a quoted value can have them; systemd would drop them from the unit file */
		return problem(ret_problem, "value%s%s %s with a blank, which the unit file would lose", sep, shown,
			       value[0] == ' ' ? "starts" : "ends");
	if (!k->set)
		return 0; /* [environment]: stored by manifest_load(), which knows the name */
	return k->set(k, value, m, ret_problem);
}

/* ---- setters ------------------------------------------------------------------------------ */

static int store_string(char **field, const char *value)
{
	char *c = strdup(value);
	if (!c)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

static void store_strv(char ***field, char **l)
{
	strv_free(*field);
	*field = l;
}

static int set_text(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	(void)ret_problem; /* any text that passed the common checks is fine */
	return store_string(AT(m, k, char *), value);
}

static int set_name(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	if (!service_name_is_valid(value))
		return problem_value(ret_problem, type_noun(k->type), value,
				     strlen(value) > SERVICE_NAME_MAX ? "is longer than 64 characters" : NULL,
				     manifest_key_allowed(k));
	return store_string(AT(m, k, char *), value);
}

/* Collapses repeated slashes and "." components and drops a trailing slash; keeps "..", which
 * only the file system can resolve correctly (symbolic links). */
char *manifest_path_simplify(const char *p)
{
	size_t n = strlen(p);
	char *r = malloc(n + 2), *o = r;
	bool absolute = p[0] == '/';

	if (!r)
		return NULL;
	for (const char *s = p; *s;) {
		const char *e = strchrnul(s, '/');
		size_t l = (size_t)(e - s);
		if (l > 0 && !(l == 1 && s[0] == '.')) {
			if (o > r || absolute)
				*o++ = '/';
			memcpy(o, s, l);
			o += l;
		}
		s = *e ? e + 1 : e;
	}
	if (o == r)
		*o++ = absolute ? '/' : '.';
	*o = '\0';
	return r;
}

static bool path_has_dotdot(const char *p)
{
	for (const char *s = p; *s;) {
		const char *e = strchrnul(s, '/');
		if (e - s == 2 && s[0] == '.' && s[1] == '.')
			return true;
		s = *e ? e + 1 : e;
	}
	return false;
}

#define PATH_LENGTH_MAX 4095

/* An absolute path fit for a unit file; *ret_clean is the simplified path. */
static int check_absolute_path(const struct manifest_key *k, const char *value, char **ret_clean, char **ret_problem)
{
	size_t n = strlen(value);

	if (value[0] != '/')
		return problem_value(ret_problem, "path", value, "is not absolute", manifest_key_allowed(k));
	if (n > PATH_LENGTH_MAX)
		return problem_value(ret_problem, "path", value, "is longer than 4095 bytes", manifest_key_allowed(k));
	if (path_has_dotdot(value))
		return problem_value(ret_problem, "path", value, "contains \"..\"",
				     "a path without \"..\" components");
	if (value[n - 1] == '\\')
		return problem_value(ret_problem, "path", value, "ends with a backslash", manifest_key_allowed(k));
	*ret_clean = manifest_path_simplify(value);
	return *ret_clean ? 0 : -ENOMEM;
}

static int set_path(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	char *clean = NULL;
	int r = check_absolute_path(k, value, &clean, ret_problem);
	if (r < 0)
		return r;
	free(*AT(m, k, char *));
	*AT(m, k, char *) = clean;
	return 0;
}

static int set_binary(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	_cleanup_free_ char *joined = NULL;
	const char *base = strrchr(value, '/');
	char *clean;

	base = base ? base + 1 : value;
	if (streq(base, "") || streq(base, ".") || streq(base, ".."))
		return problem_value(ret_problem, "path", value, "names a directory", "the path of the binary itself");
	if (strlen(value) > PATH_LENGTH_MAX)
		return problem_value(ret_problem, "path", value, "is longer than 4095 bytes", manifest_key_allowed(k));
	if (value[0] != '/') {
		if (asprintf(&joined, "%s/%s", m->dir ? m->dir : ".", value) < 0) {
			joined = NULL;
			return -ENOMEM;
		}
		value = joined;
	}
	clean = manifest_path_simplify(value);
	if (!clean)
		return -ENOMEM;
	free(*AT(m, k, char *));
	*AT(m, k, char *) = clean;
	return 0;
}

static int set_args(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	char **l = NULL;
	int r = split_args(value, &l);

	if (r == -EINVAL)
		return problem_value(ret_problem, "arguments", value,
				     "have an unterminated quote or a trailing backslash", manifest_key_allowed(k));
	if (r < 0)
		return r;
	store_strv(AT(m, k, char **), l);
	return 0;
}

static int set_user(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	if (streq(value, "dynamic")) {
		free(*AT(m, k, char *));
		*AT(m, k, char *) = NULL;
		return 0;
	}
	if (!user_name_is_valid(value))
		return problem_value(ret_problem, type_noun(k->type), value, NULL, manifest_key_allowed(k));
	return store_string(AT(m, k, char *), value);
}

static int set_group(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	if (!user_name_is_valid(value))
		return problem_value(ret_problem, type_noun(k->type), value, NULL, manifest_key_allowed(k));
	return store_string(AT(m, k, char *), value);
}

/* Splits at blanks (spaces; tabs never get here). */
static int split_blanks(const char *value, char ***ret)
{
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

	if (!l)
		return -ENOMEM;
	for (const char *p = value; *p;) {
		size_t n;
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n == 0)
			break;
		char *w = strndup(p, n);
		if (!w || strv_push(&l, w) < 0)
			return -ENOMEM;
		p += n;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

static int set_units(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	_cleanup_strv_free_ char **l = NULL;
	int r = split_blanks(value, &l);

	if (r < 0)
		return r;
	STRV_FOREACH(u, l)
		if (!unit_name_is_valid(*u))
			return problem_value(ret_problem, "unit name", *u, NULL, manifest_key_allowed(k));
	store_strv(AT(m, k, char **), TAKE_PTR(l));
	return 0;
}

static int problem_choice(const struct manifest_key *k, const char *value, char **ret_problem)
{
	const char *s = suggest_closest(value, k->choices);
	_cleanup_free_ char *q = manifest_quote(value);

	if (!q)
		return -ENOMEM;
	if (s)
		return problem(ret_problem, "invalid %s %s: use %s (did you mean %s?)", type_noun(k->type), q,
			       manifest_key_allowed(k), s);
	return problem(ret_problem, "invalid %s %s: use %s", type_noun(k->type), q, manifest_key_allowed(k));
}

static int set_restart(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	static const enum restart_policy policies[] = { RESTART_ON_FAILURE, RESTART_ALWAYS, RESTART_NO };

	for (size_t i = 0; i < ELEMENTSOF(policies) && k->choices[i]; i++)
		if (streq(value, k->choices[i])) {
			m->restart = policies[i];
			return 0;
		}
	return problem_choice(k, value, ret_problem);
}

static int set_duration(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	usec_t v;
	int r = parse_duration(value, k->flags & MANIFEST_KEY_INFINITY, &v);

	if (r == -ERANGE)
		return problem_value(ret_problem, "duration", value, "is too long", manifest_key_allowed(k));
	if (r < 0)
		return problem_value(ret_problem, "duration", value, NULL, manifest_key_allowed(k));
	if (v < k->min) {
		char buf[FORMAT_DURATION_MAX], use[FORMAT_DURATION_MAX + 16];
		snprintf(use, sizeof(use), "at least %s", format_duration(buf, sizeof(buf), k->min));
		return problem_value(ret_problem, "duration", value, "is too short", use);
	}
	*AT(m, k, usec_t) = v;
	return 0;
}

static int set_size(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	uint64_t v;
	int r = parse_size(value, &v);

	if (r == -ERANGE)
		return problem_value(ret_problem, "size", value, "is too large", manifest_key_allowed(k));
	if (r < 0 || (v == SIZE_INFINITY && !(k->flags & MANIFEST_KEY_INFINITY)))
		return problem_value(ret_problem, "size", value, NULL, manifest_key_allowed(k));
	if (v != SIZE_INFINITY && v < k->min) {
		char buf[FORMAT_SIZE_MAX], use[FORMAT_SIZE_MAX + 16];
		snprintf(use, sizeof(use), "at least %s", format_size(buf, sizeof(buf), k->min));
		return problem_value(ret_problem, "size", value, "is too small", use);
	}
	*AT(m, k, uint64_t) = v;
	return 0;
}

static int set_percent(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	unsigned v;
	int r = parse_percent(value, (unsigned)k->min, (unsigned)k->max, &v);

	if (r == -ERANGE)
		return problem_value(ret_problem, "percentage", value, "is out of range", manifest_key_allowed(k));
	if (r < 0)
		return problem_value(ret_problem, "percentage", value, NULL, manifest_key_allowed(k));
	*AT(m, k, unsigned) = v;
	return 0;
}

static int set_uint(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	uint64_t v;
	int r;

	if ((k->flags & MANIFEST_KEY_INFINITY) && streq(value, "infinity")) {
		*AT(m, k, uint64_t) = SIZE_INFINITY;
		return 0;
	}
	r = parse_uint_range(value, k->min, k->max, &v);
	if (r == -ERANGE)
		return problem_value(ret_problem, "number", value, "is out of range", manifest_key_allowed(k));
	if (r < 0)
		return problem_value(ret_problem, "number", value, NULL, manifest_key_allowed(k));
	*AT(m, k, uint64_t) = v;
	return 0;
}

static int set_port(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	uint64_t v;
	int r = parse_uint_range(value, 1, 65535, &v);

	if (r == -ERANGE)
		return problem_value(ret_problem, "port", value, "is out of range", manifest_key_allowed(k));
	if (r < 0)
		return problem_value(ret_problem, "port", value, NULL, manifest_key_allowed(k));
	*AT(m, k, uint16_t) = (uint16_t)v;
	return 0;
}

static int set_bool(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	bool b;

	if (parse_boolean(value, &b) < 0)
		return problem_value(ret_problem, "boolean", value, NULL, manifest_key_allowed(k));
	*AT(m, k, bool) = b;
	return 0;
}

/* network = no → PrivateNetwork=yes */
static int set_network(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	bool b;

	if (parse_boolean(value, &b) < 0)
		return problem_value(ret_problem, "boolean", value, NULL, manifest_key_allowed(k));
	m->private_network = !b;
	return 0;
}

static int problem_url(const struct manifest_key *k, const char *value, char **ret_problem)
{
	return problem_value(ret_problem, "URL", value, local_http_url_problem(value), manifest_key_allowed(k));
}

static int set_http(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	_cleanup_free_ char *url = NULL, *host = NULL, *path = NULL;
	uint16_t port;

	if (parse_local_http_url(value, &host, &port, &path) < 0)
		return problem_url(k, value, ret_problem);
	url = strdup(value);
	if (!url)
		return -ENOMEM;
	free(m->http_url);
	free(m->http_host);
	free(m->http_path);
	m->http_url = TAKE_PTR(url);
	m->http_host = TAKE_PTR(host);
	m->http_port = port;
	m->http_path = TAKE_PTR(path);
	return 0;
}

static int set_url(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	_cleanup_free_ char *host = NULL, *path = NULL;
	uint16_t port;

	if (parse_local_http_url(value, &host, &port, &path) < 0)
		return problem_url(k, value, ret_problem);
	return store_string(AT(m, k, char *), value);
}

static int set_status(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	if (!http_expect_is_valid(value))
		return problem_value(ret_problem, "status set", value, NULL, manifest_key_allowed(k));
	return store_string(AT(m, k, char *), value);
}

static int set_tcp(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	char *host = NULL;
	uint16_t port;

	if (parse_local_host_port(value, &host, &port) < 0)
		return problem_value(ret_problem, "address", value, local_host_port_problem(value),
				     manifest_key_allowed(k));
	free(m->tcp_host);
	m->tcp_host = host;
	m->tcp_port = port;
	return 0;
}

static int set_paths(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	_cleanup_strv_free_ char **l = NULL, **clean = calloc(1, sizeof(char *));
	int r;

	if (!clean)
		return -ENOMEM;
	r = split_args(value, &l);
	if (r == -EINVAL)
		return problem_value(ret_problem, "paths", value, "have an unterminated quote or a trailing backslash",
				     manifest_key_allowed(k));
	if (r < 0)
		return r;
	STRV_FOREACH(p, l) {
		char *c = NULL;
		/* a quoted word may hold what a bare value cannot: check it again */
		const char *why = manifest_value_problem(*p);
		if (why) {
			_cleanup_free_ char *q = manifest_quote(*p);
			return q ? problem(ret_problem, "path %s %s", q, why) : -ENOMEM;
		}
		if (**p == '\0')
			return problem(ret_problem, "empty path in %s: use %s", "the list", manifest_key_allowed(k));
		r = check_absolute_path(k, *p, &c, ret_problem);
		if (r < 0)
			return r;
		if (strv_push(&clean, c) < 0)
			return -ENOMEM;
	}
	store_strv(AT(m, k, char **), TAKE_PTR(clean));
	return 0;
}

const char *const manifest_address_families[] = {
	"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK", "AF_PACKET", NULL,
};

const char *const manifest_default_address_families[] = { "AF_INET", "AF_INET6", "AF_UNIX", NULL };

static int set_families(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	_cleanup_strv_free_ char **l = NULL, **extra = calloc(1, sizeof(char *));
	int r;

	if (!extra)
		return -ENOMEM;
	r = split_blanks(value, &l);
	if (r < 0)
		return r;
	STRV_FOREACH(f, l) {
		if (!strv_contains((char *const *)k->choices, *f))
			return problem_choice(k, *f, ret_problem);
		/* the defaults are always allowed; keep only the extras, once each */
		if (strv_contains((char *const *)manifest_default_address_families, *f) || strv_contains(extra, *f))
			continue;
		if (strv_extend(&extra, *f) < 0)
			return -ENOMEM;
	}
	store_strv(AT(m, k, char **), TAKE_PTR(extra));
	return 0;
}

static int set_gomaxprocs(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	uint64_t v;
	int r;

	if (streq(value, "auto") || streq(value, "off")) {
		m->gomaxprocs_mode = streq(value, "auto") ? GO_MODE_AUTO : GO_MODE_OFF;
		m->gomaxprocs = 0;
		return 0;
	}
	r = parse_uint_range(value, k->min, k->max, &v);
	if (r < 0)
		return problem_value(ret_problem, "value", value, r == -ERANGE ? "is out of range" : NULL,
				     manifest_key_allowed(k));
	m->gomaxprocs_mode = GO_MODE_VALUE;
	m->gomaxprocs = v;
	return 0;
}

static int set_gomemlimit(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	uint64_t v;
	int r;

	if (streq(value, "auto") || streq(value, "off")) {
		m->gomemlimit_mode = streq(value, "auto") ? GO_MODE_AUTO : GO_MODE_OFF;
		m->gomemlimit = 0;
		return 0;
	}
	r = parse_size(value, &v);
	if (r == -ERANGE)
		return problem_value(ret_problem, "size", value, "is too large", manifest_key_allowed(k));
	if (r < 0 || v == SIZE_INFINITY)
		return problem_value(ret_problem, "value", value, NULL, manifest_key_allowed(k));
	if (v < k->min)
		return problem_value(ret_problem, "size", value, "is too small", "at least 1M");
	m->gomemlimit_mode = GO_MODE_VALUE;
	m->gomemlimit = v;
	return 0;
}

static int set_gogc(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem)
{
	uint64_t v;
	int r;

	if (streq(value, "off"))
		return store_string(&m->gogc, "off");
	r = parse_uint_range(value, k->min, k->max, &v);
	if (r < 0)
		return problem_value(ret_problem, "value", value, r == -ERANGE ? "is out of range" : NULL,
				     manifest_key_allowed(k));
	char buf[24];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v); /* "0100" → "100" */
	return store_string(&m->gogc, buf);
}

/* ---- the table ------------------------------------------------------------------------------ */

static const char *const restart_choices[] = { "on-failure", "always", "no", NULL };

#define S_SERVICE "service"
#define S_ENV "environment"
#define S_RESOURCES "resources"
#define S_HEALTH "health"
#define S_DEPLOY "deploy"
#define S_GO "go"
#define S_HARDENING "hardening"

const struct manifest_section manifest_sections[] = {
	{ S_SERVICE, "what to run and how systemd supervises it" },
	{ S_ENV, "environment variables of the service" },
	{ S_RESOURCES, "cgroup limits" },
	{ S_HEALTH, "how berth decides that the service is healthy" },
	{ S_DEPLOY, "releases, rollback and watching after a deploy" },
	{ S_GO, "settings for the Go runtime" },
	{ S_HARDENING, "sandboxing beyond berth's defaults" },
};
const size_t manifest_n_sections = ELEMENTSOF(manifest_sections);

const struct manifest_key manifest_keys[] = {
	/* [service] */
	{ .section = S_SERVICE, .name = "name", .type = MANIFEST_TYPE_NAME, .flags = MANIFEST_KEY_REQUIRED,
	  .description = "name of the service: the unit is NAME.service, releases live in /var/lib/berth/NAME",
	  .offset = FIELD(name, char *), .set = set_name },
	{ .section = S_SERVICE, .name = "binary", .type = MANIFEST_TYPE_BINARY, .flags = MANIFEST_KEY_UNQUOTED,
	  .description = "the program to deploy; a relative path is taken from the manifest's directory "
			 "(berth deploy --binary overrides it)",
	  .offset = FIELD(binary, char *), .set = set_binary },
	{ .section = S_SERVICE, .name = "args", .type = MANIFEST_TYPE_ARGS,
	  .flags = MANIFEST_KEY_RAW | MANIFEST_KEY_EMPTY_OK,
	  .description = "command-line arguments, split like a shell does but never expanded",
	  .offset = FIELD(args, char **), .set = set_args },
	{ .section = S_SERVICE, .name = "user", .type = MANIFEST_TYPE_USER, .default_text = "dynamic",
	  .description = "user to run as; dynamic runs as a transient user allocated at start (DynamicUser=yes)",
	  .offset = FIELD(user, char *), .set = set_user },
	{ .section = S_SERVICE, .name = "group", .type = MANIFEST_TYPE_GROUP,
	  .description = "group to run as (Group=); without it, the user's own group",
	  .offset = FIELD(group, char *), .set = set_group },
	{ .section = S_SERVICE, .name = "working_directory", .type = MANIFEST_TYPE_PATH,
	  .flags = MANIFEST_KEY_UNQUOTED, .description = "working directory of the service (WorkingDirectory=)",
	  .offset = FIELD(working_directory, char *), .set = set_path },
	{ .section = S_SERVICE, .name = "environment_file", .type = MANIFEST_TYPE_PATH,
	  .flags = MANIFEST_KEY_UNQUOTED,
	  .description = "file of NAME=value lines that systemd reads at each start (EnvironmentFile=)",
	  .offset = FIELD(environment_file, char *), .set = set_path },
	{ .section = S_SERVICE, .name = "description", .type = MANIFEST_TYPE_TEXT, .flags = MANIFEST_KEY_UNQUOTED,
	  .default_text = "berth service NAME", .description = "one-line description of the unit (Description=)",
	  .offset = FIELD(description, char *), .set = set_text },
	{ .section = S_SERVICE, .name = "after", .type = MANIFEST_TYPE_UNITS,
	  .description = "units that must be started first (After=)", .offset = FIELD(after, char **),
	  .set = set_units },
	{ .section = S_SERVICE, .name = "wants", .type = MANIFEST_TYPE_UNITS,
	  .description = "units started along with the service (Wants=)", .offset = FIELD(wants, char **),
	  .set = set_units },
	{ .section = S_SERVICE, .name = "stop_timeout", .type = MANIFEST_TYPE_DURATION,
	  .flags = MANIFEST_KEY_INFINITY, .default_text = "30s",
	  .allowed = "a duration like 500ms, 30s, 5min, 1h or 1h30min (a bare number is seconds), or infinity",
	  .description = "time to exit after SIGTERM before SIGKILL (TimeoutStopSec=)",
	  .offset = FIELD(stop_timeout, usec_t), .set = set_duration },
	{ .section = S_SERVICE, .name = "restart", .type = MANIFEST_TYPE_ENUM, .flags = MANIFEST_KEY_STORE_DEFAULT,
	  .default_text = "on-failure", .allowed = "on-failure, always or no", .choices = restart_choices,
	  .description = "when systemd restarts the service (Restart=)", .offset = FIELD(restart, enum restart_policy),
	  .set = set_restart },
	{ .section = S_SERVICE, .name = "restart_delay", .type = MANIFEST_TYPE_DURATION, .default_text = "1s",
	  .description = "pause before a restart (RestartSec=)", .offset = FIELD(restart_delay, usec_t),
	  .set = set_duration },
	{ .section = S_SERVICE, .name = "start_limit_burst", .type = MANIFEST_TYPE_UINT, .default_text = "5",
	  .min = 1, .max = 1000, .allowed = "a whole number from 1 to 1000",
	  .description = "starts allowed within start_limit_interval before systemd gives up (StartLimitBurst=)",
	  .offset = FIELD(start_limit_burst, uint64_t), .set = set_uint },
	{ .section = S_SERVICE, .name = "start_limit_interval", .type = MANIFEST_TYPE_DURATION, .default_text = "60s",
	  .description = "window for start_limit_burst; 0 turns the limit off (StartLimitIntervalSec=)",
	  .offset = FIELD(start_limit_interval, usec_t), .set = set_duration },

	/* [environment] */
	{ .section = S_ENV, .name = NULL, .type = MANIFEST_TYPE_ENV, .flags = MANIFEST_KEY_EMPTY_OK,
	  .allowed = "one line of UTF-8 text without control characters; quote it in \"...\" or '...' if it "
		     "contains ; or #",
	  .description = "NAME = value sets the variable NAME (exact case) for the service (Environment=)" },

	/* [resources] */
	{ .section = S_RESOURCES, .name = "cpu", .type = MANIFEST_TYPE_PERCENT, .min = 1, .max = 100000,
	  .allowed = "a percentage of one CPU from 1% to 100000%, like 150% for one and a half CPUs",
	  .description = "CPU time limit, in percent of one CPU (CPUQuota=)",
	  .offset = FIELD(cpu_quota_percent, unsigned), .set = set_percent },
	{ .section = S_RESOURCES, .name = "memory", .type = MANIFEST_TYPE_SIZE, .flags = MANIFEST_KEY_INFINITY,
	  .min = 1, .description = "hard memory limit: the kernel kills the service above it (MemoryMax=)",
	  .offset = FIELD(memory_max, uint64_t), .set = set_size },
	{ .section = S_RESOURCES, .name = "memory_high", .type = MANIFEST_TYPE_SIZE, .flags = MANIFEST_KEY_INFINITY,
	  .min = 1,
	  .description = "memory use above which the kernel throttles and reclaims; at most memory (MemoryHigh=)",
	  .offset = FIELD(memory_high, uint64_t), .set = set_size },
	{ .section = S_RESOURCES, .name = "swap", .type = MANIFEST_TYPE_SIZE, .flags = MANIFEST_KEY_INFINITY,
	  .description = "swap limit; 0 keeps the service out of swap (MemorySwapMax=)",
	  .offset = FIELD(memory_swap_max, uint64_t), .set = set_size },
	{ .section = S_RESOURCES, .name = "tasks", .type = MANIFEST_TYPE_UINT, .flags = MANIFEST_KEY_INFINITY,
	  .min = 1, .max = 4194304, .allowed = "a whole number from 1 to 4194304, or infinity",
	  .description = "most processes and threads the service may have (TasksMax=)",
	  .offset = FIELD(tasks_max, uint64_t), .set = set_uint },
	{ .section = S_RESOURCES, .name = "nofile", .type = MANIFEST_TYPE_UINT, .min = 1, .max = UINT64_C(1) << 30,
	  .allowed = "a whole number from 1 to 1073741824",
	  .description = "most open files per process (LimitNOFILE=)", .offset = FIELD(nofile, uint64_t),
	  .set = set_uint },
	{ .section = S_RESOURCES, .name = "cpu_weight", .type = MANIFEST_TYPE_UINT, .min = 1, .max = 10000,
	  .allowed = "a whole number from 1 to 10000 (systemd's default is 100)",
	  .description = "share of CPU time when CPUs are contended (CPUWeight=)",
	  .offset = FIELD(cpu_weight, uint64_t), .set = set_uint },
	{ .section = S_RESOURCES, .name = "io_weight", .type = MANIFEST_TYPE_UINT, .min = 1, .max = 10000,
	  .allowed = "a whole number from 1 to 10000 (systemd's default is 100)",
	  .description = "share of disk bandwidth when disks are contended (IOWeight=)",
	  .offset = FIELD(io_weight, uint64_t), .set = set_uint },

	/* [health] */
	{ .section = S_HEALTH, .name = "http", .type = MANIFEST_TYPE_URL,
	  .description = "HTTP check: a URL on this host that answers with an expected status when healthy",
	  .offset = FIELD(http_url, char *), .set = set_http },
	{ .section = S_HEALTH, .name = "expect", .type = MANIFEST_TYPE_STATUS, .flags = MANIFEST_KEY_STORE_DEFAULT,
	  .default_text = "2xx", .description = "HTTP statuses that count as healthy for the http check",
	  .offset = FIELD(http_expect, char *), .set = set_status },
	{ .section = S_HEALTH, .name = "tcp", .type = MANIFEST_TYPE_HOST_PORT,
	  .description = "TCP check: an address on this host that accepts connections when healthy",
	  .offset = FIELD(tcp_host, char *), .set = set_tcp },
	{ .section = S_HEALTH, .name = "listen", .type = MANIFEST_TYPE_PORT,
	  .description = "port the service listens on: the check passes when a socket listens on it (no connection)",
	  .offset = FIELD(listen_port, uint16_t), .set = set_port },
	{ .section = S_HEALTH, .name = "start_period", .type = MANIFEST_TYPE_DURATION, .default_text = "0",
	  .description = "grace period after a start during which failed checks do not count",
	  .offset = FIELD(start_period, usec_t), .set = set_duration },
	{ .section = S_HEALTH, .name = "interval", .type = MANIFEST_TYPE_DURATION, .default_text = "5s",
	  .min = USEC_PER_MSEC, .description = "time between two checks", .offset = FIELD(interval, usec_t),
	  .set = set_duration },
	{ .section = S_HEALTH, .name = "timeout", .type = MANIFEST_TYPE_DURATION, .default_text = "2s",
	  .min = USEC_PER_MSEC, .description = "time one check may take; at most interval",
	  .offset = FIELD(timeout, usec_t), .set = set_duration },
	{ .section = S_HEALTH, .name = "failure_threshold", .type = MANIFEST_TYPE_UINT, .default_text = "3",
	  .min = 1, .max = 100, .allowed = "a whole number from 1 to 100",
	  .description = "failed checks in a row that make the service unhealthy",
	  .offset = FIELD(failure_threshold, uint64_t), .set = set_uint },
	{ .section = S_HEALTH, .name = "ready_timeout", .type = MANIFEST_TYPE_DURATION, .default_text = "60s",
	  .min = USEC_PER_MSEC, .description = "time a new release has to become healthy before the deploy fails",
	  .offset = FIELD(ready_timeout, usec_t), .set = set_duration },
	{ .section = S_HEALTH, .name = "warmup", .type = MANIFEST_TYPE_URL,
	  .description = "URL on this host requested once the new release is healthy, before traffic counts on it",
	  .offset = FIELD(warmup_url, char *), .set = set_url },

	/* [deploy] */
	{ .section = S_DEPLOY, .name = "keep_releases", .type = MANIFEST_TYPE_UINT, .default_text = "5", .min = 2,
	  .max = 100, .allowed = "a whole number from 2 to 100",
	  .description = "releases kept on disk, the current one included", .offset = FIELD(keep_releases, uint64_t),
	  .set = set_uint },
	{ .section = S_DEPLOY, .name = "rollback", .type = MANIFEST_TYPE_BOOL, .flags = MANIFEST_KEY_STORE_DEFAULT,
	  .default_text = "yes",
	  .description = "go back to the previous release when a new one does not become healthy",
	  .offset = FIELD(rollback, bool), .set = set_bool },
	{ .section = S_DEPLOY, .name = "watch", .type = MANIFEST_TYPE_DURATION, .default_text = "0",
	  .description = "keep checking for this long after a deploy and roll back on failure; 0 turns it off",
	  .offset = FIELD(watch, usec_t), .set = set_duration },

	/* [go] */
	{ .section = S_GO, .name = "gomaxprocs", .type = MANIFEST_TYPE_GO, .default_text = "auto", .min = 1,
	  .max = 1024, .allowed = "auto, off, or a number from 1 to 1024",
	  .description = "GOMAXPROCS: auto follows [resources] cpu (rounded up) where Go does not, off leaves it to Go",
	  .offset = FIELD(gomaxprocs, uint64_t), .set = set_gomaxprocs },
	{ .section = S_GO, .name = "gomemlimit", .type = MANIFEST_TYPE_GO, .default_text = "auto",
	  .min = UINT64_C(1) << 20, .allowed = "auto, off, or a size with K, M, G or T (powers of 1024)",
	  .description = "GOMEMLIMIT: auto is gomemlimit_ratio of [resources] memory, off sets no limit",
	  .offset = FIELD(gomemlimit, uint64_t), .set = set_gomemlimit },
	{ .section = S_GO, .name = "gomemlimit_ratio", .type = MANIFEST_TYPE_PERCENT, .default_text = "90%",
	  .min = 10, .max = 100, .allowed = "a percentage from 10% to 100%",
	  .description = "share of [resources] memory that gomemlimit = auto gives to Go",
	  .offset = FIELD(gomemlimit_ratio_percent, unsigned), .set = set_percent },
	{ .section = S_GO, .name = "gogc", .type = MANIFEST_TYPE_GO, .min = 1, .max = 100000,
	  .allowed = "off, or a number from 1 to 100000",
	  .description = "GOGC: heap growth in percent before a collection; unset leaves Go's default (100)",
	  .offset = FIELD(gogc, char *), .set = set_gogc },

	/* [hardening] */
	{ .section = S_HARDENING, .name = "read_write_paths", .type = MANIFEST_TYPE_PATHS,
	  .flags = MANIFEST_KEY_RAW, .description = "paths the service may write to (ReadWritePaths=); "
						    "the rest of the file system is read-only",
	  .offset = FIELD(read_write_paths, char **), .set = set_paths },
	{ .section = S_HARDENING, .name = "address_families", .type = MANIFEST_TYPE_FAMILIES,
	  .allowed = "AF_NETLINK, AF_PACKET, AF_UNIX, AF_INET or AF_INET6, separated by blanks",
	  .choices = manifest_address_families,
	  .description = "socket families allowed beyond AF_INET AF_INET6 AF_UNIX (RestrictAddressFamilies=)",
	  .offset = FIELD(address_families, char **), .set = set_families },
	{ .section = S_HARDENING, .name = "network", .type = MANIFEST_TYPE_BOOL, .flags = MANIFEST_KEY_STORE_DEFAULT,
	  .default_text = "yes", .description = "no gives the service a private network with only loopback "
						"(PrivateNetwork=yes)",
	  .offset = FIELD(private_network, bool), .set = set_network },
	{ .section = S_HARDENING, .name = "privileged_port", .type = MANIFEST_TYPE_BOOL,
	  .flags = MANIFEST_KEY_STORE_DEFAULT, .default_text = "no",
	  .description = "allow binding ports below 1024: adds only CAP_NET_BIND_SERVICE",
	  .offset = FIELD(privileged_port, bool), .set = set_bool },
	{ .section = S_HARDENING, .name = "memory_deny_write_execute", .type = MANIFEST_TYPE_BOOL,
	  .flags = MANIFEST_KEY_STORE_DEFAULT, .default_text = "yes",
	  .description = "forbid memory that is both writable and executable (MemoryDenyWriteExecute=)",
	  .offset = FIELD(memory_deny_write_execute, bool), .set = set_bool },
};
const size_t manifest_n_keys = ELEMENTSOF(manifest_keys);

/* ---- lookups -------------------------------------------------------------------------------- */

const struct manifest_section *manifest_section_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < manifest_n_sections; i++)
		if (streq(manifest_sections[i].name, name))
			return &manifest_sections[i];
	return NULL;
}

const struct manifest_key *manifest_key_lookup(const char *section, const char *key)
{
	if (!section || !key)
		return NULL;
	for (size_t i = 0; i < manifest_n_keys; i++) {
		const struct manifest_key *k = &manifest_keys[i];
		if (!streq(k->section, section))
			continue;
		if (!k->name || streq(k->name, key))
			return k;
	}
	return NULL;
}

/* Name lists for suggest_closest(), built once from the table. The table is small and fixed, so
 * static arrays sized by it are enough; nothing is allocated. */
#define N_KEYS_MAX 64
static const char *key_names[ELEMENTSOF(manifest_sections)][N_KEYS_MAX + 1];
static const char *all_names[N_KEYS_MAX + 1];
static const char *section_names[ELEMENTSOF(manifest_sections) + 1];
static bool names_ready;

static void names_init(void)
{
	size_t n_all = 0;

	if (names_ready)
		return;
	for (size_t s = 0; s < manifest_n_sections; s++) {
		size_t n = 0;
		section_names[s] = manifest_sections[s].name;
		for (size_t i = 0; i < manifest_n_keys && n < N_KEYS_MAX; i++)
			if (manifest_keys[i].name && streq(manifest_keys[i].section, manifest_sections[s].name)) {
				key_names[s][n++] = manifest_keys[i].name;
				if (n_all < N_KEYS_MAX)
					all_names[n_all++] = manifest_keys[i].name;
			}
		key_names[s][n] = NULL;
	}
	all_names[n_all] = NULL;
	section_names[manifest_n_sections] = NULL;
	names_ready = true;
}

const char *const *manifest_section_key_names(const char *section)
{
	names_init();
	for (size_t s = 0; s < manifest_n_sections; s++)
		if (section && streq(manifest_sections[s].name, section))
			return key_names[s];
	return NULL;
}

const char *const *manifest_all_key_names(void)
{
	names_init();
	return all_names;
}

const char *const *manifest_section_names(void)
{
	names_init();
	return section_names;
}

_Static_assert(ELEMENTSOF(manifest_keys) <= N_KEYS_MAX, "raise N_KEYS_MAX");
