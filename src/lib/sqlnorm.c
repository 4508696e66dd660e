/*
 * sqlnorm.c - see sqlnorm.h.
 *
 * One pass over the statement with a character-class table. Every output
 * byte goes through sn_put(), which stores it while there is room and feeds
 * it into the running hash eight bytes at a time, so the fingerprint covers
 * the whole text at the cost of a shift per byte. Token handlers advance
 * s->p; literals go through sn_literal() (which owns the list-collapsing
 * state), everything else through sn_token().
 */
#include "lib/sqlnorm.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SN_PARAM_MAX 1000000000u   /* larger $n in the input are not renumbered past */
#define SN_PAD_MAX 2048             /* statements up to this long are copied into a padded buffer */
#define SN_PAD 17                   /* bytes of padding: sn_special16 reads p[16] */

enum sn_class { SC_OTHER, SC_SPACE, SC_WORD, SC_DIGIT, SC_QUOTE, SC_DQUOTE, SC_DOLLAR, SC_OP, SC_PUNCT,
		SC_DOT };

/* What the shape cache can re-read in another statement: a number
 * starting with a digit, a signed one (unary position), a '...' string, a
 * comment (none holding '$', which would move the numbering of
 * placeholders), and the rest of a list of literals from its second one
 * (a list of any length past that normalises alike: "$n, ..."). */
enum sn_slot_kind { SK_NUM = 1, SK_SNUM, SK_STR, SK_LINE_COMMENT, SK_BLOCK_COMMENT, SK_LIST };

#define SN_SLOTS_MAX 64             /* literals noted per statement; later ones stay part of its shape */

/* The literals of one statement, as offsets into it. */
struct sn_rec {
	unsigned n;
	struct {
		uint32_t at, end;
		unsigned char kind;
	} slot[SN_SLOTS_MAX];
};

/* Kinds of the previous token, for the unary-sign rule. */
enum sn_kind { TK_NONE, TK_WORD, TK_LIT, TK_QIDENT, TK_OP, TK_OPEN, TK_CLOSE, TK_DOT, TK_OTHER };

/* List collapsing: literal, literal + comma, collapsed ("..." emitted),
 * collapsed with a swallowed comma waiting. */
enum sn_list { LS_NONE, LS_LIT, LS_LIT_COMMA, LS_COLLAPSED, LS_COLLAPSED_COMMA };

static const unsigned char sn_class[256] = {
	[' '] = SC_SPACE, ['\t'] = SC_SPACE, ['\n'] = SC_SPACE, ['\r'] = SC_SPACE, ['\f'] = SC_SPACE,
	['\v'] = SC_SPACE,
	['a' ... 'z'] = SC_WORD, ['A' ... 'Z'] = SC_WORD, ['_'] = SC_WORD, [0x80 ... 0xff] = SC_WORD,
	['0' ... '9'] = SC_DIGIT,
	['\''] = SC_QUOTE, ['"'] = SC_DQUOTE, ['$'] = SC_DOLLAR,
	['+'] = SC_OP, ['-'] = SC_OP, ['*'] = SC_OP, ['/'] = SC_OP, ['<'] = SC_OP, ['>'] = SC_OP,
	['='] = SC_OP, ['~'] = SC_OP, ['!'] = SC_OP, ['@'] = SC_OP, ['#'] = SC_OP, ['%'] = SC_OP,
	['^'] = SC_OP, ['&'] = SC_OP, ['|'] = SC_OP, ['`'] = SC_OP, ['?'] = SC_OP, [':'] = SC_OP,
	['('] = SC_PUNCT, [')'] = SC_PUNCT, ['['] = SC_PUNCT, [']'] = SC_PUNCT, [','] = SC_PUNCT,
	[';'] = SC_PUNCT, ['.'] = SC_DOT,
};

static const unsigned char sn_lower[256] = {
#define L4(i) (i), (i) + 1, (i) + 2, (i) + 3
#define L16(i) L4(i), L4((i) + 4), L4((i) + 8), L4((i) + 12)
	L16(0), L16(16), L16(32), L16(48),
	'@', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '[', '\\', ']', '^', '_',
	L16(96), L16(112), L16(128), L16(144), L16(160), L16(176), L16(192), L16(208), L16(224), L16(240),
#undef L16
#undef L4
};

/* A streaming hash over 8-byte little-endian words: hashing a buffer in
 * one call or byte by byte gives the same value, so the fingerprint does
 * not depend on how much of the text fits the caller's buffer. */
struct sn_hash {
	uint64_t h, w;
	unsigned wn;             /* bytes in w */
};

struct sn {
	const char *p, *end;
	char *out;
	size_t cap;              /* bytes of out usable for text (cap - 1) */
	size_t len;              /* normalised bytes produced so far */
	struct sn_hash hash;     /* over bytes past cap (the kept ones are hashed at the end) */
	unsigned next_param;
	enum sn_kind prev;
	enum sn_list list;
	bool space;              /* whitespace or a comment since the last token */
	bool redact_next;        /* the previous token was PASSWORD */
	bool sensitive;
	const char *word;        /* the last word, in the input (NULL: not found yet, see sn_word_resolve) */
	size_t word_len;
	const char *word_end;    /* just past the last word */
	const char *word_floor;  /* the last word starts at or after this */
	const char *start;       /* the input's first byte */
	bool padded;             /* 17 readable bytes follow the input (the fast path may read them) */
	struct sn_rec *rec;      /* where literals are noted for the shape cache (NULL: not noted) */
};

static inline uint64_t sn_mix(uint64_t h)
{
	h *= 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 29);
}

uint64_t sqlnorm_hash(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = sn_mix(seed ^ (uint64_t)len);
	uint64_t w;

	for (; len >= 8; b += 8, len -= 8) {
		memcpy(&w, b, 8);
		h = sn_mix(h ^ w);
	}
	w = 0;
	for (size_t i = 0; i < len; i++)
		w = (w << 8) | b[i];
	return sn_mix(h ^ w ^ 0x5bd1e995ull);
}

