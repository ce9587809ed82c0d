/*
 * Fuzz target: a dispute's whole life through the state machine and the
 * offer engine, against workflows/dispute.json and workflows/policy.json
 * loaded once at start-up. No store and no git: the target keeps the
 * dispute, its offers and its evidence in memory and applies each step as
 * src/service/events.c and evidence.c do (a step is decided on the state
 * before it and, if refused, records nothing, as the service's transaction
 * rolls back), so that the engines' decisions can be checked over long,
 * strange histories.
 *
 * Input: a few bytes of dispute figures (currency, reason, items, shipping
 * and costs, some unknown), then steps, each a byte choosing:
 *   an event  - which event (or an unknown name), the actor's role, which
 *               fields are given and their values: offer_id one of the
 *               offers proposed now or at an earlier version (or a made-up
 *               one), amount a money text, the others present or empty;
 *   evidence  - one item of a kind added, or one withdrawn;
 *   time      - the clock moves on and every SLA deadline that came due
 *               fires as the sweeper fires it (dropped when refused).
 * With FUZZ_TRACE set in the environment every step is printed, which is
 * how to read a crasher: FUZZ_TRACE=1 fuzz_machine-replay FILE.
 *
 * Invariants, checked after every step (abort() on violation):
 *   V  the version increases by one with every recorded change and never
 *      otherwise; a refused step changes nothing at all;
 *   T  a terminal state never changes and refuses every event and every
 *      evidence change; a dispute has an outcome exactly when terminal;
 *   D  the deadline is the SLA of the current state from the time it was
 *      entered, or none;
 *   O  at most one offer awaits an answer, and exactly one in
 *      offer_pending; an offer is made only from the proposals of the
 *      current version (an id of an earlier version is refused);
 *   M  money is conserved: every offer ever recorded (made, countered or
 *      the next rung) gives the buyer at most what they paid and costs the
 *      seller what docs/offers.md says, never below zero (offers.h); a
 *      dispute owes a refund, a discount, a return or a replacement only
 *      under an accepted offer of that type, the latest one (the one
 *      GET /v1/payables reports); it ends refunded, discounted or reshipped
 *      only under such an offer, and pays the buyer at most once, at most
 *      what they paid. Every proposal set and counter-offer verdict on the
 *      way keeps the engine's promises (fuzz_check_proposals,
 *      fuzz_check_counter).
 */
#include "fuzz.h"
#include "offers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/money.h"
#include "workflow/workflow_int.h"

/* 2026-11-23T03:31:09Z */
#define START INT64_C(1795404669)

#define MAX_STEPS 128
#define MAX_OFFERS 96
#define MAX_EVIDENCE 48
#define MAX_EVENTS 32

static rd_workflow *workflow;
static rd_policy *policy;
static int trace;            /* FUZZ_TRACE set: print every step */
static const char *events[MAX_EVENTS];
static size_t event_count;

/* NOLINTNEXTLINE(readability-non-const-parameter): libFuzzer's signature */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len = 0;
	char *text;
	rd_error err;

	(void)argc;
	(void)argv;
	json_object_seed(1);
	trace = getenv("FUZZ_TRACE") != NULL;
	text = fuzz_read_source_file("workflows/dispute.json", &len);
	if (rd_workflow_parse(&workflow, text, len, "workflows/dispute.json",
			      &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.message);
		abort();
	}
	free(text);
	text = fuzz_read_source_file("workflows/policy.json", &len);
	if (rd_policy_parse(&policy, text, len, "workflows/policy.json",
			    &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.message);
		abort();
	}
	free(text);
	/* every event name of the workflow, once, in the file's order */
	for (size_t t = 0; t < workflow->transition_count; t++) {
		const char *name = workflow->transitions[t].event;
		size_t k;

		for (k = 0; k < event_count; k++)
			if (strcmp(events[k], name) == 0)
				break;
		if (k == event_count && event_count < MAX_EVENTS)
			events[event_count++] = name;
	}
	return 0;
}

