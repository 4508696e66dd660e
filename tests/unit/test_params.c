/* test_params.c - parameter validation, coercion and the response check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "api/params.h"

static const char *const charsets[] = { "UTF8", "LATIN1", NULL };
static const long long periods[] = { 1, 2, 3, 12, 24, 36 };

static const struct api_field filter_fields[] = {
	{ .name = "Name", .type = API_T_STRING, .flags = API_F_REQUIRED },
	{ .name = "Values", .type = API_T_STRING, .flags = API_F_ARRAY },
};
static const struct api_struct filter_struct = { "Filter", filter_fields, 2 };

static const struct api_field inputs[] = {
	{ .name = "Zone", .type = API_T_STRING, .flags = API_F_REQUIRED },
	{ .name = "Limit", .type = API_T_INTEGER, .flags = API_F_RANGE, .min = 1, .max = 100 },
	{ .name = "Charset", .type = API_T_STRING, .enum_str = charsets },
	{ .name = "Period", .type = API_T_INTEGER, .enum_int = periods, .n_enum_int = 6 },
	{ .name = "Ratio", .type = API_T_FLOAT },
	{ .name = "AutoRenew", .type = API_T_BOOLEAN },
	{ .name = "Ids", .type = API_T_INTEGER, .flags = API_F_ARRAY },
	{ .name = "Filters", .type = API_T_OBJECT, .flags = API_F_ARRAY, .object = &filter_struct },
};
#define NIN (sizeof(inputs) / sizeof(inputs[0]))

/* Validate `text`; return the error code (ERR_OK on success); keep the object in *out. */
static enum err_code run(const char *text, json_t **out, char *msg, size_t msglen)
{
	json_error_t je;
	struct err e;
	json_t *p = json_loads(text, 0, &je);

	assert_non_null(p);
	err_clear(&e);
	int rc = params_validate(inputs, NIN, p, &e);
	if (msg)
		snprintf(msg, msglen, "%s", e.msg);
	if (out)
		*out = p;
	else
		json_decref(p);
	return rc == 0 ? ERR_OK : e.code;
}

static void test_ok_and_coercion(void **state)
{
	json_t *p;

	assert_int_equal(run("{\"Zone\":\"z\",\"Limit\":\"10\",\"Ratio\":\"1.5\",\"AutoRenew\":\"true\","
			     "\"Ids\":[\"1\",2],\"Filters\":[{\"Name\":\"n\",\"Values\":[\"a\"]}]}", &p, NULL, 0),
			 ERR_OK);
	assert_true(json_is_integer(json_object_get(p, "Limit")));
	assert_int_equal(json_integer_value(json_object_get(p, "Limit")), 10);
	assert_true(json_is_real(json_object_get(p, "Ratio")));
	assert_true(json_is_true(json_object_get(p, "AutoRenew")));
	assert_int_equal(json_integer_value(json_array_get(json_object_get(p, "Ids"), 0)), 1);
	json_decref(p);
	/* enum values match without case and come out in the documented spelling */
	assert_int_equal(run("{\"Zone\":\"z\",\"Charset\":\"utf8\"}", &p, NULL, 0), ERR_OK);
	assert_string_equal(json_string_value(json_object_get(p, "Charset")), "UTF8");
	json_decref(p);
}

static void test_nulls_dropped(void **state)
{
	json_t *p;

	assert_int_equal(run("{\"Zone\":\"z\",\"Limit\":null}", &p, NULL, 0), ERR_OK);
	assert_null(json_object_get(p, "Limit"));
	json_decref(p);
	assert_int_equal(run("{\"Zone\":null}", NULL, NULL, 0), ERR_MISSING_PARAMETER);
}

