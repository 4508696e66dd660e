/*
 * metrics.c - see metrics.h.
 *
 * Each series stores its values as the bit patterns of doubles in 64-bit
 * atomics (added to with a compare-and-swap loop); a histogram series has
 * one non-cumulative count per bucket plus one for +Inf, and its _count is
 * the sum of those, so a scrape always sees count == the +Inf bucket even
 * while other threads observe.
 */
#include "core/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_SLOTS (METRICS_SERIES_MAX * 2)   /* power of two, load <= 1/2 */
#define METRICS_FAMILIES_MAX 64

struct metrics_series {
	uint64_t hash;
	char *values[METRICS_LABELS_MAX];
	_Atomic uint64_t value;                    /* double bits: counter/gauge value, histogram sum */
	_Atomic uint64_t counts[];                 /* histograms: nbuckets + 1 */
};

struct metrics_family {
	char *name, *help;
	enum metrics_type type;
	char *labels[METRICS_LABELS_MAX];
	size_t nlabels;
	double buckets[METRICS_BUCKETS_MAX];
	size_t nbuckets;
	pthread_mutex_t mu;                        /* inserting series */
	_Atomic size_t nseries;
	_Atomic(struct metrics_series *) slots[METRICS_SLOTS];
};

static pthread_mutex_t metrics_mu = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_family *metrics_families[METRICS_FAMILIES_MAX];
static size_t metrics_nfamilies;
static struct metrics_family *metrics_dropped;

static uint64_t metrics_bits(double v)
{
	uint64_t b;

	memcpy(&b, &v, sizeof(b));
	return b;
}

static double metrics_double(uint64_t b)
{
	double v;

	memcpy(&v, &b, sizeof(v));
	return v;
}

