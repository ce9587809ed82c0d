/*
 * Business-hour calendars: the shipped workflows/calendars.json, open hours
 * counted across weekends, holidays, lunch breaks and the changes of
 * daylight-saving time in Berlin and New York (each expected instant is
 * written as its UTC wall-clock time, the offset of the day stated beside
 * it), the bound of the walk, and every refusal of the loader with its
 * message and field.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redress/locale.h"

#define CALENDARS_FILE REDRESS_SOURCE_DIR "/workflows/calendars.json"

#define HOUR INT64_C(3600)

/* Unix seconds of a UTC wall-clock time. */
static int64_t utc(int year, int month, int day, int hour, int minute)
{
	struct tm tm = { 0 };

	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	return (int64_t)timegm(&tm);
}

static rd_calendars *shipped(void)
{
	rd_calendars *cals = NULL;
	rd_error err = { 0 };

	if (rd_calendars_load(&cals, CALENDARS_FILE, &err) < 0)
		fprintf(stderr, "  %s\n", err.message);
	return cals;
}

/* A file with one calendar "t" whose members are `body`. */
static rd_calendars *one(const char *body, rd_error *err)
{
	char text[1 << 16];
	rd_calendars *cals = NULL;
	int n = snprintf(text, sizeof(text),
			 "{\"version\": 1, \"calendars\": {\"t\": {%s}}}",
			 body);

	if (n < 0 || (size_t)n >= sizeof(text))
		return NULL;
	if (rd_calendars_parse(&cals, text, strlen(text), "test.json", err) < 0)
		fprintf(stderr, "  %s\n", err->message);
	return cals;
}

/* *due after `seconds` from `start` in the calendar `name`. */
static int add(const rd_calendars *cals, const char *name, int64_t start,
	       int64_t seconds, int64_t *due, rd_error *err)
{
	*due = -1;
	return rd_calendar_add(rd_calendars_find(cals, name), start, seconds,
			       due, err);
}

/* ---- the shipped file --------------------------------------------------- */

static void shipped_file_loads(void)
{
	rd_calendars *cals = shipped();

	CHECK(cals != NULL);
	CHECK_INT(rd_calendars_version(cals), 1);
	CHECK_INT(rd_calendars_count(cals), 3);
	CHECK_STR(rd_calendar_name(rd_calendars_at(cals, 0)), "apac");
	CHECK_STR(rd_calendar_name(rd_calendars_at(cals, 1)), "eu-office");
	CHECK_STR(rd_calendar_name(rd_calendars_at(cals, 2)), "us-east");
	CHECK(rd_calendars_at(cals, 3) == NULL);
	CHECK_STR(rd_calendar_zone(rd_calendars_find(cals, "eu-office")),
		  "Europe/Berlin");
	CHECK_STR(rd_calendar_zone(rd_calendars_find(cals, "us-east")),
		  "America/New_York");
	CHECK_STR(rd_calendar_zone(rd_calendars_find(cals, "apac")),
		  "Asia/Tokyo");
	CHECK(rd_calendars_find(cals, "eu") == NULL);
	/* demo-shop follows the Berlin office; no default: others count
	 * every hour */
	CHECK(rd_calendars_for(cals, "demo-shop") ==
	      rd_calendars_find(cals, "eu-office"));
	CHECK(rd_calendars_for(cals, "other-shop") == NULL);
	CHECK(rd_calendars_for(cals, "") == NULL);
	CHECK(rd_calendars_for(cals, NULL) == NULL);
	rd_calendars_free(cals);
	rd_calendars_free(NULL);
}

static void default_calendar(void)
{
	static const char text[] =
		"{\"version\": 3, \"default\": \"b\", \"calendars\": {"
		"\"a\": {\"zone\": \"UTC\", \"hours\": {\"mon\": "
		"[\"09:00-17:00\"]}},"
		"\"b\": {\"zone\": \"Asia/Tokyo\", \"hours\": {\"sun\": "
		"[\"00:00-24:00\"]}}},"
		"\"storefronts\": {\"shop-a\": \"a\"}}";
	rd_calendars *cals = NULL;
	rd_error err = { 0 };

	CHECK_OK(rd_calendars_parse(&cals, text, strlen(text), "t.json", &err),
		 &err);
	CHECK_INT(rd_calendars_version(cals), 3);
	CHECK(rd_calendars_for(cals, "shop-a") == rd_calendars_find(cals, "a"));
	CHECK(rd_calendars_for(cals, "shop-b") == rd_calendars_find(cals, "b"));
	CHECK(rd_calendars_for(cals, NULL) == rd_calendars_find(cals, "b"));
	rd_calendars_free(cals);
}

