/*
 * request.c - turns one received HTTP request into a struct req_decoded:
 * which signature it uses, its common parameters and its business
 * parameters as a JSON object. See request.h for the transports.
 *
 * How it works: req_decode() checks the method, classifies the request
 * (TC3 when the body is JSON or multipart, or when it carries an
 * Authorization or X-TC-Action header; v1 otherwise), applies the size cap
 * of that class, then takes the common parameters from the X-TC-* headers
 * (TC3) or from the flat parameters (v1). Business parameters come from a
 * JSON body as they are (types untouched), or from flat name/value pairs
 * (query, form body, multipart parts) through req_unflatten().
 *
 * Nothing received is trusted: names and values are percent-decoded
 * strictly and must be UTF-8 without NUL bytes; the JSON nesting depth is
 * measured on the raw bytes before jansson (a recursive parser) sees them;
 * every count and length has a REQ_MAX_* cap. Error messages never echo
 * received bytes other than printable ASCII (see req_safe()).
 */
#include "api/request.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/multipart.h"
#include "lib/urlenc.h"
#include "lib/utf8.h"

#define REQ_MAX_AUTH_BYTES     2048   /* Authorization header */
#define REQ_MAX_SIGNED_HEADERS 32     /* names in SignedHeaders */
#define REQ_SAFE_MAX           80     /* echoed input in messages */

enum req_ctype { REQ_CT_NONE, REQ_CT_JSON, REQ_CT_FORM, REQ_CT_MULTIPART, REQ_CT_OTHER };

struct req_kvlist {
	struct req_kv *v;
	size_t n, cap;
};

/* ---- small helpers ------------------------------------------------------ */

/* Copy at most REQ_SAFE_MAX-4 bytes of s[0..n) into out for an error message:
 * printable ASCII is kept, anything else becomes '?', so the message is
 * always valid UTF-8 whatever was received. */
static const char *req_safe(const char *s, size_t n, char out[REQ_SAFE_MAX])
{
	size_t k = 0;

	for (size_t i = 0; i < n && s[i] != '\0'; i++) {
		if (k >= REQ_SAFE_MAX - 4) {
			memcpy(out + k, "...", 3);
			k += 3;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[k] = '\0';
	return out;
}

static int req_nomem(struct err *e)
{
	return err_set(e, ERR_INTERNAL_ERROR, "Out of memory while decoding the request.");
}

static int req_missing(struct err *e, const char *name)
{
	return err_set(e, ERR_MISSING_PARAMETER,
		       "The request is missing the required parameter `%s`.", name);
}

const char *req_header_get(const struct req_http *http, const char *name)
{
	for (size_t i = 0; i < http->nheaders; i++)
		if (http->headers[i].name != NULL && strcasecmp(http->headers[i].name, name) == 0)
			return http->headers[i].value;
	return NULL;
}

void req_kv_free(struct req_kv *pairs, size_t npairs)
{
	if (pairs == NULL)
		return;
	for (size_t i = 0; i < npairs; i++) {
		free(pairs[i].key);
		free(pairs[i].value);
	}
	free(pairs);
}

void req_decoded_free(struct req_decoded *d)
{
	if (d == NULL)
		return;
	req_kv_free(d->pairs, d->npairs);
	d->pairs = NULL;
	d->npairs = 0;
	json_decref(d->params);
	d->params = NULL;
}

static void kvl_free(struct req_kvlist *l)
{
	req_kv_free(l->v, l->n);
	memset(l, 0, sizeof(*l));
}

/* Append a pair, taking ownership of key and value (freed on failure).
 * Fails with InvalidParameter past REQ_MAX_PARAMS pairs. */
static int kvl_push(struct req_kvlist *l, char *key, char *value, struct err *e)
{
	if (l->n >= REQ_MAX_PARAMS) {
		free(key);
		free(value);
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The request has more than %d parameters.", REQ_MAX_PARAMS);
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct req_kv *v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			free(key);
			free(value);
			return req_nomem(e);
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].key = key;
	l->v[l->n].value = value;
	l->n++;
	return 0;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct req_kv *)a)->key, ((const struct req_kv *)b)->key);
}

/* Fail with InvalidParameter when two pairs share a name. Sorts `l`. */
static int kvl_check_dups(struct req_kvlist *l, struct err *e)
{
	char q[REQ_SAFE_MAX];

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), kv_cmp);
	for (size_t i = 1; i < l->n; i++)
		if (strcmp(l->v[i - 1].key, l->v[i].key) == 0)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The parameter `%s` is given more than once.",
				       req_safe(l->v[i].key, SIZE_MAX, q));
	return 0;
}

/* A decimal integer of 1..18 digits (no sign, no spaces). */
static bool req_parse_int64(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Copy a common parameter into a fixed field: it must fit, be UTF-8 and
 * hold no control characters. */
static int req_copy_common(char *dst, size_t cap, const char *src, const char *name,
			   struct err *e)
{
	size_t n = strlen(src);

	if (n >= cap)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameter `%s` is longer than %zu bytes.", name, cap - 1);
	if (!utf8_valid(src, n))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameter `%s` is not valid UTF-8.", name);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The parameter `%s` contains control characters.", name);
	memcpy(dst, src, n + 1);
	return 0;
}

