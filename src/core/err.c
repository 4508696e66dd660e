/*
 * err.c - error registry lookups and the err_set() recorder.
 * The tables come from errcodes.gen.h (see err.h).
 */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

struct err_entry {
	const char *name;
	const char *en;
	const char *zh;
};

static const struct err_entry err_table[ERR__COUNT] = {
#define ERRCODE(sym, name, en, zh) [sym] = { name, en, zh },
#include "core/errcodes.gen.h"
#undef ERRCODE
};

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	if (e == NULL)
		return -1;
	e->code = code;
	e->msg[0] = '\0';
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

void err_clear(struct err *e)
{
	e->code = ERR_OK;
	e->msg[0] = '\0';
}

const char *err_code_name(enum err_code code)
{
	if ((unsigned)code >= ERR__COUNT)
		return "InternalError";
	return err_table[code].name;
}

const char *err_code_message(enum err_code code, enum err_lang lang)
{
	if ((unsigned)code >= ERR__COUNT)
		code = ERR_INTERNAL_ERROR;
	if (lang == ERR_LANG_ZH && err_table[code].zh[0] != '\0')
		return err_table[code].zh;
	return err_table[code].en;
}

const char *err_message(const struct err *e, enum err_lang lang)
{
	if (e->msg[0] != '\0')
		return e->msg;
	return err_code_message(e->code, lang);
}

enum err_code err_code_lookup(const char *name)
{
	for (int i = 0; i < ERR__COUNT; i++)
		if (strcmp(err_table[i].name, name) == 0)
			return (enum err_code)i;
	return ERR__COUNT;
}
