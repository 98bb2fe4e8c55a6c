/* manifest-keys.h - the one table of every manifest section and key (pure)
 *
 * manifest_keys[] names every key once: its section, type, default, what it accepts (in words, for
 * messages and documentation), a one-line description, and where it is stored in struct
 * manifest. manifest_load() validates and stores through it, "did you mean" searches it,
 * `berth help manifest` prints it, and man/berth.ini.5 documents the same names and defaults
 * (test-manifest checks that the man page agrees with this table).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

enum manifest_type {
	MANIFEST_TYPE_TEXT,       /* one line of free text */
	MANIFEST_TYPE_NAME,       /* service name: [A-Za-z0-9_.-], ≤ 64, no leading '-' or '.' */
	MANIFEST_TYPE_PATH,       /* absolute path */
	MANIFEST_TYPE_BINARY,     /* path, absolute or relative to the manifest's directory */
	MANIFEST_TYPE_ARGS,       /* words, quoted like a shell, no expansion */
	MANIFEST_TYPE_USER,       /* user name, or "dynamic" */
	MANIFEST_TYPE_GROUP,      /* group name */
	MANIFEST_TYPE_UNITS,      /* space-separated systemd unit names */
	MANIFEST_TYPE_ENUM,       /* one of choices[] */
	MANIFEST_TYPE_DURATION,   /* parse_duration(); "infinity" only with MANIFEST_KEY_INFINITY */
	MANIFEST_TYPE_SIZE,       /* parse_size(); "infinity" only with MANIFEST_KEY_INFINITY */
	MANIFEST_TYPE_PERCENT,    /* parse_percent() within [min, max] */
	MANIFEST_TYPE_UINT,       /* parse_uint_range() within [min, max]; "infinity" with MANIFEST_KEY_INFINITY */
	MANIFEST_TYPE_PORT,       /* 1-65535, stored as uint16_t */
	MANIFEST_TYPE_BOOL,       /* parse_boolean() */
	MANIFEST_TYPE_URL,        /* local http URL, see parse_local_http_url() */
	MANIFEST_TYPE_STATUS,     /* HTTP status set, see http_expect_is_valid() */
	MANIFEST_TYPE_HOST_PORT,  /* local HOST:PORT */
	MANIFEST_TYPE_PATHS,      /* absolute paths, separated by blanks, quoted like args */
	MANIFEST_TYPE_FAMILIES,   /* address families from choices[] */
	MANIFEST_TYPE_GO,         /* auto, off, or a number/size (the [go] keys) */
	MANIFEST_TYPE_ENV,        /* [environment]: any NAME = value */
	_MANIFEST_TYPE_MAX,
};

enum manifest_key_flags {
	MANIFEST_KEY_REQUIRED = 1 << 0,      /* the manifest is invalid without it */
	MANIFEST_KEY_RAW = 1 << 1,           /* takes the raw text of the line (quotes kept, comments cut at the
	                                      * first unquoted ; or #) instead of iniparser's value */
	MANIFEST_KEY_EMPTY_OK = 1 << 2,      /* an empty value is allowed */
	MANIFEST_KEY_INFINITY = 1 << 3,      /* "infinity" is allowed */
	MANIFEST_KEY_STORE_DEFAULT = 1 << 4, /* the default is stored into struct manifest up front (fields
	                                      * without an "unset" value: booleans, enums, expect) */
	MANIFEST_KEY_UNQUOTED = 1 << 5,      /* written unquoted into a unit file: no trailing backslash */
};

struct manifest_key;

/* Parses value and stores it into m. Returns 0; -EINVAL with *ret_problem set to a message that
 * names the value in quotes and what is allowed; or -ENOMEM. value has passed the common checks
 * (valid UTF-8, no control characters, not empty unless MANIFEST_KEY_EMPTY_OK). */
typedef int (*manifest_setter)(const struct manifest_key *k, const char *value, struct manifest *m,
			       char **ret_problem);

struct manifest_key {
	const char *section;
	const char *name;            /* NULL: any environment variable name (the [environment] section) */
	enum manifest_type type;
	unsigned flags;              /* enum manifest_key_flags */
	const char *default_text;    /* as documented, e.g. "5", "yes", "2xx", "30s"; NULL: not set */
	const char *allowed;         /* what is accepted, completing "use ...": "a port from 1 to 65535" */
	const char *description;     /* one line for `berth help manifest` and the man page */
	uint64_t min, max;           /* bounds of UINT, PERCENT, GO values; minimum of SIZE and DURATION */
	const char *const *choices;  /* ENUM and FAMILIES: NULL-terminated */
	size_t offset;               /* field of struct manifest that the setter for the type stores into */
	manifest_setter set;         /* NULL: the setter for the type, storing at offset */
};

struct manifest_section {
	const char *name;
	const char *description;
};

/* In documentation order. */
extern const struct manifest_section manifest_sections[];
extern const size_t manifest_n_sections;
extern const struct manifest_key manifest_keys[];
extern const size_t manifest_n_keys;

/* Address families that [hardening] address_families accepts (NULL-terminated), and the ones
 * that are always allowed (AF_INET AF_INET6 AF_UNIX). */
extern const char *const manifest_address_families[];
extern const char *const manifest_default_address_families[];

/* Looks a section up by its (lowercase) name; NULL if unknown. */
const struct manifest_section *manifest_section_lookup(const char *name);
/* Looks a key up in a section, both lowercase. For [environment] any name gives its one entry.
 * NULL if unknown. */
const struct manifest_key *manifest_key_lookup(const char *section, const char *key);
/* The keys of one section (NULL-terminated, static storage); NULL for an unknown section. For
 * suggest_closest(). */
const char *const *manifest_section_key_names(const char *section);
/* Every key name of every section except [environment] (NULL-terminated, static storage). */
const char *const *manifest_all_key_names(void);
/* The section names (NULL-terminated, static storage). */
const char *const *manifest_section_names(void);

/* "size", "duration", "boolean", ...: the type as documented. */
const char *manifest_type_name(enum manifest_type t);
/* What the key accepts, in words: k->allowed, or the type's standard wording. */
const char *manifest_key_allowed(const struct manifest_key *k);

/* Checks value the way every value is checked (valid UTF-8, no control characters, not empty
 * unless allowed, no trailing backslash where written unquoted), then parses and stores it with
 * the key's setter. Returns 0, -EINVAL with *ret_problem, or -ENOMEM. */
int manifest_key_apply(const struct manifest_key *k, const char *value, struct manifest *m, char **ret_problem);

/* Why a string cannot be used as a value ("is not valid UTF-8 (byte 0xff at offset 3)",
 * "contains a tab"), or NULL if it is fine; the text is static. */
const char *manifest_value_problem(const char *s);

/* s quoted for a message: in "...", with \ and " escaped, control characters and invalid UTF-8
 * as \xNN, cut to about 64 characters with "..." so a 1000-character value stays readable.
 * NULL on ENOMEM. */
char *manifest_quote(const char *s);

/* p with repeated slashes and "." components collapsed and a trailing slash dropped ("/a//./b/"
 * → "/a/b"); ".." is kept, since only the file system can resolve it. NULL on ENOMEM. */
char *manifest_path_simplify(const char *p);
