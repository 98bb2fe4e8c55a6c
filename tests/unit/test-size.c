/* test-size.c - sizes, durations, percentages, bounded numbers, booleans */
#include "test.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "macro.h"
#include "size.h"

#define K (UINT64_C(1) << 10)
#define M (UINT64_C(1) << 20)
#define G (UINT64_C(1) << 30)
#define T (UINT64_C(1) << 40)

struct size_case {
	const char *s;
	int r;
	uint64_t v;
};

static void test_parse_size_table(void **state)
{
	static const struct size_case cases[] = {
		{ "0", 0, 0 },
		{ "1", 0, 1 },
		{ "100", 0, 100 },
		{ "1K", 0, K },
		{ "1KiB", 0, K },
		{ "1536K", 0, 1536 * K },
		{ "512M", 0, 512 * M },
		{ "512MiB", 0, 512 * M },
		{ "1G", 0, G },
		{ "1GiB", 0, G },
		{ "3T", 0, 3 * T },
		{ "3TiB", 0, 3 * T },
		{ "0K", 0, 0 },
		{ "0512M", 0, 512 * M },
		{ "1073741824", 0, G },
		{ "infinity", 0, SIZE_INFINITY },
		{ "16777215T", 0, UINT64_C(16777215) * T },
		{ "18446744073709551613", 0, UINT64_MAX - 2 },
		/* the sentinels and beyond */
		{ "18446744073709551614", -ERANGE, 0 },
		{ "18446744073709551615", -ERANGE, 0 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "16777216T", -ERANGE, 0 },
		{ "17179869184G", -ERANGE, 0 },
		{ "17179869183G", 0, UINT64_C(17179869183) * G },
		{ "99999999999999999999T", -ERANGE, 0 },
		/* malformed */
		{ "", -EINVAL, 0 },
		{ " ", -EINVAL, 0 },
		{ " 1K", -EINVAL, 0 },
		{ "1K ", -EINVAL, 0 },
		{ "1 K", -EINVAL, 0 },
		{ "512Q", -EINVAL, 0 },
		{ "99999999999999999999Q", -EINVAL, 0 },
		{ "1.5G", -EINVAL, 0 },
		{ "512MB", -EINVAL, 0 },
		{ "512B", -EINVAL, 0 },
		{ "512m", -EINVAL, 0 },
		{ "512k", -EINVAL, 0 },
		{ "512Mi", -EINVAL, 0 },
		{ "512mib", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "K", -EINVAL, 0 },
		{ "Infinity", -EINVAL, 0 },
		{ "inf", -EINVAL, 0 },
		{ "infinityK", -EINVAL, 0 },
		{ "1K1", -EINVAL, 0 },
		{ "1KK", -EINVAL, 0 },
		{ "1\tK", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
		{ "１K", -EINVAL, 0 }, /* fullwidth digit */
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 42;
		int r = parse_size(cases[i].s, &v);
		if (r != cases[i].r || (r == 0 && v != cases[i].v))
			fail_msg("parse_size(\"%s\") = %d, %" PRIu64 "; expected %d, %" PRIu64, cases[i].s, r, v,
				 cases[i].r, cases[i].v);
		if (r < 0)
			assert_int_equal(v, 42); /* ret untouched on failure */
	}
	assert_int_equal(parse_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void test_format_size_table(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1" },
		{ 100, "100" },
		{ 1023, "1023" },
		{ 1024, "1K" },
		{ 1025, "1025" },
		{ 1536 * K, "1536K" },
		{ 512 * M, "512M" },
		{ 1536 * M, "1536M" },
		{ G, "1G" },
		{ 1024 * G, "1T" },
		{ 3 * T, "3T" },
		{ UINT64_C(16777215) * T, "16777215T" },
		{ 1024 * T, "1024T" },
		{ UINT64_MAX - 2, "18446744073709551613" },
		{ SIZE_INFINITY, "infinity" },
	};
	char buf[FORMAT_SIZE_MAX];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_string_equal(format_size(buf, sizeof(buf), cases[i].v), cases[i].s);
	assert_null(format_size(buf, 3, 512 * M)); /* "512M" needs 5 bytes */
	assert_non_null(format_size(buf, 5, 512 * M));
	assert_null(format_size(NULL, 0, 1));
	assert_null(format_size(buf, 8, SIZE_INFINITY));
}

static void test_size_roundtrip(void **state)
{
	char buf[FORMAT_SIZE_MAX];
	uint64_t v, seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	/* every power of two and its neighbours, every unit multiple, and pseudo-random values */
	for (unsigned b = 0; b < 64; b++) {
		uint64_t base = UINT64_C(1) << b;
		uint64_t vals[] = { base - 1, base, base + 1, base * 3, base * 1000 };
		for (size_t i = 0; i < ELEMENTSOF(vals); i++) {
			if (vals[i] >= SIZE_INFINITY)
				continue;
			assert_non_null(format_size(buf, sizeof(buf), vals[i]));
			assert_int_equal(parse_size(buf, &v), 0);
			assert_true(v == vals[i]);
		}
	}
	for (unsigned i = 0; i < 100000; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		uint64_t x = seed >> (seed % 64);
		if (i % 3 == 0)
			x &= ~(M - 1);
		if (x >= SIZE_INFINITY)
			continue;
		assert_non_null(format_size(buf, sizeof(buf), x));
		assert_int_equal(parse_size(buf, &v), 0);
		assert_true(v == x);
	}
	assert_non_null(format_size(buf, sizeof(buf), SIZE_INFINITY));
	assert_int_equal(parse_size(buf, &v), 0);
	assert_true(v == SIZE_INFINITY);
}

static void test_format_size_human(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0B" },
		{ 1, "1B" },
		{ 1023, "1023B" },
		{ 1024, "1K" },
		{ 1536, "1.5K" },
		{ 1024 * 1023 + 1000, "1M" }, /* 1023.98K rounds up to 1024K: that is 1M */
		{ 512 * M - 200 * K, "511.8M" },
		{ 512 * M, "512M" },
		{ G + 100 * M, "1.1G" },
		{ 5 * T, "5T" },
		{ 1024 * T, "1P" },
		{ UINT64_MAX - 2, "16E" },
		{ SIZE_INFINITY, "infinity" },
	};
	char buf[FORMAT_SIZE_MAX];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_string_equal(format_size_human(buf, sizeof(buf), cases[i].v), cases[i].s);
	assert_null(format_size_human(buf, 2, 512 * M));
}

struct duration_case {
	const char *s;
	bool inf;
	int r;
	usec_t v;
};

#define SEC USEC_PER_SEC
#define MSEC USEC_PER_MSEC
#define MIN USEC_PER_MINUTE
#define HOUR USEC_PER_HOUR

static void test_parse_duration_table(void **state)
{
	static const struct duration_case cases[] = {
		{ "0", false, 0, 0 },
		{ "0s", false, 0, 0 },
		{ "90", false, 0, 90 * SEC },
		{ "1us", false, 0, 1 },
		{ "250ms", false, 0, 250 * MSEC },
		{ "5s", false, 0, 5 * SEC },
		{ "5sec", false, 0, 5 * SEC },
		{ "2m", false, 0, 2 * MIN },
		{ "2min", false, 0, 2 * MIN },
		{ "1h", false, 0, HOUR },
		{ "1hr", false, 0, HOUR },
		{ "1h30min", false, 0, HOUR + 30 * MIN },
		{ "1h 30min", false, 0, HOUR + 30 * MIN },
		{ "1h  30min", false, 0, HOUR + 30 * MIN },
		{ "1m30s", false, 0, 90 * SEC },
		{ "1s500ms", false, 0, 1500 * MSEC },
		{ "2min 30s 500ms 7us", false, 0, 150 * SEC + 500 * MSEC + 7 },
		{ "30min1h", false, 0, HOUR + 30 * MIN },
		{ "48h", false, 0, 48 * HOUR },
		{ "0090s", false, 0, 90 * SEC },
		{ "infinity", true, 0, USEC_INFINITY },
		{ "18446744073709551613us", false, 0, UINT64_MAX - 2 },
		/* out of range */
		{ "18446744073709551614us", false, -ERANGE, 0 },
		{ "18446744073709551616us", false, -ERANGE, 0 },
		{ "18446744073710s", false, -ERANGE, 0 },
		{ "18446744073709s", false, 0, UINT64_C(18446744073709) * SEC },
		{ "18446744073710", false, -ERANGE, 0 },
		{ "18446744073709551613us 1us", false, -ERANGE, 0 },
		{ "5124095577h", false, -ERANGE, 0 },
		{ "5124095576h", false, 0, UINT64_C(5124095576) * HOUR },
		{ "99999999999999999999s", false, -ERANGE, 0 },
		/* malformed */
		{ "infinity", false, -EINVAL, 0 },
		{ "", false, -EINVAL, 0 },
		{ " ", false, -EINVAL, 0 },
		{ " 5s", false, -EINVAL, 0 },
		{ "5s ", false, -EINVAL, 0 },
		{ "5 s", false, -EINVAL, 0 },
		{ "1h 30", false, -EINVAL, 0 },
		{ "1h30", false, -EINVAL, 0 },
		{ "1.5s", false, -EINVAL, 0 },
		{ "-5s", false, -EINVAL, 0 },
		{ "+5s", false, -EINVAL, 0 },
		{ "5S", false, -EINVAL, 0 },
		{ "5d", false, -EINVAL, 0 },
		{ "5secs", false, -EINVAL, 0 },
		{ "5mins", false, -EINVAL, 0 },
		{ "s", false, -EINVAL, 0 },
		{ "5s,1s", false, -EINVAL, 0 },
		{ "5s\t1s", false, -EINVAL, 0 },
		{ "Infinity", true, -EINVAL, 0 },
		{ "99999999999999999999x", false, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		usec_t v = 42;
		int r = parse_duration(cases[i].s, cases[i].inf, &v);
		if (r != cases[i].r || (r == 0 && v != cases[i].v))
			fail_msg("parse_duration(\"%s\", %d) = %d, %" PRIu64 "; expected %d, %" PRIu64, cases[i].s,
				 cases[i].inf, r, v, cases[i].r, cases[i].v);
		if (r < 0)
			assert_int_equal(v, 42);
	}
}

static void test_format_duration_table(void **state)
{
	static const struct {
		usec_t v;
		const char *s;
	} cases[] = {
		{ 0, "0" },
		{ 1, "1us" },
		{ 999, "999us" },
		{ 250 * MSEC, "250ms" },
		{ 1500 * MSEC, "1500ms" },
		{ 5 * SEC, "5s" },
		{ 60 * SEC, "1min" },
		{ 90 * SEC, "90s" },
		{ 119 * SEC, "119s" },
		{ 2 * MIN, "2min" },
		{ 150 * SEC, "2min 30s" },
		{ 30 * MIN, "30min" },
		{ HOUR, "1h" },
		{ HOUR + 30 * MIN, "1h 30min" },
		{ 26 * HOUR + 5 * SEC, "26h 5s" },
		{ 2 * MIN + 1, "2min 1us" },
		{ 150 * SEC + 500 * MSEC + 7, "2min 30s 500ms 7us" },
		{ USEC_INFINITY, "infinity" },
	};
	char buf[FORMAT_DURATION_MAX];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		assert_string_equal(format_duration(buf, sizeof(buf), cases[i].v), cases[i].s);
	assert_null(format_duration(buf, 4, HOUR + 30 * MIN));
	assert_null(format_duration(NULL, 0, 1));
	/* the longest value still fits */
	assert_non_null(format_duration(buf, sizeof(buf), UINT64_MAX - 2));
}

static void test_duration_roundtrip(void **state)
{
	char buf[FORMAT_DURATION_MAX];
	usec_t v, seed = 0x2545f4914f6cdd1dULL;
	const usec_t units[] = { 1, MSEC, SEC, MIN, HOUR };

	(void)state;
	for (size_t u = 0; u < ELEMENTSOF(units); u++)
		for (uint64_t n = 0; n < 5000; n++) {
			usec_t x = n * units[u];
			assert_non_null(format_duration(buf, sizeof(buf), x));
			assert_int_equal(parse_duration(buf, false, &v), 0);
			assert_true(v == x);
		}
	for (unsigned i = 0; i < 100000; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		usec_t x = seed >> (seed % 64);
		if (x >= USEC_INFINITY)
			continue;
		assert_non_null(format_duration(buf, sizeof(buf), x));
		if (parse_duration(buf, false, &v) != 0 || v != x)
			fail_msg("round trip of %" PRIu64 " via \"%s\" failed", x, buf);
	}
	assert_non_null(format_duration(buf, sizeof(buf), USEC_INFINITY));
	assert_int_equal(parse_duration(buf, true, &v), 0);
	assert_true(v == USEC_INFINITY);
	assert_int_equal(parse_duration(buf, false, &v), -EINVAL);
}

static void test_parse_percent(void **state)
{
	static const struct {
		const char *s;
		unsigned min, max;
		int r;
		unsigned v;
	} cases[] = {
		{ "150%", 1, 100000, 0, 150 },
		{ "1%", 1, 100000, 0, 1 },
		{ "100000%", 1, 100000, 0, 100000 },
		{ "100001%", 1, 100000, -ERANGE, 0 },
		{ "0%", 1, 100000, -ERANGE, 0 },
		{ "0%", 0, 100, 0, 0 },
		{ "99999999999999999999999%", 1, 100000, -ERANGE, 0 },
		{ "150", 1, 100000, -EINVAL, 0 },
		{ "1.5%", 1, 100000, -EINVAL, 0 },
		{ "-5%", 0, 100000, -EINVAL, 0 },
		{ "%", 0, 100000, -EINVAL, 0 },
		{ "", 0, 100000, -EINVAL, 0 },
		{ " 5%", 0, 100000, -EINVAL, 0 },
		{ "5 %", 0, 100000, -EINVAL, 0 },
		{ "5%%", 0, 100000, -EINVAL, 0 },
		{ "5% ", 0, 100000, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		unsigned v = 42;
		int r = parse_percent(cases[i].s, cases[i].min, cases[i].max, &v);
		if (r != cases[i].r || (r == 0 && v != cases[i].v))
			fail_msg("parse_percent(\"%s\") = %d, %u", cases[i].s, r, v);
		if (r < 0)
			assert_int_equal(v, 42);
	}
}

static void test_parse_uint_range(void **state)
{
	static const struct {
		const char *s;
		uint64_t min, max;
		int r;
		uint64_t v;
	} cases[] = {
		{ "1", 1, 65535, 0, 1 },
		{ "65535", 1, 65535, 0, 65535 },
		{ "08080", 1, 65535, 0, 8080 },
		{ "0", 1, 65535, -ERANGE, 0 },
		{ "65536", 1, 65535, -ERANGE, 0 },
		{ "0", 0, 0, 0, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, -ERANGE, 0 },
		{ "1073741824", 1, UINT64_C(1) << 30, 0, UINT64_C(1) << 30 },
		{ "1073741825", 1, UINT64_C(1) << 30, -ERANGE, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ "-1", 0, 10, -EINVAL, 0 },
		{ "+1", 0, 10, -EINVAL, 0 },
		{ " 1", 0, 10, -EINVAL, 0 },
		{ "1 ", 0, 10, -EINVAL, 0 },
		{ "0x1", 0, 10, -EINVAL, 0 },
		{ "1K", 0, 10000, -EINVAL, 0 },
		{ "1e3", 0, 10000, -EINVAL, 0 },
		{ "3.0", 0, 10000, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		uint64_t v = 42;
		int r = parse_uint_range(cases[i].s, cases[i].min, cases[i].max, &v);
		if (r != cases[i].r || (r == 0 && v != cases[i].v))
			fail_msg("parse_uint_range(\"%s\") = %d, %" PRIu64, cases[i].s, r, v);
		if (r < 0)
			assert_int_equal(v, 42);
	}
}

static void test_parse_boolean(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "YES", "True", "On" };
	static const char *const no[] = { "no", "false", "off", "0", "NO", "False", "OFF" };
	static const char *const bad[] = { "", "y", "n", "t", "f", "2", "yes ", " no", "enable", "01", "oui" };
	bool b;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		b = false;
		assert_int_equal(parse_boolean(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < ELEMENTSOF(no); i++) {
		b = true;
		assert_int_equal(parse_boolean(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		b = true;
		assert_int_equal(parse_boolean(bad[i], &b), -EINVAL);
		assert_true(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_table),
		cmocka_unit_test(test_format_size_table),
		cmocka_unit_test(test_size_roundtrip),
		cmocka_unit_test(test_format_size_human),
		cmocka_unit_test(test_parse_duration_table),
		cmocka_unit_test(test_format_duration_table),
		cmocka_unit_test(test_duration_roundtrip),
		cmocka_unit_test(test_parse_percent),
		cmocka_unit_test(test_parse_uint_range),
		cmocka_unit_test(test_parse_boolean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
