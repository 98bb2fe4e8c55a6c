/* deploy.c - the plan of a deploy or rollback: what would change, and the refusals before any
 * change. deploy-txn.c carries the plan out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "berth.h"
#include "cgroup.h"
#include "cli.h"
#include "deploy.h"
#include "diff.h"
#include "fs.h"
#include "health.h"
#include "log.h"
#include "services.h"
#include "sockdiag.h"
#include "strv.h"
#include "term.h"
#include "trust.h"
#include "unit.h"

uint64_t realtime_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

usec_t deploy_job_timeout(const struct manifest *m)
{
	usec_t ready = m->ready_timeout == USEC_UNSET ? 60 * USEC_PER_SEC : m->ready_timeout;
	usec_t stop = m->stop_timeout == USEC_UNSET || m->stop_timeout == USEC_INFINITY ? 30 * USEC_PER_SEC :
											    m->stop_timeout;
	return ready + stop + 30 * USEC_PER_SEC;
}

/* Which process holds a socket (for the "port in use" message): scans /proc/PID/fd. */
static pid_t socket_owner(uint64_t inode, char *comm, size_t comm_len)
{
	_cleanup_(closedirp) DIR *proc = opendir("/proc");
	char want[64], path[300], link[64];
	struct dirent *de;

	if (!proc || !inode)
		return 0;
	snprintf(want, sizeof(want), "socket:[%" PRIu64 "]", inode);
	while ((de = readdir(proc))) {
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
		_cleanup_(closedirp) DIR *fds = opendir(path);
		struct dirent *fe;
		while (fds && (fe = readdir(fds))) {
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, fe->d_name);
			ssize_t n = readlink(path, link, sizeof(link) - 1);
			if (n <= 0)
				continue;
			link[n] = 0;
			if (streq(link, want)) {
				snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
				_cleanup_fclose_ FILE *f = fopen(path, "re");
				comm[0] = 0;
				if (f && fgets(comm, (int)comm_len, f))
					comm[strcspn(comm, "\n")] = 0;
				return pid;
			}
		}
	}
	return 0;
}

static uint64_t cgroup_id_of(const char *control_group)
{
	uint64_t id;
	return cgroup_get_id(control_group, &id) >= 0 ? id : 0;
}

/* A port the manifest's service will listen on must be free, or held by this very service. */
static int check_ports(const struct deploy_plan *p)
{
	const struct manifest *m = p->m;
	uint16_t ports[3] = { m->http_port, m->tcp_port, m->listen_port };
	bool active = p->is_active;
	uint64_t ours = active ? cgroup_id_of(p->status.control_group) : 0;

	for (size_t i = 0; i < ELEMENTSOF(ports); i++) {
		struct listen_socket *ls = NULL;
		size_t n = 0;
		uint16_t port = ports[i];
		if (!port || (i > 0 && port == ports[0]) || (i > 1 && port == ports[1]))
			continue;
		int r = sockdiag_listeners(port, &ls, &n);
		if (r < 0) {
			log_debug_errno(r, "cannot list listeners on port %u: %m, ignoring", port);
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			/* cgroup id 0: the kernel did not say; only the running service itself may hold it */
			bool mine = active && (ls[k].cgroup_id ? ls[k].cgroup_id == ours : true);
			if (mine)
				continue;
			char comm[64] = "";
			pid_t pid = socket_owner(ls[k].inode, comm, sizeof(comm));
			if (pid)
				cli_error(m->path, 0, "health", NULL,
					  "port %u is already in use by %s (PID %d) on %s: stop it or change the port",
					  port, comm, (int)pid, ls[k].addr);
			else
				cli_error(m->path, 0, "health", NULL,
					  "port %u is already in use by another process on %s: stop it or change the port",
					  port, ls[k].addr);
			free(ls);
			return BERTH_EXIT_INVALID;
		}
		free(ls);
	}
	return BERTH_EXIT_OK;
}

/* Both problems are reported, not only the first. */
int deploy_check_identity(const struct manifest *m)
{
	int r = BERTH_EXIT_OK;
	if (m->user && !streq(m->user, "dynamic") && !getpwnam(m->user)) {
		cli_error(m->path, 0, "service", "user",
			  "user \"%s\" does not exist on this host (create it, or use user = dynamic)", m->user);
		r = BERTH_EXIT_INVALID;
	}
	if (m->group && !getgrnam(m->group)) {
		cli_error(m->path, 0, "service", "group", "group \"%s\" does not exist on this host", m->group);
		r = BERTH_EXIT_INVALID;
	}
	return r;
}

