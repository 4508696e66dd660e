/*
 * pgparams.h - the parameter catalog of each installed PostgreSQL version:
 * every server setting as the real server describes it (pg_settings: type,
 * unit, range, enum values, context, category, description, compiled-in
 * default), joined with the project's policy (pgparams_policy.c): which
 * settings a tenant may change, narrower ranges, limits that scale with the
 * instance's spec, value lists for the string settings exposed as enums,
 * and the reserved settings that would let a tenant break out.
 *
 * Where the facts come from. `postgres --describe-config` needs no server
 * but knows neither units nor enum values, so the catalog is read from
 * pg_settings itself: once per (binaries, version), a throw-away node is
 * made from the fleet's template (pgnode_create, the same pgfleet.conf as
 * every instance) and queried in single-user mode (`postgres --single`,
 * no socket, no port) with every installable preload library loaded so
 * that extension settings appear too. The answer is cached as JSON under
 * the daemon's data dir (DATA_DIR/paramcat/pg-<hash>-<version>.json), so a
 * restart costs one file read, and a new minor version is read again. The
 * node stays (DATA_DIR/paramcat/pg-<hash>-<version>/) for the preflight:
 * `postgres -C shared_memory_size -c name=value ...` on it makes the real
 * binary check a set of values (check hooks, startup rules such as
 * superuser_reserved_connections < max_connections) and compute the shared
 * memory they need, without touching any instance.
 *
 * Values. A value reaches a server only in the canonical form made here
 * from a validated input: integers and reals re-printed from their parsed
 * numbers, booleans as on/off, enum values spelled as the catalog spells
 * them. Units are never accepted in input (values are in the unit the
 * catalog shows, as pg_settings.setting is); control characters never are.
 *
 * A catalog is immutable once built and lives until pgparams_catalogs_free();
 * lookups need no lock.
 */
#ifndef PGFLEET_PG_PGPARAMS_H
#define PGFLEET_PG_PGPARAMS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "pg/pgnode.h"

#define PGPARAMS_NAME_MAX            63                /* bytes of a setting name */
#define PGPARAMS_VALUE_MAX           1024              /* bytes of one value */
#define PGPARAMS_SETTINGS_MAX        1024              /* settings of one server */
#define PGPARAMS_ENUM_MAX            4096              /* values of one list */
#define PGPARAMS_CATALOGS_MAX        32                /* (binaries, version) pairs */
#define PGPARAMS_EXTRACT_TIMEOUT_MS  60000             /* single-user query */
#define PGPARAMS_PREFLIGHT_TIMEOUT_MS 20000            /* postgres -C */
#define PGPARAMS_OUT_CAP             (8u * 1024u * 1024u)
#define PGPARAMS_CACHE_MAX           (16u * 1024u * 1024u) /* cached JSON file */
#define PGPARAMS_SHARED_MEMORY_PCT   80                /* of the spec's memory */
#define PGPARAMS_DIR                 "paramcat"        /* under the data dir */

/* pg_settings.vartype */
enum pgparams_type { PGPARAMS_T_BOOL, PGPARAMS_T_INTEGER, PGPARAMS_T_REAL, PGPARAMS_T_STRING, PGPARAMS_T_ENUM };

/* What a tenant may send (the API's ParamValueType); NONE: not changeable. */
enum pgparams_kind { PGPARAMS_K_NONE, PGPARAMS_K_BOOL, PGPARAMS_K_INTEGER, PGPARAMS_K_REAL, PGPARAMS_K_ENUM,
		     PGPARAMS_K_MULTI };

/* pg_settings.context, in the order PostgreSQL documents (most to least fixed). */
enum pgparams_context { PGPARAMS_C_INTERNAL, PGPARAMS_C_POSTMASTER, PGPARAMS_C_SIGHUP,
			PGPARAMS_C_SUPERUSER_BACKEND, PGPARAMS_C_BACKEND, PGPARAMS_C_SUPERUSER,
			PGPARAMS_C_USER };

