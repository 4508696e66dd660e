/*
 * pgcgroup.c - CPU limits of node servers (see pgcgroup.h).
 *
 * Detection reads /proc/self/mounts once: a cgroup (v1) mount whose options
 * name the "cpu" controller, else a cgroup2 mount at /sys/fs/cgroup whose
 * root lists "cpu" in cgroup.controllers. The base group "pgfleet" is made
 * under it; if that fails (no privilege) the machine cannot limit CPU.
 * Children of the postmaster are found by scanning /proc/<pid>/stat for
 * their parent pid; they are moved after the postmaster, so a backend forked
 * in between is in the group either way.
 */
#include "pg/pgcgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

#define PGCGROUP_CTX       "cgroup"
#define PGCGROUP_LINE_MAX  4096
#define PGCGROUP_NAME_MAX  128
#define PGCGROUP_V2_ROOT   "/sys/fs/cgroup"
#define PGCGROUP_BASE      "pgfleet"

static pthread_once_t pgcgroup_once = PTHREAD_ONCE_INIT;
static enum pgcgroup_mode pgcgroup_found = PGCGROUP_NONE;
static char pgcgroup_base[PATH_MAX];    /* <hierarchy>/pgfleet */

/* 1 when the comma-separated `opts` contains `word`. */
static int pgcgroup_has_word(const char *opts, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = opts; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, word, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return 1;
	}
	return 0;
}

/* Write `text` to the file `path` (an existing cgroup control file). */
static int pgcgroup_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, text, (size_t)len) == len;
	close(fd);
	return ok ? 0 : -1;
}

