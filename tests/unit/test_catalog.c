/* test_catalog.c - the catalog (loading, validation, lookups), PostgreSQL
 * version parsing and discovery, and the five Specification handlers,
 * called directly with a hand-made api_ctx; every response is checked
 * against the action's documented outputs with params_check_output(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "api/action.h"
#include "api/catalog.h"
#include "api/params.h"
#include "core/catalog_default.h"
#include "pg/pgversion.h"
#include "pg/spawn.h"

/* Versions as discovery would report them, unsorted on purpose: two kernels
 * of major 14 (so that 14.2 has an upgrade target) and one 15. */
static const struct catalog_version test_versions[] = {
	{ "15", "15.18", "v15.18_r1.0", "/usr/lib/postgresql/15/bin" },
	{ "14", "14.3", "v14.3_r1.0", "/opt/pg/14.3/bin" },
	{ "14", "14.2", "v14.2_r1.0", "/opt/pg/14.2/bin" },
};
#define NVERSIONS (sizeof(test_versions) / sizeof(test_versions[0]))

/* Load a catalog from JSON text with the test versions. */
static int load_text(const char *text, struct err *e)
{
	json_error_t je;
	json_t *cat = json_loads(text, 0, &je);
	int rc;

	assert_non_null(cat);
	err_clear(e);
	rc = catalog_load(cat, test_versions, NVERSIONS, e);
	json_decref(cat);
	return rc;
}

static int setup_default(void **state)
{
	struct err e;

	return load_text(CONFIG_DEFAULT_CATALOG, &e);
}

static int teardown(void **state)
{
	catalog_close();
	return 0;
}

/* Call handler `fn` of `action` with params given as JSON text (NULL: none)
 * and region; on success check the response against the documented outputs.
 * Returns ERR_OK or the error code; the response is left in *out. */
static enum err_code call(api_handler_fn fn, const char *action, const char *params,
			  const char *region, json_t **out, struct err *e)
{
	const struct api_action *a = api_action_find(action);
	json_t *p = params != NULL ? json_loads(params, 0, NULL) : json_object();
	struct api_ctx ctx = { .action = a, .params = p, .request_id = "test",
			       .region = region, .client_ip = "127.0.0.1" };
	int rc;

	assert_non_null(a);
	assert_non_null(p);
	*out = json_object();
	err_clear(e);
	rc = fn(&ctx, *out, e);
	json_decref(p);
	if (rc == 0) {
		struct err ce;
		err_clear(&ce);
		if (params_check_output(a->outputs, a->noutputs, *out, &ce) != 0)
			fail_msg("%s response does not match the spec: %s", action, ce.msg);
		return ERR_OK;
	}
	return e->code;
}

/* ---- loading and lookups ------------------------------------------------ */

static void test_default_catalog_lookups(void **state)
{
	const struct catalog_spec *s = catalog_spec_find("cdb.pg.z1.2g");
	const struct catalog_version *v;

	assert_non_null(s);
	assert_int_equal(s->cpu, 1);
	assert_int_equal(s->memory_mb, 2048);
	assert_int_equal(s->min_storage_gb, 10);
	assert_int_equal(s->max_storage_gb, 1000);
	assert_non_null(catalog_spec_find("cdb.pg.z1.64g"));
	assert_null(catalog_spec_find("cdb.pg.z1.128g"));
	assert_null(catalog_spec_find(NULL));
	assert_true(catalog_zone_exists("ap-guangzhou-3"));
	assert_true(catalog_zone_exists("ap-guangzhou-6"));
	assert_false(catalog_zone_exists("ap-guangzhou-2"));
	assert_true(catalog_region_exists("ap-guangzhou"));
	assert_false(catalog_region_exists("ap-shanghai"));
	assert_string_equal(catalog_zone_region("ap-guangzhou-6"), "ap-guangzhou");
	assert_null(catalog_zone_region("ap-nowhere-1"));
	v = catalog_version_find("14", NULL, NULL); /* the newest of major 14 */
	assert_non_null(v);
	assert_string_equal(v->version, "14.3");
	v = catalog_version_find(NULL, "14.2", NULL);
	assert_non_null(v);
	assert_string_equal(v->bin_dir, "/opt/pg/14.2/bin");
	assert_non_null(catalog_version_find("15", "15.18", "v15.18_r1.0"));
	assert_null(catalog_version_find("15", NULL, "v15.17_r1.0"));
	assert_null(catalog_version_find("16", NULL, NULL));
}

