/*
 * action.h - the action table: every action of the API with its parameter
 * and response schema, generated into actions.gen.c from api/pgfleet-api.json
 * by tools/gen_api.py (`make gen`). Nothing here is written by hand except
 * these declarations.
 *
 * The gateway looks an action up by name, validates the request's parameters
 * against `inputs` (params.c) before any handler runs, and checks the
 * handler's response against `outputs` before sending it.
 */
#ifndef PGFLEET_API_ACTION_H
#define PGFLEET_API_ACTION_H

#include <stddef.h>
#include "core/err.h"

enum api_type {
	API_T_STRING,
	API_T_INTEGER,   /* JSON integer; numeric strings accepted on input */
	API_T_FLOAT,     /* JSON number; numeric strings accepted on input */
	API_T_BOOLEAN,   /* JSON bool; "true"/"false" accepted on input */
	API_T_TIMESTAMP, /* string "YYYY-MM-DD HH:MM:SS" (or ISO 8601 where documented) */
	API_T_OBJECT,    /* a documented data type, see `object` */
};

#define API_F_REQUIRED  0x01u
#define API_F_ARRAY     0x02u
#define API_F_NULLABLE  0x04u /* response may carry JSON null */
#define API_F_RANGE     0x08u /* min/max apply (value for numbers, length for strings) */

struct api_struct;

struct api_field {
	const char *name;
	enum api_type type;
	unsigned flags;
	const struct api_struct *object;   /* API_T_OBJECT only */
	const char *const *enum_str;       /* NULL or NULL-terminated list (strings) */
	const long long *enum_int;         /* NULL or list of n_enum_int values */
	size_t n_enum_int;
	long long min, max;                /* with API_F_RANGE */
};

struct api_struct {
	const char *name;
	const struct api_field *fields;
	size_t nfields;
};

struct api_action {
	const char *name;
	const char *category;
	int rate_limit;                    /* requests per second per tenant */
	const struct api_field *inputs;
	size_t ninputs;
	const struct api_field *outputs;   /* RequestId excluded */
	size_t noutputs;
	const enum err_code *errors;       /* the codes this action documents */
	size_t nerrors;
};

/* Generated: sorted by name. */
extern const struct api_action api_actions[];
extern const size_t api_actions_count;
extern const struct api_struct api_structs[];
extern const size_t api_structs_count;

/* Binary search by exact (case-sensitive) name; NULL when unknown. */
const struct api_action *api_action_find(const char *name);

/* Field of a struct/action input list by exact name; NULL when absent. */
const struct api_field *api_field_find(const struct api_field *fields, size_t n,
				       const char *name);

#endif
