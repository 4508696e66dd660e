/*
 * spawn.c - starting external programs (see spawn.h for the contract).
 *
 * How a start works, after libuv's src/unix/process.c:
 *   1. The parent validates the options and prepares everything the child
 *      needs (argv, envp, descriptors >= 3) so that the child only makes
 *      async-signal-safe calls: the daemon has threads, and after fork()
 *      only the forking thread exists - a lock held by another thread
 *      (malloc's, the logger's) would never be released.
 *   2. All signals are blocked around fork() so that no handler of the
 *      daemon runs in the child before dispositions are reset.
 *   3. The child resets signals, calls setsid(), moves its pipes onto
 *      0/1/2, marks every other descriptor close-on-exec, changes directory
 *      and identity, clears its signal mask and calls execve(). If a step
 *      fails it writes {stage, errno} into the error pipe (close-on-exec,
 *      so a successful exec closes it with nothing written) and _exit(127).
 *   4. The parent reads the error pipe to EOF: nothing means the program
 *      runs. spawn_run() then feeds stdin and drains stdout/stderr with
 *      poll(), and learns of the exit from a pidfd in the same poll set.
 */
#include "pg/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define SPAWN_READ_CHUNK     16384   /* bytes per read() from a pipe */
#define SPAWN_DRAIN_READS    1024    /* reads after the exit before giving up */
#define SPAWN_POLL_SLICE_MS  10      /* only without pidfd support */
#define SPAWN_FALLBACK_FDS   65536   /* descriptor scan limit without close_range */

/* The step of the child's setup that failed, sent back with its errno. */
enum spawn_stage {
	SPAWN_STAGE_SETSID = 1,
	SPAWN_STAGE_DUP,
	SPAWN_STAGE_CLOEXEC,
	SPAWN_STAGE_CHDIR,
	SPAWN_STAGE_SETGROUPS,
	SPAWN_STAGE_SETGID,
	SPAWN_STAGE_SETUID,
	SPAWN_STAGE_EXEC,
};

struct spawn_report {
	int stage;
	int err;
};

/* What the child needs, prepared by the parent before fork(). */
struct spawn_child {
	const char *path;
	char *const *argv;
	char *const *envp;
	const char *cwd;
	bool set_ids;
	uid_t uid;
	gid_t gid;
	int fd_in, fd_out, fd_err;  /* all >= 3; become 0, 1, 2 */
	int report_fd;              /* error pipe write end, >= 3, CLOEXEC */
	int max_fd;                 /* for the close-on-exec fallback loop */
};

/* The child's environment: pointers to the caller's strings or to `owned`. */
struct spawn_env {
	char *slots[SPAWN_ENV_MAX + 3];
	char *owned[SPAWN_ENV_MAX];
	size_t n, nowned;
};

/* Descriptors of one start, -1 when unused. Index 0 is the parent's end. */
struct spawn_fds {
	int report[2];
	int in[2];
	int out[2];
	int err[2];
	int devnull;
	int log;
};

