/*
 * The offer engine's promises (docs/offers.md), checked on any answer it
 * gives: shared by the policy target, which varies the policy, and the
 * state machine target, which varies the dispute's history. Every figure
 * is recomputed here from the dispute and the policy by the formulas of the
 * documentation, not read back from the engine.
 */
#include "fuzz.h"
#include "offers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/money.h"

__extension__ typedef __int128 wide_t;

void fuzz_offer_figures(fuzz_figures *f, const rd_policy *policy,
			const rd_dispute *d)
{
	rd_error err;

	memset(f, 0, sizeof(*f));
	f->rule = &policy->reasons[d->reason];
	FUZZ_CHECK(rd_dispute_price(&f->price, d, &err) == RD_OK);
	FUZZ_CHECK(rd_dispute_goods_cost(&f->goods, d, &err) == RD_OK);
	f->paid = f->price + d->shipping_paid;
	f->full = f->price + (policy->refund_shipping ? d->shipping_paid : 0);
	f->salvage = 0;
	if (f->goods != RD_AMOUNT_UNSET)
		FUZZ_CHECK(rd_money_mul_ratio(&f->salvage, f->goods,
					      f->rule->salvage_bp, OF_BP_ONE,
					      &err) == RD_OK);
	f->ship = d->ship_cost;
	f->return_cost = d->return_cost;
	f->replacement = RD_AMOUNT_UNSET;
	if (f->goods != RD_AMOUNT_UNSET && f->ship != RD_AMOUNT_UNSET)
		f->replacement = f->goods + f->ship;
}

int64_t fuzz_offer_cost(const fuzz_figures *f, const rd_offer_terms *t)
{
	int64_t label, cost;

	switch (t->type) {
	case RD_OFFER_PARTIAL_DISCOUNT:
	case RD_OFFER_REFUND_KEEP_ITEM:
		return t->buyer_refund;
	case RD_OFFER_RESHIPMENT:
		if (f->replacement == RD_AMOUNT_UNSET)
			return RD_AMOUNT_UNSET;
		return f->replacement - t->buyer_copay;
	case RD_OFFER_REFUND_WITH_RETURN:
		if (f->return_cost == RD_AMOUNT_UNSET)
			return RD_AMOUNT_UNSET;
		label = f->rule->return_paid_by_buyer ? 0 : f->return_cost;
		cost = t->buyer_refund + label;
		return cost - (f->salvage < cost ? f->salvage : cost);
	case RD_OFFER_TYPE_COUNT:
		break;
	}
	FUZZ_CHECK(!"an offer of no known type");
	return RD_AMOUNT_UNSET;
}

/* The buyer's view of docs/offers.md's table "gives at least as much". */
static int at_least(const rd_offer_terms *y, const rd_offer_terms *x,
		    int64_t full)
{
	return of_buyer_at_least(y, x, full);
}

static int type_order(rd_offer_type type)
{
	static const int order[RD_OFFER_TYPE_COUNT] = {
		[RD_OFFER_PARTIAL_DISCOUNT] = 0,
		[RD_OFFER_RESHIPMENT] = 1,
		[RD_OFFER_REFUND_KEEP_ITEM] = 2,
		[RD_OFFER_REFUND_WITH_RETURN] = 3,
	};

	return order[type];
}

/* y makes x pointless (docs/offers.md, "Dominance"). */
static int dominates(const rd_offer_terms *y, const rd_offer_terms *x,
		     int64_t full)
{
	if (!at_least(y, x, full))
		return 0;
	if (y->seller_cost != x->seller_cost)
		return y->seller_cost < x->seller_cost;
	if (!at_least(x, y, full))
		return 1;
	return type_order(y->type) > type_order(x->type);
}

/* The terms any offer of the dispute must keep, proposed or countered. */
void fuzz_check_terms(const fuzz_figures *f, const rd_offer_terms *t)
{
	int64_t cost = fuzz_offer_cost(f, t);

	FUZZ_CHECK((unsigned)t->type < RD_OFFER_TYPE_COUNT);
	FUZZ_CHECK(t->buyer_refund >= 0 && t->buyer_refund <= f->paid);
	FUZZ_CHECK(t->buyer_copay >= 0 && t->buyer_copay <= f->price);
	FUZZ_CHECK(t->type == RD_OFFER_RESHIPMENT || t->buyer_copay == 0);
	FUZZ_CHECK(t->type != RD_OFFER_RESHIPMENT || t->buyer_refund == 0);
	/* the seller cost is the documented formula, and never negative */
	FUZZ_CHECK(t->seller_cost == cost);
	FUZZ_CHECK(cost == RD_AMOUNT_UNSET || cost >= 0);
	/* a co-pay never exceeds what the replacement costs the seller */
	FUZZ_CHECK(t->type != RD_OFFER_RESHIPMENT ||
		   f->replacement == RD_AMOUNT_UNSET ||
		   t->buyer_copay <= f->replacement);
}

