/*
 * backup_list.c - the read-only views of backups: DescribeBaseBackups,
 * DescribeLogBackups, the legacy DescribeDBBackups and DescribeDBXlogs,
 * DescribeBackupOverview and DescribeBackupSummaries.
 *
 * Base backups are the caller's "basebackup" records; log backups are the
 * files really in each instance's WAL archive (plus, while an instance's
 * archiving fails, one entry in state "failed" naming the segment it
 * fails on). Counts and sizes of the overview and summaries are measured
 * on disk at the time of the call.
 *
 * Free backup space (overview): as much as the storage the tenant bought
 * for its instances (the sum of their Storage, in bytes); what the
 * backups use beyond it is the paid part (UsedBillingSize).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/backup_api.h"
#include "core/clock.h"

#define BACKUP_DB_LIST_DEFAULT 20
#define BACKUP_XLOG_DEFAULT    100

static const char *const backup_base_filters[] = { "db-instance-id", "db-instance-name", "db-instance-ip",
						   "db-instance-status", "base-backup-id", NULL };
static const char *const backup_log_filters[] = { "db-instance-id", "db-instance-name", "db-instance-ip",
						  "db-instance-status", NULL };
static const char *const backup_summary_filters[] = { "db-instance-id", "db-instance-name", "db-instance-ip", NULL };

static const char *doc_str(const json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key)) ?: "";
}

static int64_t doc_int(const json_t *doc, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(doc, key));
}

static json_t *time_json(int64_t t)
{
	char buf[20];

	clock_format(t, buf);
	return json_string(buf);
}

static const struct store_res *inst_find(const struct store_res *insts, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(insts[i].id, id) == 0)
			return &insts[i];
	return NULL;
}

/* Order: the sort key's value and the direction (desc unless "asc"). */
struct list_order {
	int key;       /* 0 StartTime, 1 FinishTime, 2 Size */
	int desc;
};

static void list_order_of(const struct api_ctx *ctx, struct list_order *o)
{
	const char *by = api_param_str(ctx, "OrderBy") ?: "StartTime";
	const char *dir = api_param_str(ctx, "OrderByType");

	o->key = strcmp(by, "FinishTime") == 0 ? 1 : strcmp(by, "Size") == 0 ? 2 : 0;
	o->desc = dir == NULL || strcmp(dir, "asc") != 0;
}

static int list_cmp3(int64_t a, int64_t b, int desc)
{
	int c = (a > b) - (a < b);

	return desc ? -c : c;
}

/* ---- DescribeBaseBackups -------------------------------------------------------------------- */

struct base_row {
	struct store_res *r;
	int64_t finish;     /* running: now */
};

static int base_row_cmp(const void *a, const void *b, void *arg)
{
	const struct base_row *x = a, *y = b;
	const struct list_order *o = arg;
	int64_t kx = o->key == 0 ? doc_int(x->r->doc, "StartTime") : o->key == 1 ? x->finish : doc_int(x->r->doc, "Size");
	int64_t ky = o->key == 0 ? doc_int(y->r->doc, "StartTime") : o->key == 1 ? y->finish : doc_int(y->r->doc, "Size");
	int c = list_cmp3(kx, ky, o->desc);

	return c != 0 ? c : strcmp(x->r->id, y->r->id);
}

/* Values of the filter `name` among `filters` (NULL when absent). */
static const json_t *filter_values(const json_t *filters, const char *name)
{
	size_t i;
	json_t *f;

	json_array_foreach(filters, i, f)
		if (strcmp(json_string_value(json_object_get(f, "Name")) ?: "", name) == 0)
			return json_object_get(f, "Values");
	return NULL;
}

static bool id_in(const json_t *values, const char *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(values, i, v)
		if (strcmp(json_string_value(v) ?: "", id) == 0)
			return true;
	return false;
}

/* The caller's base backups of `insts` finished within [lo, hi] and named by `ids` (NULL: any). */
static size_t base_rows(struct store_res *bases, size_t nb, const struct store_res *insts, size_t ni,
			const json_t *ids, int64_t lo, int64_t hi, int64_t now, struct base_row *rows)
{
	size_t n = 0;

	for (size_t i = 0; i < nb; i++) {
		int64_t finish = doc_int(bases[i].doc, "FinishTime");
		if (strcmp(bases[i].status, "running") == 0)
			finish = now;
		if (inst_find(insts, ni, doc_str(bases[i].doc, "DBInstanceId")) == NULL || (ids && !id_in(ids, bases[i].id)) ||
		    finish < lo || finish > hi)
			continue;
		rows[n].r = &bases[i];
		rows[n++].finish = finish;
	}
	return n;
}