struct spawn_buf {
	char *data;
	size_t len, cap, dropped;
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t spawn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *spawn_errname(int err)
{
	const char *name = strerrorname_np(err);

	return name != NULL ? name : "EUNKNOWN";
}

static void spawn_close(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Make sure `*fd` is >= 3 (so that moving pipes onto 0/1/2 in the child
 * never overwrites another of them) and close-on-exec. Returns 0 or -1. */
static int spawn_fd_high(int *fd)
{
	int nfd;

	if (*fd >= 3)
		return 0;
	nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

/* A close-on-exec pipe with both ends >= 3. */
static int spawn_pipe(int p[2], struct err *e)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "pipe failed: %s", spawn_errname(errno));
	if (spawn_fd_high(&p[0]) < 0 || spawn_fd_high(&p[1]) < 0) {
		int saved = errno;
		spawn_close(&p[0]);
		spawn_close(&p[1]);
		return err_set(e, ERR_INTERNAL_ERROR, "fcntl failed: %s", spawn_errname(saved));
	}
	return 0;
}

static int spawn_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static const char *spawn_stage_name(int stage)
{
	switch (stage) {
	case SPAWN_STAGE_SETSID: return "setsid";
	case SPAWN_STAGE_DUP: return "dup2";
	case SPAWN_STAGE_CLOEXEC: return "close_range";
	case SPAWN_STAGE_CHDIR: return "chdir";
	case SPAWN_STAGE_SETGROUPS: return "setgroups";
	case SPAWN_STAGE_SETGID: return "setgid";
	case SPAWN_STAGE_SETUID: return "setuid";
	case SPAWN_STAGE_EXEC: return "exec";
	default: return "child setup";
	}
}

/* ---- option checks and the environment ---------------------------------- */

/* A portable environment variable name: [A-Za-z_][A-Za-z0-9_]*, < 128. */
static bool spawn_env_name_ok(const char *s, size_t len)
{
	if (len == 0 || len >= 128 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* Validate argv: present, absolute argv[0], bounded count and size. */
static int spawn_check_argv(const char *const *argv, size_t *bytes, struct err *e)
{
	size_t n = 0;

	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/')
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "spawn: argv[0] must be an absolute path");
	for (; argv[n] != NULL; n++) {
		if (n >= SPAWN_ARGV_MAX)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "spawn: too many arguments");
		*bytes += strlen(argv[n]) + 1;
	}
	if (*bytes > SPAWN_ARG_BYTES_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "spawn: arguments too long");
	return 0;
}

/* Is a variable called name[0..len) already in env->slots? */
static bool spawn_env_has(const struct spawn_env *env, const char *name, size_t len)
{
	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->slots[i], name, len) == 0 && env->slots[i][len] == '=')
			return true;
	return false;
}

static int spawn_env_add(struct spawn_env *env, char *entry, struct err *e)
{
	size_t len = strcspn(entry, "=");

	if (entry[len] != '=' || !spawn_env_name_ok(entry, len))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "spawn: bad environment entry");
	if (spawn_env_has(env, entry, len))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "spawn: environment variable given twice");
	if (env->n >= SPAWN_ENV_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "spawn: too many environment variables");
	env->slots[env->n++] = entry;
	return 0;
}

/* Copy NAME=value from the daemon's environment when NAME is set there. */
static int spawn_env_pass(struct spawn_env *env, const char *name, struct err *e)
{
	size_t len = strlen(name);
	const char *val;
	char *entry;

	if (!spawn_env_name_ok(name, len))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "spawn: bad environment name");
	val = getenv(name);
	if (val == NULL || spawn_env_has(env, name, len))
		return 0;
	if (env->n >= SPAWN_ENV_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "spawn: too many environment variables");
	entry = malloc(len + strlen(val) + 2);
	if (entry == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	memcpy(entry, name, len);
	entry[len] = '=';
	memcpy(entry + len + 1, val, strlen(val) + 1);
	env->owned[env->nowned++] = entry;
	return spawn_env_add(env, entry, e);
}

static void spawn_env_free(struct spawn_env *env)
{
	for (size_t i = 0; i < env->nowned; i++)
		free(env->owned[i]);
	env->nowned = 0;
	env->n = 0;
}

/* Build the child's environment: the caller's entries, the passed-through
 * names, then PATH and LANG unless the caller set them. */
static int spawn_env_build(struct spawn_env *env, const struct spawn_opts *o, struct err *e)
{
	static char path_entry[] = "PATH=" SPAWN_PATH;
	static char lang_entry[] = "LANG=" SPAWN_LANG;

	memset(env, 0, sizeof(*env));
	for (size_t i = 0; o->env != NULL && o->env[i] != NULL; i++)
		if (spawn_env_add(env, (char *)o->env[i], e) < 0)
			goto fail;
	for (size_t i = 0; o->env_pass != NULL && o->env_pass[i] != NULL; i++)
		if (spawn_env_pass(env, o->env_pass[i], e) < 0)
			goto fail;
	if (!spawn_env_has(env, "PATH", 4))
		env->slots[env->n++] = path_entry;
	if (!spawn_env_has(env, "LANG", 4))
		env->slots[env->n++] = lang_entry;
	env->slots[env->n] = NULL;
	return 0;
fail:
	spawn_env_free(env);
	return -1;
}

/* ---- the child ---------------------------------------------------------- */

