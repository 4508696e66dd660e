/*
 * test_request.c - req_decode() over every transport (TC3 JSON, GET, form,
 * multipart; v1 GET and form POST), each error it documents, the size caps,
 * and req_flatten()/req_unflatten() edge cases and round trips.
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
#include "lib/multipart.h"

#define AUTH_OK "TC3-HMAC-SHA256 Credential=AKIDtest/2024-01-01/postgres/tc3_request, " \
		"SignedHeaders=content-type;host, Signature=" \
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

struct treq {
	struct req_header h[16];
	struct req_http http;
};

static void treq_init(struct treq *t, const char *method, const char *query, const char *body)
{
	memset(t, 0, sizeof(*t));
	t->http.method = method;
	t->http.query = query;
	t->http.body = body;
	t->http.body_len = body != NULL ? strlen(body) : 0;
	t->http.headers = t->h;
}

static void treq_hdr(struct treq *t, const char *name, const char *value)
{
	assert_true(t->http.nheaders < 16);
	t->h[t->http.nheaders].name = name;
	t->h[t->http.nheaders].value = value;
	t->http.nheaders++;
}

/* A TC3 request with the common headers and a well-formed Authorization. */
static void treq_tc3(struct treq *t, const char *method, const char *ctype, const char *query,
		     const char *body)
{
	treq_init(t, method, query, body);
	treq_hdr(t, "Host", "127.0.0.1:9000");
	if (ctype != NULL)
		treq_hdr(t, "Content-Type", ctype);
	treq_hdr(t, "X-TC-Action", "DescribeDBInstances");
	treq_hdr(t, "X-TC-Version", "2017-03-12");
	treq_hdr(t, "X-TC-Timestamp", "1704067200");
	treq_hdr(t, "Authorization", AUTH_OK);
}

/* Decode and expect failure with `code` (and `msg` in the message if set). */
static void expect_fail(const struct req_http *h, enum err_code code, const char *msg)
{
	struct req_decoded d;
	struct err e;

	assert_int_equal(req_decode(h, &d, &e), -1);
	if (e.code != code)
		fail_msg("expected %s, got %s: %s", err_code_name(code), err_code_name(e.code), e.msg);
	if (msg != NULL && strstr(e.msg, msg) == NULL)
		fail_msg("message '%s' lacks '%s'", e.msg, msg);
	assert_null(d.params);
	assert_null(d.pairs);
}

static void expect_json_fail(const char *body, enum err_code code, const char *msg)
{
	struct treq t;

	treq_tc3(&t, "POST", "application/json", "", body);
	expect_fail(&t.http, code, msg);
}

static void expect_query_fail(const char *query, enum err_code code, const char *msg)
{
	struct treq t;

	treq_tc3(&t, "GET", "application/x-www-form-urlencoded", query, NULL);
	expect_fail(&t.http, code, msg);
}

/* Decode and compare the params with the JSON text `want`. */
static void expect_params(const struct req_http *h, const char *want, struct req_decoded *d)
{
	struct err e;
	json_t *w = json_loads(want, 0, NULL);

	assert_non_null(w);
	if (req_decode(h, d, &e) != 0)
		fail_msg("decode failed: %s %s", err_code_name(e.code), e.msg);
	if (!json_equal(w, d->params)) {
		char *got = json_dumps(d->params, JSON_COMPACT);
		fail_msg("params %s, want %s", got, want);
	}
	json_decref(w);
}

/* ---- TC3 ----------------------------------------------------------------- */

static void test_tc3_json(void **state)
{
	struct treq t;
	struct req_decoded d;

	treq_tc3(&t, "POST", "application/json; charset=utf-8", "",
		 "{\"Limit\": 10, \"Offset\": \"0\", \"Filters\": [{\"Name\": \"db-instance-id\","
		 " \"Values\": [\"x\"]}], \"Action\": \"kept\"}");
	treq_hdr(&t, "X-TC-Region", "ap-guangzhou");
	treq_hdr(&t, "x-tc-language", "zh-CN");
	treq_hdr(&t, "X-TC-Token", "tok");
	expect_params(&t.http, "{\"Limit\":10,\"Offset\":\"0\",\"Filters\":[{\"Name\":"
		      "\"db-instance-id\",\"Values\":[\"x\"]}],\"Action\":\"kept\"}", &d);
	assert_int_equal(d.sign, REQ_SIGN_TC3);
	assert_string_equal(d.action, "DescribeDBInstances");
	assert_string_equal(d.version, "2017-03-12");
	assert_string_equal(d.region, "ap-guangzhou");
	assert_string_equal(d.language, "zh-CN");
	assert_string_equal(d.token, "tok");
	assert_string_equal(d.secret_id, "AKIDtest");
	assert_string_equal(d.tc3_date, "2024-01-01");
	assert_string_equal(d.tc3_service, "postgres");
	assert_string_equal(d.tc3_signed_headers, "content-type;host");
	assert_int_equal(d.timestamp, 1704067200);
	assert_int_equal(strlen(d.tc3_signature), 64);
	assert_true(json_is_integer(json_object_get(d.params, "Limit")));
	assert_true(json_is_string(json_object_get(d.params, "Offset")));
	req_decoded_free(&d);
	req_decoded_free(&d); /* idempotent */
}

