/*
 * logs_slow.c - DescribeSlowQueryList, DescribeSlowQueryAnalysis and the
 * legacy DescribeDBSlowlogs, all from the slow-statement lines of the
 * node's csvlog (pg/slowq.h).
 *
 * A statement belongs to the range when it started in it (start = log time
 * - duration; SessionStartTime, FirstTime and LastTime are start times, as
 * the API describes them). Durations are milliseconds.
 *
 * The list keeps only the positions of the page it may need: a binary heap
 * of the best Offset+Limit statements under the requested order (ties
 * broken by log order), 32 bytes each, so memory does not grow with the
 * range; the page's records are then read again to show them. TotalCount
 * and the DurationAnalysis segments count every statement. Analysis groups per
 * (user, database, normalised query); CallPercent and CostPercent are
 * percentages (0-100) of all slow statements in the range, as the API's
 * example shows them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/logs.h"
#include "lib/redact.h"
#include "lib/textclip.h"
#include "pg/slowq.h"

#define SLOW_LIST_LIMIT_DEFAULT 20
#define SLOW_ANALYSIS_LIMIT_DEFAULT 50
#define SLOWLOGS_LIMIT_DEFAULT 20
#define SLOWLOGS_GRIDS 24

/* ---- what every slow action filters ---- */

struct slow_filter {
	const struct logs_query *q;
	struct slowq_scratch sc;
};

/* The statement of `r` when it is a slow one the request asks for. */
static bool slow_wanted(struct slow_filter *f, const struct pglog_rec *r, struct slowq_stmt *s)
{
	if (!slowq_parse(r, &f->sc, s) || s->start_ms < f->q->from_ms || s->start_ms > f->q->to_ms)
		return false;
	return f->q->db == NULL || pglog_field_eq(&r->f[PGLOG_DB], f->q->db);
}

/* ---- DescribeSlowQueryList ---- */

/* A statement among the best Offset+Limit so far: its sort key and where
 * it is (the page's records are read again to show them). */
struct slow_item {
	double key;              /* start time or duration */
	uint64_t seq;            /* log order, for stable ties */
	struct logs_at at;
};

struct slow_list {
	struct slow_filter f;
	bool by_duration, desc;
	struct slow_item *heap;  /* the worst kept item on top */
	size_t n, k;
	uint64_t total, seq;
	uint64_t buckets[SLOWQ_NBUCKETS];
};

/* Does a come before b in the requested order? */
static bool slow_before(const struct slow_list *l, const struct slow_item *a, const struct slow_item *b)
{
	if (a->key != b->key)
		return l->desc ? a->key > b->key : a->key < b->key;
	return l->desc ? a->seq > b->seq : a->seq < b->seq;
}

static void slow_heap_swap(struct slow_list *l, size_t i, size_t j)
{
	struct slow_item t = l->heap[i];

	l->heap[i] = l->heap[j];
	l->heap[j] = t;
}

static void slow_heap_down(struct slow_list *l, size_t i)
{
	for (;;) {
		size_t w = i, c1 = 2 * i + 1, c2 = 2 * i + 2;
		/* the heap's top is the item that comes last */
		if (c1 < l->n && slow_before(l, &l->heap[w], &l->heap[c1]))
			w = c1;
		if (c2 < l->n && slow_before(l, &l->heap[w], &l->heap[c2]))
			w = c2;
		if (w == i)
			return;
		slow_heap_swap(l, i, w);
		i = w;
	}
}

static void slow_heap_up(struct slow_list *l, size_t i)
{
	for (; i > 0 && slow_before(l, &l->heap[(i - 1) / 2], &l->heap[i]); i = (i - 1) / 2)
		slow_heap_swap(l, i, (i - 1) / 2);
}

static int slow_list_record(const struct pglog_rec *r, const struct logs_at *at, void *arg)
{
	struct slow_list *l = arg;
	struct slowq_stmt s;
	struct slow_item x;

	if (!slow_wanted(&l->f, r, &s))
		return 0;
	l->total++;
	l->buckets[slowq_bucket(s.duration_ms)]++;
	x = (struct slow_item){ l->by_duration ? s.duration_ms : (double)s.start_ms, l->seq++, *at };
	if (l->n == l->k) {
		if (!slow_before(l, &x, &l->heap[0]))
			return 0;   /* not among the first k */
		l->heap[0] = x;
		slow_heap_down(l, 0);
	} else {
		l->heap[l->n++] = x;
		slow_heap_up(l, l->n - 1);
	}
	return 0;
}

