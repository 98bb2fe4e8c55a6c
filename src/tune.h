/* tune.h - host tuning (pure): built-in profiles, the sysctl keys berth knows, validation of a
 * request, and the plan that `berth tune` carries out
 *
 * Nothing here touches the system: what the running kernel says about a key comes in through a
 * struct tune_kernel callback (sysctl.c in berth, a table in the unit tests), files come in as
 * text, and the plan goes out as live values to write plus the texts of the files to write.
 *
 * The model:
 *   request  = a profile's settings, overridden or extended by a host file ([sysctl] key = value),
 *              plus fs.nr_open raised for deployed services whose manifest asks for more nofile
 *   state    = /var/lib/berth/.tune/previous.conf: for every key berth manages, the value the
 *              kernel had before berth first changed it (never berth's own value), and the request
 *   plan     = per key: set, keep (already better than the profile's value), restore (no longer
 *              wanted: the pre-berth value goes back) or nothing; then 60-berth.conf, holding
 *              exactly the managed keys, and the new state
 * A key is managed while berth's value differs from the value it had before berth.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TUNE_CONF_PATH "/etc/sysctl.d/60-berth.conf"
#define TUNE_STATE_DIR "/var/lib/berth/.tune"
#define TUNE_PREVIOUS_PATH TUNE_STATE_DIR "/previous.conf"
/* A 60-berth.conf that was there before berth took the name over, put back by --revert. */
#define TUNE_SAVED_CONF_PATH TUNE_STATE_DIR "/60-berth.conf.orig"
#define TUNE_PROFILE_DEFAULT "default"

/* Limits on user-controlled input. */
#define TUNE_FILE_MAX (64 * 1024)
#define TUNE_ENTRIES_MAX 256
#define TUNE_KEY_MAX 128
#define TUNE_VALUE_MAX 1024
#define TUNE_DIAGS_MAX 50

enum tune_kind {
	TUNE_KIND_UINT,       /* one decimal integer within [min, max] */
	TUNE_KIND_PORT_RANGE, /* "LOW HIGH": 1024 ≤ LOW < HIGH ≤ 65535 */
	TUNE_KIND_ANY,        /* not known to berth: same shape as the kernel's current value */
};

/* Which way is "better" for the never-lower rule. */
enum tune_direction {
	TUNE_EXACT, /* the value is set as asked */
	TUNE_RAISE, /* a current value above the wanted one is kept (unless --force) */
	TUNE_LOWER, /* a current value below the wanted one is kept (timeouts) */
	TUNE_WIDEN, /* a wider current range is kept */
};

struct tune_key_info {
	const char *key;
	enum tune_kind kind;
	uint64_t min, max; /* TUNE_KIND_UINT: what the kernel accepts (and berth allows) */
	enum tune_direction direction;
	bool namespaced; /* per network namespace */
};

/* The key's entry in berth's table, or NULL. */
const struct tune_key_info *tune_key_lookup(const char *key);
/* Whether a key is per network namespace: from the table, else net.* except the global
 * net.core.* ones and a few others (an approximation, documented in berth(8)). */
bool tune_key_namespaced(const char *key);
/* Why a key must not be used (removed from Linux or harmful), with what to use instead; or NULL.
 * Such keys are refused whether or not this kernel still has them. Static text. */
const char *tune_key_removed(const char *key);
/* Why a key that still exists does nothing any more; or NULL (a warning, not an error). */
const char *tune_key_noop(const char *key);
/* Syntax: dot-separated components of [A-Za-z0-9_-], at most TUNE_KEY_MAX. */
bool tune_key_is_valid(const char *key);

struct tune_setting {
	const char *key;
	const char *value;
	const char *reason;
};

struct tune_profile {
	const char *name;
	const char *summary;
	const struct tune_setting *settings;
	size_t n_settings;
};

const struct tune_profile *tune_profile_find(const char *name);
/* NULL-terminated, for "did you mean" and help. */
const char *const *tune_profile_names(void);
extern const struct tune_profile tune_profiles[];
extern const size_t tune_n_profiles;

