/*
 * instance_view.c - reading instances: tenant-scoped lookup, the DBInstance
 * view built from the stored document, DescribeDBInstances (filters, order,
 * paging) and DescribeDBInstanceAttribute; plus the account rules the
 * instance and account actions share.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/instances.h"
#include "core/clock.h"
#include "core/config.h"
#include "store/store.h"
#include "task/fleet.h"

#define DESCRIBE_LIMIT_DEFAULT 10

int instance_get(const struct api_ctx *ctx, const char *id, struct store_res *out, struct err *e)
{
	enum err_code code = ERR_RESOURCE_NOT_FOUND_INSTANCE_NOT_FOUND_ERROR;
	const struct api_action *a = ctx->action;
	int documented = 0;

	if (store_res_get(ctx->svc->store, FLEET_KIND, id, ctx->tenant->id, out, e) == 0)
		return 0;
	if (e->code != ERR_RESOURCE_NOT_FOUND)
		return -1;
	for (size_t i = 0; a != NULL && i < a->nerrors; i++)
		documented |= a->errors[i] == code;
	if (!documented)
		code = ERR_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST;
	return err_set(e, code, "The instance `%.64s` does not exist.", id);
}

int instance_status_allows(const struct store_res *r, const char *const *allowed, struct err *e)
{
	for (const char *const *s = allowed; *s != NULL; s++)
		if (strcmp(r->status, *s) == 0)
			return 0;
	return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR,
		       "The operation is not allowed while instance %s is %s.", r->id, r->status);
}

static json_t *time_json(const json_t *doc, const char *key)
{
	char buf[20];

	clock_format(json_integer_value(json_object_get(doc, key)), buf);
	return json_string(buf);
}

static const char *doc_str(const json_t *doc, const char *key)
{
	const char *s = json_string_value(json_object_get(doc, key));

	return s ? s : "";
}

static json_int_t doc_int(const json_t *doc, const char *key)
{
	return json_integer_value(json_object_get(doc, key));
}

static json_t *net_info(const json_t *doc, const char *status)
{
	json_t *set = json_array();
	const char *net = strcmp(status, "isolated") == 0 || strcmp(status, "isolating") == 0 ? "closed" : "opened";

	if (json_object_get(doc, "Vip") != NULL)
		json_array_append_new(set, json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "Address", "",
						     "Ip", doc_str(doc, "Vip"), "Port", FLEET_PORT, "NetType",
						     "private", "Status", net, "VpcId", doc_str(doc, "VpcId"),
						     "SubnetId", doc_str(doc, "SubnetId"), "ProtocolType",
						     "postgresql"));
	return set;
}

static json_t *node_set(const json_t *doc)
{
	json_t *placed = json_object_get(doc, "DBNodeSet"); /* ModifyDBInstanceDeployment */

	if (json_array_size(placed) > 0)
		return json_deep_copy(placed);
	return json_pack("[{s:s, s:s, s:s}]", "Role", "Primary", "Zone", doc_str(doc, "Zone"),
			 "DedicatedClusterId", "");
}

