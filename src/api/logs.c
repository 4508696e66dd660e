/*
 * logs.c - the log actions' table, what they share (logs.h), and
 * DescribeDBErrlogs.
 *
 * Every action reads the instance's own csvlog files on demand (no copy is
 * kept anywhere): the files of one node, tenant-scoped through
 * instance_get(), bounded by the retention limits the supervisor enforces
 * (pglog_retain). Errors are the ERROR, FATAL and PANIC records; each is
 * shown as "SEVERITY: message[ CONTEXT: ...][ STATEMENT: ...]", redacted
 * when its statement or context mentions a password, and matched against
 * SearchKeys and LogFilters as literal, case-insensitive text.
 */
#include "api/logs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/instances.h"
#include "core/config.h"
#include "lib/redact.h"
#include "lib/textclip.h"
#include "pg/pgnode.h"
#include "task/fleet.h"

#define ERRLOGS_LIMIT_DEFAULT 50
#define ERRLOGS_MSG_MAX 4096        /* bytes of one ErrMsg */
#define ERRLOGS_KEYS_MAX 20         /* SearchKeys */
#define ERRLOGS_FILTERS_MAX 10      /* LogFilters */
#define ERRLOGS_VALUES_MAX 20       /* values of one LogFilter */
#define ERRLOGS_KEY_LEN_MAX 256     /* bytes of one key or filter value */

const struct api_handler log_handlers[] = {
	{ "DescribeDBErrlogs", logs_errlogs_describe },
	{ "DescribeSlowQueryList", logs_slow_list },
	{ "DescribeSlowQueryAnalysis", logs_slow_analysis },
	{ "DescribeDBSlowlogs", logs_slowlogs_legacy },
	{ NULL, NULL },
};

/* ---- shared ---- */

enum err_code logs_exceed_code(const struct api_ctx *ctx)
{
	const struct api_action *a = ctx->action;

	for (size_t i = 0; a != NULL && i < a->nerrors; i++)
		if (a->errors[i] == ERR_INVALID_PARAMETER_VALUE_PARAMETER_VALUE_EXCEED_ERROR)
			return ERR_INVALID_PARAMETER_VALUE_PARAMETER_VALUE_EXCEED_ERROR;
	return ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR;
}

int logs_check_window(const struct api_ctx *ctx, long long offset, long long limit, struct err *e)
{
	if (offset > LOGS_WINDOW_MAX || offset + limit > LOGS_WINDOW_MAX)
		return err_set(e, logs_exceed_code(ctx), "Offset + Limit may not exceed %d.", LOGS_WINDOW_MAX);
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS" (local time) -> unix ms; -1 when malformed. */
static int logs_parse_time(const char *s, int64_t *ms)
{
	struct tm tm, back;
	int y, mo, d, h, mi, sec;
	char tail;
	time_t t;

	if (s == NULL || strlen(s) != 19 ||
	    sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &tail) != 6 || s[4] != '-' ||
	    s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	back = tm;
	t = mktime(&tm);
	/* mktime normalises 2026-02-31 into March: refuse what moved */
	if (t == (time_t)-1 || tm.tm_mday != back.tm_mday || tm.tm_mon != back.tm_mon || sec > 59)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

/* The range parameters, checked against the retention window. */
static int logs_range(const struct api_ctx *ctx, struct logs_query *q, struct err *e)
{
	const int64_t keep_ms = (int64_t)ctx->svc->cfg->log_retention_days * 86400 * 1000;
	const int64_t now_ms = (int64_t)time(NULL) * 1000;

	if (logs_parse_time(api_param_str(ctx, "StartTime"), &q->from_ms) != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "StartTime must be a time in the format YYYY-MM-DD HH:MM:SS.");
	if (logs_parse_time(api_param_str(ctx, "EndTime"), &q->to_ms) != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "EndTime must be a time in the format YYYY-MM-DD HH:MM:SS.");
	q->to_ms += 999;   /* EndTime names a whole second */
	if (q->to_ms < q->from_ms)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "EndTime must not be earlier than StartTime.");
	if (q->to_ms - q->from_ms > keep_ms)
		return err_set(e, logs_exceed_code(ctx), "The time range may span at most %d days.",
			       ctx->svc->cfg->log_retention_days);
	if (q->from_ms < now_ms - keep_ms - 1000)
		return err_set(e, logs_exceed_code(ctx),
			       "StartTime must fall within the last %d days (logs are kept that long).",
			       ctx->svc->cfg->log_retention_days);
	return 0;
}

int logs_query_open(const struct api_ctx *ctx, struct logs_query *q, long long limit_default, struct err *e)
{
	struct pgnode n;

	memset(q, 0, sizeof(*q));
	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &q->inst, e) != 0)
		return -1;
	if (logs_range(ctx, q, e) != 0) {
		logs_query_free(q);
		return -1;
	}
	q->limit = limit_default;
	api_param_int(ctx, "Limit", &q->limit);
	api_param_int(ctx, "Offset", &q->offset);
	q->db = api_param_str(ctx, "DatabaseName");
	q->split_bytes = (uint64_t)ctx->svc->cfg->log_scan_split_mb << 20;
	if (json_object_get(q->inst.doc, "NodeId") != NULL &&
	    fleet_primary_node(ctx->svc->fleet, q->inst.doc, &n, e) == 0)
		snprintf(q->dir, sizeof(q->dir), "%s/log", n.dir);
	err_clear(e);
	return 0;
}

