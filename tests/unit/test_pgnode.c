/*
 * test_pgnode.c - PostgreSQL nodes against the real server binaries: the OS
 * user, the template (made once, then instant), node creation (idempotent,
 * redone after a partial copy), configuration files, start/status/reload/
 * stop, data kept across restarts, recovery after kill -9 of the
 * postmaster, a server that fails to start, removal, input validation, and
 * timings (template copy, start-to-ready, create-to-first-query; medians
 * of 5) printed for the record.
 *
 * Everything lives in a temporary directory under /tmp (0711, so that the
 * node user can reach it); nodes listen on a free 127.77.x.y address.
 * Skipped with a message when /usr/lib/postgresql/15/bin/postgres is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pg/pgnode.h"
#include "pg/pgnode_int.h"
#include "pg/pgsql.h"
#include "pg/spawn.h"

#define TEST_BIN_DIR "/usr/lib/postgresql/15/bin"
#define TEST_TIMING_RUNS 5

static struct {
	char root[128];
	char templates[256];
	char nodes[256];
	char tpl_data[PATH_MAX];
	char password[128];
	struct pgnode_user user;
	int addr_seq;
} g;

static const struct pgnode_conf test_conf = { .memory_mb = 1024, .cpu = 2, .storage_gb = 10 };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Can a listener bind addr:port? (nothing else is using it) */
static int addr_free(const char *addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, ok;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Fill a node named `name` on a free loopback address. */
static void node_init(struct pgnode *n, const char *name)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "%s/%s", g.nodes, name);
	snprintf(n->bin_dir, sizeof(n->bin_dir), "%s", TEST_BIN_DIR);
	n->port = 5432;
	n->user = &g.user;
	for (int i = 0; i < 1000; i++) {
		int v = (int)(getpid() % 200) * 250 + g.addr_seq++;
		snprintf(n->listen_addr, sizeof(n->listen_addr), "127.77.%hhu.%hhu",
			 (unsigned char)((v / 250) % 250 + 1), (unsigned char)(v % 250 + 1));
		if (addr_free(n->listen_addr, n->port))
			return;
	}
	fail_msg("no free loopback address");
}

static PGconn *connect_as(const struct pgnode *n, const char *user, const char *password)
{
	struct pgsql_target t = { .host = n->listen_addr, .port = n->port, .user = user,
				  .password = password };
	PGconn *c = NULL;
	struct err e;

	if (pgsql_connect(&t, &c, &e) < 0)
		return NULL;
	return c;
}

