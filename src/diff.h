/* diff.h - unified diff of two texts, for --diff (pure) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Writes a unified diff (3 lines of context, "--- a_label" / "+++ b_label" headers) of a and b
 * to f; a or b may be NULL (treated as empty: a new or removed file). Returns the number of
 * changed lines (0: identical, nothing written) or -ENOMEM (-EIO if writing to f failed).
 * colour: + lines green, - red (headers bold, @@ lines cyan).
 * The hunks are the ones `diff -u` prints, "\ No newline at end of file" included. Above
 * DIFF_MAX_LINES lines in either text, a one-line "LABEL and LABEL differ" note is written
 * instead, and 1 is returned. */
#define DIFF_MAX_LINES 20000
int diff_unified(FILE *f, const char *a_label, const char *a, const char *b_label, const char *b, bool colour);

/* One file's two texts, for diffing several files in one go (a unit and its drop-in). */
struct diff_file {
	const char *a_label, *a, *b_label, *b;
};
/* diff_unified() of each file in turn: the changed lines of all of them, or the first error. */
int diff_unified_files(FILE *f, const struct diff_file *files, size_t n, bool colour);
/* The same, without colour, as a string in *ret ("" when nothing differs): for --json --diff.
 * Returns the changed lines or -ENOMEM. */
int diff_unified_text(const struct diff_file *files, size_t n, char **ret);