/* Report a failed setup step to the parent and exit. Async-signal-safe. */
__attribute__((noreturn))
static void spawn_child_fail(const struct spawn_child *c, int stage)
{
	struct spawn_report rep = { stage, errno };
	ssize_t w;

	do
		w = write(c->report_fd, &rep, sizeof(rep));
	while (w < 0 && errno == EINTR);
	_exit(127);
}

static void spawn_child_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		(void)sigaction(s, &sa, NULL); /* EINVAL for libc-reserved ones */
	}
}

/* Mark every descriptor above 2 close-on-exec (the pipes' originals and
 * whatever the daemon left open without O_CLOEXEC). */
static int spawn_child_cloexec(const struct spawn_child *c)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	for (int fd = 3; fd < c->max_fd; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC) && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
			return -1;
	}
	return 0;
}

/* Runs in the child after fork(): async-signal-safe calls only. */
__attribute__((noreturn))
static void spawn_child_exec(const struct spawn_child *c)
{
	sigset_t none;

	spawn_child_signals();
	if (setsid() < 0)
		spawn_child_fail(c, SPAWN_STAGE_SETSID);
	if (dup2(c->fd_in, 0) < 0 || dup2(c->fd_out, 1) < 0 || dup2(c->fd_err, 2) < 0)
		spawn_child_fail(c, SPAWN_STAGE_DUP);
	if (spawn_child_cloexec(c) < 0)
		spawn_child_fail(c, SPAWN_STAGE_CLOEXEC);
	if (c->cwd != NULL && chdir(c->cwd) < 0)
		spawn_child_fail(c, SPAWN_STAGE_CHDIR);
	if (c->set_ids) {
		if (setgroups(1, &c->gid) < 0)
			spawn_child_fail(c, SPAWN_STAGE_SETGROUPS);
		if (setgid(c->gid) < 0)
			spawn_child_fail(c, SPAWN_STAGE_SETGID);
		if (setuid(c->uid) < 0)
			spawn_child_fail(c, SPAWN_STAGE_SETUID);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(c->path, c->argv, c->envp);
	spawn_child_fail(c, SPAWN_STAGE_EXEC);
}

/* ---- the parent side of a start ----------------------------------------- */

static void spawn_fds_init(struct spawn_fds *f)
{
	f->report[0] = f->report[1] = -1;
	f->in[0] = f->in[1] = -1;
	f->out[0] = f->out[1] = -1;
	f->err[0] = f->err[1] = -1;
	f->devnull = -1;
	f->log = -1;
}

/* Close the ends the parent never uses (after fork, or on failure). */
static void spawn_fds_close_child(struct spawn_fds *f)
{
	spawn_close(&f->report[1]);
	spawn_close(&f->in[1]);
	spawn_close(&f->out[1]);
	spawn_close(&f->err[1]);
	spawn_close(&f->devnull);
	spawn_close(&f->log);
}

static void spawn_fds_close_all(struct spawn_fds *f)
{
	spawn_fds_close_child(f);
	spawn_close(&f->report[0]);
	spawn_close(&f->in[0]);
	spawn_close(&f->out[0]);
	spawn_close(&f->err[0]);
}

static int spawn_open_devnull(struct spawn_fds *f, struct err *e)
{
	f->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (f->devnull < 0 || spawn_fd_high(&f->devnull) < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open /dev/null failed: %s",
			       spawn_errname(errno));
	return 0;
}

/* Everything but the child's stdio descriptors, which the caller sets. */
static void spawn_child_fill(struct spawn_child *c, const struct spawn_opts *o,
			     const struct spawn_env *env, const struct spawn_fds *f)
{
	struct rlimit rl;

	c->path = o->argv[0];
	c->argv = (char *const *)o->argv;
	c->envp = env->slots;
	c->cwd = o->cwd;
	c->set_ids = o->set_ids && !(o->uid == geteuid() && o->gid == getegid());
	c->uid = o->uid;
	c->gid = o->gid;
	c->report_fd = f->report[1];
	c->max_fd = SPAWN_FALLBACK_FDS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)SPAWN_FALLBACK_FDS)
		c->max_fd = (int)rl.rlim_cur;
}

/* Read the error pipe to EOF. Returns 0 when exec succeeded, else the
 * child's report in *rep and 1; -1 if reading failed. */
