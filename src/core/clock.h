/*
 * clock.h - the service's business clock: what "now" is for creation and
 * expiry times, billing, retention and schedules. It is the system clock
 * plus an offset that only an operator can move (tests drive billing and
 * retention forward this way; the public API never can). Timestamps that
 * protect the protocol itself (signature windows) use the real clock.
 */
#ifndef PGFLEET_CORE_CLOCK_H
#define PGFLEET_CORE_CLOCK_H

#include <stdint.h>

/* Unix seconds: the system clock plus the operator's offset. */
int64_t clock_now(void);

/* "YYYY-MM-DD HH:MM:SS" in local time, as the API shows times; "" for t <= 0. */
void clock_format(int64_t t, char out[20]);

/* The current offset in seconds, and setting it (thread-safe). */
int64_t clock_offset(void);
void clock_set_offset(int64_t seconds);

#endif