static int slow_item_cmp(const void *a, const void *b, void *arg)
{
	const struct slow_list *l = arg;

	return slow_before(l, a, b) ? -1 : slow_before(l, b, a) ? 1 : 0;
}

/* The statement text, redacted and cleaned (malloc'd). */
static char *slow_query_text(const struct slowq_stmt *s)
{
	size_t n;
	char *red = redact_sql(s->text, s->text_len, &n);
	char *clean = red ? malloc(LOGS_TEXT_MAX) : NULL;

	if (clean != NULL)
		textclip_utf8(red, n, clean, LOGS_TEXT_MAX, NULL);
	free(red);
	return clean;
}

/* The RawSlowQuery of a record read again (NULL when it is not one). */
static json_t *slow_item_view(const struct pglog_rec *r, struct slowq_scratch *sc)
{
	struct slowq_stmt s;
	char start[40];
	char *q, *f[7];
	json_t *v = NULL;
	static const int cols[7] = { PGLOG_DB, PGLOG_CONN_FROM, PGLOG_USER, PGLOG_SESSION_ID, PGLOG_VXID,
				     PGLOG_SQLSTATE, PGLOG_APP_NAME };

	if (!slowq_parse(r, sc, &s))
		return NULL;
	logs_time(s.start_ms, true, start, sizeof(start));
	q = slow_query_text(&s);
	for (int i = 0; i < 7; i++)
		f[i] = logs_field_dup(&r->f[cols[i]]);
	if (q && f[0] && f[1] && f[2] && f[3] && f[4] && f[5] && f[6])
		v = json_pack("{s:s, s:s, s:f, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "RawQuery", q, "DatabaseName",
			      f[0], "Duration", s.duration_ms, "ClientAddr", f[1], "UserName", f[2], "SessionStartTime",
			      start, "ProcessId", (json_int_t)logs_field_int(&r->f[PGLOG_PID]), "SessionId", f[3],
			      "VirtualTransactionId", f[4], "SqlStateCode", f[5], "ApplicationName", f[6]);
	free(q);
	for (int i = 0; i < 7; i++)
		free(f[i]);
	return v;
}

static json_t *slow_buckets_view(const uint64_t *buckets)
{
	json_t *a = json_array();

	for (int i = 0; a != NULL && i < SLOWQ_NBUCKETS; i++)
		json_array_append_new(a, json_pack("{s:s, s:I}", "TimeSegment", slowq_bucket_name(i), "Count",
						   (json_int_t)buckets[i]));
	return a;
}

static int slow_list_output(struct slow_list *l, const struct logs_query *q, json_t *out, struct err *e)
{
	json_t *list = json_array();
	struct logs_record *x = malloc(sizeof(*x));
	int rc = 0;

	if (list == NULL || x == NULL) {
		json_decref(list);
		free(x);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	qsort_r(l->heap, l->n, sizeof(*l->heap), slow_item_cmp, l);
	for (size_t i = (size_t)q->offset; i < l->n && rc >= 0; i++) {
		rc = logs_record_at(q, &l->heap[i].at, x, e);
		if (rc == 1) {
			json_t *v = slow_item_view(&x->rec, &l->f.sc);
			if (v != NULL)
				json_array_append_new(list, v);
			logs_record_close(x);
		}
	}
	free(x);
	if (rc < 0) {
		json_decref(list);
		return -1;
	}
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)l->total));
	json_object_set_new(out, "DurationAnalysis", slow_buckets_view(l->buckets));
	json_object_set_new(out, "RawSlowQueryList", list);
	return 0;
}

int logs_slow_list(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct logs_query q;
	struct slow_list l = { 0 };
	const char *order = api_param_str(ctx, "OrderBy"), *dir = api_param_str(ctx, "OrderByType");
	int rc = -1;

	if (logs_query_open(ctx, &q, SLOW_LIST_LIMIT_DEFAULT, e) != 0)
		return -1;
	if (logs_check_window(ctx, q.offset, q.limit, e) != 0) {
		logs_query_free(&q);
		return -1;
	}
	l.f.q = &q;
	l.by_duration = order != NULL && strcmp(order, "Duration") == 0;
	l.desc = dir == NULL || strcmp(dir, "desc") == 0;
	l.k = (size_t)(q.offset + q.limit);
	l.heap = calloc(l.k, sizeof(*l.heap));
	if (l.heap == NULL)
		err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	else if (logs_scan(&q, slow_list_record, &l, e) == 0)
		rc = slow_list_output(&l, &q, out, e);
	free(l.heap);
	slowq_scratch_free(&l.f.sc);
	logs_query_free(&q);
	return rc;
}