static void test_errors(void **state)
{
	char msg[ERR_MSG_MAX];

	assert_int_equal(run("{}", NULL, msg, sizeof(msg)), ERR_MISSING_PARAMETER);
	assert_non_null(strstr(msg, "`Zone`"));
	assert_int_equal(run("{\"Zone\":1}", NULL, NULL, 0), ERR_INVALID_PARAMETER);
	assert_int_equal(run("{\"Zone\":\"z\",\"Limit\":\"ten\"}", NULL, NULL, 0), ERR_INVALID_PARAMETER);
	assert_int_equal(run("{\"Zone\":\"z\",\"Limit\":1.5}", NULL, NULL, 0), ERR_INVALID_PARAMETER);
	assert_int_equal(run("{\"Zone\":\"z\",\"Limit\":\"+5\"}", NULL, NULL, 0), ERR_INVALID_PARAMETER);
	assert_int_equal(run("{\"Zone\":\"z\",\"Limit\":101}", NULL, NULL, 0), ERR_INVALID_PARAMETER_VALUE);
	assert_int_equal(run("{\"Zone\":\"z\",\"Limit\":0}", NULL, NULL, 0), ERR_INVALID_PARAMETER_VALUE);
	assert_int_equal(run("{\"Zone\":\"z\",\"Charset\":\"utf-8\"}", NULL, NULL, 0), ERR_INVALID_PARAMETER_VALUE);
	assert_int_equal(run("{\"Zone\":\"z\",\"Period\":8}", NULL, NULL, 0), ERR_INVALID_PARAMETER_VALUE);
	assert_int_equal(run("{\"Zone\":\"z\",\"AutoRenew\":\"yes\"}", NULL, NULL, 0), ERR_INVALID_PARAMETER);
	assert_int_equal(run("{\"Zone\":\"z\",\"Ids\":5}", NULL, NULL, 0), ERR_INVALID_PARAMETER);
	assert_int_equal(run("{\"Zone\":\"z\",\"Ids\":[null]}", NULL, NULL, 0), ERR_INVALID_PARAMETER);
	assert_int_equal(run("{\"Zone\":\"z\",\"Bogus\":1}", NULL, msg, sizeof(msg)), ERR_UNKNOWN_PARAMETER);
	assert_non_null(strstr(msg, "`Bogus`"));
	assert_int_equal(run("{\"Zone\":\"z\",\"Filters\":[{\"Name\":\"a\"},{\"Values\":[\"x\"]}]}", NULL, msg,
			     sizeof(msg)),
			 ERR_MISSING_PARAMETER);
	assert_non_null(strstr(msg, "`Filters.1.Name`"));
	assert_int_equal(run("{\"Zone\":\"z\",\"Filters\":[{\"Name\":\"a\",\"X\":1}]}", NULL, msg, sizeof(msg)),
			 ERR_UNKNOWN_PARAMETER);
	assert_non_null(strstr(msg, "`Filters.0.X`"));
	assert_int_equal(run("{\"Zone\":\"z\",\"Filters\":[\"a\"]}", NULL, NULL, 0), ERR_INVALID_PARAMETER);
	assert_int_equal(run("[]", NULL, NULL, 0), ERR_INVALID_PARAMETER);
}

static void test_output_check(void **state)
{
	static const struct api_field outs[] = {
		{ .name = "TotalCount", .type = API_T_INTEGER },
		{ .name = "Note", .type = API_T_STRING, .flags = API_F_NULLABLE },
		{ .name = "Set", .type = API_T_OBJECT, .flags = API_F_ARRAY, .object = &filter_struct },
	};
	struct err e;
	json_t *o = json_pack("{s:i, s:n, s:[{s:s, s:[s]}]}", "TotalCount", 1, "Note", "Set", "Name", "x",
			      "Values", "v");

	assert_int_equal(params_check_output(outs, 3, o, &e), 0);
	json_object_set_new(o, "TotalCount", json_string("1"));
	assert_int_equal(params_check_output(outs, 3, o, &e), -1);
	assert_int_equal(e.code, ERR_INTERNAL_ERROR);
	json_object_set_new(o, "TotalCount", json_integer(1));
	json_object_set_new(o, "Extra", json_true());
	assert_int_equal(params_check_output(outs, 3, o, &e), -1);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_and_coercion),
		cmocka_unit_test(test_nulls_dropped),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_output_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
