/*
 * Workflow decisions on the reference definition, workflows/dispute.json:
 * every transition from every one of its states for every permitted role,
 * and every guard refusing with its code, its name and a message that says
 * what is missing. The expectations below are written from the product's
 * table of events, not read from the file, so a wrong file fails here.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/workflow.h"

#define WORKFLOWS_DIR REDRESS_SOURCE_DIR "/workflows"

/* 2026-11-23T03:31:09Z */
#define NOW INT64_C(1795404669)
#define DAY INT64_C(86400)

#define AGENT (1u << RD_ROLE_AGENT)
#define STOREFRONT (1u << RD_ROLE_STOREFRONT)
#define ADMIN (1u << RD_ROLE_ADMIN)
#define SYSTEM (1u << RD_ROLE_SYSTEM)

#define OPEN_STATES                                                          \
	"opened", "investigating", "offer_pending", "refund_pending",         \
	"awaiting_return", "reshipment_pending", "reshipped",                 \
	"discount_pending", "escalated"

static const char *const all_states[] = { OPEN_STATES, "resolved", "closed" };
#define STATE_COUNT (sizeof(all_states) / sizeof(all_states[0]))

struct expected {
	const char *event;
	const char *from[10];      /* NULL-terminated */
	const char *to;            /* NULL: chosen by the offer's type */
	unsigned roles;
	const char *fields[3];     /* NULL-terminated */
	const char *evidence[3];   /* any one of these kinds; "any" */
	int offer;
	rd_offer_action action;
	int assign;
	const char *outcome;
};

static const struct expected transitions[] = {
	{ "investigate", { "opened" }, "investigating", AGENT | ADMIN,
	  { NULL }, { NULL }, 0, RD_ACTION_NONE, 1, NULL },
	{ "make_offer", { "investigating", "escalated" }, "offer_pending",
	  AGENT | ADMIN, { "offer_id" }, { NULL }, 0, RD_ACTION_OFFER_MAKE, 0,
	  NULL },
	{ "accept_offer", { "offer_pending" }, NULL,
	  AGENT | STOREFRONT | ADMIN | SYSTEM, { NULL }, { NULL }, 1,
	  RD_ACTION_OFFER_ACCEPT, 0, NULL },
	{ "reject_offer", { "offer_pending" }, "investigating",
	  AGENT | STOREFRONT | ADMIN, { NULL }, { NULL }, 1,
	  RD_ACTION_OFFER_REJECT, 0, NULL },
	{ "counter_offer", { "offer_pending" }, "offer_pending",
	  AGENT | STOREFRONT | ADMIN, { "amount" }, { NULL }, 1,
	  RD_ACTION_OFFER_COUNTER, 0, NULL },
	{ "expire_offer", { "offer_pending" }, "investigating", SYSTEM,
	  { NULL }, { NULL }, 1, RD_ACTION_OFFER_EXPIRE, 0, NULL },
	{ "return_received", { "awaiting_return" }, "refund_pending",
	  AGENT | ADMIN, { NULL }, { "tracking_record", "inspection_report" },
	  0, RD_ACTION_NONE, 0, NULL },
	{ "refund_issued", { "refund_pending" }, "resolved",
	  STOREFRONT | AGENT | ADMIN, { "payment_ref" }, { NULL }, 0,
	  RD_ACTION_NONE, 0, "refunded" },
	{ "discount_issued", { "discount_pending" }, "resolved",
	  STOREFRONT | AGENT | ADMIN, { "payment_ref" }, { NULL }, 0,
	  RD_ACTION_NONE, 0, "discounted" },
	{ "shipment_sent", { "reshipment_pending" }, "reshipped",
	  AGENT | ADMIN, { "tracking_number" }, { "tracking_record" }, 0,
	  RD_ACTION_NONE, 0, NULL },
	{ "delivery_confirmed", { "reshipped" }, "resolved",
	  AGENT | STOREFRONT | ADMIN, { NULL }, { NULL }, 0, RD_ACTION_NONE, 0,
	  "reshipped" },
	{ "reshipment_lost", { "reshipped" }, "investigating", AGENT | ADMIN,
	  { NULL }, { NULL }, 0, RD_ACTION_NONE, 0, NULL },
	{ "escalate",
	  { "opened", "investigating", "offer_pending", "refund_pending",
	    "awaiting_return", "reshipment_pending", "reshipped",
	    "discount_pending" },
	  "escalated", AGENT | ADMIN | SYSTEM, { NULL }, { NULL }, 0,
	  RD_ACTION_NONE, 0, NULL },
	{ "requeue", { "escalated" }, "escalated", SYSTEM, { NULL }, { NULL },
	  0, RD_ACTION_NONE, 0, NULL },
	{ "resume", { "escalated" }, "investigating", ADMIN, { NULL },
	  { NULL }, 0, RD_ACTION_NONE, 0, NULL },
	{ "withdraw", { OPEN_STATES }, "closed", AGENT | STOREFRONT | ADMIN,
	  { NULL }, { NULL }, 0, RD_ACTION_NONE, 0, "withdrawn" },
	{ "reject_dispute", { "investigating", "escalated" }, "closed",
	  AGENT | ADMIN, { "reason" }, { "any" }, 0, RD_ACTION_NONE, 0,
	  "rejected" },
};
#define TRANSITION_COUNT (sizeof(transitions) / sizeof(transitions[0]))

