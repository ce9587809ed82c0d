/*
 * Workflow definitions: the dispute state machine, loaded from
 * workflows/NAME.json, validated at load, and evaluated without I/O.
 *
 * This module reads definition files and nothing else. It never touches the
 * store: deciding whether an event may happen is a pure function of the
 * definition, the current state, the actor's role, the event's fields and a
 * guard context that the caller gathers. See docs/workflows.md for the file
 * format.
 */
#ifndef REDRESS_WORKFLOW_H
#define REDRESS_WORKFLOW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "redress/dispute.h"
#include "redress/error.h"

/* One definition (name + version + content hash). Immutable once loaded. */
typedef struct rd_workflow rd_workflow;

/* Every definition loaded, all versions of every name. */
typedef struct rd_workflow_set rd_workflow_set;

/* What a transition does to the dispute's offers, besides moving its state. */
typedef enum rd_offer_action {
	RD_ACTION_NONE,
	RD_ACTION_OFFER_MAKE,     /* "offer.make": record the offer given in the fields */
	RD_ACTION_OFFER_ACCEPT,   /* "offer.accept": the pending offer is accepted */
	RD_ACTION_OFFER_REJECT,   /* "offer.reject": the pending offer is rejected */
	RD_ACTION_OFFER_COUNTER,  /* "offer.counter": the pending offer is replaced by a counter */
	RD_ACTION_OFFER_EXPIRE    /* "offer.expire": the pending offer lapsed */
} rd_offer_action;

/*
 * The name of an action as written in definitions ("offer.accept"); NULL for
 * RD_ACTION_NONE and values out of range. Borrowed from a static table.
 */
const char *rd_offer_action_name(rd_offer_action action);

/*
 * Parse and validate one definition from `len` bytes of JSON. `origin` (a
 * file name) prefixes every message. Syntax errors give "origin:line:col:
 * text"; semantic errors give "origin: json.path: reason", e.g.
 * "workflows/dispute.json: transitions[3].to: unknown state \"refundd\"",
 * with err->field set to the path. RD_EDEFINITION on any refusal. On success
 * *out is new; free with rd_workflow_free.
 */
int rd_workflow_parse(rd_workflow **out, const char *text, size_t len,
		      const char *origin, rd_error *err);

/* Release a definition not handed to a set. NULL is accepted. */
void rd_workflow_free(rd_workflow *wf);

/* An empty set, or NULL when out of memory. */
rd_workflow_set *rd_workflow_set_new(void);

/*
 * Add `wf` to the set, which takes ownership whatever the result. A second
 * definition with the same name, version and hash is dropped silently; the
 * same name and version with another hash is RD_EDEFINITION (a version must
 * be bumped when a definition changes).
 */
int rd_workflow_set_add(rd_workflow_set *set, rd_workflow *wf, rd_error *err);

/*
 * Load every "*.json" file of `dir`, in name order, skipping files whose name
 * starts with "policy" (settlement policies, not workflows) or
 * "calendars" (business hours, see redress/locale.h). A directory with
 * no workflow, an unreadable file or any invalid definition is
 * RD_EDEFINITION naming the file. On success *out is new.
 */
int rd_workflow_set_load_dir(rd_workflow_set **out, const char *dir,
			     rd_error *err);

/* Release the set and every definition in it. NULL is accepted. */
void rd_workflow_set_free(rd_workflow_set *set);

/* Number of definitions, and the i-th in load order (borrowed). */
size_t rd_workflow_set_count(const rd_workflow_set *set);
const rd_workflow *rd_workflow_set_at(const rd_workflow_set *set, size_t i);

/* The highest version of `name`, or NULL (borrowed). */
const rd_workflow *rd_workflow_set_latest(const rd_workflow_set *set,
					  const char *name);

/* The definition with this content hash, or NULL (borrowed). */
const rd_workflow *rd_workflow_set_by_hash(const rd_workflow_set *set,
					   const char *hash);

/* Accessors; strings are borrowed from the definition. */
const char *rd_workflow_name(const rd_workflow *wf);
int64_t rd_workflow_version(const rd_workflow *wf);
const char *rd_workflow_hash(const rd_workflow *wf);      /* SHA-256 hex of the bytes */
const char *rd_workflow_source(const rd_workflow *wf);    /* the bytes, NUL-terminated */
const char *rd_workflow_initial(const rd_workflow *wf);

/* 1 when `state` is a state of wf, else 0. */
int rd_workflow_has_state(const rd_workflow *wf, const char *state);

/* 1 when `state` is terminal, else 0 (also for unknown states). */
int rd_workflow_is_terminal(const rd_workflow *wf, const char *state);

/*
 * The SLA of `state`: 1 with *within (seconds) and *on_timeout (borrowed
 * event name) set when it has one, else 0.
 */
int rd_workflow_sla(const rd_workflow *wf, const char *state,
		    int64_t *within, const char **on_timeout);

