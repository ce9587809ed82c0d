/*
 * Loading a workflow definition: parse the JSON, walk it against the file
 * format of docs/workflows.md, then check the machine as a whole (one
 * transition per event and state, SLA events the system may fire, every
 * state reachable, a way out of every open state) and hash the bytes.
 *
 * The loader must never accept what it cannot fully explain: unknown
 * members, unknown names and contradictions are refused, each refusal naming
 * the file, the JSON path and the reason. It reads no file itself.
 */
#include "core/definition.h"
#include "workflow/workflow_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "redress/clock.h"
#include "redress/json.h"

#define path_member(out, base, key) \
	rd_def_path_member(out, PATH_BUFSZ, base, key)
#define path_index(out, base, i) rd_def_path_index(out, PATH_BUFSZ, base, i)
#define PATH_BUFSZ 256
#define LIST_BUFSZ 256

/* What every name of a definition looks like, for messages. */
#define NAME_RULE \
	"a lower-case letter, then up to 63 lower-case letters, digits or _"
#define WORKFLOW_NAME_RULE \
	"a lower-case letter, then up to 63 lower-case letters, digits, _ or -"

struct loader {
	const char *origin;
	rd_error *err;
	rd_workflow *wf;
};

/* Refuse the definition: "origin: path: reason", err->field = path. */
__attribute__((format(printf, 3, 4)))
static int refuse(struct loader *ld, const char *path, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = rd_def_vrefuse(ld->err, ld->origin, path, fmt, ap);
	va_end(ap);
	return rc;
}

#ifdef __clang_analyzer__
/* As in error.h: the analyzer does not follow variadic calls; tell it. */
#define refuse(ld, path, ...) \
	(refuse((ld), (path), __VA_ARGS__), RD_EDEFINITION)
#endif

static int out_of_memory(struct loader *ld)
{
	return rd_error_set(ld->err, RD_ENOMEM, "%s: out of memory",
			    ld->origin);
}

/* "a, b, c" from count names given by name_at, truncated to fit. */
static void list_names(char out[LIST_BUFSZ], const char *(*name_at)(size_t),
		       size_t count)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < count && used < LIST_BUFSZ; i++) {
		int n = snprintf(out + used, LIST_BUFSZ - used, "%s%s",
				 i ? ", " : "", name_at(i));

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static const char *role_at(size_t i)
{
	return rd_role_name((rd_role)i);
}

static const char *offer_type_at(size_t i)
{
	return rd_offer_type_name((rd_offer_type)i);
}

/* 1 when s is [a-z][a-z0-9_]{0,63}, with '-' too when allow_dash. */
static int name_valid(const char *s, int allow_dash)
{
	if (!s || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t n = 1; s[n]; n++) {
		char c = s[n];

		if (n >= 64)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || (allow_dash && c == '-'))
			continue;
		return 0;
	}
	return 1;
}

static int check_name(struct loader *ld, const char *path, const char *what,
		      const char *name)
{
	if (name_valid(name, 0))
		return RD_OK;
	return refuse(ld, path, "\"%.100s\" is not a valid %s name: %s", name,
		      what, NAME_RULE);
}

/* ---- members of each object ------------------------------------------ */

enum member_kind {
	MK_STRING,
	MK_INTEGER,
	MK_BOOL,
	MK_OBJECT,
	MK_ARRAY,
	MK_TARGET    /* a state name or {"by_offer_type": {...}} */
};

static const char *const member_kind_text[] = {
	[MK_STRING] = "a string",
	[MK_INTEGER] = "an integer",
	[MK_BOOL] = "true or false",
	[MK_OBJECT] = "an object",
	[MK_ARRAY] = "an array",
	[MK_TARGET] = "a state name or an object {\"by_offer_type\": {...}}",
};

typedef rd_def_member def_member;

#define MEMBERS(table) (table), sizeof(table) / sizeof((table)[0])

static const def_member document_members[] = {
	{ "name", MK_STRING, 1 },
	{ "version", MK_INTEGER, 1 },
	{ "description", MK_STRING, 0 },
	{ "initial", MK_STRING, 1 },
	{ "states", MK_OBJECT, 1 },
	{ "transitions", MK_ARRAY, 1 },
	{ "reply", MK_OBJECT, 0 },
	{ "assignment", MK_OBJECT, 0 },
};

