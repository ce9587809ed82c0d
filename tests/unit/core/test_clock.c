/*
 * Time: RFC 3339 parsing (zones, offsets, fractions, calendars), formatting
 * and its round trip, durations, and REDRESS_NOW.
 */
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redress/clock.h"

#define UNTOUCHED INT64_C(-424242)

/* 2026-11-23T03:31:09Z */
#define SAMPLE_EPOCH INT64_C(1795404669)

static void parse_utc(void)
{
	static const struct {
		const char *text;
		int64_t epoch;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1970-01-01T00:00:01Z", 1 },
		{ "2000-01-01T00:00:00Z", INT64_C(946684800) },
		{ "2026-11-23T03:31:09Z", SAMPLE_EPOCH },
		{ "2026-11-23t03:31:09z", SAMPLE_EPOCH },
		{ "2026-11-23 03:31:09Z", SAMPLE_EPOCH },
		{ "2099-12-31T23:59:59Z", INT64_C(4102444799) },
		{ "9999-12-31T23:59:59Z", INT64_C(253402300799) },
		/* A leap second is kept as the second before it. */
		{ "2016-12-31T23:59:60Z", INT64_C(1483228799) },
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t epoch = UNTOUCHED;

		CHECK_OK(rd_time_parse(&epoch, cases[i].text, &err), &err);
		CHECK_INT(epoch, cases[i].epoch);
	}
}

static void parse_offsets(void)
{
	static const char *const same_instant[] = {
		"2026-11-23T03:31:09+00:00",
		"2026-11-23T03:31:09-00:00",
		"2026-11-23T05:31:09+02:00",
		"2026-11-23T09:01:09+05:30",
		"2026-11-22T22:31:09-05:00",
		"2026-11-22T17:01:09-10:30",
		/* An offset moving across a day, a month and a year. */
		"2026-11-24T03:30:09+23:59",
		"2026-11-22T03:32:09-23:59",
	};
	rd_error err = { 0 };
	int64_t epoch = UNTOUCHED;

	for (size_t i = 0; i < sizeof(same_instant) / sizeof(same_instant[0]);
	     i++) {
		epoch = UNTOUCHED;
		CHECK_OK(rd_time_parse(&epoch, same_instant[i], &err), &err);
		CHECK_INT(epoch, SAMPLE_EPOCH);
	}
	CHECK_OK(rd_time_parse(&epoch, "2027-01-01T00:30:00+01:00", &err),
		 &err);
	CHECK_INT(epoch, INT64_C(1798759800));
	CHECK_OK(rd_time_parse(&epoch, "2026-12-31T23:30:00-01:00", &err),
		 &err);
	CHECK_INT(epoch, INT64_C(1798763400));
}

static void parse_fractions_are_dropped(void)
{
	static const char *const texts[] = {
		"2026-11-23T03:31:09.0Z",
		"2026-11-23T03:31:09.5Z",
		"2026-11-23T03:31:09.999999999Z",
		"2026-11-23T03:31:09.123456789012345678901234567890Z",
		"2026-11-23T05:31:09.75+02:00",
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int64_t epoch = UNTOUCHED;

		CHECK_OK(rd_time_parse(&epoch, texts[i], &err), &err);
		/* Dropped, not rounded: .999 stays in the same second. */
		CHECK_INT(epoch, SAMPLE_EPOCH);
	}
}

