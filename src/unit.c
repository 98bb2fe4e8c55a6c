/* unit.c - rendering a manifest into the unit file berth installs */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "escape.h"
#include "goruntime.h"
#include "macro.h"
#include "size.h"
#include "strv.h"
#include "unit.h"

char *unit_name_for(const char *service_name)
{
	char *r = NULL;
	if (asprintf(&r, "%s.service", service_name) < 0)
		return NULL;
	return r;
}

char *unit_exec_path(const struct unit_context *ctx, const char *service_name)
{
	char *r = NULL;
	if (asprintf(&r, "%s/%s/current/%s", ctx->state_root ? ctx->state_root : BERTH_STATE_ROOT,
		     service_name, service_name) < 0)
		return NULL;
	return r;
}

/* Output buffer with a sticky error: the first failure wins, later writes are no-ops. */
struct out {
	FILE *f;
	char *buf;
	size_t len;
	int error;
};

static void out_line(struct out *o, const char *fmt, ...) _printf_(2, 3);
static void out_line(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->error)
		return;
	va_start(ap, fmt);
	vfprintf(o->f, fmt, ap);
	va_end(ap);
	fputc('\n', o->f);
}

/* "Key=" + escaped value; a value that cannot be escaped fails the whole rendering. */
static void out_escaped(struct out *o, const char *key, const char *value, int (*esc)(const char *, char **))
{
	_cleanup_free_ char *e = NULL;
	if (o->error)
		return;
	int r = esc(value, &e);
	if (r < 0) {
		o->error = r;
		return;
	}
	out_line(o, "%s=%s", key, e);
}

static void out_list(struct out *o, const char *key, char *const *items, int (*esc)(const char *, char **))
{
	if (o->error || strv_length(items) == 0)
		return;
	fprintf(o->f, "%s=", key);
	STRV_FOREACH(i, items) {
		_cleanup_free_ char *e = NULL;
		int r = esc(*i, &e);
		if (r < 0) {
			o->error = r;
			return;
		}
		fprintf(o->f, "%s%s", i == items ? "" : " ", e);
	}
	fputc('\n', o->f);
}

static void out_env(struct out *o, const char *name, const char *value)
{
	_cleanup_free_ char *e = NULL;
	if (o->error)
		return;
	int r = unit_escape_env(name, value, &e);
	if (r < 0)
		o->error = r;
	else
		out_line(o, "Environment=%s", e);
}

static void out_size(struct out *o, const char *key, uint64_t v)
{
	char buf[FORMAT_SIZE_MAX];
	if (v != SIZE_UNSET)
		out_line(o, "%s=%s", key, format_size(buf, sizeof(buf), v));
}

static void out_duration(struct out *o, const char *key, usec_t v, usec_t def)
{
	char buf[FORMAT_DURATION_MAX];
	if (v == USEC_UNSET)
		v = def;
	out_line(o, "%s=%s", key, format_duration(buf, sizeof(buf), v));
}

static const char *restart_to_string(enum restart_policy p)
{
	return p == RESTART_ALWAYS ? "always" : p == RESTART_NO ? "no" : "on-failure";
}

static void render_unit_section(struct out *o, const struct manifest *m)
{
	_cleanup_free_ char *desc = NULL;

	out_line(o, "[Unit]");
	if (m->description)
		out_escaped(o, "Description", m->description, unit_escape_text);
	else if (asprintf(&desc, "berth service %s", m->name) >= 0)
		out_escaped(o, "Description", desc, unit_escape_text);
	else
		o->error = -ENOMEM;
	out_line(o, "Documentation=man:berth(8)");
	out_line(o, "After=network.target");
	/* unit names are validated: [A-Za-z0-9:_.@-] only, nothing to escape but specifiers */
	out_list(o, "After", m->after, unit_escape_text);
	out_list(o, "Wants", m->wants, unit_escape_text);
	out_duration(o, "StartLimitIntervalSec", m->start_limit_interval, 60 * USEC_PER_SEC);
	out_line(o, "StartLimitBurst=%llu",
		 (unsigned long long)(m->start_limit_burst == U64_UNSET ? 5 : m->start_limit_burst));
}

static void render_exec(struct out *o, const struct manifest *m, const struct unit_context *ctx)
{
	_cleanup_free_ char *exe = unit_exec_path(ctx, m->name);
	_cleanup_free_ char *exe_q = NULL;

	if (!exe) {
		o->error = -ENOMEM;
		return;
	}
	int r = unit_escape_exec_arg(exe, &exe_q);
	if (r < 0) {
		o->error = r;
		return;
	}
	fprintf(o->f, "ExecStart=%s", exe_q);
	STRV_FOREACH(a, m->args) {
		_cleanup_free_ char *q = NULL;
		r = unit_escape_exec_arg(*a, &q);
		if (r < 0) {
			o->error = r;
			return;
		}
		fprintf(o->f, " %s", q);
	}
	fputc('\n', o->f);
}

