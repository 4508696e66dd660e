/*
 * backups.c - the Backup and Restoration family (issue 5): its action and
 * route tables, and the lookups and views its files share (backup_api.h).
 * Every backup is its instance's: a tenant sees and touches only the
 * backups of its own instances, and another tenant's id answers as an
 * unknown one.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "api/backup_api.h"
#include "core/clock.h"
#include "api/routes.h"

const struct api_handler backup_handlers[] = {
	{ "CloneDBInstance", backup_clone_instance },
	{ "CreateBaseBackup", backup_create_base },
	{ "DeleteBaseBackup", backup_delete_base },
	{ "DeleteLogBackup", backup_delete_log },
	{ "DescribeAvailableRecoveryTime", backup_describe_recovery_time },
	{ "DescribeBackupDownloadRestriction", backup_describe_restriction },
	{ "DescribeBackupDownloadURL", backup_describe_url },
	{ "DescribeBackupOverview", backup_describe_overview },
	{ "DescribeBackupPlans", backup_describe_plans },
	{ "DescribeBackupSummaries", backup_describe_summaries },
	{ "DescribeBaseBackups", backup_describe_base },
	{ "DescribeCloneDBInstanceSpec", backup_describe_clone_spec },
	{ "DescribeDBBackups", backup_describe_db_backups },
	{ "DescribeDBXlogs", backup_describe_xlogs },
	{ "DescribeLogBackups", backup_describe_log },
	{ "ModifyBackupDownloadRestriction", backup_modify_restriction },
	{ "ModifyBackupPlan", backup_modify_plan },
	{ "ModifyBaseBackupExpireTime", backup_modify_expire },
	{ NULL, NULL },
};

const struct route backup_routes[] = {
	{ BACKUP_ROUTE_PREFIX, backup_download_route },
	{ NULL, NULL },
};

/* ---- lookups ------------------------------------------------------------------------------ */

int backup_api_base_get(const struct api_ctx *ctx, const char *inst, const char *id, struct store_res *out,
			struct err *e)
{
	if (backup_id_ok(id) && store_res_get(ctx->svc->store, BACKUP_KIND_BASE, id, ctx->tenant->id, out, e) == 0) {
		if (strcmp(json_string_value(json_object_get(out->doc, "DBInstanceId")) ?: "", inst) == 0)
			return 0;
		store_res_free(out);
	} else if (backup_id_ok(id) && e->code != ERR_RESOURCE_NOT_FOUND) {
		return -1;
	}
	return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
		       "The backup `%.64s` of instance %.64s does not exist.", id, inst);
}

static json_t *backup_time_json(const json_t *doc, const char *key)
{
	char buf[20];

	clock_format((int64_t)json_integer_value(json_object_get(doc, key)), buf);
	return json_string(buf);
}

json_t *backup_api_base_view(const struct store_res *r)
{
	const json_t *d = r->doc;

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "DBInstanceId",
			 json_string_value(json_object_get(d, "DBInstanceId")) ?: "", "Id", r->id, "Name",
			 json_string_value(json_object_get(d, "Name")) ?: "", "BackupMethod", "physical", "BackupMode",
			 json_string_value(json_object_get(d, "BackupMode")) ?: "manual", "State", r->status, "Size",
			 json_integer_value(json_object_get(d, "Size")), "StartTime", backup_time_json(d, "StartTime"),
			 "FinishTime", backup_time_json(d, "FinishTime"), "ExpireTime", backup_time_json(d, "ExpireTime"));
}

long long backup_api_base_size(const struct api_ctx *ctx, const struct store_res *r)
{
	char dir[PGBACKUP_PATH_MAX];
	struct err e;
	struct stat st;
	struct dirent *de;
	long long size = 0;
	DIR *d;

	if (backup_base_dir(backup_fleet(ctx), json_string_value(json_object_get(r->doc, "DBInstanceId")) ?: "", r->id,
			    dir, sizeof(dir), &e) != 0 ||
	    (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			size += (long long)st.st_size;
	closedir(d);
	return size;
}

int backup_api_time_param(const struct api_ctx *ctx, const char *name, int64_t def, int64_t *out, struct err *e)
{
	const char *s = api_param_str(ctx, name);

	*out = def;
	if (s == NULL)
		return 0;
	if (backup_time_parse(s, out) != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "%s must be a time of the form YYYY-MM-DD HH:MM:SS, not `%.32s`.", name, s);
	return 0;
}

void backup_api_page(const struct api_ctx *ctx, long long def, long long *limit, long long *offset)
{
	*limit = def;
	*offset = 0;
	api_param_int(ctx, "Limit", limit);
	api_param_int(ctx, "Offset", offset);
	if (*limit <= 0)
		*limit = def;
	if (*offset < 0)
		*offset = 0;
}

/* ---- instance filters ---------------------------------------------------------------------- */

static bool backup_value_in(const json_t *values, const char *s, bool fuzzy)
{
	size_t i;
	json_t *v;

	json_array_foreach(values, i, v) {
		const char *want = json_string_value(v);
		if (want != NULL && (fuzzy ? strstr(s, want) != NULL : strcmp(s, want) == 0))
			return true;
	}
	return false;
}

/* 1 pass, 0 fail, -1 not an instance filter. */
static int backup_inst_match(const struct store_res *r, const char *name, const json_t *values)
{
	const char *doc_name = json_string_value(json_object_get(r->doc, "Name")) ?: "";
	const char *vip = json_string_value(json_object_get(r->doc, "Vip")) ?: "";

	if (strcmp(name, "db-instance-id") == 0)
		return backup_value_in(values, r->id, false);
	if (strcmp(name, "db-instance-name") == 0)
		return backup_value_in(values, doc_name, true);
	if (strcmp(name, "db-instance-ip") == 0)
		return backup_value_in(values, vip, false);
	if (strcmp(name, "db-instance-status") == 0)
		return backup_value_in(values, r->status, false);
	return -1;
}

static bool backup_known(const char *const *known, const char *name)
{
	for (; *known != NULL; known++)
		if (strcmp(*known, name) == 0)
			return true;
	return false;
}

int backup_api_instances(const struct api_ctx *ctx, const json_t *filters, const char *const *known,
			 struct store_res **out, size_t *n, struct err *e)
{
	size_t i, kept = 0;
	json_t *f;

	json_array_foreach(filters, i, f) {
		const char *name = json_string_value(json_object_get(f, "Name")) ?: "";
		if (!backup_known(known, name))
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "Unknown filter name `%.64s`.", name);
	}
	if (store_res_list(ctx->svc->store, FLEET_KIND, ctx->tenant->id, out, n, e) != 0)
		return -1;
	for (size_t k = 0; k < *n; k++) {
		bool ok = true;
		json_array_foreach(filters, i, f)
			ok &= backup_inst_match(&(*out)[k], json_string_value(json_object_get(f, "Name")),
						json_object_get(f, "Values")) != 0;
		if (ok) {
			struct store_res t = (*out)[kept];
			(*out)[kept++] = (*out)[k];
			(*out)[k] = t;
		}
	}
	/* the instances that failed stay after `kept`: freed with the list */
	for (size_t k = kept; k < *n; k++)
		store_res_free(&(*out)[k]);
	*n = kept;
	return 0;
}
