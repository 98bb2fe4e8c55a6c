/* interrupt.h - Ctrl-C, a dropped SSH session (SIGHUP) or SIGTERM while berth changes a service
 *
 * While armed, the first SIGINT, SIGHUP or SIGTERM is only remembered: the command notices it at
 * its next step (or while it waits for systemd), puts the service back as it was, and exits. A
 * second one ends berth at once; the transaction record (txn.h) is left for the next berth
 * command to finish. SIGPIPE is ignored while armed: with the terminal gone, output fails
 * quietly instead of killing berth half-way.
 */
#pragma once

#include <stdbool.h>

void interrupt_arm(void);
void interrupt_disarm(void);
/* The signal that arrived (SIGINT, SIGHUP, SIGTERM), or 0. */
int interrupt_pending(void);
/* interrupt_pending() as a bool, for bus_jobs.should_stop. */
bool interrupt_requested(void);