int backup_describe_base(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const json_t *filters = json_object_get(ctx->params, "Filters");
	struct store_res *insts = NULL, *bases = NULL;
	size_t ni = 0, nb = 0, n;
	struct base_row *rows = NULL;
	struct list_order o;
	long long limit, offset;
	int64_t now = clock_now(), lo, hi;
	json_t *set;

	backup_api_page(ctx, BACKUP_LIST_DEFAULT, &limit, &offset);
	list_order_of(ctx, &o);
	if (backup_api_time_param(ctx, "MinFinishTime", now - BACKUP_LIST_WINDOW_S, &lo, e) != 0 ||
	    backup_api_time_param(ctx, "MaxFinishTime", now, &hi, e) != 0 ||
	    backup_api_instances(ctx, filters, backup_base_filters, &insts, &ni, e) != 0)
		return -1;
	if (store_res_list(ctx->svc->store, BACKUP_KIND_BASE, ctx->tenant->id, &bases, &nb, e) != 0) {
		store_res_list_free(insts, ni);
		return -1;
	}
	if ((rows = calloc(nb ? nb : 1, sizeof(*rows))) == NULL) {
		store_res_list_free(insts, ni);
		store_res_list_free(bases, nb);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	n = base_rows(bases, nb, insts, ni, filter_values(filters, "base-backup-id"), lo, hi, now, rows);
	qsort_r(rows, n, sizeof(*rows), base_row_cmp, &o);
	set = json_array();
	for (size_t i = (size_t)offset; i < n && i < (size_t)(offset + limit); i++)
		json_array_append_new(set, backup_api_base_view(rows[i].r));
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)n));
	json_object_set_new(out, "BaseBackupSet", set);
	free(rows);
	store_res_list_free(bases, nb);
	store_res_list_free(insts, ni);
	return 0;
}

/* ---- log backups ------------------------------------------------------------------------------ */

struct log_row {
	const struct store_res *inst;
	struct pgbackup_wal_file w;
	int log_days;
	bool failed;        /* the "archiving fails" entry: w.name is the failing segment */
};

struct log_rows {
	struct log_row *v;
	size_t n, cap;
};

static int log_push(struct log_rows *rows, const struct log_row *row, struct err *e)
{
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 64;
		struct log_row *nv = realloc(rows->v, cap * sizeof(*nv));
		if (nv == NULL)
			return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		rows->v = nv;
		rows->cap = cap;
	}
	rows->v[rows->n++] = *row;
	return 0;
}

/* The "archiving fails" entry of an instance's plan, if any. */
static int log_failing(const struct store_res *inst, const json_t *plan, int64_t lo, int64_t hi,
		       struct log_rows *rows, struct err *e)
{
	const json_t *fail = json_object_get(plan, "ArchiveFailing");
	struct log_row row = { .inst = inst, .failed = true };

	if (fail == NULL)
		return 0;
	row.w.mtime = doc_int(fail, "LastFailedTime") ?: doc_int(fail, "Since");
	snprintf(row.w.name, sizeof(row.w.name), "%s", doc_str(fail, "LastFailedWal"));
	if (row.w.mtime < lo || row.w.mtime > hi)
		return 0;
	return log_push(rows, &row, e);
}

/* Every archived file of `inst` archived within [lo, hi]. */
static int log_collect(const struct api_ctx *ctx, const struct store_res *inst, int64_t lo, int64_t hi,
		       struct log_rows *rows, struct err *e)
{
	char dir[PGBACKUP_PATH_MAX];
	struct pgbackup_wal_file *w = NULL;
	struct backup_plan plan;
	json_t *doc = NULL;
	size_t nw = 0;
	int rc = 0;

