/*
 * Settlement offers in the service: gathering what the engine looks at,
 * asking it, and the decision record kept with every offer made, so that an
 * auditor can see why an offer was made even after the policy changed.
 */
#include "service_int.h"

#include <stdlib.h>
#include <string.h>

#include "redress/clock.h"
#include "redress/money.h"

/* Offers the buyer already turned down, or that lapsed: not proposed again. */
static int is_declined(const char *status)
{
	return strcmp(status, RD_OFFER_REJECTED) == 0 ||
	       strcmp(status, RD_OFFER_COUNTERED) == 0 ||
	       strcmp(status, RD_OFFER_EXPIRED) == 0;
}

/*
 * The buyer's refunded disputes in the window of the policy's
 * buyer_history rule, for the engine (which does no I/O); none without
 * the rule. Counted up to the service's now (REDRESS_NOW in tests).
 */
static int buyer_refunds(svc_offer_ctx *ctx, rd_service *svc,
			 const rd_dispute *d, rd_error *err)
{
	int64_t days = rd_policy_history_days(svc->policy), now = 0;
	int rc;

	ctx->in.buyer_refunds = 0;
	if (days <= 0)
		return RD_OK;
	if ((rc = rd_clock_now(&now, err)) < 0)
		return rc;
	return rd_service_buyer_refunds(svc, d, now, (int)days,
					&ctx->in.buyer_refunds, err);
}

int svc_offer_inputs(svc_offer_ctx *ctx, rd_service *svc, const rd_dispute *d,
		     rd_error *err)
{
	rd_offer_record *offers = NULL;
	size_t count = 0, total = 0;
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	if ((rc = rd_store_evidence_kinds(svc->store, d->id, &ctx->kinds,
					  &ctx->kind_count, &total, err)) < 0 ||
	    (rc = rd_store_offers_list(svc->store, d->id, &offers, &count,
				       err)) < 0)
		return rc;
	if (count && !(ctx->declined = calloc(count, sizeof(*ctx->declined)))) {
		free(offers);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < count; i++) {
		rd_offer_terms *t;

		if (!is_declined(offers[i].status))
			continue;
		t = &ctx->declined[ctx->declined_count++];
		t->type = offers[i].type;
		t->buyer_refund = offers[i].buyer_refund;
		t->buyer_copay = offers[i].buyer_copay;
		t->seller_cost = offers[i].seller_cost;
	}
	free(offers);
	ctx->in.dispute = d;
	ctx->in.evidence_kinds = (const char *const *)ctx->kinds;
	ctx->in.evidence_kind_count = ctx->kind_count;
	ctx->in.declined = ctx->declined;
	ctx->in.declined_count = ctx->declined_count;
	ctx->in.offers_made = count;
	return buyer_refunds(ctx, svc, d, err);
}

void svc_offer_ctx_free(svc_offer_ctx *ctx)
{
	rd_strings_free(ctx->kinds, ctx->kind_count);
	free(ctx->declined);
	free(ctx->proposals);
	memset(ctx, 0, sizeof(*ctx));
}

int svc_offer_propose(svc_offer_ctx *ctx, rd_service *svc, rd_error *err)
{
	if (!ctx->proposals &&
	    !(ctx->proposals = malloc(sizeof(*ctx->proposals))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return rd_offer_propose(ctx->proposals, svc->policy, &ctx->in, err);
}

int rd_service_offer_proposals(rd_service *svc, const char *id,
			       rd_proposals *out, rd_error *err)
{
	svc_offer_ctx ctx;
	rd_dispute *d = NULL;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	if ((rc = rd_service_dispute_get(svc, id, &d, err)) < 0)
		return rc;
	if ((rc = svc_offer_inputs(&ctx, svc, d, err)) == RD_OK)
		rc = rd_offer_propose(out, svc->policy, &ctx.in, err);
	svc_offer_ctx_free(&ctx);
	rd_dispute_free(d);
	return rc;
}

static json_t *amount_or_null(int64_t amount)
{
	return amount == RD_AMOUNT_UNSET ? json_null() : json_integer(amount);
}

json_t *svc_decision_json(const svc_offer_ctx *ctx, const rd_service *svc,
			  const char *chosen)
{
	const rd_dispute *d = ctx->in.dispute;
	json_t *proposals = json_array(), *kinds = json_array();
	int64_t price = 0, goods = RD_AMOUNT_UNSET;

	if (!proposals || !kinds)
		goto fail;
	rd_dispute_price(&price, d, NULL);
	rd_dispute_goods_cost(&goods, d, NULL);
	for (size_t i = 0; i < ctx->kind_count; i++)
		if (json_array_append_new(kinds, json_string(ctx->kinds[i])))
			goto fail;
	for (size_t i = 0; ctx->proposals && i < ctx->proposals->count; i++)
		if (json_array_append_new(proposals, rd_proposal_to_json(
				&ctx->proposals->items[i])))
			goto fail;
	return json_pack("{s:s, s:I, s:{s:s, s:I, s:s}, s:{s:s, s:s, s:I, s:o,"
			 " s:I, s:o, s:o, s:o, s:I}, s:o}",
			 "chosen", chosen,
			 "dispute_version", (json_int_t)d->version,
			 "policy",
			 "name", rd_policy_name(svc->policy),
			 "version", (json_int_t)rd_policy_version(svc->policy),
			 "hash", rd_policy_hash(svc->policy),
			 "inputs",
			 "reason", rd_reason_name(d->reason),
			 "currency", d->currency,
			 "price", (json_int_t)price,
			 "goods_cost", amount_or_null(goods),
			 "shipping_paid", (json_int_t)d->shipping_paid,
			 "ship_cost", amount_or_null(d->ship_cost),
			 "return_cost", amount_or_null(d->return_cost),
			 "evidence_kinds", kinds,
			 "declined_offers", (json_int_t)ctx->declined_count,
			 "proposals", proposals);
fail:
	json_decref(proposals);
	json_decref(kinds);
	return NULL;
}
