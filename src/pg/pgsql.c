/*
 * pgsql.c - SQL to managed instances (see pgsql.h).
 *
 * Connections are made with PQconnectdbParams and expand_dbname = 0, so no
 * value (a database name from a client, say) is ever parsed as a connection
 * string. Statements run through PQexecParams, which also refuses several
 * statements in one string. The only SQL text built here is CREATE/ALTER
 * ROLE, which has no parameter slots: the role name goes through
 * PQescapeIdentifier, the password is first turned into a SCRAM verifier on
 * this side (PQencryptPasswordConn) and that verifier through
 * PQescapeLiteral, and the option list is checked against a fixed keyword
 * set. libpq's messages (which may quote SQL) go to the daemon log only.
 */
#include "pg/pgsql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "pg/pgnode.h"

#define PGSQL_LOG_CTX       "pgsql"
#define PGSQL_NAME_MAX      63       /* NAMEDATALEN - 1 */
#define PGSQL_PASSWORD_MAX  1024
#define PGSQL_OPTIONS_MAX   256
#define PGSQL_SQL_MAX       2048     /* CREATE ROLE text: name + verifier + options */
#define PGSQL_SQLSTATE_DUPLICATE_OBJECT "42710"
#define PGSQL_SQLSTATE_UNDEFINED_OBJECT "42704"

/* ---- connections and statements ------------------------------------------------ */

int pgsql_connect(const struct pgsql_target *t, PGconn **out, struct err *e)
{
	char port[16], timeout[16], options[64];
	const char *keys[] = { "host", "port", "user", "password", "dbname", "sslmode",
			       "connect_timeout", "application_name", "options",
			       "client_encoding", NULL };
	const char *vals[] = { t->host, port, t->user, t->password,
			       t->dbname != NULL ? t->dbname : "postgres", "disable", timeout,
			       "pgfleet", options, "UTF8", NULL };
	PGconn *c;

	*out = NULL;
	if (t->host == NULL || t->user == NULL || t->password == NULL || t->port < 1 ||
	    t->port > 65535)
		return err_set(e, ERR_INTERNAL_ERROR, "bad connection target");
	snprintf(port, sizeof(port), "%d", t->port);
	snprintf(timeout, sizeof(timeout), "%d", PGSQL_CONNECT_TIMEOUT_S);
	snprintf(options, sizeof(options), "-c statement_timeout=%d", PGSQL_STATEMENT_TIMEOUT_MS);
	c = PQconnectdbParams(keys, vals, 0);
	if (c == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (PQstatus(c) != CONNECTION_OK) {
		log_error(PGSQL_LOG_CTX, "connect to %s:%d as %s failed: %s", t->host, t->port, t->user,
			  PQerrorMessage(c));
		PQfinish(c);
		return err_set(e, ERR_INTERNAL_ERROR, "could not connect to the database server");
	}
	*out = c;
	return 0;
}

void pgsql_close(PGconn *c)
{
	if (c != NULL)
		PQfinish(c);
}

int pgsql_exec_state(PGconn *c, const char *sql, int nparams, const char *const *params,
		     PGresult **res, char sqlstate[6], struct err *e)
{
	PGresult *r;
	ExecStatusType st;
	const char *state;

	if (res != NULL)
		*res = NULL;
	if (sqlstate != NULL)
		sqlstate[0] = '\0';
	r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res != NULL)
			*res = r;
		else
			PQclear(r);
		return 0;
	}
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (sqlstate != NULL && state != NULL)
		snprintf(sqlstate, 6, "%s", state);
	log_error(PGSQL_LOG_CTX, "statement failed (%s, SQLSTATE %s): %s", PQresStatus(st),
		  state != NULL ? state : "none", r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	return err_set(e, ERR_INTERNAL_ERROR, "database statement failed");
}

int pgsql_exec(PGconn *c, const char *sql, int nparams, const char *const *params, PGresult **res,
	       struct err *e)
{
	return pgsql_exec_state(c, sql, nparams, params, res, NULL, e);
}

/* ---- roles --------------------------------------------------------------------------- */

