/*
 * test_utf8.c - strict UTF-8 validation (lib/utf8.c) against the RFC 3629
 * boundaries: overlong forms, surrogates, the U+10FFFF ceiling, truncated
 * and stray continuation bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/utf8.h"

#define OK(s)  assert_true(utf8_valid(s, sizeof(s) - 1))
#define BAD(s) assert_false(utf8_valid(s, sizeof(s) - 1))

static void test_valid(void **state)
{
	OK("");
	OK("plain ascii");
	OK("\x00\x7f");
	OK("\xc2\x80\xdf\xbf");               /* U+0080, U+07FF */
	OK("\xe0\xa0\x80\xef\xbf\xbf");       /* U+0800, U+FFFF */
	OK("\xed\x9f\xbf\xee\x80\x80");       /* around the surrogates */
	OK("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"); /* U+10000, U+10FFFF */
	OK("名字 é");
}

static void test_invalid(void **state)
{
	BAD("\x80");                  /* stray continuation */
	BAD("\xc0\xaf");              /* overlong '/' */
	BAD("\xc1\xbf");
	BAD("\xe0\x9f\xbf");          /* overlong 3-byte */
	BAD("\xf0\x8f\xbf\xbf");      /* overlong 4-byte */
	BAD("\xed\xa0\x80");          /* U+D800 */
	BAD("\xed\xbf\xbf");          /* U+DFFF */
	BAD("\xf4\x90\x80\x80");      /* U+110000 */
	BAD("\xf5\x80\x80\x80");
	BAD("\xff");
	BAD("\xc3");                  /* truncated */
	BAD("\xe5\x90");
	BAD("\xc3\x28");              /* bad continuation */
	BAD("\xe5\x90\x28");
	BAD("ok\xf0\x90\x80");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