/* ---- the aggregate actions ---- */

struct slow_agg {
	struct slow_filter f;
	struct slowq_agg agg;
};

static int slow_agg_record(const struct pglog_rec *r, const struct logs_at *at, void *arg)
{
	struct slow_agg *a = arg;
	struct slowq_stmt s;

	if (slow_wanted(&a->f, r, &s))
		slowq_agg_add(&a->agg, r, &s);
	return 0;
}

static void slow_agg_init(struct slow_agg *a, struct logs_query *q, int ngrids)
{
	memset(a, 0, sizeof(*a));
	a->f.q = q;
	slowq_agg_init(&a->agg, ngrids, q->from_ms, q->to_ms);
}

static void slow_agg_free(struct slow_agg *a)
{
	slowq_agg_free(&a->agg);
	slowq_scratch_free(&a->f.sc);
}

/* Scan the range into a->agg (ngrids as slowq_agg_init): on several
 * threads when the logs are large (logs_scan_split), each into its own
 * aggregate, merged at the end. */
static int slow_agg_run(struct logs_query *q, struct slow_agg *a, int ngrids, struct err *e)
{
	struct slow_agg *more = calloc(LOGS_WORKERS_MAX - 1, sizeof(*more));
	void *args[LOGS_WORKERS_MAX];
	int used = 1, rc;

	slow_agg_init(a, q, ngrids);
	if (more == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	args[0] = a;
	for (int i = 1; i < LOGS_WORKERS_MAX; i++) {
		slow_agg_init(&more[i - 1], q, ngrids);
		args[i] = &more[i - 1];
	}
	q->cols = SLOWQ_COLS;   /* the aggregate reads no column past the message */
	rc = logs_scan_split(q, LOGS_WORKERS_MAX, slow_agg_record, args, &used, e);
	for (int i = 1; i < LOGS_WORKERS_MAX; i++) {
		if (rc == 0 && i < used)
			slowq_agg_merge(&a->agg, &more[i - 1].agg);
		slow_agg_free(&more[i - 1]);
	}
	free(more);
	if (rc != 0)
		return -1;
	if (a->agg.failed)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory aggregating the slow log");
	return 0;
}

enum slow_metric { BY_CALLS, BY_COST, BY_AVG };

struct slow_order {
	enum slow_metric metric;
	bool desc;
};

static double slow_metric(const struct slowq_group *g, enum slow_metric m)
{
	return m == BY_CALLS ? (double)g->calls : m == BY_COST ? g->total_ms : g->total_ms / (double)g->calls;
}

static int slow_group_cmp(const void *a, const void *b, void *arg)
{
	const struct slow_order *o = arg;
	const struct slowq_group *x = *(const struct slowq_group *const *)a, *y = *(const struct slowq_group *const *)b;
	double vx = slow_metric(x, o->metric), vy = slow_metric(y, o->metric);
	int c = vx < vy ? -1 : vx > vy ? 1 : strcmp(x->query, y->query);

	if (c == 0)
		c = x->key < y->key ? -1 : x->key > y->key;
	return o->desc ? -c : c;
}

/* The groups sorted as asked (an array of pointers to free). */
static const struct slowq_group **slow_sorted(const struct slowq_agg *agg, struct slow_order o)
{
	const struct slowq_group **v = malloc((agg->ngroups ? agg->ngroups : 1) * sizeof(*v));

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < agg->ngroups; i++)
		v[i] = &agg->groups[i];
	qsort_r(v, agg->ngroups, sizeof(*v), slow_group_cmp, &o);
	return v;
}

static double slow_pct(double part, double whole)
{
	return whole > 0 ? part * 100.0 / whole : 0;
}

static json_t *slow_analysis_item(const struct slowq_group *g, const struct slowq_agg *agg)
{
	char first[32], last[32];

	logs_time(g->first_ms, false, first, sizeof(first));
	logs_time(g->last_ms, false, last, sizeof(last));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:s, s:s}", "DatabaseName", g->db,
			 "UserName", g->user, "NormalQuery", g->query, "ClientAddr", g->client, "CallNum",
			 (json_int_t)g->calls, "CallPercent", slow_pct((double)g->calls, (double)agg->total_calls),
			 "CostTime", g->total_ms, "CostPercent", slow_pct(g->total_ms, agg->total_ms), "MinCostTime",
			 g->min_ms, "MaxCostTime", g->max_ms, "AvgCostTime", g->total_ms / (double)g->calls,
			 "FirstTime", first, "LastTime", last);
}

