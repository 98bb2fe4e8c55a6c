/* deploy-txn.c - carrying out a deploy plan inside a transaction: install, switch, start, wait,
 * then commit the release or put everything back; and finishing what a killed berth left. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth.h"
#include "cgroup.h"
#include "cli.h"
#include "deploy.h"
#include "fault.h"
#include "fs.h"
#include "health.h"
#include "interrupt.h"
#include "journal.h"
#include "log.h"
#include "runstate.h"
#include "services.h"
#include "strv.h"
#include "txn.h"
#include "unit.h"

#define STATE_ROOT BERTH_STATE_ROOT

/* A redeploy that changes nothing writes nothing: compare before the (fsync'ed) write. */
static int write_if_changed(const char *path, const char *data, mode_t mode, bool *ret_changed)
{
	_cleanup_free_ char *have = NULL;
	size_t have_len, len = strlen(data);
	if (fs_read_file(path, 1024 * 1024, &have, &have_len) >= 0 && have_len == len && memcmp(have, data, len) == 0) {
		if (ret_changed)
			*ret_changed = false;
		return 0;
	}
	if (ret_changed)
		*ret_changed = true;
	return fs_write_atomic(path, data, len, mode);
}

/* What goes with a release once it ran with it: the manifest and unit (0600: environment values),
 * the manifest without its [environment] for anyone (status and net as a user), and the binary's
 * source stamp for the quick "same file" check. */
static int save_release_files(const struct release_store *store, const char *version, const char *manifest_text,
			      const char *unit_text, const char *stamp, bool *ret_changed)
{
	_cleanup_free_ char *dir = release_dir(store, version), *unit = release_unit_copy_path(store, version),
			    *manifest = NULL, *public = NULL, *public_text = NULL, *stamp_path = NULL;
	bool a = false, b = false, c = false;
	int r;

	if (!dir || !unit || asprintf(&manifest, "%s/manifest.ini", dir) < 0 ||
	    asprintf(&public, "%s/" RELEASE_PUBLIC_MANIFEST, dir) < 0 || asprintf(&stamp_path, "%s/source", dir) < 0)
		return -ENOMEM;
	r = unit_text ? write_if_changed(unit, unit_text, 0600, &a) : 0;
	if (r >= 0 && manifest_text)
		r = write_if_changed(manifest, manifest_text, 0600, &b);
	if (r >= 0 && manifest_text && (r = manifest_public_text(manifest_text, &public_text)) >= 0)
		r = write_if_changed(public, public_text, 0644, NULL);
	if (r >= 0 && stamp)
		r = write_if_changed(stamp_path, stamp, 0644, &c);
	if (ret_changed)
		*ret_changed = a || b || c;
	return r;
}

int deploy_refresh_release(struct deploy_plan *p, struct report *rep)
{
	_cleanup_free_ char *stamp = deploy_source_stamp(p), *origin = NULL;
	bool changed = false;
	int r;

	r = save_release_files(&p->store, p->version, p->manifest_text, p->new_unit, stamp, &changed);
	if (r < 0)
		return r;
	if (changed)
		report_step(rep, "manifest", true, "saved the manifest with release %s", p->version);
	if (p->manifest_path && service_origin_read(p->m->name, &origin) >= 0 && !streq_ptr(origin, p->manifest_path))
		r = service_origin_write(p->m->name, p->manifest_path);
	return r;
}

/* The start job of a plan, queued and waited for; a signal ends the wait early ("interrupted").
 * *busp follows the jobs to a new connection if systemd re-executed meanwhile. */
static int run_job(sd_bus **busp, struct deploy_plan *plan, const char *method, char **ret_result, usec_t *ret_elapsed)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct bus_jobs jobs = { 0 };
	int r;

	r = bus_jobs_init(&jobs, *busp);
	if (r >= 0) {
		jobs.should_stop = interrupt_requested;
		r = bus_jobs_queue(&jobs, method, plan->unit_name, &error);
	}
	if (r < 0) {
		cli_error(NULL, 0, NULL, NULL, "cannot start %s: %s", plan->unit_name, bus_error_text(&error, r));
		bus_jobs_release(&jobs);
		return r;
	}
	deploy_step(plan, "job-queued");
	/* said once the job is queued and recorded: a berth killed after this line leaves a record
	 * that says so */
	if (!arg_json) {
		printf("  … %-9s %s %s (waiting until healthy)\n", "start",
		       streq(method, "StartUnit") ? "starting" : "restarting", plan->unit_name);
		fflush(stdout);
	}
	if (fault_wanted(plan->op, "during-health-wait")) {
		(void)bus_jobs_wait(&jobs, USEC_PER_SEC);
		fault_point(plan->op, "during-health-wait");
	}
	r = bus_jobs_wait(&jobs, deploy_job_timeout(plan->m));
	if (jobs.bus != *busp) {
		sd_bus_unref(*busp);
		*busp = sd_bus_ref(jobs.bus);
	}
	if (r == -ECANCELED)
		*ret_result = strdup("interrupted");
	else if (r >= 0) {
		*ret_result = TAKE_PTR(jobs.jobs[0].result);
		*ret_elapsed = jobs.jobs[0].finished_at - jobs.jobs[0].queued_at;
	}
	bus_jobs_release(&jobs);
	return r == -ETIMEDOUT || r == -ECANCELED ? 0 : r;
}


