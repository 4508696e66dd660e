/*
 * params.c - see params.h. The walk is one recursive function per direction
 * (input validation, output check); the path of the value being checked is
 * carried in a small bounded buffer so that messages name it exactly.
 */
#include "api/params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct params_path {
	char buf[PARAMS_MAX_PATH];
	size_t len;
};

/* Append ".name" (or "name" at the root) and return the previous length. */
static size_t path_push(struct params_path *p, const char *name)
{
	size_t old = p->len;
	int w = snprintf(p->buf + p->len, sizeof(p->buf) - p->len, "%s%s", p->len ? "." : "", name);

	if (w > 0)
		p->len = p->len + (size_t)w < sizeof(p->buf) ? p->len + (size_t)w : sizeof(p->buf) - 1;
	return old;
}

static size_t path_push_index(struct params_path *p, size_t i)
{
	char idx[24];

	snprintf(idx, sizeof(idx), "%zu", i);
	return path_push(p, idx);
}

static void path_pop(struct params_path *p, size_t old)
{
	p->len = old;
	p->buf[old] = '\0';
}

static const char *type_name(const struct api_field *f)
{
	switch (f->type) {
	case API_T_STRING: return "String";
	case API_T_INTEGER: return "Integer";
	case API_T_FLOAT: return "Float";
	case API_T_BOOLEAN: return "Boolean";
	case API_T_TIMESTAMP: return "Timestamp";
	case API_T_OBJECT: return f->object ? f->object->name : "Object";
	}
	return "?";
}

static int bad_type(const struct api_field *f, const struct params_path *p, struct err *e)
{
	return err_set(e, ERR_INVALID_PARAMETER,
		       "The value type of parameter `%s` is incorrect, expected %s.", p->buf, type_name(f));
}

/* "123", "-5" -> integer; anything else fails. */
static int parse_int(const char *s, long long *out)
{
	char *end;

	if (*s == '\0' || strlen(s) > 20)
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return (errno != 0 || *end != '\0' || s[0] == '+' || s[0] == ' ') ? -1 : 0;
}

static int parse_float(const char *s, double *out)
{
	char *end;

	if (*s == '\0' || strlen(s) > 64)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return (errno != 0 || *end != '\0' || !isfinite(*out) || s[0] == ' ') ? -1 : 0;
}

static int check_int_value(const struct api_field *f, long long v, const struct params_path *p,
			   struct err *e)
{
	if ((f->flags & API_F_RANGE) && (v < f->min || v > f->max))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "The value of parameter `%s` is out of range: %lld is not in %lld..%lld.",
			       p->buf, v, f->min, f->max);
	if (f->enum_int != NULL) {
		for (size_t i = 0; i < f->n_enum_int; i++)
			if (f->enum_int[i] == v)
				return 0;
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "The value of parameter `%s` is invalid: %lld is not an allowed value.", p->buf, v);
	}
	return 0;
}

/* The documented spelling of an enum value, matched without regard to case
 * (the seed's own examples send "prepaid" where the SDK sends "PREPAID"). */
static const char *enum_str_match(const struct api_field *f, const char *s)
{
	for (const char *const *v = f->enum_str; *v != NULL; v++)
		if (strcasecmp(*v, s) == 0)
			return *v;
	return NULL;
}

static int check_string_value(const struct api_field *f, const char *s, const struct params_path *p,
			      struct err *e)
{
	size_t len = strlen(s);

	if (len > PARAMS_MAX_STRING)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "The value of parameter `%s` is too long.", p->buf);
	if ((f->flags & API_F_RANGE) && ((long long)len < f->min || (long long)len > f->max))
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "The length of parameter `%s` must be between %lld and %lld.", p->buf, f->min, f->max);
	if (f->enum_str != NULL && enum_str_match(f, s) == NULL)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE,
			       "The value of parameter `%s` is invalid: \"%.64s\" is not an allowed value.", p->buf, s);
	return 0;
}