/* accept_offer's branches, by offer type. */
static const char *const branch[RD_OFFER_TYPE_COUNT] = {
	[RD_OFFER_REFUND_KEEP_ITEM] = "refund_pending",
	[RD_OFFER_REFUND_WITH_RETURN] = "awaiting_return",
	[RD_OFFER_RESHIPMENT] = "reshipment_pending",
	[RD_OFFER_PARTIAL_DISCOUNT] = "discount_pending",
};

static const struct {
	const char *state;
	int64_t within;
	const char *event;
} slas[] = {
	{ "opened", DAY, "escalate" },
	{ "investigating", 2 * DAY, "escalate" },
	{ "offer_pending", 5 * DAY, "expire_offer" },
	{ "reshipment_pending", 3 * DAY, "escalate" },
	{ "reshipped", 14 * DAY, "escalate" },
	{ "escalated", DAY, "requeue" },
	{ "refund_pending", 3 * DAY, "escalate" },
	{ "awaiting_return", 21 * DAY, "escalate" },
	{ "discount_pending", 3 * DAY, "escalate" },
};

static rd_workflow_set *workflows;
static const rd_workflow *dispute;

static int64_t sla_within(const char *state, const char **event)
{
	*event = NULL;
	for (size_t i = 0; i < sizeof(slas) / sizeof(slas[0]); i++) {
		if (strcmp(slas[i].state, state) == 0) {
			*event = slas[i].event;
			return slas[i].within;
		}
	}
	return 0;
}

static int leaves(const struct expected *t, const char *state)
{
	for (size_t k = 0; t->from[k]; k++)
		if (strcmp(t->from[k], state) == 0)
			return 1;
	return 0;
}

static int is_terminal(const char *state)
{
	return strcmp(state, "resolved") == 0 || strcmp(state, "closed") == 0;
}

/* Exactly what t requires, and nothing else. */
struct inputs {
	rd_field fields[3];
	size_t field_count;
	const char *kinds[1];
	rd_guard_ctx ctx;
};

static void inputs_for(struct inputs *in, const struct expected *t)
{
	memset(in, 0, sizeof(*in));
	for (size_t i = 0; t->fields[i]; i++) {
		in->fields[i].name = t->fields[i];
		in->fields[i].value = "X-1";
		in->field_count++;
	}
	if (t->evidence[0] && strcmp(t->evidence[0], "any") == 0) {
		in->kinds[0] = "note";
		in->ctx.evidence_kinds = in->kinds;
		in->ctx.evidence_kind_count = 1;
		in->ctx.evidence_count = 1;
	} else if (t->evidence[0]) {
		in->kinds[0] = t->evidence[0];
		in->ctx.evidence_kinds = in->kinds;
		in->ctx.evidence_kind_count = 1;
		in->ctx.evidence_count = 1;
	}
	if (t->offer) {
		in->ctx.offer_pending = 1;
		in->ctx.has_offer_type = 1;
		in->ctx.offer_type = RD_OFFER_REFUND_KEEP_ITEM;
	}
}