void logs_query_free(struct logs_query *q)
{
	store_res_free(&q->inst);
	free(q->files);
	q->files = NULL;
}

static int logs_scan_file(const char *path, size_t file, int cols,
			  int (*fn)(const struct pglog_rec *r, const struct logs_at *at, void *arg), void *arg,
			  struct err *e)
{
	struct pglog_reader rd;
	struct pglog_rec *rec = calloc(1, sizeof(*rec));
	struct logs_at at = { .file = file };
	int rc;

	if (rec == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (pglog_reader_open(&rd, path, 0, e) != 0) {
		free(rec);
		return -1;
	}
	rd.cols = cols;
	while ((rc = pglog_reader_next(&rd, rec, e)) == 1) {
		/* the length first: most records are not the service's own */
		if (rec->f[PGLOG_USER].len == sizeof(PGNODE_SUPERUSER) - 1 &&
		    pglog_field_eq(&rec->f[PGLOG_USER], PGNODE_SUPERUSER))
			continue;
		at.offset = rd.rec_offset;
		if (fn(rec, &at, arg) != 0) {
			rc = 1;
			break;
		}
	}
	pglog_reader_close(&rd);
	free(rec);
	return rc;
}

/* May file i hold records at or after q->from_ms? */
static bool logs_file_wanted(const struct logs_query *q, size_t i)
{
	return q->files[i].mtime * 1000 + LOGS_MTIME_SLACK_MS >= q->from_ms;
}

static void logs_file_path(const struct logs_query *q, size_t i, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", q->dir, q->files[i].name);
}

/* ---- a scan split over threads ---- */

struct logs_split {
	struct logs_query *q;
	int (*fn)(const struct pglog_rec *r, const struct logs_at *at, void *arg);
	void *const *args;
	pthread_mutex_t mu;
	size_t next;             /* the next file to take */
	int rc;                  /* the first failure (-1: e is set) or stop (1) */
	struct err e;
};

struct logs_worker {
	struct logs_split *s;
	int i;                   /* which of s->args */
	pthread_t thread;
};

/* Take files one at a time until none is left or a worker failed. */
static void *logs_split_work(void *arg)
{
	struct logs_worker *w = arg;
	struct logs_split *s = w->s;
	char path[PATH_MAX + 80];

	for (;;) {
		struct err e;
		size_t i;
		int rc;
		pthread_mutex_lock(&s->mu);
		for (i = s->next; i < s->q->nfiles && !logs_file_wanted(s->q, i); i++)
			;
		s->next = i + 1;
		rc = s->rc;
		pthread_mutex_unlock(&s->mu);
		if (rc != 0 || i >= s->q->nfiles)
			return NULL;
		logs_file_path(s->q, i, path, sizeof(path));
		err_clear(&e);
		rc = logs_scan_file(path, i, s->q->cols, s->fn, s->args[w->i], &e);
		if (rc != 0) {
			pthread_mutex_lock(&s->mu);
			if (s->rc == 0) {
				s->rc = rc;
				s->e = e;
			}
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
	}
}

int logs_scan_split(struct logs_query *q, int max_workers,
		    int (*fn)(const struct pglog_rec *r, const struct logs_at *at, void *arg), void *const *args,
		    int *used, struct err *e)
{
	struct logs_split s = { .q = q, .fn = fn, .args = args };
	struct logs_worker w[LOGS_WORKERS_MAX];
	uint64_t bytes = 0;
	size_t files = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = 1;

	*used = 1;
	free(q->files);
	q->files = NULL;
	q->nfiles = 0;
	if (q->dir[0] != '\0' && pglog_files(q->dir, ".csv", &q->files, &q->nfiles, e) != 0)
		return -1;
	for (size_t i = 0; i < q->nfiles; i++) {
		if (logs_file_wanted(q, i)) {
			bytes += (uint64_t)q->files[i].size;
			files++;
		}
	}
	/* threads only where they pay: enough bytes, more than one file */
	if (bytes >= q->split_bytes && files > 1) {
		n = max_workers < LOGS_WORKERS_MAX ? max_workers : LOGS_WORKERS_MAX;
		if (cpus > 0 && n > cpus)
			n = (int)cpus;
		if ((size_t)n > files)
			n = (int)files;
	}
	pthread_mutex_init(&s.mu, NULL);
	for (int i = 0; i < n; i++) {
		w[i].s = &s;
		w[i].i = i;
	}
	int started = 1;
	for (; started < n; started++)
		if (pthread_create(&w[started].thread, NULL, logs_split_work, &w[started]) != 0)
			break;   /* fewer threads: the others share the work */
	logs_split_work(&w[0]);
	for (int i = 1; i < started; i++)
		pthread_join(w[i].thread, NULL);
	pthread_mutex_destroy(&s.mu);
	*used = started;
	if (s.rc < 0) {
		*e = s.e;
		return -1;
	}
	return 0;
}

int logs_scan(struct logs_query *q, int (*fn)(const struct pglog_rec *r, const struct logs_at *at, void *arg),
	      void *arg, struct err *e)
{
	int used;

	/* one worker: the files in their order, on this thread */
	return logs_scan_split(q, 1, fn, &arg, &used, e);
}

int logs_record_at(const struct logs_query *q, const struct logs_at *at, struct logs_record *x, struct err *e)
{
	char path[PATH_MAX + 80];
	int rc;

	if (at->file >= q->nfiles)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", q->dir, q->files[at->file].name);
	memset(&x->rec, 0, sizeof(x->rec));
	if (pglog_reader_open(&x->rd, path, at->offset, e) != 0) {
		err_clear(e);
		return 0;   /* removed by retention since the scan */
	}
	rc = pglog_reader_next(&x->rd, &x->rec, e);
	if (rc != 1)
		pglog_reader_close(&x->rd);
	return rc;
}

void logs_record_close(struct logs_record *x)
{
	pglog_reader_close(&x->rd);
}

char *logs_field_dup(const struct pglog_field *f)
{
	char raw[LOGS_FIELD_MAX], clean[LOGS_FIELD_MAX * 3];

	pglog_field_copy(f, raw, sizeof(raw));
	textclip_utf8(raw, strlen(raw), clean, sizeof(clean), NULL);
	return strdup(clean);
}

long long logs_field_int(const struct pglog_field *f)
{
	long long v = 0;

	if (f->len == 0 || f->len > 18)
		return 0;
	for (uint32_t i = 0; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9')
			return 0;
		v = v * 10 + (f->p[i] - '0');
	}
	return v;
}

void logs_time(int64_t ms, bool zone, char *out, size_t cap)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	out[0] = '\0';
	if (localtime_r(&t, &tm) == NULL)
		return;
	strftime(out, cap, zone ? "%Y-%m-%d %H:%M:%S %Z" : "%Y-%m-%d %H:%M:%S", &tm);
}

void logs_field_time(const struct pglog_field *f, bool zone, char *out, size_t cap)
{
	int64_t ms;

	out[0] = '\0';
	if (!f->escaped && pglog_time_parse(f->p, f->len, &ms) == 0)
		logs_time(ms, zone, out, cap);
}

bool logs_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return true;
	for (const char *p = hay; *p != '\0'; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

/* ---- DescribeDBErrlogs ---- */

enum errlogs_cmp { CMP_INC, CMP_EXC, CMP_EQS, CMP_NEQ, CMP_RG };

/* The columns a LogFilter may name (several spellings each). */
enum errlogs_col { COL_USER, COL_DB, COL_APP, COL_CLIENT, COL_SQLSTATE, COL_PID, COL_SESSION, COL_MSG };

static const struct {
	const char *name;
	enum errlogs_col col;
} errlogs_types[] = {
	{ "UserName", COL_USER }, { "User", COL_USER }, { "Database", COL_DB }, { "DatabaseName", COL_DB },
	{ "ApplicationName", COL_APP }, { "ClientAddr", COL_CLIENT }, { "Host", COL_CLIENT },
	{ "SqlStateCode", COL_SQLSTATE }, { "ProcessId", COL_PID }, { "SessionId", COL_SESSION },
	{ "ErrMsg", COL_MSG }, { "Sql", COL_MSG },
};

struct errlogs_filter {
	enum errlogs_col col;
	enum errlogs_cmp cmp;
	const char *values[ERRLOGS_VALUES_MAX];
	size_t nvalues;
};

struct errlogs_entry {
	int64_t time_ms;
	char *user, *db, *msg, *client, *session, *session_start, *vxid, *sqlstate, *app;
	long long pid;
};

struct errlogs_state {
	const struct logs_query *q;
	const char *keys[ERRLOGS_KEYS_MAX];
	size_t nkeys;
	struct errlogs_filter filters[ERRLOGS_FILTERS_MAX];
	size_t nfilters;
	struct logs_at *ring;        /* where the newest LOGS_WINDOW_MAX matches are */
	size_t head, count;
	uint64_t matched;
	bool oom;
};

static void errlogs_entry_free(struct errlogs_entry *x)
{
	free(x->user);
	free(x->db);
	free(x->msg);
	free(x->client);
	free(x->session);
	free(x->session_start);
	free(x->vxid);
	free(x->sqlstate);
	free(x->app);
	memset(x, 0, sizeof(*x));
}

/* A string parameter list: every element a string of at most `len` bytes. */
static int errlogs_strings(const struct api_ctx *ctx, const json_t *arr, const char *what, size_t max,
			   const char **out, size_t *n, struct err *e)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (json_array_size(arr) > max)
		return err_set(e, logs_exceed_code(ctx), "%s may hold at most %zu values.", what, max);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) > ERRLOGS_KEY_LEN_MAX)
			return err_set(e, logs_exceed_code(ctx), "Each value of %s may be at most %d bytes.", what,
				       ERRLOGS_KEY_LEN_MAX);
		out[(*n)++] = json_string_value(v);
	}
	return 0;
}

