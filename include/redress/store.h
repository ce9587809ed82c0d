/*
 * The store: redress's embedded SQLite index (one file, WAL mode).
 *
 * This is the only module that speaks SQL; every statement is prepared once
 * per connection. Writers take the write lock up front (BEGIN IMMEDIATE) and
 * wait for it up to a busy timeout; a lock still held after that is
 * RD_EBUSY, never a crash. One rd_store is one connection and must be used by
 * one thread at a time. The store records; it does not decide: workflow
 * rules are applied by the caller between rd_store_begin and
 * rd_store_commit.
 */
#ifndef REDRESS_STORE_H
#define REDRESS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "redress/dispute.h"
#include "redress/error.h"
#include "redress/webhook_sizes.h"

/* The schema version this build writes (PRAGMA user_version). */
#define RD_STORE_SCHEMA_VERSION 23

/* How long a writer waits for the lock before RD_EBUSY, in milliseconds. */
#define RD_STORE_BUSY_TIMEOUT_MS 5000

typedef struct rd_store rd_store;

/*
 * Open (creating when absent) the database at `path`, switch it to WAL with
 * synchronous=FULL and foreign keys on, and apply every migration up to
 * RD_STORE_SCHEMA_VERSION in one transaction. A database written by a newer
 * redress (user_version above ours) is RD_EINVALID. On success *out is new;
 * close with rd_store_close.
 *
 * `path` may be a PostgreSQL URI instead (postgresql://... of a database
 * that exists): its schema is created at RD_STORE_SCHEMA_VERSION in one
 * transaction, once even when several nodes open it at once, and a
 * database of a newer redress is RD_EINVALID likewise. Messages show the
 * URI without its password. A server that cannot be reached is
 * RD_EUNAVAILABLE. Once open, the store outlives its server's absences:
 * a connection the server closed is made again on the next use outside a
 * transaction, and until it can be, every call is RD_EUNAVAILABLE; a
 * transaction under way when its connection is lost fails whole with
 * RD_EUNAVAILABLE (the caller rolls it back as after any failure), and
 * none of its statements ever runs on the new connection. A lock another
 * connection holds for longer than the busy timeout is RD_EBUSY, as on
 * SQLite (PostgreSQL's lock_timeout).
 */
int rd_store_open(rd_store **out, const char *path, rd_error *err);

/*
 * Open an embedded database (a SQLite file that exists) to read only: no
 * byte of it is written, its schema is never upgraded, and a write is
 * refused. Its schema must be this build's: an older one is RD_EINVALID
 * telling to run a redress command on it first (which upgrades it), a
 * newer one RD_EINVALID too. A PostgreSQL URI is RD_EINVALID. New store
 * in *out, closed with rd_store_close.
 */
int rd_store_open_readonly(rd_store **out, const char *path, rd_error *err);

/* Finalize every statement and close the connection. NULL is accepted. */
void rd_store_close(rd_store *st);

/*
 * 1 when `target` names a PostgreSQL database (a `postgresql://` or
 * `postgres://` URI) rather than an embedded database's file.
 */
int rd_store_target_is_postgres(const char *target);

/*
 * Copy the database, while others go on writing to it, into a new file at
 * dest_path: one committed state (a read transaction held for the whole
 * copy, which blocks no writer in WAL mode), copied page by page with
 * SQLite's online backup API into a temporary file beside dest_path, made
 * durable, then renamed over dest_path and the directory made durable.
 * Runs outside a transaction (else RD_EINTERNAL). RD_EBUSY when the
 * database stays locked past the busy timeout, RD_EIO when the copy
 * cannot be written; on failure no file is left at dest_path by this call
 * and the temporary is removed. SQLite only: RD_EINVALID on PostgreSQL,
 * whose databases are copied with pg_dump.
 */
int rd_store_backup(rd_store *st, const char *dest_path, rd_error *err);

/* The database's PRAGMA user_version. */
int rd_store_schema_version(rd_store *st, int *out, rd_error *err);

/*
 * Transactions. rd_store_begin starts a write transaction (BEGIN
 * IMMEDIATE); rd_store_commit commits it; rd_store_rollback abandons it
 * (safe to call when none is open). Every write function below must run
 * inside one (outside, it is RD_EINTERNAL and writes nothing); read
 * functions may run inside or outside.
 */
int rd_store_begin(rd_store *st, rd_error *err);

/* 1 while a write transaction is open on st (SQLite may end one by itself
 * after an I/O error or a full disk). */
int rd_store_tx_open(rd_store *st);
int rd_store_commit(rd_store *st, rd_error *err);
void rd_store_rollback(rd_store *st);

/*
 * Batches (group commit). rd_store_batch_begin opens one write transaction
 * (BEGIN IMMEDIATE) in which each rd_store_begin .. rd_store_commit that
 * follows is a savepoint: a change that rolls back undoes its own rows
 * only, and nothing is durable until rd_store_batch_commit commits them
 * all with one flush. rd_store_batch_rollback abandons the whole batch.
 * rd_store_batch_alive is 0 once the database has ended the transaction
 * on its own (SQLite after an I/O error or a full disk, PostgreSQL when
 * its connection is lost): every change of the batch is then lost and the
 * batch must be answered as failed. rd_store_batch_lost is 1 when that is
 * because the connection to the database was lost (PostgreSQL): the
 * changes may be retried once it is back (RD_EUNAVAILABLE).
 */
int rd_store_batch_begin(rd_store *st, rd_error *err);
int rd_store_batch_alive(rd_store *st);
int rd_store_batch_lost(rd_store *st);
int rd_store_batch_commit(rd_store *st, rd_error *err);
void rd_store_batch_rollback(rd_store *st);

/* ---- schema 11: the record ------------------------------------------- */

/* A git object id in its 20 raw bytes. */
#define RD_OID_RAWSZ 20

/* Object types, as git numbers them. */
enum { RD_OBJECT_COMMIT = 1, RD_OBJECT_TREE = 2, RD_OBJECT_BLOB = 3 };

/*
 * Store a git object of the change being written (inside a transaction):
 * its id, type, size and bytes as git hashes them, or data NULL for an
 * evidence file whose bytes are kept as a file named by its id. An object
 * already stored is left as it is (the same id is the same bytes).
 */
int rd_store_object_put(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
			int type, int64_t size, const void *data,
			rd_error *err);

/*
 * Read an object: *found 0 when absent. *in_file 1 when its bytes are in a
 * file; else, when data is not NULL, *data receives a new copy of its
 * bytes (free(); may be NULL for an empty object) and *size their length.
 * With data NULL only the header (type, size, in_file) is read.
 */
int rd_store_object_get(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
			int *found, int *type, int64_t *size, int *in_file,
			void **data, rd_error *err);

/*
 * Read the objects ids[0..count) (20 raw bytes each) together: fn is
 * called for each one found, in any order, with its bytes (valid during
 * the call; NULL for an object whose bytes are a file); an id not found
 * is left out. fn returns non-zero to stop: that value is returned. On
 * PostgreSQL one statement reads them all; give a few hundred at a time.
 * It reads what is committed: on PostgreSQL the objects an open
 * transaction of this connection stored are in the table only once it
 * commits (rd_store_object_get answers for them before).
 */
int rd_store_objects_get(rd_store *st, const unsigned char *ids,
			 size_t count,
			 int (*fn)(void *ctx,
				   const unsigned char id[RD_OID_RAWSZ],
				   int type, int64_t size, int in_file,
				   const void *data),
			 void *ctx, rd_error *err);

/*
 * The objects whose bytes are files, in id order after `after` (NULL:
 * from the first), at most `limit` of them: ids[i] are 20 raw bytes each
 * (one allocation, free()).
 */
int rd_store_objects_in_files(rd_store *st,
			      const unsigned char *after,
			      size_t limit, unsigned char **ids,
			      size_t *count, rd_error *err);

/*
 * Call fn for every object first stored by a change numbered above
 * `after` and up to `upto`, in change order (fn returns non-zero to stop:
 * that value is returned).
 */
int rd_store_objects_of_changes(rd_store *st, int64_t after, int64_t upto,
				int (*fn)(void *ctx,
					  const unsigned char id[RD_OID_RAWSZ],
					  int type, int64_t size, int in_file),
				void *ctx, rd_error *err);

