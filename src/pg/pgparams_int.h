/*
 * pgparams_int.h - what the pgparams files share (private to src/pg/pgparams*.c).
 *
 *   pgparams.c         catalogs: extraction from the server, cache file, build, lookup, preflight
 *   pgparams_value.c   tenant values: checking, canonical forms, units, comparison
 *   pgparams_policy.c  the project's lists: changeable settings, reserved settings
 *   pgparams_sql.c     a running server: its settings, ALTER SYSTEM, postgresql.auto.conf
 */
#ifndef PGFLEET_PG_PGPARAMS_INT_H
#define PGFLEET_PG_PGPARAMS_INT_H

#include "pg/pgparams.h"

#define PGPARAMS_LOG_CTX "pgparams"

/* Where the values of an ENUM or MULTI kind come from. */
enum pgparams_source {
	PGPARAMS_S_SERVER,       /* pg_settings.enumvals (narrowed by `values` when set) */
	PGPARAMS_S_LIST,         /* `values` (a string setting with a fixed set of forms) */
	PGPARAMS_S_TIMEZONES,    /* pg_timezone_names */
	PGPARAMS_S_LOCALES,      /* pg_collation's libc locales and the configured ones */
	PGPARAMS_S_TSCONFIGS,    /* pg_ts_config, schema-qualified */
	PGPARAMS_S_LIBRARIES,    /* installed preload libraries (a MULTI list) */
};

/* Which part of the spec bounds a setting's maximum. */
enum pgparams_cap {
	PGPARAMS_CAP_NONE,
	PGPARAMS_CAP_MEMORY,     /* num/den of the memory, in the setting's unit */
	PGPARAMS_CAP_STORAGE,    /* num/den of the storage, in the setting's unit */
	PGPARAMS_CAP_CPU,        /* max(8, num x CPUs) */
	PGPARAMS_CAP_CONNECTIONS /* memory MB / 2, within [100, 10000] */
};

/* One changeable setting. A range given here narrows the server's. */
struct pgparams_rule {
	const char *name;
	const char *desc_cn;
	unsigned flags;                /* PGPARAMS_F_ADVANCED, PGPARAMS_F_STANDBY */
	enum pgparams_source source;
	const char *const *values;     /* NULL-terminated */
	bool has_range;
	double min, max;
	enum pgparams_cap cap;
	int cap_num, cap_den;
};

/* One reserved setting (or, with prefix, every setting starting so). */
struct pgparams_reserved {
	const char *name;
	bool prefix;
	const char *why;
};

extern const struct pgparams_rule pgparams_rules[];
extern const size_t pgparams_nrules;
extern const char *const pgparams_libraries[];  /* preload candidates, NULL-terminated */

/* The rule for `name` (case-insensitive) or NULL; *index its row number. */
const struct pgparams_rule *pgparams_rule_find(const char *name, size_t *index);

/* The reserved entry matching `name`, or NULL. */
const struct pgparams_reserved *pgparams_reserved_find(const char *name);

/* The spec-derived maximum of `r` for `spec` in unit `unit`; false when the
 * rule has no cap. */
bool pgparams_cap_max(const struct pgparams_rule *r, const struct pgnode_conf *spec, const char *unit,
		      double *max);

/* Multiplier from MB to `unit` ("8kB", "kB", "MB", "B"), 0 for a unit that
 * is not a memory unit. */
double pgparams_per_mb(const char *unit);

#endif
