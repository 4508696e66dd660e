/*
 * pglog_files.c - see pglog.h: listing a node's log files and enforcing
 * the retention limits on them. The server names its files after the time
 * they were opened (postgresql-%Y-%m-%d_%H%M%S), so name order is time
 * order and the last name of each extension is the file being written.
 */
#include "pg/pglog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define PGLOG_PREFIX "postgresql-"

static int pglog_file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pglog_file *)a)->name, ((const struct pglog_file *)b)->name);
}

static bool pglog_name_ok(const char *name, const char *ext)
{
	size_t n = strlen(name), el = ext ? strlen(ext) : 0;

	if (strncmp(name, PGLOG_PREFIX, sizeof(PGLOG_PREFIX) - 1) != 0 || n >= sizeof(((struct pglog_file *)0)->name))
		return false;
	return ext == NULL || (n > el && strcmp(name + n - el, ext) == 0);
}

/* Append one entry, growing the array. */
static int pglog_files_add(struct pglog_file **v, size_t *n, size_t *cap, const char *name,
			   const struct stat *st)
{
	if (*n == *cap) {
		size_t want = *cap ? *cap * 2 : 32;
		struct pglog_file *nv = realloc(*v, want * sizeof(**v));
		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = want;
	}
	size_t len = strnlen(name, sizeof((*v)[*n].name) - 1);   /* pglog_name_ok checked it fits */

	memcpy((*v)[*n].name, name, len);
	(*v)[*n].name[len] = '\0';
	(*v)[*n].size = st->st_size;
	(*v)[*n].mtime = (int64_t)st->st_mtime;
	(*n)++;
	return 0;
}

int pglog_files(const char *dir, const char *ext, struct pglog_file **out, size_t *n, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		log_warn("pglog", "opendir %s: %s", dir, strerror(errno));
		return err_set(e, ERR_INTERNAL_ERROR, "cannot list the log directory");
	}
	while ((de = readdir(d)) != NULL && *n < PGLOG_FILES_MAX) {
		struct stat st;
		if (!pglog_name_ok(de->d_name, ext) || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (pglog_files_add(out, n, &cap, de->d_name, &st) != 0) {
			closedir(d);
			free(*out);
			*out = NULL;
			*n = 0;
			return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		}
	}
	closedir(d);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), pglog_file_cmp);
	return 0;
}

/* Mark the newest file of each extension (list sorted by name) in cur[]. */
static void pglog_mark_current(const struct pglog_file *list, size_t n, bool *cur)
{
	const char *seen[8];
	size_t nseen = 0;

	for (size_t i = n; i-- > 0;) {
		const char *ext = strrchr(list[i].name, '.');
		size_t k;
		ext = ext ? ext : "";
		for (k = 0; k < nseen && strcmp(seen[k], ext) != 0; k++)
			;
		cur[i] = k == nseen;
		if (cur[i] && nseen < sizeof(seen) / sizeof(seen[0]))
			seen[nseen++] = ext;
	}
}

static void pglog_unlink(const char *dir, struct pglog_file *f, struct pglog_retain_stats *st)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", dir, f->name) >= (int)sizeof(path))
		return;
	if (unlink(path) != 0 && errno != ENOENT) {
		log_warn("pglog", "unlink %s: %s", path, strerror(errno));
		return;
	}
	st->files++;
	st->bytes += (uint64_t)f->size;
	f->size = -1;   /* gone */
}

int pglog_retain(const char *dir, uint64_t max_bytes, int64_t max_age_s, int64_t now,
		 struct pglog_retain_stats *st, struct err *e)
{
	struct pglog_file *list;
	size_t n;
	uint64_t total = 0;
	bool *cur;

	memset(st, 0, sizeof(*st));
	if (pglog_files(dir, NULL, &list, &n, e) != 0)
		return -1;
	cur = calloc(n ? n : 1, sizeof(*cur));
	if (cur == NULL) {
		free(list);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	pglog_mark_current(list, n, cur);
	for (size_t i = 0; i < n; i++) {
		if (!cur[i] && list[i].mtime < now - max_age_s)
			pglog_unlink(dir, &list[i], st);
		else
			total += (uint64_t)list[i].size;
	}
	for (size_t i = 0; i < n && total > max_bytes; i++) {
		if (list[i].size < 0 || cur[i])
			continue;
		total -= (uint64_t)list[i].size;
		pglog_unlink(dir, &list[i], st);
	}
	free(cur);
	free(list);
	return 0;
}
