/*
 * ratelimit.h - per-key request counting over one-second windows, the way
 * the cloud states its limits ("a maximum of N requests per second").
 *
 * Keys are 64-bit (the gateway packs tenant id and action index). The table
 * is a fixed-size open-addressing hash under one mutex: a slot whose window
 * has passed is free for reuse, so memory is bounded by RL_SLOTS whatever
 * the number of tenants; when every probed slot is busy in the current
 * second the request is admitted (fail open) rather than blocking.
 */
#ifndef PGFLEET_LIB_RATELIMIT_H
#define PGFLEET_LIB_RATELIMIT_H

#include <stdint.h>

#define RL_SLOTS 8192
#define RL_PROBES 16

struct rl;

struct rl *rl_create(void);
void rl_destroy(struct rl *rl);

/* Count one request for `key` at `now_ms`; returns 1 when it is within
 * `limit` requests in the current second, 0 when it is over. limit <= 0
 * means unlimited. */
int rl_admit(struct rl *rl, uint64_t key, int limit, int64_t now_ms);

#endif
