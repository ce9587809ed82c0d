/*
 * Money: int64 amounts in a currency's minor unit plus an ISO 4217 code.
 * Never floating point. Each currency's exponent is respected (JPY 0, USD 2,
 * KWD 3). Every arithmetic helper checks for overflow.
 *
 * Rounding rule (the only one in redress): when a result falls between two
 * minor units it is rounded to the nearer one, and a result exactly half-way
 * is rounded away from zero (0.5 -> 1, -0.5 -> -1, 2.5 -> 3).
 */
#ifndef REDRESS_MONEY_H
#define REDRESS_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "redress/error.h"

/*
 * Largest amount redress accepts in any input, in minor units: 10^15, i.e.
 * ten trillion units of a 2-decimal currency. Far below INT64_MAX, so sums of
 * a few thousand valid amounts cannot overflow, yet checked anyway.
 */
#define RD_MONEY_INPUT_MAX INT64_C(1000000000000000)

/* Room for any formatted amount, sign and point included. */
#define RD_MONEY_BUFSZ 32

/* An active ISO 4217 currency. */
typedef struct rd_currency {
	char code[4];      /* "USD" */
	int exponent;      /* digits after the decimal point: 0..4 */
	const char *name;  /* "US Dollar" */
} rd_currency;

/*
 * The currency with this code (exactly three upper-case letters), or NULL
 * when it is not an active ISO 4217 currency. Borrowed from a static table.
 */
const rd_currency *rd_currency_find(const char *code);

/* Number of currencies in the table, and the i-th one (borrowed). */
size_t rd_currency_count(void);
const rd_currency *rd_currency_at(size_t i);

/*
 * Parse a decimal amount written with the currency's exponent: "12.34",
 * "12.3", "12" for USD; "1200" for JPY; "1.234" for KWD. An optional leading
 * '-' is allowed. More decimals than the exponent, other characters,
 * whitespace, empty text, or an absolute value over RD_MONEY_INPUT_MAX is
 * RD_EINVALID with a message naming the problem.
 *
 * The grammar in full: ['-'] digit+ ['.' digit+], with at most `exponent`
 * digits after the point. Leading zeros are allowed ("007.50"); "+5", "1e3",
 * "1,000", " 5", ".5", "12." and "." are refused. A currency without a minor
 * unit (exponent 0, e.g. JPY) refuses any decimal point, even "12.0"; for
 * others, extra trailing zeros beyond the exponent ("12.340" for USD) are
 * refused too. `*out` is written only on success.
 */
int rd_money_parse(int64_t *out, const char *text, const rd_currency *cur,
		   rd_error *err);

/*
 * Format `amount` minor units with the currency's exponent ("12.34",
 * "-0.05", "1200" for JPY). Always writes a NUL-terminated string when
 * size > 0; returns the length written, or -1 when buf is too small.
 */
int rd_money_format(char *buf, size_t size, int64_t amount,
		    const rd_currency *cur);

/* out = a + b; RD_EINVALID (with a message saying "overflow") on overflow. */
int rd_money_add(int64_t *out, int64_t a, int64_t b, rd_error *err);

/* out = a - b; RD_EINVALID on overflow. */
int rd_money_sub(int64_t *out, int64_t a, int64_t b, rd_error *err);

/* out = a * n (a quantity times a unit price); RD_EINVALID on overflow. */
int rd_money_mul(int64_t *out, int64_t a, int64_t n, rd_error *err);

/*
 * out = amount * num / den, rounded by the rule above. den must be > 0 and
 * num >= 0 (a ratio such as 70/100); RD_EINVALID otherwise or on overflow.
 * The intermediate product is exact (128-bit).
 */
int rd_money_mul_ratio(int64_t *out, int64_t amount, int64_t num,
		       int64_t den, rd_error *err);

/*
 * out = amount rounded to a multiple of step (> 0) by the rule above, for
 * "nice" amounts (step 100 turns 69.50 USD into 70.00). RD_EINVALID on a bad
 * step or overflow.
 */
int rd_money_round_to(int64_t *out, int64_t amount, int64_t step,
		      rd_error *err);

#endif
