/* cmd-stop.c - berth stop NAME */
#include "berth.h"
#include "control.h"

static int exec_stop(int argc, char **argv)
{
	return control_service("stop", argv[0], "StopUnit");
}

const struct berth_cmd berth_cmd_stop = {
	.name = "stop",
	.usage = "NAME",
	.summary = "stop a service (SIGTERM, SIGKILL after its stop timeout)",
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK,
	.run = exec_stop,
};
