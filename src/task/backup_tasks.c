/*
 * backup_tasks.c - the backup task kinds.
 *
 *   backup.base   (resource: the base backup's id, so that it never blocks
 *                  the instance's own tasks)
 *       prepare   the instance must run; a physical replication slot
 *                 pgfleet_bk_<id> reserves WAL from now on (pg_basebackup
 *                 -X fetch copies the WAL of the backup at its end: the
 *                 slot keeps checkpoints from recycling it meanwhile);
 *                 stale slots of earlier backups are dropped; the list of
 *                 databases is recorded
 *       copy      pg_basebackup into the backup store (pgbackup_base_take:
 *                 idempotent, a resumed copy stops the orphan of a killed
 *                 daemon and starts again); the record becomes finished
 *                 with its size, LSN range and expiry
 *       release   drop the slot
 *     failure: the slot is dropped, the files removed, the record marked
 *     failed with the reason (it expires like a finished one).
 *   backup.clone  see backup_clone_task.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "task/backup.h"

#define BACKUP_SLOT_MAX 64

/* ---- helpers ------------------------------------------------------------------------------- */

static void backup_slot_name(const char *id, char out[BACKUP_SLOT_MAX])
{
	size_t n = snprintf(out, BACKUP_SLOT_MAX, "%s", BACKUP_SLOT_PREFIX);

	for (const char *p = id; *p && n + 1 < BACKUP_SLOT_MAX; p++)
		if (*p != '-')
			out[n++] = *p;
	out[n] = '\0';
}

/* The backup record of the task and its instance. */
static int backup_load(struct task_run *run, struct store_res *bk, struct store_res *inst, struct err *e)
{
	const char *iid;

	if (store_res_get(run->store, BACKUP_KIND_BASE, run->task->resource, 0, bk, e) != 0)
		return -1;
	iid = json_string_value(json_object_get(bk->doc, "DBInstanceId"));
	if (iid == NULL || store_res_get(run->store, FLEET_KIND, iid, 0, inst, e) != 0) {
		store_res_free(bk);
		return iid == NULL ? err_set(e, ERR_INTERNAL_ERROR, "backup record without instance") : -1;
	}
	return 0;
}

static bool backup_instance_runs(const struct store_res *inst)
{
	return strcmp(inst->status, "running") == 0 || strcmp(inst->status, "readonly") == 0;
}

static int backup_drop_slot(PGconn *c, const char *slot, struct err *e)
{
	const char *p[] = { slot };

	return pgsql_exec(c, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
			     "WHERE slot_name = $1 AND NOT active",
			  1, p, NULL, e);
}

/* Drop the slots of backups that no longer run (a daemon killed before
 * its release step, a failure that could not reach the server). */
static void backup_drop_stale_slots(struct task_run *run, PGconn *c)
{
	PGresult *res = NULL;
	struct err e;

	if (pgsql_exec(c, "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'pgfleet\\_bk\\_%' "
			  "AND NOT active",
		       0, NULL, &res, &e) != 0)
		return;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *slot = PQgetvalue(res, i, 0);
		char mine[BACKUP_SLOT_MAX];
		backup_slot_name(run->task->resource, mine);
		if (strcmp(slot, mine) == 0)
			continue;
		if (backup_drop_slot(c, slot, &e) == 0)
			log_info(run->task->resource, "dropped stale replication slot %s", slot);
	}
	PQclear(res);
}

/* ---- resource changes ------------------------------------------------------------------------ */

static int mut_dblist(struct store_res *r, void *arg, struct err *e)
{
	struct task_run *run = arg;

	json_object_set(r->doc, "DbList", json_object_get(run->task->params, "DbList"));
	return 0;
}

static int64_t backup_retention_s(struct store *s, const char *inst)
{
	struct backup_plan p;
	json_t *plan = NULL;
	struct err e;

	if (backup_plan_load(s, inst, &plan, &e) != 0)
		return (int64_t)BACKUP_RETENTION_MIN * BACKUP_DAY_S;
	backup_plan_parse(plan, &p);
	json_decref(plan);
	return (int64_t)p.base_days * BACKUP_DAY_S;
}