static bool has_health_check(const struct manifest *m)
{
	return m->http_url || m->tcp_port || m->listen_port;
}

static void out_arg(struct out *o, const char *a)
{
	_cleanup_free_ char *q = NULL;
	if (o->error)
		return;
	int r = unit_escape_exec_arg(a, &q);
	if (r < 0)
		o->error = r;
	else
		fprintf(o->f, " %s", q);
}

static void out_arg_duration(struct out *o, const char *opt, usec_t v)
{
	char buf[FORMAT_DURATION_MAX];
	if (v == USEC_UNSET)
		return;
	out_arg(o, opt);
	out_arg(o, format_duration(buf, sizeof(buf), v));
}

/* The start job finishes only once the service answers its health check: "active" then means
 * healthy to systemd, to `systemctl start` and to units ordered after this one. "+" runs the
 * check outside the sandbox (it needs netlink for the listen check, which the service has not). */
static void render_wait_ready(struct out *o, const struct manifest *m, const struct unit_context *ctx)
{
	_cleanup_free_ char *berth = NULL;
	char port[16];

	if (!has_health_check(m) || o->error)
		return;
	if (unit_escape_exec_arg(ctx->berth_path ? ctx->berth_path : "/usr/bin/berth", &berth) < 0) {
		o->error = -EINVAL;
		return;
	}
	fprintf(o->f, "ExecStartPost=+%s", berth);
	out_arg(o, "wait-ready");
	if (m->http_url) {
		out_arg(o, "--http");
		out_arg(o, m->http_url);
		if (m->http_expect) {
			out_arg(o, "--expect");
			out_arg(o, m->http_expect);
		}
	}
	if (m->tcp_port) {
		_cleanup_free_ char *hp = NULL;
		bool v6 = m->tcp_host && strchr(m->tcp_host, ':');
		if (asprintf(&hp, v6 ? "[%s]:%u" : "%s:%u", m->tcp_host ? m->tcp_host : "127.0.0.1", m->tcp_port) < 0) {
			o->error = -ENOMEM;
			return;
		}
		out_arg(o, "--tcp");
		out_arg(o, hp);
	}
	if (m->listen_port) {
		snprintf(port, sizeof(port), "%u", m->listen_port);
		out_arg(o, "--listen");
		out_arg(o, port);
	}
	out_arg_duration(o, "--timeout", m->timeout);
	out_arg_duration(o, "--start-period", m->start_period);
	out_arg_duration(o, "--ready-timeout", m->ready_timeout);
	out_arg(o, m->name);
	if (!o->error)
		fputc('\n', o->f);
}

static void render_identity(struct out *o, const struct manifest *m)
{
	if (!m->user || streq(m->user, "dynamic"))
		out_line(o, "DynamicUser=yes");
	else
		out_escaped(o, "User", m->user, unit_escape_text);
	if (m->group)
		out_escaped(o, "Group", m->group, unit_escape_text);
	/* the service's own writable places; with DynamicUser they live under /var/lib/private */
	out_escaped(o, "StateDirectory", m->name, unit_escape_text);
	out_line(o, "StateDirectoryMode=0700");
	out_escaped(o, "CacheDirectory", m->name, unit_escape_text);
	out_line(o, "CacheDirectoryMode=0700");
	out_escaped(o, "LogsDirectory", m->name, unit_escape_text);
	out_line(o, "LogsDirectoryMode=0700");
	if (m->working_directory)
		out_escaped(o, "WorkingDirectory", m->working_directory, unit_escape_path);
	else
		out_line(o, "WorkingDirectory=%%S/%s", m->name);
}

static bool env_is_set(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_env; i++)
		if (streq(m->env[i].name, name))
			return true;
	return false;
}

