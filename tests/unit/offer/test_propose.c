/*
 * The offer engine under the shipped policy: the worked example of SPEC
 * section 5, eligibility by reason, rounding per currency, dominance and
 * ranking, declined offers, counter-offers, and a property test over
 * thousands of generated disputes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "offer/offer_int.h"
#include "redress/offer.h"
#include "test.h"

#define POLICY_PATH REDRESS_SOURCE_DIR "/workflows/policy.json"

static rd_policy *policy;

/* The figures of a test dispute; RD_AMOUNT_UNSET leaves a cost out. */
struct case_figures {
	const char *currency;
	const char *reason;
	int64_t unit_price;
	int64_t unit_cost;
	int64_t quantity;
	int64_t shipping_paid;
	int64_t ship_cost;
	int64_t return_cost;
};

/* SPEC section 5's worked example */
static const struct case_figures worked = {
	"USD", "damaged", 10000, 4000, 1, 1500, 3000, 2500
};

static rd_dispute *make_dispute(const struct case_figures *c, int64_t version)
{
	char doc[1024], cost[64] = "", ship[64] = "", ret[64] = "";
	rd_dispute *d = NULL;
	rd_error err = { 0 };

	if (c->unit_cost != RD_AMOUNT_UNSET)
		snprintf(cost, sizeof(cost), ", \"unit_cost\": %" PRId64,
			 c->unit_cost);
	if (c->ship_cost != RD_AMOUNT_UNSET)
		snprintf(ship, sizeof(ship), ", \"ship_cost\": %" PRId64,
			 c->ship_cost);
	if (c->return_cost != RD_AMOUNT_UNSET)
		snprintf(ret, sizeof(ret), ", \"return_cost\": %" PRId64,
			 c->return_cost);
	snprintf(doc, sizeof(doc),
		 "{\"order_ref\": \"ORD-1\", \"storefront\": \"acme\", "
		 "\"buyer_ref\": \"b\", \"currency\": \"%s\", \"reason\": "
		 "\"%s\", \"channel\": \"chat\", \"items\": [{\"sku\": \"S\", "
		 "\"title\": \"Thing\", \"quantity\": %" PRId64 ", "
		 "\"unit_price\": %" PRId64 "%s}], \"shipping_paid\": %" PRId64
		 "%s%s}",
		 c->currency, c->reason, c->quantity ? c->quantity : 1,
		 c->unit_price, cost, c->shipping_paid, ship, ret);
	if (rd_dispute_parse(&d, doc, strlen(doc), &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "%s: %s", doc, err.message);
		return NULL;
	}
	d->version = version;
	return d;
}

static int propose(rd_proposals *out, const rd_dispute *d,
		   const rd_offer_terms *declined, size_t declined_count,
		   rd_error *err)
{
	rd_offer_inputs in = { 0 };

	in.dispute = d;
	in.declined = declined;
	in.declined_count = declined_count;
	return rd_offer_propose(out, policy, &in, err);
}

/*
 * The part of an offer id after "o-<8 hex digits of the inputs>-": its
 * terms, "reshipment-7000". The digest is checked once, in
 * test_offer_ids; elsewhere the terms are what matters.
 */
static int hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static const char *terms_id(const char *offer_id)
{
	if (strncmp(offer_id, "o-", 2) != 0 || strlen(offer_id) < 12 ||
	    offer_id[10] != '-')
		return offer_id;
	return offer_id + 11;
}

/* The proposal of `set` whose id ends in these terms, or NULL. */
static const rd_proposal *find_terms(const rd_proposals *set,
				     const char *terms)
{
	if (!set)
		return NULL;
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(terms_id(set->items[i].offer_id), terms) == 0)
			return &set->items[i];
	return NULL;
}

static size_t count_type(const rd_proposals *set, rd_offer_type type,
			 int proposed_only)
{
	size_t n = 0;
	size_t limit = proposed_only ? set->proposed : set->count;

	for (size_t i = 0; i < limit; i++)
		n += set->items[i].terms.type == type;
	return n;
}

static int64_t lines_sum(const rd_proposal *p)
{
	int64_t sum = 0;

	for (size_t i = 0; i < p->line_count; i++)
		sum += p->lines[i].amount;
	return sum;
}

/* ---- the worked example ---------------------------------------------- */

static void test_worked_example(void)
{
	static const char *const ranked[] = {
		"reshipment-7000", "partial_discount-1000",
		"partial_discount-2000", "reshipment-5000",
		"partial_discount-3000", "reshipment-3000",
		"partial_discount-5000", "reshipment-0",
		"refund_keep_item-11500",
	};
	static rd_proposals set;
	rd_dispute *d = make_dispute(&worked, 3);
	const rd_proposal *p;
	rd_error err = { 0 };

	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	CHECK_INT(set.proposed, 9);
	CHECK_INT(set.count, 10);
	for (size_t i = 0; i < set.proposed; i++) {
		CHECK_STR(terms_id(set.items[i].offer_id), ranked[i]);
		CHECK_INT(set.items[i].rank, (int)i + 1);
		CHECK(!set.items[i].cut);
	}
	/* a 70% co-pay breaks even: goods 40 + shipping 30 - co-pay 70 */
	p = find_terms(&set, "reshipment-7000");
	CHECK(p);
	CHECK_INT(p->terms.type, RD_OFFER_RESHIPMENT);
	CHECK_INT(p->terms.buyer_copay, 7000);
	CHECK_INT(p->terms.buyer_refund, 0);
	CHECK_INT(p->terms.seller_cost, 0);
	CHECK_INT(p->line_count, 3);
	CHECK_STR(p->lines[0].label, "goods cost of the replacement");
	CHECK_INT(p->lines[0].amount, 4000);
	CHECK_STR(p->lines[1].label, "shipping the replacement");
	CHECK_INT(p->lines[1].amount, 3000);
	CHECK_STR(p->lines[2].label, "buyer's co-pay");
	CHECK_INT(p->lines[2].amount, -7000);
	CHECK_STR(p->explanation,
		  "Send a replacement; the buyer pays 70.00 USD towards it "
		  "(70% of the price). It costs the seller 0.00 USD: goods "
		  "40.00 + shipping 30.00 - co-pay 70.00.");
	/* the full refund: price plus shipping paid */
	p = find_terms(&set, "refund_keep_item-11500");
	CHECK(p);
	CHECK_INT(p->terms.buyer_refund, 11500);
	CHECK_INT(p->terms.seller_cost, 11500);
	CHECK_INT(lines_sum(p), 11500);
	CHECK_HAS(p->explanation, "price 100.00 + shipping 15.00");
	/* a refund after return costs more and gives the buyer less: cut */
	p = find_terms(&set, "refund_with_return-11500");
	CHECK(p);
	CHECK(p->cut);
	CHECK_INT(p->rank, 0);
	CHECK_INT(p->terms.seller_cost, 14000);
	CHECK_INT(lines_sum(p), 14000);
	CHECK_HAS(p->cut_reason, "a full refund keeping the item costs the "
				 "seller 115.00 USD, less than this refund at "
				 "140.00 USD");
	/* ties on cost: type order puts the discount first */
	p = find_terms(&set, "partial_discount-2000");
	CHECK(p);
	CHECK_INT(p->rank, 3);
	CHECK_HAS(p->explanation, "(20% of the price)");
	CHECK(find_terms(&set, "reshipment-1") == NULL);
	CHECK(rd_proposals_find(&set, NULL) == NULL);
	CHECK(rd_proposals_find(NULL, "reshipment-0") == NULL);
}

