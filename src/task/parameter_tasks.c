/*
 * parameter_tasks.c - the parameter task kind (see parameter_tasks.h for
 * its params and the history it keeps). Values arrive validated and
 * canonical (src/api/parameters.c checked them against the catalog, the
 * spec and the real binary's preflight); the steps apply them:
 *
 *   params.modify  snapshot -> write -> stop -> start
 *     snapshot  keep postgresql.auto.conf as it is (the undo record)
 *     write     ALTER SYSTEM for every change, pg_reload_conf(), then wait
 *               until a new session sees every reloadable value; those
 *               events become success, the others "waiting for restart"
 *               and the instance `restarting` when any needs a restart
 *     stop      (restart only) fast shutdown
 *     start     (restart only) start, wait until a new session sees every
 *               value; events success, the instance back to its status
 *
 * A failure anywhere undoes the whole change (on_fail): the snapshot is
 * written back and the server reloaded, or restarted when values that need
 * a restart had already taken effect, or started when it was down (it did
 * not start with the new values). Every event of the change becomes
 * `failed` with an EventLog saying what happened; the instance returns to
 * its status, or `offline` when even the old values do not start.
 *
 * Steps are idempotent: ALTER SYSTEM with the same values, a stop of a
 * stopped server and a start of a running one are no-ops, and the snapshot
 * is taken once.
 */
#include "task/parameter_tasks.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"

#define PARAMS_POLL_MS   50
#define PARAMS_LOG_MAX   400
#define STEP_START       3     /* index of the start step (rollback needs a restart after it) */

/* ---- shared with the actions --------------------------------------------- */

static void params_env(const struct fleet *f, struct pgparams_env *env, char *cache, size_t cap)
{
	snprintf(cache, cap, "%s/%s", f->cfg->data_dir, PGPARAMS_DIR);
	env->cache_dir = cache;
	env->templates_root = f->templates_root;
	env->user = &f->user;
}

int params_catalog_for(const struct fleet *f, const char *bin_dir, const char *version,
		       const struct pgparams_catalog **c, struct err *e)
{
	char cache[PATH_MAX];
	struct pgparams_env env;

	params_env(f, &env, cache, sizeof(cache));
	return pgparams_catalog_get(&env, bin_dir, version, c, e);
}

int params_catalog_of(const struct fleet *f, const json_t *doc, const struct pgparams_catalog **c,
		      struct err *e)
{
	const char *bin = json_string_value(json_object_get(doc, "BinDir"));
	const char *ver = json_string_value(json_object_get(doc, "DBVersion"));

	if (bin == NULL || ver == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "instance document lacks its server version");
	return params_catalog_for(f, bin, ver, c, e);
}

void params_spec_of(const json_t *doc, struct pgnode_conf *spec)
{
	spec->memory_mb = (int)json_integer_value(json_object_get(doc, "MemoryMb"));
	spec->cpu = (int)json_integer_value(json_object_get(doc, "Cpu"));
	spec->storage_gb = (int)json_integer_value(json_object_get(doc, "StorageGb"));
}

void params_events_record(json_t *doc, const json_t *task_params, json_int_t now)
{
	json_t *events = json_object_get(doc, PARAMS_EVENTS), *ch;
	const char *batch = json_string_value(json_object_get(task_params, "Batch"));
	const char *op = json_string_value(json_object_get(task_params, "Operator"));
	size_t i;

	if (!json_is_array(events)) {
		events = json_array();
		json_object_set_new(doc, PARAMS_EVENTS, events);
	}
	json_array_foreach(json_object_get(task_params, "Changes"), i, ch)
		json_array_append_new(events,
				      json_pack("{s:s, s:O, s:O, s:O, s:I, s:I, s:s, s:s, s:s}", "Batch", batch ?: "",
						"ParamName", json_object_get(ch, "Name"), "OldValue",
						json_object_get(ch, "Old"), "NewValue", json_object_get(ch, "Value"),
						"ModifyTime", now, "EffectiveTime", (json_int_t)0, "State",
						PARAMS_STATE_MODIFYING, "Operator", op ?: "", "EventLog", ""));
	while (json_array_size(events) > PARAMS_EVENTS_MAX)
		json_array_remove(events, 0);
}

