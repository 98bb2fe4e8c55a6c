/* fuzz-size.c - sizes, durations, percentages: never crash, and what is accepted formats to text
 * that parses back to the same value (what berth writes into units is what it read). */
#include <string.h>

#include "fuzz.h"
#include "size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256], buf[128];
	uint64_t v, w;
	usec_t d, e;
	unsigned p;
	bool b;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = 0;

	if (parse_size(s, &v) >= 0 && v != SIZE_INFINITY && v != SIZE_UNSET) {
		fuzz_assert(format_size(buf, sizeof(buf), v));
		fuzz_assert(parse_size(buf, &w) >= 0 && w == v);
		fuzz_assert(format_size_human(buf, sizeof(buf), v));
	}
	for (int inf = 0; inf <= 1; inf++)
		if (parse_duration(s, inf, &d) >= 0 && d != USEC_INFINITY) {
			fuzz_assert(format_duration(buf, sizeof(buf), d));
			fuzz_assert(parse_duration(buf, false, &e) >= 0 && e == d);
		}
	if (parse_percent(s, 1, 100000, &p) >= 0)
		fuzz_assert(p >= 1 && p <= 100000);
	if (parse_uint_range(s, 5, 1000, &v) >= 0)
		fuzz_assert(v >= 5 && v <= 1000);
	(void)parse_boolean(s, &b);
	/* tiny buffers are refused, never overrun */
	if (parse_size(s, &v) >= 0 && v != SIZE_INFINITY)
		(void)format_size(buf, 2, v);
	return 0;
}
