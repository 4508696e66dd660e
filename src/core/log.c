/*
 * log.c - timestamped, levelled lines on stderr. One write(2) per line so
 * that lines from concurrent threads never interleave.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;
static const char *const log_names[] = { "DEBUG", "INFO ", "WARN ", "ERROR" };

void log_set_level(enum log_level level)
{
	log_min = level;
}

enum log_level log_level_from_name(const char *name)
{
	if (strcasecmp(name, "debug") == 0)
		return LOG_DEBUG;
	if (strcasecmp(name, "warn") == 0)
		return LOG_WARN;
	if (strcasecmp(name, "error") == 0)
		return LOG_ERROR;
	return LOG_INFO;
}

void log_msg(enum log_level level, const char *ctx, const char *fmt, ...)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	va_list ap;

	if (level < log_min)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s [%s] ",
			      (int)(tv.tv_usec / 1000), log_names[level], ctx ? ctx : "-");
	if (n < sizeof(line)) {
		va_start(ap, fmt);
		int w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		if (w > 0)
			n += (size_t)w;
	}
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
}
