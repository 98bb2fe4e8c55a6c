/* unit.h - rendering a manifest into the unit file and drop-ins berth installs (pure)
 *
 * The output is the exact text that goes to disk; `berth render` prints it, deploy writes it.
 * Rendering does not fail for a validated manifest except on ENOMEM, or -EINVAL if a value
 * slipped past validation and cannot be escaped (defence in depth: nothing unsafe is written).
 */
#pragma once

#include <stddef.h>

#include "elf.h"
#include "manifest.h"

#define BERTH_STATE_ROOT "/var/lib/berth"
#define BERTH_UNIT_DIR "/etc/systemd/system"
#define BERTH_UNIT_MARKER "# Managed by berth"

struct unit_context {
	const char *berth_path;         /* absolute path of the berth binary, for ExecStartPost */
	const char *state_root;         /* BERTH_STATE_ROOT unless testing */
	const char *unit_dir;           /* BERTH_UNIT_DIR unless testing */
	const struct elf_info *binary;  /* inspected release binary, or NULL if unknown */
	unsigned host_cpus;             /* online CPUs, for GOMAXPROCS=auto (0 = unknown) */
};

struct rendered_file {
	char *path;    /* absolute path where it is installed */
	char *content; /* full text */
};

struct rendered_unit {
	struct rendered_file *files; /* files[0] is the unit itself, then drop-ins */
	size_t n_files;
};

/* "NAME.service" */
char *unit_name_for(const char *service_name);
/* "/var/lib/berth/NAME/current/NAME": ExecStart points at the current link, so a new release of
 * the binary alone needs no daemon-reload */
char *unit_exec_path(const struct unit_context *ctx, const char *service_name);

/* The HOME and XDG base directory variables berth gives the service ("HOME=/var/lib/NAME",
 * "XDG_CACHE_HOME=/var/cache/NAME", ...: its StateDirectory= and CacheDirectory=, which exist
 * whatever the user), leaving out those that [environment] sets. Many programs need HOME (Go's
 * os.UserHomeDir(), os.UserConfigDir()) and systemd sets none with DynamicUser=yes. */
int unit_home_environment(const struct manifest *m, char ***ret);

int unit_render(const struct manifest *m, const struct unit_context *ctx, struct rendered_unit *ret);
void rendered_unit_release(struct rendered_unit *r);
