/* cmd-tune.c - berth tune [--profile NAME] [FILE] [--revert] [--force]: kernel parameters for Go
 * services, applied live through /proc/sys and persisted in /etc/sysctl.d/60-berth.conf */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth.h"
#include "cli.h"
#include "diff.h"
#include "fs.h"
#include "lock.h"
#include "log.h"
#include "report.h"
#include "services.h"
#include "strv.h"
#include "suggest.h"
#include "sysctl.h"
#include "term.h"
#include "tune.h"

static const char *arg_profile;
static bool arg_revert, arg_force;
static usec_t arg_lock_timeout = 60 * USEC_PER_SEC;

static int set_option(const char *name, const char *arg)
{
	if (streq(name, "profile")) {
		if (!tune_profile_find(arg)) {
			const char *s = suggest_closest(arg, tune_profile_names());
			_cleanup_free_ char *all = strv_join((char **)tune_profile_names(), ", ");
			if (s)
				log_error("berth tune: unknown profile \"%s\"; did you mean \"%s\"?", arg, s);
			else
				log_error("berth tune: unknown profile \"%s\": use one of %s", arg, strempty(all));
			return BERTH_EXIT_USAGE;
		}
		arg_profile = arg;
	} else if (streq(name, "revert"))
		arg_revert = true;
	else if (streq(name, "force"))
		arg_force = true;
	else if (streq(name, "lock-timeout") && parse_duration(arg, false, &arg_lock_timeout) < 0) {
		log_error("berth tune: invalid --lock-timeout \"%s\": use a duration like 30s", arg);
		return BERTH_EXIT_USAGE;
	}
	return 0;
}

static int kernel_read(const char *key, char **ret, void *userdata)
{
	return sysctl_read(userdata, key, ret);
}

static int kernel_writable(const char *key, void *userdata)
{
	return sysctl_writable(userdata, key);
}

/* A file berth reads to compare: NULL if absent. */
static int read_optional(const char *path, size_t max, char **ret)
{
	int r = fs_read_file(path, max, ret, NULL);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	return r;
}

static uint64_t live_uint(const struct sysctl_root *root, const char *key)
{
	_cleanup_free_ char *v = NULL;
	uint64_t n;
	if (sysctl_read(root, key, &v) < 0 || parse_uint_range(v, 0, UINT64_MAX, &n) < 0)
		return 0;
	return n;
}

static uint64_t plan_uint(const struct tune_plan *p, const char *key, uint64_t fallback)
{
	uint64_t n;
	for (size_t i = 0; i < p->n; i++)
		if (streq(p->items[i].key, key))
			return parse_uint_range(p->items[i].after, 0, UINT64_MAX, &n) >= 0 ? n : fallback;
	return fallback;
}

/* Values as the kernel prints them may hold tabs ("32768\t60999"): shown with spaces. */
static char *display(const char *v)
{
	char *s = strdup(v ? v : "-");
	for (char *c = s; c && *c; c++)
		if (*c == '\t')
			*c = ' ';
	return s;
}

struct services {
	struct tune_service *items;
	char **names; /* owns the names */
	size_t n;
};

static void services_release(struct services *s)
{
	free(s->items);
	strv_free(s->names);
	*s = (struct services){ 0 };
}

/* The deployed services that ask for nofile. A manifest that cannot be read is skipped with a
 * warning (it is not this command's business to fail on it). */