/* ---- events and status at commit ------------------------------------------ */

enum params_which { PARAMS_RELOADED, PARAMS_RESTARTED, PARAMS_ALL };

/* Does change `name` of the task need a restart? */
static bool params_change_restarts(const json_t *params, const char *name)
{
	size_t i;
	json_t *ch;

	json_array_foreach(json_object_get(params, "Changes"), i, ch)
		if (strcmp(json_string_value(json_object_get(ch, "Name")) ?: "", name) == 0)
			return json_is_true(json_object_get(ch, "Restart"));
	return false;
}

/* Set the state of the task's events (those of `which`). */
static void params_events_set(json_t *doc, const json_t *params, enum params_which which, const char *state,
			      const char *log)
{
	const char *batch = json_string_value(json_object_get(params, "Batch")) ?: "";
	json_int_t now = (json_int_t)clock_now();
	size_t i;
	json_t *ev;

	json_array_foreach(json_object_get(doc, PARAMS_EVENTS), i, ev) {
		const char *name = json_string_value(json_object_get(ev, "ParamName")) ?: "";
		bool restarts = params_change_restarts(params, name);
		if (strcmp(json_string_value(json_object_get(ev, "Batch")) ?: "", batch) != 0 ||
		    (which == PARAMS_RELOADED && restarts) || (which == PARAMS_RESTARTED && !restarts))
			continue;
		json_object_set_new(ev, "State", json_string(state));
		if (strcmp(state, PARAMS_STATE_SUCCESS) == 0)
			json_object_set_new(ev, "EffectiveTime", json_integer(now));
		if (log != NULL)
			json_object_set_new(ev, "EventLog", json_string(log));
	}
}

static void params_set_status(struct store_res *r, const char *status)
{
	snprintf(r->status, sizeof(r->status), "%s", status);
}

static const char *params_prev_status(const json_t *params)
{
	return json_string_value(json_object_get(params, "PrevStatus")) ?: "running";
}

static int mut_written(struct store_res *r, void *arg, struct err *e)
{
	const json_t *params = ((struct task_run *)arg)->task->params;

	params_events_set(r->doc, params, PARAMS_RELOADED, PARAMS_STATE_SUCCESS, NULL);
	params_events_set(r->doc, params, PARAMS_RESTARTED, PARAMS_STATE_WAITING, NULL);
	if (json_is_true(json_object_get(params, "Restart")))
		params_set_status(r, "restarting");
	return 0;
}

static int mut_started(struct store_res *r, void *arg, struct err *e)
{
	const json_t *params = ((struct task_run *)arg)->task->params;

	params_events_set(r->doc, params, PARAMS_RESTARTED, PARAMS_STATE_SUCCESS, NULL);
	params_set_status(r, params_prev_status(params));
	return 0;
}

static int mut_failed(struct store_res *r, void *arg, struct err *e)
{
	const json_t *params = ((struct task_run *)arg)->task->params;

	params_events_set(r->doc, params, PARAMS_ALL, PARAMS_STATE_FAILED,
			  json_string_value(json_object_get(params, "EventLog")));
	params_set_status(r, json_string_value(json_object_get(params, "EndStatus")) ?: params_prev_status(params));
	return 0;
}

/* ---- helpers --------------------------------------------------------------- */

static bool params_restart(const struct task_run *run)
{
	return json_is_true(json_object_get(run->task->params, "Restart"));
}

/* Record why the task fails (for the events) and fail with `e` as set. */
static int params_fail(struct task_run *run, const char *why)
{
	json_object_set_new(run->task->params, "Failure", json_string(why));
	return -1;
}

/* 1 when a new session sees every change (all, or only the reloadable
 * ones), 0 when not yet (the first one missing named in `which`), -1 error. */
