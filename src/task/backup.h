/*
 * backup.h - the backup family's shared state: where an instance's backups
 * live, the records that describe them, backup plans, the recovery window,
 * and the entry points of the scheduler (called from the supervisor) and
 * of the tasks (backup_tasks.c, backup_clone_task.c).
 *
 * Store resources (documents, see store.h):
 *   "basebackup"  id = the BaseBackupId (a UUID); tenant = the instance's;
 *                 status running | finished | failed; doc: DBInstanceId,
 *                 Name, BackupMode (manual|automatic), StartTime,
 *                 FinishTime, ExpireTime (business unix seconds; 0 = not
 *                 yet), Offset (clock offset when taken: real = business -
 *                 Offset), Size, DataBytes, File, Timeline, StartLsn,
 *                 StopLsn, StartSeg, StopSeg, DbList, Seq (integer id of the
 *                 legacy views), ExpireSet (ModifyBaseBackupExpireTime),
 *                 Error.
 *   "backupplan"  id = the instance id: the plan (MinBackupStartTime,
 *                 MaxBackupStartTime, BackupPeriod, BaseBackupRetentionPeriod,
 *                 LogBackupRetentionPeriod, ...) and the archiver's health
 *                 (ArchiveFailing). Absent = the default plan.
 *   "backuprestr" id = "tenant-<id>": the tenant's download restriction.
 * Log backups are not records: they are the files of the WAL archive
 * (pgbackup_wal_list), each identified by a UUID derived from the instance
 * id and the file name (backup_log_id).
 *
 * Files: BACKUP_ROOT/<instance>/wal/ and BACKUP_ROOT/<instance>/base/<id>/
 * (pgbackup.h), BACKUP_ROOT = config backup_root or DATA_DIR/backups. The
 * archiver program is installed as DATA_DIR/bin/pgfleet-archive.
 *
 * Times: every business time (creation, expiry, plans, the recovery
 * window) is clock_now(); PostgreSQL's own times (commit timestamps, what a
 * recovery target means) are real time, so a base backup records the clock
 * offset it was taken under and a recovery target is mapped through it.
 */
#ifndef PGFLEET_TASK_BACKUP_H
#define PGFLEET_TASK_BACKUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "pg/pgbackup.h"
#include "store/store.h"
#include "task/fleet.h"

#define BACKUP_KIND_BASE        "basebackup"
#define BACKUP_KIND_PLAN        "backupplan"
#define BACKUP_KIND_RESTRICTION "backuprestr"
#define BACKUP_ID_LEN           36            /* 8-4-4-4-12 hex */
#define BACKUP_DAY_S            86400
#define BACKUP_RETENTION_MIN    7             /* days, both retention periods */
#define BACKUP_RETENTION_MAX    1830
#define BACKUP_PLAN_ID          "default"
#define BACKUP_ARCHIVER         "pgfleet-archive"
#define BACKUP_SLOT_PREFIX      "pgfleet_bk_"

/* ---- places (backup_store.c) ---------------------------------------------------------------- */

/* BACKUP_ROOT, BACKUP_ROOT/<inst>, its wal/ and base/<id> directories, and
 * the installed archiver. -1 (ERR_INTERNAL_ERROR) when too long or when
 * `inst`/`id` are not plain names. */
int backup_root(const struct fleet *f, char *out, size_t cap, struct err *e);
int backup_inst_dir(const struct fleet *f, const char *inst, char *out, size_t cap, struct err *e);
int backup_wal_dir(const struct fleet *f, const char *inst, char *out, size_t cap, struct err *e);
int backup_base_dir(const struct fleet *f, const char *inst, const char *id, char *out, size_t cap,
		    struct err *e);
int backup_archiver_path(const struct fleet *f, char *out, size_t cap, struct err *e);

/* Create BACKUP_ROOT (0711) and the instance's directories (0700, owned by
 * u: the OS user of the instance's server, who archives into them and runs
 * its pg_basebackup). Each instance has its own user (pgnode.h), so one
 * instance's server can read no other instance's backups. */
int backup_dirs_ensure(const struct fleet *f, const char *inst, const struct pgnode_user *u, struct err *e);

/* Copy the archiver program next to the daemon's executable (or nothing
 * when it is missing: archiving then fails visibly) into DATA_DIR/bin. */
int backup_install_archiver(const struct fleet *f, struct err *e);

/* ---- times and ids (backup_store.c) ------------------------------------------------------ */

/* "YYYY-MM-DD HH:MM:SS" (local time) <-> unix seconds. Parsing is strict
 * (exact shape, a real date); -1 otherwise. Formatting 0 gives "". */
int backup_time_parse(const char *s, int64_t *out);

/* "HH:MM:SS" -> seconds of the day; -1 when malformed. */
int backup_hms_parse(const char *s);

/* A random UUID (version 4), and the UUID of log backup `name` of `inst`
 * (stable: derived from SHA-256 of both). */
int backup_uuid(char out[BACKUP_ID_LEN + 1], struct err *e);
void backup_log_id(const char *inst, const char *name, char out[BACKUP_ID_LEN + 1]);

/* True for a string of the UUID shape (lower-case hex). */
bool backup_id_ok(const char *id);

