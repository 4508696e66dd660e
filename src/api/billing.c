/*
 * billing.c - price inquiries, orders and encryption keys (see billing.h),
 * and the table of every action of the billing family.
 *
 * Prices answer in cents of the book's Currency, as the seed documents
 * (OriginalPrice "in US Cent", Price after the period discount):
 *   InquiryPriceCreateDBInstances  PREPAID: Period months x InstanceCount;
 *                                  POSTPAID_BY_HOUR: one hour x InstanceCount
 *   InquiryPriceRenewDBInstance    Period months of the instance's spec and
 *                                  storage (pay-as-you-go instances cannot
 *                                  be renewed: OperationDenied.PostPaidPayModeError)
 *   InquiryPriceUpgradeDBInstance  prepaid: the monthly difference for the
 *                                  time left until ExpireTime (0 for a
 *                                  smaller spec: nothing is refunded);
 *                                  pay-as-you-go: one hour at the new spec
 *
 * DescribeEncryptionKeys answers an empty list: community PostgreSQL 15
 * has no transparent data encryption, so CreateInstances refuses
 * NeedSupportTDE=1 (instances.c) and no instance ever has a key.
 */
#include "api/billing.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/instances.h"
#include "core/clock.h"
#include "core/config.h"
#include "task/billing.h"
#include "task/ledger.h"

enum err_code billing_code(const struct api_ctx *ctx, enum err_code code, enum err_code fallback)
{
	const struct api_action *a = ctx->action;

	for (size_t i = 0; a != NULL && i < a->nerrors; i++)
		if (a->errors[i] == code)
			return code;
	return fallback;
}

int billing_period_ok(long long months)
{
	return (months >= 1 && months <= 12) || months == 24 || months == 36;
}

void billing_item_spec(const struct catalog_spec *spec, long long storage, struct pricing_item *it)
{
	it->spec_code = spec->code;
	it->cpu = spec->cpu;
	it->memory_mb = spec->memory_mb;
	it->storage_gb = storage;
}

const struct catalog_spec *billing_spec_for(const struct api_ctx *ctx, long long memory_gb, long long cpu,
					    int cur_cpu)
{
	const struct catalog_spec *best = NULL;
	json_t *specs = json_object_get(ctx->svc->cfg->catalog, "specs");
	size_t i;
	json_t *row;

	json_array_foreach(specs, i, row) {
		const struct catalog_spec *s = catalog_spec_find(json_string_value(json_object_get(row, "SpecCode")));
		if (s == NULL || (long long)s->memory_mb != memory_gb * 1024 || (cpu != 0 && s->cpu != cpu))
			continue;
		if (best == NULL || s->cpu == cur_cpu || (best->cpu != cur_cpu && s->cpu < best->cpu))
			best = s;
	}
	return best;
}

static void quote_out(json_t *out, const struct pricing_quote *q)
{
	json_object_set_new(out, "OriginalPrice", json_integer((json_int_t)q->original));
	json_object_set_new(out, "Price", json_integer((json_int_t)q->price));
	json_object_set_new(out, "Currency", json_string(pricing_currency()));
}

/* ---- InquiryPriceCreateDBInstances ---- */

/* PREPAID (default), POSTPAID_BY_HOUR or POSTPAID (the SDK's name for it),
 * any case; 1 for pay-as-you-go, 0 for prepaid, -1 otherwise. */
static int charge_postpaid(const char *charge)
{
	if (charge == NULL || strcasecmp(charge, "PREPAID") == 0)
		return 0;
	if (strcasecmp(charge, "POSTPAID_BY_HOUR") == 0 || strcasecmp(charge, "POSTPAID") == 0)
		return 1;
	return -1;
}

static int inquiry_create_check(struct api_ctx *ctx, const struct catalog_spec **spec, long long *storage,
				struct err *e)
{
	const char *engine = api_param_str(ctx, "DBEngine");
	const char *storage_type = api_param_str(ctx, "StorageType");
	const char *zone = api_param_str(ctx, "Zone");

