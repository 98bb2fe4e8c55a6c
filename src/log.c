/* log.c - messages to stderr */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "term.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static struct timespec started; /* at log_setup(), i.e. the start of main() */

static double ms_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

void log_set_max_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_max_level(void)
{
	return max_level;
}

void log_setup(void)
{
	clock_gettime(CLOCK_MONOTONIC, &started);
	const char *e = getenv("BERTH_LOG_LEVEL");
	if (e && streq(e, "debug"))
		max_level = LOG_LEVEL_DEBUG;
}

int log_internal(enum log_level level, int error, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_LEVEL_ERROR] = "error: ",
		[LOG_LEVEL_WARNING] = "warning: ",
		[LOG_LEVEL_NOTICE] = "",
		[LOG_LEVEL_INFO] = "",
		[LOG_LEVEL_DEBUG] = "debug: ",
	};
	static const char *const colour[] = {
		[LOG_LEVEL_ERROR] = TERM_RED,
		[LOG_LEVEL_WARNING] = TERM_YELLOW,
		[LOG_LEVEL_NOTICE] = "",
		[LOG_LEVEL_INFO] = "",
		[LOG_LEVEL_DEBUG] = TERM_GREY,
	};
	int saved = errno;

	if (error < 0)
		error = -error;
	if (level > max_level)
		goto out;

	bool c = term_colour(STDERR_FILENO) && *colour[level];
	fprintf(stderr, "berth: %s%s%s", c ? colour[level] : "", prefix[level], c ? TERM_RESET : "");
	/* -v: when, since main() started, to see where a command spends its time */
	if (level == LOG_LEVEL_DEBUG)
		fprintf(stderr, "[%7.1f ms] ", ms_since(&started));

	va_list ap;
	va_start(ap, fmt);
	errno = error ? error : saved;
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
out:
	errno = saved;
	return error ? -error : -EINVAL;
}
