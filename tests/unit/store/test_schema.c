/*
 * Store schema: migrations from nothing and from an older schema, refusal
 * of a newer one, atomic migrations, and the connection settings (WAL,
 * synchronous FULL, foreign keys); the record's objects (schema 13):
 * stored in the order of their changes, found by id, an object stored
 * twice kept once, and the migration from schema 12 keeping every object
 * and putting the rows in change order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* One integer answer of a query on a raw connection, or -1. */
static long long raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	long long value = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

static int raw_text_is(sqlite3 *db, const char *sql, const char *expected)
{
	sqlite3_stmt *stmt = NULL;
	int same = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(stmt, 0);

		same = text && strcmp(text, expected) == 0;
	}
	sqlite3_finalize(stmt);
	return same;
}

/*
 * One integer answer of a query on the store's own connection, through
 * the driver (either engine), or -1.
 */
static long long store_int(rd_store *st, const char *sql)
{
	rd_db_stmt *stmt = NULL;
	long long value = -1;

	if (rd_db_prepare(st->db, sql, &stmt) == RD_DB_OK &&
	    rd_db_step(stmt) == RD_DB_ROW)
		value = rd_db_column_int64(stmt, 0);
	rd_db_finalize(stmt);
	return value;
}

/*
 * The store's tables; PostgreSQL's redress_schema, which holds what
 * SQLite keeps in its user_version, is not one of them.
 */
static long long table_count(rd_store *st)
{
	if (rd_test_on_postgres())
		return store_int(st, "SELECT count(*) FROM "
				 "information_schema.tables WHERE "
				 "table_schema = current_schema() AND "
				 "table_type = 'BASE TABLE' AND "
				 "table_name <> 'redress_schema'");
	return store_int(st, "SELECT count(*) FROM sqlite_schema "
			 "WHERE type = 'table'");
}

static rd_dispute *sample_dispute(void)
{
	rd_dispute *d = rd_dispute_new();

	if (!d)
		return NULL;
	snprintf(d->id, sizeof(d->id), "01J00000000000000000000001");
	d->order_ref = strdup("ORD-1");
	d->storefront = strdup("acme-eu");
	d->buyer_ref = strdup("cust-1");
	memcpy(d->currency, "USD", 4);
	d->reason = RD_REASON_DAMAGED;
	d->channel = RD_CHANNEL_CHAT;
	d->items = calloc(1, sizeof(*d->items));
	d->item_count = 1;
	d->items[0].sku = strdup("LAMP-1");
	d->items[0].title = strdup("Desk lamp");
	d->items[0].quantity = 1;
	d->items[0].unit_price = 10000;
	d->items[0].unit_cost = RD_AMOUNT_UNSET;
	d->workflow_name = strdup("dispute");
	d->workflow_version = 1;
	memcpy(d->workflow_hash, HASH, sizeof(HASH));
	d->state = strdup("opened");
	d->version = 1;
	d->created_at = 1700000000;
	d->updated_at = 1700000000;
	return d;
}

static void migrates_empty_file_to_latest(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	int version = -1;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	/* workflows disputes items events deadlines evidence offers api_keys
	 * stats_states stats_totals idempotency stats_overview
	 * overview_buckets evidence_usage storefront_quotas; the record:
	 * objects refs changes mirror_state mirror_packs record_state
	 * mirror_saved mirror_saved_packs; on PostgreSQL, its evidence files
	 * (files file_chunks file_uploads) and its commit order (commits
	 * commit_counter) */
	/* and the search (schema 20): on SQLite search_keys, search_text
	 * with its five shadow tables; on PostgreSQL dispute_search */
	CHECK_INT(table_count(st), rd_test_on_postgres() ? 35 : 36);
	CHECK_INT(store_int(st, rd_test_on_postgres()
				      ? "SELECT count(*) FROM pg_indexes"
					" WHERE indexname = 'offers_one_made'"
				      : "SELECT count(*) FROM sqlite_schema"
					" WHERE name = 'offers_one_made'"),
		  1);
	/* the triggers and STRICT tables as SQLite has them */
	if (rd_test_on_postgres())
		goto done;
	/* events append-only (2), running totals (6), the overview's (8),
	 * the evidence usage's (3), messages never changed (1), the search
	 * index kept current (6) */
	CHECK_INT(store_int(st, "SELECT count(*) FROM sqlite_schema"
			  " WHERE type = 'trigger'"), 26);
	CHECK_INT(store_int(st, "SELECT strict FROM "
			  "pragma_table_list WHERE name = 'disputes'"), 1);
done:
	rd_store_close(st);
	free(path);
}

