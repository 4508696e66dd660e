/*
 * loadgen.c - HTTP/1.1 keep-alive load generator for the pgfleetd gateway
 * (and, as a baseline, any server that answers the same requests).
 *
 * It opens N connections to one loopback address and sends TC3-signed POST
 * requests (X-TC-Action from --action, round robin; body "{}"), signed once
 * at start with the project's sign_tc3_authorization() - TC3 has no nonce
 * and the timestamp stays valid for five minutes, so one signature serves a
 * whole run. One request is in flight per connection (no pipelining).
 *
 * Two modes:
 *   closed loop (default)  every connection sends its next request as soon as
 *                          the previous response is complete: max throughput;
 *                          latency = response time of each request.
 *   open loop (--rate R)   request i is due at start + i/R, whatever the
 *                          server does; a due request waits for an idle
 *                          connection if none is free, and its latency is
 *                          measured from the DUE time, not the send time, so
 *                          a stalled server is charged for every request it
 *                          delayed (no coordinated omission).
 *
 * Every response must be HTTP 200 with a Content-Length body; a body holding
 * "\"Error\"" counts as an API error (e.g. RequestLimitExceeded) and is
 * reported apart. Latencies of the whole measured period are kept and sorted
 * for exact percentiles. Output: a human summary and one JSON line.
 *
 * Single-threaded, epoll. Bounded: --duration caps the run, connections
 * only ever go to the given (loopback) address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "api/sign.h"

#define LG_MAX_CONNS    4096
#define LG_MAX_ACTIONS  8
#define LG_REQ_MAX      4096       /* one serialized request */
#define LG_RESP_MAX     (1u << 20) /* one response, headers + body */
#define LG_AUTH_MAX     1024

struct lg_opts {
	const char *host;            /* IPv4 literal, loopback */
	int port;
	int conns;
	double duration_s;
	double warmup_s;
	double rate;                 /* 0: closed loop */
	const char *actions[LG_MAX_ACTIONS];
	int nactions;
	const char *body;
	const char *credentials;     /* path of credentials.json */
	const char *label;
	int print_headers;           /* print the signed headers and exit (for wrk) */
};

struct lg_conn {
	int fd;
	int busy;                    /* a request is in flight */
	int64_t due_ns;              /* latency origin of the request in flight */
	size_t sent;                 /* bytes of the current request written */
	const char *req;
	size_t req_len;
	char *buf;                   /* response bytes */
	size_t len;
};

struct lg_stats {
	int64_t *lat_ns;
	size_t nlat, cap;
	uint64_t sent, ok, api_errors, http_errors, io_errors, reconnects;
	uint64_t unfinished;         /* due or in flight when the run ended */
};

struct lg_run {
	struct lg_opts o;
	char *reqs[LG_MAX_ACTIONS];
	size_t req_lens[LG_MAX_ACTIONS];
	int next_req;
	struct lg_conn *c;
	int ep;
	int tfd;                     /* open loop: timerfd armed at the next due time */
	struct sockaddr_in addr;
	struct lg_stats st;
	int64_t t_start, t_measure, t_end;
	uint64_t scheduled;          /* open loop: requests due so far */
	uint64_t backlog;            /* open loop: due but not yet sent */
	int64_t *backlog_due;        /* ring of due times */
	size_t backlog_cap, backlog_head;
};

static int64_t lg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void lg_die(const char *what)
{
	fprintf(stderr, "loadgen: %s\n", what);
	exit(2);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --port P [--host 127.0.0.1] [--connections N] [--duration S]\n"
		"               [--warmup S] [--rate R] --action NAME [--action NAME ...]\n"
		"               [--body JSON] --credentials FILE [--label TEXT] [--print-headers]\n");
	exit(2);
}