/* ---- schema 14: evidence files in the database (PostgreSQL) --------- */

/*
 * On PostgreSQL the record keeps its evidence files in the database, so
 * that nodes share no disk; the embedded record keeps them in its data
 * directory (the evidence module's). Every function below is
 * RD_EINTERNAL on SQLite. A file is streamed in and out in chunks of
 * RD_STORE_FILE_CHUNK bytes, never whole in memory.
 */
#define RD_STORE_FILE_CHUNK (1024 * 1024)

/* 1 when st keeps evidence files in its database (PostgreSQL). */
int rd_store_files_in_db(const rd_store *st);

typedef struct rd_store_file rd_store_file;

/*
 * A new file of `size` bytes to write (size > 0). Its bytes are stored as
 * they come, outside any transaction unless the caller holds one; nothing
 * names them until rd_store_file_keep.
 */
int rd_store_file_create(rd_store *st, int64_t size, rd_store_file **out,
			 rd_error *err);
int rd_store_file_append(rd_store_file *f, const void *buf, size_t len,
			 rd_error *err);

/*
 * Every byte given: keep the file as blob `id` (its git blob id), durably
 * (committed, unless the caller's transaction is open: then with it). The
 * same bytes kept already are renewed instead (their time, which the
 * removal of unnamed files reads) and these dropped. Free it after.
 */
int rd_store_file_keep(rd_store_file *f, const unsigned char id[RD_OID_RAWSZ],
		       int64_t size, rd_error *err);

/* Free a file; one not kept has its bytes dropped. NULL is accepted. */
void rd_store_file_free(rd_store_file *f);

/*
 * Whether file `id` is kept (*present) and its size. Inside a transaction
 * the file's row stays locked (shared) until it ends: a change that names
 * the file looks with this, and no removal can go between.
 */
int rd_store_file_stat(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
		       int *present, int64_t *size, rd_error *err);

typedef struct rd_store_file_reader rd_store_file_reader;

/*
 * Open file `id` for reading; RD_EIO when it is missing or does not hold
 * `size` bytes. rd_store_file_read gives up to len bytes (*got 0 at the
 * end); a reader holds at most one chunk in memory.
 */
int rd_store_file_open(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
		       int64_t size, rd_store_file_reader **out,
		       rd_error *err);
int rd_store_file_read(rd_store_file_reader *r, void *buf, size_t len,
		       size_t *got, rd_error *err);
void rd_store_file_close(rd_store_file_reader *r);

/*
 * Every kept file in id order: cb gets its id, size and the time it was
 * last written (Unix seconds); a status < 0 from cb stops the walk and is
 * returned. cb may use the store.
 */
typedef int (*rd_store_file_cb)(void *ctx,
				const unsigned char id[RD_OID_RAWSZ],
				int64_t size, int64_t written_at,
				rd_error *err);
int rd_store_files_foreach(rd_store *st, rd_store_file_cb cb, void *ctx,
			   rd_error *err);

/*
 * Inside a transaction: remove file `id` if it was last written before
 * `before` and no object of the record names it (read under a lock on
 * the file, so that a change naming it at the same moment is seen):
 * *removed 1 when it was.
 */
int rd_store_file_remove(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
			 int64_t before, int *removed, rd_error *err);

/*
 * Remove the bytes of uploads started before `before` that no file names
 * (abandoned, or cut by a crash); *removed receives how many.
 */
int rd_store_files_abandoned_remove(rd_store *st, int64_t before,
				    int64_t *removed, rd_error *err);

/* The record's head of a dispute (40 hex digits); *found 0 when none. */
int rd_store_ref_get(rd_store *st, const char *dispute_id, char head[41],
		     int *found, rd_error *err);

/*
 * Move a dispute's head from `old_head` (NULL: it has none yet) to
 * `new_head`, by compare-and-swap, and append the change (inside a
 * transaction). RD_ECONFLICT, changing nothing, when the head is not
 * `old_head`.
 */
int rd_store_ref_move(rd_store *st, const char *dispute_id,
		      const char *old_head, const char *new_head, int64_t at,
		      rd_error *err);

/* One head of the record. */
typedef struct rd_ref_row {
	char dispute_id[RD_ID_BUFSZ];
	char head[41];
} rd_ref_row;

/* Up to `limit` heads in dispute id order after `after` ("" first). */
int rd_store_refs_after(rd_store *st, const char *after, size_t limit,
			rd_ref_row **out, size_t *count, rd_error *err);

/*
 * One committed change: its own number (a dispute's changes are numbered
 * in their order), and the number of its commit, which orders commits as
 * they happened. On the embedded record (one writer) the two are equal;
 * on PostgreSQL a transaction's changes share its commit's number
 * (schema 15), and changes numbered lower may commit later.
 */
typedef struct rd_change_row {
	int64_t seq;
	char dispute_id[RD_ID_BUFSZ];
	char head[41];
	int64_t at;
	int64_t commit;
} rd_change_row;

/*
 * The changes of up to `limit` commits numbered above `after`, in commit
 * order (a commit's changes by their number); never part of a commit.
 */
int rd_store_changes_after(rd_store *st, int64_t after, size_t limit,
			   rd_change_row **out, size_t *count, rd_error *err);

/* The commit number of the last change of one dispute (0: none). */
int rd_store_dispute_last_change(rd_store *st, const char *dispute_id,
				 int64_t *seq, rd_error *err);

/* The number of the last commit of a change (0: none). */
int rd_store_changes_last(rd_store *st, int64_t *seq, rd_error *err);

/*
 * The id of the mirror the record's mirror state (position, packs)
 * describes, into out ("" when none has claimed it: a record of a release
 * before schema 15, or a new one). Inside a transaction on PostgreSQL
 * the row stays locked until it ends, so that two writers of the state
 * take turns. rd_store_mirror_owner_set (in a transaction) records one.
 */
int rd_store_mirror_owner(rd_store *st, char *out, size_t size,
			  rd_error *err);
int rd_store_mirror_owner_set(rd_store *st, const char *owner, rd_error *err);

/*
 * Inside a transaction: make `owner` the mirror the record's mirror state
 * describes. The outgoing owner's position and packs are saved (schema
 * 16); `owner`'s own saved state, when it was the owner before, is put
 * back (*resumed 1), else the state starts again (position 0, no packs).
 */
int rd_store_mirror_take(rd_store *st, const char *owner, int *resumed,
			 rd_error *err);

/*
 * Become, or stay, the one writer of the record's mirror among every
 * process and node: *leading 1 when this connection is it. On PostgreSQL
 * a lock of the connection's session, held until it closes (a node that
 * dies gives it up with its connection); the embedded record has one
 * mirror writer per data directory already (its mirror.lock): always 1.
 */
int rd_store_mirror_lead(rd_store *st, int *leading, rd_error *err);

/* The mirror's position: the last change it holds. Set inside a transaction. */
int rd_store_mirror_position(rd_store *st, int64_t *position, rd_error *err);
int rd_store_mirror_position_set(rd_store *st, int64_t position,
				 rd_error *err);

/* One pack of the mirror: the changes it covers and its objects. */
typedef struct rd_mirror_pack {
	char name[41];
	int64_t first_change;
	int64_t last_change;
	int64_t objects;
	int64_t plain;          /* of them, written with no search for deltas */
} rd_mirror_pack;

/*
 * The mirror's packs in use, oldest range first; add one (inside a
 * transaction); mark one replaced by a merge at `at` (Unix seconds), after
 * which it is listed by rd_store_mirror_packs_superseded (those replaced
 * before `before`) until removed; remove one (name NULL: all of them, for
 * a mirror made again).
 */
int rd_store_mirror_packs(rd_store *st, rd_mirror_pack **out, size_t *count,
			  rd_error *err);
int rd_store_mirror_pack_add(rd_store *st, const rd_mirror_pack *pack,
			     rd_error *err);
int rd_store_mirror_pack_supersede(rd_store *st, const char *name,
				   int64_t at, rd_error *err);
int rd_store_mirror_packs_superseded(rd_store *st, int64_t before,
				     rd_mirror_pack **out, size_t *count,
				     rd_error *err);
int rd_store_mirror_pack_remove(rd_store *st, const char *name,
				rd_error *err);

