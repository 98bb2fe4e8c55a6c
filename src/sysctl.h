/* sysctl.h - kernel parameters: read and write them under /proc/sys directly, and change a set of
 * them together with the files that persist them, all or nothing (effects, no policy)
 *
 * berth never runs sysctl(8): a key "net.core.somaxconn" is the file /proc/sys/net/core/somaxconn.
 * The root is configurable so that unit tests work on a directory laid out like /proc/sys, never on
 * the host's; struct sysctl_root's kernel hook stands in for what the kernel does with a written
 * value (keep it, clamp it, refuse it), which a plain file cannot do.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define SYSCTL_ROOT "/proc/sys"
/* Largest value read back; /proc/sys values are far smaller. */
#define SYSCTL_VALUE_MAX (64 * 1024)

/* Test seam: given the value written, returns 0 and in *ret_stored what "the kernel" keeps (a clamp
 * returns another value), or -errno to refuse the write as the kernel would (-EINVAL). */
typedef int (*sysctl_kernel_fn)(const char *key, const char *value, char **ret_stored, void *userdata);

struct sysctl_root {
	const char *path;        /* absolute; NULL → SYSCTL_ROOT */
	sysctl_kernel_fn kernel; /* NULL: the value is written as given (the real kernel decides) */
	void *userdata;
};

/* "<root>/net/core/somaxconn" for "net.core.somaxconn". -EINVAL for a key that is not
 * dot-separated [A-Za-z0-9_-] components. */
int sysctl_path(const struct sysctl_root *r, const char *key, char **ret);
/* The value without its trailing newline. -ENOENT: no such key on this kernel; -EISDIR: a group of
 * keys, not a key. */
int sysctl_read(const struct sysctl_root *r, const char *key, char **ret);
/* Writes value (plus a newline) in one write(2). The kernel's -EINVAL means it refused the value.
 * Does not read back: see sysctl_commit(). */
int sysctl_write(const struct sysctl_root *r, const char *key, const char *value);
/* 0 if the key can be written by root here; -EACCES for a read-only key (no write bit), -EROFS
 * when /proc/sys is mounted read-only (containers), -EPERM (as root) when the file belongs to
 * another user namespace's root. Does not depend on the caller being root otherwise, so that a
 * dry run as a user gives the same answer. */
int sysctl_writable(const struct sysctl_root *r, const char *key);
/* Word by word: "32768\t60999" equals "32768 60999". */
bool sysctl_value_equal(const char *a, const char *b);

struct sysctl_change {
	const char *key;
	const char *value;
};

/* A file to put in place: content NULL removes it. */
struct sysctl_file {
	const char *path; /* absolute */
	const char *content;
	unsigned mode;
};

struct sysctl_failure {
	char *key;         /* the key that failed, or NULL */
	char *path;        /* the file that failed, or NULL */
	char *stored;      /* -ERANGE: what the kernel kept instead */
	int error;
	bool rollback_failed; /* some earlier change could not be undone */
};

void sysctl_failure_release(struct sysctl_failure *f);

/* Puts the pre files in place, writes every change (skipping those already at their value),
 * reading each back, then puts the post files in place. Files whose content is already the
 * wanted one are not touched. If anything fails, every value written and every file replaced is
 * put back as it was (in reverse order) and an error is returned, described in *ret_failure:
 * -ERANGE if the kernel kept another value than the one written (clamped), the write's -errno
 * (-EINVAL: the kernel refused the value), or a file's -errno. Returns the number of values and
 * files changed (0: nothing to do). Missing parent directories of files are created 0755. */
int sysctl_commit(const struct sysctl_root *r, const struct sysctl_file *pre, size_t n_pre,
		  const struct sysctl_change *changes, size_t n_changes, const struct sysctl_file *post, size_t n_post,
		  struct sysctl_failure *ret_failure);

/* Where berth runs, for net.* keys, which are per network namespace. */
struct sysctl_container {
	char *name;       /* container manager ("lxc", "docker", "systemd-nspawn"), NULL on a host */
	bool other_netns; /* not in the network namespace of PID 1 */
};

/* prefix: "" (tests: a directory holding run/systemd/container, proc/1/environ,
 * proc/self/ns/net, proc/1/ns/net). Unknown parts (e.g. no permission) count as "no". */
int sysctl_detect_container(const char *prefix, struct sysctl_container *ret);
void sysctl_container_release(struct sysctl_container *c);
