/* fault.h - test-only fault injection: die at a named step of a transaction
 *
 * Only in builds configured with --enable-fault-injection (the berth-fault test binary; the
 * installed berth never has it). With BERTH_FAULT=STEP in the environment, berth sends itself
 * SIGKILL when it reaches STEP, e.g. "deploy:after-current-switch", so the VM tests can prove that
 * the next berth command finishes or undoes what a killed one left. `berth-fault --list-faults`
 * is not needed: the steps are listed in tests/vm/t2200-interrupted.sh and man/berth.8.
 */
#pragma once

#include <stdbool.h>

#ifdef BERTH_FAULT_INJECTION
/* BERTH_FAULT names op:step. */
bool fault_wanted(const char *op, const char *step);
/* Dies (SIGKILL) if BERTH_FAULT names op:step. */
void fault_point(const char *op, const char *step);
#else
static inline bool fault_wanted(const char *op, const char *step)
{
	(void)op;
	(void)step;
	return false;
}
static inline void fault_point(const char *op, const char *step)
{
	(void)op;
	(void)step;
}
#endif
