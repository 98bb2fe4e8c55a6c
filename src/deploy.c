/* deploy.c - release in place, health-gated start, rollback */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
#include "journal.h"
#include "log.h"
#include "runstate.h"
#include "services.h"
#include "sha256.h"
#include "sockdiag.h"
#include "strv.h"
#include "term.h"
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

/* Byte-compares two files: the common redeploy of the same binary needs no hashing. */
static bool files_equal(const char *a, const char *b)
{
	_cleanup_close_ int fa = open(a, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	_cleanup_close_ int fb = open(b, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat sa, sb;
	bool eq = false;

	if (fa < 0 || fb < 0 || fstat(fa, &sa) < 0 || fstat(fb, &sb) < 0)
		return false;
	if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) || sa.st_size != sb.st_size)
		return false;
	if (sa.st_size == 0)
		return true;
	void *ma = mmap(NULL, sa.st_size, PROT_READ, MAP_PRIVATE, fa, 0);
	void *mb = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fb, 0);
	if (ma != MAP_FAILED && mb != MAP_FAILED)
		eq = memcmp(ma, mb, sa.st_size) == 0;
	if (ma != MAP_FAILED)
		munmap(ma, sa.st_size);
	if (mb != MAP_FAILED)
		munmap(mb, sb.st_size);
	return eq;
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

static char *source_stamp_path(const struct deploy_plan *p, const char *version)
{
	_cleanup_free_ char *dir = release_dir(&p->store, version);
	char *r = NULL;
	if (!dir || asprintf(&r, "%s/source", dir) < 0)
		return NULL;
	return r;
}

static bool same_source(const struct deploy_plan *p, const char *version)
{
	_cleanup_free_ char *want = source_stamp(p->binary), *path = source_stamp_path(p, version), *have = NULL;
	size_t len;
	if (!want || !path || fs_read_file(path, 4096, &have, &len) < 0)
		return false;
	return streq(want, have);
}

static int choose_version(struct deploy_plan *p, const char *override)
{
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	int r;

	if (override) {
		if (!release_version_is_valid(override)) {
			cli_error(NULL, 0, NULL, NULL,
				  "invalid --version \"%s\": use letters, digits and . _ + - (at most 64)", override);
			return BERTH_EXIT_USAGE;
		}
		p->version = strdup(override);
	} else if (p->old_current) {
		/* the same bytes as the current release: no need to hash */
		_cleanup_free_ char *cur_bin = release_binary_path(&p->store, p->old_current);
		if (same_source(p, p->old_current) || (cur_bin && files_equal(p->binary, cur_bin)))
			p->version = strdup(p->old_current);
	}
	if (!p->version || override) {
		r = sha256_file(p->binary, hex);
		if (r < 0) {
			errno = -r;
			cli_error(NULL, 0, NULL, NULL, "cannot read binary \"%s\": %m", p->binary);
			return BERTH_EXIT_FAILURE;
		}
		p->sha256 = strdup(hex);
		if (!p->version)
			p->version = strndup(hex, 12);
	}
	return p->version ? BERTH_EXIT_OK : BERTH_EXIT_FAILURE;
}

