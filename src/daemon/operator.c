/*
 * operator.c - the billing subcommands of pgfleetd (see operator.h).
 */
#include "daemon/operator.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/clockfile.h"
#include "task/ledger.h"

int operator_is_command(const char *name, int *needs_arg)
{
	static const struct {
		const char *name;
		int arg;
	} cmds[] = { { "clock-advance", 1 }, { "clock-show", 0 }, { "billing-show", 2 } };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0) {
			*needs_arg = cmds[i].arg;
			return 1;
		}
	return 0;
}

static int operator_print(json_t *doc, struct err *e)
{
	int rc = doc != NULL && json_dumpf(doc, stdout, JSON_COMPACT) == 0 && fputc('\n', stdout) != EOF ? 0 : -1;

	json_decref(doc);
	if (rc != 0)
		return err_set(e, ERR_INTERNAL_ERROR, "cannot print the result");
	return 0;
}

static json_t *operator_clock_json(int64_t offset)
{
	char buf[32];
	time_t now = time(NULL) + (time_t)offset;
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		buf[0] = '\0';
	return json_pack("{s:I, s:I, s:s}", "offset", (json_int_t)offset, "now", (json_int_t)now, "nowText", buf);
}

static int operator_clock_advance(const char *arg, const char *data_dir, struct err *e)
{
	char *end;
	long long secs;
	int64_t off;

	errno = 0;
	secs = strtoll(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0')
		return err_set(e, ERR_INVALID_PARAMETER_VALUE, "clock-advance: SECONDS must be an integer");
	if (clockfile_advance(data_dir, secs, &off, e) != 0)
		return -1;
	return operator_print(operator_clock_json(off), e);
}

int operator_run(const char *name, const char *arg, const char *data_dir, struct store *s, struct err *e)
{
	int64_t off;
	json_t *hist;

	if (strcmp(name, "clock-advance") == 0)
		return operator_clock_advance(arg, data_dir, e);
	if (strcmp(name, "clock-show") == 0) {
		if (clockfile_read(data_dir, &off, e) != 0)
			return -1;
		return operator_print(operator_clock_json(off), e);
	}
	if (strcmp(name, "billing-show") == 0) {
		if (ledger_history(s, arg, &hist, e) != 0)
			return -1;
		return operator_print(hist, e);
	}
	return err_set(e, ERR_INVALID_PARAMETER, "unknown subcommand \"%s\"", name);
}
