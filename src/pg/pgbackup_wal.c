/*
 * pgbackup_wal.c - the WAL archive of an instance (see pgbackup.h): the
 * names PostgreSQL gives archived files, gzip compression on the way in
 * (push, run by the archiver program inside the postmaster's archiver
 * process) and out (fetch, its restore_command), and listing for the
 * service's views and expiry.
 *
 * push never overwrites: PostgreSQL may run archive_command again for a
 * file already archived (a crash between the copy and its bookkeeping), and
 * the documented contract is to succeed when the copy is identical and fail
 * otherwise. Writes go to a hidden ".<name>.gz.tmp", are fsync'd, get their
 * mtime, and are renamed into place; the directory is fsync'd after the
 * rename, so an archived file is either complete and durable or absent.
 */
#include "pg/pgbackup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define PGBACKUP_IO_CHUNK   (1024 * 1024)
#define PGBACKUP_GZ_LEVEL   1            /* WAL compresses well at the fastest level */
#define PGBACKUP_GZ_WBITS   (15 + 16)    /* deflate window 32 kB, gzip wrapper */
#define PGBACKUP_SEGS_PER_ID (0x100000000ull / PGBACKUP_WAL_SEG_SIZE)

/* ---- names ------------------------------------------------------------------------- */

static bool pgbackup_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static uint64_t pgbackup_hex(const char *s, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 16 + (uint64_t)(s[i] <= '9' ? s[i] - '0' : s[i] - 'A' + 10);
	return v;
}

int pgbackup_wal_parse(const char *name, enum pgbackup_wal_kind *kind, uint32_t *tli, uint64_t *segno)
{
	size_t len = strlen(name);
	enum pgbackup_wal_kind k;

	if (len == 16 && pgbackup_is_hex(name, 8) && strcmp(name + 8, ".history") == 0)
		k = PGBACKUP_WAL_HISTORY;
	else if (len < 24 || !pgbackup_is_hex(name, 24))
		return -1;
	else if (len == 24)
		k = PGBACKUP_WAL_SEGMENT;
	else if (strcmp(name + 24, ".partial") == 0)
		k = PGBACKUP_WAL_PARTIAL;
	else if (len == 40 && name[24] == '.' && pgbackup_is_hex(name + 25, 8) && strcmp(name + 33, ".backup") == 0)
		k = PGBACKUP_WAL_BACKUP;
	else
		return -1;
	if (kind != NULL)
		*kind = k;
	if (tli != NULL)
		*tli = (uint32_t)pgbackup_hex(name, 8);
	if (segno != NULL)
		*segno = k == PGBACKUP_WAL_HISTORY ? 0
						   : pgbackup_hex(name + 8, 8) * PGBACKUP_SEGS_PER_ID + pgbackup_hex(name + 16, 8);
	return 0;
}

int pgbackup_lsn_parse(const char *s, uint64_t *lsn)
{
	const char *slash = strchr(s, '/');
	size_t hi = slash ? (size_t)(slash - s) : 0;
	size_t lo = slash ? strlen(slash + 1) : 0;
	char up[20];

	if (slash == NULL || hi < 1 || hi > 8 || lo < 1 || lo > 8 || hi + lo + 1 >= sizeof(up))
		return -1;
	for (size_t i = 0; s[i] != '\0'; i++)
		up[i] = (s[i] >= 'a' && s[i] <= 'f') ? (char)(s[i] - 'a' + 'A') : s[i];
	up[hi + lo + 1] = '\0';
	if (!pgbackup_is_hex(up, hi) || !pgbackup_is_hex(up + hi + 1, lo))
		return -1;
	*lsn = (pgbackup_hex(up, hi) << 32) | pgbackup_hex(up + hi + 1, lo);
	return 0;
}

uint64_t pgbackup_lsn_segno(uint64_t lsn)
{
	return lsn / PGBACKUP_WAL_SEG_SIZE;
}

