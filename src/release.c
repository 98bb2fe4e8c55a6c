/* release.c - the release store of one service under /var/lib/berth/NAME (layout in release.h) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "macro.h"
#include "release.h"
#include "sha256.h"

#define VERSION_MAX 64
/* leaves room for ".service" and temp-name decorations within NAME_MAX */
#define SERVICE_NAME_MAX 200
#define META_MAX (64 * 1024)
#define TMP_PREFIX ".tmp-"

bool release_version_is_valid(const char *v)
{
	if (!v)
		return false;
	size_t l = strlen(v);
	if (l == 0 || l > VERSION_MAX || v[0] == '.' || v[0] == '-')
		return false;
	for (const char *p = v; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '+' || c == '-'))
			return false;
	}
	return true;
}

/* The name becomes a path component and a file next to "meta" in every release directory. */
static bool service_name_is_valid(const char *n)
{
	return !isempty(n) && strlen(n) <= SERVICE_NAME_MAX && !strchr(n, '/') && n[0] != '.' &&
	       !streq(n, "meta");
}

static int store_check(const struct release_store *s)
{
	if (!s || !s->root || s->root[0] != '/' || !service_name_is_valid(s->name))
		return -EINVAL;
	return 0;
}

static bool sha256_is_valid(const char *h)
{
	if (!h || strlen(h) != 2 * SHA256_DIGEST_SIZE)
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static bool meta_value_is_valid(const char *v)
{
	return !v || !strchr(v, '\n');
}

/* "<root>/<name><a><b>", root's trailing slashes dropped; NULL with errno set on failure. */
static char *service_path(const struct release_store *s, const char *a, const char *b)
{
	if (store_check(s) < 0) {
		errno = EINVAL;
		return NULL;
	}
	size_t rl = strlen(s->root);
	while (rl > 0 && s->root[rl - 1] == '/')
		rl--;
	char *p;
	if (asprintf(&p, "%.*s/%s%s%s", (int)rl, s->root, s->name, strempty(a), strempty(b)) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

/* ".../releases/<version>" followed by "/<leaf><suffix>" if leaf is given. */
static char *version_path(const struct release_store *s, const char *version, const char *leaf,
			  const char *suffix)
{
	if (!release_version_is_valid(version)) {
		errno = EINVAL;
		return NULL;
	}
	_cleanup_free_ char *rel = NULL;
	if (asprintf(&rel, "/releases/%s%s%s%s", version, leaf ? "/" : "", strempty(leaf),
		     strempty(suffix)) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return service_path(s, rel, NULL);
}

char *release_service_dir(const struct release_store *s)
{
	return service_path(s, NULL, NULL);
}

char *release_dir(const struct release_store *s, const char *version)
{
	return version_path(s, version, NULL, NULL);
}

char *release_binary_path(const struct release_store *s, const char *version)
{
	if (store_check(s) < 0) {
		errno = EINVAL;
		return NULL;
	}
	return version_path(s, version, s->name, NULL);
}

char *release_unit_copy_path(const struct release_store *s, const char *version)
{
	if (store_check(s) < 0) {
		errno = EINVAL;
		return NULL;
	}
	return version_path(s, version, s->name, ".service");
}

static char *meta_path(const struct release_store *s, const char *version)
{
	return version_path(s, version, "meta", NULL);
}

static uint64_t now_realtime_usec(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000U + (uint64_t)ts.tv_nsec / 1000U;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* ready_msec: a duration in ms, or -1 for unknown. */
static int parse_ready(const char *s, int64_t *ret)
{
	if (streq(s, "-1")) {
		*ret = -1;
		return 0;
	}
	uint64_t v;
	int r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if (v > INT64_MAX)
		return -ERANGE;
	*ret = (int64_t)v;
	return 0;
}

static int set_string(char **field, const char *v)
{
	char *c = strdup(v);
	if (!c)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

void release_release(struct release *r)
{
	if (!r)
		return;
	free(r->version);
	free(r->sha256);
	free(r->go_version);
	free(r->module);
	free(r->status);
	*r = (struct release){ .ready_msec = -1 };
}

void release_list_free(struct release *r, size_t n)
{
	if (!r)
		return;
	for (size_t i = 0; i < n; i++)
		release_release(&r[i]);
	free(r);
}

/* Parses meta text (modified in place). Unknown keys are ignored, so that a newer berth's meta
 * can still be read; a line without '=' or a bad number means the file is damaged. */
static int meta_parse(char *text, const char *version, struct release *ret)
{
	_cleanup_(release_release) struct release r = { .ready_msec = -1 };
	int k;

	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		char *next = nl ? nl + 1 : NULL;

		if (*line) {
			char *eq = strchr(line, '=');
			if (!eq)
				return -EBADMSG;
			*eq = 0;
			const char *key = line, *value = eq + 1;

			if (streq(key, "version"))
				k = set_string(&r.version, value);
			else if (streq(key, "sha256"))
				k = set_string(&r.sha256, value);
			else if (streq(key, "go_version"))
				k = set_string(&r.go_version, value);
			else if (streq(key, "module"))
				k = set_string(&r.module, value);
			else if (streq(key, "status"))
				k = set_string(&r.status, value);
			else if (streq(key, "installed_usec"))
				k = parse_u64(value, &r.installed_usec) < 0 ? -EBADMSG : 0;
			else if (streq(key, "deployed_usec"))
				k = parse_u64(value, &r.deployed_usec) < 0 ? -EBADMSG : 0;
			else if (streq(key, "good_usec"))
				k = parse_u64(value, &r.good_usec) < 0 ? -EBADMSG : 0;
			else if (streq(key, "ready_msec"))
				k = parse_ready(value, &r.ready_msec) < 0 ? -EBADMSG : 0;
			else
				k = 0;
			if (k < 0)
				return k;
		}
		line = next;
	}

	if (!r.version || !streq(r.version, version) || !sha256_is_valid(r.sha256))
		return -EBADMSG;
	/* empty means "not known", as written by release_install() */
	if (r.go_version && !*r.go_version) {
		free(r.go_version);
		r.go_version = NULL;
	}
	if (r.module && !*r.module) {
		free(r.module);
		r.module = NULL;
	}
	if (!r.status && set_string(&r.status, "") < 0)
		return -ENOMEM;

	*ret = r;
	r = (struct release){ 0 };
	return 0;
}

static int meta_read(const struct release_store *s, const char *version, char **ret_text)
{
	_cleanup_free_ char *p = meta_path(s, version);
	if (!p)
		return negative_errno();
	return fs_read_file(p, META_MAX, ret_text, NULL);
}

/* Loads the meta of a release, without the current/previous flags. */
static int meta_load(const struct release_store *s, const char *version, struct release *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = meta_read(s, version, &text);
	if (r < 0)
		return r;
	return meta_parse(text, version, ret);
}

static int meta_format(const struct release *m, char **ret)
{
	char *t;
	if (asprintf(&t,
		     "version=%s\nsha256=%s\ngo_version=%s\nmodule=%s\ninstalled_usec=%" PRIu64
		     "\ndeployed_usec=%" PRIu64 "\ngood_usec=%" PRIu64 "\nready_msec=%" PRId64 "\nstatus=%s\n",
		     m->version, m->sha256, strempty(m->go_version), strempty(m->module), m->installed_usec,
		     m->deployed_usec, m->good_usec, m->ready_msec, strempty(m->status)) < 0)
		return -ENOMEM;
	*ret = t;
	return 0;
}

static int get_link(const struct release_store *s, const char *which, char **ret)
{
	_cleanup_free_ char *p = service_path(s, "/", which);
	if (!p)
		return negative_errno();

	_cleanup_free_ char *target = NULL;
	int r = fs_readlink(p, &target);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;

	/* only links berth wrote are accepted: anything else is not a version */
	const char *v = startswith(target, "releases/");
	if (!v || !release_version_is_valid(v))
		return -EBADMSG;
	char *c = strdup(v);
	if (!c)
		return -ENOMEM;
	*ret = c;
	return 0;
}

int release_get_current(const struct release_store *s, char **ret)
{
	return get_link(s, "current", ret);
}

int release_get_previous(const struct release_store *s, char **ret)
{
	return get_link(s, "previous", ret);
}

/* 1 if version exists with this sha256, 0 if it does not exist, -EEXIST if it exists otherwise. */
static int check_existing(const struct release_store *s, const char *version, const char *sha256)
{
	_cleanup_free_ char *dir = release_dir(s, version);
	if (!dir)
		return negative_errno();
	int fd = fs_open_dir_nofollow(dir);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	(void)close(fd);

	_cleanup_(release_release) struct release m = { 0 };
	int r = meta_load(s, version, &m);
	if (r == -ENOMEM)
		return r;
	/* a damaged release is not silently reused or replaced: it is in the way */
	if (r < 0)
		return -EEXIST;
	return streq(m.sha256, sha256) ? 1 : -EEXIST;
}

/* Copies everything from offset 0 of src to dst's end, with the kernel's help where it can. */
static int copy_fd(int src, int dst)
{
	off_t in = 0;
	for (;;) {
		ssize_t n = copy_file_range(src, &in, dst, NULL, 1U << 30, 0);
		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return negative_errno();
		break;
	}
	/* across file systems on older kernels (a memfd to ext4): read and write */
	_cleanup_free_ char *buf = malloc(1U << 20);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = pread(src, buf, 1U << 20, in);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return 0;
		in += n;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(dst, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? negative_errno() : -EIO;
			done += w;
		}
	}
}

int release_install(const struct release_store *s, const char *version, int binary_fd, const char *sha256,
		    const char *go_version, const char *module, bool *ret_created)
{
	return release_install_with(s, version, binary_fd, sha256, go_version, module, NULL, 0, ret_created);
}

static bool release_file_is_valid(const struct release_store *s, const struct release_file *f)
{
	return f->content && !isempty(f->name) && !strchr(f->name, '/') && f->name[0] != '.' &&
	       !streq(f->name, "meta") && !streq(f->name, s->name);
}

int release_install_with(const struct release_store *s, const char *version, int binary_fd, const char *sha256,
			 const char *go_version, const char *module, const struct release_file *files,
			 size_t n_files, bool *ret_created)
{
	int r = store_check(s);
	if (r < 0)
		return r;
	if (!release_version_is_valid(version) || binary_fd < 0 || !sha256_is_valid(sha256) ||
	    !meta_value_is_valid(go_version) || !meta_value_is_valid(module) || (!files && n_files > 0))
		return -EINVAL;
	for (size_t i = 0; i < n_files; i++)
		if (!release_file_is_valid(s, &files[i]))
			return -EINVAL;

	r = check_existing(s, version, sha256);
	if (r < 0)
		return r;
	if (r > 0) {
		if (ret_created)
			*ret_created = false;
		return 0;
	}

	_cleanup_free_ char *sdir = release_service_dir(s);
	_cleanup_free_ char *rdir = service_path(s, "/releases", NULL);
	_cleanup_free_ char *final = release_dir(s, version);
	_cleanup_free_ char *prefix = NULL;
	if (!sdir || !rdir || !final || asprintf(&prefix, TMP_PREFIX "%s-", version) < 0)
		return -ENOMEM;

	r = fs_mkdir_p_nofollow(sdir, 0755);
	if (r < 0)
		return r;
	r = fs_mkdir_p_nofollow(rdir, 0755);
	if (r < 0)
		return r;

	_cleanup_free_ char *tmp = NULL;
	r = fs_mkdir_tmp(rdir, prefix, 0755, &tmp);
	if (r < 0)
		return r;

	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dfd = -1, out = -1;
	/* the binary: a new file in our fresh private directory, filled, then made read-only */
	dfd = fs_open_dir_nofollow(tmp);
	if (dfd < 0) {
		r = dfd;
		goto fail;
	}
	out = openat(dfd, s->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = negative_errno();
		goto fail;
	}
	r = copy_fd(binary_fd, out);
	if (r >= 0 && fchmod(out, 0755) < 0)
		r = negative_errno();
	if (r >= 0 && fsync(out) < 0)
		r = negative_errno();
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < n_files; i++) {
		r = fs_write_new_at(dfd, files[i].name, files[i].content, strlen(files[i].content), files[i].mode);
		if (r < 0)
			goto fail;
	}

	struct release m = {
		.version = (char *)version,
		.sha256 = (char *)sha256,
		.go_version = (char *)go_version,
		.module = (char *)module,
		.installed_usec = now_realtime_usec(),
		.deployed_usec = 0,
		.ready_msec = -1,
		.status = (char *)"",
	};
	r = meta_format(&m, &text);
	if (r < 0)
		goto fail;
	/* meta last: a release directory with meta is complete (release_prune removes it first);
	 * everything in it durable before the directory appears under its name */
	r = fs_write_new_at(dfd, "meta", text, strlen(text), 0644);
	if (r >= 0 && fsync(dfd) < 0)
		r = negative_errno();
	if (r < 0)
		goto fail;

	r = fs_rename_noreplace(tmp, final);
	if (r == -EEXIST || r == -ENOTEMPTY) {
		/* installed by someone else meanwhile: the same binary is fine */
		(void)fs_remove(tmp, true, true);
		r = check_existing(s, version, sha256);
		if (r < 0)
			return r;
		if (r == 0) /* and gone again: someone else is busy here */
			return -EAGAIN;
		if (ret_created)
			*ret_created = false;
		return 0;
	}
	if (r < 0)
		goto fail;

	if (ret_created)
		*ret_created = true;
	return 0;

fail:
	(void)fs_remove(tmp, true, true);
	return r;
}

int release_save_unit(const struct release_store *s, const char *version, const char *unit_text)
{
	if (!unit_text)
		return -EINVAL;
	_cleanup_free_ char *p = release_unit_copy_path(s, version);
	if (!p)
		return negative_errno();
	return fs_write_atomic(p, unit_text, strlen(unit_text), 0600);
}

static bool meta_key_is_valid(const char *k)
{
	if (isempty(k))
		return false;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* A key the caller may set to value, or -EINVAL. */
static int meta_key_check(const char *key, const char *value)
{
	uint64_t u;
	int64_t i;

	if (!meta_key_is_valid(key) || !value || !meta_value_is_valid(value))
		return -EINVAL;
	/* identity of a release: fixed at install */
	if (streq(key, "version") || streq(key, "sha256"))
		return -EINVAL;
	if ((streq(key, "installed_usec") || streq(key, "deployed_usec") || streq(key, "good_usec")) &&
	    parse_u64(value, &u) < 0)
		return -EINVAL;
	if (streq(key, "ready_msec") && parse_ready(value, &i) < 0)
		return -EINVAL;
	return 0;
}

int release_set_meta_many(const struct release_store *s, const char *version, const char *const *keys,
			  const char *const *values, size_t n)
{
	int r = store_check(s);
	if (r < 0)
		return r;
	if (!release_version_is_valid(version))
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if ((r = meta_key_check(keys[k], values[k])) < 0)
			return r;

	_cleanup_free_ char *text = NULL, *check = NULL;
	r = meta_read(s, version, &text);
	if (r < 0)
		return r;
	/* refuse to rewrite a damaged file: it would look valid afterwards */
	check = strdup(text);
	if (!check)
		return -ENOMEM;
	_cleanup_(release_release) struct release m = { 0 };
	r = meta_parse(check, version, &m);
	if (r < 0)
		return r;

	_cleanup_free_ char *out = NULL;
	_cleanup_free_ bool *done = calloc(n + 1, sizeof(bool));
	size_t out_len = 0;
	if (!done)
		return -ENOMEM;
	_cleanup_fclose_ FILE *f = open_memstream(&out, &out_len);
	if (!f)
		return -ENOMEM;

	for (char *line = text; *line;) {
		char *nl = strchrnul(line, '\n');
		size_t ll = (size_t)(nl - line);
		bool replaced = false;
		for (size_t k = 0; k < n && !replaced; k++) {
			size_t kl = strlen(keys[k]);
			if (ll > kl && strncmp(line, keys[k], kl) == 0 && line[kl] == '=') {
				if (!done[k])
					fprintf(f, "%s=%s\n", keys[k], values[k]);
				done[k] = true; /* later duplicates would win on reading: drop them */
				replaced = true;
			}
		}
		if (!replaced && ll > 0)
			fprintf(f, "%.*s\n", (int)ll, line);
		line = *nl ? nl + 1 : nl;
	}
	for (size_t k = 0; k < n; k++)
		if (!done[k])
			fprintf(f, "%s=%s\n", keys[k], values[k]);
	if (fflush(f) != 0 || ferror(f))
		return -ENOMEM;
	fclose(TAKE_PTR(f));

	_cleanup_free_ char *p = meta_path(s, version);
	if (!p)
		return negative_errno();
	return fs_write_atomic(p, out, out_len, 0644);
}

int release_set_meta(const struct release_store *s, const char *version, const char *key, const char *value)
{
	return release_set_meta_many(s, version, &key, &value, 1);
}

static bool release_is_good(const struct release *r)
{
	return r->status && streq(r->status, "ok");
}

/* When it last passed: good_usec, or for meta from before good_usec existed, deployed_usec. */
static uint64_t release_good_time(const struct release *r)
{
	return r->good_usec ? r->good_usec : r->deployed_usec;
}

static int set_link(const struct release_store *s, const char *which, const char *version)
{
	_cleanup_free_ char *path = service_path(s, "/", which), *target = NULL;
	if (!path)
		return negative_errno();
	if (!version)
		return fs_remove(path, false, true);
	if (asprintf(&target, "releases/%s", version) < 0)
		return -ENOMEM;
	return fs_symlink_atomic(target, path);
}

int release_update_previous(const struct release_store *s)
{
	struct release *l = NULL;
	size_t n = 0;
	int r = release_list(s, &l, &n);
	if (r < 0)
		return r;

	const struct release *best = NULL, *now = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!l[i].current && release_is_good(&l[i]) &&
		    (!best || release_good_time(&l[i]) > release_good_time(best)))
			best = &l[i];
		if (l[i].previous)
			now = &l[i];
	}
	/* no write when nothing changes: a no-op deploy writes nothing */
	r = now == best ? 0 : set_link(s, "previous", best ? best->version : NULL);
	release_list_free(l, n);
	return r;
}

int release_mark(const struct release_store *s, const char *version, bool good, int64_t ready_msec)
{
	char now[32], ready[32];
	int r;

	if (good) {
		snprintf(now, sizeof(now), "%" PRIu64, now_realtime_usec());
		snprintf(ready, sizeof(ready), "%" PRId64, ready_msec);
		const char *keys[] = { "status", "good_usec", "ready_msec" };
		const char *values[] = { "ok", now, ready };
		r = release_set_meta_many(s, version, keys, values, ready_msec >= 0 ? 3 : 2);
	} else
		r = release_set_meta(s, version, "status", "failed");
	if (r < 0)
		return r;
	return release_update_previous(s);
}

int release_set_current(const struct release_store *s, const char *version)
{
	int r = store_check(s);
	if (r < 0)
		return r;
	if (!release_version_is_valid(version))
		return -EINVAL;

	/* only a complete release (one with meta) may become current */
	_cleanup_(release_release) struct release m = { 0 };
	r = meta_load(s, version, &m);
	if (r < 0)
		return r;

	_cleanup_free_ char *old = NULL;
	r = release_get_current(s, &old);
	if (r < 0 && r != -EBADMSG)
		return r;
	if (old && streq(old, version))
		return 0;

	char buf[32];
	(void)snprintf(buf, sizeof(buf), "%" PRIu64, now_realtime_usec());
	r = release_set_meta(s, version, "deployed_usec", buf);
	if (r < 0)
		return r;
	r = set_link(s, "current", version);
	if (r < 0)
		return r;
	return release_update_previous(s);
}

int release_load(const struct release_store *s, const char *version, struct release *ret)
{
	int r = store_check(s);
	if (r < 0)
		return r;
	if (!release_version_is_valid(version))
		return -EINVAL;

	_cleanup_(release_release) struct release m = { 0 };
	r = meta_load(s, version, &m);
	if (r < 0)
		return r;
	_cleanup_free_ char *cur = NULL, *prev = NULL;
	r = release_get_current(s, &cur);
	if (r < 0)
		return r;
	r = release_get_previous(s, &prev);
	if (r < 0)
		return r;
	m.current = streq_ptr(cur, version);
	m.previous = streq_ptr(prev, version);

	*ret = m;
	m = (struct release){ 0 };
	return 0;
}

static int release_compare(const void *x, const void *y)
{
	const struct release *a = x, *b = y;
	if (a->installed_usec != b->installed_usec)
		return a->installed_usec > b->installed_usec ? -1 : 1;
	return -strverscmp(a->version, b->version);
}

/* Calls cb for every entry of releases/ (none if it does not exist). */
static int for_each_entry(const struct release_store *s,
			  int (*cb)(const struct release_store *s, int dfd, const char *name, void *u),
			  void *userdata)
{
	_cleanup_free_ char *rdir = service_path(s, "/releases", NULL);
	if (!rdir)
		return negative_errno();
	int dfd = fs_open_dir_nofollow(rdir);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int r = negative_errno();
		(void)close(dfd);
		return r;
	}

	int r = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno != 0)
				r = negative_errno();
			break;
		}
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		r = cb(s, dirfd(d), de->d_name, userdata);
		if (r < 0)
			break;
	}
	(void)closedir(d);
	return r;
}

