/* cmd-rollback.c - berth rollback NAME [--to VERSION]: health-gated switch to an installed release */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "berth.h"
#include "cli.h"
#include "deploy.h"
#include "fs.h"
#include "lock.h"
#include "log.h"
#include "runstate.h"
#include "services.h"
#include "strv.h"
#include "unit.h"

static const char *arg_to;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "to"))
		arg_to = arg;
	return 0;
}

static int load_target(struct deploy_plan *p, const char *name, const char *target)
{
	_cleanup_free_ char *dir = release_dir(&p->store, target), *manifest = NULL;
	struct manifest_diags diags = { 0 };
	struct stat st;
	size_t len;
	int r;

	if (!dir || stat(dir, &st) < 0) {
		cli_error(NULL, 0, NULL, NULL, "release \"%s\" of \"%s\" is not installed (see berth releases %s)", target,
			  name, name);
		return BERTH_EXIT_NOT_FOUND;
	}
	_cleanup_free_ char *unit_copy = release_unit_copy_path(&p->store, target);
	r = unit_copy ? fs_read_file(unit_copy, 1024 * 1024, &p->new_unit, &len) : -ENOMEM;
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "release \"%s\" has no saved unit (%m): deploy it instead", target);
		return BERTH_EXIT_FAILURE;
	}
	if (asprintf(&manifest, "%s/manifest.ini", dir) < 0)
		return BERTH_EXIT_FAILURE;
	r = manifest_load(manifest, &p->m, &diags);
	manifest_diags_release(&diags);
	if (r < 0) {
		cli_error(NULL, 0, NULL, NULL, "the saved manifest of release \"%s\" cannot be read: deploy it instead", target);
		return BERTH_EXIT_FAILURE;
	}
	/* a failed rollback puts the release we came from back */
	p->m->rollback = true;
	p->version = strdup(target);
	return p->version ? BERTH_EXIT_OK : BERTH_EXIT_FAILURE;
}

static int exec_rollback(int argc, char **argv)
{
	const char *name = argv[0];
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_close_ int lock_fd = -1;
	_cleanup_free_ char *target = NULL, *result = NULL;
	struct deploy_plan p = { 0 };
	struct deploy_outcome out = { .ready_msec = -1 };
	struct report rep;
	size_t len;
	int r, ex;

	if (cli_require_service(name) != BERTH_EXIT_OK)
		return cli_fail("rollback", BERTH_EXIT_NOT_FOUND);
	ex = cli_open_bus(&bus);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("rollback", ex);
	ex = cli_take_lock(60 * USEC_PER_SEC, &lock_fd);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("rollback", ex);

	p.store.root = (char *)BERTH_STATE_ROOT;
	p.store.name = (char *)name;
	(void)release_get_current(&p.store, &p.old_current);
	if (arg_to)
		target = strdup(arg_to);
	else if (release_get_previous(&p.store, &target) < 0 || !target) {
		cli_error(NULL, 0, NULL, NULL, "\"%s\" has no previous release: name one with --to (see berth releases %s)",
			  name, name);
		return cli_fail("rollback", BERTH_EXIT_NOT_FOUND);
	}
	if (streq_ptr(target, p.old_current)) {
		cli_error(NULL, 0, NULL, NULL, "%s is already the current release of \"%s\"", target, name);
		return cli_fail("rollback", BERTH_EXIT_USAGE);
	}
	ex = load_target(&p, name, target);
	if (ex != BERTH_EXIT_OK)
		goto done_plan;

	p.unit_name = unit_name_for(name);
	if (!p.unit_name || asprintf(&p.unit_path, "%s/%s", BERTH_UNIT_DIR, p.unit_name) < 0) {
		ex = BERTH_EXIT_FAILURE;
		goto done_plan;
	}
	(void)fs_read_file(p.unit_path, 1024 * 1024, &p.old_unit, &len);
	p.release_changes = true;
	p.unit_changes = !streq_ptr(p.old_unit, p.new_unit);

	report_init(&rep, name, arg_json);
	if (!arg_json)
		printf("%s: rolling back from %s to %s\n", name, strempty(p.old_current), target);
	r = release_set_current(&p.store, target);
	if (r >= 0 && p.unit_changes)
		r = fs_write_atomic(p.unit_path, p.new_unit, strlen(p.new_unit), 0644);
	if (r >= 0 && p.unit_changes)
		r = bus_daemon_reload(bus, &error);
	if (r < 0) {
		cli_error(NULL, 0, NULL, NULL, "cannot switch \"%s\" to %s: %s", name, target, bus_error_text(&error, r));
		out.exit_code = BERTH_EXIT_FAILURE;
		goto done;
	}
	report_step(&rep, "current", true, "%s (was %s)", target, strempty(p.old_current));
	if (p.unit_changes)
		report_step(&rep, "unit", true, "restored the unit of %s", target);

	usec_t elapsed = 0;
	uint64_t started = realtime_usec();
	(void)bus_reset_failed(bus, p.unit_name, NULL);
	(void)runstate_remove(name);
	r = bus_unit_job(bus, "RestartUnit", p.unit_name, deploy_job_timeout(p.m), &result, &elapsed, &error);
	if (r < 0 && r != -ETIMEDOUT) {
		cli_error(NULL, 0, NULL, NULL, "cannot restart %s: %s", p.unit_name, bus_error_text(&error, r));
		out.exit_code = BERTH_EXIT_FAILURE;
		goto done;
	}
	deploy_finish(bus, &p, result, elapsed, started, &rep, &out);
	/* for a rollback, "rolled back" means the target failed and we are where we started */
	if (out.exit_code == BERTH_EXIT_ROLLED_BACK)
		out.exit_code = BERTH_EXIT_FAILURE;

done:
	if (arg_json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_string(&j, "command", "rollback");
		json_key_bool(&j, "ok", out.exit_code == BERTH_EXIT_OK);
		json_key_int(&j, "exit_code", out.exit_code);
		json_key_string(&j, "service", name);
		json_key_string(&j, "from", p.old_current);
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
			  out.rolled_back ? "; back on " : "", out.rolled_back ? p.old_current : "");
	ex = out.exit_code;
	report_release(&rep);
done_plan:
	manifest_free(p.m);
	p.m = NULL;
	deploy_outcome_release(&out);
	deploy_plan_release(&p);
	return ex;
}

static const struct berth_option options[] = {
	{ "to", 0, required_argument, "VERSION", "the release to go to (default: the previous one)" },
	{ NULL },
};

const struct berth_cmd berth_cmd_rollback = {
	.name = "rollback",
	.usage = "NAME",
	.summary = "go back to the previous (or a named) release, health-gated",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK,
	.set_option = set_option,
	.run = exec_rollback,
};
