/*
 * pgbackup.c - base backups and restores of a node, and the node's
 * archiving/recovery settings (see pgbackup.h).
 *
 * Base backup: pg_basebackup, started through the spawn module as the
 * node's OS user, writes into DIR.partial/out while DIR.partial/pid names
 * it (so that a daemon killed meanwhile finds and stops the orphan before
 * trying again) and DIR.partial/pg_basebackup.log takes its messages. On
 * success DIR.partial/out is renamed to DIR: a backup directory that exists
 * is complete. The call polls the child every PGBACKUP_POLL_MS so that
 * pgbackup_interrupt() (daemon shutdown) can stop it at once.
 *
 * Restore: `tar -x` of the backup's archive into the node's data directory,
 * as the node's OS user, then syncfs and DIR/READY, the marker pgnode uses
 * for a complete node.
 */
#include "pg/pgbackup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "pg/spawn.h"

#define PGBACKUP_LOG_CTX      "pgbackup"
#define PGBACKUP_CONF_MAX     8192
#define PGBACKUP_POLL_MS      200
#define PGBACKUP_KILL_WAIT_MS 10000
#define PGBACKUP_RUNNING_MAX  64            /* pg_basebackup children tracked for interrupt */
#define PGBACKUP_LOG_TAIL     2000          /* bytes of a tool's output logged on failure */
#define PGBACKUP_LOG_SCAN     (256 * 1024)  /* bytes of a server log searched */
#define PGBACKUP_TAR          "/usr/bin/tar"
#define PGBACKUP_TARGET_MAX   40

static atomic_bool pgbackup_stop;
static pthread_mutex_t pgbackup_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t pgbackup_running[PGBACKUP_RUNNING_MAX];

/* ---- paths and files ------------------------------------------------------------------ */

bool pgbackup_path_ok(const char *p)
{
	size_t len = strlen(p);

	if (len < 2 || len > PGBACKUP_PATH_MAX || p[0] != '/' || p[len - 1] == '/')
		return false;
	for (const char *c = p; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '/' || *c == '.' || *c == '_' || *c == '-'))
			return false;
	return strstr(p, "//") == NULL && strstr(p, "/./") == NULL && strstr(p, "/../") == NULL &&
	       strcmp(p + len - 2, "/.") != 0 && (len < 3 || strcmp(p + len - 3, "/..") != 0);
}

static int pgbackup_join(char *out, size_t cap, const char *a, const char *b, struct err *e)
{
	int n = snprintf(out, cap, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= cap)
		return err_set(e, ERR_INTERNAL_ERROR, "path too long: %s/%s", a, b);
	return 0;
}

static bool pgbackup_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int pgbackup_chown(int fd, const char *path, const struct pgnode_user *u, struct err *e)
{
	if (u != NULL && u->set_ids && fchown(fd, u->uid, u->gid) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "chown %s: %s", path, strerror(errno));
	return 0;
}