static int validate_object(const struct api_field *fields, size_t n, json_t *obj, struct params_path *p,
			   struct err *e);

/* Validate one scalar or object value; may replace it in `*slot`. */
static int validate_scalar(const struct api_field *f, json_t **slot, struct params_path *p, struct err *e)
{
	json_t *v = *slot;
	long long iv;
	double dv;

	switch (f->type) {
	case API_T_STRING:
	case API_T_TIMESTAMP:
		if (!json_is_string(v))
			return bad_type(f, p, e);
		if (check_string_value(f, json_string_value(v), p, e) != 0)
			return -1;
		if (f->enum_str != NULL && strcmp(enum_str_match(f, json_string_value(v)), json_string_value(v)) != 0) {
			*slot = json_string(enum_str_match(f, json_string_value(v)));
			json_decref(v);
		}
		return 0;
	case API_T_INTEGER:
		if (json_is_string(v)) {
			if (parse_int(json_string_value(v), &iv) != 0)
				return bad_type(f, p, e);
			json_decref(v);
			*slot = json_integer(iv);
		} else if (json_is_integer(v)) {
			iv = json_integer_value(v);
		} else {
			return bad_type(f, p, e);
		}
		return check_int_value(f, iv, p, e);
	case API_T_FLOAT:
		if (json_is_string(v)) {
			if (parse_float(json_string_value(v), &dv) != 0)
				return bad_type(f, p, e);
			json_decref(v);
			*slot = json_real(dv);
			return 0;
		}
		return json_is_number(v) ? 0 : bad_type(f, p, e);
	case API_T_BOOLEAN:
		if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 ||
					  strcmp(json_string_value(v), "false") == 0)) {
			int b = strcmp(json_string_value(v), "true") == 0;
			json_decref(v);
			*slot = json_boolean(b);
			return 0;
		}
		return json_is_boolean(v) ? 0 : bad_type(f, p, e);
	case API_T_OBJECT:
		if (!json_is_object(v) || f->object == NULL)
			return bad_type(f, p, e);
		return validate_object(f->object->fields, f->object->nfields, v, p, e);
	}
	return bad_type(f, p, e);
}

