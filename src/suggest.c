/* suggest.c - "did you mean" */
#include <stdlib.h>
#include <string.h>

#include "suggest.h"

size_t string_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *d = calloc((la + 1) * (lb + 1), sizeof(size_t));
	if (!d)
		return (size_t)-1;
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (size_t i = 0; i <= la; i++)
		D(i, 0) = i;
	for (size_t j = 0; j <= lb; j++)
		D(0, j) = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < v)
				v = D(i, j - 1) + 1;
			if (D(i - 1, j - 1) + cost < v)
				v = D(i - 1, j - 1) + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    D(i - 2, j - 2) + 1 < v)
				v = D(i - 2, j - 2) + 1;
			D(i, j) = v;
		}
	size_t r = D(la, lb);
#undef D
	free(d);
	return r;
}

const char *suggest_closest(const char *s, const char *const *candidates)
{
	const char *best = NULL, *prefix_of = NULL;
	size_t best_d = (size_t)-1;
	unsigned n_prefix = 0;

	if (!s || !*s)
		return NULL;
	for (const char *const *c = candidates; c && *c; c++) {
		size_t d = string_distance(s, *c);
		if (d < best_d) {
			best_d = d;
			best = *c;
		}
		if (strncmp(*c, s, strlen(s)) == 0) {
			prefix_of = *c;
			n_prefix++;
		}
	}
	if (best) {
		size_t la = strlen(s), lb = strlen(best), l = la > lb ? la : lb;
		size_t limit = l / 3 > 1 ? l / 3 : 1;
		if (best_d <= limit)
			return best;
	}
	return n_prefix == 1 ? prefix_of : NULL;
}