static int errlogs_filter_parse(const struct api_ctx *ctx, const json_t *f, struct errlogs_filter *out,
				struct err *e)
{
	static const char *const cmps[] = { "INC", "EXC", "EQS", "NEQ", "RG" };
	const char *type = json_string_value(json_object_get(f, "Type"));
	const char *cmp = json_string_value(json_object_get(f, "Compare"));
	size_t i;

	for (i = 0; type != NULL && i < sizeof(errlogs_types) / sizeof(errlogs_types[0]); i++)
		if (strcasecmp(type, errlogs_types[i].name) == 0)
			break;
	if (type == NULL || i == sizeof(errlogs_types) / sizeof(errlogs_types[0]))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "LogFilters.Type `%.64s` is not one of UserName, Database, ApplicationName, ClientAddr, "
			       "SqlStateCode, ProcessId, SessionId, ErrMsg.", type ? type : "");
	out->col = errlogs_types[i].col;
	for (i = 0; cmp != NULL && i < 5; i++)
		if (strcasecmp(cmp, cmps[i]) == 0)
			break;
	if (cmp == NULL || i == 5 || (i == CMP_RG && out->col != COL_PID))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "LogFilters.Compare must be INC, EXC, EQS or NEQ (RG only for ProcessId).");
	out->cmp = (enum errlogs_cmp)i;
	return errlogs_strings(ctx, json_object_get(f, "Value"), "LogFilters.Value", ERRLOGS_VALUES_MAX, out->values,
			       &out->nvalues, e);
}

