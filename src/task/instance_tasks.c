/*
 * instance_tasks.c - the steps of every instance task. Each step is
 * idempotent: it checks what is already there and does only what is
 * missing, so that a task resumed after a crash just runs it again.
 * Status changes happen through run->mutate, in the same store transaction
 * that records the step as done.
 *
 *   instance.create     allocate VIP -> template + copy -> start -> accounts -> running
 *   instance.restart    stop -> start -> running
 *   instance.recover    start -> running             (supervisor: crashed postmaster)
 *   instance.isolate    stop -> isolated
 *   instance.disisolate start -> running
 *   instance.destroy    remove node -> release VIP, delete the record
 *   instance.readonly / instance.writable   storage quota (default_transaction_read_only)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "task/fleet.h"

/* ---- resource changes applied at commit ---- */

static int mut_status(struct store_res *r, void *arg, struct err *e)
{
	snprintf(r->status, sizeof(r->status), "%s", (const char *)arg);
	return 0;
}

static int mut_isolated(struct store_res *r, void *arg, struct err *e)
{
	json_object_set_new(r->doc, "IsolatedTime", json_integer((json_int_t)clock_now()));
	return mut_status(r, "isolated", e);
}

static int mut_running_clear_isolation(struct store_res *r, void *arg, struct err *e)
{
	json_object_del(r->doc, "IsolatedTime");
	return mut_status(r, "running", e);
}

/* The task's run: copy its Vip param into the document, status initing. */
static int mut_vip(struct store_res *r, void *arg, struct err *e)
{
	struct task_run *run = arg;

	json_object_set(r->doc, "Vip", json_object_get(run->task->params, "Vip"));
	return mut_status(r, "initing", e);
}

/* The admin account exists: record it, the instance runs. */
static int mut_created(struct store_res *r, void *arg, struct err *e)
{
	const char *admin = json_string_value(json_object_get(r->doc, "AdminName"));
	json_int_t now = (json_int_t)clock_now();
	json_t *accounts = json_object_get(r->doc, "Accounts");

	if (!json_is_object(accounts)) {
		accounts = json_object();
		json_object_set_new(r->doc, "Accounts", accounts);
	}
	if (admin != NULL && json_object_get(accounts, admin) == NULL)
		json_object_set_new(accounts, admin,
				    json_pack("{s:s, s:I, s:I, s:I, s:s}", "Remark", "", "CreateTime", now,
					      "UpdateTime", now, "PasswordUpdateTime", now, "UserType",
					      "tencentDBSuper"));
	return mut_status(r, "running", e);
}

/* ---- helpers ---- */

static void node_conf(const json_t *doc, struct pgnode_conf *c)
{
	c->memory_mb = (int)json_integer_value(json_object_get(doc, "MemoryMb"));
	c->cpu = (int)json_integer_value(json_object_get(doc, "Cpu"));
	c->storage_gb = (int)json_integer_value(json_object_get(doc, "StorageGb"));
}

static int step_start(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	int rc;

	if (fleet_load_node(run, &r, &n, e) != 0)
		return -1;
	rc = pgnode_start(&n, PGNODE_START_TIMEOUT_MS, e);
	store_res_free(&r);
	return rc;
}

static int step_stop(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	int rc;

	if (fleet_load_node(run, &r, &n, e) != 0)
		return -1;
	rc = pgnode_stop(&n, PGNODE_STOP_FAST, PGNODE_STOP_TIMEOUT_MS, e);
	store_res_free(&r);
	return rc;
}

/* ---- instance.create ---- */

void fleet_os_user_name(const char *id, char out[32])
{
	const char *tail = strchr(id, '-');

	snprintf(out, 32, "pgf_%.24s", tail ? tail + 1 : id);
}

static int mut_os_user(struct store_res *r, void *arg, struct err *e)
{
	struct task_run *run = arg;

	json_object_set(r->doc, "OsUser", json_object_get(run->task->params, "OsUser"));
	json_object_set(r->doc, "OsUid", json_object_get(run->task->params, "OsUid"));
	json_object_set(r->doc, "OsGid", json_object_get(run->task->params, "OsGid"));
	return 0;
}

/* Each instance runs as its own OS user when the daemon can create users,
 * so that a tenant who reaches OS level through its server (COPY PROGRAM
 * after granting itself pg_execute_server_program, which CREATEROLE allows
 * in PostgreSQL 15) can touch only its own instance. */
int fleet_step_os_user(struct task_run *run, struct err *e)
{
	struct pgnode_user u;
	char name[32];

	fleet_os_user_name(run->task->resource, name);
	if (pgnode_user_ensure_named(name, &u, e) != 0)
		return -1;
	if (!u.set_ids)
		return 0; /* not root: every server runs as the daemon's user */
	json_object_set_new(run->task->params, "OsUser", json_string(u.name));
	json_object_set_new(run->task->params, "OsUid", json_integer((json_int_t)u.uid));
	json_object_set_new(run->task->params, "OsGid", json_integer((json_int_t)u.gid));
	run->mutate = mut_os_user;
	run->mutate_arg = run;
	return 0;
}

