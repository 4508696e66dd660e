/*
 * fleet_logs.c - see fleet_logs.h. The server rotates its csvlog files (10 MB
 * or a day, pgnode_conf.c); this deletes the rotated ones past the limits
 * (pg/pglog.h: pglog_retain never touches the file being written).
 */
#include "task/fleet_logs.h"

#include <stdio.h>
#include <time.h>

#include "core/log.h"
#include "pg/pglog.h"

void fleet_logs_retain(const struct fleet *f, const struct store_res *list, size_t n)
{
	const uint64_t max_bytes = (uint64_t)f->cfg->log_retention_mb << 20;
	const int64_t max_age = (int64_t)f->cfg->log_retention_days * 86400;

	for (size_t i = 0; i < n; i++) {
		struct pgnode node;
		struct pglog_retain_stats st;
		char dir[PATH_MAX];
		struct err e;

		if (json_object_get(list[i].doc, "NodeId") == NULL ||
		    fleet_primary_node(f, list[i].doc, &node, &e) != 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/log", node.dir);
		if (pglog_retain(dir, max_bytes, max_age, (int64_t)time(NULL), &st, &e) != 0)
			log_warn(list[i].id, "log retention: %s", err_message(&e, ERR_LANG_EN));
		else if (st.files > 0)
			log_info(list[i].id, "log retention: removed %zu files (%llu bytes)", st.files,
				 (unsigned long long)st.bytes);
	}
}