int deploy_begin(struct deploy_plan *p)
{
	struct txn *t = &p->txn;
	int r;

	*t = (struct txn){
		.service = strdup(p->m->name),
		.op = strdup(p->op),
		.from = p->old_current ? strdup(p->old_current) : NULL,
		.to = strdup(p->version),
		.step = strdup("begin"),
		.pid = getpid(),
		.started_usec = realtime_usec(),
		.had_unit = p->old_unit != NULL,
		.had_dropin = p->old_dropin != NULL,
		.was_active = p->is_active,
		.was_enabled = p->was_enabled,
		.unit_old = p->old_unit ? strdup(p->old_unit) : NULL,
		.dropin_old = p->old_dropin ? strdup(p->old_dropin) : NULL,
		.unit_new = strdup(p->new_unit),
		.manifest_new = p->manifest_text ? strdup(p->manifest_text) : NULL,
	};
	if (!t->service || !t->op || !t->to || !t->step || !t->unit_new || (p->old_current && !t->from) ||
	    (p->old_unit && !t->unit_old) || (p->old_dropin && !t->dropin_old) ||
	    (p->manifest_text && !t->manifest_new))
		return -ENOMEM;
	r = txn_begin(STATE_ROOT, t);
	if (r < 0)
		return r;
	p->txn_open = true;
	log_debug("transaction record written");
	fault_point(p->op, "after-begin");
	return 0;
}

void deploy_step(struct deploy_plan *p, const char *step)
{
	if (p->txn_open) {
		int r = txn_set_step(STATE_ROOT, &p->txn, step);
		if (r < 0)
			log_debug_errno(r, "cannot record step %s of %s: %m, ignoring", step, p->m->name);
	}
	char name[64];
	snprintf(name, sizeof(name), "after-%s", step);
	fault_point(p->op, name);
}

int deploy_install(struct deploy_plan *p, struct report *rep)
{
	const struct elf_info *e = &p->verdict.info;
	_cleanup_free_ char *module = NULL, *stamp = deploy_source_stamp(p);
	bool created = false;
	int r;

	if (e->is_go && e->go.main_module &&
	    asprintf(&module, "%s@%s", e->go.main_module, strempty(e->go.main_version)) < 0)
		return -ENOMEM;

	if (!p->release_exists) {
		/* a new release carries its manifest from the start (rollback --to reads it); an
		 * existing one gets the new one only when it passes */
		_cleanup_free_ char *unit_copy = NULL;
		struct release_file files[3];
		size_t n = 0;
		if (asprintf(&unit_copy, "%s.service", p->store.name) < 0)
			return -ENOMEM;
		files[n++] = (struct release_file){ unit_copy, p->new_unit, 0600 };
		if (p->manifest_text)
			files[n++] = (struct release_file){ "manifest.ini", p->manifest_text, 0600 };
		if (stamp)
			files[n++] = (struct release_file){ "source", stamp, 0644 };
		r = release_install_with(&p->store, p->version, p->image.fd, p->image.sha256,
					 e->is_go ? e->go.go_version : NULL, module, files, n, &created);
		if (r < 0)
			return r;
		log_debug("release %s installed", p->version);
		/* installed meanwhile by another berth: its files are that berth's */
		r = created ? 0 : save_release_files(&p->store, p->version, p->manifest_text, p->new_unit, stamp, NULL);
		if (r < 0)
			return r;
		report_step(rep, "release", true, "installed %s%s%s", p->version, e->is_go ? " " : "",
			    e->is_go ? strempty(e->go.go_version) : "");
	}
	deploy_step(p, "release-copy");
	if (p->release_changes) {
		r = release_set_current(&p->store, p->version);
		if (r < 0)
			return r;
		if (p->old_current)
			report_step(rep, "current", true, "%s (was %s)", p->version, p->old_current);
		else
			report_step(rep, "current", true, "%s", p->version);
	} else if (p->release_exists)
		report_step(rep, "release", false, "%s is current", p->version);
	deploy_step(p, "current-switch");

	if (p->new_owned_dirs) {
		r = service_owned_dirs_write(p->m->name, p->new_owned_dirs);
		if (r < 0)
			return r;
	}
	if (p->dropin_changes) {
		if (p->new_dropin) {
			_cleanup_free_ char *dir = strndup(p->dropin_path, strrchr(p->dropin_path, '/') - p->dropin_path);
			r = dir ? fs_mkdir_p_nofollow(dir, 0755) : -ENOMEM;
			if (r >= 0)
				r = fs_write_atomic(p->dropin_path, p->new_dropin, strlen(p->new_dropin), 0600);
		} else
			r = fs_remove(p->dropin_path, false, true);
		if (r < 0)
			return r;
		report_step(rep, "limits", true, p->new_dropin ? "kept the limits set by berth limit, where the manifest did not change them" :
								 "the manifest now sets the limits berth limit had changed: %s removed",
			    p->dropin_path);
	}
	if (!streq_ptr(p->old_unit, p->new_unit)) {
		r = fs_write_atomic(p->unit_path, p->new_unit, strlen(p->new_unit), 0644);
		if (r < 0)
			return r;
		report_step(rep, "unit", true, "%s %s", p->old_unit ? "updated" : "wrote", p->unit_path);
	} else
		report_step(rep, "unit", false, "%s unchanged", p->unit_path);
	deploy_step(p, "unit-write");
	return 0;
}

