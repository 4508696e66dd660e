/*
 * backup_tasks.c - the backup task kinds (issue 5). None yet.
 */
#include "task/fleet.h"

const struct task_kind backup_task_kinds[] = {
	{ NULL, NULL, NULL, 0, NULL },
};
