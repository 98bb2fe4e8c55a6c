/* cgroup.h - what the kernel enforces for a service's cgroup, read back with libcgroup; the
 * nofile ceiling; and berth's persisted-limits drop-in (written by `berth limit`)
 *
 * Read-back is an effect (libcgroup, statfs, /proc), everything else here is pure and unit
 * tested. No logging: functions return 0 or -errno, ret_ parameters are set only on success.
 *
 * cgroup versions: libcgroup 2.0.2 has no name-conversion layer (asking v2 for a v1 file fails
 * with ECGROUPVALUENOTEXIST), so the version is decided here (statfs of /sys/fs/cgroup:
 * cgroup2fs = v2, anything else = v1 or hybrid, whose controllers are v1) and each version has
 * one small table of file names in cgroup.c. "max" (and v1's "unlimited" values) read back as
 * UINT64_MAX everywhere.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "elf.h"
#include "goruntime.h"
#include "manifest.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

enum cgroup_version {
	BERTH_CGROUP_V1 = 1, /* v1 or hybrid: controllers under /sys/fs/cgroup/<controller> */
	BERTH_CGROUP_V2 = 2, /* unified: /sys/fs/cgroup is cgroup2 */
};

/* One bit per value of struct cgroup_usage, for cgroup_usage.missing. */
enum cgroup_field {
	CGROUP_FIELD_MEMORY_CURRENT = 1 << 0,
	CGROUP_FIELD_MEMORY_MAX = 1 << 1,
	CGROUP_FIELD_MEMORY_HIGH = 1 << 2,
	CGROUP_FIELD_MEMORY_PEAK = 1 << 3,
	CGROUP_FIELD_SWAP_MAX = 1 << 4,
	CGROUP_FIELD_OOM_KILLS = 1 << 5,
	CGROUP_FIELD_CPU_USAGE = 1 << 6,
	CGROUP_FIELD_NR_PERIODS = 1 << 7,
	CGROUP_FIELD_NR_THROTTLED = 1 << 8,
	CGROUP_FIELD_THROTTLED = 1 << 9,
	CGROUP_FIELD_CPU_QUOTA = 1 << 10,
	CGROUP_FIELD_CPU_PERIOD = 1 << 11,
	CGROUP_FIELD_TASKS_CURRENT = 1 << 12,
	CGROUP_FIELD_TASKS_MAX = 1 << 13,
};
#define CGROUP_FIELD_COUNT 14
#define CGROUP_FIELD_ALL ((1u << CGROUP_FIELD_COUNT) - 1)

struct cgroup_usage {
	enum cgroup_version version;
	uint64_t memory_current;  /* bytes */
	uint64_t memory_max;      /* bytes, UINT64_MAX = max */
	uint64_t memory_high;     /* v2 only */
	uint64_t memory_peak;     /* v2 memory.peak (kernel ≥ 5.19), v1 memory.max_usage_in_bytes */
	uint64_t swap_max;        /* v2 memory.swap.max; v1 memsw limit minus memory limit */
	uint64_t oom_kills;       /* memory.events oom_kill; v1 memory.oom_control oom_kill (≥ 4.13) */
	uint64_t cpu_usage_usec;  /* cpu.stat usage_usec; v1 cpuacct.usage (ns) / 1000 */
	uint64_t nr_periods;      /* cpu.stat */
	uint64_t nr_throttled;
	uint64_t throttled_usec;  /* v2 throttled_usec; v1 throttled_time (ns) / 1000 */
	uint64_t cpu_quota_usec;  /* per period; UINT64_MAX = max (v1: cfs_quota_us -1) */
	uint64_t cpu_period_usec;
	uint64_t tasks_current;   /* pids.current */
	uint64_t tasks_max;       /* pids.max */
	unsigned missing;         /* enum cgroup_field bits that could not be read; those values are
				   * UINT64_MAX (e.g. a controller not enabled for the slice) */
};

#define CGROUP_UNIFIED_ROOT CGROUP_ROOT "/unified"

/* How this host mounts cgroups. */
enum cgroup_layout {
	CGROUP_LAYOUT_LEGACY,  /* v1 only */
	CGROUP_LAYOUT_HYBRID,  /* v1 controllers; systemd's cgroup2 hierarchy at /sys/fs/cgroup/unified */
	CGROUP_LAYOUT_UNIFIED, /* cgroup2 at /sys/fs/cgroup */
};

/* libcgroup 3.x's cgroup_setup_mode() where configure found it, else statfs of /sys/fs/cgroup and
 * /sys/fs/cgroup/unified. -ENOENT / -ENOMEDIUM if no cgroup hierarchy is mounted there. */
