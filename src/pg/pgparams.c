/*
 * pgparams.c - parameter catalogs (see pgparams.h for where the facts come
 * from and why): the registry of built catalogs, the extraction from a
 * server in single-user mode, the cache file, building the definitions
 * from an extraction joined with the policy, lookups, and the preflight
 * with `postgres -C`.
 *
 * The single-user query returns one text value, the whole extraction as
 * JSON, hex-encoded so that the stand-alone backend's output format (which
 * prints values between double quotes without escaping) cannot be confused
 * by any character in a description.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "pg/pgparams_int.h"
#include "pg/spawn.h"

#define PGPARAMS_NOMINAL_MEMORY_MB 1024   /* spec of the catalog's own node */
#define PGPARAMS_NOMINAL_CPU       1
#define PGPARAMS_NOMINAL_STORAGE   10
#define PGPARAMS_ARG_MAX           (PGPARAMS_NAME_MAX + PGPARAMS_VALUE_MAX + 2)
#define PGPARAMS_PREFLIGHT_MAX     ((SPAWN_ARGV_MAX - 8) / 2)   /* -c pairs */

static const char pgparams_query[] =
	"SELECT encode(convert_to(json_build_object("
	"'settings', (SELECT json_agg(json_build_object('name', name, 'setting', setting, 'unit', "
	"coalesce(unit, ''), 'category', category, 'short_desc', short_desc, 'context', context, "
	"'vartype', vartype, 'min_val', min_val, 'max_val', max_val, 'enumvals', enumvals, "
	"'boot_val', boot_val) ORDER BY name) FROM pg_settings), "
	"'files', (SELECT json_agg(json_build_object('name', name, 'setting', setting, 'file', sourcefile) "
	"ORDER BY seqno) FROM pg_file_settings WHERE error IS NULL), "
	"'timezones', (SELECT json_agg(name ORDER BY name) FROM pg_timezone_names), "
	"'locales', (SELECT json_agg(DISTINCT collcollate) FROM pg_collation WHERE collprovider = 'c'), "
	"'tsconfigs', (SELECT json_agg('pg_catalog.' || cfgname ORDER BY cfgname) FROM pg_ts_config)"
	")::text, 'UTF8'), 'hex') AS j\n";

static struct {
	pthread_mutex_t mu;
	struct pgparams_catalog *cats[PGPARAMS_CATALOGS_MAX];
	size_t n;
} pgparams_reg = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* ---- small helpers ------------------------------------------------------- */

static unsigned long long pgparams_fnv1a(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool pgparams_version_ok(const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len >= sizeof(((struct pgparams_catalog *)0)->version))
		return false;
	for (; *v != '\0'; v++)
		if (!isdigit((unsigned char)*v) && *v != '.')
			return false;
	return true;
}

static int pgparams_path(char *out, size_t cap, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int pgparams_path(char *out, size_t cap, struct err *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap)
		return err_set(e, ERR_INTERNAL_ERROR, "path too long");
	return 0;
}

/* The node of a catalog, as pgnode sees it. */
static void pgparams_node(const struct pgparams_catalog *c, struct pgnode *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "%s", c->node_dir);
	snprintf(n->bin_dir, sizeof(n->bin_dir), "%s", c->bin_dir);
	snprintf(n->listen_addr, sizeof(n->listen_addr), "127.0.0.1");
	n->port = 5432;
	n->user = &c->user;
}

/* Make the catalog's node if it is not complete (a copy of the template,
 * configured like every instance; never started). */
static int pgparams_node_ensure(const struct pgparams_catalog *c, struct err *e)
{
	static const struct pgnode_conf nominal = { PGPARAMS_NOMINAL_MEMORY_MB, PGPARAMS_NOMINAL_CPU,
						    PGPARAMS_NOMINAL_STORAGE };
	char ready[PATH_MAX], tpl[PATH_MAX];
	struct pgnode n;

	if (pgparams_path(ready, sizeof(ready), e, "%s/READY", c->node_dir) < 0)
		return -1;
	if (access(ready, F_OK) == 0)
		return 0;
	pgparams_node(c, &n);
	if (pgnode_template_ensure(c->templates_root, c->bin_dir, "UTF8", &c->user, tpl, sizeof(tpl), e) < 0)
		return -1;
	return pgnode_create(&n, tpl, &nominal, e);
}

