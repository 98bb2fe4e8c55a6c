/* fs.c - writing to disk safely: atomic replace, no symlink following, fsync'ed */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "macro.h"

/* Deeper trees than this are not ours (release dirs are two levels deep); refusing bounds the
 * number of open fds during a recursive removal. */
#define FS_REMOVE_MAX_DEPTH 64
/* Keeps ".#<base>.<16 hex>" within NAME_MAX; the base in a temp name is only a hint for humans. */
#define TEMP_BASE_MAX 200
#define READ_CHUNK (64 * 1024)

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000 /* Linux 5.8 */
#endif

/* Checks that path is absolute and made of plain names. */
static int path_validate(const char *path)
{
	if (!path || path[0] != '/')
		return -EINVAL;
	if (streq(path, "/"))
		return 0;
	for (const char *p = path + 1;;) {
		const char *e = strchrnul(p, '/');
		size_t l = (size_t)(e - p);
		if (l == 0 || (l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (l > NAME_MAX)
			return -ENAMETOOLONG;
		if (!*e)
			return 0;
		p = e + 1;
	}
}

/* Opens the directory path[0..len) one component at a time, never following a symlink. With
 * create, missing components are made with exactly mode. path must have been validated. */
static int walk_dirs(const char *path, size_t len, bool create, mode_t mode)
{
	_cleanup_close_ int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();

	size_t i = 1;
	while (i < len) {
		char name[NAME_MAX + 1];
		size_t e = i;
		while (e < len && path[e] != '/')
			e++;
		if (e - i > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, path + i, e - i);
		name[e - i] = 0;

		int nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			bool created = true;
			if (mkdirat(fd, name, mode) < 0) {
				if (errno != EEXIST)
					return negative_errno();
				created = false; /* lost a race: fine if it is a real directory */
			}
			/* O_NOFOLLOW again: the name may have been swapped for a symlink meanwhile */
			nfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd >= 0 && created) {
				if (fchmod(nfd, mode) < 0 || fsync(fd) < 0) {
					int r = negative_errno();
					(void)close(nfd);
					return r;
				}
			}
		}
		if (nfd < 0)
			return negative_errno();
		(void)close(fd);
		fd = nfd;
		i = e + 1;
	}
	return TAKE_FD(fd);
}

/* Opens the directory holding path (which must name something below "/") and points *ret_base
 * at the last component inside path. */
static int open_parent(const char *path, const char **ret_base)
{
	int r = path_validate(path);
	if (r < 0)
		return r;
	if (streq(path, "/"))
		return -EINVAL;

	const char *slash = strrchr(path, '/');
	int fd = walk_dirs(path, (size_t)(slash - path), false, 0);
	if (fd < 0)
		return fd;
	*ret_base = slash + 1;
	return fd;
}

/* Temp names need to be unique, not secret (O_EXCL does the rest), so a weak fallback is fine
 * when the entropy pool is not ready yet. */
static void random_hex(char hex[17])
{
	static uint64_t counter;
	uint64_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		struct timespec ts;
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16) ^
		    ++counter;
		/* splitmix64 finaliser, so consecutive values do not look alike */
		v ^= v >> 30;
		v *= UINT64_C(0xbf58476d1ce4e5b9);
		v ^= v >> 27;
		v *= UINT64_C(0x94d049bb133111eb);
		v ^= v >> 31;
	}
	(void)snprintf(hex, 17, "%016llx", (unsigned long long)v);
}

static int temp_name(const char *base, char **ret)
{
	char hex[17];
	random_hex(hex);
	char *n;
	if (asprintf(&n, ".#%.*s.%s", TEMP_BASE_MAX, base, hex) < 0)
		return -ENOMEM;
	*ret = n;
	return 0;
}

/* Creates a new empty temp file next to base in dfd. */
static int temp_open(int dfd, const char *base, char **ret_name)
{
	for (unsigned attempt = 0; attempt < 16; attempt++) {
		_cleanup_free_ char *name = NULL;
		int r = temp_name(base, &name);
		if (r < 0)
			return r;
		int fd = openat(dfd, name,
				O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd >= 0) {
			*ret_name = TAKE_PTR(name);
			return fd;
		}
		if (errno != EEXIST)
			return negative_errno();
	}
	return -EEXIST;
}