static void test_tc3_json_empty_body(void **state)
{
	struct treq t;
	struct req_decoded d;

	treq_tc3(&t, "POST", "application/json", "", "");
	expect_params(&t.http, "{}", &d);
	req_decoded_free(&d);
	treq_tc3(&t, "POST", "application/json", "", "{}");
	expect_params(&t.http, "{}", &d);
	req_decoded_free(&d);
}

static void test_tc3_get(void **state)
{
	struct treq t;
	struct req_decoded d;

	treq_tc3(&t, "GET", "application/x-www-form-urlencoded",
		 "Filters.0.Name=db-instance-id&Filters.0.Values.1=b&Filters.0.Values.0=a%20b"
		 "&Limit=10&Name=x%2By+z", NULL);
	expect_params(&t.http, "{\"Filters\":[{\"Name\":\"db-instance-id\",\"Values\":"
		      "[\"a b\",\"b\"]}],\"Limit\":\"10\",\"Name\":\"x+y z\"}", &d);
	assert_int_equal(d.sign, REQ_SIGN_TC3);
	assert_null(d.pairs);
	req_decoded_free(&d);

	treq_tc3(&t, "GET", NULL, "", NULL);
	expect_params(&t.http, "{}", &d);
	req_decoded_free(&d);
}

static void test_tc3_form_post(void **state)
{
	struct treq t;
	struct req_decoded d;

	treq_tc3(&t, "POST", "application/x-www-form-urlencoded", "",
		 "InstanceIds.0=postgres-1&InstanceIds.1=postgres-2");
	expect_params(&t.http, "{\"InstanceIds\":[\"postgres-1\",\"postgres-2\"]}", &d);
	assert_int_equal(d.sign, REQ_SIGN_TC3);
	req_decoded_free(&d);
}

#define MP_CT "multipart/form-data; boundary=--------------------------123456"
#define MP_B "----------------------------123456"

static void test_tc3_multipart(void **state)
{
	struct treq t;
	struct req_decoded d;

	treq_tc3(&t, "POST", MP_CT, "",
		 MP_B "\r\nContent-Disposition: form-data; name=\"Limit\"\r\n\r\n10\r\n"
		 MP_B "\r\nContent-Disposition: form-data; name=\"InstanceIds\"\r\n"
		 "Content-Type: text/plain\r\n\r\n[\"a\",\"b\"]\r\n"
		 MP_B "\r\ncontent-disposition: form-data; name=\"Note\"\r\n\r\nline1\r\nline2\r\n"
		 MP_B "--\r\n");
	expect_params(&t.http, "{\"Limit\":\"10\",\"InstanceIds\":\"[\\\"a\\\",\\\"b\\\"]\","
		      "\"Note\":\"line1\\r\\nline2\"}", &d);
	req_decoded_free(&d);

	treq_tc3(&t, "POST", "multipart/form-data; boundary=\"abc\"", "", "--abc--");
	expect_params(&t.http, "{}", &d);
	req_decoded_free(&d);
	treq_tc3(&t, "POST", "multipart/form-data; boundary=abc", "", "");   /* empty form */
	expect_params(&t.http, "{}", &d);
	req_decoded_free(&d);
	treq_tc3(&t, "POST", "Multipart/Form-Data;boundary=abc ; charset=utf-8", "",
		 "--abc\r\nContent-Disposition: form-data;name=\"A.0\"\r\n\r\nx\r\n--abc--\r\n");
	expect_params(&t.http, "{\"A\":[\"x\"]}", &d);
	req_decoded_free(&d);
}

static void expect_mp_fail(const char *ct, const char *body, enum err_code code, const char *msg)
{
	struct treq t;

	treq_tc3(&t, "POST", ct, "", body);
	expect_fail(&t.http, code, msg);
}