	if (backup_plan_load(ctx->svc->store, inst->id, &doc, e) != 0 ||
	    backup_wal_dir(backup_fleet(ctx), inst->id, dir, sizeof(dir), e) != 0 || pgbackup_wal_list(dir, &w, &nw, e) != 0) {
		json_decref(doc);
		return -1;
	}
	backup_plan_parse(doc, &plan);
	for (size_t i = 0; i < nw && rc == 0; i++) {
		struct log_row row = { .inst = inst, .w = w[i], .log_days = plan.log_days };
		if (w[i].mtime >= lo && w[i].mtime <= hi)
			rc = log_push(rows, &row, e);
	}
	if (rc == 0)
		rc = log_failing(inst, doc, lo, hi, rows, e);
	json_decref(doc);
	free(w);
	return rc;
}

static int log_row_cmp(const void *a, const void *b, void *arg)
{
	const struct log_row *x = a, *y = b;
	const struct list_order *o = arg;
	int c = o->key == 2 ? list_cmp3(x->w.size, y->w.size, o->desc) : list_cmp3(x->w.mtime, y->w.mtime, o->desc);

	if (c == 0)
		c = strcmp(x->inst->id, y->inst->id);
	return c != 0 ? c : (o->desc ? -1 : 1) * strcmp(x->w.name, y->w.name);
}

static json_t *log_view(const struct log_row *l)
{
	char id[BACKUP_ID_LEN + 1], name[PGBACKUP_WAL_NAME_MAX + 16];

	if (l->failed) {
		snprintf(name, sizeof(name), "archiving:%s", l->w.name);
		backup_log_id(l->inst->id, name, id);
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:o, s:s, s:s}", "DBInstanceId", l->inst->id,
				 "Id", id, "Name", l->w.name, "BackupMethod", "physical", "BackupMode", "automatic",
				 "State", "failed", "Size", 0, "StartTime", time_json(l->w.mtime), "FinishTime", "",
				 "ExpireTime", "");
	}
	backup_log_id(l->inst->id, l->w.name, id);
	snprintf(name, sizeof(name), "%s.gz", l->w.name);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "DBInstanceId", l->inst->id, "Id", id,
			 "Name", name, "BackupMethod", "physical", "BackupMode", "automatic", "State", "finished", "Size",
			 (json_int_t)l->w.size, "StartTime", time_json(l->w.mtime), "FinishTime", time_json(l->w.mtime),
			 "ExpireTime", time_json(l->w.mtime + (int64_t)l->log_days * BACKUP_DAY_S));
}

int backup_describe_log(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res *insts = NULL;
	size_t ni = 0;
	struct log_rows rows = { NULL, 0, 0 };
	struct list_order o;
	long long limit, offset;
	int64_t now = clock_now(), lo, hi;
	json_t *set;
	int rc = 0;

	backup_api_page(ctx, BACKUP_LIST_DEFAULT, &limit, &offset);
	list_order_of(ctx, &o);
	if (backup_api_time_param(ctx, "MinFinishTime", now - BACKUP_LIST_WINDOW_S, &lo, e) != 0 ||
	    backup_api_time_param(ctx, "MaxFinishTime", now, &hi, e) != 0 ||
	    backup_api_instances(ctx, json_object_get(ctx->params, "Filters"), backup_log_filters, &insts, &ni, e) != 0)
		return -1;
	for (size_t i = 0; i < ni && rc == 0; i++)
		rc = log_collect(ctx, &insts[i], lo, hi, &rows, e);
	if (rc == 0) {
		if (rows.n > 0)
			qsort_r(rows.v, rows.n, sizeof(*rows.v), log_row_cmp, &o);
		set = json_array();
		for (size_t i = (size_t)offset; i < rows.n && i < (size_t)(offset + limit); i++)
			json_array_append_new(set, log_view(&rows.v[i]));
		json_object_set_new(out, "TotalCount", json_integer((json_int_t)rows.n));
		json_object_set_new(out, "LogBackupSet", set);
	}
	free(rows.v);
	store_res_list_free(insts, ni);
	return rc;
}

/* ---- legacy views ------------------------------------------------------------------------------ */

/* A download URL valid for the default 12 hours, "" when it cannot be made. */
static json_t *legacy_url(const struct api_ctx *ctx, const char *inst, const char *type, const char *id,
			  const char *file)
{
	char *url = NULL;
	struct err e;
	json_t *v;

	if (backup_url_make(ctx, inst, type, id, file, BACKUP_URL_HOURS_DEFAULT, NULL, &url, &e) != 0)
		return json_string("");
	v = json_string(url);
	free(url);
	return v;
}

