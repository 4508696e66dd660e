/*
 * metrics.c - GET /metrics: the Prometheus page of the whole fleet.
 *
 * First the registry (core/metrics.h: API requests by action and code,
 * their latency), then what is read at scrape time: instances by status and
 * tasks by kind and state from the store, and per instance whether its
 * server is up, its connections, database size, replication and WAL
 * archiving, from the server itself (one superuser connection each,
 * pgsql_node_stats, 2 s statement timeout). Scrapes are serialised, so a
 * burst of them never opens more than one connection per instance at a time.
 *
 * With the setting metrics_token, the page needs "Authorization: Bearer
 * TOKEN" (401 otherwise): the page names every tenant's instances.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/config.h"
#include "core/metrics.h"
#include "task/fleet.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static pthread_mutex_t metrics_scrape_mu = PTHREAD_MUTEX_INITIALIZER;

/* Label value of an instance series. */
static const char *const metrics_inst_label[] = { "instance" };

/* ---- store figures ---- */

static void metrics_instances(struct metrics_text *t, const struct store_res *list, size_t n)
{
	static const char *const names[] = { "status" };
	json_t *by = json_object();
	const char *status;
	json_t *count;

	for (size_t i = 0; by != NULL && i < n; i++)
		json_object_set_new(by, list[i].status,
				    json_integer(json_integer_value(json_object_get(by, list[i].status)) + 1));
	metrics_text_family(t, "pgfleet_instances", "Instances by status.", "gauge");
	json_object_foreach(by, status, count) {
		const char *v[] = { status };
		metrics_text_sample(t, "pgfleet_instances", names, v, 1, (double)json_integer_value(count));
	}
	json_decref(by);
}

static void metrics_tasks(struct metrics_text *t, struct store *s)
{
	static const char *const names[] = { "kind", "state" };
	json_t *rows, *row;
	struct err e;
	size_t i;

	if (store_task_counts(s, &rows, &e) != 0)
		return;
	metrics_text_family(t, "pgfleet_tasks", "Tasks recorded, by kind and state.", "gauge");
	json_array_foreach(rows, i, row) {
		const char *v[] = { json_string_value(json_object_get(row, "kind")),
				    json_string_value(json_object_get(row, "state")) };
		metrics_text_sample(t, "pgfleet_tasks", names, v, 2, (double)json_integer_value(json_object_get(row, "count")));
	}
	json_decref(rows);
}

/* ---- per-instance figures ---- */

struct metrics_gauge {
	const char *name, *help, *type, *key;   /* key in pgsql_node_stats' object; NULL: up */
};

static const struct metrics_gauge metrics_inst_gauges[] = {
	{ "pgfleet_instance_up", "1 when the instance's server accepts connections.", "gauge", NULL },
	{ "pgfleet_instance_connections", "Client sessions on the instance.", "gauge", "connections" },
	{ "pgfleet_instance_database_size_bytes", "Size of the instance's databases.", "gauge",
	  "database_size_bytes" },
	{ "pgfleet_instance_in_recovery", "1 when the server is a standby (in recovery).", "gauge", "in_recovery" },
	{ "pgfleet_instance_replication_standbys", "Standbys streaming from the instance.", "gauge", "standbys" },
	{ "pgfleet_instance_replication_lag_bytes", "Largest WAL distance from sent to replayed over the standbys.",
	  "gauge", "replication_lag_bytes" },
	{ "pgfleet_instance_wal_archived_total", "WAL files archived since the server's statistics reset.",
	  "counter", "archived_count" },
	{ "pgfleet_instance_wal_archive_failed_total", "Failed WAL archiving attempts.", "counter", "failed_count" },
	{ "pgfleet_instance_wal_last_archived_timestamp_seconds", "When the last WAL file was archived (unix).",
	  "gauge", "last_archived_time" },
};

#define METRICS_NGAUGES (sizeof(metrics_inst_gauges) / sizeof(metrics_inst_gauges[0]))

