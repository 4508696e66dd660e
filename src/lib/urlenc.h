/*
 * urlenc.h - RFC 3986 percent-encoding and decoding, as query strings and
 * application/x-www-form-urlencoded bodies use it. Decoding is strict: a
 * '%' must be followed by two hex digits. In form mode '+' decodes to a
 * space (what Python's urlencode and Go's url.Values send); encoding keeps
 * only the unreserved set (A-Z a-z 0-9 - . _ ~) and writes upper-case hex,
 * as the TencentCloud signature rules require.
 */
#ifndef PGFLEET_LIB_URLENC_H
#define PGFLEET_LIB_URLENC_H

#include <stddef.h>

#define URLENC_FORM 0x01u /* '+' means space */

enum urlenc_result { URLENC_OK = 0, URLENC_BAD = -1, URLENC_NOMEM = -2 };

/* Decode s[0..len) into a new NUL-terminated string (*out, caller frees) of
 * *outlen bytes. The result may contain NUL bytes (from "%00"): callers that
 * need C strings check *outlen against strlen(). On failure *out is NULL. */
enum urlenc_result urlenc_decode(const char *s, size_t len, unsigned flags, char **out,
				 size_t *outlen);

/* Percent-encode s[0..len); returns a malloc'd string or NULL (no memory). */
char *urlenc_encode(const char *s, size_t len);

#endif