/* The first line of `path` into buf; -1 when unreadable. */
static int pgcgroup_read(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (f == NULL)
		return -1;
	ok = fgets(buf, (int)cap, f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* dir/name into out; -1 on truncation. */
static int pgcgroup_join(char *out, size_t cap, const char *dir, const char *name)
{
	int len = snprintf(out, cap, "%s/%s", dir, name);

	return len > 0 && (size_t)len < cap ? 0 : -1;
}

/* The mount point of the cgroup v1 hierarchy with the cpu controller. */
static int pgcgroup_find_v1(char *out, size_t cap)
{
	char line[PGCGROUP_LINE_MAX], dev[256], dir[PATH_MAX], type[64], opts[1024];
	FILE *f = fopen("/proc/self/mounts", "re");
	int found = -1;

	if (f == NULL)
		return -1;
	while (found != 0 && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%255s %4095s %63s %1023s", dev, dir, type, opts) == 4 &&
		    strcmp(type, "cgroup") == 0 && pgcgroup_has_word(opts, "cpu") &&
		    (size_t)snprintf(out, cap, "%s", dir) < cap)
			found = 0;
	}
	fclose(f);
	return found;
}

static int pgcgroup_v2_usable(void)
{
	char ctl[PGCGROUP_LINE_MAX];

	if (pgcgroup_read(PGCGROUP_V2_ROOT "/cgroup.controllers", ctl, sizeof(ctl)) != 0)
		return 0;
	for (char *tok = strtok(ctl, " "); tok != NULL; tok = strtok(NULL, " "))
		if (strcmp(tok, "cpu") == 0)
			return pgcgroup_write(PGCGROUP_V2_ROOT "/cgroup.subtree_control", "+cpu") == 0;
	return 0;
}

static void pgcgroup_detect(void)
{
	char root[PATH_MAX];
	enum pgcgroup_mode mode = PGCGROUP_NONE;

	if (pgcgroup_find_v1(root, sizeof(root)) == 0)
		mode = PGCGROUP_V1;
	else if (pgcgroup_v2_usable() && snprintf(root, sizeof(root), "%s", PGCGROUP_V2_ROOT) > 0)
		mode = PGCGROUP_V2;
	if (mode != PGCGROUP_NONE &&
	    (size_t)snprintf(pgcgroup_base, sizeof(pgcgroup_base), "%s/%s", root, PGCGROUP_BASE) <
		    sizeof(pgcgroup_base) &&
	    (mkdir(pgcgroup_base, 0755) == 0 || errno == EEXIST) &&
	    (mode == PGCGROUP_V1 || pgcgroup_write(PGCGROUP_V2_ROOT "/" PGCGROUP_BASE "/cgroup.subtree_control",
						   "+cpu") == 0)) {
		pgcgroup_found = mode;
		log_info(PGCGROUP_CTX, "CPU limits enforced through cgroup %s (%s)", mode == PGCGROUP_V1 ? "v1" : "v2",
			 pgcgroup_base);
		return;
	}
	log_warn(PGCGROUP_CTX, "this machine cannot limit CPU (no writable cpu cgroup): instance cores are "
			       "recorded, not enforced");
}

enum pgcgroup_mode pgcgroup_mode(void)
{
	pthread_once(&pgcgroup_once, pgcgroup_detect);
	return pgcgroup_found;
}

/* FNV-1a of `s`, to name a daemon's groups after its nodes directory. */
static uint32_t pgcgroup_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* "<hash of the parent dir>-" : the prefix of one daemon's groups. */
static void pgcgroup_prefix(const char *parent, size_t len, char out[16])
{
	snprintf(out, 16, "%08x-", (unsigned)pgcgroup_hash(parent, len));
}

/* The group directory of node `n`. */
static int pgcgroup_dir(const struct pgnode *n, char *out, size_t cap)
{
	const char *slash = strrchr(n->dir, '/');
	char prefix[16];
	int len;

	if (slash == NULL || slash[1] == '\0')
		return -1;
	pgcgroup_prefix(n->dir, (size_t)(slash - n->dir), prefix);
	len = snprintf(out, cap, "%s/%s%s", pgcgroup_base, prefix, slash + 1);
	return len > 0 && (size_t)len < cap ? 0 : -1;
}

static int pgcgroup_quota(const char *dir, int cpu)
{
	char path[PATH_MAX], text[64];

	if (pgcgroup_found == PGCGROUP_V2) {
		snprintf(text, sizeof(text), "%lld %d", (long long)cpu * PGCGROUP_PERIOD_US, PGCGROUP_PERIOD_US);
		return pgcgroup_join(path, sizeof(path), dir, "cpu.max") == 0 ? pgcgroup_write(path, text) : -1;
	}
	snprintf(text, sizeof(text), "%d", PGCGROUP_PERIOD_US);
	if (pgcgroup_join(path, sizeof(path), dir, "cpu.cfs_period_us") != 0 || pgcgroup_write(path, text) != 0)
		return -1;
	snprintf(text, sizeof(text), "%lld", (long long)cpu * PGCGROUP_PERIOD_US);
	return pgcgroup_join(path, sizeof(path), dir, "cpu.cfs_quota_us") == 0 ? pgcgroup_write(path, text) : -1;
}

/* The parent pid of `pid` from /proc/<pid>/stat; -1 when gone. */
static pid_t pgcgroup_ppid(const char *pid)
{
	char path[PATH_MAX], buf[1024];
	const char *rp;
	long ppid;

	if (pgcgroup_join(path, sizeof(path), "/proc", pid) != 0 || strlen(path) + 6 > sizeof(path))
		return -1;
	memcpy(path + strlen(path), "/stat", 6);
	if (pgcgroup_read(path, buf, sizeof(buf)) != 0 || (rp = strrchr(buf, ')')) == NULL ||
	    sscanf(rp + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/* Move `postmaster` and every process it forked into the group `dir`. */
static int pgcgroup_attach(const char *dir, pid_t postmaster)
{
	char procs[PATH_MAX], text[24];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(text, sizeof(text), "%d", (int)postmaster);
	if (pgcgroup_join(procs, sizeof(procs), dir, "cgroup.procs") != 0 || pgcgroup_write(procs, text) != 0)
		return -1;
	d = opendir("/proc");
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' || pgcgroup_ppid(de->d_name) != postmaster)
			continue;
		if (pgcgroup_write(procs, de->d_name) != 0 && errno != ESRCH)
			rc = -1; /* a backend that just exited is fine */
	}
	closedir(d);
	return rc;
}

int pgcgroup_limit(const struct pgnode *n, int cpu, struct err *e)
{
	struct pgnode_state st;
	char dir[PATH_MAX];

	if (pgcgroup_mode() == PGCGROUP_NONE)
		return err_set(e, ERR_UNSUPPORTED_OPERATION, "this machine cannot limit CPU");
	if (cpu < 1 || pgcgroup_dir(n, dir, sizeof(dir)) != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad node or core count for a CPU limit");
	if (pgnode_status(n, &st, e) != 0)
		return -1;
	if (!st.running)
		return 0;
	if ((mkdir(dir, 0755) != 0 && errno != EEXIST) || pgcgroup_quota(dir, cpu) != 0 ||
	    pgcgroup_attach(dir, st.pid) != 0) {
		log_warn(PGCGROUP_CTX, "%s: cannot limit to %d cores: %s", dir, cpu, strerror(errno));
		return err_set(e, ERR_INTERNAL_ERROR, "cannot set the CPU limit");
	}
	return 0;
}

/* 1 when /proc/<pid>/cgroup puts `pid` in group `dir` of the cpu hierarchy. */
static int pgcgroup_member(pid_t pid, const char *dir)
{
	char path[64], line[PGCGROUP_LINE_MAX];
	const char *name = dir + strlen(pgcgroup_base) - strlen(PGCGROUP_BASE) - 1; /* "/pgfleet/..." */
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if ((pgcgroup_found == PGCGROUP_V2 ? c1[1] == '\0' : pgcgroup_has_word(c1 + 1, "cpu")) &&
		    strcmp(c2 + 1, name) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

int pgcgroup_enforced(const struct pgnode *n, int cpu)
{
	struct pgnode_state st;
	char dir[PATH_MAX], path[PATH_MAX], text[64], want[64];

	if (pgcgroup_mode() == PGCGROUP_NONE || pgcgroup_dir(n, dir, sizeof(dir)) != 0 ||
	    pgnode_status(n, &st, &(struct err){ 0 }) != 0 || !st.running || !pgcgroup_member(st.pid, dir))
		return 0;
	if (pgcgroup_found == PGCGROUP_V2)
		snprintf(want, sizeof(want), "%lld %d", (long long)cpu * PGCGROUP_PERIOD_US, PGCGROUP_PERIOD_US);
	else
		snprintf(want, sizeof(want), "%lld", (long long)cpu * PGCGROUP_PERIOD_US);
	return pgcgroup_join(path, sizeof(path), dir, pgcgroup_found == PGCGROUP_V2 ? "cpu.max" : "cpu.cfs_quota_us") == 0 &&
	       pgcgroup_read(path, text, sizeof(text)) == 0 && strcmp(text, want) == 0;
}

void pgcgroup_prune(void)
{
	char group[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (pgcgroup_mode() == PGCGROUP_NONE || (d = opendir(pgcgroup_base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		/* node groups only ("<8 hex>-<node>"); rmdir fails on a group in use */
		if (strlen(de->d_name) < 10 || de->d_name[8] != '-' || strspn(de->d_name, "0123456789abcdef") != 8)
			continue;
		if (pgcgroup_join(group, sizeof(group), pgcgroup_base, de->d_name) == 0 && rmdir(group) == 0)
			log_debug(PGCGROUP_CTX, "removed the empty group %s", group);
	}
	closedir(d);
}