static int decide(rd_decision *out, const char *state, const char *event,
		  rd_role role, const struct inputs *in, rd_error *err)
{
	return rd_workflow_decide(out, dispute, state, event, role,
				  in ? in->fields : NULL,
				  in ? in->field_count : 0,
				  in ? &in->ctx : NULL, NOW, err);
}

static const struct expected *expected_for(const char *event)
{
	for (size_t i = 0; i < TRANSITION_COUNT; i++)
		if (strcmp(transitions[i].event, event) == 0)
			return &transitions[i];
	return NULL;
}

/* ---- permitted events ------------------------------------------------- */

static void every_transition_succeeds(void)
{
	size_t checked = 0;

	for (size_t i = 0; i < TRANSITION_COUNT; i++) {
		const struct expected *t = &transitions[i];
		struct inputs in;

		inputs_for(&in, t);
		for (size_t k = 0; t->from[k]; k++) {
			for (unsigned r = 0; r < RD_ROLE_COUNT; r++) {
				const char *to, *deadline_event;
				int64_t within, due;
				rd_decision d;
				rd_error err = { 0 };

				to = t->to ? t->to :
				     branch[RD_OFFER_REFUND_KEEP_ITEM];
				within = sla_within(to, &deadline_event);
				due = within ? NOW + within : 0;

				if (!(t->roles & (1u << r)))
					continue;
				CHECK_OK(decide(&d, t->from[k], t->event,
						(rd_role)r, &in, &err), &err);
				CHECK_STR(d.event, t->event);
				CHECK_STR(d.from, t->from[k]);
				CHECK_STR(d.to, to);
				if (t->outcome)
					CHECK_STR(d.outcome, t->outcome);
				else
					CHECK(d.outcome == NULL);
				CHECK_INT(is_terminal(to), t->outcome != NULL);
				CHECK_INT(d.action, t->action);
				CHECK_INT(d.assign, t->assign);
				/* only requeue leaves the assignee */
				CHECK_INT(d.unassign,
					  strcmp(t->event, "requeue") == 0);
				CHECK_INT(d.deadline_at, due);
				if (deadline_event)
					CHECK_STR(d.deadline_event,
						  deadline_event);
				else
					CHECK(d.deadline_event == NULL);
				checked++;
			}
		}
	}
	/* every (transition, from state, role) triple of the table */
	CHECK_INT(checked, 89);
}

/* Transitions without guards need no fields and no context at all. */
static void unguarded_need_nothing(void)
{
	for (size_t i = 0; i < TRANSITION_COUNT; i++) {
		const struct expected *t = &transitions[i];
		rd_decision d;
		rd_error err = { 0 };
		unsigned r = 0;

		if (t->fields[0] || t->evidence[0] || t->offer)
			continue;
		while (!(t->roles & (1u << r)))
			r++;
		CHECK_OK(rd_workflow_decide(&d, dispute, t->from[0], t->event,
					    (rd_role)r, NULL, 0, NULL, NOW,
					    &err), &err);
		CHECK_STR(d.to, t->to);
	}
}

