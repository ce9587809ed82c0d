/*
 * The offer engine: every settlement a policy allows for a dispute, what
 * each one costs the seller (SPEC section 5) line by line, which ones are
 * not worth proposing and why, the rest ranked by seller cost; and the
 * answer to a buyer's counter-offer.
 *
 * It must never do I/O, never use floating point (shares are basis points,
 * every rounding goes through money.h's one rule), never allocate in
 * rd_offer_propose (the answer lives in the caller's rd_proposals), and
 * never give two answers to one input: no clock, no randomness, no order
 * left to chance.
 */
#include "offer/offer_int.h"

#include "core/definition.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the engine knows about one dispute under one policy. */
struct figures {
	const rd_currency *cur;
	const struct of_reason_rule *rule;
	int refund_shipping;
	char inputs[9];           /* 8 hex digits of the inputs' digest, for offer ids */
	int64_t price;            /* what the buyer paid for the goods */
	int64_t shipping_paid;
	int64_t goods_cost;       /* or RD_AMOUNT_UNSET */
	int64_t ship_cost;        /* or RD_AMOUNT_UNSET */
	int64_t return_cost;      /* or RD_AMOUNT_UNSET */
	int64_t full;             /* the full refund: price (+ shipping_paid) */
	int64_t salvage;          /* a returned item's worth to the seller */
	int64_t step;             /* rounding step, minor units */
	int64_t max_discount;     /* the cap on discounts, minor units */
};

/* ---- the buyer's point of view ------------------------------------------ */

/*
 * What the buyer ends up with, in three kinds: keeps the item plus money
 * (partial_discount, refund_keep_item), gets a replacement for a co-pay
 * (reshipment), or money for the item given back (refund_with_return).
 */
enum buyer_kind { KIND_KEEP, KIND_RESHIP, KIND_RETURN, KIND_COUNT };

/* How offers of two kinds compare (see the table in docs/offers.md). */
enum comparison {
	CMP_NEVER,            /* never at least as much */
	CMP_MORE_MONEY,       /* refund >= the other's refund */
	CMP_MONEY_IS_FULL,    /* refund >= the full refund */
	CMP_LESS_COPAY,       /* co-pay <= the other's co-pay */
	CMP_FREE_VS_PARTIAL   /* free replacement vs a refund below the full one */
};

static const enum comparison at_least_table[KIND_COUNT][KIND_COUNT] = {
	/* better \ worse:  KEEP                 RESHIP             RETURN */
	[KIND_KEEP]   = { CMP_MORE_MONEY,      CMP_MONEY_IS_FULL, CMP_MORE_MONEY },
	[KIND_RESHIP] = { CMP_FREE_VS_PARTIAL, CMP_LESS_COPAY,    CMP_FREE_VS_PARTIAL },
	[KIND_RETURN] = { CMP_NEVER,           CMP_NEVER,         CMP_MORE_MONEY },
};

static enum buyer_kind buyer_kind_of(rd_offer_type type)
{
	switch (type) {
	case RD_OFFER_RESHIPMENT: return KIND_RESHIP;
	case RD_OFFER_REFUND_WITH_RETURN: return KIND_RETURN;
	case RD_OFFER_PARTIAL_DISCOUNT:
	case RD_OFFER_REFUND_KEEP_ITEM:
	case RD_OFFER_TYPE_COUNT:
		break;
	}
	return KIND_KEEP;
}

int of_buyer_at_least(const rd_offer_terms *better,
		      const rd_offer_terms *worse, int64_t full)
{
	switch (at_least_table[buyer_kind_of(better->type)]
			      [buyer_kind_of(worse->type)]) {
	case CMP_NEVER:
		return 0;
	case CMP_MORE_MONEY:
		return better->buyer_refund >= worse->buyer_refund;
	case CMP_MONEY_IS_FULL:
		return better->buyer_refund >= full;
	case CMP_LESS_COPAY:
		return better->buyer_copay <= worse->buyer_copay;
	case CMP_FREE_VS_PARTIAL:
		return better->buyer_copay == 0 && worse->buyer_refund < full;
	}
	return 0;
}

/* Order of offer types in rankings: discount, reshipment, refunds. */
static int type_rank(rd_offer_type type)
{
	switch (type) {
	case RD_OFFER_PARTIAL_DISCOUNT: return 0;
	case RD_OFFER_RESHIPMENT: return 1;
	case RD_OFFER_REFUND_KEEP_ITEM: return 2;
	case RD_OFFER_REFUND_WITH_RETURN: return 3;
	case RD_OFFER_TYPE_COUNT:
		break;
	}
	return 4;
}

/* The amount an offer id carries: the co-pay of a reshipment, else the refund. */
static int64_t id_amount(const rd_offer_terms *t)
{
	return t->type == RD_OFFER_RESHIPMENT ? t->buyer_copay : t->buyer_refund;
}

/* ---- text ---------------------------------------------------------------- */

