/* report.h - the steps a mutating command took, printed as it goes (human) or at the end (--json)
 *
 * Human:  "  release   installed 3f2a9c1b2d4e (go1.19.8)"   (changed steps marked, others dim)
 * JSON:   "steps": [{"step": "release", "changed": true, "detail": "..."}], plus "changed".
 */
#pragma once

#include <stdbool.h>

#include "json.h"
#include "macro.h"

struct report_step {
	char *step;
	bool changed;
	bool failed;
	char *detail;
};

struct report {
	const char *service;
	struct report_step *steps;
	size_t n;
	bool changed; /* any step changed the host */
	bool quiet;   /* --json: collect only */
};

void report_init(struct report *r, const char *service, bool quiet);
void report_step(struct report *r, const char *step, bool changed, const char *fmt, ...) _printf_(4, 5);
void report_fail(struct report *r, const char *step, const char *fmt, ...) _printf_(3, 4);
/* Adds "changed" and "steps" to an open JSON object. */
void report_json(const struct report *r, struct json *j);
void report_release(struct report *r);
