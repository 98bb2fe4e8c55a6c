/* services.c - the services berth manages */
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
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && service_exists(de->d_name))
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
	return r;
}