static const char *const pgsql_role_keywords[] = {
	"LOGIN", "NOLOGIN", "CREATEDB", "NOCREATEDB", "CREATEROLE", "NOCREATEROLE",
	"INHERIT", "NOINHERIT", "REPLICATION", "NOREPLICATION", "BYPASSRLS", "NOBYPASSRLS",
	"SUPERUSER", "NOSUPERUSER", NULL,
};

/* `options`: NULL or keywords from the list above separated by single spaces. */
static bool pgsql_options_ok(const char *options)
{
	const char *p = options;

	if (options == NULL)
		return true;
	if (strlen(options) > PGSQL_OPTIONS_MAX)
		return false;
	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		bool found = false;
		for (size_t i = 0; pgsql_role_keywords[i] != NULL && !found; i++)
			found = strlen(pgsql_role_keywords[i]) == len &&
				memcmp(pgsql_role_keywords[i], p, len) == 0;
		if (!found)
			return false;
		p += len;
		if (*p == ' ' && *++p == '\0')
			return false;
	}
	return true;
}

/* The pieces of a role statement, escaped; release with pgsql_role_sql_free. */
struct pgsql_role_sql {
	char *ident;
	char *verifier;
	char *literal;
};

static void pgsql_role_sql_free(struct pgsql_role_sql *s)
{
	PQfreemem(s->ident);
	PQfreemem(s->verifier);
	PQfreemem(s->literal);
	memset(s, 0, sizeof(*s));
}

static int pgsql_role_sql_init(PGconn *c, const char *name, const char *password,
			       struct pgsql_role_sql *s, struct err *e)
{
	size_t nlen = name != NULL ? strlen(name) : 0;

	memset(s, 0, sizeof(*s));
	if (nlen == 0 || nlen > PGSQL_NAME_MAX)
		return err_set(e, ERR_INTERNAL_ERROR, "bad role name");
	if (password != NULL && (password[0] == '\0' || strlen(password) > PGSQL_PASSWORD_MAX))
		return err_set(e, ERR_INTERNAL_ERROR, "bad password");
	s->ident = PQescapeIdentifier(c, name, nlen);
	if (password != NULL) {
		s->verifier = PQencryptPasswordConn(c, password, name, "scram-sha-256");
		if (s->verifier != NULL)
			s->literal = PQescapeLiteral(c, s->verifier, strlen(s->verifier));
	}
	if (s->ident == NULL || (password != NULL && s->literal == NULL)) {
		log_error(PGSQL_LOG_CTX, "escaping role %s failed: %s", name, PQerrorMessage(c));
		pgsql_role_sql_free(s);
		return err_set(e, ERR_INTERNAL_ERROR, "could not prepare the role statement");
	}
	return 0;
}

/* Run "<verb> ROLE <ident> WITH <options> PASSWORD <literal>". */
static int pgsql_role_run(PGconn *c, const char *verb, const struct pgsql_role_sql *s,
			  const char *options, char sqlstate[6], struct err *e)
{
	char sql[PGSQL_SQL_MAX];
	int len = snprintf(sql, sizeof(sql), "%s ROLE %s WITH %s%s%s", verb, s->ident,
			   options != NULL ? options : "", options != NULL && options[0] != '\0' ? " " : "",
			   s->literal != NULL ? "PASSWORD " : "");

	if (len < 0 || (size_t)len >= sizeof(sql) ||
	    (s->literal != NULL && strlen(s->literal) >= sizeof(sql) - (size_t)len))
		return err_set(e, ERR_INTERNAL_ERROR, "role statement too long");
	if (s->literal != NULL)
		memcpy(sql + len, s->literal, strlen(s->literal) + 1);
	return pgsql_exec_state(c, sql, 0, NULL, NULL, sqlstate, e);
}