/* ---- eligibility by reason and figures -------------------------------- */

static void test_not_received(void)
{
	struct case_figures c = worked;
	static rd_proposals set;
	rd_dispute *d;
	rd_error err = { 0 };

	c.reason = "not_received";
	d = make_dispute(&c, 1);
	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	CHECK_INT(count_type(&set, RD_OFFER_PARTIAL_DISCOUNT, 0), 0);
	CHECK_INT(count_type(&set, RD_OFFER_REFUND_WITH_RETURN, 0), 0);
	/* the free replacement only, then the full refund */
	CHECK_INT(set.count, 2);
	CHECK_INT(set.proposed, 2);
	CHECK_STR(terms_id(set.items[0].offer_id), "reshipment-0");
	CHECK_INT(set.items[0].terms.buyer_copay, 0);
	CHECK_INT(set.items[0].terms.seller_cost, 7000);
	CHECK_INT(set.items[0].line_count, 2);
	CHECK_HAS(set.items[0].explanation, "at no charge to the buyer");
	CHECK_STR(terms_id(set.items[1].offer_id), "refund_keep_item-11500");
}

static void test_wrong_item_has_no_copay(void)
{
	struct case_figures c = worked;
	static rd_proposals set;
	rd_dispute *d;
	rd_error err = { 0 };

	c.reason = "wrong_item";
	d = make_dispute(&c, 1);
	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	CHECK_INT(count_type(&set, RD_OFFER_RESHIPMENT, 0), 1);
	for (size_t i = 0; i < set.count; i++)
		CHECK_INT(set.items[i].terms.buyer_copay, 0);
	/* salvage 80% of 40.00 = 32.00 comes off the refund after return */
	CHECK(find_terms(&set, "refund_with_return-11500"));
	CHECK_INT(find_terms(&set, "refund_with_return-11500")
			  ->terms.seller_cost,
		  11500 + 2500 - 3200);
}

static void test_return_cost_share(void)
{
	struct case_figures c = worked;
	static rd_proposals set;
	const rd_proposal *p;
	rd_dispute *d;
	rd_error err = { 0 };

	/* 30.01 > 30% of 100.00: no return asked, the refund stays */
	c.return_cost = 3001;
	d = make_dispute(&c, 2);
	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	p = find_terms(&set, "refund_with_return-11500");
	CHECK(p);
	CHECK(p->cut);
	CHECK_HAS(p->cut_reason, "return shipping (30.01 USD) is more than "
				 "30% of the price (30.00 USD)");
	p = find_terms(&set, "refund_keep_item-11500");
	CHECK(p && !p->cut);
	/* exactly 30%: eligible, and only cut as dearer than the refund */
	c.return_cost = 3000;
	d = make_dispute(&c, 2);
	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	p = find_terms(&set, "refund_with_return-11500");
	CHECK(p && p->cut);
	CHECK_HAS(p->cut_reason, "a full refund keeping the item");
}

/* The buyer pays the label: deducted from the refund, no share limit. */
static void test_changed_mind(void)
{
	struct case_figures c = worked;
	static rd_proposals set;
	const rd_proposal *p;
	rd_dispute *d;
	rd_error err = { 0 };

	c.reason = "changed_mind";
	c.return_cost = 6000;
	d = make_dispute(&c, 4);
	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	CHECK_INT(set.count, 1);
	CHECK_INT(set.proposed, 1);
	p = &set.items[0];
	CHECK_STR(terms_id(p->offer_id), "refund_with_return-5500");
	/* refund 115 - label 60; cost = refund - 90% of goods 40 */
	CHECK_INT(p->terms.buyer_refund, 5500);
	CHECK_INT(p->terms.seller_cost, 5500 - 3600);
	CHECK_INT(lines_sum(p), p->terms.seller_cost);
	CHECK_HAS(p->explanation, "the buyer pays");
}

/* Missing cost figures: the offers that need them are cut, saying why. */
static void test_unknown_costs(void)
{
	struct case_figures c = worked;
	static rd_proposals set;
	const rd_proposal *p;
	rd_dispute *d;
	rd_error err = { 0 };

	c.unit_cost = RD_AMOUNT_UNSET;
	c.return_cost = RD_AMOUNT_UNSET;
	d = make_dispute(&c, 1);
	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	CHECK_INT(count_type(&set, RD_OFFER_RESHIPMENT, 1), 0);
	CHECK_INT(count_type(&set, RD_OFFER_RESHIPMENT, 0), 4);
	p = find_terms(&set, "reshipment-7000");
	CHECK(p && p->cut);
	CHECK_INT(p->terms.seller_cost, RD_AMOUNT_UNSET);
	CHECK(strncmp(p->cut_reason, "goods cost unknown", 18) == 0);
	p = find_terms(&set, "refund_with_return-11500");
	CHECK(p && p->cut);
	CHECK(strncmp(p->cut_reason, "return cost unknown", 19) == 0);
	/* discounts and the full refund need no cost figure */
	CHECK_INT(set.proposed, 5);
	c = worked;
	c.ship_cost = RD_AMOUNT_UNSET;
	d = make_dispute(&c, 1);
	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	p = find_terms(&set, "reshipment-0");
	CHECK(p && p->cut);
	CHECK(strncmp(p->cut_reason, "shipping cost unknown", 21) == 0);
}

/* ---- rounding per currency --------------------------------------------- */

