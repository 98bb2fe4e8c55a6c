/* berth.c - main: global options, the command table, dispatch */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#include "berth.h"
#include "log.h"
#include "macro.h"
#include "suggest.h"
#include "term.h"

bool arg_json = false;
bool arg_check = false;
bool arg_diff = false;
bool arg_quiet = false;

extern const struct berth_cmd berth_cmd_apply;
extern const struct berth_cmd berth_cmd_check;
extern const struct berth_cmd berth_cmd_deploy;
extern const struct berth_cmd berth_cmd_help;
extern const struct berth_cmd berth_cmd_limit;
extern const struct berth_cmd berth_cmd_logs;
extern const struct berth_cmd berth_cmd_net;
extern const struct berth_cmd berth_cmd_releases;
extern const struct berth_cmd berth_cmd_remove;
extern const struct berth_cmd berth_cmd_render;
extern const struct berth_cmd berth_cmd_restart;
extern const struct berth_cmd berth_cmd_rollback;
extern const struct berth_cmd berth_cmd_start;
extern const struct berth_cmd berth_cmd_status;
extern const struct berth_cmd berth_cmd_stop;
extern const struct berth_cmd berth_cmd_tune;
extern const struct berth_cmd berth_cmd_wait_ready;

/* In the order `berth --help` lists them. Names match exactly: no prefixes, no aliases, so that
 * a typo never runs a destructive command (berth rem is not berth remove). */
static const struct berth_cmd *const commands[] = {
	&berth_cmd_deploy,
	&berth_cmd_apply,
	&berth_cmd_status,
	&berth_cmd_logs,
	&berth_cmd_net,
	&berth_cmd_start,
	&berth_cmd_stop,
	&berth_cmd_restart,
	&berth_cmd_limit,
	&berth_cmd_releases,
	&berth_cmd_rollback,
	&berth_cmd_remove,
	&berth_cmd_tune,
	&berth_cmd_render,
	&berth_cmd_check,
	&berth_cmd_help,
	&berth_cmd_wait_ready,
};

/* Options every command takes. */
enum {
	OPT_JSON = 0x100,
	OPT_CHECK,
	OPT_DIFF,
	OPT_NO_COLOR,
	OPT_COLOR,
	OPT_VERSION,
	OPT_OWN, /* one of the command's own options */
};

static const struct berth_option global_options[] = {
	{ "json", 0, no_argument, NULL, "print machine-readable JSON on stdout" },
	{ "quiet", 'q', no_argument, NULL, "print errors only" },
	{ "verbose", 'v', no_argument, NULL, "print debug messages" },
	{ "no-color", 0, no_argument, NULL, "never colour the output (also: NO_COLOR=1)" },
	{ "help", 'h', no_argument, NULL, "show this help" },
	{ NULL },
};

static const struct berth_option mutating_options[] = {
	{ "check", 0, no_argument, NULL, "dry run: report what would change, change nothing" },
	{ "diff", 0, no_argument, NULL, "show the difference between the installed and the new files" },
	{ NULL },
};

