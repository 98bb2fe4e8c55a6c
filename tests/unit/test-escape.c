/* test-escape.c - values written into unit files by systemd's rules */
#include "test.h"

#include "escape.h"
#include "unit-decode.h"

static void assert_exec_roundtrip(const char *s)
{
	char *e = NULL, **w = NULL;
	assert_int_equal(unit_escape_exec_arg(s, &e), 0);
	assert_int_equal(decode_words(e, true, &w), 1);
	assert_string_equal(w[0], s);
	free_words(w);
	free(e);
}

static void test_exec_arg(void **state)
{
	char *e = NULL;
	assert_int_equal(unit_escape_exec_arg("plain", &e), 0);
	assert_string_equal(e, "\"plain\"");
	free(e);
	assert_int_equal(unit_escape_exec_arg("a \"b\" \\c $HOME ${X} %n 100%", &e), 0);
	assert_string_equal(e, "\"a \\\"b\\\" \\\\c $$HOME $${X} %%n 100%%\"");
	free(e);

	const char *values[] = { "", " ", ";", "\\;", "-x", "@x", "+x", "!!x", ":x", "a b", "\"", "\\",
				 "\\\\", "'", "$", "$$", "%", "%%", "%n%i%u", "${HOME}", "x;y", "#x", "[Unit]",
				 "ExecStartPre=/bin/sh", "ünïcödé ✓", "trailing\\", NULL };
	for (const char **v = values; *v; v++)
		assert_exec_roundtrip(*v);
}

static void test_refused(void **state)
{
	char *e = NULL;
	const char *bad[] = { "a\nExecStartPre=/bin/evil", "a\r", "tab\there", "nul-less \x01", "del\x7f",
			      "\xff\xfe", "\xc0\xaf" /* overlong '/' */, "\xed\xa0\x80" /* surrogate */,
			      "\xe2\x82" /* truncated */, NULL };
	for (const char **b = bad; *b; b++) {
		assert_int_equal(unit_escape_exec_arg(*b, &e), -EINVAL);
		assert_int_equal(unit_escape_text(*b, &e), -EINVAL);
		assert_int_equal(unit_escape_env("X", *b, &e), -EINVAL);
		assert_int_equal(unit_escape_list_item(*b, &e), -EINVAL);
		assert_non_null(unit_escape_problem(*b, 0));
	}
	assert_string_equal(unit_escape_problem("a\nb", 0), "contains a line break");
	assert_string_equal(unit_escape_problem("\xff", 0), "is not valid UTF-8");
	assert_null(unit_escape_problem("fine", 0));
}

static void test_long(void **state)
{
	size_t n = UNIT_VALUE_MAX;
	char *s = malloc(n + 2), *e = NULL;
	memset(s, '%', n);
	s[n] = 0;
	assert_exec_roundtrip(s);
	s[n] = 'x';
	s[n + 1] = 0;
	assert_int_equal(unit_escape_exec_arg(s, &e), -EINVAL);
	free(s);
}

static void test_env(void **state)
{
	char *e = NULL, **w = NULL;
	assert_int_equal(unit_escape_env("MyVar", "a \"b\" $HOME %n \\ ;#", &e), 0);
	/* Environment= does not expand $: it must stay single */
	assert_string_equal(e, "\"MyVar=a \\\"b\\\" $HOME %%n \\\\ ;#\"");
	assert_int_equal(decode_words(e, false, &w), 1);
	assert_string_equal(w[0], "MyVar=a \"b\" $HOME %n \\ ;#");
	free_words(w);
	free(e);
	assert_int_equal(unit_escape_env("1X", "v", &e), -EINVAL);
	assert_int_equal(unit_escape_env("A-B", "v", &e), -EINVAL);
	assert_int_equal(unit_escape_env("A=B", "v", &e), -EINVAL);
	assert_int_equal(unit_escape_env("", "v", &e), -EINVAL);
	assert_int_equal(unit_escape_env("EMPTY", "", &e), 0);
	assert_string_equal(e, "\"EMPTY=\"");
	free(e);
}

static void test_text_and_path(void **state)
{
	char *e = NULL, *d;
	assert_int_equal(unit_escape_text("Web API %n $X \"q\" \\ mid", &e), 0);
	assert_string_equal(e, "Web API %%n $X \"q\" \\ mid");
	d = decode_text(e);
	assert_string_equal(d, "Web API %n $X \"q\" \\ mid");
	free(d);
	free(e);
	/* a trailing backslash would continue the line and swallow the next directive */
	assert_int_equal(unit_escape_text("ends\\", &e), -EINVAL);
	assert_int_equal(unit_escape_text("ends\\\\", &e), 0);
	free(e);
	assert_int_equal(unit_escape_text(" lead", &e), -EINVAL);
	assert_int_equal(unit_escape_text("trail ", &e), -EINVAL);

	assert_int_equal(unit_escape_path("/srv/my app/100%", &e), 0);
	assert_string_equal(e, "/srv/my app/100%%");
	free(e);
	assert_int_equal(unit_escape_path("relative", &e), -EINVAL);
	assert_int_equal(unit_escape_path("-/optional", &e), -EINVAL);
	assert_int_equal(unit_escape_list_item("/a b", &e), 0);
	assert_string_equal(e, "\"/a b\"");
	free(e);
	assert_int_equal(unit_escape_list_item("", &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_arg),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_text_and_path),
	};
	return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
