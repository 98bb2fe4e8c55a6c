/* sysctl.c - kernel parameters under /proc/sys, and changing them with their files all or nothing */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fs.h"
#include "macro.h"
#include "sysctl.h"

/* Largest file sysctl_commit() reads to compare or undo (60-berth.conf, previous.conf). */
#define SYSCTL_FILE_MAX (1024 * 1024)

static const char *root_path(const struct sysctl_root *r)
{
	return r && r->path ? r->path : SYSCTL_ROOT;
}

static bool key_is_valid(const char *key)
{
	size_t comp = 0, len = 0;

	if (isempty(key))
		return false;
	for (const char *p = key; *p; p++, len++) {
		if (*p == '.') {
			if (comp == 0)
				return false;
			comp = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-'))
			return false;
		comp++;
	}
	return comp > 0 && len < 256;
}

int sysctl_path(const struct sysctl_root *r, const char *key, char **ret)
{
	char *p;

	if (!key_is_valid(key))
		return -EINVAL;
	if (asprintf(&p, "%s/%s", root_path(r), key) < 0)
		return -ENOMEM;
	for (char *c = p + strlen(root_path(r)) + 1; *c; c++)
		if (*c == '.')
			*c = '/';
	*ret = p;
	return 0;
}

int sysctl_read(const struct sysctl_root *r, const char *key, char **ret)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len = 0;
	int k;

	if ((k = sysctl_path(r, key, &path)) < 0)
		return k;
	k = fs_read_file(path, SYSCTL_VALUE_MAX, &buf, &len);
	if (k == -ENOTDIR)
		return -ENOENT; /* a component of the key is a key itself */
	if (k < 0)
		return k;
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = 0;
	if (memchr(buf, 0, len))
		return -EINVAL;
	*ret = TAKE_PTR(buf);
	return 0;
}

