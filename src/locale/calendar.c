/*
 * Business-hour calendars (workflows/calendars.json): loading and checking
 * the file, and counting open hours forward from an instant.
 *
 * Opening hours are wall-clock times in the calendar's IANA zone. Every
 * conversion between a wall-clock time and an instant goes through ICU's
 * calendar in that zone, day by day, so that a weekend, a holiday and a
 * change of daylight-saving time are counted exactly; this file never
 * adds a fixed number of seconds per day. The loader must never accept
 * what it cannot fully explain: every refusal names the file, the JSON
 * path and the reason.
 */
#include "core/definition.h"
#include "locale/locale_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>

#include "redress/dispute.h"
#include "redress/file.h"
#include "redress/json.h"

#define PATH_BUFSZ 256
#define LIST_BUFSZ 256

/* calendars.json is a small hand-written file. */
#define CALENDARS_FILE_MAX (1024 * 1024)

/* Opening intervals one day may hold (a lunch break needs two). */
#define DAY_INTERVALS_MAX 8

/* Holidays one calendar may list: decades of them. */
#define HOLIDAYS_MAX 4096

/* How far rd_calendar_add walks before it gives up: about three years. */
#define WALK_DAYS_MAX 1100

#define MINUTES_PER_DAY (24 * 60)

#define NAME_RULE \
	"a lower-case letter, then up to 63 lower-case letters, digits, _ or -"

/* One opening interval, in minutes since local midnight: [open, close). */
struct interval {
	int open;
	int close;   /* up to MINUTES_PER_DAY: "24:00" */
};

struct rd_calendar {
	const char *name;          /* borrowed from the document */
	const char *zone;
	/* indexed by ICU's day of the week less one: 0 is Sunday */
	struct interval hours[7][DAY_INTERVALS_MAX];
	size_t hour_count[7];
	int32_t *holidays;         /* YYYYMMDD, sorted */
	size_t holiday_count;
};

struct storefront_calendar {
	const char *storefront;
	const rd_calendar *cal;
};

struct rd_calendars {
	json_t *doc;
	int64_t version;
	rd_calendar *cals;         /* sorted by name */
	size_t count;
	struct storefront_calendar *storefronts;   /* sorted by storefront */
	size_t storefront_count;
	const rd_calendar *fallback;   /* the "default" member, or NULL */
};

/* The members of "hours", Monday first as people write a week. */
static const struct {
	const char *name;
	int weekday;   /* ICU's UCAL_SUNDAY (1) ... UCAL_SATURDAY (7) */
} day_table[] = {
	{ "mon", UCAL_MONDAY }, { "tue", UCAL_TUESDAY },
	{ "wed", UCAL_WEDNESDAY }, { "thu", UCAL_THURSDAY },
	{ "fri", UCAL_FRIDAY }, { "sat", UCAL_SATURDAY },
	{ "sun", UCAL_SUNDAY },
};

#define DAY_COUNT (sizeof(day_table) / sizeof(day_table[0]))

struct loader {
	const char *origin;
	rd_error *err;
	rd_calendars *cals;
};

__attribute__((format(printf, 3, 4)))
static int refuse(struct loader *ld, const char *path, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rd_def_vrefuse(ld->err, ld->origin, path, fmt, ap);
	va_end(ap);
	return rc;
}

#ifdef __clang_analyzer__
/* As in error.h: the analyzer does not follow variadic calls; tell it. */
#define refuse(ld, path, ...) \
	(refuse((ld), (path), __VA_ARGS__), RD_EDEFINITION)
#endif

static int out_of_memory(struct loader *ld)
{
	return rd_error_set(ld->err, RD_ENOMEM, "%s: out of memory",
			    ld->origin);
}

/* ---- members ------------------------------------------------------------ */

/* the kinds of a member: MK_STRING... and lc_member_kinds (members.c) */

#define MEMBERS(table) (table), sizeof(table) / sizeof((table)[0])

static const rd_def_member document_members[] = {
	{ "version", MK_INTEGER, 1 },
	{ "description", MK_STRING, 0 },
	{ "default", MK_STRING, 0 },
	{ "calendars", MK_OBJECT, 1 },
	{ "storefronts", MK_OBJECT, 0 },
};

static const rd_def_member calendar_members[] = {
	{ "description", MK_STRING, 0 },
	{ "zone", MK_STRING, 1 },
	{ "hours", MK_OBJECT, 1 },
	{ "holidays", MK_ARRAY, 0 },
};