/*
 * The record's own settings ("import": "pending" until a data directory
 * of an earlier release has had its git history imported, then "done").
 * *value "" when unset. Set inside a transaction.
 */
int rd_store_record_state(rd_store *st, const char *name, char value[64],
			  rd_error *err);
int rd_store_record_state_set(rd_store *st, const char *name,
			      const char *value, rd_error *err);

/*
 * Copy the record (objects, heads, changes, the mirror's and the record's
 * state, the outbox of events and the webhooks: endpoints, deliveries and
 * their log) of the database at from_path into `to`, a new database with no
 * record yet, in one transaction of its own (none may be open on `to`).
 * The derived tables are left to the caller. SQLite only: RD_EINVALID
 * when `to` is a PostgreSQL database (pg_dump and pg_restore move one).
 */
int rd_store_record_copy(rd_store *to, const char *from_path, rd_error *err);

/*
 * A read transaction on st: every read until rd_store_rollback sees one
 * committed state (on SQLite the snapshot is taken at once; WAL lets
 * writers go on meanwhile). RD_EINTERNAL when a transaction is open.
 */
int rd_store_read_begin(rd_store *st, rd_error *err);

/*
 * RD_OK when `to`, a PostgreSQL record, holds no dispute, object, change
 * or API key (only then may a record be moved into it); RD_ECONFLICT
 * naming what it holds otherwise; RD_EINVALID for an embedded record.
 */
int rd_store_move_target_check(rd_store *to, rd_error *err);

/* What rd_store_move copied: rows of each kind, and of every table. */
typedef struct rd_store_move_report {
	int64_t disputes;
	int64_t events;
	int64_t objects;
	int64_t changes;
	int64_t keys;
	int64_t rows;
} rd_store_move_report;

/* Progress of a move: objects copied so far, of total. */
typedef void (*rd_store_move_progress)(void *ctx, size_t done, size_t total);

/*
 * Copy every row of `from`, an embedded record (opened read-only, say),
 * into `to`, a PostgreSQL record that rd_store_move_target_check finds
 * empty, in one transaction of `to` (none may be open on it): the rows are
 * read in `from`'s open read transaction, or in one of their own. Every id
 * and number stays as it is; each change becomes its own commit, numbered
 * as the change; the counters of `to` are set past the copied numbers;
 * the running totals are the source's; the mirror's state starts afresh
 * (position 0, no pack, no owner). Evidence files are not rows: the caller
 * copies them before (rd_store_file_*). On failure nothing of the copy is
 * left in `to`. progress (may be NULL) is called every 1024 objects.
 */
int rd_store_move(rd_store *to, rd_store *from,
		  rd_store_move_progress progress, void *ctx,
		  rd_store_move_report *out, rd_error *err);

/*
 * Workflow definitions seen by this data directory, kept by content hash so
 * that disputes pinned to an old definition can still be decided after its
 * file changed. rd_store_workflow_put is idempotent (same hash: no change);
 * a different definition under a name and version already recorded is
 * RD_EDEFINITION, since disputes pinned to that version must keep one rule
 * set. first_seen is taken from rd_clock_now (REDRESS_NOW honoured).
 * rd_store_workflow_source sets *out to a new heap copy of the source
 * (free()), or fails with RD_ENOTFOUND.
 */
int rd_store_workflow_put(rd_store *st, const char *hash, const char *name,
			  int64_t version, const char *source, rd_error *err);
int rd_store_workflow_source(rd_store *st, const char *hash, char **out,
			     rd_error *err);

/*
 * Insert a new dispute with its items (all members of d, lifecycle
 * included; d->version is stored as given). A duplicate id is RD_ECONFLICT.
 * The dispute's deadline is not written here: see rd_store_deadline_set.
 */
int rd_store_dispute_insert(rd_store *st, const rd_dispute *d, rd_error *err);

/*
 * The oldest open dispute (no outcome yet) of d's storefront and order that
 * has an item with the SKU of one of d's items, its id into existing_id
 * and *found = 1; *found = 0 when there is none. Indexed (schema 9): the
 * open disputes of one order are read, never the storefront's all.
 */
int rd_store_dispute_open_duplicate(rd_store *st, const rd_dispute *d,
				    char existing_id[RD_ID_BUFSZ], int *found,
				    rd_error *err);

/*
 * Read a dispute with its items and current deadline. *out is new (free
 * with rd_dispute_free); RD_ENOTFOUND when there is no such id.
 */
int rd_store_dispute_get(rd_store *st, const char *id, rd_dispute **out,
			 rd_error *err);

/*
 * Write the lifecycle members of d (state, outcome, assignee, version,
 * updated_at) if and only if the stored version is still
 * `expected_version`; otherwise RD_ESTALE and nothing is written.
 */
int rd_store_dispute_update(rd_store *st, const rd_dispute *d,
			    int64_t expected_version, rd_error *err);

/* Filters for rd_store_dispute_list. NULL / 0 members do not filter. */
typedef struct rd_dispute_filter {
	const char *state;
	const char *reason;
	const char *storefront;
	const char *assignee;
	int overdue;              /* 1: only disputes whose deadline is <= now */
	int awaiting_reply;       /* 1: only disputes with a reply clock, the
				     soonest due first (see below) */
	int64_t now;              /* the time "overdue" is judged at */
	int64_t created_from;     /* created_at >= this, when non-zero */
	int64_t created_to;       /* created_at <  this, when non-zero */
	const char *cursor;       /* from a previous page's next_cursor, or NULL */
	size_t limit;             /* page size, 1..500 (0 means 50) */
	/* search (schema 20) */
	const char *order_ref;    /* exact order reference */
	const char *buyer_ref;    /* exact buyer reference */
	const char *sku;          /* an item's exact SKU */
	int64_t updated_since;    /* updated_at >= this, when non-zero */
	const char *q;            /* words, all of which the dispute's text
				     holds (RD_SEARCH_MAX_* below); ranked */
} rd_dispute_filter;

/* Limits on rd_dispute_filter.q (RD_EINVALID, field "q", beyond). */
#define RD_SEARCH_MAX_BYTES 200
#define RD_SEARCH_MAX_WORDS 16

/*
 * One page of disputes, newest first (created_at, then id, descending), by
 * keyset: the cost of a page does not grow with the number of disputes.
 * With q, the disputes whose searchable text (order and buyer references,
 * SKUs, item titles, description, inbound and outbound messages; never an
 * internal note) holds every word of q, the most relevant first: each
 * dispute's search_rank (higher is better) then id, descending, by keyset
 * on (search_rank, id). q is words separated by spaces, each taken as a
 * word to find, never as query syntax; a q without a letter or digit, or
 * over RD_SEARCH_MAX_BYTES / RD_SEARCH_MAX_WORDS, is RD_EINVALID (field
 * "q"), as is q with awaiting_reply.
 * *out is a new array of *count new disputes (free each with
 * rd_dispute_free, then the array with free()); *next_cursor is a new
 * string (free()) when more pages follow, else NULL. A malformed cursor is
 * RD_EINVALID, field "cursor". With awaiting_reply, the disputes with a
 * reply clock instead, the soonest due (the most overdue) first, by
 * keyset on (reply due time, id).
 */
int rd_store_dispute_list(rd_store *st, const rd_dispute_filter *filter,
			  rd_dispute ***out, size_t *count, char **next_cursor,
			  rd_error *err);

/* One applied event, as recorded (append-only). */
typedef struct rd_event_record {
	char dispute_id[RD_ID_BUFSZ];
	int64_t seq;              /* 1, 2, 3... per dispute; equals the version it produced */
	char *event;              /* "opened" for the record written by open */
	rd_actor actor;
	int64_t at;
	char *from_state;         /* NULL for "opened" */
	char *to_state;
	char *fields_json;        /* JSON object text of the event's fields, "{}" when none */
	char *note;               /* or NULL */
} rd_event_record;

/* Append an event. A duplicate (dispute_id, seq) is RD_ECONFLICT. */
int rd_store_event_append(rd_store *st, const rd_event_record *ev,
			  rd_error *err);

/*
 * Every event of a dispute in order. *out is a new array of *count records
 * (free with rd_event_records_free). An unknown dispute gives 0 records.
 */
