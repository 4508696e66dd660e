/*
 * store_migrate.c - the schema, as an ordered list of migrations.
 *
 * Migration N is a static SQL script that moves the schema from version N-1
 * to N and ends with `PRAGMA user_version = N` (a literal: PRAGMA takes no
 * bound parameters, and SQL is never built by formatting). Each runs in its
 * own BEGIN IMMEDIATE transaction which re-reads user_version first, so two
 * processes opening a fresh file at once apply every migration exactly once.
 *
 * To change the schema, append a migration; never edit a shipped one.
 */
#include "store/store_int.h"

#include "core/log.h"

struct store_migration {
	int version;
	const char *sql;
};

static const struct store_migration store_migrations[] = {
	{ 1,
	  "CREATE TABLE tenants ("
	  "  id      INTEGER PRIMARY KEY,"
	  "  name    TEXT NOT NULL UNIQUE,"
	  "  app_id  INTEGER NOT NULL UNIQUE,"
	  "  uin     TEXT NOT NULL UNIQUE,"
	  "  created INTEGER NOT NULL"
	  ");"
	  "CREATE TABLE api_keys ("
	  "  secret_id  TEXT PRIMARY KEY,"
	  "  tenant_id  INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	  "  secret_key TEXT NOT NULL,"
	  "  status     TEXT NOT NULL DEFAULT 'enabled'"
	  "             CHECK (status IN ('enabled', 'disabled')),"
	  "  created    INTEGER NOT NULL"
	  ");"
	  "CREATE INDEX api_keys_tenant ON api_keys(tenant_id);"
	  /* No foreign key on tenant_id: the audit trail outlives tenants and
	   * an append must never fail on a reference. */
	  "CREATE TABLE request_log ("
	  "  id         INTEGER PRIMARY KEY,"
	  "  ts_ms      INTEGER NOT NULL,"
	  "  request_id TEXT NOT NULL,"
	  "  tenant_id  INTEGER,"
	  "  action     TEXT NOT NULL,"
	  "  code       TEXT NOT NULL DEFAULT '',"
	  "  latency_us INTEGER NOT NULL,"
	  "  client_ip  TEXT NOT NULL DEFAULT ''"
	  ");"
	  "CREATE INDEX request_log_ts ON request_log(ts_ms);"
	  "CREATE INDEX request_log_action ON request_log(action);"
	  "PRAGMA user_version = 1;" },
	/* Resources are documents: the columns hold what is looked up or
	 * constrained (kind, id, owner, status), the JSON doc the rest, so a new
	 * resource field needs no migration. */
	{ 2,
	  "CREATE TABLE resources ("
	  "  kind      TEXT NOT NULL,"
	  "  id        TEXT NOT NULL,"
	  "  tenant_id INTEGER NOT NULL REFERENCES tenants(id),"
	  "  status    TEXT NOT NULL DEFAULT '',"
	  "  doc       TEXT NOT NULL,"
	  "  created   INTEGER NOT NULL,"
	  "  updated   INTEGER NOT NULL,"
	  "  rev       INTEGER NOT NULL DEFAULT 1,"
	  "  PRIMARY KEY (kind, id)"
	  ");"
	  "CREATE INDEX resources_tenant ON resources(kind, tenant_id);"
	  /* private addresses (VIPs) and their owners; one row per address */
	  "CREATE TABLE addresses ("
	  "  addr  TEXT PRIMARY KEY,"
	  "  owner TEXT NOT NULL"
	  ");"
	  "CREATE INDEX addresses_owner ON addresses(owner);"
	  "CREATE TABLE tasks ("
	  "  id        INTEGER PRIMARY KEY,"
	  "  tenant_id INTEGER,"
	  "  kind      TEXT NOT NULL,"
	  "  resource  TEXT NOT NULL,"
	  "  state     TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),"
	  "  step      INTEGER NOT NULL DEFAULT 0,"
	  "  params    TEXT NOT NULL DEFAULT '{}',"
	  "  error_code TEXT NOT NULL DEFAULT '',"
	  "  error_msg TEXT NOT NULL DEFAULT '',"
	  "  created   INTEGER NOT NULL,"
	  "  updated   INTEGER NOT NULL"
	  ");"
	  "CREATE INDEX tasks_state ON tasks(state);"
	  "CREATE INDEX tasks_resource ON tasks(resource);"
	  "PRAGMA user_version = 2;" },
};

#define STORE_MIGRATION_COUNT ((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

int store_schema_latest(void)
{
	return STORE_MIGRATION_COUNT;
}

/* Run script `m` and check that it left user_version at m->version. */
static int store_migration_run(struct store *s, const struct store_migration *m, struct err *e)
{
	int64_t v;

	if (sqlite3_exec(s->db, m->sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, "migration", e);
	if (store_user_version_locked(s, &v, e) != 0)
		return -1;
	if (v != m->version) {
		log_error(STORE_LOG_CTX, "migration %d left user_version at %lld", m->version,
			  (long long)v);
		return err_set(e, ERR_INTERNAL_ERROR, NULL);
	}
	log_info(STORE_LOG_CTX, "schema migrated to v%d", m->version);
	return 0;
}

/* Apply `m` in its own transaction unless the schema is already there. */
static int store_migration_apply(struct store *s, const struct store_migration *m, struct err *e)
{
	int64_t v;

	if (store_tx_begin(s, e) != 0)
		return -1;
	if (store_user_version_locked(s, &v, e) != 0)
		goto fail;
	if (v >= m->version)
		return store_tx_commit(s, e);
	if (v != m->version - 1) {
		log_error(STORE_LOG_CTX, "schema v%lld cannot take migration %d", (long long)v,
			  m->version);
		err_set(e, ERR_INTERNAL_ERROR, NULL);
		goto fail;
	}
	if (store_migration_run(s, m, e) != 0)
		goto fail;
	return store_tx_commit(s, e);
fail:
	store_tx_rollback(s);
	return -1;
}

int store_migrate(struct store *s, struct err *e)
{
	int64_t v;

	if (store_user_version_locked(s, &v, e) != 0)
		return -1;
	if (v > STORE_MIGRATION_COUNT) {
		log_error(STORE_LOG_CTX, "schema v%lld is newer than this binary (v%d)",
			  (long long)v, STORE_MIGRATION_COUNT);
		return err_set(e, ERR_INTERNAL_ERROR, NULL);
	}
	for (int i = 0; i < STORE_MIGRATION_COUNT; i++) {
		if (store_migrations[i].version != i + 1) {
			log_error(STORE_LOG_CTX, "migration table out of order at %d", i);
			return err_set(e, ERR_INTERNAL_ERROR, NULL);
		}
		if (store_migration_apply(s, &store_migrations[i], e) != 0)
			return -1;
	}
	return 0;
}
