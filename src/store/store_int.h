/*
 * Private interface of the store: the connection structure, the table of
 * prepared statements and the helpers shared by the store's source files.
 *
 * Only the store module (and its tests) may include this header, because it
 * brings in sqlite3.h and the database driver (db.h); nothing outside
 * src/store/ may ever speak SQL. No
 * helper here builds SQL text at run time: every statement is a constant of
 * statements.c, prepared once per connection.
 */
#ifndef REDRESS_STORE_INT_H
#define REDRESS_STORE_INT_H

#include <stdint.h>

#include <sqlite3.h>

#include "redress/error.h"
#include "redress/store.h"
#include "store/db.h"

/* Every statement the store runs, indexes into rd_store.stmts. */
typedef enum rd_stmt_id {
	RD_STMT_BEGIN,
	RD_STMT_BEGIN_READ,
	RD_STMT_COMMIT,
	RD_STMT_ROLLBACK,
	RD_STMT_USER_VERSION,
	RD_STMT_SAVEPOINT,
	RD_STMT_RELEASE,
	RD_STMT_ROLLBACK_TO,

	RD_STMT_WORKFLOW_PUT,
	RD_STMT_WORKFLOW_SOURCE,

	RD_STMT_DISPUTE_INSERT,
	RD_STMT_ITEM_INSERT,
	RD_STMT_DISPUTE_GET,
	RD_STMT_ITEMS_OF,
	RD_STMT_DISPUTE_UPDATE,
	RD_STMT_DISPUTE_EXISTS,
	RD_STMT_DISPUTE_OPEN_DUPLICATE,
	RD_STMT_OPEN_ORDER_LOCK,
	RD_STMT_DISPUTE_UPSERT,
	RD_STMT_ITEMS_DELETE,
	RD_STMT_DISPUTE_IDS,
	RD_STMT_HEAD_GET,
	RD_STMT_HEAD_SET,

	/* rd_store_dispute_list: one statement per driving index */
	RD_STMT_LIST_ALL,
	RD_STMT_LIST_BY_ASSIGNEE,
	RD_STMT_LIST_BY_STOREFRONT,
	RD_STMT_LIST_BY_STATE,
	RD_STMT_LIST_BY_REASON,
	RD_STMT_LIST_OVERDUE,

	/* rd_store_payables_list */
	RD_STMT_PAYABLES,

	RD_STMT_EVENT_APPEND,
	RD_STMT_EVENTS_OF,
	RD_STMT_EVENTS_MAX_SEQ,

	RD_STMT_DEADLINE_PUT,
	RD_STMT_DEADLINE_CLEAR,
	RD_STMT_DEADLINES_DUE,
	RD_STMT_DEADLINE_CLAIM,

	RD_STMT_EVIDENCE_INSERT,
	RD_STMT_EVIDENCE_KINDS,
	RD_STMT_EVIDENCE_UPSERT,
	RD_STMT_EVIDENCE_OF,
	RD_STMT_EVIDENCE_GET,
	RD_STMT_EVIDENCE_NEXT,
	RD_STMT_EVIDENCE_WITHDRAW,
	RD_STMT_EVIDENCE_WITHDRAWN,

	RD_STMT_OFFER_INSERT,
	RD_STMT_OFFER_PENDING,
	RD_STMT_OFFER_ACCEPTED,
	RD_STMT_OFFER_DECIDE,
	RD_STMT_OFFERS_OF,
	RD_STMT_OFFER_UPSERT,

	RD_STMT_KEY_INSERT,
	RD_STMT_KEY_GET,
	RD_STMT_KEYS_LIST,
	RD_STMT_KEY_REVOKE,

	RD_STMT_STATS,
	RD_STMT_OVERVIEW,
	RD_STMT_IDEM_GET,
	RD_STMT_IDEM_INSERT,
	RD_STMT_IDEM_REPLACE,
	RD_STMT_IDEM_ALL,
	RD_STMT_IDEM_PURGE,
	RD_STMT_IDEM_CLAIM,
	RD_STMT_IDEM_RELEASE,
	RD_STMT_QUOTA_GET,
	RD_STMT_QUOTA_PUT,
	RD_STMT_QUOTAS_LIST,
	RD_STMT_USAGE_GET,
	RD_STMT_USAGE_LIST,

	/* the record (record.c) */
	RD_STMT_OBJECT_PUT,
	RD_STMT_OBJECTS_PUT,
	RD_STMT_OBJECT_GET,
	RD_STMT_OBJECTS_GET,
	RD_STMT_OBJECT_HEADER,
	RD_STMT_OBJECTS_IN_FILES,
	RD_STMT_OBJECTS_OF_CHANGES,
	RD_STMT_REF_GET,
	RD_STMT_REF_GET_LOCKED,
	RD_STMT_REF_CREATE,
	RD_STMT_REF_MOVE,
	RD_STMT_REFS_AFTER,
	RD_STMT_CHANGE_INSERT,
	RD_STMT_CHANGES_AFTER,
	RD_STMT_CHANGES_LAST,
	RD_STMT_DISPUTE_LAST_CHANGE,
	RD_STMT_MIRROR_GET,
	RD_STMT_MIRROR_OWNER_GET,
	RD_STMT_MIRROR_OWNER_SET,
	RD_STMT_MIRROR_LEAD,
	RD_STMT_MIRROR_SAVE,
	RD_STMT_MIRROR_SAVE_PACKS,
	RD_STMT_MIRROR_SAVED_FORGET,
	RD_STMT_MIRROR_SAVED_POSITION,
	RD_STMT_MIRROR_RESTORE_PACKS,
	RD_STMT_COMMIT_NUMBER,
	RD_STMT_MIRROR_SET,
	RD_STMT_MIRROR_PACK_ADD,
	RD_STMT_MIRROR_PACK_REMOVE,
	RD_STMT_MIRROR_PACKS,
	RD_STMT_MIRROR_PACK_SUPERSEDE,
	RD_STMT_MIRROR_PACKS_SUPERSEDED,
	RD_STMT_RECORD_STATE_GET,
	RD_STMT_RECORD_STATE_SET,

	/* rd_store_dump: one per table, in dump order */
	RD_STMT_DUMP_WORKFLOWS,
	RD_STMT_DUMP_DISPUTES,
	RD_STMT_DUMP_ITEMS,
	RD_STMT_DUMP_EVENTS,
	RD_STMT_DUMP_DEADLINES,
	RD_STMT_DUMP_EVIDENCE,
	RD_STMT_DUMP_OFFERS,
	RD_STMT_DUMP_API_KEYS,
	RD_STMT_DUMP_IDEMPOTENCY,
	RD_STMT_DUMP_QUOTAS,
	RD_STMT_DUMP_USAGE,

	/* evidence files in the database, PostgreSQL only (files.c) */
	RD_STMT_FILE_UPLOAD_NEW,
	RD_STMT_FILE_UPLOAD_DROP,
	RD_STMT_FILE_UPLOADS_ABANDONED,
	RD_STMT_FILE_UPLOAD_LOCK,
	RD_STMT_FILE_CHUNK_PUT,
	RD_STMT_FILE_CHUNK_GET,
	RD_STMT_FILE_PUT,
	RD_STMT_FILE_RENEW,
	RD_STMT_FILE_GET,
	RD_STMT_FILE_STAT,
	RD_STMT_FILE_LOCK_OLD,
	RD_STMT_FILE_DELETE,
	RD_STMT_FILES_PAGE,
	/* the outbox and the webhooks (webhooks.c) */
	RD_STMT_OUTBOX_ADD,
	RD_STMT_OUTBOX_AFTER,
	RD_STMT_OUTBOX_SCAN,
	RD_STMT_OUTBOX_END,
	RD_STMT_OUTBOX_PURGE,
	RD_STMT_DELIVERIES_PURGE,
	RD_STMT_WEBHOOK_INSERT,
	RD_STMT_WEBHOOK_BY_IDEM,
	RD_STMT_WEBHOOK_IDEM_EXPIRE,
	RD_STMT_WEBHOOK_GET,
	RD_STMT_WEBHOOKS_LIST,
	RD_STMT_WEBHOOK_UPDATE,
	RD_STMT_WEBHOOK_DELETE,
	RD_STMT_WEBHOOK_FANOUT_LOCK,
	RD_STMT_WEBHOOK_POSITION_SET,
	RD_STMT_DELIVERY_INSERT,
	RD_STMT_DELIVERIES_CLAIM,
	RD_STMT_DELIVERY_JOBS,
	RD_STMT_DELIVERY_FINISH,
	RD_STMT_ATTEMPT_INSERT,
	RD_STMT_WEBHOOK_FAILING,
	RD_STMT_DELIVERIES_OF,
	RD_STMT_DELIVERY_GET,
	RD_STMT_ATTEMPTS_OF,
	RD_STMT_DELIVERY_RETRY,
	RD_STMT_WEBHOOK_WORK,
	RD_STMT_WEBHOOK_BACKLOG,

	/* messages and reply clocks (messages.c, schema 19) */
	RD_STMT_MESSAGE_INSERT,
	RD_STMT_MESSAGE_REBUILD,
	RD_STMT_MESSAGES_OF,
	RD_STMT_MESSAGE_NEXT,
	RD_STMT_MESSAGE_ANSWERED,
	RD_STMT_REPLY_PUT,
	RD_STMT_REPLY_CLEAR,
	RD_STMT_REPLY_GET,
	RD_STMT_REPLIES_DUE,
	RD_STMT_REPLY_CLAIM,
	RD_STMT_LIST_AWAITING_REPLY,
	RD_STMT_DUMP_MESSAGES,
	RD_STMT_DUMP_REPLIES,
	RD_STMT_KEY_NAME_LIVE,
	RD_STMT_CLAIM_NEXT,
	RD_STMT_CLAIM_UNDATED,
	RD_STMT_AGENTS,

	/* rd_store_dispute_list's variants of schema 20 (search) */
	RD_STMT_LIST_BY_ORDER_REF,
	RD_STMT_LIST_BY_BUYER,
	RD_STMT_LIST_BY_BUYER_REF,
	RD_STMT_LIST_BY_SKU,
	RD_STMT_LIST_UPDATED,
	RD_STMT_LIST_SEARCH,

	/* a buyer's disputes and history (buyers.c, schema 20) */
	RD_STMT_BUYER_LIST,
	RD_STMT_BUYER_HISTORY,

	RD_STMT_COUNT
} rd_stmt_id;

