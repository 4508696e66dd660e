/* test_backup_url.c - signed backup downloads (src/api/backup_download.c):
 * a URL made by the service streams the file; a tampered, expired or
 * malformed URL, a forbidden client address (tenant restriction or the
 * URL's own) and paths outside the store are refused with 403/404. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/backup_api.h"
#include "api/routes.h"
#include "core/clock.h"
#include "core/config.h"

#define INST "postgres-aaaa1111"
#define BID "443c810b-53c6-4d8c-b6d2-1abbe5794529"
#define NAME "manual-20260101000000.tar.zst"

static char dir[64];
static struct config cfg;
static struct store *st;
static struct fleet fl;
static struct api_services svc;
static struct store_tenant tenant;
static struct api_ctx ctx;

static void put(const char *kind, const char *id, const char *status, json_t *doc)
{
	struct store_res r = { .tenant_id = tenant.id, .doc = doc };
	struct err e;

	snprintf(r.kind, sizeof(r.kind), "%s", kind);
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.status, sizeof(r.status), "%s", status);
	assert_int_equal(store_res_insert(st, &r, &e), 0);
	store_res_free(&r);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	char path[256];
	struct store_key k;
	struct err e;

	snprintf(dir, sizeof(dir), "/tmp/pgfleet-test-bkurl.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(config_init(&cfg, dir, &e), 0);
	snprintf(path, sizeof(path), "%s/db", dir);
	assert_int_equal(store_open(&st, path, &e), 0);
	assert_int_equal(store_tenant_create(st, "t1", &tenant, &k, &e), 0);
	fl.cfg = &cfg;
	fl.store = st;
	svc = (struct api_services){ .cfg = &cfg, .store = st, .fleet = &fl };
	ctx = (struct api_ctx){ .svc = &svc, .tenant = &tenant, .action = api_action_find("DescribeBackupDownloadURL") };
	put(FLEET_KIND, INST, "running", json_pack("{s:s, s:s}", "Vip", "127.10.0.5", "VpcId", "vpc-abc"));
	put(BACKUP_KIND_BASE, BID, "finished",
	    json_pack("{s:s, s:s, s:s}", "DBInstanceId", INST, "Name", NAME, "File", "base.tar.zst"));
	assert_int_equal(backup_dirs_ensure(&fl, INST, NULL, &e), 0);
	assert_int_equal(backup_base_dir(&fl, INST, BID, path, sizeof(path), &e), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	strncat(path, "/base.tar.zst", sizeof(path) - strlen(path) - 1);
	write_text(path, "the backup's bytes");
	clock_set_offset(0);
	return 0;
}

static int teardown(void **state)
{
	struct err e;

	store_close(st);
	config_free(&cfg);
	pgbackup_remove_tree(dir, &e);
	clock_set_offset(0);
	return 0;
}

/* GET `url` (made by backup_url_make) from `ip`: the HTTP status, 200 with a file. */
static int get(const char *url, const char *ip)
{
	const char *path = strstr(url, BACKUP_ROUTE_PREFIX);
	const char *q = strchr(url, '?');
	char *p = strndup(path, (size_t)(q - path));
	struct route_request rq = { .method = "GET", .path = p, .query = q + 1, .client_ip = ip, .svc = &svc };
	struct route_response rs = { .fd = -1 };

	assert_int_equal(backup_download_route(&rq, &rs), 0);
	free(p);
	free(rs.body);
	if (rs.fd >= 0) {
		char buf[256];
		assert_int_equal(rs.status, 0);
		assert_int_equal(read(rs.fd, buf, sizeof(buf)), (ssize_t)rs.fd_len);
		close(rs.fd);
		return 200;
	}
	return rs.status;
}

static char *make(const char *type, const char *id, const char *file, long long hours, json_t *restriction)
{
	char *url = NULL;
	struct err e;

	assert_int_equal(backup_url_make(&ctx, INST, type, id, file, hours, restriction, &url, &e), 0);
	json_decref(restriction);
	return url;
}

