/*
 * logs.h - what the log actions share (logs.c: the request's instance and
 * time range, the scan over the node's csvlog files, formatting; the
 * actions themselves in logs.c (DescribeDBErrlogs) and logs_slow.c (the
 * three slow-query actions)). Private to src/api/logs*.c.
 *
 * Rules every action follows (docs/LOGS.md):
 *   - StartTime/EndTime are "YYYY-MM-DD HH:MM:SS" in the service's local
 *     time; EndTime before StartTime, or a malformed time:
 *     InvalidParameterValue.InvalidParameterValueError; a range longer
 *     than log_retention_days, or a StartTime older than that:
 *     InvalidParameterValue.ParameterValueExceedError (where the action
 *     does not document that code, InvalidParameterValueError);
 *   - Offset + Limit may not pass LOGS_WINDOW_MAX (ParameterValueExceedError);
 *   - the service's own sessions (user PGNODE_SUPERUSER) are never shown;
 *   - statement and message text is redacted (lib/redact.h) and cleaned to
 *     UTF-8 (lib/textclip.h) before it is kept.
 */
#ifndef PGFLEET_API_LOGS_H
#define PGFLEET_API_LOGS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "pg/pglog.h"

#define LOGS_WINDOW_MAX 10000       /* rows a query may page through */
#define LOGS_TEXT_MAX 16384         /* bytes of one statement or message shown */
#define LOGS_FIELD_MAX 256          /* bytes of a short field (user, database, ...) */
#define LOGS_MTIME_SLACK_MS 60000   /* a file last written before from - slack holds nothing newer */

struct logs_query {
	struct store_res inst;
	char dir[PATH_MAX];          /* the primary node's log directory; "" when it has none yet */
	int64_t from_ms, to_ms;      /* the range, inclusive */
	const char *db;              /* DatabaseName filter or NULL */
	long long limit, offset;
	int cols;                    /* columns logs_scan's callback reads (pglog_reader.cols); 0: all */
	uint64_t split_bytes;        /* logs_scan_split uses threads from this many bytes of files on */
	struct pglog_file *files;    /* the csvlog files, listed by logs_scan */
	size_t nfiles;
};

/* Where a record is: which file of q->files, at which offset. Pages are
 * built by reading their few records again from there, so that a scan
 * keeps positions, not text, for everything it has not shown yet. */
struct logs_at {
	size_t file;
	off_t offset;
};

/* A record read back by logs_record_at (free with logs_record_close). */
struct logs_record {
	struct pglog_reader rd;
	struct pglog_rec rec;
};

/* The caller's instance and the request's common parameters. Fills q
 * (free with logs_query_free). `limit_default` when Limit is absent. */
int logs_query_open(const struct api_ctx *ctx, struct logs_query *q, long long limit_default, struct err *e);
void logs_query_free(struct logs_query *q);

/* The code for a limit that was passed: ParameterValueExceedError when the
 * action documents it, else InvalidParameterValueError. */
enum err_code logs_exceed_code(const struct api_ctx *ctx);

/* Fail unless offset + limit <= LOGS_WINDOW_MAX. */
int logs_check_window(const struct api_ctx *ctx, long long offset, long long limit, struct err *e);

/* Call fn for every record of the node's csvlog files that may hold times
 * at or after q->from_ms (older files are skipped by their mtime), with
 * the record's position. fn returns 0 to go on, 1 to stop. Records of the
 * service's own sessions are not passed. -1 after err_set() when a file
 * cannot be read. */
int logs_scan(struct logs_query *q, int (*fn)(const struct pglog_rec *r, const struct logs_at *at, void *arg),
	      void *arg, struct err *e);

#define LOGS_WORKERS_MAX 8

/* logs_scan for callbacks that only accumulate (the slow-query
 * aggregates): when the files to read hold at least q->split_bytes, they
 * are shared among up to max_workers threads (no more than the CPUs or the
 * files), worker i calling fn with args[i] (each file whole, in its order,
 * by one worker; files in no particular order). *used receives how many
 * workers ran (args[0..*used) hold results). -1 after err_set() when a
 * file cannot be read. */
int logs_scan_split(struct logs_query *q, int max_workers,
		    int (*fn)(const struct pglog_rec *r, const struct logs_at *at, void *arg), void *const *args,
		    int *used, struct err *e);

/* Read the record at `at` again: 1 with x->rec filled, 0 when it is gone
 * (the file was removed meanwhile), -1 after err_set(). Close x after a
 * return of 1. */
int logs_record_at(const struct logs_query *q, const struct logs_at *at, struct logs_record *x, struct err *e);
void logs_record_close(struct logs_record *x);

/* A short field as a clean, malloc'd C string ("" for an empty field). */
char *logs_field_dup(const struct pglog_field *f);

/* The field as an integer (ProcessId); 0 when it is not one. */
long long logs_field_int(const struct pglog_field *f);

/* unix ms -> "YYYY-MM-DD HH:MM:SS" in local time (out >= 20 bytes), with
 * `zone` the abbreviation appended ("... CST"; out >= 32 bytes). */
void logs_time(int64_t ms, bool zone, char *out, size_t cap);

/* The time text of a csvlog field ("2026-11-27 21:04:19 UTC") in local
 * time as logs_time formats it; "" when unreadable. */
void logs_field_time(const struct pglog_field *f, bool zone, char *out, size_t cap);

/* Case-insensitive substring test (the needle is literal text). */
bool logs_contains(const char *hay, const char *needle);

int logs_errlogs_describe(struct api_ctx *ctx, json_t *out, struct err *e);
int logs_slow_list(struct api_ctx *ctx, json_t *out, struct err *e);
int logs_slow_analysis(struct api_ctx *ctx, json_t *out, struct err *e);
int logs_slowlogs_legacy(struct api_ctx *ctx, json_t *out, struct err *e);

#endif
