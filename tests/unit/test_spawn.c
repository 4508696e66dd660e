/* test_spawn.c - the process-spawning module: exit codes, bounded output
 * capture, stdin, timeouts, exec failures, the environment allow-list,
 * descriptor hygiene, identity drop and long-running children. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "pg/spawn.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run argv with default options; assert it started. */
static void run_ok(const char *const *argv, struct spawn_result *r)
{
	struct spawn_opts o = { .argv = argv };
	struct err e;

	err_clear(&e);
	assert_int_equal(spawn_run(&o, r, &e), 0);
}

static void test_true_false(void **state)
{
	const char *const t[] = { "/usr/bin/true", NULL };
	const char *const f[] = { "/usr/bin/false", NULL };
	struct spawn_result r;

	run_ok(t, &r);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.signaled);
	assert_false(r.timed_out);
	assert_true(r.pid > 0);
	spawn_result_free(&r);
	run_ok(f, &r);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 1);
	spawn_result_free(&r);
	spawn_result_free(&r); /* idempotent */
	spawn_result_free(NULL);
}

static void test_capture_stdout_stderr(void **state)
{
	const char *const argv[] = { "/usr/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct spawn_result r;

	run_ok(argv, &r);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 3);
	assert_string_equal(r.out, "out\n");
	assert_int_equal(r.out_len, 4);
	assert_string_equal(r.err, "err\n");
	assert_int_equal(r.out_dropped, 0);
	spawn_result_free(&r);
}

static void test_truncation_at_cap(void **state)
{
	const char *const argv[] = { "/usr/bin/head", "-c", "300000", "/dev/zero", NULL };
	struct spawn_opts o = { .argv = argv, .out_cap = 1000 };
	struct spawn_result r;
	struct err e;

	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.out_len, 1000);
	assert_int_equal(r.out_dropped, 300000 - 1000);
	assert_int_equal(r.err_len, 0);
	spawn_result_free(&r);

	/* The default cap applies when none is given. */
	o.out_cap = 0;
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_int_equal(r.out_len, SPAWN_OUT_CAP_DEFAULT);
	assert_int_equal(r.out_dropped, 300000 - SPAWN_OUT_CAP_DEFAULT);
	spawn_result_free(&r);
}

static void test_stdin_feeding(void **state)
{
	const char *const cat[] = { "/usr/bin/cat", NULL };
	const char *const wc[] = { "/usr/bin/wc", "-c", NULL };
	size_t n = 200000;
	char *in = malloc(n);
	struct spawn_opts o = { .argv = cat, .out_cap = 256 * 1024 };
	struct spawn_result r;
	struct err e;

	assert_non_null(in);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	/* Larger than a pipe buffer both ways: feeding and draining interleave. */
	o.stdin_data = in;
	o.stdin_len = n;
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.out_len, n);
	assert_memory_equal(r.out, in, n);
	spawn_result_free(&r);

	o.argv = wc;
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_string_equal(r.out, "200000\n");
	spawn_result_free(&r);

	/* Empty stdin: EOF at once. */
	o.stdin_len = 0;
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_string_equal(r.out, "0\n");
	spawn_result_free(&r);
	free(in);
}

static void test_stdin_child_stops_reading(void **state)
{
	const char *const argv[] = { "/usr/bin/true", NULL };
	size_t n = 4 * 1024 * 1024;
	char *in = calloc(1, n);
	struct spawn_opts o = { .argv = argv, .stdin_data = in, .stdin_len = n };
	struct spawn_result r;
	struct err e;

	/* The child exits without reading: EPIPE, not a SIGPIPE death. */
	assert_non_null(in);
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 0);
	spawn_result_free(&r);
	free(in);
}

static void test_timeout_sigterm(void **state)
{
	const char *const argv[] = { "/usr/bin/sleep", "10", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 200, .grace_ms = 2000 };
	struct spawn_result r;
	struct err e;
	int64_t t0 = now_ms();

	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_true(now_ms() - t0 < 200 + 2000);
	assert_true(r.timed_out);
	assert_true(r.signaled);
	assert_int_equal(r.term_signal, SIGTERM);
	assert_false(r.exited);
	spawn_result_free(&r);
}

static void test_timeout_sigkill(void **state)
{
	/* Both the shell and its sleep ignore SIGTERM; the group gets SIGKILL. */
	const char *const argv[] = { "/usr/bin/sh", "-c", "trap '' TERM; /usr/bin/sleep 10", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 200, .grace_ms = 300 };
	struct spawn_result r;
	struct err e;
	int64_t t0 = now_ms();

	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_true(now_ms() - t0 < 200 + 300 + 1000);
	assert_true(r.timed_out);
	assert_true(r.signaled);
	assert_int_equal(r.term_signal, SIGKILL);
	spawn_result_free(&r);
}