/* Spawn `argv` as the node user in the node's data directory. */
static int pgparams_run(const struct pgparams_catalog *c, const char *const *argv, const char *stdin_text,
			int timeout_ms, struct spawn_result *r, struct err *e)
{
	char data[PATH_MAX];
	struct spawn_opts o = { .argv = argv, .set_ids = c->user.set_ids, .uid = c->user.uid, .gid = c->user.gid,
				.out_cap = PGPARAMS_OUT_CAP, .timeout_ms = timeout_ms };

	if (pgparams_path(data, sizeof(data), e, "%s/data", c->node_dir) < 0)
		return -1;
	o.cwd = data;
	o.stdin_data = stdin_text;
	o.stdin_len = stdin_text != NULL ? strlen(stdin_text) : 0;
	return spawn_run(&o, r, e);
}

static void pgparams_log_output(const char *what, const struct spawn_result *r)
{
	log_error(PGPARAMS_LOG_CTX, "%s: exit %d%s, stderr: %.2000s", what, r->exited ? r->exit_code : -1,
		  r->timed_out ? " (timed out)" : "", r->err != NULL ? r->err : "");
}

/* ---- extraction ---------------------------------------------------------- */

/* The preload libraries installed next to the server, as JSON and as a list. */
static json_t *pgparams_libraries_installed(const char *bin_dir, char *list, size_t cap)
{
	json_t *libs = json_array();
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; pgparams_libraries[i] != NULL; i++) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "%s/../lib/%s.so", bin_dir, pgparams_libraries[i]);
		if (n < 0 || (size_t)n >= sizeof(path) || access(path, R_OK) != 0)
			continue;
		json_array_append_new(libs, json_string(pgparams_libraries[i]));
		n = snprintf(list + used, cap - used, "%s%s", used ? "," : "", pgparams_libraries[i]);
		if (n > 0 && (size_t)n < cap - used)
			used += (size_t)n;
	}
	return libs;
}

