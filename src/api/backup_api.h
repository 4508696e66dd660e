/*
 * backup_api.h - what the Backup and Restoration action files share
 * (private to src/api/backup*.c):
 *
 *   backups.c          the action and route tables; lookups and views
 *   backup_list.c      DescribeBaseBackups, DescribeLogBackups, DescribeDBBackups,
 *                      DescribeDBXlogs, DescribeBackupOverview, DescribeBackupSummaries
 *   backup_manage.c    CreateBaseBackup, DeleteBaseBackup, ModifyBaseBackupExpireTime,
 *                      DeleteLogBackup, DescribeBackupPlans, ModifyBackupPlan
 *   backup_download.c  DescribeBackupDownloadURL, Describe/ModifyBackupDownloadRestriction
 *                      and the signed download route
 *   backup_recovery.c  DescribeAvailableRecoveryTime, DescribeCloneDBInstanceSpec,
 *                      CloneDBInstance
 *
 * The state lives in the task layer (src/task/backup.h); handlers read it
 * and submit tasks, as every other family does.
 */
#ifndef PGFLEET_API_BACKUP_API_H
#define PGFLEET_API_BACKUP_API_H

#include "api/api.h"
#include "api/instances.h"
#include "task/backup.h"

#define BACKUP_LIST_DEFAULT     10
#define BACKUP_LIST_WINDOW_S    (7LL * BACKUP_DAY_S)   /* default MinFinishTime: 7 days ago */
#define BACKUP_URL_HOURS_DEFAULT 12
#define BACKUP_URL_HOURS_MAX    36
#define BACKUP_URL_MAX          4096
#define BACKUP_ROUTE_PREFIX     "/backup-download/"
#define BACKUP_RESTRICTION_SET_MAX 100           /* entries of VpcIdSet / IpSet */

static inline struct fleet *backup_fleet(const struct api_ctx *ctx)
{
	return ctx->svc->fleet;
}

/* Handlers (defined in the backup_*.c files). */
int backup_describe_base(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_log(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_db_backups(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_xlogs(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_overview(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_summaries(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_create_base(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_delete_base(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_modify_expire(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_delete_log(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_plans(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_modify_plan(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_url(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_restriction(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_modify_restriction(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_recovery_time(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_describe_clone_spec(struct api_ctx *ctx, json_t *out, struct err *e);
int backup_clone_instance(struct api_ctx *ctx, json_t *out, struct err *e);

struct route_request;
struct route_response;
int backup_download_route(const struct route_request *rq, struct route_response *rs);

/* ---- backups.c ---- */

/* The caller's base backup `id` of instance `inst`. Unknown, another
 * tenant's or another instance's: InvalidParameterValue.InvalidParameterValueError. */
int backup_api_base_get(const struct api_ctx *ctx, const char *inst, const char *id, struct store_res *out,
			struct err *e);

/* The BaseBackup object of a record. */
json_t *backup_api_base_view(const struct store_res *r);

/* Bytes on disk of a base backup's files (0 when its directory is gone). */
long long backup_api_base_size(const struct api_ctx *ctx, const struct store_res *r);

/* An optional "YYYY-MM-DD HH:MM:SS" parameter: *out = its time, or `def`
 * when absent; a malformed value: InvalidParameterValue.InvalidParameterValueError. */
int backup_api_time_param(const struct api_ctx *ctx, const char *name, int64_t def, int64_t *out, struct err *e);

/* The caller's instances that pass `filters` (names in `known`, a
 * NULL-terminated list of db-instance-id, db-instance-name (substring),
 * db-instance-ip, db-instance-status; other names are the caller's own and
 * skipped here). An unknown name: InvalidParameterValue.InvalidParameterValueError.
 * *out is a store_res_list array (store_res_list_free). */
int backup_api_instances(const struct api_ctx *ctx, const json_t *filters, const char *const *known,
			 struct store_res **out, size_t *n, struct err *e);

/* Limit/Offset of the request (Limit 0 or absent: def). */
void backup_api_page(const struct api_ctx *ctx, long long def, long long *limit, long long *offset);

/* ---- backup_download.c ---- */

/* A signed download URL of a backup file of `inst`: type "base" (id =
 * BaseBackupId) or "log" (id = the log backup's id), `file` the name it
 * downloads as; valid for `hours`; `restriction` (may be NULL) a
 * BackupDownloadRestriction applied on top of the tenant's. *url malloc'd. */
int backup_url_make(const struct api_ctx *ctx, const char *inst, const char *type, const char *id, const char *file,
		    long long hours, const json_t *restriction, char **url, struct err *e);

/* Check a BackupDownloadRestriction object (as given to Modify...). */
int backup_restriction_check(const struct api_ctx *ctx, const json_t *r, struct err *e);

#endif