/*
 * The result columns of every statement that reads whole disputes (get and
 * the list variants): the disputes row "d" and its deadline "dl" (LEFT
 * JOIN, so NULL when none). RD_COL_* are their positions.
 */
#define RD_STORE_DISPUTE_COLUMNS                                             \
	"d.id, d.order_ref, d.storefront, d.buyer_ref, d.currency, "         \
	"d.reason, d.channel, d.locale, d.description, d.shipping_paid, "    \
	"d.ship_cost, d.return_cost, d.workflow_name, d.workflow_version, "  \
	"d.workflow_hash, d.state, d.outcome, d.assignee, d.version, "       \
	"d.created_at, d.updated_at, dl.due_at, dl.event"

enum {
	RD_COL_ID,
	RD_COL_ORDER_REF,
	RD_COL_STOREFRONT,
	RD_COL_BUYER_REF,
	RD_COL_CURRENCY,
	RD_COL_REASON,
	RD_COL_CHANNEL,
	RD_COL_LOCALE,
	RD_COL_DESCRIPTION,
	RD_COL_SHIPPING_PAID,
	RD_COL_SHIP_COST,
	RD_COL_RETURN_COST,
	RD_COL_WORKFLOW_NAME,
	RD_COL_WORKFLOW_VERSION,
	RD_COL_WORKFLOW_HASH,
	RD_COL_STATE,
	RD_COL_OUTCOME,
	RD_COL_ASSIGNEE,
	RD_COL_VERSION,
	RD_COL_CREATED_AT,
	RD_COL_UPDATED_AT,
	RD_COL_DUE_AT,
	RD_COL_DEADLINE_EVENT,
	RD_COL_SEARCH_RANK     /* RD_STMT_LIST_SEARCH only */
};