static int pgparams_hexval(int ch)
{
	return isdigit(ch) ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The JSON of the single-user backend's answer ("\t 1: j = \"<hex>\"\t..."). */
static json_t *pgparams_parse_single(const char *out, struct err *e)
{
	static const char mark[] = "1: j = \"";
	const char *p = strstr(out, mark);
	size_t len;
	char *text;
	json_t *j;
	json_error_t je;

	if (p == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "no answer from the stand-alone backend"), NULL;
	p += sizeof(mark) - 1;
	len = strspn(p, "0123456789abcdef");
	if (len % 2 != 0 || p[len] != '"')
		return err_set(e, ERR_INTERNAL_ERROR, "malformed answer from the stand-alone backend"), NULL;
	text = malloc(len / 2 + 1);
	if (text == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory"), NULL;
	for (size_t i = 0; i < len / 2; i++)
		text[i] = (char)(pgparams_hexval(p[2 * i]) << 4 | pgparams_hexval(p[2 * i + 1]));
	text[len / 2] = '\0';
	j = json_loads(text, 0, &je);
	free(text);
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(e, ERR_INTERNAL_ERROR, "unreadable settings: %s", je.text), NULL;
	}
	return j;
}

/* Query pg_settings and friends on the catalog's node in single-user mode. */
static int pgparams_extract(const struct pgparams_catalog *c, json_t **out, struct err *e)
{
	char postgres[PATH_MAX], data[PATH_MAX], libs[512], preload[600];
	json_t *installed = pgparams_libraries_installed(c->bin_dir, libs, sizeof(libs));
	const char *const argv[] = { postgres, "--single", "-D", data, "-c", preload, "-c", "exit_on_error=on",
				     "postgres", NULL };
	struct spawn_result r = { 0 };
	int rc = -1;

	*out = NULL;
	if (pgparams_path(postgres, sizeof(postgres), e, "%s/postgres", c->bin_dir) < 0 ||
	    pgparams_path(data, sizeof(data), e, "%s/data", c->node_dir) < 0 ||
	    pgparams_path(preload, sizeof(preload), e, "shared_preload_libraries=%s", libs) < 0 ||
	    pgparams_run(c, argv, pgparams_query, PGPARAMS_EXTRACT_TIMEOUT_MS, &r, e) < 0) {
		json_decref(installed);
		spawn_result_free(&r);
		return -1;
	}
	if (!r.exited || r.exit_code != 0 || r.out_dropped != 0) {
		pgparams_log_output("postgres --single", &r);
		err_set(e, ERR_INTERNAL_ERROR, "could not read the settings of PostgreSQL %s", c->version);
	} else if ((*out = pgparams_parse_single(r.out, e)) != NULL) {
		json_object_set_new(*out, "libraries", json_incref(installed));
		rc = 0;
	} else {
		pgparams_log_output("postgres --single", &r);
	}
	json_decref(installed);
	spawn_result_free(&r);
	return rc;
}

/* ---- cache file ---------------------------------------------------------- */

static json_t *pgparams_cache_read(const char *path)
{
	struct stat st;
	json_error_t je;
	json_t *j;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > PGPARAMS_CACHE_MAX)
		return NULL;
	j = json_load_file(path, 0, &je);
	if (!json_is_object(j) || !json_is_array(json_object_get(j, "settings"))) {
		log_warn(PGPARAMS_LOG_CTX, "ignoring unreadable cache %s: %s", path, je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

static int pgparams_cache_write(const char *path, const json_t *j, struct err *e)
{
	char tmp[PATH_MAX];

	if (pgparams_path(tmp, sizeof(tmp), e, "%s.tmp", path) < 0)
		return -1;
	if (json_dump_file(j, tmp, JSON_COMPACT) != 0 || chmod(tmp, 0600) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return err_set(e, ERR_INTERNAL_ERROR, "cannot write %s: %s", path, strerror(errno));
	}
	return 0;
}

/* ---- building ------------------------------------------------------------ */

static const char *pgparams_jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static enum pgparams_type pgparams_type_of(const char *s)
{
	return strcmp(s, "bool") == 0 ? PGPARAMS_T_BOOL : strcmp(s, "integer") == 0 ? PGPARAMS_T_INTEGER
	       : strcmp(s, "real") == 0 ? PGPARAMS_T_REAL : strcmp(s, "enum") == 0 ? PGPARAMS_T_ENUM
										   : PGPARAMS_T_STRING;
}

static enum pgparams_context pgparams_context_of(const char *s)
{
	static const char *const names[] = { "internal", "postmaster", "sighup", "superuser-backend", "backend",
					     "superuser", "user" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return (enum pgparams_context)i;
	return PGPARAMS_C_INTERNAL; /* unknown: treat as fixed */
}

/* Point d->values at the strings of JSON array `a` (narrowed to `only`). */
static int pgparams_values_from(struct pgparams_def *d, const json_t *a, const char *const *only)
{
	size_t n = json_array_size(a), k = 0;
	const char **v;

	if (n > PGPARAMS_ENUM_MAX)
		n = PGPARAMS_ENUM_MAX;
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		bool keep = s != NULL && (only == NULL);
		for (size_t j = 0; s != NULL && only != NULL && only[j] != NULL; j++)
			keep |= strcmp(only[j], s) == 0;
		if (keep)
			v[k++] = s;
	}
	d->values = v;
	d->nvalues = k;
	return 0;
}

/* Strings kept alive by the catalog's root. */
static const char *pgparams_keep(json_t *root, const char *s)
{
	json_t *kept = json_object_get(root, "derived");
	json_t *str = json_string(s);

	if (str == NULL || json_array_append_new(kept, str) != 0)
		return NULL;
	return json_string_value(str);
}

/* The locales a tenant may choose: libc collations and the configured ones. */
static json_t *pgparams_locales(json_t *root)
{
	json_t *all = json_deep_copy(json_object_get(root, "locales"));
	json_t *files = json_object_get(root, "files"), *f;
	size_t i;

	if (!json_is_array(all))
		all = json_array();
	json_array_foreach(files, i, f) {
		const char *name = pgparams_jstr(f, "name"), *val = pgparams_jstr(f, "setting");
		bool seen = false;
		size_t j;
		json_t *x;
		if (strncasecmp(name, "lc_", 3) != 0 || val[0] == '\0')
			continue;
		json_array_foreach(all, j, x) seen |= strcmp(json_string_value(x), val) == 0;
		if (!seen)
			json_array_append_new(all, json_string(val));
	}
	json_object_set_new(root, "locales_all", all);
	return all;
}

static int pgparams_set_values(struct pgparams_def *d, json_t *root, const json_t *row)
{
	const struct pgparams_rule *r = d->rule;
	enum pgparams_source src = r != NULL ? r->source : PGPARAMS_S_SERVER;

	switch (src) {
	case PGPARAMS_S_TIMEZONES:
		return pgparams_values_from(d, json_object_get(root, "timezones"), NULL);
	case PGPARAMS_S_LOCALES:
		return pgparams_values_from(d, json_object_get(root, "locales_all"), NULL);
	case PGPARAMS_S_TSCONFIGS:
		return pgparams_values_from(d, json_object_get(root, "tsconfigs"), NULL);
	case PGPARAMS_S_LIBRARIES:
		return pgparams_values_from(d, json_object_get(root, "libraries"), NULL);
	case PGPARAMS_S_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; r->values[i] != NULL; i++)
			json_array_append_new(a, json_string(r->values[i]));
		json_object_set_new(json_object_get(root, "lists"), d->name, a);
		return pgparams_values_from(d, a, NULL);
	}
	default:
		return d->type == PGPARAMS_T_ENUM
		       ? pgparams_values_from(d, json_object_get(row, "enumvals"), r != NULL ? r->values : NULL) : 0;
	}
}

/* What a tenant may send for `d`: from its rule and the server's type. */
static enum pgparams_kind pgparams_kind_of(const struct pgparams_def *d)
{
	if (d->rule == NULL || d->context == PGPARAMS_C_INTERNAL || pgparams_reserved_find(d->name) != NULL)
		return PGPARAMS_K_NONE;
	switch (d->type) {
	case PGPARAMS_T_BOOL:
		return PGPARAMS_K_BOOL;
	case PGPARAMS_T_INTEGER:
		return PGPARAMS_K_INTEGER;
	case PGPARAMS_T_REAL:
		return PGPARAMS_K_REAL;
	case PGPARAMS_T_ENUM:
		return PGPARAMS_K_ENUM;
	default:
		return d->rule->source == PGPARAMS_S_LIBRARIES ? PGPARAMS_K_MULTI
		       : d->rule->source == PGPARAMS_S_SERVER ? PGPARAMS_K_NONE : PGPARAMS_K_ENUM;
	}
}

/* The configured default of `d`: the last config-file line for it other
 * than postgresql.auto.conf's, in pg_settings form. */
static void pgparams_file_default(struct pgparams_def *d, json_t *root)
{
	static const char autoconf[] = "postgresql.auto.conf";
	char buf[PGPARAMS_VALUE_MAX + 1];
	const char *found = NULL;
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(root, "files"), i, f) {
		const char *file = pgparams_jstr(f, "file");
		size_t fl = strlen(file);
		if (strcasecmp(pgparams_jstr(f, "name"), d->name) != 0 ||
		    (fl >= sizeof(autoconf) - 1 && strcmp(file + fl - (sizeof(autoconf) - 1), autoconf) == 0))
			continue;
		found = pgparams_jstr(f, "setting");
	}
	if (found != NULL && pgparams_to_base(d, found, buf, sizeof(buf)) == 0)
		d->file_default = pgparams_keep(root, buf);
}

