/*
 * Evaluating a loaded workflow: which events a role may apply from a state,
 * whether one event may happen now (its guards, in the order the header
 * fixes), where it leads and which deadline follows.
 *
 * Pure functions of the definition and the caller's context: nothing here
 * reads a clock, a file or the store, allocates, or changes a definition.
 * The caller records the decision.
 */
#include "workflow/workflow_int.h"

#include <stdio.h>
#include <string.h>

#define LIST_BUFSZ 256

static const char *const no_events = "none";

size_t wf_state_index(const rd_workflow *wf, const char *name)
{
	size_t s;

	if (!name)
		return wf->state_count;
	for (s = 0; s < wf->state_count; s++)
		if (strcmp(wf->states[s].name, name) == 0)
			break;
	return s;
}

int wf_transition_leaves(const struct wf_transition *t, size_t state)
{
	for (size_t k = 0; k < t->from_count; k++)
		if (t->from[k] == state)
			return 1;
	return 0;
}

int wf_transition_permits(const struct wf_transition *t, rd_role role)
{
	return (unsigned)role < RD_ROLE_COUNT && (t->roles & (1u << role));
}

const struct wf_transition *wf_transition_find(const rd_workflow *wf,
					       size_t state,
					       const char *event)
{
	if (!event)
		return NULL;
	for (size_t i = 0; i < wf->transition_count; i++) {
		const struct wf_transition *t = &wf->transitions[i];

		if (strcmp(t->event, event) == 0 &&
		    wf_transition_leaves(t, state))
			return t;
	}
	return NULL;
}

/* ---- accessors -------------------------------------------------------- */

const char *rd_workflow_name(const rd_workflow *wf)
{
	return wf ? wf->name : NULL;
}

int64_t rd_workflow_version(const rd_workflow *wf)
{
	return wf ? wf->version : 0;
}

const char *rd_workflow_hash(const rd_workflow *wf)
{
	return wf ? wf->hash : NULL;
}

const char *rd_workflow_source(const rd_workflow *wf)
{
	return wf ? wf->source : NULL;
}

const char *rd_workflow_initial(const rd_workflow *wf)
{
	return wf ? wf->states[wf->initial].name : NULL;
}

static const struct wf_state *state_find(const rd_workflow *wf,
					 const char *name)
{
	size_t s;

	if (!wf)
		return NULL;
	s = wf_state_index(wf, name);
	return s < wf->state_count ? &wf->states[s] : NULL;
}

int rd_workflow_has_state(const rd_workflow *wf, const char *state)
{
	return state_find(wf, state) != NULL;
}

int rd_workflow_is_terminal(const rd_workflow *wf, const char *state)
{
	const struct wf_state *st = state_find(wf, state);

	return st && st->terminal;
}

int rd_workflow_sla(const rd_workflow *wf, const char *state,
		    int64_t *within, const char **on_timeout)
{
	const struct wf_state *st = state_find(wf, state);

	if (!st || !st->has_sla)
		return 0;
	if (within)
		*within = st->sla_within;
	if (on_timeout)
		*on_timeout = st->sla_on_timeout;
	return 1;
}

int rd_workflow_sla_business(const rd_workflow *wf, const char *state)
{
	const struct wf_state *st = state_find(wf, state);

	return st && st->has_sla && st->sla_business;
}

int rd_workflow_assign_exclusive(const rd_workflow *wf)
{
	return wf && wf->assign_exclusive;
}

int rd_workflow_reply(const rd_workflow *wf, int64_t *first, int64_t *next,
		      const char **on_timeout, int *business_hours)
{
	if (!wf || !wf->has_reply)
		return 0;
	if (first)
		*first = wf->reply_first;
	if (next)
		*next = wf->reply_next;
	if (on_timeout)
		*on_timeout = wf->reply_on_timeout;
	if (business_hours)
		*business_hours = wf->reply_business;
	return 1;
}

size_t rd_workflow_events_from(const rd_workflow *wf, const char *state,
			       rd_role role, const char **out, size_t max)
{
	size_t s, count = 0;

	if (!wf)
		return 0;
	s = wf_state_index(wf, state);
	if (s == wf->state_count)
		return 0;
	for (size_t i = 0; i < wf->transition_count; i++) {
		const struct wf_transition *t = &wf->transitions[i];

		if (!wf_transition_leaves(t, s) ||
		    !wf_transition_permits(t, role))
			continue;
		if (out && count < max)
			out[count] = t->event;
		count++;
	}
	return count;
}

