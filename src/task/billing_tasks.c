/*
 * billing_tasks.c - the "spec.switch" task: a change of spec, kernel or
 * placement applied to the real server (see billing.h for the kinds).
 *
 *   config   spec: check the data still fits a smaller Storage, write
 *            pgfleet.conf from the new memory/cores/storage;
 *            kernel: write it for the target's binaries     -> switching
 *   restart  spec, kernel: stop the server and start it again (on the
 *            target's binaries for a kernel change)
 *   verify   kernel: the server reports the target version; spec: cores
 *            limited through the cpu cgroup where the machine can
 *   commit   the new values go into the instance document, the status back
 *            to what it was (running or readonly)
 *
 * Every step is idempotent (rewrite, stop-then-start, compare, set). A
 * failure rewrites the old configuration and starts the server on the old
 * binaries, leaves the document as it was and marks the order failed.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "pg/pgcgroup.h"
#include "task/billing.h"
#include "task/fleet.h"
#include "task/ledger.h"

static const char *param_str(const struct task_run *run, const char *key)
{
	return json_string_value(json_object_get(run->task->params, key));
}

static int param_is(const struct task_run *run, const char *kind)
{
	const char *k = param_str(run, "Kind");

	return k != NULL && strcmp(k, kind) == 0;
}

/* The instance and its primary node; for a kernel change (target = 1) the
 * node runs the target's binaries. */
static int sw_load(struct task_run *run, struct store_res *r, struct pgnode *n, int target, struct err *e)
{
	const char *bin = param_str(run, "BinDir");

	if (store_res_get(run->store, FLEET_KIND, run->task->resource, 0, r, e) != 0)
		return -1;
	if (fleet_primary_node(run->ctx, r->doc, n, e) != 0) {
		store_res_free(r);
		return -1;
	}
	if (target && param_is(run, "kernel") && bin != NULL)
		snprintf(n->bin_dir, sizeof(n->bin_dir), "%s", bin);
	return 0;
}

/* The spec the server should have: the new one (target) or the document's. */
static void sw_conf(const struct task_run *run, const json_t *doc, int target, struct pgnode_conf *c)
{
	const json_t *src = target && param_is(run, "spec") ? run->task->params : doc;

	c->memory_mb = (int)json_integer_value(json_object_get(src, "MemoryMb"));
	c->cpu = (int)json_integer_value(json_object_get(src, "Cpu"));
	c->storage_gb = (int)json_integer_value(json_object_get(src, "StorageGb"));
}

static int mut_status(struct store_res *r, void *arg, struct err *e)
{
	snprintf(r->status, sizeof(r->status), "%s", (const char *)arg);
	return 0;
}

/* A smaller Storage must still hold the data (checked again at the switch:
 * the data may have grown while the change waited for its window). */
static int sw_check_fits(struct task_run *run, const json_t *doc, const struct pgnode *n, struct err *e)
{
	long long want = (long long)json_integer_value(json_object_get(run->task->params, "StorageGb"));
	long long used;

	if (want >= json_integer_value(json_object_get(doc, "StorageGb")))
		return 0;
	if (pgnode_data_size(n, &used, e) != 0)
		return -1;
	if (used > want << 30)
		return err_set(e, ERR_FAILED_OPERATION_PRE_CHECK_ERROR,
			       "The instance stores %lld MB, more than the %lld GB asked for.", used >> 20, want);
	return 0;
}

static int sw_config(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	struct pgnode_conf c;
	int rc = 0;

	if (param_is(run, "deploy"))
		return 0;
	if (sw_load(run, &r, &n, 1, e) != 0)
		return -1;
	sw_conf(run, r.doc, 1, &c);
	if (param_is(run, "spec"))
		rc = sw_check_fits(run, r.doc, &n, e);
	if (rc == 0)
		rc = pgnode_write_config(&n, &c, e);
	store_res_free(&r);
	if (rc == 0) {
		run->mutate = mut_status;
		run->mutate_arg = (void *)"switching";
	}
	return rc;
}

static int sw_restart(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	int rc;

	if (param_is(run, "deploy"))
		return 0;
	if (sw_load(run, &r, &n, 1, e) != 0)
		return -1;
	rc = pgnode_stop(&n, PGNODE_STOP_FAST, PGNODE_STOP_TIMEOUT_MS, e);
	if (rc == 0)
		rc = pgnode_start(&n, PGNODE_START_TIMEOUT_MS, e);
	store_res_free(&r);
	return rc;
}

/* 1 when server_version ("15.18 (Debian 15.18-0+deb12u1)") is `version`. */
static int sw_same_version(const char *server_version, const char *version)
{
	size_t len = strlen(version);

	return strncmp(server_version, version, len) == 0 && !isdigit((unsigned char)server_version[len]) &&
	       server_version[len] != '.';
}

