/*
 * catalog.c - regions, zones, specs and database versions, and the five
 * Specification actions that show them (see catalog.h).
 *
 * At start the config's catalog object (shape in core/catalog_default.h) is
 * checked entry by entry against small field tables and copied into fixed
 * arrays; the installed PostgreSQL versions come from pg/pgversion. The
 * result is immutable until catalog_close(), so the HTTP workers read it
 * without locks.
 *
 * Errors of the actions are the documented ones: an unknown zone is
 * InvalidParameterValue.InvalidZoneIdError for DescribeClasses and
 * InvalidParameterValue.IllegalZone for DescribeProductConfig; a major
 * version that is not installed or a StorageType outside the SDK's enum is
 * InvalidParameter.ParameterCheckError; an unknown request region is
 * InvalidParameterValue.RegionNotSupported for DescribeZones. The engine
 * mssql_compatible is UnsupportedOperation (common code): only PostgreSQL
 * is sold. Every StorageType is served from the host's own disks, so it
 * does not change the answer.
 */
#include "api/catalog.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "pg/pgversion.h"

#define CATALOG_REGIONS_MAX   64
#define CATALOG_ZONES_MAX     256
#define CATALOG_SPECS_MAX     128
#define CATALOG_STANDBY_MAX   16
#define CATALOG_VERSIONS_MAX  PGVERSION_MAX
#define CATALOG_NAME_LEN      32    /* region and zone names, NUL included */
#define CATALOG_TEXT_LEN      128   /* display names, NUL included */
#define CATALOG_ENGINE        "postgresql"
#define CATALOG_MACHINE_TYPE  "machine"

struct catalog_region {
	char region[CATALOG_NAME_LEN];
	char name[CATALOG_TEXT_LEN];
	int id;
	char state[24];
	int international;
};

struct catalog_zone {
	char zone[CATALOG_NAME_LEN];
	char region[CATALOG_NAME_LEN];
	char name[CATALOG_TEXT_LEN];
	int id;
	char state[24];
	int ipv6;
	char standby[CATALOG_STANDBY_MAX][CATALOG_NAME_LEN];
	size_t nstandby;
};

struct catalog {
	struct catalog_region regions[CATALOG_REGIONS_MAX];
	size_t nregions;
	struct catalog_zone zones[CATALOG_ZONES_MAX];
	size_t nzones;
	struct catalog_spec specs[CATALOG_SPECS_MAX];
	size_t nspecs;
	struct catalog_version versions[CATALOG_VERSIONS_MAX]; /* ascending */
	size_t nversions;
};

static struct catalog *catalog_cur;

/* ---- field tables for loading -------------------------------------------- */

enum catalog_kind {
	CATALOG_K_NAME,  /* identifier from `charset` */
	CATALOG_K_TEXT,  /* printable text */
	CATALOG_K_INT,   /* integer in min..max, stored as int */
	CATALOG_K_ENUM,  /* one of `enums`; the first is the default */
};

struct catalog_field {
	const char *key;
	enum catalog_kind kind;
	bool required;
	size_t off, size;          /* where in the entry; string buffer size */
	int min, max, def;         /* CATALOG_K_INT */
	const char *charset;       /* CATALOG_K_NAME */
	const char *const *enums;  /* CATALOG_K_ENUM, NULL-terminated */
};

#define CATALOG_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"
#define CATALOG_SPEC_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-._"
#define CSTR(type, m) .off = offsetof(struct type, m), .size = sizeof(((struct type *)0)->m)
#define CINT(type, m) .off = offsetof(struct type, m), .size = sizeof(int)

static const char *const catalog_region_states[] = { "AVAILABLE", "UNAVAILABLE", NULL };
static const char *const catalog_zone_states[] = { "AVAILABLE", "UNAVAILABLE", "SELLOUT",
						   "SUPPORTMODIFYONLY", NULL };
