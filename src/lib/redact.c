/*
 * redact.c - see redact.h. The SQL side is a small lexer of its own (strings
 * of every form, quoted identifiers, comments, words) that copies tokens
 * through a growing buffer; a token it cannot classify is copied as it is,
 * so nothing is lost except what must be.
 */
#include "lib/redact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rd_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void rd_put(struct rd_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t want = b->cap ? b->cap : 64;
		while (want < b->len + n + 1)
			want *= 2;
		char *np = realloc(b->p, want);
		if (np == NULL) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = want;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static char *rd_finish(struct rd_buf *b, size_t *out_len)
{
	if (!b->failed && b->p == NULL)
		rd_put(b, "", 0);
	if (b->failed) {
		free(b->p);
		return NULL;
	}
	*out_len = b->len;
	return b->p;
}

static bool rd_has(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= len; i++)
		if ((s[i] | 0x20) == word[0] && strncasecmp(s + i, word, wl) == 0)
			return true;
	return false;
}

bool redact_sensitive(const char *s, size_t len)
{
	return rd_has(s, len, "password") || rd_has(s, len, "passwd");
}

static bool rd_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* ---- SQL ---- */

/* End of a quoted run starting at p (q = ' or "), '' doubling; with
 * `backslash`, \x escapes too (E'..'). Unterminated: end. */
static const char *rd_end_quoted(const char *p, const char *end, char q, bool backslash)
{
	for (p++; p < end; p++) {
		if (backslash && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == q && p + 1 < end && p[1] == q)
			p++;
		else if (*p == q)
			return p + 1;
	}
	return end;
}

/* Length of "$tag$" at p, or 0. */
static size_t rd_dollar_tag(const char *p, const char *end)
{
	const char *q = p + 1;

	if (q < end && (isalpha((unsigned char)*q) || *q == '_' || (unsigned char)*q >= 0x80))
		while (q < end && (isalnum((unsigned char)*q) || *q == '_' || (unsigned char)*q >= 0x80))
			q++;
	return q < end && *q == '$' ? (size_t)(q - p + 1) : 0;
}

/* If a string literal starts at p, return its end; else NULL. */
static const char *rd_string_end(const char *p, const char *end)
{
	if (*p == '\'')
		return rd_end_quoted(p, end, '\'', false);
	if (p + 1 < end && p[1] == '\'' && strchr("eE", *p) != NULL)
		return rd_end_quoted(p + 1, end, '\'', true);
	if (p + 1 < end && p[1] == '\'' && strchr("bBxXnN", *p) != NULL)
		return rd_end_quoted(p + 1, end, '\'', false);
	if (p + 2 < end && (*p == 'u' || *p == 'U') && p[1] == '&' && p[2] == '\'')
		return rd_end_quoted(p + 2, end, '\'', false);
	if (*p == '$') {
		size_t tag = rd_dollar_tag(p, end);
		if (tag == 0)
			return NULL;
		const char *close = memmem(p + tag, (size_t)(end - p - tag), p, tag);
		return close ? close + tag : end;
	}
	return NULL;
}

/* A comment at p: its end, else NULL. */
static const char *rd_comment_end(const char *p, const char *end)
{
	if (p + 1 < end && p[0] == '-' && p[1] == '-') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		return nl ? nl : end;
	}
	if (p + 1 < end && p[0] == '/' && p[1] == '*') {
		int depth = 0;
		while (p < end) {
			if (p + 1 < end && p[0] == '/' && p[1] == '*') {
				depth++;
				p += 2;
			} else if (p + 1 < end && p[0] == '*' && p[1] == '/') {
				p += 2;
				if (--depth == 0)
					return p;
			} else {
				p++;
			}
		}
		return end;
	}
	return NULL;
}

struct rd_sql {
	const char *p, *end;
	struct rd_buf b;
	bool after_password;     /* the last word was PASSWORD */
};

/* One token of a sensitive statement. */
static void rd_sql_step(struct rd_sql *s)
{
	const char *p = s->p, *q;

	if ((q = rd_comment_end(p, s->end)) != NULL) {
		rd_put(&s->b, " ", 1);
		s->p = q;
		return;
	}
	if ((q = rd_string_end(p, s->end)) != NULL) {
		rd_put(&s->b, "'" REDACT_MARK "'", sizeof(REDACT_MARK) + 1);
		s->after_password = false;
		s->p = q;
		return;
	}
	if (isspace((unsigned char)*p)) {
		rd_put(&s->b, p, 1);
		s->p = p + 1;
		return;
	}
	if (*p == '"')
		q = rd_end_quoted(p, s->end, '"', false);
	else if (rd_word_char((unsigned char)*p))
		for (q = p; q < s->end && rd_word_char((unsigned char)*q);)
			q++;
	else
		q = p + 1;
	if (s->after_password && !(q - p == 4 && strncasecmp(p, "null", 4) == 0) && *p != ';' && *p != ')')
		rd_put(&s->b, REDACT_MARK, sizeof(REDACT_MARK) - 1);
	else
		rd_put(&s->b, p, (size_t)(q - p));
	s->after_password = q - p == 8 && strncasecmp(p, "password", 8) == 0;
	s->p = q;
}

char *redact_sql(const char *in, size_t len, size_t *out_len)
{
	struct rd_sql s = { .p = in, .end = in + len };

	if (!redact_sensitive(in, len)) {
		rd_put(&s.b, in, len);
		return rd_finish(&s.b, out_len);
	}
	while (s.p < s.end)
		rd_sql_step(&s);
	return rd_finish(&s.b, out_len);
}

/* ---- messages ---- */

char *redact_message(const char *in, size_t len, size_t *out_len)
{
	struct rd_buf b = { 0 };
	const char *p = in, *end = in + len;

	while (p < end) {
		if (*p != '"' && *p != '\'') {
			const char *q = p;
			while (q < end && *q != '"' && *q != '\'')
				q++;
			rd_put(&b, p, (size_t)(q - p));
			p = q;
			continue;
		}
		/* a quote: everything up to the matching one (or the end) goes */
		const char *close = memchr(p + 1, *p, (size_t)(end - p - 1));
		rd_put(&b, p, 1);
		rd_put(&b, REDACT_MARK, sizeof(REDACT_MARK) - 1);
		if (close == NULL)
			break;
		rd_put(&b, close, 1);
		p = close + 1;
	}
	return rd_finish(&b, out_len);
}
