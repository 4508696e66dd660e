/*
 * sign.c - TencentCloud API signatures: TC3-HMAC-SHA256 and the v1
 * HmacSHA1/HmacSHA256 scheme, for both the server (sign_verify) and
 * clients (sign_tc3_authorization). See sign.h and reference/signature.md.
 *
 * Verification rebuilds what the client signed from what was received:
 * TC3 from the method, the raw query, the headers listed in SignedHeaders
 * (values lower-cased and trimmed) and the raw body bytes; v1 from the
 * method, the Host header and every received parameter but Signature,
 * sorted by name. Clients pointed at a custom endpoint sign the host with
 * or without its port (the Node SDK: TC3 without, v1 with), so both forms
 * are tried. Signatures are compared with CRYPTO_memcmp.
 *
 * v1 requests carry a Nonce: (SecretId, Nonce, Timestamp) seen twice within
 * the timestamp window is a replay. The nonce cache is a fixed ring of
 * SIGN_NONCE_SLOTS entries indexed by a chained hash, under one mutex; when
 * the ring wraps it forgets the oldest entry, which is harmless once that
 * entry's timestamp has left the window (a warning is logged otherwise).
 */
#include "api/sign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

#define SIGN_MAX_HOST       255     /* Host header */
#define SIGN_NONCE_SLOTS    65536   /* remembered v1 nonces */
#define SIGN_NONCE_BUCKETS  65536

static const char sign_tc3_alg[] = "TC3-HMAC-SHA256";

/* ---- primitives ---------------------------------------------------------- */

static void sign_hex(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void sign_sha256_hex(const void *data, size_t len, char out[SIGN_HEX_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data != NULL ? data : (const void *)"", len, md);
	sign_hex(md, sizeof(md), out);
}

static void sign_hmac256(const void *key, size_t klen, const char *msg,
			 unsigned char out[SHA256_DIGEST_LENGTH])
{
	unsigned int n = SHA256_DIGEST_LENGTH;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

/* "YYYY-MM-DD" of the UTC day of `ts` into out[11]; false when out of range. */
static bool sign_utc_date(int64_t ts, char out[11])
{
	time_t t = (time_t)ts;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year > 9999 - 1900 || tm.tm_year < -1900)
		return false;
	return strftime(out, 11, "%Y-%m-%d", &tm) == 10;
}

/* printf into a new string; NULL when out of memory. */
static char *sign_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sign_strf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* ---- TC3 ----------------------------------------------------------------- */

void sign_tc3_signature(const char *secret_key, const char *date, const char *service,
			const char *string_to_sign, char out[SIGN_HEX_LEN + 1])
{
	unsigned char k[SHA256_DIGEST_LENGTH];
	char *k0 = sign_strf("TC3%s", secret_key);

	if (k0 == NULL) {
		out[0] = '\0';   /* never equal to a real signature */
		return;
	}
	sign_hmac256(k0, strlen(k0), date, k);
	OPENSSL_cleanse(k0, strlen(k0));
	free(k0);
	sign_hmac256(k, sizeof(k), service, k);
	sign_hmac256(k, sizeof(k), "tc3_request", k);
	sign_hmac256(k, sizeof(k), string_to_sign, k);
	sign_hex(k, sizeof(k), out);
}

char *sign_tc3_canonical_request(const char *method, const char *query, const char *headers,
				 const char *signed_headers, const void *payload, size_t payload_len)
{
	char hash[SIGN_HEX_LEN + 1];

	sign_sha256_hex(payload, payload_len, hash);
	return sign_strf("%s\n/\n%s\n%s\n%s\n%s", method, query, headers, signed_headers, hash);
}

/* The string to sign for a canonical request; NULL when out of memory. */
static char *sign_tc3_string(const char *timestamp, const char *date, const char *service,
			     const char *canonical)
{
	char hash[SIGN_HEX_LEN + 1];

	sign_sha256_hex(canonical, strlen(canonical), hash);
	return sign_strf("%s\n%s\n%s/%s/tc3_request\n%s", sign_tc3_alg, timestamp, date, service,
			 hash);
}

/* Copy s lower-cased and without surrounding blanks into a new string. */
static char *sign_canon_value(const char *s)
{
	size_t n;
	char *out;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	out = strndup(s, n);
	for (size_t i = 0; out != NULL && i < n; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] + 32);
	return out;
}

