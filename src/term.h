/* term.h - colour only on a terminal, never when NO_COLOR is set or TERM=dumb */
#pragma once

#include <stdbool.h>

#define TERM_RED "\033[31m"
#define TERM_GREEN "\033[32m"
#define TERM_YELLOW "\033[33m"
#define TERM_BOLD "\033[1m"
#define TERM_GREY "\033[90m"
#define TERM_RESET "\033[0m"

/* Global switch from --no-color / --color=always; -1 = decide per fd. */
extern int term_colour_mode;

bool term_colour(int fd);
/* Returns code if stdout gets colour, else "". */
const char *term_out(const char *code);
