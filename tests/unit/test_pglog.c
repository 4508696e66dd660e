/*
 * test_pglog.c - the csvlog reader (pg/pglog.c, pg/pglog_files.c) and the
 * slow-statement statistics on top of it (pg/slowq.c): real PostgreSQL 15
 * lines, quoted multi-line fields, doubled quotes, malformed and oversize
 * rows, records split across reads, timestamps and zones, file listing and
 * retention, and grouping by normalised query.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "pg/pglog.h"
#include "pg/slowq.h"

/* Lines a PostgreSQL 15.18 server wrote (log_timezone UTC). */
static const char sample[] =
	"2026-11-27 21:04:19.352 UTC,,,19201,,6b09f053.4b01,1,,2026-11-27 21:04:19 UTC,,0,LOG,00000,\"ending log output to stderr\",,\"Future log output will go to log destination \"\"csvlog\"\".\",,,,,,,\"\",\"postmaster\",,0\n"
	"2026-11-27 21:04:21.741 UTC,\"su\",\"postgres\",19288,\"127.0.0.1:59750\",6b09f055.4b58,1,\"SELECT\",2026-11-27 21:04:21 UTC,3/0,0,LOG,00000,\"duration: 151.066 ms  statement: select pg_sleep(0.15)\",,,,,,,,,\"psql\",\"client backend\",,0\n"
	"2026-11-27 21:04:21.863 UTC,\"su\",\"postgres\",19288,\"127.0.0.1:59750\",6b09f055.4b58,2,\"SELECT\",2026-11-27 21:04:21 UTC,3/0,0,LOG,00000,\"duration: 121.523 ms  statement: select pg_sleep(0.12), 'it''s', \"\"current_user\"\"()\",,,,,,,,,\"psql\",\"client backend\",,0\n"
	"2026-11-27 21:04:21.864 UTC,\"su\",\"postgres\",19288,\"127.0.0.1:59750\",6b09f055.4b58,3,\"SELECT\",2026-11-27 21:04:21 UTC,3/4,0,ERROR,22012,\"division by zero\",,,,,,\"select 1/0\",,,\"psql\",\"client backend\",,0\n"
	"2026-11-27 21:04:21.976 UTC,\"su\",\"postgres\",19288,\"127.0.0.1:59750\",6b09f055.4b58,6,\"SELECT\",2026-11-27 21:04:21 UTC,3/0,0,LOG,00000,\"duration: 111.767 ms  statement: select pg_sleep(0.11)\n, 2 -- multi\n\",,,,,,,,,\"psql\",\"client backend\",,0\n"
	"2026-11-27 21:04:22.069 UTC,\"nobody\",\"postgres\",19291,\"127.0.0.1:59756\",6b09f056.4b5b,1,\"startup\",2026-11-27 21:04:22 UTC,3/8,0,FATAL,28000,\"role \"\"nobody\"\" does not exist\",,,,,,,,,\"\",\"client backend\",,0\n"
	"2026-11-27 21:04:22.403 UTC,\"su\",\"postgres\",19299,\"127.0.0.1:59758\",6b09f056.4b63,1,\"SELECT\",2026-11-27 21:04:22 UTC,3/10,0,LOG,00000,\"duration: 132.559 ms  execute <unnamed>: select pg_sleep($1)\",\"parameters: $1 = '0.13'\",,,,,,,,\"\",\"client backend\",,0\n";

#define SAMPLE_RECORDS 7

