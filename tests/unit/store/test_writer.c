/*
 * One writer at a time per process: two connections of one process never
 * hold write transactions at once (the second waits, then gives up with
 * RD_EBUSY after its busy timeout), and the writer lock is given back on
 * every way a transaction ends: commit, rollback, a close that abandons
 * it, a begin that fails. A thread waiting for the lock gets it as soon as
 * the first writer commits.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

static void second_writer_waits_then_busy(void)
{
	RD_TEST_SQLITE_ONLY("the process-wide single writer; PostgreSQL "
			    "lets writers of different rows run at once");
	char *path = rd_test_db_path();
	rd_store *a = rd_test_store_open(path), *b = rd_test_store_open(path);
	rd_error err;

	rd_error_clear(&err);
	rd_store_set_busy_timeout(b, 100);
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_FAILS(rd_store_begin(b, &err), RD_EBUSY);
	CHECK_OK(rd_store_commit(a, &err), &err);
	CHECK_OK(rd_store_begin(b, &err), &err);   /* given back by commit */
	rd_store_rollback(b);
	CHECK_OK(rd_store_begin(a, &err), &err);   /* given back by rollback */
	/* a begin on a connection that already writes is refused, lock kept */
	CHECK_FAILS(rd_store_begin(a, &err), RD_EINTERNAL);
	CHECK_FAILS(rd_store_begin(b, &err), RD_EBUSY);
	rd_store_close(a);                          /* abandons its transaction */
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_OK(rd_store_commit(b, &err), &err);
	/* a commit with no transaction gives nothing back twice */
	CHECK_FAILS(rd_store_commit(b, &err), RD_EIO);
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_OK(rd_store_commit(b, &err), &err);
	rd_store_close(b);
	free(path);
}

typedef struct waiter {
	rd_store *st;
	int rc;
	rd_error err;
} waiter;

static void *wait_to_write(void *arg)
{
	waiter *w = arg;

	w->rc = rd_store_begin(w->st, &w->err);
	if (w->rc == RD_OK)
		w->rc = rd_store_commit(w->st, &w->err);
	return NULL;
}

static void waiting_writer_proceeds_after_commit(void)
{
	RD_TEST_SQLITE_ONLY("the process-wide single writer; PostgreSQL "
			    "lets writers of different rows run at once");
	char *path = rd_test_db_path();
	rd_store *a = rd_test_store_open(path), *b = rd_test_store_open(path);
	waiter w = { b, 1, { 0 } };
	pthread_t thread;
	rd_error err;

	rd_error_clear(&err);
	rd_store_set_busy_timeout(b, 10000);
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_INT(pthread_create(&thread, NULL, wait_to_write, &w), 0);
	usleep(100 * 1000);
	CHECK_INT(w.rc, 1);                         /* still waiting */
	CHECK_OK(rd_store_commit(a, &err), &err);
	CHECK_INT(pthread_join(thread, NULL), 0);
	CHECK_INT(w.rc, RD_OK);
	rd_store_close(a);
	rd_store_close(b);
	free(path);
}

int main(void)
{
	RUN(second_writer_waits_then_busy);
	RUN(waiting_writer_proceeds_after_commit);
	return rd_test_summary();
}
