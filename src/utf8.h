/* utf8.h - UTF-8 validation (pure) */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is not valid UTF-8. Rejects
 * overlong forms, surrogates and code points above U+10FFFF, as systemd's utf8_is_valid does. */
size_t utf8_char_len(const char *s, size_t n);
bool utf8_is_valid(const char *s);
/* True if s contains an ASCII control character (0x00-0x1f, 0x7f), newline and tab included. */
bool string_has_cc(const char *s);
