/* cmd-start.c - berth start NAME */
#include "berth.h"
#include "control.h"

static int exec_start(int argc, char **argv)
{
	return control_service("start", argv[0], "StartUnit");
}

const struct berth_cmd berth_cmd_start = {
	.name = "start",
	.usage = "NAME",
	.summary = "start a service and wait until it is healthy",
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK,
	.run = exec_start,
};
