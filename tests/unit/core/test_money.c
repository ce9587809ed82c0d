/*
 * Money: the currency table, the strict amount grammar, formatting at every
 * exponent, overflow at the int64 edges and the half-away-from-zero rule.
 */
#include "test.h"

#include <stdint.h>
#include <string.h>

#include "redress/money.h"

/* An out value no successful call in these tests produces. */
#define UNTOUCHED INT64_C(-777777)

static const rd_currency *currency(const char *code)
{
	const rd_currency *cur = rd_currency_find(code);

	if (!cur)
		rd_test_fail(__FILE__, __LINE__, "currency %s missing", code);
	return cur;
}

/* ---- the table ---------------------------------------------------------- */

static void table_is_sorted_unique_and_well_formed(void)
{
	size_t count = rd_currency_count();

	CHECK(count >= 150 && count <= 185);
	CHECK(rd_currency_at(count) == NULL);
	CHECK(rd_currency_at((size_t)-1) == NULL);
	for (size_t i = 0; i < count; i++) {
		const rd_currency *cur = rd_currency_at(i);

		CHECK(cur != NULL);
		for (int k = 0; k < 3; k++)
			CHECK(cur->code[k] >= 'A' && cur->code[k] <= 'Z');
		CHECK(cur->code[3] == '\0');
		CHECK(cur->exponent == 0 || cur->exponent == 2 ||
		      cur->exponent == 3 || cur->exponent == 4);
		CHECK(cur->name != NULL && cur->name[0] != '\0');
		if (i > 0)
			CHECK(strcmp(rd_currency_at(i - 1)->code,
				     cur->code) < 0);
		/* Binary search finds every row, itself and not a copy. */
		CHECK(rd_currency_find(cur->code) == cur);
	}
}

static void table_exponents(void)
{
	static const struct {
		const char *code;
		int exponent;
	} cases[] = {
		{ "USD", 2 }, { "EUR", 2 }, { "GBP", 2 }, { "CHF", 2 },
		{ "CNY", 2 }, { "INR", 2 }, { "BRL", 2 }, { "MXN", 2 },
		{ "JPY", 0 }, { "KRW", 0 }, { "VND", 0 }, { "CLP", 0 },
		{ "ISK", 0 }, { "UGX", 0 }, { "XAF", 0 }, { "XOF", 0 },
		{ "PYG", 0 }, { "XPF", 0 }, { "KWD", 3 }, { "BHD", 3 },
		{ "OMR", 3 }, { "JOD", 3 }, { "TND", 3 }, { "LYD", 3 },
		{ "IQD", 3 }, { "CLF", 4 }, { "UYW", 4 }, { "AED", 2 },
		{ "ZWG", 2 }, { "XCG", 2 }, { "SLE", 2 }, { "VES", 2 },
		{ "ZAR", 2 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const rd_currency *cur = currency(cases[i].code);

		CHECK(cur != NULL);
		CHECK_STR(cur->code, cases[i].code);
		CHECK_INT(cur->exponent, cases[i].exponent);
	}
	CHECK_STR(currency("USD")->name, "US Dollar");
	CHECK_STR(currency("JPY")->name, "Yen");
}

static void find_refuses_other_text(void)
{
	static const char *const refused[] = {
		"usd", "Usd", "uSD", "US", "U", "", "USDD", "USD ", " USD",
		"US1", "U-D", "\xc3\x9cSD",
		/* not currencies a buyer pays in */
		"XXX", "XTS", "XAU", "XAG", "XDR",
		/* withdrawn */
		"HRK", "ZWL", "SLL", "DEM", "FRF",
		/* never assigned */
		"ABC", "QQQ", "AAA", "ZZZ",
	};

	CHECK(rd_currency_find(NULL) == NULL);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (rd_currency_find(refused[i]) != NULL) {
			rd_test_fail(__FILE__, __LINE__, "\"%s\" was found",
				     refused[i]);
			return;
		}
	}
	/* The first and last rows are reachable by the search. */
	CHECK(rd_currency_find(rd_currency_at(0)->code) == rd_currency_at(0));
	CHECK(rd_currency_find(rd_currency_at(rd_currency_count() - 1)->code) ==
	      rd_currency_at(rd_currency_count() - 1));
}