int pgbackup_mkdir(const char *path, unsigned mode, const struct pgnode_user *u, struct err *e)
{
	int fd, rc;

	if (mkdir(path, (mode_t)mode) != 0 && errno != EEXIST)
		return err_set(e, ERR_INTERNAL_ERROR, "mkdir %s: %s", path, strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", path, strerror(errno));
	rc = fchmod(fd, (mode_t)mode) == 0 ? pgbackup_chown(fd, path, u, e)
					  : err_set(e, ERR_INTERNAL_ERROR, "chmod %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

static int pgbackup_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int pgbackup_remove_tree(const char *path, struct err *e)
{
	if (!pgbackup_exists(path))
		return 0;
	if (nftw(path, pgbackup_rm_cb, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "remove %s: %s", path, strerror(errno));
	return 0;
}

/* Write `len` bytes to `path` atomically (tmp, fsync, rename), mode 0600, owned by u. */
static int pgbackup_write_file(const char *path, const void *data, size_t len, const struct pgnode_user *u,
			       struct err *e)
{
	char tmp[PGBACKUP_PATH_MAX + 8];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(e, ERR_INTERNAL_ERROR, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", tmp, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) != 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "write %s: %s", tmp, strerror(errno));
	if (rc == 0)
		rc = pgbackup_chown(fd, tmp, u, e);
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "rename %s: %s", tmp, strerror(errno));
	if (rc != 0)
		unlink(tmp);
	return rc;
}

static int pgbackup_copy_fd(int in, int out, off_t size, const char *dst, struct err *e)
{
	off_t done = 0;

	while (done < size) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(size - done), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(e, ERR_INTERNAL_ERROR, "copy to %s: %s", dst, n < 0 ? strerror(errno) : "short read");
		done += n;
	}
	return 0;
}

int pgbackup_file_copy(const char *src, const char *dst, const struct pgnode_user *u, struct err *e)
{
	char tmp[PGBACKUP_PATH_MAX + 16];
	struct stat st, have;
	int in, out, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= (int)sizeof(tmp))
		return err_set(e, ERR_INTERNAL_ERROR, "path too long: %s", dst);
	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) != 0) {
		rc = err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", src, strerror(errno));
		if (in >= 0)
			close(in);
		return rc;
	}
	if (lstat(dst, &have) == 0 && S_ISREG(have.st_mode) && have.st_size == st.st_size) {
		close(in);
		return 0;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", tmp, strerror(errno));
	}
	rc = pgbackup_copy_fd(in, out, st.st_size, dst, e);
	if (rc == 0 && (fsync(out) != 0 || futimens(out, (struct timespec[2]){ st.st_atim, st.st_mtim }) != 0))
		rc = err_set(e, ERR_INTERNAL_ERROR, "sync %s: %s", tmp, strerror(errno));
	if (rc == 0)
		rc = pgbackup_chown(out, tmp, u, e);
	close(in);
	close(out);
	if (rc == 0 && rename(tmp, dst) != 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "rename %s: %s", tmp, strerror(errno));
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* Read at most cap - 1 bytes of the end of `path` into buf (NUL-terminated). */
static ssize_t pgbackup_read_tail(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0) {
		off_t from = st.st_size > (off_t)(cap - 1) ? st.st_size - (off_t)(cap - 1) : 0;
		n = pread(fd, buf, cap - 1, from);
	}
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* ---- settings file ---------------------------------------------------------------------- */

static bool pgbackup_target_ok(const char *t)
{
	size_t len = strlen(t);

	if (len < 10 || len > PGBACKUP_TARGET_MAX)
		return false;
	return strspn(t, "0123456789-: +.") == len;
}

static int pgbackup_settings_check(const struct pgbackup_settings *s, struct err *e)
{
	if (!pgbackup_path_ok(s->archiver) || (s->wal_dir != NULL && !pgbackup_path_ok(s->wal_dir)) ||
	    (s->restore_dir != NULL && !pgbackup_path_ok(s->restore_dir)) ||
	    (s->target_time != NULL && !pgbackup_target_ok(s->target_time)) || s->archive_timeout_s < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "bad backup settings (paths or recovery target)");
	return 0;
}

/* printf-append to buf (len so far in *len); -1 once it no longer fits. */
static int pgbackup_appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int pgbackup_appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

int pgbackup_conf_render(const struct pgbackup_settings *s, char *buf, size_t cap, struct err *e)
{
	size_t len = 0;
	int rc;

	if (pgbackup_settings_check(s, e) != 0)
		return -1;
	rc = pgbackup_appendf(buf, cap, &len, "# Written by pgfleet (backups): WAL archiving and recovery.\n"
					      "# Rewritten by the service: edits here are lost.\n");
	if (rc == 0 && s->wal_dir != NULL)
		rc = pgbackup_appendf(buf, cap, &len, "archive_command = '%s push %%p %%f %s %lld'\narchive_timeout = %d\n",
				      s->archiver, s->wal_dir, (long long)s->mtime_offset, s->archive_timeout_s);
	if (rc == 0 && s->restore_dir != NULL)
		rc = pgbackup_appendf(buf, cap, &len, "restore_command = '%s fetch %%f %%p %s'\nhot_standby = off\n",
				      s->archiver, s->restore_dir);
	if (rc == 0 && s->restore_dir != NULL && s->target_time != NULL)
		rc = pgbackup_appendf(buf, cap, &len, "recovery_target_time = '%s'\n", s->target_time);
	else if (rc == 0 && s->restore_dir != NULL && s->target_immediate)
		rc = pgbackup_appendf(buf, cap, &len, "recovery_target = 'immediate'\n");
	if (rc == 0 && s->restore_dir != NULL)
		rc = pgbackup_appendf(buf, cap, &len, "recovery_target_action = 'promote'\n");
	if (rc != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "%s too long", PGBACKUP_CONF_FILE);
	return (int)len;
}

int pgbackup_conf_apply(const struct pgnode *n, const struct pgbackup_settings *s, bool *changed, struct err *e)
{
	char path[PGBACKUP_PATH_MAX + 64], want[PGBACKUP_CONF_MAX], have[PGBACKUP_CONF_MAX];
	int len = pgbackup_conf_render(s, want, sizeof(want), e);
	int fd;
	ssize_t got = -1;

	*changed = false;
	if (len < 0 || snprintf(path, sizeof(path), "%s/data/%s", n->dir, PGBACKUP_CONF_FILE) >= (int)sizeof(path))
		return len < 0 ? -1 : err_set(e, ERR_INTERNAL_ERROR, "path too long");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		got = read(fd, have, sizeof(have));
		close(fd);
	}
	if (got == len && memcmp(have, want, (size_t)len) == 0)
		return 0;
	if (pgbackup_write_file(path, want, (size_t)len, n->user, e) != 0)
		return -1;
	*changed = true;
	return 0;
}

