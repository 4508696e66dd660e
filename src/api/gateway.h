/*
 * gateway.h - the HTTP front door, and the only module that writes HTTP
 * responses. It runs libmicrohttpd's worker threads; each request goes
 * through one gate (gateway.c:gw_call_run) - decode, authenticate, check
 * version, action and rate limit, validate parameters - before its handler
 * runs, and every outcome becomes HTTP 200 with the Response envelope.
 */
#ifndef PGFLEET_API_GATEWAY_H
#define PGFLEET_API_GATEWAY_H

#include "core/config.h"
#include "core/err.h"
#include "store/store.h"

struct gateway;

struct api_services;

/* Bind cfg->listen and start serving. `svc` (config, store, task engine)
 * must outlive the gateway. */
int gateway_start(struct gateway **out, const struct api_services *svc, struct err *e);

/* Stop accepting, finish in-flight requests, flush the audit log, free. */
void gateway_stop(struct gateway *gw);

/* The bound port (useful with port 0). */
int gateway_port(const struct gateway *gw);

/* Write queued audit rows to the store; called from the main loop's timer. */
void gateway_flush_log(struct gateway *gw);

#endif
