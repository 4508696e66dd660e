/*
 * test_pgparams.c - the parameter catalog: the policy lists (no overlap,
 * the settings that must stay reserved are), a synthetic extraction (value
 * lists, configured defaults, what is changeable), the real catalog of
 * /usr/lib/postgresql/15/bin (extracted once, then read from its cache:
 * real enum values, units, contexts, every rule present), tenant values
 * (canonical forms, units refused, injection attempts refused, ranges and
 * spec caps), configuration-file conversions, the preflight with
 * `postgres -C`, and ALTER SYSTEM on a running node (lists quoted item by
 * item, defaults read back, postgresql.auto.conf restored).
 *
 * The real-server tests are skipped with a message when PostgreSQL 15 is
 * not installed. Everything lives under a 0711 temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pg/pgnode.h"
#include "pg/pgparams.h"
#include "pg/pgparams_int.h"
#include "pg/pgsql.h"
#include "pg/spawn.h"

#define TEST_BIN_DIR "/usr/lib/postgresql/15/bin"
#define TEST_VERSION "15.99"

static struct {
	char root[128], cache[256], templates[256];
	struct pgnode_user user;
	struct pgparams_env env;
	const struct pgparams_catalog *cat;
	bool have_pg;
} g;

static const struct pgnode_conf spec_1g = { .memory_mb = 1024, .cpu = 2, .storage_gb = 10 };

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* rm -rf through the spawn module (the tree belongs to the node user). */
static void remove_tree(const char *path)
{
	const char *const argv[] = { "/bin/rm", "-rf", path, NULL };
	struct spawn_opts o = { .argv = argv };
	struct spawn_result r;
	struct err e;

	spawn_run(&o, &r, &e);
	spawn_result_free(&r);
}

