/*
 * The store on PostgreSQL when its server goes away and comes back: a
 * connection the server closed is made again on the next use, outside a
 * transaction without the caller seeing it, with its statements prepared
 * again and its lock timeout applied again; a transaction under way when
 * its connection is lost fails whole with RD_EUNAVAILABLE, commits
 * nothing, and no later statement of it runs on the new connection; a
 * server that does not take the connection yet is RD_EUNAVAILABLE until
 * it does, and then the same store goes on. A lock held by another
 * connection for longer than the busy timeout is RD_EBUSY, as SQLite's
 * busy timeout gives.
 *
 * The server "goes away" for one database only, so that the suite's other
 * tests share its server meanwhile: its sessions are ended by
 * pg_terminate_backend (as a shutdown or a failover ends them: the server
 * says why and closes the connection), and new ones refused with ALTER
 * DATABASE ... ALLOW_CONNECTIONS false. Each case has a database of its
 * own (tests/support/pg.sh, state file in REDRESS_TEST_PG_STATE); run by
 * hand without that variable, the cases are left out, saying so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* The sessions of this database but the asking one, clients only. */
#define OTHERS_SQL                                                           \
	" FROM pg_stat_activity WHERE datname = current_database()"          \
	" AND pid <> pg_backend_pid() AND backend_type = 'client backend'"

/* Run body on a new database of its own (dropped at exit by the fixtures). */
static void in_case(void (*body)(const char *uri))
{
	char *uri = rd_test_pg_database();

	if (!uri)
		return;
	body(uri);
	free(uri);
}

/* One integer a query answers on db; -1 when it fails or answers none. */
static int64_t scalar(rd_db *db, const char *sql)
{
	rd_db_stmt *stmt = NULL;
	int64_t value = -1;

	if (rd_db_prepare(db, sql, &stmt) == RD_DB_OK &&
	    rd_db_step(stmt) == RD_DB_ROW)
		value = rd_db_column_int64(stmt, 0);
	rd_db_finalize(stmt);
	return value;
}

/* One text a query answers on db, into out; "" when it fails. */
static void text_of(rd_db *db, const char *sql, char *out, size_t size)
{
	rd_db_stmt *stmt = NULL;

	out[0] = '\0';
	if (rd_db_prepare(db, sql, &stmt) == RD_DB_OK &&
	    rd_db_step(stmt) == RD_DB_ROW && rd_db_column_text(stmt, 0))
		snprintf(out, size, "%s", rd_db_column_text(stmt, 0));
	rd_db_finalize(stmt);
}

/* A connection of the test's own to the case's database. */
static rd_db *admin_open(const char *uri)
{
	rd_db *db = NULL;
	rd_error err;

	if (rd_db_open(&db, uri, 0, &err) < 0) {
		fprintf(stderr, "cannot connect to %s: %s\n", uri,
			err.message);
		return NULL;
	}
	return db;
}

/*
 * End every other session of the database, as a server shutting down
 * does, and wait until they are gone: each backend has then told its
 * client and closed the connection. 0, or -1 when they linger.
 */
static int end_sessions(rd_db *admin)
{
	if (scalar(admin, "SELECT count(pg_terminate_backend(pid))"
		   OTHERS_SQL) < 0)
		return -1;
	for (int i = 0; i < 500; i++) {
		if (scalar(admin, "SELECT count(*)" OTHERS_SQL) == 0)
			return 0;
		usleep(10 * 1000);
	}
	return -1;
}

/*
 * The database of uri lets connections in (1) or refuses them (0), as a
 * server still starting does; said from the server's postgres database,
 * since a session may not refuse its own database.
 */
static int allow_connections(const char *uri, int allow)
{
	const char *name = strrchr(uri, '/');
	char server[512], sql[256];
	rd_db *admin;
	int rc;

	if (!name)
		return -1;
	snprintf(server, sizeof(server), "%.*s/postgres",
		 (int)(name - uri), uri);
	snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS "
		 "%s", name + 1, allow ? "true" : "false");
	if (!(admin = admin_open(server)))
		return -1;
	rc = rd_db_exec(admin, sql) == RD_DB_OK ? 0 : -1;
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", sql, rd_db_errmsg(admin));
	rd_db_close(admin);
	return rc;
}

