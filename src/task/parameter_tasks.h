/*
 * parameter_tasks.h - what the parameter actions (src/api/parameters*.c)
 * share with the parameter task: the task kind, its parameters, and the
 * change history kept in the instance document.
 *
 * Task "params.modify" on an instance; its params:
 *   {"Batch": s, "Operator": s, "Restart": b,
 *    "Changes": [{"Name": s, "Value": s, "Old": s, "Restart": b}, ...],
 *    "PrevStatus": s}                     (set when the task is recorded)
 * plus what the steps keep: "AutoConf" (postgresql.auto.conf before the
 * change, to undo it) and "Failure" (why it failed, for the events).
 *
 * The instance document holds the history under "ParamEvents": an array,
 * oldest first, at most PARAMS_EVENTS_MAX, of
 *   {"Batch", "ParamName", "OldValue", "NewValue", "ModifyTime" (unix),
 *    "EffectiveTime" (unix, 0 until effective), "State", "Operator", "EventLog"}
 * State: modifying -> success, or modifying -> waiting for restart -> success,
 * or (any) -> failed when the change was refused by the server or undone.
 */
#ifndef PGFLEET_TASK_PARAMETER_TASKS_H
#define PGFLEET_TASK_PARAMETER_TASKS_H

#include <jansson.h>

#include "pg/pgparams.h"
#include "task/fleet.h"

#define PARAMS_TASK_KIND       "params.modify"
#define PARAMS_EVENTS          "ParamEvents"
#define PARAMS_EVENTS_MAX      500
#define PARAMS_STATE_MODIFYING "modifying"
#define PARAMS_STATE_WAITING   "waiting for restart"
#define PARAMS_STATE_SUCCESS   "success"
#define PARAMS_STATE_FAILED    "failed"
#define PARAMS_APPLY_WAIT_MS   15000   /* for a reloaded value to reach new sessions */

/* The catalog of the server an instance document runs (BinDir, DBVersion),
 * built under the fleet's data dir. */
int params_catalog_of(const struct fleet *f, const json_t *doc, const struct pgparams_catalog **c,
		      struct err *e);

/* The catalog of an installed server (DescribeDefaultParameters, templates). */
int params_catalog_for(const struct fleet *f, const char *bin_dir, const char *version,
		       const struct pgparams_catalog **c, struct err *e);

/* The instance's spec as the catalog's limits need it. */
void params_spec_of(const json_t *doc, struct pgnode_conf *spec);

/* Append one "modifying" event per change of a task's params to the
 * instance document (dropping the oldest beyond PARAMS_EVENTS_MAX). */
void params_events_record(json_t *doc, const json_t *task_params, json_int_t now);

#endif
