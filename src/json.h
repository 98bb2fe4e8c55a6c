/* json.h - a small streaming JSON writer for --json output (stable keys, one object per run)
 *
 *   struct json j; json_init(&j, stdout);
 *   json_object_begin(&j); json_key_string(&j, "name", "hello"); json_object_end(&j);
 *   json_finish(&j);   (newline at the end)
 *
 * Strings are escaped per RFC 8259; bytes that are not valid UTF-8 become U+FFFD, so that the
 * output is always valid JSON whatever a manifest or a binary contains.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	bool after_key;
	bool pretty;
};

void json_init(struct json *j, FILE *f);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s); /* NULL → null */
void json_string_len(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
void json_finish(struct json *j);

/* key + value in one call */
void json_key_string(struct json *j, const char *key, const char *s);
void json_key_int(struct json *j, const char *key, int64_t v);
void json_key_uint(struct json *j, const char *key, uint64_t v);
void json_key_bool(struct json *j, const char *key, bool v);
void json_key_null(struct json *j, const char *key);
void json_key_double(struct json *j, const char *key, double v);
