/* strv.h - NULL-terminated string vectors */
#pragma once

#include <stdbool.h>
#include <stddef.h>

char **strv_free(char **l);
static inline void strv_freep(char ***l)
{
	strv_free(*l);
}
size_t strv_length(char *const *l);
/* Appends a copy of value; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *value);
/* Appends value itself, taking ownership (freed on failure too). */
int strv_push(char ***l, char *value);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);
/* Joins with sep; NULL on ENOMEM. */
char *strv_join(char *const *l, const char *sep);

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
