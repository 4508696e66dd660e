/*
 * billing_supervise.c - the billing part of every supervisor pass (see
 * billing.h), on the business clock:
 *
 *   clock     re-read DATA_DIR/clock_offset (the operator's clock control)
 *   expiry    a prepaid instance (running or readonly) past its ExpireTime
 *             is renewed by its Period when AutoRenew is 1 (an "autorenew"
 *             order), else isolated (IsolateReason "expired")
 *   recycle   an isolated instance is destroyed recycle_retention_s after
 *             its IsolatedTime, unless renewed or restored before
 *   hours     a pay-as-you-go instance is billed each whole hour of its life
 *             (one "usage" bill per pass covering the hours since
 *             BilledUntil); isolated, recycling and offline hours are free
 *   windows   an instance in waitSwitch whose window has come starts its change
 *   cpu       a running server outside its CPU cgroup (started by some other
 *             task) is moved in (every BILLING_CPU_EVERY passes)
 *
 * Each change is a conditional read-modify-write (or a task submission) that
 * re-checks its condition on the fresh document, so a stale list is harmless.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/clockfile.h"
#include "core/log.h"
#include "pg/pgcgroup.h"
#include "task/billing.h"
#include "task/ledger.h"

#define BILLING_PRUNE_EVERY 60     /* passes between removals of empty cgroups */
#define BILLING_CPU_EVERY   5      /* passes between checks of CPU limits */
#define BILLING_RENEW_MAX   1200   /* months one automatic renewal may add */

static json_int_t doc_int(const json_t *doc, const char *key)
{
	return json_integer_value(json_object_get(doc, key));
}

static int is_status(const struct store_res *r, const char *a, const char *b)
{
	return strcmp(r->status, a) == 0 || (b != NULL && strcmp(r->status, b) == 0);
}

/* ---- expiry and automatic renewal ---- */

struct renewal {
	int64_t now;
	long long months;     /* out */
};

/* Add the instance's Period until it no longer has expired. */
static int mut_autorenew(struct store_res *r, void *arg, struct err *e)
{
	struct renewal *rn = arg;
	long long step = doc_int(r->doc, "Period") > 0 ? doc_int(r->doc, "Period") : 1;
	json_int_t exp = doc_int(r->doc, "ExpireTime");

	if (billing_is_postpaid(r->doc) || doc_int(r->doc, "AutoRenew") != 1 || exp <= 0 || exp > rn->now)
		return err_set(e, ERR_FAILED_OPERATION, "no longer due for renewal");
	rn->months = 0;
	while (exp <= rn->now && rn->months < BILLING_RENEW_MAX) {
		exp += step * PRICING_MONTH_S;
		rn->months += step;
	}
	json_object_set_new(r->doc, "ExpireTime", json_integer(exp));
	return 0;
}

static void billing_autorenew(struct fleet *f, const struct store_res *r, int64_t now)
{
	struct renewal rn = { now, 0 };
	struct ledger_order o = { .action = "autorenew", .pay_mode = LEDGER_PAY_PREPAID, .count = 1 };
	struct pricing_item it;
	json_t *ids = json_pack("[s]", r->id);
	struct err e;

	billing_item_of(r->doc, &it);
	o.ids = ids;
	o.spec_code = it.spec_code;
	o.storage_gb = it.storage_gb;
	if (store_txn_begin(f->store, &e) == 0) {
		int rc = store_res_modify(f->store, FLEET_KIND, r->id, 0, mut_autorenew, &rn, &e);
		if (rc == 0) {
			o.period = rn.months;
			pricing_prepaid(&it, rn.months, 1, &o.quote);
			rc = ledger_order_insert(f->store, r->tenant_id, &o, &e);
		}
		if (rc == 0 && store_txn_commit(f->store, &e) == 0)
			log_info(r->id, "renewed automatically for %lld months (order %s)", rn.months, o.deal);
		else if (rc != 0)
			store_txn_rollback(f->store);
	}
	json_decref(ids);
}

static int mut_expire(struct store_res *r, void *arg, struct err *e)
{
	const int64_t *now = arg;
	json_int_t exp = doc_int(r->doc, "ExpireTime");

	if (!is_status(r, "running", "readonly") || billing_is_postpaid(r->doc) || exp <= 0 || exp > *now ||
	    doc_int(r->doc, "AutoRenew") == 1)
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR, "no longer due for isolation");
	json_object_set_new(r->doc, "IsolateReason", json_string("expired"));
	snprintf(r->status, sizeof(r->status), "isolating");
	return 0;
}

static void billing_check_expiry(struct fleet *f, const struct store_res *r, int64_t now)
{
	json_int_t exp = doc_int(r->doc, "ExpireTime");
	int64_t task;
	struct err e;

	if (!is_status(r, "running", "readonly") || billing_is_postpaid(r->doc) || exp <= 0 || exp > now)
		return;
	if (doc_int(r->doc, "AutoRenew") == 1) {
		billing_autorenew(f, r, now);
		return;
	}
	if (fleet_task_submit(f, r->tenant_id, "instance.isolate", r->id, NULL, mut_expire, &now, &task, &e) == 0)
		log_info(r->id, "expired: isolating (task %lld)", (long long)task);
}

/* ---- recycling ---- */

