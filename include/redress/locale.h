/*
 * Business hours, formatting for the buyer's locale and the texts a buyer
 * reads: the only module with ICU (src/locale/).
 *
 * - Calendars (workflows/calendars.json): an IANA time zone, opening hours
 *   per weekday and holidays; "N seconds of open hours after T" is computed
 *   with ICU's calendar in the calendar's zone, so that a weekend, a holiday
 *   and a change of daylight-saving time are exact.
 * - Formatting: money from minor units (a decimal string handed to ICU, no
 *   floating point) and instants in a time zone, for a BCP 47 locale.
 * - Templates (templates/moments.json and templates/<locale>/<moment>.txt):
 *   the buyer-facing texts of the common moments of a dispute, validated at
 *   load; no template may name a variable of the seller's side.
 *
 * Everything loaded here is immutable once loaded and may be shared between
 * threads. See docs/locale.md for the file formats.
 */
#ifndef REDRESS_LOCALE_H
#define REDRESS_LOCALE_H

#include <stddef.h>
#include <stdint.h>

#include "redress/error.h"

/* Room for a locale tag as redress keeps it ("pt-BR", "zh-Hans"). */
#define RD_LOCALE_BUFSZ 36

/* ---- calendars ------------------------------------------------------------ */

/* Every calendar of one calendars.json. */
typedef struct rd_calendars rd_calendars;

/* One calendar, borrowed from its rd_calendars. */
typedef struct rd_calendar rd_calendar;

/*
 * Parse and validate calendars.json from `len` bytes. `origin` (a file name)
 * prefixes every message, as for workflows: "origin:line:col: text" for
 * syntax, "origin: json.path: reason" for meaning, with err->field set to
 * the path; RD_EDEFINITION on any refusal. Refused: an unknown member, a
 * version that is not a positive integer, a zone ICU does not know, an
 * opening interval that is malformed, empty or overlaps another of its day,
 * a week with no open hour, a holiday that is not a date or is listed
 * twice, a storefront or default naming no calendar. *out is new.
 */
int rd_calendars_parse(rd_calendars **out, const char *text, size_t len,
		       const char *origin, rd_error *err);

/* rd_calendars_parse of a file; a missing file is RD_EDEFINITION too. */
int rd_calendars_load(rd_calendars **out, const char *path, rd_error *err);

/* NULL is accepted. */
void rd_calendars_free(rd_calendars *cals);

/* The file's "version". */
int64_t rd_calendars_version(const rd_calendars *cals);

/* The calendar of this name, or NULL. */
const rd_calendar *rd_calendars_find(const rd_calendars *cals,
				     const char *name);

/*
 * The calendar a storefront's business hours follow: its own (the file's
 * "storefronts" map), else the file's "default", else NULL, which means
 * every hour counts. `storefront` may be NULL or "".
 */
const rd_calendar *rd_calendars_for(const rd_calendars *cals,
				    const char *storefront);

/* Number of calendars, and the i-th in name order (borrowed). */
size_t rd_calendars_count(const rd_calendars *cals);
const rd_calendar *rd_calendars_at(const rd_calendars *cals, size_t i);

/* The calendar's name and IANA zone ("Europe/Berlin"), borrowed. */
const char *rd_calendar_name(const rd_calendar *cal);
const char *rd_calendar_zone(const rd_calendar *cal);

/*
 * *due = the instant at which `seconds` (>= 0) of open hours of `cal` have
 * passed since `start` (Unix seconds, UTC). Time outside opening hours,
 * on weekends without hours and on holidays does not count; a start outside
 * opening hours counts from the next opening. `seconds` == 0 gives the
 * start itself when it is within opening hours, else the next opening.
 * Opening hours are half-open: a start at a closing time is outside them,
 * and a due time may be a closing time. The walk goes at most 1100 days
 * (about three years) past the start's day.
 * RD_EINVALID (err->field "seconds") for negative seconds or when that
 * bound is reached first, RD_EINVALID ("start") for a start before 1970 or
 * after 9999; RD_EINTERNAL if ICU fails.
 */
int rd_calendar_add(const rd_calendar *cal, int64_t start, int64_t seconds,
		    int64_t *due, rd_error *err);

/* ---- formatting ----------------------------------------------------------- */

/*
 * 1 when `tag` is a well-formed BCP 47 language tag (ICU parses it whole)
 * of at most 35 characters of A-Z, a-z, 0-9 and '-', else 0. "de-DE",
 * "pt-BR", "zh-Hans-CN" pass; "", "de_DE!", "x" fail.
 */
int rd_locale_tag_valid(const char *tag);

/*
 * Format `minor` units of `currency` (an ISO 4217 code redress knows) for
 * `locale`: 11500 USD for "de-DE" is "115,00 $" (ICU puts a no-break
 * space, U+00A0, before the symbol), for "en-US" "$115.00". The amount goes
 * to ICU as a decimal string, never as floating point, with exactly the
 * currency's ISO 4217 number of decimals. *out is a new UTF-8 string
 * (free()). RD_EINVALID for an unknown currency (err->field "currency") or
 * a tag rd_locale_tag_valid refuses ("locale").
 */
int rd_locale_format_money(char **out, const char *locale, int64_t minor,
			   const char *currency, rd_error *err);

/*
 * Format the instant `at` (Unix seconds) as a date and time for `locale`
 * in the IANA zone `zone` (NULL: UTC), with the zone shown, e.g.
 * "2. März 2026, 10:00 MEZ": ICU's best pattern for the skeleton
 * "yMMMdjmz" (year, abbreviated month, day, hour and minute in the
 * locale's own clock, short zone name). *out is new (free()). RD_EINVALID
 * for an unknown zone ("zone"), an invalid tag ("locale") or an instant
 * outside years 0001 to 9999 ("at").
 */
