/* binary.h - is this file a binary berth may install on this host? And reading it exactly once.
 *
 * berth reads the caller's binary once, through one descriptor: the bytes go into a sealed memfd
 * (anonymous memory nobody else can reach or change) while they are hashed. Everything after
 * that, the ELF check and the copy into the release, reads the memfd, never the caller's file
 * again: a file that is replaced, rewritten or truncated during a deploy is never installed under
 * another file's hash, and cannot crash berth (a truncated mmap of the caller's file is SIGBUS).
 */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

#include "elf.h"
#include "sha256.h"

/* Larger binaries are refused: the copy lives in memory while berth works on it. */
#define BINARY_SIZE_MAX (2ULL << 30)

struct binary_image {
	int fd;                                 /* sealed memfd holding the bytes; -1 when empty */
	uint64_t size;
	char sha256[2 * SHA256_DIGEST_SIZE + 1]; /* of exactly those bytes */
	struct stat source;                     /* fstat of the caller's file, taken when it was opened */
};

struct binary_verdict {
	struct elf_info info;
	char *error;     /* why it is refused, NULL if accepted */
	char **warnings; /* accepted with these remarks (e.g. not a Go program), never NULL on success */
};

/* Reads path (a regular file; a symlink at its last component is followed only if path names it
 * through realpath first, as deploy does) into a sealed memfd, hashing it. -EFBIG above
 * BINARY_SIZE_MAX, -ESTALE if the file changed while it was read (size or times moved: somebody
 * is still writing it), -EISDIR / -EINVAL for what is not a regular file, else -errno. */
int binary_image_read(const char *path, struct binary_image *ret);
void binary_image_release(struct binary_image *img);

/* Judges the image's bytes. Returns 0 when they could be judged (then verdict->error says whether
 * it is refused), or -errno when they could not be read at all. */
int binary_judge_image(const struct binary_image *img, struct binary_verdict *ret);
/* binary_image_read() + binary_judge_image(); a path that is no regular file is a refusal in the
 * verdict ("not a regular file"), not an error. On success the caller owns both. */
int binary_read_and_judge(const char *path, struct binary_image *ret_image, struct binary_verdict *ret);
/* The same when only the verdict is wanted (berth check, render). */
int binary_judge(const char *path, struct binary_verdict *ret);
/* The verdict on a release berth installed itself (root's file in root's 0755 directories under
 * the state root, never the caller's): judged in place through a read-only mapping, without
 * copying or hashing it, so that only the pages the ELF reader touches are read. A redeploy of
 * what runs and a rollback need no more. -ELOOP for a symlink, -EINVAL for what is not a regular
 * file. */
int binary_judge_release(const char *path, struct binary_verdict *ret);
void binary_verdict_release(struct binary_verdict *v);