static int write_full(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Opens an existing regular file for reading; the last component is never followed, and a FIFO
 * or device is refused before it is opened (opening one may block or have side effects). */
static int open_regular_at(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return negative_errno();
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;

	_cleanup_close_ int fd =
		openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	/* again on the fd: the name may have been replaced between the two calls */
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return TAKE_FD(fd);
}

typedef int (*fill_fn)(int fd, void *userdata);

/* The common part of every atomic replace: temp file, fill, fchmod, fsync, rename, fsync dir
 * (both fsyncs left out when !sync). */
static int replace_atomic_sync(const char *path, mode_t mode, fill_fn fill, void *userdata, bool sync)
{
	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);
	if (dfd < 0)
		return dfd;

	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = temp_open(dfd, base, &tmp);
	if (fd < 0)
		return fd;

	int r = fill(fd, userdata);
	if (r >= 0 && fchmod(fd, mode) < 0)
		r = negative_errno();
	if (r >= 0 && sync && fsync(fd) < 0)
		r = negative_errno();
	if (r >= 0 && close(TAKE_FD(fd)) < 0)
		r = negative_errno();
	/* renameat replaces a symlink at base itself, it never writes through it */
	if (r >= 0 && renameat(dfd, tmp, dfd, base) < 0)
		r = negative_errno();
	if (r < 0) {
		(void)unlinkat(dfd, tmp, 0);
		return r;
	}
	if (sync && fsync(dfd) < 0)
		return negative_errno();
	return 0;
}

static int replace_atomic(const char *path, mode_t mode, fill_fn fill, void *userdata)
{
	return replace_atomic_sync(path, mode, fill, userdata, true);
}

struct buffer {
	const void *data;
	size_t len;
};

static int fill_buffer(int fd, void *userdata)
{
	const struct buffer *b = userdata;
	return write_full(fd, b->data, b->len);
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	if (!data && len > 0)
		return -EINVAL;
	struct buffer b = { .data = data, .len = len };
	return replace_atomic(path, mode, fill_buffer, &b);
}

int fs_write_atomic_unsynced(const char *path, const void *data, size_t len, mode_t mode)
{
	if (!data && len > 0)
		return -EINVAL;
	struct buffer b = { .data = data, .len = len };
	return replace_atomic_sync(path, mode, fill_buffer, &b, false);
}

int fs_write_new_at(int dir_fd, const char *name, const void *data, size_t len, mode_t mode)
{
	if (dir_fd < 0 || isempty(name) || strchr(name, '/') || streq(name, ".") || streq(name, "..") ||
	    (!data && len > 0))
		return -EINVAL;
	_cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return negative_errno();
	int r = write_full(fd, data, len);
	if (r >= 0 && fchmod(fd, mode) < 0)
		r = negative_errno();
	if (r >= 0 && fsync(fd) < 0)
		r = negative_errno();
	if (r >= 0 && close(TAKE_FD(fd)) < 0)
		r = negative_errno();
	if (r < 0)
		(void)unlinkat(dir_fd, name, 0);
	return r;
}

int fs_fsync_dir(const char *path)
{
	_cleanup_close_ int fd = fs_open_dir_nofollow(path);
	if (fd < 0)
		return fd;
	return fsync(fd) < 0 ? negative_errno() : 0;
}

