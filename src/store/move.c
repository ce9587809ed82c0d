/*
 * Moving an embedded record into PostgreSQL (`redress migrate`): every row
 * of every table of a SQLite record, read in one read transaction, written
 * into a PostgreSQL record that holds no dispute, object, change or key
 * yet, in one transaction. Ids are copied, never made again: disputes,
 * objects (git ids and their numbers), changes, keys and their hashes,
 * Idempotency-Key records.
 *
 * What differs on PostgreSQL is set here, after the rows: each change is
 * its own batch and its own commit, numbered as the change (as schema 15
 * numbers the changes it finds), and the counters and sequences that hand
 * out the next numbers are set past the copied ones. The running totals
 * (stats_*, evidence_usage) are kept by triggers as rows are inserted
 * (on PostgreSQL in the inserting session's shard, schema 17);
 * counted again from the copied rows they could differ from the source's
 * (a state every dispute left keeps its row at 0 there, a resolution's
 * bucket was taken when it happened), so the source's totals replace
 * them. The mirror's state starts afresh: the first node's mirror makes
 * evidence.git from the first change.
 *
 * Evidence files are not rows of the embedded record (they are files of
 * its data directory); the service copies them before the rows, through
 * rd_store_file_*. This file must never write to the source, and never
 * format SQL: every statement is a constant below.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define MOVE_MESSAGE_COLUMNS                                                 \
	"dispute_id, n, version, direction, channel, body, language,"        \
	" author, role, key_id, evidence, template, template_locale,"         \
	" fell_back, call, created_at"

/* One table: its rows read from SQLite, written to PostgreSQL. */
typedef struct move_table {
	const char *name;
	const char *select_sql;  /* SQLite */
	const char *insert_sql;  /* PostgreSQL, a parameter per column */
} move_table;

#define DISPUTE_COLUMNS                                                      \
	"id, order_ref, storefront, buyer_ref, currency, reason, channel,"    \
	" locale, description, shipping_paid, ship_cost, return_cost,"       \
	" workflow_name, workflow_version, workflow_hash, state, outcome,"   \
	" assignee, version, created_at, updated_at, head"

#define EVIDENCE_COLUMNS                                                     \
	"dispute_id, n, kind, channel, submitted_by, captured_at, added_at,"  \
	" content_type, size, sha256, original_name, withdrawn,"             \
	" withdrawn_reason, note, path, blob_oid"

#define OFFER_COLUMNS                                                        \
	"dispute_id, offer_id, type, buyer_refund, buyer_copay, seller_cost," \
	" status, made_at, decided_at, event_seq"

/*
 * In an order the foreign keys and the triggers accept: a dispute before
 * its rows (the overview's triggers look up its storefront).
 */
