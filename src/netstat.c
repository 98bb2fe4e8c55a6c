/* netstat.c - the kernel's listen-queue counters and net.core.somaxconn, with deltas */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "macro.h"
#include "netstat.h"
#include "size.h"
#include "sysctl.h"

/* --- pure ----------------------------------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The line starting at p: its end (the '\n' or the NUL). */
static const char *line_end(const char *p)
{
	return strchrnul(p, '\n');
}

/* If [p, end) starts with "<prefix>:", returns what follows the colon, else NULL. */
static const char *line_prefixed(const char *p, const char *end, const char *prefix, size_t prefix_len)
{
	if ((size_t)(end - p) <= prefix_len || memcmp(p, prefix, prefix_len) != 0 || p[prefix_len] != ':')
		return NULL;
	return p + prefix_len + 1;
}

/* The next word of [*p, end): sets *ret_len and returns its start, or NULL at the end. */
static const char *next_word(const char **p, const char *end, size_t *ret_len)
{
	const char *s = *p, *e;

	while (s < end && is_blank(*s))
		s++;
	if (s >= end)
		return NULL;
	for (e = s; e < end && !is_blank(*e); e++)
		;
	*p = e;
	*ret_len = (size_t)(e - s);
	return s;
}

static int parse_u64_word(const char *w, size_t len, uint64_t *ret)
{
	char buf[24];

	if (len == 0 || len >= sizeof(buf))
		return -EBADMSG;
	memcpy(buf, w, len);
	buf[len] = 0;
	if (parse_uint_range(buf, 0, UINT64_MAX, ret) < 0)
		return -EBADMSG;
	return 0;
}

int netstat_find(const char *text, const char *prefix, const char *name, uint64_t *ret)
{
	size_t prefix_len, name_len;

	if (!text || !prefix || !name || !ret)
		return -EINVAL;
	prefix_len = strlen(prefix);
	name_len = strlen(name);
	if (prefix_len == 0 || name_len == 0 || strpbrk(prefix, ": \t\n") || strpbrk(name, " \t\n"))
		return -EINVAL;

	for (const char *p = text; *p;) {
		const char *end = line_end(p), *hdr, *vals, *vend;
		bool found = false;
		uint64_t v = 0;

		hdr = line_prefixed(p, end, prefix, prefix_len);
		if (!hdr) {
			p = *end ? end + 1 : end;
			continue;
		}

		/* A header: the next line must be its values, word for word. */
		if (!*end)
			return -EBADMSG;
		vend = line_end(end + 1);
		vals = line_prefixed(end + 1, vend, prefix, prefix_len);
		if (!vals)
			return -EBADMSG;

		for (;;) {
			const char *hw, *vw;
			size_t hl = 0, vl = 0;

			hw = next_word(&hdr, end, &hl);
			vw = next_word(&vals, vend, &vl);
			if (!hw && !vw)
				break;
			if (!hw || !vw)
				return -EBADMSG; /* not as many values as names */
			if (!found && hl == name_len && memcmp(hw, name, hl) == 0) {
				int r = parse_u64_word(vw, vl, &v);
				if (r < 0)
					return r;
				found = true;
			}
		}
		if (found) {
			*ret = v;
			return 0;
		}
		p = *vend ? vend + 1 : vend;
	}
	return -ENOENT;
}

int netstat_parse(const char *text, struct netstat_counters *ret)
{
	struct netstat_counters c;
	int r;

	if (!ret)
		return -EINVAL;
	r = netstat_find(text, "TcpExt", "ListenOverflows", &c.listen_overflows);
	if (r < 0)
		return r;
	r = netstat_find(text, "TcpExt", "ListenDrops", &c.listen_drops);
	if (r < 0)
		return r;
	*ret = c;
	return 0;
}

int netstat_sample_format(const struct netstat_sample *s, char **ret)
{
	char *t;

	if (!s || !ret)
		return -EINVAL;
	if (asprintf(&t,
		     "# berth net: the kernel's listen counters at the previous call\n"
		     "netns %" PRIu64 "\n"
		     "time_usec %" PRIu64 "\n"
		     "listen_overflows %" PRIu64 "\n"
		     "listen_drops %" PRIu64 "\n",
		     s->netns, s->time_usec, s->counters.listen_overflows, s->counters.listen_drops) < 0)
		return -ENOMEM;
	*ret = t;
	return 0;
}