static int req_set_language(struct req_decoded *d, const char *v, struct err *e)
{
	if (strcmp(v, "zh-CN") != 0 && strcmp(v, "en-US") != 0)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "The value of `Language` must be zh-CN or en-US.");
	memcpy(d->language, v, strlen(v) + 1);
	return 0;
}

/* ---- flat name/value pairs: query strings and form bodies --------------- */

/* A parameter name: 1..REQ_MAX_NAME_BYTES bytes of UTF-8 without controls. */
static int req_check_name(const char *name, size_t n, struct err *e)
{
	char q[REQ_SAFE_MAX];

	if (n == 0)
		return err_set(e, ERR_INVALID_PARAMETER, "A parameter has an empty name.");
	if (n > REQ_MAX_NAME_BYTES)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameter name `%s` is longer than %d bytes.",
			       req_safe(name, n, q), REQ_MAX_NAME_BYTES);
	if (!utf8_valid(name, n))
		return err_set(e, ERR_INVALID_PARAMETER, "A parameter name is not valid UTF-8.");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The parameter name `%s` contains control characters.",
				       req_safe(name, n, q));
	return 0;
}

/* A parameter value: UTF-8 without NUL bytes. `name` is for the message. */
static int req_check_value(const char *name, const char *v, size_t n, struct err *e)
{
	char q[REQ_SAFE_MAX];

	if (memchr(v, '\0', n) != NULL)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The value of `%s` contains a NUL byte.", req_safe(name, SIZE_MAX, q));
	if (!utf8_valid(v, n))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The value of `%s` is not valid UTF-8.", req_safe(name, SIZE_MAX, q));
	return 0;
}

/* Percent-decode one name (when name == NULL) or the value of `name`. */
static int req_decode_part(const char *s, size_t len, const char *name, char **out,
			   struct err *e)
{
	size_t n;
	enum urlenc_result r = urlenc_decode(s, len, URLENC_FORM, out, &n);

	if (r == URLENC_NOMEM)
		return req_nomem(e);
	if (r == URLENC_BAD)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "Malformed percent-encoding in the request parameters.");
	if ((name == NULL ? req_check_name(*out, n, e) : req_check_value(name, *out, n, e)) == 0)
		return 0;
	free(*out);
	*out = NULL;
	return -1;
}

/* One `name=value` segment (a segment without '=' has an empty value). */
static int form_segment(const char *s, size_t len, struct req_kvlist *l, struct err *e)
{
	const char *eq = memchr(s, '=', len);
	size_t nlen = eq != NULL ? (size_t)(eq - s) : len;
	char *name, *value;

	if (req_decode_part(s, nlen, NULL, &name, e) != 0)
		return -1;
	if (eq != NULL) {
		if (req_decode_part(eq + 1, len - nlen - 1, name, &value, e) != 0) {
			free(name);
			return -1;
		}
	} else if ((value = strdup("")) == NULL) {
		free(name);
		return req_nomem(e);
	}
	return kvl_push(l, name, value, e);
}

/* Parse `a=1&b=2` (empty segments are skipped) into `l`, then reject
 * duplicated names. */
static int form_parse(const char *s, size_t len, struct req_kvlist *l, struct err *e)
{
	size_t i = 0;

	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t seg = amp != NULL ? (size_t)(amp - (s + i)) : len - i;
		if (seg > 0 && form_segment(s + i, seg, l, e) != 0)
			return -1;
		i += seg + 1;
	}
	return kvl_check_dups(l, e);
}

/* ---- unflatten: `A.0.B=x` -> {"A":[{"B":"x"}]} ------------------------- */

/* A segment of digits is an array index: no leading zero, <= max index. */
static int unflat_index(const char *seg, size_t n, const char *name, struct err *e)
{
	char q[REQ_SAFE_MAX];
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		if (seg[i] < '0' || seg[i] > '9')
			return 0;
		if (v <= REQ_MAX_ARRAY_INDEX)
			v = v * 10 + (seg[i] - '0');
	}
	if ((n > 1 && seg[0] == '0') || v > REQ_MAX_ARRAY_INDEX)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameter `%s` has an invalid array index (0..%d, no leading zeros).",
			       req_safe(name, SIZE_MAX, q), REQ_MAX_ARRAY_INDEX);
	return 1;
}

static int unflat_conflict(const char *name, size_t n, struct err *e)
{
	char q[REQ_SAFE_MAX];

	return err_set(e, ERR_INVALID_PARAMETER,
		       "The parameter `%s` is given both as a value and as a structure.",
		       req_safe(name, n, q));
}

/* Store the leaf `seg` = value under `cur`. */
static int unflat_leaf(json_t *cur, const char *seg, const char *name, const char *value,
		       struct err *e)
{
	char q[REQ_SAFE_MAX];
	json_t *old = json_object_get(cur, seg);
	json_t *s;

	if (old != NULL && json_is_string(old))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameter `%s` is given more than once.",
			       req_safe(name, SIZE_MAX, q));
	if (old != NULL)
		return unflat_conflict(name, SIZE_MAX, e);
	s = json_string(value);
	if (s == NULL)
		return req_check_value(name, value, strlen(value), e) ? -1 : req_nomem(e);
	return json_object_set_new(cur, seg, s) == 0 ? 0 : req_nomem(e);
}