const struct berth_cmd *berth_find_cmd(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (streq(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static void print_options(FILE *f, const struct berth_option *o)
{
	for (; o && o->name; o++) {
		char left[64];
		snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->short_name ? "-" : "",
			 o->short_name ? o->short_name : ' ', o->short_name ? "," : " ", o->name,
			 o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
		fprintf(f, "  %-28s %s\n", left[1] == ' ' ? left + 1 : left, o->help);
	}
}

int berth_print_cmd_help(const struct berth_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: berth %s%s%s%s\n", cmd->name, cmd->options ? " [OPTIONS]" : "",
		*cmd->usage ? " " : "", cmd->usage);
	fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->description)
		fprintf(f, "\n%s\n", cmd->description);
	if (cmd->options && cmd->options->name) {
		fprintf(f, "\noptions:\n");
		print_options(f, cmd->options);
	}
	if (cmd->flags & BERTH_CMD_MUTATES)
		print_options(f, mutating_options);
	fprintf(f, "\ncommon options:\n");
	print_options(f, global_options);
	fprintf(f, "\nSee berth(8) for exit codes.\n");
	return BERTH_EXIT_OK;
}

static void main_help(FILE *f)
{
	fprintf(f, "usage: berth [--json] [--no-color] [-q|-v] COMMAND [ARGS...]\n"
		   "       berth --version\n"
		   "       berth help COMMAND\n\n"
		   "Deploy Go services on a Linux server through systemd: hardened units, cgroup\n"
		   "limits, health-gated starts and rollback.\n\ncommands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (!(commands[i]->flags & BERTH_CMD_HIDDEN))
			fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nSee berth(8) and berth.ini(5).\n");
}

static const char *const *command_names(void)
{
	static const char *names[ELEMENTSOF(commands) + 1];
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		names[i] = commands[i]->name;
	return names;
}

static int unknown_command(const char *name)
{
	const char *s = suggest_closest(name, command_names());
	if (s)
		log_error("unknown command \"%s\"; did you mean \"%s\"? (see berth --help)", name, s);
	else
		log_error("unknown command \"%s\" (see berth --help)", name);
	return BERTH_EXIT_USAGE;
}

/* Builds the getopt_long table from the global, mutating and the command's own options. */
static size_t add_options(struct option *lo, size_t n, const struct berth_option *o, int base,
			  char *shortopts)
{
	for (int i = 0; o && o[i].name; i++) {
		lo[n++] = (struct option){ o[i].name, o[i].has_arg, NULL, base + i };
		if (o[i].short_name) {
			char s[3] = { (char)o[i].short_name, o[i].has_arg ? ':' : 0, 0 };
			strcat(shortopts, s);
		}
	}
	return n;
}

static size_t count_options(const struct berth_option *o)
{
	size_t n = 0;
	while (o && o[n].name)
		n++;
	return n;
}

static int unknown_option(const struct berth_cmd *cmd, const char *arg, const struct option *lo)
{
	const char *names[128];
	size_t n = 0;
	const char *bare = arg;
	char buf[128];

	while (*bare == '-')
		bare++;
	snprintf(buf, sizeof(buf), "%s", bare);
	buf[strcspn(buf, "=")] = 0;
	for (; lo->name && n < ELEMENTSOF(names) - 1; lo++)
		names[n++] = lo->name;
	names[n] = NULL;
	const char *s = suggest_closest(buf, names);
	if (s)
		log_error("berth %s: unknown option \"%s\"; did you mean \"--%s\"?", cmd->name, arg, s);
	else
		log_error("berth %s: unknown option \"%s\" (see berth help %s)", cmd->name, arg, cmd->name);
	return BERTH_EXIT_USAGE;
}

static int run_command(const struct berth_cmd *cmd, int argc, char **argv)
{
	size_t n_own = count_options(cmd->options);
	struct option lo[128];
	char shortopts[64] = "+";
	size_t n = 0;

	/* "-" at the start: positional arguments come back as 1 in order, options may follow them */
	strcpy(shortopts, "-");
	n = add_options(lo, n, global_options, 0x1000, shortopts);
	if (cmd->flags & BERTH_CMD_MUTATES)
		n = add_options(lo, n, mutating_options, 0x2000, shortopts);
	if (n + n_own >= ELEMENTSOF(lo))
		return BERTH_EXIT_FAILURE;
	n = add_options(lo, n, cmd->options, 0x3000, shortopts);
	lo[n] = (struct option){ 0 };

	char **positional = calloc(argc + 1, sizeof(char *));
	int n_pos = 0, c, r;
	if (!positional)
		return BERTH_EXIT_FAILURE;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		const struct berth_option *o = NULL;
		if (c == 1) {
			positional[n_pos++] = optarg;
			continue;
		}
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			free(positional);
			if (c == ':' || (optopt && strchr(shortopts, optopt) && optopt != '?')) {
				log_error("berth %s: option \"%s\" needs a value (see berth help %s)", cmd->name,
					  bad, cmd->name);
				return BERTH_EXIT_USAGE;
			}
			return unknown_option(cmd, bad, lo);
		}
		/* map short options to their table entry */
		if (c < 0x1000) {
			for (size_t i = 0; i < n; i++) {
				const struct berth_option *tab = lo[i].val >= 0x3000 ? cmd->options :
								 lo[i].val >= 0x2000 ? mutating_options :
										       global_options;
				const struct berth_option *cand = &tab[lo[i].val & 0xfff];
				if (cand->short_name == c) {
					c = lo[i].val;
					break;
				}
			}
		}
		if (c >= 0x3000) {
			o = &cmd->options[c - 0x3000];
			r = cmd->set_option ? cmd->set_option(o->name, optarg) : BERTH_EXIT_USAGE;
			if (r != 0) {
				free(positional);
				return r;
			}
			continue;
		}
		o = c >= 0x2000 ? &mutating_options[c - 0x2000] : &global_options[c - 0x1000];
		if (streq(o->name, "json"))
			arg_json = true;
		else if (streq(o->name, "quiet")) {
			arg_quiet = true;
			log_set_max_level(LOG_LEVEL_WARNING);
		} else if (streq(o->name, "verbose"))
			log_set_max_level(LOG_LEVEL_DEBUG);
		else if (streq(o->name, "no-color"))
			term_colour_mode = 0;
		else if (streq(o->name, "help")) {
			free(positional);
			return berth_print_cmd_help(cmd, stdout);
		} else if (streq(o->name, "check"))
			arg_check = true;
		else if (streq(o->name, "diff"))
			arg_diff = true;
	}

	if (n_pos < cmd->min_args || (cmd->max_args >= 0 && n_pos > cmd->max_args)) {
		if (n_pos < cmd->min_args)
			log_error("berth %s: missing argument: usage: berth %s %s", cmd->name, cmd->name, cmd->usage);
		else
			log_error("berth %s: unexpected argument \"%s\": usage: berth %s %s", cmd->name,
				  positional[cmd->max_args], cmd->name, cmd->usage);
		free(positional);
		return BERTH_EXIT_USAGE;
	}
	if ((cmd->flags & BERTH_CMD_NEED_ROOT) && geteuid() != 0) {
		log_error("berth %s must run as root (try: sudo berth %s ...)", cmd->name, cmd->name);
		free(positional);
		return BERTH_EXIT_PERMISSION;
	}

	r = cmd->run(n_pos, positional);
	free(positional);
	return r;
}

