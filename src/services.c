/* services.c - the services berth manages, and their small records (see services.h) */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs.h"
#include "macro.h"
#include "release.h"
#include "services.h"
#include "strv.h"
#include "txn.h"
#include "unit.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool service_exists(const char *name)
{
	char path[512];
	struct stat st;
	if (!service_name_is_valid(name))
		return false;
	snprintf(path, sizeof(path), "%s/%s/current", BERTH_STATE_ROOT, name);
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

int services_list(char ***ret)
{
	_cleanup_(closedirp) DIR *d = opendir(BERTH_STATE_ROOT);
	char **names = calloc(1, sizeof(char *));
	struct dirent *de;
	int r;

	if (!names)
		return -ENOMEM;
	if (!d) {
		if (errno == ENOENT) {
			*ret = names;
			return 0;
		}
		r = negative_errno();
		strv_free(names);
		return r;
	}
	/* a first deploy killed before current existed still has its record to resolve */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && service_name_is_valid(de->d_name) &&
		    (service_exists(de->d_name) || txn_exists(BERTH_STATE_ROOT, de->d_name)))
			if ((r = strv_extend(&names, de->d_name)) < 0) {
				strv_free(names);
				return r;
			}
	qsort(names, strv_length(names), sizeof(char *), cmp_str);
	*ret = names;
	return 0;
}

int service_load_manifest(const char *name, struct manifest **ret)
{
	struct manifest_diags diags = { 0 };
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/%s/current/manifest.ini", BERTH_STATE_ROOT, name);
	r = manifest_load(path, ret, &diags);
	manifest_diags_release(&diags);
	if (r != -EACCES)
		return r;
	/* not root: the copy without environment values */
	snprintf(path, sizeof(path), "%s/%s/current/" RELEASE_PUBLIC_MANIFEST, BERTH_STATE_ROOT, name);
	r = manifest_load(path, ret, &diags);
	manifest_diags_release(&diags);
	return r == -ENOENT ? -EACCES : r;
}

/* V if path is ".../releases/V/NAME" of name's store, else NULL */
static char *release_of_path(const char *name, const char *path)
{
	_cleanup_free_ char *prefix = NULL, *suffix = NULL;

	if (asprintf(&prefix, "%s/%s/releases/", BERTH_STATE_ROOT, name) < 0 || asprintf(&suffix, "/%s", name) < 0)
		return NULL;
	const char *v = startswith(path, prefix);
	size_t sl = strlen(suffix);
	if (!v || strlen(v) <= sl || !streq(v + strlen(v) - sl, suffix))
		return NULL;
	char *version = strndup(v, strlen(v) - sl);
	if (version && !release_version_is_valid(version))
		version = (free(version), NULL);
	return version;
}

static bool is_release_binary(const struct release_store *store, const char *version, const struct stat *exe)
{
	_cleanup_free_ char *bin = release_binary_path(store, version);
	struct stat st;

	return bin && stat(bin, &st) == 0 && st.st_dev == exe->st_dev && st.st_ino == exe->st_ino;
}