json_t *instance_view(const struct store_res *r, const struct store_tenant *t)
{
	const json_t *d = r->doc;
	json_t *tags = json_object_get(d, "Tags");
	json_t *v = json_object();
	char updated[20];

	clock_format((json_int_t)r->updated, updated);
	json_object_set_new(v, "Region", json_string(doc_str(d, "Region")));
	json_object_set_new(v, "Zone", json_string(doc_str(d, "Zone")));
	json_object_set_new(v, "VpcId", json_string(doc_str(d, "VpcId")));
	json_object_set_new(v, "SubnetId", json_string(doc_str(d, "SubnetId")));
	json_object_set_new(v, "DBInstanceId", json_string(r->id));
	json_object_set_new(v, "DBInstanceName", json_string(doc_str(d, "Name")));
	json_object_set_new(v, "DBInstanceStatus", json_string(r->status));
	json_object_set_new(v, "DBInstanceMemory", json_integer(doc_int(d, "MemoryMb") / 1024));
	json_object_set_new(v, "DBInstanceStorage", json_integer(doc_int(d, "StorageGb")));
	json_object_set_new(v, "DBInstanceCpu", json_integer(doc_int(d, "Cpu")));
	json_object_set_new(v, "DBInstanceClass", json_string(doc_str(d, "SpecCode")));
	json_object_set_new(v, "DBMajorVersion", json_string(doc_str(d, "DBMajorVersion")));
	json_object_set_new(v, "DBVersion", json_string(doc_str(d, "DBVersion")));
	json_object_set_new(v, "DBKernelVersion", json_string(doc_str(d, "DBKernelVersion")));
	json_object_set_new(v, "DBInstanceType", json_string("primary"));
	json_object_set_new(v, "DBInstanceVersion", json_string("standard"));
	json_object_set_new(v, "DBCharset", json_string(doc_str(d, "Charset")));
	json_object_set_new(v, "CreateTime", time_json(d, "CreateTime"));
	json_object_set_new(v, "UpdateTime", json_string(updated));
	json_object_set_new(v, "ExpireTime", time_json(d, "ExpireTime"));
	json_object_set_new(v, "IsolatedTime", time_json(d, "IsolatedTime"));
	json_object_set_new(v, "PayType", json_string(doc_str(d, "PayType")));
	json_object_set_new(v, "AutoRenew", json_integer(doc_int(d, "AutoRenew")));
	json_object_set_new(v, "DBInstanceNetInfo", net_info(d, r->status));
	json_object_set_new(v, "Type", json_string("machine"));
	json_object_set_new(v, "AppId", json_integer((json_int_t)t->app_id));
	json_object_set_new(v, "Uid", json_integer(doc_int(d, "Uid")));
	json_object_set_new(v, "ProjectId", json_integer(doc_int(d, "ProjectId")));
	json_object_set_new(v, "TagList", tags ? json_deep_copy(tags) : json_array());
	json_object_set_new(v, "MasterDBInstanceId", json_string(""));
	json_object_set_new(v, "ReadOnlyInstanceNum", json_integer(0));
	json_object_set_new(v, "StatusInReadonlyGroup", json_string(""));
	json_object_set_new(v, "OfflineTime", json_string(""));
	json_object_set_new(v, "DBNodeSet", node_set(d));
	json_object_set_new(v, "IsSupportTDE", json_integer(0));
	json_object_set_new(v, "DBEngine", json_string("postgresql"));
	json_object_set_new(v, "DBEngineConfig", json_string(""));
	json_object_set_new(v, "NetworkAccessList", json_array());
	json_object_set_new(v, "SupportIpv6", json_integer(0));
	json_object_set_new(v, "ExpandedCpu", json_integer(0));
	json_object_set_new(v, "DeletionProtection", json_boolean(json_is_true(json_object_get(d, "DeletionProtection"))));
	json_object_set_new(v, "DBInstanceStorageType", json_string("PHYSICAL_LOCAL_SSD"));
	return v;
}

/* ---- DescribeDBInstances ---- */

static int value_in(const json_t *values, const char *s, int fuzzy)
{
	size_t i;
	json_t *v;

	json_array_foreach(values, i, v) {
		const char *want = json_string_value(v);
		if (want != NULL && (fuzzy ? strstr(s, want) != NULL : strcmp(s, want) == 0))
			return 1;
	}
	return 0;
}

static int has_tag_key(const json_t *doc, const json_t *values)
{
	size_t i;
	json_t *tag;

	json_array_foreach(json_object_get(doc, "Tags"), i, tag)
		if (value_in(values, json_string_value(json_object_get(tag, "TagKey")) ?: "", 0))
			return 1;
	return 0;
}

/* 1 when instance `r` passes one filter, 0 when not, -1 for an unknown filter name. */
static int filter_match(const struct store_res *r, const json_t *filter)
{
	const char *name = json_string_value(json_object_get(filter, "Name"));
	const json_t *values = json_object_get(filter, "Values");
	char num[24];

	if (strcmp(name, "db-instance-id") == 0)
		return value_in(values, r->id, 0);
	if (strcmp(name, "db-instance-name") == 0)
		return value_in(values, doc_str(r->doc, "Name"), 1);
	if (strcmp(name, "db-project-id") == 0) {
		snprintf(num, sizeof(num), "%lld", (long long)doc_int(r->doc, "ProjectId"));
		return value_in(values, num, 0);
	}
	if (strcmp(name, "db-pay-mode") == 0)
		return value_in(values, doc_str(r->doc, "PayType"), 0) ||
		       value_in(values, doc_str(r->doc, "ChargeType"), 0);
	if (strcmp(name, "db-tag-key") == 0)
		return has_tag_key(r->doc, values);
	if (strcmp(name, "db-instance-status") == 0)
		return value_in(values, r->status, 0);
	if (strcmp(name, "db-instance-ip") == 0 || strcmp(name, "db-private-ip") == 0)
		return value_in(values, doc_str(r->doc, "Vip"), 0);
	if (strcmp(name, "db-public-address") == 0)
		return 0; /* no public endpoints yet */
	return -1;
}

static int filters_check(const json_t *filters, struct err *e)
{
	static const char *const known[] = { "db-instance-id", "db-instance-name", "db-project-id", "db-pay-mode",
					     "db-tag-key", "db-instance-status", "db-instance-ip", "db-private-ip",
					     "db-public-address", NULL };
	size_t i;
	json_t *f;

	json_array_foreach(filters, i, f) {
		const char *name = json_string_value(json_object_get(f, "Name"));
		int ok = 0;
		for (const char *const *k = known; *k; k++)
			ok |= strcmp(*k, name) == 0;
		if (!ok)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "Unknown filter name `%.64s`.", name);
	}
	return 0;
}

struct view_order {
	const char *key;
	int desc;
};