static void metrics_atomic_add(_Atomic uint64_t *a, double v)
{
	uint64_t old = atomic_load_explicit(a, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(a, &old, metrics_bits(metrics_double(old) + v),
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* ---- families ---- */

static bool metrics_family_args_ok(const char *const *labels, const double *buckets, size_t nbuckets)
{
	size_t n = 0;

	while (labels != NULL && labels[n] != NULL)
		n++;
	if (n > METRICS_LABELS_MAX || nbuckets > METRICS_BUCKETS_MAX)
		return false;
	for (size_t i = 1; i < nbuckets; i++)
		if (!(buckets[i] > buckets[i - 1]))
			return false;
	return true;
}

static void metrics_family_free(struct metrics_family *f)
{
	if (f == NULL)
		return;
	free(f->name);
	free(f->help);
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

struct metrics_family *metrics_family_new(const char *name, const char *help, enum metrics_type type,
					  const char *const *labels, const double *buckets, size_t nbuckets)
{
	struct metrics_family *f;
	bool ok;

	if (!metrics_family_args_ok(labels, buckets, nbuckets) || (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	pthread_mutex_init(&f->mu, NULL);
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help);
	ok = f->name != NULL && f->help != NULL;
	for (; ok && labels != NULL && labels[f->nlabels] != NULL; f->nlabels++)
		ok = (f->labels[f->nlabels] = strdup(labels[f->nlabels])) != NULL;
	if (type == METRICS_HISTOGRAM && nbuckets > 0) {
		memcpy(f->buckets, buckets, nbuckets * sizeof(*buckets));
		f->nbuckets = nbuckets;
	}
	pthread_mutex_lock(&metrics_mu);
	ok = ok && metrics_nfamilies < METRICS_FAMILIES_MAX;
	if (ok)
		metrics_families[metrics_nfamilies++] = f;
	pthread_mutex_unlock(&metrics_mu);
	if (!ok) {
		metrics_family_free(f);
		return NULL;
	}
	return f;
}

/* ---- series ---- */

static const char *metrics_val(const char *const *values, size_t i)
{
	return values != NULL && values[i] != NULL ? values[i] : "";
}

static uint64_t metrics_hash(const struct metrics_family *f, const char *const *values)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < f->nlabels; i++) {
		const char *v = metrics_val(values, i);
		for (size_t k = 0; v[k] != '\0' && k < METRICS_LABEL_VALUE_MAX; k++)
			h = (h ^ (unsigned char)v[k]) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static bool metrics_same(const struct metrics_family *f, const struct metrics_series *s, const char *const *values)
{
	for (size_t i = 0; i < f->nlabels; i++)
		if (strncmp(s->values[i], metrics_val(values, i), METRICS_LABEL_VALUE_MAX) != 0)
			return false;
	return true;
}

static struct metrics_series *metrics_series_new(const struct metrics_family *f, uint64_t h,
						 const char *const *values)
{
	size_t ncounts = f->type == METRICS_HISTOGRAM ? f->nbuckets + 1 : 0;
	struct metrics_series *s = calloc(1, sizeof(*s) + ncounts * sizeof(s->counts[0]));

	if (s == NULL)
		return NULL;
	s->hash = h;
	for (size_t i = 0; i < f->nlabels; i++) {
		s->values[i] = strndup(metrics_val(values, i), METRICS_LABEL_VALUE_MAX);
		if (s->values[i] == NULL) {
			for (size_t k = 0; k < i; k++)
				free(s->values[k]);
			free(s);
			return NULL;
		}
	}
	return s;
}

static void metrics_note_dropped(void);

/* The series of `values`, created when new; NULL when the family is full. */
static struct metrics_series *metrics_series(struct metrics_family *f, const char *const *values)
{
	uint64_t h = metrics_hash(f, values);
	size_t i = (size_t)h & (METRICS_SLOTS - 1);
	struct metrics_series *s;

	for (;; i = (i + 1) & (METRICS_SLOTS - 1)) {
		s = atomic_load_explicit(&f->slots[i], memory_order_acquire);
		if (s == NULL)
			break;
		if (s->hash == h && metrics_same(f, s, values))
			return s;
	}
	pthread_mutex_lock(&f->mu);
	/* another thread may have filled this slot (or a later one) meanwhile */
	for (;; i = (i + 1) & (METRICS_SLOTS - 1)) {
		s = atomic_load_explicit(&f->slots[i], memory_order_acquire);
		if (s == NULL)
			break;
		if (s->hash == h && metrics_same(f, s, values)) {
			pthread_mutex_unlock(&f->mu);
			return s;
		}
	}
	if (atomic_load(&f->nseries) < METRICS_SERIES_MAX && (s = metrics_series_new(f, h, values)) != NULL) {
		atomic_store_explicit(&f->slots[i], s, memory_order_release);
		atomic_fetch_add(&f->nseries, 1);
	}
	pthread_mutex_unlock(&f->mu);
	if (s == NULL && f != metrics_dropped)
		metrics_note_dropped();
	return s;
}

void metrics_add(struct metrics_family *f, const char *const *values, double v)
{
	struct metrics_series *s = f ? metrics_series(f, values) : NULL;

	if (s != NULL && f->type != METRICS_HISTOGRAM)
		metrics_atomic_add(&s->value, v);
}

void metrics_set(struct metrics_family *f, const char *const *values, double v)
{
	struct metrics_series *s = f ? metrics_series(f, values) : NULL;

	if (s != NULL && f->type == METRICS_GAUGE)
		atomic_store_explicit(&s->value, metrics_bits(v), memory_order_relaxed);
}

void metrics_observe(struct metrics_family *f, const char *const *values, double v)
{
	struct metrics_series *s = f ? metrics_series(f, values) : NULL;
	size_t b = 0;

	if (s == NULL || f->type != METRICS_HISTOGRAM)
		return;
	while (b < f->nbuckets && v > f->buckets[b])
		b++;
	atomic_fetch_add_explicit(&s->counts[b], 1, memory_order_relaxed);
	metrics_atomic_add(&s->value, v);
}

double metrics_value(struct metrics_family *f, const char *const *values)
{
	uint64_t h = metrics_hash(f, values);

	for (size_t i = (size_t)h & (METRICS_SLOTS - 1);; i = (i + 1) & (METRICS_SLOTS - 1)) {
		struct metrics_series *s = atomic_load_explicit(&f->slots[i], memory_order_acquire);
		if (s == NULL)
			return 0;
		if (s->hash == h && metrics_same(f, s, values))
			return metrics_double(atomic_load(&s->value));
	}
}

/* ---- text ---- */

static void metrics_text_put(struct metrics_text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t want = t->cap ? t->cap : 4096;
		while (want < t->len + n + 1)
			want *= 2;
		char *nb = realloc(t->buf, want);
		if (nb == NULL) {
			t->failed = true;
			return;
		}
		t->buf = nb;
		t->cap = want;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void metrics_text_str(struct metrics_text *t, const char *s)
{
	metrics_text_put(t, s, strlen(s));
}

/* Escape for a label value (\\, \", \n) or, with help, for HELP (\\, \n). */
static void metrics_text_escaped(struct metrics_text *t, const char *s, bool help)
{
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\\')
			metrics_text_put(t, "\\\\", 2);
		else if (*p == '\n')
			metrics_text_put(t, "\\n", 2);
		else if (*p == '"' && !help)
			metrics_text_put(t, "\\\"", 2);
		else
			metrics_text_put(t, p, 1);
	}
}

/* The shortest %g text that reads back as exactly v (0.0025, not
 * 0.0025000000000000001). */
static void metrics_shortest(double v, char *out, size_t cap)
{
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, cap, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static void metrics_text_value(struct metrics_text *t, double v)
{
	char num[40];

	if (isnan(v))
		snprintf(num, sizeof(num), "NaN");
	else if (isinf(v))
		snprintf(num, sizeof(num), "%sInf", v > 0 ? "+" : "-");
	else
		metrics_shortest(v, num, sizeof(num));
	metrics_text_str(t, num);
}

void metrics_text_family(struct metrics_text *t, const char *name, const char *help, const char *type)
{
	metrics_text_str(t, "# HELP ");
	metrics_text_str(t, name);
	metrics_text_str(t, " ");
	metrics_text_escaped(t, help, true);
	metrics_text_str(t, "\n# TYPE ");
	metrics_text_str(t, name);
	metrics_text_str(t, " ");
	metrics_text_str(t, type);
	metrics_text_str(t, "\n");
}

void metrics_text_sample(struct metrics_text *t, const char *name, const char *const *lnames,
			 const char *const *lvalues, size_t nlabels, double value)
{
	metrics_text_str(t, name);
	for (size_t i = 0; i < nlabels; i++) {
		metrics_text_str(t, i == 0 ? "{" : ",");
		metrics_text_str(t, lnames[i]);
		metrics_text_str(t, "=\"");
		metrics_text_escaped(t, lvalues[i] ? lvalues[i] : "", false);
		metrics_text_str(t, "\"");
	}
	metrics_text_str(t, nlabels > 0 ? "} " : " ");
	metrics_text_value(t, value);
	metrics_text_str(t, "\n");
}

void metrics_text_free(struct metrics_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

static int metrics_series_cmp(const void *a, const void *b, void *arg)
{
	const struct metrics_family *f = arg;
	const struct metrics_series *x = *(struct metrics_series *const *)a, *y = *(struct metrics_series *const *)b;

	for (size_t i = 0; i < f->nlabels; i++) {
		int c = strcmp(x->values[i], y->values[i]);
		if (c != 0)
			return c;
	}
	return 0;
}

static void metrics_render_histogram(struct metrics_text *t, const struct metrics_family *f,
				     const struct metrics_series *s)
{
	const char *names[METRICS_LABELS_MAX + 1], *values[METRICS_LABELS_MAX + 1];
	char metric[192], le[40];
	uint64_t cum = 0;

	for (size_t i = 0; i < f->nlabels; i++) {
		names[i] = f->labels[i];
		values[i] = s->values[i];
	}
	names[f->nlabels] = "le";
	values[f->nlabels] = le;
	snprintf(metric, sizeof(metric), "%s_bucket", f->name);
	for (size_t b = 0; b <= f->nbuckets; b++) {
		cum += atomic_load_explicit(&s->counts[b], memory_order_relaxed);
		if (b < f->nbuckets)
			metrics_shortest(f->buckets[b], le, sizeof(le));
		else
			snprintf(le, sizeof(le), "+Inf");
		metrics_text_sample(t, metric, names, values, f->nlabels + 1, (double)cum);
	}
	snprintf(metric, sizeof(metric), "%s_sum", f->name);
	metrics_text_sample(t, metric, names, values, f->nlabels, metrics_double(atomic_load(&s->value)));
	snprintf(metric, sizeof(metric), "%s_count", f->name);
	metrics_text_sample(t, metric, names, values, f->nlabels, (double)cum);
}

static void metrics_render_family(struct metrics_text *t, struct metrics_family *f)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	struct metrics_series **v = malloc(METRICS_SERIES_MAX * sizeof(*v));
	size_t n = 0;

	if (v == NULL) {
		t->failed = true;
		return;
	}
	for (size_t i = 0; i < METRICS_SLOTS && n < METRICS_SERIES_MAX; i++) {
		struct metrics_series *s = atomic_load_explicit(&f->slots[i], memory_order_acquire);
		if (s != NULL)
			v[n++] = s;
	}
	qsort_r(v, n, sizeof(*v), metrics_series_cmp, f);
	metrics_text_family(t, f->name, f->help, types[f->type]);
	for (size_t i = 0; i < n; i++) {
		if (f->type == METRICS_HISTOGRAM)
			metrics_render_histogram(t, f, v[i]);
		else
			metrics_text_sample(t, f->name, (const char *const *)f->labels, (const char *const *)v[i]->values,
					    f->nlabels, metrics_double(atomic_load(&v[i]->value)));
	}
	free(v);
}

/* ---- the daemon's families ---- */

static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;
static struct metrics_family *metrics_api_total, *metrics_api_seconds;

static void metrics_init_cb(void)
{
	static const char *const api_labels[] = { "action", "code", NULL };
	static const char *const action_label[] = { "action", NULL };
	static const double secs[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

	metrics_dropped = metrics_family_new("pgfleet_metrics_dropped_series_total",
					     "Updates dropped because a metric family reached its series cap.",
					     METRICS_COUNTER, NULL, NULL, 0);
	metrics_api_total = metrics_family_new("pgfleet_api_requests_total",
					       "API requests answered, by action and error code (OK: success).",
					       METRICS_COUNTER, api_labels, NULL, 0);
	metrics_api_seconds = metrics_family_new("pgfleet_api_request_duration_seconds",
						 "Time from a request's arrival to its answer, by action.",
						 METRICS_HISTOGRAM, action_label, secs, sizeof(secs) / sizeof(secs[0]));
}

static void metrics_note_dropped(void)
{
	if (metrics_dropped != NULL)
		metrics_add(metrics_dropped, NULL, 1);
}

void metrics_api_request(const char *action, const char *code, double seconds)
{
	const char *values[] = { action, code != NULL && code[0] != '\0' ? code : "OK" };

	pthread_once(&metrics_once, metrics_init_cb);
	metrics_add(metrics_api_total, values, 1);
	metrics_observe(metrics_api_seconds, values, seconds);
}

void metrics_render(struct metrics_text *t)
{
	struct metrics_family *list[METRICS_FAMILIES_MAX];
	size_t n;

	pthread_once(&metrics_once, metrics_init_cb);
	pthread_mutex_lock(&metrics_mu);
	n = metrics_nfamilies;
	memcpy(list, metrics_families, n * sizeof(list[0]));
	pthread_mutex_unlock(&metrics_mu);
	for (size_t i = 0; i < n; i++)
		metrics_render_family(t, list[i]);
}
