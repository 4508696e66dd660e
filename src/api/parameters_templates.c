/*
 * parameters_templates.c - parameter templates: named sets of parameter
 * values for one major version, owned by one tenant (a store resource of
 * kind "paramtpl" with the tenant's id; another tenant's template is as
 * absent as one that never existed). Every value is checked against the
 * catalog of the template's version, as ModifyDBInstanceParameters checks
 * it but without an instance's spec, and kept in canonical form.
 *
 * Document: {"TemplateName", "TemplateDescription", "DBMajorVersion",
 * "DBEngine", "Params": {name: value}, "CreatedUs"}; names are the
 * catalog's spelling; CreatedUs orders templates made within one second.
 *
 * Errors: a bad name, description, filter or parameter value is
 * InvalidParameterValue.InvalidParameterValueError (out of range:
 * InvalidParameterValue.ParameterOutOfRangeError, reserved parameter:
 * OperationDenied.CamDeniedError, as for instances); an unknown template is
 * FailedOperation.FailedOperationError, the one code every template action
 * documents; an uninstalled major version is InvalidParameter.ParameterCheckError.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/instances.h"
#include "api/parameters.h"

#define TPL_KIND          "paramtpl"
#define TPL_NAME_MAX      60
#define TPL_PER_TENANT    200      /* templates one tenant may keep */
#define TPL_LIMIT_DEFAULT 20
#define TPL_ENTRIES_MAX   PGPARAMS_SETTINGS_MAX
#define TPL_SYMBOLS       "-_./()+=:@"

/* ---- checks ------------------------------------------------------------------- */

/* 1-60 (description: 0-60) letters, digits and -_./()+=:@ */
static int tpl_check_text(const char *what, const char *s, size_t min, struct err *e)
{
	size_t len = strlen(s);

	if (len < min || len > TPL_NAME_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "%s must be %zu to %d characters long.", what, min, TPL_NAME_MAX);
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr(TPL_SYMBOLS, *p) != NULL))
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "%s may contain only letters, digits and the symbols %s.", what, TPL_SYMBOLS);
	return 0;
}

static int tpl_uuid(char out[37], struct err *e)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return err_set(e, ERR_INTERNAL_ERROR, "no randomness");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

