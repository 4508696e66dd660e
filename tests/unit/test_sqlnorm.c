/*
 * test_sqlnorm.c - the slow-query normaliser (lib/sqlnorm.c): every literal
 * form becomes a placeholder, lists collapse, comments and spacing vanish,
 * PASSWORD values are hidden, and the fingerprint groups exactly what the
 * text says is the same query, whatever the output buffer's size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sqlnorm.h"

static struct sqlnorm norm(const char *in, char *out, size_t cap)
{
	struct sqlnorm r;

	sqlnorm_run(in, strlen(in), out, cap, &r);
	return r;
}

static void expect_norm(const char *in, const char *want)
{
	char out[4096];
	struct sqlnorm r = norm(in, out, sizeof(out));

	if (strcmp(out, want) != 0)
		fail_msg("normalise(%s)\n  got  [%s]\n  want [%s]", in, out, want);
	assert_int_equal(r.len, strlen(want));
}

static uint64_t fp(const char *in)
{
	char out[4096];

	return norm(in, out, sizeof(out)).fingerprint;
}

static void test_literals(void **state)
{
	expect_norm("select * from orders where id = 1", "select * from orders where id = $1");
	expect_norm("SELECT pg_sleep(0.25)", "select pg_sleep($1)");
	expect_norm("select 1.5e3, .5, 0x1F, 1_000, 3e-2", "select $1, ...");
	expect_norm("select 1.5e3 + .5", "select $1 + $2");
	expect_norm("where name = 'it''s' and x = E'a\\'b'", "where name = $1 and x = $2");
	expect_norm("select $$a 'b' c$$, $fn$ x $ y $fn$ from t", "select $1, ... from t");
	expect_norm("select B'0101' | X'1F', N'text', U&'d\\0061t'", "select $1 | $2, ...");
	expect_norm("select '1'::int, interval '3 days'", "select $1::int, interval $2");
	expect_norm("select 'unterminated", "select $1");
}

static void test_identifiers_and_case(void **state)
{
	expect_norm("SELECT T1.Col2 FROM \"MixedCase\" t1", "select t1.col2 from \"MixedCase\" t1");
	expect_norm("select a$b, \"we\"\"ird\" from x", "select a$b, \"we\"\"ird\" from x");
	expect_norm("select é from tèst", "select é from tèst");
}

static void test_spacing_and_comments(void **state)
{
	expect_norm("  SELECT\n\ta  -- the column\n  FROM /* outer /* nested */ */ t ;  ", "select a from t ;");
	expect_norm("select a,b from t", "select a,b from t");
	assert_true(fp("select a from t") == fp("SELECT   a\n FROM t -- x"));
	assert_true(fp("select a from t") != fp("select b from t"));
	assert_true(fp("select ab from t") != fp("select a b from t"));
}

static void test_signs(void **state)
{
	expect_norm("select * from t where x = -1", "select * from t where x = $1");
	expect_norm("select -1, x - 1, x-1, (-2)", "select $1, x - $2, x-$3, ($4)");
	expect_norm("select a from t limit -5", "select a from t limit $1");
	assert_true(fp("where x = -1") == fp("where x = 7"));
}

static void test_lists(void **state)
{
	expect_norm("select * from t where id in (1, 2, 3)", "select * from t where id in ($1, ...)");
	expect_norm("select * from t where id in (4,5)", "select * from t where id in ($1, ...)");
	assert_true(fp("where id in (1)") != fp("where id in (1, 2)"));
	assert_true(fp("where id in (1, 2)") == fp("where id in (9,8,7,6,5,4)"));
	expect_norm("insert into t values (1, 'a'), (2, 'b')", "insert into t values ($1, ...), ($2, ...)");
	expect_norm("select f(1, 2, x)", "select f($1, ..., x)");
	expect_norm("select f(1, 2, 3,)", "select f($1, ...,)");
}

static void test_parameters(void **state)
{
	expect_norm("select pg_sleep($1), 5", "select pg_sleep($1), $2");
	expect_norm("update jobs set a = $2, b = 7 where id = $1", "update jobs set a = $2, b = $3 where id = $1");
	expect_norm("select $1, $2", "select $1, ...");
}

static void test_password(void **state)
{
	char out[256];
	struct sqlnorm r = norm("ALTER ROLE bob PASSWORD 'hunter2'", out, sizeof(out));

	assert_string_equal(out, "alter role bob password $1");
	assert_true(r.sensitive);
	expect_norm("alter role bob with password hunter2 valid until 'x'",
		    "alter role bob with password $1 valid until $2");
	expect_norm("alter role bob password null", "alter role bob password null");
	expect_norm("create user x password \"q\"", "create user x password $1");
	r = norm("select 1", out, sizeof(out));
	assert_false(r.sensitive);
}