static int params_effective(struct task_run *run, const json_t *doc, bool all, char *which, size_t cap,
			    struct err *e)
{
	const struct pgparams_catalog *c;
	PGconn *conn;
	json_t *s, *ch;
	size_t i;
	int rc = 1;

	if (params_catalog_of(run->ctx, doc, &c, e) != 0 || fleet_connect(doc, NULL, &conn, e) != 0)
		return -1;
	if (pgparams_server_settings(conn, c, &s, e) != 0) {
		pgsql_close(conn);
		return -1;
	}
	pgsql_close(conn);
	json_array_foreach(json_object_get(run->task->params, "Changes"), i, ch) {
		const char *name = json_string_value(json_object_get(ch, "Name"));
		const struct pgparams_def *d = pgparams_find(c, name);
		const char *now = json_string_value(json_object_get(json_object_get(s, name), "setting"));
		if ((!all && json_is_true(json_object_get(ch, "Restart"))) || d == NULL ||
		    pgparams_same(d, now, json_string_value(json_object_get(ch, "Value"))))
			continue;
		snprintf(which, cap, "%s", name);
		rc = 0;
		break;
	}
	json_decref(s);
	return rc;
}

/* Wait until a new session sees the changes (see params_effective). */
static int params_wait(struct task_run *run, const json_t *doc, bool all, struct err *e)
{
	struct timespec t0, t;
	char which[PGPARAMS_NAME_MAX + 1] = "", why[PARAMS_LOG_MAX];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int rc = params_effective(run, doc, all, which, sizeof(which), e);
		if (rc != 0)
			return rc > 0 ? 0 : params_fail(run, "the server could not be reached to check the new values");
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > PARAMS_APPLY_WAIT_MS)
			break;
		poll(NULL, 0, PARAMS_POLL_MS);
	}
	snprintf(why, sizeof(why), "PostgreSQL did not take the new value of %s", which);
	err_set(e, ERR_FAILED_OPERATION_FAILED_OPERATION_ERROR, "%s.", why);
	return params_fail(run, why);
}

/* ---- steps ------------------------------------------------------------------- */

static int step_snapshot(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	char *text;
	int rc;

	if (json_object_get(run->task->params, "AutoConf") != NULL)
		return 0;
	if (fleet_load_node(run, &r, &n, e) != 0)
		return params_fail(run, "the instance's files could not be read; nothing was changed");
	rc = pgparams_autoconf_read(&n, &text, e);
	store_res_free(&r);
	if (rc != 0)
		return params_fail(run, "the instance's configuration could not be read; nothing was changed");
	json_object_set_new(run->task->params, "AutoConf", json_string(text));
	free(text);
	return 0;
}

static int params_alter_all(PGconn *conn, const json_t *changes, struct err *e)
{
	size_t i;
	json_t *ch;

	json_array_foreach(changes, i, ch)
		if (pgparams_alter_system(conn, json_string_value(json_object_get(ch, "Name")),
					  json_string_value(json_object_get(ch, "Value")), e) != 0)
			return -1;
	return pgparams_reload(conn, e);
}

static int step_write(struct task_run *run, struct err *e)
{
	struct store_res r;
	PGconn *conn;
	int rc;

	if (store_res_get(run->store, FLEET_KIND, run->task->resource, 0, &r, e) != 0)
		return params_fail(run, "the instance could not be read");
	if (fleet_connect(r.doc, NULL, &conn, e) != 0) {
		store_res_free(&r);
		return params_fail(run, "the server could not be reached");
	}
	rc = params_alter_all(conn, json_object_get(run->task->params, "Changes"), e);
	pgsql_close(conn);
	if (rc != 0) {
		store_res_free(&r);
		return params_fail(run, "PostgreSQL refused the new values");
	}
	rc = params_wait(run, r.doc, false, e);
	store_res_free(&r);
	if (rc == 0) {
		run->mutate = mut_written;
		run->mutate_arg = run;
	}
	return rc;
}