void fuzz_check_proposals(const rd_proposals *set, const rd_policy *policy,
			  const rd_offer_inputs *in)
{
	const rd_dispute *d = in->dispute;
	const rd_currency *cur = rd_currency_find(d->currency);
	fuzz_figures f;

	FUZZ_CHECK(cur != NULL);
	fuzz_offer_figures(&f, policy, d);
	FUZZ_CHECK(set->count <= RD_OFFER_MAX_PROPOSALS);
	FUZZ_CHECK(set->proposed <= set->count);
	for (size_t i = 0; i < set->count; i++) {
		const rd_proposal *p = &set->items[i];
		const rd_offer_terms *t = &p->terms;
		json_t *doc = rd_proposal_to_json(p);
		int64_t lines = 0;

		FUZZ_CHECK(doc != NULL);
		json_decref(doc);
		FUZZ_CHECK(f.rule->offers & (1u << t->type));
		FUZZ_CHECK(rd_proposals_find(set, p->offer_id) == p);
		FUZZ_CHECK(p->explanation[0] != '\0');
		/*
		 * every offer listed is costed by the formula; a cut one
		 * may be left uncosted (a refund after return the label
		 * would take whole is cut before it is costed)
		 */
		FUZZ_CHECK(t->seller_cost == fuzz_offer_cost(&f, t) ||
			   (p->cut && t->seller_cost == RD_AMOUNT_UNSET));
		FUZZ_CHECK(t->type != RD_OFFER_REFUND_KEEP_ITEM ||
			   t->buyer_refund == f.full);
		FUZZ_CHECK(t->type != RD_OFFER_RESHIPMENT || f.rule->copay ||
			   t->buyer_copay == 0);
		FUZZ_CHECK(p->line_count <= RD_OFFER_MAX_LINES);
		for (size_t k = 0; k < p->line_count; k++)
			lines += p->lines[k].amount;
		FUZZ_CHECK(t->seller_cost == RD_AMOUNT_UNSET ||
			   lines == t->seller_cost);
		if (i >= set->proposed) {
			FUZZ_CHECK(p->cut && p->rank == 0 &&
				   p->cut_reason[0] != '\0');
			continue;
		}
		/* a proposed offer: one that may be made */
		FUZZ_CHECK(!p->cut && p->rank == (int)i + 1);
		fuzz_check_terms(&f, t);
		FUZZ_CHECK(t->buyer_refund <= f.full);
		FUZZ_CHECK(t->seller_cost != RD_AMOUNT_UNSET);
		FUZZ_CHECK(i == 0 || set->items[i - 1].terms.seller_cost <=
					     t->seller_cost);
		if (t->type == RD_OFFER_PARTIAL_DISCOUNT) {
			FUZZ_CHECK(t->buyer_refund >= 1 &&
				   t->buyer_refund <= f.price);
			/* at most the cap (rounded to a step), or one step */
			FUZZ_CHECK((wide_t)2 * t->buyer_refund * OF_BP_ONE <=
					   (wide_t)2 * f.price *
						   policy->max_discount_bp +
					   (wide_t)of_policy_step(policy, cur) *
						   OF_BP_ONE ||
				   t->buyer_refund ==
					   of_policy_step(policy, cur));
		}
		for (size_t j = 0; j < in->declined_count; j++)
			FUZZ_CHECK(in->declined[j].type != t->type ||
				   in->declined[j].buyer_refund !=
					   t->buyer_refund ||
				   in->declined[j].buyer_copay !=
					   t->buyer_copay);
		for (size_t j = 0; j < set->proposed; j++)
			FUZZ_CHECK(j == i ||
				   !dominates(&set->items[j].terms, t, f.full));
	}
}