/* Walk (creating) the intermediate objects of `name`, then set the leaf.
 * Array indexes stay object keys here; unflat_finish() turns them into
 * arrays once every pair is in. */
static int unflat_insert(json_t *root, const char *name, const char *value, struct err *e)
{
	char seg[REQ_MAX_NAME_BYTES + 1];
	char q[REQ_SAFE_MAX];
	json_t *cur = root;
	const char *p = name;

	if (req_check_name(name, strlen(name), e) != 0)
		return -1;
	for (int depth = 1;; depth++) {
		const char *dot = strchr(p, '.');
		size_t sl = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (sl == 0)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The parameter name `%s` has an empty segment.",
				       req_safe(name, SIZE_MAX, q));
		if (depth > REQ_MAX_JSON_DEPTH)
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The parameter `%s` is nested more than %d levels deep.",
				       req_safe(name, SIZE_MAX, q), REQ_MAX_JSON_DEPTH);
		if (unflat_index(p, sl, name, e) < 0)
			return -1;
		memcpy(seg, p, sl);
		seg[sl] = '\0';
		if (dot == NULL)
			return unflat_leaf(cur, seg, name, value, e);
		json_t *child = json_object_get(cur, seg);
		if (child == NULL) {
			child = json_object();
			if (child == NULL || json_object_set_new(cur, seg, child) != 0)
				return req_nomem(e);
		} else if (!json_is_object(child)) {
			return unflat_conflict(name, (size_t)(p - name) + sl, e);
		}
		cur = child;
		p = dot + 1;
	}
}

/* Append ".key" (or "key" at the top) to path; the result always fits since
 * every path is a prefix of a name no longer than REQ_MAX_NAME_BYTES. */
static size_t path_push(char *path, size_t plen, const char *key)
{
	size_t kl = strlen(key);

	if (plen > 0 && plen < REQ_MAX_NAME_BYTES)
		path[plen++] = '.';
	if (plen + kl > REQ_MAX_NAME_BYTES)
		kl = REQ_MAX_NAME_BYTES - plen;
	memcpy(path + plen, key, kl);
	path[plen + kl] = '\0';
	return plen + kl;
}

/* All digits: an array index (unflat_index() has checked its form). */
static bool is_index_key(const char *k)
{
	return k[0] != '\0' && k[strspn(k, "0123456789")] == '\0';
}

static int unflat_finish(json_t *node, char *path, size_t plen, bool root, json_t **out,
			 struct err *e);

/* An object whose keys are 0..n-1 becomes an array; a missing index is a gap. */
static int unflat_array(json_t *node, char *path, size_t plen, json_t **out, struct err *e)
{
	size_t n = json_object_size(node);
	json_t *arr = json_array();
	char key[24];
	char q[REQ_SAFE_MAX];

	if (arr == NULL)
		return req_nomem(e);
	for (size_t i = 0; i < n; i++) {
		json_t *child, *fin;
		snprintf(key, sizeof(key), "%zu", i);
		child = json_object_get(node, key);
		if (child == NULL) {
			json_decref(arr);
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The array `%s` has no element %zu (indexes must be 0, 1, 2, ...).",
				       req_safe(path, plen, q), i);
		}
		if (unflat_finish(child, path, path_push(path, plen, key), false, &fin, e) != 0 ||
		    json_array_append_new(arr, fin) != 0) {
			json_decref(arr);
			return e->code != ERR_OK ? -1 : req_nomem(e);
		}
		path[plen] = '\0';
	}
	*out = arr;
	return 0;
}

static int unflat_object(json_t *node, char *path, size_t plen, json_t **out, struct err *e)
{
	json_t *obj = json_object();
	const char *key;
	json_t *child;

	if (obj == NULL)
		return req_nomem(e);
	json_object_foreach(node, key, child) {
		json_t *fin;
		if (unflat_finish(child, path, path_push(path, plen, key), false, &fin, e) != 0 ||
		    json_object_set_new(obj, key, fin) != 0) {
			json_decref(obj);
			return e->code != ERR_OK ? -1 : req_nomem(e);
		}
		path[plen] = '\0';
	}
	*out = obj;
	return 0;
}

/* Turn the intermediate tree into the final value (a new reference). */
static int unflat_finish(json_t *node, char *path, size_t plen, bool root, json_t **out,
			 struct err *e)
{
	char q[REQ_SAFE_MAX];
	size_t n, numeric = 0;
	const char *key;
	json_t *child;

	if (!json_is_object(node)) {
		*out = json_incref(node);
		return 0;
	}
	n = json_object_size(node);
	json_object_foreach(node, key, child)
		numeric += is_index_key(key);
	if (!root && numeric == n && n > 0)
		return unflat_array(node, path, plen, out, e);
	if (!root && numeric > 0)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameter `%s` mixes array indexes and member names.",
			       req_safe(path, plen, q));
	return unflat_object(node, path, plen, out, e);
}

