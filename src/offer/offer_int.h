/*
 * Private layout of a parsed settlement policy, shared by the policy parser
 * (policy.c) and the offer engine (propose.c), and the one relation both the
 * engine and its tests rely on: whether one offer gives the buyer at least
 * as much as another.
 *
 * Every figure here is an exact integer: shares in basis points (1/10000),
 * rounding steps in minor units. Nothing here may change once
 * rd_policy_parse has returned: a policy is shared read-only.
 */
#ifndef REDRESS_OFFER_INT_H
#define REDRESS_OFFER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "redress/dispute.h"
#include "redress/money.h"
#include "redress/offer.h"

/* A whole, in basis points: shares are 0..OF_BP_ONE. */
#define OF_BP_ONE INT64_C(10000)

/* Most rungs a ladder may have (keeps every proposal set within bounds). */
#define OF_MAX_RUNGS 16

/* Largest rounding step, in minor units (keeps step * OF_BP_ONE exact). */
#define OF_STEP_MAX INT64_C(1000000000000)

/* "no limit" for a reason's return_max_share */
#define OF_NO_LIMIT INT64_C(-1)

/* Hex SHA-256 plus its NUL. */
#define OF_HASH_BUFSZ 65

/* Longest policy name, NUL excluded. */
#define OF_NAME_MAX 64

/* What the policy allows for one dispute reason. */
struct of_reason_rule {
	unsigned offers;            /* bit 1u << rd_offer_type per type offered */
	int copay;                  /* co-pay rungs above 0 are offered */
	int64_t salvage_bp;         /* share of goods_cost a returned item is worth */
	int64_t return_max_bp;      /* return_cost at most this share of the price,
				       or OF_NO_LIMIT */
	int return_paid_by_buyer;   /* the label is deducted from the refund */
};

/* A rounding step for one currency. */
struct of_rounding {
	char code[4];
	int64_t step;               /* minor units of that currency, > 0 */
};

struct rd_policy {
	char name[OF_NAME_MAX + 1];
	int64_t version;
	char hash[OF_HASH_BUFSZ];
	char *source;               /* the exact bytes, NUL-terminated */
	size_t source_len;
	int refund_shipping;        /* full refunds include shipping_paid */
	int64_t discount_bp[OF_MAX_RUNGS];   /* strictly increasing, 1..10000 */
	size_t discount_count;
	int64_t copay_bp[OF_MAX_RUNGS];      /* strictly decreasing, 0..10000 */
	size_t copay_count;
	int64_t default_step_e4;    /* "default" step in 1/10000 of a major
				       unit, or 0 when absent */
	struct of_rounding *rounding;
	size_t rounding_count;
	int64_t max_discount_bp;    /* 1..10000 */
	int64_t history_days;       /* buyer_history.window_days, 0: no rule */
	int64_t history_max_refunds; /* refund_keep_item withheld above this */
	struct of_reason_rule reasons[RD_REASON_COUNT];
};

/*
 * The rounding step of `cur` under `policy`, in minor units (>= 1): its own
 * entry, else the "default" converted to its minor units by the rounding
 * rule and never below one, else one minor unit.
 */
int64_t of_policy_step(const rd_policy *policy, const rd_currency *cur);

/*
 * 1 when `better` gives the buyer at least as much as `worse`, else 0 (see
 * "Dominance" in docs/offers.md). `full` is the full refund of the dispute
 * (the price, plus shipping paid when the policy refunds it). Money offers
 * compare by the refund, a reshipment by its co-pay. A preorder: reflexive
 * and transitive.
 */
int of_buyer_at_least(const rd_offer_terms *better,
		      const rd_offer_terms *worse, int64_t full);

#endif