static int load_services(struct services *ret, char ***warnings)
{
	_cleanup_strv_free_ char **names = NULL;
	struct services s = { 0 };
	int r = services_list(&names);

	if (r < 0)
		return r;
	STRV_FOREACH(n, names) {
		_cleanup_(manifest_freep) struct manifest *m = NULL;
		r = service_load_manifest(*n, &m);
		if (r < 0) {
			char *w = NULL;
			errno = -r;
			if (asprintf(&w, "cannot read the manifest of service \"%s\", ignoring it: %m", *n) < 0 ||
			    strv_push(warnings, w) < 0) {
				services_release(&s);
				return -ENOMEM;
			}
			continue;
		}
		if (m->nofile == U64_UNSET)
			continue;
		struct tune_service *ni = realloc(s.items, sizeof(*ni) * (s.n + 1));
		if (!ni || strv_extend(&s.names, *n) < 0) {
			if (ni)
				s.items = ni;
			services_release(&s);
			return -ENOMEM;
		}
		s.items = ni;
		s.items[s.n++] = (struct tune_service){ NULL, m->nofile };
	}
	for (size_t i = 0; i < s.n; i++)
		s.items[i].name = s.names[i];
	*ret = s;
	return 0;
}

static int cmp_diag(const void *a, const void *b)
{
	const struct tune_diag *x = a, *y = b;
	/* a file's problems in line order, then the others */
	if (!x->file != !y->file)
		return x->file ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void report_diags(struct tune_diags *d)
{
	qsort(d->items, d->n, sizeof(d->items[0]), cmp_diag);
	for (size_t i = 0; i < d->n; i++) {
		const struct tune_diag *x = &d->items[i];
		cli_error(x->file, x->line, x->file ? "sysctl" : NULL, x->key, "%s", x->message);
	}
	if (d->n_dropped > 0)
		log_error("%zu more problems not shown", d->n_dropped);
}

static bool in_other_namespace(const struct sysctl_container *c)
{
	return c->name || c->other_netns;
}

static void print_table(const struct tune_plan *p, const struct sysctl_container *cont)
{
	size_t wk = strlen("KEY"), wb = strlen("CURRENT"), wa = strlen("NEW");

	for (size_t i = 0; i < p->n; i++) {
		size_t lb = p->items[i].before ? strlen(p->items[i].before) : 1;
		wk = strlen(p->items[i].key) > wk ? strlen(p->items[i].key) : wk;
		wb = lb > wb ? lb : wb;
		wa = strlen(p->items[i].after) > wa ? strlen(p->items[i].after) : wa;
	}
	printf("    %s%-*s  %-*s  %-*s  %s%s\n", term_out(TERM_BOLD), (int)wk, "KEY", (int)wb, "CURRENT", (int)wa, "NEW",
	       "REASON", term_out(TERM_RESET));
	for (size_t i = 0; i < p->n; i++) {
		const struct tune_item *it = &p->items[i];
		_cleanup_free_ char *b = display(it->before), *a = display(it->after);
		const char *mark = it->changed ? "✓" : "·";
		const char *c = it->changed ? term_out(TERM_GREEN) : term_out(TERM_GREY);
		/* a kept or restored key says why it is not the profile's value; the reason is in --json */
		printf("  %s%s%s %-*s  %-*s  %-*s  %s%s\n", c, mark, term_out(TERM_RESET), (int)wk, it->key, (int)wb,
		       strempty(b), (int)wa, strempty(a), it->namespaced && in_other_namespace(cont) ? "[this namespace only] " : "",
		       it->note ? it->note : it->reason);
	}
}

static void print_json(const struct tune_plan *p, const char *profile, const char *file, const char *conf_text,
		       const struct sysctl_container *cont, const struct report *rep)
{
	struct json j;
	const struct diff_file df = { TUNE_CONF_PATH, conf_text, TUNE_CONF_PATH " (new)", p->conf };

	cli_json_begin(&j, "tune");
	json_key_bool(&j, "check", arg_check);
	json_key_bool(&j, "revert", arg_revert);
	json_key_bool(&j, "force", arg_force);
	json_key_string(&j, "profile", profile);
	json_key_string(&j, "file", file);
	json_key_string(&j, "conf", TUNE_CONF_PATH);
	json_key_string(&j, "container", cont->name);
	json_key_bool(&j, "other_netns", cont->other_netns);
	report_json(rep, &j);
	cli_json_diff(&j, &df, 1);
	json_key(&j, "keys");
	json_array_begin(&j);
	for (size_t i = 0; i < p->n; i++) {
		const struct tune_item *it = &p->items[i];
		_cleanup_free_ char *b = it->before ? display(it->before) : NULL, *a = display(it->after);
		json_object_begin(&j);
		json_key_string(&j, "key", it->key);
		json_key_string(&j, "before", b);
		json_key_string(&j, "after", a);
		json_key_bool(&j, "changed", it->changed);
		json_key_string(&j, "action", tune_action_to_string(it->action));
		json_key_string(&j, "reason", it->reason);
		json_key_string(&j, "note", it->note);
		json_key_string(&j, "origin", it->origin);
		json_key_bool(&j, "namespaced", it->namespaced);
		json_key_bool(&j, "managed", it->managed);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "warnings");
	json_array_begin(&j);
	STRV_FOREACH(w, p->warnings)
		json_string(&j, *w);
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static void file_step(struct report *rep, const char *step, const char *path, const char *old, const char *new)
{
	if (streq_ptr(old, new))
		report_step(rep, step, false, "%s %s", path, new ? "unchanged" : "absent");
	else if (!new)
		report_step(rep, step, true, "%s %s", path, arg_check ? "would be removed" : "removed");
	else
		report_step(rep, step, true, "%s %s", path, arg_check ? "would be written" : "written");
}

/* Explains a failed commit; everything was undone unless f->rollback_failed. */
static int commit_failed(int r, const struct sysctl_failure *f, const struct tune_plan *p)
{
	const struct tune_item *it = NULL;
	int ex = BERTH_EXIT_FAILURE;

	for (size_t i = 0; f->key && i < p->n; i++)
		if (streq(p->items[i].key, f->key))
			it = &p->items[i];
	const char *file = it ? it->file : NULL;
	unsigned line = it ? it->line : 0;
	const char *section = file ? "sysctl" : NULL;
	const char *undone = f->rollback_failed ? "undoing the changes made so far failed too: see berth tune --check" :
						  "nothing was changed";

	if (r == -ERANGE && it) {
		_cleanup_free_ char *s = display(f->stored);
		cli_error(file, line, section, f->key,
			  "the kernel kept %s instead of %s (it clamps this key): use a value it accepts; %s", s, it->after,
			  undone);
		ex = BERTH_EXIT_INVALID;
	} else if (r == -EINVAL && it) {
		cli_error(file, line, section, f->key, "the kernel refused %s; %s", it->after, undone);
		ex = BERTH_EXIT_INVALID;
	} else if (f->key) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot set %s: %m; %s", f->key, undone);
	} else {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot write \"%s\": %m; %s", strempty(f->path), undone);
	}
	return f->rollback_failed ? BERTH_EXIT_FAILURE : ex;
}

