/*
 * store_tenant.c - tenants and their API key pairs.
 *
 * A tenant is what the cloud calls an account: a name (ours), an AppId
 * (10 digits, 125xxxxxxx), a Uin (12 digits) and up to two key pairs.
 * AppId, Uin and keys are drawn from OpenSSL's RAND_bytes: the numbers
 * uniformly from their ranges and the key characters uniformly from
 * [A-Za-z0-9], both by rejection sampling so that no value is favoured.
 * A collision with an existing row (a UNIQUE constraint) is retried with a
 * fresh draw inside the same transaction.
 */
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define STORE_DRAW_RETRIES 16    /* fresh draws after a UNIQUE collision */
#define STORE_RAND_CHUNK 64      /* bytes fetched per RAND_bytes call */

static const char store_alnum[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
#define STORE_ALNUM_N (sizeof(store_alnum) - 1)
/* Bytes at or above this are rejected: it is the largest multiple of 62
 * that fits in a byte, so b % 62 is uniform below it. */
#define STORE_ALNUM_LIMIT ((256 / STORE_ALNUM_N) * STORE_ALNUM_N)

static int store_rand_bytes(void *buf, size_t n, struct err *e)
{
	if (RAND_bytes(buf, (int)n) != 1) {
		log_error(STORE_LOG_CTX, "RAND_bytes failed");
		return err_set(e, ERR_INTERNAL_ERROR, NULL);
	}
	return 0;
}

/* A uniform integer in [0, n), n > 0: draws below 2^64 mod n are rejected
 * so that the remaining range is a whole number of copies of [0, n). */
static int store_rand_below(uint64_t n, uint64_t *out, struct err *e)
{
	uint64_t threshold = (0 - n) % n;
	uint64_t x;

	do {
		if (store_rand_bytes(&x, sizeof(x), e) != 0)
			return -1;
	} while (x < threshold);
	*out = x % n;
	return 0;
}

/* Fill dst[0..n) with uniform [A-Za-z0-9] and terminate it at dst[n]. */
static int store_rand_alnum(char *dst, size_t n, struct err *e)
{
	unsigned char buf[STORE_RAND_CHUNK];
	size_t used = sizeof(buf), i = 0;

	while (i < n) {
		if (used == sizeof(buf)) {
			if (store_rand_bytes(buf, sizeof(buf), e) != 0)
				return -1;
			used = 0;
		}
		if (buf[used] < STORE_ALNUM_LIMIT)
			dst[i++] = store_alnum[buf[used] % STORE_ALNUM_N];
		used++;
	}
	dst[n] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int store_rand_key(struct store_key *key, struct err *e)
{
	memcpy(key->secret_id, "AKID", 4);
	if (store_rand_alnum(key->secret_id + 4, STORE_SECRET_ID_LEN - 4, e) != 0)
		return -1;
	return store_rand_alnum(key->secret_key, STORE_SECRET_KEY_LEN, e);
}

/* 1 when `name` is 1..STORE_TENANT_NAME_MAX chars of [A-Za-z0-9_.-]. */
static int store_tenant_name_valid(const char *name)
{
	size_t n;

	if (name == NULL)
		return 0;
	n = strnlen(name, STORE_TENANT_NAME_MAX + 1);
	if (n == 0 || n > STORE_TENANT_NAME_MAX)
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_.-") == n;
}

static int store_is_constraint(int rc)
{
	return (rc & 0xff) == SQLITE_CONSTRAINT;
}

/* Read columns (id, app_id, uin, name, created) from the current row. */
static void store_tenant_read(sqlite3_stmt *st, struct store_tenant *t)
{
	t->id = sqlite3_column_int64(st, 0);
	t->app_id = sqlite3_column_int64(st, 1);
	store_column_copy(st, 2, t->uin, sizeof(t->uin));
	store_column_copy(st, 3, t->name, sizeof(t->name));
	t->created = sqlite3_column_int64(st, 4);
}

/* Insert one fresh key for `tenant_id` (in the caller's transaction),
 * redrawing on a secret_id collision. */
static int store_key_insert_locked(struct store *s, int64_t tenant_id, struct store_key *key,
				   struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_KEY_INSERT,
				      "INSERT INTO api_keys (secret_id, tenant_id, secret_key, created)"
				      " VALUES (?1, ?2, ?3, ?4)", e);
	int rc = SQLITE_CONSTRAINT;

	if (st == NULL)
		return -1;
	for (int i = 0; i < STORE_DRAW_RETRIES && store_is_constraint(rc); i++) {
		if (store_rand_key(key, e) != 0)
			return -1;
		sqlite3_reset(st);
		if (store_bind_text(st, 1, key->secret_id, sizeof(key->secret_id)) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, tenant_id) != SQLITE_OK ||
		    store_bind_text(st, 3, key->secret_key, sizeof(key->secret_key)) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 4, (int64_t)time(NULL)) != SQLITE_OK)
			return store_fail(s, "bind key", e);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		store_fail(s, "insert key", e);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* Draw an AppId and a Uin for `t` and bind the insert's parameters. */
static int store_tenant_draw_bind(struct store *s, sqlite3_stmt *st, struct store_tenant *t,
				  struct err *e)
{
	uint64_t app, uin;

	if (store_rand_below(STORE_APP_ID_MAX - STORE_APP_ID_MIN + 1, &app, e) != 0 ||
	    store_rand_below(STORE_UIN_MAX - STORE_UIN_MIN + 1, &uin, e) != 0)
		return -1;
	t->app_id = STORE_APP_ID_MIN + (int64_t)app;
	snprintf(t->uin, sizeof(t->uin), "%lld", STORE_UIN_MIN + (long long)uin);
	sqlite3_reset(st);
	if (store_bind_text(st, 1, t->name, sizeof(t->name)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, t->app_id) != SQLITE_OK ||
	    store_bind_text(st, 3, t->uin, sizeof(t->uin)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, t->created) != SQLITE_OK)
		return store_fail(s, "bind tenant", e);
	return 0;
}

/* Insert tenant `t` (name set) with a fresh AppId/Uin, redrawing on a
 * collision; the name is known to be free. Fills id/app_id/uin/created. */
static int store_tenant_insert_locked(struct store *s, struct store_tenant *t, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TENANT_INSERT,
				      "INSERT INTO tenants (name, app_id, uin, created)"
				      " VALUES (?1, ?2, ?3, ?4)", e);
	int rc = SQLITE_CONSTRAINT;

	if (st == NULL)
		return -1;
	t->created = (int64_t)time(NULL);
	for (int i = 0; i < STORE_DRAW_RETRIES && store_is_constraint(rc); i++) {
		if (store_tenant_draw_bind(s, st, t, e) != 0)
			return -1;
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		store_fail(s, "insert tenant", e);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	t->id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

/* 1 if a tenant called `name` exists, 0 if not, -1 on error. */
static int store_tenant_name_taken(struct store *s, const char *name, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TENANT_NAME_EXISTS,
				      "SELECT count(*) FROM tenants WHERE name = ?1", e);
	int64_t n;

	if (st == NULL)
		return -1;
	if (store_bind_text(st, 1, name, STORE_TENANT_NAME_MAX + 1) != SQLITE_OK)
		return store_fail(s, "bind name", e);
	if (store_step_int64(s, st, &n, "find tenant name", e) != 0)
		return -1;
	return n > 0;
}

static int store_tenant_create_locked(struct store *s, struct store_tenant *t,
				      struct store_key *key, struct err *e)
{
	int taken;

	if (store_tx_begin(s, e) != 0)
		return -1;
	taken = store_tenant_name_taken(s, t->name, e);
	if (taken == 1)
		err_set(e, ERR_INVALID_PARAMETER_VALUE, "tenant %s already exists", t->name);
	if (taken != 0 || store_tenant_insert_locked(s, t, e) != 0 ||
	    store_key_insert_locked(s, t->id, key, e) != 0) {
		store_tx_rollback(s);
		return -1;
	}
	return store_tx_commit(s, e);
}

int store_tenant_create(struct store *s, const char *name, struct store_tenant *tenant,
			struct store_key *key, struct err *e)
{
	struct store_tenant t = { 0 };
	struct store_key k = { { 0 }, { 0 } };
	int rc;

	if (!store_tenant_name_valid(name))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "tenant name must be 1-%d characters of [A-Za-z0-9_.-]",
			       STORE_TENANT_NAME_MAX);
	memcpy(t.name, name, strlen(name) + 1);
	store_lock(s);
	rc = store_tenant_create_locked(s, &t, &k, e);
	store_unlock(s);
	if (rc == 0) {
		log_info(STORE_LOG_CTX, "tenant %s created (id %lld, AppId %lld, Uin %s)", t.name,
			 (long long)t.id, (long long)t.app_id, t.uin);
		if (tenant != NULL)
			*tenant = t;
		if (key != NULL)
			*key = k;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

int store_tenant_count(struct store *s, int64_t *count, struct err *e)
{
	sqlite3_stmt *st;
	int rc = -1;

	store_lock(s);
	st = store_stmt(s, STORE_STMT_TENANT_COUNT, "SELECT count(*) FROM tenants", e);
	if (st != NULL)
		rc = store_step_int64(s, st, count, "count tenants", e);
	store_unlock(s);
	return rc;
}

static int store_tenant_by_name_locked(struct store *s, const char *name,
				       struct store_tenant *tenant, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TENANT_BY_NAME,
				      "SELECT id, app_id, uin, name, created FROM tenants"
				      " WHERE name = ?1", e);
	int rc;

	if (st == NULL)
		return -1;
	if (store_bind_text(st, 1, name, STORE_TENANT_NAME_MAX + 1) != SQLITE_OK)
		return store_fail(s, "bind name", e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_tenant_read(st, tenant);
	else if (rc == SQLITE_DONE)
		err_set(e, ERR_RESOURCE_NOT_FOUND, "tenant %s not found", name);
	else
		store_fail(s, "find tenant", e);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_tenant_find_by_name(struct store *s, const char *name, struct store_tenant *tenant,
			      struct err *e)
{
	int rc;

	if (!store_tenant_name_valid(name))
		return err_set(e, ERR_RESOURCE_NOT_FOUND, "tenant not found");
	store_lock(s);
	rc = store_tenant_by_name_locked(s, name, tenant, e);
	store_unlock(s);
	return rc;
}

/* Run the cached one-parameter count query `id`/`sql` with `param`. */
static int store_count_by_id(struct store *s, enum store_stmt id, const char *sql, int64_t param,
			     int64_t *out, struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, id, sql, e);

	if (st == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, param) != SQLITE_OK)
		return store_fail(s, "bind id", e);
	return store_step_int64(s, st, out, "count", e);
}

/* The number of keys of `tenant_id`, or -1 with ERR_RESOURCE_NOT_FOUND when
 * there is no such tenant (or on error). */
static int64_t store_key_count_locked(struct store *s, int64_t tenant_id, struct err *e)
{
	int64_t n;

	if (store_count_by_id(s, STORE_STMT_TENANT_EXISTS,
			      "SELECT count(*) FROM tenants WHERE id = ?1", tenant_id, &n, e) != 0)
		return -1;
	if (n == 0)
		return err_set(e, ERR_RESOURCE_NOT_FOUND, "tenant %lld not found",
			       (long long)tenant_id);
	if (store_count_by_id(s, STORE_STMT_KEY_COUNT,
			      "SELECT count(*) FROM api_keys WHERE tenant_id = ?1", tenant_id, &n,
			      e) != 0)
		return -1;
	return n;
}

static int store_key_create_locked(struct store *s, int64_t tenant_id, struct store_key *key,
				   struct err *e)
{
	int64_t n;

	if (store_tx_begin(s, e) != 0)
		return -1;
	n = store_key_count_locked(s, tenant_id, e);
	if (n >= STORE_KEYS_PER_TENANT_MAX)
		err_set(e, ERR_LIMIT_EXCEEDED, "a tenant may have at most %d key pairs",
			STORE_KEYS_PER_TENANT_MAX);
	if (n < 0 || n >= STORE_KEYS_PER_TENANT_MAX ||
	    store_key_insert_locked(s, tenant_id, key, e) != 0) {
		store_tx_rollback(s);
		return -1;
	}
	return store_tx_commit(s, e);
}

int store_key_create(struct store *s, int64_t tenant_id, struct store_key *key, struct err *e)
{
	struct store_key k = { { 0 }, { 0 } };
	int rc;

	store_lock(s);
	rc = store_key_create_locked(s, tenant_id, &k, e);
	store_unlock(s);
	if (rc == 0) {
		log_info(STORE_LOG_CTX, "tenant %lld: key %s created", (long long)tenant_id,
			 k.secret_id);
		*key = k;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

static int store_key_set_enabled_locked(struct store *s, const char *secret_id, int enabled,
					struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_KEY_SET_STATUS,
				      "UPDATE api_keys SET status = ?2 WHERE secret_id = ?1", e);
	const char *status = enabled ? "enabled" : "disabled";

	if (st == NULL)
		return -1;
	if (store_bind_text(st, 1, secret_id, STORE_SECRET_ID_LEN) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC) != SQLITE_OK)
		return store_fail(s, "bind key status", e);
	if (store_step_done(s, st, "update key status", e) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return err_set(e, ERR_RESOURCE_NOT_FOUND, "key not found");
	log_info(STORE_LOG_CTX, "key %s %s", secret_id, status);
	return 0;
}

int store_key_set_enabled(struct store *s, const char *secret_id, int enabled, struct err *e)
{
	int rc;

	if (secret_id == NULL || strnlen(secret_id, STORE_SECRET_ID_LEN + 1) > STORE_SECRET_ID_LEN)
		return err_set(e, ERR_RESOURCE_NOT_FOUND, "key not found");
	store_lock(s);
	rc = store_key_set_enabled_locked(s, secret_id, enabled, e);
	store_unlock(s);
	return rc;
}

static int store_key_lookup_locked(struct store *s, const char *secret_id,
				   struct store_tenant *tenant, struct store_key *key,
				   struct err *e)
{
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_KEY_LOOKUP,
				      "SELECT t.id, t.app_id, t.uin, t.name, t.created, k.secret_key"
				      " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
				      " WHERE k.secret_id = ?1 AND k.status = 'enabled'", e);
	int rc;

	if (st == NULL)
		return -1;
	if (store_bind_text(st, 1, secret_id, STORE_SECRET_ID_LEN) != SQLITE_OK)
		return store_fail(s, "bind secret id", e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_tenant_read(st, tenant);
		memcpy(key->secret_id, secret_id, strlen(secret_id) + 1);
		store_column_copy(st, 5, key->secret_key, sizeof(key->secret_key));
	} else if (rc == SQLITE_DONE) {
		err_set(e, ERR_AUTH_FAILURE_SECRET_ID_NOT_FOUND, NULL);
	} else {
		store_fail(s, "key lookup", e);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_key_lookup(struct store *s, const char *secret_id, struct store_tenant *tenant,
		     struct store_key *key, struct err *e)
{
	int rc;

	if (secret_id == NULL || secret_id[0] == '\0' ||
	    strnlen(secret_id, STORE_SECRET_ID_LEN + 1) > STORE_SECRET_ID_LEN)
		return err_set(e, ERR_AUTH_FAILURE_SECRET_ID_NOT_FOUND, NULL);
	store_lock(s);
	rc = store_key_lookup_locked(s, secret_id, tenant, key, e);
	store_unlock(s);
	return rc;
}
