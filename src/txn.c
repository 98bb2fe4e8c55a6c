/* txn.c - the on-disk record of a change to one service in progress (layout in txn.h) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "macro.h"
#include "txn.h"

#define RECORD_MAX (16 * 1024)
#define FILE_MAX (1024 * 1024)
#define BUILD_PREFIX ".txn-"

static char *service_dir(const char *root, const char *service)
{
	char *p = NULL;
	if (isempty(service) || strchr(service, '/') || service[0] == '.' ||
	    asprintf(&p, "%s/%s", root, service) < 0)
		return NULL;
	return p;
}

static char *txn_dir(const char *root, const char *service)
{
	_cleanup_free_ char *d = service_dir(root, service);
	char *p = NULL;
	if (!d || asprintf(&p, "%s/txn", d) < 0)
		return NULL;
	return p;
}

static bool value_ok(const char *v)
{
	return !v || !strpbrk(v, "\n");
}

static int record_format(const struct txn *t, char **ret)
{
	if (!value_ok(t->op) || !value_ok(t->from) || !value_ok(t->to) || !value_ok(t->step))
		return -EINVAL;
	if (asprintf(ret,
		     "format=%d\nop=%s\nservice=%s\nfrom=%s\nto=%s\nstep=%s\npid=%d\nstarted_usec=%" PRIu64
		     "\nhad_unit=%d\nhad_dropin=%d\nwas_active=%d\nwas_enabled=%d\n",
		     TXN_FORMAT, strempty(t->op), t->service, strempty(t->from), strempty(t->to), strempty(t->step),
		     (int)t->pid, t->started_usec, t->had_unit, t->had_dropin, t->was_active, t->was_enabled) < 0)
		return -ENOMEM;
	return 0;
}

static int write_at(int dfd, const char *name, const char *content)
{
	if (!content)
		return 0;
	return fs_write_new_at(dfd, name, content, strlen(content), 0600);
}

/* The files of t's record in the fresh private directory tmp, all fsynced, then tmp itself. */
static int write_record(const char *tmp, const struct txn *t, const char *record)
{
	_cleanup_close_ int dfd = fs_open_dir_nofollow(tmp);
	int r;

	if (dfd < 0)
		return dfd;
	if ((r = write_at(dfd, "unit.old", t->had_unit ? t->unit_old : NULL)) < 0 ||
	    (r = write_at(dfd, "dropin.old", t->had_dropin ? t->dropin_old : NULL)) < 0 ||
	    (r = write_at(dfd, "unit.new", t->unit_new)) < 0 || (r = write_at(dfd, "manifest.new", t->manifest_new)) < 0 ||
	    (r = write_at(dfd, "record", record)) < 0)
		return r;
	return fsync(dfd) < 0 ? negative_errno() : 0;
}

int txn_begin(const char *state_root, const struct txn *t)
{
	_cleanup_free_ char *sdir = service_dir(state_root, t->service), *final = txn_dir(state_root, t->service);
	_cleanup_free_ char *tmp = NULL, *record = NULL;
	int r;

	if (!sdir || !final)
		return -EINVAL;
	r = record_format(t, &record);
	if (r < 0)
		return r;
	r = fs_mkdir_p_nofollow(sdir, 0755);
	if (r < 0)
		return r;
	r = fs_mkdir_tmp(sdir, BUILD_PREFIX, 0700, &tmp);
	if (r < 0)
		return r;
	if ((r = write_record(tmp, t, record)) < 0 || (r = fs_rename_noreplace(tmp, final)) < 0) {
		(void)fs_remove(tmp, true, true);
		return r == -ENOTEMPTY ? -EEXIST : r;
	}
	return 0;
}

int txn_set_step(const char *state_root, struct txn *t, const char *step)
{
	_cleanup_free_ char *dir = txn_dir(state_root, t->service), *path = NULL, *line = NULL;
	char *copy;

	if (!dir || !value_ok(step) || isempty(step))
		return -EINVAL;
	if (asprintf(&path, "%s/step", dir) < 0 || asprintf(&line, "%s\n", step) < 0 || !(copy = strdup(step)))
		return -ENOMEM;
	free(t->step);
	t->step = copy;
	return fs_write_atomic_unsynced(path, line, strlen(line), 0600);
}

static int read_at(const char *dir, const char *name, bool required, char **ret)
{
	_cleanup_free_ char *p = NULL;
	size_t len;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	int r = fs_read_file(p, FILE_MAX, ret, &len);
	if (r == -ENOENT && !required) {
		*ret = NULL;
		return 0;
	}
	return r;
}

