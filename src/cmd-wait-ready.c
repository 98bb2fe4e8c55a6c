/* cmd-wait-ready.c - berth wait-ready: the unit's ExecStartPost=, so that the start job finishes
 * only when the service is healthy. Its arguments come from the manifest's [health] section,
 * rendered into the unit, so it reads no file. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth.h"
#include "health.h"
#include "log.h"
#include "manifest.h"
#include "release.h"
#include "runstate.h"
#include "unit.h"

static struct health_spec spec;
static char *http_host, *http_path, *tcp_host;

static int parse_host_port(const char *s, char **ret_host, uint16_t *ret_port)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;
	if (!colon || parse_uint_range(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	size_t hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']')
		*ret_host = strndup(s + 1, hl - 2);
	else
		*ret_host = strndup(s, hl);
	*ret_port = (uint16_t)port;
	return *ret_host ? 0 : -ENOMEM;
}

static int set_option(const char *name, const char *arg)
{
	uint64_t v;
	usec_t *d = NULL;

	if (streq(name, "http")) {
		if (parse_local_http_url(arg, &http_host, &spec.http_port, &http_path) < 0)
			goto bad;
		spec.http_host = http_host;
		spec.http_path = http_path;
		return 0;
	}
	if (streq(name, "expect")) {
		if (!http_expect_is_valid(arg))
			goto bad;
		spec.http_expect = arg;
		return 0;
	}
	if (streq(name, "tcp")) {
		if (parse_host_port(arg, &tcp_host, &spec.tcp_port) < 0)
			goto bad;
		spec.tcp_host = tcp_host;
		return 0;
	}
	if (streq(name, "listen")) {
		if (parse_uint_range(arg, 1, 65535, &v) < 0)
			goto bad;
		spec.listen_port = (uint16_t)v;
		return 0;
	}
	if (streq(name, "timeout"))
		d = &spec.timeout;
	else if (streq(name, "start-period"))
		d = &spec.start_period;
	else if (streq(name, "ready-timeout"))
		d = &spec.ready_timeout;
	if (d && parse_duration(arg, false, d) >= 0)
		return 0;
bad:
	log_error("berth wait-ready: invalid --%s \"%s\"", name, arg);
	return BERTH_EXIT_USAGE;
}

static int exec_wait_ready(int argc, char **argv)
{
	const char *name = argv[0];
	struct ready_state st = { .ready_msec = -1 };
	struct probe_result last = { 0 };
	usec_t elapsed = 0;
	int r;

	if (!service_name_is_valid(name)) {
		log_error("berth wait-ready: invalid service name \"%s\"", name);
		return BERTH_EXIT_USAGE;
	}
	if (!spec.http_port && !spec.tcp_port && !spec.listen_port) {
		log_error("berth wait-ready: nothing to check: give --http, --tcp or --listen");
		return BERTH_EXIT_USAGE;
	}
	if (!spec.timeout)
		spec.timeout = 2 * USEC_PER_SEC;
	if (!spec.ready_timeout)
		spec.ready_timeout = 60 * USEC_PER_SEC;

	/* systemd gives ExecStartPost= the unit's invocation ID: it ties the result to this run */
	const char *inv = getenv("INVOCATION_ID");
	if (inv && strlen(inv) == 32)
		snprintf(st.invocation_id, sizeof(st.invocation_id), "%s", inv);

	/* systemd gives ExecStartPost= the main process's PID: when it dies, stop waiting at once */
	_cleanup_close_ int pidfd = -1;
	const char *mainpid = getenv("MAINPID");
	uint64_t pid;
	if (mainpid && parse_uint_range(mainpid, 1, INT32_MAX, &pid) >= 0) {
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (pidfd < 0)
			log_debug("cannot watch PID %" PRIu64 ": %m, ignoring", pid);
	}

	r = health_wait_ready_fd(&spec, pidfd, &last, &elapsed);
	if (r == -ECHILD) {
		st.ok = false;
		snprintf(st.reason, sizeof(st.reason), "the main process (PID %s) exited before it became healthy",
			 mainpid);
		(void)runstate_write_ready(name, &st);
		log_error("%s: %s", name, st.reason);
		return BERTH_EXIT_FAILURE;
	}
	if (r < 0) {
		st.ok = false;
		snprintf(st.reason, sizeof(st.reason), "not healthy after %.1fs: %s",
			 (double)spec.ready_timeout / USEC_PER_SEC, last.reason);
		(void)runstate_write_ready(name, &st);
		log_error("%s %s", name, st.reason);
		return BERTH_EXIT_FAILURE;
	}
	st.ok = true;
	st.ready_msec = (int64_t)(elapsed / USEC_PER_MSEC);
	r = runstate_write_ready(name, &st);
	if (r < 0)
		log_warning_errno(r, "cannot record readiness of \"%s\": %m, ignoring", name);

	/* remember which runs belong to which release, for `berth logs --release` */
	struct release_store store = { .root = (char *)BERTH_STATE_ROOT, .name = (char *)name };
	_cleanup_free_ char *cur = NULL;
	if (st.invocation_id[0] && release_get_current(&store, &cur) >= 0 && cur)
		(void)release_add_invocation(&store, cur, st.invocation_id);

	log_info("%s healthy after %" PRId64 " ms (%s)", name, st.ready_msec, last.reason);
	return BERTH_EXIT_OK;
}

static const struct berth_option options[] = {
	{ "http", 0, required_argument, "URL", "GET this local URL" },
	{ "expect", 0, required_argument, "SET", "accepted HTTP statuses (default 2xx)" },
	{ "tcp", 0, required_argument, "HOST:PORT", "connect to this local address" },
	{ "listen", 0, required_argument, "PORT", "something listens on this port (netlink, no connection)" },
	{ "timeout", 0, required_argument, "DURATION", "per probe (default 2s)" },
	{ "start-period", 0, required_argument, "DURATION", "failures do not count during it" },
	{ "ready-timeout", 0, required_argument, "DURATION", "give up after (default 60s)" },
	{ NULL },
};

const struct berth_cmd berth_cmd_wait_ready = {
	.name = "wait-ready",
	.usage = "NAME",
	.summary = "wait until a service is healthy (the unit's ExecStartPost=)",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.flags = BERTH_CMD_HIDDEN,
	.set_option = set_option,
	.run = exec_wait_ready,
};
