/*
 * Store schema 3: the migration from schema 2 keeping every row, the git
 * head of a dispute, full evidence rows (note, path, blob id) with listing,
 * numbering and withdrawal, and the helpers that rebuild the index from a
 * snapshot (dispute replace, evidence and offer upserts, last event
 * number, paging over every dispute id).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH
#define OTHER_HASH \
	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define HEAD_A "1111111111111111111111111111111111111111"
#define HEAD_B "0123456789abcdef0123456789abcdef01234567"
#define BLOB "89abcdef0123456789abcdef0123456789abcdef"

/* A dispute with `items` items (1..3) and no deadline. */
static rd_dispute *sample_dispute(int n, size_t items)
{
	static const char *const skus[] = { "SKU-C", "SKU-A", "SKU-B" };
	rd_dispute *d = rd_dispute_new();

	if (!d)
		return NULL;
	rd_test_make_id(d->id, n);
	d->order_ref = strdup("ORD-1001");
	d->storefront = strdup("acme-eu");
	d->buyer_ref = strdup("cust-77");
	memcpy(d->currency, "USD", 4);
	d->reason = RD_REASON_DAMAGED;
	d->channel = RD_CHANNEL_CHAT;
	d->locale = strdup("de-DE");
	d->items = calloc(items, sizeof(*d->items));
	d->item_count = items;
	for (size_t i = 0; i < items; i++) {
		d->items[i].sku = strdup(skus[i]);
		d->items[i].title = strdup("A thing");
		d->items[i].quantity = (int64_t)i + 1;
		d->items[i].unit_price = 1000 * ((int64_t)i + 1);
		d->items[i].unit_cost = 400;
	}
	d->shipping_paid = 1500;
	d->ship_cost = 3000;
	d->return_cost = RD_AMOUNT_UNSET;
	d->workflow_name = strdup("dispute");
	d->workflow_version = 1;
	memcpy(d->workflow_hash, HASH, sizeof(HASH));
	d->state = strdup("opened");
	d->assignee = strdup("alice");
	d->version = 1;
	d->created_at = 1700000000 + n;
	d->updated_at = 1700000000 + n;
	return d;
}

/* A store at `version` holding the workflow and disputes 1..count. */
static rd_store *store_with(const char *path, int version, int count)
{
	rd_error err;
	rd_store *st = NULL;
	int ok = 1;

	if (rd_store_open_at_version(&st, path, version, &err) < 0 ||
	    rd_store_begin(st, &err) < 0 ||
	    rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.message);
		rd_store_close(st);
		return NULL;
	}
	for (int n = 1; ok && n <= count; n++) {
		rd_dispute *d = sample_dispute(n, 3);

		ok = d && rd_store_dispute_insert(st, d, &err) == RD_OK;
		rd_dispute_free(d);
	}
	if (!ok || rd_store_commit(st, &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.message);
		rd_store_close(st);
		return NULL;
	}
	return st;
}

static rd_evidence_row evidence(int dispute, int64_t n, const char *kind)
{
	rd_evidence_row row = rd_test_evidence_row(dispute, n, kind);

	row.added_at = 1700000200 + n;
	return row;
}

static rd_offer_record offer(const char *id, const char *status,
			     int64_t made_at)
{
	rd_offer_record o;

	memset(&o, 0, sizeof(o));
	rd_test_make_id(o.dispute_id, 1);
	snprintf(o.offer_id, sizeof(o.offer_id), "%s", id);
	o.type = RD_OFFER_PARTIAL_DISCOUNT;
	o.buyer_refund = 2000;
	o.seller_cost = 2000;
	snprintf(o.status, sizeof(o.status), "%s", status);
	o.made_at = made_at;
	o.event_seq = 2;
	return o;
}

/* The text of one "[table]" section of a dump, new string, or NULL. */
static char *dump_section(const char *dump, const char *table)
{
	char header[64];
	const char *start;
	const char *end;
	char *copy;

	snprintf(header, sizeof(header), "[%s]\n", table);
	start = strstr(dump, header);
	if (!start)
		return NULL;
	end = strstr(start + strlen(header), "\n[");
	if (!end)
		end = start + strlen(start);
	copy = malloc((size_t)(end - start) + 1);
	if (!copy)
		return NULL;
	memcpy(copy, start, (size_t)(end - start));
	copy[end - start] = '\0';
	return copy;
}

/* ---- migration -------------------------------------------------------- */