int service_running_release(const char *name, uint32_t main_pid, char **ret)
{
	struct release_store store = { .root = (char *)BERTH_STATE_ROOT, .name = (char *)name };
	char proc[64], path[4096];
	struct stat exe;

	*ret = NULL;
	if (main_pid == 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%u/exe", main_pid);
	ssize_t n = readlink(proc, path, sizeof(path) - 1);
	if (n < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : negative_errno();
	path[n] = 0;
	/* the kernel appends this when the file was removed since the exec */
	if (n > 10 && streq(path + n - 10, " (deleted)"))
		path[n - 10] = 0;
	*ret = release_of_path(name, path);
	if (*ret)
		return 0;
	/* A path that names no release may still be one seen through another mount namespace: the
	 * release whose binary is that very file (same inode), if any. */
	if (stat(proc, &exe) < 0)
		return 0;
	_cleanup_free_ char *releases = NULL;
	if (asprintf(&releases, "%s/%s/releases", BERTH_STATE_ROOT, name) < 0)
		return -ENOMEM;
	_cleanup_(closedirp) DIR *d = opendir(releases);
	if (!d)
		return errno == ENOENT ? 0 : negative_errno();
	struct dirent *de;
	while ((de = readdir(d)))
		if (release_version_is_valid(de->d_name) && is_release_binary(&store, de->d_name, &exe))
			return (*ret = strdup(de->d_name)) ? 0 : -ENOMEM;
	return 0;
}

int service_state_dirs(const char *name, char ***ret)
{
	static const char *const bases[] = { "/var/lib/", "/var/lib/private/", "/var/cache/",
					     "/var/cache/private/", "/var/log/", "/var/log/private/" };
	_cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(bases); i++) {
		char *p = NULL;
		if (asprintf(&p, "%s%s", bases[i], name) < 0 || strv_push(&l, p) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

int service_existing_state_dirs(const char *name, char ***ret)
{
	_cleanup_strv_free_ char **all = NULL, **have = calloc(1, sizeof(char *));
	struct stat st;
	int r;

	if (!have)
		return -ENOMEM;
	r = service_state_dirs(name, &all);
	if (r < 0)
		return r;
	STRV_FOREACH(p, all)
		if (lstat(*p, &st) == 0 && (r = strv_extend(&have, *p)) < 0)
			return r;
	*ret = TAKE_PTR(have);
	return 0;
}

static char *record_path(const char *name, const char *leaf)
{
	char *p = NULL;
	if (!service_name_is_valid(name) || asprintf(&p, "%s/%s/%s", BERTH_STATE_ROOT, name, leaf) < 0)
		return NULL;
	return p;
}

/* Reads a record of lines; *ret NULL if absent. */
static int read_lines(const char *name, const char *leaf, char ***ret)
{
	_cleanup_free_ char *path = record_path(name, leaf), *text = NULL;
	_cleanup_strv_free_ char **l = NULL;
	char *save = NULL;
	size_t len;
	int r;

	if (!path)
		return -EINVAL;
	r = fs_read_file(path, 64 * 1024, &text, &len);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	l = calloc(1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if ((r = strv_extend(&l, line)) < 0)
			return r;
	*ret = TAKE_PTR(l);
	return 0;
}

static int write_lines(const char *name, const char *leaf, char *const *lines)
{
	_cleanup_free_ char *path = record_path(name, leaf), *text = NULL, *dir = NULL;
	size_t len = 0;
	int r;

	if (!path)
		return -EINVAL;
	STRV_FOREACH(l, lines) {
		if (strchr(*l, '\n'))
			return -EINVAL;
		char *n = realloc(text, len + strlen(*l) + 2);
		if (!n)
			return -ENOMEM;
		text = n;
		len += (size_t)sprintf(text + len, "%s\n", *l);
	}
	if (asprintf(&dir, "%s/%s", BERTH_STATE_ROOT, name) < 0)
		return -ENOMEM;
	r = fs_mkdir_p_nofollow(dir, 0755);
	if (r < 0)
		return r;
	return fs_write_atomic(path, text ? text : "", len, 0644);
}

int service_owned_dirs_read(const char *name, char ***ret)
{
	return read_lines(name, "owned-dirs", ret);
}

int service_owned_dirs_write(const char *name, char *const *dirs)
{
	return write_lines(name, "owned-dirs", dirs);
}

int service_origin_read(const char *name, char **ret)
{
	_cleanup_strv_free_ char **l = NULL;
	int r = read_lines(name, "origin", &l);
	if (r < 0)
		return r;
	*ret = l && l[0] ? strdup(l[0]) : NULL;
	return l && l[0] && !*ret ? -ENOMEM : 0;
}

int service_origin_write(const char *name, const char *manifest_path)
{
	char *const lines[] = { (char *)manifest_path, NULL };
	return write_lines(name, "origin", lines);
}
