/* lock.c - the host-wide lock: two berth processes never interleave changes */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "lock.h"
#include "macro.h"

#define LOCK_RETRY_USEC (50 * USEC_PER_MSEC)

static usec_t now_usec(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

static void sleep_usec(usec_t u)
{
	struct timespec ts = { .tv_sec = (time_t)(u / USEC_PER_SEC),
			       .tv_nsec = (long)(u % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The PID the holder wrote; 0 if it has not written it yet or the content is not a PID. */
static pid_t read_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;

	unsigned long long v = 0;
	char *p = buf;
	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > (unsigned long long)INT32_MAX)
			return 0;
	}
	if (*p != '\n' && *p != 0)
		return 0;
	return (pid_t)v;
}

static int write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0)
		return negative_errno();
	ssize_t w = pwrite(fd, buf, (size_t)n, 0);
	if (w < 0)
		return negative_errno();
	if (w != n)
		return -EIO;
	return 0;
}

int lock_acquire(const char *path, usec_t timeout, pid_t *ret_holder)
{
	if (!path || path[0] != '/')
		return -EINVAL;
	const char *slash = strrchr(path, '/');
	if (!slash[1] || streq(slash + 1, ".") || streq(slash + 1, ".."))
		return -EINVAL;

	_cleanup_free_ char *parent =
		slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	if (!parent)
		return -ENOMEM;
	int r = fs_mkdir_p_nofollow(parent, 0755);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = fs_open_dir_nofollow(parent);
	if (dfd < 0)
		return dfd;

	_cleanup_close_ int fd =
		openat(dfd, slash + 1, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
	if (fd < 0)
		return negative_errno();
	struct stat st;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EINVAL;

	usec_t deadline = timeout == USEC_INFINITY ? USEC_INFINITY : now_usec() + timeout;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return negative_errno();

		usec_t n = now_usec();
		if (n >= deadline) {
			if (ret_holder)
				*ret_holder = read_holder(fd);
			return -ETIMEDOUT;
		}
		sleep_usec(deadline - n < LOCK_RETRY_USEC ? deadline - n : LOCK_RETRY_USEC);
	}

	r = write_pid(fd);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}
