/*
 * sqlnorm.h - normalise an SQL statement for slow-query statistics: every
 * literal becomes a placeholder, so that `where id = 1` and `where id = 2`
 * are one query, as pg_stat_statements shows them.
 *
 * What changes (a single pass over PostgreSQL's lexical rules):
 *   - literals (numbers with an optional sign in unary position, '...',
 *     E'...', B'...', X'...', N'...', U&'...', $tag$...$tag$) become $n,
 *     numbered after the largest $n already in the text (extended-protocol
 *     statements arrive as `select pg_sleep($1)`); existing $n stay;
 *   - a comma-separated run of literals collapses to `$n, ...`, so that
 *     IN lists and VALUES rows of different lengths are one query;
 *   - the value after the keyword PASSWORD becomes a placeholder whatever
 *     its form (the statement is then flagged sensitive);
 *   - comments are dropped, whitespace runs become one space, unquoted
 *     words are lower-cased (PostgreSQL folds them anyway); quoted
 *     identifiers are kept as written.
 * The fingerprint hashes the whole normalised text; `out` may hold only its
 * beginning (cap). Bytes are passed through: callers clean the text to
 * UTF-8 before showing it.
 */
#ifndef PGFLEET_LIB_SQLNORM_H
#define PGFLEET_LIB_SQLNORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlnorm {
	uint64_t fingerprint;   /* hash of the complete normalised text */
	size_t len;             /* its length (may exceed the cap of `out`) */
	bool sensitive;         /* the statement has a PASSWORD keyword */
};

/* Normalise in[0..len) (need not be NUL-terminated) into out, which
 * receives at most cap-1 bytes and a NUL (cap >= 1). Never fails. */
void sqlnorm_run(const char *in, size_t len, char *out, size_t cap, struct sqlnorm *r);

/* The same without the SSE2 fast path (the unit test holds both to the
 * same output). */
void sqlnorm_run_precise(const char *in, size_t len, char *out, size_t cap, struct sqlnorm *r);

/* A cache of statement shapes: statements that differ only in the values
 * of their literals (numbers, '...' strings), in their comments or in the
 * length of their lists of literals normalise alike, so the result of one
 * is reused for the others after a byte compare of what lies between
 * those (see sqlnorm.c). 512 shapes, about half a MB; not thread-safe: one
 * per thread. */
struct sqlnorm_cache;

struct sqlnorm_cache *sqlnorm_cache_new(void);   /* NULL when out of memory */
void sqlnorm_cache_free(struct sqlnorm_cache *c);

/* sqlnorm_run through the cache c (NULL: no cache). true: r was filled
 * from a remembered shape and `out` was not written; false: the statement
 * was normalised into `out` (and its shape remembered). */
bool sqlnorm_cached(struct sqlnorm_cache *c, const char *in, size_t len, char *out, size_t cap, struct sqlnorm *r);

/* The 64-bit hash sqlnorm uses, over any bytes (for grouping keys). */
uint64_t sqlnorm_hash(const void *p, size_t len, uint64_t seed);

#endif