static inline void snh_byte(struct sn_hash *x, unsigned char c)
{
	x->w |= (uint64_t)c << (8 * x->wn);
	if (++x->wn == 8) {
		x->h = sn_mix(x->h ^ x->w);
		x->w = 0;
		x->wn = 0;
	}
}

static uint64_t snh_le64(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static void snh_bytes(struct sn_hash *x, const char *p, size_t n)
{
	for (; n >= 8 && x->wn == 0; p += 8, n -= 8)
		x->h = sn_mix(x->h ^ snh_le64(p));
	for (size_t i = 0; i < n; i++)
		snh_byte(x, (unsigned char)p[i]);
}

static inline void sn_put(struct sn *s, unsigned char c)
{
	if (s->len < s->cap) {
		s->out[s->len] = (char)c;
	} else {
		if (s->len == s->cap)
			snh_bytes(&s->hash, s->out, s->cap);
		snh_byte(&s->hash, c);
	}
	s->len++;
}

static void sn_puts(struct sn *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sn_put(s, (unsigned char)p[i]);
}

static void sn_put_uint(struct sn *s, unsigned v)
{
	char d[12];
	int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		sn_put(s, (unsigned char)d[--n]);
}

static void sn_space(struct sn *s)
{
	if (s->space && s->len > 0)
		sn_put(s, ' ');
	s->space = false;
}

/* Start a non-literal token: flush a comma swallowed by a collapsed list. */
static void sn_token(struct sn *s, enum sn_kind kind)
{
	if (s->list == LS_COLLAPSED_COMMA) {
		sn_put(s, ',');
	}
	s->list = LS_NONE;
	s->redact_next = false;
	sn_space(s);
	s->prev = kind;
}

/* A literal: a placeholder, "..." for the second of a list, or nothing for
 * the rest of a collapsed list. `param` >= 0: the input's own $n. */
static void sn_literal(struct sn *s, long param)
{
	s->redact_next = false;
	s->prev = TK_LIT;
	if (s->list == LS_COLLAPSED_COMMA) {
		s->list = LS_COLLAPSED;
		s->space = false;
		return;
	}
	if (s->list == LS_LIT_COMMA) {
		s->space = true;   /* always ", ...", whatever the spacing was */
		sn_space(s);
		sn_puts(s, "...", 3);
		s->list = LS_COLLAPSED;
		return;
	}
	sn_token(s, TK_LIT);
	sn_put(s, '$');
	if (param >= 0) {
		sn_put_uint(s, (unsigned)param);
	} else {
		sn_put_uint(s, s->next_param);
		if (s->next_param < SN_PARAM_MAX)
			s->next_param++;
	}
	s->list = LS_LIT;
}

/* Only spaces and one comma in [p, q): the gap between two list items. */
static bool sn_list_gap(const char *p, const char *q)
{
	while (p < q && sn_class[(unsigned char)*p] == SC_SPACE)
		p++;
	if (p == q || *p != ',')
		return false;
	for (p++; p < q && sn_class[(unsigned char)*p] == SC_SPACE; p++)
		;
	return p == q;
}

/* Note the slot [at, end) of kind `kind`, called before the literal's
 * sn_literal(): the second literal of a list starts a list slot, and the
 * ones after it, with nothing but spaces and a comma in between, extend
 * it. */
static void sn_rec_slot(struct sn *s, const char *at, const char *end, unsigned char kind)
{
	struct sn_rec *r = s->rec;

	if (kind == SK_NUM || kind == SK_SNUM || kind == SK_STR) {
		if (s->list == LS_COLLAPSED_COMMA && r->n > 0 && r->slot[r->n - 1].kind == SK_LIST &&
		    sn_list_gap(s->start + r->slot[r->n - 1].end, at)) {
			r->slot[r->n - 1].end = (uint32_t)(end - s->start);
			return;
		}
		if (s->list == LS_LIT_COMMA)
			kind = SK_LIST;
	}
	if (r->n == SN_SLOTS_MAX)
		return;
	r->slot[r->n].at = (uint32_t)(at - s->start);
	r->slot[r->n].end = (uint32_t)(end - s->start);
	r->slot[r->n].kind = kind;
	r->n++;
}

static void sn_comma(struct sn *s)
{
	s->p++;
	if (s->list == LS_COLLAPSED) {
		s->list = LS_COLLAPSED_COMMA;
		s->space = false;
		return;
	}
	enum sn_list was = s->list;
	sn_token(s, TK_OPEN);
	sn_put(s, ',');
	s->list = was == LS_LIT ? LS_LIT_COMMA : LS_NONE;
}

/* ---- skipping ---- */

/* Past a "--" comment at p: its newline included (shared with the shape
 * matcher, as the other *_end functions). */
static const char *sn_line_comment_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* Past a nested block comment starting at p. */
static const char *sn_block_comment_end(const char *p, const char *end)
{
	int depth = 0;

	while (p < end) {
		if (p + 1 < end && p[0] == '/' && p[1] == '*') {
			depth++;
			p += 2;
		} else if (p + 1 < end && p[0] == '*' && p[1] == '/') {
			p += 2;
			if (--depth == 0)
				break;
		} else {
			p++;
		}
	}
	return p;
}

/* A comment: dropped, but it separates tokens. One without '$' (which
 * sn_max_param reads anywhere) is a slot of the statement's shape. */
static void sn_comment(struct sn *s, bool line)
{
	const char *c = s->p;

	s->p = line ? sn_line_comment_end(c, s->end) : sn_block_comment_end(c, s->end);
	s->space = true;
	if (s->rec != NULL && memchr(c, '$', (size_t)(s->p - c)) == NULL)
		sn_rec_slot(s, c, s->p, line ? SK_LINE_COMMENT : SK_BLOCK_COMMENT);
}

/* Past a '...' string starting at s->p (standard conforming: '' escapes). */
static const char *sn_end_quoted(const char *p, const char *end, char q)
{
	p++;
	for (;;) {
		const char *c = memchr(p, q, (size_t)(end - p));
		if (c == NULL)
			return end;
		if (c + 1 < end && c[1] == q) {
			p = c + 2;
			continue;
		}
		return c + 1;
	}
}

/* Past an E'...' body starting at the quote (backslash escapes too). */
static const char *sn_end_escaped(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		else if (*p == '\'' && p + 1 < end && p[1] == '\'')
			p++;
		else if (*p == '\'')
			return p + 1;
	}
	return end;
}

