/*
 * ledger.c - orders and bills in the store (see ledger.h).
 *
 * Names are made of the business clock's date and time plus random digits
 * from OpenSSL; a name already taken (one in a million within the same
 * second) is drawn again. An order and its bill name each other.
 */
#include "task/ledger.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

#define LEDGER_NAME_TRIES 4

/* `n` random decimal digits into out (NUL-terminated). */
static int ledger_digits(char *out, size_t n, struct err *e)
{
	unsigned char b[32];

	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1)
		return err_set(e, ERR_INTERNAL_ERROR, "no randomness");
	for (size_t i = 0; i < n; i++)
		out[i] = (char)('0' + b[i] % 10);
	out[n] = '\0';
	return 0;
}

/* YYYYMMDDhhmmss of the business clock followed by random digits up to `len`. */
static int ledger_name(char *out, size_t len, struct err *e)
{
	time_t now = (time_t)clock_now();
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL || strftime(out, len + 1, "%Y%m%d%H%M%S", &tm) != 14)
		return err_set(e, ERR_INTERNAL_ERROR, "cannot format the order time");
	return ledger_digits(out + 14, len - 14, e);
}

/* A name of `len` digits not yet used by a resource of `kind`. */
static int ledger_fresh(struct store *s, const char *kind, size_t len, char *out, struct err *e)
{
	struct store_res r;

	for (int i = 0; i < LEDGER_NAME_TRIES; i++) {
		if (ledger_name(out, len, e) != 0)
			return -1;
		if (store_res_get(s, kind, out, 0, &r, e) != 0)
			return e->code == ERR_RESOURCE_NOT_FOUND ? 0 : -1;
		store_res_free(&r);
	}
	return err_set(e, ERR_INTERNAL_ERROR, "no free %s name", kind);
}

static int ledger_insert(struct store *s, int64_t tenant, const char *kind, const char *id, json_t *doc,
			 struct err *e)
{
	struct store_res r;

	memset(&r, 0, sizeof(r));
	snprintf(r.kind, sizeof(r.kind), "%s", kind);
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.status, sizeof(r.status), "done");
	r.tenant_id = tenant;
	r.doc = doc;
	return store_res_insert(s, &r, e);
}

static json_t *ledger_bill_doc(const char *kind, const char *bill, const char *deal, const json_t *ids,
			       const struct pricing_quote *q)
{
	return json_pack("{s:s, s:s, s:s, s:O, s:I, s:I, s:s, s:I}", "Kind", kind, "BillId", bill, "DealName", deal,
			 "DBInstanceIdSet", ids, "OriginalAmount", (json_int_t)q->original, "Amount",
			 (json_int_t)q->price, "Currency", pricing_currency(), "CreateTime", (json_int_t)clock_now());
}

static json_t *ledger_order_doc(const struct ledger_order *o, const json_t *ids)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:O, s:I, s:s, s:I, s:I, s:I, s:s, s:I, s:s}", "DealName",
			 o->deal, "BillId", o->bill, "Action", o->action, "PayMode", o->pay_mode, "Count",
			 (json_int_t)o->count, "FlowId", (json_int_t)o->flow_id, "DBInstanceIdSet", ids, "Period",
			 (json_int_t)o->period, "SpecCode", o->spec_code ? o->spec_code : "", "Storage",
			 (json_int_t)o->storage_gb, "OriginalPrice", (json_int_t)o->quote.original, "Price",
			 (json_int_t)o->quote.price, "Currency", pricing_currency(), "CreateTime",
			 (json_int_t)clock_now(), "Status", "done");
}

int ledger_order_insert(struct store *s, int64_t tenant, struct ledger_order *o, struct err *e)
{
	json_t *empty = json_array();
	const json_t *ids = o->ids ? o->ids : empty;
	json_t *order = NULL, *bill = NULL;
	int rc = -1;

	if (store_txn_begin(s, e) != 0) {
		json_decref(empty);
		return -1;
	}
	if (ledger_fresh(s, LEDGER_ORDER_KIND, LEDGER_DEAL_LEN, o->deal, e) == 0 &&
	    ledger_fresh(s, LEDGER_BILL_KIND, LEDGER_BILL_LEN, o->bill, e) == 0) {
		order = ledger_order_doc(o, ids);
		bill = ledger_bill_doc(o->action, o->bill, o->deal, ids, &o->quote);
		if (order == NULL || bill == NULL)
			err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		else if (ledger_insert(s, tenant, LEDGER_ORDER_KIND, o->deal, order, e) == 0 &&
			 ledger_insert(s, tenant, LEDGER_BILL_KIND, o->bill, bill, e) == 0)
			rc = 0;
	}
	if (rc == 0)
		rc = store_txn_commit(s, e);
	else
		store_txn_rollback(s);
	json_decref(order);
	json_decref(bill);
	json_decref(empty);
	return rc;
}