static struct slow_order slow_analysis_order(const struct api_ctx *ctx)
{
	const char *by = api_param_str(ctx, "OrderBy"), *dir = api_param_str(ctx, "OrderByType");
	struct slow_order o = { BY_CALLS, dir == NULL || strcmp(dir, "desc") == 0 };

	if (by != NULL && strcmp(by, "CostTime") == 0)
		o.metric = BY_COST;
	else if (by != NULL && strcmp(by, "AvgCostTime") == 0)
		o.metric = BY_AVG;
	return o;
}

int logs_slow_analysis(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct logs_query q;
	struct slow_agg a;
	const struct slowq_group **v;
	json_t *items;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	if (logs_query_open(ctx, &q, SLOW_ANALYSIS_LIMIT_DEFAULT, e) != 0)
		return -1;
	if (logs_check_window(ctx, q.offset, q.limit, e) != 0 || slow_agg_run(&q, &a, 0, e) != 0)
		goto done;
	v = slow_sorted(&a.agg, slow_analysis_order(ctx));
	if (v == NULL || (items = json_array()) == NULL) {
		free(v);
		err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = (size_t)q.offset; i < a.agg.ngroups && i < (size_t)(q.offset + q.limit); i++)
		json_array_append_new(items, slow_analysis_item(v[i], &a.agg));
	free(v);
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)a.agg.ngroups));
	json_object_set_new(out, "Detail", json_pack("{s:f, s:I, s:o}", "TotalTime", a.agg.total_ms, "TotalCallNum",
						     (json_int_t)a.agg.total_calls, "AnalysisItems", items));
	rc = 0;
done:
	slow_agg_free(&a);
	logs_query_free(&q);
	return rc;
}

/* ---- DescribeDBSlowlogs (legacy) ---- */

static json_t *slowlogs_item(const struct slowq_group *g, const struct slowq_agg *agg)
{
	char first[32], last[32];
	json_t *grids = json_array();

	for (int i = 0; grids != NULL && g->grids != NULL && i < agg->ngrids; i++)
		json_array_append_new(grids, json_integer(g->grids[i]));
	logs_time(g->first_ms, false, first, sizeof(first));
	logs_time(g->last_ms, false, last, sizeof(last));
	return json_pack("{s:s, s:I, s:o, s:f, s:i, s:f, s:f, s:s, s:s, s:i, s:i, s:i, s:i, s:s, s:s}", "UserName",
			 g->user, "Calls", (json_int_t)g->calls, "CallsGrids", grids, "CostTime", g->total_ms, "Rows", 0,
			 "MinCostTime", g->min_ms, "MaxCostTime", g->max_ms, "FirstTime", first, "LastTime", last,
			 "SharedReadBlks", 0, "SharedWriteBlks", 0, "ReadCostTime", 0, "WriteCostTime", 0,
			 "DatabaseName", g->db, "NormalQuery", g->query);
}

int logs_slowlogs_legacy(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *by = api_param_str(ctx, "OrderBy"), *dir = api_param_str(ctx, "OrderByType");
	struct slow_order o = { by != NULL && strcmp(by, "sum_cost_time") == 0 ? BY_COST : BY_CALLS,
				dir == NULL || strcmp(dir, "desc") == 0 };
	struct logs_query q;
	struct slow_agg a;
	const struct slowq_group **v;
	json_t *items;
	long long first;
	int rc = -1;

	memset(&a, 0, sizeof(a));
	if (logs_query_open(ctx, &q, SLOWLOGS_LIMIT_DEFAULT, e) != 0)
		return -1;
	/* Offset is a page number here */
	first = q.offset > LOGS_WINDOW_MAX ? LOGS_WINDOW_MAX + 1 : q.offset * q.limit;
	if (logs_check_window(ctx, first, q.limit, e) != 0 || slow_agg_run(&q, &a, SLOWLOGS_GRIDS, e) != 0)
		goto done;
	v = slow_sorted(&a.agg, o);
	if (v == NULL || (items = json_array()) == NULL) {
		free(v);
		err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		goto done;
	}
	for (size_t i = (size_t)first; i < a.agg.ngroups && i < (size_t)(first + q.limit); i++)
		json_array_append_new(items, slowlogs_item(v[i], &a.agg));
	free(v);
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)a.agg.ngroups));
	json_object_set_new(out, "Detail", json_pack("{s:f, s:I, s:o}", "TotalTime", a.agg.total_ms, "TotalCalls",
						     (json_int_t)a.agg.total_calls, "NormalQueries", items));
	rc = 0;
done:
	slow_agg_free(&a);
	logs_query_free(&q);
	return rc;
}
