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
#include "redress/evidence.h"
#include "redress/offer.h"
#include "redress/store.h"
#include "redress/webhook.h"
#include "redress/workflow.h"

typedef struct rd_service rd_service;

typedef struct rd_service_options {
	const char *data_dir;       /* holds redress.db and evidence.git */
	/*
	 * The record: NULL for <data_dir>/redress.db (embedded), else an
	 * embedded database's path or a PostgreSQL URI
	 * (`postgresql://user@host:port/db`). The data directory still
	 * holds the evidence files and the mirror.
	 */
	const char *store;
	const char *workflows_dir;  /* the workflows/NAME.json to load */
	const char *kinds_path;     /* evidence/kinds.json */
	const char *policy_path;    /* workflows/policy.json */
	int create;                 /* 1: create data_dir when missing (init) */
	/*
	 * The evidence quota of a storefront without its own setting, in
	 * bytes: 0 for RD_QUOTA_DAILY_DEFAULT / RD_QUOTA_TOTAL_DEFAULT,
	 * RD_QUOTA_NONE for no quota.
	 */
	int64_t quota_daily;        /* per UTC day */
	int64_t quota_total;        /* ever */
	/*
	 * Webhook URLs (test and on-premise options, off by default):
	 * http:// as well as https://, and addresses that are loopback,
	 * private, link-local... (rd_webhook_address_allowed).
	 */
	int webhook_allow_http;
	int webhook_allow_private;
	/*
	 * Business hours (calendars.json, redress/locale.h): NULL for
	 * <workflows_dir>/calendars.json when it exists, else none (every
	 * hour counts). Message templates: a templates/ directory, or NULL
	 * for none (a template message is then refused).
	 */
	const char *calendars_path;
	const char *templates_dir;
} rd_service_options;

/* No quota: every size fits. */
#define RD_QUOTA_NONE INT64_MAX
/* The defaults: 2 GiB of evidence per storefront a UTC day, 50 GiB in all. */
#define RD_QUOTA_DAILY_DEFAULT ((int64_t)2 << 30)
#define RD_QUOTA_TOTAL_DEFAULT ((int64_t)50 << 30)
/* rd_service_quota_set: leave this setting as it is. */
#define RD_QUOTA_KEEP (-2)

/*
 * Load and validate the workflows and evidence kinds, open the store
 * (migrating it) and the evidence repository, record every loaded
 * definition, and reconcile: a dispute named in the crash journal whose git
 * head is ahead of the index is replayed into the index. A data directory
 * that does not exist is RD_ENOTFOUND unless `create` is set ("run `redress
 * init` first"). Every open registers in <data>/redress.registry (a shared
 * flock held until rd_service_close); the first to open the directory
 * while no other process has it open removes what a killed process left
 * in the evidence repository (rd_evidence_leftovers_remove). While a
 * reindex holds the directory alone the open is RD_EBUSY. On success *out
 * is new; close with rd_service_close.
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

/* What rd_service_dispute_open_checked lets through: a duplicate. */
#define RD_OPEN_ALLOW_DUPLICATE 1u

/*
 * rd_service_dispute_open, refusing a duplicate: while a dispute of the
 * same storefront and order that has an item with the SKU of one of
 * input's items is open (no outcome yet), RD_ECONFLICT naming it
 * (err->field "order_ref", err->existing_id its id), unless `flags` has
 * RD_OPEN_ALLOW_DUPLICATE. The check and the opening are one transaction:
 * two openings of one order at once cannot both pass it. The API and the
 * command line open through this; rd_service_dispute_open (no check) is
 * for tools and tests.
 */
int rd_service_dispute_open_checked(rd_service *svc, const rd_dispute *input,
				    unsigned flags, const rd_actor *actor,
				    int64_t now, rd_dispute **out,
				    rd_error *err);

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

/*
 * The settlement offers the engine proposes for the dispute as it stands
 * (its current version) under the loaded policy: ranked, explained, with
 * the cut ones after. `out` is the caller's (it is large: allocate it).
 */
int rd_service_offer_proposals(rd_service *svc, const char *id,
			       rd_proposals *out, rd_error *err);

/* The loaded settlement policy (borrowed). */
const rd_policy *rd_service_policy(const rd_service *svc);

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
 * with several sweepers on one data directory or one PostgreSQL database.
 * On PostgreSQL a dispute that another transaction holds (another
 * sweeper firing it, a change of it) is passed over, not waited for, so
 * that sweepers share the work; the next sweep fires it if it is still
 * due. *fired (may be NULL) counts the events applied.
 */
int rd_service_sweep(rd_service *svc, int64_t now, size_t *fired,
		     rd_error *err);

/*
 * The running totals of the data directory for monitoring (GET /metrics):
 * disputes per state, SLA deadlines fired, evidence bytes stored (see
 * rd_store_stats). Read from the index in one statement whose cost does not
 * grow with the number of disputes. *out is filled (rd_store_stats_clear).
 */
int rd_service_stats(rd_service *svc, rd_store_stats *out, rd_error *err);

/*
 * Whether the service can serve now (GET /readyz): RD_OK when its record
 * answers a read, on a connection made again first if the last one was
 * lost; else the store's code, RD_EUNAVAILABLE while the database cannot
 * be reached.
 */
int rd_service_ready(rd_service *svc, rd_error *err);

/*
 * rd_service_sweep that can be asked to stop: `stop` (may be NULL) is
 * called with stop_ctx before each deadline, and a non-zero answer ends the
 * sweep there with RD_OK (each deadline is its own transaction, so nothing
 * is left half done; the rest waits for the next sweep). *fired counts what
 * fired, also when the sweep stops or fails part way.
 */
int rd_service_sweep_until(rd_service *svc, int64_t now,
			   int (*stop)(void *ctx), void *stop_ctx,
			   size_t *fired, rd_error *err);

/* ---- the SLA sweeper thread ------------------------------------------------ */

/* A background thread that sweeps SLA deadlines at an interval. */
typedef struct rd_sweeper rd_sweeper;

/* What a sweeper has done since it started. */
typedef struct rd_sweeper_status {
	uint64_t sweeps;            /* sweeps ended, failed ones included */
	uint64_t fired;             /* deadlines fired by this sweeper */
	uint64_t failures;          /* sweeps that failed */
	int64_t last_failure_at;    /* the time (by the sweeper's clock)
				     * of the last failure, 0 when none */
	rd_error last_error;        /* the last failure's error */
} rd_sweeper_status;

/* Where a sweeper reads the time; rd_clock_now is one. */
typedef int (*rd_clock_fn)(int64_t *out, rd_error *err);

