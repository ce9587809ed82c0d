/*
 * The offer engine's promises, checked by the fuzz targets that reach it
 * (offers.c). Figures are recomputed from the dispute and the policy by the
 * formulas of docs/offers.md.
 */
#ifndef REDRESS_FUZZ_OFFERS_H
#define REDRESS_FUZZ_OFFERS_H

#include "offer/offer_int.h"
#include "redress/offer.h"

/* A dispute's figures under a policy (docs/offers.md, "The model"). */
typedef struct fuzz_figures {
	const struct of_reason_rule *rule;
	int64_t price;
	int64_t paid;          /* price + shipping_paid: all the buyer paid */
	int64_t full;          /* the full refund */
	int64_t goods;         /* or RD_AMOUNT_UNSET */
	int64_t ship;          /* or RD_AMOUNT_UNSET */
	int64_t return_cost;   /* or RD_AMOUNT_UNSET */
	int64_t replacement;   /* goods + ship, or RD_AMOUNT_UNSET */
	int64_t salvage;
} fuzz_figures;

void fuzz_offer_figures(fuzz_figures *f, const rd_policy *policy,
			const rd_dispute *d);

/* The seller cost of t by the documented formula, or RD_AMOUNT_UNSET. */
int64_t fuzz_offer_cost(const fuzz_figures *f, const rd_offer_terms *t);

/*
 * What every offer of the dispute keeps, proposed or countered: amounts
 * within what the buyer paid (price + shipping_paid; a proposal also
 * within the full refund), the documented seller cost, never negative
 * (the seller never profits, and a cost never reads as "unknown"), a
 * co-pay no more than the replacement costs.
 */
void fuzz_check_terms(const fuzz_figures *f, const rd_offer_terms *t);

/*
 * A full answer of rd_offer_propose: every offer allowed by the policy for
 * the reason, costed by the formula, its breakdown adding up; proposed
 * offers first, with terms as above, ranked 1.. by seller cost, each known, none dominated by
 * another proposed one, none the same as a declined one, discounts within
 * the cap; cut ones after, each with its reason; ids unique.
 */
void fuzz_check_proposals(const rd_proposals *set, const rd_policy *policy,
			  const rd_offer_inputs *in);

/*
 * A counter-offer of `amount` against `pending` (docs/offers.md,
 * "Negotiation"): refused exactly when out of range; otherwise of the
 * pending offer's type, with terms as above; accepted only when no better
 * for the buyer than the pending offer or no dearer than the next rung;
 * the next rung proposed only when there is one and the counter costs more;
 * held only when there is none.
 */
void fuzz_check_counter(const rd_policy *policy, const rd_offer_inputs *in,
			const rd_offer_terms *pending, int64_t amount);

/*
 * A dispute with these figures, version 1, for the engine (strings
 * filled, no lifecycle). New; rd_dispute_free.
 */
rd_dispute *fuzz_dispute_make(const char *currency, rd_reason reason,
			      const int64_t *unit_prices,
			      const int64_t *unit_costs,
			      const int64_t *quantities, size_t item_count,
			      int64_t shipping_paid, int64_t ship_cost,
			      int64_t return_cost);

#endif
