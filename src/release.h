/* release.h - the release store of one service under /var/lib/berth/NAME
 *
 *   /var/lib/berth/NAME/                    root:root 0755
 *     releases/VERSION/NAME                 the binary, root:root 0755 (not writable by the service)
 *     releases/VERSION/NAME.service         the unit that was installed with this release
 *     releases/VERSION/meta                 key=value lines (see struct release)
 *     releases/VERSION/manifest.ini         the manifest it last passed its health gate with (0600)
 *     releases/VERSION/manifest.public.ini  the same without [environment], for anyone (0644)
 *     releases/VERSION/NAME.service         the unit that went with it (0600: environment values)
 *     current -> releases/VERSION           switched atomically
 *     previous -> releases/VERSION          the last known good release other than current: the
 *                                           newest one that passed its health gate and watch
 *                                           (status ok); absent if there is none. It is the
 *                                           rollback target; a failed release never is.
 *
 * VERSION is given (--version) or the first 12 hex digits of the binary's SHA-256, so the same
 * binary is the same release. Versions are [A-Za-z0-9._+-], ≤ 64, not starting with '.' or '-'.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* in a release's directory: the saved manifest without [environment], which anyone may read */
#define RELEASE_PUBLIC_MANIFEST "manifest.public.ini"

struct release {
	char *version;
	char *sha256;        /* hex of the binary */
	char *go_version;    /* NULL if not Go */
	char *module;        /* main module path@version, NULL if unknown */
	uint64_t installed_usec;   /* CLOCK_REALTIME µs when first installed */
	uint64_t deployed_usec;    /* last time it became current, 0 = never */
	uint64_t good_usec;        /* last time it passed its health gate and watch, 0 = never */
	int64_t ready_msec;        /* start job to healthy, -1 = unknown */
	char *status;        /* "ok" (passed), "failed" (failed its gate or watch), "" (not judged) */
	bool current;
	bool previous;
};

struct release_store {
	char *root;  /* /var/lib/berth (tests use a temp dir); absolute */
	char *name;  /* service name: no '/', not starting with '.', not "meta" (-EINVAL) */
};

bool release_version_is_valid(const char *v);

/* Paths: "<root>/<name>", ".../releases/<v>", ".../releases/<v>/<name>", ".../current".
 * NULL with errno set (EINVAL for an invalid store or version, ENOMEM). */
char *release_service_dir(const struct release_store *s);
char *release_dir(const struct release_store *s, const char *version);
char *release_binary_path(const struct release_store *s, const char *version);
char *release_unit_copy_path(const struct release_store *s, const char *version);

/* Installs the bytes of binary_fd (read from offset 0 to its end; berth's own sealed copy of the
 * caller's file, see binary.h) as version (no-op returning 0 with *ret_created=false if it exists
 * with the same sha256; -EEXIST if the version exists with different content). Builds the release
 * in a temporary directory and renames it into place, so a half-installed release never exists.
 * sha256 is 64 lowercase hex digits (-EINVAL otherwise): the hash of exactly those bytes.
 * go_version and module may be NULL; no value may contain a newline (-EINVAL). */
int release_install(const struct release_store *s, const char *version, int binary_fd, const char *sha256,
		    const char *go_version, const char *module, bool *ret_created);
/* A file that goes into a new release with its binary (the unit copy, the manifest, the source
 * stamp): name is a plain file name, not "meta" nor the service's name. */
struct release_file {
	const char *name;
	const char *content;
	mode_t mode;
};
/* release_install() with files written into the release before it appears (one directory fsync
 * for all, instead of an atomic replace each afterwards). When the release existed already
 * (*ret_created false) the files were not written: the caller saves them as it would otherwise. */
int release_install_with(const struct release_store *s, const char *version, int binary_fd, const char *sha256,
			 const char *go_version, const char *module, const struct release_file *files,
			 size_t n_files, bool *ret_created);
/* Saves the unit text that goes with version (atomically). */
int release_save_unit(const struct release_store *s, const char *version, const char *unit_text);
/* Reads "current"/"previous" link targets as versions; *ret NULL (and 0) if the link is absent. */
int release_get_current(const struct release_store *s, char **ret);
int release_get_previous(const struct release_store *s, char **ret);
/* Points current at version atomically. The release must be complete (readable meta). When
 * current changes, deployed_usec of version is set to now and previous is recomputed. */
int release_set_current(const struct release_store *s, const char *version);
/* Sets one metadata key of a release (e.g. "ready_msec", "status", "deployed_usec"); the meta
 * file is rewritten atomically. Keys are [a-z0-9_]+; "version" and "sha256" cannot be changed and
 * numeric keys must hold numbers (-EINVAL); values must not contain a newline (-EINVAL). */
int release_set_meta(const struct release_store *s, const char *version, const char *key, const char *value);
/* The same for n keys at once, in one write. */
int release_set_meta_many(const struct release_store *s, const char *version, const char *const *keys,
			  const char *const *values, size_t n);
/* Records the verdict of a health gate (and watch): good sets status "ok", good_usec now and
 * ready_msec (if ≥ 0); bad sets status "failed". Then recomputes previous. */
int release_mark(const struct release_store *s, const char *version, bool good, int64_t ready_msec);
/* Points previous at the newest good release (status ok, by good_usec) other than current, or
 * removes it when there is none. Meta written by berth before good_usec existed counts its
 * deployed_usec instead. */
int release_update_previous(const struct release_store *s);
int release_load(const struct release_store *s, const char *version, struct release *ret);
/* Appends a systemd invocation ID (32 hex) to the release's "invocations" file (atomically;
 * the last 100 are kept), so that its logs can be found later. */
int release_add_invocation(const struct release_store *s, const char *version, const char *invocation_id);
/* The recorded invocation IDs of a release, oldest first (empty list if none). */
int release_get_invocations(const struct release_store *s, const char *version, char ***ret);
/* All releases, newest installed first (then by version, descending), with current/previous
 * set. A release whose meta cannot be read is listed with its version only (sha256 "",
 * installed_usec 0), so it is visible and pruned first. No service directory: 0 releases. */
int release_list(const struct release_store *s, struct release **ret, size_t *ret_n);
void release_release(struct release *r);
void release_list_free(struct release *r, size_t n);
/* Deletes releases beyond keep, never current or previous. Returns the number removed.
 * keep counts every release left, current and previous included (they take their slots first);
 * the other slots go to good releases (newest first), then to releases never judged, and only
 * then to failed ones: a failed release is never kept ahead of a good one. keep < 2 leaves just
 * current and previous. Also removes the leftovers of interrupted installs (releases/.tmp-*):
 * call it with the berth lock held. */
int release_prune(const struct release_store *s, unsigned keep);
/* Removes the whole service directory (berth remove --purge). */
int release_purge(const struct release_store *s);
