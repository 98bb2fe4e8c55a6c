/* cmd-help.c - berth help [COMMAND | manifest] */
#include <stdio.h>
#include <string.h>

#include "berth.h"
#include "cli.h"
#include "log.h"
#include "macro.h"
#include "manifest-keys.h"

/* [environment] has no key names of its own: any NAME stands for itself. */
#define ENV_KEY_NAME "NAME"

static const char *key_name(const struct manifest_key *k)
{
	return k->name ? k->name : ENV_KEY_NAME;
}

static const char *key_default(const struct manifest_key *k)
{
	return k->flags & MANIFEST_KEY_REQUIRED ? "required" : k->default_text ? k->default_text : "-";
}

static size_t widest(size_t w, const char *s)
{
	return strlen(s) > w ? strlen(s) : w;
}

static void print_keys_json(void)
{
	struct json j;

	cli_json_begin(&j, "help");
	json_key(&j, "sections");
	json_array_begin(&j);
	for (size_t s = 0; s < manifest_n_sections; s++) {
		const struct manifest_section *sec = &manifest_sections[s];
		json_object_begin(&j);
		json_key_string(&j, "name", sec->name);
		json_key_string(&j, "description", sec->description);
		json_key(&j, "keys");
		json_array_begin(&j);
		for (size_t i = 0; i < manifest_n_keys; i++) {
			const struct manifest_key *k = &manifest_keys[i];
			if (!streq(k->section, sec->name))
				continue;
			json_object_begin(&j);
			json_key_string(&j, "name", key_name(k));
			json_key_string(&j, "type", manifest_type_name(k->type));
			json_key_bool(&j, "required", k->flags & MANIFEST_KEY_REQUIRED);
			json_key_string(&j, "default", k->default_text);
			json_key_string(&j, "allowed", manifest_key_allowed(k));
			json_key_string(&j, "description", k->description);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* One block per section, one line per key: name, type, default, description; columns as wide as
 * the section needs. */
static void print_keys(FILE *f)
{
	fprintf(f, "Manifest keys, by section (berth.ini(5) has the details).\n");
	for (size_t s = 0; s < manifest_n_sections; s++) {
		const struct manifest_section *sec = &manifest_sections[s];
		size_t w_name = strlen("KEY"), w_type = strlen("TYPE"), w_default = strlen("DEFAULT");

		for (size_t i = 0; i < manifest_n_keys; i++) {
			const struct manifest_key *k = &manifest_keys[i];
			if (!streq(k->section, sec->name))
				continue;
			w_name = widest(w_name, key_name(k));
			w_type = widest(w_type, manifest_type_name(k->type));
			w_default = widest(w_default, key_default(k));
		}
		fprintf(f, "\n[%s]: %s\n", sec->name, sec->description);
		fprintf(f, "  %-*s  %-*s  %-*s  %s\n", (int)w_name, "KEY", (int)w_type, "TYPE", (int)w_default,
			"DEFAULT", "DESCRIPTION");
		for (size_t i = 0; i < manifest_n_keys; i++) {
			const struct manifest_key *k = &manifest_keys[i];
			if (streq(k->section, sec->name))
				fprintf(f, "  %-*s  %-*s  %-*s  %s\n", (int)w_name, key_name(k), (int)w_type,
					manifest_type_name(k->type), (int)w_default, key_default(k), k->description);
		}
	}
}

static int exec_help(int argc, char **argv)
{
	if (argc == 0) {
		/* same text as berth --help: let main print it */
		const struct berth_cmd *self = berth_find_cmd("help");
		return berth_print_cmd_help(self, stdout);
	}
	if (streq(argv[0], "manifest")) {
		if (arg_json)
			print_keys_json();
		else
			print_keys(stdout);
		return BERTH_EXIT_OK;
	}
	const struct berth_cmd *cmd = berth_find_cmd(argv[0]);
	if (!cmd) {
		log_error("no help for unknown command \"%s\" (see berth --help)", argv[0]);
		return BERTH_EXIT_USAGE;
	}
	return berth_print_cmd_help(cmd, stdout);
}

const struct berth_cmd berth_cmd_help = {
	.name = "help",
	.usage = "[COMMAND | manifest]",
	.summary = "show the usage of a command, or every manifest key",
	.description = "berth help COMMAND shows a command's usage and options; berth help manifest\n"
		       "lists every manifest section and key with its type, default and meaning\n"
		       "(--json: the same as objects).",
	.min_args = 0,
	.max_args = 1,
	.run = exec_help,
};
