/*
 * billing_tasks.c - the billing task kinds (issue 6). None yet.
 */
#include "task/fleet.h"

const struct task_kind billing_task_kinds[] = {
	{ NULL, NULL, NULL, 0, NULL },
};