static char *query1(PGconn *c, const char *sql)
{
	PGresult *r = NULL;
	struct err e;
	char *v;

	assert_int_equal(pgsql_exec(c, sql, 0, NULL, &r, &e), 0);
	assert_int_equal(PQntuples(r), 1);
	v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static void exec_ok(PGconn *c, const char *sql)
{
	struct err e;

	assert_int_equal(pgsql_exec(c, sql, 0, NULL, NULL, &e), 0);
}

static int group_setup(void **state)
{
	struct err e;

	snprintf(g.root, sizeof(g.root), "/tmp/pgnode-test-XXXXXX");
	if (mkdtemp(g.root) == NULL || chmod(g.root, 0711) < 0)
		return -1;
	snprintf(g.templates, sizeof(g.templates), "%s/templates", g.root);
	snprintf(g.nodes, sizeof(g.nodes), "%s/nodes", g.root);
	if (mkdir(g.nodes, 0711) < 0)
		return -1;
	if (pgnode_user_ensure(&g.user, &e) < 0) {
		fprintf(stderr, "user: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct err e;

	pgnode_reap_children();
	if (pgnode_fs_remove_tree(g.root, &e) < 0)
		fprintf(stderr, "cleanup of %s failed: %s\n", g.root, e.msg);
	return 0;
}

/* ---- user and template ------------------------------------------------------ */

static void test_user(void **state)
{
	struct pgnode_user u;
	struct err e;

	assert_int_equal(pgnode_user_ensure(&u, &e), 0);
	if (geteuid() == 0) {
		assert_true(u.set_ids);
		assert_string_equal(u.name, PGNODE_USER);
		assert_true(u.uid != 0);
		assert_true(u.gid != 0);
	} else {
		assert_false(u.set_ids);
		assert_int_equal(u.uid, geteuid());
	}
	/* a second call finds the same user */
	assert_int_equal(pgnode_user_ensure(&g.user, &e), 0);
	assert_int_equal(g.user.uid, u.uid);
}

static void test_template(void **state)
{
	char again[PATH_MAX], pwfile[PATH_MAX + 32];
	struct err e;
	struct stat st;
	double t0, t1, t2;

	t0 = now_us();
	assert_int_equal(pgnode_template_ensure(g.templates, TEST_BIN_DIR, "UTF8", &g.user, g.tpl_data,
						sizeof(g.tpl_data), &e), 0);
	t1 = now_us();
	assert_int_equal(pgnode_template_ensure(g.templates, TEST_BIN_DIR, "UTF8", &g.user, again,
						sizeof(again), &e), 0);
	t2 = now_us();
	assert_string_equal(g.tpl_data, again);
	printf("TIMING template initdb: %.1f ms; second ensure: %.3f ms\n", (t1 - t0) / 1e3,
	       (t2 - t1) / 1e3);
	assert_true(t2 - t1 < 50e3);
	assert_int_equal(pgnode_template_password(g.tpl_data, g.password, sizeof(g.password), &e), 0);
	assert_true(strlen(g.password) >= 32);
	snprintf(pwfile, sizeof(pwfile), "%s/../superuser.pw", g.tpl_data);
	assert_int_equal(stat(pwfile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(stat(g.tpl_data, &st), 0);
	assert_int_equal(st.st_uid, g.user.uid);
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_template_redone_when_half_made(void **state)
{
	char data[PATH_MAX], ready[PATH_MAX + 16], junk[PATH_MAX + 16];
	struct err e;
	int fd;

	/* a half-made template (no READY) of another encoding */
	assert_int_equal(pgnode_template_ensure(g.templates, TEST_BIN_DIR, "LATIN1", &g.user, data,
						sizeof(data), &e), 0);
	snprintf(ready, sizeof(ready), "%s/../READY", data);
	snprintf(junk, sizeof(junk), "%s/junk", data);
	assert_int_equal(unlink(ready), 0);
	fd = open(junk, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pgnode_template_ensure(g.templates, TEST_BIN_DIR, "LATIN1", &g.user, data,
						sizeof(data), &e), 0);
	assert_true(access(ready, F_OK) == 0);
	assert_true(access(junk, F_OK) < 0);
	/* bad inputs */
	assert_int_equal(pgnode_template_ensure(g.templates, TEST_BIN_DIR, "UTF8'; x", &g.user, data,
						sizeof(data), &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	assert_int_equal(pgnode_template_ensure(g.templates, TEST_BIN_DIR, NULL, &g.user, data,
						sizeof(data), &e), -1);
	assert_int_equal(pgnode_template_password(NULL, data, sizeof(data), &e), -1);
	assert_int_equal(pgnode_template_ensure(g.templates, TEST_BIN_DIR, "NO_SUCH_ENCODING", &g.user,
						data, sizeof(data), &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);
}

/* ---- one node's life ----------------------------------------------------------- */

static void assert_state(const struct pgnode *n, bool running)
{
	struct pgnode_state st;
	struct err e;

	assert_int_equal(pgnode_status(n, &st, &e), 0);
	assert_int_equal(st.running, running);
	assert_int_equal(st.ready, running);
	if (running)
		assert_true(st.pid > 0);
}

static void check_config_files(const struct pgnode *n)
{
	char path[PATH_MAX + 32], buf[65536], want[128];
	struct err e;
	size_t len;
	const char *p;

	snprintf(path, sizeof(path), "%s/data/pgfleet.conf", n->dir);
	assert_int_equal(pgnode_fs_read(path, buf, sizeof(buf), &len, NULL, &e), 0);
	snprintf(want, sizeof(want), "listen_addresses = '%s'\n", n->listen_addr);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "unix_socket_directories = ''\n"));
	assert_non_null(strstr(buf, "shared_buffers = 256MB\n"));
	assert_non_null(strstr(buf, "archive_mode = on\n"));
	assert_non_null(strstr(buf, "shared_preload_libraries = 'pg_stat_statements'\n"));
	snprintf(path, sizeof(path), "%s/data/pg_hba.conf", n->dir);
	assert_int_equal(pgnode_fs_read(path, buf, sizeof(buf), &len, NULL, &e), 0);
	assert_null(strstr(buf, "trust"));
	assert_null(strstr(buf, "local"));
	assert_non_null(strstr(buf, "host all all 0.0.0.0/0 scram-sha-256\n"));
	snprintf(path, sizeof(path), "%s/data/postgresql.conf", n->dir);
	assert_int_equal(pgnode_fs_read(path, buf, sizeof(buf), &len, NULL, &e), 0);
	p = strstr(buf, PGNODE_INCLUDE_LINE);
	assert_non_null(p);
	assert_null(strstr(p + 1, PGNODE_INCLUDE_LINE));   /* appended once */
}

static void test_node_lifecycle(void **state)
{
	struct pgnode n;
	struct pgnode_state st;
	struct err e;
	struct stat sb;
	PGconn *c;
	char path[PATH_MAX + 32];
	char *v;
	long long size;
	pid_t first;

	node_init(&n, "life");
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), 0);
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), 0);   /* idempotent */
	check_config_files(&n);
	snprintf(path, sizeof(path), "%s/data", n.dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(sb.st_uid, g.user.uid);
	assert_state(&n, false);
	assert_int_equal(pgnode_stop(&n, PGNODE_STOP_FAST, 0, &e), 0);   /* no-op when stopped */
	assert_int_equal(pgnode_reload(&n, &e), -1);

	assert_int_equal(pgnode_start(&n, 0, &e), 0);
	assert_state(&n, true);
	assert_int_equal(pgnode_start(&n, 0, &e), 0);   /* already running */
	c = connect_as(&n, PGNODE_SUPERUSER, g.password);
	assert_non_null(c);
	assert_null(connect_as(&n, PGNODE_SUPERUSER, "wrong"));
	exec_ok(c, "CREATE TABLE kept (v text)");
	exec_ok(c, "INSERT INTO kept VALUES ('still here')");
	v = query1(c, "SHOW shared_preload_libraries");
	assert_string_equal(v, "pg_stat_statements");
	free(v);
	v = query1(c, "SHOW archive_mode");
	assert_string_equal(v, "on");
	free(v);

	/* reload picks up a change of a reloadable setting */
	{
		struct pgnode_conf big = test_conf;
		big.storage_gb = 100;
		assert_int_equal(pgnode_write_config(&n, &big, &e), 0);
		assert_int_equal(pgnode_reload(&n, &e), 0);
		for (int i = 0; i < 100; i++) {
			v = query1(c, "SHOW max_wal_size");
			if (strcmp(v, "5GB") == 0)
				break;
			free(v);
			v = NULL;
			usleep(20000);
		}
		assert_non_null(v);
		assert_string_equal(v, "5GB");
		free(v);
	}
	/* create again while running: keeps the data, rewrites the config */
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), 0);
	pgsql_close(c);

	assert_int_equal(pgnode_stop(&n, PGNODE_STOP_FAST, 0, &e), 0);
	assert_state(&n, false);
	assert_null(connect_as(&n, PGNODE_SUPERUSER, g.password));
	assert_int_equal(pgnode_start(&n, 0, &e), 0);
	c = connect_as(&n, PGNODE_SUPERUSER, g.password);
	assert_non_null(c);
	v = query1(c, "SELECT v FROM kept");
	assert_string_equal(v, "still here");
	free(v);
	exec_ok(c, "INSERT INTO kept VALUES ('committed before the crash')");
	pgsql_close(c);

	/* kill -9 of the postmaster; start recovers (stale pid file, orphans) */
	assert_int_equal(pgnode_status(&n, &st, &e), 0);
	first = st.pid;
	assert_int_equal(kill(first, SIGKILL), 0);
	for (int i = 0; i < 500 && st.running; i++) {   /* as the supervisor notices it */
		usleep(10000);
		assert_int_equal(pgnode_status(&n, &st, &e), 0);
	}
	assert_false(st.running);
	assert_int_equal(pgnode_start(&n, 0, &e), 0);
	assert_int_equal(pgnode_status(&n, &st, &e), 0);
	assert_true(st.running && st.ready);
	assert_true(st.pid != first);
	c = connect_as(&n, PGNODE_SUPERUSER, g.password);
	assert_non_null(c);
	v = query1(c, "SELECT count(*) FROM kept");
	assert_string_equal(v, "2");
	free(v);
	pgsql_close(c);

	assert_int_equal(pgnode_data_size(&n, &size, &e), 0);
	assert_true(size > 20LL * 1024 * 1024);

	/* immediate stop, then start again (crash recovery) */
	assert_int_equal(pgnode_stop(&n, PGNODE_STOP_IMMEDIATE, 0, &e), 0);
	assert_state(&n, false);
	assert_int_equal(pgnode_start(&n, 0, &e), 0);
	assert_state(&n, true);

	assert_int_equal(pgnode_remove(&n, &e), 0);
	assert_true(access(n.dir, F_OK) < 0 && errno == ENOENT);
	assert_int_equal(pgnode_remove(&n, &e), 0);   /* idempotent */
	assert_state(&n, false);
}

/* A postmaster this process did not start through pgnode (as after a
 * daemon restart) is found, waited for, and stopped. */
static void test_foreign_postmaster(void **state)
{
	char postgres[PATH_MAX], data[PATH_MAX + 8], pidfile[PATH_MAX + 32];
	const char *const argv[] = { postgres, "-D", data, NULL };
	struct spawn_opts o = { .argv = argv, .cwd = data, .set_ids = g.user.set_ids,
				.uid = g.user.uid, .gid = g.user.gid };
	struct spawn_result r;
	struct pgnode_state st;
	struct pgnode n;
	struct err e;
	pid_t pid;

	node_init(&n, "foreign");
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), 0);
	snprintf(postgres, sizeof(postgres), "%s/postgres", TEST_BIN_DIR);
	snprintf(data, sizeof(data), "%s/data", n.dir);
	snprintf(pidfile, sizeof(pidfile), "%s/postmaster.pid", data);
	assert_int_equal(spawn_start(&o, &pid, &e), 0);
	for (int i = 0; i < 1000 && access(pidfile, F_OK) < 0; i++)
		usleep(1000);
	assert_int_equal(pgnode_start(&n, 0, &e), 0);   /* waits for it, starts nothing */
	assert_int_equal(pgnode_status(&n, &st, &e), 0);
	assert_true(st.running && st.ready);
	assert_int_equal(st.pid, pid);
	assert_int_equal(pgnode_start(&n, 0, &e), 0);
	assert_int_equal(pgnode_stop(&n, PGNODE_STOP_FAST, 0, &e), 0);
	assert_int_equal(spawn_wait(pid, 5000, &r, &e), 1);
	assert_true(r.exited);
	assert_int_equal(r.exit_code, 0);
	assert_state(&n, false);
	/* a start racing with another postmaster succeeds whichever wins the
	 * lock file (the loser exits; pgnode follows the winner) */
	assert_int_equal(spawn_start(&o, &pid, &e), 0);
	assert_int_equal(pgnode_start(&n, 0, &e), 0);
	assert_int_equal(pgnode_status(&n, &st, &e), 0);
	assert_true(st.running && st.ready);
	assert_int_equal(pgnode_stop(&n, PGNODE_STOP_FAST, 0, &e), 0);
	assert_int_equal(spawn_wait(pid, 5000, &r, &e), 1);
	assert_state(&n, false);
	assert_int_equal(pgnode_remove(&n, &e), 0);
}