int netstat_sample_parse(const char *text, struct netstat_sample *ret)
{
	static const char *const keys[] = { "netns", "time_usec", "listen_overflows", "listen_drops" };
	uint64_t values[ELEMENTSOF(keys)] = {};
	unsigned seen = 0;

	if (!text || !ret)
		return -EINVAL;

	for (const char *p = text; *p;) {
		const char *end = line_end(p), *q = p, *k, *v;
		size_t kl = 0, vl = 0;

		k = next_word(&q, end, &kl);
		if (k && *k != '#') {
			v = next_word(&q, end, &vl);
			if (!v)
				return -EBADMSG;
			if (next_word(&q, end, &vl))
				return -EBADMSG; /* "key value junk" */
			for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
				if (strlen(keys[i]) != kl || memcmp(keys[i], k, kl) != 0)
					continue;
				if (seen & (1u << i))
					return -EBADMSG;
				vl = (size_t)(q - v);
				if (parse_u64_word(v, vl, &values[i]) < 0)
					return -EBADMSG;
				seen |= 1u << i;
			}
		}
		p = *end ? end + 1 : end;
	}
	if (seen != (1u << ELEMENTSOF(keys)) - 1)
		return -EBADMSG;

	*ret = (struct netstat_sample){
		.netns = values[0],
		.time_usec = values[1],
		.counters = { .listen_overflows = values[2], .listen_drops = values[3] },
	};
	return 0;
}

int netstat_delta(const struct netstat_sample *prev, const struct netstat_sample *now,
		  struct netstat_delta *ret)
{
	if (!prev || !now || !ret)
		return -EINVAL;
	if (prev->netns != now->netns || now->time_usec < prev->time_usec ||
	    now->counters.listen_overflows < prev->counters.listen_overflows ||
	    now->counters.listen_drops < prev->counters.listen_drops)
		return -ESTALE;

	*ret = (struct netstat_delta){
		.added = {
			.listen_overflows = now->counters.listen_overflows - prev->counters.listen_overflows,
			.listen_drops = now->counters.listen_drops - prev->counters.listen_drops,
		},
		.interval_usec = now->time_usec - prev->time_usec,
	};
	return 0;
}

/* --- effects -------------------------------------------------------------------------------- */

/* A /proc file: its size reads as 0, so read until EOF. Not fs_read_file(): /proc/net is a
 * symlink (to self/net), which that one refuses on purpose. */
static int read_proc_text(const char *path, char **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, alloc = 8192;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	buf = malloc(alloc);
	if (!buf)
		return -ENOMEM;

	for (;;) {
		ssize_t n;

		if (alloc - len < 2) {
			char *nb;

			if (alloc >= NETSTAT_TEXT_MAX)
				return -EFBIG;
			alloc *= 2;
			nb = realloc(buf, alloc);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, alloc - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	if (memchr(buf, 0, len))
		return -EBADMSG;
	*ret = TAKE_PTR(buf);
	return 0;
}

int netstat_read(const char *path, struct netstat_counters *ret)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (!ret)
		return -EINVAL;
	r = read_proc_text(path ? path : NETSTAT_PROC_PATH, &text);
	if (r < 0)
		return r;
	return netstat_parse(text, ret);
}

int netstat_sample_now(struct netstat_sample *ret)
{
	struct netstat_sample s = {};
	struct timespec ts;
	struct stat st;
	int r;

	if (!ret)
		return -EINVAL;
	r = netstat_read(NULL, &s.counters);
	if (r < 0)
		return r;
	if (stat("/proc/self/ns/net", &st) >= 0)
		s.netns = (uint64_t)st.st_ino;
	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return negative_errno();
	s.time_usec = (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
	*ret = s;
	return 0;
}

int netstat_read_somaxconn(uint32_t *ret)
{
	_cleanup_free_ char *v = NULL;
	uint64_t n;
	int r;

	if (!ret)
		return -EINVAL;
	r = sysctl_read(NULL, "net.core.somaxconn", &v);
	if (r < 0)
		return r;
	r = parse_uint_range(v, 0, UINT32_MAX, &n);
	if (r < 0)
		return -EBADMSG;
	*ret = (uint32_t)n;
	return 0;
}

int netstat_somaxconn_visible(pid_t pid)
{
	char path[80];
	struct stat st;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/root/proc/sys/net/core/somaxconn", (int)pid);
	if (stat(path, &st) >= 0)
		return 1;
	if (errno != ENOENT)
		return negative_errno();
	/* ENOENT: hidden from it, unless the process itself is gone */
	snprintf(path, sizeof(path), "/proc/%d/root/", (int)pid);
	if (stat(path, &st) < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	return 0;
}

int netstat_load(const char *path, struct netstat_sample *ret)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (!ret)
		return -EINVAL;
	r = fs_read_file(path ? path : NETSTAT_LAST_PATH, NETSTAT_SAMPLE_MAX, &text, NULL);
	if (r == -EFBIG)
		return -EBADMSG;
	if (r < 0)
		return r;
	return netstat_sample_parse(text, ret);
}

int netstat_save(const char *path, const struct netstat_sample *s)
{
	_cleanup_free_ char *text = NULL, *dir = NULL;
	char *slash;
	int r;

	if (!s)
		return -EINVAL;
	if (!path)
		path = NETSTAT_LAST_PATH;
	if (path[0] != '/')
		return -EINVAL;

	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash != dir) {
		*slash = 0;
		r = fs_mkdir_p_nofollow(dir, 0755);
		if (r < 0)
			return r;
	}

	r = netstat_sample_format(s, &text);
	if (r < 0)
		return r;
	return fs_write_atomic(path, text, strlen(text), 0644);
}