int deploy_plan(sd_bus *bus, struct manifest *m, const char *binary_override, const char *version_override,
		struct deploy_plan *ret)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct deploy_plan p = { .m = m };
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
	r = binary_judge(p.binary, &p.verdict);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read binary \"%s\": %m", bin);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
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

	p.unit_name = unit_name_for(m->name);
	if (!p.unit_name || asprintf(&p.unit_path, "%s/%s", BERTH_UNIT_DIR, p.unit_name) < 0) {
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}

	r = bus_get_unit_status(bus, p.unit_name, &p.status, &error);
	if (r < 0) {
		cli_error(NULL, 0, NULL, NULL, "cannot ask systemd about %s: %s", p.unit_name, bus_error_text(&error, r));
		ex = BERTH_EXIT_TEMPFAIL;
		goto fail;
	}
	p.is_active = p.status.active_state && (streq(p.status.active_state, "active") ||
						streq(p.status.active_state, "activating") ||
						streq(p.status.active_state, "reloading"));

	r = fs_read_file(p.unit_path, 1024 * 1024, &p.old_unit, &len);
	if (r < 0 && r != -ENOENT) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read \"%s\": %m", p.unit_path);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	/* never take over a unit somebody else wrote, nor shadow a package's unit */
	if (p.old_unit && !startswith(p.old_unit, BERTH_UNIT_MARKER)) {
		cli_error(m->path, 0, "service", "name",
			  "%s exists and is not managed by berth: choose another name or remove it first",
			  p.unit_path);
		ex = BERTH_EXIT_INVALID;
		goto fail;
	}
	if (!p.old_unit && p.status.load_state && streq(p.status.load_state, "loaded") &&
	    !isempty(p.status.fragment_path)) {
		cli_error(m->path, 0, "service", "name",
			  "a unit named %s already exists (%s): choose another name", p.unit_name,
			  p.status.fragment_path);
		ex = BERTH_EXIT_INVALID;
		goto fail;
	}

	r = release_get_current(&p.store, &p.old_current);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read the current release of \"%s\": %m", m->name);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	ex = choose_version(&p, version_override);
	if (ex != BERTH_EXIT_OK)
		goto fail;
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
	p.unit_changes = !streq_ptr(p.old_unit, p.new_unit);

	/* limits set live with `berth limit` stay, unless this manifest changes them */
	p.dropin_path = cgroup_limits_dropin_path(NULL, m->name);
	if (!p.dropin_path) {
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	r = fs_read_file(p.dropin_path, 64 * 1024, &p.old_dropin, &len);
	if (r < 0 && r != -ENOENT) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read \"%s\": %m", p.dropin_path);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	r = cgroup_limits_update_for_manifest(p.old_dropin, m, &p.verdict.info, cli_host_cpus(), &p.new_dropin);
	if (r == -EBADMSG) {
		/* not berth's file: leave it as it is */
		log_warning("%s was not written by berth: leaving it alone", p.dropin_path);
		p.new_dropin = p.old_dropin ? strdup(p.old_dropin) : NULL;
	} else if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot work out the limits drop-in for \"%s\": %m", m->name);
		ex = BERTH_EXIT_FAILURE;
		goto fail;
	}
	p.dropin_changes = !streq_ptr(p.old_dropin, p.new_dropin);
	p.unit_changes |= p.dropin_changes;
	p.needs_enable = !p.status.unit_file_state || !streq(p.status.unit_file_state, "enabled") || p.unit_changes;
	p.needs_job = !p.is_active || p.release_changes || p.unit_changes;

	ex = check_ports(&p);
	if (ex != BERTH_EXIT_OK)
		goto fail;

	*ret = p;
	return BERTH_EXIT_OK;
fail:
	deploy_plan_release(&p);
	return ex;
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
	report_step(rep, "start", job != NULL, "%s", job ? (p->is_active ? "would restart" : "would start") : "running");
	if (diff && p->unit_changes && !arg_json) {
		if (!streq_ptr(p->old_unit, p->new_unit))
			(void)diff_unified(stdout, p->old_unit ? p->unit_path : "/dev/null", p->old_unit, p->unit_path,
					   p->new_unit, term_colour(STDOUT_FILENO));
		if (p->dropin_changes)
			(void)diff_unified(stdout, p->old_dropin ? p->dropin_path : "/dev/null", p->old_dropin,
					   p->new_dropin ? p->dropin_path : "/dev/null", p->new_dropin,
					   term_colour(STDOUT_FILENO));
	}
}

/* A redeploy that changes nothing writes nothing: compare before the (fsync'ed) write. */
static int write_if_changed(const char *path, const char *data, size_t len)
{
	_cleanup_free_ char *have = NULL;
	size_t have_len;
	if (fs_read_file(path, 1024 * 1024, &have, &have_len) >= 0 && have_len == len && memcmp(have, data, len) == 0)
		return 0;
	return fs_write_atomic(path, data, len, 0644);
}

static int save_release_files(struct deploy_plan *p)
{
	_cleanup_free_ char *dir = release_dir(&p->store, p->version), *unit = NULL, *manifest = NULL,
			    *manifest_copy = NULL, *stamp = source_stamp(p->binary), *stamp_path = NULL;
	size_t len;
	int r;

	if (!dir || !stamp || !(unit = release_unit_copy_path(&p->store, p->version)) ||
	    asprintf(&manifest_copy, "%s/manifest.ini", dir) < 0 || asprintf(&stamp_path, "%s/source", dir) < 0)
		return -ENOMEM;
	/* the unit and manifest go with the release: status probes health by the manifest, rollback
	 * restores both */
	r = write_if_changed(unit, p->new_unit, strlen(p->new_unit));
	if (r < 0)
		return r;
	/* the manifest may have been named relative to the working directory */
	_cleanup_free_ char *manifest_abs = realpath(p->m->path, NULL);
	if (!manifest_abs)
		return negative_errno();
	r = fs_read_file(manifest_abs, 1024 * 1024, &manifest, &len);
	if (r < 0)
		return r;
	r = write_if_changed(manifest_copy, manifest, len);
	if (r < 0)
		return r;
	return write_if_changed(stamp_path, stamp, strlen(stamp));
}