int deploy_check_trust(const struct manifest *m, const char *binary)
{
	_cleanup_free_ char *manifest_abs = realpath(m->path, NULL);
	struct trust_problem tp = { 0 };
	int ex = BERTH_EXIT_OK;

	const char *reserved = trust_reserved_name(m->name);
	if (reserved) {
		cli_error(m->path, 0, "service", "name",
			  "\"%s\" is the name of a system directory (%s): systemd would hand it to the service and "
			  "`berth remove --purge` would delete it; choose another name",
			  m->name, reserved);
		ex = BERTH_EXIT_INVALID;
	}
	struct {
		const char *what, *path, *section, *key;
	} files[] = {
		{ "the manifest", manifest_abs ? manifest_abs : m->path, NULL, NULL },
		{ "the environment file", m->environment_file, "service", "environment_file" },
		{ "the binary", binary, "service", "binary" },
	};
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		if (!files[i].path)
			continue;
		int r = trust_check_path(files[i].path, &tp);
		if (r == -ENOENT && i == 1)
			continue; /* systemd says so at start, and the deploy rolls back */
		if (r < 0 && r != -EPERM) {
			errno = -r;
			cli_error(m->path, 0, files[i].section, files[i].key, "cannot check %s \"%s\": %m", files[i].what,
				  files[i].path);
			ex = BERTH_EXIT_INVALID;
			continue;
		}
		if (r == -EPERM) {
			cli_error(m->path, 0, files[i].section, files[i].key,
				  "%s \"%s\" can be changed by others than root: \"%s\" %s (fix: %s)", files[i].what,
				  files[i].path, tp.path, tp.problem, tp.fix);
			ex = BERTH_EXIT_INVALID;
		}
		trust_problem_release(&tp);
	}
	return ex;
}

/* Where a release's binary came from: path and inode identity + times. A redeploy of a file with
 * the same stamp is the same binary without reading a byte (the quick check rsync and make use;
 * ctime changes with any write or chmod). */