static const char *const catalog_storage_types[] = { "PHYSICAL_LOCAL_SSD", "CLOUD_PREMIUM",
						     "CLOUD_SSD", "CLOUD_HSSD", NULL };

#define CREQ(name, k) .key = name, .kind = k, .required = true
#define COPT(name, k) .key = name, .kind = k, .required = false

static const struct catalog_field catalog_region_fields[] = {
	{ CREQ("Region", CATALOG_K_NAME), CSTR(catalog_region, region), .charset = CATALOG_NAME_CHARS },
	{ CREQ("RegionName", CATALOG_K_TEXT), CSTR(catalog_region, name) },
	{ CREQ("RegionId", CATALOG_K_INT), CINT(catalog_region, id), .max = 1000000000 },
	{ COPT("RegionState", CATALOG_K_ENUM), CSTR(catalog_region, state),
	  .enums = catalog_region_states },
	{ COPT("SupportInternational", CATALOG_K_INT), CINT(catalog_region, international), .max = 1 },
};

static const struct catalog_field catalog_zone_fields[] = {
	{ CREQ("Zone", CATALOG_K_NAME), CSTR(catalog_zone, zone), .charset = CATALOG_NAME_CHARS },
	{ CREQ("Region", CATALOG_K_NAME), CSTR(catalog_zone, region), .charset = CATALOG_NAME_CHARS },
	{ CREQ("ZoneName", CATALOG_K_TEXT), CSTR(catalog_zone, name) },
	{ CREQ("ZoneId", CATALOG_K_INT), CINT(catalog_zone, id), .max = 1000000000 },
	{ COPT("ZoneState", CATALOG_K_ENUM), CSTR(catalog_zone, state), .enums = catalog_zone_states },
	{ COPT("ZoneSupportIpv6", CATALOG_K_INT), CINT(catalog_zone, ipv6), .max = 1 },
};

static const struct catalog_field catalog_spec_fields[] = {
	{ CREQ("SpecCode", CATALOG_K_NAME), CSTR(catalog_spec, code), .charset = CATALOG_SPEC_CHARS },
	{ CREQ("Cpu", CATALOG_K_INT), CINT(catalog_spec, cpu), .min = 1, .max = 1024 },
	{ CREQ("Memory", CATALOG_K_INT), CINT(catalog_spec, memory_mb), .min = 256, .max = 16777216 },
	{ CREQ("MinStorage", CATALOG_K_INT), CINT(catalog_spec, min_storage_gb), .min = 1,
	  .max = 1000000 },
	{ CREQ("MaxStorage", CATALOG_K_INT), CINT(catalog_spec, max_storage_gb), .min = 1,
	  .max = 1000000 },
	{ CREQ("Qps", CATALOG_K_INT), CINT(catalog_spec, qps), .max = 1000000000 },
};

/* pgversion fills the same strings the catalog keeps. */
#define CATALOG_SAME_SIZE(m) \
	(sizeof(((struct pgversion *)0)->m) == sizeof(((struct catalog_version *)0)->m))
_Static_assert(CATALOG_SAME_SIZE(major) && CATALOG_SAME_SIZE(version) &&
	       CATALOG_SAME_SIZE(kernel) && CATALOG_SAME_SIZE(bin_dir),
	       "struct pgversion and struct catalog_version differ");

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- loading --------------------------------------------------------------- */