static void test_tc3_multipart_bad(void **state)
{
	const char *part = "\r\nContent-Disposition: form-data; name=\"A\"\r\n\r\n1\r\n";
	char body[512];

	expect_mp_fail("multipart/form-data", "--x--", ERR_INVALID_REQUEST, "no boundary");
	expect_mp_fail("multipart/form-data; boundary=", "--x--", ERR_INVALID_REQUEST, "boundary");
	expect_mp_fail("multipart/form-data; boundary=x", "preamble\r\n--x--", ERR_INVALID_REQUEST,
		       "does not start");
	expect_mp_fail("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; "
		       "name=\"A\"\r\n\r\n1", ERR_INVALID_REQUEST, "not terminated");
	expect_mp_fail("multipart/form-data; boundary=x", "--x--\r\nepilogue", ERR_INVALID_REQUEST,
		       "after the closing");
	expect_mp_fail("multipart/form-data; boundary=x", "--x \r\n", ERR_INVALID_REQUEST, "CRLF");
	expect_mp_fail("multipart/form-data; boundary=x",
		       "--x\r\nContent-Type: text/plain\r\n\r\n1\r\n--x--", ERR_INVALID_REQUEST,
		       "no Content-Disposition");
	expect_mp_fail("multipart/form-data; boundary=x",
		       "--x\r\nContent-Disposition: attachment; name=\"A\"\r\n\r\n1\r\n--x--",
		       ERR_INVALID_REQUEST, "not form-data");
	expect_mp_fail("multipart/form-data; boundary=x",
		       "--x\r\nContent-Disposition: form-data; filename=\"A\"\r\n\r\n1\r\n--x--",
		       ERR_INVALID_REQUEST, "no name");
	expect_mp_fail("multipart/form-data; boundary=x", "--x\r\nbroken header\r\n\r\n1\r\n--x--",
		       ERR_INVALID_REQUEST, "malformed part header");
	snprintf(body, sizeof(body), "--x%s--x%s--x--", part, part);
	expect_mp_fail("multipart/form-data; boundary=x", body, ERR_INVALID_PARAMETER,
		       "more than once");
	expect_mp_fail("multipart/form-data; boundary=x",
		       "--x\r\nContent-Disposition: form-data; name=\"A\"\r\n\r\n\xff\r\n--x--",
		       ERR_INVALID_PARAMETER, "UTF-8");
	expect_mp_fail("multipart/form-data; boundary=x",
		       "--x\r\nContent-Disposition: form-data; name=\"A\"\r\n"
		       "Content-Disposition: form-data; name=\"B\"\r\n\r\n1\r\n--x--",
		       ERR_INVALID_REQUEST, "duplicated Content-Disposition");
	expect_mp_fail("multipart/form-data; boundary=x",
		       "--x\r\nContent-Disposition: form-data; name=\"A\r\n\r\n1\r\n--x--",
		       ERR_INVALID_REQUEST, "unterminated part name");
	expect_mp_fail("multipart/form-data; boundary=x",
		       "--x\r\nContent-Disposition: form-data; name=\"\"\r\n\r\n1\r\n--x--",
		       ERR_INVALID_PARAMETER, "empty name");
	char big[MULTIPART_MAX_HEADERS + 64];
	memset(big, 'h', sizeof(big));
	memcpy(big, "--x\r\nX-Pad: ", 12);
	memcpy(big + sizeof(big) - 12, "\r\n\r\n1\r\n--x--", 11);
	big[sizeof(big) - 1] = '\0';
	expect_mp_fail("multipart/form-data; boundary=x", big, ERR_INVALID_REQUEST, "too long");
}

static void test_tc3_missing_common(void **state)
{
	static const char *const names[] = { "X-TC-Action", "X-TC-Version", "X-TC-Timestamp" };
	static const char *const want[] = { "`Action`", "`Version`", "`Timestamp`" };

	for (int i = 0; i < 3; i++) {
		struct treq t;
		treq_tc3(&t, "POST", "application/json", "", "{}");
		for (size_t k = 0; k < t.http.nheaders; k++)
			if (strcmp(t.h[k].name, names[i]) == 0)
				t.h[k].name = "X-Removed";
		expect_fail(&t.http, ERR_MISSING_PARAMETER, want[i]);
	}
	struct treq t;
	treq_tc3(&t, "POST", "application/json", "", "{}");
	t.h[2].value = "";   /* X-TC-Action: empty */
	expect_fail(&t.http, ERR_MISSING_PARAMETER,
		    "The request is missing the required parameter `Action`.");
	treq_tc3(&t, "POST", "application/json", "", "{}");
	t.h[4].value = "12x";
	expect_fail(&t.http, ERR_INVALID_PARAMETER, "Timestamp");
	treq_tc3(&t, "POST", "application/json", "", "{}");
	treq_hdr(&t, "X-TC-Language", "fr-FR");
	expect_fail(&t.http, ERR_INVALID_PARAMETER_VALUE, "Language");
}

