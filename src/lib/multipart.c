/*
 * multipart.c - see multipart.h. The parser walks delimiter to delimiter:
 * after "--B" comes either "--" (the end) or CRLF and a part, whose header
 * block ends at the first blank line and whose value ends right before the
 * next "CRLF--B". memmem() does the searching, so a body is scanned once.
 */
#include "lib/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int multipart_fail(const char **why, const char *what)
{
	*why = what;
	return -1;
}

int multipart_boundary(const char *ct, char out[MULTIPART_MAX_BOUNDARY + 1], const char **why)
{
	const char *p = strchr(ct, ';');

	while (p != NULL) {
		p++;
		p += strspn(p, " \t");
		size_t n = strcspn(p, ";");
		if (n > 9 && strncasecmp(p, "boundary=", 9) == 0) {
			const char *v = p + 9;
			size_t vl = n - 9;
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			if (vl == 0 || vl > MULTIPART_MAX_BOUNDARY || memchr(v, '"', vl) != NULL)
				return multipart_fail(why, "invalid boundary");
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
		p = strchr(p, ';');
	}
	return multipart_fail(why, "no boundary in the Content-Type");
}

/* The name="..." of a Content-Disposition value `form-data; ...`. */
static int multipart_disposition(const char *v, size_t len, struct multipart_part *part,
				 const char **why)
{
	const char *end = v + len;

	if (len < 9 || strncasecmp(v, "form-data", 9) != 0 || (len > 9 && v[9] != ';'))
		return multipart_fail(why, "a part is not form-data");
	for (const char *p = v + 10; p < end; p++) {
		if ((p[-1] != ';' && p[-1] != ' ') || end - p <= 6 || strncmp(p, "name=\"", 6) != 0)
			continue;
		const char *q = memchr(p + 6, '"', (size_t)(end - p - 6));
		if (q == NULL)
			return multipart_fail(why, "unterminated part name");
		part->name = p + 6;
		part->name_len = (size_t)(q - p - 6);
		return 0;
	}
	return multipart_fail(why, "a part has no name");
}

/* One header line: Content-Disposition gives the name, others are skipped. */
static int multipart_header(const char *line, size_t ll, struct multipart_part *part,
			    const char **why)
{
	const char *colon = memchr(line, ':', ll);
	const char *v;

	if (colon == NULL)
		return multipart_fail(why, "malformed part header");
	if ((size_t)(colon - line) != 19 || strncasecmp(line, "Content-Disposition", 19) != 0)
		return 0;
	if (part->name != NULL)
		return multipart_fail(why, "duplicated Content-Disposition");
	for (v = colon + 1; v < line + ll && (*v == ' ' || *v == '\t'); v++)
		;
	return multipart_disposition(v, (size_t)(line + ll - v), part, why);
}

/* The header block h[0..len) (CRLF-separated lines) of one part. */
static int multipart_headers(const char *h, size_t len, struct multipart_part *part,
			     const char **why)
{
	for (size_t i = 0; i < len;) {
		const char *eol = memmem(h + i, len - i, "\r\n", 2);
		size_t ll = eol != NULL ? (size_t)(eol - (h + i)) : len - i;
		if (multipart_header(h + i, ll, part, why) != 0)
			return -1;
		i += ll + 2;
	}
	return part->name != NULL ? 0 : multipart_fail(why, "a part has no Content-Disposition");
}

/* One part at s (just after "--B\r\n"); *used = its length, up to the next
 * delimiter "\r\n--B". */
static int multipart_part(const char *s, size_t len, const char *delim, size_t dlen,
			  struct multipart_part *part, size_t *used, const char **why)
{
	size_t hmax = len < MULTIPART_MAX_HEADERS ? len : MULTIPART_MAX_HEADERS;
	const char *hend = memmem(s, hmax, "\r\n\r\n", 4);
	const char *vend;

	*part = (struct multipart_part){ 0 };
	if (hend == NULL)
		return multipart_fail(why, "part headers are missing or too long");
	if (multipart_headers(s, (size_t)(hend - s), part, why) != 0)
		return -1;
	part->value = hend + 4;
	vend = memmem(part->value, (size_t)(s + len - part->value), delim, dlen);
	if (vend == NULL)
		return multipart_fail(why, "a part is not terminated by the boundary");
	part->value_len = (size_t)(vend - part->value);
	*used = (size_t)(vend - s);
	return 0;
}

int multipart_parse(const char *body, size_t len, const char *boundary, multipart_part_cb cb,
		    void *arg, const char **why)
{
	char delim[MULTIPART_MAX_BOUNDARY + 8];
	size_t dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%.*s",
				       MULTIPART_MAX_BOUNDARY, boundary);
	size_t pos = dlen - 2;

	*why = NULL;
	if (len == 0)
		return 0;
	if (len < pos || memcmp(body, delim + 2, pos) != 0)
		return multipart_fail(why, "the body does not start with the boundary");
	for (;;) {
		struct multipart_part part;
		size_t used = 0;
		int rc;
		if (len - pos >= 2 && memcmp(body + pos, "--", 2) == 0) {
			pos += 2;
			if (pos == len || (len - pos == 2 && memcmp(body + pos, "\r\n", 2) == 0))
				return 0;
			return multipart_fail(why, "data after the closing boundary");
		}
		if (len - pos < 2 || memcmp(body + pos, "\r\n", 2) != 0)
			return multipart_fail(why, "a boundary is not followed by CRLF");
		pos += 2;
		if (multipart_part(body + pos, len - pos, delim, dlen, &part, &used, why) != 0)
			return -1;
		if ((rc = cb(&part, arg)) != 0)
			return rc;
		pos += used + dlen;
	}
}
