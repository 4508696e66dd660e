/*
 * pglog.h - PostgreSQL's csvlog: records, files, retention.
 *
 * A node's server logs live in DIR/log (see pgnode.h) as
 * postgresql-YYYY-MM-DD_HHMMSS.csv, rotated by the server (10 MB or a day).
 * Each record is one CSV row (RFC 4180: fields in double quotes may hold
 * commas, doubled quotes and newlines; a record ends at a newline outside
 * quotes). The columns are PostgreSQL's, in its order (13 adds
 * backend_type, 14 leader_pid and query_id); a row with fewer than
 * PGLOG_COLS_MIN or more than PGLOG_FIELDS_MAX fields is malformed.
 *
 * Parsing never copies: fields point into the caller's buffer, and a field
 * whose text has doubled quotes says so (`escaped`); pglog_field_copy()
 * undoubles them. Everything is bounded: a record longer than
 * PGLOG_RECORD_MAX is skipped whole (counted), the reader's buffer never
 * exceeds it, a malformed row is skipped to the end of its line.
 *
 * Timestamps: log_time is read as "YYYY-MM-DD HH:MM:SS[.mmm] ZONE" where
 * ZONE is UTC/GMT/Z or a numeric offset (+08, -0530, +05:30); pgnode_conf
 * sets log_timezone = 'UTC' so that the servers write exactly that. Another
 * abbreviation is read as UTC.
 */
#ifndef PGFLEET_PG_PGLOG_H
#define PGFLEET_PG_PGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define PGLOG_RECORD_MAX (4u << 20)  /* bytes of one record kept; longer ones are skipped */
#define PGLOG_READ_CHUNK (1u << 20)  /* bytes read per read() */
#define PGLOG_FIELDS_MAX 32
#define PGLOG_COLS_MIN 22            /* PostgreSQL 9.0..12 write 23 columns */
#define PGLOG_FILES_MAX 100000       /* log files considered in one directory */

enum pglog_col {
	PGLOG_LOG_TIME, PGLOG_USER, PGLOG_DB, PGLOG_PID, PGLOG_CONN_FROM, PGLOG_SESSION_ID,
	PGLOG_SESSION_LINE, PGLOG_COMMAND_TAG, PGLOG_SESSION_START, PGLOG_VXID, PGLOG_XID,
	PGLOG_SEVERITY, PGLOG_SQLSTATE, PGLOG_MESSAGE, PGLOG_DETAIL, PGLOG_HINT, PGLOG_INTERNAL_QUERY,
	PGLOG_INTERNAL_QUERY_POS, PGLOG_CONTEXT, PGLOG_QUERY, PGLOG_QUERY_POS, PGLOG_LOCATION,
	PGLOG_APP_NAME, PGLOG_BACKEND_TYPE, PGLOG_LEADER_PID, PGLOG_QUERY_ID,
	PGLOG_NCOLS
};

struct pglog_field {
	const char *p;       /* raw text inside the quotes (not NUL-terminated) */
	uint32_t len;
	bool escaped;        /* contains doubled quotes */
};

struct pglog_rec {
	int64_t time_ms;     /* log_time as unix milliseconds; INT64_MIN when unreadable */
	int nfields;
	struct pglog_field f[PGLOG_FIELDS_MAX];  /* f[i] for i >= nfields is empty */
	/* the last second parsed, reused while consecutive records share it */
	char tkey[32];
	uint32_t tkey_len;
	int64_t tkey_s;
	int head_cols;       /* f[head_cols..] were cleared by a head-only parse (0: not) */
};

enum pglog_status {
	PGLOG_OK,            /* a record was parsed */
	PGLOG_INCOMPLETE,    /* the buffer ends inside a record: more bytes are needed */
	PGLOG_BAD,           /* malformed: *used says how much to skip */
};

/* Parse one record at buf[0..len) into r (zero it before first use: it
 * caches the last timestamp). PGLOG_OK: *used = bytes of the record
 * including its newline. PGLOG_BAD: *used = bytes up to and including the
 * end of the current line. PGLOG_INCOMPLETE: nothing consumed. */
enum pglog_status pglog_parse(const char *buf, size_t len, struct pglog_rec *r, size_t *used);

/* pglog_parse for a reader of the first `cols` columns only (0: all):
 * they are split and checked as pglog_parse does, the rest of the record
 * is only scanned for its end (the first newline outside quotes) and its
 * field count, and its fields read as empty. A malformed field past them
 * goes unnoticed (only what is read is checked), unless it hides the end:
 * a record with a newline inside quotes past `cols` is parsed whole (its
 * fields are then all there). */
enum pglog_status pglog_parse_head(const char *buf, size_t len, struct pglog_rec *r, size_t *used, int cols);

/* Undouble a field's quotes into out (cap >= 1, NUL-terminated, cut at
 * cap-1); returns the length written. */
size_t pglog_field_copy(const struct pglog_field *f, char *out, size_t cap);

/* "YYYY-MM-DD HH:MM:SS[.fff] [ZONE]" -> unix ms; -1 when not such a time. */
int pglog_time_parse(const char *s, size_t len, int64_t *ms);

/* Does the field equal the C string s (after undoubling)? */
bool pglog_field_eq(const struct pglog_field *f, const char *s);

/* ---- reading a file ---- */

struct pglog_reader {
	int fd;
	char *buf;
	size_t cap, len, pos;
	bool eof;
	bool skipping;       /* inside an oversize record */
	bool in_quotes;      /* skip state */
	uint64_t skipped;    /* records dropped: oversize or malformed */
	off_t offset;        /* file offset of buf[0] */
	off_t stop;          /* stop after records starting at or past this offset; -1: none */
	off_t rec_offset;    /* file offset of the record last returned */
	int cols;            /* columns the caller reads (pglog_parse_head); 0 (the default): all */
};

/* Open `path` for reading from byte `start` (0, or a record boundary).
 * ERR_INTERNAL_ERROR when it cannot be opened (detail logged). */
int pglog_reader_open(struct pglog_reader *r, const char *path, off_t start, struct err *e);

/* The next record: 1 with *rec filled (valid until the next call), 0 at
 * the end (an unfinished record at the end of the file - the server is
 * still writing it - is left for a later read), -1 on a read error. */
int pglog_reader_next(struct pglog_reader *r, struct pglog_rec *rec, struct err *e);

/* File offset just past the last record returned. */
off_t pglog_reader_tell(const struct pglog_reader *r);

void pglog_reader_close(struct pglog_reader *r);

/* ---- the files of a log directory ---- */

struct pglog_file {
	char name[64];       /* postgresql-....csv */
	off_t size;
	int64_t mtime;       /* unix seconds */
};

/* The server log files of `dir` whose names end in `ext` (".csv"; NULL:
 * every postgresql-* file), sorted by name (= by start time). *out is
 * malloc'd (free it); a missing directory is an empty list. */
int pglog_files(const char *dir, const char *ext, struct pglog_file **out, size_t *n, struct err *e);

/* What pglog_retain removed. */
struct pglog_retain_stats {
	size_t files;
	uint64_t bytes;
};

/* Enforce the limits on `dir`: delete postgresql-* files last written
 * before now - max_age_s, then the oldest while the directory's files
 * exceed max_bytes. The newest file of each extension (the one the server
 * writes) is never deleted. */
int pglog_retain(const char *dir, uint64_t max_bytes, int64_t max_age_s, int64_t now,
		 struct pglog_retain_stats *st, struct err *e);

#endif
