/*
 * action.c - lookups in the generated action table (actions.gen.c).
 *
 * api_actions[] is generated sorted by name (strcmp order), so an action is
 * found by binary search; the unit test checks the order. Field lists are
 * short (at most a few dozen entries) and kept in document order, so a
 * field is found by a linear scan.
 */
#include "api/action.h"

#include <string.h>

const struct api_action *api_action_find(const char *name)
{
	size_t lo = 0, hi = api_actions_count;

	if (name == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, api_actions[mid].name);

		if (cmp == 0)
			return &api_actions[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct api_field *api_field_find(const struct api_field *fields, size_t n,
				       const char *name)
{
	if (fields == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}
