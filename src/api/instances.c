/*
 * instances.c - the instance lifecycle actions. Each checks its input
 * against the catalog and the seed's rules, then records the change and a
 * task in one store transaction (fleet_task_submit) and answers at once;
 * the task does the work on the real server (src/task/instance_tasks.c).
 *
 * Status machine (DBInstanceStatus):
 *   applying -> initing -> running          CreateInstances / InitDBInstances
 *   init                                    CreateDBInstances (awaits InitDBInstances)
 *   running -> restarting -> running        RestartDBInstance, supervisor recovery
 *   running -> isolating -> isolated        IsolateDBInstances
 *   isolated -> disisolating -> running     DisIsolateDBInstances
 *   isolated|init|offline -> recycling -> (gone)   DestroyDBInstance
 *   running <-> readonly                    storage quota
 *   * -> offline                            a task failed (resources freed)
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "api/billing.h"
#include "api/catalog.h"
#include "api/instances.h"
#include "core/config.h"
#include "core/log.h"
#include "task/fleet.h"

#define INSTANCE_NAME_MAX 60
#define INSTANCE_MONTH_S (30LL * 86400)

/* n random characters of [a-z0-9] into out (NUL-terminated). */
static int random_token(char *out, size_t n, const char *alphabet, struct err *e)
{
	unsigned char b[64];
	size_t alen = strlen(alphabet);

	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
		return err_set(e, ERR_INTERNAL_ERROR, "no randomness");
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[b[i] % alen]; /* 256 % 36 bias is irrelevant for ids */
	out[n] = '\0';
	return 0;
}

static struct fleet *fleet_of(const struct api_ctx *ctx)
{
	return ctx->svc->fleet;
}

/* ---- validation of a purchase ---- */

struct purchase {
	const struct catalog_spec *spec;
	const struct catalog_version *version;
	long long storage, count, period, project;
	const char *zone, *charge, *name;
};

static int check_version(const struct api_ctx *ctx, struct purchase *p, struct err *e)
{
	const char *major = api_param_str(ctx, "DBMajorVersion");
	const char *ver = api_param_str(ctx, "DBVersion");
	const char *kernel = api_param_str(ctx, "DBKernelVersion");

	if (major == NULL && ver == NULL && kernel == NULL)
		return err_set(e, ERR_MISSING_PARAMETER,
			       "One of `DBMajorVersion`, `DBVersion` or `DBKernelVersion` is required.");
	p->version = catalog_version_find(major, ver, kernel);
	if (p->version == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR,
			       "PostgreSQL version %s%s%s is not available (see DescribeDBVersions).",
			       major ? major : "", ver ? ver : "", kernel ? kernel : "");
	return 0;
}

static int check_spec(const struct api_ctx *ctx, struct purchase *p, struct err *e)
{
	p->zone = api_param_str(ctx, "Zone");
	if (!catalog_zone_exists(p->zone))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_ILLEGAL_ZONE, "The zone `%.64s` does not exist.", p->zone);
	p->spec = catalog_spec_find(api_param_str(ctx, "SpecCode"));
	if (p->spec == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_SPEC_NOT_RECOGNIZED_ERROR,
			       "The spec `%.64s` does not exist (see DescribeClasses).", api_param_str(ctx, "SpecCode"));
	api_param_int(ctx, "Storage", &p->storage);
	if (p->storage < p->spec->min_storage_gb || p->storage > p->spec->max_storage_gb)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_PARAMETER_OUT_OF_RANGE_ERROR,
			       "Storage must be between %d and %d GB for %s.", p->spec->min_storage_gb,
			       p->spec->max_storage_gb, p->spec->code);
	return 0;
}

