/*
 * test_metrics.c - the metrics registry and text format (core/metrics.c):
 * counters, gauges and histograms with labels, exact totals under
 * concurrent updates, the series cap, escaping, and a strict check of every
 * line of the rendered page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

static char *render(void)
{
	struct metrics_text t = { 0 };

	metrics_render(&t);
	assert_false(t.failed);
	return t.buf;
}

/* The value on the line that starts with `prefix` + ' ', or -1. */
static double sample(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* Every line is a comment of the right form or `name{labels} value`. */
static void check_format(const char *text)
{
	const char *p = text;

	assert_true(text[strlen(text) - 1] == '\n');
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		char line[1024];
		size_t len = (size_t)(nl - p);
		assert_non_null(nl);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		if (line[0] == '#') {
			assert_true(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
		} else {
			char *sp = strrchr(line, ' ');
			char *end;
			assert_non_null(sp);
			strtod(sp + 1, &end);
			assert_true(*end == '\0' || strcmp(sp + 1, "+Inf") == 0 || strcmp(sp + 1, "NaN") == 0);
			for (char *c = line; c < sp && *c != '{'; c++)
				assert_true((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
					    *c == '_' || *c == ':');
		}
		p = nl + 1;
	}
}

static void test_counter_gauge(void **state)
{
	static const char *const labels[] = { "kind", NULL };
	struct metrics_family *c = metrics_family_new("t_events_total", "Events.", METRICS_COUNTER, labels, NULL, 0);
	struct metrics_family *g = metrics_family_new("t_level", "A level\nwith \\ odd help.", METRICS_GAUGE, NULL,
						      NULL, 0);
	const char *a[] = { "a" }, *b[] = { "b \"quoted\"\nnewline\\" };
	char *text;

	assert_non_null(c);
	assert_non_null(g);
	metrics_add(c, a, 1);
	metrics_add(c, a, 2);
	metrics_add(c, b, 1);
	metrics_set(g, NULL, 2.5);
	metrics_add(g, NULL, -1);
	assert_true(metrics_value(c, a) == 3);
	assert_true(metrics_value(g, NULL) == 1.5);
	text = render();
	check_format(text);
	assert_non_null(strstr(text, "# HELP t_events_total Events.\n# TYPE t_events_total counter\n"));
	assert_true(sample(text, "t_events_total{kind=\"a\"}") == 3);
	assert_true(sample(text, "t_events_total{kind=\"b \\\"quoted\\\"\\nnewline\\\\\"}") == 1);
	assert_non_null(strstr(text, "# HELP t_level A level\\nwith \\\\ odd help.\n"));
	assert_true(sample(text, "t_level") == 1.5);
	free(text);
}

static void test_histogram(void **state)
{
	static const char *const labels[] = { "op", NULL };
	static const double b[] = { 0.1, 1, 10 };
	struct metrics_family *h = metrics_family_new("t_seconds", "Durations.", METRICS_HISTOGRAM, labels, b, 3);
	const char *op[] = { "x" };
	char *text;

	metrics_observe(h, op, 0.05);
	metrics_observe(h, op, 0.1);
	metrics_observe(h, op, 5);
	metrics_observe(h, op, 50);
	text = render();
	check_format(text);
	assert_true(sample(text, "t_seconds_bucket{op=\"x\",le=\"0.1\"}") == 2);
	assert_true(sample(text, "t_seconds_bucket{op=\"x\",le=\"1\"}") == 2);
	assert_true(sample(text, "t_seconds_bucket{op=\"x\",le=\"10\"}") == 3);
	assert_true(sample(text, "t_seconds_bucket{op=\"x\",le=\"+Inf\"}") == 4);
	assert_true(sample(text, "t_seconds_count{op=\"x\"}") == 4);
	assert_true(sample(text, "t_seconds_sum{op=\"x\"}") == 55.15);
	free(text);
	/* wrong arguments are refused */
	static const double bad[] = { 1, 1 };
	assert_null(metrics_family_new("t_bad", "x", METRICS_HISTOGRAM, NULL, bad, 2));
	static const char *const many[] = { "a", "b", "c", "d", "e", NULL };
	assert_null(metrics_family_new("t_bad2", "x", METRICS_COUNTER, many, NULL, 0));
}

struct worker_arg {
	struct metrics_family *f;
	int id;
};

#define WORKERS 4
#define ROUNDS 20000

static void *worker(void *p)
{
	struct worker_arg *w = p;
	char mine[16];
	const char *shared[] = { "shared" }, *own[] = { mine };

	snprintf(mine, sizeof(mine), "w%d", w->id);
	for (int i = 0; i < ROUNDS; i++) {
		metrics_add(w->f, shared, 1);
		metrics_add(w->f, own, 0.5);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	static const char *const labels[] = { "who", NULL };
	struct metrics_family *f = metrics_family_new("t_conc_total", "x", METRICS_COUNTER, labels, NULL, 0);
	pthread_t th[WORKERS];
	struct worker_arg args[WORKERS];
	const char *shared[] = { "shared" }, *w0[] = { "w0" };

	for (int i = 0; i < WORKERS; i++) {
		args[i] = (struct worker_arg){ f, i };
		pthread_create(&th[i], NULL, worker, &args[i]);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	assert_true(metrics_value(f, shared) == WORKERS * ROUNDS);
	assert_true(metrics_value(f, w0) == ROUNDS / 2);
}

static void test_series_cap(void **state)
{
	static const char *const labels[] = { "id", NULL };
	struct metrics_family *f = metrics_family_new("t_many_total", "x", METRICS_COUNTER, labels, NULL, 0);
	char id[32];
	const char *v[] = { id };
	char *text;

	for (int i = 0; i < METRICS_SERIES_MAX + 100; i++) {
		snprintf(id, sizeof(id), "%d", i);
		metrics_add(f, v, 1);
	}
	snprintf(id, sizeof(id), "%d", METRICS_SERIES_MAX + 5);
	assert_true(metrics_value(f, v) == 0);
	snprintf(id, sizeof(id), "%d", 7);
	assert_true(metrics_value(f, v) == 1);
	text = render();
	assert_true(sample(text, "pgfleet_metrics_dropped_series_total") >= 100);
	free(text);
}

static void test_api_requests(void **state)
{
	char *text;

	metrics_api_request("DescribeRegions", "", 0.002);
	metrics_api_request("DescribeRegions", "", 0.003);
	metrics_api_request("DescribeRegions", "AuthFailure.SignatureFailure", 0.001);
	text = render();
	check_format(text);
	assert_true(sample(text, "pgfleet_api_requests_total{action=\"DescribeRegions\",code=\"OK\"}") == 2);
	assert_true(sample(text, "pgfleet_api_requests_total{action=\"DescribeRegions\",code=\"AuthFailure.SignatureFailure\"}") ==
		    1);
	assert_true(sample(text, "pgfleet_api_request_duration_seconds_count{action=\"DescribeRegions\"}") == 3);
	assert_true(sample(text, "pgfleet_api_request_duration_seconds_bucket{action=\"DescribeRegions\",le=\"0.0025\"}") == 2);
	free(text);
}

static void test_text_helpers(void **state)
{
	struct metrics_text t = { 0 };
	const char *n[] = { "a", "b" }, *v[] = { "1", NULL };

	metrics_text_family(&t, "x_total", "h", "counter");
	metrics_text_sample(&t, "x_total", n, v, 2, 1e20);
	metrics_text_sample(&t, "x_total", NULL, NULL, 0, 0.25);
	assert_string_equal(t.buf, "# HELP x_total h\n# TYPE x_total counter\nx_total{a=\"1\",b=\"\"} 1e+20\nx_total 0.25\n");
	metrics_text_free(&t);
	metrics_text_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_gauge),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_series_cap),
		cmocka_unit_test(test_api_requests),
		cmocka_unit_test(test_text_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