int deploy_enable(sd_bus *bus, struct deploy_plan *p, struct report *rep)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	bool changed = false;
	int r;

	if (!p->needs_enable)
		return 0;
	r = bus_enable_unit(bus, p->unit_name, &changed, &error);
	if (r < 0) {
		cli_error(NULL, 0, NULL, NULL, "cannot enable %s: %s", p->unit_name, bus_error_text(&error, r));
		return r;
	}
	if (changed)
		report_step(rep, "enable", true, "%s enabled at boot", p->unit_name);
	return changed;
}

/* Why did the start fail? The readiness check's own words if it ran, else systemd's view. */
static char *failure_reason(sd_bus *bus, const struct deploy_plan *p, const char *job_result, int *ret_code,
			    int *ret_status)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct unit_status st = { 0 };
	struct ready_state rs;
	char buf[600];

	if (!job_result)
		return strdup("the start job did not finish in time");
	if (streq(job_result, "interrupted")) {
		snprintf(buf, sizeof(buf), "interrupted by %s while waiting for the service to become healthy",
			 interrupt_name());
		return strdup(buf);
	}
	snprintf(buf, sizeof(buf), "start job %s", job_result);
	if (bus_get_unit_status(bus, p->unit_name, &st, &error) >= 0) {
		bool have_ready = runstate_read_ready(p->m->name, &rs) >= 0 && !rs.ok;
		/* a failed readiness check also ends in Result=exit-code (of ExecStartPost=), with the
		 * main process stopped cleanly; a crash shows in the main process's own status */
		bool crashed = (st.exec_main_code == CLD_EXITED && st.exec_main_status != 0) ||
			       ((st.exec_main_code == CLD_KILLED || st.exec_main_code == CLD_DUMPED) &&
				st.exec_main_status != SIGTERM);
		*ret_code = st.exec_main_code;
		*ret_status = st.exec_main_status;
		if (st.result && streq(st.result, "oom-kill"))
			snprintf(buf, sizeof(buf), "the service was killed for running out of memory (MemoryMax)");
		else if (crashed && st.exec_main_code == CLD_EXITED)
			snprintf(buf, sizeof(buf), "the service exited with status %d during start", st.exec_main_status);
		else if (crashed)
			snprintf(buf, sizeof(buf), "the service was killed by signal %s during start",
				 strsignal(st.exec_main_status));
		else if (have_ready)
			snprintf(buf, sizeof(buf), "%s", rs.reason);
		else
			snprintf(buf, sizeof(buf), "start job %s (%s)", job_result, strempty(st.result));
		unit_status_release(&st);
	}
	return strdup(buf);
}

/* [deploy] watch: after ready, the release must keep running (same main process, no restart) and
 * stay healthy (fewer than failure_threshold failed probes in a row) for the whole window, or it
 * is treated like a failed start. Returns NULL, or why it failed. */
