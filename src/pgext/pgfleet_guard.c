/*
 * pgfleet_guard.c - a PostgreSQL extension module loaded into every session
 * of every managed instance (session_preload_libraries, a superuser-only
 * setting the tenant cannot change or override per connection).
 *
 * Why: an instance's admin account has CREATEROLE, and in PostgreSQL 15
 * CREATEROLE may grant membership in any non-superuser role - including the
 * predefined roles that reach the operating system (pg_execute_server_program
 * for COPY ... PROGRAM, pg_read_server_files and pg_write_server_files for
 * server-side COPY and file functions). PostgreSQL 16 restricts this; 15 has
 * no event trigger for role statements. So the module hooks utility
 * statements and refuses, for anyone but a superuser, every statement that
 * would put a role into one of those: GRANT role TO ..., CREATE ROLE ... IN
 * ROLE ..., ALTER GROUP ... ADD USER ... (and the same for the service's own
 * superuser role). Defence in depth: each instance also runs as its own OS
 * user (src/task/instance_tasks.c).
 *
 * Built against the server headers (postgresql-server-dev) by the Makefile
 * into build/pgfleet_guard.so; the daemon copies it under DATA_DIR/lib.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static ProcessUtility_hook_type guard_prev_hook = NULL;

/* Roles nobody but a superuser may hand out. */
static const char *const guard_roles[] = {
	"pg_execute_server_program",
	"pg_read_server_files",
	"pg_write_server_files",
	"pgfleet_super",
};

static bool guard_is_protected(const char *name)
{
	if (name == NULL)
		return false;
	for (size_t i = 0; i < lengthof(guard_roles); i++)
		if (strcmp(name, guard_roles[i]) == 0)
			return true;
	return false;
}

static void guard_refuse(const char *role)
{
	ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("permission denied to grant role \"%s\"", role),
			errdetail("Membership in this role reaches the server's operating system; "
				  "this managed service does not allow it.")));
}

/* GRANT r TO ...: granted_roles are AccessPriv nodes named after roles. */
static void guard_grant(const GrantRoleStmt *g)
{
	ListCell *lc;

	if (!g->is_grant)
		return;
	foreach (lc, g->granted_roles) {
		AccessPriv *p = (AccessPriv *)lfirst(lc);
		if (guard_is_protected(p->priv_name))
			guard_refuse(p->priv_name);
	}
}

/* CREATE ROLE x IN ROLE r, ...: the "addroleto" option lists RoleSpecs. */
static void guard_create(const CreateRoleStmt *c)
{
	ListCell *lc, *lr;

	foreach (lc, c->options) {
		DefElem *d = (DefElem *)lfirst(lc);
		if (strcmp(d->defname, "addroleto") != 0)
			continue;
		foreach (lr, (List *)d->arg) {
			RoleSpec *r = (RoleSpec *)lfirst(lr);
			if (r->roletype == ROLESPEC_CSTRING && guard_is_protected(r->rolename))
				guard_refuse(r->rolename);
		}
	}
}

/* ALTER GROUP r ADD USER x: a "rolemembers" option with action +1 on role
 * r (plain ALTER ROLE also has action +1, without that option). */
static void guard_alter(const AlterRoleStmt *a)
{
	ListCell *lc;

	if (a->action <= 0 || a->role == NULL || a->role->roletype != ROLESPEC_CSTRING ||
	    !guard_is_protected(a->role->rolename))
		return;
	foreach (lc, a->options) {
		DefElem *d = (DefElem *)lfirst(lc);
		if (strcmp(d->defname, "rolemembers") == 0)
			guard_refuse(a->role->rolename);
	}
}

static void guard_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			  ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
			  DestReceiver *dest, QueryCompletion *qc)
{
	Node *n = pstmt->utilityStmt;

	if (!superuser()) {
		if (IsA(n, GrantRoleStmt))
			guard_grant((GrantRoleStmt *)n);
		else if (IsA(n, CreateRoleStmt))
			guard_create((CreateRoleStmt *)n);
		else if (IsA(n, AlterRoleStmt))
			guard_alter((AlterRoleStmt *)n);
	}
	if (guard_prev_hook != NULL)
		guard_prev_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

void _PG_init(void)
{
	guard_prev_hook = ProcessUtility_hook;
	ProcessUtility_hook = guard_utility;
}