static void test_custom_catalog(void **state)
{
	struct err e;

	/* Defaults fill optional members; StandbyZoneSet may be given. */
	assert_int_equal(load_text("{\"regions\":[{\"Region\":\"r-a\",\"RegionName\":\"A\",\"RegionId\":7}],"
				   "\"zones\":[{\"Zone\":\"r-a-1\",\"Region\":\"r-a\",\"ZoneName\":\"A1\",\"ZoneId\":1},"
				   "{\"Zone\":\"r-a-2\",\"Region\":\"r-a\",\"ZoneName\":\"A2\",\"ZoneId\":2,"
				   "\"StandbyZoneSet\":[\"r-a-2\"],\"ZoneState\":\"SELLOUT\"}],"
				   "\"specs\":[{\"SpecCode\":\"s1\",\"Cpu\":1,\"Memory\":1024,\"MinStorage\":5,"
				   "\"MaxStorage\":5,\"Qps\":0}]}", &e), 0);
	assert_true(catalog_zone_exists("r-a-2"));
	assert_false(catalog_zone_exists("ap-guangzhou-3"));
	assert_non_null(catalog_spec_find("s1"));
}

/* One section of a catalog under test: NULL = the valid default, "" = absent. */
static void add_section(char *buf, size_t len, const char *name, const char *given,
			const char *valid)
{
	const char *body = given != NULL ? given : valid;
	size_t used = strlen(buf);

	if (body[0] == '\0')
		return;
	snprintf(buf + used, len - used, "%s\"%s\":%s", used > 1 ? "," : "", name, body);
}