static void test_jpy_rounding(void)
{
	static const int64_t discounts[] = { 1230, 2470, 3700, 6170 };
	static const int64_t copays[] = { 8640, 6170, 3700, 0 };
	struct case_figures c = { "JPY", "damaged", 12345, 8000, 1, 0, 2000,
				  RD_AMOUNT_UNSET };
	static rd_proposals set;
	rd_dispute *d = make_dispute(&c, 1);
	char id[48];
	const rd_proposal *p;
	rd_error err = { 0 };

	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	/* 10% of 12345 is 1234.5: rounded once to 1230, not 1235 then 1240 */
	for (size_t i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "partial_discount-%" PRId64,
			 discounts[i]);
		CHECK(find_terms(&set, id));
		snprintf(id, sizeof(id), "reshipment-%" PRId64, copays[i]);
		CHECK(find_terms(&set, id));
	}
	for (size_t i = 0; i < set.count; i++) {
		CHECK_INT(set.items[i].terms.buyer_copay % 10, 0);
		if (set.items[i].terms.type == RD_OFFER_PARTIAL_DISCOUNT)
			CHECK_INT(set.items[i].terms.buyer_refund % 10, 0);
	}
	p = find_terms(&set, "partial_discount-1230");
	CHECK_HAS(p->explanation, "Refund 1230 JPY as a discount");
}

static void test_kwd_rounding(void)
{
	static const int64_t discounts[] = { 1250, 2450, 3700, 6150 };
	struct case_figures c = { "KWD", "defective", 12345, 8000, 1, 500,
				  2000, 1000 };
	static rd_proposals set;
	rd_dispute *d = make_dispute(&c, 1);
	char id[48];
	const rd_proposal *p;
	rd_error err = { 0 };

	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	for (size_t i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "partial_discount-%" PRId64,
			 discounts[i]);
		CHECK(find_terms(&set, id));
	}
	/* co-pay 70% of 12.345 = 8.6415 KWD: 8.650 in steps of 50 fils */
	p = find_terms(&set, "reshipment-8650");
	CHECK(p);
	CHECK_HAS(p->explanation, "the buyer pays 8.650 KWD towards it");
	for (size_t i = 0; i < set.count; i++) {
		CHECK_INT(set.items[i].terms.buyer_copay % 50, 0);
		if (set.items[i].terms.type == RD_OFFER_PARTIAL_DISCOUNT)
			CHECK_INT(set.items[i].terms.buyer_refund % 50, 0);
	}
	/* the full refund keeps every fils: 12.345 + 0.500 */
	CHECK(find_terms(&set, "refund_keep_item-12845"));
}

/* ---- dominance and ranking -------------------------------------------- */

static void test_free_replacement_cuts_discounts(void)
{
	static const char *const ranked[] = {
		"reshipment-1500", "partial_discount-1000",
		"reshipment-0", "refund_keep_item-10000",
	};
	struct case_figures c = { "USD", "damaged", 10000, 1000, 1, 0, 500,
				  RD_AMOUNT_UNSET };
	static rd_proposals set;
	const rd_proposal *p;
	rd_dispute *d = make_dispute(&c, 5);
	rd_error err = { 0 };

	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	CHECK_INT(set.proposed, 4);
	for (size_t i = 0; i < set.proposed; i++) {
		CHECK_STR(terms_id(set.items[i].offer_id), ranked[i]);
		if (i > 0)
			CHECK(set.items[i - 1].terms.seller_cost <=
			      set.items[i].terms.seller_cost);
	}
	/*
	 * 70%, 50% and 30% co-pays are all above the replacement's cost of
	 * 15.00: each is capped there, so they are one offer, costing 0
	 */
	CHECK_INT(count_type(&set, RD_OFFER_RESHIPMENT, 0), 2);
	CHECK_INT(set.items[0].terms.seller_cost, 0);
	CHECK_HAS(set.items[0].explanation,
		  "capped at what the replacement costs");
	p = find_terms(&set, "partial_discount-2000");
	CHECK(p && p->cut);
	CHECK_STR(p->cut_reason,
		  "a free replacement costs the seller 15.00 USD, less than "
		  "this discount at 20.00 USD, and gives the buyer at least "
		  "as much");
	CHECK(find_terms(&set, "partial_discount-3000")->cut);
	CHECK(find_terms(&set, "partial_discount-5000")->cut);
	/* 10.00 is below the free replacement's 15.00: kept */
	CHECK(!find_terms(&set, "partial_discount-1000")->cut);
	/* cut offers follow the proposed ones, unranked */
	for (size_t i = set.proposed; i < set.count; i++) {
		CHECK(set.items[i].cut);
		CHECK_INT(set.items[i].rank, 0);
		CHECK(set.items[i].cut_reason[0] != '\0');
	}
}

/* A replacement dearer than the full refund is cut by it. */
static void test_refund_cuts_dear_replacement(void)
{
	struct case_figures c = { "USD", "not_received", 5000, 4000, 1, 500,
				  3000, RD_AMOUNT_UNSET };
	static rd_proposals set;
	const rd_proposal *p;
	rd_dispute *d = make_dispute(&c, 1);
	rd_error err = { 0 };

	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	CHECK_INT(set.proposed, 1);
	CHECK_STR(terms_id(set.items[0].offer_id), "refund_keep_item-5500");
	p = find_terms(&set, "reshipment-0");
	CHECK(p && p->cut);
	CHECK_HAS(p->cut_reason, "a full refund keeping the item costs the "
				 "seller 55.00 USD, less than this replacement "
				 "at 70.00 USD");
}

/* Without a refund keeping the item, the refund after return is the ceiling. */
static void test_full_refund_ceiling(void)
{
	struct case_figures c = { "USD", "late_delivery", 10000, 9000, 1, 0,
				  1000, 500 };
	static rd_proposals set;
	const rd_proposal *p;
	rd_dispute *d = make_dispute(&c, 1);
	rd_error err = { 0 };

	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	/* refund 100 + label 5 - 90% of 90 = 24.00 */
	p = find_terms(&set, "refund_with_return-10000");
	CHECK(p && !p->cut);
	CHECK_INT(p->terms.seller_cost, 2400);
	CHECK(!find_terms(&set, "partial_discount-2000")->cut);
	p = find_terms(&set, "partial_discount-3000");
	CHECK(p && p->cut);
	CHECK_HAS(p->cut_reason, "more than a refund of 100.00 USD after "
				 "return (24.00 USD)");
	CHECK_INT(set.proposed, 3);
}