/* Parse argv into `o`; exits on error. */
static void lg_parse(struct lg_opts *o, int argc, char **argv)
{
	*o = (struct lg_opts){ .host = "127.0.0.1", .conns = 32, .duration_s = 10, .warmup_s = 1,
			       .body = "{}", .label = "" };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--print-headers") == 0) {
			o->print_headers = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--host") == 0)
			o->host = v;
		else if (strcmp(a, "--port") == 0)
			o->port = (int)strtol(v, NULL, 10);
		else if (strcmp(a, "--connections") == 0)
			o->conns = (int)strtol(v, NULL, 10);
		else if (strcmp(a, "--duration") == 0)
			o->duration_s = strtod(v, NULL);
		else if (strcmp(a, "--warmup") == 0)
			o->warmup_s = strtod(v, NULL);
		else if (strcmp(a, "--rate") == 0)
			o->rate = strtod(v, NULL);
		else if (strcmp(a, "--action") == 0 && o->nactions < LG_MAX_ACTIONS)
			o->actions[o->nactions++] = v;
		else if (strcmp(a, "--body") == 0)
			o->body = v;
		else if (strcmp(a, "--credentials") == 0)
			o->credentials = v;
		else if (strcmp(a, "--label") == 0)
			o->label = v;
		else
			usage();
	}
	if (o->port <= 0 || o->port > 65535 || o->conns < 1 || o->conns > LG_MAX_CONNS ||
	    o->nactions == 0 || o->credentials == NULL || o->duration_s <= 0 || o->duration_s > 600 ||
	    o->warmup_s < 0 || o->rate < 0)
		usage();
}

/* Read {"secretId","secretKey"} from `path` into the two buffers. */
static void lg_read_credentials(const char *path, char *id, size_t idlen, char *key, size_t keylen)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	const char *i = j ? json_string_value(json_object_get(j, "secretId")) : NULL;
	const char *k = j ? json_string_value(json_object_get(j, "secretKey")) : NULL;

	if (i == NULL || k == NULL || strlen(i) >= idlen || strlen(k) >= keylen)
		lg_die("cannot read secretId/secretKey from the credentials file");
	memcpy(id, i, strlen(i) + 1);
	memcpy(key, k, strlen(k) + 1);
	json_decref(j);
}

/* Serialize one signed request for `action` into a malloc'd buffer. */
static char *lg_build_request(const struct lg_opts *o, const char *action, const char *id, const char *key,
			      int64_t ts, size_t *len_out, int print_headers)
{
	char host[64], auth[LG_AUTH_MAX];
	const char *ct = "application/json";
	size_t blen = strlen(o->body);
	char *req = malloc(LG_REQ_MAX);
	int n;

	if (req == NULL)
		lg_die("out of memory");
	snprintf(host, sizeof(host), "%s:%d", o->host, o->port);
	if (sign_tc3_authorization(id, key, "postgres", "POST", host, "", ct, o->body, blen, ts, auth,
				   sizeof(auth)) != 0)
		lg_die("sign_tc3_authorization failed");
	if (print_headers) {
		printf("Host\t%s\nContent-Type\t%s\nX-TC-Action\t%s\nX-TC-Version\t2017-03-12\n"
		       "X-TC-Timestamp\t%lld\nAuthorization\t%s\n",
		       host, ct, action, (long long)ts, auth);
	}
	n = snprintf(req, LG_REQ_MAX,
		     "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nX-TC-Action: %s\r\n"
		     "X-TC-Version: 2017-03-12\r\nX-TC-Timestamp: %lld\r\nAuthorization: %s\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     host, ct, action, (long long)ts, auth, blen, o->body);
	if (n < 0 || n >= LG_REQ_MAX)
		lg_die("request too large");
	*len_out = (size_t)n;
	return req;
}

static void lg_ep_mod(struct lg_run *r, struct lg_conn *c, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (epoll_ctl(r->ep, op, c->fd, &ev) != 0 && op != EPOLL_CTL_DEL)
		lg_die("epoll_ctl failed");
}

/* (Re)open connection `c`; blocking connect on loopback is immediate. */
static void lg_conn_open(struct lg_run *r, struct lg_conn *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&r->addr, sizeof(r->addr)) != 0) {
		perror("loadgen: connect");
		exit(2);
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->busy = 0;
	c->len = 0;
	lg_ep_mod(r, c, EPOLLIN, EPOLL_CTL_ADD);
}

