/*
 * pgsql.h - SQL to managed instances, through libpq. The only module that
 * talks SQL to PostgreSQL servers. Values always travel as libpq parameters;
 * where SQL has no parameter slot (role names in CREATE/ALTER ROLE, the
 * password literal) identifiers go through PQescapeIdentifier after being
 * checked against the documented grammar by the caller, and passwords are
 * turned into a SCRAM verifier on the client side (PQencryptPasswordConn)
 * so that the plain text never reaches the server or its logs.
 */
#ifndef PGFLEET_PG_PGSQL_H
#define PGFLEET_PG_PGSQL_H

#include <jansson.h>
#include <libpq-fe.h>

#include "core/err.h"

#define PGSQL_CONNECT_TIMEOUT_S 5
#define PGSQL_STATEMENT_TIMEOUT_MS 30000

struct pgsql_target {
	const char *host;      /* 127.x.y.z */
	int port;
	const char *user;
	const char *password;
	const char *dbname;    /* NULL: "postgres" */
};

/* Connect (sslmode=disable on loopback, connect_timeout, statement_timeout,
 * application_name=pgfleet). ERR_INTERNAL_ERROR with the libpq message logged. */
int pgsql_connect(const struct pgsql_target *t, PGconn **out, struct err *e);
void pgsql_close(PGconn *c);

/* Run `sql` with text parameters; *res (may be NULL to discard) must be
 * PQclear'ed by the caller. Fails on any status other than COMMAND_OK /
 * TUPLES_OK. */
int pgsql_exec(PGconn *c, const char *sql, int nparams, const char *const *params, PGresult **res,
	       struct err *e);

/* pgsql_exec that also reports the server's SQLSTATE of a failure (e.g.
 * "42P04" duplicate_database) in sqlstate (empty when there is none), so a
 * caller can turn a known condition into its own error code. */
int pgsql_exec_state(PGconn *c, const char *sql, int nparams, const char *const *params,
		     PGresult **res, char sqlstate[6], struct err *e);

/* CREATE ROLE name LOGIN PASSWORD <scram verifier> plus fixed `options`
 * (a constant keyword list such as "CREATEDB CREATEROLE", never user input;
 * anything but space-separated role keywords such as CREATEDB, NOINHERIT,
 * REPLICATION is refused). Idempotent: an existing role just gets the
 * password and options. name: 1..63 bytes; password: 1..1024 bytes. */
int pgsql_role_ensure(PGconn *c, const char *name, const char *password, const char *options,
		      struct err *e);

/* ALTER ROLE name PASSWORD <scram verifier>. A missing role gives
 * ERR_INVALID_PARAMETER_VALUE_ACCOUNT_NOT_EXIST. Sessions already open stay
 * open: see pgsql_role_kick. */
int pgsql_role_set_password(PGconn *c, const char *name, const char *password, struct err *e);

/* What the instance's admin account may do besides its role options:
 * create objects in the `public` schema of the connected database (which
 * PostgreSQL 15 no longer grants to everyone), read statistics and signal
 * other sessions (pg_read_all_stats, pg_signal_backend). */
int pgsql_role_grant_admin(PGconn *c, const char *name, struct err *e);

/* Terminate every session of role `name` (used after a password reset so
 * the old password stops working at once). On PostgreSQL 14+ it returns
 * once the sessions have ended (or after 5 s per session). */
int pgsql_role_kick(PGconn *c, const char *name, struct err *e);

/* Roles that can log in, except the service's own (PGNODE_SUPERUSER) and
 * the pg_* roles, ordered by name, as a JSON array of objects {"name": s,
 * "superuser": b, "createdb": b, "createrole": b, "valid_until": s|null}
 * (valid_until "YYYY-MM-DD HH:MM:SS" UTC; null when unset or infinite).
 * PostgreSQL keeps no creation time: the store has it. */
int pgsql_roles_list(PGconn *c, json_t **out, struct err *e);

/* Databases other than templates, ordered by name: JSON array of {"name",
 * "owner", "encoding" (e.g. "UTF8"), "collate", "ctype", "size_bytes" (int,
 * null without CONNECT privilege), "allow_connections" (bool)}. */
int pgsql_databases_list(PGconn *c, json_t **out, struct err *e);

/* SELECT pg_is_in_recovery(), version(), current_setting('server_version'):
 * one JSON object {"in_recovery": b, "version": s, "server_version": s,
 * "server_version_num": i}. */
int pgsql_server_info(PGconn *c, json_t **out, struct err *e);

/* Live figures of the server for the metrics page (2 s statement timeout):
 * one JSON object {"connections": client sessions other than this one,
 * "database_size_bytes": all databases that accept connections,
 * "in_recovery": b, "standbys": rows of pg_stat_replication,
 * "replication_lag_bytes": the largest sent - replayed distance,
 * "archived_count", "failed_count": pg_stat_archiver's counters,
 * "last_archived_time": unix seconds or null}. */
int pgsql_node_stats(PGconn *c, json_t **out, struct err *e);

#endif