/* ---- plans (backup_store.c) ----------------------------------------------------------------- */

struct backup_plan {
	int min_start_s, max_start_s;  /* seconds of the day */
	unsigned weekdays;             /* bit n = day n of struct tm (0 Sunday) */
	int base_days, log_days;       /* retention periods */
};

/* The instance's plan document: the stored one, or the default (daily,
 * 00:00:00-01:00:00, 7 days each) built for `inst`. Caller frees. */
int backup_plan_load(struct store *s, const char *inst, json_t **doc, struct err *e);

/* Apply fn to the instance's plan record in one read-modify-write,
 * creating the record from the default plan first when there is none. */
int backup_plan_modify(struct fleet *f, const struct store_res *inst,
		       int (*fn)(struct store_res *r, void *arg, struct err *e), void *arg, struct err *e);

/* The plan a document describes (missing fields take the defaults). */
void backup_plan_parse(const json_t *doc, struct backup_plan *p);

/* Start of the most recent backup window at or before `now` (business
 * time, local calendar), or -1 when the plan has no weekday. */
int64_t backup_plan_last_window(const struct backup_plan *p, int64_t now);

/* Weekday names (lower case, "sunday".."saturday") <-> bits. */
int backup_weekday_bit(const char *name);
const char *backup_weekday_name(int day);

/* ---- records (backup_store.c) ------------------------------------------------------------- */

/* The finished base backups of `inst` as refs for the window computation
 * (malloc'd; free()). */
struct backup_base_ref {
	char id[BACKUP_ID_LEN + 1];
	int64_t finish;              /* business time of the end, FinishTime + 1 (rounded up) */
	int64_t offset;
	uint64_t start_seg, stop_seg;
	uint32_t tli;
};
int backup_base_refs(struct store *s, const char *inst, struct backup_base_ref **out, size_t *n, struct err *e);

/* Record a new base backup of instance `inst` (mode "manual" or
 * "automatic") and its backup.base task in one transaction; id receives
 * the BaseBackupId. */
int backup_base_submit(struct fleet *f, const struct store_res *inst, const char *mode,
		       char id[BACKUP_ID_LEN + 1], struct err *e);

/* Delete a finished or failed base backup: its files, then its record. */
int backup_base_remove(struct fleet *f, const char *id, struct err *e);

/* ---- the recovery window (backup_window.c) ---------------------------------------------- */

/* The window [*begin, *end] (business seconds) over which the instance can
 * be restored: from the oldest base backup followed by an unbroken run of
 * archived segments up to the newest archived segment, to that segment's
 * archiving time. -1 with ERR_RESOURCE_NOT_FOUND when there is none. */
int backup_window_compute(const struct backup_base_ref *b, size_t nb, const struct pgbackup_wal_file *w, size_t nw,
			  int64_t *begin, int64_t *end, struct err *e);

/* The base backup to restore for target time `t` (inside the window): the
 * newest usable one finished at or before t; NULL when none. */
const struct backup_base_ref *backup_window_pick(const struct backup_base_ref *b, size_t nb,
						 const struct pgbackup_wal_file *w, size_t nw, int64_t t);

/* Both, reading the store and the archive of `inst`. *pick (may be NULL)
 * receives the base backup for target `t` (t <= 0: none wanted). */
int backup_window_of(struct fleet *f, const char *inst, int64_t t, int64_t *begin, int64_t *end,
		     struct backup_base_ref *pick, struct err *e);

/* WAL files of `inst`'s archive that a kept base backup needs (its own
 * start..stop segments): 1 when `w` is one of them. */
int backup_wal_needed(const struct backup_base_ref *b, size_t nb, const struct pgbackup_wal_file *w);

/* ---- scheduler (backup_sched.c) ---------------------------------------------------------- */

/* One pass: keep every instance's archiving configured, run backup plans
 * (catching up missed windows), expire what falls out of retention, watch
 * the archiver, remove the backups of destroyed instances. Cheap when
 * nothing is due; called from fleet_supervise. */
void backup_supervise(struct fleet *f);

/* Daemon shutdown: stop running pg_basebackups (their backups are then
 * recorded as failed). Called from fleet_stop before the task engine stops. */
void backup_interrupt(void);

/* The settings an instance's node should have when it runs normally
 * (archiving into its own store). `archiver` and `wal_dir` are buffers of
 * PGBACKUP_PATH_MAX bytes that the settings point into. */
int backup_settings(const struct fleet *f, const char *inst, struct pgbackup_settings *s, char *archiver,
		    char *wal_dir, struct err *e);

/* ---- tasks ------------------------------------------------------------------------------------- */

/* The clone task's steps (backup_clone_task.c), for the kinds table:
 * (OS user: fleet_step_os_user), address, flush the source's WAL, stage, restore, recover,
 * finish; and its failure step. */
int backup_clone_alloc(struct task_run *run, struct err *e);
int backup_clone_flush(struct task_run *run, struct err *e);
int backup_clone_stage(struct task_run *run, struct err *e);
int backup_clone_restore(struct task_run *run, struct err *e);
int backup_clone_recover(struct task_run *run, struct err *e);
int backup_clone_finish(struct task_run *run, struct err *e);
int backup_clone_failed(struct task_run *run, struct err *e);

#endif