static void test_bad_catalogs(void **state)
{
	static const char R[] = "[{\"Region\":\"r\",\"RegionName\":\"R\",\"RegionId\":1}]";
	static const char Z[] = "[{\"Zone\":\"r-1\",\"Region\":\"r\",\"ZoneName\":\"Z\",\"ZoneId\":1}]";
	static const char S[] = "[{\"SpecCode\":\"s\",\"Cpu\":1,\"Memory\":1024,"
				"\"MinStorage\":10,\"MaxStorage\":100,\"Qps\":1}]";
	static const struct {
		const char *regions, *zones, *specs, *extra;
		const char *msg;
	} cases[] = {
		{ NULL, NULL, NULL, "\"extra\":1", "unknown key \"extra\"" },
		{ NULL, NULL, "", NULL, "\"specs\" must be an array" },
		{ NULL, NULL, "[]", NULL, "\"specs\" must be an array" },
		{ NULL, "{}", NULL, NULL, "\"zones\" must be an array" },
		{ "[{\"Region\":\"r\",\"RegionName\":\"R\"}]", NULL, NULL, NULL, "RegionId is required" },
		{ "[{\"Region\":\"R!\",\"RegionName\":\"R\",\"RegionId\":1}]", NULL, NULL, NULL,
		  "bad value for Region" },
		{ "[{\"Region\":\"r\",\"RegionName\":\"R\",\"RegionId\":\"1\"}]", NULL, NULL, NULL,
		  "RegionId must be an integer" },
		{ "[{\"Region\":\"r\",\"RegionName\":\"R\",\"RegionId\":1,\"RegionState\":\"OPEN\"}]",
		  NULL, NULL, NULL, "bad value for RegionState" },
		{ "[{\"Region\":\"r\",\"RegionName\":\"R\",\"RegionId\":1,\"Color\":1}]", NULL, NULL,
		  NULL, "regions[0]: unknown key \"Color\"" },
		{ "[{\"Region\":\"r\",\"RegionName\":\"R\",\"RegionId\":1},"
		  "{\"Region\":\"r\",\"RegionName\":\"R2\",\"RegionId\":2}]", NULL, NULL, NULL,
		  "regions[1]: Region or RegionId repeated" },
		{ NULL, "[{\"Zone\":\"x-1\",\"Region\":\"x\",\"ZoneName\":\"Z\",\"ZoneId\":1}]", NULL,
		  NULL, "Region x is not in \"regions\"" },
		{ NULL, "[{\"Zone\":\"r-1\",\"Region\":\"r\",\"ZoneName\":\"Z\",\"ZoneId\":1},"
		  "{\"Zone\":\"r-2\",\"Region\":\"r\",\"ZoneName\":\"Z\",\"ZoneId\":1}]", NULL, NULL,
		  "zones[1]: Zone or ZoneId repeated" },
		{ NULL, "[{\"Zone\":\"r-1\",\"Region\":\"r\",\"ZoneName\":\"Z\",\"ZoneId\":1,"
		  "\"StandbyZoneSet\":[\"r-9\"]}]", NULL, NULL, "StandbyZoneSet[0] is not a zone of r" },
		{ NULL, "[{\"Zone\":\"r-1\",\"Region\":\"r\",\"ZoneName\":\"\",\"ZoneId\":1}]", NULL,
		  NULL, "bad value for ZoneName" },
		{ NULL, "[{\"Zone\":\"r-1\",\"Region\":\"r\",\"ZoneName\":\"Z\",\"ZoneId\":1,"
		  "\"ZoneSupportIpv6\":2}]", NULL, NULL, "ZoneSupportIpv6 must be an integer in 0..1" },
		{ NULL, NULL, "[{\"SpecCode\":\"s\",\"Cpu\":1,\"Memory\":1024,\"MinStorage\":100,"
		  "\"MaxStorage\":10,\"Qps\":1}]", NULL, "MaxStorage is below MinStorage" },
		{ NULL, NULL, "[{\"SpecCode\":\"S 1\",\"Cpu\":1,\"Memory\":1024,\"MinStorage\":1,"
		  "\"MaxStorage\":10,\"Qps\":1}]", NULL, "bad value for SpecCode" },
		{ NULL, NULL, "[{\"SpecCode\":\"s\",\"Cpu\":0,\"Memory\":1024,\"MinStorage\":1,"
		  "\"MaxStorage\":10,\"Qps\":1}]", NULL, "Cpu must be an integer in 1..1024" },
		{ NULL, NULL, "[{\"SpecCode\":\"s\",\"Cpu\":1,\"Memory\":1024,\"MinStorage\":1,"
		  "\"MaxStorage\":10}]", NULL, "specs[0]: Qps is required" },
		{ NULL, NULL, "[" "{\"SpecCode\":\"s\",\"Cpu\":1,\"Memory\":1024,\"MinStorage\":1,"
		  "\"MaxStorage\":10,\"Qps\":1}," "{\"SpecCode\":\"s\",\"Cpu\":2,\"Memory\":2048,"
		  "\"MinStorage\":1,\"MaxStorage\":10,\"Qps\":1}]", NULL, "SpecCode s repeated" },
	};
	char text[2048];
	struct err e;

	assert_int_equal(load_text("[]", &e), -1);
	assert_non_null(strstr(e.msg, "expected an object"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "{");
		add_section(text, sizeof(text), "regions", cases[i].regions, R);
		add_section(text, sizeof(text), "zones", cases[i].zones, Z);
		add_section(text, sizeof(text), "specs", cases[i].specs, S);
		if (cases[i].extra != NULL)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), ",%s", cases[i].extra);
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "}");
		if (load_text(text, &e) == 0)
			fail_msg("case %zu loaded: %s", i, text);
		assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
		if (strstr(e.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, cases[i].msg);
	}
	/* The valid skeleton itself loads... */
	snprintf(text, sizeof(text), "{\"regions\":%s,\"zones\":%s,\"specs\":%s}", R, Z, S);
	assert_int_equal(load_text(text, &e), 0);
	assert_true(catalog_zone_exists("r-1"));
	/* ...and a failed load leaves the loaded catalog in place. */
	assert_int_equal(load_text("{}", &e), -1);
	assert_true(catalog_zone_exists("r-1"));
}