/* ---- compression names ---------------------------------------------------------------- */

static const struct {
	const char *name, *file, *server_spec, *tar_flag;
} pgbackup_methods[] = {
	[PGBACKUP_ZSTD] = { "zstd", "base.tar.zst", "server-zstd:level=1", "--zstd" },
	[PGBACKUP_LZ4] = { "lz4", "base.tar.lz4", "server-lz4", "--use-compress-program=lz4" },
	[PGBACKUP_GZIP] = { "gzip", "base.tar.gz", "server-gzip:1", "--gzip" },
	[PGBACKUP_NONE] = { "none", "base.tar", "none", NULL },
};

int pgbackup_compression_parse(const char *name, enum pgbackup_compression *out)
{
	for (size_t i = 0; i < sizeof(pgbackup_methods) / sizeof(pgbackup_methods[0]); i++)
		if (strcmp(pgbackup_methods[i].name, name) == 0) {
			*out = (enum pgbackup_compression)i;
			return 0;
		}
	return -1;
}

const char *pgbackup_base_file(enum pgbackup_compression c)
{
	return pgbackup_methods[c].file;
}

static int pgbackup_fsync_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/* ---- interrupt ------------------------------------------------------------------------- */

static void pgbackup_track(pid_t pid, bool add)
{
	pthread_mutex_lock(&pgbackup_mu);
	for (size_t i = 0; i < PGBACKUP_RUNNING_MAX; i++)
		if (pgbackup_running[i] == (add ? 0 : pid)) {
			pgbackup_running[i] = add ? pid : 0;
			break;
		}
	pthread_mutex_unlock(&pgbackup_mu);
}

void pgbackup_interrupt(void)
{
	struct err e;

	atomic_store(&pgbackup_stop, true);
	pthread_mutex_lock(&pgbackup_mu);
	for (size_t i = 0; i < PGBACKUP_RUNNING_MAX; i++)
		if (pgbackup_running[i] > 0)
			spawn_signal(pgbackup_running[i], SIGTERM, &e);
	pthread_mutex_unlock(&pgbackup_mu);
}

void pgbackup_interrupt_reset(void)
{
	atomic_store(&pgbackup_stop, false);
}

/* ---- base backup ---------------------------------------------------------------------- */

/* True when process `pid` runs with `needle` as one of its arguments. */
static bool pgbackup_proc_has_arg(pid_t pid, const char *needle)
{
	char path[64], buf[8192];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strcmp(buf + i, needle) == 0)
			return true;
	return false;
}