struct list_state {
	struct release *items;
	size_t n, alloc;
};

static int list_one(const struct release_store *s, int dfd, const char *name, void *userdata)
{
	struct list_state *ls = userdata;
	struct stat st;

	if (!release_version_is_valid(name))
		return 0; /* temp directories and strangers */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : negative_errno();
	if (!S_ISDIR(st.st_mode))
		return 0;

	if (ls->n == ls->alloc) {
		size_t na = ls->alloc ? ls->alloc * 2 : 8;
		struct release *ni = reallocarray(ls->items, na, sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		ls->items = ni;
		ls->alloc = na;
	}

	struct release m = { 0 };
	int r = meta_load(s, name, &m);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* listed with its version only, so that it is seen and can be pruned */
		m = (struct release){ .ready_msec = -1 };
		m.version = strdup(name);
		m.sha256 = strdup("");
		m.status = strdup("");
		if (!m.version || !m.sha256 || !m.status) {
			release_release(&m);
			return -ENOMEM;
		}
	}
	ls->items[ls->n++] = m;
	return 0;
}

int release_list(const struct release_store *s, struct release **ret, size_t *ret_n)
{
	int r = store_check(s);
	if (r < 0)
		return r;

	_cleanup_free_ char *cur = NULL, *prev = NULL;
	r = release_get_current(s, &cur);
	if (r < 0)
		return r;
	r = release_get_previous(s, &prev);
	if (r < 0)
		return r;

	struct list_state ls = { 0 };
	r = for_each_entry(s, list_one, &ls);
	if (r < 0) {
		release_list_free(ls.items, ls.n);
		return r;
	}
	for (size_t i = 0; i < ls.n; i++) {
		ls.items[i].current = streq_ptr(cur, ls.items[i].version);
		ls.items[i].previous = streq_ptr(prev, ls.items[i].version);
	}
	if (ls.n > 1)
		qsort(ls.items, ls.n, sizeof(*ls.items), release_compare);

	*ret = ls.items;
	*ret_n = ls.n;
	return 0;
}

