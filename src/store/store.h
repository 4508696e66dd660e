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

#endif
