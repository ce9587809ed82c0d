/*
 * Money: the table of active ISO 4217 currencies, the strict decimal parser
 * and formatter for amounts in minor units, and overflow-checked arithmetic
 * with the single rounding rule of redress (half away from zero).
 *
 * This module must never use floating point, never let an int64 overflow
 * (every operation is checked, every intermediate of a ratio is exact), and
 * never accept an amount text that could be read two ways.
 */
#include "redress/money.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exact intermediates for ratios and rounding; an extension, said so. */
__extension__ typedef __int128 wide_t;

/*
 * Active ISO 4217 currencies (List One), sorted by code for binary search.
 * Included: every national and regional currency in use plus the fund codes
 * of List One (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW); CLF and UYW are
 * the only currencies with four decimals. Left out: precious metals (XAU, XAG,
 * XPD, XPT), bond-market and drawing-right units (XBA-XBD, XDR, XSU, XUA),
 * the testing code XTS and "no currency" XXX, none of which a buyer pays in,
 * and withdrawn codes: HRK (2023, by EUR), SLL (by SLE), ZWL (2024, by ZWG),
 * ANG (2025, by XCG) and BGN (2026, by EUR).
 */
static const rd_currency currencies[] = {
	{ "AED", 2, "UAE Dirham" },
	{ "AFN", 2, "Afghani" },
	{ "ALL", 2, "Lek" },
	{ "AMD", 2, "Armenian Dram" },
	{ "AOA", 2, "Kwanza" },
	{ "ARS", 2, "Argentine Peso" },
	{ "AUD", 2, "Australian Dollar" },
	{ "AWG", 2, "Aruban Florin" },
	{ "AZN", 2, "Azerbaijan Manat" },
	{ "BAM", 2, "Convertible Mark" },
	{ "BBD", 2, "Barbados Dollar" },
	{ "BDT", 2, "Taka" },
	{ "BHD", 3, "Bahraini Dinar" },
	{ "BIF", 0, "Burundi Franc" },
	{ "BMD", 2, "Bermudian Dollar" },
	{ "BND", 2, "Brunei Dollar" },
	{ "BOB", 2, "Boliviano" },
	{ "BOV", 2, "Mvdol" },
	{ "BRL", 2, "Brazilian Real" },
	{ "BSD", 2, "Bahamian Dollar" },
	{ "BTN", 2, "Ngultrum" },
	{ "BWP", 2, "Pula" },
	{ "BYN", 2, "Belarusian Ruble" },
	{ "BZD", 2, "Belize Dollar" },
	{ "CAD", 2, "Canadian Dollar" },
	{ "CDF", 2, "Congolese Franc" },
	{ "CHE", 2, "WIR Euro" },
	{ "CHF", 2, "Swiss Franc" },
	{ "CHW", 2, "WIR Franc" },
	{ "CLF", 4, "Unidad de Fomento" },
	{ "CLP", 0, "Chilean Peso" },
	{ "CNY", 2, "Yuan Renminbi" },
	{ "COP", 2, "Colombian Peso" },
	{ "COU", 2, "Unidad de Valor Real" },
	{ "CRC", 2, "Costa Rican Colon" },
	{ "CUC", 2, "Peso Convertible" },
	{ "CUP", 2, "Cuban Peso" },
	{ "CVE", 2, "Cabo Verde Escudo" },
	{ "CZK", 2, "Czech Koruna" },
	{ "DJF", 0, "Djibouti Franc" },
	{ "DKK", 2, "Danish Krone" },
	{ "DOP", 2, "Dominican Peso" },
	{ "DZD", 2, "Algerian Dinar" },
	{ "EGP", 2, "Egyptian Pound" },
	{ "ERN", 2, "Nakfa" },
	{ "ETB", 2, "Ethiopian Birr" },
	{ "EUR", 2, "Euro" },
	{ "FJD", 2, "Fiji Dollar" },
	{ "FKP", 2, "Falkland Islands Pound" },
	{ "GBP", 2, "Pound Sterling" },
	{ "GEL", 2, "Lari" },
	{ "GHS", 2, "Ghana Cedi" },
	{ "GIP", 2, "Gibraltar Pound" },
	{ "GMD", 2, "Dalasi" },
	{ "GNF", 0, "Guinean Franc" },
	{ "GTQ", 2, "Quetzal" },
	{ "GYD", 2, "Guyana Dollar" },
	{ "HKD", 2, "Hong Kong Dollar" },
	{ "HNL", 2, "Lempira" },
	{ "HTG", 2, "Gourde" },
	{ "HUF", 2, "Forint" },
	{ "IDR", 2, "Rupiah" },
	{ "ILS", 2, "New Israeli Sheqel" },
	{ "INR", 2, "Indian Rupee" },
	{ "IQD", 3, "Iraqi Dinar" },
	{ "IRR", 2, "Iranian Rial" },
	{ "ISK", 0, "Iceland Krona" },
	{ "JMD", 2, "Jamaican Dollar" },
	{ "JOD", 3, "Jordanian Dinar" },
	{ "JPY", 0, "Yen" },
	{ "KES", 2, "Kenyan Shilling" },
	{ "KGS", 2, "Som" },
	{ "KHR", 2, "Riel" },
	{ "KMF", 0, "Comorian Franc" },
	{ "KPW", 2, "North Korean Won" },
	{ "KRW", 0, "Won" },
	{ "KWD", 3, "Kuwaiti Dinar" },
	{ "KYD", 2, "Cayman Islands Dollar" },
	{ "KZT", 2, "Tenge" },
	{ "LAK", 2, "Lao Kip" },
	{ "LBP", 2, "Lebanese Pound" },
	{ "LKR", 2, "Sri Lanka Rupee" },
	{ "LRD", 2, "Liberian Dollar" },
	{ "LSL", 2, "Loti" },
	{ "LYD", 3, "Libyan Dinar" },
	{ "MAD", 2, "Moroccan Dirham" },
	{ "MDL", 2, "Moldovan Leu" },
	{ "MGA", 2, "Malagasy Ariary" },
	{ "MKD", 2, "Denar" },
	{ "MMK", 2, "Kyat" },
	{ "MNT", 2, "Tugrik" },
	{ "MOP", 2, "Pataca" },
	{ "MRU", 2, "Ouguiya" },
	{ "MUR", 2, "Mauritius Rupee" },
	{ "MVR", 2, "Rufiyaa" },
	{ "MWK", 2, "Malawi Kwacha" },
	{ "MXN", 2, "Mexican Peso" },
	{ "MXV", 2, "Mexican Unidad de Inversion (UDI)" },
	{ "MYR", 2, "Malaysian Ringgit" },
	{ "MZN", 2, "Mozambique Metical" },
	{ "NAD", 2, "Namibia Dollar" },
	{ "NGN", 2, "Naira" },
	{ "NIO", 2, "Cordoba Oro" },
	{ "NOK", 2, "Norwegian Krone" },
	{ "NPR", 2, "Nepalese Rupee" },
	{ "NZD", 2, "New Zealand Dollar" },
	{ "OMR", 3, "Rial Omani" },
	{ "PAB", 2, "Balboa" },
	{ "PEN", 2, "Sol" },
	{ "PGK", 2, "Kina" },
	{ "PHP", 2, "Philippine Peso" },
	{ "PKR", 2, "Pakistan Rupee" },
	{ "PLN", 2, "Zloty" },
	{ "PYG", 0, "Guarani" },
	{ "QAR", 2, "Qatari Rial" },
	{ "RON", 2, "Romanian Leu" },
	{ "RSD", 2, "Serbian Dinar" },
	{ "RUB", 2, "Russian Ruble" },
	{ "RWF", 0, "Rwanda Franc" },
	{ "SAR", 2, "Saudi Riyal" },
	{ "SBD", 2, "Solomon Islands Dollar" },
	{ "SCR", 2, "Seychelles Rupee" },
	{ "SDG", 2, "Sudanese Pound" },
	{ "SEK", 2, "Swedish Krona" },
	{ "SGD", 2, "Singapore Dollar" },
	{ "SHP", 2, "Saint Helena Pound" },
	{ "SLE", 2, "Leone" },
	{ "SOS", 2, "Somali Shilling" },
	{ "SRD", 2, "Surinam Dollar" },
	{ "SSP", 2, "South Sudanese Pound" },
	{ "STN", 2, "Dobra" },
	{ "SVC", 2, "El Salvador Colon" },
	{ "SYP", 2, "Syrian Pound" },
	{ "SZL", 2, "Lilangeni" },
	{ "THB", 2, "Baht" },
	{ "TJS", 2, "Somoni" },
	{ "TMT", 2, "Turkmenistan New Manat" },
	{ "TND", 3, "Tunisian Dinar" },
	{ "TOP", 2, "Pa'anga" },
	{ "TRY", 2, "Turkish Lira" },
	{ "TTD", 2, "Trinidad and Tobago Dollar" },
	{ "TWD", 2, "New Taiwan Dollar" },
	{ "TZS", 2, "Tanzanian Shilling" },
	{ "UAH", 2, "Hryvnia" },
	{ "UGX", 0, "Uganda Shilling" },
	{ "USD", 2, "US Dollar" },
	{ "USN", 2, "US Dollar (Next day)" },
	{ "UYI", 0, "Uruguay Peso en Unidades Indexadas (UI)" },
	{ "UYU", 2, "Peso Uruguayo" },
	{ "UYW", 4, "Unidad Previsional" },
	{ "UZS", 2, "Uzbekistan Sum" },
	{ "VED", 2, "Bolivar Soberano" },
	{ "VES", 2, "Bolivar Soberano" },
	{ "VND", 0, "Dong" },
	{ "VUV", 0, "Vatu" },
	{ "WST", 2, "Tala" },
	{ "XAF", 0, "CFA Franc BEAC" },
	{ "XCD", 2, "East Caribbean Dollar" },
	{ "XCG", 2, "Caribbean Guilder" },
	{ "XOF", 0, "CFA Franc BCEAO" },
	{ "XPF", 0, "CFP Franc" },
	{ "YER", 2, "Yemeni Rial" },
	{ "ZAR", 2, "Rand" },
	{ "ZMW", 2, "Zambian Kwacha" },
	{ "ZWG", 2, "Zimbabwe Gold" },
};

