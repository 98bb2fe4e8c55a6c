/* cmd-check.c - berth check MANIFEST [--binary PATH]: validate a manifest and inspect its binary */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth.h"
#include "binary.h"
#include "cli.h"
#include "deploy.h"
#include "log.h"
#include "strv.h"
#include "term.h"

static const char *arg_binary;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "binary"))
		arg_binary = arg;
	return 0;
}

static void print_human(const struct manifest *m, const char *bin, const struct binary_verdict *v)
{
	const struct elf_info *e = &v->info;
	const char *ok = term_out(TERM_GREEN), *reset = term_out(TERM_RESET);

	printf("%-12s %s%s%s (service %s)\n", "manifest", ok, "valid", reset, m->name);
	printf("%-12s %s\n", "binary", bin);
	printf("%-12s ELF %d-bit %s, %s (%s), %s, %s\n", "  format", e->elf_class,
	       e->little_endian ? "LSB" : "MSB", elf_machine_name(e->machine), strempty(e->arch),
	       e->interpreter ? "dynamic" : "static", e->stripped ? "stripped" : "not stripped");
	if (e->interpreter)
		printf("%-12s %s\n", "  interp", e->interpreter);
	if (e->is_go) {
		const struct go_buildinfo *g = &e->go;
		printf("%-12s %s\n", "  go", strempty(g->go_version));
		printf("%-12s %s %s\n", "  module", g->main_module ? g->main_module : strempty(g->path),
		       strempty(g->main_version));
		printf("%-12s %s/%s, CGO_ENABLED=%s, trimpath=%s\n", "  build", g->goos ? g->goos : "?",
		       g->goarch ? g->goarch : "?", g->cgo_enabled < 0 ? "?" : g->cgo_enabled ? "1" : "0",
		       g->trimpath ? "yes" : "no");
		if (g->vcs_revision)
			printf("%-12s %s %s%s\n", "  vcs", strempty(g->vcs), g->vcs_revision,
			       g->vcs_modified == 1 ? " (modified)" : "");
	}
	STRV_FOREACH(w, v->warnings)
		log_warning("%s: %s", bin, *w);
	printf("%-12s %s%s%s\n", "verdict", ok, "ready to deploy", reset);
}

static void print_json(const struct manifest *m, const char *bin, const struct binary_verdict *v)
{
	const struct elf_info *e = &v->info;
	struct json j;

	cli_json_begin(&j, "check");
	json_key_bool(&j, "changed", false);
	json_key_string(&j, "manifest", m->path);
	json_key_string(&j, "service", m->name);
	json_key(&j, "binary");
	json_object_begin(&j);
	json_key_string(&j, "path", bin);
	json_key_int(&j, "elf_class", e->elf_class);
	json_key_string(&j, "endianness", e->little_endian ? "little" : "big");
	json_key_string(&j, "machine", elf_machine_name(e->machine));
	json_key_string(&j, "arch", e->arch);
	json_key_string(&j, "host_arch", elf_host_arch());
	json_key_bool(&j, "static", !e->interpreter);
	json_key_string(&j, "interpreter", e->interpreter);
	json_key_bool(&j, "pie", e->pie);
	json_key_bool(&j, "stripped", e->stripped);
	json_key_bool(&j, "go", e->is_go);
	json_key(&j, "go_build");
	if (e->is_go) {
		const struct go_buildinfo *g = &e->go;
		json_object_begin(&j);
		json_key_string(&j, "go_version", g->go_version);
		json_key_string(&j, "path", g->path);
		json_key_string(&j, "main_module", g->main_module);
		json_key_string(&j, "main_version", g->main_version);
		json_key_string(&j, "goos", g->goos);
		json_key_string(&j, "goarch", g->goarch);
		json_key(&j, "cgo_enabled");
		g->cgo_enabled < 0 ? json_null(&j) : json_bool(&j, g->cgo_enabled);
		json_key_bool(&j, "trimpath", g->trimpath);
		json_key_string(&j, "vcs", g->vcs);
		json_key_string(&j, "vcs_revision", g->vcs_revision);
		json_key_string(&j, "vcs_time", g->vcs_time);
		json_key(&j, "vcs_modified");
		g->vcs_modified < 0 ? json_null(&j) : json_bool(&j, g->vcs_modified);
		json_object_end(&j);
	} else
		json_null(&j);
	json_object_end(&j);
	json_key(&j, "warnings");
	json_array_begin(&j);
	STRV_FOREACH(w, v->warnings)
		json_string(&j, *w);
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static int exec_check(int argc, char **argv)
{
	_cleanup_(manifest_freep) struct manifest *m = NULL;
	struct binary_verdict v = { 0 };
	int r;

	r = cli_load_manifest(argv[0], &m);
	if (r != BERTH_EXIT_OK)
		return cli_fail("check", r);
	r = deploy_check_identity(m);
	if (r != BERTH_EXIT_OK)
		return cli_fail("check", r);

	const char *bin = arg_binary ? arg_binary : m->binary;
	if (!bin) {
		cli_error(m->path, 0, "service", "binary", "no binary: set binary = PATH or pass --binary PATH");
		return cli_fail("check", BERTH_EXIT_USAGE);
	}
	/* what deploy refuses as root: files others could change, names of system directories */
	r = deploy_check_trust(m, access(bin, F_OK) == 0 ? bin : NULL);
	if (r != BERTH_EXIT_OK)
		return cli_fail("check", r);
	r = binary_judge(bin, &v);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read binary \"%s\": %m", bin);
		return cli_fail("check", r == -ENOENT ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_FAILURE);
	}
	if (v.error) {
		cli_error(NULL, 0, NULL, NULL, "binary \"%s\" refused: %s", bin, v.error);
		binary_verdict_release(&v);
		return cli_fail("check", BERTH_EXIT_INVALID);
	}
	if (arg_json)
		print_json(m, bin, &v);
	else
		print_human(m, bin, &v);
	binary_verdict_release(&v);
	return BERTH_EXIT_OK;
}

static const struct berth_option options[] = {
	{ "binary", 'b', required_argument, "PATH", "check this binary instead of the manifest's" },
	{ NULL },
};

const struct berth_cmd berth_cmd_check = {
	.name = "check",
	.usage = "MANIFEST",
	.summary = "validate a manifest and the binary it would install",
	.description = "Reads the binary with berth's own ELF reader: architecture against this host,\n"
		       "static or dynamic (and whether the interpreter exists), stripped, and the Go\n"
		       "build info (Go version, module, GOOS/GOARCH, CGO_ENABLED, -trimpath, VCS).\n"
		       "A binary for another architecture or OS is refused; a non-Go ELF is accepted\n"
		       "with a warning. Like deploy, it refuses a manifest, manifest directory,\n"
		       "environment file or binary that anyone but root could change (StrictModes).\n"
		       "Changes nothing.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
	.set_option = set_option,
	.run = exec_check,
};
