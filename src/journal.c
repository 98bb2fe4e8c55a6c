/* journal.c - a service's logs through sd-journal */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pwd.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-messages.h>

#include "journal.h"
#include "json.h"
#include "macro.h"
#include "sandbox.h"
#include "strv.h"

static void journal_closep(sd_journal **j)
{
	if (*j)
		sd_journal_close(*j);
}

/* Value of FIELD in the current entry, as a new string (NULL if absent). */
static char *field(sd_journal *j, const char *name)
{
	const void *data;
	size_t len, nl = strlen(name);
	if (sd_journal_get_data(j, name, &data, &len) < 0 || len <= nl)
		return NULL;
	return strndup((const char *)data + nl + 1, len - nl - 1);
}

/* One match "FIELD=value". */
static int match(sd_journal *j, const char *field, const char *value)
{
	_cleanup_free_ char *m = NULL;

	if (asprintf(&m, "%s=%s", field, value) < 0)
		return -ENOMEM;
	return sd_journal_add_match(j, m, 0);
}

/* Only entries an unprivileged user cannot forge: journald sets the fields that start with "_"
 * from the sender's credentials and cgroup. */
static int add_matches(sd_journal *j, const struct journal_query *q)
{
	bool ids = q->invocation_ids && q->invocation_ids[0];
	int r;

	/* Terms joined by disjunctions; within one, matches on different fields are ANDed and on the
	 * same field ORed. The service's own output (and systemd's pre-exec messages, made in its
	 * cgroup): */
	if ((r = match(j, "_SYSTEMD_UNIT", q->unit)) < 0)
		return r;
	STRV_FOREACH(id, ids ? q->invocation_ids : NULL)
		if ((r = match(j, "_SYSTEMD_INVOCATION_ID", *id)) < 0)
			return r;
	/* what systemd itself says about it */
	if ((r = sd_journal_add_disjunction(j)) < 0 || (r = match(j, "_PID", "1")) < 0 ||
	    (r = match(j, "UNIT", q->unit)) < 0)
		return r;
	STRV_FOREACH(id, ids ? q->invocation_ids : NULL)
		if ((r = match(j, "INVOCATION_ID", *id)) < 0)
			return r;
	if (ids)
		return 0;
	/* its core dumps, written by systemd-coredump as root or as its own system user */
	struct passwd *pw = getpwnam("systemd-coredump");
	if ((r = sd_journal_add_disjunction(j)) < 0 || (r = match(j, "MESSAGE_ID", SD_MESSAGE_COREDUMP_STR)) < 0 ||
	    (r = match(j, "COREDUMP_UNIT", q->unit)) < 0 || (r = match(j, "_UID", "0")) < 0)
		return r;
	if (pw && pw->pw_uid != 0) {
		char uid[32];
		snprintf(uid, sizeof(uid), "%u", (unsigned)pw->pw_uid);
		if ((r = match(j, "_UID", uid)) < 0)
			return r;
	}
	return 0;
}

static int format_entry(sd_journal *j, char **ret, uint64_t *ret_usec)
{
	_cleanup_free_ char *msg = field(j, "MESSAGE");
	_cleanup_free_ char *ident = field(j, "SYSLOG_IDENTIFIER");
	_cleanup_free_ char *pid = field(j, "_PID");
	uint64_t usec = 0;

	(void)sd_journal_get_realtime_usec(j, &usec);
	if (asprintf(ret, "%s%s%s%s: %s", ident ? ident : "?", pid ? "[" : "", strempty(pid), pid ? "]" : "",
		     msg ? msg : "") < 0)
		return -ENOMEM;
	*ret_usec = usec;
	return 0;
}

/* Hints already shown by this journal_print (each once: a crash loop repeats its line) */
struct shown_hints {
	const struct sandbox_hint *hints[16];
	size_t n;
};

static bool hint_first_time(struct shown_hints *shown, const struct sandbox_hint *h)
{
	for (size_t i = 0; i < shown->n; i++)
		if (shown->hints[i] == h)
			return false;
	if (shown->n < ELEMENTSOF(shown->hints))
		shown->hints[shown->n++] = h;
	return true;
}

