/* manifest-ini.c - the index of a manifest's lines, and iniparser reading the same bytes
 *
 * Lines are joined as iniparser_load() joins them, in 4.1 and 4.2 alike: it reads with fgets()
 * into a 1024-byte buffer; a line (with the lines it continues) longer than 1022 bytes plus the
 * newline makes it give up on the whole file; trailing blanks are cut, and a line then ending in
 * a backslash continues on the next one (the backslash dropped, the next line's leading blanks
 * kept; a lone newline is skipped unless it ends a continuation). The index follows that loop
 * step by step, so that a line number here is the line iniparser read.
 *
 * Then each joined line is sorted by its first and last character only, as iniparser_line()
 * sorts it: blank; a comment (';' or '#'); a section header ('[' ... ']'); an assignment (a '='
 * after at least one character); anything else is a syntax error. How the text of a header or
 * a value is read (quotes, escapes, comments) is left to iniparser: that is where 4.1 and 4.2
 * differ, see ini_quoted_value_problem() and berth.ini(5).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "manifest-ini.h"
#include "manifest-keys.h"
#include "manifest.h"
#include "size.h"

#define INI_LINE_SIZE 1024 /* iniparser's ASCIILINESZ: fgets() reads at most 1023 bytes */

/* ==== the index ============================================================================= */

static void ini_line_release(struct ini_line *l)
{
	free(l->text);
	free(l->name);
	free(l->key);
	free(l->raw);
}

void ini_index_release(struct ini_index *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		ini_line_release(&x->lines[i]);
	free(x->lines);
	*x = (struct ini_index){ 0 };
}

/* s[0..n) with blanks (isspace, as iniparser's strstrip()) cut at both ends, newly allocated */
static char *strndup_stripped(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return strndup(s, n);
}

/* Sorts one joined line; l has kind, lines and offsets set. */
static int index_classify(struct ini_line *l, const char *line)
{
	size_t len;
	const char *eq;

	l->text = strndup_stripped(line, strlen(line));
	if (!l->text)
		return -ENOMEM;
	len = strlen(l->text);

	if (l->text[0] == '[' && l->text[len - 1] == ']') {
		l->kind = INI_LINE_SECTION;
		l->name = strndup_stripped(l->text + 1, len >= 2 ? len - 2 : 0);
		return l->name ? 0 : -ENOMEM;
	}
	eq = strchr(l->text, '=');
	if (!eq || eq == l->text) {
		l->kind = INI_LINE_BAD;
		return 0;
	}
	l->kind = INI_LINE_ASSIGNMENT;
	l->name = strndup_stripped(l->text, (size_t)(eq - l->text));
	l->key = l->name ? strdup(l->name) : NULL;
	eq++;
	while (*eq && isspace((unsigned char)*eq))
		eq++;
	l->raw = strdup(eq);
	if (!l->name || !l->key || !l->raw)
		return -ENOMEM;
	for (char *p = l->key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* Adds a line of the given kind; a joined line's text is sorted further (index_classify()). */
static int index_add(struct ini_index *x, size_t *allocated, enum ini_line_kind kind, unsigned first,
		     unsigned last, size_t start, size_t end, const char *text)
{
	if (x->n == *allocated) {
		size_t na = *allocated ? *allocated * 2 : 64;
		struct ini_line *nl = realloc(x->lines, na * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		x->lines = nl;
		*allocated = na;
	}
	x->lines[x->n] = (struct ini_line){ .kind = kind, .first = first, .last = last, .start = start, .end = end };
	return text ? index_classify(&x->lines[x->n++], text) : (x->n++, 0);
}

/* fgets() over the buffer, with feof() as glibc's stdio sets it: only when a read ran into the
 * end, not when the buffer filled up exactly at the end. */
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

static bool blank_or_comment(const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	return !*line || *line == '#' || *line == ';';
}

int ini_index_build(const char *buf, size_t size, struct ini_index *ret)
{
	_cleanup_(ini_index_release) struct ini_index x = { 0 };
	char line[INI_LINE_SIZE + 1] = "";
	size_t pos = 0, allocated = 0, start = 0;
	unsigned lineno = 0, first = 0;
	bool eof = false;
	size_t last = 0;
	int r;

	for (;;) {
		size_t line_start = pos, len;

		if (!mem_fgets(line + last, INI_LINE_SIZE - last, buf, size, &pos, &eof))
			break;
		lineno++;
		if (last == 0) {
			first = lineno;
			start = line_start;
		}
		len = strlen(line);
		if (len <= 1) {
			/* iniparser skips a lone newline, and a one-byte last line without one; index
			 * the latter anyway: a stray character there is a mistake */
			if (len == 1 && line[0] != '\n' && last == 0 && !blank_or_comment(line)) {
				r = index_add(&x, &allocated, INI_LINE_BAD, first, lineno, start, pos, line);
				if (r < 0)
					return r;
			}
			continue;
		}
		len--;
		if (line[len] != '\n' && !eof) {
			/* iniparser would give up on the whole file here: skip to the next line */
			while (pos < size && buf[pos++] != '\n')
				;
			r = index_add(&x, &allocated, INI_LINE_TOO_LONG, first, lineno, start, pos, NULL);
			if (r < 0)
				return r;
			memset(line, 0, sizeof(line));
			last = 0;
			continue;
		}
		/* the newline and trailing blanks */
		while (len != (size_t)-1 && (line[len] == '\n' || isspace((unsigned char)line[len])))
			line[len--] = '\0';
		if (len == (size_t)-1)
			len = 0;
		if (line[len] == '\\') {
			last = len;
			continue;
		}
		last = 0;
		if (!blank_or_comment(line)) {
			r = index_add(&x, &allocated, INI_LINE_BAD, first, lineno, start, pos, line);
			if (r < 0)
				return r;
		}
		memset(line, 0, sizeof(line));
	}
	if (last > 0) {
		/* iniparser drops a continued line at the end of the file without a word */
		r = index_add(&x, &allocated, INI_LINE_DANGLING, first, lineno, start, size, NULL);
		if (r < 0)
			return r;
	}
	*ret = x;
	x = (struct ini_index){ 0 };
	return 0;
}

/* ==== iniparser ============================================================================= */

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
	if (m && ini_capture->n < ELEMENTSOF(ini_capture->items)) {
		/* one line: "iniparser: syntax error in NAME (3):\n-> text\n" */
		for (char *p = m; *p; p++)
			if (*p == '\n')
				*p = ' ';
		ini_capture->items[ini_capture->n++] = m;
	} else {
		free(m);
		ini_capture->n_dropped++;
	}
	return 0;
}

void ini_messages_release(struct ini_messages *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i]);
	free(m->name);
	*m = (struct ini_messages){ 0 };
}