/* Remove the instance's OS user (destroy, failed creation). */
static int remove_os_user(struct task_run *run, struct err *e)
{
	char name[32];

	fleet_os_user_name(run->task->resource, name);
	return pgnode_user_remove(name, e);
}

static int create_alloc(struct task_run *run, struct err *e)
{
	struct fleet *f = run->ctx;
	char vip[16];

	if (store_addr_alloc(run->store, f->cfg->vip_first, f->cfg->vip_last, run->task->resource, vip, e) != 0)
		return -1;
	json_object_set_new(run->task->params, "Vip", json_string(vip));
	run->mutate = mut_vip;
	run->mutate_arg = run;
	return 0;
}

static int create_node(struct task_run *run, struct err *e)
{
	struct fleet *f = run->ctx;
	struct store_res r;
	struct pgnode n;
	struct pgnode_conf c;
	char tpl[PATH_MAX];
	int rc = -1;

	if (fleet_load_node(run, &r, &n, e) != 0)
		return -1;
	node_conf(r.doc, &c);
	if (pgnode_template_ensure(f->templates_root, n.bin_dir,
				   json_string_value(json_object_get(r.doc, "Charset")), &f->user, tpl, sizeof(tpl),
				   e) == 0 &&
	    pgnode_create(&n, tpl, &c, e) == 0)
		rc = 0;
	store_res_free(&r);
	return rc;
}

/* Connect with the template's superuser password (a fresh copy still has
 * it) and replace it with the instance's own. */
static int connect_template(struct task_run *run, const json_t *doc, PGconn **conn, struct err *e)
{
	struct fleet *f = run->ctx;
	struct pgsql_target t = { .host = json_string_value(json_object_get(doc, "Vip")), .port = FLEET_PORT,
				  .user = PGNODE_SUPERUSER };
	char tpl[PATH_MAX], tpl_pw[128];
	struct pgnode n;

	if (fleet_primary_node(f, doc, &n, e) != 0 ||
	    pgnode_template_ensure(f->templates_root, n.bin_dir, json_string_value(json_object_get(doc, "Charset")),
				   &f->user, tpl, sizeof(tpl), e) != 0 ||
	    pgnode_template_password(tpl, tpl_pw, sizeof(tpl_pw), e) != 0)
		return -1;
	t.password = tpl_pw;
	if (pgsql_connect(&t, conn, e) != 0)
		return -1;
	if (pgsql_role_set_password(*conn, PGNODE_SUPERUSER,
				    json_string_value(json_object_get(doc, "SuperPassword")), e) != 0) {
		pgsql_close(*conn);
		return -1;
	}
	return 0;
}

/* Connect as the service superuser. On the first run the server still has
 * the template's password; a resumed run (killed after the password was
 * replaced) finds the instance's own. */
static int connect_super(struct task_run *run, const json_t *doc, PGconn **conn, struct err *e)
{
	if (!json_is_true(json_object_get(run->task->params, "SuperSet")) &&
	    connect_template(run, doc, conn, e) == 0) {
		json_object_set_new(run->task->params, "SuperSet", json_true());
		return 0;
	}
	return fleet_connect(doc, NULL, conn, e);
}

static int create_accounts(struct task_run *run, struct err *e)
{
	struct store_res r;
	PGconn *conn;
	const char *pw = json_string_value(json_object_get(run->task->params, "AdminPassword"));
	int rc = -1;

	if (store_res_get(run->store, FLEET_KIND, run->task->resource, 0, &r, e) != 0)
		return -1;
	if (connect_super(run, r.doc, &conn, e) == 0) {
		const char *admin = json_string_value(json_object_get(r.doc, "AdminName"));
		rc = pw == NULL ? 0 : pgsql_role_ensure(conn, admin, pw, "CREATEDB CREATEROLE", e);
		if (rc == 0)
			rc = pgsql_role_grant_admin(conn, admin, e);
		pgsql_close(conn);
	}
	store_res_free(&r);
	if (rc == 0) {
		json_object_del(run->task->params, "AdminPassword"); /* not kept once used */
		run->mutate = mut_created;
		fleet_warm_request(run->ctx); /* the next creation takes a spare copy */
	}
	return rc;
}

/* Creation failed: free what was taken, mark the instance. */
static int create_failed(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;

	if (fleet_load_node(run, &r, &n, e) == 0) {
		if (pgnode_remove(&n, e) != 0)
			log_warn(run->task->resource, "cleanup: %s", err_message(e, ERR_LANG_EN));
		store_res_free(&r);
	}
	store_addr_release(run->store, run->task->resource, e);
	remove_os_user(run, e);
	json_object_del(run->task->params, "AdminPassword");
	run->mutate = mut_status;
	run->mutate_arg = (void *)"offline";
	return 0;
}