/* ---- counting ----------------------------------------------------------- */

static void friday_to_monday(void)
{
	rd_calendars *cals = shipped();
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	/* Fri 2026-01-16 16:00 CET (UTC+1) + 2 h: one hour on Friday, one on
	 * Monday: Mon 2026-01-19 10:00 CET */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 16, 15, 0), 2 * HOUR,
		     &due, &err), &err);
	CHECK_INT(due, utc(2026, 1, 19, 9, 0));
	/* exactly the rest of Friday ends at Friday's close, not Monday */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 16, 15, 0), HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 1, 16, 16, 0));
	/* one second more is Monday 09:00:01 */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 16, 15, 0), HOUR + 1,
		     &due, &err), &err);
	CHECK_INT(due, utc(2026, 1, 19, 8, 0) + 1);
	/* a whole week of hours: 40 h from Monday 09:00 is Friday 17:00 */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 19, 8, 0), 40 * HOUR,
		     &due, &err), &err);
	CHECK_INT(due, utc(2026, 1, 23, 16, 0));
	rd_calendars_free(cals);
}

static void berlin_daylight_saving(void)
{
	rd_calendars *cals = shipped(), *sundays = NULL;
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	/* Fri 2026-03-27 16:00 CET (UTC+1) + 2 h: summer time starts on
	 * Sunday the 29th, so Monday opens at 09:00 CEST = 07:00Z and the
	 * due time is 10:00 CEST = 08:00Z */
	CHECK_OK(add(cals, "eu-office", utc(2026, 3, 27, 15, 0), 2 * HOUR,
		     &due, &err), &err);
	CHECK_INT(due, utc(2026, 3, 30, 8, 0));
	/* Fri 2026-10-23 16:30 CEST (UTC+2) + 1 h: winter time from the
	 * 25th; Monday 09:30 CET = 08:30Z */
	CHECK_OK(add(cals, "eu-office", utc(2026, 10, 23, 14, 30), HOUR,
		     &due, &err), &err);
	CHECK_INT(due, utc(2026, 10, 26, 8, 30));

	/* On the days of the change themselves: a calendar open all Sunday */
	sundays = one("\"zone\": \"Europe/Berlin\", \"hours\": {\"sun\": "
		      "[\"00:00-24:00\"]}", &err);
	CHECK(sundays != NULL);
	/* 2026-03-29 has 23 hours: from 00:00 CET (Sat 23:00Z) they end at
	 * 24:00 CEST = 22:00Z */
	CHECK_OK(add(sundays, "t", utc(2026, 3, 28, 23, 0), 23 * HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 3, 29, 22, 0));
	/* a 24th hour is the first hour of the next Sunday (CEST) */
	CHECK_OK(add(sundays, "t", utc(2026, 3, 28, 23, 0), 24 * HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 4, 4, 23, 0));
	/* 2026-10-25 has 25 hours: 00:00 CEST (Sat 22:00Z) to 24:00 CET
	 * (23:00Z) */
	CHECK_OK(add(sundays, "t", utc(2026, 10, 24, 22, 0), 25 * HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 10, 25, 23, 0));
	rd_calendars_free(sundays);
	sundays = one("\"zone\": \"Europe/Berlin\", \"hours\": {\"sun\": "
		      "[\"09:00-17:00\"]}", &err);
	CHECK(sundays != NULL);
	/* 09:00 on 2026-03-29 is 07:00Z; a week before it was 08:00Z */
	CHECK_OK(add(sundays, "t", utc(2026, 3, 28, 12, 0), 0, &due, &err),
		 &err);
	CHECK_INT(due, utc(2026, 3, 29, 7, 0));
	CHECK_OK(add(sundays, "t", utc(2026, 3, 21, 12, 0), 0, &due, &err),
		 &err);
	CHECK_INT(due, utc(2026, 3, 22, 8, 0));
	rd_calendars_free(sundays);
	rd_calendars_free(cals);
}