/*
 * Start a thread that sweeps (rd_service_sweep) at once, then every
 * `interval_ms` milliseconds (measured on the monotonic clock), with its
 * own service opened on `opts` (a service is used by one thread at a
 * time). Each sweep acts at the time `clock` gives; NULL is rd_clock_now,
 * which honours REDRESS_NOW. Other sweepers, servers and `redress sweep`
 * may work on the same data directory: each deadline still fires once.
 * A failed sweep (say, the database busy) is counted and kept in the
 * status, and retried at the next interval; the thread never prints. An
 * interval of 0 is RD_EUSAGE; a clock or a service that fails at start
 * is returned with its own code (the thread, which opens the service,
 * then ends at once). On success *out is new; stop it with
 * rd_sweeper_stop.
 */
int rd_sweeper_start(rd_sweeper **out, const rd_service_options *opts,
		     uint64_t interval_ms, rd_clock_fn clock, rd_error *err);

/* A copy of what the sweeper has done so far (thread-safe). */
void rd_sweeper_status_get(rd_sweeper *sweeper, rd_sweeper_status *out);

/*
 * Stop the thread: a sleeping sweeper wakes at once; a sweep under way
 * ends after the deadline it is firing. Closes its service and frees it.
 * NULL is accepted.
 */
void rd_sweeper_stop(rd_sweeper *sweeper);

/* ---- what the console shows: next events, the overview, kinds ------------ */

/* The loaded evidence kinds (borrowed). */
const rd_evidence_kinds *rd_service_kinds(const rd_service *svc);

/* One event a role may apply to a dispute now, and what it asks for. */
typedef struct rd_event_option {
	rd_transition_info info;    /* borrowed from the pinned workflow */
	int ready;                  /* 1: the guards on evidence and offers
				     * pass now (fields aside) */
	char blocked_guard[16];     /* when not ready: "evidence" or "offer" */
	char blocked_reason[256];   /* when not ready: the guard's message */
} rd_event_option;

/* The events of a dispute's current state that a role may apply. */
typedef struct rd_event_options {
	char dispute_id[RD_ID_BUFSZ];
	char state[64];
	int64_t version;
	rd_event_option *options;   /* in the workflow's order */
	size_t count;
	int has_pending;            /* 1: an offer awaits the buyer's answer */
	rd_offer_record pending;    /* that offer */
	char currency[4];           /* the dispute's */
} rd_event_options;

/*
 * The events `role` may apply to dispute `id` from its current state, as
 * its pinned workflow says, each with the fields it requires and whether
 * the guards that do not depend on fields (evidence, a pending offer)
 * pass now, judged by the workflow engine itself. The role never sees an
 * event the workflow does not give it, but for the built-in assign
 * (field assignee) and unassign (only when the dispute has an assignee),
 * listed last for agents and admins while the dispute is open. Listing
 * goes by role: exclusive assignment is judged when an event is sent.
 * Unknown dispute: RD_ENOTFOUND.
 * Strings in *out are borrowed from the service's workflows: use them
 * while svc is open. Free with rd_event_options_clear.
 */
int rd_service_event_options(rd_service *svc, const char *id, rd_role role,
			     int64_t now, rd_event_options *out,
			     rd_error *err);
void rd_event_options_clear(rd_event_options *options);

/* The overview of the index's running totals (rd_store_overview_read). */
typedef struct rd_overview {
	rd_store_overview totals;
	int64_t disputes;           /* every dispute, in any state */
	int64_t resolved;           /* disputes that got an outcome */
	int64_t median_s;           /* estimated median seconds from opening
				     * to outcome, -1 when none resolved */
	int64_t median_from_s;      /* the bucket it falls in: lower bound */
	int64_t median_to_s;        /* upper bound, -1 for the last bucket
				     * (then median_s is its lower bound) */
	int64_t sla_breaches;
} rd_overview;

/*
 * The overview of one storefront, or of all (storefront NULL), from the
 * running totals: the cost does not grow with the number of disputes. The
 * median time to resolution is estimated from the buckets of
 * RD_OVERVIEW_BUCKET_BOUNDS by linear interpolation within the bucket
 * that holds it. Free with rd_overview_clear.
 */
int rd_service_overview(rd_service *svc, const char *storefront,
			rd_overview *out, rd_error *err);
void rd_overview_clear(rd_overview *overview);

/*
 * {"storefront": name or null, "disputes": {"total", "by_state": {..},
 * "by_reason": {..}}, "offers": {"made": {type: n}, "accepted": {..}},
 * "resolution": {"resolved", "median_s" (or null), "median_bucket":
 * {"from_s", "to_s" (null: no bound)} or null, "buckets": [{"le_s" (null
 * for the last), "disputes"}]}, "sla_breaches"}. NULL when out of memory.
 */
json_t *rd_overview_to_json(const rd_overview *overview,
			    const char *storefront);

/* ---- evidence ------------------------------------------------------------ */

/* What the submitter says about a new piece of evidence. */
typedef struct rd_evidence_submission {
	const char *kind;           /* required: a kind of evidence/kinds.json */
	const char *channel;        /* or NULL for the dispute's channel */
	int64_t captured_at;        /* when it was captured, 0 when unknown */
	const char *note;           /* or NULL */
	const char *original_name;  /* the submitter's file name (metadata only), or NULL */
	int64_t size;               /* the exact number of bytes that follow */
} rd_evidence_submission;

/* Limits on submissions. */
#define RD_EVIDENCE_MAX_NAME 255
#define RD_EVIDENCE_MAX_NOTE 4096

/* An upload in progress: bytes streamed into git, then recorded. */
typedef struct rd_evidence_upload rd_evidence_upload;

/*
 * Check everything that can be checked before the bytes arrive: the role
 * may add evidence (agent, storefront, admin), the dispute exists and is
 * still open, the kind is known, the size is above zero and within the
 * kind's limit (RD_ETOOLARGE), the required metadata is there, the channel
 * is known, the note and original name are clean (1..255 bytes of UTF-8
 * without control characters, '/', '\\', and not "." or ".."). Nothing is
 * written on refusal. *out is new (rd_service_evidence_upload_free).
 */
int rd_service_evidence_upload_new(rd_evidence_upload **out, rd_service *svc,
				   const char *id,
				   const rd_evidence_submission *sub,
				   const rd_actor *actor, int64_t now,
				   rd_error *err);

/*
 * Stream bytes. As soon as the content type is known (from the first
 * 64 KiB) content its kind does not allow is refused with RD_ECONTENT; more
 * bytes than declared is RD_EINVALID.
 */
int rd_service_evidence_upload_write(rd_evidence_upload *up, const void *buf,
				     size_t len, rd_error *err);

/*
 * Finish: fewer bytes than declared is RD_EINVALID (truncated) and nothing
 * is recorded. Otherwise the evidence is committed to the dispute's ref
 * (content, metadata, event, snapshot) and indexed, in one change; *out
 * (may be NULL) receives its index row (rd_evidence_row_clear).
 */