static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void test_parse_sample(void **state)
{
	struct pglog_rec r;
	const char *p = sample, *end = sample + strlen(sample);
	size_t used;
	int n = 0;
	char buf[256];

	memset(&r, 0, sizeof(r));
	while (p < end) {
		assert_int_equal(pglog_parse(p, (size_t)(end - p), &r, &used), PGLOG_OK);
		assert_int_equal(r.nfields, 26);
		n++;
		if (n == 2) {
			assert_true(r.time_ms == utc_ms(2026, 11, 27, 21, 4, 21, 741));
			assert_true(pglog_field_eq(&r.f[PGLOG_USER], "su"));
			assert_true(pglog_field_eq(&r.f[PGLOG_SEVERITY], "LOG"));
			assert_true(pglog_field_eq(&r.f[PGLOG_CONN_FROM], "127.0.0.1:59750"));
			assert_true(pglog_field_eq(&r.f[PGLOG_APP_NAME], "psql"));
		}
		if (n == 3) {
			assert_true(r.f[PGLOG_MESSAGE].escaped);
			pglog_field_copy(&r.f[PGLOG_MESSAGE], buf, sizeof(buf));
			assert_string_equal(buf, "duration: 121.523 ms  statement: select pg_sleep(0.12), 'it''s', \"current_user\"()");
		}
		if (n == 5) {
			pglog_field_copy(&r.f[PGLOG_MESSAGE], buf, sizeof(buf));
			assert_string_equal(buf, "duration: 111.767 ms  statement: select pg_sleep(0.11)\n, 2 -- multi\n");
		}
		if (n == 6) {
			assert_true(pglog_field_eq(&r.f[PGLOG_MESSAGE], "role \"nobody\" does not exist"));
			assert_true(pglog_field_eq(&r.f[PGLOG_SQLSTATE], "28000"));
		}
		p += used;
	}
	assert_int_equal(n, SAMPLE_RECORDS);
}

static void test_parse_incomplete_and_bad(void **state)
{
	struct pglog_rec r;
	size_t used = 99;
	const char *line = strchr(sample, '\n') + 1;   /* the second record */
	size_t len = (size_t)(strchr(line, '\n') + 1 - line);
	char bad[512];

	memset(&r, 0, sizeof(r));
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(pglog_parse(line, cut, &r, &used), PGLOG_INCOMPLETE);
	assert_int_equal(pglog_parse(line, len, &r, &used), PGLOG_OK);
	assert_int_equal(used, len);
	/* a quote inside an unquoted field: skipped to the end of its line */
	snprintf(bad, sizeof(bad), "2026-11-27 21:04:21.741 UTC,su\"x,db\n%.*s", (int)len, line);
	assert_int_equal(pglog_parse(bad, strlen(bad), &r, &used), PGLOG_BAD);
	assert_int_equal(used, strlen(bad) - len);
	assert_int_equal(pglog_parse(bad + used, strlen(bad) - used, &r, &used), PGLOG_OK);
	/* garbage after a closing quote */
	assert_int_equal(pglog_parse("\"a\"b,c\n", 7, &r, &used), PGLOG_BAD);
	assert_int_equal(used, 7);
	/* too few fields */
	assert_int_equal(pglog_parse("a,b,c\n", 6, &r, &used), PGLOG_BAD);
	assert_int_equal(used, 6);
}

/* ---- reading the first columns only (pglog_parse_head) ---- */

#ifndef PARSE_HEAD_ITERS
#define PARSE_HEAD_ITERS 200000
#endif

static uint64_t rng = 0x243F6A8885A308D3ull;

static unsigned next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 32);
}

/* A random record of nf fields: empty, plain, or quoted with doubled
 * quotes, commas and newlines inside; `bad` puts one malformation in a
 * random field. Returns its length. */
static size_t random_record(char *out, int nf, bool bad)
{
	size_t n = 0;
	int badf = bad ? (int)(next_rand() % (unsigned)nf) : -1;

	for (int k = 0; k < nf; k++) {
		unsigned kind = next_rand() % 3, l = next_rand() % 40;
		if (k > 0)
			out[n++] = ',';
		if (kind == 1) {
			for (unsigned j = 0; j < l; j++)
				out[n++] = "abc 1:."[next_rand() % 7];
		} else if (kind == 2) {
			out[n++] = '"';
			for (unsigned j = 0; j < l; j++) {
				unsigned c = next_rand() % 10;
				if (c == 0) {
					out[n++] = '"';
					out[n++] = '"';
				} else {
					out[n++] = c == 1 ? ',' : c == 2 ? '\n' : 'x';
				}
			}
			out[n++] = '"';
		}
		if (k == badf)
			out[n++] = next_rand() % 2 ? '"' : 'y';
	}
	out[n++] = '\n';
	return n;
}

/* The first columns read alone are read as the whole record reads them,
 * the record ends at the same place with the same field count, and the
 * rest reads as empty (or whole: see pglog.h); a record the full parse refuses is refused or,
 * when its fault lies past the columns read (and does not hide its end),
 * taken. */