/* Length of a dollar-quote tag "$tag$" at p, or 0 when p is not one. */
static size_t sn_dollar_tag(const char *p, const char *end)
{
	const char *q = p + 1;

	if (q < end && (sn_class[(unsigned char)*q] == SC_WORD))
		for (q++; q < end && (sn_class[(unsigned char)*q] == SC_WORD || sn_class[(unsigned char)*q] == SC_DIGIT);
		     q++)
			;
	return q < end && *q == '$' ? (size_t)(q - p + 1) : 0;
}

/* ---- tokens ---- */

/* Past a number starting at p (an optional sign, then digits): shared by
 * the tokenizer and the shape matcher, which must agree byte for byte. */
static const char *sn_number_end(const char *p, const char *end)
{
	if (*p == '-' || *p == '+')
		p++;
	if (p + 1 < end && p[0] == '0' && p[1] != '\0' && strchr("xXoObB", p[1]) != NULL) {
		for (p += 2; p < end && (sn_class[(unsigned char)*p] == SC_DIGIT || sn_class[(unsigned char)*p] == SC_WORD);
		     p++)
			;
	} else {
		while (p < end && (sn_class[(unsigned char)*p] == SC_DIGIT || *p == '_'))
			p++;
		if (p < end && *p == '.' && !(p + 1 < end && p[1] == '.'))
			for (p++; p < end && (sn_class[(unsigned char)*p] == SC_DIGIT || *p == '_'); p++)
				;
		if (p < end && (*p == 'e' || *p == 'E')) {
			const char *q = p + 1;
			if (q < end && (*q == '+' || *q == '-'))
				q++;
			if (q < end && sn_class[(unsigned char)*q] == SC_DIGIT)
				for (p = q; p < end && sn_class[(unsigned char)*p] == SC_DIGIT; p++)
					;
		}
	}
	return p;
}

static void sn_number(struct sn *s)
{
	const char *start = s->p;

	s->p = sn_number_end(start, s->end);
	/* "$12" after a dollar quote is read by sn_max_param as a $n: such
	 * digits stay part of the shape */
	if (s->rec != NULL && !(start > s->start && start[-1] == '$')) {
		if (sn_class[(unsigned char)*start] == SC_DIGIT)
			sn_rec_slot(s, start, s->p, SK_NUM);
		else if ((*start == '-' || *start == '+') && start + 1 < s->end &&
			 sn_class[(unsigned char)start[1]] == SC_DIGIT)
			sn_rec_slot(s, start, s->p, SK_SNUM);
	}
	sn_literal(s, -1);
}

static bool sn_word_byte(unsigned char c)
{
	return sn_class[c] == SC_WORD || sn_class[c] == SC_DIGIT || c == '$';
}

/* The fast path only notes where its last word ends; find its start when
 * a keyword check needs it. */
static void sn_word_resolve(struct sn *s)
{
	const char *w = s->word_end - 1;

	while (w > s->word_floor && sn_word_byte((unsigned char)w[-1]))
		w--;
	s->word = w;
	s->word_len = (size_t)(s->word_end - w);
}

/* Is the last word w (n bytes, lower case), in any case? */
static bool sn_word_is_n(struct sn *s, const char *w, size_t n)
{
	if (s->word == NULL)
		sn_word_resolve(s);
	return s->word_len == n && strncasecmp(s->word, w, n) == 0;
}

#define sn_word_is(s, lit) sn_word_is_n((s), (lit), sizeof(lit) - 1)

/* A word; the forms E'..', B'..', X'..', N'..', U&'..' are literals. */
static void sn_word(struct sn *s)
{
	const char *p = s->p;
	const char *end = s->end;
	unsigned char c = (unsigned char)*p;

	if (p + 1 < end && p[1] == '\'' && strchr("eEbBxXnN", c) != NULL) {
		s->p = (c == 'e' || c == 'E') ? sn_end_escaped(p + 1, end) : sn_end_quoted(p + 1, end, '\'');
		sn_literal(s, -1);
		return;
	}
	if (p + 2 < end && (c == 'u' || c == 'U') && p[1] == '&' && p[2] == '\'') {
		s->p = sn_end_quoted(p + 2, end, '\'');
		sn_literal(s, -1);
		return;
	}
	const char *w = p;
	while (p < end && (sn_class[(unsigned char)*p] == SC_WORD || sn_class[(unsigned char)*p] == SC_DIGIT ||
			   *p == '$'))
		p++;
	s->p = p;
	s->word = s->word_floor = w;
	s->word_len = (size_t)(p - w);
	s->word_end = p;
	if (s->redact_next && !sn_word_is(s, "null")) {
		sn_literal(s, -1);
		return;
	}
	sn_token(s, TK_WORD);
	for (const char *q = w; q < p; q++)
		sn_put(s, sn_lower[(unsigned char)*q]);
	if (sn_word_is(s, "password")) {
		s->redact_next = true;
		s->sensitive = true;
	}
}