static void test_partial_copy_redone(void **state)
{
	struct pgnode n;
	struct err e;
	char ready[PATH_MAX + 16], junk[PATH_MAX + 32];
	int fd;
	long long size;

	node_init(&n, "partial");
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), 0);
	/* as if the daemon died half-way: no marker, stray files */
	snprintf(ready, sizeof(ready), "%s/READY", n.dir);
	snprintf(junk, sizeof(junk), "%s/data/base/junk", n.dir);
	assert_int_equal(unlink(ready), 0);
	fd = open(junk, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), 0);
	assert_true(access(ready, F_OK) == 0);
	assert_true(access(junk, F_OK) < 0);
	assert_int_equal(pgnode_data_size(&n, &size, &e), 0);
	assert_true(size > 0);
	assert_int_equal(pgnode_remove(&n, &e), 0);
}

static void test_start_failure(void **state)
{
	struct pgnode n;
	struct err e;
	char path[PATH_MAX + 32];
	const char bad[] = "shared_buffers = 'not a size'\n";
	int64_t t0;

	node_init(&n, "broken");
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), 0);
	snprintf(path, sizeof(path), "%s/data/postgresql.auto.conf", n.dir);
	assert_int_equal(pgnode_fs_write_atomic(path, bad, sizeof(bad) - 1, 0600, &g.user, &e), 0);
	t0 = now_ms();
	assert_int_equal(pgnode_start(&n, 0, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);
	assert_null(strstr(e.msg, "shared_buffers"));   /* detail is logged, not returned */
	assert_true(now_ms() - t0 < 10000);
	assert_state(&n, false);
	assert_int_equal(pgnode_remove(&n, &e), 0);
}

