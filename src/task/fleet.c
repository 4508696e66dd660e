/*
 * fleet.c - see fleet.h: start/stop of the instance machinery and the
 * supervisor pass.
 */
#include "task/fleet.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "lib/install.h"
#include "task/backup.h"
#include "task/billing.h"
#include "task/fleet_logs.h"

#define FLEET_QUOTA_EVERY 15      /* supervisor passes between storage checks */

static const struct task_kind *const fleet_task_tables[] = {
	instance_task_kinds,
	parameter_task_kinds,
	backup_task_kinds,
	billing_task_kinds,
	NULL,
};

/* A directory the node user can traverse (0711), created if missing. */
static int fleet_dir(const char *path, struct err *e)
{
	if (mkdir(path, 0711) != 0 && errno != EEXIST)
		return err_set(e, ERR_INTERNAL_ERROR, "mkdir %s: %s", path, strerror(errno));
	if (chmod(path, 0711) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "chmod %s: %s", path, strerror(errno));
	return 0;
}

/* Top up the spare copies of every template under templates_root. */
static void fleet_refill_all(struct fleet *f)
{
	DIR *d = opendir(f->templates_root);
	struct dirent *de;
	char tpl[PATH_MAX];
	struct err e;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(tpl, sizeof(tpl), "%s/%s/data", f->templates_root, de->d_name);
		if (access(tpl, F_OK) == 0 && pgnode_spares_fill(tpl, &f->user, FLEET_SPARES, &e) < 0)
			log_warn("fleet", "spare copies of %s: %s", de->d_name, err_message(&e, ERR_LANG_EN));
	}
	closedir(d);
}

/* The warmer: at start, build the UTF8 template of the newest version and
 * its spares, so that even the first CreateInstances is fast; afterwards,
 * top up spares whenever a creation took one. Off every critical path. */
static void *fleet_warm(void *arg)
{
	struct fleet *f = arg;
	char tpl[PATH_MAX];
	struct err e;

	if (f->warm_bin_dir[0] != '\0' &&
	    pgnode_template_ensure(f->templates_root, f->warm_bin_dir, "UTF8", &f->user, tpl, sizeof(tpl), &e) != 0)
		log_warn("fleet", "preparing templates: %s", err_message(&e, ERR_LANG_EN));
	pthread_mutex_lock(&f->warm_mu);
	f->warm_pending = 1;
	while (!f->warm_stopping) {
		if (!f->warm_pending) {
			pthread_cond_wait(&f->warm_cv, &f->warm_mu);
			continue;
		}
		f->warm_pending = 0;
		pthread_mutex_unlock(&f->warm_mu);
		fleet_refill_all(f);
		pthread_mutex_lock(&f->warm_mu);
	}
	pthread_mutex_unlock(&f->warm_mu);
	return NULL;
}

void fleet_warm_request(struct fleet *f)
{
	pthread_mutex_lock(&f->warm_mu);
	f->warm_pending = 1;
	pthread_cond_signal(&f->warm_cv);
	pthread_mutex_unlock(&f->warm_mu);
}

/* Install the guard module every server session loads (see
 * src/pgext/pgfleet_guard.c) as DATA_DIR/lib/pgfleet_guard.so, readable by
 * the instances' OS users, and tell pgnode to configure it. Without it a
 * tenant's admin could reach the OS, so its absence stops the daemon. */
static int fleet_install_guard(const struct fleet *f, struct err *e)
{
	char exe[PATH_MAX], src[PATH_MAX + 32], dir[1100], dst[1200];

	if (install_exe_dir(exe, sizeof(exe), e) != 0)
		return -1;
	snprintf(src, sizeof(src), "%s/" FLEET_GUARD_LIB, exe);
	snprintf(dir, sizeof(dir), "%s/lib", f->cfg->data_dir);
	snprintf(dst, sizeof(dst), "%s/" FLEET_GUARD_LIB, dir);
	if (access(src, R_OK) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "%s is missing (build it with make)", src);
	if (fleet_dir(dir, e) != 0 || install_file(src, dst, 0644, e) != 0)
		return -1;
	return pgnode_set_session_library(dst, e);
}

int fleet_start(struct fleet *f, const struct config *cfg, struct store *s, const char *warm_bin_dir,
		struct err *e)
{
	char probe[1400];

