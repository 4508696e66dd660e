/*
 * sign.h - TencentCloud API signatures, both sides.
 *
 * Server side: sign_verify() checks a decoded request against the caller's
 * secret key - the timestamp window, the credential scope (date must be the
 * UTC date of the timestamp; the service is taken from the scope, as clients
 * pointed at a custom endpoint derive it from the host name), the signature
 * (TC3 over the Host header as sent and, failing that, without its port;
 * v1 over method + host + "/" + sorted raw pairs), compared in constant
 * time; and for v1 the nonce replay cache.
 *
 * Client side (the pgfleet CLI, tests, benchmarks): sign_tc3_authorization()
 * builds the Authorization header for a JSON POST or a GET.
 *
 * Test vectors: reference/signature.md, tests/unit/test_sign.c.
 */
#ifndef PGFLEET_API_SIGN_H
#define PGFLEET_API_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "api/request.h"
#include "core/err.h"

#define SIGN_HEX_LEN 64

/* Lower-case hex SHA-256 of `data` into out[65]. */
void sign_sha256_hex(const void *data, size_t len, char out[SIGN_HEX_LEN + 1]);

/* TC3: the signature (lower-case hex) of `string_to_sign`. */
void sign_tc3_signature(const char *secret_key, const char *date, const char *service,
			const char *string_to_sign, char out[SIGN_HEX_LEN + 1]);

/* TC3: canonical request from its parts; `headers` are "name:value" lines
 * already lower-cased/trimmed and sorted, each ending in '\n'. Returns a
 * malloc'd string. */
char *sign_tc3_canonical_request(const char *method, const char *query, const char *headers,
				 const char *signed_headers, const void *payload, size_t payload_len);

/* TC3 client: Authorization header value into out (>= 512 bytes) for a
 * request signed over content-type and host (`host` without port, as the
 * SDKs sign it). Returns 0, or -1 when out is too small or memory ran out. */
int sign_tc3_authorization(const char *secret_id, const char *secret_key, const char *service,
			   const char *method, const char *host, const char *query,
			   const char *content_type, const void *payload, size_t payload_len,
			   int64_t timestamp, char *out, size_t outlen);

/* v1: Base64 HMAC-SHA1 or HMAC-SHA256 of `str` into out (>= 64 bytes). */
void sign_v1_signature(enum req_sign method, const char *secret_key, const char *str,
		       char *out, size_t outlen);

/* v1: the string to sign: METHOD + host + "/?" + sorted "k=v" joined by '&'.
 * Pairs are sorted by name in byte order (a copy; the input is untouched).
 * Returns a malloc'd string. */
char *sign_v1_string(const char *method, const char *host, const struct req_kv *pairs,
		     size_t npairs);

/* Verify `d` (decoded from `http`) with `secret_key` at time `now`.
 * Errors: AuthFailure.SignatureExpire (|now - timestamp| > window_s),
 * AuthFailure.SignatureFailure (credential date is not the UTC date of the
 * timestamp, a signed header or Host is missing, mismatch, or a replayed v1
 * nonce). The Authorization format itself was checked by req_decode()
 * (AuthFailure.InvalidAuthorization). A v1 nonce is remembered only once
 * its signature verified. */
int sign_verify(const struct req_http *http, const struct req_decoded *d, const char *secret_key,
		int64_t now, int window_s, struct err *e);

/* Forget the nonce replay cache (tests). */
void sign_nonce_reset(void);

#endif