int rd_store_events_list(rd_store *st, const char *dispute_id,
			 rd_event_record **out, size_t *count, rd_error *err);

/* Free an array returned by rd_store_events_list. NULL is accepted. */
void rd_event_records_free(rd_event_record *records, size_t count);

/*
 * Set the dispute's single SLA deadline: `event` fires at `due_at` while the
 * dispute is still in `state`. due_at == 0 clears it.
 */
int rd_store_deadline_set(rd_store *st, const char *dispute_id,
			  int64_t due_at, const char *event, const char *state,
			  rd_error *err);

/* A deadline that has come due. */
typedef struct rd_deadline {
	char dispute_id[RD_ID_BUFSZ];
	int64_t due_at;
	char event[64];
	char state[64];
} rd_deadline;

/*
 * Up to `max` deadlines with due_at <= now, earliest first, into the
 * caller's array; *count says how many. Uses the due-time index.
 */
int rd_store_deadlines_due(rd_store *st, int64_t now, rd_deadline *out,
			   size_t max, size_t *count, rd_error *err);

/*
 * Take the dispute whose deadline a sweep is about to fire, inside the
 * write transaction that fires it: *claimed is 1 when the dispute has a
 * deadline due at `now` and the transaction now holds the dispute, so
 * that no other change of it runs until the transaction ends; 0 when it
 * has no deadline due, or when another transaction holds the dispute (on
 * PostgreSQL: another sweeper firing it, or a change of it under way),
 * which is passed over rather than waited for; a later sweep finds the
 * deadline if it is still due. The caller still checks that the deadline
 * is the one it read (rd_store_deadlines_due). RD_EINTERNAL outside a
 * transaction.
 */
int rd_store_deadline_claim(rd_store *st, const char *dispute_id,
			    int64_t now, int *claimed, rd_error *err);

/* ---- messages and reply clocks (schema 19) ---- */

/* Room for a message's language tag, NUL included. */
#define RD_MESSAGE_LANG_BUFSZ 36

/* One message of a dispute (its text lives in the record too). */
typedef struct rd_message_row {
	char dispute_id[RD_ID_BUFSZ];
	int64_t n;                /* 1, 2, 3... per dispute */
	int64_t version;          /* the dispute's version its change made */
	char direction[12];       /* "inbound", "outbound" or "internal" */
	char channel[12];         /* chat, email, phone, platform, sms, other */
	char *body;               /* UTF-8, at most 64 KiB */
	char language[RD_MESSAGE_LANG_BUFSZ]; /* BCP 47, "" when not given */
	char author[128];         /* the display name */
	char role[16];            /* the role of the key that posted it */
	char key_id[64];          /* "" for the command line */
	char *evidence;           /* JSON array of evidence numbers ("[]") */
	char template_name[64];   /* the moment it was rendered from, or "" */
	char template_locale[RD_MESSAGE_LANG_BUFSZ]; /* the texts' locale used */
	int fell_back;            /* 1: no texts in the buyer's language */
	char *call;               /* a phone call's JSON object, or NULL */
	int64_t created_at;
} rd_message_row;

/* Free what a row owns; the row may be reused. */
void rd_message_row_clear(rd_message_row *row);

/* Free an array of rows (NULL accepted). */
void rd_message_rows_free(rd_message_row *rows, size_t count);

/*
 * Record one message (in an open write transaction). rebuild = 1 leaves
 * a row that already exists alone (rebuilding the index from the record).
 */
int rd_store_message_insert(rd_store *st, const rd_message_row *row,
			    int rebuild, rd_error *err);

/* *n = the number the dispute's next message takes (1 for the first). */
int rd_store_message_next(rd_store *st, const char *dispute_id, int64_t *n,
			  rd_error *err);

/* *answered = 1 when the dispute has an outbound message, else 0. */
int rd_store_message_answered(rd_store *st, const char *dispute_id,
			      int *answered, rd_error *err);

/*
 * Up to `limit` (1..500) messages of a dispute numbered above `after`, in
 * order; internal notes only when with_internal. *out is a new array of
 * *count rows (rd_message_rows_free).
 */
int rd_store_messages_list(rd_store *st, const char *dispute_id,
			   int64_t after, size_t limit, int with_internal,
			   rd_message_row **out, size_t *count, rd_error *err);

/*
 * Set the dispute's reply clock: `event` (NULL: none) is due at `due_at`,
 * started by message `since`. due_at == 0 clears it. In a transaction.
 */
int rd_store_reply_set(rd_store *st, const char *dispute_id, int64_t due_at,
		       int64_t since, const char *event, rd_error *err);

/* A reply clock that has come due. */
typedef struct rd_reply_due {
	char dispute_id[RD_ID_BUFSZ];
	int64_t due_at;
	int64_t since;
	char event[64];           /* "" when it fires no event */
} rd_reply_due;

/* As rd_store_deadlines_due, for reply clocks. */
int rd_store_replies_due(rd_store *st, int64_t now, rd_reply_due *out,
			 size_t max, size_t *count, rd_error *err);

/* As rd_store_deadline_claim, for the dispute's reply clock. */
int rd_store_reply_claim(rd_store *st, const char *dispute_id, int64_t now,
			 int *claimed, rd_error *err);

/* One row of the evidence index (the files themselves live in git). */
typedef struct rd_evidence_row {
	char dispute_id[RD_ID_BUFSZ];
	int64_t n;                /* 1, 2, 3... per dispute */
	char kind[32];
	char channel[16];
	char submitted_by[160];   /* "role:name" */
	int64_t captured_at;      /* 0 when unknown */
	int64_t added_at;
	char content_type[128];
	int64_t size;
	char sha256[65];
	char *original_name;      /* metadata only, or NULL */
	int withdrawn;
	char *withdrawn_reason;   /* or NULL */
	char *note;               /* the submitter's note, or NULL (schema 3) */
	char path[96];            /* the content's path in the dispute's git tree (schema 3) */
	char blob_oid[41];        /* the content's git blob id (schema 3) */
} rd_evidence_row;

/* Insert an evidence index row. A duplicate (dispute_id, n) is RD_ECONFLICT. */
int rd_store_evidence_insert(rd_store *st, const rd_evidence_row *row,
			     rd_error *err);

/*
 * The distinct kinds of the dispute's non-withdrawn evidence, and how many
 * such items there are. *kinds is a new array of new strings (free with
 * rd_strings_free); *kind_count its length; *total the item count.
 */
int rd_store_evidence_kinds(rd_store *st, const char *dispute_id,
			    char ***kinds, size_t *kind_count, size_t *total,
			    rd_error *err);

/* Free an array of heap strings. NULL is accepted. */
void rd_strings_free(char **strings, size_t count);

/* Offer status values stored in the offers table. */
#define RD_OFFER_MADE "made"         /* put to the buyer, awaiting an answer */
#define RD_OFFER_ACCEPTED "accepted"
#define RD_OFFER_REJECTED "rejected"
#define RD_OFFER_COUNTERED "countered"
#define RD_OFFER_EXPIRED "expired"

/* An offer made on a dispute. */
typedef struct rd_offer_record {
	char dispute_id[RD_ID_BUFSZ];
	char offer_id[48];
	rd_offer_type type;
	int64_t buyer_refund;     /* paid to the buyer */
	int64_t buyer_copay;      /* paid by the buyer towards a reshipment */
	int64_t seller_cost;      /* the seller's expected cost, or RD_AMOUNT_UNSET */
	char status[16];
	int64_t made_at;
	int64_t decided_at;       /* 0 while made */
	int64_t event_seq;        /* the event that made it */
} rd_offer_record;

/* Insert an offer. A duplicate (dispute_id, offer_id) is RD_ECONFLICT. */
int rd_store_offer_insert(rd_store *st, const rd_offer_record *offer,
			  rd_error *err);

/*
 * The dispute's offer in status "made", if any: RD_OK with *found = 1 and
 * *out filled, or RD_OK with *found = 0.
 */
int rd_store_offer_pending(rd_store *st, const char *dispute_id,
			   rd_offer_record *out, int *found, rd_error *err);

/*
 * The dispute's accepted offer, if any, same contract as above; when several
 * were accepted over the dispute's life, the most recently decided one.
 */
