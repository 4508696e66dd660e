/*
 * store.h - the metadata store: the only module that touches SQLite.
 *
 * One database file (DATA_DIR/pgfleet.db) in WAL mode with synchronous=FULL
 * for resource state, opened once per process. Schema changes are versioned
 * migrations applied in order at open (PRAGMA user_version). Every statement
 * is prepared with bound parameters. All functions are thread-safe: a
 * store-wide mutex serialises access (the HTTP workers and the main loop
 * share one connection).
 */
#ifndef PGFLEET_STORE_STORE_H
#define PGFLEET_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct store;

struct store_tenant {
	int64_t id;        /* row id */
	int64_t app_id;    /* AppId as the cloud shows it (e.g. 1250000001) */
	char uin[24];      /* Uin / OwnerUin, decimal string */
	char name[64];
	int64_t created;   /* unix seconds */
};

#define STORE_SECRET_ID_LEN 36   /* "AKID" + 32 alphanumerics */
#define STORE_SECRET_KEY_LEN 32  /* 32 alphanumerics */
#define STORE_TENANT_NAME_MAX 63 /* fits store_tenant.name */
#define STORE_KEYS_PER_TENANT_MAX 2 /* the cloud allows two key pairs per user */
#define STORE_APP_ID_MIN 1250000000LL /* AppIds are drawn from [MIN, MAX] */
#define STORE_APP_ID_MAX 1259999999LL
#define STORE_UIN_MIN 100000000000LL  /* Uins are 12 decimal digits */
#define STORE_UIN_MAX 999999999999LL

struct store_key {
	char secret_id[STORE_SECRET_ID_LEN + 1];
	char secret_key[STORE_SECRET_KEY_LEN + 1];
};

struct store_request_log {
	char request_id[37];
	char action[64];
	int64_t tenant_id;     /* 0 when the caller was not authenticated */
	char code[80];         /* "" for success, else the error code */
	int64_t latency_us;
	int64_t ts_ms;         /* unix milliseconds at arrival */
	char client_ip[48];
};

/* Open (creating if needed, mode 0600) and migrate the database at `path`.
 * The directory must exist. A database whose schema is newer than this
 * binary knows is refused. Any failure: ERR_INTERNAL_ERROR (detail logged).
 * Free with store_close(). */
int store_open(struct store **out, const char *path, struct err *e);

/* Finalize everything and close; accepts NULL. */
void store_close(struct store *s);

/* Schema version after migrations (for tests and logs); -1 on error. */
int store_schema_version(struct store *s);

/* The schema version this binary migrates to (the number of migrations). */
int store_schema_latest(void);

/* Create a tenant with a fresh AppId/Uin and one key pair (random from
 * OpenSSL RAND_bytes). `name` must be 1-63 chars [A-Za-z0-9_.-] and unique
 * (else ERR_INVALID_PARAMETER_VALUE). */
int store_tenant_create(struct store *s, const char *name, struct store_tenant *tenant,
			struct store_key *key, struct err *e);

/* Number of tenants (0 on a fresh data dir). */
int store_tenant_count(struct store *s, int64_t *count, struct err *e);

/* The tenant called `name`. Unknown (or invalid) name: ERR_RESOURCE_NOT_FOUND. */
int store_tenant_find_by_name(struct store *s, const char *name, struct store_tenant *tenant,
			      struct err *e);

/* Give tenant `tenant_id` another key pair (enabled). Unknown tenant:
 * ERR_RESOURCE_NOT_FOUND; already STORE_KEYS_PER_TENANT_MAX keys (enabled
 * or disabled, as the cloud counts them): ERR_LIMIT_EXCEEDED. */
int store_key_create(struct store *s, int64_t tenant_id, struct store_key *key, struct err *e);

/* Enable (1) or disable (0) a key; a disabled key no longer authenticates.
 * Unknown id: ERR_RESOURCE_NOT_FOUND. */
int store_key_set_enabled(struct store *s, const char *secret_id, int enabled, struct err *e);

/* The tenant owning `secret_id` and the key's secret. Unknown or disabled
 * id: ERR_AUTH_FAILURE_SECRET_ID_NOT_FOUND. */
int store_key_lookup(struct store *s, const char *secret_id, struct store_tenant *tenant,
		     struct store_key *key, struct err *e);

/* Append audit rows in one transaction (all or none). Strings are read up
 * to their array size; tenant_id 0 is stored as NULL. */
int store_request_log_append(struct store *s, const struct store_request_log *rows, size_t n,
			     struct err *e);

/* Count audit rows (optionally for one action; NULL = all). */
int store_request_log_count(struct store *s, const char *action, int64_t *count, struct err *e);

/* Delete audit rows older than `before_ms`. */
int store_request_log_prune(struct store *s, int64_t before_ms, struct err *e);

