/*
 * Fuzz target: the workflow loader (rd_workflow_parse, docs/workflows.md)
 * and, for every definition it accepts, the machine built from it.
 *
 * Invariants, for an accepted definition: its hash is that of the bytes
 * and a second load agrees; every decision leads from the state asked to a
 * declared state, with an outcome exactly when that state is terminal and
 * the deadline its SLA gives (saturated, never wrapped, near the end of
 * time); a terminal state refuses every event; with every guard satisfied
 * an event is allowed exactly when a transition leaves the state for the
 * role, and rd_workflow_events_from lists exactly those; what the loader
 * promises holds when asked of the machine: every state is reachable by
 * decisions from the initial one, every open state has a way out, and
 * every SLA event may be fired by the system with no fields and no
 * evidence. A refused definition is a well-formed RD_EDEFINITION.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "redress/evidence.h"
#include "workflow/workflow_int.h"

/* 2026-11-23T03:31:09Z */
#define NOW INT64_C(1795404669)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);
	return 0;
}

/* Every guard satisfied: each kind of evidence, a pending offer of a type. */
struct full_ctx {
	const char *kinds[16];
	rd_guard_ctx ctx[RD_OFFER_TYPE_COUNT];
	rd_field *fields;
	size_t field_count;
};

static void full_ctx_init(struct full_ctx *f, const rd_workflow *wf)
{
	size_t n = rd_evidence_kind_count(), total = 0;

	memset(f, 0, sizeof(*f));
	FUZZ_CHECK(n <= 16);
	for (size_t i = 0; i < n; i++)
		f->kinds[i] = rd_evidence_kind_at(i);
	for (size_t k = 0; k < RD_OFFER_TYPE_COUNT; k++) {
		f->ctx[k].evidence_kinds = f->kinds;
		f->ctx[k].evidence_kind_count = n;
		f->ctx[k].evidence_count = 1;
		f->ctx[k].offer_pending = 1;
		f->ctx[k].has_offer_type = 1;
		f->ctx[k].offer_type = (rd_offer_type)k;
	}
	/* every field any transition requires, with a value */
	for (size_t i = 0; i < wf->transition_count; i++)
		total += wf->transitions[i].field_count;
	f->fields = calloc(total + 1, sizeof(*f->fields));
	FUZZ_CHECK(f->fields != NULL);
	for (size_t i = 0; i < wf->transition_count; i++)
		for (size_t k = 0; k < wf->transitions[i].field_count; k++) {
			f->fields[f->field_count].name =
				wf->transitions[i].fields[k];
			f->fields[f->field_count].value = "x";
			f->field_count++;
		}
}

static int full_decide(rd_decision *dec, const rd_workflow *wf,
		       const struct full_ctx *full, const char *state,
		       const char *event, rd_role role, size_t type,
		       int64_t now, rd_error *err)
{
	return rd_workflow_decide(dec, wf, state, event, role, full->fields,
				  full->field_count, &full->ctx[type], now,
				  err);
}

static void check_deadline(const rd_workflow *wf, const rd_decision *dec,
			   int64_t now)
{
	int64_t within = 0;
	const char *on_timeout = NULL;

	if (rd_workflow_sla(wf, dec->to, &within, &on_timeout)) {
		FUZZ_CHECK(within > 0);
		FUZZ_CHECK(dec->deadline_at >= now);
		FUZZ_CHECK(now > INT64_MAX - within ||
			   dec->deadline_at == now + within);
		FUZZ_CHECK(dec->deadline_event &&
			   strcmp(dec->deadline_event, on_timeout) == 0);
	} else {
		FUZZ_CHECK(dec->deadline_at == 0 && !dec->deadline_event);
	}
}

static int event_listed(const char **events, size_t count, const char *event)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(events[i], event) == 0)
			return 1;
	return 0;
}

/* 1 when transition i's event already appeared in an earlier transition. */
static int event_seen_before(const rd_workflow *wf, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(wf->transitions[j].event,
			   wf->transitions[i].event) == 0)
			return 1;
	return 0;
}

#define LISTED_MAX 256

/* One state and role: every event, every offer type. */
static size_t check_state_role(const rd_workflow *wf,
			       const struct full_ctx *full, size_t s,
			       rd_role role)
{
	const char *state = wf->states[s].name;
	int terminal = wf->states[s].terminal;
	const char *listed[LISTED_MAX];
	size_t count = rd_workflow_events_from(wf, state, role, listed,
					       LISTED_MAX);
	size_t allowed = 0;
	rd_decision dec;
	rd_error err;

	FUZZ_CHECK(!terminal || count == 0);
	for (size_t i = 0; i < wf->transition_count; i++) {
		const char *event = wf->transitions[i].event;
		const struct wf_transition *t;
		int expect, ok = 0;

		if (event_seen_before(wf, i))
			continue;
		t = wf_transition_find(wf, s, event);
		expect = t && wf_transition_permits(t, role);
		for (size_t k = 0; k < RD_OFFER_TYPE_COUNT; k++) {
			/* one offer type decides near the end of time */
			int64_t now = k ? NOW : INT64_MAX - 5;
			int rc = full_decide(&dec, wf, full, state, event,
					     role, k, now, &err);

			if (rc < 0) {
				fuzz_check_error(rc, &err);
				FUZZ_CHECK(!expect);
				FUZZ_CHECK(!terminal || rc == RD_ESTATE);
				continue;
			}
			FUZZ_CHECK(expect && !terminal);
			FUZZ_CHECK(strcmp(dec.from, state) == 0);
			FUZZ_CHECK(strcmp(dec.event, event) == 0);
			FUZZ_CHECK(rd_workflow_has_state(wf, dec.to));
			FUZZ_CHECK((dec.outcome != NULL) ==
				   rd_workflow_is_terminal(wf, dec.to));
			FUZZ_CHECK(dec.action == t->action &&
				   dec.assign == t->assign);
			check_deadline(wf, &dec, now);
			ok = 1;
		}
		if (ok) {
			allowed++;
			FUZZ_CHECK(count > LISTED_MAX ||
				   event_listed(listed, count, event));
		}
	}
	FUZZ_CHECK(allowed == count);
	return allowed;
}

