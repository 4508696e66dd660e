/*
 * test_sign.c - the signature code against every vector of
 * reference/signature.md (V3-A, V3-B, V1-A, V1-B and the computed
 * HmacSHA256 ones), the canonicalisation edge cases, and sign_verify()
 * end to end (req_decode + sign_verify) for TC3 POST/GET/form and v1
 * GET/POST: success, tampering, wrong key, expiry on both sides of the
 * window, credential date, replayed nonces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/request.h"
#include "api/sign.h"
#include "lib/urlenc.h"

#define MASKED_ID  "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"
#define MASKED_KEY "Gu5t9xGARNpq86cd98joQYCN3*******"
#define EX_ID      "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
#define EX_KEY     "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
#define WINDOW     300

/* ---- reference vectors --------------------------------------------------- */

#define V3A_PAYLOAD "{\"Limit\": 1, \"Filters\": [{\"Values\": [\"unnamed\"], \"Name\": \"instance-name\"}]}"
#define V3A_AUTH "TC3-HMAC-SHA256 Credential=" MASKED_ID "/2019-02-25/cvm/tc3_request, " \
		 "SignedHeaders=content-type;host, " \
		 "Signature=c492e8e41437e97a620b728c301bb8d17e7dc0c17eeabce80c20cd70fc3a78ff"

static void test_v3a(void **state)
{
	char hash[SIGN_HEX_LEN + 1], sig[SIGN_HEX_LEN + 1], auth[512];
	char *canon = sign_tc3_canonical_request(
		"POST", "", "content-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n",
		"content-type;host", V3A_PAYLOAD, strlen(V3A_PAYLOAD));

	sign_sha256_hex(V3A_PAYLOAD, strlen(V3A_PAYLOAD), hash);
	assert_string_equal(hash, "99d58dfbc6745f6747f36bfca17dee5e6881dc0428a0a36f96199342bc5b4907");
	assert_string_equal(canon, "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
			    "host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
			    "99d58dfbc6745f6747f36bfca17dee5e6881dc0428a0a36f96199342bc5b4907");
	sign_sha256_hex(canon, strlen(canon), hash);
	assert_string_equal(hash, "2815843035062fffda5fd6f2a44ea8a34818b0dc46f024b8b3786976a3adda7a");
	free(canon);
	sign_tc3_signature(MASKED_KEY, "2019-02-25", "cvm",
			   "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
			   "2815843035062fffda5fd6f2a44ea8a34818b0dc46f024b8b3786976a3adda7a", sig);
	assert_string_equal(sig, "c492e8e41437e97a620b728c301bb8d17e7dc0c17eeabce80c20cd70fc3a78ff");
	assert_int_equal(sign_tc3_authorization(MASKED_ID, MASKED_KEY, "cvm", "POST",
						"cvm.tencentcloudapi.com", "",
						"application/json; charset=utf-8", V3A_PAYLOAD,
						strlen(V3A_PAYLOAD), 1551113065, auth, sizeof(auth)), 0);
	assert_string_equal(auth, V3A_AUTH);
	assert_int_equal(sign_tc3_authorization(MASKED_ID, MASKED_KEY, "cvm", "POST", "h", "",
						"application/json", "", 0, 1551113065, auth, 100), -1);
}

static void test_v3b(void **state)
{
	char auth[512], hash[SIGN_HEX_LEN + 1];
	char *canon = sign_tc3_canonical_request(
		"GET", "Limit=10&Offset=0",
		"content-type:application/x-www-form-urlencoded\nhost:cvm.tencentcloudapi.com\n",
		"content-type;host", NULL, 0);

	sign_sha256_hex(canon, strlen(canon), hash);
	assert_string_equal(hash, "91c9c192c14460df6c1ffc69e34e6c5e90708de2a6d282cccf957dbf1aa7f3a7");
	free(canon);
	assert_int_equal(sign_tc3_authorization(EX_ID, EX_KEY, "cvm", "GET", "cvm.tencentcloudapi.com",
						"Limit=10&Offset=0",
						"application/x-www-form-urlencoded", "", 0, 1539084154,
						auth, sizeof(auth)), 0);
	assert_string_equal(auth, "TC3-HMAC-SHA256 Credential=" EX_ID "/2018-10-09/cvm/tc3_request, "
			    "SignedHeaders=content-type;host, Signature="
			    "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474");
}

