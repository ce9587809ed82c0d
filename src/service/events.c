/*
 * Opening disputes, applying workflow events and sweeping SLA deadlines.
 *
 * A dispute's state changes in exactly one function, apply_in_transaction,
 * and only by a decision of the workflow engine; the change is recorded as
 * one git commit and one index transaction (see commit.c).
 */
#include "service_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redress/clock.h"
#include "redress/json.h"
#include "redress/money.h"
#include "redress/offer.h"

/* The workflow every new dispute follows. */
#define DISPUTE_WORKFLOW "dispute"

/* An offer that a newer offer replaced before it was answered. */
#define OFFER_SUPERSEDED "superseded"

/* How many due deadlines one sweep reads per round trip. */
#define SWEEP_BATCH 64

/* RD_ECONFLICT naming the open dispute input would duplicate, if any. */
static int refuse_duplicate(rd_service *svc, const rd_dispute *input,
			    rd_error *err)
{
	char existing[RD_ID_BUFSZ];
	int found = 0, rc;

	if ((rc = rd_store_dispute_open_duplicate(svc->store, input, existing,
						  &found, err)) < 0 ||
	    !found)
		return rc;
	rc = rd_error_set_field(err, RD_ECONFLICT, "order_ref",
				"dispute %s is already open for order %.64s "
				"of storefront %.64s with some of the same "
				"items; add to it, or open another on purpose "
				"with allow_duplicate (--allow-duplicate)",
				existing, input->order_ref, input->storefront);
	snprintf(err->existing_id, sizeof(err->existing_id), "%s", existing);
	return rc;
}

/*
 * The state's SLA counted in business hours (its "business_hours"): the
 * due time from the storefront's calendar rather than the plain sum the
 * workflow made.
 */
static int business_deadline(rd_service *svc, const rd_workflow *wf,
			     rd_dispute *d, int64_t now, rd_error *err)
{
	int64_t within = 0;

	if (!d->deadline_at || !rd_workflow_sla_business(wf, d->state) ||
	    !rd_workflow_sla(wf, d->state, &within, NULL))
		return RD_OK;
	return svc_due_at(svc, d, now, within, 1, &d->deadline_at, err);
}

static int dispute_open(rd_service *svc, const rd_dispute *input,
			int check_duplicate, const rd_actor *actor,
			int64_t now, rd_dispute **out, rd_error *err);

int rd_service_dispute_open(rd_service *svc, const rd_dispute *input,
			    const rd_actor *actor, int64_t now,
			    rd_dispute **out, rd_error *err)
{
	return dispute_open(svc, input, 0, actor, now, out, err);
}

int rd_service_dispute_open_checked(rd_service *svc, const rd_dispute *input,
				    unsigned flags, const rd_actor *actor,
				    int64_t now, rd_dispute **out,
				    rd_error *err)
{
	return dispute_open(svc, input, !(flags & RD_OPEN_ALLOW_DUPLICATE),
			    actor, now, out, err);
}

