/*
 * textclip.h - make log text fit for a JSON response: well-formed UTF-8
 * (each invalid byte and each NUL becomes U+FFFD), cut at a character
 * boundary to a byte budget. PostgreSQL writes what clients send in the
 * server encoding, and jansson refuses strings that are not UTF-8.
 */
#ifndef PGFLEET_LIB_TEXTCLIP_H
#define PGFLEET_LIB_TEXTCLIP_H

#include <stdbool.h>
#include <stddef.h>

/* Write the cleaned text of in[0..len) into out (cap >= 4 bytes including
 * the NUL; at most cap-1 text bytes, never a partial character). Returns
 * the bytes written; *cut (may be NULL) says whether input was left over. */
size_t textclip_utf8(const char *in, size_t len, char *out, size_t cap, bool *cut);

#endif