static void expect_auth_fail(const char *auth, const char *msg)
{
	struct treq t;

	treq_tc3(&t, "POST", "application/json", "", "{}");
	t.h[5].value = auth;
	if (auth == NULL)
		t.h[5].name = "X-Removed";
	expect_fail(&t.http, ERR_AUTH_FAILURE_INVALID_AUTHORIZATION, msg);
}

#define SIG64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_tc3_authorization(void **state)
{
	struct treq t;
	struct req_decoded d;
	struct err e;

	expect_auth_fail(NULL, "missing");
	expect_auth_fail("HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=content-type;host, Signature=" SIG64, "algorithm");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p, "
			 "SignedHeaders=content-type;host, Signature=" SIG64, "credential");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request/x, "
			 "SignedHeaders=content-type;host, Signature=" SIG64, "credential");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/20240101/p/tc3_request, "
			 "SignedHeaders=content-type;host, Signature=" SIG64, "date");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=/2024-01-01/p/tc3_request, "
			 "SignedHeaders=content-type;host, Signature=" SIG64, "SecretId");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01//tc3_request, "
			 "SignedHeaders=content-type;host, Signature=" SIG64, "service");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=content-type, Signature=" SIG64, "host");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=Content-Type;host, Signature=" SIG64, "lower-case");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=content-type;;host, Signature=" SIG64, "empty");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=host;content-type;host, Signature=" SIG64, "duplicated");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=content-type;host, Signature=abc", "64 hex");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=content-type;host, Signature="
			 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", "64 hex");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=content-type;host", "required");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "Credential=a/2024-01-01/p/tc3_request, SignedHeaders=content-type;host, "
			 "Signature=" SIG64, "twice");
	expect_auth_fail("TC3-HMAC-SHA256 Credential=a/2024-01-01/p/tc3_request, "
			 "SignedHeaders=content-type;host, Signature=" SIG64 ", Extra=1", "unknown");

	/* Compact separators and an upper-case signature are accepted. */
	treq_tc3(&t, "POST", "application/json", "", "{}");
	t.h[5].value = "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/127/tc3_request,"
		       "SignedHeaders=content-type;host;x-tc-action,Signature="
		       "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_int_equal(req_decode(&t.http, &d, &e), 0);
	assert_string_equal(d.tc3_service, "127");
	assert_string_equal(d.tc3_signed_headers, "content-type;host;x-tc-action");
	assert_string_equal(d.tc3_signature, SIG64);
	req_decoded_free(&d);
}

/* ---- v1 ------------------------------------------------------------------ */

#define V1_Q "Action=DescribeDBInstances&Version=2017-03-12&Timestamp=1704067200&Nonce=42" \
	     "&SecretId=AKIDtest&Signature=abc%2B%2F%3D&Region=ap-guangzhou"

static void test_v1_get(void **state)
{
	struct treq t;
	struct req_decoded d;

	treq_init(&t, "GET", V1_Q "&Limit=10&Filters.0.Name=x&Language=en-US&RequestClient=SDK_NODEJS"
		  "&Token=t&SignatureMethod=HmacSHA256", NULL);
	treq_hdr(&t, "Host", "127.0.0.1:9000");
	expect_params(&t.http, "{\"Filters\":[{\"Name\":\"x\"}],\"Limit\":\"10\"}", &d);
	assert_int_equal(d.sign, REQ_SIGN_HMAC_SHA256);
	assert_string_equal(d.action, "DescribeDBInstances");
	assert_string_equal(d.version, "2017-03-12");
	assert_string_equal(d.region, "ap-guangzhou");
	assert_string_equal(d.language, "en-US");
	assert_string_equal(d.secret_id, "AKIDtest");
	assert_string_equal(d.token, "t");
	assert_string_equal(d.v1_signature, "abc+/=");
	assert_int_equal(d.timestamp, 1704067200);
	assert_int_equal(d.nonce, 42);
	assert_int_equal(d.npairs, 12);   /* 13 received, minus Signature */
	for (size_t i = 0; i < d.npairs; i++)
		assert_string_not_equal(d.pairs[i].key, "Signature");
	req_decoded_free(&d);
}

static void test_v1_signature_method(void **state)
{
	static const char *const q[] = { V1_Q, V1_Q "&SignatureMethod=HmacSHA1",
					 V1_Q "&SignatureMethod=hmacsha256" };
	struct treq t;
	struct req_decoded d;

	for (int i = 0; i < 3; i++) {
		treq_init(&t, "GET", q[i], NULL);
		expect_params(&t.http, "{}", &d);
		assert_int_equal(d.sign, REQ_SIGN_HMAC_SHA1);
		req_decoded_free(&d);
	}
}