static struct req_kv v1a_pairs[] = {
	{ "Version", "2017-03-12" }, { "Timestamp", "1465185768" }, { "SecretId", MASKED_ID },
	{ "Region", "ap-guangzhou" }, { "Offset", "0" }, { "Nonce", "11886" }, { "Limit", "20" },
	{ "InstanceIds.0", "ins-09dx96dg" }, { "Action", "DescribeInstances" },
	{ "SignatureMethod", "HmacSHA256" },
};

#define V1A_STRING "GETcvm.tencentcloudapi.com/?Action=DescribeInstances" \
	"&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou" \
	"&SecretId=" MASKED_ID "&Timestamp=1465185768&Version=2017-03-12"

static void test_v1a(void **state)
{
	char sig[128];
	char *s = sign_v1_string("GET", "cvm.tencentcloudapi.com", v1a_pairs, 9);

	assert_string_equal(s, V1A_STRING);
	assert_string_equal(v1a_pairs[0].key, "Version");   /* input untouched */
	sign_v1_signature(REQ_SIGN_HMAC_SHA1, MASKED_KEY, s, sig, sizeof(sig));
	assert_string_equal(sig, "zmmjn35mikh6pM3V7sUEuX4wyYM=");
	sign_v1_signature(REQ_SIGN_HMAC_SHA256, MASKED_KEY, s, sig, sizeof(sig));
	assert_string_equal(sig, "LzvvZM+0Rl8Q51FXGiFEVp3AeXl2V8Wewa194M4b078=");
	sign_v1_signature(REQ_SIGN_HMAC_SHA256, MASKED_KEY, s, sig, 10);
	assert_string_equal(sig, "");   /* too small: nothing */
	free(s);
	s = sign_v1_string("GET", "cvm.tencentcloudapi.com", v1a_pairs, 10);
	assert_non_null(strstr(s, "&SecretId=" MASKED_ID "&SignatureMethod=HmacSHA256&Timestamp="));
	sign_v1_signature(REQ_SIGN_HMAC_SHA256, MASKED_KEY, s, sig, sizeof(sig));
	assert_string_equal(sig, "czb75sAwt2P15FCqA4ugj88/aUVor/dVp3fCS/7mQiY=");
	free(s);
}

static void test_v1b(void **state)
{
	struct req_kv p[9];
	char sig[128];
	char *s;

	memcpy(p, v1a_pairs, sizeof(p));
	p[2].value = EX_ID;
	s = sign_v1_string("GET", "cvm.tencentcloudapi.com", p, 9);
	sign_v1_signature(REQ_SIGN_HMAC_SHA1, EX_KEY, s, sig, sizeof(sig));
	assert_string_equal(sig, "EliP9YW3pW28FpsEdkXt/+WcGeI=");
	free(s);
}

static void test_v1_byte_order(void **state)
{
	struct req_kv p[] = { { "InstanceIds.2", "b" }, { "InstanceIds.12", "a" }, { "a", "x" },
			      { "B", "y" }, { "Z", "é" } };
	char *s = sign_v1_string("POST", "h:1", p, 5);

	assert_string_equal(s, "POSTh:1/?B=y&InstanceIds.12=a&InstanceIds.2=b&Z=é&a=x");
	free(s);
	s = sign_v1_string("GET", "h", NULL, 0);
	assert_string_equal(s, "GETh/?");
	free(s);
}

/* ---- end to end: TC3 ----------------------------------------------------- */

#define KEY "test-secret-key-0123456789abcdef"
#define TS  1704067200   /* 2024-01-01 00:00:00 UTC */

