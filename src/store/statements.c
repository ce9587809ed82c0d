/*
 * Every SQL statement the store runs, in one table, each prepared once per
 * connection at open and finalized at close.
 *
 * Each entry has SQLite's text and, beside it, PostgreSQL's where the two
 * differ (NULL where SQLite's text is PostgreSQL's too): parameters are
 * `$N` there, INDEXED BY does not exist (its planner picks the index),
 * INSERT OR REPLACE is an ON CONFLICT ... DO UPDATE, json_each is
 * json_array_elements_text, a parameter whose type PostgreSQL cannot infer
 * is cast, and a sum() (numeric there) is cast back to bigint. Both texts
 * of an entry take the same parameters and give the same result columns,
 * so the code that runs a statement never asks which engine runs it.
 *
 * This file must never grow SQL assembled at run time: optional filters are
 * written as `(?N IS NULL OR column = ?N)` and bound to NULL when unused,
 * and the handful of list variants below are compile-time constants.
 */
#include "store/store_int.h"

/* The messages columns, in the order messages.c binds and reads them. */
#define MESSAGE_COLUMNS                                                      \
	"dispute_id, n, version, direction, channel, body, language, "       \
	"author, role, key_id, evidence, template, template_locale, "        \
	"fell_back, call, created_at"

/* The exact filters of schema 20, ?11 to ?14 (see below). */
#define SEARCH_FILTERS                                                       \
	" AND (?11 IS NULL OR d.order_ref = ?11)"                            \
	" AND (?12 IS NULL OR d.buyer_ref = ?12)"                            \
	" AND (?13 IS NULL OR EXISTS (SELECT 1 FROM items AS i"              \
	" WHERE i.dispute_id = d.id AND i.sku = ?13))"                       \
	" AND (?14 IS NULL OR d.updated_at >= ?14)"
#define PG_SEARCH_FILTERS                                                    \
	" AND ($11::text IS NULL OR d.order_ref = $11)"                      \
	" AND ($12::text IS NULL OR d.buyer_ref = $12)"                      \
	" AND ($13::text IS NULL OR EXISTS (SELECT 1 FROM items AS i"        \
	" WHERE i.dispute_id = d.id AND i.sku = $13))"                       \
	" AND ($14::bigint IS NULL OR d.updated_at >= $14)"

/*
 * The search's words ($15, quoted words separated by one space) as a
 * tsquery: each word a phrase of its tokens (phraseto_tsquery, as FTS5
 * reads a quoted word: "ORD-3" is 'ord' <-> '-3'), all of them required.
 * The phrases are joined as the text tsquery writes them, in which every
 * lexeme is quoted, so no word is ever read as tsquery syntax; a word
 * without a lexeme (punctuation) is left out, as FTS5 leaves it out. A
 * scalar subquery: PostgreSQL computes it once per statement. The words
 * lose their accents as the indexed text did (redress_fold, schema 20).
 */
#define PG_SEARCH_QUERY                                                      \
	"(SELECT coalesce(string_agg(p::text, ' & '), '')::tsquery"          \
	" FROM (SELECT phraseto_tsquery('simple', redress_fold(t)) AS p"     \
	" FROM regexp_split_to_table($15::text, ' ') AS t) AS words"         \
	" WHERE numnode(p) > 0)"

/*
 * rd_store_dispute_list, keyset pagination newest first.
 *
 * Parameters, the same for every variant:
 *   ?1 state, ?2 reason, ?3 storefront, ?4 assignee (NULL: no filter)
 *   ?5 lowest created_at (INT64_MIN when unbounded)
 *   ?6, ?7 the exclusive upper key (created_at, id): the smaller of the
 *          cursor's key and (created_to, ""); (INT64_MAX, "~") when
 *          unbounded, "~" sorting after every id
 *   ?8 rows to fetch (the page size plus one)
 *   ?9 now, for the overdue filter (NULL: no filter)
 *   ?10 created_at below it (NULL: no filter; the awaiting-reply and search
 *       variants, whose key is not the creation time, take it always)
 *   ?11 order_ref, ?12 buyer_ref, ?13 an item's SKU, ?14 lowest
 *       updated_at (NULL: no filter; schema 20)
 *   ?15 the search variant's words, as an FTS5 query of quoted words
 *
 * Every variant mentions every parameter, so that one function binds them
 * all (PostgreSQL refuses a parameter its statement does not mention).
 *
 * Cost: each variant walks one index whose order is the requested order
 * (equality column, then created_at, id), starting at the upper key found by
 * a b-tree seek, and stops after ?8 matching rows: O(log n + page) when at
 * most one of state / reason / storefront / assignee is given. The other
 * filters are checked on the rows walked, so combining several filters costs
 * O(log n + rows of the driving filter walked to fill the page). The
 * driving index is chosen by rd_store_dispute_list in the order order_ref,
 * buyer_ref (with the storefront when given), assignee, storefront, state,
 * reason (the usually most selective first). INDEXED BY
 * makes preparing fail rather than silently scanning if an index is missing.
 *
 * The overdue variant walks the deadline index instead (due_at <= now)
 * and sorts what it finds: its cost grows with the number of overdue
 * disputes — which the SLA sweep keeps small — never with the number of
 * disputes. The SKU variant likewise finds the disputes of the SKU by its
 * index and sorts them (O(log n + disputes of the SKU)), and the
 * updated_since variant walks the update index from that time (O(log n +
 * disputes updated since)). The store tests check every plan with EXPLAIN
 * QUERY PLAN.
 */
#define LIST_FILTERS                                                         \
	" AND d.created_at >= ?5 AND (d.created_at, d.id) < (?6, ?7)"        \
	" AND (?1 IS NULL OR d.state = ?1)"                                  \
	" AND (?2 IS NULL OR d.reason = ?2)"                                 \
	" AND (?3 IS NULL OR d.storefront = ?3)"                             \
	" AND (?4 IS NULL OR d.assignee = ?4)"                               \
	" AND (?9 IS NULL OR dl.due_at <= ?9)"                               \
	SEARCH_FILTERS                                                       \
	" AND (?10 IS NULL OR d.created_at < ?10)"                           \
	" AND (?15 IS NULL OR ?15 IS NOT NULL)"                              \
	" ORDER BY d.created_at DESC, d.id DESC LIMIT ?8"

#define LIST_BY(index)                                                       \
	"SELECT " RD_STORE_DISPUTE_COLUMNS                                   \
	" FROM disputes AS d INDEXED BY " index                              \
	" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"

/* The same on PostgreSQL, whose planner chooses the index itself. */
#define PG_LIST_FILTERS                                                      \
	" AND d.created_at >= $5"                                            \
	" AND (d.created_at, d.id) < ($6::bigint, $7::text)"                 \
	" AND ($1::text IS NULL OR d.state = $1)"                            \
	" AND ($2::text IS NULL OR d.reason = $2)"                           \
	" AND ($3::text IS NULL OR d.storefront = $3)"                       \
	" AND ($4::text IS NULL OR d.assignee = $4)"                         \
	" AND ($9::bigint IS NULL OR dl.due_at <= $9)"                       \
	PG_SEARCH_FILTERS                                                    \
	" AND ($10::bigint IS NULL OR d.created_at < $10)"                   \
	" AND ($15::text IS NULL OR $15 IS NOT NULL)"                        \
	" ORDER BY d.created_at DESC, d.id DESC LIMIT $8"

#define PG_LIST                                                              \
	"SELECT " RD_STORE_DISPUTE_COLUMNS                                   \
	" FROM disputes AS d"                                                \
	" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"

/* The outbox's columns after a position's two numbers (webhooks.c). */
#define OUTBOX_COLUMNS                                                       \
	"id, dispute_id, storefront, version, type, created_at, payload"
#define OUTBOX_COLUMNS_O                                                     \
	"o.id, o.dispute_id, o.storefront, o.version, o.type, o.created_at, " \
	"o.payload"

#define ENDPOINT_COLUMNS                                                     \
	"id, url, events, description, storefront, enabled, "                \
	"disabled_reason, secret, previous_secret, previous_expires_at, "    \
	"created_at, updated_at, failing_since"

#define DELIVERY_COLUMNS                                                     \
	"n, id, event_id, event_type, dispute_id, version, status, "         \
	"attempts, next_at, created_at, finished_at"

/* The deliveries due at `now` (a parameter), most overdue first. */
#define DELIVERY_DUE(now)                                                    \
	"d.n FROM webhook_deliveries AS d"                                   \
	" JOIN webhook_endpoints AS e ON e.id = d.endpoint_id"               \
	" WHERE d.status = 'pending' AND d.next_at <= " now                  \
	" AND (d.leased_until IS NULL OR d.leased_until <= " now ")"         \
	" AND e.enabled = 1 AND NOT EXISTS (SELECT 1"                        \
	" FROM webhook_deliveries AS p WHERE p.endpoint_id = d.endpoint_id"  \
	" AND p.dispute_id = d.dispute_id AND p.status = 'pending'"          \
	" AND p.n < d.n) ORDER BY d.next_at, d.n"

/* A leased delivery with its endpoint and event; the older secret while live. */
#define DELIVERY_JOB(now)                                                    \
	"d.n, d.id, d.event_id, e.id, e.url, e.secret,"                      \
	" CASE WHEN e.previous_expires_at > " now                            \
	" THEN e.previous_secret END, d.tries, d.attempts, o.payload"        \
	" FROM webhook_deliveries AS d"                                      \
	" JOIN webhook_endpoints AS e ON e.id = d.endpoint_id"               \
	" LEFT JOIN outbox_events AS o ON o.seq = d.event_seq"               \
	" WHERE d.status = 'pending'"

/* The sort key of a payable without a deadline: INT64_MAX, after all. */
#define PAYABLE_NO_DUE "9223372036854775807"

#define OFFER_COLUMNS                                                        \
	"dispute_id, offer_id, type, buyer_refund, buyer_copay, seller_cost, " \
	"status, made_at, decided_at, event_seq"

/* Inserting a dispute row; ?1 .. ?21 in the order of the column list. */
#define DISPUTE_INSERT                                                       \
	"INSERT INTO disputes (id, order_ref, storefront, buyer_ref,"        \
	" currency, reason, channel, locale, description,"                   \
	" shipping_paid, ship_cost, return_cost, workflow_name,"             \
	" workflow_version, workflow_hash, state, outcome, assignee,"        \
	" version, created_at, updated_at)"                                  \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"                  \
	" ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"

#define PG_DISPUTE_INSERT                                                    \
	"INSERT INTO disputes (id, order_ref, storefront, buyer_ref,"        \
	" currency, reason, channel, locale, description,"                   \
	" shipping_paid, ship_cost, return_cost, workflow_name,"             \
	" workflow_version, workflow_hash, state, outcome, assignee,"        \
	" version, created_at, updated_at)"                                  \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"                  \
	" $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"

/* What an upsert changes of a row that exists (both engines). */
#define DISPUTE_UPSERT_SET                                                   \
	" ON CONFLICT (id) DO UPDATE SET"                                    \
	" order_ref = excluded.order_ref,"                                   \
	" storefront = excluded.storefront,"                                 \
	" buyer_ref = excluded.buyer_ref,"                                   \
	" currency = excluded.currency, reason = excluded.reason,"           \
	" channel = excluded.channel, locale = excluded.locale,"             \
	" description = excluded.description,"                               \
	" shipping_paid = excluded.shipping_paid,"                           \
	" ship_cost = excluded.ship_cost,"                                   \
	" return_cost = excluded.return_cost,"                               \
	" workflow_name = excluded.workflow_name,"                           \
	" workflow_version = excluded.workflow_version,"                     \
	" workflow_hash = excluded.workflow_hash,"                           \
	" state = excluded.state, outcome = excluded.outcome,"               \
	" assignee = excluded.assignee, version = excluded.version,"         \
	" created_at = excluded.created_at,"                                 \
	" updated_at = excluded.updated_at"