static void test_v1_post(void **state)
{
	struct treq t;
	struct req_decoded d;

	treq_init(&t, "POST", "", V1_Q "&DBInstanceName=%E6%B5%8B%E8%AF%95");
	treq_hdr(&t, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
	expect_params(&t.http, "{\"DBInstanceName\":\"\xe6\xb5\x8b\xe8\xaf\x95\"}", &d);
	assert_int_equal(d.sign, REQ_SIGN_HMAC_SHA1);
	assert_int_equal(d.npairs, 7);
	req_decoded_free(&d);
}

static void test_v1_missing(void **state)
{
	static const char *const names[] = { "Action", "Version", "Timestamp", "Nonce", "SecretId",
					      "Signature" };
	static const char *const all[] = { "Action=A", "Version=2017-03-12", "Timestamp=1",
					   "Nonce=1", "SecretId=S", "Signature=x" };

	for (int skip = 0; skip < 6; skip++) {
		char q[256] = "", want[80];
		for (int i = 0; i < 6; i++) {
			if (i == skip)
				continue;
			strncat(q, all[i], sizeof(q) - strlen(q) - 2);
			strncat(q, "&", sizeof(q) - strlen(q) - 1);
		}
		struct treq t;
		treq_init(&t, "GET", q, NULL);
		snprintf(want, sizeof(want), "The request is missing the required parameter `%s`.",
			 names[skip]);
		expect_fail(&t.http, ERR_MISSING_PARAMETER, want);
	}
	struct treq t;
	treq_init(&t, "GET", "Action=&Version=1&Timestamp=1&Nonce=1&SecretId=S&Signature=x", NULL);
	expect_fail(&t.http, ERR_MISSING_PARAMETER, "`Action`");
	treq_init(&t, "GET", "Action=A&Version=1&Timestamp=1&Nonce=x&SecretId=S&Signature=x", NULL);
	expect_fail(&t.http, ERR_INVALID_PARAMETER, "`Nonce`");
	treq_init(&t, "GET", V1_Q "&Action=B", NULL);
	expect_fail(&t.http, ERR_INVALID_PARAMETER, "`Action` is given more than once");
}

/* ---- protocol and size --------------------------------------------------- */

static void test_protocol(void **state)
{
	struct treq t;

	treq_tc3(&t, "PUT", "application/json", "", "{}");
	expect_fail(&t.http, ERR_UNSUPPORTED_PROTOCOL, "GET and POST");
	treq_tc3(&t, "get", "application/json", "", "{}");
	expect_fail(&t.http, ERR_UNSUPPORTED_PROTOCOL, NULL);
	treq_tc3(&t, "POST", "text/plain", "", "{}");
	expect_fail(&t.http, ERR_UNSUPPORTED_PROTOCOL, NULL);
	treq_tc3(&t, "POST", "application/jsonx", "", "{}");
	expect_fail(&t.http, ERR_UNSUPPORTED_PROTOCOL, NULL);
	treq_tc3(&t, "POST", NULL, "", "{}");
	expect_fail(&t.http, ERR_UNSUPPORTED_PROTOCOL, NULL);
}

static char *filled(size_t n, const char *prefix)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, 'a', n);
	memcpy(s, prefix, strlen(prefix));
	s[n] = '\0';
	return s;
}

static void test_size_caps(void **state)
{
	struct treq t;
	struct req_decoded d;
	struct err e;
	char *q = filled(REQ_MAX_GET_BYTES, "X=");

	treq_tc3(&t, "GET", NULL, q, NULL);
	assert_int_equal(req_decode(&t.http, &d, &e), 0);   /* at the cap */
	req_decoded_free(&d);
	free(q);
	q = filled(REQ_MAX_GET_BYTES + 1, "X=");
	treq_tc3(&t, "GET", NULL, q, NULL);
	expect_fail(&t.http, ERR_REQUEST_SIZE_LIMIT_EXCEEDED, NULL);
	free(q);

	char *body = filled(REQ_MAX_V1_POST_BYTES + 1, V1_Q "&X=");
	treq_init(&t, "POST", "", body);
	treq_hdr(&t, "Content-Type", "application/x-www-form-urlencoded");
	expect_fail(&t.http, ERR_REQUEST_SIZE_LIMIT_EXCEEDED, NULL);
	body[REQ_MAX_V1_POST_BYTES] = '\0';   /* at the cap: decodes */
	treq_init(&t, "POST", "", body);
	treq_hdr(&t, "Content-Type", "application/x-www-form-urlencoded");
	assert_int_equal(req_decode(&t.http, &d, &e), 0);
	req_decoded_free(&d);
	free(body);

	body = filled(REQ_MAX_TC3_POST_BYTES + 1, "{\"X\":\"");
	treq_tc3(&t, "POST", "application/json", "", body);
	expect_fail(&t.http, ERR_REQUEST_SIZE_LIMIT_EXCEEDED, NULL);
	memcpy(body + REQ_MAX_TC3_POST_BYTES - 2, "\"}", 3);
	treq_tc3(&t, "POST", "application/json", "", body);
	assert_int_equal(req_decode(&t.http, &d, &e), 0);
	req_decoded_free(&d);
	free(body);
}