static int dispute_open(rd_service *svc, const rd_dispute *input,
			int check_duplicate, const rd_actor *actor,
			int64_t now, rd_dispute **out, rd_error *err)
{
	const rd_workflow *wf =
		rd_workflow_set_latest(svc->workflows, DISPUTE_WORKFLOW);
	rd_dispute *d = NULL;
	const char *deadline_event = NULL;
	int rc;

	if (out)
		*out = NULL;
	if ((d = rd_dispute_clone(input)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	free(d->outcome);
	free(d->assignee);
	d->outcome = d->assignee = NULL;
	if ((rc = rd_id_generate(d->id, now, err)) < 0)
		goto done;
	d->workflow_version = rd_workflow_version(wf);
	snprintf(d->workflow_hash, sizeof(d->workflow_hash), "%s",
		 rd_workflow_hash(wf));
	if ((rc = svc_set_string(&d->workflow_name, rd_workflow_name(wf), err)) < 0 ||
	    (rc = svc_set_string(&d->state, rd_workflow_initial(wf), err)) < 0)
		goto done;
	d->version = 1;
	d->created_at = d->updated_at = now;
	rd_workflow_deadline(wf, d->state, now, &d->deadline_at,
			     &deadline_event);
	if ((rc = svc_set_string(&d->deadline_event, deadline_event,
				 err)) < 0 ||
	    (rc = business_deadline(svc, wf, d, now, err)) < 0)
		goto done;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		goto done;
	if ((check_duplicate && (rc = refuse_duplicate(svc, d, err)) < 0) ||
	    (rc = svc_record_open(svc, d, actor, now, err)) < 0 ||
	    (rc = svc_commit(svc, err)) < 0) {
		svc_rollback(svc);
		goto done;
	}
	if (out) {
		*out = d;
		d = NULL;
	}
done:
	rd_dispute_free(d);
	return rc;
}

/* 1 when s is a field name: [a-z][a-z0-9_]{0,63} */
static int field_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= RD_EVENT_MAX_FIELD_NAME || s[0] < 'a' ||
	    s[0] > 'z')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static int check_request(const rd_event_request *req, rd_error *err)
{
	if (!req->event || !*req->event)
		return rd_error_set_field(err, RD_EINVALID, "event",
					  "an event name is required");
	if (req->field_count > RD_EVENT_MAX_FIELDS)
		return rd_error_set_field(err, RD_ETOOLARGE, "fields",
					  "at most %d fields per event",
					  RD_EVENT_MAX_FIELDS);
	for (size_t i = 0; i < req->field_count; i++) {
		const rd_field *f = &req->fields[i];

		if (!field_name_ok(f->name))
			return rd_error_set_field(err, RD_EINVALID, "fields",
				"field name \"%.64s\" is not valid (lower-case "
				"letters, digits and _, starting with a letter, "
				"at most %d characters)",
				f->name, RD_EVENT_MAX_FIELD_NAME - 1);
		if (strlen(f->value) > RD_EVENT_MAX_FIELD_VALUE)
			return rd_error_set_field(err, RD_ETOOLARGE, f->name,
				"field %s is longer than %d bytes", f->name,
				RD_EVENT_MAX_FIELD_VALUE);
		if (!svc_text_ok(f->value, 0))
			return rd_error_set_field(err, RD_EINVALID, f->name,
				"field %s holds control characters", f->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(req->fields[j].name, f->name) == 0)
				return rd_error_set_field(err, RD_EINVALID,
					f->name, "field %s is given twice",
					f->name);
	}
	if (req->note && strlen(req->note) > RD_EVENT_MAX_NOTE)
		return rd_error_set_field(err, RD_ETOOLARGE, "note",
					  "the note is longer than %d bytes",
					  RD_EVENT_MAX_NOTE);
	if (req->note && !svc_text_ok(req->note, 1))
		return rd_error_set_field(err, RD_EINVALID, "note",
					  "the note holds control characters");
	return RD_OK;
}

/* Everything one event application reads, owns and writes. */
typedef struct apply_state {
	rd_dispute *d;
	char **kinds;
	size_t kind_count;
	size_t evidence_total;
	rd_offer_record pending;
	int has_pending;
	json_t *fields;
	char *fields_text;
	int auto_accept;          /* a counter-offer the engine accepted */
	json_t *outbox_doc;       /* d's document for the change's events */
} apply_state;

static void apply_state_free(apply_state *s)
{
	rd_dispute_free(s->d);
	rd_strings_free(s->kinds, s->kind_count);
	json_decref(s->fields);
	free(s->fields_text);
	json_decref(s->outbox_doc);
}

static const char *find_field(const rd_event_request *req, const char *name)
{
	for (size_t i = 0; i < req->field_count; i++)
		if (strcmp(req->fields[i].name, name) == 0)
			return req->fields[i].value;
	return NULL;
}

static void offer_init(rd_offer_record *offer, const rd_dispute *d,
		       const rd_offer_terms *terms, int64_t seq, int64_t now)
{
	memset(offer, 0, sizeof(*offer));
	snprintf(offer->dispute_id, sizeof(offer->dispute_id), "%s", d->id);
	snprintf(offer->offer_id, sizeof(offer->offer_id), "offer-%lld",
		 (long long)seq);
	offer->type = terms->type;
	offer->buyer_refund = terms->buyer_refund;
	offer->buyer_copay = terms->buyer_copay;
	offer->seller_cost = terms->seller_cost;
	snprintf(offer->status, sizeof(offer->status), "%s", RD_OFFER_MADE);
	offer->made_at = now;
	offer->event_seq = seq;
}

/*
 * A made offer from the engine's proposals, by the id the agent chose: its
 * terms, and its id as the engine gives it now (*id, borrowed from ctx),
 * which an id of the earlier "v<version>-" form, still taken for the
 * dispute's current version, is recorded as.
 */
static int proposed_terms(rd_offer_terms *terms, const char **id,
			  svc_offer_ctx *ctx, rd_service *svc,
			  const char *offer_id, rd_error *err)
{
	const rd_proposal *p;
	int rc;

	if ((rc = svc_offer_propose(ctx, svc, err)) < 0)
		return rc;
	p = rd_proposals_find(ctx->proposals, offer_id);
	if (!p)
		p = rd_proposals_find_versioned(ctx->proposals, offer_id,
						ctx->in.dispute->version);
	if (!p)
		return rd_error_set_field(err, RD_EGUARD, "offer_id",
					  "offer %.47s is not among the offers "
					  "proposed for this dispute as it "
					  "stands (its figures or the policy "
					  "changed, or it never was); run "
					  "`redress offers %s`",
					  offer_id, ctx->in.dispute->id);
	if (p->cut)
		return rd_error_set_field(err, RD_EGUARD, "offer_id",
					  "offer %.47s is not proposed: %s",
					  offer_id, p->cut_reason);
	*terms = p->terms;
	*id = p->offer_id;
	return RD_OK;
}

static int parse_amount(int64_t *out, const rd_dispute *d, const char *text,
			rd_error *err)
{
	const rd_currency *cur = rd_currency_find(d->currency);
	rd_error parse_err;

	if (!text || !*text)
		return rd_error_set_field(err, RD_EGUARD, "amount",
					  "a counter-offer needs field amount");
	if (rd_money_parse(out, text, cur, &parse_err) < 0)
		return rd_error_set_field(err, RD_EINVALID, "amount",
					  "field amount: %s", parse_err.message);
	return RD_OK;
}

static const char *const verdict_names[] = {
	[RD_COUNTER_ACCEPT] = "accepted",
	[RD_COUNTER_PROPOSE_NEXT] = "next_rung_proposed",
	[RD_COUNTER_HOLD] = "held_for_an_agent",
};

/*
 * A counter-offer: the engine weighs it against the next rung of the
 * pending offer's ladder. Accepted, it becomes the made offer and the
 * caller accepts it at once; too dear, it is declined and the next rung is
 * made instead; with no rung left it waits for an agent.
 */
static int counter(apply_state *s, rd_service *svc, const char *amount_text,
		   int64_t seq, int64_t now, rd_error *err)
{
	svc_offer_ctx ctx;
	rd_offer_terms pending, asked;
	rd_proposal next;
	rd_counter_verdict verdict;
	rd_offer_record offer;
	int64_t amount = 0;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	pending.type = s->pending.type;
	pending.buyer_refund = s->pending.buyer_refund;
	pending.buyer_copay = s->pending.buyer_copay;
	pending.seller_cost = s->pending.seller_cost;
	if ((rc = parse_amount(&amount, s->d, amount_text, err)) < 0 ||
	    (rc = svc_offer_inputs(&ctx, svc, s->d, err)) < 0 ||
	    (rc = rd_offer_counter(&verdict, &asked, &next, svc->policy,
				   &ctx.in, &pending, amount, err)) < 0 ||
	    (rc = rd_store_offer_decide(svc->store, s->d->id,
					s->pending.offer_id, RD_OFFER_COUNTERED,
					now, err)) < 0)
		goto done;
	offer_init(&offer, s->d, &asked, seq, now);
	if (verdict == RD_COUNTER_PROPOSE_NEXT) {
		/* the counter is declined; the next rung is what is offered */
		snprintf(offer.status, sizeof(offer.status), "%s",
			 RD_OFFER_REJECTED);
		offer.decided_at = now;
		if ((rc = rd_store_offer_insert(svc->store, &offer, err)) < 0)
			goto done;
		offer_init(&offer, s->d, &next.terms, seq, now);
		snprintf(offer.offer_id, sizeof(offer.offer_id), "%s",
			 next.offer_id);
	}
	/*
	 * The amount is recorded as the API takes it, a JSON integer of
	 * minor units, whichever form it was given in (decimal text from the
	 * command line or from old clients), so that a record never leaves
	 * its unit in doubt.
	 */
	if (json_object_set_new(s->fields, "amount",
				json_integer(amount)) != 0 ||
	    json_object_set_new(s->fields, "verdict",
				json_string(verdict_names[verdict])) != 0 ||
	    json_object_set_new(s->fields, "offer_id",
				json_string(offer.offer_id)) != 0) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	rc = rd_store_offer_insert(svc->store, &offer, err);
	s->auto_accept = rc == RD_OK && verdict == RD_COUNTER_ACCEPT;
done:
	svc_offer_ctx_free(&ctx);
	return rc;
}

/* Record what the decision does to the dispute's offers. */
static int apply_offer_action(apply_state *s, const rd_decision *dec,
			      const rd_event_request *req, rd_service *svc,
			      tree_change *change, int64_t seq, int64_t now,
			      rd_error *err)
{
	const char *chosen = find_field(req, "offer_id");
	const char *made_id = NULL;
	rd_store *st = svc->store;
	svc_offer_ctx ctx;
	rd_offer_terms terms;
	rd_offer_record offer;
	const char *decided = NULL;
	int rc;

	switch (dec->action) {
	case RD_ACTION_NONE:
		return RD_OK;
	case RD_ACTION_OFFER_ACCEPT:
		decided = RD_OFFER_ACCEPTED;
		break;
	case RD_ACTION_OFFER_REJECT:
		decided = RD_OFFER_REJECTED;
		break;
	case RD_ACTION_OFFER_EXPIRE:
		decided = RD_OFFER_EXPIRED;
		break;
	case RD_ACTION_OFFER_COUNTER:
		return counter(s, svc, find_field(req, "amount"), seq, now, err);
	case RD_ACTION_OFFER_MAKE:
		break;
	}
	if (decided)
		return rd_store_offer_decide(st, s->d->id, s->pending.offer_id,
					     decided, now, err);

	/*
	 * Make an offer: one the engine proposed (offer_id), recorded with
	 * its decision record; or, for disputes on a workflow version that
	 * predates the engine, the terms given as fields.
	 */
	memset(&ctx, 0, sizeof(ctx));
	if (chosen && *chosen) {
		if ((rc = svc_offer_inputs(&ctx, svc, s->d, err)) < 0 ||
		    (rc = proposed_terms(&terms, &made_id, &ctx, svc, chosen,
					 err)) < 0 ||
		    (rc = svc_change_json(change, svc_decision_json(&ctx, svc,
								    made_id),
					  err, "decisions/%06lld.json",
					  (long long)seq)) < 0)
			goto done;
	} else if ((rc = rd_offer_terms_from_fields(&terms, s->d, req->fields,
						    req->field_count, err)) < 0) {
		goto done;
	}
	if (s->has_pending &&
	    (rc = rd_store_offer_decide(st, s->d->id, s->pending.offer_id,
					OFFER_SUPERSEDED, now, err)) < 0)
		goto done;
	offer_init(&offer, s->d, &terms, seq, now);
	if (made_id)
		snprintf(offer.offer_id, sizeof(offer.offer_id), "%s", made_id);
	if (json_object_set_new(s->fields, "offer_id",
				json_string(offer.offer_id)) != 0) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	rc = rd_store_offer_insert(st, &offer, err);
done:
	svc_offer_ctx_free(&ctx);
	return rc;
}

/*
 * The outbox's events of an applied event (the dispute at its new
 * version): what happened to the offer first, then the move.
 */
static int outbox_event(apply_state *s, rd_service *svc,
			const rd_decision *dec, int64_t now, rd_error *err)
{
	rd_offer_record made;
	const char *type = NULL;
	const char *status = NULL;
	const rd_offer_record *offer = s->has_pending ? &s->pending : NULL;
	int found = 0;
	int rc;

	switch (dec->action) {
	case RD_ACTION_NONE:
		break;
	case RD_ACTION_OFFER_MAKE:
	case RD_ACTION_OFFER_COUNTER:
		if ((rc = rd_store_offer_pending(svc->store, s->d->id, &made,
						 &found, err)) < 0)
			return rc;
		offer = found ? &made : NULL;
		type = "offer.made";
		break;
	case RD_ACTION_OFFER_ACCEPT:
		type = "offer.accepted";
		status = RD_OFFER_ACCEPTED;
		break;
	case RD_ACTION_OFFER_REJECT:
		type = "offer.rejected";
		status = RD_OFFER_REJECTED;
		break;
	case RD_ACTION_OFFER_EXPIRE:
		type = "offer.expired";
		status = RD_OFFER_EXPIRED;
		break;
	}
	if (type && offer &&
	    (rc = svc_outbox_offer(svc, s->d, &s->outbox_doc, type, offer,
				   status, now, err)) < 0)
		return rc;
	return svc_outbox_transition(svc, s->d, &s->outbox_doc, dec->from,
				     dec->event, now, err);
}

/* What a deadline sweep expects to find before it fires. */
typedef struct expected_deadline {
	int64_t due_at;
	const char *event;
	const char *state;
} expected_deadline;

static int deadline_still_due(const rd_dispute *d, const expected_deadline *x)
{
	return d->deadline_at == x->due_at && d->deadline_event &&
	       strcmp(d->deadline_event, x->event) == 0 &&
	       strcmp(d->state, x->state) == 0;
}

/*
 * In a sweep's transaction at `now`: hold the dispute whose deadline `x`
 * is, and read it into *out if that deadline is still its current one; *out
 * stays NULL when it is not (fired or changed meanwhile) or when another
 * transaction holds the dispute (rd_store_deadline_claim).
 */
static int claim_deadline(rd_service *svc, const char *id,
			  const expected_deadline *x, int64_t now,
			  rd_dispute **out, rd_error *err)
{
	rd_dispute *d = NULL;
	int claimed = 0;
	int rc;

	*out = NULL;
	if ((rc = rd_store_deadline_claim(svc->store, id, now, &claimed,
					  err)) < 0 ||
	    !claimed)
		return rc;
	if ((rc = rd_store_dispute_get(svc->store, id, &d, err)) < 0)
		return rc;
	if (deadline_still_due(d, x))
		*out = d;
	else
		rd_dispute_free(d);
	return RD_OK;
}

/*
 * The one function that changes a dispute's state. Runs inside the
 * caller's open transaction; any failure leaves the transaction to be
 * rolled back by the caller.
 */
static int apply_in_transaction(apply_state *s, rd_service *svc,
				const char *id, const rd_event_request *req,
				const rd_actor *actor, int64_t now,
				rd_error *err)
{
	const rd_workflow *wf = NULL;
	tree_change change = { 0 };
	char head[RD_OID_BUFSZ], summary[160];
	rd_guard_ctx ctx;
	rd_decision dec;
	int64_t old_version, seq;
	int rc;

	if ((rc = svc_head(svc, id, head, err)) < 0 ||
	    (rc = rd_store_dispute_get(svc->store, id, &s->d, err)) < 0 ||
	    (rc = svc_actor_sees(actor, s->d, err)) < 0)
		return rc;
	if (req->if_version > 0 && req->if_version != s->d->version)
		return rd_error_set_field(err, RD_ESTALE, "if_version",
			"dispute %s is at version %lld, not %lld; read it "
			"again and retry",
			id, (long long)s->d->version,
			(long long)req->if_version);
	if ((rc = svc_pinned_workflow(&wf, svc, s->d, err)) < 0 ||
	    (rc = svc_owner_check(wf, actor, s->d, err)) < 0)
		return rc;
	if (svc_is_assign_event(req->event))
		return svc_assign_event(svc, wf, s->d, head, req, actor, now,
					err);
	if ((rc = rd_store_evidence_kinds(svc->store, id, &s->kinds,
					  &s->kind_count, &s->evidence_total,
					  err)) < 0 ||
	    (rc = rd_store_offer_pending(svc->store, id, &s->pending,
					 &s->has_pending, err)) < 0)
		return rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.evidence_kinds = (const char *const *)s->kinds;
	ctx.evidence_kind_count = s->kind_count;
	ctx.evidence_count = s->evidence_total;
	ctx.offer_pending = s->has_pending;
	ctx.has_offer_type = s->has_pending;
	ctx.offer_type = s->pending.type;
	if ((rc = rd_workflow_decide(&dec, wf, s->d->state, req->event,
				     actor->role, req->fields,
				     req->field_count, &ctx, now, err)) < 0)
		return rc;

	old_version = s->d->version;
	seq = old_version + 1;
	if ((s->fields = json_object()) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (size_t i = 0; i < req->field_count; i++)
		if (json_object_set_new(s->fields, req->fields[i].name,
					json_string(req->fields[i].value)) != 0)
			return rd_error_set_field(err, RD_EINVALID,
				req->fields[i].name,
				"field %s is not valid UTF-8",
				req->fields[i].name);
	if ((rc = apply_offer_action(s, &dec, req, svc, &change, seq, now,
				     err)) < 0)
		goto done;
	s->fields_text = rd_json_dumps(s->fields, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s->fields_text) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = svc_set_string(&s->d->state, dec.to, err)) < 0 ||
	    (rc = svc_set_string(&s->d->outcome, dec.outcome, err)) < 0 ||
	    (dec.assign &&
	     (rc = svc_set_string(&s->d->assignee, actor->name, err)) < 0) ||
	    (dec.unassign &&
	     (rc = svc_set_string(&s->d->assignee, NULL, err)) < 0) ||
	    (rc = svc_set_string(&s->d->deadline_event, dec.deadline_event,
			     err)) < 0)
		goto done;
	s->d->deadline_at = dec.deadline_at;
	if ((rc = business_deadline(svc, wf, s->d, now, err)) < 0)
		goto done;
	/* a settled or closed dispute awaits no reply */
	if (s->d->reply_due_at && rd_workflow_is_terminal(wf, dec.to)) {
		s->d->reply_due_at = s->d->reply_since = 0;
		if ((rc = svc_set_string(&s->d->reply_event, NULL, err)) < 0 ||
		    (rc = rd_store_reply_set(svc->store, id, 0, 0, NULL,
					     err)) < 0)
			goto done;
	}
	snprintf(summary, sizeof(summary), "%s -> %s%s%s", dec.from, dec.to,
		 dec.outcome ? ", " : "", dec.outcome ? dec.outcome : "");
	if ((rc = svc_record_event(svc, s->d, old_version, head, &change,
				   actor, now, dec.event, dec.from,
				   s->fields_text, req->note, summary,
				   err)) < 0)
		goto done;
	rc = outbox_event(s, svc, &dec, now, err);
done:
	svc_change_free(&change);
	return rc;
}