/*
 * The evidence columns, in the order evidence.c reads and binds them
 * (?1 .. ?16).
 */
#define EVIDENCE_COLUMNS                                                     \
	"dispute_id, n, kind, channel, submitted_by, captured_at, added_at, " \
	"content_type, size, sha256, original_name, withdrawn, "             \
	"withdrawn_reason, note, path, blob_oid"

#define EVIDENCE_INSERT                                                      \
	"INSERT INTO evidence (" EVIDENCE_COLUMNS ")"                        \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"        \
	" ?13, ?14, ?15, ?16)"

#define PG_EVIDENCE_INSERT                                                   \
	"INSERT INTO evidence (" EVIDENCE_COLUMNS ")"                        \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"        \
	" $13, $14, $15, $16)"

#define EVIDENCE_UPSERT_SET                                                  \
	" ON CONFLICT (dispute_id, n) DO UPDATE SET"                         \
	" kind = excluded.kind, channel = excluded.channel,"                 \
	" submitted_by = excluded.submitted_by,"                             \
	" captured_at = excluded.captured_at,"                               \
	" added_at = excluded.added_at,"                                     \
	" content_type = excluded.content_type,"                             \
	" size = excluded.size, sha256 = excluded.sha256,"                   \
	" original_name = excluded.original_name,"                           \
	" withdrawn = excluded.withdrawn,"                                   \
	" withdrawn_reason = excluded.withdrawn_reason,"                     \
	" note = excluded.note, path = excluded.path,"                       \
	" blob_oid = excluded.blob_oid"

/* The idempotency columns, in the order idempotency.c reads and binds them. */
#define IDEM_COLUMNS                                                         \
	"key_id, idem_key, request_sha256, operation, dispute_id, "          \
	"evidence_n, response, created_at"

/* The api_keys columns, in the order keys.c reads and binds them. */
#define KEY_COLUMNS                                                          \
	"id, name, role, storefront, secret_sha256, created_at, revoked_at"

#define OFFER_INSERT                                                         \
	"INSERT INTO offers (" OFFER_COLUMNS ")"                             \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"

#define PG_OFFER_INSERT                                                      \
	"INSERT INTO offers (" OFFER_COLUMNS ")"                             \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"

#define OFFER_UPSERT_SET                                                     \
	" ON CONFLICT (dispute_id, offer_id) DO UPDATE SET"                  \
	" type = excluded.type, buyer_refund = excluded.buyer_refund,"       \
	" buyer_copay = excluded.buyer_copay,"                               \
	" seller_cost = excluded.seller_cost,"                               \
	" status = excluded.status, made_at = excluded.made_at,"             \
	" decided_at = excluded.decided_at,"                                 \
	" event_seq = excluded.event_seq"

/*
 * The table: the schema a statement needs (its tables exist from that
 * migration on), SQLite's text, PostgreSQL's (NULL: SQLite's).
 */
