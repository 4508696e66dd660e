/*
 * main.c - pgfleet-archive, the archive and restore command of every node.
 *
 *   pgfleet-archive push WALPATH WALNAME DIR [MTIME_OFFSET]   (archive_command)
 *   pgfleet-archive fetch WALNAME DESTPATH DIR                (restore_command)
 *
 * PostgreSQL runs it as the node's OS user, through /bin/sh, with the
 * arguments pgfleet wrote into data/pgfleet-backup.conf (validated plain
 * paths; %p and %f expand to names PostgreSQL makes itself). push gzips the
 * file into DIR/WALNAME.gz atomically and durably (pgbackup_wal_push), with
 * the service's business time (now + MTIME_OFFSET) as its mtime; fetch
 * checks and decompresses it. Exit status 0 on success, 1 on any failure
 * (PostgreSQL retries a failed push and counts it in pg_stat_archiver;
 * a failed fetch is the normal end of the archive), 2 on bad usage. The
 * reason of a failure goes to stderr, which lands in the server log, and a
 * failed push is noted in DIR/.failed for the service (cleared by the next
 * success).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "pg/pgbackup.h"

static int usage(void)
{
	fprintf(stderr, "usage: pgfleet-archive push WALPATH WALNAME DIR [MTIME_OFFSET]\n"
			"       pgfleet-archive fetch WALNAME DESTPATH DIR\n");
	return 2;
}

/* DIR/.failed names the segment archiving fails on (the service reports
 * it, see backup_sched.c); a success removes it. Best effort: when even
 * this cannot be written, the service sees the backlog of segments. */
static void archive_note(const char *dir, const char *name, int64_t when, const char *why)
{
	char path[PGBACKUP_PATH_MAX + 16];
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, PGBACKUP_FAILED_FILE) >= (int)sizeof(path))
		return;
	if (name == NULL) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	if (f == NULL)
		return;
	fprintf(f, "%s %lld %s\n", name, (long long)when, why);
	fclose(f);
}

static int archive_push(int argc, char **argv)
{
	long long offset = 0;
	char *end = NULL;
	struct err e;

	if (argc == 6) {
		offset = strtoll(argv[5], &end, 10);
		if (*argv[5] == '\0' || *end != '\0')
			return usage();
	}
	if (pgbackup_wal_push(argv[2], argv[3], argv[4], (int64_t)time(NULL) + offset, &e) != 0) {
		fprintf(stderr, "pgfleet-archive: archiving %s failed: %s\n", argv[3], err_message(&e, ERR_LANG_EN));
		archive_note(argv[4], argv[3], (int64_t)time(NULL) + offset, err_message(&e, ERR_LANG_EN));
		return 1;
	}
	archive_note(argv[4], NULL, 0, NULL);
	return 0;
}

static int archive_fetch(char **argv)
{
	struct err e;

	if (pgbackup_wal_fetch(argv[4], argv[2], argv[3], &e) != 0) {
		if (e.code != ERR_RESOURCE_NOT_FOUND)
			fprintf(stderr, "pgfleet-archive: restoring %s failed: %s\n", argv[2],
				err_message(&e, ERR_LANG_EN));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && argc <= 6 && strcmp(argv[1], "push") == 0)
		return archive_push(argc, argv);
	if (argc == 5 && strcmp(argv[1], "fetch") == 0)
		return archive_fetch(argv);
	return usage();
}