static void test_truncation(void **state)
{
	char big[8192], out_small[16], out_big[16384];
	struct sqlnorm a, b;
	size_t n = 0;

	n += (size_t)snprintf(big + n, sizeof(big) - n, "select ");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "col%d + %d, ", i, i);
	snprintf(big + n, sizeof(big) - n, "x from t");
	sqlnorm_run(big, strlen(big), out_small, sizeof(out_small), &a);
	sqlnorm_run(big, strlen(big), out_big, sizeof(out_big), &b);
	assert_int_equal(a.len, b.len);
	assert_true(a.fingerprint == b.fingerprint);
	assert_int_equal(strlen(out_small), sizeof(out_small) - 1);
	assert_memory_equal(out_small, out_big, sizeof(out_small) - 1);
	for (size_t cap = 1; cap < 64; cap++) {
		char o[64];
		struct sqlnorm c;
		sqlnorm_run(big, strlen(big), o, cap, &c);
		assert_true(c.fingerprint == b.fingerprint);
	}
}

static void test_edges(void **state)
{
	char out[8];
	struct sqlnorm r;

	sqlnorm_run("", 0, out, sizeof(out), &r);
	assert_string_equal(out, "");
	assert_int_equal(r.len, 0);
	/* bytes after a NUL are still input (length-delimited) */
	sqlnorm_run("a\0b", 3, out, sizeof(out), &r);
	assert_int_equal(r.len, 3);
	/* odd input never reads past the end */
	const char *odd[] = { "$", "$a", "$a$", "'", "E'", "E'\\", "/*", "--", "-", ".", "0x", "1e", "1e+", "U&'", "\"", "$1$" };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char *copy = malloc(strlen(odd[i]));
		memcpy(copy, odd[i], strlen(odd[i]));
		sqlnorm_run(copy, strlen(odd[i]), out, sizeof(out), &r);
		free(copy);
	}
}

static void test_hash(void **state)
{
	assert_true(sqlnorm_hash("abc", 3, 0) == sqlnorm_hash("abc", 3, 0));
	assert_true(sqlnorm_hash("abc", 3, 0) != sqlnorm_hash("abd", 3, 0));
	assert_true(sqlnorm_hash("abc", 3, 0) != sqlnorm_hash("abc", 3, 1));
	assert_true(sqlnorm_hash("", 0, 0) != sqlnorm_hash("", 0, 1));
}

/* ---- the fast path against the reference ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Pieces that meet at every boundary the fast path has to get right. */
static const char *const pieces[] = {
	" ", "  ", "\n", "\t", "select", "SELECT", "x", "t1", "a$b", "e", "E", "b", "x", "n", "u", "U&", "'",
	"'s'", "''", "E'\\''", "$$", "$q$x$q$", "$1", "$", "1", "12.5", ".5", "1e5", "0x1F", "-", "+", "-1", "--c\n",
	"/*c*/", "/", "*", "(", ")", "[", "]", ",", ", ", ";", ":", "::", "=", "<>", ".", "\"Q\"", "\"", "in",
	"limit", "values", "é", "\xff", "\x01", "{", "}", "\\", "&", "?", "password", "null", "where", "_",
	"abcdefghijklmnopqrstu", "and b = ", "IN (1, 2, 3)", "f(x, 'y', 3)", "T1", "1.", "..", "e5", "$1a",
	"0b101", "_9", "&-", "*/", "/*", "'a''b'", "U&'x'", "ü", "\r\n",
};

