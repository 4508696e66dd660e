/*
 * pgnode.h - one PostgreSQL server ("node") on this machine: its directory,
 * its configuration files, and its postmaster's life. The task engine
 * drives these steps; every step is idempotent (safe to repeat after the
 * daemon was killed half-way), so a resumed task just calls it again.
 *
 * Layout of a node directory DIR:
 *   DIR/data/          PGDATA (copied from a prepared template cluster);
 *                      data/pgfleet.conf (ours, included by postgresql.conf)
 *                      and data/pg_hba.conf are written by pgnode_write_config
 *   DIR/log/           server logs (csvlog), outside PGDATA so backups skip
 *                      them; log/startup.log holds the postmaster's output
 *                      before its logging collector takes over
 *   DIR/READY          written last by pgnode_create (a node without it is a
 *                      partial copy and is copied again)
 *
 * Paths (DIR, bin_dir, templates_root) must be absolute and made of
 * [A-Za-z0-9/._-] without "." or ".." components (they are written into
 * configuration files); DIR must be at least two levels deep. The node user
 * must be able to search every directory above DIR and templates_root:
 * nothing here changes their modes (make the daemon's data dir 0711); a
 * violation fails with a message naming the directory.
 *
 * Servers run as an unprivileged OS user (PostgreSQL refuses root): when the
 * daemon is root, the system user `pgfleet` (created if missing); otherwise
 * the daemon's own user. They listen on TCP only (no Unix socket), on the
 * node's own loopback address, port 5432; pg_hba.conf admits password
 * (scram-sha-256) logins only.
 *
 * Postmasters are started in their own session, so they survive a daemon
 * restart; their state is read from postmaster.pid, never assumed.
 * Postmasters started by this process are its children: pgnode reaps them
 * when it looks at their node, and pgnode_reap_children() (call it from the
 * supervisor's timer) reaps any that ended meanwhile.
 *
 * Callers serialise the steps of one node (the task engine runs one task
 * per instance); different nodes may be driven from different threads.
 */
#ifndef PGFLEET_PG_PGNODE_H
#define PGFLEET_PG_PGNODE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/err.h"

#define PGNODE_SUPERUSER "pgfleet_super"   /* the service's own superuser role */
#define PGNODE_USER "pgfleet"              /* OS user of the servers when root */
#define PGNODE_START_TIMEOUT_MS 60000
#define PGNODE_STOP_TIMEOUT_MS 60000
#define PGNODE_SPARES_MAX 16                /* spare copies kept per template */

struct pgnode_user {
	uid_t uid;
	gid_t gid;
	bool set_ids;          /* true when the daemon must switch to uid/gid */
	char name[32];
};

struct pgnode {
	char dir[PATH_MAX / 2];      /* node directory */
	char bin_dir[256];           /* e.g. /usr/lib/postgresql/15/bin */
	char listen_addr[16];        /* 127.x.y.z */
	int port;                    /* 5432 */
	const struct pgnode_user *user;        /* who runs this node's server */
	const struct pgnode_user *spare_user;  /* owner of the template's spares
	                                          (NULL: user); a spare taken for
	                                          another user is chowned */
	struct pgnode_user user_store;         /* storage `user` may point to (so a
	                                          struct pgnode must not be copied) */
};

/* What the instance's spec decides about its server. */
struct pgnode_conf {
	int memory_mb;
	int cpu;
	int storage_gb;
};

enum pgnode_stop_mode { PGNODE_STOP_FAST, PGNODE_STOP_IMMEDIATE };

struct pgnode_state {
	bool running;          /* a live postmaster owns data/ */
	bool ready;            /* postmaster.pid status line says "ready" */
	pid_t pid;
};

/* The extension module every session of every node loads
 * (session_preload_libraries; see src/pgext/pgfleet_guard.c). Written into
 * pgfleet.conf by pgnode_write_config; NULL or "" (the default, and in unit
 * tests) leaves it out. The path must be absolute, [A-Za-z0-9/._-] only. */
int pgnode_set_session_library(const char *path, struct err *e);

/* The OS user servers run as (see above); creates `pgfleet` when root
 * (useradd --system --no-create-home --user-group, shell nologin). */
int pgnode_user_ensure(struct pgnode_user *u, struct err *e);

/* One instance's own OS user `name` (created like `pgfleet` when missing),
 * so that whatever a tenant makes its server run (COPY ... PROGRAM by a role
 * it granted itself pg_execute_server_program) touches only its own
 * instance's files. When the daemon is not root, the daemon's own user. */
int pgnode_user_ensure_named(const char *name, struct pgnode_user *u, struct err *e);

/* Fail (naming the directory) unless every directory above `path` can be
 * searched by u: a node below it could not start otherwise. */
int pgnode_check_reachable(const char *path, const struct pgnode_user *u, struct err *e);

/* Delete instance user `name` (userdel); idempotent; no-op when not root. */
int pgnode_user_remove(const char *name, struct err *e);