static bool catalog_text_ok(const char *s, size_t size)
{
	size_t n = strlen(s);

	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool catalog_enum_ok(const char *s, const char *const *enums)
{
	for (size_t i = 0; enums[i] != NULL; i++)
		if (strcmp(s, enums[i]) == 0)
			return true;
	return false;
}

/* Check one string value against its field; true when acceptable. */
static bool catalog_str_ok(const struct catalog_field *f, const char *s)
{
	switch (f->kind) {
	case CATALOG_K_NAME:
		return s[0] != '\0' && strlen(s) < f->size && strspn(s, f->charset) == strlen(s);
	case CATALOG_K_TEXT:
		return catalog_text_ok(s, f->size);
	case CATALOG_K_ENUM:
		return catalog_enum_ok(s, f->enums);
	default:
		return false;
	}
}

/* Store one member (or its default when absent) into `entry`. */
static int catalog_set_field(const struct catalog_field *f, const json_t *v, void *entry,
			     const char *where, struct err *e)
{
	char *dst = (char *)entry + f->off;

	if (v == NULL && f->required)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "catalog: %s: %s is required",
			       where, f->key);
	if (f->kind == CATALOG_K_INT) {
		long long x = v == NULL ? f->def : json_integer_value(v);
		if (v != NULL && (!json_is_integer(v) || x < f->min || x > f->max))
			return err_set(e, ERR_INVALID_PARAMETER_VALUE,
				       "catalog: %s: %s must be an integer in %d..%d", where, f->key,
				       f->min, f->max);
		*(int *)(void *)dst = (int)x;
		return 0;
	}
	if (v == NULL) {
		snprintf(dst, f->size, "%s", f->enums != NULL ? f->enums[0] : "");
		return 0;
	}
	if (!json_is_string(v) || !catalog_str_ok(f, json_string_value(v)))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "catalog: %s: bad value for %s",
			       where, f->key);
	snprintf(dst, f->size, "%s", json_string_value(v));
	return 0;
}

static bool catalog_field_known(const struct catalog_field *fields, size_t n, const char *key,
				const char *extra)
{
	if (extra != NULL && strcmp(key, extra) == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].key, key) == 0)
			return true;
	return false;
}

/* Fill `entry` from the object `obj` by the field table. `extra` names one
 * more member the caller handles itself (NULL: none). */
static int catalog_load_entry(const json_t *obj, const struct catalog_field *fields, size_t n,
			      const char *extra, void *entry, const char *where, struct err *e)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "catalog: %s: expected an object",
			       where);
	json_object_foreach((json_t *)obj, key, v)
		if (!catalog_field_known(fields, n, key, extra))
			return err_set(e, ERR_INVALID_PARAMETER_VALUE,
				       "catalog: %s: unknown key \"%s\"", where, key);
	for (size_t i = 0; i < n; i++)
		if (catalog_set_field(&fields[i], json_object_get(obj, fields[i].key), entry,
				      where, e) < 0)
			return -1;
	return 0;
}

/* The array `key` of the catalog, with 1..max entries. */
static const json_t *catalog_section(const json_t *cat, const char *key, size_t max,
				     struct err *e)
{
	const json_t *a = json_object_get(cat, key);

	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > max) {
		err_set(e, ERR_INVALID_PARAMETER_VALUE,
			"catalog: \"%s\" must be an array of 1 to %zu entries", key, max);
		return NULL;
	}
	return a;
}

static const struct catalog_region *catalog_region_in(const struct catalog *c, const char *name)
{
	for (size_t i = 0; name != NULL && i < c->nregions; i++)
		if (strcmp(c->regions[i].region, name) == 0)
			return &c->regions[i];
	return NULL;
}

static const struct catalog_zone *catalog_zone_in(const struct catalog *c, const char *name)
{
	for (size_t i = 0; name != NULL && i < c->nzones; i++)
		if (strcmp(c->zones[i].zone, name) == 0)
			return &c->zones[i];
	return NULL;
}

static int catalog_load_regions(struct catalog *c, const json_t *cat, struct err *e)
{
	const json_t *a = catalog_section(cat, "regions", CATALOG_REGIONS_MAX, e);
	char where[48];

	if (a == NULL)
		return -1;
	for (size_t i = 0; i < json_array_size(a); i++) {
		struct catalog_region *r = &c->regions[i];
		snprintf(where, sizeof(where), "regions[%zu]", i);
		if (catalog_load_entry(json_array_get(a, i), catalog_region_fields,
				       NFIELDS(catalog_region_fields), NULL, r, where, e) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->regions[j].region, r->region) == 0 || c->regions[j].id == r->id)
				return err_set(e, ERR_INVALID_PARAMETER_VALUE,
					       "catalog: %s: Region or RegionId repeated", where);
		c->nregions = i + 1;
	}
	return 0;
}