static int errlogs_params(const struct api_ctx *ctx, struct errlogs_state *st, struct err *e)
{
	const json_t *filters = json_object_get(ctx->params, "LogFilters");
	size_t i;
	json_t *f;

	if (errlogs_strings(ctx, json_object_get(ctx->params, "SearchKeys"), "SearchKeys", ERRLOGS_KEYS_MAX, st->keys,
			    &st->nkeys, e) != 0)
		return -1;
	if (json_array_size(filters) > ERRLOGS_FILTERS_MAX)
		return err_set(e, logs_exceed_code(ctx), "LogFilters may hold at most %d filters.", ERRLOGS_FILTERS_MAX);
	json_array_foreach(filters, i, f)
		if (errlogs_filter_parse(ctx, f, &st->filters[st->nfilters++], e) != 0)
			return -1;
	return 0;
}

/* "a-b" range test for RG. */
static bool errlogs_in_range(long long v, const char *range)
{
	long long lo, hi;
	char tail;

	return sscanf(range, "%lld-%lld%c", &lo, &hi, &tail) == 2 && v >= lo && v <= hi;
}

static bool errlogs_filter_ok(const struct errlogs_filter *f, const struct errlogs_entry *x)
{
	char pid[24];
	const char *v;
	bool any = false;

	snprintf(pid, sizeof(pid), "%lld", x->pid);
	v = f->col == COL_USER ? x->user : f->col == COL_DB ? x->db : f->col == COL_APP ? x->app
	  : f->col == COL_CLIENT ? x->client : f->col == COL_SQLSTATE ? x->sqlstate
	  : f->col == COL_PID ? pid : f->col == COL_SESSION ? x->session : x->msg;
	for (size_t i = 0; i < f->nvalues && !any; i++) {
		if (f->cmp == CMP_INC || f->cmp == CMP_EXC)
			any = logs_contains(v, f->values[i]);
		else if (f->cmp == CMP_RG)
			any = errlogs_in_range(x->pid, f->values[i]);
		else
			any = strcasecmp(v, f->values[i]) == 0;
	}
	return (f->cmp == CMP_EXC || f->cmp == CMP_NEQ) ? !any : any;
}

