/*
 * pricing.h - the price book (the config's "pricing" object, shape in
 * core/pricing_default.h) and what things cost: a purchase, a renewal, a
 * change of spec, an hour of a pay-as-you-go instance.
 *
 * Amounts are held in hundredths of a cent (PRICING_SCALE per cent) so that
 * small hourly rates add up exactly; every quote is rounded to whole cents
 * (half up) once, at the end, because the API answers prices in cents of
 * the book's Currency. Arithmetic is done in 128 bits and results are
 * capped at PRICING_CENTS_MAX, so no request can overflow it.
 *
 * The book is loaded once at start (pricing_load) and is immutable until the
 * next pricing_load, so the HTTP workers and the supervisor read it without
 * locks.
 */
#ifndef PGFLEET_TASK_PRICING_H
#define PGFLEET_TASK_PRICING_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"

#define PRICING_SCALE        100              /* units per cent */
#define PRICING_AMOUNT_MAX   1000000000.0     /* cents, any one rate in the book */
#define PRICING_CENTS_MAX    INT64_C(1000000000000000) /* cap of a quote, cents */
#define PRICING_SPECS_MAX    128
#define PRICING_DISCOUNTS_MAX 16
#define PRICING_MONTH_S      (30LL * 86400)   /* a month of a prepaid period */
#define PRICING_HOUR_S       3600LL

/* What is being priced: a spec (its code, and its cores and memory for
 * specs the book does not list) with an amount of storage. */
struct pricing_item {
	const char *spec_code;
	int cpu;
	int memory_mb;
	long long storage_gb;
};

/* A price in cents: the list price and the price after discounts. */
struct pricing_quote {
	int64_t original;
	int64_t price;
};

/* Check and load a price book, replacing the loaded one. A malformed book
 * fails with ERR_INVALID_PARAMETER_VALUE naming the faulty entry and keeps
 * the previous one. */
int pricing_load(const json_t *book, struct err *e);

/* Forget the loaded book. */
void pricing_close(void);

/* The book's currency ("CNY"); "" when no book is loaded. */
const char *pricing_currency(void);

/* `count` instances of `it` bought (or renewed) for `months` months:
 * OriginalPrice at list price, Price after the book's period discount. */
void pricing_prepaid(const struct pricing_item *it, long long months, long long count,
		     struct pricing_quote *q);

/* `hours` hours of `count` pay-as-you-go instances of `it` (no discount). */
void pricing_hourly(const struct pricing_item *it, long long hours, long long count,
		    struct pricing_quote *q);

/* Changing a prepaid instance from `from` to `to` with `remaining_s`
 * seconds of its period left: the monthly difference for the time left
 * (never below zero: a smaller spec is not refunded). */
void pricing_prepaid_change(const struct pricing_item *from, const struct pricing_item *to,
			    int64_t remaining_s, struct pricing_quote *q);

/* The discount percentage (1..100) of a prepaid period of `months`. */
int pricing_discount_percent(long long months);

#endif