static const def_member assignment_members[] = {
	{ "exclusive", MK_BOOL, 0 },
};

static const def_member reply_members[] = {
	{ "first", MK_STRING, 1 },
	{ "next", MK_STRING, 1 },
	{ "on_timeout", MK_STRING, 0 },
	{ "business_hours", MK_BOOL, 0 },
};

static const def_member state_members[] = {
	{ "terminal", MK_BOOL, 0 },
	{ "sla", MK_OBJECT, 0 },
	{ "description", MK_STRING, 0 },
};

static const def_member sla_members[] = {
	{ "within", MK_STRING, 1 },
	{ "on_timeout", MK_STRING, 1 },
	{ "business_hours", MK_BOOL, 0 },
};

static const def_member transition_members[] = {
	{ "event", MK_STRING, 1 },
	{ "from", MK_ARRAY, 1 },
	{ "to", MK_TARGET, 1 },
	{ "roles", MK_ARRAY, 1 },
	{ "requires", MK_OBJECT, 0 },
	{ "action", MK_STRING, 0 },
	{ "assign", MK_BOOL, 0 },
	{ "unassign", MK_BOOL, 0 },
	{ "outcome", MK_STRING, 0 },
	{ "description", MK_STRING, 0 },
};

static const def_member target_members[] = {
	{ "by_offer_type", MK_OBJECT, 1 },
};

static const def_member requires_members[] = {
	{ "fields", MK_ARRAY, 0 },
	{ "evidence_kinds", MK_ARRAY, 0 },
	{ "offer", MK_BOOL, 0 },
};

static int kind_matches(int kind, const json_t *value)
{
	switch ((enum member_kind)kind) {
	case MK_STRING: return json_is_string(value);
	case MK_INTEGER: return json_is_integer(value);
	case MK_BOOL: return json_is_boolean(value);
	case MK_OBJECT: return json_is_object(value);
	case MK_ARRAY: return json_is_array(value);
	case MK_TARGET: return json_is_string(value) || json_is_object(value);
	}
	return 0;
}

static const rd_def_kinds member_kinds = { kind_matches, member_kind_text };

/*
 * `obj` (at `path`) is an object whose members all appear in the table, each
 * of its kind, with every required one present.
 */
static int check_members(struct loader *ld, json_t *obj, const char *path,
			 const def_member *table, size_t count)
{
	return rd_def_check_members(ld->err, ld->origin, path, obj, table,
				    count, &member_kinds);
}

/* A non-empty array of distinct strings. */
static int check_string_list(struct loader *ld, json_t *list,
			     const char *path)
{
	char sub[PATH_BUFSZ];
	size_t count = json_array_size(list);

	if (count == 0)
		return refuse(ld, path, "must list at least one name");
	for (size_t i = 0; i < count; i++) {
		const char *s = json_string_value(json_array_get(list, i));

		path_index(sub, path, i);
		if (!s)
			return refuse(ld, sub, "must be a string");
		for (size_t j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(list, j)),
				   s) == 0)
				return refuse(ld, sub,
					      "\"%.100s\" is listed twice", s);
	}
	return RD_OK;
}

/* The borrowed strings of a checked string list, as a new array. */
static int borrow_strings(struct loader *ld, json_t *list,
			  const char ***out, size_t *count)
{
	size_t n = json_array_size(list);

	*out = calloc(n, sizeof(**out));
	if (!*out)
		return out_of_memory(ld);
	for (size_t i = 0; i < n; i++)
		(*out)[i] = json_string_value(json_array_get(list, i));
	*count = n;
	return RD_OK;
}

/* ---- states ----------------------------------------------------------- */

static int load_sla(struct loader *ld, struct wf_state *st, json_t *sla,
		    const char *path)
{
	char sub[PATH_BUFSZ];
	rd_error duration_err;
	int rc;

	if (st->terminal)
		return refuse(ld, path,
			      "state \"%s\" is terminal and cannot have an SLA",
			      st->name);
	if ((rc = check_members(ld, sla, path, MEMBERS(sla_members))) < 0)
		return rc;
	path_member(sub, path, "within");
	if (rd_duration_parse(&st->sla_within,
			      json_string_value(json_object_get(sla, "within")),
			      &duration_err) < 0)
		return refuse(ld, sub, "%s", duration_err.message);
	st->sla_on_timeout = json_string_value(json_object_get(sla,
							       "on_timeout"));
	path_member(sub, path, "on_timeout");
	if ((rc = check_name(ld, sub, "event", st->sla_on_timeout)) < 0)
		return rc;
	st->sla_business = json_is_true(json_object_get(sla,
							 "business_hours"));
	st->has_sla = 1;
	return RD_OK;
}

