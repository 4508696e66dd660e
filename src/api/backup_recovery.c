/*
 * backup_recovery.c - DescribeAvailableRecoveryTime, DescribeCloneDBInstanceSpec
 * and CloneDBInstance.
 *
 * The recovery window is computed from what is in the store (backup.h:
 * backup_window_of). A clone names either a finished base backup of the
 * source (BackupSetId: the data as of that backup's end) or a time inside
 * the window (RecoveryTargetTime, YYYY-MM-DD HH:MM:SS in the service's
 * local time: the data committed before it). CloneDBInstance records a new
 * instance with the source's version, charset and accounts, the request's
 * spec, storage and billing, and a backup.clone task that restores it on
 * its own address (src/task/backup_clone_task.c); the order is recorded
 * as for a purchase. Minimum spec: the source's (any catalog spec works,
 * recovery runs with hot_standby off); minimum storage: what the backup's
 * data needs, at least the spec's minimum.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/backup_api.h"
#include "api/billing.h"
#include "api/catalog.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"

#define CLONE_NAME_MAX  60
#define CLONE_MONTH_S   (30LL * 86400)
#define CLONE_GB        (1LL << 30)

static const char *doc_str(const json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key)) ?: "";
}

int backup_describe_recovery_time(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res inst;
	int64_t begin = 0, end = 0;
	char b[20] = "", en[20] = "";
	int rc;

	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &inst, e) != 0)
		return -1;
	rc = backup_window_of(backup_fleet(ctx), inst.id, 0, &begin, &end, NULL, e);
	store_res_free(&inst);
	if (rc != 0 && e->code != ERR_RESOURCE_NOT_FOUND)
		return -1;
	if (rc == 0) {
		clock_format(begin, b);
		clock_format(end, en);
	}
	json_object_set_new(out, "RecoveryBeginTime", json_string(b));
	json_object_set_new(out, "RecoveryEndTime", json_string(en));
	return 0;
}

/* ---- the point to clone --------------------------------------------------------------------------- */

struct clone_point {
	char backup_id[BACKUP_ID_LEN + 1];
	char file[32];
	long long data_bytes;
	json_int_t start_seg, stop_seg;
	char target[40];          /* recovery_target_time (real, UTC); "" for a backup set */
};

/* Fill cp from the backup record `id` of `src` (must be finished). */
static int clone_from_set(const struct api_ctx *ctx, const char *src, const char *id, struct clone_point *cp,
			  struct err *e)
{
	struct store_res bk;
	int rc = 0;

	if (backup_api_base_get(ctx, src, id, &bk, e) != 0)
		return -1;
	if (strcmp(bk.status, "finished") != 0)
		rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR, "The backup %s is not finished.", id);
	snprintf(cp->backup_id, sizeof(cp->backup_id), "%.*s", BACKUP_ID_LEN, bk.id);
	snprintf(cp->file, sizeof(cp->file), "%s", doc_str(bk.doc, "File"));
	cp->data_bytes = (long long)json_integer_value(json_object_get(bk.doc, "DataBytes"));
	cp->start_seg = json_integer_value(json_object_get(bk.doc, "StartSeg"));
	cp->stop_seg = json_integer_value(json_object_get(bk.doc, "StopSeg"));
	store_res_free(&bk);
	return rc;
}

/* A point in time of `src`'s window: the base backup to start from and
 * the target as PostgreSQL's time (business time minus the clock offset
 * the backup was taken under). */
static int clone_from_time(const struct api_ctx *ctx, const char *src, const char *when, struct clone_point *cp,
			   struct err *e)
{
	enum err_code bad = ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR;
	struct backup_base_ref pick;
	int64_t t, begin, end;
	char b[20], en[20];
	struct tm tm;
	time_t real;