/* ---- the dispute in memory ---------------------------------------------- */

typedef struct m_offer {
	rd_offer_terms terms;
	char status[16];     /* made, accepted, rejected, countered, expired,
				superseded: as the store records them */
	int64_t seq;         /* the version whose event recorded it */
} m_offer;

typedef struct m_evidence {
	const char *kind;
	int withdrawn;
} m_evidence;

typedef struct model {
	const char *state;           /* borrowed from the workflow */
	const char *outcome;         /* borrowed, NULL while open */
	int64_t version;
	int64_t now;
	int64_t decided_at;          /* when the last event was applied */
	int deadline_dropped;        /* the sweeper dropped the deadline */
	int64_t deadline_at;
	const char *deadline_event;  /* borrowed */
	m_offer offers[MAX_OFFERS];
	size_t offer_count;
	m_evidence evidence[MAX_EVIDENCE];
	size_t evidence_count;
	int payments;                /* refund_issued / discount_issued */
	int64_t paid_out;
} model;

/* Offer ids proposed at some version, for make_offer to name. */
typedef struct id_list {
	char ids[RD_OFFER_MAX_PROPOSALS][48];
	size_t count;
	int64_t version;
} id_list;

static rd_dispute *dispute;   /* the figures; version set before each use */
static fuzz_figures figures;

static m_offer *pending_offer(model *m)
{
	m_offer *found = NULL;

	for (size_t i = 0; i < m->offer_count; i++)
		if (strcmp(m->offers[i].status, "made") == 0) {
			FUZZ_CHECK(found == NULL);   /* O: at most one */
			found = &m->offers[i];
		}
	return found;
}

static const m_offer *latest_accepted(const model *m)
{
	const m_offer *found = NULL;

	for (size_t i = 0; i < m->offer_count; i++)
		if (strcmp(m->offers[i].status, "accepted") == 0 &&
		    (!found || m->offers[i].seq >= found->seq))
			found = &m->offers[i];
	return found;
}

static int declined(const char *status)
{
	return strcmp(status, "rejected") == 0 ||
	       strcmp(status, "countered") == 0 ||
	       strcmp(status, "expired") == 0;
}

/* What the engine looks at, as svc_offer_inputs gathers it. */
struct inputs {
	rd_offer_inputs in;
	rd_offer_terms declined[MAX_OFFERS];
	const char *kinds[MAX_EVIDENCE];
};

static void inputs_of(struct inputs *x, const model *m)
{
	size_t n = 0, k = 0;

	memset(&x->in, 0, sizeof(x->in));
	for (size_t i = 0; i < m->offer_count; i++)
		if (declined(m->offers[i].status))
			x->declined[n++] = m->offers[i].terms;
	for (size_t i = 0; i < m->evidence_count; i++)
		if (!m->evidence[i].withdrawn)
			x->kinds[k++] = m->evidence[i].kind;
	dispute->version = m->version;
	x->in.dispute = dispute;
	x->in.declined = n ? x->declined : NULL;
	x->in.declined_count = n;
	x->in.evidence_kinds = x->kinds;
	x->in.evidence_kind_count = k;
	x->in.offers_made = m->offer_count;
}

static int add_offer(model *m, const rd_offer_terms *terms, const char *status,
		     int64_t seq)
{
	m_offer *o;

	fuzz_check_terms(&figures, terms);    /* M */
	if (m->offer_count == MAX_OFFERS)
		return -1;
	o = &m->offers[m->offer_count++];
	memset(o, 0, sizeof(*o));
	o->terms = *terms;
	snprintf(o->status, sizeof(o->status), "%s", status);
	o->seq = seq;
	return 0;
}

static const char *field_of(const rd_field *fields, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(fields[i].name, name) == 0)
			return fields[i].value;
	return NULL;
}

/*
 * 1 when an offer id carries the digest of the inputs `set` was proposed
 * from: "o-<8 hex>-", the first 11 characters of every id of the set.
 */