int req_unflatten(const struct req_kv *pairs, size_t npairs, json_t **out, struct err *e)
{
	char path[REQ_MAX_NAME_BYTES + 1] = "";
	json_t *tree;
	int rc = 0;

	*out = NULL;
	if (npairs > REQ_MAX_PARAMS)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The request has more than %d parameters.", REQ_MAX_PARAMS);
	tree = json_object();
	if (tree == NULL)
		return req_nomem(e);
	err_clear(e);
	for (size_t i = 0; i < npairs && rc == 0; i++)
		rc = unflat_insert(tree, pairs[i].key, pairs[i].value, e);
	if (rc == 0)
		rc = unflat_finish(tree, path, 0, true, out, e);
	json_decref(tree);
	return rc;
}

/* ---- flatten: the inverse, as SDKs send GET and v1 parameters ----------- */

/* The text form of a scalar leaf, malloc'd; NULL for null (skipped). */
static int flat_leaf_text(const json_t *v, const char *path, char **out, struct err *e)
{
	char q[REQ_SAFE_MAX];

	*out = NULL;
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (strlen(json_string_value(v)) != json_string_length(v))
			return err_set(e, ERR_INVALID_PARAMETER,
				       "The value of `%s` contains a NUL byte.",
				       req_safe(path, SIZE_MAX, q));
		*out = strdup(json_string_value(v));
		break;
	case JSON_TRUE:
		*out = strdup("true");
		break;
	case JSON_FALSE:
		*out = strdup("false");
		break;
	case JSON_NULL:
		return 0;
	default:
		*out = json_dumps(v, JSON_ENCODE_ANY);
		break;
	}
	return *out != NULL ? 0 : req_nomem(e);
}

static int flat_walk(const json_t *v, char *path, size_t plen, int depth, struct req_kvlist *l,
		     struct err *e);

static int flat_child(const json_t *child, const char *key, char *path, size_t plen, int depth,
		      struct req_kvlist *l, struct err *e)
{
	char q[REQ_SAFE_MAX];
	size_t need = plen + (plen > 0) + strlen(key);
	int rc;

	if (need > REQ_MAX_NAME_BYTES)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameter name `%s` is longer than %d bytes.",
			       req_safe(path, plen, q), REQ_MAX_NAME_BYTES);
	rc = flat_walk(child, path, path_push(path, plen, key), depth + 1, l, e);
	path[plen] = '\0';
	return rc;
}

static int flat_walk(const json_t *v, char *path, size_t plen, int depth, struct req_kvlist *l,
		     struct err *e)
{
	char key[24];
	const char *k;
	json_t *child;
	size_t i;

	if (depth > REQ_MAX_JSON_DEPTH)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameters are nested more than %d levels deep.", REQ_MAX_JSON_DEPTH);
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, child)
			if (flat_child(child, k, path, plen, depth, l, e) != 0)
				return -1;
		return 0;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			if (i > REQ_MAX_ARRAY_INDEX)
				return err_set(e, ERR_INVALID_PARAMETER,
					       "An array has more than %d elements.",
					       REQ_MAX_ARRAY_INDEX + 1);
			snprintf(key, sizeof(key), "%zu", i);
			if (flat_child(child, key, path, plen, depth, l, e) != 0)
				return -1;
		}
		return 0;
	}
	char *text, *name;
	if (flat_leaf_text(v, path, &text, e) != 0)
		return -1;
	if (text == NULL)
		return 0;   /* null: not sent, as the SDKs drop it */
	name = strdup(path);
	if (name == NULL) {
		free(text);
		return req_nomem(e);
	}
	return kvl_push(l, name, text, e);
}

int req_flatten(const json_t *params, struct req_kv **pairs, size_t *npairs, struct err *e)
{
	char path[REQ_MAX_NAME_BYTES + 1] = "";
	struct req_kvlist l = { 0 };

	*pairs = NULL;
	*npairs = 0;
	if (!json_is_object(params))
		return err_set(e, ERR_INVALID_PARAMETER, "The parameters must be a JSON object.");
	err_clear(e);
	if (flat_walk(params, path, 0, 0, &l, e) != 0) {
		kvl_free(&l);
		return -1;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), kv_cmp);
	*pairs = l.v;
	*npairs = l.n;
	return 0;
}

/* Pairs -> params object; `l` is consumed. */
static int flat_to_params(struct req_kvlist *l, json_t **params, struct err *e)
{
	int rc = req_unflatten(l->v, l->n, params, e);

	kvl_free(l);
	return rc;
}

/* ---- JSON bodies --------------------------------------------------------- */

/* Deepest nesting of arrays/objects in s[0..len), counted outside strings,
 * stopping as soon as it exceeds `max` (jansson recurses per level). */
static bool json_depth_ok(const char *s, size_t len, int max)
{
	bool in_str = false, esc = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return false;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return true;
}

