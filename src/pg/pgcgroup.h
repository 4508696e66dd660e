/*
 * pgcgroup.h - CPU limits of a node's server, through the kernel's cpu
 * controller, so that an instance's Cpu is enforced where the machine
 * allows it and honestly reported as not enforced where it does not.
 *
 * Each node gets a group <cpu hierarchy>/pgfleet/<daemon key>-<node name>
 * (the daemon key is a hash of its nodes directory, so daemons on one
 * machine keep apart) with a quota of Cpu x 100 ms per 100 ms period:
 *   cgroup v1  the hierarchy mounted with the "cpu" controller
 *              (cpu.cfs_period_us, cpu.cfs_quota_us)
 *   cgroup v2  the unified hierarchy at /sys/fs/cgroup when its root
 *              delegates "cpu" (cpu.max)
 * The postmaster and every process it has forked are moved into the group;
 * backends forked later inherit it. Limits need the right to create
 * groups (root, or a delegated hierarchy); without it every call answers
 * ERR_UNSUPPORTED_OPERATION and nothing is changed.
 */
#ifndef PGFLEET_PG_PGCGROUP_H
#define PGFLEET_PG_PGCGROUP_H

#include "core/err.h"
#include "pg/pgnode.h"

#define PGCGROUP_PERIOD_US 100000

enum pgcgroup_mode { PGCGROUP_NONE, PGCGROUP_V1, PGCGROUP_V2 };

/* How this machine can limit CPU (detected once, thread-safe). */
enum pgcgroup_mode pgcgroup_mode(void);

/* Limit node `n`'s running server to `cpu` cores: create its group, set the
 * quota, move the postmaster and its children in. Idempotent; a stopped
 * server is a no-op (0). ERR_UNSUPPORTED_OPERATION when the machine cannot
 * limit CPU, ERR_INTERNAL_ERROR when a write fails (detail logged). */
int pgcgroup_limit(const struct pgnode *n, int cpu, struct err *e);

/* 1 when `n`'s postmaster runs in its group and the group's quota is `cpu`
 * cores; 0 otherwise (also when the server is stopped). */
int pgcgroup_enforced(const struct pgnode *n, int cpu);

/* Remove every node group that holds no process (its server stopped or
 * gone: the group is made again when the server runs); groups in use stay,
 * whichever daemon on the machine made them. */
void pgcgroup_prune(void);

#endif