static void test_parse_head(void **state)
{
	static char buf[8192];
	struct pglog_rec a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (int iter = 0; iter < PARSE_HEAD_ITERS; iter++) {
		int nf = 20 + (int)(next_rand() % 16), cols = 1 + (int)(next_rand() % 30);
		bool bad = next_rand() % 8 == 0;
		size_t len = random_record(buf, nf, bad), cut = len, ua = 0, ub = 0;
		/* often the next record follows; sometimes the buffer ends early */
		len += random_record(buf + len, 26, false);
		if (next_rand() % 6 == 0)
			cut = next_rand() % (cut + 1);
		else
			cut = len;
		enum pglog_status x = pglog_parse(buf, cut, &a, &ua), y = pglog_parse_head(buf, cut, &b, &ub, cols);
		if (x == PGLOG_OK) {
			if (y != PGLOG_OK || ua != ub || a.nfields != b.nfields)
				fail_msg("record %d (cols %d): full OK used %zu n %d, head %d used %zu n %d", iter, cols, ua,
					 a.nfields, y, ub, b.nfields);
			for (int i = 0; i < PGLOG_FIELDS_MAX && i < a.nfields; i++) {
				const struct pglog_field *fa = &a.f[i], *fb = &b.f[i];
				bool equal = fa->p == fb->p && fa->len == fb->len && fa->escaped == fb->escaped;
				bool same = i < cols ? equal : fb->len == 0 || equal;
				if (!same)
					fail_msg("record %d (cols %d): field %d differs", iter, cols, i);
			}
		} else if (x == PGLOG_BAD) {
			if (!(y == PGLOG_BAD ? ua == ub : y == PGLOG_OK))
				fail_msg("record %d (cols %d, cut %zu of %zu): full BAD used %zu, head %d used %zu [%.*s]", iter, cols,
					 cut, len, ua, y, ub, (int)cut, buf);
		} else if (!bad) {
			assert_int_equal(y, PGLOG_INCOMPLETE);
		}
	}
}

static void test_time(void **state)
{
	int64_t ms;

	assert_int_equal(pglog_time_parse("2026-11-27 21:04:19.352 UTC", 27, &ms), 0);
	assert_true(ms == utc_ms(2026, 11, 27, 21, 4, 19, 352));
	assert_int_equal(pglog_time_parse("2026-11-27 21:04:19 UTC", 23, &ms), 0);
	assert_true(ms == utc_ms(2026, 11, 27, 21, 4, 19, 0));
	assert_int_equal(pglog_time_parse("2026-11-28 05:04:19.5 +08", 25, &ms), 0);
	assert_true(ms == utc_ms(2026, 11, 27, 21, 4, 19, 500));
	assert_int_equal(pglog_time_parse("2026-11-27 15:34:19 -05:30", 26, &ms), 0);
	assert_true(ms == utc_ms(2026, 11, 27, 21, 4, 19, 0));
	assert_int_equal(pglog_time_parse("1999-12-31 23:59:59.999 GMT", 27, &ms), 0);
	assert_true(ms == utc_ms(1999, 12, 31, 23, 59, 59, 999));
	assert_int_equal(pglog_time_parse("2026-13-27 21:04:19 UTC", 23, &ms), -1);
	assert_int_equal(pglog_time_parse("2026-11-27", 10, &ms), -1);
	assert_int_equal(pglog_time_parse("2026-11-27x21:04:19", 19, &ms), -1);
	assert_int_equal(pglog_time_parse("", 0, &ms), -1);
}

/* ---- files ---- */

static char tmpdir[] = "/tmp/test_pglog.XXXXXX";

static int setup_dir(void **state)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown_dir(void **state)
{
	char cmd[256];
	struct pglog_file *list;
	size_t n;
	struct err e;

	if (pglog_files(tmpdir, NULL, &list, &n, &e) == 0) {
		for (size_t i = 0; i < n; i++) {
			snprintf(cmd, sizeof(cmd), "%s/%s", tmpdir, list[i].name);
			unlink(cmd);
		}
		free(list);
	}
	snprintf(cmd, sizeof(cmd), "%s/other.txt", tmpdir);
	unlink(cmd);
	rmdir(tmpdir);
	return 0;
}

static void write_file(const char *name, const char *data, size_t len, int64_t mtime)
{
	char path[256];
	struct utimbuf ut = { (time_t)mtime, (time_t)mtime };
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	if (mtime > 0)
		utime(path, &ut);
}

