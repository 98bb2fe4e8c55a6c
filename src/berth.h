/* berth.h - the command table, exit codes and global options
 *
 * Each src/cmd-<verb>.c defines one `const struct berth_cmd berth_cmd_<verb>` and keeps the rest
 * static. berth.c parses the global options and the command's own (from its option table),
 * checks argument counts and root, then calls run with the positional arguments only.
 */
#pragma once

#include <getopt.h>
#include <stdio.h>
#include <stdbool.h>

/* Exit codes: documented in man/berth.8 and reported as "exit_code" in --json output. */
enum berth_exit {
	BERTH_EXIT_OK = 0,
	BERTH_EXIT_FAILURE = 1,     /* the operation was tried and failed (job failed, not healthy) */
	BERTH_EXIT_USAGE = 2,       /* bad command line */
	BERTH_EXIT_INVALID = 3,     /* manifest, binary or host file refused: nothing was changed */
	BERTH_EXIT_PERMISSION = 4,  /* must be root */
	BERTH_EXIT_NOT_FOUND = 5,   /* no such service / file */
	BERTH_EXIT_ROLLED_BACK = 6, /* new release failed, previous one restored and healthy */
	BERTH_EXIT_TEMPFAIL = 75,   /* lock busy, systemd not reachable: try again later */
};

enum berth_cmd_flags {
	BERTH_CMD_NEED_ROOT = 1 << 0,  /* refuse early with BERTH_EXIT_PERMISSION */
	BERTH_CMD_TAKES_LOCK = 1 << 1, /* holds the host-wide lock while it runs */
	BERTH_CMD_MUTATES = 1 << 2,    /* supports --check and --diff */
	BERTH_CMD_HIDDEN = 1 << 3,     /* internal (e.g. wait-ready): not in `berth --help` */
};

struct berth_option {
	const char *name;     /* long name without "--" */
	int short_name;       /* 0 if none */
	int has_arg;          /* no_argument / required_argument */
	const char *arg_name; /* "PATH" */
	const char *help;
};

struct berth_cmd {
	const char *name;
	const char *usage;   /* positional part: "MANIFEST" */
	const char *summary; /* one line for `berth --help` */
	const char *description; /* a paragraph for `berth help CMD`, may be NULL */
	const struct berth_option *options; /* terminated by {NULL}; may be NULL */
	int min_args, max_args;             /* max -1: unbounded */
	unsigned flags;
	/* Called for each of the command's own options, in order; returns 0 or a BERTH_EXIT_* code. */
	int (*set_option)(const char *name, const char *arg);
	/* Returns a BERTH_EXIT_* code. */
	int (*run)(int argc, char **argv);
};

/* Global options, valid for every command. */
extern bool arg_json;
extern bool arg_check; /* --check: only for BERTH_CMD_MUTATES commands */
extern bool arg_diff;  /* --diff: idem */
extern bool arg_quiet;

const struct berth_cmd *berth_find_cmd(const char *name);
int berth_print_cmd_help(const struct berth_cmd *cmd, FILE *f);