/* How many workflows of hash the database holds, -1 on failure. */
static int64_t workflows(rd_db *admin, const char *hash)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM workflows WHERE "
		 "hash = '%s'", hash);
	return scalar(admin, sql);
}

/*
 * Record workflow hash (HASH_A, _B, _C: versions 1, 2, 3 of "dispute")
 * without a transaction of its own: in the caller's.
 */
static int put(rd_store *st, const char *hash, rd_error *err)
{
	return rd_store_workflow_put(st, hash, "dispute", hash[0] - 'a' + 1,
				     "{}", err);
}

/* put in a transaction of its own. */
static int put_workflow(rd_store *st, const char *hash, rd_error *err)
{
	int rc;

	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	if ((rc = put(st, hash, err)) < 0 ||
	    (rc = rd_store_commit(st, err)) < 0)
		rd_store_rollback(st);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Outside a transaction, a connection the server ended is replaced
 * before the next command: the caller sees no failure; the statements it
 * runs are prepared on the new connection, and its lock timeout holds
 * there too.
 */
static void reconnect_body(const char *uri)
{
	rd_db *admin = admin_open(uri);
	rd_store *st = NULL;
	char setting[32], source[8];
	int64_t before;
	rd_error err;
	char *text = NULL;

	CHECK(admin);
	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	rd_store_set_busy_timeout(st, 1500);
	CHECK_OK(put_workflow(st, HASH_A, &err), &err);
	before = scalar(st->db, "SELECT pg_backend_pid()");
	CHECK(before > 0);

	CHECK_INT(end_sessions(admin), 0);
	/* a read, then a write: both on a new connection, neither failing */
	CHECK_OK(rd_store_workflow_source(st, HASH_A, &text, &err), &err);
	CHECK_STR(text, "{}");
	free(text);
	CHECK_OK(put_workflow(st, HASH_B, &err), &err);
	CHECK_INT(workflows(admin, HASH_B), 1);
	CHECK(scalar(st->db, "SELECT pg_backend_pid()") != before);
	text_of(st->db, "SELECT current_setting('lock_timeout')", setting,
		sizeof(setting));
	CHECK_STR(setting, "1500ms");

	/* ended again: the store's own transactions start on a new one */
	CHECK_INT(end_sessions(admin), 0);
	CHECK_OK(put_workflow(st, HASH_C, &err), &err);
	CHECK_INT(workflows(admin, HASH_C), 1);
	text_of(st->db, "SELECT source FROM pg_settings WHERE name = "
		"'lock_timeout'", source, sizeof(source));
	CHECK_STR(source, "session");
	rd_store_close(st);
	rd_db_close(admin);
}

static void reconnects_outside_a_transaction(void)
{
	in_case(reconnect_body);
}

/*
 * A transaction whose connection is lost fails whole: the statement that
 * found it lost and every later one are RD_EUNAVAILABLE (none runs on a
 * new connection, outside the transaction), the COMMIT too, and nothing
 * of it is in the database. The next transaction is on a new connection.
 */
static void lost_transaction_body(const char *uri)
{
	rd_db *admin = admin_open(uri);
	rd_store *st = NULL;
	rd_error err;

	CHECK(admin);
	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(put(st, HASH_A, &err), &err);
	CHECK_INT(end_sessions(admin), 0);
	CHECK_FAILS(put(st, HASH_B, &err), RD_EUNAVAILABLE);
	CHECK_HAS(err.message, "the database cannot be reached");
	CHECK(rd_store_tx_open(st));
	/* a later statement of the same transaction is refused too */
	CHECK_FAILS(put(st, HASH_C, &err), RD_EUNAVAILABLE);
	CHECK_HAS(err.message, "lost during the transaction");
	CHECK_FAILS(rd_store_commit(st, &err), RD_EUNAVAILABLE);
	CHECK_HAS(err.message, "lost before COMMIT");
	CHECK(!rd_store_tx_open(st));
	CHECK_INT(workflows(admin, HASH_A), 0);
	CHECK_INT(workflows(admin, HASH_B), 0);
	CHECK_INT(workflows(admin, HASH_C), 0);

	/* the caller's ROLLBACK ends a lost transaction as well */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(put(st, HASH_A, &err), &err);
	CHECK_INT(end_sessions(admin), 0);
	CHECK_FAILS(put(st, HASH_B, &err), RD_EUNAVAILABLE);
	rd_store_rollback(st);
	CHECK(!rd_store_tx_open(st));
	CHECK_OK(put_workflow(st, HASH_C, &err), &err);
	CHECK_INT(workflows(admin, HASH_A), 0);
	CHECK_INT(workflows(admin, HASH_C), 1);
	rd_store_close(st);
	rd_db_close(admin);
}

static void lost_transaction_fails_whole(void)
{
	in_case(lost_transaction_body);
}

/*
 * A batch (group commit) whose connection is lost: the change that finds
 * it lost fails with RD_EUNAVAILABLE, rd_store_batch_lost says so from
 * then on (the writer lanes answer the batch's other changes 503, retry
 * later, and not 500), and nothing of the batch is committed. A healthy
 * batch is never said lost.
 */
static void lost_batch_body(const char *uri)
{
	rd_db *admin = admin_open(uri);
	rd_store *st = NULL;
	rd_error err;

	CHECK(admin);
	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_INT(rd_store_batch_lost(st), 0);      /* no batch */
	CHECK_OK(rd_store_batch_begin(st, &err), &err);
	CHECK_OK(put_workflow(st, HASH_A, &err), &err);
	CHECK_INT(rd_store_batch_lost(st), 0);
	CHECK_INT(end_sessions(admin), 0);
	CHECK_FAILS(put_workflow(st, HASH_B, &err), RD_EUNAVAILABLE);
	CHECK_INT(rd_store_batch_lost(st), 1);
	CHECK_FAILS(rd_store_batch_commit(st, &err), RD_EUNAVAILABLE);
	CHECK_INT(rd_store_batch_lost(st), 0);      /* the batch is over */
	CHECK_INT(workflows(admin, HASH_A), 0);
	CHECK_INT(workflows(admin, HASH_B), 0);

	/* the next batch, on a new connection, commits */
	CHECK_OK(rd_store_batch_begin(st, &err), &err);
	CHECK_OK(put_workflow(st, HASH_C, &err), &err);
	CHECK_INT(rd_store_batch_lost(st), 0);
	CHECK_OK(rd_store_batch_commit(st, &err), &err);
	CHECK_INT(workflows(admin, HASH_C), 1);
	rd_store_close(st);
	rd_db_close(admin);
}

static void lost_batch_answers_unavailable(void)
{
	in_case(lost_batch_body);
}

/*
 * A COMMIT that finds its connection lost only when it is sent: its
 * failure says the outcome is unknown (here the session had ended before
 * it, so nothing was committed), the transaction is over, and the store
 * goes on on a new connection. It is never sent again.
 */
static void lost_commit_body(const char *uri)
{
	rd_db *admin = admin_open(uri);
	rd_store *st = NULL;
	rd_error err;

	CHECK(admin);
	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(put(st, HASH_A, &err), &err);
	CHECK_INT(end_sessions(admin), 0);
	CHECK_FAILS(rd_store_commit(st, &err), RD_EUNAVAILABLE);
	CHECK_HAS(err.message, "cannot commit the transaction: the database "
		  "cannot be reached (the connection to PostgreSQL was lost "
		  "during COMMIT, so whether the transaction was committed "
		  "is unknown");
	CHECK(!rd_store_tx_open(st));
	CHECK_INT(workflows(admin, HASH_A), 0);
	CHECK_OK(put_workflow(st, HASH_B, &err), &err);
	CHECK_INT(workflows(admin, HASH_B), 1);
	rd_store_close(st);
	rd_db_close(admin);
}

static void lost_commit_is_unknown(void) { in_case(lost_commit_body); }

/*
 * While the server refuses connections, every use is RD_EUNAVAILABLE at
 * once, saying why; once it takes them again the same store goes on,
 * its statements (prepared on the first connection) prepared again.
 */
static void refused_body(const char *uri)
{
	rd_db *admin = admin_open(uri);
	rd_store *st = NULL;
	char *text = NULL;
	int64_t started;
	rd_error err;

	CHECK(admin);
	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(put_workflow(st, HASH_A, &err), &err);
	CHECK_INT(allow_connections(uri, 0), 0);
	CHECK_INT(end_sessions(admin), 0);
	for (int i = 0; i < 3; i++) {
		started = now_ms();
		CHECK_FAILS(rd_store_workflow_source(st, HASH_A, &text, &err),
			    RD_EUNAVAILABLE);
		CHECK(now_ms() - started < 3000);
		CHECK_HAS(err.message, "the database cannot be reached");
		CHECK_HAS(err.message, "not currently accepting connections");
		CHECK_FAILS(put_workflow(st, HASH_B, &err), RD_EUNAVAILABLE);
		CHECK(!rd_store_tx_open(st));
	}
	CHECK_INT(allow_connections(uri, 1), 0);
	CHECK_OK(rd_store_workflow_source(st, HASH_A, &text, &err), &err);
	CHECK_STR(text, "{}");
	free(text);
	CHECK_OK(put_workflow(st, HASH_B, &err), &err);
	CHECK_INT(workflows(admin, HASH_B), 1);
	rd_store_close(st);
	rd_db_close(admin);
}

static void refused_until_the_server_takes_it(void)
{
	in_case(refused_body);
}

/*
 * Two connections want the lock on one dispute's head (a change's first
 * read, FOR UPDATE): the second waits the busy timeout, then fails with
 * RD_EBUSY as SQLite's busy timeout gives, and holds nothing; once the
 * first commits, it gets the lock at once.
 */
static void lock_body(const char *uri)
{
	static const char head_a[] = "1111111111111111111111111111111111111111";
	static const char head_b[] = "2222222222222222222222222222222222222222";
	rd_store *holder = NULL, *waiter = NULL;
	char dispute[RD_ID_BUFSZ], head[41];
	int64_t started, waited;
	rd_error err;
	int found = 0;

	rd_error_clear(&err);
	rd_test_make_id(dispute, 1);
	CHECK_OK(rd_store_open(&holder, uri, &err), &err);
	CHECK_OK(rd_store_open(&waiter, uri, &err), &err);
	CHECK_OK(rd_store_begin(holder, &err), &err);
	CHECK_OK(rd_store_ref_move(holder, dispute, NULL, head_a, 1700000000,
				   &err), &err);
	CHECK_OK(rd_store_commit(holder, &err), &err);

	rd_store_set_busy_timeout(waiter, 300);
	CHECK_OK(rd_store_begin(holder, &err), &err);
	CHECK_OK(rd_store_ref_get(holder, dispute, head, &found, &err), &err);
	CHECK_STR(head, head_a);
	CHECK_OK(rd_store_begin(waiter, &err), &err);
	started = now_ms();
	CHECK_FAILS(rd_store_ref_get(waiter, dispute, head, &found, &err),
		    RD_EBUSY);
	waited = now_ms() - started;
	CHECK(waited >= 250);
	CHECK(waited < 3000);
	CHECK_STR(err.message, "the database is busy (locked by another "
		  "writer for more than 300 ms); try again");
	rd_store_rollback(waiter);

	/* the holder goes on, and commits; then the lock is free */
	CHECK_OK(rd_store_ref_move(holder, dispute, head_a, head_b,
				   1700000001, &err), &err);
	CHECK_OK(rd_store_commit(holder, &err), &err);
	CHECK_OK(rd_store_begin(waiter, &err), &err);
	CHECK_OK(rd_store_ref_get(waiter, dispute, head, &found, &err), &err);
	CHECK_STR(head, head_b);
	rd_store_rollback(waiter);

	/* the default is the busy timeout's, 5 s */
	{
		char setting[32];

		text_of(holder->db, "SELECT current_setting('lock_timeout')",
			setting, sizeof(setting));
		CHECK_STR(setting, "5s");
	}
	rd_store_close(holder);
	rd_store_close(waiter);
}

static void lock_wait_is_bounded(void) { in_case(lock_body); }

/* REDRESS_TEST_PG_STATE names a server tests/support/pg.sh started. */
static void pg_server_started(void)
{
	CHECK_INT(rd_test_pg_server(), 1);
}

int main(void)
{
	int server = rd_test_pg_server();

	if (server == 0)
		printf("PostgreSQL cases left out: REDRESS_TEST_PG_STATE is "
		       "not set (ctest sets it)\n");
	else
		RUN(pg_server_started);
	if (server > 0) {
		RUN(reconnects_outside_a_transaction);
		RUN(lost_transaction_fails_whole);
		RUN(lost_commit_is_unknown);
		RUN(lost_batch_answers_unavailable);
		RUN(refused_until_the_server_takes_it);
		RUN(lock_wait_is_bounded);
	}
	return rd_test_summary();
}