/*
 * PostgreSQL: an object the open transaction stored (record.c). Its row is
 * sent with the others' in one statement when the transaction commits;
 * data is the store's copy of its bytes (NULL when empty, or a file).
 */
typedef struct rd_store_txobj {
	unsigned char id[RD_OID_RAWSZ];
	int type;
	int in_file;
	int64_t size;
	unsigned char *data;
} rd_store_txobj;

/* One connection. */
struct rd_store {
	rd_db *db;
	char *path;              /* for messages: a URI's password hidden */
	int schema;              /* the schema version after open */
	int busy_timeout_ms;
	int holds_writer;        /* this connection holds the writer lock */
	int batch;               /* a batch is open: transactions are savepoints */
	unsigned long batch_session; /* rd_db_session when the batch began */
	int write_tx;            /* rd_store_begin's transaction is open */
	int tx_changes;          /* the transaction recorded a change */
	int mirror_lead;         /* holds the record's mirror lead (PG) */
	unsigned long lead_session; /* ... on this session of the server */
	int claims_fd;           /* SQLite: <path>-claims, -1 until used */
	/* PostgreSQL: the objects of the open transaction (record.c) */
	rd_store_txobj *txobj;
	size_t txobj_count, txobj_room;
	size_t txobj_sent;       /* those before it are in the table */
	size_t txobj_mark;       /* the count when the change's savepoint began */
	rd_db_stmt *stmts[RD_STMT_COUNT];
};