unsigned ini_message_line(const char *msg, const char *name)
{
	static const char *const prefixes[] = { "iniparser: syntax error in ", "iniparser: input line too long in " };

	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++) {
		const char *p = startswith(msg, prefixes[i]);
		uint64_t v;
		char buf[16];
		size_t n;

		if (!p)
			continue;
		p = startswith(p, name);
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

/* buf with the lines not kept reduced to their newlines */
static char *kept_text(const char *buf, size_t size, const struct ini_index *x, const bool *keep, size_t *ret_len)
{
	char *out = malloc(size + 1);
	size_t n = 0, at = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i <= x->n; i++) {
		size_t from = i < x->n ? x->lines[i].start : size;
		/* between indexed lines: blank lines and comments, only their newlines */
		for (; at < from; at++)
			if (buf[at] == '\n')
				out[n++] = '\n';
		if (i == x->n)
			break;
		for (; at < x->lines[i].end; at++)
			if (keep[i] || buf[at] == '\n')
				out[n++] = buf[at];
	}
	out[n] = '\0';
	*ret_len = n;
	return out;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int ini_dictionary_load(const char *buf, size_t size, const struct ini_index *x, const bool *keep,
			dictionary **ret, struct ini_messages *msgs)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int fd = -1, probe = -1;
	char path[64];
	size_t len = 0;
	int r;

	text = kept_text(buf, size, x, keep, &len);
	if (!text)
		return -ENOMEM;
	/* iniparser 4.1 reads only by path: give it a file that holds these bytes and can never
	 * change, rather than the manifest's path a second time */
	fd = memfd_create("berth-manifest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return negative_errno();
	r = write_all(fd, text, len);
	if (r < 0)
		return r;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return negative_errno();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	/* iniparser says only "cannot open" when it cannot: find out why first */
	probe = open(path, O_RDONLY | O_CLOEXEC);
	if (probe < 0)
		return negative_errno();
	msgs->name = strdup(path);
	if (!msgs->name)
		return -ENOMEM;

	/* the callback is process-global: point it here only while loading, then restore
	 * iniparser's default */
	ini_capture = msgs;
	iniparser_set_error_callback(ini_error_callback);
	*ret = iniparser_load(path);
	iniparser_set_error_callback(NULL);
	ini_capture = NULL;
	return 0;
}

const char *ini_dictionary_value(const dictionary *d, const char *section, const char *key)
{
	static const char absent[] = "";
	_cleanup_free_ char *k = NULL;
	const char *v;

	if (!d || asprintf(&k, "%s:%s", section, key) < 0)
		return NULL;
	/* dictionary_get(), not iniparser_getstring(): that one cuts the key at 1024 bytes */
	v = dictionary_get(d, k, absent);
	return v == absent ? NULL : v;
}

/* ==== quoted values ========================================================================= */

/* Where a value that starts with a quote ends for iniparser 4.1: at the next same quote. */
static const char *quote_close_41(const char *raw)
{
	return strchr(raw + 1, raw[0]);
}

/* The text between the quotes as 4.2 reads it: a backslash escapes the next character, the
 * first quote not escaped ends it. *ret_meant_42: the value looks written for 4.2, its quote
 * closed and every backslash escaping the enclosing quote or a backslash; otherwise 4.1's
 * literal reading is the likelier meaning ("C:\dir", 'say \"hi\"'). */
static char *quoted_42(const char *raw, bool *ret_meant_42)
{
	char *out = malloc(strlen(raw) + 1), *o = out;
	const char *p = raw + 1;
	bool escapes_only = true;

	if (!out)
		return NULL;
	for (; *p && *p != raw[0]; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			if (*p != raw[0] && *p != '\\')
				escapes_only = false;
		}
		*o++ = *p;
	}
	*o = '\0';
	*ret_meant_42 = escapes_only && *p == raw[0];
	return out;
}