static bool errlogs_matches(const struct errlogs_state *st, const struct errlogs_entry *x)
{
	for (size_t i = 0; i < st->nkeys; i++)
		if (!logs_contains(x->msg, st->keys[i]))
			return false;
	for (size_t i = 0; i < st->nfilters; i++)
		if (!errlogs_filter_ok(&st->filters[i], x))
			return false;
	return true;
}

static bool errlogs_severity(const struct pglog_field *f)
{
	return (f->len == 5 && memcmp(f->p, "ERROR", 5) == 0) || (f->len == 5 && memcmp(f->p, "FATAL", 5) == 0) ||
	       (f->len == 5 && memcmp(f->p, "PANIC", 5) == 0);
}

/* Append "label" + the field (undoubled, redacted when `redact`) to buf. */
static void errlogs_append(char *buf, size_t cap, const char *label, const struct pglog_field *f, bool redact,
			   bool sql)
{
	size_t len = strlen(buf), n;
	char *raw, *red;

	if (f->len == 0 || len + 1 >= cap)
		return;
	raw = malloc((size_t)f->len + 1);
	if (raw == NULL)
		return;
	n = pglog_field_copy(f, raw, (size_t)f->len + 1);
	red = sql ? redact_sql(raw, n, &n) : redact ? redact_message(raw, n, &n) : NULL;
	snprintf(buf + len, cap - len, "%s%.*s", label, (int)(red ? n : strlen(raw)), red ? red : raw);
	free(red);
	free(raw);
}

/* ErrMsg: "SEVERITY: message[ CONTEXT: ...][ STATEMENT: ...]", redacted. */
static char *errlogs_message(const struct pglog_rec *r)
{
	char *buf = malloc(ERRLOGS_MSG_MAX), *clean;
	bool sensitive = redact_sensitive(r->f[PGLOG_QUERY].p, r->f[PGLOG_QUERY].len) ||
			 redact_sensitive(r->f[PGLOG_CONTEXT].p, r->f[PGLOG_CONTEXT].len) ||
			 redact_sensitive(r->f[PGLOG_INTERNAL_QUERY].p, r->f[PGLOG_INTERNAL_QUERY].len);

	if (buf == NULL)
		return NULL;
	pglog_field_copy(&r->f[PGLOG_SEVERITY], buf, 16);
	errlogs_append(buf, ERRLOGS_MSG_MAX, ": ", &r->f[PGLOG_MESSAGE], sensitive, false);
	errlogs_append(buf, ERRLOGS_MSG_MAX, " CONTEXT: ", &r->f[PGLOG_CONTEXT], sensitive, false);
	errlogs_append(buf, ERRLOGS_MSG_MAX, " STATEMENT: ", &r->f[PGLOG_QUERY], sensitive, true);
	clean = malloc(ERRLOGS_MSG_MAX);
	if (clean != NULL)
		textclip_utf8(buf, strlen(buf), clean, ERRLOGS_MSG_MAX, NULL);
	free(buf);
	return clean;
}

