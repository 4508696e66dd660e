/*
 * main.c - pgfleetd, the daemon, and its operator subcommands.
 *
 *   pgfleetd [--data-dir DIR] [--listen ADDR:PORT] [--config FILE] [--SETTING VALUE ...]
 *   pgfleetd [--data-dir DIR] tenant-create NAME
 *   pgfleetd [--data-dir DIR] clock-advance SECONDS | clock-show | billing-show [ID]
 *                                                   (daemon/operator.h)
 *   pgfleetd --help | --help-config
 *
 * The daemon runs in the foreground and logs to stderr. Its main thread
 * owns a libevent loop: signals (SIGTERM/SIGINT stop it cleanly) and the
 * periodic jobs (the "cron": audit-log flush and pruning); HTTP is served by
 * the gateway's own worker threads.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/catalog.h"
#include "api/gateway.h"
#include "core/config.h"
#include "core/log.h"
#include "daemon/operator.h"
#include "store/store.h"
#include "task/billing.h"
#include "task/fleet.h"

#define MAIN_FLUSH_MS 200          /* audit-log batch interval */
#define MAIN_PRUNE_S 3600          /* audit-log retention check interval */

struct daemon_state {
	struct config cfg;
	struct store *store;
	struct gateway *gw;
	struct fleet fleet;
	struct api_services svc;
	struct event_base *base;
	const char *config_path;
	const char *data_dir;
	const char *command;       /* NULL: serve; "tenant-create" */
	const char *command_arg;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pgfleetd [--data-dir DIR] [--listen ADDR:PORT] [--config FILE] [--SETTING VALUE ...]\n"
		   "       pgfleetd [--data-dir DIR] tenant-create NAME\n"
		   "       pgfleetd [--data-dir DIR] clock-advance SECONDS | clock-show | billing-show [ID]\n"
		   "       pgfleetd --help | --help-config\n"
		   "Runs the pgfleet API service in the foreground (defaults: ./var, 127.0.0.1:9000).\n");
}

/* mkdir -p with mode 0700 for the last component. */
static int make_dir(const char *path, struct err *e)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "path too long");
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return err_set(e, ERR_INTERNAL_ERROR, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_INTERNAL_ERROR, "mkdir %s: %s", tmp, strerror(errno));
	return 0;
}

/* Two passes over argv: --data-dir and --config first (they decide which
 * defaults and file apply), then every other flag on top of the file. */
static int parse_args(struct daemon_state *st, int argc, char **argv, int pass, struct err *e)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--help-config") == 0) {
			config_print_help();
			exit(0);
		}
		int op_arg;
		if (operator_is_command(a, &op_arg)) {
			if (op_arg == 1 && i + 1 >= argc)
				return err_set(e, ERR_MISSING_PARAMETER, "%s needs an argument", a);
			st->command = a;
			st->command_arg = op_arg != 0 && i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 ? argv[++i] : NULL;
			continue;
		}
		if (strcmp(a, "tenant-create") == 0) {
			if (i + 1 >= argc)
				return err_set(e, ERR_MISSING_PARAMETER, "tenant-create needs a NAME");
			st->command = a;
			st->command_arg = argv[++i];
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || i + 1 >= argc)
			return err_set(e, ERR_INVALID_PARAMETER, "unexpected argument \"%s\"", a);
		const char *val = argv[++i];
		if (strcmp(a, "--data-dir") == 0 || strcmp(a, "--config") == 0) {
			if (pass == 0 && strcmp(a, "--config") == 0)
				st->config_path = val;
			if (pass == 0 && strcmp(a, "--data-dir") == 0)
				st->data_dir = val;
			continue;
		}
		char name[64];
		snprintf(name, sizeof(name), "%s", a + 2);
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		if (pass == 1 && config_set(&st->cfg, name, val, e) != 0)
			return -1;
	}
	return 0;
}

static int load_config(struct daemon_state *st, int argc, char **argv, struct err *e)
{
	char path[PATH_MAX];

	if (parse_args(st, argc, argv, 0, e) != 0)
		return -1;
	if (config_init(&st->cfg, st->data_dir ? st->data_dir : "./var", e) != 0)
		return -1;
	if (st->config_path == NULL) {
		snprintf(path, sizeof(path), "%s/pgfleet.json", st->cfg.data_dir);
		if (access(path, R_OK) == 0 && config_load_file(&st->cfg, path, e) != 0)
			return -1;
	} else if (config_load_file(&st->cfg, st->config_path, e) != 0) {
		return -1;
	}
	if (parse_args(st, argc, argv, 1, e) != 0)
		return -1;
	log_set_level(log_level_from_name(st->cfg.log_level));
	return 0;
}

static void print_key(FILE *f, const struct store_key *key)
{
	fprintf(f, "{\"secretId\": \"%s\", \"secretKey\": \"%s\"}\n", key->secret_id, key->secret_key);
}

/* First start: create the root tenant and write DIR/credentials.json (0600). */
static int bootstrap_root(struct daemon_state *st, struct err *e)
{
	struct store_tenant t;
	struct store_key key;
	int64_t n;
	char path[PATH_MAX];

	if (store_tenant_count(st->store, &n, e) != 0)
		return -1;
	if (n > 0)
		return 0;
	if (store_tenant_create(st->store, "root", &t, &key, e) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/credentials.json", st->cfg.data_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		return err_set(e, ERR_INTERNAL_ERROR, "cannot write %s: %s", path, strerror(errno));
	}
	print_key(f, &key);
	if (fclose(f) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "cannot write %s: %s", path, strerror(errno));
	log_info("main", "root tenant created (AppId %lld, Uin %s); credentials written to %s",
		 (long long)t.app_id, t.uin, path);
	return 0;
}