/* Record the zone's StandbyZoneSet: the listed zones (which must exist in
 * the same region) or, when absent, every zone of its region. Runs after
 * all zones are loaded. */
static int catalog_zone_standby(struct catalog *c, struct catalog_zone *z, const json_t *list,
				const char *where, struct err *e)
{
	if (list == NULL) {
		for (size_t i = 0; i < c->nzones && z->nstandby < CATALOG_STANDBY_MAX; i++)
			if (strcmp(c->zones[i].region, z->region) == 0)
				snprintf(z->standby[z->nstandby++], CATALOG_NAME_LEN, "%s",
					 c->zones[i].zone);
		return 0;
	}
	if (!json_is_array(list) || json_array_size(list) > CATALOG_STANDBY_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "catalog: %s: StandbyZoneSet must be an array of at most %d zones",
			       where, CATALOG_STANDBY_MAX);
	for (size_t i = 0; i < json_array_size(list); i++) {
		const struct catalog_zone *s = catalog_zone_in(c, json_string_value(json_array_get(list, i)));
		if (s == NULL || strcmp(s->region, z->region) != 0)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE,
				       "catalog: %s: StandbyZoneSet[%zu] is not a zone of %s", where,
				       i, z->region);
		snprintf(z->standby[z->nstandby++], CATALOG_NAME_LEN, "%s", s->zone);
	}
	return 0;
}

static int catalog_load_zone(struct catalog *c, const json_t *obj, size_t i, struct err *e)
{
	struct catalog_zone *z = &c->zones[i];
	char where[48];

	snprintf(where, sizeof(where), "zones[%zu]", i);
	if (catalog_load_entry(obj, catalog_zone_fields, NFIELDS(catalog_zone_fields),
			       "StandbyZoneSet", z, where, e) < 0)
		return -1;
	if (catalog_region_in(c, z->region) == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "catalog: %s: Region %s is not in \"regions\"", where, z->region);
	for (size_t j = 0; j < i; j++)
		if (strcmp(c->zones[j].zone, z->zone) == 0 || c->zones[j].id == z->id)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE,
				       "catalog: %s: Zone or ZoneId repeated", where);
	return 0;
}

static int catalog_load_zones(struct catalog *c, const json_t *cat, struct err *e)
{
	const json_t *a = catalog_section(cat, "zones", CATALOG_ZONES_MAX, e);
	char where[48];

	if (a == NULL)
		return -1;
	for (size_t i = 0; i < json_array_size(a); i++) {
		if (catalog_load_zone(c, json_array_get(a, i), i, e) < 0)
			return -1;
		c->nzones = i + 1;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		snprintf(where, sizeof(where), "zones[%zu]", i);
		if (catalog_zone_standby(c, &c->zones[i],
					 json_object_get(json_array_get(a, i), "StandbyZoneSet"),
					 where, e) < 0)
			return -1;
	}
	return 0;
}

static int catalog_load_specs(struct catalog *c, const json_t *cat, struct err *e)
{
	const json_t *a = catalog_section(cat, "specs", CATALOG_SPECS_MAX, e);
	char where[48];

	if (a == NULL)
		return -1;
	for (size_t i = 0; i < json_array_size(a); i++) {
		struct catalog_spec *s = &c->specs[i];
		snprintf(where, sizeof(where), "specs[%zu]", i);
		if (catalog_load_entry(json_array_get(a, i), catalog_spec_fields,
				       NFIELDS(catalog_spec_fields), NULL, s, where, e) < 0)
			return -1;
		if (s->max_storage_gb < s->min_storage_gb)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE,
				       "catalog: %s: MaxStorage is below MinStorage", where);
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->specs[j].code, s->code) == 0)
				return err_set(e, ERR_INVALID_PARAMETER_VALUE,
					       "catalog: %s: SpecCode %s repeated", where, s->code);
		c->nspecs = i + 1;
	}
	return 0;
}

