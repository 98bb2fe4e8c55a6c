/* cgroup.c - reading back what the kernel enforces (libcgroup), the nofile ceiling, and the
 * persisted-limits drop-in of `berth limit` */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <libcgroup.h>
#include <linux/magic.h>

#include "cgroup.h"
#include "macro.h"
#include "size.h"
#include "strv.h"
#include "unit.h"

/* ---- pure parsers --------------------------------------------------------------------------- */

/* Digits only, whole string up to end (exclusive). */
static int parse_digits(const char *s, const char *end, uint64_t *ret)
{
	uint64_t v = 0;

	if (s == end)
		return -EINVAL;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

/* The end of s without one trailing newline. */
static const char *value_end(const char *s)
{
	size_t n = strlen(s);
	if (n > 0 && s[n - 1] == '\n')
		n--;
	return s + n;
}

int cgroup_parse_value(const char *s, uint64_t *ret)
{
	if (!s || !ret)
		return -EINVAL;
	const char *end = value_end(s);
	if (end - s == 3 && strncmp(s, "max", 3) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	return parse_digits(s, end, ret);
}

/* v1 counters are page counts internally: "unlimited" reads back as PAGE_COUNTER_MAX pages,
 * i.e. LONG_MAX rounded down to the page size. Anything that close to 2^63 is no limit. */
#define V1_UNLIMITED_FLOOR ((uint64_t)INT64_MAX - ((UINT64_C(1) << 20) - 1))

int cgroup_parse_v1_value(const char *s, uint64_t *ret)
{
	uint64_t v;
	int r;

	if (!s || !ret)
		return -EINVAL;
	const char *end = value_end(s);
	if (end - s == 2 && strncmp(s, "-1", 2) == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	r = parse_digits(s, end, &v);
	if (r < 0)
		return r;
	*ret = v >= V1_UNLIMITED_FLOOR ? UINT64_MAX : v;
	return 0;
}

int cgroup_parse_cpu_max(const char *s, uint64_t *ret_quota, uint64_t *ret_period)
{
	uint64_t quota, period;
	int r;

	if (!s || !ret_quota || !ret_period)
		return -EINVAL;
	const char *end = value_end(s);
	const char *sp = memchr(s, ' ', (size_t)(end - s));
	if (!sp)
		return -EINVAL;
	if (sp - s == 3 && strncmp(s, "max", 3) == 0)
		quota = UINT64_MAX;
	else if ((r = parse_digits(s, sp, &quota)) < 0)
		return r;
	r = parse_digits(sp + 1, end, &period);
	if (r < 0)
		return r;
	if (period == 0)
		return -EINVAL;
	*ret_quota = quota;
	*ret_period = period;
	return 0;
}

int cgroup_parse_keyed(const char *text, const char *key, uint64_t *ret)
{
	size_t klen;

	if (!text || !key || !ret || !*key)
		return -EINVAL;
	klen = strlen(key);
	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		const char *end = eol ? eol : line + strlen(line);
		if ((size_t)(end - line) > klen && strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return parse_digits(line + klen + 1, end, ret);
		if (!eol)
			break;
		line = eol + 1;
	}
	return -ENOENT;
}

/* ---- version ------------------------------------------------------------------------------- */

int cgroup_version_from_fs_type(uint64_t f_type, enum cgroup_version *ret)
{
	if (f_type == CGROUP2_SUPER_MAGIC)
		*ret = BERTH_CGROUP_V2;
	else if (f_type == TMPFS_MAGIC)
		*ret = BERTH_CGROUP_V1;
	else
		return -ENOMEDIUM;
	return 0;
}

int cgroup_layout_from_fs_types(uint64_t root_type, uint64_t unified_type, enum cgroup_layout *ret)
{
	enum cgroup_version v;
	int r = cgroup_version_from_fs_type(root_type, &v);

	if (r < 0)
		return r;
	if (v == BERTH_CGROUP_V2)
		*ret = CGROUP_LAYOUT_UNIFIED;
	else
		*ret = unified_type == CGROUP2_SUPER_MAGIC ? CGROUP_LAYOUT_HYBRID : CGROUP_LAYOUT_LEGACY;
	return 0;
}

/* What the kernel says: statfs of /sys/fs/cgroup and, for the hybrid layout, of its unified/. */
static int layout_from_statfs(enum cgroup_layout *ret)
{
	struct statfs fs, unified;

	if (statfs(CGROUP_ROOT, &fs) < 0)
		return negative_errno();
	if (statfs(CGROUP_UNIFIED_ROOT, &unified) < 0)
		unified.f_type = 0;
	return cgroup_layout_from_fs_types((uint64_t)fs.f_type, (uint64_t)unified.f_type, ret);
}

static int cg_init(void);
static const char *relative_path(const char *path);

int cgroup_detect_layout(enum cgroup_layout *ret)
{
#ifdef HAVE_CGROUP_SETUP_MODE
	/* libcgroup >= 3.0 answers from the mount table it loaded; 2.0 has no such query */
	if (cg_init() >= 0)
		switch (cgroup_setup_mode()) {
		case CGROUP_MODE_UNIFIED:
			*ret = CGROUP_LAYOUT_UNIFIED;
			return 0;
		case CGROUP_MODE_HYBRID:
			*ret = CGROUP_LAYOUT_HYBRID;
			return 0;
		case CGROUP_MODE_LEGACY:
			*ret = CGROUP_LAYOUT_LEGACY;
			return 0;
		default:
			break;
		}
#endif
	return layout_from_statfs(ret);
}

int cgroup_detect_version(enum cgroup_version *ret)
{
	enum cgroup_layout layout;
	int r = cgroup_detect_layout(&layout);

	if (r < 0)
		return r;
	*ret = layout == CGROUP_LAYOUT_UNIFIED ? BERTH_CGROUP_V2 : BERTH_CGROUP_V1;
	return 0;
}

const char *cgroup_v2_mount(enum cgroup_layout layout)
{
	switch (layout) {
	case CGROUP_LAYOUT_UNIFIED:
		return CGROUP_ROOT;
	case CGROUP_LAYOUT_HYBRID:
		return CGROUP_UNIFIED_ROOT;
	default:
		return NULL;
	}
}

int cgroup_get_id(const char *control_group, uint64_t *ret)
{
	_cleanup_free_ char *path = NULL;
	enum cgroup_layout layout;
	const char *mount, *rel;
	struct stat st;
	int r;

	if (isempty(control_group) || !ret)
		return -EINVAL;
	/* "/" is the root group itself; anything else must be a clean relative path */
	rel = control_group[strspn(control_group, "/")] ? relative_path(control_group) : "";
	if (!rel)
		return -EINVAL;
	/* the socket's cgroup id is always the cgroup2 one, whatever libcgroup calls the layout */
	r = layout_from_statfs(&layout);
	if (r < 0)
		return r;
	mount = cgroup_v2_mount(layout);
	if (!mount)
		return -ENOMEDIUM;
	if (asprintf(&path, "%s%s%s", mount, *rel ? "/" : "", rel) < 0)
		return -ENOMEM;
	if (stat(path, &st) < 0)
		return negative_errno();
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*ret = (uint64_t)st.st_ino;
	return 0;
}

/* ---- the names, one table per version -------------------------------------------------------- */

enum cg_kind {
	CG_VALUE,      /* a number or "max" */
	CG_V1_VALUE,   /* a number, -1 or v1's "unlimited" */
	CG_V1_MEMSW,   /* v1 memory+swap limit: swap_max is derived from it after the loop */
	CG_NSEC,       /* nanoseconds → µs */
	CG_KEYED,      /* "key value" lines */
	CG_KEYED_NSEC, /* idem, nanoseconds → µs */
	CG_CPU_QUOTA,  /* v2 cpu.max, first word */
	CG_CPU_PERIOD, /* v2 cpu.max, second word */
};

struct cg_name {
	unsigned field;
	size_t offset; /* of the uint64_t in struct cgroup_usage */
	const char *controller;
	const char *file;
	const char *key;
	enum cg_kind kind;
};

#define U(f) offsetof(struct cgroup_usage, f)

static const struct cg_name names_v2[] = {
	{ CGROUP_FIELD_MEMORY_CURRENT, U(memory_current), "memory", "memory.current", NULL, CG_VALUE },
	{ CGROUP_FIELD_MEMORY_MAX, U(memory_max), "memory", "memory.max", NULL, CG_VALUE },
	{ CGROUP_FIELD_MEMORY_HIGH, U(memory_high), "memory", "memory.high", NULL, CG_VALUE },
	{ CGROUP_FIELD_MEMORY_PEAK, U(memory_peak), "memory", "memory.peak", NULL, CG_VALUE },
	{ CGROUP_FIELD_SWAP_MAX, U(swap_max), "memory", "memory.swap.max", NULL, CG_VALUE },
	{ CGROUP_FIELD_OOM_KILLS, U(oom_kills), "memory", "memory.events", "oom_kill", CG_KEYED },
	{ CGROUP_FIELD_CPU_USAGE, U(cpu_usage_usec), "cpu", "cpu.stat", "usage_usec", CG_KEYED },
	{ CGROUP_FIELD_NR_PERIODS, U(nr_periods), "cpu", "cpu.stat", "nr_periods", CG_KEYED },
	{ CGROUP_FIELD_NR_THROTTLED, U(nr_throttled), "cpu", "cpu.stat", "nr_throttled", CG_KEYED },
	{ CGROUP_FIELD_THROTTLED, U(throttled_usec), "cpu", "cpu.stat", "throttled_usec", CG_KEYED },
	{ CGROUP_FIELD_CPU_QUOTA, U(cpu_quota_usec), "cpu", "cpu.max", NULL, CG_CPU_QUOTA },
	{ CGROUP_FIELD_CPU_PERIOD, U(cpu_period_usec), "cpu", "cpu.max", NULL, CG_CPU_PERIOD },
	{ CGROUP_FIELD_TASKS_CURRENT, U(tasks_current), "pids", "pids.current", NULL, CG_VALUE },
	{ CGROUP_FIELD_TASKS_MAX, U(tasks_max), "pids", "pids.max", NULL, CG_VALUE },
};

/* v1 has no memory.high (soft_limit_in_bytes is something else) */
static const struct cg_name names_v1[] = {
	{ CGROUP_FIELD_MEMORY_CURRENT, U(memory_current), "memory", "memory.usage_in_bytes", NULL, CG_VALUE },
	{ CGROUP_FIELD_MEMORY_MAX, U(memory_max), "memory", "memory.limit_in_bytes", NULL, CG_V1_VALUE },
	{ CGROUP_FIELD_MEMORY_PEAK, U(memory_peak), "memory", "memory.max_usage_in_bytes", NULL, CG_VALUE },
	{ CGROUP_FIELD_SWAP_MAX, U(swap_max), "memory", "memory.memsw.limit_in_bytes", NULL, CG_V1_MEMSW },
	{ CGROUP_FIELD_OOM_KILLS, U(oom_kills), "memory", "memory.oom_control", "oom_kill", CG_KEYED },
	{ CGROUP_FIELD_CPU_USAGE, U(cpu_usage_usec), "cpuacct", "cpuacct.usage", NULL, CG_NSEC },
	{ CGROUP_FIELD_NR_PERIODS, U(nr_periods), "cpu", "cpu.stat", "nr_periods", CG_KEYED },
	{ CGROUP_FIELD_NR_THROTTLED, U(nr_throttled), "cpu", "cpu.stat", "nr_throttled", CG_KEYED },
	{ CGROUP_FIELD_THROTTLED, U(throttled_usec), "cpu", "cpu.stat", "throttled_time", CG_KEYED_NSEC },
	{ CGROUP_FIELD_CPU_QUOTA, U(cpu_quota_usec), "cpu", "cpu.cfs_quota_us", NULL, CG_V1_VALUE },
	{ CGROUP_FIELD_CPU_PERIOD, U(cpu_period_usec), "cpu", "cpu.cfs_period_us", NULL, CG_VALUE },
	{ CGROUP_FIELD_TASKS_CURRENT, U(tasks_current), "pids", "pids.current", NULL, CG_VALUE },
	{ CGROUP_FIELD_TASKS_MAX, U(tasks_max), "pids", "pids.max", NULL, CG_VALUE },
};

static const char *const field_names[CGROUP_FIELD_COUNT] = {
	"memory_current", "memory_max", "memory_high", "memory_peak", "swap_max", "oom_kills", "cpu_usage_usec",
	"nr_periods", "nr_throttled", "throttled_usec", "cpu_quota_usec", "cpu_period_usec", "tasks_current",
	"tasks_max",
};

static const struct cg_name *names_for(enum cgroup_version v, size_t *ret_n)
{
	if (v == BERTH_CGROUP_V2) {
		*ret_n = ELEMENTSOF(names_v2);
		return names_v2;
	}
	*ret_n = ELEMENTSOF(names_v1);
	return names_v1;
}

const char *cgroup_field_name(enum cgroup_field field)
{
	for (unsigned i = 0; i < CGROUP_FIELD_COUNT; i++)
		if ((unsigned)field == 1u << i)
			return field_names[i];
	return NULL;
}

const char *cgroup_field_file(enum cgroup_field field, enum cgroup_version version, const char **ret_key)
{
	size_t n;
	const struct cg_name *t = names_for(version, &n);

	for (size_t i = 0; i < n; i++)
		if (t[i].field == (unsigned)field) {
			if (ret_key)
				*ret_key = t[i].key;
			return t[i].file;
		}
	return NULL;
}

/* ---- read-back ------------------------------------------------------------------------------ */

static void cg_log_nothing(void *userdata, int level, const char *fmt, va_list ap)
{
}

/* libcgroup's ECG* codes as -errno. */
static int cg_error(int r)
{
	switch (r) {
	case 0:
		return 0;
	case ECGROUPNOTEXIST:
	case ECGROUPVALUENOTEXIST:
		return -ENOENT;
	case ECGROUPNOTMOUNTED:
	case ECGROUPSUBSYSNOTMOUNTED:
		return -ENOMEDIUM;
	case ECGROUPNOTOWNER:
	case ECGROUPNOTALLOWED:
		return -EACCES;
	case ECGINVAL:
		return -EINVAL;
	case ECGOTHER: {
		int e = cgroup_get_last_errno();
		return e > 0 ? -e : -EIO;
	}
	default:
		return -EIO;
	}
}

static int cg_init(void)
{
	static bool done;
	static int result;

	if (!done) {
		/* the default logger prints errors on stdout; an effect module prints nothing */
		cgroup_set_logger(cg_log_nothing, CGROUP_LOG_ERROR, NULL);
		result = cg_error(cgroup_init());
		done = true;
	}
	return result;
}

/* "system.slice/x.service" without leading slashes; NULL if empty or with an empty, "." or ".."
 * component. */
static const char *relative_path(const char *path)
{
	if (!path)
		return NULL;
	while (*path == '/')
		path++;
	if (!*path)
		return NULL;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return NULL;
		p += n;
		if (*p == '/') {
			p++;
			if (!*p) /* trailing slash */
				return NULL;
		}
	}
	return path;
}

static int parse_kind(const struct cg_name *e, const char *s, uint64_t *ret)
{
	uint64_t v, other;
	int r;

	switch (e->kind) {
	case CG_VALUE:
		return cgroup_parse_value(s, ret);
	case CG_V1_VALUE:
	case CG_V1_MEMSW:
		return cgroup_parse_v1_value(s, ret);
	case CG_NSEC:
		r = cgroup_parse_value(s, &v);
		if (r < 0)
			return r;
		*ret = v / 1000;
		return 0;
	case CG_KEYED:
		return cgroup_parse_keyed(s, e->key, ret);
	case CG_KEYED_NSEC:
		r = cgroup_parse_keyed(s, e->key, &v);
		if (r < 0)
			return r;
		*ret = v / 1000;
		return 0;
	case CG_CPU_QUOTA:
		return cgroup_parse_cpu_max(s, ret, &other);
	case CG_CPU_PERIOD:
		return cgroup_parse_cpu_max(s, &other, ret);
	}
	return -EINVAL;
}

#define CG_FILE_MAX 2048 /* cpu.stat, memory.events: a dozen short lines */

/* One small cgroup file through libcgroup, its lines joined into buf: only this file is read
 * (cgroup_get_cgroup() reads every file of every controller of the group). */
static int read_file(const char *controller, const char *rel, const char *file, char *buf, size_t size)
{
	char name[64], line[256];
	void *handle = NULL;
	size_t len = 0;
	int r;

	snprintf(name, sizeof(name), "%s", file); /* libcgroup 2.0 takes a char *, 3.x a const one */
	r = cgroup_read_value_begin(controller, rel, name, &handle, line, sizeof(line));
	while (r == 0) {
		size_t n = strlen(line);
		if (len + n >= size) {
			r = -E2BIG;
			break;
		}
		memcpy(buf + len, line, n);
		len += n;
		r = cgroup_read_value_next(&handle, line, sizeof(line));
	}
	if (handle)
		(void)cgroup_read_value_end(&handle);
	if (r == ECGEOF)
		r = 0;
	else if (r > 0)
		r = cg_error(r);
	buf[len] = 0;
	return r;
}

int cgroup_read_fields(const char *path, unsigned fields, struct cgroup_usage *ret)
{
	const char *rel = relative_path(path);
	struct cgroup_usage u;
	enum cgroup_version version;
	const struct cg_name *t;
	char text[CG_FILE_MAX];
	const char *have = NULL; /* the file in text */
	int r, last = 0;
	bool any = false;
	size_t n;

	if (!rel || !ret)
		return -EINVAL;
	r = cgroup_detect_version(&version);
	if (r < 0)
		return r;
	r = cg_init();
	if (r < 0)
		return r;

	memset(&u, 0xff, sizeof(u));
	u.version = version;
	u.missing = CGROUP_FIELD_ALL;
	t = names_for(version, &n);
	/* v1's swap limit is memory+swap minus memory */
	if (version == BERTH_CGROUP_V1 && (fields & CGROUP_FIELD_SWAP_MAX))
		fields |= CGROUP_FIELD_MEMORY_MAX;
	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		if (!(fields & t[i].field))
			continue;
		/* entries of one file are next to each other in the table: read it once */
		if (!have || !streq(have, t[i].file)) {
			have = NULL;
			r = read_file(t[i].controller, rel, t[i].file, text, sizeof(text));
			if (r < 0) {
				last = r;
				continue;
			}
			have = t[i].file;
			any = true;
		}
		if (parse_kind(&t[i], text, &v) < 0)
			continue;
		*(uint64_t *)((char *)&u + t[i].offset) = v;
		u.missing &= ~t[i].field;
	}
	if (!any && last == -ENOENT) {
		/* every file is missing: is the group itself gone? */
		r = read_file(t[0].controller, rel, "cgroup.procs", text, sizeof(text));
		if (r == -ENOENT)
			return -ENOENT;
	}
	/* v1: memory.memsw.limit_in_bytes is memory + swap */
	if (version == BERTH_CGROUP_V1 && !(u.missing & CGROUP_FIELD_SWAP_MAX) && u.swap_max != UINT64_MAX) {
		if (u.memory_max == UINT64_MAX || (u.missing & CGROUP_FIELD_MEMORY_MAX))
			u.missing |= CGROUP_FIELD_SWAP_MAX;
		else
			u.swap_max = u.swap_max >= u.memory_max ? u.swap_max - u.memory_max : 0;
		if (u.missing & CGROUP_FIELD_SWAP_MAX)
			u.swap_max = UINT64_MAX;
	}
	*ret = u;
	return 0;
}

int cgroup_read(const char *path, struct cgroup_usage *ret)
{
	return cgroup_read_fields(path, CGROUP_FIELD_ALL, ret);
}

/* ---- comparison with what systemd was asked --------------------------------------------------- */

struct compare {
	const struct cgroup_usage *u;
	char **list;
	int n;
	int error;
};

static void mismatch(struct compare *c, const char *fmt, ...) _printf_(2, 3);
static void mismatch(struct compare *c, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	if (c->error)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s || strv_push(&c->list, s) < 0) {
		c->error = -ENOMEM;
		return;
	}
	c->n++;
}