/* The server's figures, or NULL when it does not answer (down). */
static json_t *metrics_node(const struct fleet *f, const struct store_res *r)
{
	struct pgnode n;
	struct pgnode_state st;
	struct err e;
	PGconn *c;
	json_t *stats = NULL;

	if ((strcmp(r->status, "running") != 0 && strcmp(r->status, "readonly") != 0) ||
	    json_object_get(r->doc, "NodeId") == NULL || fleet_primary_node(f, r->doc, &n, &e) != 0 ||
	    pgnode_status(&n, &st, &e) != 0 || !st.running || !st.ready || fleet_connect(r->doc, NULL, &c, &e) != 0)
		return NULL;
	if (pgsql_node_stats(c, &stats, &e) != 0)
		stats = NULL;
	pgsql_close(c);
	return stats;
}

static void metrics_per_instance(struct metrics_text *t, const struct fleet *f, const struct store_res *list,
				 size_t n)
{
	json_t **stats = calloc(n ? n : 1, sizeof(*stats));

	if (stats == NULL) {
		t->failed = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		stats[i] = metrics_node(f, &list[i]);
	for (size_t g = 0; g < METRICS_NGAUGES; g++) {
		const struct metrics_gauge *m = &metrics_inst_gauges[g];
		metrics_text_family(t, m->name, m->help, m->type);
		for (size_t i = 0; i < n; i++) {
			const char *v[] = { list[i].id };
			json_t *x = m->key && stats[i] ? json_object_get(stats[i], m->key) : NULL;
			if (m->key == NULL)
				metrics_text_sample(t, m->name, metrics_inst_label, v, 1, stats[i] != NULL);
			else if (json_is_integer(x) || json_is_boolean(x))
				metrics_text_sample(t, m->name, metrics_inst_label, v, 1,
						    json_is_boolean(x) ? json_is_true(x) : (double)json_integer_value(x));
		}
	}
	for (size_t i = 0; i < n; i++)
		json_decref(stats[i]);
	free(stats);
}

/* ---- the route ---- */

static bool metrics_authorized(const struct route_request *rq)
{
	const char *token = rq->svc->cfg->metrics_token;
	size_t tl = strlen(token);

	if (tl == 0)
		return true;
	for (size_t i = 0; i < rq->nheaders; i++) {
		const char *v = rq->headers[i].value;
		if (strcasecmp(rq->headers[i].name, "Authorization") == 0 && strncmp(v, "Bearer ", 7) == 0 &&
		    strlen(v + 7) == tl && CRYPTO_memcmp(v + 7, token, tl) == 0)
			return true;
	}
	return false;
}

static void metrics_collect(struct metrics_text *t, const struct api_services *svc)
{
	struct store_res *list;
	size_t n;
	struct err e;

	metrics_render(t);
	metrics_text_family(t, "pgfleet_scrape_timestamp_seconds", "When this page was made (unix).", "gauge");
	metrics_text_sample(t, "pgfleet_scrape_timestamp_seconds", NULL, NULL, 0, (double)time(NULL));
	metrics_tasks(t, svc->store);
	if (store_res_list(svc->store, FLEET_KIND, 0, &list, &n, &e) != 0)
		return;
	metrics_instances(t, list, n);
	metrics_per_instance(t, svc->fleet, list, n);
	store_res_list_free(list, n);
}

static int metrics_route(const struct route_request *rq, struct route_response *rs)
{
	struct metrics_text t = { 0 };

	if (strcmp(rq->path, "/metrics") != 0) {
		rs->status = 404;
		rs->body = strdup("{\"error\": \"not found\"}\n");
		rs->body_len = rs->body ? strlen(rs->body) : 0;
		snprintf(rs->content_type, sizeof(rs->content_type), "application/json");
		return 0;
	}
	if (!metrics_authorized(rq)) {
		rs->status = 401;
		rs->body = strdup("{\"error\": \"unauthorized: send Authorization: Bearer <metrics_token>\"}\n");
		rs->body_len = rs->body ? strlen(rs->body) : 0;
		snprintf(rs->content_type, sizeof(rs->content_type), "application/json");
		return 0;
	}
	pthread_mutex_lock(&metrics_scrape_mu);
	metrics_collect(&t, rq->svc);
	pthread_mutex_unlock(&metrics_scrape_mu);
	if (t.failed) {
		metrics_text_free(&t);
		rs->status = 500;
		return 0;
	}
	rs->body = t.buf;
	rs->body_len = t.len;
	snprintf(rs->content_type, sizeof(rs->content_type), "%s", METRICS_CONTENT_TYPE);
	return 0;
}

const struct route metrics_routes[] = {
	{ "/metrics", metrics_route },
	{ NULL, NULL },
};
