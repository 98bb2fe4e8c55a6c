/* interrupt.c - remember the first termination signal, let the second one through */
#include <signal.h>
#include <string.h>

#include "interrupt.h"

static volatile sig_atomic_t pending;

static const int signals[] = { SIGINT, SIGHUP, SIGTERM };

static void on_signal(int sig)
{
	if (pending) {
		/* the second one: leave now, the record stays for the next berth */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	pending = sig;
}

void interrupt_arm(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a wait in poll() returns EINTR, so the waiter looks at pending */
	sa.sa_flags = 0;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		(void)sigaction(signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void interrupt_disarm(void)
{
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		signal(signals[i], SIG_DFL);
}

int interrupt_pending(void)
{
	return pending;
}

bool interrupt_requested(void)
{
	return pending != 0;
}
