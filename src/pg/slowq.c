/*
 * slowq.c - see slowq.h.
 *
 * The hot path is slowq_parse + slowq_agg_add for every slow line: a few
 * byte compares to recognise the line, one sqlnorm pass (which hashes while
 * it writes) unless a statement of the same shape was seen recently (the
 * shape cache, see sqlnorm.h), a hash of user and database, and a probe of the open-addressing
 * index. Group text is cleaned and copied only when a group is created.
 */
#include "pg/slowq.h"

#include <stdlib.h>
#include <string.h>

#include "lib/sqlnorm.h"
#include "lib/textclip.h"

static const char *const slowq_bucket_names[SLOWQ_NBUCKETS] = {
	"1-2s", "2-3s", "3-4s", "4-5s", "5-6s", "6-7s", "7-8s", "8-9s", "9-10s",
	"10-20s", "20-30s", "30-40s", "40-50s", "50s-",
};

int slowq_bucket(double ms)
{
	double s = ms / 1000.0;

	if (s < 2)
		return 0;
	if (s < 10)
		return (int)s - 1;
	if (s < 50)
		return 9 + ((int)s - 10) / 10;
	return 13;
}

const char *slowq_bucket_name(int i)
{
	return i >= 0 && i < SLOWQ_NBUCKETS ? slowq_bucket_names[i] : "";
}

/* ---- recognising a statement ---- */