/*
 * 1 when the SLA of `state` counts business hours (its "business_hours"),
 * else 0: the caller then computes the due time with the storefront's
 * calendar (redress/locale.h) instead of adding `within` to now.
 */
int rd_workflow_sla_business(const rd_workflow *wf, const char *state);

/*
 * The events every workflow has, handled by the service rather than by a
 * transition: "assign" (field assignee) and "unassign". A definition may
 * not name a transition so.
 */
#define RD_EVENT_ASSIGN "assign"
#define RD_EVENT_UNASSIGN "unassign"

/*
 * 1 when assignment is exclusive (the definition's "assignment":
 * {"exclusive"}, true when absent): an assigned dispute takes writes from
 * its assignee among agents only.
 */
int rd_workflow_assign_exclusive(const rd_workflow *wf);

/*
 * The reply clock of the definition ("reply"): 1 with the seconds an
 * inbound message may wait for the first answer (*first) and for a later
 * one (*next), the event its passing fires (*on_timeout, NULL for none;
 * borrowed) and whether it counts business hours; 0 when the definition
 * has none. Any out pointer may be NULL.
 */
int rd_workflow_reply(const rd_workflow *wf, int64_t *first, int64_t *next,
		      const char **on_timeout, int *business_hours);

/*
 * Names of the events `role` may apply from `state` (role and state only;
 * guards on fields, evidence and offers are not evaluated). Writes up to
 * `max` borrowed names into out and returns how many exist.
 */
size_t rd_workflow_events_from(const rd_workflow *wf, const char *state,
			       rd_role role, const char **out, size_t max);

/* What a transition asks for, as its definition says. Borrowed strings. */
typedef struct rd_transition_info {
	const char *event;
	const char *description;           /* or NULL */
	const char *const *fields;         /* required non-empty fields */
	size_t field_count;
	const char *const *evidence_kinds; /* any one of these kinds */
	size_t evidence_kind_count;
	int evidence_any;                  /* one item of any kind */
	int requires_offer;                /* a pending offer */
	rd_offer_action action;
} rd_transition_info;

/*
 * The transition of `event` from `state` (whatever the role): 1 with *out
 * filled, or 0 when the workflow has none. Strings are borrowed from wf.
 */
int rd_workflow_transition(const rd_workflow *wf, const char *state,
			   const char *event, rd_transition_info *out);

/*
 * The definition as JSON: its parsed source plus "hash". New reference, or
 * NULL when out of memory.
 */
json_t *rd_workflow_to_json(const rd_workflow *wf);

/* One field given with an event: "payment_ref" = "PAY-1". Borrowed strings. */
typedef struct rd_field {
	const char *name;
	const char *value;
} rd_field;

/*
 * What the guards may look at besides the fields, gathered by the caller
 * from the dispute's records.
 */
typedef struct rd_guard_ctx {
	const char *const *evidence_kinds; /* kinds with >= 1 non-withdrawn item */
	size_t evidence_kind_count;
	size_t evidence_count;             /* non-withdrawn items of any kind */
	int offer_pending;                 /* 1 when a made offer awaits an answer */
	int has_offer_type;                /* 1 when offer_type below is set */
	rd_offer_type offer_type;          /* type of the pending offer, for routing */
} rd_guard_ctx;

/* The outcome of a permitted event. Strings are borrowed from the definition. */
typedef struct rd_decision {
	const char *event;
	const char *from;
	const char *to;
	const char *outcome;         /* set when `to` is terminal, else NULL */
	rd_offer_action action;
	int assign;                  /* 1: the actor becomes the assignee */
	int unassign;                /* 1: the dispute leaves its assignee */
	int64_t deadline_at;         /* SLA due time in `to`, or 0 for none */
	const char *deadline_event;  /* fired at deadline_at, or NULL */
} rd_decision;

/*
 * Decide whether `role` may apply `event` to a dispute in `state` at `now`,
 * and what follows. Guards are checked in this order, and the first that
 * fails is named in err->guard:
 *   unknown event           RD_EINVALID,   field "event"
 *   not from this state     RD_ESTATE,     guard "state"
 *   role not permitted      RD_EFORBIDDEN, guard "role"
 *   a required field empty  RD_EGUARD,     guard "fields", field = its name
 *   required evidence       RD_EGUARD,     guard "evidence"
 *   a pending offer needed  RD_EGUARD,     guard "offer"
 * `fields` may hold more than the transition requires. Nothing is changed:
 * the caller records the decision.
 */
int rd_workflow_decide(rd_decision *out, const rd_workflow *wf,
		       const char *state, const char *event, rd_role role,
		       const rd_field *fields, size_t field_count,
		       const rd_guard_ctx *ctx, int64_t now, rd_error *err);

/*
 * The deadline on entering `state` at `now`: sets *due_at and *event
 * (borrowed) when the state has an SLA, else sets them to 0 and NULL.
 */
void rd_workflow_deadline(const rd_workflow *wf, const char *state,
			  int64_t now, int64_t *due_at, const char **event);

#endif
