/*
 * backup_sched.c - the backup scheduler, one pass every backup_check_s
 * from the supervisor (see backup.h):
 *
 *   archiving  every instance whose server exists archives into its own
 *              store: data/pgfleet-backup.conf names the archiver, the
 *              instance's wal/ directory and the current clock offset
 *              (rewritten, and the server reloaded, when any changes)
 *   health     the archiver notes a failing push in its archive
 *              (wal/.failed: segment, time, reason); a WAL segment waiting
 *              for the archiver for more than BACKUP_STUCK_S means it cannot
 *              even run. Either way the failure (and pg_stat_archiver's
 *              failed_count) is recorded on the instance's plan
 *              (ArchiveFailing, shown by DescribeLogBackups as a "failed"
 *              log backup) and logged; cleared once archiving succeeds
 *   plans      a running instance gets an automatic base backup when its
 *              most recent plan window (at or after its creation) has none
 *              (a window missed while the daemon was down is caught up
 *              once), and a new instance its first one after
 *              backup_first_delay_s; failures are retried after
 *              backup_retry_s. The records themselves are the scheduler's
 *              memory, so it survives restarts.
 *   expiry     base backups past their ExpireTime are deleted; archived
 *              WAL older than the log retention is deleted unless a kept
 *              base backup needs it (its own segments) or it is a timeline
 *              history file
 *   cleanup    the backups of destroyed instances are deleted
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "task/backup.h"

#define BACKUP_STUCK_S        60      /* a .ready segment older than this: archiving fails */
#define BACKUP_WARN_EVERY_S   600     /* repeat the "archiving fails" warning this often */

struct sched_pass {
	struct fleet *f;
	int64_t now;                 /* business time */
	struct store_res *bases;
	size_t nbases;
};

static bool sched_status_in(const struct store_res *r, const char *const *set)
{
	for (; *set != NULL; set++)
		if (strcmp(r->status, *set) == 0)
			return true;
	return false;
}

static const char *sched_doc_str(const json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key)) ?: "";
}

static bool sched_runs(const struct store_res *inst)
{
	static const char *const on[] = { "running", "readonly", NULL };

	return sched_status_in(inst, on);
}

int backup_settings(const struct fleet *f, const char *inst, struct pgbackup_settings *s, char *archiver,
		    char *wal_dir, struct err *e)
{
	memset(s, 0, sizeof(*s));
	if (backup_archiver_path(f, archiver, PGBACKUP_PATH_MAX, e) != 0 ||
	    backup_wal_dir(f, inst, wal_dir, PGBACKUP_PATH_MAX, e) != 0)
		return -1;
	s->archiver = archiver;
	s->wal_dir = wal_dir;
	s->mtime_offset = clock_offset();
	s->archive_timeout_s = f->cfg->backup_archive_timeout_s;
	return 0;
}

/* ---- archiving ---------------------------------------------------------------------------- */

static void sched_archiving(struct sched_pass *p, const struct store_res *inst)
{
	static const char *const with_node[] = { "running", "readonly", "isolated", "restarting", NULL };
	char archiver[PGBACKUP_PATH_MAX], wal[PGBACKUP_PATH_MAX];
	struct pgbackup_settings s;
	struct pgnode n;
	struct pgnode_state st;
	struct err e;
	bool changed = false;

	if (!sched_status_in(inst, with_node))
		return;
	if (fleet_primary_node(p->f, inst->doc, &n, &e) != 0 || backup_dirs_ensure(p->f, inst->id, n.user, &e) != 0 ||
	    backup_settings(p->f, inst->id, &s, archiver, wal, &e) != 0 || pgbackup_conf_apply(&n, &s, &changed, &e) != 0) {
		log_warn(inst->id, "cannot configure WAL archiving: %s", err_message(&e, ERR_LANG_EN));
		return;
	}
	if (!changed)
		return;
	log_info(inst->id, "WAL archiving into %s", wal);
	if (pgnode_status(&n, &st, &e) == 0 && st.running && pgnode_reload(&n, &e) != 0)
		log_warn(inst->id, "reload: %s", err_message(&e, ERR_LANG_EN));
}

/* ---- archiver health ---------------------------------------------------------------------- */

