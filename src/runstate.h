/* runstate.h - what `berth wait-ready` leaves for deploy and status in /run/berth/ready/NAME
 *
 * One line: "ok MSEC INVOCATION_ID" when the service became healthy MSEC after the check began,
 * or "failed INVOCATION_ID REASON" when it did not. /run is tmpfs: it starts empty at boot.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define BERTH_RUN_DIR "/run/berth"
#define BERTH_READY_DIR "/run/berth/ready"

struct ready_state {
	bool ok;
	int64_t ready_msec;    /* -1 if not ok */
	char invocation_id[33];
	char reason[512];
};

int runstate_write_ready(const char *service, const struct ready_state *s);
/* -ENOENT if the service never ran a readiness check since boot. */
int runstate_read_ready(const char *service, struct ready_state *ret);
int runstate_remove(const char *service);
