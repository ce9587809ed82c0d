/*
 * Evidence quotas of schema 9: a database of schema 8 with evidence in it,
 * opened by this build, starts with the usage of the rows already there,
 * per storefront and UTC day; the triggers then follow inserts, rebuilt
 * rows and refused inserts (not counted), withdrawn evidence included; a
 * storefront's settings go in and come back, NULL as the default; the
 * usage list keeps the largest storefronts and sums the rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH
#define DAY 86400
/* 1700000200 is in UTC day 19675 */
#define TODAY (1700000200 / DAY)

static int insert_dispute(rd_store *st, int n, const char *storefront,
			  rd_error *err)
{
	rd_dispute *d = rd_test_stored_dispute(n, storefront,
					       RD_REASON_DAMAGED, "opened",
					       1700000000 + n);
	int rc = d ? rd_store_dispute_insert(st, d, err) : RD_ENOMEM;

	rd_dispute_free(d);
	return rc;
}

static rd_evidence_row evidence(int n, int64_t number, int64_t size,
				int64_t added_at)
{
	rd_evidence_row row = rd_test_evidence_row(n, number, "note");

	snprintf(row.content_type, sizeof(row.content_type), "text/plain");
	row.size = size;
	row.added_at = added_at;
	return row;
}

static void check_usage(rd_store *st, const char *storefront, int64_t day,
			int64_t total, int64_t today)
{
	rd_evidence_usage usage;
	rd_error err;

	CHECK_OK(rd_store_usage_get(st, storefront, day, &usage, &err), &err);
	CHECK_INT(usage.total, total);
	CHECK_INT(usage.today, today);
}

/* Schema 8 with evidence, then opened by this build: usage from the rows. */
static void migration_counts_existing_evidence(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 8; "
			    "PostgreSQL records start at 13");
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_evidence_usage usage;
	rd_evidence_row row;
	rd_error err;
	int version = 0;

	CHECK_OK(rd_store_open_at_version(&st, path, 8, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(insert_dispute(st, 1, "acme-eu", &err), &err);
	CHECK_OK(insert_dispute(st, 2, "acme-eu", &err), &err);
	CHECK_OK(insert_dispute(st, 3, "other-shop", &err), &err);
	row = evidence(1, 1, 1000, 1700000200 - DAY);   /* yesterday */
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(1, 2, 200, 1700000200);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(2, 1, 30, 1700000300);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(3, 1, 4, 1700000200);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_evidence_withdraw(st, "01J00000000000000000000001",
					    2, "wrong file", &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* schema 8 has no usage to read */
	CHECK_FAILS(rd_store_usage_get(st, "acme-eu", TODAY, &usage, &err),
		    RD_EINTERNAL);
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	/* withdrawn evidence stays stored, and counted */
	check_usage(st, "acme-eu", TODAY, 1230, 230);
	check_usage(st, "acme-eu", TODAY - 1, 1230, 1000);
	check_usage(st, "other-shop", TODAY, 4, 4);
	check_usage(st, "nobody", TODAY, 0, 0);

	/* the triggers: an insert, a rebuilt size, a refused insert */
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(2, 2, 70, 1700000400);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(1, 1, 900, 1700000200 - DAY);
	CHECK_OK(rd_store_evidence_upsert(st, &row, &err), &err);
	row = evidence(2, 2, 5000, 1700000400);
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_ECONFLICT);
	CHECK_OK(rd_store_commit(st, &err), &err);
	check_usage(st, "acme-eu", TODAY, 900 + 200 + 30 + 70, 300);
	/* a rolled-back insert counts for nothing */
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(3, 2, 99999, 1700000200);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	rd_store_rollback(st);
	check_usage(st, "other-shop", TODAY, 4, 4);

	rd_store_close(st);
	free(path);
}

static void settings_and_list(void)
{
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_storefront_quota q, *all = NULL;
	rd_evidence_usage *usage = NULL, others;
	rd_evidence_row row;
	size_t count = 0;
	rd_error err;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_quota_get(st, "acme-eu", &q, &err), &err);
	CHECK_INT(q.daily, RD_QUOTA_DEFAULT);
	CHECK_INT(q.total, RD_QUOTA_DEFAULT);
	CHECK_INT(q.updated_at, 0);

	memset(&q, 0, sizeof(q));
	snprintf(q.storefront, sizeof(q.storefront), "acme-eu");
	q.daily = 5000;
	q.total = RD_QUOTA_DEFAULT;
	q.updated_at = 1700000000;
	/* outside a transaction: refused */
	CHECK_FAILS(rd_store_quota_put(st, &q, &err), RD_EINTERNAL);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_quota_put(st, &q, &err), &err);
	snprintf(q.storefront, sizeof(q.storefront), "other-shop");
	q.daily = RD_QUOTA_DEFAULT;
	q.total = 0;
	CHECK_OK(rd_store_quota_put(st, &q, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_quota_get(st, "acme-eu", &q, &err), &err);
	CHECK_INT(q.daily, 5000);
	CHECK_INT(q.total, RD_QUOTA_DEFAULT);
	CHECK_OK(rd_store_quotas_list(st, &all, &count, &err), &err);
	CHECK_INT((int64_t)count, 2);
	if (count == 2) {
		CHECK_STR(all[1].storefront, "other-shop");
		CHECK_INT(all[1].total, 0);
		CHECK_INT(all[1].daily, RD_QUOTA_DEFAULT);
	}
	free(all);

	/* three storefronts, the two largest by name, the third summed */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(insert_dispute(st, 1, "acme-eu", &err), &err);
	CHECK_OK(insert_dispute(st, 2, "big-shop", &err), &err);
	CHECK_OK(insert_dispute(st, 3, "small-shop", &err), &err);
	row = evidence(1, 1, 500, 1700000200);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(2, 1, 900, 1700000200 - DAY);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(3, 1, 7, 1700000200);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_usage_list(st, TODAY, 2, &usage, &count, &others,
				     &err), &err);
	CHECK_INT((int64_t)count, 2);
	if (count == 2) {
		CHECK_STR(usage[0].storefront, "big-shop");
		CHECK_INT(usage[0].total, 900);
		CHECK_INT(usage[0].today, 0);
		CHECK_STR(usage[1].storefront, "acme-eu");
		CHECK_INT(usage[1].today, 500);
	}
	CHECK_INT(others.total, 7);
	CHECK_INT(others.today, 7);
	free(usage);

	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(migration_counts_existing_evidence);
	RUN(settings_and_list);
	return rd_test_summary();
}
