/*
 * backups.c - Backups and recovery (issue 5).
 * The actions of this family are not built yet: the table is empty, so
 * the gateway answers UnsupportedOperation for each of them.
 */
#include "api/api.h"

const struct api_handler backup_handlers[] = {
	{ NULL, NULL },
};

#include "api/routes.h"

const struct route backup_routes[] = {
	{ NULL, NULL },
};
