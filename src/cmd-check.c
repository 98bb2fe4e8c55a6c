/* cmd-check.c - placeholder */
#include "berth.h"
static int exec_check(int argc, char **argv) { (void)argc; (void)argv; return BERTH_EXIT_FAILURE; }
const struct berth_cmd berth_cmd_check = { .name = "check", .usage = "MANIFEST", .summary = "check", .min_args = 1, .max_args = 1, .exec = exec_check };