#define PGPARAMS_F_ADVANCED 1u   /* a key parameter (API: Advanced) */
#define PGPARAMS_F_STANDBY  2u   /* a standby needs at least the primary's value */
#define PGPARAMS_F_SPEC     4u   /* range (and default) scale with the spec */

struct pgparams_rule;            /* a policy row (pgparams_int.h) */

struct pgparams_def {
	const char *name;            /* as pg_settings spells it ("DateStyle") */
	enum pgparams_type type;
	enum pgparams_context context;
	enum pgparams_kind kind;     /* NONE unless the policy lets tenants change it */
	const char *unit;            /* pg_settings.unit, "" when none */
	double min, max;             /* the server's range (integer and real) */
	const char *category;        /* "Resource Usage / Memory" */
	const char *desc_en;         /* pg_settings.short_desc */
	const char *desc_cn;         /* the policy's, "" when none */
	const char *boot;            /* compiled-in default (pg_settings.boot_val) */
	const char *file_default;    /* what the node's config files set, in the form
	                                of pg_settings.setting; NULL when they do not */
	const char *const *values;   /* accepted values of ENUM and MULTI kinds */
	size_t nvalues;
	unsigned flags;              /* PGPARAMS_F_* */
	int id;                      /* stable (policy row number); 0 when NONE */
	const struct pgparams_rule *rule;
};

struct pgparams_catalog {
	char bin_dir[256];
	char version[16];            /* "15.18" */
	char node_dir[PATH_MAX / 2]; /* the catalog's own node (preflight) */
	char templates_root[PATH_MAX / 2];
	struct pgnode_user user;
	json_t *root;                /* the pg_settings extraction; owns every string */
	struct pgparams_def *defs;   /* sorted by name, case-insensitively */
	size_t ndefs;
};

/* Where catalogs are built: cache_dir (DATA_DIR/paramcat, created 0711),
 * the fleet's templates_root and the node user (see pgnode.h). */
struct pgparams_env {
	const char *cache_dir;
	const char *templates_root;
	const struct pgnode_user *user;
};

/* The catalog of the server in bin_dir, version `version` ("15.18"): from
 * memory, else from its cache file, else extracted (about a second; callers
 * are serialised meanwhile). ERR_INTERNAL_ERROR when the server cannot be
 * queried (details logged). */
int pgparams_catalog_get(const struct pgparams_env *env, const char *bin_dir, const char *version,
			 const struct pgparams_catalog **out, struct err *e);

/* Build a catalog from an extraction (the JSON shape the cache file holds:
 * {"settings": [pg_settings rows], "files": [pg_file_settings rows],
 * "timezones": [...], "locales": [...], "tsconfigs": [...], "libraries": [...]}).
 * Takes ownership of `data` in every case. Exposed for the unit tests. */
int pgparams_catalog_build(json_t *data, struct pgparams_catalog **out, struct err *e);

/* Free a built catalog (NULL-safe); pgparams_catalogs_free() frees every
 * catalog pgparams_catalog_get() made (tests, shutdown). */
void pgparams_catalog_free(struct pgparams_catalog *c);
void pgparams_catalogs_free(void);

/* The setting called `name` (case-insensitive, as PostgreSQL matches), or NULL. */
const struct pgparams_def *pgparams_find(const struct pgparams_catalog *c, const char *name);

/* The Chinese name of a setting's top-level category ("Autovacuum" of
 * "Autovacuum", "Resource Usage" of "Resource Usage / Memory"), or "". */
const char *pgparams_category_cn(const char *category_en);

/* The range a tenant may use (server range narrowed by the policy and, with
 * a spec, by the spec's limits). Meaningful for INTEGER and REAL kinds; 0/0
 * for the others. */
void pgparams_range(const struct pgparams_def *d, const struct pgnode_conf *spec, double *min, double *max);