int unit_home_environment(const struct manifest *m, char ***ret)
{
	static const struct {
		const char *name, *root, *sub;
	} vars[] = {
		{ "HOME", "/var/lib/", "" },
		{ "XDG_CONFIG_HOME", "/var/lib/", "/.config" },
		{ "XDG_DATA_HOME", "/var/lib/", "/.local/share" },
		{ "XDG_STATE_HOME", "/var/lib/", "/.local/state" },
		{ "XDG_CACHE_HOME", "/var/cache/", "" },
	};
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
		char *a = NULL;
		if (env_is_set(m, vars[i].name))
			continue;
		if (asprintf(&a, "%s=%s%s%s", vars[i].name, vars[i].root, m->name, vars[i].sub) < 0)
			return -ENOMEM;
		if (strv_push(&l, a) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

static void render_home(struct out *o, const struct manifest *m)
{
	_cleanup_strv_free_ char **l = NULL;
	int r;

	if (o->error)
		return;
	r = unit_home_environment(m, &l);
	if (r < 0) {
		o->error = r;
		return;
	}
	if (!l[0])
		return;
	out_line(o, "# HOME and XDG directories in the service's own StateDirectory= and CacheDirectory=");
	STRV_FOREACH(a, l) {
		char *eq = strchr(*a, '=');
		*eq = '\0';
		out_env(o, *a, eq + 1);
	}
}

static void render_environment(struct out *o, const struct manifest *m, const struct unit_context *ctx)
{
	struct go_decision go;

	for (size_t i = 0; i < m->n_env; i++)
		out_env(o, m->env[i].name, m->env[i].value);
	render_home(o, m);
	if (m->environment_file)
		out_escaped(o, "EnvironmentFile", m->environment_file, unit_escape_path);

	go_decide(m, ctx->binary, ctx->host_cpus, &go);
	out_line(o, "# GOMAXPROCS: %s", go.why_gomaxprocs);
	if (go.gomaxprocs > 0)
		out_line(o, "Environment=GOMAXPROCS=%llu", (unsigned long long)go.gomaxprocs);
	out_line(o, "# GOMEMLIMIT: %s", go.why_gomemlimit);
	if (go.gomemlimit > 0)
		/* Go accepts B/KiB/MiB/GiB/TiB suffixes; bytes are exact */
		out_line(o, "Environment=GOMEMLIMIT=%lluB", (unsigned long long)go.gomemlimit);
	if (go.gogc && go.gomaxprocs_source != GO_SOURCE_NOT_GO)
		out_env(o, "GOGC", go.gogc);
}

static void render_resources(struct out *o, const struct manifest *m)
{
	if (m->cpu_quota_percent)
		out_line(o, "CPUQuota=%u%%", m->cpu_quota_percent);
	out_size(o, "MemoryMax", m->memory_max);
	out_size(o, "MemoryHigh", m->memory_high);
	out_size(o, "MemorySwapMax", m->memory_swap_max);
	if (m->tasks_max == SIZE_INFINITY)
		out_line(o, "TasksMax=infinity");
	else if (m->tasks_max != U64_UNSET)
		out_line(o, "TasksMax=%llu", (unsigned long long)m->tasks_max);
	if (m->nofile != U64_UNSET)
		out_line(o, "LimitNOFILE=%llu", (unsigned long long)m->nofile);
	if (m->cpu_weight != U64_UNSET)
		out_line(o, "CPUWeight=%llu", (unsigned long long)m->cpu_weight);
	if (m->io_weight != U64_UNSET)
		out_line(o, "IOWeight=%llu", (unsigned long long)m->io_weight);
}

static void render_hardening(struct out *o, const struct manifest *m)
{
	out_line(o, "# Sandbox: `systemd-analyze security %s.service` rates this about 1.2 (OK)", m->name);
	out_line(o, "NoNewPrivileges=yes");
	out_line(o, "ProtectSystem=strict");
	out_line(o, "ProtectHome=yes");
	out_line(o, "PrivateTmp=yes");
	out_line(o, "PrivateDevices=yes");
	out_line(o, "PrivateMounts=yes");
	/* a user namespace would keep CAP_NET_BIND_SERVICE from reaching the host's network */
	if (!m->privileged_port)
		out_line(o, "PrivateUsers=yes");
	if (m->private_network)
		out_line(o, "PrivateNetwork=yes");
	out_line(o, "ProtectKernelTunables=yes");
	out_line(o, "ProtectKernelModules=yes");
	out_line(o, "ProtectKernelLogs=yes");
	out_line(o, "ProtectControlGroups=yes");
	out_line(o, "ProtectClock=yes");
	out_line(o, "ProtectHostname=yes");
	out_line(o, "ProtectProc=invisible");
	/* no ProcSubset=pid: it hides /proc/sys, and Go reads net.core.somaxconn there for its
	 * listen backlog (without it, 128 whatever the host is tuned to) */
	out_line(o, "RestrictNamespaces=yes");
	out_line(o, "RestrictRealtime=yes");
	out_line(o, "RestrictSUIDSGID=yes");
	out_line(o, "LockPersonality=yes");
	/* Go never needs writable+executable memory; cgo plugins or JIT-ed code may */
	out_line(o, "MemoryDenyWriteExecute=%s", m->memory_deny_write_execute ? "yes" : "no");
	out_line(o, "RemoveIPC=yes");
	out_line(o, "KeyringMode=private");
	out_line(o, "DevicePolicy=closed");
	out_line(o, "UMask=0077");
	out_line(o, "SystemCallArchitectures=native");
	out_line(o, "SystemCallFilter=@system-service");
	out_line(o, "SystemCallFilter=~@privileged @resources");
	out_line(o, "SystemCallErrorNumber=EPERM");
	if (m->private_network)
		out_line(o, "RestrictAddressFamilies=AF_UNIX");
	else {
		fprintf(o->f, "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX");
		/* validated against a fixed list of AF_* names */
		STRV_FOREACH(a, m->address_families)
			if (!streq(*a, "AF_INET") && !streq(*a, "AF_INET6") && !streq(*a, "AF_UNIX"))
				fprintf(o->f, " %s", *a);
		fputc('\n', o->f);
	}
	if (m->privileged_port) {
		out_line(o, "CapabilityBoundingSet=CAP_NET_BIND_SERVICE");
		out_line(o, "AmbientCapabilities=CAP_NET_BIND_SERVICE");
	} else {
		out_line(o, "CapabilityBoundingSet=");
		out_line(o, "AmbientCapabilities=");
	}
	out_list(o, "ReadWritePaths", m->read_write_paths, unit_escape_list_item);
}

static int render_main(const struct manifest *m, const struct unit_context *ctx, char **ret)
{
	struct out o = { 0 };

	o.f = open_memstream(&o.buf, &o.len);
	if (!o.f)
		return -ENOMEM;

	/* no version or manifest path here: the same manifest must render the same bytes */
	out_line(&o, "%s - do not edit: `berth deploy` rewrites this file", BERTH_UNIT_MARKER);
	render_unit_section(&o, m);

	out_line(&o, "%s", "");
	out_line(&o, "[Service]");
	out_line(&o, "Type=exec");
	render_exec(&o, m, ctx);
	render_wait_ready(&o, m, ctx);
	if (has_health_check(m)) {
		/* room for the whole wait for readiness, plus the exec itself */
		char buf[FORMAT_DURATION_MAX];
		usec_t rt = m->ready_timeout == USEC_UNSET ? 60 * USEC_PER_SEC : m->ready_timeout;
		out_line(&o, "TimeoutStartSec=%s", format_duration(buf, sizeof(buf), rt + 15 * USEC_PER_SEC));
	}
	out_line(&o, "Restart=%s", restart_to_string(m->restart));
	out_duration(&o, "RestartSec", m->restart_delay, USEC_PER_SEC);
	if (m->stop_timeout == USEC_INFINITY)
		out_line(&o, "TimeoutStopSec=infinity");
	else
		out_duration(&o, "TimeoutStopSec", m->stop_timeout, 30 * USEC_PER_SEC);
	/* SIGTERM to the main process only, so that Go's graceful shutdown runs; SIGKILL to the
	 * whole cgroup when TimeoutStopSec runs out */
	out_line(&o, "KillMode=mixed");
	render_identity(&o, m);
	render_environment(&o, m, ctx);
	render_resources(&o, m);
	render_hardening(&o, m);

	out_line(&o, "%s", "");
	out_line(&o, "[Install]");
	out_line(&o, "WantedBy=multi-user.target");

	if (fclose(o.f) != 0 && !o.error)
		o.error = -ENOMEM;
	if (o.error) {
		free(o.buf);
		return o.error;
	}
	*ret = o.buf;
	return 0;
}

int unit_render(const struct manifest *m, const struct unit_context *ctx, struct rendered_unit *ret)
{
	_cleanup_free_ char *name = unit_name_for(m->name);
	_cleanup_free_ char *content = NULL, *path = NULL;

	if (!name)
		return -ENOMEM;
	int r = render_main(m, ctx, &content);
	if (r < 0)
		return r;
	if (asprintf(&path, "%s/%s", ctx->unit_dir ? ctx->unit_dir : BERTH_UNIT_DIR, name) < 0)
		return -ENOMEM;

	struct rendered_file *files = calloc(1, sizeof(*files));
	if (!files)
		return -ENOMEM;
	files[0].path = TAKE_PTR(path);
	files[0].content = TAKE_PTR(content);
	ret->files = files;
	ret->n_files = 1;
	return 0;
}

void rendered_unit_release(struct rendered_unit *r)
{
	for (size_t i = 0; r && i < r->n_files; i++) {
		free(r->files[i].path);
		free(r->files[i].content);
	}
	if (r) {
		free(r->files);
		r->files = NULL;
		r->n_files = 0;
	}
}