static int spawn_read_report(int fd, struct spawn_report *rep)
{
	size_t got = 0;

	while (got < sizeof(*rep)) {
		ssize_t n = read(fd, (char *)rep + got, sizeof(*rep) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == 0)
		return 0;
	return got == sizeof(*rep) ? 1 : -1;
}

/* fork() with every signal blocked in this thread; the child never returns. */
static pid_t spawn_fork(const struct spawn_child *c)
{
	sigset_t all, old;
	pid_t pid;
	int saved;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		spawn_child_exec(c);
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

static void spawn_reap_blocking(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Fork and exec with the prepared descriptors; on return the child's ends
 * are closed. Returns 0 with *pid, or -1 (the child, if any, reaped). */
static int spawn_launch(const struct spawn_opts *o, struct spawn_fds *f, pid_t *pid,
			int *exec_errno, struct err *e)
{
	struct spawn_env env;
	struct spawn_child c;
	struct spawn_report rep;
	int rc;

	if (spawn_env_build(&env, o, e) < 0)
		return -1;
	if (spawn_pipe(f->report, e) < 0) {
		spawn_env_free(&env);
		return -1;
	}
	spawn_child_fill(&c, o, &env, f);
	c.fd_in = f->in[1] >= 0 ? f->in[1] : f->devnull;
	c.fd_out = f->out[1] >= 0 ? f->out[1] : (f->log >= 0 ? f->log : f->devnull);
	c.fd_err = f->err[1] >= 0 ? f->err[1] : (f->log >= 0 ? f->log : f->devnull);
	*pid = spawn_fork(&c);
	rc = *pid < 0 ? -1 : 0;
	if (rc < 0)
		err_set(e, ERR_INTERNAL_ERROR, "fork failed: %s", spawn_errname(errno));
	spawn_env_free(&env);
	spawn_fds_close_child(f);
	if (rc < 0)
		return -1;
	rc = spawn_read_report(f->report[0], &rep);
	spawn_close(&f->report[0]);
	if (rc == 0) {
		log_debug("spawn", "started %s as pid %d", o->argv[0], (int)*pid);
		return 0;
	}
	spawn_reap_blocking(*pid);
	if (rc < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "reading the child's report failed");
	*exec_errno = rep.err;
	log_warn("spawn", "%s: %s failed: %s", o->argv[0], spawn_stage_name(rep.stage),
		 strerror(rep.err));
	return err_set(e, ERR_INTERNAL_ERROR, "%s failed: %s", spawn_stage_name(rep.stage),
		       spawn_errname(rep.err));
}

static int spawn_check_opts(const struct spawn_opts *o, struct err *e)
{
	size_t bytes = 0;

	if (spawn_check_argv(o->argv, &bytes, e) < 0)
		return -1;
	if (o->cwd != NULL && o->cwd[0] == '\0')
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "spawn: empty cwd");
	if (o->out_cap > SPAWN_OUT_CAP_MAX || o->stdin_len > SPAWN_STDIN_MAX ||
	    (o->stdin_data == NULL && o->stdin_len > 0))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "spawn: bad buffer sizes");
	if (o->timeout_ms < 0 || o->timeout_ms > SPAWN_TIMEOUT_MAX_MS ||
	    o->grace_ms < 0 || o->grace_ms > SPAWN_TIMEOUT_MAX_MS)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "spawn: bad timeout");
	return 0;
}

/* ---- exit status -------------------------------------------------------- */

static void spawn_fill_status(struct spawn_result *r, pid_t pid, int status)
{
	r->pid = pid;
	r->exited = WIFEXITED(status);
	r->exit_code = r->exited ? WEXITSTATUS(status) : -1;
	r->signaled = WIFSIGNALED(status);
	r->term_signal = r->signaled ? WTERMSIG(status) : 0;
}

int spawn_wait_nohang(pid_t pid, struct spawn_result *r, struct err *e)
{
	int status;
	pid_t w;

	do
		w = waitpid(pid, &status, WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "waitpid %d failed: %s", (int)pid,
			       spawn_errname(errno));
	if (w == 0)
		return 0;
	spawn_fill_status(r, pid, status);
	return 1;
}

static int spawn_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		close(fd);
		return -1;
	}
	return fd;
#else
	(void)pid;
	return -1;
#endif
}

/* Milliseconds to wait in poll() until `deadline` (-1: none), capped to a
 * short slice when the exit cannot be polled for (no pidfd). */