static int pgparams_def_init(struct pgparams_def *d, json_t *root, const json_t *row)
{
	size_t idx = 0;
	const char *min = json_string_value(json_object_get(row, "min_val"));
	const char *max = json_string_value(json_object_get(row, "max_val"));

	memset(d, 0, sizeof(*d));
	d->name = pgparams_jstr(row, "name");
	d->type = pgparams_type_of(pgparams_jstr(row, "vartype"));
	d->context = pgparams_context_of(pgparams_jstr(row, "context"));
	d->unit = pgparams_jstr(row, "unit");
	d->min = min != NULL ? strtod(min, NULL) : 0;
	d->max = max != NULL ? strtod(max, NULL) : 0;
	d->category = pgparams_jstr(row, "category");
	d->desc_en = pgparams_jstr(row, "short_desc");
	d->boot = pgparams_jstr(row, "boot_val");
	d->rule = pgparams_rule_find(d->name, &idx);
	d->desc_cn = d->rule != NULL ? d->rule->desc_cn : "";
	d->kind = pgparams_kind_of(d);
	if (d->kind == PGPARAMS_K_NONE)
		d->rule = NULL;
	d->id = d->kind != PGPARAMS_K_NONE ? (int)idx + 1 : 0;
	if (d->rule != NULL)
		d->flags = d->rule->flags | (d->rule->cap != PGPARAMS_CAP_NONE ? PGPARAMS_F_SPEC : 0);
	if (d->name[0] == '\0' || pgparams_set_values(d, root, row) < 0)
		return -1;
	pgparams_file_default(d, root);
	return 0;
}

