/*
 * redact.h - keep passwords out of what the service shows. PostgreSQL logs
 * statement text as the client sent it, so `ALTER ROLE bob PASSWORD 'x'`
 * reaches the server log verbatim (in a slow-statement line, or as the
 * STATEMENT of an error). Everything read from a log goes through here
 * before it is kept or returned.
 *
 * A text is sensitive when it contains "password" or "passwd" in any case
 * (the keyword, a column, a connection string 'password=...'). In a
 * sensitive SQL text every string literal ('..', E'..', U&'..', $$..$$)
 * becomes '[REDACTED]', comments are dropped, and the token after the
 * keyword PASSWORD becomes [REDACTED] whatever its form (a syntax error
 * may leave it unquoted). SQL that is not sensitive is copied unchanged.
 * An error message quotes pieces of its statement ('syntax error at or
 * near "hunter2"'), so the caller redacts the message of a sensitive
 * statement with redact_message(), which blanks every quoted segment.
 */
#ifndef PGFLEET_LIB_REDACT_H
#define PGFLEET_LIB_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define REDACT_MARK "[REDACTED]"

/* Does s[0..len) mention a password (see above)? */
bool redact_sensitive(const char *s, size_t len);

/* Redacted copy of the SQL text in[0..len), NUL-terminated, malloc'd (the
 * caller frees); *out_len receives its length. NULL when out of memory. */
char *redact_sql(const char *in, size_t len, size_t *out_len);

/* Copy of a message (error text, CONTEXT) with the contents of every
 * quoted segment replaced: for a message whose statement was sensitive.
 * malloc'd as above. */
char *redact_message(const char *in, size_t len, size_t *out_len);

#endif