__attribute__((format(printf, 3, 4)))
static void text_set(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* An amount in the dispute's currency, "70.00". */
struct amount_text {
	char s[RD_MONEY_BUFSZ];
};

static struct amount_text money(const struct figures *f, int64_t amount)
{
	struct amount_text t;

	if (rd_money_format(t.s, sizeof(t.s), amount, f->cur) < 0)
		memcpy(t.s, "?", 2);
	/* cppcheck-suppress uninitvar ; t.s is filled by either call above */
	return t;
}

/* A share in basis points as a percentage: "70%", "12.5%", "0.25%". */
struct share_text {
	char s[24];
};

static struct share_text percent(int64_t bp)
{
	struct share_text t;
	long long whole = (long long)(bp / 100), hundredths = (long long)(bp % 100);

	if (hundredths == 0)
		snprintf(t.s, sizeof(t.s), "%lld%%", whole);
	else if (hundredths % 10 == 0)
		snprintf(t.s, sizeof(t.s), "%lld.%lld%%", whole,
			 hundredths / 10);
	else
		snprintf(t.s, sizeof(t.s), "%lld.%02lld%%", whole, hundredths);
	return t;
}

static void add_line(rd_proposal *p, const char *label, int64_t amount)
{
	if (p->line_count >= RD_OFFER_MAX_LINES)
		return;
	text_set(p->lines[p->line_count].label,
		 sizeof(p->lines[p->line_count].label), "%s", label);
	p->lines[p->line_count].amount = amount;
	p->line_count++;
}

__attribute__((format(printf, 2, 3)))
static void cut(rd_proposal *p, const char *fmt, ...)
{
	va_list ap;

	p->cut = 1;
	va_start(ap, fmt);
	vsnprintf(p->cut_reason, sizeof(p->cut_reason), fmt, ap);
	va_end(ap);
}

/* ---- figures ------------------------------------------------------------- */

/*
 * price * bp / 10000 rounded once, by the rule of money.h, to a multiple of
 * the step; one step less when rounding went above the price.
 */
static int rung_amount(int64_t *out, const struct figures *f, int64_t bp,
		       rd_error *err)
{
	int64_t steps, amount;
	int rc;

	if ((rc = rd_money_mul_ratio(&steps, f->price, bp,
				     OF_BP_ONE * f->step, err)) < 0 ||
	    (rc = rd_money_mul(&amount, steps, f->step, err)) < 0)
		return rc;
	if (amount > f->price)
		amount -= f->step;
	*out = amount;
	return RD_OK;
}

/*
 * The digest of everything an offer's terms and seller cost are computed
 * from: the dispute (its id, so that ids are never shared between
 * disputes), its currency, reason and money figures, and the policy (its
 * content hash), and how many offers were made on it so far, so that the
 * same terms offered again after an earlier offer was made (a lost
 * reshipment sends the dispute back) are a new offer with a new id. Not
 * the dispute's version: evidence, notes, assignments and other events
 * leave offers as they are, and so their ids. Which offers were declined
 * is not part of it either: that cuts an offer without changing it, and a
 * cut offer is refused by its cut reason.
 */
static void inputs_digest(char out[9], const rd_offer_inputs *in,
			  const struct figures *f, const rd_policy *policy)
{
	const rd_dispute *d = in->dispute;
	char text[512], hex[65];
	int n;

	n = snprintf(text, sizeof(text),
		     "offer-inputs 1\ndispute %s\ncurrency %s\nreason %s\n"
		     "price %" PRId64 "\ngoods_cost %" PRId64 "\n"
		     "shipping_paid %" PRId64 "\nship_cost %" PRId64 "\n"
		     "return_cost %" PRId64 "\npolicy %s\noffers_made %zu\n",
		     d->id, d->currency, rd_reason_name(d->reason), f->price,
		     f->goods_cost, f->shipping_paid, f->ship_cost,
		     f->return_cost, policy->hash, in->offers_made);
	if (n < 0 || (size_t)n >= sizeof(text))
		n = (int)sizeof(text) - 1;  /* cannot happen: bounded fields */
	rd_def_sha256_hex(hex, text, (size_t)n);
	memcpy(out, hex, 8);
	out[8] = '\0';
}

static int gather(struct figures *f, const rd_policy *policy,
		  const rd_offer_inputs *in, rd_error *err)
{
	const rd_dispute *d;
	const struct of_reason_rule *rule;
	int rc;

	memset(f, 0, sizeof(*f));
	if (!policy || !in || !in->dispute)
		return rd_error_set(err, RD_EINTERNAL,
				    "the offer engine needs a policy and a "
				    "dispute");
	if (in->declined_count && !in->declined)
		return rd_error_set(err, RD_EINTERNAL,
				    "%zu declined offers given without their "
				    "terms", in->declined_count);
	d = in->dispute;
	f->cur = rd_currency_find(d->currency);
	if (!f->cur)
		return rd_error_set_field(err, RD_EINVALID, "currency",
					  "dispute %s has unknown currency "
					  "\"%.3s\"", d->id, d->currency);
	if ((unsigned)d->reason >= RD_REASON_COUNT)
		return rd_error_set_field(err, RD_EINVALID, "reason",
					  "dispute %s has no valid reason",
					  d->id);
	rule = &policy->reasons[d->reason];
	f->rule = rule;
	f->refund_shipping = policy->refund_shipping;
	f->shipping_paid = d->shipping_paid;
	f->ship_cost = d->ship_cost;
	f->return_cost = d->return_cost;
	if ((rc = rd_dispute_price(&f->price, d, err)) < 0 ||
	    (rc = rd_dispute_goods_cost(&f->goods_cost, d, err)) < 0 ||
	    (rc = rd_money_add(&f->full, f->price,
			       f->refund_shipping ? f->shipping_paid : 0,
			       err)) < 0)
		return rc;
	if (f->price < 0 || f->shipping_paid < 0)
		return rd_error_set(err, RD_EINVALID,
				    "dispute %s has a negative price or "
				    "shipping_paid", d->id);
	if (f->goods_cost != RD_AMOUNT_UNSET &&
	    (rc = rd_money_mul_ratio(&f->salvage, f->goods_cost,
				     rule->salvage_bp, OF_BP_ONE, err)) < 0)
		return rc;
	f->step = of_policy_step(policy, f->cur);
	if ((rc = rung_amount(&f->max_discount, f, policy->max_discount_bp,
			      err)) < 0)
		return rc;
	if (f->max_discount < f->step)
		f->max_discount = f->step;
	inputs_digest(f->inputs, in, f, policy);
	return RD_OK;
}

/* ---- one offer ------------------------------------------------------------ */

/*
 * A new proposal for these terms at the end of `out`, *added = NULL when
 * the same offer is already there (two rungs that round to one amount).
 */
static int add_offer(rd_proposal **added, rd_proposals *out,
		     const struct figures *f, rd_offer_type type,
		     int64_t refund, int64_t copay, rd_error *err)
{
	rd_proposal *p;
	int n;

	*added = NULL;
	for (size_t i = 0; i < out->count; i++) {
		const rd_offer_terms *t = &out->items[i].terms;

		if (t->type == type && t->buyer_refund == refund &&
		    t->buyer_copay == copay)
			return RD_OK;
	}
	if (out->count >= RD_OFFER_MAX_PROPOSALS)
		return rd_error_set(err, RD_EINTERNAL,
				    "more than %d offers to consider",
				    RD_OFFER_MAX_PROPOSALS);
	p = &out->items[out->count];
	n = snprintf(p->offer_id, sizeof(p->offer_id), "o-%s-%s-%" PRId64,
		     f->inputs, rd_offer_type_name(type),
		     type == RD_OFFER_RESHIPMENT ? copay : refund);
	if (n < 0 || (size_t)n >= sizeof(p->offer_id))
		return rd_error_set(err, RD_ETOOLARGE,
				    "an offer id for amount %" PRId64
				    " would be too long",
				    type == RD_OFFER_RESHIPMENT ? copay : refund);
	p->terms.type = type;
	p->terms.buyer_refund = refund;
	p->terms.buyer_copay = copay;
	p->terms.seller_cost = RD_AMOUNT_UNSET;
	out->count++;
	*added = p;
	return RD_OK;
}

static int offer_discount(rd_proposals *out, const struct figures *f,
			  int64_t bp, rd_error *err)
{
	struct amount_text step, limit;
	rd_proposal *p;
	int64_t discount;
	int rc;

	if ((rc = rung_amount(&discount, f, bp, err)) < 0)
		return rc;
	if (discount < f->step)
		discount = f->step;
	if ((rc = add_offer(&p, out, f, RD_OFFER_PARTIAL_DISCOUNT, discount,
			    0, err)) < 0 || !p)
		return rc;
	p->terms.seller_cost = discount;
	add_line(p, "discount refunded to the buyer", discount);
	text_set(p->explanation, sizeof(p->explanation),
		 "Refund %s %s as a discount (%s of the price); the buyer "
		 "keeps the item. It costs the seller %s %s.",
		 money(f, discount).s, f->cur->code, percent(bp).s,
		 money(f, discount).s, f->cur->code);
	step = money(f, f->step);
	limit = money(f, f->price);
	if (discount > f->price)
		cut(p, "one rounding step (%s %s) is more than the price "
		    "(%s %s)", step.s, f->cur->code, limit.s, f->cur->code);
	else if (discount > f->max_discount)
		cut(p, "more than the policy's cap on discounts (%s %s)",
		    money(f, f->max_discount).s, f->cur->code);
	return RD_OK;
}

static int offer_reshipment(rd_proposals *out, const struct figures *f,
			    int64_t bp, rd_error *err)
{
	const char *code = f->cur->code;
	int known = f->goods_cost != RD_AMOUNT_UNSET &&
		    f->ship_cost != RD_AMOUNT_UNSET;
	struct amount_text copay_text;
	int64_t copay = 0, replacement = 0, cost, most;
	int capped = 0;
	rd_proposal *p;
	int rc;

	if (bp > 0 && (rc = rung_amount(&copay, f, bp, err)) < 0)
		return rc;
	if (known &&
	    (rc = rd_money_add(&replacement, f->goods_cost, f->ship_cost,
			       err)) < 0)
		return rc;
	/* the buyer never pays more than the replacement costs the seller */
	most = replacement - replacement % f->step;
	if (known && copay > most) {
		copay = most;
		capped = 1;
	}
	if ((rc = add_offer(&p, out, f, RD_OFFER_RESHIPMENT, 0, copay,
			    err)) < 0 || !p)
		return rc;
	copay_text = money(f, copay);
	if (!known) {
		int no_goods = f->goods_cost == RD_AMOUNT_UNSET;

		text_set(p->explanation, sizeof(p->explanation),
			 "Send a replacement; the buyer pays %s %s towards it "
			 "(%s of the price). Its cost to the seller is "
			 "unknown: the dispute gives no %s.",
			 copay_text.s, code, percent(bp).s,
			 no_goods ? "goods cost" : "shipping cost");
		if (no_goods)
			cut(p, "goods cost unknown: an item has no unit_cost, "
			    "so a replacement cannot be costed");
		else
			cut(p, "shipping cost unknown: the dispute has no "
			    "ship_cost, so a replacement cannot be costed");
		return RD_OK;
	}
	if ((rc = rd_money_sub(&cost, replacement, copay, err)) < 0)
		return rc;
	p->terms.seller_cost = cost;
	add_line(p, "goods cost of the replacement", f->goods_cost);
	add_line(p, "shipping the replacement", f->ship_cost);
	if (copay > 0) {
		char share[80];

		if (capped)
			text_set(share, sizeof(share),
				 "capped at what the replacement costs");
		else
			text_set(share, sizeof(share), "%s of the price",
				 percent(bp).s);
		add_line(p, "buyer's co-pay", -copay);
		text_set(p->explanation, sizeof(p->explanation),
			 "Send a replacement; the buyer pays %s %s towards it "
			 "(%s). It costs the seller %s %s: goods %s + "
			 "shipping %s - co-pay %s.",
			 copay_text.s, code, share, money(f, cost).s, code,
			 money(f, f->goods_cost).s, money(f, f->ship_cost).s,
			 copay_text.s);
	} else {
		text_set(p->explanation, sizeof(p->explanation),
			 "Send a replacement at no charge to the buyer. It "
			 "costs the seller %s %s: goods %s + shipping %s.",
			 money(f, cost).s, code, money(f, f->goods_cost).s,
			 money(f, f->ship_cost).s);
	}
	return RD_OK;
}

/* "price 100.00 + shipping 15.00", or "the price" alone. */
static void refund_parts(char *buf, size_t size, const struct figures *f)
{
	if (f->refund_shipping && f->shipping_paid > 0)
		text_set(buf, size, "price %s + shipping %s",
			 money(f, f->price).s, money(f, f->shipping_paid).s);
	else if (f->shipping_paid > 0)
		text_set(buf, size, "the price; shipping paid is not refunded");
	else
		text_set(buf, size, "the price");
}

static void refund_lines(rd_proposal *p, const struct figures *f)
{
	add_line(p, "refund of the price", f->price);
	if (f->refund_shipping && f->shipping_paid > 0)
		add_line(p, "refund of shipping paid", f->shipping_paid);
}

static int offer_refund_keep_item(rd_proposals *out, const struct figures *f,
				  rd_error *err)
{
	const char *code = f->cur->code;
	char parts[120];
	rd_proposal *p;
	int rc;

	if ((rc = add_offer(&p, out, f, RD_OFFER_REFUND_KEEP_ITEM, f->full, 0,
			    err)) < 0 || !p)
		return rc;
	p->terms.seller_cost = f->full;
	refund_lines(p, f);
	refund_parts(parts, sizeof(parts), f);
	text_set(p->explanation, sizeof(p->explanation),
		 "Refund %s %s in full (%s); the buyer keeps the item. It "
		 "costs the seller %s %s.",
		 money(f, f->full).s, code, parts, money(f, f->full).s, code);
	return RD_OK;
}

static int offer_refund_with_return(rd_proposals *out,
				    const struct figures *f, rd_error *err)
{
	const struct of_reason_rule *rule = f->rule;
	const char *code = f->cur->code;
	int64_t refund = f->full, cost, label_cost = 0, return_limit = 0;
	int64_t salvage = f->salvage;
	int by_buyer = rule->return_paid_by_buyer;
	int known = f->return_cost != RD_AMOUNT_UNSET;
	char parts[120];
	rd_proposal *p;
	int rc;

	if (known && by_buyer) {
		/* a label dearer than the refund leaves nothing to pay */
		if (f->return_cost >= f->full)
			refund = 0;
		else if ((rc = rd_money_sub(&refund, f->full, f->return_cost,
					    err)) < 0)
			return rc;
	}
	if (known && !by_buyer)
		label_cost = f->return_cost;
	if ((rc = add_offer(&p, out, f, RD_OFFER_REFUND_WITH_RETURN, refund,
			    0, err)) < 0 || !p)
		return rc;
	refund_parts(parts, sizeof(parts), f);
	if (!known) {
		text_set(p->explanation, sizeof(p->explanation),
			 "Refund %s %s (%s) once the item is back. Its cost "
			 "to the seller is unknown: the dispute gives no "
			 "return cost.",
			 money(f, f->full).s, code, parts);
		cut(p, "return cost unknown: the dispute has no return_cost, "
		    "so a return cannot be costed");
		return RD_OK;
	}
	if (refund == 0) {
		text_set(p->explanation, sizeof(p->explanation),
			 "Take the item back for nothing: the %s %s return "
			 "label the buyer pays is more than the refund "
			 "(%s %s).",
			 money(f, f->return_cost).s, code,
			 money(f, f->full).s, code);
		cut(p, "the return label (%s %s) would take the whole refund",
		    money(f, f->return_cost).s, code);
		return RD_OK;
	}
	if ((rc = rd_money_add(&cost, refund, label_cost, err)) < 0)
		return rc;
	/* a returned item never earns the seller more than it pays out */
	if (salvage > cost)
		salvage = cost;
	cost -= salvage;
	p->terms.seller_cost = cost;
	refund_lines(p, f);
	if (by_buyer)
		add_line(p, "return label paid by the buyer, taken from the "
			 "refund", -f->return_cost);
	else
		add_line(p, "return label", f->return_cost);
	if (salvage != 0)
		add_line(p, "worth of the returned item to the seller",
			 -salvage);
	if (by_buyer)
		text_set(p->explanation, sizeof(p->explanation),
			 "Refund %s %s once the item is back (%s, less the "
			 "%s return label the buyer pays). It costs the "
			 "seller %s %s: refund %s - returned item's worth %s "
			 "(%s of goods cost).",
			 money(f, refund).s, code, parts,
			 money(f, f->return_cost).s, money(f, cost).s, code,
			 money(f, refund).s, money(f, salvage).s,
			 percent(rule->salvage_bp).s);
	else
		text_set(p->explanation, sizeof(p->explanation),
			 "Refund %s %s once the item is back (%s); the seller "
			 "pays the return label. It costs the seller %s %s: "
			 "refund %s + return label %s - returned item's "
			 "worth %s (%s of goods cost).",
			 money(f, refund).s, code, parts, money(f, cost).s,
			 code, money(f, refund).s, money(f, f->return_cost).s,
			 money(f, salvage).s, percent(rule->salvage_bp).s);
	/* return_cost <= price * share exactly: compare with the floor */
	if (rule->return_max_bp != OF_NO_LIMIT)
		return_limit = f->price / OF_BP_ONE * rule->return_max_bp +
			       f->price % OF_BP_ONE * rule->return_max_bp /
				       OF_BP_ONE;
	if (rule->return_max_bp != OF_NO_LIMIT && f->return_cost > return_limit)
		cut(p, "return shipping (%s %s) is more than %s of the price "
		    "(%s %s): no return is asked",
		    money(f, f->return_cost).s, code,
		    percent(rule->return_max_bp).s,
		    money(f, return_limit).s, code);
	return RD_OK;
}

/* ---- dominance and ranking -------------------------------------------- */

static int candidate(const rd_proposal *p)
{
	return !p->cut && p->terms.seller_cost != RD_AMOUNT_UNSET;
}

/*
 * y makes x pointless: it gives the buyer at least as much and costs the
 * seller no more. Two offers as good as each other for both sides (a
 * discount of the whole refund and the refund itself) keep the one later in
 * the type order, the plainer refund.
 */
static int dominates(const rd_proposal *y, const rd_proposal *x,
		     int64_t full)
{
	if (!of_buyer_at_least(&y->terms, &x->terms, full))
		return 0;
	if (y->terms.seller_cost != x->terms.seller_cost)
		return y->terms.seller_cost < x->terms.seller_cost;
	if (!of_buyer_at_least(&x->terms, &y->terms, full))
		return 1;
	return type_rank(y->terms.type) > type_rank(x->terms.type);
}

/*
 * Ranking order: seller cost ascending; then more for the buyer first; then
 * type order; then amount.
 */
static int rank_compare(const rd_proposal *a, const rd_proposal *b,
			int64_t full)
{
	int a_more, b_more;

	if (a->terms.seller_cost != b->terms.seller_cost)
		return a->terms.seller_cost < b->terms.seller_cost ? -1 : 1;
	a_more = of_buyer_at_least(&a->terms, &b->terms, full);
	b_more = of_buyer_at_least(&b->terms, &a->terms, full);
	if (a_more != b_more)
		return a_more ? -1 : 1;
	if (type_rank(a->terms.type) != type_rank(b->terms.type))
		return type_rank(a->terms.type) < type_rank(b->terms.type) ? -1
									  : 1;
	if (id_amount(&a->terms) != id_amount(&b->terms))
		return id_amount(&a->terms) < id_amount(&b->terms) ? -1 : 1;
	return 0;
}

/* "a free replacement", "a discount of 20.00 USD"... */
static void describe(char *buf, size_t size, const rd_proposal *p,
		     const struct figures *f)
{
	switch (p->terms.type) {
	case RD_OFFER_PARTIAL_DISCOUNT:
		text_set(buf, size, "a discount of %s %s",
			 money(f, p->terms.buyer_refund).s, f->cur->code);
		return;
	case RD_OFFER_RESHIPMENT:
		if (p->terms.buyer_copay == 0)
			text_set(buf, size, "a free replacement");
		else
			text_set(buf, size,
				 "a replacement with a co-pay of %s %s",
				 money(f, p->terms.buyer_copay).s,
				 f->cur->code);
		return;
	case RD_OFFER_REFUND_KEEP_ITEM:
		text_set(buf, size, "a full refund keeping the item");
		return;
	case RD_OFFER_REFUND_WITH_RETURN:
	case RD_OFFER_TYPE_COUNT:
		break;
	}
	text_set(buf, size, "a refund of %s %s after return",
		 money(f, p->terms.buyer_refund).s, f->cur->code);
}

static const char *this_offer(const rd_proposal *p)
{
	switch (p->terms.type) {
	case RD_OFFER_PARTIAL_DISCOUNT: return "this discount";
	case RD_OFFER_RESHIPMENT: return "this replacement";
	case RD_OFFER_REFUND_KEEP_ITEM:
	case RD_OFFER_REFUND_WITH_RETURN:
	case RD_OFFER_TYPE_COUNT:
		break;
	}
	return "this refund";
}

/*
 * Cut every candidate another candidate dominates, naming the cheapest
 * undominated one (there always is one: dominance is transitive).
 */
static void cut_dominated(rd_proposals *out, const struct figures *f)
{
	int dominated[RD_OFFER_MAX_PROPOSALS] = { 0 };
	size_t n = out->count;

	for (size_t x = 0; x < n; x++) {
		if (!candidate(&out->items[x]))
			continue;
		for (size_t y = 0; y < n && !dominated[x]; y++)
			if (y != x && candidate(&out->items[y]) &&
			    dominates(&out->items[y], &out->items[x], f->full))
				dominated[x] = 1;
	}
	for (size_t x = 0; x < n; x++) {
		const rd_proposal *best = NULL;
		rd_proposal *p = &out->items[x];
		char who[120];

		if (!dominated[x])
			continue;
		for (size_t y = 0; y < n; y++) {
			const rd_proposal *q = &out->items[y];

			if (y == x || dominated[y] || !candidate(q) ||
			    !dominates(q, p, f->full))
				continue;
			if (!best || rank_compare(q, best, f->full) < 0)
				best = q;
		}
		if (!best) {
			cut(p, "another offer gives the buyer at least as "
			    "much for less");
			continue;
		}
		describe(who, sizeof(who), best, f);
		cut(p, "%s costs the seller %s %s, %s %s at %s %s, and gives "
		    "the buyer at least as much",
		    who, money(f, best->terms.seller_cost).s, f->cur->code,
		    best->terms.seller_cost < p->terms.seller_cost
			    ? "less than" : "no more than",
		    this_offer(p), money(f, p->terms.seller_cost).s,
		    f->cur->code);
	}
}

/*
 * The full-refund ceiling: a full refund settles the buyer's claim, so no
 * offer may cost the seller more than the dearest full refund the policy
 * allows here. The ceiling is taken among the candidates before dominance
 * cuts any of them; NULL when no full refund is a candidate.
 */
static const rd_proposal *full_refund_ceiling(const rd_proposals *out)
{
	const rd_proposal *ceiling = NULL;

	for (size_t i = 0; i < out->count; i++) {
		const rd_proposal *p = &out->items[i];

		if (!candidate(p) ||
		    (p->terms.type != RD_OFFER_REFUND_KEEP_ITEM &&
		     p->terms.type != RD_OFFER_REFUND_WITH_RETURN))
			continue;
		if (!ceiling || p->terms.seller_cost > ceiling->terms.seller_cost)
			ceiling = p;
	}
	return ceiling;
}

static void cut_above_full_refund(rd_proposals *out, const struct figures *f,
				  const rd_proposal *ceiling)
{
	char who[120];

	if (!ceiling)
		return;
	describe(who, sizeof(who), ceiling, f);
	for (size_t i = 0; i < out->count; i++) {
		rd_proposal *p = &out->items[i];

		if (!candidate(p) ||
		    p->terms.seller_cost <= ceiling->terms.seller_cost)
			continue;
		cut(p, "costs the seller %s %s, more than %s (%s %s) would",
		    money(f, p->terms.seller_cost).s, f->cur->code, who,
		    money(f, ceiling->terms.seller_cost).s, f->cur->code);
	}
}

/* Proposed offers first, in ranking order, then the cut ones as considered. */
static void sort_and_rank(rd_proposals *out, const struct figures *f)
{
	size_t order[RD_OFFER_MAX_PROPOSALS];
	size_t n = out->count, held_index;
	rd_proposal held;

	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		order[i] = i;
		/* insertion sort: stable, so cut offers keep their order */
		while (j > 0) {
			const rd_proposal *a = &out->items[order[j - 1]];
			const rd_proposal *b = &out->items[order[j]];
			int after;

			if (a->cut != b->cut)
				after = a->cut;
			else
				after = !a->cut &&
					rank_compare(a, b, f->full) > 0;
			if (!after)
				break;
			held_index = order[j - 1];
			order[j - 1] = order[j];
			order[j] = held_index;
			j--;
		}
	}
	/* apply the permutation in place, one cycle at a time */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		if (order[i] == i)
			continue;
		memcpy(&held, &out->items[i], sizeof(held));
		for (;;) {
			size_t from = order[j];

			order[j] = j;
			if (from == i)
				break;
			memcpy(&out->items[j], &out->items[from],
			       sizeof(out->items[j]));
			j = from;
		}
		memcpy(&out->items[j], &held, sizeof(held));
	}
	out->proposed = 0;
	for (size_t i = 0; i < n; i++) {
		if (out->items[i].cut) {
			out->items[i].rank = 0;
			continue;
		}
		out->items[i].rank = (int)++out->proposed;
	}
}