	if (backup_time_parse(when, &t) != 0)
		return err_set(e, bad, "RecoveryTargetTime must be a time of the form YYYY-MM-DD HH:MM:SS, not `%.32s`.", when);
	if (backup_window_of(backup_fleet(ctx), src, 0, &begin, &end, NULL, e) != 0)
		return e->code == ERR_RESOURCE_NOT_FOUND
			       ? err_set(e, bad, "Instance %s has no recovery window yet (no usable base backup).", src)
			       : -1;
	clock_format(begin, b);
	clock_format(end, en);
	if (t < begin || t > end || backup_window_of(backup_fleet(ctx), src, t, &begin, &end, &pick, e) != 0)
		return err_set(e, bad, "RecoveryTargetTime %s is outside the recovery window %s - %s.", when, b, en);
	if (clone_from_set(ctx, src, pick.id, cp, e) != 0)
		return -1;
	real = (time_t)(t - pick.offset);
	gmtime_r(&real, &tm);
	strftime(cp->target, sizeof(cp->target), "%Y-%m-%d %H:%M:%S+00", &tm);
	return 0;
}

/* BackupSetId or RecoveryTargetTime; with `exclusive`, not both. */
static int clone_point_of(const struct api_ctx *ctx, const char *src, bool exclusive, struct clone_point *cp,
			  struct err *e)
{
	const char *set = api_param_str(ctx, "BackupSetId"), *when = api_param_str(ctx, "RecoveryTargetTime");

	memset(cp, 0, sizeof(*cp));
	if (set == NULL && when == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "One of BackupSetId and RecoveryTargetTime is required.");
	if (exclusive && set != NULL && when != NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "BackupSetId and RecoveryTargetTime cannot both be given.");
	return set != NULL ? clone_from_set(ctx, src, set, cp, e) : clone_from_time(ctx, src, when, cp, e);
}

/* The least storage (GB) a clone of `cp` with `spec` needs. */
static long long clone_min_storage(const struct clone_point *cp, const struct catalog_spec *spec)
{
	long long need = (cp->data_bytes + CLONE_GB - 1) / CLONE_GB;

	if (need < 1)
		need = 1;
	return spec != NULL && spec->min_storage_gb > need ? spec->min_storage_gb : need;
}

int backup_describe_clone_spec(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res src;
	struct clone_point cp;
	int rc;

	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &src, e) != 0)
		return -1;
	rc = clone_point_of(ctx, src.id, false, &cp, e);
	if (rc == 0) {
		const struct catalog_spec *spec = catalog_spec_find(doc_str(src.doc, "SpecCode"));
		json_object_set_new(out, "MinSpecCode", json_string(doc_str(src.doc, "SpecCode")));
		json_object_set_new(out, "MinStorage", json_integer(clone_min_storage(&cp, spec)));
	}
	store_res_free(&src);
	return rc;
}

/* ---- CloneDBInstance ------------------------------------------------------------------------------ */

struct clone_buy {
	const struct catalog_spec *spec;
	long long storage, period, project, auto_renew;
	const char *charge, *zone, *name;
};

static int clone_check_nodes(const struct api_ctx *ctx, const struct store_res *src, struct clone_buy *b,
			     struct err *e)
{
	json_t *nodes = json_object_get(ctx->params, "DBNodeSet"), *node;
	size_t i;

	b->zone = doc_str(src->doc, "Zone");
	json_array_foreach(nodes, i, node) {
		const char *role = doc_str(node, "Role");
		if (strcmp(role, "Primary") != 0)
			return err_set(e, ERR_UNSUPPORTED_OPERATION, "Standby nodes (high availability) are not supported yet.");
		if (json_object_get(node, "Zone") != NULL)
			b->zone = doc_str(node, "Zone");
	}
	if (!catalog_zone_exists(b->zone))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_ILLEGAL_ZONE, "The zone `%.64s` does not exist.", b->zone);
	return 0;
}

static int clone_check_buy(const struct api_ctx *ctx, const struct store_res *src, const struct clone_point *cp,
			   struct clone_buy *b, struct err *e)
{
	enum err_code bad = ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR;