static json_int_t tpl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (json_int_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The caller's template `id`. */
static int tpl_get(const struct api_ctx *ctx, const char *id, struct store_res *r, struct err *e)
{
	if (id != NULL && strlen(id) < STORE_ID_MAX &&
	    store_res_get(ctx->svc->store, TPL_KIND, id, ctx->tenant->id, r, e) == 0)
		return 0;
	if (id != NULL && e->code != ERR_RESOURCE_NOT_FOUND && strlen(id) < STORE_ID_MAX)
		return -1;
	return err_set(e, ERR_FAILED_OPERATION_FAILED_OPERATION_ERROR, "The parameter template `%.64s` does not exist.",
		       id ? id : "");
}

/* Fails when another template of the tenant (not `except`) is called `name`. */
static int tpl_name_free(const struct api_ctx *ctx, const char *name, const char *except, struct err *e)
{
	struct store_res *list;
	size_t n;
	int rc = 0;

	if (store_res_list(ctx->svc->store, TPL_KIND, ctx->tenant->id, &list, &n, e) != 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if ((except == NULL || strcmp(list[i].id, except) != 0) &&
		    strcmp(json_string_value(json_object_get(list[i].doc, "TemplateName")) ?: "", name) == 0)
			rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				     "A parameter template called `%s` already exists.", name);
	if (rc == 0 && except == NULL && n >= TPL_PER_TENANT)
		rc = err_set(e, ERR_LIMIT_EXCEEDED, "At most %d parameter templates may be kept.", TPL_PER_TENANT);
	store_res_list_free(list, n);
	return rc;
}

/* ---- CreateParameterTemplate ------------------------------------------------ */

static int tpl_insert(struct api_ctx *ctx, struct store_res *r, struct err *e)
{
	int rc;

	if (store_txn_begin(ctx->svc->store, e) != 0)
		return -1;
	rc = tpl_name_free(ctx, json_string_value(json_object_get(r->doc, "TemplateName")), NULL, e);
	if (rc == 0)
		rc = store_res_insert(ctx->svc->store, r, e);
	if (rc == 0)
		return store_txn_commit(ctx->svc->store, e);
	store_txn_rollback(ctx->svc->store);
	return -1;
}

int params_templates_create(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *name = api_param_str(ctx, "TemplateName");
	const char *desc = api_param_str(ctx, "TemplateDescription") ?: "";
	const struct catalog_version *ver;
	const struct pgparams_catalog *cat;
	struct store_res r;
	int rc;

	if (tpl_check_text("TemplateName", name, 1, e) != 0 || tpl_check_text("TemplateDescription", desc, 0, e) != 0 ||
	    params_catalog_major(ctx, api_param_str(ctx, "DBMajorVersion"), api_param_str(ctx, "DBEngine"), &ver, &cat,
				 e) != 0)
		return -1;
	memset(&r, 0, sizeof(r));
	snprintf(r.kind, sizeof(r.kind), TPL_KIND);
	snprintf(r.status, sizeof(r.status), "normal");
	r.tenant_id = ctx->tenant->id;
	if (tpl_uuid(r.id, e) != 0)
		return -1;
	r.doc = json_pack("{s:s, s:s, s:s, s:s, s:{}, s:I}", "TemplateName", name, "TemplateDescription", desc,
			  "DBMajorVersion", ver->major, "DBEngine", "postgresql", "Params", "CreatedUs", tpl_now_us());
	rc = r.doc != NULL ? tpl_insert(ctx, &r, e) : err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (rc == 0)
		json_object_set_new(out, "TemplateId", json_string(r.id));
	store_res_free(&r);
	return rc;
}

/* ---- ModifyParameterTemplate ------------------------------------------------ */

struct tpl_change {
	const char *name;          /* NULL: keep */
	const char *desc;          /* NULL: keep */
	json_t *set;               /* name -> canonical value */
	json_t *del;               /* names */
};

/* Catalog names and canonical values of ModifyParamEntrySet / DeleteParamSet. */
static int tpl_check_entries(const struct pgparams_catalog *cat, const struct api_ctx *ctx, struct tpl_change *c,
			     struct err *e)
{
	json_t *mod = json_object_get(ctx->params, "ModifyParamEntrySet"), *del = json_object_get(ctx->params, "DeleteParamSet");
	json_t *ent;
	char canon[PGPARAMS_VALUE_MAX + 1];
	size_t i;

	json_array_foreach(mod, i, ent) {
		const struct pgparams_def *d;
		if (pgparams_check(cat, json_string_value(json_object_get(ent, "Name")) ?: "",
				   json_string_value(json_object_get(ent, "ExpectedValue")) ?: "", NULL, &d, canon,
				   sizeof(canon), e) != 0)
			return -1;
		if (json_object_get(c->set, d->name) != NULL)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "The parameter `%s` appears more than once in ModifyParamEntrySet.", d->name);
		json_object_set_new(c->set, d->name, json_string(canon));
	}
	json_array_foreach(del, i, ent) {
		const char *n = json_string_value(ent) ?: "";
		const struct pgparams_def *d = pgparams_find(cat, n);
		if (d != NULL)
			n = d->name;
		if (json_object_get(c->set, n) != NULL)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "The parameter `%s` cannot be both modified and deleted.", n);
		json_array_append_new(c->del, json_string(n));
	}
	return 0;
}

static int tpl_apply(struct store_res *r, void *arg, struct err *e)
{
	const struct tpl_change *c = arg;
	json_t *params = json_object_get(r->doc, "Params"), *v;
	const char *k;
	size_t i;

	if (c->name != NULL)
		json_object_set_new(r->doc, "TemplateName", json_string(c->name));
	if (c->desc != NULL)
		json_object_set_new(r->doc, "TemplateDescription", json_string(c->desc));
	json_object_foreach(c->set, k, v) json_object_set(params, k, v);
	json_array_foreach(c->del, i, v) json_object_del(params, json_string_value(v));
	if (json_object_size(params) > TPL_ENTRIES_MAX)
		return err_set(e, ERR_LIMIT_EXCEEDED, "A template holds at most %d parameters.", TPL_ENTRIES_MAX);
	return 0;
}

static int tpl_modify_commit(struct api_ctx *ctx, const char *id, struct tpl_change *c, struct err *e)
{
	int rc;

	if (store_txn_begin(ctx->svc->store, e) != 0)
		return -1;
	rc = c->name != NULL ? tpl_name_free(ctx, c->name, id, e) : 0;
	if (rc == 0)
		rc = store_res_modify(ctx->svc->store, TPL_KIND, id, ctx->tenant->id, tpl_apply, c, e);
	if (rc == 0)
		return store_txn_commit(ctx->svc->store, e);
	store_txn_rollback(ctx->svc->store);
	return -1;
}