static int sw_verify_kernel(struct task_run *run, const json_t *doc, struct err *e)
{
	const char *want = param_str(run, "DBVersion");
	json_t *info = NULL;
	PGconn *conn;
	int rc;

	if (fleet_connect(doc, NULL, &conn, e) != 0)
		return -1;
	rc = pgsql_server_info(conn, &info, e);
	pgsql_close(conn);
	if (rc == 0) {
		const char *got = json_string_value(json_object_get(info, "server_version"));
		if (got == NULL || want == NULL || !sw_same_version(got, want))
			rc = err_set(e, ERR_FAILED_OPERATION_FAILED_OPERATION_ERROR,
				     "The server reports version %s after the upgrade, not %s.", got ? got : "?",
				     want ? want : "?");
	}
	json_decref(info);
	return rc;
}

/* Cores: enforced where the machine can; recorded either way. */
static void sw_limit_cpu(struct task_run *run, const struct pgnode *n)
{
	int cpu = (int)json_integer_value(json_object_get(run->task->params, "Cpu"));
	struct err e;

	if (pgcgroup_limit(n, cpu, &e) == 0)
		json_object_set_new(run->task->params, "CpuLimit", json_string("cgroup"));
	else
		json_object_set_new(run->task->params, "CpuLimit", json_string("none"));
}

static int sw_verify(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	int rc = 0;

	if (param_is(run, "deploy"))
		return 0;
	if (sw_load(run, &r, &n, 1, e) != 0)
		return -1;
	if (param_is(run, "kernel"))
		rc = sw_verify_kernel(run, r.doc, e);
	else
		sw_limit_cpu(run, &n);
	store_res_free(&r);
	return rc;
}

/* Copy params[keys] into the document. */
static void sw_copy(json_t *doc, const json_t *params, const char *const *keys)
{
	for (const char *const *k = keys; *k != NULL; k++) {
		json_t *v = json_object_get(params, *k);
		if (v != NULL)
			json_object_set(doc, *k, v);
	}
}

static int mut_commit(struct store_res *r, void *arg, struct err *e)
{
	static const char *const spec_keys[] = { "SpecCode", "Cpu", "MemoryMb", "StorageGb", "CpuLimit", NULL };
	static const char *const kernel_keys[] = { "BinDir", "DBVersion", "DBKernelVersion", NULL };
	static const char *const deploy_keys[] = { "DBNodeSet", "Zone", NULL };
	const struct task_run *run = arg;
	const char *prev = param_str(run, "PrevStatus");

	if (param_is(run, "spec"))
		sw_copy(r->doc, run->task->params, spec_keys);
	else if (param_is(run, "kernel"))
		sw_copy(r->doc, run->task->params, kernel_keys);
	else
		sw_copy(r->doc, run->task->params, deploy_keys);
	json_object_del(r->doc, "PendingSwitch");
	snprintf(r->status, sizeof(r->status), "%s", prev ? prev : "running");
	return 0;
}

static int sw_commit(struct task_run *run, struct err *e)
{
	log_info(run->task->resource, "%s change switched", param_str(run, "Kind"));
	run->mutate = mut_commit;
	run->mutate_arg = run;
	return 0;
}

/* Put back the old configuration and binaries; the document never changed. */
static int sw_failed(struct task_run *run, struct err *e)
{
	struct store_res r;
	struct pgnode n;
	struct pgnode_conf c;
	struct err e2;
	int up = 0;

	if (!param_is(run, "deploy") && sw_load(run, &r, &n, 0, &e2) == 0) {
		sw_conf(run, r.doc, 0, &c);
		up = pgnode_write_config(&n, &c, &e2) == 0 && pgnode_stop(&n, PGNODE_STOP_FAST, 0, &e2) == 0 &&
		     pgnode_start(&n, PGNODE_START_TIMEOUT_MS, &e2) == 0;
		if (!up)
			log_warn(run->task->resource, "restoring after a failed switch: %s", err_message(&e2, ERR_LANG_EN));
		store_res_free(&r);
	} else {
		up = param_is(run, "deploy");
	}
	if (ledger_order_failed(run->store, param_str(run, "DealName"), err_message(e, ERR_LANG_EN), &e2) != 0)
		log_warn(run->task->resource, "order %s: %s", param_str(run, "DealName"), err_message(&e2, ERR_LANG_EN));
	run->mutate = mut_status;
	run->mutate_arg = (void *)(up ? (param_str(run, "PrevStatus") ?: "running") : "offline");
	return 0;
}

static const task_step_fn switch_steps[] = { sw_config, sw_restart, sw_verify, sw_commit };

#define STEPS(a) a, sizeof(a) / sizeof(a[0])

const struct task_kind billing_task_kinds[] = {
	{ BILLING_SWITCH_KIND, FLEET_KIND, STEPS(switch_steps), sw_failed },
	{ NULL, NULL, NULL, 0, NULL },
};
