/* unit-decode.h - a test-only reader of unit file values, following systemd's rules
 * (conf-parser line continuation, extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE for
 * the quoted C escapes berth writes, then %% and $$ un-doubling). It decodes only what berth
 * writes; anything else makes it fail, so a test using it cannot pass by accident. */
#pragma once

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Splits a command line value into words. undo_dollar: ExecStart (where $$ → $).
 * Returns the number of words, or -1 on a syntax berth never writes. */
static inline int decode_words(const char *v, bool undo_dollar, char ***ret)
{
	char **words = calloc(strlen(v) + 2, sizeof(char *));
	int n = 0;
	const char *p = v;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		char *w = malloc(strlen(p) + 1), *o = w;
		bool quoted = false;
		if (*p == '"') {
			quoted = true;
			p++;
		}
		for (;;) {
			char c = *p;
			if (!c) {
				if (quoted) { free(w); goto fail; }
				break;
			}
			if (quoted && c == '"') { p++; break; }
			if (!quoted && c == ' ') break;
			if (c == '\\') {
				p++;
				if (*p == '\\' || *p == '"') { *o++ = *p++; continue; }
				free(w);
				goto fail; /* berth writes no other escapes */
			}
			if (c == '%') {
				if (p[1] != '%') { free(w); goto fail; } /* a live specifier */
				p += 2; *o++ = '%'; continue;
			}
			if (undo_dollar && c == '$') {
				if (p[1] != '$') { free(w); goto fail; } /* a live variable */
				p += 2; *o++ = '$'; continue;
			}
			*o++ = c;
			p++;
		}
		*o = 0;
		words[n++] = w;
		if (*p && *p != ' ')
			goto fail; /* text glued after a closing quote */
	}
	words[n] = NULL;
	*ret = words;
	return n;
fail:
	for (int i = 0; i < n; i++)
		free(words[i]);
	free(words);
	return -1;
}

static inline void free_words(char **w)
{
	for (char **i = w; i && *i; i++)
		free(*i);
	free(w);
}

/* Unquoted value (Description=): only %% un-doubling; -1 on a live specifier. */
static inline char *decode_text(const char *v)
{
	char *r = malloc(strlen(v) + 1), *o = r;
	for (const char *p = v; *p; p++) {
		if (*p == '%') {
			if (p[1] != '%') { free(r); return NULL; }
			p++;
		}
		*o++ = *p;
	}
	*o = 0;
	return r;
}
