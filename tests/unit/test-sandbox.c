/* test-sandbox.c - from a refusal's traces (log lines, exit status) to the key that relaxes it */
#include "test.h"

#include <signal.h>
#include <sys/wait.h>

#include "sandbox.h"

static const char *id_of(const char *message)
{
	const struct sandbox_hint *h = sandbox_hint_for_message(message);
	return h ? h->id : NULL;
}

static void test_messages(void **state)
{
	/* Go's wording of the errors each part of the sandbox gives */
	assert_string_equal(id_of("hello[42]: route ip+net: netlinkrib: address family not supported by protocol"),
			    "address-family");
	assert_string_equal(id_of("hello[42]: open /etc/hello.state: read-only file system"), "read-only");
	assert_string_equal(id_of("app[7]: setrlimit: operation not permitted"), "system-call");
	assert_string_equal(id_of("app[7]: open /root/.config/app.yaml: permission denied"), "permission");
	assert_string_equal(id_of("app[7]: SIGSYS: bad system call"), "system-call-killed");
	/* glibc's capitalisation; systemd's own lines for a sandbox it could not set up */
	assert_string_equal(id_of("app: socket: Address family not supported by protocol"), "address-family");
	assert_string_equal(id_of("(hello)[99]: hello.service: Failed to set up mount namespacing: /srv/gone: No such file or directory"),
			    "namespace");
	assert_string_equal(id_of("(hello)[99]: hello.service: Failed at step NAMESPACE spawning /var/lib/berth/x: No such file or directory"),
			    "namespace");
	assert_string_equal(id_of("(hello)[99]: Failed at step STATE_DIRECTORY spawning /x: File exists"), "directory");
	assert_string_equal(id_of("(hello)[99]: Failed at step SECCOMP spawning /x: Invalid argument"), "sandbox-setup");
	/* a failed exec is not the sandbox's doing */
	assert_null(id_of("(hello)[99]: Failed at step EXEC spawning /x: Exec format error"));
	assert_null(id_of("hello[42]: listening on 127.0.0.1:8080"));
	assert_null(id_of("systemd[1]: hello.service: Main process exited, code=exited, status=1/FAILURE"));
	assert_null(id_of(""));
	assert_null(id_of(NULL));
}

static void test_exits(void **state)
{
	assert_string_equal(sandbox_hint_for_exit(CLD_EXITED, 226)->id, "namespace");
	assert_string_equal(sandbox_hint_for_exit(CLD_EXITED, 238)->id, "directory");
	assert_string_equal(sandbox_hint_for_exit(CLD_EXITED, 228)->id, "sandbox-setup");
	assert_string_equal(sandbox_hint_for_exit(CLD_KILLED, SIGSYS)->id, "system-call-killed");
	assert_string_equal(sandbox_hint_for_exit(CLD_DUMPED, SIGSYS)->id, "system-call-killed");
	assert_null(sandbox_hint_for_exit(CLD_EXITED, 0));
	assert_null(sandbox_hint_for_exit(CLD_EXITED, 1));
	assert_null(sandbox_hint_for_exit(CLD_EXITED, 203)); /* EXEC */
	assert_null(sandbox_hint_for_exit(CLD_KILLED, SIGKILL));
	assert_null(sandbox_hint_for_exit(0, 0));
	/* every hint says what to do */
	int statuses[] = { 218, 226, 227, 228, 232, 233, 238, 239, 240 };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		const struct sandbox_hint *h = sandbox_hint_for_exit(CLD_EXITED, statuses[i]);
		assert_non_null(h);
		assert_true(h->cause[0] && h->fix[0]);
	}
}

static void test_find(void **state)
{
	char *lines[] = { "hello[1]: version=v1", "hello[1]: open /etc/x: read-only file system",
			  "hello[1]: route ip+net: address family not supported by protocol",
			  "systemd[1]: hello.service: Main process exited, code=exited, status=4/NOPERMISSION", NULL };
	const char *line;
	/* the newest line with a hint wins over older ones and over the exit */
	const struct sandbox_hint *h = sandbox_hint_find(lines, CLD_EXITED, 4, &line);
	assert_string_equal(h->id, "address-family");
	assert_ptr_equal(line, lines[2]);
	/* no line: the exit's hint, without a line */
	char *quiet[] = { "hello[1]: version=v1", NULL };
	h = sandbox_hint_find(quiet, CLD_EXITED, 226, &line);
	assert_string_equal(h->id, "namespace");
	assert_null(line);
	assert_null(sandbox_hint_find(quiet, CLD_EXITED, 1, &line));
	assert_null(line);
	char *none[] = { NULL };
	assert_null(sandbox_hint_find(none, 0, 0, &line));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_exits),
		cmocka_unit_test(test_find),
	};
	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
