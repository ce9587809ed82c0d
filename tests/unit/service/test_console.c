/*
 * What the console asks of the service: the events a role may apply next,
 * with the fields they need and whether their evidence and offer guards
 * pass now; and the overview, scoped by storefront, with its estimated
 * median time to resolution.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/service.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
#define KINDS REDRESS_SOURCE_DIR "/evidence/kinds.json"
#define POLICY REDRESS_SOURCE_DIR "/workflows/policy.json"
#define WORKFLOWS REDRESS_SOURCE_DIR "/workflows"

#define EXAMPLE_FMT \
	"{\"order_ref\": \"ORD-%d\", \"storefront\": \"%s\", " \
	"\"buyer_ref\": \"b\", \"currency\": \"USD\", \"reason\": \"%s\", " \
	"\"channel\": \"chat\", \"items\": " \
	"[{\"sku\": \"L\", \"title\": \"Lamp\", \"quantity\": 1, " \
	"\"unit_price\": 10000, \"unit_cost\": 4000}], \"shipping_paid\": " \
	"1500, \"ship_cost\": 3000, \"return_cost\": 2500}"

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

/* Make the best-ranked offer the engine proposes of this type. */
static int make_offer(rd_service *svc, const char *id, rd_offer_type type,
		      int64_t now, rd_error *err)
{
	rd_proposals *set = malloc(sizeof(*set));
	int rc;

	if (!set)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((rc = rd_service_offer_proposals(svc, id, set, err)) < 0)
		goto done;
	rc = rd_error_set(err, RD_ENOTFOUND, "no such offer proposed");
	for (size_t i = 0; i < set->proposed; i++)
		if (set->items[i].terms.type == type) {
			rc = apply(svc, id, "make_offer", RD_ROLE_AGENT,
				   "offer_id", set->items[i].offer_id, now,
				   err);
			break;
		}
done:
	free(set);
	return rc;
}

static int add_note(rd_service *svc, const char *dir, const char *id,
		    rd_error *err)
{
	char *path = rd_test_path(dir, "note.txt");
	rd_evidence_submission sub;
	rd_actor agent = actor(RD_ROLE_AGENT, "alice");
	int fd = -1;
	int rc = RD_EIO;

	memset(&sub, 0, sizeof(sub));
	sub.kind = "note";
	if (rd_test_write(path, "The buyer sent photos by e-mail.\n") == 0 &&
	    (fd = open(path, O_RDONLY)) >= 0)
		rc = rd_service_evidence_add_fd(svc, id, &sub, fd, &agent,
						T0 + 30, NULL, err);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static const rd_event_option *option(const rd_event_options *o,
				     const char *event)
{
	for (size_t i = 0; i < o->count; i++)
		if (strcmp(o->options[i].info.event, event) == 0)
			return &o->options[i];
	return NULL;
}

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

static void next_events_by_role_and_guard(void)
{
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "data");
	rd_service *svc = open_service(data);
	rd_event_options o;
	const rd_event_option *opt;
	char id[RD_ID_BUFSZ];
	rd_error err;

	memset(&o, 0, sizeof(o));
	CHECK_OK(open_dispute(svc, id, 1, "acme", "damaged", &err), &err);

	/* opened: an agent may investigate, escalate or withdraw */
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_AGENT, T0, &o,
					  &err), &err);
	CHECK_STR(o.state, "opened");
	CHECK_INT(o.version, 1);
	CHECK_INT(o.count, 3);
	CHECK(option(&o, "investigate") && option(&o, "escalate") &&
	      option(&o, "withdraw"));
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
	CHECK_OK(apply(svc, id, "investigate", RD_ROLE_AGENT, NULL, NULL,
		       T0 + 10, &err), &err);
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
	CHECK_OK(add_note(svc, dir, id, &err), &err);
	CHECK_OK(rd_service_event_options(svc, id, RD_ROLE_AGENT, T0 + 40, &o,
					  &err), &err);
	CHECK(option(&o, "reject_dispute")->ready);
	CHECK_INT(o.version, 3);
	rd_event_options_clear(&o);

	/* offer_pending: the storefront answers the pending offer */
	CHECK_OK(make_offer(svc, id, RD_OFFER_RESHIPMENT, T0 + 50, &err),
		 &err);
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
	rd_service *svc = open_service(data);
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

	CHECK_OK(open_dispute(svc, a, 1, "acme", "damaged", &err), &err);
	CHECK_OK(open_dispute(svc, b, 2, "acme", "not_received", &err), &err);
	CHECK_OK(open_dispute(svc, c, 3, "other", "damaged", &err), &err);
	/* a: offered, accepted and refunded two hours after opening */
	CHECK_OK(apply(svc, a, "investigate", RD_ROLE_AGENT, NULL, NULL,
		       T0 + 10, &err), &err);
	CHECK_OK(make_offer(svc, a, RD_OFFER_PARTIAL_DISCOUNT, T0 + 20, &err),
		 &err);
	CHECK_OK(apply(svc, a, "accept_offer", RD_ROLE_STOREFRONT, NULL, NULL,
		       T0 + 30, &err), &err);
	{
		rd_dispute *d = NULL;
		const char *pay = NULL;

		CHECK_OK(rd_service_dispute_get(svc, a, &d, &err), &err);
		pay = rd_payable_confirm_event(d->state);
		CHECK(pay != NULL);
		CHECK_OK(apply(svc, a, pay, RD_ROLE_STOREFRONT, "payment_ref",
			       "PSP-1", T0 + 7200, &err), &err);
		rd_dispute_free(d);
	}
	/* c: withdrawn at once; a day later b's SLA fires */
	CHECK_OK(apply(svc, c, "withdraw", RD_ROLE_AGENT, NULL, NULL, T0 + 60,
		       &err), &err);
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