static int same_inputs(const char *id, const rd_proposals *set)
{
	return set->count > 0 &&
	       strncmp(id, set->items[0].offer_id, 11) == 0;
}

/* ---- one event, as apply_in_transaction applies it ---------------------- */

static int apply_event(model *m, const char *event, rd_role role,
		       const rd_field *fields, size_t field_count,
		       int *auto_accept, rd_error *err)
{
	struct inputs *x = malloc(sizeof(*x));
	const char *kinds[MAX_EVIDENCE];
	size_t kind_count = 0, item_count = 0;
	rd_guard_ctx ctx;
	rd_decision dec;
	m_offer *pending;
	int64_t seq = m->version + 1;
	int rc;

	FUZZ_CHECK(x != NULL);
	*auto_accept = 0;
	for (size_t i = 0; i < m->evidence_count; i++) {
		size_t k;

		if (m->evidence[i].withdrawn)
			continue;
		item_count++;
		for (k = 0; k < kind_count; k++)
			if (strcmp(kinds[k], m->evidence[i].kind) == 0)
				break;
		if (k == kind_count)
			kinds[kind_count++] = m->evidence[i].kind;
	}
	pending = pending_offer(m);
	memset(&ctx, 0, sizeof(ctx));
	ctx.evidence_kinds = kinds;
	ctx.evidence_kind_count = kind_count;
	ctx.evidence_count = item_count;
	ctx.offer_pending = pending != NULL;
	ctx.has_offer_type = pending != NULL;
	ctx.offer_type = pending ? pending->terms.type : RD_OFFER_TYPE_COUNT;
	rc = rd_workflow_decide(&dec, workflow, m->state, event, role, fields,
				field_count, &ctx, m->now, err);
	if (rc < 0) {
		fuzz_check_error(rc, err);
		/* T: a terminal state refuses every event */
		FUZZ_CHECK(!rd_workflow_is_terminal(workflow, m->state) ||
			   rc == RD_ESTATE || rc == RD_EINVALID);
		goto done;
	}
	FUZZ_CHECK(!rd_workflow_is_terminal(workflow, m->state));   /* T */
	FUZZ_CHECK(strcmp(dec.from, m->state) == 0);
	FUZZ_CHECK(dec.action == RD_ACTION_NONE ||
		   dec.action == RD_ACTION_OFFER_MAKE || pending != NULL);

	switch (dec.action) {
	case RD_ACTION_NONE:
		break;
	case RD_ACTION_OFFER_ACCEPT:
		snprintf(pending->status, sizeof(pending->status), "accepted");
		break;
	case RD_ACTION_OFFER_REJECT:
		snprintf(pending->status, sizeof(pending->status), "rejected");
		break;
	case RD_ACTION_OFFER_EXPIRE:
		snprintf(pending->status, sizeof(pending->status), "expired");
		break;
	case RD_ACTION_OFFER_COUNTER: {
		const char *text = field_of(fields, field_count, "amount");
		const rd_currency *cur = rd_currency_find(dispute->currency);
		rd_counter_verdict verdict;
		rd_offer_terms asked;
		rd_proposal next;
		int64_t amount = 0;

		if (!text || !*text) {
			rc = rd_error_set_field(err, RD_EGUARD, "amount",
						"no amount");
			goto done;
		}
		if ((rc = rd_money_parse(&amount, text, cur, err)) < 0)
			goto done;
		inputs_of(x, m);
		fuzz_check_counter(policy, &x->in, &pending->terms, amount);
		if ((rc = rd_offer_counter(&verdict, &asked, &next, policy,
					   &x->in, &pending->terms, amount,
					   err)) < 0)
			goto done;
		snprintf(pending->status, sizeof(pending->status),
			 "countered");
		if (verdict == RD_COUNTER_PROPOSE_NEXT) {
			/* the counter declined; the next rung is offered */
			if (add_offer(m, &asked, "rejected", seq) < 0 ||
			    add_offer(m, &next.terms, "made", seq) < 0)
				goto full;
		} else if (add_offer(m, &asked, "made", seq) < 0) {
			goto full;
		}
		*auto_accept = verdict == RD_COUNTER_ACCEPT;
		break;
	}
	case RD_ACTION_OFFER_MAKE: {
		const char *chosen = field_of(fields, field_count, "offer_id");
		rd_proposals *set = malloc(sizeof(*set));
		const rd_proposal *p;
		rd_offer_terms terms;

		FUZZ_CHECK(set != NULL);
		if (chosen && *chosen) {
			inputs_of(x, m);
			FUZZ_CHECK(rd_offer_propose(set, policy, &x->in,
						    err) == RD_OK);
			fuzz_check_proposals(set, policy, &x->in);
			p = rd_proposals_find(set, chosen);
			/* O: only an id of the current inputs is found */
			FUZZ_CHECK(p == NULL || same_inputs(chosen, set));
			if (!p || p->cut) {
				free(set);
				rc = rd_error_set_field(err, RD_EGUARD,
					"offer_id", "not proposed");
				goto done;
			}
			terms = p->terms;
		} else if ((rc = rd_offer_terms_from_fields(&terms, dispute,
				fields, field_count, err)) < 0) {
			free(set);
			goto done;
		}
		free(set);
		if (pending)
			snprintf(pending->status, sizeof(pending->status),
				 "superseded");
		if (add_offer(m, &terms, "made", seq) < 0)
			goto full;
		break;
	}
	}
	m->decided_at = m->now;
	m->deadline_dropped = 0;
	m->state = dec.to;
	m->outcome = dec.outcome;
	m->deadline_at = dec.deadline_at;
	m->deadline_event = dec.deadline_event;
	m->version = seq;
	if (strcmp(event, "refund_issued") == 0 ||
	    strcmp(event, "discount_issued") == 0) {
		const m_offer *paid = latest_accepted(m);

		FUZZ_CHECK(paid != NULL);
		m->payments++;
		m->paid_out += paid->terms.buyer_refund;
	}
	rc = RD_OK;
	goto done;
full:
	rc = rd_error_set(err, RD_ETOOLARGE, "too many offers for the model");
done:
	free(x);
	return rc;
}

