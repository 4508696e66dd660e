/*
 * params.h - parameter validation against the action table, before any
 * handler runs, and the response check after it.
 *
 * Input: the decoded parameter object is checked field by field against
 * the action's `inputs` and coerced in place to the documented types
 * (numeric strings become numbers, "true"/"false" become booleans, JSON
 * nulls are dropped as absent), recursing into documented data types.
 * The first problem found is reported with the parameter's full path
 * (`Filters.1.Values.0`):
 *   MissingParameter       a required parameter is absent
 *   InvalidParameter       wrong type (object for a string, "abc" for an Integer, ...)
 *   InvalidParameterValue  outside the documented range or enum, over a cap
 *   UnknownParameter       a name the action (or data type) does not document
 */
#ifndef PGFLEET_API_PARAMS_H
#define PGFLEET_API_PARAMS_H

#include <jansson.h>

#include "api/action.h"
#include "core/err.h"

#define PARAMS_MAX_STRING  65536   /* bytes in one string value */
#define PARAMS_MAX_ARRAY   1000    /* elements in one array parameter */
#define PARAMS_MAX_PATH    256     /* bytes of a parameter path in messages */

/* Validate and coerce `params` (a JSON object) in place. */
int params_validate(const struct api_field *fields, size_t n, json_t *params, struct err *e);

/* Check a handler's response object: every member documented, every value
 * of the documented JSON type (null only where nullable). A failure is a
 * bug in the handler: ERR_INTERNAL_ERROR with the path in the message. */
int params_check_output(const struct api_field *fields, size_t n, const json_t *out, struct err *e);

#endif