static int spawn_poll_wait(int64_t deadline, bool have_pidfd)
{
	int64_t left = -1;

	if (deadline >= 0) {
		left = deadline - spawn_now_ms();
		if (left < 0)
			left = 0;
	}
	if (!have_pidfd && (left < 0 || left > SPAWN_POLL_SLICE_MS))
		left = SPAWN_POLL_SLICE_MS;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int spawn_wait(pid_t pid, int timeout_ms, struct spawn_result *r, struct err *e)
{
	int64_t deadline = timeout_ms < 0 ? -1 : spawn_now_ms() + timeout_ms;
	int pfd = spawn_pidfd_open(pid);
	int rc;

	for (;;) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		rc = spawn_wait_nohang(pid, r, e);
		if (rc != 0 || (deadline >= 0 && spawn_now_ms() >= deadline))
			break;
		if (poll(&p, pfd >= 0 ? 1 : 0, spawn_poll_wait(deadline, pfd >= 0)) < 0 &&
		    errno != EINTR) {
			rc = err_set(e, ERR_INTERNAL_ERROR, "poll failed: %s", spawn_errname(errno));
			break;
		}
	}
	spawn_close(&pfd);
	return rc;
}

int spawn_signal(pid_t pid, int sig, struct err *e)
{
	if (pid <= 0)
		return err_set(e, ERR_INTERNAL_ERROR, "spawn_signal: bad pid");
	if (kill(-pid, sig) == 0)
		return 0;
	/* The group does not exist yet (setsid() not reached) or any more. */
	if (errno == ESRCH && kill(pid, sig) == 0)
		return 0;
	return err_set(e, ERR_INTERNAL_ERROR, "kill %d failed: %s", (int)pid,
		       spawn_errname(errno));
}

/* ---- spawn_run: feeding and draining ----------------------------------- */

/* State of one spawn_run() after the start. */
struct spawn_io {
	pid_t pid;
	int pidfd;
	int in_fd, out_fd, err_fd;         /* parent ends, -1 once closed */
	const unsigned char *in;
	size_t in_len, in_off;
	struct spawn_buf out, err;
	bool reaped;
	int status;
	bool term_sent, kill_sent;
	int64_t deadline;                  /* next timeout action, -1: none */
	int grace_ms;
};

static int spawn_buf_init(struct spawn_buf *b, size_t cap)
{
	b->data = malloc(cap + 1);
	b->len = 0;
	b->cap = cap;
	b->dropped = 0;
	if (b->data == NULL)
		return -1;
	b->data[0] = '\0';
	return 0;
}

/* Read what `*fd` has now into `b` (beyond the cap: counted, discarded).
 * Closes *fd at EOF or on error. */
static void spawn_drain(int *fd, struct spawn_buf *b)
{
	char scratch[SPAWN_READ_CHUNK];

	for (int i = 0; i < SPAWN_DRAIN_READS && *fd >= 0; i++) {
		size_t room = b->cap - b->len;
		char *dst = room > 0 ? b->data + b->len : scratch;
		size_t want = room > 0 ? (room < sizeof(scratch) ? room : sizeof(scratch))
				       : sizeof(scratch);
		ssize_t n = read(*fd, dst, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			spawn_close(fd);
			return;
		}
		if (room > 0)
			b->len += (size_t)n;
		else
			b->dropped += (size_t)n;
	}
}

/* Write the next piece of stdin; close it when done or when the child
 * stopped reading (EPIPE, SIGPIPE being blocked in this thread). */
static void spawn_feed(struct spawn_io *io)
{
	ssize_t n;

	if (io->in_off < io->in_len) {
		n = write(io->in_fd, io->in + io->in_off, io->in_len - io->in_off);
		if (n > 0)
			io->in_off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			io->in_off = io->in_len;
	}
	if (io->in_off >= io->in_len)
		spawn_close(&io->in_fd);
}

static void spawn_try_reap(struct spawn_io *io)
{
	pid_t w;

	do
		w = waitpid(io->pid, &io->status, WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w == io->pid)
		io->reaped = true;
}

/* On reaching the deadline: SIGTERM the group, then SIGKILL after the
 * grace period, then give up waiting after one more grace period. Returns
 * -1 when giving up. */