/* End the record: status, finish time, expiry (unless set by the user). */
static void backup_end(struct store *s, struct store_res *r, const char *status)
{
	int64_t now = clock_now();
	const char *inst = json_string_value(json_object_get(r->doc, "DBInstanceId")) ?: "";

	snprintf(r->status, sizeof(r->status), "%s", status);
	json_object_set_new(r->doc, "FinishTime", json_integer((json_int_t)now));
	if (!json_is_true(json_object_get(r->doc, "ExpireSet")))
		json_object_set_new(r->doc, "ExpireTime", json_integer((json_int_t)(now + backup_retention_s(s, inst))));
}

static int mut_finished(struct store_res *r, void *arg, struct err *e)
{
	struct task_run *run = arg;
	const char *key;
	json_t *v;

	json_object_foreach(json_object_get(run->task->params, "Info"), key, v)
		json_object_set(r->doc, key, v);
	backup_end(run->store, r, "finished");
	return 0;
}

static int mut_failed(struct store_res *r, void *arg, struct err *e)
{
	struct task_run *run = arg;

	json_object_set(r->doc, "Error", json_object_get(run->task->params, "Error"));
	backup_end(run->store, r, "failed");
	return 0;
}

/* ---- backup.base ------------------------------------------------------------------------------ */

static int base_dblist(PGconn *c, json_t *params, struct err *e)
{
	json_t *dbs = NULL, *names = json_array(), *db;
	size_t i;

	if (pgsql_databases_list(c, &dbs, e) != 0) {
		json_decref(names);
		return -1;
	}
	json_array_foreach(dbs, i, db)
		json_array_append(names, json_object_get(db, "name"));
	json_decref(dbs);
	json_object_set_new(params, "DbList", names);
	return 0;
}

static int base_prepare(struct task_run *run, struct err *e)
{
	struct store_res bk, inst;
	struct pgnode n;
	char slot[BACKUP_SLOT_MAX];
	const char *p[] = { slot };
	PGconn *c = NULL;
	int rc = -1;

	if (backup_load(run, &bk, &inst, e) != 0)
		return -1;
	backup_slot_name(bk.id, slot);
	if (!backup_instance_runs(&inst))
		err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR, "instance %s is %s", inst.id, inst.status);
	else if (fleet_primary_node(run->ctx, inst.doc, &n, e) == 0 && backup_dirs_ensure(run->ctx, inst.id, n.user, e) == 0 &&
		 fleet_connect(inst.doc, NULL, &c, e) == 0) {
		backup_drop_stale_slots(run, c);
		rc = pgsql_exec(c, "SELECT pg_create_physical_replication_slot($1, true, false) WHERE NOT EXISTS "
				   "(SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
				1, p, NULL, e);
		if (rc == 0)
			rc = base_dblist(c, run->task->params, e);
		pgsql_close(c);
	}
	store_res_free(&bk);
	store_res_free(&inst);
	if (rc == 0) {
		run->mutate = mut_dblist;
		run->mutate_arg = run;
	}
	return rc;
}

static json_t *base_info_json(const struct pgbackup_base_info *i)
{
	char start[24], stop[24];

	snprintf(start, sizeof(start), "%X/%X", (unsigned)(i->start_lsn >> 32), (unsigned)i->start_lsn);
	snprintf(stop, sizeof(stop), "%X/%X", (unsigned)(i->stop_lsn >> 32), (unsigned)i->stop_lsn);
	return json_pack("{s:I, s:I, s:s, s:I, s:s, s:s, s:I, s:I}", "Size", (json_int_t)i->size, "DataBytes",
			 (json_int_t)i->data_bytes, "File", i->file, "Timeline", (json_int_t)i->timeline, "StartLsn",
			 start, "StopLsn", stop, "StartSeg", (json_int_t)pgbackup_lsn_segno(i->start_lsn), "StopSeg",
			 (json_int_t)pgbackup_lsn_segno(i->stop_lsn ? i->stop_lsn - 1 : 0));
}

