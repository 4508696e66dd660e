/*
 * catalog.h - what can be bought where: regions, zones, specs (from the
 * config's catalog) and database versions (from the PostgreSQL binaries
 * really installed, discovered once at start through the spawn module).
 * Later modules (instances, billing) use the lookups to validate requests.
 */
#ifndef PGFLEET_API_CATALOG_H
#define PGFLEET_API_CATALOG_H

#include <stddef.h>

#include "api/api.h"
#include "core/config.h"

struct catalog_spec {
	char code[64];        /* SpecCode, e.g. "cdb.pg.z1.2g" */
	int cpu;              /* cores */
	int memory_mb;        /* MB */
	int min_storage_gb;
	int max_storage_gb;
	int qps;              /* indicative, as the cloud shows it */
};

struct catalog_version {
	char major[8];        /* "15" */
	char version[16];     /* "15.18" (DBVersion) */
	char kernel[32];      /* "v15.18_r1.0" (DBKernelVersion) */
	char bin_dir[256];    /* /usr/lib/postgresql/15/bin */
};

/* Load the catalog from `cfg` and discover installed PostgreSQL versions
 * under cfg->pg_bin_root. Fails (ERR_INVALID_PARAMETER_VALUE) when the
 * catalog's shape is wrong, naming the entry, and (ERR_INTERNAL_ERROR) when
 * no PostgreSQL server is installed. Call once at start, before serving. */
int catalog_init(const struct config *cfg, struct err *e);
void catalog_close(void);

/* Load a catalog object (the shape documented in core/catalog_default.h)
 * and the given versions (at least one), replacing any loaded catalog.
 * catalog_init() = discovery + this; tests call it directly. */
int catalog_load(const json_t *catalog, const struct catalog_version *versions,
		 size_t nversions, struct err *e);

/* Lookups; NULL/0 when unknown or when no catalog is loaded. Pointers stay
 * valid until catalog_close() or the next catalog_load(). A NULL argument of
 * catalog_version_find() matches any value; of several matches it returns
 * the newest version. */
const struct catalog_spec *catalog_spec_find(const char *code);
const struct catalog_version *catalog_version_find(const char *major, const char *version,
						    const char *kernel);
int catalog_zone_exists(const char *zone);
int catalog_region_exists(const char *region);
/* The region a zone belongs to ("ap-guangzhou"); NULL when unknown. */
const char *catalog_zone_region(const char *zone);

/* Action handlers. */
int catalog_describe_regions(struct api_ctx *ctx, json_t *out, struct err *e);
int catalog_describe_zones(struct api_ctx *ctx, json_t *out, struct err *e);
int catalog_describe_product_config(struct api_ctx *ctx, json_t *out, struct err *e);
int catalog_describe_db_versions(struct api_ctx *ctx, json_t *out, struct err *e);
int catalog_describe_classes(struct api_ctx *ctx, json_t *out, struct err *e);

#endif
