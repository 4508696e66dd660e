/*
 * fuzz_request.c - libFuzzer target for the request decoder and the
 * signature canonicaliser (`make fuzz`).
 *
 * An input is a textual HTTP request, which keeps the seed corpus readable
 * (tests/fuzz/corpus holds requests captured from the official Node SDK):
 *
 *   METHOD[ CONTENT-TYPE]\n     the selector; a content type here is sent
 *   Name: value\n ...           up to FUZZ_MAX_HEADERS headers
 *   \n                          end of headers
 *   QUERY\n                     raw query string (may be empty)
 *   BODY                        the rest, raw bytes
 *
 * Each input is decoded with req_decode(); when that succeeds it is verified
 * with a fixed key at "now" = its own timestamp (so the canonical request is
 * built and hashed rather than stopping at the expiry check), and its
 * parameters are flattened again. Besides crashes, leaks and sanitizer
 * reports, the target aborts when an invariant the gateway relies on breaks:
 * error messages and decoded parameters must be valid UTF-8 (they become a
 * JSON response), and a failure must leave nothing to free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/request.h"
#include "api/sign.h"
#include "lib/utf8.h"

#define FUZZ_MAX_INPUT   (256u * 1024u)
#define FUZZ_MAX_HEADERS 16
#define FUZZ_KEY         "fuzz-secret-key-0123456789abcdef"
#define FUZZ_WINDOW      300

struct fuzz_req {
	char *text;                      /* NUL-terminated copy of the head */
	char *query;                     /* own allocation: ASan sees overreads */
	char *body;                      /* exactly body_len bytes, NULL when empty */
	struct req_header h[FUZZ_MAX_HEADERS];
	struct req_http http;
};

/* Cut the line starting at *p (at '\n' or the end); returns it. */
static char *fuzz_line(char **p)
{
	char *line = *p, *nl = strchr(line, '\n');

	if (nl != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

/* "Name: value" -> a header; lines without ':' are ignored. */
static void fuzz_header(struct fuzz_req *f, char *line)
{
	char *colon = strchr(line, ':');

	if (colon == NULL || f->http.nheaders >= FUZZ_MAX_HEADERS)
		return;
	*colon = '\0';
	colon++;
	colon += strspn(colon, " ");
	f->h[f->http.nheaders].name = line;
	f->h[f->http.nheaders].value = colon;
	f->http.nheaders++;
}

/* Split the input; the head (up to the query line) must hold no NUL byte. */
static int fuzz_parse(const uint8_t *data, size_t size, struct fuzz_req *f)
{
	const uint8_t *blank = memmem(data, size, "\n\n", 2);
	size_t head = size, blen;
	char *p, *sel, *sp;

	memset(f, 0, sizeof(*f));
	if (blank != NULL) {
		const uint8_t *nl = memchr(blank + 2, '\n', (size_t)(data + size - blank - 2));
		head = nl != NULL ? (size_t)(nl + 1 - data) : size;
	}
	if (memchr(data, '\0', head) != NULL || (f->text = malloc(head + 1)) == NULL)
		return -1;
	memcpy(f->text, data, head);
	f->text[head] = '\0';
	p = f->text;
	sel = fuzz_line(&p);
	if ((sp = strchr(sel, ' ')) != NULL) {
		*sp = '\0';
		f->h[f->http.nheaders].name = "Content-Type";
		f->h[f->http.nheaders++].value = sp + 1;
	}
	while (*p != '\0' && *p != '\n')
		fuzz_header(f, fuzz_line(&p));
	if (*p == '\n')
		p++;
	f->query = strdup(fuzz_line(&p));
	blen = size - head;
	f->body = blen > 0 ? malloc(blen) : NULL;
	if (f->query == NULL || (blen > 0 && f->body == NULL))
		return -1;
	if (blen > 0)
		memcpy(f->body, data + head, blen);
	f->http = (struct req_http){ .method = sel, .query = f->query, .body = f->body,
				     .body_len = blen, .headers = f->h,
				     .nheaders = f->http.nheaders };
	return 0;
}

static void fuzz_free(struct fuzz_req *f)
{
	free(f->text);
	free(f->query);
	free(f->body);
}

static void fuzz_check_ok(const struct req_http *http, struct req_decoded *d)
{
	struct req_kv *kv;
	size_t n;
	struct err e;
	char *dump = json_dumps(d->params, JSON_COMPACT);

	if (dump == NULL || !json_is_object(d->params))
		abort();
	free(dump);
	if (sign_verify(http, d, FUZZ_KEY, d->timestamp, FUZZ_WINDOW, &e) != 0 &&
	    !utf8_valid(e.msg, strlen(e.msg)))
		abort();
	if (req_flatten(d->params, &kv, &n, &e) == 0)
		req_kv_free(kv, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_req f;
	struct req_decoded d;
	struct err e;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	if (fuzz_parse(data, size, &f) != 0) {
		fuzz_free(&f);
		return 0;
	}
	if (req_decode(&f.http, &d, &e) == 0) {
		fuzz_check_ok(&f.http, &d);
	} else if (!utf8_valid(e.msg, strlen(e.msg)) || d.params != NULL || d.pairs != NULL) {
		abort();
	}
	req_decoded_free(&d);
	fuzz_free(&f);
	return 0;
}