static void lg_conn_reopen(struct lg_run *r, struct lg_conn *c)
{
	lg_ep_mod(r, c, 0, EPOLL_CTL_DEL);
	close(c->fd);
	r->st.reconnects++;
	lg_conn_open(r, c);
}

static void lg_record(struct lg_run *r, int64_t due, int64_t now)
{
	struct lg_stats *s = &r->st;

	if (due < r->t_measure || due >= r->t_end)
		return;
	if (s->nlat == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		int64_t *n = realloc(s->lat_ns, cap * sizeof(*n));
		if (n == NULL)
			lg_die("out of memory");
		s->lat_ns = n;
		s->cap = cap;
	}
	s->lat_ns[s->nlat++] = now - due;
}

/* Try to write the rest of c's request. */
static void lg_flush(struct lg_run *r, struct lg_conn *c)
{
	while (c->sent < c->req_len) {
		ssize_t w = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			lg_ep_mod(r, c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
			return;
		}
		if (w <= 0) {
			r->st.io_errors++;
			lg_conn_reopen(r, c);
			return;
		}
		c->sent += (size_t)w;
	}
}

/* Start a request on idle connection `c`, due at `due`. */
static void lg_send(struct lg_run *r, struct lg_conn *c, int64_t due)
{
	int k = r->next_req;

	r->next_req = (r->next_req + 1) % r->o.nactions;
	c->busy = 1;
	c->due_ns = due;
	r->st.sent++;
	c->req = r->reqs[k];
	c->req_len = r->req_lens[k];
	c->sent = 0;
	c->len = 0;
	lg_flush(r, c);
}

/*
 * If c->buf holds a complete response, account for it and return its length;
 * 0 when more bytes are needed; -1 when the response is unusable.
 */
static long lg_parse_response(struct lg_run *r, struct lg_conn *c)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	size_t head, clen = 0;
	const char *p;
	int have_len = 0;

	if (end == NULL)
		return c->len >= LG_RESP_MAX ? -1 : 0;
	head = (size_t)(end - c->buf) + 4;
	for (p = c->buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
		p += (*p == '\n');
		if (strncasecmp(p, "Content-Length:", 15) == 0) {
			clen = strtoul(p + 15, NULL, 10);
			have_len = 1;
		}
	}
	if (!have_len || head + clen > LG_RESP_MAX)
		return -1;
	if (c->len < head + clen)
		return 0;
	if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0)
		r->st.http_errors++;
	else if (memmem(c->buf + head, clen, "\"Error\"", 7) != NULL)
		r->st.api_errors++;
	else
		r->st.ok++;
	return (long)(head + clen);
}

/* Take the next due request off the open-loop backlog, if any. */
static int lg_backlog_pop(struct lg_run *r, int64_t *due)
{
	if (r->backlog == 0)
		return 0;
	*due = r->backlog_due[r->backlog_head];
	r->backlog_head = (r->backlog_head + 1) % r->backlog_cap;
	r->backlog--;
	return 1;
}

static void lg_backlog_push(struct lg_run *r, int64_t due)
{
	if (r->backlog == r->backlog_cap)
		lg_die("open-loop backlog overflow: the server is far slower than --rate");
	r->backlog_due[(r->backlog_head + r->backlog) % r->backlog_cap] = due;
	r->backlog++;
}

/* A connection became idle at `now`: give it the next request, if any. */
static void lg_next(struct lg_run *r, struct lg_conn *c, int64_t now)
{
	int64_t due;

	c->busy = 0;
	if (now >= r->t_end)
		return;
	if (r->o.rate == 0)
		lg_send(r, c, now);
	else if (lg_backlog_pop(r, &due))
		lg_send(r, c, due);
}