	memset(f, 0, sizeof(*f));
	snprintf(f->warm_bin_dir, sizeof(f->warm_bin_dir), "%s", warm_bin_dir ? warm_bin_dir : "");
	f->cfg = cfg;
	f->store = s;
	snprintf(f->nodes_root, sizeof(f->nodes_root), "%s/nodes", cfg->data_dir);
	snprintf(f->templates_root, sizeof(f->templates_root), "%s/templates", cfg->data_dir);
	/* the data dir itself must be traversable by the node user */
	if (fleet_dir(cfg->data_dir, e) != 0 || fleet_dir(f->nodes_root, e) != 0 ||
	    fleet_dir(f->templates_root, e) != 0)
		return -1;
	if (pgnode_user_ensure(&f->user, e) != 0 || fleet_install_guard(f, e) != 0)
		return -1;
	/* servers run as other users: a data dir under a private directory
	 * (a 0700 home, say) would leave every instance offline */
	snprintf(probe, sizeof(probe), "%s/x", f->nodes_root);
	if (pgnode_check_reachable(probe, &f->user, e) != 0)
		return -1;
	log_info("fleet", "PostgreSQL servers run as %s (uid %d)", f->user.name, (int)f->user.uid);
	pthread_mutex_init(&f->warm_mu, NULL);
	pthread_cond_init(&f->warm_cv, NULL);
	f->warmer_started = pthread_create(&f->warmer, NULL, fleet_warm, f) == 0;
	billing_start(f); /* the business clock's offset before any task resumes */
	return task_engine_start(&f->tasks, s, fleet_task_tables, TASK_THREADS_DEFAULT, f, e);
}

int fleet_primary_node(const struct fleet *f, const json_t *doc, struct pgnode *n, struct err *e)
{
	const char *id = json_string_value(json_object_get(doc, "NodeId"));
	const char *vip = json_string_value(json_object_get(doc, "Vip"));
	const char *bin = json_string_value(json_object_get(doc, "BinDir"));
	const char *os_user = json_string_value(json_object_get(doc, "OsUser"));

	memset(n, 0, sizeof(*n));
	if (id == NULL || bin == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "instance document lacks its node");
	snprintf(n->dir, sizeof(n->dir), "%s/%s", f->nodes_root, id);
	snprintf(n->bin_dir, sizeof(n->bin_dir), "%s", bin);
	snprintf(n->listen_addr, sizeof(n->listen_addr), "%s", vip ? vip : "");
	n->port = FLEET_PORT;
	n->user = &f->user;
	if (os_user != NULL) {
		/* the instance's own OS user (see pgnode_user_ensure_named) */
		n->user_store.uid = (uid_t)json_integer_value(json_object_get(doc, "OsUid"));
		n->user_store.gid = (gid_t)json_integer_value(json_object_get(doc, "OsGid"));
		n->user_store.set_ids = true;
		snprintf(n->user_store.name, sizeof(n->user_store.name), "%s", os_user);
		n->user = &n->user_store;
		n->spare_user = &f->user;
	}
	return 0;
}

int fleet_load_node(struct task_run *run, struct store_res *r, struct pgnode *n, struct err *e)
{
	if (store_res_get(run->store, FLEET_KIND, run->task->resource, 0, r, e) != 0)
		return -1;
	if (fleet_primary_node(run->ctx, r->doc, n, e) != 0) {
		store_res_free(r);
		return -1;
	}
	return 0;
}

int fleet_connect(const json_t *doc, const char *dbname, PGconn **out, struct err *e)
{
	struct pgsql_target t = {
		.host = json_string_value(json_object_get(doc, "Vip")),
		.port = FLEET_PORT,
		.user = PGNODE_SUPERUSER,
		.password = json_string_value(json_object_get(doc, "SuperPassword")),
		.dbname = dbname,
	};

	if (t.host == NULL || t.password == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "instance has no address yet");
	return pgsql_connect(&t, out, e);
}

/* The transaction of fleet_task_submit: guard, status change, task row. */
static int fleet_task_record(struct fleet *f, int64_t tenant_id, const char *resource, struct store_task *t,
			     int (*fn)(struct store_res *r, void *arg, struct err *e), void *arg, struct err *e)
{
	int64_t busy;

	if (store_txn_begin(f->store, e) != 0)
		return -1;
	/* one task at a time per instance */
	if (store_task_running_for(f->store, resource, &busy, e) != 0 || busy != 0) {
		store_txn_rollback(f->store);
		if (busy != 0)
			err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR,
				"Instance %s is busy with another operation; retry later.", resource);
		return -1;
	}
	if ((fn != NULL && store_res_modify(f->store, FLEET_KIND, resource, tenant_id, fn, arg, e) != 0) ||
	    store_task_insert(f->store, t, e) != 0) {
		store_txn_rollback(f->store);
		return -1;
	}
	return store_txn_commit(f->store, e);
}

int fleet_task_submit(struct fleet *f, int64_t tenant_id, const char *kind, const char *resource,
		      json_t *params, int (*fn)(struct store_res *r, void *arg, struct err *e), void *arg,
		      int64_t *task_id, struct err *e)
{
	struct store_task t;

	memset(&t, 0, sizeof(t));
	t.tenant_id = tenant_id;
	snprintf(t.kind, sizeof(t.kind), "%s", kind);
	snprintf(t.resource, sizeof(t.resource), "%s", resource);
	t.params = params; /* ours: released below whatever happens */
	int rc = fleet_task_record(f, tenant_id, resource, &t, fn, arg, e);
	json_decref(params);
	if (rc != 0)
		return -1;
	*task_id = t.id;
	return task_engine_enqueue(f->tasks, t.id, e);
}

