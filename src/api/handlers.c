/*
 * handlers.c - the one place that binds action names to their handlers.
 * An action of the table with no row here is answered UnsupportedOperation
 * by the gateway, after its parameters have been validated.
 */
#include <string.h>

#include "api/api.h"
#include "api/catalog.h"
#include "api/instances.h"

struct api_handler {
	const char *action;
	api_handler_fn fn;
};

static const struct api_handler api_handlers[] = {
	/* catalog */
	{ "DescribeClasses", catalog_describe_classes },
	{ "DescribeDBVersions", catalog_describe_db_versions },
	{ "DescribeProductConfig", catalog_describe_product_config },
	{ "DescribeRegions", catalog_describe_regions },
	{ "DescribeZones", catalog_describe_zones },
	/* instances */
	{ "CreateDBInstances", instances_create_legacy },
	{ "CreateInstances", instances_create },
	{ "DescribeDBInstanceAttribute", instances_describe_attribute },
	{ "DescribeDBInstances", instances_describe },
	{ "DestroyDBInstance", instances_destroy },
	{ "DisIsolateDBInstances", instances_disisolate },
	{ "InitDBInstances", instances_init },
	{ "IsolateDBInstances", instances_isolate },
	{ "ModifyDBInstanceName", instances_modify_name },
	{ "ModifyDBInstancesProject", instances_modify_project },
	{ "RestartDBInstance", instances_restart },
	/* accounts and databases */
	{ "DescribeAccounts", accounts_describe },
	{ "DescribeDatabases", databases_describe },
	{ "ModifyAccountRemark", accounts_modify_remark },
	{ "ResetAccountPassword", accounts_reset_password },
};

api_handler_fn api_handler_find(const char *action)
{
	for (size_t i = 0; i < sizeof(api_handlers) / sizeof(api_handlers[0]); i++)
		if (strcmp(api_handlers[i].action, action) == 0)
			return api_handlers[i].fn;
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
