/*
 * Private parts of the service module, shared by its files:
 *   service.c  opening a data directory, reading
 *   commit.c   recording a change: objects, head and index in one transaction
 *   upgrade.c  importing the git history of an earlier release
 *   events.c   opening disputes, applying events, sweeping deadlines
 *   evidence.c adding and withdrawing evidence
 *   audit.c    history, verification, reindex
 *   export.c   the auditor's archive
 *   payables.c what storefronts owe: refunds and discounts to pay
 */
#ifndef REDRESS_SERVICE_INT_H
#define REDRESS_SERVICE_INT_H

#include "redress/evidence.h"
#include "redress/locale.h"
#include "redress/random.h"
#include "redress/service.h"

/*
 * The Idempotency-Key a write is armed with (idempotency.c): `rec` holds the
 * key and digest from arming, and the dispute and response once a commit
 * has captured them; `captured` says the record awaits the store commit.
 */
typedef struct svc_idem {
	int armed;
	int checked;             /* looked up inside this transaction */
	int captured;
	rd_idem_record rec;
} svc_idem;

struct rd_service {
	rd_store *store;
	rd_workflow_set *workflows;
	rd_evidence_repo *repo;  /* the record's objects */
	rd_evidence_kinds *kinds;
	rd_policy *policy;
	char *data_dir;
	char *store_target;      /* the record: a path, or a PostgreSQL URI */
	int64_t quota_daily;     /* the defaults in force: bytes, or */
	int64_t quota_total;     /* RD_QUOTA_NONE */
	int webhook_allow_http;  /* rd_service_options' */
	int webhook_allow_private;
	int lock_fd;             /* <data>/redress.registry, flock'd (registry.c) */
	char *holder_path;       /* <data>/holder-<pid>-<n>, flock'd */
	int holder_fd;
	svc_idem idem;           /* the Idempotency-Key of the next write */
	int wrote;               /* a change committed: update the mirror at close */
	int upgraded;            /* this open imported an earlier release */
	size_t upgraded_disputes;
	size_t upgraded_objects;
	int64_t mirror_delta_min;  /* merges this large may search deltas */
	char mirror_id[33];        /* of the mirror this service writes */
	/*
	 * Test-only (REDRESS_TEST_SWEEP_HOLD_MS): a sweep holds each
	 * deadline it fires this long before firing it, so that a test sees
	 * several sweepers share the due deadlines however fast they work.
	 */
	unsigned test_sweep_hold_ms;
	/* business hours and buyer texts (redress/locale.h), or NULL */
	rd_calendars *calendars;
	rd_templates *templates;
};

/*
 * Ending a write transaction (commit.c): svc_commit writes the captured
 * Idempotency-Key record and commits; svc_rollback forgets the capture and
 * rolls back. Every write path ends with one of them.
 */
int svc_commit(rd_service *svc, rd_error *err);
void svc_rollback(rd_service *svc);

/*
 * Commit a write transaction that recorded no change of a dispute (the
 * webhooks' tables): no Idempotency-Key record of a dispute write, and
 * nothing for the mirror to follow when the service closes. Rolls back
 * on failure.
 */
int svc_commit_aside(rd_service *svc, rd_error *err);

/*
 * The data directory's registry (registry.c). svc_registry_enter opens
 * <data>/redress.registry and takes its shared lock, waiting out another
 * process's moment alone; held alone by a reindex, it is RD_EBUSY naming
 * the process. svc_registry_try_alone turns the shared lock into an
 * exclusive one when no other process (nor other service) has the
 * directory open (*alone = 1; what is temporary is then a dead process's
 * leftover), else keeps it shared; svc_registry_share turns it back.
 * svc_registry_alone takes the directory alone for `what` (reindex), or
 * is RD_EBUSY naming the processes that have it open (pid and command
 * line).
 */
/*
 * Whether this data directory's mirror is the one the record's mirror
 * state describes (*owner; mirror.c): several data directories may share
 * a record, and only the owner's mirror is kept current. Reads the
 * mirror's id into svc->mirror_id.
 */
int svc_mirror_is_owner(rd_service *svc, int *owner, rd_error *err);


/*
 * The functions through which the record keeps its evidence files in the
 * store's database (PostgreSQL), on svc's store (files.c).
 */
void svc_file_io(rd_service *svc, rd_file_io *out);