/* How to write v so that 4.1 and 4.2 read it alike: "without quotes, as KEY = v", ... */
static char *spelling_advice(const char *name, const char *v, bool environment)
{
	size_t n = strlen(v);
	bool outer_blank = n > 0 && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1]));
	bool needs_quotes = n == 0 || outer_blank || strpbrk(v, ";#") || v[0] == '"' || v[0] == '\'';
	/* berth never prints an [environment] value (it may be a secret) */
	bool show = !environment && n <= 200 && !manifest_value_problem(v);
	char *r = NULL;
	int k;

	if (!needs_quotes && v[n - 1] != '\\')
		k = show ? asprintf(&r, "write it without quotes, as %s = %s", name, v) :
			   asprintf(&r, "write it without quotes");
	else if (!needs_quotes)
		/* a line ending in a backslash would continue on the next one */
		k = show ? asprintf(&r, "write it without quotes and end the line with a comment, as %s = %s ;", name, v) :
			   asprintf(&r, "write it without quotes and end the line with a comment (\" ;\")");
	else if (!strchr(v, '\\') && (!strchr(v, '"') || !strchr(v, '\''))) {
		char q = strchr(v, '"') ? '\'' : '"';
		k = show ? asprintf(&r, "write it as %s = %c%s%c", name, q, v, q) :
			   asprintf(&r, "write it in %c...%c", q, q);
	} else
		k = asprintf(&r, "no spelling reads the same in both, since the value needs quotes (for ;, # or "
				 "blanks at either end) and has a backslash: %s",
			     environment ? "set the variable in an environment_file instead" :
				     "leave out the backslash, or what needs the quotes");
	return k < 0 ? NULL : r;
}

char *ini_quoted_value_problem(const char *name, const char *raw, bool environment, bool *ret_oom)
{
	const char *close, *rest, *bs;
	char q = raw[0];
	char *r = NULL;

	*ret_oom = false;
	if (q != '"' && q != '\'')
		return NULL;
	close = quote_close_41(raw);
	bs = strchr(raw + 1, '\\');
	if (bs && (!close || bs < close)) {
		/* 4.1 keeps every backslash and ends the value at the next quote; 4.2 takes a
		 * backslash as an escape, and ends the value at the first quote not escaped */
		_cleanup_free_ char *v42 = NULL, *v41 = NULL, *advice = NULL;
		bool meant_42;

		v42 = quoted_42(raw, &meant_42);
		v41 = close ? strndup(raw + 1, (size_t)(close - raw - 1)) : strdup(raw + 1);
		advice = v42 && v41 ? spelling_advice(name, meant_42 ? v42 : v41, environment) : NULL;
		if (!advice || asprintf(&r, "has a backslash inside quotes, which iniparser 4.1 (Debian 12) keeps but "
					    "4.2 (Debian 13) takes as an escape: %s", advice) < 0) {
			*ret_oom = true;
			return NULL;
		}
		return r;
	}
	if (!close)
		r = strdup(q == '"' ? "has no closing \" (quotes cannot be escaped: use '...' around a value with \")" :
				      "has no closing ' (quotes cannot be escaped: use \"...\" around a value with ')");
	else {
		for (rest = close + 1; *rest && isspace((unsigned char)*rest); rest++)
			;
		if (!*rest || *rest == ';' || *rest == '#')
			return NULL;
		r = strdup(q == '"' ? "continues after its closing \", which the INI parser ignores (quotes cannot be "
				      "escaped: use '...' around a value with \", or quote the whole value)" :
				      "continues after its closing ', which the INI parser ignores (quotes cannot be "
				      "escaped: use \"...\" around a value with ', or quote the whole value)");
	}
	if (!r)
		*ret_oom = true;
	return r;
}