static int write_value(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	_cleanup_free_ char *line = NULL;

	if (fd < 0)
		return negative_errno();
	if (asprintf(&line, "%s\n", value) < 0)
		return -ENOMEM;
	size_t len = strlen(line);
	ssize_t n = write(fd, line, len);
	if (n < 0)
		return negative_errno();
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

int sysctl_write(const struct sysctl_root *r, const char *key, const char *value)
{
	_cleanup_free_ char *path = NULL, *stored = NULL;
	struct stat st;
	int k;

	if (!value || strchr(value, '\n'))
		return -EINVAL;
	if ((k = sysctl_path(r, key, &path)) < 0)
		return k;
	/* the kernel's answer for a missing key or a group, also under a fake root */
	if (lstat(path, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (r && r->kernel) {
		if ((k = r->kernel(key, value, &stored, r->userdata)) < 0)
			return k;
		if (stored)
			value = stored;
	}
	return write_value(path, value);
}

int sysctl_writable(const struct sysctl_root *r, const char *key)
{
	_cleanup_free_ char *path = NULL;
	struct statvfs sv;
	struct stat st;
	int k;

	if ((k = sysctl_path(r, key, &path)) < 0)
		return k;
	if (stat(path, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* /proc/sys gives root the owner's bits, without the DAC override of other files */
	if (!(st.st_mode & S_IWUSR))
		return -EACCES;
	if (statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY))
		return -EROFS;
	if (geteuid() == 0 && st.st_uid != 0)
		return -EPERM;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

bool sysctl_value_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	for (;;) {
		while (is_space(*a))
			a++;
		while (is_space(*b))
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		while (*a && !is_space(*a) && *a == *b) {
			a++;
			b++;
		}
		if ((*a && !is_space(*a)) || (*b && !is_space(*b)))
			return false;
	}
}

void sysctl_failure_release(struct sysctl_failure *f)
{
	if (!f)
		return;
	free(f->key);
	free(f->path);
	free(f->stored);
	*f = (struct sysctl_failure){ 0 };
}

/* What sysctl_commit() changed, to undo it. */
struct undo {
	const char *key;  /* a value, or */
	const char *path; /* a file */
	char *old;        /* old value, old file content (NULL: the file did not exist) */
	mode_t mode;
};

static int file_read_current(const char *path, char **ret, mode_t *ret_mode)
{
	struct stat st;
	int k = fs_read_file(path, SYSCTL_FILE_MAX, ret, NULL);

	if (k == -ENOENT) {
		*ret = NULL;
		*ret_mode = 0644;
		return 0;
	}
	if (k < 0)
		return k;
	*ret_mode = lstat(path, &st) == 0 ? (st.st_mode & 07777) : 0644;
	return 0;
}

static int file_put(const char *path, const char *content, mode_t mode)
{
	if (!content)
		return fs_remove(path, false, true);
	_cleanup_free_ char *parent = strdup(path);
	if (!parent)
		return -ENOMEM;
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = 0;
		int k = fs_mkdir_p_nofollow(parent, 0755);
		if (k < 0)
			return k;
	}
	return fs_write_atomic(path, content, strlen(content), mode);
}

static int apply_files(const struct sysctl_file *files, size_t n, struct undo *undo, size_t *n_undo,
		       struct sysctl_failure *fail)
{
	for (size_t i = 0; i < n; i++) {
		char *old = NULL;
		mode_t mode;
		int k = file_read_current(files[i].path, &old, &mode);
		if (k >= 0 && streq_ptr(old, files[i].content)) {
			free(old);
			continue;
		}
		if (k >= 0)
			k = file_put(files[i].path, files[i].content, files[i].mode ? files[i].mode : 0644);
		if (k < 0) {
			free(old);
			fail->path = strdup(files[i].path);
			fail->error = k;
			return k;
		}
		undo[(*n_undo)++] = (struct undo){ .path = files[i].path, .old = old, .mode = mode };
	}
	return 0;
}

static int apply_values(const struct sysctl_root *r, const struct sysctl_change *changes, size_t n,
			struct undo *undo, size_t *n_undo, struct sysctl_failure *fail)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *old = NULL, *now = NULL;
		const char *key = changes[i].key;
		int k = sysctl_read(r, key, &old);

		if (k >= 0 && sysctl_value_equal(old, changes[i].value))
			continue;
		if (k >= 0)
			k = sysctl_write(r, key, changes[i].value);
		if (k < 0) {
			fail->key = strdup(key);
			fail->error = k;
			return k;
		}
		undo[(*n_undo)++] = (struct undo){ .key = key, .old = TAKE_PTR(old) };
		/* the kernel may clamp instead of refusing: what it kept is what counts */
		k = sysctl_read(r, key, &now);
		if (k >= 0 && !sysctl_value_equal(now, changes[i].value)) {
			fail->stored = TAKE_PTR(now);
			k = -ERANGE;
		}
		if (k < 0) {
			fail->key = strdup(key);
			fail->error = k;
			return k;
		}
	}
	return 0;
}

static bool rollback(const struct sysctl_root *r, struct undo *undo, size_t n)
{
	bool ok = true;
	for (size_t i = n; i > 0; i--) {
		struct undo *u = &undo[i - 1];
		int k = u->key ? sysctl_write(r, u->key, u->old) : file_put(u->path, u->old, u->mode);
		if (k < 0)
			ok = false;
	}
	return ok;
}

int sysctl_commit(const struct sysctl_root *r, const struct sysctl_file *pre, size_t n_pre,
		  const struct sysctl_change *changes, size_t n_changes, const struct sysctl_file *post, size_t n_post,
		  struct sysctl_failure *ret_failure)
{
	struct sysctl_failure fail = { 0 };
	size_t n_undo = 0;
	struct undo *undo = calloc(n_pre + n_changes + n_post + 1, sizeof(*undo));
	int k;

	if (!undo)
		return -ENOMEM;
	k = apply_files(pre, n_pre, undo, &n_undo, &fail);
	if (k >= 0)
		k = apply_values(r, changes, n_changes, undo, &n_undo, &fail);
	if (k >= 0)
		k = apply_files(post, n_post, undo, &n_undo, &fail);
	if (k < 0)
		fail.rollback_failed = !rollback(r, undo, n_undo);
	for (size_t i = 0; i < n_undo; i++)
		free(undo[i].old);
	free(undo);
	if (k < 0) {
		if (ret_failure)
			*ret_failure = fail;
		else
			sysctl_failure_release(&fail);
		return k;
	}
	return (int)(n_undo > INT_MAX ? INT_MAX : n_undo);
}

/* --- where berth runs ---------------------------------------------------------------------------- */

void sysctl_container_release(struct sysctl_container *c)
{
	if (!c)
		return;
	free(c->name);
	*c = (struct sysctl_container){ 0 };
}

static char *container_from_environ(const char *buf, size_t len)
{
	for (size_t i = 0; i < len;) {
		const char *e = buf + i;
		size_t l = strnlen(e, len - i);
		const char *v = l >= 10 ? startswith(e, "container=") : NULL;
		if (v && *v)
			return strndup(v, l - 10);
		i += l + 1;
	}
	return NULL;
}

static bool same_inode(const char *a, const char *b, bool *ret_same)
{
	struct stat sa, sb;
	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return false;
	*ret_same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	return true;
}

int sysctl_detect_container(const char *prefix, struct sysctl_container *ret)
{
	struct sysctl_container c = { 0 };
	char path[PATH_MAX], other[PATH_MAX];
	size_t len = 0;
	bool same;

	prefix = strempty(prefix);
	/* 1. systemd in the container writes the manager's name here (from PID 1's $container);
	 *    berth needs systemd, so inside a container this is the reliable answer */
	snprintf(path, sizeof(path), "%s/run/systemd/container", prefix);
	_cleanup_free_ char *buf = NULL;
	if (fs_read_file(path, 4096, &buf, &len) >= 0) {
		buf[strcspn(buf, "\n")] = 0;
		if (*buf && !(c.name = strdup(buf)))
			return -ENOMEM;
	}
	/* 2. every container manager sets $container for PID 1 (readable by root only) */
	if (!c.name) {
		_cleanup_free_ char *env = NULL;
		snprintf(path, sizeof(path), "%s/proc/1/environ", prefix);
		if (fs_read_file(path, 256 * 1024, &env, &len) >= 0)
			c.name = container_from_environ(env, len);
	}
	/* 3. net.* keys belong to the network namespace of the writer: another one than PID 1's
	 *    (ip netns exec, unshare -n) changes only that namespace, even on a host */
	snprintf(path, sizeof(path), "%s/proc/self/ns/net", prefix);
	snprintf(other, sizeof(other), "%s/proc/1/ns/net", prefix);
	if (same_inode(path, other, &same))
		c.other_netns = !same;
	*ret = c;
	return 0;
}
