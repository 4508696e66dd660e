/*
 * backup_manage.c - the actions that change backups and plans:
 * CreateBaseBackup (a backup.base task on the backup's own id, so that it
 * never blocks the instance's other operations), DeleteBaseBackup,
 * ModifyBaseBackupExpireTime, DeleteLogBackup, DescribeBackupPlans and
 * ModifyBackupPlan. The plan is executed by the scheduler
 * (src/task/backup_sched.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/backup_api.h"
#include "core/clock.h"

#define BACKUP_PLAN_NAME_MAX 60
#define BACKUP_PERIOD_MIN_DAYS 2   /* "at least two days a week" (SDK) */

static const char *const backup_instance_up[] = { "running", "readonly", NULL };

static int backup_method_check(const struct api_ctx *ctx, struct err *e)
{
	const char *m = api_param_str(ctx, "BackupMethod");

	if (m != NULL && strcmp(m, "physical") != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "BackupMethod `%.32s` is not available: backups are physical (pg_basebackup).", m);
	return 0;
}

/* ---- base backups ------------------------------------------------------------------------------ */

int backup_create_base(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res inst;
	char id[BACKUP_ID_LEN + 1];
	int rc;

	if (backup_method_check(ctx, e) != 0 || instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &inst, e) != 0)
		return -1;
	rc = instance_status_allows(&inst, backup_instance_up, e);
	if (rc == 0)
		rc = backup_base_submit(backup_fleet(ctx), &inst, "manual", id, e);
	store_res_free(&inst);
	if (rc == 0)
		json_object_set_new(out, "BaseBackupId", json_string(id));
	return rc;
}

/* The caller's instance (checked) and its base backup `BaseBackupId`. */
static int backup_target(const struct api_ctx *ctx, struct store_res *bk, struct err *e)
{
	struct store_res inst;
	const char *id = api_param_str(ctx, "DBInstanceId");

	if (instance_get(ctx, id, &inst, e) != 0)
		return -1;
	store_res_free(&inst);
	return backup_api_base_get(ctx, id, api_param_str(ctx, "BaseBackupId"), bk, e);
}

int backup_delete_base(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res bk;

	if (backup_target(ctx, &bk, e) != 0)
		return -1;
	store_res_free(&bk);
	return backup_base_remove(backup_fleet(ctx), api_param_str(ctx, "BaseBackupId"), e);
}

static int mut_expire(struct store_res *r, void *arg, struct err *e)
{
	json_object_set_new(r->doc, "ExpireTime", json_integer((json_int_t)*(int64_t *)arg));
	json_object_set_new(r->doc, "ExpireSet", json_true());
	return 0;
}

int backup_modify_expire(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res bk;
	int64_t t;

	if (backup_target(ctx, &bk, e) != 0)
		return -1;
	store_res_free(&bk);
	if (backup_api_time_param(ctx, "NewExpireTime", 0, &t, e) != 0)
		return -1;
	if (t <= clock_now())
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "NewExpireTime must be later than now.");
	return store_res_modify(ctx->svc->store, BACKUP_KIND_BASE, bk.id, ctx->tenant->id, mut_expire, &t, e);
}

/* ---- log backups ---------------------------------------------------------------------------------- */

int backup_delete_log(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *inst = api_param_str(ctx, "DBInstanceId"), *id = api_param_str(ctx, "LogBackupId");
	char dir[PGBACKUP_PATH_MAX], lid[BACKUP_ID_LEN + 1];
	struct pgbackup_wal_file *w = NULL;
	struct backup_base_ref *b = NULL;
	size_t nw = 0, nb = 0, i;
	struct store_res r;
	int rc = -1;

	if (instance_get(ctx, inst, &r, e) != 0)
		return -1;
	store_res_free(&r);
	if (backup_wal_dir(backup_fleet(ctx), inst, dir, sizeof(dir), e) != 0 || pgbackup_wal_list(dir, &w, &nw, e) != 0)
		return -1;
	for (i = 0; i < nw; i++) {
		backup_log_id(inst, w[i].name, lid);
		if (strcmp(lid, id) == 0)
			break;
	}
	if (i == nw)
		err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			"The log backup `%.64s` of instance %.64s does not exist.", id, inst);
	else if (backup_base_refs(ctx->svc->store, inst, &b, &nb, e) == 0) {
		if (backup_wal_needed(b, nb, &w[i]))
			err_set(e, ERR_FAILED_OPERATION_FAILED_OPERATION_ERROR,
				"The log backup %s is needed by a base backup of the instance.", id);
		else
			rc = pgbackup_wal_remove(dir, w[i].name, e);
	}
	free(b);
	free(w);
	return rc;
}

