/*
 * test_pgsql.c - SQL to a real PostgreSQL 15 node: connecting, statements
 * with parameters and SQLSTATEs, roles whose names and passwords need
 * quoting (created, logged in with, re-ensured, password reset: old fails,
 * new works), sessions kicked, role and database listings, server info,
 * and the refusal of bad names, passwords and option lists.
 *
 * One node is made for the whole file (template + create + start) in a
 * temporary directory under /tmp, on a free 127.77.x.y address. Skipped
 * with a message when /usr/lib/postgresql/15/bin/postgres is absent.
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
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg/pgnode.h"
#include "pg/pgnode_int.h"
#include "pg/pgsql.h"

#define TEST_BIN_DIR "/usr/lib/postgresql/15/bin"

static const char quoted_pw[] = "a'b\"c\\d";   /* a'b"c\d */
static const char weird_name[] = "Weird \"Name\"";

static struct {
	char root[128];
	char templates[256];
	char tpl_data[PATH_MAX];
	char password[128];
	struct pgnode_user user;
	struct pgnode node;
	PGconn *super;
} g;

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

static int pick_addr(struct pgnode *n)
{
	for (int i = 0; i < 250; i++) {
		snprintf(n->listen_addr, sizeof(n->listen_addr), "127.77.%hhu.%hhu",
			 (unsigned char)(251 - i % 50), (unsigned char)((getpid() + i) % 250 + 1));
		if (addr_free(n->listen_addr, n->port))
			return 0;
	}
	return -1;
}

static PGconn *connect_as(const char *user, const char *password)
{
	struct pgsql_target t = { .host = g.node.listen_addr, .port = g.node.port, .user = user,
				  .password = password };
	PGconn *c = NULL;
	struct err e;

	if (pgsql_connect(&t, &c, &e) < 0) {
		assert_int_equal(e.code, ERR_INTERNAL_ERROR);
		return NULL;
	}
	return c;
}