static char *watch_release(sd_bus *bus, const struct deploy_plan *p, struct report *rep)
{
	struct unit_status first = { 0 }, now = { 0 };
	struct health_spec spec;
	struct probe_result res;
	char buf[600], span[FORMAT_DURATION_MAX];
	unsigned failed = 0;
	char *why = NULL;

	if (p->m->watch == USEC_UNSET || p->m->watch == 0)
		return NULL;
	if (bus_get_unit_status(bus, p->unit_name, &first, NULL) < 0)
		return strdup("cannot ask systemd about the service during the watch");
	bool probe = deploy_health_spec(p->m, &spec);
	/* probe at least a few times within a short window */
	usec_t every = spec.interval < p->m->watch / 3 ? spec.interval : p->m->watch / 3;
	if (every < 100 * USEC_PER_MSEC)
		every = 100 * USEC_PER_MSEC;
	usec_t deadline = now_usec() + p->m->watch, next_probe = now_usec() + every;

	while (!why && now_usec() < deadline) {
		if (interrupt_pending()) {
			snprintf(buf, sizeof(buf), "interrupted by %s during the %s watch",
				 interrupt_name(),
				 format_duration(span, sizeof(span), p->m->watch));
			why = strdup(buf);
			break;
		}
		usec_t t = now_usec(), until = next_probe < deadline ? next_probe : deadline;
		if (until > t)
			(void)usleep((useconds_t)(until - t < 250 * USEC_PER_MSEC ? until - t : 250 * USEC_PER_MSEC));
		if (bus_get_unit_status(bus, p->unit_name, &now, NULL) >= 0) {
			if (!streq_ptr(now.active_state, "active") || now.main_pid != first.main_pid ||
			    now.n_restarts != first.n_restarts) {
				snprintf(buf, sizeof(buf), "the service %s during the %s watch (%s/%s, result %s)",
					 now.n_restarts != first.n_restarts || now.main_pid != first.main_pid ? "restarted" : "stopped",
					 format_duration(span, sizeof(span), p->m->watch), strempty(now.active_state),
					 strempty(now.sub_state), strempty(now.result));
				why = strdup(buf);
			}
			unit_status_release(&now);
		}
		if (!why && probe && now_usec() >= next_probe) {
			next_probe = now_usec() + every;
			if (health_probe(&spec, &res) >= 0 && !res.healthy && ++failed >= spec.failure_threshold) {
				snprintf(buf, sizeof(buf), "unhealthy %u times in a row during the %s watch: %s", failed,
					 format_duration(span, sizeof(span), p->m->watch), res.reason);
				why = strdup(buf);
			} else if (res.healthy)
				failed = 0;
		}
	}
	unit_status_release(&first);
	if (!why)
		report_step(rep, "watch", false, "running and healthy for %s", format_duration(span, sizeof(span), p->m->watch));
	return why;
}

/* The release passed: it keeps its manifest and unit, is marked good, old releases go, the record
 * goes last (until then a crash rolls forward to exactly this). */
static int commit(const struct txn *t, const char *stamp, const char *origin, int64_t ready_msec, unsigned keep,
		  struct report *rep)
{
	struct release_store store = { .root = (char *)STATE_ROOT, .name = t->service };
	int r;

	r = save_release_files(&store, t->to, t->manifest_new, t->unit_new, stamp, NULL);
	if (r < 0)
		return r;
	log_debug("commit: release files saved");
	r = release_mark(&store, t->to, true, ready_msec);
	if (r < 0)
		return r;
	log_debug("commit: release marked good");
	if (origin) {
		_cleanup_free_ char *have = NULL;
		if (service_origin_read(t->service, &have) >= 0 && !streq_ptr(have, origin))
			(void)service_origin_write(t->service, origin);
	}
	r = release_prune(&store, keep);
	if (r > 0)
		report_step(rep, "prune", true, "removed %d old release%s (keeping %u)", r, r == 1 ? "" : "s", keep);
	log_debug("commit: old releases pruned");
	r = txn_end(STATE_ROOT, t->service);
	log_debug("commit: transaction record removed");
	return r;
}

static unsigned keep_of(const struct manifest *m)
{
	return !m || m->keep_releases == U64_UNSET ? 5 : (unsigned)m->keep_releases;
}

/* berth's own temp files (".#NAME.<16 hex>") of a path, left if berth died inside a write. */
static void sweep_temp_files(const char *path)
{
	_cleanup_free_ char *dir = strndup(path, strrchr(path, '/') - path);
	const char *base = strrchr(path, '/') + 1;
	_cleanup_(closedirp) DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	char prefix[300];

	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), ".#%s.", base);
	while ((de = readdir(d))) {
		const char *hex = startswith(de->d_name, prefix);
		if (hex && strlen(hex) == 16 && strspn(hex, "0123456789abcdef") == 16) {
			_cleanup_free_ char *p = NULL;
			if (asprintf(&p, "%s/%s", dir, de->d_name) >= 0)
				(void)fs_remove(p, false, true);
		}
	}
}

/* Enables or disables unit, and reloads when its [Install] symlinks changed (see deploy_enable()). */
static int set_enabled(sd_bus *bus, const char *unit, bool enable)
{
	bool changed = false;
	int r = enable ? bus_enable_unit(bus, unit, &changed, NULL) : bus_disable_unit(bus, unit, &changed, NULL);

	if (r >= 0 && changed)
		(void)bus_daemon_reload(bus, NULL);
	return r;
}

