/* control.c - start/stop/restart with the job's result and, on failure, the reason */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "berth.h"
#include "bus.h"
#include "cli.h"
#include "control.h"
#include "deploy.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "runstate.h"
#include "services.h"
#include "strv.h"
#include "unit.h"

int control_service(const char *command, const char *name, const char *method)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_free_ char *unit = unit_name_for(name), *result = NULL;
	_cleanup_strv_free_ char **journal = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct unit_status before = { 0 }, after = { 0 };
	usec_t elapsed = 0, timeout = 120 * USEC_PER_SEC;
	uint64_t started = realtime_usec();
	const char *failure = NULL;
	char reason[600] = "";
	int r, ex;

	if (cli_require_service(name) != BERTH_EXIT_OK)
		return cli_fail(command, BERTH_EXIT_NOT_FOUND);
	if (service_load_manifest(name, &m) >= 0)
		timeout = deploy_job_timeout(m);
	ex = cli_open_bus(&bus);
	if (ex != BERTH_EXIT_OK)
		return cli_fail(command, ex);
	ex = cli_take_lock(60 * USEC_PER_SEC, &lock_fd);
	if (ex != BERTH_EXIT_OK)
		return cli_fail(command, ex);

	(void)bus_get_unit_status(bus, unit, &before, NULL);
	if (!streq(method, "StopUnit")) {
		(void)bus_reset_failed(bus, unit, NULL);
		(void)runstate_remove(name);
	}
	r = bus_unit_job(bus, method, unit, timeout, &result, &elapsed, &error);
	if (r < 0 && r != -ETIMEDOUT) {
		cli_error(NULL, 0, NULL, NULL, "cannot %s %s: %s", command, unit, bus_error_text(&error, r));
		unit_status_release(&before);
		return cli_fail(command, BERTH_EXIT_FAILURE);
	}
	(void)bus_get_unit_status(bus, unit, &after, NULL);

	if (!result || !streq(result, "done")) {
		struct ready_state rs;
		if (!result)
			failure = "the job did not finish in time";
		else if (runstate_read_ready(name, &rs) >= 0 && !rs.ok && !streq(method, "StopUnit"))
		{
			snprintf(reason, sizeof(reason), "%s", rs.reason);
			failure = reason;
		}
		else {
			snprintf(reason, sizeof(reason), "job %s (%s)", result, strempty(after.result));
			failure = reason;
		}
		(void)journal_tail(unit, 10, started, &journal);
	}
	/* a stop that ran into TimeoutStopSec ended with SIGKILL: say so */
	bool killed = streq(method, "StopUnit") && streq_ptr(after.result, "timeout");

	if (arg_json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_string(&j, "command", command);
		json_key_bool(&j, "ok", !failure);
		json_key_int(&j, "exit_code", failure ? BERTH_EXIT_FAILURE : BERTH_EXIT_OK);
		json_key_string(&j, "service", name);
		json_key_bool(&j, "changed", !streq_ptr(before.active_state, after.active_state) ||
						     !streq(method, "StopUnit") || before.main_pid != after.main_pid);
		json_key_string(&j, "active_state", after.active_state);
		json_key_string(&j, "sub_state", after.sub_state);
		json_key_uint(&j, "elapsed_msec", elapsed / USEC_PER_MSEC);
		json_key_bool(&j, "killed_after_timeout", killed);
		json_key_string(&j, "failure", failure);
		json_key(&j, "journal");
		json_array_begin(&j);
		STRV_FOREACH(l, journal)
			json_string(&j, *l);
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else if (!failure) {
		if (killed)
			printf("%s: stopped in %" PRIu64 " ms: it ignored SIGTERM for %.0fs (TimeoutStopSec) and was killed with SIGKILL\n",
			       name, (uint64_t)(elapsed / USEC_PER_MSEC),
			       (double)after.timeout_stop_usec / USEC_PER_SEC);
		else
			printf("%s: %s in %" PRIu64 " ms%s\n", name,
			       streq(method, "StopUnit") ? "stopped" : streq(method, "StartUnit") ? "started" : "restarted",
			       (uint64_t)(elapsed / USEC_PER_MSEC), streq(method, "StopUnit") ? "" : ", healthy");
	}
	if (failure) {
		log_error("%s %s failed: %s", command, name, failure);
		if (journal && journal[0]) {
			fprintf(stderr, "last log lines:\n");
			STRV_FOREACH(l, journal)
				fprintf(stderr, "  %s\n", *l);
		}
	}
	unit_status_release(&before);
	unit_status_release(&after);
	return failure ? BERTH_EXIT_FAILURE : BERTH_EXIT_OK;
}
