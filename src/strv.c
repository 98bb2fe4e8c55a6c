/* strv.c - NULL-terminated string vectors */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l)
{
	if (!l)
		return NULL;
	for (char **s = l; *s; s++)
		free(*s);
	free(l);
	return NULL;
}

size_t strv_length(char *const *l)
{
	size_t n = 0;
	while (l && l[n])
		n++;
	return n;
}

int strv_push(char ***l, char *value)
{
	size_t n = strv_length(*l);
	char **nl = realloc(*l, sizeof(char *) * (n + 2));
	if (!nl) {
		free(value);
		return -ENOMEM;
	}
	nl[n] = value;
	nl[n + 1] = NULL;
	*l = nl;
	return 0;
}

int strv_extend(char ***l, const char *value)
{
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	return strv_push(l, v);
}

bool strv_contains(char *const *l, const char *s)
{
	STRV_FOREACH(i, l)
		if (strcmp(*i, s) == 0)
			return true;
	return false;
}

char **strv_copy(char *const *l)
{
	char **r = calloc(1, sizeof(char *));
	if (!r)
		return NULL;
	STRV_FOREACH(i, l)
		if (strv_extend(&r, *i) < 0)
			return strv_free(r);
	return r;
}

char *strv_join(char *const *l, const char *sep)
{
	size_t len = 1, sl = strlen(sep);
	STRV_FOREACH(i, l)
		len += strlen(*i) + sl;
	char *r = malloc(len), *p = r;
	if (!r)
		return NULL;
	*p = 0;
	STRV_FOREACH(i, l) {
		if (i != l)
			p = stpcpy(p, sep);
		p = stpcpy(p, *i);
	}
	return r;
}
