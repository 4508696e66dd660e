/*
 * parameter_tasks.c - the parameter task kinds (issue 4). None yet.
 */
#include "task/fleet.h"

const struct task_kind parameter_task_kinds[] = {
	{ NULL, NULL, NULL, 0, NULL },
};
