/* test-sha256.c - SHA-256 (libnettle, through berth's helpers) against the FIPS 180 examples, and of files */
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "sha256.h"

static void hex_of(const void *data, size_t len, char hex[2 * SHA256_DIGEST_SIZE + 1])
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_init(&c);
	sha256_update(&c, len, (const uint8_t *)(data));
	sha256_digest(&c, SHA256_DIGEST_SIZE, d);
	sha256_hex(d, hex);
}

static void test_vectors(void **state)
{
	char hex[2 * SHA256_DIGEST_SIZE + 1];

	hex_of("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 448 bits: the padding needs a second block */
	const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	hex_of(m448, strlen(m448), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
			   "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	hex_of(m896, strlen(m896), hex);
	assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	char chunk[1000];

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	for (unsigned i = 0; i < 1000; i++)
		sha256_update(&c, sizeof(chunk), (const uint8_t *)(chunk));
	sha256_digest(&c, SHA256_DIGEST_SIZE, d);
	sha256_hex(d, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Any split of the input gives the same digest, across every buffer boundary. */
static void test_incremental(void **state)
{
	uint8_t data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);

	for (size_t len = 0; len <= sizeof(data); len += 13) {
		char whole[2 * SHA256_DIGEST_SIZE + 1];
		hex_of(data, len, whole);
		for (size_t step = 1; step <= 70; step += 23) {
			struct sha256_ctx c;
			uint8_t d[SHA256_DIGEST_SIZE];
			char hex[2 * SHA256_DIGEST_SIZE + 1];
			sha256_init(&c);
			for (size_t off = 0; off < len; off += step)
				sha256_update(&c, len - off < step ? len - off : step, (const uint8_t *)(data + off));
			sha256_digest(&c, SHA256_DIGEST_SIZE, d);
			sha256_hex(d, hex);
			assert_string_equal(hex, whole);
		}
	}
	/* lengths around the 55/56/64 padding edges */
	for (size_t len = 50; len <= 130; len++) {
		char a[2 * SHA256_DIGEST_SIZE + 1], b[2 * SHA256_DIGEST_SIZE + 1];
		struct sha256_ctx c;
		uint8_t d[SHA256_DIGEST_SIZE];
		hex_of(data, len, a);
		sha256_init(&c);
		sha256_update(&c, 1, (const uint8_t *)(data));
		sha256_update(&c, len - 1, (const uint8_t *)(data + 1));
		sha256_digest(&c, SHA256_DIGEST_SIZE, d);
		sha256_hex(d, b);
		assert_string_equal(a, b);
	}
}

static char tmpdir[] = "/tmp/berth-test-sha256-XXXXXX";

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* removes the directory even when a test failed half-way */
static int teardown(void **state)
{
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static void test_file(void **state)
{
	char p[256], l[256], hex[2 * SHA256_DIGEST_SIZE + 1];

	path_in(p, sizeof(p), "abc");
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs("abc", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(sha256_file(p, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	/* larger than one read */
	path_in(p, sizeof(p), "million");
	f = fopen(p, "we");
	assert_non_null(f);
	for (unsigned i = 0; i < 1000000; i++)
		fputc('a', f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(sha256_file(p, hex), 0);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

	path_in(p, sizeof(p), "empty");
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(sha256_file(p, hex), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	/* not followed, not read, not blocked on */
	memcpy(hex, "unchanged", 10);
	path_in(l, sizeof(l), "link");
	path_in(p, sizeof(p), "abc");
	assert_int_equal(symlink(p, l), 0);
	assert_int_equal(sha256_file(l, hex), -ELOOP);
	assert_string_equal(hex, "unchanged");
	path_in(p, sizeof(p), "missing");
	assert_int_equal(sha256_file(p, hex), -ENOENT);
	assert_int_equal(sha256_file(tmpdir, hex), -EISDIR);
	path_in(p, sizeof(p), "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(sha256_file(p, hex), -EINVAL);
	assert_int_equal(sha256_file("", hex), -EINVAL);
	assert_string_equal(hex, "unchanged");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_million_a),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests_name("sha256", tests, setup, teardown);
}
