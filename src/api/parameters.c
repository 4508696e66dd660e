/*
 * parameters.c - the parameters of an instance: DescribeDBInstanceParameters
 * (the changeable settings with their current values read from the running
 * server, so the API says what SHOW says), DescribeDefaultParameters (a
 * version's catalog), ModifyDBInstanceParameters and DescribeParamsEvent;
 * and the action table of the family (templates: parameters_templates.c).
 *
 * ModifyDBInstanceParameters checks everything before anything is recorded:
 * each entry against the catalog (name, reserved, type, enum, range, the
 * instance's spec), each name against the running server (an extension's
 * setting needs its library loaded, or added in the same request), then
 * the whole resulting set against the real binary (pgparams_preflight:
 * check hooks, startup rules, shared memory within
 * PGPARAMS_SHARED_MEMORY_PCT of the spec's memory). One bad entry refuses
 * the request and nothing changes. Then one task applies the set
 * (src/task/parameter_tasks.c) and the events record it, grouped per
 * parameter by DescribeParamsEvent.
 *
 * Error codes (docs/PARAMETERS.md):
 *   unknown parameter, malformed value   InvalidParameterValue.InvalidParameterValueError
 *   reserved or read-only parameter      OperationDenied.CamDeniedError
 *   out of range, refused by preflight   InvalidParameterValue.ParameterOutOfRangeError
 *   instance not running/readonly        OperationDenied.InstanceStatusLimitError
 *   server unreachable                   FailedOperation.DatabaseAccessError (Modify),
 *                                        FailedOperation.FailedOperationError (Describe)
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/instances.h"
#include "api/parameters.h"
#include "core/clock.h"
#include "core/log.h"

#define PARAMS_LIST_MAX 100      /* entries of one ParamList */

static const char *const params_ok_status[] = { "running", "readonly", NULL };
static const char *const params_up_status[] = { "running", "readonly", "restarting", NULL }; /* server up */

/* ---- reading an instance's settings ----------------------------------------- */

struct params_instance {
	struct store_res r;
	const struct pgparams_catalog *cat;
	json_t *settings;            /* pgparams_server_settings() */
};

static void params_instance_free(struct params_instance *pi)
{
	store_res_free(&pi->r);
	json_decref(pi->settings);
}

/* The caller's instance, its catalog and its server's settings. */
static int params_instance_open(struct api_ctx *ctx, struct params_instance *pi, enum err_code unreachable,
				struct err *e)
{
	PGconn *conn;
	int rc;

	memset(pi, 0, sizeof(*pi));
	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &pi->r, e) != 0)
		return -1;
	if (instance_status_allows(&pi->r, params_up_status, e) != 0) {
		err_set(e, unreachable, "The database server of instance %s is not running (status %s).", pi->r.id,
			pi->r.status);
		goto fail;
	}
	if (params_catalog_of(params_fleet(ctx), pi->r.doc, &pi->cat, e) != 0) {
		log_error(pi->r.id, "parameter catalog: %s", err_message(e, ERR_LANG_EN));
		err_set(e, unreachable, "The parameters of instance %s cannot be read right now; retry later.", pi->r.id);
		goto fail;
	}
	if (fleet_connect(pi->r.doc, NULL, &conn, e) != 0) {
		err_set(e, unreachable, "The database server of instance %s is not reachable (status %s).", pi->r.id,
			pi->r.status);
		goto fail;
	}
	rc = pgparams_server_settings(conn, pi->cat, &pi->settings, e);
	pgsql_close(conn);
	if (rc == 0)
		return 0;
	err_set(e, unreachable, "The parameters of instance %s cannot be read right now; retry later.", pi->r.id);
fail:
	params_instance_free(pi);
	return -1;
}

static const char *params_setting(const json_t *settings, const char *name, const char *field)
{
	return json_string_value(json_object_get(json_object_get(settings, name), field));
}

/* name -> "YYYY-MM-DD HH:MM:SS" of the newest successful change. */
static json_t *params_last_modified(const json_t *doc)
{
	json_t *out = json_object(), *ev;
	size_t i;
	char t[20];

	json_array_foreach(json_object_get(doc, PARAMS_EVENTS), i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "State")) ?: "", PARAMS_STATE_SUCCESS) != 0)
			continue;
		clock_format(json_integer_value(json_object_get(ev, "EffectiveTime")), t);
		json_object_set_new(out, json_string_value(json_object_get(ev, "ParamName")) ?: "", json_string(t));
	}
	return out;
}