static char *source_stamp(const char *path)
{
	struct stat st;
	char *r = NULL;
	if (stat(path, &st) < 0)
		return NULL;
	if (asprintf(&r, "%s\n%llu %llu %lld %lld.%09ld %lld.%09ld\n", path, (unsigned long long)st.st_dev,
		     (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		     st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec) < 0)
		return NULL;
	return r;
}

char *deploy_source_stamp(const struct deploy_plan *p)
{
	return p->binary ? source_stamp(p->binary) : NULL;
}

static bool same_source(const struct deploy_plan *p, const char *version)
{
	_cleanup_free_ char *want = source_stamp(p->binary), *dir = release_dir(&p->store, version), *path = NULL,
			    *have = NULL;
	size_t len;
	if (!want || !dir || asprintf(&path, "%s/source", dir) < 0 || fs_read_file(path, 4096, &have, &len) < 0)
		return false;
	return streq(want, have);
}

static int read_failed(const char *bin, int r)
{
	errno = -r;
	if (r == -ESTALE)
		cli_error(NULL, 0, NULL, NULL, "binary \"%s\" changed while berth read it: wait until it is written, then deploy again",
			  bin);
	else if (r == -EFBIG)
		cli_error(NULL, 0, NULL, NULL, "binary \"%s\" is larger than %llu MiB", bin,
			  (unsigned long long)(BINARY_SIZE_MAX >> 20));
	else
		cli_error(NULL, 0, NULL, NULL, "cannot read binary \"%s\": %m", bin);
	return r == -ENOENT ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_FAILURE;
}

/* Reads the binary (once) and decides the version; on the quick path (the caller's file is the
 * current release's source, untouched) reads nothing and judges the installed copy instead. */
static int read_binary(struct deploy_plan *p, const char *bin, const char *override)
{
	int r;

	if (override && !release_version_is_valid(override)) {
		cli_error(NULL, 0, NULL, NULL, "invalid --version \"%s\": use letters, digits and . _ + - (at most 64)",
			  override);
		return BERTH_EXIT_USAGE;
	}
	const char *quick = override ? override : p->old_current;
	if (quick && same_source(p, quick)) {
		_cleanup_free_ char *copy = release_binary_path(&p->store, quick);
		p->version = strdup(quick);
		if (!copy || !p->version)
			return BERTH_EXIT_FAILURE;
		r = binary_judge_release(copy, &p->verdict);
		return r < 0 ? read_failed(copy, r) : BERTH_EXIT_OK;
	}
	r = binary_read_and_judge(p->binary, &p->image, &p->verdict);
	if (r < 0)
		return read_failed(bin, r);
	p->version = override ? strdup(override) : strndup(p->image.sha256, 12);
	return p->version ? BERTH_EXIT_OK : BERTH_EXIT_FAILURE;
}

/* The service's state/cache/logs directories must be ones berth asked systemd for: never a
 * directory the system or a sysadmin already had (remove --purge deletes what berth owns). */
static int check_state_dirs(struct deploy_plan *p)
{
	_cleanup_strv_free_ char **owned = NULL, **existing = NULL;
	int r, ex = BERTH_EXIT_OK;

	r = service_owned_dirs_read(p->m->name, &owned);
	if (r >= 0)
		r = service_existing_state_dirs(p->m->name, &existing);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot check the state directories of \"%s\": %m", p->m->name);
		return BERTH_EXIT_FAILURE;
	}
	if (!owned && p->old_unit) {
		/* deployed by a berth from before owned-dirs: its unit asked systemd for these */
		p->new_owned_dirs = TAKE_PTR(existing);
		return BERTH_EXIT_OK;
	}
	STRV_FOREACH(d, existing)
		if (!strv_contains(owned, *d)) {
			cli_error(p->m->path, 0, "service", "name",
				  "\"%s\" already exists and berth did not create it for \"%s\": systemd would give it to "
				  "the service and `berth remove --purge` could delete it; choose another name, or move "
				  "it away",
				  *d, p->m->name);
			ex = BERTH_EXIT_INVALID;
		}
	if (ex == BERTH_EXIT_OK && !owned && (r = service_state_dirs(p->m->name, &p->new_owned_dirs)) < 0)
		return BERTH_EXIT_FAILURE;
	return ex;
}

/* The unit, the drop-in and what runs, compared with what this plan wants. Shared by deploy and
 * rollback: p->m, new_unit, version and the verdict are set. */