/* ---- parse and format --------------------------------------------------- */

static void parse_and_format_every_exponent(void)
{
	static const struct {
		const char *code;
		const char *text;
		int64_t amount;
		const char *canonical;
	} cases[] = {
		{ "JPY", "1200", 1200, "1200" },
		{ "JPY", "0", 0, "0" },
		{ "JPY", "-5", -5, "-5" },
		{ "JPY", "007", 7, "7" },
		{ "KRW", "1000000", 1000000, "1000000" },
		{ "USD", "12.34", 1234, "12.34" },
		{ "USD", "12.3", 1230, "12.30" },
		{ "USD", "12", 1200, "12.00" },
		{ "USD", "-0.05", -5, "-0.05" },
		{ "USD", "-12.5", -1250, "-12.50" },
		{ "USD", "007.50", 750, "7.50" },
		{ "USD", "0.01", 1, "0.01" },
		{ "USD", "0", 0, "0.00" },
		{ "USD", "-0", 0, "0.00" },
		{ "USD", "-0.00", 0, "0.00" },
		{ "EUR", "100.00", 10000, "100.00" },
		{ "KWD", "1.234", 1234, "1.234" },
		{ "KWD", "1.2", 1200, "1.200" },
		{ "KWD", "1.23", 1230, "1.230" },
		{ "KWD", "-0.001", -1, "-0.001" },
		{ "BHD", "10", 10000, "10.000" },
		{ "CLF", "1.2345", 12345, "1.2345" },
		{ "CLF", "0.0001", 1, "0.0001" },
		{ "CLF", "-2.5", -25000, "-2.5000" },
		{ "UYW", "3", 30000, "3.0000" },
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const rd_currency *cur = currency(cases[i].code);
		char buf[RD_MONEY_BUFSZ];
		int64_t amount = UNTOUCHED, again = UNTOUCHED;

		CHECK(cur != NULL);
		CHECK_OK(rd_money_parse(&amount, cases[i].text, cur, &err),
			 &err);
		CHECK_INT(amount, cases[i].amount);
		CHECK_INT(rd_money_format(buf, sizeof(buf), amount, cur),
			  strlen(cases[i].canonical));
		CHECK_STR(buf, cases[i].canonical);
		CHECK_OK(rd_money_parse(&again, buf, cur, &err), &err);
		CHECK_INT(again, amount);
	}
}

static void format_then_parse_round_trips(void)
{
	static const char *const codes[] = { "JPY", "USD", "KWD", "CLF" };
	static const int64_t amounts[] = {
		0, 1, -1, 9, -9, 10, 99, 100, -100, 101, 12345, -12345,
		999999, 1000000, INT64_C(123456789012345),
		RD_MONEY_INPUT_MAX, -RD_MONEY_INPUT_MAX,
		RD_MONEY_INPUT_MAX - 1, -RD_MONEY_INPUT_MAX + 1,
	};
	rd_error err = { 0 };

	for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
		const rd_currency *cur = currency(codes[c]);

		CHECK(cur != NULL);
		for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]);
		     i++) {
			char buf[RD_MONEY_BUFSZ];
			int64_t back = UNTOUCHED;

			CHECK(rd_money_format(buf, sizeof(buf), amounts[i],
					      cur) > 0);
			CHECK_OK(rd_money_parse(&back, buf, cur, &err), &err);
			CHECK_INT(back, amounts[i]);
		}
	}
}

