/*
 * Payables through the service, on a real data directory driven by the
 * reference workflow: the amount owed is the accepted offer's (a refund,
 * a refund after return less the label, a discount, a counter-offer the
 * engine accepted, a refund accepted after a lost reshipment), the deadline
 * is the state's SLA, the list is scoped by storefront and ordered by
 * deadline, and a dispute leaves it once paid or escalated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/service.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
#define DAY INT64_C(86400)
#define KINDS REDRESS_SOURCE_DIR "/evidence/kinds.json"
#define POLICY REDRESS_SOURCE_DIR "/workflows/policy.json"
#define WORKFLOWS REDRESS_SOURCE_DIR "/workflows"

/* The example dispute: USD, price 100.00, shipping paid 15.00. */
#define EXAMPLE_FMT                                                          \
	"{\"order_ref\": \"ORD-%d\", \"storefront\": \"%s\", \"buyer_ref\": " \
	"\"b\", \"currency\": \"USD\", \"reason\": \"%s\", \"channel\": " \
	"\"chat\", \"items\": [{\"sku\": \"L\", \"title\": \"Lamp\", " \
	"\"quantity\": 1, \"unit_price\": 10000, \"unit_cost\": 4000}]," \
	" \"shipping_paid\": 1500, \"ship_cost\": 3000, \"return_cost\": 2500}"

static rd_service *open_service(const char *data)
{
	rd_service_options opts = { .data_dir = data, .workflows_dir = WORKFLOWS,
				    .kinds_path = KINDS, .policy_path = POLICY,
				    .create = 1 };
	rd_service *svc = NULL;
	rd_error err;

	if (rd_service_open(&svc, &opts, &err) < 0)
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	return svc;
}

static rd_actor actor(rd_role role, const char *name)
{
	rd_actor a;

	memset(&a, 0, sizeof(a));
	a.role = role;
	snprintf(a.name, sizeof(a.name), "%s", name);
	return a;
}

static int open_dispute(rd_service *svc, char id[RD_ID_BUFSZ], int order,
			const char *storefront, const char *reason,
			rd_error *err)
{
	char doc[1024];
	rd_dispute *input = NULL, *d = NULL;
	rd_actor agent = actor(RD_ROLE_AGENT, "alice");
	int rc;

	snprintf(doc, sizeof(doc), EXAMPLE_FMT, order, storefront, reason);
	if ((rc = rd_dispute_parse(&input, doc, strlen(doc), err)) == RD_OK &&
	    (rc = rd_service_dispute_open(svc, input, &agent, T0, &d,
					  err)) == RD_OK)
		snprintf(id, RD_ID_BUFSZ, "%s", d->id);
	rd_dispute_free(input);
	rd_dispute_free(d);
	return rc;
}

static int apply(rd_service *svc, const char *id, const char *event,
		 rd_role role, const char *field, const char *value,
		 int64_t now, rd_error *err)
{
	rd_field fields[1] = { { field, value } };
	rd_event_request req = { event, fields, field ? 1 : 0, NULL, 0 };
	rd_actor who = actor(role, "tester");

	return rd_service_event_apply(svc, id, &req, &who, now, NULL, err);
}

/* Propose, then make the offer of this type and amount (-1: any). */
static int make_offer(rd_service *svc, const char *id, rd_offer_type type,
		      int64_t amount, int64_t now, rd_error *err)
{
	rd_proposals *set = malloc(sizeof(*set));
	char chosen[48] = "";
	int rc;

	if (!set)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((rc = rd_service_offer_proposals(svc, id, set, err)) < 0)
		goto done;
	for (size_t i = 0; i < set->proposed; i++) {
		const rd_offer_terms *t = &set->items[i].terms;
		int64_t value = type == RD_OFFER_RESHIPMENT ? t->buyer_copay
							    : t->buyer_refund;

		if (t->type == type && (amount < 0 || value == amount)) {
			snprintf(chosen, sizeof(chosen), "%s",
				 set->items[i].offer_id);
			break;
		}
	}
	if (!chosen[0]) {
		rc = rd_error_set(err, RD_ENOTFOUND, "no such offer proposed");
		goto done;
	}
	rc = apply(svc, id, "make_offer", RD_ROLE_AGENT, "offer_id", chosen,
		   now, err);
done:
	free(set);
	return rc;
}