/* ---- DescribeDBInstanceParameters ------------------------------------------------ */

static int params_describe_instance(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *only = api_param_str(ctx, "ParamName");
	struct params_instance pi;
	struct params_view v;
	struct pgnode_conf spec;
	json_t *detail, *last;

	if (only != NULL && only[0] == '\0')
		only = NULL;
	if (params_instance_open(ctx, &pi, ERR_FAILED_OPERATION_FAILED_OPERATION_ERROR, e) != 0)
		return -1;
	if (only != NULL) {
		const struct pgparams_def *d = pgparams_find(pi.cat, only);
		if (d == NULL || d->kind == PGPARAMS_K_NONE || json_object_get(pi.settings, d->name) == NULL) {
			params_instance_free(&pi);
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "The instance has no parameter `%.64s` that can be shown or modified.", only);
		}
	}
	params_view_instance(pi.cat, pi.r.doc, &spec, &v);
	detail = json_array();
	last = params_last_modified(pi.r.doc);
	for (size_t i = 0; i < pi.cat->ndefs; i++) {
		const struct pgparams_def *d = &pi.cat->defs[i];
		const char *cur = params_setting(pi.settings, d->name, "setting");
		if (d->kind == PGPARAMS_K_NONE || cur == NULL || (only != NULL && strcasecmp(only, d->name) != 0))
			continue;
		json_array_append_new(detail, params_info(&v, d, cur, params_setting(pi.settings, d->name, "default") ?: "",
							  json_string_value(json_object_get(last, d->name)) ?: ""));
	}
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)json_array_size(detail)));
	json_object_set_new(out, "Detail", detail);
	json_decref(last);
	params_instance_free(&pi);
	return 0;
}

/* ---- DescribeDefaultParameters ------------------------------------------------------ */

static int params_describe_defaults(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog_version *ver;
	const struct pgparams_catalog *cat;
	struct params_view *v = malloc(sizeof(*v));
	char buf[64];
	json_t *set;

	if (v == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (params_catalog_major(ctx, api_param_str(ctx, "DBMajorVersion"), api_param_str(ctx, "DBEngine"), &ver, &cat,
				 e) != 0) {
		free(v);
		return -1;
	}
	params_view_version(ctx, cat, ver->kernel, v);
	set = json_array();
	for (size_t i = 0; i < cat->ndefs; i++)
		if (cat->defs[i].kind != PGPARAMS_K_NONE)
			json_array_append_new(set, params_info(v, &cat->defs[i], "",
							       params_version_default(v, &cat->defs[i], buf, sizeof(buf)), ""));
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)json_array_size(set)));
	json_object_set_new(out, "ParamInfoSet", set);
	free(v);
	return 0;
}

/* ---- ModifyDBInstanceParameters --------------------------------------------------- */

/* Check each entry against the catalog and the spec: [{Name, Value}] in
 * canonical form, or NULL after err_set. */
static json_t *params_check_list(const struct pgparams_catalog *cat, const json_t *list,
				 const struct pgnode_conf *spec, struct err *e)
{
	json_t *changes = json_array(), *ent, *ch;
	char canon[PGPARAMS_VALUE_MAX + 1];
	size_t i, j;

	if (json_array_size(list) == 0 || json_array_size(list) > PARAMS_LIST_MAX) {
		err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			"ParamList must have 1 to %d entries.", PARAMS_LIST_MAX);
		goto fail;
	}
	json_array_foreach(list, i, ent) {
		const struct pgparams_def *d;
		if (pgparams_check(cat, json_string_value(json_object_get(ent, "Name")) ?: "",
				   json_string_value(json_object_get(ent, "ExpectedValue")) ?: "", spec, &d, canon,
				   sizeof(canon), e) != 0)
			goto fail;
		json_array_foreach(changes, j, ch)
			if (strcmp(json_string_value(json_object_get(ch, "Name")), d->name) == 0) {
				err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
					"The parameter `%s` appears more than once in ParamList.", d->name);
				goto fail;
			}
		json_array_append_new(changes, json_pack("{s:s, s:s}", "Name", d->name, "Value", canon));
	}
	return changes;
