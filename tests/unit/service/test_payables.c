/*
 * Payables through the service, on a real data directory driven by the
 * reference workflow: the amount owed is the accepted offer's (a refund,
 * a refund after return less the label, a discount, a counter-offer the
 * engine accepted, a refund accepted after a lost reshipment), the deadline
 * is the state's SLA, the list is scoped by storefront and ordered by
 * deadline, and a dispute leaves it once paid or escalated.
 */
#include <stdlib.h>
#include <string.h>

#include "redress/clock.h"
#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
#define DAY INT64_C(86400)

/* The text of every evidence file the disputes here are given. */
static const char report[] = "Parcel received back at the warehouse on "
			     "2026-03-04, seal intact.\n";

/* All payables (of one storefront, or all) into a new array. */
static int list_all(rd_service *svc, const char *storefront,
		    rd_payable_row **out, size_t *count, rd_error *err)
{
	char *next = NULL;
	int rc = rd_service_payables(svc, storefront, NULL, 500, out, count,
				     &next, err);

	if (rc == RD_OK && next)
		rc = rd_error_set(err, RD_EINTERNAL, "more than one page");
	free(next);
	return rc;
}

static const rd_payable_row *find(const rd_payable_row *rows, size_t count,
				  const char *id)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(rows[i].dispute_id, id) == 0)
			return &rows[i];
	return NULL;
}