static int pgparams_def_cmp(const void *a, const void *b)
{
	return strcasecmp(((const struct pgparams_def *)a)->name, ((const struct pgparams_def *)b)->name);
}

int pgparams_catalog_build(json_t *data, struct pgparams_catalog **out, struct err *e)
{
	struct pgparams_catalog *c = calloc(1, sizeof(*c));
	json_t *rows = json_object_get(data, "settings");
	size_t n = json_array_size(rows);

	*out = NULL;
	if (c == NULL || !json_is_object(data) || n == 0 || n > PGPARAMS_SETTINGS_MAX) {
		free(c);
		json_decref(data);
		return err_set(e, ERR_INTERNAL_ERROR, "bad settings extraction");
	}
	c->root = data;
	json_object_set_new(data, "derived", json_array());
	json_object_set_new(data, "lists", json_object());
	pgparams_locales(data);
	c->defs = calloc(n, sizeof(*c->defs));
	for (size_t i = 0; c->defs != NULL && i < n; i++, c->ndefs++)
		if (pgparams_def_init(&c->defs[i], data, json_array_get(rows, i)) < 0)
			break;
	if (c->defs == NULL || c->ndefs != n) {
		pgparams_catalog_free(c);
		return err_set(e, ERR_INTERNAL_ERROR, "bad settings extraction");
	}
	qsort(c->defs, c->ndefs, sizeof(*c->defs), pgparams_def_cmp);
	*out = c;
	return 0;
}

void pgparams_catalog_free(struct pgparams_catalog *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; c->defs != NULL && i < c->ndefs; i++)
		free((void *)c->defs[i].values);
	free(c->defs);
	json_decref(c->root);
	free(c);
}

void pgparams_catalogs_free(void)
{
	pthread_mutex_lock(&pgparams_reg.mu);
	for (size_t i = 0; i < pgparams_reg.n; i++)
		pgparams_catalog_free(pgparams_reg.cats[i]);
	pgparams_reg.n = 0;
	pthread_mutex_unlock(&pgparams_reg.mu);
}

const struct pgparams_def *pgparams_find(const struct pgparams_catalog *c, const char *name)
{
	struct pgparams_def key = { .name = name };

	return bsearch(&key, c->defs, c->ndefs, sizeof(*c->defs), pgparams_def_cmp);
}

/* ---- the registry -------------------------------------------------------- */

