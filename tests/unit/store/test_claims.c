/*
 * What a connection holds so that several nodes on one record do a thing
 * once: an Idempotency-Key in flight, claimed for every other connection
 * (scoped by its API key, surviving the transactions around it, ended by
 * its release or its connection's close, and on SQLite by nothing else
 * the process closes); and a sweep's hold on the dispute whose deadline
 * it fires (taken only for a deadline due, inside a transaction; on
 * PostgreSQL a dispute that another transaction holds is passed over at
 * once, never waited for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH
#define HEAD "0123456789abcdef0123456789abcdef01234567"

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
	rd_store *st = rd_test_store_open(path);
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
	a = rd_test_store_open(path);
	b = rd_test_store_open(path);
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

/* ---- Idempotency-Key claims ------------------------------------------- */

/* One integer a query answers on st; -1 when it fails or answers none. */
static int64_t scalar(rd_store *st, const char *sql)
{
	rd_db_stmt *stmt = NULL;
	int64_t value = -1;

	if (rd_db_prepare(st->db, sql, &stmt) == RD_DB_OK &&
	    rd_db_step(stmt) == RD_DB_ROW)
		value = rd_db_column_int64(stmt, 0);
	rd_db_finalize(stmt);
	return value;
}

/*
 * A pair claimed on one connection is refused on another until given
 * back; pairs of another API key or another key are not.
 */
static void idem_claim_refused_elsewhere(void)
{
	char *path = rd_test_db_path();
	rd_store *a = rd_test_store_open(path);
	rd_store *b = rd_test_store_open(path);
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(rd_store_idem_claim(a, "00000000000000a1", "pay-1", &err),
		 &err);
	CHECK_FAILS(rd_store_idem_claim(b, "00000000000000a1", "pay-1", &err),
		    RD_ECONFLICT);
	CHECK_STR(err.field, "Idempotency-Key");
	CHECK_HAS(err.message, "still being processed");
	CHECK_OK(rd_store_idem_claim(b, "00000000000000b2", "pay-1", &err),
		 &err);
	CHECK_OK(rd_store_idem_claim(b, "00000000000000a1", "pay-2", &err),
		 &err);
	/* the other way round too */
	CHECK_FAILS(rd_store_idem_claim(a, "00000000000000a1", "pay-2", &err),
		    RD_ECONFLICT);
	CHECK_OK(rd_store_idem_release(a, "00000000000000a1", "pay-1", &err),
		 &err);
	CHECK_OK(rd_store_idem_claim(b, "00000000000000a1", "pay-1", &err),
		 &err);
	CHECK_FAILS(rd_store_idem_claim(a, "00000000000000a1", "pay-1", &err),
		    RD_ECONFLICT);
	/* giving back what it does not hold changes nothing */
	CHECK_OK(rd_store_idem_release(a, "00000000000000a1", "pay-1", &err),
		 &err);
	CHECK_FAILS(rd_store_idem_claim(a, "00000000000000a1", "pay-1", &err),
		    RD_ECONFLICT);
	CHECK_FAILS(rd_store_idem_claim(a, "", "pay-1", &err), RD_EINVALID);
	CHECK_FAILS(rd_store_idem_claim(a, "00000000000000a1", "", &err),
		    RD_EINVALID);
	rd_store_close(b);
	rd_store_close(a);
	free(path);
}

/*
 * A claim outlives the transactions around it, and ends with its
 * connection: a node that dies leaves nothing stuck.
 */
static void idem_claim_ends_with_connection(void)
{
	char *path = rd_test_db_path();
	rd_store *a = rd_test_store_open(path);
	rd_store *b = rd_test_store_open(path);
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_OK(rd_store_idem_claim(a, "00000000000000a1", "open-7", &err),
		 &err);
	rd_store_rollback(a);
	CHECK_FAILS(rd_store_idem_claim(b, "00000000000000a1", "open-7", &err),
		    RD_ECONFLICT);
	rd_store_close(a);
	/* a PostgreSQL server ends the session a moment after the close */
	for (int i = 0; i < 500 &&
	     rd_store_idem_claim(b, "00000000000000a1", "open-7", &err) ==
		     RD_ECONFLICT; i++)
		usleep(10000);
	CHECK_OK(rd_store_idem_release(b, "00000000000000a1", "open-7", &err),
		 &err);
	CHECK_OK(rd_store_idem_claim(b, "00000000000000a1", "open-7", &err),
		 &err);
	rd_store_close(b);
	free(path);
}

/*
 * SQLite: the claims are locks on a file beside the database that belong
 * to their connection, not to the process: closing another connection of
 * the process (whose claims go) leaves them.
 */
static void idem_claim_is_the_connections(void)
{
	char *path = NULL, *claims = NULL;
	rd_store *a = NULL, *b = NULL, *c = NULL;
	rd_error err;

	RD_TEST_SQLITE_ONLY("a file lock beside the database");
	rd_error_clear(&err);
	path = rd_test_db_path();
	a = rd_test_store_open(path);
	b = rd_test_store_open(path);
	c = rd_test_store_open(path);
	CHECK_OK(rd_store_idem_claim(a, "00000000000000a1", "k", &err), &err);
	CHECK_OK(rd_store_idem_claim(c, "00000000000000a1", "other", &err),
		 &err);
	rd_store_close(c);
	CHECK_FAILS(rd_store_idem_claim(b, "00000000000000a1", "k", &err),
		    RD_ECONFLICT);
	CHECK_OK(rd_store_idem_claim(b, "00000000000000a1", "other", &err),
		 &err);
	CHECK(asprintf(&claims, "%s-claims", path) > 0);
	CHECK(access(claims, R_OK | W_OK) == 0);
	rd_store_close(b);
	rd_store_close(a);
	free(claims);
	free(path);
}

/*
 * PostgreSQL: a claim is a session advisory lock in the two-integer key
 * space, apart from the single-bigint locks of the schema and openings.
 */
static void idem_claim_is_an_advisory_lock(void)
{
	char *path = NULL;
	rd_store *a = NULL;
	rd_error err;

	if (!rd_test_on_postgres()) {
		rd_test_skip("PostgreSQL only: an advisory lock");
		return;
	}
	rd_error_clear(&err);
	path = rd_test_db_path();
	a = rd_test_store_open(path);
	CHECK_OK(rd_store_idem_claim(a, "00000000000000a1", "k", &err), &err);
	CHECK_INT(scalar(a, "SELECT count(*) FROM pg_locks"
			 " WHERE locktype = 'advisory' AND objsubid = 2"
			 " AND pid = pg_backend_pid()"), 1);
	CHECK_INT(scalar(a, "SELECT count(*) FROM pg_locks"
			 " WHERE locktype = 'advisory' AND objsubid = 1"
			 " AND pid = pg_backend_pid()"), 0);
	CHECK_OK(rd_store_idem_release(a, "00000000000000a1", "k", &err),
		 &err);
	CHECK_INT(scalar(a, "SELECT count(*) FROM pg_locks"
			 " WHERE locktype = 'advisory'"
			 " AND pid = pg_backend_pid()"), 0);
	rd_store_close(a);
	free(path);
}

int main(void)
{
	RUN(idem_claim_refused_elsewhere);
	RUN(idem_claim_ends_with_connection);
	RUN(idem_claim_is_the_connections);
	RUN(idem_claim_is_an_advisory_lock);
	RUN(deadline_claim_takes_due_only);
	RUN(deadline_claim_passes_over_held);
	return rd_test_summary();
}
