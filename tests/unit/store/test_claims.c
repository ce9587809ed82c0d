/*
 * What a connection holds so that several nodes on one record do a thing
 * once: a sweep's hold on the dispute whose deadline it fires (taken only
 * for a deadline due, inside a transaction; on PostgreSQL a dispute that
 * another transaction holds is passed over at once, never waited for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH
#define HEAD "0123456789abcdef0123456789abcdef01234567"

static rd_store *open_record(const char *path)
{
	rd_store *st = NULL;
	rd_error err;

	rd_error_clear(&err);
	if (rd_store_open(&st, path, &err) < 0) {
		fprintf(stderr, "cannot open %s: %s\n", path, err.message);
		exit(1);
	}
	return st;
}

/*
 * Disputes 1 to 3 with a head each: 1 due at 1000, 2 due at 2000, 3 due
 * at 9000; dispute 4 has no deadline.
 */
static int add_disputes(rd_store *st, rd_error *err)
{
	static const int64_t due[] = { 1000, 2000, 9000, 0 };
	int rc;

	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	rc = rd_store_workflow_put(st, HASH, "dispute", 1, "{}", err);
	for (int n = 1; rc == RD_OK && n <= 4; n++) {
		rd_dispute *d = rd_test_stored_dispute(n, "acme",
						       RD_REASON_DAMAGED,
						       "opened", 500);

		if (!d)
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		if (rc == RD_OK)
			rc = rd_store_dispute_insert(st, d, err);
		if (rc == RD_OK && due[n - 1])
			rc = rd_store_deadline_set(st, d->id, due[n - 1],
						   "escalate", "opened", err);
		if (rc == RD_OK)
			rc = rd_store_ref_move(st, d->id, NULL, HEAD, 500,
					       err);
		rd_dispute_free(d);
	}
	if (rc < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

static int claim(rd_store *st, int n, int64_t now, rd_error *err)
{
	char id[RD_ID_BUFSZ];
	int claimed = -1;
	int rc;

	rd_test_make_id(id, n);
	if ((rc = rd_store_deadline_claim(st, id, now, &claimed, err)) < 0)
		return rc;
	return claimed;
}

/* Only a deadline due is taken, and only inside a transaction. */
static void deadline_claim_takes_due_only(void)
{
	char *path = rd_test_db_path();
	rd_store *st = open_record(path);
	int claimed = -1;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(add_disputes(st, &err), &err);
	CHECK_FAILS(rd_store_deadline_claim(st, "01J", 3000, &claimed, &err),
		    RD_EINTERNAL);
	CHECK_INT(claimed, 0);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_INT(claim(st, 1, 3000, &err), 1);
	CHECK_INT(claim(st, 2, 2000, &err), 1);   /* due at that second */
	CHECK_INT(claim(st, 2, 1999, &err), 0);
	CHECK_INT(claim(st, 3, 3000, &err), 0);   /* not due yet */
	CHECK_INT(claim(st, 4, 3000, &err), 0);   /* no deadline */
	CHECK_INT(claim(st, 99, 3000, &err), 0);  /* no such dispute */
	rd_store_rollback(st);
	rd_store_close(st);
	free(path);
}

/*
 * PostgreSQL: a dispute held by another transaction, by a sweep's claim or
 * by a change's locked read of its head, is passed over at once, while
 * the other due deadlines can still be taken; once the holder ends, it
 * can be taken. (SQLite has one writer: a second transaction cannot start
 * while the first is open.) A claim that waited would run into the lock
 * timeout and fail the case.
 */
static void deadline_claim_passes_over_held(void)
{
	char *path = NULL;
	rd_store *a = NULL, *b = NULL;
	char id[RD_ID_BUFSZ], head[41];
	int found = 0;
	rd_error err;

	if (!rd_test_on_postgres()) {
		rd_test_skip("PostgreSQL only: SQLite has one writer at a "
			     "time");
		return;
	}
	rd_error_clear(&err);
	path = rd_test_db_path();
	a = open_record(path);
	b = open_record(path);
	CHECK_OK(add_disputes(a, &err), &err);
	CHECK_INT(rd_db_exec(b->db, "SET lock_timeout = '5s'"), RD_DB_OK);

	/* another sweeper holds dispute 1 */
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_INT(claim(a, 1, 3000, &err), 1);
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_INT(claim(b, 1, 3000, &err), 0);
	CHECK_INT(claim(b, 2, 3000, &err), 1);
	rd_store_rollback(b);
	rd_store_rollback(a);
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_INT(claim(b, 1, 3000, &err), 1);
	rd_store_rollback(b);

	/* a change of dispute 2 holds its head */
	rd_test_make_id(id, 2);
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_OK(rd_store_ref_get(a, id, head, &found, &err), &err);
	CHECK_INT(found, 1);
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_INT(claim(b, 2, 3000, &err), 0);
	CHECK_INT(claim(b, 1, 3000, &err), 1);
	rd_store_rollback(b);
	rd_store_rollback(a);
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_INT(claim(b, 2, 3000, &err), 1);
	rd_store_rollback(b);

	rd_store_close(b);
	rd_store_close(a);
	free(path);
}

int main(void)
{
	RUN(deadline_claim_takes_due_only);
	RUN(deadline_claim_passes_over_held);
	return rd_test_summary();
}
