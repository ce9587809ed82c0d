/*
 * Fuzz target: money (src/core/money.c). The first byte picks a currency,
 * the second a mode; the rest is either amount text for rd_money_parse or
 * integers for the arithmetic helpers.
 *
 * Invariants: the parser agrees with a second, plain reading of the
 * grammar in money.h (accept or refuse, and the value); every accepted
 * amount is within RD_MONEY_INPUT_MAX, formats into RD_MONEY_BUFSZ and
 * reads back to itself; add, sub, mul, mul_ratio and round_to give exactly
 * what 128-bit arithmetic gives, or refuse precisely when it does not fit.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "redress/money.h"

__extension__ typedef __int128 wide_t;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The grammar of money.h read the plain way: 1 and *out, or 0. */
static int reference_parse(int64_t *out, const char *text,
			   const rd_currency *cur)
{
	const char *p = text;
	int negative = 0, int_digits = 0, frac_digits = 0;
	wide_t value = 0;
	const wide_t limit = RD_MONEY_INPUT_MAX;

	if (*p == '-') {
		negative = 1;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++, int_digits++)
		if (value <= limit)
			value = value * 10 + (*p - '0');
	if (int_digits == 0)
		return 0;
	if (*p == '.') {
		if (cur->exponent == 0)
			return 0;
		p++;
		for (; *p >= '0' && *p <= '9'; p++, frac_digits++)
			if (frac_digits < cur->exponent)
				value = value * 10 + (*p - '0');
		if (frac_digits == 0 || frac_digits > cur->exponent)
			return 0;
	}
	if (*p != '\0')
		return 0;
	for (int i = frac_digits; i < cur->exponent; i++)
		if (value <= limit)
			value *= 10;
	if (value > limit)
		return 0;
	*out = (int64_t)(negative ? -value : value);
	return 1;
}

static void check_parse(const rd_currency *cur, const char *text)
{
	char formatted[RD_MONEY_BUFSZ];
	int64_t amount = 0, expected = 0, again = 0;
	int ok, rc, len;
	rd_error err;

	rc = rd_money_parse(&amount, text, cur, &err);
	ok = reference_parse(&expected, text, cur);
	FUZZ_CHECK((rc == RD_OK) == ok);
	if (rc < 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EINVALID);
		fuzz_check_problem(&err);
		return;
	}
	FUZZ_CHECK(amount == expected);
	FUZZ_CHECK(amount >= -RD_MONEY_INPUT_MAX &&
		   amount <= RD_MONEY_INPUT_MAX);
	len = rd_money_format(formatted, sizeof(formatted), amount, cur);
	FUZZ_CHECK(len > 0 && (size_t)len == strlen(formatted));
	FUZZ_CHECK(rd_money_parse(&again, formatted, cur, &err) == RD_OK);
	FUZZ_CHECK(again == amount);
}

static int fits(wide_t v)
{
	return v >= INT64_MIN && v <= INT64_MAX;
}

/* numerator / den, halves away from zero; den > 0. */
static wide_t reference_round(wide_t numerator, wide_t den)
{
	wide_t q = numerator / den, r = numerator % den;

	if (r < 0)
		r = -r;
	if (2 * r >= den)
		q += numerator < 0 ? -1 : 1;
	return q;
}

static void check_arithmetic(const rd_currency *cur, fuzz_bytes *in)
{
	int64_t a = fuzz_i64(in), b = fuzz_i64(in), c = fuzz_i64(in);
	char formatted[RD_MONEY_BUFSZ];
	int64_t out = 0;
	wide_t want;
	rd_error err;
	int rc;

	/* every int64 formats, INT64_MIN included */
	FUZZ_CHECK(rd_money_format(formatted, sizeof(formatted), a, cur) > 0);

	want = (wide_t)a + b;
	rc = rd_money_add(&out, a, b, &err);
	FUZZ_CHECK((rc == RD_OK) == fits(want));
	FUZZ_CHECK(rc < 0 || out == (int64_t)want);

	want = (wide_t)a - b;
	rc = rd_money_sub(&out, a, b, &err);
	FUZZ_CHECK((rc == RD_OK) == fits(want));
	FUZZ_CHECK(rc < 0 || out == (int64_t)want);

	want = (wide_t)a * b;
	rc = rd_money_mul(&out, a, b, &err);
	FUZZ_CHECK((rc == RD_OK) == fits(want));
	FUZZ_CHECK(rc < 0 || out == (int64_t)want);

	rc = rd_money_mul_ratio(&out, a, b, c, &err);
	if (c <= 0 || b < 0) {
		FUZZ_CHECK(rc == RD_EINVALID);
	} else {
		want = reference_round((wide_t)a * b, c);
		FUZZ_CHECK((rc == RD_OK) == fits(want));
		FUZZ_CHECK(rc < 0 || out == (int64_t)want);
	}
	if (rc < 0)
		fuzz_check_error(rc, &err);

	rc = rd_money_round_to(&out, a, c, &err);
	if (c <= 0) {
		FUZZ_CHECK(rc == RD_EINVALID);
	} else {
		want = reference_round(a, c) * c;
		FUZZ_CHECK((rc == RD_OK) == fits(want));
		FUZZ_CHECK(rc < 0 || (out == (int64_t)want && out % c == 0));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_bytes in = { data, size };
	const rd_currency *cur =
		rd_currency_at(fuzz_pick(&in, rd_currency_count()));
	uint8_t mode = fuzz_u8(&in);
	char *text;

	FUZZ_CHECK(cur != NULL);
	FUZZ_CHECK(rd_currency_find(cur->code) == cur);
	if (mode & 1) {
		check_arithmetic(cur, &in);
		return 0;
	}
	text = fuzz_strndup(in.data, in.size);
	check_parse(cur, text);
	free(text);
	return 0;
}