fail:
	json_decref(changes);
	return NULL;
}

/* True when the request also preloads the library `name` belongs to. */
static bool params_loads_library(const json_t *changes, const char *name)
{
	size_t i, plen = strcspn(name, ".");
	json_t *ch;

	json_array_foreach(changes, i, ch) {
		const char *v = json_string_value(json_object_get(ch, "Value"));
		if (strcmp(json_string_value(json_object_get(ch, "Name")), "shared_preload_libraries") != 0)
			continue;
		for (const char *p = v; *p != '\0'; p += strcspn(p, ","), p += *p == ',')
			if (strcspn(p, ",") == plen && strncmp(p, name, plen) == 0)
				return true;
	}
	return false;
}

/* Old value and restart flag of each change, from the running server. */
static int params_against_server(const struct params_instance *pi, json_t *changes, bool *restart,
				 struct err *e)
{
	size_t i;
	json_t *ch;

	*restart = false;
	json_array_foreach(changes, i, ch) {
		const char *name = json_string_value(json_object_get(ch, "Name"));
		const char *val = json_string_value(json_object_get(ch, "Value"));
		const struct pgparams_def *d = pgparams_find(pi->cat, name);
		const char *old = params_setting(pi->settings, name, "setting");
		bool needs;
		if (old == NULL && !params_loads_library(changes, name))
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "The parameter `%s` is not available on this instance: add `%.*s` to "
				       "shared_preload_libraries first.", name, (int)strcspn(name, "."), name);
		needs = old == NULL || (d->context == PGPARAMS_C_POSTMASTER && !pgparams_same(d, old, val));
		json_object_set_new(ch, "Old", json_string(old != NULL ? old : ""));
		json_object_set_new(ch, "Restart", json_boolean(needs));
		*restart |= needs;
	}
	return 0;
}

/* Would the server start with its settings plus the changes, within the
 * spec's memory? (pgparams_preflight) */
static int params_preflight(const struct params_instance *pi, const json_t *changes, struct err *e)
{
	json_t *set = pgparams_startup_settings(pi->settings), *ch;
	long long mb;
	size_t i;
	int limit = (int)(json_integer_value(json_object_get(pi->r.doc, "MemoryMb")) * PGPARAMS_SHARED_MEMORY_PCT / 100);
	int rc;

	json_array_foreach(changes, i, ch)
		json_object_set(set, json_string_value(json_object_get(ch, "Name")), json_object_get(ch, "Value"));
	rc = pgparams_preflight(pi->cat, set, &mb, e);
	json_decref(set);
	if (rc == 0 && mb > limit)
		rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_PARAMETER_OUT_OF_RANGE_ERROR,
			     "These values need %lld MB of shared memory; instance %s may use at most %d MB "
			     "(%d%% of its memory).", mb, pi->r.id, limit, PGPARAMS_SHARED_MEMORY_PCT);
	else if (rc != 0 && e->code == ERR_INTERNAL_ERROR)
		rc = err_set(e, ERR_FAILED_OPERATION_FAILED_OPERATION_ERROR, "The values could not be checked; retry later.");
	return rc;
}

/* At submit: the status allows it, the events are recorded, the task
 * remembers the status to return to. */
static int params_mut_submit(struct store_res *r, void *arg, struct err *e)
{
	json_t *params = arg;

	if (instance_status_allows(r, params_ok_status, e) != 0)
		return -1;
	json_object_set_new(params, "PrevStatus", json_string(r->status));
	params_events_record(r->doc, params, (json_int_t)clock_now());
	return 0;
}

static json_t *params_task_params(const struct api_ctx *ctx, json_t *changes, bool restart, struct err *e)
{
	unsigned char b[8];
	char batch[17];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return err_set(e, ERR_INTERNAL_ERROR, "no randomness"), NULL;
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(batch + 2 * i, 3, "%02x", b[i]);
	return json_pack("{s:s, s:s, s:b, s:O}", "Batch", batch, "Operator", ctx->tenant->uin, "Restart", restart,
			 "Changes", changes);
}