/* A discount cap: rungs above it are cut, not proposed. */
static void test_discount_cap(void)
{
	static const char *const head =
		"{\"name\": \"capped\", \"version\": 1, \"discount_ladder\": "
		"[\"0.10\", \"0.25\", \"0.40\"], \"copay_ladder\": [\"0\"], "
		"\"caps\": {\"max_discount_share\": \"0.25\"}, \"reasons\": {";
	char text[2048];
	rd_policy *shipped = policy, *capped = NULL;
	struct case_figures c = worked;
	static rd_proposals set;
	const rd_proposal *p;
	rd_dispute *d;
	rd_error err = { 0 };
	size_t used;

	used = (size_t)snprintf(text, sizeof(text), "%s", head);
	for (int r = 0; r < RD_REASON_COUNT; r++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
			"%s\"%s\": {\"offers\": [\"%s\"]}", r ? ", " : "",
			rd_reason_name((rd_reason)r),
			r == RD_REASON_NOT_RECEIVED ? "refund_keep_item"
						    : "partial_discount");
	used += (size_t)snprintf(text + used, sizeof(text) - used, "}}");
	CHECK(used < sizeof(text));
	CHECK_OK(rd_policy_parse(&capped, text, used, "capped.json", &err),
		 &err);
	c.reason = "other";
	d = make_dispute(&c, 1);
	policy = capped;
	if (d && propose(&set, d, NULL, 0, &err) < 0)
		set.count = 0;
	policy = shipped;
	rd_dispute_free(d);
	rd_policy_free(capped);
	CHECK_INT(set.count, 3);
	CHECK_INT(set.proposed, 2);
	p = find_terms(&set, "partial_discount-4000");
	CHECK(p && p->cut);
	CHECK_HAS(p->cut_reason, "cap on discounts (25.00 USD)");
	CHECK(!find_terms(&set, "partial_discount-2500")->cut);
}

/* ---- declined offers ----------------------------------------------------- */

static void test_declined_not_proposed_again(void)
{
	rd_offer_terms declined[3] = {
		{ RD_OFFER_RESHIPMENT, 0, 7000, 0 },
		{ RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 1000 },
		/* the same type with another amount declines nothing */
		{ RD_OFFER_PARTIAL_DISCOUNT, 1500, 0, 1500 },
	};
	static rd_proposals set;
	const rd_proposal *p;
	rd_dispute *d = make_dispute(&worked, 3);
	rd_error err = { 0 };

	CHECK(d);
	CHECK_OK(propose(&set, d, declined, 3, &err), &err);
	CHECK_INT(set.proposed, 7);
	CHECK_STR(terms_id(set.items[0].offer_id), "partial_discount-2000");
	p = find_terms(&set, "reshipment-7000");
	CHECK(p && p->cut && p->rank == 0);
	CHECK_STR(p->cut_reason, "the buyer already declined it");
	p = find_terms(&set, "partial_discount-1000");
	CHECK(p && p->cut);
	CHECK_STR(p->cut_reason, "the buyer already declined it");
	/* a declined full refund no longer rules out the refund after return */
	declined[0].type = RD_OFFER_REFUND_KEEP_ITEM;
	declined[0].buyer_refund = 11500;
	declined[0].buyer_copay = 0;
	CHECK_OK(propose(&set, d, declined, 1, &err), &err);
	rd_dispute_free(d);
	CHECK(find_terms(&set, "refund_keep_item-11500")->cut);
	p = find_terms(&set, "refund_with_return-11500");
	CHECK(p && !p->cut);
	CHECK_INT(p->rank, (int)set.proposed);
}

/* ---- counter-offers ------------------------------------------------------ */

static int counter(rd_counter_verdict *verdict, rd_offer_terms *terms,
		   rd_proposal *next, const rd_dispute *d,
		   const rd_offer_terms *declined, size_t declined_count,
		   rd_offer_type type, int64_t refund, int64_t copay,
		   int64_t amount, rd_error *err)
{
	rd_offer_inputs in = { 0 };
	rd_offer_terms pending = { type, refund, copay, 0 };

	in.dispute = d;
	in.declined = declined;
	in.declined_count = declined_count;
	return rd_offer_counter(verdict, terms, next, policy, &in, &pending,
				amount, err);
}