static const move_table rows_tables[] = {
	{ "workflows",
	  "SELECT hash, name, version, source, first_seen FROM workflows"
	  " ORDER BY hash",
	  /* a node may have recorded its workflows already */
	  "INSERT INTO workflows (hash, name, version, source, first_seen)"
	  " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO NOTHING" },
	{ "disputes",
	  "SELECT " DISPUTE_COLUMNS " FROM disputes ORDER BY id",
	  "INSERT INTO disputes (" DISPUTE_COLUMNS ") VALUES ($1, $2, $3,"
	  " $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,"
	  " $18, $19, $20, $21, $22)" },
	{ "items",
	  "SELECT dispute_id, idx, sku, title, quantity, unit_price,"
	  " unit_cost FROM items ORDER BY dispute_id, idx",
	  "INSERT INTO items (dispute_id, idx, sku, title, quantity,"
	  " unit_price, unit_cost) VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	{ "events",
	  "SELECT dispute_id, seq, event, actor_role, actor_name, actor_key,"
	  " at, from_state, to_state, fields, note FROM events"
	  " ORDER BY dispute_id, seq",
	  "INSERT INTO events (dispute_id, seq, event, actor_role,"
	  " actor_name, actor_key, at, from_state, to_state, fields, note)"
	  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)" },
	{ "deadlines",
	  "SELECT dispute_id, due_at, event, state FROM deadlines"
	  " ORDER BY dispute_id",
	  "INSERT INTO deadlines (dispute_id, due_at, event, state)"
	  " VALUES ($1, $2, $3, $4)" },
	{ "evidence",
	  "SELECT " EVIDENCE_COLUMNS " FROM evidence ORDER BY dispute_id, n",
	  "INSERT INTO evidence (" EVIDENCE_COLUMNS ") VALUES ($1, $2, $3,"
	  " $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)" },
	{ "offers",
	  "SELECT " OFFER_COLUMNS " FROM offers ORDER BY dispute_id, offer_id",
	  "INSERT INTO offers (" OFFER_COLUMNS ") VALUES ($1, $2, $3, $4,"
	  " $5, $6, $7, $8, $9, $10)" },
	{ "messages",
	  "SELECT " MOVE_MESSAGE_COLUMNS " FROM messages ORDER BY dispute_id, n",
	  "INSERT INTO messages (" MOVE_MESSAGE_COLUMNS ") VALUES ($1, $2, $3,"
	  " $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)" },
	{ "reply_deadlines",
	  "SELECT dispute_id, due_at, since_n, event FROM reply_deadlines"
	  " ORDER BY dispute_id",
	  "INSERT INTO reply_deadlines (dispute_id, due_at, since_n, event)"
	  " VALUES ($1, $2, $3, $4)" },
	{ "api_keys",
	  "SELECT id, name, role, storefront, secret_sha256, created_at,"
	  " revoked_at FROM api_keys ORDER BY id",
	  "INSERT INTO api_keys (id, name, role, storefront, secret_sha256,"
	  " created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)" },
	{ "idempotency",
	  "SELECT key_id, idem_key, request_sha256, operation, dispute_id,"
	  " evidence_n, response, created_at FROM idempotency"
	  " ORDER BY key_id, idem_key",
	  "INSERT INTO idempotency (key_id, idem_key, request_sha256,"
	  " operation, dispute_id, evidence_n, response, created_at)"
	  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)" },
	{ "storefront_quotas",
	  "SELECT storefront, daily, total, updated_at FROM storefront_quotas"
	  " ORDER BY storefront",
	  "INSERT INTO storefront_quotas (storefront, daily, total,"
	  " updated_at) VALUES ($1, $2, $3, $4)" },
	/* the record: numbers given, not taken from the identity columns */
	{ "objects",
	  "SELECT n, id, type, size, data, change FROM objects ORDER BY n",
	  "INSERT INTO objects (n, id, type, size, data, change)"
	  " OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6)" },
	{ "refs",
	  "SELECT dispute_id, head FROM refs ORDER BY dispute_id",
	  "INSERT INTO refs (dispute_id, head) VALUES ($1, $2)" },
	{ "changes",
	  "SELECT seq, dispute_id, head, at FROM changes ORDER BY seq",
	  /* each change its own batch, numbered as the change */
	  "INSERT INTO changes (seq, dispute_id, head, at, batch)"
	  " OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $1)" },
	/*
	 * The outbox: every event in the last change's commit, in its own
	 * order, so that the feed and the endpoints' positions (that commit
	 * and the event's number) go on from where they were.
	 */
	{ "outbox_events",
	  "SELECT seq, id, dispute_id, storefront, version, type, created_at,"
	  " payload FROM outbox_events ORDER BY seq",
	  "INSERT INTO outbox_events (seq, id, dispute_id, storefront,"
	  " version, type, created_at, payload, batch)"
	  " OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
	  " (SELECT coalesce(max(seq), 0) FROM changes))" },
	{ "webhook_endpoints",
	  "SELECT id, url, events, description, storefront, enabled,"
	  " disabled_reason, secret, previous_secret, previous_expires_at,"
	  " created_at, updated_at, failing_since, position_seq, idem_key_id,"
	  " idem_key, idem_digest FROM webhook_endpoints ORDER BY id",
	  "INSERT INTO webhook_endpoints (id, url, events, description,"
	  " storefront, enabled, disabled_reason, secret, previous_secret,"
	  " previous_expires_at, created_at, updated_at, failing_since,"
	  " position_seq, idem_key_id, idem_key, idem_digest, position_n)"
	  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
	  " $14, $15, $16, $17, (SELECT coalesce(max(seq), 0) FROM changes))" },
	{ "webhook_deliveries",
	  "SELECT n, id, endpoint_id, event_seq, event_id, event_type,"
	  " dispute_id, version, status, tries, attempts, next_at,"
	  " leased_until, lease, created_at, finished_at"
	  " FROM webhook_deliveries ORDER BY n",
	  "INSERT INTO webhook_deliveries (n, id, endpoint_id, event_seq,"
	  " event_id, event_type, dispute_id, version, status, tries,"
	  " attempts, next_at, leased_until, lease, created_at, finished_at)"
	  " OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
	  " $9, $10, $11, $12, $13, $14, $15, $16)" },
	{ "webhook_attempts",
	  "SELECT delivery_n, n, at, status_code, latency_ms, answer, error,"
	  " next_at FROM webhook_attempts ORDER BY delivery_n, n",
	  "INSERT INTO webhook_attempts (delivery_n, n, at, status_code,"
	  " latency_ms, answer, error, next_at)"
	  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)" },
};

