/* goruntime.h - what berth tells the Go runtime about the service's limits (pure)
 *
 * Go before 1.25 sizes GOMAXPROCS from the host's CPUs, not from the cgroup's CPU quota; Go 1.25
 * reads the quota and follows its changes (unless its GODEBUG settings containermaxprocs or
 * updatemaxprocs are 0, which a go.mod older than 1.25 implies), and a GOMAXPROCS variable would
 * turn that off. No Go version derives a soft memory limit from MemoryMax, and before 1.19 Go has
 * none (GOMEMLIMIT). Left alone, a Go service limited to
 * 1.5 CPUs on a 16-core host runs 16 Ps and gets throttled, and one limited to 512M grows its heap
 * until the kernel OOM-kills it instead of collecting harder. The decisions here are rendered into
 * the unit (with a comment saying why) and reported by `berth status --json`.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "elf.h"
#include "manifest.h"

#define GOMEMLIMIT_DEFAULT_RATIO_PERCENT 90

enum go_source {
	GO_SOURCE_NONE,      /* nothing set */
	GO_SOURCE_MANIFEST,  /* an explicit value in [go] */
	GO_SOURCE_AUTO,      /* computed from the cgroup limit */
	GO_SOURCE_NATIVE,    /* Go ≥ 1.25 reads the CPU limit itself */
	GO_SOURCE_NOT_GO,    /* the binary is not a Go program: [go] ignored */
};

struct go_decision {
	uint64_t gomaxprocs;    /* 0 = leave unset */
	enum go_source gomaxprocs_source;
	uint64_t gomemlimit;    /* bytes, 0 = leave unset */
	enum go_source gomemlimit_source;
	const char *gogc;       /* NULL = leave unset */
	char why_gomaxprocs[256];
	char why_gomemlimit[256];
};

/* "go1.19.8", "go1.25rc1", "go1.22.0 X:loopvar" → 1, 19 (1, 25; 1, 22); a development toolchain's
 * "devel go1.26-4b2a7c1 ..." → the release it leads to, 1, 26; false for anything else, older
 * development versions ("devel +4b2a7c1 ...") included. */
bool go_version_parse(const char *v, unsigned *ret_major, unsigned *ret_minor);
bool go_version_at_least(const char *v, unsigned major, unsigned minor);

/* binary may be NULL (not inspected yet: treated as an old Go, the safe side); host_cpus 0 = unknown. */
void go_decide(const struct manifest *m, const struct elf_info *binary, unsigned host_cpus,
	       struct go_decision *ret);
const char *go_source_to_string(enum go_source s);