static bool slowq_prefix(const char **p, const char *end, const char *lit, size_t n)
{
	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* "1234.567" -> ms; advances *p. */
static bool slowq_number(const char **p, const char *end, double *out)
{
	const char *q = *p;
	double v = 0, scale = 0.1;

	/* the scales the loop below would compute by dividing: the same values,
	 * folded by the compiler (so the result is the same to the bit) */
	static const double scales[] = { 0.1, 0.1 / 10, 0.1 / 10 / 10, 0.1 / 10 / 10 / 10, 0.1 / 10 / 10 / 10 / 10,
					 0.1 / 10 / 10 / 10 / 10 / 10 };
	uint64_t whole = 0;
	int digits = 0;

	if (q >= end || *q < '0' || *q > '9')
		return false;
	/* up to 15 digits the integer part is exact in a uint64_t and a double alike */
	for (; q < end && *q >= '0' && *q <= '9' && digits < 15; q++, digits++)
		whole = whole * 10 + (uint64_t)(*q - '0');
	v = (double)whole;
	for (; q < end && *q >= '0' && *q <= '9'; q++)
		v = v * 10 + (*q - '0');
	if (q < end && *q == '.') {
		size_t k = 0;
		for (q++; q < end && *q >= '0' && *q <= '9' && k < sizeof(scales) / sizeof(scales[0]); q++, k++)
			v += (*q - '0') * scales[k];
		if (k == sizeof(scales) / sizeof(scales[0]))
			scale = scales[k - 1] / 10;
		for (; q < end && *q >= '0' && *q <= '9'; q++, scale /= 10)
			v += (*q - '0') * scale;
	}
	*p = q;
	*out = v;
	return true;
}

/* The message text (undoubled into the scratch when needed). */
static bool slowq_message(const struct pglog_field *f, struct slowq_scratch *sc, const char **p, size_t *n)
{
	if (!f->escaped) {
		*p = f->p;
		*n = f->len;
		return true;
	}
	if (sc->cap < (size_t)f->len + 1) {
		char *nb = realloc(sc->buf, (size_t)f->len + 1);
		if (nb == NULL)
			return false;
		sc->buf = nb;
		sc->cap = (size_t)f->len + 1;
	}
	*n = pglog_field_copy(f, sc->buf, sc->cap);
	*p = sc->buf;
	return true;
}

bool slowq_parse(const struct pglog_rec *r, struct slowq_scratch *sc, struct slowq_stmt *s)
{
	const struct pglog_field *sev = &r->f[PGLOG_SEVERITY];
	const struct pglog_field *msg = &r->f[PGLOG_MESSAGE];
	const char *p, *end;
	size_t n;

	if (sev->len != 3 || memcmp(sev->p, "LOG", 3) != 0 || msg->len < 10 || memcmp(msg->p, "duration: ", 10) != 0 ||
	    r->time_ms == INT64_MIN || !slowq_message(msg, sc, &p, &n))
		return false;
	end = p + n;
	p += 10;
	if (!slowq_number(&p, end, &s->duration_ms) || !slowq_prefix(&p, end, " ms  ", 5))
		return false;
	if (slowq_prefix(&p, end, "statement: ", 11)) {
		/* simple protocol */
	} else if (slowq_prefix(&p, end, "execute ", 8)) {
		const char *colon = memmem(p, (size_t)(end - p), ": ", 2);
		if (colon == NULL)
			return false;
		p = colon + 2;
	} else {
		return false;
	}
	s->text = p;
	s->text_len = (size_t)(end - p);
	s->end_ms = r->time_ms;
	s->start_ms = r->time_ms - (int64_t)(s->duration_ms + 0.5);
	return true;
}

void slowq_scratch_free(struct slowq_scratch *sc)
{
	free(sc->buf);
	sc->buf = NULL;
	sc->cap = 0;
}

void slowq_client_host(const struct pglog_field *f, char *out, size_t cap)
{
	const char *p = f->p;
	size_t n = f->len;
	const char *colon = n > 0 ? memrchr(p, ':', n) : NULL;

	if (colon != NULL && colon > p && colon + 1 < p + n && colon[1] >= '0' && colon[1] <= '9')
		n = (size_t)(colon - p);
	textclip_utf8(p, n, out, cap, NULL);
}

/* ---- the aggregate ---- */

void slowq_agg_init(struct slowq_agg *a, int ngrids, int64_t from_ms, int64_t to_ms)
{
	memset(a, 0, sizeof(*a));
	if (ngrids > SLOWQ_GRIDS_MAX)
		ngrids = SLOWQ_GRIDS_MAX;
	if (ngrids > 0) {
		a->ngrids = ngrids;
		a->grid_from_ms = from_ms;
		a->grid_width_ms = (to_ms - from_ms) / ngrids + 1;
	}
}

static char *slowq_dup_field(const struct pglog_field *f)
{
	char raw[256], clean[256 * 3 + 1];

	pglog_field_copy(f, raw, sizeof(raw));
	textclip_utf8(raw, strlen(raw), clean, sizeof(clean), NULL);
	return strdup(clean);
}

static bool slowq_index_grow(struct slowq_agg *a)
{
	size_t cap = a->index_cap ? a->index_cap * 2 : 1024;
	uint32_t *idx = calloc(cap, sizeof(*idx));

	if (idx == NULL)
		return false;
	for (size_t g = 0; g < a->ngroups; g++) {
		size_t i = (size_t)a->groups[g].key & (cap - 1);
		while (idx[i] != 0)
			i = (i + 1) & (cap - 1);
		idx[i] = (uint32_t)(g + 1);
	}
	free(a->index);
	a->index = idx;
	a->index_cap = cap;
	return true;
}

/* The group of `key`, created (with text from `make`) when new; NULL when
 * memory ran out. */
static struct slowq_group *slowq_find(struct slowq_agg *a, uint64_t key, bool *created)
{
	size_t i;

	*created = false;
	if ((a->ngroups + 1) * 2 > a->index_cap && !slowq_index_grow(a))
		return NULL;
	for (i = (size_t)key & (a->index_cap - 1); a->index[i] != 0; i = (i + 1) & (a->index_cap - 1))
		if (a->groups[a->index[i] - 1].key == key)
			return &a->groups[a->index[i] - 1];
	if (a->ngroups == a->cap) {
		size_t want = a->cap ? a->cap * 2 : 64;
		struct slowq_group *ng = realloc(a->groups, want * sizeof(*ng));
		if (ng == NULL)
			return NULL;
		a->groups = ng;
		a->cap = want;
	}
	struct slowq_group *g = &a->groups[a->ngroups];
	memset(g, 0, sizeof(*g));
	g->key = key;
	a->index[i] = (uint32_t)(++a->ngroups);
	*created = true;
	return g;
}

/* The group of `key` in a, if there is one. */
static struct slowq_group *slowq_lookup(struct slowq_agg *a, uint64_t key)
{
	if (a->index_cap == 0)
		return NULL;
	for (size_t i = (size_t)key & (a->index_cap - 1); a->index[i] != 0; i = (i + 1) & (a->index_cap - 1))
		if (a->groups[a->index[i] - 1].key == key)
			return &a->groups[a->index[i] - 1];
	return NULL;
}

/* Fill a new group's strings; false when out of memory. */
static bool slowq_group_init(struct slowq_agg *a, struct slowq_group *g, const char *text, size_t len,
			     const struct pglog_rec *r)
{
	char *clean = malloc(len * 3 + 1), *fit;
	size_t n;

	if (clean == NULL)
		return false;
	n = textclip_utf8(text, len, clean, len * 3 + 1, NULL);
	fit = realloc(clean, n + 1);
	g->query = fit ? fit : clean;
	g->user = r ? slowq_dup_field(&r->f[PGLOG_USER]) : strdup("");
	g->db = r ? slowq_dup_field(&r->f[PGLOG_DB]) : strdup("");
	if (a->ngrids > 0)
		g->grids = calloc((size_t)a->ngrids, sizeof(*g->grids));
	return g->user != NULL && g->db != NULL && (a->ngrids == 0 || g->grids != NULL);
}

static void slowq_group_count(struct slowq_agg *a, struct slowq_group *g, const struct slowq_stmt *s)
{
	if (g->calls == 0 || s->duration_ms < g->min_ms)
		g->min_ms = s->duration_ms;
	if (g->calls == 0 || s->duration_ms > g->max_ms)
		g->max_ms = s->duration_ms;
	if (g->calls == 0 || s->start_ms < g->first_ms)
		g->first_ms = s->start_ms;
	if (g->calls == 0 || s->start_ms > g->last_ms)
		g->last_ms = s->start_ms;
	g->calls++;
	g->total_ms += s->duration_ms;
	if (g->grids != NULL && s->start_ms >= a->grid_from_ms) {
		int64_t k = (s->start_ms - a->grid_from_ms) / a->grid_width_ms;
		if (k < a->ngrids)
			g->grids[k]++;
	}
}

static void slowq_group_client(struct slowq_group *g, const struct pglog_rec *r, bool first)
{
	char host[64];

	if (g->client_mixed)
		return;
	if (!first) {
		/* the usual case: the same plain host as before, compared raw */
		const struct pglog_field *f = &r->f[PGLOG_CONN_FROM];
		const char *colon = f->len > 0 ? memrchr(f->p, ':', f->len) : NULL;
		size_t n = colon != NULL ? (size_t)(colon - f->p) : f->len;
		if (n < sizeof(g->client) && g->client[n] == '\0' && memcmp(g->client, f->p, n) == 0)
			return;
	}
	slowq_client_host(&r->f[PGLOG_CONN_FROM], host, sizeof(host));
	if (first) {
		memcpy(g->client, host, sizeof(host));
	} else if (strcmp(g->client, host) != 0) {
		g->client_mixed = true;
		g->client[0] = '\0';
	}
}

static uint64_t slowq_key(const struct pglog_rec *r, uint64_t fp)
{
	const struct pglog_field *u = &r->f[PGLOG_USER], *d = &r->f[PGLOG_DB];
	uint64_t k = sqlnorm_hash(u->p, u->len, fp);

	k = sqlnorm_hash(d->p, d->len, k);
	return k ? k : 1;   /* 0 is the overflow group's */
}

/* The fingerprint and normalised length of a statement, through the shape
 * cache (a statement like one seen before is not normalised again).
 * *normed says whether a->norm holds this statement's text. */
static void slowq_fingerprint(struct slowq_agg *a, const struct slowq_stmt *s, struct sqlnorm *nr, bool *normed)
{
	if (a->shapes == NULL)
		a->shapes = sqlnorm_cache_new();   /* NULL: every statement normalised */
	*normed = !sqlnorm_cached(a->shapes, s->text, s->text_len, a->norm, sizeof(a->norm), nr);
}

/* The group a statement belongs to (the overflow group past the cap). */
static struct slowq_group *slowq_group_for(struct slowq_agg *a, const struct pglog_rec *r,
					   const struct slowq_stmt *s)
{
	struct sqlnorm nr;
	struct slowq_group *g;
	bool created, normed;
	uint64_t key;

	slowq_fingerprint(a, s, &nr, &normed);
	key = slowq_key(r, nr.fingerprint);
	if (a->ngroups >= SLOWQ_GROUPS_MAX) {
		/* only existing groups, else the overflow group */
		if ((g = slowq_lookup(a, key)) != NULL)
			return g;
		key = 0;
		r = NULL;
	}
	g = slowq_find(a, key, &created);
	if (g == NULL)
		return NULL;
	if (created && key != 0 && !normed)
		sqlnorm_run(s->text, s->text_len, a->norm, sizeof(a->norm), &nr);
	if (created && !(key == 0 ? slowq_group_init(a, g, SLOWQ_OVERFLOW_TEXT, strlen(SLOWQ_OVERFLOW_TEXT), NULL)
				  : slowq_group_init(a, g, a->norm, nr.len < SLOWQ_TEXT_MAX ? nr.len : SLOWQ_TEXT_MAX, r)))
		a->failed = true;
	if (r != NULL)
		slowq_group_client(g, r, created);
	else
		g->client_mixed = true;
	return g;
}

void slowq_agg_add(struct slowq_agg *a, const struct pglog_rec *r, const struct slowq_stmt *s)
{
	struct slowq_group *g = slowq_group_for(a, r, s);

	a->total_calls++;
	a->total_ms += s->duration_ms;
	a->buckets[slowq_bucket(s->duration_ms)]++;
	if (g == NULL) {
		a->failed = true;
		return;
	}
	slowq_group_count(a, g, s);
}

static void slowq_merge_group(struct slowq_agg *dst, const struct slowq_group *sg)
{
	bool created;
	struct slowq_group *g;

	if (sg->key != 0 && dst->ngroups >= SLOWQ_GROUPS_MAX && slowq_lookup(dst, sg->key) == NULL) {
		/* past the cap: counted in the overflow group, as slowq_agg_add does */
		struct slowq_group over = *sg;
		over.key = 0;
		over.query = SLOWQ_OVERFLOW_TEXT;
		over.user = over.db = "";
		over.client_mixed = true;
		over.client[0] = '\0';
		slowq_merge_group(dst, &over);
		return;
	}
	g = slowq_find(dst, sg->key, &created);
	if (g == NULL) {
		dst->failed = true;
		return;
	}
	if (created) {
		*g = *sg;
		g->query = strdup(sg->query);
		g->user = strdup(sg->user);
		g->db = strdup(sg->db);
		g->grids = NULL;
		if (sg->grids != NULL && (g->grids = malloc((size_t)dst->ngrids * sizeof(*g->grids))) != NULL)
			memcpy(g->grids, sg->grids, (size_t)dst->ngrids * sizeof(*g->grids));
		if (g->query == NULL || g->user == NULL || g->db == NULL)
			dst->failed = true;
		return;
	}
	if (sg->min_ms < g->min_ms)
		g->min_ms = sg->min_ms;
	if (sg->max_ms > g->max_ms)
		g->max_ms = sg->max_ms;
	if (sg->first_ms < g->first_ms)
		g->first_ms = sg->first_ms;
	if (sg->last_ms > g->last_ms)
		g->last_ms = sg->last_ms;
	g->calls += sg->calls;
	g->total_ms += sg->total_ms;
	if (!g->client_mixed && (sg->client_mixed || strcmp(g->client, sg->client) != 0)) {
		g->client_mixed = true;
		g->client[0] = '\0';
	}
	for (int i = 0; g->grids != NULL && sg->grids != NULL && i < dst->ngrids; i++)
		g->grids[i] += sg->grids[i];
}

void slowq_agg_merge(struct slowq_agg *dst, const struct slowq_agg *src)
{
	dst->total_calls += src->total_calls;
	dst->total_ms += src->total_ms;
	for (int i = 0; i < SLOWQ_NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->failed |= src->failed;
	for (size_t i = 0; i < src->ngroups; i++)
		slowq_merge_group(dst, &src->groups[i]);
}

void slowq_agg_free(struct slowq_agg *a)
{
	for (size_t i = 0; i < a->ngroups; i++) {
		free(a->groups[i].query);
		free(a->groups[i].user);
		free(a->groups[i].db);
		free(a->groups[i].grids);
	}
	free(a->groups);
	free(a->index);
	sqlnorm_cache_free(a->shapes);
	a->groups = NULL;
	a->index = NULL;
	a->shapes = NULL;
	a->ngroups = a->cap = a->index_cap = 0;
}
