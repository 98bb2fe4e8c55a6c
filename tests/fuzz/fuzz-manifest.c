/* fuzz-manifest.c - the manifest loader (iniparser plus berth's index and validation) on any
 * bytes: it never crashes or leaks, accepts or refuses with diagnostics, and an accepted manifest
 * has the invariants the rest of berth relies on. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "manifest.h"
#include "strv.h"
#include "utf8.h"

int fuzz_manifest_load(const uint8_t *data, size_t size, struct manifest **ret, struct manifest_diags *diags);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL;
	struct manifest_diags diags = { 0 };

	if (size > MANIFEST_FILE_MAX + 16)
		return 0;
	int r = fuzz_manifest_load(data, size, &m, &diags);
	if (r == 0) {
		fuzz_assert(m && service_name_is_valid(m->name));
		fuzz_assert(m->args && m->after && m->wants && m->read_write_paths && m->address_families);
		for (size_t i = 0; i < m->n_env; i++)
			fuzz_assert(env_name_is_valid(m->env[i].name) && m->env[i].value);
		fuzz_assert(diags.n == 0);
		manifest_free(m);
	} else if (r == -EINVAL) {
		fuzz_assert(diags.n > 0 || diags.n_dropped > 0);
		for (size_t i = 0; i < diags.n; i++) {
			fuzz_assert(diags.items[i].message);
			char *f = manifest_diag_format("x.ini", &diags.items[i]);
			fuzz_assert(f);
			free(f);
		}
	}
	manifest_diags_release(&diags);
	return 0;
}
