/*
 * textclip.c - see textclip.h. A sequence's length comes from its lead
 * byte; utf8_valid() decides whether those bytes are a well-formed
 * character (it knows the overlong and surrogate rules).
 */
#include "lib/textclip.h"

#include <string.h>

#include "lib/utf8.h"

static const char textclip_repl[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Bytes of the character at p (1..4), or 0 when it is not well-formed. */
static size_t textclip_char(const unsigned char *p, size_t left)
{
	size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;

	if (n == 0 || n > left || p[0] == 0)
		return 0;
	return (n == 1 || utf8_valid(p, n)) ? n : 0;
}

size_t textclip_utf8(const char *in, size_t len, char *out, size_t cap, bool *cut)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = textclip_char(p + i, len - i);
		const char *src = n ? in + i : textclip_repl;
		size_t w = n ? n : 3;
		if (o + w > cap - 1)
			break;
		memcpy(out + o, src, w);
		o += w;
		i += n ? n : 1;
	}
	out[o] = '\0';
	if (cut != NULL)
		*cut = i < len;
	return o;
}
