/*
 * The service against a real data directory: refused events change
 * nothing, disputes stay pinned to their workflow version, offers move
 * through their statuses, and SLA deadlines fire exactly once even with two
 * sweepers at the same time, also when the event a deadline fires leads
 * back into its own state (a second firing would then be accepted).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "redress/clock.h"
#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
static int apply(rd_service *svc, const char *id, const char *event,
		 rd_role role, const rd_field *fields, size_t count,
		 int64_t if_version, rd_error *err)
{
	rd_event_request req = { event, fields, count, NULL, if_version };
	rd_actor who = rd_test_actor(role, "tester");

	return rd_service_event_apply(svc, id, &req, &who, T0 + 60, NULL, err);
}

static void test_open_and_read(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_dispute *d = NULL;
	rd_event_record *events = NULL;
	size_t count = 0;
	char id[RD_ID_BUFSZ];
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme", "damaged", T0, &err),
		 &err);
	CHECK_OK(rd_service_dispute_get(svc, id, &d, &err), &err);
	CHECK_STR(d->state, "opened");
	CHECK_INT(d->version, 1);
	CHECK_STR(d->workflow_name, "dispute");
	CHECK_INT(d->deadline_at, T0 + 86400);
	CHECK_STR(d->deadline_event, "escalate");
	CHECK_OK(rd_service_events(svc, id, &events, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(events[0].event, "opened");
	CHECK_STR(events[0].actor.name, "alice");
	rd_event_records_free(events, count);
	rd_dispute_free(d);
	CHECK_FAILS(rd_service_dispute_get(svc, "01ARZ3NDEKTSV4RRFFQ69G5FAV", &d, &err),
		    RD_ENOTFOUND);
	CHECK_FAILS(rd_service_dispute_get(svc, "../x", &d, &err), RD_ENOTFOUND);
	rd_service_close(svc);
	free(dir);
}

static void test_missing_data_dir(void)
{
	char *dir = rd_test_tmpdir();
	char *missing = rd_test_path(dir, "nowhere");
	rd_service_options opts = rd_test_service_options(missing, NULL);
	rd_service *svc = NULL;
	rd_error err;

	opts.create = 0;
	CHECK_FAILS(rd_service_open(&svc, &opts, &err), RD_ENOTFOUND);
	CHECK_HAS(err.message, "redress init");
	free(missing);
	free(dir);
}

/* Every kind of refusal leaves every table exactly as it was. */
static void test_refusals_change_nothing(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_field bad_type[] = { { "offer_id", "v2-voucher-100" } };
	rd_field stale_offer[] = { { "offer_id", "v1-refund_keep_item-11500" } };
	rd_field dup[] = { { "note", "a" }, { "note", "b" } };
	char id[RD_ID_BUFSZ];
	char *before = NULL, *after = NULL;
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme", "damaged", T0, &err),
		 &err);
	CHECK_OK(apply(svc, id, "investigate", RD_ROLE_AGENT, NULL, 0, 0, &err), &err);
	before = rd_test_dump(svc);
	CHECK(before);
	CHECK_FAILS(apply(svc, id, "refund_issued", RD_ROLE_AGENT, NULL, 0, 0, &err),
		    RD_ESTATE);
	CHECK_STR(err.guard, "state");
	CHECK_FAILS(apply(svc, id, "make_offer", RD_ROLE_AUDITOR, bad_type, 1, 0, &err),
		    RD_EFORBIDDEN);
	CHECK_FAILS(apply(svc, id, "make_offer", RD_ROLE_AGENT, NULL, 0, 0, &err),
		    RD_EGUARD);
	CHECK_STR(err.guard, "fields");
	CHECK_FAILS(apply(svc, id, "make_offer", RD_ROLE_AGENT, bad_type, 1, 0, &err),
		    RD_EGUARD);
	CHECK_STR(err.field, "offer_id");
	/* an id of the earlier form names the current version only */
	CHECK_FAILS(apply(svc, id, "make_offer", RD_ROLE_AGENT, stale_offer, 1, 0,
			  &err), RD_EGUARD);
	CHECK_HAS(err.message, "redress offers");
	CHECK_FAILS(apply(svc, id, "make_offer", RD_ROLE_AGENT, dup, 2, 0, &err),
		    RD_EINVALID);
	CHECK_FAILS(apply(svc, id, "make_offer", RD_ROLE_AGENT, bad_type, 1, 1, &err),
		    RD_ESTALE);
	CHECK_FAILS(apply(svc, id, "no_such_event", RD_ROLE_AGENT, NULL, 0, 0, &err),
		    RD_EINVALID);
	after = rd_test_dump(svc);
	CHECK(after);
	CHECK_STR(after, before);
	free(before);
	free(after);
	rd_service_close(svc);
	free(dir);
}

