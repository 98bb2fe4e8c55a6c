/* manifest-ini.h - a manifest's text: an index of its lines, and iniparser reading those bytes
 *
 * iniparser is the one parser of record for sections, keys and values. What its dictionary
 * cannot say comes from a light index of the same bytes: where each line starts and ends
 * (physical line numbers, continuation lines joined exactly as iniparser joins them), whether it
 * opens a section or assigns a key, the key as written (its case, for [environment] and for
 * duplicates), and the raw text after '=' (for the keys berth splits itself, like args). The
 * index reads no values: quotes, escapes and comments after a value are iniparser's business.
 *
 * ini_dictionary_load() hands iniparser the very bytes berth read (through a sealed memfd, never
 * the path again), with the lines the caller refuses left empty, so that a line berth has
 * already refused can neither stop iniparser (a long line makes it give up on the whole file)
 * nor change what it reads for the others (a malformed header names a different section in
 * iniparser 4.1 and 4.2). Line numbers do not move.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <iniparser.h>

#include "macro.h"

enum ini_line_kind {
	INI_LINE_SECTION,    /* starts with '[' and ends with ']' */
	INI_LINE_ASSIGNMENT, /* has a '=' after at least one other character */
	INI_LINE_BAD,        /* anything else that is not blank or a comment: iniparser refuses it too */
	INI_LINE_TOO_LONG,   /* longer than iniparser reads (joined with the lines it continues) */
	INI_LINE_DANGLING,   /* the last line continues onto a line that does not exist */
};

struct ini_line {
	enum ini_line_kind kind;
	unsigned first;    /* physical line it starts on (what messages name) */
	unsigned last;     /* physical line it ends on (what iniparser counts) */
	size_t start, end; /* its bytes in the buffer, newlines included */
	char *text;        /* the line, continuations joined, blanks cut at both ends (not TOO_LONG) */
	char *name;        /* SECTION: between '[' and the last ']', blanks cut; ASSIGNMENT: the key as written */
	char *key;         /* ASSIGNMENT: the key lowercased, as iniparser stores it */
	char *raw;         /* ASSIGNMENT: everything after the first '=', leading blanks cut */
};

/* Blank and comment lines are left out. */
struct ini_index {
	struct ini_line *lines;
	size_t n;
};

/* Indexes buf (size bytes, no NUL inside). 0 or -ENOMEM. */
int ini_index_build(const char *buf, size_t size, struct ini_index *ret);
void ini_index_release(struct ini_index *x);

/* What iniparser said while loading (its error callback), at most a few lines. */
struct ini_messages {
	char *items[16];
	size_t n;
	size_t n_dropped;
	char *name; /* the name iniparser was given for the file: its messages quote it */
};
void ini_messages_release(struct ini_messages *m);

/* The line number in one of iniparser's messages ("... in NAME (12)..."), 0 if none. */
unsigned ini_message_line(const char *msg, const char *name);

/* Loads buf with iniparser, the lines of x whose keep[i] is false left empty. Returns 0 with
 * *ret (NULL if iniparser refused the text: see msgs), or -errno if it could not be handed over. */
int ini_dictionary_load(const char *buf, size_t size, const struct ini_index *x, const bool *keep,
			dictionary **ret, struct ini_messages *msgs);

/* The value iniparser stored for key (lowercase) in section (lowercase); NULL if it has none. */
const char *ini_dictionary_value(const dictionary *d, const char *section, const char *key);

static inline void ini_dictionary_freep(dictionary **d)
{
	if (*d)
		iniparser_freedict(*d);
}

/* A quoted value ('...' or "...", what raw starts with) that iniparser 4.1 and 4.2 do not read
 * alike, or that loses text, explained: why, and how to write it so that both read it alike.
 * name is the key as written, for the suggested line; environment: it is an [environment]
 * variable (which has environment_file as a way out). NULL if raw is fine; otherwise a message
 * to free (NULL also on ENOMEM: *ret_oom says which). */
char *ini_quoted_value_problem(const char *name, const char *raw, bool environment, bool *ret_oom);
