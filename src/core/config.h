/*
 * config.h - the daemon's settings. Every setting is declared once, in the
 * table in config.c (name, type, default, help); `pgfleetd --help-config`
 * prints that table and docs/CONFIG.md documents it. A JSON config file
 * (`--config FILE`, default DATA_DIR/pgfleet.json when present) overrides
 * the defaults; command-line flags override the file.
 *
 * The catalog (regions, zones, specs) is structured data: the default is
 * embedded in config.c; the file's "catalog" object replaces it whole.
 */
#ifndef PGFLEET_CORE_CONFIG_H
#define PGFLEET_CORE_CONFIG_H

#include <jansson.h>
#include <limits.h>

#include "core/err.h"

struct config {
	char data_dir[1024];        /* bounded: room for file names under it */
	char listen[128];           /* ADDR:PORT */
	char log_level[16];
	int http_threads;           /* libmicrohttpd worker threads */
	int http_timeout_s;         /* idle/slow client timeout */
	int http_max_connections;
	int signature_window_s;     /* allowed |now - timestamp| (300) */
	int rate_limit;             /* 1: enforce per-action limits */
	char pg_bin_root[PATH_MAX]; /* where PostgreSQL major versions live */
	int request_log_days;       /* audit log retention */
	char vip_first[16];         /* private addresses given to instances */
	char vip_last[16];
	int keep_instances_running; /* 1: postmasters outlive a daemon stop */
	int supervise_ms;           /* supervisor pass interval */
	json_t *catalog;            /* {"regions":[...],"zones":[...],"specs":[...]} owned */
};

/* Fill `cfg` with the built-in defaults (data_dir from the argument). */
int config_init(struct config *cfg, const char *data_dir, struct err *e);

/* Apply a JSON config file. Unknown keys or wrong types fail. */
int config_load_file(struct config *cfg, const char *path, struct err *e);

/* Set one setting from a string, as the command line gives it. */
int config_set(struct config *cfg, const char *name, const char *value, struct err *e);

/* Print every setting with its default and help text. */
void config_print_help(void);

void config_free(struct config *cfg);

#endif