/* --- statements.c ------------------------------------------------------- */

/*
 * The SQL of statement `id` and the schema version it needs (its tables
 * exist from that migration on). NULL for an id out of range.
 */
const char *rd_store__stmt_sql(int id, int *min_schema);

/*
 * The text of statement `id` for the engine of a connection: its
 * PostgreSQL text where it has one, else the text above (the same on both
 * engines). NULL for an id out of range, and for a statement of the
 * other engine only (evidence files in the database are PostgreSQL's).
 */
const char *rd_store__stmt_sql_for(int id, rd_db_engine engine,
				   int *min_schema);

/* --- schema.c ------------------------------------------------------------ */

/* Number of migration scripts, i.e. the newest schema this build knows. */
int rd_store__migration_count(void);

/*
 * The schema version of an embedded database (PRAGMA user_version), read
 * with a statement of its own: nothing is prepared yet when it is asked.
 */
int rd_store__user_version(rd_store *st, int *out, rd_error *err);

/*
 * Bring the database to schema `target` (at most rd_store__migration_count())
 * in one BEGIN IMMEDIATE transaction; refuse a database newer than this
 * build. Sets st->schema to the version found or reached. On PostgreSQL it
 * is rd_store__migrate_pg.
 */
int rd_store__migrate(rd_store *st, int target, rd_error *err);

/* --- schema_pg.c --------------------------------------------------------- */

/*
 * rd_store__migrate on PostgreSQL: schema `target` (13, the first
 * PostgreSQL schema, to the newest; RD_EINVALID below 13) in one
 * transaction under an advisory lock, so that nodes opening at once apply
 * it once; a database newer than this build is refused. Sets st->schema.
 */
int rd_store__migrate_pg(rd_store *st, int target, rd_error *err);

/*
 * RD_EINVALID: the database at st was written by a newer redress (schema
 * `found`, this build knowing up to `newest`). Both engines' migrations.
 */
int rd_store__refuse_newer(rd_store *st, int found, int newest,
			   rd_error *err);

/*
 * rd_db_exec of a constant script; a failure's message starts with
 * `doing` and ends with the engine's own reason (which names the failing
 * statement), busy being RD_EBUSY's usual message.
 */
int rd_store__exec_script(rd_store *st, const char *sql, const char *doing,
			  rd_error *err);

/* --- store.c ------------------------------------------------------------- */

/*
 * The prepared statement `id`, ready to bind (RD_EINTERNAL when the
 * connection's schema predates it). Hand it back with rd_store__release.
 */
int rd_store__stmt(rd_store *st, int id, rd_db_stmt **out, rd_error *err);

/*
 * Step stmt unless binding failed: `bind_rc` is the bitwise OR of the
 * rd_db_bind_* results (RD_DB_OK is 0). A failed bind yields bind_rc
 * itself, already a failure code, for rd_store__fail to report.
 */
int rd_store__step(rd_store *st, rd_db_stmt *stmt, int bind_rc);

/* Reset and clear a statement after use. NULL is accepted. */
void rd_store__release(rd_db_stmt *stmt);

/*
 * Turn a failed rd_db_code `rc` into an rd_code and a message "<what was
 * being done>: <reason>": RD_DB_EBUSY -> RD_EBUSY, a primary-key or unique
 * violation -> RD_ECONFLICT, a foreign-key violation (the referenced row is
 * missing) -> RD_ENOTFOUND, CHECK / NOT NULL / trigger violations ->
 * RD_EINVALID, out of memory -> RD_ENOMEM, a lost connection (the server
 * gone, or not reachable again yet) -> RD_EUNAVAILABLE, anything else ->
 * RD_EIO. Call it before resetting the statement, so rd_db_errmsg
 * still holds the reason.
 */
