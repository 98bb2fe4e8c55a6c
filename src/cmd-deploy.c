/* cmd-deploy.c - berth deploy MANIFEST: install a release and make it healthy, or roll back */
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
#include "runstate.h"
#include "strv.h"
#include "txn.h"
#include "unit.h"

static const char *arg_binary, *arg_version;
static usec_t arg_lock_timeout = 60 * USEC_PER_SEC;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "binary"))
		arg_binary = arg;
	else if (streq(name, "version"))
		arg_version = arg;
	else if (streq(name, "lock-timeout") && parse_duration(arg, false, &arg_lock_timeout) < 0) {
		log_error("berth deploy: invalid --lock-timeout \"%s\": use a duration like 30s", arg);
		return BERTH_EXIT_USAGE;
	}
	return 0;
}

static void print_json(const struct deploy_plan *p, const struct manifest *m, const struct report *rep,
		       const struct deploy_outcome *o)
{
	struct json j;
	json_init(&j, stdout);
	json_object_begin(&j);
	json_key_string(&j, "command", "deploy");
	json_key_bool(&j, "ok", o->exit_code == BERTH_EXIT_OK);
	json_key_int(&j, "exit_code", o->exit_code);
	json_key_string(&j, "service", m->name);
	json_key_string(&j, "unit", p->unit_name);
	json_key_string(&j, "version", p->version);
	json_key_string(&j, "previous_version", p->old_current);
	json_key_bool(&j, "check", arg_check);
	report_json(rep, &j);
	json_key(&j, "ready_msec");
	o->ready_msec >= 0 ? json_int(&j, o->ready_msec) : json_null(&j);
	json_key_bool(&j, "rolled_back", o->rolled_back);
	json_key_string(&j, "rolled_back_to", o->rolled_back_to);
	json_key_string(&j, "failure", o->failure);
	deploy_json_diff(&j, p);
	json_key(&j, "journal");
	json_array_begin(&j);
	STRV_FOREACH(l, o->journal)
		json_string(&j, *l);
	json_array_end(&j);
	sandbox_json(&j, o->sandbox, o->sandbox_line);
	json_object_end(&j);
	json_finish(&j);
}

static int exec_deploy(int argc, char **argv)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct deploy_plan plan = { .image = { .fd = -1 } };
	struct deploy_outcome out = { .ready_msec = -1 };
	struct report rep;
	int r, ex;

	ex = cli_load_manifest(argv[0], &m);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("deploy", ex);
	ex = cli_open_bus(&bus);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("deploy", ex);
	log_debug("manifest loaded, connected to systemd");

	report_init(&rep, m->name, arg_json);
	if (!arg_json)
		printf("%s%s: %s\n", arg_check ? "(check) " : "", m->name, arg_check ? "what would change" : "deploying");
	if (!arg_check) {
		ex = cli_take_lock(arg_lock_timeout, &lock_fd);
		if (ex != BERTH_EXIT_OK) {
			report_release(&rep);
			return cli_fail("deploy", ex);
		}
		report_step(&rep, "lock", false, "%s", BERTH_LOCK_PATH);
		fault_point("deploy", "after-lock");
		/* from here a signal is remembered, and the service is put back before we exit */
		interrupt_arm();
		(void)deploy_resolve(bus, m->name, true, &rep);
		log_debug("unfinished transactions resolved");
	} else if (txn_exists(BERTH_STATE_ROOT, m->name))
		report_step(&rep, "resolve", true, "would first finish an interrupted change of %s", m->name);

	ex = deploy_plan(bus, m, arg_binary, arg_version, &plan);
	if (ex != BERTH_EXIT_OK) {
		report_release(&rep);
		return cli_fail("deploy", ex);
	}
	report_step(&rep, "check", false, "%s for %s%s%s", plan.binary, plan.verdict.info.arch,
		    plan.verdict.info.is_go ? ", " : "", plan.verdict.info.is_go ? plan.verdict.info.go.go_version : "");
	STRV_FOREACH(w, plan.verdict.warnings)
		log_warning("%s: %s", plan.binary, *w);

	if (arg_check) {
		deploy_print_plan(&plan, &rep, arg_diff);
		out.exit_code = BERTH_EXIT_OK;
		goto done;
	}
	if (arg_diff && plan.unit_changes) {
		struct report quiet;
		report_init(&quiet, m->name, true);
		deploy_print_plan(&plan, &quiet, true);
		report_release(&quiet);
	}

	if (!deploy_plan_needs_txn(&plan)) {
		/* nothing that runs changes: at most the saved manifest and the boot-time enablement */
		r = deploy_refresh_release(&plan, &rep);
		if (r >= 0) {
			_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
			int e = deploy_enable(bus, &plan, &rep);
			if (e > 0 && bus_daemon_reload(bus, &error) >= 0)
				report_step(&rep, "reload", true, "systemd re-read its units");
			r = e < 0 ? -EIO : 0;
		}
		if (r < 0) {
			errno = -r;
			cli_error(NULL, 0, NULL, NULL, "cannot update release %s of \"%s\": %m", plan.version, m->name);
			out.exit_code = BERTH_EXIT_FAILURE;
			goto done;
		}
		report_step(&rep, "start", false, "%s is running %s", plan.unit_name, plan.version);
		out.exit_code = BERTH_EXIT_OK;
		goto done;
	}

	deploy_run(&bus, &plan, &rep, &out);
done:
	interrupt_disarm();
	out.changed = rep.changed;
	if (arg_json)
		print_json(&plan, m, &rep, &out);
	else if (out.exit_code == BERTH_EXIT_OK)
		printf("%s: %s\n", m->name,
		       arg_check ? (rep.changed ? "would change" : "no change needed") :
		       rep.changed ? "deployed" : "no change (already deployed and running)");
	if (out.failure) {
		if (out.rolled_back)
			log_error("release %s failed: %s; rolled back to %s", plan.version, out.failure, out.rolled_back_to);
		else
			log_error("release %s failed: %s", plan.version, out.failure);
		if (out.journal && out.journal[0]) {
			fprintf(stderr, "last log lines of the failed start:\n");
			STRV_FOREACH(l, out.journal)
				fprintf(stderr, "  %s\n", *l);
		}
		sandbox_print(stderr, "", "  ", out.sandbox, out.sandbox_line);
	}
	ex = out.exit_code;
	deploy_outcome_release(&out);
	deploy_plan_release(&plan);
	report_release(&rep);
	return ex;
}

static const struct berth_option options[] = {
	{ "binary", 'b', required_argument, "PATH", "the Go binary to install (default: the manifest's binary)" },
	{ "version", 0, required_argument, "VERSION", "release name (default: first 12 hex of its SHA-256)" },
	{ "lock-timeout", 0, required_argument, "DURATION", "wait this long for another berth (default 60s)" },
	{ NULL },
};

const struct berth_cmd berth_cmd_deploy = {
	.name = "deploy",
	.usage = "MANIFEST",
	.summary = "install a release, write the unit, start it and wait until healthy",
	.description =
		"Steps: lock, check the manifest and binary, install the release under\n"
		"/var/lib/berth/NAME/releases, write the unit, reload systemd (only if the unit\n"
		"changed), enable, start or restart and wait until the health check passes.\n"
		"If it does not, the previous release and unit are put back (exit 6).\n"
		"Deploying the same binary and manifest again changes nothing.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK | BERTH_CMD_MUTATES,
	.set_option = set_option,
	.run = exec_deploy,
};