int rd_service_evidence_upload_finish(rd_evidence_upload *up,
				      rd_evidence_row *out, rd_error *err);

/*
 * The two halves of finish, for a caller that records the change
 * elsewhere (a server's group-commit writer): seal makes the bytes durable
 * under their id and checks them against the kind (what finish refuses
 * before recording; once sealed, RD_OK); record then commits the change
 * through `svc`, which may be another service of the same data directory
 * than the one the upload began on (sealing first when not yet done).
 */
int rd_service_evidence_upload_seal(rd_evidence_upload *up, rd_error *err);
int rd_service_evidence_upload_record(rd_evidence_upload *up, rd_service *svc,
				      rd_evidence_row *out, rd_error *err);

/* Abandon an upload: nothing of it is recorded. NULL is accepted. */
void rd_service_evidence_upload_free(rd_evidence_upload *up);

/* An upload from an open file descriptor read to its end (size from fstat). */
int rd_service_evidence_add_fd(rd_service *svc, const char *id,
			       rd_evidence_submission *sub, int fd,
			       const rd_actor *actor, int64_t now,
			       rd_evidence_row *out, rd_error *err);

/* The dispute's evidence rows by number (rd_evidence_rows_free). */
int rd_service_evidence_list(rd_service *svc, const char *id,
			     rd_evidence_row **out, size_t *count,
			     rd_error *err);

/*
 * Evidence number n: its row into *row (rd_evidence_row_clear), and its
 * bytes, read from git, passed to `sink` (may be NULL) in chunks. The bytes
 * are re-hashed on the way: a mismatch with the recorded SHA-256 is RD_EIO
 * naming both digests (the sink has then seen bad bytes: write to a
 * temporary file and keep it only on success).
 */
int rd_service_evidence_get(rd_service *svc, const char *id, int64_t n,
			    rd_evidence_row *row,
			    int (*sink)(void *ctx, const void *buf, size_t len),
			    void *ctx, rd_error *err);

/*
 * Withdraw evidence n with a reason (agent or admin): a new commit marks
 * it withdrawn; nothing is deleted. RD_ECONFLICT when already withdrawn.
 */
int rd_service_evidence_withdraw(rd_service *svc, const char *id, int64_t n,
				 const char *reason, const rd_actor *actor,
				 int64_t now, rd_dispute **out, rd_error *err);

/* ---- audit ---------------------------------------------------------------- */

/*
 * The dispute's history as git holds it, oldest commit first (free with
 * rd_commit_infos_free). Read from git, not from the index.
 */
int rd_service_audit_log(rd_service *svc, const char *id,
			 rd_commit_info **out, size_t *count, rd_error *err);

/* One thing that does not match. */
typedef struct rd_finding {
	char dispute_id[RD_ID_BUFSZ];
	char check[24];        /* ref, head, object, history, hash, index */
	char detail[480];
} rd_finding;

/* What a verification looked at and found. */
typedef struct rd_verify_report {
	rd_finding *findings;
	size_t count;
	size_t room;
	size_t disputes;       /* disputes checked */
	size_t commits;        /* commits walked */
	size_t files_hashed;   /* evidence files re-hashed */
	int64_t bytes_hashed;
	int mirror_elsewhere;  /* the record's mirror is another data
				  directory's: this one's was not compared */
} rd_verify_report;

/* Called after each dispute of a long operation. */
typedef void (*rd_progress_fn)(void *ctx, size_t done, size_t total);

/*
 * Verify one dispute (id) or every dispute (id NULL: every git ref and
 * every index row): walk every commit, check the history is linear and
 * append-only (versions rise by one, no event or evidence file changes
 * once written), re-hash every evidence file against the SHA-256 in its
 * metadata, and compare the head with the index (head, dispute, events,
 * evidence, offers). Each mismatch is a finding naming the dispute, the
 * commit or row, and what differs. Returns RD_OK when the checks ran
 * (whatever they found); *report is filled (rd_verify_report_free).
 */
int rd_service_audit_verify(rd_service *svc, const char *id,
			    rd_verify_report *report, rd_progress_fn progress,
			    void *progress_ctx, rd_error *err);

void rd_verify_report_free(rd_verify_report *report);

/* {"ok": bool, "disputes", "commits", "files_hashed", "bytes_hashed",
 *  "mirror_elsewhere": bool, "findings": [{"dispute", "check", "detail"}]};
 *  NULL when out of memory. */
json_t *rd_verify_report_to_json(const rd_verify_report *report);

/* What an update of the mirror did. */
typedef struct rd_mirror_report {
	int busy;            /* another mirror writer has it: nothing done */
	int64_t position;    /* the last change the mirror holds */
	int64_t last;        /* the last change of the record */
	size_t changes;      /* changes written by this update */
	size_t objects;      /* objects written by this update */
	size_t packs;        /* packs of the mirror after it */
} rd_mirror_report;

/*
 * Bring the mirror (<data>/evidence.git) up to the record: up to 5,000
 * changes in one pack, then each changed dispute's ref, then one syncfs,
 * then the position; all: again until nothing is left. A mirror that is
 * missing is made again from the first change. When another process's
 * mirror writer holds the mirror, report->busy is 1 and nothing is done.
 */
int rd_service_mirror_update(rd_service *svc, int all,
			     rd_mirror_report *report, rd_error *err);

/*
 * Merges of the mirror's packs search for deltas only in ranges of at
 * least this many objects (default RD_MIRROR_DELTA_MIN); smaller ones
 * join their packs as they are. For tools and tests.
 */
#define RD_MIRROR_DELTA_MIN INT64_C(50000)
void rd_service_mirror_delta_min(rd_service *svc, int64_t objects);

/*
 * The same, all of it, waiting for another process's mirror writer to
 * finish its step rather than leaving the mirror to it: when this
 * returns, the mirror holds every change committed before it was called.
 */
int rd_service_mirror_catch_up(rd_service *svc, rd_mirror_report *report,
			       rd_error *err);

/*
 * Make the mirror again from the record: the old one is moved aside
 * (evidence.git.old), a new one written from the first change, then the
 * old one removed. Waits for another mirror writer to finish its step.
 */
int rd_service_mirror_rebuild(rd_service *svc, rd_mirror_report *report,
			      rd_error *err);

/* What a clean-up of evidence files found and did. */
typedef struct rd_files_clean_report {
	int64_t files;           /* evidence files looked at */
	int64_t unnamed;         /* of them, old enough and named by no change */
	int64_t removed;         /* of those, removed (not renewed meanwhile) */
	int64_t removed_bytes;   /* their bytes */
	int64_t abandoned;       /* uploads cut short, removed (a record whose
				    files are in its database; a directory's
				    are removed at start) */
} rd_files_clean_report;

