/*
 * Private to the locale module (src/locale/): the helpers its three parts
 * share, calendars (calendar.c), formatting (format.c) and templates
 * (templates.c). This is the only header of redress that includes ICU;
 * it must never be included by another module.
 */
#ifndef REDRESS_LOCALE_INT_H
#define REDRESS_LOCALE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <unicode/uloc.h>
#include <unicode/utypes.h>

#include "core/definition.h"
#include "redress/error.h"
#include "redress/locale.h"

/* Longest IANA zone name redress accepts ("America/Argentina/ComodRivadavia"
 * is 32 characters). */
/*
 * The kinds of a definition's member, for rd_def_check_members, shared by
 * calendars.json and moments.json (members.c).
 */
enum lc_member_kind { MK_STRING, MK_INTEGER, MK_OBJECT, MK_ARRAY };
extern const rd_def_kinds lc_member_kinds;

#define LC_ZONE_MAX 64

/*
 * Instants redress hands to ICU: years 0001 to 9999, in Unix seconds. ICU
 * keeps an instant as a count of milliseconds in a UDate, exact for whole
 * milliseconds far beyond this range.
 */
#define LC_INSTANT_MIN INT64_C(-62135596800)
#define LC_INSTANT_MAX INT64_C(253402300799)

/*
 * The ICU locale id ("pt_BR", "zh_Hans_CN") of a tag that
 * rd_locale_tag_valid accepts; RD_EINVALID naming the tag otherwise.
 */
int lc_icu_locale(char out[ULOC_FULLNAME_CAPACITY], const char *tag,
		  rd_error *err);

/*
 * The zone as UTF-16 for ICU (NUL-terminated), after checking that ICU
 * knows it (rd_locale_zone_valid); NULL means "UTC". RD_EINVALID naming the
 * zone otherwise.
 */
int lc_zone_uchars(UChar out[LC_ZONE_MAX + 1], const char *zone,
		   rd_error *err);

/*
 * `len` bytes of UTF-16 as a new NUL-terminated UTF-8 string in *out
 * (free()); RD_ENOMEM or RD_EINTERNAL (ICU refused the text).
 */
int lc_utf8_from_uchars(char **out, const UChar *text, int32_t len,
			rd_error *err);

/*
 * Where `len` bytes of `text` stop being well-formed UTF-8 (an ill-formed
 * or overlong sequence, a surrogate, a code point past U+10FFFF), or `len`
 * when they are well-formed throughout.
 */
size_t lc_utf8_invalid_at(const char *text, size_t len);

#endif