static const char *bytes_text(char *buf, size_t len, uint64_t v)
{
	if (v == UINT64_MAX)
		return "max";
	return format_size(buf, len, v);
}

/* memory.max is rounded down to whole pages by the kernel */
#define PAGE_SLACK (UINT64_C(64) * 1024)

/* field: MEMORY_MAX, MEMORY_HIGH or SWAP_MAX */
static void compare_bytes(struct compare *c, enum cgroup_field field, const char *controller, uint64_t want)
{
	const struct cgroup_usage *u = c->u;
	const char *file = cgroup_field_file(field, u->version, NULL);
	char a[FORMAT_SIZE_MAX], b[FORMAT_SIZE_MAX];
	uint64_t have = field == CGROUP_FIELD_MEMORY_MAX ? u->memory_max :
			field == CGROUP_FIELD_MEMORY_HIGH ? u->memory_high : u->swap_max;
	bool missing = u->missing & field;

	if (!file)
		return; /* this version has no such limit */

	if (want == UINT64_MAX) {
		if (!missing && have != UINT64_MAX)
			mismatch(c, "%s is %s but systemd was asked for no limit: another program may have written to the cgroup",
				 file, bytes_text(a, sizeof(a), have));
		return;
	}
	if (missing)
		mismatch(c, "%s cannot be read but systemd was asked for %s: is the %s controller enabled for this slice?",
			 file, format_size(b, sizeof(b), want), controller);
	else if (have == UINT64_MAX)
		mismatch(c, "%s is max but systemd was asked for %s: is the %s controller enabled for this slice?", file,
			 format_size(b, sizeof(b), want), controller);
	else if (have > want || want - have >= PAGE_SLACK)
		mismatch(c, "%s is %s but systemd was asked for %s: another program may have written to the cgroup, "
			    "or systemd has not applied the change yet",
			 file, bytes_text(a, sizeof(a), have), format_size(b, sizeof(b), want));
}

