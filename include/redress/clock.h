/*
 * Time in redress: int64 seconds since the Unix epoch, UTC, printed as
 * RFC 3339 ("2026-11-23T03:31:09Z"). The engine never reads the clock itself;
 * callers pass `now`, which makes every rule testable. The CLI and server
 * take `now` from rd_clock_now(), which honours REDRESS_NOW.
 */
#ifndef REDRESS_CLOCK_H
#define REDRESS_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "redress/error.h"

/* Length of a formatted time, "YYYY-MM-DDTHH:MM:SSZ", plus its NUL. */
#define RD_TIME_BUFSZ 21

/*
 * The current time. When the environment variable REDRESS_NOW holds an
 * RFC 3339 time it is used instead of the system clock. A REDRESS_NOW that
 * does not parse is an error (RD_EINVALID), never silently ignored; an
 * empty REDRESS_NOW counts as unset.
 */
int rd_clock_now(int64_t *out, rd_error *err);

/*
 * Parse an RFC 3339 date-time ("2026-11-23T03:31:09Z", fractional seconds
 * and numeric offsets accepted, fractions dropped) into epoch seconds UTC.
 * Times before 1970-01-01T00:00:00Z or after 9999-12-31T23:59:59Z (once
 * the offset is applied: rd_time_format could not write them back), and
 * leap seconds other than 23:59:60 UTC, are RD_EINVALID, as is anything
 * else.
 */
int rd_time_parse(int64_t *out, const char *text, rd_error *err);

/* Format epoch seconds as RFC 3339 UTC into buf (at least RD_TIME_BUFSZ). */
void rd_time_format(char buf[RD_TIME_BUFSZ], int64_t epoch);

/*
 * Parse a duration: one or more <integer><unit> groups, units w, d, h, m, s
 * ("24h", "5d", "1d12h", "90s"). Result in seconds, > 0 and at most 10 years.
 * RD_EINVALID otherwise.
 */
int rd_duration_parse(int64_t *out, const char *text, rd_error *err);

#endif