int rd_store_offer_accepted(rd_store *st, const char *dispute_id,
			    rd_offer_record *out, int *found, rd_error *err);

/*
 * Move an offer out of "made" to `status` at `decided_at`. RD_ENOTFOUND when
 * the offer does not exist or is no longer "made".
 */
int rd_store_offer_decide(rd_store *st, const char *dispute_id,
			  const char *offer_id, const char *status,
			  int64_t decided_at, rd_error *err);

/*
 * Every offer of a dispute, oldest first. *out is a new array (free()).
 */
int rd_store_offers_list(rd_store *st, const char *dispute_id,
			 rd_offer_record **out, size_t *count, rd_error *err);

/*
 * A deterministic text dump of every table: a "schema N" line, then for
 * each table in a fixed order a "[table]" line and one line per row
 * (sorted by primary key) of `column=value` pairs, text values quoted with
 * \\, \" and control bytes escaped, SQL NULL as NULL. Two dumps are equal
 * exactly when the databases hold the same rows, which proves that a refused
 * command changed nothing. Read in one snapshot; writes nothing. *out is a
 * new string (free()).
 */
int rd_store_dump(rd_store *st, char **out, rd_error *err);

/* ---- schema 3: the git head and full evidence rows -------------------- */

/*
 * The git commit id the index last recorded for the dispute
 * (refs/disputes/<id> at the time), into out; "" when none is recorded.
 * RD_ENOTFOUND when the dispute does not exist.
 */
int rd_store_head_get(rd_store *st, const char *dispute_id, char out[41],
		      rd_error *err);

/* Record the dispute's git head. RD_ENOTFOUND when it does not exist. */
int rd_store_head_set(rd_store *st, const char *dispute_id, const char *head,
		      rd_error *err);

/*
 * Every evidence row of a dispute ordered by n (withdrawn ones included).
 * *out is a new array (free with rd_evidence_rows_free).
 */
int rd_store_evidence_list(rd_store *st, const char *dispute_id,
			   rd_evidence_row **out, size_t *count, rd_error *err);

/* One evidence row into *out (free its strings with rd_evidence_row_clear); RD_ENOTFOUND. */
int rd_store_evidence_get(rd_store *st, const char *dispute_id, int64_t n,
			  rd_evidence_row *out, rd_error *err);

/* The next evidence number of a dispute: 1 + the highest n, or 1. */
int rd_store_evidence_next(rd_store *st, const char *dispute_id, int64_t *out,
			   rd_error *err);

/*
 * Mark an evidence row withdrawn with a reason. RD_ENOTFOUND when absent,
 * RD_ECONFLICT when already withdrawn.
 */
int rd_store_evidence_withdraw(rd_store *st, const char *dispute_id,
			       int64_t n, const char *reason, rd_error *err);

/* Free the strings of one row (not the row). */
void rd_evidence_row_clear(rd_evidence_row *row);

/* Free an array of rows. NULL is accepted. */
void rd_evidence_rows_free(rd_evidence_row *rows, size_t count);

/*
 * Rebuilding the index from git (reconcile after a crash, reindex). These
 * write whatever the snapshot says, replacing what the index held:
 * rd_store_dispute_replace replaces the dispute row and its items
 * (inserting when absent; lifecycle members and deadline included);
 * rd_store_evidence_upsert and rd_store_offer_upsert replace one row by
 * key. Events stay append-only: rd_store_events_max_seq tells which are
 * missing (0 when none).
 */
int rd_store_dispute_replace(rd_store *st, const rd_dispute *d, rd_error *err);
int rd_store_evidence_upsert(rd_store *st, const rd_evidence_row *row,
			     rd_error *err);
int rd_store_offer_upsert(rd_store *st, const rd_offer_record *offer,
			  rd_error *err);
int rd_store_events_max_seq(rd_store *st, const char *dispute_id,
			    int64_t *out, rd_error *err);

/*
 * Dispute ids of the index in id order, a page at a time: up to `max` ids
 * greater than `after` ("" to start) into a new array of new strings
 * (rd_strings_free). For full scans (verify --all, reindex checks).
 */
int rd_store_dispute_ids(rd_store *st, const char *after, size_t max,
			 char ***out, size_t *count, rd_error *err);

/* ---- schema 4: API keys ------------------------------------------------- */

/*
 * An API key as the index keeps it: never the key itself, only the SHA-256
 * of its secret part. Keys are not dispute data: they live in the index
 * only (not in git), so rebuilding the index must carry them over.
 */
typedef struct rd_api_key {
	char id[17];              /* 16 lower-case hex digits */
	char name[65];            /* 1..64 bytes of printable UTF-8 */
	rd_role role;             /* agent, auditor, storefront or admin */
	char storefront[65];      /* a storefront key's scope, else "" */
	char secret_sha256[65];   /* SHA-256 of the secret, lower-case hex */
	int64_t created_at;
	int64_t revoked_at;       /* 0 while the key is valid */
} rd_api_key;

/*
 * Insert a key (inside a transaction). The schema refuses, as RD_EINVALID,
 * a malformed id or hash, an empty or over-long name, the system role, and
 * a storefront given for any role but storefront or missing for it (the
 * service checks all of these first, with better messages). A duplicate id
 * is RD_ECONFLICT.
 */
int rd_store_key_insert(rd_store *st, const rd_api_key *key, rd_error *err);

/* The key with this id into *out; RD_ENOTFOUND when there is none. */
int rd_store_key_get(rd_store *st, const char *id, rd_api_key *out,
		     rd_error *err);

/*
 * Every key, revoked ones included, oldest first (created_at, then id).
 * *out is a new array of *count keys (free()); NULL when there are none.
 */
int rd_store_keys_list(rd_store *st, rd_api_key **out, size_t *count,
		       rd_error *err);

/*
 * Mark the key revoked at `revoked_at` (> 0; inside a transaction).
 * RD_ENOTFOUND when there is no such key, RD_ECONFLICT when it is already
 * revoked (the first revocation time is kept).
 */
int rd_store_key_revoke(rd_store *st, const char *id, int64_t revoked_at,
			rd_error *err);

/* ---- schema 5: running totals for monitoring ------------------------------ */

/* How many disputes are in one state. */
typedef struct rd_state_count {
	char state[64];
	int64_t disputes;
} rd_state_count;

/*
 * Totals of the index, kept up to date by the schema itself in the
 * transaction of every change, so reading them costs the same however many
 * disputes there are.
 */
typedef struct rd_store_stats {
	rd_state_count *states;   /* by state name; a state stays listed (0)
				   * once its disputes have all left it */
	size_t state_count;
	int64_t sla_breaches;     /* SLA deadlines fired by the sweeper */
	int64_t evidence_bytes;   /* bytes of evidence stored, withdrawn
				   * evidence included (nothing is deleted) */
	int64_t changes;          /* the last change of the record */
	int64_t mirror_position;  /* the last change the mirror holds */
} rd_store_stats;

/*
 * Read the totals, all from one snapshot. out->states is a new array
 * (rd_store_stats_clear); NULL when no dispute was ever recorded. A row
 * that does not fit (a database edited by hand) is RD_EIO.
 */
int rd_store_stats_read(rd_store *st, rd_store_stats *out, rd_error *err);

/* Free what rd_store_stats_read allocated and zero *stats. NULL is accepted. */
void rd_store_stats_clear(rd_store_stats *stats);
/* ---- schema 9: evidence quotas per storefront ----------------------------- */

/* A quota setting left to the server's default (SQL NULL). */
#define RD_QUOTA_DEFAULT (-1)

/*
 * A storefront's own quota settings, in bytes of evidence: 0 is no quota,
 * RD_QUOTA_DEFAULT leaves it to the server's default.
 */
typedef struct rd_storefront_quota {
	char storefront[65];
	int64_t daily;            /* per UTC day */
	int64_t total;            /* ever */
	int64_t updated_at;       /* 0: never set */
} rd_storefront_quota;

/* The bytes of evidence a storefront has stored, withdrawn included. */
typedef struct rd_evidence_usage {
	char storefront[65];
	int64_t total;
	int64_t today;            /* on the UTC day asked for */
} rd_evidence_usage;

/*
 * The settings of `storefront` into *out; a storefront never set has both
 * at RD_QUOTA_DEFAULT and updated_at 0 (RD_OK).
 */