/* The value of a spec-related setting for `spec` (pgfleet.conf's sizing),
 * into out; 0, or -1 when the setting does not derive from the spec. */
int pgparams_spec_default(const struct pgparams_def *d, const struct pgnode_conf *spec, char *out, size_t cap);

/* Validate a tenant's `value` for `name` and write its canonical form into
 * out (cap >= PGPARAMS_VALUE_MAX + 1); *def receives the setting. Errors
 * (message naming the parameter; nothing else is touched):
 *   InvalidParameterValue.InvalidParameterValueError  unknown name; value of
 *       the wrong form (type, enum value, unit, control characters, length)
 *   OperationDenied.CamDeniedError                    a reserved or read-only setting
 *   InvalidParameterValue.ParameterOutOfRangeError    outside pgparams_range() */
int pgparams_check(const struct pgparams_catalog *c, const char *name, const char *value,
		   const struct pgnode_conf *spec, const struct pgparams_def **def, char *out, size_t cap,
		   struct err *e);

/* Turn a configuration-file value ("512MB", "on", "iso, mdy") into the form
 * pg_settings.setting shows (base units, on/off, the catalog's spelling),
 * into out. 0, or -1 when it does not parse. */
int pgparams_to_base(const struct pgparams_def *d, const char *text, char *out, size_t cap);

/* True when two pg_settings-form values of `d` mean the same (numbers
 * compared as numbers, names case-insensitively, lists item by item). */
bool pgparams_same(const struct pgparams_def *d, const char *a, const char *b);

/* Ask the real binary about a set of values: `postgres -C shared_memory_size`
 * on the catalog's node with every member of `settings` (name -> canonical
 * value) as `-c name=value`. *shmem_mb receives the shared memory (MB) the
 * server would allocate. A refusal (a value or combination the server would
 * not start with) is InvalidParameterValue.ParameterOutOfRangeError carrying
 * the server's own message; ERR_INTERNAL_ERROR when it could not be asked. */
int pgparams_preflight(const struct pgparams_catalog *c, const json_t *settings, long long *shmem_mb,
		       struct err *e);

/* ---- a running server (pgparams_sql.c) ---- */

/* Every setting of the server on `conn` (superuser), as a JSON object
 * name -> {"setting": s, "default": s, "context": s, "source": s,
 * "pending_restart": b}. "setting" is what a new session gets: where the
 * value on `conn` is the session's own (connection options, ALTER ROLE or
 * DATABASE ... SET), the configuration files' value (or the compiled-in
 * default) instead. "default" is what the files other than
 * postgresql.auto.conf set (converted as pgparams_to_base), else the
 * compiled-in default: the value without the tenant's changes. Names are
 * pg_settings' spelling. */
int pgparams_server_settings(PGconn *conn, const struct pgparams_catalog *c, json_t **out, struct err *e);

/* The postmaster-context settings a server was started with that the
 * preflight must repeat (everything set by a configuration file or the
 * command line, except file locations), from pgparams_server_settings()'s
 * answer: name -> setting, new reference. */
json_t *pgparams_startup_settings(const json_t *server);

/* ALTER SYSTEM SET name = 'value' (name from the catalog, value canonical
 * from pgparams_check; both re-checked for control characters and quoted by
 * libpq), or ALTER SYSTEM RESET name when value is NULL. */
int pgparams_alter_system(PGconn *conn, const char *name, const char *value, struct err *e);

/* SELECT pg_reload_conf(). */
int pgparams_reload(PGconn *conn, struct err *e);

/* postgresql.auto.conf of node `n` (what ALTER SYSTEM writes): read it
 * whole into *out (malloc'd, "" when the file is missing), or write `text`
 * back atomically, owned by the node user, to undo changes while the server
 * is stopped. */
int pgparams_autoconf_read(const struct pgnode *n, char **out, struct err *e);
int pgparams_autoconf_write(const struct pgnode *n, const char *text, struct err *e);

#endif
