/*
 * What the console asks of the service: the events a role may apply next,
 * with the fields they need and whether their evidence and offer guards
 * pass now; and the overview, scoped by storefront, with its estimated
 * median time to resolution.
 */
#include <stdlib.h>
#include <string.h>

#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */

static const rd_event_option *option(const rd_event_options *o,
				     const char *event)
{
	for (size_t i = 0; i < o->count; i++)
		if (strcmp(o->options[i].info.event, event) == 0)
			return &o->options[i];
	return NULL;
}

static void next_events_by_role_and_guard(void)
{
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "data");
	rd_service *svc = rd_test_service_open(data, NULL);
	rd_event_options o;
	const rd_event_option *opt;
	char id[RD_ID_BUFSZ];
	rd_error err;

	memset(&o, 0, sizeof(o));
	CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme", "damaged", T0, &err),
		 &err);

	/* opened: an agent may investigate, escalate or withdraw, and assign
	 * it (listed last, with its field); nobody has it, so no unassign */
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_AGENT, T0, &o,
					  &err), &err);
	CHECK_STR(o.state, "opened");
	CHECK_INT(o.version, 1);
	CHECK_INT(o.count, 4);
	CHECK(option(&o, "investigate") && option(&o, "escalate") &&
	      option(&o, "withdraw"));
	CHECK_STR(o.options[3].info.event, "assign");
	CHECK_INT(o.options[3].info.field_count, 1);
	CHECK_STR(o.options[3].info.fields[0], "assignee");
	CHECK(o.options[3].ready);
	CHECK(o.options[3].info.description != NULL);
	CHECK(option(&o, "unassign") == NULL);
	CHECK(option(&o, "investigate")->ready);
	CHECK(option(&o, "investigate")->info.description != NULL);
	CHECK_INT(o.has_pending, 0);
	rd_event_options_clear(&o);

	/* a storefront only withdraws; an auditor does nothing */
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_STOREFRONT, T0, &o,
					  &err), &err);
	CHECK_INT(o.count, 1);
	CHECK_STR(o.options[0].info.event, "withdraw");
	rd_event_options_clear(&o);
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_AUDITOR, T0, &o,
					  &err), &err);
	CHECK_INT(o.count, 0);
	CHECK(o.options == NULL);
	rd_event_options_clear(&o);

	/* investigating: make_offer needs offer_id; reject_dispute needs a
	 * reason and evidence, which is missing until a note is added */
	CHECK_OK(rd_test_apply(svc, id, "investigate", RD_ROLE_AGENT, NULL,
			       NULL, T0 + 10, &err), &err);
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_AGENT, T0 + 20, &o,
					  &err), &err);
	CHECK((opt = option(&o, "make_offer")) != NULL);
	CHECK(opt->ready);
	CHECK_INT(opt->info.field_count, 1);
	CHECK_STR(opt->info.fields[0], "offer_id");
	CHECK((opt = option(&o, "reject_dispute")) != NULL);
	CHECK_INT(opt->ready, 0);
	CHECK_STR(opt->blocked_guard, "evidence");
	CHECK(strlen(opt->blocked_reason) > 0);
	CHECK_INT(opt->info.evidence_any, 1);
	CHECK(option(&o, "resume") == NULL);
	rd_event_options_clear(&o);
	CHECK_OK(rd_test_add_text_evidence(svc, id, "note",
					   "The buyer sent photos by e-mail.\n",
					   T0 + 30, &err), &err);
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_AGENT, T0 + 40, &o,
					  &err), &err);
	CHECK(option(&o, "reject_dispute")->ready);
	CHECK_INT(o.version, 3);
	rd_event_options_clear(&o);

	/* investigate made the agent its assignee: unassign is listed now,
	 * for an admin too; never for a storefront */
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_ADMIN, T0 + 40, &o,
					  &err), &err);
	CHECK(option(&o, "assign") != NULL);
	CHECK((opt = option(&o, "unassign")) != NULL);
	CHECK_INT(opt->info.field_count, 0);
	CHECK(opt->ready);
	CHECK_STR(o.options[o.count - 1].info.event, "unassign");
	rd_event_options_clear(&o);

	/* offer_pending: the storefront answers the pending offer */
	CHECK_OK(rd_test_make_offer(svc, id, RD_OFFER_RESHIPMENT, -1, T0 + 50,
				    &err), &err);
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_STOREFRONT,
					  T0 + 60, &o, &err), &err);
	CHECK_STR(o.state, "offer_pending");
	CHECK_INT(o.has_pending, 1);
	CHECK_STR(o.pending.status, "made");
	CHECK_STR(o.currency, "USD");
	CHECK((opt = option(&o, "accept_offer")) != NULL);
	CHECK(opt->ready);
	CHECK_INT(opt->info.requires_offer, 1);
	CHECK((opt = option(&o, "counter_offer")) != NULL);
	CHECK_STR(opt->info.fields[0], "amount");
	CHECK(option(&o, "expire_offer") == NULL);   /* the system's */
	CHECK(option(&o, "assign") == NULL && option(&o, "unassign") == NULL);
	rd_event_options_clear(&o);

	CHECK_FAILS(rd_service_event_options(svc, "01J00000000000000000000000",
					     RD_ROLE_AGENT, T0, &o, &err),
		    RD_ENOTFOUND);
	CHECK_INT(o.count, 0);
	rd_event_options_clear(NULL);

	rd_service_close(svc);
	free(data);
	free(dir);
}

