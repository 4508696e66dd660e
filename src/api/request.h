/*
 * request.h - decoding one HTTP request into the API's common parameters and
 * its business parameters, for every transport the protocol allows:
 *
 *   POST application/json               TC3-HMAC-SHA256, params in the body
 *   POST multipart/form-data            TC3, one part per parameter
 *   POST application/x-www-form-urlencoded  v1 (HmacSHA1/HmacSHA256) or TC3
 *   GET  ?query                          v1 or TC3
 *
 * Flat names (`Filters.0.Values.0`) are unflattened into nested JSON
 * (arrays for numeric segments, objects otherwise); leaves stay strings and
 * are typed later by params.c against the action's schema; a JSON body is
 * kept as received (numbers stay numbers, numeric strings stay strings).
 * TC3 common parameters come from the X-TC-* headers and nothing is taken
 * out of a TC3 body or query (the SDKs put only business parameters there).
 * v1 common parameters (Action/Version/Region/Timestamp/Nonce/SecretId/
 * Signature/SignatureMethod/Token/Language/RequestClient) are taken out of
 * the business parameters but stay in `pairs`, which the v1 signature
 * covers.
 *
 * Everything here is bounded by the REQ_MAX_* caps and never trusts the
 * input: invalid UTF-8, duplicated names, gaps in array indexes, excessive
 * nesting or malformed Authorization all fail with an API error.
 */
#ifndef PGFLEET_API_REQUEST_H
#define PGFLEET_API_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define REQ_MAX_GET_BYTES      (32u * 1024u)          /* URL + query */
#define REQ_MAX_V1_POST_BYTES  (1024u * 1024u)
#define REQ_MAX_TC3_POST_BYTES (10u * 1024u * 1024u)
#define REQ_MAX_JSON_DEPTH     32
#define REQ_MAX_PARAMS         10000                  /* flat name/value pairs */
#define REQ_MAX_ARRAY_INDEX    9999
#define REQ_MAX_NAME_BYTES     256

struct req_header {
	const char *name;   /* as received; matched case-insensitively */
	const char *value;
};

/* The raw request as the gateway received it; all fields borrowed. */
struct req_http {
	const char *method;                /* "GET", "POST", ... */
	const char *query;                 /* raw, without '?'; "" when none */
	const char *body;
	size_t body_len;
	const struct req_header *headers;
	size_t nheaders;
};

enum req_sign { REQ_SIGN_TC3, REQ_SIGN_HMAC_SHA1, REQ_SIGN_HMAC_SHA256 };

struct req_kv {
	char *key;    /* URL-decoded */
	char *value;  /* URL-decoded */
};

struct req_decoded {
	enum req_sign sign;
	char action[64];
	char version[32];
	char region[64];
	char language[16];           /* "" when not sent */
	char secret_id[128];
	char token[1024];            /* X-TC-Token / Token, "" when none */
	int64_t timestamp;
	int64_t nonce;               /* v1 only */
	/* TC3: the parsed Authorization header */
	char tc3_date[16];           /* credential scope date YYYY-MM-DD */
	char tc3_service[64];        /* credential scope service */
	char tc3_signed_headers[512];
	char tc3_signature[72];      /* lower-case hex */
	/* v1 */
	char v1_signature[256];      /* base64, URL-decoded */
	struct req_kv *pairs;        /* v1: every received parameter except Signature */
	size_t npairs;
	json_t *params;              /* business parameters (object), owned */
};

/* Decode `http` into `out` (zeroed first). On failure `out` holds nothing to
 * free beyond what req_decoded_free() releases. Errors:
 *   UnsupportedProtocol       method not GET/POST, or a content type the
 *                             method/signature cannot use
 *   RequestSizeLimitExceeded  over the GET / v1 POST / TC3 POST caps
 *   AuthFailure.InvalidAuthorization  missing/malformed TC3 Authorization
 *   MissingParameter          a required common parameter is absent
 *   InvalidParameter          malformed body, bad encoding, duplicates,
 *                             array index gaps, too deep, too many params
 *   InvalidParameterValue     Language other than zh-CN / en-US
 *   InvalidRequest            malformed multipart/form-data structure
 * The signature itself is checked by sign_verify().
 */
int req_decode(const struct req_http *http, struct req_decoded *out, struct err *e);
void req_decoded_free(struct req_decoded *d);

/* Header lookup, case-insensitive; NULL when absent. */
const char *req_header_get(const struct req_http *http, const char *name);

/* Flatten a JSON object into sorted name/value pairs as the v1 protocol and
 * TC3 GET send them (`A.0.B=x`). Like the SDKs, null members and empty
 * arrays/objects produce no pair; numbers and booleans become their JSON
 * text. Caller frees with req_kv_free(). */
int req_flatten(const json_t *params, struct req_kv **pairs, size_t *npairs, struct err *e);

/* Unflatten pairs into a nested object (strings at the leaves): all-digit
 * segments are array indexes (0..REQ_MAX_ARRAY_INDEX, no leading zeros, no
 * gaps), others member names. Duplicates, a name used both as a value and
 * as a structure, empty segments and more than REQ_MAX_JSON_DEPTH segments
 * fail with InvalidParameter. *out is a new reference. */
int req_unflatten(const struct req_kv *pairs, size_t npairs, json_t **out, struct err *e);

void req_kv_free(struct req_kv *pairs, size_t npairs);

#endif
