/* test_task.c - the durable task engine and the store's resources, addresses and tasks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "task/task.h"

static char dir[64];
static struct store *st;
static int64_t tenant;
static int ran[8];

static int setup(void **state)
{
	struct err e;
	struct store_tenant t;
	struct store_key k;
	char path[128];

	snprintf(dir, sizeof(dir), "/tmp/pgfleet-test-task.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/db", dir);
	assert_int_equal(store_open(&st, path, &e), 0);
	assert_int_equal(store_tenant_create(st, "t1", &t, &k, &e), 0);
	tenant = t.id;
	memset(ran, 0, sizeof(ran));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	store_close(st);
	snprintf(cmd, sizeof(cmd), "%s/db", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/db-wal", dir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/db-shm", dir);
	unlink(cmd);
	rmdir(dir);
	return 0;
}

static void put_res(const char *id, const char *status)
{
	struct store_res r = { .tenant_id = tenant };
	struct err e;

	snprintf(r.kind, sizeof(r.kind), "thing");
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.status, sizeof(r.status), "%s", status);
	r.doc = json_pack("{s:i}", "n", 0);
	assert_int_equal(store_res_insert(st, &r, &e), 0);
	store_res_free(&r);
}

static int mut_count(struct store_res *r, void *arg, struct err *e)
{
	json_object_set_new(r->doc, "n", json_integer(json_integer_value(json_object_get(r->doc, "n")) + 1));
	snprintf(r->status, sizeof(r->status), "%s", (const char *)arg);
	return 0;
}

static int step0(struct task_run *run, struct err *e)
{
	ran[0]++;
	run->mutate = mut_count;
	run->mutate_arg = (void *)"one";
	return 0;
}

static int step1(struct task_run *run, struct err *e)
{
	ran[1]++;
	json_object_set_new(run->task->params, "seen1", json_true());
	return 0;
}

static int step2(struct task_run *run, struct err *e)
{
	ran[2]++;
	if (json_is_true(json_object_get(run->task->params, "fail")))
		return err_set(e, ERR_RESOURCE_INSUFFICIENT, "no room");
	run->mutate = mut_count;
	run->mutate_arg = (void *)"done";
	return 0;
}

static int failed(struct task_run *run, struct err *e)
{
	ran[3]++;
	run->mutate = mut_count;
	run->mutate_arg = (void *)"broken";
	return 0;
}

static const task_step_fn steps[] = { step0, step1, step2 };
static const struct task_kind kinds[] = {
	{ "thing.make", "thing", steps, 3, failed },
	{ NULL, NULL, NULL, 0, NULL },
};
static const struct task_kind *const tables[] = { kinds, NULL };

static int64_t add_task(const char *res, json_t *params)
{
	struct store_task t = { .tenant_id = tenant, .params = params };
	struct err e;

	snprintf(t.kind, sizeof(t.kind), "thing.make");
	snprintf(t.resource, sizeof(t.resource), "%s", res);
	assert_int_equal(store_task_insert(st, &t, &e), 0);
	json_decref(params);
	return t.id;
}

static void check_res(const char *id, const char *status, int n)
{
	struct store_res r;
	struct err e;

	assert_int_equal(store_res_get(st, "thing", id, 0, &r, &e), 0);
	assert_string_equal(r.status, status);
	assert_int_equal(json_integer_value(json_object_get(r.doc, "n")), n);
	store_res_free(&r);
}

static void test_runs_all_steps(void **state)
{
	struct task_engine *eng;
	struct store_task t;
	struct err e;

	put_res("a", "new");
	assert_int_equal(task_engine_start(&eng, st, tables, 2, NULL, &e), 0);
	int64_t id = add_task("a", json_object());
	assert_int_equal(task_engine_enqueue(eng, id, &e), 0);
	assert_int_equal(task_engine_wait(eng, id, 5000, &e), 1);
	task_engine_stop(eng);
	assert_int_equal(store_task_get(st, id, &t, &e), 0);
	assert_int_equal(t.state, STORE_TASK_SUCCEEDED);
	assert_int_equal(t.step, 3);
	assert_true(json_is_true(json_object_get(t.params, "seen1")));
	store_task_free(&t);
	assert_int_equal(ran[0] + ran[1] + ran[2], 3);
	check_res("a", "done", 2);
}

/* A task left at step 2 (the daemon died there) resumes at step 2 at start. */
static void test_resumes(void **state)
{
	struct task_engine *eng;
	struct store_task t;
	struct err e;

	put_res("b", "new");
	int64_t id = add_task("b", json_object());
	assert_int_equal(store_task_get(st, id, &t, &e), 0);
	t.step = 2;
	assert_int_equal(store_task_update(st, &t, &e), 0);
	store_task_free(&t);
	assert_int_equal(task_engine_start(&eng, st, tables, 1, NULL, &e), 0);
	assert_int_equal(task_engine_wait(eng, id, 5000, &e), 1);
	task_engine_stop(eng);
	assert_int_equal(ran[0], 0);
	assert_int_equal(ran[1], 0);
	assert_int_equal(ran[2], 1);
	check_res("b", "done", 1);
}