/* Restores what t saved and puts the service back in the state it was in: the old release
 * running and healthy (or stopped, if it was), enabled as it was; a first deploy is left stopped
 * and disabled. Idempotent: what already is as it was is not touched. why says what failed. */
static int roll_back(sd_bus *bus, const struct txn *t, struct report *rep, char *why, size_t why_len)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct release_store store = { .root = (char *)STATE_ROOT, .name = t->service };
	_cleanup_free_ char *unit = unit_name_for(t->service), *unit_path = NULL, *disk_unit = NULL, *disk_dropin = NULL,
			    *dropin_path = cgroup_limits_dropin_path(NULL, t->service), *cur = NULL, *result = NULL,
			    *running = NULL;
	_cleanup_(manifest_freep) struct manifest *old_m = NULL;
	struct unit_status st = { 0 };
	bool files_changed = false;
	usec_t elapsed = 0;
	size_t len;
	int r;

	if (!unit || !dropin_path || asprintf(&unit_path, "%s/%s", BERTH_UNIT_DIR, unit) < 0)
		return -ENOMEM;
	if (t->from) {
		r = release_get_current(&store, &cur);
		if (r >= 0 && !streq_ptr(cur, t->from))
			r = release_set_current(&store, t->from);
		if (r < 0) {
			snprintf(why, why_len, "cannot point current at %s: %s", t->from, strerror(-r));
			return r;
		}
		(void)service_load_manifest(t->service, &old_m);
	}

	/* a first deploy keeps its unit (stopped and disabled) so that status and remove find it */
	r = fs_read_file(unit_path, 1024 * 1024, &disk_unit, &len);
	if (r < 0 && r != -ENOENT)
		goto io_fail;
	if (t->from && t->had_unit && !streq_ptr(disk_unit, t->unit_old)) {
		r = fs_write_atomic(unit_path, t->unit_old, strlen(t->unit_old), 0644);
		files_changed = true;
	} else if (t->from && !t->had_unit && disk_unit) {
		r = fs_remove(unit_path, false, true);
		files_changed = true;
	} else
		r = 0;
	if (r < 0)
		goto io_fail;
	r = fs_read_file(dropin_path, 64 * 1024, &disk_dropin, &len);
	if (r < 0 && r != -ENOENT)
		goto io_fail;
	r = 0;
	if (t->had_dropin && !streq_ptr(disk_dropin, t->dropin_old)) {
		_cleanup_free_ char *dir = strndup(dropin_path, strrchr(dropin_path, '/') - dropin_path);
		r = dir ? fs_mkdir_p_nofollow(dir, 0755) : -ENOMEM;
		if (r >= 0)
			r = fs_write_atomic(dropin_path, t->dropin_old, strlen(t->dropin_old), 0600);
		files_changed = true;
	} else if (!t->had_dropin && disk_dropin) {
		r = fs_remove(dropin_path, false, true);
		files_changed = true;
	}
	if (r < 0)
		goto io_fail;
	sweep_temp_files(unit_path);
	sweep_temp_files(dropin_path);
	if (files_changed)
		report_step(rep, "unit", true, "restored %s%s", unit_path, t->had_dropin || disk_dropin ? " and its limits drop-in" : "");

	r = bus_get_unit_status(bus, unit, &st, &error);
	if (r >= 0 && (files_changed || st.need_daemon_reload)) {
		r = bus_daemon_reload(bus, &error);
		if (r < 0) {
			snprintf(why, why_len, "systemd reload failed: %s", bus_error_text(&error, r));
			unit_status_release(&st);
			return r;
		}
		report_step(rep, "reload", true, "systemd re-read its units");
		unit_status_release(&st);
		r = bus_get_unit_status(bus, unit, &st, &error);
	}
	if (r < 0) {
		snprintf(why, why_len, "cannot ask systemd about %s: %s", unit, bus_error_text(&error, r));
		return r;
	}

	if (!t->from) {
		/* never passed its health gate: must not start at the next boot either */
		(void)bus_unit_job(bus, "StopUnit", unit, 120 * USEC_PER_SEC, &result, NULL, NULL);
		(void)set_enabled(bus, unit, false);
		(void)bus_reset_failed(bus, unit, NULL);
		report_step(rep, "rollback", true, "no previous release: %s left stopped and disabled", unit);
		unit_status_release(&st);
		return 0;
	}
	bool enabled = streq_ptr(st.unit_file_state, "enabled");
	if (enabled != t->was_enabled) {
		if (set_enabled(bus, unit, t->was_enabled) >= 0)
			report_step(rep, "enable", true, "%s %s again", unit, t->was_enabled ? "enabled" : "disabled");
	}
	bool active = streq_ptr(st.active_state, "active") && streq_ptr(st.sub_state, "running");
	/* activating counts as not stopped: a release that dies at start is in auto-restart */
	bool stopped = streq_ptr(st.active_state, "inactive") || streq_ptr(st.active_state, "failed");
	if (active && st.main_pid)
		(void)service_running_release(t->service, st.main_pid, &running);
	/* a process of the old release that started before the transaction never saw its changes:
	 * with the old files back it is exactly what ran before, and needs no restart */
	bool untouched = active && streq_ptr(running, t->from) && st.exec_main_start_usec &&
			 st.exec_main_start_usec < t->started_usec;
	unit_status_release(&st);
	if (!t->was_active) {
		if (!stopped) {
			(void)bus_unit_job(bus, "StopUnit", unit, 120 * USEC_PER_SEC, &result, NULL, NULL);
			(void)bus_reset_failed(bus, unit, NULL);
			report_step(rep, "rollback", true, "%s is back, stopped as it was", t->from);
		}
		return 0;
	}
	if (untouched || (active && !files_changed && streq_ptr(running, t->from))) {
		report_step(rep, "rollback", false, "%s is running, as before", t->from);
		return 0;
	}
	/* the failed release may have used up the start limit: it must not block the way back */
	(void)bus_reset_failed(bus, unit, NULL);
	(void)runstate_remove(t->service);
	free(result);
	result = NULL;
	r = bus_unit_job(bus, "RestartUnit", unit, old_m ? deploy_job_timeout(old_m) : 120 * USEC_PER_SEC, &result, &elapsed,
			 &error);
	if (r < 0) {
		snprintf(why, why_len, "cannot restart %s: %s", unit, bus_error_text(&error, r));
		return r;
	}
	if (!streq_ptr(result, "done")) {
		snprintf(why, why_len, "%s of the old release ended with \"%s\"", unit, strempty(result));
		return -EPROTO;
	}
	report_step(rep, "rollback", true, "%s is back and healthy (ready in %" PRIu64 " ms)", t->from,
		    (uint64_t)(elapsed / USEC_PER_MSEC));
	return 0;

