/*
 * pgnode.h - one PostgreSQL server ("node") on this machine: its directory,
 * its configuration files, and its postmaster's life. The task engine
 * drives these steps; every step is idempotent (safe to repeat after the
 * daemon was killed half-way), so a resumed task just calls it again.
 *
 * Layout of a node directory DIR:
 *   DIR/data/          PGDATA (copied from a prepared template cluster)
 *   DIR/log/           server logs (csvlog), outside PGDATA so backups skip them
 *   DIR/node.conf      (inside data/: pgfleet.conf, included by postgresql.conf)
 *
 * Servers run as an unprivileged OS user (PostgreSQL refuses root): when the
 * daemon is root, the system user `pgfleet` (created if missing); otherwise
 * the daemon's own user. They listen on TCP only (no Unix socket), on the
 * node's own loopback address, port 5432; pg_hba.conf admits password
 * (scram-sha-256) logins only.
 *
 * Postmasters are started in their own session, so they survive a daemon
 * restart; their state is read from postmaster.pid, never assumed.
 */
#ifndef PGFLEET_PG_PGNODE_H
#define PGFLEET_PG_PGNODE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "core/err.h"

#define PGNODE_SUPERUSER "pgfleet_super"   /* the service's own superuser role */
#define PGNODE_START_TIMEOUT_MS 60000
#define PGNODE_STOP_TIMEOUT_MS 60000

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
	const struct pgnode_user *user;
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

/* The OS user servers run as (see above); creates `pgfleet` when root. */
int pgnode_user_ensure(struct pgnode_user *u, struct err *e);

/* Make sure a template cluster for (bin_dir, charset) exists under
 * templates_root, created by initdb once (locale C, encoding `charset`,
 * superuser PGNODE_SUPERUSER with a random password kept next to it);
 * concurrent callers are serialised by a lock file. out_dir receives the
 * template's PGDATA path. */
int pgnode_template_ensure(const char *templates_root, const char *bin_dir, const char *charset,
			   const struct pgnode_user *u, char *out_dir, size_t out_len, struct err *e);

/* The template's superuser password (to connect to a fresh copy). */
int pgnode_template_password(const char *template_dir, char *out, size_t out_len, struct err *e);

/* Create node->dir from the template (copy, owned by node->user) and write
 * its configuration. Idempotent: an existing complete copy is kept and only
 * its configuration rewritten. */
int pgnode_create(const struct pgnode *n, const char *template_dir, const struct pgnode_conf *c,
		  struct err *e);

/* (Re)write pgfleet.conf and pg_hba.conf from `c` (takes effect at the next
 * reload or restart). */
int pgnode_write_config(const struct pgnode *n, const struct pgnode_conf *c, struct err *e);

/* Start the postmaster unless one already runs, and wait until it accepts
 * connections (postmaster.pid says ready) or timeout_ms passes. */
int pgnode_start(const struct pgnode *n, int timeout_ms, struct err *e);

/* Stop the postmaster (no-op when stopped) and wait for it to exit. */
int pgnode_stop(const struct pgnode *n, enum pgnode_stop_mode mode, int timeout_ms, struct err *e);

/* Ask a running postmaster to reload its configuration (SIGHUP). */
int pgnode_reload(const struct pgnode *n, struct err *e);

/* Read the postmaster's state from postmaster.pid and the process table. */
int pgnode_status(const struct pgnode *n, struct pgnode_state *st, struct err *e);

/* Stop (immediate) and delete node->dir entirely. Idempotent. */
int pgnode_remove(const struct pgnode *n, struct err *e);

/* Bytes used under node->dir/data (for the storage quota). */
int pgnode_data_size(const struct pgnode *n, long long *bytes, struct err *e);

#endif
