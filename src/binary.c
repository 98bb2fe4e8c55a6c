/* binary.c - the rules for accepting a service binary */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binary.h"
#include "macro.h"
#include "strv.h"

static int refuse(struct binary_verdict *v, const char *fmt, ...) _printf_(2, 3);
static int refuse(struct binary_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&v->error, fmt, ap) < 0)
		v->error = NULL;
	va_end(ap);
	return v->error ? 0 : -ENOMEM;
}

int binary_judge(const char *path, struct binary_verdict *ret)
{
	struct binary_verdict v = { 0 };
	struct stat st;
	int r;

	v.warnings = calloc(1, sizeof(char *));
	if (!v.warnings)
		return -ENOMEM;
	if (stat(path, &st) < 0) {
		r = negative_errno();
		free(v.warnings);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		r = refuse(&v, "not a regular file");
		goto done;
	}

	r = elf_inspect_file(path, &v.info);
	if (r == -ENOEXEC) {
		r = refuse(&v, "not an ELF executable (a script or a binary for another OS?)");
		goto done;
	}
	if (r == -EBADMSG) {
		r = refuse(&v, "a damaged or truncated ELF file");
		goto done;
	}
	if (r < 0) {
		free(v.warnings);
		return r;
	}

	const char *host = elf_host_arch();
	if (!v.info.arch || !host || !streq(v.info.arch, host)) {
		r = refuse(&v,
			   "built for %s (%s, %d-bit) but this host is %s: rebuild with "
			   "GOOS=linux GOARCH=%s go build",
			   v.info.arch ? v.info.arch : "an unknown architecture",
			   elf_machine_name(v.info.machine), v.info.elf_class, host ? host : "unknown",
			   host ? host : "<arch>");
		goto done;
	}
	if (v.info.is_go && v.info.go.goos && !streq(v.info.go.goos, "linux")) {
		r = refuse(&v, "a Go binary for GOOS=%s: rebuild with GOOS=linux GOARCH=%s go build",
			   v.info.go.goos, host);
		goto done;
	}
	if (v.info.interpreter && access(v.info.interpreter, X_OK) < 0) {
		r = refuse(&v,
			   "dynamically linked against %s, which this host does not have: rebuild "
			   "statically with CGO_ENABLED=0",
			   v.info.interpreter);
		goto done;
	}
	if (!(st.st_mode & 0111)) {
		/* installed releases get 0755 anyway; say so but do not refuse */
		r = strv_extend(&v.warnings, "the file is not executable (the installed copy will be)");
		if (r < 0)
			goto done;
	}
	if (!v.info.is_go)
		r = strv_extend(&v.warnings, "not a Go program (no Go build info): the [go] settings are ignored");
	else if (v.info.interpreter)
		r = strv_extend(&v.warnings, "dynamically linked (cgo): it depends on the host's C library");
done:
	if (r < 0) {
		binary_verdict_release(&v);
		return r;
	}
	*ret = v;
	return 0;
}

void binary_verdict_release(struct binary_verdict *v)
{
	elf_info_release(&v->info);
	free(v->error);
	v->error = NULL;
	v->warnings = strv_free(v->warnings);
}