static void print_entry(sd_journal *j, const struct journal_query *q, FILE *f, struct shown_hints *shown)
{
	_cleanup_free_ char *line = NULL;
	uint64_t usec;
	if (format_entry(j, &line, &usec) < 0)
		return;
	const struct sandbox_hint *hint = sandbox_hint_for_message(line);
	if (q->json) {
		_cleanup_free_ char *msg = field(j, "MESSAGE"), *pid = field(j, "_PID"),
				    *inv = field(j, "_SYSTEMD_INVOCATION_ID"), *prio = field(j, "PRIORITY");
		struct json js;
		json_init(&js, f);
		js.pretty = false;
		json_object_begin(&js);
		json_key_uint(&js, "realtime_usec", usec);
		json_key_string(&js, "message", msg);
		json_key_string(&js, "pid", pid);
		json_key_string(&js, "priority", prio);
		json_key_string(&js, "invocation_id", inv);
		sandbox_json(&js, hint, hint ? line : NULL);
		json_object_end(&js);
		json_finish(&js);
		return;
	}
	char ts[64];
	time_t t = (time_t)(usec / USEC_PER_SEC);
	struct tm tm;
	strftime(ts, sizeof(ts), "%b %d %H:%M:%S", localtime_r(&t, &tm));
	fprintf(f, "%s %s\n", ts, line);
	/* on stderr, so that the log itself stays as the journal has it */
	if (hint && hint_first_time(shown, hint)) {
		fflush(f);
		sandbox_print(stderr, "  berth: ", "  berth:   ", hint, NULL);
	}
}

int journal_print(const struct journal_query *q, FILE *f)
{
	_cleanup_(journal_closep) sd_journal *j = NULL;
	struct shown_hints shown = { .n = 0 };
	int r;

	r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0)
		return r;
	r = add_matches(j, q);
	if (r < 0)
		return r;

	if (q->lines > 0) {
		/* the last N entries: seek to the end and step back */
		r = sd_journal_seek_tail(j);
		if (r < 0)
			return r;
		r = sd_journal_previous_skip(j, q->lines);
		if (r < 0)
			return r;
		/* step one further back so that the loop's next() lands on the oldest wanted entry;
		 * with fewer entries than asked, start from the head */
		if ((unsigned)r < q->lines || sd_journal_previous(j) <= 0)
			(void)sd_journal_seek_head(j);
	} else if (q->since_usec) {
		r = sd_journal_seek_realtime_usec(j, q->since_usec);
		if (r < 0)
			return r;
	} else
		(void)sd_journal_seek_head(j);

	for (;;) {
		r = sd_journal_next(j);
		if (r < 0)
			return r;
		if (r == 0) {
			fflush(f);
			if (!q->follow)
				break;
			r = sd_journal_wait(j, (uint64_t)-1);
			if (r < 0)
				return r;
			continue;
		}
		uint64_t usec = 0;
		(void)sd_journal_get_realtime_usec(j, &usec);
		if (q->since_usec && usec < q->since_usec)
			continue;
		print_entry(j, q, f, &shown);
	}
	return 0;
}

int journal_tail(const char *unit, unsigned n, uint64_t since_usec, char ***ret)
{
	_cleanup_(journal_closep) sd_journal *j = NULL;
	struct journal_query q = { .unit = unit };
	char **lines = calloc(1, sizeof(char *));
	int r;

	if (!lines)
		return -ENOMEM;
	r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r >= 0)
		r = add_matches(j, &q);
	if (r >= 0)
		r = sd_journal_seek_tail(j);
	/* walk back at most n entries newer than since, then print them oldest first */
	for (unsigned i = 0; r >= 0 && i < n; i++) {
		uint64_t usec;
		char *line;
		r = sd_journal_previous(j);
		if (r <= 0)
			break;
		if (format_entry(j, &line, &usec) < 0) {
			r = -ENOMEM;
			break;
		}
		if (since_usec && usec < since_usec) {
			free(line);
			break;
		}
		r = strv_push(&lines, line);
	}
	if (r < 0) {
		strv_free(lines);
		return r;
	}
	/* reverse into chronological order */
	size_t len = strv_length(lines);
	for (size_t i = 0; i < len / 2; i++) {
		char *t = lines[i];
		lines[i] = lines[len - 1 - i];
		lines[len - 1 - i] = t;
	}
	*ret = lines;
	return 0;
}

int journal_restart_span(const char *unit, unsigned n, uint64_t *ret_first, uint64_t *ret_last)
{
	_cleanup_(journal_closep) sd_journal *j = NULL;
	_cleanup_free_ char *m = NULL;
	uint64_t first = 0, last = 0;
	unsigned found = 0;
	int r;

	r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0)
		return r;
	if (asprintf(&m, "UNIT=%s", unit) < 0)
		return -ENOMEM;
	/* systemd's own "Scheduled restart job" lines: from PID 1, with the message ID of sd-messages.h */
	if ((r = sd_journal_add_match(j, m, 0)) < 0 || (r = match(j, "_PID", "1")) < 0 ||
	    (r = match(j, "MESSAGE_ID", SD_MESSAGE_UNIT_RESTART_SCHEDULED_STR)) < 0)
		return r;
	r = sd_journal_seek_tail(j);
	if (r < 0)
		return r;
	while (found < n && (r = sd_journal_previous(j)) > 0) {
		uint64_t usec;
		if (sd_journal_get_realtime_usec(j, &usec) < 0)
			continue;
		if (!found)
			last = usec;
		first = usec;
		found++;
	}
	if (r < 0)
		return r;
	*ret_first = first;
	*ret_last = last;
	return (int)found;
}