/* ---- supervision ---- */

static int fleet_set_restarting(struct store_res *r, void *arg, struct err *e)
{
	if (strcmp(r->status, "running") != 0 && strcmp(r->status, "readonly") != 0)
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR, "status changed");
	snprintf(r->status, sizeof(r->status), "restarting");
	return 0;
}

/* An instance that should run but whose postmaster is gone gets a recover task. */
static void fleet_check_alive(struct fleet *f, struct store_res *r)
{
	struct pgnode n;
	struct pgnode_state st;
	struct err e;
	int64_t task;

	if (fleet_primary_node(f, r->doc, &n, &e) != 0 || pgnode_status(&n, &st, &e) != 0 || st.running)
		return;
	log_warn(r->id, "postmaster is not running: restarting it");
	if (fleet_task_submit(f, r->tenant_id, "instance.recover", r->id, NULL, fleet_set_restarting, NULL, &task,
			      &e) != 0)
		log_warn(r->id, "cannot schedule recovery: %s", err_message(&e, ERR_LANG_EN));
}

static int fleet_set_quota_status(struct store_res *r, void *arg, struct err *e)
{
	const char *want = arg;
	const char *from = strcmp(want, "readonly") == 0 ? "running" : "readonly";

	/* the status changes when the task has really flipped the setting */
	if (strcmp(r->status, from) != 0)
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR, "status changed");
	return 0;
}

/* Over its Storage: readonly (a task flips default_transaction_read_only);
 * back under (data freed or storage grown): running again. */
static void fleet_check_quota(struct fleet *f, struct store_res *r)
{
	struct pgnode n;
	struct err e;
	long long used;
	int64_t task;
	long long quota = (long long)json_integer_value(json_object_get(r->doc, "StorageGb")) << 30;
	int ro = strcmp(r->status, "readonly") == 0;

	if (quota <= 0 || fleet_primary_node(f, r->doc, &n, &e) != 0 || pgnode_data_size(&n, &used, &e) != 0)
		return;
	if (used > quota && !ro) {
		log_warn(r->id, "storage %lld bytes over quota %lld: read-only", used, quota);
		fleet_task_submit(f, r->tenant_id, "instance.readonly", r->id, NULL, fleet_set_quota_status,
				  (void *)"readonly", &task, &e);
	} else if (used <= quota && ro) {
		log_info(r->id, "storage back under quota: writable again");
		fleet_task_submit(f, r->tenant_id, "instance.writable", r->id, NULL, fleet_set_quota_status,
				  (void *)"running", &task, &e);
	}
}

void fleet_supervise(struct fleet *f)
{
	static unsigned pass;
	struct store_res *list;
	size_t n;
	struct err e;

	pgnode_reap_children();
	if (store_res_list(f->store, FLEET_KIND, 0, &list, &n, &e) != 0)
		return;
	pass++;
	for (size_t i = 0; i < n; i++) {
		int64_t busy;
		if (strcmp(list[i].status, "running") != 0 && strcmp(list[i].status, "readonly") != 0)
			continue;
		if (store_task_running_for(f->store, list[i].id, &busy, &e) != 0 || busy != 0)
			continue;
		fleet_check_alive(f, &list[i]);
		if (pass % FLEET_QUOTA_EVERY == 0)
			fleet_check_quota(f, &list[i]);
	}
	billing_supervise(f, list, n); /* expiry, renewal, recycling, hours, switch windows */
	if (pass % FLEET_LOGS_EVERY == 1)
		fleet_logs_retain(f, list, n); /* server log files within the configured limits */
	store_res_list_free(list, n);
	backup_supervise(f); /* archiving, backup plans, expiry (every backup_check_s) */
}

void fleet_stop(struct fleet *f, int keep_running)
{
	struct store_res *list;
	size_t n;
	struct err e;

	backup_interrupt(); /* a running pg_basebackup would hold its worker until done */
	task_engine_stop(f->tasks);
	f->tasks = NULL;
	if (f->warmer_started) {
		pthread_mutex_lock(&f->warm_mu);
		f->warm_stopping = 1;
		pthread_cond_signal(&f->warm_cv);
		pthread_mutex_unlock(&f->warm_mu);
		pthread_join(f->warmer, NULL);
	}
	f->warmer_started = 0;
	if (keep_running || store_res_list(f->store, FLEET_KIND, 0, &list, &n, &e) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct pgnode node;
		if (json_object_get(list[i].doc, "NodeId") == NULL ||
		    fleet_primary_node(f, list[i].doc, &node, &e) != 0)
			continue;
		if (pgnode_stop(&node, PGNODE_STOP_FAST, PGNODE_STOP_TIMEOUT_MS, &e) != 0)
			log_warn(list[i].id, "stop: %s", err_message(&e, ERR_LANG_EN));
	}
	store_res_list_free(list, n);
}
