/*
 * Money and instants written for a buyer's locale, with ICU: tags and zones
 * checked, an amount formatted from its minor units and a date with its
 * time and zone.
 *
 * An amount must never pass through floating point: rd_money_format writes
 * the minor units as an exact decimal string ("115.00") and ICU formats
 * that string, with exactly the currency's ISO 4217 number of decimals
 * (ICU's own currency data differs from ISO 4217 for a few currencies).
 */
#include "locale/locale_int.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/ucal.h>
#include <unicode/udat.h>
#include <unicode/udatpg.h>
#include <unicode/unum.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "redress/money.h"

/* Longest tag accepted: RD_LOCALE_BUFSZ holds it with its NUL. */
#define TAG_MAX (RD_LOCALE_BUFSZ - 1)

/* Room for any formatted amount or date, in UTF-16 units. */
#define OUT_UCHARS 256

/*
 * The date skeleton: year, abbreviated month and day, hour and minute in
 * the locale's own 12- or 24-hour cycle, and the short zone name. ICU
 * chooses the order and separators for each locale from it.
 */
static const char date_skeleton[] = "yMMMdjmz";

static int tag_chars_valid(const char *tag)
{
	size_t n = 0;

	for (; tag[n] != '\0'; n++) {
		char c = tag[n];

		if (n >= TAG_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return n > 0;
}

int rd_locale_tag_valid(const char *tag)
{
	char id[ULOC_FULLNAME_CAPACITY];
	UErrorCode status = U_ZERO_ERROR;
	int32_t parsed = 0;

	if (!tag || !tag_chars_valid(tag))
		return 0;
	uloc_forLanguageTag(tag, id, (int32_t)sizeof(id), &parsed, &status);
	return U_SUCCESS(status) && status != U_STRING_NOT_TERMINATED_WARNING &&
	       parsed == (int32_t)strlen(tag);
}

int lc_icu_locale(char out[ULOC_FULLNAME_CAPACITY], const char *tag,
		  rd_error *err)
{
	UErrorCode status = U_ZERO_ERROR;
	int32_t parsed = 0;

	if (!rd_locale_tag_valid(tag))
		return rd_error_set_field(err, RD_EINVALID, "locale",
					  "locale \"%.40s\" is not a BCP 47 "
					  "language tag (such as \"de-DE\")",
					  tag ? tag : "(null)");
	uloc_forLanguageTag(tag, out, ULOC_FULLNAME_CAPACITY, &parsed,
			    &status);
	if (U_FAILURE(status) || status == U_STRING_NOT_TERMINATED_WARNING)
		return rd_error_set(err, RD_EINTERNAL,
				    "ICU cannot read the locale \"%s\": %s", tag,
				    u_errorName(status));
	return RD_OK;
}

/* The zone as UTF-16, for a name of plain ASCII that fits. */
static int zone_to_uchars(UChar out[LC_ZONE_MAX + 1], const char *zone)
{
	size_t n = strlen(zone);

	if (n == 0 || n > LC_ZONE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)zone[i] <= 0x20 ||
		    (unsigned char)zone[i] >= 0x7f)
			return 0;
	u_charsToUChars(zone, out, (int32_t)n + 1);
	return 1;
}

int rd_locale_zone_valid(const char *zone)
{
	UChar id[LC_ZONE_MAX + 1], canonical[LC_ZONE_MAX + 1];
	UErrorCode status = U_ZERO_ERROR;
	UBool system_id = 0;

	if (!zone || !zone_to_uchars(id, zone))
		return 0;
	ucal_getCanonicalTimeZoneID(id, -1, canonical, LC_ZONE_MAX + 1,
				    &system_id, &status);
	return U_SUCCESS(status) && system_id;
}

int lc_zone_uchars(UChar out[LC_ZONE_MAX + 1], const char *zone,
		   rd_error *err)
{
	if (!zone)
		zone = "UTC";
	if (!rd_locale_zone_valid(zone))
		return rd_error_set_field(err, RD_EINVALID, "zone",
					  "time zone \"%.64s\" is not an IANA "
					  "zone ICU knows (such as "
					  "\"Europe/Berlin\")", zone);
	zone_to_uchars(out, zone);
	return RD_OK;
}

int lc_utf8_from_uchars(char **out, const UChar *text, int32_t len,
			rd_error *err)
{
	UErrorCode status = U_ZERO_ERROR;
	int32_t need = 0;
	char *utf8;

	*out = NULL;
	u_strToUTF8(NULL, 0, &need, text, len, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		return rd_error_set(err, RD_EINTERNAL,
				    "ICU cannot write UTF-8: %s",
				    u_errorName(status));
	utf8 = malloc((size_t)need + 1);
	if (!utf8)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	status = U_ZERO_ERROR;
	u_strToUTF8(utf8, need + 1, NULL, text, len, &status);
	if (U_FAILURE(status)) {
		free(utf8);
		return rd_error_set(err, RD_EINTERNAL,
				    "ICU cannot write UTF-8: %s",
				    u_errorName(status));
	}
	utf8[need] = '\0';
	*out = utf8;
	return RD_OK;
}

size_t lc_utf8_invalid_at(const char *text, size_t len)
{
	const uint8_t *bytes = (const uint8_t *)text;
	int32_t i = 0;

	/* ICU's U8_NEXT refuses overlong forms, surrogates and code points
	 * past U+10FFFF, giving a negative code point. */
	if (len > INT32_MAX)
		return 0;
	while ((size_t)i < len) {
		int32_t at = i;
		UChar32 c;

		U8_NEXT(bytes, i, (int32_t)len, c);
		if (c < 0)
			return (size_t)at;
	}
	return len;
}

int rd_locale_format_money(char **out, const char *locale, int64_t minor,
			   const char *currency, rd_error *err)
{
	char id[ULOC_FULLNAME_CAPACITY], amount[RD_MONEY_BUFSZ];
	UChar code[4], text[OUT_UCHARS];
	UErrorCode status = U_ZERO_ERROR;
	UNumberFormat *fmt = NULL;
	const rd_currency *cur;
	int32_t len;
	int rc;

	if (!out)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_locale_format_money needs an output");
	*out = NULL;
	cur = currency ? rd_currency_find(currency) : NULL;
	if (!cur)
		return rd_error_set_field(err, RD_EINVALID, "currency",
					  "\"%.8s\" is not an ISO 4217 currency "
					  "code redress knows (such as \"EUR\")",
					  currency ? currency : "(null)");
	if ((rc = lc_icu_locale(id, locale, err)) < 0)
		return rc;
	if (rd_money_format(amount, sizeof(amount), minor, cur) < 0)
		return rd_error_set(err, RD_EINTERNAL,
				    "cannot write %lld minor units of %s",
				    (long long)minor, cur->code);
	u_charsToUChars(cur->code, code, 4);
	fmt = unum_open(UNUM_CURRENCY, NULL, 0, id, NULL, &status);
	unum_setTextAttribute(fmt, UNUM_CURRENCY_CODE, code, 3, &status);
	if (U_FAILURE(status)) {
		rc = rd_error_set(err, RD_EINTERNAL,
				  "ICU cannot format %s for \"%s\": %s",
				  cur->code, locale, u_errorName(status));
		goto done;
	}
	/* After the currency, which sets ICU's own idea of its decimals. */
	unum_setAttribute(fmt, UNUM_MIN_FRACTION_DIGITS, cur->exponent);
	unum_setAttribute(fmt, UNUM_MAX_FRACTION_DIGITS, cur->exponent);
	len = unum_formatDecimal(fmt, amount, -1, text, OUT_UCHARS, NULL,
				 &status);
	if (U_FAILURE(status) || status == U_STRING_NOT_TERMINATED_WARNING) {
		rc = rd_error_set(err, RD_EINTERNAL,
				  "ICU cannot format %s %s for \"%s\": %s",
				  amount, cur->code, locale,
				  u_errorName(status));
		goto done;
	}
	rc = lc_utf8_from_uchars(out, text, len, err);
done:
	unum_close(fmt);
	return rc;
}

int rd_locale_format_date(char **out, const char *locale, const char *zone,
			  int64_t at, rd_error *err)
{
	char id[ULOC_FULLNAME_CAPACITY];
	UChar zone_id[LC_ZONE_MAX + 1], skeleton[sizeof(date_skeleton)];
	UChar pattern[OUT_UCHARS], text[OUT_UCHARS];
	UErrorCode status = U_ZERO_ERROR;
	UDateTimePatternGenerator *gen = NULL;
	UDateFormat *fmt = NULL;
	int32_t pattern_len, len;
	int rc;

	if (!out)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_locale_format_date needs an output");
	*out = NULL;
	if (at < LC_INSTANT_MIN || at > LC_INSTANT_MAX)
		return rd_error_set_field(err, RD_EINVALID, "at",
					  "instant %lld is outside years 0001 "
					  "to 9999", (long long)at);
	if ((rc = lc_icu_locale(id, locale, err)) < 0 ||
	    (rc = lc_zone_uchars(zone_id, zone, err)) < 0)
		return rc;
	u_charsToUChars(date_skeleton, skeleton, (int32_t)sizeof(date_skeleton));
	gen = udatpg_open(id, &status);
	pattern_len = udatpg_getBestPattern(gen, skeleton, -1, pattern,
					    OUT_UCHARS, &status);
	fmt = udat_open(UDAT_PATTERN, UDAT_PATTERN, id, zone_id, -1, pattern,
			pattern_len, &status);
	len = udat_format(fmt, (UDate)at * 1000, text, OUT_UCHARS, NULL,
			  &status);
	if (U_FAILURE(status) || status == U_STRING_NOT_TERMINATED_WARNING) {
		rc = rd_error_set(err, RD_EINTERNAL,
				  "ICU cannot format a date for \"%s\": %s",
				  locale, u_errorName(status));
		goto done;
	}
	rc = lc_utf8_from_uchars(out, text, len, err);
done:
	udat_close(fmt);
	udatpg_close(gen);
	return rc;
}
