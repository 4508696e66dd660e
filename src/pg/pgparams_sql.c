/*
 * pgparams_sql.c - the settings of a running server (pg_settings and
 * pg_file_settings, both superuser views), changing them with ALTER SYSTEM,
 * and postgresql.auto.conf itself, which ALTER SYSTEM owns and which is
 * read and written here only to undo a change while the server is down.
 *
 * ALTER SYSTEM takes no parameters, so its text is built here: the name is
 * checked against the setting-name grammar and quoted part by part with
 * PQescapeIdentifier, the value (already canonical, see pgparams_check) is
 * re-checked for control characters and quoted with PQescapeLiteral. List
 * settings (shared_preload_libraries) are sent as a list of literals, one
 * per item: a single literal 'a,b' would be stored as the one name "a,b".
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "pg/pgparams_int.h"
#include "pg/pgsql.h"

#define PGPARAMS_SQL_MAX      (4 * PGPARAMS_VALUE_MAX + 256)
#define PGPARAMS_AUTOCONF     "postgresql.auto.conf"
#define PGPARAMS_AUTOCONF_MAX (1024 * 1024)

/* ---- reading a server's settings ------------------------------------------ */

static json_t *pgparams_row(const PGresult *r, int i, const char *setting, const char *dflt)
{
	return json_pack("{s:s, s:s, s:s, s:b, s:s}", "setting", setting, "context", PQgetvalue(r, i, 2),
			 "source", PQgetvalue(r, i, 3), "pending_restart", PQgetvalue(r, i, 4)[0] == 't', "default",
			 dflt);
}

static bool pgparams_is_autoconf(const char *file)
{
	size_t fl = strlen(file), al = strlen(PGPARAMS_AUTOCONF);

	return fl >= al && strcmp(file + fl - al, PGPARAMS_AUTOCONF) == 0;
}

/* name (lower case) -> {"default": text of the last line outside
 * postgresql.auto.conf, "current": text of the last applied line}, from
 * pg_file_settings. */
