/*
 * pgversion.h - which PostgreSQL server versions are installed.
 *
 * Debian's layout keeps one server per major version under a root
 * (/usr/lib/postgresql/<major>/bin/postgres). Discovery lists the root,
 * runs `postgres --version` of each candidate through the spawn module and
 * parses its answer, e.g.
 *     postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)
 * into the major version "15", the version "15.18" and the kernel version
 * string the cloud shows for it, "v15.18_r1.0".
 */
#ifndef PGFLEET_PG_PGVERSION_H
#define PGFLEET_PG_PGVERSION_H

#include <stddef.h>

#include "core/err.h"

#define PGVERSION_MAX           32      /* installed majors considered */
#define PGVERSION_TIMEOUT_MS    10000   /* for one `postgres --version` */
#define PGVERSION_KERNEL_SUFFIX "_r1.0" /* our build of every version */

struct pgversion {
	char major[8];      /* "15" ("9.6" before PostgreSQL 10) */
	char version[16];   /* "15.18" */
	char kernel[32];    /* "v15.18_r1.0" */
	char bin_dir[256];  /* "/usr/lib/postgresql/15/bin" */
};

/* Parse the output of `postgres --version` into major/version/kernel
 * (bin_dir untouched). Returns 0, or -1 with ERR_INTERNAL_ERROR when the
 * text is not a PostgreSQL version line. */
int pgversion_parse(const char *text, struct pgversion *v, struct err *e);

/* Discover the versions installed under `root`: every <root>/<major>/bin/
 * postgres that runs and reports the major version of its directory. Fills
 * out[0..*n) sorted by ascending version; at most `cap` entries. A
 * candidate that fails is logged and skipped. Returns 0 (possibly with
 * *n == 0), or -1 with ERR_INTERNAL_ERROR when `root` cannot be read. */
int pgversion_discover(const char *root, struct pgversion *out, size_t cap, size_t *n,
		       struct err *e);

/* Compare two version strings ("9.6.24" < "15.2" < "15.18"): numeric by
 * component, <0, 0 or >0. */
int pgversion_cmp(const char *a, const char *b);

#endif