static void accept_offer_routes_by_type(void)
{
	struct inputs in;

	inputs_for(&in, expected_for("accept_offer"));
	for (size_t type = 0; type < RD_OFFER_TYPE_COUNT; type++) {
		const char *deadline_event;
		int64_t within = sla_within(branch[type], &deadline_event);
		rd_decision d;
		rd_error err = { 0 };

		in.ctx.offer_type = (rd_offer_type)type;
		CHECK_OK(decide(&d, "offer_pending", "accept_offer",
				RD_ROLE_STOREFRONT, &in, &err), &err);
		CHECK_STR(d.to, branch[type]);
		CHECK(d.outcome == NULL);
		CHECK_INT(d.action, RD_ACTION_OFFER_ACCEPT);
		CHECK_INT(d.deadline_at, within ? NOW + within : 0);
		if (deadline_event)
			CHECK_STR(d.deadline_event, deadline_event);
		else
			CHECK(d.deadline_event == NULL);
	}
}

/* ---- refusals --------------------------------------------------------- */

static void other_roles_forbidden(void)
{
	size_t checked = 0;

	for (size_t i = 0; i < TRANSITION_COUNT; i++) {
		const struct expected *t = &transitions[i];
		struct inputs in;

		inputs_for(&in, t);
		for (size_t k = 0; t->from[k]; k++) {
			for (unsigned r = 0; r < RD_ROLE_COUNT; r++) {
				char text[128];
				rd_decision d;
				rd_error err = { 0 };

				if (t->roles & (1u << r))
					continue;
				CHECK_FAILS(decide(&d, t->from[k], t->event,
						   (rd_role)r, &in, &err),
					    RD_EFORBIDDEN);
				CHECK_STR(err.guard, "role");
				CHECK(d.to == NULL);
				snprintf(text, sizeof(text),
					 "role %s may not apply \"%s\"",
					 rd_role_name((rd_role)r), t->event);
				CHECK_HAS(err.message, text);
				snprintf(text, sizeof(text), "in state \"%s\"",
					 t->from[k]);
				CHECK_HAS(err.message, text);
				checked++;
			}
		}
	}
	CHECK(checked > 0);
	/* auditors apply nothing; a role out of range is no role */
	rd_decision d;
	rd_error err = { 0 };

	CHECK_FAILS(decide(&d, "opened", "withdraw", RD_ROLE_COUNT, NULL, &err),
		    RD_EFORBIDDEN);
	CHECK_HAS(err.message, "role (unknown) may not apply");
}

static void events_not_from_state_refused(void)
{
	size_t checked = 0;

	for (size_t s = 0; s < STATE_COUNT; s++) {
		for (size_t i = 0; i < TRANSITION_COUNT; i++) {
			const struct expected *t = &transitions[i];
			struct inputs in;
			char text[160];

			if (leaves(t, all_states[s]))
				continue;
			inputs_for(&in, t);
			for (unsigned r = 0; r < RD_ROLE_COUNT; r++) {
				rd_decision d;
				rd_error err = { 0 };

				CHECK_FAILS(decide(&d, all_states[s], t->event,
						   (rd_role)r, &in, &err),
					    RD_ESTATE);
				CHECK_STR(err.guard, "state");
				CHECK(d.to == NULL);
				snprintf(text, sizeof(text),
					 "event \"%s\" is not allowed in state "
					 "\"%s\" (allowed: ", t->event,
					 all_states[s]);
				CHECK_HAS(err.message, text);
				checked++;
			}
		}
	}
	/* 17 events x 11 states, less the 34 pairs the table allows */
	CHECK_INT(checked, (17 * STATE_COUNT - 34) * RD_ROLE_COUNT);
}