static int load_states(struct loader *ld, json_t *states)
{
	rd_workflow *wf = ld->wf;
	size_t count = json_object_size(states);
	char path[PATH_BUFSZ], sub[PATH_BUFSZ];
	const char *key;
	json_t *value;
	int rc;

	if (count == 0)
		return refuse(ld, "states", "declare at least one state");
	wf->states = calloc(count, sizeof(*wf->states));
	if (!wf->states)
		return out_of_memory(ld);
	json_object_foreach(states, key, value) {
		struct wf_state *st = &wf->states[wf->state_count];
		json_t *sla;

		path_member(path, "states", key);
		if ((rc = check_name(ld, path, "state", key)) < 0)
			return rc;
		if ((rc = check_members(ld, value, path,
					MEMBERS(state_members))) < 0)
			return rc;
		st->name = key;
		st->terminal = json_is_true(json_object_get(value, "terminal"));
		sla = json_object_get(value, "sla");
		path_member(sub, path, "sla");
		if (sla && (rc = load_sla(ld, st, sla, sub)) < 0)
			return rc;
		wf->state_count++;
	}
	return RD_OK;
}

/* ---- transitions ------------------------------------------------------ */

static const struct {
	const char *name;
	rd_offer_action action;
	int needs_offer;   /* acts on the pending offer */
} action_table[] = {
	{ "offer.make", RD_ACTION_OFFER_MAKE, 0 },
	{ "offer.accept", RD_ACTION_OFFER_ACCEPT, 1 },
	{ "offer.reject", RD_ACTION_OFFER_REJECT, 1 },
	{ "offer.counter", RD_ACTION_OFFER_COUNTER, 1 },
	{ "offer.expire", RD_ACTION_OFFER_EXPIRE, 1 },
};

#define ACTION_COUNT (sizeof(action_table) / sizeof(action_table[0]))

static const char *action_at(size_t i)
{
	return action_table[i].name;
}

const char *rd_offer_action_name(rd_offer_action action)
{
	for (size_t i = 0; i < ACTION_COUNT; i++)
		if (action_table[i].action == action)
			return action_table[i].name;
	return NULL;
}

static int state_ref(struct loader *ld, const char *path, const char *name,
		     size_t *out)
{
	size_t idx = wf_state_index(ld->wf, name);

	if (idx == ld->wf->state_count)
		return refuse(ld, path, "unknown state \"%.100s\"", name);
	*out = idx;
	return RD_OK;
}

static int load_from(struct loader *ld, struct wf_transition *t,
		     json_t *from, const char *path)
{
	char sub[PATH_BUFSZ];
	int rc;

	if ((rc = check_string_list(ld, from, path)) < 0)
		return rc;
	t->from = calloc(json_array_size(from), sizeof(*t->from));
	if (!t->from)
		return out_of_memory(ld);
	for (size_t i = 0; i < json_array_size(from); i++) {
		const char *name = json_string_value(json_array_get(from, i));
		size_t idx = 0;

		path_index(sub, path, i);
		if ((rc = state_ref(ld, sub, name, &idx)) < 0)
			return rc;
		if (ld->wf->states[idx].terminal)
			return refuse(ld, sub,
				      "state \"%s\" is terminal: no transition "
				      "may leave it", name);
		t->from[t->from_count++] = idx;
	}
	return RD_OK;
}

static int load_routes(struct loader *ld, struct wf_transition *t,
		       json_t *routes, const char *path)
{
	int seen[RD_OFFER_TYPE_COUNT] = { 0 };
	char sub[PATH_BUFSZ], types[LIST_BUFSZ];
	const char *key;
	json_t *value;
	int rc;

	list_names(types, offer_type_at, RD_OFFER_TYPE_COUNT);
	json_object_foreach(routes, key, value) {
		rd_offer_type type;

		path_member(sub, path, key);
		if (rd_offer_type_parse(&type, key, NULL) < 0)
			return refuse(ld, sub,
				      "unknown offer type \"%.100s\" (offer "
				      "types: %s)", key, types);
		if (!json_is_string(value))
			return refuse(ld, sub, "must be a state name");
		if ((rc = state_ref(ld, sub, json_string_value(value),
				    &t->to_by_type[type])) < 0)
			return rc;
		seen[type] = 1;
	}
	for (size_t i = 0; i < RD_OFFER_TYPE_COUNT; i++)
		if (!seen[i])
			return refuse(ld, path,
				      "missing offer type \"%s\": name a target "
				      "state for each of %s", offer_type_at(i),
				      types);
	t->by_offer_type = 1;
	return RD_OK;
}