static int mut_recycle(struct store_res *r, void *arg, struct err *e)
{
	if (strcmp(r->status, "isolated") != 0)
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR, "no longer isolated");
	snprintf(r->status, sizeof(r->status), "recycling");
	return 0;
}

static void billing_check_recycle(struct fleet *f, const struct store_res *r, int64_t now)
{
	json_int_t since = doc_int(r->doc, "IsolatedTime");
	int64_t task;
	struct err e;

	if (strcmp(r->status, "isolated") != 0 || since <= 0 || since + f->cfg->recycle_retention_s > now)
		return;
	if (fleet_task_submit(f, r->tenant_id, "instance.destroy", r->id, NULL, mut_recycle, NULL, &task, &e) == 0)
		log_info(r->id, "isolated for %d s: destroying (task %lld)", f->cfg->recycle_retention_s, (long long)task);
}

/* ---- hourly charges ---- */

struct meter {
	int64_t from;       /* BilledUntil read from the list */
	int64_t to;         /* the new BilledUntil */
};

static int64_t billed_until(const json_t *doc)
{
	json_int_t b = doc_int(doc, "BilledUntil");

	return b > 0 ? b : doc_int(doc, "CreateTime");
}

static int mut_meter(struct store_res *r, void *arg, struct err *e)
{
	const struct meter *m = arg;

	if (!billing_is_postpaid(r->doc) || billed_until(r->doc) != m->from)
		return err_set(e, ERR_FAILED_OPERATION, "billed concurrently");
	json_object_set_new(r->doc, "BilledUntil", json_integer(m->to));
	return 0;
}

/* Charge `hours` whole hours from BilledUntil (or, free = 1, skip them). */
static void billing_meter(struct fleet *f, const struct store_res *r, int64_t from, long long hours, int free_hours,
			  int64_t now)
{
	struct meter m = { from, free_hours ? now : from + hours * PRICING_HOUR_S };
	struct pricing_item it;
	struct pricing_quote q;
	char bill[LEDGER_BILL_LEN + 1];
	struct err e;
	int rc;

	billing_item_of(r->doc, &it);
	pricing_hourly(&it, hours, 1, &q);
	if (store_txn_begin(f->store, &e) != 0)
		return;
	rc = store_res_modify(f->store, FLEET_KIND, r->id, 0, mut_meter, &m, &e);
	if (rc == 0 && !free_hours)
		rc = ledger_usage_insert(f->store, r->tenant_id, r->id, m.from, m.to, hours, &q, bill, &e);
	if (rc != 0) {
		store_txn_rollback(f->store);
		return;
	}
	if (store_txn_commit(f->store, &e) == 0 && !free_hours)
		log_info(r->id, "charged %lld hours: %lld cents (bill %s)", hours, (long long)q.price, bill);
}

static void billing_check_hours(struct fleet *f, const struct store_res *r, int64_t now)
{
	int64_t from = billed_until(r->doc);
	long long hours = from > 0 && now > from ? (now - from) / PRICING_HOUR_S : 0;
	int free_hours = is_status(r, "isolated", "recycling") || is_status(r, "offline", NULL);

	if (!billing_is_postpaid(r->doc) || hours < 1)
		return;
	billing_meter(f, r, from, hours, free_hours, now);
}

/* ---- switch windows and CPU ---- */

static void billing_check_window(struct fleet *f, const struct store_res *r, int64_t now)
{
	json_t *p = json_object_get(r->doc, "PendingSwitch");
	struct billing_window w = { (int)doc_int(p, "Start"), (int)doc_int(p, "End") };
	int64_t task;
	struct err e;

	if (strcmp(r->status, BILLING_WAIT_STATUS) != 0 || !json_is_object(p) || !billing_window_contains(&w, now))
		return;
	if (billing_switch_start(f, r->tenant_id, r->id, &task, &e) != 0)
		log_warn(r->id, "switch window open but the switch did not start: %s", err_message(&e, ERR_LANG_EN));
}

static void billing_check_cpu(struct fleet *f, const struct store_res *r)
{
	int cpu = (int)doc_int(r->doc, "Cpu");
	struct pgnode n;
	struct err e;
	int64_t busy;

	if (!is_status(r, "running", "readonly") || cpu < 1 || pgcgroup_mode() == PGCGROUP_NONE ||
	    fleet_primary_node(f, r->doc, &n, &e) != 0 || pgcgroup_enforced(&n, cpu))
		return;
	if (store_task_running_for(f->store, r->id, &busy, &e) != 0 || busy != 0)
		return; /* a task is restarting it: next pass */
	if (pgcgroup_limit(&n, cpu, &e) == 0)
		log_debug(r->id, "server limited to %d cores", cpu);
}

void billing_supervise(struct fleet *f, struct store_res *list, size_t n)
{
	static unsigned pass;
	struct err e;
	int64_t now;

	if (clockfile_load(f->cfg->data_dir, &e) != 0)
		log_warn("clock", "%s", err_message(&e, ERR_LANG_EN));
	now = clock_now();
	for (size_t i = 0; i < n; i++) {
		billing_check_hours(f, &list[i], now);
		billing_check_expiry(f, &list[i], now);
		billing_check_recycle(f, &list[i], now);
		billing_check_window(f, &list[i], now);
		if (pass % BILLING_CPU_EVERY == 0)
			billing_check_cpu(f, &list[i]);
	}
	if (++pass % BILLING_PRUNE_EVERY == 0)
		pgcgroup_prune();
}
