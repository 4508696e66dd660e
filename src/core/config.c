/*
 * config.c - the settings table and its loaders.
 *
 * Each setting is one row of config_table: its name (the JSON key in the
 * config file and the --name flag), its type, its default and its help
 * text. Loading a file or a flag goes through the same row, so a setting
 * cannot be documented in one place and parsed differently in another.
 */
#include "core/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catalog_default.h"
#include "core/pricing_default.h"

enum config_type { CFG_STR, CFG_INT };

struct config_entry {
	const char *name;
	enum config_type type;
	size_t offset;
	size_t size;        /* CFG_STR: buffer size */
	const char *def;    /* default, as text */
	long min, max;      /* CFG_INT bounds */
	const char *help;
};

#define STR(field, def, help) \
	{ #field, CFG_STR, offsetof(struct config, field), sizeof(((struct config *)0)->field), def, 0, 0, help }
#define INT(field, def, lo, hi, help) \
	{ #field, CFG_INT, offsetof(struct config, field), sizeof(int), def, lo, hi, help }

static const struct config_entry config_table[] = {
	STR(listen, "127.0.0.1:9000", "address and port of the API endpoint (ADDR:PORT)"),
	STR(log_level, "info", "debug, info, warn or error"),
	INT(http_threads, "2", 1, 64, "HTTP worker threads"),
	INT(http_timeout_s, "30", 1, 3600, "seconds before an idle or slow client is disconnected"),
	INT(http_max_connections, "1024", 4, 65536, "simultaneous client connections"),
	INT(signature_window_s, "300", 1, 86400, "accepted clock skew of signed requests, seconds"),
	INT(rate_limit, "1", 0, 1, "1: enforce each action's per-tenant frequency limit; 0: off (benchmarks)"),
	STR(pg_bin_root, "/usr/lib/postgresql", "directory holding PostgreSQL major versions (<root>/<major>/bin)"),
	INT(request_log_days, "30", 1, 3650, "days the API request audit log is kept"),
	STR(vip_first, "127.10.0.1", "first private address (VIP) given to instances, in 127.0.0.0/8"),
	STR(vip_last, "127.10.255.254", "last private address (VIP) given to instances"),
	INT(keep_instances_running, "0", 0, 1, "1: leave PostgreSQL servers running when the daemon stops"),
	INT(supervise_ms, "1000", 100, 60000, "interval of the supervisor (crashed servers, storage quotas)"),
	INT(log_retention_days, "7", 1, 3650,
	    "days server logs are kept (older log files are deleted; log queries may not reach further back)"),
	INT(log_retention_mb, "1024", 16, 1048576,
	    "MB of server log files kept per instance (the oldest files are deleted first)"),
	INT(log_scan_split_mb, "32", 0, 1048576,
	    "slow-query aggregates read the log files on several threads (one per CPU) from this many MB on (0: always)"),
	STR(metrics_token, "", "\"\": GET /metrics is open; else it needs the header Authorization: Bearer TOKEN"),
	STR(backup_root, "", "directory of the backup store (WAL archive and base backups); \"\": DATA_DIR/backups"),
	STR(backup_compression, "zstd", "base backup compression, on the server side: zstd, lz4, gzip or none"),
	INT(backup_archive_timeout_s, "60", 0, 86400,
	    "archive_timeout of the servers: seconds before a partly filled WAL segment is archived (0: off)"),
	INT(backup_check_s, "10", 1, 3600, "interval of the backup scheduler (backup plans, expiry, archiving checks)"),
	INT(backup_first_delay_s, "60", 0, 86400000,
	    "seconds after its creation before an instance without a base backup gets its first one"),
	INT(backup_retry_s, "600", 1, 86400, "seconds before a failed automatic base backup is tried again"),
	INT(backup_max_rate_kbps, "0", 0, 1048576,
	    "transfer rate limit of a base backup in kB/s (pg_basebackup --max-rate, at least 32); 0: none"),
	STR(backup_download_url, "", "scheme://host:port of backup download URLs; \"\": http://LISTEN"),
	STR(maintenance_window, "03:00:00-04:00:00",
	    "daily window (HH:MM:SS-HH:MM:SS, local business time) of SwitchTag 2 changes"),
	INT(recycle_retention_s, "604800", 60, 31536000,
	    "seconds an isolated instance is kept before it is destroyed (unless renewed or restored)"),
};

#define CONFIG_NENTRIES (sizeof(config_table) / sizeof(config_table[0]))

static const struct config_entry *config_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_NENTRIES; i++)
		if (strcmp(config_table[i].name, name) == 0)
			return &config_table[i];
	return NULL;
}

