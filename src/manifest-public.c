/* manifest-public.c - a manifest without its [environment] section, for the copy of it that
 * anyone may read (status, net and limit as a user); the saved manifest itself is root's only. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "manifest.h"

/* A section header as iniparser reads one: "[name]" (blanks around, name stripped). */
static bool is_environment_header(const char *line, size_t len, bool *ret_header)
{
	while (len > 0 && isspace((unsigned char)*line))
		line++, len--;
	while (len > 0 && isspace((unsigned char)line[len - 1]))
		len--;
	*ret_header = len >= 2 && line[0] == '[' && line[len - 1] == ']';
	if (!*ret_header)
		return false;
	const char *name = line + 1, *end = memchr(name, ']', len - 1);
	while (name < end && isspace((unsigned char)*name))
		name++;
	while (end > name && isspace((unsigned char)end[-1]))
		end--;
	return (size_t)(end - name) == strlen("environment") && strncasecmp(name, "environment", end - name) == 0;
}

int manifest_public_text(const char *text, char **ret)
{
	size_t size = strlen(text);
	_cleanup_free_ char *out = malloc(size + 1);
	bool in_env = false, continued = false;
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line), full = nl ? len + 1 : len;
		bool header = false;
		/* a line that continues the one before (which ended with a backslash) is never a header */
		if (!continued) {
			bool env = is_environment_header(line, len, &header);
			if (header)
				in_env = env;
		}
		if (!in_env) {
			memcpy(out + n, line, full);
			n += full;
		}
		size_t end = len;
		while (end > 0 && isspace((unsigned char)line[end - 1]))
			end--;
		continued = end > 0 && line[end - 1] == '\\';
		line += full;
	}
	out[n] = 0;
	*ret = TAKE_PTR(out);
	return 0;
}