static char *query1(PGconn *c, const char *sql, const char *param)
{
	const char *params[] = { param };
	PGresult *r = NULL;
	struct err e;
	char *v;

	assert_int_equal(pgsql_exec(c, sql, param != NULL, params, &r, &e), 0);
	assert_int_equal(PQntuples(r), 1);
	v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static int group_setup(void **state)
{
	struct err e;

	snprintf(g.root, sizeof(g.root), "/tmp/pgsql-test-XXXXXX");
	if (mkdtemp(g.root) == NULL || chmod(g.root, 0711) < 0)
		return -1;
	snprintf(g.templates, sizeof(g.templates), "%s/templates", g.root);
	snprintf(g.node.dir, sizeof(g.node.dir), "%s/node", g.root);
	snprintf(g.node.bin_dir, sizeof(g.node.bin_dir), "%s", TEST_BIN_DIR);
	g.node.port = 5432;
	g.node.user = &g.user;
	if (pick_addr(&g.node) < 0 || pgnode_user_ensure(&g.user, &e) < 0 ||
	    pgnode_template_ensure(g.templates, TEST_BIN_DIR, "UTF8", &g.user, g.tpl_data,
				   sizeof(g.tpl_data), &e) < 0 ||
	    pgnode_template_password(g.tpl_data, g.password, sizeof(g.password), &e) < 0 ||
	    pgnode_create(&g.node, g.tpl_data, &(struct pgnode_conf){ 512, 1, 5 }, &e) < 0 ||
	    pgnode_start(&g.node, 0, &e) < 0) {
		fprintf(stderr, "setup failed: %s\n", e.msg);
		return -1;
	}
	g.super = connect_as(PGNODE_SUPERUSER, g.password);
	return g.super != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
	struct err e;

	pgsql_close(g.super);
	if (pgnode_remove(&g.node, &e) < 0)
		fprintf(stderr, "node removal failed: %s\n", e.msg);
	if (pgnode_fs_remove_tree(g.root, &e) < 0)
		fprintf(stderr, "cleanup of %s failed: %s\n", g.root, e.msg);
	return 0;
}

/* ---- tests ------------------------------------------------------------------- */

static void test_connect_and_info(void **state)
{
	struct pgsql_target bad = { .host = g.node.listen_addr, .port = g.node.port,
				    .user = PGNODE_SUPERUSER, .password = g.password,
				    .dbname = "postgres host=127.0.0.1" };
	PGconn *c = NULL;
	json_t *info = NULL;
	struct err e;
	char *v;

	assert_int_equal(pgsql_server_info(g.super, &info, &e), 0);
	assert_false(json_boolean_value(json_object_get(info, "in_recovery")));
	assert_true(json_is_boolean(json_object_get(info, "in_recovery")));
	assert_int_equal(strncmp(json_string_value(json_object_get(info, "server_version")), "15.", 3), 0);
	assert_true(json_integer_value(json_object_get(info, "server_version_num")) >= 150000);
	assert_non_null(strstr(json_string_value(json_object_get(info, "version")), "PostgreSQL 15"));
	json_decref(info);
	v = query1(g.super, "SELECT current_setting('application_name')", NULL);
	assert_string_equal(v, "pgfleet");
	free(v);
	v = query1(g.super, "SELECT current_setting('statement_timeout')", NULL);
	assert_string_equal(v, "30s");
	free(v);
	/* the database name is a name, never a connection string */
	assert_int_equal(pgsql_connect(&bad, &c, &e), -1);
	assert_null(c);
	bad.dbname = NULL;
	bad.port = 1;
	assert_int_equal(pgsql_connect(&bad, &c, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);
	bad.port = 0;
	assert_int_equal(pgsql_connect(&bad, &c, &e), -1);
	pgsql_close(NULL);
}

static void test_exec_params_and_sqlstate(void **state)
{
	char sqlstate[6];
	struct err e;
	char *v;

	v = query1(g.super, "SELECT $1::text || '!'", "it's");
	assert_string_equal(v, "it's!");
	free(v);
	assert_int_equal(pgsql_exec(g.super, "CREATE DATABASE shop", 0, NULL, NULL, &e), 0);
	assert_int_equal(pgsql_exec_state(g.super, "CREATE DATABASE shop", 0, NULL, NULL, sqlstate, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);
	assert_string_equal(sqlstate, "42P04");
	/* several statements in one string are refused by the extended protocol */
	assert_int_equal(pgsql_exec(g.super, "SELECT 1; SELECT 2", 0, NULL, NULL, &e), -1);
	assert_int_equal(pgsql_exec_state(g.super, "SELECT 1", 0, NULL, NULL, sqlstate, &e), 0);
	assert_string_equal(sqlstate, "");
}

static void test_role_quoted_password(void **state)
{
	struct err e;
	PGconn *c;
	char *v;

	assert_int_equal(pgsql_role_ensure(g.super, "alice", quoted_pw, "CREATEDB", &e), 0);
	c = connect_as("alice", quoted_pw);
	assert_non_null(c);
	v = query1(c, "SELECT current_user", NULL);
	assert_string_equal(v, "alice");
	free(v);
	pgsql_close(c);
	assert_null(connect_as("alice", "a'b\"c\\"));
	/* the server stores a SCRAM verifier, never the text */
	v = query1(g.super, "SELECT rolpassword FROM pg_authid WHERE rolname = $1", "alice");
	assert_int_equal(strncmp(v, "SCRAM-SHA-256$4096:", 19), 0);
	assert_null(strstr(v, quoted_pw));
	free(v);
	v = query1(g.super, "SELECT rolcreatedb::text FROM pg_roles WHERE rolname = $1", "alice");
	assert_string_equal(v, "true");
	free(v);
	/* ensure again: new password and options, no error */
	assert_int_equal(pgsql_role_ensure(g.super, "alice", "second", NULL, &e), 0);
	assert_null(connect_as("alice", quoted_pw));
	c = connect_as("alice", "second");
	assert_non_null(c);
	pgsql_close(c);
}

static void test_role_weird_name(void **state)
{
	struct err e;
	PGconn *c;
	char *v;

	assert_int_equal(pgsql_role_ensure(g.super, weird_name, "pw1", "CREATEROLE NOINHERIT", &e), 0);
	c = connect_as(weird_name, "pw1");
	assert_non_null(c);
	v = query1(c, "SELECT current_user", NULL);
	assert_string_equal(v, weird_name);
	free(v);
	pgsql_close(c);
}

static void test_role_set_password_and_kick(void **state)
{
	struct err e;
	PGconn *c, *old;

	assert_int_equal(pgsql_role_ensure(g.super, "bob", "old-pw", NULL, &e), 0);
	old = connect_as("bob", "old-pw");
	assert_non_null(old);
	assert_int_equal(pgsql_role_set_password(g.super, "bob", "new'pw\\", &e), 0);
	assert_null(connect_as("bob", "old-pw"));
	c = connect_as("bob", "new'pw\\");
	assert_non_null(c);
	/* the session opened with the old password is ended by a kick */
	assert_int_equal(pgsql_exec(old, "SELECT 1", 0, NULL, NULL, &e), 0);
	assert_int_equal(pgsql_role_kick(g.super, "bob", &e), 0);
	assert_int_equal(pgsql_exec(old, "SELECT 1", 0, NULL, NULL, &e), -1);
	assert_int_equal(pgsql_exec(c, "SELECT 1", 0, NULL, NULL, &e), -1);   /* all of bob's */
	pgsql_close(old);
	pgsql_close(c);
	assert_int_equal(pgsql_exec(g.super, "SELECT 1", 0, NULL, NULL, &e), 0);   /* not ours */
	assert_int_equal(pgsql_role_set_password(g.super, "nobody", "x", &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER_VALUE_ACCOUNT_NOT_EXIST);
}

static const json_t *find_named(const json_t *arr, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		if (strcmp(json_string_value(json_object_get(o, "name")), name) == 0)
			return o;
	return NULL;
}

static void test_roles_list(void **state)
{
	json_t *roles = NULL;
	const json_t *alice;
	struct err e;
	size_t i;
	json_t *o;

	assert_int_equal(pgsql_exec(g.super, "CREATE ROLE nologin_role NOLOGIN", 0, NULL, NULL, &e), 0);
	assert_int_equal(pgsql_exec(g.super, "ALTER ROLE bob VALID UNTIL '2031-02-03 04:05:06+00'", 0,
				    NULL, NULL, &e), 0);
	assert_int_equal(pgsql_roles_list(g.super, &roles, &e), 0);
	assert_true(json_is_array(roles));
	json_array_foreach(roles, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		assert_string_not_equal(name, PGNODE_SUPERUSER);
		assert_int_not_equal(strncmp(name, "pg_", 3), 0);
		assert_string_not_equal(name, "nologin_role");
	}
	alice = find_named(roles, "alice");
	assert_non_null(alice);
	assert_non_null(find_named(roles, weird_name));
	assert_false(json_boolean_value(json_object_get(alice, "superuser")));
	assert_true(json_is_boolean(json_object_get(alice, "createdb")));
	assert_true(json_is_null(json_object_get(alice, "valid_until")));
	assert_string_equal(json_string_value(json_object_get(find_named(roles, "bob"), "valid_until")),
			    "2031-02-03 04:05:06");
	assert_true(json_boolean_value(json_object_get(find_named(roles, weird_name), "createrole")));
	json_decref(roles);
}

static void test_databases_list(void **state)
{
	json_t *dbs = NULL;
	const json_t *shop;
	struct err e;
	size_t i;
	json_t *o;

	assert_int_equal(pgsql_exec(g.super, "CREATE DATABASE \"Odd db\" OWNER alice", 0, NULL, NULL,
				    &e), 0);
	assert_int_equal(pgsql_databases_list(g.super, &dbs, &e), 0);
	json_array_foreach(dbs, i, o)
		assert_int_not_equal(strncmp(json_string_value(json_object_get(o, "name")), "template", 8), 0);
	assert_non_null(find_named(dbs, "postgres"));
	shop = find_named(dbs, "Odd db");
	assert_non_null(shop);
	assert_string_equal(json_string_value(json_object_get(shop, "owner")), "alice");
	assert_string_equal(json_string_value(json_object_get(shop, "encoding")), "UTF8");
	assert_string_equal(json_string_value(json_object_get(shop, "collate")), "C");
	assert_string_equal(json_string_value(json_object_get(shop, "ctype")), "C");
	assert_true(json_integer_value(json_object_get(shop, "size_bytes")) > 1000000);
	assert_true(json_boolean_value(json_object_get(shop, "allow_connections")));
	assert_non_null(find_named(dbs, "shop"));
	json_decref(dbs);
}

static void test_bad_inputs(void **state)
{
	char longname[80];
	char longpw[1100];
	struct err e;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longpw, 'p', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(pgsql_role_ensure(g.super, "carol", "pw", "CREATEDB; DROP TABLE x", &e), -1);
	assert_int_equal(pgsql_role_ensure(g.super, "carol", "pw", "SUPERUSER PASSWORD 'x'", &e), -1);
	assert_int_equal(pgsql_role_ensure(g.super, "carol", "pw", "CREATEDB ", &e), -1);
	assert_int_equal(pgsql_role_ensure(g.super, "carol", "pw", "createdb", &e), -1);
	assert_int_equal(pgsql_role_ensure(g.super, "", "pw", NULL, &e), -1);
	assert_int_equal(pgsql_role_ensure(g.super, longname, "pw", NULL, &e), -1);
	assert_int_equal(pgsql_role_ensure(g.super, "carol", "", NULL, &e), -1);
	assert_int_equal(pgsql_role_ensure(g.super, "carol", longpw, NULL, &e), -1);
	assert_int_equal(pgsql_role_ensure(g.super, "carol", NULL, NULL, &e), -1);
	assert_int_equal(pgsql_role_set_password(g.super, "carol", NULL, &e), -1);
	assert_null(connect_as("carol", "pw"));   /* nothing was created */
	/* an empty option list is fine */
	assert_int_equal(pgsql_role_ensure(g.super, "carol", "pw", "", &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_and_info),
		cmocka_unit_test(test_exec_params_and_sqlstate),
		cmocka_unit_test(test_role_quoted_password),
		cmocka_unit_test(test_role_weird_name),
		cmocka_unit_test(test_role_set_password_and_kick),
		cmocka_unit_test(test_roles_list),
		cmocka_unit_test(test_databases_list),
		cmocka_unit_test(test_bad_inputs),
	};

	if (access(TEST_BIN_DIR "/postgres", X_OK) < 0) {
		printf("SKIP test_pgsql: %s/postgres not found\n", TEST_BIN_DIR);
		return 0;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