static int compare_with_host(sd_bus *bus, struct deploy_plan *p)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	size_t len;
	int r;

	if (!p->unit_name || !p->unit_path) {
		p->unit_name = unit_name_for(p->m->name);
		if (!p->unit_name || asprintf(&p->unit_path, "%s/%s", BERTH_UNIT_DIR, p->unit_name) < 0)
			return BERTH_EXIT_FAILURE;
	}
	r = bus_get_unit_status_settled(bus, p->unit_name, deploy_job_timeout(p->m), &p->status, &error);
	if (r < 0) {
		cli_error(NULL, 0, NULL, NULL, "cannot ask systemd about %s: %s", p->unit_name, bus_error_text(&error, r));
		return BERTH_EXIT_TEMPFAIL;
	}
	if (p->status.job_id)
		log_warning("%s: systemd's job %" PRIu32 " for it still runs: judging it as it is now (%s/%s)",
			    p->unit_name, p->status.job_id, strempty(p->status.active_state), strempty(p->status.sub_state));
	p->is_active = p->status.active_state && (streq(p->status.active_state, "active") ||
						  streq(p->status.active_state, "activating") ||
						  streq(p->status.active_state, "reloading"));
	p->was_enabled = streq_ptr(p->status.unit_file_state, "enabled");

	r = fs_read_file(p->unit_path, 1024 * 1024, &p->old_unit, &len);
	if (r < 0 && r != -ENOENT) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read \"%s\": %m", p->unit_path);
		return BERTH_EXIT_FAILURE;
	}
	/* never take over a unit somebody else wrote, nor shadow a package's unit */
	if (p->old_unit && !startswith(p->old_unit, BERTH_UNIT_MARKER)) {
		cli_error(p->m->path, 0, "service", "name",
			  "%s exists and is not managed by berth: choose another name or remove it first", p->unit_path);
		return BERTH_EXIT_INVALID;
	}
	if (!p->old_unit && p->status.load_state && streq(p->status.load_state, "loaded") &&
	    !isempty(p->status.fragment_path)) {
		cli_error(p->m->path, 0, "service", "name", "a unit named %s already exists (%s): choose another name",
			  p->unit_name, p->status.fragment_path);
		return BERTH_EXIT_INVALID;
	}

	/* limits set live with `berth limit` stay, unless this manifest changes them */
	p->dropin_path = cgroup_limits_dropin_path(NULL, p->m->name);
	if (!p->dropin_path)
		return BERTH_EXIT_FAILURE;
	r = fs_read_file(p->dropin_path, 64 * 1024, &p->old_dropin, &len);
	if (r < 0 && r != -ENOENT) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read \"%s\": %m", p->dropin_path);
		return BERTH_EXIT_FAILURE;
	}
	r = cgroup_limits_update_for_manifest(p->old_dropin, p->m, &p->verdict.info, cli_host_cpus(), &p->new_dropin);
	if (r == -EBADMSG) {
		/* not berth's file: leave it as it is */
		log_warning("%s was not written by berth: leaving it alone", p->dropin_path);
		p->new_dropin = p->old_dropin ? strdup(p->old_dropin) : NULL;
	} else if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot work out the limits drop-in for \"%s\": %m", p->m->name);
		return BERTH_EXIT_FAILURE;
	}
	p->dropin_changes = !streq_ptr(p->old_dropin, p->new_dropin);
	/* a unit written but never loaded (berth was killed before the reload) is a change too */
	p->unit_changes = !streq_ptr(p->old_unit, p->new_unit) || p->dropin_changes || p->status.need_daemon_reload;

	/* "no change" must be true: the process that runs is the current release's */
	if (p->is_active && p->status.main_pid) {
		r = service_running_release(p->m->name, p->status.main_pid, &p->running);
		if (r < 0 && r != -ESRCH)
			log_debug_errno(r, "cannot tell what PID %u runs: %m, ignoring", p->status.main_pid);
		p->stale_process = r >= 0 && !streq_ptr(p->running, p->version);
	}
	p->needs_enable = !p->was_enabled || p->unit_changes;
	p->needs_job = !p->is_active || p->release_changes || p->unit_changes || p->stale_process;
	return BERTH_EXIT_OK;
}

int deploy_plan(sd_bus *bus, struct manifest *m, const char *binary_override, const char *version_override,
		struct deploy_plan *ret)
{
	struct deploy_plan p = { .op = "deploy", .m = m, .image = { .fd = -1 } };
	size_t len;
	int r, ex;

	p.store.root = (char *)BERTH_STATE_ROOT;
	p.store.name = m->name;

	const char *bin = binary_override ? binary_override : m->binary;
	if (!bin) {
		cli_error(m->path, 0, "service", "binary", "no binary: set binary = PATH or pass --binary PATH");
		return BERTH_EXIT_USAGE;
	}
	p.binary = realpath(bin, NULL);
	if (!p.binary) {
		cli_error(NULL, 0, NULL, NULL, "cannot read binary \"%s\": %m", bin);
		return errno == ENOENT ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_FAILURE;
	}
	p.manifest_path = realpath(m->path, NULL);
	if (!p.manifest_path || fs_read_file(p.manifest_path, MANIFEST_FILE_MAX, &p.manifest_text, &len) < 0) {
		cli_error(NULL, 0, NULL, NULL, "cannot read manifest \"%s\": %m", m->path);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	ex = deploy_check_trust(m, p.binary);
	if (ex != BERTH_EXIT_OK)
		goto fail;
	log_debug("plan: manifest read, files trusted");
	r = release_get_current(&p.store, &p.old_current);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read the current release of \"%s\": %m", m->name);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	ex = read_binary(&p, bin, version_override);
	if (ex != BERTH_EXIT_OK)
		goto fail;
	log_debug("plan: binary judged (%s)", p.image.fd >= 0 ? "read and hashed" : "same source as the release");
	if (p.verdict.error) {
		cli_error(NULL, 0, NULL, NULL, "binary \"%s\" refused: %s", bin, p.verdict.error);
		ex = BERTH_EXIT_INVALID;
		goto fail;
	}
	ex = deploy_check_identity(m);
	if (ex != BERTH_EXIT_OK)
		goto fail;
	if (m->nofile != U64_UNSET) {
		uint64_t nr_open = 0;
		if (cgroup_check_nofile(m->nofile, &nr_open) == -ERANGE) {
			cli_error(m->path, 0, "resources", "nofile",
				  "nofile = %" PRIu64 " is above this host's fs.nr_open (%" PRIu64
				  "), so systemd could not start the service: raise fs.nr_open (berth tune does it "
				  "for deployed services) or lower nofile",
				  m->nofile, nr_open);
			ex = BERTH_EXIT_INVALID;
			goto fail;
		}
	}
	{
		_cleanup_free_ char *dir = release_dir(&p.store, p.version);
		struct stat st;
		p.release_exists = dir && stat(dir, &st) == 0;
	}
	p.release_changes = !streq_ptr(p.old_current, p.version);

