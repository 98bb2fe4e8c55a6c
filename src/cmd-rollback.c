/* cmd-rollback.c - berth rollback NAME [--to VERSION]: health-gated switch to an installed release */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "berth.h"
#include "cli.h"
#include "deploy.h"
#include "fault.h"
#include "interrupt.h"
#include "lock.h"
#include "log.h"
#include "release.h"
#include "strv.h"
#include "unit.h"

static const char *arg_to;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "to"))
		arg_to = arg;
	return 0;
}

static int exec_rollback(int argc, char **argv)
{
	const char *name = argv[0];
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_close_ int lock_fd = -1;
	_cleanup_free_ char *target = NULL, *current = NULL;
	struct release_store store = { .root = (char *)BERTH_STATE_ROOT, .name = (char *)name };
	struct deploy_plan p = { .image = { .fd = -1 } };
	struct deploy_outcome out = { .ready_msec = -1 };
	struct report rep;
	int ex;

	if (cli_require_service(name) != BERTH_EXIT_OK)
		return cli_fail("rollback", BERTH_EXIT_NOT_FOUND);
	ex = cli_open_bus(&bus);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("rollback", ex);
	ex = cli_take_lock(60 * USEC_PER_SEC, &lock_fd);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("rollback", ex);
	fault_point("rollback", "after-lock");
	interrupt_arm();

	report_init(&rep, name, arg_json);
	(void)deploy_resolve(bus, name, true, &rep);
	(void)release_get_current(&store, &current);
	if (arg_to)
		target = strdup(arg_to);
	else if (release_get_previous(&store, &target) < 0 || !target) {
		cli_error(NULL, 0, NULL, NULL,
			  "\"%s\" has no release to go back to: no other release passed its health gate (name one with --to, see berth releases %s)",
			  name, name);
		ex = BERTH_EXIT_NOT_FOUND;
		goto fail;
	}
	if (streq_ptr(target, current)) {
		cli_error(NULL, 0, NULL, NULL, "%s is already the current release of \"%s\"", target, name);
		ex = BERTH_EXIT_USAGE;
		goto fail;
	}
	ex = deploy_plan_rollback(bus, name, target, &p);
	if (ex != BERTH_EXIT_OK)
		goto fail;

	if (!arg_json)
		printf("%s: rolling back from %s to %s\n", name, strempty(current), target);
	deploy_run(&bus, &p, &rep, &out);
	/* for a rollback, "rolled back" means the target failed and we are where we started */
	if (out.exit_code == BERTH_EXIT_ROLLED_BACK)
		out.exit_code = BERTH_EXIT_FAILURE;
	interrupt_disarm();

	if (arg_json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_string(&j, "command", "rollback");
		json_key_bool(&j, "ok", out.exit_code == BERTH_EXIT_OK);
		json_key_int(&j, "exit_code", out.exit_code);
		json_key_string(&j, "service", name);
		json_key_string(&j, "from", current);
		json_key_string(&j, "to", target);
		report_json(&rep, &j);
		json_key(&j, "ready_msec");
		out.ready_msec >= 0 ? json_int(&j, out.ready_msec) : json_null(&j);
		json_key_string(&j, "failure", out.failure);
		json_key_bool(&j, "restored", out.rolled_back);
		json_object_end(&j);
		json_finish(&j);
	} else if (out.exit_code == BERTH_EXIT_OK)
		printf("%s: now running %s\n", name, target);
	if (out.failure)
		log_error("rollback of %s to %s failed: %s%s%s", name, target, out.failure,
			  out.rolled_back ? "; back on " : "", out.rolled_back ? strempty(current) : "");
	ex = out.exit_code;
	report_release(&rep);
	manifest_free(p.m);
	p.m = NULL;
	deploy_outcome_release(&out);
	deploy_plan_release(&p);
	return ex;
fail:
	interrupt_disarm();
	report_release(&rep);
	return cli_fail("rollback", ex);
}

static const struct berth_option options[] = {
	{ "to", 0, required_argument, "VERSION", "the release to go to (default: the last known good one)" },
	{ NULL },
};

const struct berth_cmd berth_cmd_rollback = {
	.name = "rollback",
	.usage = "NAME",
	.summary = "go back to the last known good (or a named) release, health-gated",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK,
	.set_option = set_option,
	.run = exec_rollback,
};
