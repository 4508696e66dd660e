/*
 * specs.c - changes that switch the server: spec (ModifyDBInstanceSpec,
 * UpgradeDBInstance), placement (ModifyDBInstanceDeployment) and kernel
 * (UpgradeDBInstanceKernelVersion), and ModifySwitchTimePeriod.
 *
 * Each change is checked here, then either started at once (SwitchTag 0:
 * a "spec.switch" task, task/billing_tasks.c) or left waiting (status
 * waitSwitch, the change in the document's PendingSwitch) for its window:
 * SwitchTag 1 the request's SwitchStartTime-SwitchEndTime (HH:MM:SS, at
 * least 30 minutes), SwitchTag 2 the maintenance_window setting. The
 * supervisor starts it when the business clock enters the window, or
 * ModifySwitchTimePeriod (SwitchTag 0) starts it now. A spec change records
 * its order (prepaid: the monthly difference for the time left; pay-as-you-
 * go: nothing up front, the hours are charged at the new rate) in the same
 * transaction.
 *
 * A spec is chosen by Memory (GiB) and, when given, Cpu; Storage must be in
 * the spec's range and, when it shrinks, hold the data already stored
 * (FailedOperation.PreCheckError). UpgradeDBInstance only grows
 * (FailedOperation.StorageMemoryCheckError otherwise). Cores are enforced
 * through the cpu cgroup where the machine allows (pg/pgcgroup.h), else
 * recorded only.
 */
#include <stdio.h>
#include <string.h>

#include "api/billing.h"
#include "api/instances.h"
#include "core/clock.h"
#include "pg/pgversion.h"
#include "task/billing.h"
#include "task/fleet.h"
#include "task/ledger.h"

#define SPECS_NODES_MAX 8          /* DBNodeSet entries of a deployment */

struct switch_req {
	long long tag;                 /* 0 now, 1 request window, 2 maintenance window */
	struct billing_window w;
};

static int switch_parse(const struct api_ctx *ctx, struct switch_req *s, struct err *e)
{
	s->tag = 0;
	api_param_int(ctx, "SwitchTag", &s->tag);
	if (s->tag == 1)
		return billing_window_parse(api_param_str(ctx, "SwitchStartTime"), api_param_str(ctx, "SwitchEndTime"),
					    &s->w, e);
	if (s->tag == 2)
		s->w = *billing_maintenance_window();
	return 0;
}

static enum err_code status_code(const struct api_ctx *ctx)
{
	return billing_code(ctx, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR,
			    ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_OP_ERROR);
}

static int switch_status_ok(const struct api_ctx *ctx, const struct store_res *r, struct err *e)
{
	if (strcmp(r->status, "running") == 0 || strcmp(r->status, "readonly") == 0)
		return 0;
	return err_set(e, status_code(ctx), "Instance %s cannot change while it is %s.", r->id, r->status);
}

/* ---- submitting a change ---- */

struct switch_mut {
	const struct api_ctx *ctx;
	const struct switch_req *sw;
	json_t *params;                /* the change (borrowed) */
};

static int mut_switch_now(struct store_res *r, void *arg, struct err *e)
{
	const struct switch_mut *m = arg;

	if (switch_status_ok(m->ctx, r, e) != 0)
		return -1;
	snprintf(r->status, sizeof(r->status), "%s",
		 billing_switch_status(json_string_value(json_object_get(m->params, "Kind"))));
	return 0;
}

static int mut_switch_wait(struct store_res *r, void *arg, struct err *e)
{
	const struct switch_mut *m = arg;

	if (switch_status_ok(m->ctx, r, e) != 0)
		return -1;
	json_object_set_new(r->doc, "PendingSwitch",
			    json_pack("{s:O, s:I, s:i, s:i, s:O}", "Kind", json_object_get(m->params, "Kind"), "Tag",
				      (json_int_t)m->sw->tag, "Start", m->sw->w.start_s, "End", m->sw->w.end_s,
				      "Params", m->params));
	snprintf(r->status, sizeof(r->status), "%s", BILLING_WAIT_STATUS);
	return 0;
}

/* Leave the change waiting: the instance must not be busy with a task. */
static int switch_wait(struct api_ctx *ctx, const char *id, struct switch_mut *m, struct err *e)
{
	int64_t busy;

	if (store_task_running_for(ctx->svc->store, id, &busy, e) != 0)
		return -1;
	if (busy != 0)
		return err_set(e, status_code(ctx), "Instance %s is busy with another operation; retry later.", id);
	return store_res_modify(ctx->svc->store, FLEET_KIND, id, ctx->tenant->id, mut_switch_wait, m, e);
}