static void test_no_versions(void **state)
{
	json_t *cat = json_loads(CONFIG_DEFAULT_CATALOG, 0, NULL);
	struct err e;

	assert_int_equal(catalog_load(cat, test_versions, 0, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);
	json_decref(cat);
}

/* ---- PostgreSQL versions ---------------------------------------------------- */

static void test_pgversion_parse(void **state)
{
	struct pgversion v;
	struct err e;

	assert_int_equal(pgversion_parse("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", &v, &e), 0);
	assert_string_equal(v.major, "15");
	assert_string_equal(v.version, "15.18");
	assert_string_equal(v.kernel, "v15.18_r1.0");
	assert_int_equal(pgversion_parse("postgres (PostgreSQL) 12.4\n", &v, &e), 0);
	assert_string_equal(v.kernel, "v12.4_r1.0");
	assert_int_equal(pgversion_parse("postgres (PostgreSQL) 9.6.24\n", &v, &e), 0);
	assert_string_equal(v.major, "9.6");
	assert_string_equal(v.version, "9.6.24");
	assert_int_equal(pgversion_parse("postgres (PostgreSQL) 17beta1\n", &v, &e), 0);
	assert_string_equal(v.major, "17");
	assert_int_equal(pgversion_parse("bash: postgres: not found", &v, &e), -1);
	assert_int_equal(pgversion_parse("postgres (PostgreSQL) \n", &v, &e), -1);
	assert_int_equal(pgversion_parse("postgres (PostgreSQL) 9\n", &v, &e), -1);
	assert_int_equal(pgversion_parse("postgres (PostgreSQL) 15.\n", &v, &e), -1);
	assert_int_equal(pgversion_parse("postgres (PostgreSQL) 123456789012345678.1\n", &v, &e), -1);
}

static void test_pgversion_cmp(void **state)
{
	assert_true(pgversion_cmp("15.2", "15.18") < 0);
	assert_true(pgversion_cmp("15.18", "15.2") > 0);
	assert_true(pgversion_cmp("9.6.24", "10.1") < 0);
	assert_int_equal(pgversion_cmp("14.3", "14.3"), 0);
	assert_true(pgversion_cmp("17beta1", "17.0") < 0);
	assert_true(pgversion_cmp("17beta1", "17") < 0);
	assert_true(pgversion_cmp("17beta1", "17rc1") < 0);
}

/* Write an executable script at <root>/<dir>/bin/postgres printing `line`. */
static void fake_postgres(const char *root, const char *dir, const char *line)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/bin", root, dir);
	assert_int_equal(mkdir(path, 0755), 0);
	if (line == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s/bin/postgres", root, dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho '%s'\n", line);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

/* Remove a test tree (through the spawn module: no shell). */
static void rm_tree(const char *root)
{
	const char *const argv[] = { "/usr/bin/rm", "-rf", "--", root, NULL };
	struct spawn_opts o = { .argv = argv };
	struct spawn_result r;
	struct err e;

	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	spawn_result_free(&r);
}

static void test_pgversion_discover_fake(void **state)
{
	char root[] = "/tmp/pgfleet-pgroot-XXXXXX";
	struct pgversion v[PGVERSION_MAX];
	struct err e;
	size_t n;

	assert_non_null(mkdtemp(root));
	fake_postgres(root, "14", "postgres (PostgreSQL) 14.2");
	fake_postgres(root, "9.6", "postgres (PostgreSQL) 9.6.24 (Debian 9.6.24-1)");
	fake_postgres(root, "13", "postgres (PostgreSQL) 12.1"); /* lies: skipped */
	fake_postgres(root, "11", NULL);                        /* no binary: skipped */
	fake_postgres(root, "12", "garbage");                   /* unparsable: skipped */
	fake_postgres(root, "tools", "postgres (PostgreSQL) 15.1"); /* not a major dir */
	assert_int_equal(pgversion_discover(root, v, PGVERSION_MAX, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].version, "9.6.24");
	assert_string_equal(v[0].major, "9.6");
	assert_string_equal(v[1].version, "14.2");
	assert_string_equal(v[1].kernel, "v14.2_r1.0");
	assert_non_null(strstr(v[1].bin_dir, "/14/bin"));
	/* The cap bounds the result. */
	assert_int_equal(pgversion_discover(root, v, 1, &n, &e), 0);
	assert_int_equal(n, 1);
	rm_tree(root);
	assert_int_equal(pgversion_discover(root, v, PGVERSION_MAX, &n, &e), -1);
}

static void test_catalog_init_real(void **state)
{
	struct config cfg;
	struct err e;
	const struct catalog_version *v;

	if (access("/usr/lib/postgresql", R_OK) != 0)
		skip();
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.pg_bin_root, sizeof(cfg.pg_bin_root), "/usr/lib/postgresql");
	cfg.catalog = json_loads(CONFIG_DEFAULT_CATALOG, 0, NULL);
	assert_non_null(cfg.catalog);
	err_clear(&e);
	if (catalog_init(&cfg, &e) != 0)
		fail_msg("catalog_init: %s", e.msg);
	v = catalog_version_find(NULL, NULL, NULL);
	assert_non_null(v);
	assert_int_equal(v->kernel[0], 'v');
	assert_non_null(strstr(v->kernel, "_r1.0"));
	assert_int_equal(access(v->bin_dir, X_OK), 0);
	json_decref(cfg.catalog);
}

