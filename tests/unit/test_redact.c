/*
 * test_redact.c - passwords never leave the log readers (lib/redact.c), and
 * log text is made valid UTF-8 within a byte budget (lib/textclip.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/redact.h"
#include "lib/textclip.h"

static void expect_sql(const char *in, const char *want)
{
	size_t n;
	char *out = redact_sql(in, strlen(in), &n);

	assert_non_null(out);
	if (strcmp(out, want) != 0)
		fail_msg("redact_sql(%s)\n  got  [%s]\n  want [%s]", in, out, want);
	assert_int_equal(n, strlen(want));
	free(out);
}

static void expect_msg(const char *in, const char *want)
{
	size_t n;
	char *out = redact_message(in, strlen(in), &n);

	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_sensitive(void **state)
{
	assert_true(redact_sensitive("ALTER ROLE x PASSWORD 'y'", 25));
	assert_true(redact_sensitive("select dblink_connect('host=a passwd=b')", 40));
	assert_true(redact_sensitive("update users set PassWord = 'x'", 31));
	assert_false(redact_sensitive("select pass, word from t", 24));
	assert_false(redact_sensitive("", 0));
}

static void test_sql(void **state)
{
	expect_sql("select 'a' from t", "select 'a' from t");
	expect_sql("ALTER ROLE bob PASSWORD 'hunter2'", "ALTER ROLE bob PASSWORD '[REDACTED]'");
	expect_sql("alter role bob with encrypted password E'hun\\'ter2' valid until '2030-01-01'",
		   "alter role bob with encrypted password '[REDACTED]' valid until '[REDACTED]'");
	expect_sql("alter role bob password hunter2", "alter role bob password [REDACTED]");
	expect_sql("alter role bob password \"hunter2\";", "alter role bob password [REDACTED];");
	expect_sql("alter role bob password null", "alter role bob password null");
	expect_sql("create role r password $$x'y$$ login", "create role r password '[REDACTED]' login");
	expect_sql("/* password: hunter2 */ select 1", "  select 1");
	expect_sql("select 1 -- password hunter2\n", "select 1  \n");
	expect_sql("select dblink_connect('host=x password=secret')", "select dblink_connect('[REDACTED]')");
	expect_sql("alter role bob password 'unterminated", "alter role bob password '[REDACTED]'");
	expect_sql("ALTER USER \"Bob\" PASSWORD 'x'", "ALTER USER \"Bob\" PASSWORD '[REDACTED]'");
}

static void test_message(void **state)
{
	expect_msg("syntax error at or near \"hunter2\"", "syntax error at or near \"[REDACTED]\"");
	expect_msg("SQL statement \"ALTER ROLE a PASSWORD 'x'\"", "SQL statement \"[REDACTED]\"");
	expect_msg("unterminated 'quote", "unterminated '[REDACTED]");
	expect_msg("no quotes", "no quotes");
}

static void test_textclip(void **state)
{
	char out[16];
	bool cut;
	size_t n;

	n = textclip_utf8("h\xC3\xA9llo", 6, out, sizeof(out), &cut);
	assert_int_equal(n, 6);
	assert_false(cut);
	assert_string_equal(out, "h\xC3\xA9llo");
	/* an invalid byte and a NUL become U+FFFD */
	n = textclip_utf8("a\xFF" "b\0c", 5, out, sizeof(out), &cut);
	assert_string_equal(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c");
	assert_int_equal(n, 9);
	/* overlong and surrogate forms are refused */
	textclip_utf8("\xC0\xAF\xED\xA0\x80", 5, out, sizeof(out), NULL);
	assert_int_equal(strncmp(out, "\xEF\xBF\xBD", 3), 0);
	assert_null(strstr(out, "\xED\xA0"));
	/* never a partial character at the cut */
	n = textclip_utf8("abcdefghijklm\xE2\x82\xAC", 16, out, 16, &cut);
	assert_int_equal(n, 13);
	assert_true(cut);
	n = textclip_utf8("abc", 3, out, 4, &cut);
	assert_int_equal(n, 3);
	assert_false(cut);
	n = textclip_utf8("abcd", 4, out, 4, &cut);
	assert_int_equal(n, 3);
	assert_true(cut);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sensitive),
		cmocka_unit_test(test_sql),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_textclip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