static int same_offer(const rd_offer_terms *a, const rd_offer_terms *b)
{
	return a->type == b->type && a->buyer_refund == b->buyer_refund &&
	       a->buyer_copay == b->buyer_copay;
}

/* ---- the buyer's history ----------------------------------------------------- */

/*
 * 1 when the policy's buyer_history rule withholds refund_keep_item: the
 * buyer had more than max_refunds refunded disputes in its window (the
 * count is the caller's: the engine does no I/O).
 */
static int history_withholds(const rd_policy *policy,
			     const rd_offer_inputs *in)
{
	return policy->history_days > 0 &&
	       policy->reasons[in->dispute->reason].offers &
		       (1u << RD_OFFER_REFUND_KEEP_ITEM) &&
	       in->buyer_refunds > policy->history_max_refunds;
}

/* Say on every offer why no refund without return is among them. */
static void explain_withheld(rd_proposals *out, const rd_policy *policy,
			     const rd_offer_inputs *in)
{
	const char *buyer = in->dispute->buyer_ref ? in->dispute->buyer_ref
						   : "";

	for (size_t i = 0; i < out->count; i++) {
		rd_proposal *p = &out->items[i];
		size_t used = strlen(p->explanation);

		snprintf(p->explanation + used, sizeof(p->explanation) - used,
			 " Buyer %.64s had %" PRId64 " refund%s in the last "
			 "%" PRId64 " days; refund without return is "
			 "withheld above %" PRId64 ".",
			 buyer, in->buyer_refunds,
			 in->buyer_refunds == 1 ? "" : "s",
			 policy->history_days, policy->history_max_refunds);
	}
}

