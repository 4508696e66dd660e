/*
 * billing_life.c - the life of a purchase: RenewInstance, SetAutoRenewFlag,
 * ModifyDBInstanceChargeType and the renewal that restoring an expired
 * instance needs (see billing.h).
 *
 * Each action checks its input, then in one store transaction changes the
 * instance document (a conditional read-modify-write that re-checks the
 * status and charge type) and records the order; a renewal that brings an
 * expired, isolated instance back also submits its restore task in that
 * transaction. Months are 30 days (task/pricing.h), like creation's.
 *
 *   RenewInstance          PREPAID only (OperationDenied.PostPaidPayModeError);
 *                          ExpireTime += Period; an instance isolated at
 *                          expiry is renewed from now and started again
 *   SetAutoRenewFlag       0 manual, 1 automatic (the supervisor renews by
 *                          the instance's Period at expiry), 2 never
 *   ModifyDBInstanceChargeType
 *                          POSTPAID_BY_HOUR -> PREPAID: the hours used so
 *                          far are billed (a started hour counts), then
 *                          Period months are bought from now;
 *                          PREPAID -> POSTPAID_BY_HOUR (Period 1): charged
 *                          by the hour from now; the prepaid time left is
 *                          not refunded
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/billing.h"
#include "api/instances.h"
#include "core/clock.h"
#include "task/billing.h"
#include "task/fleet.h"
#include "task/ledger.h"

static json_int_t doc_int(const json_t *doc, const char *key)
{
	return json_integer_value(json_object_get(doc, key));
}

static int vouchers_none(const struct api_ctx *ctx, struct err *e)
{
	if (json_array_size(json_object_get(ctx->params, "VoucherIds")) > 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "No vouchers exist on this service.");
	return 0;
}

/* Record `o`, then (kind != NULL) submit the task that `fn` starts, else
 * apply `fn`; one transaction. The order's FlowId is the task. */
static int commit_with_order(struct api_ctx *ctx, const char *id, const char *kind,
			     int (*fn)(struct store_res *, void *, struct err *), void *arg,
			     struct ledger_order *o, struct err *e)
{
	struct store *s = ctx->svc->store;
	int64_t task = 0;
	int rc;

	if (store_txn_begin(s, e) != 0)
		return -1;
	rc = ledger_order_insert(s, ctx->tenant->id, o, e);
	if (rc == 0 && kind != NULL)
		rc = fleet_task_submit(ctx->svc->fleet, ctx->tenant->id, kind, id, NULL, fn, arg, &task, e);
	else if (rc == 0)
		rc = store_res_modify(s, FLEET_KIND, id, ctx->tenant->id, fn, arg, e);
	if (rc == 0 && task != 0)
		rc = ledger_order_set_flow(s, o->deal, task, e);
	if (rc != 0) {
		store_txn_rollback(s);
		return -1;
	}
	return store_txn_commit(s, e);
}

/* ---- RenewInstance ---- */

struct renew {
	long long months;
	int64_t now;
	int restore;       /* isolated at expiry: renew from now and start it */
};

static int renew_denied(const struct store_res *r)
{
	return strcmp(r->status, "recycling") == 0 || strcmp(r->status, "isolating") == 0 ||
	       strcmp(r->status, "disisolating") == 0;
}

static int mut_renew(struct store_res *r, void *arg, struct err *e)
{
	const struct renew *rn = arg;
	json_int_t exp = doc_int(r->doc, "ExpireTime");

	if (billing_is_postpaid(r->doc))
		return err_set(e, ERR_OPERATION_DENIED_POST_PAID_PAY_MODE_ERROR,
			       "Instance %s is pay-as-you-go: it cannot be renewed.", r->id);
	if (renew_denied(r) || (rn->restore && strcmp(r->status, "isolated") != 0))
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR,
			       "Instance %s cannot be renewed while %s.", r->id, r->status);
	if (rn->restore || exp <= 0) {
		exp = exp > rn->now ? exp : rn->now;
		json_object_del(r->doc, "IsolateReason");
	}
	if (rn->restore)
		snprintf(r->status, sizeof(r->status), "disisolating");
	json_object_set_new(r->doc, "ExpireTime", json_integer(exp + rn->months * PRICING_MONTH_S));
	return 0;
}

static int renew_restores(const struct store_res *r)
{
	const char *why = json_string_value(json_object_get(r->doc, "IsolateReason"));

	return strcmp(r->status, "isolated") == 0 && why != NULL && strcmp(why, "expired") == 0;
}

