/* Offer terms and seller cost from event fields (SPEC section 5). */
#include <stdlib.h>

#include "redress/offer.h"
#include "test.h"

static const char *example =
	"{\"order_ref\": \"ORD-1\", \"storefront\": \"acme\", \"buyer_ref\": \"b\","
	" \"currency\": \"USD\", \"reason\": \"damaged\", \"channel\": \"chat\","
	" \"items\": [{\"sku\": \"L\", \"title\": \"Lamp\", \"quantity\": 1,"
	" \"unit_price\": 10000, \"unit_cost\": 4000}],"
	" \"shipping_paid\": 1500, \"ship_cost\": 3000, \"return_cost\": 2500}";

static rd_dispute *load(const char *text)
{
	rd_dispute *d = NULL;
	rd_error err;

	if (rd_dispute_parse(&d, text, strlen(text), &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
		return NULL;
	}
	return d;
}

static int terms(rd_offer_terms *out, const rd_dispute *d, const char *type,
		 const char *name, const char *value, rd_error *err)
{
	rd_field fields[2] = { { "type", type }, { name, value } };

	return rd_offer_terms_from_fields(out, d, fields, name ? 2 : 1, err);
}

/* The worked example of the spec: a 70% co-pay reshipment breaks even. */
static void test_worked_example(void)
{
	rd_dispute *d = load(example);
	rd_offer_terms t;
	rd_error err;

	CHECK(d);
	CHECK_OK(terms(&t, d, "reshipment", "copay", "70.00", &err), &err);
	CHECK_INT(t.type, RD_OFFER_RESHIPMENT);
	CHECK_INT(t.buyer_copay, 7000);
	CHECK_INT(t.buyer_refund, 0);
	CHECK_INT(t.seller_cost, 0);
	CHECK_OK(terms(&t, d, "refund_keep_item", NULL, NULL, &err), &err);
	CHECK_INT(t.buyer_refund, 11500);
	CHECK_INT(t.seller_cost, 11500);
	CHECK_OK(terms(&t, d, "refund_with_return", NULL, NULL, &err), &err);
	CHECK_INT(t.seller_cost, 11500 + 2500);
	CHECK_OK(terms(&t, d, "partial_discount", "refund", "20", &err), &err);
	CHECK_INT(t.buyer_refund, 2000);
	CHECK_INT(t.seller_cost, 2000);
	CHECK_OK(terms(&t, d, "reshipment", NULL, NULL, &err), &err);
	CHECK_INT(t.seller_cost, 7000);
	rd_dispute_free(d);
}

static void test_refusals(void)
{
	rd_dispute *d = load(example);
	rd_offer_terms t;
	rd_error err;

	CHECK(d);
	CHECK_FAILS(terms(&t, d, "voucher", NULL, NULL, &err), RD_EINVALID);
	CHECK_STR(err.field, "type");
	CHECK_FAILS(terms(&t, d, "partial_discount", NULL, NULL, &err), RD_EGUARD);
	CHECK_STR(err.field, "refund");
	CHECK_FAILS(terms(&t, d, "partial_discount", "refund", "0", &err), RD_EINVALID);
	CHECK_FAILS(terms(&t, d, "partial_discount", "refund", "115.01", &err), RD_EINVALID);
	CHECK_HAS(err.message, "115.00");
	CHECK_OK(terms(&t, d, "partial_discount", "refund", "115.00", &err), &err);
	CHECK_FAILS(terms(&t, d, "partial_discount", "refund", "1.005", &err), RD_EINVALID);
	CHECK_STR(err.field, "refund");
	CHECK_FAILS(terms(&t, d, "partial_discount", "refund", "-1", &err), RD_EINVALID);
	CHECK_FAILS(terms(&t, d, "partial_discount", "copay", "1", &err), RD_EINVALID);
	CHECK_STR(err.field, "copay");
	CHECK_FAILS(terms(&t, d, "reshipment", "refund", "1", &err), RD_EINVALID);
	CHECK_FAILS(terms(&t, d, "reshipment", "copay", "100.01", &err), RD_EINVALID);
	/*
	 * A co-pay above what the replacement costs (40.00 + 30.00) would
	 * make the seller profit, and 70.01 a cost of -1, read as unknown.
	 */
	CHECK_FAILS(terms(&t, d, "reshipment", "copay", "70.01", &err), RD_EINVALID);
	CHECK_STR(err.field, "copay");
	CHECK_HAS(err.message, "70.00 USD");
	CHECK_FAILS(terms(&t, d, "", NULL, NULL, &err), RD_EGUARD);
	rd_dispute_free(d);
}

/* Unknown cost figures leave the seller cost unknown, never guessed. */
static void test_unknown_costs(void)
{
	const char *text =
		"{\"order_ref\": \"ORD-1\", \"storefront\": \"acme\", \"buyer_ref\": \"b\","
		" \"currency\": \"JPY\", \"reason\": \"damaged\", \"channel\": \"chat\","
		" \"items\": [{\"sku\": \"L\", \"title\": \"Lamp\", \"quantity\": 2,"
		" \"unit_price\": 1500}]}";
	rd_dispute *d = load(text);
	rd_offer_terms t;
	rd_error err;

	CHECK(d);
	CHECK_OK(terms(&t, d, "reshipment", "copay", "1000", &err), &err);
	CHECK_INT(t.seller_cost, RD_AMOUNT_UNSET);
	CHECK_OK(terms(&t, d, "refund_with_return", NULL, NULL, &err), &err);
	CHECK_INT(t.seller_cost, RD_AMOUNT_UNSET);
	CHECK_OK(terms(&t, d, "refund_keep_item", NULL, NULL, &err), &err);
	CHECK_INT(t.seller_cost, 3000);
	/* JPY has no minor unit: a fraction is refused */
	CHECK_FAILS(terms(&t, d, "partial_discount", "refund", "10.5", &err), RD_EINVALID);
	rd_dispute_free(d);
}

int main(void)
{
	RUN(test_worked_example);
	RUN(test_refusals);
	RUN(test_unknown_costs);
	return rd_test_summary();
}
