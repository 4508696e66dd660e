/*
 * utf8.h - strict UTF-8 validation (RFC 3629): no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. The API accepts only
 * UTF-8, so every decoded name and value goes through here.
 */
#ifndef PGFLEET_LIB_UTF8_H
#define PGFLEET_LIB_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (NUL bytes are well-formed). */
bool utf8_valid(const void *s, size_t len);

#endif