static void migrates_version_2_keeping_data(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 2; "
			    "PostgreSQL records start at 13");
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 2, 1);
	rd_evidence_row row = evidence(1, 1, "photo");
	rd_evidence_row *rows = NULL;
	rd_offer_record o = offer("o-1", RD_OFFER_MADE, 1700000300);
	rd_offer_record got;
	rd_dispute *d = NULL;
	char head[41] = "x";
	char schema_line[32];
	char *dump = NULL;
	size_t count = 0;
	int found = 0;
	int version = -1;
	const char *id = "01J00000000000000000000001";

	CHECK(st);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, 2);
	/* schema 3 functions say what they need */
	CHECK_FAILS(rd_store_head_get(st, id, head, &err), RD_EINTERNAL);
	CHECK_HAS(err.message, "schema 3");
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_EINTERNAL);
	CHECK_HAS(err.message, "schema 3");
	CHECK_OK(rd_store_offer_insert(st, &o, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* an evidence row as a schema 2 redress wrote it */
	CHECK(sqlite3_exec(rd_store_db(st),
			   "INSERT INTO evidence (dispute_id, n, kind, "
			   "channel, submitted_by, added_at, content_type, "
			   "size, sha256, original_name) VALUES "
			   "('01J00000000000000000000001', 1, 'photo', "
			   "'chat', 'agent:alice', 1700000201, 'image/png', "
			   "1234, '" HASH "', 'crack.png')",
			   NULL, NULL, NULL) == SQLITE_OK);
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	CHECK_OK(rd_store_dispute_get(st, id, &d, &err), &err);
	CHECK_STR(d->order_ref, "ORD-1001");
	CHECK_INT(d->item_count, 3);
	CHECK_STR(d->items[2].sku, "SKU-B");
	CHECK_OK(rd_store_head_get(st, id, head, &err), &err);
	CHECK_STR(head, "");
	CHECK_OK(rd_store_evidence_list(st, id, &rows, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(rows[0].kind, "photo");
	CHECK_STR(rows[0].original_name, "crack.png");
	CHECK_INT(rows[0].added_at, 1700000201);
	CHECK(rows[0].note == NULL);
	CHECK_STR(rows[0].path, "");
	CHECK_STR(rows[0].blob_oid, "");
	CHECK_OK(rd_store_offer_pending(st, id, &got, &found, &err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(got.offer_id, "o-1");

	/* the new columns are in the dump, after the old ones */
	CHECK_OK(rd_store_dump(st, &dump, &err), &err);
	snprintf(schema_line, sizeof(schema_line), "schema %d\n",
		 RD_STORE_SCHEMA_VERSION);
	CHECK(strncmp(dump, schema_line, strlen(schema_line)) == 0);
	CHECK_HAS(dump, "updated_at=1700000001 head=NULL\n");
	CHECK_HAS(dump, "withdrawn=0 withdrawn_reason=NULL note=NULL "
		  "path=NULL blob_oid=NULL\n");

	rd_evidence_rows_free(rows, count);
	rd_dispute_free(d);
	free(dump);
	rd_store_close(st);
	free(path);
}

static void failed_migration_3_changes_nothing(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 2; "
			    "PostgreSQL records start at 13");
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 2, 1);
	sqlite3 *db = NULL;

	CHECK(st);
	/* a column in the way of migration 3 */
	CHECK(sqlite3_exec(rd_store_db(st),
			   "ALTER TABLE evidence ADD COLUMN path TEXT",
			   NULL, NULL, NULL) == SQLITE_OK);
	rd_store_close(st);
	st = NULL;
	CHECK_FAILS(rd_store_open(&st, path, &err), RD_EIO);
	CHECK(st == NULL);
	CHECK_HAS(err.message, "migration 3");
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	/* head, added earlier in the same script, was rolled back */
	CHECK(sqlite3_exec(db, "SELECT head FROM disputes", NULL, NULL,
			   NULL) != SQLITE_OK);
	sqlite3_close(db);
	free(path);
}

/* ---- head ------------------------------------------------------------- */

static void head_get_and_set(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 2);
	rd_dispute *d = NULL;
	char head[41];
	const char *id = "01J00000000000000000000001";
	const char *missing = "01J00000000000000000000009";

	CHECK(st);
	CHECK_OK(rd_store_head_get(st, id, head, &err), &err);
	CHECK_STR(head, "");
	CHECK_FAILS(rd_store_head_get(st, missing, head, &err), RD_ENOTFOUND);
	CHECK_HAS(err.message, missing);
	/* a write outside a transaction */
	CHECK_FAILS(rd_store_head_set(st, id, HEAD_A, &err), RD_EINTERNAL);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_head_set(st, id, HEAD_A, &err), &err);
	CHECK_FAILS(rd_store_head_set(st, missing, HEAD_A, &err),
		    RD_ENOTFOUND);
	CHECK_FAILS(rd_store_head_set(st, id, "1234abcd", &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "head");
	CHECK_HAS(err.message, "1234abcd");
	CHECK_FAILS(rd_store_head_set(st, id,
				      "ABCDEF0123456789ABCDEF0123456789ABCDEF01",
				      &err), RD_EINVALID);
	CHECK_FAILS(rd_store_head_set(st, id, HEAD_A "0", &err), RD_EINVALID);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_head_get(st, id, head, &err), &err);
	CHECK_STR(head, HEAD_A);
	/* only that dispute */
	CHECK_OK(rd_store_head_get(st, "01J00000000000000000000002", head,
				   &err), &err);
	CHECK_STR(head, "");

	/* the lifecycle update leaves the head alone */
	CHECK_OK(rd_store_dispute_get(st, id, &d, &err), &err);
	free(d->state);
	d->state = strdup("investigating");
	d->version = 2;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_update(st, d, 1, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_head_get(st, id, head, &err), &err);
	CHECK_STR(head, HEAD_A);

	/* a new head replaces the old; "" records none */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_head_set(st, id, HEAD_B, &err), &err);
	CHECK_OK(rd_store_head_get(st, id, head, &err), &err);
	CHECK_STR(head, HEAD_B);
	CHECK_OK(rd_store_head_set(st, id, "", &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_head_get(st, id, head, &err), &err);
	CHECK_STR(head, "");

	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

/* ---- evidence --------------------------------------------------------- */

static void evidence_full_rows_round_trip(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 1);
	rd_evidence_row row;
	rd_evidence_row got;
	rd_evidence_row *rows = NULL;
	size_t count = 99;
	char *dump = NULL;
	const char *id = "01J00000000000000000000001";

	CHECK(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(1, 1, "photo");
	row.captured_at = 1699990000;
	row.original_name = (char *)"crack.png";
	row.note = (char *)"the base, \"cracked\"\nin two";
	snprintf(row.path, sizeof(row.path), "evidence/0001-crack.png");
	memcpy(row.blob_oid, BLOB, sizeof(BLOB));
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(1, 2, "invoice");
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	/* a blob id that is not one */
	row = evidence(1, 3, "photo");
	snprintf(row.blob_oid, sizeof(row.blob_oid), "not-a-blob");
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_EINVALID);
	CHECK_STR(err.field, "blob_oid");
	snprintf(row.blob_oid, sizeof(row.blob_oid), "%s",
		 "89ABCDEF0123456789ABCDEF0123456789ABCDEF");
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_EINVALID);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/*
	 * duplicate number, missing dispute: the database's refusals, each
	 * in a transaction of its own, rolled back
	 */
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(1, 2, "video");
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_ECONFLICT);
	rd_store_rollback(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(9, 1, "video");
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_ENOTFOUND);
	rd_store_rollback(st);

	CHECK_OK(rd_store_evidence_get(st, id, 1, &got, &err), &err);
	CHECK_STR(got.dispute_id, id);
	CHECK_INT(got.n, 1);
	CHECK_STR(got.kind, "photo");
	CHECK_STR(got.channel, "chat");
	CHECK_STR(got.submitted_by, "agent:alice");
	CHECK_INT(got.captured_at, 1699990000);
	CHECK_INT(got.added_at, 1700000201);
	CHECK_STR(got.content_type, "image/png");
	CHECK_INT(got.size, 1234);
	CHECK_STR(got.sha256, HASH);
	CHECK_STR(got.original_name, "crack.png");
	CHECK_INT(got.withdrawn, 0);
	CHECK(got.withdrawn_reason == NULL);
	CHECK_STR(got.note, "the base, \"cracked\"\nin two");
	CHECK_STR(got.path, "evidence/0001-crack.png");
	CHECK_STR(got.blob_oid, BLOB);
	rd_evidence_row_clear(&got);
	CHECK(got.note == NULL && got.original_name == NULL);
	rd_evidence_row_clear(&got);  /* twice is harmless */

	CHECK_OK(rd_store_evidence_get(st, id, 2, &got, &err), &err);
	CHECK_STR(got.kind, "invoice");
	CHECK_INT(got.captured_at, 0);
	CHECK(got.note == NULL);
	CHECK(got.original_name == NULL);
	CHECK_STR(got.path, "");
	CHECK_STR(got.blob_oid, "");
	rd_evidence_row_clear(&got);

	CHECK_FAILS(rd_store_evidence_get(st, id, 3, &got, &err),
		    RD_ENOTFOUND);
	CHECK_HAS(err.message, "evidence 3");
	CHECK_FAILS(rd_store_evidence_get(st, "01J00000000000000000000009", 1,
					  &got, &err), RD_ENOTFOUND);

	CHECK_OK(rd_store_evidence_list(st, id, &rows, &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_INT(rows[0].n, 1);
	CHECK_STR(rows[0].blob_oid, BLOB);
	CHECK_INT(rows[1].n, 2);
	rd_evidence_rows_free(rows, count);
	rows = NULL;
	CHECK_OK(rd_store_evidence_list(st, "01J00000000000000000000009",
					&rows, &count, &err), &err);
	CHECK_INT(count, 0);
	rd_evidence_rows_free(rows, count);
	rd_evidence_rows_free(NULL, 0);

	/* the new columns are dumped, escaped like any text */
	CHECK_OK(rd_store_dump(st, &dump, &err), &err);
	CHECK_HAS(dump, "note=\"the base, \\\"cracked\\\"\\x0ain two\" "
		  "path=\"evidence/0001-crack.png\" blob_oid=\"" BLOB "\"\n");
	CHECK_HAS(dump, "n=2 kind=\"invoice\"");
	CHECK_HAS(dump, "note=NULL path=NULL blob_oid=NULL\n");
	free(dump);
	rd_store_close(st);
	free(path);
}

static void evidence_withdraw_semantics(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 1);
	rd_evidence_row row;
	rd_evidence_row *rows = NULL;
	char **kinds = NULL;
	size_t kind_count = 0;
	size_t total = 0;
	size_t count = 0;
	const char *id = "01J00000000000000000000001";

	CHECK(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(1, 1, "photo");
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(1, 2, "invoice");
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(1, 3, "photo");
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_FAILS(rd_store_evidence_withdraw(st, id, 2, "wrong file", &err),
		    RD_EINTERNAL);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_evidence_withdraw(st, id, 2, "", &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "reason");
	CHECK_FAILS(rd_store_evidence_withdraw(st, id, 2, NULL, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "reason");
	CHECK_OK(rd_store_evidence_withdraw(st, id, 2, "wrong file", &err),
		 &err);
	CHECK_FAILS(rd_store_evidence_withdraw(st, id, 2, "again", &err),
		    RD_ECONFLICT);
	CHECK_HAS(err.message, "already withdrawn");
	CHECK_FAILS(rd_store_evidence_withdraw(st, id, 7, "gone", &err),
		    RD_ENOTFOUND);
	CHECK_HAS(err.message, "evidence 7");
	CHECK_FAILS(rd_store_evidence_withdraw(st,
					       "01J00000000000000000000009",
					       1, "gone", &err),
		    RD_ENOTFOUND);
	CHECK_OK(rd_store_commit(st, &err), &err);

	/* the invoice no longer counts towards guards... */
	CHECK_OK(rd_store_evidence_kinds(st, id, &kinds, &kind_count, &total,
					 &err), &err);
	CHECK_INT(kind_count, 1);
	CHECK_STR(kinds[0], "photo");
	CHECK_INT(total, 2);
	rd_strings_free(kinds, kind_count);

	/* ...but stays listed, with the first reason kept */
	CHECK_OK(rd_store_evidence_list(st, id, &rows, &count, &err), &err);
	CHECK_INT(count, 3);
	CHECK_INT(rows[0].withdrawn, 0);
	CHECK(rows[0].withdrawn_reason == NULL);
	CHECK_INT(rows[1].n, 2);
	CHECK_INT(rows[1].withdrawn, 1);
	CHECK_STR(rows[1].withdrawn_reason, "wrong file");
	CHECK_INT(rows[2].withdrawn, 0);
	rd_evidence_rows_free(rows, count);
	rd_store_close(st);
	free(path);
}

static void evidence_next_number(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 2);
	rd_evidence_row row;
	int64_t next = 0;
	const char *id = "01J00000000000000000000001";

	CHECK(st);
	CHECK_OK(rd_store_evidence_next(st, id, &next, &err), &err);
	CHECK_INT(next, 1);
	CHECK_OK(rd_store_evidence_next(st, "01J00000000000000000000009",
					&next, &err), &err);
	CHECK_INT(next, 1);

	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(1, 1, "photo");
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(1, 5, "photo");
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(1, 2, "photo");
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_evidence_next(st, id, &next, &err), &err);
	CHECK_INT(next, 6);
	/* a withdrawn item keeps its number */
	CHECK_OK(rd_store_evidence_withdraw(st, id, 5, "duplicate", &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_evidence_next(st, id, &next, &err), &err);
	CHECK_INT(next, 6);
	/* numbering is per dispute */
	CHECK_OK(rd_store_evidence_next(st, "01J00000000000000000000002",
					&next, &err), &err);
	CHECK_INT(next, 1);
	rd_store_close(st);
	free(path);
}

/* ---- rebuilding ------------------------------------------------------- */

static void replace_absent_dispute_inserts_it(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 0);
	rd_dispute *d = sample_dispute(4, 2);
	rd_dispute *got = NULL;
	rd_deadline due[4];
	size_t count = 0;
	int64_t seq = -1;
	char head[41];

	CHECK(st && d);
	free(d->state);
	d->state = strdup("offer_pending");
	d->version = 3;
	d->deadline_at = 1700090000;
	d->deadline_event = strdup("expire_offer");
	CHECK_FAILS(rd_store_dispute_replace(st, d, &err), RD_EINTERNAL);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_replace(st, d, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_STR(got->order_ref, "ORD-1001");
	CHECK_STR(got->state, "offer_pending");
	CHECK_INT(got->version, 3);
	CHECK_INT(got->item_count, 2);
	CHECK_STR(got->items[0].sku, "SKU-C");
	CHECK_STR(got->items[1].sku, "SKU-A");
	CHECK_INT(got->items[1].unit_price, 2000);
	CHECK_INT(got->deadline_at, 1700090000);
	CHECK_STR(got->deadline_event, "expire_offer");
	/* the deadline applies to the state the dispute is in */
	CHECK_OK(rd_store_deadlines_due(st, 1700090000, due, 4, &count, &err),
		 &err);
	CHECK_INT(count, 1);
	CHECK_STR(due[0].state, "offer_pending");
	CHECK_OK(rd_store_events_max_seq(st, d->id, &seq, &err), &err);
	CHECK_INT(seq, 0);
	CHECK_OK(rd_store_head_get(st, d->id, head, &err), &err);
	CHECK_STR(head, "");

	/* a snapshot pinned to a workflow the index never saw */
	rd_test_make_id(d->id, 5);
	memcpy(d->workflow_hash, OTHER_HASH, sizeof(OTHER_HASH));
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_replace(st, d, &err), RD_ENOTFOUND);
	rd_store_rollback(st);

	rd_dispute_free(got);
	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

static void replace_present_dispute_keeps_history(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 2);
	rd_dispute *d = sample_dispute(1, 1);
	rd_dispute *got = NULL;
	rd_event_record ev;
	rd_evidence_row row = evidence(1, 1, "photo");
	rd_offer_record o = offer("o-1", RD_OFFER_MADE, 1700000300);
	rd_offer_record *offers = NULL;
	rd_deadline due[4];
	size_t count = 0;
	size_t total = 0;
	size_t kind_count = 0;
	char **kinds = NULL;
	char *before = NULL;
	char *after = NULL;
	char *events_before = NULL;
	char *events_after = NULL;
	char *other_before = NULL;
	char *other_after = NULL;
	char head[41];
	int64_t seq = 0;

	CHECK(st && d);
	CHECK_OK(rd_store_begin(st, &err), &err);
	ev = rd_test_event_record(1, 1, "opened", NULL, "opened");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = rd_test_event_record(1, 2, "investigate", "opened",
				  "investigating");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = rd_test_event_record(1, 3, "make_offer", "investigating",
				  "offer_pending");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_offer_insert(st, &o, &err), &err);
	CHECK_OK(rd_store_head_set(st, d->id, HEAD_A, &err), &err);
	CHECK_OK(rd_store_deadline_set(st, d->id, 1700086400, "escalate",
				       "opened", &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_dump(st, &before, &err), &err);
	events_before = dump_section(before, "events");
	CHECK(events_before);
	CHECK_HAS(events_before, "seq=3");

	/* the snapshot: another document, one item, no deadline */
	free(d->order_ref);
	d->order_ref = strdup("ORD-2002");
	free(d->description);
	d->description = strdup("rebuilt");
	free(d->state);
	d->state = strdup("resolved");
	d->outcome = strdup("refunded");
	free(d->assignee);
	d->assignee = NULL;
	d->return_cost = 900;
	d->version = 7;
	d->updated_at = 1700005000;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_replace(st, d, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_STR(got->order_ref, "ORD-2002");
	CHECK_STR(got->description, "rebuilt");
	CHECK_STR(got->state, "resolved");
	CHECK_STR(got->outcome, "refunded");
	CHECK(got->assignee == NULL);
	CHECK_INT(got->return_cost, 900);
	CHECK_INT(got->version, 7);
	CHECK_INT(got->updated_at, 1700005000);
	CHECK_INT(got->item_count, 1);
	CHECK_STR(got->items[0].sku, "SKU-C");
	CHECK_INT(got->deadline_at, 0);
	CHECK(got->deadline_event == NULL);
	rd_dispute_free(got);
	got = NULL;
	CHECK_OK(rd_store_deadlines_due(st, INT64_MAX, due, 4, &count, &err),
		 &err);
	CHECK_INT(count, 0);

	/* the history and everything else that refers to it is untouched */
	CHECK_OK(rd_store_events_max_seq(st, d->id, &seq, &err), &err);
	CHECK_INT(seq, 3);
	CHECK_OK(rd_store_dump(st, &after, &err), &err);
	events_after = dump_section(after, "events");
	CHECK(events_after);
	CHECK_STR(events_after, events_before);
	free(other_before);
	free(other_after);
	other_before = dump_section(before, "evidence");
	other_after = dump_section(after, "evidence");
	CHECK(other_before && other_after);
	CHECK_STR(other_after, other_before);
	free(other_before);
	free(other_after);
	other_before = dump_section(before, "offers");
	other_after = dump_section(after, "offers");
	CHECK(other_before && other_after);
	CHECK_STR(other_after, other_before);
	CHECK_OK(rd_store_evidence_kinds(st, d->id, &kinds, &kind_count,
					 &total, &err), &err);
	CHECK_INT(total, 1);
	rd_strings_free(kinds, kind_count);
	CHECK_OK(rd_store_offers_list(st, d->id, &offers, &count, &err),
		 &err);
	CHECK_INT(count, 1);
	free(offers);
	CHECK_OK(rd_store_head_get(st, d->id, head, &err), &err);
	CHECK_STR(head, HEAD_A);
	/* the other dispute keeps its three items */
	CHECK_OK(rd_store_dispute_get(st, "01J00000000000000000000002", &got,
				      &err), &err);
	CHECK_INT(got->item_count, 3);
	rd_dispute_free(got);
	got = NULL;

	/* a snapshot with a deadline sets it again, for its state */
	free(d->state);
	d->state = strdup("escalated");
	free(d->outcome);
	d->outcome = NULL;
	d->deadline_at = 1700099999;
	d->deadline_event = strdup("resume");
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_replace(st, d, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_deadlines_due(st, INT64_MAX, due, 4, &count, &err),
		 &err);
	CHECK_INT(count, 1);
	CHECK_INT(due[0].due_at, 1700099999);
	CHECK_STR(due[0].event, "resume");
	CHECK_STR(due[0].state, "escalated");

	/* a deadline without its event is refused, and rolled back whole */
	free(d->deadline_event);
	d->deadline_event = NULL;
	free(d->order_ref);
	d->order_ref = strdup("ORD-3003");
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_replace(st, d, &err), RD_EINVALID);
	CHECK_STR(err.field, "event");
	rd_store_rollback(st);
	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_STR(got->order_ref, "ORD-2002");

	rd_dispute_free(got);
	rd_dispute_free(d);
	free(before);
	free(after);
	free(events_before);
	free(events_after);
	free(other_before);
	free(other_after);
	rd_store_close(st);
	free(path);
}