static int read_all(const char *name, off_t start, off_t stop, int *slow, uint64_t *skipped, off_t *end)
{
	char path[256];
	struct pglog_reader rd;
	struct pglog_rec *rec = calloc(1, sizeof(*rec));
	struct slowq_scratch sc = { 0 };
	struct slowq_stmt s;
	struct err e;
	int n = 0, rc;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_int_equal(pglog_reader_open(&rd, path, start, &e), 0);
	rd.stop = stop;
	*slow = 0;
	while ((rc = pglog_reader_next(&rd, rec, &e)) == 1) {
		n++;
		*slow += slowq_parse(rec, &sc, &s);
	}
	assert_int_equal(rc, 0);
	*skipped = rd.skipped;
	*end = pglog_reader_tell(&rd);
	pglog_reader_close(&rd);
	slowq_scratch_free(&sc);
	free(rec);
	return n;
}

static void test_reader(void **state)
{
	int slow;
	uint64_t skipped;
	off_t end;
	size_t len = strlen(sample);

	write_file("postgresql-2026-11-27_210419.csv", sample, len, 0);
	assert_int_equal(read_all("postgresql-2026-11-27_210419.csv", 0, -1, &slow, &skipped, &end), SAMPLE_RECORDS);
	assert_int_equal(slow, 4);
	assert_int_equal(skipped, 0);
	assert_int_equal(end, (off_t)len);
	/* a tail the server has not finished writing is left alone */
	write_file("postgresql-2026-11-27_210420.csv", sample, len - 10, 0);
	assert_int_equal(read_all("postgresql-2026-11-27_210420.csv", 0, -1, &slow, &skipped, &end),
			 SAMPLE_RECORDS - 1);
	/* start and stop at record boundaries */
	off_t second = (off_t)(strchr(sample, '\n') + 1 - sample);
	assert_int_equal(read_all("postgresql-2026-11-27_210419.csv", second, -1, &slow, &skipped, &end),
			 SAMPLE_RECORDS - 1);
	assert_int_equal(read_all("postgresql-2026-11-27_210419.csv", 0, second, &slow, &skipped, &end), 1);
	assert_int_equal(end, second);
	assert_int_equal(read_all("postgresql-2026-11-27_210419.csv", 0, second + 1, &slow, &skipped, &end), 2);
}

/* A record bigger than a read chunk grows the buffer; one bigger than
 * PGLOG_RECORD_MAX is skipped whole, quotes and newlines included. */
static void test_reader_large(void **state)
{
	const char *head = "2026-11-27 21:04:21.741 UTC,\"su\",\"postgres\",1,\"127.0.0.1:5\",s,1,\"SELECT\","
			   "2026-11-27 21:04:21 UTC,3/0,0,LOG,00000,\"duration: 2500.5 ms  statement: select '";
	const char *tail = "'\",,,,,,,,,\"psql\",\"client backend\",,0\n";
	size_t big = PGLOG_READ_CHUNK + PGLOG_READ_CHUNK / 2, huge = PGLOG_RECORD_MAX + 100;
	size_t cap = strlen(head) * 3 + big + huge + strlen(tail) * 3 + strlen(sample) + 64;
	char *buf = malloc(cap);
	size_t n = 0;
	int slow;
	uint64_t skipped;
	off_t end;

	assert_non_null(buf);
	n += (size_t)snprintf(buf + n, cap - n, "%s", head);
	memset(buf + n, 'x', big);
	n += big;
	n += (size_t)snprintf(buf + n, cap - n, "%s", tail);
	n += (size_t)snprintf(buf + n, cap - n, "%s", head);
	for (size_t i = 0; i < huge; i++)
		buf[n + i] = i % 97 == 0 ? '\n' : i % 89 == 0 ? ',' : 'y';
	n += huge;
	n += (size_t)snprintf(buf + n, cap - n, "\"\"%s", tail);   /* a doubled quote at its end */
	n += (size_t)snprintf(buf + n, cap - n, "%s", sample);
	write_file("postgresql-2026-11-27_220000.csv", buf, n, 0);
	free(buf);
	assert_int_equal(read_all("postgresql-2026-11-27_220000.csv", 0, -1, &slow, &skipped, &end),
			 1 + SAMPLE_RECORDS);
	assert_int_equal(skipped, 1);
	assert_int_equal(slow, 1 + 4);
	assert_int_equal(end, (off_t)n);
}