static int set_str(char **field, const char *v)
{
	free(*field);
	*field = isempty(v) ? NULL : strdup(v);
	return isempty(v) || *field ? 0 : -ENOMEM;
}

static int parse_bool01(const char *v, bool *ret)
{
	if (!streq(v, "0") && !streq(v, "1"))
		return -EBADMSG;
	*ret = v[0] == '1';
	return 0;
}

static int record_parse(char *text, struct txn *t)
{
	bool format_ok = false;
	int r = 0;

	for (char *line = text, *next; line && *line; line = next) {
		char *nl = strchr(line, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = 0;
		char *eq = strchr(line, '=');
		if (!eq)
			return -EBADMSG;
		*eq = 0;
		const char *k = line, *v = eq + 1;
		if (streq(k, "format"))
			format_ok = streq(v, "1");
		else if (streq(k, "op"))
			r = set_str(&t->op, v);
		else if (streq(k, "from"))
			r = set_str(&t->from, v);
		else if (streq(k, "to"))
			r = set_str(&t->to, v);
		else if (streq(k, "step"))
			r = set_str(&t->step, v);
		else if (streq(k, "pid"))
			t->pid = (pid_t)strtol(v, NULL, 10);
		else if (streq(k, "started_usec"))
			t->started_usec = strtoull(v, NULL, 10);
		else if (streq(k, "had_unit"))
			r = parse_bool01(v, &t->had_unit);
		else if (streq(k, "had_dropin"))
			r = parse_bool01(v, &t->had_dropin);
		else if (streq(k, "was_active"))
			r = parse_bool01(v, &t->was_active);
		else if (streq(k, "was_enabled"))
			r = parse_bool01(v, &t->was_enabled);
		/* other keys: a newer berth's; what this one needs is above */
		if (r < 0)
			return r;
	}
	/* a record of a format this berth does not know is not guessed at */
	return format_ok && t->op && t->to ? 0 : -EBADMSG;
}

int txn_load(const char *state_root, const char *service, struct txn *ret)
{
	_cleanup_free_ char *dir = txn_dir(state_root, service), *text = NULL;
	struct txn t = { 0 };
	int r;

	if (!dir)
		return -EINVAL;
	r = read_at(dir, "record", true, &text);
	if (r == -ENOENT && txn_exists(state_root, service))
		return -EBADMSG; /* a txn/ without its record: not one berth built */
	if (r < 0)
		return r;
	t.service = strdup(service);
	if (!t.service)
		return -ENOMEM;
	r = record_parse(text, &t);
	if (r >= 0 && t.had_unit)
		r = read_at(dir, "unit.old", true, &t.unit_old);
	if (r >= 0 && t.had_dropin)
		r = read_at(dir, "dropin.old", true, &t.dropin_old);
	if (r >= 0)
		r = read_at(dir, "unit.new", false, &t.unit_new);
	if (r >= 0)
		r = read_at(dir, "manifest.new", false, &t.manifest_new);
	if (r >= 0) {
		/* information only (see txn.h): absent, empty or odd leaves the record's step */
		_cleanup_free_ char *step = NULL;
		if (read_at(dir, "step", false, &step) >= 0 && step && step[0] && step[strlen(step) - 1] == '\n') {
			step[strlen(step) - 1] = 0;
			if (value_ok(step) && *step)
				r = set_str(&t.step, step);
		}
	}
	if (r < 0) {
		txn_release(&t);
		return r == -ENOENT ? -EBADMSG : r;
	}
	*ret = t;
	return 0;
}

bool txn_exists(const char *state_root, const char *service)
{
	_cleanup_free_ char *dir = txn_dir(state_root, service);
	struct stat st;
	return dir && lstat(dir, &st) == 0;
}

int txn_end(const char *state_root, const char *service)
{
	_cleanup_free_ char *sdir = service_dir(state_root, service), *dir = txn_dir(state_root, service);
	if (!sdir || !dir)
		return -EINVAL;
	int r = fs_remove(dir, true, true);
	if (r < 0)
		return r;

	/* records that were being built when berth died */
	int dfd = fs_open_dir_nofollow(sdir);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	DIR *d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return negative_errno();
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		if (!startswith(de->d_name, BUILD_PREFIX) || asprintf(&p, "%s/%s", sdir, de->d_name) < 0)
			continue;
		(void)fs_remove(p, true, true);
	}
	(void)closedir(d);
	return 0;
}

void txn_release(struct txn *t)
{
	if (!t)
		return;
	free(t->service);
	free(t->op);
	free(t->from);
	free(t->to);
	free(t->step);
	free(t->unit_old);
	free(t->dropin_old);
	free(t->unit_new);
	free(t->manifest_new);
	*t = (struct txn){ 0 };
}