static int remove_release(const struct release_store *s, const char *version)
{
	_cleanup_free_ char *meta = meta_path(s, version);
	_cleanup_free_ char *dir = release_dir(s, version);
	if (!meta || !dir)
		return -ENOMEM;
	/* meta first: if this is interrupted, what is left is visibly incomplete */
	int r = fs_remove(meta, false, true);
	if (r < 0)
		return r;
	return fs_remove(dir, true, true);
}

static int sweep_one(const struct release_store *s, int dfd, const char *name, void *userdata)
{
	if (!startswith(name, TMP_PREFIX))
		return 0;
	_cleanup_free_ char *p = service_path(s, "/releases/", name);
	if (!p)
		return -ENOMEM;
	return fs_remove(p, true, true);
}

/* Which releases keep their slots first: good ones, then those never judged, then failed ones;
 * newest installed first within each (release_list's order). */
static int prune_rank(const struct release *r)
{
	return release_is_good(r) ? 0 : isempty(r->status) ? 1 : 2;
}

int release_prune(const struct release_store *s, unsigned keep)
{
	struct release *l = NULL;
	size_t n = 0;
	int r = release_list(s, &l, &n);
	if (r < 0)
		return r;

	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (l[i].current || l[i].previous)
			kept++;
	for (int rank = 0; rank <= 2; rank++)
		for (size_t i = 0; i < n; i++)
			if (!l[i].current && !l[i].previous && prune_rank(&l[i]) == rank && kept < keep) {
				kept++;
				l[i].current = true; /* marks "kept" for the loop below */
			}

	int removed = 0;
	for (size_t i = 0; i < n; i++) {
		if (l[i].current || l[i].previous)
			continue;
		r = remove_release(s, l[i].version);
		if (r < 0)
			goto finish;
		removed++;
	}

	/* directories of installs that were interrupted (callers hold the berth lock) */
	r = for_each_entry(s, sweep_one, NULL);
finish:
	release_list_free(l, n);
	return r < 0 ? r : removed;
}

int release_purge(const struct release_store *s)
{
	_cleanup_free_ char *p = release_service_dir(s);
	if (!p)
		return negative_errno();
	return fs_remove(p, true, true);
}
