/*
 * pgfleet.c - the command-line client: calls one API action of a pgfleetd
 * (or any TencentCloud-compatible endpoint) and prints the response.
 *
 *   pgfleet [--endpoint URL] [--data-dir DIR] [--region R] [--language L]
 *           ACTION [JSON | --Param value ...]
 *
 * Parameters are given either as one JSON object or as `--Name value`
 * pairs; dotted names (`--Filters.0.Values.0 x`) are unflattened with
 * req_unflatten(); a value that is a JSON array or object is sent as such,
 * any other value as a string (the service types numeric and boolean
 * strings by the action's schema). The request is a TC3-signed JSON POST, signed
 * like the official SDKs do (service "postgres", host without port). The
 * key comes from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY, else
 * from DATA_DIR/credentials.json, which pgfleetd writes on first start.
 *
 * Exit status: 0 success, 1 the API answered with Response.Error, 2 usage,
 * credentials or transport errors.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/request.h"
#include "api/sign.h"
#include "core/err.h"

#define CLI_VERSION          "2017-03-12"
#define CLI_SERVICE          "postgres"
#define CLI_DEFAULT_ENDPOINT "http://127.0.0.1:9000"
#define CLI_MAX_RESPONSE     (64u * 1024u * 1024u)
#define CLI_TIMEOUT_S        300L
#define CLI_MAX_KEY          128
#define CLI_MAX_HEADER       1024

enum { CLI_OK = 0, CLI_API_ERROR = 1, CLI_FAIL = 2 };

struct cli_opts {
	const char *endpoint, *data_dir, *region, *language, *action;
	char **params;   /* what follows ACTION */
	int nparams;
};

struct cli_key {
	char id[CLI_MAX_KEY];
	char secret[CLI_MAX_KEY];
};

struct cli_buf {
	char *data;
	size_t len;
	int overflow;
};

static void cli_usage(FILE *out)
{
	fputs("usage: pgfleet [--endpoint URL] [--data-dir DIR] [--region R]\n"
	      "               [--language zh-CN|en-US] ACTION [JSON | --Param value ...]\n"
	      "\n"
	      "Calls one TencentDB for PostgreSQL API action (version " CLI_VERSION ") and prints\n"
	      "the JSON response.\n"
	      "\n"
	      "  --endpoint URL   default $PGFLEET_ENDPOINT, else " CLI_DEFAULT_ENDPOINT "\n"
	      "  --data-dir DIR   where credentials.json is read from (default ./var)\n"
	      "  --region R       sent as X-TC-Region\n"
	      "  --language L     language of error messages (zh-CN or en-US)\n"
	      "\n"
	      "Parameters: one JSON object, or --Name value pairs. Dotted names build nested\n"
	      "values (--Filters.0.Name db-instance-id --Filters.0.Values.0 postgres-x).\n"
	      "A JSON array or object value is sent as such, anything else as a string\n"
	      "(the service reads numeric and boolean strings by the action's schema).\n"
	      "\n"
	      "Key: $TENCENTCLOUD_SECRET_ID and $TENCENTCLOUD_SECRET_KEY, else DATA_DIR/\n"
	      "credentials.json ({\"secretId\": ..., \"secretKey\": ...}).\n"
	      "\n"
	      "Exit status: 0 success, 1 API error (Response.Error), 2 usage or transport error.\n"
	      "\n"
	      "Example: pgfleet DescribeDBInstances --Limit 10\n", out);
}