static void test_catalog_init_empty_root(void **state)
{
	char root[] = "/tmp/pgfleet-pgempty-XXXXXX";
	struct config cfg;
	struct err e;

	assert_non_null(mkdtemp(root));
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.pg_bin_root, sizeof(cfg.pg_bin_root), "%s", root);
	cfg.catalog = json_loads(CONFIG_DEFAULT_CATALOG, 0, NULL);
	assert_int_equal(catalog_init(&cfg, &e), -1);
	assert_non_null(strstr(e.msg, "no PostgreSQL server binaries found under /tmp/pgfleet-pgempty-"));
	rmdir(root);
	json_decref(cfg.catalog);
}

/* ---- handlers --------------------------------------------------------------- */

static void test_describe_regions(void **state)
{
	json_t *out, *r;
	struct err e;

	assert_int_equal(call(catalog_describe_regions, "DescribeRegions", NULL, "", &out, &e), ERR_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "TotalCount")), 1);
	r = json_array_get(json_object_get(out, "RegionSet"), 0);
	assert_string_equal(json_string_value(json_object_get(r, "Region")), "ap-guangzhou");
	assert_string_equal(json_string_value(json_object_get(r, "RegionName")), "South China(Guangzhou)");
	assert_int_equal(json_integer_value(json_object_get(r, "RegionId")), 1);
	assert_string_equal(json_string_value(json_object_get(r, "RegionState")), "AVAILABLE");
	assert_int_equal(json_integer_value(json_object_get(r, "SupportInternational")), 1);
	assert_int_equal(json_object_size(r), 5);
	json_decref(out);
}

static void test_describe_zones(void **state)
{
	json_t *out, *z, *standby;
	struct err e;

	assert_int_equal(call(catalog_describe_zones, "DescribeZones", NULL, "ap-guangzhou", &out, &e),
			 ERR_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "TotalCount")), 2);
	z = json_array_get(json_object_get(out, "ZoneSet"), 1);
	assert_string_equal(json_string_value(json_object_get(z, "Zone")), "ap-guangzhou-6");
	assert_string_equal(json_string_value(json_object_get(z, "ZoneName")), "Guangzhou Zone 6");
	assert_int_equal(json_integer_value(json_object_get(z, "ZoneId")), 100006);
	assert_string_equal(json_string_value(json_object_get(z, "ZoneState")), "AVAILABLE");
	assert_int_equal(json_integer_value(json_object_get(z, "ZoneSupportIpv6")), 0);
	standby = json_object_get(z, "StandbyZoneSet");
	assert_int_equal(json_array_size(standby), 2);
	assert_string_equal(json_string_value(json_array_get(standby, 0)), "ap-guangzhou-3");
	json_decref(out);

	/* No region: every zone. An unknown region: the documented error. */
	assert_int_equal(call(catalog_describe_zones, "DescribeZones", NULL, NULL, &out, &e), ERR_OK);
	assert_int_equal(json_integer_value(json_object_get(out, "TotalCount")), 2);
	json_decref(out);
	assert_int_equal(call(catalog_describe_zones, "DescribeZones", NULL, "ap-beijing", &out, &e),
			 ERR_INVALID_PARAMETER_VALUE_REGION_NOT_SUPPORTED);
	json_decref(out);
	assert_int_equal(call(catalog_describe_zones, "DescribeZones", "{\"StorageType\":\"TAPE\"}",
			      NULL, &out, &e),
			 ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR);
	json_decref(out);
}