/* ---- InvalidParameter cases ---------------------------------------------- */

static void test_invalid_json(void **state)
{
	expect_json_fail("{\"Limit\": 1", ERR_INVALID_PARAMETER, "not valid JSON");
	expect_json_fail("{\"Limit\": 1} x", ERR_INVALID_PARAMETER, "not valid JSON");
	expect_json_fail("[1]", ERR_INVALID_PARAMETER, "must be a JSON object");
	expect_json_fail("\"s\"", ERR_INVALID_PARAMETER, "JSON object");
	expect_json_fail("{\"A\": \"\xc3\x28\"}", ERR_INVALID_PARAMETER, "UTF-8");
	expect_json_fail("{\"A\": \"\xed\xa0\x80\"}", ERR_INVALID_PARAMETER, "UTF-8"); /* surrogate */
	expect_json_fail("{\"A\": \"\xc0\xaf\"}", ERR_INVALID_PARAMETER, "UTF-8");     /* overlong */
	expect_json_fail("{\"A\": 1, \"A\": 2}", ERR_INVALID_PARAMETER, "duplicate");
	expect_json_fail("{\"A\": \"x\\u0000y\"}", ERR_INVALID_PARAMETER, "JSON");
}

static char *nested(int depth, const char *open, const char *close, const char *leaf)
{
	size_t n = (size_t)depth * (strlen(open) + strlen(close)) + strlen(leaf) + 1;
	char *s = malloc(n);

	assert_non_null(s);
	s[0] = '\0';
	for (int i = 0; i < depth; i++)
		strncat(s, open, n - strlen(s) - 1);
	strncat(s, leaf, n - strlen(s) - 1);
	for (int i = 0; i < depth; i++)
		strncat(s, close, n - strlen(s) - 1);
	return s;
}

static void test_json_depth(void **state)
{
	struct treq t;
	struct req_decoded d;
	struct err e;
	char *ok = nested(REQ_MAX_JSON_DEPTH, "{\"A\":", "}", "1");
	char *deep = nested(REQ_MAX_JSON_DEPTH + 1, "{\"A\":", "}", "1");
	char *brackets = nested(100000, "[", "]", "");
	char *in_string = nested(1, "{\"A\":\"", "\"}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");

	treq_tc3(&t, "POST", "application/json", "", ok);
	assert_int_equal(req_decode(&t.http, &d, &e), 0);
	req_decoded_free(&d);
	expect_json_fail(deep, ERR_INVALID_PARAMETER, "nested more than 32");
	expect_json_fail(brackets, ERR_INVALID_PARAMETER, "nested");
	treq_tc3(&t, "POST", "application/json", "", in_string);
	assert_int_equal(req_decode(&t.http, &d, &e), 0);   /* brackets in a string */
	req_decoded_free(&d);
	free(ok);
	free(deep);
	free(brackets);
	free(in_string);
}

