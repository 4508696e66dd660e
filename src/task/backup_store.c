/*
 * backup_store.c - see backup.h: where backups live, times and ids, backup
 * plans, and the base backup records (submission and removal).
 */
#include "task/backup.h"
#include "lib/install.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define BACKUP_COPY_MAX   (64ll * 1024 * 1024)   /* the archiver program, at most */
#define BACKUP_WINDOW_DEFAULT_MIN "00:00:00"
#define BACKUP_WINDOW_DEFAULT_MAX "01:00:00"

static const char *const backup_weekdays[7] = { "sunday", "monday", "tuesday", "wednesday",
						"thursday", "friday", "saturday" };

/* ---- places ------------------------------------------------------------------------------ */

static int backup_fmt(char *out, size_t cap, struct err *e, const char *fmt, const char *a, const char *b,
		      const char *c)
{
	int n = snprintf(out, cap, fmt, a, b, c);

	if (n < 0 || (size_t)n >= cap)
		return err_set(e, ERR_INTERNAL_ERROR, "backup path too long");
	return 0;
}

/* An instance id or backup id usable as one path component. */
static bool backup_name_ok(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len < STORE_ID_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len &&
	       s[0] != '-';
}

int backup_root(const struct fleet *f, char *out, size_t cap, struct err *e)
{
	if (f->cfg->backup_root[0] != '\0')
		return backup_fmt(out, cap, e, "%s%s%s", f->cfg->backup_root, "", "");
	return backup_fmt(out, cap, e, "%s/%s%s", f->cfg->data_dir, "backups", "");
}

int backup_inst_dir(const struct fleet *f, const char *inst, char *out, size_t cap, struct err *e)
{
	char root[PGBACKUP_PATH_MAX];

	if (!backup_name_ok(inst))
		return err_set(e, ERR_INTERNAL_ERROR, "bad instance id");
	if (backup_root(f, root, sizeof(root), e) != 0)
		return -1;
	return backup_fmt(out, cap, e, "%s/%s%s", root, inst, "");
}

int backup_wal_dir(const struct fleet *f, const char *inst, char *out, size_t cap, struct err *e)
{
	char dir[PGBACKUP_PATH_MAX];

	if (backup_inst_dir(f, inst, dir, sizeof(dir), e) != 0)
		return -1;
	return backup_fmt(out, cap, e, "%s/%s%s", dir, "wal", "");
}

int backup_base_dir(const struct fleet *f, const char *inst, const char *id, char *out, size_t cap,
		    struct err *e)
{
	char dir[PGBACKUP_PATH_MAX];

	if (!backup_name_ok(id))
		return err_set(e, ERR_INTERNAL_ERROR, "bad backup id");
	if (backup_inst_dir(f, inst, dir, sizeof(dir), e) != 0)
		return -1;
	return backup_fmt(out, cap, e, "%s/base/%s%s", dir, id, "");
}

int backup_archiver_path(const struct fleet *f, char *out, size_t cap, struct err *e)
{
	return backup_fmt(out, cap, e, "%s/bin/%s%s", f->cfg->data_dir, BACKUP_ARCHIVER, "");
}