static void format_edges(void)
{
	const rd_currency *usd = currency("USD");
	const rd_currency *jpy = currency("JPY");
	const rd_currency *kwd = currency("KWD");
	const rd_currency *clf = currency("CLF");
	char buf[RD_MONEY_BUFSZ];
	char small[8];

	CHECK(usd && jpy && kwd && clf);
	/* INT64_MIN has no positive counterpart; it must still print. */
	CHECK_INT(rd_money_format(buf, sizeof(buf), INT64_MIN, usd), 21);
	CHECK_STR(buf, "-92233720368547758.08");
	CHECK_INT(rd_money_format(buf, sizeof(buf), INT64_MAX, usd), 20);
	CHECK_STR(buf, "92233720368547758.07");
	CHECK_INT(rd_money_format(buf, sizeof(buf), INT64_MIN, jpy), 20);
	CHECK_STR(buf, "-9223372036854775808");
	CHECK_INT(rd_money_format(buf, sizeof(buf), INT64_MIN, clf), 21);
	CHECK_STR(buf, "-922337203685477.5808");
	CHECK_INT(rd_money_format(buf, sizeof(buf), -5, kwd), 6);
	CHECK_STR(buf, "-0.005");
	CHECK_INT(rd_money_format(buf, sizeof(buf), -1, clf), 7);
	CHECK_STR(buf, "-0.0001");
	CHECK_INT(rd_money_format(buf, sizeof(buf), -99, usd), 5);
	CHECK_STR(buf, "-0.99");

	/* Exactly enough room, then one byte short: nothing half-written. */
	CHECK_INT(rd_money_format(small, 6, 1234, usd), 5);
	CHECK_STR(small, "12.34");
	memcpy(small, "xxxxxxx", 8);
	CHECK_INT(rd_money_format(small, 5, 1234, usd), -1);
	CHECK_STR(small, "");
	memcpy(small, "xxxxxxx", 8);
	CHECK_INT(rd_money_format(small, 1, 1234, usd), -1);
	CHECK_STR(small, "");
	memcpy(small, "xxxxxxx", 8);
	CHECK_INT(rd_money_format(small, 0, 1234, usd), -1);
	CHECK_STR(small, "xxxxxxx");
	CHECK_INT(rd_money_format(NULL, 0, 1234, usd), -1);
	CHECK_INT(rd_money_format(buf, sizeof(buf), 1234, NULL), -1);
	CHECK_STR(buf, "");
}