static int catalog_version_order(const void *a, const void *b)
{
	const struct catalog_version *x = a, *y = b;
	int c = pgversion_cmp(x->version, y->version);

	return c != 0 ? c : strcmp(x->kernel, y->kernel);
}

static int catalog_load_versions(struct catalog *c, const struct catalog_version *v, size_t n,
				 struct err *e)
{
	if (n == 0)
		return err_set(e, ERR_INTERNAL_ERROR, "no PostgreSQL server versions installed");
	if (n > CATALOG_VERSIONS_MAX)
		return err_set(e, ERR_INTERNAL_ERROR, "more than %d PostgreSQL versions",
			       CATALOG_VERSIONS_MAX);
	for (size_t i = 0; i < n; i++)
		if (v[i].major[0] == '\0' || v[i].version[0] == '\0' || v[i].kernel[0] == '\0')
			return err_set(e, ERR_INTERNAL_ERROR, "incomplete PostgreSQL version entry");
	memcpy(c->versions, v, n * sizeof(*v));
	c->nversions = n;
	qsort(c->versions, n, sizeof(*v), catalog_version_order);
	return 0;
}

static int catalog_load_top(const json_t *cat, struct err *e)
{
	const char *key;
	json_t *v;

	if (!json_is_object(cat))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "catalog: expected an object");
	json_object_foreach((json_t *)cat, key, v)
		if (strcmp(key, "regions") != 0 && strcmp(key, "zones") != 0 &&
		    strcmp(key, "specs") != 0)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE,
				       "catalog: unknown key \"%s\"", key);
	return 0;
}

int catalog_load(const json_t *catalog, const struct catalog_version *versions,
		 size_t nversions, struct err *e)
{
	struct catalog *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (catalog_load_top(catalog, e) < 0 || catalog_load_regions(c, catalog, e) < 0 ||
	    catalog_load_zones(c, catalog, e) < 0 || catalog_load_specs(c, catalog, e) < 0 ||
	    catalog_load_versions(c, versions, nversions, e) < 0) {
		free(c);
		return -1;
	}
	free(catalog_cur);
	catalog_cur = c;
	log_info("catalog", "%zu regions, %zu zones, %zu specs, %zu PostgreSQL versions",
		 c->nregions, c->nzones, c->nspecs, c->nversions);
	return 0;
}

int catalog_init(const struct config *cfg, struct err *e)
{
	struct pgversion found[PGVERSION_MAX];
	struct catalog_version v[PGVERSION_MAX];
	size_t n = 0;

	if (cfg->catalog == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "catalog: missing");
	if (pgversion_discover(cfg->pg_bin_root, found, PGVERSION_MAX, &n, e) < 0)
		return -1;
	if (n == 0)
		return err_set(e, ERR_INTERNAL_ERROR,
			       "no PostgreSQL server binaries found under %s", cfg->pg_bin_root);
	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < n; i++) {
		memcpy(v[i].major, found[i].major, sizeof(v[i].major));
		memcpy(v[i].version, found[i].version, sizeof(v[i].version));
		memcpy(v[i].kernel, found[i].kernel, sizeof(v[i].kernel));
		memcpy(v[i].bin_dir, found[i].bin_dir, sizeof(v[i].bin_dir));
	}
	return catalog_load(cfg->catalog, v, n, e);
}

void catalog_close(void)
{
	free(catalog_cur);
	catalog_cur = NULL;
}

/* ---- lookups ----------------------------------------------------------- */

const struct catalog_spec *catalog_spec_find(const char *code)
{
	for (size_t i = 0; catalog_cur != NULL && code != NULL && i < catalog_cur->nspecs; i++)
		if (strcmp(catalog_cur->specs[i].code, code) == 0)
			return &catalog_cur->specs[i];
	return NULL;
}

