/*
 * test_logs.c - the scans of the log actions (api/logs.c): logs_scan_split
 * shares the files among threads, each file whole and in order to one
 * worker, and sees every record logs_scan sees; small logs stay on one
 * thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/logs.h"

#define FILES 7
#define RECORDS 300

/* What one worker saw. */
struct seen {
	uint64_t records;
	size_t file;             /* the file of the last record */
	off_t offset;            /* and its offset: a file's records come in order */
	bool out_of_order;
};

static int count_record(const struct pglog_rec *r, const struct logs_at *at, void *arg)
{
	struct seen *s = arg;

	(void)r;
	if (s->records > 0 && at->file == s->file && at->offset <= s->offset)
		s->out_of_order = true;
	s->records++;
	s->file = at->file;
	s->offset = at->offset;
	return 0;
}

static void make_logs(char *dir)
{
	char path[512];

	assert_non_null(mkdtemp(dir));
	for (int f = 0; f < FILES; f++) {
		snprintf(path, sizeof(path), "%s/postgresql-2026-11-27_%06d.csv", dir, f);
		FILE *fp = fopen(path, "w");
		assert_non_null(fp);
		for (int i = 0; i < RECORDS; i++)
			fprintf(fp,
				"2026-11-27 21:05:%02d.%03d UTC,\"app\",\"shop\",100,\"h:1\",s,1,\"SELECT\",2026-11-27 21:04:21 "
				"UTC,3/0,0,LOG,00000,\"duration: %d.5 ms  statement: select %d\",,,,,,,,,\"psql\",\"client "
				"backend\",,0\n",
				i % 60, i % 1000, 1000 + i, i);
		fclose(fp);
	}
}

static void remove_logs(const char *dir)
{
	char path[512];

	for (int f = 0; f < FILES; f++) {
		snprintf(path, sizeof(path), "%s/postgresql-2026-11-27_%06d.csv", dir, f);
		unlink(path);
	}
	rmdir(dir);
}

static void test_split(void **state)
{
	char dir[] = "/tmp/pgfleet-test-logs.XXXXXX";
	struct logs_query q;
	struct seen seen[LOGS_WORKERS_MAX], all = { 0 };
	void *args[LOGS_WORKERS_MAX];
	struct err e;
	int used = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t total = 0;

	(void)state;
	make_logs(dir);
	memset(&q, 0, sizeof(q));
	snprintf(q.dir, sizeof(q.dir), "%s", dir);
	q.cols = PGLOG_MESSAGE + 1;

	/* one thread: what the split must also see */
	assert_int_equal(logs_scan(&q, count_record, &all, &e), 0);
	assert_int_equal(all.records, FILES * RECORDS);

	/* large enough (split_bytes 0): one worker per CPU, at most 3 here */
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < LOGS_WORKERS_MAX; i++)
		args[i] = &seen[i];
	q.split_bytes = 0;
	assert_int_equal(logs_scan_split(&q, 3, count_record, args, &used, &e), 0);
	assert_int_equal(used, cpus >= 3 ? 3 : cpus < 1 ? 1 : cpus);
	for (int i = 0; i < LOGS_WORKERS_MAX; i++) {
		assert_false(seen[i].out_of_order);
		if (i >= used)
			assert_int_equal(seen[i].records, 0);
		total += seen[i].records;
	}
	assert_int_equal(total, FILES * RECORDS);

	/* small logs: one worker */
	memset(seen, 0, sizeof(seen));
	q.split_bytes = 1u << 30;
	assert_int_equal(logs_scan_split(&q, 3, count_record, args, &used, &e), 0);
	assert_int_equal(used, 1);
	assert_int_equal(seen[0].records, FILES * RECORDS);

	/* no directory yet: nothing */
	free(q.files);
	q.files = NULL;
	q.dir[0] = '\0';
	assert_int_equal(logs_scan_split(&q, 3, count_record, args, &used, &e), 0);
	remove_logs(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
