/*
 * backup_clone_task.c - backup.clone: a new instance made from a base
 * backup of another one, recovered to the backup's own end (BackupSetId)
 * or to a point in time (RecoveryTargetTime) with PostgreSQL's recovery
 * targets, the WAL coming from the source's archive through the archiver
 * program (restore_command).
 *
 * Task params (set by CloneDBInstance): SourceId, SourcePassword (the
 * superuser password inside the restored data), BackupId, File, StartSeg,
 * StopSeg (the base backup's), TargetTime ("YYYY-MM-DD HH:MM:SS+00", real
 * UTC time; absent for a backup set).
 *
 *   user     the clone's own OS user (as instance.create makes one)
 *   alloc    the clone's own address; status initing
 *   flush    (point in time, source running) a commit on the source and a
 *            WAL switch, waiting until that segment is archived: the WAL up
 *            to now is in the archive, and a commit after the target exists
 *   stage    the base backup's archive and the archived WAL recovery needs
 *            (from the backup's first segment; for a backup set only its
 *            own) copied into the clone's store, owned by the clone's user:
 *            each instance's server reads only its own store, and expiry
 *            cannot pull a file away mid-way
 *   restore  the archive extracted into the node; its configuration
 *            written for the clone's spec and address; pgfleet-backup.conf
 *            with restore_command (on the staged WAL) and the target;
 *            recovery.signal
 *   recover  start and wait until recovery ends and the server is promoted.
 *            If recovery runs out of archived WAL before reaching the
 *            target (no commit after it in the archive: an idle source),
 *            PostgreSQL stops with "recovery ended before configured
 *            recovery target was reached"; the archive then holds exactly
 *            the transactions committed before the target, so recovery
 *            goes on to its end without a target.
 *   finish   the clone's own superuser password, read-only default reset,
 *            archiving into its own store, staged files removed; status
 *            running
 *   failure: node, address, store and OS user freed, status offline (as a
 *   failed creation).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "task/backup.h"

#define CLONE_FLUSH_WAIT_MS     60000
#define CLONE_RECOVER_TIMEOUT_S (6 * 3600)
#define CLONE_POLL_US           200000
#define CLONE_NOT_REACHED       "recovery ended before configured recovery target was reached"

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *clone_param(const struct task_run *run, const char *key)
{
	return json_string_value(json_object_get(run->task->params, key));
}

/* BACKUP_ROOT/<clone>/restore (and /wal): what recovery reads. */
static int clone_stage_dir(struct task_run *run, const char *sub, char *out, size_t cap, struct err *e)
{
	char dir[PGBACKUP_PATH_MAX];

	if (backup_inst_dir(run->ctx, run->task->resource, dir, sizeof(dir), e) != 0)
		return -1;
	if (snprintf(out, cap, "%s/restore%s", dir, sub) >= (int)cap)
		return err_set(e, ERR_INTERNAL_ERROR, "path too long");
	return 0;
}

/* Superuser connection to the clone: the source's password until finish
 * replaced it, the clone's own after. */
static int clone_connect(struct task_run *run, const json_t *doc, PGconn **c, struct err *e)
{
	struct pgsql_target t = { .host = json_string_value(json_object_get(doc, "Vip")), .port = FLEET_PORT,
				  .user = PGNODE_SUPERUSER, .password = clone_param(run, "SourcePassword") };

	if (t.password != NULL && pgsql_connect(&t, c, e) == 0)
		return 0;
	return fleet_connect(doc, NULL, c, e);
}

static int mut_vip(struct store_res *r, void *arg, struct err *e)
{
	struct task_run *run = arg;

	json_object_set(r->doc, "Vip", json_object_get(run->task->params, "Vip"));
	snprintf(r->status, sizeof(r->status), "initing");
	return 0;
}

static int mut_status(struct store_res *r, void *arg, struct err *e)
{
	snprintf(r->status, sizeof(r->status), "%s", (const char *)arg);
	return 0;
}

/* ---- user, alloc, flush ---- */



int backup_clone_alloc(struct task_run *run, struct err *e)
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