int deploy_install(struct deploy_plan *p, struct report *rep)
{
	const struct elf_info *e = &p->verdict.info;
	_cleanup_free_ char *module = NULL;
	bool created = false;
	int r;

	if (e->is_go && e->go.main_module &&
	    asprintf(&module, "%s@%s", e->go.main_module, strempty(e->go.main_version)) < 0)
		return -ENOMEM;

	if (!p->release_exists) {
		char hex[2 * SHA256_DIGEST_SIZE + 1];
		if (!p->sha256) {
			r = sha256_file(p->binary, hex);
			if (r < 0)
				return r;
			p->sha256 = strdup(hex);
		}
		r = release_install(&p->store, p->version, p->binary, p->sha256,
				    e->is_go ? e->go.go_version : NULL, module, &created);
		if (r < 0)
			return r;
		report_step(rep, "release", true, "installed %s%s%s", p->version, e->is_go ? " " : "",
			    e->is_go ? strempty(e->go.go_version) : "");
	}
	r = save_release_files(p);
	if (r < 0)
		return r;
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

	if (p->dropin_changes) {
		if (p->new_dropin) {
			_cleanup_free_ char *dir = strndup(p->dropin_path, strrchr(p->dropin_path, '/') - p->dropin_path);
			r = dir ? fs_mkdir_p_nofollow(dir, 0755) : -ENOMEM;
			if (r >= 0)
				r = fs_write_atomic(p->dropin_path, p->new_dropin, strlen(p->new_dropin), 0644);
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
	return 0;
}

/* Why did the start fail? The readiness check's own words if it ran, else systemd's view. */
static char *failure_reason(sd_bus *bus, const struct deploy_plan *p, const char *job_result)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct unit_status st = { 0 };
	struct ready_state rs;
	char buf[600];

	if (!job_result)
		return strdup("the start job did not finish in time");
	snprintf(buf, sizeof(buf), "start job %s", job_result);
	if (bus_get_unit_status(bus, p->unit_name, &st, &error) >= 0) {
		bool have_ready = runstate_read_ready(p->m->name, &rs) >= 0 && !rs.ok;
		/* a failed readiness check also ends in Result=exit-code (of ExecStartPost=), with the
		 * main process stopped cleanly; a crash shows in the main process's own status */
		bool crashed = (st.exec_main_code == CLD_EXITED && st.exec_main_status != 0) ||
			       ((st.exec_main_code == CLD_KILLED || st.exec_main_code == CLD_DUMPED) &&
				st.exec_main_status != SIGTERM);
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

static void record_success(struct deploy_plan *p, usec_t elapsed, struct report *rep, struct deploy_outcome *out)
{
	struct ready_state rs;
	char buf[32];

	out->ready_msec = (int64_t)(elapsed / USEC_PER_MSEC);
	/* the readiness check measured from the exec; the job from the request: report the job's */
	snprintf(buf, sizeof(buf), "%" PRId64, out->ready_msec);
	(void)release_set_meta(&p->store, p->version, "ready_msec", buf);
	(void)release_set_meta(&p->store, p->version, "status", "ok");
	snprintf(buf, sizeof(buf), "%" PRIu64, realtime_usec());
	(void)release_set_meta(&p->store, p->version, "deployed_usec", buf);
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

/* Put the previous release and unit back and make them healthy. On failure *ret_why says which
 * step failed and why. */
static int roll_back(sd_bus *bus, struct deploy_plan *p, struct report *rep, struct deploy_outcome *out,
		     char *why, size_t why_len)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *result = NULL;
	usec_t elapsed = 0;
	int r;

	if (p->release_changes) {
		r = release_set_current(&p->store, p->old_current);
		if (r < 0) {
			snprintf(why, why_len, "cannot point current at %s: %s", p->old_current, strerror(-r));
			return r;
		}
	}
	if (p->unit_changes) {
		r = fs_write_atomic(p->unit_path, p->old_unit, strlen(p->old_unit), 0644);
		if (r >= 0 && p->dropin_changes)
			r = p->old_dropin ? fs_write_atomic(p->dropin_path, p->old_dropin, strlen(p->old_dropin), 0644) :
					    fs_remove(p->dropin_path, false, true);
		if (r < 0) {
			snprintf(why, why_len, "cannot restore %s: %s", p->unit_path, strerror(-r));
			return r;
		}
		r = bus_daemon_reload(bus, &error);
		if (r < 0) {
			snprintf(why, why_len, "systemd reload failed: %s", bus_error_text(&error, r));
			return r;
		}
	}
	/* the failed release may have used up the start limit: it must not block the way back */
	(void)bus_reset_failed(bus, p->unit_name, NULL);
	(void)runstate_remove(p->m->name);
	r = bus_unit_job(bus, "RestartUnit", p->unit_name, deploy_job_timeout(p->m), &result, &elapsed, &error);
	if (r < 0) {
		snprintf(why, why_len, "cannot restart %s: %s", p->unit_name, bus_error_text(&error, r));
		return r;
	}
	if (!streq(result, "done")) {
		_cleanup_free_ char *reason = failure_reason(bus, p, result);
		snprintf(why, why_len, "%s", reason ? reason : result);
		return -EPROTO;
	}
	out->rolled_back = true;
	out->rolled_back_to = strdup(p->old_current);
	report_step(rep, "rollback", true, "%s is back and healthy (ready in %" PRIu64 " ms)", p->old_current,
		    (uint64_t)(elapsed / USEC_PER_MSEC));
	return 0;
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

void deploy_finish(sd_bus *bus, struct deploy_plan *p, const char *job_result, usec_t elapsed,
		   usec_t job_started_realtime, struct report *rep, struct deploy_outcome *out)
{
	char *watch_failure = NULL;
	int r;

	out->ready_msec = -1;
	if (job_result && streq(job_result, "done") && !(watch_failure = watch_release(bus, p, rep))) {
		record_success(p, elapsed, rep, out);
		unsigned keep = p->m->keep_releases == U64_UNSET ? 5 : (unsigned)p->m->keep_releases;
		r = release_prune(&p->store, keep);
		if (r > 0)
			report_step(rep, "prune", true, "removed %d old release%s (keeping %u)", r, r == 1 ? "" : "s", keep);
		out->exit_code = BERTH_EXIT_OK;
		return;
	}

	out->failure = watch_failure ? watch_failure : failure_reason(bus, p, job_result);
	report_fail(rep, watch_failure ? "watch" : "ready", "%s", out->failure);
	(void)release_set_meta(&p->store, p->version, "status", "failed");
	(void)journal_tail(p->unit_name, 10, job_started_realtime, &out->journal);

	bool can_roll_back = p->old_current && p->old_unit && (p->release_changes || p->unit_changes);
	if (!p->m->rollback) {
		out->exit_code = BERTH_EXIT_FAILURE;
		report_fail(rep, "rollback", "off in the manifest: %s left as it is", p->unit_name);
		return;
	}
	if (!can_roll_back) {
		_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
		_cleanup_free_ char *res = NULL;
		(void)bus_unit_job(bus, "StopUnit", p->unit_name, deploy_job_timeout(p->m), &res, NULL, &error);
		out->exit_code = BERTH_EXIT_FAILURE;
		report_fail(rep, "rollback", "no previous release: %s left stopped", p->unit_name);
		return;
	}
	char why[600] = "";
	r = roll_back(bus, p, rep, out, why, sizeof(why));
	if (r < 0) {
		out->exit_code = BERTH_EXIT_FAILURE;
		report_fail(rep, "rollback", "putting %s back failed too: %s", p->old_current, why);
		return;
	}
	out->exit_code = BERTH_EXIT_ROLLED_BACK;
}

void deploy_plan_release(struct deploy_plan *p)
{
	binary_verdict_release(&p->verdict);
	free(p->binary);
	free(p->version);
	free(p->sha256);
	free(p->unit_name);
	free(p->unit_path);
	free(p->new_unit);
	free(p->old_unit);
	free(p->old_current);
	free(p->dropin_path);
	free(p->old_dropin);
	free(p->new_dropin);
	unit_status_release(&p->status);
	memset(p, 0, sizeof(*p));
}

void deploy_outcome_release(struct deploy_outcome *o)
{
	free(o->failure);
	free(o->rolled_back_to);
	strv_free(o->journal);
	memset(o, 0, sizeof(*o));
}
