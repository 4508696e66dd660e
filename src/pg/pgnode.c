/*
 * pgnode.c - a node's life outside its postmaster: the OS user servers run
 * as, the template cluster, creating a node from it and removing it.
 *
 * Template: one initdb per (server binaries, encoding), kept under
 * templates_root/pg-<hash of bin_dir>-<charset>/:
 *     data/          a cleanly shut-down cluster (initdb leaves it so)
 *     superuser.pw   the password of PGNODE_SUPERUSER, 0600, the daemon's
 *     READY          written last; a template without it is half-made
 *                    (daemon killed during initdb) and is redone.
 * Creators are serialised by flock() on templates_root/.lock, which also
 * works between threads of one process (each open() is its own lock owner).
 * Every node copied from a template shares its superuser password until the
 * caller changes it over SQL (pgsql_role_set_password) after the first start.
 *
 * Node: DIR/data is a copy of the template's data/, DIR/log holds the
 * server logs, DIR/READY is written last. A node without READY is a partial
 * copy (daemon killed) and is wiped and copied again.
 *
 * Permissions: the node user must be able to search every directory above
 * DIR and above templates_root; nothing here changes modes above them (the
 * daemon makes its data directory 0711). pgnode_fs_check_reachable() turns
 * a violation into a clear error instead of a puzzling initdb failure.
 */
#include "pg/pgnode_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "pg/spawn.h"

#define PGNODE_USERADD          "/usr/sbin/useradd"
#define PGNODE_USERDEL          "/usr/sbin/userdel"
#define PGNODE_USERADD_TIMEOUT_MS 30000
#define PGNODE_INITDB_TIMEOUT_MS 300000
#define PGNODE_PW_BYTES         24        /* random bytes of the superuser password */
#define PGNODE_PW_FILE          "superuser.pw"
#define PGNODE_PWBUF_MAX        16384     /* getpwnam_r buffer */
#define PGNODE_CHARSET_MAX      31
#define PGNODE_OUT_CAP          (64 * 1024)
#define PGNODE_LOG_TAIL         1500      /* bytes of tool output logged */

static pthread_mutex_t pgnode_user_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- shared helpers ------------------------------------------------------ */

int64_t pgnode_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *pgnode_errname(int err)
{
	const char *name = strerrorname_np(err);

	return name != NULL ? name : "EUNKNOWN";
}

int pgnode_join(char *out, size_t out_len, const char *dir, const char *name, struct err *e)
{
	int n = snprintf(out, out_len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= out_len)
		return err_set(e, ERR_INTERNAL_ERROR, "path too long: %s/%s", dir, name);
	return 0;
}

static bool pgnode_path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '/' || c == '.' || c == '_' || c == '-';
}

bool pgnode_path_ok(const char *p, int min_depth)
{
	int depth = 0;

	if (p == NULL || p[0] != '/')
		return false;
	for (const char *c = p; *c != '\0'; c++)
		if (!pgnode_path_char_ok(*c))
			return false;
	for (const char *c = p; *c == '/';) {
		const char *end = strchr(c + 1, '/');
		size_t len = end != NULL ? (size_t)(end - c - 1) : strlen(c + 1);
		if (len == 0 || (len == 1 && c[1] == '.') || (len == 2 && c[1] == '.' && c[2] == '.'))
			return false;
		depth++;
		if (end == NULL)
			break;
		c = end;
	}
	return depth >= min_depth;
}

/* The node's own directory must be at least two levels deep (never "/x"):
 * pgnode_remove deletes it whole. */