int cgroup_detect_layout(enum cgroup_layout *ret);
/* The layout from the statfs f_type of /sys/fs/cgroup and of /sys/fs/cgroup/unified (0 when that
 * does not exist): cgroup2 → unified; tmpfs → hybrid with a cgroup2 unified/, else legacy. */
int cgroup_layout_from_fs_types(uint64_t root_type, uint64_t unified_type, enum cgroup_layout *ret);
/* Unified → v2, anything else → v1 (the controllers are v1 on a hybrid host). */
int cgroup_detect_version(enum cgroup_version *ret);
/* Where the cgroup2 hierarchy is mounted in layout: /sys/fs/cgroup, /sys/fs/cgroup/unified, or
 * NULL on a legacy host. */
const char *cgroup_v2_mount(enum cgroup_layout layout);

/* The id the kernel gives a cgroup in what it reports about sockets and processes (sock_diag's
 * INET_DIAG_CGROUP_ID, bpf): the inode of its directory in the cgroup2 hierarchy, wherever the
 * layout mounts that. control_group as systemd's ControlGroup ("/system.slice/NAME.service"; "/"
 * is the root). -ENOMEDIUM on a host without cgroup2, -ENOENT if there is no such group, -EINVAL
 * for a path with an empty, "." or ".." component. The one place for every cgroup-id lookup. */
int cgroup_get_id(const char *control_group, uint64_t *ret);
/* The filesystem type (statfs f_type) to a version: CGROUP2_SUPER_MAGIC → v2, TMPFS_MAGIC (the
 * v1/hybrid layout) → v1, anything else -ENOMEDIUM. */
int cgroup_version_from_fs_type(uint64_t f_type, enum cgroup_version *ret);

/* Reads what the kernel enforces for path, relative to the hierarchy root as in /proc/PID/cgroup
 * and systemd's ControlGroup ("system.slice/NAME.service"; a leading "/" is ignored). A value
 * that cannot be read (no such file in this version or kernel, controller not enabled) is
 * UINT64_MAX and its bit is set in missing. -ENOENT if the group does not exist, -EINVAL for an
 * empty path or one with a "." or ".." component, -ENOMEDIUM if no cgroup hierarchy is mounted. */
int cgroup_read(const char *path, struct cgroup_usage *ret);
/* The same for the fields given (enum cgroup_field bits): only their files are read, each once.
 * The other fields are UINT64_MAX and in missing. */
int cgroup_read_fields(const char *path, unsigned fields, struct cgroup_usage *ret);

/* Kernel file that holds field in version ("memory.max", "memory.limit_in_bytes"); with the key
 * inside it for flat keyed files ("memory.events", "oom_kill"), else *ret_key is NULL. NULL if the
 * version has no such value (memory.high on v1). */
const char *cgroup_field_file(enum cgroup_field field, enum cgroup_version version, const char **ret_key);
/* Stable name for JSON ("memory_max"); NULL for a bit that is not one field. */
const char *cgroup_field_name(enum cgroup_field field);

/* Pure parsers for what libcgroup hands back (one trailing newline allowed):
 *   cgroup_parse_value: "123" → 123, "max" → UINT64_MAX; -EINVAL, -ERANGE
 *   cgroup_parse_v1_value: "123" → 123, "-1" → UINT64_MAX, and v1's "unlimited" byte counts
 *     (PAGE_COUNTER_MAX pages: 9223372036854771712 with 4K pages, any page size up to 1M) → UINT64_MAX
 *   cgroup_parse_cpu_max: v2 cpu.max "50000 100000" → 50000, 100000; "max 100000" → UINT64_MAX, 100000
 *   cgroup_parse_keyed: a flat keyed file ("key value" lines: memory.events, cpu.stat,
 *     memory.oom_control): the value of the line whose first word is exactly key; -ENOENT if
 *     there is none, -EINVAL / -ERANGE if its value is not a number that fits */
int cgroup_parse_value(const char *s, uint64_t *ret);
int cgroup_parse_v1_value(const char *s, uint64_t *ret);
int cgroup_parse_cpu_max(const char *s, uint64_t *ret_quota, uint64_t *ret_period);
int cgroup_parse_keyed(const char *text, const char *key, uint64_t *ret);

/* Compares what the kernel enforces with what systemd was asked for (want: MemoryMax,
 * MemoryHigh, MemorySwapMax, CPUQuotaPerSecUSec, TasksMax; UINT64_MAX = no limit, as systemd says
 * it). *ret gets one message per mismatch, e.g. "memory.max is max but systemd was asked for
 * 128M: is the memory controller enabled for this slice?", and an empty list when everything
 * matches. Kernel rounding (memory to pages, CPU quota per period with systemd's 1ms minimum) is
 * not a mismatch. Returns the number of mismatches or -ENOMEM. */
