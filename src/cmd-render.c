/* cmd-render.c - placeholder */
#include "berth.h"
static int exec_render(int argc, char **argv) { (void)argc; (void)argv; return BERTH_EXIT_FAILURE; }
const struct berth_cmd berth_cmd_render = { .name = "render", .usage = "MANIFEST", .summary = "render", .min_args = 1, .max_args = 1, .exec = exec_render };