/* Checks value for key (known: type and range; unknown: printable ASCII, one line) and returns its
 * canonical form ("08192" → "8192", "1024<TAB>65535" → "1024 65535"). On -EINVAL / -ERANGE a
 * message saying what is allowed goes to *ret_problem (to free). Shape checks against the running
 * kernel come later, in tune_plan(). */
int tune_value_canonical(const char *key, const char *value, char **ret, char **ret_problem);
/* Compares two values word by word (blanks are separators): "1024\t65535" equals "1024 65535". */
bool tune_value_equal(const char *a, const char *b);
/* Whether the current value cur should be kept instead of want under direction d: true if cur is
 * strictly better (higher, lower, wider). Unparsable values are never kept. */
bool tune_keep_current(enum tune_direction d, const char *cur, const char *want);
/* "LOW HIGH" → both ends; -EINVAL if not two integers. */
int tune_parse_port_range(const char *s, uint64_t *ret_low, uint64_t *ret_high);

/* One problem with the request, reported as "FILE:LINE: [sysctl] KEY: MESSAGE". */
struct tune_diag {
	char *file; /* NULL: not from a file */
	unsigned line;
	char *key;
	char *message;
};

struct tune_diags {
	struct tune_diag *items;
	size_t n;
	size_t n_dropped;
};

void tune_diags_release(struct tune_diags *d);

struct tune_entry {
	char *key;
	char *value;  /* canonical */
	char *reason;
	char *origin; /* "profile web", "/etc/berth/tune.ini:12", "service api" */
	char *file;   /* for messages: where it was set, NULL for a profile */
	unsigned line;
	enum tune_direction direction;
};

struct tune_request {
	char *profile;
	char *file; /* absolute, or NULL */
	struct tune_entry *entries;
	size_t n;
};

void tune_request_release(struct tune_request *r);
/* Starts a request with a profile's settings. -ENOENT for an unknown profile. */
int tune_request_init(struct tune_request *r, const char *profile);
/* Adds a host file's [sysctl] keys (text is its content): a key already in the request is
 * replaced, a new one appended. Comment lines right above a key become its reason. Every problem
 * found goes to diags (syntax, unknown section, duplicate, removed key, bad value) and makes it
 * return -EINVAL; the valid lines are added all the same, so that tune_plan() can report what
 * the kernel says about them too, but such a request must not be applied. */
int tune_request_add_file(struct tune_request *r, const char *path, const char *text, struct tune_diags *diags);
/* A deployed service asks for nofile (LimitNOFILE=): fs.nr_open must be at least that, or
 * systemd cannot start it. Raises (or adds) the request's fs.nr_open if needed. */
int tune_request_add_service(struct tune_request *r, const char *service, uint64_t nofile);
const struct tune_entry *tune_request_find(const struct tune_request *r, const char *key);

/* previous.conf */
struct tune_value {
	char *key;
	char *value; /* exactly as the kernel printed it, without the trailing newline */
};

struct tune_state {
	char *profile; /* NULL: none recorded */
	char *file;
	struct tune_value *previous;
	size_t n;
};

void tune_state_release(struct tune_state *s);
/* Parses previous.conf; -EINVAL with *reterr_line on a damaged file. An empty text is an empty
 * state. */
int tune_state_parse(const char *text, struct tune_state *ret, unsigned *reterr_line);
/* Formats it back; parse(format(s)) == s. NULL on -ENOMEM. */
char *tune_state_format(const struct tune_state *s);
const char *tune_state_previous(const struct tune_state *s, const char *key);

/* What the running kernel says about a key. */
struct tune_kernel {
	/* 0 and the current value (newline removed); -ENOENT if the key does not exist, -errno */
	int (*read)(const char *key, char **ret, void *userdata);
	/* 0 if it can be written, -EROFS / -EACCES / -EPERM if not */
	int (*writable)(const char *key, void *userdata);
	void *userdata;
};