static void parse_leap_years(void)
{
	rd_error err = { 0 };
	int64_t epoch = UNTOUCHED, day_before = UNTOUCHED;

	CHECK_OK(rd_time_parse(&epoch, "2024-02-29T00:00:00Z", &err), &err);
	CHECK_INT(epoch, INT64_C(1709164800));
	CHECK_OK(rd_time_parse(&day_before, "2024-02-28T00:00:00Z", &err),
		 &err);
	CHECK_INT(epoch - day_before, 86400);
	CHECK_OK(rd_time_parse(&epoch, "2024-03-01T00:00:00Z", &err), &err);
	CHECK_INT(epoch - day_before, 2 * 86400);
	/* Divisible by 400: a leap year. */
	CHECK_OK(rd_time_parse(&epoch, "2000-02-29T12:00:00Z", &err), &err);
	CHECK_INT(epoch, INT64_C(951782400) + 12 * 3600);

	epoch = UNTOUCHED;
	CHECK_FAILS(rd_time_parse(&epoch, "2026-02-29T00:00:00Z", &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "2026-02-29T00:00:00Z");
	/* Divisible by 100 but not 400: not a leap year. */
	CHECK_FAILS(rd_time_parse(&epoch, "2100-02-29T00:00:00Z", &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_time_parse(&epoch, "2024-02-30T00:00:00Z", &err),
		    RD_EINVALID);
	CHECK_INT(epoch, UNTOUCHED);
}

static void parse_refuses_invalid(void)
{
	static const char *const refused[] = {
		"",
		"2026",
		"2026-11-23",
		"2026-11-23T03:31Z",
		"2026-11-23T03:31:09",          /* no zone */
		"2026-11-23T03:31:09Zjunk",
		"2026-11-23T03:31:09Z ",
		" 2026-11-23T03:31:09Z",
		"2026-11-23X03:31:09Z",
		"2026/11/23T03:31:09Z",
		"26-11-23T03:31:09Z",
		"02026-11-23T03:31:09Z",
		"2026-1-23T03:31:09Z",
		"2026-11-3T03:31:09Z",
		"2026-11-23T3:31:09Z",
		"2026-00-23T03:31:09Z",         /* month 0 */
		"2026-13-23T03:31:09Z",         /* month 13 */
		"2026-11-00T03:31:09Z",         /* day 0 */
		"2026-11-31T03:31:09Z",         /* November has 30 */
		"2026-04-31T03:31:09Z",
		"2026-06-31T03:31:09Z",
		"2026-12-32T03:31:09Z",
		"2026-01-32T03:31:09Z",
		"2026-11-23T24:00:00Z",         /* hour 24 */
		"2026-11-23T03:60:09Z",         /* minute 60 */
		"2026-11-23T03:31:61Z",         /* second 61 */
		"2026-11-23T03:31:09.Z",        /* point without digits */
		"2026-11-23T03:31:09,5Z",
		"2026-11-23T03:31:09+02",
		"2026-11-23T03:31:09+0200",
		"2026-11-23T03:31:09+2:00",
		"2026-11-23T03:31:09+24:00",
		"2026-11-23T03:31:09+02:60",
		"2026-11-23T03:31:09 +02:00",
		"1969-12-31T23:59:59Z",         /* before the epoch's year */
		"0000-01-01T00:00:00Z",
		"2026-11-23T03:31:09UTC",
		"now",
		"1795404669",
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int64_t epoch = UNTOUCHED;
		int rc = rd_time_parse(&epoch, refused[i], &err);

		if (rc != RD_EINVALID || epoch != UNTOUCHED ||
		    err.code != RD_EINVALID ||
		    !strstr(err.message, refused[i])) {
			rd_test_fail(__FILE__, __LINE__,
				     "\"%s\": rc %d, epoch %lld, "
				     "message \"%s\"",
				     refused[i], rc, (long long)epoch,
				     err.message);
			return;
		}
	}
	CHECK_FAILS(rd_time_parse(&(int64_t){ 0 }, NULL, &err), RD_EINVALID);
	CHECK_HAS(err.message, "RFC 3339");
	CHECK_FAILS(rd_time_parse(&(int64_t){ 0 }, "junk", NULL), RD_EINVALID);
}

static void format_and_round_trip(void)
{
	static const struct {
		int64_t epoch;
		const char *text;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 59, "1970-01-01T00:00:59Z" },
		{ INT64_C(946684799), "1999-12-31T23:59:59Z" },
		{ INT64_C(951782400), "2000-02-29T00:00:00Z" },
		{ INT64_C(1709164800), "2024-02-29T00:00:00Z" },
		{ SAMPLE_EPOCH, "2026-11-23T03:31:09Z" },
		{ INT64_C(4102444799), "2099-12-31T23:59:59Z" },
		{ INT64_C(4107542400), "2100-03-01T00:00:00Z" },
		{ INT64_C(253402300799), "9999-12-31T23:59:59Z" },
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[RD_TIME_BUFSZ];
		int64_t back = UNTOUCHED;

		rd_time_format(buf, cases[i].epoch);
		CHECK_STR(buf, cases[i].text);
		CHECK_INT(strlen(buf), RD_TIME_BUFSZ - 1);
		CHECK_OK(rd_time_parse(&back, buf, &err), &err);
		CHECK_INT(back, cases[i].epoch);
	}
	/* Every day of a leap year and a common year survives the trip. */
	for (int64_t t = INT64_C(1704067200); t < INT64_C(1767225600);
	     t += 86400 + 3661) {
		char buf[RD_TIME_BUFSZ];
		int64_t back = UNTOUCHED;

		rd_time_format(buf, t);
		CHECK_OK(rd_time_parse(&back, buf, &err), &err);
		CHECK_INT(back, t);
	}
	/* An offset time is printed back in UTC. */
	{
		char buf[RD_TIME_BUFSZ];
		int64_t epoch = UNTOUCHED;

		CHECK_OK(rd_time_parse(&epoch, "2026-11-23T05:31:09.5+02:00",
				       &err),
			 &err);
		rd_time_format(buf, epoch);
		CHECK_STR(buf, "2026-11-23T03:31:09Z");
	}
}

static void duration_parse(void)
{
	static const struct {
		const char *text;
		int64_t seconds;
	} cases[] = {
		{ "24h", 86400 },
		{ "5d", 5 * 86400 },
		{ "1d12h", 36 * 3600 },
		{ "90s", 90 },
		{ "1s", 1 },
		{ "15m", 900 },
		{ "1w", 7 * 86400 },
		{ "2w3d", 17 * 86400 },
		{ "1w2d3h4m5s", 7 * 86400 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5 },
		{ "48h", 2 * 86400 },
		{ "007h", 7 * 3600 },
		{ "3660d", INT64_C(3660) * 86400 },     /* the ten-year limit */
		{ "316224000s", INT64_C(316224000) },
		{ "522w", INT64_C(522) * 7 * 86400 },
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t seconds = UNTOUCHED;

		CHECK_OK(rd_duration_parse(&seconds, cases[i].text, &err),
			 &err);
		CHECK_INT(seconds, cases[i].seconds);
	}
}

static void duration_refuses(void)
{
	static const char *const refused[] = {
		"", "h", "24", "0h", "0s", "0d0h", "-1h", "+1h", "24x", "24H",
		"1D", " 24h", "24h ", "24 h", "1.5h", "1,5h", "h24", "d1",
		"1dd", "1d12", "1h-1m", "\xe2\x88\x9eh", "24hours", "1y", "1ms",
		"3661d",                        /* over ten years */
		"316224001s",
		"523w",
		"3660d1s",
		"99999999999999999999h",        /* past int64 */
		"9223372036854775807s",
		"9223372036854775808s",
		"1000000000000000000000000000000000000000s",
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int64_t seconds = UNTOUCHED;
		int rc = rd_duration_parse(&seconds, refused[i], &err);

		if (rc != RD_EINVALID || seconds != UNTOUCHED ||
		    err.code != RD_EINVALID ||
		    !strstr(err.message, "duration")) {
			rd_test_fail(__FILE__, __LINE__,
				     "\"%s\": rc %d, seconds %lld, message "
				     "\"%s\"",
				     refused[i], rc, (long long)seconds,
				     err.message);
			return;
		}
	}
	/* 600 groups of one week: each small, their sum over ten years. */
	{
		char weeks[2 * 600 + 1];
		int64_t seconds = UNTOUCHED;

		for (size_t i = 0; i < 600; i++)
			memcpy(weeks + 2 * i, "1w", 2);
		weeks[2 * 600] = '\0';
		CHECK_FAILS(rd_duration_parse(&seconds, weeks, &err),
			    RD_EINVALID);
		CHECK_INT(seconds, UNTOUCHED);
		weeks[2 * 522] = '\0';
		CHECK_OK(rd_duration_parse(&seconds, weeks, &err), &err);
		CHECK_INT(seconds, INT64_C(522) * 7 * 86400);
	}
	CHECK_FAILS(rd_duration_parse(&(int64_t){ 0 }, "24x", &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "\"24x\"");
	CHECK_FAILS(rd_duration_parse(&(int64_t){ 0 }, NULL, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_duration_parse(&(int64_t){ 0 }, "0h", NULL),
		    RD_EINVALID);
}

static void clock_now_honours_redress_now(void)
{
	rd_error err = { 0 };
	int64_t now = UNTOUCHED;

	CHECK(setenv("REDRESS_NOW", "2026-11-23T03:31:09Z", 1) == 0);
	CHECK_OK(rd_clock_now(&now, &err), &err);
	CHECK_INT(now, SAMPLE_EPOCH);
	CHECK(setenv("REDRESS_NOW", "2026-11-23T05:31:09.25+02:00", 1) == 0);
	CHECK_OK(rd_clock_now(&now, &err), &err);
	CHECK_INT(now, SAMPLE_EPOCH);
	CHECK(setenv("REDRESS_NOW", "1970-01-01T00:00:00Z", 1) == 0);
	CHECK_OK(rd_clock_now(&now, &err), &err);
	CHECK_INT(now, 0);
	CHECK(unsetenv("REDRESS_NOW") == 0);
}

static void clock_now_refuses_malformed_redress_now(void)
{
	static const char *const malformed[] = {
		"yesterday", "2026-02-29T00:00:00Z", "2026-11-23", "1795404669",
		"2026-11-23T03:31:09",
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		int64_t now = UNTOUCHED;

		CHECK(setenv("REDRESS_NOW", malformed[i], 1) == 0);
		CHECK_FAILS(rd_clock_now(&now, &err), RD_EINVALID);
		CHECK_INT(err.code, RD_EINVALID);
		CHECK_INT(now, UNTOUCHED);
		/* The message names the variable and its value. */
		CHECK_HAS(err.message, "REDRESS_NOW");
		CHECK_HAS(err.message, malformed[i]);
	}
	CHECK(unsetenv("REDRESS_NOW") == 0);
}

static void clock_now_reads_the_system_clock(void)
{
	rd_error err = { 0 };
	int64_t now = UNTOUCHED;
	int64_t before, after;

	CHECK(unsetenv("REDRESS_NOW") == 0);
	before = (int64_t)time(NULL);
	CHECK_OK(rd_clock_now(&now, &err), &err);
	after = (int64_t)time(NULL);
	CHECK(now >= before && now <= after);
}

/* Edges: before the epoch, leap seconds, codes without an error struct. */
static void parse_edges(void)
{
	int64_t t = 0;
	rd_error err;

	CHECK_FAILS(rd_time_parse(&t, "1970-01-01T00:30:00+01:00", &err),
		    RD_EINVALID);
	CHECK_OK(rd_time_parse(&t, "1970-01-01T01:30:00+01:00", &err), &err);
	CHECK_INT(t, 1800);
	CHECK_OK(rd_time_parse(&t, "2016-12-31T23:59:60Z", &err), &err);
	CHECK_INT(t, 1483228799);
	CHECK_OK(rd_time_parse(&t, "2017-01-01T00:59:60+01:00", &err), &err);
	CHECK_INT(t, 1483228799);
	CHECK_FAILS(rd_time_parse(&t, "2026-11-23T10:15:60Z", &err), RD_EINVALID);
	/*
	 * The last time RFC 3339 can write, reached with an offset too; one
	 * second later is year 10000 UTC, which rd_time_format cannot write:
	 * refused, not stored and written back as 1970-01-01T00:00:00Z.
	 * Caught by the round-trip invariant of tests/fuzz/fuzz_records.c.
	 */
	CHECK_OK(rd_time_parse(&t, "9999-12-31T23:59:59Z", &err), &err);
	CHECK_INT(t, INT64_C(253402300799));
	CHECK_OK(rd_time_parse(&t, "9999-12-31T23:59:59+01:00", &err), &err);
	CHECK_FAILS(rd_time_parse(&t, "9999-12-31T23:59:59-00:01", &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_time_parse(&t, "9999-12-31T23:59:60-23:59", &err),
		    RD_EINVALID);
	setenv("REDRESS_NOW", "not a time", 1);
	CHECK_FAILS(rd_clock_now(&t, NULL), RD_EINVALID);
	unsetenv("REDRESS_NOW");
}

int main(void)
{
	RUN(parse_edges);
	RUN(parse_utc);
	RUN(parse_offsets);
	RUN(parse_fractions_are_dropped);
	RUN(parse_leap_years);
	RUN(parse_refuses_invalid);
	RUN(format_and_round_trip);
	RUN(duration_parse);
	RUN(duration_refuses);
	RUN(clock_now_honours_redress_now);
	RUN(clock_now_refuses_malformed_redress_now);
	RUN(clock_now_reads_the_system_clock);
	return rd_test_summary();
}
