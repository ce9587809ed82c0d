/*
 * Settlement offers: what each kind of settlement costs the seller (SPEC
 * section 5). Pure arithmetic on the dispute's figures: no I/O, no
 * allocation, deterministic.
 */
#ifndef REDRESS_OFFER_H
#define REDRESS_OFFER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "redress/dispute.h"
#include "redress/error.h"
#include "redress/workflow.h"

/* The terms of one offer, in the dispute's currency (minor units). */
typedef struct rd_offer_terms {
	rd_offer_type type;
	int64_t buyer_refund;   /* paid to the buyer */
	int64_t buyer_copay;    /* paid by the buyer towards a reshipment */
	int64_t seller_cost;    /* the seller's expected cost, or RD_AMOUNT_UNSET */
} rd_offer_terms;

/*
 * Build the terms of an offer from an event's fields:
 *   type    (required) refund_keep_item | refund_with_return | reshipment |
 *           partial_discount
 *   refund  partial_discount: the discount, > 0 and at most price +
 *           shipping_paid (required). Refund types: defaults to, and may not
 *           exceed, price + shipping_paid.
 *   copay   reshipment: what the buyer pays towards it, 0..price (default 0)
 *           and, when the costs are known, no more than the replacement
 *           costs the seller (goods cost plus ship_cost).
 * Amounts are decimal text in the dispute's currency ("70.00" for USD).
 * The seller cost follows SPEC section 5 (salvage 0 until a policy says
 * otherwise); it is RD_AMOUNT_UNSET when a cost figure it needs is unset.
 * RD_EINVALID with err->field naming the field at fault.
 */
int rd_offer_terms_from_fields(rd_offer_terms *out, const rd_dispute *d,
			       const rd_field *fields, size_t field_count,
			       rd_error *err);

/* ---- the settlement policy (workflows/policy.json) ------------------------ */

/* A validated policy. Immutable once parsed. */
typedef struct rd_policy rd_policy;

/*
 * Parse and validate a policy (format in docs/offers.md). `origin` (a file
 * name) prefixes every message; syntax errors give "origin:line:col: text",
 * semantic ones "origin: json.path: reason" with err->field = the path:
 * ladders out of order, ratios outside 0..1, unknown reasons, currencies or
 * members, missing reasons. RD_EDEFINITION on any refusal. *out is new.
 */
int rd_policy_parse(rd_policy **out, const char *text, size_t len,
		    const char *origin, rd_error *err);
void rd_policy_free(rd_policy *policy);

const char *rd_policy_name(const rd_policy *policy);
int64_t rd_policy_version(const rd_policy *policy);
const char *rd_policy_hash(const rd_policy *policy);   /* SHA-256 hex of the bytes */
const char *rd_policy_source(const rd_policy *policy); /* the bytes, NUL-terminated */

/*
 * The days of the policy's buyer_history rule (refund_keep_item is
 * withheld from a buyer with more than max_refunds refunded disputes in
 * that many days), or 0 when the policy has none: the caller then need not
 * count the buyer's refunds.
 */
int64_t rd_policy_history_days(const rd_policy *policy);

/* ---- proposals --------------------------------------------------------------- */

#define RD_OFFER_MAX_PROPOSALS 48
#define RD_OFFER_MAX_LINES 8

/* One line of a seller-cost breakdown: a signed amount and what it is. */
typedef struct rd_cost_line {
	char label[96];          /* "goods cost of the replacement" */
	int64_t amount;          /* adds to (or, negative, takes from) the seller's cost */
} rd_cost_line;

/* One offer the engine considered. */
typedef struct rd_proposal {
	char offer_id[48];       /* "o-<8 hex>-partial_discount-2000": the terms
				    and a digest of the inputs they come from
				    (the dispute's money figures, reason and
				    currency, the policy), so it stays valid
				    while those do, whatever else changes */
	rd_offer_terms terms;
	int rank;                /* 1 = cheapest for the seller; 0 when cut */
	int cut;                 /* 1: not proposed (dominated, or over a cap) */
	char cut_reason[200];
	rd_cost_line lines[RD_OFFER_MAX_LINES];
	size_t line_count;
	char explanation[600];   /* plain language, amounts formatted in the currency */
} rd_proposal;