io_fail:
	snprintf(why, why_len, "cannot restore %s: %s", unit_path, strerror(-r));
	return r;
}

static void record_success(struct deploy_plan *p, usec_t elapsed, struct report *rep, struct deploy_outcome *out)
{
	struct ready_state rs;

	out->ready_msec = (int64_t)(elapsed / USEC_PER_MSEC);
	/* the readiness check measured from the exec; the job from the request: report the job's */
	if (runstate_read_ready(p->m->name, &rs) >= 0 && rs.ok)
		report_step(rep, "ready", true, "healthy, ready in %" PRId64 " ms", out->ready_msec);
	else
		report_step(rep, "ready", true, "active in %" PRId64 " ms (no health check configured)",
			    out->ready_msec);

	if (p->m->warmup_url) {
		_cleanup_free_ char *host = NULL, *path = NULL;
		uint16_t port;
		int status = 0;
		if (parse_local_http_url(p->m->warmup_url, &host, &port, &path) >= 0 &&
		    health_http_get(host, port, path, 10 * USEC_PER_SEC, &status) >= 0)
			report_step(rep, "warmup", true, "GET %s: HTTP %d", p->m->warmup_url, status);
		else
			report_step(rep, "warmup", false, "GET %s failed, ignoring", p->m->warmup_url);
	}
}

/* Ends the transaction of a release that did not pass (why): roll back (if the manifest lets us),
 * mark the release failed (unless it was only interrupted), close the record. */
static void fail_and_roll_back(sd_bus *bus, struct deploy_plan *p, bool interrupted, struct report *rep,
			       struct deploy_outcome *out)
{
	char why[600] = "";
	int r;

	if (!interrupted && !streq_ptr(p->txn.to, p->txn.from))
		(void)release_mark(&p->store, p->version, false, -1);
	if (!p->m->rollback) {
		out->exit_code = BERTH_EXIT_FAILURE;
		report_fail(rep, "rollback", "off in the manifest: %s left as it is", p->unit_name);
		(void)txn_end(STATE_ROOT, p->m->name);
		p->txn_open = false;
		return;
	}
	r = roll_back(bus, &p->txn, rep, why, sizeof(why));
	if (r < 0) {
		out->exit_code = BERTH_EXIT_FAILURE;
		report_fail(rep, "rollback", "putting %s back failed too: %s", p->old_current ? p->old_current : "the host",
			    why);
	} else if (p->old_current) {
		out->exit_code = BERTH_EXIT_ROLLED_BACK;
		out->rolled_back = true;
		out->rolled_back_to = strdup(p->old_current);
	} else
		out->exit_code = BERTH_EXIT_FAILURE;
	(void)txn_end(STATE_ROOT, p->m->name);
	p->txn_open = false;
}