static int check_billing(const struct api_ctx *ctx, struct purchase *p, struct err *e)
{
	p->charge = api_param_str(ctx, "InstanceChargeType") ?: "PREPAID";
	api_param_int(ctx, "Period", &p->period);
	if (strcmp(p->charge, "POSTPAID_BY_HOUR") == 0 && p->period != 1)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "Period must be 1 for POSTPAID_BY_HOUR instances.");
	if (strcmp(p->charge, "PREPAID") != 0 && strcmp(p->charge, "POSTPAID_BY_HOUR") != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_ILLEGAL_INSTANCE_CHARGE_TYPE,
			       "InstanceChargeType must be PREPAID or POSTPAID_BY_HOUR.");
	p->project = 0;
	api_param_int(ctx, "ProjectId", &p->project);
	if (p->project < 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_ILLEGAL_PROJECT_ID, "ProjectId must not be negative.");
	return 0;
}

/* Features this service cannot provide are refused, never pretended. */
static int check_unsupported(const struct api_ctx *ctx, struct err *e)
{
	long long v = 0;
	const char *engine = api_param_str(ctx, "DBEngine");
	json_t *nodes = json_object_get(ctx->params, "DBNodeSet");
	size_t i;
	json_t *node;

	if (engine != NULL && strcmp(engine, "postgresql") != 0)
		return err_set(e, ERR_UNSUPPORTED_OPERATION, "Only the postgresql engine is available.");
	if (api_param_int(ctx, "NeedSupportTDE", &v) == 0 && v == 1)
		return err_set(e, ERR_UNSUPPORTED_OPERATION,
			       "Transparent data encryption is not supported: community PostgreSQL 15 has none.");
	if (api_param_int(ctx, "NeedSupportIpv6", &v) == 0 && v == 1)
		return err_set(e, ERR_UNSUPPORTED_OPERATION, "IPv6 access is not supported.");
	json_array_foreach(nodes, i, node) {
		const char *role = json_string_value(json_object_get(node, "Role"));
		if (role != NULL && strcmp(role, "Primary") != 0)
			return err_set(e, ERR_UNSUPPORTED_OPERATION,
				       "Standby nodes (high availability) are not supported yet.");
	}
	return 0;
}

static int check_purchase(const struct api_ctx *ctx, struct purchase *p, struct err *e)
{
	memset(p, 0, sizeof(*p));
	p->name = api_param_str(ctx, "Name");
	if (p->name != NULL && strlen(p->name) > INSTANCE_NAME_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_PARAMETER_LENGTH_LIMIT_ERROR,
			       "Name must be at most %d characters.", INSTANCE_NAME_MAX);
	p->count = 1;
	api_param_int(ctx, "InstanceCount", &p->count);
	if (check_unsupported(ctx, e) != 0 || check_spec(ctx, p, e) != 0 || check_version(ctx, p, e) != 0)
		return -1;
	return check_billing(ctx, p, e);
}