/*
 * After the rows, and before the source's totals and record settings
 * replace those of the target: what the triggers counted as the rows went
 * in, the settings of a new record.
 */
static const char clear_sql[] =
	"DELETE FROM stats_states;"
	"DELETE FROM stats_totals;"
	"DELETE FROM stats_overview;"
	"DELETE FROM evidence_usage;"
	"DELETE FROM record_state;";

static const move_table totals_tables[] = {
	{ "stats_states",
	  "SELECT state, disputes FROM stats_states ORDER BY state",
	  "INSERT INTO stats_states (state, disputes) VALUES ($1, $2)" },
	{ "stats_totals",
	  "SELECT name, value FROM stats_totals ORDER BY name",
	  "INSERT INTO stats_totals (name, value) VALUES ($1, $2)" },
	{ "stats_overview",
	  "SELECT storefront, what, name, value FROM stats_overview"
	  " ORDER BY storefront, what, name",
	  "INSERT INTO stats_overview (storefront, what, name, value)"
	  " VALUES ($1, $2, $3, $4)" },
	{ "evidence_usage",
	  "SELECT storefront, day, bytes FROM evidence_usage"
	  " ORDER BY storefront, day",
	  "INSERT INTO evidence_usage (storefront, day, bytes)"
	  " VALUES ($1, $2, $3)" },
	{ "record_state",
	  "SELECT name, value FROM record_state ORDER BY name",
	  "INSERT INTO record_state (name, value) VALUES ($1, $2)" },
};

/*
 * Last: commits as schema 15 makes them of the changes it finds, the
 * counters past the copied numbers, the mirror's state afresh.
 */
static const char finish_sql[] =
	"INSERT INTO commits (n, batch) SELECT seq, seq FROM changes;"
	"UPDATE commit_counter"
	" SET n = (SELECT coalesce(max(seq), 0) FROM changes);"
	"SELECT setval('change_batches',"
	" (SELECT coalesce(max(seq), 0) + 1 FROM changes), false);"
	"SELECT setval(pg_get_serial_sequence('changes', 'seq'),"
	" (SELECT coalesce(max(seq), 0) + 1 FROM changes), false);"
	"SELECT setval(pg_get_serial_sequence('objects', 'n'),"
	" (SELECT coalesce(max(n), 0) + 1 FROM objects), false);"
	"SELECT setval(pg_get_serial_sequence('outbox_events', 'seq'),"
	" (SELECT coalesce(max(seq), 0) + 1 FROM outbox_events), false);"
	"SELECT setval(pg_get_serial_sequence('webhook_deliveries', 'n'),"
	" (SELECT coalesce(max(n), 0) + 1 FROM webhook_deliveries), false);"
	"UPDATE mirror_state SET position = 0, owner = NULL;"
	"DELETE FROM mirror_packs;";

/* What makes a target not empty; the same text on both engines. */
static const char held_sql[] =
	"SELECT (SELECT count(*) FROM disputes), (SELECT count(*) FROM objects),"
	" (SELECT count(*) FROM changes), (SELECT count(*) FROM api_keys)";

/*
 * Until the copy commits, no other writer adds what would make the target
 * not empty (a second migrate waits, then finds the rows).
 */
static const char lock_sql[] =
	"LOCK TABLE disputes, objects, changes, api_keys, refs"
	" IN SHARE ROW EXCLUSIVE MODE";

static const char count_objects_sql[] = "SELECT count(*) FROM objects";