static void refund_owed_until_confirmed(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_payable_row *rows = NULL;
	rd_dispute *d = NULL;
	size_t count = 0;
	char id[RD_ID_BUFSZ];
	json_t *doc = NULL;
	char *text = NULL;
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme-eu", "damaged", T0,
				      &err), &err);
	CHECK_OK(rd_test_apply(svc, id, "investigate", RD_ROLE_AGENT, NULL,
			       NULL, T0 + 60, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);       /* opened and investigating owe nothing */
	free(rows);
	CHECK_OK(rd_test_make_offer(svc, id, RD_OFFER_REFUND_KEEP_ITEM, -1,
				    T0 + 120, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);       /* an offer not yet accepted owes nothing */
	free(rows);
	CHECK_OK(rd_test_apply(svc, id, "accept_offer", RD_ROLE_STOREFRONT,
			       NULL, NULL, T0 + 180, &err), &err);

	CHECK_OK(list_all(svc, "acme-eu", &rows, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(rows[0].dispute_id, id);
	CHECK_STR(rows[0].state, "refund_pending");
	CHECK_STR(rows[0].order_ref, "ORD-1");
	CHECK_STR(rows[0].currency, "USD");
	CHECK_INT(rows[0].has_offer, 1);
	CHECK_INT(rows[0].offer_type, RD_OFFER_REFUND_KEEP_ITEM);
	CHECK_INT(rows[0].buyer_refund, 11500);   /* 100.00 + shipping 15.00 */
	CHECK(strncmp(rows[0].offer_id, "o-", 2) == 0);
	CHECK_STR(rows[0].offer_id + 11, "refund_keep_item-11500");
	CHECK_INT(rows[0].due_at, T0 + 180 + 3 * DAY);
	CHECK_INT(rows[0].version, 4);

	doc = rd_payable_to_json(&rows[0], T0 + 180);
	CHECK(doc);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	CHECK(text);
	CHECK_HAS(text, "\"action\":\"refund\"");
	CHECK_HAS(text, "\"amount\":11500");
	CHECK_HAS(text, "\"currency\":\"USD\"");
	CHECK_HAS(text, "\"due_at\":\"2026-03-05T09:03:00Z\"");
	CHECK_HAS(text, "\"overdue\":false");
	CHECK_HAS(text, "\"version\":4");
	CHECK_HAS(text, "\"confirm_event\":\"refund_issued\"");
	CHECK_HAS(text, "\"confirm_fields\":[\"payment_ref\"]");
	free(text);
	/* overdue from the due second on */
	doc = rd_payable_to_json(&rows[0], rows[0].due_at - 1);
	CHECK(json_is_false(json_object_get(doc, "overdue")));
	json_decref(doc);
	doc = rd_payable_to_json(&rows[0], rows[0].due_at);
	CHECK(json_is_true(json_object_get(doc, "overdue")));
	json_decref(doc);
	free(rows);

	CHECK_OK(list_all(svc, "other-shop", &rows, &count, &err), &err);
	CHECK_INT(count, 0);       /* another storefront owes nothing */
	free(rows);

	/* a refund without its payment reference is refused: still owed */
	CHECK_FAILS(rd_test_apply(svc, id, "refund_issued", RD_ROLE_STOREFRONT,
				  NULL, NULL, T0 + 240, &err), RD_EGUARD);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 1);
	free(rows);
	CHECK_OK(rd_test_apply(svc, id, "refund_issued", RD_ROLE_STOREFRONT,
			       "payment_ref", "PAY-1", T0 + 240, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);
	free(rows);
	CHECK_OK(rd_service_dispute_get(svc, id, &d, &err), &err);
	CHECK_STR(d->outcome, "refunded");
	rd_dispute_free(d);
	rd_service_close(svc);
	free(dir);
}

static void discounts_and_counter_offers(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_payable_row *rows = NULL;
	const rd_payable_row *p;
	size_t count = 0;
	char plain[RD_ID_BUFSZ], countered[RD_ID_BUFSZ];
	json_t *doc = NULL;
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_test_open_dispute(svc, plain, 1, "acme-eu", "damaged", T0,
				      &err), &err);
	CHECK_OK(rd_test_apply(svc, plain, "investigate", RD_ROLE_AGENT, NULL,
			       NULL, T0, &err), &err);
	CHECK_OK(rd_test_make_offer(svc, plain, RD_OFFER_PARTIAL_DISCOUNT, 2000,
				    T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, plain, "accept_offer", RD_ROLE_STOREFRONT,
			       NULL, NULL, T0 + 7200, &err), &err);

	/* the buyer asked 15.00 against 10.00; the engine accepted it */
	CHECK_OK(rd_test_open_dispute(svc, countered, 2, "acme-eu", "damaged",
				      T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, countered, "investigate", RD_ROLE_AGENT,
			       NULL, NULL, T0, &err), &err);
	CHECK_OK(rd_test_make_offer(svc, countered, RD_OFFER_PARTIAL_DISCOUNT,
				    1000, T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, countered, "counter_offer",
			       RD_ROLE_STOREFRONT, "amount", "15.00", T0 + 3600,
			       &err), &err);

	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 2);
	/* oldest deadline first: the counter was accepted an hour earlier */
	CHECK_STR(rows[0].dispute_id, countered);
	CHECK_STR(rows[1].dispute_id, plain);
	p = find(rows, count, plain);
	CHECK(p);
	CHECK_STR(p->state, "discount_pending");
	CHECK_INT(p->buyer_refund, 2000);
	CHECK_INT(p->due_at, T0 + 7200 + 3 * DAY);
	p = find(rows, count, countered);
	CHECK(p);
	CHECK_INT(p->buyer_refund, 1500);
	CHECK_INT(p->offer_type, RD_OFFER_PARTIAL_DISCOUNT);
	doc = rd_payable_to_json(p, T0);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "action")),
		  "discount");
	CHECK_STR(json_string_value(json_object_get(doc, "confirm_event")),
		  "discount_issued");
	CHECK_INT(json_integer_value(json_object_get(doc, "amount")), 1500);
	json_decref(doc);
	free(rows);

	/* a page of one, then the next by its cursor */
	{
		rd_payable_row *page = NULL;
		char *next = NULL, *last = NULL;

		CHECK_OK(rd_service_payables(svc, "acme-eu", NULL, 1, &page,
					     &count, &next, &err), &err);
		CHECK_INT(count, 1);
		CHECK_STR(page[0].dispute_id, countered);
		CHECK(next);
		free(page);
		CHECK_OK(rd_service_payables(svc, "acme-eu", next, 1, &page,
					     &count, &last, &err), &err);
		free(next);
		CHECK_INT(count, 1);
		CHECK_STR(page[0].dispute_id, plain);
		CHECK(last == NULL);
		free(page);
	}

	/* the discount's SLA passes: escalated, it is no longer payable */
	CHECK_OK(rd_service_sweep(svc, T0 + 3600 + 3 * DAY, NULL, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(rows[0].dispute_id, plain);
	free(rows);
	CHECK_OK(rd_test_apply(svc, plain, "discount_issued",
			       RD_ROLE_STOREFRONT, "payment_ref", "PAY-9",
			       T0 + 7300, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);
	free(rows);
	rd_service_close(svc);
	free(dir);
}

static void refunds_after_return_and_after_lost_reshipment(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_payable_row *rows = NULL;
	const rd_payable_row *p;
	size_t count = 0;
	char returned[RD_ID_BUFSZ], lost[RD_ID_BUFSZ];
	rd_error err;

	CHECK(svc);
	/* changed mind: refund after return, the buyer pays the label */
	CHECK_OK(rd_test_open_dispute(svc, returned, 1, "acme-eu",
				      "changed_mind", T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, returned, "investigate", RD_ROLE_AGENT,
			       NULL, NULL, T0, &err), &err);
	CHECK_OK(rd_test_make_offer(svc, returned, RD_OFFER_REFUND_WITH_RETURN,
				    -1, T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, returned, "accept_offer",
			       RD_ROLE_STOREFRONT, NULL, NULL, T0, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);       /* awaiting the return: nothing owed yet */
	free(rows);
	CHECK_OK(rd_test_add_text_evidence(svc, returned, "inspection_report",
					   report, T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, returned, "return_received", RD_ROLE_AGENT,
			       NULL, NULL, T0 + DAY, &err), &err);

	/* a reshipment lost in transit, then a refund; all in one second */
	CHECK_OK(rd_test_open_dispute(svc, lost, 2, "bolt", "damaged", T0,
				      &err), &err);
	CHECK_OK(rd_test_apply(svc, lost, "investigate", RD_ROLE_AGENT, NULL,
			       NULL, T0, &err), &err);
	CHECK_OK(rd_test_make_offer(svc, lost, RD_OFFER_RESHIPMENT, 7000, T0,
				    &err), &err);
	CHECK_OK(rd_test_apply(svc, lost, "accept_offer", RD_ROLE_STOREFRONT,
			       NULL, NULL, T0, &err), &err);
	CHECK_OK(rd_test_add_text_evidence(svc, lost, "tracking_record", report,
					   T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, lost, "shipment_sent", RD_ROLE_AGENT,
			       "tracking_number", "TRK-1", T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, lost, "reshipment_lost", RD_ROLE_AGENT,
			       NULL, NULL, T0, &err), &err);
	CHECK_OK(rd_test_make_offer(svc, lost, RD_OFFER_REFUND_KEEP_ITEM, -1,
				    T0, &err), &err);
	CHECK_OK(rd_test_apply(svc, lost, "accept_offer", RD_ROLE_STOREFRONT,
			       NULL, NULL, T0, &err), &err);

	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(rows[0].dispute_id, lost);      /* due T0 + 3 days */
	CHECK_STR(rows[1].dispute_id, returned);  /* due T0 + 4 days */
	p = find(rows, count, returned);
	CHECK(p);
	CHECK_STR(p->state, "refund_pending");
	CHECK_INT(p->offer_type, RD_OFFER_REFUND_WITH_RETURN);
	CHECK_INT(p->buyer_refund, 9000);   /* 115.00 less the 25.00 label */
	CHECK_INT(p->due_at, T0 + DAY + 3 * DAY);
	p = find(rows, count, lost);
	CHECK(p);
	CHECK_STR(p->storefront, "bolt");
	CHECK_INT(p->offer_type, RD_OFFER_REFUND_KEEP_ITEM);
	CHECK_INT(p->buyer_refund, 11500);
	free(rows);

	CHECK_OK(list_all(svc, "bolt", &rows, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(rows[0].dispute_id, lost);
	free(rows);
	rd_service_close(svc);
	free(dir);
}

static void bad_requests_refused(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_payable_row *rows = NULL;
	size_t count = 3;
	char *next = NULL;
	rd_error err;

	CHECK(svc);
	CHECK_FAILS(rd_service_payables(svc, "Acme EU", NULL, 0, &rows, &count,
					&next, &err), RD_EINVALID);
	CHECK_STR(err.field, "storefront");
	CHECK(rows == NULL && count == 0 && next == NULL);
	CHECK_FAILS(rd_service_payables(svc, NULL, "bm90IGEgY3Vyc29y", 0,
					&rows, &count, &next, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "cursor");
	CHECK_FAILS(rd_service_payables(svc, NULL, NULL, 501, &rows, &count,
					&next, &err), RD_EINVALID);
	CHECK_STR(err.field, "limit");
	CHECK(rd_payable_action("refund_pending") &&
	      strcmp(rd_payable_action("refund_pending"), "refund") == 0);
	CHECK(rd_payable_action("reshipment_pending") == NULL);
	CHECK(rd_payable_confirm_event(NULL) == NULL);
	rd_service_close(svc);
	free(dir);
}

int main(void)
{
	RUN(refund_owed_until_confirmed);
	RUN(discounts_and_counter_offers);
	RUN(refunds_after_return_and_after_lost_reshipment);
	RUN(bad_requests_refused);
	return rd_test_summary();
}
