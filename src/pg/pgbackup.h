/*
 * pgbackup.h - physical backups of a node, in PostgreSQL's own formats.
 *
 * The backup store of one instance is a directory (the task layer decides
 * where; see src/task/backup.h):
 *
 *   wal/<name>.gz       one archived WAL file each (segment, .partial,
 *                       .backup or .history), gzip-compressed: the gzip
 *                       trailer's CRC-32 and length are the checksum, checked
 *                       by every fetch. Written by the archiver program
 *                       (src/archiver/, run by the postmaster as
 *                       archive_command) atomically: a hidden temporary file,
 *                       fsync, rename, fsync of the directory. Its mtime is
 *                       the service's business time of the archiving.
 *   base/<id>/          one base backup: what `pg_basebackup -F tar -X fetch`
 *                       writes (base.tar.zst with the WAL it needs inside,
 *                       and backup_manifest), compressed on the server side.
 *
 * A node archives once data/pgfleet-backup.conf (included last by the
 * node's pgfleet.conf) names an archive_command; a clone recovers with the
 * restore_command and recovery target written to the same file, and with
 * hot_standby off (no connections until promotion, so that a clone may
 * have a smaller spec than its source: PostgreSQL checks the source's
 * max_connections and worker counts only for a hot standby).
 *
 * Paths given to these functions must be absolute and made of
 * [A-Za-z0-9/._-] without "." or ".." components (they end up in
 * configuration files and command lines).
 */
#ifndef PGFLEET_PG_PGBACKUP_H
#define PGFLEET_PG_PGBACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "pg/pgnode.h"

#define PGBACKUP_WAL_SEG_SIZE   (16ull * 1024 * 1024)   /* initdb's default; templates keep it */
#define PGBACKUP_WAL_NAME_MAX   40          /* longest archived name: 24 + 1 + 8 + ".backup" */
#define PGBACKUP_WAL_FILE_MAX   (1ll << 30) /* largest WAL file accepted by push (1 GB segments) */
#define PGBACKUP_WAL_LIST_MAX   1000000     /* archive entries listed at most */
#define PGBACKUP_CONF_FILE      "pgfleet-backup.conf"
#define PGBACKUP_FAILED_FILE    ".failed"   /* in an archive: "<name> <time> <reason>" of a failing push */
#define PGBACKUP_MANIFEST_MAX   (512ll * 1024 * 1024)
#define PGBACKUP_PATH_MAX       1024

/* ---- WAL names and positions (pgbackup_wal.c) ---------------------------------- */

enum pgbackup_wal_kind {
	PGBACKUP_WAL_SEGMENT,    /* 000000010000000000000003 */
	PGBACKUP_WAL_PARTIAL,    /* 000000010000000000000003.partial */
	PGBACKUP_WAL_BACKUP,     /* 000000010000000000000003.00000028.backup */
	PGBACKUP_WAL_HISTORY,    /* 00000002.history */
};

/* Classify an archived WAL file name (without ".gz"): 0 and *kind, *tli,
 * *segno (0 for history files) when it is one of the four forms above
 * (upper-case hex), -1 otherwise. Any pointer may be NULL. */
int pgbackup_wal_parse(const char *name, enum pgbackup_wal_kind *kind, uint32_t *tli, uint64_t *segno);

/* "0/2000028" -> 0x2000028; -1 on anything else. */
int pgbackup_lsn_parse(const char *s, uint64_t *lsn);

/* The segment holding `lsn`, and the name of segment `segno` on `tli`. */
uint64_t pgbackup_lsn_segno(uint64_t lsn);
void pgbackup_seg_name(uint32_t tli, uint64_t segno, char out[25]);

/* ---- the archive (pgbackup_wal.c) --------------------------------------------- */

/* Archive `src` (a WAL file) as dir/<name>.gz with mtime `mtime` (unix
 * seconds). An existing archive of the same name is success when its
 * content is identical (a repeated archive_command after a crash), an error
 * otherwise: an archived file is never overwritten. */
int pgbackup_wal_push(const char *src, const char *name, const char *dir, int64_t mtime, struct err *e);

/* Decompress dir/<name>.gz into `dst` (created or truncated, mode 0600),
 * checking the gzip CRC and length. Absent: ERR_RESOURCE_NOT_FOUND (the
 * normal end of an archive during recovery). */
int pgbackup_wal_fetch(const char *dir, const char *name, const char *dst, struct err *e);

struct pgbackup_wal_file {
	char name[PGBACKUP_WAL_NAME_MAX + 1];   /* without ".gz" */
	enum pgbackup_wal_kind kind;
	uint32_t tli;
	uint64_t segno;
	int64_t mtime;                           /* business time of the archiving */
	int64_t size;                            /* bytes on disk */
};

/* Every archived file of `dir`, sorted by name (so segments are in WAL
 * order within a timeline). A missing directory is an empty archive.
 * *out is malloc'd (free() it); *n entries. */
int pgbackup_wal_list(const char *dir, struct pgbackup_wal_file **out, size_t *n, struct err *e);

/* Delete dir/<name>.gz (a missing file is success). */
int pgbackup_wal_remove(const char *dir, const char *name, struct err *e);

/* ---- a node's archiving and recovery settings (pgbackup.c) --------------------- */