/* Global options up to ACTION. Returns 0, 1 for --help, -1 on a usage error. */
static int cli_parse_args(int argc, char **argv, struct cli_opts *o)
{
	const char *env = getenv("PGFLEET_ENDPOINT");
	int i;

	*o = (struct cli_opts){ .endpoint = env != NULL && env[0] ? env : CLI_DEFAULT_ENDPOINT,
				.data_dir = "./var" };
	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		const char *opt = argv[i];
		const char **dst = strcmp(opt, "--endpoint") == 0 ? &o->endpoint :
				   strcmp(opt, "--data-dir") == 0 ? &o->data_dir :
				   strcmp(opt, "--region") == 0 ? &o->region :
				   strcmp(opt, "--language") == 0 ? &o->language : NULL;
		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
			return 1;
		if (dst == NULL || i + 1 >= argc) {
			fprintf(stderr, "pgfleet: %s: %s (see pgfleet --help)\n", opt,
				dst == NULL ? "unknown option" : "missing value");
			return -1;
		}
		*dst = argv[i + 1];
	}
	if (i >= argc) {
		fputs("pgfleet: missing ACTION (see pgfleet --help)\n", stderr);
		return -1;
	}
	if (o->language != NULL && strcmp(o->language, "zh-CN") != 0 &&
	    strcmp(o->language, "en-US") != 0) {
		fputs("pgfleet: --language must be zh-CN or en-US\n", stderr);
		return -1;
	}
	o->action = argv[i];
	o->params = argv + i + 1;
	o->nparams = argc - i - 1;
	return 0;
}

/* ---- parameters ---------------------------------------------------------- */

/* The JSON value of a command-line value: a JSON array or object is taken
 * as such, anything else stays a string - the service accepts numeric and
 * boolean strings for Integer, Float and Boolean parameters, so
 * `--DBMajorVersion 15` stays the String it must be. NULL when the text is
 * not valid UTF-8. */
static json_t *cli_value(const char *text)
{
	json_t *v = (text[0] == '[' || text[0] == '{')
			    ? json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL)
			    : NULL;

	if (json_is_array(v) || json_is_object(v))
		return v;
	json_decref(v);
	return json_string(text);
}

/* Replace the string leaves req_unflatten() produced by typed values. */
static int cli_type_leaves(json_t *node)
{
	const char *key;
	json_t *child;
	size_t i;

	json_object_foreach(node, key, child) {
		if (json_is_string(child) ? json_object_set_new(node, key,
								cli_value(json_string_value(child))) != 0 :
		    cli_type_leaves(child) != 0)
			return -1;
	}
	json_array_foreach(node, i, child) {
		if (json_is_string(child) ? json_array_set_new(node, i,
							       cli_value(json_string_value(child))) != 0 :
		    cli_type_leaves(child) != 0)
			return -1;
	}
	return 0;
}

/* `--Name value` pairs into a params object. */
static json_t *cli_params_from_pairs(char **args, int n)
{
	struct req_kv *kv = calloc((size_t)n / 2 + 1, sizeof(*kv));
	json_t *params = NULL;
	struct err e;
	int k = 0;

	for (int i = 0; kv != NULL && i < n; i += 2, k++) {
		if (strncmp(args[i], "--", 2) != 0 || args[i][2] == '\0' || i + 1 >= n) {
			fprintf(stderr, "pgfleet: expected --Name value, got '%s'%s\n", args[i],
				i + 1 >= n ? " without a value" : "");
			free(kv);
			return NULL;
		}
		kv[k] = (struct req_kv){ .key = args[i] + 2, .value = args[i + 1] };
	}
	if (kv != NULL && req_unflatten(kv, (size_t)k, &params, &e) != 0)
		fprintf(stderr, "pgfleet: %s\n", err_message(&e, ERR_LANG_EN));
	else if (params != NULL && cli_type_leaves(params) != 0) {
		fputs("pgfleet: a parameter value is not valid UTF-8\n", stderr);
		json_decref(params);
		params = NULL;
	}
	free(kv);   /* the strings belong to argv */
	return params;
}