static void lg_on_readable(struct lg_run *r, struct lg_conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->buf + c->len, LG_RESP_MAX - c->len, 0);
		long used;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (c->busy)
				r->st.io_errors++;
			lg_conn_reopen(r, c);
			lg_next(r, c, lg_now_ns());
			return;
		}
		c->len += (size_t)n;
		used = lg_parse_response(r, c);
		if (used < 0) {
			r->st.http_errors++;
			lg_conn_reopen(r, c);
			lg_next(r, c, lg_now_ns());
			return;
		}
		if (used > 0) {
			int64_t now = lg_now_ns();
			lg_record(r, c->due_ns, now);
			c->len = 0;
			lg_next(r, c, now);
			return;
		}
	}
}

/* Open loop: queue every request due by `now`, hand them to idle connections. */
static void lg_schedule(struct lg_run *r, int64_t now)
{
	double period = 1e9 / r->o.rate;

	for (;;) {
		int64_t due = r->t_start + (int64_t)((double)r->scheduled * period);
		if (due > now || due >= r->t_end)
			break;
		r->scheduled++;
		lg_backlog_push(r, due);
	}
	for (int i = 0; i < r->o.conns && r->backlog > 0; i++) {
		int64_t due;
		if (!r->c[i].busy && lg_backlog_pop(r, &due))
			lg_send(r, &r->c[i], due);
	}
}

static int lg_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double lg_pct_ms(const struct lg_stats *s, double q)
{
	size_t i;

	if (s->nlat == 0)
		return 0;
	i = (size_t)(q * (double)(s->nlat - 1) + 0.5);
	return (double)s->lat_ns[i] / 1e6;
}

static void lg_report(struct lg_run *r)
{
	struct lg_stats *s = &r->st;
	double secs = (double)(r->t_end - r->t_measure) / 1e9;
	double rps = (double)s->nlat / secs;

	qsort(s->lat_ns, s->nlat, sizeof(*s->lat_ns), lg_cmp);
	printf("%s mode=%s conns=%d duration=%.1fs rate=%.0f\n", r->o.label,
	       r->o.rate ? "open-loop" : "closed-loop", r->o.conns, secs, r->o.rate);
	printf("  requests/s %.0f   (measured %zu; sent %llu, ok %llu, api errors %llu, http errors %llu, io errors %llu, unfinished %llu, reconnects %llu)\n",
	       rps, s->nlat, (unsigned long long)s->sent, (unsigned long long)s->ok,
	       (unsigned long long)s->api_errors, (unsigned long long)s->http_errors,
	       (unsigned long long)s->io_errors, (unsigned long long)s->unfinished,
	       (unsigned long long)s->reconnects);
	printf("  latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", lg_pct_ms(s, .5),
	       lg_pct_ms(s, .9), lg_pct_ms(s, .99), lg_pct_ms(s, .999), lg_pct_ms(s, 1));
	printf("JSON {\"label\":\"%s\",\"mode\":\"%s\",\"conns\":%d,\"seconds\":%.2f,\"rate\":%.0f,"
	       "\"rps\":%.1f,\"measured\":%zu,\"ok\":%llu,\"api_errors\":%llu,\"http_errors\":%llu,"
	       "\"io_errors\":%llu,\"unfinished\":%llu,\"sent\":%llu,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
	       "\"max_ms\":%.3f}\n",
	       r->o.label, r->o.rate ? "open" : "closed", r->o.conns, secs, r->o.rate, rps, s->nlat,
	       (unsigned long long)s->ok, (unsigned long long)s->api_errors,
	       (unsigned long long)s->http_errors, (unsigned long long)s->io_errors,
	       (unsigned long long)s->unfinished, (unsigned long long)s->sent, lg_pct_ms(s, .5),
	       lg_pct_ms(s, .9), lg_pct_ms(s, .99), lg_pct_ms(s, .999), lg_pct_ms(s, 1));
}

