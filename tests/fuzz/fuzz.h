/* fuzz.h - what berth's fuzz targets share. Each fuzz-*.c defines LLVMFuzzerTestOneInput; built
 * with libFuzzer (configure --enable-fuzzing, `make fuzz`) it is fuzzed, and linked with replay.c
 * it runs every file of its seed corpus and regressions in `make check`.
 *
 * A property that does not hold is reported with fuzz_fail(): abort(), so that libFuzzer keeps the
 * input and the replay fails. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_assert(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: property does not hold: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)