/* ---- invariants ------------------------------------------------------------ */

/* The offer types that may put a dispute in `state`. */
static int state_fits_offer(const char *state, const m_offer *accepted)
{
	static const struct {
		const char *state;
		unsigned types;
	} owed[] = {
		{ "refund_pending", (1u << RD_OFFER_REFUND_KEEP_ITEM) |
				    (1u << RD_OFFER_REFUND_WITH_RETURN) },
		{ "awaiting_return", 1u << RD_OFFER_REFUND_WITH_RETURN },
		{ "discount_pending", 1u << RD_OFFER_PARTIAL_DISCOUNT },
		{ "reshipment_pending", 1u << RD_OFFER_RESHIPMENT },
		{ "reshipped", 1u << RD_OFFER_RESHIPMENT },
	};

	for (size_t i = 0; i < sizeof(owed) / sizeof(owed[0]); i++)
		if (strcmp(owed[i].state, state) == 0)
			return accepted &&
			       (owed[i].types & (1u << accepted->terms.type));
	return 1;
}

static int outcome_fits_offer(const char *outcome, const m_offer *accepted)
{
	if (!outcome)
		return 1;
	if (strcmp(outcome, "refunded") == 0)
		return state_fits_offer("refund_pending", accepted);
	if (strcmp(outcome, "discounted") == 0)
		return state_fits_offer("discount_pending", accepted);
	if (strcmp(outcome, "reshipped") == 0)
		return state_fits_offer("reshipped", accepted);
	return 1;
}

