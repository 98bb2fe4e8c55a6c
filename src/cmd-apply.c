/* cmd-apply.c - berth apply DIR: converge every manifest in DIR (the cloud-init entry point)
 *
 * All plans first (nothing changes if a plan cannot be made for a service, for that service);
 * then all files, ONE daemon reload, all start jobs queued together and waited for together;
 * rollback per failed service. Services whose manifest left DIR stay unless --prune.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "berth.h"
#include "cli.h"
#include "deploy.h"
#include "fault.h"
#include "interrupt.h"
#include "lock.h"
#include "log.h"
#include "runstate.h"
#include "services.h"
#include "strv.h"
#include "term.h"
#include "unit.h"

static bool arg_prune;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "prune"))
		arg_prune = true;
	return 0;
}

struct item {
	char *file;
	struct manifest *m;
	struct deploy_plan plan;
	bool planned;
	struct report rep;
	struct deploy_outcome out;
	size_t job; /* index into jobs, or SIZE_MAX */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_manifests(const char *dir, char ***ret)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	char **files = calloc(1, sizeof(char *));
	struct dirent *de;

	if (!files)
		return -ENOMEM;
	if (!d) {
		int r = negative_errno();
		strv_free(files);
		return r;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char *path = NULL;
		if (de->d_name[0] == '.' || l < 5 || !streq(de->d_name + l - 4, ".ini"))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0 || strv_push(&files, path) < 0) {
			strv_free(files);
			return -ENOMEM;
		}
	}
	qsort(files, strv_length(files), sizeof(char *), cmp_str);
	*ret = files;
	return 0;
}

static void prune_service(sd_bus *bus, const char *name, struct report *rep)
{
	_cleanup_free_ char *unit = unit_name_for(name), *path = NULL, *result = NULL;
	bool changed;
	if (!unit || asprintf(&path, "%s/%s", BERTH_UNIT_DIR, unit) < 0)
		return;
	(void)bus_unit_job(bus, "StopUnit", unit, 120 * USEC_PER_SEC, &result, NULL, NULL);
	(void)bus_disable_unit(bus, unit, &changed, NULL);
	(void)unlink(path);
	(void)runstate_remove(name);
	report_step(rep, "prune", true, "%s stopped, disabled and its unit removed (releases kept)", name);
}

/* Services whose manifest was a file in dir that is gone now. Only those: a service deployed from
 * elsewhere, or whose origin is unknown (deployed by an older berth), is never pruned. */
