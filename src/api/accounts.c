/*
 * accounts.c - accounts and databases, read from and written to the real
 * server over libpq (src/pg/pgsql.c): the roles and databases that exist,
 * including those made over SQL. The store keeps only what PostgreSQL does
 * not: an account's remark and its create/update/password times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "api/instances.h"
#include "task/fleet.h"

#define ACCOUNT_REMARK_MAX 60

static const char *const account_ok_status[] = { "running", "readonly", NULL };

/* The caller's running instance and a superuser connection to it. */
static int open_instance(const struct api_ctx *ctx, struct store_res *r, PGconn **conn, struct err *e)
{
	if (instance_get(ctx, api_param_str(ctx, "DBInstanceId"), r, e) != 0)
		return -1;
	if (instance_status_allows(r, account_ok_status, e) != 0 || fleet_connect(r->doc, NULL, conn, e) != 0) {
		store_res_free(r);
		return -1;
	}
	return 0;
}

/* 1 when a login role `name` exists (pgfleet's own roles excluded). */
static int role_exists(const json_t *roles, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(roles, i, v)
		if (strcmp(json_string_value(json_object_get(v, "name")) ?: "", name) == 0)
			return 1;
	return 0;
}

static json_t *account_view(const struct store_res *r, const char *name)
{
	const json_t *meta = json_object_get(json_object_get(r->doc, "Accounts"), name);
	json_int_t created = json_integer_value(json_object_get(r->doc, "CreateTime"));
	char ct[20], ut[20], pt[20];
	const char *admin = json_string_value(json_object_get(r->doc, "AdminName")) ?: "";

	clock_format(meta ? json_integer_value(json_object_get(meta, "CreateTime")) : created, ct);
	clock_format(meta ? json_integer_value(json_object_get(meta, "UpdateTime")) : created, ut);
	clock_format(meta ? json_integer_value(json_object_get(meta, "PasswordUpdateTime")) : 0, pt);
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b, s:[]}", "DBInstanceId", r->id, "UserName",
			 name, "Remark",
			 meta ? json_string_value(json_object_get(meta, "Remark")) ?: "" : "", "Status", 2,
			 "CreateTime", ct, "UpdateTime", ut, "PasswordUpdateTime", pt, "UserType",
			 strcmp(name, admin) == 0 ? "tencentDBSuper" : "normal", "OpenCam", 0, "PGRoles");
}

struct account_order {
	const char *key;
	int desc;
};

static int account_cmp(const void *a, const void *b, void *arg)
{
	const struct account_order *o = arg;
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	const char *k = strcmp(o->key, "name") == 0 ? "UserName" : strcmp(o->key, "updateTime") == 0 ? "UpdateTime"
											     : "CreateTime";
	int c = strcmp(json_string_value(json_object_get(x, k)), json_string_value(json_object_get(y, k)));

	if (c == 0)
		c = strcmp(json_string_value(json_object_get(x, "UserName")), json_string_value(json_object_get(y, "UserName")));
	return o->desc ? -c : c;
}

int accounts_describe(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res r;
	PGconn *conn;
	json_t *roles, *v, *details = json_array();
	json_t **views;
	long long limit = 10, offset = 0;
	struct account_order o = { api_param_str(ctx, "OrderBy") ?: "createTime",
				   api_param_str(ctx, "OrderByType") && !strcmp(api_param_str(ctx, "OrderByType"), "desc") };
	size_t i, n;
	int rc;

	api_param_int(ctx, "Limit", &limit);
	api_param_int(ctx, "Offset", &offset);
	if (open_instance(ctx, &r, &conn, e) != 0) {
		json_decref(details);
		return -1;
	}
	rc = pgsql_roles_list(conn, &roles, e);
	pgsql_close(conn);
	if (rc != 0) {
		store_res_free(&r);
		json_decref(details);
		return -1;
	}
	n = json_array_size(roles);
	views = calloc(n ? n : 1, sizeof(*views));
	json_array_foreach(roles, i, v)
		views[i] = account_view(&r, json_string_value(json_object_get(v, "name")));
	qsort_r(views, n, sizeof(*views), account_cmp, &o);
	for (i = 0; i < n; i++) {
		if (i >= (size_t)offset && i < (size_t)(offset + limit))
			json_array_append(details, views[i]);
		json_decref(views[i]);
	}
	free(views);
	json_decref(roles);
	store_res_free(&r);
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)n));
	json_object_set_new(out, "Details", details);
	return 0;
}

struct account_change {
	const char *name;
	const char *remark;    /* NULL: password change */
};

static int mut_account(struct store_res *r, void *arg, struct err *e)
{
	const struct account_change *c = arg;
	json_int_t now = (json_int_t)clock_now();
	json_t *accounts = json_object_get(r->doc, "Accounts");
	json_t *meta;

	if (!json_is_object(accounts)) {
		accounts = json_object();
		json_object_set_new(r->doc, "Accounts", accounts);
	}
	meta = json_object_get(accounts, c->name);
	if (meta == NULL) {
		meta = json_pack("{s:s, s:I}", "Remark", "", "CreateTime", now);
		json_object_set_new(accounts, c->name, meta);
	}
	json_object_set_new(meta, "UpdateTime", json_integer(now));
	if (c->remark != NULL)
		json_object_set_new(meta, "Remark", json_string(c->remark));
	else
		json_object_set_new(meta, "PasswordUpdateTime", json_integer(now));
	return 0;
}