static void new_york_daylight_saving(void)
{
	rd_calendars *cals = shipped();
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	/* Fri 2026-03-06 17:00 EST (UTC-5) + 2 h: one hour to 18:00, then
	 * Mon 2026-03-09 (EDT since the 8th, UTC-4) 09:00 = 13:00Z + 1 h */
	CHECK_OK(add(cals, "us-east", utc(2026, 3, 6, 22, 0), 2 * HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 3, 9, 14, 0));
	/* Fri 2026-10-30 17:30 EDT (UTC-4) + 1 h: half an hour, then Mon
	 * 2026-11-02 (EST since the 1st, UTC-5) 09:00 = 14:00Z + 30 min */
	CHECK_OK(add(cals, "us-east", utc(2026, 10, 30, 21, 30), HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 11, 2, 14, 30));
	rd_calendars_free(cals);
}

static void holidays_skipped(void)
{
	rd_calendars *cals = shipped(), *week = NULL;
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	/* Wed 2026-12-23 15:00 CET + 4 h: two hours on Wednesday; the 24th,
	 * 25th and 26th are holidays, the 27th a Sunday; Mon 28th 11:00 CET */
	CHECK_OK(add(cals, "eu-office", utc(2026, 12, 23, 14, 0), 4 * HOUR,
		     &due, &err), &err);
	CHECK_INT(due, utc(2026, 12, 28, 10, 0));
	/* US: Thanksgiving Thu 2026-11-26; Wed 17:00 EST + 2 h is Fri 10:00 */
	CHECK_OK(add(cals, "us-east", utc(2026, 11, 25, 22, 0), 2 * HOUR,
		     &due, &err), &err);
	CHECK_INT(due, utc(2026, 11, 27, 15, 0));

	/* A week of holidays only: Mon 2026-02-02 to Fri 02-06 */
	week = one("\"zone\": \"UTC\", \"hours\": {\"mon\": [\"09:00-17:00\"],"
		   "\"tue\": [\"09:00-17:00\"], \"wed\": [\"09:00-17:00\"],"
		   "\"thu\": [\"09:00-17:00\"], \"fri\": [\"09:00-17:00\"]},"
		   "\"holidays\": [\"2026-02-06\", \"2026-02-02\","
		   " \"2026-02-04\", \"2026-02-03\", \"2026-02-05\"]", &err);
	CHECK(week != NULL);
	CHECK_OK(add(week, "t", utc(2026, 1, 30, 16, 0), 2 * HOUR, &due, &err),
		 &err);
	CHECK_INT(due, utc(2026, 2, 9, 10, 0));
	rd_calendars_free(week);
	rd_calendars_free(cals);
}

static void start_outside_hours(void)
{
	rd_calendars *cals = shipped();
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	/* Saturday 2026-01-17 11:00 CET + 1 h: Monday 10:00 CET */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 17, 10, 0), HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 1, 19, 9, 0));
	/* Monday 06:00 CET + 1 h: 10:00 the same day */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 19, 5, 0), HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 1, 19, 9, 0));
	/* Monday 20:00 CET + 1 h: Tuesday 10:00 */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 19, 19, 0), HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 1, 20, 9, 0));
	rd_calendars_free(cals);
}

static void zero_seconds(void)
{
	rd_calendars *cals = shipped();
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	/* within hours: the start itself */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 16, 12, 34) + 56, 0, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 1, 16, 12, 34) + 56);
	/* at the opening: the opening */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 16, 8, 0), 0, &due, &err),
		 &err);
	CHECK_INT(due, utc(2026, 1, 16, 8, 0));
	/* at the close: closed already, so the next opening */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 16, 16, 0), 0, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 1, 19, 8, 0));
	/* on a weekend: the next opening */
	CHECK_OK(add(cals, "eu-office", utc(2026, 1, 18, 12, 0), 0, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 1, 19, 8, 0));
	rd_calendars_free(cals);
}

static void lunch_break(void)
{
	rd_calendars *cals = shipped();
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	/* Tokyo (UTC+9, no summer time), Mon 2026-01-19 11:30 + 1 h: half an
	 * hour to 12:00, lunch until 13:00, then 13:30 JST = 04:30Z */
	CHECK_OK(add(cals, "apac", utc(2026, 1, 19, 2, 30), HOUR, &due, &err),
		 &err);
	CHECK_INT(due, utc(2026, 1, 19, 4, 30));
	/* during lunch, zero seconds: 13:00 JST */
	CHECK_OK(add(cals, "apac", utc(2026, 1, 19, 3, 30), 0, &due, &err),
		 &err);
	CHECK_INT(due, utc(2026, 1, 19, 4, 0));
	/* a full day is 8 h: 09:00 Monday + 8 h = 18:00 Monday */
	CHECK_OK(add(cals, "apac", utc(2026, 1, 19, 0, 0), 8 * HOUR, &due,
		     &err), &err);
	CHECK_INT(due, utc(2026, 1, 19, 9, 0));
	rd_calendars_free(cals);
}

