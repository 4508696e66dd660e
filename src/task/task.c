/*
 * task.c - see task.h. A fixed pool of worker threads takes task ids from a
 * bounded FIFO (mutex + condition variable, so a new task starts at once)
 * and runs each task to its end, step by step.
 */
#include "task/task.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

struct task_engine {
	struct store *store;
	const struct task_kind *const *tables;
	void *ctx;
	pthread_mutex_t mu;
	pthread_cond_t cv;         /* queue not empty, or stopping */
	pthread_cond_t done_cv;    /* a task ended */
	int64_t queue[TASK_QUEUE_MAX];
	size_t head, len;
	int stopping;
	int nthreads;
	pthread_t *threads;
};

static const struct task_kind *task_kind_find(const struct task_engine *eng, const char *name)
{
	for (const struct task_kind *const *t = eng->tables; *t != NULL; t++)
		for (const struct task_kind *k = *t; k->name != NULL; k++)
			if (strcmp(k->name, name) == 0)
				return k;
	return NULL;
}

/* Save the step's resource change and the task row in one transaction. */
static int task_commit(struct task_run *run, struct err *e)
{
	if (store_txn_begin(run->store, e) != 0)
		return -1;
	if ((run->mutate == NULL ||
	     store_res_modify(run->store, run->kind->res_kind, run->task->resource, 0, run->mutate,
			      run->mutate_arg, e) == 0) &&
	    store_task_update(run->store, run->task, e) == 0)
		return store_txn_commit(run->store, e);
	store_txn_rollback(run->store);
	return -1;
}

static void task_fail(struct task_run *run, const struct task_kind *k, struct err *cause)
{
	struct store_task *t = run->task;
	char ctx[32];
	struct err e;

	snprintf(ctx, sizeof(ctx), "task %lld", (long long)t->id);
	log_warn(ctx, "%s on %s failed at step %d: %s: %s", t->kind, t->resource, t->step,
		 err_code_name(cause->code), err_message(cause, ERR_LANG_EN));
	run->mutate = NULL;
	if (k != NULL && k->on_fail != NULL && k->on_fail(run, &e) != 0)
		log_error(ctx, "cleanup after failure: %s", err_message(&e, ERR_LANG_EN));
	t->state = STORE_TASK_FAILED;
	snprintf(t->error_code, sizeof(t->error_code), "%s", err_code_name(cause->code));
	snprintf(t->error_msg, sizeof(t->error_msg), "%s", err_message(cause, ERR_LANG_EN));
	if (task_commit(run, &e) != 0)
		log_error(ctx, "cannot record failure: %s", err_message(&e, ERR_LANG_EN));
}

/* Run task `id` from its recorded step to its end. */
static void task_execute(struct task_engine *eng, int64_t id)
{
	struct store_task t;
	struct err e;
	char ctx[32];
	const struct task_kind *k;

	snprintf(ctx, sizeof(ctx), "task %lld", (long long)id);
	if (store_task_get(eng->store, id, &t, &e) != 0) {
		log_error(ctx, "cannot load: %s", err_message(&e, ERR_LANG_EN));
		return;
	}
	k = task_kind_find(eng, t.kind);
	while (t.state == STORE_TASK_RUNNING) {
		struct task_run run = { .eng = eng, .store = eng->store, .kind = k, .task = &t, .ctx = eng->ctx };
		if (k == NULL || (size_t)t.step >= k->nsteps) {
			err_set(&e, ERR_INTERNAL_ERROR, "unknown task kind or step");
			task_fail(&run, k, &e);
			break;
		}
		log_debug(ctx, "%s on %s: step %d", t.kind, t.resource, t.step);
		if (k->steps[t.step](&run, &e) != 0) {
			task_fail(&run, k, &e);
			break;
		}
		t.step++;
		if ((size_t)t.step == k->nsteps)
			t.state = STORE_TASK_SUCCEEDED;
		if (task_commit(&run, &e) != 0) {
			log_error(ctx, "cannot save step %d: %s", t.step, err_message(&e, ERR_LANG_EN));
			break; /* resumes at the next start */
		}
	}
	if (t.state == STORE_TASK_SUCCEEDED)
		log_info(ctx, "%s on %s succeeded", t.kind, t.resource);
	store_task_free(&t);
}