static bool catalog_match(const char *want, const char *have)
{
	return want == NULL || strcmp(want, have) == 0;
}

const struct catalog_version *catalog_version_find(const char *major, const char *version,
						    const char *kernel)
{
	if (catalog_cur == NULL)
		return NULL;
	for (size_t i = catalog_cur->nversions; i-- > 0;) {
		const struct catalog_version *v = &catalog_cur->versions[i];
		if (catalog_match(major, v->major) && catalog_match(version, v->version) &&
		    catalog_match(kernel, v->kernel))
			return v;
	}
	return NULL;
}

int catalog_zone_exists(const char *zone)
{
	return catalog_cur != NULL && catalog_zone_in(catalog_cur, zone) != NULL;
}

int catalog_region_exists(const char *region)
{
	return catalog_cur != NULL && catalog_region_in(catalog_cur, region) != NULL;
}

const char *catalog_zone_region(const char *zone)
{
	const struct catalog_zone *z =
		catalog_cur != NULL ? catalog_zone_in(catalog_cur, zone) : NULL;

	return z != NULL ? z->region : NULL;
}

/* ---- handlers: shared checks ----------------------------------------------- */

/* The loaded catalog, or NULL after recording an internal error. */
static const struct catalog *catalog_get(struct err *e)
{
	if (catalog_cur == NULL)
		err_set(e, ERR_INTERNAL_ERROR, "catalog not loaded");
	return catalog_cur;
}

/* The request's region, NULL when it names none. */
static const char *catalog_req_region(const struct api_ctx *ctx)
{
	return ctx->region != NULL && ctx->region[0] != '\0' ? ctx->region : NULL;
}

/* StorageType is optional; when given it must be one of the SDK's values. */
static int catalog_check_storage(const struct api_ctx *ctx, enum err_code code, struct err *e)
{
	const char *st = api_param_str(ctx, "StorageType");

	if (st != NULL && !catalog_enum_ok(st, catalog_storage_types))
		return err_set(e, code, "StorageType %s is not supported; valid values: "
			       "PHYSICAL_LOCAL_SSD, CLOUD_PREMIUM, CLOUD_SSD, CLOUD_HSSD", st);
	return 0;
}

/* DBEngine: absent means postgresql; mssql_compatible is not sold here. */
static int catalog_check_engine(const char *engine, struct err *e)
{
	if (engine == NULL || strcmp(engine, CATALOG_ENGINE) == 0)
		return 0;
	return err_set(e, ERR_UNSUPPORTED_OPERATION,
		       "DBEngine %s is not supported; only postgresql is available", engine);
}

/* The zone named by the request, in the request's region if it names one;
 * NULL when there is no such zone. */
static const struct catalog_zone *catalog_req_zone(const struct catalog *c,
						   const struct api_ctx *ctx, const char *zone)
{
	const struct catalog_zone *z = catalog_zone_in(c, zone);
	const char *region = catalog_req_region(ctx);

	if (z != NULL && region != NULL && strcmp(z->region, region) != 0)
		return NULL;
	return z;
}