/* Store `value` into the field described by `ce`, checking type and range. */
static int config_apply(struct config *cfg, const struct config_entry *ce, const char *value,
			struct err *e)
{
	char *base = (char *)cfg + ce->offset;

	if (ce->type == CFG_STR) {
		if (strlen(value) >= ce->size)
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "setting %s: value too long", ce->name);
		memcpy(base, value, strlen(value) + 1);
		return 0;
	}
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < ce->min || v > ce->max)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "setting %s: expected an integer in %ld..%ld",
			       ce->name, ce->min, ce->max);
	*(int *)(void *)base = (int)v;
	return 0;
}

int config_init(struct config *cfg, const char *data_dir, struct err *e)
{
	json_error_t jerr;

	memset(cfg, 0, sizeof(*cfg));
	if (strlen(data_dir) >= sizeof(cfg->data_dir))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "data dir path too long");
	memcpy(cfg->data_dir, data_dir, strlen(data_dir) + 1);
	for (size_t i = 0; i < CONFIG_NENTRIES; i++)
		if (config_apply(cfg, &config_table[i], config_table[i].def, e) != 0)
			return -1;
	cfg->catalog = json_loads(CONFIG_DEFAULT_CATALOG, 0, &jerr);
	if (cfg->catalog == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "embedded catalog: %s", jerr.text);
	cfg->pricing = json_loads(CONFIG_DEFAULT_PRICING, 0, &jerr);
	if (cfg->pricing == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "embedded price book: %s", jerr.text);
	return 0;
}

int config_set(struct config *cfg, const char *name, const char *value, struct err *e)
{
	const struct config_entry *ce = config_find(name);

	if (ce == NULL)
		return err_set(e, ERR_UNKNOWN_PARAMETER, "unknown setting \"%s\"", name);
	return config_apply(cfg, ce, value, e);
}

/* One key of the config file: a catalog or pricing object, or a table setting. */
static int config_load_key(struct config *cfg, const char *key, json_t *val, struct err *e)
{
	const struct config_entry *ce;
	char num[32];
	json_t **structured = strcmp(key, "catalog") == 0 ? &cfg->catalog
			      : strcmp(key, "pricing") == 0 ? &cfg->pricing : NULL;

	if (structured != NULL) {
		if (!json_is_object(val))
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "setting %s: expected an object", key);
		json_decref(*structured);
		*structured = json_incref(val);
		return 0;
	}
	ce = config_find(key);
	if (ce == NULL)
		return err_set(e, ERR_UNKNOWN_PARAMETER, "unknown setting \"%s\"", key);
	if (ce->type == CFG_STR && json_is_string(val))
		return config_apply(cfg, ce, json_string_value(val), e);
	if (ce->type == CFG_INT && json_is_integer(val)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(val));
		return config_apply(cfg, ce, num, e);
	}
	return err_set(e, ERR_INVALID_PARAMETER, "setting %s: expected %s", key,
		       ce->type == CFG_STR ? "a string" : "an integer");
}

int config_load_file(struct config *cfg, const char *path, struct err *e)
{
	json_error_t jerr;
	const char *key;
	json_t *val;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL)
		return err_set(e, ERR_INVALID_PARAMETER, "%s:%d: %s", path, jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_INVALID_PARAMETER, "%s: expected a JSON object", path);
	}
	json_object_foreach(root, key, val) {
		if (config_load_key(cfg, key, val, e) != 0) {
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	return 0;
}

void config_print_help(void)
{
	printf("Settings (config file key / --flag, default, meaning):\n");
	for (size_t i = 0; i < CONFIG_NENTRIES; i++)
		printf("  %-22s %-22s %s\n", config_table[i].name, config_table[i].def, config_table[i].help);
	printf("  %-22s %-22s %s\n", "catalog", "(embedded)",
	       "regions, zones and specs offered (config file only; see docs/CONFIG.md)");
	printf("  %-22s %-22s %s\n", "pricing", "(embedded)",
	       "the price book (config file only; see docs/CONFIG.md)");
}

void config_free(struct config *cfg)
{
	json_decref(cfg->catalog);
	cfg->catalog = NULL;
	json_decref(cfg->pricing);
	cfg->pricing = NULL;
}
