/*
 * store_task.c - the rows of the durable task engine (table tasks).
 * The engine (src/task/) decides what a step means; this file only keeps
 * each task's kind, resource, state, step, parameters and error.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define STORE_TASK_COLS "id, tenant_id, kind, resource, state, step, params, error_code, error_msg, created, updated"

static const char *const store_task_states[] = { "running", "succeeded", "failed" };

static enum store_task_state store_task_state_parse(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(store_task_states[i], s) == 0)
			return (enum store_task_state)i;
	return STORE_TASK_FAILED;
}

static int store_task_read_row(sqlite3_stmt *st, struct store_task *t, struct err *e)
{
	char state[16];
	json_error_t je;

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	t->tenant_id = sqlite3_column_int64(st, 1);
	store_column_copy(st, 2, t->kind, sizeof(t->kind));
	store_column_copy(st, 3, t->resource, sizeof(t->resource));
	store_column_copy(st, 4, state, sizeof(state));
	t->state = store_task_state_parse(state);
	t->step = sqlite3_column_int(st, 5);
	t->params = json_loads((const char *)sqlite3_column_text(st, 6), 0, &je);
	store_column_copy(st, 7, t->error_code, sizeof(t->error_code));
	store_column_copy(st, 8, t->error_msg, sizeof(t->error_msg));
	t->created = sqlite3_column_int64(st, 9);
	t->updated = sqlite3_column_int64(st, 10);
	if (t->params == NULL) {
		log_error(STORE_LOG_CTX, "task %lld: bad params: %s", (long long)t->id, je.text);
		return err_set(e, ERR_INTERNAL_ERROR, NULL);
	}
	return 0;
}

int store_task_insert(struct store *s, struct store_task *t, struct err *e)
{
	char *params = t->params ? json_dumps(t->params, JSON_COMPACT) : strdup("{}");
	int64_t now = (int64_t)time(NULL);
	int rc = -1;

	if (params == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TASK_INSERT,
				      "INSERT INTO tasks (tenant_id, kind, resource, state, step, params, created, updated)"
				      " VALUES (?1, ?2, ?3, 'running', 0, ?4, ?5, ?5)", e);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, t->tenant_id);
		store_bind_text(st, 2, t->kind, sizeof(t->kind));
		store_bind_text(st, 3, t->resource, sizeof(t->resource));
		sqlite3_bind_text(st, 4, params, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		rc = store_step_done(s, st, "insert task", e);
		if (rc == 0) {
			t->id = sqlite3_last_insert_rowid(s->db);
			t->state = STORE_TASK_RUNNING;
			t->step = 0;
			t->created = t->updated = now;
		}
	}
	store_unlock(s);
	free(params);
	return rc;
}

int store_task_get(struct store *s, int64_t id, struct store_task *out, struct err *e)
{
	int rc;

	memset(out, 0, sizeof(*out));
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TASK_GET, "SELECT " STORE_TASK_COLS " FROM tasks WHERE id = ?1", e);
	if (st == NULL) {
		store_unlock(s);
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		rc = store_task_read_row(st, out, e);
	else if (src == SQLITE_DONE)
		rc = err_set(e, ERR_RESOURCE_NOT_FOUND, "task %lld not found", (long long)id);
	else
		rc = store_fail(s, "get task", e);
	sqlite3_reset(st);
	store_unlock(s);
	return rc;
}

int store_task_list_running(struct store *s, struct store_task **out, size_t *n, struct err *e)
{
	size_t cap = 0;
	int src, rc = 0;

	*out = NULL;
	*n = 0;
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TASK_LIST_ACTIVE,
				      "SELECT " STORE_TASK_COLS " FROM tasks WHERE state = 'running' ORDER BY id", e);
	if (st == NULL) {
		store_unlock(s);
		return -1;
	}
	while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct store_task *nl = realloc(*out, nc * sizeof(**out));
			if (nl == NULL) {
				rc = err_set(e, ERR_INTERNAL_ERROR, "out of memory");
				break;
			}
			*out = nl;
			cap = nc;
		}
		rc = store_task_read_row(st, &(*out)[*n], e);
		if (rc == 0)
			(*n)++;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = store_fail(s, "list tasks", e);
	sqlite3_reset(st);
	store_unlock(s);
	if (rc != 0) {
		store_task_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int store_task_update(struct store *s, const struct store_task *t, struct err *e)
{
	char *params = t->params ? json_dumps(t->params, JSON_COMPACT) : strdup("{}");
	int rc = -1;

	if (params == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TASK_UPDATE,
				      "UPDATE tasks SET state = ?2, step = ?3, params = ?4, error_code = ?5,"
				      " error_msg = ?6, updated = ?7 WHERE id = ?1", e);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, t->id);
		sqlite3_bind_text(st, 2, store_task_states[t->state], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, t->step);
		sqlite3_bind_text(st, 4, params, -1, SQLITE_STATIC);
		store_bind_text(st, 5, t->error_code, sizeof(t->error_code));
		store_bind_text(st, 6, t->error_msg, sizeof(t->error_msg));
		sqlite3_bind_int64(st, 7, (int64_t)time(NULL));
		rc = store_step_done(s, st, "update task", e);
	}
	store_unlock(s);
	free(params);
	return rc;
}

int store_task_running_for(struct store *s, const char *resource, int64_t *id, struct err *e)
{
	int rc = 0;

	*id = 0;
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TASK_ACTIVE_FOR,
				      "SELECT id FROM tasks WHERE resource = ?1 AND state = 'running' LIMIT 1", e);
	if (st == NULL) {
		store_unlock(s);
		return -1;
	}
	store_bind_text(st, 1, resource, STORE_ID_MAX);
	int src = sqlite3_step(st);
	if (src == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else if (src != SQLITE_DONE)
		rc = store_fail(s, "task for resource", e);
	sqlite3_reset(st);
	store_unlock(s);
	return rc;
}

int store_task_counts(struct store *s, json_t **out, struct err *e)
{
	int src, rc = 0;
	json_t *arr = json_array();

	if (arr == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	store_lock(s);
	sqlite3_stmt *st = store_stmt(s, STORE_STMT_TASK_COUNTS,
				      "SELECT kind, state, count(*) FROM tasks GROUP BY kind, state ORDER BY kind, state", e);
	if (st == NULL) {
		store_unlock(s);
		json_decref(arr);
		return -1;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "kind", (const char *)sqlite3_column_text(st, 0),
						     "state", (const char *)sqlite3_column_text(st, 1), "count",
						     (json_int_t)sqlite3_column_int64(st, 2)));
	if (src != SQLITE_DONE)
		rc = store_fail(s, "count tasks", e);
	sqlite3_reset(st);
	store_unlock(s);
	if (rc != 0)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

void store_task_free(struct store_task *t)
{
	if (t == NULL)
		return;
	json_decref(t->params);
	t->params = NULL;
}

void store_task_list_free(struct store_task *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_task_free(&list[i]);
	free(list);
}
