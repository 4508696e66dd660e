/*
 * handlers.c - binds action names to their handlers. Each resource module
 * exports one NULL-terminated table of its actions (declared in api.h);
 * this file only lists the tables, so that modules never edit each other's
 * rows. An action of the API with no row anywhere is answered
 * UnsupportedOperation by the gateway, after its parameters were validated.
 */
#include <string.h>

#include "api/api.h"

static const struct api_handler *const api_handler_tables[] = {
	catalog_handlers,
	instance_handlers,
	account_handlers,
	parameter_handlers,
	backup_handlers,
	billing_handlers,
	log_handlers,
};

api_handler_fn api_handler_find(const char *action)
{
	for (size_t t = 0; t < sizeof(api_handler_tables) / sizeof(api_handler_tables[0]); t++)
		for (const struct api_handler *h = api_handler_tables[t]; h->action != NULL; h++)
			if (strcmp(h->action, action) == 0)
				return h->fn;
	return NULL;
}

const char *api_param_str(const struct api_ctx *ctx, const char *name)
{
	json_t *v = json_object_get(ctx->params, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int api_param_int(const struct api_ctx *ctx, const char *name, long long *out)
{
	json_t *v = json_object_get(ctx->params, name);

	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 0;
}