void pgbackup_seg_name(uint32_t tli, uint64_t segno, char out[25])
{
	snprintf(out, 25, "%08X%08X%08X", tli, (uint32_t)(segno / PGBACKUP_SEGS_PER_ID),
		 (uint32_t)(segno % PGBACKUP_SEGS_PER_ID));
}

/* ---- file helpers ---------------------------------------------------------------- */

static int pgbackup_archive_path(char *out, size_t cap, const char *dir, const char *name, const char *prefix,
				 const char *suffix, struct err *e)
{
	int n;

	if (!pgbackup_path_ok(dir) || pgbackup_wal_parse(name, NULL, NULL, NULL) != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad archive directory or WAL file name");
	n = snprintf(out, cap, "%s/%s%s.gz%s", dir, prefix, name, suffix);
	if (n < 0 || (size_t)n >= cap)
		return err_set(e, ERR_INTERNAL_ERROR, "path too long");
	return 0;
}

static int pgbackup_write_all(int fd, const unsigned char *p, size_t n, const char *path, struct err *e)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_set(e, ERR_INTERNAL_ERROR, "write %s: %s", path, strerror(w < 0 ? errno : ENOSPC));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t pgbackup_read_some(int fd, unsigned char *buf, size_t cap)
{
	ssize_t r;

	do
		r = read(fd, buf, cap);
	while (r < 0 && errno == EINTR);
	return r;
}

static int pgbackup_fsync_dir(const char *dir, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", dir, strerror(errno));
	if (fsync(fd) != 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "fsync %s: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/* ---- compression ------------------------------------------------------------------- */

/* Deflate all of fd `in` into fd `out` as one gzip member. */
static int pgbackup_gzip(int in, int out, const char *path, struct err *e)
{
	unsigned char *ibuf = malloc(PGBACKUP_IO_CHUNK), *obuf = malloc(PGBACKUP_IO_CHUNK);
	z_stream z;
	int rc = -1, zr = Z_OK;
	long long total = 0;

	memset(&z, 0, sizeof(z));
	if (ibuf == NULL || obuf == NULL ||
	    deflateInit2(&z, PGBACKUP_GZ_LEVEL, Z_DEFLATED, PGBACKUP_GZ_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(ibuf);
		free(obuf);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	while (zr != Z_STREAM_END) {
		ssize_t r = pgbackup_read_some(in, ibuf, PGBACKUP_IO_CHUNK);
		if (r < 0 || (total += r) > PGBACKUP_WAL_FILE_MAX) {
			err_set(e, ERR_INTERNAL_ERROR, "read WAL file: %s", r < 0 ? strerror(errno) : "too large");
			goto out;
		}
		z.next_in = ibuf;
		z.avail_in = (uInt)r;
		do {
			z.next_out = obuf;
			z.avail_out = PGBACKUP_IO_CHUNK;
			zr = deflate(&z, r == 0 ? Z_FINISH : Z_NO_FLUSH);
			if (pgbackup_write_all(out, obuf, PGBACKUP_IO_CHUNK - z.avail_out, path, e) != 0)
				goto out;
		} while (z.avail_out == 0);
	}
	rc = 0;
out:
	deflateEnd(&z);
	free(ibuf);
	free(obuf);
	return rc;
}

/* Inflate gzip fd `in` and hand each output chunk to `sink`; fails on a
 * corrupt stream, a bad CRC/length or trailing bytes. */
static int pgbackup_gunzip(int in, int (*sink)(void *arg, const unsigned char *p, size_t n, struct err *e),
			   void *arg, struct err *e)
{
	unsigned char *ibuf = malloc(PGBACKUP_IO_CHUNK), *obuf = malloc(PGBACKUP_IO_CHUNK);
	z_stream z;
	int rc = -1, zr = Z_OK;

	memset(&z, 0, sizeof(z));
	if (ibuf == NULL || obuf == NULL || inflateInit2(&z, PGBACKUP_GZ_WBITS) != Z_OK) {
		free(ibuf);
		free(obuf);
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	while (zr != Z_STREAM_END) {
		ssize_t r = pgbackup_read_some(in, ibuf, PGBACKUP_IO_CHUNK);
		if (r <= 0) {
			err_set(e, ERR_INTERNAL_ERROR, "archived WAL file is truncated%s", r < 0 ? " (read error)" : "");
			goto out;
		}
		z.next_in = ibuf;
		z.avail_in = (uInt)r;
		do {
			z.next_out = obuf;
			z.avail_out = PGBACKUP_IO_CHUNK;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				err_set(e, ERR_INTERNAL_ERROR, "archived WAL file is corrupt (%s)", z.msg ? z.msg : "zlib");
				goto out;
			}
			if (sink(arg, obuf, PGBACKUP_IO_CHUNK - z.avail_out, e) != 0)
				goto out;
		} while (zr != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
	}
	if (z.avail_in > 0 || pgbackup_read_some(in, ibuf, 1) != 0) {
		err_set(e, ERR_INTERNAL_ERROR, "archived WAL file has trailing bytes");
		goto out;
	}
	rc = 0;
out:
	inflateEnd(&z);
	free(ibuf);
	free(obuf);
	return rc;
}

/* ---- push ---------------------------------------------------------------------------- */

struct pgbackup_cmp {
	int fd;                 /* the original file */
	unsigned char *buf;
	bool differs;
};

static int pgbackup_cmp_sink(void *arg, const unsigned char *p, size_t n, struct err *e)
{
	struct pgbackup_cmp *c = arg;

	while (n > 0 && !c->differs) {
		size_t want = n < PGBACKUP_IO_CHUNK ? n : PGBACKUP_IO_CHUNK;
		ssize_t r = pgbackup_read_some(c->fd, c->buf, want);
		if (r <= 0 || memcmp(c->buf, p, (size_t)r) != 0)
			c->differs = true;
		else {
			p += r;
			n -= (size_t)r;
		}
	}
	return 0;
}

/* Is the archive `gz` the compressed content of `src`? */
static int pgbackup_same(const char *gz, const char *src, bool *same, struct err *e)
{
	struct pgbackup_cmp c = { .fd = open(src, O_RDONLY | O_CLOEXEC), .buf = malloc(PGBACKUP_IO_CHUNK) };
	int in = open(gz, O_RDONLY | O_CLOEXEC);
	unsigned char one;
	int rc = -1;

	if (c.fd < 0 || in < 0 || c.buf == NULL)
		err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", c.fd < 0 ? src : gz, strerror(errno));
	else if (pgbackup_gunzip(in, pgbackup_cmp_sink, &c, e) == 0) {
		*same = !c.differs && pgbackup_read_some(c.fd, &one, 1) == 0;
		rc = 0;
	}
	if (c.fd >= 0)
		close(c.fd);
	if (in >= 0)
		close(in);
	free(c.buf);
	return rc;
}

/* Compress src into tmp, sync it and give it its mtime. */
static int pgbackup_push_tmp(const char *src, const char *tmp, int64_t mtime, struct err *e)
{
	struct timespec ts[2] = { { (time_t)mtime, 0 }, { (time_t)mtime, 0 } };
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = -1;

	if (in < 0 || out < 0)
		err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", in < 0 ? src : tmp, strerror(errno));
	else if (pgbackup_gzip(in, out, tmp, e) == 0) {
		if (fsync(out) != 0 || futimens(out, ts) != 0)
			err_set(e, ERR_INTERNAL_ERROR, "sync %s: %s", tmp, strerror(errno));
		else
			rc = 0;
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0 && rc == 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "close %s: %s", tmp, strerror(errno));
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int pgbackup_wal_push(const char *src, const char *name, const char *dir, int64_t mtime, struct err *e)
{
	char dst[PGBACKUP_PATH_MAX + 64], tmp[PGBACKUP_PATH_MAX + 64];
	bool same = false;

	if (pgbackup_archive_path(dst, sizeof(dst), dir, name, "", "", e) != 0 ||
	    pgbackup_archive_path(tmp, sizeof(tmp), dir, name, ".", ".tmp", e) != 0)
		return -1;
	if (access(dst, F_OK) == 0) {
		if (pgbackup_same(dst, src, &same, e) != 0)
			return -1;
		return same ? 0
			    : err_set(e, ERR_FAILED_OPERATION, "%s is already archived with a different content", name);
	}
	if (pgbackup_push_tmp(src, tmp, mtime, e) != 0)
		return -1;
	if (rename(tmp, dst) != 0) {
		unlink(tmp);
		return err_set(e, ERR_INTERNAL_ERROR, "rename %s: %s", tmp, strerror(errno));
	}
	return pgbackup_fsync_dir(dir, e);
}

/* ---- fetch --------------------------------------------------------------------------- */

struct pgbackup_out {
	int fd;
	const char *path;
};

static int pgbackup_out_sink(void *arg, const unsigned char *p, size_t n, struct err *e)
{
	struct pgbackup_out *o = arg;

	return pgbackup_write_all(o->fd, p, n, o->path, e);
}

int pgbackup_wal_fetch(const char *dir, const char *name, const char *dst, struct err *e)
{
	char src[PGBACKUP_PATH_MAX + 64];
	struct pgbackup_out o = { .fd = -1, .path = dst };
	int in, rc;

	if (pgbackup_archive_path(src, sizeof(src), dir, name, "", "", e) != 0)
		return -1;
	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return err_set(e, errno == ENOENT ? ERR_RESOURCE_NOT_FOUND : ERR_INTERNAL_ERROR, "open %s: %s", src,
			       strerror(errno));
	o.fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (o.fd < 0) {
		close(in);
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", dst, strerror(errno));
	}
	rc = pgbackup_gunzip(in, pgbackup_out_sink, &o, e);
	close(in);
	if (close(o.fd) != 0 && rc == 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "close %s: %s", dst, strerror(errno));
	if (rc != 0)
		unlink(dst);
	return rc;
}

/* ---- listing ------------------------------------------------------------------------- */

static int pgbackup_wal_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pgbackup_wal_file *)a)->name, ((const struct pgbackup_wal_file *)b)->name);
}

/* Fill `f` from directory entry `ent` of dfd; 0 when it is an archived file. */
static int pgbackup_wal_entry(int dfd, const char *ent, struct pgbackup_wal_file *f)
{
	size_t len = strlen(ent);
	struct stat st;

	if (len < 4 || len - 3 > PGBACKUP_WAL_NAME_MAX || strcmp(ent + len - 3, ".gz") != 0)
		return -1;
	memcpy(f->name, ent, len - 3);
	f->name[len - 3] = '\0';
	if (pgbackup_wal_parse(f->name, &f->kind, &f->tli, &f->segno) != 0 ||
	    fstatat(dfd, ent, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
		return -1;
	f->mtime = (int64_t)st.st_mtime;
	f->size = (int64_t)st.st_size;
	return 0;
}

int pgbackup_wal_list(const char *dir, struct pgbackup_wal_file **out, size_t *n, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL)
		return errno == ENOENT ? 0 : err_set(e, ERR_INTERNAL_ERROR, "opendir %s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL && *n < PGBACKUP_WAL_LIST_MAX) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct pgbackup_wal_file *nb = realloc(*out, ncap * sizeof(**out));
			if (nb == NULL) {
				closedir(d);
				free(*out);
				*out = NULL;
				*n = 0;
				return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
			}
			*out = nb;
			cap = ncap;
		}
		if (pgbackup_wal_entry(dirfd(d), de->d_name, &(*out)[*n]) == 0)
			(*n)++;
	}
	closedir(d);
	if (*n > 0)
		qsort(*out, *n, sizeof(**out), pgbackup_wal_cmp);
	return 0;
}

int pgbackup_wal_remove(const char *dir, const char *name, struct err *e)
{
	char path[PGBACKUP_PATH_MAX + 64];

	if (pgbackup_archive_path(path, sizeof(path), dir, name, "", "", e) != 0)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT)
		return err_set(e, ERR_INTERNAL_ERROR, "unlink %s: %s", path, strerror(errno));
	return 0;
}