int billing_renew(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct renew rn = { 0, clock_now(), 0 };
	struct ledger_order o = { .action = "renew", .pay_mode = LEDGER_PAY_PREPAID, .count = 1 };
	const char *id = api_param_str(ctx, "DBInstanceId");
	struct pricing_item it;
	struct store_res r;
	json_t *ids;
	int rc;

	api_param_int(ctx, "Period", &rn.months);
	if (instance_get(ctx, id, &r, e) != 0)
		return -1;
	rn.restore = renew_restores(&r);
	billing_item_of(r.doc, &it);
	rc = mut_renew(&r, &rn, e); /* the checks, on our copy */
	if (rc == 0 && !billing_period_ok(rn.months))
		rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			     "Period must be 1 to 12, 24 or 36 months.");
	if (rc == 0)
		rc = vouchers_none(ctx, e);
	if (rc != 0) {
		store_res_free(&r);
		return -1;
	}
	ids = json_pack("[s]", r.id);
	o.ids = ids;
	o.period = rn.months;
	o.spec_code = it.spec_code;
	o.storage_gb = it.storage_gb;
	pricing_prepaid(&it, rn.months, 1, &o.quote);
	rc = commit_with_order(ctx, r.id, rn.restore ? "instance.disisolate" : NULL, mut_renew, &rn, &o, e);
	store_res_free(&r);
	json_decref(ids);
	if (rc == 0)
		json_object_set_new(out, "DealName", json_string(o.deal));
	return rc;
}

/* ---- SetAutoRenewFlag ---- */

static int mut_auto_renew(struct store_res *r, void *arg, struct err *e)
{
	if (billing_is_postpaid(r->doc))
		return err_set(e, ERR_OPERATION_DENIED_POST_PAID_PAY_MODE_ERROR,
			       "Instance %s is pay-as-you-go: it has no renewal.", r->id);
	if (strcmp(r->status, "recycling") == 0)
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_OP_ERROR,
			       "Instance %s is being destroyed.", r->id);
	json_object_set_new(r->doc, "AutoRenew", json_integer(*(const long long *)arg));
	return 0;
}

int billing_set_auto_renew(struct api_ctx *ctx, json_t *out, struct err *e)
{
	json_t *set = json_object_get(ctx->params, "DBInstanceIdSet");
	long long flag = 0;
	struct store_res r;
	size_t i;
	json_t *v;

	api_param_int(ctx, "AutoRenewFlag", &flag);
	json_array_foreach(set, i, v) { /* all or nothing: check every one first */
		if (instance_get(ctx, json_string_value(v), &r, e) != 0)
			return -1;
		int rc = mut_auto_renew(&r, &flag, e);
		store_res_free(&r);
		if (rc != 0)
			return -1;
	}
	json_array_foreach(set, i, v)
		if (store_res_modify(ctx->svc->store, FLEET_KIND, json_string_value(v), ctx->tenant->id, mut_auto_renew,
				     &flag, e) != 0)
			return -1;
	json_object_set_new(out, "Count", json_integer((json_int_t)json_array_size(set)));
	return 0;
}

/* ---- ModifyDBInstanceChargeType ---- */

struct charge_change {
	int to_prepaid;
	long long months;
	long long auto_renew;
	int64_t now;
	int64_t billed_from;   /* out: usage to settle, from .. now */
	long long hours;       /* out */
};

static int mut_charge_type(struct store_res *r, void *arg, struct err *e)
{
	struct charge_change *c = arg;
	json_int_t from = doc_int(r->doc, "BilledUntil") > 0 ? doc_int(r->doc, "BilledUntil") : doc_int(r->doc, "CreateTime");

	if (strcmp(r->status, "running") != 0 && strcmp(r->status, "readonly") != 0)
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR,
			       "The charge type of instance %s cannot change while it is %s.", r->id, r->status);
	if (billing_is_postpaid(r->doc) != c->to_prepaid)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "Instance %s is already %s.", r->id, c->to_prepaid ? "PREPAID" : "POSTPAID_BY_HOUR");
	json_object_set_new(r->doc, "ChargeType", json_string(c->to_prepaid ? "PREPAID" : "POSTPAID_BY_HOUR"));
	json_object_set_new(r->doc, "PayType", json_string(c->to_prepaid ? "prepaid" : "postpaid"));
	json_object_set_new(r->doc, "Period", json_integer(c->months));
	json_object_set_new(r->doc, "AutoRenew", json_integer(c->to_prepaid ? c->auto_renew : 0));
	json_object_set_new(r->doc, "ExpireTime", json_integer(c->to_prepaid ? c->now + c->months * PRICING_MONTH_S : 0));
	if (c->to_prepaid) {
		c->billed_from = from;
		c->hours = c->now > from ? (c->now - from + PRICING_HOUR_S - 1) / PRICING_HOUR_S : 0;
		json_object_del(r->doc, "BilledUntil");
	} else {
		json_object_set_new(r->doc, "BilledUntil", json_integer(c->now));
	}
	return 0;
}

/* The change, the settled hours and the order, in one transaction. */
static int charge_commit(struct api_ctx *ctx, const char *id, struct charge_change *c, struct ledger_order *o,
			 const struct pricing_item *it, struct err *e)
{
	struct store *s = ctx->svc->store;
	struct pricing_quote used;

	if (store_txn_begin(s, e) != 0)
		return -1;
	if (store_res_modify(s, FLEET_KIND, id, ctx->tenant->id, mut_charge_type, c, e) != 0)
		goto fail;
	pricing_hourly(it, c->hours, 1, &used);
	if (c->hours > 0 && ledger_usage_insert(s, ctx->tenant->id, id, c->billed_from,
						c->billed_from + c->hours * PRICING_HOUR_S, c->hours, &used, NULL, e) != 0)
		goto fail;
	if (ledger_order_insert(s, ctx->tenant->id, o, e) != 0)
		goto fail;
	return store_txn_commit(s, e);
fail:
	store_txn_rollback(s);
	return -1;
}