static void check_step(const model *before, model *after, int recorded)
{
	int64_t within = 0;
	const char *on_timeout = NULL;
	const m_offer *accepted = latest_accepted(after);
	m_offer *pending = pending_offer(after);
	size_t made = 0;

	/* V */
	if (recorded) {
		FUZZ_CHECK(after->version > before->version);
	} else {
		FUZZ_CHECK(after->version == before->version);
		FUZZ_CHECK(after->state == before->state &&
			   after->outcome == before->outcome &&
			   after->offer_count == before->offer_count &&
			   after->evidence_count == before->evidence_count &&
			   after->deadline_at == before->deadline_at);
		FUZZ_CHECK(memcmp(after->offers, before->offers,
				  after->offer_count *
					  sizeof(after->offers[0])) == 0);
	}
	/* T */
	if (rd_workflow_is_terminal(workflow, before->state)) {
		FUZZ_CHECK(after->state == before->state &&
			   after->outcome == before->outcome);
		FUZZ_CHECK(after->evidence_count == before->evidence_count);
	}
	FUZZ_CHECK((after->outcome != NULL) ==
		   rd_workflow_is_terminal(workflow, after->state));
	/* D */
	if (rd_workflow_sla(workflow, after->state, &within, &on_timeout) &&
	    !after->deadline_dropped) {
		FUZZ_CHECK(after->deadline_at == after->decided_at + within);
		FUZZ_CHECK(after->deadline_event &&
			   strcmp(after->deadline_event, on_timeout) == 0);
	} else {
		FUZZ_CHECK(after->deadline_at == 0 &&
			   after->deadline_event == NULL);
	}
	/* O */
	for (size_t i = 0; i < after->offer_count; i++)
		made += strcmp(after->offers[i].status, "made") == 0;
	FUZZ_CHECK(made <= 1 && (made == 1) == (pending != NULL));
	if (strcmp(after->state, "offer_pending") == 0)
		FUZZ_CHECK(pending != NULL);
	/* M */
	FUZZ_CHECK(state_fits_offer(after->state, accepted));
	FUZZ_CHECK(outcome_fits_offer(after->outcome, accepted));
	FUZZ_CHECK(after->payments <= 1);
	FUZZ_CHECK(after->paid_out >= 0 && after->paid_out <= figures.paid);
}

/* ---- reading the input ------------------------------------------------------ */

static const char *const currencies[] = { "USD", "JPY", "KWD", "EUR" };

static int64_t amount_from(fuzz_bytes *in, int64_t max)
{
	uint32_t v = fuzz_u32(in);

	return max > 0 ? (int64_t)(v % (uint64_t)(max + 1)) : 0;
}

static rd_dispute *dispute_from(fuzz_bytes *in)
{
	int64_t prices[3], costs[3], quantities[3];
	const char *currency = currencies[fuzz_pick(in, 4)];
	rd_reason reason = (rd_reason)fuzz_pick(in, RD_REASON_COUNT);
	size_t items = 1 + fuzz_pick(in, 3);
	uint8_t unknown = fuzz_u8(in);
	int64_t shipping_paid, ship_cost, return_cost;

	for (size_t i = 0; i < items; i++) {
		prices[i] = amount_from(in, 5000000);
		quantities[i] = 1 + (int64_t)fuzz_pick(in, 4);
		costs[i] = (unknown & (8u << i)) ? RD_AMOUNT_UNSET
						 : amount_from(in, prices[i]);
	}
	shipping_paid = amount_from(in, 100000);
	ship_cost = (unknown & 1) ? RD_AMOUNT_UNSET : amount_from(in, 200000);
	return_cost = (unknown & 2) ? RD_AMOUNT_UNSET : amount_from(in, 200000);
	return fuzz_dispute_make(currency, reason, prices, costs, quantities,
				 items, shipping_paid, ship_cost, return_cost);
}