/* out[key] = value (stolen); an allocation failure is an internal error. */
static int catalog_put(json_t *out, const char *key, json_t *value, struct err *e)
{
	if (value == NULL || json_object_set_new(out, key, value) < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	return 0;
}

/* arr.append(value) (stolen), same failure rule. */
static int catalog_append(json_t *arr, json_t *value, struct err *e)
{
	if (value == NULL || json_array_append_new(arr, value) < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	return 0;
}

/* ---- DescribeRegions / DescribeZones ---------------------------------------- */

int catalog_describe_regions(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog *c = catalog_get(e);
	json_t *set;

	if (c == NULL)
		return -1;
	set = json_array();
	if (catalog_put(out, "RegionSet", set, e) < 0)
		return -1;
	for (size_t i = 0; i < c->nregions; i++) {
		const struct catalog_region *r = &c->regions[i];
		if (catalog_append(set, json_pack("{s:s, s:s, s:i, s:s, s:i}", "Region", r->region,
						  "RegionName", r->name, "RegionId", r->id,
						  "RegionState", r->state, "SupportInternational",
						  r->international), e) < 0)
			return -1;
	}
	return catalog_put(out, "TotalCount", json_integer((json_int_t)c->nregions), e);
}

static json_t *catalog_zone_json(const struct catalog_zone *z)
{
	json_t *standby = json_array();

	for (size_t i = 0; standby != NULL && i < z->nstandby; i++)
		if (json_array_append_new(standby, json_string(z->standby[i])) < 0) {
			json_decref(standby);
			standby = NULL;
		}
	if (standby == NULL)
		return NULL;
	return json_pack("{s:s, s:s, s:i, s:s, s:i, s:o}", "Zone", z->zone, "ZoneName", z->name,
			 "ZoneId", z->id, "ZoneState", z->state, "ZoneSupportIpv6", z->ipv6,
			 "StandbyZoneSet", standby);
}

int catalog_describe_zones(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog *c = catalog_get(e);
	const char *region = catalog_req_region(ctx);
	json_t *set;

	if (c == NULL ||
	    catalog_check_storage(ctx, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR, e) < 0)
		return -1;
	if (region != NULL && catalog_region_in(c, region) == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_REGION_NOT_SUPPORTED,
			       "The region %s is not supported.", region);
	set = json_array();
	if (catalog_put(out, "ZoneSet", set, e) < 0)
		return -1;
	for (size_t i = 0; i < c->nzones; i++)
		if ((region == NULL || strcmp(c->zones[i].region, region) == 0) &&
		    catalog_append(set, catalog_zone_json(&c->zones[i]), e) < 0)
			return -1;
	return catalog_put(out, "TotalCount", json_integer((json_int_t)json_array_size(set)), e);
}

/* ---- DescribeProductConfig -------------------------------------------------- */

static json_t *catalog_spec_item_json(const struct catalog_spec *s, const struct catalog_version *v)
{
	char name[32];

	snprintf(name, sizeof(name), "PostgreSQL %s", v->major);
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:i}",
			 "SpecCode", s->code, "Version", v->version, "VersionName", name,
			 "Cpu", s->cpu, "Memory", s->memory_mb, "MaxStorage", s->max_storage_gb,
			 "MinStorage", s->min_storage_gb, "Qps", s->qps, "Pid", 0,
			 "Type", CATALOG_MACHINE_TYPE, "MajorVersion", v->major,
			 "KernelVersion", v->kernel, "IsSupportTDE", 0);
}

/* One SpecInfo: every spec for every installed version, in zone `z`. */
static json_t *catalog_spec_info_json(const struct catalog *c, const struct catalog_zone *z)
{
	json_t *items = json_array();
	json_t *kms = json_array();

	for (size_t i = 0; items != NULL && i < c->nversions; i++)
		for (size_t j = 0; items != NULL && j < c->nspecs; j++)
			if (json_array_append_new(items, catalog_spec_item_json(&c->specs[j],
										&c->versions[i])) < 0) {
				json_decref(items);
				items = NULL;
			}
	if (items == NULL || kms == NULL) {
		json_decref(items);
		json_decref(kms);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:o, s:o}", "Region", z->region, "Zone", z->zone,
			 "SpecItemInfoList", items, "SupportKMSRegions", kms);
}

int catalog_describe_product_config(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog *c = catalog_get(e);
	const char *zone = api_param_str(ctx, "Zone");
	const char *region = catalog_req_region(ctx);
	json_t *list;

	if (c == NULL || catalog_check_storage(ctx, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR, e) < 0 ||
	    catalog_check_engine(api_param_str(ctx, "DBEngine"), e) < 0)
		return -1;
	if (zone != NULL && catalog_req_zone(c, ctx, zone) == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_ILLEGAL_ZONE,
			       "The availability zone %s does not exist in this region.", zone);
	list = json_array();
	if (catalog_put(out, "SpecInfoList", list, e) < 0)
		return -1;
	for (size_t i = 0; i < c->nzones; i++) {
		const struct catalog_zone *z = &c->zones[i];
		if ((zone != NULL && strcmp(z->zone, zone) != 0) ||
		    (region != NULL && strcmp(z->region, region) != 0))
			continue;
		if (catalog_append(list, catalog_spec_info_json(c, z), e) < 0)
			return -1;
	}
	return 0;
}