/* Count leaves (scalars and empty containers) and check member names. */
static int json_check_tree(const json_t *v, size_t *count, struct err *e)
{
	char q[REQ_SAFE_MAX];
	const char *k;
	json_t *child;
	size_t i;

	if (json_is_object(v) && json_object_size(v) > 0) {
		json_object_foreach((json_t *)v, k, child) {
			if (strlen(k) > REQ_MAX_NAME_BYTES)
				return err_set(e, ERR_INVALID_PARAMETER,
					       "The parameter name `%s` is longer than %d bytes.",
					       req_safe(k, SIZE_MAX, q), REQ_MAX_NAME_BYTES);
			if (json_check_tree(child, count, e) != 0)
				return -1;
		}
		return 0;
	}
	if (json_is_array(v) && json_array_size(v) > 0) {
		json_array_foreach(v, i, child)
			if (json_check_tree(child, count, e) != 0)
				return -1;
		return 0;
	}
	if (++*count > REQ_MAX_PARAMS)
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The request has more than %d parameters.", REQ_MAX_PARAMS);
	return 0;
}

static bool all_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* Parse a TC3 JSON body; an empty body means no parameters. */
static int body_json(const char *body, size_t len, json_t **out, struct err *e)
{
	char q[REQ_SAFE_MAX];
	json_error_t je;
	size_t count = 0;

	*out = NULL;
	if (len == 0 || all_space(body, len))
		return (*out = json_object()) != NULL ? 0 : req_nomem(e);
	if (!utf8_valid(body, len))
		return err_set(e, ERR_INVALID_PARAMETER, "The request body is not valid UTF-8.");
	if (!json_depth_ok(body, len, REQ_MAX_JSON_DEPTH))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The request body is nested more than %d levels deep.",
			       REQ_MAX_JSON_DEPTH);
	*out = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (*out == NULL)
		return err_set(e, ERR_INVALID_PARAMETER, "The request body is not valid JSON: %s.",
			       req_safe(je.text, SIZE_MAX, q));
	if (!json_is_object(*out))
		err_set(e, ERR_INVALID_PARAMETER, "The request body must be a JSON object.");
	else if (json_check_tree(*out, &count, e) == 0)
		return 0;
	json_decref(*out);
	*out = NULL;
	return -1;
}

/* ---- multipart/form-data ------------------------------------------------- */

struct mp_ctx {
	struct req_kvlist *l;
	struct err *e;
};

/* A part becomes one flat pair; names and values are checked as for forms. */
static int mp_part_cb(const struct multipart_part *part, void *arg)
{
	struct mp_ctx *c = arg;
	char *name, *value;

	if (req_check_name(part->name, part->name_len, c->e) != 0)
		return -1;   /* this also refuses NUL bytes in the name */
	name = strndup(part->name, part->name_len);
	if (name == NULL)
		return req_nomem(c->e);
	if (req_check_value(name, part->value, part->value_len, c->e) != 0) {
		free(name);
		return -1;
	}
	value = strndup(part->value, part->value_len);
	if (value == NULL) {
		free(name);
		return req_nomem(c->e);
	}
	return kvl_push(c->l, name, value, c->e);
}

/* The parts of a multipart body into `l` (structure errors: InvalidRequest,
 * as the seed's error table says; bad names or values: InvalidParameter). */
static int mp_parse(const struct req_http *h, struct req_kvlist *l, struct err *e)
{
	char boundary[MULTIPART_MAX_BOUNDARY + 1];
	struct mp_ctx c = { l, e };
	const char *why = NULL;
	int rc = multipart_boundary(req_header_get(h, "Content-Type"), boundary, &why);

	if (rc == 0)
		rc = multipart_parse(h->body, h->body_len, boundary, mp_part_cb, &c, &why);
	if (rc != 0)
		return why != NULL ? err_set(e, ERR_INVALID_REQUEST,
					     "The multipart format of the request body is "
					     "incorrect: %s.", why) : -1;
	return kvl_check_dups(l, e);
}

/* ---- classification and common parameters ------------------------------- */

static enum req_ctype req_ctype_of(const char *ct)
{
	static const struct { const char *name; enum req_ctype t; } types[] = {
		{ "application/json", REQ_CT_JSON },
		{ "application/x-www-form-urlencoded", REQ_CT_FORM },
		{ "multipart/form-data", REQ_CT_MULTIPART },
	};
	size_t n;

	if (ct == NULL)
		return REQ_CT_NONE;
	ct += strspn(ct, " \t");
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == n && strncasecmp(ct, types[i].name, n) == 0)
			return types[i].t;
	return REQ_CT_OTHER;
}

static int req_size_check(const struct req_http *h, bool get, bool tc3, struct err *e)
{
	size_t qlen = strlen(h->query);
	size_t cap = get ? REQ_MAX_GET_BYTES : tc3 ? REQ_MAX_TC3_POST_BYTES : REQ_MAX_V1_POST_BYTES;
	size_t used = get ? qlen + h->body_len : h->body_len;

	if (qlen > REQ_MAX_GET_BYTES || used > cap)
		return err_set(e, ERR_REQUEST_SIZE_LIMIT_EXCEEDED,
			       "The request is larger than %zu bytes.",
			       qlen > REQ_MAX_GET_BYTES ? (size_t)REQ_MAX_GET_BYTES : cap);
	return 0;
}

/* ---- TC3 ----------------------------------------------------------------- */

static int tc3_bad_auth(struct err *e, const char *what)
{
	return err_set(e, ERR_AUTH_FAILURE_INVALID_AUTHORIZATION,
		       "The Authorization header is invalid: %s.", what);
}

