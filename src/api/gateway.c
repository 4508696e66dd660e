/*
 * gateway.c - see gateway.h.
 *
 * libmicrohttpd calls gw_access_cb() several times per request: once when
 * the headers are in (we choose the body cap from method, content type and
 * signature kind, and refuse an announced oversize body at once), once per
 * chunk of body (accumulated up to the cap, the excess discarded), and once
 * at the end, when gw_call_run() takes the request through the gate and
 * gw_send() answers. The raw URI (needed verbatim for TC3 GET signatures)
 * comes from the URI log callback, which also allocates the per-request
 * state; the completion callback frees it.
 *
 * Audit rows are queued in memory under a mutex and written to the store in
 * batches by gateway_flush_log(), so no request waits on SQLite for them.
 */
#include "api/gateway.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/action.h"
#include "api/api.h"
#include "api/params.h"
#include "api/request.h"
#include "api/routes.h"
#include "api/sign.h"
#include "core/log.h"
#include "core/metrics.h"
#include "lib/ratelimit.h"

#define GW_API_VERSION "2017-03-12"
#define GW_MAX_HEADERS 64
#define GW_CONN_MEMORY (40u * 1024u)    /* per-connection header/URI pool: a 32 KB GET
                                           plus headers; libmicrohttpd clears it per
                                           request, so bigger costs throughput */
#define GW_DRAIN_FACTOR 4               /* an oversize body up to 4x the cap is read
                                           and dropped so that the client, still
                                           writing, sees the error; beyond, answer
                                           at once and close */
#define GW_LOG_QUEUE_MAX 65536          /* audit rows held between flushes */

static const struct route *const gw_route_tables[] = { metrics_routes, backup_routes };

/* Recently used keys, so that a request does not wait for SQLite (whose
 * lock the audit-log flush holds for a batch). An entry lives
 * GW_KEY_TTL_MS: a key disabled in the store stops working within that. */
#define GW_KEY_SLOTS 256
#define GW_KEY_TTL_MS 2000

struct gw_key_entry {
	struct store_key key;
	struct store_tenant tenant;
	int64_t expires_ms;       /* 0: empty */
};

struct gateway {
	struct MHD_Daemon *mhd;
	pthread_mutex_t key_lock;
	struct gw_key_entry keys[GW_KEY_SLOTS];
	const struct api_services *svc;
	const struct config *cfg;
	struct store *store;
	struct rl *rl;
	int port;
	pthread_mutex_t log_lock;
	struct store_request_log *logq;
	size_t nlog;
	size_t dropped;
};

struct gw_req {
	char *uri;              /* raw, as sent */
	int started;
	int too_big;
	size_t cap;
	char *body;
	size_t len, alloc;
	struct timespec t0;
};

struct gw_call {
	struct gateway *gw;
	struct MHD_Connection *con;
	struct gw_req *r;
	struct req_header headers[GW_MAX_HEADERS];
	size_t nheaders;
	struct req_http http;
	struct req_decoded d;
	struct store_tenant tenant;
	struct store_key key;
	const struct api_action *action;
	char request_id[37];
	char client_ip[48];
	enum err_lang lang;
	struct err e;
	json_t *out;
};

static int64_t gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random (version 4) UUID, as the cloud's RequestId. */
static void gw_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)((uint64_t)ts.tv_nsec >> (i % 8) ^ (uint64_t)rand());
	}
	static const char hex[] = "0123456789abcdef";
	char *o = out;

	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[b[i] >> 4];
		*o++ = hex[b[i] & 15];
	}
	*o = '\0';
}

/* ---- per-request state ---- */

static void *gw_uri_cb(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct gw_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->uri = strdup(uri ? uri : "/");
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	return r;
}

static void gw_completed_cb(void *cls, struct MHD_Connection *con, void **con_cls,
			    enum MHD_RequestTerminationCode toe)
{
	struct gw_req *r = *con_cls;

	if (r == NULL)
		return;
	free(r->uri);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static enum MHD_Result gw_collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
					 const char *value)
{
	struct gw_call *c = cls;

	if (c->nheaders < GW_MAX_HEADERS) {
		c->headers[c->nheaders].name = key;
		c->headers[c->nheaders].value = value ? value : "";
		c->nheaders++;
	}
	return MHD_YES;
}