int params_templates_modify(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *id = api_param_str(ctx, "TemplateId");
	struct tpl_change c = { api_param_str(ctx, "TemplateName"), api_param_str(ctx, "TemplateDescription"),
				json_object(), json_array() };
	const struct catalog_version *ver;
	const struct pgparams_catalog *cat;
	struct store_res r;
	int rc = -1;

	if (c.name != NULL && c.name[0] == '\0')
		c.name = NULL; /* empty: keep the name, as the API documents */
	if (tpl_get(ctx, id, &r, e) != 0)
		goto out;
	rc = (c.name == NULL || tpl_check_text("TemplateName", c.name, 1, e) == 0) &&
	     (c.desc == NULL || tpl_check_text("TemplateDescription", c.desc, 0, e) == 0) &&
	     params_catalog_major(ctx, json_string_value(json_object_get(r.doc, "DBMajorVersion")), NULL, &ver, &cat,
				  e) == 0 &&
	     tpl_check_entries(cat, ctx, &c, e) == 0 && tpl_modify_commit(ctx, id, &c, e) == 0 ? 0 : -1;
	store_res_free(&r);
out:
	json_decref(c.set);
	json_decref(c.del);
	return rc;
}

/* ---- DescribeParameterTemplates --------------------------------------------- */

static const char *tpl_field(const struct store_res *r, const char *name)
{
	if (strcmp(name, "TemplateId") == 0)
		return r->id;
	return json_string_value(json_object_get(r->doc, name)) ?: "";
}

/* Does `r` pass every filter (values of one filter: any)? */
static bool tpl_matches(const struct store_res *r, const json_t *filters)
{
	size_t i, j;
	json_t *f, *v;

	json_array_foreach(filters, i, f) {
		const char *name = json_string_value(json_object_get(f, "Name")) ?: "";
		const char *have = tpl_field(r, name);
		bool any = json_array_size(json_object_get(f, "Values")) == 0;
		json_array_foreach(json_object_get(f, "Values"), j, v) {
			const char *want = json_string_value(v) ?: "";
			any |= strcmp(name, "TemplateName") == 0 ? strstr(have, want) != NULL : strcmp(have, want) == 0;
		}
		if (!any)
			return false;
	}
	return true;
}

static int tpl_check_filters(const json_t *filters, struct err *e)
{
	static const char *const names[] = { "TemplateName", "TemplateId", "DBMajorVersion", "DBEngine", NULL };
	size_t i;
	json_t *f;

	json_array_foreach(filters, i, f) {
		const char *name = json_string_value(json_object_get(f, "Name")) ?: "";
		bool ok = false;
		for (size_t k = 0; names[k] != NULL; k++)
			ok |= strcmp(names[k], name) == 0;
		if (!ok)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "Unknown filter `%.64s`: use TemplateName, TemplateId, DBMajorVersion or DBEngine.",
				       name);
	}
	return 0;
}

struct tpl_order {
	const char *key;           /* CreateTime, TemplateName, DBMajorVersion */
	bool desc;
};

/* A listed template and its creation time in microseconds (the store's
 * `created` has one-second resolution; the document keeps CreatedUs). */
struct tpl_item {
	const struct store_res *r;
	json_int_t seq;
};

static json_int_t tpl_created_us(const struct store_res *r)
{
	json_int_t us = json_integer_value(json_object_get(r->doc, "CreatedUs"));

	return us > 0 ? us : (json_int_t)r->created * 1000000;
}


/* "9.6" < "15": major versions compare as numbers. */
static int tpl_version_cmp(const char *a, const char *b)
{
	double x = strtod(a, NULL), y = strtod(b, NULL);

	return x < y ? -1 : x > y;
}

static int tpl_cmp(const void *a, const void *b, void *arg)
{
	const struct tpl_item *x = a, *y = b;
	const struct tpl_order *o = arg;
	int c = 0;

	if (strcmp(o->key, "DBMajorVersion") == 0)
		c = tpl_version_cmp(tpl_field(x->r, o->key), tpl_field(y->r, o->key));
	else if (strcmp(o->key, "TemplateName") == 0)
		c = strcmp(tpl_field(x->r, o->key), tpl_field(y->r, o->key));
	if (c == 0)
		c = x->seq < y->seq ? -1 : x->seq > y->seq;
	if (c == 0)
		c = strcmp(x->r->id, y->r->id);
	return o->desc ? -c : c;
}

static json_t *tpl_view(const struct store_res *r)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "TemplateId", r->id, "TemplateName", tpl_field(r, "TemplateName"),
			 "DBMajorVersion", tpl_field(r, "DBMajorVersion"), "DBEngine", tpl_field(r, "DBEngine"),
			 "TemplateDescription", tpl_field(r, "TemplateDescription"));
}