/* 1 when role `name` exists, 0 when not, -1 on error. */
static int pgsql_role_exists(PGconn *c, const char *name, struct err *e)
{
	const char *params[] = { name };
	PGresult *r;
	int n;

	if (pgsql_exec(c, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, params, &r, e) < 0)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

int pgsql_role_ensure(PGconn *c, const char *name, const char *password, const char *options,
		      struct err *e)
{
	char opts[PGSQL_OPTIONS_MAX + 8], state[6];
	struct pgsql_role_sql s;
	int rc, exists;

	if (!pgsql_options_ok(options))
		return err_set(e, ERR_INTERNAL_ERROR, "bad role options");
	if (password == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "bad password");
	snprintf(opts, sizeof(opts), "LOGIN%s%s", options != NULL && options[0] != '\0' ? " " : "",
		 options != NULL ? options : "");
	if (pgsql_role_sql_init(c, name, password, &s, e) < 0)
		return -1;
	exists = pgsql_role_exists(c, name, e);
	rc = exists < 0 ? -1 : pgsql_role_run(c, exists ? "ALTER" : "CREATE", &s, opts, state, e);
	if (rc < 0 && exists == 0 && strcmp(state, PGSQL_SQLSTATE_DUPLICATE_OBJECT) == 0) {
		err_clear(e);   /* created meanwhile by another session */
		rc = pgsql_role_run(c, "ALTER", &s, opts, state, e);
	}
	pgsql_role_sql_free(&s);
	return rc;
}

int pgsql_role_set_password(PGconn *c, const char *name, const char *password, struct err *e)
{
	struct pgsql_role_sql s;
	char state[6];
	int rc;

	if (password == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "bad password");
	if (pgsql_role_sql_init(c, name, password, &s, e) < 0)
		return -1;
	rc = pgsql_role_run(c, "ALTER", &s, "", state, e);
	pgsql_role_sql_free(&s);
	if (rc < 0 && strcmp(state, PGSQL_SQLSTATE_UNDEFINED_OBJECT) == 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_ACCOUNT_NOT_EXIST, NULL);
	return rc;
}

int pgsql_role_grant_admin(PGconn *c, const char *name, struct err *e)
{
	static const char *const grants[] = {
		"GRANT ALL ON SCHEMA public TO %s",
		"GRANT pg_read_all_stats, pg_signal_backend TO %s",
	};
	char sql[512];
	char *ident = PQescapeIdentifier(c, name, strlen(name));
	int rc = 0;

	if (ident == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "cannot quote role name");
	for (size_t i = 0; rc == 0 && i < sizeof(grants) / sizeof(grants[0]); i++) {
		/* the only variable part is the identifier quoted by libpq */
		if (snprintf(sql, sizeof(sql), grants[i], ident) >= (int)sizeof(sql))
			rc = err_set(e, ERR_INTERNAL_ERROR, "role name too long");
		else
			rc = pgsql_exec(c, sql, 0, NULL, NULL, e);
	}
	PQfreemem(ident);
	return rc;
}

int pgsql_role_kick(PGconn *c, const char *name, struct err *e)
{
	const char *params[] = { name };

	/* From PostgreSQL 14 on, wait (up to the statement timeout's share)
	 * until the sessions are really gone, so the caller can rely on it. */
	if (PQserverVersion(c) >= 140000)
		return pgsql_exec(c,
				  "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
				  "WHERE usename = $1 AND pid <> pg_backend_pid()",
				  1, params, NULL, e);
	return pgsql_exec(c,
			  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
			  "WHERE usename = $1 AND pid <> pg_backend_pid()",
			  1, params, NULL, e);
}

/* ---- listings ------------------------------------------------------------------------ */

static json_t *pgsql_text(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

static json_t *pgsql_bool(const PGresult *r, int row, int col)
{
	return json_boolean(!PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't');
}

static json_t *pgsql_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? json_null()
	       : json_integer(strtoll(PQgetvalue(r, row, col), NULL, 10));
}

/* Build a JSON array of objects from `r`: column i becomes key names[i],
 * converted by kinds[i] ('s' text, 'b' boolean, 'i' integer). */
static int pgsql_rows_json(const PGresult *r, const char *const *names, const char *kinds,
			   json_t **out, struct err *e)
{
	json_t *arr = json_array();
	int rows = PQntuples(r);

	for (int i = 0; arr != NULL && i < rows; i++) {
		json_t *o = json_object();
		for (int col = 0; o != NULL && names[col] != NULL; col++) {
			json_t *v = kinds[col] == 'b' ? pgsql_bool(r, i, col)
				    : kinds[col] == 'i' ? pgsql_int(r, i, col) : pgsql_text(r, i, col);
			if (json_object_set_new(o, names[col], v) < 0) {
				json_decref(o);
				o = NULL;
			}
		}
		if (o == NULL || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	*out = arr;
	return arr != NULL ? 0 : err_set(e, ERR_INTERNAL_ERROR, "out of memory");
}

static int pgsql_query_json(PGconn *c, const char *sql, int nparams, const char *const *params,
			    const char *const *names, const char *kinds, json_t **out,
			    struct err *e)
{
	PGresult *r;
	int rc;

	*out = NULL;
	if (pgsql_exec(c, sql, nparams, params, &r, e) < 0)
		return -1;
	if (PQnfields(r) != (int)strlen(kinds)) {
		PQclear(r);
		return err_set(e, ERR_INTERNAL_ERROR, "unexpected result shape");
	}
	rc = pgsql_rows_json(r, names, kinds, out, e);
	PQclear(r);
	return rc;
}

int pgsql_roles_list(PGconn *c, json_t **out, struct err *e)
{
	static const char *const names[] = { "name", "superuser", "createdb", "createrole",
					     "valid_until", NULL };
	const char *params[] = { PGNODE_SUPERUSER };

	return pgsql_query_json(c,
		"SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, "
		"CASE WHEN rolvaliduntil IS NULL OR NOT isfinite(rolvaliduntil) THEN NULL "
		"ELSE to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') END "
		"FROM pg_roles WHERE rolcanlogin AND rolname <> $1 AND rolname NOT LIKE 'pg\\_%' "
		"ORDER BY rolname",
		1, params, names, "sbbbs", out, e);
}

int pgsql_databases_list(PGconn *c, json_t **out, struct err *e)
{
	static const char *const names[] = { "name", "owner", "encoding", "collate", "ctype",
					     "size_bytes", "allow_connections", NULL };

	return pgsql_query_json(c,
		"SELECT d.datname, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), "
		"d.datcollate, d.datctype, "
		"CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END, "
		"d.datallowconn "
		"FROM pg_database d WHERE NOT d.datistemplate ORDER BY d.datname",
		0, NULL, names, "sssssib", out, e);
}

/* A query that returns exactly one row, as one JSON object (see
 * pgsql_query_json for names and types). */
static int pgsql_one_row(PGconn *c, const char *sql, const char *const *names, const char *types, json_t **out,
			 struct err *e)
{
	json_t *rows;

	*out = NULL;
	if (pgsql_query_json(c, sql, 0, NULL, names, types, &rows, e) < 0)
		return -1;
	if (json_array_size(rows) != 1) {
		json_decref(rows);
		return err_set(e, ERR_INTERNAL_ERROR, "unexpected result shape");
	}
	*out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return 0;
}

int pgsql_server_info(PGconn *c, json_t **out, struct err *e)
{
	static const char *const names[] = { "in_recovery", "version", "server_version",
					     "server_version_num", NULL };

	return pgsql_one_row(c,
			     "SELECT pg_is_in_recovery(), version(), "
			     "current_setting('server_version'), "
			     "current_setting('server_version_num')::int",
			     names, "bssi", out, e);
}

int pgsql_node_stats(PGconn *c, json_t **out, struct err *e)
{
	static const char *const names[] = { "connections", "database_size_bytes", "in_recovery", "standbys",
					     "replication_lag_bytes", "archived_count", "failed_count",
					     "last_archived_time", NULL };

	*out = NULL;
	if (pgsql_exec(c, "SET statement_timeout = 2000", 0, NULL, NULL, e) < 0)
		return -1;
	return pgsql_one_row(c,
			     "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
			     "AND pid <> pg_backend_pid())::int, "
			     "(SELECT coalesce(sum(pg_database_size(oid)), 0) FROM pg_database WHERE datallowconn)::bigint, "
			     "pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_replication)::int, "
			     "(SELECT coalesce(max(pg_wal_lsn_diff(sent_lsn, replay_lsn)), 0) FROM pg_stat_replication)::bigint, "
			     "a.archived_count, a.failed_count, extract(epoch FROM a.last_archived_time)::bigint "
			     "FROM pg_stat_archiver a",
			     names, "iibiiiii", out, e);
}