static void sn_qident(struct sn *s)
{
	const char *start = s->p;

	s->p = sn_end_quoted(s->p, s->end, '"');
	if (s->redact_next) {
		sn_literal(s, -1);
		return;
	}
	sn_token(s, TK_QIDENT);
	sn_puts(s, start, (size_t)(s->p - start));
}

/* '$': a parameter $n, a dollar-quoted literal, or a lone character. */
static void sn_dollar(struct sn *s)
{
	const char *p = s->p + 1;
	size_t tag;

	if (p < s->end && sn_class[(unsigned char)*p] == SC_DIGIT) {
		unsigned long v = 0;
		for (; p < s->end && sn_class[(unsigned char)*p] == SC_DIGIT; p++)
			v = v < SN_PARAM_MAX ? v * 10 + (unsigned long)(*p - '0') : v;
		s->p = p;
		sn_literal(s, (long)(v < SN_PARAM_MAX ? v : SN_PARAM_MAX));
		return;
	}
	tag = sn_dollar_tag(s->p, s->end);
	if (tag == 0) {
		sn_token(s, TK_OTHER);
		sn_put(s, '$');
		s->p++;
		return;
	}
	const char *body = s->p + tag;
	const char *close = memmem(body, (size_t)(s->end - body), s->p, tag);
	s->p = close ? close + tag : s->end;
	sn_literal(s, -1);
}

/* Does a sign here start a number? After an operator, an opening bracket,
 * a comma, the start, or a keyword that cannot end an expression. */
static bool sn_unary_context(struct sn *s)
{
#define SN_KW(w) { w, sizeof(w) - 1 }
	static const struct {
		const char *w;
		size_t n;
	} kw[] = { SN_KW("select"), SN_KW("where"), SN_KW("and"), SN_KW("or"), SN_KW("not"), SN_KW("when"),
		   SN_KW("then"), SN_KW("else"), SN_KW("between"), SN_KW("limit"), SN_KW("offset"), SN_KW("by"),
		   SN_KW("values"), SN_KW("return"), SN_KW("returning"), SN_KW("in"), SN_KW("is"), SN_KW("like"),
		   SN_KW("set"), SN_KW("having"), SN_KW("on"), SN_KW("case"), SN_KW("array") };
#undef SN_KW

	if (s->prev == TK_NONE || s->prev == TK_OP || s->prev == TK_OPEN)
		return true;
	if (s->prev != TK_WORD)
		return false;
	if (s->word == NULL)
		sn_word_resolve(s);
	for (size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++)
		if (s->word_len == kw[k].n && strncasecmp(s->word, kw[k].w, kw[k].n) == 0)
			return true;
	return false;
}