static void compare_tasks(struct compare *c, uint64_t want)
{
	const struct cgroup_usage *u = c->u;
	const char *file = cgroup_field_file(CGROUP_FIELD_TASKS_MAX, u->version, NULL);
	bool missing = u->missing & CGROUP_FIELD_TASKS_MAX;

	if (want == UINT64_MAX) {
		if (!missing && u->tasks_max != UINT64_MAX)
			mismatch(c, "%s is %" PRIu64 " but systemd was asked for no limit: another program may have written to the cgroup",
				 file, u->tasks_max);
		return;
	}
	if (missing)
		mismatch(c, "%s cannot be read but systemd was asked for %" PRIu64 ": is the pids controller enabled for this slice?",
			 file, want);
	else if (u->tasks_max == UINT64_MAX)
		mismatch(c, "%s is max but systemd was asked for %" PRIu64 ": is the pids controller enabled for this slice?",
			 file, want);
	else if (u->tasks_max != want)
		mismatch(c, "%s is %" PRIu64 " but systemd was asked for %" PRIu64 ": another program may have written to the cgroup, "
			    "or systemd has not applied the change yet",
			 file, u->tasks_max, want);
}

/* "30%", "12.5%" for a per-second quota in µs */
static const char *percent_text(char *buf, size_t len, uint64_t per_sec_usec)
{
	if (per_sec_usec % 10000 == 0)
		snprintf(buf, len, "%" PRIu64 "%%", per_sec_usec / 10000);
	else
		snprintf(buf, len, "%.2f%%", (double)per_sec_usec / 10000.0);
	return buf;
}