/* ---- transactions spanning several calls ----
 * store_txn_begin() takes the store lock and opens a write transaction;
 * every public function may be called inside it (the lock is recursive);
 * commit or rollback ends it and releases the lock. Used to write a task's
 * step and the resource it changes atomically. */
int store_txn_begin(struct store *s, struct err *e);
int store_txn_commit(struct store *s, struct err *e);
void store_txn_rollback(struct store *s);

/* ---- resources: documents keyed by (kind, id) ---- */

#define STORE_KIND_MAX 24
#define STORE_ID_MAX 64
#define STORE_STATUS_MAX 32

struct store_res {
	char kind[STORE_KIND_MAX];
	char id[STORE_ID_MAX];
	int64_t tenant_id;
	char status[STORE_STATUS_MAX];
	json_t *doc;          /* owned (store_res_free) */
	int64_t created;      /* unix seconds */
	int64_t updated;
	int64_t rev;          /* bumped by every update */
};

/* Insert a new resource (created/updated set to now, rev 1). An existing
 * (kind, id): ERR_RESOURCE_IN_USE. */
int store_res_insert(struct store *s, const struct store_res *r, struct err *e);

/* Read one resource; tenant_id 0 = any tenant. Absent (or another tenant's):
 * ERR_RESOURCE_NOT_FOUND. out->doc is owned by the caller. */
int store_res_get(struct store *s, const char *kind, const char *id, int64_t tenant_id,
		  struct store_res *out, struct err *e);

/* All resources of a kind (tenant_id 0 = all tenants), oldest first.
 * *out is an array the caller frees with store_res_list_free(). */
int store_res_list(struct store *s, const char *kind, int64_t tenant_id, struct store_res **out,
		   size_t *n, struct err *e);

/* Write status and doc when the stored rev still equals r->rev (optimistic
 * concurrency); bumps rev and updated. A stale rev: ERR_FAILED_OPERATION
 * ("changed concurrently"); absent: ERR_RESOURCE_NOT_FOUND. On success
 * r->rev and r->updated are refreshed. */
int store_res_update(struct store *s, struct store_res *r, struct err *e);

int store_res_delete(struct store *s, const char *kind, const char *id, struct err *e);

/* Read-modify-write in one transaction: read (kind, id) (tenant_id 0 =
 * any), call fn on it (fn may change status and doc, or fail), write it
 * back. Errors as store_res_get, or whatever fn set. */
int store_res_modify(struct store *s, const char *kind, const char *id, int64_t tenant_id,
		     int (*fn)(struct store_res *r, void *arg, struct err *e), void *arg,
		     struct err *e);

void store_res_free(struct store_res *r);
void store_res_list_free(struct store_res *list, size_t n);

/* ---- private addresses (VIPs) ---- */

/* Allocate the lowest free IPv4 address in [first, last] (dotted strings,
 * same /8) to `owner` into out[16]; an owner that already has one gets it
 * again. None free: ERR_RESOURCE_INSUFFICIENT. */
int store_addr_alloc(struct store *s, const char *first, const char *last, const char *owner,
		     char out[16], struct err *e);

/* Release every address of `owner` (idempotent). */
int store_addr_release(struct store *s, const char *owner, struct err *e);

/* ---- tasks: the durable task engine's rows ---- */

enum store_task_state { STORE_TASK_RUNNING, STORE_TASK_SUCCEEDED, STORE_TASK_FAILED };

struct store_task {
	int64_t id;
	int64_t tenant_id;
	char kind[48];
	char resource[STORE_ID_MAX];
	enum store_task_state state;
	int step;
	json_t *params;       /* owned */
	char error_code[80];
	char error_msg[512];
	int64_t created;
	int64_t updated;
};

/* Insert a running task at step 0; t->id receives its id. */
int store_task_insert(struct store *s, struct store_task *t, struct err *e);

int store_task_get(struct store *s, int64_t id, struct store_task *out, struct err *e);

/* Every running task, oldest first (to resume after a restart). */
int store_task_list_running(struct store *s, struct store_task **out, size_t *n, struct err *e);

/* Write state, step, params and error of t (by id). */
int store_task_update(struct store *s, const struct store_task *t, struct err *e);

/* The id of the running task on `resource`, or 0 when none. */
int store_task_running_for(struct store *s, const char *resource, int64_t *id, struct err *e);

/* How many tasks there are per kind and state: a new JSON array of
 * {"kind": s, "state": "running"|"succeeded"|"failed", "count": n}
 * ordered by kind and state (for the metrics page). */
int store_task_counts(struct store *s, json_t **out, struct err *e);

void store_task_free(struct store_task *t);
void store_task_list_free(struct store_task *list, size_t n);

#endif
