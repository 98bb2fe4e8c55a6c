/* release-runs.c - which systemd invocations (runs) belong to a release, for `berth logs --release`
 *
 * `berth wait-ready` appends the unit's INVOCATION_ID to releases/VERSION/invocations each time
 * the release becomes healthy; the journal tags every line of a run with that ID.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "macro.h"
#include "release.h"
#include "strv.h"

#define RUNS_KEPT 100

static char *runs_path(const struct release_store *s, const char *version)
{
	_cleanup_free_ char *dir = release_dir(s, version);
	char *p = NULL;
	if (!dir || asprintf(&p, "%s/invocations", dir) < 0)
		return NULL;
	return p;
}

static bool invocation_id_is_valid(const char *id)
{
	if (strlen(id) != 32)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

int release_get_invocations(const struct release_store *s, const char *version, char ***ret)
{
	_cleanup_free_ char *path = runs_path(s, version), *text = NULL;
	char **ids = calloc(1, sizeof(char *)), *save = NULL;
	size_t len;
	int r;

	if (!path || !ids) {
		free(ids);
		return -ENOMEM;
	}
	r = fs_read_file(path, 64 * 1024, &text, &len);
	if (r == -ENOENT) {
		*ret = ids;
		return 0;
	}
	if (r < 0) {
		strv_free(ids);
		return r;
	}
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (invocation_id_is_valid(l) && (r = strv_extend(&ids, l)) < 0) {
			strv_free(ids);
			return r;
		}
	*ret = ids;
	return 0;
}

int release_add_invocation(const struct release_store *s, const char *version, const char *invocation_id)
{
	_cleanup_free_ char *path = runs_path(s, version), *joined = NULL;
	_cleanup_strv_free_ char **ids = NULL;
	int r;

	if (!invocation_id_is_valid(invocation_id))
		return -EINVAL;
	if (!path)
		return -ENOMEM;
	r = release_get_invocations(s, version, &ids);
	if (r < 0)
		return r;
	if (strv_contains(ids, invocation_id))
		return 0;
	r = strv_extend(&ids, invocation_id);
	if (r < 0)
		return r;
	size_t n = strv_length(ids), skip = n > RUNS_KEPT ? n - RUNS_KEPT : 0;
	joined = strv_join(ids + skip, "\n");
	if (!joined)
		return -ENOMEM;
	size_t len = strlen(joined);
	char *with_nl = realloc(joined, len + 2);
	if (!with_nl)
		return -ENOMEM;
	joined = with_nl;
	strcpy(joined + len, "\n");
	return fs_write_atomic(path, joined, len + 1, 0644);
}
