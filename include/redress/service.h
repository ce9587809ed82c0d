/*
 * The service: one function per user action (open a dispute, apply an
 * event, sweep deadlines...), shared by the CLI and the HTTP server.
 *
 * It owns a data directory: the SQLite index and the loaded workflow
 * definitions. Each action is one store transaction in which the workflow
 * engine decides and the store records; a refused action changes nothing.
 * One rd_service is used by one thread at a time.
 */
#ifndef REDRESS_SERVICE_H
#define REDRESS_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "redress/dispute.h"
#include "redress/error.h"
#include "redress/store.h"
#include "redress/workflow.h"

typedef struct rd_service rd_service;

typedef struct rd_service_options {
	const char *data_dir;       /* holds redress.db */
	const char *workflows_dir;  /* the workflows/NAME.json to load */
	int create;                 /* 1: create data_dir when missing (init) */
} rd_service_options;

/*
 * Load and validate the workflows, open the store (migrating it) and record
 * every loaded definition in it. A data directory that does not exist is
 * RD_ENOTFOUND unless `create` is set ("run `redress init` first"). On
 * success *out is new; close with rd_service_close.
 */
int rd_service_open(rd_service **out, const rd_service_options *opts,
		    rd_error *err);

/* Close the store and free the workflows. NULL is accepted. */
void rd_service_close(rd_service *svc);

/* The loaded workflow definitions (borrowed). */
const rd_workflow_set *rd_service_workflows(const rd_service *svc);

/* The underlying store (borrowed), for tools and tests. */
rd_store *rd_service_store(rd_service *svc);

/*
 * Open a dispute from a validated opening document (see
 * rd_dispute_parse / rd_dispute_from_json; only its document members are
 * read) with the latest version of the "dispute" workflow, in its initial
 * state, version 1, with the initial state's deadline, and record an
 * "opened" event by `actor`. *out (may be NULL) receives the new dispute
 * (free with rd_dispute_free).
 */
int rd_service_dispute_open(rd_service *svc, const rd_dispute *input,
			    const rd_actor *actor, int64_t now,
			    rd_dispute **out, rd_error *err);

/* Read one dispute; RD_ENOTFOUND when absent. *out is new. */
int rd_service_dispute_get(rd_service *svc, const char *id,
			   rd_dispute **out, rd_error *err);

/*
 * The dispute's recorded events, oldest first (free with
 * rd_event_records_free), and its offers, oldest first (free()). An unknown
 * dispute is RD_ENOTFOUND.
 */
int rd_service_events(rd_service *svc, const char *id,
		      rd_event_record **out, size_t *count, rd_error *err);
int rd_service_offers(rd_service *svc, const char *id,
		      rd_offer_record **out, size_t *count, rd_error *err);

/*
 * One page of disputes (see rd_store_dispute_list for the filter, the
 * ownership of *out and the cursor).
 */
int rd_service_dispute_list(rd_service *svc, const rd_dispute_filter *filter,
			    rd_dispute ***out, size_t *count,
			    char **next_cursor, rd_error *err);

/* An event to apply. */
typedef struct rd_event_request {
	const char *event;
	const rd_field *fields;
	size_t field_count;
	const char *note;          /* or NULL */
	int64_t if_version;        /* > 0: refuse with RD_ESTALE unless current */
} rd_event_request;

/* Limits on an event request, checked by rd_service_event_apply. */
#define RD_EVENT_MAX_FIELDS 32
#define RD_EVENT_MAX_FIELD_NAME 64
#define RD_EVENT_MAX_FIELD_VALUE 1024
#define RD_EVENT_MAX_NOTE 4096

/*
 * Apply an event in one transaction: check the version, let the dispute's
 * pinned workflow decide (guards), append the event, move the state, record
 * the outcome, act on the dispute's offers, set or clear the SLA deadline,
 * bump the version. Any refusal changes nothing (see rd_workflow_decide for
 * the codes). *out (may be NULL) receives the dispute after the change.
 */
int rd_service_event_apply(rd_service *svc, const char *id,
			   const rd_event_request *req, const rd_actor *actor,
			   int64_t now, rd_dispute **out, rd_error *err);

/*
 * Fire every SLA deadline due at `now`, each in its own transaction, as the
 * system actor. A deadline whose dispute has left the deadline's state, or
 * has already fired, is dropped: every deadline fires at most once, even
 * with several sweepers on one data directory. *fired (may be NULL) counts
 * the events applied.
 */
int rd_service_sweep(rd_service *svc, int64_t now, size_t *fired,
		     rd_error *err);

#endif