static void sn_operator(struct sn *s)
{
	const char *p = s->p;
	const char *end = s->end;

	if (p + 1 < end && p[0] == '-' && p[1] == '-') {
		sn_comment(s, true);
		return;
	}
	if (p + 1 < end && p[0] == '/' && p[1] == '*') {
		sn_comment(s, false);
		return;
	}
	if ((*p == '-' || *p == '+') && p + 1 < end && sn_unary_context(s) &&
	    (sn_class[(unsigned char)p[1]] == SC_DIGIT ||
	     (p[1] == '.' && p + 2 < end && sn_class[(unsigned char)p[2]] == SC_DIGIT))) {
		sn_number(s);
		return;
	}
	sn_token(s, TK_OP);
	do {
		sn_put(s, (unsigned char)*p++);
	} while (p < end && sn_class[(unsigned char)*p] == SC_OP &&
		 !(p + 1 < end && ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*'))));
	s->p = p;
}

static void sn_punct(struct sn *s)
{
	char c = *s->p;

	if (c == ',') {
		sn_comma(s);
		return;
	}
	s->p++;
	sn_token(s, c == '(' || c == '[' ? TK_OPEN : c == ')' || c == ']' ? TK_CLOSE : TK_OTHER);
	sn_put(s, (unsigned char)c);
}

static void sn_dot(struct sn *s)
{
	const char *p = s->p;

	if (p + 1 < s->end && sn_class[(unsigned char)p[1]] == SC_DIGIT && s->prev != TK_WORD &&
	    s->prev != TK_QIDENT && s->prev != TK_CLOSE && s->prev != TK_LIT) {
		sn_number(s);
		return;
	}
	s->p++;
	sn_token(s, TK_DOT);
	sn_put(s, '.');
}

/* The largest $n of the input, so new placeholders do not reuse a number. */
static unsigned sn_max_param(const char *p, const char *end)
{
	unsigned long max = 0;

	while ((p = memchr(p, '$', (size_t)(end - p))) != NULL) {
		unsigned long v = 0;
		const char *q = p + 1;
		for (; q < end && *q >= '0' && *q <= '9'; q++)
			v = v < SN_PARAM_MAX ? v * 10 + (unsigned long)(*q - '0') : v;
		if (q > p + 1 && v > max)
			max = v;
		p = q;
	}
	return (unsigned)(max < SN_PARAM_MAX ? max : SN_PARAM_MAX - 1);
}

static void sn_step(struct sn *s)
{
	switch (sn_class[(unsigned char)*s->p]) {
	case SC_SPACE:
		s->p++;
		s->space = true;
		break;
	case SC_WORD:
		sn_word(s);
		break;
	case SC_DIGIT:
		sn_number(s);
		break;
	case SC_QUOTE: {
		const char *q = s->p;
		s->p = sn_end_quoted(q, s->end, '\'');
		if (s->rec != NULL && memchr(q, '$', (size_t)(s->p - q)) == NULL)
			sn_rec_slot(s, q, s->p, SK_STR);
		sn_literal(s, -1);
		break;
	}
	case SC_DQUOTE:
		sn_qident(s);
		break;
	case SC_DOLLAR:
		sn_dollar(s);
		break;
	case SC_OP:
		sn_operator(s);
		break;
	case SC_PUNCT:
		sn_punct(s);
		break;
	case SC_DOT:
		sn_dot(s);
		break;
	default:
		sn_token(s, TK_OTHER);
		sn_put(s, (unsigned char)*s->p++);
		break;
	}
}

/* ---- the fast path ----
 * Most of a statement is words, punctuation and single spaces, which come
 * out as they go in (lower-cased). With SSE2, sixteen bytes at a time are
 * classified and such runs copied whole; only the bytes that may change
 * the output or the state go through sn_step(): literals and what may
 * start one ('$', digits not after a letter, '.' before a digit, a
 * letter before a quote or '&'), quotes, commas, signs, slashes,
 * backslashes, braces, control characters, a punctuation byte before a
 * sign or slash (it may be one operator with it), and a space unless it
 * sits alone between two plain bytes. A statement with the word "password"
 * takes sn_step() throughout (the value after it must be hidden). The
 * 16-byte windows read a byte past themselves: sqlnorm_run copies a
 * statement of up to SN_PAD_MAX bytes into a NUL-padded buffer so that
 * they reach its end (a longer one finishes its last 16 bytes in sn_step). The
 * differential test in tests/unit/test_sqlnorm.c holds the two paths to
 * the same output. */

enum { F_WORD = 1, F_PLAIN = 2, F_DIGIT = 4, F_QAMP = 8, F_SIGN = 16, F_ALPHA = 32 };

/* Per byte: a word byte, a plain byte (word or punctuation that is copied
 * as it is), a digit, a quote or '&'. */
static const unsigned char sn_fast_class[256] = {
	['a' ... 'z'] = F_WORD | F_PLAIN | F_ALPHA, ['A' ... 'Z'] = F_WORD | F_PLAIN | F_ALPHA,
	['_'] = F_WORD | F_PLAIN | F_ALPHA, [0x80 ... 0xff] = F_WORD | F_PLAIN | F_ALPHA,
	['$'] = F_WORD | F_PLAIN, ['0' ... '9'] = F_WORD | F_PLAIN | F_DIGIT,
	['('] = F_PLAIN, [')'] = F_PLAIN, ['['] = F_PLAIN, [']'] = F_PLAIN, [';'] = F_PLAIN, [':'] = F_PLAIN,
	['='] = F_PLAIN, ['<'] = F_PLAIN, ['>'] = F_PLAIN, ['*'] = F_PLAIN, ['!'] = F_PLAIN, ['~'] = F_PLAIN,
	['@'] = F_PLAIN, ['#'] = F_PLAIN, ['%'] = F_PLAIN, ['^'] = F_PLAIN, ['&'] = F_PLAIN | F_QAMP,
	['|'] = F_PLAIN, ['`'] = F_PLAIN, ['?'] = F_PLAIN, ['.'] = F_PLAIN, ['\''] = F_QAMP,
	['-'] = F_SIGN, ['+'] = F_SIGN, ['/'] = F_SIGN,
};

static bool sn_is_word(unsigned char c)
{
	return (sn_fast_class[c] & F_WORD) != 0;
}

/* Is there "password" (any case) with its 'w' at q? */
static bool sn_password_at(const char *p, const char *end, const char *q)
{
	uint64_t w, want;

	if (q - p < 4 || end - q < 4)
		return false;
	memcpy(&w, q - 4, 8);
	memcpy(&want, "password", 8);
	return (w | 0x2020202020202020ull) == want;   /* only letters: | 0x20 folds case exactly */
}

/* Does the text hold "password" in any case? (Such statements go slow.)
 * The 'w's are found sixteen bytes at a time. */
static bool sn_has_password(const char *p, const char *end)
{
	const char *q = p;

#ifdef __SSE2__
	for (; end - q >= 16; q += 16) {
		__m128i x = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)q), _mm_set1_epi8(0x20));
		for (unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('w'))); m != 0; m &= m - 1)
			if (sn_password_at(p, end, q + __builtin_ctz(m)))
				return true;
	}
#endif
	for (; q < end; q++)
		if ((*q | 0x20) == 'w' && sn_password_at(p, end, q))
			return true;
	return false;
}

#ifdef __SSE2__
static inline __m128i sn_between(__m128i v, char lo, char hi)
{
	return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)(lo - 1))),
			     _mm_cmplt_epi8(v, _mm_set1_epi8((char)(hi + 1))));
}

static inline unsigned sn_mask(__m128i v)
{
	return (unsigned)_mm_movemask_epi8(v);
}

