/*
 * store_int.h - what the store's own files share (private to src/store/;
 * nothing outside the store includes this, nothing outside it sees SQLite).
 *
 * A store is one SQLite connection, one mutex that every public function
 * holds for its whole body, and a cache of prepared statements indexed by
 * enum store_stmt. A file adding queries appends ids to the enum and passes
 * its SQL text at the call site: store_stmt() prepares it on first use and
 * afterwards hands back the cached, reset statement.
 *
 * Write transactions are BEGIN IMMEDIATE so that a second process (the
 * `pgfleetd tenant-create` CLI) waits on busy_timeout instead of failing a
 * read-to-write upgrade with SQLITE_BUSY.
 */
#ifndef PGFLEET_STORE_STORE_INT_H
#define PGFLEET_STORE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

#define STORE_LOG_CTX "store"

enum store_stmt {
	STORE_STMT_BEGIN,
	STORE_STMT_COMMIT,
	STORE_STMT_ROLLBACK,
	STORE_STMT_USER_VERSION,
	STORE_STMT_TENANT_INSERT,
	STORE_STMT_TENANT_NAME_EXISTS,
	STORE_STMT_TENANT_EXISTS,
	STORE_STMT_TENANT_COUNT,
	STORE_STMT_TENANT_BY_NAME,
	STORE_STMT_KEY_INSERT,
	STORE_STMT_KEY_COUNT,
	STORE_STMT_KEY_LOOKUP,
	STORE_STMT_KEY_SET_STATUS,
	STORE_STMT_REQLOG_INSERT,
	STORE_STMT_REQLOG_COUNT_ALL,
	STORE_STMT_REQLOG_COUNT_ACTION,
	STORE_STMT_REQLOG_PRUNE,
	STORE_STMT_RES_INSERT,
	STORE_STMT_RES_GET_TENANT,
	STORE_STMT_RES_LIST,
	STORE_STMT_RES_UPDATE,
	STORE_STMT_RES_DELETE,
	STORE_STMT_ADDR_USED,
	STORE_STMT_ADDR_INSERT,
	STORE_STMT_ADDR_OWNER,
	STORE_STMT_ADDR_FREE,
	STORE_STMT_TASK_INSERT,
	STORE_STMT_TASK_GET,
	STORE_STMT_TASK_LIST_ACTIVE,
	STORE_STMT_TASK_UPDATE,
	STORE_STMT_TASK_ACTIVE_FOR,
	STORE_STMT_TASK_COUNTS,
	STORE_STMT__COUNT
};

struct store {
	sqlite3 *db;
	pthread_mutex_t mu;
	sqlite3_stmt *stmts[STORE_STMT__COUNT];
	int txn_depth;      /* nesting of store_txn_begin (only the outermost commits) */
	int txn_failed;     /* an inner level rolled back: the outermost must too */
};

void store_lock(struct store *s);
void store_unlock(struct store *s);

/* The cached statement `id`, prepared from `sql` on first use; reset and
 * with bindings cleared. NULL after err_set() on failure. The caller steps
 * it and must sqlite3_reset() it before unlocking (an unreset read
 * statement would pin its WAL snapshot). */
sqlite3_stmt *store_stmt(struct store *s, enum store_stmt id, const char *sql, struct err *e);

/* Log the connection's last SQLite error with `what` as context and record
 * ERR_INTERNAL_ERROR (the client sees only the default message). Returns -1.
 * Call it before any other SQLite call overwrites the error. */
int store_fail(struct store *s, const char *what, struct err *e);

/* Step `st` once expecting SQLITE_DONE, then reset it. 0 or -1. */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what, struct err *e);

/* Step a one-row, one-integer query (count(*), PRAGMA user_version). */
int store_step_int64(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what,
		     struct err *e);

/* Bind `str` (at most `cap` bytes, stops at NUL) as text. SQLite result. */
int store_bind_text(sqlite3_stmt *st, int idx, const char *str, size_t cap);

/* Copy column `col` into dst[cap], truncating, always NUL-terminated. */
void store_column_copy(sqlite3_stmt *st, int col, char *dst, size_t cap);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Rollback is a no-op outside a
 * transaction (SQLite may already have rolled back after an I/O error). */
int store_tx_begin(struct store *s, struct err *e);
int store_tx_commit(struct store *s, struct err *e);
void store_tx_rollback(struct store *s);

/* Apply the pending migrations (store_migrate.c). Called once from
 * store_open with the connection configured and no lock needed. */
int store_migrate(struct store *s, struct err *e);

/* PRAGMA user_version, with the lock held. */
int store_user_version_locked(struct store *s, int64_t *out, struct err *e);

#endif
