/*
 * utf8.c - see utf8.h. The table of well-formed byte sequences is RFC 3629
 * section 4: the second byte's range depends on the lead byte, which is how
 * overlong forms and surrogates are excluded without decoding.
 */
#include "lib/utf8.h"

/* Length of the sequence starting with lead byte `c` and the allowed range
 * of its second byte; 0 for an invalid lead byte. */
static int utf8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF) {
		if (c == 0xE0)
			*lo = 0xA0;
		else if (c == 0xED)
			*hi = 0x9F;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (c == 0xF0)
			*lo = 0x90;
		else if (c == 0xF4)
			*hi = 0x8F;
		return 4;
	}
	return 0;
}

bool utf8_valid(const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t i = 0;

	while (i < len) {
		unsigned char lo, hi;
		int n = utf8_lead(p[i], &lo, &hi);
		if (n == 0 || (size_t)n > len - i)
			return false;
		if (n > 1 && (p[i + 1] < lo || p[i + 1] > hi))
			return false;
		for (int k = 2; k < n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xBF)
				return false;
		i += (size_t)n;
	}
	return true;
}