static int params_modify(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct params_instance pi;
	struct pgnode_conf spec;
	json_t *changes = NULL, *params;
	bool restart;
	int64_t task;
	int rc = -1;

	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &pi.r, e) != 0)
		return -1;
	rc = instance_status_allows(&pi.r, params_ok_status, e);
	store_res_free(&pi.r);
	if (rc != 0 || params_instance_open(ctx, &pi, ERR_FAILED_OPERATION_DATABASE_ACCESS_ERROR, e) != 0)
		return -1;
	params_spec_of(pi.r.doc, &spec);
	rc = -1;
	changes = params_check_list(pi.cat, json_object_get(ctx->params, "ParamList"), &spec, e);
	if (changes != NULL && params_against_server(&pi, changes, &restart, e) == 0 &&
	    params_preflight(&pi, changes, e) == 0 && (params = params_task_params(ctx, changes, restart, e)) != NULL)
		rc = fleet_task_submit(params_fleet(ctx), ctx->tenant->id, PARAMS_TASK_KIND, pi.r.id, params,
				       params_mut_submit, params, &task, e);
	if (rc == 0) {
		log_info(pi.r.id, "parameters: %zu change(s)%s, task %lld", json_array_size(changes),
			 restart ? " with a restart" : "", (long long)task);
		json_object_set_new(out, "TaskId", json_integer(task));
	}
	json_decref(changes);
	params_instance_free(&pi);
	return rc;
}

/* ---- DescribeParamsEvent ---------------------------------------------------------- */

static json_t *params_event_info(const json_t *ev)
{
	char mt[20], et[20];

	clock_format(json_integer_value(json_object_get(ev, "ModifyTime")), mt);
	clock_format(json_integer_value(json_object_get(ev, "EffectiveTime")), et);
	return json_pack("{s:O, s:O, s:O, s:s, s:s, s:O, s:O, s:O}", "ParamName", json_object_get(ev, "ParamName"),
			 "OldValue", json_object_get(ev, "OldValue"), "NewValue", json_object_get(ev, "NewValue"),
			 "ModifyTime", mt, "EffectiveTime", et, "State", json_object_get(ev, "State"), "Operator",
			 json_object_get(ev, "Operator"), "EventLog", json_object_get(ev, "EventLog"));
}

static int params_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* EventItems: one per parameter (by name), its events newest first. */
static json_t *params_event_items(const json_t *events)
{
	json_t *by_name = json_object(), *items = json_array(), *list;
	const char **names;
	const char *name;
	size_t n = 0;

	for (size_t i = json_array_size(events); i-- > 0;) {
		const json_t *ev = json_array_get(events, i);
		const char *pn = json_string_value(json_object_get(ev, "ParamName"));
		if (pn == NULL)
			continue;
		if ((list = json_object_get(by_name, pn)) == NULL)
			json_object_set_new(by_name, pn, list = json_array());
		json_array_append_new(list, params_event_info(ev));
	}
	names = calloc(json_object_size(by_name) + 1, sizeof(*names));
	json_object_foreach(by_name, name, list)
		if (names != NULL)
			names[n++] = name;
	qsort(names, n, sizeof(*names), params_name_cmp);
	for (size_t i = 0; i < n; i++) {
		list = json_object_get(by_name, names[i]);
		json_array_append_new(items, json_pack("{s:s, s:I, s:O}", "ParamName", names[i], "EventCount",
						       (json_int_t)json_array_size(list), "EventDetail", list));
	}
	free(names);
	json_decref(by_name);
	return items;
}

static int params_describe_events(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res r;
	json_t *items;

	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &r, e) != 0)
		return -1;
	items = params_event_items(json_object_get(r.doc, PARAMS_EVENTS));
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)json_array_size(items)));
	json_object_set_new(out, "EventItems", items);
	store_res_free(&r);
	return 0;
}

const struct api_handler parameter_handlers[] = {
	{ "CreateParameterTemplate", params_templates_create },
	{ "DeleteParameterTemplate", params_templates_delete },
	{ "DescribeDBInstanceParameters", params_describe_instance },
	{ "DescribeDefaultParameters", params_describe_defaults },
	{ "DescribeParameterTemplateAttributes", params_templates_attributes },
	{ "DescribeParameterTemplates", params_templates_describe },
	{ "DescribeParamsEvent", params_describe_events },
	{ "ModifyDBInstanceParameters", params_modify },
	{ "ModifyParameterTemplate", params_templates_modify },
	{ NULL, NULL },
};
