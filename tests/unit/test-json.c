/* test-json.c - the JSON writer always produces valid JSON */
#include "test.h"

#include "json.h"

static char *render(void (*fn)(struct json *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;
	json_init(&j, f);
	j.pretty = false;
	fn(&j);
	fclose(f);
	return buf;
}

static void doc(struct json *j)
{
	json_object_begin(j);
	json_key_string(j, "s", "a\"b\\c\n\t\x01");
	json_key_int(j, "i", -5);
	json_key_uint(j, "u", 18446744073709551615ULL);
	json_key_bool(j, "b", true);
	json_key_null(j, "n");
	json_key_string(j, "null_string", NULL);
	json_key(j, "a");
	json_array_begin(j);
	json_int(j, 1);
	json_object_begin(j);
	json_object_end(j);
	json_array_begin(j);
	json_array_end(j);
	json_array_end(j);
	json_key_string(j, "utf8", "ü✓");
	json_key_string(j, "bad", "a\xff" "b\xc0\xaf");
	json_object_end(j);
}

static void test_document(void **state)
{
	char *s = render(doc);
	assert_string_equal(s, "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\",\"i\":-5,\"u\":18446744073709551615,"
			       "\"b\":true,\"n\":null,\"null_string\":null,\"a\":[1,{},[]],"
			       "\"utf8\":\"ü✓\",\"bad\":\"a\\ufffdb\\ufffd\\ufffd\"}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_document),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
