/*
 * pgversion.c - discovery of installed PostgreSQL versions (see pgversion.h).
 *
 * The version comes from the binary itself (`postgres --version`), never from
 * the directory name alone: a directory whose server does not run, or whose
 * server reports another major version, is skipped with a warning.
 */
#include "pg/pgversion.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "pg/spawn.h"

#define PGVERSION_OUT_CAP 1024   /* `postgres --version` prints one line */

static bool pgversion_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool pgversion_is_alnum(char c)
{
	return pgversion_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of the major version prefix of `ver`: "15" of "15.18" (or of
 * "17beta1"), "9.6" of "9.6.24"; 0 when `ver` does not start with one. */
static size_t pgversion_major_len(const char *ver)
{
	size_t i = 0;
	long first = 0;

	while (pgversion_is_digit(ver[i]) && i < 4)
		first = first * 10 + (ver[i++] - '0');
	if (i == 0 || pgversion_is_digit(ver[i]))
		return 0;
	if (first >= 10)
		return i;
	if (ver[i] != '.' || !pgversion_is_digit(ver[i + 1]))
		return 0;
	i++;
	while (pgversion_is_digit(ver[i]))
		i++;
	return i;
}

int pgversion_parse(const char *text, struct pgversion *v, struct err *e)
{
	static const char tag[] = "(PostgreSQL) ";
	const char *p = strstr(text, tag);
	size_t len = 0, mlen;

	if (p == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "not a PostgreSQL version line");
	p += sizeof(tag) - 1;
	while (pgversion_is_alnum(p[len]) || p[len] == '.')
		len++;
	mlen = pgversion_major_len(p);
	if (len == 0 || len >= sizeof(v->version) || mlen == 0 || mlen > len ||
	    mlen >= sizeof(v->major) || p[len - 1] == '.')
		return err_set(e, ERR_INTERNAL_ERROR, "unrecognised PostgreSQL version");
	memcpy(v->version, p, len);
	v->version[len] = '\0';
	memcpy(v->major, p, mlen);
	v->major[mlen] = '\0';
	snprintf(v->kernel, sizeof(v->kernel), "v%s%s", v->version, PGVERSION_KERNEL_SUFFIX);
	return 0;
}

/* Next numeric component of *s (advancing past it and one separator);
 * -1 when *s has no leading digit. */
static long pgversion_next_num(const char **s)
{
	long n = 0;

	if (!pgversion_is_digit(**s))
		return -1;
	while (pgversion_is_digit(**s)) {
		if (n < 100000000)
			n = n * 10 + (**s - '0');
		(*s)++;
	}
	if (**s == '.')
		(*s)++;
	return n;
}

/* Compare where at least one side has no number next: a number beats a
 * suffix ("17.1" > "17beta1"), the end beats a suffix ("17" > "17rc1"),
 * suffixes compare as text ("17beta1" < "17rc1"). */
static int pgversion_cmp_suffix(long x, const char *a, long y, const char *b)
{
	if (x >= 0)
		return 1;
	if (y >= 0)
		return -1;
	if (*a == '\0' || *b == '\0')
		return (*a == '\0') - (*b == '\0');
	return strcmp(a, b);
}

int pgversion_cmp(const char *a, const char *b)
{
	while (*a != '\0' || *b != '\0') {
		long x = pgversion_next_num(&a);
		long y = pgversion_next_num(&b);
		if (x < 0 || y < 0)
			return pgversion_cmp_suffix(x, a, y, b);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* A directory name that can be a major version: "15" or "9.6". */
static bool pgversion_dir_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < sizeof(((struct pgversion *)0)->major) &&
	       pgversion_major_len(name) == n;
}

/* Run <bin_dir>/postgres --version and parse it into *v. */
static int pgversion_probe(const char *bin_dir, struct pgversion *v, struct err *e)
{
	char path[sizeof(v->bin_dir) + 16];
	const char *argv[] = { path, "--version", NULL };
	struct spawn_opts o = { .argv = argv, .out_cap = PGVERSION_OUT_CAP,
				.timeout_ms = PGVERSION_TIMEOUT_MS };
	struct spawn_result r;
	int rc;

	snprintf(path, sizeof(path), "%s/postgres", bin_dir);
	if (access(path, X_OK) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "no executable %s", path);
	rc = spawn_run(&o, &r, e);
	if (rc == 0 && (!r.exited || r.exit_code != 0))
		rc = err_set(e, ERR_INTERNAL_ERROR, "%s --version failed", path);
	if (rc == 0)
		rc = pgversion_parse(r.out, v, e);
	spawn_result_free(&r);
	return rc;
}

/* Examine the directory `name` of the root; 1 when *v was filled, 0 when
 * skipped (and logged). */
static int pgversion_candidate(const char *root, const char *name, struct pgversion *v)
{
	struct err e;

	if ((size_t)snprintf(v->bin_dir, sizeof(v->bin_dir), "%s/%s/bin", root, name) >=
	    sizeof(v->bin_dir)) {
		log_warn("pgversion", "%s/%s: path too long, skipped", root, name);
		return 0;
	}
	err_clear(&e);
	if (pgversion_probe(v->bin_dir, v, &e) < 0) {
		log_warn("pgversion", "%s skipped: %s", v->bin_dir, err_message(&e, ERR_LANG_EN));
		return 0;
	}
	if (strcmp(v->major, name) != 0) {
		log_warn("pgversion", "%s reports version %s, not major %s; skipped",
			 v->bin_dir, v->version, name);
		return 0;
	}
	return 1;
}

static int pgversion_sort_cb(const void *a, const void *b)
{
	return pgversion_cmp(((const struct pgversion *)a)->version,
			     ((const struct pgversion *)b)->version);
}

int pgversion_discover(const char *root, struct pgversion *out, size_t cap, size_t *n,
		       struct err *e)
{
	DIR *d = opendir(root);
	struct dirent *de;

	*n = 0;
	if (d == NULL) {
		log_error("pgversion", "cannot read %s: %s", root, strerror(errno));
		return err_set(e, ERR_INTERNAL_ERROR, "cannot read the PostgreSQL directory %s",
			       root);
	}
	while ((de = readdir(d)) != NULL) {
		if (!pgversion_dir_ok(de->d_name))
			continue;
		if (*n >= cap) {
			log_warn("pgversion", "more than %zu versions under %s; ignoring %s", cap,
				 root, de->d_name);
			continue;
		}
		if (pgversion_candidate(root, de->d_name, &out[*n]) == 1) {
			log_info("pgversion", "found PostgreSQL %s (%s) in %s", out[*n].version,
				 out[*n].kernel, out[*n].bin_dir);
			(*n)++;
		}
	}
	closedir(d);
	qsort(out, *n, sizeof(*out), pgversion_sort_cb);
	return 0;
}