	if (engine != NULL && strcmp(engine, "postgresql") != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "Only the postgresql engine is sold here.");
	if (storage_type != NULL && strcmp(storage_type, "PHYSICAL_LOCAL_SSD") != 0 &&
	    strcmp(storage_type, "CLOUD_PREMIUM") != 0 && strcmp(storage_type, "CLOUD_SSD") != 0 &&
	    strcmp(storage_type, "CLOUD_HSSD") != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "StorageType `%.32s` is not one of PHYSICAL_LOCAL_SSD, CLOUD_PREMIUM, CLOUD_SSD, CLOUD_HSSD.",
			       storage_type);
	if (!catalog_zone_exists(zone))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ZONE_ID_ERROR, "The zone `%.64s` does not exist.",
			       zone);
	*spec = catalog_spec_find(api_param_str(ctx, "SpecCode"));
	if (*spec == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_SPEC_NOT_RECOGNIZED_ERROR,
			       "The spec `%.64s` does not exist (see DescribeClasses).", api_param_str(ctx, "SpecCode"));
	api_param_int(ctx, "Storage", storage);
	if (*storage < (*spec)->min_storage_gb || *storage > (*spec)->max_storage_gb)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "Storage must be between %d and %d GB for %s.", (*spec)->min_storage_gb,
			       (*spec)->max_storage_gb, (*spec)->code);
	return 0;
}

int billing_inquiry_create(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const struct catalog_spec *spec = NULL;
	long long storage = 0, count = 1, period = 1;
	int postpaid = charge_postpaid(api_param_str(ctx, "InstanceChargeType"));
	struct pricing_item it;
	struct pricing_quote q;

	if (inquiry_create_check(ctx, &spec, &storage, e) != 0)
		return -1;
	api_param_int(ctx, "InstanceCount", &count);
	api_param_int(ctx, "Period", &period);
	if (postpaid < 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_ILLEGAL_INSTANCE_CHARGE_TYPE,
			       "InstanceChargeType must be PREPAID or POSTPAID_BY_HOUR.");
	if (postpaid && period != 1)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "Period must be 1 for POSTPAID_BY_HOUR (the price is per hour).");
	billing_item_spec(spec, storage, &it);
	if (postpaid)
		pricing_hourly(&it, 1, count, &q);
	else
		pricing_prepaid(&it, period, count, &q);
	quote_out(out, &q);
	return 0;
}

/* ---- InquiryPriceUpgradeDBInstance / InquiryPriceRenewDBInstance ---- */

static int status_in(const struct store_res *r, const char *const *list)
{
	for (const char *const *s = list; *s != NULL; s++)
		if (strcmp(r->status, *s) == 0)
			return 1;
	return 0;
}

int billing_inquiry_upgrade(struct api_ctx *ctx, json_t *out, struct err *e)
{
	static const char *const gone[] = { "isolating", "isolated", "recycling", "offline", NULL };
	long long memory = 0, storage = 0, cpu = 0;
	const struct catalog_spec *spec;
	struct pricing_item from, to;
	struct pricing_quote q;
	struct store_res r;
	int rc = 0;

	api_param_int(ctx, "Memory", &memory);
	api_param_int(ctx, "Storage", &storage);
	api_param_int(ctx, "Cpu", &cpu);
	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &r, e) != 0)
		return -1;
	billing_item_of(r.doc, &from);
	spec = billing_spec_for(ctx, memory, cpu, from.cpu);
	if (status_in(&r, gone))
		rc = err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_OP_ERROR,
			     "Instance %s is %s: it cannot change its spec.", r.id, r.status);
	else if (spec == NULL)
		rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_BAD_SPEC,
			     "No spec has %lld GB of memory%s (see DescribeClasses).", memory, cpu ? " and those cores" : "");
	else if (storage < spec->min_storage_gb || storage > spec->max_storage_gb)
		rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			     "Storage must be between %d and %d GB for %s.", spec->min_storage_gb, spec->max_storage_gb,
			     spec->code);
	if (rc == 0) {
		billing_item_spec(spec, storage, &to);
		if (billing_is_postpaid(r.doc))
			pricing_hourly(&to, 1, 1, &q);
		else
			pricing_prepaid_change(&from, &to,
					       json_integer_value(json_object_get(r.doc, "ExpireTime")) - clock_now(), &q);
		quote_out(out, &q);
	}
	store_res_free(&r);
	return rc;
}