static void test_invalid_flat(void **state)
{
	expect_query_fail("A=%zz", ERR_INVALID_PARAMETER, "percent-encoding");
	expect_query_fail("A=%4", ERR_INVALID_PARAMETER, "percent-encoding");
	expect_query_fail("A%=1", ERR_INVALID_PARAMETER, "percent-encoding");
	expect_query_fail("A=x%00y", ERR_INVALID_PARAMETER, "NUL");
	expect_query_fail("A=%C3%28", ERR_INVALID_PARAMETER, "UTF-8");
	expect_query_fail("%FF=1", ERR_INVALID_PARAMETER, "UTF-8");
	expect_query_fail("=1", ERR_INVALID_PARAMETER, "empty name");
	expect_query_fail("A%0A=1", ERR_INVALID_PARAMETER, "control");
	expect_query_fail("A=1&B=2&A=3", ERR_INVALID_PARAMETER, "`A` is given more than once");
	expect_query_fail("A.0=1&A.2=3", ERR_INVALID_PARAMETER, "`A` has no element 1");
	expect_query_fail("A.1=1", ERR_INVALID_PARAMETER, "no element 0");
	expect_query_fail("A.0.B.0=1&A.0.B.2=1&A.1.B.0=1", ERR_INVALID_PARAMETER,
			  "`A.0.B` has no element 1");
	expect_query_fail("A=1&A.B=2", ERR_INVALID_PARAMETER, "both as a value and as a structure");
	expect_query_fail("A.B=2&A=1", ERR_INVALID_PARAMETER, "both as a value and as a structure");
	expect_query_fail("A.0=1&A.B=2", ERR_INVALID_PARAMETER, "mixes array indexes");
	expect_query_fail("A.01=1", ERR_INVALID_PARAMETER, "array index");
	expect_query_fail("A.10000=1", ERR_INVALID_PARAMETER, "array index");
	expect_query_fail("A..B=1", ERR_INVALID_PARAMETER, "empty segment");
	expect_query_fail("A.=1", ERR_INVALID_PARAMETER, "empty segment");
	expect_query_fail(".A=1", ERR_INVALID_PARAMETER, "empty segment");

	char *deep = nested(REQ_MAX_JSON_DEPTH, "A.", "", "B=1");
	expect_query_fail(deep, ERR_INVALID_PARAMETER, "nested more than");
	free(deep);
	char q[REQ_MAX_NAME_BYTES + 8];
	struct treq t;
	struct req_decoded d;
	char *name = filled(REQ_MAX_NAME_BYTES, "");
	snprintf(q, sizeof(q), "%s=1", name);
	treq_tc3(&t, "GET", NULL, q, NULL);
	assert_int_equal(req_decode(&t.http, &d, &(struct err){ 0 }), 0);   /* at the cap */
	req_decoded_free(&d);
	snprintf(q, sizeof(q), "%sb=1", name);
	expect_query_fail(q, ERR_INVALID_PARAMETER, "longer than 256 bytes");
	free(name);
}

static void test_too_many_params(void **state)
{
	size_t n = REQ_MAX_PARAMS + 1, cap = n * 12 + 1;
	char *q = malloc(cap), *p = q;
	struct treq t;
	struct req_decoded d;
	struct err e;

	assert_non_null(q);
	for (size_t i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - q), "%sP%zu=1", i ? "&" : "", i);
	treq_tc3(&t, "POST", "application/x-www-form-urlencoded", "", q);
	expect_fail(&t.http, ERR_INVALID_PARAMETER, "more than 10000 parameters");
	*strrchr(q, '&') = '\0';   /* exactly REQ_MAX_PARAMS */
	treq_tc3(&t, "POST", "application/x-www-form-urlencoded", "", q);
	assert_int_equal(req_decode(&t.http, &d, &e), 0);
	assert_int_equal(json_object_size(d.params), REQ_MAX_PARAMS);
	req_decoded_free(&d);
	free(q);

	/* The same cap on a JSON body's leaves. */
	size_t jcap = n * 4 + 16;
	char *j = malloc(jcap);
	assert_non_null(j);
	p = j + snprintf(j, jcap, "{\"A\":[");
	for (size_t i = 0; i < n; i++)
		p += snprintf(p, jcap - (size_t)(p - j), "%s1", i ? "," : "");
	snprintf(p, jcap - (size_t)(p - j), "]}");
	expect_json_fail(j, ERR_INVALID_PARAMETER, "more than 10000 parameters");
	free(j);
}

/* ---- flatten / unflatten -------------------------------------------------- */

static void test_flatten(void **state)
{
	json_t *in = json_loads("{\"Limit\":10,\"Name\":\"a b\",\"Ok\":true,\"No\":false,\"Skip\":null,"
				"\"R\":1.5,\"Empty\":[],\"E2\":{},\"Ids\":[\"a\",\"b\",\"c\",\"d\",\"e\","
				"\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\"],"
				"\"Filters\":[{\"Name\":\"n\",\"Values\":[\"v\"]}]}", 0, NULL);
	static const char *const want[][2] = {
		{ "Filters.0.Name", "n" }, { "Filters.0.Values.0", "v" }, { "Ids.0", "a" },
		{ "Ids.1", "b" }, { "Ids.10", "k" }, { "Ids.11", "l" }, { "Ids.12", "m" },
		{ "Ids.2", "c" },
	};
	struct req_kv *kv;
	size_t n;
	struct err e;

	assert_int_equal(req_flatten(in, &kv, &n, &e), 0);
	assert_int_equal(n, 5 + 13 + 2);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(kv[i].key, want[i][0]);
		assert_string_equal(kv[i].value, want[i][1]);
	}
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(kv[i - 1].key, kv[i].key) < 0);
	assert_string_equal(kv[n - 5].key, "Limit");
	assert_string_equal(kv[n - 5].value, "10");
	assert_string_equal(kv[n - 4].key, "Name");
	assert_string_equal(kv[n - 3].value, "false");
	assert_string_equal(kv[n - 2].value, "true");
	assert_string_equal(kv[n - 1].key, "R");
	assert_string_equal(kv[n - 1].value, "1.5");
	req_kv_free(kv, n);

	json_t *arr = json_array();
	assert_int_equal(req_flatten(arr, &kv, &n, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER);
	json_decref(arr);
	json_decref(in);
}