/* ---- plans -------------------------------------------------------------------------------------- */

static json_t *plan_time(const json_t *doc, const char *key, int64_t fallback)
{
	char buf[20];
	int64_t t = (int64_t)json_integer_value(json_object_get(doc, key));

	clock_format(t > 0 ? t : fallback, buf);
	return json_string(buf);
}

static json_t *plan_view(const json_t *d, int64_t created)
{
	char *period = json_dumps(json_object_get(d, "BackupPeriod"), JSON_COMPACT);
	json_t *v = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:s, s:s}", "BackupPeriod",
			      period ? period : "[]", "BaseBackupRetentionPeriod",
			      json_integer_value(json_object_get(d, "BaseBackupRetentionPeriod")),
			      "MinBackupStartTime", json_string_value(json_object_get(d, "MinBackupStartTime")) ?: "",
			      "MaxBackupStartTime", json_string_value(json_object_get(d, "MaxBackupStartTime")) ?: "",
			      "BackupMethod", "physical", "PlanId", json_string_value(json_object_get(d, "PlanId")) ?: "",
			      "PlanName", json_string_value(json_object_get(d, "PlanName")) ?: "",
			      "LogBackupRetentionPeriod", json_integer_value(json_object_get(d, "LogBackupRetentionPeriod")),
			      "CreatedTime", plan_time(d, "CreatedTime", created), "UpdatedTime",
			      plan_time(d, "UpdatedTime", created), "PlanType", "default", "BackupPeriodType", "week");

	free(period);
	return v;
}

int backup_describe_plans(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res inst;
	json_t *doc = NULL;

	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &inst, e) != 0)
		return -1;
	if (backup_plan_load(ctx->svc->store, inst.id, &doc, e) != 0) {
		store_res_free(&inst);
		return -1;
	}
	json_t *plan = plan_view(doc, (int64_t)json_integer_value(json_object_get(inst.doc, "CreateTime")));
	json_object_set_new(out, "Plans", json_pack("[o]", plan));
	json_decref(doc);
	store_res_free(&inst);
	return 0;
}

/* The weekdays of BackupPeriod, checked: lower-case names, at least two. */
static int plan_period(const json_t *days, json_t **out, struct err *e)
{
	unsigned bits = 0;
	int count = 0;
	size_t i;
	json_t *d;

	json_array_foreach(days, i, d) {
		char name[16];
		const char *s = json_string_value(d) ?: "";
		size_t len = strlen(s);
		for (size_t k = 0; k < len && k < sizeof(name) - 1; k++)
			name[k] = (char)tolower((unsigned char)s[k]);
		name[len < sizeof(name) - 1 ? len : sizeof(name) - 1] = '\0';
		int bit = len < sizeof(name) ? backup_weekday_bit(name) : -1;
		if (bit < 0)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "BackupPeriod.%zu `%.32s` is not a day of the week (monday ... sunday).", i, s);
		count += !(bits & (1u << bit));
		bits |= 1u << bit;
	}
	if (count < BACKUP_PERIOD_MIN_DAYS)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "BackupPeriod must name at least %d days of the week.", BACKUP_PERIOD_MIN_DAYS);
	*out = json_array();
	for (int k = 1; k <= 7; k++)
		if (bits & (1u << (k % 7)))
			json_array_append_new(*out, json_string(backup_weekday_name(k % 7)));
	return 0;
}

