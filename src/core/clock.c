/*
 * Time: RFC 3339 parsing and formatting, durations, and the one place that
 * reads the clock (honouring REDRESS_NOW so that every rule can be tested).
 */
#include "redress/clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 9999-12-31T23:59:59Z, the last time RFC 3339 can write. */
#define TIME_MAX INT64_C(253402300799)

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int read_digits(const char **p, int count, int *out)
{
	int value = 0;

	for (int i = 0; i < count; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		value = value * 10 + ((*p)[i] - '0');
	}
	*p += count;
	*out = value;
	return 0;
}

int rd_time_parse(int64_t *out, const char *text, rd_error *err)
{
	static const int month_days[12] = { 31, 28, 31, 30, 31, 30,
					    31, 31, 30, 31, 30, 31 };
	const char *p = text;
	int year, month, day, hour, minute, second, off_h = 0, off_m = 0;
	int64_t offset = 0, epoch;

	if (!text)
		goto bad;
	if (read_digits(&p, 4, &year) || *p++ != '-' ||
	    read_digits(&p, 2, &month) || *p++ != '-' ||
	    read_digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (read_digits(&p, 2, &hour) || *p++ != ':' ||
	    read_digits(&p, 2, &minute) || *p++ != ':' ||
	    read_digits(&p, 2, &second))
		goto bad;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;

		if (read_digits(&p, 2, &off_h) || *p++ != ':' ||
		    read_digits(&p, 2, &off_m) || off_h > 23 || off_m > 59)
			goto bad;
		offset = sign * (off_h * 3600 + off_m * 60);
	} else {
		goto bad;
	}
	if (*p != '\0' || year < 1970 || month < 1 || month > 12 || day < 1 ||
	    hour > 23 || minute > 59 || second > 60)
		goto bad;
	if (day > month_days[month - 1] + (month == 2 && is_leap(year)))
		goto bad;
	if (second == 60) {
		/* only 23:59:60 UTC exists; it is stored as the second before */
		int64_t utc_minute = ((hour * 60 + minute - offset / 60) % 1440 +
				      1440) % 1440;

		if (utc_minute != 1439)
			goto bad;
		second = 59;
	}
	epoch = days_from_civil(year, month, day) * 86400 + hour * 3600 +
		minute * 60 + second - offset;
	/*
	 * Only what rd_time_format can write back: a year 9999 time with a
	 * negative offset is in year 10000 UTC, which has no RFC 3339 form.
	 */
	if (epoch < 0 || epoch > TIME_MAX)
		goto bad;
	*out = epoch;
	return RD_OK;
bad:
	return rd_error_set(err, RD_EINVALID,
			    "\"%s\" is not an RFC 3339 time such as "
			    "2026-11-23T09:30:00Z",
			    text ? text : "");
}

void rd_time_format(char buf[RD_TIME_BUFSZ], int64_t epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, RD_TIME_BUFSZ, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, RD_TIME_BUFSZ, "1970-01-01T00:00:00Z");
}

int rd_clock_now(int64_t *out, rd_error *err)
{
	const char *fixed = getenv("REDRESS_NOW");
	struct timespec ts;

	if (fixed && *fixed) {
		int rc = rd_time_parse(out, fixed, err);

		if (rc < 0)
			rd_error_prefix(err, "REDRESS_NOW");
		return rc;
	}
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return rd_error_set(err, RD_EIO, "the system clock is unreadable");
	*out = (int64_t)ts.tv_sec;
	return RD_OK;
}

#define DURATION_MAX (INT64_C(10) * 366 * 86400)

int rd_duration_parse(int64_t *out, const char *text, rd_error *err)
{
	const char *p = text;
	int64_t total = 0;

	if (!text || !*text)
		goto bad;
	while (*p) {
		int64_t value = 0, unit;

		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p)) {
			value = value * 10 + (*p++ - '0');
			if (value > DURATION_MAX)
				goto bad;
		}
		switch (*p++) {
		case 'w': unit = 7 * 86400; break;
		case 'd': unit = 86400; break;
		case 'h': unit = 3600; break;
		case 'm': unit = 60; break;
		case 's': unit = 1; break;
		default: goto bad;
		}
		total += value * unit;
		if (total > DURATION_MAX)
			goto bad;
	}
	if (total <= 0)
		goto bad;
	*out = total;
	return RD_OK;
bad:
	return rd_error_set(err, RD_EINVALID,
			    "\"%s\" is not a duration such as 24h, 5d or 1d12h "
			    "(units w, d, h, m, s; more than zero, at most 10 "
			    "years)",
			    text ? text : "");
}
