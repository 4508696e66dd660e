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

void clock_format(int64_t t, char out[20])
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = '\0';
	if (t <= 0 || localtime_r(&tt, &tm) == NULL)
		return;
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}