static int view_cmp(const void *a, const void *b, void *arg)
{
	const struct store_res *x = a, *y = b;
	const struct view_order *o = arg;
	const char *sort_key = o->key;
	int c;

	if (strcmp(sort_key, "DBInstanceId") == 0)
		c = strcmp(x->id, y->id);
	else if (strcmp(sort_key, "Name") == 0)
		c = strcmp(doc_str(x->doc, "Name"), doc_str(y->doc, "Name"));
	else if (strcmp(sort_key, "EndTime") == 0)
		c = (doc_int(x->doc, "ExpireTime") > doc_int(y->doc, "ExpireTime")) -
		    (doc_int(x->doc, "ExpireTime") < doc_int(y->doc, "ExpireTime"));
	else
		c = (x->created > y->created) - (x->created < y->created);
	if (c == 0)
		c = strcmp(x->id, y->id);
	return o->desc ? -c : c;
}

/* Keep the instances that pass every filter (filters AND, values OR). */
static size_t apply_filters(struct store_res *list, size_t n, const json_t *filters)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		int ok = 1;
		size_t j;
		json_t *f;
		json_array_foreach(filters, j, f)
			ok &= filter_match(&list[i], f) == 1;
		if (ok) {
			struct store_res tmp = list[kept];
			list[kept++] = list[i];
			list[i] = tmp;
		}
	}
	return kept;
}

int instances_describe(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct view_order order;
	json_t *filters = json_object_get(ctx->params, "Filters");
	long long limit = DESCRIBE_LIMIT_DEFAULT, offset = 0;
	struct store_res *list;
	size_t n, kept;
	json_t *set = json_array();

	api_param_int(ctx, "Limit", &limit);
	api_param_int(ctx, "Offset", &offset);
	if (limit == 0)
		limit = DESCRIBE_LIMIT_DEFAULT;
	if ((filters && filters_check(filters, e) != 0) ||
	    store_res_list(ctx->svc->store, FLEET_KIND, ctx->tenant->id, &list, &n, e) != 0) {
		json_decref(set);
		return -1;
	}
	kept = filters ? apply_filters(list, n, filters) : n;
	order.key = api_param_str(ctx, "OrderBy") ?: "CreateTime";
	order.desc = api_param_str(ctx, "OrderByType") && strcmp(api_param_str(ctx, "OrderByType"), "desc") == 0;
	if (kept > 1)
		qsort_r(list, kept, sizeof(*list), view_cmp, &order);
	for (size_t i = (size_t)offset; i < kept && i < (size_t)(offset + limit); i++)
		json_array_append_new(set, instance_view(&list[i], ctx->tenant));
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)kept));
	json_object_set_new(out, "DBInstanceSet", set);
	store_res_list_free(list, n);
	return 0;
}

int instances_describe_attribute(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res r;

	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), &r, e) != 0)
		return -1;
	json_object_set_new(out, "DBInstance", instance_view(&r, ctx->tenant));
	store_res_free(&r);
	return 0;
}

/* ---- account rules ---- */

int instance_check_account_name(const char *name, struct err *e)
{
	size_t len = strlen(name);

	if (len < 1 || len > 16)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ACCOUNT_NAME,
			       "The account name must be 1 to 16 characters long.");
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ACCOUNT_NAME,
				       "The account name may contain only letters, digits and underscores.");
	if (isdigit((unsigned char)name[0]) || strncasecmp(name, "pg_", 3) == 0 || strcasecmp(name, "postgres") == 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ACCOUNT_NAME,
			       "The account name must not be `postgres` or start with a digit or `pg_`.");
	/* the service's own roles (PGNODE_SUPERUSER, ...) are never a tenant's */
	if (strncasecmp(name, "pgfleet", 7) == 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ACCOUNT_NAME,
			       "Account names starting with `pgfleet` are reserved.");
	return 0;
}

int instance_check_password(const char *pw, struct err *e)
{
	static const char symbols[] = "()`~!@#$%^&*-+=_|{}[]:;'<>,.?/";
	size_t len = strlen(pw);
	int lower = 0, upper = 0, digit = 0, symbol = 0;

	if (len < 8 || len > 32)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PASSWORD_LENGTH_ERROR,
			       "The password must be 8 to 32 characters long.");
	if (pw[0] == '/')
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PASSWORD_FORMAT,
			       "The password must not start with `/`.");
	for (const char *p = pw; *p; p++) {
		if (islower((unsigned char)*p))
			lower = 1;
		else if (isupper((unsigned char)*p))
			upper = 1;
		else if (isdigit((unsigned char)*p))
			digit = 1;
		else if (strchr(symbols, *p) != NULL)
			symbol = 1;
		else
			return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PASSWORD_FORMAT,
				       "The password may contain only letters, digits and the symbols %s", symbols);
	}
	if (!(lower && upper && digit && symbol))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PASSWORD_FORMAT,
			       "The password must contain lowercase and uppercase letters, digits and symbols.");
	return 0;
}