struct pgbackup_settings {
	const char *archiver;      /* absolute path of the archiver program */
	const char *wal_dir;       /* where this node archives (NULL: no archiving) */
	int64_t mtime_offset;      /* seconds added to the archived files' mtime */
	int archive_timeout_s;     /* archive_timeout (0: off) */
	const char *restore_dir;   /* recovery: the archive read by restore_command (NULL: none) */
	const char *target_time;   /* recovery_target_time, "YYYY-MM-DD HH:MM:SS+00" (NULL: none) */
	bool target_immediate;     /* recovery_target = 'immediate' (a backup set's own point) */
};

/* The text of data/pgfleet-backup.conf for `s` into buf (NUL-terminated);
 * returns its length or -1 (bad path, too long). */
int pgbackup_conf_render(const struct pgbackup_settings *s, char *buf, size_t cap, struct err *e);

/* Write data/pgfleet-backup.conf of node `n` when its content differs;
 * *changed says whether it did (reload the server then). */
int pgbackup_conf_apply(const struct pgnode *n, const struct pgbackup_settings *s, bool *changed,
			struct err *e);

/* ---- base backups (pgbackup.c) --------------------------------------------------- */

enum pgbackup_compression { PGBACKUP_ZSTD, PGBACKUP_LZ4, PGBACKUP_GZIP, PGBACKUP_NONE };

/* "zstd", "lz4", "gzip", "none" -> 0 and *out; -1 otherwise. */
int pgbackup_compression_parse(const char *name, enum pgbackup_compression *out);

/* The archive's file name for a compression: "base.tar.zst", ... */
const char *pgbackup_base_file(enum pgbackup_compression c);

struct pgbackup_base_req {
	const struct pgnode *node;     /* the instance's primary (bin_dir, address, OS user) */
	const char *password;          /* of PGNODE_SUPERUSER */
	const char *dir;               /* the backup's final directory; must not be a symlink */
	enum pgbackup_compression compression;
	const char *label;             /* backup label, [A-Za-z0-9_.-]{1,63} */
	int timeout_ms;                /* 0: no limit beyond SPAWN_TIMEOUT_MAX_MS */
	int max_rate_kbps;             /* pg_basebackup --max-rate (32..1048576); 0: none */
};

struct pgbackup_base_info {
	uint32_t timeline;
	uint64_t start_lsn, stop_lsn;
	long long data_bytes;          /* sum of the files the manifest lists (the cluster's size) */
	long long size;                /* bytes of the backup's files on disk */
	char file[32];                 /* the archive, e.g. "base.tar.zst" */
};

/* Take a base backup of q->node into q->dir with pg_basebackup (tar format,
 * -X fetch: the WAL needed for consistency is inside the archive; server-
 * side compression; fast checkpoint; CRC32C manifest), run as the node's OS
 * user and connected to its address as PGNODE_SUPERUSER. Output goes first
 * to q->dir + ".partial" and is renamed to q->dir once pg_basebackup has
 * succeeded and synced it, so q->dir exists only for a complete backup.
 * Idempotent: an existing q->dir is read, not taken again; a ".partial"
 * left by a killed daemon (and a pg_basebackup still writing it) is removed
 * first. pgbackup_interrupt() makes a running call fail at once. */
int pgbackup_base_take(const struct pgbackup_base_req *q, struct pgbackup_base_info *info, struct err *e);

/* Read a finished backup directory: its manifest's WAL range and sizes. */
int pgbackup_base_read(const char *dir, struct pgbackup_base_info *info, struct err *e);

/* Stop every pg_basebackup this process runs and make later calls fail
 * (daemon shutdown: a backup is then recorded as failed, not left
 * running). pgbackup_interrupt_reset() undoes it (tests). */
void pgbackup_interrupt(void);
void pgbackup_interrupt_reset(void);

/* ---- restore (pgbackup.c) ----------------------------------------------------------- */

/* Make n->dir/data the content of the base backup archive `archive` (a
 * file of pgbackup_base_take), owned by the node's OS user, extracted by
 * `tar`, and write n->dir/READY. Idempotent: a node with READY is left as
 * it is; a partial one is removed and extracted again. */
int pgbackup_restore(const struct pgnode *n, const char *archive, struct err *e);

/* Create (or remove) data/recovery.signal of node `n`. */
int pgbackup_recovery_signal(const struct pgnode *n, bool present, struct err *e);

/* The status word of line 8 of the node's postmaster.pid ("starting",
 * "standby", "ready", "stopping"); "" when there is none. */
void pgbackup_pm_status(const struct pgnode *n, char out[16]);

/* Whether the node's recent server log (newest csv log and startup.log,
 * their last 256 kB) contains `needle`. */
int pgbackup_log_contains(const struct pgnode *n, const char *needle, bool *found, struct err *e);

/* mkdir `path` (one level, `mode`) unless it is already a directory, then
 * make sure of its mode and, when u->set_ids, give it to u (u may be NULL:
 * the daemon's user). */
int pgbackup_mkdir(const char *path, unsigned mode, const struct pgnode_user *u, struct err *e);

/* Delete `path` and everything under it without following symlinks; a
 * missing path is success. */
int pgbackup_remove_tree(const char *path, struct err *e);

/* Copy file `src` to `dst` (atomically: dst.tmp, fsync, rename), mode
 * 0600, owned by u (NULL: the daemon's user), keeping src's mtime; in the
 * kernel (copy_file_range), so a filesystem that can shares the blocks. An
 * existing dst of the same size is kept. */
int pgbackup_file_copy(const char *src, const char *dst, const struct pgnode_user *u, struct err *e);

/* True when `p` is an absolute path of [A-Za-z0-9/._-] without empty, "."
 * or ".." components and at most PGBACKUP_PATH_MAX bytes. */
bool pgbackup_path_ok(const char *p);

#endif