static json_t *db_backup_view(const struct api_ctx *ctx, const struct store_res *r)
{
	const json_t *d = r->doc;
	int finished = strcmp(r->status, "finished") == 0;
	json_t *url = finished ? legacy_url(ctx, doc_str(d, "DBInstanceId"), "base", r->id, doc_str(d, "Name"))
			       : json_string("");
	json_t *dbs = json_object_get(d, "DbList");

	return json_pack("{s:I, s:o, s:o, s:I, s:i, s:i, s:i, s:i, s:O, s:O, s:o, s:s}", "Id",
			 (json_int_t)doc_int(d, "Seq"), "StartTime", time_json(doc_int(d, "StartTime")), "EndTime",
			 time_json(doc_int(d, "FinishTime")), "Size", (json_int_t)(doc_int(d, "Size") / 1024), "Strategy",
			 0, "Way", strcmp(doc_str(d, "BackupMode"), "automatic") == 0 ? 0 : 1, "Type", 1, "Status",
			 finished ? 2 : strcmp(r->status, "running") == 0 ? 1 : 3, "DbList", dbs ? dbs : json_array(),
			 "InternalAddr", url, "ExternalAddr", url, "SetId", r->id);
}

static int start_desc_cmp(const void *a, const void *b)
{
	const struct store_res *x = *(struct store_res *const *)a, *y = *(struct store_res *const *)b;

	return list_cmp3(doc_int(x->doc, "StartTime"), doc_int(y->doc, "StartTime"), 1);
}

int backup_describe_db_backups(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *id = api_param_str(ctx, "DBInstanceId");
	struct store_res inst, *bases = NULL, **rows = NULL;
	size_t nb = 0, n = 0;
	long long limit, offset;
	int64_t lo, hi;
	json_t *set;

	backup_api_page(ctx, BACKUP_DB_LIST_DEFAULT, &limit, &offset);
	if (backup_api_time_param(ctx, "StartTime", 0, &lo, e) != 0 || backup_api_time_param(ctx, "EndTime", 0, &hi, e) != 0 ||
	    instance_get(ctx, id, &inst, e) != 0)
		return -1;
	store_res_free(&inst);
	if (store_res_list(ctx->svc->store, BACKUP_KIND_BASE, ctx->tenant->id, &bases, &nb, e) != 0)
		return -1;
	if ((rows = calloc(nb ? nb : 1, sizeof(*rows))) == NULL) {
		store_res_list_free(bases, nb);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	for (size_t i = 0; i < nb; i++)
		if (strcmp(doc_str(bases[i].doc, "DBInstanceId"), id) == 0 && doc_int(bases[i].doc, "StartTime") >= lo &&
		    doc_int(bases[i].doc, "StartTime") <= hi)
			rows[n++] = &bases[i];
	qsort(rows, n, sizeof(*rows), start_desc_cmp);
	set = json_array();
	for (size_t i = (size_t)offset; i < n && i < (size_t)(offset + limit); i++)
		json_array_append_new(set, db_backup_view(ctx, rows[i]));
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)n));
	json_object_set_new(out, "BackupList", set);
	free(rows);
	store_res_list_free(bases, nb);
	return 0;
}

static json_t *xlog_view(const struct api_ctx *ctx, const char *inst, const struct pgbackup_wal_file *w)
{
	char id[BACKUP_ID_LEN + 1], file[PGBACKUP_WAL_NAME_MAX + 8];

	backup_log_id(inst, w->name, id);
	snprintf(file, sizeof(file), "%s.gz", w->name);
	json_t *url = legacy_url(ctx, inst, "log", id, file);
	return json_pack("{s:I, s:o, s:o, s:O, s:o, s:I}", "Id", (json_int_t)strtoll(id + 24, NULL, 16), "StartTime",
			 time_json(w->mtime), "EndTime", time_json(w->mtime), "InternalAddr", url, "ExternalAddr", url,
			 "Size", (json_int_t)w->size);
}