static bool tc3_is_date(const char *s, size_t n)
{
	static const char pat[] = "dddd-dd-dd";

	if (n != 10)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-')
			return false;
	return true;
}

static bool tc3_charset_ok(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr(extra, c) != NULL)))
			return false;
	}
	return true;
}

/* Credential=ID/DATE/SERVICE/tc3_request */
static int tc3_credential(const char *v, size_t n, struct req_decoded *d, struct err *e)
{
	const char *part[4];
	size_t plen[4], k = 0, start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != '/')
			continue;
		if (k == 4)
			return tc3_bad_auth(e, "the credential has too many parts");
		part[k] = v + start;
		plen[k++] = i - start;
		start = i + 1;
	}
	if (k != 4 || plen[3] != 11 || memcmp(part[3], "tc3_request", 11) != 0)
		return tc3_bad_auth(e, "the credential must be SecretId/Date/service/tc3_request");
	if (plen[0] == 0 || plen[0] >= sizeof(d->secret_id) ||
	    !tc3_charset_ok(part[0], plen[0], "-_*.+=@"))
		return tc3_bad_auth(e, "invalid SecretId in the credential");
	if (!tc3_is_date(part[1], plen[1]))
		return tc3_bad_auth(e, "the credential date must be YYYY-MM-DD");
	if (plen[2] == 0 || plen[2] >= sizeof(d->tc3_service) ||
	    !tc3_charset_ok(part[2], plen[2], "-_."))
		return tc3_bad_auth(e, "invalid service in the credential");
	memcpy(d->secret_id, part[0], plen[0]);
	memcpy(d->tc3_date, part[1], plen[1]);
	memcpy(d->tc3_service, part[2], plen[2]);
	return 0;
}

static bool tc3_has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

/* SignedHeaders=a;b;c - lower-case names, no duplicates, content-type and
 * host included. Kept verbatim: it is part of the canonical request. */
static int tc3_signed_headers(const char *v, size_t n, struct req_decoded *d, struct err *e)
{
	const char *name[REQ_MAX_SIGNED_HEADERS];
	size_t len[REQ_MAX_SIGNED_HEADERS], k = 0, start = 0;
	bool ct = false, host = false;

	if (n == 0 || n >= sizeof(d->tc3_signed_headers) || !tc3_charset_ok(v, n, "-_;") ||
	    tc3_has_upper(v, n))
		return tc3_bad_auth(e, "SignedHeaders must be lower-case names separated by ';'");
	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != ';')
			continue;
		if (i == start || k == REQ_MAX_SIGNED_HEADERS)
			return tc3_bad_auth(e, "empty name or too many names in SignedHeaders");
		name[k] = v + start;
		len[k] = i - start;
		for (size_t j = 0; j < k; j++)
			if (len[j] == len[k] && memcmp(name[j], name[k], len[k]) == 0)
				return tc3_bad_auth(e, "duplicated name in SignedHeaders");
		ct |= len[k] == 12 && memcmp(name[k], "content-type", 12) == 0;
		host |= len[k] == 4 && memcmp(name[k], "host", 4) == 0;
		k++;
		start = i + 1;
	}
	if (!ct || !host)
		return tc3_bad_auth(e, "SignedHeaders must include content-type and host");
	memcpy(d->tc3_signed_headers, v, n);
	return 0;
}

static int tc3_signature_hex(const char *v, size_t n, struct req_decoded *d, struct err *e)
{
	if (n != 64 || !tc3_charset_ok(v, n, ""))
		return tc3_bad_auth(e, "the signature must be 64 hex digits");
	for (size_t i = 0; i < n; i++) {
		char c = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return tc3_bad_auth(e, "the signature must be 64 hex digits");
		d->tc3_signature[i] = c;
	}
	return 0;
}

/* One `Key=Value` item of the Authorization header; *seen tracks which of
 * Credential (1), SignedHeaders (2), Signature (4) were given. */
static int tc3_auth_item(const char *s, size_t n, unsigned *seen, struct req_decoded *d,
			 struct err *e)
{
	static const char *const keys[] = { "Credential", "SignedHeaders", "Signature" };
	const char *eq = memchr(s, '=', n);
	size_t kl = eq != NULL ? (size_t)(eq - s) : n;

	for (unsigned i = 0; i < 3; i++) {
		if (eq == NULL || kl != strlen(keys[i]) || memcmp(s, keys[i], kl) != 0)
			continue;
		if (*seen & (1u << i))
			return tc3_bad_auth(e, "a field is given twice");
		*seen |= 1u << i;
		const char *v = eq + 1;
		size_t vl = n - kl - 1;
		return i == 0 ? tc3_credential(v, vl, d, e) :
		       i == 1 ? tc3_signed_headers(v, vl, d, e) : tc3_signature_hex(v, vl, d, e);
	}
	return tc3_bad_auth(e, "unknown field (expected Credential, SignedHeaders, Signature)");
}