void deploy_finish(sd_bus *bus, struct deploy_plan *p, const char *job_result, usec_t elapsed,
		   usec_t job_started_realtime, struct report *rep, struct deploy_outcome *out)
{
	char *watch_failure = NULL;
	int r;

	out->ready_msec = -1;
	if (job_result && streq(job_result, "done") && !(watch_failure = watch_release(bus, p, rep))) {
		_cleanup_free_ char *stamp = deploy_source_stamp(p);
		record_success(p, elapsed, rep, out);
		r = commit(&p->txn, stamp, p->manifest_path, out->ready_msec, keep_of(p->m), rep);
		if (r < 0) {
			/* the release runs and is healthy; the record stays and the next berth finishes */
			errno = -r;
			report_fail(rep, "commit", "cannot record release %s as good: %m", p->version);
		}
		p->txn_open = r < 0;
		out->exit_code = BERTH_EXIT_OK;
		return;
	}

	bool interrupted = (job_result && streq(job_result, "interrupted")) ||
			   (watch_failure && interrupt_pending());
	int code = 0, status = 0;
	out->failure = watch_failure ? watch_failure : failure_reason(bus, p, job_result, &code, &status);
	report_fail(rep, watch_failure ? "watch" : "ready", "%s", out->failure);
	(void)journal_tail(p->unit_name, 10, job_started_realtime, &out->journal);
	out->sandbox = sandbox_hint_find(out->journal, code, status, &out->sandbox_line);
	fail_and_roll_back(bus, p, interrupted, rep, out);
}

void deploy_abort(sd_bus *bus, struct deploy_plan *p, const char *why, struct report *rep,
		  struct deploy_outcome *out)
{
	out->ready_msec = -1;
	free(out->failure);
	out->failure = strdup(why);
	report_fail(rep, "abort", "%s", why);
	if (!p->txn_open) {
		out->exit_code = BERTH_EXIT_FAILURE;
		return;
	}
	/* an interruption or a failed systemd call: nothing proves the release bad */
	fail_and_roll_back(bus, p, true, rep, out);
	if (out->exit_code == BERTH_EXIT_OK)
		out->exit_code = BERTH_EXIT_FAILURE;
}

/* Does the release t tried run, healthy, with the unit t wrote loaded? */
static bool new_release_is_up(sd_bus *bus, const struct txn *t, const struct manifest *m)
{
	struct release_store store = { .root = (char *)STATE_ROOT, .name = t->service };
	_cleanup_free_ char *unit = unit_name_for(t->service), *unit_path = NULL, *disk = NULL, *cur = NULL,
			    *running = NULL;
	struct unit_status st = { 0 };
	struct health_spec spec;
	struct probe_result res;
	size_t len;
	bool up;

	if (!unit || asprintf(&unit_path, "%s/%s", BERTH_UNIT_DIR, unit) < 0)
		return false;
	if (release_get_current(&store, &cur) < 0 || !streq_ptr(cur, t->to))
		return false;
	if (!t->unit_new || fs_read_file(unit_path, 1024 * 1024, &disk, &len) < 0 || !streq(disk, t->unit_new))
		return false;
	if (bus_get_unit_status(bus, unit, &st, NULL) < 0)
		return false;
	up = streq_ptr(st.active_state, "active") && streq_ptr(st.sub_state, "running") && !st.need_daemon_reload &&
	     service_running_release(t->service, st.main_pid, &running) >= 0 && streq_ptr(running, t->to);
	unit_status_release(&st);
	if (up && m && deploy_health_spec(m, &spec))
		up = health_probe(&spec, &res) >= 0 && res.healthy;
	return up;
}

/* Waits (up to timeout) until systemd has no job for the unit: a start that a killed berth queued
 * runs on, and its end decides whether the release came up. -EBUSY if it is still running. */
static int wait_unit_settled(sd_bus *bus, const char *name, usec_t timeout)
{
	_cleanup_free_ char *unit = unit_name_for(name);
	usec_t deadline = now_usec() + timeout;
	bool busy = true;
	int r;

	if (!unit)
		return -ENOMEM;
	for (;;) {
		r = bus_unit_has_job(bus, unit, &busy);
		if (r < 0)
			return r;
		if (!busy)
			return 0;
		if (now_usec() >= deadline)
			return -EBUSY;
		(void)usleep(100 * 1000);
	}
}