static void test_download(void **state)
{
	char *url = make("base", BID, NAME, 12, NULL);

	assert_non_null(strstr(url, "http://127.0.0.1:9000/backup-download/" INST "/base/" BID "/" NAME "?expires="));
	assert_int_equal(get(url, "127.0.0.1"), 200);
	free(url);
}

static void test_tampered(void **state)
{
	char *url = make("base", BID, NAME, 12, NULL);
	char *sig = strstr(url, "sig=") + 4;
	char *exp = strstr(url, "expires=") + 8;

	sig[0] = sig[0] == 'a' ? 'b' : 'a';
	assert_int_equal(get(url, "127.0.0.1"), 403);
	sig[0] = sig[0] == 'a' ? 'b' : 'a';
	exp[0] = exp[0] == '9' ? '8' : '9'; /* a later expiry: signature no longer matches */
	assert_int_equal(get(url, "127.0.0.1"), 403);
	free(url);
	/* a valid signature on a file name that is not the backup's: nothing served */
	url = make("base", BID, "other.tar.zst", 12, NULL);
	assert_int_equal(get(url, "127.0.0.1"), 404);
	free(url);
}

static void test_expired(void **state)
{
	char *url = make("base", BID, NAME, 1, NULL);

	clock_set_offset(3600 + 5);
	assert_int_equal(get(url, "127.0.0.1"), 403);
	clock_set_offset(0);
	assert_int_equal(get(url, "127.0.0.1"), 200);
	free(url);
}

static void test_bad_paths(void **state)
{
	static const char *const paths[] = {
		BACKUP_ROUTE_PREFIX "../../etc/passwd",
		BACKUP_ROUTE_PREFIX INST "/base/" BID "/../../../../etc/passwd",
		BACKUP_ROUTE_PREFIX INST "/base/" BID "/" NAME "/x",
		BACKUP_ROUTE_PREFIX INST "/base/" BID,
		BACKUP_ROUTE_PREFIX INST "/wal/" BID "/" NAME,
		BACKUP_ROUTE_PREFIX INST "/base/not-a-uuid/" NAME,
		BACKUP_ROUTE_PREFIX "postgres-AAA/base/" BID "/" NAME,
		BACKUP_ROUTE_PREFIX INST "/base/" BID "/.hidden",
		BACKUP_ROUTE_PREFIX INST "/base/" BID "/a..b",
	};
	char *url = make("base", BID, NAME, 12, NULL);
	const char *q = strchr(url, '?') + 1;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct route_request rq = { .method = "GET", .path = paths[i], .query = q, .client_ip = "127.0.0.1",
					    .svc = &svc };
		struct route_response rs = { .fd = -1 };
		assert_int_equal(backup_download_route(&rq, &rs), 0);
		assert_int_equal(rs.fd, -1);
		assert_int_equal(rs.status, 404);
		free(rs.body);
	}
	free(url);
}

static void test_bad_queries(void **state)
{
	static const char *const queries[] = { "", "expires=1", "sig=00", "expires=1&sig=zz", "expires=x&sig=",
					       "expires=1&expires=2&sig=1", "r=&expires=1&sig=2", "other=1" };

	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct route_request rq = { .method = "GET", .path = BACKUP_ROUTE_PREFIX INST "/base/" BID "/" NAME,
					    .query = queries[i], .client_ip = "127.0.0.1", .svc = &svc };
		struct route_response rs = { .fd = -1 };
		assert_int_equal(backup_download_route(&rq, &rs), 0);
		assert_true(rs.status == 404 || rs.status == 403);
		assert_int_equal(rs.fd, -1);
		free(rs.body);
	}
}

static void restrict_tenant(json_t *doc)
{
	char id[40];
	struct err e;

	snprintf(id, sizeof(id), "tenant-%lld", (long long)tenant.id);
	store_res_delete(st, BACKUP_KIND_RESTRICTION, id, &e);
	put(BACKUP_KIND_RESTRICTION, id, "active", doc);
}

