/* cmd-render.c - berth render MANIFEST: print the unit file(s) berth would install */
#include <stdio.h>
#include <string.h>

#include "berth.h"
#include "binary.h"
#include "cli.h"
#include "goruntime.h"
#include "log.h"
#include "unit.h"

static const char *arg_binary;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "binary"))
		arg_binary = arg;
	return 0;
}

static int exec_render(int argc, char **argv)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	struct binary_verdict verdict = { 0 };
	struct rendered_unit out = { 0 };
	bool have_binary = false;
	int r;

	r = cli_load_manifest(argv[0], &m);
	if (r != BERTH_EXIT_OK)
		return cli_fail("render", r);

	/* The binary only refines the Go runtime settings; rendering does not need it. */
	const char *bin = arg_binary ? arg_binary : m->binary;
	if (bin) {
		r = binary_judge(bin, &verdict);
		if (r >= 0 && !verdict.error)
			have_binary = true;
		else if (arg_binary) {
			if (r < 0) {
				errno = -r;
				cli_error(NULL, 0, NULL, NULL, "cannot read binary \"%s\": %m", bin);
			} else
				cli_error(NULL, 0, NULL, NULL, "binary \"%s\" refused: %s", bin, verdict.error);
			binary_verdict_release(&verdict);
			return cli_fail("render", r < 0 ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_INVALID);
		} else
			log_notice("note: binary \"%s\" not inspected (%s): Go settings assume Go < 1.25", bin,
				   r < 0 ? strerror(-r) : verdict.error);
	}

	struct unit_context ctx = {
		.berth_path = BERTH_BINDIR "/berth",
		.binary = have_binary ? &verdict.info : NULL,
		.host_cpus = cli_host_cpus(),
	};
	r = unit_render(m, &ctx, &out);
	if (r < 0) {
		binary_verdict_release(&verdict);
		errno = -r;
		cli_error(argv[0], 0, NULL, NULL, "cannot render \"%s\": %m", argv[0]);
		return cli_fail("render", BERTH_EXIT_INVALID);
	}

	if (arg_json) {
		struct json j;
		struct go_decision go;
		go_decide(m, ctx.binary, ctx.host_cpus, &go);
		cli_json_begin(&j, "render");
		json_key_string(&j, "service", m->name);
		json_key(&j, "files");
		json_array_begin(&j);
		for (size_t i = 0; i < out.n_files; i++) {
			json_object_begin(&j);
			json_key_string(&j, "path", out.files[i].path);
			json_key_string(&j, "content", out.files[i].content);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_key(&j, "go");
		json_object_begin(&j);
		json_key(&j, "gomaxprocs");
		go.gomaxprocs ? json_uint(&j, go.gomaxprocs) : json_null(&j);
		json_key_string(&j, "gomaxprocs_source", go_source_to_string(go.gomaxprocs_source));
		json_key_string(&j, "gomaxprocs_reason", go.why_gomaxprocs);
		json_key(&j, "gomemlimit");
		go.gomemlimit ? json_uint(&j, go.gomemlimit) : json_null(&j);
		json_key_string(&j, "gomemlimit_source", go_source_to_string(go.gomemlimit_source));
		json_key_string(&j, "gomemlimit_reason", go.why_gomemlimit);
		json_key_string(&j, "gogc", go.gogc);
		json_object_end(&j);
		json_object_end(&j);
		json_finish(&j);
	} else
		/* like `systemctl cat`: each file preceded by a comment with its path */
		for (size_t i = 0; i < out.n_files; i++)
			printf("%s# %s\n%s", i ? "\n" : "", out.files[i].path, out.files[i].content);

	rendered_unit_release(&out);
	binary_verdict_release(&verdict);
	return BERTH_EXIT_OK;
}

static const struct berth_option options[] = {
	{ "binary", 'b', required_argument, "PATH", "inspect this binary instead of the manifest's (for the Go settings)" },
	{ NULL },
};

const struct berth_cmd berth_cmd_render = {
	.name = "render",
	.usage = "MANIFEST",
	.summary = "print the systemd unit berth would install for a manifest",
	.description = "Needs neither root nor systemd. Each file is printed after a comment line\n"
		       "with the path it would be installed at, as `systemctl cat` does.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.set_option = set_option,
	.run = exec_render,
};
