/*
 * pgparams_value.c - a tenant's value for a setting, checked and made
 * canonical (see pgparams.h), and the conversions between the forms a value
 * takes: configuration-file text ("512MB") and pg_settings.setting (65536,
 * in the unit pg_settings shows).
 *
 * Input grammar, deliberately narrower than PostgreSQL's:
 *   integer  -?[0-9]+                       (no unit, no sign '+', no spaces)
 *   real     -?([0-9]+(.[0-9]*)?|.[0-9]+)([eE][-+]?[0-9]+)?
 *   bool     on off true false yes no 1 0   (any case) -> on / off
 *   enum     one of the catalog's values    (any case) -> the catalog's spelling
 *   multi    enum values separated by commas, each at most once, at least one
 * Anything else, including every byte below 0x20 and 0x7f, is refused before
 * a value is looked at, so no value can carry a quote, a newline or a
 * comment into a configuration file.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg/pgparams_int.h"

#define PGPARAMS_MULTI_MAX 16     /* items of one list value */

/* ---- ranges -------------------------------------------------------------- */

void pgparams_range(const struct pgparams_def *d, const struct pgnode_conf *spec, double *min, double *max)
{
	double cap;

	*min = 0;
	*max = 0;
	if (d->kind != PGPARAMS_K_INTEGER && d->kind != PGPARAMS_K_REAL)
		return;
	*min = d->min;
	*max = d->max;
	if (d->rule == NULL)
		return;
	if (d->rule->has_range) {
		*min = d->rule->min > *min ? d->rule->min : *min;
		*max = d->rule->max < *max ? d->rule->max : *max;
	}
	if (spec != NULL && pgparams_cap_max(d->rule, spec, d->unit, &cap) && cap < *max)
		*max = cap < *min ? *min : cap;
}

int pgparams_spec_default(const struct pgparams_def *d, const struct pgnode_conf *spec, char *out, size_t cap)
{
	struct pgnode_spec_setting s[PGNODE_SPEC_SETTINGS];
	struct err e;
	int n = pgnode_conf_spec_settings(spec, s, &e);

	for (int i = 0; i < n; i++)
		if (strcasecmp(s[i].name, d->name) == 0) {
			snprintf(out, cap, "%lld", s[i].value);
			return 0;
		}
	return -1;
}

/* ---- canonical forms ----------------------------------------------------- */