static int step_stop(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	int rc;

	if (!params_restart(run))
		return 0;
	if (fleet_load_node(run, &r, &n, e) != 0)
		return params_fail(run, "the instance could not be read");
	rc = pgnode_stop(&n, PGNODE_STOP_FAST, PGNODE_STOP_TIMEOUT_MS, e);
	store_res_free(&r);
	return rc == 0 ? 0 : params_fail(run, "the server did not stop for the restart");
}

static int step_start(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	int rc;

	if (!params_restart(run)) {
		json_object_del(run->task->params, "AutoConf"); /* done: not kept in the task row */
		return 0;
	}
	if (fleet_load_node(run, &r, &n, e) != 0)
		return params_fail(run, "the instance could not be read");
	rc = pgnode_start(&n, PGNODE_START_TIMEOUT_MS, e);
	if (rc != 0)
		params_fail(run, "PostgreSQL did not start with the new values");
	else
		rc = params_wait(run, r.doc, true, e);
	store_res_free(&r);
	if (rc == 0) {
		json_object_del(run->task->params, "AutoConf");
		run->mutate = mut_started;
		run->mutate_arg = run;
	}
	return rc;
}

/* ---- undo ------------------------------------------------------------------- */

/* Write the snapshot back and bring the server to it: reload, restart
 * (values needing a restart already in effect) or start (it was down).
 * Returns whether the server runs afterwards. */
static bool params_undo(struct task_run *run, const struct pgnode *n, char *log, size_t cap)
{
	const char *snapshot = json_string_value(json_object_get(run->task->params, "AutoConf"));
	struct pgnode_state st;
	struct err e;
	int rc = 0;

	if (snapshot != NULL)
		rc = pgparams_autoconf_write(n, snapshot, &e);
	if (rc == 0 && pgnode_status(n, &st, &e) == 0) {
		if (!st.running)
			rc = pgnode_start(n, PGNODE_START_TIMEOUT_MS, &e);
		else if (params_restart(run) && run->task->step >= STEP_START)
			rc = pgnode_stop(n, PGNODE_STOP_FAST, PGNODE_STOP_TIMEOUT_MS, &e) == 0
			     ? pgnode_start(n, PGNODE_START_TIMEOUT_MS, &e) : -1;
		else
			rc = pgnode_reload(n, &e);
	} else {
		rc = -1;
	}
	if (rc != 0) {
		log_error(run->task->resource, "undoing a parameter change failed: %s", err_message(&e, ERR_LANG_EN));
		snprintf(log, cap, "; restoring the previous values failed");
	} else {
		snprintf(log, cap, snapshot != NULL ? "; the previous values were restored" : "");
	}
	return pgnode_status(n, &st, &e) == 0 && st.running;
}

static int params_failed(struct task_run *run, struct err *e)
{
	const char *why = json_string_value(json_object_get(run->task->params, "Failure"))
			  ?: "the change could not be applied";
	char tail[128] = "", log[PARAMS_LOG_MAX];
	struct store_res r;
	struct pgnode n;
	bool running = false;

	if (fleet_load_node(run, &r, &n, e) == 0) {
		running = params_undo(run, &n, tail, sizeof(tail));
		store_res_free(&r);
	}
	snprintf(log, sizeof(log), "%s%s", why, tail);
	json_object_set_new(run->task->params, "EventLog", json_string(log));
	json_object_set_new(run->task->params, "EndStatus",
			    json_string(running ? params_prev_status(run->task->params) : "offline"));
	json_object_del(run->task->params, "AutoConf"); /* done with it */
	run->mutate = mut_failed;
	run->mutate_arg = run;
	return 0;
}

static const task_step_fn modify_steps[] = { step_snapshot, step_write, step_stop, step_start };

const struct task_kind parameter_task_kinds[] = {
	{ PARAMS_TASK_KIND, FLEET_KIND, modify_steps, sizeof(modify_steps) / sizeof(modify_steps[0]), params_failed },
	{ NULL, NULL, NULL, 0, NULL },
};
