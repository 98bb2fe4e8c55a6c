/* cmd-restart.c - berth restart NAME */
#include "berth.h"
#include "control.h"

static int exec_restart(int argc, char **argv)
{
	return control_service("restart", argv[0], "RestartUnit");
}

const struct berth_cmd berth_cmd_restart = {
	.name = "restart",
	.usage = "NAME",
	.summary = "restart a service and wait until it is healthy",
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK,
	.run = exec_restart,
};