static void test_restrictions(void **state)
{
	char *url = make("base", BID, NAME, 12, NULL);

	restrict_tenant(json_pack("{s:s, s:s, s:[s]}", "RestrictionType", "CUSTOMIZE", "IpRestrictionEffect", "ALLOW",
				  "IpSet", "127.0.0.2"));
	assert_int_equal(get(url, "127.0.0.1"), 403);
	assert_int_equal(get(url, "127.0.0.2"), 200);
	restrict_tenant(json_pack("{s:s, s:s, s:[s]}", "RestrictionType", "CUSTOMIZE", "IpRestrictionEffect", "DENY",
				  "IpSet", "127.0.0.0/30"));
	assert_int_equal(get(url, "127.0.0.2"), 403);
	assert_int_equal(get(url, "127.0.0.4"), 200);
	restrict_tenant(json_pack("{s:s}", "RestrictionType", "INTRANET"));
	assert_int_equal(get(url, "127.0.0.1"), 403);
	assert_int_equal(get(url, "127.10.0.9"), 200);
	/* a client's VPC is the one of the instance at its address */
	restrict_tenant(json_pack("{s:s, s:s, s:[s]}", "RestrictionType", "CUSTOMIZE", "VpcRestrictionEffect", "ALLOW",
				  "VpcIdSet", "vpc-abc"));
	assert_int_equal(get(url, "127.10.0.5"), 200);
	assert_int_equal(get(url, "127.10.0.9"), 403);
	restrict_tenant(json_pack("{s:s}", "RestrictionType", "NONE"));
	assert_int_equal(get(url, "127.0.0.1"), 200);
	free(url);
	/* the URL's own restriction applies on top */
	url = make("base", BID, NAME, 12,
		   json_pack("{s:s, s:s, s:[s]}", "RestrictionType", "CUSTOMIZE", "IpRestrictionEffect", "DENY", "IpSet",
			     "127.0.0.1"));
	assert_int_equal(get(url, "127.0.0.1"), 403);
	assert_int_equal(get(url, "127.0.0.3"), 200);
	free(url);
}

static void test_restriction_check(void **state)
{
	struct err e;
	json_t *r = json_pack("{s:s}", "RestrictionType", "CUSTOMIZE");

	ctx.action = api_action_find("ModifyBackupDownloadRestriction");
	assert_int_equal(backup_restriction_check(&ctx, r, &e), -1); /* CUSTOMIZE without a rule */
	json_decref(r);
	r = json_pack("{s:s, s:s, s:[s]}", "RestrictionType", "CUSTOMIZE", "IpRestrictionEffect", "ALLOW", "IpSet",
		      "300.1.1.1");
	assert_int_equal(backup_restriction_check(&ctx, r, &e), -1);
	json_decref(r);
	r = json_pack("{s:s, s:s, s:[s]}", "RestrictionType", "CUSTOMIZE", "VpcRestrictionEffect", "ALLOW", "VpcIdSet",
		      "vpc-zzz");
	assert_int_equal(backup_restriction_check(&ctx, r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VPC_NOT_FOUND_ERROR);
	json_decref(r);
	r = json_pack("{s:s, s:s, s:[s, s]}", "RestrictionType", "CUSTOMIZE", "IpRestrictionEffect", "ALLOW", "IpSet",
		      "10.0.0.0/8", "::1");
	assert_int_equal(backup_restriction_check(&ctx, r, &e), 0);
	json_decref(r);
	ctx.action = api_action_find("DescribeBackupDownloadURL");
}

static void test_log_download(void **state)
{
	char wal[256], src[300], id[BACKUP_ID_LEN + 1];
	const char *name = "000000010000000000000004";
	struct err e;
	char *url;

	assert_int_equal(backup_wal_dir(&fl, INST, wal, sizeof(wal), &e), 0);
	snprintf(src, sizeof(src), "%s/seg", dir);
	write_text(src, "some WAL");
	assert_int_equal(pgbackup_wal_push(src, name, wal, 1700000000, &e), 0);
	backup_log_id(INST, name, id);
	url = make("log", id, "000000010000000000000004.gz", 12, NULL);
	assert_int_equal(get(url, "127.0.0.1"), 200);
	free(url);
	url = make("log", id, "000000010000000000000005.gz", 12, NULL);
	assert_int_equal(get(url, "127.0.0.1"), 404);
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restrictions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restriction_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_download, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