static void test_offer_statuses(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_field too_dear[] = { { "amount", "25.00" } };
	rd_field fair[] = { { "amount", "22.00" } };
	rd_field offer[1] = { { "offer_id", NULL } };
	rd_offer_record *offers = NULL;
	rd_dispute *d = NULL;
	size_t count = 0;
	char id[RD_ID_BUFSZ], chosen[48];
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme", "damaged", T0, &err),
		 &err);
	CHECK_OK(apply(svc, id, "investigate", RD_ROLE_AGENT, NULL, 0, 0, &err), &err);
	/* the first rung of the discount ladder: 10% of 100.00 */
	CHECK_OK(rd_test_offer_id(svc, id, RD_OFFER_PARTIAL_DISCOUNT, 1000, chosen,
				  &err), &err);
	CHECK(chosen[0]);
	offer[0].value = chosen;
	CHECK_OK(apply(svc, id, "make_offer", RD_ROLE_AGENT, offer, 1, 2, &err), &err);
	/* 25.00 costs more than the next rung (20.00): the rung is offered */
	CHECK_OK(apply(svc, id, "counter_offer", RD_ROLE_STOREFRONT, too_dear, 1, 3,
		       &err), &err);
	CHECK_OK(rd_service_dispute_get(svc, id, &d, &err), &err);
	CHECK_STR(d->state, "offer_pending");
	rd_dispute_free(d);
	/* 22.00 costs no more than the next rung (30.00): accepted at once */
	CHECK_OK(apply(svc, id, "counter_offer", RD_ROLE_STOREFRONT, fair, 1, 4,
		       &err), &err);
	CHECK_OK(rd_service_offers(svc, id, &offers, &count, &err), &err);
	CHECK_INT(count, 4);
	CHECK_STR(offers[0].status, "countered");
	CHECK_INT(offers[0].buyer_refund, 1000);
	/* one event's offers in the order of their ids: "o-..." < "offer-4" */
	CHECK_STR(offers[1].status, "countered");     /* the 20.00 rung */
	CHECK_INT(offers[1].buyer_refund, 2000);
	CHECK_STR(offers[2].status, "rejected");      /* the 25.00 counter */
	CHECK_INT(offers[2].buyer_refund, 2500);
	CHECK_STR(offers[3].status, "accepted");      /* the 22.00 counter */
	CHECK_INT(offers[3].buyer_refund, 2200);
	CHECK_INT(offers[3].seller_cost, 2200);
	CHECK_INT(offers[3].type, RD_OFFER_PARTIAL_DISCOUNT);
	free(offers);
	CHECK_OK(rd_service_dispute_get(svc, id, &d, &err), &err);
	CHECK_STR(d->state, "discount_pending");
	CHECK_INT(d->version, 6);   /* counter, then the automatic acceptance */
	CHECK_INT(d->deadline_at, T0 + 60 + 3 * 86400);
	rd_dispute_free(d);
	rd_service_close(svc);
	free(dir);
}