int backup_describe_xlogs(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *id = api_param_str(ctx, "DBInstanceId");
	char dir[PGBACKUP_PATH_MAX];
	struct store_res inst;
	struct pgbackup_wal_file *w = NULL;
	size_t nw = 0, n = 0;
	long long limit, offset;
	int64_t lo, hi;
	json_t *set;

	backup_api_page(ctx, BACKUP_XLOG_DEFAULT, &limit, &offset);
	if (backup_api_time_param(ctx, "StartTime", 0, &lo, e) != 0 || backup_api_time_param(ctx, "EndTime", 0, &hi, e) != 0 ||
	    instance_get(ctx, id, &inst, e) != 0)
		return -1;
	store_res_free(&inst);
	if (backup_wal_dir(backup_fleet(ctx), id, dir, sizeof(dir), e) != 0 || pgbackup_wal_list(dir, &w, &nw, e) != 0)
		return -1;
	set = json_array();
	for (size_t i = 0; i < nw; i++) {
		if (w[i].mtime < lo || w[i].mtime > hi)
			continue;
		if (n >= (size_t)offset && n < (size_t)(offset + limit))
			json_array_append_new(set, xlog_view(ctx, id, &w[i]));
		n++;
	}
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)n));
	json_object_set_new(out, "XlogList", set);
	free(w);
	return 0;
}

/* ---- overview and summaries -------------------------------------------------------------------- */

struct inst_stats {
	long long log_count, log_size, manual_count, manual_size, auto_count, auto_size;
};

/* What is really in `inst`'s store: its archived files, its finished base backups. */
static int stats_of(const struct api_ctx *ctx, const struct store_res *inst, const struct store_res *bases, size_t nb,
		    struct inst_stats *st, struct err *e)
{
	char dir[PGBACKUP_PATH_MAX];
	struct pgbackup_wal_file *w = NULL;
	size_t nw = 0;

	memset(st, 0, sizeof(*st));
	if (backup_wal_dir(backup_fleet(ctx), inst->id, dir, sizeof(dir), e) != 0 || pgbackup_wal_list(dir, &w, &nw, e) != 0)
		return -1;
	for (size_t i = 0; i < nw; i++) {
		st->log_count++;
		st->log_size += w[i].size;
	}
	free(w);
	for (size_t i = 0; i < nb; i++) {
		long long size;
		if (strcmp(doc_str(bases[i].doc, "DBInstanceId"), inst->id) != 0 || strcmp(bases[i].status, "finished") != 0 ||
		    (size = backup_api_base_size(ctx, &bases[i])) == 0)
			continue;
		bool automatic = strcmp(doc_str(bases[i].doc, "BackupMode"), "automatic") == 0;
		*(automatic ? &st->auto_count : &st->manual_count) += 1;
		*(automatic ? &st->auto_size : &st->manual_size) += size;
	}
	return 0;
}

int backup_describe_overview(struct api_ctx *ctx, json_t *out, struct err *e)
{
	static const char *const none[] = { NULL };
	struct store_res *insts = NULL, *bases = NULL;
	size_t ni = 0, nb = 0;
	struct inst_stats sum = { 0 }, st;
	long long free_bytes = 0, used;
	int rc = 0;

	if (backup_api_instances(ctx, NULL, none, &insts, &ni, e) != 0)
		return -1;
	if (store_res_list(ctx->svc->store, BACKUP_KIND_BASE, ctx->tenant->id, &bases, &nb, e) != 0) {
		store_res_list_free(insts, ni);
		return -1;
	}
	for (size_t i = 0; i < ni && rc == 0; i++) {
		free_bytes += (long long)doc_int(insts[i].doc, "StorageGb") << 30;
		if ((rc = stats_of(ctx, &insts[i], bases, nb, &st, e)) != 0)
			break;
		sum.log_count += st.log_count, sum.log_size += st.log_size;
		sum.manual_count += st.manual_count, sum.manual_size += st.manual_size;
		sum.auto_count += st.auto_count, sum.auto_size += st.auto_size;
	}
	used = sum.log_size + sum.manual_size + sum.auto_size;
	json_object_set_new(out, "TotalFreeSize", json_integer(free_bytes));
	json_object_set_new(out, "UsedFreeSize", json_integer(used < free_bytes ? used : free_bytes));
	json_object_set_new(out, "UsedBillingSize", json_integer(used > free_bytes ? used - free_bytes : 0));
	json_object_set_new(out, "LogBackupCount", json_integer(sum.log_count));
	json_object_set_new(out, "LogBackupSize", json_integer(sum.log_size));
	json_object_set_new(out, "ManualBaseBackupCount", json_integer(sum.manual_count));
	json_object_set_new(out, "ManualBaseBackupSize", json_integer(sum.manual_size));
	json_object_set_new(out, "AutoBaseBackupCount", json_integer(sum.auto_count));
	json_object_set_new(out, "AutoBaseBackupSize", json_integer(sum.auto_size));
	store_res_list_free(bases, nb);
	store_res_list_free(insts, ni);
	return rc;
}