/* Wait until `name` is in the archive `wal` (bounded). */
static bool clone_wait_archived(const char *wal, const char *name)
{
	char path[PGBACKUP_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s.gz", wal, name);
	for (int waited = 0; waited < CLONE_FLUSH_WAIT_MS; waited += CLONE_POLL_US / 1000) {
		if (access(path, F_OK) == 0)
			return true;
		usleep(CLONE_POLL_US);
	}
	return false;
}

/* Commit on the source, switch its WAL and wait for the segment. */
static int clone_flush_source(struct task_run *run, const struct store_res *src, struct err *e)
{
	char wal[PGBACKUP_PATH_MAX];
	PGresult *res = NULL;
	PGconn *c;
	int rc;

	if (backup_wal_dir(run->ctx, src->id, wal, sizeof(wal), e) != 0 || fleet_connect(src->doc, NULL, &c, e) != 0)
		return -1;
	rc = pgsql_exec(c, "BEGIN READ WRITE", 0, NULL, NULL, e);
	if (rc == 0)
		rc = pgsql_exec(c, "SELECT pg_current_xact_id()", 0, NULL, NULL, e);
	if (rc == 0)
		rc = pgsql_exec(c, "COMMIT", 0, NULL, NULL, e);
	if (rc == 0)
		rc = pgsql_exec(c, "SELECT pg_walfile_name(pg_switch_wal())", 0, NULL, &res, e);
	pgsql_close(c);
	if (rc != 0)
		return -1;
	if (!clone_wait_archived(wal, PQgetvalue(res, 0, 0)))
		log_warn(run->task->resource, "WAL %s of %s is not archived yet: the clone may miss the last seconds",
			 PQgetvalue(res, 0, 0), src->id);
	PQclear(res);
	return 0;
}

int backup_clone_flush(struct task_run *run, struct err *e)
{
	struct store_res src;
	struct err fe;

	if (clone_param(run, "TargetTime") == NULL)
		return 0;
	if (store_res_get(run->store, FLEET_KIND, clone_param(run, "SourceId") ?: "", 0, &src, e) != 0)
		return -1;
	if ((strcmp(src.status, "running") == 0 || strcmp(src.status, "readonly") == 0) &&
	    clone_flush_source(run, &src, &fe) != 0)
		log_warn(run->task->resource, "flushing the WAL of %s: %s (recovering from what is archived)", src.id,
			 err_message(&fe, ERR_LANG_EN));
	store_res_free(&src);
	return 0;
}

/* ---- stage, restore ---- */

/* Is archived file `w` one recovery from the backup (start..stop, or
 * start.. for a point in time) may ask for? */
static bool clone_wants(const struct task_run *run, const struct pgbackup_wal_file *w)
{
	uint64_t start = (uint64_t)json_integer_value(json_object_get(run->task->params, "StartSeg"));
	uint64_t stop = (uint64_t)json_integer_value(json_object_get(run->task->params, "StopSeg"));
	bool pitr = clone_param(run, "TargetTime") != NULL;

	if (w->kind == PGBACKUP_WAL_HISTORY)
		return true;
	if (w->kind == PGBACKUP_WAL_PARTIAL)
		return false;
	return w->segno >= start && (pitr || w->segno <= stop);
}

/* Copy the archived WAL recovery needs from the source's store into `dst`. */
static int clone_stage_wal(struct task_run *run, const char *dst, const struct pgnode_user *u, struct err *e)
{
	char src[PGBACKUP_PATH_MAX], from[PGBACKUP_PATH_MAX + 64], to[PGBACKUP_PATH_MAX + 64];
	struct pgbackup_wal_file *w = NULL;
	size_t nw = 0, copied = 0;
	int rc = 0;

	if (backup_wal_dir(run->ctx, clone_param(run, "SourceId") ?: "", src, sizeof(src), e) != 0 ||
	    pgbackup_wal_list(src, &w, &nw, e) != 0)
		return -1;
	for (size_t i = 0; i < nw && rc == 0; i++) {
		if (!clone_wants(run, &w[i]))
			continue;
		snprintf(from, sizeof(from), "%s/%s.gz", src, w[i].name);
		snprintf(to, sizeof(to), "%s/%s.gz", dst, w[i].name);
		rc = pgbackup_file_copy(from, to, u, e);
		copied++;
	}
	free(w);
	if (rc == 0)
		log_info(run->task->resource, "staged %zu archived WAL files of %s", copied, clone_param(run, "SourceId"));
	return rc;
}

int backup_clone_stage(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	char stage[PGBACKUP_PATH_MAX], wal[PGBACKUP_PATH_MAX], dir[PGBACKUP_PATH_MAX];
	char from[PGBACKUP_PATH_MAX + 64], to[PGBACKUP_PATH_MAX + 64];
	const char *src = clone_param(run, "SourceId"), *id = clone_param(run, "BackupId");
	const char *file = clone_param(run, "File");
	int rc = -1;

	if (src == NULL || id == NULL || file == NULL || strchr(file, '/') != NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "clone task without its backup");
	if (fleet_load_node(run, &r, &n, e) != 0)
		return -1;
	if (backup_dirs_ensure(run->ctx, run->task->resource, n.user, e) == 0 &&
	    clone_stage_dir(run, "", stage, sizeof(stage), e) == 0 && clone_stage_dir(run, "/wal", wal, sizeof(wal), e) == 0 &&
	    pgbackup_mkdir(stage, 0700, n.user, e) == 0 && pgbackup_mkdir(wal, 0700, n.user, e) == 0 &&
	    backup_base_dir(run->ctx, src, id, dir, sizeof(dir), e) == 0) {
		snprintf(from, sizeof(from), "%s/%s", dir, file);
		snprintf(to, sizeof(to), "%s/%s", stage, file);
		if (access(from, F_OK) != 0)
			err_set(e, ERR_FAILED_OPERATION, "the base backup %s is gone", id);
		else if (pgbackup_file_copy(from, to, n.user, e) == 0)
			rc = clone_stage_wal(run, wal, n.user, e);
	}
	store_res_free(&r);
	return rc;
}

/* pgfleet-backup.conf for recovery (or, with recovering false, for
 * normal running). */
static int clone_settings(struct task_run *run, const struct pgnode *n, bool recovering, bool *changed,
			  struct err *e)
{
	char archiver[PGBACKUP_PATH_MAX], wal[PGBACKUP_PATH_MAX], restore[PGBACKUP_PATH_MAX];
	struct pgbackup_settings s;

	if (backup_settings(run->ctx, run->task->resource, &s, archiver, wal, e) != 0)
		return -1;
	if (recovering) {
		if (clone_stage_dir(run, "/wal", restore, sizeof(restore), e) != 0)
			return -1;
		s.restore_dir = restore;
		s.target_time = json_is_true(json_object_get(run->task->params, "NoTarget")) ? NULL
											     : clone_param(run, "TargetTime");
		s.target_immediate = clone_param(run, "TargetTime") == NULL;
	}
	return pgbackup_conf_apply(n, &s, changed, e);
}

int backup_clone_restore(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	struct pgnode_conf c;
	char stage[PGBACKUP_PATH_MAX], archive[PGBACKUP_PATH_MAX + 64];
	bool changed;
	int rc = -1;

	if (fleet_load_node(run, &r, &n, e) != 0)
		return -1;
	c.memory_mb = (int)json_integer_value(json_object_get(r.doc, "MemoryMb"));
	c.cpu = (int)json_integer_value(json_object_get(r.doc, "Cpu"));
	c.storage_gb = (int)json_integer_value(json_object_get(r.doc, "StorageGb"));
	if (clone_stage_dir(run, "", stage, sizeof(stage), e) == 0) {
		snprintf(archive, sizeof(archive), "%s/%s", stage, clone_param(run, "File") ?: "");
		if (pgbackup_restore(&n, archive, e) == 0 && pgnode_write_config(&n, &c, e) == 0 &&
		    clone_settings(run, &n, true, &changed, e) == 0 && pgbackup_recovery_signal(&n, true, e) == 0)
			rc = 0;
	}
	store_res_free(&r);
	return rc;
}

/* ---- recover ---------------------------------------------------------------------------------- */

/* 1 when the server has left recovery (postmaster.pid says "ready" and
 * pg_is_in_recovery() agrees), 0 when not yet, -1 when it is down (it
 * stopped during recovery). */
static int clone_promoted(struct task_run *run, const struct store_res *r, const struct pgnode *n)
{
	struct pgnode_state st;
	PGresult *res = NULL;
	PGconn *c;
	struct err e;
	int done = 0;

	char status[16];

	if (pgnode_status(n, &st, &e) != 0 || !st.running)
		return -1;
	pgbackup_pm_status(n, status);
	if (strcmp(status, "ready") != 0 || clone_connect(run, r->doc, &c, &e) != 0)
		return 0; /* "starting" or "standby" in postmaster.pid: still recovering */
	if (pgsql_exec(c, "SELECT pg_is_in_recovery()", 0, NULL, &res, &e) == 0)
		done = strcmp(PQgetvalue(res, 0, 0), "f") == 0;
	PQclear(res);
	pgsql_close(c);
	return done;
}

/* The server stopped during recovery: go on without a target when the
 * target lies past the archived WAL, else fail. */
static int clone_stopped(struct task_run *run, const struct pgnode *n, struct err *e)
{
	bool found = false, changed;

	pgbackup_log_contains(n, CLONE_NOT_REACHED, &found, e);
	if (!found || clone_param(run, "TargetTime") == NULL ||
	    json_is_true(json_object_get(run->task->params, "NoTarget")))
		return err_set(e, ERR_FAILED_OPERATION, "recovery of the clone failed (see the daemon log)");
	log_info(run->task->resource, "no commit after the target in the archive: recovering to its end");
	json_object_set_new(run->task->params, "NoTarget", json_true());
	return clone_settings(run, n, true, &changed, e);
}

int backup_clone_recover(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	int64_t deadline = clock_now() + CLONE_RECOVER_TIMEOUT_S;
	int state = 0, rc = -1;

	if (fleet_load_node(run, &r, &n, e) != 0)
		return -1;
	while (clock_now() < deadline) {
		struct err se;
		if (pgnode_start(&n, PGNODE_START_TIMEOUT_MS, &se) != 0)
			log_debug(run->task->resource, "start: %s", err_message(&se, ERR_LANG_EN));
		state = clone_promoted(run, &r, &n);
		if (state == 1) {
			rc = 0;
			break;
		}
		if (state < 0 && clone_stopped(run, &n, e) != 0)
			break;
		usleep(CLONE_POLL_US);
	}
	if (state == 0 && rc != 0)
		err_set(e, ERR_FAILED_OPERATION, "recovery of the clone timed out");
	store_res_free(&r);
	return rc;
}

/* ---- finish ------------------------------------------------------------------------------------- */

static int clone_own_password(struct task_run *run, const json_t *doc, struct err *e)
{
	PGconn *c;
	int rc;

	if (clone_connect(run, doc, &c, e) != 0)
		return -1;
	rc = pgsql_role_set_password(c, PGNODE_SUPERUSER, json_string_value(json_object_get(doc, "SuperPassword")), e);
	if (rc == 0)
		rc = pgsql_exec(c, "ALTER SYSTEM RESET default_transaction_read_only", 0, NULL, NULL, e);
	if (rc == 0)
		rc = pgsql_exec(c, "SELECT pg_reload_conf()", 0, NULL, NULL, e);
	pgsql_close(c);
	if (rc == 0)
		json_object_del(run->task->params, "SourcePassword");
	return rc;
}

int backup_clone_finish(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	char stage[PGBACKUP_PATH_MAX];
	bool changed;
	int rc = -1;

	if (fleet_load_node(run, &r, &n, e) != 0)
		return -1;
	if (clone_own_password(run, r.doc, e) == 0 && clone_settings(run, &n, false, &changed, e) == 0 &&
	    (!changed || pgnode_reload(&n, e) == 0))
		rc = 0;
	store_res_free(&r);
	if (rc != 0)
		return -1;
	if (clone_stage_dir(run, "", stage, sizeof(stage), e) == 0 && pgbackup_remove_tree(stage, e) != 0)
		log_warn(run->task->resource, "cleanup: %s", err_message(e, ERR_LANG_EN));
	run->mutate = mut_status;
	run->mutate_arg = (void *)"running";
	return 0;
}

int backup_clone_failed(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	char dir[PGBACKUP_PATH_MAX];
	struct err ce;

	if (fleet_load_node(run, &r, &n, &ce) == 0) {
		if (pgnode_remove(&n, &ce) != 0)
			log_warn(run->task->resource, "cleanup: %s", err_message(&ce, ERR_LANG_EN));
		store_res_free(&r);
	}
	if (backup_inst_dir(run->ctx, run->task->resource, dir, sizeof(dir), &ce) == 0)
		pgbackup_remove_tree(dir, &ce);
	store_addr_release(run->store, run->task->resource, &ce);
	fleet_os_user_name(run->task->resource, dir);
	if (pgnode_user_remove(dir, &ce) != 0)
		log_warn(run->task->resource, "remove OS user %s: %s", dir, err_message(&ce, ERR_LANG_EN));
	json_object_del(run->task->params, "SourcePassword");
	run->mutate = mut_status;
	run->mutate_arg = (void *)"offline";
	return 0;
}