static void test_bad_inputs(void **state)
{
	struct pgnode n;
	struct pgnode_conf tiny = { .memory_mb = 1, .cpu = 1, .storage_gb = 1 };
	struct err e;

	node_init(&n, "bad");
	snprintf(n.listen_addr, sizeof(n.listen_addr), "10.0.0.1");
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	snprintf(n.listen_addr, sizeof(n.listen_addr), "127.0.0.01");
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), -1);
	node_init(&n, "bad");
	snprintf(n.dir, sizeof(n.dir), "%s/it's", g.nodes);
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	snprintf(n.dir, sizeof(n.dir), "%s/../x", g.nodes);
	assert_int_equal(pgnode_start(&n, 0, &e), -1);
	snprintf(n.dir, sizeof(n.dir), "/x");
	assert_int_equal(pgnode_remove(&n, &e), -1);
	node_init(&n, "bad");
	n.port = 0;
	assert_int_equal(pgnode_status(&n, &(struct pgnode_state){ 0 }, &e), -1);
	node_init(&n, "bad");
	assert_int_equal(pgnode_create(&n, g.tpl_data, &tiny, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE);
	pgnode_remove(&n, &e);
}

/* ---- timings ------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Create, start and query TEST_TIMING_RUNS nodes; print each run and the
 * medians. With `spares`, that many spares are made first (not timed). */