/* ---- DescribeDBVersions ----------------------------------------------------- */

/* Kernel versions of the same major newer than versions[idx], newest first. */
static json_t *catalog_upgrade_targets(const struct catalog *c, size_t idx)
{
	const struct catalog_version *v = &c->versions[idx];
	json_t *arr = json_array();

	for (size_t i = c->nversions; arr != NULL && i-- > idx + 1;) {
		const struct catalog_version *w = &c->versions[i];
		if (strcmp(w->major, v->major) != 0 || catalog_version_order(w, v) <= 0)
			continue;
		if (json_array_append_new(arr, json_string(w->kernel)) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

int catalog_describe_db_versions(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog *c = catalog_get(e);
	json_t *set;

	if (c == NULL || catalog_check_storage(ctx, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR, e) < 0)
		return -1;
	set = json_array();
	if (catalog_put(out, "VersionSet", set, e) < 0)
		return -1;
	for (size_t i = 0; i < c->nversions; i++) {
		const struct catalog_version *v = &c->versions[i];
		json_t *targets = catalog_upgrade_targets(c, i);
		json_t *features = json_array();
		if (targets == NULL || features == NULL) {
			json_decref(targets);
			json_decref(features);
			return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		}
		if (catalog_append(set, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o}",
						  "DBEngine", CATALOG_ENGINE, "DBVersion", v->version,
						  "DBMajorVersion", v->major, "DBKernelVersion",
						  v->kernel, "SupportedFeatureNames", features,
						  "Status", "AVAILABLE", "AvailableUpgradeTarget",
						  targets), e) < 0)
			return -1;
	}
	return 0;
}

/* ---- DescribeClasses -------------------------------------------------------- */

int catalog_describe_classes(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog *c = catalog_get(e);
	const char *zone = api_param_str(ctx, "Zone");
	const char *major = api_param_str(ctx, "DBMajorVersion");
	json_t *set;

	if (c == NULL || catalog_check_storage(ctx, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR, e) < 0 ||
	    catalog_check_engine(api_param_str(ctx, "DBEngine"), e) < 0)
		return -1;
	if (zone == NULL || catalog_req_zone(c, ctx, zone) == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ZONE_ID_ERROR,
			       "The availability zone %s does not exist in this region.",
			       zone != NULL ? zone : "(none)");
	if (major == NULL || catalog_version_find(major, NULL, NULL) == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR,
			       "DBMajorVersion %s is not available; see DescribeDBVersions.",
			       major != NULL ? major : "(none)");
	set = json_array();
	if (catalog_put(out, "ClassInfoSet", set, e) < 0)
		return -1;
	for (size_t i = 0; i < c->nspecs; i++) {
		const struct catalog_spec *s = &c->specs[i];
		if (catalog_append(set, json_pack("{s:s, s:i, s:i, s:i, s:i, s:i}", "SpecCode", s->code,
						  "CPU", s->cpu, "Memory", s->memory_mb,
						  "MaxStorage", s->max_storage_gb, "MinStorage",
						  s->min_storage_gb, "QPS", s->qps), e) < 0)
			return -1;
	}
	return 0;
}

const struct api_handler catalog_handlers[] = {
	{ "DescribeClasses", catalog_describe_classes },
	{ "DescribeDBVersions", catalog_describe_db_versions },
	{ "DescribeProductConfig", catalog_describe_product_config },
	{ "DescribeRegions", catalog_describe_regions },
	{ "DescribeZones", catalog_describe_zones },
	{ NULL, NULL },
};
