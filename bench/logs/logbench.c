/*
 * logbench.c - the slow-log benchmark: generate csvlog slow-query lines, and
 * parse + normalise + aggregate them with the daemon's own code
 * (src/pg/pglog.c, src/pg/slowq.c, src/lib/sqlnorm.c).
 *
 *   logbench gen FILE MB [SEED]   write about MB megabytes of csvlog
 *   logbench run FILE [THREADS [--mmap]]
 *                                 aggregate FILE; print one JSON line
 *   logbench rotate FILE DIR MB   cut FILE into DIR/postgresql-*.csv files of
 *                                 about MB megabytes at record ends, written
 *                                 a record at a time, as the server writes
 *                                 and rotates its log
 *   logbench scan DIR [WORKERS]   aggregate DIR's files as the daemon's
 *                                 DescribeSlowQueryAnalysis does
 *                                 (logs_scan_split, WORKERS at most); one
 *                                 JSON line, the same checksum as `run`
 *
 * Generated lines look like PostgreSQL 15's: 26 columns, a mix of simple-
 * and extended-protocol statements (with their "parameters:" detail),
 * quoted identifiers (doubled quotes in CSV), string literals, IN lists of
 * varying length, multi-line statements, and one line in ten that is not a
 * slow statement (errors, checkpoints, connections).
 *
 * By default records come through pglog_reader (read() into a buffer, as
 * the daemon reads); --mmap maps the file and calls pglog_parse on the
 * mapping instead (no copy); each thread fills the page tables a few MB
 * ahead of itself and empties them behind itself (madvise), so that
 * neither happens serially at mmap or munmap time. `run` splits the file
 * into 8 x THREADS byte ranges at lines that look like a record start,
 * THREADS workers aggregate a range at a time (the next free one, so a
 * thread slowed by other work on the machine takes fewer), and then checks
 * the guesses: range i is valid when range i-1's last record ended exactly
 * where range i began; an invalid range (its start was inside a quoted
 * field) is parsed again from where range i-1 really ended. So the result
 * equals a sequential parse whatever the file holds.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/logs.h"
#include "pg/pglog.h"
#include "pg/slowq.h"

#define LB_THREADS_MAX 64
#define LB_PARTS_PER_THREAD 8    /* ranges per thread: a thread slowed by other work takes fewer */
#define LB_PARTS_MAX (LB_THREADS_MAX * LB_PARTS_PER_THREAD)

/* ---- generation ---- */

static uint64_t lb_rng = 88172645463325252ull;

static uint64_t lb_rand(void)
{
	lb_rng ^= lb_rng << 13;
	lb_rng ^= lb_rng >> 7;
	lb_rng ^= lb_rng << 17;
	return lb_rng;
}

static const char *const lb_users[] = { "app", "reporting", "etl", "admin_01" };
static const char *const lb_dbs[] = { "shop", "analytics", "postgres" };
static const char *const lb_apps[] = { "psql", "orders-api", "PostgreSQL JDBC Driver", "" };