static void overview_scoped_with_median(void)
{
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "data");
	rd_service *svc = rd_test_service_open(data, NULL);
	rd_overview ov;
	json_t *doc = NULL;
	char a[RD_ID_BUFSZ], b[RD_ID_BUFSZ], c[RD_ID_BUFSZ];
	rd_error err;

	memset(&ov, 0, sizeof(ov));
	CHECK_OK(rd_service_overview(svc, NULL, &ov, &err), &err);
	CHECK_INT(ov.disputes, 0);
	CHECK_INT(ov.resolved, 0);
	CHECK_INT(ov.median_s, -1);
	CHECK((doc = rd_overview_to_json(&ov, NULL)) != NULL);
	CHECK(json_is_null(json_object_get(json_object_get(doc, "resolution"),
					   "median_s")));
	CHECK_INT(json_array_size(json_object_get(json_object_get(doc,
				"resolution"), "buckets")),
		  RD_OVERVIEW_BUCKET_COUNT + 1);
	json_decref(doc);
	rd_overview_clear(&ov);

	CHECK_OK(rd_test_open_dispute(svc, a, 1, "acme", "damaged", T0, &err),
		 &err);
	CHECK_OK(rd_test_open_dispute(svc, b, 2, "acme", "not_received", T0,
				      &err), &err);
	CHECK_OK(rd_test_open_dispute(svc, c, 3, "other", "damaged", T0, &err),
		 &err);
	/* a: offered, accepted and refunded two hours after opening */
	CHECK_OK(rd_test_apply(svc, a, "investigate", RD_ROLE_AGENT, NULL, NULL,
			       T0 + 10, &err), &err);
	CHECK_OK(rd_test_make_offer(svc, a, RD_OFFER_PARTIAL_DISCOUNT, -1,
				    T0 + 20, &err), &err);
	CHECK_OK(rd_test_apply(svc, a, "accept_offer", RD_ROLE_STOREFRONT, NULL,
			       NULL, T0 + 30, &err), &err);
	{
		rd_dispute *d = NULL;
		const char *pay = NULL;

		CHECK_OK(rd_service_dispute_get(svc, a, &d, &err), &err);
		pay = rd_payable_confirm_event(d->state);
		CHECK(pay != NULL);
		CHECK_OK(rd_test_apply(svc, a, pay, RD_ROLE_STOREFRONT,
				       "payment_ref", "PSP-1", T0 + 7200, &err),
			 &err);
		rd_dispute_free(d);
	}
	/* c: withdrawn at once; a day later b's SLA fires */
	CHECK_OK(rd_test_apply(svc, c, "withdraw", RD_ROLE_AGENT, NULL, NULL,
			       T0 + 60, &err), &err);
	CHECK_OK(rd_service_sweep(svc, T0 + 86400, NULL, &err), &err);

	CHECK_OK(rd_service_overview(svc, NULL, &ov, &err), &err);
	CHECK_INT(ov.disputes, 3);
	CHECK_INT(ov.resolved, 2);
	CHECK_INT(ov.sla_breaches, 1);
	/* ranks: 60 s (bucket <= 1 h) and 7200 s (bucket 1 h .. 4 h); the
	 * median at rank 1 of 2 ends the first bucket */
	CHECK_INT(ov.median_from_s, 0);
	CHECK_INT(ov.median_to_s, 3600);
	CHECK_INT(ov.median_s, 3600);
	rd_overview_clear(&ov);

	CHECK_OK(rd_service_overview(svc, "acme", &ov, &err), &err);
	CHECK_INT(ov.disputes, 2);
	CHECK_INT(ov.resolved, 1);
	CHECK_INT(ov.sla_breaches, 1);
	CHECK_INT(ov.median_from_s, 3600);
	CHECK_INT(ov.median_to_s, 14400);
	/* one in the bucket: half way into it */
	CHECK_INT(ov.median_s, 3600 + (14400 - 3600) / 2);
	CHECK((doc = rd_overview_to_json(&ov, "acme")) != NULL);
	CHECK_STR(json_string_value(json_object_get(doc, "storefront")),
		  "acme");
	{
		json_t *disputes = json_object_get(doc, "disputes");
		json_t *offers = json_object_get(doc, "offers");
		json_t *res = json_object_get(doc, "resolution");

		CHECK_INT(json_integer_value(json_object_get(disputes,
							      "total")), 2);
		CHECK_INT(json_integer_value(json_object_get(
			json_object_get(disputes, "by_reason"),
			"not_received")), 1);
		CHECK_INT(json_integer_value(json_object_get(
			json_object_get(disputes, "by_state"), "escalated")),
			  1);
		CHECK_INT(json_object_size(json_object_get(offers, "made")), 1);
		CHECK_INT(json_object_size(json_object_get(offers,
							    "accepted")), 1);
		CHECK_INT(json_integer_value(json_object_get(res, "median_s")),
			  9000);
		CHECK_INT(json_integer_value(json_object_get(json_object_get(
			res, "median_bucket"), "to_s")), 14400);
		CHECK_INT(json_integer_value(json_object_get(json_array_get(
			json_object_get(res, "buckets"), 1), "disputes")), 1);
		CHECK(json_is_null(json_object_get(json_array_get(
			json_object_get(res, "buckets"),
			RD_OVERVIEW_BUCKET_COUNT), "le_s")));
		CHECK_INT(json_integer_value(json_object_get(doc,
						"sla_breaches")), 1);
	}
	json_decref(doc);
	rd_overview_clear(&ov);
	rd_overview_clear(NULL);

	rd_service_close(svc);
	free(data);
	free(dir);
}

int main(void)
{
	RUN(next_events_by_role_and_guard);
	RUN(overview_scoped_with_median);
	return rd_test_summary();
}
