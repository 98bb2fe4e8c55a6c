/* goruntime.c - GOMAXPROCS / GOMEMLIMIT / GOGC policy */
#include <stdio.h>
#include <string.h>

#include "macro.h"

#include "goruntime.h"
#include "size.h"

bool go_version_parse(const char *v, unsigned *ret_major, unsigned *ret_minor)
{
	unsigned major, minor;
	int n = 0;

	if (!v)
		return false;
	/* a toolchain built from Go's own tree: "devel go1.26-4b2a7c1 Fri May 2 ...", the release it
	 * leads to (older ones said only "devel +4b2a7c1 ...": unknown) */
	if (startswith(v, "devel "))
		v += 6;
	if (strncmp(v, "go", 2) != 0)
		return false;
	if (sscanf(v + 2, "%u.%u%n", &major, &minor, &n) != 2 || n == 0)
		return false;
	*ret_major = major;
	*ret_minor = minor;
	return true;
}

bool go_version_at_least(const char *v, unsigned major, unsigned minor)
{
	unsigned ma, mi;
	if (!go_version_parse(v, &ma, &mi))
		return false;
	return ma > major || (ma == major && mi >= minor);
}

const char *go_source_to_string(enum go_source s)
{
	switch (s) {
	case GO_SOURCE_MANIFEST:
		return "manifest";
	case GO_SOURCE_AUTO:
		return "auto";
	case GO_SOURCE_NATIVE:
		return "go-native";
	case GO_SOURCE_NOT_GO:
		return "not-go";
	default:
		return "none";
	}
}

/* The value of setting name in a GODEBUG list ("a=1,containermaxprocs=0"): 1, 0, or -1 if the
 * list does not set it to 0 or 1. The last one counts, as in Go. */
static int godebug_get(const char *list, const char *name)
{
	size_t n = strlen(name);
	int v = -1;

	for (const char *p = list; p && *p;) {
		const char *end = strchrnul(p, ',');
		if ((size_t)(end - p) == n + 2 && strncmp(p, name, n) == 0 && p[n] == '=' &&
		    (p[n + 1] == '0' || p[n + 1] == '1'))
			v = p[n + 1] - '0';
		p = *end ? end + 1 : end;
	}
	return v;
}

static const char *env_get(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_env; i++)
		if (strcmp(m->env[i].name, name) == 0)
			return m->env[i].value;
	return NULL;
}

/* A runtime setting of Go 1.25+ that defaults to on: GODEBUG in [environment] wins over the
 * binary's DefaultGODEBUG (which a go.mod older than the setting turns off). ret_where: who
 * turned it off. */
static bool godebug_on(const struct manifest *m, const struct elf_info *bin, const char *name, const char **ret_where)
{
	int v = godebug_get(env_get(m, "GODEBUG"), name);

	*ret_where = "[environment] GODEBUG";
	if (v < 0) {
		v = godebug_get(bin->go.default_godebug, name);
		*ret_where = "the binary's DefaultGODEBUG (its go.mod's go line is older than 1.25, or a //go:debug line says so)";
	}
	return v != 0;
}

static void decide_gomaxprocs(const struct manifest *m, const struct elf_info *bin, unsigned host_cpus,
			      struct go_decision *d)
{
	const char *ver = bin && bin->is_go ? bin->go.go_version : NULL, *where = NULL;
	bool native = false;

	switch (m->gomaxprocs_mode) {
	case GO_MODE_OFF:
		snprintf(d->why_gomaxprocs, sizeof(d->why_gomaxprocs), "off in the manifest");
		return;
	case GO_MODE_VALUE:
		d->gomaxprocs = m->gomaxprocs;
		d->gomaxprocs_source = GO_SOURCE_MANIFEST;
		snprintf(d->why_gomaxprocs, sizeof(d->why_gomaxprocs), "set in the manifest");
		return;
	default:
		break;
	}
	if (m->cpu_quota_percent == 0) {
		snprintf(d->why_gomaxprocs, sizeof(d->why_gomaxprocs),
			 "auto: no CPU quota, Go uses every CPU");
		return;
	}
	/* Go 1.25 sizes GOMAXPROCS from the cgroup's CPU limit and follows changes of it (berth limit
	 * --cpu) unless GOMAXPROCS is set: setting it there would only freeze it */
	if (go_version_at_least(ver, 1, 25)) {
		native = godebug_on(m, bin, "containermaxprocs", &where);
		if (native) {
			const char *where_update;
			d->gomaxprocs_source = GO_SOURCE_NATIVE;
			if (godebug_on(m, bin, "updatemaxprocs", &where_update))
				snprintf(d->why_gomaxprocs, sizeof(d->why_gomaxprocs),
					 "auto: %s reads the CPU quota itself and follows changes", ver);
			else
				snprintf(d->why_gomaxprocs, sizeof(d->why_gomaxprocs),
					 "auto: %s reads the CPU quota itself when it starts, not its changes "
					 "(updatemaxprocs=0 in %s)",
					 ver, where_update);
			return;
		}
	}
	uint64_t n = (m->cpu_quota_percent + 99) / 100;
	if (host_cpus > 0 && n > host_cpus)
		n = host_cpus;
	if (n < 1)
		n = 1;
	d->gomaxprocs = n;
	d->gomaxprocs_source = GO_SOURCE_AUTO;
	if (where)
		snprintf(d->why_gomaxprocs, sizeof(d->why_gomaxprocs),
			 "auto: ceil(CPUQuota=%u%%)%s; %s would read the quota itself, but containermaxprocs=0 in %s",
			 m->cpu_quota_percent, host_cpus > 0 ? ", at most the host's CPUs" : "", ver, where);
	else
		snprintf(d->why_gomaxprocs, sizeof(d->why_gomaxprocs),
			 "auto: ceil(CPUQuota=%u%%)%s; %s does not read cgroup CPU limits (Go 1.25 does)",
			 m->cpu_quota_percent, host_cpus > 0 ? ", at most the host's CPUs" : "",
			 ver ? ver : "Go before 1.25");
}

