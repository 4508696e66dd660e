/*
 * pgnode_conf.c - a node's configuration files, derived from its spec.
 *
 * postgresql.conf stays initdb's, plus one line appended once:
 *     include_if_exists = 'pgfleet.conf'
 * so that our file, read last, wins over initdb's values (and
 * postgresql.auto.conf, from ALTER SYSTEM, still wins over ours).
 * pgfleet.conf and pg_hba.conf are rewritten whole, atomically, every time.
 * Every value written is produced here from integers or from the validated
 * address and paths of pgnode_check(); nothing else reaches these files.
 *
 * Sizing (memory M MB, C CPUs, storage S GB):
 *   shared_buffers        M/4, effective_cache_size 3M/4 (the usual split)
 *   max_connections       M/16 clamped to [20, 1000]: every slot costs
 *                         shared memory (PGPROC, lock and predicate-lock
 *                         table entries, ~50-100 kB with default
 *                         max_locks_per_transaction) and each live backend
 *                         needs a few MB plus work_mem, so ~16 MB of the
 *                         spec's memory per slot keeps dozens of small
 *                         instances on one host (1 GB -> 64, 4 GB -> 256)
 *   work_mem              (M - shared_buffers) / (3 * max_connections),
 *                         clamped to [1 MB, 256 MB] (pgtune's rule)
 *   maintenance_work_mem  M/16 clamped to [16 MB, 2 GB]
 *   workers               max_worker_processes max(8, 2C) (<= 64),
 *                         max_parallel_workers C, per gather and
 *                         maintenance C/2 (<= 4); a standby needs
 *                         max_worker_processes >= its primary's, which
 *                         holds while both have the same spec
 *   max_wal_size          S/20 clamped to [256 MB, 8 GB]
 * WAL is archived (archive_mode = on) but archive_command stays empty until
 * the backup module sets one and reloads: PostgreSQL then keeps every
 * segment, so nothing is lost before the first backup. The backup module's
 * own file, pgfleet-backup.conf (archive_command, and restore_command plus
 * a recovery target in a clone), is included last; pg_hba.conf admits
 * replication connections (pg_basebackup) of the service's superuser from
 * loopback only.
 * Logs are csvlog with log_timezone UTC (pg/pglog.c reads them so) and
 * statements of 1 s or more logged (log_min_duration_statement, a tenant
 * parameter: the slow-query actions read those lines).
 */
#include "pg/pgnode_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define PGNODE_CONF_MAX       8192
#define PGNODE_MEMORY_MB_MIN  128
#define PGNODE_MEMORY_MB_MAX  (4 * 1024 * 1024)
#define PGNODE_CPU_MAX        1024
#define PGNODE_STORAGE_GB_MAX (1024 * 1024)

struct pgnode_sizing {
	int shared_buffers_mb, effective_cache_mb, maintenance_mb, work_mem_kb;
	int max_connections, max_workers, parallel_workers, per_gather, max_wal_mb;
};

static int pgnode_clamp(long long v, long long lo, long long hi)
{
	return (int)(v < lo ? lo : v > hi ? hi : v);
}

static void pgnode_size(const struct pgnode_conf *c, struct pgnode_sizing *z)
{
	long long m = c->memory_mb;

	z->shared_buffers_mb = pgnode_clamp(m / 4, 16, m);
	z->effective_cache_mb = pgnode_clamp(m * 3 / 4, 64, m);
	z->maintenance_mb = pgnode_clamp(m / 16, 16, 2048);
	z->max_connections = pgnode_clamp(m / 16, 20, 1000);
	z->work_mem_kb = pgnode_clamp((m - z->shared_buffers_mb) * 1024 / (3LL * z->max_connections),
				      1024, 256 * 1024);
	z->max_workers = pgnode_clamp(2LL * c->cpu, 8, 64);
	z->parallel_workers = pgnode_clamp(c->cpu, 1, z->max_workers);
	z->per_gather = pgnode_clamp(c->cpu / 2, 0, 4);
	z->max_wal_mb = pgnode_clamp((long long)c->storage_gb * 1024 / 20, 256, 8192);
}

