/*
 * parameters.h - what the parameter actions share (src/api/parameters*.c):
 * the ParamInfo view of a catalog setting, and the catalog of a requested
 * major version.
 *
 *   parameters.c            instance parameters, defaults, change events; the action table
 *   parameters_info.c       ParamInfo, catalogs by major version
 *   parameters_templates.c  parameter templates (per tenant)
 */
#ifndef PGFLEET_API_PARAMETERS_H
#define PGFLEET_API_PARAMETERS_H

#include "api/api.h"
#include "api/catalog.h"
#include "pg/pgparams.h"
#include "task/parameter_tasks.h"

#define PARAMS_SPECS_MAX 128     /* specs listed in a SpecRelationSet */

/* How settings are shown: one instance's (its spec bounds the ranges) or
 * a version's (every spec of the catalog in SpecRelationSet). */
struct params_view {
	const struct pgparams_catalog *cat;
	const char *kernel;                          /* DBKernelVersion */
	const struct pgnode_conf *spec;              /* the instance's, or NULL */
	struct pgnode_conf specs[PARAMS_SPECS_MAX];  /* SpecRelationSet entries */
	size_t nspecs;
};

/* The view of a version: every spec sold (smallest storage of each). */
void params_view_version(const struct api_ctx *ctx, const struct pgparams_catalog *cat, const char *kernel,
			 struct params_view *v);

/* The view of an instance (document `doc`). */
void params_view_instance(const struct pgparams_catalog *cat, const json_t *doc, struct pgnode_conf *spec,
			  struct params_view *v);

/* The ParamInfo of a changeable setting. current/deflt: strings in
 * pg_settings form ("" when unknown); last_modify "YYYY-MM-DD HH:MM:SS" or "". */
json_t *params_info(const struct params_view *v, const struct pgparams_def *d, const char *current,
		    const char *deflt, const char *last_modify);

/* A version's default for `d` without an instance: the first spec's value
 * for spec-related settings, else what pgfleet.conf or initdb configure,
 * else the compiled-in default. */
const char *params_version_default(const struct params_view *v, const struct pgparams_def *d, char *buf,
				   size_t cap);

/* DBMajorVersion + DBEngine of a request: the installed version and its
 * catalog. An unknown major version: InvalidParameter.ParameterCheckError;
 * mssql_compatible: UnsupportedOperation. */
int params_catalog_major(const struct api_ctx *ctx, const char *major, const char *engine,
			 const struct catalog_version **ver, const struct pgparams_catalog **cat, struct err *e);

/* The fleet behind the handlers. */
struct fleet *params_fleet(const struct api_ctx *ctx);

int params_templates_create(struct api_ctx *ctx, json_t *out, struct err *e);
int params_templates_modify(struct api_ctx *ctx, json_t *out, struct err *e);
int params_templates_describe(struct api_ctx *ctx, json_t *out, struct err *e);
int params_templates_attributes(struct api_ctx *ctx, json_t *out, struct err *e);
int params_templates_delete(struct api_ctx *ctx, json_t *out, struct err *e);

#endif
