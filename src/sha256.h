/* sha256.h - SHA-256 for release versions: same binary → same release
 *
 * The hashing itself is libnettle's (struct sha256_ctx, sha256_init, sha256_update(ctx, length,
 * data), sha256_digest): it is on every Debian host through GnuTLS and uses the CPU's SHA
 * instructions where there are some, several times faster than portable C — and a deploy hashes
 * every new binary. This header adds the file and hex helpers berth needs.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <nettle/sha2.h>

/* The hex digest of what c hashed (c is reset for reuse); hex is 65 bytes. */
void sha256_hex_digest(struct sha256_ctx *c, char hex[2 * SHA256_DIGEST_SIZE + 1]);
/* Hashes a file's content (read with O_NOFOLLOW); hex is 65 bytes. Returns 0 or -errno. */
int sha256_file(const char *path, char hex[2 * SHA256_DIGEST_SIZE + 1]);
void sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char hex[2 * SHA256_DIGEST_SIZE + 1]);