static int load_target(struct loader *ld, struct wf_transition *t,
		       json_t *to, const char *path)
{
	char sub[PATH_BUFSZ];
	int rc;

	if (json_is_string(to))
		return state_ref(ld, path, json_string_value(to), &t->to);
	if ((rc = check_members(ld, to, path, MEMBERS(target_members))) < 0)
		return rc;
	path_member(sub, path, "by_offer_type");
	return load_routes(ld, t, json_object_get(to, "by_offer_type"), sub);
}

static int load_roles(struct loader *ld, struct wf_transition *t,
		      json_t *roles, const char *path)
{
	char sub[PATH_BUFSZ], names[LIST_BUFSZ];
	int rc;

	if ((rc = check_string_list(ld, roles, path)) < 0)
		return rc;
	for (size_t i = 0; i < json_array_size(roles); i++) {
		const char *name = json_string_value(json_array_get(roles, i));
		rd_role role;

		if (rd_role_parse(&role, name, NULL) < 0) {
			path_index(sub, path, i);
			list_names(names, role_at, RD_ROLE_COUNT);
			return refuse(ld, sub,
				      "unknown role \"%.100s\" (roles: %s)",
				      name, names);
		}
		t->roles |= 1u << role;
	}
	return RD_OK;
}

static int load_fields(struct loader *ld, struct wf_transition *t,
		       json_t *fields, const char *path)
{
	char sub[PATH_BUFSZ];
	int rc;

	if ((rc = check_string_list(ld, fields, path)) < 0)
		return rc;
	for (size_t i = 0; i < json_array_size(fields); i++) {
		path_index(sub, path, i);
		if ((rc = check_name(ld, sub, "field",
				     json_string_value(json_array_get(fields,
								      i)))) < 0)
			return rc;
	}
	return borrow_strings(ld, fields, &t->fields, &t->field_count);
}

static int load_evidence_kinds(struct loader *ld, struct wf_transition *t,
			       json_t *kinds, const char *path)
{
	char sub[PATH_BUFSZ], names[LIST_BUFSZ];
	int rc;

	if ((rc = check_string_list(ld, kinds, path)) < 0)
		return rc;
	for (size_t i = 0; i < json_array_size(kinds); i++) {
		const char *kind = json_string_value(json_array_get(kinds, i));

		path_index(sub, path, i);
		if (strcmp(kind, "any") == 0) {
			if (json_array_size(kinds) > 1)
				return refuse(ld, sub,
					      "\"any\" already admits every "
					      "kind: list it alone");
			t->evidence_any = 1;
			return RD_OK;
		}
		if (!rd_evidence_kind_known(kind)) {
			list_names(names, rd_evidence_kind_at,
				   rd_evidence_kind_count());
			return refuse(ld, sub,
				      "unknown evidence kind \"%.100s\" "
				      "(kinds: any, %s)", kind, names);
		}
	}
	return borrow_strings(ld, kinds, &t->evidence_kinds,
			      &t->evidence_kind_count);
}

static int load_requires(struct loader *ld, struct wf_transition *t,
			 json_t *requires, const char *path)
{
	char sub[PATH_BUFSZ];
	json_t *member;
	int rc;

	if ((rc = check_members(ld, requires, path,
				MEMBERS(requires_members))) < 0)
		return rc;
	path_member(sub, path, "fields");
	if ((member = json_object_get(requires, "fields")) &&
	    (rc = load_fields(ld, t, member, sub)) < 0)
		return rc;
	path_member(sub, path, "evidence_kinds");
	if ((member = json_object_get(requires, "evidence_kinds")) &&
	    (rc = load_evidence_kinds(ld, t, member, sub)) < 0)
		return rc;
	t->requires_offer = json_is_true(json_object_get(requires, "offer"));
	return RD_OK;
}