/* Bit i set: p[i] must go through sn_step() (see above). Reads p[-1]..p[16]. */
static unsigned sn_special16(const char *p)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	const __m128i lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
	__m128i eq, high = _mm_cmplt_epi8(x, _mm_setzero_si128());
	unsigned alpha = sn_mask(sn_between(lower, 'a', 'z')), digit = sn_mask(sn_between(x, '0', '9'));
	unsigned space = sn_mask(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
	unsigned dollar = sn_mask(_mm_cmpeq_epi8(x, _mm_set1_epi8('$')));
	unsigned dot = sn_mask(_mm_cmpeq_epi8(x, _mm_set1_epi8('.')));
	unsigned qamp = sn_mask(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\'')), _mm_cmpeq_epi8(x, _mm_set1_epi8('&'))));
	unsigned alike = alpha | sn_mask(high) | sn_mask(_mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
	unsigned word = alike | digit | dollar;
	unsigned prev_c = sn_fast_class[(unsigned char)p[-1]], next_c = sn_fast_class[(unsigned char)p[16]];
	unsigned prev_alike = (alike << 1) | (prev_c & F_ALPHA ? 1u : 0u);

	eq = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8(',')));
	eq = _mm_or_si128(eq, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')), _mm_cmpeq_epi8(x, _mm_set1_epi8('+'))));
	eq = _mm_or_si128(eq, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
	eq = _mm_or_si128(eq, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('{')), _mm_cmpeq_epi8(x, _mm_set1_epi8('}'))));
	eq = _mm_or_si128(eq, _mm_cmpeq_epi8(x, _mm_set1_epi8('\'')));
	/* controls (including tabs and newlines) and DEL */
	eq = _mm_or_si128(eq, _mm_andnot_si128(high, _mm_cmplt_epi8(x, _mm_set1_epi8(' '))));
	eq = _mm_or_si128(eq, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
	unsigned notplain = sn_mask(eq);
	unsigned plain = ~notplain & ~space & 0xffffu;
	unsigned prev_plain = ((plain << 1) | (prev_c & F_PLAIN ? 1u : 0u)) & 0xffffu;
	unsigned next_plain = (plain >> 1) | (next_c & F_PLAIN ? 0x8000u : 0u);
	unsigned next_digit = (digit >> 1) | (next_c & F_DIGIT ? 0x8000u : 0u);
	unsigned next_qamp = (qamp >> 1) | (next_c & F_QAMP ? 0x8000u : 0u);
	unsigned sign = sn_mask(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
							  _mm_cmpeq_epi8(x, _mm_set1_epi8('+'))),
					     _mm_cmpeq_epi8(x, _mm_set1_epi8('/'))));
	unsigned next_sign = (sign >> 1) | (next_c & F_SIGN ? 0x8000u : 0u);

	/* an operator character before - + / may be one operator with it ("&-") */
	return (notplain | (space & ~(prev_plain & next_plain)) | dollar | (digit & ~prev_alike) | (dot & next_digit) |
		(alpha & next_qamp) | (next_sign & ~word & ~space)) & 0xffffu;
}

/* Copy the n (1..16) plain bytes at s->p, lower-cased, and set the state
 * sn_step() would have left (see above). */
static void sn_run(struct sn *s, unsigned n)
{
	const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s->p);
	const __m128i up = sn_between(x, 'A', 'Z');
	const char *last, *run = s->p;
	/* the run may continue the word sn_step() or the last run emitted */
	bool cont = s->prev == TK_WORD && s->list != LS_COLLAPSED_COMMA && sn_is_word((unsigned char)s->p[-1]);

	if (n == 1 && *s->p == ' ') {
		/* a lone space between two bytes that go through sn_step() */
		s->p++;
		s->space = true;
		return;
	}
	if (s->list == LS_COLLAPSED_COMMA)
		sn_put(s, ',');
	if (*s->p == ' ' && (s->space || s->len == 0)) {   /* the run's own space stands for the pending one */
		s->space = false;
		if (s->len == 0) {
			s->p++;
			if (--n == 0)
				return;
		}
	}
	sn_space(s);
	_mm_storeu_si128((__m128i *)(void *)(s->out + s->len), _mm_or_si128(x, _mm_and_si128(up, _mm_set1_epi8(0x20))));
	s->len += n;
	s->p += n;
	s->list = LS_NONE;
	s->redact_next = false;
	last = s->p - 1;
	if (*last == ' ')   /* never two: a second space is special */
		last--;
	if (sn_is_word((unsigned char)*last)) {
		s->word = NULL;   /* found when needed (sn_word_resolve) */
		s->word_end = last + 1;
		s->word_floor = cont ? s->word_floor : run;
		s->prev = TK_WORD;
	} else {
		char c = *last;
		s->prev = c == '(' || c == '[' ? TK_OPEN : c == ')' || c == ']' ? TK_CLOSE : c == '.' ? TK_DOT
			: c == ';' ? TK_OTHER : TK_OP;
	}
}

/* A special byte inside a word continues it (a letter before a quote in
 * "type'x'" belongs to "type", the digits of "t12"); true when it did. The
 * token state tells a word from a number: "12$q$x$q$" is a literal. */
static bool sn_continue_word(struct sn *s)
{
	unsigned char c = (unsigned char)*s->p;

	if (s->p == s->start || !sn_is_word((unsigned char)s->p[-1]) || !sn_is_word(c) || s->prev != TK_WORD ||
	    s->list == LS_COLLAPSED_COMMA)
		return false;
	sn_put(s, sn_lower[c]);
	s->p++;
	s->word_end = s->p;
	if (s->word != NULL)
		s->word_len++;
	return true;
}

static void sn_fast(struct sn *s)
{
	const char *win = NULL;   /* the sixteen bytes last classified (the mask depends on the bytes alone) */
	unsigned mask = 0;

	while (s->p < s->end) {
		/* p[-1] and p[16] readable; room for a comma, a space and 16 bytes */
		if (s->p > s->start && (s->end - s->p >= 17 || s->padded) && s->len + 18 <= s->cap) {
			if (win == NULL || s->p < win || s->p >= win + 16) {
				win = s->p;
				mask = sn_special16(win);
			}
			unsigned off = (unsigned)(s->p - win), m = mask >> off;
			unsigned run = m != 0 ? (unsigned)__builtin_ctz(m) : 16 - off;
			if (run > 0) {
				sn_run(s, run);
				continue;
			}
		}
		if (sn_continue_word(s))
			continue;
		if (sn_class[(unsigned char)*s->p] == SC_SPACE) {
			s->p++;
			s->space = true;
			continue;
		}
		sn_step(s);
	}
}
#endif

static void sn_finish(struct sn *s, struct sqlnorm *r, char *out, size_t cap)
{
	if (s->list == LS_COLLAPSED_COMMA)
		sn_put(s, ',');
	if (s->len <= s->cap)
		snh_bytes(&s->hash, out, s->len);
	if (cap > 0)
		out[s->len < s->cap ? s->len : s->cap] = '\0';
	r->len = s->len;
	r->sensitive = s->sensitive;
	r->fingerprint = sn_mix(s->hash.h ^ s->hash.w ^ ((uint64_t)s->len << 40) ^ s->hash.wn);
}