/* sla.breached: the deadline `x` passed and its event fired. */
static int sla_breached(rd_service *svc, apply_state *s,
			const expected_deadline *x, int64_t now, rd_error *err)
{
	char due[RD_TIME_BUFSZ];

	rd_time_format(due, x->due_at);
	return svc_outbox_add(svc, s->d, &s->outbox_doc, "sla.breached", now,
			      json_pack("{s:{s:s, s:s, s:s, s:s}}", "sla",
					"clock", "state", "state", x->state,
					"event", x->event, "due_at", due), err);
}

static int event_apply(rd_service *svc, const char *id,
		       const rd_event_request *req, const rd_actor *actor,
		       int64_t now, const expected_deadline *expect,
		       int *fired, rd_dispute **out, rd_error *err)
{
	apply_state s;
	int rc;

	memset(&s, 0, sizeof(s));
	if (out)
		*out = NULL;
	if (fired)
		*fired = 0;
	if (!rd_id_valid(id))
		return rd_error_set_field(err, RD_ENOTFOUND, "id",
					  "no dispute %s (not a dispute id)",
					  id);
	if ((rc = check_request(req, err)) < 0)
		return rc;
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if (expect) {
		/*
		 * A sweep: fire only if the deadline it read still stands,
		 * checked once the dispute is held (another sweeper may have
		 * fired it meanwhile), and pass over one held elsewhere.
		 */
		if ((rc = claim_deadline(svc, id, expect, now, &s.d, err)) < 0)
			goto fail;
		if (!s.d) {
			svc_rollback(svc);
			goto done;
		}
		rd_dispute_free(s.d);
		s.d = NULL;
		if (svc->test_sweep_hold_ms) {
			struct timespec hold = {
				(time_t)(svc->test_sweep_hold_ms / 1000u),
				(long)(svc->test_sweep_hold_ms % 1000u) *
					1000000L
			};

			nanosleep(&hold, NULL);
		}
	}
	if ((rc = apply_in_transaction(&s, svc, id, req, actor, now, err)) < 0)
		goto fail;
	if (expect && (rc = sla_breached(svc, &s, expect, now, err)) < 0)
		goto fail;
	if (s.auto_accept) {
		/*
		 * The engine accepted the buyer's counter-offer: redress
		 * accepts it in the same transaction, as its own event.
		 */
		rd_event_request accept = { "accept_offer", NULL, 0,
			"counter-offer accepted automatically: it costs the "
			"seller no more than the next rung of the ladder", 0 };
		rd_actor system;
		apply_state next;

		memset(&system, 0, sizeof(system));
		system.role = RD_ROLE_SYSTEM;
		snprintf(system.name, sizeof(system.name), "offers");
		memset(&next, 0, sizeof(next));
		rc = apply_in_transaction(&next, svc, id, &accept, &system, now,
					  err);
		apply_state_free(&s);
		s = next;
		if (rc < 0)
			goto fail;
	}
	if ((rc = svc_commit(svc, err)) < 0)
		goto fail;
	if (fired)
		*fired = 1;
	if (out) {
		*out = s.d;
		s.d = NULL;
	}
	goto done;
fail:
	svc_rollback(svc);
done:
	apply_state_free(&s);
	return rc;
}