static const task_step_fn create_steps[] = { fleet_step_os_user, create_alloc, create_node, step_start, create_accounts };

/* ---- restart, recover, isolate, disisolate ---- */

static int restart_start(struct task_run *run, struct err *e)
{
	if (step_start(run, e) != 0)
		return -1;
	run->mutate = mut_status;
	run->mutate_arg = (void *)"running";
	return 0;
}

/* A failed start leaves the instance visible as what it is. */
static int start_failed(struct task_run *run, struct err *e)
{
	run->mutate = mut_status;
	run->mutate_arg = (void *)"offline";
	return 0;
}

static const task_step_fn restart_steps[] = { step_stop, restart_start };
static const task_step_fn recover_steps[] = { restart_start };

static int isolate_stop(struct task_run *run, struct err *e)
{
	if (step_stop(run, e) != 0)
		return -1;
	run->mutate = mut_isolated;
	return 0;
}

static int disisolate_start(struct task_run *run, struct err *e)
{
	if (step_start(run, e) != 0)
		return -1;
	run->mutate = mut_running_clear_isolation;
	return 0;
}

static int isolate_failed(struct task_run *run, struct err *e)
{
	run->mutate = mut_status;
	run->mutate_arg = (void *)"running";
	return 0;
}

static const task_step_fn isolate_steps[] = { isolate_stop };
static const task_step_fn disisolate_steps[] = { disisolate_start };

/* ---- destroy ---- */

static int destroy_node(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	int rc;

	if (store_res_get(run->store, FLEET_KIND, run->task->resource, 0, &r, e) != 0)
		return e->code == ERR_RESOURCE_NOT_FOUND ? 0 : -1; /* already gone */
	if (json_object_get(r.doc, "Vip") == NULL || fleet_primary_node(run->ctx, r.doc, &n, e) != 0) {
		store_res_free(&r);
		return 0; /* never had a node (CreateDBInstances, never initialised) */
	}
	rc = pgnode_remove(&n, e);
	store_res_free(&r);
	return rc;
}

static int destroy_record(struct task_run *run, struct err *e)
{
	if (remove_os_user(run, e) != 0 || store_addr_release(run->store, run->task->resource, e) != 0)
		return -1;
	return store_res_delete(run->store, FLEET_KIND, run->task->resource, e);
}

static const task_step_fn destroy_steps[] = { destroy_node, destroy_record };

/* ---- storage quota ---- */

static int set_read_only(struct task_run *run, const char *on, const char *status, struct err *e)
{
	struct store_res r;
	PGconn *conn;
	int rc = -1;

	if (store_res_get(run->store, FLEET_KIND, run->task->resource, 0, &r, e) != 0)
		return -1;
	if (fleet_connect(r.doc, NULL, &conn, e) == 0) {
		/* ALTER SYSTEM takes no parameters: the value is one of two constants */
		rc = pgsql_exec(conn,
				strcmp(on, "on") == 0 ? "ALTER SYSTEM SET default_transaction_read_only = on"
						      : "ALTER SYSTEM RESET default_transaction_read_only",
				0, NULL, NULL, e);
		if (rc == 0)
			rc = pgsql_exec(conn, "SELECT pg_reload_conf()", 0, NULL, NULL, e);
		pgsql_close(conn);
	}
	store_res_free(&r);
	if (rc == 0) {
		run->mutate = mut_status;
		run->mutate_arg = (void *)status;
	}
	return rc;
}

static int readonly_on(struct task_run *run, struct err *e)
{
	return set_read_only(run, "on", "readonly", e);
}

static int readonly_off(struct task_run *run, struct err *e)
{
	return set_read_only(run, "off", "running", e);
}

static const task_step_fn readonly_steps[] = { readonly_on };
static const task_step_fn writable_steps[] = { readonly_off };

#define STEPS(a) a, sizeof(a) / sizeof(a[0])

const struct task_kind instance_task_kinds[] = {
	{ "instance.create", FLEET_KIND, STEPS(create_steps), create_failed },
	{ "instance.restart", FLEET_KIND, STEPS(restart_steps), start_failed },
	{ "instance.recover", FLEET_KIND, STEPS(recover_steps), start_failed },
	{ "instance.isolate", FLEET_KIND, STEPS(isolate_steps), isolate_failed },
	{ "instance.disisolate", FLEET_KIND, STEPS(disisolate_steps), start_failed },
	{ "instance.destroy", FLEET_KIND, STEPS(destroy_steps), start_failed },
	{ "instance.readonly", FLEET_KIND, STEPS(readonly_steps), NULL },
	{ "instance.writable", FLEET_KIND, STEPS(writable_steps), NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