/* Evidence files no change names are kept this long (a day) by default. */
#define RD_FILES_CLEAN_AGE_S INT64_C(86400)

/*
 * Remove the evidence files of <data>/blobs (on PostgreSQL: of the
 * database) that no change of the record
 * names and that were last written more than older_than_s seconds ago
 * (>= 0): what an upload cut short by a crash, or refused after its bytes
 * were stored, leaves. A file is checked and removed inside a write
 * transaction, so a change that names it either committed first (the file
 * is kept) or finds it gone and fails; an upload of the same bytes renews
 * its time and keeps it. Safe beside a running server.
 */
int rd_service_files_clean(rd_service *svc, int64_t older_than_s,
			   rd_files_clean_report *report, rd_error *err);

/* What a backup copied. */
typedef struct rd_backup_report {
	int64_t disputes;        /* disputes in the copy (heads of the record) */
	int64_t changes;         /* the last change the copy holds */
	int64_t objects;         /* objects of the record in the copy */
	int64_t database_bytes;  /* the size of the copied database */
	int64_t files;           /* evidence files copied */
	int64_t file_bytes;      /* their bytes */
} rd_backup_report;

/*
 * Back up the data directory, while it is in use, into `dir`, which must
 * not exist or be an empty directory, and must not lie inside the data
 * directory (else RD_EINVALID, field "to", copying nothing): the database
 * as one committed state (rd_store_backup) into <dir>/redress.db, then
 * every evidence file that copy names into <dir>/blobs/ (each to a
 * temporary, flushed, checked against the record's size, renamed; the
 * directories flushed). Evidence files are immutable and never removed
 * while a row names them, so copying them after the database is
 * consistent. The mirror (evidence.git) is not copied: a restore makes it
 * again with rd_service_mirror_rebuild. Nor are the lock, registry and
 * holder files, nor the WAL. On failure (RD_EIO, RD_EBUSY...) `dir` may
 * hold a partial copy, which the message says.
 */
int rd_service_backup(rd_service *svc, const char *dir,
		      rd_backup_report *out, rd_error *err);

/* What a migrate copied. */
typedef struct rd_migrate_report {
	int64_t disputes;    /* disputes */
	int64_t events;      /* their events */
	int64_t objects;     /* objects of the record */
	int64_t changes;     /* changes of the record (each its own commit) */
	int64_t keys;        /* API keys, revoked ones too */
	int64_t rows;        /* rows of every table */
	int64_t files;       /* evidence files */
	int64_t file_bytes;  /* their bytes */
} rd_migrate_report;

/*
 * Progress of a migrate: first evidence files copied (total 0), then
 * objects of the record copied, of total.
 */
typedef void (*rd_migrate_progress)(void *ctx, size_t done, size_t total);

/*
 * Copy the embedded data directory `from_dir` (its redress.db and the
 * evidence files under its blobs/) into the PostgreSQL database `to`
 * (a URI), every id unchanged: disputes and all their rows, API keys
 * (their hashes: keys keep working), Idempotency-Key records, quotas,
 * running totals, and the record (objects with their numbers, heads,
 * changes). The source is never written: it is opened read-only, a
 * schema older than this build's is RD_EINVALID (run a redress command
 * on it first, which upgrades it), and it is held alone while it is read
 * (RD_EBUSY naming the processes that have it open). `to` is given the
 * schema when it has none and must hold no dispute, object, change or
 * key (RD_ECONFLICT naming them: never merged). Evidence files are
 * streamed in, each checked against its blob id (RD_EIO naming a file
 * whose bytes are not its blob); then every row is copied in one
 * transaction. A failure leaves no row in `to`, at most evidence files
 * that no object names (a second run reuses them; `redress clean`
 * removes them). The mirror's state of `to` starts afresh: the first
 * node's mirror is made from the first change. Bad --from is
 * RD_EINVALID (field "from"), a --to that is not a PostgreSQL URI
 * RD_EUSAGE (field "to"); a server that cannot be reached
 * RD_EUNAVAILABLE. progress may be NULL.
 */
int rd_service_migrate(const char *from_dir, const char *to,
		       rd_migrate_progress progress, void *ctx,
		       rd_migrate_report *out, rd_error *err);

/*
 * A server's mirror writer: a thread with its own service that updates the
 * mirror every interval_ms (0: 200), so that an acknowledged change is in
 * evidence.git within about that long, and once more when stopped; beside
 * it, a low-priority thread merges the mirror's packs and, hourly, removes
 * the evidence files no change names (rd_service_files_clean). Start opens the thread's service
 * (its failure is start's); stop joins the thread. NULL allowed to stop.
 */
typedef struct rd_mirror_writer rd_mirror_writer;

int rd_mirror_writer_start(rd_mirror_writer **out,
			   const rd_service_options *opts,
			   uint64_t interval_ms, rd_error *err);
void rd_mirror_writer_status(rd_mirror_writer *w, rd_mirror_report *last,
			     uint64_t *failures);
void rd_mirror_writer_stop(rd_mirror_writer *w);

/*
 * What opening the service did to a data directory of an earlier release
 * (git as the record): *upgraded 1 when this open imported its history
 * into the record, with the disputes and objects imported. Opening any
 * such directory upgrades it; `redress upgrade` reports it.
 */
int rd_service_upgrade_report(const rd_service *svc, int *upgraded,
			      size_t *disputes, size_t *objects);

/*
 * Rebuild the index from the record into a fresh database (the record is
 * copied over whole), then put it in place of the old one. It needs the data directory to itself: while any
 * other rd_service (of this or another process) has it open, it is
 * RD_EBUSY naming the processes (pid and command line), and while it runs
 * others cannot open the directory (RD_EBUSY naming it, after a short
 * wait). *disputes (may be NULL) counts the disputes rebuilt. API keys,
 * quotas and Idempotency-Key records, which no history holds, are copied
 * from the old database unchanged.
 */
int rd_service_reindex(rd_service *svc, size_t *disputes,
		       rd_progress_fn progress, void *progress_ctx,
		       rd_error *err);

/* ---- the conversation with the buyer (messages.c) ------------------------- */

/*
 * Who reads what: 1 when `actor` may read a message of `direction`, an
 * event of the history, or a commit (by its message); a storefront key
 * never reads an internal note, its event or its commit. Every read a
 * storefront makes goes through these.
 */
int rd_service_message_visible(const rd_actor *actor, const char *direction);
int rd_service_event_visible(const rd_actor *actor, const rd_event_record *ev);
int rd_service_commit_visible(const rd_actor *actor, const char *message);