/* Record the order `o` (may be NULL) and start (tag 0) or park the change
 * `params` (owned) of instance `r`, in one transaction. *task: the task, 0
 * when the change waits. */
static int switch_submit(struct api_ctx *ctx, const struct store_res *r, json_t *params, const struct switch_req *sw,
			 struct ledger_order *o, int64_t *task, struct err *e)
{
	struct store *s = ctx->svc->store;
	struct switch_mut m = { ctx, sw, params };
	int rc = 0;

	*task = 0;
	json_object_set_new(params, "PrevStatus", json_string(r->status));
	if (store_txn_begin(s, e) != 0) {
		json_decref(params);
		return -1;
	}
	if (o != NULL && (rc = ledger_order_insert(s, ctx->tenant->id, o, e)) == 0)
		json_object_set_new(params, "DealName", json_string(o->deal));
	if (rc == 0 && sw->tag == 0) {
		rc = fleet_task_submit(ctx->svc->fleet, ctx->tenant->id, BILLING_SWITCH_KIND, r->id, json_incref(params),
				       mut_switch_now, &m, task, e);
		if (rc == 0 && o != NULL)
			rc = ledger_order_set_flow(s, o->deal, *task, e);
	} else if (rc == 0) {
		rc = switch_wait(ctx, r->id, &m, e);
	}
	json_decref(params);
	if (rc != 0) {
		store_txn_rollback(s);
		return -1;
	}
	return store_txn_commit(s, e);
}

/* ---- ModifyDBInstanceSpec / UpgradeDBInstance ---- */

struct spec_req {
	long long memory, storage, cpu;
	struct switch_req sw;
	const struct catalog_spec *spec;
};

static int spec_input(struct api_ctx *ctx, struct spec_req *q, struct err *e)
{
	json_t *sync = json_object_get(ctx->params, "SyncModifyParams");

	memset(q, 0, sizeof(*q));
	api_param_int(ctx, "Memory", &q->memory);
	api_param_int(ctx, "Storage", &q->storage);
	api_param_int(ctx, "Cpu", &q->cpu);
	if (json_array_size(sync) > 0)
		return err_set(e, ERR_UNSUPPORTED_OPERATION,
			       "Changing parameters together with the spec is not supported; use ModifyDBInstanceParameters.");
	if (json_array_size(json_object_get(ctx->params, "VoucherIds")) > 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "No vouchers exist on this service.");
	return switch_parse(ctx, &q->sw, e);
}

/* The new spec and storage against the instance: a spec that exists, a
 * storage in its range, a real change, growth only when upgrade_only. */
static int spec_check(struct api_ctx *ctx, struct spec_req *q, const struct store_res *r, int upgrade_only,
		      struct err *e)
{
	long long cur_mem = json_integer_value(json_object_get(r->doc, "MemoryMb"));
	long long cur_storage = json_integer_value(json_object_get(r->doc, "StorageGb"));
	const char *cur_code = json_string_value(json_object_get(r->doc, "SpecCode"));

	q->spec = billing_spec_for(ctx, q->memory, q->cpu, (int)json_integer_value(json_object_get(r->doc, "Cpu")));
	if (q->spec == NULL)
		return err_set(e, billing_code(ctx, ERR_INVALID_PARAMETER_VALUE_BAD_SPEC,
					       ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR),
			       "No spec has %lld GiB of memory%s (see DescribeClasses).", q->memory,
			       q->cpu ? " with those cores" : "");
	if (q->storage < q->spec->min_storage_gb || q->storage > q->spec->max_storage_gb)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "Storage must be between %d and %d GiB for %s.", q->spec->min_storage_gb,
			       q->spec->max_storage_gb, q->spec->code);
	if (cur_code != NULL && strcmp(cur_code, q->spec->code) == 0 && q->storage == cur_storage)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "Instance %s already has %s with %lld GiB.", r->id, q->spec->code, cur_storage);
	if (upgrade_only && (q->spec->memory_mb < cur_mem || q->storage < cur_storage))
		return err_set(e, ERR_FAILED_OPERATION_STORAGE_MEMORY_CHECK_ERROR,
			       "UpgradeDBInstance only grows: memory and storage must not be below %lld GiB and %lld GiB.",
			       cur_mem / 1024, cur_storage);
	return 0;
}