/* a gives the buyer more than b, of one type: more money, or less co-pay */
static int more_generous(const rd_offer_terms *a, const rd_offer_terms *b)
{
	if (a->type == RD_OFFER_RESHIPMENT)
		return a->buyer_copay < b->buyer_copay;
	return a->buyer_refund > b->buyer_refund;
}

void fuzz_check_counter(const rd_policy *policy, const rd_offer_inputs *in,
			const rd_offer_terms *pending, int64_t amount)
{
	rd_counter_verdict verdict;
	rd_offer_terms counter;
	rd_proposal next;
	rd_proposals *set = malloc(sizeof(*set));
	const rd_proposal *rung = NULL;
	fuzz_figures f;
	int64_t limit;
	rd_error err;
	int rc;

	FUZZ_CHECK(set != NULL);
	fuzz_offer_figures(&f, policy, in->dispute);
	limit = pending->type == RD_OFFER_RESHIPMENT ? f.price : f.paid;
	rc = rd_offer_counter(&verdict, &counter, &next, policy, in, pending,
			      amount, &err);
	if (amount < 0 || amount > limit) {
		FUZZ_CHECK(rc == RD_EINVALID);
		FUZZ_CHECK(strcmp(err.field, "amount") == 0);
		fuzz_check_error(rc, &err);
		free(set);
		return;
	}
	FUZZ_CHECK(rc == RD_OK);
	FUZZ_CHECK(counter.type == pending->type);
	fuzz_check_terms(&f, &counter);
	FUZZ_CHECK(rd_offer_propose(set, policy, in, &err) == RD_OK);
	for (size_t i = 0; i < set->proposed && !rung; i++)
		if (set->items[i].terms.type == pending->type &&
		    more_generous(&set->items[i].terms, pending))
			rung = &set->items[i];
	switch (verdict) {
	case RD_COUNTER_ACCEPT:
		/* no dearer than the next rung, unless no better for the buyer */
		FUZZ_CHECK(!more_generous(&counter, pending) ||
			   (rung && counter.seller_cost != RD_AMOUNT_UNSET &&
			    counter.seller_cost <= rung->terms.seller_cost));
		break;
	case RD_COUNTER_PROPOSE_NEXT:
		FUZZ_CHECK(rung != NULL);
		FUZZ_CHECK(memcmp(&next.terms, &rung->terms,
				  sizeof(next.terms)) == 0);
		FUZZ_CHECK(strcmp(next.offer_id, rung->offer_id) == 0);
		FUZZ_CHECK(counter.seller_cost == RD_AMOUNT_UNSET ||
			   counter.seller_cost > rung->terms.seller_cost);
		break;
	case RD_COUNTER_HOLD:
		FUZZ_CHECK(rung == NULL && more_generous(&counter, pending));
		break;
	default:
		FUZZ_CHECK(!"a counter verdict of no known kind");
	}
	free(set);
}

rd_dispute *fuzz_dispute_make(const char *currency, rd_reason reason,
			      const int64_t *unit_prices,
			      const int64_t *unit_costs,
			      const int64_t *quantities, size_t item_count,
			      int64_t shipping_paid, int64_t ship_cost,
			      int64_t return_cost)
{
	rd_dispute *d = rd_dispute_new();

	FUZZ_CHECK(d != NULL && item_count > 0);
	memcpy(d->id, "01KA0000000000000000000000", RD_ID_BUFSZ);
	snprintf(d->currency, sizeof(d->currency), "%s", currency);
	d->reason = reason;
	d->order_ref = strdup("ORD-1");
	d->storefront = strdup("acme-eu");
	d->buyer_ref = strdup("cust-1");
	d->items = calloc(item_count, sizeof(*d->items));
	FUZZ_CHECK(d->order_ref && d->storefront && d->buyer_ref && d->items);
	d->item_count = item_count;
	for (size_t i = 0; i < item_count; i++) {
		d->items[i].sku = strdup("SKU");
		d->items[i].title = strdup("Item");
		FUZZ_CHECK(d->items[i].sku && d->items[i].title);
		d->items[i].quantity = quantities[i];
		d->items[i].unit_price = unit_prices[i];
		d->items[i].unit_cost = unit_costs[i];
	}
	d->shipping_paid = shipping_paid;
	d->ship_cost = ship_cost;
	d->return_cost = return_cost;
	d->version = 1;
	return d;
}