int rd_store_move_target_check(rd_store *to, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int64_t disputes, objects, changes, keys;
	int rc;
	int ret = RD_OK;

	if (rd_db_engine_of(to->db) != RD_DB_POSTGRES)
		return rd_error_set(err, RD_EINVALID, "%s is not a PostgreSQL "
				    "database: a record moves into PostgreSQL "
				    "only", to->path);
	rc = rd_db_prepare(to->db, held_sql, &stmt);
	if (rc == RD_DB_OK)
		rc = rd_db_step(stmt);
	if (rc != RD_DB_ROW) {
		ret = rd_store__fail(to, rc, err, "cannot count the rows of %s",
				     to->path);
		goto done;
	}
	disputes = rd_db_column_int64(stmt, 0);
	objects = rd_db_column_int64(stmt, 1);
	changes = rd_db_column_int64(stmt, 2);
	keys = rd_db_column_int64(stmt, 3);
	if (disputes || objects || changes || keys)
		ret = rd_error_set(err, RD_ECONFLICT,
				   "%s is not empty: it holds %lld disputes, "
				   "%lld objects, %lld changes and %lld API "
				   "keys; a record is moved into an empty "
				   "database only, never merged",
				   to->path, (long long)disputes,
				   (long long)objects, (long long)changes,
				   (long long)keys);
done:
	rd_db_finalize(stmt);
	return ret;
}

/* Bind column `col` of the source's row as parameter col + 1. */
static int bind_like(rd_db_stmt *ins, rd_db_stmt *sel, int col)
{
	switch (rd_db_column_type(sel, col)) {
	case RD_DB_TYPE_NULL:
		return rd_db_bind_null(ins, col + 1);
	case RD_DB_TYPE_INTEGER:
		return rd_db_bind_int64(ins, col + 1,
					rd_db_column_int64(sel, col));
	case RD_DB_TYPE_TEXT:
		return rd_db_bind_text(ins, col + 1,
				       rd_db_column_text(sel, col));
	case RD_DB_TYPE_BLOB: {
		/* the blob before its size: SQLite */
		const void *bytes = rd_db_column_blob(sel, col);
		size_t size = rd_db_column_bytes(sel, col);

		return rd_db_bind_blob(ins, col + 1, bytes ? bytes : "", size);
	}
	default: /* no table of the schema holds a REAL */
		return RD_DB_EMISUSE;
	}
}

static int move_table_rows(rd_store *to, rd_store *from,
			   const move_table *t, rd_store_move_progress progress,
			   void *ctx, int64_t *moved, int64_t total,
			   rd_error *err)
{
	rd_db_stmt *sel = NULL;
	rd_db_stmt *ins = NULL;
	int rc;
	int ret = RD_OK;

	if ((rc = rd_db_prepare(from->db, t->select_sql, &sel)) != RD_DB_OK) {
		ret = rd_store__fail(from, rc, err, "cannot read the table %s "
				     "of %s", t->name, from->path);
		goto done;
	}
	if ((rc = rd_db_prepare(to->db, t->insert_sql, &ins)) != RD_DB_OK) {
		ret = rd_store__fail(to, rc, err, "cannot write the table %s "
				     "of %s", t->name, to->path);
		goto done;
	}
	while ((rc = rd_db_step(sel)) == RD_DB_ROW) {
		int columns = rd_db_column_count(sel);
		int bound = RD_DB_OK;

		for (int col = 0; col < columns; col++)
			bound |= bind_like(ins, sel, col);
		rc = bound == RD_DB_OK ? rd_db_step(ins) : bound;
		if (rc != RD_DB_DONE) {
			ret = rd_store__fail(to, rc, err, "cannot copy a row "
					     "of the table %s into %s",
					     t->name, to->path);
			goto done;
		}
		rd_db_reset(ins);
		(*moved)++;
		if (progress && strcmp(t->name, "objects") == 0 &&
		    (*moved % 1024 == 0))
			progress(ctx, (size_t)*moved, (size_t)total);
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(from, rc, err, "cannot read the table %s "
				     "of %s", t->name, from->path);
done:
	rd_db_finalize(ins);
	rd_db_finalize(sel);
	return ret;
}

static int move_tables(rd_store *to, rd_store *from, const move_table *t,
		       size_t count, rd_store_move_progress progress,
		       void *ctx, int64_t total, rd_store_move_report *out,
		       rd_error *err)
{
	int ret = RD_OK;

	for (size_t i = 0; i < count && ret == RD_OK; i++) {
		int64_t moved = 0;

		ret = move_table_rows(to, from, &t[i], progress, ctx, &moved,
				      total, err);
		out->rows += moved;
		if (strcmp(t[i].name, "disputes") == 0)
			out->disputes = moved;
		else if (strcmp(t[i].name, "events") == 0)
			out->events = moved;
		else if (strcmp(t[i].name, "objects") == 0)
			out->objects = moved;
		else if (strcmp(t[i].name, "changes") == 0)
			out->changes = moved;
		else if (strcmp(t[i].name, "api_keys") == 0)
			out->keys = moved;
	}
	return ret;
}

static int count_objects(rd_store *from, int64_t *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret = RD_OK;

	rc = rd_db_prepare(from->db, count_objects_sql, &stmt);
	if (rc == RD_DB_OK)
		rc = rd_db_step(stmt);
	if (rc != RD_DB_ROW)
		ret = rd_store__fail(from, rc, err, "cannot count the objects "
				     "of %s", from->path);
	else
		*out = rd_db_column_int64(stmt, 0);
	rd_db_finalize(stmt);
	return ret;
}

static int exec_on(rd_store *st, const char *sql, const char *doing,
		   rd_error *err)
{
	return rd_store__exec_script(st, sql, doing, err);
}

int rd_store_read_begin(rd_store *st, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if (rd_db_in_transaction(st->db))
		return rd_error_set(err, RD_EINTERNAL, "rd_store_read_begin: "
				    "a transaction is open already");
	if ((ret = rd_store__stmt(st, RD_STMT_BEGIN_READ, &stmt, err)) < 0)
		return ret;
	rc = rd_db_step(stmt);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot begin to read %s",
				     st->path);
	rd_store__release(stmt);
	/* SQLite takes its snapshot at the first read: take it now */
	if (ret == RD_OK && rd_db_engine_of(st->db) == RD_DB_SQLITE) {
		int64_t ignored = 0;

		if ((ret = count_objects(st, &ignored, err)) < 0)
			rd_store_rollback(st);
	}
	return ret;
}