/* The stored document of a new instance. */
static json_t *instance_doc(const struct api_ctx *ctx, const struct purchase *p, const char *id)
{
	json_int_t now = (json_int_t)clock_now();
	long long auto_renew = 0;
	char node[80], super_pw[33];
	struct err e;
	json_t *tags = json_object_get(ctx->params, "TagList");
	json_t *prot = json_object_get(ctx->params, "DeletionProtection");

	api_param_int(ctx, "AutoRenewFlag", &auto_renew);
	snprintf(node, sizeof(node), "%s-1", id);
	if (random_token(super_pw, 32, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", &e) != 0)
		return NULL;
	/* "o" steals the Tags reference: a borrowed TagList is incref'ed above */
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s,"
			 " s:s, s:I, s:I, s:I, s:I, s:o, s:b, s:s, s:s, s:s}",
			 "Name", p->name ? p->name : id, "Zone", p->zone, "Region", catalog_zone_region(p->zone) ?: "",
			 "SpecCode", p->spec->code, "Cpu", (json_int_t)p->spec->cpu, "MemoryMb",
			 (json_int_t)p->spec->memory_mb, "StorageGb", (json_int_t)p->storage, "DBMajorVersion",
			 p->version->major, "DBVersion", p->version->version, "DBKernelVersion", p->version->kernel,
			 "BinDir", p->version->bin_dir, "Charset", api_param_str(ctx, "Charset") ?: "", "ProjectId",
			 (json_int_t)p->project, "VpcId", api_param_str(ctx, "VpcId") ?: "", "SubnetId",
			 api_param_str(ctx, "SubnetId") ?: "", "PayType",
			 strcmp(p->charge, "PREPAID") == 0 ? "prepaid" : "postpaid", "ChargeType", p->charge, "Period",
			 (json_int_t)p->period, "AutoRenew", (json_int_t)auto_renew, "CreateTime", now, "ExpireTime",
			 strcmp(p->charge, "PREPAID") == 0 ? now + p->period * INSTANCE_MONTH_S : (json_int_t)0, "Tags",
			 tags ? json_incref(tags) : json_array(), "DeletionProtection", json_is_true(prot), "NodeId", node,
			 "SuperPassword", super_pw, "AdminName", api_param_str(ctx, "AdminName") ?: "");
}

/* Insert one instance in status `status` and, with admin_pw, its create task. */
static int instance_insert(struct api_ctx *ctx, const struct purchase *p, const char *status,
			   const char *admin_pw, json_t *ids, int64_t *flow, struct err *e)
{
	struct store_res r;
	struct fleet *f = fleet_of(ctx);
	char token[9];
	int64_t task = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	if (random_token(token, 8, "abcdefghijklmnopqrstuvwxyz0123456789", e) != 0)
		return -1;
	snprintf(r.kind, sizeof(r.kind), "%s", FLEET_KIND);
	snprintf(r.id, sizeof(r.id), INSTANCE_ID_PREFIX "%s", token);
	snprintf(r.status, sizeof(r.status), "%s", status);
	r.tenant_id = ctx->tenant->id;
	r.doc = instance_doc(ctx, p, r.id);
	if (r.doc == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (store_txn_begin(ctx->svc->store, e) != 0) {
		store_res_free(&r);
		return -1;
	}
	rc = store_res_insert(ctx->svc->store, &r, e);
	if (rc == 0 && admin_pw != NULL)
		rc = fleet_task_submit(f, ctx->tenant->id, "instance.create", r.id,
				       json_pack("{s:s}", "AdminPassword", admin_pw), NULL, NULL, &task, e);
	if (rc == 0)
		rc = store_txn_commit(ctx->svc->store, e);
	else
		store_txn_rollback(ctx->svc->store);
	if (rc == 0)
		json_array_append_new(ids, json_string(r.id));
	if (rc == 0 && task != 0)
		*flow = task;
	store_res_free(&r);
	return rc;
}

/* Create p.count instances in `status` (with their create tasks when
 * admin_pw is given) and their purchase order, all in one transaction:
 * a failure leaves nothing behind. */
static int instances_purchase(struct api_ctx *ctx, const struct purchase *p, const char *status,
			      const char *admin_pw, json_t *out, struct err *e)
{
	struct store *st = ctx->svc->store;
	json_t *ids;
	int64_t flow = 0;
	int rc = 0;

	if (store_txn_begin(st, e) != 0)
		return -1;
	ids = json_array();
	for (long long i = 0; rc == 0 && i < p->count; i++)
		rc = instance_insert(ctx, p, status, admin_pw, ids, &flow, e);
	/* the purchase order (DealNames, BillId): DescribeOrders leads to the ids */
	if (rc == 0)
		rc = billing_purchase(ctx, p->spec, p->storage, p->period, p->charge, ids, flow, out, e);
	if (rc == 0)
		rc = store_txn_commit(st, e);
	else
		store_txn_rollback(st);
	if (rc != 0) {
		json_decref(ids);
		return -1;
	}
	json_object_set_new(out, "DBInstanceIdSet", ids);
	return 0;
}

int instances_create(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct purchase p;

	if (instance_check_account_name(api_param_str(ctx, "AdminName"), e) != 0 ||
	    instance_check_password(api_param_str(ctx, "AdminPassword"), e) != 0 || check_purchase(ctx, &p, e) != 0)
		return -1;
	return instances_purchase(ctx, &p, "applying", api_param_str(ctx, "AdminPassword"), out, e);
}

/* CreateDBInstances: the older two-step flow; the instance waits in `init`
 * for InitDBInstances to give its charset and admin account. */
int instances_create_legacy(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct purchase p;

	if (check_purchase(ctx, &p, e) != 0)
		return -1;
	return instances_purchase(ctx, &p, "init", NULL, out, e);
}

struct init_args {
	const char *admin;
	const char *charset;
};

static int mut_init(struct store_res *r, void *arg, struct err *e)
{
	const struct init_args *a = arg;
	static const char *const allowed[] = { "init", NULL };

	if (instance_status_allows(r, allowed, e) != 0)
		return -1;
	json_object_set_new(r->doc, "AdminName", json_string(a->admin));
	json_object_set_new(r->doc, "Charset", json_string(a->charset));
	snprintf(r->status, sizeof(r->status), "initing");
	return 0;
}

int instances_init(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct init_args a = { api_param_str(ctx, "AdminName"), api_param_str(ctx, "Charset") };
	json_t *set = json_object_get(ctx->params, "DBInstanceIdSet");
	json_t *ids = json_array();
	const char *pw = api_param_str(ctx, "AdminPassword");
	struct store_res r;
	size_t i;
	json_t *v;
	int64_t task;

	if (instance_check_account_name(a.admin, e) != 0 || instance_check_password(pw, e) != 0)
		goto fail;
	json_array_foreach(set, i, v) {
		if (instance_get(ctx, json_string_value(v), &r, e) != 0)
			goto fail;
		store_res_free(&r);
	}
	json_array_foreach(set, i, v) {
		if (fleet_task_submit(fleet_of(ctx), ctx->tenant->id, "instance.create", json_string_value(v),
				      json_pack("{s:s}", "AdminPassword", pw), mut_init, &a, &task, e) != 0)
			goto fail;
		json_array_append(ids, v);
	}
	json_object_set_new(out, "DBInstanceIdSet", ids);
	return 0;
fail:
	json_decref(ids);
	return -1;
}

/* ---- attribute changes ---- */

static int mut_name(struct store_res *r, void *arg, struct err *e)
{
	json_object_set_new(r->doc, "Name", json_string(arg));
	return 0;
}

int instances_modify_name(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *name = api_param_str(ctx, "InstanceName");
	const char *id = api_param_str(ctx, "DBInstanceId");
	struct store_res r;

	if (name[0] == '\0' || strlen(name) > INSTANCE_NAME_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ACCOUNT_FORMAT,
			       "InstanceName must be 1 to %d characters.", INSTANCE_NAME_MAX);
	if (instance_get(ctx, id, &r, e) != 0)
		return -1;
	store_res_free(&r);
	return store_res_modify(ctx->svc->store, FLEET_KIND, id, ctx->tenant->id, mut_name, (void *)name, e);
}

static int mut_project(struct store_res *r, void *arg, struct err *e)
{
	json_object_set_new(r->doc, "ProjectId", json_integer(*(long long *)arg));
	return 0;
}

int instances_modify_project(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *proj = api_param_str(ctx, "ProjectId");
	json_t *set = json_object_get(ctx->params, "DBInstanceIdSet");
	struct store_res r;
	long long pid;
	char *end;
	size_t i;
	json_t *v;

	pid = strtoll(proj, &end, 10);
	if (*proj == '\0' || *end != '\0' || pid < 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "ProjectId must be a non-negative integer.");
	json_array_foreach(set, i, v) {
		if (instance_get(ctx, json_string_value(v), &r, e) != 0)
			return -1;
		store_res_free(&r);
	}
	json_array_foreach(set, i, v)
		if (store_res_modify(ctx->svc->store, FLEET_KIND, json_string_value(v), ctx->tenant->id, mut_project,
				     &pid, e) != 0)
			return -1;
	json_object_set_new(out, "Count", json_integer((json_int_t)json_array_size(set)));
	return 0;
}

/* ---- lifecycle ---- */

struct transition {
	const char *const *from;
	const char *to;
};

static int mut_transition(struct store_res *r, void *arg, struct err *e)
{
	const struct transition *t = arg;

	if (instance_status_allows(r, t->from, e) != 0)
		return -1;
	snprintf(r->status, sizeof(r->status), "%s", t->to);
	return 0;
}

/* Check every id first (all or nothing), then submit one task each. */
static int lifecycle(struct api_ctx *ctx, const json_t *ids, const char *kind, const struct transition *t,
		     int64_t *last_task, struct err *e)
{
	struct store_res r;
	size_t i;
	json_t *v;

	json_array_foreach(ids, i, v) {
		if (instance_get(ctx, json_string_value(v), &r, e) != 0)
			return -1;
		int rc = instance_status_allows(&r, t->from, e);
		store_res_free(&r);
		if (rc != 0)
			return -1;
	}
	json_array_foreach(ids, i, v)
		if (fleet_task_submit(fleet_of(ctx), ctx->tenant->id, kind, json_string_value(v), NULL, mut_transition,
				      (void *)t, last_task, e) != 0)
			return -1;
	return 0;
}

int instances_restart(struct api_ctx *ctx, json_t *out, struct err *e)
{
	static const char *const from[] = { "running", "readonly", NULL };
	static const struct transition t = { from, "restarting" };
	json_t *ids = json_pack("[s]", api_param_str(ctx, "DBInstanceId"));
	int64_t task = 0;
	int rc = lifecycle(ctx, ids, "instance.restart", &t, &task, e);

	json_decref(ids);
	if (rc != 0)
		return -1;
	json_object_set_new(out, "FlowId", json_integer(task));
	json_object_set_new(out, "TaskId", json_integer(task));
	return 0;
}

int instances_isolate(struct api_ctx *ctx, json_t *out, struct err *e)
{
	static const char *const from[] = { "running", "readonly", "offline", NULL };
	static const struct transition t = { from, "isolating" };
	int64_t task;

	return lifecycle(ctx, json_object_get(ctx->params, "DBInstanceIdSet"), "instance.isolate", &t, &task, e);
}

int instances_disisolate(struct api_ctx *ctx, json_t *out, struct err *e)
{
	static const char *const from[] = { "isolated", NULL };
	static const struct transition t = { from, "disisolating" };
	int64_t task;

	/* an expired prepaid instance is renewed for Period first */
	if (billing_restore(ctx, json_object_get(ctx->params, "DBInstanceIdSet"), e) != 0)
		return -1;
	return lifecycle(ctx, json_object_get(ctx->params, "DBInstanceIdSet"), "instance.disisolate", &t, &task, e);
}

int instances_destroy(struct api_ctx *ctx, json_t *out, struct err *e)
{
	static const char *const from[] = { "isolated", "init", "offline", NULL };
	static const struct transition t = { from, "recycling" };
	json_t *ids = json_pack("[s]", api_param_str(ctx, "DBInstanceId"));
	int64_t task;
	int rc = lifecycle(ctx, ids, "instance.destroy", &t, &task, e);

	json_decref(ids);
	return rc;
}

const struct api_handler instance_handlers[] = {
	{ "CreateDBInstances", instances_create_legacy },
	{ "CreateInstances", instances_create },
	{ "DescribeDBInstanceAttribute", instances_describe_attribute },
	{ "DescribeDBInstances", instances_describe },
	{ "DestroyDBInstance", instances_destroy },
	{ "DisIsolateDBInstances", instances_disisolate },
	{ "InitDBInstances", instances_init },
	{ "IsolateDBInstances", instances_isolate },
	{ "ModifyDBInstanceName", instances_modify_name },
	{ "ModifyDBInstancesProject", instances_modify_project },
	{ "RestartDBInstance", instances_restart },
	{ NULL, NULL },
};
