/* test_ratelimit.c - one-second windows per key, bounded table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/ratelimit.h"

static void test_window(void **state)
{
	struct rl *rl = rl_create();
	int ok = 0;

	for (int i = 0; i < 30; i++)
		ok += rl_admit(rl, 7, 20, 5000);
	assert_int_equal(ok, 20);
	assert_int_equal(rl_admit(rl, 8, 20, 5000), 1);  /* other key unaffected */
	assert_int_equal(rl_admit(rl, 7, 20, 5999), 0);  /* same second */
	assert_int_equal(rl_admit(rl, 7, 20, 6000), 1);  /* next second */
	assert_int_equal(rl_admit(rl, 7, 0, 6000), 1);   /* unlimited */
	rl_destroy(rl);
}

static void test_many_keys(void **state)
{
	struct rl *rl = rl_create();

	/* more keys than slots: stale windows are reused, nothing blocks forever */
	for (uint64_t k = 0; k < 3 * RL_SLOTS; k++)
		rl_admit(rl, k, 1, (int64_t)(k / 1000) * 1000);
	assert_int_equal(rl_admit(rl, 1, 1, 999999000), 1);
	assert_int_equal(rl_admit(rl, 1, 1, 999999000), 0);
	rl_destroy(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_many_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
