/*
 * metrics.h - the daemon's Prometheus metrics: a registry of counters,
 * gauges and histograms with labels, cheap to update from any thread, and
 * the text exposition format (version 0.0.4) to show them.
 *
 * A family is declared once (name, help, type, label names, histogram
 * buckets) and lives for the whole process. Updating a series looks it up
 * by its label values in the family's open-addressing table without a lock
 * (slots are published with release stores; only inserting a new series
 * takes the family's mutex) and then changes atomics. A family holds at
 * most METRICS_SERIES_MAX series: further label combinations are dropped
 * and counted in pgfleet_metrics_dropped_series_total, so that label values
 * coming from requests can never grow memory without bound.
 *
 * Values that come from elsewhere at scrape time (instances, tasks) are
 * not registered: the /metrics route writes them with the metrics_text_*
 * helpers after metrics_render().
 */
#ifndef PGFLEET_CORE_METRICS_H
#define PGFLEET_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#define METRICS_LABELS_MAX 4
#define METRICS_BUCKETS_MAX 20
#define METRICS_SERIES_MAX 4096      /* series per family */
#define METRICS_LABEL_VALUE_MAX 128  /* bytes of a label value kept */

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

struct metrics_family;

/* Register a family (call once, e.g. under pthread_once). `labels` is a
 * NULL-terminated list of at most METRICS_LABELS_MAX names; `buckets`
 * (histograms) ascending upper bounds, at most METRICS_BUCKETS_MAX. NULL
 * when out of memory or the arguments are wrong. */
struct metrics_family *metrics_family_new(const char *name, const char *help, enum metrics_type type,
					  const char *const *labels, const double *buckets, size_t nbuckets);

/* Counters: add v >= 0. Gauges: add any v, or set. Histograms: observe.
 * `values` holds one value per label name (NULL values count as ""). */
void metrics_add(struct metrics_family *f, const char *const *values, double v);
void metrics_set(struct metrics_family *f, const char *const *values, double v);
void metrics_observe(struct metrics_family *f, const char *const *values, double v);

/* The current value of a counter/gauge series (0 when absent; tests). */
double metrics_value(struct metrics_family *f, const char *const *values);

/* ---- the text format ---- */

struct metrics_text {
	char *buf;
	size_t len, cap;
	bool failed;             /* out of memory: the text is incomplete */
};

/* Every registered family, in registration order. */
void metrics_render(struct metrics_text *t);

/* "# HELP name help\n# TYPE name type\n" (type: counter, gauge, ...). */
void metrics_text_family(struct metrics_text *t, const char *name, const char *help, const char *type);

/* One sample line: name{l1="v1",...} value. Label values are escaped. */
void metrics_text_sample(struct metrics_text *t, const char *name, const char *const *lnames,
			 const char *const *lvalues, size_t nlabels, double value);

void metrics_text_free(struct metrics_text *t);

/* ---- the daemon's own families ---- */

/* One API request: pgfleet_api_requests_total{action,code} and
 * pgfleet_api_request_duration_seconds{action} (code "" = success is shown
 * as "OK"). */
void metrics_api_request(const char *action, const char *code, double seconds);

#endif