int rd_service_event_apply(rd_service *svc, const char *id,
			   const rd_event_request *req, const rd_actor *actor,
			   int64_t now, rd_dispute **out, rd_error *err)
{
	return event_apply(svc, id, req, actor, now, NULL, NULL, out, err);
}

/*
 * A deadline whose event the workflow refuses (say, an offer that is no
 * longer pending) can never fire: drop it, as a recorded change, so that it
 * is not retried forever and the audit trail says why.
 */
static int drop_deadline(rd_service *svc, const rd_deadline *dl,
			 const rd_actor *system, int64_t now,
			 const rd_error *why, rd_error *err)
{
	expected_deadline expect = { dl->due_at, dl->event, dl->state };
	tree_change change = { 0 };
	char head[RD_OID_BUFSZ], note[sizeof(why->message) + 64];
	rd_dispute *d = NULL;
	int rc;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = claim_deadline(svc, dl->dispute_id, &expect, now,
				  &d, err)) < 0)
		goto fail;
	if (!d) {
		svc_rollback(svc);
		goto done;
	}
	if ((rc = svc_head(svc, dl->dispute_id, head, err)) < 0)
		goto fail;
	if (snprintf(note, sizeof(note), "SLA event %.63s could not fire: %s",
		     dl->event, why->message) >= (int)sizeof(note))
		note[sizeof(note) - 1] = '\0'; /* a long reason is cut */
	d->deadline_at = 0;
	if ((rc = svc_set_string(&d->deadline_event, NULL, err)) < 0 ||
	    (rc = svc_record_event(svc, d, d->version, head, &change, system,
				   now, "deadline_dropped", d->state, "{}",
				   note, "SLA deadline dropped", err)) < 0 ||
	    (rc = svc_commit(svc, err)) < 0)
		goto fail;
	goto done;
