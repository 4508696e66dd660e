/* test_billing.c - the price book and quotes, switch windows, the ledger
 * (orders and bills in a real store) and the operator's clock file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/clockfile.h"
#include "core/config.h"
#include "store/store.h"
#include "task/billing.h"
#include "task/ledger.h"
#include "task/pricing.h"

static char dir[64];

/* ---- price book ---- */

static void load_default(void)
{
	struct config cfg;
	struct err e;

	assert_int_equal(config_init(&cfg, "/tmp", &e), 0);
	assert_int_equal(pricing_load(cfg.pricing, &e), 0);
	config_free(&cfg);
}

/* pricing_load of `text` (a JSON book); the error message into msg. */
static int load_text(const char *text, char *msg, size_t cap)
{
	json_t *book = json_loads(text, 0, NULL);
	struct err e;
	int rc;

	assert_non_null(book);
	rc = pricing_load(book, &e);
	if (rc != 0)
		snprintf(msg, cap, "%s", err_message(&e, ERR_LANG_EN));
	json_decref(book);
	return rc;
}

#define BOOK_TAIL \
	"\"default\": {\"MonthlyPerCore\": 1000, \"MonthlyPerGbMemory\": 500, \"HourlyPerCore\": 2," \
	" \"HourlyPerGbMemory\": 1.5}, \"storage\": {\"MonthlyPerGb\": 10, \"HourlyPerGb\": 0.05}"

static void test_default_book(void **state)
{
	struct pricing_item it = { "cdb.pg.z1.2g", 1, 2048, 100 };
	struct pricing_quote q;

	load_default();
	assert_string_equal(pricing_currency(), "CNY");
	/* the seed's renewal example is an 83% discount for 12 months */
	pricing_prepaid(&it, 12, 1, &q);
	assert_int_equal(q.original, 12 * (11000 + 100 * 80));
	assert_int_equal(q.price, 12 * (11000 + 100 * 80) * 83 / 100);
	pricing_prepaid(&it, 1, 3, &q);
	assert_int_equal(q.original, 3 * 19000);
	assert_int_equal(q.price, q.original);
	/* 0.12 cents per GB-hour: 100 GB add 12 cents to 19 */
	pricing_hourly(&it, 1, 2, &q);
	assert_int_equal(q.original, 2 * 31);
	pricing_hourly(&it, 744, 1, &q);
	assert_int_equal(q.price, 744 * 31);
	assert_int_equal(pricing_discount_percent(11), 100);
	assert_int_equal(pricing_discount_percent(24), 70);
	assert_int_equal(pricing_discount_percent(48), 50);
	pricing_close();
	assert_string_equal(pricing_currency(), "");
}

static void test_fallback_and_rounding(void **state)
{
	char msg[256];
	struct pricing_item it = { "custom.spec", 2, 3072, 1 };
	struct pricing_quote q;

	assert_int_equal(load_text("{\"Currency\": \"USD\", \"specs\": [], " BOOK_TAIL "}", msg, sizeof(msg)), 0);
	/* 2 cores x 1000 + 3 GB x 500 + 1 GB x 10 */
	pricing_prepaid(&it, 1, 1, &q);
	assert_int_equal(q.original, 2000 + 1500 + 10);
	/* 2 x 2 + 3 x 1.5 + 0.05 = 8.55 cents: rounded once, half up */
	pricing_hourly(&it, 1, 1, &q);
	assert_int_equal(q.original, 9);
	pricing_hourly(&it, 100, 1, &q);
	assert_int_equal(q.original, 855);
	/* no discounts listed: full price for any period */
	pricing_prepaid(&it, 36, 1, &q);
	assert_int_equal(q.price, q.original);
	/* a huge order is capped, never wrapped */
	it.storage_gb = 1000000;
	pricing_prepaid(&it, 36, 100, &q);
	assert_true(q.original > 0 && q.original <= PRICING_CENTS_MAX);
	pricing_close();
}

static void test_prepaid_change(void **state)
{
	struct pricing_item small = { "cdb.pg.z1.2g", 1, 2048, 10 };
	struct pricing_item big = { "cdb.pg.z1.4g", 2, 4096, 20 };
	struct pricing_quote q;

	load_default();
	/* a whole month left: the monthly difference */
	pricing_prepaid_change(&small, &big, PRICING_MONTH_S, &q);
	assert_int_equal(q.original, (22000 + 1600) - (11000 + 800));
	/* half a month left: half of it */
	pricing_prepaid_change(&small, &big, PRICING_MONTH_S / 2, &q);
	assert_int_equal(q.original, 5900);
	/* smaller spec or expired: nothing (no refunds) */
	pricing_prepaid_change(&big, &small, PRICING_MONTH_S, &q);
	assert_int_equal(q.original, 0);
	pricing_prepaid_change(&small, &big, -5, &q);
	assert_int_equal(q.price, 0);
	pricing_close();
}

