/* trust.c - may berth, running as root, take this file from the caller? (see trust.h) */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "trust.h"

static int problem(struct trust_problem *ret, const char *path, const struct stat *st)
{
	char what[128], fix[PATH_MAX + 32];

	if (st->st_uid != 0) {
		struct passwd *pw = getpwuid(st->st_uid);
		if (pw)
			snprintf(what, sizeof(what), "belongs to user %s (uid %u)", pw->pw_name, (unsigned)st->st_uid);
		else
			snprintf(what, sizeof(what), "belongs to uid %u", (unsigned)st->st_uid);
		snprintf(fix, sizeof(fix), "chown root %s", path);
	} else {
		bool g = st->st_mode & S_IWGRP, o = st->st_mode & S_IWOTH;
		snprintf(what, sizeof(what), "is writable by %s", g && o ? "group and others" : g ? "group" : "others");
		snprintf(fix, sizeof(fix), "chmod go-w %s", path);
	}
	ret->path = strdup(path);
	ret->problem = strdup(what);
	ret->fix = strdup(fix);
	if (!ret->path || !ret->problem || !ret->fix) {
		trust_problem_release(ret);
		return -ENOMEM;
	}
	return -EPERM;
}

static bool trusted(const struct stat *st)
{
	if (st->st_uid != 0)
		return false;
	if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
		return true;
	/* a root sticky directory (/tmp): others can add entries, not touch root's */
	return S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
}

int trust_check_path(const char *path, struct trust_problem *ret)
{
	struct stat st;

	*ret = (struct trust_problem){ 0 };
	if (isempty(path))
		return -EINVAL;
	/* a symlink the caller named must itself be root's (lstat), then what it points to */
	if (lstat(path, &st) < 0)
		return negative_errno();
	if (S_ISLNK(st.st_mode) && st.st_uid != 0)
		return problem(ret, path, &st);

	_cleanup_free_ char *real = realpath(path, NULL);
	if (!real)
		return negative_errno();
	if (stat(real, &st) < 0)
		return negative_errno();
	if (!trusted(&st))
		return problem(ret, real, &st);
	/* every directory above, up to / */
	for (char *slash = strrchr(real, '/'); slash; slash = strrchr(real, '/')) {
		if (slash == real) {
			if (stat("/", &st) < 0)
				return negative_errno();
			return trusted(&st) ? 0 : problem(ret, "/", &st);
		}
		*slash = 0;
		if (stat(real, &st) < 0)
			return negative_errno();
		if (!trusted(&st))
			return problem(ret, real, &st);
	}
	return 0;
}

void trust_problem_release(struct trust_problem *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->problem);
	free(p->fix);
	*p = (struct trust_problem){ 0 };
}

const char *trust_reserved_name(const char *name)
{
	/* systemd, Debian's base system and berth itself keep state under these names */
	static const struct {
		const char *name, *dir;
	} reserved[] = {
		{ "berth", "/var/lib/berth" },     { "private", "/var/lib/private" },
		{ "systemd", "/var/lib/systemd" }, { "journal", "/var/log/journal" },
		{ "apt", "/var/lib/apt" },         { "dpkg", "/var/lib/dpkg" },
		{ "dbus", "/var/lib/dbus" },       { "polkit-1", "/var/lib/polkit-1" },
		{ "ucf", "/var/lib/ucf" },         { "misc", "/var/lib/misc" },
		{ "pam", "/var/lib/pam" },         { "sudo", "/var/lib/sudo" },
		{ "cloud", "/var/lib/cloud" },     { "machines", "/var/lib/machines" },
		{ "portables", "/var/lib/portables" }, { "installer", "/var/log/installer" },
		{ "lastlog", "/var/log/lastlog" }, { "man", "/var/cache/man" },
		{ "debconf", "/var/cache/debconf" }, { "ldconfig", "/var/cache/ldconfig" },
		{ "containers", "/var/lib/containers" }, { "docker", "/var/lib/docker" },
	};
	for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
		if (streq(name, reserved[i].name))
			return reserved[i].dir;
	return NULL;
}