int rd_workflow_transition(const rd_workflow *wf, const char *state,
			   const char *event, rd_transition_info *out)
{
	const struct wf_transition *t;
	size_t s;

	memset(out, 0, sizeof(*out));
	if (!wf || !state || !event)
		return 0;
	s = wf_state_index(wf, state);
	if (s == wf->state_count ||
	    !(t = wf_transition_find(wf, s, event)))
		return 0;
	out->event = t->event;
	out->description = t->description;
	out->fields = (const char *const *)t->fields;
	out->field_count = t->field_count;
	out->evidence_kinds = (const char *const *)t->evidence_kinds;
	out->evidence_kind_count = t->evidence_kind_count;
	out->evidence_any = t->evidence_any;
	out->requires_offer = t->requires_offer;
	out->action = t->action;
	return 1;
}

void rd_workflow_deadline(const rd_workflow *wf, const char *state,
			  int64_t now, int64_t *due_at, const char **event)
{
	const struct wf_state *st = state_find(wf, state);

	if (due_at)
		*due_at = 0;
	if (event)
		*event = NULL;
	if (!st || !st->has_sla)
		return;
	if (due_at)
		*due_at = now > INT64_MAX - st->sla_within ?
			  INT64_MAX : now + st->sla_within;
	if (event)
		*event = st->sla_on_timeout;
}

/* ---- decisions -------------------------------------------------------- */

/* Append `name` to a "a, b" style list held in buf. */
static void list_append(char buf[LIST_BUFSZ], size_t *used,
			const char *separator, const char *name)
{
	int n;

	if (*used >= LIST_BUFSZ)
		return;
	n = snprintf(buf + *used, LIST_BUFSZ - *used, "%s%s",
		     *used ? separator : "", name);
	if (n > 0)
		*used += (size_t)n;
}

static int event_known(const rd_workflow *wf, const char *event)
{
	if (!event)
		return 0;
	for (size_t i = 0; i < wf->transition_count; i++)
		if (strcmp(wf->transitions[i].event, event) == 0)
			return 1;
	return 0;
}

static int refuse_unknown_event(const rd_workflow *wf, const char *event,
				rd_error *err)
{
	char events[LIST_BUFSZ];
	size_t used = 0;

	events[0] = '\0';
	for (size_t i = 0; i < wf->transition_count; i++) {
		const char *name = wf->transitions[i].event;
		int seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(wf->transitions[j].event, name) == 0;
		if (!seen)
			list_append(events, &used, ", ", name);
	}
	return rd_error_set_field(err, RD_EINVALID, "event",
				  "workflow \"%s\" version %lld has no event "
				  "\"%.100s\" (events: %s)", wf->name,
				  (long long)wf->version, event ? event : "",
				  events);
}

static int refuse_state(const rd_workflow *wf, size_t s, const char *event,
			rd_role role, rd_error *err)
{
	const char *allowed[32];
	const size_t max = sizeof(allowed) / sizeof(allowed[0]);
	char list[LIST_BUFSZ];
	size_t used = 0, count;

	list[0] = '\0';
	count = rd_workflow_events_from(wf, wf->states[s].name, role, allowed,
					max);
	for (size_t i = 0; i < count && i < max; i++)
		list_append(list, &used, ", ", allowed[i]);
	return rd_error_set_guard(err, RD_ESTATE, "state",
				  "event \"%s\" is not allowed in state "
				  "\"%s\" (allowed: %s)", event,
				  wf->states[s].name,
				  count ? list : no_events);
}

static int refuse_role(const rd_workflow *wf, const struct wf_transition *t,
		       size_t s, rd_role role, rd_error *err)
{
	char roles[LIST_BUFSZ];
	const char *role_name = rd_role_name(role);
	size_t used = 0;

	roles[0] = '\0';
	for (size_t r = 0; r < RD_ROLE_COUNT; r++)
		if (wf_transition_permits(t, (rd_role)r))
			list_append(roles, &used, ", ",
				    rd_role_name((rd_role)r));
	return rd_error_set_guard(err, RD_EFORBIDDEN, "role",
				  "role %s may not apply \"%s\" (roles: %s) in "
				  "state \"%s\"",
				  role_name ? role_name : "(unknown)",
				  t->event, roles, wf->states[s].name);
}

/* A field counts only with a non-empty value. */
static int field_present(const rd_field *fields, size_t count,
			 const char *name)
{
	for (size_t i = 0; i < count; i++)
		if (fields[i].name && strcmp(fields[i].name, name) == 0 &&
		    fields[i].value && fields[i].value[0])
			return 1;
	return 0;
}

static int check_fields(const rd_workflow *wf, const struct wf_transition *t,
			size_t s, const rd_field *fields, size_t field_count,
			rd_error *err)
{
	for (size_t i = 0; i < t->field_count; i++) {
		if (field_present(fields, field_count, t->fields[i]))
			continue;
		rd_error_set_guard(err, RD_EGUARD, "fields",
				   "event \"%s\" needs field \"%s\" in state "
				   "\"%s\" (missing or empty)", t->event,
				   t->fields[i], wf->states[s].name);
		if (err)
			snprintf(err->field, sizeof(err->field), "%s",
				 t->fields[i]);
		return RD_EGUARD;
	}
	return RD_OK;
}

