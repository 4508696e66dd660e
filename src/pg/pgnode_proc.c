/*
 * pgnode_proc.c - a node's postmaster: start, stop, reload, status.
 *
 * The truth is PostgreSQL's own: DIR/data/postmaster.pid (line 1 the pid,
 * line 8 the status "starting"/"ready"/"standby"/"stopping", as pg_ctl reads
 * it) and the process table. A pid from the file counts as a live postmaster
 * of this node only if that process exists, is not a zombie, and its working
 * directory is this data directory (PostgreSQL chdir()s there at start), so
 * a pid reused by an unrelated process after a crash is recognised as stale.
 *
 * Waiting has no fixed sleeps: start waits on inotify events of the data
 * directory (postmaster.pid is rewritten at each status change) and on a
 * pidfd of the postmaster; stop waits on the pidfd. A poll slice of at most
 * PGNODE_POLL_SLICE_MS bounds every wait as a safety net.
 *
 * Postmasters this process started are its children: their pids are kept in
 * a small table and reaped here (on every status/start/stop of their node,
 * and by pgnode_reap_children(), which the supervisor calls from its timer)
 * so that a crashed postmaster does not linger as a zombie that kill(pid, 0)
 * still reports alive. Postmasters from a previous daemon were reparented
 * to init and are only observed.
 *
 * Signals go to the postmaster alone (kill(pid), as pg_ctl does), not to its
 * process group: its children are their own session leaders anyway, and the
 * postmaster relays shutdown requests to them.
 */
#include "pg/pgnode_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "pg/spawn.h"

#define PGNODE_CHILDREN_MAX   4096   /* postmasters started by this process */
#define PGNODE_POLL_SLICE_MS  100    /* longest wait between two checks */
#define PGNODE_ORPHANS_MAX    1024   /* leftover backends handled at one start */
#define PGNODE_ORPHAN_GRACE_MS 2000  /* for them to exit before SIGKILL */
#define PGNODE_TAIL_BYTES     2048   /* log tail written to the daemon log */
#define PGNODE_PIDFILE_MAX    4096
#define PGNODE_PIDFILE_SETTLE_MS 2000 /* for a new postmaster.pid to get its pid */
#define PGNODE_PIDFILE_POLL_MS 5

struct pgnode_pidfile {
	bool present;
	pid_t pid;
	char status[16];        /* line 8, trimmed */
};

static pthread_mutex_t pgnode_kids_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t pgnode_kids[PGNODE_CHILDREN_MAX];
static size_t pgnode_nkids;

/* ---- children --------------------------------------------------------------- */

static void pgnode_kid_add(pid_t pid)
{
	pthread_mutex_lock(&pgnode_kids_mu);
	if (pgnode_nkids < PGNODE_CHILDREN_MAX)
		pgnode_kids[pgnode_nkids++] = pid;
	else
		log_warn(PGNODE_LOG_CTX, "child table full: postmaster %d will not be reaped",
			 (int)pid);
	pthread_mutex_unlock(&pgnode_kids_mu);
}

/* Reap kids[i] if it ended (caller holds the lock): 1 ended, 0 runs. */
static int pgnode_kid_try(size_t i)
{
	struct spawn_result r = { 0 };
	struct err e;
	int rc = spawn_wait_nohang(pgnode_kids[i], &r, &e);

	if (rc == 0)
		return 0;
	if (rc == 1)
		log_info(PGNODE_LOG_CTX, "postmaster %d ended (%s %d)", (int)pgnode_kids[i],
			 r.exited ? "exit" : "signal", r.exited ? r.exit_code : r.term_signal);
	pgnode_kids[i] = pgnode_kids[--pgnode_nkids];   /* rc -1: not ours any more */
	return 1;
}

/* 1: `pid` is our child and has ended (now reaped); 0: our child, running;
 * -1: not a child of ours. */
