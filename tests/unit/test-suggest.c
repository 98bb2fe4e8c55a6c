/* test-suggest.c - "did you mean" */
#include "test.h"

#include "suggest.h"

static void test_distance(void **state)
{
	assert_int_equal(string_distance("", ""), 0);
	assert_int_equal(string_distance("abc", "abc"), 0);
	assert_int_equal(string_distance("abc", ""), 3);
	assert_int_equal(string_distance("memory", "memroy"), 1); /* transposition */
	assert_int_equal(string_distance("kitten", "sitting"), 3);
}

static void test_closest(void **state)
{
	const char *cmds[] = { "render", "check", "deploy", "status", "remove", "restart", NULL };
	assert_string_equal(suggest_closest("rendr", cmds), "render");
	assert_string_equal(suggest_closest("stauts", cmds), "status");
	assert_string_equal(suggest_closest("deplyo", cmds), "deploy");
	assert_null(suggest_closest("xyzzy", cmds));
	assert_null(suggest_closest("", cmds));
	/* "re" is a prefix of three commands: no guess */
	assert_null(suggest_closest("re", cmds));
	const char *keys[] = { "memory", "memory_high", "cpu", "tasks", NULL };
	assert_string_equal(suggest_closest("memroy", keys), "memory");
	assert_string_equal(suggest_closest("memory-high", keys), "memory_high");
	assert_string_equal(suggest_closest("task", keys), "tasks");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_closest),
	};
	return cmocka_run_group_tests_name("suggest", tests, NULL, NULL);
}