static void lg_setup(struct lg_run *r)
{
	char id[256], key[256];
	int64_t ts = (int64_t)time(NULL);

	lg_read_credentials(r->o.credentials, id, sizeof(id), key, sizeof(key));
	for (int i = 0; i < r->o.nactions; i++)
		r->reqs[i] = lg_build_request(&r->o, r->o.actions[i], id, key, ts, &r->req_lens[i],
					      r->o.print_headers);
	if (r->o.print_headers)
		exit(0);
	memset(&r->addr, 0, sizeof(r->addr));
	r->addr.sin_family = AF_INET;
	r->addr.sin_port = htons((uint16_t)r->o.port);
	if (inet_pton(AF_INET, r->o.host, &r->addr.sin_addr) != 1 ||
	    (ntohl(r->addr.sin_addr.s_addr) >> 24) != 127)
		lg_die("--host must be an IPv4 loopback address");
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	r->c = calloc((size_t)r->o.conns, sizeof(*r->c));
	if (r->ep < 0 || r->tfd < 0 || r->c == NULL)
		lg_die("setup failed");
	struct epoll_event tev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->tfd, &tev) != 0)
		lg_die("epoll_ctl timerfd failed");
	for (int i = 0; i < r->o.conns; i++) {
		r->c[i].buf = malloc(LG_RESP_MAX);
		if (r->c[i].buf == NULL)
			lg_die("out of memory");
		lg_conn_open(r, &r->c[i]);
	}
	r->backlog_cap = r->o.rate > 0 ? (size_t)(r->o.rate * (r->o.duration_s + r->o.warmup_s)) + 16 : 1;
	r->backlog_due = calloc(r->backlog_cap, sizeof(*r->backlog_due));
	if (r->backlog_due == NULL)
		lg_die("out of memory");
}

/* Arm the timerfd at absolute monotonic time `at_ns` (microsecond-precise
 * wake-ups without spinning: the machine under test has only two cores). */
static void lg_timer_arm(struct lg_run *r, int64_t at_ns)
{
	struct itimerspec its = { .it_value = { .tv_sec = at_ns / 1000000000, .tv_nsec = at_ns % 1000000000 } };

	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		lg_die("timerfd_settime failed");
}

/* The event loop, until t_end and every in-flight request is done (or 5 s more). */
static void lg_loop(struct lg_run *r)
{
	struct epoll_event evs[256];
	int64_t hard_end = r->t_end + 5000000000LL;
	uint64_t ticks;

	for (;;) {
		int64_t now = lg_now_ns();
		int inflight = 0, n;

		if (r->o.rate > 0)
			lg_schedule(r, now); /* first: requests due just before t_end still go out */
		for (int i = 0; i < r->o.conns; i++)
			inflight += r->c[i].busy;
		if ((now >= r->t_end && inflight == 0 && r->backlog == 0) || now >= hard_end)
			break;
		if (r->o.rate > 0)
			lg_timer_arm(r, r->t_start + (int64_t)((double)r->scheduled * 1e9 / r->o.rate));
		n = epoll_wait(r->ep, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			struct lg_conn *c = evs[i].data.ptr;
			if (c == NULL) {
				if (read(r->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					lg_die("timerfd read failed");
				continue;
			}
			if (evs[i].events & EPOLLOUT) {
				lg_ep_mod(r, c, EPOLLIN, EPOLL_CTL_MOD);
				lg_flush(r, c);
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				lg_on_readable(r, c);
		}
	}
}

int main(int argc, char **argv)
{
	struct lg_run r = { 0 };

	lg_parse(&r.o, argc, argv);
	lg_setup(&r);
	r.t_start = lg_now_ns();
	r.t_measure = r.t_start + (int64_t)(r.o.warmup_s * 1e9);
	r.t_end = r.t_measure + (int64_t)(r.o.duration_s * 1e9);
	if (r.o.rate == 0)
		for (int i = 0; i < r.o.conns; i++)
			lg_send(&r, &r.c[i], r.t_start);
	lg_loop(&r);
	r.st.unfinished = r.backlog;
	for (int i = 0; i < r.o.conns; i++)
		r.st.unfinished += (uint64_t)r.c[i].busy;
	lg_report(&r);
	return (r.st.http_errors || r.st.io_errors || r.st.unfinished) ? 1 : 0;
}