static void compare_cpu(struct compare *c, uint64_t want)
{
	const struct cgroup_usage *u = c->u;
	const char *file = cgroup_field_file(CGROUP_FIELD_CPU_QUOTA, u->version, NULL);
	bool missing = u->missing & (CGROUP_FIELD_CPU_QUOTA | CGROUP_FIELD_CPU_PERIOD);
	char a[64], b[32], have[96];

	if (!missing && u->cpu_quota_usec == UINT64_MAX)
		snprintf(have, sizeof(have), "%s", u->version == BERTH_CGROUP_V2 ? "max" : "-1");
	else if (!missing)
		snprintf(have, sizeof(have), u->version == BERTH_CGROUP_V2 ? "%" PRIu64 " %" PRIu64 " (%s)" : "%" PRIu64 " per %" PRIu64 " (%s)",
			 u->cpu_quota_usec, u->cpu_period_usec,
			 percent_text(a, sizeof(a), u->cpu_quota_usec * USEC_PER_SEC / u->cpu_period_usec));

	if (want == UINT64_MAX) {
		if (!missing && u->cpu_quota_usec != UINT64_MAX)
			mismatch(c, "%s is %s but systemd was asked for no CPU quota: another program may have written to the cgroup",
				 file, have);
		return;
	}
	if (missing) {
		mismatch(c, "%s cannot be read but systemd was asked for %s: is the cpu controller enabled for this slice?",
			 file, percent_text(b, sizeof(b), want));
		return;
	}
	if (u->cpu_quota_usec == UINT64_MAX) {
		mismatch(c, "%s is %s but systemd was asked for %s: is the cpu controller enabled for this slice?", file,
			 have, percent_text(b, sizeof(b), want));
		return;
	}
	/* systemd writes quota × period / 1s per period, at least 1ms */
	uint64_t expect = want > UINT64_MAX / u->cpu_period_usec ? UINT64_MAX : want * u->cpu_period_usec / USEC_PER_SEC;
	if (expect < USEC_PER_MSEC)
		expect = USEC_PER_MSEC;
	uint64_t diff = expect > u->cpu_quota_usec ? expect - u->cpu_quota_usec : u->cpu_quota_usec - expect;
	if (diff > 1)
		mismatch(c, "%s is %s but systemd was asked for %s: another program may have written to the cgroup, "
			    "or systemd has not applied the change yet",
			 file, have, percent_text(b, sizeof(b), want));
}

