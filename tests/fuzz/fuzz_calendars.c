/*
 * Fuzz target: the business-hour calendars (rd_calendars_parse,
 * workflows/calendars.json) and the sum of open hours over them
 * (rd_calendar_add).
 *
 * Invariants: a refused definition is a well-formed RD_EDEFINITION naming
 * the origin; an accepted one lists its calendars in name order, each
 * found by its name, each with a zone ICU knows, and a storefront's
 * calendar is one of them or none. For every calendar, from a few start
 * times: no open time at all is the start itself or a later instant (the
 * next opening), more open time never ends earlier, and the due time is
 * never before the start; the sum either answers or refuses with
 * RD_EINVALID (a calendar whose opening lies past the walk's bound),
 * never anything else.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "redress/locale.h"

/* NOLINTNEXTLINE(readability-non-const-parameter): libFuzzer's signature */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len = 0;
	char *text = fuzz_read_source_file("workflows/calendars.json", &len);
	rd_calendars *cals = NULL;
	rd_error err;

	(void)argc;
	(void)argv;
	json_object_seed(1);
	/* the shipped file must load: the seeds start from it */
	if (rd_calendars_parse(&cals, text, len, "workflows/calendars.json",
			       &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.message);
		abort();
	}
	rd_calendars_free(cals);
	free(text);
	return 0;
}

static void check_sums(const rd_calendar *cal)
{
	/* a Friday afternoon, a Sunday, the night of a change to summer time */
	static const int64_t starts[] = { 1772809200, 1773014400,
					  1774746000 };
	static const int64_t spans[] = { 0, 1, 3600, 8 * 3600, 7 * 86400 };

	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		int64_t before = 0;

		for (size_t k = 0; k < sizeof(spans) / sizeof(spans[0]); k++) {
			int64_t due = 0;
			rd_error err;
			int rc = rd_calendar_add(cal, starts[s], spans[k],
						 &due, &err);

			if (rc < 0) {
				FUZZ_CHECK(rc == RD_EINVALID);
				break;
			}
			FUZZ_CHECK(due >= starts[s] + (spans[k] ? 1 : 0));
			FUZZ_CHECK(k == 0 || due >= before);
			before = due;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rd_calendars *cals = NULL;
	rd_error err;
	const rd_calendar *sf;
	int rc;

	rc = rd_calendars_parse(&cals, (const char *)data, size, "fuzz.json",
				&err);
	if (rc < 0) {
		FUZZ_CHECK(rc == RD_EDEFINITION);
		FUZZ_CHECK(cals == NULL);
		FUZZ_CHECK(strncmp(err.message, "fuzz.json", 9) == 0);
		return 0;
	}
	for (size_t i = 0; i < rd_calendars_count(cals); i++) {
		const rd_calendar *cal = rd_calendars_at(cals, i);

		FUZZ_CHECK(cal != NULL);
		FUZZ_CHECK(rd_calendars_find(cals, rd_calendar_name(cal)) ==
			   cal);
		FUZZ_CHECK(rd_locale_zone_valid(rd_calendar_zone(cal)));
		if (i > 0)
			FUZZ_CHECK(strcmp(rd_calendar_name(rd_calendars_at(
						  cals, i - 1)),
					  rd_calendar_name(cal)) < 0);
		check_sums(cal);
	}
	sf = rd_calendars_for(cals, "demo-shop");
	FUZZ_CHECK(sf == NULL || rd_calendars_find(cals,
					rd_calendar_name(sf)) == sf);
	rd_calendars_free(cals);
	return 0;
}
