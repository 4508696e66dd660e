/*
 * parameters_info.c - the ParamInfo object of the API, built from a
 * catalog setting (src/pg/pgparams.h): type, unit, range, enum values,
 * whether a change needs a restart (postmaster context), its category in
 * English and Chinese, whether it scales with the spec (with the value and
 * range for each spec in SpecRelationSet) and the version it describes
 * (VersionRelationSet). Ranges are the ones a tenant may use: the server's
 * narrowed by the policy and, for an instance, by its spec.
 */
#include <stdio.h>
#include <string.h>

#include "api/parameters.h"
#include "core/log.h"

struct fleet *params_fleet(const struct api_ctx *ctx)
{
	return ctx->svc->fleet;
}

void params_view_version(const struct api_ctx *ctx, const struct pgparams_catalog *cat, const char *kernel,
			 struct params_view *v)
{
	json_t *specs = json_object_get(ctx->svc->cfg->catalog, "specs"), *s;
	size_t i;

	memset(v, 0, sizeof(*v));
	v->cat = cat;
	v->kernel = kernel;
	json_array_foreach(specs, i, s) {
		const struct catalog_spec *cs = catalog_spec_find(json_string_value(json_object_get(s, "SpecCode")));
		if (cs == NULL || v->nspecs == PARAMS_SPECS_MAX)
			continue;
		v->specs[v->nspecs++] = (struct pgnode_conf){ cs->memory_mb, cs->cpu, cs->min_storage_gb };
	}
}

void params_view_instance(const struct pgparams_catalog *cat, const json_t *doc, struct pgnode_conf *spec,
			  struct params_view *v)
{
	memset(v, 0, sizeof(*v));
	params_spec_of(doc, spec);
	v->cat = cat;
	v->kernel = json_string_value(json_object_get(doc, "DBKernelVersion"));
	v->spec = spec;
	v->specs[0] = *spec;
	v->nspecs = 1;
}

const char *params_version_default(const struct params_view *v, const struct pgparams_def *d, char *buf,
				   size_t cap)
{
	if ((d->flags & PGPARAMS_F_SPEC) && v->nspecs > 0 && pgparams_spec_default(d, &v->specs[0], buf, cap) == 0)
		return buf;
	return d->file_default != NULL ? d->file_default : d->boot;
}

static const char *params_type_name(enum pgparams_kind k)
{
	switch (k) {
	case PGPARAMS_K_BOOL:
		return "bool";
	case PGPARAMS_K_INTEGER:
		return "integer";
	case PGPARAMS_K_REAL:
		return "real";
	case PGPARAMS_K_MULTI:
		return "mutil_enum"; /* sic: the API's spelling */
	default:
		return "enum";
	}
}

static json_t *params_enum_values(const struct pgparams_def *d)
{
	json_t *a;

	if (d->kind != PGPARAMS_K_ENUM && d->kind != PGPARAMS_K_MULTI)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < d->nvalues; i++)
		json_array_append_new(a, json_string(d->values[i]));
	return a;
}

/* "Write-Ahead Log / Settings" -> "Write-Ahead Log" */
static json_t *params_class_en(const struct pgparams_def *d)
{
	size_t len = strcspn(d->category, "/");

	while (len > 0 && d->category[len - 1] == ' ')
		len--;
	return json_stringn(d->category, len);
}

static void params_memory_name(int mb, char *out, size_t cap)
{
	if (mb % 1024 == 0)
		snprintf(out, cap, "%dGB", mb / 1024);
	else
		snprintf(out, cap, "%dMB", mb);
}