/* A statement with literals filled in (CSV quotes already doubled). */
static int lb_statement(char *out, size_t cap, int *extended)
{
	unsigned k = (unsigned)(lb_rand() % 12);
	unsigned a = (unsigned)(lb_rand() % 100000), b = (unsigned)(lb_rand() % 1000);

	*extended = 0;
	switch (k) {
	case 0:
		return snprintf(out, cap, "select * from orders where id = %u", a);
	case 1:
		return snprintf(out, cap, "SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id "
				 "WHERE c.email = 'user%u@example.com' AND o.created_at > now() - interval '%u days'", a, b);
	case 2:
		return snprintf(out, cap, "update \"\"Accounts\"\" set balance = balance - %u.%02u where id = %u", b, a % 100, a);
	case 3: {
		int n = snprintf(out, cap, "select * from items where sku in (");
		unsigned cnt = 1 + (unsigned)(lb_rand() % 20);
		for (unsigned i = 0; i < cnt; i++)
			n += snprintf(out + n, cap - (size_t)n, "%s'SKU-%u'", i ? ", " : "", (unsigned)(lb_rand() % 99999));
		return n + snprintf(out + n, cap - (size_t)n, ")");
	}
	case 4:
		return snprintf(out, cap, "insert into events (kind, payload, at) values ('click', '{\"\"x\"\": %u}', "
				 "'2026-11-27 10:%02u:00')", a, b % 60);
	case 5:
		*extended = 1;
		return snprintf(out, cap, "select pg_sleep($1), $2::text");
	case 6:
		return snprintf(out, cap, "SELECT count(*)\nFROM   page_views\nWHERE  site_id = %u\n  AND day BETWEEN "
				 "'2026-11-%02u' AND '2026-11-%02u' -- dashboard\n", b, 1 + a % 9, 10 + a % 9);
	case 7:
		return snprintf(out, cap, "delete from sessions where last_seen < %u and user_id = -%u", a, b);
	case 8:
		return snprintf(out, cap, "with t as (select generate_series(1, %u) g) select sum(g) from t", a);
	case 9:
		*extended = 1;
		return snprintf(out, cap, "UPDATE jobs SET state = $1, attempts = attempts + 1 WHERE id = $2");
	case 10:
		return snprintf(out, cap, "select u.name, 1.5e3 * x from users u, lateral (select %u as x) s "
				 "where u.id = %u /* req %u */", b, a, a ^ b);
	default:
		return snprintf(out, cap, "vacuum analyze \"\"Big Table %u\"\"", b % 3);
	}
}

static int lb_gen_line(char *out, size_t cap, int64_t t_ms)
{
	char stmt[2048], ts[40], detail[128];
	time_t sec = (time_t)(t_ms / 1000);
	struct tm tm;
	int ext;
	unsigned pid = 10000 + (unsigned)(lb_rand() % 5000);
	const char *user = lb_users[lb_rand() % 4], *db = lb_dbs[lb_rand() % 3], *app = lb_apps[lb_rand() % 4];

	gmtime_r(&sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	if (lb_rand() % 10 == 0)
		return snprintf(out, cap, "%s.%03d UTC,\"%s\",\"%s\",%u,\"127.0.0.1:%u\",6566f0a5.%x,3,\"SELECT\",%s UTC,"
				"3/%u,0,ERROR,22012,\"division by zero\",,,,,,\"select 1/0\",,,\"%s\",\"client backend\",,0\n",
				ts, (int)(t_ms % 1000), user, db, pid, 40000 + pid, pid, ts, pid, app);
	lb_statement(stmt, sizeof(stmt), &ext);
	detail[0] = '\0';
	if (ext)
		snprintf(detail, sizeof(detail), "\"parameters: $1 = '%u', $2 = '%u'\"", (unsigned)(lb_rand() % 5),
			 (unsigned)(lb_rand() % 1000));
	return snprintf(out, cap, "%s.%03d UTC,\"%s\",\"%s\",%u,\"127.0.0.1:%u\",6566f0a5.%x,%u,\"SELECT\",%s UTC,"
			"3/%u,0,LOG,00000,\"duration: %u.%03u ms  %s%s\",%s,,,,,,,,\"%s\",\"client backend\",,0\n",
			ts, (int)(t_ms % 1000), user, db, pid, 40000 + pid, pid, 1 + (unsigned)(lb_rand() % 50), ts,
			pid, 100 + (unsigned)(lb_rand() % 60000), (unsigned)(lb_rand() % 1000),
			ext ? "execute <unnamed>: " : "statement: ", stmt, detail, app);
}

static int lb_gen(const char *path, long mb, uint64_t seed)
{
	FILE *f = fopen(path, "w");
	char line[4096];
	uint64_t want = (uint64_t)mb << 20, done = 0;
	int64_t t = 1795795200000; /* 2026-11-27 00:00:00 UTC */

	if (f == NULL) {
		perror(path);
		return 1;
	}
	lb_rng ^= seed * 0x9E3779B97F4A7C15ull;
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	while (done < want) {
		int n = lb_gen_line(line, sizeof(line), t);
		fwrite(line, 1, (size_t)n, f);
		done += (uint64_t)n;
		t += (int64_t)(lb_rand() % 40);
	}
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

/* ---- aggregation ---- */

struct lb_part {
	const char *path;
	off_t start, stop;     /* records starting in [start, stop) */
	off_t end;             /* where its last record ended */
	struct slowq_agg agg;
	uint64_t records, slow;
	int rc;
	bool parse_only;       /* LB_PARSE_ONLY=1: records only (to time the parser alone) */
	const char *map;       /* --mmap: the whole file */
	off_t size;
};

#define LB_POPULATE_AHEAD (8u << 20)

static bool lb_populate_all;   /* LB_POPULATE_ALL=1: MAP_POPULATE instead (to compare) */

/* Fill the page tables of the next LB_POPULATE_AHEAD bytes from `from`
 * in one call (instead of a fault per few pages); returns the new end. */
static const char *lb_populate(const char *from, const char *end)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	const char *a = (const char *)((uintptr_t)from & ~(page - 1));
	const char *to = (size_t)(end - from) > LB_POPULATE_AHEAD ? from + LB_POPULATE_AHEAD : end;

#ifdef MADV_POPULATE_READ
	madvise((void *)a, (size_t)(to - a), MADV_POPULATE_READ);
#else
	madvise((void *)a, (size_t)(to - a), MADV_WILLNEED);
#endif
	return to;
}

/* Empty the page tables of [from, to) (whole pages; bytes already
 * parsed), so that this thread, not munmap() at the end, does it. The
 * mapping stays valid: a page read again is mapped again from the cache.
 * Returns the new start. */
static const char *lb_release(const char *from, const char *to)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	const char *a = (const char *)(((uintptr_t)from + page - 1) & ~(page - 1));
	const char *b = (const char *)((uintptr_t)to & ~(page - 1));

	if (b <= a)
		return from;
	madvise((void *)a, (size_t)(b - a), MADV_DONTNEED);
	return b;
}