int billing_modify_charge_type(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct charge_change c = { .now = clock_now() };
	struct ledger_order o = { .action = "chargetype", .count = 1 };
	const char *id = api_param_str(ctx, "DBInstanceId");
	struct pricing_item it;
	struct store_res r;
	json_t *ids;
	int rc;

	c.to_prepaid = strcasecmp(api_param_str(ctx, "InstanceChargeType"), "PREPAID") == 0;
	api_param_int(ctx, "Period", &c.months);
	api_param_int(ctx, "AutoRenewFlag", &c.auto_renew);
	if (!c.to_prepaid && c.months != 1)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "Period must be 1 for POSTPAID_BY_HOUR.");
	if (instance_get(ctx, id, &r, e) != 0)
		return -1;
	rc = mut_charge_type(&r, &c, e); /* the checks, on a copy */
	billing_item_of(r.doc, &it);
	ids = json_pack("[s]", r.id);
	o.ids = ids;
	o.pay_mode = c.to_prepaid ? LEDGER_PAY_PREPAID : LEDGER_PAY_POSTPAID;
	o.period = c.to_prepaid ? c.months : 0;
	o.spec_code = it.spec_code;
	o.storage_gb = it.storage_gb;
	if (c.to_prepaid)
		pricing_prepaid(&it, c.months, 1, &o.quote);
	if (rc == 0)
		rc = charge_commit(ctx, id, &c, &o, &it, e);
	store_res_free(&r);
	json_decref(ids);
	if (rc == 0)
		json_object_set_new(out, "DealName", json_string(o.deal));
	return rc;
}

/* ---- restoring (DisIsolateDBInstances) ---- */

static int restore_needs_renewal(const struct store_res *r, int64_t now)
{
	json_int_t exp = doc_int(r->doc, "ExpireTime");

	return !billing_is_postpaid(r->doc) && exp > 0 && exp <= now;
}

/* An expired isolated instance renewed from now (the isolated time is not
 * charged); it stays isolated until the restore task starts it. */
static int mut_restore_renew(struct store_res *r, void *arg, struct err *e)
{
	const struct renew *rn = arg;
	json_int_t exp = doc_int(r->doc, "ExpireTime");

	if (strcmp(r->status, "isolated") != 0 || billing_is_postpaid(r->doc))
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR,
			       "Instance %s is no longer an isolated prepaid instance.", r->id);
	if (exp < rn->now)
		exp = rn->now;
	json_object_set_new(r->doc, "ExpireTime", json_integer(exp + rn->months * PRICING_MONTH_S));
	json_object_del(r->doc, "IsolateReason");
	return 0;
}

static int restore_one(struct api_ctx *ctx, const char *id, long long months, struct err *e)
{
	struct renew rn = { months, clock_now(), 0 };
	struct ledger_order o = { .action = "restore", .pay_mode = LEDGER_PAY_PREPAID, .count = 1, .period = months };
	struct pricing_item it;
	struct store_res r;
	json_t *ids;
	int rc;

	if (instance_get(ctx, id, &r, e) != 0)
		return -1;
	billing_item_of(r.doc, &it);
	ids = json_pack("[s]", id);
	o.ids = ids;
	o.spec_code = it.spec_code;
	o.storage_gb = it.storage_gb;
	pricing_prepaid(&it, months, 1, &o.quote);
	rc = commit_with_order(ctx, id, NULL, mut_restore_renew, &rn, &o, e);
	store_res_free(&r);
	json_decref(ids);
	return rc;
}

int billing_restore(struct api_ctx *ctx, const json_t *ids, struct err *e)
{
	long long months = 0;
	int64_t now = clock_now();
	int have_period = api_param_int(ctx, "Period", &months) == 0;
	struct store_res r;
	size_t i;
	json_t *v;

	json_array_foreach(ids, i, v) { /* all isolated, or leave it to the restore to refuse */
		if (store_res_get(ctx->svc->store, FLEET_KIND, json_string_value(v), ctx->tenant->id, &r, e) != 0)
			return 0;
		int ok = strcmp(r.status, "isolated") == 0;
		int needs = ok && restore_needs_renewal(&r, now);
		store_res_free(&r);
		if (!ok)
			return 0;
		if (needs && !have_period)
			return err_set(e, ERR_MISSING_PARAMETER,
				       "Instance %s has expired: restoring it needs a Period to renew it for.",
				       json_string_value(v));
	}
	json_array_foreach(ids, i, v) {
		if (store_res_get(ctx->svc->store, FLEET_KIND, json_string_value(v), ctx->tenant->id, &r, e) != 0)
			return -1;
		int needs = restore_needs_renewal(&r, now);
		store_res_free(&r);
		if (needs && restore_one(ctx, json_string_value(v), months, e) != 0)
			return -1;
	}
	return 0;
}