/* The new plan document: `cur` with the request's changes, checked. */
static int plan_apply(const struct api_ctx *ctx, json_t *doc, struct err *e)
{
	static const char *const times[] = { "MinBackupStartTime", "MaxBackupStartTime" };
	const char *plan_id = api_param_str(ctx, "PlanId"), *name = api_param_str(ctx, "PlanName");
	json_t *period = json_object_get(ctx->params, "BackupPeriod"), *days = NULL;
	long long logd;

	if (plan_id != NULL && strcmp(plan_id, json_string_value(json_object_get(doc, "PlanId")) ?: "") != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "The backup plan `%.64s` does not exist (see DescribeBackupPlans).", plan_id);
	if (name != NULL && (name[0] == '\0' || strlen(name) > BACKUP_PLAN_NAME_MAX))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "PlanName must be 1 to %d characters.", BACKUP_PLAN_NAME_MAX);
	for (int i = 0; i < 2; i++) {
		const char *t = api_param_str(ctx, times[i]);
		if (t != NULL && backup_hms_parse(t) < 0)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "%s must be a time of day HH:MM:SS, not `%.16s`.", times[i], t);
		if (t != NULL)
			json_object_set_new(doc, times[i], json_string(t));
	}
	if (backup_hms_parse(json_string_value(json_object_get(doc, times[0])) ?: "") >=
	    backup_hms_parse(json_string_value(json_object_get(doc, times[1])) ?: ""))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "MinBackupStartTime must be earlier than MaxBackupStartTime.");
	if (api_param_int(ctx, "LogBackupRetentionPeriod", &logd) == 0 &&
	    (logd < BACKUP_RETENTION_MIN || logd > BACKUP_RETENTION_MAX))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "The value of parameter `LogBackupRetentionPeriod` is out of range: %lld is not in %d..%d.",
			       logd, BACKUP_RETENTION_MIN, BACKUP_RETENTION_MAX);
	if (period != NULL && plan_period(period, &days, e) != 0)
		return -1;
	if (days != NULL)
		json_object_set_new(doc, "BackupPeriod", days);
	if (name != NULL)
		json_object_set_new(doc, "PlanName", json_string(name));
	if (api_param_int(ctx, "LogBackupRetentionPeriod", &logd) == 0)
		json_object_set_new(doc, "LogBackupRetentionPeriod", json_integer(logd));
	if (api_param_int(ctx, "BaseBackupRetentionPeriod", &logd) == 0)
		json_object_set_new(doc, "BaseBackupRetentionPeriod", json_integer(logd));
	json_object_set_new(doc, "UpdatedTime", json_integer((json_int_t)clock_now()));
	return 0;
}

static int mut_plan(struct store_res *r, void *arg, struct err *e)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)arg, key, v)
		if (strcmp(key, "ArchiveFailing") != 0)
			json_object_set(r->doc, key, v);
	return 0;
}

/* Expiry of the instance's backups follows a new base retention (except
 * where ModifyBaseBackupExpireTime set it). */
static void plan_reexpire(const struct api_ctx *ctx, const char *inst, long long days)
{
	struct store_res *list;
	size_t n;
	struct err e;

	if (store_res_list(ctx->svc->store, BACKUP_KIND_BASE, ctx->tenant->id, &list, &n, &e) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const json_t *d = list[i].doc;
		int64_t finish = (int64_t)json_integer_value(json_object_get(d, "FinishTime"));
		int64_t t = finish + days * BACKUP_DAY_S;
		if (finish == 0 || json_is_true(json_object_get(d, "ExpireSet")) ||
		    strcmp(json_string_value(json_object_get(d, "DBInstanceId")) ?: "", inst) != 0)
			continue;
		json_t *patch = json_pack("{s:I}", "ExpireTime", (json_int_t)t);
		store_res_modify(ctx->svc->store, BACKUP_KIND_BASE, list[i].id, ctx->tenant->id, mut_plan, patch, &e);
		json_decref(patch);
	}
	store_res_list_free(list, n);
}

int backup_modify_plan(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res inst;
	json_t *doc = NULL;
	long long days;
	int rc;

	if (backup_method_check(ctx, e) != 0 || instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &inst, e) != 0)
		return -1;
	rc = backup_plan_load(ctx->svc->store, inst.id, &doc, e);
	if (rc == 0)
		rc = plan_apply(ctx, doc, e);
	if (rc == 0)
		rc = backup_plan_modify(backup_fleet(ctx), &inst, mut_plan, doc, e);
	if (rc == 0 && api_param_int(ctx, "BaseBackupRetentionPeriod", &days) == 0)
		plan_reexpire(ctx, inst.id, days);
	json_decref(doc);
	store_res_free(&inst);
	return rc;
}