static int copy_read_write(int in, int out)
{
	_cleanup_free_ char *buf = malloc(READ_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = read(in, buf, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return 0;
		int r = write_full(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

static int fill_copy(int fd, void *userdata)
{
	int in = *(const int *)userdata;
	bool copied = false;

	for (;;) {
		ssize_t n = copy_file_range(in, NULL, fd, NULL, 1U << 30, 0);
		if (n > 0) {
			copied = true;
			continue;
		}
		/* 0 on the first call may be a file whose size st_size does not tell (procfs-like):
		 * let read() decide. Both calls use the file offsets, so falling back is seamless. */
		if (n == 0)
			return copied ? 0 : copy_read_write(in, fd);
		if (errno == EINTR)
			continue;
		/* not supported for this pair of files (other fs on old kernels, special fs) */
		if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
		    errno == EBADF)
			return copy_read_write(in, fd);
		return negative_errno();
	}
}

int fs_copy_atomic(const char *src, const char *dst, mode_t mode)
{
	if (isempty(src))
		return -EINVAL;
	_cleanup_close_ int in = open_regular_at(AT_FDCWD, src);
	if (in < 0)
		return in;
	return replace_atomic(dst, mode, fill_copy, &in);
}

int fs_symlink_atomic(const char *target, const char *path)
{
	if (isempty(target))
		return -EINVAL;

	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);
	if (dfd < 0)
		return dfd;

	_cleanup_free_ char *tmp = NULL;
	for (unsigned attempt = 0;; attempt++) {
		int r = temp_name(base, &tmp);
		if (r < 0)
			return r;
		if (symlinkat(target, dfd, tmp) >= 0)
			break;
		if (errno != EEXIST || attempt >= 15)
			return negative_errno();
		free(tmp);
		tmp = NULL;
	}

	if (renameat(dfd, tmp, dfd, base) < 0) {
		int r = negative_errno();
		(void)unlinkat(dfd, tmp, 0);
		return r;
	}
	if (fsync(dfd) < 0)
		return negative_errno();
	return 0;
}

int fs_open_dir_nofollow(const char *path)
{
	int r = path_validate(path);
	if (r < 0)
		return r;
	return walk_dirs(path, strlen(path), false, 0);
}

int fs_mkdir_p_nofollow(const char *path, mode_t mode)
{
	int r = path_validate(path);
	if (r < 0)
		return r;
	int fd = walk_dirs(path, strlen(path), true, mode);
	if (fd < 0)
		return fd;
	(void)close(fd);
	return 0;
}

int fs_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);
	if (dfd < 0)
		return dfd;
	_cleanup_close_ int fd = open_regular_at(dfd, base);
	if (fd < 0)
		return fd;

	/* room for max bytes, one more to notice a larger file, and the NUL */
	if (max > SIZE_MAX / 2)
		max = SIZE_MAX / 2;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	size_t alloc = (size_t)st.st_size < max ? (size_t)st.st_size + 2 : max + 2;
	if (alloc < 64)
		alloc = max + 2 < 64 ? max + 2 : 64;

	_cleanup_free_ char *buf = malloc(alloc);
	if (!buf)
		return -ENOMEM;
	size_t len = 0;
	for (;;) {
		if (alloc - len < 2) {
			size_t n = alloc * 2 < max + 2 ? alloc * 2 : max + 2;
			char *nb = realloc(buf, n);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			alloc = n;
		}
		ssize_t n = read(fd, buf + len, alloc - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}
	buf[len] = 0;

	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int fs_readlink(const char *path, char **ret)
{
	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);
	if (dfd < 0)
		return dfd;

	for (size_t size = 256;; size *= 2) {
		_cleanup_free_ char *buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		ssize_t n = readlinkat(dfd, base, buf, size);
		if (n < 0)
			return negative_errno();
		if ((size_t)n < size) {
			buf[n] = 0;
			*ret = TAKE_PTR(buf);
			return 0;
		}
		if (size >= 64 * 1024)
			return -ENAMETOOLONG;
	}
}

/* A mount point (even a bind mount of the same file system) is never descended into. */
static bool is_mount_point_at(int dfd, const char *name, dev_t parent_dev)
{
	struct statx sx;
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &sx) < 0)
		return false; /* the caller's own checks report the error */
	if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return true;
	return makedev(sx.stx_dev_major, sx.stx_dev_minor) != parent_dev;
}

/* Empties the directory dfd; the first error is returned but everything else is still tried. */
static int remove_children(int dfd, dev_t dev, unsigned depth)
{
	if (depth >= FS_REMOVE_MAX_DEPTH)
		return -ELOOP;

	int dfd2 = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd2 < 0)
		return negative_errno();
	DIR *d = fdopendir(dfd2);
	if (!d) {
		int r = negative_errno();
		(void)close(dfd2);
		return r;
	}

	int r = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno != 0 && r == 0)
				r = negative_errno();
			break;
		}
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;

		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT && r == 0)
				r = negative_errno();
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			/* symlinks included: the link goes, whatever it points at stays */
			if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT && r == 0)
				r = negative_errno();
			continue;
		}

		if (is_mount_point_at(dfd, de->d_name, dev)) {
			if (r == 0)
				r = -EBUSY;
			continue;
		}
		int cfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			if (errno != ENOENT && r == 0)
				r = negative_errno();
			continue;
		}
		int k = remove_children(cfd, dev, depth + 1);
		(void)close(cfd);
		if (k < 0) {
			if (r == 0)
				r = k;
			continue;
		}
		if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
			r = negative_errno();
	}
	(void)closedir(d);
	return r;
}

