/*
 * config.h - the daemon's settings. Every setting is declared once, in the
 * table in config.c (name, type, default, help); `pgfleetd --help-config`
 * prints that table and docs/CONFIG.md documents it. A JSON config file
 * (`--config FILE`, default DATA_DIR/pgfleet.json when present) overrides
 * the defaults; command-line flags override the file.
 *
 * The catalog (regions, zones, specs) and the price book are structured
 * data: their defaults are embedded (core/catalog_default.h,
 * core/pricing_default.h); the file's "catalog" or "pricing" object
 * replaces the default whole.
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
	int log_scan_split_mb;      /* slow-query aggregates use threads from this many MB of logs on */
	int log_retention_days;     /* server logs older than this are deleted; query ranges stay within */
	int log_retention_mb;       /* server log files kept per instance, MB */
	char metrics_token[128];    /* "": /metrics is open; else it needs Authorization: Bearer TOKEN */
	char backup_root[PATH_MAX]; /* backup store; "" = DATA_DIR/backups (src/task/backup.h) */
	char backup_compression[8]; /* zstd | lz4 | gzip | none */
	int backup_archive_timeout_s;
	int backup_check_s;         /* backup scheduler interval */
	int backup_first_delay_s;   /* first automatic base backup of a new instance */
	int backup_retry_s;         /* after a failed automatic base backup */
	int backup_max_rate_kbps;   /* pg_basebackup --max-rate; 0: none */
	char backup_download_url[128]; /* "" = http://<listen> */
	char maintenance_window[32]; /* "HH:MM:SS-HH:MM:SS": SwitchTag 2 changes */
	int recycle_retention_s;    /* isolated instances are destroyed after this */
	json_t *catalog;            /* {"regions":[...],"zones":[...],"specs":[...]} owned */
	json_t *pricing;            /* the price book (core/pricing_default.h) owned */
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
