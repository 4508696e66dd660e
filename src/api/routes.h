/*
 * routes.h - HTTP paths other than the API's "/": the Prometheus metrics
 * page, signed backup downloads. The gateway matches a GET (or HEAD) on a
 * path against each module's route table (first prefix that matches wins),
 * calls the route, and writes what it returns; a route never touches HTTP
 * itself. Unknown paths get 404 with a short JSON body.
 */
#ifndef PGFLEET_API_ROUTES_H
#define PGFLEET_API_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "api/request.h"

struct api_services;

struct route_request {
	const char *method;       /* "GET" or "HEAD" */
	const char *path;         /* raw path, without the query */
	const char *query;        /* raw query, without '?'; "" when none */
	const char *client_ip;
	const struct req_header *headers;
	size_t nheaders;
	const struct api_services *svc;
};

struct route_response {
	int status;               /* HTTP status; 0 means 200 */
	char content_type[64];    /* "" means text/plain; charset=utf-8 */
	char *body;               /* malloc'd; the gateway frees it */
	size_t body_len;
	int fd;                   /* >= 0: stream this file instead of body (the gateway closes it) */
	uint64_t fd_offset;
	uint64_t fd_len;
	char filename[128];       /* with fd: Content-Disposition attachment name */
};

/* Fill `rs` (already zeroed, fd = -1). Return 0; the status says the rest. */
typedef int (*route_fn)(const struct route_request *rq, struct route_response *rs);

struct route {
	const char *prefix;       /* path prefix, e.g. "/metrics" */
	route_fn fn;
};

/* Each module's table, ending with { NULL, NULL } (listed in gateway.c). */
extern const struct route metrics_routes[];   /* src/api/metrics.c (issue 7) */
extern const struct route backup_routes[];    /* src/api/backups.c (issue 5) */

#endif