int rd_store_quota_get(rd_store *st, const char *storefront,
		       rd_storefront_quota *out, rd_error *err);

/* Record a storefront's settings (inside a transaction), replacing any. */
int rd_store_quota_put(rd_store *st, const rd_storefront_quota *quota,
		       rd_error *err);

/*
 * Every storefront's settings, by storefront. *out is a new array of
 * *count (free()); NULL when there are none.
 */
int rd_store_quotas_list(rd_store *st, rd_storefront_quota **out,
			 size_t *count, rd_error *err);

/*
 * The usage of `storefront`, with `day` (Unix time / 86400) as today.
 * Reads the running totals the schema keeps: one row per day with
 * evidence, never the evidence rows.
 */
int rd_store_usage_get(rd_store *st, const char *storefront, int64_t day,
		       rd_evidence_usage *out, rd_error *err);

/*
 * The usage of at most `limit` storefronts, the largest first (ties by
 * name), with `day` as today; *others gets the sum of the rest (total and
 * today), so that nothing goes uncounted. *out is a new array (free()).
 */
int rd_store_usage_list(rd_store *st, int64_t day, size_t limit,
			rd_evidence_usage **out, size_t *count,
			rd_evidence_usage *others, rd_error *err);

/* ---- schema 6: idempotent requests --------------------------------------- */

/* What an operation done under an Idempotency-Key answered. */
typedef enum rd_idem_operation {
	RD_IDEM_OPEN,             /* a dispute opened: the dispute */
	RD_IDEM_EVENT,            /* an event applied: the dispute */
	RD_IDEM_EVIDENCE,         /* evidence added: its row */
	RD_IDEM_MESSAGE,          /* a message posted: the message */
	RD_IDEM_BULK,             /* an event on many disputes: the results
				     (no dispute: dispute_id "") */
	RD_IDEM_CLAIM             /* a claim from the queue (schema 23): the
				     dispute claimed, or none (dispute_id
				     "", response "": answered 204) */
} rd_idem_operation;

/* Longest Idempotency-Key, in bytes. */
#define RD_IDEM_KEY_MAX 255

/* A request done under an Idempotency-Key, as the index keeps it. */
typedef struct rd_idem_record {
	char key_id[64];                  /* the API key that made it */
	char key[RD_IDEM_KEY_MAX + 1];    /* the client's Idempotency-Key */
	char request_sha256[65];          /* digest of the request */
	rd_idem_operation operation;
	char dispute_id[RD_ID_BUFSZ];
	int64_t evidence_n;               /* RD_IDEM_EVIDENCE: the evidence's
					     number; RD_IDEM_MESSAGE: the
					     message's; else 0 */
	char *response;                   /* the JSON answered, heap */
	int64_t created_at;
} rd_idem_record;

/* Free what a record owns (its response); the record itself is the caller's. */
void rd_idem_record_clear(rd_idem_record *rec);

/* "open", "event", "evidence"; NULL for a value out of range. */
const char *rd_idem_operation_name(rd_idem_operation op);

/*
 * The request made under (key_id, key) into *out (clear it with
 * rd_idem_record_clear); RD_ENOTFOUND when there is none.
 */
int rd_store_idem_get(rd_store *st, const char *key_id, const char *key,
		      rd_idem_record *out, rd_error *err);

/*
 * Record a request (inside the transaction of its effect). A record for
 * the same (key_id, key) already there is RD_ECONFLICT, or is replaced when
 * `replace` is 1 (replaying commits after a crash); the schema refuses
 * a malformed digest, an empty or over-long key and an evidence number
 * given for another operation as RD_EINVALID.
 */
int rd_store_idem_insert(rd_store *st, const rd_idem_record *rec,
			 int replace, rd_error *err);

/*
 * Every record, oldest first, to `fn` (a non-zero return stops the walk and
 * is returned): for carrying them into a rebuilt index.
 */
int rd_store_idem_foreach(rd_store *st,
			  int (*fn)(const rd_idem_record *rec, void *ctx),
			  void *ctx, rd_error *err);

/* Drop the records made before `before` (inside a transaction). */
int rd_store_idem_purge(rd_store *st, int64_t before, rd_error *err);

/*
 * Claim (key_id, key) for a request in flight, for every process and node
 * on the record: while this connection holds the claim, the same claim on
 * any other connection (another thread's, another process's on the same
 * SQLite file, another node's on the same PostgreSQL database) is
 * RD_ECONFLICT, naming the field "Idempotency-Key". A claim is no row:
 * it ends with rd_store_idem_release or with the connection, so a process
 * or node that dies leaves none behind. Inside a transaction or outside
 * one; a transaction's end does not end it. A connection claims a pair at
 * most once at a time (the caller keeps its own table of what its
 * process has in flight). On PostgreSQL a session advisory lock; on
 * SQLite a lock on a byte of the file <database>-claims, created beside
 * the database (RD_EIO when it cannot be). A rare collision of two pairs'
 * 64-bit hashes only makes one of them wait for the other's answer.
 */
int rd_store_idem_claim(rd_store *st, const char *key_id, const char *key,
			rd_error *err);

/*
 * Give back a claim this connection holds; giving back one it does not
 * hold does nothing. RD_EIO when the database cannot be asked (its claims
 * then end with the connection).
 */
int rd_store_idem_release(rd_store *st, const char *key_id, const char *key,
			  rd_error *err);
/* ---- schema 7: the overview's running totals ------------------------------ */

/* What a running total of the overview counts. */
typedef enum rd_overview_what {
	RD_OVERVIEW_STATE,            /* disputes now in a state */
	RD_OVERVIEW_REASON,           /* disputes opened for a reason */
	RD_OVERVIEW_OFFER_MADE,       /* offers recorded, by type */
	RD_OVERVIEW_OFFER_ACCEPTED,   /* offers accepted, by type */
	RD_OVERVIEW_RESOLVED_WITHIN,  /* disputes that got their outcome
				       * within a bucket's bound */
	RD_OVERVIEW_SLA_BREACHES,     /* SLA deadlines fired */
	RD_OVERVIEW_WHAT_COUNT
} rd_overview_what;

/* One total: for RESOLVED_WITHIN, name is the bucket's upper bound in
 * seconds ("3600") or "inf"; for SLA_BREACHES it is "". */
typedef struct rd_overview_count {
	rd_overview_what what;
	char name[64];
	int64_t value;
} rd_overview_count;

/*
 * The upper bounds, in seconds, of the resolution buckets of schema 7 (1
 * hour to 30 days); a last bucket, "inf", holds the longer ones.
 */
#define RD_OVERVIEW_BUCKET_COUNT 10
#define RD_OVERVIEW_BUCKET_BOUNDS                                            \
	{ 3600, 14400, 43200, 86400, 172800, 259200, 432000, 604800,         \
	  1209600, 2592000 }

/* The overview's totals, of one storefront or of all of them. */
typedef struct rd_store_overview {
	rd_overview_count *counts;    /* each what's together (in the
				       * order of their names), by name */
	size_t count;
} rd_store_overview;

/*
 * Read the overview's totals, all from one snapshot, summed over every
 * storefront or of `storefront` alone (NULL: all). The triggers of schema
 * 7 keep them in the transaction of every change, so the read costs
 * O(storefronts x states, reasons and offer types), never the number of
 * disputes. out->counts is a new array (rd_store_overview_clear). A row
 * that does not fit (a database edited by hand) is RD_EIO.
 */
int rd_store_overview_read(rd_store *st, const char *storefront,
			   rd_store_overview *out, rd_error *err);

/* Free what rd_store_overview_read allocated and zero *overview. NULL is
 * accepted. */
void rd_store_overview_clear(rd_store_overview *overview);

/* ---- payables: disputes waiting for the storefront to pay --------------- */

/* Filter of rd_store_payables_list. */
typedef struct rd_payable_filter {
	const char *states[2];    /* the states in which money is owed (NULL
				   * entries match nothing); named by the
				   * caller, since the store does not decide */
	const char *storefront;   /* only this storefront's, or NULL for all */
	const char *cursor;       /* from a previous page's next_cursor, or NULL */
	size_t limit;             /* page size, 1..500 (0 means 50) */
} rd_payable_filter;