static int load_action(struct loader *ld, struct wf_transition *t,
		       const char *name, const char *path)
{
	char names[LIST_BUFSZ];

	for (size_t i = 0; i < ACTION_COUNT; i++) {
		if (strcmp(action_table[i].name, name) == 0) {
			t->action = action_table[i].action;
			if (action_table[i].needs_offer && !t->requires_offer)
				return refuse(ld, path,
					      "action \"%s\" acts on the pending "
					      "offer, so it needs \"requires\": "
					      "{\"offer\": true}", name);
			return RD_OK;
		}
	}
	list_names(names, action_at, ACTION_COUNT);
	return refuse(ld, path, "unknown action \"%.100s\" (actions: %s)",
		      name, names);
}

/*
 * The outcome is recorded when the dispute ends: required exactly when the
 * targets are terminal. Routed targets must agree, or one transition would
 * both need and forbid an outcome.
 */
static int load_outcome(struct loader *ld, struct wf_transition *t,
			json_t *value, const char *path)
{
	const struct wf_state *states = ld->wf->states;
	char sub[PATH_BUFSZ];
	const char *target;
	int terminal;

	if (t->by_offer_type) {
		size_t terminal_count = 0;

		for (size_t i = 0; i < RD_OFFER_TYPE_COUNT; i++)
			if (states[t->to_by_type[i]].terminal)
				terminal_count++;
		if (terminal_count != 0 &&
		    terminal_count != RD_OFFER_TYPE_COUNT) {
			path_member(sub, path, "to.by_offer_type");
			return refuse(ld, sub,
				      "the target states must be all terminal "
				      "or all non-terminal");
		}
		terminal = terminal_count != 0;
		target = "by_offer_type";
	} else {
		terminal = states[t->to].terminal;
		target = states[t->to].name;
	}
	t->outcome = json_string_value(json_object_get(value, "outcome"));
	path_member(sub, path, "outcome");
	if (terminal && !t->outcome)
		return refuse(ld, sub,
			      "required member missing: the target \"%s\" is "
			      "terminal, so the transition must say the "
			      "outcome (e.g. \"refunded\")", target);
	if (!terminal && t->outcome)
		return refuse(ld, sub,
			      "not allowed: the target \"%s\" is not "
			      "terminal, only a transition that ends the "
			      "dispute has an outcome", target);
	if (t->outcome)
		return check_name(ld, sub, "outcome", t->outcome);
	return RD_OK;
}

static int load_transition(struct loader *ld, struct wf_transition *t,
			   json_t *value, const char *path)
{
	char sub[PATH_BUFSZ];
	json_t *member;
	int rc;

	if ((rc = check_members(ld, value, path,
				MEMBERS(transition_members))) < 0)
		return rc;
	t->event = json_string_value(json_object_get(value, "event"));
	t->description = json_string_value(json_object_get(value,
							   "description"));
	path_member(sub, path, "event");
	if ((rc = check_name(ld, sub, "event", t->event)) < 0)
		return rc;
	if (strcmp(t->event, RD_EVENT_ASSIGN) == 0 ||
	    strcmp(t->event, RD_EVENT_UNASSIGN) == 0)
		return refuse(ld, sub,
			      "\"%s\" is reserved: redress itself handles "
			      "the events assign and unassign on every "
			      "open dispute of every workflow; give the "
			      "transition another name (a transition may "
			      "set the assignee with \"assign\": true or "
			      "clear it with \"unassign\": true)", t->event);
	path_member(sub, path, "from");
	if ((rc = load_from(ld, t, json_object_get(value, "from"), sub)) < 0)
		return rc;
	path_member(sub, path, "to");
	if ((rc = load_target(ld, t, json_object_get(value, "to"), sub)) < 0)
		return rc;
	path_member(sub, path, "roles");
	if ((rc = load_roles(ld, t, json_object_get(value, "roles"), sub)) < 0)
		return rc;
	path_member(sub, path, "requires");
	if ((member = json_object_get(value, "requires")) &&
	    (rc = load_requires(ld, t, member, sub)) < 0)
		return rc;
	path_member(sub, path, "action");
	if ((member = json_object_get(value, "action")) &&
	    (rc = load_action(ld, t, json_string_value(member), sub)) < 0)
		return rc;
	t->assign = json_is_true(json_object_get(value, "assign"));
	t->unassign = json_is_true(json_object_get(value, "unassign"));
	path_member(sub, path, "unassign");
	if (t->assign && t->unassign)
		return refuse(ld, sub,
			      "a transition either sets the assignee "
			      "(\"assign\": true) or clears it "
			      "(\"unassign\": true), not both");
	path_member(sub, path, "to");
	if (t->by_offer_type && !t->requires_offer)
		return refuse(ld, sub,
			      "routing by offer type needs the pending offer: "
			      "add \"requires\": {\"offer\": true}");
	if (t->by_offer_type && t->action != RD_ACTION_OFFER_ACCEPT)
		return refuse(ld, sub,
			      "routing by offer type needs \"action\": "
			      "\"offer.accept\"");
	return load_outcome(ld, t, value, path);
}