int rd_store__fail(rd_store *st, int rc, rd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* RD_EINTERNAL unless a write transaction is open on st. */
int rd_store__require_tx(rd_store *st, const char *what, rd_error *err);

/* Binding: NULL strings and RD_AMOUNT_UNSET amounts bind as SQL NULL. */
int rd_store__bind_text(rd_db_stmt *stmt, int i, const char *value);
int rd_store__bind_amount(rd_db_stmt *stmt, int i, int64_t amount);
/* A time or counter where 0 means "none": 0 binds as SQL NULL. */
int rd_store__bind_optional(rd_db_stmt *stmt, int i, int64_t value);

/* Reading: SQL NULL reads as NULL, RD_AMOUNT_UNSET, or 0 respectively. */
int rd_store__column_strdup(rd_db_stmt *stmt, int i, char **out,
			    rd_error *err);
int64_t rd_store__column_amount(rd_db_stmt *stmt, int i);
int64_t rd_store__column_optional(rd_db_stmt *stmt, int i);

/*
 * Copy a text column into a fixed buffer; RD_EIO when the stored value does
 * not fit (a database edited by hand), naming the column.
 */
int rd_store__column_copy(rd_db_stmt *stmt, int i, char *buf,
			  size_t size, rd_error *err);

/*
 * Make room for one more element in a list being read row by row: when
 * `count` has reached *room, the array whose address is `array_at` (a
 * `T **`) is doubled (8 elements at first) and *room follows. The array
 * is left as it was on RD_ENOMEM, so the caller's cleanup still frees it.
 */
int rd_store__grow(void *array_at, size_t count, size_t *room,
		   size_t element_size, rd_error *err);

/*
 * 1 when `oid` is a git object id as the index stores it: 40 lowercase hex
 * digits (the schema checks the same).
 */
int rd_store__is_oid(const char *oid);

/* --- record.c ----------------------------------------------------------- */

/*
 * PostgreSQL: send the rows of the objects the open transaction stored and
 * has not sent yet, in as few statements as their bytes allow.
 */
int rd_store__objects_flush(rd_store *st, rd_error *err);

/* Forget the open transaction's objects past the first `keep` (rolled back). */
void rd_store__objects_forget(rd_store *st, size_t keep);

/* --- list.c ------------------------------------------------------------- */

/* Room for a keyset cursor, with its NUL. */
#define RD_STORE_CURSOR_BUFSZ 80

/*
 * A keyset cursor: base64url of "<key>.<id>", opaque to clients (key is a
 * time or a sort key, id a dispute id). Decoding is strict: a cursor must
 * be exactly what encoding that key would give, else RD_EINVALID with
 * field "cursor".
 */
void rd_store__cursor_encode(char out[RD_STORE_CURSOR_BUFSZ], int64_t key,
			     const char *id);
int rd_store__cursor_decode(const char *cursor, int64_t *key,
			    char id[RD_ID_BUFSZ], rd_error *err);

/* --- disputes.c ---------------------------------------------------------- */

/*
 * Build a dispute from the current row of a statement whose result columns
 * are RD_STORE_DISPUTE_COLUMNS (see statements.c), with its items.
 */
int rd_store__dispute_from_row(rd_store *st, rd_db_stmt *stmt,
			       rd_dispute **out, rd_error *err);

/*
 * Read the dispute's reply clock into d (nothing on a record older than
 * schema 19, or when it has none). messages.c.
 */
int rd_store__reply_fill(rd_store *st, rd_dispute *d, rd_error *err);

/* --- test hooks ---------------------------------------------------------- */

/*
 * Open like rd_store_open but migrate only up to `version` (0 .. the newest
 * schema), so that tests can build a database as an older redress left it.
 * Statements whose tables do not exist yet are not prepared. PostgreSQL
 * records start at schema 13: a version below is RD_EINVALID there.
 */
int rd_store_open_at_version(rd_store **out, const char *path, int version,
			     rd_error *err);

/*
 * The raw SQLite connection (borrowed), for tests that must bypass the
 * store; NULL on PostgreSQL.
 */
sqlite3 *rd_store_db(rd_store *st);

/*
 * Change how long a writer waits for the lock (RD_EBUSY afterwards): on
 * PostgreSQL the session's lock_timeout, kept for the connections made
 * after a lost one. Outside a transaction.
 */
void rd_store_set_busy_timeout(rd_store *st, int ms);

#endif
