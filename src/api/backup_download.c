/*
 * backup_download.c - backup downloads served by the daemon itself.
 *
 * DescribeBackupDownloadURL answers a URL of this daemon
 *
 *   <base>/backup-download/<instance>/<base|log>/<backup id>/<file>
 *       ?expires=<unix seconds>[&r=<hex of a restriction>]&sig=<hex>
 *
 * where sig = HMAC-SHA256(key, path "\n" expires "\n" r) and key is a
 * secret of the daemon (32 random bytes, DATA_DIR/backup-download.key,
 * 0600, made on first use). <base> is the backup_download_url setting, or
 * http://<listen>. The route checks, in order: the path's shape (else
 * 404), the signature (403), the expiry against the business clock (403),
 * the tenant's download restriction and the URL's own one (403), then
 * finds the file from the store's records - never from the path - and
 * streams it (404 when it is gone). Nothing outside the backup store can
 * be named: every component is checked against its grammar and the file
 * is the record's, opened without following symlinks.
 *
 * Restrictions (ModifyBackupDownloadRestriction, per tenant):
 *   NONE       anyone holding a valid URL
 *   INTRANET   clients on the private network: the instances' address
 *              range (vip_first - vip_last)
 *   CUSTOMIZE  VpcRestrictionEffect ALLOW|DENY over VpcIdSet, where a
 *              client's VPC is the VpcId of the tenant's instance whose
 *              address it connects from; IpRestrictionEffect ALLOW|DENY
 *              over IpSet (addresses or CIDR blocks). Every rule given must
 *              pass.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/backup_api.h"
#include "api/routes.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"

#define DL_KEY_FILE     "backup-download.key"
#define DL_KEY_LEN      32
#define DL_SIG_HEX      64
#define DL_R_HEX_MAX    8192
#define DL_FILE_MAX     96
#define DL_VPC_MAX      40

static pthread_mutex_t dl_key_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char dl_key[DL_KEY_LEN];
static bool dl_key_loaded;

/* ---- the key ----------------------------------------------------------------------------------- */

static void dl_hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int dl_unhex(const char *s, size_t len, unsigned char *out)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char c = s[i + (size_t)k];
			v = v * 16 + (unsigned)(c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99);
		}
		if (v > 255)
			return -1;
		out[i / 2] = (unsigned char)v;
	}
	return len % 2 == 0 ? 0 : -1;
}

/* Create the key file (0600) or read the one there. */
static int dl_key_file(const char *path, struct err *e)
{
	char hex[2 * DL_KEY_LEN + 1];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0) {
		if (RAND_bytes(dl_key, DL_KEY_LEN) == 1)
			dl_hex(dl_key, DL_KEY_LEN, hex);
		else
			memset(hex, 0, sizeof(hex));
		if (hex[0] == '\0' || write(fd, hex, 2 * DL_KEY_LEN) != 2 * DL_KEY_LEN || fsync(fd) != 0) {
			close(fd);
			unlink(path);
			return err_set(e, ERR_INTERNAL_ERROR, "write %s: %s", path, strerror(errno));
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_set(e, ERR_INTERNAL_ERROR, "open %s: %s", path, strerror(errno));
	ssize_t n = read(fd, hex, 2 * DL_KEY_LEN);
	close(fd);
	if (n != 2 * DL_KEY_LEN || dl_unhex(hex, 2 * DL_KEY_LEN, dl_key) != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "%s is not a key", path);
	return 0;
}

static int dl_key_get(const struct config *cfg, struct err *e)
{
	char path[PATH_MAX];
	int rc = 0;

	pthread_mutex_lock(&dl_key_mu);
	if (!dl_key_loaded) {
		snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, DL_KEY_FILE);
		rc = dl_key_file(path, e);
		dl_key_loaded = rc == 0;
	}
	pthread_mutex_unlock(&dl_key_mu);
	return rc;
}