/* The same over a mapping of the whole file (--mmap): no read() copies. */
static void lb_part_run_mapped(struct lb_part *p)
{
	struct pglog_rec rec;
	struct slowq_scratch sc = { 0 };
	struct slowq_stmt s;
	const char *q = p->map + p->start, *end = p->map + p->size;
	const char *mapped = q;   /* page tables filled up to here */
	const char *released = q; /* and emptied up to here */

	memset(&rec, 0, sizeof(rec));
	slowq_agg_init(&p->agg, 0, 0, 0);
	while (q < end && (p->stop < 0 || q - p->map < p->stop)) {
		size_t used;
		if (q + LB_POPULATE_AHEAD / 2 > mapped && mapped < end && !lb_populate_all) {
			mapped = lb_populate(mapped, end);
			released = lb_release(released, q);
		}
		enum pglog_status st = pglog_parse_head(q, (size_t)(end - q), &rec, &used, SLOWQ_COLS);
		if (st == PGLOG_INCOMPLETE)
			break;
		q += used;
		if (st != PGLOG_OK || p->parse_only)
			continue;
		p->records++;
		if (slowq_parse(&rec, &sc, &s)) {
			p->slow++;
			slowq_agg_add(&p->agg, &rec, &s);
		}
	}
	p->end = q - p->map;
	p->rc = 0;
	slowq_scratch_free(&sc);
}

static void *lb_part_run(void *arg)
{
	struct lb_part *p = arg;
	struct pglog_reader r;
	struct pglog_rec rec;
	struct slowq_scratch sc = { 0 };
	struct slowq_stmt s;
	struct err e;
	int rc;

	if (p->map != NULL) {
		lb_part_run_mapped(p);
		return NULL;
	}
	memset(&rec, 0, sizeof(rec));
	slowq_agg_init(&p->agg, 0, 0, 0);
	p->rc = -1;
	if (pglog_reader_open(&r, p->path, p->start, &e) != 0)
		return NULL;
	r.stop = p->stop;
	r.cols = SLOWQ_COLS;   /* as DescribeSlowQueryAnalysis reads */
	while ((rc = pglog_reader_next(&r, &rec, &e)) == 1) {
		p->records++;
		if (p->parse_only)
			continue;
		if (slowq_parse(&rec, &sc, &s)) {
			p->slow++;
			slowq_agg_add(&p->agg, &rec, &s);
		}
	}
	p->end = pglog_reader_tell(&r);
	p->rc = rc;
	pglog_reader_close(&r);
	slowq_scratch_free(&sc);
	return NULL;
}

