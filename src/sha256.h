/* sha256.h - SHA-256 (FIPS 180-4), for release versions: same binary → same release (pure) */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

struct sha256_ctx {
	uint32_t state[8];
	uint64_t bytes;
	uint8_t buf[64];
	size_t buf_len;
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);
/* Hashes a file's content (read with O_NOFOLLOW); hex is 65 bytes. Returns 0 or -errno. */
int sha256_file(const char *path, char hex[2 * SHA256_DIGEST_SIZE + 1]);
void sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char hex[2 * SHA256_DIGEST_SIZE + 1]);