static int pgparams_file_values(PGconn *conn, json_t **out, struct err *e)
{
	PGresult *r;
	char key[PGPARAMS_NAME_MAX + 1];

	*out = NULL;
	if (pgsql_exec(conn, "SELECT name, setting, sourcefile, applied FROM pg_file_settings WHERE error IS NULL "
			     "ORDER BY seqno", 0, NULL, &r, e) < 0)
		return -1;
	*out = json_object();
	for (int i = 0; i < PQntuples(r) && i < PGPARAMS_SETTINGS_MAX; i++) {
		json_t *v;
		if (strlen(PQgetvalue(r, i, 0)) > PGPARAMS_NAME_MAX)
			continue;
		snprintf(key, sizeof(key), "%s", PQgetvalue(r, i, 0));
		for (char *p = key; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if ((v = json_object_get(*out, key)) == NULL)
			json_object_set_new(*out, key, v = json_object());
		if (!pgparams_is_autoconf(PQgetvalue(r, i, 2)))
			json_object_set_new(v, "default", json_string(PQgetvalue(r, i, 1)));
		if (PQgetvalue(r, i, 3)[0] == 't')
			json_object_set_new(v, "current", json_string(PQgetvalue(r, i, 1)));
	}
	PQclear(r);
	return 0;
}

/* Sources that belong to this session, not to the server. */
static bool pgparams_session_source(const char *source)
{
	static const char *const ours[] = { "client", "session", "database", "user", "database user", NULL };

	for (size_t i = 0; ours[i] != NULL; i++)
		if (strcmp(source, ours[i]) == 0)
			return true;
	return false;
}

/* `text` (a file value, or NULL) in pg_settings form, else `fallback`. */
static void pgparams_file_form(const struct pgparams_def *d, const char *text, const char *fallback, char *out,
			       size_t cap)
{
	if (text != NULL && d == NULL)
		snprintf(out, cap, "%s", text);
	else if (text == NULL || pgparams_to_base(d, text, out, cap) < 0)
		snprintf(out, cap, "%s", fallback);
}

int pgparams_server_settings(PGconn *conn, const struct pgparams_catalog *c, json_t **out, struct err *e)
{
	PGresult *r;
	json_t *files;
	char key[PGPARAMS_NAME_MAX + 1], dflt[PGPARAMS_VALUE_MAX + 1], cur[PGPARAMS_VALUE_MAX + 1];

	*out = NULL;
	if (pgparams_file_values(conn, &files, e) < 0)
		return -1;
	if (pgsql_exec(conn, "SELECT name, setting, context, source, pending_restart, boot_val FROM pg_settings", 0,
		       NULL, &r, e) < 0) {
		json_decref(files);
		return -1;
	}
	*out = json_object();
	for (int i = 0; i < PQntuples(r) && i < PGPARAMS_SETTINGS_MAX; i++) {
		const char *name = PQgetvalue(r, i, 0);
		const struct pgparams_def *d = pgparams_find(c, name);
		json_t *f;
		snprintf(key, sizeof(key), "%s", name);
		for (char *p = key; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		f = json_object_get(files, key);
		pgparams_file_form(d, json_string_value(json_object_get(f, "default")), PQgetvalue(r, i, 5), dflt,
				   sizeof(dflt));
		/* this session's own values (connection options, ALTER ROLE/DATABASE
		 * SET) are not the server's: a new session gets the files' value */
		if (pgparams_session_source(PQgetvalue(r, i, 3)))
			pgparams_file_form(d, json_string_value(json_object_get(f, "current")), PQgetvalue(r, i, 5), cur,
					   sizeof(cur));
		else
			snprintf(cur, sizeof(cur), "%s", PQgetvalue(r, i, 1));
		json_object_set_new(*out, name, pgparams_row(r, i, cur, dflt));
	}
	PQclear(r);
	json_decref(files);
	return 0;
}

json_t *pgparams_startup_settings(const json_t *server)
{
	json_t *out = json_object(), *v;
	const char *name;

	json_object_foreach((json_t *)server, name, v) {
		const char *src = json_string_value(json_object_get(v, "source"));
		if (strcmp(json_string_value(json_object_get(v, "context")) ?: "", "postmaster") != 0 || src == NULL ||
		    strcmp(src, "default") == 0 || strcmp(src, "override") == 0)
			continue;
		json_object_set(out, name, json_object_get(v, "setting"));
	}
	return out;
}

/* ---- changing them ------------------------------------------------------- */

/* [A-Za-z_][A-Za-z0-9_]* parts joined by single dots, at most two parts. */
static bool pgparams_name_ok(const char *name)
{
	int parts = 1;

	if (strlen(name) == 0 || strlen(name) > PGPARAMS_NAME_MAX)
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		bool first = p == name || p[-1] == '.';
		if (*p == '.') {
			if (first || p[1] == '\0' || ++parts > 2)
				return false;
		} else if (!(isalpha((unsigned char)*p) || *p == '_' || (!first && isdigit((unsigned char)*p)))) {
			return false;
		}
	}
	return true;
}

/* Append `piece` to sql[0..*len); -1 when it does not fit. */
static int pgparams_append(char *sql, size_t *len, const char *piece)
{
	size_t n = strlen(piece);

	if (*len + n >= PGPARAMS_SQL_MAX)
		return -1;
	memcpy(sql + *len, piece, n + 1);
	*len += n;
	return 0;
}

/* `name` as quoted identifiers ("pg_stat_statements"."max"). */
static int pgparams_append_name(PGconn *conn, char *sql, size_t *len, const char *name)
{
	char part[PGPARAMS_NAME_MAX + 1];
	const char *p = name;

	while (*p != '\0') {
		size_t n = strcspn(p, ".");
		char *q;
		snprintf(part, sizeof(part), "%.*s", (int)n, p);
		q = PQescapeIdentifier(conn, part, n);
		if (q == NULL || (p != name && pgparams_append(sql, len, ".") < 0) || pgparams_append(sql, len, q) < 0) {
			PQfreemem(q);
			return -1;
		}
		PQfreemem(q);
		p += n + (p[n] == '.');
	}
	return 0;
}

/* The value as one literal, or (a list setting) one literal per item. */
static int pgparams_append_value(PGconn *conn, char *sql, size_t *len, const char *value, bool list)
{
	const char *p = value;

	do {
		size_t n = list ? strcspn(p, ",") : strlen(p);
		char *q = PQescapeLiteral(conn, p, n);
		if (q == NULL || (p != value && pgparams_append(sql, len, ", ") < 0) || pgparams_append(sql, len, q) < 0) {
			PQfreemem(q);
			return -1;
		}
		PQfreemem(q);
		p += n + (p[n] == ',');
	} while (list && *p != '\0');
	return 0;
}

static bool pgparams_is_list(const char *name)
{
	size_t i;
	const struct pgparams_rule *r = pgparams_rule_find(name, &i);

	return r != NULL && r->source == PGPARAMS_S_LIBRARIES;
}

int pgparams_alter_system(PGconn *conn, const char *name, const char *value, struct err *e)
{
	char sql[PGPARAMS_SQL_MAX];
	size_t len = 0;

	if (!pgparams_name_ok(name))
		return err_set(e, ERR_INTERNAL_ERROR, "bad setting name");
	for (const unsigned char *p = (const unsigned char *)value; p != NULL && *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return err_set(e, ERR_INTERNAL_ERROR, "bad setting value");
	if (value != NULL && strlen(value) > PGPARAMS_VALUE_MAX)
		return err_set(e, ERR_INTERNAL_ERROR, "setting value too long");
	if (pgparams_append(sql, &len, value != NULL ? "ALTER SYSTEM SET " : "ALTER SYSTEM RESET ") < 0 ||
	    pgparams_append_name(conn, sql, &len, name) < 0 ||
	    (value != NULL && (pgparams_append(sql, &len, " = ") < 0 ||
			       pgparams_append_value(conn, sql, &len, value, pgparams_is_list(name)) < 0)))
		return err_set(e, ERR_INTERNAL_ERROR, "cannot build ALTER SYSTEM for %s", name);
	return pgsql_exec(conn, sql, 0, NULL, NULL, e);
}

int pgparams_reload(PGconn *conn, struct err *e)
{
	return pgsql_exec(conn, "SELECT pg_reload_conf()", 0, NULL, NULL, e);
}

/* ---- postgresql.auto.conf ------------------------------------------------- */

static int pgparams_autoconf_path(const struct pgnode *n, char *out, size_t cap, const char *suffix, struct err *e)
{
	int len = snprintf(out, cap, "%s/data/%s%s", n->dir, PGPARAMS_AUTOCONF, suffix);

	if (len < 0 || (size_t)len >= cap)
		return err_set(e, ERR_INTERNAL_ERROR, "path too long");
	return 0;
}

int pgparams_autoconf_read(const struct pgnode *n, char **out, struct err *e)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;
	ssize_t got = 0;

	*out = NULL;
	if (pgparams_autoconf_path(n, path, sizeof(path), "", e) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return (*out = strdup("")) != NULL ? 0 : err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > PGPARAMS_AUTOCONF_MAX) {
		if (fd >= 0)
			close(fd);
		return err_set(e, ERR_INTERNAL_ERROR, "cannot read %s", path);
	}
	*out = malloc((size_t)st.st_size + 1);
	if (*out != NULL)
		got = read(fd, *out, (size_t)st.st_size);
	close(fd);
	if (*out == NULL || got != st.st_size) {
		free(*out);
		*out = NULL;
		return err_set(e, ERR_INTERNAL_ERROR, "cannot read %s", path);
	}
	(*out)[got] = '\0';
	return 0;
}

static int pgparams_fsync_dir(const char *file)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(file, '/');
	int fd, rc;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int pgparams_autoconf_write(const struct pgnode *n, const char *text, struct err *e)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	if (len > PGPARAMS_AUTOCONF_MAX || pgparams_autoconf_path(n, path, sizeof(path), "", e) < 0 ||
	    pgparams_autoconf_path(n, tmp, sizeof(tmp), ".pgfleet", e) < 0)
		return len > PGPARAMS_AUTOCONF_MAX ? err_set(e, ERR_INTERNAL_ERROR, "file too long") : -1;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "create %s: %s", tmp, strerror(errno));
	if (write(fd, text, len) != (ssize_t)len || (n->user != NULL && n->user->set_ids &&
						      fchown(fd, n->user->uid, n->user->gid) != 0) ||
	    fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return err_set(e, ERR_INTERNAL_ERROR, "write %s: %s", tmp, strerror(errno));
	}
	close(fd);
	if (rename(tmp, path) != 0 || pgparams_fsync_dir(path) != 0) {
		unlink(tmp);
		return err_set(e, ERR_INTERNAL_ERROR, "rename %s: %s", path, strerror(errno));
	}
	log_info(PGPARAMS_LOG_CTX, "node %s: %s restored", n->dir, PGPARAMS_AUTOCONF);
	return 0;
}
