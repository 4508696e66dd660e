/*
 * store.c - the connection: open, configure, migrate, close; the store-wide
 * mutex, the prepared-statement cache and the small helpers every store file
 * uses (error recording, stepping, binding, transactions).
 *
 * The database file is created by us with O_CREAT and mode 0600 before
 * SQLite opens it, so the secrets in it are never readable by others, even
 * for an instant; SQLite gives the -wal and -shm files the same mode.
 * Connection settings: busy_timeout 5000 ms (another process may hold the
 * write lock), WAL, synchronous=FULL, foreign_keys=ON.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_PATH_MAX 4096

void store_lock(struct store *s)
{
	pthread_mutex_lock(&s->mu);
}

void store_unlock(struct store *s)
{
	pthread_mutex_unlock(&s->mu);
}

int store_fail(struct store *s, const char *what, struct err *e)
{
	log_error(STORE_LOG_CTX, "%s: %s (sqlite %d)", what, sqlite3_errmsg(s->db),
		  sqlite3_extended_errcode(s->db));
	return err_set(e, ERR_INTERNAL_ERROR, NULL);
}

sqlite3_stmt *store_stmt(struct store *s, enum store_stmt id, const char *sql, struct err *e)
{
	sqlite3_stmt *st = s->stmts[id];

	if (st != NULL) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		store_fail(s, "prepare", e);
		return NULL;
	}
	s->stmts[id] = st;
	return st;
}

int store_step_done(struct store *s, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		store_fail(s, what, e);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int store_step_int64(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what,
		     struct err *e)
{
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_fail(s, what, e);
		sqlite3_reset(st);
		return -1;
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int store_bind_text(sqlite3_stmt *st, int idx, const char *str, size_t cap)
{
	return sqlite3_bind_text(st, idx, str, (int)strnlen(str, cap), SQLITE_TRANSIENT);
}

void store_column_copy(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *src = sqlite3_column_text(st, col);
	size_t n = 0;

	if (src != NULL) {
		n = (size_t)sqlite3_column_bytes(st, col);
		if (n > cap - 1)
			n = cap - 1;
		memcpy(dst, src, n);
	}
	dst[n] = '\0';
}

int store_tx_begin(struct store *s, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_BEGIN, "BEGIN IMMEDIATE", e);

	return st == NULL ? -1 : store_step_done(s, st, "begin", e);
}

int store_tx_commit(struct store *s, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_COMMIT, "COMMIT", e);

	if (st == NULL || store_step_done(s, st, "commit", e) != 0) {
		store_tx_rollback(s);
		return -1;
	}
	return 0;
}

void store_tx_rollback(struct store *s)
{
	sqlite3_stmt *st;
	struct err ignored;

	if (sqlite3_get_autocommit(s->db))
		return;
	st = store_stmt(s, STORE_STMT_ROLLBACK, "ROLLBACK", &ignored);
	if (st != NULL)
		store_step_done(s, st, "rollback", &ignored);
}

int store_user_version_locked(struct store *s, int64_t *out, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_USER_VERSION, "PRAGMA user_version", e);

	return st == NULL ? -1 : store_step_int64(s, st, out, "read user_version", e);
}

/* Create the file with mode 0600 if missing; tighten it if it is looser.
 * Refuses a symlink. */
static int store_create_file(const char *path, struct err *e)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		log_error(STORE_LOG_CTX, "open %s: %s", path, strerror(errno));
		return err_set(e, ERR_INTERNAL_ERROR, NULL);
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0)
		log_warn(STORE_LOG_CTX, "chmod 0600 %s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

/* Check that journal_mode=WAL took effect (it silently stays otherwise,
 * e.g. on file systems without shared memory). */
static int store_set_wal(struct store *s, struct err *e)
{
	sqlite3_stmt *st;
	int ok;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "prepare journal_mode", e);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_fail(s, "journal_mode=WAL", e);
		sqlite3_finalize(st);
		return -1;
	}
	ok = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	sqlite3_finalize(st);
	if (!ok) {
		log_error(STORE_LOG_CTX, "journal_mode=WAL refused by SQLite");
		return err_set(e, ERR_INTERNAL_ERROR, NULL);
	}
	return 0;
}

static int store_configure(struct store *s, struct err *e)
{
	static const char pragmas[] = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";

	if (sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
		return store_fail(s, "busy_timeout", e);
	if (sqlite3_extended_result_codes(s->db, 1) != SQLITE_OK)
		return store_fail(s, "extended_result_codes", e);
	if (store_set_wal(s, e) != 0)
		return -1;
	if (sqlite3_exec(s->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, "pragmas", e);
	return 0;
}

static int store_connect(struct store *s, const char *path, struct err *e)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW;

	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		if (s->db == NULL) {
			log_error(STORE_LOG_CTX, "open %s: out of memory", path);
			return err_set(e, ERR_INTERNAL_ERROR, NULL);
		}
		return store_fail(s, "open", e);
	}
	return 0;
}

int store_open(struct store **out, const char *path, struct err *e)
{
	struct store *s;

	*out = NULL;
	if (path == NULL || path[0] == '\0' || strnlen(path, STORE_PATH_MAX) >= STORE_PATH_MAX)
		return err_set(e, ERR_INTERNAL_ERROR, "invalid database path");
	if (!sqlite3_threadsafe()) {
		log_error(STORE_LOG_CTX, "libsqlite3 was built without thread safety");
		return err_set(e, ERR_INTERNAL_ERROR, NULL);
	}
	if (store_create_file(path, e) != 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	/* recursive: a caller holding a transaction (store_txn_begin) may call
	 * any public function, which takes the lock again */
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	if (store_connect(s, path, e) != 0 || store_configure(s, e) != 0 || store_migrate(s, e) != 0) {
		store_close(s);
		return -1;
	}
	log_info(STORE_LOG_CTX, "opened %s (schema v%d)", path, store_schema_version(s));
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < STORE_STMT__COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_error(STORE_LOG_CTX, "close: %s", sqlite3_errmsg(s->db));
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int store_schema_version(struct store *s)
{
	struct err e;
	int64_t v;
	int rc;

	store_lock(s);
	rc = store_user_version_locked(s, &v, &e);
	store_unlock(s);
	return rc == 0 ? (int)v : -1;
}

int store_txn_begin(struct store *s, struct err *e)
{
	store_lock(s);
	if (s->txn_depth++ > 0)
		return 0;
	s->txn_failed = 0;
	if (store_tx_begin(s, e) != 0) {
		s->txn_depth--;
		store_unlock(s);
		return -1;
	}
	return 0;
}

int store_txn_commit(struct store *s, struct err *e)
{
	int rc = 0;

	if (--s->txn_depth == 0) {
		if (s->txn_failed) {
			store_tx_rollback(s);
			rc = err_set(e, ERR_INTERNAL_ERROR, "transaction rolled back");
		} else {
			rc = store_tx_commit(s, e);
		}
	}
	store_unlock(s);
	return rc;
}

void store_txn_rollback(struct store *s)
{
	if (--s->txn_depth == 0)
		store_tx_rollback(s);
	else
		s->txn_failed = 1;
	store_unlock(s);
}