/* The "hours" members: the days, each an array. */
static const rd_def_member hours_members[] = {
	{ "mon", MK_ARRAY, 0 }, { "tue", MK_ARRAY, 0 },
	{ "wed", MK_ARRAY, 0 }, { "thu", MK_ARRAY, 0 },
	{ "fri", MK_ARRAY, 0 }, { "sat", MK_ARRAY, 0 },
	{ "sun", MK_ARRAY, 0 },
};

static int check_members(struct loader *ld, const json_t *obj,
			 const char *path, const rd_def_member *table,
			 size_t count)
{
	return rd_def_check_members(ld->err, ld->origin, path, obj, table,
				    count, &lc_member_kinds);
}

/* ---- small parsers ------------------------------------------------------ */

/* 1 when s is [a-z][a-z0-9_-]{0,63}. */
static int calendar_name_valid(const char *s)
{
	size_t n;

	if (s[0] < 'a' || s[0] > 'z')
		return 0;
	for (n = 1; s[n]; n++) {
		char c = s[n];

		if (n >= 64)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int two_digits(const char *s, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return 0;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return 1;
}

/* "HH:MM" into minutes since midnight; "24:00" only when allow_24. */
static int parse_clock(const char *s, int allow_24, int *minutes)
{
	int h, m;

	if (!two_digits(s, &h) || s[2] != ':' || !two_digits(s + 3, &m) ||
	    m > 59)
		return 0;
	if (h > 23 && !(allow_24 && h == 24 && m == 0))
		return 0;
	*minutes = h * 60 + m;
	return 1;
}

/* "HH:MM-HH:MM", without checking that it is not empty. */
static int parse_interval(const char *s, struct interval *out)
{
	return strlen(s) == 11 && parse_clock(s, 0, &out->open) &&
	       s[5] == '-' && parse_clock(s + 6, 1, &out->close);
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD" (years 1970 to 9999) into YYYYMMDD. */
static int parse_date(const char *s, int32_t *out)
{
	static const int month_days[12] = { 31, 28, 31, 30, 31, 30,
					    31, 31, 30, 31, 30, 31 };
	int century, year2, month, day, year, last;

	if (strlen(s) != 10 || !two_digits(s, &century) ||
	    !two_digits(s + 2, &year2) || s[4] != '-' ||
	    !two_digits(s + 5, &month) || s[7] != '-' ||
	    !two_digits(s + 8, &day))
		return 0;
	year = century * 100 + year2;
	if (year < 1970 || month < 1 || month > 12 || day < 1)
		return 0;
	last = month_days[month - 1] + (month == 2 && is_leap(year));
	if (day > last)
		return 0;
	*out = year * 10000 + month * 100 + day;
	return 1;
}

/* Intervals by opening time (those of one day never overlap). */
static int compare_intervals(const void *a, const void *b)
{
	const struct interval *x = a, *y = b;

	return (x->open > y->open) - (x->open < y->open);
}

static int compare_int32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* ---- one calendar ------------------------------------------------------- */

/* "HH:MM" of minutes since midnight (0 to 24:00). */
static void format_clock(char out[6], int minutes)
{
	unsigned m = (unsigned)minutes % (MINUTES_PER_DAY + 1);

	snprintf(out, 6, "%02u:%02u", m / 60, m % 60);
}

static int load_day(struct loader *ld, rd_calendar *cal, int weekday,
		    const json_t *list, const char *path)
{
	struct interval *day = cal->hours[weekday - 1];
	size_t *count = &cal->hour_count[weekday - 1];
	char sub[PATH_BUFSZ];

	if (json_array_size(list) > DAY_INTERVALS_MAX)
		return refuse(ld, path,
			      "at most %d opening intervals a day",
			      DAY_INTERVALS_MAX);
	for (size_t i = 0; i < json_array_size(list); i++) {
		const char *text = json_string_value(json_array_get(list, i));
		struct interval iv;

		rd_def_path_index(sub, sizeof(sub), path, i);
		if (!text)
			return refuse(ld, sub,
				      "must be a string \"HH:MM-HH:MM\", such "
				      "as \"09:00-17:00\"");
		if (!parse_interval(text, &iv))
			return refuse(ld, sub,
				      "\"%.40s\" is not an opening interval: "
				      "write \"HH:MM-HH:MM\" on a 24-hour "
				      "clock, such as \"09:00-17:00\" (\"24:00\" "
				      "may end a day)", text);
		if (iv.close < iv.open)
			return refuse(ld, sub, "%s ends before it starts",
				      text);
		if (iv.close == iv.open)
			return refuse(ld, sub,
				      "%s is empty: it closes when it opens",
				      text);
		for (size_t j = 0; j < *count; j++) {
			char open[6], close[6];

			if (iv.open >= day[j].close || day[j].open >= iv.close)
				continue;
			format_clock(open, day[j].open);
			format_clock(close, day[j].close);
			return refuse(ld, sub, "%s overlaps %s-%s of the same "
				      "day", text, open, close);
		}
		day[(*count)++] = iv;
	}
	/* the walk counts a day's intervals in the order of the clock */
	qsort(day, *count, sizeof(*day), compare_intervals);
	return RD_OK;
}

static int load_hours(struct loader *ld, rd_calendar *cal,
		      const json_t *hours, const char *path)
{
	char sub[PATH_BUFSZ];
	size_t open = 0;
	int rc;

	if ((rc = check_members(ld, hours, path, MEMBERS(hours_members))) < 0)
		return rc;
	for (size_t i = 0; i < DAY_COUNT; i++) {
		const json_t *list = json_object_get(hours, day_table[i].name);

		if (!list)
			continue;
		rd_def_path_member(sub, sizeof(sub), path, day_table[i].name);
		if ((rc = load_day(ld, cal, day_table[i].weekday, list,
				   sub)) < 0)
			return rc;
		open += json_array_size(list);
	}
	if (open == 0)
		return refuse(ld, path,
			      "the week has no open hour: give at least one "
			      "day an interval such as \"09:00-17:00\"");
	return RD_OK;
}

static int load_holidays(struct loader *ld, rd_calendar *cal,
			 const json_t *list, const char *path)
{
	size_t count = json_array_size(list);
	char sub[PATH_BUFSZ];

	if (count > HOLIDAYS_MAX)
		return refuse(ld, path, "at most %d holidays", HOLIDAYS_MAX);
	if (count == 0)
		return RD_OK;
	cal->holidays = calloc(count, sizeof(*cal->holidays));
	if (!cal->holidays)
		return out_of_memory(ld);
	for (size_t i = 0; i < count; i++) {
		const char *text = json_string_value(json_array_get(list, i));
		int32_t date;

		rd_def_path_index(sub, sizeof(sub), path, i);
		if (!text || !parse_date(text, &date))
			return refuse(ld, sub,
				      "\"%.40s\" is not a date: write "
				      "\"YYYY-MM-DD\", such as \"2026-12-25\" "
				      "(years 1970 to 9999)",
				      text ? text : "(not a string)");
		for (size_t j = 0; j < cal->holiday_count; j++)
			if (cal->holidays[j] == date)
				return refuse(ld, sub, "%s is listed twice",
					      text);
		cal->holidays[cal->holiday_count++] = date;
	}
	qsort(cal->holidays, cal->holiday_count, sizeof(*cal->holidays),
	      compare_int32);
	return RD_OK;
}

static int load_calendar(struct loader *ld, rd_calendar *cal,
			 const char *name, const json_t *obj)
{
	char path[PATH_BUFSZ], sub[PATH_BUFSZ];
	const json_t *holidays;
	int rc;

	rd_def_path_member(path, sizeof(path), "calendars", name);
	if (!calendar_name_valid(name))
		return refuse(ld, path,
			      "\"%.64s\" is not a valid calendar name: %s",
			      name, NAME_RULE);
	if ((rc = check_members(ld, obj, path, MEMBERS(calendar_members))) < 0)
		return rc;
	cal->name = name;
	cal->zone = json_string_value(json_object_get(obj, "zone"));
	rd_def_path_member(sub, sizeof(sub), path, "zone");
	if (!rd_locale_zone_valid(cal->zone))
		return refuse(ld, sub,
			      "\"%.64s\" is not an IANA time zone ICU knows: "
			      "write one such as \"Europe/Berlin\" or "
			      "\"America/New_York\"", cal->zone);
	rd_def_path_member(sub, sizeof(sub), path, "hours");
	if ((rc = load_hours(ld, cal, json_object_get(obj, "hours"), sub)) < 0)
		return rc;
	holidays = json_object_get(obj, "holidays");
	rd_def_path_member(sub, sizeof(sub), path, "holidays");
	if (holidays && (rc = load_holidays(ld, cal, holidays, sub)) < 0)
		return rc;
	return RD_OK;
}

/* ---- the document ------------------------------------------------------- */

static int compare_calendars(const void *a, const void *b)
{
	return strcmp(((const rd_calendar *)a)->name,
		      ((const rd_calendar *)b)->name);
}

static int compare_storefronts(const void *a, const void *b)
{
	return strcmp(((const struct storefront_calendar *)a)->storefront,
		      ((const struct storefront_calendar *)b)->storefront);
}

/* "eu-office, us-east", cut to fit, for messages. */
static void list_calendars(char out[LIST_BUFSZ], const rd_calendars *cals)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < cals->count && used < LIST_BUFSZ; i++) {
		int n = snprintf(out + used, LIST_BUFSZ - used, "%s%s",
				 i ? ", " : "", cals->cals[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* The calendar a "default" or "storefronts" member names. */
static int calendar_ref(struct loader *ld, const char *path,
			const json_t *value, const rd_calendar **out)
{
	const char *name = json_string_value(value);
	char names[LIST_BUFSZ];

	if (!name)
		return refuse(ld, path, "must be a string: a calendar's name");
	*out = rd_calendars_find(ld->cals, name);
	if (*out)
		return RD_OK;
	list_calendars(names, ld->cals);
	return refuse(ld, path, "names no calendar: \"%.64s\" (calendars: %s)",
		      name, names);
}

static int load_storefronts(struct loader *ld, const json_t *map)
{
	rd_calendars *cals = ld->cals;
	char path[PATH_BUFSZ];
	const char *key;
	json_t *value;
	int rc;

	if (json_object_size(map) == 0)
		return RD_OK;
	cals->storefronts = calloc(json_object_size(map),
				   sizeof(*cals->storefronts));
	if (!cals->storefronts)
		return out_of_memory(ld);
	json_object_foreach((json_t *)map, key, value) {
		struct storefront_calendar *sc =
			&cals->storefronts[cals->storefront_count];

		rd_def_path_member(path, sizeof(path), "storefronts", key);
		if (!rd_storefront_valid(key))
			return refuse(ld, path,
				      "\"%.64s\" is not a storefront: 1 to 64 "
				      "of a-z, 0-9, '.', '_' and '-', "
				      "starting with a letter or digit", key);
		if ((rc = calendar_ref(ld, path, value, &sc->cal)) < 0)
			return rc;
		sc->storefront = key;
		cals->storefront_count++;
	}
	qsort(cals->storefronts, cals->storefront_count,
	      sizeof(*cals->storefronts), compare_storefronts);
	return RD_OK;
}

static int load_document(struct loader *ld, const json_t *doc)
{
	rd_calendars *cals = ld->cals;
	const json_t *calendars, *fallback, *storefronts;
	const char *key;
	json_t *value;
	int rc;

	if ((rc = check_members(ld, doc, "", MEMBERS(document_members))) < 0)
		return rc;
	cals->version = json_integer_value(json_object_get(doc, "version"));
	if (cals->version < 1)
		return refuse(ld, "version", "must be a positive integer");
	calendars = json_object_get(doc, "calendars");
	if (json_object_size(calendars) == 0)
		return refuse(ld, "calendars",
			      "declare at least one calendar");
	cals->cals = calloc(json_object_size(calendars), sizeof(*cals->cals));
	if (!cals->cals)
		return out_of_memory(ld);
	json_object_foreach((json_t *)calendars, key, value) {
		rc = load_calendar(ld, &cals->cals[cals->count], key, value);
		/* counted even when refused: its holidays are freed then */
		cals->count++;
		if (rc < 0)
			return rc;
	}
	qsort(cals->cals, cals->count, sizeof(*cals->cals), compare_calendars);
	fallback = json_object_get(doc, "default");
	if (fallback &&
	    (rc = calendar_ref(ld, "default", fallback, &cals->fallback)) < 0)
		return rc;
	storefronts = json_object_get(doc, "storefronts");
	if (storefronts && (rc = load_storefronts(ld, storefronts)) < 0)
		return rc;
	return RD_OK;
}

int rd_calendars_parse(rd_calendars **out, const char *text, size_t len,
		       const char *origin, rd_error *err)
{
	struct loader ld = { 0 };
	rd_calendars *cals = NULL;
	json_error_t jerr;
	int rc;

	if (!origin)
		origin = "(calendars)";
	if (!out || (!text && len))
		return rd_error_set(err, RD_EINTERNAL,
				    "%s: rd_calendars_parse needs an output "
				    "and text", origin);
	*out = NULL;
	if (!text)
		text = "";
	ld.origin = origin;
	ld.err = err;
	cals = calloc(1, sizeof(*cals));
	if (!cals)
		return out_of_memory(&ld);
	ld.cals = cals;
	cals->doc = rd_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!cals->doc) {
		rc = json_error_code(&jerr) == json_error_out_of_memory
			     ? out_of_memory(&ld)
			     : rd_error_set(err, RD_EDEFINITION,
					    "%s:%d:%d: %s", origin, jerr.line,
					    jerr.column, jerr.text);
		goto done;
	}
	if ((rc = load_document(&ld, cals->doc)) < 0)
		goto done;
	*out = cals;
	cals = NULL;
	rc = RD_OK;
done:
	rd_calendars_free(cals);
	return rc;
}

int rd_calendars_load(rd_calendars **out, const char *path, rd_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!out || !path)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_calendars_load needs an output and a "
				    "path");
	*out = NULL;
	if ((rc = rd_file_read(&text, &len, path, CALENDARS_FILE_MAX,
			       RD_EDEFINITION, err)) < 0)
		return rc;
	rc = rd_calendars_parse(out, text, len, path, err);
	free(text);
	return rc;
}

void rd_calendars_free(rd_calendars *cals)
{
	if (!cals)
		return;
	for (size_t i = 0; i < cals->count; i++)
		free(cals->cals[i].holidays);
	free(cals->cals);
	free(cals->storefronts);
	json_decref(cals->doc);
	free(cals);
}

int64_t rd_calendars_version(const rd_calendars *cals)
{
	return cals ? cals->version : 0;
}

const rd_calendar *rd_calendars_find(const rd_calendars *cals,
				     const char *name)
{
	rd_calendar key = { 0 };

	if (!cals || !name || cals->count == 0)
		return NULL;
	key.name = name;
	return bsearch(&key, cals->cals, cals->count, sizeof(*cals->cals),
		       compare_calendars);
}

const rd_calendar *rd_calendars_for(const rd_calendars *cals,
				    const char *storefront)
{
	struct storefront_calendar key = { 0 };
	const struct storefront_calendar *found = NULL;

	if (!cals)
		return NULL;
	if (storefront && *storefront && cals->storefront_count > 0) {
		key.storefront = storefront;
		found = bsearch(&key, cals->storefronts,
				cals->storefront_count,
				sizeof(*cals->storefronts),
				compare_storefronts);
	}
	return found ? found->cal : cals->fallback;
}

size_t rd_calendars_count(const rd_calendars *cals)
{
	return cals ? cals->count : 0;
}

const rd_calendar *rd_calendars_at(const rd_calendars *cals, size_t i)
{
	return cals && i < cals->count ? &cals->cals[i] : NULL;
}

const char *rd_calendar_name(const rd_calendar *cal)
{
	return cal ? cal->name : NULL;
}

const char *rd_calendar_zone(const rd_calendar *cal)
{
	return cal ? cal->zone : NULL;
}

/* ---- counting open hours ------------------------------------------------ */

/* A local calendar day, as ICU gives it: month 0 is January. */
struct local_day {
	int32_t year;
	int32_t month;
	int32_t day;
};

static int is_holiday(const rd_calendar *cal, const struct local_day *d)
{
	int32_t key = d->year * 10000 + (d->month + 1) * 100 + d->day;

	return cal->holiday_count > 0 &&
	       bsearch(&key, cal->holidays, cal->holiday_count,
		       sizeof(*cal->holidays), compare_int32) != NULL;
}

/*
 * The instant (Unix seconds) of `minutes` past midnight on the local day
 * `offset` days after `base`. ICU's lenient calendar carries day 32 into
 * the next month and hour 24 into the next day; a wall-clock time skipped
 * by a change to summer time means the first valid time after it, and one
 * repeated by the change back means its first occurrence.
 */
static int64_t wall_to_instant(UCalendar *uc, const struct local_day *base,
			       int32_t offset, int minutes,
			       UErrorCode *status)
{
	UDate at;

	ucal_clear(uc);
	ucal_setDateTime(uc, base->year, base->month, base->day + offset,
			 minutes / 60, minutes % 60, 0, status);
	at = ucal_getMillis(uc, status);
	/* whole minutes of a date within years 1970 to 9999: exact */
	return (int64_t)at / 1000;
}

/* The local day `offset` days after `base` and its day of the week. */
static void day_after(UCalendar *uc, const struct local_day *base,
		      int32_t offset, struct local_day *out, int *weekday,
		      UErrorCode *status)
{
	ucal_clear(uc);
	/* noon: a day's noon always exists, whatever daylight-saving does */
	ucal_setDateTime(uc, base->year, base->month, base->day + offset, 12,
			 0, 0, status);
	out->year = ucal_get(uc, UCAL_EXTENDED_YEAR, status);
	out->month = ucal_get(uc, UCAL_MONTH, status);
	out->day = ucal_get(uc, UCAL_DATE, status);
	*weekday = ucal_get(uc, UCAL_DAY_OF_WEEK, status);
}

/*
 * The walk itself: day by day from the local day of `start`, each open
 * interval of a working day converted to instants by ICU. *due is set
 * and 1 returned once `seconds` are used up, 0 when the bound is reached.
 */
static int walk(const rd_calendar *cal, UCalendar *uc, int64_t start,
		int64_t seconds, int64_t *due, UErrorCode *status)
{
	struct local_day base, day;
	int64_t remaining = seconds;

	ucal_setMillis(uc, (UDate)start * 1000, status);
	base.year = ucal_get(uc, UCAL_EXTENDED_YEAR, status);
	base.month = ucal_get(uc, UCAL_MONTH, status);
	base.day = ucal_get(uc, UCAL_DATE, status);
	for (int32_t offset = 0; offset < WALK_DAYS_MAX; offset++) {
		const struct interval *hours;
		int weekday = 0;

		day_after(uc, &base, offset, &day, &weekday, status);
		if (U_FAILURE(*status) || weekday < 1 || weekday > 7)
			return 0;
		if (is_holiday(cal, &day))
			continue;
		hours = cal->hours[weekday - 1];
		for (size_t i = 0; i < cal->hour_count[weekday - 1]; i++) {
			int64_t open = wall_to_instant(uc, &day, 0,
						       hours[i].open, status);
			int64_t close = wall_to_instant(uc, &day, 0,
							hours[i].close,
							status);
			int64_t begin = open > start ? open : start;

			if (U_FAILURE(*status))
				return 0;
			/* passed already, or swallowed by a clock change */
			if (begin >= close)
				continue;
			if (remaining <= close - begin) {
				*due = begin + remaining;
				return 1;
			}
			remaining -= close - begin;
		}
	}
	return 0;
}

int rd_calendar_add(const rd_calendar *cal, int64_t start, int64_t seconds,
		    int64_t *due, rd_error *err)
{
	UChar zone[LC_ZONE_MAX + 1];
	UErrorCode status = U_ZERO_ERROR;
	UCalendar *uc = NULL;
	int rc, found;

	if (!cal || !due)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_calendar_add needs a calendar and an "
				    "output");
	if (seconds < 0)
		return rd_error_set_field(err, RD_EINVALID, "seconds",
					  "a duration of business hours cannot "
					  "be negative (%lld s)",
					  (long long)seconds);
	if (start < 0 || start > LC_INSTANT_MAX)
		return rd_error_set_field(err, RD_EINVALID, "start",
					  "instant %lld is outside years 1970 "
					  "to 9999", (long long)start);
	if ((rc = lc_zone_uchars(zone, cal->zone, err)) < 0)
		return rc;
	uc = ucal_open(zone, -1, "", UCAL_GREGORIAN, &status);
	if (U_SUCCESS(status)) {
		ucal_setAttribute(uc, UCAL_LENIENT, 1);
		ucal_setAttribute(uc, UCAL_REPEATED_WALL_TIME,
				  UCAL_WALLTIME_FIRST);
		ucal_setAttribute(uc, UCAL_SKIPPED_WALL_TIME,
				  UCAL_WALLTIME_NEXT_VALID);
	}
	found = U_SUCCESS(status) ? walk(cal, uc, start, seconds, due, &status)
				  : 0;
	if (U_FAILURE(status))
		rc = rd_error_set(err, RD_EINTERNAL,
				  "calendar %s: ICU cannot count hours in %s: "
				  "%s", cal->name, cal->zone,
				  u_errorName(status));
	else if (!found)
		rc = rd_error_set_field(err, RD_EINVALID, "seconds",
					"calendar %s has fewer than %lld "
					"seconds of open hours in the %d days "
					"from %lld: check its hours and "
					"holidays", cal->name,
					(long long)seconds, WALK_DAYS_MAX,
					(long long)start);
	else
		rc = RD_OK;
	ucal_close(uc);
	return rc;
}
