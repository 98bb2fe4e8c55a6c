/* cmd-releases.c - berth releases NAME: installed releases, newest first */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "berth.h"
#include "cli.h"
#include "release.h"
#include "services.h"
#include "term.h"
#include "unit.h"

static const char *fmt_time(char *buf, size_t len, uint64_t usec)
{
	if (!usec)
		return "-";
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	return buf;
}

static int exec_releases(int argc, char **argv)
{
	struct release_store store = { .root = (char *)BERTH_STATE_ROOT, .name = argv[0] };
	struct release *rels = NULL;
	size_t n = 0;
	char a[32], b[32];
	int r;

	if (cli_require_service(argv[0]) != BERTH_EXIT_OK)
		return cli_fail("releases", BERTH_EXIT_NOT_FOUND);
	r = release_list(&store, &rels, &n);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot list releases of \"%s\": %m", argv[0]);
		return cli_fail("releases", BERTH_EXIT_FAILURE);
	}
	if (arg_json) {
		struct json j;
		cli_json_begin(&j, "releases");
		json_key_string(&j, "service", argv[0]);
		json_key(&j, "releases");
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++) {
			json_object_begin(&j);
			json_key_string(&j, "version", rels[i].version);
			json_key_bool(&j, "current", rels[i].current);
			json_key_bool(&j, "previous", rels[i].previous);
			json_key_string(&j, "sha256", rels[i].sha256);
			json_key_string(&j, "go_version", rels[i].go_version);
			json_key_string(&j, "module", rels[i].module);
			json_key_uint(&j, "installed_usec", rels[i].installed_usec);
			json_key_uint(&j, "deployed_usec", rels[i].deployed_usec);
			json_key(&j, "ready_msec");
			rels[i].ready_msec >= 0 ? json_int(&j, rels[i].ready_msec) : json_null(&j);
			json_key_string(&j, "status", rels[i].status);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else {
		printf("%s   %-14s %-20s %-20s %-12s %8s  %s%s\n", term_out(TERM_BOLD), "VERSION", "INSTALLED",
		       "LAST DEPLOYED", "GO", "READY", "STATUS", term_out(TERM_RESET));
		for (size_t i = 0; i < n; i++) {
			char ready[32] = "-";
			if (rels[i].ready_msec >= 0)
				snprintf(ready, sizeof(ready), "%" PRId64 "ms", rels[i].ready_msec);
			printf("%s %-14s %-20s %-20s %-12s %8s  %s\n",
			       rels[i].current ? "*" : rels[i].previous ? "-" : " ", rels[i].version,
			       fmt_time(a, sizeof(a), rels[i].installed_usec),
			       fmt_time(b, sizeof(b), rels[i].deployed_usec),
			       rels[i].go_version ? rels[i].go_version : "-", ready,
			       rels[i].status && *rels[i].status ? rels[i].status : "-");
		}
		printf("(* current, - previous: the default rollback target)\n");
	}
	release_list_free(rels, n);
	return BERTH_EXIT_OK;
}

const struct berth_cmd berth_cmd_releases = {
	.name = "releases",
	.usage = "NAME",
	.summary = "list a service's installed releases",
	.min_args = 1,
	.max_args = 1,
	.run = exec_releases,
};
