/*
 * urlenc.c - see urlenc.h. Both directions run in one pass over the input
 * into a buffer sized for the worst case (decoding never grows the input;
 * encoding at most triples it).
 */
#include "lib/urlenc.h"

#include <stdint.h>
#include <stdlib.h>

static int urlenc_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

enum urlenc_result urlenc_decode(const char *s, size_t len, unsigned flags, char **out,
				 size_t *outlen)
{
	char *buf = malloc(len + 1);
	size_t n = 0;

	*out = NULL;
	if (buf == NULL)
		return URLENC_NOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			int hi = i + 2 < len ? urlenc_hexval((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < len ? urlenc_hexval((unsigned char)s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(buf);
				return URLENC_BAD;
			}
			buf[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && (flags & URLENC_FORM)) {
			buf[n++] = ' ';
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return URLENC_OK;
}

static int urlenc_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

char *urlenc_encode(const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char *buf;
	size_t n = 0;

	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	buf = malloc(len * 3 + 1);
	if (buf == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (urlenc_unreserved(c)) {
			buf[n++] = (char)c;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	buf[n] = '\0';
	return buf;
}