/* One dispute awaiting payment, with the offer that says how much. */
typedef struct rd_payable_row {
	char dispute_id[RD_ID_BUFSZ];
	char order_ref[RD_DISPUTE_MAX_REF + 1];
	char storefront[65];
	char state[64];
	char currency[4];
	int64_t version;
	int64_t due_at;           /* the SLA deadline of the dispute's current
				   * state, 0 when it has none */
	int has_offer;            /* 1: an accepted offer is recorded */
	char offer_id[48];        /* the latest accepted offer, "" when none */
	rd_offer_type offer_type;
	int64_t buyer_refund;     /* what that offer pays the buyer */
} rd_payable_row;

/*
 * One page of the disputes in filter->states, oldest deadline first
 * (due_at, then id; disputes without a deadline last), each with its latest
 * accepted offer, by keyset. The walk reads every dispute in those states
 * (through the state index), never the others: its cost is O(log n + the
 * disputes awaiting payment), which their SLA keeps small. *out is a new
 * array of *count rows (free()); *next_cursor is a new string (free())
 * when more pages follow, else NULL. A malformed cursor is RD_EINVALID,
 * field "cursor"; a limit above 500 is RD_EINVALID, field "limit".
 */
int rd_store_payables_list(rd_store *st, const rd_payable_filter *filter,
			   rd_payable_row **out, size_t *count,
			   char **next_cursor, rd_error *err);

/* ---- the outbox of events, and webhooks (schema 18) ---------------------- */

#define RD_OUTBOX_ID_BUFSZ 31        /* "evt_" and a ULID */
#define RD_WEBHOOK_ID_BUFSZ 30       /* "we_" or "wd_" and a ULID */
#define RD_OUTBOX_CURSOR_BUFSZ 48
#define RD_WEBHOOK_EVENTS_MAX 1024
#define RD_WEBHOOK_DESCRIPTION_MAX 512
/* RD_WEBHOOK_URL_MAX, _SECRET_BUFSZ, _ANSWER_MAX: webhook_sizes.h */

/*
 * One event for storefronts, as the outbox keeps it. payload is the whole
 * body a webhook sends ({"type", "timestamp", "data"}); cursor, filled by
 * reads, is the feed's position just after this event.
 */
typedef struct rd_outbox_event {
	char id[RD_OUTBOX_ID_BUFSZ];
	char dispute_id[RD_ID_BUFSZ];
	char storefront[65];
	int64_t version;
	char type[32];
	int64_t created_at;
	char *payload;
	char cursor[RD_OUTBOX_CURSOR_BUFSZ];
} rd_outbox_event;

/*
 * Write ev into the outbox, inside the open write transaction of the
 * change that causes it (its payload borrowed).
 */
int rd_store_outbox_add(rd_store *st, const rd_outbox_event *ev,
			rd_error *err);

/*
 * Walk a comma-separated list of event types ("a,b,c"), as the feed's
 * `types` and an endpoint's `events` hold them: each call sets *type and
 * *len to the next item (not NUL-terminated; empty between two commas or
 * before a leading one), moves *rest past it and its comma, and returns 1;
 * at the end of the list it returns 0. "" has no item, and "a," has one:
 * (*type)[*len] is ',' and **rest '\0' when the list ends with a comma.
 *
 *	const char *rest = list, *type;
 *	size_t len;
 *	while (rd_event_types_next(&rest, &type, &len)) ...
 */
static inline int rd_event_types_next(const char **rest, const char **type,
				      size_t *len)
{
	const char *p = *rest;

	if (!*p)
		return 0;
	*type = p;
	while (*p && *p != ',')
		p++;
	*len = (size_t)(p - *type);
	*rest = *p ? p + 1 : p;
	return 1;
}

/*
 * The events after `after` (NULL or "": from the oldest kept) in commit
 * order, at most `limit` (1..500), only storefront's when it is not NULL,
 * only those of the types in `types` (comma-separated, NULL: all). *out
 * is a new array of *count events (rd_outbox_events_free); next_cursor is
 * the position after the last one read, or `after` itself (the end when
 * NULL) when none follows. A malformed cursor is RD_EINVALID, field
 * "after".
 */
int rd_store_outbox_after(rd_store *st, const char *after,
			  const char *storefront, const char *types,
			  size_t limit, rd_outbox_event **out, size_t *count,
			  char next_cursor[RD_OUTBOX_CURSOR_BUFSZ],
			  rd_error *err);
void rd_outbox_events_free(rd_outbox_event *events, size_t count);

/* The feed's position after every event committed so far. */
int rd_store_outbox_end(rd_store *st, char cursor[RD_OUTBOX_CURSOR_BUFSZ],
			rd_error *err);

/*
 * Remove (in the open write transaction) the events created before
 * `events_before` and the deliveries finished before `deliveries_before`
 * (each by the clock it was written with); *removed counts the events.
 */
int rd_store_outbox_purge(rd_store *st, int64_t events_before,
			  int64_t deliveries_before, size_t *removed,
			  rd_error *err);

/* A storefront's receiver of events. */
typedef struct rd_webhook_endpoint {
	char id[RD_WEBHOOK_ID_BUFSZ];
	char url[RD_WEBHOOK_URL_MAX + 1];
	char events[RD_WEBHOOK_EVENTS_MAX + 1];  /* "*" or types, comma-separated */
	char description[RD_WEBHOOK_DESCRIPTION_MAX + 1];
	char storefront[65];                     /* "": every storefront's */
	int enabled;
	char disabled_reason[256];               /* "" while enabled */
	char secret[RD_WEBHOOK_SECRET_BUFSZ];
	char previous_secret[RD_WEBHOOK_SECRET_BUFSZ]; /* "" when none */
	int64_t previous_expires_at;             /* 0 when none */
	int64_t created_at;
	int64_t updated_at;
	int64_t failing_since;                   /* 0: not failing */
} rd_webhook_endpoint;

/* The Idempotency-Key of the request that made an endpoint. */
typedef struct rd_webhook_idem {
	const char *key_id;          /* the API key that sent it */
	const char *key;             /* the client's Idempotency-Key */
	const char *request_sha256;  /* digest of the request */
} rd_webhook_idem;

/*
 * Record a new endpoint (open write transaction); it receives the events
 * committed from now on (its position is the outbox's end). idem, when
 * not NULL, is kept with it: a second endpoint under the same key and
 * API key is RD_ECONFLICT.
 */
int rd_store_webhook_insert(rd_store *st, const rd_webhook_endpoint *ep,
			    const rd_webhook_idem *idem, rd_error *err);

/*
 * The endpoint made under (key_id, key) since `since` (its created_at):
 * RD_OK with *found and out and the request's digest (65 bytes), or
 * *found = 0. In the open write transaction, a key older than `since` is
 * freed first, for a new request to take.
 */
int rd_store_webhook_by_idem(rd_store *st, const char *key_id,
			     const char *key, int64_t since,
			     rd_webhook_endpoint *out, char digest[65],
			     int *found, rd_error *err);
/* RD_ENOTFOUND "no webhook endpoint ID" when there is none. */
int rd_store_webhook_get(rd_store *st, const char *id,
			 rd_webhook_endpoint *out, rd_error *err);
/*
 * The endpoints, oldest first: storefront's (and none of every
 * storefront's) when storefront is not NULL, else all. *out is new
 * (free()).
 */
int rd_store_webhooks_list(rd_store *st, const char *storefront,
			   rd_webhook_endpoint **out, size_t *count,
			   rd_error *err);
/*
 * Write what may change of an endpoint (url, events, description,
 * enabled, disabled_reason, the secrets, updated_at, failing_since) in
 * the open write transaction; RD_ENOTFOUND when it is gone.
 */
int rd_store_webhook_update(rd_store *st, const rd_webhook_endpoint *ep,
			    rd_error *err);
/* Remove an endpoint and its deliveries (open write transaction). */
int rd_store_webhook_delete(rd_store *st, const char *id, rd_error *err);

/*
 * The fan-out (open write transaction): for each enabled endpoint not
 * being fanned out by another transaction, a pending delivery due at
 * `now` for each event after its position that it takes (its storefront's,
 * of its types), at most `limit` events per endpoint, and its position
 * moved past them. *made counts the deliveries made.
 */