/* One entry per spec, skipping one identical to the previous entry. */
static json_t *params_spec_relations(const struct params_view *v, const struct pgparams_def *d)
{
	json_t *set = json_array();
	char mem[32], val[64], prev[192] = "", key[192];

	for (size_t i = 0; i < v->nspecs; i++) {
		double min, max;
		pgparams_range(d, &v->specs[i], &min, &max);
		if (pgparams_spec_default(d, &v->specs[i], val, sizeof(val)) < 0)
			snprintf(val, sizeof(val), "%s", d->file_default != NULL ? d->file_default : d->boot);
		params_memory_name(v->specs[i].memory_mb, mem, sizeof(mem));
		snprintf(key, sizeof(key), "%s|%s|%.17g|%.17g", mem, val, min, max);
		if (strcmp(key, prev) == 0)
			continue;
		snprintf(prev, sizeof(prev), "%s", key);
		json_array_append_new(set, json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:o}", "Name", d->name, "Memory",
						     mem, "Value", val, "Unit", d->unit, "Max", max, "Min", min,
						     "EnumValue", params_enum_values(d)));
	}
	return set;
}

static json_t *params_version_relations(const struct params_view *v, const struct pgparams_def *d,
					const char *deflt)
{
	double min, max;

	pgparams_range(d, v->spec, &min, &max);
	return json_pack("[{s:s, s:s, s:s, s:s, s:f, s:f, s:o}]", "Name", d->name, "DBKernelVersion",
			 v->kernel != NULL ? v->kernel : "", "Value", deflt, "Unit", d->unit, "Max", max, "Min", min,
			 "EnumValue", params_enum_values(d));
}

json_t *params_info(const struct params_view *v, const struct pgparams_def *d, const char *current,
		    const char *deflt, const char *last_modify)
{
	double min, max;
	json_t *o;

	pgparams_range(d, v->spec, &min, &max);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:o, s:s, s:s, s:b, s:s, s:o, s:b, s:b, s:s, s:i}",
		      "ID", d->id, "Name", d->name, "ParamValueType", params_type_name(d->kind), "Unit", d->unit,
		      "DefaultValue", deflt, "CurrentValue", current, "Max", max, "Min", min, "EnumValue",
		      params_enum_values(d), "ParamDescriptionCH", d->desc_cn, "ParamDescriptionEN", d->desc_en,
		      "NeedReboot", d->context == PGPARAMS_C_POSTMASTER, "ClassificationCN",
		      pgparams_category_cn(d->category), "ClassificationEN", params_class_en(d), "SpecRelated",
		      (d->flags & PGPARAMS_F_SPEC) != 0, "Advanced", (d->flags & PGPARAMS_F_ADVANCED) != 0,
		      "LastModifyTime", last_modify, "StandbyRelated", (d->flags & PGPARAMS_F_STANDBY) ? 1 : 0);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "VersionRelationSet", params_version_relations(v, d, deflt));
	json_object_set_new(o, "SpecRelationSet", (d->flags & PGPARAMS_F_SPEC) ? params_spec_relations(v, d)
										: json_null());
	return o;
}

int params_catalog_major(const struct api_ctx *ctx, const char *major, const char *engine,
			 const struct catalog_version **ver, const struct pgparams_catalog **cat, struct err *e)
{
	if (engine != NULL && strcmp(engine, "postgresql") != 0)
		return err_set(e, ERR_UNSUPPORTED_OPERATION, "Only the postgresql engine is available.");
	*ver = catalog_version_find(major, NULL, NULL);
	if (*ver == NULL || strcmp((*ver)->major, major) != 0)
		return err_set(e, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR,
			       "PostgreSQL %.16s is not available (see DescribeDBVersions).", major);
	if (params_catalog_for(params_fleet(ctx), (*ver)->bin_dir, (*ver)->version, cat, e) != 0) {
		log_error(ctx->request_id, "parameter catalog of %s: %s", (*ver)->bin_dir, err_message(e, ERR_LANG_EN));
		return err_set(e, ERR_FAILED_OPERATION_DATABASE_ACCESS_ERROR,
			       "The parameters of PostgreSQL %s cannot be read right now; retry later.", (*ver)->major);
	}
	return 0;
}