int fs_remove(const char *path, bool recursive, bool missing_ok)
{
	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);
	if (dfd == -ENOENT && missing_ok)
		return 0;
	if (dfd < 0)
		return dfd;

	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return negative_errno();
	}

	int r = 0;
	if (S_ISDIR(st.st_mode)) {
		if (recursive) {
			struct stat pst;
			if (fstat(dfd, &pst) < 0)
				return negative_errno();
			if (is_mount_point_at(dfd, base, pst.st_dev))
				return -EBUSY;
			_cleanup_close_ int fd =
				openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &st) < 0)
				return negative_errno();
			r = remove_children(fd, st.st_dev, 0);
			if (r < 0)
				return r;
		}
		if (unlinkat(dfd, base, AT_REMOVEDIR) < 0)
			r = negative_errno();
	} else if (unlinkat(dfd, base, 0) < 0)
		r = negative_errno();

	if (r == -ENOENT && missing_ok)
		return 0;
	return r;
}

int fs_fsync_parent(const char *path)
{
	const char *base;
	_cleanup_close_ int dfd = open_parent(path, &base);
	if (dfd < 0)
		return dfd;
	if (fsync(dfd) < 0)
		return negative_errno();
	return 0;
}

int fs_mkdir_tmp(const char *dir, const char *prefix, mode_t mode, char **ret_path)
{
	if (!prefix || strchr(prefix, '/') || strlen(prefix) > TEMP_BASE_MAX)
		return -EINVAL;
	int r = path_validate(dir);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = walk_dirs(dir, strlen(dir), false, 0);
	if (dfd < 0)
		return dfd;

	for (unsigned attempt = 0; attempt < 16; attempt++) {
		char hex[17];
		random_hex(hex);
		_cleanup_free_ char *name = NULL;
		if (asprintf(&name, "%s%s", prefix, hex) < 0)
			return -ENOMEM;
		if (mkdirat(dfd, name, mode) < 0) {
			if (errno == EEXIST)
				continue;
			return negative_errno();
		}

		_cleanup_close_ int fd =
			openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, mode) < 0) {
			r = negative_errno();
			(void)unlinkat(dfd, name, AT_REMOVEDIR);
			return r;
		}

		char *p;
		if (asprintf(&p, "%s%s%s", dir, streq(dir, "/") ? "" : "/", name) < 0) {
			(void)unlinkat(dfd, name, AT_REMOVEDIR);
			return -ENOMEM;
		}
		*ret_path = p;
		return 0;
	}
	return -EEXIST;
}

int fs_rename_noreplace(const char *from, const char *to)
{
	const char *from_base, *to_base;
	_cleanup_close_ int from_dfd = open_parent(from, &from_base);
	if (from_dfd < 0)
		return from_dfd;
	_cleanup_close_ int to_dfd = open_parent(to, &to_base);
	if (to_dfd < 0)
		return to_dfd;

	if (renameat2(from_dfd, from_base, to_dfd, to_base, RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return negative_errno();
		/* no RENAME_NOREPLACE here: check, then rename; rename(2) itself still refuses to
		 * replace a non-empty directory */
		struct stat st;
		if (fstatat(to_dfd, to_base, &st, AT_SYMLINK_NOFOLLOW) >= 0)
			return -EEXIST;
		if (errno != ENOENT)
			return negative_errno();
		if (renameat(from_dfd, from_base, to_dfd, to_base) < 0)
			return negative_errno();
	}

	if (fsync(to_dfd) < 0)
		return negative_errno();
	struct stat a, b;
	if (fstat(from_dfd, &a) >= 0 && fstat(to_dfd, &b) >= 0 &&
	    (a.st_dev != b.st_dev || a.st_ino != b.st_ino) && fsync(from_dfd) < 0)
		return negative_errno();
	return 0;
}