int rd_store_webhook_fanout(rd_store *st, int64_t now, size_t limit,
			    size_t *made, rd_error *err);

/* A delivery a worker has leased, with what sending it needs. */
typedef struct rd_webhook_job {
	int64_t n;
	char id[RD_WEBHOOK_ID_BUFSZ];
	char event_id[RD_OUTBOX_ID_BUFSZ];
	char endpoint_id[RD_WEBHOOK_ID_BUFSZ];
	char url[RD_WEBHOOK_URL_MAX + 1];
	char secret[RD_WEBHOOK_SECRET_BUFSZ];
	char previous_secret[RD_WEBHOOK_SECRET_BUFSZ]; /* "" when none or expired */
	int64_t tries;            /* failed tries so far on the schedule */
	int64_t attempts;         /* attempts so far, manual retries too */
	char *payload;            /* NULL when the event is no longer kept */
} rd_webhook_job;

/*
 * Lease up to `limit` deliveries due at `now` (open write transaction):
 * pending, their time come, not leased (or the lease run out), of an
 * enabled endpoint, and with no earlier pending delivery of the same
 * endpoint and dispute. They are leased to `lease` (a token unique to the
 * caller) until now + lease_s. *out is new (rd_webhook_jobs_free).
 */
int rd_store_webhook_claim(rd_store *st, int64_t now, int64_t lease_s,
			   const char *lease, size_t limit,
			   rd_webhook_job **out, size_t *count, rd_error *err);
void rd_webhook_jobs_free(rd_webhook_job *jobs, size_t count);

/* One try of a delivery, as the log shows it. */
typedef struct rd_webhook_attempt {
	int64_t n;
	int64_t at;
	long status_code;          /* 0: no answer */
	int64_t latency_ms;
	char answer[RD_WEBHOOK_ANSWER_MAX + 1];
	char error[256];           /* "" on an answer */
	int64_t next_at;           /* 0: no further try */
} rd_webhook_attempt;

/*
 * Record the attempt of a leased delivery and its outcome (open write
 * transaction): `status` "pending" (tried again at next_at, tries + 1),
 * "delivered" or "failed"; the lease ends. *kept is 0, and nothing is
 * written, when the lease is no longer `lease`'s (it ran out and another
 * worker took the delivery).
 */
int rd_store_webhook_attempt_add(rd_store *st, int64_t delivery_n,
				 const char *lease,
				 const rd_webhook_attempt *attempt,
				 const char *status, int *kept, rd_error *err);

/*
 * An endpoint's run of failures (open write transaction): ok ends it;
 * a failure starts it at `now` unless one runs. *since is when the run
 * began (0 when ok).
 */
int rd_store_webhook_failing(rd_store *st, const char *endpoint_id, int ok,
			     int64_t now, int64_t *since, rd_error *err);

/* A delivery and the log of its attempts. */
typedef struct rd_webhook_delivery {
	int64_t n;
	char id[RD_WEBHOOK_ID_BUFSZ];
	char event_id[RD_OUTBOX_ID_BUFSZ];
	char event_type[32];
	char dispute_id[RD_ID_BUFSZ];
	int64_t version;
	char status[16];
	int64_t attempt_count;
	int64_t next_at;           /* 0 when not pending */
	int64_t created_at;
	int64_t finished_at;
	rd_webhook_attempt *attempts;  /* newest first, at most 20 */
	size_t attempts_count;
} rd_webhook_delivery;

/*
 * An endpoint's deliveries, newest first, by keyset (cursor from the
 * previous page; "" or NULL for the first), at most `limit` (1..100);
 * *next_cursor "" when no page follows. Free with
 * rd_webhook_deliveries_free.
 */
int rd_store_webhook_deliveries(rd_store *st, const char *endpoint_id,
				const char *cursor, size_t limit,
				rd_webhook_delivery **out, size_t *count,
				char next_cursor[RD_OUTBOX_CURSOR_BUFSZ],
				rd_error *err);
void rd_webhook_deliveries_free(rd_webhook_delivery *list, size_t count);

/* One delivery of the endpoint; RD_ENOTFOUND when there is none. */
int rd_store_webhook_delivery_get(rd_store *st, const char *endpoint_id,
				  const char *delivery_id,
				  rd_webhook_delivery *out, rd_error *err);

/*
 * Make a delivery pending again, due at `now`, its schedule from the
 * start (open write transaction): the redelivery an operator asks for.
 */
int rd_store_webhook_retry(rd_store *st, const char *endpoint_id,
			   const char *delivery_id, int64_t now, rd_error *err);

/*
 * Whether a worker's round has anything to do, read without a write
 * transaction: *endpoints 1 when an endpoint is enabled (events to fan
 * out), *next_due the time the first pending delivery is due (0: none).
 */
int rd_store_webhook_work(rd_store *st, int *endpoints, int64_t *next_due,
			  rd_error *err);

/*
 * What /metrics shows: deliveries pending, and the creation time of the
 * oldest event a pending delivery still waits to deliver (0 when none).
 */
int rd_store_webhook_backlog(rd_store *st, int64_t *pending,
			     int64_t *oldest_created_at, rd_error *err);

/* ---- ownership (schema 21) ---- */

/*
 * Whether a live (unrevoked) key of `role` is named `name`: *found 1 and
 * its id into `id` (NULL allowed) when one is, else 0.
 */
int rd_store_key_name_live(rd_store *st, rd_role role, const char *name,
			   char id[17], int *found, rd_error *err);

/*
 * Inside a write transaction: the most urgent open unassigned dispute
 * (soonest SLA due time, none last, then the oldest) into `id` with
 * *found 1, else *found 0, walking the deadlines in due order then the
 * unassigned disputes in age order: its cost is the assigned disputes it
 * passes over, not the number unassigned. On PostgreSQL its head is
 * locked until the transaction ends and a dispute another transaction
 * holds is passed over; the caller reads the dispute again and checks it
 * is still unassigned (it may have been assigned just before the lock was
 * taken).
 */
int rd_store_claim_next(rd_store *st, char id[RD_ID_BUFSZ], int *found,
			rd_error *err);

/* One agent's load: its open disputes, those overdue, those awaiting a reply. */
typedef struct rd_agent_load {
	char name[65];
	int64_t open;
	int64_t overdue;          /* SLA deadline before now */
	int64_t awaiting_reply;   /* a reply clock runs */
} rd_agent_load;

/*
 * One rd_agent_load per distinct name of a live agent key, by name;
 * *out is new (free()), NULL when *count is 0.
 */
int rd_store_agents(rd_store *st, int64_t now, rd_agent_load **out,
		    size_t *count, rd_error *err);

/* ---- schema 20: a buyer's disputes ----------------------------------------- */

/*
 * One page of storefront's disputes of buyer_ref, newest first (created_at,
 * then id, descending), by keyset on the cursor list pages use (limit 1 to
 * 500, 0 means 50; a malformed cursor is RD_EINVALID, field "cursor").
 * *out, *count and *next_cursor as rd_store_dispute_list's.
 */
int rd_store_buyer_disputes(rd_store *st, const char *storefront,
			    const char *buyer_ref, size_t limit,
			    const char *cursor, rd_dispute ***out,
			    size_t *count, char **next_cursor, rd_error *err);

/* One dispute of a buyer's history (rd_store_buyer_history). */
typedef struct rd_buyer_dispute {
	char reason[32];
	char outcome[32];          /* "" while open */
	char currency[4];
	int64_t created_at;
	int64_t refund;            /* its last accepted offer's buyer_refund,
				      or -1 when none was accepted */
} rd_buyer_dispute;

/*
 * storefront's disputes of buyer_ref but `except` (an id, or "") opened
 * from `from` to `to` (inclusive), newest first and `most` of them at most
 * (INT64_MAX: all), to fn one by one (a non-zero return stops the walk and
 * is returned). A range of the index disputes_buyer, walked backwards.
 */
int rd_store_buyer_history(rd_store *st, const char *storefront,
			   const char *buyer_ref, const char *except,
			   int64_t from, int64_t to, int64_t most,
			   int (*fn)(const rd_buyer_dispute *d, void *ctx),
			   void *ctx, rd_error *err);

#endif
