/* services.h - the services berth manages on this host: directories under /var/lib/berth that
 * have a current release (or an unfinished transaction). Each release keeps the manifest it was
 * deployed with. Next to the releases, berth keeps two small records per service:
 *
 *   /var/lib/berth/NAME/origin       the absolute path of the manifest it was last deployed from
 *                                    (apply --prune removes a service only when that file is gone
 *                                    from the directory being applied)
 *   /var/lib/berth/NAME/owned-dirs   the state, cache and logs directories systemd creates for the
 *                                    service because berth asked for them, one path per line: the
 *                                    only ones `berth remove --purge` deletes
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "manifest.h"

/* Sorted names; an empty list if none. */
int services_list(char ***ret);
/* True if berth manages name (a current release exists). */
bool service_exists(const char *name);
/* The manifest of the current release (/var/lib/berth/NAME/current/manifest.ini). */
int service_load_manifest(const char *name, struct manifest **ret);

/* The release the process main_pid runs: its /proc/PID/exe is "/var/lib/berth/NAME/releases/V/NAME"
 * (also when that file was deleted since), or else the very file (same inode) of release V's
 * binary. *ret is V, or NULL when main_pid is 0 or the process runs something that is no release
 * of name. Returns 0 or -errno (-ESRCH: no such process). */
int service_running_release(const char *name, uint32_t main_pid, char **ret);

/* The directories systemd creates for the service's StateDirectory=, CacheDirectory= and
 * LogsDirectory= (and their DynamicUser private/ twins), NULL-terminated. */
int service_state_dirs(const char *name, char ***ret);
/* Which of those exist on this host right now. */
int service_existing_state_dirs(const char *name, char ***ret);
/* owned-dirs: *ret NULL (and 0) when the service has no record. */
int service_owned_dirs_read(const char *name, char ***ret);
int service_owned_dirs_write(const char *name, char *const *dirs);
/* origin: *ret NULL (and 0) when there is none. */
int service_origin_read(const char *name, char **ret);
int service_origin_write(const char *name, const char *manifest_path);
