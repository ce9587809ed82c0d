/*
 * Private layout of a loaded workflow definition, shared by the loader
 * (load.c), the set (set.c) and the evaluator (machine.c).
 *
 * Every name a definition holds is borrowed from its parsed JSON document,
 * which lives as long as the definition; states and transitions refer to
 * states by index. Nothing here may be changed once rd_workflow_parse has
 * returned: a definition is shared read-only by every dispute pinned to it.
 */
#ifndef REDRESS_WORKFLOW_INT_H
#define REDRESS_WORKFLOW_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "redress/dispute.h"
#include "redress/workflow.h"

/* Hex SHA-256 plus its NUL. */
#define WF_HASH_BUFSZ 65

/* Largest definition file rd_workflow_set_load_dir reads. */
#define WF_FILE_MAX (1024 * 1024)

struct wf_state {
	const char *name;
	int terminal;
	int has_sla;
	int64_t sla_within;          /* seconds */
	const char *sla_on_timeout;  /* event fired when the SLA passes */
	int sla_business;            /* counted in business hours */
};

struct wf_transition {
	const char *event;
	const char *description;     /* or NULL */
	size_t *from;                /* state indexes */
	size_t from_count;
	int by_offer_type;           /* the pending offer's type picks `to` */
	size_t to;                   /* state index, when !by_offer_type */
	size_t to_by_type[RD_OFFER_TYPE_COUNT];
	unsigned roles;              /* bit 1u << role per permitted role */
	const char **fields;         /* required non-empty fields */
	size_t field_count;
	const char **evidence_kinds; /* any one of these kinds is enough */
	size_t evidence_kind_count;
	int evidence_any;            /* "any": one item of any kind */
	int requires_offer;
	rd_offer_action action;
	int assign;
	int unassign;                /* the dispute leaves its assignee */
	const char *outcome;         /* set exactly when targets are terminal */
};

struct rd_workflow {
	char *origin;                /* file name given at parse time */
	char *source;                /* the exact bytes, NUL-terminated */
	size_t source_len;
	char hash[WF_HASH_BUFSZ];
	json_t *doc;                 /* the parsed source; owns every name */
	const char *name;
	int64_t version;
	size_t initial;              /* state index */
	struct wf_state *states;
	size_t state_count;
	struct wf_transition *transitions;
	size_t transition_count;
	/* the reply clock ("reply"), when has_reply */
	int has_reply;
	int64_t reply_first;         /* seconds to the first answer */
	int64_t reply_next;          /* seconds to a later answer */
	const char *reply_on_timeout; /* event it may fire, or NULL */
	int reply_business;          /* counted in business hours */
	int assign_exclusive;        /* "assignment": {"exclusive"}, default 1 */
};

/* Index of the state called `name`, or wf->state_count when there is none. */
size_t wf_state_index(const rd_workflow *wf, const char *name);

/* 1 when `state` (an index) is in t's from list. */
int wf_transition_leaves(const struct wf_transition *t, size_t state);

/* 1 when t permits `role`. */
int wf_transition_permits(const struct wf_transition *t, rd_role role);

/*
 * The transition for `event` from `state` (an index), or NULL. Validation
 * guarantees there is at most one.
 */
const struct wf_transition *wf_transition_find(const rd_workflow *wf,
					       size_t state,
					       const char *event);

#endif