/* A pg_basebackup left writing `out` by a killed daemon: stop it. */
static void pgbackup_kill_orphan(const char *pidfile, const char *out)
{
	char buf[32];
	long pid;
	int64_t waited = 0;

	if (pgbackup_read_tail(pidfile, buf, sizeof(buf)) <= 0 || (pid = strtol(buf, NULL, 10)) <= 1 ||
	    !pgbackup_proc_has_arg((pid_t)pid, out))
		return;
	log_warn(PGBACKUP_LOG_CTX, "stopping pg_basebackup %ld left from a previous run", pid);
	/* SIGTERM, then SIGKILL; either way return only once it is gone, so
	 * the backup taken next never overlaps the old writer */
	for (int sig = SIGTERM; sig != 0; sig = sig == SIGTERM ? SIGKILL : 0) {
		kill((pid_t)pid, sig);
		for (waited = 0; pgbackup_proc_has_arg((pid_t)pid, out) && waited < PGBACKUP_KILL_WAIT_MS;
		     waited += PGBACKUP_POLL_MS)
			usleep(PGBACKUP_POLL_MS * 1000);
		if (!pgbackup_proc_has_arg((pid_t)pid, out))
			return;
	}
	log_error(PGBACKUP_LOG_CTX, "pg_basebackup %ld survived SIGKILL", pid);
}

/* Wait for `pid` until it ends, the deadline passes or we are interrupted. */
static int pgbackup_wait(pid_t pid, int timeout_ms, struct spawn_result *r, struct err *e)
{
	int64_t waited = 0;
	int rc;

	for (;;) {
		rc = spawn_wait(pid, PGBACKUP_POLL_MS, r, e);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
		waited += PGBACKUP_POLL_MS;
		if (atomic_load(&pgbackup_stop) || (timeout_ms > 0 && waited >= timeout_ms))
			break;
	}
	spawn_signal(pid, SIGTERM, e);
	if (spawn_wait(pid, PGBACKUP_KILL_WAIT_MS, r, e) == 0) {
		spawn_signal(pid, SIGKILL, e);
		spawn_wait(pid, -1, r, e);
	}
	return err_set(e, ERR_FAILED_OPERATION, "pg_basebackup %s",
		       atomic_load(&pgbackup_stop) ? "interrupted by daemon shutdown" : "timed out");
}

struct pgbackup_paths {
	char partial[PGBACKUP_PATH_MAX + 16];
	char out[PGBACKUP_PATH_MAX + 32];
	char log[PGBACKUP_PATH_MAX + 48];
	char pid[PGBACKUP_PATH_MAX + 32];
};

static int pgbackup_base_paths(const char *dir, struct pgbackup_paths *p, struct err *e)
{
	if (!pgbackup_path_ok(dir) || strlen(dir) > PGBACKUP_PATH_MAX - 16)
		return err_set(e, ERR_INTERNAL_ERROR, "bad backup directory");
	snprintf(p->partial, sizeof(p->partial), "%s.partial", dir);
	if (pgbackup_join(p->out, sizeof(p->out), p->partial, "out", e) != 0 ||
	    pgbackup_join(p->log, sizeof(p->log), p->partial, "pg_basebackup.log", e) != 0 ||
	    pgbackup_join(p->pid, sizeof(p->pid), p->partial, "pid", e) != 0)
		return -1;
	return 0;
}

/* Start pg_basebackup for q writing p->out, its output into p->log. */
static int pgbackup_spawn(const struct pgbackup_base_req *q, const struct pgbackup_paths *p, pid_t *pid,
			  struct err *e)
{
	char prog[PGBACKUP_PATH_MAX], port[16], pw[1100], label[80], rate[32];
	const char *argv[] = { prog, "-h", q->node->listen_addr, "-p", port, "-U", PGNODE_SUPERUSER, "-w", "-D",
			       p->out, "-F", "t", "-X", "fetch", "-Z", pgbackup_methods[q->compression].server_spec,
			       "-c", "fast", "--manifest-checksums=CRC32C", "-l", label, q->max_rate_kbps ? rate : NULL,
			       NULL };
	const char *env[] = { pw, "PGCONNECT_TIMEOUT=10", "PGAPPNAME=pgfleet-backup", "LC_ALL=C", NULL };
	struct spawn_opts o = { .argv = argv, .env = env, .set_ids = q->node->user->set_ids,
				.uid = q->node->user->uid, .gid = q->node->user->gid };
	int rc;