static void test_describe_product_config(void **state)
{
	json_t *out, *list, *info, *item;
	struct err e;

	assert_int_equal(call(catalog_describe_product_config, "DescribeProductConfig", NULL,
			      "ap-guangzhou", &out, &e), ERR_OK);
	list = json_object_get(out, "SpecInfoList");
	assert_int_equal(json_array_size(list), 2);
	info = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(info, "Region")), "ap-guangzhou");
	assert_string_equal(json_string_value(json_object_get(info, "Zone")), "ap-guangzhou-3");
	assert_true(json_is_array(json_object_get(info, "SupportKMSRegions")));
	/* 8 specs x 3 installed versions, sorted by version. */
	assert_int_equal(json_array_size(json_object_get(info, "SpecItemInfoList")), 8 * NVERSIONS);
	item = json_array_get(json_object_get(info, "SpecItemInfoList"), 0);
	assert_string_equal(json_string_value(json_object_get(item, "SpecCode")), "cdb.pg.z1.2g");
	assert_string_equal(json_string_value(json_object_get(item, "Version")), "14.2");
	assert_string_equal(json_string_value(json_object_get(item, "VersionName")), "PostgreSQL 14");
	assert_int_equal(json_integer_value(json_object_get(item, "Cpu")), 1);
	assert_int_equal(json_integer_value(json_object_get(item, "Memory")), 2048);
	assert_int_equal(json_integer_value(json_object_get(item, "MaxStorage")), 1000);
	assert_int_equal(json_integer_value(json_object_get(item, "MinStorage")), 10);
	assert_int_equal(json_integer_value(json_object_get(item, "Qps")), 2100);
	assert_true(json_is_integer(json_object_get(item, "Pid")));
	assert_string_equal(json_string_value(json_object_get(item, "Type")), "machine");
	assert_string_equal(json_string_value(json_object_get(item, "MajorVersion")), "14");
	assert_string_equal(json_string_value(json_object_get(item, "KernelVersion")), "v14.2_r1.0");
	assert_int_equal(json_integer_value(json_object_get(item, "IsSupportTDE")), 0);
	assert_int_equal(json_object_size(item), 13);
	json_decref(out);

	assert_int_equal(call(catalog_describe_product_config, "DescribeProductConfig",
			      "{\"Zone\":\"ap-guangzhou-6\",\"DBEngine\":\"postgresql\","
			      "\"StorageType\":\"CLOUD_SSD\"}", "ap-guangzhou", &out, &e), ERR_OK);
	assert_int_equal(json_array_size(json_object_get(out, "SpecInfoList")), 1);
	json_decref(out);
	assert_int_equal(call(catalog_describe_product_config, "DescribeProductConfig",
			      "{\"Zone\":\"ap-guangzhou-2\"}", "ap-guangzhou", &out, &e),
			 ERR_INVALID_PARAMETER_VALUE_ILLEGAL_ZONE);
	json_decref(out);
	assert_int_equal(call(catalog_describe_product_config, "DescribeProductConfig",
			      "{\"DBEngine\":\"mssql_compatible\"}", NULL, &out, &e),
			 ERR_UNSUPPORTED_OPERATION);
	assert_non_null(strstr(e.msg, "mssql_compatible"));
	json_decref(out);
	/* A region with no zones here has nothing to sell. */
	assert_int_equal(call(catalog_describe_product_config, "DescribeProductConfig", NULL,
			      "ap-beijing", &out, &e), ERR_OK);
	assert_int_equal(json_array_size(json_object_get(out, "SpecInfoList")), 0);
	json_decref(out);
}

static void test_describe_db_versions(void **state)
{
	json_t *out, *set, *v;
	struct err e;

	assert_int_equal(call(catalog_describe_db_versions, "DescribeDBVersions", NULL, "ap-guangzhou",
			      &out, &e), ERR_OK);
	set = json_object_get(out, "VersionSet");
	assert_int_equal(json_array_size(set), 3);
	v = json_array_get(set, 0);
	assert_string_equal(json_string_value(json_object_get(v, "DBEngine")), "postgresql");
	assert_string_equal(json_string_value(json_object_get(v, "DBVersion")), "14.2");
	assert_string_equal(json_string_value(json_object_get(v, "DBMajorVersion")), "14");
	assert_string_equal(json_string_value(json_object_get(v, "DBKernelVersion")), "v14.2_r1.0");
	assert_string_equal(json_string_value(json_object_get(v, "Status")), "AVAILABLE");
	assert_int_equal(json_array_size(json_object_get(v, "SupportedFeatureNames")), 0);
	assert_int_equal(json_array_size(json_object_get(v, "AvailableUpgradeTarget")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(v, "AvailableUpgradeTarget"), 0)),
			    "v14.3_r1.0");
	v = json_array_get(set, 1);
	assert_string_equal(json_string_value(json_object_get(v, "DBVersion")), "14.3");
	assert_int_equal(json_array_size(json_object_get(v, "AvailableUpgradeTarget")), 0);
	v = json_array_get(set, 2);
	assert_string_equal(json_string_value(json_object_get(v, "DBKernelVersion")), "v15.18_r1.0");
	assert_int_equal(json_array_size(json_object_get(v, "AvailableUpgradeTarget")), 0);
	assert_int_equal(json_object_size(v), 7);
	json_decref(out);
	assert_int_equal(call(catalog_describe_db_versions, "DescribeDBVersions",
			      "{\"StorageType\":\"floppy\"}", NULL, &out, &e),
			 ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR);
	json_decref(out);
}