/* A guess at a record start at or after `off`: the byte after a newline
 * that is followed by "YYYY-MM-DD ". */
static off_t lb_guess(int fd, off_t off, off_t size)
{
	char buf[65536];

	while (off < size) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);
		if (n <= 0)
			return size;
		for (ssize_t i = 0; i + 12 < n; i++)
			if (buf[i] == '\n' && buf[i + 5] == '-' && buf[i + 8] == '-' && buf[i + 11] == ' ')
				return off + i + 1;
		off += n - 12;
	}
	return size;
}

static double lb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An order-independent checksum of the groups (keys, texts, counts,
 * min/max durations to the bit, total duration to the microsecond - its
 * sum depends on the order of additions -, times, clients): equal
 * aggregates give equal sums whatever the thread count. */
static uint64_t lb_checksum(const struct slowq_agg *a)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < a->ngroups; i++) {
		const struct slowq_group *g = &a->groups[i];
		uint64_t h = 1469598103934665603ull;
		char line[256];
		uint64_t min_bits, max_bits;   /* single durations: compared to the bit */
		memcpy(&min_bits, &g->min_ms, 8);
		memcpy(&max_bits, &g->max_ms, 8);
		int n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 " %lld %" PRIx64 " %" PRIx64 " %" PRId64
				 " %" PRId64 " %s %d", g->key, g->calls, (long long)llround(g->total_ms * 1000), min_bits,
				 max_bits, g->first_ms, g->last_ms, g->client, g->client_mixed);
		const char *parts[4] = { line, g->query, g->user, g->db };
		for (int k = 0; k < 4; k++)
			for (const char *c = parts[k]; *c != '\0'; c++)
				h = (h ^ (unsigned char)*c) * 1099511628211ull;
		(void)n;
		sum += h;
	}
	return sum;
}

/* The ranges, taken in order by the worker threads. */
struct lb_queue {
	struct lb_part *parts;
	int nparts;
	int next;                /* atomically incremented */
};

static void *lb_worker(void *arg)
{
	struct lb_queue *q = arg;
	int i;

	while ((i = __atomic_fetch_add(&q->next, 1, __ATOMIC_RELAXED)) < q->nparts)
		lb_part_run(&q->parts[i]);
	return NULL;
}