static int exec_tune(int argc, char **argv)
{
	struct sysctl_root root = { .path = SYSCTL_ROOT };
	struct tune_kernel kernel = { kernel_read, kernel_writable, &root };
	_cleanup_free_ char *state_text = NULL, *conf_text = NULL, *saved_text = NULL, *file_abs = NULL,
			    *file_text = NULL;
	_cleanup_strv_free_ char **early_warnings = calloc(1, sizeof(char *));
	_cleanup_close_ int lock_fd = -1;
	struct tune_state state = { 0 };
	struct tune_request req = { 0 };
	struct tune_diags diags = { 0 };
	struct tune_plan plan = { 0 };
	struct sysctl_container cont = { 0 };
	struct services svc = { 0 };
	struct report rep;
	const char *profile = NULL;
	bool inherited = false, invalid = false;
	unsigned line = 0;
	int r, ex = BERTH_EXIT_FAILURE;

	report_init(&rep, NULL, true);
	if (!early_warnings) {
		cli_error(NULL, 0, NULL, NULL, "out of memory");
		return cli_fail("tune", BERTH_EXIT_FAILURE);
	}
	if (arg_revert && (arg_profile || argc > 0)) {
		log_error("berth tune: --revert takes no profile and no file: it puts back what berth changed");
		return BERTH_EXIT_USAGE;
	}
	if (arg_revert && arg_force) {
		log_error("berth tune: --force has no meaning with --revert");
		return BERTH_EXIT_USAGE;
	}
	if (!arg_check && geteuid() != 0) {
		cli_error(NULL, 0, NULL, NULL, "berth tune must run as root (try: sudo berth tune ...; --check runs as any user)");
		return cli_fail("tune", BERTH_EXIT_PERMISSION);
	}

	if (!arg_check) {
		int lr = cli_take_lock(arg_lock_timeout, &lock_fd);
		if (lr != BERTH_EXIT_OK)
			return cli_fail("tune", lr);
		report_step(&rep, "lock", false, "%s", BERTH_LOCK_PATH);
	}

	/* what berth changed before, and the files as they are */
	r = read_optional(TUNE_PREVIOUS_PATH, TUNE_FILE_MAX, &state_text);
	if (r >= 0)
		r = tune_state_parse(state_text, &state, &line);
	if (r == -EINVAL) {
		cli_error(TUNE_PREVIOUS_PATH, line, NULL, NULL,
			  "damaged: it holds the values from before berth; repair it or remove it (berth then forgets them)");
		goto finish;
	}
	if (r >= 0)
		r = read_optional(TUNE_CONF_PATH, TUNE_FILE_MAX, &conf_text);
	if (r >= 0)
		r = read_optional(TUNE_SAVED_CONF_PATH, TUNE_FILE_MAX, &saved_text);
	if (r < 0) {
		errno = -r;
		cli_error(NULL, 0, NULL, NULL, "cannot read berth's tuning state: %m");
		goto finish;
	}

	/* the request: omitted parts are the last run's */
	if (!arg_revert) {
		const char *file = argc > 0 ? argv[0] : state.file;
		profile = arg_profile ? arg_profile : state.profile ? state.profile : TUNE_PROFILE_DEFAULT;
		inherited = !arg_profile && state.profile;
		if (!tune_profile_find(profile)) {
			cli_error(TUNE_PREVIOUS_PATH, 0, NULL, NULL, "names an unknown profile \"%s\": give --profile", profile);
			ex = BERTH_EXIT_INVALID;
			goto finish;
		}
		r = tune_request_init(&req, profile);
		if (r < 0)
			goto oom;
		if (file) {
			file_abs = realpath(file, NULL);
			if (!file_abs) {
				if (errno == ENOENT && argc == 0)
					cli_error(file, 0, NULL, NULL,
						  "the host file of the last berth tune is gone: give another one, or --revert");
				else
					cli_error(file, 0, NULL, NULL, "cannot open host file \"%s\": %m", file);
				ex = errno == ENOENT ? BERTH_EXIT_NOT_FOUND : BERTH_EXIT_FAILURE;
				goto finish;
			}
			r = fs_read_file(file_abs, TUNE_FILE_MAX, &file_text, NULL);
			if (r < 0) {
				errno = -r;
				if (r == -EFBIG)
					cli_error(file, 0, NULL, NULL, "larger than %d KiB: not a host file", TUNE_FILE_MAX / 1024);
				else
					cli_error(file, 0, NULL, NULL, "cannot read host file \"%s\": %m", file);
				ex = r == -EFBIG || r == -EISDIR || r == -EINVAL ? BERTH_EXIT_INVALID : BERTH_EXIT_FAILURE;
				goto finish;
			}
			/* on -EINVAL the valid lines are checked against the kernel too, then nothing is done */
			r = tune_request_add_file(&req, file_abs, file_text, &diags);
			if (r < 0 && r != -EINVAL)
				goto oom;
			invalid = r == -EINVAL;
		}
	}

	/* services that need more open files than the kernel allows */
	r = load_services(&svc, &early_warnings);
	if (r < 0) {
		errno = -r;
		log_warning("cannot list the deployed services, ignoring: %m");
	}
	for (size_t i = 0; !arg_revert && i < svc.n; i++)
		if (tune_request_add_service(&req, svc.items[i].name, svc.items[i].nofile) < 0)
			goto oom;

	(void)sysctl_detect_container("", &cont);

	struct tune_plan_input in = {
		.request = arg_revert ? NULL : &req,
		.state = &state,
		.kernel = &kernel,
		.conf_current = conf_text,
		.saved_conf_current = saved_text,
		.conf_path = TUNE_CONF_PATH,
		.force = arg_force,
		.in_container = cont.name != NULL,
	};
	r = tune_plan(&in, &plan, &diags);
	if (r == -EINVAL || invalid) {
		report_diags(&diags);
		log_error("%s%s%zu problem%s, nothing was changed", strempty(file_abs), file_abs ? ": " : "",
			  diags.n + diags.n_dropped, diags.n + diags.n_dropped == 1 ? "" : "s");
		ex = BERTH_EXIT_INVALID;
		goto finish;
	}
	if (r < 0)
		goto oom;

	/* warnings: the plan's, then the services', then where we are */
	STRV_FOREACH(w, early_warnings)
		if (strv_extend(&plan.warnings, *w) < 0)
			goto oom;
	uint64_t nr_open_now = live_uint(&root, "fs.nr_open"), file_max_now = live_uint(&root, "fs.file-max");
	if (tune_check_services(svc.items, svc.n, nr_open_now, plan_uint(&plan, "fs.nr_open", nr_open_now),
				plan_uint(&plan, "fs.file-max", file_max_now), arg_check, &plan.warnings) < 0)
		goto oom;
	if (cont.name) {
		char *w = NULL;
		if (asprintf(&w,
			     "running in a container (%s): net.* keys change this container's network namespace only; "
			     "fs.*, vm.* and most net.core.* keys are host-wide and usually read-only here",
			     cont.name) < 0 ||
		    strv_push(&plan.warnings, w) < 0)
			goto oom;
	} else if (cont.other_netns &&
		   strv_extend(&plan.warnings, "berth runs in another network namespace than PID 1: net.* keys change "
					       "that namespace only, not the host's") < 0)
		goto oom;

	if (!arg_json) {
		const char *what = arg_revert ? "reverting berth's tuning" : "tuning";
		printf("%s%s", arg_check ? "(check) " : "", what);
		if (!arg_revert)
			printf(": profile %s%s%s%s", profile, inherited ? " (as last time)" : "", file_abs ? ", host file " : "",
			       strempty(file_abs));
		printf("\n");
		if (plan.n > 0)
			print_table(&plan, &cont);
		else
			printf("  no keys to tune\n");
		if (arg_diff && !streq_ptr(conf_text, plan.conf))
			(void)diff_unified(stdout, TUNE_CONF_PATH, conf_text, TUNE_CONF_PATH " (new)", plan.conf,
					   term_colour(STDOUT_FILENO));
	}
	STRV_FOREACH(w, plan.warnings)
		log_warning("%s", *w);

	/* the live values, then the files */
	size_t n_changes = 0;
	for (size_t i = 0; i < plan.n; i++)
		n_changes += plan.items[i].changed;
	struct sysctl_change *changes = calloc(n_changes + 1, sizeof(*changes));
	if (!changes)
		goto oom;
	for (size_t i = 0, c = 0; i < plan.n; i++)
		if (plan.items[i].changed)
			changes[c++] = (struct sysctl_change){ plan.items[i].key, plan.items[i].after };

	if (!arg_check) {
		struct sysctl_file pre[] = { { TUNE_PREVIOUS_PATH, plan.state_early, 0644 } };
		struct sysctl_file post[4];
		const char *paths[4], *contents[4];
		struct sysctl_failure fail = { 0 };
		size_t n_post = tune_plan_files(&plan, TUNE_CONF_PATH, TUNE_PREVIOUS_PATH, TUNE_SAVED_CONF_PATH, paths,
						contents);

		for (size_t i = 0; i < n_post; i++)
			post[i] = (struct sysctl_file){ paths[i], contents[i], 0644 };
		r = sysctl_commit(&root, pre, plan.state_early ? 1 : 0, changes, n_changes, post, n_post, &fail);
		if (r < 0) {
			ex = commit_failed(r, &fail, &plan);
			sysctl_failure_release(&fail);
			free(changes);
			goto finish;
		}
	}
	free(changes);

	report_step(&rep, "sysctl", n_changes > 0, "%zu value%s %s", n_changes, n_changes == 1 ? "" : "s",
		    arg_check ? "would change" : "changed");
	file_step(&rep, "conf", TUNE_CONF_PATH, conf_text, plan.conf);
	file_step(&rep, "state", TUNE_PREVIOUS_PATH, state_text, plan.state);
	if (!streq_ptr(saved_text, plan.saved_conf))
		file_step(&rep, "saved", TUNE_SAVED_CONF_PATH, saved_text, plan.saved_conf);

	if (arg_json)
		print_json(&plan, profile, file_abs, conf_text, &cont, &rep);
	else {
		for (size_t i = 0; i < rep.n; i++)
			if (!streq(rep.steps[i].step, "lock") && (rep.steps[i].changed || !arg_check))
				printf("  %s%s%s %-6s %s\n", rep.steps[i].changed ? term_out(TERM_GREEN) : term_out(TERM_GREY),
				       rep.steps[i].changed ? "✓" : "·", term_out(TERM_RESET), rep.steps[i].step,
				       rep.steps[i].detail);
		printf("tune: %s\n", arg_check ? (rep.changed ? "would change" : "no change needed") :
				     rep.changed ? (arg_revert ? "reverted" : "tuned") :
						   "no change (already in place)");
	}
	ex = BERTH_EXIT_OK;
	goto finish;

oom:
	cli_error(NULL, 0, NULL, NULL, "out of memory");
	ex = BERTH_EXIT_FAILURE;
finish:
	tune_plan_release(&plan);
	tune_diags_release(&diags);
	tune_request_release(&req);
	tune_state_release(&state);
	sysctl_container_release(&cont);
	services_release(&svc);
	report_release(&rep);
	return ex == BERTH_EXIT_OK ? ex : cli_fail("tune", ex);
}