static void test_fast_matches_precise(void **state)
{
	char in[512], a[600], b[600];
	struct sqlnorm ra, rb;

	int iters = getenv("SQLNORM_ITERS") ? (int)strtol(getenv("SQLNORM_ITERS"), NULL, 10) : 200000;

	for (int iter = 0; iter < iters; iter++) {
		size_t n = 0;
		int npieces = 1 + (int)(next_rand() % 40);
		for (int k = 0; k < npieces; k++) {
			const char *piece = pieces[next_rand() % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = strlen(piece);
			if (n + pl >= sizeof(in))
				break;
			memcpy(in + n, piece, pl);
			n += pl;
		}
		size_t cap = iter % 7 == 0 ? 1 + next_rand() % 40 : sizeof(a);
		sqlnorm_run(in, n, a, cap, &ra);
		sqlnorm_run_precise(in, n, b, cap, &rb);
		if (strcmp(a, b) != 0 || ra.len != rb.len || ra.fingerprint != rb.fingerprint || ra.sensitive != rb.sensitive)
			fail_msg("fast and precise differ on [%.*s] (cap %zu)\n  fast    [%s]\n  precise [%s]", (int)n, in,
				 cap, a, b);
	}
}

/* ---- the shape cache against the reference ---- */

/* Literal values a shape's slot may take in another statement, by kind
 * (the variants of a statement mostly keep each literal's kind), with
 * forms that are something else or change the numbering of placeholders. */
static const char *const literals[] = {
	"1", "12.5", "1e5", "007", "3.", "1_000", "42", "0x1F",           /* 0..7: numbers */
	"-1", "+2", "-12.5", "-7",                                        /* 8..11: signed */
	"'s'", "''", "'a''b'", "'x,y'", "'--'", "'/*'", "'password'",    /* 12..18: strings */
	"'$1'", "1e", "0b101", "- 3", "-.5", ".5", "E'x'", "$$y$$", "1..2", "'unterminated", "$9",
	"/* c */", "/* 1 */", "/* /* n */ */", "/* $2 */", "-- x\n", "-- 7\n", "/* open", "-- end",  /* 30..37: comments */
};
static const int literal_kinds[][2] = { { 0, 8 }, { 8, 12 }, { 12, 19 }, { 30, 38 }, { 0, 38 } };   /* [from, to) */
_Static_assert(sizeof(literals) / sizeof(literals[0]) == 38, "literal_kinds covers every literal");

#define KIND_LIST 5   /* a slot that is a list: lits[k] seeds its items */

static size_t put(char *out, size_t len, size_t cap, const char *piece)
{
	size_t pl = strlen(piece);

	if (len + pl >= cap)
		return len;
	memcpy(out + len, piece, pl);
	return len + pl;
}

/* Build a statement from `seq` (piece indexes; negative: slot -1-k, whose
 * kind is kinds[k] and value lits[k]; a list slot gets 1-6 items of the
 * kinds shapes know, sometimes of any, with spaces around its commas). */
static size_t build(char *out, size_t cap, const int *seq, int n, const int *lits, const int *kinds)
{
	static const char *const seps[] = { ", ", ",", " , ", ",\n  ", " ,", ",,", ", /* c */ " };
	size_t len = 0;

	for (int k = 0; k < n; k++) {
		if (seq[k] >= 0) {
			len = put(out, len, cap, pieces[seq[k]]);
		} else if (kinds[-1 - seq[k]] != KIND_LIST) {
			len = put(out, len, cap, literals[lits[-1 - seq[k]]]);
		} else {
			unsigned seed = (unsigned)lits[-1 - seq[k]] * 2654435761u;
			int items = 1 + (int)(seed % 6);
			for (int i = 0; i < items; i++) {
				seed = seed * 1103515245u + 12345u;
				if (i > 0)
					len = put(out, len, cap, seps[(seed >> 8) % 16 < 12 ? 0 : (seed >> 12) % 7]);
				seed = seed * 1103515245u + 12345u;
				len = put(out, len, cap, literals[(seed >> 8) % 32 == 0 ? (seed >> 13) % 38 : (seed >> 13) % 19]);
			}
		}
	}
	return len;
}

static void check_against_precise(struct sqlnorm_cache *c, const char *in, size_t n, unsigned *hits)
{
	char a[600], b[600];
	struct sqlnorm ra, rb;
	bool hit = sqlnorm_cached(c, in, n, a, sizeof(a), &ra);

	sqlnorm_run_precise(in, n, b, sizeof(b), &rb);
	if (ra.len != rb.len || ra.fingerprint != rb.fingerprint || ra.sensitive != rb.sensitive ||
	    (!hit && strcmp(a, b) != 0))
		fail_msg("shape cache (%s) differs from precise on [%.*s]\n  precise [%s]", hit ? "hit" : "miss", (int)n,
			 in, b);
	*hits += hit;
}

/* Statements of one shape hit; another shape, or a literal of another
 * kind, does not. */
static void test_shapes(void **state)
{
	static const struct {
		const char *sql;
		bool hit;
	} cases[] = {
		{ "select * from orders where id = 1", false },
		{ "select * from orders where id = 88932", true },
		{ "select * from orders where id = 1.5e3", true },
		{ "select * from orders where id = '1'", false },          /* another kind */
		{ "select * from orders where id = 2 ", false },           /* another shape */
		{ "select * from orders where id = x1", false },
		{ "update a set b = b - 640.67 where id = -233 and s = 'x'", false },
		{ "update a set b = b - 1 where id = -5 and s = 'it''s'", true },
		{ "update a set b = b - 1 where id = +5 and s = ''", false },   /* the sign is part of the shape */
		{ "select * from items where sku in ('a', 'b')", false },
		{ "select * from items where sku in ('c', 'dd')", true },
		{ "select * from items where sku in ('c', 'd', 'e')", true },   /* a list of any length past two */
		{ "select * from items where sku in ('c,d', 'e' ,  'f',1, 2)", true },
		{ "select * from items where sku in ('c', 'd', -1)", false },   /* "-1" there is an operator and 1 */
		{ "select * from items where sku in ('c', -1, 'e')", true },    /* but not as the second item */
		{ "select * from items where sku in ('c')", false },            /* one item: another query */
		{ "select * from items where sku in ('c', 'd', $1)", false },   /* an item the shapes do not read */
		{ "select * from items where sku in ('c', 'd', /* x */ 'e')", false },
		{ "select 'a' from t where x = $1", false },
		{ "select 'b' from t where x = $1", true },
		{ "select 'b$1' from t where x = $1", false },                  /* '$' in a string */
		{ "select 1 /* req 17 */ -- a\n", false },
		{ "select 2 /* req /* nested */ 18 */ -- b\n", true },       /* comments are slots too */
		{ "select 2 /* req 18 */ /* c */ -- b\n", false },
		{ "select 2 /* $1 */ -- b\n", false },                         /* '$' in a comment */
		{ "alter role r password 'x'", false },
		{ "alter role r password 'y'", false },                          /* never remembered */
	};
	struct sqlnorm_cache *c = sqlnorm_cache_new();
	char out[256];
	struct sqlnorm r, want;

	assert_non_null(c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].sql);
		bool hit = sqlnorm_cached(c, cases[i].sql, n, out, sizeof(out), &r);
		sqlnorm_run_precise(cases[i].sql, n, out, sizeof(out), &want);
		if (hit != cases[i].hit || r.fingerprint != want.fingerprint || r.len != want.len ||
		    r.sensitive != want.sensitive)
			fail_msg("[%s]: hit %d, want %d", cases[i].sql, hit, cases[i].hit);
	}
	sqlnorm_cache_free(c);
}