/* Authorization: TC3-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=... */
static int tc3_authorization(const char *auth, struct req_decoded *d, struct err *e)
{
	static const char alg[] = "TC3-HMAC-SHA256 ";
	unsigned seen = 0;
	size_t len;

	if (auth == NULL)
		return err_set(e, ERR_AUTH_FAILURE_INVALID_AUTHORIZATION,
			       "The Authorization header is missing.");
	len = strlen(auth);
	if (len > REQ_MAX_AUTH_BYTES)
		return tc3_bad_auth(e, "too long");
	if (strncmp(auth, alg, sizeof(alg) - 1) != 0)
		return tc3_bad_auth(e, "the algorithm must be TC3-HMAC-SHA256");
	for (size_t i = sizeof(alg) - 1; i < len;) {
		i += strspn(auth + i, " \t");
		size_t n = strcspn(auth + i, ",");
		size_t t = n;
		while (t > 0 && (auth[i + t - 1] == ' ' || auth[i + t - 1] == '\t'))
			t--;
		if (tc3_auth_item(auth + i, t, &seen, d, e) != 0)
			return -1;
		i += n + 1;
	}
	if (seen != 7)
		return tc3_bad_auth(e, "Credential, SignedHeaders and Signature are all required");
	return 0;
}

/* X-TC-Action, -Version, -Timestamp (required), -Region, -Language, -Token. */
static int tc3_common(const struct req_http *h, struct req_decoded *d, struct err *e)
{
	const char *action = req_header_get(h, "X-TC-Action");
	const char *version = req_header_get(h, "X-TC-Version");
	const char *ts = req_header_get(h, "X-TC-Timestamp");
	const char *region = req_header_get(h, "X-TC-Region");
	const char *lang = req_header_get(h, "X-TC-Language");
	const char *token = req_header_get(h, "X-TC-Token");

	if (action == NULL || action[0] == '\0')
		return req_missing(e, "Action");
	if (version == NULL || version[0] == '\0')
		return req_missing(e, "Version");
	if (ts == NULL || ts[0] == '\0')
		return req_missing(e, "Timestamp");
	if (!req_parse_int64(ts, &d->timestamp))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The parameter `Timestamp` must be an integer (UNIX seconds).");
	if (req_copy_common(d->action, sizeof(d->action), action, "Action", e) != 0 ||
	    req_copy_common(d->version, sizeof(d->version), version, "Version", e) != 0 ||
	    (region != NULL &&
	     req_copy_common(d->region, sizeof(d->region), region, "Region", e) != 0) ||
	    (token != NULL && req_copy_common(d->token, sizeof(d->token), token, "Token", e) != 0))
		return -1;
	if (lang != NULL && lang[0] != '\0' && req_set_language(d, lang, e) != 0)
		return -1;
	return 0;
}

/* Business parameters of a TC3 request, from wherever its transport puts them. */
static int tc3_params(const struct req_http *h, bool get, enum req_ctype ct, struct req_decoded *d,
		      struct err *e)
{
	struct req_kvlist l = { 0 };
	int rc;

	if (!get && ct == REQ_CT_JSON)
		return body_json(h->body, h->body_len, &d->params, e);
	if (get)
		rc = form_parse(h->query, strlen(h->query), &l, e);
	else if (ct == REQ_CT_FORM)
		rc = form_parse(h->body, h->body_len, &l, e);
	else
		rc = mp_parse(h, &l, e);
	if (rc != 0) {
		kvl_free(&l);
		return -1;
	}
	return flat_to_params(&l, &d->params, e);
}

static int decode_tc3(const struct req_http *h, bool get, enum req_ctype ct, struct req_decoded *d,
		      struct err *e)
{
	d->sign = REQ_SIGN_TC3;
	if (tc3_authorization(req_header_get(h, "Authorization"), d, e) != 0 ||
	    tc3_common(h, d, e) != 0)
		return -1;
	return tc3_params(h, get, ct, d, e);
}

/* ---- v1 ------------------------------------------------------------------ */

enum v1_common {
	V1_ACTION, V1_VERSION, V1_REGION, V1_TIMESTAMP, V1_NONCE, V1_SECRET_ID, V1_SIGNATURE,
	V1_SIGNATURE_METHOD, V1_TOKEN, V1_LANGUAGE, V1_REQUEST_CLIENT, V1__COUNT
};

static const char *const v1_names[V1__COUNT] = {
	"Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
	"SignatureMethod", "Token", "Language", "RequestClient",
};

static int v1_common_index(const char *name)
{
	for (int i = 0; i < V1__COUNT; i++)
		if (strcmp(name, v1_names[i]) == 0)
			return i;
	return -1;
}

static int v1_integer(const char *v, int64_t *out, const char *name, struct err *e)
{
	if (!req_parse_int64(v, out))
		return err_set(e, ERR_INVALID_PARAMETER, "The parameter `%s` must be an integer.",
			       name);
	return 0;
}