static bool errlogs_entry_fill(struct errlogs_entry *x, const struct pglog_rec *r)
{
	char start[40];

	x->time_ms = r->time_ms;
	x->pid = logs_field_int(&r->f[PGLOG_PID]);
	logs_field_time(&r->f[PGLOG_SESSION_START], false, start, sizeof(start));
	x->msg = errlogs_message(r);
	x->user = logs_field_dup(&r->f[PGLOG_USER]);
	x->db = logs_field_dup(&r->f[PGLOG_DB]);
	x->client = logs_field_dup(&r->f[PGLOG_CONN_FROM]);
	x->session = logs_field_dup(&r->f[PGLOG_SESSION_ID]);
	x->session_start = strdup(start);
	x->vxid = logs_field_dup(&r->f[PGLOG_VXID]);
	x->sqlstate = logs_field_dup(&r->f[PGLOG_SQLSTATE]);
	x->app = logs_field_dup(&r->f[PGLOG_APP_NAME]);
	return x->msg && x->user && x->db && x->client && x->session && x->session_start && x->vxid && x->sqlstate &&
	       x->app;
}

static int errlogs_record(const struct pglog_rec *r, const struct logs_at *at, void *arg)
{
	struct errlogs_state *st = arg;
	const struct logs_query *q = st->q;
	struct errlogs_entry x = { 0 };
	bool match;

	if (r->time_ms > q->to_ms + LOGS_MTIME_SLACK_MS)
		return 1;   /* records are in time order: nothing later can match */
	if (!errlogs_severity(&r->f[PGLOG_SEVERITY]) || r->time_ms < q->from_ms || r->time_ms > q->to_ms ||
	    (q->db != NULL && !pglog_field_eq(&r->f[PGLOG_DB], q->db)))
		return 0;
	if (!errlogs_entry_fill(&x, r)) {
		st->oom = true;
		errlogs_entry_free(&x);
		return 1;
	}
	match = errlogs_matches(st, &x);
	errlogs_entry_free(&x);
	if (!match)
		return 0;
	st->matched++;
	if (st->count == LOGS_WINDOW_MAX) {
		st->ring[st->head] = *at;   /* the oldest kept match gives way */
		st->head = (st->head + 1) % LOGS_WINDOW_MAX;
	} else {
		st->ring[(st->head + st->count++) % LOGS_WINDOW_MAX] = *at;
	}
	return 0;
}

static json_t *errlogs_view(const struct errlogs_entry *x)
{
	char t[40];

	logs_time(x->time_ms, false, t, sizeof(t));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "UserName", x->user, "Database",
			 x->db, "ErrTime", t, "ErrMsg", x->msg, "ProcessId", (json_int_t)x->pid, "ClientAddr",
			 x->client, "SessionId", x->session, "SessionStartTime", x->session_start,
			 "VirtualTransactionId", x->vxid, "SqlStateCode", x->sqlstate, "ApplicationName", x->app);
}

/* The page: its records read again, shown as they matched. */
static int errlogs_output(struct errlogs_state *st, const struct logs_query *q, json_t *out, struct err *e)
{
	json_t *details = json_array();

	if (details == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	for (long long i = q->offset; i < q->offset + q->limit && (size_t)i < st->count; i++) {
		struct logs_record *x = malloc(sizeof(*x));
		struct errlogs_entry en = { 0 };
		int rc = x ? logs_record_at(q, &st->ring[(st->head + (size_t)i) % LOGS_WINDOW_MAX], x, e) : -1;
		if (rc < 0) {
			free(x);
			json_decref(details);
			return x ? -1 : err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		}
		if (rc == 1 && errlogs_entry_fill(&en, &x->rec))
			json_array_append_new(details, errlogs_view(&en));
		if (rc == 1)
			logs_record_close(x);
		errlogs_entry_free(&en);
		free(x);
	}
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)st->count));
	json_object_set_new(out, "Details", details);
	return 0;
}

int logs_errlogs_describe(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct logs_query q;
	struct errlogs_state *st;
	int rc = -1;

	if (logs_query_open(ctx, &q, ERRLOGS_LIMIT_DEFAULT, e) != 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->ring = calloc(LOGS_WINDOW_MAX, sizeof(*st->ring))) == NULL) {
		free(st);
		logs_query_free(&q);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	st->q = &q;
	if (logs_check_window(ctx, q.offset, q.limit, e) == 0 && errlogs_params(ctx, st, e) == 0 &&
	    logs_scan(&q, errlogs_record, st, e) == 0) {
		if (st->oom)
			err_set(e, ERR_INTERNAL_ERROR, "out of memory reading the error log");
		else
			rc = errlogs_output(st, &q, out, e);
	}
	free(st->ring);
	free(st);
	logs_query_free(&q);
	return rc;
}