int deploy_resolve(sd_bus *bus, const char *name, bool wait, struct report *rep)
{
	_cleanup_(txn_release) struct txn t = { 0 };
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	_cleanup_free_ char *manifest_path = NULL;
	struct manifest_diags diags = { 0 };
	char why[600] = "";
	int r;

	r = txn_load(STATE_ROOT, name, &t);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		errno = -r;
		report_fail(rep, "resolve", "the record of an unfinished change of \"%s\" (%s/%s/txn) cannot be read: %m",
			    name, STATE_ROOT, name);
		return r;
	}
	if (asprintf(&manifest_path, "%s/%s/txn/manifest.new", STATE_ROOT, name) < 0)
		return -ENOMEM;
	(void)manifest_load(manifest_path, &m, &diags);
	manifest_diags_release(&diags);
	r = wait_unit_settled(bus, name, wait ? (m ? deploy_job_timeout(m) : 120 * USEC_PER_SEC) : 0);
	if (r == -EBUSY) {
		report_step(rep, "resolve", false,
			    "an interrupted %s of \"%s\" to %s is still starting: berth will finish it once systemd is done",
			    t.op, name, t.to);
		return r;
	}

	if (new_release_is_up(bus, &t, m)) {
		r = commit(&t, NULL, NULL, -1, keep_of(m), rep);
		if (r < 0)
			return r;
		report_step(rep, "resolve", true,
			    "an interrupted %s of \"%s\" (at step %s) is finished: %s runs and is healthy", t.op, name,
			    strempty(t.step), t.to);
		return 0;
	}
	r = roll_back(bus, &t, rep, why, sizeof(why));
	/* the old state is restored as far as it can be: the record has done its job either way */
	(void)txn_end(STATE_ROOT, name);
	if (r < 0) {
		report_fail(rep, "resolve", "an interrupted %s of \"%s\" (at step %s) was undone, but %s", t.op, name,
			    strempty(t.step), why);
		return r;
	}
	report_step(rep, "resolve", true, "an interrupted %s of \"%s\" (at step %s) is undone: %s", t.op, name,
		    strempty(t.step), t.from ? t.from : "nothing runs (it was the first release)");
	return 0;
}

int deploy_resolve_all(sd_bus *bus, bool wait, struct report *rep)
{
	_cleanup_strv_free_ char **names = NULL;
	int r = services_list(&names), ret = 0;
	if (r < 0)
		return r;
	STRV_FOREACH(n, names)
		if (txn_exists(STATE_ROOT, *n) && (r = deploy_resolve(bus, *n, wait, rep)) < 0 && ret == 0)
			ret = r;
	return ret;
}

void deploy_run(sd_bus **busp, struct deploy_plan *p, struct report *rep, struct deploy_outcome *out)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *result = NULL;
	usec_t elapsed = 0, started;
	char why[600];
	int r;

	r = deploy_begin(p);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot record the %s of \"%s\" in %s/%s/txn: %m", p->op, p->m->name,
			  STATE_ROOT, p->m->name);
		out->exit_code = r == -EEXIST ? BERTH_EXIT_TEMPFAIL : BERTH_EXIT_FAILURE;
		return;
	}
	r = interrupt_pending() ? -EINTR : deploy_install(p, rep);
	if (r < 0 && r != -EINTR) {
		errno = -r;
		snprintf(why, sizeof(why), "cannot install release %s: %m", p->version);
		goto abort;
	}
	bool enabled_now = false;
	if (!interrupt_pending()) {
		r = deploy_enable(*busp, p, rep);
		if (r < 0) {
			snprintf(why, sizeof(why), "cannot enable %s", p->unit_name);
			goto abort;
		}
		enabled_now = r > 0;
		deploy_step(p, "enable");
	}
	if ((p->unit_changes || enabled_now) && !interrupt_pending()) {
		r = bus_daemon_reload(*busp, &error);
		if (r < 0) {
			snprintf(why, sizeof(why), "systemd reload failed: %s", bus_error_text(&error, r));
			goto abort;
		}
		report_step(rep, "reload", true, "systemd re-read its units");
		deploy_step(p, "reload");
	}
	if (interrupt_pending()) {
		snprintf(why, sizeof(why), "interrupted by %s before the start", interrupt_name());
		goto abort;
	}

	const char *method = deploy_job_method(p);
	started = realtime_usec();
	/* systemd's start limit is there to stop crash loops: a deliberate deploy is not one, and
	 * six deploys in a minute must not be refused. ResetFailedUnit also resets its counter. */
	(void)bus_reset_failed(*busp, p->unit_name, NULL);
	(void)runstate_remove(p->m->name);
	log_debug("start limit reset, previous readiness removed");
	r = run_job(busp, p, method, &result, &elapsed);
	if (r < 0) {
		snprintf(why, sizeof(why), "cannot start %s", p->unit_name);
		goto abort;
	}
	log_debug("start job ended: %s after %.1f ms", strempty(result), (double)elapsed / USEC_PER_MSEC);
	deploy_finish(*busp, p, result, elapsed, started, rep, out);
	return;
abort:
	deploy_abort(*busp, p, why, rep, out);
}