int cgroup_compare(const struct cgroup_usage *u, const struct unit_status *want, char ***ret)
{
	struct compare c = { .u = u };

	if (!u || !want || !ret)
		return -EINVAL;
	c.list = calloc(1, sizeof(char *));
	if (!c.list)
		return -ENOMEM;
	compare_bytes(&c, CGROUP_FIELD_MEMORY_MAX, "memory", want->memory_max);
	if (u->version == BERTH_CGROUP_V2) {
		/* systemd applies MemoryHigh and MemorySwapMax only on the unified hierarchy */
		compare_bytes(&c, CGROUP_FIELD_MEMORY_HIGH, "memory", want->memory_high);
		compare_bytes(&c, CGROUP_FIELD_SWAP_MAX, "memory", want->memory_swap_max);
	}
	compare_cpu(&c, want->cpu_quota_per_sec_usec);
	compare_tasks(&c, want->tasks_max);
	if (c.error) {
		strv_free(c.list);
		return c.error;
	}
	*ret = c.list;
	return c.n;
}

/* ---- nofile ----------------------------------------------------------------------------------- */

int cgroup_nofile_fits(uint64_t nofile, uint64_t nr_open)
{
	return nofile > nr_open ? -ERANGE : 0;
}

int cgroup_check_nofile(uint64_t nofile, uint64_t *ret_nr_open)
{
	_cleanup_close_ int fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char buf[64];
	uint64_t nr_open;
	ssize_t n;
	int r;

	if (fd < 0)
		return negative_errno();
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return negative_errno();
	buf[n] = 0;
	r = cgroup_parse_value(buf, &nr_open);
	if (r < 0)
		return -EBADMSG;
	r = cgroup_nofile_fits(nofile, nr_open);
	if (ret_nr_open)
		*ret_nr_open = nr_open;
	return r;
}

