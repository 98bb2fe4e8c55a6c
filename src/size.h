/* size.h - parsing and formatting of sizes, durations, percentages and small numbers (pure)
 *
 * All parsers take the whole string (no trailing garbage, no leading sign or blanks), never use
 * atoi/strtol without range checks, and return 0 or -EINVAL / -ERANGE.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t usec_t;

#define USEC_PER_MSEC ((usec_t)1000ULL)
#define USEC_PER_SEC ((usec_t)1000000ULL)
#define USEC_PER_MINUTE ((usec_t)(60ULL * USEC_PER_SEC))
#define USEC_PER_HOUR ((usec_t)(60ULL * USEC_PER_MINUTE))

/* Sentinels shared by the manifest and the renderer. "unset" means "not in the manifest". */
#define SIZE_UNSET UINT64_MAX
#define SIZE_INFINITY (UINT64_MAX - 1)
#define USEC_UNSET UINT64_MAX
#define USEC_INFINITY (UINT64_MAX - 1)
#define U64_UNSET UINT64_MAX

/* "512M", "1G", "1536K", "1073741824" (bytes), "infinity" → SIZE_INFINITY.
 * Suffixes K M G T (IEC, powers of 1024), also spelled KiB MiB GiB TiB; integers only.
 * "512Q", "1.5G", "512MB", "-1", "" → -EINVAL; overflow → -ERANGE. */
int parse_size(const char *s, uint64_t *ret);
/* Formats bytes in the largest IEC unit that divides it exactly ("512M", "1536K", "100", "0");
 * SIZE_INFINITY → "infinity". buf must hold at least FORMAT_SIZE_MAX bytes.
 * parse_size(format_size(x)) == x for every x below SIZE_INFINITY. Returns buf, or NULL if buf is
 * NULL or too small. */
#define FORMAT_SIZE_MAX 32
const char *format_size(char *buf, size_t len, uint64_t bytes);
/* Human approximation for status output: "511.8M", "1G", "100B" (one decimal, rounded, ".0"
 * dropped; units B K M G T P E, 1024-based). Not meant to be parsed back. */
const char *format_size_human(char *buf, size_t len, uint64_t bytes);

/* "250ms", "5s", "2min", "1h", "1h30min", "1h 30min", "90" (seconds), "infinity" (only if
 * allow_infinity). Units: us, ms, s, sec, m, min, h, hr; whole numbers only. Components may be
 * separated by spaces (as systemd writes them); a bare number is only allowed on its own.
 * Result in microseconds; a total that reaches USEC_INFINITY is -ERANGE. */
int parse_duration(const char *s, bool allow_infinity, usec_t *ret);
/* Formats like systemd's time spans in unit files; exact, and parsed back by both systemd and
 * parse_duration(). Below 2 minutes one unit, the largest that is exact: "250ms", "5s", "90s",
 * "1500ms"; from 2 minutes on, components: "2min", "1h", "1h 30min", "2min 30s 500ms".
 * 0 → "0", USEC_INFINITY → "infinity". Returns buf, or NULL if buf is NULL or too small. */
#define FORMAT_DURATION_MAX 64
const char *format_duration(char *buf, size_t len, usec_t usec);

/* "150%" → 150. min/max bound the percentage (inclusive): outside them → -ERANGE.
 * A missing '%', a fraction ("1.5%") or a sign is -EINVAL. */
int parse_percent(const char *s, unsigned min, unsigned max, unsigned *ret);

/* Unsigned decimal integer with bounds, e.g. ports 1-65535, weights 1-10000. Digits only
 * (leading zeros are decimal, not octal; no sign, no 0x); outside [min, max] → -ERANGE. */
int parse_uint_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* "yes/no/true/false/on/off/1/0", case-insensitive; anything else → -EINVAL */
int parse_boolean(const char *s, bool *ret);
