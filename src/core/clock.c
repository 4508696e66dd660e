/*
 * clock.c - see clock.h. The offset is an atomic so that every thread reads
 * a consistent value without a lock.
 */
#include "core/clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t clock_off;

int64_t clock_now(void)
{
	return (int64_t)time(NULL) + atomic_load(&clock_off);
}

int64_t clock_offset(void)
{
	return atomic_load(&clock_off);
}

void clock_set_offset(int64_t seconds)
{
	atomic_store(&clock_off, seconds);
}