/* What a client sends and what it signed (NULL sign_* = same as sent). */
struct tc3_case {
	const char *method, *query, *body, *ctype;
	const char *host;          /* Host header */
	const char *host_name;     /* Host header name ("Host") */
	const char *ctype_name;
	const char *sign_host, *sign_query, *sign_body, *sign_ctype, *service, *key;
	int64_t ts;
	const char *ts_header;     /* X-TC-Timestamp when it differs from ts */
};

static struct tc3_case tc3_default(void)
{
	return (struct tc3_case){
		.method = "POST", .query = "", .body = "{\"Limit\":10,\"Offset\":0}",
		.ctype = "application/json", .host = "127.0.0.1:9000", .host_name = "Host",
		.ctype_name = "Content-Type", .sign_host = "127.0.0.1", .service = "127",
		.key = KEY, .ts = TS,
	};
}

/* Build the request `c` describes, decode and verify it at `now`. */
static int tc3_run(const struct tc3_case *c, int64_t now, struct err *e)
{
	char auth[512], ts[24];
	struct req_header h[8];
	struct req_http http = { .method = c->method, .query = c->query, .body = c->body,
				 .body_len = strlen(c->body), .headers = h, .nheaders = 7 };
	const char *sb = c->sign_body != NULL ? c->sign_body : c->body;
	struct req_decoded d;
	int rc;

	assert_int_equal(sign_tc3_authorization("AKIDtest", c->key, c->service, c->method,
						c->sign_host, c->sign_query ? c->sign_query : c->query,
						c->sign_ctype ? c->sign_ctype : c->ctype, sb,
						strlen(sb), c->ts, auth, sizeof(auth)), 0);
	snprintf(ts, sizeof(ts), "%lld", (long long)c->ts);
	h[0] = (struct req_header){ c->host_name, c->host };
	h[1] = (struct req_header){ c->ctype_name, c->ctype };
	h[2] = (struct req_header){ "X-TC-Action", "DescribeDBInstances" };
	h[3] = (struct req_header){ "X-TC-Version", "2017-03-12" };
	h[4] = (struct req_header){ "X-TC-Timestamp", c->ts_header ? c->ts_header : ts };
	h[5] = (struct req_header){ "Authorization", auth };
	h[6] = (struct req_header){ "X-TC-RequestClient", "SDK_NODEJS_4.0" };
	if (req_decode(&http, &d, e) != 0)
		fail_msg("decode: %s %s", err_code_name(e->code), e->msg);
	rc = sign_verify(&http, &d, KEY, now, WINDOW, e);
	req_decoded_free(&d);
	return rc;
}

static void expect_tc3(const struct tc3_case *c, int64_t now, enum err_code want, const char *msg)
{
	struct err e;
	int rc = tc3_run(c, now, &e);

	if (want == ERR_OK && rc != 0)
		fail_msg("verify failed: %s %s", err_code_name(e.code), e.msg);
	if (want != ERR_OK && (rc == 0 || e.code != want))
		fail_msg("expected %s, got rc %d %s %s", err_code_name(want), rc,
			 rc ? err_code_name(e.code) : "", rc ? e.msg : "");
	if (want != ERR_OK && msg != NULL && strstr(e.msg, msg) == NULL)
		fail_msg("message '%s' lacks '%s'", e.msg, msg);
}

static void test_verify_tc3_post(void **state)
{
	struct tc3_case c = tc3_default();

	expect_tc3(&c, TS, ERR_OK, NULL);                    /* Node SDK: host without port */
	c.sign_host = "127.0.0.1:9000";
	c.service = "postgres";
	expect_tc3(&c, TS, ERR_OK, NULL);                    /* host as sent */
	c = tc3_default();
	c.key = "wrong";
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, "does not match");
	c = tc3_default();
	c.sign_body = "{\"Limit\":10,\"Offset\":1}";
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, NULL);
	c = tc3_default();
	c.sign_host = "127.0.0.2";
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, NULL);
	c = tc3_default();
	c.host = "[::1]:9000";
	c.sign_host = "[::1]";
	expect_tc3(&c, TS, ERR_OK, NULL);
	c.host_name = "X-Other";                            /* no Host header at all */
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, "Host");
}

