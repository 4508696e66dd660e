/*
 * pglog.c - see pglog.h: the CSV record parser, timestamps, the streaming
 * file reader.
 *
 * The parser walks a record field by field: a quoted field is scanned for
 * its next quote (a doubled quote continues it), an unquoted one for the
 * next comma or newline, sixteen bytes per compare with SSE2; the masks of
 * the last sixteen bytes are kept, so the next field, when it ends within
 * them (csvlog has many short fields), costs no new compare. (A 64-byte
 * bitmask parser - prefix-XOR quote regions, separators by trailing-zero
 * counts - measured no faster on csvlog's short fields, so the simple one
 * stays; see bench/logs/RESULTS.md.) The reader keeps a buffer of
 * PGLOG_READ_CHUNK..PGLOG_RECORD_MAX bytes: an incomplete record at its end
 * is moved to the front and more is read; a record that does not fit even
 * the largest buffer is skipped by a quote-parity scan (a doubled quote
 * toggles twice, so parity says whether a newline ends the record).
 */
#include "pg/pglog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- timestamps ---- */

static int pglog_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t pglog_days(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* Seconds east of UTC of a zone text ("UTC", "+08", "-05:30"); 0 if unknown. */
static int64_t pglog_zone(const char *z, size_t n)
{
	int hh = 0, mm = 0;

	if (n >= 3 && (z[0] == '+' || z[0] == '-') && pglog_digits(z + 1, 2, &hh) == 0) {
		const char *m = z + 3;
		size_t left = n - 3;
		if (left >= 1 && *m == ':') {
			m++;
			left--;
		}
		if (left >= 2 && pglog_digits(m, 2, &mm) != 0)
			mm = 0;
		return (z[0] == '-' ? -1 : 1) * (int64_t)(hh * 3600 + mm * 60);
	}
	return 0;
}

/* Split "date time[.frac] [zone]": seconds of the date-time part, the
 * milliseconds, and where the zone starts. */
static int pglog_time_split(const char *s, size_t len, int64_t *secs, int *ms, size_t *zone)
{
	int y, mo, d, h, mi, sec;
	size_t i = 19;

	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
	    s[16] != ':' || pglog_digits(s, 4, &y) || pglog_digits(s + 5, 2, &mo) ||
	    pglog_digits(s + 8, 2, &d) || pglog_digits(s + 11, 2, &h) || pglog_digits(s + 14, 2, &mi) ||
	    pglog_digits(s + 17, 2, &sec) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	*ms = 0;
	if (i < len && s[i] == '.') {
		int scale = 100;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
			*ms += (s[i] - '0') * scale;
	}
	while (i < len && s[i] == ' ')
		i++;
	*zone = i;
	*secs = pglog_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

int pglog_time_parse(const char *s, size_t len, int64_t *out)
{
	int64_t secs;
	int ms;
	size_t z;

	if (pglog_time_split(s, len, &secs, &ms, &z) != 0)
		return -1;
	*out = (secs - pglog_zone(s + z, len - z)) * 1000 + ms;
	return 0;
}

/* End of "HH:MM:SS[.fff]" in a time text: where its zone part starts. */
static size_t pglog_frac_end(const char *s, size_t len)
{
	size_t i = 19;

	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
	return i;
}

/* Milliseconds of the fraction s[19..end) (".mmm" as the server writes
 * it, or any other number of digits). */
static int pglog_frac_ms(const char *s, size_t end)
{
	int ms = 0, scale = 100;

	if (end == 23)
		return (s[20] - '0') * 100 + (s[21] - '0') * 10 + (s[22] - '0');
	for (size_t i = 20; i < end; i++, scale /= 10)
		ms += (s[i] - '0') * scale;
	return ms;
}

/* log_time of a record, reusing the last second when it repeats (the key
 * is the text without its fraction). */
static int64_t pglog_time_cached(struct pglog_rec *r, const char *s, size_t len)
{
	size_t fe, zl;
	int64_t secs;
	int ms;
	size_t z;

	if (len < 19)
		return INT64_MIN;
	fe = pglog_frac_end(s, len);
	zl = len - fe;
	if (r->tkey_len == 19 + zl && memcmp(s, r->tkey, 19) == 0 && memcmp(s + fe, r->tkey + 19, zl) == 0)
		return r->tkey_s * 1000 + pglog_frac_ms(s, fe);
	if (pglog_time_split(s, len, &secs, &ms, &z) != 0)
		return INT64_MIN;
	secs -= pglog_zone(s + z, len - z);
	if (19 + zl < sizeof(r->tkey)) {
		memcpy(r->tkey, s, 19);
		memcpy(r->tkey + 19, s + fe, zl);
		r->tkey_len = (uint32_t)(19 + zl);
		r->tkey_s = secs;
	}
	return secs * 1000 + ms;
}

/* ---- records ---- */

/* Sixteen bytes of a record classified once: several short fields often
 * end in the same sixteen bytes, and the next field's search reuses them. */
struct pglog_win {
	const char *at, *end;    /* [at, end): the bytes classified; empty at first */
	unsigned sep;            /* bit i: at[i] is ',', '\n' or '"' */
	unsigned quote;          /* bit i: at[i] is '"' */
};

/* The first byte at or after p whose bit is set in the window's `sep`
 * (quote_only: `quote`) masks, reloading sixteen bytes at a time (with
 * SSE2; bytewise near the end of the buffer). Returns end (quote_only:
 * NULL) when there is none. */
static inline const char *pglog_find(struct pglog_win *w, const char *p, const char *end, bool quote_only)
{
#ifdef __SSE2__
	for (;;) {
		if (p >= w->end) {
			if (end - p < 16)
				break;
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			__m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
			w->quote = (unsigned)_mm_movemask_epi8(q);
			w->sep = (unsigned)_mm_movemask_epi8(_mm_or_si128(
				_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\n'))), q));
			w->at = p;
			w->end = p + 16;
		}
		unsigned m = (quote_only ? w->quote : w->sep) >> (p - w->at);
		if (m != 0)
			return p + __builtin_ctz(m);
		p = w->end;
	}
#endif
	if (quote_only) {
		for (; p < end; p++)
			if (*p == '"')
				return p;
		return NULL;
	}
	while (p < end && *p != ',' && *p != '\n' && *p != '"')
		p++;
	return p;
}

/* A bad record: skip to the end of the line where the error is (p). */
static enum pglog_status pglog_bad(const char *buf, const char *p, const char *end, size_t *used)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (nl == NULL)
		return PGLOG_INCOMPLETE;
	*used = (size_t)(nl + 1 - buf);
	return PGLOG_BAD;
}

/* One quoted field at p (on the opening quote); *next = past the closing
 * quote. NULL: incomplete. */
static const char *pglog_quoted(struct pglog_win *w, const char *p, const char *end, struct pglog_field *f)
{
	const char *s = ++p;

	for (;;) {
		const char *q = pglog_find(w, p, end, true);
		if (q == NULL || q + 1 >= end)
			return NULL;
		if (q[1] == '"') {
			f->escaped = true;
			p = q + 2;
			continue;
		}
		f->p = s;
		f->len = (uint32_t)(q - s);
		return q + 1;
	}
}

/* Bits set in a 16-bit mask (SWAR: no POPCNT instruction is assumed). */
static inline unsigned pglog_pop16(unsigned x)
{
	x = x - ((x >> 1) & 0x5555u);
	x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
	x = (x + (x >> 4)) & 0x0f0fu;
	return (x + (x >> 8)) & 0x1fu;
}

/* The rest of a record from p (the start of a field) only scanned: its
 * end is the first newline outside quotes, found by quote parity (a
 * doubled quote toggles twice) sixteen bytes at a time, and its commas
 * outside quotes are counted into *n. *next: past the newline. Returns 1,
 * 0 when the buffer ends first, -1 when a newline lies inside quotes: a
 * multi-line field, or a stray quote that would swallow the next records,
 * which only the field loop tells apart. */
static int pglog_skip_rest(const char *p, const char *end, int *n, const char **next)
{
	unsigned inq = 0;   /* inside quotes at p: 0 or 0xffff */
	int k = 1;

#ifdef __SSE2__
	for (; end - p >= 16; p += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
		unsigned c = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')));
		unsigned nl = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
		unsigned inside = q;
		inside ^= inside << 1;
		inside ^= inside << 2;
		inside ^= inside << 4;
		inside ^= inside << 8;
		inside = (inside ^ inq) & 0xffffu;
		inq = inside & 0x8000u ? 0xffffu : 0;
		c &= ~inside;
		if (nl != 0) {
			unsigned first = nl & -nl;
			if (first & inside)
				return -1;
			*n += k + (int)pglog_pop16(c & (first - 1));
			*next = p + __builtin_ctz(nl) + 1;
			return 1;
		}
		k += (int)pglog_pop16(c);
	}
#endif
	for (; p < end; p++) {
		if (*p == '"') {
			inq ^= 0xffffu;
		} else if (*p == '\n') {
			if (inq)
				return -1;
			*n += k;
			*next = p + 1;
			return 1;
		} else if (!inq && *p == ',') {
			k++;
		}
	}
	return 0;
}

/* The fields of one record; *nout receives how many there are (those past
 * PGLOG_FIELDS_MAX are counted, not kept). Past `cols` fields (0: none),
 * the rest is only scanned (pglog_skip_rest). */
static enum pglog_status pglog_parse_fields(const char *buf, size_t len, struct pglog_rec *r, size_t *used, int *nout,
					    int cols, bool *skipped)
{
	const char *p = buf, *end = buf + len;
	struct pglog_win w = { .at = buf, .end = buf, .sep = 0, .quote = 0 };
	int n = 0;

	for (;;) {
		struct pglog_field f = { .p = p, .len = 0, .escaped = false };
		if (p >= end)
			return PGLOG_INCOMPLETE;
		if (*p == ',') {
			/* an empty field: half of a csvlog record's fields are */
		} else if (*p == '"') {
			p = pglog_quoted(&w, p, end, &f);
			if (p == NULL)
				return PGLOG_INCOMPLETE;
			if (*p != ',' && *p != '\n')
				return pglog_bad(buf, p, end, used);
		} else {
			const char *s = p;
			p = pglog_find(&w, p, end, false);
			if (p >= end)
				return PGLOG_INCOMPLETE;
			if (*p == '"')
				return pglog_bad(buf, p, end, used);
			f.len = (uint32_t)(p - s);
		}
		if (n < PGLOG_FIELDS_MAX)
			r->f[n] = f;
		n++;
		if (*p++ == '\n')
			break;
		if (n == cols) {
			int k = pglog_skip_rest(p, end, &n, &p);
			if (k < 0) {
				r->head_cols = 0;   /* the fields past cols are about to be written */
				return pglog_parse_fields(buf, len, r, used, nout, 0, skipped);
			}
			if (k == 0)
				return PGLOG_INCOMPLETE;
			*skipped = true;
			break;
		}
	}
	*used = (size_t)(p - buf);
	*nout = n;
	return PGLOG_OK;
}

enum pglog_status pglog_parse_head(const char *buf, size_t len, struct pglog_rec *r, size_t *used, int cols)
{
	int n = 0;
	bool skipped = false;
	enum pglog_status st;

	if (cols != r->head_cols)
		r->head_cols = 0;   /* this parse may write fields that were cleared */
	st = pglog_parse_fields(buf, len, r, used, &n, cols, &skipped);

	if (st != PGLOG_OK)
		return st;
	if (n < PGLOG_COLS_MIN || n > PGLOG_FIELDS_MAX)
		return PGLOG_BAD;
	if (!skipped) {
		r->head_cols = 0;
	} else if (r->head_cols != cols) {
		/* the skipped fields read as empty; they stay so while the
		 * same columns are skipped */
		for (int i = cols; i < PGLOG_FIELDS_MAX; i++)
			r->f[i] = (struct pglog_field){ .p = "", .len = 0, .escaped = false };
		r->head_cols = cols;
	}
	for (int i = n; i < PGLOG_NCOLS; i++)
		r->f[i] = (struct pglog_field){ .p = "", .len = 0, .escaped = false };
	r->nfields = n;
	r->time_ms = pglog_time_cached(r, r->f[PGLOG_LOG_TIME].p, r->f[PGLOG_LOG_TIME].len);
	return PGLOG_OK;
}

enum pglog_status pglog_parse(const char *buf, size_t len, struct pglog_rec *r, size_t *used)
{
	return pglog_parse_head(buf, len, r, used, 0);
}

size_t pglog_field_copy(const struct pglog_field *f, char *out, size_t cap)
{
	size_t o = 0;

	if (!f->escaped) {
		o = f->len < cap - 1 ? f->len : cap - 1;
		memcpy(out, f->p, o);
	} else {
		/* runs up to each quote copied whole; the quote's double skipped */
		const char *p = f->p, *end = f->p + f->len;
		while (p < end && o < cap - 1) {
			const char *q = memchr(p, '"', (size_t)(end - p));
			size_t run = (size_t)((q != NULL ? q + 1 : end) - p);
			if (run > cap - 1 - o)
				run = cap - 1 - o;
			memcpy(out + o, p, run);
			o += run;
			p += run;
			if (q != NULL && p == q + 1 && p < end && *p == '"')
				p++;
		}
	}
	out[o] = '\0';
	return o;
}

bool pglog_field_eq(const struct pglog_field *f, const char *s)
{
	size_t n = strlen(s);

	if (!f->escaped)
		return f->len == n && memcmp(f->p, s, n) == 0;
	char buf[256];
	if (n >= sizeof(buf) || f->len > 2 * sizeof(buf))
		return false;
	return pglog_field_copy(f, buf, sizeof(buf)) == n && memcmp(buf, s, n) == 0;
}

/* ---- the reader ---- */

int pglog_reader_open(struct pglog_reader *r, const char *path, off_t start, struct err *e)
{
	memset(r, 0, sizeof(*r));
	r->stop = -1;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		log_warn("pglog", "open %s: %s", path, strerror(errno));
		return err_set(e, ERR_INTERNAL_ERROR, "cannot read a log file");
	}
	if (start > 0 && lseek(r->fd, start, SEEK_SET) != start) {
		log_warn("pglog", "seek %s: %s", path, strerror(errno));
		close(r->fd);
		r->fd = -1;
		return err_set(e, ERR_INTERNAL_ERROR, "cannot read a log file");
	}
	r->offset = start;
	r->cap = PGLOG_READ_CHUNK;
	r->buf = malloc(r->cap);
	if (r->buf == NULL) {
		close(r->fd);
		r->fd = -1;
		return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
	}
	return 0;
}

/* Move the unread tail to the front and read more (growing the buffer up to
 * PGLOG_RECORD_MAX when it is full). 0 ok, -1 error. */
static int pglog_reader_fill(struct pglog_reader *r, struct err *e)
{
	ssize_t n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->offset += (off_t)r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len == r->cap && r->cap < PGLOG_RECORD_MAX) {
		size_t want = r->cap * 2 < PGLOG_RECORD_MAX ? r->cap * 2 : PGLOG_RECORD_MAX;
		char *nb = realloc(r->buf, want);
		if (nb == NULL)
			return err_set(e, ERR_INTERNAL_ERROR, "out of memory");
		r->buf = nb;
		r->cap = want;
	}
	if (r->len == r->cap) {
		r->skipping = true;   /* a record larger than PGLOG_RECORD_MAX */
		r->in_quotes = false;
		return 0;
	}
	do
		n = read(r->fd, r->buf + r->len, r->cap - r->len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		log_warn("pglog", "read: %s", strerror(errno));
		return err_set(e, ERR_INTERNAL_ERROR, "cannot read a log file");
	}
	if (n == 0)
		r->eof = true;
	r->len += (size_t)n;
	return 0;
}

/* Skip the rest of an oversize record; true once its end was passed. */
static bool pglog_reader_skip(struct pglog_reader *r)
{
	for (size_t i = r->pos; i < r->len; i++) {
		if (r->buf[i] == '"')
			r->in_quotes = !r->in_quotes;
		else if (r->buf[i] == '\n' && !r->in_quotes) {
			r->pos = i + 1;
			r->skipping = false;
			r->skipped++;
			return true;
		}
	}
	r->pos = r->len;
	return false;
}

int pglog_reader_next(struct pglog_reader *r, struct pglog_rec *rec, struct err *e)
{
	for (;;) {
		size_t used = 0;
		enum pglog_status st;

		if (r->skipping) {
			if (!pglog_reader_skip(r)) {
				if (r->eof)
					return 0;
				if (pglog_reader_fill(r, e) != 0)
					return -1;
			}
			continue;
		}
		if (r->stop >= 0 && r->offset + (off_t)r->pos >= r->stop)
			return 0;
		st = pglog_parse_head(r->buf + r->pos, r->len - r->pos, rec, &used, r->cols);
		if (st == PGLOG_OK) {
			r->rec_offset = r->offset + (off_t)r->pos;
			r->pos += used;
			return 1;
		}
		if (st == PGLOG_BAD) {
			r->pos += used;
			r->skipped++;
			continue;
		}
		if (r->eof)
			return 0;
		if (pglog_reader_fill(r, e) != 0)
			return -1;
	}
}

off_t pglog_reader_tell(const struct pglog_reader *r)
{
	return r->offset + (off_t)r->pos;
}

void pglog_reader_close(struct pglog_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
}