/* The request body: {} with no arguments, the JSON object given, or pairs. */
static json_t *cli_params(const struct cli_opts *o)
{
	json_error_t je;
	json_t *v;

	if (o->nparams == 0)
		return json_object();
	if (strncmp(o->params[0], "--", 2) == 0)
		return cli_params_from_pairs(o->params, o->nparams);
	if (o->nparams > 1) {
		fputs("pgfleet: give either one JSON object or --Name value pairs\n", stderr);
		return NULL;
	}
	v = json_loads(o->params[0], JSON_REJECT_DUPLICATES, &je);
	if (v == NULL || !json_is_object(v)) {
		fprintf(stderr, "pgfleet: parameters must be a JSON object%s%s\n",
			v == NULL ? ": " : "", v == NULL ? je.text : "");
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ---- credentials --------------------------------------------------------- */

static int cli_copy_key(struct cli_key *k, const char *id, const char *secret)
{
	if (id == NULL || secret == NULL || id[0] == '\0' || secret[0] == '\0' ||
	    strlen(id) >= sizeof(k->id) || strlen(secret) >= sizeof(k->secret))
		return -1;
	memcpy(k->id, id, strlen(id) + 1);
	memcpy(k->secret, secret, strlen(secret) + 1);
	return 0;
}

static int cli_load_key(const char *data_dir, struct cli_key *k)
{
	char path[4096];
	json_error_t je;
	json_t *f;
	int rc;

	if (cli_copy_key(k, getenv("TENCENTCLOUD_SECRET_ID"), getenv("TENCENTCLOUD_SECRET_KEY")) == 0)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/credentials.json", data_dir) >= sizeof(path))
		return -1;
	f = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (f == NULL) {
		fprintf(stderr, "pgfleet: no key: set TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY "
			"or give --data-dir (%s: %s)\n", path, je.text);
		return -1;
	}
	rc = cli_copy_key(k, json_string_value(json_object_get(f, "secretId")),
			  json_string_value(json_object_get(f, "secretKey")));
	if (rc != 0)
		fprintf(stderr, "pgfleet: %s: secretId and secretKey must be non-empty strings\n", path);
	json_decref(f);
	return rc;
}

/* ---- HTTP ---------------------------------------------------------------- */

/* The endpoint as a URL with path "/", and its host name (no port). An
 * endpoint without a scheme ("127.0.0.1:9000") is taken as http. */
static int cli_endpoint(const char *endpoint, char **url, char host[256])
{
	CURLU *u = curl_url();
	char *h = NULL;
	int rc = -1;

	*url = NULL;
	if (u != NULL &&
	    curl_url_set(u, CURLUPART_URL, endpoint, CURLU_GUESS_SCHEME) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PATH, "/", 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && strlen(h) < 256 &&
	    curl_url_get(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		memcpy(host, h, strlen(h) + 1);
		rc = 0;
	}
	if (rc != 0)
		fprintf(stderr, "pgfleet: invalid endpoint '%s'\n", endpoint);
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}

static size_t cli_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct cli_buf *b = userdata;
	size_t n = size * nmemb;
	char *p;

	if (n > CLI_MAX_RESPONSE - b->len) {
		b->overflow = 1;
		return 0;
	}
	p = realloc(b->data, b->len + n + 1);
	if (p == NULL)
		return 0;
	memcpy(p + b->len, ptr, n);
	b->data = p;
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* Append "Name: value" to the header list. */
static int cli_header(struct curl_slist **list, const char *name, const char *value)
{
	char line[CLI_MAX_HEADER + 128];
	struct curl_slist *l;

	if ((size_t)snprintf(line, sizeof(line), "%s: %s", name, value) >= sizeof(line))
		return -1;
	l = curl_slist_append(*list, line);
	if (l == NULL)
		return -1;
	*list = l;
	return 0;
}

/* The X-TC-* headers and the Authorization for `body`. */
static struct curl_slist *cli_headers(const struct cli_opts *o, const struct cli_key *k,
				      const char *host, const char *body)
{
	char auth[CLI_MAX_HEADER], ts[24];
	time_t now = time(NULL);
	struct curl_slist *h = NULL;
	int bad;

	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	bad = sign_tc3_authorization(k->id, k->secret, CLI_SERVICE, "POST", host, "",
				     "application/json", body, strlen(body), (int64_t)now, auth,
				     sizeof(auth)) != 0 ||
	      cli_header(&h, "Content-Type", "application/json") != 0 ||
	      cli_header(&h, "X-TC-Action", o->action) != 0 ||
	      cli_header(&h, "X-TC-Version", CLI_VERSION) != 0 ||
	      cli_header(&h, "X-TC-Timestamp", ts) != 0 ||
	      cli_header(&h, "X-TC-RequestClient", "pgfleet-cli") != 0 ||
	      (o->region != NULL && cli_header(&h, "X-TC-Region", o->region) != 0) ||
	      (o->language != NULL && cli_header(&h, "X-TC-Language", o->language) != 0) ||
	      cli_header(&h, "Authorization", auth) != 0 ||
	      (h = curl_slist_append(h, "Expect:")) == NULL;
	if (!bad)
		return h;
	curl_slist_free_all(h);
	fputs("pgfleet: could not build the request headers\n", stderr);
	return NULL;
}

/* POST `body` to `url`; the response body into `resp`. Returns the HTTP
 * status, or -1 after printing the transport error. */
static long cli_post(const char *url, struct curl_slist *headers, const char *body,
		     struct cli_buf *resp)
{
	CURL *c = curl_easy_init();
	CURLcode rc = CURLE_FAILED_INIT;
	long status = -1;

	if (c != NULL) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cli_write_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, CLI_TIMEOUT_S);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	}
	if (rc != CURLE_OK)
		fprintf(stderr, "pgfleet: %s: %s\n", url,
			resp->overflow ? "response too large" : curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	return status;
}

/* Print the response pretty; the exit status it means. */
static int cli_print(long status, const struct cli_buf *resp)
{
	json_t *v = resp->data != NULL ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
	json_t *r = json_object_get(v, "Response");
	char *text = r != NULL ? json_dumps(v, JSON_INDENT(2)) : NULL;
	int rc = json_object_get(r, "Error") != NULL ? CLI_API_ERROR : CLI_OK;

	if (status != 200 || text == NULL) {
		fprintf(stderr, "pgfleet: HTTP %ld, %s response:\n%.*s\n", status,
			text == NULL ? "unexpected" : "error", (int)(resp->len > 4096 ? 4096 : resp->len),
			resp->data != NULL ? resp->data : "");
		rc = CLI_FAIL;
	} else {
		fputs(text, stdout);
		fputc('\n', stdout);
	}
	free(text);
	json_decref(v);
	return rc;
}

/* Sign, send and print one call. */
static int cli_call(const struct cli_opts *o, const struct cli_key *k, json_t *params)
{
	char host[256], *url = NULL, *body = json_dumps(params, JSON_COMPACT);
	struct cli_buf resp = { 0 };
	struct curl_slist *headers = NULL;
	int rc = CLI_FAIL;
	long status;

	if (body != NULL && cli_endpoint(o->endpoint, &url, host) == 0 &&
	    (headers = cli_headers(o, k, host, body)) != NULL) {
		status = cli_post(url, headers, body, &resp);
		if (status >= 0)
			rc = cli_print(status, &resp);
	}
	curl_slist_free_all(headers);
	curl_free(url);
	free(body);
	free(resp.data);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_key k;
	json_t *params;
	int rc = cli_parse_args(argc, argv, &o);

	if (rc != 0) {
		if (rc > 0)
			cli_usage(stdout);
		return rc > 0 ? CLI_OK : CLI_FAIL;
	}
	params = cli_params(&o);
	if (params == NULL || cli_load_key(o.data_dir, &k) != 0) {
		json_decref(params);
		return CLI_FAIL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		json_decref(params);
		return CLI_FAIL;
	}
	rc = cli_call(&o, &k, params);
	json_decref(params);
	curl_global_cleanup();
	return rc;
}