static void test_verify_tc3_get(void **state)
{
	struct tc3_case c = tc3_default();

	c.method = "GET";
	c.body = "";
	c.ctype = "application/x-www-form-urlencoded";
	c.query = "Offset=0&Limit=10&Filters.0.Name=db-instance-id&Filters.0.Values.0=a%20b";
	expect_tc3(&c, TS, ERR_OK, NULL);                    /* query order as sent */
	c.sign_query = "Filters.0.Name=db-instance-id&Filters.0.Values.0=a%20b&Limit=10&Offset=0";
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, NULL);
	c.sign_query = "Offset=0&Limit=10&Filters.0.Name=db-instance-id&Filters.0.Values.0=a b";
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, NULL);
	c = tc3_default();
	c.ctype = "application/x-www-form-urlencoded";
	c.body = "Limit=10&Offset=0";
	expect_tc3(&c, TS, ERR_OK, NULL);                    /* TC3 form POST */
}

static void test_canonical_headers(void **state)
{
	struct tc3_case c = tc3_default();

	c.ctype_name = "CONTENT-TYPE";
	c.host_name = "host";
	c.ctype = "  Application/JSON \t";
	c.sign_ctype = "application/json";
	expect_tc3(&c, TS, ERR_OK, NULL);                    /* names any case, values trimmed */
	c = tc3_default();
	c.ctype = "application/json; charset=utf-8";
	expect_tc3(&c, TS, ERR_OK, NULL);
	c.sign_ctype = "application/json";
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, NULL);   /* charset is signed */
	c = tc3_default();
	c.host = "LOCALHOST:9000";
	c.sign_host = "localhost";
	expect_tc3(&c, TS, ERR_OK, NULL);
}

/* A client signing an extra header (x-tc-action) and listing it. */
static void test_extra_signed_header(void **state)
{
	const char *body = "{}";
	char *canon = sign_tc3_canonical_request(
		"POST", "", "content-type:application/json\nhost:127.0.0.1:9000\n"
		"x-tc-action:describedbinstances\n", "content-type;host;x-tc-action", body, 2);
	char hash[SIGN_HEX_LEN + 1], sts[256], sig[SIGN_HEX_LEN + 1], auth[512];
	struct req_header h[] = {
		{ "Host", "127.0.0.1:9000" }, { "Content-Type", "application/json" },
		{ "X-TC-Action", "DescribeDBInstances" }, { "X-TC-Version", "2017-03-12" },
		{ "X-TC-Timestamp", "1704067200" }, { "Authorization", auth },
	};
	struct req_http http = { .method = "POST", .query = "", .body = body, .body_len = 2,
				 .headers = h, .nheaders = 6 };
	struct req_decoded d;
	struct err e;

	sign_sha256_hex(canon, strlen(canon), hash);
	free(canon);
	snprintf(sts, sizeof(sts), "TC3-HMAC-SHA256\n1704067200\n2024-01-01/postgres/tc3_request\n%s",
		 hash);
	sign_tc3_signature(KEY, "2024-01-01", "postgres", sts, sig);
	snprintf(auth, sizeof(auth), "TC3-HMAC-SHA256 Credential=AKIDtest/2024-01-01/postgres/"
		 "tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=%s", sig);
	assert_int_equal(req_decode(&http, &d, &e), 0);
	assert_int_equal(sign_verify(&http, &d, KEY, TS, WINDOW, &e), 0);
	h[2].name = "X-Not-Action";   /* a signed header missing */
	assert_int_equal(sign_verify(&http, &d, KEY, TS, WINDOW, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SIGNATURE_FAILURE);
	assert_non_null(strstr(e.msg, "x-tc-action"));
	req_decoded_free(&d);
}

static void test_tc3_expiry(void **state)
{
	struct tc3_case c = tc3_default();

	expect_tc3(&c, TS + WINDOW, ERR_OK, NULL);
	expect_tc3(&c, TS - WINDOW, ERR_OK, NULL);
	expect_tc3(&c, TS + WINDOW + 1, ERR_AUTH_FAILURE_SIGNATURE_EXPIRE, NULL);
	expect_tc3(&c, TS - WINDOW - 1, ERR_AUTH_FAILURE_SIGNATURE_EXPIRE, NULL);
}

static void test_tc3_credential_date(void **state)
{
	struct tc3_case c = tc3_default();

	/* Signed (and scoped) for a timestamp a day earlier, sent with TS. */
	c.ts = TS - 86400;
	c.ts_header = "1704067200";
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, "UTC date");
	/* 2019-02-26 00:44:25 in UTC+8 is still 2019-02-25 in UTC. */
	c = tc3_default();
	c.ts = 1551113065;
	expect_tc3(&c, 1551113065, ERR_OK, NULL);
	/* Leading zeros in X-TC-Timestamp: the signed string uses it as sent. */
	c = tc3_default();
	c.ts_header = "01704067200";
	expect_tc3(&c, TS, ERR_AUTH_FAILURE_SIGNATURE_FAILURE, "does not match");
}