static void refusal_messages(void)
{
	struct inputs in;
	rd_decision d;
	rd_error err = { 0 };

	inputs_for(&in, expected_for("refund_issued"));
	CHECK_FAILS(decide(&d, "offer_pending", "refund_issued", RD_ROLE_AGENT,
			   &in, &err), RD_ESTATE);
	CHECK_STR(err.message,
		  "event \"refund_issued\" is not allowed in state "
		  "\"offer_pending\" (allowed: accept_offer, reject_offer, "
		  "counter_offer, escalate, withdraw)");
	CHECK_STR(err.field, "");

	CHECK_FAILS(decide(&d, "resolved", "withdraw", RD_ROLE_ADMIN, NULL,
			   &err), RD_ESTATE);
	CHECK_HAS(err.message, "is not allowed in state \"resolved\" "
		  "(allowed: none)");

	CHECK_FAILS(decide(&d, "escalated", "resume", RD_ROLE_STOREFRONT, NULL,
			   &err), RD_EFORBIDDEN);
	CHECK_HAS(err.message,
		  "role storefront may not apply \"resume\" (roles: admin)");

	CHECK_FAILS(decide(&d, "refund_pending", "refund_issued",
			   RD_ROLE_STOREFRONT, NULL, &err), RD_EGUARD);
	CHECK_HAS(err.message, "event \"refund_issued\" needs field "
		  "\"payment_ref\"");
	CHECK_HAS(err.message, "state \"refund_pending\"");

	inputs_for(&in, expected_for("shipment_sent"));
	in.ctx.evidence_kind_count = 0;
	in.ctx.evidence_count = 0;
	CHECK_FAILS(decide(&d, "reshipment_pending", "shipment_sent",
			   RD_ROLE_AGENT, &in, &err), RD_EGUARD);
	CHECK_HAS(err.message, "event \"shipment_sent\" needs evidence of "
		  "kind tracking_record");
	CHECK_HAS(err.message, "state \"reshipment_pending\"");
}

