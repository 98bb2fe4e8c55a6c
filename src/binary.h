/* binary.h - is this file a binary berth may install on this host? */
#pragma once

#include "elf.h"

struct binary_verdict {
	struct elf_info info;
	char *error;     /* why it is refused, NULL if accepted */
	char **warnings; /* accepted with these remarks (e.g. not a Go program), never NULL on success */
};

/* Inspects path. Returns 0 when the file could be judged (then verdict->error says whether it is
 * refused), or -errno when it could not be read at all. */
int binary_judge(const char *path, struct binary_verdict *ret);
void binary_verdict_release(struct binary_verdict *v);
