/*
 * A buyer's history: the same storefront's other disputes of a dispute's
 * buyer_ref opened in a window of days before now, counted by reason and
 * by outcome ("open" while a dispute has none), with the money the
 * storefront has paid back to the buyer, and a page of the buyer's
 * disputes. Read from the index disputes_buyer in O(log n + k) (see
 * store/buyers.c), k at most RD_BUYER_HISTORY_MAX for the document every
 * read of a dispute carries: a buyer_ref shared by thousands of disputes (a
 * storefront's "guest") must not make each read walk them all.
 *
 * Money refunded is what was paid, not what was offered: the amount of the
 * last accepted offer of each dispute whose outcome is "refunded" (the
 * storefront confirmed the refund with refund_issued) or "discounted"
 * (confirmed with discount_issued), summed per currency. A refund accepted
 * but not yet confirmed (refund_pending, a payable) is not counted; nor is
 * a reshipment's cost, which the buyer does not receive.
 *
 * This file only reads.
 */
#include "service_int.h"

#include <stdlib.h>
#include <string.h>

#define DAY_S INT64_C(86400)
#define HISTORY_CURRENCIES 16

typedef struct history_sum {
	json_t *by_reason;
	json_t *by_outcome;
	int64_t disputes;
	int64_t refunds;           /* disputes with outcome "refunded" */
	int64_t most;              /* disputes to count, INT64_MAX: all */
	int truncated;             /* there were more than `most` */
	size_t currencies;
	char currency[HISTORY_CURRENCIES][4];
	int64_t amount[HISTORY_CURRENCIES];
} history_sum;

static int bump(json_t *counts, const char *name)
{
	json_t *v = json_object_get(counts, name);

	return json_object_set_new(counts, name,
				   json_integer(v ? json_integer_value(v) + 1
						  : 1));
}

static int add_row(const rd_buyer_dispute *d, void *ctx)
{
	history_sum *sum = ctx;
	const char *outcome = d->outcome[0] ? d->outcome : "open";
	size_t i;

	if (sum->disputes == sum->most) {
		sum->truncated = 1;
		return 1;	/* the walk stops here */
	}
	sum->disputes++;
	if (strcmp(d->outcome, "refunded") == 0)
		sum->refunds++;
	if (bump(sum->by_reason, d->reason) < 0 ||
	    bump(sum->by_outcome, outcome) < 0)
		return RD_ENOMEM;
	if (d->refund <= 0 || (strcmp(d->outcome, "refunded") != 0 &&
			       strcmp(d->outcome, "discounted") != 0))
		return 0;
	for (i = 0; i < sum->currencies; i++)
		if (strcmp(sum->currency[i], d->currency) == 0)
			break;
	if (i == sum->currencies) {
		if (i == HISTORY_CURRENCIES)
			return 0;  /* a buyer of sixteen currencies: enough */
		memcpy(sum->currency[i], d->currency, 4);
		sum->currencies++;
	}
	if (sum->amount[i] <= INT64_MAX - d->refund)
		sum->amount[i] += d->refund;
	return 0;
}

/* The walk looks at one row past `most` to tell that there were more. */
static int sum_history(rd_service *svc, const rd_dispute *d, int64_t now,
		       int days, int64_t most, history_sum *sum,
		       rd_error *err)
{
	int rc;

	memset(sum, 0, sizeof(*sum));
	sum->most = most;
	sum->by_reason = json_object();
	sum->by_outcome = json_object();
	if (!sum->by_reason || !sum->by_outcome)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	rc = rd_store_buyer_history(svc->store, d->storefront, d->buyer_ref,
				    d->id, now - (int64_t)days * DAY_S, now,
				    most < INT64_MAX ? most + 1 : most,
				    add_row, sum, err);
	if (rc == RD_ENOMEM)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return rc > 0 ? RD_OK : rc;
}

static void sum_clear(history_sum *sum)
{
	json_decref(sum->by_reason);
	json_decref(sum->by_outcome);
	sum->by_reason = sum->by_outcome = NULL;
}

int rd_service_buyer_history(rd_service *svc, const rd_dispute *d,
			     int64_t now, json_t **out, rd_error *err)
{
	history_sum sum;
	json_t *refunded = NULL;
	int rc;

	*out = NULL;
	if (!d->buyer_ref || !d->buyer_ref[0] || !d->storefront) {
		*out = json_null();
		return RD_OK;
	}
	if ((rc = sum_history(svc, d, now, RD_BUYER_HISTORY_DAYS,
			      RD_BUYER_HISTORY_MAX, &sum, err)) < 0)
		goto done;
	if (!(refunded = json_array()))
		goto nomem;
	for (size_t i = 0; i < sum.currencies; i++)
		if (json_array_append_new(refunded, json_pack("{s:I, s:s}",
				"amount", (json_int_t)sum.amount[i],
				"currency", sum.currency[i])) < 0)
			goto nomem;
	*out = json_pack("{s:s, s:i, s:I, s:b, s:O, s:O, s:O}",
			 "buyer_ref", d->buyer_ref,
			 "window_days", RD_BUYER_HISTORY_DAYS,
			 "disputes", (json_int_t)sum.disputes,
			 "truncated", sum.truncated,
			 "by_reason", sum.by_reason,
			 "by_outcome", sum.by_outcome,
			 "refunded", refunded);
	if (!*out)
		goto nomem;
	rc = RD_OK;
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory");
done:
	json_decref(refunded);
	sum_clear(&sum);
	return rc;
}

int rd_service_buyer_refunds(rd_service *svc, const rd_dispute *d,
			     int64_t now, int days, int64_t *refunds,
			     rd_error *err)
{
	history_sum sum;
	int rc;

	*refunds = 0;
	if (!d->buyer_ref || !d->buyer_ref[0] || !d->storefront)
		return RD_OK;
	/* every one: proposing offers is rarer than reading a dispute, and a
	 * rule's threshold may lie beyond the document's cap */
	if ((rc = sum_history(svc, d, now, days, INT64_MAX, &sum,
			      err)) == RD_OK)
		*refunds = sum.refunds;
	sum_clear(&sum);
	return rc;
}

int rd_service_buyer_disputes(rd_service *svc, const char *storefront,
			      const char *buyer_ref, size_t limit,
			      const char *cursor, rd_dispute ***out,
			      size_t *count, char **next_cursor,
			      rd_error *err)
{
	return rd_store_buyer_disputes(svc->store, storefront, buyer_ref,
				       limit, cursor, out, count,
				       next_cursor, err);
}