static int add_text_evidence(rd_service *svc, const char *id,
			     const char *kind, int64_t now, rd_error *err)
{
	char *dir = rd_test_tmpdir();
	char *path = rd_test_path(dir, "report.txt");
	rd_evidence_submission sub;
	rd_actor agent = actor(RD_ROLE_AGENT, "alice");
	int fd = -1, rc;

	memset(&sub, 0, sizeof(sub));
	sub.kind = kind;
	if (rd_test_write(path, "Parcel received back at the warehouse on "
			  "2026-03-04, seal intact.\n") != 0 ||
	    (fd = open(path, O_RDONLY)) < 0)
		rc = rd_error_set(err, RD_EIO, "cannot write %s", path);
	else
		rc = rd_service_evidence_add_fd(svc, id, &sub, fd, &agent, now,
						NULL, err);
	if (fd >= 0)
		close(fd);
	free(path);
	free(dir);
	return rc;
}

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
	rd_service *svc = open_service(dir);
	rd_payable_row *rows = NULL;
	rd_dispute *d = NULL;
	size_t count = 0;
	char id[RD_ID_BUFSZ];
	json_t *doc = NULL;
	char *text = NULL;
	rd_error err;

	CHECK(svc);
	CHECK_OK(open_dispute(svc, id, 1, "acme-eu", "damaged", &err), &err);
	CHECK_OK(apply(svc, id, "investigate", RD_ROLE_AGENT, NULL, NULL,
		       T0 + 60, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);       /* opened and investigating owe nothing */
	free(rows);
	CHECK_OK(make_offer(svc, id, RD_OFFER_REFUND_KEEP_ITEM, -1, T0 + 120,
			    &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);       /* an offer not yet accepted owes nothing */
	free(rows);
	CHECK_OK(apply(svc, id, "accept_offer", RD_ROLE_STOREFRONT, NULL, NULL,
		       T0 + 180, &err), &err);

	CHECK_OK(list_all(svc, "acme-eu", &rows, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(rows[0].dispute_id, id);
	CHECK_STR(rows[0].state, "refund_pending");
	CHECK_STR(rows[0].order_ref, "ORD-1");
	CHECK_STR(rows[0].currency, "USD");
	CHECK_INT(rows[0].has_offer, 1);
	CHECK_INT(rows[0].offer_type, RD_OFFER_REFUND_KEEP_ITEM);
	CHECK_INT(rows[0].buyer_refund, 11500);   /* 100.00 + shipping 15.00 */
	CHECK_STR(rows[0].offer_id, "v2-refund_keep_item-11500");
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
	CHECK_FAILS(apply(svc, id, "refund_issued", RD_ROLE_STOREFRONT, NULL,
			  NULL, T0 + 240, &err), RD_EGUARD);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 1);
	free(rows);
	CHECK_OK(apply(svc, id, "refund_issued", RD_ROLE_STOREFRONT,
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
	rd_service *svc = open_service(dir);
	rd_payable_row *rows = NULL;
	const rd_payable_row *p;
	size_t count = 0;
	char plain[RD_ID_BUFSZ], countered[RD_ID_BUFSZ];
	json_t *doc = NULL;
	rd_error err;

	CHECK(svc);
	CHECK_OK(open_dispute(svc, plain, 1, "acme-eu", "damaged", &err),
		 &err);
	CHECK_OK(apply(svc, plain, "investigate", RD_ROLE_AGENT, NULL, NULL,
		       T0, &err), &err);
	CHECK_OK(make_offer(svc, plain, RD_OFFER_PARTIAL_DISCOUNT, 2000, T0,
			    &err), &err);
	CHECK_OK(apply(svc, plain, "accept_offer", RD_ROLE_STOREFRONT, NULL,
		       NULL, T0 + 7200, &err), &err);

	/* the buyer asked 15.00 against 10.00; the engine accepted it */
	CHECK_OK(open_dispute(svc, countered, 2, "acme-eu", "damaged", &err),
		 &err);
	CHECK_OK(apply(svc, countered, "investigate", RD_ROLE_AGENT, NULL,
		       NULL, T0, &err), &err);
	CHECK_OK(make_offer(svc, countered, RD_OFFER_PARTIAL_DISCOUNT, 1000,
			    T0, &err), &err);
	CHECK_OK(apply(svc, countered, "counter_offer", RD_ROLE_STOREFRONT,
		       "amount", "15.00", T0 + 3600, &err), &err);

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
	CHECK_OK(apply(svc, plain, "discount_issued", RD_ROLE_STOREFRONT,
		       "payment_ref", "PAY-9", T0 + 7300, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);
	free(rows);
	rd_service_close(svc);
	free(dir);
}

static void refunds_after_return_and_after_lost_reshipment(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = open_service(dir);
	rd_payable_row *rows = NULL;
	const rd_payable_row *p;
	size_t count = 0;
	char returned[RD_ID_BUFSZ], lost[RD_ID_BUFSZ];
	rd_error err;

	CHECK(svc);
	/* changed mind: refund after return, the buyer pays the label */
	CHECK_OK(open_dispute(svc, returned, 1, "acme-eu", "changed_mind",
			      &err), &err);
	CHECK_OK(apply(svc, returned, "investigate", RD_ROLE_AGENT, NULL, NULL,
		       T0, &err), &err);
	CHECK_OK(make_offer(svc, returned, RD_OFFER_REFUND_WITH_RETURN, -1, T0,
			    &err), &err);
	CHECK_OK(apply(svc, returned, "accept_offer", RD_ROLE_STOREFRONT, NULL,
		       NULL, T0, &err), &err);
	CHECK_OK(list_all(svc, NULL, &rows, &count, &err), &err);
	CHECK_INT(count, 0);       /* awaiting the return: nothing owed yet */
	free(rows);
	CHECK_OK(add_text_evidence(svc, returned, "inspection_report", T0,
				   &err), &err);
	CHECK_OK(apply(svc, returned, "return_received", RD_ROLE_AGENT, NULL,
		       NULL, T0 + DAY, &err), &err);

	/* a reshipment lost in transit, then a refund; all in one second */
	CHECK_OK(open_dispute(svc, lost, 2, "bolt", "damaged", &err), &err);
	CHECK_OK(apply(svc, lost, "investigate", RD_ROLE_AGENT, NULL, NULL, T0,
		       &err), &err);
	CHECK_OK(make_offer(svc, lost, RD_OFFER_RESHIPMENT, 7000, T0, &err),
		 &err);
	CHECK_OK(apply(svc, lost, "accept_offer", RD_ROLE_STOREFRONT, NULL,
		       NULL, T0, &err), &err);
	CHECK_OK(add_text_evidence(svc, lost, "tracking_record", T0, &err),
		 &err);
	CHECK_OK(apply(svc, lost, "shipment_sent", RD_ROLE_AGENT,
		       "tracking_number", "TRK-1", T0, &err), &err);
	CHECK_OK(apply(svc, lost, "reshipment_lost", RD_ROLE_AGENT, NULL, NULL,
		       T0, &err), &err);
	CHECK_OK(make_offer(svc, lost, RD_OFFER_REFUND_KEEP_ITEM, -1, T0,
			    &err), &err);
	CHECK_OK(apply(svc, lost, "accept_offer", RD_ROLE_STOREFRONT, NULL,
		       NULL, T0, &err), &err);

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
	rd_service *svc = open_service(dir);
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