static void parse_limits(void)
{
	const rd_currency *usd = currency("USD");
	const rd_currency *jpy = currency("JPY");
	const rd_currency *clf = currency("CLF");
	rd_error err = { 0 };
	int64_t amount = UNTOUCHED;

	CHECK(usd && jpy && clf);
	CHECK_OK(rd_money_parse(&amount, "10000000000000.00", usd, &err), &err);
	CHECK_INT(amount, RD_MONEY_INPUT_MAX);
	CHECK_OK(rd_money_parse(&amount, "-10000000000000", usd, &err), &err);
	CHECK_INT(amount, -RD_MONEY_INPUT_MAX);
	CHECK_OK(rd_money_parse(&amount, "1000000000000000", jpy, &err), &err);
	CHECK_INT(amount, RD_MONEY_INPUT_MAX);
	CHECK_OK(rd_money_parse(&amount, "100000000000.0000", clf, &err), &err);
	CHECK_INT(amount, RD_MONEY_INPUT_MAX);
	/* Leading zeros do not count against the limit. */
	CHECK_OK(rd_money_parse(&amount, "000000000000000000000000000001.00",
				usd, &err),
		 &err);
	CHECK_INT(amount, 100);

	amount = UNTOUCHED;
	CHECK_FAILS(rd_money_parse(&amount, "10000000000000.01", usd, &err),
		    RD_EINVALID);
	CHECK_INT(amount, UNTOUCHED);
	CHECK_HAS(err.message, "\"10000000000000.01\"");
	CHECK_HAS(err.message, "largest amount");
	CHECK_HAS(err.message, "10000000000000.00 USD");
	CHECK_FAILS(rd_money_parse(&amount, "-10000000000000.01", usd, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_parse(&amount, "10000000000001", usd, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_parse(&amount, "1000000000000001", jpy, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_parse(&amount, "100000000000.0001", clf, &err),
		    RD_EINVALID);
	/* Far past int64: refused, not wrapped. */
	CHECK_FAILS(rd_money_parse(&amount, "92233720368547758.08", usd, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_parse(&amount, "18446744073709551617", jpy, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_parse(&amount,
				   "99999999999999999999999999999999999999999",
				   clf, &err),
		    RD_EINVALID);
	CHECK_INT(amount, UNTOUCHED);
	/* A long text is quoted cut short, never overflowing the message. */
	CHECK_HAS(err.message, "...");
	CHECK(strlen(err.message) < 200);
}

static void parse_refuses_malformed_text(void)
{
	static const struct {
		const char *text;
		const char *says;
	} cases[] = {
		{ "", "empty" },
		{ "+5", "'+'" },
		{ "+5.00", "'+'" },
		{ " 5", "whitespace" },
		{ "5 ", "whitespace" },
		{ "5\t", "whitespace" },
		{ "5\n", "whitespace" },
		{ "1 000", "whitespace" },
		{ "1e3", "exponent" },
		{ "1E3", "exponent" },
		{ "1.5e2", "exponent" },
		{ "1,000.00", "separator" },
		{ "1_000", "separator" },
		{ "1'000", "separator" },
		{ "12,34", "separator" },
		{ ".", "before the decimal point" },
		{ "12.", "after the decimal point" },
		{ ".5", "before the decimal point" },
		{ "-.5", "before the decimal point" },
		{ "-", "digits" },
		{ "--5", "'-'" },
		{ "5-", "'-'" },
		{ "1.2.3", "decimal point" },
		{ "abc", "'a'" },
		{ "0x10", "'x'" },
		{ "12.3a", "'a'" },
		{ "NaN", "'N'" },
		{ "inf", "'i'" },
		{ "$5", "'$'" },
		{ "5USD", "'U'" },
		{ "\xd9\xa1", "0xd9" },
	};
	const rd_currency *usd = currency("USD");
	rd_error err = { 0 };

	CHECK(usd != NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t amount = UNTOUCHED;
		int rc = rd_money_parse(&amount, cases[i].text, usd, &err);

		if (rc != RD_EINVALID || amount != UNTOUCHED ||
		    err.code != RD_EINVALID ||
		    !strstr(err.message, cases[i].says) ||
		    !strstr(err.message, "USD")) {
			rd_test_fail(__FILE__, __LINE__,
				     "\"%s\": rc %d, amount %lld, message "
				     "\"%s\", expected it to say \"%s\"",
				     cases[i].text, rc, (long long)amount,
				     err.message, cases[i].says);
			return;
		}
	}
	/* The message quotes the text, and only printable ASCII of it. */
	CHECK_FAILS(rd_money_parse(&(int64_t){ 0 }, "1,000", usd, &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "\"1,000\"");
	CHECK_FAILS(rd_money_parse(&(int64_t){ 0 }, "5\x01\xff", usd, &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "\"5??\"");
	for (const char *c = err.message; *c; c++)
		CHECK(*c >= 0x20 && *c < 0x7f);
}

static void parse_refuses_extra_decimals(void)
{
	const rd_currency *usd = currency("USD");
	const rd_currency *jpy = currency("JPY");
	const rd_currency *kwd = currency("KWD");
	const rd_currency *clf = currency("CLF");
	rd_error err = { 0 };
	int64_t amount = UNTOUCHED;

	CHECK(usd && jpy && kwd && clf);
	CHECK_FAILS(rd_money_parse(&amount, "12.345", usd, &err), RD_EINVALID);
	CHECK_STR(err.message, "\"12.345\" has more than 2 decimals for USD");
	/* Trailing zeros past the exponent are still too many decimals. */
	CHECK_FAILS(rd_money_parse(&amount, "12.340", usd, &err), RD_EINVALID);
	CHECK_HAS(err.message, "more than 2 decimals");
	CHECK_FAILS(rd_money_parse(&amount, "1.2345", kwd, &err), RD_EINVALID);
	CHECK_STR(err.message, "\"1.2345\" has more than 3 decimals for KWD");
	CHECK_FAILS(rd_money_parse(&amount, "1.23456", clf, &err),
		    RD_EINVALID);
	CHECK_STR(err.message, "\"1.23456\" has more than 4 decimals for CLF");
	/* No minor unit: any decimal point is refused, even ".0". */
	CHECK_FAILS(rd_money_parse(&amount, "12.5", jpy, &err), RD_EINVALID);
	CHECK_HAS(err.message, "\"12.5\"");
	CHECK_HAS(err.message, "JPY has no minor unit");
	CHECK_FAILS(rd_money_parse(&amount, "12.0", jpy, &err), RD_EINVALID);
	CHECK_HAS(err.message, "JPY has no minor unit");
	CHECK_FAILS(rd_money_parse(&amount, "-0.0", jpy, &err), RD_EINVALID);
	CHECK_INT(amount, UNTOUCHED);
}

static void parse_refuses_missing_arguments(void)
{
	const rd_currency *usd = currency("USD");
	const rd_currency bad_exponent = { "QQQ", 7, "Broken" };
	rd_error err = { 0 };
	int64_t amount = UNTOUCHED;

	CHECK(usd != NULL);
	CHECK_FAILS(rd_money_parse(&amount, NULL, usd, &err), RD_EINVALID);
	CHECK_HAS(err.message, "USD");
	CHECK_FAILS(rd_money_parse(&amount, "12.34", NULL, &err), RD_EINVALID);
	CHECK_HAS(err.message, "currency");
	CHECK_FAILS(rd_money_parse(&amount, "12.34", &bad_exponent, &err),
		    RD_EINVALID);
	CHECK_INT(amount, UNTOUCHED);
	/* A NULL rd_error is allowed. */
	CHECK_FAILS(rd_money_parse(&amount, "x", usd, NULL), RD_EINVALID);
	CHECK_OK(rd_money_parse(&amount, "1.00", usd, NULL), &err);
	CHECK_INT(amount, 100);
}

/* ---- arithmetic --------------------------------------------------------- */

static void add_sub_mul(void)
{
	rd_error err = { 0 };
	int64_t out = UNTOUCHED;

	CHECK_OK(rd_money_add(&out, 10000, 1500, &err), &err);
	CHECK_INT(out, 11500);
	CHECK_OK(rd_money_add(&out, -5, 3, &err), &err);
	CHECK_INT(out, -2);
	CHECK_OK(rd_money_sub(&out, 4000, 3000, &err), &err);
	CHECK_INT(out, 1000);
	CHECK_OK(rd_money_sub(&out, 3000, 4000, &err), &err);
	CHECK_INT(out, -1000);
	CHECK_OK(rd_money_mul(&out, 2499, 3, &err), &err);
	CHECK_INT(out, 7497);
	CHECK_OK(rd_money_mul(&out, -2499, 3, &err), &err);
	CHECK_INT(out, -7497);
	CHECK_OK(rd_money_mul(&out, 2499, 0, &err), &err);
	CHECK_INT(out, 0);

	/* Right at the edges: still exact. */
	CHECK_OK(rd_money_add(&out, INT64_MAX - 1, 1, &err), &err);
	CHECK_INT(out, INT64_MAX);
	CHECK_OK(rd_money_add(&out, INT64_MIN + 1, -1, &err), &err);
	CHECK_INT(out, INT64_MIN);
	CHECK_OK(rd_money_sub(&out, INT64_MIN + 1, 1, &err), &err);
	CHECK_INT(out, INT64_MIN);
	CHECK_OK(rd_money_sub(&out, -1, INT64_MAX, &err), &err);
	CHECK_INT(out, INT64_MIN);
	CHECK_OK(rd_money_mul(&out, INT64_MIN, 1, &err), &err);
	CHECK_INT(out, INT64_MIN);
	CHECK_OK(rd_money_mul(&out, INT64_MAX, -1, &err), &err);
	CHECK_INT(out, -INT64_MAX);

	/* One past them: refused, out untouched, the message says why. */
	out = UNTOUCHED;
	CHECK_FAILS(rd_money_add(&out, INT64_MAX, 1, &err), RD_EINVALID);
	CHECK_INT(err.code, RD_EINVALID);
	CHECK_HAS(err.message, "overflow");
	CHECK_HAS(err.message, "9223372036854775807 + 1");
	CHECK_FAILS(rd_money_add(&out, INT64_MIN, -1, &err), RD_EINVALID);
	CHECK_FAILS(rd_money_add(&out, INT64_MAX, INT64_MAX, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_sub(&out, INT64_MIN, 1, &err), RD_EINVALID);
	CHECK_HAS(err.message, "overflow");
	CHECK_FAILS(rd_money_sub(&out, INT64_MAX, -1, &err), RD_EINVALID);
	CHECK_FAILS(rd_money_sub(&out, 0, INT64_MIN, &err), RD_EINVALID);
	CHECK_FAILS(rd_money_mul(&out, INT64_MIN, -1, &err), RD_EINVALID);
	CHECK_HAS(err.message, "overflow");
	CHECK_FAILS(rd_money_mul(&out, INT64_MAX, 2, &err), RD_EINVALID);
	CHECK_FAILS(rd_money_mul(&out, INT64_MAX / 2 + 1, 2, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_mul(&out, RD_MONEY_INPUT_MAX, 10000, &err),
		    RD_EINVALID);
	CHECK_INT(out, UNTOUCHED);
	CHECK_FAILS(rd_money_add(&out, INT64_MAX, 1, NULL), RD_EINVALID);
}

static void mul_ratio_rounds_half_away_from_zero(void)
{
	static const struct {
		int64_t amount, num, den, expected;
	} cases[] = {
		{ 10000, 70, 100, 7000 },   /* the co-pay ratio of the spec */
		{ 4000, 70, 100, 2800 },
		{ 100, 1, 3, 33 },          /* 33.33 */
		{ 200, 1, 3, 67 },          /* 66.67 */
		{ 100, 2, 3, 67 },
		{ -100, 1, 3, -33 },
		{ -200, 1, 3, -67 },
		{ 1, 1, 3, 0 },
		{ -1, 1, 3, 0 },
		{ 2, 1, 3, 1 },
		{ -2, 1, 3, -1 },
		{ 1, 1, 2, 1 },             /* 0.5 -> 1 */
		{ -1, 1, 2, -1 },           /* -0.5 -> -1 */
		{ 3, 1, 2, 2 },             /* 1.5 -> 2 */
		{ -3, 1, 2, -2 },
		{ 5, 1, 2, 3 },             /* 2.5 -> 3, not to even */
		{ -5, 1, 2, -3 },
		{ 125, 1, 10, 13 },         /* 12.5 -> 13 */
		{ -125, 1, 10, -13 },
		{ 124, 1, 10, 12 },
		{ -126, 1, 10, -13 },
		{ 0, 70, 100, 0 },
		{ 12345, 0, 1, 0 },
		{ 12345, 1, 1, 12345 },
		{ 12345, 3, 1, 37035 },
		/* The product overflows int64 but the 128-bit one does not. */
		{ INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX },
		{ INT64_MIN, INT64_MAX, INT64_MAX, INT64_MIN },
		{ INT64_MAX, 3, 3, INT64_MAX },
		{ INT64_MIN, 1, 1, INT64_MIN },
		{ INT64_MAX, 1, 2, INT64_C(4611686018427387904) },
		{ INT64_MIN, 1, 2, INT64_C(-4611686018427387904) },
		{ INT64_MAX, 1, INT64_MAX, 1 },
		{ 1, 1, INT64_MAX, 0 },
		{ RD_MONEY_INPUT_MAX, 9000, 1000, INT64_C(9000000000000000) },
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t out = UNTOUCHED;
		int rc = rd_money_mul_ratio(&out, cases[i].amount,
					    cases[i].num, cases[i].den, &err);

		if (rc != RD_OK || out != cases[i].expected) {
			rd_test_fail(__FILE__, __LINE__,
				     "%lld * %lld / %lld: rc %d, %lld, "
				     "expected %lld (%s)",
				     (long long)cases[i].amount,
				     (long long)cases[i].num,
				     (long long)cases[i].den, rc,
				     (long long)out,
				     (long long)cases[i].expected, err.message);
			return;
		}
	}
}

static void mul_ratio_refuses(void)
{
	rd_error err = { 0 };
	int64_t out = UNTOUCHED;

	CHECK_FAILS(rd_money_mul_ratio(&out, 100, 1, 0, &err), RD_EINVALID);
	CHECK_HAS(err.message, "denominator");
	CHECK_FAILS(rd_money_mul_ratio(&out, 100, 1, -2, &err), RD_EINVALID);
	CHECK_HAS(err.message, "1/-2");
	CHECK_FAILS(rd_money_mul_ratio(&out, 100, -1, 2, &err), RD_EINVALID);
	CHECK_HAS(err.message, "-1/2");
	CHECK_FAILS(rd_money_mul_ratio(&out, 100, INT64_MIN, 1, &err),
		    RD_EINVALID);
	/* Results past int64, by a little and by a lot. */
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_MAX, 2, 1, &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "overflow");
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_MAX, 3, 2, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_MIN, 3, 2, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_MAX, INT64_MAX, 1, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_MIN, INT64_MAX, 1, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_MAX, INT64_MAX,
				       INT64_MAX - 1, &err),
		    RD_EINVALID);
	/*
	 * (2^64 - 1) / 3 * 3 / 2 is INT64_MAX + 0.5: the half rounds away from
	 * zero, past the edge. Its negative, INT64_MIN + 0.5... rounds onto
	 * INT64_MIN exactly and fits; one unit more does not.
	 */
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_C(6148914691236517205), 3, 2,
				       &err),
		    RD_EINVALID);
	CHECK_OK(rd_money_mul_ratio(&out, INT64_C(-6148914691236517205), 3, 2,
				    &err),
		 &err);
	CHECK_INT(out, INT64_MIN);
	out = UNTOUCHED;
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_C(-6148914691236517206), 3,
				       2, &err),
		    RD_EINVALID);
	out = UNTOUCHED;
	CHECK_FAILS(rd_money_mul_ratio(&out, INT64_MAX, 2, 1, NULL),
		    RD_EINVALID);
	CHECK_INT(out, UNTOUCHED);
}

static void round_to_steps(void)
{
	static const struct {
		int64_t amount, step, expected;
	} cases[] = {
		{ 6950, 100, 7000 },        /* 69.50 USD -> 70.00 */
		{ 6949, 100, 6900 },
		{ 6951, 100, 7000 },
		{ -6950, 100, -7000 },
		{ -6949, 100, -6900 },
		{ 50, 100, 100 },
		{ -50, 100, -100 },
		{ 49, 100, 0 },
		{ -49, 100, 0 },
		{ 150, 100, 200 },
		{ 250, 100, 300 },          /* away from zero, not to even */
		{ -250, 100, -300 },
		{ 7000, 100, 7000 },
		{ 0, 100, 0 },
		{ 1234, 1, 1234 },
		{ -1234, 1, -1234 },
		{ 1234, 5, 1235 },
		{ 1232, 5, 1230 },
		{ 1237, 25, 1225 },         /* 49.48 steps */
		{ 1238, 25, 1250 },         /* 49.52 steps */
		{ 12, 25, 0 },              /* 0.48 of a step */
		{ 13, 25, 25 },             /* 0.52 of a step */
		{ INT64_MAX, 1, INT64_MAX },
		{ INT64_MIN, 1, INT64_MIN },
		{ INT64_MIN, 2, INT64_MIN },
		{ INT64_MAX, 100, INT64_C(9223372036854775800) },
		{ INT64_MIN, 100, INT64_C(-9223372036854775800) },
		{ INT64_MAX, INT64_MAX, INT64_MAX },
		{ INT64_MIN + 1, INT64_MAX, -INT64_MAX },
		{ INT64_MIN, INT64_MAX, -INT64_MAX },
		{ INT64_MAX, INT64_C(4611686018427387903),
		  INT64_MAX - 1 },          /* 2 steps and 1 */
		{ 5, INT64_MAX, 0 },
	};
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t out = UNTOUCHED;
		int rc = rd_money_round_to(&out, cases[i].amount,
					   cases[i].step, &err);

		if (rc != RD_OK || out != cases[i].expected) {
			rd_test_fail(__FILE__, __LINE__,
				     "%lld to a multiple of %lld: rc %d, "
				     "%lld, expected %lld (%s)",
				     (long long)cases[i].amount,
				     (long long)cases[i].step, rc,
				     (long long)out,
				     (long long)cases[i].expected, err.message);
			return;
		}
	}
}

static void round_to_refuses(void)
{
	rd_error err = { 0 };
	int64_t out = UNTOUCHED;

	CHECK_FAILS(rd_money_round_to(&out, 6950, 0, &err), RD_EINVALID);
	CHECK_HAS(err.message, "step 0");
	CHECK_FAILS(rd_money_round_to(&out, 6950, -100, &err), RD_EINVALID);
	CHECK_HAS(err.message, "step -100");
	CHECK_FAILS(rd_money_round_to(&out, 6950, INT64_MIN, &err),
		    RD_EINVALID);
	/* ...807 rounds up to ...810 and INT64_MIN down to ...810. */
	CHECK_FAILS(rd_money_round_to(&out, INT64_MAX, 10, &err), RD_EINVALID);
	CHECK_HAS(err.message, "overflow");
	CHECK_FAILS(rd_money_round_to(&out, INT64_MIN, 10, &err), RD_EINVALID);
	/* Steps just over 2^62: two steps round past either edge. */
	CHECK_FAILS(rd_money_round_to(&out, INT64_MAX,
				      INT64_C(4611686018427387904), &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_money_round_to(&out, INT64_MIN,
				      INT64_C(4611686018427387905), &err),
		    RD_EINVALID);
	CHECK_INT(out, UNTOUCHED);
	CHECK_FAILS(rd_money_round_to(&out, 1, 0, NULL), RD_EINVALID);
}

int main(void)
{
	RUN(table_is_sorted_unique_and_well_formed);
	RUN(table_exponents);
	RUN(find_refuses_other_text);
	RUN(parse_and_format_every_exponent);
	RUN(format_then_parse_round_trips);
	RUN(format_edges);
	RUN(parse_limits);
	RUN(parse_refuses_malformed_text);
	RUN(parse_refuses_extra_decimals);
	RUN(parse_refuses_missing_arguments);
	RUN(add_sub_mul);
	RUN(mul_ratio_rounds_half_away_from_zero);
	RUN(mul_ratio_refuses);
	RUN(round_to_steps);
	RUN(round_to_refuses);
	return rd_test_summary();
}
