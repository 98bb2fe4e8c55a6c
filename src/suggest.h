/* suggest.h - "did you mean" for commands, options and manifest keys (pure) */
#pragma once

#include <stddef.h>

/* Optimal-string-alignment distance (Damerau-Levenshtein with adjacent transpositions). */
size_t string_distance(const char *a, const char *b);
/* The candidate closest to s, if it is close enough to be a plausible typo (distance ≤ 1/3 of the
 * longer length, at least 1, or s is a prefix of exactly that candidate); else NULL.
 * candidates is NULL-terminated. */
const char *suggest_closest(const char *s, const char *const *candidates);
