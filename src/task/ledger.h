/*
 * ledger.h - what the tenants bought and what they were charged: orders
 * ("deals") and bills, kept in the store as resources of their own kinds.
 *
 *   order  (kind "order", id = DealName)  every purchase, renewal (manual or
 *          automatic), restoration, charge-type change and change of spec;
 *          DescribeOrders shows it as a PgDeal. Each order has one bill.
 *   bill   (kind "bill", id = BillId)     every amount charged: the bill of
 *          an order, and each stretch of hours a pay-as-you-go instance ran.
 *
 * DealNames look like the cloud's, the business time of the order followed
 * by random digits ("20240115103000" + "482913"); BillIds are digits too.
 * Inserting is plain store writes: call these inside the caller's store
 * transaction (store_txn_begin) to record the order atomically with the
 * change it pays for.
 */
#ifndef PGFLEET_TASK_LEDGER_H
#define PGFLEET_TASK_LEDGER_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"
#include "task/pricing.h"

#define LEDGER_ORDER_KIND "order"
#define LEDGER_BILL_KIND  "bill"
#define LEDGER_DEAL_LEN   20      /* digits of a DealName */
#define LEDGER_BILL_LEN   18      /* digits of a BillId */
#define LEDGER_PAY_POSTPAID 0     /* PgDeal.PayMode */
#define LEDGER_PAY_PREPAID  1

struct ledger_order {
	const char *action;        /* "purchase", "renew", "autorenew", "restore", "chargetype", "upgrade" */
	int pay_mode;              /* LEDGER_PAY_* */
	long long count;           /* instances */
	int64_t flow_id;           /* task id of the work it started; 0 none */
	const json_t *ids;         /* array of instance ids, borrowed */
	long long period;          /* months bought; 0 for none */
	const char *spec_code;     /* may be NULL */
	long long storage_gb;
	struct pricing_quote quote;
	char deal[LEDGER_DEAL_LEN + 1];   /* out: DealName */
	char bill[LEDGER_BILL_LEN + 1];   /* out: BillId */
};

/* Record order `o` for tenant `tenant` and its bill; fills o->deal and
 * o->bill. Store errors as store_res_insert. */
int ledger_order_insert(struct store *s, int64_t tenant, struct ledger_order *o, struct err *e);

/* Record that pay-as-you-go instance `instance` ran `hours` hours from
 * `from` to `to` (unix seconds), costing `q`. bill_out (may be NULL)
 * receives the BillId. */
int ledger_usage_insert(struct store *s, int64_t tenant, const char *instance, int64_t from, int64_t to,
			long long hours, const struct pricing_quote *q, char *bill_out, struct err *e);

/* Set the FlowId of order `deal` (the task it started, known after the
 * order was recorded in the same transaction). */
int ledger_order_set_flow(struct store *s, const char *deal, int64_t flow, struct err *e);

/* Mark an order whose work failed (the change it paid for did not happen):
 * its doc gets Status "failed" and the reason. Missing order: no-op. */
int ledger_order_failed(struct store *s, const char *deal, const char *reason, struct err *e);

/* The PgDeal view of a stored order (OwnerUin is the caller's). */
json_t *ledger_deal_view(const struct store_res *order, const char *owner_uin);

/* Every order and bill of `instance` (NULL: all), oldest first, as one JSON
 * array of {"Type": "order"|"bill", ...doc}; for the operator's view. */
int ledger_history(struct store *s, const char *instance, json_t **out, struct err *e);

#endif
