/* escape.h - writing values into unit files by systemd's rules (pure)
 *
 * What systemd does to a value decides how it must be written:
 *   - ExecStart=/ExecStartPost=: split into words (quotes, C escapes), then %-specifiers and
 *     $VAR/${VAR} expanded  → every word double-quoted, \ and " escaped, % → %%, $ → $$
 *   - Environment=: words with quotes and C escapes, %-specifiers (no $ expansion)
 *                                                → "KEY=value" quoted, % → %%
 *   - ReadWritePaths= and other path lists: quoted words, %-specifiers → quoted, % → %%
 *   - Description=, WorkingDirectory=, EnvironmentFile=: the raw rest of the line, %-specifiers
 *                                                → % → %%; cannot hold a trailing backslash
 * A line ending in an odd number of backslashes continues on the next line, which would swallow
 * the directive after it; a newline would start a new directive. Neither can be escaped in every
 * context, so control characters, invalid UTF-8 and (in unquoted contexts) a trailing backslash
 * are refused with -EINVAL rather than written.
 */
#pragma once

#include <stddef.h>

enum unit_escape_flags {
	UNIT_ESCAPE_SPECIFIERS = 1 << 0, /* % → %% */
	UNIT_ESCAPE_DOLLAR = 1 << 1,     /* $ → $$ (only where systemd expands variables) */
	UNIT_ESCAPE_QUOTE = 1 << 2,      /* wrap in "...", escape \ and " */
};

/* Longest value berth writes on one line; systemd's own limit is 1 MiB per line. */
#define UNIT_VALUE_MAX (64 * 1024)

/* Returns 0 and a newly allocated escaped string, -EINVAL if s cannot be written safely
 * (control character, invalid UTF-8, trailing backslash without quoting, longer than
 * UNIT_VALUE_MAX), -ENOMEM. */
int unit_escape(const char *s, unsigned flags, char **ret);

/* One argument of a command line (ExecStart=). */
int unit_escape_exec_arg(const char *s, char **ret);
/* A whole Environment= value: "NAME=value" quoted. name must be a valid variable name. */
int unit_escape_env(const char *name, const char *value, char **ret);
/* Free text on its own (Description=). */
int unit_escape_text(const char *s, char **ret);
/* A single absolute path on its own (WorkingDirectory=, EnvironmentFile=). */
int unit_escape_path(const char *s, char **ret);
/* One element of a space-separated list (ReadWritePaths=). */
int unit_escape_list_item(const char *s, char **ret);

/* Why unit_escape() refused s, for messages: "contains a newline", "is not valid UTF-8", ...;
 * NULL if s is fine in the given context. */
const char *unit_escape_problem(const char *s, unsigned flags);
