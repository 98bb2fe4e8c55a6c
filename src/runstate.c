/* runstate.c - /run/berth/ready/NAME */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"
#include "macro.h"
#include "runstate.h"

static char *ready_path(const char *service)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", BERTH_READY_DIR, service) < 0)
		return NULL;
	return p;
}

int runstate_write_ready(const char *service, const struct ready_state *s)
{
	_cleanup_free_ char *path = ready_path(service), *line = NULL;
	int r;

	if (!path)
		return -ENOMEM;
	r = fs_mkdir_p_nofollow(BERTH_READY_DIR, 0755);
	if (r < 0)
		return r;
	if (s->ok)
		r = asprintf(&line, "ok %" PRId64 " %s\n", s->ready_msec, s->invocation_id[0] ? s->invocation_id : "-");
	else
		r = asprintf(&line, "failed %s %s\n", s->invocation_id[0] ? s->invocation_id : "-", s->reason);
	if (r < 0)
		return -ENOMEM;
	return fs_write_atomic(path, line, strlen(line), 0644);
}

int runstate_read_ready(const char *service, struct ready_state *ret)
{
	_cleanup_free_ char *path = ready_path(service), *text = NULL;
	struct ready_state s = { .ready_msec = -1 };
	size_t len;
	int r, n = 0;

	if (!path)
		return -ENOMEM;
	r = fs_read_file(path, 4096, &text, &len);
	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = 0;
	if (sscanf(text, "ok %" SCNd64 " %32s%n", &s.ready_msec, s.invocation_id, &n) >= 2)
		s.ok = true;
	else if (sscanf(text, "failed %32s %n", s.invocation_id, &n) >= 1 && n > 0)
		snprintf(s.reason, sizeof(s.reason), "%s", text + n);
	else
		return -EBADMSG;
	if (streq(s.invocation_id, "-"))
		s.invocation_id[0] = 0;
	*ret = s;
	return 0;
}

int runstate_remove(const char *service)
{
	_cleanup_free_ char *path = ready_path(service);
	if (!path)
		return -ENOMEM;
	return fs_remove(path, false, true);
}