/* A smaller Storage must hold what the instance already stores. */
static int spec_check_fits(struct api_ctx *ctx, const struct spec_req *q, const struct store_res *r, struct err *e)
{
	struct pgnode n;
	long long used;

	if (q->storage >= json_integer_value(json_object_get(r->doc, "StorageGb")))
		return 0;
	if (fleet_primary_node(ctx->svc->fleet, r->doc, &n, e) != 0 || pgnode_data_size(&n, &used, e) != 0)
		return -1;
	if (used > q->storage << 30)
		return err_set(e, billing_code(ctx, ERR_FAILED_OPERATION_PRE_CHECK_ERROR,
					       ERR_INVALID_PARAMETER_VALUE_INVALID_INSTANCE_VOLUME),
			       "Instance %s stores %lld MiB already: more than %lld GiB.", r->id, used >> 20, q->storage);
	return 0;
}

static void spec_order(const struct spec_req *q, const struct store_res *r, json_t *ids, struct ledger_order *o)
{
	struct pricing_item from, to;

	memset(o, 0, sizeof(*o));
	o->action = "upgrade";
	o->count = 1;
	o->ids = ids;
	o->spec_code = q->spec->code;
	o->storage_gb = q->storage;
	o->pay_mode = billing_is_postpaid(r->doc) ? LEDGER_PAY_POSTPAID : LEDGER_PAY_PREPAID;
	if (o->pay_mode == LEDGER_PAY_PREPAID) {
		billing_item_of(r->doc, &from);
		billing_item_spec(q->spec, q->storage, &to);
		pricing_prepaid_change(&from, &to, json_integer_value(json_object_get(r->doc, "ExpireTime")) - clock_now(),
				       &o->quote);
	}
}

static int spec_change(struct api_ctx *ctx, json_t *out, int upgrade_only, struct err *e)
{
	struct spec_req q;
	struct ledger_order o;
	struct store_res r;
	json_t *ids = NULL;
	int64_t task;
	int rc;

	if (spec_input(ctx, &q, e) != 0 || instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &r, e) != 0)
		return -1;
	rc = switch_status_ok(ctx, &r, e);
	if (rc == 0)
		rc = spec_check(ctx, &q, &r, upgrade_only, e);
	if (rc == 0)
		rc = spec_check_fits(ctx, &q, &r, e);
	if (rc == 0) {
		ids = json_pack("[s]", r.id);
		spec_order(&q, &r, ids, &o);
		rc = switch_submit(ctx, &r,
				   json_pack("{s:s, s:s, s:i, s:i, s:I}", "Kind", "spec", "SpecCode", q.spec->code, "Cpu",
					     q.spec->cpu, "MemoryMb", q.spec->memory_mb, "StorageGb", (json_int_t)q.storage),
				   &q.sw, &o, &task, e);
	}
	if (rc == 0) {
		json_object_set_new(out, "DealName", json_string(o.deal));
		json_object_set_new(out, "BillId", json_string(o.bill));
	}
	json_decref(ids);
	store_res_free(&r);
	return rc;
}

int specs_modify(struct api_ctx *ctx, json_t *out, struct err *e)
{
	return spec_change(ctx, out, 0, e);
}

int specs_upgrade(struct api_ctx *ctx, json_t *out, struct err *e)
{
	return spec_change(ctx, out, 1, e);
}

/* ---- ModifySwitchTimePeriod ---- */

int specs_switch_now(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *id = api_param_str(ctx, "DBInstanceId");
	struct store_res r;
	int64_t task;

	if (instance_get(ctx, id, &r, e) != 0)
		return -1;
	store_res_free(&r);
	return billing_switch_start(ctx->svc->fleet, ctx->tenant->id, id, &task, e);
}

/* ---- ModifyDBInstanceDeployment ---- */

/* The checked node set: one Primary, known zones of the instance's region,
 * no dedicated clusters. *primary_zone points into `nodes`. */
static int deploy_nodes(const json_t *nodes, const char *region, const char **primary_zone, json_t **out,
			struct err *e)
{
	size_t i;
	json_t *n;