/* Everything the engine looks at. Borrowed. */
typedef struct rd_offer_inputs {
	const rd_dispute *dispute;
	const char *const *evidence_kinds;  /* kinds of non-withdrawn evidence */
	size_t evidence_kind_count;
	const rd_offer_terms *declined;     /* offers already made and rejected,
					       countered or expired: not proposed again */
	size_t declined_count;
	int64_t buyer_refunds;              /* the same storefront's other
					       disputes of the buyer refunded
					       in the policy's buyer_history
					       window (rd_policy_history_days;
					       0 without the rule) */
	size_t offers_made;                 /* offers ever made on the dispute,
					       whatever became of them: part of
					       offer ids, so that an offer made
					       again later (after a lost
					       reshipment) is a new record */
} rd_offer_inputs;

/* The engine's answer: proposals ranked by seller cost, then the cut ones. */
typedef struct rd_proposals {
	rd_proposal items[RD_OFFER_MAX_PROPOSALS];
	size_t count;            /* all considered */
	size_t proposed;         /* the first `proposed` items are the offers, ranked */
} rd_proposals;

/*
 * Compute every eligible offer under `policy`: partial_discount at each
 * rung of the discount ladder, reshipment at each co-pay rung,
 * refund_keep_item, refund_with_return; rank them by seller cost (ties: more
 * for the buyer first, then type, then amount), and cut every offer whose
 * seller cost is higher than a cheaper offer that gives the buyer at least as
 * much, saying why. Deterministic; no I/O; no allocation.
 */
int rd_offer_propose(rd_proposals *out, const rd_policy *policy,
		     const rd_offer_inputs *in, rd_error *err);

/* The proposal with this id in `set`, or NULL. */
const rd_proposal *rd_proposals_find(const rd_proposals *set,
				     const char *offer_id);

/*
 * The proposal an id of the earlier form "v<version>-<type>-<amount>"
 * names, when `version` is the dispute's current version: the one with
 * the same type and amount in `set`, or NULL. Such ids are taken for one
 * release after the change of form (docs/offers.md), so that an offer read
 * just before an upgrade can still be made.
 */
const rd_proposal *rd_proposals_find_versioned(const rd_proposals *set,
					       const char *offer_id,
					       int64_t version);

/* What to do with a buyer's counter-offer. */
typedef enum rd_counter_verdict {
	RD_COUNTER_ACCEPT,         /* costs no more than the next rung: agree */
	RD_COUNTER_PROPOSE_NEXT,   /* too dear: offer the next rung instead */
	RD_COUNTER_HOLD            /* no rung left: an agent decides */
} rd_counter_verdict;

/*
 * Evaluate a counter-offer of `amount` (minor units: the discount or
 * refund asked for money offers, the co-pay offered for a reshipment)
 * against the pending offer's ladder. *counter receives the counter's terms
 * (its seller cost computed); *next the next, more generous rung when the
 * verdict is RD_COUNTER_PROPOSE_NEXT. A counter worse for the buyer than
 * the pending offer is simply accepted. A co-pay above what the
 * replacement costs the seller is taken at that cost, so a known seller
 * cost is never negative. RD_EINVALID for an amount out of range
 * (negative, above the price plus shipping; a co-pay above the price).
 */
int rd_offer_counter(rd_counter_verdict *verdict, rd_offer_terms *counter,
		     rd_proposal *next, const rd_policy *policy,
		     const rd_offer_inputs *in, const rd_offer_terms *pending,
		     int64_t amount, rd_error *err);

/*
 * A proposal as JSON: {"offer_id", "type", "buyer_refund", "buyer_copay",
 * "seller_cost", "rank", "cut", "cut_reason", "breakdown": [{"label",
 * "amount"}], "explanation"}. New reference, NULL when out of memory.
 */
json_t *rd_proposal_to_json(const rd_proposal *proposal);

#endif
