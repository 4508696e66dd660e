/*
 * billing.h - the Billing, Specification-change and Maintenance actions
 * (issue 6) and what the instance actions call of them.
 *
 *   billing.c        price inquiries, DescribeOrders, DescribeEncryptionKeys,
 *                    the purchase order of CreateInstances/CreateDBInstances
 *   billing_life.c   RenewInstance, SetAutoRenewFlag, ModifyDBInstanceChargeType,
 *                    and renewal on restore (DisIsolateDBInstances)
 *   specs.c          ModifyDBInstanceSpec, UpgradeDBInstance,
 *                    ModifySwitchTimePeriod, ModifyDBInstanceDeployment,
 *                    UpgradeDBInstanceKernelVersion
 *
 * Prices are in cents of the price book's Currency (task/pricing.h);
 * orders and bills are kept by task/ledger.h; what happens over time
 * (expiry, renewal, recycling, hourly charges, switch windows) is the
 * supervisor's (task/billing.h).
 */
#ifndef PGFLEET_API_BILLING_H
#define PGFLEET_API_BILLING_H

#include "api/api.h"
#include "api/catalog.h"
#include "task/pricing.h"

/* The purchase order of a creation: `count` instances `ids` of `spec` with
 * `storage` GB, `charge` PREPAID (for `period` months) or POSTPAID_BY_HOUR
 * (charged by the hour afterwards; the order costs nothing up front).
 * Sets out's DealNames ([DealName]) and BillId. flow: the (last) creation
 * task, 0 when none. */
int billing_purchase(struct api_ctx *ctx, const struct catalog_spec *spec, long long storage, long long period,
		     const char *charge, const json_t *ids, int64_t flow, json_t *out, struct err *e);

/* Before DisIsolateDBInstances restores `ids`: every one that is an
 * expired prepaid instance is renewed for the request's Period (an order
 * "restore"), which it then requires (MissingParameter without it). When an
 * id is unknown or not isolated nothing is done (the restore itself then
 * answers the error). */
int billing_restore(struct api_ctx *ctx, const json_t *ids, struct err *e);

/* `code` when the action documents it, else `fallback`. */
enum err_code billing_code(const struct api_ctx *ctx, enum err_code code, enum err_code fallback);

/* The spec a change to `memory_gb` GB (and `cpu` cores; 0: any) means:
 * the one with the instance's `cur_cpu` cores when several match, else the
 * fewest cores. NULL when the catalog has none. */
const struct catalog_spec *billing_spec_for(const struct api_ctx *ctx, long long memory_gb, long long cpu,
					    int cur_cpu);

/* A prepaid period of the documented set: 1..12, 24 or 36 months. */
int billing_period_ok(long long months);

/* A pricing item of a catalog spec with `storage` GB. */
void billing_item_spec(const struct catalog_spec *spec, long long storage, struct pricing_item *it);

int billing_inquiry_create(struct api_ctx *ctx, json_t *out, struct err *e);
int billing_inquiry_upgrade(struct api_ctx *ctx, json_t *out, struct err *e);
int billing_inquiry_renew(struct api_ctx *ctx, json_t *out, struct err *e);
int billing_describe_orders(struct api_ctx *ctx, json_t *out, struct err *e);
int billing_describe_keys(struct api_ctx *ctx, json_t *out, struct err *e);

int billing_renew(struct api_ctx *ctx, json_t *out, struct err *e);
int billing_set_auto_renew(struct api_ctx *ctx, json_t *out, struct err *e);
int billing_modify_charge_type(struct api_ctx *ctx, json_t *out, struct err *e);

int specs_modify(struct api_ctx *ctx, json_t *out, struct err *e);
int specs_upgrade(struct api_ctx *ctx, json_t *out, struct err *e);
int specs_switch_now(struct api_ctx *ctx, json_t *out, struct err *e);
int specs_modify_deployment(struct api_ctx *ctx, json_t *out, struct err *e);
int specs_upgrade_kernel(struct api_ctx *ctx, json_t *out, struct err *e);

#endif
