/*
 * fleet.h - the instances this daemon runs: the shared state the instance
 * tasks, the supervisor and the instance handlers need (where nodes live,
 * which OS user runs them, the task engine), and the instance document.
 *
 * An instance is a store resource of kind "instance" whose JSON document
 * holds its spec, its nodes (today one Primary; standbys come with high
 * availability) and its endpoints (the private VIP:5432 today; public
 * endpoints later). The primary node's postmaster listens on the private
 * endpoint's address itself: a proxy in between would add a round trip to
 * every query (see docs/ARCHITECTURE.md for the measurement).
 */
#ifndef PGFLEET_TASK_FLEET_H
#define PGFLEET_TASK_FLEET_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>

#include "core/config.h"
#include "core/err.h"
#include "pg/pgnode.h"
#include "pg/pgsql.h"
#include "store/store.h"
#include "task/task.h"

#define FLEET_KIND "instance"
#define FLEET_PORT 5432
#define FLEET_SPARES 2              /* ready copies kept per template */
#define FLEET_GUARD_LIB "pgfleet_guard.so"  /* built next to pgfleetd (src/pgext) */

struct fleet {
	const struct config *cfg;
	struct store *store;
	struct task_engine *tasks;
	struct pgnode_user user;
	char nodes_root[1280];              /* DATA_DIR/nodes */
	char templates_root[1280];          /* DATA_DIR/templates */
	char warm_bin_dir[256];             /* version whose template is prepared at start */
	pthread_t warmer;                   /* keeps templates and their spare copies ready */
	int warmer_started;
	pthread_mutex_t warm_mu;
	pthread_cond_t warm_cv;
	int warm_pending;                   /* a refill was asked for */
	int warm_stopping;
};

/* Prepare directories and the OS user; start the task engine (which resumes
 * unfinished tasks); in the background, prepare the UTF8 template of the
 * PostgreSQL binaries in warm_bin_dir (NULL: none) and its spare copies. */
int fleet_start(struct fleet *f, const struct config *cfg, struct store *s, const char *warm_bin_dir,
		struct err *e);

/* Stop the task engine; stop every postmaster too unless keep_running. */
void fleet_stop(struct fleet *f, int keep_running);

/* One supervision pass (called from the main loop's timer): restart crashed
 * postmasters of instances that should run, enforce storage quotas. */
void fleet_supervise(struct fleet *f);

/* The pgnode of an instance document's primary node. */
int fleet_primary_node(const struct fleet *f, const json_t *doc, struct pgnode *n, struct err *e);

/* The task's instance (run->task->resource) and its primary node; the
 * caller frees r with store_res_free. */
int fleet_load_node(struct task_run *run, struct store_res *r, struct pgnode *n, struct err *e);

/* The OS user of instance `id`: "pgf_" + the id's random part. */
void fleet_os_user_name(const char *id, char out[32]);

/* Task step: create the instance's own OS user and record it (OsUser,
 * OsUid, OsGid) in the instance document (instance_tasks.c). */
int fleet_step_os_user(struct task_run *run, struct err *e);

/* Ask the warmer thread to top up the spare copies of every template
 * (never blocks; used after a creation took one). */
void fleet_warm_request(struct fleet *f);

/* Connect to an instance's primary as the service's superuser. */
int fleet_connect(const json_t *doc, const char *dbname, PGconn **out, struct err *e);

/* Record a task for `resource` in the same transaction as `fn` changes the
 * resource's status (fn checks that the status allows it), then queue it.
 * *task_id receives the task id. Takes ownership of `params` (may be NULL). */
int fleet_task_submit(struct fleet *f, int64_t tenant_id, const char *kind, const char *resource,
		      json_t *params, int (*fn)(struct store_res *r, void *arg, struct err *e), void *arg,
		      int64_t *task_id, struct err *e);

/* Each module's task kinds (tables end with a NULL name; listed in fleet.c). */
extern const struct task_kind instance_task_kinds[];   /* instance_tasks.c */
extern const struct task_kind parameter_task_kinds[];  /* parameter_tasks.c */
extern const struct task_kind backup_task_kinds[];     /* backup_tasks.c */
extern const struct task_kind billing_task_kinds[];    /* billing_tasks.c */

#endif