int svc_registry_enter(rd_service *svc, rd_error *err);
int svc_registry_try_alone(rd_service *svc, int *alone, rd_error *err);
int svc_registry_share(rd_service *svc, rd_error *err);
int svc_registry_alone(rd_service *svc, const char *what, rd_error *err);
void svc_registry_leave(rd_service *svc);

/*
 * Hold the registry of the data directory `data_dir` alone without a
 * service of it (`redress migrate` reads it): the lock is taken on a
 * descriptor opened read-only, so nothing of the directory is written,
 * and no service opens it until the descriptor is closed. *fd is that
 * descriptor (close it to let go), -1 when the directory has no registry
 * (no service ever opened it). RD_EBUSY naming the processes that have
 * it open, for `what`.
 */
int svc_registry_hold(const char *data_dir, const char *what, int *fd,
		      rd_error *err);

/*
 * This service's holder file (registry.c), which names its process to one
 * refused the directory: created and locked at open, removed at close.
 */
int svc_holder_open(rd_service *svc, rd_error *err);
void svc_holder_close(rd_service *svc);

/*
 * Remove the holder files nobody holds locked (registry.c): those of
 * processes that ended without closing. RD_EIO when one cannot be removed.
 */
int svc_holders_clean(rd_service *svc, rd_error *err);

/* The files of one commit, with the buffers they own. */
typedef struct tree_change {
	rd_tree_file *files;
	char **owned;          /* per file: its path and content, one allocation */
	size_t count;
	size_t room;
	/* more trailers of the commit ("Name: value\n" lines), or NULL */
	const char *trailers;
} tree_change;