static void timed_runs(const char *label, bool spares)
{
	double create[TEST_TIMING_RUNS], start[TEST_TIMING_RUNS], query[TEST_TIMING_RUNS],
		total[TEST_TIMING_RUNS];
	struct pgnode n[TEST_TIMING_RUNS];
	struct err e;

	if (spares)
		assert_int_equal(pgnode_spares_fill(g.tpl_data, &g.user, TEST_TIMING_RUNS, &e),
				 TEST_TIMING_RUNS);
	for (int i = 0; i < TEST_TIMING_RUNS; i++) {
		char name[32];
		double t0, t1, t2, t3;
		PGconn *c;
		char *v;

		snprintf(name, sizeof(name), "%s%d", label, i);
		node_init(&n[i], name);
		t0 = now_us();
		assert_int_equal(pgnode_create(&n[i], g.tpl_data, &test_conf, &e), 0);
		t1 = now_us();
		assert_int_equal(pgnode_start(&n[i], 0, &e), 0);
		t2 = now_us();
		c = connect_as(&n[i], PGNODE_SUPERUSER, g.password);
		assert_non_null(c);
		v = query1(c, "SELECT 1");
		t3 = now_us();
		assert_string_equal(v, "1");
		free(v);
		pgsql_close(c);
		create[i] = (t1 - t0) / 1e3;
		start[i] = (t2 - t1) / 1e3;
		query[i] = (t3 - t2) / 1e3;
		total[i] = (t3 - t0) / 1e3;
		printf("TIMING %s run %d: create %.1f ms, start-to-ready %.1f ms, connect+query %.1f ms, "
		       "total %.1f ms\n", label, i, create[i], start[i], query[i], total[i]);
	}
	for (int i = 0; i < TEST_TIMING_RUNS; i++)
		assert_int_equal(pgnode_remove(&n[i], &e), 0);
	qsort(create, TEST_TIMING_RUNS, sizeof(double), cmp_double);
	qsort(start, TEST_TIMING_RUNS, sizeof(double), cmp_double);
	qsort(query, TEST_TIMING_RUNS, sizeof(double), cmp_double);
	qsort(total, TEST_TIMING_RUNS, sizeof(double), cmp_double);
	printf("TIMING %s median of %d: create %.1f ms, start-to-ready %.1f ms, first "
	       "connect+query %.1f ms, create-to-first-query %.1f ms\n", label, TEST_TIMING_RUNS,
	       create[TEST_TIMING_RUNS / 2], start[TEST_TIMING_RUNS / 2], query[TEST_TIMING_RUNS / 2],
	       total[TEST_TIMING_RUNS / 2]);
}

