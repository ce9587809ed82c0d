/*
 * Store schema: migrations from nothing and from an older schema, refusal
 * of a newer one, atomic migrations, and the connection settings (WAL,
 * synchronous FULL, foreign keys).
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

static long long table_count(sqlite3 *db)
{
	return raw_int(db, "SELECT count(*) FROM sqlite_schema "
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
	 * objects refs changes mirror_state mirror_packs record_state */
	CHECK_INT(table_count(rd_store_db(st)), 21);
	CHECK_INT(raw_int(rd_store_db(st), "SELECT count(*) FROM sqlite_schema"
			  " WHERE name = 'offers_one_made'"), 1);
	/* events append-only (2), running totals (6), the overview's (8),
	 * the evidence usage's (3) */
	CHECK_INT(raw_int(rd_store_db(st), "SELECT count(*) FROM sqlite_schema"
			  " WHERE type = 'trigger'"), 19);
	CHECK_INT(raw_int(rd_store_db(st), "SELECT strict FROM "
			  "pragma_table_list WHERE name = 'disputes'"), 1);
	rd_store_close(st);
	free(path);
}

static void connection_settings(void)
{
	rd_error err;
	rd_store *st = NULL;
	sqlite3 *other = NULL;
	char *path = rd_test_db_path();

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK(raw_text_is(rd_store_db(st), "PRAGMA journal_mode", "wal"));
	CHECK_INT(raw_int(rd_store_db(st), "PRAGMA synchronous"), 2); /* FULL */
	CHECK_INT(raw_int(rd_store_db(st), "PRAGMA foreign_keys"), 1);
	/* WAL is a property of the file: another connection sees it too */
	CHECK(sqlite3_open(path, &other) == SQLITE_OK);
	CHECK(raw_text_is(other, "PRAGMA journal_mode", "wal"));
	sqlite3_close(other);
	rd_store_close(st);
	free(path);
}

static void migrates_version_1_keeping_data(void)
{
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
	CHECK_INT(table_count(rd_store_db(st)), 5);
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
	CHECK_INT(table_count(rd_store_db(st)), 21);
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
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
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

int main(void)
{
	RUN(migrates_empty_file_to_latest);
	RUN(connection_settings);
	RUN(migrates_version_1_keeping_data);
	RUN(reopening_applies_nothing);
	RUN(newer_schema_refused);
	RUN(failed_migration_changes_nothing);
	RUN(unusable_files_refused);
	return rd_test_summary();
}