static void refused_arguments(void)
{
	rd_calendars *cals = shipped();
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	CHECK_FAILS(add(cals, "eu-office", utc(2026, 1, 16, 12, 0), -1, &due,
			&err), RD_EINVALID);
	CHECK_STR(err.field, "seconds");
	CHECK_HAS(err.message, "negative");
	CHECK_FAILS(add(cals, "eu-office", -5, 0, &due, &err), RD_EINVALID);
	CHECK_STR(err.field, "start");
	CHECK_FAILS(add(cals, "nope", 0, 0, &due, &err), RD_EINTERNAL);
	rd_calendars_free(cals);
}

/* Open hours that never come: the walk stops at its bound. */
static void bounded_walk(void)
{
	char *body = NULL;
	size_t size = 64 * 1024, used = 0;
	rd_calendars *cals = shipped(), *closed = NULL;
	rd_error err = { 0 };
	int64_t due;

	CHECK(cals != NULL);
	CHECK_FAILS(add(cals, "eu-office", utc(2026, 1, 16, 12, 0), INT64_MAX,
			&due, &err), RD_EINVALID);
	CHECK_HAS(err.message, "calendar eu-office has fewer than");
	CHECK_HAS(err.message, "1100 days");
	CHECK_INT(due, -1);

	/* every day of 2026 to 2029 a holiday */
	body = malloc(size);
	CHECK(body != NULL);
	used = (size_t)snprintf(body, size,
				"\"zone\": \"Europe/Berlin\", \"hours\": "
				"{\"mon\": [\"09:00-17:00\"]}, \"holidays\": [");
	for (int64_t day = utc(2026, 1, 1, 12, 0);
	     day < utc(2030, 1, 1, 0, 0); day += 24 * HOUR) {
		time_t t = (time_t)day;
		struct tm tm;

		gmtime_r(&t, &tm);
		used += (size_t)snprintf(body + used, size - used,
					 "%s\"%04d-%02d-%02d\"",
					 day == utc(2026, 1, 1, 12, 0) ? "" : ",",
					 tm.tm_year + 1900, tm.tm_mon + 1,
					 tm.tm_mday);
	}
	snprintf(body + used, size - used, "]");
	closed = one(body, &err);
	free(body);
	CHECK(closed != NULL);
	CHECK_FAILS(add(closed, "t", utc(2026, 1, 5, 8, 0), 1, &due, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "seconds");
	CHECK_HAS(err.message, "calendar t has fewer than 1 seconds");
	/* zero seconds needs an opening too */
	CHECK_FAILS(add(closed, "t", utc(2026, 1, 5, 8, 0), 0, &due, &err),
		    RD_EINVALID);
	/* from 2030 on, Mondays are open again */
	CHECK_OK(add(closed, "t", utc(2029, 12, 30, 12, 0), 0, &due, &err),
		 &err);
	CHECK_INT(due, utc(2029, 12, 31, 8, 0) + 7 * 24 * HOUR);
	rd_calendars_free(closed);
	rd_calendars_free(cals);
}

/* ---- refusals ----------------------------------------------------------- */

#define OK_HOURS "\"hours\": {\"mon\": [\"09:00-17:00\"]}"
#define CAL(members) "{\"version\": 1, \"calendars\": {\"t\": {" members "}}}"
#define CAL_Z(members) CAL("\"zone\": \"UTC\", " members)

static const struct refusal {
	const char *text;
	const char *field;
	const char *message;   /* the whole message */
} refusals[] = {
	{ "{\"version\": 1,", "", "test.json:1:14: string or '}' expected near end of file" },
	{ "{\"version\": 1, \"calendars\": {}, \"calendar\": {}}", "calendar",
	  "test.json: calendar: unknown member \"calendar\" (allowed: version, "
	  "description, default, calendars, storefronts)" },
	{ "{\"calendars\": {}}", "version",
	  "test.json: version: required member missing (an integer)" },
	{ "{\"version\": 0, \"calendars\": {}}", "version",
	  "test.json: version: must be a positive integer" },
	{ "{\"version\": \"1\", \"calendars\": {}}", "version",
	  "test.json: version: must be an integer" },
	{ "{\"version\": 1, \"calendars\": {}}", "calendars",
	  "test.json: calendars: declare at least one calendar" },
	{ "{\"version\": 1, \"calendars\": {\"EU\": {}}}", "calendars.EU",
	  "test.json: calendars.EU: \"EU\" is not a valid calendar name: a "
	  "lower-case letter, then up to 63 lower-case letters, digits, _ or -" },
	{ CAL(OK_HOURS), "calendars.t.zone",
	  "test.json: calendars.t.zone: required member missing (a string)" },
	{ CAL("\"zone\": \"Mars/Olympus\", " OK_HOURS), "calendars.t.zone",
	  "test.json: calendars.t.zone: \"Mars/Olympus\" is not an IANA time "
	  "zone ICU knows: write one such as \"Europe/Berlin\" or "
	  "\"America/New_York\"" },
	{ CAL_Z("\"hours\": {\"monday\": []}"), "calendars.t.hours.monday",
	  "test.json: calendars.t.hours.monday: unknown member \"monday\" "
	  "(allowed: mon, tue, wed, thu, fri, sat, sun)" },
	{ CAL_Z("\"hours\": {\"mon\": [\"9-17\"]}"), "calendars.t.hours.mon[0]",
	  "test.json: calendars.t.hours.mon[0]: \"9-17\" is not an opening "
	  "interval: write \"HH:MM-HH:MM\" on a 24-hour clock, such as "
	  "\"09:00-17:00\" (\"24:00\" may end a day)" },
	{ CAL_Z("\"hours\": {\"mon\": [\"09:00-24:01\"]}"),
	  "calendars.t.hours.mon[0]", NULL },
	{ CAL_Z("\"hours\": {\"mon\": [\"24:00-24:00\"]}"),
	  "calendars.t.hours.mon[0]", NULL },
	{ CAL_Z("\"hours\": {\"mon\": [\"09:60-17:00\"]}"),
	  "calendars.t.hours.mon[0]", NULL },
	{ CAL_Z("\"hours\": {\"mon\": [900]}"), "calendars.t.hours.mon[0]",
	  "test.json: calendars.t.hours.mon[0]: must be a string "
	  "\"HH:MM-HH:MM\", such as \"09:00-17:00\"" },
	{ CAL_Z("\"hours\": {\"tue\": [\"09:00-12:30\", \"13:30-12:00\"]}"),
	  "calendars.t.hours.tue[1]",
	  "test.json: calendars.t.hours.tue[1]: 13:30-12:00 ends before it "
	  "starts" },
	{ CAL_Z("\"hours\": {\"wed\": [\"09:00-09:00\"]}"),
	  "calendars.t.hours.wed[0]",
	  "test.json: calendars.t.hours.wed[0]: 09:00-09:00 is empty: it "
	  "closes when it opens" },
	{ CAL_Z("\"hours\": {\"thu\": [\"09:00-13:00\", \"12:00-17:00\"]}"),
	  "calendars.t.hours.thu[1]",
	  "test.json: calendars.t.hours.thu[1]: 12:00-17:00 overlaps "
	  "09:00-13:00 of the same day" },
	{ CAL_Z("\"hours\": {\"fri\": [\"13:00-17:00\", \"08:00-24:00\"]}"),
	  "calendars.t.hours.fri[1]",
	  "test.json: calendars.t.hours.fri[1]: 08:00-24:00 overlaps "
	  "13:00-17:00 of the same day" },
	{ CAL_Z("\"hours\": {\"sat\": [], \"sun\": []}"), "calendars.t.hours",
	  "test.json: calendars.t.hours: the week has no open hour: give at "
	  "least one day an interval such as \"09:00-17:00\"" },
	{ CAL_Z("\"hours\": {\"mon\": [\"00:00-01:00\", \"01:00-02:00\", "
		"\"02:00-03:00\", \"03:00-04:00\", \"04:00-05:00\", "
		"\"05:00-06:00\", \"06:00-07:00\", \"07:00-08:00\", "
		"\"08:00-09:00\"]}"),
	  "calendars.t.hours.mon",
	  "test.json: calendars.t.hours.mon: at most 8 opening intervals a "
	  "day" },
	{ CAL_Z(OK_HOURS ", \"holidays\": [\"2026-02-30\"]"),
	  "calendars.t.holidays[0]",
	  "test.json: calendars.t.holidays[0]: \"2026-02-30\" is not a date: "
	  "write \"YYYY-MM-DD\", such as \"2026-12-25\" (years 1970 to 9999)" },
	{ CAL_Z(OK_HOURS ", \"holidays\": [\"2026-12-25\", \"25.12.2026\"]"),
	  "calendars.t.holidays[1]", NULL },
	{ CAL_Z(OK_HOURS ", \"holidays\": [\"2028-02-29\", \"2027-02-29\"]"),
	  "calendars.t.holidays[1]", NULL },
	{ CAL_Z(OK_HOURS ", \"holidays\": [\"2026-12-25\", \"2026-12-26\", "
		"\"2026-12-25\"]"),
	  "calendars.t.holidays[2]",
	  "test.json: calendars.t.holidays[2]: 2026-12-25 is listed twice" },
	{ CAL_Z(OK_HOURS ", \"holidays\": \"2026-12-25\""),
	  "calendars.t.holidays",
	  "test.json: calendars.t.holidays: must be an array" },
	{ CAL_Z(OK_HOURS ", \"note\": \"\""), "calendars.t.note",
	  "test.json: calendars.t.note: unknown member \"note\" (allowed: "
	  "description, zone, hours, holidays)" },
	{ "{\"version\": 1, \"default\": \"x\", \"calendars\": {\"t\": "
	  "{\"zone\": \"UTC\", " OK_HOURS "}}}", "default",
	  "test.json: default: names no calendar: \"x\" (calendars: t)" },
	{ "{\"version\": 1, \"calendars\": {\"t\": {\"zone\": \"UTC\", "
	  OK_HOURS "}}, \"storefronts\": {\"demo-shop\": \"eu-office\"}}",
	  "storefronts.demo-shop",
	  "test.json: storefronts.demo-shop: names no calendar: \"eu-office\" "
	  "(calendars: t)" },
	{ "{\"version\": 1, \"calendars\": {\"t\": {\"zone\": \"UTC\", "
	  OK_HOURS "}}, \"storefronts\": {\"Demo Shop\": \"t\"}}",
	  "storefronts.Demo Shop",
	  "test.json: storefronts.Demo Shop: \"Demo Shop\" is not a "
	  "storefront: 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a "
	  "letter or digit" },
	{ "{\"version\": 1, \"calendars\": {\"t\": {\"zone\": \"UTC\", "
	  OK_HOURS "}}, \"storefronts\": {\"shop\": 1}}",
	  "storefronts.shop",
	  "test.json: storefronts.shop: must be a string: a calendar's name" },
	{ "{\"version\": 1, \"version\": 2, \"calendars\": {}}", "", NULL },
};

static void validation_refusals(void)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		rd_calendars *cals = NULL;
		rd_error err = { 0 };
		int rc = rd_calendars_parse(&cals, r->text, strlen(r->text),
					    "test.json", &err);

		if (rc != RD_EDEFINITION)
			fprintf(stderr, "  case %zu: %s\n", i, r->text);
		CHECK_INT(rc, RD_EDEFINITION);
		CHECK(cals == NULL);
		CHECK_STR(err.field, r->field);
		if (r->message)
			CHECK_STR(err.message, r->message);
		else
			CHECK(strncmp(err.message, "test.json:", 10) == 0);
	}
}