/*
 * Post a message on dispute `id` from its JSON document {"direction",
 * "channel", "body" | "template": {"name", "vars"}, "language", "author",
 * "evidence": [n...], "call": {"caller", "duration_seconds"}, "time_zone"}
 * as one change (the message's file and a "message" event), which starts
 * or stops the reply clock and, for an outbound message, writes
 * message.created to the outbox. *answer is the stored message with its
 * commit (new). RD_EINVALID naming the member at fault, RD_ETOOLARGE for
 * a body over 64 KiB, RD_EFORBIDDEN for a direction the role may not
 * post (storefronts post inbound only; auditors none), RD_ENOTFOUND.
 */
int rd_service_message_post(rd_service *svc, const char *id,
			    const json_t *request, const rd_actor *actor,
			    int64_t now, json_t **answer, rd_error *err);

/*
 * A page of the dispute's messages numbered above `after`, `limit` of
 * them (0: 50; at most 200), without internal notes for a storefront:
 * *answer = {"dispute_id", "items": [...], "next_after": n or null}.
 */
int rd_service_messages_list(rd_service *svc, const char *id,
			     const rd_actor *actor, int64_t after,
			     size_t limit, json_t **answer, rd_error *err);

/*
 * The text template `template` {"name", "vars"} gives for dispute `id`,
 * without recording anything: request {"template", "language",
 * "time_zone", "author"}; *answer = {"body", "language",
 * "template_locale", "fell_back"}. Agents and admins only.
 */
int rd_service_message_preview(rd_service *svc, const char *id,
			       const json_t *request, const rd_actor *actor,
			       int64_t now, json_t **answer, rd_error *err);

/*
 * The templates this server has: *answer = {"locales": [...], "items":
 * [{"name", "description", "vars": [{"name", "type", "description"}]}]}.
 */
int rd_service_templates(rd_service *svc, json_t **answer, rd_error *err);

/*
 * The text that tells the buyer of an offer of `terms` on dispute d, in
 * the buyer's `tag` (NULL: the dispute's locale) with dates in `zone`
 * (NULL: the storefront's calendar's, else UTC), as the offer would read
 * were it made at `now`: *out = {"template", "body", "template_locale",
 * "fell_back"} (new). Only what the buyer is told goes into it (the
 * amount to the buyer, the buyer's share, the time to answer by), never
 * a cost of the seller's.
 */
int rd_service_offer_text(rd_service *svc, const rd_dispute *d,
			  const rd_offer_terms *terms, const char *tag,
			  const char *zone, int64_t now, json_t **out,
			  rd_error *err);

/* A message as the API shows it (new, NULL when out of memory). */
json_t *rd_message_row_to_json(const rd_message_row *row);

/*
 * Write a self-contained archive (tar.gz) of one dispute for an auditor or
 * a payment platform: its snapshot, workflow, timeline (events and
 * commits), its messages, every evidence file with its metadata, the
 * verification result and a human-readable summary. The archive is written to a temporary file
 * beside `path` and renamed into place when complete.
 */
int rd_service_audit_export(rd_service *svc, const char *id,
			    const char *path, rd_error *err);

/*
 * The same archive passed to `sink` as it is built, a block at a time
 * (nothing spooled, nothing held whole): a non-zero return from sink
 * stops with RD_EIO. The first bytes come once the dispute is read and
 * verified, so a failure before them (RD_ENOTFOUND...) has sent nothing.
 * What `reader` may not see is left out (a storefront's archive holds no
 * internal note, its event or its commit, and timeline.json says
 * "internal_notes_left_out": true).
 */
int rd_service_audit_export_stream(rd_service *svc, const char *id,
				   const rd_actor *reader,
				   int (*sink)(void *ctx, const void *buf,
					       size_t len),
				   void *ctx, rd_error *err);

/* ---- records as JSON: the files of the git tree and the CLI's --json ---- */

/*
 * An event record as {"seq", "event", "actor": {"name", "role", "key_id"},
 * "at", "from", "to", "fields", "note"}. New reference, NULL when out of
 * memory.
 */
json_t *rd_event_record_to_json(const rd_event_record *event);

/* Parse what rd_event_record_to_json wrote; out's strings are new (free
 * with rd_event_records_free(out, 1) on an allocated array, or
 * rd_event_record_clear). RD_EINVALID naming the member at fault. */
int rd_event_record_from_json(rd_event_record *out, const json_t *doc,
			      rd_error *err);
void rd_event_record_clear(rd_event_record *event);

/* An offer as {"offer_id", "type", "currency", "buyer_refund",
 * "buyer_copay", "seller_cost" (null when unknown), "status", "made_at",
 * "decided_at" (null while made), "event_seq"}. */
json_t *rd_offer_record_to_json(const rd_offer_record *offer,
				const char *currency);
int rd_offer_record_from_json(rd_offer_record *out, const json_t *doc,
			      const char *dispute_id, rd_error *err);

/* An evidence row as its metadata file: {"n", "kind", "channel",
 * "submitted_by", "captured_at" (null when unknown), "added_at",
 * "content_type", "size", "sha256", "original_name", "note", "path",
 * "blob", "withdrawn", "withdrawn_reason"}. */
json_t *rd_evidence_row_to_json(const rd_evidence_row *row);
int rd_evidence_row_from_json(rd_evidence_row *out, const json_t *doc,
			      const char *dispute_id, rd_error *err);

/*
 * A dispute from its snapshot (what rd_dispute_to_json wrote, lifecycle
 * members included), validated like an opening document. *out is new.
 */
int rd_dispute_from_snapshot(rd_dispute **out, const json_t *doc,
			     rd_error *err);

/* ---- API keys ---------------------------------------------------------- */

/*
 * An API key as handed to its holder: "rdk_" + the key id (16 lower-case
 * hex digits, from 8 random bytes) + "_" + the secret (32 random bytes,
 * base64url without padding: 43 characters), 64 characters in all. Only
 * the SHA-256 of the secret's 32 bytes is stored; the key is shown once,
 * when it is created, and can never be read back.
 */
#define RD_KEY_PREFIX "rdk_"
#define RD_KEY_TEXT_LEN 64
#define RD_KEY_BUFSZ 128

/* Longest key name, in bytes. */
#define RD_KEY_MAX_NAME 64

/*
 * The message of every authentication refusal: one text whatever the
 * cause, so that a caller cannot learn which part of a key was wrong.
 */
#define RD_KEY_INVALID_MESSAGE "the API key is not valid"

/*
 * Create a key in its own transaction. `role` is agent, auditor,
 * storefront or admin (system is refused); `storefront` is required for,
 * and only for, a storefront key and follows the dispute storefront rule
 * (a lower-case letter or digit, then up to 63 of a-z 0-9 . _ -); `name`
 * is 1..RD_KEY_MAX_NAME bytes of UTF-8 without control characters, the
 * role's name when NULL. Refusals are RD_EINVALID naming the field
 * ("role", "storefront", "name") and write nothing; no randomness is
 * RD_EIO. On success out_key holds the key text (shown once: the caller
 * must not log it) and *out_record (may be NULL) the stored record.
 */
