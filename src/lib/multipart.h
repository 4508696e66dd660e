/*
 * multipart.h - a strict multipart/form-data (RFC 7578 / RFC 2046) body
 * parser. It only finds the parts: each part's name (from its
 * Content-Disposition: form-data; name="...") and its raw value bytes are
 * handed to a callback as spans into the body, which is never copied.
 *
 * Strict means: the body starts with the first delimiter (no preamble),
 * every delimiter is followed by CRLF or by "--" (the close), only an
 * optional CRLF may follow the close (no epilogue), each part has one
 * Content-Disposition of type form-data with a quoted name (no escapes),
 * and a part's header block is at most MULTIPART_MAX_HEADERS bytes. An empty
 * body is an empty form (what the form-data npm package sends for one).
 */
#ifndef PGFLEET_LIB_MULTIPART_H
#define PGFLEET_LIB_MULTIPART_H

#include <stddef.h>

#define MULTIPART_MAX_BOUNDARY 70     /* RFC 2046 */
#define MULTIPART_MAX_HEADERS  2048   /* header block of one part */

struct multipart_part {
	const char *name;      /* not NUL-terminated */
	size_t name_len;
	const char *value;     /* raw bytes, not NUL-terminated */
	size_t value_len;
};

/* Called for each part in order; a non-zero return stops the parse. */
typedef int (*multipart_part_cb)(const struct multipart_part *part, void *arg);

/* The boundary parameter of a Content-Type value (quotes removed) into out.
 * Returns 0, or -1 with *why set to a static description. */
int multipart_boundary(const char *content_type, char out[MULTIPART_MAX_BOUNDARY + 1],
		       const char **why);

/* Parse body[0..len). Returns 0 when every part was accepted, -1 when the
 * body is malformed (*why set to a static description), or the callback's
 * non-zero return value (*why NULL). */
int multipart_parse(const char *body, size_t len, const char *boundary, multipart_part_cb cb,
		    void *arg, const char **why);

#endif