int pgnode_check(const struct pgnode *n, struct err *e)
{
	struct in_addr a;
	char canon[INET_ADDRSTRLEN];

	if (!pgnode_path_ok(n->dir, 2) || strlen(n->dir) + 64 >= sizeof(n->dir))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad node directory");
	if (!pgnode_path_ok(n->bin_dir, 1))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad PostgreSQL binary directory");
	if (inet_pton(AF_INET, n->listen_addr, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127 ||
	    inet_ntop(AF_INET, &a, canon, sizeof(canon)) == NULL || strcmp(canon, n->listen_addr) != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad node listen address");
	if (n->port < 1 || n->port > 65535)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad node port");
	if (n->user == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "node without user");
	return 0;
}

/* Log a tool's captured output, shortened to its tail. */
static void pgnode_log_output(const char *what, const struct spawn_result *r)
{
	const char *out = r->err != NULL && r->err_len > 0 ? r->err : r->out;
	size_t len = out == r->err ? r->err_len : r->out_len;

	if (out == NULL)
		return;
	if (len > PGNODE_LOG_TAIL)
		out += len - PGNODE_LOG_TAIL;
	log_error(PGNODE_LOG_CTX, "%s: exit %d signal %d%s: %s", what, r->exited ? r->exit_code : -1,
		  r->signaled ? r->term_signal : 0, r->timed_out ? " (timed out)" : "", out);
}

/* ---- the OS user --------------------------------------------------------- */

/* Look `name` up; 1 found (u filled), 0 missing, -1 error. */
static int pgnode_user_lookup(const char *name, struct pgnode_user *u, struct err *e)
{
	struct passwd pw, *res = NULL;
	char *buf = malloc(PGNODE_PWBUF_MAX);
	int rc;

	if (buf == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	rc = getpwnam_r(name, &pw, buf, PGNODE_PWBUF_MAX, &res);
	if (rc != 0 || res == NULL) {
		free(buf);
		if (rc == 0 || rc == ENOENT || rc == ESRCH)
			return 0;
		return err_set(e, ERR_INTERNAL_ERROR, "getpwnam_r %s failed: %s", name,
			       pgnode_errname(rc));
	}
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
	free(buf);
	return 1;
}

static int pgnode_user_add(const char *name, struct err *e)
{
	const char *const argv[] = { PGNODE_USERADD, "--system", "--no-create-home", "--shell",
				     "/usr/sbin/nologin", "--user-group", name, NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = PGNODE_USERADD_TIMEOUT_MS,
				.out_cap = PGNODE_OUT_CAP };
	struct spawn_result r;
	int rc = spawn_run(&o, &r, e);

	if (rc == 0 && !(r.exited && r.exit_code == 0)) {
		pgnode_log_output("useradd", &r);
		/* exit 9: created meanwhile by someone else; the lookup decides */
		if (!(r.exited && r.exit_code == 9))
			rc = err_set(e, ERR_INTERNAL_ERROR, "could not create the system user %s", name);
	}
	spawn_result_free(&r);
	if (rc == 0)
		log_info(PGNODE_LOG_CTX, "created system user %s", name);
	return rc;
}

static int pgnode_user_system(const char *name, struct pgnode_user *u, struct err *e)
{
	int found = pgnode_user_lookup(name, u, e);

	if (found == 0) {
		if (pgnode_user_add(name, e) < 0)
			return -1;
		found = pgnode_user_lookup(name, u, e);
	}
	if (found < 0)
		return -1;
	if (found == 0)
		return err_set(e, ERR_INTERNAL_ERROR, "system user %s missing after useradd", name);
	if (u->uid == 0 || u->gid == 0)
		return err_set(e, ERR_INTERNAL_ERROR, "system user %s must not be root", name);
	u->set_ids = true;
	return 0;
}

/* [a-z_][a-z0-9_-]{0,31}: what useradd accepts and what we pass it. */
static bool pgnode_user_name_ok(const char *name)
{
	size_t len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len > 31 || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_' || name[i] == '-'))
			return false;
	return true;
}

int pgnode_user_ensure_named(const char *name, struct pgnode_user *u, struct err *e)
{
	int rc;

	if (geteuid() != 0)
		return pgnode_user_ensure(u, e);
	memset(u, 0, sizeof(*u));
	if (!pgnode_user_name_ok(name))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad OS user name");
	pthread_mutex_lock(&pgnode_user_mu);
	rc = pgnode_user_system(name, u, e);
	pthread_mutex_unlock(&pgnode_user_mu);
	return rc;
}

int pgnode_check_reachable(const char *path, const struct pgnode_user *u, struct err *e)
{
	return pgnode_fs_check_reachable(path, u, e);
}

int pgnode_user_remove(const char *name, struct err *e)
{
	const char *const argv[] = { PGNODE_USERDEL, name, NULL };
	struct spawn_opts o = { .argv = argv, .timeout_ms = PGNODE_USERADD_TIMEOUT_MS,
				.out_cap = PGNODE_OUT_CAP };
	struct spawn_result r;
	struct pgnode_user u;
	int rc;

	if (geteuid() != 0)
		return 0;
	if (!pgnode_user_name_ok(name) || strcmp(name, PGNODE_USER) == 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad OS user name");
	pthread_mutex_lock(&pgnode_user_mu);
	rc = pgnode_user_lookup(name, &u, e);
	if (rc == 1) {
		rc = spawn_run(&o, &r, e);
		/* exit 6: already gone */
		if (rc == 0 && !(r.exited && (r.exit_code == 0 || r.exit_code == 6))) {
			pgnode_log_output("userdel", &r);
			rc = err_set(e, ERR_INTERNAL_ERROR, "could not remove the system user %s", name);
		}
		spawn_result_free(&r);
	}
	pthread_mutex_unlock(&pgnode_user_mu);
	return rc < 0 ? -1 : 0;
}

int pgnode_user_ensure(struct pgnode_user *u, struct err *e)
{
	struct passwd pw, *res = NULL;
	char buf[PGNODE_PWBUF_MAX];
	int rc;

	memset(u, 0, sizeof(*u));
	if (geteuid() == 0) {
		pthread_mutex_lock(&pgnode_user_mu);
		rc = pgnode_user_system(PGNODE_USER, u, e);
		pthread_mutex_unlock(&pgnode_user_mu);
		return rc;
	}
	u->uid = geteuid();
	u->gid = getegid();
	u->set_ids = false;
	rc = getpwuid_r(u->uid, &pw, buf, sizeof(buf), &res);
	snprintf(u->name, sizeof(u->name), "%s", rc == 0 && res != NULL ? pw.pw_name : "self");
	return 0;
}

/* ---- the template ------------------------------------------------------- */

static bool pgnode_charset_ok(const char *cs)
{
	size_t len = cs != NULL ? strlen(cs) : 0;

	if (len == 0 || len > PGNODE_CHARSET_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = cs[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

/* FNV-1a: a stable, short name for a binary directory. */
static uint64_t pgnode_fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int pgnode_random_password(char *out, size_t out_len, struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[PGNODE_PW_BYTES];
	size_t got = 0;

	if (out_len < 2 * sizeof(raw) + 1)
		return err_set(e, ERR_INTERNAL_ERROR, "password buffer too small");
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, ERR_INTERNAL_ERROR, "getrandom failed: %s",
				       pgnode_errname(errno));
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * sizeof(raw)] = '\0';
	return 0;
}

static int pgnode_initdb(const char *tpl, const char *data, const char *pwfile,
			 const char *bin_dir, const char *charset, const struct pgnode_user *u,
			 struct err *e)
{
	char initdb[PATH_MAX], pwarg[PATH_MAX + 16];
	const char *const argv[] = { initdb, "-D", data, "-E", charset, "--locale=C",
				     "-U", PGNODE_SUPERUSER, "--auth=scram-sha-256", pwarg, NULL };
	struct spawn_opts o = { .argv = argv, .cwd = tpl, .set_ids = u->set_ids, .uid = u->uid,
				.gid = u->gid, .timeout_ms = PGNODE_INITDB_TIMEOUT_MS,
				.out_cap = PGNODE_OUT_CAP };
	struct spawn_result r;
	int rc;

	if (pgnode_join(initdb, sizeof(initdb), bin_dir, "initdb", e) < 0)
		return -1;
	snprintf(pwarg, sizeof(pwarg), "--pwfile=%s", pwfile);
	rc = spawn_run(&o, &r, e);
	if (rc == 0 && !(r.exited && r.exit_code == 0)) {
		pgnode_log_output("initdb", &r);
		rc = err_set(e, ERR_INTERNAL_ERROR, "initdb failed");
	}
	spawn_result_free(&r);
	return rc;
}

/* Build a template from scratch in `tpl` (wiped first). Caller holds the lock. */
static int pgnode_template_build(const char *tpl, const char *bin_dir, const char *charset,
				 const struct pgnode_user *u, struct err *e)
{
	char data[PATH_MAX], pwfile[PATH_MAX], ready[PATH_MAX], pw[2 * PGNODE_PW_BYTES + 2];
	struct pgnode_user self = { .uid = geteuid(), .gid = getegid(), .set_ids = u->set_ids };
	int64_t t0 = pgnode_now_ms();

	if (pgnode_join(data, sizeof(data), tpl, "data", e) < 0 ||
	    pgnode_join(pwfile, sizeof(pwfile), tpl, PGNODE_PW_FILE, e) < 0 ||
	    pgnode_join(ready, sizeof(ready), tpl, PGNODE_READY_FILE, e) < 0)
		return -1;
	if (pgnode_fs_remove_tree(tpl, e) < 0 || pgnode_fs_mkdir(tpl, 0711, NULL, e) < 0 ||
	    pgnode_fs_mkdir(data, 0700, u, e) < 0 || pgnode_random_password(pw, sizeof(pw), e) < 0)
		return -1;
	pw[2 * PGNODE_PW_BYTES] = '\n';
	pw[2 * PGNODE_PW_BYTES + 1] = '\0';
	/* initdb (as the node user) reads the file; afterwards only the daemon. */
	if (pgnode_fs_write_atomic(pwfile, pw, strlen(pw), 0600, u, e) < 0 ||
	    pgnode_initdb(tpl, data, pwfile, bin_dir, charset, u, e) < 0)
		return -1;
	if (u->set_ids && chown(pwfile, self.uid, self.gid) < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "chown %s failed: %s", pwfile,
			       pgnode_errname(errno));
	if (pgnode_fs_write_atomic(ready, bin_dir, strlen(bin_dir), 0644, NULL, e) < 0)
		return -1;
	log_info(PGNODE_LOG_CTX, "template %s ready (initdb %s, %lld ms)", tpl, charset,
		 (long long)(pgnode_now_ms() - t0));
	return 0;
}

static int pgnode_lock(const char *root, int *fd, struct err *e)
{
	char path[PATH_MAX];

	if (pgnode_join(path, sizeof(path), root, ".lock", e) < 0)
		return -1;
	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s failed: %s", path, pgnode_errname(errno));
	while (flock(*fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(*fd);
			*fd = -1;
			return err_set(e, ERR_INTERNAL_ERROR, "flock %s failed: %s", path,
				       pgnode_errname(errno));
		}
	}
	return 0;
}

int pgnode_template_ensure(const char *templates_root, const char *bin_dir, const char *charset,
			   const struct pgnode_user *u, char *out_dir, size_t out_len, struct err *e)
{
	char name[64], tpl[PATH_MAX], ready[PATH_MAX], data[PATH_MAX];
	int lock = -1, rc = 0;

	if (!pgnode_path_ok(templates_root, 1) || !pgnode_path_ok(bin_dir, 1) ||
	    !pgnode_charset_ok(charset))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad template parameters");
	snprintf(name, sizeof(name), "pg-%016llx-%s", (unsigned long long)pgnode_fnv1a(bin_dir),
		 charset);
	if (pgnode_join(tpl, sizeof(tpl), templates_root, name, e) < 0 ||
	    pgnode_join(ready, sizeof(ready), tpl, PGNODE_READY_FILE, e) < 0 ||
	    pgnode_join(data, sizeof(data), tpl, "data", e) < 0)
		return -1;
	if ((size_t)snprintf(out_dir, out_len, "%s", data) >= out_len)
		return err_set(e, ERR_INTERNAL_ERROR, "template path too long");
	if (pgnode_fs_exists(ready))
		return 0;
	if ((mkdir(templates_root, 0711) < 0 && errno != EEXIST))
		return err_set(e, ERR_INTERNAL_ERROR, "mkdir %s failed: %s", templates_root,
			       pgnode_errname(errno));
	if (pgnode_fs_check_reachable(data, u, e) < 0 || pgnode_lock(templates_root, &lock, e) < 0)
		return -1;
	if (!pgnode_fs_exists(ready))
		rc = pgnode_template_build(tpl, bin_dir, charset, u, e);
	close(lock);   /* releases the flock */
	return rc;
}

int pgnode_template_root(const char *template_dir, char *out, size_t out_len,
				   struct err *e)
{
	const char *slash = template_dir != NULL ? strrchr(template_dir, '/') : NULL;

	if (slash == NULL || slash == template_dir || (size_t)(slash - template_dir) >= out_len)
		return err_set(e, ERR_INTERNAL_ERROR, "bad template directory");
	memcpy(out, template_dir, (size_t)(slash - template_dir));
	out[slash - template_dir] = '\0';
	return 0;
}

int pgnode_template_password(const char *template_dir, char *out, size_t out_len, struct err *e)
{
	char tpl[PATH_MAX], path[PATH_MAX], buf[256];
	size_t len;

	if (pgnode_template_root(template_dir, tpl, sizeof(tpl), e) < 0 ||
	    pgnode_join(path, sizeof(path), tpl, PGNODE_PW_FILE, e) < 0 ||
	    pgnode_fs_read(path, buf, sizeof(buf), &len, NULL, e) < 0)
		return -1;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || len >= out_len)
		return err_set(e, ERR_INTERNAL_ERROR, "bad template password file %s", path);
	memcpy(out, buf, len + 1);
	return 0;
}

/* ---- nodes --------------------------------------------------------------- */

struct pgnode_create_paths {
	char data[PATH_MAX], logdir[PATH_MAX], ready[PATH_MAX], tpl_ready[PATH_MAX];
};

static int pgnode_create_paths(const struct pgnode *n, const char *template_dir,
			       struct pgnode_create_paths *p, struct err *e)
{
	char tpl[PATH_MAX];

	if (pgnode_check(n, e) < 0)
		return -1;
	if (!pgnode_path_ok(template_dir, 2))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "bad template directory");
	if (pgnode_join(p->data, sizeof(p->data), n->dir, "data", e) < 0 ||
	    pgnode_join(p->logdir, sizeof(p->logdir), n->dir, "log", e) < 0 ||
	    pgnode_join(p->ready, sizeof(p->ready), n->dir, PGNODE_READY_FILE, e) < 0 ||
	    pgnode_template_root(template_dir, tpl, sizeof(tpl), e) < 0 ||
	    pgnode_join(p->tpl_ready, sizeof(p->tpl_ready), tpl, PGNODE_READY_FILE, e) < 0)
		return -1;
	return 0;
}

/* Fill a fresh DIR/data (a spare if one waits, else a copy of the
 * template) and DIR/log, and make the data durable. */
static int pgnode_populate(const struct pgnode *n, const char *template_dir,
			   const struct pgnode_create_paths *p, struct err *e)
{
	struct pgnode_copy_stats cs;
	int64_t t0 = pgnode_now_ms();

	if (pgnode_proc_running(n))
		return err_set(e, ERR_INTERNAL_ERROR, "a server runs on the incomplete node %s", n->dir);
	if (pgnode_fs_remove_tree(p->data, e) < 0 || pgnode_fs_remove_tree(p->logdir, e) < 0 ||
	    pgnode_fs_mkdir(p->logdir, 0700, n->user, e) < 0)
		return -1;
	const struct pgnode_user *owner = n->spare_user ? n->spare_user : n->user;
	if (pgnode_spare_take(template_dir, owner, p->data)) {
		log_info(PGNODE_LOG_CTX, "node %s: took a spare copy of the template", n->dir);
		if (owner->uid != n->user->uid && pgnode_fs_chown_tree(p->data, n->user, e) < 0)
			return -1;
		return pgnode_fs_fsync_dir(n->dir, e);   /* the spare itself was synced */
	}
	if (pgnode_fs_copy_tree(template_dir, p->data, n->user, &cs, e) < 0)
		return -1;
	/* The copy went to the page cache: make it durable before the marker
	 * says it is complete (PostgreSQL syncs nothing after a clean shutdown). */
	if (pgnode_fs_sync(p->data, e) < 0)
		return -1;
	log_info(PGNODE_LOG_CTX, "node %s: copied %ld files, %lld of %lld bytes written, "
		 "synced, %lld ms", n->dir, cs.files, cs.bytes_written, cs.bytes_total,
		 (long long)(pgnode_now_ms() - t0));
	return 0;
}

int pgnode_create(const struct pgnode *n, const char *template_dir, const struct pgnode_conf *c,
		  struct err *e)
{
	struct pgnode_create_paths p;

	if (pgnode_create_paths(n, template_dir, &p, e) < 0)
		return -1;
	if (pgnode_fs_check_reachable(n->dir, n->user, e) < 0 ||
	    pgnode_fs_mkdir(n->dir, 0700, n->user, e) < 0)
		return -1;
	if (pgnode_fs_exists(p.ready) && pgnode_fs_exists(p.data))
		return pgnode_fs_mkdir(p.logdir, 0700, n->user, e) < 0 ? -1 : pgnode_write_config(n, c, e);
	if (!pgnode_fs_exists(p.tpl_ready))
		return err_set(e, ERR_INTERNAL_ERROR, "template %s is not ready", template_dir);
	if (pgnode_populate(n, template_dir, &p, e) < 0 || pgnode_write_config(n, c, e) < 0)
		return -1;
	return pgnode_fs_write_atomic(p.ready, "", 0, 0600, NULL, e);
}

int pgnode_remove(const struct pgnode *n, struct err *e)
{
	char ready[PATH_MAX];

	if (pgnode_check(n, e) < 0 || pgnode_join(ready, sizeof(ready), n->dir, PGNODE_READY_FILE, e) < 0)
		return -1;
	if (!pgnode_fs_exists(n->dir))
		return 0;
	if (pgnode_stop(n, PGNODE_STOP_IMMEDIATE, PGNODE_STOP_TIMEOUT_MS, e) < 0 &&
	    pgnode_proc_kill(n, e) < 0)
		return -1;
	if (unlink(ready) < 0 && errno != ENOENT)
		return err_set(e, ERR_INTERNAL_ERROR, "unlink %s failed: %s", ready, pgnode_errname(errno));
	if (pgnode_fs_remove_tree(n->dir, e) < 0)
		return -1;
	log_info(PGNODE_LOG_CTX, "node %s removed", n->dir);
	return 0;
}

int pgnode_data_size(const struct pgnode *n, long long *bytes, struct err *e)
{
	char data[PATH_MAX];

	*bytes = 0;
	if (pgnode_check(n, e) < 0 || pgnode_join(data, sizeof(data), n->dir, "data", e) < 0)
		return -1;
	return pgnode_fs_usage(data, bytes, e);
}