int rd_service_key_create(rd_service *svc, rd_role role,
			  const char *storefront, const char *name,
			  int64_t now, char out_key[RD_KEY_BUFSZ],
			  rd_api_key *out_record, rd_error *err);

/* Every key, revoked ones included, oldest first (see rd_store_keys_list). */
int rd_service_keys_list(rd_service *svc, rd_api_key **out, size_t *count,
			 rd_error *err);

/*
 * Revoke the key `id` at `now` in its own transaction: it no longer
 * authenticates. A malformed id is RD_EINVALID (field "id"; the id is not
 * echoed, in case a whole key was pasted), an unknown one RD_ENOTFOUND,
 * one already revoked RD_ECONFLICT.
 */
int rd_service_key_revoke(rd_service *svc, const char *id, int64_t now,
			  rd_error *err);

/*
 * Authenticate a presented key: look its id up, compare the SHA-256 of
 * its secret with the stored one in constant time, refuse a revoked key.
 * A NULL, malformed, unknown, wrong or revoked key is RD_EFORBIDDEN, every
 * time with RD_KEY_INVALID_MESSAGE and no field, so that the answer is no
 * oracle; the HTTP layer maps this refusal to 401 (the key is not valid),
 * keeping 403 for a valid key whose role may not do something. On success
 * *actor_out holds the key's role, its name and its id (key_id), and
 * storefront_out (may be NULL) the storefront of a storefront key, else "".
 * A failure to read the store is its own code (RD_EBUSY, RD_EIO...).
 */
int rd_service_key_authenticate(rd_service *svc, const char *key_text,
				rd_actor *actor_out, char storefront_out[65],
				rd_error *err);

/* ---- evidence quotas per storefront ---------------------------------------- */

/*
 * A storefront's evidence quota: its own settings, the quotas in force
 * (its own, or the defaults of rd_service_options) and what it has stored.
 * Every upload to a dispute of the storefront counts, whoever sends it;
 * withdrawn evidence stays stored and stays counted.
 */
typedef struct rd_quota_status {
	rd_storefront_quota own;    /* RD_QUOTA_DEFAULT: left to the default */
	int64_t daily;              /* in force, bytes; RD_QUOTA_NONE: none */
	int64_t total;
	rd_evidence_usage usage;    /* today: the UTC day of `now` */
} rd_quota_status;

/* The quota and usage of `storefront` (RD_EINVALID for a bad name). */
int rd_service_quota_status(rd_service *svc, const char *storefront,
			    int64_t now, rd_quota_status *out, rd_error *err);

/*
 * Set a storefront's own quotas in one transaction: bytes, 0 for no quota,
 * RD_QUOTA_DEFAULT for the server's default, RD_QUOTA_KEEP to leave one as
 * it is. RD_EINVALID (field "storefront") for a name that names no
 * storefront.
 */
int rd_service_quota_set(rd_service *svc, const char *storefront,
			 int64_t daily, int64_t total, int64_t now,
			 rd_error *err);

/*
 * RD_OK when `size` more bytes of evidence fit `storefront`'s quotas at
 * `now`; else RD_EQUOTA (rd_error_set_quota: which quota, its limit and
 * the bytes left) with a message saying how to go on.
 */
int rd_service_quota_check(rd_service *svc, const char *storefront,
			   int64_t now, int64_t size, rd_error *err);

/*
 * The bytes `storefront` may still store at `now` (RD_QUOTA_NONE when no
 * quota applies), for a caller that must stop a body before it is whole.
 */
int rd_service_quota_room(rd_service *svc, const char *storefront,
			  int64_t now, int64_t *out, rd_error *err);

/* The usage of the `limit` largest storefronts (see rd_store_usage_list). */
int rd_service_usage_list(rd_service *svc, int64_t now, size_t limit,
			  rd_evidence_usage **out, size_t *count,
			  rd_evidence_usage *others, rd_error *err);

/*
 * A key's record as {"id", "name", "role", "storefront" (null unless a
 * storefront key), "created_at", "revoked_at" (null while valid)}: never
 * the secret or its hash. New reference, NULL when out of memory.
 */
json_t *rd_api_key_to_json(const rd_api_key *key);

/* ---- idempotent writes (Idempotency-Key) ---------------------------------- */

/* How long a request made under an Idempotency-Key is kept: 24 hours. */
#define RD_IDEM_KEEP_S ((int64_t)24 * 3600)

/*
 * Check an Idempotency-Key as a client sent it: 1 to RD_IDEM_KEY_MAX
 * visible ASCII characters (0x21 to 0x7E). RD_EUSAGE naming the field
 * "Idempotency-Key" otherwise.
 */
int rd_idem_key_check(const char *key, rd_error *err);

/*
 * The request made by `actor`'s key under `key` into *out (clear it with
 * rd_idem_record_clear); RD_ENOTFOUND when there is none, or when it is
 * older than RD_IDEM_KEEP_S at `now`. An actor without a key id makes no
 * idempotent requests: RD_EUSAGE.
 */
int rd_service_idem_get(rd_service *svc, const rd_actor *actor,
			const char *key, int64_t now, rd_idem_record *out,
			rd_error *err);

/*
 * Claim `key` of `actor`'s API key while a request made with it is in
 * flight, for every process and node on the record (rd_store_idem_claim):
 * RD_ECONFLICT, naming the field "Idempotency-Key", while another
 * connection holds it; RD_EUSAGE for a malformed key or an actor without
 * an API key. The claim is the service's connection's: give it back with
 * rd_service_idem_release on the same service once the request has been
 * answered (its record committed, or nothing done). A service claims a
 * key at most once at a time: a process keeps its own table of the keys
 * it has in flight. A process or node that dies leaves no claim behind.
 */
int rd_service_idem_claim(rd_service *svc, const rd_actor *actor,
			  const char *key, rd_error *err);
void rd_service_idem_release(rd_service *svc, const rd_actor *actor,
			     const char *key);

/*
 * Make the next write through `svc` idempotent under `key`: the write of
 * rd_service_dispute_open, rd_service_event_apply or an evidence upload
 * (rd_service_evidence_upload_finish) records the request (its digest
 * request_sha256, its operation and the response: the dispute, or the
 * evidence row) in the same index transaction as its effect, and names it
 * in the trailers of its git commit, so that a crash between the two
 * cannot lose it (the next open replays it from git). If a request under
 * the same key is found in that transaction (a retry racing the first),
 * the write changes nothing and fails with RD_ECONFLICT; the caller then
 * looks it up with rd_service_idem_get. The service stays armed until
 * rd_service_idem_disarm, which the caller calls after the write however
 * it ended.
 */
int rd_service_idem_arm(rd_service *svc, const rd_actor *actor,
			const char *key, const char *request_sha256,
			rd_idem_operation operation, rd_error *err);
