/*
 * backup_window.c - the recovery window (see backup.h).
 *
 * A base backup restores on its own (the WAL it needs is in its archive);
 * to go past its end, recovery replays archived segments one after the
 * other, so a point in time T is reachable from base backup B when B
 * finished at or before T and every segment after B's last one is in the
 * archive up to the segment that covers T. The window therefore ends at
 * the archiving time of the newest segment and begins at the end of the
 * oldest base backup joined to it by an unbroken run of segments. Segment
 * numbers are compared across timelines (after a promotion the new
 * timeline continues the numbering); .partial, .backup and .history files
 * do not count as segments.
 */
#include "task/backup.h"

#include <stdlib.h>
#include <string.h>

static int backup_seg_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The unbroken run of archived segment numbers ending at the newest one:
 * *first..*last, and the newest segment's archiving time. 0 when there is
 * no segment at all. */
static int backup_wal_run(const struct pgbackup_wal_file *w, size_t nw, uint64_t *first, uint64_t *last,
			  int64_t *last_time)
{
	uint64_t *segs = malloc((nw ? nw : 1) * sizeof(*segs));
	size_t n = 0;

	if (segs == NULL)
		return -1;
	*last_time = 0;
	for (size_t i = 0; i < nw; i++)
		if (w[i].kind == PGBACKUP_WAL_SEGMENT) {
			segs[n++] = w[i].segno;
			if (w[i].mtime > *last_time)
				*last_time = w[i].mtime;
		}
	if (n == 0) {
		free(segs);
		return 0;
	}
	qsort(segs, n, sizeof(*segs), backup_seg_cmp);
	*last = *first = segs[n - 1];
	for (size_t i = n - 1; i > 0 && (segs[i - 1] == *first || segs[i - 1] + 1 == *first); i--)
		*first = segs[i - 1];
	free(segs);
	return 1;
}

/* Is B followed by the run first..last (nothing missing after its end)? */
static bool backup_usable(const struct backup_base_ref *b, uint64_t first, uint64_t last)
{
	return b->stop_seg <= last && b->stop_seg + 1 >= first;
}

int backup_window_compute(const struct backup_base_ref *b, size_t nb, const struct pgbackup_wal_file *w, size_t nw,
			  int64_t *begin, int64_t *end, struct err *e)
{
	uint64_t first, last;
	int64_t last_time;
	int run = backup_wal_run(w, nw, &first, &last, &last_time);

	if (run < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	*begin = 0;
	for (size_t i = 0; run == 1 && i < nb; i++)
		if (backup_usable(&b[i], first, last) && (*begin == 0 || b[i].finish < *begin))
			*begin = b[i].finish;
	if (*begin == 0)
		return err_set(e, ERR_RESOURCE_NOT_FOUND, "no usable base backup");
	*end = last_time > *begin ? last_time : *begin;
	return 0;
}

const struct backup_base_ref *backup_window_pick(const struct backup_base_ref *b, size_t nb,
						 const struct pgbackup_wal_file *w, size_t nw, int64_t t)
{
	const struct backup_base_ref *best = NULL;
	uint64_t first, last;
	int64_t last_time;

	if (backup_wal_run(w, nw, &first, &last, &last_time) != 1)
		return NULL;
	for (size_t i = 0; i < nb; i++)
		if (backup_usable(&b[i], first, last) && b[i].finish <= t && (best == NULL || b[i].finish > best->finish))
			best = &b[i];
	return best;
}

int backup_wal_needed(const struct backup_base_ref *b, size_t nb, const struct pgbackup_wal_file *w)
{
	if (w->kind == PGBACKUP_WAL_HISTORY)
		return 1;
	for (size_t i = 0; i < nb; i++)
		if (w->segno >= b[i].start_seg && w->segno <= b[i].stop_seg)
			return 1;
	return 0;
}

int backup_window_of(struct fleet *f, const char *inst, int64_t t, int64_t *begin, int64_t *end,
		     struct backup_base_ref *pick, struct err *e)
{
	char wal[PGBACKUP_PATH_MAX];
	struct backup_base_ref *b = NULL;
	struct pgbackup_wal_file *w = NULL;
	size_t nb = 0, nw = 0;
	int rc = -1;

	if (backup_wal_dir(f, inst, wal, sizeof(wal), e) == 0 && backup_base_refs(f->store, inst, &b, &nb, e) == 0 &&
	    pgbackup_wal_list(wal, &w, &nw, e) == 0)
		rc = backup_window_compute(b, nb, w, nw, begin, end, e);
	if (rc == 0 && pick != NULL && t > 0) {
		const struct backup_base_ref *p = backup_window_pick(b, nb, w, nw, t);
		if (p == NULL)
			rc = err_set(e, ERR_RESOURCE_NOT_FOUND, "no base backup before the target");
		else
			*pick = *p;
	}
	free(b);
	free(w);
	return rc;
}