static int base_copy(struct task_run *run, struct err *e)
{
	struct fleet *f = run->ctx;
	struct store_res bk, inst;
	struct pgnode n;
	struct pgbackup_base_info info;
	struct pgbackup_base_req q = { .node = &n, .label = run->task->resource,
				       .max_rate_kbps = f->cfg->backup_max_rate_kbps };
	char dir[PGBACKUP_PATH_MAX];
	int rc = -1;

	if (backup_load(run, &bk, &inst, e) != 0)
		return -1;
	q.password = json_string_value(json_object_get(inst.doc, "SuperPassword"));
	if (pgbackup_compression_parse(f->cfg->backup_compression, &q.compression) != 0)
		err_set(e, ERR_INTERNAL_ERROR, "bad backup_compression `%s`", f->cfg->backup_compression);
	else if (fleet_primary_node(f, inst.doc, &n, e) == 0 &&
		 backup_base_dir(f, inst.id, bk.id, dir, sizeof(dir), e) == 0) {
		q.dir = dir;
		rc = pgbackup_base_take(&q, &info, e);
	}
	store_res_free(&bk);
	store_res_free(&inst);
	if (rc != 0)
		return -1;
	json_object_set_new(run->task->params, "Info", base_info_json(&info));
	run->mutate = mut_finished;
	run->mutate_arg = run;
	return 0;
}

/* Drop the backup's slot; an unreachable server keeps it until the next
 * backup's prepare step drops it as stale. */
static void base_drop_own_slot(struct task_run *run)
{
	struct store_res bk, inst;
	char slot[BACKUP_SLOT_MAX];
	PGconn *c;
	struct err e;

	if (backup_load(run, &bk, &inst, &e) != 0)
		return;
	backup_slot_name(bk.id, slot);
	if (fleet_connect(inst.doc, NULL, &c, &e) == 0) {
		if (backup_drop_slot(c, slot, &e) != 0)
			log_warn(bk.id, "drop slot %s: %s", slot, err_message(&e, ERR_LANG_EN));
		pgsql_close(c);
	}
	store_res_free(&bk);
	store_res_free(&inst);
}

static int base_release(struct task_run *run, struct err *e)
{
	base_drop_own_slot(run);
	return 0;
}

static int base_failed(struct task_run *run, struct err *e)
{
	struct store_res bk;
	char dir[PGBACKUP_PATH_MAX], partial[PGBACKUP_PATH_MAX + 16];
	const char *inst;
	struct err ce;

	base_drop_own_slot(run);
	if (store_res_get(run->store, BACKUP_KIND_BASE, run->task->resource, 0, &bk, &ce) == 0) {
		inst = json_string_value(json_object_get(bk.doc, "DBInstanceId"));
		if (inst != NULL && backup_base_dir(run->ctx, inst, bk.id, dir, sizeof(dir), &ce) == 0) {
			snprintf(partial, sizeof(partial), "%s.partial", dir);
			if (pgbackup_remove_tree(dir, &ce) != 0 || pgbackup_remove_tree(partial, &ce) != 0)
				log_warn(bk.id, "cleanup: %s", err_message(&ce, ERR_LANG_EN));
		}
		store_res_free(&bk);
	}
	run->mutate = mut_failed;
	run->mutate_arg = run;
	return 0;
}

/* A step's failure, kept in the task's params for base_failed's record
 * (the engine gives on_fail no cause). */
static int base_step(struct task_run *run, int (*fn)(struct task_run *, struct err *), struct err *e)
{
	if (fn(run, e) == 0)
		return 0;
	json_object_set_new(run->task->params, "Error", json_string(err_message(e, ERR_LANG_EN)));
	return -1;
}

static int base_step_prepare(struct task_run *run, struct err *e)
{
	return base_step(run, base_prepare, e);
}

static int base_step_copy(struct task_run *run, struct err *e)
{
	return base_step(run, base_copy, e);
}

static const task_step_fn clone_steps[] = { fleet_step_os_user, backup_clone_alloc, backup_clone_flush,
					     backup_clone_stage, backup_clone_restore, backup_clone_recover,
					     backup_clone_finish };

static const task_step_fn base_steps[] = { base_step_prepare, base_step_copy, base_release };

#define STEPS(a) a, sizeof(a) / sizeof(a[0])

const struct task_kind backup_task_kinds[] = {
	{ "backup.base", BACKUP_KIND_BASE, STEPS(base_steps), base_failed },
	{ "backup.clone", FLEET_KIND, STEPS(clone_steps), backup_clone_failed },
	{ NULL, NULL, NULL, 0, NULL },
};