static void test_failure(void **state)
{
	struct task_engine *eng;
	struct store_task t;
	struct err e;

	put_res("c", "new");
	assert_int_equal(task_engine_start(&eng, st, tables, 1, NULL, &e), 0);
	int64_t id = add_task("c", json_pack("{s:b}", "fail", 1));
	assert_int_equal(task_engine_enqueue(eng, id, &e), 0);
	assert_int_equal(task_engine_wait(eng, id, 5000, &e), 1);
	task_engine_stop(eng);
	assert_int_equal(store_task_get(st, id, &t, &e), 0);
	assert_int_equal(t.state, STORE_TASK_FAILED);
	assert_string_equal(t.error_code, "ResourceInsufficient");
	assert_string_equal(t.error_msg, "no room");
	store_task_free(&t);
	assert_int_equal(ran[3], 1);
	check_res("c", "broken", 2); /* step 0's change stays, on_fail's is applied */
}

static void test_res_cas_and_list(void **state)
{
	struct store_res a, b, *list;
	struct err e;
	size_t n;

	put_res("x", "s");
	put_res("y", "s");
	assert_int_equal(store_res_get(st, "thing", "x", tenant, &a, &e), 0);
	assert_int_equal(store_res_get(st, "thing", "x", 0, &b, &e), 0);
	assert_int_equal(store_res_update(st, &a, &e), 0);
	assert_int_equal(store_res_update(st, &b, &e), -1); /* stale rev */
	assert_int_equal(e.code, ERR_FAILED_OPERATION);
	store_res_free(&a);
	store_res_free(&b);
	assert_int_equal(store_res_get(st, "thing", "x", tenant + 1, &b, &e) == 0 ? 0 : (int)e.code,
			 ERR_RESOURCE_NOT_FOUND); /* another tenant's: not found */
	put_res("z", "s");
	assert_int_equal(store_res_list(st, "thing", tenant, &list, &n, &e), 0);
	assert_int_equal(n, 3);
	store_res_list_free(list, n);
	assert_int_equal(store_res_delete(st, "thing", "z", &e), 0);
	assert_int_equal(store_res_list(st, "thing", 0, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	store_res_list_free(list, n);
	put_res("dup", "s");
	struct store_res d = { .tenant_id = tenant };
	snprintf(d.kind, sizeof(d.kind), "thing");
	snprintf(d.id, sizeof(d.id), "dup");
	assert_int_equal(store_res_insert(st, &d, &e), -1);
	assert_int_equal(e.code, ERR_RESOURCE_IN_USE);
}

static void test_addresses(void **state)
{
	char a[16], b[16], c[16];
	struct err e;

	assert_int_equal(store_addr_alloc(st, "127.20.0.254", "127.20.1.2", "i1", a, &e), 0);
	assert_string_equal(a, "127.20.0.254");
	assert_int_equal(store_addr_alloc(st, "127.20.0.254", "127.20.1.2", "i2", b, &e), 0);
	assert_string_equal(b, "127.20.1.1"); /* .255 and .0 skipped */
	assert_int_equal(store_addr_alloc(st, "127.20.0.254", "127.20.1.2", "i1", c, &e), 0);
	assert_string_equal(c, a);            /* same owner, same address */
	assert_int_equal(store_addr_alloc(st, "127.20.0.254", "127.20.1.2", "i3", c, &e), 0);
	assert_int_equal(store_addr_alloc(st, "127.20.0.254", "127.20.1.2", "i4", c, &e), -1);
	assert_int_equal(e.code, ERR_RESOURCE_INSUFFICIENT);
	assert_int_equal(store_addr_release(st, "i1", &e), 0);
	assert_int_equal(store_addr_alloc(st, "127.20.0.254", "127.20.1.2", "i4", c, &e), 0);
	assert_string_equal(c, "127.20.0.254");
}

static void test_nested_txn(void **state)
{
	struct err e;
	int64_t busy;

	put_res("n", "s");
	assert_int_equal(store_txn_begin(st, &e), 0);
	int64_t id = add_task("n", json_object());
	assert_int_equal(store_txn_begin(st, &e), 0);
	store_txn_rollback(st); /* inner failure dooms the outer transaction */
	assert_int_equal(store_txn_commit(st, &e), -1);
	assert_int_equal(store_task_running_for(st, "n", &busy, &e), 0);
	assert_int_equal(busy, 0);
	(void)id;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runs_all_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_res_cas_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_txn, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