fail:
	svc_rollback(svc);
done:
	svc_change_free(&change);
	rd_dispute_free(d);
	return rc;
}

/*
 * A reply clock that passed: in one transaction, once the dispute is
 * held and the clock is still the one read, the change "reply_overdue"
 * (by system:sla, the clock stopped), sla.breached with "clock": "reply",
 * and the workflow's event for it when the dispute's state allows it,
 * as a change of its own by system:reply. *fired = 1 when it fired.
 */
static int fire_reply(rd_service *svc, const rd_reply_due *due, int64_t now,
		      int *fired, rd_error *err)
{
	const rd_workflow *wf = NULL;
	tree_change change = { 0 };
	char head[RD_OID_BUFSZ], due_text[RD_TIME_BUFSZ], note[160];
	char number[24];
	char *fields = NULL;
	rd_actor system;
	rd_dispute *d = NULL;
	apply_state next;
	int claimed = 0, allowed = 0;
	int rc;

	*fired = 0;
	memset(&next, 0, sizeof(next));
	memset(&system, 0, sizeof(system));
	system.role = RD_ROLE_SYSTEM;
	snprintf(system.name, sizeof(system.name), "sla");
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_reply_claim(svc->store, due->dispute_id, now,
				       &claimed, err)) < 0)
		goto fail;
	if (!claimed)
		goto pass;
	if ((rc = svc_head(svc, due->dispute_id, head, err)) < 0 ||
	    (rc = rd_store_dispute_get(svc->store, due->dispute_id, &d,
				       err)) < 0)
		goto fail;
	if (d->reply_due_at != due->due_at || d->reply_since != due->since)
		goto pass;
	if ((rc = svc_pinned_workflow(&wf, svc, d, err)) < 0)
		goto fail;
	if (d->reply_event) {
		const char *names[64];
		size_t count = rd_workflow_events_from(wf, d->state,
						       RD_ROLE_SYSTEM, names,
						       64);

		for (size_t i = 0; i < count && i < 64; i++)
			allowed |= strcmp(names[i], d->reply_event) == 0;
	}
	rd_time_format(due_text, due->due_at);
	snprintf(note, sizeof(note), "no answer to message %lld (due %s)",
		 (long long)due->since, due_text);
	snprintf(number, sizeof(number), "%lld", (long long)due->since);
	d->reply_due_at = d->reply_since = 0;
	if ((fields = malloc(64)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto fail;
	}
	snprintf(fields, 64, "{\"message\":\"%s\"}", number);
	if ((rc = rd_store_reply_set(svc->store, d->id, 0, 0, NULL,
				     err)) < 0 ||
	    (rc = svc_record_event(svc, d, d->version, head, &change, &system,
				   now, "reply_overdue", d->state, fields, note,
				   "reply overdue", err)) < 0 ||
	    (rc = svc_outbox_add(svc, d, NULL, "sla.breached", now,
				 json_pack("{s:{s:s, s:s, s:I, s:s, s:o}}",
					   "sla", "clock", "reply", "state",
					   d->state, "message",
					   (json_int_t)due->since, "due_at",
					   due_text, "event",
					   allowed ? json_string(d->reply_event)
						   : json_null()),
				 err)) < 0)
		goto fail;
	if (allowed) {
		rd_event_request req;

		memset(&req, 0, sizeof(req));
		req.event = d->reply_event;
		req.note = note;
		snprintf(system.name, sizeof(system.name), "reply");
		if ((rc = apply_in_transaction(&next, svc, due->dispute_id,
					       &req, &system, now, err)) < 0)
			goto fail;
	}
	if ((rc = svc_commit(svc, err)) < 0)
		goto fail;
	*fired = 1;
	goto done;
pass:
	/* fired or answered meanwhile, or held by another transaction */
	svc_rollback(svc);
	goto done;
fail:
	svc_rollback(svc);
done:
	apply_state_free(&next);
	svc_change_free(&change);
	rd_dispute_free(d);
	free(fields);
	return rc;
}

