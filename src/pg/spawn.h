/*
 * spawn.h - the one place where pgfleet starts external programs.
 *
 * Every program (initdb, pg_ctl, postgres, psql, pg_basebackup, ...) runs
 * through here, as libuv's process.c starts children: an argv array with an
 * absolute argv[0] (never a shell), an environment built from an allow-list
 * (nothing is inherited except what the caller names), optionally a new
 * working directory and an unprivileged uid/gid, stdout and stderr captured
 * into bounded buffers, and a timeout after which the child's process group
 * gets SIGTERM, then SIGKILL after a grace period.
 *
 * The child is set up between fork() and execve() with async-signal-safe
 * calls only (the daemon is multi-threaded): signal dispositions reset to
 * default and the mask cleared, every descriptor above 2 closed at exec,
 * a new session (setsid) so that the whole group can be signalled, and the
 * identity dropped when asked. A failure of any of these steps or of
 * execve() itself is written back to the parent through a close-on-exec
 * pipe, so the caller gets "exec failed: ENOENT" instead of a mysterious
 * exit status 127.
 *
 * Waiting uses poll() on the pipes and on a pidfd for the child's exit (a
 * short poll slice with waitpid(WNOHANG) only where pidfds are missing);
 * there are no fixed sleeps. The calling process must not reap children it
 * did not start (no waitpid(-1, ...) elsewhere), or the exit status is lost.
 */
#ifndef PGFLEET_PG_SPAWN_H
#define PGFLEET_PG_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"

#define SPAWN_ARGV_MAX        256                /* argv entries, NULL excluded */
#define SPAWN_ENV_MAX         32                 /* env + env_pass entries */
#define SPAWN_ARG_BYTES_MAX   (256u * 1024u)     /* total argv + env bytes */
#define SPAWN_OUT_CAP_DEFAULT (64u * 1024u)      /* per stream, when cap is 0 */
#define SPAWN_OUT_CAP_MAX     (16u * 1024u * 1024u)
#define SPAWN_STDIN_MAX       (16u * 1024u * 1024u)
#define SPAWN_TIMEOUT_DEFAULT_MS 60000           /* when timeout_ms is 0 */
#define SPAWN_TIMEOUT_MAX_MS  (24 * 3600 * 1000)
#define SPAWN_GRACE_DEFAULT_MS 3000              /* SIGTERM -> SIGKILL */
#define SPAWN_PATH            "/usr/local/bin:/usr/bin:/bin"
#define SPAWN_LANG            "C.UTF-8"

struct spawn_opts {
	const char *const *argv;      /* NULL-terminated; argv[0] absolute path */
	const char *cwd;              /* NULL: inherit the daemon's */
	const char *const *env;       /* NULL or NULL-terminated "NAME=value" */
	const char *const *env_pass;  /* NULL or NULL-terminated names copied
	                                 from the daemon's environment if set */
	bool set_ids;                 /* run as uid/gid, supplementary groups
	                                 reduced to gid; needs root unless uid/gid
	                                 are already ours (then a no-op) */
	uid_t uid;
	gid_t gid;
	const void *stdin_data;       /* spawn_run only; NULL: stdin is /dev/null */
	size_t stdin_len;
	size_t out_cap;               /* per stream; 0: SPAWN_OUT_CAP_DEFAULT */
	int timeout_ms;               /* spawn_run only; 0: SPAWN_TIMEOUT_DEFAULT_MS */
	int grace_ms;                 /* 0: SPAWN_GRACE_DEFAULT_MS */
	int log_fd;                   /* spawn_start only: stdout+stderr go here;
	                                 -1 (or 0 from a zeroed struct): /dev/null */
};

struct spawn_result {
	pid_t pid;
	bool exited;                  /* normal exit: exit_code is valid */
	int exit_code;
	bool signaled;                /* killed: term_signal is valid */
	int term_signal;
	bool timed_out;               /* we killed it because of the timeout */
	int exec_errno;               /* set when the child could not be started */
	char *out;                    /* captured stdout, NUL-terminated, owned */
	size_t out_len;
	size_t out_dropped;           /* bytes discarded beyond the cap */
	char *err;                    /* captured stderr, same rules */
	size_t err_len;
	size_t err_dropped;
};

/* Run a program to completion (or until its timeout) and fill `r`.
 * Returns 0 when the program ran, whatever its exit status or whether it
 * timed out (check r->exited/exit_code/timed_out); returns -1 with
 * ERR_INVALID_PARAMETER_VALUE for bad options, or ERR_INTERNAL_ERROR when
 * the program could not be started ("exec failed: ENOENT"; r->exec_errno
 * holds the errno) or a system call failed. `r` is always initialised and
 * must be released with spawn_result_free(). */
int spawn_run(const struct spawn_opts *o, struct spawn_result *r, struct err *e);

/* Release the buffers of `r` (NULL-safe, idempotent). */
void spawn_result_free(struct spawn_result *r);

/* Start a long-running program (a postmaster) and return its pid in *pid
 * without waiting for it: stdin is /dev/null, stdout and stderr go to
 * o->log_fd (or /dev/null); stdin_data, out_cap and timeout_ms are ignored.
 * Returns 0 once execve() succeeded, -1 as spawn_run() when it did not. The
 * child leads its own process group (pgid == pid); reap it with
 * spawn_wait_nohang() or spawn_wait(). */
int spawn_start(const struct spawn_opts *o, pid_t *pid, struct err *e);

/* Reap `pid` if it has ended. Returns 1 and fills the exit fields of `r`
 * (pid, exited/exit_code, signaled/term_signal; no buffers) when it ended,
 * 0 when it still runs, -1 (ERR_INTERNAL_ERROR) when it is not our child. */
int spawn_wait_nohang(pid_t pid, struct spawn_result *r, struct err *e);

/* Wait for `pid` to end, at most timeout_ms (< 0: no limit), without
 * signalling it. Returns 1 and fills `r` as spawn_wait_nohang() when it
 * ended, 0 on timeout, -1 on error. */
int spawn_wait(pid_t pid, int timeout_ms, struct spawn_result *r, struct err *e);

/* Send `sig` to the process group led by `pid` (falling back to the process
 * alone if the group is gone). Returns 0, or -1 (ERR_INTERNAL_ERROR) when
 * neither exists. */
int spawn_signal(pid_t pid, int sig, struct err *e);

#endif