static const struct berth_option options[] = {
	{ "profile", 'p', required_argument, "NAME", "web, proxy or default (default: the last one used, else default)" },
	{ "revert", 0, no_argument, NULL, "put back every value berth changed, live and on disk" },
	{ "force", 0, no_argument, NULL, "set the profile's values even where the current ones are higher" },
	{ "lock-timeout", 0, required_argument, "DURATION", "wait this long for another berth (default 60s)" },
	{ NULL },
};

const struct berth_cmd berth_cmd_tune = {
	.name = "tune",
	.usage = "[FILE]",
	.summary = "tune kernel parameters (sysctls) for many connections, live and at boot",
	.description =
		"Applies a profile (web: many inbound connections; proxy: many outbound ones;\n"
		"default: none) plus a host FILE ([sysctl] key = value lines, each overriding or\n"
		"adding a key) by writing /proc/sys, and persists the result in\n"
		"/etc/sysctl.d/60-berth.conf, each value with its reason. fs.nr_open is raised for\n"
		"deployed services whose nofile needs it. A value already higher (wider, lower for\n"
		"timeouts) than the profile's is kept unless --force. Every key is checked first:\n"
		"if one is wrong, nothing is changed (exit 3). The values berth replaced are kept in\n"
		"/var/lib/berth/.tune/previous.conf; --revert puts them back. Without --profile or\n"
		"FILE, the last run's are used. --check runs as any user.",
	.options = options,
	.min_args = 0,
	.max_args = 1,
	.flags = BERTH_CMD_TAKES_LOCK | BERTH_CMD_MUTATES,
	.set_option = set_option,
	.run = exec_tune,
};