/* The vectors themselves, verified as received requests. */
static void test_verify_vectors(void **state)
{
	struct req_header h[] = {
		{ "Host", "cvm.tencentcloudapi.com" },
		{ "Content-Type", "application/json; charset=utf-8" },
		{ "X-TC-Action", "DescribeInstances" }, { "X-TC-Version", "2017-03-12" },
		{ "X-TC-Region", "ap-guangzhou" }, { "X-TC-Timestamp", "1551113065" },
		{ "Authorization", V3A_AUTH },
	};
	struct req_http http = { .method = "POST", .query = "", .body = V3A_PAYLOAD,
				 .body_len = strlen(V3A_PAYLOAD), .headers = h, .nheaders = 7 };
	struct req_decoded d;
	struct err e;

	assert_int_equal(req_decode(&http, &d, &e), 0);
	assert_int_equal(sign_verify(&http, &d, MASKED_KEY, 1551113065 + 100, WINDOW, &e), 0);
	assert_int_equal(sign_verify(&http, &d, EX_KEY, 1551113065, WINDOW, &e), -1);
	req_decoded_free(&d);

	struct req_header g[] = {
		{ "Host", "cvm.tencentcloudapi.com" }, { "X-TC-Timestamp", "1539084154" },
		{ "Content-Type", "application/x-www-form-urlencoded" },
		{ "X-TC-Action", "DescribeInstances" }, { "X-TC-Version", "2017-03-12" },
		{ "Authorization", "TC3-HMAC-SHA256 Credential=" EX_ID "/2018-10-09/cvm/tc3_request, "
		  "SignedHeaders=content-type;host, Signature="
		  "5da7a33f6993f0614b047e5df4582db9e9bf4672ba50567dba16c6ccf174c474" },
	};
	struct req_http get = { .method = "GET", .query = "Limit=10&Offset=0", .headers = g,
				.nheaders = 6 };
	assert_int_equal(req_decode(&get, &d, &e), 0);
	assert_int_equal(sign_verify(&get, &d, EX_KEY, 1539084154, WINDOW, &e), 0);
	req_decoded_free(&d);

	sign_nonce_reset();
	struct req_header v[] = { { "Host", "cvm.tencentcloudapi.com" } };
	struct req_http v1 = { .method = "GET", .headers = v, .nheaders = 1,
			       .query = "Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20"
					"&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=" EX_ID
					"&Signature=EliP9YW3pW28FpsEdkXt%2F%2BWcGeI%3D"
					"&Timestamp=1465185768&Version=2017-03-12" };
	assert_int_equal(req_decode(&v1, &d, &e), 0);
	assert_int_equal(sign_verify(&v1, &d, EX_KEY, 1465185768, WINDOW, &e), 0);
	req_decoded_free(&d);
}