static int pgnode_kid_reap(pid_t pid)
{
	int rc = -1;

	pthread_mutex_lock(&pgnode_kids_mu);
	for (size_t i = 0; i < pgnode_nkids; i++)
		if (pgnode_kids[i] == pid) {
			rc = pgnode_kid_try(i);
			break;
		}
	pthread_mutex_unlock(&pgnode_kids_mu);
	return rc;
}

void pgnode_reap_children(void)
{
	pthread_mutex_lock(&pgnode_kids_mu);
	for (size_t i = 0; i < pgnode_nkids;)
		if (pgnode_kid_try(i) == 0)
			i++;
	pthread_mutex_unlock(&pgnode_kids_mu);
}

/* ---- the process table ------------------------------------------------------ */

static int pgnode_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static bool pgnode_is_zombie(pid_t pid)
{
	char path[64], buf[512];
	const char *p;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pgnode_fs_read(path, buf, sizeof(buf), &len, NULL, &(struct err){ 0 }) < 0)
		return false;
	p = strrchr(buf, ')');   /* comm may hold spaces and parentheses */
	return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* 1: /proc/<pid>/<link> resolves to `target`, 0: to something else or the
 * process is gone, -1: unreadable (EACCES). */
static int pgnode_proc_link_is(pid_t pid, const char *link, const char *target)
{
	char path[64], got[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, link);
	n = readlink(path, got, sizeof(got) - 1);
	if (n < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	got[n] = '\0';
	return strcmp(got, target) == 0 ? 1 : 0;
}

/* Is `pid` a live process working in data directory `data_real`? */
static bool pgnode_pid_live(pid_t pid, const char *data_real)
{
	int kid;

	if (pid <= 0)
		return false;
	kid = pgnode_kid_reap(pid);
	if (kid == 1)
		return false;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return false;
	if (pgnode_is_zombie(pid))
		return false;
	return pgnode_proc_link_is(pid, "cwd", data_real) != 0;
}

static bool pgnode_exe_is_postgres(pid_t pid)
{
	char path[64], got[PATH_MAX];
	ssize_t n;
	const char *base;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, got, sizeof(got) - 1);
	if (n < 0)
		return false;
	got[n] = '\0';
	base = strrchr(got, '/');
	return base != NULL && strcmp(base + 1, "postgres") == 0;
}

/* Collect the pids of postgres processes working in `data_real`. */
static size_t pgnode_find_orphans(const char *data_real, pid_t *out, size_t cap)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while (n < cap && (de = readdir(d)) != NULL) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		if (*end != '\0' || v <= 0 || v > INT_MAX || (pid_t)v == getpid())
			continue;
		if (pgnode_proc_link_is((pid_t)v, "cwd", data_real) == 1 &&
		    pgnode_exe_is_postgres((pid_t)v))
			out[n++] = (pid_t)v;
	}
	closedir(d);
	return n;
}

/* Wait until `pid` is gone (reaping it if ours) or `deadline` passes.
 * Returns 0 gone, -1 still there. */
static int pgnode_wait_gone(pid_t pid, int64_t deadline)
{
	int pfd = pgnode_pidfd(pid);

	for (;;) {
		int64_t left = deadline - pgnode_now_ms();
		int kid = pgnode_kid_reap(pid);
		if (kid == 1 || (kid == -1 && ((kill(pid, 0) < 0 && errno == ESRCH) ||
					       pgnode_is_zombie(pid)))) {
			if (pfd >= 0)
				close(pfd);
			return 0;
		}
		if (left <= 0)
			break;
		if (pfd >= 0) {
			struct pollfd p = { .fd = pfd, .events = POLLIN };
			poll(&p, 1, (int)(left < PGNODE_POLL_SLICE_MS ? left : PGNODE_POLL_SLICE_MS));
		} else {
			poll(NULL, 0, 10);   /* no pidfd: short slices */
		}
	}
	if (pfd >= 0)
		close(pfd);
	return -1;
}