/* Shortest "%g" form that reads back as the same double. */
static void pgparams_print_real(double v, char *out, size_t cap)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static bool pgparams_is_int(const char *s)
{
	const char *p = s + (*s == '-');

	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

static bool pgparams_is_real(const char *s)
{
	const char *p = s + (*s == '-');
	size_t digits = 0;

	for (; isdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (digits == 0)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		p += *p == '-' || *p == '+';
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

static int pgparams_bool(const char *s, char *out, size_t cap)
{
	static const char *const yes[] = { "on", "true", "yes", "1", NULL };
	static const char *const no[] = { "off", "false", "no", "0", NULL };

	for (size_t i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return snprintf(out, cap, "on") < 0 ? -1 : 0;
		if (strcasecmp(s, no[i]) == 0)
			return snprintf(out, cap, "off") < 0 ? -1 : 0;
	}
	return -1;
}

/* The catalog's spelling of `s` (len bytes) among d->values, or NULL. */
static const char *pgparams_enum_match(const struct pgparams_def *d, const char *s, size_t len)
{
	for (size_t i = 0; i < d->nvalues; i++)
		if (strlen(d->values[i]) == len && strncasecmp(d->values[i], s, len) == 0)
			return d->values[i];
	return NULL;
}

/* "a, b,c" -> "a,b,c" with every item a known value, none twice. */
static int pgparams_multi(const struct pgparams_def *d, const char *s, char *out, size_t cap)
{
	const char *items[PGPARAMS_MULTI_MAX];
	size_t n = 0, used = 0;

	out[0] = '\0';
	/* at least one item: ALTER SYSTEM turns an empty list into '""', the
	 * one library named "" */
	if (*s == '\0' || s[strlen(s) - 1] == ',')
		return -1;
	for (const char *p = s; *p != '\0';) {
		size_t len = strcspn(p, ",");
		const char *b = p, *v;
		while (len > 0 && *b == ' ')
			b++, len--;
		while (len > 0 && b[len - 1] == ' ')
			len--;
		p += strcspn(p, ",");
		p += *p == ',';
		if (len == 0 || n == PGPARAMS_MULTI_MAX || (v = pgparams_enum_match(d, b, len)) == NULL)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (items[i] == v)
				return -1;
		items[n++] = v;
		int w = snprintf(out + used, cap - used, "%s%s", n > 1 ? "," : "", v);
		if (w < 0 || (size_t)w >= cap - used)
			return -1;
		used += (size_t)w;
	}
	return 0;
}

/* The canonical form of `value`; -1 when it has the wrong form. *num
 * receives the number of INTEGER and REAL kinds. */
static int pgparams_canonical(const struct pgparams_def *d, const char *value, char *out, size_t cap, double *num)
{
	const char *v;
	char *end;

	switch (d->kind) {
	case PGPARAMS_K_BOOL:
		return pgparams_bool(value, out, cap);
	case PGPARAMS_K_INTEGER: {
		if (!pgparams_is_int(value) || strlen(value) > 20)
			return -1;
		errno = 0;
		long long n = strtoll(value, &end, 10);
		if (errno != 0 || *end != '\0')
			return -1;
		*num = (double)n;
		return snprintf(out, cap, "%lld", n) < 0 ? -1 : 0;
	}
	case PGPARAMS_K_REAL:
		if (!pgparams_is_real(value))
			return -1;
		*num = strtod(value, &end);
		if (*end != '\0' || !isfinite(*num))
			return -1;
		pgparams_print_real(*num == 0 ? 0 : *num, out, cap);
		return 0;
	case PGPARAMS_K_ENUM:
		if ((v = pgparams_enum_match(d, value, strlen(value))) == NULL)
			return -1;
		return snprintf(out, cap, "%s", v) < 0 ? -1 : 0;
	case PGPARAMS_K_MULTI:
		return pgparams_multi(d, value, out, cap);
	default:
		return -1;
	}
}

/* ---- checking ------------------------------------------------------------ */

static bool pgparams_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static const char *pgparams_kind_hint(const struct pgparams_def *d)
{
	switch (d->kind) {
	case PGPARAMS_K_BOOL:
		return "on or off";
	case PGPARAMS_K_INTEGER:
		return d->unit[0] != '\0' ? "a whole number, in the unit the parameter lists, without a unit suffix"
					  : "a whole number";
	case PGPARAMS_K_REAL:
		return "a number";
	case PGPARAMS_K_ENUM:
		return "one of the parameter's EnumValue";
	default:
		return "a comma-separated list of the parameter's EnumValue";
	}
}

static int pgparams_check_name(const struct pgparams_catalog *c, const char *name,
			       const struct pgparams_def **def, struct err *e)
{
	const struct pgparams_reserved *r;

	if (strlen(name) > PGPARAMS_NAME_MAX || !pgparams_printable(name) || (*def = pgparams_find(c, name)) == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "The parameter `%.64s` does not exist in PostgreSQL %s.", name, c->version);
	if ((*def)->kind != PGPARAMS_K_NONE)
		return 0;
	r = pgparams_reserved_find((*def)->name);
	if (r != NULL)
		return err_set(e, ERR_OPERATION_DENIED_CAM_DENIED_ERROR,
			       "The parameter `%s` is reserved: %s.", (*def)->name, r->why);
	return err_set(e, ERR_OPERATION_DENIED_CAM_DENIED_ERROR, "The parameter `%s` cannot be modified%s.",
		       (*def)->name, (*def)->context == PGPARAMS_C_INTERNAL ? " (it is fixed when PostgreSQL is built)" : "");
}

int pgparams_check(const struct pgparams_catalog *c, const char *name, const char *value,
		   const struct pgnode_conf *spec, const struct pgparams_def **def, char *out, size_t cap,
		   struct err *e)
{
	double num = 0, min, max;

	if (pgparams_check_name(c, name, def, e) < 0)
		return -1;
	if (strlen(value) > PGPARAMS_VALUE_MAX || !pgparams_printable(value) ||
	    pgparams_canonical(*def, value, out, cap, &num) < 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "The value `%.64s` of `%s` is not valid: expected %s.", pgparams_printable(value) ? value : "?",
			       (*def)->name, pgparams_kind_hint(*def));
	pgparams_range(*def, spec, &min, &max);
	if (((*def)->kind == PGPARAMS_K_INTEGER || (*def)->kind == PGPARAMS_K_REAL) && (num < min || num > max))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_PARAMETER_OUT_OF_RANGE_ERROR,
			       "The value %s of `%s` is out of range: %.17g to %.17g%s%s.", out, (*def)->name, min, max,
			       (*def)->unit[0] ? " " : "", (*def)->unit);
	return 0;
}

/* ---- configuration-file values ------------------------------------------- */

struct pgparams_unit {
	const char *name;
	double bytes_or_ms;
	bool memory;
};

static const struct pgparams_unit pgparams_units[] = {
	{ "B", 1, true }, { "kB", 1024, true }, { "MB", 1048576, true }, { "GB", 1073741824.0, true },
	{ "TB", 1099511627776.0, true }, { "us", 0.001, false }, { "ms", 1, false }, { "s", 1000, false },
	{ "min", 60000, false }, { "h", 3600000, false }, { "d", 86400000, false },
};

static const struct pgparams_unit *pgparams_unit_find(const char *s)
{
	for (size_t i = 0; i < sizeof(pgparams_units) / sizeof(pgparams_units[0]); i++)
		if (strcmp(pgparams_units[i].name, s) == 0)
			return &pgparams_units[i];
	return NULL;
}

/* The size of one `base` unit ("8kB", "kB", "MB", "B", "ms", "s", "min"). */
static const struct pgparams_unit *pgparams_base_unit(const char *base, double *size)
{
	const struct pgparams_unit *u;

	if (strcmp(base, "8kB") == 0) {
		*size = 8192;
		return pgparams_unit_find("kB");
	}
	u = pgparams_unit_find(base);
	if (u != NULL)
		*size = u->bytes_or_ms;
	return u;
}

/* "512MB" -> number in d's unit (PostgreSQL rounds to the nearest unit). */
static int pgparams_number(const struct pgparams_def *d, const char *text, double *v)
{
	char *end;
	double size = 1;
	const struct pgparams_unit *given, *base;

	*v = strtod(text, &end);
	if (end == text || !isfinite(*v))
		return -1;
	while (*end == ' ')
		end++;
	if (*end == '\0')
		return 0;
	given = pgparams_unit_find(end);
	base = pgparams_base_unit(d->unit, &size);
	if (given == NULL || base == NULL || given->memory != base->memory)
		return -1;
	*v = *v * given->bytes_or_ms / size;
	if (d->type == PGPARAMS_T_INTEGER)
		*v = round(*v);
	return 0;
}

int pgparams_to_base(const struct pgparams_def *d, const char *text, char *out, size_t cap)
{
	double v;
	const char *m;

	switch (d->type) {
	case PGPARAMS_T_BOOL:
		return pgparams_bool(text, out, cap);
	case PGPARAMS_T_INTEGER:
		if (pgparams_number(d, text, &v) < 0)
			return -1;
		snprintf(out, cap, "%.0f", v);
		return 0;
	case PGPARAMS_T_REAL:
		if (pgparams_number(d, text, &v) < 0)
			return -1;
		pgparams_print_real(v, out, cap);
		return 0;
	case PGPARAMS_T_ENUM:
		m = pgparams_enum_match(d, text, strlen(text));
		snprintf(out, cap, "%s", m != NULL ? m : text);
		return 0;
	default:
		m = d->kind == PGPARAMS_K_ENUM ? pgparams_enum_match(d, text, strlen(text)) : NULL;
		snprintf(out, cap, "%s", m != NULL ? m : text);
		return 0;
	}
}

/* ---- comparison ---------------------------------------------------------- */

static bool pgparams_same_list(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		size_t la = strcspn(a, ","), lb = strcspn(b, ",");
		while (la > 0 && a[la - 1] == ' ')
			la--;
		while (lb > 0 && b[lb - 1] == ' ')
			lb--;
		if (la != lb || strncasecmp(a, b, la) != 0)
			return false;
		a += strcspn(a, ",");
		b += strcspn(b, ",");
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		a++;
		b++;
	}
}

bool pgparams_same(const struct pgparams_def *d, const char *a, const char *b)
{
	char ca[PGPARAMS_VALUE_MAX + 1], cb[PGPARAMS_VALUE_MAX + 1];

	if (a == NULL || b == NULL)
		return a == b;
	switch (d->type) {
	case PGPARAMS_T_INTEGER:
	case PGPARAMS_T_REAL: {
		char *ea, *eb;
		double x = strtod(a, &ea), y = strtod(b, &eb);
		if (*ea != '\0' || *eb != '\0')
			return strcmp(a, b) == 0;
		return x == y || fabs(x - y) <= 1e-9 * fmax(fabs(x), fabs(y));
	}
	case PGPARAMS_T_BOOL:
		if (pgparams_bool(a, ca, sizeof(ca)) < 0 || pgparams_bool(b, cb, sizeof(cb)) < 0)
			return strcasecmp(a, b) == 0;
		return strcmp(ca, cb) == 0;
	default:
		return pgparams_same_list(a, b);
	}
}