static void test_shapes_match_precise(void **state)
{
	struct sqlnorm_cache *c = sqlnorm_cache_new();
	char in[512];
	unsigned hits = 0;
	int iters = getenv("SQLNORM_ITERS") ? (int)strtol(getenv("SQLNORM_ITERS"), NULL, 10) : 200000;
	const int npieces = (int)(sizeof(pieces) / sizeof(pieces[0]));

	assert_non_null(c);
	for (int iter = 0; iter < iters; iter++) {
		int seq[40], lits[40], n = 1 + (int)(next_rand() % 40), nslots = 0;
		for (int k = 0; k < n; k++)
			seq[k] = next_rand() % 3 == 0 ? -1 - nslots++ : (int)(next_rand() % (unsigned)npieces);
		int kind[40];
		for (int k = 0; k < nslots; k++)
			kind[k] = next_rand() % 8 == 0 ? 4 : next_rand() % 4 == 0 ? KIND_LIST : (int)(next_rand() % 4);
		/* the same sequence with other literals of each slot's kind, a few
		 * times; then mutated */
		for (int v = 0; v < 4; v++) {
			for (int k = 0; k < nslots; k++) {
				if (kind[k] == KIND_LIST) {
					lits[k] = (int)(next_rand() % 100000);
					continue;
				}
				const int *r = literal_kinds[next_rand() % 16 == 0 ? 4 : kind[k]];
				lits[k] = r[0] + (int)(next_rand() % (unsigned)(r[1] - r[0]));
			}
			size_t len = build(in, sizeof(in), seq, n, lits, kind);
			check_against_precise(c, in, len, &hits);
			if (v == 3 && len > 0) {
				in[next_rand() % len] = "0'-+,x $\\e./*\n"[next_rand() % 14];
				check_against_precise(c, in, len, &hits);
			}
		}
	}
	/* the cache is used (random neighbours often make a literal something else) */
	print_message("shape cache: %u hits in %d statements\n", hits, iters * 5);
	assert_true(hits > (unsigned)iters / 20);
	sqlnorm_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_identifiers_and_case),
		cmocka_unit_test(test_spacing_and_comments),
		cmocka_unit_test(test_signs),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_password),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_fast_matches_precise),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_shapes_match_precise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