/* ---- end to end: v1 ------------------------------------------------------ */

/* Sign pairs as a v1 client would (over sign_host), send them in the query
 * (GET) or a form body (POST) with Signature appended, decode and verify. */
static int v1_run(const char *method, const char *sign_host, const char *kv[][2],
		  size_t n, enum req_sign alg, int64_t now, struct err *e)
{
	struct req_kv pairs[16];
	char sig[128], wire[2048] = "";
	struct req_header h[] = { { "Host", "127.0.0.1:9000" },
				  { "Content-Type", "application/x-www-form-urlencoded" } };
	struct req_http http = { .method = method, .query = "", .headers = h, .nheaders = 2 };
	struct req_decoded d;
	char *s;
	int rc;

	for (size_t i = 0; i < n; i++)
		pairs[i] = (struct req_kv){ (char *)kv[i][0], (char *)kv[i][1] };
	s = sign_v1_string(method, sign_host, pairs, n);
	sign_v1_signature(alg, KEY, s, sig, sizeof(sig));
	free(s);
	for (size_t i = 0; i <= n; i++) {
		char *enc = urlenc_encode(i < n ? kv[i][1] : sig, strlen(i < n ? kv[i][1] : sig));
		size_t l = strlen(wire);
		snprintf(wire + l, sizeof(wire) - l, "%s%s=%s", i ? "&" : "",
			 i < n ? kv[i][0] : "Signature", enc);
		free(enc);
	}
	if (method[0] == 'G') {
		http.query = wire;
	} else {
		http.body = wire;
		http.body_len = strlen(wire);
	}
	if (req_decode(&http, &d, e) != 0)
		fail_msg("decode: %s %s", err_code_name(e->code), e->msg);
	rc = sign_verify(&http, &d, KEY, now, WINDOW, e);
	req_decoded_free(&d);
	return rc;
}

static const char *v1_node[][2] = {
	{ "Action", "DescribeDBInstances" }, { "Version", "2017-03-12" },
	{ "Timestamp", "1704067200" }, { "Nonce", "4242" }, { "SecretId", "AKIDtest" },
	{ "SignatureMethod", "HmacSHA256" }, { "RequestClient", "SDK_NODEJS_4.0" },
	{ "Language", "en-US" }, { "Limit", "10" }, { "Filters.0.Name", "db-instance-name" },
	{ "Filters.0.Values.0", "名字 with spaces+plus/slash=eq&amp" },
};
#define V1_NODE_N (sizeof(v1_node) / sizeof(v1_node[0]))

