/*
 * pricing.c - the price book and quotes (see pricing.h).
 *
 * pricing_load checks the book's shape key by key (unknown keys are refused
 * so that a typo does not silently price something at zero) and copies it
 * into a fixed struct; quotes are computed from that copy.
 *
 * A spec's monthly (hourly) rate is its row of "specs"; a spec without a row
 * costs MonthlyPerCore x cores + MonthlyPerGbMemory x GB of memory (and the
 * hourly pair likewise), so that any catalog an operator writes can be
 * sold. Storage adds MonthlyPerGb (HourlyPerGb) per GB.
 */
#include "task/pricing.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRICING_CODE_MAX 64
#define PRICING_CODE_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-._"

typedef __int128 pricing_wide;

struct pricing_rate {
	int64_t monthly;   /* hundredths of a cent */
	int64_t hourly;
};

struct pricing_spec {
	char code[PRICING_CODE_MAX];
	struct pricing_rate rate;
};

struct pricing_discount {
	int period;
	int percent;
};

struct pricing_book {
	char currency[8];
	struct pricing_spec specs[PRICING_SPECS_MAX];
	size_t nspecs;
	struct pricing_rate per_core, per_gb_memory, per_gb_storage;
	struct pricing_discount discounts[PRICING_DISCOUNTS_MAX];
	size_t ndiscounts;
};

static struct pricing_book *pricing_cur;

/* ---- loading ---- */

/* Refuse keys of `obj` outside the NULL-terminated `known`. */
static int pricing_keys(const json_t *obj, const char *where, const char *const *known, struct err *e)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (const char *const *k = known; *k != NULL; k++)
			ok |= strcmp(*k, key) == 0;
		if (!ok)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: %s: unknown key \"%.64s\"", where, key);
	}
	return 0;
}

/* An amount in cents with at most two decimals, into hundredths of a cent. */
static int pricing_amount(const json_t *obj, const char *key, const char *where, int64_t *out, struct err *e)
{
	json_t *v = json_object_get(obj, key);
	double d, units;

	if (!json_is_number(v))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: %s: %s must be a number of cents", where, key);
	d = json_number_value(v);
	units = d * PRICING_SCALE;
	if (!(d >= 0 && d <= PRICING_AMOUNT_MAX) || fabs(units - nearbyint(units)) > 1e-6)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "pricing: %s: %s must be 0..%.0f cents with at most two decimals", where, key,
			       PRICING_AMOUNT_MAX);
	*out = (int64_t)llround(units);
	return 0;
}

static int pricing_int(const json_t *obj, const char *key, const char *where, int lo, int hi, int *out,
		       struct err *e)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: %s: %s must be an integer in %d..%d", where,
			       key, lo, hi);
	*out = (int)json_integer_value(v);
	return 0;
}

static int pricing_currency_load(struct pricing_book *b, const json_t *book, struct err *e)
{
	const char *c = json_string_value(json_object_get(book, "Currency"));

	if (c == NULL || strlen(c) != 3 || strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: Currency must be a 3-letter code like \"CNY\"");
	memcpy(b->currency, c, 4);
	return 0;
}

static int pricing_spec_load(struct pricing_book *b, const json_t *row, size_t i, struct err *e)
{
	static const char *const known[] = { "SpecCode", "Monthly", "Hourly", NULL };
	struct pricing_spec *s = &b->specs[b->nspecs];
	const char *code = json_string_value(json_object_get(row, "SpecCode"));
	char where[96];

	snprintf(where, sizeof(where), "specs[%zu]", i);
	if (!json_is_object(row))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: %s must be an object", where);
	if (code == NULL || code[0] == '\0' || strlen(code) >= sizeof(s->code) ||
	    strspn(code, PRICING_CODE_CHARS) != strlen(code))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: %s: SpecCode must be 1..63 of [a-z0-9._-]",
			       where);
	for (size_t j = 0; j < b->nspecs; j++)
		if (strcmp(b->specs[j].code, code) == 0)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: %s: SpecCode %s is listed twice", where,
				       code);
	snprintf(where, sizeof(where), "spec %s", code);
	if (pricing_keys(row, where, known, e) != 0 || pricing_amount(row, "Monthly", where, &s->rate.monthly, e) != 0 ||
	    pricing_amount(row, "Hourly", where, &s->rate.hourly, e) != 0)
		return -1;
	memcpy(s->code, code, strlen(code) + 1);
	b->nspecs++;
	return 0;
}

static int pricing_specs_load(struct pricing_book *b, const json_t *book, struct err *e)
{
	json_t *specs = json_object_get(book, "specs");
	size_t i;
	json_t *row;

	if (!json_is_array(specs) || json_array_size(specs) > PRICING_SPECS_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: specs must be an array of at most %d entries",
			       PRICING_SPECS_MAX);
	json_array_foreach(specs, i, row)
		if (pricing_spec_load(b, row, i, e) != 0)
			return -1;
	return 0;
}

static int pricing_rates_load(struct pricing_book *b, const json_t *book, struct err *e)
{
	static const char *const dkeys[] = { "MonthlyPerCore", "MonthlyPerGbMemory", "HourlyPerCore",
					     "HourlyPerGbMemory", NULL };
	static const char *const skeys[] = { "MonthlyPerGb", "HourlyPerGb", NULL };
	json_t *d = json_object_get(book, "default");
	json_t *s = json_object_get(book, "storage");

	if (!json_is_object(d) || !json_is_object(s))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: \"default\" and \"storage\" must be objects");
	if (pricing_keys(d, "default", dkeys, e) != 0 || pricing_keys(s, "storage", skeys, e) != 0)
		return -1;
	if (pricing_amount(d, "MonthlyPerCore", "default", &b->per_core.monthly, e) != 0 ||
	    pricing_amount(d, "HourlyPerCore", "default", &b->per_core.hourly, e) != 0 ||
	    pricing_amount(d, "MonthlyPerGbMemory", "default", &b->per_gb_memory.monthly, e) != 0 ||
	    pricing_amount(d, "HourlyPerGbMemory", "default", &b->per_gb_memory.hourly, e) != 0 ||
	    pricing_amount(s, "MonthlyPerGb", "storage", &b->per_gb_storage.monthly, e) != 0 ||
	    pricing_amount(s, "HourlyPerGb", "storage", &b->per_gb_storage.hourly, e) != 0)
		return -1;
	return 0;
}