static int load_transitions(struct loader *ld, json_t *transitions)
{
	rd_workflow *wf = ld->wf;
	size_t count = json_array_size(transitions);
	char path[PATH_BUFSZ];
	int rc;

	if (count == 0)
		return refuse(ld, "transitions",
			      "declare at least one transition");
	wf->transitions = calloc(count, sizeof(*wf->transitions));
	if (!wf->transitions)
		return out_of_memory(ld);
	for (size_t i = 0; i < count; i++) {
		/* counted first, so that a half-loaded one is freed too */
		wf->transition_count = i + 1;
		path_index(path, "transitions", i);
		if ((rc = load_transition(ld, &wf->transitions[i],
					  json_array_get(transitions, i),
					  path)) < 0)
			return rc;
	}
	return RD_OK;
}

/* ---- the machine as a whole ------------------------------------------ */

/* An event names at most one transition from any one state. */
static int check_events_unique(struct loader *ld)
{
	const rd_workflow *wf = ld->wf;
	char path[PATH_BUFSZ];

	for (size_t i = 0; i < wf->transition_count; i++) {
		const struct wf_transition *t = &wf->transitions[i];

		for (size_t j = 0; j < i; j++) {
			const struct wf_transition *earlier;

			earlier = &wf->transitions[j];

			if (strcmp(earlier->event, t->event) != 0)
				continue;
			for (size_t k = 0; k < t->from_count; k++) {
				if (!wf_transition_leaves(earlier, t->from[k]))
					continue;
				snprintf(path, sizeof(path),
					 "transitions[%zu].from[%zu]", i, k);
				return refuse(ld, path,
					      "event \"%s\" is already defined "
					      "from state \"%s\" by "
					      "transitions[%zu]", t->event,
					      wf->states[t->from[k]].name, j);
			}
		}
	}
	return RD_OK;
}

/*
 * When an SLA passes, redress itself (role system, with no fields and no
 * evidence to give) applies on_timeout: it must be able to.
 */
static int check_slas(struct loader *ld)
{
	const rd_workflow *wf = ld->wf;
	char path[PATH_BUFSZ];

	for (size_t s = 0; s < wf->state_count; s++) {
		const struct wf_state *st = &wf->states[s];
		const struct wf_transition *t;

		if (!st->has_sla)
			continue;
		snprintf(path, sizeof(path), "states.%s.sla.on_timeout",
			 st->name);
		t = wf_transition_find(wf, s, st->sla_on_timeout);
		if (!t)
			return refuse(ld, path,
				      "event \"%s\" cannot be applied from "
				      "state \"%s\" (no transition)",
				      st->sla_on_timeout, st->name);
		if (!wf_transition_permits(t, RD_ROLE_SYSTEM))
			return refuse(ld, path,
				      "event \"%s\" from state \"%s\" does not "
				      "permit role system, which fires SLA "
				      "timeouts", t->event, st->name);
		if (t->field_count || t->evidence_kind_count ||
		    t->evidence_any)
			return refuse(ld, path,
				      "event \"%s\" requires fields or "
				      "evidence, which an SLA timeout cannot "
				      "give", t->event);
	}
	return RD_OK;
}

/*
 * "assignment": who may write to an assigned dispute. Exclusive (the
 * default, also when the member is absent) lets only its assignee among
 * agents write to it; admins, storefronts and the system always may.
 */
static int load_assignment(struct loader *ld, json_t *assignment)
{
	json_t *exclusive;
	int rc;

	ld->wf->assign_exclusive = 1;
	if (!assignment)
		return RD_OK;
	if ((rc = check_members(ld, assignment, "assignment",
				MEMBERS(assignment_members))) < 0)
		return rc;
	exclusive = json_object_get(assignment, "exclusive");
	if (exclusive)
		ld->wf->assign_exclusive = json_is_true(exclusive);
	return RD_OK;
}