static void test_verify_v1(void **state)
{
	const char *kv[V1_NODE_N][2];
	struct err e;

	sign_nonce_reset();
	memcpy(kv, v1_node, sizeof(kv));
	/* Node SDK v1: host with port, HmacSHA256. */
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", kv, V1_NODE_N, REQ_SIGN_HMAC_SHA256, TS, &e), 0);
	kv[3][1] = "4243";
	assert_int_equal(v1_run("POST", "127.0.0.1:9000", kv, V1_NODE_N, REQ_SIGN_HMAC_SHA256, TS, &e), 0);
	kv[3][1] = "4244";   /* host without port is accepted too */
	assert_int_equal(v1_run("GET", "127.0.0.1", kv, V1_NODE_N, REQ_SIGN_HMAC_SHA256, TS, &e), 0);
	kv[3][1] = "4245";   /* signed as SHA1 but SignatureMethod says SHA256 */
	assert_int_equal(v1_run("GET", "127.0.0.1", kv, V1_NODE_N, REQ_SIGN_HMAC_SHA1, TS, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SIGNATURE_FAILURE);
	kv[5][1] = "HmacSHA1";
	assert_int_equal(v1_run("GET", "127.0.0.1", kv, V1_NODE_N, REQ_SIGN_HMAC_SHA1, TS, &e), 0);
	kv[3][1] = "4246";   /* fewer parameters */
	assert_int_equal(v1_run("POST", "127.0.0.1:9000", kv, 8, REQ_SIGN_HMAC_SHA1, TS, &e), 0);
	kv[3][1] = "4247";
	assert_int_equal(v1_run("GET", "127.0.0.2:9000", kv, 8, REQ_SIGN_HMAC_SHA1, TS, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SIGNATURE_FAILURE);
}

static void test_v1_expiry_and_replay(void **state)
{
	struct err e;

	sign_nonce_reset();
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", v1_node, V1_NODE_N, REQ_SIGN_HMAC_SHA256,
				TS + WINDOW + 1, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SIGNATURE_EXPIRE);
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", v1_node, V1_NODE_N, REQ_SIGN_HMAC_SHA256,
				TS - WINDOW - 1, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SIGNATURE_EXPIRE);
	/* Expired attempts did not consume the nonce. */
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", v1_node, V1_NODE_N, REQ_SIGN_HMAC_SHA256,
				TS + WINDOW, &e), 0);
	assert_int_equal(v1_run("POST", "127.0.0.1:9000", v1_node, V1_NODE_N, REQ_SIGN_HMAC_SHA256,
				TS, &e), -1);
	assert_int_equal(e.code, ERR_AUTH_FAILURE_SIGNATURE_FAILURE);
	assert_non_null(strstr(e.msg, "Nonce"));

	const char *kv[V1_NODE_N][2];
	memcpy(kv, v1_node, sizeof(kv));
	kv[2][1] = "1704067201";   /* same nonce, other timestamp: not a replay */
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", kv, V1_NODE_N, REQ_SIGN_HMAC_SHA256, TS, &e), 0);
	kv[4][1] = "AKIDother";    /* same nonce and timestamp, other key id */
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", kv, V1_NODE_N, REQ_SIGN_HMAC_SHA256, TS, &e), 0);
	sign_nonce_reset();
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", v1_node, V1_NODE_N, REQ_SIGN_HMAC_SHA256,
				TS, &e), 0);
}

/* The cache is a bounded ring: filling it past SIGN_NONCE_SLOTS (65536)
 * keeps working, recent nonces are still refused, the oldest are forgotten. */
static void test_nonce_cache_wraps(void **state)
{
	const char *kv[V1_NODE_N][2];
	char nonce[24];
	struct err e;

	sign_nonce_reset();
	memcpy(kv, v1_node, sizeof(kv));
	kv[3][1] = nonce;
	for (int i = 0; i < 66000; i++) {
		snprintf(nonce, sizeof(nonce), "%d", i);
		if (v1_run("GET", "127.0.0.1:9000", kv, 5, REQ_SIGN_HMAC_SHA1, TS, &e) != 0)
			fail_msg("nonce %d: %s", i, e.msg);
	}
	snprintf(nonce, sizeof(nonce), "%d", 65999);
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", kv, 5, REQ_SIGN_HMAC_SHA1, TS, &e), -1);
	snprintf(nonce, sizeof(nonce), "%d", 0);
	assert_int_equal(v1_run("GET", "127.0.0.1:9000", kv, 5, REQ_SIGN_HMAC_SHA1, TS, &e), 0);
	sign_nonce_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v3a),
		cmocka_unit_test(test_v3b),
		cmocka_unit_test(test_v1a),
		cmocka_unit_test(test_v1b),
		cmocka_unit_test(test_v1_byte_order),
		cmocka_unit_test(test_verify_tc3_post),
		cmocka_unit_test(test_verify_tc3_get),
		cmocka_unit_test(test_canonical_headers),
		cmocka_unit_test(test_extra_signed_header),
		cmocka_unit_test(test_tc3_expiry),
		cmocka_unit_test(test_tc3_credential_date),
		cmocka_unit_test(test_verify_vectors),
		cmocka_unit_test(test_verify_v1),
		cmocka_unit_test(test_v1_expiry_and_replay),
		cmocka_unit_test(test_nonce_cache_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