/* The reference tokenizer over the whole statement. */
static void sn_precise(struct sn *s)
{
	while (s->p < s->end) {
		if (sn_class[(unsigned char)*s->p] == SC_SPACE) {
			s->p++;
			s->space = true;
			continue;
		}
		sn_step(s);
	}
}

static void sn_init(struct sn *s, const char *in, size_t len, char *out, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->p = s->start = in;
	s->end = in + len;
	s->out = out;
	s->cap = cap > 0 ? cap - 1 : 0;
	s->next_param = sn_max_param(in, s->end) + 1;
}

void sqlnorm_run_precise(const char *in, size_t len, char *out, size_t cap, struct sqlnorm *r)
{
	struct sn s;

	sn_init(&s, in, len, out, cap);
	sn_precise(&s);
	sn_finish(&s, r, out, cap);
}

/* sqlnorm_run, noting the literals into rec when it is not NULL. */
static void sn_normalise(const char *in, size_t len, char *out, size_t cap, struct sqlnorm *r, struct sn_rec *rec)
{
	struct sn s;
#ifdef __SSE2__
	char pad[SN_PAD_MAX + SN_PAD];

	if (!sn_has_password(in, in + len)) {
		bool padded = len <= SN_PAD_MAX;
		if (padded) {
			/* a copy followed by NULs: the fast path then runs to the end
			 * (a NUL is a control byte, which it never copies; only the
			 * bytes that sit next to one are classified with less
			 * context, and so more of them go through sn_step) */
			memcpy(pad, in, len);
			memset(pad + len, 0, SN_PAD);
			in = pad;
		}
		sn_init(&s, in, len, out, cap);
		s.padded = padded;
		s.rec = rec;
		sn_fast(&s);
		sn_finish(&s, r, out, cap);
		return;
	}
#endif
	sn_init(&s, in, len, out, cap);
	s.rec = rec;
	sn_precise(&s);
	sn_finish(&s, r, out, cap);
}

void sqlnorm_run(const char *in, size_t len, char *out, size_t cap, struct sqlnorm *r)
{
	sn_normalise(in, len, out, cap, r, NULL);
}

/* ---- the shape cache ----
 * Two statements that differ only in the values of their literals
 * normalise to the same text: the tokenizer is a left-to-right machine
 * whose state after a literal does not depend on its value. So a
 * statement's shape - its bytes with the noted slots cut out (literals,
 * comments, the rest of a list from its second literal), and each slot's
 * kind - is remembered with its result, and another statement matches it
 * when its bytes between slots are the same and each slot in between is
 * read, by the tokenizer's own functions (sn_number_end, sn_end_quoted's
 * rule, the comment ends), as one of the same kind starting with the same
 * byte class, ending where the next same bytes begin. What the tokenizer
 * decides around a slot (a sign is unary, a word does not go on, a number
 * stops) looks only at those bytes, the slot's first byte and the token
 * kinds, which are all the same; placeholders are numbered after the
 * largest $n anywhere in the text, which is why a string or comment
 * holding '$', or a number right after a '$', is never a slot. Statements
 * with PASSWORD are not remembered. The unit test holds every hit to
 * sqlnorm_run_precise. */

#define SN_SHAPE_TEXT 768           /* constant bytes of a shape */
#define SN_SHAPE_INPUT 4096         /* longer statements are not remembered */
#define SN_SHAPE_SETS 64
#define SN_SHAPE_WAYS 8
#define SN_KEY_PREFIX 32            /* bytes of the statement's start in its key */

struct sn_shape {
	uint64_t fingerprint;
	size_t norm_len;
	uint16_t len, nslots;
	struct {
		uint16_t at;                /* in text: where the literal was */
		unsigned char kind;
		char first;                 /* its first byte (the sign of SK_SNUM) */
	} slot[SN_SLOTS_MAX];
	char text[SN_SHAPE_TEXT];
};

struct sqlnorm_cache {
	uint64_t key[SN_SHAPE_SETS][SN_SHAPE_WAYS];   /* 0: empty */
	unsigned char next[SN_SHAPE_SETS];           /* the way replaced next */
	struct sn_shape shape[SN_SHAPE_SETS][SN_SHAPE_WAYS];
};

struct sqlnorm_cache *sqlnorm_cache_new(void)
{
	return calloc(1, sizeof(struct sqlnorm_cache));
}

void sqlnorm_cache_free(struct sqlnorm_cache *c)
{
	free(c);
}

/* Bytes that may start a slot: the key's prefix stops before the first. */
static const unsigned char sn_slot_start[256] = {
	['0' ... '9'] = 1, ['\''] = 1, ['-'] = 1, ['+'] = 1, ['/'] = 1,
};

/* The same for every statement of one shape: its start up to where the
 * first slot may be, at most SN_KEY_PREFIX bytes (found sixteen bytes at
 * a time). Never 0. */
static uint64_t sn_shape_key(const char *in, size_t len)
{
	size_t stop = len < SN_KEY_PREFIX ? len : SN_KEY_PREFIX, i = 0;
	uint64_t h, w;

#ifdef __SSE2__
	for (; i + 16 <= len && i < stop; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
		__m128i st = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\'')),
						       _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('-')),
								    _mm_cmpeq_epi8(x, _mm_set1_epi8('/')))),
					  _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('+')),
						       _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
								     _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)))));
		unsigned m = (unsigned)_mm_movemask_epi8(st);
		if (m != 0) {
			if (i + (size_t)__builtin_ctz(m) < stop)
				stop = i + (size_t)__builtin_ctz(m);
			i = stop;
			break;
		}
	}
#endif
	for (; i < stop; i++)
		if (sn_slot_start[(unsigned char)in[i]]) {
			stop = i;
			break;
		}
	/* the prefix hashed eight bytes at a time (it is at most 32) */
	h = stop;
	for (i = 0; i + 8 <= stop; i += 8) {
		memcpy(&w, in + i, 8);
		h = sn_mix(h ^ w);
	}
	w = 0;
	memcpy(&w, in + i, stop - i);
	return sn_mix(h ^ w ^ 0x5bd1e995ull) | 1;
}

