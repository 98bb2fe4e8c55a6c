/* cmd-logs.c - berth logs NAME [-n N] [-f] [--since TIME] [--release V] (sd-journal) */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "berth.h"
#include "cli.h"
#include "deploy.h"
#include "journal.h"
#include "log.h"
#include "release.h"
#include "services.h"
#include "strv.h"
#include "unit.h"

static unsigned arg_lines = 50;
static bool arg_lines_set, arg_follow;
static const char *arg_since, *arg_release;

/* "2026-11-25 14:03", "2026-11-25 14:03:11", "2026-11-25", or a duration meaning that long ago
 * ("10min", "2h"). */
static int parse_since(const char *s, uint64_t *ret)
{
	struct tm tm = { 0 };
	usec_t ago;
	const char *end;

	if (parse_duration(s, false, &ago) >= 0) {
		uint64_t now = realtime_usec();
		*ret = now > ago ? now - ago : 0;
		return 0;
	}
	const char *formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d" };
	for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end && !*end) {
			tm.tm_isdst = -1;
			time_t t = mktime(&tm);
			if (t == (time_t)-1)
				return -EINVAL;
			*ret = (uint64_t)t * USEC_PER_SEC;
			return 0;
		}
	}
	return -EINVAL;
}

static int set_option(const char *name, const char *arg)
{
	uint64_t v;
	if (streq(name, "lines")) {
		if (parse_uint_range(arg, 0, 1000000, &v) < 0) {
			log_error("berth logs: invalid --lines \"%s\": use a number", arg);
			return BERTH_EXIT_USAGE;
		}
		arg_lines = (unsigned)v;
		arg_lines_set = true;
	} else if (streq(name, "follow"))
		arg_follow = true;
	else if (streq(name, "since"))
		arg_since = arg;
	else if (streq(name, "release"))
		arg_release = arg;
	return 0;
}

static int exec_logs(int argc, char **argv)
{
	const char *name = argv[0];
	_cleanup_free_ char *unit = unit_name_for(name);
	_cleanup_strv_free_ char **ids = NULL;
	struct journal_query q = { .unit = unit, .lines = arg_lines, .follow = arg_follow, .json = arg_json };
	int r;

	if (cli_require_service(name) != BERTH_EXIT_OK)
		return cli_fail("logs", BERTH_EXIT_NOT_FOUND);
	if (arg_since) {
		if (parse_since(arg_since, &q.since_usec) < 0) {
			cli_error(NULL, 0, NULL, NULL,
				  "invalid --since \"%s\": use \"YYYY-MM-DD [HH:MM[:SS]]\" or a duration like 10min", arg_since);
			return cli_fail("logs", BERTH_EXIT_USAGE);
		}
		if (!arg_lines_set)
			q.lines = 0;
	}
	if (arg_release) {
		struct release_store store = { .root = (char *)BERTH_STATE_ROOT, .name = (char *)name };
		r = release_get_invocations(&store, arg_release, &ids);
		if (r < 0 || !ids || !ids[0]) {
			cli_error(NULL, 0, NULL, NULL, "release \"%s\" of \"%s\" has no recorded runs (see berth releases %s)",
				  arg_release, name, name);
			return cli_fail("logs", BERTH_EXIT_NOT_FOUND);
		}
		q.invocation_ids = ids;
	}
	r = journal_print(&q, stdout);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read the journal: %m");
		return cli_fail("logs", BERTH_EXIT_FAILURE);
	}
	return BERTH_EXIT_OK;
}

static const struct berth_option options[] = {
	{ "lines", 'n', required_argument, "N", "the last N entries (default 50, 0 = all)" },
	{ "follow", 'f', no_argument, NULL, "keep printing new entries" },
	{ "since", 0, required_argument, "TIME", "entries since \"YYYY-MM-DD [HH:MM[:SS]]\" or a duration ago (10min)" },
	{ "release", 0, required_argument, "VERSION", "only the runs of this release" },
	{ NULL },
};

const struct berth_cmd berth_cmd_logs = {
	.name = "logs",
	.usage = "NAME",
	.summary = "show a service's logs from the journal",
	.description = "The service's own output and systemd's messages about it. With --json, one\n"
		       "JSON object per line.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.set_option = set_option,
	.run = exec_logs,
};