static void load_refusals(void)
{
	char *dir = rd_test_tmpdir(), *path = NULL;
	rd_calendars *cals = NULL;
	rd_error err = { 0 };

	CHECK(dir != NULL);
	path = rd_test_path(dir, "calendars.json");
	CHECK_FAILS(rd_calendars_load(&cals, path, &err), RD_EDEFINITION);
	CHECK(strncmp(err.message, path, strlen(path)) == 0);
	CHECK(rd_test_write(path, "{\"version\": 1,\n \"calendars\": 7}") == 0);
	CHECK_FAILS(rd_calendars_load(&cals, path, &err), RD_EDEFINITION);
	CHECK(strncmp(err.message, path, strlen(path)) == 0);
	CHECK_HAS(err.message, ": calendars: must be an object");
	CHECK_STR(err.field, "calendars");
	CHECK(cals == NULL);
	free(path);
	free(dir);
}

int main(void)
{
	RUN(shipped_file_loads);
	RUN(default_calendar);
	RUN(friday_to_monday);
	RUN(berlin_daylight_saving);
	RUN(new_york_daylight_saving);
	RUN(holidays_skipped);
	RUN(start_outside_hours);
	RUN(zero_seconds);
	RUN(lunch_break);
	RUN(refused_arguments);
	RUN(bounded_walk);
	RUN(validation_refusals);
	RUN(load_refusals);
	return rd_test_summary();
}
