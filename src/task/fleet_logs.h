/*
 * fleet_logs.h - the supervisor's log retention pass: every node's server
 * logs are kept within the limits of the configuration (log_retention_days,
 * log_retention_mb), whatever the tenant's own logging settings produce.
 */
#ifndef PGFLEET_TASK_FLEET_LOGS_H
#define PGFLEET_TASK_FLEET_LOGS_H

#include <stddef.h>

#include "store/store.h"
#include "task/fleet.h"

#define FLEET_LOGS_EVERY 30   /* supervisor passes between retention checks */

/* Apply the limits to the log directory of each instance in `list` that
 * has a node. Failures are logged, never fatal. */
void fleet_logs_retain(const struct fleet *f, const struct store_res *list, size_t n);

#endif