static int spawn_on_deadline(struct spawn_io *io, struct err *e)
{
	if (io->deadline < 0 || spawn_now_ms() < io->deadline)
		return 0;
	if (!io->term_sent) {
		log_warn("spawn", "pid %d timed out, sending SIGTERM", (int)io->pid);
		(void)spawn_signal(io->pid, SIGTERM, NULL);
		io->term_sent = true;
	} else if (!io->kill_sent) {
		log_warn("spawn", "pid %d still running, sending SIGKILL", (int)io->pid);
		(void)spawn_signal(io->pid, SIGKILL, NULL);
		io->kill_sent = true;
	} else {
		log_error("spawn", "pid %d did not exit after SIGKILL", (int)io->pid);
		return err_set(e, ERR_INTERNAL_ERROR, "child did not exit after SIGKILL");
	}
	io->deadline = spawn_now_ms() + io->grace_ms;
	return 0;
}

/* One poll() round over stdin, stdout, stderr and the pidfd. */
static int spawn_io_round(struct spawn_io *io, struct err *e)
{
	struct pollfd p[4];
	int n = 0, rc;

	p[n++] = (struct pollfd){ .fd = io->in_fd, .events = POLLOUT };
	p[n++] = (struct pollfd){ .fd = io->out_fd, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = io->err_fd, .events = POLLIN };
	p[n++] = (struct pollfd){ .fd = io->pidfd, .events = POLLIN };
	rc = poll(p, (nfds_t)n, spawn_poll_wait(io->deadline, io->pidfd >= 0));
	if (rc < 0 && errno != EINTR)
		return err_set(e, ERR_INTERNAL_ERROR, "poll failed: %s", spawn_errname(errno));
	if (rc > 0 && p[0].revents != 0)
		spawn_feed(io);
	if (rc > 0 && p[1].revents != 0)
		spawn_drain(&io->out_fd, &io->out);
	if (rc > 0 && p[2].revents != 0)
		spawn_drain(&io->err_fd, &io->err);
	if (io->pidfd < 0 || (rc > 0 && p[3].revents != 0))
		spawn_try_reap(io);
	return spawn_on_deadline(io, e);
}

/* Run the I/O loop until the child is reaped; then take what is left in
 * the pipes without waiting for EOF (a grandchild may hold them open). */
static int spawn_io_loop(struct spawn_io *io, struct err *e)
{
	while (!io->reaped)
		if (spawn_io_round(io, e) < 0)
			return -1;
	spawn_drain(&io->out_fd, &io->out);
	spawn_drain(&io->err_fd, &io->err);
	return 0;
}

static void spawn_io_close(struct spawn_io *io)
{
	spawn_close(&io->pidfd);
	spawn_close(&io->in_fd);
	spawn_close(&io->out_fd);
	spawn_close(&io->err_fd);
}

/* Hand the buffers and the status over to the result. */
static void spawn_io_result(struct spawn_io *io, struct spawn_result *r)
{
	io->out.data[io->out.len] = '\0';
	io->err.data[io->err.len] = '\0';
	r->out = io->out.data;
	r->out_len = io->out.len;
	r->out_dropped = io->out.dropped;
	r->err = io->err.data;
	r->err_len = io->err.len;
	r->err_dropped = io->err.dropped;
	r->timed_out = io->term_sent;
	io->out.data = io->err.data = NULL;
	if (io->reaped)
		spawn_fill_status(r, io->pid, io->status);
}

/* Block SIGPIPE in this thread for the duration of a run, so that writing
 * to a child that stopped reading gives EPIPE instead of killing us. */
static void spawn_sigpipe_block(sigset_t *old, bool *was_pending)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	*was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, old);
}