/* The body cap for this request: v1 form POSTs 1 MB, TC3 10 MB. */
static size_t gw_body_cap(struct MHD_Connection *con, const char *method)
{
	const char *ct = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
	const char *auth = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");

	if (strcmp(method, "POST") != 0)
		return REQ_MAX_GET_BYTES;
	if (ct != NULL && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
	    (auth == NULL || strncmp(auth, "TC3-HMAC-SHA256", 15) != 0))
		return REQ_MAX_V1_POST_BYTES;
	return REQ_MAX_TC3_POST_BYTES;
}

/* Append a body chunk; past the cap the request is marked and the rest dropped. */
static int gw_body_append(struct gw_req *r, const char *data, size_t n)
{
	if (r->too_big || r->len + n > r->cap) {
		r->too_big = 1;
		return 0;
	}
	if (r->len + n + 1 > r->alloc) {
		size_t want = r->alloc ? r->alloc : 4096;
		while (want < r->len + n + 1)
			want *= 2;
		char *nb = realloc(r->body, want);
		if (nb == NULL)
			return -1;
		r->body = nb;
		r->alloc = want;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

/* ---- the gate ---- */

/* FNV-1a over the SecretId: its slot in the key cache. */
static size_t gw_key_slot(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % GW_KEY_SLOTS;
}

/* The tenant and key of SecretId `id`: from the cache, else the store. */
static int gw_key_lookup(struct gateway *gw, const char *id, struct store_tenant *t, struct store_key *k,
			 struct err *e)
{
	struct gw_key_entry *slot = &gw->keys[gw_key_slot(id)];
	int64_t now = gw_now_ms();
	int hit;

	pthread_mutex_lock(&gw->key_lock);
	hit = slot->expires_ms > now && strcmp(slot->key.secret_id, id) == 0;
	if (hit) {
		*t = slot->tenant;
		*k = slot->key;
	}
	pthread_mutex_unlock(&gw->key_lock);
	if (hit)
		return 0;
	if (store_key_lookup(gw->store, id, t, k, e) != 0)
		return -1;
	pthread_mutex_lock(&gw->key_lock);
	slot->tenant = *t;
	slot->key = *k;
	slot->expires_ms = now + GW_KEY_TTL_MS;
	pthread_mutex_unlock(&gw->key_lock);
	return 0;
}

static int gw_authenticate(struct gw_call *c)
{
	if (gw_key_lookup(c->gw, c->d.secret_id, &c->tenant, &c->key, &c->e) != 0)
		return -1;
	return sign_verify(&c->http, &c->d, c->key.secret_key, gw_now_ms() / 1000,
			   c->gw->cfg->signature_window_s, &c->e);
}

static int gw_check_rate(struct gw_call *c)
{
	uint64_t key = ((uint64_t)c->tenant.id << 8) | (uint64_t)(c->action - api_actions);

	if (!c->gw->cfg->rate_limit || rl_admit(c->gw->rl, key, c->action->rate_limit, gw_now_ms()))
		return 0;
	return err_set(&c->e, ERR_REQUEST_LIMIT_EXCEEDED,
		       "Your request frequency for `%s` exceeds the limit of %d requests per second.",
		       c->action->name, c->action->rate_limit);
}

static int gw_dispatch(struct gw_call *c)
{
	api_handler_fn fn = api_handler_find(c->action->name);
	struct api_ctx ctx = {
		.svc = c->gw->svc,
		.action = c->action,
		.params = c->d.params,
		.tenant = &c->tenant,
		.request_id = c->request_id,
		.region = c->d.region,
		.client_ip = c->client_ip,
		.lang = c->lang,
	};

	if (fn == NULL)
		return err_set(&c->e, ERR_UNSUPPORTED_OPERATION,
			       "The action `%s` is not supported by this service yet.", c->action->name);
	c->out = json_object();
	if (c->out == NULL)
		return err_set(&c->e, ERR_INTERNAL_ERROR, NULL);
	if (fn(&ctx, c->out, &c->e) != 0)
		return -1;
	if (params_check_output(c->action->outputs, c->action->noutputs, c->out, &c->e) != 0) {
		log_error(c->request_id, "%s: bad response: %s", c->action->name, c->e.msg);
		c->e.msg[0] = '\0';
		return -1;
	}
	return 0;
}

/* Every step a request goes through before and including its handler. */
static int gw_call_run(struct gw_call *c)
{
	const char *q = strchr(c->r->uri, '?');
	char path[8];
	size_t plen = q ? (size_t)(q - c->r->uri) : strlen(c->r->uri);

	c->http.query = q ? q + 1 : "";
	if (strlen(c->r->uri) > REQ_MAX_GET_BYTES || c->r->too_big)
		return err_set(&c->e, ERR_REQUEST_SIZE_LIMIT_EXCEEDED, "The request is larger than allowed.");
	snprintf(path, sizeof(path), "%.*s", (int)(plen < 7 ? plen : 7), c->r->uri);
	if (strcmp(path, "/") != 0)
		return err_set(&c->e, ERR_UNSUPPORTED_PROTOCOL, "The request path must be `/`.");
	if (req_decode(&c->http, &c->d, &c->e) != 0)
		return -1;
	if (strcmp(c->d.language, "zh-CN") == 0)
		c->lang = ERR_LANG_ZH;
	if (gw_authenticate(c) != 0)
		return -1;
	if (strcmp(c->d.version, GW_API_VERSION) != 0)
		return err_set(&c->e, ERR_NO_SUCH_VERSION, "The API version `%.32s` does not exist; use %s.",
			       c->d.version, GW_API_VERSION);
	c->action = api_action_find(c->d.action);
	if (c->action == NULL)
		return err_set(&c->e, ERR_INVALID_ACTION, "The action `%.64s` does not exist.", c->d.action);
	if (gw_check_rate(c) != 0)
		return -1;
	if (params_validate(c->action->inputs, c->action->ninputs, c->d.params, &c->e) != 0)
		return -1;
	return gw_dispatch(c);
}

/* ---- the envelope ---- */

static json_t *gw_error_body(struct gw_call *c)
{
	const char *msg = err_message(&c->e, c->lang);
	char zh[ERR_MSG_MAX + 256];
	json_t *err;

	if (c->lang == ERR_LANG_ZH && c->e.msg[0] != '\0' && err_code_message(c->e.code, ERR_LANG_ZH)[0] != '\0' &&
	    strcmp(err_code_message(c->e.code, ERR_LANG_ZH), err_code_message(c->e.code, ERR_LANG_EN)) != 0) {
		snprintf(zh, sizeof(zh), "%s（%s）", err_code_message(c->e.code, ERR_LANG_ZH), c->e.msg);
		msg = zh;
	}
	err = json_pack("{s:s, s:s}", "Code", err_code_name(c->e.code), "Message", msg);
	return json_pack("{s:o, s:s}", "Error", err, "RequestId", c->request_id);
}

/* The request in the metrics (core/metrics.h): a name that is not an
 * action of the API counts as "unknown", so clients cannot add series. */
static void gw_observe(const struct gw_call *c, const struct timespec *t1)
{
	const struct api_action *a = c->action ? c->action : api_action_find(c->d.action);
	double secs = (double)(t1->tv_sec - c->r->t0.tv_sec) + (double)(t1->tv_nsec - c->r->t0.tv_nsec) / 1e9;

	metrics_api_request(a ? a->name : "unknown", c->e.code == ERR_OK ? "" : err_code_name(c->e.code), secs);
}

static void gw_log_queue(struct gw_call *c)
{
	struct gateway *gw = c->gw;
	struct timespec t1;
	struct store_request_log *row;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	gw_observe(c, &t1);
	pthread_mutex_lock(&gw->log_lock);
	if (gw->nlog >= GW_LOG_QUEUE_MAX) {
		gw->dropped++;
		pthread_mutex_unlock(&gw->log_lock);
		return;
	}
	row = &gw->logq[gw->nlog++];
	memset(row, 0, sizeof(*row));
	memcpy(row->request_id, c->request_id, sizeof(row->request_id));
	snprintf(row->action, sizeof(row->action), "%s", c->d.action);
	row->tenant_id = c->tenant.id;
	snprintf(row->code, sizeof(row->code), "%s", c->e.code == ERR_OK ? "" : err_code_name(c->e.code));
	row->latency_us = (t1.tv_sec - c->r->t0.tv_sec) * 1000000 + (t1.tv_nsec - c->r->t0.tv_nsec) / 1000;
	row->ts_ms = gw_now_ms() - row->latency_us / 1000;
	memcpy(row->client_ip, c->client_ip, sizeof(row->client_ip));
	pthread_mutex_unlock(&gw->log_lock);
}

static enum MHD_Result gw_send(struct MHD_Connection *con, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct MHD_Response *resp;
	enum MHD_Result rc;

	if (text == NULL)
		return MHD_NO; /* out of memory: MHD closes the connection */
	resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	rc = MHD_queue_response(con, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void gw_client_ip(struct MHD_Connection *con, char out[48])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	out[0] = '\0';
	if (ci == NULL || ci->client_addr == NULL)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr, out, 48);
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr, out, 48);
}

/* ---- other paths ---- */

static const struct route *gw_route_find(const char *path)
{
	for (size_t t = 0; t < sizeof(gw_route_tables) / sizeof(gw_route_tables[0]); t++)
		for (const struct route *r = gw_route_tables[t]; r->prefix != NULL; r++)
			if (strncmp(path, r->prefix, strlen(r->prefix)) == 0)
				return r;
	return NULL;
}

static enum MHD_Result gw_send_route(struct MHD_Connection *con, struct route_response *rs)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;
	char disp[192];

	if (rs->fd >= 0) {
		resp = MHD_create_response_from_fd_at_offset64(rs->fd_len, rs->fd, rs->fd_offset);
		if (resp == NULL)
			close(rs->fd);
		free(rs->body);
	} else {
		resp = MHD_create_response_from_buffer(rs->body_len, rs->body ? rs->body : (char *)"",
						       rs->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (resp == NULL)
			free(rs->body);
	}
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
				rs->content_type[0] ? rs->content_type : "text/plain; charset=utf-8");
	if (rs->fd >= 0 && rs->filename[0] != '\0') {
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", rs->filename);
		MHD_add_response_header(resp, "Content-Disposition", disp);
	}
	rc = MHD_queue_response(con, rs->status ? (unsigned)rs->status : MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* A GET/HEAD on a path other than "/": a module's route, or 404. */
static enum MHD_Result gw_answer_route(struct gateway *gw, struct gw_call *c, const char *method)
{
	const char *q = strchr(c->r->uri, '?');
	size_t plen = q ? (size_t)(q - c->r->uri) : strlen(c->r->uri);
	char *path = strndup(c->r->uri, plen);
	struct route_response rs = { .fd = -1 };
	const struct route *r = path ? gw_route_find(path) : NULL;
	struct route_request rq = { .method = method, .path = path, .query = q ? q + 1 : "",
				    .client_ip = c->client_ip, .headers = c->headers, .nheaders = c->nheaders,
				    .svc = gw->svc };
	enum MHD_Result rc;

	if (r == NULL || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) || r->fn(&rq, &rs) != 0) {
		free(rs.body);
		if (rs.fd >= 0)
			close(rs.fd);
		memset(&rs, 0, sizeof(rs));
		rs.fd = -1;
		rs.status = r == NULL ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED;
		rs.body = strdup(r == NULL ? "{\"error\": \"not found\"}\n" : "{\"error\": \"method not allowed\"}\n");
		rs.body_len = rs.body ? strlen(rs.body) : 0;
		snprintf(rs.content_type, sizeof(rs.content_type), "application/json");
	}
	free(path);
	rc = gw_send_route(c->con, &rs);
	return rc;
}

/* Is the raw URI's path something other than "/"? */
static int gw_other_path(const char *uri)
{
	return uri[0] == '/' && uri[1] != '\0' && uri[1] != '?';
}

/* Run the complete request and answer it. */
static enum MHD_Result gw_answer(struct gateway *gw, struct MHD_Connection *con, struct gw_req *r,
				 const char *method)
{
	struct gw_call *c = calloc(1, sizeof(*c));
	json_t *body;
	enum MHD_Result rc;

	if (c == NULL)
		return MHD_NO;
	c->gw = gw;
	c->con = con;
	c->r = r;
	gw_uuid(c->request_id);
	gw_client_ip(con, c->client_ip);
	MHD_get_connection_values(con, MHD_HEADER_KIND, gw_collect_header, c);
	c->http = (struct req_http){ .method = method, .body = r->body ? r->body : "", .body_len = r->len,
				     .headers = c->headers, .nheaders = c->nheaders };
	if (gw_other_path(r->uri) && !r->too_big) {
		rc = gw_answer_route(gw, c, method);
		free(c);
		return rc;
	}
	if (gw_call_run(c) == 0) {
		err_clear(&c->e);   /* a handler may have recovered from an error it set */
		body = c->out;
		c->out = NULL;
		json_object_set_new(body, "RequestId", json_string(c->request_id));
	} else {
		if (c->e.code == ERR_INTERNAL_ERROR && c->e.msg[0] != '\0') {
			log_error(c->request_id, "%s: internal error: %s", c->d.action, c->e.msg);
			c->e.msg[0] = '\0'; /* the detail is for the log, not the client */
		}
		body = gw_error_body(c);
	}
	json_t *envelope = json_pack("{s:o}", "Response", body);
	rc = gw_send(con, envelope);
	json_decref(envelope);
	gw_log_queue(c);
	json_decref(c->out);
	req_decoded_free(&c->d);
	free(c);
	return rc;
}

static enum MHD_Result gw_access_cb(void *cls, struct MHD_Connection *con, const char *url,
				    const char *method, const char *version, const char *upload_data,
				    size_t *upload_data_size, void **con_cls)
{
	struct gateway *gw = cls;
	struct gw_req *r = *con_cls;

	if (r == NULL)
		return MHD_NO;
	if (!r->started) {
		const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
		r->started = 1;
		r->cap = gw_body_cap(con, method);
		unsigned long long len = cl != NULL ? strtoull(cl, NULL, 10) : 0;
		if (len > (unsigned long long)r->cap * GW_DRAIN_FACTOR) {
			r->too_big = 1;
			r->started = 2; /* answered: the oversize body is never read */
			return gw_answer(gw, con, r, method);
		}
		if (len > r->cap)
			r->too_big = 1; /* drained by gw_body_append, answered at the end */
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (r->started == 1 && gw_body_append(r, upload_data, *upload_data_size) != 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->started == 2)
		return MHD_YES;
	r->started = 2;
	return gw_answer(gw, con, r, method);
}

/* ---- lifecycle ---- */

static int gw_parse_listen(const char *listen, struct sockaddr_in *sa, struct err *e)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	char *end;
	long port;

	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "listen: expected ADDR:PORT, got \"%s\"", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = strtol(colon + 1, &end, 10);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (*end != '\0' || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "listen: bad address \"%s\"", listen);
	return 0;
}

int gateway_start(struct gateway **out, const struct api_services *svc, struct err *e)
{
	const struct config *cfg = svc->cfg;
	struct sockaddr_in sa;
	struct gateway *gw;
	const union MHD_DaemonInfo *di;

	if (gw_parse_listen(cfg->listen, &sa, e) != 0)
		return -1;
	gw = calloc(1, sizeof(*gw));
	if (gw == NULL || (gw->rl = rl_create()) == NULL ||
	    (gw->logq = calloc(GW_LOG_QUEUE_MAX, sizeof(*gw->logq))) == NULL) {
		if (gw)
			rl_destroy(gw->rl);
		free(gw);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	gw->svc = svc;
	gw->cfg = cfg;
	gw->store = svc->store;
	pthread_mutex_init(&gw->log_lock, NULL);
	pthread_mutex_init(&gw->key_lock, NULL);
	gw->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		gw_access_cb, gw, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->http_threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->http_timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)cfg->http_max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)GW_CONN_MEMORY,
		MHD_OPTION_URI_LOG_CALLBACK, gw_uri_cb, gw,
		MHD_OPTION_NOTIFY_COMPLETED, gw_completed_cb, gw,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, 1U,
		MHD_OPTION_END);
	if (gw->mhd == NULL) {
		gateway_stop(gw);
		return err_set(e, ERR_INTERNAL_ERROR, "cannot listen on %s", cfg->listen);
	}
	di = MHD_get_daemon_info(gw->mhd, MHD_DAEMON_INFO_BIND_PORT);
	gw->port = di ? di->port : ntohs(sa.sin_port);
	*out = gw;
	return 0;
}