/* sig = hex(HMAC-SHA256(key, path "\n" expires "\n" r)). */
static int dl_sign(const struct config *cfg, const char *path, const char *expires, const char *r,
		   char out[DL_SIG_HEX + 1], struct err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t len = strlen(path) + strlen(expires) + strlen(r) + 3;
	char *msg = malloc(len);

	if (msg == NULL)
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	snprintf(msg, len, "%s\n%s\n%s", path, expires, r);
	if (dl_key_get(cfg, e) != 0) {
		free(msg);
		return -1;
	}
	if (HMAC(EVP_sha256(), dl_key, DL_KEY_LEN, (const unsigned char *)msg, strlen(msg), md, &mdlen) == NULL) {
		free(msg);
		return err_set(e, ERR_INTERNAL_ERROR, "HMAC failed");
	}
	free(msg);
	dl_hex(md, 32, out);
	return 0;
}

/* ---- making URLs -------------------------------------------------------------------------------- */

static bool dl_file_ok(const char *f)
{
	size_t len = strlen(f);

	return len >= 1 && len <= DL_FILE_MAX && f[0] != '.' && strstr(f, "..") == NULL &&
	       strspn(f, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

int backup_url_make(const struct api_ctx *ctx, const char *inst, const char *type, const char *id, const char *file,
		    long long hours, const json_t *restriction, char **url, struct err *e)
{
	const struct config *cfg = ctx->svc->cfg;
	char path[512], expires[24], sig[DL_SIG_HEX + 1], *r = NULL, *rjson = NULL;
	size_t len;

	*url = NULL;
	if (!dl_file_ok(file) || snprintf(path, sizeof(path), "%s%s/%s/%s/%s", BACKUP_ROUTE_PREFIX, inst, type, id, file) >=
				       (int)sizeof(path))
		return err_set(e, ERR_INTERNAL_ERROR, "bad download path");
	snprintf(expires, sizeof(expires), "%lld", (long long)(clock_now() + hours * 3600));
	if (restriction != NULL && (rjson = json_dumps(restriction, JSON_COMPACT | JSON_SORT_KEYS)) != NULL &&
	    strlen(rjson) * 2 <= DL_R_HEX_MAX && (r = malloc(strlen(rjson) * 2 + 1)) != NULL)
		dl_hex((const unsigned char *)rjson, strlen(rjson), r);
	free(rjson);
	if (dl_sign(cfg, path, expires, r ? r : "", sig, e) != 0) {
		free(r);
		return -1;
	}
	len = strlen(cfg->backup_download_url) + strlen(cfg->listen) + strlen(path) + (r ? strlen(r) : 0) + 128;
	*url = malloc(len);
	if (*url != NULL)
		snprintf(*url, len, "%s%s%s?expires=%s%s%s&sig=%s", cfg->backup_download_url[0] ? "" : "http://",
			 cfg->backup_download_url[0] ? cfg->backup_download_url : cfg->listen, path, expires,
			 r ? "&r=" : "", r ? r : "", sig);
	free(r);
	return *url ? 0 : err_set(e, ERR_INTERNAL_ERROR, "out of memory");
}

/* ---- restrictions -------------------------------------------------------------------------------- */

/* Parse "a.b.c.d", "a.b.c.d/n" or the IPv6 forms into bytes and a prefix. */
static int dl_cidr(const char *s, unsigned char addr[16], int *family, int *bits)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	char *end;

	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	*family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*family, buf, addr) != 1)
		return -1;
	*bits = *family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		long b = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || b < 0 || b > *bits)
			return -1;
		*bits = (int)b;
	}
	return 0;
}

