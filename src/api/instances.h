/*
 * instances.h - the instance actions (lifecycle, listing, attributes) and
 * the account/database actions, plus what they share: tenant-scoped lookup
 * and the DBInstance view.
 */
#ifndef PGFLEET_API_INSTANCES_H
#define PGFLEET_API_INSTANCES_H

#include "api/api.h"

#define INSTANCE_ID_PREFIX "postgres-"

/* The caller's instance `id`; another tenant's or an unknown id answers the
 * not-found code this action documents (ResourceNotFound.InstanceNotFoundError
 * or InvalidParameterValue.InstanceNotExist). */
int instance_get(const struct api_ctx *ctx, const char *id, struct store_res *out, struct err *e);

/* Fail with OperationDenied.InstanceStatusLimitError unless the instance's
 * status is one of the NULL-terminated `allowed`. */
int instance_status_allows(const struct store_res *r, const char *const *allowed, struct err *e);

/* The DBInstance object of the API for a stored instance. */
json_t *instance_view(const struct store_res *r, const struct store_tenant *t);

/* Account name and password rules of the seed (CreateInstances AdminName /
 * AdminPassword, ResetAccountPassword). */
int instance_check_account_name(const char *name, struct err *e);
int instance_check_password(const char *pw, struct err *e);

int instances_create(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_create_legacy(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_init(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_describe(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_describe_attribute(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_modify_name(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_modify_project(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_restart(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_isolate(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_disisolate(struct api_ctx *ctx, json_t *out, struct err *e);
int instances_destroy(struct api_ctx *ctx, json_t *out, struct err *e);

int accounts_describe(struct api_ctx *ctx, json_t *out, struct err *e);
int accounts_reset_password(struct api_ctx *ctx, json_t *out, struct err *e);
int accounts_modify_remark(struct api_ctx *ctx, json_t *out, struct err *e);
int databases_describe(struct api_ctx *ctx, json_t *out, struct err *e);

#endif