/* Seconds the oldest segment has waited for the archiver (0: none). */
static int64_t sched_backlog_age(const struct pgnode *n, int *count)
{
	char path[sizeof(n->dir) + 32];
	DIR *d;
	struct dirent *de;
	struct stat st;
	time_t oldest = 0, now = time(NULL);

	*count = 0;
	snprintf(path, sizeof(path), "%s/data/pg_wal/archive_status", n->dir);
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 7 || strcmp(de->d_name + len - 6, ".ready") != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, 0) != 0)
			continue;
		(*count)++;
		if (oldest == 0 || st.st_mtime < oldest)
			oldest = st.st_mtime;
	}
	closedir(d);
	return oldest == 0 ? 0 : (int64_t)(now - oldest);
}

struct sched_failing {
	json_t *info;        /* NULL: clear */
};

static int sched_mut_failing(struct store_res *r, void *arg, struct err *e)
{
	struct sched_failing *fl = arg;

	if (fl->info == NULL)
		json_object_del(r->doc, "ArchiveFailing");
	else
		json_object_set(r->doc, "ArchiveFailing", fl->info);
	return 0;
}

/* The archiver's own note of a failing push (DIR/.failed): 1 and the
 * fields when there is one. */
static int sched_failed_note(struct sched_pass *p, const char *inst, char name[PGBACKUP_WAL_NAME_MAX + 1],
			     int64_t *when, char *why, size_t cap)
{
	char path[PGBACKUP_PATH_MAX + 16], line[1024];
	struct err e;
	long long t = 0;
	int used = 0;
	FILE *f;

	if (backup_wal_dir(p->f, inst, path, PGBACKUP_PATH_MAX, &e) != 0)
		return 0;
	strncat(path, "/" PGBACKUP_FAILED_FILE, sizeof(path) - strlen(path) - 1);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	line[0] = '\0';
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%40s %lld %n", name, &t, &used) < 2 || used == 0)
		return 0;
	*when = (int64_t)t;
	snprintf(why, cap, "%s", line + used);
	return 1;
}

/* pg_stat_archiver's failure count of an instance (-1 when unreachable). */
static long long sched_failed_count(const struct store_res *inst)
{
	PGconn *c;
	PGresult *res = NULL;
	struct err e;
	long long n = -1;

	if (fleet_connect(inst->doc, NULL, &c, &e) != 0)
		return -1;
	if (pgsql_exec(c, "SELECT failed_count FROM pg_stat_archiver", 0, NULL, &res, &e) == 0 && PQntuples(res) == 1)
		n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	pgsql_close(c);
	return n;
}

/* What is wrong with an instance's archiving, or NULL when nothing. */
static json_t *sched_failing_info(struct sched_pass *p, const struct store_res *inst, const struct pgnode *n)
{
	char name[PGBACKUP_WAL_NAME_MAX + 1] = "", why[512] = "";
	int64_t when = 0, age;
	int count;

	age = sched_backlog_age(n, &count);
	if (!sched_failed_note(p, inst->id, name, &when, why, sizeof(why))) {
		if (age < BACKUP_STUCK_S)
			return NULL;
		snprintf(why, sizeof(why), "%d WAL segments wait for the archiver, the oldest for %lld s", count,
			 (long long)age);
		when = p->now - age;
	}
	return json_pack("{s:I, s:i, s:s, s:I, s:s, s:I}", "Since", (json_int_t)p->now, "Backlog", count,
			 "LastFailedWal", name, "LastFailedTime", (json_int_t)when, "Reason", why, "FailedCount",
			 (json_int_t)sched_failed_count(inst));
}

static void sched_health(struct sched_pass *p, const struct store_res *inst, const json_t *plan)
{
	struct pgnode n;
	struct err e;
	json_t *was = json_object_get(plan, "ArchiveFailing");
	struct sched_failing fl = { NULL };

	if (!sched_runs(inst) || fleet_primary_node(p->f, inst->doc, &n, &e) != 0)
		return;
	fl.info = sched_failing_info(p, inst, &n);
	if (fl.info == NULL) {
		if (was != NULL && backup_plan_modify(p->f, inst, sched_mut_failing, &fl, &e) == 0)
			log_info(inst->id, "WAL archiving works again");
		return;
	}
	if (was != NULL)
		json_object_set(fl.info, "Since", json_object_get(was, "Since"));
	if (was == NULL || p->now - json_integer_value(json_object_get(was, "Warned")) >= BACKUP_WARN_EVERY_S) {
		log_warn(inst->id, "WAL archiving fails on %s: %s (%lld failures; see the server log)",
			 json_string_value(json_object_get(fl.info, "LastFailedWal")),
			 json_string_value(json_object_get(fl.info, "Reason")),
			 (long long)json_integer_value(json_object_get(fl.info, "FailedCount")));
		json_object_set_new(fl.info, "Warned", json_integer((json_int_t)p->now));
	} else {
		json_object_set(fl.info, "Warned", json_object_get(was, "Warned"));
	}
	if (backup_plan_modify(p->f, inst, sched_mut_failing, &fl, &e) != 0)
		log_warn(inst->id, "record archiving failure: %s", err_message(&e, ERR_LANG_EN));
	json_decref(fl.info);
}