static bool dl_ip_match(const char *client, const char *entry)
{
	unsigned char a[16], b[16];
	int fa, fb, bits, dummy;

	if (dl_cidr(client, a, &fa, &dummy) != 0 || dl_cidr(entry, b, &fb, &bits) != 0 || fa != fb)
		return false;
	for (int i = 0; i < bits; i++)
		if (((a[i / 8] ^ b[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static bool dl_vpc_ok(const char *v)
{
	size_t len = strlen(v);

	return len > 4 && len <= DL_VPC_MAX && strncmp(v, "vpc-", 4) == 0 &&
	       strspn(v + 4, "abcdefghijklmnopqrstuvwxyz0123456789") == len - 4;
}

/* `code` when the action documents it, else `fallback`. */
static enum err_code dl_code(const struct api_ctx *ctx, enum err_code code, enum err_code fallback)
{
	for (size_t i = 0; ctx->action != NULL && i < ctx->action->nerrors; i++)
		if (ctx->action->errors[i] == code)
			return code;
	return fallback;
}

static bool dl_tenant_has_vpc(const struct api_ctx *ctx, const char *vpc)
{
	struct store_res *list;
	size_t n;
	bool found = false;
	struct err e;

	if (store_res_list(ctx->svc->store, FLEET_KIND, ctx->tenant->id, &list, &n, &e) != 0)
		return false;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(json_string_value(json_object_get(list[i].doc, "VpcId")) ?: "", vpc) == 0;
	store_res_list_free(list, n);
	return found;
}

int backup_restriction_check(const struct api_ctx *ctx, const json_t *r, struct err *e)
{
	const char *type = json_string_value(json_object_get(r, "RestrictionType")) ?: "NONE";
	const char *veff = json_string_value(json_object_get(r, "VpcRestrictionEffect")) ?: "";
	const char *ieff = json_string_value(json_object_get(r, "IpRestrictionEffect")) ?: "";
	const json_t *vpcs = json_object_get(r, "VpcIdSet"), *ips = json_object_get(r, "IpSet");
	enum err_code bad = ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR;
	unsigned char addr[16];
	int fam, bits;
	size_t i;
	json_t *v;

	if (strcmp(type, "CUSTOMIZE") == 0 && veff[0] == '\0' && ieff[0] == '\0')
		return err_set(e, bad, "CUSTOMIZE needs a VpcRestrictionEffect or an IpRestrictionEffect.");
	if (json_array_size(vpcs) > BACKUP_RESTRICTION_SET_MAX || json_array_size(ips) > BACKUP_RESTRICTION_SET_MAX)
		return err_set(e, bad, "VpcIdSet and IpSet hold at most %d entries.", BACKUP_RESTRICTION_SET_MAX);
	json_array_foreach(vpcs, i, v) {
		const char *s = json_string_value(v) ?: "";
		if (!dl_vpc_ok(s))
			return err_set(e, bad, "VpcIdSet.%zu `%.48s` is not a VPC id (vpc-xxxxxxxx).", i, s);
		if (!dl_tenant_has_vpc(ctx, s))
			return err_set(e, dl_code(ctx, ERR_INVALID_PARAMETER_VPC_NOT_FOUND_ERROR, bad),
				       "The VPC `%.48s` has no instance of yours.", s);
	}
	json_array_foreach(ips, i, v)
		if (dl_cidr(json_string_value(v) ?: "", addr, &fam, &bits) != 0)
			return err_set(e, bad, "IpSet.%zu `%.64s` is not an IP address or CIDR block.", i,
				       json_string_value(v) ?: "");
	return 0;
}

static bool dl_in_set(const json_t *set, const char *s, bool ip)
{
	size_t i;
	json_t *v;

	json_array_foreach(set, i, v)
		if (ip ? dl_ip_match(s, json_string_value(v) ?: "") : strcmp(s, json_string_value(v) ?: "") == 0)
			return true;
	return false;
}

/* The client's private network: inside the instances' address range. */
static bool dl_intranet(const struct config *cfg, const char *ip)
{
	struct in_addr a, lo, hi;

	return inet_pton(AF_INET, ip, &a) == 1 && inet_pton(AF_INET, cfg->vip_first, &lo) == 1 &&
	       inet_pton(AF_INET, cfg->vip_last, &hi) == 1 && ntohl(a.s_addr) >= ntohl(lo.s_addr) &&
	       ntohl(a.s_addr) <= ntohl(hi.s_addr);
}

/* The VpcId of tenant's instance at address `ip` ("" when none). */
static void dl_client_vpc(struct store *s, int64_t tenant, const char *ip, char out[DL_VPC_MAX + 1])
{
	struct store_res *list;
	size_t n;
	struct err e;

	out[0] = '\0';
	if (store_res_list(s, FLEET_KIND, tenant, &list, &n, &e) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (strcmp(json_string_value(json_object_get(list[i].doc, "Vip")) ?: "", ip) == 0)
			snprintf(out, DL_VPC_MAX + 1, "%s", json_string_value(json_object_get(list[i].doc, "VpcId")) ?: "");
	store_res_list_free(list, n);
}

static bool dl_allowed(const struct route_request *rq, int64_t tenant, const json_t *r)
{
	const char *type = json_string_value(json_object_get(r, "RestrictionType")) ?: "NONE";
	const char *veff = json_string_value(json_object_get(r, "VpcRestrictionEffect")) ?: "";
	const char *ieff = json_string_value(json_object_get(r, "IpRestrictionEffect")) ?: "";
	char vpc[DL_VPC_MAX + 1];
	bool ok = true;

	if (strcmp(type, "INTRANET") == 0)
		return dl_intranet(rq->svc->cfg, rq->client_ip);
	if (strcmp(type, "CUSTOMIZE") != 0)
		return true;
	if (veff[0] != '\0') {
		dl_client_vpc(rq->svc->store, tenant, rq->client_ip, vpc);
		bool in = vpc[0] != '\0' && dl_in_set(json_object_get(r, "VpcIdSet"), vpc, false);
		ok &= strcmp(veff, "ALLOW") == 0 ? in : !in;
	}
	if (ieff[0] != '\0') {
		bool in = dl_in_set(json_object_get(r, "IpSet"), rq->client_ip, true);
		ok &= strcmp(ieff, "ALLOW") == 0 ? in : !in;
	}
	return ok;
}

/* The tenant's restriction document (NULL: none set). */
static json_t *dl_tenant_restriction(struct store *s, int64_t tenant)
{
	char id[40];
	struct store_res r;
	struct err e;
	json_t *doc;

	snprintf(id, sizeof(id), "tenant-%lld", (long long)tenant);
	if (store_res_get(s, BACKUP_KIND_RESTRICTION, id, tenant, &r, &e) != 0)
		return NULL;
	doc = json_incref(r.doc);
	store_res_free(&r);
	return doc;
}

/* ---- the actions -------------------------------------------------------------------------------- */

int backup_describe_restriction(struct api_ctx *ctx, json_t *out, struct err *e)
{
	json_t *r = dl_tenant_restriction(ctx->svc->store, ctx->tenant->id);
	json_t *vpcs = json_object_get(r, "VpcIdSet"), *ips = json_object_get(r, "IpSet");

	json_object_set_new(out, "RestrictionType",
			    json_string(json_string_value(json_object_get(r, "RestrictionType")) ?: "NONE"));
	json_object_set_new(out, "VpcRestrictionEffect",
			    json_string(json_string_value(json_object_get(r, "VpcRestrictionEffect")) ?: ""));
	json_object_set_new(out, "VpcIdSet", vpcs ? json_deep_copy(vpcs) : json_array());
	json_object_set_new(out, "IpRestrictionEffect",
			    json_string(json_string_value(json_object_get(r, "IpRestrictionEffect")) ?: ""));
	json_object_set_new(out, "IpSet", ips ? json_deep_copy(ips) : json_array());
	json_decref(r);
	return 0;
}

static int mut_restriction(struct store_res *r, void *arg, struct err *e)
{
	json_decref(r->doc);
	r->doc = json_incref(arg);
	return 0;
}

int backup_modify_restriction(struct api_ctx *ctx, json_t *out, struct err *e)
{
	static const char *const keys[] = { "RestrictionType", "VpcRestrictionEffect", "VpcIdSet", "IpRestrictionEffect",
					    "IpSet", NULL };
	struct store_res r;
	json_t *doc = json_object();
	int rc;

	for (const char *const *k = keys; *k != NULL; k++)
		if (json_object_get(ctx->params, *k) != NULL)
			json_object_set(doc, *k, json_object_get(ctx->params, *k));
	if (backup_restriction_check(ctx, doc, e) != 0) {
		json_decref(doc);
		return -1;
	}
	memset(&r, 0, sizeof(r));
	snprintf(r.kind, sizeof(r.kind), "%s", BACKUP_KIND_RESTRICTION);
	snprintf(r.id, sizeof(r.id), "tenant-%lld", (long long)ctx->tenant->id);
	snprintf(r.status, sizeof(r.status), "active");
	r.tenant_id = ctx->tenant->id;
	r.doc = doc;
	rc = store_res_modify(ctx->svc->store, BACKUP_KIND_RESTRICTION, r.id, ctx->tenant->id, mut_restriction, doc, e);
	if (rc != 0 && e->code == ERR_RESOURCE_NOT_FOUND)
		rc = store_res_insert(ctx->svc->store, &r, e);
	json_decref(doc);
	return rc;
}

/* The file name and type of the backup a DescribeBackupDownloadURL names. */
static int dl_target(const struct api_ctx *ctx, const char *inst, char *file, size_t cap, const char **type,
		     struct err *e)
{
	const char *kind = api_param_str(ctx, "BackupType"), *id = api_param_str(ctx, "BackupId");
	enum err_code bad = ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR;
	char dir[PGBACKUP_PATH_MAX], lid[BACKUP_ID_LEN + 1];
	struct pgbackup_wal_file *w = NULL;
	struct store_res bk;
	size_t nw = 0;

	*type = strcmp(kind, "BaseBackup") == 0 ? "base" : "log";
	if (strcmp(*type, "base") == 0) {
		if (backup_api_base_get(ctx, inst, id, &bk, e) != 0)
			return -1;
		int ok = strcmp(bk.status, "finished") == 0;
		snprintf(file, cap, "%s", json_string_value(json_object_get(bk.doc, "Name")) ?: "");
		store_res_free(&bk);
		return ok ? 0 : err_set(e, bad, "The backup %s is not finished.", id);
	}
	if (backup_wal_dir(backup_fleet(ctx), inst, dir, sizeof(dir), e) != 0 || pgbackup_wal_list(dir, &w, &nw, e) != 0)
		return -1;
	file[0] = '\0';
	for (size_t i = 0; i < nw && file[0] == '\0'; i++) {
		backup_log_id(inst, w[i].name, lid);
		if (strcmp(lid, id) == 0)
			snprintf(file, cap, "%s.gz", w[i].name);
	}
	free(w);
	return file[0] ? 0 : err_set(e, bad, "The log backup `%.64s` of instance %s does not exist.", id, inst);
}

int backup_describe_url(struct api_ctx *ctx, json_t *out, struct err *e)
{
	const char *inst = api_param_str(ctx, "DBInstanceId");
	const json_t *restr = json_object_get(ctx->params, "BackupDownloadRestriction");
	long long hours = 0;
	char file[PGBACKUP_WAL_NAME_MAX + 128], *url = NULL;
	const char *type;
	struct store_res r;

	api_param_int(ctx, "URLExpireTime", &hours);
	if (hours < 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_INVALID_PARAMETER_VALUE_ERROR,
			       "URLExpireTime must be 0 to %d hours.", BACKUP_URL_HOURS_MAX);
	if (hours > BACKUP_URL_HOURS_MAX)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE_PARAMETER_VALUE_EXCEED_ERROR,
			       "URLExpireTime is at most %d hours.", BACKUP_URL_HOURS_MAX);
	if (hours == 0)
		hours = BACKUP_URL_HOURS_DEFAULT;
	if (instance_get(ctx, inst, &r, e) != 0)
		return -1;
	store_res_free(&r);
	if (dl_target(ctx, inst, file, sizeof(file), &type, e) != 0 ||
	    (restr != NULL && backup_restriction_check(ctx, restr, e) != 0) ||
	    backup_url_make(ctx, inst, type, api_param_str(ctx, "BackupId"), file, hours, restr, &url, e) != 0)
		return -1;
	json_object_set_new(out, "BackupDownloadURL", json_string(url));
	free(url);
	return 0;
}

/* ---- the route ----------------------------------------------------------------------------------- */

struct dl_req {
	char inst[STORE_ID_MAX], type[8], id[BACKUP_ID_LEN + 1], file[DL_FILE_MAX + 1];
	char expires[24], sig[DL_SIG_HEX + 1];
	char *r;                 /* hex, malloc'd; NULL when absent */
};

static int dl_status(struct route_response *rs, int status, const char *why)
{
	rs->status = status;
	snprintf(rs->content_type, sizeof(rs->content_type), "application/json");
	rs->body = malloc(128);
	if (rs->body != NULL)
		rs->body_len = (size_t)snprintf(rs->body, 128, "{\"error\": \"%s\"}\n", why);
	return 0;
}

/* Copy path component `src[0..len)` into out if it is made of `chars`. */
static int dl_component(const char *src, size_t len, char *out, size_t cap, const char *chars)
{
	if (len == 0 || len >= cap || strspn(src, chars) < len)
		return -1;
	memcpy(out, src, len);
	out[len] = '\0';
	return 0;
}

static int dl_parse_path(const char *path, struct dl_req *q)
{
	static const char *const sets[4] = { "abcdefghijklmnopqrstuvwxyz0123456789-", "abcdefghijklmnopqrstuvwxyz",
					      "abcdef0123456789-",
					      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-" };
	char *parts[4] = { q->inst, q->type, q->id, q->file };
	size_t caps[4] = { sizeof(q->inst), sizeof(q->type), sizeof(q->id), sizeof(q->file) };
	const char *p = path + strlen(BACKUP_ROUTE_PREFIX);

	if (strncmp(path, BACKUP_ROUTE_PREFIX, strlen(BACKUP_ROUTE_PREFIX)) != 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		size_t len = strcspn(p, "/");
		if ((i < 3) != (p[len] == '/') || dl_component(p, len, parts[i], caps[i], sets[i]) != 0)
			return -1;
		p += len + (i < 3 ? 1 : 0);
	}
	if (strcmp(q->type, "base") != 0 && strcmp(q->type, "log") != 0)
		return -1;
	return backup_id_ok(q->id) && dl_file_ok(q->file) ? 0 : -1;
}

/* One "key=value" of the query into q; -1 on anything unexpected. */
static int dl_query_pair(const char *p, size_t len, struct dl_req *q)
{
	const char *eq = memchr(p, '=', len);
	const char *v = eq ? eq + 1 : NULL;
	size_t klen = eq ? (size_t)(eq - p) : 0, vlen = eq ? len - klen - 1 : 0;

	if (eq == NULL)
		return -1;
	if (klen == 7 && memcmp(p, "expires", 7) == 0 && q->expires[0] == '\0')
		return dl_component(v, vlen, q->expires, 13, "0123456789");
	if (klen == 3 && memcmp(p, "sig", 3) == 0 && q->sig[0] == '\0' && vlen == DL_SIG_HEX)
		return dl_component(v, vlen, q->sig, sizeof(q->sig), "0123456789abcdef");
	if (klen == 1 && p[0] == 'r' && q->r == NULL && vlen <= DL_R_HEX_MAX) {
		q->r = malloc(vlen + 1);
		return q->r == NULL ? -1 : dl_component(v, vlen, q->r, vlen + 1, "0123456789abcdef");
	}
	return -1;
}

static int dl_parse_query(const char *query, struct dl_req *q)
{
	for (const char *p = query; *p != '\0';) {
		size_t len = strcspn(p, "&");
		if (dl_query_pair(p, len, q) != 0)
			return -1;
		p += len + (p[len] == '&' ? 1 : 0);
	}
	return q->expires[0] != '\0' && q->sig[0] != '\0' ? 0 : -1;
}

/* The restriction carried by the URL (r), decoded; NULL when none or bad. */
static json_t *dl_url_restriction(const char *hex)
{
	size_t len = strlen(hex);
	unsigned char *buf = malloc(len / 2 + 1);
	json_t *doc = NULL;

	if (buf != NULL && dl_unhex(hex, len, buf) == 0) {
		buf[len / 2] = '\0';
		doc = json_loads((const char *)buf, 0, NULL);
	}
	free(buf);
	return doc;
}

/* Open the file the (verified) URL names, from the store's records. */
static int dl_open(const struct route_request *rq, const struct dl_req *q, int64_t tenant, int *fd, struct stat *st)
{
	struct fleet *f = rq->svc->fleet;
	char path[PGBACKUP_PATH_MAX + 128], dir[PGBACKUP_PATH_MAX], lid[BACKUP_ID_LEN + 1];
	struct pgbackup_wal_file *w = NULL;
	struct store_res bk;
	struct err e;
	size_t nw = 0;

	path[0] = '\0';
	if (strcmp(q->type, "base") == 0 && store_res_get(f->store, BACKUP_KIND_BASE, q->id, tenant, &bk, &e) == 0) {
		if (strcmp(bk.status, "finished") == 0 &&
		    strcmp(json_string_value(json_object_get(bk.doc, "DBInstanceId")) ?: "", q->inst) == 0 &&
		    strcmp(json_string_value(json_object_get(bk.doc, "Name")) ?: "", q->file) == 0 &&
		    backup_base_dir(f, q->inst, q->id, dir, sizeof(dir), &e) == 0)
			snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(json_object_get(bk.doc, "File")) ?: "");
		store_res_free(&bk);
	} else if (strcmp(q->type, "log") == 0 && backup_wal_dir(f, q->inst, dir, sizeof(dir), &e) == 0 &&
		   pgbackup_wal_list(dir, &w, &nw, &e) == 0) {
		for (size_t i = 0; i < nw && path[0] == '\0'; i++) {
			backup_log_id(q->inst, w[i].name, lid);
			if (strcmp(lid, q->id) == 0 && strncmp(q->file, w[i].name, strlen(w[i].name)) == 0 &&
			    strcmp(q->file + strlen(w[i].name), ".gz") == 0)
				snprintf(path, sizeof(path), "%s/%s", dir, q->file);
		}
		free(w);
	}
	if (path[0] == '\0' || (*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(*fd);
		return -1;
	}
	return 0;
}

/* Signature, expiry, restrictions; then the file. */
static int dl_serve(const struct route_request *rq, struct route_response *rs, const struct dl_req *q)
{
	char sig[DL_SIG_HEX + 1];
	struct store_res inst;
	struct stat st;
	json_t *r;
	struct err e;
	bool ok;
	int fd;

	if (dl_sign(rq->svc->cfg, rq->path, q->expires, q->r ? q->r : "", sig, &e) != 0)
		return dl_status(rs, 500, "internal error");
	if (CRYPTO_memcmp(sig, q->sig, DL_SIG_HEX) != 0)
		return dl_status(rs, 403, "bad signature");
	if (strtoll(q->expires, NULL, 10) < clock_now())
		return dl_status(rs, 403, "the URL has expired");
	if (store_res_get(rq->svc->store, FLEET_KIND, q->inst, 0, &inst, &e) != 0)
		return dl_status(rs, 404, "not found");
	r = dl_tenant_restriction(rq->svc->store, inst.tenant_id);
	ok = r == NULL || dl_allowed(rq, inst.tenant_id, r);
	json_decref(r);
	if (ok && q->r != NULL) {
		r = dl_url_restriction(q->r);
		ok = r != NULL && dl_allowed(rq, inst.tenant_id, r);
		json_decref(r);
	}
	if (!ok) {
		log_info(q->inst, "backup download refused to %s: download restriction", rq->client_ip);
		store_res_free(&inst);
		return dl_status(rs, 403, "forbidden by the backup download restriction");
	}
	if (dl_open(rq, q, inst.tenant_id, &fd, &st) != 0) {
		store_res_free(&inst);
		return dl_status(rs, 404, "not found");
	}
	store_res_free(&inst);
	rs->fd = fd;
	rs->fd_offset = 0;
	rs->fd_len = (uint64_t)st.st_size;
	snprintf(rs->filename, sizeof(rs->filename), "%s", q->file);
	snprintf(rs->content_type, sizeof(rs->content_type), "application/octet-stream");
	log_info(q->inst, "backup %s/%s downloaded by %s (%lld bytes)", q->type, q->file, rq->client_ip,
		 (long long)st.st_size);
	return 0;
}

int backup_download_route(const struct route_request *rq, struct route_response *rs)
{
	struct dl_req q;
	int rc;

	memset(&q, 0, sizeof(q));
	if (dl_parse_path(rq->path, &q) != 0 || dl_parse_query(rq->query, &q) != 0) {
		free(q.r);
		return dl_status(rs, 404, "not found");
	}
	rc = dl_serve(rq, rs, &q);
	free(q.r);
	return rc;
}