/* An amount text: a formatted figure near the dispute's, or junk. */
static void amount_text(char *buf, size_t size, fuzz_bytes *in)
{
	const rd_currency *cur = rd_currency_find(dispute->currency);
	uint8_t how = fuzz_u8(in);
	int64_t v;

	switch (how % 4) {
	case 0:
		v = amount_from(in, figures.paid + 2) - 1;
		break;
	case 1:
		v = figures.replacement == RD_AMOUNT_UNSET
			    ? 0 : figures.replacement + (int64_t)(how >> 4) - 8;
		break;
	case 2:
		v = figures.price - (int64_t)(how >> 2);
		break;
	default:
		snprintf(buf, size, "%s", (how & 4) ? "12.345" : "-");
		return;
	}
	if (rd_money_format(buf, size, v, cur) < 0)
		snprintf(buf, size, "0");
}

/* ---- the steps ---------------------------------------------------------------- */

static void step_event(model *m, fuzz_bytes *in, const id_list *now_ids,
		       const id_list *old_ids)
{
	static const char *const names[] = {
		"offer_id", "amount", "payment_ref", "tracking_number",
		"reason", "type", "refund", "copay",
	};
	uint8_t which = fuzz_u8(in);
	const char *event = which < 250 ? events[which % event_count]
					 : "no_such_event";
	rd_role role = (rd_role)fuzz_pick(in, RD_ROLE_COUNT);
	uint8_t given = fuzz_u8(in), empty = fuzz_u8(in);
	char values[8][64];
	rd_field fields[8];
	size_t n = 0;
	model work = *m;
	int auto_accept = 0, rc;
	rd_error err;

	for (size_t i = 0; i < 8; i++) {
		if (!(given & (1u << i)))
			continue;
		values[n][0] = '\0';
		if (!(empty & (1u << i))) {
			if (i == 0) {
				const id_list *list = (fuzz_u8(in) & 7) == 0
						      ? old_ids : now_ids;

				snprintf(values[n], sizeof(values[n]), "%s",
					 list->count ? list->ids[
						fuzz_pick(in, list->count)]
						     : "v1-reshipment-0");
			} else if (i == 1 || i == 6 || i == 7) {
				amount_text(values[n], sizeof(values[n]), in);
			} else if (i == 5) {
				snprintf(values[n], sizeof(values[n]), "%s",
					 rd_offer_type_name((rd_offer_type)
						fuzz_pick(in, RD_OFFER_TYPE_COUNT)));
			} else {
				snprintf(values[n], sizeof(values[n]), "X-%u",
					 fuzz_u8(in));
			}
		}
		fields[n].name = names[i];
		fields[n].value = values[n];
		n++;
	}
	rc = apply_event(&work, event, role, fields, n, &auto_accept, &err);
	if (trace) {
		fprintf(stderr, "%s by %s", event, rd_role_name(role));
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %s=%s", fields[i].name,
				fields[i].value);
		if (rc == RD_OK)
			fprintf(stderr, ": v%lld %s%s\n",
				(long long)work.version, work.state,
				auto_accept ? " (counter accepted)" : "");
		else
			fprintf(stderr, ": refused: %s\n", err.message);
	}
	if (rc == RD_OK && auto_accept) {
		/* redress accepts the counter as system:offers, same transaction */
		int again = 0;

		rc = apply_event(&work, "accept_offer", RD_ROLE_SYSTEM, NULL, 0,
				 &again, &err);
		FUZZ_CHECK(rc == RD_OK && !again);
	}
	if (rc == RD_ETOOLARGE)
		return;   /* the model is full: the step is not taken */
	if (rc == RD_OK) {
		check_step(m, &work, 1);
		*m = work;
	} else {
		check_step(m, m, 0);
	}
}