struct summary_row {
	const struct store_res *inst;
	struct inst_stats st;
};

static long long summary_key(const struct summary_row *r, int key)
{
	switch (key) {
	case 1: return r->st.log_size;
	case 2: return r->st.manual_size;
	case 3: return r->st.auto_size;
	default: return r->st.log_size + r->st.manual_size + r->st.auto_size;
	}
}

static int summary_cmp(const void *a, const void *b, void *arg)
{
	const struct list_order *o = arg;
	int c = list_cmp3(summary_key(a, o->key), summary_key(b, o->key), o->desc);

	return c != 0 ? c : strcmp(((const struct summary_row *)a)->inst->id, ((const struct summary_row *)b)->inst->id);
}

static json_t *summary_view(const struct summary_row *r)
{
	const struct inst_stats *s = &r->st;

	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "DBInstanceId", r->inst->id, "LogBackupCount",
			 (json_int_t)s->log_count, "LogBackupSize", (json_int_t)s->log_size, "ManualBaseBackupCount",
			 (json_int_t)s->manual_count, "ManualBaseBackupSize", (json_int_t)s->manual_size,
			 "AutoBaseBackupCount", (json_int_t)s->auto_count, "AutoBaseBackupSize", (json_int_t)s->auto_size,
			 "TotalBackupCount", (json_int_t)(s->log_count + s->manual_count + s->auto_count), "TotalBackupSize",
			 (json_int_t)(s->log_size + s->manual_size + s->auto_size));
}

int backup_describe_summaries(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *by = api_param_str(ctx, "OrderBy");
	const char *dir = api_param_str(ctx, "OrderByType");
	struct list_order o = { 0, dir != NULL && strcmp(dir, "desc") == 0 };
	struct store_res *insts = NULL, *bases = NULL;
	struct summary_row *rows;
	size_t ni = 0, nb = 0;
	long long limit, offset;
	json_t *set;
	int rc = 0;

	backup_api_page(ctx, BACKUP_LIST_DEFAULT, &limit, &offset);
	if (backup_api_instances(ctx, json_object_get(ctx->params, "Filters"), backup_summary_filters, &insts, &ni, e) != 0)
		return -1;
	rows = calloc(ni ? ni : 1, sizeof(*rows));
	if (rows == NULL || store_res_list(ctx->svc->store, BACKUP_KIND_BASE, ctx->tenant->id, &bases, &nb, e) != 0) {
		free(rows);
		store_res_list_free(insts, ni);
		return rows == NULL ? err_set(e, ERR_INTERNAL_ERROR, "out of memory") : -1;
	}
	for (size_t i = 0; i < ni && rc == 0; i++) {
		rows[i].inst = &insts[i];
		rc = stats_of(ctx, &insts[i], bases, nb, &rows[i].st, e);
	}
	if (rc == 0 && by != NULL) {
		o.key = strcmp(by, "LogBackupSize") == 0 ? 1 : strcmp(by, "ManualBaseBackupSize") == 0 ? 2
			: strcmp(by, "AutoBaseBackupSize") == 0 ? 3 : 0;
		qsort_r(rows, ni, sizeof(*rows), summary_cmp, &o);
	}
	set = json_array();
	for (size_t i = (size_t)offset; rc == 0 && i < ni && i < (size_t)(offset + limit); i++)
		json_array_append_new(set, summary_view(&rows[i]));
	json_object_set_new(out, "BackupSummarySet", set);
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)ni));
	free(rows);
	store_res_list_free(bases, nb);
	store_res_list_free(insts, ni);
	return rc;
}