static void test_bad_books(void **state)
{
	static const struct {
		const char *book;
		const char *says;
	} bad[] = {
		{ "[]", "expected an object" },
		{ "{\"Currency\": \"cny\", \"specs\": [], " BOOK_TAIL "}", "Currency" },
		{ "{\"Currency\": \"CNY\", \"specs\": [], \"extra\": 1, " BOOK_TAIL "}", "unknown key \"extra\"" },
		{ "{\"Currency\": \"CNY\", \"specs\": [{\"SpecCode\": \"a\", \"Monthly\": 1, \"Hourly\": 1},"
		  " {\"SpecCode\": \"a\", \"Monthly\": 1, \"Hourly\": 1}], " BOOK_TAIL "}", "listed twice" },
		{ "{\"Currency\": \"CNY\", \"specs\": [{\"SpecCode\": \"a\", \"Monthly\": -1, \"Hourly\": 1}], " BOOK_TAIL "}",
		  "Monthly" },
		{ "{\"Currency\": \"CNY\", \"specs\": [{\"SpecCode\": \"a\", \"Monthly\": 1.234, \"Hourly\": 1}], " BOOK_TAIL "}",
		  "two decimals" },
		{ "{\"Currency\": \"CNY\", \"specs\": [{\"SpecCode\": \"A B\", \"Monthly\": 1, \"Hourly\": 1}], " BOOK_TAIL "}",
		  "SpecCode" },
		{ "{\"Currency\": \"CNY\", \"specs\": [], \"storage\": {\"MonthlyPerGb\": 1, \"HourlyPerGb\": 1}}", "default" },
		{ "{\"Currency\": \"CNY\", \"specs\": [], " BOOK_TAIL ", \"discounts\": [{\"Period\": 12, \"Percent\": 0}]}",
		  "Percent" },
		{ "{\"Currency\": \"CNY\", \"specs\": [], " BOOK_TAIL
		  ", \"discounts\": [{\"Period\": 12, \"Percent\": 90}, {\"Period\": 12, \"Percent\": 80}]}",
		  "listed twice" },
	};
	char msg[256];

	load_default();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		assert_int_not_equal(load_text(bad[i].book, msg, sizeof(msg)), 0);
		if (strstr(msg, bad[i].says) == NULL)
			fail_msg("book %zu: message \"%s\" lacks \"%s\"", i, msg, bad[i].says);
		/* the book loaded before stays */
		assert_string_equal(pricing_currency(), "CNY");
	}
	pricing_close();
}

/* ---- switch windows ---- */

static void test_time_of_day(void **state)
{
	assert_int_equal(billing_time_of_day("00:00:00"), 0);
	assert_int_equal(billing_time_of_day("01:30:15"), 5415);
	assert_int_equal(billing_time_of_day("23:59:59"), 86399);
	assert_int_equal(billing_time_of_day("24:00:00"), -1);
	assert_int_equal(billing_time_of_day("01:60:00"), -1);
	assert_int_equal(billing_time_of_day("1:00:00"), -1);
	assert_int_equal(billing_time_of_day("01:00"), -1);
	assert_int_equal(billing_time_of_day("aa:bb:cc"), -1);
	assert_int_equal(billing_time_of_day("01-00-00"), -1);
	assert_int_equal(billing_time_of_day(NULL), -1);
}

static void test_window_parse(void **state)
{
	struct billing_window w;
	struct err e;

	assert_int_equal(billing_window_parse("01:00:00", "01:30:00", &w, &e), 0);
	assert_int_equal(w.start_s, 3600);
	assert_int_equal(w.end_s, 5400);
	/* past midnight: 23:50 -> 00:30 is 40 minutes */
	assert_int_equal(billing_window_parse("23:50:00", "00:30:00", &w, &e), 0);
	assert_int_not_equal(billing_window_parse("01:00:00", "01:29:59", &w, &e), 0);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR);
	assert_non_null(strstr(e.msg, "30 minutes"));
	assert_int_not_equal(billing_window_parse("23:50:00", "00:10:00", &w, &e), 0);
	assert_int_not_equal(billing_window_parse("02:00:00", "02:00:00", &w, &e), 0);
	assert_int_not_equal(billing_window_parse("2:00:00", "03:00:00", &w, &e), 0);
	assert_non_null(strstr(e.msg, "HH:MM:SS"));
	assert_int_not_equal(billing_window_parse(NULL, "03:00:00", &w, &e), 0);
}

