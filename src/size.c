/* size.c - parsing and formatting of sizes, durations, percentages and small numbers (pure) */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "size.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reads the decimal digits at *p (at least one) into *ret and advances *p past them.
 * -EINVAL if there is no digit, -ERANGE if the number does not fit in 64 bits. */
static int parse_digits(const char **p, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	bool overflow = false;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	*p = s;
	if (overflow)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* a * b, or -ERANGE if it does not fit in 64 bits */
static int mul_u64(uint64_t a, uint64_t b, uint64_t *ret)
{
	if (b != 0 && a > UINT64_MAX / b)
		return -ERANGE;
	*ret = a * b;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t factor;
} size_units[] = {
	{ "", 1 },
	{ "K", UINT64_C(1) << 10 },   { "KiB", UINT64_C(1) << 10 },
	{ "M", UINT64_C(1) << 20 },   { "MiB", UINT64_C(1) << 20 },
	{ "G", UINT64_C(1) << 30 },   { "GiB", UINT64_C(1) << 30 },
	{ "T", UINT64_C(1) << 40 },   { "TiB", UINT64_C(1) << 40 },
};

int parse_size(const char *s, uint64_t *ret)
{
	const char *p = s;
	uint64_t n, r;
	int k;

	if (!s || !ret)
		return -EINVAL;
	if (streq(s, "infinity")) {
		*ret = SIZE_INFINITY;
		return 0;
	}

	k = parse_digits(&p, &n);
	if (k == -EINVAL)
		return k;
	/* a bad suffix is a worse mistake than a big number: report it first */
	for (size_t i = 0; i < ELEMENTSOF(size_units); i++) {
		if (!streq(p, size_units[i].suffix))
			continue;
		if (k < 0)
			return k;
		if (mul_u64(n, size_units[i].factor, &r) < 0)
			return -ERANGE;
		/* the two largest values are the sentinels */
		if (r >= SIZE_INFINITY)
			return -ERANGE;
		*ret = r;
		return 0;
	}
	return -EINVAL;
}

static const char *format_u64(char *buf, size_t len, uint64_t v, const char *suffix)
{
	int n;

	if (!buf || len == 0)
		return NULL;
	n = snprintf(buf, len, "%" PRIu64 "%s", v, suffix);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

static const char *format_word(char *buf, size_t len, const char *word)
{
	if (!buf || strlen(word) >= len)
		return NULL;
	strcpy(buf, word);
	return buf;
}

const char *format_size(char *buf, size_t len, uint64_t bytes)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = { { "T", 40 }, { "G", 30 }, { "M", 20 }, { "K", 10 } };

	if (bytes == SIZE_INFINITY)
		return format_word(buf, len, "infinity");
	if (bytes != 0)
		for (size_t i = 0; i < ELEMENTSOF(units); i++)
			if ((bytes & ((UINT64_C(1) << units[i].shift) - 1)) == 0)
				return format_u64(buf, len, bytes >> units[i].shift, units[i].suffix);
	return format_u64(buf, len, bytes, "");
}

const char *format_size_human(char *buf, size_t len, uint64_t bytes)
{
	static const char *const suffixes[] = { "B", "K", "M", "G", "T", "P", "E" };
	unsigned u = 0;
	uint64_t unit = 1, whole, tenths;
	int n;

	if (!buf || len == 0)
		return NULL;
	if (bytes == SIZE_INFINITY)
		return format_word(buf, len, "infinity");
	if (bytes < 1024)
		return format_u64(buf, len, bytes, "B");

	while (u + 1 < ELEMENTSOF(suffixes) && bytes / unit >= 1024) {
		unit <<= 10;
		u++;
	}
	whole = bytes / unit;
	/* rounded to the nearest tenth; the remainder is below 2^60, so ×10 fits */
	tenths = ((bytes % unit) * 10 + unit / 2) / unit;
	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	if (whole >= 1024 && u + 1 < ELEMENTSOF(suffixes)) {
		/* 1023.96K rounds up to 1024.0K: that is 1M */
		whole = 1;
		tenths = 0;
		u++;
	}
	if (tenths == 0)
		n = snprintf(buf, len, "%" PRIu64 "%s", whole, suffixes[u]);
	else
		n = snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%s", whole, tenths, suffixes[u]);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

static const struct {
	const char *suffix;
	usec_t factor;
} duration_units[] = {
	{ "us", 1 },
	{ "ms", USEC_PER_MSEC },
	{ "s", USEC_PER_SEC },
	{ "sec", USEC_PER_SEC },
	{ "m", USEC_PER_MINUTE },
	{ "min", USEC_PER_MINUTE },
	{ "h", USEC_PER_HOUR },
	{ "hr", USEC_PER_HOUR },
};

int parse_duration(const char *s, bool allow_infinity, usec_t *ret)
{
	const char *p = s;
	usec_t total = 0;
	uint64_t n;
	int r;

	if (!s || !ret)
		return -EINVAL;
	if (streq(s, "infinity")) {
		if (!allow_infinity)
			return -EINVAL;
		*ret = USEC_INFINITY;
		return 0;
	}

	r = parse_digits(&p, &n);
	if (r == -EINVAL)
		return r;
	if (*p == '\0') {
		/* a bare number is seconds */
		if (r < 0 || mul_u64(n, USEC_PER_SEC, &total) < 0 || total >= USEC_INFINITY)
			return -ERANGE;
		*ret = total;
		return 0;
	}

	/* NUMBER UNIT [ ' '* NUMBER UNIT ]... */
	bool overflow = false;
	p = s;
	for (;;) {
		const char *u;
		size_t ul;
		usec_t factor = 0, v;

		r = parse_digits(&p, &n);
		if (r == -EINVAL)
			return r;
		if (r == -ERANGE)
			overflow = true;
		for (u = p; is_alpha(*p); p++)
			;
		ul = (size_t)(p - u);
		for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
			if (strlen(duration_units[i].suffix) == ul && strncmp(u, duration_units[i].suffix, ul) == 0)
				factor = duration_units[i].factor;
		if (factor == 0)
			return -EINVAL; /* no unit, or an unknown one */
		if (!overflow && (mul_u64(n, factor, &v) < 0 || v > UINT64_MAX - total))
			overflow = true;
		if (!overflow)
			total += v;

		if (*p == '\0')
			break;
		/* blanks between components, as in systemd's "1h 30min" */
		while (*p == ' ')
			p++;
		if (!is_digit(*p))
			return -EINVAL;
	}
	if (overflow || total >= USEC_INFINITY)
		return -ERANGE;
	*ret = total;
	return 0;
}

const char *format_duration(char *buf, size_t len, usec_t usec)
{
	static const struct {
		const char *suffix;
		usec_t factor;
	} units[] = {
		{ "h", USEC_PER_HOUR }, { "min", USEC_PER_MINUTE }, { "s", USEC_PER_SEC },
		{ "ms", USEC_PER_MSEC }, { "us", 1 },
	};
	size_t used = 0;
	int n;

	if (!buf || len == 0)
		return NULL;
	if (usec == USEC_INFINITY)
		return format_word(buf, len, "infinity");
	if (usec == 0)
		return format_u64(buf, len, 0, "");

	if (usec < 2 * USEC_PER_MINUTE) {
		/* short spans in one unit, as systemd's own defaults read: "90s", "1500ms" */
		for (size_t i = 0; i < ELEMENTSOF(units); i++)
			if (usec % units[i].factor == 0)
				return format_u64(buf, len, usec / units[i].factor, units[i].suffix);
	}

	/* longer ones as components: "2min", "1h 30min", "26h 5s" */
	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		uint64_t v = usec / units[i].factor;
		if (v == 0)
			continue;
		usec %= units[i].factor;
		n = snprintf(buf + used, len - used, "%s%" PRIu64 "%s", used > 0 ? " " : "", v, units[i].suffix);
		if (n < 0 || (size_t)n >= len - used)
			return NULL;
		used += (size_t)n;
	}
	return buf;
}

int parse_percent(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	const char *p = s;
	uint64_t n;
	int r;

	if (!s || !ret)
		return -EINVAL;
	r = parse_digits(&p, &n);
	if (r == -EINVAL || !streq(p, "%"))
		return -EINVAL;
	if (r < 0 || n < min || n > max)
		return -ERANGE;
	*ret = (unsigned)n;
	return 0;
}

int parse_uint_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	const char *p = s;
	uint64_t n;
	int r;

	if (!s || !ret)
		return -EINVAL;
	r = parse_digits(&p, &n);
	if (r == -EINVAL || *p != '\0')
		return -EINVAL;
	if (r < 0 || n < min || n > max)
		return -ERANGE;
	*ret = n;
	return 0;
}

int parse_boolean(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	if (!s || !ret)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}
