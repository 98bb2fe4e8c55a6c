/* trust.h - may berth, running as root, take this file from the caller?
 *
 * Like sshd's StrictModes: a file berth acts on as root (a manifest, its directory, an environment
 * file, a service binary) must belong to root and must not be writable by group or others, and
 * neither may any directory above it, or another user could have changed what berth reads (or
 * swap it between berth's check and systemd's use). A directory with the sticky bit that belongs
 * to root (/tmp) is fine: nobody can rename or replace root's entries in it.
 */
#pragma once

struct trust_problem {
	char *path;    /* the file or directory at fault */
	char *problem; /* "is writable by group and others", "belongs to user deploy (uid 1000)" */
	char *fix;     /* "chmod go-w /srv/app", "chown root /srv/app" */
};

/* Checks path (absolute or relative; symlinks are resolved first, and each link must be root's
 * too) and every directory above it. Returns 0 if trusted, -EPERM with *ret filled if not, or
 * -errno (-ENOENT...). */
int trust_check_path(const char *path, struct trust_problem *ret);
void trust_problem_release(struct trust_problem *p);

/* Names that are the system's own directories under /var/lib, /var/cache or /var/log (journal,
 * apt, dpkg, systemd, private, berth...): the directory, or NULL if name is free of them. */
const char *trust_reserved_name(const char *name);