static void test_window_contains(void **state)
{
	struct billing_window day = { 3600, 5400 }, night = { 23 * 3600, 3600 };
	int64_t midnight = 1700006400; /* 2023-11-15 00:00:00 UTC */

	setenv("TZ", "UTC", 1);
	tzset();
	assert_false(billing_window_contains(&day, midnight + 3599));
	assert_true(billing_window_contains(&day, midnight + 3600));
	assert_true(billing_window_contains(&day, midnight + 5399));
	assert_false(billing_window_contains(&day, midnight + 5400));
	assert_true(billing_window_contains(&night, midnight + 23 * 3600 + 10));
	assert_true(billing_window_contains(&night, midnight + 86400 + 60));
	assert_false(billing_window_contains(&night, midnight + 2 * 3600));
}

static void test_init_checks_window(void **state)
{
	struct config cfg;
	struct err e;

	assert_int_equal(config_init(&cfg, "/tmp", &e), 0);
	assert_int_equal(billing_init(&cfg, &e), 0);
	assert_int_equal(billing_maintenance_window()->start_s, 3 * 3600);
	assert_int_equal(config_set(&cfg, "maintenance_window", "03:00:00-03:10:00", &e), 0);
	assert_int_not_equal(billing_init(&cfg, &e), 0);
	assert_non_null(strstr(e.msg, "maintenance_window"));
	assert_int_equal(config_set(&cfg, "maintenance_window", "0300", &e), 0);
	assert_int_not_equal(billing_init(&cfg, &e), 0);
	config_free(&cfg);
	pricing_close();
}

/* ---- ledger ---- */

static int store_setup(void **state)
{
	struct store *st;
	struct store_tenant t;
	struct store_key k;
	struct err e;
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/pgfleet-test-billing.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/db", dir);
	assert_int_equal(store_open(&st, path, &e), 0);
	assert_int_equal(store_tenant_create(st, "t1", &t, &k, &e), 0);
	*state = st;
	load_default();
	return 0;
}

static int store_teardown(void **state)
{
	static const char *const files[] = { "db", "db-wal", "db-shm", CLOCKFILE_NAME, CLOCKFILE_NAME ".lock", NULL };
	char path[128];

	store_close(*state);
	for (const char *const *f = files; *f != NULL; f++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *f);
		unlink(path);
	}
	rmdir(dir);
	pricing_close();
	clock_set_offset(0);
	return 0;
}

static int all_digits(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789") == len;
}

static void test_order_roundtrip(void **state)
{
	struct store *st = *state;
	json_t *ids = json_pack("[s, s]", "postgres-aaaaaaaa", "postgres-bbbbbbbb");
	struct ledger_order o = { .action = "purchase", .pay_mode = LEDGER_PAY_PREPAID, .count = 2, .flow_id = 7,
				  .ids = ids, .period = 1, .spec_code = "cdb.pg.z1.2g", .storage_gb = 10 };
	struct store_res r, b;
	struct err e;
	json_t *view;

	o.quote.original = 23600;
	o.quote.price = 23600;
	assert_int_equal(ledger_order_insert(st, 1, &o, &e), 0);
	assert_true(all_digits(o.deal, LEDGER_DEAL_LEN));
	assert_true(all_digits(o.bill, LEDGER_BILL_LEN));
	assert_int_equal(store_res_get(st, LEDGER_ORDER_KIND, o.deal, 1, &r, &e), 0);
	/* another tenant does not see it */
	assert_int_not_equal(store_res_get(st, LEDGER_ORDER_KIND, o.deal, 2, &b, &e), 0);
	assert_int_equal(e.code, ERR_RESOURCE_NOT_FOUND);
	view = ledger_deal_view(&r, "100000000001");
	assert_string_equal(json_string_value(json_object_get(view, "DealName")), o.deal);
	assert_string_equal(json_string_value(json_object_get(view, "OwnerUin")), "100000000001");
	assert_int_equal(json_integer_value(json_object_get(view, "Count")), 2);
	assert_int_equal(json_integer_value(json_object_get(view, "PayMode")), 1);
	assert_int_equal(json_integer_value(json_object_get(view, "FlowId")), 7);
	assert_int_equal(json_array_size(json_object_get(view, "DBInstanceIdSet")), 2);
	json_decref(view);
	assert_string_equal(json_string_value(json_object_get(r.doc, "BillId")), o.bill);
	store_res_free(&r);
	/* the bill names its order */
	assert_int_equal(store_res_get(st, LEDGER_BILL_KIND, o.bill, 1, &b, &e), 0);
	assert_string_equal(json_string_value(json_object_get(b.doc, "DealName")), o.deal);
	assert_int_equal(json_integer_value(json_object_get(b.doc, "Amount")), 23600);
	store_res_free(&b);
	/* FlowId set later, failure recorded */
	assert_int_equal(ledger_order_set_flow(st, o.deal, 42, &e), 0);
	assert_int_equal(ledger_order_failed(st, o.deal, "switch failed", &e), 0);
	assert_int_equal(ledger_order_failed(st, "nope", "x", &e), 0);
	assert_int_equal(store_res_get(st, LEDGER_ORDER_KIND, o.deal, 1, &r, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(r.doc, "FlowId")), 42);
	assert_string_equal(json_string_value(json_object_get(r.doc, "Status")), "failed");
	store_res_free(&r);
	json_decref(ids);
}

