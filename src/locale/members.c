/*
 * The kinds of a member of the locale module's definitions
 * (calendars.json, templates/moments.json), for rd_def_check_members.
 */
#include "locale/locale_int.h"

#include <jansson.h>

static const char *const member_kind_text[] = {
	[MK_STRING] = "a string",
	[MK_INTEGER] = "an integer",
	[MK_OBJECT] = "an object",
	[MK_ARRAY] = "an array",
};

static int kind_matches(int kind, const json_t *value)
{
	switch ((enum lc_member_kind)kind) {
	case MK_STRING: return json_is_string(value);
	case MK_INTEGER: return json_is_integer(value);
	case MK_OBJECT: return json_is_object(value);
	case MK_ARRAY: return json_is_array(value);
	}
	return 0;
}

const rd_def_kinds lc_member_kinds = { kind_matches, member_kind_text };