int main(int argc, char **argv)
{
	int i;

	log_setup();

	/* global options before the command name */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (streq(a, "--version")) {
			printf("berth %s\n", PACKAGE_VERSION);
			return BERTH_EXIT_OK;
		} else if (streq(a, "--help") || streq(a, "-h")) {
			main_help(stdout);
			return BERTH_EXIT_OK;
		} else if (streq(a, "--json"))
			arg_json = true;
		else if (streq(a, "--no-color"))
			term_colour_mode = 0;
		else if (streq(a, "-q") || streq(a, "--quiet")) {
			arg_quiet = true;
			log_set_max_level(LOG_LEVEL_WARNING);
		} else if (streq(a, "-v") || streq(a, "--verbose"))
			log_set_max_level(LOG_LEVEL_DEBUG);
		else {
			static const char *const g[] = { "version", "help", "json", "no-color", "quiet", "verbose", NULL };
			const char *bare = a + strspn(a, "-");
			const char *s = suggest_closest(bare, g);
			if (s)
				log_error("unknown option \"%s\"; did you mean \"--%s\"?", a, s);
			else
				log_error("unknown option \"%s\" (see berth --help)", a);
			return BERTH_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		main_help(stderr);
		return BERTH_EXIT_USAGE;
	}

	const struct berth_cmd *cmd = berth_find_cmd(argv[i]);
	if (!cmd)
		return unknown_command(argv[i]);
	/* the command sees its name as argv[0] */
	return run_command(cmd, argc - i, argv + i);
}

#ifdef BERTH_ASAN_OPTIONS
/* A sanitizer build for the VM suite (.ci/run) is built with these: ASan reads its defaults here,
 * also where berth runs from a unit (wait-ready), which no ASAN_OPTIONS reaches. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return BERTH_ASAN_OPTIONS;
}
#endif