void rd_service_idem_disarm(rd_service *svc);
/* ---- payables: what storefronts must pay --------------------------------- */

/*
 * The states of the reference workflow in which the storefront owes the
 * buyer money, what it owes (RD_PAYABLE_REFUND or RD_PAYABLE_DISCOUNT) and
 * the event that confirms the payment, with its payment reference in field
 * RD_PAYABLE_CONFIRM_FIELD.
 */
#define RD_PAYABLE_REFUND_STATE "refund_pending"
#define RD_PAYABLE_DISCOUNT_STATE "discount_pending"
#define RD_PAYABLE_CONFIRM_FIELD "payment_ref"

/*
 * What a payable state asks of the storefront: "refund" or "discount", and
 * the confirming event "refund_issued" or "discount_issued". Static
 * strings; NULL for a state that owes nothing.
 */
const char *rd_payable_action(const char *state);
const char *rd_payable_confirm_event(const char *state);

/*
 * One page of the disputes awaiting payment (refund_pending,
 * discount_pending), oldest deadline first, disputes without one last; of
 * one storefront, or of all when `storefront` is NULL. Each row carries the
 * latest accepted offer, whose buyer_refund is the amount to pay (has_offer
 * 0: none is recorded, the amount is unknown). `cursor` is a previous
 * page's next_cursor or NULL; `limit` 1..500, 0 for 50. A storefront name
 * that is not one is RD_EINVALID (field "storefront"); a bad cursor or
 * limit RD_EINVALID naming it. *out is a new array (free()), *next_cursor a
 * new string (free()) or NULL on the last page.
 */
int rd_service_payables(rd_service *svc, const char *storefront,
			const char *cursor, size_t limit,
			rd_payable_row **out, size_t *count,
			char **next_cursor, rd_error *err);

/*
 * A payable as {"dispute_id", "order_ref", "storefront", "state",
 * "action", "amount" (minor units; null when unknown), "currency",
 * "offer_id" (null when unknown), "due_at" (RFC 3339 or null), "overdue"
 * (the deadline has passed at `now`), "version", "confirm_event",
 * "confirm_fields": ["payment_ref"]}. New reference, NULL when out of
 * memory.
 */
json_t *rd_payable_to_json(const rd_payable_row *payable, int64_t now);

/* ---- events for storefronts: the outbox, the feed, webhooks -------------- */

/* Events are kept this long (the feed's reach, and redelivery's). */
#define RD_OUTBOX_KEEP_S (30 * 86400)
/* An endpoint with no successful delivery for this long is disabled. */
#define RD_WEBHOOK_FAILING_MAX_S (5 * 86400)
/* A receiver's Retry-After is honoured up to this. */
#define RD_WEBHOOK_RETRY_AFTER_MAX_S 86400

/* The event types, in the order of docs/webhooks.md (a static table). */
const char *const *rd_event_types(size_t *count);
/* 1 when type is one of them. */
int rd_event_type_valid(const char *type);

/*
 * What a request asks of an endpoint. At creation url and events are
 * required; in an update NULL (enabled -1) leaves a setting as it is.
 * events[event_count] are event types, or "*" alone for all. storefront
 * is for creation only: a storefront key's endpoints are its own (NULL,
 * or its own name); an admin's are for the storefront named, or for
 * every storefront when NULL.
 */
typedef struct rd_webhook_change {
	const char *url;
	const char *const *events;
	size_t event_count;
	const char *description;
	const char *storefront;
	int enabled;                 /* 1, 0, or -1 */
	/*
	 * Creation only: the request's Idempotency-Key and digest (NULL:
	 * none). The same key and digest within 24 hours answer the
	 * endpoint made the first time; the same key with another request
	 * is RD_EINVALID, field "Idempotency-Key".
	 */
	const char *idempotency_key;
	const char *request_sha256;
} rd_webhook_change;

/*
 * Endpoints, as `actor` may manage them: a storefront key its own
 * storefront's (another's is RD_ENOTFOUND, as one that does not exist),
 * an admin every one; any other role is RD_EFORBIDDEN. A URL must pass
 * rd_webhook_url_check with the service's webhook options; at most 16
 * endpoints per storefront (RD_ETOOLARGE). Creation makes the signing
 * secret (out->secret, to show once; *replayed 1 when an
 * Idempotency-Key's earlier request made it); rotation makes a new one,
 * the previous signing beside it for 24 hours.
 */
/* Set the service's webhook options (rd_service_options' two). */
void rd_service_webhook_allow(rd_service *svc, int allow_http,
			      int allow_private);

int rd_service_webhook_create(rd_service *svc, const rd_actor *actor,
			      const rd_webhook_change *change, int64_t now,
			      rd_webhook_endpoint *out, int *replayed,
			      rd_error *err);
int rd_service_webhooks_list(rd_service *svc, const rd_actor *actor,
			     rd_webhook_endpoint **out, size_t *count,
			     rd_error *err);
int rd_service_webhook_get(rd_service *svc, const rd_actor *actor,
			   const char *id, rd_webhook_endpoint *out,
			   rd_error *err);
int rd_service_webhook_update(rd_service *svc, const rd_actor *actor,
			      const char *id, const rd_webhook_change *change,
			      int64_t now, rd_webhook_endpoint *out,
			      rd_error *err);
int rd_service_webhook_rotate(rd_service *svc, const rd_actor *actor,
			      const char *id, int64_t now,
			      rd_webhook_endpoint *out, rd_error *err);
int rd_service_webhook_delete(rd_service *svc, const rd_actor *actor,
			      const char *id, rd_error *err);

/* The endpoint's delivery log (rd_store_webhook_deliveries), as above. */
int rd_service_webhook_deliveries(rd_service *svc, const rd_actor *actor,
				  const char *id, const char *cursor,
				  size_t limit, rd_webhook_delivery **out,
				  size_t *count,
				  char next_cursor[RD_OUTBOX_CURSOR_BUFSZ],
				  rd_error *err);

/*
 * Deliver one again, now, its schedule from the start (out: the delivery
 * as it now is; free out->attempts). RD_ECONFLICT while it is being sent.
 */
int rd_service_webhook_retry(rd_service *svc, const rd_actor *actor,
			     const char *id, const char *delivery_id,
			     rd_webhook_delivery *out, rd_error *err);

/*
 * The event feed (rd_store_outbox_after): a storefront key reads its own
 * disputes' events, any other role all. types is a comma-separated list
 * of event types, NULL for all.
 */
int rd_service_events_feed(rd_service *svc, const rd_actor *actor,
			   const char *after, const char *types,
			   size_t limit, rd_outbox_event **out, size_t *count,
			   char next_cursor[RD_OUTBOX_CURSOR_BUFSZ],
			   rd_error *err);