static int lb_run(const char *path, int nthreads, bool mapped)
{
	static struct lb_part parts[LB_PARTS_MAX];
	pthread_t th[LB_THREADS_MAX];
	int nparts = nthreads == 1 ? 1 : nthreads * LB_PARTS_PER_THREAD;
	struct lb_queue queue = { .parts = parts, .nparts = nparts, .next = 0 };
	struct slowq_agg total;
	struct stat st;
	int fd = open(path, O_RDONLY);
	uint64_t records = 0, slow = 0, reparsed = 0;
	double t0 = lb_now();

	if (fd < 0 || fstat(fd, &st) != 0) {
		perror(path);
		return 1;
	}
	memset(parts, 0, sizeof(parts));
	const char *map = NULL;
	if (mapped) {
		/* not MAP_POPULATE: that maps the whole file in this thread before
		 * any work starts; each thread maps in its own range (below) */
		lb_populate_all = getenv("LB_POPULATE_ALL") != NULL;
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | (lb_populate_all ? MAP_POPULATE : 0), fd, 0);
		if (map == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	}
	for (int i = 0; i < nparts; i++) {
		parts[i].map = map;
		parts[i].size = st.st_size;
		parts[i].path = path;
		parts[i].parse_only = getenv("LB_PARSE_ONLY") != NULL;
		parts[i].start = i == 0 ? 0 : lb_guess(fd, st.st_size / nparts * i, st.st_size);
	}
	close(fd);
	for (int i = 0; i < nparts; i++)
		parts[i].stop = i + 1 < nparts ? parts[i + 1].start : -1;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, lb_worker, &queue);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	/* check the guesses; parse again from the true boundary where wrong */
	for (int i = 1; i < nparts; i++) {
		if (parts[i - 1].end == parts[i].start)
			continue;
		slowq_agg_free(&parts[i].agg);
		reparsed += (uint64_t)(parts[i].end - parts[i].start);
		parts[i].start = parts[i - 1].end;
		parts[i].records = parts[i].slow = 0;
		if (parts[i].stop >= 0 && parts[i].start >= parts[i].stop) {
			slowq_agg_init(&parts[i].agg, 0, 0, 0);
			parts[i].end = parts[i].start;   /* range i lies inside range i-1's last record */
			continue;
		}
		lb_part_run(&parts[i]);
	}
	slowq_agg_init(&total, 0, 0, 0);
	for (int i = 0; i < nparts; i++) {
		if (parts[i].rc < 0) {
			fprintf(stderr, "logbench: read error\n");
			return 1;
		}
		slowq_agg_merge(&total, &parts[i].agg);
		records += parts[i].records;
		slow += parts[i].slow;
		slowq_agg_free(&parts[i].agg);
	}
	double secs = lb_now() - t0;
	if (map != NULL)
		munmap((void *)map, (size_t)st.st_size);
	printf("{\"bytes\": %lld, \"seconds\": %.3f, \"mb_per_s\": %.1f, \"records\": %" PRIu64 ", \"slow\": %" PRIu64
	       ", \"groups\": %zu, \"calls\": %" PRIu64 ", \"threads\": %d, \"io\": \"%s\", \"reparsed_bytes\": %" PRIu64
	       ", \"checksum\": \"%016" PRIx64 "\"}\n",
	       (long long)st.st_size, secs, (double)st.st_size / 1048576.0 / secs, records, slow, total.ngroups,
	       total.total_calls, nthreads, mapped ? "mmap" : "read", reparsed, lb_checksum(&total));
	slowq_agg_free(&total);
	return 0;
}

/* ---- the daemon's own scan ---- */

/* Cut `path` into files of about `mb` MB in dir at record ends, written
 * as the server writes its log: one write() per record (the syslogger's
 * log file is line-buffered), rotating between records. How a file was
 * written shapes its page cache (small writes leave small folios), and so
 * how fast it is read back, by wc -l as by the daemon. */