/* ---- the persisted-limits drop-in (pure) ------------------------------------------------------ */

void cgroup_limits_init(struct cgroup_limits *l)
{
	l->cpu_quota_percent = U64_UNSET;
	l->memory_max = SIZE_UNSET;
	l->memory_high = SIZE_UNSET;
	l->memory_swap_max = SIZE_UNSET;
	l->tasks_max = U64_UNSET;
}

bool cgroup_limits_is_empty(const struct cgroup_limits *l)
{
	return l->cpu_quota_percent == U64_UNSET && l->memory_max == SIZE_UNSET && l->memory_high == SIZE_UNSET &&
	       l->memory_swap_max == SIZE_UNSET && l->tasks_max == U64_UNSET;
}

void cgroup_limits_from_manifest(const struct manifest *m, struct cgroup_limits *ret)
{
	cgroup_limits_init(ret);
	if (m->cpu_quota_percent)
		ret->cpu_quota_percent = m->cpu_quota_percent;
	ret->memory_max = m->memory_max;
	ret->memory_high = m->memory_high;
	ret->memory_swap_max = m->memory_swap_max;
	ret->tasks_max = m->tasks_max;
}

void cgroup_limits_apply(const struct cgroup_limits *set, const struct manifest *m, struct manifest *ret)
{
	*ret = *m;
	if (set->cpu_quota_percent != U64_UNSET)
		ret->cpu_quota_percent = set->cpu_quota_percent == SIZE_INFINITY ? 0 : (unsigned)set->cpu_quota_percent;
	if (set->memory_max != SIZE_UNSET)
		ret->memory_max = set->memory_max;
	if (set->memory_high != SIZE_UNSET)
		ret->memory_high = set->memory_high;
	if (set->memory_swap_max != SIZE_UNSET)
		ret->memory_swap_max = set->memory_swap_max;
	if (set->tasks_max != U64_UNSET)
		ret->tasks_max = set->tasks_max;
}