	*primary_zone = NULL;
	if (json_array_size(nodes) < 1 || json_array_size(nodes) > SPECS_NODES_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "DBNodeSet must have 1 to %d nodes.", SPECS_NODES_MAX);
	json_array_foreach(nodes, i, n) {
		const char *role = json_string_value(json_object_get(n, "Role"));
		const char *zone = json_string_value(json_object_get(n, "Zone"));
		const char *cluster = json_string_value(json_object_get(n, "DedicatedClusterId"));
		const char *zr = catalog_zone_region(zone);
		if (zr == NULL || strcmp(zr, region) != 0)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ZONE_ID_ERROR,
				       "DBNodeSet.%zu: zone `%.64s` is not a zone of %s.", i, zone ? zone : "", region);
		if (cluster != NULL && cluster[0] != '\0')
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "DBNodeSet.%zu: there are no dedicated clusters here.", i);
		if (strcmp(role, "Primary") == 0 && *primary_zone != NULL)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
				       "DBNodeSet must have exactly one Primary node.");
		if (strcmp(role, "Primary") == 0)
			*primary_zone = zone;
	}
	if (*primary_zone == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "DBNodeSet must have exactly one Primary node.");
	*out = json_array();
	json_array_foreach(nodes, i, n)
		json_array_append_new(*out, json_pack("{s:O, s:O, s:s}", "Role", json_object_get(n, "Role"), "Zone",
						      json_object_get(n, "Zone"), "DedicatedClusterId", ""));
	return 0;
}

int specs_modify_deployment(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct switch_req sw;
	const char *primary;
	struct store_res r;
	json_t *nodes = NULL;
	int64_t task = 0;
	int rc;

	if (switch_parse(ctx, &sw, e) != 0 || instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &r, e) != 0)
		return -1;
	rc = deploy_nodes(json_object_get(ctx->params, "DBNodeSet"),
			  json_string_value(json_object_get(r.doc, "Region")) ?: "", &primary, &nodes, e);
	if (rc == 0)
		rc = switch_status_ok(ctx, &r, e);
	if (rc == 0)
		rc = switch_submit(ctx, &r,
				   json_pack("{s:s, s:O, s:s}", "Kind", "deploy", "DBNodeSet", nodes, "Zone", primary),
				   &sw, NULL, &task, e);
	if (rc == 0)
		json_object_set_new(out, "TaskId", json_integer((json_int_t)task));
	json_decref(nodes);
	store_res_free(&r);
	return rc;
}

/* ---- UpgradeDBInstanceKernelVersion ---- */

/* The target kernel: installed on this machine, same major version, not
 * older than the instance's. */
static const struct catalog_version *kernel_target(const struct store_res *r, const char *target, struct err *e)
{
	const struct catalog_version *v = catalog_version_find(NULL, NULL, target);
	const char *major = json_string_value(json_object_get(r->doc, "DBMajorVersion"));
	const char *cur = json_string_value(json_object_get(r->doc, "DBVersion"));

	if (v == NULL)
		err_set(e, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR,
			"Kernel version `%.32s` is not available on this machine (see DescribeDBVersions).", target);
	else if (major == NULL || strcmp(v->major, major) != 0)
		err_set(e, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR,
			"Kernel version %s is not of major version %s: a kernel upgrade keeps the major version.", v->kernel,
			major ? major : "?");
	else if (cur != NULL && pgversion_cmp(v->version, cur) < 0)
		err_set(e, ERR_INVALID_PARAMETER_PARAMETER_CHECK_ERROR, "Kernel version %s is older than the instance's %s.",
			v->kernel, cur);
	else
		return v;
	return NULL;
}

/* The checks of a kernel upgrade (all of them, for DryRun too). */
static int kernel_check(struct api_ctx *ctx, const struct store_res *r, const struct catalog_version **v,
			struct err *e)
{
	int64_t busy;

	if (switch_status_ok(ctx, r, e) != 0)
		return -1;
	*v = kernel_target(r, api_param_str(ctx, "TargetDBKernelVersion"), e);
	if (*v == NULL || store_task_running_for(ctx->svc->store, r->id, &busy, e) != 0)
		return -1;
	if (busy != 0)
		return err_set(e, status_code(ctx), "Instance %s is busy with another operation; retry later.", r->id);
	return 0;
}

int specs_upgrade_kernel(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog_version *v = NULL;
	struct switch_req sw;
	struct store_res r;
	int64_t task = 0;
	int rc;

	if (switch_parse(ctx, &sw, e) != 0 || instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &r, e) != 0)
		return -1;
	rc = kernel_check(ctx, &r, &v, e);
	if (rc == 0 && !json_is_true(json_object_get(ctx->params, "DryRun")))
		rc = switch_submit(ctx, &r,
				   json_pack("{s:s, s:s, s:s, s:s, s:s}", "Kind", "kernel", "BinDir", v->bin_dir, "DBVersion",
					     v->version, "DBKernelVersion", v->kernel, "DBMajorVersion", v->major),
				   &sw, NULL, &task, e);
	if (rc == 0)
		json_object_set_new(out, "TaskId", json_integer((json_int_t)task));
	store_res_free(&r);
	return rc;
}
