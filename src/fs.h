/* fs.h - writing to disk safely: atomic replace, no symlink following, fsync'ed
 *
 * Every write is: a temp file created O_EXCL|O_NOFOLLOW in the target's own directory, written,
 * fchmod'ed, fsync'ed, renamed over the target, then the directory fsync'ed. Directories are
 * opened component by component with O_NOFOLLOW|O_DIRECTORY from "/", so a symlink planted
 * anywhere on the path (e.g. /var/lib/berth/NAME -> /etc) makes the call fail with -ELOOP
 * (or -ENOTDIR) instead of writing through it. berth runs as root: this matters.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Opens an existing directory by absolute path without following any symlink on the way.
 * Returns an O_PATH-less O_RDONLY|O_DIRECTORY|O_CLOEXEC fd or -errno. */
int fs_open_dir_nofollow(const char *path);
/* mkdir -p with mode for the missing components (existing ones are kept as they are, but must be
 * real directories: a symlink component fails with -ELOOP/-ENOTDIR). The mode of a created
 * directory is exactly mode (fchmod'ed, the umask does not apply). Returns 0 or -errno. */
int fs_mkdir_p_nofollow(const char *path, mode_t mode);

/* Atomically replaces path (absolute) with data, mode applied before the rename; the parent
 * must exist. If path exists and is a symlink, it is replaced, never followed. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* The same rename, without either fsync: readers see the old or the new content, but after a
 * crash or power loss the file may hold either, or be empty. Only for information that may be
 * lost (berth's transaction step, txn.h), never for what a change depends on. */
int fs_write_atomic_unsynced(const char *path, const void *data, size_t len, mode_t mode);
/* Writes a NEW file name (O_EXCL, never a symlink) in the directory dir_fd with data and mode,
 * and fsyncs it; no rename, no directory fsync. For files inside a fresh private directory that
 * is fsynced (fs_fsync_dir) and then renamed into place as a whole (fs_rename_noreplace): one
 * directory fsync for all of them instead of one per file. */
int fs_write_new_at(int dir_fd, const char *name, const void *data, size_t len, mode_t mode);
/* fsync()s the directory path (absolute, no symlinks followed). */
int fs_fsync_dir(const char *path);
/* Atomically copies src (opened O_NOFOLLOW) to dst with mode; same guarantees as above.
 * src is user input and may be relative; only its last component is not followed. It must be a
 * regular file: -ELOOP for a symlink, -EISDIR for a directory, -EINVAL for anything else. */
int fs_copy_atomic(const char *src, const char *dst, mode_t mode);
/* Points path (absolute) at target by creating a temporary symlink next to it and renaming it
 * over path: readers see the old or the new target, never nothing. */
int fs_symlink_atomic(const char *target, const char *path);
/* Reads a whole regular file (O_NOFOLLOW) up to max bytes; NUL-terminated. -ENOENT if absent,
 * -EFBIG if larger than max, -EISDIR / -EINVAL if not a regular file. */
int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* readlink(2) into a new string; -EINVAL if not a symlink. */
int fs_readlink(const char *path, char **ret);
/* Removes path; with recursive, a whole tree, never following symlinks (unlinks them).
 * -ENOENT is returned as 0 when missing_ok. A recursive removal does not descend into another
 * mount (-EBUSY, the rest is still removed): a bind mount inside the tree is left alone. Trees
 * deeper than 64 levels are refused (-ELOOP): berth's own are a few levels deep. */
int fs_remove(const char *path, bool recursive, bool missing_ok);
/* fsync()s the directory holding path. */
int fs_fsync_parent(const char *path);

/* All functions above taking an absolute path return -EINVAL for a relative one or one with an
 * empty, "." or ".." component (so "a//b" and a trailing "/" are refused too). */

/* Creates a new directory "<dir>/<prefix><16 random hex digits>" with exactly mode (O_EXCL-like:
 * never an existing one) and returns its path. */
int fs_mkdir_tmp(const char *dir, const char *prefix, mode_t mode, char **ret_path);
/* Renames from to to (both absolute, any file type) unless to exists: -EEXIST then. Uses
 * RENAME_NOREPLACE; on a file system without it, falls back to a check followed by rename, which
 * still never replaces a non-empty directory. fsync()s the directories involved. */
int fs_rename_noreplace(const char *from, const char *to);