static void evidence_upsert_replaces_by_key(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 1);
	rd_evidence_row row;
	rd_evidence_row got;
	rd_evidence_row *rows = NULL;
	size_t count = 0;
	const char *id = "01J00000000000000000000001";

	CHECK(st);
	row = evidence(1, 1, "photo");
	CHECK_FAILS(rd_store_evidence_upsert(st, &row, &err), RD_EINTERNAL);
	CHECK_OK(rd_store_begin(st, &err), &err);
	/* absent: inserted */
	CHECK_OK(rd_store_evidence_upsert(st, &row, &err), &err);
	row = evidence(1, 2, "invoice");
	CHECK_OK(rd_store_evidence_upsert(st, &row, &err), &err);
	/* present: every member replaced */
	row = evidence(1, 1, "video");
	row.withdrawn = 1;
	row.withdrawn_reason = (char *)"blurred";
	row.note = (char *)"second take";
	row.size = 99;
	snprintf(row.path, sizeof(row.path), "evidence/0001-take.mp4");
	memcpy(row.blob_oid, BLOB, sizeof(BLOB));
	CHECK_OK(rd_store_evidence_upsert(st, &row, &err), &err);
	row = evidence(1, 3, "photo");
	snprintf(row.blob_oid, sizeof(row.blob_oid), "zz");
	CHECK_FAILS(rd_store_evidence_upsert(st, &row, &err), RD_EINVALID);
	CHECK_STR(err.field, "blob_oid");
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* the database's refusal in a transaction of its own, rolled back */
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(9, 1, "photo");
	CHECK_FAILS(rd_store_evidence_upsert(st, &row, &err), RD_ENOTFOUND);
	rd_store_rollback(st);

	CHECK_OK(rd_store_evidence_list(st, id, &rows, &count, &err), &err);
	CHECK_INT(count, 2);
	rd_evidence_rows_free(rows, count);
	CHECK_OK(rd_store_evidence_get(st, id, 1, &got, &err), &err);
	CHECK_STR(got.kind, "video");
	CHECK_INT(got.size, 99);
	CHECK_INT(got.withdrawn, 1);
	CHECK_STR(got.withdrawn_reason, "blurred");
	CHECK_STR(got.note, "second take");
	CHECK_STR(got.path, "evidence/0001-take.mp4");
	CHECK_STR(got.blob_oid, BLOB);
	rd_evidence_row_clear(&got);

	/* and back: NULL and "" members clear what was there */
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(1, 1, "photo");
	CHECK_OK(rd_store_evidence_upsert(st, &row, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_evidence_get(st, id, 1, &got, &err), &err);
	CHECK_STR(got.kind, "photo");
	CHECK_INT(got.withdrawn, 0);
	CHECK(got.withdrawn_reason == NULL);
	CHECK(got.note == NULL);
	CHECK_STR(got.path, "");
	CHECK_STR(got.blob_oid, "");
	rd_evidence_row_clear(&got);
	rd_store_close(st);
	free(path);
}

