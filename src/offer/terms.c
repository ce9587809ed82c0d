/*
 * The terms of one settlement offer and what it costs the seller
 * (SPEC section 5). Pure arithmetic: no I/O, no allocation.
 */
#include "redress/offer.h"

#include <string.h>

#include "redress/money.h"

static const char *field_value(const rd_field *fields, size_t count,
			       const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(fields[i].name, name) == 0)
			return fields[i].value;
	return NULL;
}

/* Parse an optional amount field; *given says whether it was there. */
static int amount_field(int64_t *out, int *given, const rd_field *fields,
			size_t count, const char *name,
			const rd_currency *cur, rd_error *err)
{
	const char *text = field_value(fields, count, name);
	rd_error parse_err;
	int rc;

	*given = text != NULL && *text != '\0';
	if (!*given)
		return RD_OK;
	if ((rc = rd_money_parse(out, text, cur, &parse_err)) < 0)
		return rd_error_set_field(err, rc, name, "field %s: %s", name,
					  parse_err.message);
	if (*out < 0)
		return rd_error_set_field(err, RD_EINVALID, name,
					  "field %s must not be negative",
					  name);
	return RD_OK;
}

/* seller cost = a + b - c, or unset when a figure is unknown */
static int cost_of(int64_t *out, int64_t a, int64_t b, int64_t c,
		   rd_error *err)
{
	int64_t sum;
	int rc;

	if (a == RD_AMOUNT_UNSET || b == RD_AMOUNT_UNSET) {
		*out = RD_AMOUNT_UNSET;
		return RD_OK;
	}
	if ((rc = rd_money_add(&sum, a, b, err)) < 0)
		return rc;
	return rd_money_sub(out, sum, c, err);
}

int rd_offer_terms_from_fields(rd_offer_terms *out, const rd_dispute *d,
			       const rd_field *fields, size_t field_count,
			       rd_error *err)
{
	const rd_currency *cur = rd_currency_find(d->currency);
	const char *type_text = field_value(fields, field_count, "type");
	int64_t price, goods_cost, full, refund = 0, copay = 0, replacement;
	int has_refund, has_copay, rc;
	char limit[RD_MONEY_BUFSZ];
	rd_error type_err;

	memset(out, 0, sizeof(*out));
	if (!cur)
		return rd_error_set(err, RD_EINTERNAL,
				    "dispute %s has unknown currency %s",
				    d->id, d->currency);
	if (!type_text || !*type_text)
		return rd_error_set_field(err, RD_EGUARD, "type",
					  "an offer needs field type");
	if ((rc = rd_offer_type_parse(&out->type, type_text, &type_err)) < 0)
		return rd_error_set_field(err, rc, "type", "field type: %s",
					  type_err.message);
	if ((rc = rd_dispute_price(&price, d, err)) < 0 ||
	    (rc = rd_dispute_goods_cost(&goods_cost, d, err)) < 0 ||
	    (rc = rd_money_add(&full, price, d->shipping_paid, err)) < 0)
		return rc;
	if ((rc = amount_field(&refund, &has_refund, fields, field_count,
			       "refund", cur, err)) < 0 ||
	    (rc = amount_field(&copay, &has_copay, fields, field_count,
			       "copay", cur, err)) < 0)
		return rc;

	switch (out->type) {
	case RD_OFFER_PARTIAL_DISCOUNT:
	case RD_OFFER_REFUND_KEEP_ITEM:
	case RD_OFFER_REFUND_WITH_RETURN:
		if (has_copay)
			return rd_error_set_field(err, RD_EINVALID, "copay",
				"field copay applies only to reshipment offers");
		if (!has_refund && out->type == RD_OFFER_PARTIAL_DISCOUNT)
			return rd_error_set_field(err, RD_EGUARD, "refund",
				"a partial_discount offer needs field refund "
				"(the discount)");
		if (!has_refund)
			refund = full;
		rd_money_format(limit, sizeof(limit), full, cur);
		if (refund <= 0 || refund > full)
			return rd_error_set_field(err, RD_EINVALID, "refund",
				"field refund must be more than 0 and at most "
				"%s %s (price plus shipping paid)",
				limit, cur->code);
		out->buyer_refund = refund;
		if (out->type == RD_OFFER_REFUND_WITH_RETURN)
			return cost_of(&out->seller_cost, refund,
				       d->return_cost, 0, err);
		out->seller_cost = refund;
		return RD_OK;
	case RD_OFFER_RESHIPMENT:
		if (has_refund)
			return rd_error_set_field(err, RD_EINVALID, "refund",
				"field refund does not apply to reshipment "
				"offers (use copay)");
		rd_money_format(limit, sizeof(limit), price, cur);
		if (copay > price)
			return rd_error_set_field(err, RD_EINVALID, "copay",
				"field copay must be at most %s %s (the price)",
				limit, cur->code);
		/* the buyer never pays more than the replacement costs */
		if ((rc = cost_of(&replacement, goods_cost, d->ship_cost, 0,
				  err)) < 0)
			return rc;
		if (replacement != RD_AMOUNT_UNSET && copay > replacement) {
			rd_money_format(limit, sizeof(limit), replacement,
					cur);
			return rd_error_set_field(err, RD_EINVALID, "copay",
				"field copay must be at most %s %s (what the "
				"replacement costs the seller: goods plus "
				"shipping)", limit, cur->code);
		}
		out->buyer_copay = copay;
		return cost_of(&out->seller_cost, goods_cost, d->ship_cost,
			       copay, err);
	case RD_OFFER_TYPE_COUNT:
		break;
	}
	return rd_error_set(err, RD_EINTERNAL, "unhandled offer type");
}