static int open_store(struct daemon_state *st, struct err *e)
{
	char path[PATH_MAX];

	if (make_dir(st->cfg.data_dir, e) != 0)
		return -1;
	/* from here on the data dir is absolute: it is written into the
	 * servers' configuration files, which run elsewhere */
	if (realpath(st->cfg.data_dir, path) == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "realpath %s: %s", st->cfg.data_dir, strerror(errno));
	if (strlen(path) >= sizeof(st->cfg.data_dir))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "data dir path too long");
	memcpy(st->cfg.data_dir, path, strlen(path) + 1);
	snprintf(path, sizeof(path), "%s/pgfleet.db", st->cfg.data_dir);
	return store_open(&st->store, path, e);
}

static int cmd_tenant_create(struct daemon_state *st, struct err *e)
{
	struct store_tenant t;
	struct store_key key;

	if (store_tenant_create(st->store, st->command_arg, &t, &key, e) != 0)
		return -1;
	print_key(stdout, &key);
	return 0;
}

/* ---- the serving loop ---- */

static void on_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon_state *st = arg;

	log_info("main", "signal %d: shutting down", (int)sig);
	event_base_loopbreak(st->base);
}

static void on_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_state *st = arg;

	gateway_flush_log(st->gw);
}

static void on_supervise_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_state *st = arg;

	fleet_supervise(&st->fleet);
}

static void on_prune_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_state *st = arg;
	struct err e;
	int64_t keep_ms = (int64_t)st->cfg.request_log_days * 86400 * 1000;

	if (store_request_log_prune(st->store, (int64_t)time(NULL) * 1000 - keep_ms, &e) != 0)
		log_warn("main", "audit log prune: %s", e.msg);
}

/* Everything the loop serves: fleet (tasks resume here), then the gateway. */
static int serve_start(struct daemon_state *st, struct err *e)
{
	if (bootstrap_root(st, e) != 0 || catalog_init(&st->cfg, e) != 0 || billing_init(&st->cfg, e) != 0)
		return -1;
	const struct catalog_version *newest = catalog_version_find(NULL, NULL, NULL);
	if (fleet_start(&st->fleet, &st->cfg, st->store, newest ? newest->bin_dir : NULL, e) != 0)
		return -1;
	st->svc = (struct api_services){ .cfg = &st->cfg, .store = st->store, .tasks = st->fleet.tasks,
					 .fleet = &st->fleet };
	if (gateway_start(&st->gw, &st->svc, e) != 0) {
		fleet_stop(&st->fleet, 1);
		return -1;
	}
	return 0;
}

static int serve(struct daemon_state *st, struct err *e)
{
	struct timeval flush_tv = { 0, MAIN_FLUSH_MS * 1000 }, prune_tv = { MAIN_PRUNE_S, 0 };
	struct timeval sup_tv = { st->cfg.supervise_ms / 1000, (st->cfg.supervise_ms % 1000) * 1000 };
	struct event *ev[5];
	int rc = 0;

	st->base = event_base_new();
	if (st->base == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "event_base_new failed");
	ev[0] = evsignal_new(st->base, SIGTERM, on_signal_cb, st);
	ev[1] = evsignal_new(st->base, SIGINT, on_signal_cb, st);
	ev[2] = event_new(st->base, -1, EV_PERSIST, on_flush_cb, st);
	ev[3] = event_new(st->base, -1, EV_PERSIST, on_prune_cb, st);
	ev[4] = event_new(st->base, -1, EV_PERSIST, on_supervise_cb, st);
	event_add(ev[0], NULL);
	event_add(ev[1], NULL);
	if (serve_start(st, e) != 0) {
		rc = -1;
	} else {
		event_add(ev[2], &flush_tv);
		event_add(ev[3], &prune_tv);
		event_add(ev[4], &sup_tv);
		log_info("main", "pgfleetd listening on http://%s (data dir %s)", st->cfg.listen, st->cfg.data_dir);
		event_base_dispatch(st->base);
		gateway_stop(st->gw);
		fleet_stop(&st->fleet, st->cfg.keep_instances_running);
	}
	for (int i = 0; i < 5; i++)
		event_free(ev[i]);
	event_base_free(st->base);
	catalog_close();
	return rc;
}

int main(int argc, char **argv)
{
	struct daemon_state st;
	struct err e;
	int rc;

	memset(&st, 0, sizeof(st));
	err_clear(&e);
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (load_config(&st, argc, argv, &e) != 0) {
		fprintf(stderr, "pgfleetd: %s\n", err_message(&e, ERR_LANG_EN));
		usage(stderr);
		return 2;
	}
	rc = open_store(&st, &e);
	if (rc == 0)
		rc = st.command == NULL                          ? serve(&st, &e)
		     : strcmp(st.command, "tenant-create") == 0 ? cmd_tenant_create(&st, &e)
								 : operator_run(st.command, st.command_arg, st.cfg.data_dir,
										st.store, &e);
	if (rc != 0)
		log_error("main", "%s", err_message(&e, ERR_LANG_EN));
	store_close(st.store);
	config_free(&st.cfg);
	return rc == 0 ? 0 : 1;
}