/*
 * As the API shows them (new references; NULL when out of memory): an
 * endpoint (its secret only when with_secret: at creation and rotation),
 * a delivery with its attempts, and an event of the feed ({"id", "type",
 * "timestamp", "data"}; NULL too when its payload is not JSON).
 */
json_t *rd_webhook_endpoint_to_json(const rd_webhook_endpoint *ep,
				    int with_secret);
json_t *rd_webhook_delivery_to_json(const rd_webhook_delivery *d);
json_t *rd_outbox_event_to_json(const rd_outbox_event *ev);

/* What came of one delivery attempt, and what follows. */
typedef enum rd_delivery_outcome {
	RD_DELIVERY_DELIVERED,
	RD_DELIVERY_RETRY,        /* failed; tried again at next_at */
	RD_DELIVERY_FAILED,       /* failed for good */
	RD_DELIVERY_OUTCOMES
} rd_delivery_outcome;

typedef struct rd_delivery_verdict {
	rd_delivery_outcome outcome;
	int64_t next_at;          /* RD_DELIVERY_RETRY: when */
	int disable;              /* disable the endpoint, for `reason` */
	char reason[256];
} rd_delivery_verdict;

/*
 * Judge an attempt's result: 2xx delivered; 410 failed and the endpoint
 * disabled; else retried after rd_webhook_retry_delay(tries + 1, random)
 * or the receiver's longer Retry-After (up to a day), or failed once the
 * schedule is spent; and the endpoint disabled when it has been failing
 * since `failing_since` (0: it is not) for RD_WEBHOOK_FAILING_MAX_S.
 */
void rd_delivery_judge(rd_delivery_verdict *out,
		       const rd_webhook_result *res, int64_t tries,
		       int64_t failing_since, int64_t now, uint64_t random);

/* "delivered", "retry", "failed"; NULL out of range. */
const char *rd_delivery_outcome_name(rd_delivery_outcome outcome);

/* rd_store_webhook_backlog on the service's record (for /metrics). */
int rd_service_webhook_backlog(rd_service *svc, int64_t *pending,
			       int64_t *oldest_created_at, rd_error *err);

/* Attempts this process recorded, by outcome (for /metrics). */
void rd_webhook_counts_get(uint64_t out[RD_DELIVERY_OUTCOMES]);

/*
 * One round of webhook delivery on svc (the worker's, or a test's):
 * fan new events out to endpoints, lease the deliveries due (at most 32),
 * send them at once with `opts` of the state, record each outcome.
 * *sent counts the deliveries attempted. The state keeps what rounds
 * remember (rd_webhook_state_new copies opts; NULL for defaults).
 */
typedef struct rd_webhook_state rd_webhook_state;
int rd_webhook_state_new(rd_webhook_state **out,
			 const rd_webhook_options *opts, rd_error *err);
void rd_webhook_state_free(rd_webhook_state *state);
int rd_service_webhook_round(rd_service *svc, rd_webhook_state *state,
			     size_t *sent, rd_error *err);

/*
 * The delivery thread of `redress serve` (on a service of its own, like
 * the sweeper): a round every interval_ms, at once again after a full
 * one. A failed round is counted (rd_webhook_worker_failures, with the
 * last error into *last when not NULL) and the next one tries again.
 */
typedef struct rd_webhook_worker rd_webhook_worker;
int rd_webhook_worker_start(rd_webhook_worker **out,
			    const rd_service_options *opts,
			    const rd_webhook_options *webhook,
			    uint64_t interval_ms, rd_error *err);
uint64_t rd_webhook_worker_failures(rd_webhook_worker *w, rd_error *last);
void rd_webhook_worker_stop(rd_webhook_worker *w);

/*
 * Claim (POST /v1/queue/claim): assign to the actor (an agent or an
 * admin; RD_EFORBIDDEN otherwise) the most urgent open unassigned
 * dispute - soonest SLA due time first, those without one last, then the
 * oldest - by an "assign" event, in one transaction. *out is the dispute
 * as assigned (new), or NULL when there is nothing to claim. Two claims at
 * once, on one server or on several sharing a PostgreSQL record, never
 * take the same dispute; a dispute taken meanwhile is passed over. Armed
 * with RD_IDEM_CLAIM (rd_service_idem_arm), the claim records its request
 * with its effect: the assign event's commit names it, and a claim that
 * finds nothing records a request naming no dispute; a request under the
 * same key recorded meanwhile fails it with RD_ECONFLICT (field
 * "Idempotency-Key").
 */
int rd_service_claim(rd_service *svc, const rd_actor *actor, int64_t now,
		     rd_dispute **out, rd_error *err);

/*
 * The agents (GET /v1/agents): one rd_agent_load per distinct name of a
 * live agent key, by name, with its open, overdue (SLA due before now)
 * and awaiting-reply disputes. *out is new (free()).
 */
int rd_service_agents(rd_service *svc, int64_t now, rd_agent_load **out,
		      size_t *count, rd_error *err);

/* The agents as JSON: [{"name", "open", "overdue", "awaiting_reply"}]; NULL
 * when out of memory. */
json_t *rd_agents_to_json(const rd_agent_load *agents, size_t count);

/* ---- a buyer's history and disputes (buyers.c) ---------------------------- */

/* The days of a dispute document's buyer_history. */
#define RD_BUYER_HISTORY_DAYS 365
/* The most disputes a buyer_history counts: the newest ones. */
#define RD_BUYER_HISTORY_MAX 1000

/*
 * d's buyer_history, new into *out: JSON null when d has no buyer_ref;
 * else {"buyer_ref", "window_days", "disputes", "truncated", "by_reason",
 * "by_outcome", "refunded": [{"amount", "currency"}]} over the same
 * storefront's other disputes of that buyer_ref opened in the
 * RD_BUYER_HISTORY_DAYS days up to now, the RD_BUYER_HISTORY_MAX newest of
 * them at most (truncated says there were more; "open" counts those without
 * an outcome; refunded sums the last accepted offer of each dispute
 * refunded or discounted, per currency).
 */
int rd_service_buyer_history(rd_service *svc, const rd_dispute *d,
			     int64_t now, json_t **out, rd_error *err);

/*
 * How many of the same storefront's other disputes of d's buyer_ref,
 * opened in the `days` days up to now, were refunded (0 without a
 * buyer_ref), every one of them counted.
 */
int rd_service_buyer_refunds(rd_service *svc, const rd_dispute *d,
			     int64_t now, int days, int64_t *refunds,
			     rd_error *err);

/* A page of storefront's disputes of buyer_ref, newest first (store.h). */
int rd_service_buyer_disputes(rd_service *svc, const char *storefront,
			      const char *buyer_ref, size_t limit,
			      const char *cursor, rd_dispute ***out,
			      size_t *count, char **next_cursor,
			      rd_error *err);

#endif