/* The built catalog of `proto` (same binaries, version and cache dir). */
static struct pgparams_catalog *pgparams_reg_find(const struct pgparams_catalog *proto)
{
	for (size_t i = 0; i < pgparams_reg.n; i++)
		if (strcmp(pgparams_reg.cats[i]->node_dir, proto->node_dir) == 0 &&
		    strcmp(pgparams_reg.cats[i]->bin_dir, proto->bin_dir) == 0)
			return pgparams_reg.cats[i];
	return NULL;
}

static int pgparams_cache_dir(const char *dir, struct err *e)
{
	if (mkdir(dir, 0711) != 0 && errno != EEXIST)
		return err_set(e, ERR_INTERNAL_ERROR, "mkdir %s: %s", dir, strerror(errno));
	if (chmod(dir, 0711) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "chmod %s: %s", dir, strerror(errno));
	return 0;
}

/* Load (cache) or extract (server) and build the catalog `proto` describes. */
static int pgparams_load(const struct pgparams_env *env, const struct pgparams_catalog *proto,
			 struct pgparams_catalog **out, struct err *e)
{
	char cache[PATH_MAX];
	json_t *data;

	if (pgparams_path(cache, sizeof(cache), e, "%s.json", proto->node_dir) < 0)
		return -1;
	data = pgparams_cache_read(cache);
	if (data == NULL) {
		if (pgparams_node_ensure(proto, e) < 0 || pgparams_extract(proto, &data, e) < 0)
			return -1;
		if (pgparams_cache_write(cache, data, e) < 0) {
			json_decref(data);
			return -1;
		}
		log_info(PGPARAMS_LOG_CTX, "catalog of PostgreSQL %s (%s) read from the server", proto->version,
			 proto->bin_dir);
	}
	if (pgparams_catalog_build(data, out, e) < 0)
		return -1;
	memcpy((*out)->bin_dir, proto->bin_dir, sizeof(proto->bin_dir));
	memcpy((*out)->version, proto->version, sizeof(proto->version));
	memcpy((*out)->node_dir, proto->node_dir, sizeof(proto->node_dir));
	memcpy((*out)->templates_root, proto->templates_root, sizeof(proto->templates_root));
	(*out)->user = proto->user;
	return 0;
}

static int pgparams_proto(const struct pgparams_env *env, const char *bin_dir, const char *version,
			  struct pgparams_catalog *p, struct err *e)
{
	memset(p, 0, sizeof(*p));
	if (bin_dir == NULL || version == NULL || strlen(bin_dir) >= sizeof(p->bin_dir) || !pgparams_version_ok(version))
		return err_set(e, ERR_INTERNAL_ERROR, "bad server for a parameter catalog");
	snprintf(p->bin_dir, sizeof(p->bin_dir), "%s", bin_dir);
	snprintf(p->version, sizeof(p->version), "%s", version);
	p->user = *env->user;
	if (pgparams_path(p->templates_root, sizeof(p->templates_root), e, "%s", env->templates_root) < 0)
		return -1;
	return pgparams_path(p->node_dir, sizeof(p->node_dir), e, "%s/pg-%016llx-%s", env->cache_dir,
			     pgparams_fnv1a(bin_dir), version);
}

int pgparams_catalog_get(const struct pgparams_env *env, const char *bin_dir, const char *version,
			 const struct pgparams_catalog **out, struct err *e)
{
	struct pgparams_catalog proto, *c;
	int rc = 0;

	if (pgparams_proto(env, bin_dir, version, &proto, e) < 0)
		return -1;
	pthread_mutex_lock(&pgparams_reg.mu);
	c = pgparams_reg_find(&proto);
	if (c == NULL) {
		if (pgparams_reg.n == PGPARAMS_CATALOGS_MAX)
			rc = err_set(e, ERR_INTERNAL_ERROR, "too many PostgreSQL versions");
		else if (pgparams_cache_dir(env->cache_dir, e) < 0 || pgparams_load(env, &proto, &c, e) < 0)
			rc = -1;
		else
			pgparams_reg.cats[pgparams_reg.n++] = c;
	}
	pthread_mutex_unlock(&pgparams_reg.mu);
	*out = c;
	return rc;
}

/* ---- preflight ----------------------------------------------------------- */