/* Signature of a request over the given canonical header block. */
static int sign_tc3_compute(const char *secret_key, const char *service, const char *method,
			    const char *query, const char *headers, const char *signed_headers,
			    const void *payload, size_t payload_len, const char *timestamp,
			    const char *date, char sig[SIGN_HEX_LEN + 1])
{
	char *canon = sign_tc3_canonical_request(method, query, headers, signed_headers, payload,
						 payload_len);
	char *sts = canon != NULL ? sign_tc3_string(timestamp, date, service, canon) : NULL;

	free(canon);
	if (sts == NULL)
		return -1;
	sign_tc3_signature(secret_key, date, service, sts, sig);
	free(sts);
	return 0;
}

int sign_tc3_authorization(const char *secret_id, const char *secret_key, const char *service,
			   const char *method, const char *host, const char *query,
			   const char *content_type, const void *payload, size_t payload_len,
			   int64_t timestamp, char *out, size_t outlen)
{
	char date[11], ts[24], sig[SIGN_HEX_LEN + 1];
	char *ct = sign_canon_value(content_type);
	char *h = sign_canon_value(host);
	char *headers = ct != NULL && h != NULL ? sign_strf("content-type:%s\nhost:%s\n", ct, h) : NULL;
	int rc = -1, n;

	snprintf(ts, sizeof(ts), "%lld", (long long)timestamp);
	if (headers != NULL && sign_utc_date(timestamp, date) &&
	    sign_tc3_compute(secret_key, service, method, query, headers, "content-type;host",
			     payload, payload_len, ts, date, sig) == 0) {
		n = snprintf(out, outlen,
			     "%s Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, "
			     "Signature=%s", sign_tc3_alg, secret_id, date, service, sig);
		rc = n > 0 && (size_t)n < outlen ? 0 : -1;
	}
	free(ct);
	free(h);
	free(headers);
	return rc;
}

/* ---- v1 ------------------------------------------------------------------ */

void sign_v1_signature(enum req_sign method, const char *secret_key, const char *str,
		       char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const EVP_MD *alg = method == REQ_SIGN_HMAC_SHA256 ? EVP_sha256() : EVP_sha1();

	out[0] = '\0';
	if (HMAC(alg, secret_key, (int)strlen(secret_key), (const unsigned char *)str,
		 strlen(str), md, &n) == NULL || outlen < 4 * ((n + 2) / 3) + 1)
		return;
	EVP_EncodeBlock((unsigned char *)out, md, (int)n);
}

static int sign_kv_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct req_kv *const *)a)->key, (*(const struct req_kv *const *)b)->key);
}

char *sign_v1_string(const char *method, const char *host, const struct req_kv *pairs,
		     size_t npairs)
{
	const struct req_kv **sorted = malloc((npairs ? npairs : 1) * sizeof(*sorted));
	size_t len = strlen(method) + strlen(host) + 3;
	char *s, *p;

	if (sorted == NULL)
		return NULL;
	for (size_t i = 0; i < npairs; i++) {
		sorted[i] = &pairs[i];
		len += strlen(pairs[i].key) + strlen(pairs[i].value) + 2;
	}
	qsort(sorted, npairs, sizeof(*sorted), sign_kv_cmp);
	s = malloc(len);
	if (s != NULL) {
		p = s + snprintf(s, len, "%s%s/?", method, host);
		for (size_t i = 0; i < npairs; i++)
			p += snprintf(p, len - (size_t)(p - s), "%s%s=%s", i ? "&" : "",
				      sorted[i]->key, sorted[i]->value);
	}
	free(sorted);
	return s;
}

/* ---- nonce replay cache -------------------------------------------------- */

struct sign_nonce {
	uint64_t hash;
	int64_t nonce, ts;
	uint32_t next;              /* bucket chain: slot + 1, 0 ends */
	bool used;
	char secret_id[sizeof(((struct req_decoded *)0)->secret_id)];
};

