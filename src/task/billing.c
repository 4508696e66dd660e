/*
 * billing.c - what billing_tasks.c, billing_supervise.c and the billing
 * actions share (see billing.h): start-up checks, switch windows, the
 * priced item of an instance, and starting a waiting switch.
 */
#include "task/billing.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/clockfile.h"
#include "core/log.h"

static struct billing_window billing_maint = { 3 * 3600, 4 * 3600 };

int billing_time_of_day(const char *s)
{
	int v[3];

	if (s == NULL || strlen(s) != 8 || s[2] != ':' || s[5] != ':')
		return -1;
	for (int i = 0; i < 3; i++) {
		const char *p = s + 3 * i;
		if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
			return -1;
		v[i] = (p[0] - '0') * 10 + (p[1] - '0');
	}
	if (v[0] > 23 || v[1] > 59 || v[2] > 59)
		return -1;
	return v[0] * 3600 + v[1] * 60 + v[2];
}

int billing_window_parse(const char *start, const char *end, struct billing_window *w, struct err *e)
{
	int s = billing_time_of_day(start), t = billing_time_of_day(end);
	int len;

	if (start == NULL || end == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "SwitchStartTime and SwitchEndTime are required when SwitchTag is 1.");
	if (s < 0 || t < 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "SwitchStartTime and SwitchEndTime must be times of day as HH:MM:SS, such as 01:00:00.");
	len = (t - s + BILLING_DAY_S) % BILLING_DAY_S;
	if (len < BILLING_WINDOW_MIN_S)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "The switch window %s-%s lasts %d minutes; it must last at least %d minutes.", start, end,
			       len / 60, BILLING_WINDOW_MIN_S / 60);
	w->start_s = s;
	w->end_s = t;
	return 0;
}

const struct billing_window *billing_maintenance_window(void)
{
	return &billing_maint;
}

int billing_window_contains(const struct billing_window *w, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int s;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	s = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	if (w->start_s < w->end_s)
		return s >= w->start_s && s < w->end_s;
	return s >= w->start_s || s < w->end_s;
}

/* "HH:MM:SS-HH:MM:SS" of the maintenance_window setting. */
static int billing_maint_parse(const char *range, struct err *e)
{
	char start[16], end[16];
	const char *dash = strchr(range, '-');

	if (dash == NULL || dash - range >= (long)sizeof(start) || strlen(dash + 1) >= sizeof(end))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "setting maintenance_window: expected HH:MM:SS-HH:MM:SS");
	memcpy(start, range, (size_t)(dash - range));
	start[dash - range] = '\0';
	memcpy(end, dash + 1, strlen(dash + 1) + 1);
	if (billing_window_parse(start, end, &billing_maint, e) != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "setting maintenance_window: %s",
			       err_message(e, ERR_LANG_EN));
	return 0;
}

int billing_init(const struct config *cfg, struct err *e)
{
	if (pricing_load(cfg->pricing, e) != 0)
		return -1;
	return billing_maint_parse(cfg->maintenance_window, e);
}

void billing_item_of(const json_t *doc, struct pricing_item *it)
{
	it->spec_code = json_string_value(json_object_get(doc, "SpecCode"));
	it->cpu = (int)json_integer_value(json_object_get(doc, "Cpu"));
	it->memory_mb = (int)json_integer_value(json_object_get(doc, "MemoryMb"));
	it->storage_gb = (long long)json_integer_value(json_object_get(doc, "StorageGb"));
}

int billing_is_postpaid(const json_t *doc)
{
	const char *c = json_string_value(json_object_get(doc, "ChargeType"));

	return c != NULL && strcmp(c, "POSTPAID_BY_HOUR") == 0;
}

const char *billing_switch_status(const char *kind)
{
	if (kind != NULL && strcmp(kind, "spec") == 0)
		return "expanding";
	if (kind != NULL && strcmp(kind, "kernel") == 0)
		return "upgrading";
	return "switching";
}

/* waitSwitch -> the change's status; the pending change leaves the doc
 * (its parameters travel with the task). */
static int billing_mut_switch_start(struct store_res *r, void *arg, struct err *e)
{
	json_t *pending = json_object_get(r->doc, "PendingSwitch");

	if (strcmp(r->status, BILLING_WAIT_STATUS) != 0 || !json_is_object(pending))
		return err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_OP_ERROR,
			       "Instance %s is not waiting for a switch (status %s).", r->id, r->status);
	snprintf(r->status, sizeof(r->status), "%s",
		 billing_switch_status(json_string_value(json_object_get(pending, "Kind"))));
	json_object_del(r->doc, "PendingSwitch");
	return 0;
}

int billing_switch_start(struct fleet *f, int64_t tenant, const char *id, int64_t *task, struct err *e)
{
	struct store_res r;
	json_t *params;
	int rc;

	if (store_res_get(f->store, FLEET_KIND, id, tenant, &r, e) != 0)
		return -1;
	params = json_object_get(json_object_get(r.doc, "PendingSwitch"), "Params");
	if (strcmp(r.status, BILLING_WAIT_STATUS) != 0 || !json_is_object(params)) {
		rc = err_set(e, ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_OP_ERROR,
			     "Instance %s is not waiting for a switch (status %s).", id, r.status);
	} else {
		params = json_deep_copy(params);
		rc = fleet_task_submit(f, r.tenant_id, BILLING_SWITCH_KIND, id, params, billing_mut_switch_start, NULL,
				       task, e);
		if (rc == 0)
			log_info(id, "switch started (task %lld)", (long long)*task);
	}
	store_res_free(&r);
	return rc;
}

void billing_start(struct fleet *f)
{
	struct err e;

	if (clockfile_load(f->cfg->data_dir, &e) != 0)
		log_warn("clock", "%s", err_message(&e, ERR_LANG_EN));
}