enum tune_action {
	TUNE_ACTION_NONE,    /* already at the value berth wants */
	TUNE_ACTION_SET,     /* berth writes its value */
	TUNE_ACTION_KEEP,    /* the current value is better than the wanted one: left alone */
	TUNE_ACTION_RESTORE, /* no longer wanted: the pre-berth value goes back */
};

struct tune_item {
	char *key;
	char *before;   /* live value now; NULL if the key no longer exists (restore only) */
	char *after;    /* live value after the plan */
	char *original; /* value before berth first changed it, NULL if berth manages it not */
	char *reason;
	char *note;     /* why the action ("kept: ...", "restored: ..."), NULL if none */
	char *origin;
	char *file;
	unsigned line;
	enum tune_action action;
	bool changed;   /* the live value changes */
	bool managed;   /* in 60-berth.conf after the plan */
	bool namespaced;
};

struct tune_plan {
	struct tune_item *items;
	size_t n;
	char **warnings; /* strv, never NULL after tune_plan() */
	/* Texts of the files after the plan; NULL means the file is removed. */
	char *conf;        /* 60-berth.conf */
	char *saved_conf;  /* TUNE_SAVED_CONF_PATH */
	char *state;       /* previous.conf after the plan */
	char *state_early; /* previous.conf to write before any live value when the plan records new
			      originals: the old ones and the new ones, so that a crash half-way never
			      loses one; NULL if there are none */
	bool live_changes; /* any item changed */
};

struct tune_plan_input {
	const struct tune_request *request; /* NULL: --revert */
	const struct tune_state *state;
	const struct tune_kernel *kernel;
	const char *conf_current;       /* 60-berth.conf now, NULL if absent */
	const char *saved_conf_current; /* TUNE_SAVED_CONF_PATH now, NULL if absent */
	const char *conf_path;          /* for the header of the file */
	bool force;                     /* --force: set even when the current value is better */
	bool in_container;              /* wording of messages about read-only keys */
};

/* Validates the whole request against the kernel (the key exists, the value has the kernel's
 * shape, the port range respects net.ipv4.ip_unprivileged_port_start, the key can be written if
 * it must change) and computes the plan. All or nothing: if anything is wrong, returns -EINVAL
 * with every problem in diags and no plan. Other errors -errno (-ENOMEM). */
int tune_plan(const struct tune_plan_input *in, struct tune_plan *ret, struct tune_diags *diags);
void tune_plan_release(struct tune_plan *p);
/* Whether the plan changes anything, given the files' current texts. */
bool tune_plan_changes_files(const struct tune_plan *p, const char *conf_current, const char *saved_current,
			     const char *state_current);

/* The files to put in place after the live values, in an order that is safe if berth dies half-way:
 * a 60-berth.conf that berth did not write is saved before it is replaced and dropped only after
 * it is back; previous.conf comes last. Fills paths[] and contents[] (NULL content: remove) and
 * returns how many (at most 4). Before the live values, state_early goes to state_path if not NULL. */
size_t tune_plan_files(const struct tune_plan *p, const char *conf_path, const char *state_path, const char *saved_path,
		       const char *paths[static 4], const char *contents[static 4]);

/* Whether text is a 60-berth.conf written by berth (its first line). */
bool tune_conf_is_ours(const char *text);

/* Services whose nofile (LimitNOFILE=) the host cannot grant: one warning each, appended to
 * warnings. nr_open_now: fs.nr_open before the plan; nr_open_after / file_max_after: after it;
 * 0 when unknown. With check, a service above nr_open_now is reported even if the plan raises it. */
struct tune_service {
	const char *name;
	uint64_t nofile;
};
int tune_check_services(const struct tune_service *s, size_t n, uint64_t nr_open_now, uint64_t nr_open_after,
			uint64_t file_max_after, bool check, char ***warnings);

const char *tune_action_to_string(enum tune_action a);