static int prune_candidates(const char *dir, char *const *wanted, char ***ret)
{
	_cleanup_strv_free_ char **managed = NULL, **out = calloc(1, sizeof(char *));
	_cleanup_free_ char *real = realpath(dir, NULL);
	int r;

	if (!out || !real)
		return -ENOMEM;
	r = services_list(&managed);
	if (r < 0)
		return r;
	STRV_FOREACH(name, managed) {
		_cleanup_free_ char *origin = NULL;
		struct stat st;
		if (strv_contains(wanted, *name) || service_origin_read(*name, &origin) < 0 || !origin)
			continue;
		const char *base = strrchr(origin, '/');
		if (!base || (size_t)(base - origin) != strlen(real) || strncmp(origin, real, strlen(real)) != 0)
			continue;
		if (lstat(origin, &st) == 0 || errno != ENOENT)
			continue;
		if ((r = strv_extend(&out, *name)) < 0)
			return r;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

static int exec_apply(int argc, char **argv)
{
	const char *dir = argv[0];
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_strv_free_ char **files = NULL, **wanted = NULL, **prune = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct report global;
	struct bus_jobs jobs = { 0 };
	uint64_t started = 0;
	bool any_unit_changed = false, any_failed = false, any_unreadable = false;
	char why[600] = "";
	int r, ex;

	r = list_manifests(dir, &files);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read manifests in \"%s\": %m", dir);
		return cli_fail("apply", r == -ENOENT || r == -ENOTDIR ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_FAILURE);
	}
	ex = cli_open_bus(&bus);
	if (ex != BERTH_EXIT_OK)
		return cli_fail("apply", ex);
	if (!arg_check) {
		ex = cli_take_lock(120 * USEC_PER_SEC, &lock_fd);
		if (ex != BERTH_EXIT_OK)
			return cli_fail("apply", ex);
		fault_point("apply", "after-lock");
		interrupt_arm();
	}

	size_t n = strv_length(files);
	struct item *items = calloc(n + 1, sizeof(*items));
	wanted = calloc(1, sizeof(char *));
	if (!items || !wanted)
		return BERTH_EXIT_FAILURE;
	report_init(&global, NULL, true);
	if (!arg_check)
		(void)deploy_resolve_all(bus, true, &global);

	/* 1. every plan, before anything changes */
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		it->file = files[i];
		it->job = SIZE_MAX;
		it->out.ready_msec = -1;
		it->plan.image.fd = -1;
		report_init(&it->rep, NULL, true);
		ex = cli_load_manifest(it->file, &it->m);
		if (ex != BERTH_EXIT_OK)
			any_unreadable = true;
		if (ex == BERTH_EXIT_OK) {
			(void)strv_extend(&wanted, it->m->name);
			for (size_t k = 0; k < i; k++)
				if (items[k].m && streq(items[k].m->name, it->m->name)) {
					cli_error(it->file, 0, "service", "name", "service \"%s\" is also defined in %s",
						  it->m->name, items[k].file);
					ex = BERTH_EXIT_INVALID;
				}
		}
		if (ex == BERTH_EXIT_OK) {
			ex = deploy_plan(bus, it->m, NULL, NULL, &it->plan);
			it->plan.op = "apply";
		}
		it->planned = ex == BERTH_EXIT_OK;
		it->out.exit_code = ex;
		if (!it->planned)
			any_failed = true;
	}
	if (arg_prune) {
		r = prune_candidates(dir, wanted, &prune);
		if (r < 0) {
			errno = -r;
			report_fail(&global, "prune", "cannot work out what to prune: %m; nothing pruned");
			any_failed = true;
		} else if (any_unreadable && prune[0]) {
			_cleanup_free_ char *list = strv_join(prune, ", ");
			report_fail(&global, "prune",
				    "not pruning %s: a manifest in %s could not be read (see above), and a service is only "
				    "removed when its manifest is gone for sure",
				    strempty(list), dir);
			prune = strv_free(prune);
		}
	}

	if (arg_check) {
		for (size_t i = 0; i < n; i++)
			if (items[i].planned)
				deploy_print_plan(&items[i].plan, &items[i].rep, arg_diff);
		STRV_FOREACH(name, prune)
			report_step(&global, "prune", true, "would stop, disable and remove %s (its manifest is gone)", *name);
		goto summary;
	}

	if (arg_diff && !arg_json)
		for (size_t i = 0; i < n; i++)
			if (items[i].planned) {
				struct diff_file df[2];
				(void)diff_unified_files(stdout, df, deploy_diff_files(&items[i].plan, df),
							 term_colour(STDOUT_FILENO));
			}

	/* 2. files and enablement for all, then one reload */
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		if (!it->planned)
			continue;
		if (!deploy_plan_needs_txn(&it->plan)) {
			r = deploy_refresh_release(&it->plan, &it->rep);
			if (r >= 0) {
				int e = deploy_enable(bus, &it->plan, &it->rep);
				any_unit_changed |= e > 0; /* the reload below, see deploy_enable() */
				r = e < 0 ? -EIO : 0;
			}
			if (r < 0) {
				errno = -r;
				cli_error(it->file, 0, NULL, NULL, "cannot update release %s of \"%s\": %m", it->plan.version,
					  it->m->name);
				it->out.exit_code = BERTH_EXIT_FAILURE;
				any_failed = true;
			} else
				report_step(&it->rep, "start", false, "running");
			it->planned = false;
			continue;
		}
		r = deploy_begin(&it->plan);
		if (r >= 0)
			r = deploy_install(&it->plan, &it->rep);
		if (r < 0) {
			errno = -r;
			snprintf(why, sizeof(why), "cannot install release %s of \"%s\": %m", it->plan.version, it->m->name);
			cli_error(it->file, 0, NULL, NULL, "%s", why);
			deploy_abort(bus, &it->plan, why, &it->rep, &it->out);
			it->planned = false;
			any_failed = true;
			continue;
		}
		/* enabled before the one reload, see deploy_enable() */
		r = deploy_enable(bus, &it->plan, &it->rep);
		if (r < 0) {
			deploy_abort(bus, &it->plan, "cannot enable the unit", &it->rep, &it->out);
			it->planned = false;
			any_failed = true;
			continue;
		}
		deploy_step(&it->plan, "enable");
		any_unit_changed |= it->plan.unit_changes || r > 0;
	}
	if (any_unit_changed && !interrupt_pending()) {
		r = bus_daemon_reload(bus, &error);
		if (r < 0) {
			snprintf(why, sizeof(why), "systemd reload failed: %s", bus_error_text(&error, r));
			cli_error(NULL, 0, NULL, NULL, "%s", why);
			goto abort_all;
		}
		report_step(&global, "reload", true, "systemd re-read its units (once)");
		for (size_t i = 0; i < n; i++)
			if (items[i].planned)
				deploy_step(&items[i].plan, "reload");
	}

	/* 3. queue every start together, wait for all */
	r = bus_jobs_init(&jobs, bus);
	if (r < 0) {
		snprintf(why, sizeof(why), "cannot subscribe to systemd's job signals: %s", strerror(-r));
		cli_error(NULL, 0, NULL, NULL, "%s", why);
		goto abort_all;
	}
	jobs.should_stop = interrupt_requested;
	started = realtime_usec();
	usec_t timeout = 0;
	for (size_t i = 0; i < n && !interrupt_pending(); i++) {
		struct item *it = &items[i];
		if (!it->planned)
			continue;
		const char *method = deploy_job_method(&it->plan);
		/* a deliberate start is not a crash loop: clear the start limit's counter */
		(void)bus_reset_failed(bus, it->plan.unit_name, NULL);
		(void)runstate_remove(it->m->name);
		sd_bus_error_free(&error);
		r = bus_jobs_queue(&jobs, method, it->plan.unit_name, &error);
		if (r < 0) {
			snprintf(why, sizeof(why), "cannot start %s: %s", it->plan.unit_name, bus_error_text(&error, r));
			cli_error(it->file, 0, NULL, NULL, "%s", why);
			deploy_abort(bus, &it->plan, why, &it->rep, &it->out);
			it->planned = false;
			any_failed = true;
			continue;
		}
		deploy_step(&it->plan, "job-queued");
		it->job = jobs.n - 1;
		usec_t t = deploy_job_timeout(it->m);
		if (t > timeout)
			timeout = t;
	}
	if (!arg_json && jobs.n) {
		printf("apply: %zu start job%s queued, waiting until healthy\n", jobs.n, jobs.n == 1 ? "" : "s");
		fflush(stdout);
	}
	if (jobs.n && fault_wanted("apply", "during-health-wait")) {
		(void)bus_jobs_wait(&jobs, USEC_PER_SEC);
		fault_point("apply", "during-health-wait");
	}
	if (jobs.n)
		(void)bus_jobs_wait(&jobs, timeout);
	if (jobs.bus && jobs.bus != bus) {
		sd_bus_unref(bus);
		bus = sd_bus_ref(jobs.bus);
	}
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];
		if (!it->planned)
			continue;
		if (it->job == SIZE_MAX) {
			/* interrupted before its job was queued */
			snprintf(why, sizeof(why), "interrupted by %s before the start", interrupt_name());
			deploy_abort(bus, &it->plan, why, &it->rep, &it->out);
			any_failed = true;
			continue;
		}
		struct bus_job *j = &jobs.jobs[it->job];
		const char *result = j->result ? j->result : interrupt_pending() ? "interrupted" : NULL;
		deploy_finish(bus, &it->plan, result, j->result ? j->finished_at - j->queued_at : 0, started, &it->rep,
			      &it->out);
		if (it->out.exit_code != BERTH_EXIT_OK)
			any_failed = true;
	}

	/* 4. services whose manifest left DIR */
	if (!interrupt_pending() && prune && prune[0]) {
		STRV_FOREACH(name, prune)
			prune_service(bus, *name, &global);
		/* systemd forgets the removed units */
		sd_bus_error_free(&error);
		if (bus_daemon_reload(bus, &error) >= 0)
			report_step(&global, "reload", true, "systemd re-read its units");
	}
	goto summary;