static const struct {
	int min_schema;
	const char *sql;
	const char *pg;
} statements[RD_STMT_COUNT] = {
	[RD_STMT_BEGIN] = { 0, "BEGIN IMMEDIATE",
		"BEGIN" },
	[RD_STMT_BEGIN_READ] = { 0, "BEGIN",
		"BEGIN ISOLATION LEVEL REPEATABLE READ" },
	[RD_STMT_COMMIT] = { 0, "COMMIT", NULL },
	[RD_STMT_ROLLBACK] = { 0, "ROLLBACK", NULL },
	[RD_STMT_USER_VERSION] = { 0, "PRAGMA user_version",
		"SELECT version FROM redress_schema" },
	[RD_STMT_SAVEPOINT] = { 0, "SAVEPOINT change", NULL },
	[RD_STMT_RELEASE] = { 0, "RELEASE change", NULL },
	[RD_STMT_ROLLBACK_TO] = { 0, "ROLLBACK TO change", NULL },

	[RD_STMT_WORKFLOW_PUT] = { 1,
		"INSERT INTO workflows (hash, name, version, source,"
		" first_seen) VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (hash) DO NOTHING",
		"INSERT INTO workflows (hash, name, version, source,"
		" first_seen) VALUES ($1, $2, $3, $4, $5)"
		" ON CONFLICT (hash) DO NOTHING" },
	[RD_STMT_WORKFLOW_SOURCE] = { 1,
		"SELECT source FROM workflows WHERE hash = ?1",
		"SELECT source FROM workflows WHERE hash = $1" },

	[RD_STMT_DISPUTE_INSERT] = { 1, DISPUTE_INSERT,
		PG_DISPUTE_INSERT },
	[RD_STMT_ITEM_INSERT] = { 1,
		"INSERT INTO items (dispute_id, idx, sku, title, quantity,"
		" unit_price, unit_cost) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		"INSERT INTO items (dispute_id, idx, sku, title, quantity,"
		" unit_price, unit_cost) VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	[RD_STMT_DISPUTE_GET] = { 1,
		"SELECT " RD_STORE_DISPUTE_COLUMNS " FROM disputes AS d"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE d.id = ?1",
		"SELECT " RD_STORE_DISPUTE_COLUMNS " FROM disputes AS d"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE d.id = $1" },
	[RD_STMT_ITEMS_OF] = { 1,
		"SELECT sku, title, quantity, unit_price, unit_cost FROM items"
		" WHERE dispute_id = ?1 ORDER BY idx",
		"SELECT sku, title, quantity, unit_price, unit_cost FROM items"
		" WHERE dispute_id = $1 ORDER BY idx" },
	[RD_STMT_DISPUTE_UPDATE] = { 1,
		"UPDATE disputes SET state = ?2, outcome = ?3, assignee = ?4,"
		" version = ?5, updated_at = ?6"
		" WHERE id = ?1 AND version = ?7",
		"UPDATE disputes SET state = $2, outcome = $3, assignee = $4,"
		" version = $5, updated_at = $6"
		" WHERE id = $1 AND version = $7" },
	[RD_STMT_DISPUTE_EXISTS] = { 1,
		"SELECT 1 FROM disputes WHERE id = ?1",
		"SELECT 1 FROM disputes WHERE id = $1" },
	/*
	 * rd_store_dispute_open_duplicate: the oldest open dispute of
	 * storefront ?1 and order ?2 with an item whose SKU is in the JSON
	 * array ?3. Walks the partial index of open disputes by order (the
	 * few open disputes of one order), then each one's items by their
	 * primary key.
	 */
	[RD_STMT_DISPUTE_OPEN_DUPLICATE] = { 10,
		"SELECT d.id FROM disputes AS d INDEXED BY disputes_open_order"
		" WHERE d.storefront = ?1 AND d.order_ref = ?2"
		" AND d.outcome IS NULL"
		" AND EXISTS (SELECT 1 FROM items AS i, json_each(?3) AS s"
		"   WHERE i.dispute_id = d.id AND i.sku = s.value)"
		" ORDER BY d.created_at, d.id LIMIT 1",
		"SELECT d.id FROM disputes AS d"
		" WHERE d.storefront = $1 AND d.order_ref = $2"
		" AND d.outcome IS NULL"
		" AND EXISTS (SELECT 1 FROM items AS i,"
		"   json_array_elements_text($3::json) AS s (value)"
		"   WHERE i.dispute_id = d.id AND i.sku = s.value)"
		" ORDER BY d.created_at, d.id LIMIT 1" },
	/*
	 * Before the lookup above, in the opening's transaction: on
	 * PostgreSQL, two openings of one storefront's order wait for each
	 * other until the first commits, so the second finds the first (an
	 * advisory lock on a hash of the pair: a rare collision only makes
	 * two unrelated openings wait). SQLite has one writer at a time.
	 */
	[RD_STMT_OPEN_ORDER_LOCK] = { 10,
		"SELECT ?1, ?2",
		"SELECT pg_advisory_xact_lock(hashtextextended("
		"$1::text || chr(10) || $2::text, 0))" },
	/*
	 * Rebuilding: an upsert updates the row in place. REPLACE would
	 * delete it first, which the events, evidence and offers referring
	 * to it must never see. The head is not part of the document and
	 * is left alone.
	 */
	[RD_STMT_DISPUTE_UPSERT] = { 1,
		DISPUTE_INSERT DISPUTE_UPSERT_SET,
		PG_DISPUTE_INSERT DISPUTE_UPSERT_SET },
	[RD_STMT_ITEMS_DELETE] = { 1,
		"DELETE FROM items WHERE dispute_id = ?1",
		"DELETE FROM items WHERE dispute_id = $1" },
	/* the primary key is the id: a seek, then the next ?2 rows */
	[RD_STMT_DISPUTE_IDS] = { 1,
		"SELECT id FROM disputes WHERE id > ?1 ORDER BY id LIMIT ?2",
		"SELECT id FROM disputes WHERE id > $1 ORDER BY id LIMIT $2" },
	[RD_STMT_HEAD_GET] = { 3,
		"SELECT head FROM disputes WHERE id = ?1",
		"SELECT head FROM disputes WHERE id = $1" },
	[RD_STMT_HEAD_SET] = { 3,
		"UPDATE disputes SET head = ?2 WHERE id = ?1",
		"UPDATE disputes SET head = $2 WHERE id = $1" },

	[RD_STMT_LIST_ALL] = { 1,
		LIST_BY("disputes_created") " WHERE 1" LIST_FILTERS,
		PG_LIST " WHERE true" PG_LIST_FILTERS },
	[RD_STMT_LIST_BY_ASSIGNEE] = { 1,
		LIST_BY("disputes_assignee") " WHERE d.assignee = ?4"
		LIST_FILTERS,
		PG_LIST " WHERE d.assignee = $4" PG_LIST_FILTERS },
	[RD_STMT_LIST_BY_STOREFRONT] = { 1,
		LIST_BY("disputes_storefront") " WHERE d.storefront = ?3"
		LIST_FILTERS,
		PG_LIST " WHERE d.storefront = $3" PG_LIST_FILTERS },
	[RD_STMT_LIST_BY_STATE] = { 1,
		LIST_BY("disputes_state") " WHERE d.state = ?1" LIST_FILTERS,
		PG_LIST " WHERE d.state = $1" PG_LIST_FILTERS },
	[RD_STMT_LIST_BY_REASON] = { 1,
		LIST_BY("disputes_reason") " WHERE d.reason = ?2"
		LIST_FILTERS,
		PG_LIST " WHERE d.reason = $2" PG_LIST_FILTERS },
	[RD_STMT_LIST_OVERDUE] = { 1,
		"SELECT " RD_STORE_DISPUTE_COLUMNS
		" FROM deadlines AS dl INDEXED BY deadlines_due"
		" CROSS JOIN disputes AS d"
		" WHERE d.id = dl.dispute_id AND dl.due_at <= ?9"
		LIST_FILTERS,
		"SELECT " RD_STORE_DISPUTE_COLUMNS
		" FROM deadlines AS dl JOIN disputes AS d ON d.id = dl.dispute_id"
		" WHERE dl.due_at <= $9" PG_LIST_FILTERS },

	/*
	 * rd_store_payables_list, keyset pagination by deadline, oldest
	 * first. ?1, ?2 the states awaiting payment; ?3 storefront (NULL:
	 * all); ?4, ?5 the exclusive lower key (due, id) of the previous
	 * page, (INT64_MIN, "") for the first; ?6 rows to fetch (page size
	 * plus one). A dispute without a deadline in its state sorts last
	 * (due INT64_MAX). The amount is the latest accepted offer's: a
	 * dispute may have had several accepted over its life (a reshipment
	 * lost, then refunded), and event_seq orders them even within one
	 * second. The walk is the state index's two ranges plus a sort of
	 * what they hold: O(log n + disputes in those states).
	 */
	[RD_STMT_PAYABLES] = { 2,
		"SELECT d.id, d.order_ref, d.storefront, d.state, d.currency,"
		" d.version, dl.due_at, o.offer_id, o.type, o.buyer_refund"
		" FROM disputes AS d INDEXED BY disputes_state"
		" LEFT JOIN deadlines AS dl"
		"   ON dl.dispute_id = d.id AND dl.state = d.state"
		" LEFT JOIN offers AS o ON o.dispute_id = d.id"
		"   AND o.offer_id = (SELECT a.offer_id FROM offers AS a"
		"     WHERE a.dispute_id = d.id AND a.status = 'accepted'"
		"     ORDER BY a.event_seq DESC, a.decided_at DESC LIMIT 1)"
		" WHERE d.state IN (?1, ?2)"
		" AND (?3 IS NULL OR d.storefront = ?3)"
		" AND (coalesce(dl.due_at, " PAYABLE_NO_DUE "), d.id) > (?4, ?5)"
		" ORDER BY coalesce(dl.due_at, " PAYABLE_NO_DUE "), d.id"
		" LIMIT ?6",
		"SELECT d.id, d.order_ref, d.storefront, d.state, d.currency,"
		" d.version, dl.due_at, o.offer_id, o.type, o.buyer_refund"
		" FROM disputes AS d"
		" LEFT JOIN deadlines AS dl"
		"   ON dl.dispute_id = d.id AND dl.state = d.state"
		" LEFT JOIN offers AS o ON o.dispute_id = d.id"
		"   AND o.offer_id = (SELECT a.offer_id FROM offers AS a"
		"     WHERE a.dispute_id = d.id AND a.status = 'accepted'"
		"     ORDER BY a.event_seq DESC, a.decided_at DESC LIMIT 1)"
		" WHERE d.state IN ($1, $2)"
		" AND ($3::text IS NULL OR d.storefront = $3)"
		" AND (coalesce(dl.due_at, " PAYABLE_NO_DUE "), d.id)"
		"   > ($4::bigint, $5::text)"
		" ORDER BY coalesce(dl.due_at, " PAYABLE_NO_DUE "), d.id"
		" LIMIT $6" },

	[RD_STMT_EVENT_APPEND] = { 1,
		"INSERT INTO events (dispute_id, seq, event, actor_role,"
		" actor_name, actor_key, at, from_state, to_state, fields,"
		" note)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
		"INSERT INTO events (dispute_id, seq, event, actor_role,"
		" actor_name, actor_key, at, from_state, to_state, fields,"
		" note)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)" },
	[RD_STMT_EVENTS_OF] = { 1,
		"SELECT seq, event, actor_role, actor_name, actor_key, at,"
		" from_state, to_state, fields, note FROM events"
		" WHERE dispute_id = ?1 ORDER BY seq",
		"SELECT seq, event, actor_role, actor_name, actor_key, at,"
		" from_state, to_state, fields, note FROM events"
		" WHERE dispute_id = $1 ORDER BY seq" },
	[RD_STMT_EVENTS_MAX_SEQ] = { 1,
		"SELECT coalesce(max(seq), 0) FROM events"
		" WHERE dispute_id = ?1",
		"SELECT coalesce(max(seq), 0) FROM events"
		" WHERE dispute_id = $1" },

	[RD_STMT_DEADLINE_PUT] = { 1,
		"INSERT INTO deadlines (dispute_id, due_at, event, state)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (dispute_id) DO UPDATE"
		" SET due_at = excluded.due_at, event = excluded.event,"
		" state = excluded.state",
		"INSERT INTO deadlines (dispute_id, due_at, event, state)"
		" VALUES ($1, $2, $3, $4) ON CONFLICT (dispute_id) DO UPDATE"
		" SET due_at = excluded.due_at, event = excluded.event,"
		" state = excluded.state" },
	[RD_STMT_DEADLINE_CLEAR] = { 1,
		"DELETE FROM deadlines WHERE dispute_id = ?1",
		"DELETE FROM deadlines WHERE dispute_id = $1" },
	[RD_STMT_DEADLINES_DUE] = { 1,
		"SELECT dispute_id, due_at, event, state"
		" FROM deadlines INDEXED BY deadlines_due"
		" WHERE due_at <= ?1 ORDER BY due_at, dispute_id LIMIT ?2",
		"SELECT dispute_id, due_at, event, state FROM deadlines"
		" WHERE due_at <= $1 ORDER BY due_at, dispute_id LIMIT $2" },
	/*
	 * A sweep's hold on the dispute whose deadline it fires, in the
	 * firing's transaction, before it checks the deadline is still the
	 * one it read. On PostgreSQL the dispute's head and its deadline stay
	 * locked until the transaction ends, and a dispute another
	 * transaction holds (another node's sweeper firing it, a change of
	 * it) is passed over instead of waited for: sweepers spread the due
	 * deadlines among them rather than queueing on the same ones, and
	 * never wait holding a deadline that a change (which locks the head
	 * first) waits for. SQLite's transaction holds its one writer lock
	 * already.
	 */
	[RD_STMT_DEADLINE_CLAIM] = { 11,
		"SELECT due_at FROM deadlines"
		" WHERE dispute_id = ?1 AND due_at <= ?2",
		"SELECT dl.due_at FROM deadlines AS dl"
		" JOIN refs AS r ON r.dispute_id = dl.dispute_id"
		" WHERE dl.dispute_id = $1 AND dl.due_at <= $2"
		" FOR UPDATE OF dl, r SKIP LOCKED" },

	[RD_STMT_EVIDENCE_INSERT] = { 3, EVIDENCE_INSERT,
		PG_EVIDENCE_INSERT },
	/* each kind once, with its items: their sum is the total */
	[RD_STMT_EVIDENCE_KINDS] = { 2,
		"SELECT kind, count(*) FROM evidence"
		" WHERE dispute_id = ?1 AND withdrawn = 0"
		" GROUP BY kind ORDER BY kind",
		"SELECT kind, count(*) FROM evidence"
		" WHERE dispute_id = $1 AND withdrawn = 0"
		" GROUP BY kind ORDER BY kind" },
	[RD_STMT_EVIDENCE_UPSERT] = { 3,
		EVIDENCE_INSERT EVIDENCE_UPSERT_SET,
		PG_EVIDENCE_INSERT EVIDENCE_UPSERT_SET },
	[RD_STMT_EVIDENCE_OF] = { 3,
		"SELECT " EVIDENCE_COLUMNS " FROM evidence"
		" WHERE dispute_id = ?1 ORDER BY n",
		"SELECT " EVIDENCE_COLUMNS " FROM evidence"
		" WHERE dispute_id = $1 ORDER BY n" },
	[RD_STMT_EVIDENCE_GET] = { 3,
		"SELECT " EVIDENCE_COLUMNS " FROM evidence"
		" WHERE dispute_id = ?1 AND n = ?2",
		"SELECT " EVIDENCE_COLUMNS " FROM evidence"
		" WHERE dispute_id = $1 AND n = $2" },
	[RD_STMT_EVIDENCE_NEXT] = { 2,
		"SELECT coalesce(max(n), 0) + 1 FROM evidence"
		" WHERE dispute_id = ?1",
		"SELECT coalesce(max(n), 0) + 1 FROM evidence"
		" WHERE dispute_id = $1" },
	[RD_STMT_EVIDENCE_WITHDRAW] = { 2,
		"UPDATE evidence SET withdrawn = 1, withdrawn_reason = ?3"
		" WHERE dispute_id = ?1 AND n = ?2 AND withdrawn = 0",
		"UPDATE evidence SET withdrawn = 1, withdrawn_reason = $3"
		" WHERE dispute_id = $1 AND n = $2 AND withdrawn = 0" },
	[RD_STMT_EVIDENCE_WITHDRAWN] = { 2,
		"SELECT withdrawn FROM evidence"
		" WHERE dispute_id = ?1 AND n = ?2",
		"SELECT withdrawn FROM evidence"
		" WHERE dispute_id = $1 AND n = $2" },

	[RD_STMT_OFFER_INSERT] = { 2, OFFER_INSERT,
		PG_OFFER_INSERT },
	[RD_STMT_OFFER_PENDING] = { 2,
		"SELECT " OFFER_COLUMNS " FROM offers"
		" WHERE dispute_id = ?1 AND status = 'made'",
		"SELECT " OFFER_COLUMNS " FROM offers"
		" WHERE dispute_id = $1 AND status = 'made'" },
	/* several offers may have been accepted over a dispute's life (a
	 * reshipment lost again goes back to investigating): the latest */
	[RD_STMT_OFFER_ACCEPTED] = { 2,
		"SELECT " OFFER_COLUMNS " FROM offers"
		" WHERE dispute_id = ?1 AND status = 'accepted'"
		" ORDER BY decided_at DESC, made_at DESC, offer_id DESC"
		" LIMIT 1",
		"SELECT " OFFER_COLUMNS " FROM offers"
		" WHERE dispute_id = $1 AND status = 'accepted'"
		" ORDER BY decided_at DESC, made_at DESC, offer_id DESC"
		" LIMIT 1" },
	[RD_STMT_OFFER_DECIDE] = { 2,
		"UPDATE offers SET status = ?3, decided_at = ?4"
		" WHERE dispute_id = ?1 AND offer_id = ?2"
		" AND status = 'made'",
		"UPDATE offers SET status = $3, decided_at = $4"
		" WHERE dispute_id = $1 AND offer_id = $2"
		" AND status = 'made'" },
	[RD_STMT_OFFERS_OF] = { 2,
		"SELECT " OFFER_COLUMNS " FROM offers WHERE dispute_id = ?1"
		" ORDER BY made_at, event_seq, offer_id",
		"SELECT " OFFER_COLUMNS " FROM offers WHERE dispute_id = $1"
		" ORDER BY made_at, event_seq, offer_id" },
	/*
	 * Only the key is the conflict target: a second "made" offer still
	 * violates offers_one_made and is refused, as on insert.
	 */
	[RD_STMT_OFFER_UPSERT] = { 2,
		OFFER_INSERT OFFER_UPSERT_SET,
		PG_OFFER_INSERT OFFER_UPSERT_SET },

	[RD_STMT_KEY_INSERT] = { 4,
		"INSERT INTO api_keys (" KEY_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		"INSERT INTO api_keys (" KEY_COLUMNS ")"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	[RD_STMT_KEY_GET] = { 4,
		"SELECT " KEY_COLUMNS " FROM api_keys WHERE id = ?1",
		"SELECT " KEY_COLUMNS " FROM api_keys WHERE id = $1" },
	[RD_STMT_KEYS_LIST] = { 4,
		"SELECT " KEY_COLUMNS " FROM api_keys"
		" INDEXED BY api_keys_created ORDER BY created_at, id",
		"SELECT " KEY_COLUMNS " FROM api_keys"
		" ORDER BY created_at, id" },
	/* only a valid key is revoked: the first revocation time stays */
	[RD_STMT_KEY_REVOKE] = { 4,
		"UPDATE api_keys SET revoked_at = ?2"
		" WHERE id = ?1 AND revoked_at IS NULL",
		"UPDATE api_keys SET revoked_at = $2"
		" WHERE id = $1 AND revoked_at IS NULL" },

	/*
	 * One statement, so one snapshot: the triggers of schema 5 keep
	 * these rows, a few per workflow state, whatever the disputes.
	 */
	/*
	 * On PostgreSQL a total is the sum of its shards (schema 17,
	 * schema_pg.c); a shard alone may be below zero, their sum never
	 * is, and is clamped at zero regardless. The texts read a record of
	 * before 17 as well, one row a total.
	 */
	[RD_STMT_STATS] = { 5,
		"SELECT 'state', state, disputes FROM stats_states"
		" UNION ALL SELECT 'total', name, value FROM stats_totals"
		" ORDER BY 1, 2",
		"SELECT 'state', state, greatest(sum(disputes), 0)::bigint"
		" FROM stats_states GROUP BY state"
		" UNION ALL SELECT 'total', name, greatest(sum(value), 0)::bigint"
		" FROM stats_totals GROUP BY name ORDER BY 1, 2" },
	/* the totals of schema 7: a few rows per storefront (and shard) */
	[RD_STMT_OVERVIEW] = { 8,
		"SELECT what, name, sum(value) FROM stats_overview"
		" WHERE (?1 IS NULL OR storefront = ?1)"
		" GROUP BY what, name ORDER BY what, name",
		"SELECT what, name, greatest(sum(value), 0)::bigint"
		" FROM stats_overview"
		" WHERE ($1::text IS NULL OR storefront = $1)"
		" GROUP BY what, name ORDER BY what, name" },
	[RD_STMT_IDEM_GET] = { 6,
		"SELECT " IDEM_COLUMNS " FROM idempotency"
		" WHERE key_id = ?1 AND idem_key = ?2",
		"SELECT " IDEM_COLUMNS " FROM idempotency"
		" WHERE key_id = $1 AND idem_key = $2" },
	[RD_STMT_IDEM_INSERT] = { 6,
		"INSERT INTO idempotency (" IDEM_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		"INSERT INTO idempotency (" IDEM_COLUMNS ")"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)" },
	[RD_STMT_IDEM_REPLACE] = { 6,
		"INSERT OR REPLACE INTO idempotency (" IDEM_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		"INSERT INTO idempotency (" IDEM_COLUMNS ")"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
		" ON CONFLICT (key_id, idem_key) DO UPDATE SET"
		" request_sha256 = excluded.request_sha256,"
		" operation = excluded.operation,"
		" dispute_id = excluded.dispute_id,"
		" evidence_n = excluded.evidence_n,"
		" response = excluded.response,"
		" created_at = excluded.created_at" },
	[RD_STMT_IDEM_ALL] = { 6,
		"SELECT " IDEM_COLUMNS " FROM idempotency"
		" INDEXED BY idempotency_created ORDER BY created_at",
		"SELECT " IDEM_COLUMNS " FROM idempotency"
		" ORDER BY created_at" },
	[RD_STMT_IDEM_PURGE] = { 6,
		"DELETE FROM idempotency INDEXED BY idempotency_created"
		" WHERE created_at < ?1",
		"DELETE FROM idempotency WHERE created_at < $1" },
	/*
	 * A request in flight under an Idempotency-Key, claimed beyond the
	 * process (rd_store_idem_claim): on PostgreSQL a session advisory
	 * lock keyed by 64 bits of a hash of the pair, given as two 32-bit
	 * halves. The two-integer key space is this claim's alone: the other
	 * advisory locks of redress (the schema's, an opening's) are single
	 * bigints, and PostgreSQL keeps the two key spaces apart. A session
	 * lock outlives the transactions around it and ends with its
	 * connection, so a node that dies leaves no claim behind. SQLite's
	 * claims are file locks (idempotency.c): these texts never run there.
	 */
	[RD_STMT_IDEM_CLAIM] = { 6,
		"SELECT ?1, ?2",
		"SELECT pg_try_advisory_lock($1::integer, $2::integer)" },
	[RD_STMT_IDEM_RELEASE] = { 6,
		"SELECT ?1, ?2",
		"SELECT pg_advisory_unlock($1::integer, $2::integer)" },
	/* schema 9: a few rows per storefront, one per day with evidence */
	[RD_STMT_QUOTA_GET] = { 9,
		"SELECT storefront, daily, total, updated_at"
		" FROM storefront_quotas WHERE storefront = ?1",
		"SELECT storefront, daily, total, updated_at"
		" FROM storefront_quotas WHERE storefront = $1" },
	[RD_STMT_QUOTA_PUT] = { 9,
		"INSERT INTO storefront_quotas (storefront, daily, total,"
		" updated_at) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (storefront) DO UPDATE SET daily = excluded.daily,"
		" total = excluded.total, updated_at = excluded.updated_at",
		"INSERT INTO storefront_quotas (storefront, daily, total,"
		" updated_at) VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (storefront) DO UPDATE SET daily = excluded.daily,"
		" total = excluded.total, updated_at = excluded.updated_at" },
	[RD_STMT_QUOTAS_LIST] = { 9,
		"SELECT storefront, daily, total, updated_at"
		" FROM storefront_quotas ORDER BY storefront", NULL },
	[RD_STMT_USAGE_GET] = { 9,
		"SELECT ?1, coalesce(sum(bytes), 0),"
		" coalesce(sum(bytes) FILTER (WHERE day = ?2), 0)"
		" FROM evidence_usage WHERE storefront = ?1",
		"SELECT $1::text, coalesce(sum(bytes), 0)::bigint,"
		" coalesce(sum(bytes) FILTER (WHERE day = $2), 0)::bigint"
		" FROM evidence_usage WHERE storefront = $1" },
	[RD_STMT_USAGE_LIST] = { 9,
		"SELECT storefront, sum(bytes),"
		" coalesce(sum(bytes) FILTER (WHERE day = ?1), 0)"
		" FROM evidence_usage GROUP BY storefront"
		" ORDER BY 2 DESC, storefront",
		"SELECT storefront, sum(bytes)::bigint,"
		" coalesce(sum(bytes) FILTER (WHERE day = $1), 0)::bigint"
		" FROM evidence_usage GROUP BY storefront"
		" ORDER BY 2 DESC, storefront" },

	[RD_STMT_DUMP_WORKFLOWS] = { 1,
		"SELECT * FROM workflows ORDER BY hash", NULL },
	[RD_STMT_DUMP_DISPUTES] = { 1,
		"SELECT * FROM disputes ORDER BY id", NULL },
	[RD_STMT_DUMP_ITEMS] = { 1,
		"SELECT * FROM items ORDER BY dispute_id, idx", NULL },
	[RD_STMT_DUMP_EVENTS] = { 1,
		"SELECT * FROM events ORDER BY dispute_id, seq", NULL },
	[RD_STMT_DUMP_DEADLINES] = { 1,
		"SELECT * FROM deadlines ORDER BY dispute_id", NULL },
	[RD_STMT_DUMP_EVIDENCE] = { 2,
		"SELECT * FROM evidence ORDER BY dispute_id, n", NULL },
	[RD_STMT_DUMP_OFFERS] = { 2,
		"SELECT * FROM offers ORDER BY dispute_id, offer_id", NULL },
	/*
	 * The record. An object keeps the change that first stored it: the
	 * one the open transaction is about to append (the write lock is
	 * held, so the next sequence number is this transaction's).
	 */
	/*
	 * On PostgreSQL writers commit at once, and an object keeps its
	 * transaction's batch instead, which `commits` numbers in commit order
	 * (schema 15, schema_pg.c).
	 */
	[RD_STMT_OBJECT_PUT] = { 11,
		"INSERT INTO objects (id, type, size, data, change)"
		" VALUES (?1, ?2, ?3, ?4,"
		" (SELECT coalesce(max(seq), 0) + 1 FROM changes))"
		" ON CONFLICT (id) DO NOTHING",
		"INSERT INTO objects (id, type, size, data, change)"
		" VALUES ($1, $2, $3, $4, redress_batch())"
		" ON CONFLICT (id) DO NOTHING" },
	/*
	 * PostgreSQL: the objects of a transaction, sent together as it
	 * commits (record.c): arrays in PostgreSQL's binary form, their
	 * rows stored in the order given (the mirror reads them so).
	 */
	[RD_STMT_OBJECTS_PUT] = { 15, NULL,
		"INSERT INTO objects (id, type, size, data, change)"
		" SELECT u.id, u.type, u.size, u.data, redress_batch()"
		" FROM unnest($1::bytea[], $2::bigint[], $3::bigint[],"
		" $4::bytea[]) WITH ORDINALITY AS u (id, type, size, data, o)"
		" ORDER BY u.o ON CONFLICT (id) DO NOTHING" },
	[RD_STMT_OBJECT_GET] = { 11,
		"SELECT type, size, data IS NULL, data FROM objects"
		" WHERE id = ?1",
		"SELECT type, size, data IS NULL, data FROM objects"
		" WHERE id = $1" },
	/* PostgreSQL: objects by id, in any order (a binary bytea[]) */
	[RD_STMT_OBJECTS_GET] = { 11, NULL,
		"SELECT id, type, size, data IS NULL, data FROM objects"
		" WHERE id = ANY ($1::bytea[])" },
	[RD_STMT_OBJECT_HEADER] = { 11,
		"SELECT type, size, data IS NULL FROM objects WHERE id = ?1",
		"SELECT type, size, data IS NULL FROM objects WHERE id = $1" },
	[RD_STMT_OBJECTS_IN_FILES] = { 11,
		"SELECT id FROM objects INDEXED BY objects_in_files"
		" WHERE data IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
		"SELECT id FROM objects"
		" WHERE data IS NULL AND id > $1 ORDER BY id LIMIT $2" },
	/* in the order they were stored: the index's own order (13) */
	/* PostgreSQL: of the batches of commits numbered so */
	[RD_STMT_OBJECTS_OF_CHANGES] = { 13,
		"SELECT id, type, size, data IS NULL FROM objects"
		" INDEXED BY objects_by_change"
		" WHERE change > ?1 AND change <= ?2 ORDER BY change, n",
		"SELECT o.id, o.type, o.size, o.data IS NULL"
		" FROM commits AS c JOIN objects AS o ON o.change = c.batch"
		" WHERE c.n > $1 AND c.n <= $2 ORDER BY c.n, o.n" },
	[RD_STMT_REF_GET] = { 11,
		"SELECT head FROM refs WHERE dispute_id = ?1",
		"SELECT head FROM refs WHERE dispute_id = $1" },
	/*
	 * The head read by a change, its first read of the dispute: on
	 * PostgreSQL the row stays locked until the change ends, so that
	 * two changes of one dispute (from two threads, processes or nodes)
	 * run one after the other, the second reading what the first
	 * committed (its evidence number, its version) instead of failing on
	 * them. SQLite has one writer at a time: nothing to lock.
	 */
	[RD_STMT_REF_GET_LOCKED] = { 11,
		"SELECT head FROM refs WHERE dispute_id = ?1",
		"SELECT head FROM refs WHERE dispute_id = $1 FOR UPDATE" },
	[RD_STMT_REF_CREATE] = { 11,
		"INSERT INTO refs (dispute_id, head) VALUES (?1, ?2)"
		" ON CONFLICT (dispute_id) DO NOTHING",
		"INSERT INTO refs (dispute_id, head) VALUES ($1, $2)"
		" ON CONFLICT (dispute_id) DO NOTHING" },
	[RD_STMT_REF_MOVE] = { 11,
		"UPDATE refs SET head = ?3 WHERE dispute_id = ?1 AND head = ?2",
		"UPDATE refs SET head = $3 WHERE dispute_id = $1 AND head = $2" },
	[RD_STMT_REFS_AFTER] = { 11,
		"SELECT dispute_id, head FROM refs WHERE dispute_id > ?1"
		" ORDER BY dispute_id LIMIT ?2",
		"SELECT dispute_id, head FROM refs WHERE dispute_id > $1"
		" ORDER BY dispute_id LIMIT $2" },
	[RD_STMT_CHANGE_INSERT] = { 11,
		"INSERT INTO changes (dispute_id, head, at) VALUES (?1, ?2, ?3)",
		"INSERT INTO changes (dispute_id, head, at, batch)"
		" VALUES ($1, $2, $3, redress_batch())" },
	/*
	 * The changes of the next ?2 commits after commit ?1, in commit
	 * order: the last column is the commit's number (SQLite's single
	 * writer commits in the order of the changes' own numbers).
	 */
	[RD_STMT_CHANGES_AFTER] = { 11,
		"SELECT seq, dispute_id, head, at, seq FROM changes"
		" WHERE seq > ?1 ORDER BY seq LIMIT ?2",
		"SELECT ch.seq, ch.dispute_id, ch.head, ch.at, c.n"
		" FROM commits AS c JOIN changes AS ch ON ch.batch = c.batch"
		" WHERE c.n > $1 AND c.n <= (SELECT coalesce(max(s.n), $1)"
		" FROM (SELECT n FROM commits WHERE n > $1 ORDER BY n"
		" LIMIT $2) AS s)"
		" ORDER BY c.n, ch.seq" },
	[RD_STMT_CHANGES_LAST] = { 11,
		"SELECT coalesce(max(seq), 0) FROM changes",
		"SELECT coalesce(max(n), 0) FROM commits" },
	[RD_STMT_DISPUTE_LAST_CHANGE] = { 11,
		"SELECT coalesce(max(seq), 0) FROM changes"
		" INDEXED BY changes_by_dispute WHERE dispute_id = ?1",
		"SELECT coalesce(max(c.n), 0) FROM changes AS ch"
		" JOIN commits AS c ON c.batch = ch.batch"
		" WHERE ch.dispute_id = $1" },
	/*
	 * The last statement of a PostgreSQL transaction that recorded
	 * changes: its batch numbered in `commits` from the counter, whose
	 * row stays locked until the transaction has committed (nothing when
	 * its changes were all rolled back to their savepoints).
	 */
	[RD_STMT_COMMIT_NUMBER] = { 15, NULL,
		"WITH b AS (SELECT nullif(current_setting('redress.batch',"
		" true), '')::bigint AS batch),"
		" c AS (UPDATE commit_counter SET n = n + 1 WHERE id = 1"
		" AND (SELECT batch FROM b) IS NOT NULL RETURNING n)"
		" INSERT INTO commits (n, batch) SELECT c.n, b.batch FROM c, b" },
	[RD_STMT_MIRROR_GET] = { 11,
		"SELECT position FROM mirror_state WHERE id = 1", NULL },
	/* the owner, locked on PostgreSQL until the transaction ends */
	[RD_STMT_MIRROR_OWNER_GET] = { 15,
		"SELECT owner FROM mirror_state WHERE id = 1",
		"SELECT owner FROM mirror_state WHERE id = 1 FOR UPDATE" },
	[RD_STMT_MIRROR_OWNER_SET] = { 15,
		"UPDATE mirror_state SET owner = ?1 WHERE id = 1",
		"UPDATE mirror_state SET owner = $1 WHERE id = 1" },
	/*
	 * A new owner of the mirror state (schema 16): the outgoing owner's
	 * position and packs saved, the incoming one's restored (none: the
	 * state starts again), then the saved copy of it forgotten.
	 */
	[RD_STMT_MIRROR_SAVE] = { 16,
		"INSERT INTO mirror_saved (owner, position)"
		" SELECT owner, position FROM mirror_state"
		" WHERE id = 1 AND owner IS NOT NULL"
		" ON CONFLICT (owner) DO UPDATE SET position = excluded.position",
		"INSERT INTO mirror_saved (owner, position)"
		" SELECT owner, position FROM mirror_state"
		" WHERE id = 1 AND owner IS NOT NULL"
		" ON CONFLICT (owner) DO UPDATE SET position = excluded.position" },
	[RD_STMT_MIRROR_SAVE_PACKS] = { 16,
		"INSERT INTO mirror_saved_packs (owner, name, first_change,"
		" last_change, objects, superseded_at, plain)"
		" SELECT s.owner, p.name, p.first_change, p.last_change,"
		" p.objects, p.superseded_at, p.plain"
		" FROM mirror_packs AS p, mirror_state AS s"
		" WHERE s.id = 1 AND s.owner IS NOT NULL",
		NULL },
	[RD_STMT_MIRROR_SAVED_FORGET] = { 16,
		"DELETE FROM mirror_saved_packs WHERE owner = ?1",
		"DELETE FROM mirror_saved_packs WHERE owner = $1" },
	[RD_STMT_MIRROR_SAVED_POSITION] = { 16,
		"DELETE FROM mirror_saved WHERE owner = ?1 RETURNING position",
		"DELETE FROM mirror_saved WHERE owner = $1 RETURNING position" },
	[RD_STMT_MIRROR_RESTORE_PACKS] = { 16,
		"INSERT INTO mirror_packs (name, first_change, last_change,"
		" objects, superseded_at, plain)"
		" SELECT name, first_change, last_change, objects,"
		" superseded_at, plain FROM mirror_saved_packs WHERE owner = ?1",
		"INSERT INTO mirror_packs (name, first_change, last_change,"
		" objects, superseded_at, plain)"
		" SELECT name, first_change, last_change, objects,"
		" superseded_at, plain FROM mirror_saved_packs WHERE owner = $1" },
	/* one mirror writer among the nodes: a lock of the session */
	[RD_STMT_MIRROR_LEAD] = { 15, NULL,
		"SELECT pg_try_advisory_lock(8243105135462675234)" },
	[RD_STMT_MIRROR_SET] = { 11,
		"UPDATE mirror_state SET position = ?1 WHERE id = 1",
		"UPDATE mirror_state SET position = $1 WHERE id = 1" },
	[RD_STMT_MIRROR_PACK_ADD] = { 12,
		"INSERT INTO mirror_packs (name, first_change, last_change,"
		" objects, plain) VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (name) DO UPDATE SET first_change ="
		" excluded.first_change, last_change = excluded.last_change,"
		" objects = excluded.objects, plain = excluded.plain,"
		" superseded_at = NULL",
		"INSERT INTO mirror_packs (name, first_change, last_change,"
		" objects, plain) VALUES ($1, $2, $3, $4, $5)"
		" ON CONFLICT (name) DO UPDATE SET first_change ="
		" excluded.first_change, last_change = excluded.last_change,"
		" objects = excluded.objects, plain = excluded.plain,"
		" superseded_at = NULL" },
	[RD_STMT_MIRROR_PACK_REMOVE] = { 11,
		"DELETE FROM mirror_packs WHERE ?1 IS NULL OR name = ?1",
		"DELETE FROM mirror_packs WHERE $1::text IS NULL OR name = $1" },
	[RD_STMT_MIRROR_PACKS] = { 12,
		"SELECT name, first_change, last_change, objects, plain"
		" FROM mirror_packs WHERE superseded_at IS NULL"
		" ORDER BY first_change, name", NULL },
	[RD_STMT_MIRROR_PACK_SUPERSEDE] = { 11,
		"UPDATE mirror_packs SET superseded_at = ?2 WHERE name = ?1",
		"UPDATE mirror_packs SET superseded_at = $2 WHERE name = $1" },
	[RD_STMT_MIRROR_PACKS_SUPERSEDED] = { 12,
		"SELECT name, first_change, last_change, objects, plain"
		" FROM mirror_packs WHERE superseded_at < ?1"
		" ORDER BY first_change, name",
		"SELECT name, first_change, last_change, objects, plain"
		" FROM mirror_packs WHERE superseded_at < $1"
		" ORDER BY first_change, name" },
	[RD_STMT_RECORD_STATE_GET] = { 11,
		"SELECT value FROM record_state WHERE name = ?1",
		"SELECT value FROM record_state WHERE name = $1" },
	[RD_STMT_RECORD_STATE_SET] = { 11,
		"INSERT INTO record_state (name, value) VALUES (?1, ?2)"
		" ON CONFLICT (name) DO UPDATE SET value = excluded.value",
		"INSERT INTO record_state (name, value) VALUES ($1, $2)"
		" ON CONFLICT (name) DO UPDATE SET value = excluded.value" },

	[RD_STMT_DUMP_API_KEYS] = { 4,
		"SELECT * FROM api_keys ORDER BY id", NULL },
	[RD_STMT_DUMP_IDEMPOTENCY] = { 6,
		"SELECT * FROM idempotency ORDER BY key_id, idem_key", NULL },
	[RD_STMT_DUMP_QUOTAS] = { 9,
		"SELECT * FROM storefront_quotas ORDER BY storefront", NULL },
	[RD_STMT_DUMP_USAGE] = { 9,
		"SELECT * FROM evidence_usage ORDER BY storefront, day", NULL },

	/*
	 * Evidence files in the database (files.c): PostgreSQL's only, the
	 * embedded record keeps them in its data directory (no SQLite text).
	 */
	[RD_STMT_FILE_UPLOAD_NEW] = { 14, NULL,
		"INSERT INTO file_uploads (started_at) VALUES ($1)"
		" RETURNING upload" },
	[RD_STMT_FILE_UPLOAD_DROP] = { 14, NULL,
		"DELETE FROM file_uploads WHERE upload = $1" },
	/*
	 * uploads no file names, started before $1: abandoned or cut short;
	 * one being kept right now holds its row and is passed over
	 */
	[RD_STMT_FILE_UPLOADS_ABANDONED] = { 14, NULL,
		"DELETE FROM file_uploads WHERE upload IN"
		" (SELECT u.upload FROM file_uploads AS u"
		" WHERE u.started_at < $1 AND NOT EXISTS"
		" (SELECT 1 FROM files AS f WHERE f.upload = u.upload)"
		" FOR UPDATE SKIP LOCKED)" },
	/* the upload about to be kept, locked against that removal */
	[RD_STMT_FILE_UPLOAD_LOCK] = { 14, NULL,
		"SELECT upload FROM file_uploads WHERE upload = $1 FOR UPDATE" },
	[RD_STMT_FILE_CHUNK_PUT] = { 14, NULL,
		"INSERT INTO file_chunks (upload, n, data) VALUES ($1, $2, $3)" },
	[RD_STMT_FILE_CHUNK_GET] = { 14, NULL,
		"SELECT data FROM file_chunks WHERE upload = $1 AND n = $2" },
	/* no row changed: the same bytes are kept already, by another upload */
	[RD_STMT_FILE_PUT] = { 14, NULL,
		"INSERT INTO files (id, upload, size, written_at)"
		" VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING" },
	[RD_STMT_FILE_RENEW] = { 14, NULL,
		"UPDATE files SET written_at = greatest(written_at, $2)"
		" WHERE id = $1" },
	[RD_STMT_FILE_GET] = { 14, NULL,
		"SELECT upload, size FROM files WHERE id = $1" },
	/*
	 * Whether a change may name the file: the row stays locked (shared)
	 * until the change ends, so that a removal waits for it and then
	 * sees the object that names the file.
	 */
	[RD_STMT_FILE_STAT] = { 14, NULL,
		"SELECT size FROM files WHERE id = $1 FOR SHARE" },
	/* a removal's first step: the file, if old enough, locked */
	[RD_STMT_FILE_LOCK_OLD] = { 14, NULL,
		"SELECT upload FROM files WHERE id = $1 AND written_at < $2"
		" FOR UPDATE" },
	[RD_STMT_FILE_DELETE] = { 14, NULL,
		"WITH f AS (DELETE FROM files WHERE id = $1 RETURNING upload)"
		" DELETE FROM file_uploads"
		" WHERE upload IN (SELECT upload FROM f)" },
	[RD_STMT_FILES_PAGE] = { 14, NULL,
		"SELECT id, size, written_at FROM files WHERE id > $1"
		" ORDER BY id LIMIT $2" },

	/*
	 * The outbox and the webhooks (webhooks.c). On PostgreSQL the
	 * outbox is read in commit order, through `commits`: a position is
	 * a commit number and a row number within it. On the embedded
	 * record rows are numbered in commit order already, and a position
	 * is that number twice.
	 */
	[RD_STMT_OUTBOX_ADD] = { 18,
		"INSERT INTO outbox_events (id, dispute_id, storefront,"
		" version, type, created_at, payload)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		"INSERT INTO outbox_events (id, dispute_id, storefront,"
		" version, type, created_at, payload)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	/* ?1, ?2 the position; ?3 storefront, ?4 types (NULL: any); ?5 rows */
	[RD_STMT_OUTBOX_AFTER] = { 18,
		"SELECT seq, seq, " OUTBOX_COLUMNS " FROM outbox_events"
		" WHERE seq > ?2 AND ?1 >= 0"
		" AND (?3 IS NULL OR storefront = ?3)"
		" AND (?4 IS NULL OR"
		" instr(',' || ?4 || ',', ',' || type || ',') > 0)"
		" ORDER BY seq LIMIT ?5",
		"SELECT c.n, o.seq, " OUTBOX_COLUMNS_O
		" FROM commits AS c JOIN outbox_events AS o ON o.batch = c.batch"
		" WHERE c.n >= $1 AND (c.n > $1 OR o.seq > $2)"
		" AND ($3::text IS NULL OR o.storefront = $3)"
		" AND ($4::text IS NULL OR"
		" o.type = ANY (string_to_array($4, ',')))"
		" ORDER BY c.n, o.seq LIMIT $5" },
	/* the fan-out's walk: every event after ?1, ?2, no payload */
	[RD_STMT_OUTBOX_SCAN] = { 18,
		"SELECT seq, seq, id, dispute_id, storefront, version, type,"
		" created_at FROM outbox_events WHERE seq > ?2 AND ?1 >= 0"
		" ORDER BY seq LIMIT ?3",
		"SELECT c.n, o.seq, o.id, o.dispute_id, o.storefront,"
		" o.version, o.type, o.created_at"
		" FROM commits AS c JOIN outbox_events AS o ON o.batch = c.batch"
		" WHERE c.n >= $1 AND (c.n > $1 OR o.seq > $2)"
		" ORDER BY c.n, o.seq LIMIT $3" },
	[RD_STMT_OUTBOX_END] = { 18,
		"SELECT coalesce(max(seq), 0), coalesce(max(seq), 0)"
		" FROM outbox_events",
		"SELECT (SELECT coalesce(max(n), 0) FROM commits),"
		" (SELECT coalesce(max(seq), 0) FROM outbox_events)" },
	[RD_STMT_OUTBOX_PURGE] = { 18,
		"DELETE FROM outbox_events WHERE created_at < ?1",
		"DELETE FROM outbox_events WHERE created_at < $1" },
	[RD_STMT_DELIVERIES_PURGE] = { 18,
		"DELETE FROM webhook_deliveries WHERE finished_at < ?1",
		"DELETE FROM webhook_deliveries WHERE finished_at < $1" },
	/* a new endpoint starts at the outbox's end */
	[RD_STMT_WEBHOOK_INSERT] = { 18,
		"INSERT INTO webhook_endpoints (" ENDPOINT_COLUMNS
		", position_n, position_seq, idem_key_id, idem_key,"
		" idem_digest)"
		" SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		" ?13, coalesce(max(seq), 0), coalesce(max(seq), 0), ?14, ?15,"
		" ?16 FROM outbox_events",
		"INSERT INTO webhook_endpoints (" ENDPOINT_COLUMNS
		", position_n, position_seq, idem_key_id, idem_key,"
		" idem_digest)"
		" SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
		" $13, (SELECT coalesce(max(n), 0) FROM commits),"
		" (SELECT coalesce(max(seq), 0) FROM outbox_events), $14, $15,"
		" $16" },
	/* the endpoint an Idempotency-Key made, and the request's digest */
	[RD_STMT_WEBHOOK_BY_IDEM] = { 18,
		"SELECT " ENDPOINT_COLUMNS ", idem_digest FROM webhook_endpoints"
		" WHERE idem_key_id = ?1 AND idem_key = ?2",
		"SELECT " ENDPOINT_COLUMNS ", idem_digest FROM webhook_endpoints"
		" WHERE idem_key_id = $1 AND idem_key = $2" },
	/* a key past its 24 hours is free again */
	[RD_STMT_WEBHOOK_IDEM_EXPIRE] = { 18,
		"UPDATE webhook_endpoints SET idem_key_id = NULL,"
		" idem_key = NULL, idem_digest = NULL"
		" WHERE idem_key_id = ?1 AND idem_key = ?2 AND created_at < ?3",
		"UPDATE webhook_endpoints SET idem_key_id = NULL,"
		" idem_key = NULL, idem_digest = NULL"
		" WHERE idem_key_id = $1 AND idem_key = $2 AND created_at < $3" },
	[RD_STMT_WEBHOOK_GET] = { 18,
		"SELECT " ENDPOINT_COLUMNS " FROM webhook_endpoints"
		" WHERE id = ?1",
		"SELECT " ENDPOINT_COLUMNS " FROM webhook_endpoints"
		" WHERE id = $1" },
	[RD_STMT_WEBHOOKS_LIST] = { 18,
		"SELECT " ENDPOINT_COLUMNS " FROM webhook_endpoints"
		" WHERE ?1 IS NULL OR storefront = ?1"
		" ORDER BY created_at, id",
		"SELECT " ENDPOINT_COLUMNS " FROM webhook_endpoints"
		" WHERE $1::text IS NULL OR storefront = $1"
		" ORDER BY created_at, id" },
	[RD_STMT_WEBHOOK_UPDATE] = { 18,
		"UPDATE webhook_endpoints SET url = ?2, events = ?3,"
		" description = ?4, enabled = ?5, disabled_reason = ?6,"
		" secret = ?7, previous_secret = ?8, previous_expires_at = ?9,"
		" updated_at = ?10, failing_since = ?11 WHERE id = ?1",
		"UPDATE webhook_endpoints SET url = $2, events = $3,"
		" description = $4, enabled = $5, disabled_reason = $6,"
		" secret = $7, previous_secret = $8, previous_expires_at = $9,"
		" updated_at = $10, failing_since = $11 WHERE id = $1" },
	[RD_STMT_WEBHOOK_DELETE] = { 18,
		"DELETE FROM webhook_endpoints WHERE id = ?1",
		"DELETE FROM webhook_endpoints WHERE id = $1" },
	/*
	 * The endpoints to fan out to: on PostgreSQL each row stays locked
	 * until the transaction ends, and one another transaction is
	 * fanning out to is passed over, so no event is fanned out twice.
	 */
	[RD_STMT_WEBHOOK_FANOUT_LOCK] = { 18,
		"SELECT id, storefront, events, position_n, position_seq"
		" FROM webhook_endpoints WHERE enabled = 1 ORDER BY id",
		"SELECT id, storefront, events, position_n, position_seq"
		" FROM webhook_endpoints WHERE enabled = 1 ORDER BY id"
		" FOR UPDATE SKIP LOCKED" },
	[RD_STMT_WEBHOOK_POSITION_SET] = { 18,
		"UPDATE webhook_endpoints SET position_n = ?2,"
		" position_seq = ?3 WHERE id = ?1",
		"UPDATE webhook_endpoints SET position_n = $2,"
		" position_seq = $3 WHERE id = $1" },
	[RD_STMT_DELIVERY_INSERT] = { 18,
		"INSERT INTO webhook_deliveries (id, endpoint_id, event_seq,"
		" event_id, event_type, dispute_id, version, status, next_at,"
		" created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending',"
		" ?8, ?8)",
		"INSERT INTO webhook_deliveries (id, endpoint_id, event_seq,"
		" event_id, event_type, dispute_id, version, status, next_at,"
		" created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending',"
		" $8, $8)" },
	/*
	 * Lease the deliveries due at ?1 to ?3 until ?2, at most ?4: of an
	 * enabled endpoint, and with no earlier pending one of the same
	 * endpoint and dispute (which holds the later ones back). On
	 * PostgreSQL a delivery another worker is leasing right now is
	 * passed over; its earlier ones are still pending, so its dispute's
	 * later deliveries are not due either.
	 */
	[RD_STMT_DELIVERIES_CLAIM] = { 18,
		"UPDATE webhook_deliveries SET lease = ?3, leased_until = ?2"
		" WHERE n IN (SELECT " DELIVERY_DUE("?1") " LIMIT ?4)",
		"UPDATE webhook_deliveries SET lease = $3, leased_until = $2"
		" WHERE n IN (SELECT " DELIVERY_DUE("$1")
		" LIMIT $4 FOR UPDATE OF d SKIP LOCKED)" },
	/* what sending the deliveries leased to ?1 needs, at ?2 */
	[RD_STMT_DELIVERY_JOBS] = { 18,
		"SELECT " DELIVERY_JOB("?2") " AND d.lease = ?1 ORDER BY d.n",
		"SELECT " DELIVERY_JOB("$2") " AND d.lease = $1 ORDER BY d.n" },
	/*
	 * The outcome of an attempt, if ?2 still holds the lease: ?3 the
	 * new status, ?4 the next try, ?5 now. Answers the attempt's number.
	 */
	[RD_STMT_DELIVERY_FINISH] = { 18,
		"UPDATE webhook_deliveries SET status = ?3,"
		" tries = CASE WHEN ?3 = 'pending' THEN tries + 1 ELSE tries END,"
		" attempts = attempts + 1, next_at = ?4, leased_until = NULL,"
		" lease = NULL,"
		" finished_at = CASE WHEN ?3 = 'pending' THEN NULL ELSE ?5 END"
		" WHERE n = ?1 AND lease = ?2 RETURNING attempts",
		"UPDATE webhook_deliveries SET status = $3,"
		" tries = CASE WHEN $3 = 'pending' THEN tries + 1 ELSE tries END,"
		" attempts = attempts + 1, next_at = $4, leased_until = NULL,"
		" lease = NULL,"
		" finished_at = CASE WHEN $3 = 'pending' THEN NULL"
		" ELSE $5::bigint END"
		" WHERE n = $1 AND lease = $2 RETURNING attempts" },
	[RD_STMT_ATTEMPT_INSERT] = { 18,
		"INSERT INTO webhook_attempts (delivery_n, n, at, status_code,"
		" latency_ms, answer, error, next_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		"INSERT INTO webhook_attempts (delivery_n, n, at, status_code,"
		" latency_ms, answer, error, next_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8)" },
	[RD_STMT_WEBHOOK_FAILING] = { 18,
		"UPDATE webhook_endpoints SET failing_since ="
		" CASE WHEN ?2 = 1 THEN NULL ELSE coalesce(failing_since, ?3)"
		" END WHERE id = ?1 RETURNING failing_since",
		"UPDATE webhook_endpoints SET failing_since ="
		" CASE WHEN $2 = 1 THEN NULL"
		" ELSE coalesce(failing_since, $3::bigint)"
		" END WHERE id = $1 RETURNING failing_since" },
	/* an endpoint's deliveries before number ?2, newest first */
	[RD_STMT_DELIVERIES_OF] = { 18,
		"SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries"
		" WHERE endpoint_id = ?1 AND n < ?2 ORDER BY n DESC LIMIT ?3",
		"SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries"
		" WHERE endpoint_id = $1 AND n < $2 ORDER BY n DESC LIMIT $3" },
	[RD_STMT_DELIVERY_GET] = { 18,
		"SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries"
		" WHERE endpoint_id = ?1 AND id = ?2",
		"SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries"
		" WHERE endpoint_id = $1 AND id = $2" },
	[RD_STMT_ATTEMPTS_OF] = { 18,
		"SELECT n, at, status_code, latency_ms, answer, error, next_at"
		" FROM webhook_attempts WHERE delivery_n = ?1"
		" ORDER BY n DESC LIMIT 20",
		"SELECT n, at, status_code, latency_ms, answer, error, next_at"
		" FROM webhook_attempts WHERE delivery_n = $1"
		" ORDER BY n DESC LIMIT 20" },
	/* not while a worker holds its lease: it would go out twice at once */
	[RD_STMT_DELIVERY_RETRY] = { 18,
		"UPDATE webhook_deliveries SET status = 'pending', tries = 0,"
		" next_at = ?3, leased_until = NULL, lease = NULL,"
		" finished_at = NULL WHERE endpoint_id = ?1 AND id = ?2"
		" AND (lease IS NULL OR leased_until <= ?3)",
		"UPDATE webhook_deliveries SET status = 'pending', tries = 0,"
		" next_at = $3, leased_until = NULL, lease = NULL,"
		" finished_at = NULL WHERE endpoint_id = $1 AND id = $2"
		" AND (lease IS NULL OR leased_until <= $3)" },
	/*
	 * Whether a round has work: an enabled endpoint to fan out to, and
	 * when the first pending delivery is due (NULL: none).
	 */
	[RD_STMT_WEBHOOK_WORK] = { 18,
		"SELECT EXISTS (SELECT 1 FROM webhook_endpoints"
		" WHERE enabled = 1),"
		" (SELECT min(next_at) FROM webhook_deliveries"
		" WHERE status = 'pending')",
		"SELECT (EXISTS (SELECT 1 FROM webhook_endpoints"
		" WHERE enabled = 1))::int,"
		" (SELECT min(next_at) FROM webhook_deliveries"
		" WHERE status = 'pending')" },
	[RD_STMT_WEBHOOK_BACKLOG] = { 18,
		"SELECT count(*), coalesce(min(o.created_at), 0)"
		" FROM webhook_deliveries AS d"
		" LEFT JOIN outbox_events AS o ON o.seq = d.event_seq"
		" WHERE d.status = 'pending'",
		NULL },

	/*
	 * Messages (schema 19): a dispute's messages by number, read a page
	 * at a time along the primary key; ?3 = 0 leaves internal notes out.
	 */
	[RD_STMT_MESSAGE_INSERT] = { 19,
		"INSERT INTO messages (" MESSAGE_COLUMNS ") VALUES"
		" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		" ?15, ?16)",
		"INSERT INTO messages (" MESSAGE_COLUMNS ") VALUES"
		" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
		" $15, $16)" },
	/* a rebuild from the record finds the rows it already has */
	[RD_STMT_MESSAGE_REBUILD] = { 19,
		"INSERT INTO messages (" MESSAGE_COLUMNS ") VALUES"
		" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		" ?15, ?16) ON CONFLICT (dispute_id, n) DO NOTHING",
		"INSERT INTO messages (" MESSAGE_COLUMNS ") VALUES"
		" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,"
		" $15, $16) ON CONFLICT (dispute_id, n) DO NOTHING" },
	[RD_STMT_MESSAGES_OF] = { 19,
		"SELECT " MESSAGE_COLUMNS " FROM messages"
		" WHERE dispute_id = ?1 AND n > ?2"
		" AND (?3 = 1 OR direction <> 'internal')"
		" ORDER BY n LIMIT ?4",
		"SELECT " MESSAGE_COLUMNS " FROM messages"
		" WHERE dispute_id = $1 AND n > $2"
		" AND ($3 = 1 OR direction <> 'internal')"
		" ORDER BY n LIMIT $4" },
	[RD_STMT_MESSAGE_NEXT] = { 19,
		"SELECT coalesce(max(n), 0) + 1 FROM messages"
		" WHERE dispute_id = ?1",
		"SELECT coalesce(max(n), 0) + 1 FROM messages"
		" WHERE dispute_id = $1" },
	/* whether the seller ever answered: the first reply or a later one */
	[RD_STMT_MESSAGE_ANSWERED] = { 19,
		"SELECT EXISTS (SELECT 1 FROM messages WHERE dispute_id = ?1"
		" AND direction = 'outbound')",
		"SELECT CAST(EXISTS (SELECT 1 FROM messages"
		" WHERE dispute_id = $1 AND direction = 'outbound') AS INT)" },
	[RD_STMT_REPLY_PUT] = { 19,
		"INSERT INTO reply_deadlines (dispute_id, due_at, since_n, event)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (dispute_id) DO UPDATE"
		" SET due_at = excluded.due_at, since_n = excluded.since_n,"
		" event = excluded.event",
		"INSERT INTO reply_deadlines (dispute_id, due_at, since_n, event)"
		" VALUES ($1, $2, $3, $4) ON CONFLICT (dispute_id) DO UPDATE"
		" SET due_at = excluded.due_at, since_n = excluded.since_n,"
		" event = excluded.event" },
	[RD_STMT_REPLY_CLEAR] = { 19,
		"DELETE FROM reply_deadlines WHERE dispute_id = ?1",
		"DELETE FROM reply_deadlines WHERE dispute_id = $1" },
	[RD_STMT_REPLY_GET] = { 19,
		"SELECT due_at, since_n, event FROM reply_deadlines"
		" WHERE dispute_id = ?1",
		"SELECT due_at, since_n, event FROM reply_deadlines"
		" WHERE dispute_id = $1" },
	[RD_STMT_REPLIES_DUE] = { 19,
		"SELECT dispute_id, due_at, since_n, event"
		" FROM reply_deadlines INDEXED BY reply_deadlines_due"
		" WHERE due_at <= ?1 ORDER BY due_at, dispute_id LIMIT ?2",
		"SELECT dispute_id, due_at, since_n, event FROM reply_deadlines"
		" WHERE due_at <= $1 ORDER BY due_at, dispute_id LIMIT $2" },
	/* as RD_STMT_DEADLINE_CLAIM, for the reply clock */
	[RD_STMT_REPLY_CLAIM] = { 19,
		"SELECT due_at FROM reply_deadlines"
		" WHERE dispute_id = ?1 AND due_at <= ?2",
		"SELECT rd.due_at FROM reply_deadlines AS rd"
		" JOIN refs AS r ON r.dispute_id = rd.dispute_id"
		" WHERE rd.dispute_id = $1 AND rd.due_at <= $2"
		" FOR UPDATE OF rd, r SKIP LOCKED" },
	/*
	 * The disputes awaiting a reply, the most overdue first: the reply
	 * clocks' index walked upwards from the key (?6 due_at, ?7 id) of the
	 * previous page's last row, the list's other filters checked on the
	 * rows walked (?10: created_at below it). O(log n + rows walked).
	 */
	[RD_STMT_LIST_AWAITING_REPLY] = { 19,
		"SELECT " RD_STORE_DISPUTE_COLUMNS
		" FROM reply_deadlines AS rd INDEXED BY reply_deadlines_due"
		" CROSS JOIN disputes AS d"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE d.id = rd.dispute_id AND (rd.due_at, rd.dispute_id) > (?6, ?7)"
		" AND d.created_at >= ?5 AND d.created_at < ?10"
		" AND (?1 IS NULL OR d.state = ?1)"
		" AND (?2 IS NULL OR d.reason = ?2)"
		" AND (?3 IS NULL OR d.storefront = ?3)"
		" AND (?4 IS NULL OR d.assignee = ?4)"
		" AND (?9 IS NULL OR dl.due_at <= ?9)" SEARCH_FILTERS
		" AND (?15 IS NULL OR ?15 IS NOT NULL)"
		" ORDER BY rd.due_at, rd.dispute_id LIMIT ?8",
		"SELECT " RD_STORE_DISPUTE_COLUMNS
		" FROM reply_deadlines AS rd JOIN disputes AS d"
		" ON d.id = rd.dispute_id"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE (rd.due_at, rd.dispute_id) > ($6::bigint, $7::text)"
		" AND d.created_at >= $5 AND d.created_at < $10"
		" AND ($1::text IS NULL OR d.state = $1)"
		" AND ($2::text IS NULL OR d.reason = $2)"
		" AND ($3::text IS NULL OR d.storefront = $3)"
		" AND ($4::text IS NULL OR d.assignee = $4)"
		" AND ($9::bigint IS NULL OR dl.due_at <= $9)" PG_SEARCH_FILTERS
		" AND ($15::text IS NULL OR $15 IS NOT NULL)"
		" ORDER BY rd.due_at, rd.dispute_id LIMIT $8" },
	[RD_STMT_DUMP_MESSAGES] = { 19,
		"SELECT * FROM messages ORDER BY dispute_id, n", NULL },
	[RD_STMT_DUMP_REPLIES] = { 19,
		"SELECT * FROM reply_deadlines ORDER BY dispute_id", NULL },

	/* rd_store_dispute_list's variants of schema 20 (see LIST_FILTERS) */
	[RD_STMT_LIST_BY_ORDER_REF] = { 20,
		LIST_BY("disputes_order_ref") " WHERE d.order_ref = ?11"
		LIST_FILTERS,
		PG_LIST " WHERE d.order_ref = $11" PG_LIST_FILTERS },
	[RD_STMT_LIST_BY_BUYER] = { 20,
		LIST_BY("disputes_buyer") " WHERE d.storefront = ?3"
		" AND d.buyer_ref = ?12" LIST_FILTERS,
		PG_LIST " WHERE d.storefront = $3 AND d.buyer_ref = $12"
		PG_LIST_FILTERS },
	[RD_STMT_LIST_BY_BUYER_REF] = { 20,
		LIST_BY("disputes_buyer_ref") " WHERE d.buyer_ref = ?12"
		LIST_FILTERS,
		PG_LIST " WHERE d.buyer_ref = $12" PG_LIST_FILTERS },
	/* the disputes of the SKU from its index, then sorted */
	[RD_STMT_LIST_BY_SKU] = { 20,
		"SELECT " RD_STORE_DISPUTE_COLUMNS " FROM disputes AS d"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE d.id IN (SELECT dispute_id FROM items INDEXED BY items_sku"
		" WHERE sku = ?13)" LIST_FILTERS,
		PG_LIST " WHERE d.id IN (SELECT dispute_id FROM items"
		" WHERE sku = $13)" PG_LIST_FILTERS },
	/* the disputes updated since ?14 from the update index, then sorted */
	[RD_STMT_LIST_UPDATED] = { 20,
		LIST_BY("disputes_updated") " WHERE d.updated_at >= ?14"
		LIST_FILTERS,
		PG_LIST " WHERE d.updated_at >= $14" PG_LIST_FILTERS },
	/*
	 * The disputes whose text holds every word of ?15, the most relevant
	 * first: the full-text index finds them, each ranked (bm25 on SQLite,
	 * ts_rank on PostgreSQL, times 10^9 as an integer, higher
	 * better), and what follows the key (?6 rank, ?7 id) of the previous
	 * page's last row is sorted. O(matches log matches): the words, not
	 * the number of disputes, bound the cost. Weights: references and
	 * SKUs 10, titles 4, description 2, messages 1 (PostgreSQL's default
	 * weights of A, B, C, D: 1, 0.4, 0.2, 0.1). ?15 is words each in
	 * double quotes, FTS5 phrases (see PG_SEARCH_QUERY for PostgreSQL).
	 */
	[RD_STMT_LIST_SEARCH] = { 20,
		"SELECT * FROM (SELECT " RD_STORE_DISPUTE_COLUMNS ","
		" CAST(-bm25(search_text, 10.0, 4.0, 2.0, 1.0) * 1e9"
		" AS INTEGER) AS search_rank"
		" FROM search_text JOIN search_keys AS k"
		" ON k.n = search_text.rowid"
		" JOIN disputes AS d ON d.id = k.dispute_id"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE search_text MATCH ?15"
		" AND d.created_at >= ?5 AND d.created_at < ?10"
		" AND (?1 IS NULL OR d.state = ?1)"
		" AND (?2 IS NULL OR d.reason = ?2)"
		" AND (?3 IS NULL OR d.storefront = ?3)"
		" AND (?4 IS NULL OR d.assignee = ?4)"
		" AND (?9 IS NULL OR dl.due_at <= ?9)" SEARCH_FILTERS ")"
		" WHERE (search_rank, id) < (?6, ?7)"
		" ORDER BY search_rank DESC, id DESC LIMIT ?8",
		"SELECT * FROM (SELECT " RD_STORE_DISPUTE_COLUMNS ","
		" CAST(ts_rank(s.doc, " PG_SEARCH_QUERY ") * 1e9"
		" AS bigint) AS search_rank"
		" FROM dispute_search AS s JOIN disputes AS d"
		" ON d.id = s.dispute_id"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE s.doc @@ " PG_SEARCH_QUERY
		" AND d.created_at >= $5 AND d.created_at < $10"
		" AND ($1::text IS NULL OR d.state = $1)"
		" AND ($2::text IS NULL OR d.reason = $2)"
		" AND ($3::text IS NULL OR d.storefront = $3)"
		" AND ($4::text IS NULL OR d.assignee = $4)"
		" AND ($9::bigint IS NULL OR dl.due_at <= $9)" PG_SEARCH_FILTERS
		") AS r WHERE (r.search_rank, r.id) < ($6::bigint, $7::text)"
		" ORDER BY r.search_rank DESC, r.id DESC LIMIT $8" },
	/* schema 21: ownership (assign.c) */
	/* a live key of the role with the name (unique from schema 21) */
	[RD_STMT_KEY_NAME_LIVE] = { 4,
		"SELECT id FROM api_keys"
		" WHERE role = ?1 AND name = ?2 AND revoked_at IS NULL",
		"SELECT id FROM api_keys"
		" WHERE role = $1 AND name = $2 AND revoked_at IS NULL" },
	/*
	 * The claim queue's head: the most urgent open unassigned dispute,
	 * soonest SLA due time first, then the oldest; those without a due
	 * time come after (RD_STMT_CLAIM_UNDATED). Each walks an index from
	 * its start and stops at the first dispute that qualifies, so that a
	 * claim costs the assigned disputes it passes over, not a sort of
	 * every unassigned one (deadlines_due, then disputes_unassigned). On
	 * PostgreSQL the dispute's head is locked, and one another
	 * transaction holds (another claim of it, a change of it under way)
	 * is passed over: nodes claiming at once take different disputes.
	 * SQLite's one writer already holds the whole record.
	 */
	[RD_STMT_CLAIM_NEXT] = { 21,
		"SELECT d.id FROM deadlines AS dl INDEXED BY deadlines_due"
		" JOIN disputes AS d ON d.id = dl.dispute_id"
		" WHERE d.assignee IS NULL AND d.outcome IS NULL"
		" ORDER BY dl.due_at, d.created_at, d.id LIMIT 1",
		"SELECT d.id FROM deadlines AS dl"
		" JOIN disputes AS d ON d.id = dl.dispute_id"
		" JOIN refs AS r ON r.dispute_id = d.id"
		" WHERE d.assignee IS NULL AND d.outcome IS NULL"
		" ORDER BY dl.due_at, d.created_at, d.id"
		" LIMIT 1 FOR UPDATE OF r SKIP LOCKED" },
	[RD_STMT_CLAIM_UNDATED] = { 21,
		"SELECT d.id FROM disputes AS d INDEXED BY disputes_unassigned"
		" WHERE d.assignee IS NULL AND d.outcome IS NULL"
		" AND NOT EXISTS (SELECT 1 FROM deadlines AS dl"
		"  WHERE dl.dispute_id = d.id)"
		" ORDER BY d.created_at, d.id LIMIT 1",
		"SELECT d.id FROM disputes AS d"
		" JOIN refs AS r ON r.dispute_id = d.id"
		" WHERE d.assignee IS NULL AND d.outcome IS NULL"
		" AND NOT EXISTS (SELECT 1 FROM deadlines AS dl"
		"  WHERE dl.dispute_id = d.id)"
		" ORDER BY d.created_at, d.id"
		" LIMIT 1 FOR UPDATE OF r SKIP LOCKED" },
	/*
	 * Each live agent key's name with its open disputes, those overdue
	 * at ?1 and those awaiting a reply: three counts by the index of
	 * the open disputes by assignee.
	 */
	[RD_STMT_AGENTS] = { 21,
		"SELECT k.name,"
		" (SELECT count(*) FROM disputes AS d"
		"  WHERE d.assignee = k.name AND d.outcome IS NULL),"
		" (SELECT count(*) FROM disputes AS d"
		"  JOIN deadlines AS dl ON dl.dispute_id = d.id"
		"  WHERE d.assignee = k.name AND d.outcome IS NULL"
		"  AND dl.due_at < ?1),"
		" (SELECT count(*) FROM disputes AS d"
		"  JOIN reply_deadlines AS rd ON rd.dispute_id = d.id"
		"  WHERE d.assignee = k.name AND d.outcome IS NULL)"
		" FROM (SELECT DISTINCT name FROM api_keys"
		"  WHERE role = 'agent' AND revoked_at IS NULL) AS k"
		" ORDER BY k.name",
		"SELECT k.name,"
		" (SELECT count(*) FROM disputes AS d"
		"  WHERE d.assignee = k.name AND d.outcome IS NULL),"
		" (SELECT count(*) FROM disputes AS d"
		"  JOIN deadlines AS dl ON dl.dispute_id = d.id"
		"  WHERE d.assignee = k.name AND d.outcome IS NULL"
		"  AND dl.due_at < $1),"
		" (SELECT count(*) FROM disputes AS d"
		"  JOIN reply_deadlines AS rd ON rd.dispute_id = d.id"
		"  WHERE d.assignee = k.name AND d.outcome IS NULL)"
		" FROM (SELECT DISTINCT name FROM api_keys"
		"  WHERE role = 'agent' AND revoked_at IS NULL) AS k"
		" ORDER BY k.name COLLATE \"C\"" },
	/*
	 * A buyer's disputes of one storefront, newest first, by keyset on
	 * (created_at, id): one seek of disputes_buyer to (storefront,
	 * buyer, key) and a walk down the rows that follow it.
	 */
	[RD_STMT_BUYER_LIST] = { 20,
		"SELECT " RD_STORE_DISPUTE_COLUMNS
		" FROM disputes AS d INDEXED BY disputes_buyer"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE d.storefront = ?1 AND d.buyer_ref = ?2"
		" AND (d.created_at, d.id) < (?3, ?4)"
		" ORDER BY d.created_at DESC, d.id DESC LIMIT ?5",
		"SELECT " RD_STORE_DISPUTE_COLUMNS
		" FROM disputes AS d"
		" LEFT JOIN deadlines AS dl ON dl.dispute_id = d.id"
		" WHERE d.storefront = $1 AND d.buyer_ref = $2"
		" AND (d.created_at, d.id) < ($3::bigint, $4::text)"
		" ORDER BY d.created_at DESC, d.id DESC LIMIT $5" },
	/*
	 * The same buyer's other disputes opened in [?3, ?4]: a range of
	 * disputes_buyer (storefront, buyer_ref, created_at), and for each the
	 * amount of its last accepted offer (offers' primary key).
	 */
	[RD_STMT_BUYER_HISTORY] = { 20,
		"SELECT d.reason, d.outcome, d.currency, d.created_at,"
		" (SELECT a.buyer_refund FROM offers AS a"
		"   WHERE a.dispute_id = d.id AND a.status = 'accepted'"
		"   ORDER BY a.event_seq DESC, a.decided_at DESC LIMIT 1)"
		" FROM disputes AS d INDEXED BY disputes_buyer"
		" WHERE d.storefront = ?1 AND d.buyer_ref = ?2"
		" AND d.created_at >= ?3 AND d.created_at <= ?4 AND d.id <> ?5"
		" ORDER BY d.created_at DESC, d.id DESC LIMIT ?6",
		"SELECT d.reason, d.outcome, d.currency, d.created_at,"
		" (SELECT a.buyer_refund FROM offers AS a"
		"   WHERE a.dispute_id = d.id AND a.status = 'accepted'"
		"   ORDER BY a.event_seq DESC, a.decided_at DESC LIMIT 1)"
		" FROM disputes AS d"
		" WHERE d.storefront = $1 AND d.buyer_ref = $2"
		" AND d.created_at >= $3 AND d.created_at <= $4 AND d.id <> $5"
		" ORDER BY d.created_at DESC, d.id DESC LIMIT $6" },
};

/*
 * Statements whose PostgreSQL text needs a later schema than SQLite's:
 * commits in commit order (schema 15, schema_pg.c).
 */
static const struct {
	int id;
	int min_schema;
} pg_later[] = {
	{ RD_STMT_OBJECT_PUT, 15 },
	{ RD_STMT_OBJECTS_OF_CHANGES, 15 },
	{ RD_STMT_CHANGE_INSERT, 15 },
	{ RD_STMT_CHANGES_AFTER, 15 },
	{ RD_STMT_CHANGES_LAST, 15 },
	{ RD_STMT_DISPUTE_LAST_CHANGE, 15 },
};

const char *rd_store__stmt_sql(int id, int *min_schema)
{
	if (id < 0 || id >= RD_STMT_COUNT)
		return NULL;
	if (min_schema)
		*min_schema = statements[id].min_schema;
	return statements[id].sql;
}

const char *rd_store__stmt_sql_for(int id, rd_db_engine engine,
				   int *min_schema)
{
	const char *sql = rd_store__stmt_sql(id, min_schema);

	/* NULL: a statement of the other engine only */
	if (engine == RD_DB_POSTGRES && id >= 0 && id < RD_STMT_COUNT &&
	    statements[id].pg) {
		for (size_t i = 0; min_schema && i < sizeof(pg_later) /
							 sizeof(pg_later[0]);
		     i++)
			if (pg_later[i].id == id)
				*min_schema = pg_later[i].min_schema;
		return statements[id].pg;
	}
	return sql;
}