/* Every reply clock due at `now`, a batch at a time. */
static int sweep_replies(rd_service *svc, int64_t now,
			 int (*stop)(void *ctx), void *stop_ctx,
			 size_t *fired, rd_error *err)
{
	rd_reply_due due[SWEEP_BATCH];
	size_t count, progress;
	int rc;

	do {
		progress = 0;
		if ((rc = rd_store_replies_due(svc->store, now, due,
					       SWEEP_BATCH, &count, err)) < 0)
			return rc;
		for (size_t i = 0; i < count; i++) {
			int one = 0;

			if (stop && stop(stop_ctx))
				return RD_OK;
			if ((rc = fire_reply(svc, &due[i], now, &one,
					     err)) < 0)
				return rc;
			*fired += (size_t)one;
			progress += (size_t)one;
		}
	} while (count == SWEEP_BATCH && progress > 0);
	return RD_OK;
}

int rd_service_sweep(rd_service *svc, int64_t now, size_t *fired,
		     rd_error *err)
{
	return rd_service_sweep_until(svc, now, NULL, NULL, fired, err);
}

int rd_service_sweep_until(rd_service *svc, int64_t now,
			   int (*stop)(void *ctx), void *stop_ctx,
			   size_t *fired, rd_error *err)
{
	rd_actor system;
	rd_deadline due[SWEEP_BATCH];
	size_t count, total = 0, progress;
	int rc = RD_OK;

	memset(&system, 0, sizeof(system));
	system.role = RD_ROLE_SYSTEM;
	snprintf(system.name, sizeof(system.name), "sla");
	if (fired)
		*fired = 0;
	/*
	 * Each round either fires a deadline (the new state's deadline, if
	 * any, lies after `now`) or drops it, so the rounds end.
	 */
	do {
		progress = 0;
		if ((rc = rd_store_deadlines_due(svc->store, now, due,
						 SWEEP_BATCH, &count, err)) < 0)
			goto done;
		for (size_t i = 0; i < count; i++) {
			char due_text[RD_TIME_BUFSZ], note[160];
			expected_deadline expect = { due[i].due_at,
						     due[i].event,
						     due[i].state };
			rd_event_request req;
			rd_error fire_err;
			int one = 0;

			if (stop && stop(stop_ctx)) {
				rc = RD_OK; /* between two transactions */
				goto done;
			}
			rd_time_format(due_text, due[i].due_at);
			snprintf(note, sizeof(note),
				 "SLA deadline of state %s passed (due %s)",
				 due[i].state, due_text);
			memset(&req, 0, sizeof(req));
			req.event = due[i].event;
			req.note = note;
			rc = event_apply(svc, due[i].dispute_id, &req, &system,
					 now, &expect, &one, NULL, &fire_err);
			if (rc == RD_EBUSY || rc == RD_EIO || rc == RD_ENOMEM) {
				*err = fire_err;
				goto done;
			}
			if (rc < 0) {
				if ((rc = drop_deadline(svc, &due[i], &system,
							now, &fire_err,
							err)) < 0)
					goto done;
				progress++;
			}
			total += (size_t)one;
			progress += (size_t)one;
		}
	} while (count == SWEEP_BATCH && progress > 0);
	rc = sweep_replies(svc, now, stop, stop_ctx, &total, err);
done:
	/* what fired before a failure or a stop has fired for good */
	if (fired)
		*fired = total;
	return rc;
}

