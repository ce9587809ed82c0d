/*
 * Settlement offers: what each kind of settlement costs the seller (SPEC
 * section 5). Pure arithmetic on the dispute's figures: no I/O, no
 * allocation, deterministic.
 */
#ifndef REDRESS_OFFER_H
#define REDRESS_OFFER_H

#include <stddef.h>
#include <stdint.h>

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
 *   copay   reshipment: what the buyer pays towards it, 0..price (default 0).
 * Amounts are decimal text in the dispute's currency ("70.00" for USD).
 * The seller cost follows SPEC section 5 (salvage 0 until a policy says
 * otherwise); it is RD_AMOUNT_UNSET when a cost figure it needs is unset.
 * RD_EINVALID with err->field naming the field at fault.
 */
int rd_offer_terms_from_fields(rd_offer_terms *out, const rd_dispute *d,
			       const rd_field *fields, size_t field_count,
			       rd_error *err);

#endif
