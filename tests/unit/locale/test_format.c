/*
 * Formatting for a buyer's locale: the exact bytes ICU 72 (Debian 12) gives
 * for money and dates, amounts of every exponent from their minor units,
 * and the tags, zones and currencies refused.
 *
 * The expected strings spell ICU's spaces as bytes: "\xc2\xa0" is U+00A0
 * NO-BREAK SPACE (between an amount and its symbol in de-DE, fr-FR, pt-BR)
 * and "\xe2\x80\xaf" U+202F NARROW NO-BREAK SPACE (before "AM" in en-US).
 * Another ICU version may choose other characters (CLDR changes them
 * now and then); these tests then say so.
 */
#include "test.h"

#include <stdlib.h>

#include "redress/locale.h"
#include "redress/money.h"

#define NBSP "\xc2\xa0"
#define NNBSP "\xe2\x80\xaf"

/* 2026-03-02T09:00:00Z, a Monday in winter time everywhere north. */
#define MARCH_2 INT64_C(1772442000)

struct money_case {
	const char *locale;
	int64_t minor;
	const char *currency;
	const char *expected;
};

static const struct money_case money_cases[] = {
	{ "de-DE", 11500, "USD", "115,00" NBSP "$" },
	{ "en-US", 11500, "USD", "$115.00" },
	{ "ja-JP", 1200, "JPY", "\xef\xbf\xa5" "1,200" },   /* U+FFE5 ￥ */
	{ "fr-FR", 11500, "EUR", "115,00" NBSP "\xe2\x82\xac" },
	{ "pt-BR", 11500, "BRL", "R$" NBSP "115,00" },
	{ "zh-Hans-CN", 11500, "CNY", "\xc2\xa5" "115.00" },   /* U+00A5 ¥ */
	{ "de-DE", 11500, "EUR", "115,00" NBSP "\xe2\x82\xac" },
	{ "en", 11500, "EUR", "\xe2\x82\xac" "115.00" },
	{ "es", 11500, "EUR", "115,00" NBSP "\xe2\x82\xac" },
	/* exponent 0: no decimals, even where the locale writes cents */
	{ "de-DE", 1200, "JPY", "1.200" NBSP "\xc2\xa5" },
	{ "en-US", 7, "JPY", "\xc2\xa5" "7" },
	/* exponent 3 */
	{ "en-US", 1234, "KWD", "KWD" NBSP "1.234" },
	{ "de-DE", -1, "KWD", "-0,001" NBSP "KWD" },
	/* small and negative amounts */
	{ "en-US", 5, "USD", "$0.05" },
	{ "en-US", 0, "USD", "$0.00" },
	{ "en-US", -11500, "USD", "-$115.00" },
	{ "de-DE", -11500, "USD", "-115,00" NBSP "$" },
	/* the largest amount redress accepts, exact to the last digit */
	{ "en-US", RD_MONEY_INPUT_MAX, "USD", "$10,000,000,000,000.00" },
	{ "en-US", RD_MONEY_INPUT_MAX - 1, "USD", "$9,999,999,999,999.99" },
	{ "de-DE", -RD_MONEY_INPUT_MAX, "EUR",
	  "-10.000.000.000.000,00" NBSP "\xe2\x82\xac" },
	{ "en-US", RD_MONEY_INPUT_MAX, "JPY",
	  "\xc2\xa5" "1,000,000,000,000,000" },
};

static void money_exact(void)
{
	for (size_t i = 0; i < sizeof(money_cases) / sizeof(money_cases[0]);
	     i++) {
		const struct money_case *c = &money_cases[i];
		char *text = NULL;
		rd_error err = { 0 };

		CHECK_OK(rd_locale_format_money(&text, c->locale, c->minor,
						c->currency, &err), &err);
		if (strcmp(text, c->expected) != 0) {
			rd_test_fail(__FILE__, __LINE__,
				     "%s %lld %s: \"%s\", expected \"%s\"",
				     c->locale, (long long)c->minor,
				     c->currency, text, c->expected);
			free(text);
			return;
		}
		free(text);
	}
}