static struct {
	pthread_mutex_t lock;
	uint32_t bucket[SIGN_NONCE_BUCKETS];   /* slot + 1, 0 empty */
	struct sign_nonce slot[SIGN_NONCE_SLOTS];
	uint32_t head;                         /* the oldest slot, reused next */
	bool warned;
} sign_nc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t sign_nonce_hash(const char *sid, int64_t nonce, int64_t ts)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	int64_t nums[2] = { nonce, ts };
	const unsigned char *p = (const unsigned char *)nums;

	for (; *sid != '\0'; sid++)
		h = (h ^ (unsigned char)*sid) * 1099511628211ULL;
	for (size_t i = 0; i < sizeof(nums); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* Remove slot i from its bucket chain (lock held). */
static void sign_nonce_unlink(uint32_t i)
{
	uint32_t *link = &sign_nc.bucket[sign_nc.slot[i].hash % SIGN_NONCE_BUCKETS];

	while (*link != 0 && *link != i + 1)
		link = &sign_nc.slot[*link - 1].next;
	if (*link != 0)
		*link = sign_nc.slot[i].next;
	sign_nc.slot[i].used = false;
}

/* Recycle the oldest slot (lock held); warns when it was still live. */
static uint32_t sign_nonce_take_slot(int64_t now, int window_s)
{
	uint32_t i = sign_nc.head;
	struct sign_nonce *n = &sign_nc.slot[i];

	sign_nc.head = (i + 1) % SIGN_NONCE_SLOTS;
	if (!n->used)
		return i;
	if (n->ts >= now - window_s && !sign_nc.warned) {
		log_warn("sign", "nonce cache full (%d entries within %d s): forgetting live nonces",
			 SIGN_NONCE_SLOTS, window_s);
		sign_nc.warned = true;
	} else if (n->ts < now - window_s) {
		sign_nc.warned = false;
	}
	sign_nonce_unlink(i);
	return i;
}

/* True when (sid, nonce, ts) was already seen; remembers it otherwise. */
static bool sign_nonce_replayed(const char *sid, int64_t nonce, int64_t ts, int64_t now,
				int window_s)
{
	uint64_t h = sign_nonce_hash(sid, nonce, ts);
	uint32_t *bucket = &sign_nc.bucket[h % SIGN_NONCE_BUCKETS];
	bool seen = false;

	pthread_mutex_lock(&sign_nc.lock);
	for (uint32_t k = *bucket; k != 0 && !seen; k = sign_nc.slot[k - 1].next) {
		const struct sign_nonce *n = &sign_nc.slot[k - 1];
		seen = n->hash == h && n->nonce == nonce && n->ts == ts &&
		       strcmp(n->secret_id, sid) == 0;
	}
	if (!seen) {
		uint32_t i = sign_nonce_take_slot(now, window_s);
		struct sign_nonce *n = &sign_nc.slot[i];
		n->hash = h;
		n->nonce = nonce;
		n->ts = ts;
		n->used = true;
		snprintf(n->secret_id, sizeof(n->secret_id), "%s", sid);
		n->next = *bucket;
		*bucket = i + 1;
	}
	pthread_mutex_unlock(&sign_nc.lock);
	return seen;
}

void sign_nonce_reset(void)
{
	pthread_mutex_lock(&sign_nc.lock);
	memset(sign_nc.bucket, 0, sizeof(sign_nc.bucket));
	memset(sign_nc.slot, 0, sizeof(sign_nc.slot));
	sign_nc.head = 0;
	sign_nc.warned = false;
	pthread_mutex_unlock(&sign_nc.lock);
}

/* ---- verification -------------------------------------------------------- */

static int sign_fail(struct err *e, const char *why)
{
	return err_set(e, ERR_AUTH_FAILURE_SIGNATURE_FAILURE,
		       "The provided credentials could not be validated: %s.", why);
}

/* The Host header as sent and, when it has a port, without it. Returns the
 * number of forms (0 when the header is missing or too long). */
static int sign_host_forms(const struct req_http *http, char forms[2][SIGN_MAX_HOST + 1])
{
	const char *host = req_header_get(http, "Host");
	size_t n, cut;

	if (host == NULL || (n = strlen(host)) > SIGN_MAX_HOST)
		return 0;
	memcpy(forms[0], host, n + 1);
	const char *colon = strrchr(host, ':');
	const char *bracket = strrchr(host, ']');
	if (colon == NULL || (bracket != NULL && bracket > colon) ||
	    (bracket == NULL && strchr(host, ':') != colon) || colon[1] == '\0' ||
	    colon[1 + strspn(colon + 1, "0123456789")] != '\0')
		return 1;
	cut = (size_t)(colon - host);
	memcpy(forms[1], host, cut);
	forms[1][cut] = '\0';
	return 2;
}

static void sign_buf_add(char **buf, size_t *len, bool *oom, const char *s)
{
	size_t n = strlen(s);
	char *p = *oom ? NULL : realloc(*buf, *len + n + 1);

	if (p == NULL) {
		*oom = true;
		return;
	}
	memcpy(p + *len, s, n + 1);
	*buf = p;
	*len += n;
}

/* "name:value\n" for each name in SignedHeaders, `host` standing for Host. */
static int sign_tc3_headers(const struct req_http *http, const char *signed_headers,
			    const char *host, char **out, struct err *e)
{
	char name[sizeof(((struct req_decoded *)0)->tc3_signed_headers)];
	size_t len = 0;
	bool oom = false;

	*out = NULL;
	for (const char *p = signed_headers; *p != '\0';) {
		size_t n = strcspn(p, ";");
		snprintf(name, sizeof(name), "%.*s", (int)n, p);
		const char *v = strcmp(name, "host") == 0 ? host : req_header_get(http, name);
		char *cv = v != NULL ? sign_canon_value(v) : NULL;
		if (v == NULL) {
			free(*out);
			*out = NULL;
			return err_set(e, ERR_AUTH_FAILURE_SIGNATURE_FAILURE,
				       "The signed header `%s` is missing from the request.", name);
		}
		sign_buf_add(out, &len, &oom, name);
		sign_buf_add(out, &len, &oom, ":");
		sign_buf_add(out, &len, &oom, cv != NULL ? cv : "");
		sign_buf_add(out, &len, &oom, "\n");
		oom |= cv == NULL;
		free(cv);
		p += n + (p[n] == ';');
	}
	if (!oom)
		return 0;
	free(*out);
	*out = NULL;
	return err_set(e, ERR_INTERNAL_ERROR, "Out of memory while verifying the signature.");
}

static int sign_verify_tc3(const struct req_http *http, const struct req_decoded *d,
			   const char *secret_key, struct err *e)
{
	char hosts[2][SIGN_MAX_HOST + 1], date[11], ts[24], sig[SIGN_HEX_LEN + 1];
	const char *ts_sent = req_header_get(http, "X-TC-Timestamp");
	int nforms = sign_host_forms(http, hosts);

	if (!sign_utc_date(d->timestamp, date) || strcmp(date, d->tc3_date) != 0)
		return sign_fail(e, "the credential date is not the UTC date of the timestamp");
	if (nforms == 0)
		return sign_fail(e, "the Host header is missing or too long");
	if (ts_sent == NULL)
		snprintf(ts, sizeof(ts), "%lld", (long long)d->timestamp);
	for (int i = 0; i < nforms; i++) {
		char *headers;
		if (sign_tc3_headers(http, d->tc3_signed_headers, hosts[i], &headers, e) != 0)
			return -1;
		int rc = sign_tc3_compute(secret_key, d->tc3_service, http->method, http->query,
					  headers, d->tc3_signed_headers, http->body, http->body_len,
					  ts_sent != NULL ? ts_sent : ts, d->tc3_date, sig);
		free(headers);
		if (rc != 0)
			return err_set(e, ERR_INTERNAL_ERROR,
				       "Out of memory while verifying the signature.");
		if (strlen(sig) == SIGN_HEX_LEN && CRYPTO_memcmp(sig, d->tc3_signature, SIGN_HEX_LEN) == 0)
			return 0;
	}
	return sign_fail(e, "the signature does not match");
}

static int sign_verify_v1(const struct req_http *http, const struct req_decoded *d,
			  const char *secret_key, struct err *e)
{
	char hosts[2][SIGN_MAX_HOST + 1], sig[EVP_MAX_MD_SIZE * 2];
	int nforms = sign_host_forms(http, hosts);
	size_t slen = strlen(d->v1_signature);

	if (nforms == 0)
		return sign_fail(e, "the Host header is missing or too long");
	for (int i = 0; i < nforms; i++) {
		char *str = sign_v1_string(http->method, hosts[i], d->pairs, d->npairs);
		if (str == NULL)
			return err_set(e, ERR_INTERNAL_ERROR,
				       "Out of memory while verifying the signature.");
		sign_v1_signature(d->sign, secret_key, str, sig, sizeof(sig));
		free(str);
		if (strlen(sig) == slen && slen > 0 && CRYPTO_memcmp(sig, d->v1_signature, slen) == 0)
			return 0;
	}
	return sign_fail(e, "the signature does not match");
}

int sign_verify(const struct req_http *http, const struct req_decoded *d, const char *secret_key,
		int64_t now, int window_s, struct err *e)
{
	if (d->timestamp < now - window_s || d->timestamp > now + window_s)
		return err_set(e, ERR_AUTH_FAILURE_SIGNATURE_EXPIRE,
			       "The signature has expired: the request timestamp differs from the "
			       "server time by more than %d seconds.", window_s);
	if (d->sign == REQ_SIGN_TC3)
		return sign_verify_tc3(http, d, secret_key, e);
	if (sign_verify_v1(http, d, secret_key, e) != 0)
		return -1;
	if (sign_nonce_replayed(d->secret_id, d->nonce, d->timestamp, now, window_s))
		return sign_fail(e, "the Nonce was already used with this Timestamp");
	return 0;
}
