/*
 * test_store.c - unit tests for the metadata store (src/store/).
 *
 * Each test gets a fresh temporary directory holding pgfleet.db. Covered:
 * migrations (idempotent, refusal of a newer schema), the file mode, tenant
 * creation and its identifier formats, name validation, key lookup and the
 * two-key limit, the request log, four threads sharing one store, two
 * connections on one file, and a second process writing while we read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store.h"

#define TEST_THREADS 4
#define TEST_THREAD_ITERS 250
#define TEST_WRITER_TENANTS 20
#define TEST_WRITER_BATCHES 20
#define TEST_BATCH 10
/* The reading side also writes every this many passes. SQLite's busy wait
 * polls, so a side that writes back to back could starve the other past
 * busy_timeout; the daemon batches its writes and never does. */
#define TEST_READER_WRITE_EVERY 16

struct fixture {
	char dir[PATH_MAX / 2];
	char path[PATH_MAX];
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/pgfleet-store-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/pgfleet.db", f->dir);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char p[PATH_MAX + 16];

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct store *open_ok(const struct fixture *f)
{
	struct store *s = NULL;
	struct err e = { 0 };

	assert_int_equal(store_open(&s, f->path, &e), 0);
	assert_non_null(s);
	return s;
}

static int all_alnum(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) || (unsigned char)p[i] > 127)
			return 0;
	return p[n] == '\0';
}

static void assert_key_format(const struct store_key *k)
{
	assert_int_equal(strlen(k->secret_id), STORE_SECRET_ID_LEN);
	assert_memory_equal(k->secret_id, "AKID", 4);
	assert_true(all_alnum(k->secret_id + 4, STORE_SECRET_ID_LEN - 4));
	assert_int_equal(strlen(k->secret_key), STORE_SECRET_KEY_LEN);
	assert_true(all_alnum(k->secret_key, STORE_SECRET_KEY_LEN));
}

static void assert_tenant_format(const struct store_tenant *t, const char *name)
{
	assert_true(t->id > 0);
	assert_string_equal(t->name, name);
	assert_true(t->app_id >= 1250000000LL && t->app_id <= 1259999999LL);
	assert_int_equal(strlen(t->uin), 12);
	assert_true(t->uin[0] >= '1' && t->uin[0] <= '9');
	for (int i = 0; i < 12; i++)
		assert_true(isdigit((unsigned char)t->uin[i]));
	assert_true(t->created > 1600000000);
}

static void make_row(struct store_request_log *r, const char *action, int64_t tenant,
		     int64_t ts_ms, const char *code)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->request_id, sizeof(r->request_id), "00000000-0000-4000-8000-%012llu",
		 (unsigned long long)ts_ms % 1000000000000ULL);
	snprintf(r->action, sizeof(r->action), "%s", action);
	snprintf(r->code, sizeof(r->code), "%s", code);
	snprintf(r->client_ip, sizeof(r->client_ip), "127.0.0.1");
	r->tenant_id = tenant;
	r->ts_ms = ts_ms;
	r->latency_us = 1234;
}

/* Run one integer-valued query on the file directly (checks the schema). */
static int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_open_twice(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_tenant t;
	struct err e = { 0 };
	int64_t n = -1;

	assert_true(store_schema_latest() >= 1);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	assert_int_equal(store_tenant_create(s, "alice", &t, NULL, &e), 0);
	store_close(s);

	s = open_ok(f);
	assert_int_equal(store_schema_version(s), store_schema_latest());
	assert_int_equal(store_tenant_count(s, &n, &e), 0);
	assert_int_equal(n, 1);
	store_close(s);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), store_schema_latest());
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
					  " AND name IN ('tenants', 'api_keys', 'request_log')"), 3);
	store_close(NULL);
}