/* How many disputes taken meanwhile one claim passes over before it gives up. */
#define CLAIM_ATTEMPTS 32

int rd_service_claim(rd_service *svc, const rd_actor *actor, int64_t now,
		     rd_dispute **out, rd_error *err)
{
	rd_field field = { "assignee", actor->name };
	rd_event_request req = { RD_EVENT_ASSIGN, &field, 1,
				 "claimed from the queue", 0 };
	int rc = RD_OK;

	*out = NULL;
	if (actor->role != RD_ROLE_AGENT && actor->role != RD_ROLE_ADMIN)
		return rd_error_set_guard(err, RD_EFORBIDDEN, "role",
					  "role %s may not claim disputes: "
					  "agents and admins do",
					  rd_role_name(actor->role));
	/*
	 * Each attempt is a transaction of its own: the queue's head, held
	 * (on PostgreSQL, one another node holds is passed over), read
	 * again, and assigned. One assigned or ended just before it was
	 * held is passed over: the next attempt no longer finds it.
	 */
	for (int attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
		char id[RD_ID_BUFSZ];
		rd_dispute *d = NULL;
		apply_state s;
		int found = 0;

		if ((rc = rd_store_begin(svc->store, err)) < 0)
			return rc;
		if ((rc = rd_store_claim_next(svc->store, id, &found,
					      err)) < 0 ||
		    (found && (rc = rd_store_dispute_get(svc->store, id, &d,
						       err)) < 0)) {
			svc_rollback(svc);
			return rc;
		}
		if (!found) {
			/* under an Idempotency-Key, "nothing" is an answer too */
			if (!svc->idem.armed) {
				svc_rollback(svc);
				return RD_OK;
			}
			if ((rc = svc_idem_nothing(svc, now, err)) < 0) {
				svc_rollback(svc);
				return rc;
			}
			return svc_commit(svc, err);
		}
		if (d->assignee || d->outcome) {
			rd_dispute_free(d);
			svc_rollback(svc);
			continue;
		}
		rd_dispute_free(d);
		memset(&s, 0, sizeof(s));
		rc = apply_in_transaction(&s, svc, id, &req, actor, now, err);
		if (rc == RD_OK)
			rc = svc_commit(svc, err);
		else
			svc_rollback(svc);
		if (rc == RD_OK) {
			*out = s.d;
			s.d = NULL;
		}
		apply_state_free(&s);
		if (rc != RD_ECONFLICT && rc != RD_ESTALE)
			return rc;
		/* a request under the same key recorded meanwhile: its answer */
		if (rc == RD_ECONFLICT && svc->idem.armed &&
		    strcmp(err->field, "Idempotency-Key") == 0)
			return rc;
	}
	return rc < 0 ? rc : rd_error_set(err, RD_EBUSY,
					  "every dispute this claim found was "
					  "taken meanwhile; claim again");
}

int rd_service_agents(rd_service *svc, int64_t now, rd_agent_load **out,
		      size_t *count, rd_error *err)
{
	return rd_store_agents(svc->store, now, out, count, err);
}