int rd_locale_format_date(char **out, const char *locale, const char *zone,
			  int64_t at, rd_error *err);

/*
 * 1 when ICU knows the IANA zone `zone` ("Europe/Berlin", "UTC"), else 0;
 * custom offsets such as "GMT+01:00" are not zones.
 */
int rd_locale_zone_valid(const char *zone);

/* ---- templates ------------------------------------------------------------ */

/* Every template of a templates/ directory. */
typedef struct rd_templates rd_templates;

/* The kinds of a template variable. */
typedef enum rd_tvar_type {
	RD_TVAR_TEXT,   /* a string, inserted as given */
	RD_TVAR_MONEY,  /* minor units + currency, formatted for the locale */
	RD_TVAR_DATE    /* an instant, formatted for the locale and a zone */
} rd_tvar_type;

/* A variable a moment declares (templates/moments.json). */
typedef struct rd_tvar {
	const char *name;         /* "amount" */
	rd_tvar_type type;
	const char *description;
} rd_tvar;

/*
 * Load templates/moments.json (the moments, their descriptions and their
 * typed variables) and templates/<locale>/<moment>.txt for every locale
 * directory. Refused with RD_EDEFINITION naming the file (and the line for
 * a text): a moment or locale missing a text (every locale has every
 * moment, and "en" must exist), a text naming a variable its moment does
 * not declare, a malformed placeholder, a text that is not UTF-8 or holds
 * control characters other than newline and tab, a file over 16 KiB, a
 * locale directory whose name is not a valid tag, and any variable of the
 * seller's side: a name containing "cost", "margin" or "profit", declared
 * or used. Placeholders are written {{name}}; "{{{{" is a literal "{{".
 * A locale directory must be named by the tag as ICU writes it ("pt-BR",
 * not "pt-br"); a <name>.txt naming no moment is refused; files directly
 * in `dir` other than moments.json, and hidden entries, are ignored.
 */
int rd_templates_load(rd_templates **out, const char *dir, rd_error *err);

/* NULL is accepted. */
void rd_templates_free(rd_templates *t);

/* Number of moments, and the i-th moment's name in name order (borrowed). */
size_t rd_templates_count(const rd_templates *t);
const char *rd_templates_name_at(const rd_templates *t, size_t i);

/* A moment's description, or NULL for an unknown moment (borrowed). */
const char *rd_templates_description(const rd_templates *t,
				     const char *name);

/*
 * The variables a moment declares: *vars borrowed, *count of them. RD_ENOTFOUND
 * for an unknown moment.
 */
int rd_templates_vars(const rd_templates *t, const char *name,
		      const rd_tvar **vars, size_t *count, rd_error *err);

/* Number of locales with templates, and the i-th in name order ("de"...). */
size_t rd_templates_locale_count(const rd_templates *t);
const char *rd_templates_locale_at(const rd_templates *t, size_t i);

/*
 * The template locale for a buyer's tag: the exact tag, else its language
 * and script or region ("zh-CN" and "zh-Hans-CN" -> "zh-Hans", "pt-PT" ->
 * "pt-BR" when only that Portuguese exists), else its language ("de-AT" ->
 * "de"), else "en" with *fell_back = 1 (also for NULL, "", "und" and
 * invalid tags). Precisely: the exact tag (any case), else among the
 * locales of the tag's language and likely script (ICU's likely subtags:
 * "zh-TW" is Hant, so never "zh-Hans"), the one of the tag's region, else
 * one without a region, else the one of the language's likely region
 * ("pt" is most likely "pt-BR"), else the first other one in name order.
 * *fell_back = 0 whenever a locale was found. out has RD_LOCALE_BUFSZ
 * bytes.
 */
void rd_templates_resolve(const rd_templates *t, const char *tag,
			  char out[RD_LOCALE_BUFSZ], int *fell_back);

/* One value given for a render. */
typedef struct rd_tvalue {
	const char *name;
	rd_tvar_type type;
	const char *text;         /* RD_TVAR_TEXT */
	int64_t minor;            /* RD_TVAR_MONEY */
	const char *currency;     /* RD_TVAR_MONEY */
	int64_t at;               /* RD_TVAR_DATE, Unix seconds */
} rd_tvalue;

/* A rendered text. */
typedef struct rd_rendered {
	char *text;                     /* new UTF-8 (free with rd_rendered_clear) */
	char locale[RD_LOCALE_BUFSZ];   /* the templates' locale used ("de") */
	int fell_back;                  /* 1: no templates for the tag; English */
} rd_rendered;

/*
 * Render moment `name` for the buyer's `tag` (resolved as
 * rd_templates_resolve says; money and dates are formatted for the tag
 * itself, so "de-CH" reads Swiss numbers in German words) with dates in
 * `zone` (NULL: UTC). Every variable the chosen text uses must be among
 * `values` with the declared type: RD_EINVALID naming the first one missing
 * or mistyped (err->field "vars.NAME"); a value the moment does not declare
 * is RD_EINVALID too, as is a value given twice, text that is not UTF-8,
 * an unknown currency (err->field "vars.NAME") and an unknown zone
 * ("zone"). When the tag fell back to English, money and dates are
 * formatted for "en" too. RD_ENOTFOUND for an unknown moment.
 */
int rd_templates_render(const rd_templates *t, const char *name,
			const char *tag, const char *zone,
			const rd_tvalue *values, size_t count,
			rd_rendered *out, rd_error *err);

/* Free a rendered text's string; the struct may be reused. */
void rd_rendered_clear(rd_rendered *r);

#endif