static void test_files_and_retention(void **state)
{
	struct pglog_file *list;
	size_t n;
	struct err e;
	struct pglog_retain_stats st;
	char data[1000];
	int64_t now = (int64_t)time(NULL);

	teardown_dir(state);
	assert_int_equal(mkdir(tmpdir, 0700), 0);
	memset(data, 'a', sizeof(data));
	write_file("postgresql-2026-11-01_000000.csv", data, 1000, now - 10 * 86400);   /* too old */
	write_file("postgresql-2026-11-01_000000.log", data, 10, now - 10 * 86400);     /* too old */
	write_file("postgresql-2026-11-20_000000.csv", data, 1000, now - 3600);
	write_file("postgresql-2026-11-21_000000.csv", data, 1000, now - 1800);
	write_file("postgresql-2026-11-22_000000.csv", data, 1000, now - 60);           /* current */
	write_file("postgresql-2026-11-22_000000.log", data, 10, now - 20 * 86400);     /* current .log */
	write_file("other.txt", data, 1000, now - 20 * 86400);                          /* not ours */
	assert_int_equal(pglog_files(tmpdir, ".csv", &list, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].name, "postgresql-2026-11-01_000000.csv");
	assert_string_equal(list[3].name, "postgresql-2026-11-22_000000.csv");
	assert_int_equal(list[1].size, 1000);
	free(list);
	/* age 7 days, 2500 bytes: the old pair goes, then the oldest recent csv */
	assert_int_equal(pglog_retain(tmpdir, 2500, 7 * 86400, now, &st, &e), 0);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.bytes, 2010);
	assert_int_equal(pglog_files(tmpdir, NULL, &list, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].name, "postgresql-2026-11-21_000000.csv");
	assert_string_equal(list[1].name, "postgresql-2026-11-22_000000.csv");
	assert_string_equal(list[2].name, "postgresql-2026-11-22_000000.log");
	free(list);
	/* the files being written survive any limit */
	assert_int_equal(pglog_retain(tmpdir, 0, 0, now + 86400, &st, &e), 0);
	assert_int_equal(pglog_files(tmpdir, NULL, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	free(list);
	/* a missing directory is an empty list */
	assert_int_equal(pglog_files("/nonexistent/pglog", ".csv", &list, &n, &e), 0);
	assert_int_equal(n, 0);
}

/* ---- slow statements ---- */

static int parse_line(const char *line, struct pglog_rec *r)
{
	size_t used;

	return pglog_parse(line, strlen(line), r, &used) == PGLOG_OK ? 0 : -1;
}

static void slow_line(char *out, size_t cap, const char *user, const char *db, const char *client, int sec,
		      const char *dur, const char *stmt)
{
	snprintf(out, cap,
		 "2026-11-27 21:05:%02d.000 UTC,\"%s\",\"%s\",100,\"%s\",s,1,\"SELECT\",2026-11-27 21:04:21 UTC,3/0,0,"
		 "LOG,00000,\"duration: %s ms  %s\",,,,,,,,,\"psql\",\"client backend\",,0\n",
		 sec, user, db, client, dur, stmt);
}

static void test_slowq_parse(void **state)
{
	struct pglog_rec r;
	struct slowq_scratch sc = { 0 };
	struct slowq_stmt s;
	char line[1024];

	memset(&r, 0, sizeof(r));
	slow_line(line, sizeof(line), "u", "d", "127.0.0.1:1", 0, "1500.250", "statement: select pg_sleep(1.5)");
	assert_int_equal(parse_line(line, &r), 0);
	assert_true(slowq_parse(&r, &sc, &s));
	assert_true(s.duration_ms > 1500.249 && s.duration_ms < 1500.251);
	assert_true(s.end_ms == utc_ms(2026, 11, 27, 21, 5, 0, 0));
	assert_true(s.start_ms == s.end_ms - 1500);
	assert_int_equal(s.text_len, strlen("select pg_sleep(1.5)"));
	assert_memory_equal(s.text, "select pg_sleep(1.5)", s.text_len);
	slow_line(line, sizeof(line), "u", "d", "c", 0, "12", "execute S_1: select $1");
	assert_int_equal(parse_line(line, &r), 0);
	assert_true(slowq_parse(&r, &sc, &s));
	assert_memory_equal(s.text, "select $1", s.text_len);
	/* phases and bare durations are not statements */
	const char *not_stmt[] = { "parse <unnamed>: select 1", "bind <unnamed>: select 1", "statement:", "" };
	for (size_t i = 0; i < sizeof(not_stmt) / sizeof(not_stmt[0]); i++) {
		slow_line(line, sizeof(line), "u", "d", "c", 0, "12", not_stmt[i]);
		assert_int_equal(parse_line(line, &r), 0);
		assert_false(slowq_parse(&r, &sc, &s));
	}
	slow_line(line, sizeof(line), "u", "d", "c", 0, "x12", "statement: select 1");
	assert_int_equal(parse_line(line, &r), 0);
	assert_false(slowq_parse(&r, &sc, &s));
	slowq_scratch_free(&sc);
}

static void add_line(struct slowq_agg *a, const char *user, const char *client, int sec, const char *dur,
		     const char *stmt)
{
	struct pglog_rec r;
	struct slowq_scratch sc = { 0 };
	struct slowq_stmt s;
	char line[1024];

	memset(&r, 0, sizeof(r));
	slow_line(line, sizeof(line), user, "shop", client, sec, dur, stmt);
	assert_int_equal(parse_line(line, &r), 0);
	assert_true(slowq_parse(&r, &sc, &s));
	slowq_agg_add(a, &r, &s);
	slowq_scratch_free(&sc);
}

static const struct slowq_group *group_of(const struct slowq_agg *a, const char *query, const char *user)
{
	for (size_t i = 0; i < a->ngroups; i++)
		if (strcmp(a->groups[i].query, query) == 0 && strcmp(a->groups[i].user, user) == 0)
			return &a->groups[i];
	return NULL;
}

static void test_slowq_agg(void **state)
{
	struct slowq_agg *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	const struct slowq_group *g;

	slowq_agg_init(a, 4, utc_ms(2026, 11, 27, 21, 4, 0, 0), utc_ms(2026, 11, 27, 21, 8, 0, 0));
	add_line(a, "app", "127.0.0.1:100", 1, "1100", "statement: select pg_sleep(1.1)");
	add_line(a, "app", "127.0.0.1:101", 2, "1300", "statement: SELECT pg_sleep(1.3)");
	add_line(a, "app", "127.0.0.1:102", 3, "2500", "statement: select   pg_sleep( 2.5 )");
	add_line(a, "other", "10.0.0.1:5", 4, "60000", "statement: select pg_sleep(60)");
	add_line(a, "app", "10.0.0.2:7", 5, "1000", "statement: select 1");
	assert_int_equal(a->ngroups, 4);   /* "( 2.5 )" spacing differs: its own group */
	g = group_of(a, "select pg_sleep($1)", "app");
	assert_non_null(g);
	assert_int_equal(g->calls, 2);
	assert_true(g->total_ms == 2400 && g->min_ms == 1100 && g->max_ms == 1300);
	assert_true(g->first_ms == utc_ms(2026, 11, 27, 21, 5, 1, 0) - 1100);
	assert_true(g->last_ms == utc_ms(2026, 11, 27, 21, 5, 2, 0) - 1300);
	assert_string_equal(g->client, "127.0.0.1");
	assert_string_equal(g->db, "shop");
	assert_int_equal(g->grids[0], 1);   /* started 21:04:59.9 */
	assert_int_equal(g->grids[1], 1);   /* started 21:05:00.7 */
	g = group_of(a, "select pg_sleep($1)", "other");
	assert_non_null(g);
	assert_int_equal(g->calls, 1);
	assert_int_equal(a->total_calls, 5);
	assert_true(a->total_ms == 1100 + 1300 + 2500 + 60000 + 1000);
	assert_int_equal(a->buckets[0], 3);
	assert_int_equal(a->buckets[1], 1);
	assert_int_equal(a->buckets[13], 1);
	/* merging doubles every count and keeps one group per key */
	slowq_agg_init(b, 4, utc_ms(2026, 11, 27, 21, 4, 0, 0), utc_ms(2026, 11, 27, 21, 8, 0, 0));
	slowq_agg_merge(b, a);
	slowq_agg_merge(b, a);
	assert_int_equal(b->ngroups, 4);
	assert_int_equal(b->total_calls, 10);
	g = group_of(b, "select pg_sleep($1)", "app");
	assert_int_equal(g->calls, 4);
	assert_int_equal(g->grids[1], 2);
	slowq_agg_free(b);
	/* a second client host makes ClientAddr empty */
	add_line(a, "app", "127.0.0.9:1", 6, "1000", "statement: select pg_sleep(1)");
	g = group_of(a, "select pg_sleep($1)", "app");
	assert_string_equal(g->client, "");
	slowq_agg_free(a);
	free(a);
	free(b);
}

static void test_slowq_overflow(void **state)
{
	struct slowq_agg *a = malloc(sizeof(*a));
	char stmt[64];

	slowq_agg_init(a, 0, 0, 0);
	for (int i = 0; i < SLOWQ_GROUPS_MAX + 50; i++) {
		snprintf(stmt, sizeof(stmt), "statement: select c%d from t", i);
		add_line(a, "app", "h:1", 1, "1000", stmt);
	}
	add_line(a, "app", "h:1", 1, "1000", "statement: select c7 from t where 1 = 1");
	add_line(a, "app", "h:1", 1, "1000", "statement: select c7 from t");   /* an existing group still counts */
	assert_int_equal(a->ngroups, SLOWQ_GROUPS_MAX + 1);
	assert_int_equal(a->total_calls, SLOWQ_GROUPS_MAX + 52);
	assert_int_equal(group_of(a, SLOWQ_OVERFLOW_TEXT, "")->calls, 51);
	assert_int_equal(group_of(a, "select c7 from t", "app")->calls, 2);

	/* merged aggregates keep the cap: another one's new groups go to the
	 * overflow group, its known ones to theirs */
	struct slowq_agg *b = malloc(sizeof(*b));
	slowq_agg_init(b, 0, 0, 0);
	add_line(b, "app", "h:1", 1, "1000", "statement: select c7 from t");
	add_line(b, "app", "h:1", 1, "1000", "statement: select brand_new from t");
	add_line(b, "app", "h:1", 1, "1000", "statement: select other_new from t");
	slowq_agg_merge(a, b);
	assert_int_equal(a->ngroups, SLOWQ_GROUPS_MAX + 1);
	assert_int_equal(a->total_calls, SLOWQ_GROUPS_MAX + 55);
	assert_int_equal(group_of(a, SLOWQ_OVERFLOW_TEXT, "")->calls, 53);
	assert_int_equal(group_of(a, "select c7 from t", "app")->calls, 3);
	slowq_agg_free(b);
	free(b);
	slowq_agg_free(a);
	free(a);
}

static void test_buckets_and_hosts(void **state)
{
	struct pglog_field f;
	char out[64];

	assert_int_equal(slowq_bucket(100), 0);
	assert_int_equal(slowq_bucket(1999.9), 0);
	assert_int_equal(slowq_bucket(2000), 1);
	assert_int_equal(slowq_bucket(9999), 8);
	assert_int_equal(slowq_bucket(10000), 9);
	assert_int_equal(slowq_bucket(49999), 12);
	assert_int_equal(slowq_bucket(50000), 13);
	assert_string_equal(slowq_bucket_name(0), "1-2s");
	assert_string_equal(slowq_bucket_name(13), "50s-");
	assert_string_equal(slowq_bucket_name(14), "");
	const char *cases[][2] = { { "127.0.0.1:5432", "127.0.0.1" }, { "::1:34301", "::1" }, { "[local]", "[local]" },
				   { "", "" }, { "host", "host" } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = (struct pglog_field){ cases[i][0], (uint32_t)strlen(cases[i][0]), false };
		slowq_client_host(&f, out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sample),
		cmocka_unit_test(test_parse_incomplete_and_bad),
		cmocka_unit_test(test_parse_head),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_reader),
		cmocka_unit_test(test_reader_large),
		cmocka_unit_test(test_files_and_retention),
		cmocka_unit_test(test_slowq_parse),
		cmocka_unit_test(test_slowq_agg),
		cmocka_unit_test(test_slowq_overflow),
		cmocka_unit_test(test_buckets_and_hosts),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
