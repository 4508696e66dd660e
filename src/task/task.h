/*
 * task.h - the durable task engine.
 *
 * A state-changing action records a task (a row in the store, written in
 * the same transaction as the resource it changes) and returns at once.
 * Worker threads run tasks step by step. After each step the engine writes,
 * in one store transaction, the step's resource change (run->mutate, applied
 * to the freshly read resource so that concurrent edits are not lost) and
 * the task's next step, so the store always says how far a task got. Steps must be idempotent: after the daemon is killed at
 * any point, task_engine_start() resumes every running task at the step it
 * had reached, and that step runs again.
 *
 * A step that fails ends the task as `failed` (code and message recorded);
 * before that the kind's `on_fail` step runs to leave the resource in a
 * defined state (marked, resources freed) - never half-created.
 */
#ifndef PGFLEET_TASK_TASK_H
#define PGFLEET_TASK_TASK_H

#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

#define TASK_THREADS_DEFAULT 4
#define TASK_QUEUE_MAX 4096

struct task_engine;

/* A change to the task's resource, applied inside the step's commit. */
typedef int (*task_mutate_fn)(struct store_res *r, void *arg, struct err *e);

struct task_run {
	struct task_engine *eng;
	struct store *store;
	const struct task_kind *kind;
	struct store_task *task;   /* params may be changed; saved with the step */
	task_mutate_fn mutate;     /* set by a step: applied to the resource when the step commits */
	void *mutate_arg;
	void *ctx;                 /* the daemon's services, given to task_engine_start */
};

/* A step returns 0 when done, -1 after err_set() on failure. */
typedef int (*task_step_fn)(struct task_run *run, struct err *e);

struct task_kind {
	const char *name;
	const char *res_kind;      /* store resource kind of task->resource */
	const task_step_fn *steps;
	size_t nsteps;
	task_step_fn on_fail;      /* may be NULL; may set run->mutate too */
};

/* Start `nthreads` workers and resume every running task of the store.
 * `tables` is a NULL-terminated list of kind tables, each ending with a
 * kind whose name is NULL (one table per module). */
int task_engine_start(struct task_engine **out, struct store *s, const struct task_kind *const *tables,
		      int nthreads, void *ctx, struct err *e);

/* Let the workers finish the step they are in, then stop them. Tasks left
 * unfinished resume at the next start. */
void task_engine_stop(struct task_engine *eng);

/* Queue a task already inserted in the store (after its transaction committed). */
int task_engine_enqueue(struct task_engine *eng, int64_t task_id, struct err *e);

/* Block until task `id` is no longer running or timeout_ms passes (tests,
 * synchronous operator commands). 1 finished, 0 timeout, -1 error. */
int task_engine_wait(struct task_engine *eng, int64_t id, int timeout_ms, struct err *e);

#endif