char *cgroup_limits_dropin_path(const char *unit_dir, const char *service)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s.service.d/%s", unit_dir ? unit_dir : BERTH_UNIT_DIR, service, CGROUP_LIMITS_DROPIN) < 0)
		return NULL;
	return p;
}

/* The five limits, in file order, with their unit-file key and how their values are written. */
enum limit_type { LIMIT_PERCENT, LIMIT_SIZE, LIMIT_COUNT };
struct limit_key {
	const char *key;   /* in [Service] */
	const char *base;  /* in [X-Berth-Limits] */
	size_t offset;
	enum limit_type type;
};
#define L(f) offsetof(struct cgroup_limits, f)
static const struct limit_key limit_keys[] = {
	{ "CPUQuota", "ManifestCPUQuota", L(cpu_quota_percent), LIMIT_PERCENT },
	{ "MemoryMax", "ManifestMemoryMax", L(memory_max), LIMIT_SIZE },
	{ "MemoryHigh", "ManifestMemoryHigh", L(memory_high), LIMIT_SIZE },
	{ "MemorySwapMax", "ManifestMemorySwapMax", L(memory_swap_max), LIMIT_SIZE },
	{ "TasksMax", "ManifestTasksMax", L(tasks_max), LIMIT_COUNT },
};

static uint64_t *limit_at(struct cgroup_limits *l, const struct limit_key *k)
{
	return (uint64_t *)((char *)l + k->offset);
}

static uint64_t limit_get(const struct cgroup_limits *l, const struct limit_key *k)
{
	return *(const uint64_t *)((const char *)l + k->offset);
}

