/*
 * test_action.c - the generated action table (actions.gen.c), its lookups
 * (action.c) and the generated error registry (errcodes.gen.h via err.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "api/action.h"
#include "core/err.h"

static const struct api_field *input(const char *action, const char *field)
{
	const struct api_action *a = api_action_find(action);

	assert_non_null(a);
	return api_field_find(a->inputs, a->ninputs, field);
}

static const struct api_field *output(const char *action, const char *field)
{
	const struct api_action *a = api_action_find(action);

	assert_non_null(a);
	return api_field_find(a->outputs, a->noutputs, field);
}

/* Field list invariants: names unique, objects only (and always) on typed fields. */
static void check_fields(const struct api_field *f, size_t n)
{
	if (n > 0)
		assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(f[i].name);
		assert_ptr_equal(api_field_find(f, n, f[i].name), &f[i]);
		if (f[i].type == API_T_OBJECT) {
			assert_non_null(f[i].object);
			assert_true(f[i].object >= api_structs && f[i].object < api_structs + api_structs_count);
		} else {
			assert_null(f[i].object);
		}
		if (f[i].flags & API_F_RANGE)
			assert_true(f[i].min <= f[i].max);
	}
}

static void test_table_sorted(void **state)
{
	assert_int_equal(api_actions_count, 89);
	for (size_t i = 0; i < api_actions_count; i++) {
		const struct api_action *a = &api_actions[i];

		if (i > 0)
			assert_true(strcmp(api_actions[i - 1].name, a->name) < 0);
		assert_non_null(a->category);
		assert_true(a->rate_limit > 0);
		check_fields(a->inputs, a->ninputs);
		check_fields(a->outputs, a->noutputs);
		assert_null(api_field_find(a->outputs, a->noutputs, "RequestId"));
		for (size_t k = 0; k < a->nerrors; k++)
			assert_true(a->errors[k] > ERR_OK && a->errors[k] < ERR__COUNT);
	}
	assert_true(api_structs_count > 0);
	for (size_t i = 0; i < api_structs_count; i++) {
		if (i > 0)
			assert_true(strcmp(api_structs[i - 1].name, api_structs[i].name) < 0);
		assert_true(api_structs[i].nfields > 0);
		check_fields(api_structs[i].fields, api_structs[i].nfields);
	}
}

static void test_lookup(void **state)
{
	const struct api_action *a = api_action_find("CreateInstances");

	assert_non_null(a);
	assert_string_equal(a->name, "CreateInstances");
	assert_int_equal(a->rate_limit, 100);
	/* every entry is found, including the first and the last */
	for (size_t i = 0; i < api_actions_count; i++)
		assert_ptr_equal(api_action_find(api_actions[i].name), &api_actions[i]);
	assert_null(api_action_find("NoSuchAction"));
	assert_null(api_action_find("createinstances"));
	assert_null(api_action_find("CREATEINSTANCES"));
	assert_null(api_action_find("CreateInstance"));
	assert_null(api_action_find("CreateInstancesX"));
	assert_null(api_action_find(""));
	assert_null(api_action_find(NULL));
	assert_null(api_action_find("AAA"));
	assert_null(api_action_find("zzz"));
	assert_non_null(api_action_find("DescribeDBInstances"));
	assert_non_null(api_action_find("CreateServerlessDBInstance")); /* seed-only action */
	assert_null(api_field_find(NULL, 0, "Zone"));
	assert_null(api_field_find(a->inputs, a->ninputs, NULL));
	assert_null(api_field_find(a->inputs, a->ninputs, "zone"));
}

static void test_filters(void **state)
{
	const struct api_field *f = input("DescribeDBInstances", "Filters");

	assert_non_null(f);
	assert_int_equal(f->type, API_T_OBJECT);
	assert_true(f->flags & API_F_ARRAY);
	assert_false(f->flags & API_F_REQUIRED);
	assert_non_null(f->object);
	assert_string_equal(f->object->name, "Filter");
	assert_int_equal(f->object->nfields, 2);

	const struct api_field *name = api_field_find(f->object->fields, f->object->nfields, "Name");
	const struct api_field *values = api_field_find(f->object->fields, f->object->nfields, "Values");

	assert_non_null(name);
	assert_int_equal(name->type, API_T_STRING);
	assert_false(name->flags & API_F_ARRAY);
	assert_non_null(values);
	assert_int_equal(values->type, API_T_STRING);
	assert_true(values->flags & API_F_ARRAY);

	f = input("DescribeDBInstances", "Limit");
	assert_non_null(f);
	assert_int_equal(f->type, API_T_INTEGER);
	assert_true(f->flags & API_F_RANGE);
	assert_int_equal(f->max, 100);
	f = output("DescribeDBInstances", "DBInstanceSet");
	assert_non_null(f);
	assert_string_equal(f->object->name, "DBInstance");
	/* the SDK's spelling, not the seed's */
	assert_non_null(api_field_find(f->object->fields, f->object->nfields, "StatusInReadonlyGroup"));
	assert_null(api_field_find(f->object->fields, f->object->nfields, "StatusInReadOnlyGroup"));
}