/* ---- plans ----------------------------------------------------------------------------------- */

struct sched_history {
	bool finished, running;       /* any mode */
	int64_t last_start;           /* any mode, any state */
	int64_t last_auto_start;      /* automatic, any state */
	int64_t last_auto_good;       /* automatic, finished or running */
};

static void sched_history_of(const struct sched_pass *p, const char *inst, struct sched_history *h)
{
	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < p->nbases; i++) {
		const json_t *d = p->bases[i].doc;
		int64_t start = (int64_t)json_integer_value(json_object_get(d, "StartTime"));
		bool good = strcmp(p->bases[i].status, "failed") != 0;
		bool automatic = strcmp(sched_doc_str(d, "BackupMode"), "automatic") == 0;
		if (strcmp(sched_doc_str(d, "DBInstanceId"), inst) != 0)
			continue;
		h->finished |= strcmp(p->bases[i].status, "finished") == 0;
		h->running |= strcmp(p->bases[i].status, "running") == 0;
		if (start > h->last_start)
			h->last_start = start;
		if (automatic && start > h->last_auto_start)
			h->last_auto_start = start;
		if (automatic && good && start > h->last_auto_good)
			h->last_auto_good = start;
	}
}

static void sched_plan(struct sched_pass *p, const struct store_res *inst, const json_t *plan)
{
	struct backup_plan bp;
	struct sched_history h;
	int64_t created = (int64_t)json_integer_value(json_object_get(inst->doc, "CreateTime"));
	int64_t window, retry = p->f->cfg->backup_retry_s;
	char id[BACKUP_ID_LEN + 1];
	struct err e;
	bool due;

	if (!sched_runs(inst))
		return;
	sched_history_of(p, inst->id, &h);
	if (h.running)
		return;
	backup_plan_parse(plan, &bp);
	window = backup_plan_last_window(&bp, p->now);
	due = !h.finished && p->now >= created + p->f->cfg->backup_first_delay_s && p->now - h.last_start >= retry;
	due |= window > 0 && window >= created && h.last_auto_good < window && p->now - h.last_auto_start >= retry;
	if (due && backup_base_submit(p->f, inst, "automatic", id, &e) != 0)
		log_warn(inst->id, "automatic base backup: %s", err_message(&e, ERR_LANG_EN));
}

/* ---- expiry ---------------------------------------------------------------------------------- */

static void sched_expire_bases(struct sched_pass *p, const char *inst)
{
	struct err e;

	for (size_t i = 0; i < p->nbases; i++) {
		const json_t *d = p->bases[i].doc;
		int64_t expire = (int64_t)json_integer_value(json_object_get(d, "ExpireTime"));
		if (strcmp(sched_doc_str(d, "DBInstanceId"), inst) != 0 || strcmp(p->bases[i].status, "running") == 0 ||
		    expire <= 0 || expire > p->now)
			continue;
		if (backup_base_remove(p->f, p->bases[i].id, &e) == 0)
			log_info(inst, "base backup %s expired", p->bases[i].id);
		else
			log_warn(inst, "expire base backup %s: %s", p->bases[i].id, err_message(&e, ERR_LANG_EN));
	}
}

static void sched_expire_wal(struct sched_pass *p, const char *inst, const json_t *plan)
{
	char wal[PGBACKUP_PATH_MAX];
	struct backup_plan bp;
	struct backup_base_ref *b = NULL;
	struct pgbackup_wal_file *w = NULL;
	size_t nb = 0, nw = 0, gone = 0;
	struct err e;

	backup_plan_parse(plan, &bp);
	if (backup_wal_dir(p->f, inst, wal, sizeof(wal), &e) == 0 && backup_base_refs(p->f->store, inst, &b, &nb, &e) == 0 &&
	    pgbackup_wal_list(wal, &w, &nw, &e) == 0)
		for (size_t i = 0; i < nw; i++)
			if (w[i].mtime < p->now - (int64_t)bp.log_days * BACKUP_DAY_S && !backup_wal_needed(b, nb, &w[i]) &&
			    pgbackup_wal_remove(wal, w[i].name, &e) == 0)
				gone++;
	if (gone > 0)
		log_info(inst, "%zu archived WAL files expired", gone);
	free(b);
	free(w);
}