static void test_exec_failure(void **state)
{
	const char *const missing[] = { "/nonexistent/pgfleet-no-such-binary", NULL };
	char notexec_path[] = "/tmp/pgfleet-spawn-noexec-XXXXXX";
	int fd = mkstemp(notexec_path); /* mode 0600: no execute bit */
	const char *const notexec[] = { notexec_path, NULL };
	struct spawn_opts o = { .argv = missing };
	struct spawn_result r;
	struct err e;
	pid_t pid;

	assert_true(fd >= 0);
	close(fd);

	err_clear(&e);
	assert_int_equal(spawn_run(&o, &r, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);
	assert_string_equal(e.msg, "exec failed: ENOENT");
	assert_int_equal(r.exec_errno, ENOENT);
	spawn_result_free(&r);

	o.argv = notexec;
	assert_int_equal(spawn_run(&o, &r, &e), -1);
	assert_int_equal(r.exec_errno, EACCES);
	assert_string_equal(e.msg, "exec failed: EACCES");
	spawn_result_free(&r);
	unlink(notexec_path);

	o.argv = missing;
	assert_int_equal(spawn_start(&o, &pid, &e), -1);
	assert_int_equal(pid, -1);
	assert_string_equal(e.msg, "exec failed: ENOENT");
}

static void test_bad_options(void **state)
{
	const char *const relative[] = { "true", NULL };
	const char *const ok[] = { "/usr/bin/true", NULL };
	const char *const bad_env[] = { "NO_EQUALS_SIGN", NULL };
	const char *const bad_name[] = { "1X=y", NULL };
	const char *const dup_env[] = { "A=1", "A=2", NULL };
	struct spawn_opts o = { .argv = relative };
	struct spawn_result r;
	struct err e;

	assert_int_equal(spawn_run(&o, &r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	o.argv = NULL;
	assert_int_equal(spawn_run(&o, &r, &e), -1);
	o.argv = ok;
	o.env = bad_env;
	assert_int_equal(spawn_run(&o, &r, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	o.env = bad_name;
	assert_int_equal(spawn_run(&o, &r, &e), -1);
	o.env = dup_env;
	assert_int_equal(spawn_run(&o, &r, &e), -1);
	o.env = NULL;
	o.timeout_ms = -1;
	assert_int_equal(spawn_run(&o, &r, &e), -1);
	spawn_result_free(&r);
}

static void test_env_allow_list(void **state)
{
	const char *const argv[] = { "/usr/bin/env", NULL };
	const char *const env[] = { "PGDATA=/tmp/x", "TZ=UTC", NULL };
	const char *const pass[] = { "PGFLEET_TEST_PASS", "PGFLEET_TEST_UNSET", NULL };
	struct spawn_opts o = { .argv = argv, .env = env, .env_pass = pass };
	struct spawn_result r;
	struct err e;

	setenv("PGFLEET_TEST_SECRET", "leak", 1);
	setenv("PGFLEET_TEST_PASS", "passed", 1);
	unsetenv("PGFLEET_TEST_UNSET");
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_string_equal(r.out, "PGDATA=/tmp/x\nTZ=UTC\nPGFLEET_TEST_PASS=passed\n"
			    "PATH=" SPAWN_PATH "\nLANG=C.UTF-8\n");
	spawn_result_free(&r);

	/* The caller may override PATH/LANG; no duplicates. */
	const char *const env2[] = { "LANG=C", NULL };
	o.env = env2;
	o.env_pass = NULL;
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_string_equal(r.out, "LANG=C\nPATH=" SPAWN_PATH "\n");
	spawn_result_free(&r);
	unsetenv("PGFLEET_TEST_SECRET");
	unsetenv("PGFLEET_TEST_PASS");
}

static void test_fd_hygiene(void **state)
{
	const char *const argv[] = { "/usr/bin/ls", "/proc/self/fd", NULL };
	struct spawn_opts o = { .argv = argv };
	struct spawn_result r;
	struct err e;
	int leak = open("/dev/null", O_RDONLY); /* deliberately not O_CLOEXEC */

	assert_true(leak >= 0);
	assert_int_equal(dup2(leak, 57), 57);
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	/* 0-2 are the child's stdio; 3 is ls's own handle on the directory. */
	assert_string_equal(r.out, "0\n1\n2\n3\n");
	spawn_result_free(&r);
	close(57);
	close(leak);
}

/* Descriptors open in this process right now. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static void test_no_parent_fd_leak(void **state)
{
	const char *const ok[] = { "/usr/bin/true", NULL };
	const char *const missing[] = { "/nonexistent/x", NULL };
	struct spawn_opts o = { .argv = ok, .stdin_data = "x", .stdin_len = 1 };
	struct spawn_result r;
	struct err e;
	int before = count_fds();

	for (int i = 0; i < 20; i++) {
		o.argv = i % 2 ? ok : missing;
		(void)spawn_run(&o, &r, &e);
		spawn_result_free(&r);
	}
	assert_int_equal(count_fds(), before);
}

#define THREADS 6
#define RUNS_PER_THREAD 15

static void *thread_main(void *arg)
{
	char word[32];
	const char *const argv[] = { "/usr/bin/echo", word, NULL };
	struct spawn_opts o = { .argv = argv };
	struct spawn_result r;
	struct err e;
	intptr_t failures = 0;

	for (int i = 0; i < RUNS_PER_THREAD; i++) {
		snprintf(word, sizeof(word), "t%d-%d", (int)(intptr_t)arg, i);
		if (spawn_run(&o, &r, &e) != 0 || r.exit_code != 0 ||
		    strncmp(r.out, word, strlen(word)) != 0 || r.out[strlen(word)] != '\n')
			failures++;
		spawn_result_free(&r);
	}
	return (void *)failures;
}

static void test_threads(void **state)
{
	pthread_t t[THREADS];
	void *res;

	for (intptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, (void *)i), 0);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &res), 0);
		assert_int_equal((intptr_t)res, 0);
	}
}

static void test_cwd(void **state)
{
	const char *const argv[] = { "/usr/bin/pwd", NULL };
	struct spawn_opts o = { .argv = argv, .cwd = "/tmp" };
	struct spawn_result r;
	struct err e;

	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_string_equal(r.out, "/tmp\n");
	spawn_result_free(&r);
	o.cwd = "/nonexistent-dir";
	assert_int_equal(spawn_run(&o, &r, &e), -1);
	assert_string_equal(e.msg, "chdir failed: ENOENT");
	spawn_result_free(&r);
}

static void test_signals_reset(void **state)
{
	/* An ignored SIGTERM in the daemon must not be inherited. */
	const char *const argv[] = { "/usr/bin/sleep", "10", NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = 100, .grace_ms = 5000 };
	struct spawn_result r;
	struct err e;
	void (*old)(int) = signal(SIGTERM, SIG_IGN);

	assert_int_equal(spawn_run(&o, &r, &e), 0);
	signal(SIGTERM, old);
	assert_true(r.signaled);
	assert_int_equal(r.term_signal, SIGTERM);
	spawn_result_free(&r);
}

static void test_set_ids(void **state)
{
	const char *const argv[] = { "/usr/bin/id", NULL };
	struct spawn_opts o = { .argv = argv, .set_ids = true, .uid = 65534, .gid = 65534 };
	struct spawn_result r;
	struct err e;

	if (geteuid() != 0)
		skip();
	assert_int_equal(spawn_run(&o, &r, &e), 0);
	assert_int_equal(r.exit_code, 0);
	assert_non_null(strstr(r.out, "uid=65534"));
	assert_non_null(strstr(r.out, "gid=65534"));
	assert_non_null(strstr(r.out, "groups=65534"));
	assert_null(strstr(r.out, "groups=0"));
	spawn_result_free(&r);
}

static void test_start_and_signal(void **state)
{
	const char *const argv[] = { "/usr/bin/sleep", "10", NULL };
	struct spawn_opts o = { .argv = argv, .log_fd = -1 };
	struct spawn_result r;
	struct err e;
	pid_t pid;

	assert_int_equal(spawn_start(&o, &pid, &e), 0);
	assert_true(pid > 0);
	assert_int_equal(spawn_wait_nohang(pid, &r, &e), 0);
	assert_int_equal(spawn_wait(pid, 50, &r, &e), 0); /* still running */
	assert_int_equal(getpgid(pid), pid);              /* leads its group */
	assert_int_equal(spawn_signal(pid, SIGTERM, &e), 0);
	assert_int_equal(spawn_wait(pid, 5000, &r, &e), 1);
	assert_true(r.signaled);
	assert_int_equal(r.term_signal, SIGTERM);
	assert_int_equal(spawn_wait_nohang(pid, &r, &e), -1); /* reaped */
}

static void test_start_log_fd(void **state)
{
	const char *const argv[] = { "/usr/bin/sh", "-c", "echo hello; echo oops >&2; exit 4", NULL };
	char path[] = "/tmp/pgfleet-spawn-log-XXXXXX";
	int fd = mkstemp(path);
	struct spawn_opts o = { .argv = argv, .log_fd = fd };
	struct spawn_result r;
	struct err e;
	char buf[64] = "";
	pid_t pid;

	assert_true(fd >= 0);
	assert_int_equal(spawn_start(&o, &pid, &e), 0);
	assert_int_equal(spawn_wait(pid, -1, &r, &e), 1);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 4);
	assert_int_equal(pread(fd, buf, sizeof(buf) - 1, 0), 11);
	assert_string_equal(buf, "hello\noops\n");
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_true_false),
		cmocka_unit_test(test_capture_stdout_stderr),
		cmocka_unit_test(test_truncation_at_cap),
		cmocka_unit_test(test_stdin_feeding),
		cmocka_unit_test(test_stdin_child_stops_reading),
		cmocka_unit_test(test_timeout_sigterm),
		cmocka_unit_test(test_timeout_sigkill),
		cmocka_unit_test(test_exec_failure),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_env_allow_list),
		cmocka_unit_test(test_fd_hygiene),
		cmocka_unit_test(test_no_parent_fd_leak),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_signals_reset),
		cmocka_unit_test(test_set_ids),
		cmocka_unit_test(test_start_and_signal),
		cmocka_unit_test(test_start_log_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