int gateway_port(const struct gateway *gw)
{
	return gw->port;
}

void gateway_flush_log(struct gateway *gw)
{
	struct store_request_log *rows;
	size_t n, dropped;
	struct err e;

	pthread_mutex_lock(&gw->log_lock);
	n = gw->nlog;
	dropped = gw->dropped;
	gw->dropped = 0;
	rows = n ? malloc(n * sizeof(*rows)) : NULL;
	if (rows != NULL) {
		memcpy(rows, gw->logq, n * sizeof(*rows));
		gw->nlog = 0;
	}
	pthread_mutex_unlock(&gw->log_lock);
	if (dropped)
		log_warn("gateway", "audit log queue full: %zu rows dropped", dropped);
	if (rows == NULL)
		return;
	if (store_request_log_append(gw->store, rows, n, &e) != 0)
		log_error("gateway", "audit log: %s", e.msg);
	free(rows);
}

void gateway_stop(struct gateway *gw)
{
	if (gw == NULL)
		return;
	if (gw->mhd != NULL)
		MHD_stop_daemon(gw->mhd);
	gateway_flush_log(gw);
	rl_destroy(gw->rl);
	pthread_mutex_destroy(&gw->log_lock);
	pthread_mutex_destroy(&gw->key_lock);
	free(gw->logq);
	free(gw);
}
