/*
 * metrics.c - the Prometheus /metrics page (issue 7). Not built yet: the
 * route table is empty, so /metrics answers 404.
 */
#include "api/routes.h"

const struct route metrics_routes[] = {
	{ NULL, NULL },
};
