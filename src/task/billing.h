/*
 * billing.h - the life of what tenants pay for, on the business clock
 * (core/clock.h): prepaid periods that expire, renew (by hand or
 * automatically) and end in isolation and then destruction; pay-as-you-go
 * instances charged by the hour; and changes of spec, kernel and placement
 * that wait for a switch window.
 *
 * Instance document fields this module owns (besides the ones it changes:
 * ExpireTime, AutoRenew, Period, ChargeType, PayType, SpecCode, Cpu,
 * MemoryMb, StorageGb, BinDir, DBVersion, DBKernelVersion, Zone):
 *   BilledUntil     pay-as-you-go: hours are charged up to here (unix s);
 *                   absent = CreateTime
 *   IsolateReason   "expired" when the supervisor isolated it at expiry
 *   PendingSwitch   {Kind, Start, End, Params, DealName}: a change waiting
 *                   (status waitSwitch) for its daily window [Start, End)
 *                   (seconds of the local day), or ModifySwitchTimePeriod
 *   DBNodeSet       the recorded placement of the nodes (ModifyDBInstanceDeployment)
 *   CpuLimit        "cgroup" when the node's cores are enforced, "none" when
 *                   this machine cannot (then the Cpu is only recorded)
 *
 * A change ("switch") runs as one task of kind "spec.switch" (billing_tasks.c):
 *   Kind "spec"    new memory/cores/storage: pgfleet.conf rewritten from them
 *                  (shared_buffers and the rest follow the memory), server
 *                  restarted, storage quota = the new Storage   (status expanding)
 *   Kind "kernel"  the server restarted on the target version's binaries and
 *                  its reported version checked                  (status upgrading)
 *   Kind "deploy"  the node placement recorded                   (status switching)
 * and ends in the status the instance had before (running or readonly).
 */
#ifndef PGFLEET_TASK_BILLING_H
#define PGFLEET_TASK_BILLING_H

#include <jansson.h>
#include <stdint.h>

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"
#include "task/fleet.h"
#include "task/pricing.h"

#define BILLING_SWITCH_KIND   "spec.switch"
#define BILLING_WINDOW_MIN_S  1800          /* a switch window lasts >= 30 minutes */
#define BILLING_DAY_S         86400
#define BILLING_WAIT_STATUS   "waitSwitch"

/* A daily window [start_s, end_s) in seconds of the local day; end_s <
 * start_s wraps past midnight. */
struct billing_window {
	int start_s;
	int end_s;
};

/* Load the price book and check the maintenance window of `cfg`; a bad one
 * fails (ERR_INVALID_PARAMETER_VALUE) naming it. Call once at start. */
int billing_init(const struct config *cfg, struct err *e);

/* "HH:MM:SS" -> seconds of the day; -1 when malformed. */
int billing_time_of_day(const char *s);

/* A window from SwitchStartTime/SwitchEndTime: both HH:MM:SS, at least
 * BILLING_WINDOW_MIN_S long. ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR
 * with a message saying which rule failed. */
int billing_window_parse(const char *start, const char *end, struct billing_window *w, struct err *e);

/* The configured maintenance window (valid after billing_init). */
const struct billing_window *billing_maintenance_window(void);

/* 1 when unix time `t` (local time of day) is inside `w`. */
int billing_window_contains(const struct billing_window *w, int64_t t);

/* What an instance document costs: its spec and storage (borrowed strings). */
void billing_item_of(const json_t *doc, struct pricing_item *it);

/* 1 when the instance document is billed by the hour. */
int billing_is_postpaid(const json_t *doc);

/* Start the change an instance in waitSwitch is waiting for, now: submits
 * the "spec.switch" task (status waitSwitch -> the change's status).
 * *task receives its id. Busy or not waiting:
 * ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_OP_ERROR. */
int billing_switch_start(struct fleet *f, int64_t tenant, const char *id, int64_t *task, struct err *e);

/* The status an instance has while a change of `kind` runs. */
const char *billing_switch_status(const char *kind);

/* One supervision pass over the instances `list` (called by
 * fleet_supervise): re-read the clock offset, then expire, renew, recycle,
 * charge hours, start switches whose window has come and enforce CPU
 * limits. Failures are logged; the next pass tries again. */
void billing_supervise(struct fleet *f, struct store_res *list, size_t n);

/* Before the supervisor's first pass (fleet_start): the clock offset. */
void billing_start(struct fleet *f);

#endif
