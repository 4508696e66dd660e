/*
 * err.h - the API error registry and the error value threaded through calls.
 *
 * Every API error code the service can answer (the seed's common and service
 * codes) is listed once in errcodes.gen.h, generated from api/pgfleet-api.json.
 * Code uses the enum names (ERR_INVALID_PARAMETER_VALUE, ...); the gateway
 * turns an error into the Response.Error envelope.
 *
 * Convention: a fallible function takes `struct err *e` last, returns 0 on
 * success or -1 after calling err_set() exactly once at the failure site.
 * Callers pass the error up untouched. Implementation detail (errno, argv,
 * stderr) goes to the log, never into the message a client sees.
 */
#ifndef PGFLEET_CORE_ERR_H
#define PGFLEET_CORE_ERR_H

#include <stdarg.h>

enum err_code {
#define ERRCODE(sym, name, en, zh) sym,
#include "core/errcodes.gen.h"
#undef ERRCODE
	ERR__COUNT
};

#define ERR_MSG_MAX 512

struct err {
	enum err_code code;
	char msg[ERR_MSG_MAX]; /* empty: use the registry's default message */
};

enum err_lang { ERR_LANG_EN = 0, ERR_LANG_ZH = 1 };

/* Record `code` with a printf-style message (NULL fmt = default message).
 * Always returns -1 so that `return err_set(e, ...)` reads naturally. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reset to "no error". */
void err_clear(struct err *e);

/* The wire name of a code, e.g. "InvalidParameterValue". */
const char *err_code_name(enum err_code code);

/* The registry's default message for a code in the given language. */
const char *err_code_message(enum err_code code, enum err_lang lang);

/* The message to send: e->msg if set, else the default. */
const char *err_message(const struct err *e, enum err_lang lang);

/* Look up a code by wire name; returns ERR__COUNT when unknown. */
enum err_code err_code_lookup(const char *name);

#endif
