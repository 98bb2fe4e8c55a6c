/* sandbox.c - from a refusal's recorded traces to the manifest key that relaxes it */
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "macro.h"
#include "sandbox.h"
#include "strv.h"

static const struct sandbox_hint hint_family = {
	.id = "address-family",
	.cause = "a socket family outside RestrictAddressFamilies= (AF_INET AF_INET6 AF_UNIX)",
	.fix = "add it to [hardening] address_families: AF_NETLINK to list network interfaces, "
	       "addresses or routes, AF_PACKET for raw packets",
};
static const struct sandbox_hint hint_read_only = {
	.id = "read-only",
	.cause = "a write outside the service's own directories (ProtectSystem=strict)",
	.fix = "add the path to [hardening] read_write_paths; /var/lib/NAME (its HOME), /var/cache/NAME, "
	       "/var/log/NAME and its own /tmp are always writable",
};
static const struct sandbox_hint hint_syscall_errno = {
	.id = "system-call",
	.cause = "a system call outside @system-service or in @privileged @resources (SystemCallFilter=, "
		 "refused with EPERM), or a capability the service does not have",
	.fix = "ports below 1024 need [hardening] privileged_port = yes; a program that needs privileged "
	       "system calls does not fit berth's sandbox (see SANDBOX DENIALS in berth.ini(5))",
};
static const struct sandbox_hint hint_syscall_kill = {
	.id = "system-call-killed",
	.cause = "a system call the filter kills for (SIGSYS: SystemCallArchitectures=native, a foreign "
		 "architecture's call)",
	.fix = "build the program for this machine's architecture (berth check shows the binary's)",
};
static const struct sandbox_hint hint_hidden = {
	.id = "permission",
	.cause = "a path the service may not read or write: hidden by the sandbox (ProtectHome=: /home, "
		 "/root, /run/user) or not its dynamic user's",
	.fix = "keep the service's files below /var/lib/NAME, or make them readable to all; see SANDBOX "
	       "DENIALS in berth.ini(5)",
};
static const struct sandbox_hint hint_namespace = {
	.id = "namespace",
	.cause = "systemd could not set up the sandbox's mounts (226/NAMESPACE)",
	.fix = "every path in [hardening] read_write_paths must exist: create it, or remove it from the "
	       "manifest",
};
static const struct sandbox_hint hint_setup = {
	.id = "sandbox-setup",
	.cause = "systemd could not set up the sandbox before starting the program",
	.fix = "systemd's \"Failed at step\" line in berth logs NAME names the step",
};
static const struct sandbox_hint hint_directory = {
	.id = "directory",
	.cause = "systemd could not create the service's own directories (StateDirectory=, CacheDirectory=, "
		 "LogsDirectory=)",
	.fix = "a file or a symlink where /var/lib/NAME, /var/cache/NAME or /var/log/NAME should be: move it "
	       "away",
};

/* errno texts as strerror() words them, and systemd's own lines; more specific ones first */
static const struct {
	const char *needle;
	const struct sandbox_hint *hint;
} message_hints[] = {
	{ "failed to set up mount namespacing", &hint_namespace },
	{ "failed at step namespace", &hint_namespace },
	{ "failed at step state_directory", &hint_directory },
	{ "failed at step cache_directory", &hint_directory },
	{ "failed at step logs_directory", &hint_directory },
	{ "failed at step runtime_directory", &hint_directory },
	{ "failed at step capabilities", &hint_setup },
	{ "failed at step seccomp", &hint_setup },
	{ "failed at step address_families", &hint_setup },
	{ "failed at step no_new_privileges", &hint_setup },
	{ "address family not supported by protocol", &hint_family },
	{ "read-only file system", &hint_read_only },
	{ "bad system call", &hint_syscall_kill },
	{ "operation not permitted", &hint_syscall_errno },
	{ "permission denied", &hint_hidden },
};

const struct sandbox_hint *sandbox_hint_for_message(const char *message)
{
	if (!message)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(message_hints); i++)
		if (strcasestr(message, message_hints[i].needle))
			return message_hints[i].hint;
	return NULL;
}

/* systemd's exit statuses for a failed step before exec (systemd.exec(5), "Process Exit Codes") */
enum {
	EXIT_CAPABILITIES = 218,
	EXIT_NAMESPACE = 226,
	EXIT_NO_NEW_PRIVILEGES = 227,
	EXIT_SECCOMP = 228,
	EXIT_ADDRESS_FAMILIES = 232,
	EXIT_RUNTIME_DIRECTORY = 233,
	EXIT_STATE_DIRECTORY = 238,
	EXIT_CACHE_DIRECTORY = 239,
	EXIT_LOGS_DIRECTORY = 240,
};

const struct sandbox_hint *sandbox_hint_for_exit(int code, int status)
{
	if (code == CLD_KILLED || code == CLD_DUMPED)
		return status == SIGSYS ? &hint_syscall_kill : NULL;
	if (code != CLD_EXITED)
		return NULL;
	switch (status) {
	case EXIT_NAMESPACE:
		return &hint_namespace;
	case EXIT_RUNTIME_DIRECTORY:
	case EXIT_STATE_DIRECTORY:
	case EXIT_CACHE_DIRECTORY:
	case EXIT_LOGS_DIRECTORY:
		return &hint_directory;
	case EXIT_CAPABILITIES:
	case EXIT_NO_NEW_PRIVILEGES:
	case EXIT_SECCOMP:
	case EXIT_ADDRESS_FAMILIES:
		return &hint_setup;
	default:
		return NULL;
	}
}

const struct sandbox_hint *sandbox_hint_find(char *const *lines, int code, int status, const char **ret_line)
{
	*ret_line = NULL;
	for (size_t i = strv_length(lines); i > 0; i--) {
		const struct sandbox_hint *h = sandbox_hint_for_message(lines[i - 1]);
		if (h) {
			*ret_line = lines[i - 1];
			return h;
		}
	}
	return sandbox_hint_for_exit(code, status);
}

void sandbox_json(struct json *j, const struct sandbox_hint *h, const char *line)
{
	json_key(j, "sandbox");
	if (!h) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key_string(j, "id", h->id);
	json_key_string(j, "cause", h->cause);
	json_key_string(j, "fix", h->fix);
	json_key_string(j, "line", line);
	json_object_end(j);
}

void sandbox_print(FILE *f, const char *first, const char *rest, const struct sandbox_hint *h, const char *line)
{
	if (!h)
		return;
	fprintf(f, "%sthe sandbox may have refused it: %s\n", first, h->cause);
	if (line)
		fprintf(f, "%sseen in: %s\n", rest, line);
	fprintf(f, "%sfix: %s\n", rest, h->fix);
}
