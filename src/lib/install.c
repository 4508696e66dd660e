/*
 * install.c - see install.h.
 */
#include "lib/install.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read a whole (bounded) file; *buf is malloc'd. 0 or -1. */
static int install_slurp(const char *path, char **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = -1;

	*buf = NULL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= INSTALL_MAX_BYTES &&
	    (*buf = malloc((size_t)st.st_size + 1)) != NULL)
		n = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	if (n != (ssize_t)st.st_size) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

static int install_write(const char *dst, const char *data, size_t len, mode_t mode, struct err *e)
{
	char tmp[4096];
	int fd, rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= (int)sizeof(tmp))
		return err_set(e, ERR_INTERNAL_ERROR, "path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", tmp, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len || fchmod(fd, mode) != 0 || fsync(fd) != 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "write %s: %s", tmp, strerror(errno));
	close(fd);
	if (rc == 0 && rename(tmp, dst) != 0)
		rc = err_set(e, ERR_INTERNAL_ERROR, "rename %s: %s", tmp, strerror(errno));
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int install_file(const char *src, const char *dst, mode_t mode, struct err *e)
{
	char *want, *have;
	size_t wlen = 0, hlen = 0;
	int rc = 0;

	if (install_slurp(src, &want, &wlen) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "cannot read %s", src);
	if (install_slurp(dst, &have, &hlen) != 0 || hlen != wlen || memcmp(have, want, wlen) != 0)
		rc = install_write(dst, want, wlen, mode, e);
	free(want);
	free(have);
	return rc;
}

int install_exe_dir(char *out, size_t len, struct err *e)
{
	ssize_t n = readlink("/proc/self/exe", out, len - 1);
	char *slash;

	if (n <= 0)
		return err_set(e, ERR_INTERNAL_ERROR, "readlink /proc/self/exe: %s", strerror(errno));
	out[n] = '\0';
	slash = strrchr(out, '/');
	if (slash != NULL)
		*slash = '\0';
	return 0;
}