	if (pgbackup_join(prog, sizeof(prog), q->node->bin_dir, "pg_basebackup", e) != 0 ||
	    snprintf(pw, sizeof(pw), "PGPASSWORD=%s", q->password) >= (int)sizeof(pw))
		return -1;
	snprintf(port, sizeof(port), "%d", q->node->port);
	snprintf(label, sizeof(label), "%s", q->label);
	snprintf(rate, sizeof(rate), "--max-rate=%dk", q->max_rate_kbps < 32 ? 32 : q->max_rate_kbps);
	o.log_fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o.log_fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", p->log, strerror(errno));
	rc = spawn_start(&o, pid, e);
	close(o.log_fd);
	return rc;
}

/* Run pg_basebackup to completion (or interrupt/timeout). */
static int pgbackup_run(const struct pgbackup_base_req *q, const struct pgbackup_paths *p, struct err *e)
{
	struct spawn_result r = { 0 };
	char buf[32], tail[PGBACKUP_LOG_TAIL];
	pid_t pid;
	int rc, len;

	if (pgbackup_spawn(q, p, &pid, e) != 0)
		return -1;
	pgbackup_track(pid, true);
	len = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (pgbackup_write_file(p->pid, buf, (size_t)len, NULL, e) != 0)
		log_warn(PGBACKUP_LOG_CTX, "pid file: %s", e->msg);
	rc = pgbackup_wait(pid, q->timeout_ms, &r, e);
	pgbackup_track(pid, false);
	if (rc == 0 && (!r.exited || r.exit_code != 0) && atomic_load(&pgbackup_stop)) {
		rc = err_set(e, ERR_FAILED_OPERATION, "pg_basebackup interrupted by daemon shutdown");
	} else if (rc == 0 && (!r.exited || r.exit_code != 0)) {
		pgbackup_read_tail(p->log, tail, sizeof(tail));
		log_warn(PGBACKUP_LOG_CTX, "pg_basebackup of %s failed (%s %d): %s", q->node->dir,
			 r.exited ? "exit" : "signal", r.exited ? r.exit_code : r.term_signal, tail);
		rc = err_set(e, ERR_FAILED_OPERATION, "pg_basebackup failed");
	}
	spawn_result_free(&r);
	return rc;
}