/* Add a file from a JSON document (stolen, may be NULL: RD_ENOMEM). */
int svc_change_json(tree_change *change, json_t *doc, rd_error *err,
		    const char *path_fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Add a file that is an existing blob. */
int svc_change_blob(tree_change *change, const char *blob_oid,
		    rd_error *err, const char *path_fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Add the raw bytes of a file. */
int svc_change_text(tree_change *change, const char *text, rd_error *err,
		    const char *path_fmt, ...)
	__attribute__((format(printf, 4, 5)));

void svc_change_free(tree_change *change);

/* Path of an event's file in the tree. */
#define SVC_EVENT_PATH "events/%06lld-%s.json"
/* A message's file in the dispute's tree (messages.c). */
#define SVC_MESSAGE_PATH "messages/%06lld.json"
/* The trailer of the commit of an internal note, which storefronts never read. */
#define SVC_TRAILER_INTERNAL "Redress-Visibility: internal"

/*
 * Record a change as one commit inside the caller's open store
 * transaction: adds dispute.json (d as it now is), writes the objects into
 * the record, moves the dispute's head from `parent` (NULL for a new
 * dispute) by compare-and-swap and records it in the index. The caller
 * commits the store transaction.
 */
int svc_record(rd_service *svc, const rd_dispute *d, const char *parent,
	       tree_change *change, const rd_actor *actor, int64_t now,
	       const char *message, rd_error *err);

/*
 * A data directory of an earlier release (git as the record, the database
 * its index) has its git history imported into the record (upgrade.c):
 * svc_upgrade_if_needed does it when the record says the import is still
 * pending, and is cheap otherwise.
 */
int svc_upgrade_if_needed(rd_service *svc, rd_error *err);

/*
 * The record's head of dispute id (*head "" when it has none): what a
 * change must name as its parent.
 */
int svc_head(rd_service *svc, const char *id, char head[RD_OID_BUFSZ],
	     rd_error *err);

/*
 * Write the index rows of the dispute at git commit `head` into `st`
 * (inside an open transaction): the dispute and its items, deadline,
 * events the index lacks, offers, evidence, the workflow definition and
 * the head.
 */
int svc_rebuild_dispute(rd_service *svc, rd_store *st, const char *id,
			const char *head, rd_error *err);

/*
 * *due = `seconds` after `start` for dispute d: in open hours of its
 * storefront's calendar when business_hours is set and it has one, else
 * every hour counting (messages.c).
 */
int svc_due_at(rd_service *svc, const rd_dispute *d, int64_t start,
	       int64_t seconds, int business_hours, int64_t *due,
	       rd_error *err);

/*
 * Render template `name` for d in the buyer's `tag` (NULL: the dispute's
 * locale, else English) with dates in `zone` (NULL: the storefront's
 * calendar's zone, else UTC): the values the dispute gives (order,
 * first item, `author`, its pending or accepted offer's amounts and
 * answer-by time) and the caller's `vars` (an object, may be NULL),
 * checked against the moment's declared types (messages.c).
 */
int svc_render_template(rd_service *svc, const rd_dispute *d,
			const char *name, const json_t *vars,
			const char *tag, const char *zone, const char *author,
			int64_t now, rd_rendered *out, rd_error *err);

/* A message's file (messages/NNNNNN.json) back into its row (messages.c). */
int svc_message_from_json(rd_message_row *row, const json_t *doc,
			  const char *id, rd_error *err);

/* The definition a dispute is pinned to (borrowed from svc->workflows). */
int svc_pinned_workflow(const rd_workflow **out, rd_service *svc,
			const rd_dispute *d, rd_error *err);

/* Replace *slot with a copy of value (NULL allowed). */
int svc_set_string(char **slot, const char *value, rd_error *err);

/*
 * RD_OK when actor may see dispute d: a storefront-scoped actor sees its
 * own storefront's disputes only, any other is RD_ENOTFOUND worded as for
 * a dispute that does not exist (as the API answers a storefront key).
 */
int svc_actor_sees(const rd_actor *actor, const rd_dispute *d, rd_error *err);

/* 1 when s is UTF-8 without control characters (newline and tab allowed if asked). */
int svc_text_ok(const char *s, int allow_newline);

/*
 * Idempotent writes (idempotency.c), called by svc_record, svc_commit,
 * svc_rollback and the import of an earlier release (upgrade.c):
 * svc_idem_message - when armed, drop the records older than
 *   RD_IDEM_KEEP_S at `now`, refuse (RD_ECONFLICT) a key still
 *   recorded, and return a copy of `message` with the trailers naming the
 *   request (*out is new; NULL when not armed: use message as it is);
 * svc_idem_capture - keep the response of the commit `head` just made
 *   (the dispute.json, evidence meta.json or message file among
 *   `change`'s files; a message's with its commit);
 * svc_idem_flush - write the captured record (before the store commits);
 * svc_idem_reset - forget a capture (the transaction rolled back);
 * svc_idem_replay - record the requests named by the trailers of the
 *   commits after `indexed` up to `head` (an earlier release's crash left
 *   git ahead of its index);
 * svc_idem_nothing - when armed for a claim that found nothing to claim,
 *   check the key as svc_idem_message does and capture a record naming
 *   no dispute, with an empty response (answered 204), which
 *   svc_idem_flush writes: there is no commit to name it.
 */
int svc_idem_message(rd_service *svc, const char *message, int64_t now,
		     char **out, rd_error *err);
int svc_idem_capture(rd_service *svc, const rd_dispute *d,
		     const tree_change *change, const char *head, int64_t now,
		     rd_error *err);
int svc_idem_flush(rd_service *svc, rd_error *err);
int svc_idem_nothing(rd_service *svc, int64_t now, rd_error *err);
void svc_idem_reset(rd_service *svc);
int svc_idem_replay(rd_service *svc, const char *id, const char *head,
		    const char *indexed, rd_error *err);

/* Crash-test hook: abort() here when REDRESS_TEST_CRASH names `point`. */
void svc_crash_point(const char *point);

/*
 * Record one event on a dispute inside the open store transaction: `d`
 * already holds its new state, outcome, assignee and deadline; this bumps
 * its version (from old_version) and updated_at, appends the event record,
 * writes the dispute row (compare-and-swap on old_version) and its
 * deadline, adds the event file to `change` and records the commit.
 * `summary` ends the commit's first line ("investigating -> offer_pending").
 */
int svc_record_event(rd_service *svc, rd_dispute *d, int64_t old_version,
		     const char *head, tree_change *change,
		     const rd_actor *actor, int64_t now, const char *event,
		     const char *from, const char *fields_json,
		     const char *note, const char *summary, rd_error *err);

/*
 * Record a dispute just opened (d at version 1, in its initial state)
 * inside the open store transaction: the dispute row, its "opened" event,
 * its deadline, and the first commit of its ref.
 */
int svc_record_open(rd_service *svc, rd_dispute *d, const rd_actor *actor,
		    int64_t now, rd_error *err);

/* What the offer engine looks at for one dispute, and its answer. */
typedef struct svc_offer_ctx {
	rd_offer_inputs in;
	char **kinds;
	size_t kind_count;
	rd_offer_terms *declined;
	size_t declined_count;
	rd_proposals *proposals;   /* after svc_offer_propose */
} svc_offer_ctx;

/* Gather the inputs for d (borrowed by ctx->in: keep d alive). */
int svc_offer_inputs(svc_offer_ctx *ctx, rd_service *svc, const rd_dispute *d,
		     rd_error *err);
int svc_offer_propose(svc_offer_ctx *ctx, rd_service *svc, rd_error *err);
void svc_offer_ctx_free(svc_offer_ctx *ctx);

/* The decision record of an offer made: policy, inputs, every proposal. */
json_t *svc_decision_json(const svc_offer_ctx *ctx, const rd_service *svc,
			  const char *chosen);

/* Append the current offers of the dispute to the change. */
int svc_change_offers(rd_service *svc, tree_change *change,
		      const rd_dispute *d, rd_error *err);

/*
 * The outbox (outbox.c), inside the open write transaction of a change,
 * after the change is recorded (d at its new version):
 * svc_outbox_add - one event of `type`, its data d as GET answers it
 *   merged with `extra` (stolen; an empty object for none; NULL is
 *   RD_ENOMEM, a failed json_pack's result);
 * doc, in all three: d's document (rd_dispute_to_json) shared by the events
 *   of one change: *doc NULL is built by the first event and kept there
 *   for the next ones, never changed by them; the caller json_decref's it
 *   once the change's events are written (d must not change meanwhile).
 *   doc NULL: built for this call alone;
 * svc_outbox_transition - the events of d moving from state `from` by
 *   workflow event `event`: dispute.state_changed, then payment.due when
 *   it now awaits a payment, dispute.resolved or dispute.closed when its
 *   state is terminal; none when the state did not change;
 * svc_outbox_offer - offer.made, .accepted, .rejected or .expired with
 *   the offer, shown with `status` (NULL: as recorded).
 */
/*
 * A background thread of `redress serve` (thread.c) with a service of its
 * own opened on `opts` (borrowed until svc_thread_start returns, which
 * reports a failure to open): it runs `round` on that service, again at
 * once while round answers > 0, else after interval_ms; round is passed
 * a function that says whether the thread is being stopped, to stop
 * between two transactions. `what` names the thread in errors.
 * svc_thread_stop wakes it, waits for the round under way, closes its
 * service and frees it (NULL accepted).
 */
typedef struct svc_thread svc_thread;
typedef int (*svc_round_fn)(rd_service *svc, void *ctx,
			    int (*stopping)(void *), void *stop_ctx);
int svc_thread_start(svc_thread **out, const rd_service_options *opts,
		     uint64_t interval_ms, svc_round_fn round, void *ctx,
		     const char *what, rd_error *err);
void svc_thread_stop(svc_thread *t);

/*
 * The clock of webhook deliveries (deliver.c): the system's, never
 * REDRESS_NOW, since a delivery's timestamp is checked by its receiver
 * against its own clock and retries are due in real time.
 */
int svc_webhook_clock(int64_t *out, rd_error *err);

int svc_outbox_add(rd_service *svc, const rd_dispute *d, json_t **doc,
		   const char *type, int64_t now, json_t *extra, rd_error *err);
int svc_outbox_transition(rd_service *svc, const rd_dispute *d,
			  json_t **doc, const char *from, const char *event,
			  int64_t now, rd_error *err);
int svc_outbox_offer(rd_service *svc, const rd_dispute *d, json_t **doc,
		     const char *type, const rd_offer_record *offer,
		     const char *status, int64_t now, rd_error *err);

/*
 * Ownership (assign.c):
 * svc_is_assign_event - 1 for the built-in events assign and unassign;
 * svc_owner_check - RD_ECONFLICT, with err->assignee, when the workflow
 *   wf makes assignment exclusive and d is assigned to an agent other
 *   than the actor (an agent); RD_OK for anyone else;
 * svc_owner_check_dispute - the same with d's pinned workflow;
 * svc_assign_event - record the built-in event req (assign or unassign) of
 *   d, read at `head` inside the open transaction: the assignee changes,
 *   the state and deadline stay.
 */
int svc_is_assign_event(const char *event);
int svc_owner_check(const rd_workflow *wf, const rd_actor *actor,
		    const rd_dispute *d, rd_error *err);
int svc_owner_check_dispute(rd_service *svc, const rd_actor *actor,
			    const rd_dispute *d, rd_error *err);
int svc_assign_event(rd_service *svc, const rd_workflow *wf, rd_dispute *d,
		     const char *head, const rd_event_request *req,
		     const rd_actor *actor, int64_t now, rd_error *err);

#endif