/* An offer left unanswered expires by SLA and the dispute goes back. */
static void test_offer_expires(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_field offer[1] = { { "offer_id", NULL } };
	rd_offer_record *offers = NULL;
	rd_dispute *d = NULL;
	size_t count = 0, fired = 0;
	char id[RD_ID_BUFSZ], chosen[48];
	rd_error err;

	CHECK(svc);
	CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme", "damaged", T0, &err),
		 &err);
	CHECK_OK(apply(svc, id, "investigate", RD_ROLE_AGENT, NULL, 0, 0, &err), &err);
	CHECK_OK(rd_test_offer_id(svc, id, RD_OFFER_REFUND_KEEP_ITEM, -1, chosen,
				  &err), &err);
	CHECK(chosen[0]);
	offer[0].value = chosen;
	CHECK_OK(apply(svc, id, "make_offer", RD_ROLE_AGENT, offer, 1, 0, &err), &err);
	CHECK_OK(rd_service_sweep(svc, T0 + 60 + 5 * 86400 - 1, &fired, &err), &err);
	CHECK_INT(fired, 0);
	CHECK_OK(rd_service_sweep(svc, T0 + 60 + 5 * 86400, &fired, &err), &err);
	CHECK_INT(fired, 1);
	CHECK_OK(rd_service_dispute_get(svc, id, &d, &err), &err);
	CHECK_STR(d->state, "investigating");
	/* back in investigating, its clock (48 hours) runs again */
	CHECK_INT(d->deadline_at, T0 + 60 + 5 * 86400 + 2 * 86400);
	rd_dispute_free(d);
	CHECK_OK(rd_service_offers(svc, id, &offers, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(offers[0].status, "expired");
	free(offers);
	rd_service_close(svc);
	free(dir);
}

/* Write workflows/dispute.json with another version and investigate roles. */
static int write_variant(const char *dir, int version, const char *role)
{
	json_error_t jerr;
	json_t *doc = json_load_file(REDRESS_SOURCE_DIR "/workflows/dispute.json",
				     0, &jerr);
	json_t *transitions, *t;
	char *path = rd_test_path(dir, "dispute.json");
	size_t i;
	int rc = -1;

	if (!doc || !path)
		goto done;
	json_object_set_new(doc, "version", json_integer(version));
	transitions = json_object_get(doc, "transitions");
	json_array_foreach(transitions, i, t) {
		if (strcmp(json_string_value(json_object_get(t, "event")),
			   "investigate") == 0)
			json_object_set_new(t, "roles", json_pack("[s]", role));
	}
	rc = json_dump_file(doc, path, JSON_INDENT(2));
done:
	json_decref(doc);
	free(path);
	return rc;
}

/*
 * A dispute keeps the definition it was opened with even after the file
 * changed and the old version is gone from disk.
 */
static void test_pinned_workflow(void)
{
	char *data = rd_test_tmpdir();
	char *wf_dir = rd_test_tmpdir();
	rd_service *svc = NULL;
	rd_dispute *d = NULL;
	char old_id[RD_ID_BUFSZ], new_id[RD_ID_BUFSZ];
	char old_hash[65];
	rd_error err;

	CHECK(write_variant(wf_dir, 1, "agent") == 0);
	svc = rd_test_service_open(data, wf_dir);
	CHECK(svc);
	CHECK_OK(rd_test_open_dispute(svc, old_id, 1, "acme", "damaged", T0,
				      &err), &err);
	CHECK_OK(rd_service_dispute_get(svc, old_id, &d, &err), &err);
	snprintf(old_hash, sizeof(old_hash), "%s", d->workflow_hash);
	rd_dispute_free(d);
	rd_service_close(svc);

	CHECK(write_variant(wf_dir, 2, "admin") == 0);
	svc = rd_test_service_open(data, wf_dir);
	CHECK(svc);
	CHECK_OK(rd_test_open_dispute(svc, new_id, 1, "acme", "damaged", T0,
				      &err), &err);
	CHECK_OK(rd_service_dispute_get(svc, new_id, &d, &err), &err);
	CHECK_INT(d->workflow_version, 2);
	CHECK(strcmp(d->workflow_hash, old_hash) != 0);
	rd_dispute_free(d);
	/* version 2 gives investigate to admins only */
	CHECK_FAILS(apply(svc, new_id, "investigate", RD_ROLE_AGENT, NULL, 0, 0, &err),
		    RD_EFORBIDDEN);
	/* the old dispute still follows version 1, read back from the store */
	CHECK_OK(apply(svc, old_id, "investigate", RD_ROLE_AGENT, NULL, 0, 0, &err),
		 &err);
	CHECK_OK(rd_service_dispute_get(svc, old_id, &d, &err), &err);
	CHECK_INT(d->workflow_version, 1);
	CHECK_STR(d->workflow_hash, old_hash);
	CHECK_STR(d->state, "investigating");
	rd_dispute_free(d);
	rd_service_close(svc);

	/*
	 * Another definition under a version this data directory already
	 * knows is refused at start-up: disputes pinned to that version
	 * would otherwise be judged by two different rule sets.
	 */
	CHECK(write_variant(wf_dir, 2, "agent") == 0);
	{
		rd_service_options opts = rd_test_service_options(data, wf_dir);

		opts.create = 0;
		svc = NULL;
		CHECK_FAILS(rd_service_open(&svc, &opts, &err), RD_EDEFINITION);
		CHECK_HAS(err.message, "version 2");
		CHECK(svc == NULL);
	}
	free(data);
	free(wf_dir);
}

#define SWEEP_DISPUTES 40

struct sweeper {
	const char *data;
	const char *workflows;      /* NULL: the repository's */
	size_t fired;
	int rc;
	rd_error err;
};

static void *sweep_thread(void *arg)
{
	struct sweeper *s = arg;
	rd_service_options opts = rd_test_service_options(s->data,
							  s->workflows);
	rd_service *svc = NULL;

	opts.create = 0;
	s->rc = rd_service_open(&svc, &opts, &s->err);
	if (s->rc == RD_OK)
		s->rc = rd_service_sweep(svc, T0 + 86400, &s->fired, &s->err);
	rd_service_close(svc);
	return NULL;
}

/* Two sweepers on one data directory at once: each deadline fires once. */
static void test_sweep_exactly_once(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	struct sweeper a, b;
	pthread_t ta, tb;
	rd_event_record *events = NULL;
	size_t count = 0, fired = 0;
	char id[RD_ID_BUFSZ];
	rd_error err;

	CHECK(svc);
	for (int i = 0; i < SWEEP_DISPUTES; i++)
		CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme", "damaged",
					      T0, &err), &err);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.data = b.data = dir;
	CHECK(pthread_create(&ta, NULL, sweep_thread, &a) == 0);
	CHECK(pthread_create(&tb, NULL, sweep_thread, &b) == 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK_OK(a.rc, &a.err);
	CHECK_OK(b.rc, &b.err);
	CHECK_INT(a.fired + b.fired, SWEEP_DISPUTES);
	CHECK_OK(rd_service_sweep(svc, T0 + 86400, &fired, &err), &err);
	CHECK_INT(fired, 0);
	/* the last dispute has exactly one escalation, by the system */
	CHECK_OK(rd_service_events(svc, id, &events, &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(events[1].event, "escalate");
	CHECK_INT(events[1].actor.role, RD_ROLE_SYSTEM);
	CHECK_HAS(events[1].note, "SLA");
	rd_event_records_free(events, count);
	rd_service_close(svc);
	free(dir);
}

/*
 * The reference workflow with the SLA of "opened" firing "remind", which
 * leads back to "opened" (and so sets the next deadline a day later),
 * into dir/dispute.json.
 */
static int write_reminding(const char *dir)
{
	json_error_t jerr;
	json_t *doc = json_load_file(REDRESS_SOURCE_DIR "/workflows/dispute.json",
				     0, &jerr);
	char *path = rd_test_path(dir, "dispute.json");
	json_t *sla;
	int rc = -1;

	if (!doc || !path ||
	    !(sla = json_object_get(json_object_get(json_object_get(doc,
				"states"), "opened"), "sla")) ||
	    json_object_set_new(sla, "on_timeout", json_string("remind")) ||
	    json_array_append_new(json_object_get(doc, "transitions"),
		json_pack("{s:s, s:s, s:[s], s:s, s:[s]}", "event", "remind",
			  "description", "The SLA reminds: still unanswered.",
			  "from", "opened", "to", "opened", "roles",
			  "system")))
		goto done;
	rc = json_dump_file(doc, path, JSON_INDENT(2));
done:
	json_decref(doc);
	free(path);
	return rc;
}

/*
 * Two sweepers at once where a deadline's event leads back into its own
 * state: the workflow would accept it a second time, so only the check
 * that the deadline is still the dispute's current one, made once the
 * sweeper holds the dispute, keeps it from firing twice.
 */
static void test_sweep_self_loop_once(void)
{
	char *dir = rd_test_tmpdir();
	char *wf_dir = rd_test_tmpdir();
	rd_service *svc = NULL;
	struct sweeper a, b;
	pthread_t ta, tb;
	char ids[SWEEP_DISPUTES][RD_ID_BUFSZ];
	rd_event_record *events = NULL;
	size_t count = 0;
	rd_error err;

	CHECK(write_reminding(wf_dir) == 0);
	svc = rd_test_service_open(dir, wf_dir);
	CHECK(svc);
	for (int i = 0; i < SWEEP_DISPUTES; i++)
		CHECK_OK(rd_test_open_dispute(svc, ids[i], 1, "acme",
					      "damaged", T0, &err), &err);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.data = b.data = dir;
	a.workflows = b.workflows = wf_dir;
	CHECK(pthread_create(&ta, NULL, sweep_thread, &a) == 0);
	CHECK(pthread_create(&tb, NULL, sweep_thread, &b) == 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK_OK(a.rc, &a.err);
	CHECK_OK(b.rc, &b.err);
	CHECK_INT(a.fired + b.fired, SWEEP_DISPUTES);
	for (int i = 0; i < SWEEP_DISPUTES; i++) {
		CHECK_OK(rd_service_events(svc, ids[i], &events, &count, &err),
			 &err);
		CHECK_INT(count, 2);
		if (count == 2) {
			CHECK_STR(events[1].event, "remind");
			CHECK_STR(events[1].to_state, "opened");
		}
		rd_event_records_free(events, count);
		events = NULL;
	}
	rd_service_close(svc);
	free(dir);
	free(wf_dir);
}

int main(void)
{
	RUN(test_open_and_read);
	RUN(test_missing_data_dir);
	RUN(test_refusals_change_nothing);
	RUN(test_offer_statuses);
	RUN(test_offer_expires);
	RUN(test_pinned_workflow);
	RUN(test_sweep_exactly_once);
	RUN(test_sweep_self_loop_once);
	return rd_test_summary();
}