#define CURRENCY_COUNT (sizeof(currencies) / sizeof(currencies[0]))

/* Longest stretch of a rejected text quoted back in an error message. */
#define QUOTE_MAX 40

/* Powers of ten for exponents 0..4, the only ones ISO 4217 uses. */
static const int64_t pow10_table[] = { 1, 10, 100, 1000, 10000 };

#define EXPONENT_MAX 4

static int compare_code(const void *key, const void *element)
{
	const rd_currency *currency = element;

	return memcmp(key, currency->code, 3);
}

const rd_currency *rd_currency_find(const char *code)
{
	if (!code)
		return NULL;
	for (int i = 0; i < 3; i++) {
		if (code[i] < 'A' || code[i] > 'Z')
			return NULL;
	}
	if (code[3] != '\0')
		return NULL;
	return bsearch(code, currencies, CURRENCY_COUNT, sizeof(currencies[0]),
		       compare_code);
}

size_t rd_currency_count(void)
{
	return CURRENCY_COUNT;
}

const rd_currency *rd_currency_at(size_t i)
{
	return i < CURRENCY_COUNT ? &currencies[i] : NULL;
}

/*
 * Copy `text` into `buf` for an error message: at most QUOTE_MAX bytes, any
 * byte that is not printable ASCII shown as '?' (so that a message is always
 * valid UTF-8 and one line), "..." when cut.
 */