static int kind_present(const rd_guard_ctx *ctx, const char *kind)
{
	for (size_t i = 0; i < ctx->evidence_kind_count; i++)
		if (ctx->evidence_kinds[i] &&
		    strcmp(ctx->evidence_kinds[i], kind) == 0)
			return 1;
	return 0;
}

static int check_evidence(const rd_workflow *wf,
			  const struct wf_transition *t, size_t s,
			  const rd_guard_ctx *ctx, rd_error *err)
{
	char kinds[LIST_BUFSZ];
	size_t used = 0;

	if (t->evidence_any) {
		if (ctx->evidence_count > 0)
			return RD_OK;
		return rd_error_set_guard(err, RD_EGUARD, "evidence",
					  "event \"%s\" needs evidence of any "
					  "kind in state \"%s\" (there is none)",
					  t->event, wf->states[s].name);
	}
	if (t->evidence_kind_count == 0)
		return RD_OK;
	kinds[0] = '\0';
	for (size_t i = 0; i < t->evidence_kind_count; i++) {
		if (kind_present(ctx, t->evidence_kinds[i]))
			return RD_OK;
		list_append(kinds, &used, " or ", t->evidence_kinds[i]);
	}
	return rd_error_set_guard(err, RD_EGUARD, "evidence",
				  "event \"%s\" needs evidence of kind %s in "
				  "state \"%s\"", t->event, kinds,
				  wf->states[s].name);
}

/* The target, which for routed transitions the pending offer's type picks. */
static int check_offer(const rd_workflow *wf, const struct wf_transition *t,
		       size_t s, const rd_guard_ctx *ctx, size_t *to,
		       rd_error *err)
{
	*to = t->to;
	if (t->requires_offer && !ctx->offer_pending)
		return rd_error_set_guard(err, RD_EGUARD, "offer",
					  "event \"%s\" needs a pending offer "
					  "in state \"%s\" (none awaits an "
					  "answer)", t->event,
					  wf->states[s].name);
	if (!t->by_offer_type)
		return RD_OK;
	if (!ctx->has_offer_type ||
	    (unsigned)ctx->offer_type >= RD_OFFER_TYPE_COUNT)
		return rd_error_set_guard(err, RD_EGUARD, "offer",
					  "event \"%s\" needs a pending offer "
					  "of a known type in state \"%s\" "
					  "(its type picks the next state)",
					  t->event, wf->states[s].name);
	*to = t->to_by_type[ctx->offer_type];
	return RD_OK;
}

int rd_workflow_decide(rd_decision *out, const rd_workflow *wf,
		       const char *state, const char *event, rd_role role,
		       const rd_field *fields, size_t field_count,
		       const rd_guard_ctx *ctx, int64_t now, rd_error *err)
{
	static const rd_guard_ctx no_context = { 0 };
	const struct wf_transition *t;
	size_t s, to;
	int rc;

	if (!out || !wf)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_workflow_decide needs a decision and "
				    "a workflow");
	memset(out, 0, sizeof(*out));
	if (!ctx)
		ctx = &no_context;
	if (!fields)
		field_count = 0;
	if (!event_known(wf, event))
		return refuse_unknown_event(wf, event, err);
	s = wf_state_index(wf, state);
	if (s == wf->state_count)
		return rd_error_set_guard(err, RD_ESTATE, "state",
					  "event \"%s\" cannot apply: \"%.100s\" "
					  "is not a state of workflow \"%s\" "
					  "version %lld", event,
					  state ? state : "", wf->name,
					  (long long)wf->version);
	t = wf_transition_find(wf, s, event);
	if (!t)
		return refuse_state(wf, s, event, role, err);
	if (!wf_transition_permits(t, role))
		return refuse_role(wf, t, s, role, err);
	if ((rc = check_fields(wf, t, s, fields, field_count, err)) < 0 ||
	    (rc = check_evidence(wf, t, s, ctx, err)) < 0 ||
	    (rc = check_offer(wf, t, s, ctx, &to, err)) < 0)
		return rc;
	out->event = t->event;
	out->from = wf->states[s].name;
	out->to = wf->states[to].name;
	out->outcome = wf->states[to].terminal ? t->outcome : NULL;
	out->action = t->action;
	out->assign = t->assign;
	out->unassign = t->unassign;
	rd_workflow_deadline(wf, out->to, now, &out->deadline_at,
			     &out->deadline_event);
	return RD_OK;
}