/* Past a '...' slot at p (as sn_end_quoted), or NULL when it holds '$'. */
static const char *sn_string_slot_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '$')
			return NULL;
		if (*p == '\'') {
			if (p + 1 < end && p[1] == '\'') {
				p++;
				continue;
			}
			return p + 1;
		}
	}
	return end;
}

/* Past a list item at p (a literal of a kind the shapes know), or NULL.
 * A sign starts a number only in the first item: after a collapsed
 * item's comma the previous token is still the literal, so "-1" there is
 * an operator and a number (see sn_unary_context). */
static const char *sn_list_item_end(const char *p, const char *end, bool first)
{
	if (sn_class[(unsigned char)*p] == SC_DIGIT)
		return sn_number_end(p, end);
	if (first && (*p == '-' || *p == '+') && end - p >= 2 && sn_class[(unsigned char)p[1]] == SC_DIGIT)
		return sn_number_end(p, end);
	if (*p == '\'')
		return sn_string_slot_end(p, end);
	return NULL;
}

/* Past the items of a list slot at p: one, then any more after a comma
 * (spaces around it); the spaces and comma after the last item are left. */
static const char *sn_list_end(const char *p, const char *end)
{
	const char *q = sn_list_item_end(p, end, true), *r;

	while (q != NULL) {
		p = q;
		for (r = p; r < end && sn_class[(unsigned char)*r] == SC_SPACE; r++)
			;
		if (r == end || *r != ',')
			break;
		for (r++; r < end && sn_class[(unsigned char)*r] == SC_SPACE; r++)
			;
		q = r < end ? sn_list_item_end(r, end, false) : NULL;
	}
	return p;
}

static bool sn_shape_match(const struct sn_shape *t, const char *in, size_t len)
{
	const char *p = in, *end = in + len;
	size_t prev = 0;

	for (unsigned i = 0; i < t->nslots; i++) {
		size_t seg = t->slot[i].at - prev;
		if ((size_t)(end - p) < seg + 1 || memcmp(p, t->text + prev, seg) != 0)
			return false;
		p += seg;
		prev = t->slot[i].at;
		switch (t->slot[i].kind) {
		case SK_NUM:
			if (sn_class[(unsigned char)*p] != SC_DIGIT)
				return false;
			p = sn_number_end(p, end);
			break;
		case SK_SNUM:
			if (*p != t->slot[i].first || end - p < 2 || sn_class[(unsigned char)p[1]] != SC_DIGIT)
				return false;
			p = sn_number_end(p, end);
			break;
		case SK_STR:
			if (*p != '\'' || (p = sn_string_slot_end(p, end)) == NULL)
				return false;
			break;
		case SK_LIST: {
			const char *q = p;
			if ((p = sn_list_end(p, end)) == q)
				return false;   /* not even one item */
			break;
		}
		default: {
			/* a comment: the same kind, no '$' */
			const char *c = p;
			bool line = t->slot[i].kind == SK_LINE_COMMENT;
			if (end - p < 2 || p[0] != (line ? '-' : '/') || p[1] != (line ? '-' : '*'))
				return false;
			p = line ? sn_line_comment_end(p, end) : sn_block_comment_end(p, end);
			if (memchr(c, '$', (size_t)(p - c)) != NULL)
				return false;
			break;
		}
		}
	}
	return (size_t)(end - p) == t->len - prev && memcmp(p, t->text + prev, t->len - prev) == 0;
}

/* Remember in's shape (rec: its literals) with its result r in set `set`. */
static void sn_shape_store(struct sqlnorm_cache *c, size_t set, uint64_t key, const char *in, size_t len,
			   const struct sn_rec *rec, const struct sqlnorm *r)
{
	unsigned way = c->next[set];
	struct sn_shape *t = &c->shape[set][way];
	size_t o = 0, prev = 0;

	c->key[set][way] = 0;
	for (unsigned i = 0; i <= rec->n; i++) {
		size_t at = i < rec->n ? rec->slot[i].at : len;
		if (o + (at - prev) > SN_SHAPE_TEXT)
			return;
		memcpy(t->text + o, in + prev, at - prev);
		o += at - prev;
		if (i < rec->n) {
			t->slot[i].at = (uint16_t)o;
			t->slot[i].kind = rec->slot[i].kind;
			t->slot[i].first = in[at];
			prev = rec->slot[i].end;
		}
	}
	t->len = (uint16_t)o;
	t->nslots = (uint16_t)rec->n;
	t->fingerprint = r->fingerprint;
	t->norm_len = r->len;
	c->key[set][way] = key;
	c->next[set] = (unsigned char)((way + 1) % SN_SHAPE_WAYS);
}

bool sqlnorm_cached(struct sqlnorm_cache *c, const char *in, size_t len, char *out, size_t cap, struct sqlnorm *r)
{
	struct sn_rec rec;
	uint64_t key;
	size_t set;

	if (c == NULL || len > SN_SHAPE_INPUT) {
		sqlnorm_run(in, len, out, cap, r);
		return false;
	}
	key = sn_shape_key(in, len);
	set = (size_t)(key >> 32) % SN_SHAPE_SETS;
	for (unsigned w = 0; w < SN_SHAPE_WAYS; w++) {
		if (c->key[set][w] == key && sn_shape_match(&c->shape[set][w], in, len)) {
			r->fingerprint = c->shape[set][w].fingerprint;
			r->len = c->shape[set][w].norm_len;
			r->sensitive = false;
			return true;
		}
	}
	rec.n = 0;
	sn_normalise(in, len, out, cap, r, &rec);
	if (!r->sensitive)
		sn_shape_store(c, set, key, in, len, &rec, r);
	return false;
}
