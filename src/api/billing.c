/*
 * billing.c - Billing, specifications and maintenance (issue 6).
 * The actions of this family are not built yet: the table is empty, so
 * the gateway answers UnsupportedOperation for each of them.
 */
#include "api/api.h"

const struct api_handler billing_handlers[] = {
	{ NULL, NULL },
};