/* Value text for the file: "" for unset (baseline) or no CPU quota, else what systemd parses. */
static const char *limit_text(char *buf, size_t len, const struct limit_key *k, uint64_t v)
{
	if (v == U64_UNSET)
		return "";
	switch (k->type) {
	case LIMIT_PERCENT:
		if (v == SIZE_INFINITY)
			return ""; /* CPUQuota= (empty) resets it: no quota */
		snprintf(buf, len, "%" PRIu64 "%%", v);
		return buf;
	case LIMIT_SIZE:
		return format_size(buf, len, v);
	case LIMIT_COUNT:
		if (v == SIZE_INFINITY)
			return "infinity";
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	return "";
}

static int limit_parse(const struct limit_key *k, const char *s, bool baseline, uint64_t *ret)
{
	uint64_t v;
	unsigned pct;
	int r;

	if (!*s) {
		/* empty: not set in the manifest, or (CPUQuota=) no quota */
		if (baseline)
			*ret = U64_UNSET;
		else if (k->type == LIMIT_PERCENT)
			*ret = SIZE_INFINITY;
		else
			return -EBADMSG;
		return 0;
	}
	switch (k->type) {
	case LIMIT_PERCENT:
		r = parse_percent(s, 1, 100000, &pct);
		v = pct;
		break;
	case LIMIT_SIZE:
		r = parse_size(s, &v);
		break;
	case LIMIT_COUNT:
		if (streq(s, "infinity")) {
			v = SIZE_INFINITY;
			r = 0;
		} else
			r = parse_uint_range(s, 1, 4194304, &v);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int cgroup_limits_parse(const char *text, struct cgroup_limits *ret_set, struct cgroup_limits *ret_baseline)
{
	struct cgroup_limits set, base;
	enum { SEC_NONE, SEC_SERVICE, SEC_BERTH } sec = SEC_NONE;
	_cleanup_free_ char *copy = NULL;
	char *line, *next;
	int r;

	if (!text || !startswith(text, CGROUP_LIMITS_MARKER))
		return -EBADMSG;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	cgroup_limits_init(&set);
	cgroup_limits_init(&base);
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		size_t n = strlen(line);
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = 0;
		if (n == 0 || line[0] == '#' || line[0] == ';')
			continue;
		if (line[0] == '[') {
			if (streq(line, "[Service]"))
				sec = SEC_SERVICE;
			else if (streq(line, "[X-Berth-Limits]"))
				sec = SEC_BERTH;
			else
				return -EBADMSG;
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq || sec == SEC_NONE)
			return -EBADMSG;
		*eq = 0;
		const char *key = line, *value = eq + 1;
		if (sec == SEC_SERVICE && (streq(key, "Environment") || streq(key, "UnsetEnvironment")))
			continue; /* derived from the limits when the file is written */
		const struct limit_key *k = NULL;
		for (size_t i = 0; i < ELEMENTSOF(limit_keys) && !k; i++)
			if (streq(key, sec == SEC_SERVICE ? limit_keys[i].key : limit_keys[i].base))
				k = &limit_keys[i];
		if (!k)
			return -EBADMSG;
		r = limit_parse(k, value, sec == SEC_BERTH, limit_at(sec == SEC_SERVICE ? &set : &base, k));
		if (r < 0)
			return r;
	}
	/* a baseline without its limit means nothing */
	for (size_t i = 0; i < ELEMENTSOF(limit_keys); i++)
		if (limit_get(&set, &limit_keys[i]) == U64_UNSET)
			*limit_at(&base, &limit_keys[i]) = U64_UNSET;
	*ret_set = set;
	if (ret_baseline)
		*ret_baseline = base;
	return 0;
}

static void go_lines(FILE *f, const char *name, uint64_t unit_value, uint64_t now_value, const char *why,
		     bool bytes)
{
	if (unit_value == now_value)
		return;
	fprintf(f, "# %s: %s; applies at the next restart\n", name, why);
	if (now_value > 0)
		fprintf(f, "Environment=%s=%" PRIu64 "%s\n", name, now_value, bytes ? "B" : "");
	else
		fprintf(f, "UnsetEnvironment=%s\n", name);
}

int cgroup_limits_format(const char *service, const struct cgroup_limits *set,
			 const struct cgroup_limits *baseline, const struct go_decision *go_unit,
			 const struct go_decision *go_now, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	char v[FORMAT_SIZE_MAX];
	FILE *f;

	if (!service || !set || !ret)
		return -EINVAL;
	if (cgroup_limits_is_empty(set))
		return -ENODATA;
	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "%s - written by `berth limit %s`\n", CGROUP_LIMITS_MARKER, service);
	fprintf(f, "# `berth deploy` keeps these limits, except one whose value in the manifest changed since\n"
		   "# (the manifest then wins). [X-Berth-Limits] holds the manifest's values when they were set.\n");
	fprintf(f, "[Service]\n");
	for (size_t i = 0; i < ELEMENTSOF(limit_keys); i++) {
		uint64_t x = limit_get(set, &limit_keys[i]);
		if (x != U64_UNSET)
			fprintf(f, "%s=%s\n", limit_keys[i].key, limit_text(v, sizeof(v), &limit_keys[i], x));
	}
	if (go_unit && go_now) {
		go_lines(f, "GOMAXPROCS", go_unit->gomaxprocs, go_now->gomaxprocs, go_now->why_gomaxprocs, false);
		go_lines(f, "GOMEMLIMIT", go_unit->gomemlimit, go_now->gomemlimit, go_now->why_gomemlimit, true);
	}
	fprintf(f, "\n[X-Berth-Limits]\n");
	for (size_t i = 0; i < ELEMENTSOF(limit_keys); i++) {
		if (limit_get(set, &limit_keys[i]) == U64_UNSET)
			continue;
		uint64_t b = baseline ? limit_get(baseline, &limit_keys[i]) : U64_UNSET;
		fprintf(f, "%s=%s\n", limit_keys[i].base, limit_text(v, sizeof(v), &limit_keys[i], b));
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

bool cgroup_limits_reconcile(struct cgroup_limits *set, struct cgroup_limits *baseline,
			     const struct cgroup_limits *manifest)
{
	bool changed = false;

	for (size_t i = 0; i < ELEMENTSOF(limit_keys); i++) {
		const struct limit_key *k = &limit_keys[i];
		uint64_t s = limit_get(set, k), b = limit_get(baseline, k), m = limit_get(manifest, k);
		if (s == U64_UNSET)
			continue;
		if (b != m || s == m) {
			*limit_at(set, k) = U64_UNSET;
			*limit_at(baseline, k) = U64_UNSET;
			changed = true;
		}
	}
	return changed;
}

int cgroup_limits_update_for_manifest(const char *old_text, const struct manifest *m, const struct elf_info *binary,
				      unsigned host_cpus, char **ret_text)
{
	struct cgroup_limits set, base, man;
	struct go_decision go_unit, go_now;
	struct manifest eff;
	int r;

	if (!m || !ret_text)
		return -EINVAL;
	if (!old_text) {
		*ret_text = NULL;
		return 0;
	}
	r = cgroup_limits_parse(old_text, &set, &base);
	if (r < 0)
		return r;
	cgroup_limits_from_manifest(m, &man);
	(void)cgroup_limits_reconcile(&set, &base, &man);
	if (cgroup_limits_is_empty(&set)) {
		*ret_text = NULL;
		return 0;
	}
	cgroup_limits_apply(&set, m, &eff);
	go_decide(m, binary, host_cpus, &go_unit);
	go_decide(&eff, binary, host_cpus, &go_now);
	return cgroup_limits_format(m->name, &set, &base, &go_unit, &go_now, ret_text);
}