int cgroup_compare(const struct cgroup_usage *u, const struct unit_status *want, char ***ret);

/* LimitNOFILE above fs.nr_open makes the service fail at exec. Reads /proc/sys/fs/nr_open;
 * returns 0 if nofile fits, -ERANGE if nofile > nr_open, or -errno. *ret_nr_open (may be NULL)
 * is set on 0 and on -ERANGE, so that a refusal can name the ceiling. */
int cgroup_check_nofile(uint64_t nofile, uint64_t *ret_nr_open);
/* The comparison itself, for tests: 0 or -ERANGE. */
int cgroup_nofile_fits(uint64_t nofile, uint64_t nr_open);

/* ---- berth's persisted limits: /etc/systemd/system/NAME.service.d/49-berth-limits.conf ------
 *
 * `berth limit` (without --runtime) keeps the limits it set in this drop-in, with the manifest's
 * value of each limit at that time in an [X-Berth-Limits] section (ignored by systemd), and the
 * GOMAXPROCS / GOMEMLIMIT that follow from the new limits as Environment= lines (they take effect
 * at the next restart; drop-ins are read after the unit, so they override the unit's lines).
 * Named 49-: drop-ins apply in file-name order across directories, and systemd's own runtime
 * files for SetUnitProperties / `systemctl set-property --runtime` are
 * /run/systemd/system.control/NAME.service.d/50-<Property>.conf. Sorting before them, a
 * `berth limit --runtime` (or an operator's set-property) still wins after a daemon-reload; a
 * 50-berth-* file would silently take the limit back at the next reload. */
#define CGROUP_LIMITS_DROPIN "49-berth-limits.conf"
#define CGROUP_LIMITS_MARKER "# Managed by berth"

/* One value per limit. Sentinels as in size.h: U64_UNSET/SIZE_UNSET (not set here),
 * SIZE_INFINITY (no limit). */
struct cgroup_limits {
	uint64_t cpu_quota_percent; /* percent of one CPU, 1-100000; SIZE_INFINITY = no quota */
	uint64_t memory_max;        /* bytes */
	uint64_t memory_high;
	uint64_t memory_swap_max;
	uint64_t tasks_max;         /* count */
};

void cgroup_limits_init(struct cgroup_limits *l); /* all unset */
bool cgroup_limits_is_empty(const struct cgroup_limits *l);
/* The manifest's [resources] values (cpu 0 = unset). */
void cgroup_limits_from_manifest(const struct manifest *m, struct cgroup_limits *ret);
/* A shallow copy of m with the set limits applied, for go_decide(): the copy borrows m's strings
 * and must not be freed. */
void cgroup_limits_apply(const struct cgroup_limits *set, const struct manifest *m, struct manifest *ret);

/* "/etc/systemd/system/NAME.service.d/49-berth-limits.conf" (unit_dir NULL: BERTH_UNIT_DIR). */
char *cgroup_limits_dropin_path(const char *unit_dir, const char *service);
/* Parses the drop-in. Unknown keys in [Service] (other than Environment= / UnsetEnvironment=,
 * which are derived) and a missing marker line give -EBADMSG: berth does not rewrite a file
 * somebody else wrote. */
int cgroup_limits_parse(const char *text, struct cgroup_limits *ret_set, struct cgroup_limits *ret_baseline);
/* The drop-in text; go_unit is what the unit itself gives the Go runtime (go_decide() on the
 * manifest), go_now what it should get with these limits (go_decide() on
 * cgroup_limits_apply()); where they differ, Environment= / UnsetEnvironment= lines follow.
 * Both may be NULL (no Go lines). An empty set gives -ENODATA: remove the file instead. */
int cgroup_limits_format(const char *service, const struct cgroup_limits *set,
			 const struct cgroup_limits *baseline, const struct go_decision *go_unit,
			 const struct go_decision *go_now, char **ret);
/* For deploy: drops each limit whose manifest value changed since it was set (baseline differs
 * from the new manifest: the manifest wins), or that now equals the manifest. Returns true if
 * anything was dropped. */
bool cgroup_limits_reconcile(struct cgroup_limits *set, struct cgroup_limits *baseline,
			     const struct cgroup_limits *manifest);
/* For deploy, all of the above: old_text is the installed drop-in (NULL if none); *ret_text the
 * text to install for manifest m (binary: the release's, for the Go lines; NULL = an old Go), or
 * NULL when the file should be removed. -EBADMSG for a file berth did not write: leave it alone. */
int cgroup_limits_update_for_manifest(const char *old_text, const struct manifest *m, const struct elf_info *binary,
				      unsigned host_cpus, char **ret_text);
