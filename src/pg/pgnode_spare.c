/*
 * pgnode_spare.c - ready-made copies of a template ("spares"), so that
 * creating a node is a rename() instead of a copy.
 *
 * Why: copying PGDATA means creating ~1000 files. That costs 50-150 ms on
 * an idle ext4, but on a filesystem without a journal ext4 skips inodes
 * freed in the last 60-360 s one by one when allocating (recently_deleted()
 * in ialloc.c), and right after instances were deleted a copy was measured
 * at 0.5-1 s. A spare is made off the critical path (after a creation task,
 * from the supervisor) and taken in well under a millisecond.
 *
 * Layout, next to the template's data/:
 *     TPL/spares/.lock          flock of the fillers
 *     TPL/spares/s-<hex>/data   a complete copy, owned by the node user
 *     TPL/spares/s-<hex>/READY  written last (after syncfs)
 * Taking a spare is rename(s-<hex>/data, DIR/data): atomic, so two
 * concurrent creators never get the same one; the loser sees ENOENT and
 * tries the next. Leftovers (no READY: a filler was killed; READY without
 * data: a taker was killed before cleaning up) are removed by the filler.
 */
#include "pg/pgnode_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define PGNODE_SPARES_DIR "spares"

/* TPL/spares of a template PGDATA path TPL/data. */
static int pgnode_spares_dir(const char *template_dir, char *out, size_t out_len, struct err *e)
{
	char tpl[PATH_MAX];

	if (pgnode_template_root(template_dir, tpl, sizeof(tpl), e) < 0)
		return -1;
	return pgnode_join(out, out_len, tpl, PGNODE_SPARES_DIR, e);
}

static bool pgnode_spare_name_ok(const char *name)
{
	return strncmp(name, "s-", 2) == 0 && strlen(name) > 2 && strchr(name, '/') == NULL;
}

/* Paths of one spare entry. */
struct pgnode_spare {
	char dir[PATH_MAX];
	char data[PATH_MAX];
	char ready[PATH_MAX];
};

static int pgnode_spare_paths(const char *spares, const char *name, struct pgnode_spare *s,
			      struct err *e)
{
	if (pgnode_join(s->dir, sizeof(s->dir), spares, name, e) < 0 ||
	    pgnode_join(s->data, sizeof(s->data), s->dir, "data", e) < 0 ||
	    pgnode_join(s->ready, sizeof(s->ready), s->dir, PGNODE_READY_FILE, e) < 0)
		return -1;
	return 0;
}

/* Is the spare's data owned by the user nodes run as? */
static bool pgnode_spare_owner_ok(const char *data, const struct pgnode_user *u)
{
	struct stat st;

	return lstat(data, &st) == 0 && S_ISDIR(st.st_mode) &&
	       st.st_uid == (u->set_ids ? u->uid : geteuid());
}

/* Try to move one spare to `dst`: 1 taken, 0 none. */
static int pgnode_spare_try(const char *spares, const char *name, const char *dst,
			    const struct pgnode_user *u)
{
	struct pgnode_spare s;
	struct err e;

	if (!pgnode_spare_name_ok(name) || pgnode_spare_paths(spares, name, &s, &e) < 0 ||
	    !pgnode_fs_exists(s.ready) || !pgnode_spare_owner_ok(s.data, u))
		return 0;
	if (rename(s.data, dst) < 0) {
		if (errno != ENOENT)
			log_warn(PGNODE_LOG_CTX, "taking spare %s failed: %s", s.dir,
				 pgnode_errname(errno));
		return 0;
	}
	if (unlink(s.ready) < 0 || rmdir(s.dir) < 0)
		log_warn(PGNODE_LOG_CTX, "cleaning spare %s failed: %s", s.dir, pgnode_errname(errno));
	return 1;
}

int pgnode_spare_take(const char *template_dir, const struct pgnode_user *u, const char *dst)
{
	char spares[PATH_MAX];
	struct err e;
	struct dirent *de;
	DIR *d;
	int took = 0;

	if (pgnode_spares_dir(template_dir, spares, sizeof(spares), &e) < 0)
		return 0;
	d = opendir(spares);
	if (d == NULL)
		return 0;
	while (!took && (de = readdir(d)) != NULL)
		took = pgnode_spare_try(spares, de->d_name, dst, u);
	closedir(d);
	return took;
}