	struct unit_context ctx = {
		.berth_path = BERTH_BINDIR "/berth",
		.binary = &p.verdict.info,
		.host_cpus = cli_host_cpus(),
	};
	struct rendered_unit out = { 0 };
	r = unit_render(m, &ctx, &out);
	if (r < 0) {
		errno = -r;
		cli_error(m->path, 0, NULL, NULL, "cannot render the unit: %m");
		ex = BERTH_EXIT_INVALID;
		goto fail;
	}
	p.new_unit = TAKE_PTR(out.files[0].content);
	rendered_unit_release(&out);
	log_debug("plan: unit rendered");

	ex = compare_with_host(bus, &p);
	if (ex != BERTH_EXIT_OK)
		goto fail;
	log_debug("plan: compared with systemd and the files on disk");
	ex = check_state_dirs(&p);
	if (ex != BERTH_EXIT_OK)
		goto fail;
	ex = check_ports(&p);
	if (ex != BERTH_EXIT_OK)
		goto fail;
	log_debug("plan: state directories and ports checked");

	*ret = p;
	return BERTH_EXIT_OK;
fail:
	deploy_plan_release(&p);
	return ex;
}

int deploy_plan_rollback(sd_bus *bus, const char *name, const char *target, struct deploy_plan *ret)
{
	struct deploy_plan p = { .op = "rollback", .image = { .fd = -1 } };
	_cleanup_free_ char *dir = NULL, *unit_copy = NULL, *manifest = NULL, *bin = NULL;
	struct manifest_diags diags = { 0 };
	struct stat st;
	size_t len;
	int r, ex;

	p.store.root = (char *)BERTH_STATE_ROOT;
	p.store.name = (char *)name;
	(void)release_get_current(&p.store, &p.old_current);
	dir = release_dir(&p.store, target);
	if (!dir || stat(dir, &st) < 0) {
		cli_error(NULL, 0, NULL, NULL, "release \"%s\" of \"%s\" is not installed (see berth releases %s)", target,
			  name, name);
		return BERTH_EXIT_NOT_FOUND;
	}
	unit_copy = release_unit_copy_path(&p.store, target);
	r = unit_copy ? fs_read_file(unit_copy, 1024 * 1024, &p.new_unit, &len) : -ENOMEM;
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "release \"%s\" has no saved unit (%m): deploy it instead", target);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	if (asprintf(&manifest, "%s/manifest.ini", dir) < 0 ||
	    fs_read_file(manifest, MANIFEST_FILE_MAX, &p.manifest_text, &len) < 0 ||
	    manifest_load(manifest, &p.m, &diags) < 0) {
		manifest_diags_release(&diags);
		cli_error(NULL, 0, NULL, NULL, "the saved manifest of release \"%s\" cannot be read: deploy it instead", target);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	manifest_diags_release(&diags);
	p.store.name = p.m->name; /* the same string, owned by the manifest from here on */
	/* a failed rollback puts the release we came from back */
	p.m->rollback = true;
	p.version = strdup(target);
	bin = release_binary_path(&p.store, target);
	if (!p.version || !bin) {
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	r = binary_judge_release(bin, &p.verdict);
	if (r < 0) {
		ex = read_failed(bin, r);
		goto fail;
	}
	p.release_exists = true;
	p.release_changes = !streq_ptr(p.old_current, target);
	ex = compare_with_host(bus, &p);
	if (ex != BERTH_EXIT_OK)
		goto fail;
	p.needs_job = true;
	*ret = p;
	return BERTH_EXIT_OK;
fail:
	manifest_free(p.m);
	p.m = NULL;
	deploy_plan_release(&p);
	return ex;
}

bool deploy_plan_needs_txn(const struct deploy_plan *p)
{
	return !p->release_exists || p->release_changes || p->unit_changes || p->needs_job;
}

const char *deploy_job_method(const struct deploy_plan *p)
{
	if (!p->needs_job)
		return NULL;
	return p->is_active ? "RestartUnit" : "StartUnit";
}

void deploy_print_plan(const struct deploy_plan *p, struct report *rep, bool diff)
{
	if (p->release_changes && p->old_current)
		report_step(rep, "release", true, "would %s %s (current: %s)",
			    p->release_exists ? "switch to" : "install", p->version, p->old_current);
	else if (p->release_changes)
		report_step(rep, "release", true, "would install %s", p->version);
	else
		report_step(rep, "release", false, "%s is current", p->version);
	report_step(rep, "unit", p->unit_changes, p->unit_changes ? (p->old_unit ? "would update %s" : "would write %s") :
								      "%s unchanged", p->unit_path);
	if (p->unit_changes)
		report_step(rep, "reload", true, "would reload systemd");
	const char *job = deploy_job_method(p);
	if (p->stale_process && !p->release_changes && !p->unit_changes)
		report_step(rep, "start", true, "would restart: running %s, current is %s", p->running ? p->running : "?",
			    p->version);
	else
		report_step(rep, "start", job != NULL, "%s",
			    job ? (p->is_active ? "would restart" : "would start") : "running");
	if (diff && !arg_json) {
		struct diff_file files[2];
		(void)diff_unified_files(stdout, files, deploy_diff_files(p, files), term_colour(STDOUT_FILENO));
	}
}

size_t deploy_diff_files(const struct deploy_plan *p, struct diff_file files[static 2])
{
	size_t n = 0;

	if (!p->unit_changes)
		return 0;
	files[n++] = (struct diff_file){ p->old_unit ? p->unit_path : "/dev/null", p->old_unit, p->unit_path,
					 p->new_unit };
	if (p->dropin_changes)
		files[n++] = (struct diff_file){ p->old_dropin ? p->dropin_path : "/dev/null", p->old_dropin,
						 p->new_dropin ? p->dropin_path : "/dev/null", p->new_dropin };
	return n;
}

void deploy_json_diff(struct json *j, const struct deploy_plan *p)
{
	struct diff_file files[2];
	size_t n = deploy_diff_files(p, files);

	cli_json_diff(j, p->unit_path ? files : NULL, n);
}

bool deploy_health_spec(const struct manifest *m, struct health_spec *ret)
{
	*ret = (struct health_spec){
		.http_host = m->http_host,
		.http_port = m->http_port,
		.http_path = m->http_path,
		.http_expect = m->http_expect,
		.tcp_host = m->tcp_host,
		.tcp_port = m->tcp_port,
		.listen_port = m->listen_port,
		.timeout = m->timeout == USEC_UNSET ? 2 * USEC_PER_SEC : m->timeout,
		.interval = m->interval == USEC_UNSET ? 5 * USEC_PER_SEC : m->interval,
		.failure_threshold = m->failure_threshold == U64_UNSET ? 3 : (unsigned)m->failure_threshold,
	};
	return ret->http_port || ret->tcp_port || ret->listen_port;
}

void deploy_plan_release(struct deploy_plan *p)
{
	binary_image_release(&p->image);
	binary_verdict_release(&p->verdict);
	free(p->binary);
	free(p->version);
	free(p->unit_name);
	free(p->unit_path);
	free(p->new_unit);
	free(p->old_unit);
	free(p->old_current);
	free(p->running);
	free(p->manifest_path);
	free(p->manifest_text);
	free(p->dropin_path);
	free(p->old_dropin);
	free(p->new_dropin);
	strv_free(p->new_owned_dirs);
	unit_status_release(&p->status);
	txn_release(&p->txn);
	memset(p, 0, sizeof(*p));
	p->image.fd = -1;
}

void deploy_outcome_release(struct deploy_outcome *o)
{
	free(o->failure);
	free(o->rolled_back_to);
	strv_free(o->journal);
	memset(o, 0, sizeof(*o));
}