static void test_history(void **state)
{
	struct store *st = *state;
	json_t *a = json_pack("[s]", "postgres-aaaaaaaa"), *hist;
	struct ledger_order o = { .action = "renew", .pay_mode = LEDGER_PAY_PREPAID, .count = 1, .ids = a };
	struct pricing_quote q = { 62, 62 };
	char bill[LEDGER_BILL_LEN + 1];
	struct err e;

	assert_int_equal(ledger_order_insert(st, 1, &o, &e), 0);
	clock_set_offset(3600); /* later on the business clock */
	assert_int_equal(ledger_usage_insert(st, 1, "postgres-aaaaaaaa", 100, 100 + 3 * 3600, 3, &q, bill, &e), 0);
	assert_true(all_digits(bill, LEDGER_BILL_LEN));
	assert_int_equal(ledger_usage_insert(st, 1, "postgres-cccccccc", 100, 3700, 1, &q, NULL, &e), 0);
	assert_int_equal(ledger_history(st, "postgres-aaaaaaaa", &hist, &e), 0);
	/* the order, its bill, then the usage bill, oldest first */
	assert_int_equal(json_array_size(hist), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 0), "Type")), "order");
	json_t *last = json_array_get(hist, 2);
	assert_string_equal(json_string_value(json_object_get(last, "Kind")), "usage");
	assert_int_equal(json_integer_value(json_object_get(last, "Hours")), 3);
	assert_int_equal(json_integer_value(json_object_get(last, "Amount")), 62);
	json_decref(hist);
	assert_int_equal(ledger_history(st, NULL, &hist, &e), 0);
	assert_int_equal(json_array_size(hist), 4);
	json_decref(hist);
	json_decref(a);
}

/* ---- the operator's clock ---- */

static void test_clockfile(void **state)
{
	char path[128];
	struct stat sb;
	int64_t off;
	struct err e;
	FILE *f;

	assert_int_equal(clockfile_read(dir, &off, &e), 0);
	assert_int_equal(off, 0);
	assert_int_equal(clockfile_advance(dir, 100, &off, &e), 0);
	assert_int_equal(off, 100);
	assert_int_equal(clockfile_advance(dir, 86400, &off, &e), 0);
	assert_int_equal(off, 86500);
	snprintf(path, sizeof(path), "%s/%s", dir, CLOCKFILE_NAME);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* backwards, or too far at once: refused, nothing changed */
	assert_int_not_equal(clockfile_advance(dir, -1, &off, &e), 0);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	assert_int_not_equal(clockfile_advance(dir, CLOCKFILE_ADVANCE_MAX + 1, &off, &e), 0);
	assert_int_equal(clockfile_read(dir, &off, &e), 0);
	assert_int_equal(off, 86500);
	/* the daemon's view follows the file */
	int64_t before = clock_now();
	assert_int_equal(clockfile_load(dir, &e), 0);
	assert_int_equal(clock_offset(), 86500);
	assert_true(clock_now() >= before + 86500);
	/* a damaged file is reported and the offset kept */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("garbage\n", f);
	fclose(f);
	assert_int_not_equal(clockfile_load(dir, &e), 0);
	assert_int_equal(clock_offset(), 86500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_book),
		cmocka_unit_test(test_fallback_and_rounding),
		cmocka_unit_test(test_prepaid_change),
		cmocka_unit_test(test_bad_books),
		cmocka_unit_test(test_time_of_day),
		cmocka_unit_test(test_window_parse),
		cmocka_unit_test(test_window_contains),
		cmocka_unit_test(test_init_checks_window),
		cmocka_unit_test_setup_teardown(test_order_roundtrip, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_history, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_clockfile, store_setup, store_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