static void connection_settings(void)
{
	RD_TEST_SQLITE_ONLY("the file's pragmas (WAL, synchronous, foreign_keys)");
	rd_error err;
	rd_store *st = NULL;
	sqlite3 *other = NULL;
	char *path = rd_test_db_path();

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK(raw_text_is(rd_store_db(st), "PRAGMA journal_mode", "wal"));
	CHECK_INT(store_int(st, "PRAGMA synchronous"), 2); /* FULL */
	CHECK_INT(store_int(st, "PRAGMA foreign_keys"), 1);
	/* WAL is a property of the file: another connection sees it too */
	CHECK(sqlite3_open(path, &other) == SQLITE_OK);
	CHECK(raw_text_is(other, "PRAGMA journal_mode", "wal"));
	sqlite3_close(other);
	rd_store_close(st);
	free(path);
}

static void migrates_version_1_keeping_data(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 1; "
			    "PostgreSQL records start at 13");
	rd_error err;
	rd_store *st = NULL;
	rd_dispute *d = sample_dispute();
	rd_dispute *got = NULL;
	rd_offer_record offer;
	int found = 1;
	int version = -1;
	char *path = rd_test_db_path();

	CHECK(d);
	CHECK_OK(rd_store_open_at_version(&st, path, 1, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, 1);
	CHECK_INT(table_count(st), 5);
	/* the offers table does not exist yet: its functions say so */
	CHECK_FAILS(rd_store_offer_pending(st, d->id, &offer, &found, &err),
		    RD_EINTERNAL);
	CHECK_HAS(err.message, "schema 2");
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(rd_store_dispute_insert(st, d, &err), &err);
	CHECK_OK(rd_store_deadline_set(st, d->id, 1700086400, "escalate",
				       "opened", &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	CHECK_INT(table_count(st), 36);
	/* written before the search index (schema 20), found by its words */
	{
		rd_dispute_filter filter = { .q = "ord-1" };
		rd_dispute **found_list = NULL;
		size_t found_count = 0;
		char *next = NULL;

		CHECK_OK(rd_store_dispute_list(st, &filter, &found_list,
					       &found_count, &next, &err),
			 &err);
		CHECK_INT(found_count, 1);
		if (found_count == 1) {
			CHECK_STR(found_list[0]->id, d->id);
			CHECK(found_list[0]->search_rank > 0);
		}
		for (size_t i = 0; i < found_count; i++)
			rd_dispute_free(found_list[i]);
		free(found_list);
		free(next);
	}
	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_STR(got->order_ref, "ORD-1");
	CHECK_INT(got->item_count, 1);
	CHECK_INT(got->deadline_at, 1700086400);
	CHECK_OK(rd_store_offer_pending(st, d->id, &offer, &found, &err),
		 &err);
	CHECK_INT(found, 0);
	rd_dispute_free(got);
	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

static void reopening_applies_nothing(void)
{
	RD_TEST_SQLITE_ONLY("the file's write lock, held by another connection");
	rd_error err;
	rd_store *st = NULL;
	sqlite3 *locker = NULL;
	char *before = NULL;
	char *after = NULL;
	char *path = rd_test_db_path();

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_dump(st, &before, &err), &err);
	rd_store_close(st);
	st = NULL;

	/*
	 * Another writer holds the write lock: an up-to-date file opens
	 * without needing it, so nothing is being migrated.
	 */
	CHECK(sqlite3_open(path, &locker) == SQLITE_OK);
	CHECK(sqlite3_exec(locker, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
	      SQLITE_OK);
	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_dump(st, &after, &err), &err);
	CHECK_STR(after, before);
	sqlite3_exec(locker, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(locker);
	rd_store_close(st);
	free(before);
	free(after);
	free(path);
}

static void newer_schema_refused(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	char sql[64];
	char expected[80];

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	rd_store_close(st);
	st = NULL;
	/* where each engine keeps the version: schema_pg.c, schema.c */
	snprintf(sql, sizeof(sql), rd_test_on_postgres()
					   ? "UPDATE redress_schema SET version = %d"
					   : "PRAGMA user_version = %d",
		 RD_STORE_SCHEMA_VERSION + 1);
	snprintf(expected, sizeof(expected), "written by a newer redress "
		 "(schema %d, this build knows %d)",
		 RD_STORE_SCHEMA_VERSION + 1, RD_STORE_SCHEMA_VERSION);
	CHECK(rd_test_sql(path, sql) == 0);
	CHECK_FAILS(rd_store_open(&st, path, &err), RD_EINVALID);
	CHECK(st == NULL);
	CHECK_HAS(err.message, expected);
	free(path);
}

static void failed_migration_changes_nothing(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 1; "
			    "PostgreSQL records start at 13");
	rd_error err;
	rd_store *st = NULL;
	sqlite3 *db = NULL;
	char *path = rd_test_db_path();

	CHECK_OK(rd_store_open_at_version(&st, path, 1, &err), &err);
	rd_store_close(st);
	st = NULL;
	/* a table in the way of migration 2 */
	CHECK(rd_test_sql(path, "CREATE TABLE offers (x INTEGER)") == 0);
	CHECK_FAILS(rd_store_open(&st, path, &err), RD_EIO);
	CHECK_HAS(err.message, "migration 2");
	CHECK_HAS(err.message, "offers");
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK_INT(raw_int(db, "PRAGMA user_version"), 1);
	/* evidence, created earlier in the same script, was rolled back */
	CHECK_INT(raw_int(db, "SELECT count(*) FROM sqlite_schema"
			  " WHERE name = 'evidence'"), 0);
	sqlite3_close(db);
	free(path);
}

static void unusable_files_refused(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *dir = rd_test_tmpdir();
	char *garbage = rd_test_path(dir, "garbage.db");
	char *nowhere = rd_test_path(dir, "missing/dir/redress.db");

	CHECK(rd_test_write(garbage, "this is not an SQLite database, not at "
			    "all, and it is long enough to have a header\n")
	      == 0);
	CHECK_FAILS(rd_store_open(&st, garbage, &err), RD_EIO);
	CHECK_HAS(err.message, garbage);
	CHECK_FAILS(rd_store_open(&st, nowhere, &err), RD_EIO);
	CHECK_HAS(err.message, "cannot open");
	CHECK_FAILS(rd_store_open(&st, "", &err), RD_EINVALID);
	CHECK(st == NULL);
	free(garbage);
	free(nowhere);
	free(dir);
}

/* ---- the record's objects (schema 13) ---------------------------------- */

#define DISPUTE "01J00000000000000000000001"

/* An object id whose bytes spread ids apart: k and 255 - k alternate. */
static void make_id(unsigned char id[RD_OID_RAWSZ], int k)
{
	for (int i = 0; i < RD_OID_RAWSZ; i++)
		id[i] = (unsigned char)((k % 2 ? 255 - k : k) + i);
}

/* A head of 40 hex digits for change `seq`. */
static void make_head(char head[41], int seq)
{
	snprintf(head, 41, "%040x", (unsigned)seq);
}

/*
 * `changes` changes to one dispute, each storing `per` objects whose ids
 * do not grow with the change: ids are stored out of id order.
 */
static int write_changes(rd_store *st, int changes, int per, rd_error *err)
{
	char old[41] = "", head[41];
	int ret = RD_OK;

	for (int c = 1; c <= changes && ret == RD_OK; c++) {
		if ((ret = rd_store_begin(st, err)) < 0)
			break;
		for (int k = 0; k < per && ret == RD_OK; k++) {
			unsigned char id[RD_OID_RAWSZ];
			char data[32];
			int len = snprintf(data, sizeof(data), "object %d.%d", c,
					   k);

			make_id(id, (changes - c) * per + k);
			ret = rd_store_object_put(st, id, RD_OBJECT_BLOB, len,
						  data, err);
		}
		make_head(head, c);
		if (ret == RD_OK)
			ret = rd_store_ref_move(st, DISPUTE, old[0] ? old : NULL,
						head, 1700000000 + c, err);
		if (ret == RD_OK)
			ret = rd_store_commit(st, err);
		else
			rd_store_rollback(st);
		memcpy(old, head, sizeof(old));
	}
	return ret;
}

struct listed {
	int count;
	int in_order;     /* each id one of the next change's */
	int changes, per;
	int after;        /* the changes before the range listed */
};

static int note_object(void *ctx, const unsigned char id[RD_OID_RAWSZ],
		       int type, int64_t size, int in_file)
{
	struct listed *l = ctx;
	int c = l->count / l->per + 1 + l->after, of_c = 0;

	/* one of change c's objects (their order within it is free) */
	for (int k = 0; k < l->per; k++) {
		unsigned char want[RD_OID_RAWSZ];

		make_id(want, (l->changes - c) * l->per + k);
		of_c |= memcmp(id, want, RD_OID_RAWSZ) == 0;
	}
	if (!of_c || type != RD_OBJECT_BLOB || size <= 0 || in_file)
		l->in_order = 0;
	l->count++;
	return 0;
}

/* The objects of changes after..upto: each change's, change by change. */
static void check_listed(rd_store *st, int changes, int per, int after,
			 int upto)
{
	struct listed l = { 0, 1, changes, per, after };
	rd_error err;

	CHECK_OK(rd_store_objects_of_changes(st, after, upto, note_object, &l,
					     &err), &err);
	CHECK_INT(l.count, (upto - after) * per);
	CHECK(l.in_order);
}

/* Pairs of rows numbered against the order of their changes. */
static long long rows_out_of_change_order(rd_store *st)
{
	return store_int(st, "SELECT count(*) FROM objects a JOIN"
		       " objects b ON a.n < b.n AND a.change > b.change");
}

/* Every object readable by id, with its own bytes. */
static void check_objects(rd_store *st, int changes, int per)
{
	rd_error err;

	for (int c = 1; c <= changes; c++)
		for (int k = 0; k < per; k++) {
			unsigned char id[RD_OID_RAWSZ];
			char want[32];
			void *data = NULL;
			int64_t size = 0;
			int found = 0, type = 0, in_file = 1;

			make_id(id, (changes - c) * per + k);
			snprintf(want, sizeof(want), "object %d.%d", c, k);
			CHECK_OK(rd_store_object_get(st, id, &found, &type,
						     &size, &in_file, &data,
						     &err), &err);
			CHECK_INT(found, 1);
			CHECK_INT(type, RD_OBJECT_BLOB);
			CHECK_INT(in_file, 0);
			CHECK_INT(size, (int64_t)strlen(want));
			CHECK(data && memcmp(data, want, strlen(want)) == 0);
			free(data);
		}
}

static void objects_in_change_order(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	unsigned char id[RD_OID_RAWSZ];

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(write_changes(st, 6, 4, &err), &err);
	check_objects(st, 6, 4);
	check_listed(st, 6, 4, 0, 6);
	/* a range lists only its own changes' objects */
	check_listed(st, 6, 4, 2, 3);
	/* rows follow their changes: none stored after a later change's */
	CHECK_INT(rows_out_of_change_order(st), 0);
	/* an object stored again is kept once, with its first change */
	make_id(id, 0);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_object_put(st, id, RD_OBJECT_BLOB, 3, "abc", &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_INT(store_int(st, "SELECT count(*) FROM objects"), 24);
	CHECK_INT(store_int(st, "SELECT max(change) FROM objects"),
		  6);
	/* an id is 20 bytes: the table refuses any other */
	CHECK_INT(rd_db_exec(st->db, rd_test_on_postgres()
					     ? "INSERT INTO objects (id, type,"
					       " size, data, change) VALUES"
					       " ('\\x00'::bytea, 3, 0,"
					       " ''::bytea, 1)"
					     : "INSERT INTO objects (id, type,"
					       " size, data, change) VALUES"
					       " (x'00', 3, 0, x'', 1)"),
		  RD_DB_ECONSTRAINT);
	rd_store_close(st);
	free(path);
}

static void migrates_12_keeping_objects(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 12; "
			    "PostgreSQL records start at 13");
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	unsigned char id[RD_OID_RAWSZ];
	char old[41], head[41];
	int version = -1;

	CHECK_OK(rd_store_open_at_version(&st, path, 12, &err), &err);
	CHECK_OK(write_changes(st, 5, 3, &err), &err);
	/* schema 12 keyed the rows by id: no number of their own */
	CHECK_INT(store_int(st, "SELECT count(*) FROM "
			  "pragma_table_info('objects') WHERE name = 'n'"), 0);
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	check_objects(st, 5, 3);
	check_listed(st, 5, 3, 0, 5);
	/* the copied rows are numbered in change order, from 1 */
	CHECK_INT(rows_out_of_change_order(st), 0);
	CHECK_INT(store_int(st, "SELECT min(n) FROM objects"), 1);
	/* the indexes came back with the table */
	CHECK_INT(store_int(st, "SELECT count(*) FROM sqlite_schema"
			  " WHERE tbl_name = 'objects' AND type = 'index' AND"
			  " name IN ('objects_by_change', 'objects_in_files')"),
		  2);
	/* and a new object goes after the copied ones */
	make_head(old, 5);
	make_head(head, 6);
	make_id(id, 100);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_object_put(st, id, RD_OBJECT_TREE, 1, "t", &err),
		 &err);
	CHECK_OK(rd_store_ref_move(st, DISPUTE, old, head, 1700000006, &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_INT(store_int(st, "SELECT change FROM objects"
			  " WHERE n = (SELECT max(n) FROM objects)"), 6);
	CHECK_INT(store_int(st, "SELECT max(n) FROM objects"), 16);
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(migrates_empty_file_to_latest);
	RUN(connection_settings);
	RUN(migrates_version_1_keeping_data);
	RUN(reopening_applies_nothing);
	RUN(newer_schema_refused);
	RUN(failed_migration_changes_nothing);
	RUN(unusable_files_refused);
	RUN(objects_in_change_order);
	RUN(migrates_12_keeping_objects);
	return rd_test_summary();
}