/* Validate a field's value (array or not); *slot may be replaced. */
static int validate_value(const struct api_field *f, json_t **slot, struct params_path *p, struct err *e)
{
	if (!(f->flags & API_F_ARRAY))
		return validate_scalar(f, slot, p, e);
	if (!json_is_array(*slot))
		return err_set(e, ERR_INVALID_PARAMETER,
			       "The value type of parameter `%s` is incorrect, expected an array of %s.", p->buf,
			       type_name(f));
	if (json_array_size(*slot) > PARAMS_MAX_ARRAY)
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "Parameter `%s` has more than %d elements.", p->buf,
			       PARAMS_MAX_ARRAY);
	for (size_t i = 0; i < json_array_size(*slot); i++) {
		/* `el` owns one reference; validate_scalar may swap it for a coerced value */
		json_t *el = json_incref(json_array_get(*slot, i));
		size_t old = path_push_index(p, i);
		int rc = json_is_null(el) ? bad_type(f, p, e) : validate_scalar(f, &el, p, e);

		if (rc == 0 && el != json_array_get(*slot, i))
			json_array_set(*slot, i, el);
		json_decref(el);
		path_pop(p, old);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Drop JSON nulls: clients send them for "not set". */
static void drop_nulls(json_t *obj)
{
	const char *key;
	json_t *val;
	void *tmp;

	json_object_foreach_safe(obj, tmp, key, val) {
		if (json_is_null(val))
			json_object_del(obj, key);
	}
}

static int validate_object(const struct api_field *fields, size_t n, json_t *obj, struct params_path *p,
			   struct err *e)
{
	const char *key;
	json_t *val;

	drop_nulls(obj);
	json_object_foreach(obj, key, val) {
		if (api_field_find(fields, n, key) == NULL) {
			size_t old = path_push(p, key);
			err_set(e, ERR_UNKNOWN_PARAMETER, "The parameter `%s` is not recognized.", p->buf);
			path_pop(p, old);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct api_field *f = &fields[i];
		json_t *v = json_object_get(obj, f->name);
		size_t old = path_push(p, f->name);
		int rc = 0;

		if (v == NULL) {
			if (f->flags & API_F_REQUIRED)
				rc = err_set(e, ERR_MISSING_PARAMETER,
					     "The request is missing the required parameter `%s`.", p->buf);
		} else {
			json_t *slot = json_incref(v);
			rc = validate_value(f, &slot, p, e);
			if (rc == 0 && slot != v)
				json_object_set(obj, f->name, slot);
			json_decref(slot);
		}
		path_pop(p, old);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int params_validate(const struct api_field *fields, size_t n, json_t *params, struct err *e)
{
	struct params_path p = { .buf = "", .len = 0 };

	if (!json_is_object(params))
		return err_set(e, ERR_INVALID_PARAMETER, "The request parameters must be a JSON object.");
	return validate_object(fields, n, params, &p, e);
}

/* ---- response check ---- */

static int check_out_object(const struct api_field *fields, size_t n, const json_t *obj,
			    struct params_path *p, struct err *e);

static int out_bad(const struct params_path *p, const char *why, struct err *e)
{
	return err_set(e, ERR_INTERNAL_ERROR, "response field `%s`: %s", p->buf, why);
}

static int check_out_scalar(const struct api_field *f, const json_t *v, struct params_path *p,
			    struct err *e)
{
	if (json_is_null(v))
		return (f->flags & API_F_NULLABLE) ? 0 : out_bad(p, "null but not nullable", e);
	switch (f->type) {
	case API_T_STRING:
	case API_T_TIMESTAMP:
		return json_is_string(v) ? 0 : out_bad(p, "expected a string", e);
	case API_T_INTEGER:
		return json_is_integer(v) ? 0 : out_bad(p, "expected an integer", e);
	case API_T_FLOAT:
		return json_is_number(v) ? 0 : out_bad(p, "expected a number", e);
	case API_T_BOOLEAN:
		return json_is_boolean(v) ? 0 : out_bad(p, "expected a boolean", e);
	case API_T_OBJECT:
		if (!json_is_object(v) || f->object == NULL)
			return out_bad(p, "expected an object", e);
		return check_out_object(f->object->fields, f->object->nfields, v, p, e);
	}
	return out_bad(p, "unknown type", e);
}

static int check_out_value(const struct api_field *f, const json_t *v, struct params_path *p,
			   struct err *e)
{
	size_t i;
	json_t *el;

	if (!(f->flags & API_F_ARRAY))
		return check_out_scalar(f, v, p, e);
	if (json_is_null(v))
		return (f->flags & API_F_NULLABLE) ? 0 : out_bad(p, "null but not nullable", e);
	if (!json_is_array(v))
		return out_bad(p, "expected an array", e);
	json_array_foreach(v, i, el) {
		size_t old = path_push_index(p, i);
		int rc = check_out_scalar(f, el, p, e);
		path_pop(p, old);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int check_out_object(const struct api_field *fields, size_t n, const json_t *obj,
			    struct params_path *p, struct err *e)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val) {
		const struct api_field *f = api_field_find(fields, n, key);
		size_t old = path_push(p, key);
		int rc = f ? check_out_value(f, val, p, e) : out_bad(p, "not documented", e);
		path_pop(p, old);
		if (rc != 0)
			return -1;
	}
	return 0;
}

int params_check_output(const struct api_field *fields, size_t n, const json_t *out, struct err *e)
{
	struct params_path p = { .buf = "", .len = 0 };

	if (!json_is_object(out))
		return err_set(e, ERR_INTERNAL_ERROR, "response is not an object");
	return check_out_object(fields, n, out, &p, e);
}