/* Store one common parameter in its field of d. */
static int v1_take(struct req_decoded *d, int which, const char *v, struct err *e)
{
	const char *n = v1_names[which];

	switch (which) {
	case V1_ACTION: return req_copy_common(d->action, sizeof(d->action), v, n, e);
	case V1_VERSION: return req_copy_common(d->version, sizeof(d->version), v, n, e);
	case V1_REGION: return req_copy_common(d->region, sizeof(d->region), v, n, e);
	case V1_TIMESTAMP: return v1_integer(v, &d->timestamp, n, e);
	case V1_NONCE: return v1_integer(v, &d->nonce, n, e);
	case V1_SECRET_ID: return req_copy_common(d->secret_id, sizeof(d->secret_id), v, n, e);
	case V1_SIGNATURE: return req_copy_common(d->v1_signature, sizeof(d->v1_signature), v, n, e);
	case V1_SIGNATURE_METHOD:
		d->sign = strcmp(v, "HmacSHA256") == 0 ? REQ_SIGN_HMAC_SHA256 : REQ_SIGN_HMAC_SHA1;
		return 0;
	case V1_TOKEN: return req_copy_common(d->token, sizeof(d->token), v, n, e);
	case V1_LANGUAGE: return v[0] != '\0' ? req_set_language(d, v, e) : 0;
	default: return 0;   /* RequestClient: signed, otherwise ignored */
	}
}

/* Take the common parameters out of `all` into d, and borrow the business
 * pairs into biz (their memory stays in `all`). */
static int v1_split(const struct req_kvlist *all, struct req_decoded *d, struct req_kv *biz,
		    size_t *nbiz, unsigned *seen, struct err *e)
{
	*nbiz = 0;
	for (size_t i = 0; i < all->n; i++) {
		int which = v1_common_index(all->v[i].key);
		if (which < 0) {
			biz[(*nbiz)++] = all->v[i];
			continue;
		}
		*seen |= 1u << which;
		if (v1_take(d, which, all->v[i].value, e) != 0)
			return -1;
	}
	return 0;
}

/* The signed pairs are all the received ones but Signature. */
static void v1_drop_signature(struct req_kvlist *all)
{
	for (size_t i = 0; i < all->n; i++) {
		if (strcmp(all->v[i].key, "Signature") != 0)
			continue;
		free(all->v[i].key);
		free(all->v[i].value);
		memmove(&all->v[i], &all->v[i + 1], (all->n - i - 1) * sizeof(all->v[0]));
		all->n--;
		return;
	}
}

static int v1_required(unsigned seen, const struct req_decoded *d, struct err *e)
{
	static const int req[] = { V1_ACTION, V1_VERSION, V1_TIMESTAMP, V1_NONCE, V1_SECRET_ID,
				   V1_SIGNATURE };

	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!(seen & (1u << req[i])))
			return req_missing(e, v1_names[req[i]]);
	if (d->action[0] == '\0')
		return req_missing(e, "Action");
	if (d->version[0] == '\0')
		return req_missing(e, "Version");
	if (d->secret_id[0] == '\0')
		return req_missing(e, "SecretId");
	if (d->v1_signature[0] == '\0')
		return req_missing(e, "Signature");
	return 0;
}

static int decode_v1(const struct req_http *h, bool get, struct req_decoded *d, struct err *e)
{
	struct req_kvlist all = { 0 };
	struct req_kv *biz = NULL;
	size_t nbiz = 0;
	unsigned seen = 0;
	int rc = -1;

	d->sign = REQ_SIGN_HMAC_SHA1;
	if (get ? form_parse(h->query, strlen(h->query), &all, e) :
		  form_parse(h->body, h->body_len, &all, e))
		goto out;
	biz = malloc((all.n > 0 ? all.n : 1) * sizeof(*biz));
	if (biz == NULL) {
		rc = req_nomem(e);
		goto out;
	}
	if (v1_split(&all, d, biz, &nbiz, &seen, e) == 0 && v1_required(seen, d, e) == 0)
		rc = req_unflatten(biz, nbiz, &d->params, e);
out:
	free(biz);   /* borrowed pointers: they stay in `all` */
	v1_drop_signature(&all);
	d->pairs = all.v;
	d->npairs = all.n;
	return rc;
}

/* ---- entry point --------------------------------------------------------- */

int req_decode(const struct req_http *http, struct req_decoded *out, struct err *e)
{
	bool get;
	enum req_ctype ct;
	bool tc3;
	int rc;

	memset(out, 0, sizeof(*out));
	err_clear(e);
	if (strcmp(http->method, "GET") != 0 && strcmp(http->method, "POST") != 0)
		return err_set(e, ERR_UNSUPPORTED_PROTOCOL, "Only GET and POST requests are supported.");
	get = http->method[0] == 'G';
	ct = req_ctype_of(req_header_get(http, "Content-Type"));
	if (!get && (ct == REQ_CT_NONE || ct == REQ_CT_OTHER))
		return err_set(e, ERR_UNSUPPORTED_PROTOCOL,
			       "POST requests must be application/json, multipart/form-data or "
			       "application/x-www-form-urlencoded.");
	tc3 = (!get && (ct == REQ_CT_JSON || ct == REQ_CT_MULTIPART)) ||
	      req_header_get(http, "Authorization") != NULL ||
	      req_header_get(http, "X-TC-Action") != NULL;
	if (req_size_check(http, get, tc3, e) != 0)
		return -1;
	rc = tc3 ? decode_tc3(http, get, ct, out, e) : decode_v1(http, get, out, e);
	if (rc != 0)
		req_decoded_free(out);
	return rc;
}
