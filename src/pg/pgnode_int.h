/*
 * pgnode_int.h - what the pgnode files share (private to src/pg/pgnode*.c).
 *
 *   pgnode.c       the OS user, the template cluster, node creation and removal
 *   pgnode_fs.c    filesystem work: tree copy, tree removal, atomic writes, sizes
 *   pgnode_conf.c  pgfleet.conf, pg_hba.conf and the include line
 *   pgnode_proc.c  the postmaster: start, stop, reload, status, child reaping
 */
#ifndef PGFLEET_PG_PGNODE_INT_H
#define PGFLEET_PG_PGNODE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "pg/pgnode.h"

#define PGNODE_LOG_CTX     "pgnode"
#define PGNODE_READY_FILE  "READY"        /* completion marker of a template or node */
#define PGNODE_PIDFILE     "postmaster.pid"
#define PGNODE_FILE_MAX    (1024 * 1024)  /* config / pid files read whole */
#define PGNODE_TREE_DEPTH  32             /* directory nesting copied or removed */

/* ---- pgnode.c ---------------------------------------------------------- */

/* Validate a node description: absolute, plain paths (see pgnode.h), an IPv4
 * loopback address, a port, a user. ERR_INVALID_PARAMETER_VALUE otherwise. */
int pgnode_check(const struct pgnode *n, struct err *e);

/* True when `p` is an absolute path made of [A-Za-z0-9/._-] without empty,
 * "." or ".." components, at least `min_depth` components deep. */
bool pgnode_path_ok(const char *p, int min_depth);

/* snprintf(out, "%s/%s", dir, name) that fails (ERR_INTERNAL_ERROR) on
 * truncation instead of cutting the path. */
int pgnode_join(char *out, size_t out_len, const char *dir, const char *name, struct err *e);

/* The template directory TPL of a template PGDATA path TPL/data. */
int pgnode_template_root(const char *template_dir, char *out, size_t out_len, struct err *e);

/* Milliseconds from CLOCK_MONOTONIC. */
int64_t pgnode_now_ms(void);

/* "ENOENT" for errno values, for log lines. */
const char *pgnode_errname(int err);

/* ---- pgnode_fs.c ------------------------------------------------------- */

struct pgnode_copy_stats {
	long files;
	long long bytes_written;   /* bytes actually written (zero blocks skipped) */
	long long bytes_total;
};

/* Copy the directory tree `src` to `dst` (which must not exist): modes kept,
 * everything owned by u when u->set_ids, `dst` itself 0700. Regular files and
 * directories only. Large files are preallocated and their zero blocks are
 * not written (they read back as zeros; the space is reserved). */
int pgnode_fs_copy_tree(const char *src, const char *dst, const struct pgnode_user *u,
			struct pgnode_copy_stats *st, struct err *e);

/* Delete `path` and everything under it without following symlinks.
 * A missing `path` is success. */
int pgnode_fs_remove_tree(const char *path, struct err *e);

/* Give every file under `path` (not following symlinks) to u (no-op when
 * u does not switch ids). For a tree this service made itself. */
int pgnode_fs_chown_tree(const char *path, const struct pgnode_user *u, struct err *e);

/* Write `len` bytes to `path` atomically (path.tmp, fsync, rename), with
 * `mode`, owned by u when u->set_ids (u may be NULL: the daemon's user). */
int pgnode_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			   const struct pgnode_user *u, struct err *e);

/* Read a whole file of at most cap - 1 bytes into buf, NUL-terminated.
 * ENOENT gives ERR_INTERNAL_ERROR with *missing = true (missing may be NULL). */
int pgnode_fs_read(const char *path, char *buf, size_t cap, size_t *len, bool *missing,
		   struct err *e);

/* mkdir `path` (one level) with `mode` unless it exists as a directory; then
 * make sure of its mode and, when u->set_ids, its owner. */
int pgnode_fs_mkdir(const char *path, mode_t mode, const struct pgnode_user *u, struct err *e);

/* Fail with a clear message when u (when u->set_ids) cannot search every
 * directory above `path` (e.g. a 0700 root-owned data dir). */
int pgnode_fs_check_reachable(const char *path, const struct pgnode_user *u, struct err *e);

/* True when `path` exists (any type). */
bool pgnode_fs_exists(const char *path);

/* Sum of st_blocks * 512 under `path`. */
int pgnode_fs_usage(const char *path, long long *bytes, struct err *e);

/* Flush the filesystem holding `path` (syncfs). */
int pgnode_fs_sync(const char *path, struct err *e);

/* fsync the directory `path` (makes renames into it durable). */
int pgnode_fs_fsync_dir(const char *path, struct err *e);

/* ---- pgnode_spare.c ----------------------------------------------------- */

/* Move a complete spare copy of the template to `dst` (which must not
 * exist) if one owned by u is waiting: 1 taken, 0 none (copy instead). */
int pgnode_spare_take(const char *template_dir, const struct pgnode_user *u, const char *dst);

/* ---- pgnode_conf.c ----------------------------------------------------- */

/* The line appended once to postgresql.conf. */
#define PGNODE_INCLUDE_LINE "include_if_exists = 'pgfleet.conf'"

/* ---- pgnode_proc.c ----------------------------------------------------- */

/* True when a live postmaster owns n->dir/data (postmaster.pid names a
 * running postgres whose working directory is that data directory). */
bool pgnode_proc_running(const struct pgnode *n);

/* SIGKILL the node's postmaster and any server process left working in its
 * data directory, and wait for them to go (pgnode_remove's last resort). */
int pgnode_proc_kill(const struct pgnode *n, struct err *e);

#endif