static void offer_upsert_keeps_one_made(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 1);
	rd_offer_record o;
	rd_offer_record got;
	rd_offer_record *list = NULL;
	size_t count = 0;
	int found = 0;
	const char *id = "01J00000000000000000000001";

	CHECK(st);
	o = offer("o-1", RD_OFFER_MADE, 1700000300);
	CHECK_FAILS(rd_store_offer_upsert(st, &o, &err), RD_EINTERNAL);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_offer_upsert(st, &o, &err), &err);
	/* the same offer again, changed: replaced, not a conflict */
	o.buyer_refund = 2500;
	o.seller_cost = RD_AMOUNT_UNSET;
	CHECK_OK(rd_store_offer_upsert(st, &o, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/*
	 * a second offer awaiting an answer is still refused (in a
	 * transaction of its own, rolled back)
	 */
	CHECK_OK(rd_store_begin(st, &err), &err);
	o = offer("o-2", RD_OFFER_MADE, 1700000400);
	CHECK_FAILS(rd_store_offer_upsert(st, &o, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, "awaiting an answer");
	rd_store_rollback(st);
	/* once the first is decided, the second fits */
	CHECK_OK(rd_store_begin(st, &err), &err);
	o = offer("o-1", RD_OFFER_REJECTED, 1700000300);
	o.decided_at = 1700000350;
	CHECK_OK(rd_store_offer_upsert(st, &o, &err), &err);
	o = offer("o-2", RD_OFFER_MADE, 1700000400);
	o.type = RD_OFFER_RESHIPMENT;
	o.buyer_refund = 0;
	o.buyer_copay = 700;
	CHECK_OK(rd_store_offer_upsert(st, &o, &err), &err);
	o.type = RD_OFFER_TYPE_COUNT;
	CHECK_FAILS(rd_store_offer_upsert(st, &o, &err), RD_EINVALID);
	CHECK_STR(err.field, "type");
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	o = offer("o-3", RD_OFFER_REJECTED, 1700000500);
	rd_test_make_id(o.dispute_id, 9);
	CHECK_FAILS(rd_store_offer_upsert(st, &o, &err), RD_ENOTFOUND);
	rd_store_rollback(st);

	CHECK_OK(rd_store_offers_list(st, id, &list, &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(list[0].offer_id, "o-1");
	CHECK_STR(list[0].status, "rejected");
	CHECK_INT(list[0].buyer_refund, 2000);
	CHECK_INT(list[0].seller_cost, 2000);
	CHECK_INT(list[0].decided_at, 1700000350);
	CHECK_STR(list[1].offer_id, "o-2");
	free(list);
	CHECK_OK(rd_store_offer_pending(st, id, &got, &found, &err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(got.offer_id, "o-2");
	CHECK_INT(got.type, RD_OFFER_RESHIPMENT);
	CHECK_INT(got.buyer_copay, 700);
	rd_store_close(st);
	free(path);
}

static void events_max_seq(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 2);
	rd_event_record ev;
	int64_t seq = -1;

	CHECK(st);
	CHECK_OK(rd_store_events_max_seq(st, "01J00000000000000000000001",
					 &seq, &err), &err);
	CHECK_INT(seq, 0);
	CHECK_OK(rd_store_begin(st, &err), &err);
	ev = rd_test_event_record(1, 1, "opened", NULL, "opened");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = rd_test_event_record(1, 2, "investigate", "opened",
				  "investigating");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = rd_test_event_record(2, 1, "opened", NULL, "opened");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	/* seen inside the transaction that wrote them */
	CHECK_OK(rd_store_events_max_seq(st, "01J00000000000000000000001",
					 &seq, &err), &err);
	CHECK_INT(seq, 2);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_events_max_seq(st, "01J00000000000000000000002",
					 &seq, &err), &err);
	CHECK_INT(seq, 1);
	CHECK_OK(rd_store_events_max_seq(st, "01J00000000000000000000009",
					 &seq, &err), &err);
	CHECK_INT(seq, 0);
	rd_store_close(st);
	free(path);
}

#define ID_COUNT 257

static void dispute_ids_in_pages(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 0);
	char **ids = NULL;
	char after[RD_ID_BUFSZ] = "";
	char expected[RD_ID_BUFSZ];
	size_t count = 99;
	size_t seen = 0;
	int pages = 0;

	CHECK(st);
	CHECK_OK(rd_store_dispute_ids(st, "", 10, &ids, &count, &err), &err);
	CHECK_INT(count, 0);
	rd_strings_free(ids, count);

	/* inserted out of order: 1, 3, 5 ... then 2, 4, 6 ... */
	CHECK_OK(rd_store_begin(st, &err), &err);
	for (int pass = 1; pass <= 2; pass++) {
		for (int n = pass; n <= ID_COUNT; n += 2) {
			rd_dispute *d = sample_dispute(n, 1);

			CHECK(d);
			CHECK_OK(rd_store_dispute_insert(st, d, &err), &err);
			rd_dispute_free(d);
		}
	}
	CHECK_OK(rd_store_commit(st, &err), &err);

	for (;;) {
		ids = NULL;
		CHECK_OK(rd_store_dispute_ids(st, after, 100, &ids, &count,
					      &err), &err);
		if (count == 0) {
			rd_strings_free(ids, count);
			break;
		}
		CHECK(count <= 100);
		pages++;
		for (size_t i = 0; i < count; i++) {
			rd_test_make_id(expected, (int)(seen + i) + 1);
			if (strcmp(ids[i], expected) != 0) {
				rd_test_fail(__FILE__, __LINE__,
					     "id %zu is %s, expected %s",
					     seen + i, ids[i], expected);
				rd_strings_free(ids, count);
				return;
			}
		}
		seen += count;
		snprintf(after, sizeof(after), "%s", ids[count - 1]);
		rd_strings_free(ids, count);
	}
	CHECK_INT(seen, ID_COUNT);
	CHECK_INT(pages, 3);

	/* any string is a starting point; max 0 asks for nothing */
	ids = NULL;
	CHECK_OK(rd_store_dispute_ids(st, "01J00000000000000000000250", 100,
				      &ids, &count, &err), &err);
	CHECK_INT(count, 7);
	CHECK_STR(ids[0], "01J00000000000000000000251");
	rd_strings_free(ids, count);
	ids = NULL;
	CHECK_OK(rd_store_dispute_ids(st, "01J000000000000000000001", 2, &ids,
				      &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(ids[0], "01J00000000000000000000100");
	CHECK_STR(ids[1], "01J00000000000000000000101");
	rd_strings_free(ids, count);
	ids = NULL;
	CHECK_OK(rd_store_dispute_ids(st, NULL, 1, &ids, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(ids[0], "01J00000000000000000000001");
	rd_strings_free(ids, count);
	ids = NULL;
	CHECK_OK(rd_store_dispute_ids(st, "", 0, &ids, &count, &err), &err);
	CHECK_INT(count, 0);
	CHECK(ids == NULL);
	rd_store_close(st);
	free(path);
}

/* The new lookups seek a primary key; none scans a table or sorts. */
static void schema3_plans_seek(void)
{
	RD_TEST_SQLITE_ONLY("SQLite's query plans (EXPLAIN QUERY PLAN)");
	static const struct {
		int stmt;
		const char *search;
	} plans[] = {
		{ RD_STMT_DISPUTE_IDS, "disputes USING PRIMARY KEY (id>?)" },
		{ RD_STMT_HEAD_GET, "disputes USING PRIMARY KEY (id=?)" },
		{ RD_STMT_HEAD_SET, "disputes USING PRIMARY KEY (id=?)" },
		{ RD_STMT_ITEMS_DELETE,
		  "items USING PRIMARY KEY (dispute_id=?)" },
		{ RD_STMT_EVENTS_MAX_SEQ,
		  "events USING PRIMARY KEY (dispute_id=?)" },
		{ RD_STMT_EVIDENCE_OF,
		  "evidence USING PRIMARY KEY (dispute_id=?)" },
		{ RD_STMT_EVIDENCE_GET,
		  "evidence USING PRIMARY KEY (dispute_id=? AND n=?)" },
		{ RD_STMT_EVIDENCE_NEXT,
		  "evidence USING PRIMARY KEY (dispute_id=?)" },
		{ RD_STMT_EVIDENCE_WITHDRAW,
		  "evidence USING PRIMARY KEY (dispute_id=? AND n=?)" },
		{ RD_STMT_EVIDENCE_WITHDRAWN,
		  "evidence USING PRIMARY KEY (dispute_id=? AND n=?)" },
	};
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, RD_STORE_SCHEMA_VERSION, 0);

	CHECK(st);
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		char plan[1024];

		rd_test_stmt_plan(st, plans[i].stmt, plan, sizeof(plan));
		CHECK_HAS(plan, plans[i].search);
		if (strstr(plan, "SCAN") || strstr(plan, "TEMP B-TREE")) {
			rd_test_fail(__FILE__, __LINE__, "plan %d: %s",
				     plans[i].stmt, plan);
			break;
		}
	}
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(migrates_version_2_keeping_data);
	RUN(failed_migration_3_changes_nothing);
	RUN(head_get_and_set);
	RUN(evidence_full_rows_round_trip);
	RUN(evidence_withdraw_semantics);
	RUN(evidence_next_number);
	RUN(replace_absent_dispute_inserts_it);
	RUN(replace_present_dispute_keeps_history);
	RUN(evidence_upsert_replaces_by_key);
	RUN(offer_upsert_keeps_one_made);
	RUN(events_max_seq);
	RUN(dispute_ids_in_pages);
	RUN(schema3_plans_seek);
	return rd_test_summary();
}