static void spawn_sigpipe_restore(const sigset_t *old, bool was_pending)
{
	sigset_t pipe_set, pending;
	struct timespec zero = { 0, 0 };

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	if (!was_pending && sigismember(&pending, SIGPIPE) == 1)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Create the pipes of a run; parent ends non-blocking. */
static int spawn_run_fds(const struct spawn_opts *o, struct spawn_fds *f, struct err *e)
{
	if (spawn_pipe(f->out, e) < 0 || spawn_pipe(f->err, e) < 0)
		return -1;
	if (o->stdin_data != NULL) {
		int tmp;
		if (spawn_pipe(f->in, e) < 0)
			return -1;
		tmp = f->in[0]; /* the parent writes, the child reads */
		f->in[0] = f->in[1];
		f->in[1] = tmp;
	} else if (spawn_open_devnull(f, e) < 0) {
		return -1;
	}
	if (spawn_set_nonblock(f->out[0]) < 0 || spawn_set_nonblock(f->err[0]) < 0 ||
	    (f->in[1] >= 0 && spawn_set_nonblock(f->in[0]) < 0))
		return err_set(e, ERR_INTERNAL_ERROR, "fcntl failed: %s", spawn_errname(errno));
	return 0;
}

static void spawn_io_init(struct spawn_io *io, const struct spawn_opts *o, struct spawn_fds *f,
			  pid_t pid)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : SPAWN_TIMEOUT_DEFAULT_MS;

	io->pid = pid;
	io->pidfd = spawn_pidfd_open(pid);
	io->in_fd = f->in[0];
	io->out_fd = f->out[0];
	io->err_fd = f->err[0];
	f->in[0] = f->out[0] = f->err[0] = -1;
	io->in = o->stdin_data;
	io->in_len = o->stdin_len;
	io->grace_ms = o->grace_ms > 0 ? o->grace_ms : SPAWN_GRACE_DEFAULT_MS;
	io->deadline = spawn_now_ms() + timeout;
	if (io->in_fd >= 0 && io->in_len == 0)
		spawn_close(&io->in_fd);
}

static int spawn_run_started(const struct spawn_opts *o, struct spawn_fds *f, pid_t pid,
			     struct spawn_result *r, struct err *e)
{
	struct spawn_io io;
	size_t cap = o->out_cap > 0 ? o->out_cap : SPAWN_OUT_CAP_DEFAULT;
	int rc = -1;

	memset(&io, 0, sizeof(io));
	spawn_io_init(&io, o, f, pid);
	if (spawn_buf_init(&io.out, cap) < 0 || spawn_buf_init(&io.err, cap) < 0)
		err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	else
		rc = spawn_io_loop(&io, e);
	if (rc < 0 && !io.reaped && !io.kill_sent)
		(void)spawn_signal(pid, SIGKILL, NULL);
	if (rc < 0 && !io.reaped && !io.kill_sent)
		spawn_reap_blocking(pid);
	spawn_io_close(&io);
	if (io.out.data != NULL && io.err.data != NULL)
		spawn_io_result(&io, r);
	free(io.out.data);
	free(io.err.data);
	return rc;
}

int spawn_run(const struct spawn_opts *o, struct spawn_result *r, struct err *e)
{
	struct spawn_fds f;
	sigset_t old;
	bool was_pending;
	pid_t pid;
	int rc;

	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	if (spawn_check_opts(o, e) < 0)
		return -1;
	spawn_fds_init(&f);
	spawn_sigpipe_block(&old, &was_pending);
	rc = spawn_run_fds(o, &f, e);
	if (rc == 0)
		rc = spawn_launch(o, &f, &pid, &r->exec_errno, e);
	if (rc == 0) {
		r->pid = pid;
		rc = spawn_run_started(o, &f, pid, r, e);
	}
	spawn_fds_close_all(&f);
	spawn_sigpipe_restore(&old, was_pending);
	return rc;
}

void spawn_result_free(struct spawn_result *r)
{
	if (r == NULL)
		return;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}

int spawn_start(const struct spawn_opts *o, pid_t *pid, struct err *e)
{
	struct spawn_fds f;
	int exec_errno = 0;
	int rc;

	*pid = -1;
	if (spawn_check_opts(o, e) < 0)
		return -1;
	spawn_fds_init(&f);
	rc = spawn_open_devnull(&f, e);
	if (rc == 0 && o->log_fd > 0) {
		f.log = fcntl(o->log_fd, F_DUPFD_CLOEXEC, 3);
		if (f.log < 0)
			rc = err_set(e, ERR_INTERNAL_ERROR, "bad log descriptor: %s",
				     spawn_errname(errno));
	}
	if (rc == 0)
		rc = spawn_launch(o, &f, pid, &exec_errno, e);
	spawn_fds_close_all(&f);
	if (rc < 0)
		*pid = -1;
	return rc;
}