/* Remove the spares that are not complete; count the complete ones. */
static int pgnode_spares_sweep(const char *spares, const struct pgnode_user *u, int *complete,
			       struct err *e)
{
	struct dirent *de;
	DIR *d = opendir(spares);
	int rc = 0;

	*complete = 0;
	if (d == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "opendir %s failed: %s", spares,
			       pgnode_errname(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct pgnode_spare s;
		if (!pgnode_spare_name_ok(de->d_name))
			continue;
		if (pgnode_spare_paths(spares, de->d_name, &s, e) < 0) {
			rc = -1;
			break;
		}
		if (pgnode_fs_exists(s.ready) && pgnode_spare_owner_ok(s.data, u))
			(*complete)++;
		else
			rc = pgnode_fs_remove_tree(s.dir, e);
	}
	closedir(d);
	return rc;
}

static int pgnode_spare_make(const char *spares, const char *template_dir,
			     const struct pgnode_user *u, struct err *e)
{
	struct pgnode_spare s;
	struct pgnode_copy_stats cs;
	unsigned char raw[8];
	char name[32];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return err_set(e, ERR_INTERNAL_ERROR, "getrandom failed");
	snprintf(name, sizeof(name), "s-%02x%02x%02x%02x%02x%02x%02x%02x", raw[0], raw[1], raw[2],
		 raw[3], raw[4], raw[5], raw[6], raw[7]);
	if (pgnode_spare_paths(spares, name, &s, e) < 0)
		return -1;
	if (mkdir(s.dir, 0700) < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "mkdir %s failed: %s", s.dir, pgnode_errname(errno));
	if (pgnode_fs_copy_tree(template_dir, s.data, u, &cs, e) < 0 ||
	    pgnode_fs_sync(s.data, e) < 0 ||
	    pgnode_fs_write_atomic(s.ready, "", 0, 0600, NULL, e) < 0) {
		struct err ignored;
		pgnode_fs_remove_tree(s.dir, &ignored);
		return -1;
	}
	return 0;
}

static int pgnode_spares_lock(const char *spares, int *fd, struct err *e)
{
	char path[PATH_MAX];

	if (pgnode_join(path, sizeof(path), spares, ".lock", e) < 0)
		return -1;
	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s failed: %s", path, pgnode_errname(errno));
	while (flock(*fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(*fd);
			return err_set(e, ERR_INTERNAL_ERROR, "flock %s failed: %s", path,
				       pgnode_errname(errno));
		}
	return 0;
}

int pgnode_spares_fill(const char *template_dir, const struct pgnode_user *u, int count,
		       struct err *e)
{
	char spares[PATH_MAX], tpl[PATH_MAX], tpl_ready[PATH_MAX];
	int lock, complete = 0, made = 0, rc = 0;
	int64_t t0 = pgnode_now_ms();

	if (!pgnode_path_ok(template_dir, 2) || count < 0 || count > PGNODE_SPARES_MAX || u == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad spare parameters");
	if (pgnode_template_root(template_dir, tpl, sizeof(tpl), e) < 0 ||
	    pgnode_join(spares, sizeof(spares), tpl, PGNODE_SPARES_DIR, e) < 0 ||
	    pgnode_join(tpl_ready, sizeof(tpl_ready), tpl, PGNODE_READY_FILE, e) < 0)
		return -1;
	if (!pgnode_fs_exists(tpl_ready))
		return err_set(e, ERR_INTERNAL_ERROR, "template %s is not ready", template_dir);
	if (mkdir(spares, 0700) < 0 && errno != EEXIST)
		return err_set(e, ERR_INTERNAL_ERROR, "mkdir %s failed: %s", spares, pgnode_errname(errno));
	if (pgnode_spares_lock(spares, &lock, e) < 0)
		return -1;
	rc = pgnode_spares_sweep(spares, u, &complete, e);
	while (rc == 0 && complete + made < count) {
		rc = pgnode_spare_make(spares, template_dir, u, e);
		made += rc == 0;
	}
	close(lock);
	if (made > 0)
		log_info(PGNODE_LOG_CTX, "template %s: %d spare(s) made in %lld ms", template_dir, made,
			 (long long)(pgnode_now_ms() - t0));
	return rc < 0 ? -1 : made;
}