int params_templates_describe(struct api_ctx *ctx, json_t *out, struct err *e)
{
	json_t *filters = json_object_get(ctx->params, "Filters"), *set;
	struct tpl_order o = { api_param_str(ctx, "OrderBy") ?: "CreateTime", true };
	long long limit = TPL_LIMIT_DEFAULT, offset = 0;
	struct store_res *list;
	struct tpl_item *keep;
	size_t n, k = 0;

	if (api_param_str(ctx, "OrderByType") != NULL)
		o.desc = strcmp(api_param_str(ctx, "OrderByType"), "desc") == 0;
	if ((api_param_int(ctx, "Limit", &limit) == 0 && limit == 0) || limit < 0)
		limit = TPL_LIMIT_DEFAULT;
	if (api_param_int(ctx, "Offset", &offset) == 0 && offset < 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR, "Offset must not be negative.");
	if (tpl_check_filters(filters, e) != 0 ||
	    store_res_list(ctx->svc->store, TPL_KIND, ctx->tenant->id, &list, &n, e) != 0)
		return -1;
	keep = calloc(n + 1, sizeof(*keep));
	for (size_t i = 0; keep != NULL && i < n; i++)
		if (tpl_matches(&list[i], filters))
			keep[k++] = (struct tpl_item){ &list[i], tpl_created_us(&list[i]) };
	qsort_r(keep, k, sizeof(*keep), tpl_cmp, &o);
	set = json_array();
	for (size_t i = (size_t)offset; i < k && json_array_size(set) < (size_t)limit; i++)
		json_array_append_new(set, tpl_view(keep[i].r));
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)k));
	json_object_set_new(out, "ParameterTemplateSet", set);
	free(keep);
	store_res_list_free(list, n);
	return 0;
}

/* ---- DescribeParameterTemplateAttributes ------------------------------------- */

static json_t *tpl_param_infos(const struct params_view *v, const json_t *params)
{
	json_t *set = json_array(), *val;
	const char *name;
	char buf[64];

	for (size_t i = 0; i < v->cat->ndefs; i++) { /* in catalog order */
		const struct pgparams_def *d = &v->cat->defs[i];
		name = d->name;
		val = json_object_get(params, name);
		if (val == NULL || d->kind == PGPARAMS_K_NONE)
			continue;
		json_array_append_new(set, params_info(v, d, json_string_value(val) ?: "",
						       params_version_default(v, d, buf, sizeof(buf)), ""));
	}
	return set;
}

int params_templates_attributes(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog_version *ver;
	const struct pgparams_catalog *cat;
	struct params_view *v = malloc(sizeof(*v));
	struct store_res r;
	json_t *set;

	if (v == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (tpl_get(ctx, api_param_str(ctx, "TemplateId"), &r, e) != 0) {
		free(v);
		return -1;
	}
	if (params_catalog_major(ctx, tpl_field(&r, "DBMajorVersion"), NULL, &ver, &cat, e) != 0) {
		err_set(e, ERR_FAILED_OPERATION_FAILED_OPERATION_ERROR, "PostgreSQL %s of this template is not installed.",
			tpl_field(&r, "DBMajorVersion"));
		store_res_free(&r);
		free(v);
		return -1;
	}
	params_view_version(ctx, cat, ver->kernel, v);
	set = tpl_param_infos(v, json_object_get(r.doc, "Params"));
	json_object_set_new(out, "TemplateId", json_string(r.id));
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)json_array_size(set)));
	json_object_set_new(out, "ParamInfoSet", set);
	json_object_set_new(out, "TemplateName", json_string(tpl_field(&r, "TemplateName")));
	json_object_set_new(out, "DBMajorVersion", json_string(tpl_field(&r, "DBMajorVersion")));
	json_object_set_new(out, "DBEngine", json_string(tpl_field(&r, "DBEngine")));
	json_object_set_new(out, "TemplateDescription", json_string(tpl_field(&r, "TemplateDescription")));
	store_res_free(&r);
	free(v);
	return 0;
}

/* ---- DeleteParameterTemplate -------------------------------------------------- */

int params_templates_delete(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res r;
	int rc;

	if (tpl_get(ctx, api_param_str(ctx, "TemplateId"), &r, e) != 0)
		return -1;
	rc = store_res_delete(ctx->svc->store, TPL_KIND, r.id, e);
	store_res_free(&r);
	return rc;
}