static void test_timings(void **state)
{
	char spares[PATH_MAX + 16];
	struct err e;

	snprintf(spares, sizeof(spares), "%s/../spares", g.tpl_data);
	assert_int_equal(pgnode_fs_remove_tree(spares, &e), 0);
	timed_runs("copy", false);     /* template copy + config + syncfs */
	timed_runs("spare", true);     /* rename of a spare + config */
}

static int count_spares(void)
{
	char path[PATH_MAX + 16];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/../spares", g.tpl_data);
	d = opendir(path);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "s-", 2) == 0;
	closedir(d);
	return n;
}

static void test_spares(void **state)
{
	char stray[PATH_MAX + 32];
	struct pgnode n;
	struct err e;
	PGconn *c;

	assert_int_equal(pgnode_spares_fill(g.tpl_data, &g.user, 2, &e), 2);
	assert_int_equal(pgnode_spares_fill(g.tpl_data, &g.user, 2, &e), 0);
	assert_int_equal(count_spares(), 2);
	/* a filler killed half-way leaves a spare without READY: swept */
	snprintf(stray, sizeof(stray), "%s/../spares/s-stray", g.tpl_data);
	assert_int_equal(mkdir(stray, 0700), 0);
	assert_int_equal(pgnode_spares_fill(g.tpl_data, &g.user, 2, &e), 0);
	assert_true(access(stray, F_OK) < 0);
	assert_int_equal(pgnode_spares_fill(g.tpl_data, &g.user, PGNODE_SPARES_MAX + 1, &e), -1);

	node_init(&n, "fromspare");
	assert_int_equal(pgnode_create(&n, g.tpl_data, &test_conf, &e), 0);
	assert_int_equal(count_spares(), 1);
	check_config_files(&n);
	assert_int_equal(pgnode_start(&n, 0, &e), 0);
	c = connect_as(&n, PGNODE_SUPERUSER, g.password);
	assert_non_null(c);
	exec_ok(c, "SELECT 1");
	pgsql_close(c);
	assert_int_equal(pgnode_remove(&n, &e), 0);
	assert_int_equal(pgnode_spares_fill(g.tpl_data, &g.user, 0, &e), 0);
	assert_int_equal(count_spares(), 1);   /* count 0 removes nothing */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_template_redone_when_half_made),
		cmocka_unit_test(test_node_lifecycle),
		cmocka_unit_test(test_foreign_postmaster),
		cmocka_unit_test(test_partial_copy_redone),
		cmocka_unit_test(test_start_failure),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_spares),
		cmocka_unit_test(test_timings),
	};

	if (access(TEST_BIN_DIR "/postgres", X_OK) < 0) {
		printf("SKIP test_pgnode: %s/postgres not found\n", TEST_BIN_DIR);
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