static void test_pragmas(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);

	/* journal_mode is persistent: any connection sees WAL. */
	assert_int_equal(sql_int(f->path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
	store_close(s);
}

static void test_file_mode(void **state)
{
	struct fixture *f = *state;
	mode_t old = umask(0);
	struct store *s = open_ok(f);
	struct store_tenant t;
	struct err e = { 0 };
	struct stat st;
	char wal[PATH_MAX + 8];

	umask(old);
	assert_int_equal(store_tenant_create(s, "modecheck", &t, NULL, &e), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	store_close(s);
}

static void test_open_failures(void **state)
{
	struct fixture *f = *state;
	struct store *s = (struct store *)1;
	struct err e = { 0 };
	char missing[PATH_MAX + 32];

	snprintf(missing, sizeof(missing), "%s/no/such/dir.db", f->dir);
	assert_int_equal(store_open(&s, missing, &e), -1);
	assert_null(s);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);

	assert_int_equal(store_open(&s, "", &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);

	/* A schema from a newer binary is refused, not downgraded. */
	s = open_ok(f);
	store_close(s);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version = 999"), -1);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 999);
	err_clear(&e);
	assert_int_equal(store_open(&s, f->path, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);
	assert_string_equal(e.msg, "");
}

static void test_tenant_create(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_tenant a, b, found;
	struct store_key ka, kb;
	struct err e = { 0 };
	int64_t n = -1;

	assert_int_equal(store_tenant_count(s, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_tenant_create(s, "alice", &a, &ka, &e), 0);
	assert_tenant_format(&a, "alice");
	assert_key_format(&ka);
	assert_int_equal(store_tenant_create(s, "bob.B_2-x", &b, &kb, &e), 0);
	assert_tenant_format(&b, "bob.B_2-x");
	assert_key_format(&kb);
	assert_true(a.id != b.id);
	assert_true(a.app_id != b.app_id);
	assert_string_not_equal(a.uin, b.uin);
	assert_string_not_equal(ka.secret_id, kb.secret_id);
	assert_string_not_equal(ka.secret_key, kb.secret_key);

	assert_int_equal(store_tenant_count(s, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_tenant_find_by_name(s, "bob.B_2-x", &found, &e), 0);
	assert_int_equal(found.id, b.id);
	assert_int_equal(found.app_id, b.app_id);
	assert_string_equal(found.uin, b.uin);
	assert_int_equal(found.created, b.created);
	assert_int_equal(store_tenant_find_by_name(s, "carol", &found, &e), -1);
	assert_int_equal(e.code, ERR_RESOURCE_NOT_FOUND);
	assert_int_equal(store_tenant_find_by_name(s, "bad name", &found, &e), -1);
	assert_int_equal(e.code, ERR_RESOURCE_NOT_FOUND);
	store_close(s);
}

static void test_tenant_duplicate(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_tenant t;
	struct store_key k;
	struct err e = { 0 };
	int64_t n = -1;

	assert_int_equal(store_tenant_create(s, "dup", &t, &k, &e), 0);
	assert_int_equal(store_tenant_create(s, "dup", &t, &k, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	assert_non_null(strstr(e.msg, "dup"));
	assert_int_equal(store_tenant_count(s, &n, &e), 0);
	assert_int_equal(n, 1);
	/* The failed attempt left no orphan key behind. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM api_keys"), 1);
	/* Names are case-sensitive identifiers. */
	assert_int_equal(store_tenant_create(s, "DUP", &t, &k, &e), 0);
	store_close(s);
}

static void test_tenant_bad_names(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	static const char *const bad[] = {
		"", "a b", "a/b", "a;DROP TABLE tenants", "caf\xc3\xa9", "tab\t", "quote'",
		"x\ny", "semi;", "percent%s",
		"1234567890123456789012345678901234567890123456789012345678901234", /* 64 */
	};
	char longest[STORE_TENANT_NAME_MAX + 1];
	struct store_tenant t;
	struct err e = { 0 };
	int64_t n = -1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		assert_int_equal(store_tenant_create(s, bad[i], &t, NULL, &e), -1);
		assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	}
	assert_int_equal(store_tenant_create(s, NULL, &t, NULL, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	assert_int_equal(store_tenant_count(s, &n, &e), 0);
	assert_int_equal(n, 0);

	memset(longest, 'z', STORE_TENANT_NAME_MAX);
	longest[STORE_TENANT_NAME_MAX] = '\0';
	assert_int_equal(store_tenant_create(s, longest, &t, NULL, &e), 0);
	assert_string_equal(t.name, longest);
	assert_int_equal(store_tenant_create(s, "a", &t, NULL, &e), 0);
	store_close(s);
}

static void test_key_lookup(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_tenant t, got;
	struct store_key k, kgot;
	struct err e = { 0 };
	char longer[STORE_SECRET_ID_LEN + 2];

	assert_int_equal(store_tenant_create(s, "keys", &t, &k, &e), 0);
	assert_int_equal(store_key_lookup(s, k.secret_id, &got, &kgot, &e), 0);
	assert_int_equal(got.id, t.id);
	assert_int_equal(got.app_id, t.app_id);
	assert_string_equal(got.uin, t.uin);
	assert_string_equal(got.name, "keys");
	assert_string_equal(kgot.secret_id, k.secret_id);
	assert_string_equal(kgot.secret_key, k.secret_key);

	static const char *const misses[] = { "AKIDnotthere", "", "' OR 1=1 --",
					      "akid" /* prefix */ };
	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
		err_clear(&e);
		assert_int_equal(store_key_lookup(s, misses[i], &got, &kgot, &e), -1);
		assert_int_equal(e.code, ERR_AUTH_FAILURE_SECRET_ID_NOT_FOUND);
	}
	assert_int_equal(store_key_lookup(s, NULL, &got, &kgot, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SECRET_ID_NOT_FOUND);
	/* The right id with one extra character is a different id. */
	snprintf(longer, sizeof(longer), "%sX", k.secret_id);
	assert_int_equal(store_key_lookup(s, longer, &got, &kgot, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SECRET_ID_NOT_FOUND);

	/* A disabled key stops authenticating; enabling restores it. */
	assert_int_equal(store_key_set_enabled(s, k.secret_id, 0, &e), 0);
	assert_int_equal(store_key_lookup(s, k.secret_id, &got, &kgot, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SECRET_ID_NOT_FOUND);
	assert_int_equal(store_key_set_enabled(s, k.secret_id, 1, &e), 0);
	assert_int_equal(store_key_lookup(s, k.secret_id, &got, &kgot, &e), 0);
	assert_int_equal(store_key_set_enabled(s, "AKIDnotthere", 0, &e), -1);
	assert_int_equal(e.code, ERR_RESOURCE_NOT_FOUND);
	store_close(s);
}

static void test_key_limit(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_tenant t, other, got;
	struct store_key k1, k2, k3, kgot;
	struct err e = { 0 };

	assert_int_equal(store_tenant_create(s, "two", &t, &k1, &e), 0);
	assert_int_equal(store_tenant_create(s, "other", &other, NULL, &e), 0);
	assert_int_equal(store_key_create(s, t.id, &k2, &e), 0);
	assert_key_format(&k2);
	assert_string_not_equal(k1.secret_id, k2.secret_id);
	assert_int_equal(store_key_lookup(s, k2.secret_id, &got, &kgot, &e), 0);
	assert_int_equal(got.id, t.id);
	assert_string_equal(kgot.secret_key, k2.secret_key);
	assert_int_equal(store_key_lookup(s, k1.secret_id, &got, &kgot, &e), 0);
	assert_int_equal(got.id, t.id);

	assert_int_equal(store_key_create(s, t.id, &k3, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT_EXCEEDED);
	/* A disabled key still counts, as in the cloud. */
	assert_int_equal(store_key_set_enabled(s, k2.secret_id, 0, &e), 0);
	assert_int_equal(store_key_create(s, t.id, &k3, &e), -1);
	assert_int_equal(e.code, ERR_LIMIT_EXCEEDED);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM api_keys"), 3);

	assert_int_equal(store_key_create(s, other.id, &k3, &e), 0);
	assert_int_equal(store_key_create(s, 424242, &k3, &e), -1);
	assert_int_equal(e.code, ERR_RESOURCE_NOT_FOUND);
	store_close(s);
}

static void test_request_log(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_request_log rows[5];
	struct store_tenant t;
	struct err e = { 0 };
	int64_t n = -1;

	assert_int_equal(store_tenant_create(s, "logger", &t, NULL, &e), 0);
	make_row(&rows[0], "DescribeDBInstances", t.id, 1000, "");
	make_row(&rows[1], "DescribeDBInstances", t.id, 2000, "");
	make_row(&rows[2], "CreateInstances", t.id, 3000, "InvalidParameterValue");
	make_row(&rows[3], "DescribeRegions", 0, 4000, "AuthFailure.SecretIdNotFound");
	make_row(&rows[4], "DescribeDBInstances", t.id, 5000, "");
	/* Unterminated strings are read only up to their array size. */
	memset(rows[4].client_ip, '9', sizeof(rows[4].client_ip));

	assert_int_equal(store_request_log_append(s, rows, 0, &e), 0);
	assert_int_equal(store_request_log_append(s, rows, 5, &e), 0);
	assert_int_equal(store_request_log_count(s, NULL, &n, &e), 0);
	assert_int_equal(n, 5);
	assert_int_equal(store_request_log_count(s, "DescribeDBInstances", &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_request_log_count(s, "NoSuchAction", &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM request_log WHERE tenant_id IS NULL"),
			 1);
	assert_int_equal(sql_int(f->path, "SELECT max(length(client_ip)) FROM request_log"), 48);

	assert_int_equal(store_request_log_prune(s, 3000, &e), 0);
	assert_int_equal(store_request_log_count(s, NULL, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_request_log_count(s, "DescribeDBInstances", &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_request_log_prune(s, 0, &e), 0);
	assert_int_equal(store_request_log_count(s, NULL, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(store_request_log_prune(s, INT64_MAX, &e), 0);
	assert_int_equal(store_request_log_count(s, NULL, &n, &e), 0);
	assert_int_equal(n, 0);
	store_close(s);
}

struct worker {
	pthread_t thread;
	struct store *s;
	int index;
	const struct store_key *key;
	int64_t tenant_id;
	atomic_int *failures;
};

/* Appends and lookups; any unexpected result counts as a failure (cmocka's
 * asserts are for the main thread only). */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct store_request_log row;
	struct store_tenant t;
	struct store_key k;
	struct err e;
	char action[32];
	int64_t n;

	snprintf(action, sizeof(action), "Thread%d", w->index);
	for (int i = 0; i < TEST_THREAD_ITERS; i++) {
		make_row(&row, action, w->tenant_id, (int64_t)w->index * 100000 + i, "");
		if (store_request_log_append(w->s, &row, 1, &e) != 0)
			atomic_fetch_add(w->failures, 1);
		if (store_key_lookup(w->s, w->key->secret_id, &t, &k, &e) != 0 ||
		    t.id != w->tenant_id || strcmp(k.secret_key, w->key->secret_key) != 0)
			atomic_fetch_add(w->failures, 1);
		if (i % 50 == 0 && store_request_log_count(w->s, action, &n, &e) != 0)
			atomic_fetch_add(w->failures, 1);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct worker w[TEST_THREADS];
	struct store_tenant t;
	struct store_key k;
	struct err e = { 0 };
	atomic_int failures = 0;
	char action[32];
	int64_t n = -1;

	assert_int_equal(store_tenant_create(s, "threads", &t, &k, &e), 0);
	for (int i = 0; i < TEST_THREADS; i++) {
		w[i] = (struct worker){ .s = s, .index = i, .key = &k, .tenant_id = t.id,
					.failures = &failures };
		assert_int_equal(pthread_create(&w[i].thread, NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < TEST_THREADS; i++)
		pthread_join(w[i].thread, NULL);
	assert_int_equal(atomic_load(&failures), 0);
	assert_int_equal(store_request_log_count(s, NULL, &n, &e), 0);
	assert_int_equal(n, TEST_THREADS * TEST_THREAD_ITERS);
	for (int i = 0; i < TEST_THREADS; i++) {
		snprintf(action, sizeof(action), "Thread%d", i);
		assert_int_equal(store_request_log_count(s, action, &n, &e), 0);
		assert_int_equal(n, TEST_THREAD_ITERS);
	}
	store_close(s);
}

/* What a second connection (or process) writes: tenants and log batches. */
static int writer_work(struct store *s)
{
	struct store_request_log rows[TEST_BATCH];
	struct store_tenant t;
	struct err e;
	char name[32];

	for (int i = 0; i < TEST_WRITER_TENANTS; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		if (store_tenant_create(s, name, &t, NULL, &e) != 0)
			return -1;
	}
	for (int b = 0; b < TEST_WRITER_BATCHES; b++) {
		for (int i = 0; i < TEST_BATCH; i++)
			make_row(&rows[i], "Writer", t.id, b * TEST_BATCH + i, "");
		if (store_request_log_append(s, rows, TEST_BATCH, &e) != 0)
			return -1;
	}
	return 0;
}

struct writer {
	struct store *s;
	atomic_int done;
	int rc;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;

	w->rc = writer_work(w->s);
	atomic_store(&w->done, 1);
	return NULL;
}

/* Read through `s` while the other side writes: lookups must succeed and
 * counts never go backwards. Returns the number of failed reads. */
static int reader_pass(struct store *s, const struct store_key *k, int64_t *last_tenants,
		       int write_too)
{
	struct store_request_log row;
	struct store_tenant t = { 0 };
	struct store_key got;
	struct err e;
	int64_t n;
	int bad = 0;

	if (store_key_lookup(s, k->secret_id, &t, &got, &e) != 0)
		bad++;
	if (store_tenant_count(s, &n, &e) != 0 || n < *last_tenants)
		bad++;
	else
		*last_tenants = n;
	make_row(&row, "Reader", t.id, 1, "");
	if (write_too && store_request_log_append(s, &row, 1, &e) != 0)
		bad++;
	return bad;
}

static void test_two_connections(void **state)
{
	struct fixture *f = *state;
	struct store *s1 = open_ok(f);
	struct store *s2 = open_ok(f);
	struct writer w = { .s = s2 };
	struct store_tenant t;
	struct store_key k;
	struct err e = { 0 };
	pthread_t th;
	int64_t tenants = 0, n = -1;
	int bad = 0, passes = 0;

	assert_int_equal(store_tenant_create(s1, "reader", &t, &k, &e), 0);
	assert_int_equal(pthread_create(&th, NULL, writer_run, &w), 0);
	while (!atomic_load(&w.done)) {
		bad += reader_pass(s1, &k, &tenants, passes % TEST_READER_WRITE_EVERY == 0);
		passes++;
	}
	pthread_join(th, NULL);
	print_message("%d read passes while the other connection wrote\n", passes);
	assert_int_equal(w.rc, 0);
	assert_int_equal(bad, 0);

	/* s1 sees everything s2 committed. */
	assert_int_equal(store_tenant_count(s1, &n, &e), 0);
	assert_int_equal(n, 1 + TEST_WRITER_TENANTS);
	assert_int_equal(store_tenant_find_by_name(s1, "w19", &t, &e), 0);
	assert_int_equal(store_request_log_count(s1, "Writer", &n, &e), 0);
	assert_int_equal(n, TEST_WRITER_BATCHES * TEST_BATCH);
	assert_int_equal(store_request_log_count(s2, "Reader", &n, &e), 0);
	assert_int_equal(n, (passes + TEST_READER_WRITE_EVERY - 1) / TEST_READER_WRITE_EVERY);
	store_close(s2);
	store_close(s1);
}

/* A real second process (as `pgfleetd tenant-create` is) writing while we
 * read. The child opens its own connection: SQLite connections must not
 * cross fork(), so none is open when we fork. */
static void test_other_process(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f);
	struct store_tenant t;
	struct store_key k;
	struct err e = { 0 };
	int64_t tenants = 0, n = -1;
	int bad = 0, passes = 0, status = -1;
	pid_t pid;

	assert_int_equal(store_tenant_create(s, "parent", &t, &k, &e), 0);
	store_close(s);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		int rc = store_open(&cs, f->path, &e) == 0 ? writer_work(cs) : -1;

		store_close(cs);
		_exit(rc == 0 ? 0 : 1);
	}
	s = open_ok(f);
	while (waitpid(pid, &status, WNOHANG) == 0)
		bad += reader_pass(s, &k, &tenants, passes++ % TEST_READER_WRITE_EVERY == 0);
	print_message("%d read passes while the other process wrote\n", passes);
	assert_int_equal(bad, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(store_tenant_count(s, &n, &e), 0);
	assert_int_equal(n, 1 + TEST_WRITER_TENANTS);
	assert_int_equal(store_request_log_count(s, "Writer", &n, &e), 0);
	assert_int_equal(n, TEST_WRITER_BATCHES * TEST_BATCH);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)
		T(test_open_twice),      T(test_pragmas),       T(test_file_mode),
		T(test_open_failures),   T(test_tenant_create), T(test_tenant_duplicate),
		T(test_tenant_bad_names), T(test_key_lookup),   T(test_key_limit),
		T(test_request_log),     T(test_threads),       T(test_two_connections),
		T(test_other_process),
#undef T
	};

	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