int rd_offer_propose(rd_proposals *out, const rd_policy *policy,
		     const rd_offer_inputs *in, rd_error *err)
{
	const rd_proposal *ceiling;
	struct figures f;
	unsigned offers;
	int rc;

	if (!out)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_offer_propose needs an output");
	memset(out, 0, sizeof(*out));
	if ((rc = gather(&f, policy, in, err)) < 0)
		return rc;
	offers = f.rule->offers;
	if (offers & (1u << RD_OFFER_PARTIAL_DISCOUNT))
		for (size_t i = 0; i < policy->discount_count; i++)
			if ((rc = offer_discount(out, &f, policy->discount_bp[i],
						 err)) < 0)
				goto done;
	if (offers & (1u << RD_OFFER_RESHIPMENT)) {
		for (size_t i = 0; f.rule->copay && i < policy->copay_count;
		     i++)
			if ((rc = offer_reshipment(out, &f, policy->copay_bp[i],
						   err)) < 0)
				goto done;
		/* the free replacement is always the bottom rung */
		if ((rc = offer_reshipment(out, &f, 0, err)) < 0)
			goto done;
	}
	if ((offers & (1u << RD_OFFER_REFUND_KEEP_ITEM)) &&
	    !history_withholds(policy, in) &&
	    (rc = offer_refund_keep_item(out, &f, err)) < 0)
		goto done;
	if ((offers & (1u << RD_OFFER_REFUND_WITH_RETURN)) &&
	    (rc = offer_refund_with_return(out, &f, err)) < 0)
		goto done;
	for (size_t i = 0; i < out->count; i++) {
		rd_proposal *p = &out->items[i];

		for (size_t j = 0; !p->cut && j < in->declined_count; j++)
			if (same_offer(&p->terms, &in->declined[j]))
				cut(p, "the buyer already declined it");
	}
	ceiling = full_refund_ceiling(out);
	cut_dominated(out, &f);
	cut_above_full_refund(out, &f, ceiling);
	sort_and_rank(out, &f);
	if (history_withholds(policy, in))
		explain_withheld(out, policy, in);
	rc = RD_OK;
done:
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

const rd_proposal *rd_proposals_find(const rd_proposals *set,
				     const char *offer_id)
{
	if (!set || !offer_id)
		return NULL;
	for (size_t i = 0; i < set->count && i < RD_OFFER_MAX_PROPOSALS; i++)
		if (strcmp(set->items[i].offer_id, offer_id) == 0)
			return &set->items[i];
	return NULL;
}

/* Length of "o-<8 hex>-", the part of an id before "<type>-<amount>". */
#define OFFER_ID_PREFIX_LEN 11

const rd_proposal *rd_proposals_find_versioned(const rd_proposals *set,
					       const char *offer_id,
					       int64_t version)
{
	char prefix[32];
	size_t len;

	if (!set || !offer_id)
		return NULL;
	snprintf(prefix, sizeof(prefix), "v%" PRId64 "-", version);
	len = strlen(prefix);
	if (strncmp(offer_id, prefix, len) != 0)
		return NULL;
	for (size_t i = 0; i < set->count && i < RD_OFFER_MAX_PROPOSALS; i++)
		if (strlen(set->items[i].offer_id) > OFFER_ID_PREFIX_LEN &&
		    strcmp(set->items[i].offer_id + OFFER_ID_PREFIX_LEN,
			   offer_id + len) == 0)
			return &set->items[i];
	return NULL;
}

/* ---- counter-offers ------------------------------------------------------- */

/* a is more generous to the buyer than b (same type): more refund, less co-pay */
static int more_generous(const rd_offer_terms *a, const rd_offer_terms *b)
{
	if (a->type == RD_OFFER_RESHIPMENT)
		return a->buyer_copay < b->buyer_copay;
	return a->buyer_refund > b->buyer_refund;
}

/*
 * The terms of `type` for `amount` (the refund, or the co-pay), costed;
 * *known = 0 when a cost figure is missing. A known cost is never below
 * zero.
 */
static int counter_terms(rd_offer_terms *t, int *known,
			 const struct figures *f, rd_offer_type type,
			 int64_t amount, rd_error *err)
{
	int64_t label;
	int rc;

	t->type = type;
	t->seller_cost = RD_AMOUNT_UNSET;
	*known = 0;
	switch (type) {
	case RD_OFFER_PARTIAL_DISCOUNT:
	case RD_OFFER_REFUND_KEEP_ITEM:
		t->buyer_refund = amount;
		t->seller_cost = amount;
		*known = 1;
		return RD_OK;
	case RD_OFFER_REFUND_WITH_RETURN:
		t->buyer_refund = amount;
		if (f->return_cost == RD_AMOUNT_UNSET)
			return RD_OK;
		label = f->rule->return_paid_by_buyer ? 0 : f->return_cost;
		if ((rc = rd_money_add(&t->seller_cost, amount, label,
				       err)) < 0)
			return rc;
		*known = 1;
		return rd_money_sub(&t->seller_cost, t->seller_cost,
				    f->salvage < t->seller_cost
					    ? f->salvage : t->seller_cost,
				    err);
	case RD_OFFER_RESHIPMENT:
		t->buyer_copay = amount;
		if (f->goods_cost == RD_AMOUNT_UNSET ||
		    f->ship_cost == RD_AMOUNT_UNSET)
			return RD_OK;
		if ((rc = rd_money_add(&t->seller_cost, f->goods_cost,
				       f->ship_cost, err)) < 0)
			return rc;
		*known = 1;
		/*
		 * The buyer never pays more than the replacement costs the
		 * seller, as for the proposals: a larger co-pay is taken at
		 * that cost, so the seller never profits and the cost is
		 * never read as unknown (RD_AMOUNT_UNSET is -1).
		 */
		if (t->buyer_copay > t->seller_cost)
			t->buyer_copay = t->seller_cost;
		return rd_money_sub(&t->seller_cost, t->seller_cost,
				    t->buyer_copay, err);
	case RD_OFFER_TYPE_COUNT:
		break;
	}
	return rd_error_set(err, RD_EINTERNAL, "unhandled offer type");
}

int rd_offer_counter(rd_counter_verdict *verdict, rd_offer_terms *counter,
		     rd_proposal *next, const rd_policy *policy,
		     const rd_offer_inputs *in, const rd_offer_terms *pending,
		     int64_t amount, rd_error *err)
{
	rd_proposals *set = NULL;
	const rd_proposal *rung = NULL;
	struct figures f;
	int64_t limit;
	int known, rc;

	if (!verdict || !counter || !pending)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_offer_counter needs a verdict, a "
				    "counter and the pending offer");
	*verdict = RD_COUNTER_HOLD;
	memset(counter, 0, sizeof(*counter));
	if (next)
		memset(next, 0, sizeof(*next));
	if ((rc = gather(&f, policy, in, err)) < 0)
		return rc;
	if ((unsigned)pending->type >= RD_OFFER_TYPE_COUNT)
		return rd_error_set(err, RD_EINVALID,
				    "the pending offer has no valid type");
	limit = f.price;
	if (pending->type != RD_OFFER_RESHIPMENT &&
	    (rc = rd_money_add(&limit, f.price, f.shipping_paid, err)) < 0)
		return rc;
	if (amount < 0 || amount > limit)
		return rd_error_set_field(err, RD_EINVALID, "amount",
			"field amount must be from 0 to %s %s (%s), got %s",
			money(&f, limit).s, f.cur->code,
			pending->type == RD_OFFER_RESHIPMENT
				? "the co-pay is at most the price"
				: "the price plus shipping paid",
			money(&f, amount).s);
	if ((rc = counter_terms(counter, &known, &f, pending->type, amount,
				err)) < 0)
		return rc;
	if (!more_generous(counter, pending)) {
		*verdict = RD_COUNTER_ACCEPT;
		return RD_OK;
	}
	set = malloc(sizeof(*set));
	if (!set)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((rc = rd_offer_propose(set, policy, in, err)) < 0)
		goto done;
	for (size_t i = 0; i < set->proposed && !rung; i++)
		if (set->items[i].terms.type == pending->type &&
		    more_generous(&set->items[i].terms, pending))
			rung = &set->items[i];
	if (!rung) {
		*verdict = RD_COUNTER_HOLD;
	} else if (known && counter->seller_cost <= rung->terms.seller_cost) {
		*verdict = RD_COUNTER_ACCEPT;
	} else {
		*verdict = RD_COUNTER_PROPOSE_NEXT;
		if (next)
			memcpy(next, rung, sizeof(*next));
	}
	rc = RD_OK;
done:
	free(set);
	return rc;
}

