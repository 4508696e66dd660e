/*
 * logs.c - Logs and performance insight (issue 7).
 * The actions of this family are not built yet: the table is empty, so
 * the gateway answers UnsupportedOperation for each of them.
 */
#include "api/api.h"

const struct api_handler log_handlers[] = {
	{ NULL, NULL },
};
