/* cmd-remove.c - berth remove NAME [--purge]: stop, disable and remove the unit */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "berth.h"
#include "cli.h"
#include "deploy.h"
#include "fs.h"
#include "lock.h"
#include "log.h"
#include "release.h"
#include "report.h"
#include "runstate.h"
#include "services.h"
#include "strv.h"
#include "unit.h"

static bool arg_purge;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "purge"))
		arg_purge = true;
	return 0;
}

static int exec_remove(int argc, char **argv)
{
	const char *name = argv[0];
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *unit = unit_name_for(name), *unit_path = NULL, *dropins = NULL, *text = NULL,
			    *result = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct release_store store = { .root = (char *)BERTH_STATE_ROOT, .name = (char *)name };
	struct report rep;
	char runtime_dropins[512];
	bool changed = false;
	size_t len;
	int r, ex = BERTH_EXIT_OK;

	if (!unit || asprintf(&unit_path, "%s/%s", BERTH_UNIT_DIR, unit) < 0 ||
	    asprintf(&dropins, "%s/%s.d", BERTH_UNIT_DIR, unit) < 0)
		return BERTH_EXIT_FAILURE;
	r = fs_read_file(unit_path, 1024 * 1024, &text, &len);
	if (r >= 0 && !startswith(text, BERTH_UNIT_MARKER)) {
		cli_error(NULL, 0, NULL, NULL, "%s is not managed by berth: not touching it", unit_path);
		return cli_fail("remove", BERTH_EXIT_INVALID);
	}
	if (r < 0 && cli_require_service(name) != BERTH_EXIT_OK)
		return cli_fail("remove", BERTH_EXIT_NOT_FOUND);
	ex = cli_open_bus(&bus);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("remove", ex);
	ex = cli_take_lock(60 * USEC_PER_SEC, &lock_fd);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("remove", ex);

	report_init(&rep, name, arg_json);
	if (!arg_json)
		printf("%s: removing%s\n", name, arg_purge ? " (and purging its releases and state)" : "");
	r = bus_unit_job(bus, "StopUnit", unit, 120 * USEC_PER_SEC, &result, NULL, &error);
	if (r < 0)
		log_debug("stopping %s: %s, ignoring", unit, bus_error_text(&error, r));
	else
		report_step(&rep, "stop", true, "%s (%s)", unit, result);
	sd_bus_error_free(&error);
	r = bus_disable_unit(bus, unit, &changed, &error);
	if (r >= 0 && changed)
		report_step(&rep, "disable", true, "%s", unit);
	sd_bus_error_free(&error);
	if (text) {
		r = fs_remove(unit_path, false, true);
		if (r < 0) {
			errno = -r;
			cli_error(NULL, 0, NULL, NULL, "cannot remove %s: %m", unit_path);
			ex = BERTH_EXIT_FAILURE;
		} else
			report_step(&rep, "unit", true, "removed %s", unit_path);
		/* berth's own drop-ins (berth limit) go with it, and the runtime ones of --runtime */
		(void)fs_remove(dropins, true, true);
		snprintf(runtime_dropins, sizeof(runtime_dropins), "/run/systemd/system.control/%s.d", unit);
		(void)fs_remove(runtime_dropins, true, true);
		r = bus_daemon_reload(bus, &error);
		if (r >= 0)
			report_step(&rep, "reload", true, "systemd re-read its units");
	}
	(void)bus_reset_failed(bus, unit, NULL);
	(void)runstate_remove(name);
	if (arg_purge) {
		_cleanup_strv_free_ char **owned = NULL;
		/* read before the purge removes the record; only what berth had systemd create goes */
		r = service_owned_dirs_read(name, &owned);
		if (r < 0)
			log_warning_errno(r, "cannot read which directories of \"%s\" berth created: %m; leaving them", name);
		r = release_purge(&store);
		if (r < 0) {
			errno = -r;
			cli_error(NULL, 0, NULL, NULL, "cannot remove the releases of \"%s\": %m", name);
			ex = BERTH_EXIT_FAILURE;
		} else
			report_step(&rep, "purge", true, "removed %s/%s", BERTH_STATE_ROOT, name);
		size_t removed = 0;
		STRV_FOREACH(d, owned) {
			struct stat st;
			if (lstat(*d, &st) < 0)
				continue;
			if (fs_remove(*d, true, true) < 0)
				log_warning("cannot remove %s, ignoring", *d);
			else
				removed++;
		}
		if (removed)
			report_step(&rep, "state", true, "removed the service's state, cache and logs directories");
		else if (!owned && r >= 0) {
			_cleanup_strv_free_ char **existing = NULL;
			if (service_existing_state_dirs(name, &existing) >= 0 && existing[0]) {
				_cleanup_free_ char *list = strv_join(existing, " ");
				report_step(&rep, "state", false,
					    "left %s: berth has no record that it created them (remove them yourself if they "
					    "were the service's)",
					    strempty(list));
			}
		}
	}

	if (arg_json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_string(&j, "command", "remove");
		json_key_bool(&j, "ok", ex == BERTH_EXIT_OK);
		json_key_int(&j, "exit_code", ex);
		json_key_string(&j, "service", name);
		json_key_bool(&j, "purged", arg_purge);
		report_json(&rep, &j);
		json_object_end(&j);
		json_finish(&j);
	} else if (ex == BERTH_EXIT_OK)
		printf("%s: removed%s\n", name, arg_purge ? " and purged" : " (releases kept: berth remove --purge deletes them)");
	report_release(&rep);
	return ex;
}

static const struct berth_option options[] = {
	{ "purge", 0, no_argument, NULL, "also delete the releases and the service's state and logs" },
	{ NULL },
};

const struct berth_cmd berth_cmd_remove = {
	.name = "remove",
	.usage = "NAME",
	.summary = "stop and disable a service and remove its unit",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK,
	.set_option = set_option,
	.run = exec_remove,
};