int ledger_usage_insert(struct store *s, int64_t tenant, const char *instance, int64_t from, int64_t to,
			long long hours, const struct pricing_quote *q, char *bill_out, struct err *e)
{
	char bill[LEDGER_BILL_LEN + 1];
	json_t *ids = json_pack("[s]", instance);
	json_t *doc = NULL;
	int rc = -1;

	if (ids != NULL && ledger_fresh(s, LEDGER_BILL_KIND, LEDGER_BILL_LEN, bill, e) == 0) {
		doc = ledger_bill_doc("usage", bill, "", ids, q);
		if (doc == NULL) {
			err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		} else {
			json_object_set_new(doc, "From", json_integer((json_int_t)from));
			json_object_set_new(doc, "To", json_integer((json_int_t)to));
			json_object_set_new(doc, "Hours", json_integer((json_int_t)hours));
			rc = ledger_insert(s, tenant, LEDGER_BILL_KIND, bill, doc, e);
		}
	} else if (ids == NULL) {
		err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	if (rc == 0 && bill_out != NULL)
		memcpy(bill_out, bill, sizeof(bill));
	json_decref(doc);
	json_decref(ids);
	return rc;
}

static int ledger_mut_flow(struct store_res *r, void *arg, struct err *e)
{
	json_object_set_new(r->doc, "FlowId", json_integer((json_int_t)*(const int64_t *)arg));
	return 0;
}

int ledger_order_set_flow(struct store *s, const char *deal, int64_t flow, struct err *e)
{
	return store_res_modify(s, LEDGER_ORDER_KIND, deal, 0, ledger_mut_flow, &flow, e);
}

static int ledger_mut_failed(struct store_res *r, void *arg, struct err *e)
{
	json_object_set_new(r->doc, "Status", json_string("failed"));
	json_object_set_new(r->doc, "FailReason", json_string(arg));
	snprintf(r->status, sizeof(r->status), "failed");
	return 0;
}

int ledger_order_failed(struct store *s, const char *deal, const char *reason, struct err *e)
{
	if (deal == NULL || deal[0] == '\0')
		return 0;
	if (store_res_modify(s, LEDGER_ORDER_KIND, deal, 0, ledger_mut_failed, (void *)reason, e) == 0)
		return 0;
	return e->code == ERR_RESOURCE_NOT_FOUND ? 0 : -1;
}

json_t *ledger_deal_view(const struct store_res *order, const char *owner_uin)
{
	const json_t *d = order->doc;
	json_t *ids = json_object_get(d, "DBInstanceIdSet");

	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o}", "DealName", order->id, "OwnerUin", owner_uin, "Count",
			 json_integer_value(json_object_get(d, "Count")), "PayMode",
			 json_integer_value(json_object_get(d, "PayMode")), "FlowId",
			 json_integer_value(json_object_get(d, "FlowId")), "DBInstanceIdSet",
			 json_is_array(ids) ? json_deep_copy(ids) : json_array());
}

/* 1 when the record's DBInstanceIdSet names `instance` (NULL: any). */
static int ledger_mentions(const json_t *doc, const char *instance)
{
	size_t i;
	json_t *v;

	if (instance == NULL)
		return 1;
	json_array_foreach(json_object_get(doc, "DBInstanceIdSet"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), instance) == 0)
			return 1;
	return 0;
}

/* Oldest first; at the same time an order before its bill. */
static int ledger_cmp(const void *a, const void *b)
{
	const json_t *p = *(json_t *const *)a, *q = *(json_t *const *)b;
	json_int_t x = json_integer_value(json_object_get(p, "CreateTime"));
	json_int_t y = json_integer_value(json_object_get(q, "CreateTime"));
	const char *tp = json_string_value(json_object_get(p, "Type")), *tq = json_string_value(json_object_get(q, "Type"));
	int c = (x > y) - (x < y);

	if (c == 0 && tp != NULL && tq != NULL)
		c = -strcmp(tp, tq); /* "order" > "bill" */
	if (c == 0)
		c = strcmp(json_string_value(json_object_get(p, "BillId")) ?: "",
			   json_string_value(json_object_get(q, "BillId")) ?: "");
	return c;
}

/* Append the records of `kind` that mention `instance` to `arr`. */
static int ledger_collect(struct store *s, const char *kind, const char *instance, json_t *arr, struct err *e)
{
	struct store_res *list;
	size_t n;

	if (store_res_list(s, kind, 0, &list, &n, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!ledger_mentions(list[i].doc, instance))
			continue;
		json_t *row = json_deep_copy(list[i].doc);
		json_object_set_new(row, "Type", json_string(kind));
		json_object_set_new(row, "TenantId", json_integer((json_int_t)list[i].tenant_id));
		json_array_append_new(arr, row);
	}
	store_res_list_free(list, n);
	return 0;
}

int ledger_history(struct store *s, const char *instance, json_t **out, struct err *e)
{
	json_t *arr = json_array();
	json_t **rows;
	size_t n;

	if (ledger_collect(s, LEDGER_ORDER_KIND, instance, arr, e) != 0 ||
	    ledger_collect(s, LEDGER_BILL_KIND, instance, arr, e) != 0) {
		json_decref(arr);
		return -1;
	}
	n = json_array_size(arr);
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (rows == NULL) {
		json_decref(arr);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		rows[i] = json_incref(json_array_get(arr, i));
	qsort(rows, n, sizeof(*rows), ledger_cmp);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, rows[i]);
	free(rows);
	*out = arr;
	return 0;
}