static void step_evidence(model *m, fuzz_bytes *in)
{
	uint8_t what = fuzz_u8(in);
	rd_role role = (rd_role)fuzz_pick(in, RD_ROLE_COUNT);
	int terminal = rd_workflow_is_terminal(workflow, m->state);
	model work = *m;
	int may;

	if (what & 1) {
		/* add one item: agents, admins and storefronts, while open */
		may = !terminal && (role == RD_ROLE_AGENT ||
				    role == RD_ROLE_ADMIN ||
				    role == RD_ROLE_STOREFRONT) &&
		      work.evidence_count < MAX_EVIDENCE;
		if (may) {
			work.evidence[work.evidence_count].kind =
				rd_evidence_kind_at(
					(what >> 1) % rd_evidence_kind_count());
			work.evidence[work.evidence_count].withdrawn = 0;
			work.evidence_count++;
		}
	} else {
		/* withdraw one: agents and admins, while open, not twice */
		size_t n = m->evidence_count ? (what >> 1) % m->evidence_count
					     : 0;

		may = !terminal &&
		      (role == RD_ROLE_AGENT || role == RD_ROLE_ADMIN) &&
		      n < m->evidence_count && !m->evidence[n].withdrawn;
		if (may)
			work.evidence[n].withdrawn = 1;
	}
	if (trace)
		fprintf(stderr, "evidence %s by %s: %s\n",
			(what & 1) ? "added" : "withdrawn",
			rd_role_name(role), may ? "recorded" : "refused");
	if (!may) {
		check_step(m, m, 0);
		return;
	}
	work.version++;
	check_step(m, &work, 1);
	*m = work;
}

/* Time passes; every due deadline fires, as rd_service_sweep fires it. */
static void step_time(model *m, fuzz_bytes *in)
{
	m->now += (int64_t)(fuzz_u32(in) % (30u * 86400u));
	for (int round = 0; round < 16; round++) {
		model work = *m;
		int auto_accept = 0, rc;
		rd_error err;

		if (!m->deadline_at || m->deadline_at > m->now)
			return;
		rc = apply_event(&work, m->deadline_event, RD_ROLE_SYSTEM,
				 NULL, 0, &auto_accept, &err);
		FUZZ_CHECK(!auto_accept);
		if (trace)
			fprintf(stderr, "deadline %s: %s\n", m->deadline_event,
				rc == RD_OK ? work.state : "dropped");
		if (rc == RD_ETOOLARGE)
			return;
		if (rc < 0) {
			/* refused: the deadline is dropped, as a change */
			work = *m;
			work.deadline_at = 0;
			work.deadline_event = NULL;
			work.deadline_dropped = 1;
			work.version++;
			check_step(m, &work, 1);
			*m = work;
			continue;
		}
		check_step(m, &work, 1);
		*m = work;
	}
}

static void remember_ids(id_list *list, const model *m)
{
	struct inputs *x = malloc(sizeof(*x));
	rd_proposals *set = malloc(sizeof(*set));
	rd_error err;

	FUZZ_CHECK(x && set);
	inputs_of(x, m);
	FUZZ_CHECK(rd_offer_propose(set, policy, &x->in, &err) == RD_OK);
	list->count = 0;
	list->version = m->version;
	for (size_t i = 0; i < set->count; i++)
		memcpy(list->ids[list->count++], set->items[i].offer_id, 48);
	free(set);
	free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_bytes in = { data, size };
	model *m = calloc(1, sizeof(*m));
	id_list *now_ids = calloc(1, sizeof(*now_ids));
	id_list *old_ids = calloc(1, sizeof(*old_ids));

	FUZZ_CHECK(m && now_ids && old_ids);
	dispute = dispute_from(&in);
	fuzz_offer_figures(&figures, policy, dispute);
	m->state = rd_workflow_initial(workflow);
	m->version = 1;
	m->now = m->decided_at = START;
	rd_workflow_deadline(workflow, m->state, m->now, &m->deadline_at,
			     &m->deadline_event);
	for (int step = 0; step < MAX_STEPS && in.size > 0; step++) {
		uint8_t op = fuzz_u8(&in);

		if (now_ids->version != m->version) {
			*old_ids = *now_ids;
			remember_ids(now_ids, m);
		}
		switch (op % 8) {
		case 5:
			step_evidence(m, &in);
			break;
		case 6:
			step_time(m, &in);
			break;
		default:
			step_event(m, &in, now_ids, old_ids);
			break;
		}
	}
	rd_dispute_free(dispute);
	dispute = NULL;
	free(m);
	free(now_ids);
	free(old_ids);
	return 0;
}
