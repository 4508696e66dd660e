/*
 * api.h - what a resource handler sees. The gateway has already decoded the
 * request, verified its signature, resolved the tenant, checked the rate
 * limit and validated (and type-coerced) every parameter against the action
 * table, so a handler only does the action's work.
 *
 * A handler fills `out` (the members of Response, without RequestId) and
 * returns 0, or returns -1 after err_set(). Handlers never write HTTP,
 * never spawn processes and never touch SQLite directly.
 */
#ifndef PGFLEET_API_API_H
#define PGFLEET_API_API_H

#include <jansson.h>
#include <stdint.h>

#include "api/action.h"
#include "core/err.h"
#include "store/store.h"

struct config;
struct task_engine;

/* What handlers may use besides their parameters (owned by the daemon). */
struct api_services {
	const struct config *cfg;
	struct store *store;
	struct task_engine *tasks;
	void *fleet;                     /* struct fleet (src/task/fleet.h) */
};

struct api_ctx {
	const struct api_services *svc;
	const struct api_action *action;
	json_t *params;                  /* validated parameters, borrowed */
	const struct store_tenant *tenant;
	const char *request_id;          /* uuid */
	const char *region;              /* X-TC-Region / Region, may be "" */
	const char *client_ip;
	enum err_lang lang;
};

typedef int (*api_handler_fn)(struct api_ctx *ctx, json_t *out, struct err *e);

/* The handler registered for an action (handlers.c); NULL when the action
 * has no handler - the gateway then answers UnsupportedOperation. */
api_handler_fn api_handler_find(const char *action);

/* One row of a module's action table; tables end with { NULL, NULL }. */
struct api_handler {
	const char *action;
	api_handler_fn fn;
};

/* Each resource module's table (listed in handlers.c). */
extern const struct api_handler catalog_handlers[];    /* catalog.c */
extern const struct api_handler instance_handlers[];   /* instances.c */
extern const struct api_handler account_handlers[];    /* accounts.c */
extern const struct api_handler parameter_handlers[];  /* parameters.c */
extern const struct api_handler backup_handlers[];     /* backups.c */
extern const struct api_handler billing_handlers[];    /* billing.c */
extern const struct api_handler log_handlers[];        /* logs.c */

/* Convenience accessors over ctx->params (values already validated). */
const char *api_param_str(const struct api_ctx *ctx, const char *name); /* NULL if absent */
int api_param_int(const struct api_ctx *ctx, const char *name, long long *out); /* 0 if present */

#endif
