/* cli.c - helpers shared by the commands */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth.h"
#include "cli.h"
#include "bus.h"
#include "lock.h"
#include "log.h"
#include "services.h"

struct recorded_error {
	char *file, *section, *key, *message;
	unsigned line;
};

static struct recorded_error errors[64];
static size_t n_errors;

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void cli_error(const char *file, unsigned line, const char *section, const char *key, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;

	/* one line: where (file:line: [section] key:) and what; no location for other errors */
	if (file && (line || section || key)) {
		char where[32] = "";
		if (line)
			snprintf(where, sizeof(where), ":%u", line);
		log_error("%s%s: %s%s%s%s%s%s", file, where, section ? "[" : "", strempty(section),
			  section ? "] " : "", strempty(key), key ? ": " : "", msg);
	} else
		log_error("%s", msg);
	if (n_errors < ELEMENTSOF(errors)) {
		struct recorded_error *e = &errors[n_errors++];
		e->file = dup_or_null(file);
		e->section = dup_or_null(section);
		e->key = dup_or_null(key);
		e->message = TAKE_PTR(msg);
		e->line = line;
	}
}

int cli_fail(const char *command, int exit_code)
{
	struct json j;

	if (!arg_json)
		return exit_code;
	json_init(&j, stdout);
	json_object_begin(&j);
	json_key_string(&j, "command", command);
	json_key_bool(&j, "ok", false);
	json_key_bool(&j, "changed", false);
	json_key_int(&j, "exit_code", exit_code);
	json_key(&j, "errors");
	json_array_begin(&j);
	for (size_t i = 0; i < n_errors; i++) {
		json_object_begin(&j);
		json_key_string(&j, "message", errors[i].message);
		if (errors[i].file)
			json_key_string(&j, "file", errors[i].file);
		if (errors[i].line)
			json_key_uint(&j, "line", errors[i].line);
		if (errors[i].section)
			json_key_string(&j, "section", errors[i].section);
		if (errors[i].key)
			json_key_string(&j, "key", errors[i].key);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
	return exit_code;
}

void cli_json_begin(struct json *j, const char *command)
{
	json_init(j, stdout);
	json_object_begin(j);
	json_key_string(j, "command", command);
	json_key_bool(j, "ok", true);
	json_key_int(j, "exit_code", 0);
}

void cli_json_diff(struct json *j, const struct diff_file *files, size_t n)
{
	_cleanup_free_ char *text = NULL;

	json_key(j, "diff");
	if (arg_diff && files && diff_unified_text(files, n, &text) >= 0)
		json_string(j, text);
	else
		json_null(j);
}

int cli_load_manifest(const char *path, struct manifest **ret)
{
	struct manifest_diags diags = { 0 };
	int r = manifest_load(path, ret, &diags);

	if (r >= 0)
		return BERTH_EXIT_OK;
	if (r == -ENOENT) {
		cli_error(path, 0, NULL, NULL, "manifest \"%s\" does not exist", path);
		return BERTH_EXIT_NOT_FOUND;
	}
	if (r != -EINVAL || diags.n == 0) {
		errno = -r;
		cli_error(path, 0, NULL, NULL, "cannot read manifest \"%s\": %m", path);
		manifest_diags_release(&diags);
		return r == -EISDIR ? BERTH_EXIT_USAGE : BERTH_EXIT_INVALID;
	}
	for (size_t i = 0; i < diags.n; i++) {
		const struct manifest_diag *d = &diags.items[i];
		cli_error(path, d->line, d->section, d->key, "%s", d->message);
	}
	if (diags.n_dropped)
		log_error("%s: and %zu more problems", path, diags.n_dropped);
	if (diags.n + diags.n_dropped > 1)
		log_error("%s: %zu problems, nothing was changed", path, diags.n + diags.n_dropped);
	manifest_diags_release(&diags);
	return BERTH_EXIT_INVALID;
}

unsigned cli_host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

int cli_open_bus(sd_bus **ret)
{
	int r = bus_open_system(ret);
	if (r == -EHOSTDOWN) {
		_cleanup_fclose_ FILE *f = fopen("/proc/1/comm", "re");
		char buf[64] = "?";
		if (f && fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		cli_error(NULL, 0, NULL, NULL,
			  "systemd is not running on this host (PID 1 is \"%s\"): berth needs systemd as init", buf);
		return BERTH_EXIT_TEMPFAIL;
	}
	if (r < 0) {
		errno = -r;
		if (geteuid() == 0)
			cli_error(NULL, 0, NULL, NULL,
				  "cannot connect to systemd, neither through %s nor on the system bus: %m", BUS_PRIVATE_SOCKET);
		else
			cli_error(NULL, 0, NULL, NULL,
				  "cannot connect to systemd on the system bus: %m (is a D-Bus daemon running? as root, "
				  "berth talks to systemd through %s without one)", BUS_PRIVATE_SOCKET);
		return BERTH_EXIT_TEMPFAIL;
	}
	return BERTH_EXIT_OK;
}

int cli_take_lock(uint64_t timeout_usec, int *ret_fd)
{
	pid_t holder = 0;
	int fd = lock_acquire(BERTH_LOCK_PATH, timeout_usec, &holder);

	if (fd == -ETIMEDOUT) {
		cli_error(NULL, 0, NULL, NULL,
			  "another berth (PID %d) is changing this host and still holds %s after %.0fs: try again",
			  (int)holder, BERTH_LOCK_PATH, (double)timeout_usec / USEC_PER_SEC);
		return BERTH_EXIT_TEMPFAIL;
	}
	if (fd < 0) {
		errno = -fd;
		cli_error(NULL, 0, NULL, NULL, "cannot take the lock %s: %m", BERTH_LOCK_PATH);
		return BERTH_EXIT_FAILURE;
	}
	*ret_fd = fd;
	return BERTH_EXIT_OK;
}

int cli_require_service(const char *name)
{
	if (service_exists(name))
		return BERTH_EXIT_OK;
	cli_error(NULL, 0, NULL, NULL, "no service \"%s\" is deployed by berth (see berth status)", name);
	return BERTH_EXIT_NOT_FOUND;
}