static void decide_gomemlimit(const struct manifest *m, const struct elf_info *bin, struct go_decision *d)
{
	const char *ver = bin && bin->is_go ? bin->go.go_version : NULL;
	unsigned major, minor;
	char buf[FORMAT_SIZE_MAX];

	switch (m->gomemlimit_mode) {
	case GO_MODE_OFF:
		snprintf(d->why_gomemlimit, sizeof(d->why_gomemlimit), "off in the manifest");
		return;
	case GO_MODE_VALUE:
		d->gomemlimit = m->gomemlimit;
		d->gomemlimit_source = GO_SOURCE_MANIFEST;
		snprintf(d->why_gomemlimit, sizeof(d->why_gomemlimit), "set in the manifest");
		return;
	default:
		break;
	}
	if (m->memory_max == SIZE_UNSET || m->memory_max == SIZE_INFINITY) {
		snprintf(d->why_gomemlimit, sizeof(d->why_gomemlimit), "auto: no memory limit");
		return;
	}
	if (go_version_parse(ver, &major, &minor) && !go_version_at_least(ver, 1, 19)) {
		snprintf(d->why_gomemlimit, sizeof(d->why_gomemlimit),
			 "auto: %s has no soft memory limit (Go 1.19 added GOMEMLIMIT)", ver);
		return;
	}
	unsigned ratio = m->gomemlimit_ratio_percent ? m->gomemlimit_ratio_percent :
						       GOMEMLIMIT_DEFAULT_RATIO_PERCENT;
	d->gomemlimit = m->memory_max / 100 * ratio + m->memory_max % 100 * ratio / 100;
	d->gomemlimit_source = GO_SOURCE_AUTO;
	snprintf(d->why_gomemlimit, sizeof(d->why_gomemlimit),
		 "auto: %u%% of MemoryMax=%s, so the GC works harder before the kernel OOM-kills (no Go version "
		 "reads the cgroup memory limit itself)",
		 ratio, format_size(buf, sizeof(buf), m->memory_max));
}

static bool env_sets(const struct manifest *m, const char *name)
{
	return env_get(m, name) != NULL;
}

void go_decide(const struct manifest *m, const struct elf_info *bin, unsigned host_cpus,
	       struct go_decision *ret)
{
	struct go_decision d = { 0 };

	if (bin && !bin->is_go) {
		d.gomaxprocs_source = d.gomemlimit_source = GO_SOURCE_NOT_GO;
		snprintf(d.why_gomaxprocs, sizeof(d.why_gomaxprocs), "not a Go binary: [go] ignored");
		snprintf(d.why_gomemlimit, sizeof(d.why_gomemlimit), "not a Go binary: [go] ignored");
		*ret = d;
		return;
	}
	decide_gomaxprocs(m, bin, host_cpus, &d);
	decide_gomemlimit(m, bin, &d);
	d.gogc = m->gogc;
	/* a value in [environment] wins over auto (the manifest refuses it together with an explicit
	 * [go] value), so berth does not write a second, conflicting Environment= line */
	if (env_sets(m, "GOMAXPROCS") && m->gomaxprocs_mode != GO_MODE_VALUE) {
		d.gomaxprocs = 0;
		d.gomaxprocs_source = GO_SOURCE_MANIFEST;
		snprintf(d.why_gomaxprocs, sizeof(d.why_gomaxprocs), "set in [environment]");
	}
	if (env_sets(m, "GOMEMLIMIT") && m->gomemlimit_mode != GO_MODE_VALUE) {
		d.gomemlimit = 0;
		d.gomemlimit_source = GO_SOURCE_MANIFEST;
		snprintf(d.why_gomemlimit, sizeof(d.why_gomemlimit), "set in [environment]");
	}
	if (env_sets(m, "GOGC") && !m->gogc)
		d.gogc = NULL;
	*ret = d;
}
