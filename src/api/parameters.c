/*
 * parameters.c - Parameters: catalog, instance parameters, change events, templates (issue 4).
 * The actions of this family are not built yet: the table is empty, so
 * the gateway answers UnsupportedOperation for each of them.
 */
#include "api/api.h"

const struct api_handler parameter_handlers[] = {
	{ NULL, NULL },
};
