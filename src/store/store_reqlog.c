/*
 * store_reqlog.c - the audit trail of API requests (table request_log).
 *
 * The gateway buffers rows and hands them over in batches; a batch is one
 * transaction (one fsync for many rows under synchronous=FULL). Old rows
 * are pruned by age from a periodic timer (config request_log_days).
 */
#include "store/store_int.h"

#include "core/log.h"

/* The longest action name a row can hold (struct store_request_log). */
#define STORE_REQLOG_ACTION_CAP sizeof(((struct store_request_log *)0)->action)

/* Bind the columns of one row to the cached insert statement. */
static int store_reqlog_bind(sqlite3_stmt *st, const struct store_request_log *r)
{
	int rc = sqlite3_bind_int64(st, 1, r->ts_ms);

	if (rc == SQLITE_OK)
		rc = store_bind_text(st, 2, r->request_id, sizeof(r->request_id));
	if (rc == SQLITE_OK)
		rc = r->tenant_id != 0 ? sqlite3_bind_int64(st, 3, r->tenant_id)
				       : sqlite3_bind_null(st, 3);
	if (rc == SQLITE_OK)
		rc = store_bind_text(st, 4, r->action, sizeof(r->action));
	if (rc == SQLITE_OK)
		rc = store_bind_text(st, 5, r->code, sizeof(r->code));
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, r->latency_us);
	if (rc == SQLITE_OK)
		rc = store_bind_text(st, 7, r->client_ip, sizeof(r->client_ip));
	return rc;
}

static int store_reqlog_insert_locked(struct store *s, const struct store_request_log *rows,
				      size_t n, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_REQLOG_INSERT,
				      "INSERT INTO request_log (ts_ms, request_id, tenant_id, action,"
				      " code, latency_us, client_ip)"
				      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", e);

	if (st == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		if (store_reqlog_bind(st, &rows[i]) != SQLITE_OK)
			return store_fail(s, "bind request log", e);
		if (store_step_done(s, st, "insert request log", e) != 0)
			return -1;
	}
	return 0;
}

int store_request_log_append(struct store *s, const struct store_request_log *rows, size_t n,
			     struct err *e)
{
	int rc = -1;

	if (n == 0)
		return 0;
	store_lock(s);
	if (store_tx_begin(s, e) == 0) {
		if (store_reqlog_insert_locked(s, rows, n, e) == 0)
			rc = store_tx_commit(s, e);
		else
			store_tx_rollback(s);
	}
	store_unlock(s);
	return rc;
}

static int store_reqlog_count_locked(struct store *s, const char *action, int64_t *count,
				     struct err *e)
{
	sqlite3_stmt *st;

	if (action == NULL) {
		st = store_stmt(s, STORE_STMT_REQLOG_COUNT_ALL, "SELECT count(*) FROM request_log", e);
		return st == NULL ? -1 : store_step_int64(s, st, count, "count request log", e);
	}
	st = store_stmt(s, STORE_STMT_REQLOG_COUNT_ACTION,
			"SELECT count(*) FROM request_log WHERE action = ?1", e);
	if (st == NULL)
		return -1;
	if (store_bind_text(st, 1, action, STORE_REQLOG_ACTION_CAP) != SQLITE_OK)
		return store_fail(s, "bind action", e);
	return store_step_int64(s, st, count, "count request log", e);
}

int store_request_log_count(struct store *s, const char *action, int64_t *count, struct err *e)
{
	int rc;

	store_lock(s);
	rc = store_reqlog_count_locked(s, action, count, e);
	store_unlock(s);
	return rc;
}

static int store_reqlog_prune_locked(struct store *s, int64_t before_ms, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_REQLOG_PRUNE,
				      "DELETE FROM request_log WHERE ts_ms < ?1", e);

	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, before_ms) != SQLITE_OK)
		return store_fail(s, "bind prune", e);
	if (store_step_done(s, st, "prune request log", e) != 0)
		return -1;
	log_debug(STORE_LOG_CTX, "pruned %d request log rows", sqlite3_changes(s->db));
	return 0;
}

int store_request_log_prune(struct store *s, int64_t before_ms, struct err *e)
{
	int rc;

	store_lock(s);
	rc = store_reqlog_prune_locked(s, before_ms, e);
	store_unlock(s);
	return rc;
}