	memset(b, 0, sizeof(*b));
	b->spec = catalog_spec_find(api_param_str(ctx, "SpecCode"));
	if (b->spec == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_SPEC_NOT_RECOGNIZED_ERROR,
			       "The spec `%.64s` does not exist (see DescribeClasses).", api_param_str(ctx, "SpecCode"));
	api_param_int(ctx, "Storage", &b->storage);
	api_param_int(ctx, "Period", &b->period);
	api_param_int(ctx, "AutoRenewFlag", &b->auto_renew);
	api_param_int(ctx, "ProjectId", &b->project);
	b->charge = api_param_str(ctx, "InstanceChargeType") ?: "PREPAID";
	b->name = api_param_str(ctx, "Name");
	if (b->storage < clone_min_storage(cp, b->spec) || b->storage > b->spec->max_storage_gb)
		return err_set(e, bad, "Storage must be between %lld and %d GB for this clone.", clone_min_storage(cp, b->spec),
			       b->spec->max_storage_gb);
	if (strcmp(b->charge, "POSTPAID_BY_HOUR") == 0 && b->period != 1)
		return err_set(e, bad, "Period must be 1 for POSTPAID_BY_HOUR instances.");
	if (b->project < 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_ILLEGAL_PROJECT_ID, "ProjectId must not be negative.");
	if (b->name != NULL && (b->name[0] == '\0' || strlen(b->name) > CLONE_NAME_MAX))
		return err_set(e, bad, "Name must be 1 to %d characters.", CLONE_NAME_MAX);
	return clone_check_nodes(ctx, src, b, e);
}

static int clone_token(char *out, size_t n, const char *alphabet, struct err *e)
{
	unsigned char b[64];
	size_t alen = strlen(alphabet);

	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
		return err_set(e, ERR_INTERNAL_ERROR, "no randomness");
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[b[i] % alen];
	out[n] = '\0';
	return 0;
}

/* The new instance's document: the source's server and accounts, the request's purchase. */
static json_t *clone_doc(const struct api_ctx *ctx, const struct store_res *src, const struct clone_buy *b,
			 const char *id, const char *pw)
{
	json_int_t now = (json_int_t)clock_now();
	json_t *tags = json_object_get(ctx->params, "TagList"), *accounts = json_object_get(src->doc, "Accounts");
	char node[80], name[CLONE_NAME_MAX + 8];
	int prepaid = strcmp(b->charge, "PREPAID") == 0;

	snprintf(node, sizeof(node), "%s-1", id);
	snprintf(name, sizeof(name), "%.54s-Copy", doc_str(src->doc, "Name"));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I,"
			 " s:I, s:I, s:I, s:o, s:b, s:s, s:s, s:s, s:o, s:s}",
			 "Name", b->name ? b->name : name, "Zone", b->zone, "Region", catalog_zone_region(b->zone) ?: "",
			 "SpecCode", b->spec->code, "Cpu", (json_int_t)b->spec->cpu, "MemoryMb",
			 (json_int_t)b->spec->memory_mb, "StorageGb", (json_int_t)b->storage, "DBMajorVersion",
			 doc_str(src->doc, "DBMajorVersion"), "DBVersion", doc_str(src->doc, "DBVersion"), "DBKernelVersion",
			 doc_str(src->doc, "DBKernelVersion"), "BinDir", doc_str(src->doc, "BinDir"), "Charset",
			 doc_str(src->doc, "Charset"), "ProjectId", (json_int_t)b->project, "VpcId",
			 api_param_str(ctx, "VpcId") ?: "", "SubnetId", api_param_str(ctx, "SubnetId") ?: "", "PayType",
			 prepaid ? "prepaid" : "postpaid", "ChargeType", b->charge, "Period", (json_int_t)b->period,
			 "AutoRenew", (json_int_t)b->auto_renew, "CreateTime", now, "ExpireTime",
			 prepaid ? now + b->period * CLONE_MONTH_S : (json_int_t)0, "Tags",
			 tags ? json_deep_copy(tags) : json_array(), "DeletionProtection",
			 json_is_true(json_object_get(ctx->params, "DeletionProtection")), "NodeId", node, "SuperPassword",
			 pw, "AdminName", doc_str(src->doc, "AdminName"), "Accounts",
			 accounts ? json_deep_copy(accounts) : json_object(), "ClonedFrom", src->id);
}