int rd_store_move(rd_store *to, rd_store *from,
		  rd_store_move_progress progress, void *ctx,
		  rd_store_move_report *out, rd_error *err)
{
	int64_t total = 0;
	int own_read = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (rd_db_engine_of(from->db) != RD_DB_SQLITE)
		return rd_error_set(err, RD_EINVALID, "%s is not an embedded "
				    "record: only those are moved",
				    from->path);
	if (rd_db_engine_of(to->db) != RD_DB_POSTGRES)
		return rd_error_set(err, RD_EINVALID, "%s is not a PostgreSQL "
				    "database: a record moves into PostgreSQL "
				    "only", to->path);
	if (rd_db_in_transaction(to->db))
		return rd_error_set(err, RD_EINTERNAL, "rd_store_move runs "
				    "outside a transaction of its target");
	if (!rd_db_in_transaction(from->db)) {
		if ((ret = rd_store_read_begin(from, err)) < 0)
			return ret;
		own_read = 1;
	}
	if ((ret = count_objects(from, &total, err)) < 0)
		goto done;
	if ((ret = exec_on(to, "BEGIN", "cannot begin the copy", err)) < 0 ||
	    (ret = exec_on(to, lock_sql, "cannot lock the target's tables",
			   err)) < 0 ||
	    (ret = rd_store_move_target_check(to, err)) < 0)
		goto done;
	if ((ret = move_tables(to, from, rows_tables,
			       sizeof(rows_tables) / sizeof(rows_tables[0]),
			       progress, ctx, total, out, err)) < 0 ||
	    (ret = exec_on(to, clear_sql, "cannot clear the target's totals",
			   err)) < 0 ||
	    (ret = move_tables(to, from, totals_tables,
			       sizeof(totals_tables) /
				       sizeof(totals_tables[0]),
			       NULL, NULL, total, out, err)) < 0 ||
	    (ret = exec_on(to, finish_sql, "cannot number the copied "
			   "changes", err)) < 0)
		goto done;
	if ((ret = exec_on(to, "COMMIT", "cannot commit the copy", err)) < 0)
		goto done;
	if (progress)
		progress(ctx, (size_t)total, (size_t)total);
done:
	if (rd_db_in_transaction(to->db))
		(void)rd_db_exec(to->db, "ROLLBACK");
	if (own_read)
		rd_store_rollback(from);  /* nothing was written */
	return ret;
}