/* Make sure a template cluster for (bin_dir, charset) exists under
 * templates_root, created by initdb once (locale C, encoding `charset`,
 * superuser PGNODE_SUPERUSER with a random password kept next to it);
 * concurrent callers are serialised by a lock file. out_dir receives the
 * template's PGDATA path (templates_root/pg-<hash>-<charset>/data), which is
 * the `template_dir` of the calls below. A ready template costs one stat().
 * charset: [A-Za-z0-9_]{1,31}, checked by initdb against its encodings.
 * Every node copied from the template starts with the same superuser
 * password: set a node's own with pgsql_role_set_password after its first
 * start. */
int pgnode_template_ensure(const char *templates_root, const char *bin_dir, const char *charset,
			   const struct pgnode_user *u, char *out_dir, size_t out_len, struct err *e);

/* The template's superuser password (to connect to a fresh copy), read from
 * the superuser.pw file next to template_dir. */
int pgnode_template_password(const char *template_dir, char *out, size_t out_len, struct err *e);

/* Keep `count` (0..PGNODE_SPARES_MAX) complete copies of the template
 * ("spares") next to it, made now if missing (each is a full copy plus a
 * filesystem sync, 50 ms to 1 s: call this off the critical path, e.g. at
 * startup and after each creation task). pgnode_create then takes a spare
 * with one rename() instead of copying. Spares are owned by u (the same
 * user as the nodes). Serialised between callers by a lock file. Returns
 * the number of spares made (>= 0) or -1. */
int pgnode_spares_fill(const char *template_dir, const struct pgnode_user *u, int count,
		       struct err *e);

/* Create node->dir from the template (copy, owned by node->user) and write
 * its configuration. A spare (pgnode_spares_fill) is used when one waits.
 * Idempotent: an existing complete copy is kept and only its configuration
 * rewritten; a partial one is wiped and copied again (refused while a
 * server runs on it). The copy is synced to disk before DIR/READY is
 * written. */
int pgnode_create(const struct pgnode *n, const char *template_dir, const struct pgnode_conf *c,
		  struct err *e);

/* (Re)write pgfleet.conf and pg_hba.conf from `c` (takes effect at the next
 * reload or restart; shared_buffers, max_connections and the worker counts
 * need a restart). Also appends the include line to postgresql.conf once,
 * so it works on a data directory made by pg_basebackup too.
 * ERR_INVALID_PARAMETER_VALUE for a spec out of range (memory 128 MB..4 TB,
 * cpu 1..1024, storage 1 GB..1 PB). */
int pgnode_write_config(const struct pgnode *n, const struct pgnode_conf *c, struct err *e);

/* One setting pgfleet.conf derives from the spec, in the base unit
 * pg_settings.setting shows for it (shared_buffers and effective_cache_size
 * in 8 kB pages, work_mem and maintenance_work_mem in kB, max_wal_size in
 * MB, the rest plain counts). */
struct pgnode_spec_setting {
	const char *name;           /* static string */
	long long value;
};

#define PGNODE_SPEC_SETTINGS 10     /* entries pgnode_conf_spec_settings writes */

/* The spec-derived settings of pgfleet.conf for `c` (the sizing rules of
 * pgnode_conf.c), so that the parameter catalog can show a spec's defaults
 * and which parameters scale with the spec. Returns the number written
 * (PGNODE_SPEC_SETTINGS), or -1 with ERR_INVALID_PARAMETER_VALUE for a spec
 * out of range. */
int pgnode_conf_spec_settings(const struct pgnode_conf *c,
			      struct pgnode_spec_setting out[PGNODE_SPEC_SETTINGS], struct err *e);

/* Start the postmaster unless one already runs, and wait until it accepts
 * connections (postmaster.pid says "ready", or "standby" for a hot standby)
 * or timeout_ms (<= 0: PGNODE_START_TIMEOUT_MS) passes. A stale
 * postmaster.pid (crash) is removed and leftover server processes of the
 * data directory are killed first. On a timeout the server is left running
 * (crash recovery may be slow): calling pgnode_start again keeps waiting.
 * When the server exits during startup, the tails of log/startup.log and of
 * the newest csv log go to the daemon log; the error says only that it
 * failed. */
int pgnode_start(const struct pgnode *n, int timeout_ms, struct err *e);

/* Stop the postmaster (no-op when stopped) and wait for it to exit:
 * SIGINT for FAST, SIGQUIT for IMMEDIATE, sent to the postmaster alone.
 * timeout_ms <= 0: PGNODE_STOP_TIMEOUT_MS. */
int pgnode_stop(const struct pgnode *n, enum pgnode_stop_mode mode, int timeout_ms, struct err *e);

/* Ask a running postmaster to reload its configuration (SIGHUP). */
int pgnode_reload(const struct pgnode *n, struct err *e);

/* Read the postmaster's state from postmaster.pid and the process table. */
int pgnode_status(const struct pgnode *n, struct pgnode_state *st, struct err *e);

/* Stop (immediate; SIGKILL if that fails) and delete node->dir entirely.
 * Idempotent. */
int pgnode_remove(const struct pgnode *n, struct err *e);

/* Bytes used under node->dir/data (for the storage quota). */
int pgnode_data_size(const struct pgnode *n, long long *bytes, struct err *e);

/* Reap postmasters this process started that have ended (never blocks). */
void pgnode_reap_children(void);

#endif
