/*
 * log.h - the one logging function. Lines go to stderr as
 *   2026-11-27T20:41:07.123Z INFO  [context] message
 * The context names the object the line is about ("gateway", "task 42",
 * "instance postgres-abc"), as PgBouncer prefixes its lines.
 */
#ifndef PGFLEET_CORE_LOG_H
#define PGFLEET_CORE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
enum log_level log_level_from_name(const char *name); /* unknown -> LOG_INFO */

void log_msg(enum log_level level, const char *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(ctx, ...) log_msg(LOG_DEBUG, ctx, __VA_ARGS__)
#define log_info(ctx, ...) log_msg(LOG_INFO, ctx, __VA_ARGS__)
#define log_warn(ctx, ...) log_msg(LOG_WARN, ctx, __VA_ARGS__)
#define log_error(ctx, ...) log_msg(LOG_ERROR, ctx, __VA_ARGS__)

#endif