/* The account must exist on the server; then apply `c` there and here. */
static int account_change(struct api_ctx *ctx, const struct account_change *c, const char *password,
			  struct err *e)
{
	struct store_res r;
	PGconn *conn;
	json_t *roles;
	int rc;

	if (open_instance(ctx, &r, &conn, e) != 0)
		return -1;
	rc = pgsql_roles_list(conn, &roles, e);
	if (rc == 0) {
		if (!role_exists(roles, c->name))
			rc = err_set(e, ERR_INVALID_PARAMETER_VALUE_ACCOUNT_NOT_EXIST_ERROR,
				     "The account `%.64s` does not exist.", c->name);
		json_decref(roles);
	}
	if (rc == 0 && password != NULL)
		rc = pgsql_role_set_password(conn, c->name, password, e);
	pgsql_close(conn);
	if (rc == 0)
		rc = store_res_modify(ctx->svc->store, FLEET_KIND, r.id, ctx->tenant->id, mut_account, (void *)c, e);
	store_res_free(&r);
	return rc;
}

int accounts_reset_password(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct account_change c = { api_param_str(ctx, "UserName"), NULL };
	const char *pw = api_param_str(ctx, "Password");

	if (instance_check_password(pw, e) != 0)
		return -1;
	return account_change(ctx, &c, pw, e);
}

int accounts_modify_remark(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct account_change c = { api_param_str(ctx, "UserName"), api_param_str(ctx, "Remark") };

	if (strlen(c.remark) > ACCOUNT_REMARK_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_ACCOUNT_FORMAT, "Remark must be at most %d characters.",
			       ACCOUNT_REMARK_MAX);
	return account_change(ctx, &c, NULL, e);
}

static json_t *database_view(const json_t *db)
{
	json_t *limit = json_object_get(db, "conn_limit");

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:s}", "DatabaseName",
			 json_string_value(json_object_get(db, "name")) ?: "", "DatabaseOwner",
			 json_string_value(json_object_get(db, "owner")) ?: "", "Encoding",
			 json_string_value(json_object_get(db, "encoding")) ?: "", "Collate",
			 json_string_value(json_object_get(db, "collate")) ?: "", "Ctype",
			 json_string_value(json_object_get(db, "ctype")) ?: "", "AllowConn",
			 json_is_true(json_object_get(db, "allow_connections")), "ConnLimit",
			 limit ? json_integer_value(limit) : (json_int_t)-1, "Privileges", "");
}

/* Filter "database-name": substring match, values OR'ed. */
static int database_match(const json_t *filters, const char *name, struct err *e)
{
	size_t i, j;
	json_t *f, *v;

	json_array_foreach(filters, i, f) {
		int ok = 0;
		if (strcmp(json_string_value(json_object_get(f, "Name")), "database-name") != 0)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "Unknown filter name `%.64s`.",
				       json_string_value(json_object_get(f, "Name")));
		json_array_foreach(json_object_get(f, "Values"), j, v)
			ok |= strstr(name, json_string_value(v)) != NULL;
		if (!ok)
			return 0;
	}
	return 1;
}

int databases_describe(struct api_ctx *ctx, json_t *out, struct err *e)
{
	struct store_res r;
	PGconn *conn;
	json_t *dbs, *db, *items = json_array(), *views = json_array();
	json_t *filters = json_object_get(ctx->params, "Filters");
	long long limit = 100, offset = 0;
	size_t i, total = 0;
	int rc;

	api_param_int(ctx, "Limit", &limit);
	api_param_int(ctx, "Offset", &offset);
	if (open_instance(ctx, &r, &conn, e) != 0)
		goto fail;
	rc = pgsql_databases_list(conn, &dbs, e);
	pgsql_close(conn);
	store_res_free(&r);
	if (rc != 0)
		goto fail;
	json_array_foreach(dbs, i, db) {
		const char *name = json_string_value(json_object_get(db, "name"));
		int m = filters ? database_match(filters, name, e) : 1;
		if (m < 0) {
			json_decref(dbs);
			goto fail;
		}
		if (m && total >= (size_t)offset && total < (size_t)(offset + limit)) {
			json_array_append_new(items, json_string(name));
			json_array_append_new(views, database_view(db));
		}
		total += (size_t)m;
	}
	json_decref(dbs);
	json_object_set_new(out, "Items", items);
	json_object_set_new(out, "TotalCount", json_integer((json_int_t)total));
	json_object_set_new(out, "Databases", views);
	return 0;
fail:
	json_decref(items);
	json_decref(views);
	return -1;
}

const struct api_handler account_handlers[] = {
	{ "DescribeAccounts", accounts_describe },
	{ "DescribeDatabases", databases_describe },
	{ "ModifyAccountRemark", accounts_modify_remark },
	{ "ResetAccountPassword", accounts_reset_password },
	{ NULL, NULL },
};
