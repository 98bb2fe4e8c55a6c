/* term.c - colour decisions */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "term.h"

int term_colour_mode = -1;

bool term_colour(int fd)
{
	if (term_colour_mode >= 0)
		return term_colour_mode;
	const char *t = getenv("TERM");
	if (getenv("NO_COLOR") || !t || strcmp(t, "dumb") == 0)
		return false;
	return isatty(fd);
}

const char *term_out(const char *code)
{
	return term_colour(STDOUT_FILENO) ? code : "";
}