/* After a postmaster died without cleaning up (kill -9, OOM killer), its
 * children may still hold the shared memory interlock, and PostgreSQL
 * refuses to start until they are gone. They notice the death and exit by
 * themselves (the logging collector last, once it has written what the
 * others sent): give them PGNODE_ORPHAN_GRACE_MS, then SIGKILL the rest. */
static int pgnode_kill_orphans(const char *dir, const char *data_real, int64_t deadline,
			       struct err *e)
{
	pid_t *pids = malloc(PGNODE_ORPHANS_MAX * sizeof(*pids));
	int64_t grace = pgnode_now_ms() + PGNODE_ORPHAN_GRACE_MS;
	size_t n;

	if (pids == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	n = pgnode_find_orphans(data_real, pids, PGNODE_ORPHANS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (pgnode_wait_gone(pids[i], grace < deadline ? grace : deadline) == 0)
			continue;
		log_warn(PGNODE_LOG_CTX, "node %s: killing leftover server process %d", dir,
			 (int)pids[i]);
		kill(pids[i], SIGKILL);
		if (pgnode_wait_gone(pids[i], deadline) < 0) {
			free(pids);
			return err_set(e, ERR_INTERNAL_ERROR, "old server processes of %s do not exit",
				       dir);
		}
	}
	free(pids);
	return 0;
}

/* ---- postmaster.pid ------------------------------------------------------------ */

static void pgnode_pidfile_read(const char *data, struct pgnode_pidfile *pf)
{
	char path[PATH_MAX], buf[PGNODE_PIDFILE_MAX];
	const char *line = buf;
	char *end;
	long v;

	memset(pf, 0, sizeof(*pf));
	if (pgnode_join(path, sizeof(path), data, PGNODE_PIDFILE, &(struct err){ 0 }) < 0 ||
	    pgnode_fs_read(path, buf, sizeof(buf), NULL, NULL, &(struct err){ 0 }) < 0)
		return;
	pf->present = true;
	v = strtol(buf, &end, 10);
	if (end != buf && (*end == '\n' || *end == '\0') && v > 0 && v <= INT_MAX)
		pf->pid = (pid_t)v;
	for (int i = 1; i < 8 && line != NULL; i++) {
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	if (line == NULL)
		return;
	for (size_t i = 0; i + 1 < sizeof(pf->status) && line[i] != '\0' && line[i] != '\n' &&
			   line[i] != ' '; i++)
		pf->status[i] = line[i];
}

/* Read postmaster.pid; a file without a pid yet (a postmaster creates it,
 * then writes it) is read again for up to PGNODE_PIDFILE_SETTLE_MS, so a
 * starting postmaster is not mistaken for a stale file. */
static void pgnode_pidfile_settled(const char *data, struct pgnode_pidfile *pf, int64_t deadline)
{
	int64_t until = pgnode_now_ms() + PGNODE_PIDFILE_SETTLE_MS;

	if (until > deadline)
		until = deadline;
	pgnode_pidfile_read(data, pf);
	while (pf->present && pf->pid == 0 && pgnode_now_ms() < until) {
		poll(NULL, 0, PGNODE_PIDFILE_POLL_MS);
		pgnode_pidfile_read(data, pf);
	}
}

static bool pgnode_status_ready(const char *status)
{
	return strcmp(status, "ready") == 0 || strcmp(status, "standby") == 0;
}

/* Node paths: DIR/data and its resolved form (what /proc/<pid>/cwd shows). */
struct pgnode_paths {
	char data[PATH_MAX];
	char data_real[PATH_MAX];
};

static int pgnode_paths(const struct pgnode *n, struct pgnode_paths *p, bool must_exist,
			struct err *e)
{
	if (pgnode_check(n, e) < 0 || pgnode_join(p->data, sizeof(p->data), n->dir, "data", e) < 0)
		return -1;
	if (realpath(p->data, p->data_real) == NULL) {
		if (must_exist || errno != ENOENT)
			return err_set(e, ERR_INTERNAL_ERROR, "node %s has no data directory (%s)",
				       n->dir, pgnode_errname(errno));
		snprintf(p->data_real, sizeof(p->data_real), "%s", p->data);
	}
	return 0;
}

bool pgnode_proc_running(const struct pgnode *n)
{
	struct pgnode_paths p;
	struct pgnode_pidfile pf;

	if (pgnode_paths(n, &p, false, &(struct err){ 0 }) < 0)
		return false;
	pgnode_pidfile_read(p.data, &pf);
	return pf.present && pgnode_pid_live(pf.pid, p.data_real);
}

int pgnode_status(const struct pgnode *n, struct pgnode_state *st, struct err *e)
{
	struct pgnode_paths p;
	struct pgnode_pidfile pf;

	memset(st, 0, sizeof(*st));
	if (pgnode_paths(n, &p, false, e) < 0)
		return -1;
	pgnode_pidfile_read(p.data, &pf);
	if (!pf.present || !pgnode_pid_live(pf.pid, p.data_real))
		return 0;
	st->running = true;
	st->pid = pf.pid;
	st->ready = pgnode_status_ready(pf.status);
	return 0;
}

/* ---- start ------------------------------------------------------------------------ */

/* Log the last bytes of `path`, lines joined by " | ". */
static void pgnode_log_tail(const char *dir, const char *path)
{
	char buf[PGNODE_TAIL_BYTES + 1];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	off_t size;
	ssize_t n;

	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	n = pread(fd, buf, PGNODE_TAIL_BYTES, size > PGNODE_TAIL_BYTES ? size - PGNODE_TAIL_BYTES : 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = '|';
	log_error(PGNODE_LOG_CTX, "node %s: %s: ...%s", dir, path, buf);
}

/* Log the tails of startup.log and of the newest csv log. */
static void pgnode_log_failure(const struct pgnode *n)
{
	char logdir[PATH_MAX], path[PATH_MAX], newest[NAME_MAX + 1] = "";
	DIR *d;
	struct dirent *de;

	if (pgnode_join(logdir, sizeof(logdir), n->dir, "log", &(struct err){ 0 }) < 0)
		return;
	if (pgnode_join(path, sizeof(path), logdir, "startup.log", &(struct err){ 0 }) == 0)
		pgnode_log_tail(n->dir, path);
	d = opendir(logdir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		/* names carry the start time, so the greatest is the newest */
		if (len > 4 && strcmp(de->d_name + len - 4, ".csv") == 0 &&
		    strcmp(de->d_name, newest) > 0)
			snprintf(newest, sizeof(newest), "%s", de->d_name);
	}
	closedir(d);
	if (newest[0] != '\0' && pgnode_join(path, sizeof(path), logdir, newest, &(struct err){ 0 }) == 0)
		pgnode_log_tail(n->dir, path);
}

/* One wait step: until the data directory changes, the postmaster exits,
 * or a slice passes. */
static void pgnode_wait_event(int ino, int pfd, int64_t left)
{
	struct pollfd p[2] = { { .fd = ino, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
	char buf[4096];

	if (poll(p, 2, (int)(left < PGNODE_POLL_SLICE_MS ? left : PGNODE_POLL_SLICE_MS)) > 0 &&
	    ino >= 0 && (p[0].revents & POLLIN))
		while (read(ino, buf, sizeof(buf)) > 0)
			;
}

/* Postmaster `*pid` is gone. If the pid file now names another live
 * postmaster of this data directory (ours lost the lock to a concurrent
 * start), follow that one: *pid and *pfd change and 1 is returned. */
static int pgnode_follow_other(const struct pgnode *n, const struct pgnode_paths *p, pid_t *pid,
			       int *pfd)
{
	struct pgnode_pidfile pf;

	pgnode_pidfile_read(p->data, &pf);
	if (!pf.present || pf.pid == *pid || !pgnode_pid_live(pf.pid, p->data_real))
		return 0;
	log_info(PGNODE_LOG_CTX, "node %s: postmaster %d runs already; waiting for it", n->dir,
		 (int)pf.pid);
	*pid = pf.pid;
	if (*pfd >= 0)
		close(*pfd);
	*pfd = pgnode_pidfd(*pid);
	return 1;
}

/* Wait until postmaster `pid` reports ready, exits, or the deadline passes. */
static int pgnode_wait_ready(const struct pgnode *n, const struct pgnode_paths *p, pid_t pid,
			     int64_t deadline, struct err *e)
{
	int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	int pfd = pgnode_pidfd(pid);
	struct pgnode_pidfile pf;
	bool followed = false;
	int rc = -1;

	if (ino >= 0 && inotify_add_watch(ino, p->data, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
		close(ino);
		ino = -1;
	}
	for (;;) {
		int64_t left = deadline - pgnode_now_ms();
		pgnode_pidfile_read(p->data, &pf);
		if (pf.present && pf.pid == pid && pgnode_status_ready(pf.status)) {
			rc = 0;
			break;
		}
		if (!pgnode_pid_live(pid, p->data_real) && pgnode_kid_reap(pid) != 0 &&
		    (followed || !(followed = pgnode_follow_other(n, p, &pid, &pfd)))) {
			pgnode_log_failure(n);
			err_set(e, ERR_INTERNAL_ERROR, "the database server failed to start");
			break;
		}
		if (left <= 0) {
			log_error(PGNODE_LOG_CTX, "node %s: postmaster %d not ready in time", n->dir,
				  (int)pid);
			err_set(e, ERR_INTERNAL_ERROR, "the database server did not become ready in time");
			break;
		}
		pgnode_wait_event(ino, pfd, left);
	}
	if (ino >= 0)
		close(ino);
	if (pfd >= 0)
		close(pfd);
	return rc;
}

static int pgnode_open_startup_log(const struct pgnode *n, int *fd, struct err *e)
{
	char path[PATH_MAX];

	if (pgnode_join(path, sizeof(path), n->dir, "log/startup.log", e) < 0)
		return -1;
	*fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s failed: %s", path, pgnode_errname(errno));
	if (n->user->set_ids && fchown(*fd, n->user->uid, n->user->gid) < 0) {
		close(*fd);
		return err_set(e, ERR_INTERNAL_ERROR, "chown %s failed: %s", path, pgnode_errname(errno));
	}
	return 0;
}

static int pgnode_spawn(const struct pgnode *n, const struct pgnode_paths *p, pid_t *pid,
			struct err *e)
{
	char postgres[PATH_MAX];
	const char *const argv[] = { postgres, "-D", p->data, NULL };
	struct spawn_opts o = { .argv = argv, .cwd = p->data, .set_ids = n->user->set_ids,
				.uid = n->user->uid, .gid = n->user->gid };
	int rc;

	if (pgnode_join(postgres, sizeof(postgres), n->bin_dir, "postgres", e) < 0 ||
	    pgnode_open_startup_log(n, &o.log_fd, e) < 0)
		return -1;
	rc = spawn_start(&o, pid, e);
	close(o.log_fd);
	if (rc < 0)
		return -1;
	pgnode_kid_add(*pid);
	log_info(PGNODE_LOG_CTX, "node %s: postmaster %d started", n->dir, (int)*pid);
	return 0;
}

/* The pid file names no live postmaster: clear what a crash left behind. */
static int pgnode_clear_stale(const struct pgnode *n, const struct pgnode_paths *p,
			      const struct pgnode_pidfile *pf, int64_t deadline, struct err *e)
{
	char path[PATH_MAX];

	log_warn(PGNODE_LOG_CTX, "node %s: removing stale postmaster.pid (pid %d)", n->dir,
		 (int)pf->pid);
	if (pgnode_kill_orphans(n->dir, p->data_real, deadline, e) < 0 ||
	    pgnode_join(path, sizeof(path), p->data, PGNODE_PIDFILE, e) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, ERR_INTERNAL_ERROR, "unlink %s failed: %s", path, pgnode_errname(errno));
	return 0;
}

int pgnode_start(const struct pgnode *n, int timeout_ms, struct err *e)
{
	int64_t deadline = pgnode_now_ms() + (timeout_ms > 0 ? timeout_ms : PGNODE_START_TIMEOUT_MS);
	struct pgnode_paths p;
	struct pgnode_pidfile pf;
	char version[PATH_MAX];
	pid_t pid;

	if (pgnode_paths(n, &p, true, e) < 0 ||
	    pgnode_join(version, sizeof(version), p.data, "PG_VERSION", e) < 0)
		return -1;
	if (!pgnode_fs_exists(version))
		return err_set(e, ERR_INTERNAL_ERROR, "node %s has no cluster", n->dir);
	pgnode_pidfile_settled(p.data, &pf, deadline);
	if (pf.present && pgnode_pid_live(pf.pid, p.data_real))
		return pgnode_wait_ready(n, &p, pf.pid, deadline, e);
	if (pf.present && pgnode_clear_stale(n, &p, &pf, deadline, e) < 0)
		return -1;
	if (pgnode_spawn(n, &p, &pid, e) < 0)
		return -1;
	return pgnode_wait_ready(n, &p, pid, deadline, e);
}

/* ---- stop, reload ------------------------------------------------------------------- */

int pgnode_stop(const struct pgnode *n, enum pgnode_stop_mode mode, int timeout_ms, struct err *e)
{
	int64_t deadline = pgnode_now_ms() + (timeout_ms > 0 ? timeout_ms : PGNODE_STOP_TIMEOUT_MS);
	int sig = mode == PGNODE_STOP_IMMEDIATE ? SIGQUIT : SIGINT;
	struct pgnode_state st;

	if (pgnode_status(n, &st, e) < 0)
		return -1;
	if (!st.running)
		return 0;
	if (kill(st.pid, sig) < 0 && errno != ESRCH)
		return err_set(e, ERR_INTERNAL_ERROR, "kill %d failed: %s", (int)st.pid,
			       pgnode_errname(errno));
	if (pgnode_wait_gone(st.pid, deadline) < 0) {
		log_error(PGNODE_LOG_CTX, "node %s: postmaster %d did not stop in time", n->dir,
			  (int)st.pid);
		return err_set(e, ERR_INTERNAL_ERROR, "the database server did not stop in time");
	}
	log_info(PGNODE_LOG_CTX, "node %s: postmaster %d stopped (%s)", n->dir, (int)st.pid,
		 mode == PGNODE_STOP_IMMEDIATE ? "immediate" : "fast");
	return 0;
}

int pgnode_reload(const struct pgnode *n, struct err *e)
{
	struct pgnode_state st;

	if (pgnode_status(n, &st, e) < 0)
		return -1;
	if (!st.running)
		return err_set(e, ERR_INTERNAL_ERROR, "the database server is not running");
	if (kill(st.pid, SIGHUP) < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "kill %d failed: %s", (int)st.pid,
			       pgnode_errname(errno));
	return 0;
}

int pgnode_proc_kill(const struct pgnode *n, struct err *e)
{
	int64_t deadline = pgnode_now_ms() + PGNODE_STOP_TIMEOUT_MS;
	struct pgnode_paths p;
	struct pgnode_pidfile pf;

	if (pgnode_paths(n, &p, false, e) < 0)
		return -1;
	pgnode_pidfile_read(p.data, &pf);
	if (pf.present && pgnode_pid_live(pf.pid, p.data_real)) {
		log_warn(PGNODE_LOG_CTX, "node %s: killing postmaster %d", n->dir, (int)pf.pid);
		kill(pf.pid, SIGKILL);
		if (pgnode_wait_gone(pf.pid, deadline) < 0)
			return err_set(e, ERR_INTERNAL_ERROR, "postmaster %d survives SIGKILL",
				       (int)pf.pid);
	}
	return pgnode_kill_orphans(n->dir, p.data_real, deadline, e);
}