/* The server's own words from a failed `postgres -C`: the text after
 * "FATAL:  ", or the first line of a "postgres: ..." complaint. */
static void pgparams_server_message(const char *err, char *out, size_t cap)
{
	const char *p = err != NULL ? strstr(err, "FATAL:  ") : NULL;
	size_t len;

	if (p != NULL) {
		p += 8;
	} else {
		for (p = err; p != NULL && strncmp(p, "postgres: ", 10) != 0;)
			p = (p = strchr(p, '\n')) != NULL ? p + 1 : NULL;
		p = p != NULL ? p + 10 : "invalid settings";
	}
	len = strcspn(p, "\n");
	snprintf(out, cap, "%.*s", (int)(len < 300 ? len : 300), p);
}

static int pgparams_preflight_argv(const struct pgparams_catalog *c, const json_t *settings, const char **argv,
				   char (*args)[PGPARAMS_ARG_MAX], size_t *argc, struct err *e)
{
	const char *name;
	json_t *v;
	size_t k = 0;

	if (json_object_size(settings) > PGPARAMS_PREFLIGHT_MAX)
		return err_set(e, ERR_INTERNAL_ERROR, "too many settings for a preflight");
	json_object_foreach((json_t *)settings, name, v) {
		const char *val = json_string_value(v);
		int n = val != NULL ? snprintf(args[k], PGPARAMS_ARG_MAX, "%s=%s", name, val) : -1;
		if (n < 0 || n >= PGPARAMS_ARG_MAX || strpbrk(args[k], "\n\r") != NULL)
			return err_set(e, ERR_INTERNAL_ERROR, "bad preflight setting %s", name);
		argv[(*argc)++] = "-c";
		argv[(*argc)++] = args[k++];
	}
	argv[*argc] = NULL;
	return 0;
}

int pgparams_preflight(const struct pgparams_catalog *c, const json_t *settings, long long *shmem_mb,
		       struct err *e)
{
	char postgres[PATH_MAX], data[PATH_MAX], msg[320];
	char (*args)[PGPARAMS_ARG_MAX] = calloc(PGPARAMS_PREFLIGHT_MAX, PGPARAMS_ARG_MAX);
	const char *argv[SPAWN_ARGV_MAX + 1] = { postgres, "-C", "shared_memory_size", "-D", data };
	size_t argc = 5;
	struct spawn_result r = { 0 };
	int rc = -1;

	*shmem_mb = 0;
	if (args == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	pthread_mutex_lock(&pgparams_reg.mu); /* the node may need making again */
	rc = pgparams_node_ensure(c, e);
	pthread_mutex_unlock(&pgparams_reg.mu);
	if (rc < 0 || pgparams_path(postgres, sizeof(postgres), e, "%s/postgres", c->bin_dir) < 0 ||
	    pgparams_path(data, sizeof(data), e, "%s/data", c->node_dir) < 0 ||
	    pgparams_preflight_argv(c, settings, argv, args, &argc, e) < 0 ||
	    pgparams_run(c, argv, NULL, PGPARAMS_PREFLIGHT_TIMEOUT_MS, &r, e) < 0) {
		rc = -1;
	} else if (r.exited && r.exit_code == 0 && r.out != NULL && isdigit((unsigned char)r.out[0])) {
		*shmem_mb = strtoll(r.out, NULL, 10);
		rc = 0;
	} else if (r.exited && r.exit_code != 0) {
		pgparams_server_message(r.err, msg, sizeof(msg));
		log_info(PGPARAMS_LOG_CTX, "preflight of PostgreSQL %s refused the values: %s", c->version, msg);
		rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_PARAMETER_OUT_OF_RANGE_ERROR,
			     "PostgreSQL %s would not start with these values: %s", c->version, msg);
	} else {
		pgparams_log_output("postgres -C (preflight)", &r);
		rc = err_set(e, ERR_INTERNAL_ERROR, "could not check the values with PostgreSQL %s", c->version);
	}
	spawn_result_free(&r);
	free(args);
	return rc;
}