static int lb_rotate(const char *path, const char *dir, long mb)
{
	int fd = open(path, O_RDONLY), out = -1;
	struct stat st;
	struct pglog_rec rec;
	const char *map, *p, *end;
	size_t in_file = 0;
	int nfile = 0;

	if (fd < 0 || fstat(fd, &st) != 0 || mb < 1) {
		perror(path);
		return 1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(&rec, 0, sizeof(rec));
	p = map;
	end = map + st.st_size;
	while (p < end) {
		size_t used = 0;
		if (out < 0 || in_file >= (size_t)mb << 20) {
			char name[4096];
			if (out >= 0 && close(out) != 0)
				return 1;
			snprintf(name, sizeof(name), "%s/postgresql-2026-11-27_%06d.csv", dir, nfile++);
			out = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (out < 0) {
				perror(name);
				return 1;
			}
			in_file = 0;
		}
		if (pglog_parse(p, (size_t)(end - p), &rec, &used) == PGLOG_INCOMPLETE)
			used = (size_t)(end - p);
		if (write(out, p, used) != (ssize_t)used) {
			perror("write");
			return 1;
		}
		p += used;
		in_file += used;
	}
	if (out >= 0 && close(out) != 0)
		return 1;
	munmap((void *)map, (size_t)st.st_size);
	return 0;
}

struct lb_scan {
	struct slowq_agg agg;
	struct slowq_scratch sc;
	uint64_t records, slow;
};

/* What logs_slow.c's slow_agg_record does (without its time and database
 * filter: the whole log is asked for). */
static int lb_scan_record(const struct pglog_rec *r, const struct logs_at *at, void *arg)
{
	struct lb_scan *w = arg;
	struct slowq_stmt s;

	(void)at;
	w->records++;
	if (slowq_parse(r, &w->sc, &s)) {
		w->slow++;
		slowq_agg_add(&w->agg, r, &s);
	}
	return 0;
}

static int lb_scan(const char *dir, int workers)
{
	static struct lb_scan w[LOGS_WORKERS_MAX];
	void *args[LOGS_WORKERS_MAX];
	struct logs_query q;
	struct err e;
	uint64_t bytes = 0, records = 0, slow = 0;
	int used = 1;
	double t0 = lb_now();

	memset(&q, 0, sizeof(q));
	snprintf(q.dir, sizeof(q.dir), "%s", dir);
	q.from_ms = 0;
	q.to_ms = INT64_MAX;
	q.cols = SLOWQ_COLS;
	q.split_bytes = 32u << 20;   /* the daemon's default log_scan_split_mb */
	for (int i = 0; i < LOGS_WORKERS_MAX; i++) {
		slowq_agg_init(&w[i].agg, 0, 0, 0);
		args[i] = &w[i];
	}
	if (logs_scan_split(&q, workers, lb_scan_record, args, &used, &e) != 0) {
		fprintf(stderr, "logbench: %s\n", err_message(&e, ERR_LANG_EN));
		return 1;
	}
	for (int i = 1; i < used; i++)
		slowq_agg_merge(&w[0].agg, &w[i].agg);
	double secs = lb_now() - t0;
	for (size_t i = 0; i < q.nfiles; i++)
		bytes += (uint64_t)q.files[i].size;
	for (int i = 0; i < used; i++) {
		records += w[i].records;
		slow += w[i].slow;
	}
	printf("{\"bytes\": %" PRIu64 ", \"seconds\": %.3f, \"mb_per_s\": %.1f, \"records\": %" PRIu64 ", \"slow\": %" PRIu64
	       ", \"groups\": %zu, \"calls\": %" PRIu64 ", \"files\": %zu, \"workers\": %d, \"checksum\": \"%016" PRIx64 "\"}\n",
	       bytes, secs, (double)bytes / 1048576.0 / secs, records, slow, w[0].agg.ngroups, w[0].agg.total_calls,
	       q.nfiles, used, lb_checksum(&w[0].agg));
	for (int i = 0; i < LOGS_WORKERS_MAX; i++) {
		slowq_agg_free(&w[i].agg);
		slowq_scratch_free(&w[i].sc);
	}
	free(q.files);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "rotate") == 0)
		return lb_rotate(argv[2], argv[3], strtol(argv[4], NULL, 10));
	if (argc >= 3 && strcmp(argv[1], "scan") == 0) {
		int wk = argc > 3 ? (int)strtol(argv[3], NULL, 10) : LOGS_WORKERS_MAX;
		return lb_scan(argv[2], wk < 1 ? 1 : wk > LOGS_WORKERS_MAX ? LOGS_WORKERS_MAX : wk);
	}
	if (argc >= 4 && strcmp(argv[1], "gen") == 0)
		return lb_gen(argv[2], strtol(argv[3], NULL, 10), argc > 4 ? strtoull(argv[4], NULL, 10) : 1);
	if (argc >= 3 && strcmp(argv[1], "run") == 0) {
		int t = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 1;
		bool mapped = argc > 4 && strcmp(argv[4], "--mmap") == 0;
		return lb_run(argv[2], t < 1 ? 1 : t > LB_THREADS_MAX ? LB_THREADS_MAX : t, mapped);
	}
	fprintf(stderr, "usage: logbench gen FILE MB [SEED] | logbench run FILE [THREADS [--mmap]] |\n"
			"       logbench rotate FILE DIR MB | logbench scan DIR [WORKERS]\n");
	return 2;
}
