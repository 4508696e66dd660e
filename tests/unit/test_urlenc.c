/*
 * test_urlenc.c - percent-encoding both ways (lib/urlenc.c): strictness of
 * the decoder, form-mode '+', upper-case hex and the unreserved set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/urlenc.h"

static void expect_decode(const char *in, unsigned flags, const char *want, size_t want_len)
{
	char *out;
	size_t n;

	assert_int_equal(urlenc_decode(in, strlen(in), flags, &out, &n), URLENC_OK);
	assert_int_equal(n, want_len);
	assert_memory_equal(out, want, want_len);
	assert_int_equal(out[n], '\0');
	free(out);
}

static void expect_bad(const char *in)
{
	char *out = (char *)1;
	size_t n;

	assert_int_equal(urlenc_decode(in, strlen(in), URLENC_FORM, &out, &n), URLENC_BAD);
	assert_null(out);
}

static void test_decode(void **state)
{
	expect_decode("", 0, "", 0);
	expect_decode("abc", 0, "abc", 3);
	expect_decode("a%20b%2Bc%2fd", 0, "a b+c/d", 7);
	expect_decode("a+b", 0, "a+b", 3);
	expect_decode("a+b", URLENC_FORM, "a b", 3);
	expect_decode("%E5%90%8D", 0, "\xe5\x90\x8d", 3);
	expect_decode("x%00y", 0, "x\0y", 3);
	expect_bad("%");
	expect_bad("%4");
	expect_bad("a%4");
	expect_bad("%zz");
	expect_bad("%g0");
	expect_bad("%%41");
}

static void test_encode(void **state)
{
	char *s = urlenc_encode("AZaz09-._~ +/=&?%\xe5\x90\x8d", 20);

	assert_string_equal(s, "AZaz09-._~%20%2B%2F%3D%26%3F%25%E5%90%8D");
	free(s);
	s = urlenc_encode("a\0b", 3);
	assert_string_equal(s, "a%00b");
	free(s);
}

static void test_round_trip(void **state)
{
	char in[256], *enc, *dec;
	size_t n;

	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	enc = urlenc_encode(in, sizeof(in));
	assert_int_equal(urlenc_decode(enc, strlen(enc), URLENC_FORM, &dec, &n), URLENC_OK);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(dec, in, sizeof(in));
	free(enc);
	free(dec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
