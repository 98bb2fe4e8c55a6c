/* fault.c - test-only fault injection (see fault.h) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

#ifdef BERTH_FAULT_INJECTION
bool fault_wanted(const char *op, const char *step)
{
	const char *want = getenv("BERTH_FAULT");
	char here[128];

	if (!want)
		return false;
	snprintf(here, sizeof(here), "%s:%s", op, step);
	return strcmp(want, here) == 0;
}

void fault_point(const char *op, const char *step)
{
	if (!fault_wanted(op, step))
		return;
	fprintf(stderr, "berth: fault injection: killing myself at %s:%s\n", op, step);
	fflush(stderr);
	raise(SIGKILL);
}
#endif