static int pgbackup_base_check(const struct pgbackup_base_req *q, struct err *e)
{
	size_t llen = strlen(q->label);

	if (q->node == NULL || q->node->user == NULL || q->password == NULL || llen < 1 || llen > 63 ||
	    strspn(q->label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != llen ||
	    q->compression > PGBACKUP_NONE || !pgbackup_path_ok(q->node->bin_dir))
		return err_set(e, ERR_INTERNAL_ERROR, "bad base backup request");
	return 0;
}

int pgbackup_base_take(const struct pgbackup_base_req *q, struct pgbackup_base_info *info, struct err *e)
{
	struct pgbackup_paths p;
	char parent[PGBACKUP_PATH_MAX];

	if (pgbackup_base_check(q, e) != 0 || pgbackup_base_paths(q->dir, &p, e) != 0)
		return -1;
	if (pgbackup_exists(q->dir))
		return pgbackup_base_read(q->dir, info, e);
	if (atomic_load(&pgbackup_stop))
		return err_set(e, ERR_FAILED_OPERATION, "pg_basebackup interrupted by daemon shutdown");
	pgbackup_kill_orphan(p.pid, p.out);
	if (pgbackup_remove_tree(p.partial, e) != 0 || pgbackup_mkdir(p.partial, 0700, q->node->user, e) != 0 ||
	    pgbackup_run(q, &p, e) != 0)
		return -1;
	snprintf(parent, sizeof(parent), "%s", q->dir);
	*strrchr(parent, '/') = '\0';
	if (rename(p.out, q->dir) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "rename %s: %s", p.out, strerror(errno));
	if (pgbackup_fsync_dir(parent, e) != 0)
		return -1;
	if (pgbackup_remove_tree(p.partial, e) != 0)
		log_warn(PGBACKUP_LOG_CTX, "cleanup: %s", e->msg);
	return pgbackup_base_read(q->dir, info, e);
}

/* ---- manifest ---------------------------------------------------------------------------- */

/* Start of the first WAL range, end and timeline of the last one. */
static int pgbackup_manifest_wal(const json_t *m, struct pgbackup_base_info *info, struct err *e)
{
	const json_t *ranges = json_object_get(m, "WAL-Ranges");
	const json_t *first = json_array_get(ranges, 0);
	const json_t *last = json_array_get(ranges, json_array_size(ranges) - 1);

	if (first == NULL ||
	    pgbackup_lsn_parse(json_string_value(json_object_get(first, "Start-LSN")) ?: "", &info->start_lsn) != 0 ||
	    pgbackup_lsn_parse(json_string_value(json_object_get(last, "End-LSN")) ?: "", &info->stop_lsn) != 0 ||
	    !json_is_integer(json_object_get(last, "Timeline")))
		return err_set(e, ERR_INTERNAL_ERROR, "backup_manifest has no valid WAL-Ranges");
	info->timeline = (uint32_t)json_integer_value(json_object_get(last, "Timeline"));
	return 0;
}

static int pgbackup_manifest_read(const char *dir, struct pgbackup_base_info *info, struct err *e)
{
	char path[PGBACKUP_PATH_MAX + 32];
	struct stat st;
	json_error_t jerr;
	json_t *m, *f;
	size_t i;
	int rc;

	if (pgbackup_join(path, sizeof(path), dir, "backup_manifest", e) != 0)
		return -1;
	if (stat(path, &st) != 0 || st.st_size > PGBACKUP_MANIFEST_MAX)
		return err_set(e, ERR_INTERNAL_ERROR, "%s: missing or too large", path);
	m = json_load_file(path, 0, &jerr);
	if (m == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "%s: %s", path, jerr.text);
	rc = pgbackup_manifest_wal(m, info, e);
	info->data_bytes = 0;
	json_array_foreach(json_object_get(m, "Files"), i, f)
		info->data_bytes += (long long)json_integer_value(json_object_get(f, "Size"));
	json_decref(m);
	return rc;
}

int pgbackup_base_read(const char *dir, struct pgbackup_base_info *info, struct err *e)
{
	char path[PGBACKUP_PATH_MAX + 32];
	struct stat st;
	DIR *d;
	struct dirent *de;

	memset(info, 0, sizeof(*info));
	for (size_t i = 0; i < sizeof(pgbackup_methods) / sizeof(pgbackup_methods[0]) && !info->file[0]; i++)
		if (pgbackup_join(path, sizeof(path), dir, pgbackup_methods[i].file, e) == 0 &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			snprintf(info->file, sizeof(info->file), "%s", pgbackup_methods[i].file);
	if (info->file[0] == '\0')
		return err_set(e, ERR_INTERNAL_ERROR, "%s holds no base backup archive", dir);
	if (pgbackup_manifest_read(dir, info, e) != 0)
		return -1;
	d = opendir(dir);
	if (d == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "opendir %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			info->size += (long long)st.st_size;
	closedir(d);
	return 0;
}

/* ---- restore --------------------------------------------------------------------------------- */

static const char *pgbackup_tar_flag(const char *archive)
{
	size_t len = strlen(archive);

	for (size_t i = 0; i < sizeof(pgbackup_methods) / sizeof(pgbackup_methods[0]); i++) {
		size_t fl = strlen(pgbackup_methods[i].file);
		if (len >= fl && strcmp(archive + len - fl, pgbackup_methods[i].file) == 0)
			return pgbackup_methods[i].tar_flag;
	}
	return NULL;
}

static int pgbackup_extract(const struct pgnode *n, const char *archive, const char *data, struct err *e)
{
	const char *flag = pgbackup_tar_flag(archive);
	const char *argv[] = { PGBACKUP_TAR, "-x", "-f", archive, "-C", data, flag, NULL };
	struct spawn_opts o = { .argv = argv, .set_ids = n->user->set_ids, .uid = n->user->uid,
				.gid = n->user->gid, .timeout_ms = SPAWN_TIMEOUT_MAX_MS };
	struct spawn_result r;
	int rc = spawn_run(&o, &r, e);

	if (rc == 0 && (!r.exited || r.exit_code != 0)) {
		log_warn(PGBACKUP_LOG_CTX, "tar -x %s failed: %.*s", archive, PGBACKUP_LOG_TAIL, r.err ? r.err : "");
		rc = err_set(e, ERR_FAILED_OPERATION, "extracting the base backup failed");
	}
	spawn_result_free(&r);
	return rc;
}

static int pgbackup_syncfs(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", path, strerror(errno));
	if (syncfs(fd) != 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "syncfs %s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

int pgbackup_restore(const struct pgnode *n, const char *archive, struct err *e)
{
	char ready[PGBACKUP_PATH_MAX], data[PGBACKUP_PATH_MAX], logdir[PGBACKUP_PATH_MAX], ver[PGBACKUP_PATH_MAX];

	if (!pgbackup_path_ok(n->dir) || !pgbackup_path_ok(archive) || pgbackup_tar_flag(archive) == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "bad restore request");
	if (pgbackup_join(ready, sizeof(ready), n->dir, "READY", e) != 0 ||
	    pgbackup_join(data, sizeof(data), n->dir, "data", e) != 0 ||
	    pgbackup_join(logdir, sizeof(logdir), n->dir, "log", e) != 0 ||
	    pgbackup_join(ver, sizeof(ver), data, "PG_VERSION", e) != 0)
		return -1;
	if (pgbackup_exists(ready) && pgbackup_exists(ver))
		return 0;
	if (pgnode_remove(n, e) != 0 || pgbackup_mkdir(n->dir, 0700, n->user, e) != 0 ||
	    pgbackup_mkdir(data, 0700, n->user, e) != 0 || pgbackup_mkdir(logdir, 0700, n->user, e) != 0 ||
	    pgbackup_extract(n, archive, data, e) != 0)
		return -1;
	if (!pgbackup_exists(ver))
		return err_set(e, ERR_FAILED_OPERATION, "the base backup holds no data directory");
	if (pgbackup_syncfs(data, e) != 0)
		return -1;
	return pgbackup_write_file(ready, "", 0, NULL, e);
}

int pgbackup_recovery_signal(const struct pgnode *n, bool present, struct err *e)
{
	char path[PGBACKUP_PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/data/recovery.signal", n->dir) >= (int)sizeof(path))
		return err_set(e, ERR_INTERNAL_ERROR, "path too long");
	if (present)
		return pgbackup_write_file(path, "", 0, n->user, e);
	if (unlink(path) != 0 && errno != ENOENT)
		return err_set(e, ERR_INTERNAL_ERROR, "unlink %s: %s", path, strerror(errno));
	return 0;
}

void pgbackup_pm_status(const struct pgnode *n, char out[16])
{
	char path[PGBACKUP_PATH_MAX], buf[1024];
	const char *line = buf;

	out[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/data/postmaster.pid", n->dir) >= (int)sizeof(path) ||
	    pgbackup_read_tail(path, buf, sizeof(buf)) <= 0)
		return;
	for (int i = 1; i < 8 && line != NULL; i++)
		line = (line = strchr(line, '\n')) != NULL ? line + 1 : NULL;
	if (line != NULL)
		snprintf(out, 16, "%.*s", (int)strcspn(line, " \n"), line);
}

/* The newest "*.csv" of `dir` into out ("" when none). */
static void pgbackup_newest_csv(const char *dir, char *out, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	time_t best = 0;

	out[0] = '\0';
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".csv") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, 0) != 0 || (out[0] != '\0' && st.st_mtime < best))
			continue;
		best = st.st_mtime;
		snprintf(out, cap, "%s/%s", dir, de->d_name);
	}
	closedir(d);
}

int pgbackup_log_contains(const struct pgnode *n, const char *needle, bool *found, struct err *e)
{
	char dir[PGBACKUP_PATH_MAX], path[PGBACKUP_PATH_MAX + 300];
	char *buf = malloc(PGBACKUP_LOG_SCAN);

	*found = false;
	if (buf == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	if (pgbackup_join(dir, sizeof(dir), n->dir, "log", e) != 0) {
		free(buf);
		return -1;
	}
	pgbackup_newest_csv(dir, path, sizeof(path));
	if (path[0] != '\0' && pgbackup_read_tail(path, buf, PGBACKUP_LOG_SCAN) > 0)
		*found = strstr(buf, needle) != NULL;
	snprintf(path, sizeof(path), "%s/startup.log", dir);
	if (!*found && pgbackup_read_tail(path, buf, PGBACKUP_LOG_SCAN) > 0)
		*found = strstr(buf, needle) != NULL;
	free(buf);
	return 0;
}