static void test_describe_classes(void **state)
{
	json_t *out, *set, *c;
	struct err e;

	assert_int_equal(call(catalog_describe_classes, "DescribeClasses",
			      "{\"Zone\":\"ap-guangzhou-3\",\"DBEngine\":\"postgresql\",\"DBMajorVersion\":\"15\"}",
			      "ap-guangzhou", &out, &e), ERR_OK);
	set = json_object_get(out, "ClassInfoSet");
	assert_int_equal(json_array_size(set), 8);
	c = json_array_get(set, 7);
	assert_string_equal(json_string_value(json_object_get(c, "SpecCode")), "cdb.pg.z1.64g");
	assert_int_equal(json_integer_value(json_object_get(c, "CPU")), 16);
	assert_int_equal(json_integer_value(json_object_get(c, "Memory")), 65536);
	assert_int_equal(json_integer_value(json_object_get(c, "MinStorage")), 10);
	assert_int_equal(json_integer_value(json_object_get(c, "MaxStorage")), 6000);
	assert_int_equal(json_integer_value(json_object_get(c, "QPS")), 60000);
	assert_int_equal(json_object_size(c), 6);
	json_decref(out);

	assert_int_equal(call(catalog_describe_classes, "DescribeClasses",
			      "{\"Zone\":\"ap-guangzhou-9\",\"DBEngine\":\"postgresql\",\"DBMajorVersion\":\"15\"}",
			      NULL, &out, &e), ERR_INVALID_PARAMETER_VALUE_INVALID_ZONE_ID_ERROR);
	json_decref(out);
	/* A zone of another region than the request's. */
	assert_int_equal(call(catalog_describe_classes, "DescribeClasses",
			      "{\"Zone\":\"ap-guangzhou-3\",\"DBEngine\":\"postgresql\",\"DBMajorVersion\":\"15\"}",
			      "ap-shanghai", &out, &e), ERR_INVALID_PARAMETER_VALUE_INVALID_ZONE_ID_ERROR);
	json_decref(out);
	assert_int_equal(call(catalog_describe_classes, "DescribeClasses",
			      "{\"Zone\":\"ap-guangzhou-3\",\"DBEngine\":\"postgresql\",\"DBMajorVersion\":\"11\"}",
			      NULL, &out, &e), ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR);
	assert_non_null(strstr(e.msg, "11"));
	json_decref(out);
	assert_int_equal(call(catalog_describe_classes, "DescribeClasses",
			      "{\"Zone\":\"ap-guangzhou-3\",\"DBEngine\":\"mssql_compatible\",\"DBMajorVersion\":\"15\"}",
			      NULL, &out, &e), ERR_UNSUPPORTED_OPERATION);
	json_decref(out);
}

static void test_not_loaded(void **state)
{
	json_t *out;
	struct err e;

	catalog_close();
	assert_null(catalog_spec_find("cdb.pg.z1.2g"));
	assert_false(catalog_zone_exists("ap-guangzhou-3"));
	assert_null(catalog_version_find(NULL, NULL, NULL));
	assert_int_equal(call(catalog_describe_regions, "DescribeRegions", NULL, NULL, &out, &e),
			 ERR_INTERNAL_ERROR);
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_catalog_lookups, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_custom_catalog, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_bad_catalogs, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_no_versions, setup_default, teardown),
		cmocka_unit_test(test_pgversion_parse),
		cmocka_unit_test(test_pgversion_cmp),
		cmocka_unit_test(test_pgversion_discover_fake),
		cmocka_unit_test_teardown(test_catalog_init_real, teardown),
		cmocka_unit_test_teardown(test_catalog_init_empty_root, teardown),
		cmocka_unit_test_setup_teardown(test_describe_regions, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_describe_zones, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_describe_product_config, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_describe_db_versions, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_describe_classes, setup_default, teardown),
		cmocka_unit_test_setup_teardown(test_not_loaded, setup_default, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
