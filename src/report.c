/* report.c - steps of a mutating command */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "report.h"
#include "term.h"

void report_init(struct report *r, const char *service, bool quiet)
{
	memset(r, 0, sizeof(*r));
	r->service = service;
	r->quiet = quiet;
}

static void add(struct report *r, const char *step, bool changed, bool failed, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
static void add(struct report *r, const char *step, bool changed, bool failed, const char *fmt, va_list ap)
{
	char *detail = NULL;
	if (vasprintf(&detail, fmt, ap) < 0)
		detail = NULL;
	struct report_step *n = realloc(r->steps, sizeof(*n) * (r->n + 1));
	if (!n) {
		free(detail);
		return;
	}
	r->steps = n;
	r->steps[r->n++] = (struct report_step){ strdup(step), changed, failed, detail };
	if (changed)
		r->changed = true;
	/* -v: when each step ended (debug lines carry the time), to see where a deploy spends it */
	log_debug("step %s done", step);
	if (r->quiet)
		return;
	/* results on stdout, aligned; colour only on a terminal */
	const char *mark = failed ? "✗" : changed ? "✓" : "·";
	const char *c = failed ? term_out(TERM_RED) : changed ? term_out(TERM_GREEN) : term_out(TERM_GREY);
	printf("  %s%s%s %-9s %s\n", c, mark, term_out(TERM_RESET), step, detail ? detail : "");
	fflush(stdout);
}

void report_step(struct report *r, const char *step, bool changed, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(r, step, changed, false, fmt, ap);
	va_end(ap);
}

void report_fail(struct report *r, const char *step, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(r, step, false, true, fmt, ap);
	va_end(ap);
}

void report_json(const struct report *r, struct json *j)
{
	json_key_bool(j, "changed", r->changed);
	json_key(j, "steps");
	json_array_begin(j);
	for (size_t i = 0; i < r->n; i++) {
		json_object_begin(j);
		json_key_string(j, "step", r->steps[i].step);
		json_key_bool(j, "changed", r->steps[i].changed);
		json_key_bool(j, "failed", r->steps[i].failed);
		json_key_string(j, "detail", r->steps[i].detail);
		json_object_end(j);
	}
	json_array_end(j);
}

void report_release(struct report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->steps[i].step);
		free(r->steps[i].detail);
	}
	free(r->steps);
	r->steps = NULL;
	r->n = 0;
}