static void unknown_event_or_state(void)
{
	rd_decision d;
	rd_error err = { 0 };

	CHECK_FAILS(decide(&d, "opened", "refund", RD_ROLE_ADMIN, NULL, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "event");
	CHECK_STR(err.guard, "");
	CHECK_HAS(err.message, "has no event \"refund\"");
	CHECK_HAS(err.message, "refund_issued");
	CHECK(d.to == NULL && d.event == NULL);

	/* an unknown event comes before the state it is applied in */
	CHECK_FAILS(decide(&d, "nowhere", "refund", RD_ROLE_ADMIN, NULL, &err),
		    RD_EINVALID);
	CHECK_FAILS(decide(&d, "opened", NULL, RD_ROLE_ADMIN, NULL, &err),
		    RD_EINVALID);
	CHECK_FAILS(decide(&d, "opened", "", RD_ROLE_ADMIN, NULL, &err),
		    RD_EINVALID);

	CHECK_FAILS(decide(&d, "nowhere", "withdraw", RD_ROLE_ADMIN, NULL,
			   &err), RD_ESTATE);
	CHECK_STR(err.guard, "state");
	CHECK_HAS(err.message, "\"nowhere\" is not a state");
	CHECK_FAILS(decide(&d, NULL, "withdraw", RD_ROLE_ADMIN, NULL, &err),
		    RD_ESTATE);

	CHECK_FAILS(rd_workflow_decide(NULL, dispute, "opened", "withdraw",
				       RD_ROLE_ADMIN, NULL, 0, NULL, NOW, &err),
		    RD_EINTERNAL);
	CHECK_FAILS(rd_workflow_decide(&d, NULL, "opened", "withdraw",
				       RD_ROLE_ADMIN, NULL, 0, NULL, NOW, &err),
		    RD_EINTERNAL);
}

static void required_fields_guard(void)
{
	size_t checked = 0;

	for (size_t i = 0; i < TRANSITION_COUNT; i++) {
		const struct expected *t = &transitions[i];
		unsigned r = 0;

		while (!(t->roles & (1u << r)))
			r++;
		for (size_t f = 0; t->fields[f]; f++) {
			static const char *const bad_values[] = { "", NULL };
			char text[128];
			struct inputs in;
			rd_decision d;
			rd_error err = { 0 };

			snprintf(text, sizeof(text),
				 "event \"%s\" needs field \"%s\"", t->event,
				 t->fields[f]);

			/* missing: another field stands in its place */
			inputs_for(&in, t);
			in.fields[f].name = "note";
			CHECK_FAILS(decide(&d, t->from[0], t->event,
					   (rd_role)r, &in, &err), RD_EGUARD);
			CHECK_STR(err.guard, "fields");
			CHECK_STR(err.field, t->fields[f]);
			CHECK_HAS(err.message, text);

			/* present but empty counts as missing */
			for (size_t b = 0; b < 2; b++) {
				inputs_for(&in, t);
				in.fields[f].value = bad_values[b];
				CHECK_FAILS(decide(&d, t->from[0], t->event,
						   (rd_role)r, &in, &err),
					    RD_EGUARD);
				CHECK_STR(err.guard, "fields");
				CHECK_STR(err.field, t->fields[f]);
			}

			/* an empty copy beside a real one is fine */
			inputs_for(&in, t);
			in.fields[in.field_count].name = t->fields[f];
			in.fields[in.field_count].value = "";
			in.field_count++;
			CHECK_OK(decide(&d, t->from[0], t->event, (rd_role)r,
					&in, &err), &err);
			checked++;
		}
	}
	CHECK_INT(checked, 6);
}

static void evidence_guard(void)
{
	static const char *const photo[] = { "photo" };
	static const char *const tracking[] = { "tracking_record" };
	static const char *const inspection[] = { "photo",
						  "inspection_report" };
	struct inputs in;
	rd_decision d;
	rd_error err = { 0 };

	/* return_received: a tracking record or an inspection report */
	inputs_for(&in, expected_for("return_received"));
	in.ctx.evidence_kinds = NULL;
	in.ctx.evidence_kind_count = 0;
	in.ctx.evidence_count = 0;
	CHECK_FAILS(decide(&d, "awaiting_return", "return_received",
			   RD_ROLE_AGENT, &in, &err), RD_EGUARD);
	CHECK_STR(err.guard, "evidence");
	CHECK_HAS(err.message, "needs evidence of kind tracking_record or "
		  "inspection_report");
	in.ctx.evidence_kinds = photo;
	in.ctx.evidence_kind_count = 1;
	in.ctx.evidence_count = 3;
	CHECK_FAILS(decide(&d, "awaiting_return", "return_received",
			   RD_ROLE_AGENT, &in, &err), RD_EGUARD);
	CHECK_STR(err.guard, "evidence");
	in.ctx.evidence_kinds = tracking;
	CHECK_OK(decide(&d, "awaiting_return", "return_received",
			RD_ROLE_AGENT, &in, &err), &err);
	CHECK_STR(d.to, "refund_pending");
	in.ctx.evidence_kinds = inspection;
	in.ctx.evidence_kind_count = 2;
	CHECK_OK(decide(&d, "awaiting_return", "return_received",
			RD_ROLE_ADMIN, &in, &err), &err);

	/* shipment_sent: a tracking record, a photo will not do */
	inputs_for(&in, expected_for("shipment_sent"));
	in.ctx.evidence_kinds = photo;
	CHECK_FAILS(decide(&d, "reshipment_pending", "shipment_sent",
			   RD_ROLE_AGENT, &in, &err), RD_EGUARD);
	CHECK_STR(err.guard, "evidence");
	CHECK_STR(err.field, "");

	/* reject_dispute: "any" needs one item, whatever its kind */
	inputs_for(&in, expected_for("reject_dispute"));
	in.ctx.evidence_count = 0;
	CHECK_FAILS(decide(&d, "investigating", "reject_dispute",
			   RD_ROLE_AGENT, &in, &err), RD_EGUARD);
	CHECK_STR(err.guard, "evidence");
	CHECK_HAS(err.message, "event \"reject_dispute\" needs evidence of "
		  "any kind");
	in.ctx.evidence_kinds = NULL;
	in.ctx.evidence_kind_count = 0;
	in.ctx.evidence_count = 1;
	CHECK_OK(decide(&d, "escalated", "reject_dispute", RD_ROLE_ADMIN, &in,
			&err), &err);
	CHECK_STR(d.outcome, "rejected");

	/* no context at all is no evidence */
	CHECK_FAILS(rd_workflow_decide(&d, dispute, "investigating",
				       "reject_dispute", RD_ROLE_AGENT,
				       in.fields, in.field_count, NULL, NOW,
				       &err), RD_EGUARD);
	CHECK_STR(err.guard, "evidence");
}

static void offer_guard(void)
{
	static const char *const offer_events[] = {
		"accept_offer", "reject_offer", "counter_offer", "expire_offer",
	};

	for (size_t i = 0; i < 4; i++) {
		const struct expected *t = expected_for(offer_events[i]);
		struct inputs in;
		rd_decision d;
		rd_error err = { 0 };
		unsigned r = 0;

		while (!(t->roles & (1u << r)))
			r++;
		inputs_for(&in, t);
		in.ctx.offer_pending = 0;
		CHECK_FAILS(decide(&d, "offer_pending", t->event, (rd_role)r,
				   &in, &err), RD_EGUARD);
		CHECK_STR(err.guard, "offer");
		CHECK_HAS(err.message, "needs a pending offer");
		CHECK_HAS(err.message, "state \"offer_pending\"");
		CHECK_HAS(err.message, t->event);
	}

	/* routing needs the pending offer's type */
	struct inputs in;
	rd_decision d;
	rd_error err = { 0 };

	inputs_for(&in, expected_for("accept_offer"));
	in.ctx.has_offer_type = 0;
	CHECK_FAILS(decide(&d, "offer_pending", "accept_offer", RD_ROLE_AGENT,
			   &in, &err), RD_EGUARD);
	CHECK_STR(err.guard, "offer");
	CHECK(d.to == NULL);
	in.ctx.has_offer_type = 1;
	in.ctx.offer_type = RD_OFFER_TYPE_COUNT;
	CHECK_FAILS(decide(&d, "offer_pending", "accept_offer", RD_ROLE_AGENT,
			   &in, &err), RD_EGUARD);
	CHECK_STR(err.guard, "offer");

	/* without a type, events that do not route still pass */
	inputs_for(&in, expected_for("reject_offer"));
	in.ctx.has_offer_type = 0;
	CHECK_OK(decide(&d, "offer_pending", "reject_offer", RD_ROLE_AGENT,
			&in, &err), &err);
}

/* state, role, fields, evidence, offer: the first that fails is named. */
static void guard_order(void)
{
	static const char text[] =
		"{\"name\": \"order\", \"version\": 1, \"initial\": \"a\",\n"
		" \"states\": {\"a\": {}, \"b\": {\"terminal\": true}},\n"
		" \"transitions\": [\n"
		"  {\"event\": \"go\", \"from\": [\"a\"], \"to\": \"b\",\n"
		"   \"roles\": [\"agent\"], \"outcome\": \"gone\",\n"
		"   \"action\": \"offer.reject\",\n"
		"   \"requires\": {\"fields\": [\"f\"],\n"
		"                \"evidence_kinds\": [\"photo\"],\n"
		"                \"offer\": true}}]}\n";
	static const char *const photo[] = { "photo" };
	rd_field field = { "f", "v" };
	rd_guard_ctx none = { 0 };
	rd_guard_ctx all = { photo, 1, 1, 1, 0, RD_OFFER_RESHIPMENT };
	rd_guard_ctx no_offer = { photo, 1, 1, 0, 0, RD_OFFER_RESHIPMENT };
	rd_workflow *wf = NULL;
	rd_decision d;
	rd_error err = { 0 };

	CHECK_OK(rd_workflow_parse(&wf, text, strlen(text), "order.json",
				   &err), &err);
	CHECK_FAILS(rd_workflow_decide(&d, wf, "b", "go", RD_ROLE_STOREFRONT,
				       NULL, 0, &none, NOW, &err), RD_ESTATE);
	CHECK_FAILS(rd_workflow_decide(&d, wf, "a", "go", RD_ROLE_STOREFRONT,
				       NULL, 0, &none, NOW, &err),
		    RD_EFORBIDDEN);
	CHECK_FAILS(rd_workflow_decide(&d, wf, "a", "go", RD_ROLE_AGENT,
				       NULL, 0, &none, NOW, &err), RD_EGUARD);
	CHECK_STR(err.guard, "fields");
	CHECK_FAILS(rd_workflow_decide(&d, wf, "a", "go", RD_ROLE_AGENT,
				       &field, 1, &none, NOW, &err), RD_EGUARD);
	CHECK_STR(err.guard, "evidence");
	CHECK_FAILS(rd_workflow_decide(&d, wf, "a", "go", RD_ROLE_AGENT,
				       &field, 1, &no_offer, NOW, &err),
		    RD_EGUARD);
	CHECK_STR(err.guard, "offer");
	CHECK_OK(rd_workflow_decide(&d, wf, "a", "go", RD_ROLE_AGENT, &field,
				    1, &all, NOW, &err), &err);
	CHECK_STR(d.to, "b");
	CHECK_STR(d.outcome, "gone");
	CHECK_INT(d.deadline_at, 0);
	rd_workflow_free(wf);

	/* the same order on the reference workflow */
	CHECK_FAILS(decide(&d, "opened", "resume", RD_ROLE_STOREFRONT, NULL,
			   &err), RD_ESTATE);
	CHECK_FAILS(decide(&d, "reshipment_pending", "shipment_sent",
			   RD_ROLE_STOREFRONT, NULL, &err), RD_EFORBIDDEN);
	CHECK_FAILS(decide(&d, "reshipment_pending", "shipment_sent",
			   RD_ROLE_AGENT, NULL, &err), RD_EGUARD);
	CHECK_STR(err.guard, "fields");
	CHECK_FAILS(decide(&d, "offer_pending", "counter_offer",
			   RD_ROLE_STOREFRONT, NULL, &err), RD_EGUARD);
	CHECK_STR(err.guard, "fields");
}

static void deadlines(void)
{
	const char *event = "untouched";
	int64_t due = -1;

	for (size_t s = 0; s < STATE_COUNT; s++) {
		const char *expected_event;
		int64_t within = sla_within(all_states[s], &expected_event);

		rd_workflow_deadline(dispute, all_states[s], NOW, &due, &event);
		CHECK_INT(due, within ? NOW + within : 0);
		if (expected_event)
			CHECK_STR(event, expected_event);
		else
			CHECK(event == NULL);
	}
	rd_workflow_deadline(dispute, "opened", NOW, &due, &event);
	CHECK_INT(due, NOW + 86400);
	rd_workflow_deadline(dispute, "offer_pending", 0, &due, &event);
	CHECK_INT(due, 432000);
	CHECK_STR(event, "expire_offer");
	rd_workflow_deadline(dispute, "nowhere", NOW, &due, &event);
	CHECK_INT(due, 0);
	CHECK(event == NULL);
	/* no overflow at the end of time */
	rd_workflow_deadline(dispute, "opened", INT64_MAX - 10, &due, &event);
	CHECK_INT(due, INT64_MAX);
	rd_workflow_deadline(dispute, "opened", NOW, NULL, NULL);
}

int main(void)
{
	rd_error err = { 0 };

	if (rd_workflow_set_load_dir(&workflows, WORKFLOWS_DIR, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	dispute = rd_workflow_set_latest(workflows, "dispute");
	if (!dispute) {
		fprintf(stderr, "no dispute workflow in %s\n", WORKFLOWS_DIR);
		rd_workflow_set_free(workflows);
		return 1;
	}
	RUN(every_transition_succeeds);
	RUN(unguarded_need_nothing);
	RUN(accept_offer_routes_by_type);
	RUN(other_roles_forbidden);
	RUN(events_not_from_state_refused);
	RUN(refusal_messages);
	RUN(unknown_event_or_state);
	RUN(required_fields_guard);
	RUN(evidence_guard);
	RUN(offer_guard);
	RUN(guard_order);
	RUN(deadlines);
	rd_workflow_set_free(workflows);
	return rd_test_summary();
}