int backup_dirs_ensure(const struct fleet *f, const char *inst, const struct pgnode_user *u, struct err *e)
{
	char root[PGBACKUP_PATH_MAX], dir[PGBACKUP_PATH_MAX], sub[PGBACKUP_PATH_MAX + 8];

	if (backup_root(f, root, sizeof(root), e) != 0 || backup_inst_dir(f, inst, dir, sizeof(dir), e) != 0 ||
	    pgbackup_mkdir(root, 0711, NULL, e) != 0 || pgbackup_mkdir(dir, 0700, u, e) != 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s/wal", dir);
	if (pgbackup_mkdir(sub, 0700, u, e) != 0)
		return -1;
	snprintf(sub, sizeof(sub), "%s/base", dir);
	return pgbackup_mkdir(sub, 0700, u, e);
}

int backup_install_archiver(const struct fleet *f, struct err *e)
{
	char exe[PATH_MAX], src[PATH_MAX + 32], dst[PGBACKUP_PATH_MAX], bin[PGBACKUP_PATH_MAX];

	if (install_exe_dir(exe, sizeof(exe), e) != 0 || backup_archiver_path(f, dst, sizeof(dst), e) != 0 ||
	    backup_fmt(bin, sizeof(bin), e, "%s/bin%s%s", f->cfg->data_dir, "", "") != 0)
		return -1;
	snprintf(src, sizeof(src), "%s/%s", exe, BACKUP_ARCHIVER);
	if (access(src, X_OK) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "the archiver %s is missing: WAL archiving will fail", src);
	if (pgbackup_mkdir(bin, 0711, NULL, e) != 0)
		return -1;
	return install_file(src, dst, 0755, e);
}

/* ---- times and ids ------------------------------------------------------------------------ */

int backup_time_parse(const char *s, int64_t *out)
{
	struct tm tm, chk;
	time_t t;
	static const char shape[] = "dddd-dd-dd dd:dd:dd";

	if (strlen(s) != sizeof(shape) - 1)
		return -1;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	chk = tm;
	t = mktime(&tm);
	if (t == (time_t)-1 || tm.tm_mday != chk.tm_mday || tm.tm_mon != chk.tm_mon || tm.tm_min != chk.tm_min ||
	    tm.tm_sec != chk.tm_sec)
		return -1;
	*out = (int64_t)t;
	return 0;
}


int backup_hms_parse(const char *s)
{
	int h, m, sec;

	if (strlen(s) != 8 || s[2] != ':' || s[5] != ':' || strspn(s, "0123456789:") != 8 ||
	    sscanf(s, "%2d:%2d:%2d", &h, &m, &sec) != 3 || h > 23 || m > 59 || sec > 59)
		return -1;
	return h * 3600 + m * 60 + sec;
}

static void backup_uuid_format(unsigned char b[16], char out[BACKUP_ID_LEN + 1], unsigned version)
{
	b[6] = (unsigned char)((b[6] & 0x0f) | (version << 4));
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, BACKUP_ID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

int backup_uuid(char out[BACKUP_ID_LEN + 1], struct err *e)
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return err_set(e, ERR_INTERNAL_ERROR, "no randomness");
	backup_uuid_format(b, out, 4);
	return 0;
}

void backup_log_id(const char *inst, const char *name, char out[BACKUP_ID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char buf[STORE_ID_MAX + PGBACKUP_WAL_NAME_MAX + 2];
	int n = snprintf(buf, sizeof(buf), "%s/%s", inst, name);

	memset(md, 0, sizeof(md));
	EVP_Digest(buf, n > 0 ? (size_t)n : 0, md, &mdlen, EVP_sha256(), NULL);
	backup_uuid_format(md, out, 5);
}

bool backup_id_ok(const char *id)
{
	if (strlen(id) != BACKUP_ID_LEN)
		return false;
	for (int i = 0; i < BACKUP_ID_LEN; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? id[i] != '-'
							      : strchr("0123456789abcdef", id[i]) == NULL || id[i] == '\0')
			return false;
	return true;
}

/* ---- plans --------------------------------------------------------------------------------- */

int backup_weekday_bit(const char *name)
{
	for (int i = 0; i < 7; i++)
		if (strcmp(backup_weekdays[i], name) == 0)
			return i;
	return -1;
}

const char *backup_weekday_name(int day)
{
	return day >= 0 && day < 7 ? backup_weekdays[day] : "";
}

static json_t *backup_plan_default(const char *inst)
{
	json_t *days = json_array();

	for (int i = 1; i <= 7; i++)
		json_array_append_new(days, json_string(backup_weekdays[i % 7]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:i, s:s, s:s, s:s, s:I, s:I}", "DBInstanceId", inst,
			 "PlanId", BACKUP_PLAN_ID, "PlanName", BACKUP_PLAN_ID, "MinBackupStartTime",
			 BACKUP_WINDOW_DEFAULT_MIN, "MaxBackupStartTime", BACKUP_WINDOW_DEFAULT_MAX, "BackupPeriod", days,
			 "BaseBackupRetentionPeriod", BACKUP_RETENTION_MIN, "LogBackupRetentionPeriod",
			 BACKUP_RETENTION_MIN, "BackupMethod", "physical", "PlanType", "default", "BackupPeriodType", "week",
			 "CreatedTime", (json_int_t)0, "UpdatedTime", (json_int_t)0);
}

int backup_plan_load(struct store *s, const char *inst, json_t **doc, struct err *e)
{
	struct store_res r;

	if (store_res_get(s, BACKUP_KIND_PLAN, inst, 0, &r, e) == 0) {
		*doc = json_incref(r.doc);
		store_res_free(&r);
		return 0;
	}
	if (e->code != ERR_RESOURCE_NOT_FOUND)
		return -1;
	*doc = backup_plan_default(inst);
	return *doc ? 0 : err_set(e, ERR_INTERNAL_ERROR, "out of memory");
}

void backup_plan_parse(const json_t *doc, struct backup_plan *p)
{
	const char *min = json_string_value(json_object_get(doc, "MinBackupStartTime"));
	const char *max = json_string_value(json_object_get(doc, "MaxBackupStartTime"));
	json_t *days = json_object_get(doc, "BackupPeriod"), *d;
	size_t i;

	p->min_start_s = backup_hms_parse(min ? min : BACKUP_WINDOW_DEFAULT_MIN);
	p->max_start_s = backup_hms_parse(max ? max : BACKUP_WINDOW_DEFAULT_MAX);
	if (p->min_start_s < 0)
		p->min_start_s = 0;
	p->weekdays = json_is_array(days) ? 0 : 0x7f;
	json_array_foreach(days, i, d)
		if (backup_weekday_bit(json_string_value(d) ?: "") >= 0)
			p->weekdays |= 1u << backup_weekday_bit(json_string_value(d));
	p->base_days = (int)json_integer_value(json_object_get(doc, "BaseBackupRetentionPeriod"));
	p->log_days = (int)json_integer_value(json_object_get(doc, "LogBackupRetentionPeriod"));
	if (p->base_days < BACKUP_RETENTION_MIN)
		p->base_days = BACKUP_RETENTION_MIN;
	if (p->log_days < BACKUP_RETENTION_MIN)
		p->log_days = BACKUP_RETENTION_MIN;
}

int64_t backup_plan_last_window(const struct backup_plan *p, int64_t now)
{
	time_t tt = (time_t)now;
	struct tm today, tm;

	if (p->weekdays == 0 || localtime_r(&tt, &today) == NULL)
		return -1;
	for (int d = 0; d <= 7; d++) {
		tm = today;
		tm.tm_mday -= d;
		tm.tm_hour = p->min_start_s / 3600;
		tm.tm_min = p->min_start_s / 60 % 60;
		tm.tm_sec = p->min_start_s % 60;
		tm.tm_isdst = -1;
		time_t w = mktime(&tm);
		if (w != (time_t)-1 && (int64_t)w <= now && (p->weekdays & (1u << tm.tm_wday)))
			return (int64_t)w;
	}
	return -1;
}

int backup_plan_modify(struct fleet *f, const struct store_res *inst,
			     int (*fn)(struct store_res *r, void *arg, struct err *e), void *arg, struct err *e)
{
	struct store_res r;

	memset(&r, 0, sizeof(r));
	err_clear(e);
	if (store_res_modify(f->store, BACKUP_KIND_PLAN, inst->id, 0, fn, arg, e) == 0)
		return 0;
	if (e->code != ERR_RESOURCE_NOT_FOUND)
		return -1;
	snprintf(r.kind, sizeof(r.kind), "%s", BACKUP_KIND_PLAN);
	snprintf(r.id, sizeof(r.id), "%s", inst->id);
	snprintf(r.status, sizeof(r.status), "active");
	r.tenant_id = inst->tenant_id;
	if (backup_plan_load(f->store, inst->id, &r.doc, e) != 0)
		return -1;
	json_object_set_new(r.doc, "CreatedTime", json_integer((json_int_t)clock_now()));
	json_object_set_new(r.doc, "UpdatedTime", json_integer((json_int_t)clock_now()));
	if (fn(&r, arg, e) != 0 || store_res_insert(f->store, &r, e) != 0) {
		store_res_free(&r);
		/* created meanwhile by another thread: modify that one */
		if (e->code == ERR_RESOURCE_IN_USE)
			return store_res_modify(f->store, BACKUP_KIND_PLAN, inst->id, 0, fn, arg, e);
		return -1;
	}
	store_res_free(&r);
	return 0;
}

/* ---- records ---------------------------------------------------------------------------------- */

static int64_t backup_doc_int(const json_t *doc, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(doc, key));
}

int backup_base_refs(struct store *s, const char *inst, struct backup_base_ref **out, size_t *n, struct err *e)
{
	struct store_res *list;
	size_t cnt;

	*out = NULL;
	*n = 0;
	if (store_res_list(s, BACKUP_KIND_BASE, 0, &list, &cnt, e) != 0)
		return -1;
	*out = calloc(cnt ? cnt : 1, sizeof(**out));
	if (*out == NULL) {
		store_res_list_free(list, cnt);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	for (size_t i = 0; i < cnt; i++) {
		const json_t *d = list[i].doc;
		struct backup_base_ref *r = &(*out)[*n];
		if (strcmp(list[i].status, "finished") != 0 ||
		    strcmp(json_string_value(json_object_get(d, "DBInstanceId")) ?: "", inst) != 0)
			continue;
		snprintf(r->id, sizeof(r->id), "%.*s", BACKUP_ID_LEN, list[i].id);
		r->finish = backup_doc_int(d, "FinishTime") + 1; /* complete by the end of that second */
		r->offset = backup_doc_int(d, "Offset");
		r->start_seg = (uint64_t)backup_doc_int(d, "StartSeg");
		r->stop_seg = (uint64_t)backup_doc_int(d, "StopSeg");
		r->tli = (uint32_t)backup_doc_int(d, "Timeline");
		(*n)++;
	}
	store_res_list_free(list, cnt);
	return 0;
}

/* The record of a new base backup of `inst`. */
static json_t *backup_base_doc(const struct fleet *f, const struct store_res *inst, const char *mode,
			       const char *id, struct err *e)
{
	enum pgbackup_compression comp;
	char stamp[32], name[96];
	int64_t now = clock_now();
	time_t tt = (time_t)now;
	struct tm tm;

	if (pgbackup_compression_parse(f->cfg->backup_compression, &comp) != 0) {
		err_set(e, ERR_INTERNAL_ERROR, "bad backup_compression setting `%s`", f->cfg->backup_compression);
		return NULL;
	}
	localtime_r(&tt, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	snprintf(name, sizeof(name), "%s-%s%s", mode, stamp, strchr(pgbackup_base_file(comp), '.'));
	json_t *doc = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:[], s:I, s:b}", "DBInstanceId", inst->id,
			 "Name", name, "BackupMode", mode, "StartTime", (json_int_t)now, "FinishTime", (json_int_t)0,
			 "ExpireTime", (json_int_t)0, "Offset", (json_int_t)clock_offset(), "Size", (json_int_t)0,
			 "File", pgbackup_base_file(comp), "DbList", "Seq", (json_int_t)strtoll(id + 24, NULL, 16),
			 "ExpireSet", 0);

	if (doc == NULL)
		err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	return doc;
}

int backup_base_submit(struct fleet *f, const struct store_res *inst, const char *mode,
		       char id[BACKUP_ID_LEN + 1], struct err *e)
{
	struct store_res r;
	int64_t task;
	int rc;

	memset(&r, 0, sizeof(r));
	if (backup_uuid(id, e) != 0)
		return -1;
	snprintf(r.kind, sizeof(r.kind), "%s", BACKUP_KIND_BASE);
	snprintf(r.id, sizeof(r.id), "%s", id);
	snprintf(r.status, sizeof(r.status), "running");
	r.tenant_id = inst->tenant_id;
	r.doc = backup_base_doc(f, inst, mode, id, e);
	if (r.doc == NULL)
		return -1;
	if (store_txn_begin(f->store, e) != 0) {
		store_res_free(&r);
		return -1;
	}
	rc = store_res_insert(f->store, &r, e);
	if (rc == 0)
		rc = fleet_task_submit(f, inst->tenant_id, "backup.base", id,
				       json_pack("{s:s}", "DBInstanceId", inst->id), NULL, NULL, &task, e);
	if (rc == 0)
		rc = store_txn_commit(f->store, e);
	else
		store_txn_rollback(f->store);
	store_res_free(&r);
	if (rc == 0)
		log_info(inst->id, "%s base backup %s submitted", mode, id);
	return rc;
}

int backup_base_remove(struct fleet *f, const char *id, struct err *e)
{
	struct store_res r;
	char dir[PGBACKUP_PATH_MAX], partial[PGBACKUP_PATH_MAX + 16];
	const char *inst;
	int rc = -1;

	if (store_res_get(f->store, BACKUP_KIND_BASE, id, 0, &r, e) != 0)
		return -1;
	inst = json_string_value(json_object_get(r.doc, "DBInstanceId"));
	if (strcmp(r.status, "running") == 0)
		err_set(e, ERR_FAILED_OPERATION_FAILED_OPERATION_ERROR, "The backup %s is still running.", id);
	else if (inst != NULL && backup_base_dir(f, inst, id, dir, sizeof(dir), e) == 0) {
		snprintf(partial, sizeof(partial), "%s.partial", dir);
		if (pgbackup_remove_tree(dir, e) == 0 && pgbackup_remove_tree(partial, e) == 0)
			rc = store_res_delete(f->store, BACKUP_KIND_BASE, id, e);
	}
	if (rc == 0)
		log_info(inst, "base backup %s deleted", id);
	store_res_free(&r);
	return rc;
}