/* A duration member of "reply", into *out. */
static int reply_duration(struct loader *ld, json_t *reply,
			  const char *member, int64_t *out)
{
	char path[PATH_BUFSZ];
	rd_error duration_err;

	snprintf(path, sizeof(path), "reply.%s", member);
	if (rd_duration_parse(out, json_string_value(json_object_get(reply,
								     member)),
			      &duration_err) < 0)
		return refuse(ld, path, "%s", duration_err.message);
	return RD_OK;
}

/*
 * The reply clock: how long an inbound message may wait for an answer
 * (the first one, then later ones), counted in business hours or not,
 * and the event its passing fires where the dispute's state allows it
 * (redress applies it as role system, so some transition of that name
 * must permit system and need no fields or evidence).
 */
static int load_reply(struct loader *ld, json_t *reply)
{
	rd_workflow *wf = ld->wf;
	int found = 0, rc;

	if (!reply)
		return RD_OK;
	if ((rc = check_members(ld, reply, "reply",
				MEMBERS(reply_members))) < 0 ||
	    (rc = reply_duration(ld, reply, "first", &wf->reply_first)) < 0 ||
	    (rc = reply_duration(ld, reply, "next", &wf->reply_next)) < 0)
		return rc;
	wf->reply_on_timeout = json_string_value(json_object_get(reply,
								 "on_timeout"));
	wf->reply_business = json_is_true(json_object_get(reply,
							   "business_hours"));
	if (wf->reply_on_timeout) {
		if ((rc = check_name(ld, "reply.on_timeout", "event",
				     wf->reply_on_timeout)) < 0)
			return rc;
		for (size_t i = 0; i < wf->transition_count; i++) {
			const struct wf_transition *t = &wf->transitions[i];

			if (strcmp(t->event, wf->reply_on_timeout) != 0)
				continue;
			found = 1;
			if (!wf_transition_permits(t, RD_ROLE_SYSTEM) ||
			    t->field_count || t->evidence_kind_count ||
			    t->evidence_any)
				return refuse(ld, "reply.on_timeout",
					      "event \"%s\" must permit role "
					      "system and need no fields or "
					      "evidence: redress fires it when "
					      "a reply is overdue",
					      wf->reply_on_timeout);
		}
		if (!found)
			return refuse(ld, "reply.on_timeout",
				      "no transition has the event \"%s\"",
				      wf->reply_on_timeout);
	}
	wf->has_reply = 1;
	return RD_OK;
}

static int check_reachable(struct loader *ld)
{
	const rd_workflow *wf = ld->wf;
	char path[PATH_BUFSZ];
	unsigned char *reached;
	int changed = 1, rc = RD_OK;

	reached = calloc(wf->state_count, 1);
	if (!reached)
		return out_of_memory(ld);
	reached[wf->initial] = 1;
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < wf->transition_count; i++) {
			const struct wf_transition *t = &wf->transitions[i];
			int leaves_reached = 0;

			for (size_t k = 0; k < t->from_count; k++)
				leaves_reached |= reached[t->from[k]];
			if (!leaves_reached)
				continue;
			for (size_t k = 0; k < RD_OFFER_TYPE_COUNT; k++) {
				size_t to = t->by_offer_type ?
					    t->to_by_type[k] : t->to;

				changed |= !reached[to];
				reached[to] = 1;
			}
		}
	}
	for (size_t s = 0; s < wf->state_count; s++) {
		if (reached[s])
			continue;
		path_member(path, "states", wf->states[s].name);
		rc = refuse(ld, path,
			    "state \"%s\" cannot be reached from the initial "
			    "state \"%s\"", wf->states[s].name,
			    wf->states[wf->initial].name);
		break;
	}
	free(reached);
	return rc;
}

static int check_ways_out(struct loader *ld)
{
	const rd_workflow *wf = ld->wf;
	char path[PATH_BUFSZ];

	for (size_t s = 0; s < wf->state_count; s++) {
		int leaves = 0;

		if (wf->states[s].terminal)
			continue;
		for (size_t i = 0; i < wf->transition_count && !leaves; i++)
			leaves = wf_transition_leaves(&wf->transitions[i], s);
		if (leaves)
			continue;
		path_member(path, "states", wf->states[s].name);
		return refuse(ld, path,
			      "state \"%s\" is not terminal but no transition "
			      "leaves it (no way out): add one, or mark it "
			      "\"terminal\": true", wf->states[s].name);
	}
	return RD_OK;
}

