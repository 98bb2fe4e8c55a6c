/* fuzz-unit.c - render, then decode by systemd's rules: for any manifest the loader accepts, the
 * unit berth writes gives systemd exactly the manifest's values (argv, environment, description,
 * paths), and no value adds a directive. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "manifest.h"
#include "strv.h"
#include "unit.h"
#include "../unit/unit-decode.h"

int fuzz_manifest_load(const uint8_t *data, size_t size, struct manifest **ret, struct manifest_diags *diags);

/* Every key berth may write; any other key in a rendered unit was injected. */
static const char *const allowed[] = {
	"Description", "Documentation", "After", "Wants", "StartLimitIntervalSec", "StartLimitBurst", "Type",
	"ExecStart", "ExecStartPost", "Restart", "RestartSec", "RestartSteps", "RestartMaxDelaySec",
	"TimeoutStopSec", "TimeoutStartSec", "KillMode", "DynamicUser", "User", "Group", "StateDirectory",
	"StateDirectoryMode", "CacheDirectory", "CacheDirectoryMode", "LogsDirectory", "LogsDirectoryMode",
	"WorkingDirectory", "Environment", "EnvironmentFile", "CPUQuota", "MemoryMax", "MemoryHigh",
	"MemorySwapMax", "TasksMax", "LimitNOFILE", "CPUWeight", "IOWeight", "NoNewPrivileges", "ProtectSystem",
	"ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts", "PrivateUsers", "PrivateNetwork",
	"ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs", "ProtectControlGroups",
	"ProtectClock", "ProtectHostname", "ProtectProc", "RestrictNamespaces", "RestrictRealtime",
	"RestrictSUIDSGID", "LockPersonality", "MemoryDenyWriteExecute", "RemoveIPC", "KeyringMode",
	"DevicePolicy", "UMask", "SystemCallArchitectures", "SystemCallFilter", "SystemCallErrorNumber",
	"RestrictAddressFamilies", "CapabilityBoundingSet", "AmbientCapabilities", "ReadWritePaths",
	"WantedBy", NULL,
};

static bool key_allowed(const char *k, size_t len)
{
	for (const char *const *a = allowed; *a; a++)
		if (strlen(*a) == len && strncmp(*a, k, len) == 0)
			return true;
	return false;
}

/* The values of key, in order (lines "key=value"). */
static char **values_of(const char *unit, const char *key)
{
	char **out = calloc(1, sizeof(char *));
	size_t kl = strlen(key);
	for (const char *l = unit; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		if (ll > kl && strncmp(l, key, kl) == 0 && l[kl] == '=')
			(void)strv_push(&out, strndup(l + kl + 1, ll - kl - 1));
		l = nl ? nl + 1 : NULL;
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL;
	struct manifest_diags diags = { 0 };
	struct unit_context ctx = { .berth_path = "/usr/bin/berth", .host_cpus = 2 };
	struct rendered_unit out = { 0 };

	if (size > MANIFEST_FILE_MAX || fuzz_manifest_load(data, size, &m, &diags) < 0) {
		manifest_diags_release(&diags);
		return 0;
	}
	if (unit_render(m, &ctx, &out) < 0) {
		/* only unrepresentable values may be refused, and they are never written */
		manifest_free(m);
		return 0;
	}
	const char *u = out.files[0].content;

	/* no line but comments, section headers, blanks and allowed keys */
	for (const char *l = u; *l;) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		if (ll && l[0] != '#' && l[0] != '[') {
			const char *eq = memchr(l, '=', ll);
			fuzz_assert(eq && key_allowed(l, (size_t)(eq - l)));
			/* a line ending in a backslash would continue into the next directive */
			fuzz_assert(l[ll - 1] != '\\');
		}
		if (!nl)
			break;
		l = nl + 1;
	}

	/* ExecStart: the binary, then exactly the manifest's argv */
	char **exec = values_of(u, "ExecStart"), **w = NULL;
	fuzz_assert(strv_length(exec) == 1);
	int n = decode_words(exec[0], true, &w);
	fuzz_assert(n == 1 + (int)strv_length(m->args));
	for (int i = 1; i < n; i++)
		fuzz_assert(strcmp(w[i], m->args[i - 1]) == 0);
	free_words(w);
	strv_free(exec);

	/* every [environment] variable, exactly, in order among the Environment= lines */
	char **env = values_of(u, "Environment");
	size_t at = 0;
	for (size_t i = 0; i < m->n_env; i++) {
		char *want = NULL;
		fuzz_assert(asprintf(&want, "%s=%s", m->env[i].name, m->env[i].value) > 0);
		bool found = false;
		for (; env[at] && !found; at++) {
			char **e = NULL;
			if (decode_words(env[at], false, &e) == 1 && strcmp(e[0], want) == 0)
				found = true;
			free_words(e);
		}
		fuzz_assert(found);
		free(want);
	}
	strv_free(env);

	if (m->description) {
		char **d = values_of(u, "Description");
		char *dd = strv_length(d) == 1 ? decode_text(d[0]) : NULL;
		fuzz_assert(dd && strcmp(dd, m->description) == 0);
		free(dd);
		strv_free(d);
	}
	if (m->read_write_paths[0]) {
		char **rw = values_of(u, "ReadWritePaths"), **p = NULL;
		fuzz_assert(strv_length(rw) == 1);
		fuzz_assert(decode_words(rw[0], false, &p) == (int)strv_length(m->read_write_paths));
		for (size_t i = 0; p[i]; i++)
			fuzz_assert(strcmp(p[i], m->read_write_paths[i]) == 0);
		free_words(p);
		strv_free(rw);
	}
	rendered_unit_release(&out);
	manifest_free(m);
	return 0;
}