static void quote_text(char buf[QUOTE_MAX + 4], const char *text)
{
	size_t i;

	for (i = 0; i < QUOTE_MAX && text[i] != '\0'; i++) {
		unsigned char c = (unsigned char)text[i];

		buf[i] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
	if (text[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
}

static int currency_usable(const rd_currency *cur)
{
	return cur && cur->exponent >= 0 && cur->exponent <= EXPONENT_MAX;
}

/* "12.34" for USD, "1200" for JPY...: an example of the expected shape. */
static const char *example_for(const rd_currency *cur)
{
	static const char *const examples[] = { "1200", "12.5", "12.34",
						"1.234", "1.2345" };

	return examples[cur->exponent];
}

/* Why one character cannot be part of an amount, in words. */
static const char *reason_for_char(char c, char *scratch, size_t size)
{
	unsigned char u = (unsigned char)c;

	switch (c) {
	case '+':
		return "a '+' sign is not allowed";
	case '-':
		return "'-' is allowed only once, first";
	case '.':
		return "only one decimal point is allowed";
	case ',':
	case '_':
	case '\'':
		return "thousands separators are not allowed";
	case 'e':
	case 'E':
		return "exponent notation is not allowed";
	case ' ':
	case '\t':
	case '\n':
	case '\r':
	case '\v':
	case '\f':
		return "whitespace is not allowed";
	default:
		break;
	}
	if (u >= 0x20 && u < 0x7f)
		snprintf(scratch, size, "'%c' is not allowed", c);
	else
		snprintf(scratch, size, "byte 0x%02x is not allowed", u);
	return scratch;
}

static int malformed(rd_error *err, const char *quoted, const rd_currency *cur,
		     const char *reason)
{
	return rd_error_set(err, RD_EINVALID,
			    "\"%s\" is not an amount in %s: %s (write it like "
			    "%s)",
			    quoted, cur->code, reason, example_for(cur));
}

int rd_money_parse(int64_t *out, const char *text, const rd_currency *cur,
		   rd_error *err)
{
	char quoted[QUOTE_MAX + 4];
	char scratch[32];
	const char *p = text;
	int negative = 0, int_digits = 0, frac_digits = 0;
	int64_t units = 0, fraction = 0, amount;
	char largest[RD_MONEY_BUFSZ];

	if (!currency_usable(cur))
		return rd_error_set(err, RD_EINVALID,
				    "an amount needs a known currency");
	if (!text)
		return rd_error_set(err, RD_EINVALID,
				    "an amount in %s is required (write it "
				    "like %s)",
				    cur->code, example_for(cur));
	quote_text(quoted, text);
	if (*p == '\0')
		return malformed(err, quoted, cur, "the text is empty");
	if (*p == '-') {
		negative = 1;
		p++;
	}
	/*
	 * Digits accumulate only while they could still give an amount within
	 * RD_MONEY_INPUT_MAX, so that no number of leading digits can overflow;
	 * leading zeros cost nothing.
	 */
	while (*p >= '0' && *p <= '9') {
		if (units <= RD_MONEY_INPUT_MAX)
			units = units * 10 + (*p - '0');
		int_digits++;
		p++;
	}
	if (*p == '.') {
		p++;
		if (int_digits == 0)
			return malformed(err, quoted, cur,
					 "digits are needed before the "
					 "decimal point");
		while (*p >= '0' && *p <= '9') {
			if (frac_digits < EXPONENT_MAX)
				fraction = fraction * 10 + (*p - '0');
			frac_digits++;
			p++;
		}
		if (frac_digits == 0)
			return malformed(err, quoted, cur,
					 "digits are needed after the decimal "
					 "point");
		if (*p == '\0' && cur->exponent == 0)
			return rd_error_set(err, RD_EINVALID,
					    "\"%s\" has a decimal point, but "
					    "%s has no minor unit: write "
					    "whole units such as %s",
					    quoted, cur->code,
					    example_for(cur));
		if (*p == '\0' && frac_digits > cur->exponent)
			return rd_error_set(err, RD_EINVALID,
					    "\"%s\" has more than %d decimal%s "
					    "for %s",
					    quoted, cur->exponent,
					    cur->exponent == 1 ? "" : "s",
					    cur->code);
	}
	if (*p != '\0')
		return malformed(err, quoted, cur,
				 reason_for_char(*p, scratch, sizeof(scratch)));
	if (int_digits == 0)
		return malformed(err, quoted, cur, "digits are needed");
	/*
	 * Whole units over the limit are refused before scaling, which keeps
	 * the sum below RD_MONEY_INPUT_MAX + 10^4: no overflow is possible.
	 */
	if (units <= RD_MONEY_INPUT_MAX / pow10_table[cur->exponent]) {
		amount = units * pow10_table[cur->exponent] +
			 fraction * pow10_table[cur->exponent - frac_digits];
		if (amount <= RD_MONEY_INPUT_MAX) {
			*out = negative ? -amount : amount;
			return RD_OK;
		}
	}
	rd_money_format(largest, sizeof(largest), RD_MONEY_INPUT_MAX, cur);
	return rd_error_set(err, RD_EINVALID,
			    "\"%s\" is more than the largest amount accepted, "
			    "%s %s",
			    quoted, largest, cur->code);
}

int rd_money_format(char *buf, size_t size, int64_t amount,
		    const rd_currency *cur)
{
	uint64_t magnitude, scale;
	int len;

	if (!buf || size == 0)
		return -1;
	if (!currency_usable(cur)) {
		buf[0] = '\0';
		return -1;
	}
	/* Unsigned negation: INT64_MIN has no positive int64 counterpart. */
	magnitude = amount < 0 ? (uint64_t)0 - (uint64_t)amount
			       : (uint64_t)amount;
	scale = (uint64_t)pow10_table[cur->exponent];
	if (cur->exponent == 0)
		len = snprintf(buf, size, "%s%" PRIu64, amount < 0 ? "-" : "",
			       magnitude);
	else
		len = snprintf(buf, size, "%s%" PRIu64 ".%0*" PRIu64,
			       amount < 0 ? "-" : "", magnitude / scale,
			       cur->exponent, magnitude % scale);
	if (len < 0 || (size_t)len >= size) {
		/* A cut amount would read as a different amount: write none. */
		buf[0] = '\0';
		return -1;
	}
	return len;
}

static int overflow(rd_error *err, const char *what, int64_t a, int64_t b)
{
	return rd_error_set(err, RD_EINVALID,
			    "amount overflow: %" PRId64 " %s %" PRId64
			    " does not fit in a 64-bit amount of minor units",
			    a, what, b);
}

int rd_money_add(int64_t *out, int64_t a, int64_t b, rd_error *err)
{
	int64_t sum;

	if (__builtin_add_overflow(a, b, &sum))
		return overflow(err, "+", a, b);
	*out = sum;
	return RD_OK;
}

int rd_money_sub(int64_t *out, int64_t a, int64_t b, rd_error *err)
{
	int64_t difference;

	if (__builtin_sub_overflow(a, b, &difference))
		return overflow(err, "-", a, b);
	*out = difference;
	return RD_OK;
}

int rd_money_mul(int64_t *out, int64_t a, int64_t n, rd_error *err)
{
	int64_t product;

	if (__builtin_mul_overflow(a, n, &product))
		return overflow(err, "*", a, n);
	*out = product;
	return RD_OK;
}

/*
 * numerator / den rounded to the nearest integer, halves away from zero.
 * den > 0. C division truncates toward zero and leaves a remainder with the
 * numerator's sign, so the rule is symmetric: -0.5 rounds to -1 as 0.5 to 1.
 */
static wide_t divide_rounded(wide_t numerator, wide_t den)
{
	wide_t quotient = numerator / den;
	wide_t remainder = numerator % den;

	if (remainder < 0)
		remainder = -remainder;
	if (remainder >= den - remainder)
		quotient += numerator < 0 ? -1 : 1;
	return quotient;
}

static int fits_int64(wide_t value)
{
	return value >= INT64_MIN && value <= INT64_MAX;
}

int rd_money_mul_ratio(int64_t *out, int64_t amount, int64_t num,
		       int64_t den, rd_error *err)
{
	wide_t result;

	if (den <= 0)
		return rd_error_set(err, RD_EINVALID,
				    "ratio %" PRId64 "/%" PRId64 " has a "
				    "denominator that is not above zero",
				    num, den);
	if (num < 0)
		return rd_error_set(err, RD_EINVALID,
				    "ratio %" PRId64 "/%" PRId64 " is "
				    "negative; a ratio must be zero or more",
				    num, den);
	/* |amount * num| < 2^126: exact in 128 bits. */
	result = divide_rounded((wide_t)amount * num, den);
	if (!fits_int64(result))
		return rd_error_set(err, RD_EINVALID,
				    "amount overflow: %" PRId64 " * %" PRId64
				    "/%" PRId64 " does not fit in a 64-bit "
				    "amount of minor units",
				    amount, num, den);
	*out = (int64_t)result;
	return RD_OK;
}

int rd_money_round_to(int64_t *out, int64_t amount, int64_t step,
		      rd_error *err)
{
	wide_t result;

	if (step <= 0)
		return rd_error_set(err, RD_EINVALID,
				    "rounding step %" PRId64 " is not above "
				    "zero",
				    step);
	result = divide_rounded(amount, step) * step;
	if (!fits_int64(result))
		return rd_error_set(err, RD_EINVALID,
				    "amount overflow: %" PRId64 " rounded to a "
				    "multiple of %" PRId64 " does not fit in a "
				    "64-bit amount of minor units",
				    amount, step);
	*out = (int64_t)result;
	return RD_OK;
}