static void *task_worker(void *arg)
{
	struct task_engine *eng = arg;

	pthread_mutex_lock(&eng->mu);
	for (;;) {
		while (eng->len == 0 && !eng->stopping)
			pthread_cond_wait(&eng->cv, &eng->mu);
		if (eng->stopping)
			break;
		int64_t id = eng->queue[eng->head];
		eng->head = (eng->head + 1) % TASK_QUEUE_MAX;
		eng->len--;
		pthread_mutex_unlock(&eng->mu);
		task_execute(eng, id);
		pthread_mutex_lock(&eng->mu);
		pthread_cond_broadcast(&eng->done_cv);
	}
	pthread_mutex_unlock(&eng->mu);
	return NULL;
}

int task_engine_enqueue(struct task_engine *eng, int64_t task_id, struct err *e)
{
	int rc = 0;

	pthread_mutex_lock(&eng->mu);
	if (eng->len == TASK_QUEUE_MAX) {
		rc = err_set(e, ERR_RESOURCE_INSUFFICIENT, "too many tasks queued; retry later");
	} else {
		eng->queue[(eng->head + eng->len) % TASK_QUEUE_MAX] = task_id;
		eng->len++;
		pthread_cond_signal(&eng->cv);
	}
	pthread_mutex_unlock(&eng->mu);
	return rc;
}

static int task_resume_all(struct task_engine *eng, struct err *e)
{
	struct store_task *list;
	size_t n;

	if (store_task_list_running(eng->store, &list, &n, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		log_info("task", "resuming task %lld (%s on %s) at step %d", (long long)list[i].id,
			 list[i].kind, list[i].resource, list[i].step);
		task_engine_enqueue(eng, list[i].id, e);
	}
	store_task_list_free(list, n);
	return 0;
}

int task_engine_start(struct task_engine **out, struct store *s, const struct task_kind *const *tables,
		      int nthreads, void *ctx, struct err *e)
{
	struct task_engine *eng = calloc(1, sizeof(*eng));

	if (eng == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	eng->store = s;
	eng->tables = tables;
	eng->ctx = ctx;
	pthread_mutex_init(&eng->mu, NULL);
	pthread_cond_init(&eng->cv, NULL);
	pthread_cond_init(&eng->done_cv, NULL);
	eng->threads = calloc((size_t)nthreads, sizeof(pthread_t));
	if (eng->threads == NULL || task_resume_all(eng, e) != 0) {
		task_engine_stop(eng);
		return eng->threads == NULL ? err_set(e, ERR_INTERNAL_ERROR, "out of memory") : -1;
	}
	for (; eng->nthreads < nthreads; eng->nthreads++)
		if (pthread_create(&eng->threads[eng->nthreads], NULL, task_worker, eng) != 0)
			break;
	*out = eng;
	return 0;
}

void task_engine_stop(struct task_engine *eng)
{
	if (eng == NULL)
		return;
	pthread_mutex_lock(&eng->mu);
	eng->stopping = 1;
	pthread_cond_broadcast(&eng->cv);
	pthread_mutex_unlock(&eng->mu);
	for (int i = 0; i < eng->nthreads; i++)
		pthread_join(eng->threads[i], NULL);
	free(eng->threads);
	pthread_cond_destroy(&eng->done_cv);
	pthread_cond_destroy(&eng->cv);
	pthread_mutex_destroy(&eng->mu);
	free(eng);
}

int task_engine_wait(struct task_engine *eng, int64_t id, int timeout_ms, struct err *e)
{
	struct timespec deadline;
	struct store_task t;
	int rc;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		if (store_task_get(eng->store, id, &t, e) != 0)
			return -1;
		rc = t.state != STORE_TASK_RUNNING;
		store_task_free(&t);
		if (rc)
			return 1;
		pthread_mutex_lock(&eng->mu);
		int w = pthread_cond_timedwait(&eng->done_cv, &eng->mu, &deadline);
		pthread_mutex_unlock(&eng->mu);
		if (w != 0)
			return 0;
	}
}
