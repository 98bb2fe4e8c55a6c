/* lock.h - the host-wide lock: two berth processes never interleave changes */
#pragma once

#include <sys/types.h>

#include "size.h"

#define BERTH_LOCK_PATH "/run/berth/lock"

/* Takes an exclusive flock on path (creating /run/berth 0755 if needed), waiting up to timeout.
 * Returns the fd to keep open (closing it releases the lock), -ETIMEDOUT when another process
 * still holds it, or -errno. Writes our PID into the file for messages. *ret_holder gets the
 * holder's PID (or 0) on -ETIMEDOUT. */
int lock_acquire(const char *path, usec_t timeout, pid_t *ret_holder);