/* The loader's promises, asked of the machine. */
static void check_machine(const rd_workflow *wf)
{
	unsigned char *reached = calloc(wf->state_count, 1);
	struct full_ctx full;
	rd_decision dec;
	rd_error err;
	int changed = 1;

	FUZZ_CHECK(reached != NULL);
	full_ctx_init(&full, wf);
	for (size_t s = 0; s < wf->state_count; s++) {
		size_t ways_out = 0;

		FUZZ_CHECK(rd_workflow_is_terminal(wf, wf->states[s].name) ==
			   wf->states[s].terminal);
		for (size_t r = 0; r < RD_ROLE_COUNT; r++)
			ways_out += check_state_role(wf, &full, s, (rd_role)r);
		FUZZ_CHECK(wf->states[s].terminal || ways_out > 0);
	}

	/* every state is reachable by decisions from the initial one */
	reached[wf->initial] = 1;
	while (changed) {
		changed = 0;
		for (size_t s = 0; s < wf->state_count; s++) {
			if (!reached[s])
				continue;
			for (size_t i = 0; i < wf->transition_count; i++)
				for (size_t r = 0; r < RD_ROLE_COUNT; r++)
					for (size_t k = 0;
					     k < RD_OFFER_TYPE_COUNT; k++) {
						size_t to;

						if (full_decide(&dec, wf, &full,
							wf->states[s].name,
							wf->transitions[i].event,
							(rd_role)r, k, NOW,
							&err) < 0)
							continue;
						to = wf_state_index(wf, dec.to);
						changed |= !reached[to];
						reached[to] = 1;
					}
		}
	}
	for (size_t s = 0; s < wf->state_count; s++)
		FUZZ_CHECK(reached[s]);

	/* SLA events fire for the system without fields or evidence */
	for (size_t s = 0; s < wf->state_count; s++) {
		const struct wf_state *st = &wf->states[s];

		if (!st->has_sla)
			continue;
		FUZZ_CHECK(!st->terminal);
		for (size_t k = 0; k < RD_OFFER_TYPE_COUNT; k++) {
			rd_guard_ctx ctx = full.ctx[k];

			ctx.evidence_kind_count = 0;
			ctx.evidence_count = 0;
			FUZZ_CHECK(rd_workflow_decide(&dec, wf, st->name,
				st->sla_on_timeout, RD_ROLE_SYSTEM, NULL, 0,
				&ctx, NOW, &err) == RD_OK);
		}
	}
	free(full.fields);
	free(reached);
}

static void check_identity(const rd_workflow *wf, const uint8_t *data,
			   size_t size)
{
	rd_workflow *again = NULL, *copy = NULL;
	rd_workflow_set *set = rd_workflow_set_new();
	json_t *doc = rd_workflow_to_json(wf);
	rd_error err;

	FUZZ_CHECK(doc != NULL && set != NULL);
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(doc, "hash")),
			  rd_workflow_hash(wf)) == 0);
	json_decref(doc);
	FUZZ_CHECK(memcmp(rd_workflow_source(wf), data, size) == 0);
	FUZZ_CHECK(rd_workflow_has_state(wf, rd_workflow_initial(wf)));
	FUZZ_CHECK(rd_workflow_parse(&again, (const char *)data, size, "again",
				     &err) == RD_OK);
	FUZZ_CHECK(strcmp(rd_workflow_hash(again), rd_workflow_hash(wf)) == 0);
	FUZZ_CHECK(rd_workflow_parse(&copy, (const char *)data, size, "copy",
				     &err) == RD_OK);
	/* one set: the same bytes twice are one definition */
	FUZZ_CHECK(rd_workflow_set_add(set, again, &err) == RD_OK);
	FUZZ_CHECK(rd_workflow_set_add(set, copy, &err) == RD_OK);
	FUZZ_CHECK(rd_workflow_set_count(set) == 1);
	FUZZ_CHECK(rd_workflow_set_latest(set, rd_workflow_name(wf)) ==
		   rd_workflow_set_at(set, 0));
	FUZZ_CHECK(rd_workflow_set_by_hash(set, rd_workflow_hash(wf)) ==
		   rd_workflow_set_at(set, 0));
	rd_workflow_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rd_workflow *wf = NULL;
	rd_error err;
	int rc;

	rc = rd_workflow_parse(&wf, (const char *)data, size, "fuzz.json",
			       &err);
	if (rc < 0) {
		FUZZ_CHECK(wf == NULL);
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EDEFINITION);
		FUZZ_CHECK(strncmp(err.message, "fuzz.json", 9) == 0);
		return 0;
	}
	check_identity(wf, data, size);
	check_machine(wf);
	rd_workflow_free(wf);
	return 0;
}