static int pgnode_conf_check(const struct pgnode_conf *c, struct err *e)
{
	if (c == NULL || c->memory_mb < PGNODE_MEMORY_MB_MIN || c->memory_mb > PGNODE_MEMORY_MB_MAX ||
	    c->cpu < 1 || c->cpu > PGNODE_CPU_MAX || c->storage_gb < 1 ||
	    c->storage_gb > PGNODE_STORAGE_GB_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad node specification");
	return 0;
}

/* pg_stat_statements is preloaded only when the contrib module is installed
 * next to the server (Debian: <bin>/../lib, what `pg_config --pkglibdir`
 * answers). */
static bool pgnode_has_pgss(const struct pgnode *n)
{
	char path[PATH_MAX];
	int len = snprintf(path, sizeof(path), "%s/../lib/pg_stat_statements.so", n->bin_dir);

	return len > 0 && (size_t)len < sizeof(path) && pgnode_fs_exists(path);
}

static char pgnode_session_lib[512];

int pgnode_set_session_library(const char *path, struct err *e)
{
	if (path == NULL || path[0] == '\0') {
		pgnode_session_lib[0] = '\0';
		return 0;
	}
	if (!pgnode_path_ok(path, 1) || strlen(path) >= sizeof(pgnode_session_lib))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad session library path");
	snprintf(pgnode_session_lib, sizeof(pgnode_session_lib), "%s", path);
	return 0;
}

static int pgnode_render_conf(const struct pgnode *n, const struct pgnode_conf *c, char *buf,
			      size_t cap, struct err *e)
{
	struct pgnode_sizing z;
	int len;

	pgnode_size(c, &z);
	len = snprintf(buf, cap,
		"# Written by pgfleet from the instance spec (%d MB, %d CPU, %d GB);\n"
		"# rewritten on every change: edits here are lost.\n"
		"listen_addresses = '%s'\nport = %d\nunix_socket_directories = ''\n"
		"password_encryption = 'scram-sha-256'\n"
		"max_connections = %d\nshared_buffers = %dMB\neffective_cache_size = %dMB\n"
		"maintenance_work_mem = %dMB\nwork_mem = %dkB\n"
		"max_worker_processes = %d\nmax_parallel_workers = %d\n"
		"max_parallel_workers_per_gather = %d\nmax_parallel_maintenance_workers = %d\n"
		"wal_level = replica\nmax_wal_senders = 10\nmax_replication_slots = 10\n"
		"hot_standby = on\nwal_keep_size = 64MB\nmax_wal_size = %dMB\n"
		"archive_mode = on\narchive_command = ''\n"
		"fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n"
		"logging_collector = on\nlog_destination = 'csvlog'\nlog_directory = '%s/log'\n"
		"log_filename = 'postgresql-%%Y-%%m-%%d_%%H%%M%%S.log'\nlog_file_mode = 0600\n"
		"log_rotation_size = 10MB\nlog_rotation_age = 1d\nlog_truncate_on_rotation = off\n"
		"log_line_prefix = '%%m [%%p] %%q%%u@%%d '\nlog_min_duration_statement = 1000\n"
		"log_timezone = 'UTC'\n"
		"log_connections = off\nlog_disconnections = off\nlog_checkpoints = on\n"
		"%s%s%s%s"
		"include_if_exists = 'pgfleet-backup.conf'   # archiving/recovery (src/pg/pgbackup.h)\n",
		c->memory_mb, c->cpu, c->storage_gb, n->listen_addr, n->port, z.max_connections,
		z.shared_buffers_mb, z.effective_cache_mb, z.maintenance_mb, z.work_mem_kb,
		z.max_workers, z.parallel_workers, z.per_gather, z.per_gather, z.max_wal_mb, n->dir,
		pgnode_has_pgss(n) ? "shared_preload_libraries = 'pg_stat_statements'\n" : "",
		pgnode_session_lib[0] ? "session_preload_libraries = '" : "", pgnode_session_lib,
		pgnode_session_lib[0] ? "'   # src/pgext/pgfleet_guard.c\n" : "");
	if (len < 0 || (size_t)len >= cap)
		return err_set(e, ERR_INTERNAL_ERROR, "pgfleet.conf too long");
	return len;
}

/* Password logins over TCP only: no trust, no peer, no Unix socket. */
static const char pgnode_hba[] =
	"# Written by pgfleet: password (SCRAM) logins over TCP only.\n"
	"host all all 0.0.0.0/0 scram-sha-256\n"
	"host all all ::/0 scram-sha-256\n"
	"host replication " PGNODE_SUPERUSER " 127.0.0.0/8 scram-sha-256\n";

/* True when `text` has `line` as one of its lines. */
static bool pgnode_has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p += len)
		if ((p == text || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

static int pgnode_include_ours(const struct pgnode *n, const char *data, struct err *e)
{
	char path[PATH_MAX];
	char *buf;
	size_t len;
	int rc;

	if (pgnode_join(path, sizeof(path), data, "postgresql.conf", e) < 0)
		return -1;
	buf = malloc(PGNODE_FILE_MAX + sizeof(PGNODE_INCLUDE_LINE) + 2);
	if (buf == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	rc = pgnode_fs_read(path, buf, PGNODE_FILE_MAX, &len, NULL, e);
	if (rc == 0 && !pgnode_has_line(buf, PGNODE_INCLUDE_LINE)) {
		if (len > 0 && buf[len - 1] != '\n')
			buf[len++] = '\n';
		memcpy(buf + len, PGNODE_INCLUDE_LINE "\n", sizeof(PGNODE_INCLUDE_LINE));
		len += sizeof(PGNODE_INCLUDE_LINE);
		rc = pgnode_fs_write_atomic(path, buf, len, 0600, n->user, e);
	}
	free(buf);
	return rc;
}

int pgnode_write_config(const struct pgnode *n, const struct pgnode_conf *c, struct err *e)
{
	char data[PATH_MAX], conf[PATH_MAX], hba[PATH_MAX], buf[PGNODE_CONF_MAX];
	int len;

	if (pgnode_check(n, e) < 0 || pgnode_conf_check(c, e) < 0)
		return -1;
	if (pgnode_join(data, sizeof(data), n->dir, "data", e) < 0 ||
	    pgnode_join(conf, sizeof(conf), data, "pgfleet.conf", e) < 0 ||
	    pgnode_join(hba, sizeof(hba), data, "pg_hba.conf", e) < 0)
		return -1;
	if (!pgnode_fs_exists(data))
		return err_set(e, ERR_INTERNAL_ERROR, "node %s has no data directory", n->dir);
	len = pgnode_render_conf(n, c, buf, sizeof(buf), e);
	if (len < 0 || pgnode_fs_write_atomic(conf, buf, (size_t)len, 0600, n->user, e) < 0 ||
	    pgnode_fs_write_atomic(hba, pgnode_hba, sizeof(pgnode_hba) - 1, 0600, n->user, e) < 0 ||
	    pgnode_include_ours(n, data, e) < 0)
		return -1;
	return 0;
}

int pgnode_conf_spec_settings(const struct pgnode_conf *c,
			      struct pgnode_spec_setting out[PGNODE_SPEC_SETTINGS], struct err *e)
{
	struct pgnode_sizing z;

	if (pgnode_conf_check(c, e) < 0)
		return -1;
	pgnode_size(c, &z);
	/* MB -> 8 kB pages: * 128; MB -> kB: * 1024 */
	out[0] = (struct pgnode_spec_setting){ "shared_buffers", z.shared_buffers_mb * 128LL };
	out[1] = (struct pgnode_spec_setting){ "effective_cache_size", z.effective_cache_mb * 128LL };
	out[2] = (struct pgnode_spec_setting){ "maintenance_work_mem", z.maintenance_mb * 1024LL };
	out[3] = (struct pgnode_spec_setting){ "work_mem", z.work_mem_kb };
	out[4] = (struct pgnode_spec_setting){ "max_connections", z.max_connections };
	out[5] = (struct pgnode_spec_setting){ "max_worker_processes", z.max_workers };
	out[6] = (struct pgnode_spec_setting){ "max_parallel_workers", z.parallel_workers };
	out[7] = (struct pgnode_spec_setting){ "max_parallel_workers_per_gather", z.per_gather };
	out[8] = (struct pgnode_spec_setting){ "max_parallel_maintenance_workers", z.per_gather };
	out[9] = (struct pgnode_spec_setting){ "max_wal_size", z.max_wal_mb };
	return PGNODE_SPEC_SETTINGS;
}