/* ---- cleanup of destroyed instances ----------------------------------------------------------- */

static bool sched_inst_exists(const struct store_res *insts, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(insts[i].id, id) == 0)
			return true;
	return false;
}

/* Gone for sure: not in the pass's list and not in the store now (an
 * instance created during the pass is in the store, not in the list). */
static bool sched_inst_gone(struct sched_pass *p, const struct store_res *insts, size_t n, const char *id)
{
	struct store_res r;
	struct err e;

	if (sched_inst_exists(insts, n, id))
		return false;
	if (store_res_get(p->f->store, FLEET_KIND, id, 0, &r, &e) == 0) {
		store_res_free(&r);
		return false;
	}
	return e.code == ERR_RESOURCE_NOT_FOUND;
}

static void sched_cleanup(struct sched_pass *p, const struct store_res *insts, size_t ninst)
{
	char root[PGBACKUP_PATH_MAX], dir[PGBACKUP_PATH_MAX + 300];
	struct err e;
	DIR *d;
	struct dirent *de;

	for (size_t i = 0; i < p->nbases; i++)
		if (strcmp(p->bases[i].status, "running") != 0 &&
		    sched_inst_gone(p, insts, ninst, sched_doc_str(p->bases[i].doc, "DBInstanceId")))
			backup_base_remove(p->f, p->bases[i].id, &e);
	if (backup_root(p->f, root, sizeof(root), &e) != 0 || (d = opendir(root)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "postgres-", 9) != 0 || !sched_inst_gone(p, insts, ninst, de->d_name))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, de->d_name);
		if (pgbackup_remove_tree(dir, &e) == 0)
			log_info(de->d_name, "backups of the destroyed instance removed");
		store_res_delete(p->f->store, BACKUP_KIND_PLAN, de->d_name, &e);
	}
	closedir(d);
}

/* ---- the pass ---------------------------------------------------------------------------------- */

static void sched_instance(struct sched_pass *p, const struct store_res *inst)
{
	json_t *plan = NULL;
	struct err e;

	sched_archiving(p, inst);
	if (backup_plan_load(p->f->store, inst->id, &plan, &e) != 0)
		return;
	sched_health(p, inst, plan);
	sched_plan(p, inst, plan);
	sched_expire_bases(p, inst->id);
	sched_expire_wal(p, inst->id, plan);
	json_decref(plan);
}

/* Once per daemon: install the archiver and check the settings. */
static void sched_init(struct fleet *f)
{
	enum pgbackup_compression c;
	char root[PGBACKUP_PATH_MAX];
	struct err e;

	if (backup_install_archiver(f, &e) != 0)
		log_error("backup", "%s", err_message(&e, ERR_LANG_EN));
	if (pgbackup_compression_parse(f->cfg->backup_compression, &c) != 0)
		log_error("backup", "backup_compression `%s` is not zstd, lz4, gzip or none: base backups will fail",
			  f->cfg->backup_compression);
	if (backup_root(f, root, sizeof(root), &e) != 0 || !pgbackup_path_ok(root))
		log_error("backup", "backup_root `%s` is not a plain absolute path: archiving will fail", root);
}

void backup_supervise(struct fleet *f)
{
	static bool inited;
	static struct timespec last;
	struct timespec now;
	struct sched_pass p = { .f = f, .now = clock_now() };
	struct store_res *insts;
	size_t ninst;
	struct err e;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (inited && now.tv_sec - last.tv_sec < f->cfg->backup_check_s)
		return;
	if (!inited)
		sched_init(f);
	inited = true;
	last = now;
	if (store_res_list(f->store, FLEET_KIND, 0, &insts, &ninst, &e) != 0)
		return;
	if (store_res_list(f->store, BACKUP_KIND_BASE, 0, &p.bases, &p.nbases, &e) == 0) {
		for (size_t i = 0; i < ninst; i++)
			sched_instance(&p, &insts[i]);
		sched_cleanup(&p, insts, ninst);
		store_res_list_free(p.bases, p.nbases);
	}
	store_res_list_free(insts, ninst);
}

void backup_interrupt(void)
{
	pgbackup_interrupt();
}