static void test_round_trip(void **state)
{
	static const char *const docs[] = {
		"{}",
		"{\"A\":\"1\"}",
		"{\"Filters\":[{\"Name\":\"db-instance-id\",\"Values\":[\"x\",\"y\"]},"
		"{\"Name\":\"db-instance-name\",\"Values\":[\"\xe4\xb8\xad\"]}],\"Limit\":\"10\"}",
		"{\"A\":[[\"a\",\"b\"],[\"c\"]],\"B\":{\"C\":{\"D\":\"deep\"}},\"E\":\"\"}",
		"{\"Ids\":[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}",
		"{\"0\":\"top-level numeric name\",\"x.y\":\"\"}",
	};
	struct err e;

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *in = json_loads(docs[i], 0, NULL), *out;
		struct req_kv *kv;
		size_t n;
		assert_non_null(in);
		assert_int_equal(req_flatten(in, &kv, &n, &e), 0);
		assert_int_equal(req_unflatten(kv, n, &out, &e), 0);
		if (i == 5) {   /* "x.y" is not representable: it comes back nested */
			assert_string_equal(json_string_value(json_object_get(
				json_object_get(out, "x"), "y")), "");
		} else if (!json_equal(in, out)) {
			fail_msg("round trip of %s failed", docs[i]);
		}
		req_kv_free(kv, n);
		json_decref(in);
		json_decref(out);
	}
}

static void test_unflatten_edges(void **state)
{
	struct req_kv kv[] = {
		{ "A.2", "c" }, { "A.0", "a" }, { "A.1", "b" },
		{ "B.0.C", "x" }, { "B.0.D.0", "y" },
	};
	json_t *out, *want = json_loads("{\"A\":[\"a\",\"b\",\"c\"],\"B\":[{\"C\":\"x\",\"D\":[\"y\"]}]}",
					0, NULL);
	struct err e;

	assert_int_equal(req_unflatten(kv, 5, &out, &e), 0);
	assert_true(json_equal(out, want));
	json_decref(out);
	json_decref(want);

	struct req_kv bad_utf8[] = { { "A", "\xff" } };
	assert_int_equal(req_unflatten(bad_utf8, 1, &out, &e), -1);
	assert_int_equal(e.code, ERR_INVALID_PARAMETER);
	assert_null(out);
	struct req_kv dup[] = { { "A.0", "x" }, { "A.0", "y" } };
	assert_int_equal(req_unflatten(dup, 2, &out, &e), -1);
	assert_non_null(strstr(e.msg, "more than once"));
	struct req_kv max[] = { { "A.9999", "x" } };
	assert_int_equal(req_unflatten(max, 1, &out, &e), -1);
	assert_non_null(strstr(e.msg, "no element 0"));
	assert_int_equal(req_unflatten(NULL, 0, &out, &e), 0);
	assert_int_equal(json_object_size(out), 0);
	json_decref(out);
}

static void test_header_get(void **state)
{
	struct treq t;

	treq_init(&t, "GET", "", NULL);
	treq_hdr(&t, "content-TYPE", "x");
	treq_hdr(&t, "Host", "h");
	assert_string_equal(req_header_get(&t.http, "Content-Type"), "x");
	assert_string_equal(req_header_get(&t.http, "HOST"), "h");
	assert_null(req_header_get(&t.http, "X-TC-Action"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tc3_json),
		cmocka_unit_test(test_tc3_json_empty_body),
		cmocka_unit_test(test_tc3_get),
		cmocka_unit_test(test_tc3_form_post),
		cmocka_unit_test(test_tc3_multipart),
		cmocka_unit_test(test_tc3_multipart_bad),
		cmocka_unit_test(test_tc3_missing_common),
		cmocka_unit_test(test_tc3_authorization),
		cmocka_unit_test(test_v1_get),
		cmocka_unit_test(test_v1_signature_method),
		cmocka_unit_test(test_v1_post),
		cmocka_unit_test(test_v1_missing),
		cmocka_unit_test(test_protocol),
		cmocka_unit_test(test_size_caps),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_invalid_flat),
		cmocka_unit_test(test_too_many_params),
		cmocka_unit_test(test_flatten),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unflatten_edges),
		cmocka_unit_test(test_header_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