abort_all:
	for (size_t i = 0; i < n; i++)
		if (items[i].planned) {
			deploy_abort(bus, &items[i].plan, why, &items[i].rep, &items[i].out);
			any_failed = true;
		}

summary:
	interrupt_disarm();
	ex = any_failed ? BERTH_EXIT_FAILURE : BERTH_EXIT_OK;
	if (arg_json) {
		struct json j;
		bool changed = global.changed;
		for (size_t i = 0; i < n; i++)
			changed |= items[i].rep.changed;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key_string(&j, "command", "apply");
		json_key_bool(&j, "ok", !any_failed);
		json_key_int(&j, "exit_code", ex);
		json_key_bool(&j, "check", arg_check);
		json_key_bool(&j, "changed", changed);
		json_key_string(&j, "directory", dir);
		json_key(&j, "services");
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++) {
			struct item *it = &items[i];
			json_object_begin(&j);
			json_key_string(&j, "file", it->file);
			json_key_string(&j, "name", it->m ? it->m->name : NULL);
			json_key_bool(&j, "ok", it->out.exit_code == BERTH_EXIT_OK);
			json_key_int(&j, "exit_code", it->out.exit_code);
			json_key_string(&j, "version", it->plan.version);
			report_json(&it->rep, &j);
			json_key(&j, "ready_msec");
			it->out.ready_msec >= 0 ? json_int(&j, it->out.ready_msec) : json_null(&j);
			json_key_string(&j, "failure", it->out.failure);
			json_key_string(&j, "rolled_back_to", it->out.rolled_back_to);
			sandbox_json(&j, it->out.sandbox, it->out.sandbox_line);
			deploy_json_diff(&j, &it->plan);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_key(&j, "host");
		json_object_begin(&j);
		report_json(&global, &j);
		json_object_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else {
		for (size_t i = 0; i < global.n; i++)
			printf("  %-9s %s\n", global.steps[i].step, global.steps[i].detail);
		printf("%s%-16s %-8s %-13s %-8s %s%s\n", term_out(TERM_BOLD), "SERVICE", "RESULT", "RELEASE", "CHANGED",
		       "DETAIL", term_out(TERM_RESET));
		for (size_t i = 0; i < n; i++) {
			struct item *it = &items[i];
			const char *res = it->out.exit_code == BERTH_EXIT_OK ? "ok" :
					  it->out.exit_code == BERTH_EXIT_ROLLED_BACK ? "rolled" : "FAILED";
			char detail[600];
			if (it->out.failure)
				snprintf(detail, sizeof(detail), "%s%s%s", it->out.failure,
					 it->out.rolled_back_to ? "; back on " : "", strempty(it->out.rolled_back_to));
			else if (it->out.ready_msec >= 0)
				snprintf(detail, sizeof(detail), "ready in %" PRId64 " ms", it->out.ready_msec);
			else if (!it->planned && it->out.exit_code != BERTH_EXIT_OK)
				snprintf(detail, sizeof(detail), "refused before any change (see above)");
			else
				snprintf(detail, sizeof(detail), arg_check ? "would change: %s" : "%s",
					 arg_check ? (it->rep.changed ? "yes" : "no") : "unchanged");
			printf("%-16s %-8s %-13s %-8s %s\n", it->m ? it->m->name : it->file, res,
			       it->plan.version ? it->plan.version : "-", it->rep.changed ? "yes" : "no", detail);
			sandbox_print(stdout, "  └ ", "    ", it->out.sandbox, it->out.sandbox_line);
		}
	}
	bus_jobs_release(&jobs);
	for (size_t i = 0; i < n; i++) {
		deploy_plan_release(&items[i].plan);
		deploy_outcome_release(&items[i].out);
		report_release(&items[i].rep);
		manifest_free(items[i].m);
	}
	free(items);
	report_release(&global);
	return ex;
}

static const struct berth_option options[] = {
	{ "prune", 0, no_argument, NULL, "stop and remove services whose manifest is no longer in DIR" },
	{ NULL },
};

const struct berth_cmd berth_cmd_apply = {
	.name = "apply",
	.usage = "DIR",
	.summary = "converge every manifest (*.ini) in a directory: one reload, parallel starts",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_NEED_ROOT | BERTH_CMD_TAKES_LOCK | BERTH_CMD_MUTATES,
	.set_option = set_option,
	.run = exec_apply,
};