static void money_refused(void)
{
	char *text = (char *)"unchanged";
	rd_error err = { 0 };

	CHECK_FAILS(rd_locale_format_money(&text, "en-US", 100, "ABC", &err),
		    RD_EINVALID);
	CHECK(text == NULL);
	CHECK_STR(err.field, "currency");
	CHECK_HAS(err.message, "\"ABC\" is not an ISO 4217 currency");
	CHECK_FAILS(rd_locale_format_money(&text, "en-US", 100, "usd", &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_locale_format_money(&text, "en-US", 100, NULL, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_locale_format_money(&text, "de_DE!", 100, "EUR", &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "locale");
	CHECK_FAILS(rd_locale_format_money(&text, NULL, 100, "EUR", &err),
		    RD_EINVALID);
}

struct date_case {
	const char *locale;
	const char *zone;
	int64_t at;
	const char *expected;
};

static const struct date_case date_cases[] = {
	{ "de-DE", "Europe/Berlin", MARCH_2, "2. März 2026, 10:00 MEZ" },
	/* summer time: the zone's name and offset change with the date */
	{ "de-DE", "Europe/Berlin", MARCH_2 + 120 * 86400,
	  "30. Juni 2026, 11:00 MESZ" },
	{ "en-US", "America/New_York", MARCH_2,
	  "Mar 2, 2026, 4:00" NNBSP "AM EST" },
	{ "en", NULL, MARCH_2, "Mar 2, 2026, 9:00" NNBSP "AM UTC" },
	{ "fr-FR", "Europe/Paris", MARCH_2, "2 mars 2026, 10:00 UTC+1" },
	{ "ja-JP", "Asia/Tokyo", MARCH_2,
	  "2026\xe5\xb9\xb4" "3\xe6\x9c\x88" "2\xe6\x97\xa5 18:00 JST" },
	{ "pt-BR", "America/Sao_Paulo", MARCH_2,
	  "2 de mar. de 2026, 06:00 BRT" },
	/* the date is the zone's: 09:00Z is already the 3rd in Auckland */
	{ "en-US", "Pacific/Auckland", MARCH_2 + 12 * 3600,
	  "Mar 3, 2026, 10:00" NNBSP "AM GMT+13" },
};

static void date_exact(void)
{
	for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]);
	     i++) {
		const struct date_case *c = &date_cases[i];
		char *text = NULL;
		rd_error err = { 0 };

		CHECK_OK(rd_locale_format_date(&text, c->locale, c->zone, c->at,
					       &err), &err);
		if (strcmp(text, c->expected) != 0) {
			rd_test_fail(__FILE__, __LINE__,
				     "%s %s: \"%s\", expected \"%s\"",
				     c->locale, c->zone ? c->zone : "(UTC)",
				     text, c->expected);
			free(text);
			return;
		}
		free(text);
	}
}

static void date_refused(void)
{
	char *text = NULL;
	rd_error err = { 0 };

	CHECK_FAILS(rd_locale_format_date(&text, "en-US", "Mars/Olympus",
					  MARCH_2, &err), RD_EINVALID);
	CHECK(text == NULL);
	CHECK_STR(err.field, "zone");
	CHECK_HAS(err.message, "\"Mars/Olympus\" is not an IANA zone");
	CHECK_FAILS(rd_locale_format_date(&text, "en-US", "", MARCH_2, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_locale_format_date(&text, "x", "UTC", MARCH_2, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "locale");
	CHECK_FAILS(rd_locale_format_date(&text, "en", "UTC", INT64_MAX, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "at");
}

static void tags(void)
{
	static const char *const valid[] = {
		"de-DE", "pt-BR", "zh-Hans-CN", "en", "ja", "zh-Hant-TW",
		"es-419", "de-CH-1996", "en-US-u-ca-gregory",
	};
	static const char *const invalid[] = {
		"", "de_DE!", "x", "de_DE", "de--DE", "-de", "de-", "de DE",
		"deutsch-de-at", "en-US-u-ca-gregory-nu-latn-x-abcdefghij",
		"d\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		if (!rd_locale_tag_valid(valid[i])) {
			rd_test_fail(__FILE__, __LINE__, "\"%s\" refused",
				     valid[i]);
			return;
		}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (rd_locale_tag_valid(invalid[i])) {
			rd_test_fail(__FILE__, __LINE__, "\"%s\" accepted",
				     invalid[i]);
			return;
		}
	CHECK(!rd_locale_tag_valid(NULL));
}

static void zones(void)
{
	CHECK(rd_locale_zone_valid("Europe/Berlin"));
	CHECK(rd_locale_zone_valid("America/New_York"));
	CHECK(rd_locale_zone_valid("Asia/Tokyo"));
	CHECK(rd_locale_zone_valid("UTC"));
	CHECK(!rd_locale_zone_valid("Mars/Olympus"));
	CHECK(!rd_locale_zone_valid("Europe/Berlin "));
	CHECK(!rd_locale_zone_valid("GMT+01:00"));
	CHECK(!rd_locale_zone_valid(""));
	CHECK(!rd_locale_zone_valid(NULL));
}

int main(void)
{
	RUN(money_exact);
	RUN(money_refused);
	RUN(date_exact);
	RUN(date_refused);
	RUN(tags);
	RUN(zones);
	return rd_test_summary();
}
