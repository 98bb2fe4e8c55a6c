/* escape.c - writing values into unit files by systemd's rules (see escape.h for the why) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "macro.h"
#include "utf8.h"

static bool ends_with_odd_backslashes(const char *s)
{
	size_t n = strlen(s), k = 0;
	while (k < n && s[n - 1 - k] == '\\')
		k++;
	return k % 2 == 1;
}

const char *unit_escape_problem(const char *s, unsigned flags)
{
	if (!s)
		return "is missing";
	if (strlen(s) > UNIT_VALUE_MAX)
		return "is too long for a unit file";
	for (const char *p = s; *p; p++) {
		if (*p == '\n' || *p == '\r')
			return "contains a line break";
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return "contains a control character";
	}
	if (!utf8_is_valid(s))
		return "is not valid UTF-8";
	if (!(flags & UNIT_ESCAPE_QUOTE) && ends_with_odd_backslashes(s))
		return "ends with a backslash (which would continue the unit file line)";
	/* systemd strips blanks around an unquoted value: refuse rather than change it */
	if (!(flags & UNIT_ESCAPE_QUOTE) && *s && (s[0] == ' ' || s[strlen(s) - 1] == ' '))
		return "begins or ends with a blank";
	return NULL;
}

int unit_escape(const char *s, unsigned flags, char **ret)
{
	if (unit_escape_problem(s, flags))
		return -EINVAL;

	/* worst case every byte doubles, plus quotes and NUL */
	size_t n = strlen(s);
	char *r = malloc(n * 2 + 3), *p = r;
	if (!r)
		return -ENOMEM;
	if (flags & UNIT_ESCAPE_QUOTE)
		*p++ = '"';
	for (; *s; s++) {
		if ((flags & UNIT_ESCAPE_SPECIFIERS) && *s == '%')
			*p++ = '%';
		else if ((flags & UNIT_ESCAPE_DOLLAR) && *s == '$')
			*p++ = '$';
		else if ((flags & UNIT_ESCAPE_QUOTE) && (*s == '"' || *s == '\\'))
			*p++ = '\\';
		*p++ = *s;
	}
	if (flags & UNIT_ESCAPE_QUOTE)
		*p++ = '"';
	*p = 0;
	*ret = r;
	return 0;
}

int unit_escape_exec_arg(const char *s, char **ret)
{
	/* Quoted even when not needed: a lone ";" or a leading "-"/"@"/"+" can then never be read
	 * as a command separator or an ExecStart prefix. */
	return unit_escape(s, UNIT_ESCAPE_SPECIFIERS | UNIT_ESCAPE_DOLLAR | UNIT_ESCAPE_QUOTE, ret);
}

static bool env_name_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 256)
		return false;
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return false;
	return true;
}

int unit_escape_env(const char *name, const char *value, char **ret)
{
	if (!env_name_ok(name) || !value)
		return -EINVAL;
	_cleanup_free_ char *assignment = malloc(strlen(name) + strlen(value) + 2);
	if (!assignment)
		return -ENOMEM;
	stpcpy(stpcpy(stpcpy(assignment, name), "="), value);
	/* Environment= expands specifiers but not variables: "$" stays as it is */
	return unit_escape(assignment, UNIT_ESCAPE_SPECIFIERS | UNIT_ESCAPE_QUOTE, ret);
}

int unit_escape_text(const char *s, char **ret)
{
	return unit_escape(s, UNIT_ESCAPE_SPECIFIERS, ret);
}

int unit_escape_path(const char *s, char **ret)
{
	/* WorkingDirectory= treats a leading "-" or "~" specially; absolute paths only */
	if (!s || s[0] != '/')
		return -EINVAL;
	return unit_escape(s, UNIT_ESCAPE_SPECIFIERS, ret);
}

int unit_escape_list_item(const char *s, char **ret)
{
	if (!s || !*s)
		return -EINVAL;
	return unit_escape(s, UNIT_ESCAPE_SPECIFIERS | UNIT_ESCAPE_QUOTE, ret);
}