int billing_inquiry_renew(struct api_ctx *ctx, json_t *out, struct err *e)
{
	long long period = 0;
	struct pricing_item it;
	struct pricing_quote q;
	struct store_res r;
	int rc = 0;

	api_param_int(ctx, "Period", &period);
	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &r, e) != 0)
		return -1;
	if (billing_is_postpaid(r.doc))
		rc = err_set(e, ERR_OPERATION_DENIED_POST_PAID_PAY_MODE_ERROR,
			     "Instance %s is pay-as-you-go: it cannot be renewed.", r.id);
	else if (!billing_period_ok(period))
		rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			     "Period must be 1 to 12, 24 or 36 months.");
	if (rc == 0) {
		billing_item_of(r.doc, &it);
		pricing_prepaid(&it, period, 1, &q);
		quote_out(out, &q);
	}
	store_res_free(&r);
	return rc;
}

/* ---- orders ---- */

int billing_purchase(struct api_ctx *ctx, const struct catalog_spec *spec, long long storage, long long period,
		     const char *charge, const json_t *ids, int64_t flow, json_t *out, struct err *e)
{
	int postpaid = charge_postpaid(charge) == 1;
	struct ledger_order o = { .action = "purchase", .count = (long long)json_array_size(ids), .flow_id = flow,
				  .ids = ids, .spec_code = spec->code, .storage_gb = storage };
	struct pricing_item it;

	o.pay_mode = postpaid ? LEDGER_PAY_POSTPAID : LEDGER_PAY_PREPAID;
	billing_item_spec(spec, storage, &it);
	if (!postpaid) {
		o.period = period;
		pricing_prepaid(&it, period, o.count, &o.quote);
	}
	if (ledger_order_insert(ctx->svc->store, ctx->tenant->id, &o, e) != 0)
		return -1;
	json_object_set_new(out, "DealNames", json_pack("[s]", o.deal));
	json_object_set_new(out, "BillId", json_string(o.bill));
	return 0;
}

int billing_describe_orders(struct api_ctx *ctx, json_t *out, struct err *e)
{
	json_t *names = json_object_get(ctx->params, "DealNames");
	json_t *deals;
	size_t i;
	json_t *v;

	if (json_array_size(names) == 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_NULL_DEAL_NAMES, "DealNames must name at least one order.");
	json_array_foreach(names, i, v)
		if (json_string_length(v) == 0)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_NULL_DEAL_NAMES, "DealNames.%zu is empty.", i);
	deals = json_array();
	json_array_foreach(names, i, v) {
		struct store_res r;
		if (store_res_get(ctx->svc->store, LEDGER_ORDER_KIND, json_string_value(v), ctx->tenant->id, &r, e) != 0) {
			if (e->code == ERR_RESOURCE_NOT_FOUND)
				continue; /* not (yet) an order of this tenant: not listed */
			json_decref(deals);
			return -1;
		}
		json_array_append_new(deals, ledger_deal_view(&r, ctx->tenant->uin));
		store_res_free(&r);
	}
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)json_array_size(deals)));
	json_object_set_new(out, "Deals", deals);
	return 0;
}

/* ---- encryption keys ---- */

int billing_describe_keys(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res r;

	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &r, e) != 0)
		return -1;
	store_res_free(&r);
	json_object_set_new(out, "EncryptionKeys", json_array()); /* no TDE: never a key */
	return 0;
}

const struct api_handler billing_handlers[] = {
	{ "DescribeEncryptionKeys", billing_describe_keys },
	{ "DescribeOrders", billing_describe_orders },
	{ "InquiryPriceCreateDBInstances", billing_inquiry_create },
	{ "InquiryPriceRenewDBInstance", billing_inquiry_renew },
	{ "InquiryPriceUpgradeDBInstance", billing_inquiry_upgrade },
	{ "ModifyDBInstanceChargeType", billing_modify_charge_type },
	{ "ModifyDBInstanceDeployment", specs_modify_deployment },
	{ "ModifyDBInstanceSpec", specs_modify },
	{ "ModifySwitchTimePeriod", specs_switch_now },
	{ "RenewInstance", billing_renew },
	{ "SetAutoRenewFlag", billing_set_auto_renew },
	{ "UpgradeDBInstance", specs_upgrade },
	{ "UpgradeDBInstanceKernelVersion", specs_upgrade_kernel },
	{ NULL, NULL },
};