/* ---- JSON ----------------------------------------------------------------- */

static int put(json_t *obj, const char *key, json_t *value)
{
	return value ? json_object_set_new(obj, key, value) : -1;
}

json_t *rd_proposal_to_json(const rd_proposal *proposal)
{
	const rd_proposal *p = proposal;
	json_t *obj = NULL, *lines = NULL;
	const char *type_name;

	if (!p)
		return NULL;
	type_name = rd_offer_type_name(p->terms.type);
	obj = json_object();
	lines = json_array();
	if (!obj || !lines || !type_name)
		goto fail;
	for (size_t i = 0; i < p->line_count && i < RD_OFFER_MAX_LINES; i++) {
		json_t *line = json_object();

		if (!line || json_array_append_new(lines, line) < 0 ||
		    put(line, "label", json_string(p->lines[i].label)) < 0 ||
		    put(line, "amount", json_integer(p->lines[i].amount)) < 0)
			goto fail;
	}
	if (put(obj, "offer_id", json_string(p->offer_id)) < 0 ||
	    put(obj, "type", json_string(type_name)) < 0 ||
	    put(obj, "buyer_refund", json_integer(p->terms.buyer_refund)) < 0 ||
	    put(obj, "buyer_copay", json_integer(p->terms.buyer_copay)) < 0 ||
	    put(obj, "seller_cost",
		p->terms.seller_cost == RD_AMOUNT_UNSET
			? json_null()
			: json_integer(p->terms.seller_cost)) < 0 ||
	    put(obj, "rank", json_integer(p->rank)) < 0 ||
	    put(obj, "cut", json_boolean(p->cut)) < 0 ||
	    put(obj, "cut_reason",
		p->cut ? json_string(p->cut_reason) : json_null()) < 0 ||
	    put(obj, "explanation", json_string(p->explanation)) < 0)
		goto fail;
	if (json_object_set(obj, "breakdown", lines) < 0)
		goto fail;
	json_decref(lines);
	return obj;
fail:
	json_decref(lines);
	json_decref(obj);
	return NULL;
}