static int pricing_discounts_load(struct pricing_book *b, const json_t *book, struct err *e)
{
	static const char *const known[] = { "Period", "Percent", NULL };
	json_t *list = json_object_get(book, "discounts");
	size_t i;
	json_t *row;
	char where[32];

	if (list == NULL)
		return 0;
	if (!json_is_array(list) || json_array_size(list) > PRICING_DISCOUNTS_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: discounts must be an array of at most %d entries",
			       PRICING_DISCOUNTS_MAX);
	json_array_foreach(list, i, row) {
		struct pricing_discount *d = &b->discounts[b->ndiscounts];
		snprintf(where, sizeof(where), "discounts[%zu]", i);
		if (!json_is_object(row))
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: %s must be an object", where);
		if (pricing_keys(row, where, known, e) != 0 || pricing_int(row, "Period", where, 1, 120, &d->period, e) != 0 ||
		    pricing_int(row, "Percent", where, 1, 100, &d->percent, e) != 0)
			return -1;
		for (size_t j = 0; j < b->ndiscounts; j++)
			if (b->discounts[j].period == d->period)
				return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: %s: Period %d is listed twice",
					       where, d->period);
		b->ndiscounts++;
	}
	return 0;
}

int pricing_load(const json_t *book, struct err *e)
{
	static const char *const known[] = { "Currency", "specs", "default", "storage", "discounts", NULL };
	struct pricing_book *b;

	if (!json_is_object(book))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "pricing: expected an object");
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (pricing_keys(book, "top level", known, e) != 0 || pricing_currency_load(b, book, e) != 0 ||
	    pricing_specs_load(b, book, e) != 0 || pricing_rates_load(b, book, e) != 0 ||
	    pricing_discounts_load(b, book, e) != 0) {
		free(b);
		return -1;
	}
	free(pricing_cur);
	pricing_cur = b;
	return 0;
}

void pricing_close(void)
{
	free(pricing_cur);
	pricing_cur = NULL;
}

const char *pricing_currency(void)
{
	return pricing_cur ? pricing_cur->currency : "";
}

/* ---- quotes ---- */

/* Monthly and hourly rate of one instance of `it`, storage included. */
static struct pricing_rate pricing_rate_of(const struct pricing_item *it)
{
	const struct pricing_book *b = pricing_cur;
	struct pricing_rate r = { 0, 0 };
	bool listed = false;

	if (b == NULL)
		return r;
	for (size_t i = 0; i < b->nspecs && !listed; i++)
		if (it->spec_code != NULL && strcmp(b->specs[i].code, it->spec_code) == 0) {
			r = b->specs[i].rate;
			listed = true;
		}
	if (!listed) {
		r.monthly = b->per_core.monthly * it->cpu + b->per_gb_memory.monthly * it->memory_mb / 1024;
		r.hourly = b->per_core.hourly * it->cpu + b->per_gb_memory.hourly * it->memory_mb / 1024;
	}
	r.monthly += b->per_gb_storage.monthly * it->storage_gb;
	r.hourly += b->per_gb_storage.hourly * it->storage_gb;
	return r;
}

/* Hundredths of a cent -> cents, half up, capped. */
static int64_t pricing_cents(pricing_wide units)
{
	pricing_wide c = (units + PRICING_SCALE / 2) / PRICING_SCALE;

	return c > PRICING_CENTS_MAX ? PRICING_CENTS_MAX : c < 0 ? 0 : (int64_t)c;
}

static void pricing_quote_set(pricing_wide units, int percent, struct pricing_quote *q)
{
	q->original = pricing_cents(units);
	q->price = pricing_cents((units * percent + 50) / 100);
}

int pricing_discount_percent(long long months)
{
	const struct pricing_book *b = pricing_cur;
	int best = 0, percent = 100;

	for (size_t i = 0; b != NULL && i < b->ndiscounts; i++)
		if (b->discounts[i].period <= months && b->discounts[i].period > best) {
			best = b->discounts[i].period;
			percent = b->discounts[i].percent;
		}
	return percent;
}

void pricing_prepaid(const struct pricing_item *it, long long months, long long count, struct pricing_quote *q)
{
	struct pricing_rate r = pricing_rate_of(it);

	pricing_quote_set((pricing_wide)r.monthly * months * count, pricing_discount_percent(months), q);
}

void pricing_hourly(const struct pricing_item *it, long long hours, long long count, struct pricing_quote *q)
{
	struct pricing_rate r = pricing_rate_of(it);

	pricing_quote_set((pricing_wide)r.hourly * hours * count, 100, q);
}

void pricing_prepaid_change(const struct pricing_item *from, const struct pricing_item *to, int64_t remaining_s,
			    struct pricing_quote *q)
{
	pricing_wide diff = (pricing_wide)pricing_rate_of(to).monthly - pricing_rate_of(from).monthly;

	if (diff < 0 || remaining_s <= 0)
		diff = 0;
	pricing_quote_set(diff * remaining_s / PRICING_MONTH_S, 100, q);
}
