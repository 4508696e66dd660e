/*
 * slowq.h - slow statements read from csvlog records, and their statistics
 * per normalised query (the data of DescribeSlowQueryAnalysis and
 * DescribeDBSlowlogs; DescribeSlowQueryList uses the statements alone).
 *
 * A slow statement is what log_min_duration_statement makes the server
 * write: a LOG record whose message is
 *     duration: 1234.567 ms  statement: <text>
 *     duration: 1234.567 ms  execute <name>: <text>     (extended protocol)
 * Lines for the parse and bind phases, and bare "duration:" lines (the
 * statement was already logged by log_statement) are not statements.
 *
 * Groups are keyed by (user, database, normalised text); each keeps its
 * count, total/min/max duration and first/last start time. Memory is
 * bounded: at most SLOWQ_GROUPS_MAX groups (later distinct queries are
 * counted in one overflow group whose text says so) and SLOWQ_TEXT_MAX
 * bytes of text per group (the fingerprint still covers the whole text).
 */
#ifndef PGFLEET_PG_SLOWQ_H
#define PGFLEET_PG_SLOWQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sqlnorm.h"
#include "pg/pglog.h"

#define SLOWQ_GROUPS_MAX 10000
#define SLOWQ_TEXT_MAX 4096          /* bytes of normalised text kept per group */
#define SLOWQ_GRIDS_MAX 64           /* CallsGrids of the legacy view */
#define SLOWQ_NBUCKETS 14
#define SLOWQ_OVERFLOW_TEXT "(other statements: more distinct queries than the service keeps)"

/* One slow statement of a record; text points into the record or the
 * scratch buffer given to slowq_parse (valid until either changes). */
struct slowq_stmt {
	int64_t end_ms;          /* log_time: when it finished */
	int64_t start_ms;        /* end_ms - duration */
	double duration_ms;
	const char *text;
	size_t text_len;
};

/* Growable scratch for undoubling a message (owned by the caller's loop). */
struct slowq_scratch {
	char *buf;
	size_t cap;
};

/* Recognise a slow statement in `r`: true and *s filled, false when the
 * record is something else (or the scratch cannot grow). */
bool slowq_parse(const struct pglog_rec *r, struct slowq_scratch *sc, struct slowq_stmt *s);

void slowq_scratch_free(struct slowq_scratch *sc);

/* The DurationAnalysis segment of a duration: 0 "1-2s" (everything under
 * 2 s, as the API's example counts 100 ms statements there), 1..8
 * "2-3s".."9-10s", 9..12 "10-20s".."40-50s", 13 "50s-". */
int slowq_bucket(double ms);
const char *slowq_bucket_name(int i);

/* The columns slowq_parse and slowq_agg_add read: a reader that only
 * aggregates can skip the rest (pglog_reader.cols). */
#define SLOWQ_COLS (PGLOG_MESSAGE + 1)

struct slowq_group {
	uint64_t key;
	char *query;             /* normalised, valid UTF-8, cut to SLOWQ_TEXT_MAX */
	char *user, *db;
	char client[64];         /* host of the calls when they share one, else "" */
	bool client_mixed;
	uint64_t calls;
	double total_ms, min_ms, max_ms;
	int64_t first_ms, last_ms;   /* start times */
	uint32_t *grids;         /* calls per grid (when the aggregate has grids) */
};

struct slowq_agg {
	struct slowq_group *groups;
	size_t ngroups, cap;
	uint32_t *index;         /* open addressing: group index + 1, 0 = empty */
	size_t index_cap;        /* power of two */
	uint64_t total_calls;
	double total_ms;
	uint64_t buckets[SLOWQ_NBUCKETS];
	int ngrids;              /* 0: no CallsGrids */
	int64_t grid_from_ms, grid_width_ms;
	char norm[SLOWQ_TEXT_MAX + 1];
	struct sqlnorm_cache *shapes;  /* statements normalised before (see sqlnorm.h); made on first use */
	bool failed;             /* out of memory: results incomplete */
};

/* An empty aggregate; with ngrids > 0 (<= SLOWQ_GRIDS_MAX) each group also
 * counts its calls in ngrids equal grids of [from_ms, to_ms]. */
void slowq_agg_init(struct slowq_agg *a, int ngrids, int64_t from_ms, int64_t to_ms);

/* Count one statement of `r` (user, database, client from the record). */
void slowq_agg_add(struct slowq_agg *a, const struct pglog_rec *r, const struct slowq_stmt *s);

/* Add src's groups and totals into dst (src is left as it was). */
void slowq_agg_merge(struct slowq_agg *dst, const struct slowq_agg *src);

void slowq_agg_free(struct slowq_agg *a);

/* The host part of a connection_from field ("127.0.0.1:5432" -> "127.0.0.1",
 * "::1:5432" -> "::1", "[local]" stays) into out (cap >= 4). */
void slowq_client_host(const struct pglog_field *f, char *out, size_t cap);

#endif