static void test_create_instances(void **state)
{
	const struct api_field *f = output("CreateInstances", "DBInstanceIdSet");

	assert_non_null(f);
	assert_int_equal(f->type, API_T_STRING);
	assert_true(f->flags & API_F_ARRAY);
	assert_null(output("CreateInstances", "DBInstanceSet"));

	f = input("CreateInstances", "InstanceCount");
	assert_non_null(f);
	assert_int_equal(f->type, API_T_INTEGER);
	assert_int_equal(f->flags & (API_F_RANGE | API_F_REQUIRED), API_F_RANGE | API_F_REQUIRED);
	assert_int_equal(f->min, 1);
	assert_int_equal(f->max, 10);

	f = input("CreateInstances", "Period"); /* the seed's list lacks 8 and 9 */
	assert_non_null(f);
	assert_int_equal(f->n_enum_int, 14);
	assert_int_equal(f->enum_int[7], 8);
	assert_int_equal(f->enum_int[8], 9);

	f = input("CreateInstances", "Charset");
	assert_non_null(f);
	assert_string_equal(f->enum_str[0], "UTF8");
	assert_string_equal(f->enum_str[1], "LATIN1");
	assert_null(f->enum_str[2]);

	f = input("CreateInstances", "DBMajorVersion"); /* validated against what is installed */
	assert_non_null(f);
	assert_null(f->enum_str);

	f = input("CreateInstances", "DeletionProtection"); /* SDK-only parameters */
	assert_non_null(f);
	assert_int_equal(f->type, API_T_BOOLEAN);
	assert_non_null(input("CreateInstances", "StorageType"));
	assert_non_null(input("CreateInstances", "KMSClusterId"));

	f = input("CreateInstances", "DBNodeSet");
	assert_non_null(f);
	assert_string_equal(f->object->name, "DBNode");
	assert_non_null(output("RestartDBInstance", "TaskId"));
	assert_non_null(input("IsolateDBInstances", "DBInstanceIdSet"));
	assert_non_null(input("OpenDBExtranetAccess", "IsIpv6"));
}

static void test_action_errors(void **state)
{
	const struct api_action *a = api_action_find("CreateInstances");
	int found = 0;

	assert_non_null(a);
	assert_true(a->nerrors > 0);
	for (size_t i = 0; i < a->nerrors; i++)
		if (a->errors[i] == ERR_INVALID_PARAMETER_VALUE_INVALID_ACCOUNT_ERROR)
			found = 1;
	assert_true(found);
}

static void test_error_registry(void **state)
{
	for (int i = 0; i < ERR__COUNT; i++) {
		const char *name = err_code_name((enum err_code)i);

		assert_non_null(name);
		assert_int_equal(err_code_lookup(name), i);
		assert_non_null(err_code_message((enum err_code)i, ERR_LANG_EN));
		if (i > 0)
			assert_true(err_code_message((enum err_code)i, ERR_LANG_EN)[0] != '\0');
	}
	assert_string_equal(err_code_name(ERR_OK), "");
	assert_string_equal(err_code_name(ERR_AUTH_FAILURE_SIGNATURE_EXPIRE), "AuthFailure.SignatureExpire");
	assert_string_equal(err_code_name(ERR_AUTH_FAILURE_MFA_FAILURE), "AuthFailure.MFAFailure");
	assert_string_equal(err_code_name(ERR_INVALID_PARAMETER_VALUE), "InvalidParameterValue");
	assert_string_equal(err_code_name(ERR_INTERNAL_ERROR), "InternalError");
	assert_string_equal(err_code_name(ERR_OPERATION_DENIED_INSTANCE_STATUS_LIMIT_ERROR),
			    "OperationDenied.InstanceStatusLimitError");
	assert_string_equal(err_code_name(ERR_RESOURCE_NOT_FOUND_INSTANCE_NOT_FOUND_ERROR),
			    "ResourceNotFound.InstanceNotFoundError");
	assert_string_equal(err_code_name(ERR_INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST),
			    "InvalidParameterValue.InstanceNotExist");
	assert_string_equal(err_code_name(ERR_OPERATION_DENIED_POST_PAID_PAY_MODE_ERROR),
			    "OperationDenied.PostPaidPayModeError");
	assert_string_equal(err_code_message(ERR_INVALID_PARAMETER, ERR_LANG_ZH), "参数错误。");
	assert_string_equal(err_code_message(ERR_MISSING_PARAMETER, ERR_LANG_ZH), "缺少参数错误。");
	assert_string_equal(err_code_message(ERR_MISSING_PARAMETER, ERR_LANG_EN), "A parameter is missing.");
	assert_int_equal(err_code_lookup("NoSuch.Code"), ERR__COUNT);
	assert_int_equal(err_code_lookup("invalidparameter"), ERR__COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_sorted),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_create_instances),
		cmocka_unit_test(test_action_errors),
		cmocka_unit_test(test_error_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
