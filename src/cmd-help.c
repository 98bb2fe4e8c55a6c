/* cmd-help.c - berth help [COMMAND] */
#include <stdio.h>

#include "berth.h"
#include "log.h"
#include "macro.h"

static int exec_help(int argc, char **argv)
{
	if (argc == 0) {
		/* same text as berth --help: let main print it */
		const struct berth_cmd *self = berth_find_cmd("help");
		return berth_print_cmd_help(self, stdout);
	}
	const struct berth_cmd *cmd = berth_find_cmd(argv[0]);
	if (!cmd) {
		log_error("no help for unknown command \"%s\" (see berth --help)", argv[0]);
		return BERTH_EXIT_USAGE;
	}
	return berth_print_cmd_help(cmd, stdout);
}

const struct berth_cmd berth_cmd_help = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "show the usage of a command",
	.min_args = 0,
	.max_args = 1,
	.run = exec_help,
};
