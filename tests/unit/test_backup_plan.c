/* test_backup_plan.c - the backup family's pure rules (src/task/backup.h):
 * time and id formats, backup plans and their windows (catch-up of a
 * missed window), the recovery window and the base backup a point in time
 * restores from, and which archived WAL a kept base backup protects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/clock.h"
#include "task/backup.h"

#define T0 1767225600   /* 2026-01-01 00:00:00 UTC, a Thursday */
#define DAY 86400

static int utc(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void test_times(void **state)
{
	int64_t t;
	char buf[20];

	assert_int_equal(backup_time_parse("2026-01-01 00:00:00", &t), 0);
	assert_int_equal(t, T0);
	clock_format(T0 + 3723, buf);
	assert_string_equal(buf, "2026-01-01 01:02:03");
	clock_format(0, buf);
	assert_string_equal(buf, "");
	assert_int_equal(backup_time_parse("2026-02-30 00:00:00", &t), -1); /* no such day */
	assert_int_equal(backup_time_parse("2026-01-01 24:00:00", &t), -1);
	assert_int_equal(backup_time_parse("2026-01-01T00:00:00", &t), -1);
	assert_int_equal(backup_time_parse("2026-1-1 00:00:00", &t), -1);
	assert_int_equal(backup_time_parse("2026-01-01 00:00:00 ", &t), -1);
	assert_int_equal(backup_time_parse("yesterday", &t), -1);
	assert_int_equal(backup_time_parse("", &t), -1);
	assert_int_equal(backup_hms_parse("01:02:03"), 3723);
	assert_int_equal(backup_hms_parse("23:59:59"), 86399);
	assert_int_equal(backup_hms_parse("24:00:00"), -1);
	assert_int_equal(backup_hms_parse("1:02:03"), -1);
	assert_int_equal(backup_hms_parse("01:60:00"), -1);
}

static void test_ids(void **state)
{
	char a[BACKUP_ID_LEN + 1], b[BACKUP_ID_LEN + 1];
	struct err e;

	assert_int_equal(backup_uuid(a, &e), 0);
	assert_int_equal(backup_uuid(b, &e), 0);
	assert_true(backup_id_ok(a));
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');
	backup_log_id("postgres-abc", "000000010000000000000003", a);
	backup_log_id("postgres-abc", "000000010000000000000003", b);
	assert_string_equal(a, b); /* stable */
	assert_true(backup_id_ok(a));
	backup_log_id("postgres-abd", "000000010000000000000003", b);
	assert_string_not_equal(a, b); /* another instance's file has another id */
	assert_false(backup_id_ok("../../etc/passwd"));
	assert_false(backup_id_ok("443c810b-53c6-5d8c-b6d2-1abbe579452"));
	assert_false(backup_id_ok("443C810B-53C6-5D8C-B6D2-1ABBE5794529"));
	assert_false(backup_id_ok("443c810b_53c6_5d8c_b6d2_1abbe5794529"));
}

static json_t *plan_doc(const char *min, const char *max, json_t *days)
{
	return json_pack("{s:s, s:s, s:o, s:i, s:i}", "MinBackupStartTime", min, "MaxBackupStartTime", max,
			 "BackupPeriod", days, "BaseBackupRetentionPeriod", 30, "LogBackupRetentionPeriod", 7);
}

static void test_plan_windows(void **state)
{
	struct backup_plan p;
	json_t *doc = plan_doc("01:00:00", "02:00:00", json_pack("[s,s]", "monday", "thursday"));

	backup_plan_parse(doc, &p);
	json_decref(doc);
	assert_int_equal(p.min_start_s, 3600);
	assert_int_equal(p.weekdays, (1u << 1) | (1u << 4));
	assert_int_equal(p.base_days, 30);
	/* Thursday 2026-01-01 00:30: today's window is later; the last one was Monday 2025-12-29 01:00 */
	assert_int_equal(backup_plan_last_window(&p, T0 + 1800), T0 - 3 * DAY + 3600);
	/* Thursday 01:00:00 exactly and after: today's */
	assert_int_equal(backup_plan_last_window(&p, T0 + 3600), T0 + 3600);
	assert_int_equal(backup_plan_last_window(&p, T0 + 10 * 3600), T0 + 3600);
	/* Sunday 2026-01-04 noon: still Thursday's (a missed window is caught up from it) */
	assert_int_equal(backup_plan_last_window(&p, T0 + 3 * DAY + 12 * 3600), T0 + 3600);
	/* Monday 2026-01-05 01:00:01: Monday's */
	assert_int_equal(backup_plan_last_window(&p, T0 + 4 * DAY + 3601), T0 + 4 * DAY + 3600);
	p.weekdays = 0;
	assert_int_equal(backup_plan_last_window(&p, T0), -1);
	/* defaults: daily, 00:00 */
	doc = json_object();
	backup_plan_parse(doc, &p);
	json_decref(doc);
	assert_int_equal(p.weekdays, 0x7f);
	assert_int_equal(p.base_days, BACKUP_RETENTION_MIN);
	assert_int_equal(backup_plan_last_window(&p, T0 + 5), T0);
	assert_int_equal(backup_weekday_bit("sunday"), 0);
	assert_int_equal(backup_weekday_bit("Sunday"), -1);
	assert_string_equal(backup_weekday_name(6), "saturday");
}

static struct pgbackup_wal_file seg(uint64_t segno, int64_t mtime)
{
	struct pgbackup_wal_file w = { .kind = PGBACKUP_WAL_SEGMENT, .tli = 1, .segno = segno, .mtime = mtime };

	pgbackup_seg_name(1, segno, w.name);
	return w;
}

static void test_window(void **state)
{
	struct backup_base_ref b[3] = {
		{ .id = "a", .finish = T0 + 100, .start_seg = 2, .stop_seg = 2 },
		{ .id = "b", .finish = T0 + 1000, .start_seg = 10, .stop_seg = 11 },
		{ .id = "c", .finish = T0 + 5000, .start_seg = 20, .stop_seg = 20 },
	};
	struct pgbackup_wal_file w[32];
	size_t nw = 0;
	int64_t begin, end;
	struct err e;

	/* segments 2..25, archived every 200 s */
	for (uint64_t s = 2; s <= 25; s++)
		w[nw++] = seg(s, T0 + 100 + (int64_t)(s - 2) * 200);
	assert_int_equal(backup_window_compute(b, 3, w, nw, &begin, &end, &e), 0);
	assert_int_equal(begin, T0 + 100);
	assert_int_equal(end, T0 + 100 + 23 * 200);
	/* the newest usable backup finished at or before the target */
	assert_string_equal(backup_window_pick(b, 3, w, nw, T0 + 999)->id, "a");
	assert_string_equal(backup_window_pick(b, 3, w, nw, T0 + 1000)->id, "b");
	assert_string_equal(backup_window_pick(b, 3, w, nw, T0 + 9000)->id, "c");
	assert_null(backup_window_pick(b, 3, w, nw, T0 + 99));
	/* a hole after b's end (segment 15 gone): only c starts the window */
	for (size_t i = 0; i < nw; i++)
		if (w[i].segno == 15)
			w[i] = w[--nw];
	assert_int_equal(backup_window_compute(b, 3, w, nw, &begin, &end, &e), 0);
	assert_int_equal(begin, T0 + 5000);
	assert_string_equal(backup_window_pick(b, 3, w, nw, T0 + 4000) ? "found" : "none", "none");
	/* no segment archived after the only backup's end yet: no window */
	assert_int_equal(backup_window_compute(b, 1, w, 0, &begin, &end, &e), -1);
	assert_int_equal(e.code, ERR_RESOURCE_NOT_FOUND);
	/* no base backup at all */
	assert_int_equal(backup_window_compute(NULL, 0, w, nw, &begin, &end, &e), -1);
}

/* Retention never removes the WAL a kept base backup needs, nor history files. */
static void test_needed(void **state)
{
	struct backup_base_ref b[1] = { { .id = "b", .finish = T0, .start_seg = 10, .stop_seg = 12 } };
	struct pgbackup_wal_file w = seg(9, 0);
	struct pgbackup_wal_file h = { .kind = PGBACKUP_WAL_HISTORY, .tli = 2 };

	assert_int_equal(backup_wal_needed(b, 1, &w), 0);
	w = seg(10, 0);
	assert_int_equal(backup_wal_needed(b, 1, &w), 1);
	w = seg(12, 0);
	assert_int_equal(backup_wal_needed(b, 1, &w), 1);
	w = seg(13, 0);
	assert_int_equal(backup_wal_needed(b, 1, &w), 0);
	assert_int_equal(backup_wal_needed(b, 0, &h), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_plan_windows),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_needed),
	};
	return cmocka_run_group_tests(tests, utc, NULL);
}