static int group_setup(void **state)
{
	struct err e;

	snprintf(g.root, sizeof(g.root), "/tmp/pgparams-test-XXXXXX");
	if (mkdtemp(g.root) == NULL || chmod(g.root, 0711) < 0)
		return -1;
	snprintf(g.cache, sizeof(g.cache), "%s/paramcat", g.root);
	snprintf(g.templates, sizeof(g.templates), "%s/templates", g.root);
	if (pgnode_user_ensure(&g.user, &e) < 0) {
		fprintf(stderr, "user: %s\n", e.msg);
		return -1;
	}
	g.env = (struct pgparams_env){ g.cache, g.templates, &g.user };
	g.have_pg = access(TEST_BIN_DIR "/postgres", X_OK) == 0;
	if (!g.have_pg)
		return 0;
	if (pgnode_template_ensure(g.templates, TEST_BIN_DIR, "UTF8", &g.user, (char[PATH_MAX]){ 0 }, PATH_MAX,
				   &e) < 0) {
		fprintf(stderr, "template: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	pgparams_catalogs_free();
	pgnode_reap_children();
	remove_tree(g.root);
	return 0;
}

#define NEED_PG()                                                                                      \
	do {                                                                                           \
		if (!g.have_pg) {                                                                      \
			print_message("skipped: %s/postgres not installed\n", TEST_BIN_DIR);           \
			skip();                                                                        \
		}                                                                                      \
	} while (0)

static const struct pgparams_catalog *real_catalog(void)
{
	struct err e;

	if (g.cat == NULL) {
		int rc = pgparams_catalog_get(&g.env, TEST_BIN_DIR, TEST_VERSION, &g.cat, &e);
		if (rc != 0)
			fail_msg("catalog: %s", e.msg);
	}
	return g.cat;
}

/* ---- policy --------------------------------------------------------------- */

static void test_policy_lists(void **state)
{
	static const char *const must_reserve[] = {
		"data_directory", "listen_addresses", "port", "archive_command", "archive_library", "hba_file",
		"ssl_cert_file", "ssl_key_file", "ssl", "restore_command", "default_transaction_read_only",
		"log_line_prefix", "log_timezone", "log_destination", "log_directory", "logging_collector", "fsync",
		"full_page_writes", "unix_socket_directories", "session_preload_libraries", "dynamic_library_path",
		"superuser_reserved_connections", "password_encryption", "primary_conninfo", NULL,
	};
	static const char *const logs[] = { "log_min_duration_statement", "log_statement", "log_min_messages",
					    "log_connections", "log_disconnections", "log_lock_waits",
					    "log_temp_files", "log_checkpoints", "log_autovacuum_min_duration", NULL };

	for (size_t i = 0; i < pgparams_nrules; i++) {
		const char *name = pgparams_rules[i].name;
		size_t at;
		if (pgparams_reserved_find(name) != NULL)
			fail_msg("%s is both changeable and reserved", name);
		assert_ptr_equal(pgparams_rule_find(name, &at), &pgparams_rules[i]);
		assert_int_equal(at, i); /* no duplicates: the first row with the name is this one */
		assert_true(pgparams_rules[i].desc_cn[0] != '\0');
	}
	for (size_t i = 0; must_reserve[i] != NULL; i++) {
		if (pgparams_reserved_find(must_reserve[i]) == NULL)
			fail_msg("%s must be reserved", must_reserve[i]);
		assert_null(pgparams_rule_find(must_reserve[i], NULL));
	}
	for (size_t i = 0; logs[i] != NULL; i++)
		assert_non_null(pgparams_rule_find(logs[i], NULL));
	assert_non_null(pgparams_rule_find("SHARED_BUFFERS", NULL)); /* case-insensitive, as PostgreSQL */
	assert_string_equal(pgparams_category_cn("Resource Usage / Memory"), "资源使用");
	assert_string_equal(pgparams_category_cn("Autovacuum"), "自动清理");
	assert_string_equal(pgparams_category_cn("Nonsense"), "");
}

/* ---- a synthetic extraction ----------------------------------------------- */

static json_t *synthetic(void)
{
	json_error_t je;
	json_t *j = json_loads(
		"{\"settings\": ["
		"{\"name\": \"wal_level\", \"setting\": \"replica\", \"unit\": \"\", \"category\": \"Write-Ahead Log / Settings\","
		" \"short_desc\": \"Sets the level.\", \"context\": \"postmaster\", \"vartype\": \"enum\", \"min_val\": null,"
		" \"max_val\": null, \"enumvals\": [\"minimal\", \"replica\", \"logical\"], \"boot_val\": \"replica\"},"
		"{\"name\": \"shared_buffers\", \"setting\": \"16384\", \"unit\": \"8kB\", \"category\": \"Resource Usage / Memory\","
		" \"short_desc\": \"Sets shared memory.\", \"context\": \"postmaster\", \"vartype\": \"integer\", \"min_val\": \"16\","
		" \"max_val\": \"1073741823\", \"enumvals\": null, \"boot_val\": \"1024\"},"
		"{\"name\": \"port\", \"setting\": \"5432\", \"unit\": \"\", \"category\": \"Connections\","
		" \"short_desc\": \"Port.\", \"context\": \"postmaster\", \"vartype\": \"integer\", \"min_val\": \"1\","
		" \"max_val\": \"65535\", \"enumvals\": null, \"boot_val\": \"5432\"},"
		"{\"name\": \"TimeZone\", \"setting\": \"UTC\", \"unit\": \"\", \"category\": \"Client Connection Defaults\","
		" \"short_desc\": \"Time zone.\", \"context\": \"user\", \"vartype\": \"string\", \"min_val\": null,"
		" \"max_val\": null, \"enumvals\": null, \"boot_val\": \"GMT\"},"
		"{\"name\": \"search_path\", \"setting\": \"x\", \"unit\": \"\", \"category\": \"Client Connection Defaults\","
		" \"short_desc\": \"Path.\", \"context\": \"user\", \"vartype\": \"string\", \"min_val\": null,"
		" \"max_val\": null, \"enumvals\": null, \"boot_val\": \"x\"},"
		"{\"name\": \"lc_messages\", \"setting\": \"C\", \"unit\": \"\", \"category\": \"Client Connection Defaults\","
		" \"short_desc\": \"Messages.\", \"context\": \"superuser\", \"vartype\": \"string\", \"min_val\": null,"
		" \"max_val\": null, \"enumvals\": null, \"boot_val\": \"\"}],"
		"\"files\": [{\"name\": \"shared_buffers\", \"setting\": \"128MB\", \"file\": \"/d/postgresql.conf\"},"
		" {\"name\": \"shared_buffers\", \"setting\": \"256MB\", \"file\": \"/d/pgfleet.conf\"},"
		" {\"name\": \"shared_buffers\", \"setting\": \"1GB\", \"file\": \"/d/postgresql.auto.conf\"},"
		" {\"name\": \"lc_messages\", \"setting\": \"C.UTF-8\", \"file\": \"/d/postgresql.conf\"}],"
		"\"timezones\": [\"UTC\", \"Asia/Shanghai\"], \"locales\": [\"C\", \"POSIX\"], \"tsconfigs\": [],"
		"\"libraries\": []}",
		0, &je);

	assert_non_null(j);
	return j;
}

static void test_build_synthetic(void **state)
{
	struct pgparams_catalog *c;
	const struct pgparams_def *d;
	struct err e;

	assert_int_equal(pgparams_catalog_build(synthetic(), &c, &e), 0);
	assert_int_equal(c->ndefs, 6);
	d = pgparams_find(c, "WAL_LEVEL");
	assert_non_null(d);
	assert_int_equal(d->kind, PGPARAMS_K_ENUM);
	assert_int_equal(d->nvalues, 2); /* the policy keeps replica and logical only */
	assert_string_equal(d->values[0], "replica");
	assert_string_equal(d->values[1], "logical");
	assert_true(d->id > 0);
	d = pgparams_find(c, "shared_buffers");
	assert_int_equal(d->kind, PGPARAMS_K_INTEGER);
	assert_string_equal(d->file_default, "32768"); /* pgfleet.conf's 256MB; auto.conf ignored */
	assert_true(d->flags & PGPARAMS_F_SPEC);
	assert_string_equal(d->unit, "8kB");
	d = pgparams_find(c, "port");
	assert_int_equal(d->kind, PGPARAMS_K_NONE);
	assert_int_equal(d->id, 0);
	d = pgparams_find(c, "timezone");
	assert_string_equal(d->name, "TimeZone");
	assert_int_equal(d->kind, PGPARAMS_K_ENUM);
	assert_int_equal(d->nvalues, 2);
	assert_int_equal(pgparams_find(c, "search_path")->kind, PGPARAMS_K_NONE); /* free text: not exposed */
	d = pgparams_find(c, "lc_messages");
	assert_int_equal(d->nvalues, 3); /* C, POSIX and the configured C.UTF-8 */
	assert_null(pgparams_find(c, "nonexistent"));
	pgparams_catalog_free(c);
	/* malformed extractions are refused, never half-built */
	assert_int_equal(pgparams_catalog_build(json_loads("{\"settings\": []}", 0, NULL), &c, &e), -1);
	assert_int_equal(pgparams_catalog_build(json_loads("[1]", 0, NULL), &c, &e), -1);
	assert_null(c);
}

/* ---- the real catalog ----------------------------------------------------- */

static void assert_values(const struct pgparams_def *d, const char *const *want)
{
	size_t n = 0;

	for (; want[n] != NULL; n++)
		if (n >= d->nvalues || strcmp(d->values[n], want[n]) != 0)
			fail_msg("%s: value %zu is %s, want %s", d->name, n, n < d->nvalues ? d->values[n] : "(none)",
				 want[n]);
	assert_int_equal(d->nvalues, n);
}

static void test_real_catalog(void **state)
{
	const struct pgparams_catalog *c, *again;
	const struct pgparams_def *d;
	struct err e;
	double t0, t1;

	NEED_PG();
	t0 = now_ms();
	c = real_catalog();
	t1 = now_ms();
	printf("TIMING catalog extraction: %.0f ms, %zu settings\n", t1 - t0, c->ndefs);
	assert_true(c->ndefs > 300);
	for (size_t i = 0; i < pgparams_nrules; i++) {
		d = pgparams_find(c, pgparams_rules[i].name);
		if (d == NULL)
			fail_msg("rule %s names no setting of PostgreSQL 15", pgparams_rules[i].name);
		if (d->kind == PGPARAMS_K_NONE)
			fail_msg("rule %s gives no changeable kind", d->name);
		if ((d->kind == PGPARAMS_K_ENUM || d->kind == PGPARAMS_K_MULTI) && d->nvalues == 0)
			fail_msg("%s has no values", d->name);
	}
	d = pgparams_find(c, "shared_buffers");
	assert_string_equal(d->unit, "8kB");
	assert_int_equal(d->context, PGPARAMS_C_POSTMASTER);
	assert_string_equal(d->file_default, "32768"); /* pgfleet.conf: 1024 MB / 4 */
	assert_values(pgparams_find(c, "log_statement"), (const char *const[]){ "none", "ddl", "mod", "all", NULL });
	assert_values(pgparams_find(c, "wal_level"), (const char *const[]){ "replica", "logical", NULL });
	assert_string_equal(pgparams_find(c, "log_checkpoints")->file_default, "on");
	assert_string_equal(pgparams_find(c, "log_min_duration_statement")->unit, "ms");
	assert_int_equal(pgparams_find(c, "shared_preload_libraries")->kind, PGPARAMS_K_MULTI);
	assert_non_null(pgparams_find(c, "pg_stat_statements.max")); /* extension settings are there */
	assert_int_equal(pgparams_find(c, "port")->kind, PGPARAMS_K_NONE);
	assert_int_equal(pgparams_find(c, "block_size")->context, PGPARAMS_C_INTERNAL);
	d = pgparams_find(c, "TimeZone");
	assert_true(d->nvalues > 300);
	/* cached in memory, then on disk */
	assert_int_equal(pgparams_catalog_get(&g.env, TEST_BIN_DIR, TEST_VERSION, &again, &e), 0);
	assert_ptr_equal(again, c);
	pgparams_catalogs_free();
	g.cat = NULL;
	t0 = now_ms();
	c = real_catalog();
	printf("TIMING catalog from its cache file: %.1f ms\n", now_ms() - t0);
	assert_string_equal(pgparams_find(c, "shared_buffers")->file_default, "32768");
}

/* ---- values --------------------------------------------------------------- */

static void expect_ok(const char *name, const char *value, const struct pgnode_conf *spec, const char *want)
{
	char out[PGPARAMS_VALUE_MAX + 1];
	const struct pgparams_def *d;
	struct err e;

	if (pgparams_check(real_catalog(), name, value, spec, &d, out, sizeof(out), &e) != 0)
		fail_msg("%s = %s refused: %s", name, value, e.msg);
	if (strcmp(out, want) != 0)
		fail_msg("%s = %s became %s, want %s", name, value, out, want);
}

static void expect_bad(const char *name, const char *value, const struct pgnode_conf *spec, enum err_code code)
{
	char out[PGPARAMS_VALUE_MAX + 1];
	const struct pgparams_def *d;
	struct err e;

	if (pgparams_check(real_catalog(), name, value, spec, &d, out, sizeof(out), &e) == 0)
		fail_msg("%s = %s accepted as %s", name, value, out);
	if (e.code != code)
		fail_msg("%s = %s: got %s (%s), want %s", name, value, err_code_name(e.code), e.msg, err_code_name(code));
}

static void test_values(void **state)
{
	const enum err_code bad = ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR;
	const enum err_code range = ERR_INVALID_PARAMETER_VALUE_PARAMETER_OUT_OF_RANGE_ERROR;
	const enum err_code denied = ERR_OPERATION_DENIED_CAM_DENIED_ERROR;

	NEED_PG();
	expect_ok("shared_buffers", "8192", &spec_1g, "8192");
	expect_ok("SHARED_BUFFERS", "00016", NULL, "16");
	expect_ok("log_min_duration_statement", "-1", &spec_1g, "-1");
	expect_ok("log_min_duration_statement", "250", &spec_1g, "250");
	expect_ok("autovacuum", "TRUE", NULL, "on");
	expect_ok("autovacuum", "0", NULL, "off");
	expect_ok("log_statement", "DDL", NULL, "ddl");
	expect_ok("timezone", "asia/shanghai", NULL, "Asia/Shanghai");
	expect_ok("DateStyle", "iso, dmy", NULL, "ISO, DMY");
	expect_ok("random_page_cost", "1.50", NULL, "1.5");
	expect_ok("random_page_cost", "1e2", NULL, "100");
	expect_ok("random_page_cost", ".25", NULL, "0.25");
	expect_ok("checkpoint_completion_target", "0.9", NULL, "0.9");
	expect_ok("shared_preload_libraries", "pg_stat_statements, AUTO_EXPLAIN", NULL, "pg_stat_statements,auto_explain");
	/* units, signs, spaces, other notations: refused */
	expect_bad("shared_buffers", "8GB", NULL, bad);
	expect_bad("shared_buffers", "8192kB", NULL, bad);
	expect_bad("shared_buffers", " 8192", NULL, bad);
	expect_bad("shared_buffers", "+8192", NULL, bad);
	expect_bad("shared_buffers", "0x100", NULL, bad);
	expect_bad("shared_buffers", "1e4", NULL, bad);
	expect_bad("shared_buffers", "", NULL, bad);
	expect_bad("shared_buffers", "99999999999999999999999", NULL, bad);
	expect_bad("random_page_cost", "1e999", NULL, bad);
	expect_bad("random_page_cost", "nan", NULL, bad);
	expect_bad("autovacuum", "maybe", NULL, bad);
	/* configuration-line injection */
	expect_bad("log_statement", "all\nlisten_addresses = '*'", NULL, bad);
	expect_bad("log_statement", "all' #", NULL, bad);
	expect_bad("log_statement", "all # comment", NULL, bad);
	expect_bad("timezone", "UTC'\ninclude '/etc/passwd", NULL, bad);
	expect_bad("DateStyle", "ISO, MDY\r", NULL, bad);
	expect_bad("shared_preload_libraries", "pg_stat_statements,/tmp/evil", NULL, bad);
	expect_bad("shared_preload_libraries", "pg_stat_statements,pg_stat_statements", NULL, bad);
	expect_bad("shared_preload_libraries", "pg_stat_statements,", NULL, bad);
	expect_bad("shared_preload_libraries", "", NULL, bad); /* ALTER SYSTEM would store '""' */
	expect_bad("work_mem", "64\t", NULL, bad);
	expect_bad("wal_level", "minimal", NULL, bad); /* a real value the policy does not offer */
	/* ranges: the server's, the policy's, the spec's */
	expect_bad("work_mem", "10", NULL, range);
	expect_bad("max_connections", "10", NULL, range);
	expect_ok("shared_buffers", "98304", &spec_1g, "98304"); /* 3/4 of 1 GB */
	expect_bad("shared_buffers", "98305", &spec_1g, range);
	expect_ok("shared_buffers", "98305", NULL, "98305");      /* no spec (templates): server range */
	expect_bad("max_connections", "100000", &spec_1g, range);
	expect_ok("max_connections", "512", &spec_1g, "512");
	expect_bad("max_connections", "513", &spec_1g, range);
	/* names */
	expect_bad("no_such_parameter", "1", NULL, bad);
	expect_bad("shared_buffers\n", "1", NULL, bad);
	expect_bad("port", "5433", NULL, denied);
	expect_bad("data_directory", "/tmp", NULL, denied);
	expect_bad("archive_command", "/bin/true", NULL, denied);
	expect_bad("default_transaction_read_only", "off", NULL, denied);
	expect_bad("block_size", "8192", NULL, denied);
	expect_bad("search_path", "public", NULL, denied);
}

static void test_ranges_and_defaults(void **state)
{
	const struct pgparams_catalog *c;
	double min, max;
	char buf[64];

	NEED_PG();
	c = real_catalog();
	pgparams_range(pgparams_find(c, "shared_buffers"), &spec_1g, &min, &max);
	assert_true(min == 16 && max == 98304);
	pgparams_range(pgparams_find(c, "max_wal_size"), &spec_1g, &min, &max);
	assert_true(max == 5120); /* half of 10 GB, in MB */
	pgparams_range(pgparams_find(c, "max_worker_processes"), &spec_1g, &min, &max);
	assert_true(max == 8);
	pgparams_range(pgparams_find(c, "autovacuum"), &spec_1g, &min, &max);
	assert_true(min == 0 && max == 0);
	assert_int_equal(pgparams_spec_default(pgparams_find(c, "shared_buffers"), &spec_1g, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "32768");
	assert_int_equal(pgparams_spec_default(pgparams_find(c, "max_connections"), &spec_1g, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "64");
	assert_int_equal(pgparams_spec_default(pgparams_find(c, "autovacuum"), &spec_1g, buf, sizeof(buf)), -1);
}

static void expect_base(const char *name, const char *text, const char *want)
{
	char out[PGPARAMS_VALUE_MAX + 1];

	if (pgparams_to_base(pgparams_find(real_catalog(), name), text, out, sizeof(out)) != 0)
		fail_msg("%s = %s does not convert", name, text);
	if (strcmp(out, want) != 0)
		fail_msg("%s = %s became %s, want %s", name, text, out, want);
}

static void test_conversions(void **state)
{
	const struct pgparams_def *d;
	char out[64];

	NEED_PG();
	expect_base("shared_buffers", "512MB", "65536");
	expect_base("shared_buffers", "1GB", "131072");
	expect_base("work_mem", "4MB", "4096");
	expect_base("work_mem", "4096", "4096");
	expect_base("checkpoint_timeout", "5min", "300");
	expect_base("log_min_duration_statement", "1s", "1000");
	expect_base("max_wal_size", "1GB", "1024");
	expect_base("autovacuum", "true", "on");
	expect_base("vacuum_cost_delay", "2ms", "2");
	expect_base("log_statement", "DDL", "ddl");
	expect_base("DateStyle", "iso, mdy", "ISO, MDY");
	d = pgparams_find(real_catalog(), "shared_buffers");
	assert_int_equal(pgparams_to_base(d, "12 parsecs", out, sizeof(out)), -1);
	assert_int_equal(pgparams_to_base(d, "5min", out, sizeof(out)), -1); /* time for a size */
	assert_true(pgparams_same(d, "16384", "16384.0"));
	assert_false(pgparams_same(d, "16384", "16385"));
	assert_true(pgparams_same(pgparams_find(real_catalog(), "random_page_cost"), "1.1", "1.10"));
	assert_true(pgparams_same(pgparams_find(real_catalog(), "shared_preload_libraries"), "a, b", "a,b"));
	assert_false(pgparams_same(pgparams_find(real_catalog(), "shared_preload_libraries"), "a", "a,b"));
	assert_true(pgparams_same(pgparams_find(real_catalog(), "autovacuum"), "on", "true"));
}

static void test_preflight(void **state)
{
	json_t *s;
	long long mb = 0, mb2 = 0;
	struct err e;
	double t0;

	NEED_PG();
	s = json_pack("{s:s, s:s}", "shared_buffers", "16384", "max_connections", "100");
	t0 = now_ms();
	assert_int_equal(pgparams_preflight(real_catalog(), s, &mb, &e), 0);
	printf("TIMING preflight: %.1f ms (%lld MB of shared memory)\n", now_ms() - t0, mb);
	assert_true(mb > 128 && mb < 256);
	json_object_set_new(s, "shared_buffers", json_string("65536"));
	assert_int_equal(pgparams_preflight(real_catalog(), s, &mb2, &e), 0);
	assert_true(mb2 > mb + 300);
	/* startup rules between settings */
	json_object_set_new(s, "superuser_reserved_connections", json_string("200"));
	assert_int_equal(pgparams_preflight(real_catalog(), s, &mb, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE_PARAMETER_OUT_OF_RANGE_ERROR);
	assert_non_null(strstr(e.msg, "superuser_reserved_connections"));
	json_object_del(s, "superuser_reserved_connections");
	json_object_set_new(s, "wal_level", json_string("minimal"));
	json_object_set_new(s, "archive_mode", json_string("on"));
	assert_int_equal(pgparams_preflight(real_catalog(), s, &mb, &e), -1);
	assert_non_null(strstr(e.msg, "minimal"));
	json_decref(s);
}

/* ---- a running server ----------------------------------------------------- */

static int addr_free(const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5432) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void start_node(struct pgnode *n, PGconn **conn)
{
	char tpl[PATH_MAX], pw[128];
	struct pgsql_target t = { .port = 5432, .user = PGNODE_SUPERUSER };
	struct err e;

	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "%s/nodes/n1", g.root);
	snprintf(tpl, sizeof(tpl), "%s/nodes", g.root);
	mkdir(tpl, 0711);
	snprintf(n->bin_dir, sizeof(n->bin_dir), "%s", TEST_BIN_DIR);
	n->port = 5432;
	n->user = &g.user;
	for (int i = 1; i < 250; i++) {
		snprintf(n->listen_addr, sizeof(n->listen_addr), "127.78.%hhu.%hhu", (unsigned char)(getpid() % 250 + 1), (unsigned char)i);
		if (addr_free(n->listen_addr))
			break;
	}
	assert_int_equal(pgnode_template_ensure(g.templates, TEST_BIN_DIR, "UTF8", &g.user, tpl, sizeof(tpl), &e), 0);
	assert_int_equal(pgnode_template_password(tpl, pw, sizeof(pw), &e), 0);
	assert_int_equal(pgnode_create(n, tpl, &spec_1g, &e), 0);
	if (pgnode_start(n, 0, &e) != 0)
		fail_msg("start: %s", e.msg);
	t.host = n->listen_addr;
	t.password = pw;
	assert_int_equal(pgsql_connect(&t, conn, &e), 0);
}

static void test_alter_system(void **state)
{
	const struct pgparams_catalog *c;
	struct pgnode n;
	PGconn *conn;
	json_t *s, *startup;
	char *before, *after, *v;
	struct err e;

	NEED_PG();
	c = real_catalog();
	start_node(&n, &conn);
	assert_int_equal(pgparams_autoconf_read(&n, &before, &e), 0);
	assert_int_equal(pgparams_alter_system(conn, "log_min_duration_statement", "250", &e), 0);
	assert_int_equal(pgparams_alter_system(conn, "shared_preload_libraries", "pg_stat_statements,auto_explain", &e), 0);
	assert_int_equal(pgparams_alter_system(conn, "pg_stat_statements.track", "all", &e), 0);
	/* a value with quotes and a backslash stays one literal */
	assert_int_equal(pgparams_alter_system(conn, "application_name", "x' \\ \"y", &e), 0);
	assert_int_equal(pgparams_alter_system(conn, "application_name", NULL, &e), 0);
	assert_int_equal(pgparams_alter_system(conn, "log_statement", "all\n", &e), -1);
	assert_int_equal(pgparams_alter_system(conn, "bad name", "1", &e), -1);
	assert_int_equal(pgparams_alter_system(conn, "a.b.c", "1", &e), -1);
	assert_int_equal(pgparams_reload(conn, &e), 0);
	assert_int_equal(pgparams_autoconf_read(&n, &after, &e), 0);
	assert_non_null(strstr(after, "shared_preload_libraries = 'pg_stat_statements, auto_explain'"));
	assert_non_null(strstr(after, "log_min_duration_statement = '250'"));
	assert_null(strstr(after, "application_name"));
	/* the running server: current values and the defaults without the change */
	assert_int_equal(pgparams_server_settings(conn, c, &s, &e), 0);
	for (int i = 0; i < 200; i++) { /* the reload reaches this session at its next command */
		json_decref(s);
		assert_int_equal(pgparams_server_settings(conn, c, &s, &e), 0);
		if (strcmp(json_string_value(json_object_get(json_object_get(s, "log_min_duration_statement"), "setting")),
			   "250") == 0)
			break;
		usleep(10000);
	}
	v = (char *)json_string_value(json_object_get(json_object_get(s, "log_min_duration_statement"), "setting"));
	assert_string_equal(v, "250");
	/* the default is pgfleet.conf's value, not the tenant's 250 */
	assert_string_equal(json_string_value(json_object_get(json_object_get(s, "log_min_duration_statement"), "default")),
			    pgparams_find(c, "log_min_duration_statement")->file_default);
	assert_string_equal(json_string_value(json_object_get(json_object_get(s, "shared_buffers"), "default")), "32768");
	assert_true(json_is_true(json_object_get(json_object_get(s, "shared_preload_libraries"), "pending_restart")));
	startup = pgparams_startup_settings(s);
	assert_non_null(json_object_get(startup, "shared_buffers"));
	assert_non_null(json_object_get(startup, "wal_level"));
	assert_null(json_object_get(startup, "data_directory"));
	assert_null(json_object_get(startup, "log_min_duration_statement"));
	json_decref(startup);
	json_decref(s);
	pgsql_close(conn);
	/* undo while stopped: the file is back as it was, owned by the node user */
	assert_int_equal(pgnode_stop(&n, PGNODE_STOP_FAST, 0, &e), 0);
	assert_int_equal(pgparams_autoconf_write(&n, before, &e), 0);
	free(after);
	assert_int_equal(pgparams_autoconf_read(&n, &after, &e), 0);
	assert_string_equal(after, before);
	assert_int_equal(pgnode_start(&n, 0, &e), 0);
	assert_int_equal(pgnode_remove(&n, &e), 0);
	free(before);
	free(after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_lists),
		cmocka_unit_test(test_build_synthetic),
		cmocka_unit_test(test_real_catalog),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_ranges_and_defaults),
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_preflight),
		cmocka_unit_test(test_alter_system),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