static void test_counter_discount_ladder(void)
{
	rd_dispute *d = make_dispute(&worked, 3);
	rd_offer_terms declined = { RD_OFFER_PARTIAL_DISCOUNT, 2000, 0, 2000 };
	rd_counter_verdict verdict;
	rd_offer_terms terms;
	static rd_proposal next;
	rd_error err = { 0 };

	CHECK(d);
	/* pending 10.00; the next rung is 20.00 */
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 1500, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_INT(terms.type, RD_OFFER_PARTIAL_DISCOUNT);
	CHECK_INT(terms.buyer_refund, 1500);
	CHECK_INT(terms.seller_cost, 1500);
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 2000, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 2001, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_PROPOSE_NEXT);
	CHECK_STR(terms_id(next.offer_id), "partial_discount-2000");
	CHECK_INT(next.terms.buyer_refund, 2000);
	CHECK_INT(terms.seller_cost, 2001);
	/* asking less than the pending offer: agreed at once */
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 800, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_STR(terms_id(next.offer_id), "");
	/* above the top rung: an agent decides */
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_PARTIAL_DISCOUNT, 5000, 0, 6000, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_HOLD);
	/* a declined rung is skipped: the next one is 30.00 */
	CHECK_OK(counter(&verdict, &terms, &next, d, &declined, 1,
			 RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 2500, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_OK(counter(&verdict, &terms, &next, d, &declined, 1,
			 RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 3500, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_PROPOSE_NEXT);
	CHECK_STR(terms_id(next.offer_id), "partial_discount-3000");
	rd_dispute_free(d);
}

static void test_counter_copay_ladder(void)
{
	rd_dispute *d = make_dispute(&worked, 3);
	rd_counter_verdict verdict;
	rd_offer_terms terms;
	static rd_proposal next;
	rd_error err = { 0 };

	CHECK(d);
	/* pending co-pay 70.00; the next rung is 50.00 (cost 20.00) */
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_RESHIPMENT, 0, 7000, 6000, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_INT(terms.buyer_copay, 6000);
	CHECK_INT(terms.seller_cost, 1000);
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_RESHIPMENT, 0, 7000, 4000, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_PROPOSE_NEXT);
	CHECK_INT(terms.seller_cost, 3000);
	CHECK_STR(terms_id(next.offer_id), "reshipment-5000");
	CHECK_INT(next.terms.seller_cost, 2000);
	/* offering to pay more than asked */
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_RESHIPMENT, 0, 5000, 6000, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_INT(terms.buyer_copay, 6000);
	/*
	 * More than the replacement costs (70.00): taken at 70.00, so the
	 * seller never profits, and 70.01 never costs -1 (read as unknown).
	 * Found by tests/fuzz/fuzz_policy.c.
	 */
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_RESHIPMENT, 0, 7000, 8000, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_INT(terms.buyer_copay, 7000);
	CHECK_INT(terms.seller_cost, 0);
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_RESHIPMENT, 0, 3000, 7001, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_INT(terms.buyer_copay, 7000);
	CHECK_INT(terms.seller_cost, 0);
	/* from the 30.00 rung, a free replacement is the last rung */
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_RESHIPMENT, 0, 3000, 0, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	/* from the free replacement nothing is more generous */
	CHECK_OK(counter(&verdict, &terms, &next, d, NULL, 0,
			 RD_OFFER_RESHIPMENT, 0, 0, 0, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	rd_dispute_free(d);
}

/* A refund asked above the full refund: no rung is left. */
static void test_counter_refund_hold(void)
{
	rd_dispute *d = make_dispute(&worked, 3);
	rd_counter_verdict verdict;
	rd_offer_terms terms;
	rd_error err = { 0 };

	CHECK(d);
	CHECK_OK(counter(&verdict, &terms, NULL, d, NULL, 0,
			 RD_OFFER_REFUND_WITH_RETURN, 9000, 0, 11500, &err),
		 &err);
	/* the only refund after return is cut as dearer: no rung */
	CHECK_INT(verdict, RD_COUNTER_HOLD);
	CHECK_INT(terms.seller_cost, 11500 + 2500);
	rd_dispute_free(d);
}

static void test_counter_amount_validation(void)
{
	rd_dispute *d = make_dispute(&worked, 3);
	rd_counter_verdict verdict;
	rd_offer_terms terms;
	rd_error err = { 0 };

	CHECK(d);
	CHECK_FAILS(counter(&verdict, &terms, NULL, d, NULL, 0,
			    RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, -1, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "amount");
	CHECK_FAILS(counter(&verdict, &terms, NULL, d, NULL, 0,
			    RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 11501, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "amount");
	CHECK_HAS(err.message, "115.00 USD");
	CHECK_OK(counter(&verdict, &terms, NULL, d, NULL, 0,
			 RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 11500, &err),
		 &err);
	CHECK_FAILS(counter(&verdict, &terms, NULL, d, NULL, 0,
			    RD_OFFER_RESHIPMENT, 0, 7000, 10001, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "amount");
	CHECK_HAS(err.message, "100.00 USD");
	CHECK_OK(counter(&verdict, &terms, NULL, d, NULL, 0,
			 RD_OFFER_RESHIPMENT, 0, 7000, 10000, &err), &err);
	CHECK_INT(verdict, RD_COUNTER_ACCEPT);
	CHECK_FAILS(counter(&verdict, &terms, NULL, d, NULL, 0,
			    (rd_offer_type)9, 0, 0, 10, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_offer_counter(&verdict, &terms, NULL, policy, NULL,
				     &terms, 10, &err),
		    RD_EINTERNAL);
	rd_dispute_free(d);
}

/* ---- errors and JSON ------------------------------------------------------ */

static void test_propose_refusals(void)
{
	static rd_proposals set;
	rd_offer_inputs in = { 0 };
	rd_dispute *d = make_dispute(&worked, 1);
	rd_error err = { 0 };

	CHECK(d);
	in.dispute = d;
	CHECK_FAILS(rd_offer_propose(&set, NULL, &in, &err), RD_EINTERNAL);
	CHECK_FAILS(rd_offer_propose(NULL, policy, &in, &err), RD_EINTERNAL);
	CHECK_FAILS(rd_offer_propose(&set, policy, NULL, &err), RD_EINTERNAL);
	in.declined_count = 2;
	CHECK_FAILS(rd_offer_propose(&set, policy, &in, &err), RD_EINTERNAL);
	CHECK_INT(set.count, 0);
	in.declined_count = 0;
	memcpy(d->currency, "ZZZ", 4);
	CHECK_FAILS(rd_offer_propose(&set, policy, &in, &err), RD_EINVALID);
	CHECK_HAS(err.message, "ZZZ");
	rd_dispute_free(d);
}

static void test_proposal_json(void)
{
	static rd_proposals set;
	struct case_figures c = worked;
	rd_dispute *d;
	json_t *doc, *breakdown;
	rd_error err = { 0 };

	c.unit_cost = RD_AMOUNT_UNSET;
	d = make_dispute(&c, 3);
	CHECK(d);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	rd_dispute_free(d);
	doc = rd_proposal_to_json(&set.items[0]);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "offer_id")),
		  set.items[0].offer_id);
	CHECK_STR(json_string_value(json_object_get(doc, "type")),
		  "partial_discount");
	CHECK_INT(json_integer_value(json_object_get(doc, "seller_cost")), 1000);
	CHECK_INT(json_integer_value(json_object_get(doc, "rank")), 1);
	CHECK(json_is_false(json_object_get(doc, "cut")));
	CHECK(json_is_null(json_object_get(doc, "cut_reason")));
	breakdown = json_object_get(doc, "breakdown");
	CHECK_INT(json_array_size(breakdown), 1);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(breakdown, 0),
						     "amount")),
		  1000);
	CHECK_INT(json_object_size(doc), 10);
	json_decref(doc);
	/* a replacement that cannot be costed: seller_cost null */
	doc = rd_proposal_to_json(find_terms(&set, "reshipment-0"));
	CHECK(doc);
	CHECK(json_is_null(json_object_get(doc, "seller_cost")));
	CHECK(json_is_true(json_object_get(doc, "cut")));
	CHECK_HAS(json_string_value(json_object_get(doc, "cut_reason")),
		  "goods cost unknown");
	json_decref(doc);
	CHECK(rd_proposal_to_json(NULL) == NULL);
}

/* ---- properties over generated disputes ------------------------------- */

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* uniform enough in [low, high] */
static int64_t between(int64_t low, int64_t high)
{
	return low + (int64_t)(xorshift() % (uint64_t)(high - low + 1));
}

/* The buyer relation is a preorder: reflexive and transitive. */
static void test_buyer_relation_is_preorder(void)
{
	static const rd_offer_type types[] = {
		RD_OFFER_PARTIAL_DISCOUNT, RD_OFFER_RESHIPMENT,
		RD_OFFER_REFUND_KEEP_ITEM, RD_OFFER_REFUND_WITH_RETURN,
	};
	size_t failures = 0;

	for (int round = 0; round < 200000; round++) {
		int64_t full = between(1, 6);
		rd_offer_terms t[3];

		for (int i = 0; i < 3; i++) {
			memset(&t[i], 0, sizeof(t[i]));
			t[i].type = types[between(0, 3)];
			if (t[i].type == RD_OFFER_RESHIPMENT)
				t[i].buyer_copay = between(0, 3);
			else if (t[i].type == RD_OFFER_REFUND_KEEP_ITEM)
				t[i].buyer_refund = full;
			else
				t[i].buyer_refund = between(0, full);
		}
		failures += !of_buyer_at_least(&t[0], &t[0], full);
		if (of_buyer_at_least(&t[0], &t[1], full) &&
		    of_buyer_at_least(&t[1], &t[2], full) &&
		    !of_buyer_at_least(&t[0], &t[2], full))
			failures++;
	}
	CHECK_INT(failures, 0);
}

struct generated {
	struct case_figures c;
	int64_t price;
	int64_t full;
	int64_t version;
	char doc[1024];
};

static void generate(struct generated *g)
{
	static const char *const currencies[] = { "USD", "EUR", "JPY", "KWD",
						  "CLF" };
	static const int64_t scale[] = { 100, 100, 1, 1000, 10000 };
	int cur = (int)between(0, 4);
	int64_t unit = scale[cur];
	int items = (int)between(1, 3), used;
	int64_t price = 0, goods = 0;
	int goods_known = 1;

	g->c.currency = currencies[cur];
	g->c.reason = rd_reason_name((rd_reason)between(0, RD_REASON_COUNT - 1));
	g->version = between(1, 40);
	used = snprintf(g->doc, sizeof(g->doc),
			"{\"order_ref\": \"O\", \"storefront\": \"s\", "
			"\"buyer_ref\": \"b\", \"currency\": \"%s\", "
			"\"reason\": \"%s\", \"channel\": \"web\", \"items\": [",
			g->c.currency, g->c.reason);
	for (int i = 0; i < items; i++) {
		int64_t quantity = between(1, 3);
		int64_t unit_price = between(0, 400) * unit + between(0, unit - 1);
		int64_t unit_cost = between(0, 300) * unit + between(0, unit - 1);
		int cost_known = between(0, 9) > 0;

		price += quantity * unit_price;
		goods += quantity * unit_cost;
		goods_known &= cost_known;
		used += snprintf(g->doc + used, sizeof(g->doc) - (size_t)used,
				 "%s{\"sku\": \"k%d\", \"title\": \"t\", "
				 "\"quantity\": %" PRId64 ", \"unit_price\": "
				 "%" PRId64 "%s%" PRId64 "}",
				 i ? ", " : "", i, quantity, unit_price,
				 cost_known ? ", \"unit_cost\": " : ", \"x\": ",
				 unit_cost);
		if (!cost_known) {
			/* drop the placeholder member again */
			char *x = strstr(g->doc, ", \"x\": ");

			used = (int)(x - g->doc);
			used += snprintf(x, sizeof(g->doc) - (size_t)used, "}");
		}
	}
	g->c.shipping_paid = between(0, 40) * unit;
	g->c.ship_cost = between(0, 6) ? between(0, 80) * unit + between(0, unit - 1)
				       : RD_AMOUNT_UNSET;
	g->c.return_cost = between(0, 4) ? between(0, 120) * unit
					 : RD_AMOUNT_UNSET;
	used += snprintf(g->doc + used, sizeof(g->doc) - (size_t)used,
			 "], \"shipping_paid\": %" PRId64, g->c.shipping_paid);
	if (g->c.ship_cost != RD_AMOUNT_UNSET)
		used += snprintf(g->doc + used, sizeof(g->doc) - (size_t)used,
				 ", \"ship_cost\": %" PRId64, g->c.ship_cost);
	if (g->c.return_cost != RD_AMOUNT_UNSET)
		used += snprintf(g->doc + used, sizeof(g->doc) - (size_t)used,
				 ", \"return_cost\": %" PRId64,
				 g->c.return_cost);
	snprintf(g->doc + used, sizeof(g->doc) - (size_t)used, "}");
	g->price = price;
	g->full = price + g->c.shipping_paid;
	g->c.unit_cost = goods_known ? goods : RD_AMOUNT_UNSET;
}

/* Every property of one answer; returns a description of the first failure. */
static const char *check_answer(const rd_proposals *set,
				const struct generated *g, int64_t step)
{
	const struct of_reason_rule *rule;
	rd_reason reason;
	int64_t ceiling = INT64_MIN;
	char prefix[24];

	if (rd_reason_parse(&reason, g->c.reason, NULL) < 0)
		return "reason";
	rule = &policy->reasons[reason];
	snprintf(prefix, sizeof(prefix), "o-");
	if (set->count > RD_OFFER_MAX_PROPOSALS || set->proposed > set->count)
		return "counts";
	for (size_t i = 0; i < set->count; i++) {
		const rd_proposal *p = &set->items[i];
		const rd_offer_terms *t = &p->terms;

		if (t->buyer_refund < 0 || t->buyer_copay < 0)
			return "negative buyer amount";
		if (t->seller_cost < 0 && t->seller_cost != RD_AMOUNT_UNSET)
			return "negative seller cost";
		if (!(rule->offers & (1u << t->type)))
			return "offer type the reason does not allow";
		if (t->type == RD_OFFER_RESHIPMENT && t->buyer_copay > 0 &&
		    !rule->copay)
			return "co-pay the reason does not allow";
		if (t->buyer_copay % step || t->buyer_copay > g->price)
			return "co-pay off the step or above the price";
		if (t->type == RD_OFFER_PARTIAL_DISCOUNT &&
		    (t->buyer_refund % step || t->buyer_refund <= 0))
			return "discount off the step";
		if (t->type == RD_OFFER_REFUND_KEEP_ITEM &&
		    t->buyer_refund != g->full)
			return "refund_keep_item is not the full refund";
		if (t->type == RD_OFFER_REFUND_WITH_RETURN &&
		    t->buyer_refund != g->full &&
		    t->buyer_refund != g->full - g->c.return_cost &&
		    !(t->buyer_refund == 0 && p->cut &&
		      g->c.return_cost >= g->full))
			return "refund_with_return refund";
		if (strncmp(p->offer_id, prefix, strlen(prefix)) != 0 ||
		    strncmp(p->offer_id, set->items[0].offer_id, 11) != 0)
			return "offer id prefix";
		for (size_t j = 0; j < i; j++)
			if (strcmp(set->items[j].offer_id, p->offer_id) == 0)
				return "offer id twice";
		if (t->seller_cost != RD_AMOUNT_UNSET &&
		    lines_sum(p) != t->seller_cost)
			return "breakdown does not add up to the seller cost";
		if (!p->explanation[0])
			return "no explanation";
		if (i < set->proposed) {
			if (p->cut || p->rank != (int)i + 1)
				return "proposed offer cut or misranked";
			if (t->seller_cost == RD_AMOUNT_UNSET)
				return "proposed offer without a cost";
			if (i > 0 &&
			    set->items[i - 1].terms.seller_cost > t->seller_cost)
				return "ranking not by seller cost";
			if (t->type == RD_OFFER_PARTIAL_DISCOUNT &&
			    t->buyer_refund > g->price)
				return "discount above the price";
			if ((t->type == RD_OFFER_REFUND_KEEP_ITEM ||
			     t->type == RD_OFFER_REFUND_WITH_RETURN) &&
			    t->seller_cost > ceiling)
				ceiling = t->seller_cost;
		} else if (!p->cut || p->rank != 0 || !p->cut_reason[0]) {
			return "cut offer ranked or without a reason";
		}
	}
	for (size_t a = 0; a < set->proposed; a++) {
		const rd_offer_terms *x = &set->items[a].terms;

		if (ceiling != INT64_MIN && x->seller_cost > ceiling)
			return "an offer costs more than the full refunds";
		for (size_t b = 0; b < set->proposed; b++) {
			const rd_offer_terms *y = &set->items[b].terms;

			if (a == b || !of_buyer_at_least(y, x, g->full))
				continue;
			if (y->seller_cost < x->seller_cost ||
			    (y->seller_cost == x->seller_cost &&
			     !of_buyer_at_least(x, y, g->full)))
				return "a proposed offer is dominated";
		}
	}
	return NULL;
}

static void test_properties(void)
{
	static rd_proposals first, second;
	static struct generated g;
	size_t failures = 0, proposed_total = 0, cut_total = 0;
	int seen_reasons = 0;

	for (int n = 0; n < 6000; n++) {
		rd_dispute *d = NULL;
		rd_error err = { 0 };
		const char *problem;
		rd_offer_inputs in = { 0 };
		rd_reason reason;

		generate(&g);
		if (rd_dispute_parse(&d, g.doc, strlen(g.doc), &err) < 0) {
			rd_test_fail(__FILE__, __LINE__, "%s: %s", g.doc,
				     err.message);
			return;
		}
		d->version = g.version;
		in.dispute = d;
		memset(&second, 0xa5, sizeof(second));
		if (rd_offer_propose(&first, policy, &in, &err) < 0 ||
		    rd_offer_propose(&second, policy, &in, &err) < 0) {
			rd_test_fail(__FILE__, __LINE__, "%s: %s", g.doc,
				     err.message);
			rd_dispute_free(d);
			return;
		}
		problem = check_answer(&first, &g,
				       of_policy_step(policy,
						      rd_currency_find(d->currency)));
		/*
		 * Byte for byte is the point: rd_offer_propose zeroes its
		 * answer and moves items with memcpy, so padding is equal too.
		 */
		/* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison,cert-exp42-c,cert-flp37-c) */
		if (!problem && memcmp(&first, &second, sizeof(first)) != 0)
			problem = "two runs differ";
		if (problem && failures++ < 5)
			rd_test_fail(__FILE__, __LINE__, "%s: %s", problem,
				     g.doc);
		rd_reason_parse(&reason, g.c.reason, NULL);
		seen_reasons |= 1 << reason;
		proposed_total += first.proposed;
		cut_total += first.count - first.proposed;
		rd_dispute_free(d);
	}
	CHECK_INT(failures, 0);
	/* the generator reaches every reason, and both outcomes */
	CHECK_INT(seen_reasons, (1 << RD_REASON_COUNT) - 1);
	CHECK(proposed_total > 6000);
	CHECK(cut_total > 1000);
}

/* The digest part of a proposal set's ids (all share it), "o-xxxxxxxx-". */
static void ids_digest(char out[12], const rd_proposals *set)
{
	memcpy(out, set->items[0].offer_id, 11);
	out[11] = '\0';
}

/*
 * Offer ids are "o-<8 hex>-<type>-<amount>": the terms and a digest of the
 * inputs they come from. The dispute's version is not one of them (an
 * evidence upload does not change an offer), its figures, reason and
 * offers made so far are; ids of the earlier "v<version>-" form are found
 * for the current version only.
 */
static void test_offer_ids(void)
{
	static rd_proposals set, other;
	struct case_figures dearer = worked;
	rd_offer_inputs in = { 0 };
	char first[12], second[12];
	rd_dispute *d = make_dispute(&worked, 3);
	rd_dispute *later = make_dispute(&worked, 9);
	rd_dispute *changed;
	rd_error err = { 0 };

	CHECK(d && later);
	CHECK_OK(propose(&set, d, NULL, 0, &err), &err);
	ids_digest(first, &set);
	CHECK(strncmp(first, "o-", 2) == 0 && first[10] == '-');
	for (size_t i = 2; i < 10; i++)
		CHECK(hex_digit(first[i]));
	CHECK_STR(set.items[0].offer_id + 11, "reshipment-7000");
	for (size_t i = 0; i < set.count; i++)
		CHECK(strncmp(set.items[i].offer_id, first, 11) == 0);

	/* a later version with the same figures: the same ids */
	CHECK_OK(propose(&other, later, NULL, 0, &err), &err);
	ids_digest(second, &other);
	CHECK_STR(second, first);
	CHECK_STR(other.items[0].offer_id, set.items[0].offer_id);

	/* declined offers cut an offer without changing its id */
	{
		rd_offer_terms declined = set.items[0].terms;

		CHECK_OK(propose(&other, later, &declined, 1, &err), &err);
		ids_digest(second, &other);
		CHECK_STR(second, first);
	}

	/* another offer made on the dispute: new ids */
	in.dispute = later;
	in.offers_made = 1;
	CHECK_OK(rd_offer_propose(&other, policy, &in, &err), &err);
	ids_digest(second, &other);
	CHECK(strcmp(second, first) != 0);

	/* other figures: new ids, even for terms that stay the same */
	dearer.shipping_paid = 1600;
	changed = make_dispute(&dearer, 3);
	CHECK(changed);
	CHECK_OK(propose(&other, changed, NULL, 0, &err), &err);
	ids_digest(second, &other);
	CHECK(strcmp(second, first) != 0);
	rd_dispute_free(changed);
	dearer = worked;
	dearer.reason = "defective";
	changed = make_dispute(&dearer, 3);
	CHECK(changed);
	CHECK_OK(propose(&other, changed, NULL, 0, &err), &err);
	ids_digest(second, &other);
	CHECK(strcmp(second, first) != 0);
	rd_dispute_free(changed);

	/* the earlier form, for the current version only */
	CHECK(rd_proposals_find_versioned(&set, "v3-reshipment-7000", 3) ==
	      &set.items[0]);
	CHECK(rd_proposals_find_versioned(&set, "v3-refund_keep_item-11500",
					  3) == find_terms(&set,
						"refund_keep_item-11500"));
	CHECK(rd_proposals_find_versioned(&set, "v2-reshipment-7000", 3) == NULL);
	CHECK(rd_proposals_find_versioned(&set, "v3-reshipment-7001", 3) == NULL);
	CHECK(rd_proposals_find_versioned(&set, "v3-", 3) == NULL);
	CHECK(rd_proposals_find_versioned(&set, set.items[0].offer_id, 3) ==
	      NULL);
	CHECK(rd_proposals_find_versioned(NULL, "v3-reshipment-7000", 3) ==
	      NULL);
	/* and the current form by rd_proposals_find, exactly */
	CHECK(rd_proposals_find(&set, set.items[0].offer_id) == &set.items[0]);
	CHECK(rd_proposals_find(&set, "v3-reshipment-7000") == NULL);
	rd_dispute_free(d);
	rd_dispute_free(later);
}

/* ---- the buyer's history ------------------------------------------------- */

/* The shipped policy with a buyer_history rule: 90 days, 2 refunds. */
static rd_policy *history_policy(void)
{
	rd_policy *p = NULL;
	rd_error err = { 0 };
	size_t len = 0, end;
	char *text = rd_test_read(POLICY_PATH, &len);
	char *with = NULL;
	const char *rule = ",\n  \"buyer_history\": {\"window_days\": 90, "
			   "\"max_refunds\": 2}\n}\n";

	/* the rule before the document's closing brace */
	end = len;
	while (text && end > 0 && text[end - 1] != '}')
		end--;
	if (text && end > 0 && (with = malloc(end + strlen(rule) + 1))) {
		memcpy(with, text, end - 1);
		memcpy(with + end - 1, rule, strlen(rule) + 1);
		if (rd_policy_parse(&p, with, strlen(with), "history.json",
				    &err) < 0)
			rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	} else {
		rd_test_fail(__FILE__, __LINE__, "cannot read %s", POLICY_PATH);
	}
	free(with);
	free(text);
	return p;
}

static void test_buyer_history_rule(void)
{
	static rd_proposals set;
	rd_policy *p = history_policy();
	rd_offer_inputs in = { 0 };
	rd_dispute *d = make_dispute(&worked, 1);
	rd_error err = { 0 };

	if (!p || !d) {
		rd_test_fail(__FILE__, __LINE__, "no policy or dispute");
		goto done;
	}
	CHECK_INT(rd_policy_history_days(p), 90);
	CHECK_INT(rd_policy_history_days(policy), 0);
	in.dispute = d;
	/* at the threshold: refund without return still proposed */
	in.buyer_refunds = 2;
	CHECK_OK(rd_offer_propose(&set, p, &in, &err), &err);
	CHECK_INT(count_type(&set, RD_OFFER_REFUND_KEEP_ITEM, 0), 1);
	CHECK(strstr(set.items[0].explanation, "withheld") == NULL);
	/* above it: withheld, and every offer says why */
	in.buyer_refunds = 3;
	CHECK_OK(rd_offer_propose(&set, p, &in, &err), &err);
	CHECK_INT(count_type(&set, RD_OFFER_REFUND_KEEP_ITEM, 0), 0);
	CHECK(set.proposed > 0);
	CHECK(count_type(&set, RD_OFFER_REFUND_WITH_RETURN, 0) == 1);
	for (size_t i = 0; i < set.count; i++)
		CHECK_HAS(set.items[i].explanation,
			  "Buyer b had 3 refunds in the last 90 days; refund "
			  "without return is withheld above 2.");
	/* the shipped policy has no such rule: the count changes nothing */
	CHECK_OK(rd_offer_propose(&set, policy, &in, &err), &err);
	CHECK_INT(count_type(&set, RD_OFFER_REFUND_KEEP_ITEM, 0), 1);
done:
	rd_dispute_free(d);
	rd_policy_free(p);
}

int main(void)
{
	rd_error err = { 0 };
	size_t len = 0;
	char *text = rd_test_read(POLICY_PATH, &len);

	if (!text || rd_policy_parse(&policy, text, len, POLICY_PATH,
				     &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "cannot load %s: %s",
			     POLICY_PATH, err.message);
		free(text);
		return rd_test_summary();
	}
	free(text);
	RUN(test_worked_example);
	RUN(test_offer_ids);
	RUN(test_not_received);
	RUN(test_wrong_item_has_no_copay);
	RUN(test_return_cost_share);
	RUN(test_changed_mind);
	RUN(test_unknown_costs);
	RUN(test_jpy_rounding);
	RUN(test_kwd_rounding);
	RUN(test_free_replacement_cuts_discounts);
	RUN(test_refund_cuts_dear_replacement);
	RUN(test_full_refund_ceiling);
	RUN(test_discount_cap);
	RUN(test_declined_not_proposed_again);
	RUN(test_counter_discount_ladder);
	RUN(test_counter_copay_ladder);
	RUN(test_counter_refund_hold);
	RUN(test_counter_amount_validation);
	RUN(test_propose_refusals);
	RUN(test_proposal_json);
	RUN(test_buyer_relation_is_preorder);
	RUN(test_properties);
	RUN(test_buyer_history_rule);
	rd_policy_free(policy);
	return rd_test_summary();
}
