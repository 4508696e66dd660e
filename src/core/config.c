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
	return 0;
}

int config_set(struct config *cfg, const char *name, const char *value, struct err *e)
{
	const struct config_entry *ce = config_find(name);

	if (ce == NULL)
		return err_set(e, ERR_UNKNOWN_PARAMETER, "unknown setting \"%s\"", name);
	return config_apply(cfg, ce, value, e);
}

/* One key of the config file: a catalog object or a table setting. */
static int config_load_key(struct config *cfg, const char *key, json_t *val, struct err *e)
{
	const struct config_entry *ce;
	char num[32];

	if (strcmp(key, "catalog") == 0) {
		if (!json_is_object(val))
			return err_set(e, ERR_INVALID_PARAMETER_VALUE, "setting catalog: expected an object");
		json_decref(cfg->catalog);
		cfg->catalog = json_incref(val);
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
}

void config_free(struct config *cfg)
{
	json_decref(cfg->catalog);
	cfg->catalog = NULL;
}