static json_t *clone_params(const struct store_res *src, const struct clone_point *cp)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "SourceId", src->id, "SourcePassword",
			      doc_str(src->doc, "SuperPassword"), "BackupId", cp->backup_id, "File", cp->file, "StartSeg",
			      cp->start_seg, "StopSeg", cp->stop_seg);

	if (p != NULL && cp->target[0] != '\0')
		json_object_set_new(p, "TargetTime", json_string(cp->target));
	return p;
}

/* Record the clone and its task in one transaction. */
static int clone_insert(struct api_ctx *ctx, const struct store_res *src, const struct clone_buy *b,
			const struct clone_point *cp, char id[STORE_ID_MAX], int64_t *task, struct err *e)
{
	struct store_res r;
	char token[9], pw[33];
	int rc;

	memset(&r, 0, sizeof(r));
	if (clone_token(token, 8, "abcdefghijklmnopqrstuvwxyz0123456789", e) != 0 ||
	    clone_token(pw, 32, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", e) != 0)
		return -1;
	snprintf(r.kind, sizeof(r.kind), "%s", FLEET_KIND);
	snprintf(r.id, sizeof(r.id), INSTANCE_ID_PREFIX "%s", token);
	snprintf(r.status, sizeof(r.status), "applying");
	r.tenant_id = ctx->tenant->id;
	r.doc = clone_doc(ctx, src, b, r.id, pw);
	if (r.doc == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	rc = store_txn_begin(ctx->svc->store, e);
	if (rc == 0) {
		rc = store_res_insert(ctx->svc->store, &r, e);
		if (rc == 0)
			rc = fleet_task_submit(backup_fleet(ctx), ctx->tenant->id, "backup.clone", r.id, clone_params(src, cp),
					       NULL, NULL, task, e);
		if (rc == 0)
			rc = store_txn_commit(ctx->svc->store, e);
		else
			store_txn_rollback(ctx->svc->store);
	}
	snprintf(id, STORE_ID_MAX, "%s", r.id);
	store_res_free(&r);
	return rc;
}

int backup_clone_instance(struct api_ctx *ctx, json_t *out, struct err *e)
{
	static const char *const from[] = { "running", "readonly", "isolated", NULL };
	struct store_res src;
	struct clone_point cp;
	struct clone_buy b;
	char id[STORE_ID_MAX];
	int64_t task = 0;
	json_t *ids, *order;
	int rc;

	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &src, e) != 0)
		return -1;
	rc = instance_status_allows(&src, from, e);
	if (rc == 0)
		rc = clone_point_of(ctx, src.id, true, &cp, e);
	if (rc == 0)
		rc = clone_check_buy(ctx, &src, &cp, &b, e);
	if (rc == 0)
		rc = clone_insert(ctx, &src, &b, &cp, id, &task, e);
	if (rc == 0)
		log_info(id, "clone of %s from base backup %s%s%s", src.id, cp.backup_id, cp.target[0] ? " to " : "",
			 cp.target);
	store_res_free(&src);
	if (rc != 0)
		return -1;
	ids = json_pack("[s]", id);
	order = json_object();
	rc = billing_purchase(ctx, b.spec, b.storage, b.period, b.charge, ids, task, order, e);
	if (rc == 0) {
		json_object_set(out, "DealName", json_array_get(json_object_get(order, "DealNames"), 0));
		json_object_set(out, "BillId", json_object_get(order, "BillId"));
		json_object_set_new(out, "DBInstanceId", json_string(id));
	}
	json_decref(ids);
	json_decref(order);
	return rc;
}