static int load_document(struct loader *ld, json_t *doc)
{
	rd_workflow *wf = ld->wf;
	int rc;

	if (!json_is_object(doc))
		return refuse(ld, "", "a workflow definition must be a JSON "
			      "object");
	if ((rc = check_members(ld, doc, "", MEMBERS(document_members))) < 0)
		return rc;
	wf->name = json_string_value(json_object_get(doc, "name"));
	if (!name_valid(wf->name, 1))
		return refuse(ld, "name",
			      "\"%.100s\" is not a valid workflow name: %s",
			      wf->name, WORKFLOW_NAME_RULE);
	wf->version = json_integer_value(json_object_get(doc, "version"));
	if (wf->version < 1)
		return refuse(ld, "version", "must be 1 or more, not %lld",
			      (long long)wf->version);
	if ((rc = load_states(ld, json_object_get(doc, "states"))) < 0)
		return rc;
	if ((rc = state_ref(ld, "initial",
			    json_string_value(json_object_get(doc, "initial")),
			    &wf->initial)) < 0)
		return rc;
	if ((rc = load_transitions(ld, json_object_get(doc,
						       "transitions"))) < 0)
		return rc;
	if ((rc = check_events_unique(ld)) < 0 ||
	    (rc = check_slas(ld)) < 0 ||
	    (rc = load_reply(ld, json_object_get(doc, "reply"))) < 0 ||
	    (rc = load_assignment(ld, json_object_get(doc,
						      "assignment"))) < 0 ||
	    (rc = check_reachable(ld)) < 0 ||
	    (rc = check_ways_out(ld)) < 0)
		return rc;
	return RD_OK;
}

/* The content hash: SHA-256 of the exact bytes. */
static void hash_hex(char out[WF_HASH_BUFSZ], const char *bytes, size_t len)
{
	rd_def_sha256_hex(out, bytes, len);
}

int rd_workflow_parse(rd_workflow **out, const char *text, size_t len,
		      const char *origin, rd_error *err)
{
	struct loader ld = { 0 };
	rd_workflow *wf = NULL;
	json_error_t jerr;
	int rc;

	if (!origin)
		origin = "(workflow)";
	if (!out || (!text && len))
		return rd_error_set(err, RD_EINTERNAL,
				    "%s: rd_workflow_parse needs an output and "
				    "text", origin);
	*out = NULL;
	if (!text)
		text = "";
	ld.origin = origin;
	ld.err = err;
	wf = calloc(1, sizeof(*wf));
	if (!wf || !(wf->origin = strdup(origin)) ||
	    !(wf->source = malloc(len + 1))) {
		rc = out_of_memory(&ld);
		goto done;
	}
	memcpy(wf->source, text, len);
	wf->source[len] = '\0';
	wf->source_len = len;
	ld.wf = wf;
	wf->doc = rd_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!wf->doc) {
		rc = rd_error_set(err, RD_EDEFINITION, "%s:%d:%d: %s", origin,
				  jerr.line, jerr.column, jerr.text);
		goto done;
	}
	if ((rc = load_document(&ld, wf->doc)) < 0)
		goto done;
	hash_hex(wf->hash, text, len);
	*out = wf;
	wf = NULL;
	rc = RD_OK;
done:
	rd_workflow_free(wf);
	return rc;
}

void rd_workflow_free(rd_workflow *wf)
{
	if (!wf)
		return;
	for (size_t i = 0; i < wf->transition_count; i++) {
		free(wf->transitions[i].from);
		free(wf->transitions[i].fields);
		free(wf->transitions[i].evidence_kinds);
	}
	free(wf->transitions);
	free(wf->states);
	json_decref(wf->doc);
	free(wf->source);
	free(wf->origin);
	free(wf);
}

json_t *rd_workflow_to_json(const rd_workflow *wf)
{
	json_t *doc;

	if (!wf)
		return NULL;
	doc = json_deep_copy(wf->doc);
	if (!doc)
		return NULL;
	if (json_object_set_new(doc, "hash", json_string(wf->hash)) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
