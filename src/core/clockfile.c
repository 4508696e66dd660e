/*
 * clockfile.c - see clockfile.h. Writers take an exclusive flock on
 * DATA_DIR/clock_offset.lock, write DATA_DIR/clock_offset.tmp and rename it
 * over the file, so a reader always sees a whole number.
 */
#include "core/clockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define CLOCKFILE_TEXT_MAX 32

static int clockfile_path(const char *data_dir, const char *suffix, char *out, size_t cap, struct err *e)
{
	int len = snprintf(out, cap, "%s/" CLOCKFILE_NAME "%s", data_dir, suffix);

	if (len < 0 || (size_t)len >= cap)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "data dir path too long");
	return 0;
}

/* Parse "<decimal>\n" into *out. */
static int clockfile_parse(const char *text, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || (*end != '\0' && *end != '\n') || v < 0 || v > CLOCKFILE_OFFSET_MAX)
		return -1;
	*out = v;
	return 0;
}

int clockfile_read(const char *data_dir, int64_t *offset, struct err *e)
{
	char path[PATH_MAX], buf[CLOCKFILE_TEXT_MAX];
	ssize_t n;
	int fd;

	if (clockfile_path(data_dir, "", path, sizeof(path), e) != 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		*offset = 0;
		return 0;
	}
	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "read %s: %s", path, strerror(errno));
	buf[n] = '\0';
	if (clockfile_parse(buf, offset) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "%s does not hold an offset in seconds", path);
	return 0;
}

/* Write `offset` to the file through a temporary file and rename. */
static int clockfile_write(const char *data_dir, int64_t offset, struct err *e)
{
	char path[PATH_MAX], tmp[PATH_MAX], text[CLOCKFILE_TEXT_MAX];
	int len = snprintf(text, sizeof(text), "%lld\n", (long long)offset);
	int fd;

	if (clockfile_path(data_dir, "", path, sizeof(path), e) != 0 ||
	    clockfile_path(data_dir, ".tmp", tmp, sizeof(tmp), e) != 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", tmp, strerror(errno));
	if (write(fd, text, (size_t)len) != len || fsync(fd) != 0 || fchmod(fd, 0600) != 0) {
		int err = errno;
		close(fd);
		unlink(tmp);
		return err_set(e, ERR_INTERNAL_ERROR, "write %s: %s", tmp, strerror(err));
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		int err = errno;
		unlink(tmp);
		return err_set(e, ERR_INTERNAL_ERROR, "rename %s: %s", tmp, strerror(err));
	}
	return 0;
}

int clockfile_advance(const char *data_dir, int64_t seconds, int64_t *offset, struct err *e)
{
	char lock[PATH_MAX];
	int64_t cur;
	int fd, rc;

	if (seconds < 0 || seconds > CLOCKFILE_ADVANCE_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "the clock moves forward by 0..%lld seconds at a time",
			       (long long)CLOCKFILE_ADVANCE_MAX);
	if (clockfile_path(data_dir, ".lock", lock, sizeof(lock), e) != 0)
		return -1;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", lock, strerror(errno));
	if (flock(fd, LOCK_EX) != 0) {
		close(fd);
		return err_set(e, ERR_INTERNAL_ERROR, "lock %s: %s", lock, strerror(errno));
	}
	rc = clockfile_read(data_dir, &cur, e);
	if (rc == 0 && cur + seconds > CLOCKFILE_OFFSET_MAX)
		rc = err_set(e, ERR_INVALID_PARAMETER_VALUE, "the clock offset would exceed %lld seconds",
			     (long long)CLOCKFILE_OFFSET_MAX);
	if (rc == 0)
		rc = clockfile_write(data_dir, cur + seconds, e);
	if (rc == 0)
		*offset = cur + seconds;
	close(fd); /* releases the lock */
	return rc;
}

int clockfile_load(const char *data_dir, struct err *e)
{
	int64_t off;

	if (clockfile_read(data_dir, &off, e) != 0)
		return -1;
	if (off != clock_offset()) {
		log_info("clock", "business clock offset %lld s (was %lld s)", (long long)off, (long long)clock_offset());
		clock_set_offset(off);
	}
	return 0;
}
