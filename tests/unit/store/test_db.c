/*
 * The store's database driver (src/store/db.h), the same cases on both
 * engines: SQLite in a temporary file, and PostgreSQL as the test suite
 * starts it (tests/support/pg.sh, state file in REDRESS_TEST_PG_STATE),
 * each case in a database of its own. Values go in through every bind and
 * come back through every column reader unchanged, failures come back as
 * the same rd_db_codes, and transactions are seen the same way.
 *
 * Run by hand without REDRESS_TEST_PG_STATE, the PostgreSQL cases are
 * skipped with a line saying so; under ctest the variable is always set
 * and a server that cannot be reached fails them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "fixtures.h"
#include "test.h"


/* One statement's text for each engine. */
typedef struct sql_pair {
	const char *lite;
	const char *pg;
} sql_pair;

typedef struct engine_case {
	rd_db *db;
	char *dir;            /* SQLite: the directory of the file */
} engine_case;

static const char *pick(const rd_db *db, sql_pair sql)
{
	return rd_db_engine_of(db) == RD_DB_POSTGRES ? sql.pg : sql.lite;
}

static int open_case(engine_case *c, rd_db_engine engine, rd_error *err)
{
	char *uri;
	int rc;

	memset(c, 0, sizeof(*c));
	if (engine == RD_DB_SQLITE) {
		char *path;

		c->dir = rd_test_tmpdir();
		path = rd_test_path(c->dir, "db.sqlite");
		rc = rd_db_open(&c->db, path, 1, err);
		free(path);
		if (rc == 0 && rd_db_exec(c->db, "PRAGMA foreign_keys = ON") !=
				       RD_DB_OK)
			rc = rd_error_set(err, RD_EIO, "%s",
					  rd_db_errmsg(c->db));
		return rc;
	}
	/* a database of the case's own, dropped at exit by the fixtures */
	if (!(uri = rd_test_pg_database()))
		return rd_error_set(err, RD_EIO, "no PostgreSQL database");
	rc = rd_db_open(&c->db, uri, 0, err);
	free(uri);
	return rc;
}

static void close_case(engine_case *c)
{
	rd_db_close(c->db);
	free(c->dir);
}

static const sql_pair CREATE = {
	"CREATE TABLE parent (id INTEGER PRIMARY KEY);"
	"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT,"
	" data BLOB, n INTEGER CHECK (n IS NULL OR n <> 13),"
	" parent INTEGER REFERENCES parent (id))",
	"CREATE TABLE parent (id BIGINT PRIMARY KEY);"
	"CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT,"
	" data BYTEA, n BIGINT CHECK (n IS NULL OR n <> 13),"
	" parent BIGINT REFERENCES parent (id))"
};
/* open_case, then the tables `parent` and `t` of CREATE. */
static int open_with_tables(engine_case *c, rd_db_engine engine,
			    rd_error *err)
{
	int rc = open_case(c, engine, err);

	if (rc == 0 && rd_db_exec(c->db, pick(c->db, CREATE)) != RD_DB_OK)
		rc = rd_error_set(err, RD_EIO, "cannot make the tables: %s",
				  rd_db_errmsg(c->db));
	return rc;
}

static const sql_pair INSERT = {
	"INSERT INTO t (id, name, data, n) VALUES (?1, ?2, ?3, ?4)",
	"INSERT INTO t (id, name, data, n) VALUES ($1, $2, $3, $4)"
};
static const sql_pair SELECT_ONE = {
	"SELECT id, name, data, n FROM t WHERE id = ?1",
	"SELECT id, name, data, n FROM t WHERE id = $1"
};

/* Prepare, check the code, hand the statement over. */
static rd_db_stmt *prepared(rd_db *db, sql_pair sql)
{
	rd_db_stmt *stmt = NULL;

	if (rd_db_prepare(db, pick(db, sql), &stmt) != RD_DB_OK) {
		rd_test_fail(__FILE__, __LINE__, "prepare: %s",
			     rd_db_errmsg(db));
		return NULL;
	}
	return stmt;
}

static int insert_row(rd_db_stmt *ins, int64_t id, const char *name,
		      const void *data, size_t size, int64_t n)
{
	int rc = rd_db_bind_int64(ins, 1, id);

	rc |= rd_db_bind_text(ins, 2, name);
	rc |= data ? rd_db_bind_blob(ins, 3, data, size)
		   : rd_db_bind_null(ins, 3);
	rc |= rd_db_bind_int64(ins, 4, n);
	if (rc == RD_DB_OK)
		rc = rd_db_step(ins);
	rd_db_reset(ins);
	return rc;
}

/* Every value goes in and comes back as it was. */
static void values_round_trip(rd_db_engine engine)
{
	static const unsigned char bytes[] = { 0, 1, 0xff, 0, 'x', 0 };
	static const char *name = "Zoë's \"order\" \xe2\x82\xac 42";
	static const int64_t numbers[] = { INT64_MIN, -1, 0, 1, INT32_MAX + 1LL,
					   INT64_MAX };
	rd_db_stmt *ins = NULL, *sel = NULL;
	engine_case c;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(open_with_tables(&c, engine, &err), &err);
	ins = prepared(c.db, INSERT);
	sel = prepared(c.db, SELECT_ONE);
	if (!ins || !sel)
		goto done;
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
		if (insert_row(ins, (int64_t)i + 1, name, bytes, sizeof(bytes),
			       numbers[i]) != RD_DB_DONE) {
			rd_test_fail(__FILE__, __LINE__, "insert %zu: %s", i,
				     rd_db_errmsg(c.db));
			goto done;
		}
	/* NULLs: text, blob; an empty blob is not NULL */
	CHECK_INT(rd_db_bind_int64(ins, 1, 100) | rd_db_bind_text(ins, 2, NULL) |
		  rd_db_bind_null(ins, 3) | rd_db_bind_null(ins, 4), RD_DB_OK);
	CHECK_INT(rd_db_step(ins), RD_DB_DONE);
	CHECK_INT(rd_db_changes(ins), 1);
	rd_db_reset(ins);
	CHECK_INT(insert_row(ins, 101, "", "", 0, 7), RD_DB_DONE);

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		CHECK_INT(rd_db_bind_int64(sel, 1, (int64_t)i + 1), RD_DB_OK);
		CHECK_INT(rd_db_step(sel), RD_DB_ROW);
		CHECK_INT(rd_db_column_count(sel), 4);
		CHECK_INT(rd_db_column_int64(sel, 0), (int64_t)i + 1);
		CHECK_STR(rd_db_column_text(sel, 1), name);
		CHECK_INT(rd_db_column_bytes(sel, 1), strlen(name));
		CHECK(rd_db_column_blob(sel, 2) != NULL);
		CHECK_INT(rd_db_column_bytes(sel, 2), sizeof(bytes));
		CHECK(memcmp(rd_db_column_blob(sel, 2), bytes,
			     sizeof(bytes)) == 0);
		CHECK(rd_db_column_int64(sel, 3) == numbers[i]);
		CHECK_INT(rd_db_column_is_null(sel, 3), 0);
		CHECK_INT(rd_db_step(sel), RD_DB_DONE);
		rd_db_reset(sel);
	}
	CHECK_INT(rd_db_bind_int64(sel, 1, 100), RD_DB_OK);
	CHECK_INT(rd_db_step(sel), RD_DB_ROW);
	CHECK_INT(rd_db_column_is_null(sel, 1), 1);
	CHECK(rd_db_column_text(sel, 1) == NULL);
	CHECK_INT(rd_db_column_is_null(sel, 2), 1);
	CHECK_INT(rd_db_column_bytes(sel, 2), 0);
	CHECK_INT(rd_db_column_is_null(sel, 3), 1);
	CHECK_INT(rd_db_column_int64(sel, 3), 0);
	rd_db_reset(sel);
	CHECK_INT(rd_db_bind_int64(sel, 1, 101), RD_DB_OK);
	CHECK_INT(rd_db_step(sel), RD_DB_ROW);
	CHECK_STR(rd_db_column_text(sel, 1), "");
	CHECK_INT(rd_db_column_is_null(sel, 1), 0);
	CHECK_INT(rd_db_column_bytes(sel, 2), 0);
	rd_db_reset(sel);
	/* a row that is not there */
	CHECK_INT(rd_db_bind_int64(sel, 1, 999), RD_DB_OK);
	CHECK_INT(rd_db_step(sel), RD_DB_DONE);
done:
	rd_db_finalize(ins);
	rd_db_finalize(sel);
	close_case(&c);
}

/* Many rows are read in order; a statement runs again after a reset. */
static void rows_and_changes(rd_db_engine engine)
{
	static const sql_pair all = {
		"SELECT id FROM t WHERE n >= ?1 ORDER BY id",
		"SELECT id FROM t WHERE n >= $1 ORDER BY id"
	};
	static const sql_pair bump = {
		"UPDATE t SET n = n + 1000 WHERE id > ?1",
		"UPDATE t SET n = n + 1000 WHERE id > $1"
	};
	rd_db_stmt *ins = NULL, *sel = NULL, *upd = NULL;
	engine_case c;
	rd_error err;
	int64_t seen;
	int rc;

	rd_error_clear(&err);
	CHECK_OK(open_with_tables(&c, engine, &err), &err);
	ins = prepared(c.db, INSERT);
	sel = prepared(c.db, all);
	upd = prepared(c.db, bump);
	if (!ins || !sel || !upd)
		goto done;
	CHECK_INT(rd_db_exec(c.db, "BEGIN"), RD_DB_OK);
	for (int64_t i = 1; i <= 500; i++)
		CHECK_INT(insert_row(ins, i, "row", NULL, 0, i * 10),
			  RD_DB_DONE);
	CHECK_INT(rd_db_exec(c.db, "COMMIT"), RD_DB_OK);
	for (int round = 0; round < 2; round++) {
		CHECK_INT(rd_db_bind_int64(sel, 1, 1010), RD_DB_OK);
		seen = 100;
		while ((rc = rd_db_step(sel)) == RD_DB_ROW)
			CHECK_INT(rd_db_column_int64(sel, 0), ++seen);
		CHECK_INT(rc, RD_DB_DONE);
		CHECK_INT(seen, 500);
		rd_db_reset(sel);
	}
	CHECK_INT(rd_db_bind_int64(upd, 1, 490), RD_DB_OK);
	CHECK_INT(rd_db_step(upd), RD_DB_DONE);
	CHECK_INT(rd_db_changes(upd), 10);
	rd_db_reset(upd);
	CHECK_INT(rd_db_bind_int64(upd, 1, 500), RD_DB_OK);
	CHECK_INT(rd_db_step(upd), RD_DB_DONE);
	CHECK_INT(rd_db_changes(upd), 0);
done:
	rd_db_finalize(ins);
	rd_db_finalize(sel);
	rd_db_finalize(upd);
	close_case(&c);
}

/* Each kind of refusal comes back as its own code, with a reason. */
static void failures_have_codes(rd_db_engine engine)
{
	static const sql_pair orphan = {
		"INSERT INTO t (id, parent) VALUES (?1, ?2)",
		"INSERT INTO t (id, parent) VALUES ($1, $2)"
	};
	rd_db_stmt *ins = NULL, *child = NULL, *bad = NULL;
	engine_case c;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(open_with_tables(&c, engine, &err), &err);
	ins = prepared(c.db, INSERT);
	child = prepared(c.db, orphan);
	if (!ins || !child)
		goto done;
	CHECK_INT(insert_row(ins, 1, "a", NULL, 0, 1), RD_DB_DONE);
	CHECK_INT(insert_row(ins, 1, "again", NULL, 0, 1), RD_DB_EUNIQUE);
	CHECK(strlen(rd_db_errmsg(c.db)) > 0);
	CHECK_INT(insert_row(ins, 2, "thirteen", NULL, 0, 13),
		  RD_DB_ECONSTRAINT);
	CHECK_INT(rd_db_bind_int64(child, 1, 3) | rd_db_bind_int64(child, 2, 77),
		  RD_DB_OK);
	CHECK_INT(rd_db_step(child), RD_DB_EFOREIGN);
	rd_db_reset(child);
	/* binding past the statement's parameters */
	CHECK(rd_db_bind_int64(ins, 9, 1) != RD_DB_OK);
	rd_db_reset(ins);
	/* a statement that cannot be prepared names why */
	CHECK(rd_db_prepare(c.db, "SELECT missing FROM nowhere", &bad) !=
	      RD_DB_OK);
	CHECK(bad == NULL);
	CHECK_HAS(rd_db_errmsg(c.db), "nowhere");
	/* the failures above changed nothing */
	CHECK_INT(insert_row(ins, 2, "b", NULL, 0, 2), RD_DB_DONE);
done:
	rd_db_finalize(ins);
	rd_db_finalize(child);
	close_case(&c);
}

/* A transaction is seen open, and a rollback takes its rows away. */
static void transactions(rd_db_engine engine)
{
	static const sql_pair count = { "SELECT count(*) FROM t",
					"SELECT count(*) FROM t" };
	rd_db_stmt *ins = NULL, *cnt = NULL;
	engine_case c;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(open_with_tables(&c, engine, &err), &err);
	ins = prepared(c.db, INSERT);
	cnt = prepared(c.db, count);
	if (!ins || !cnt)
		goto done;
	CHECK_INT(rd_db_in_transaction(c.db), 0);
	CHECK_INT(rd_db_exec(c.db, "BEGIN"), RD_DB_OK);
	CHECK_INT(rd_db_in_transaction(c.db), 1);
	CHECK_INT(insert_row(ins, 1, "a", NULL, 0, 1), RD_DB_DONE);
	CHECK_INT(rd_db_exec(c.db, "SAVEPOINT one"), RD_DB_OK);
	CHECK_INT(insert_row(ins, 1, "dup", NULL, 0, 1), RD_DB_EUNIQUE);
	/* back to the savepoint: the transaction goes on */
	CHECK_INT(rd_db_exec(c.db, "ROLLBACK TO SAVEPOINT one"), RD_DB_OK);
	CHECK_INT(insert_row(ins, 2, "b", NULL, 0, 2), RD_DB_DONE);
	CHECK_INT(rd_db_step(cnt), RD_DB_ROW);
	CHECK_INT(rd_db_column_int64(cnt, 0), 2);
	rd_db_reset(cnt);
	CHECK_INT(rd_db_exec(c.db, "ROLLBACK"), RD_DB_OK);
	CHECK_INT(rd_db_in_transaction(c.db), 0);
	CHECK_INT(rd_db_step(cnt), RD_DB_ROW);
	CHECK_INT(rd_db_column_int64(cnt, 0), 0);
	rd_db_reset(cnt);
done:
	rd_db_finalize(ins);
	rd_db_finalize(cnt);
	close_case(&c);
}

/* Columns are named as the statement names them, and typed by value. */
static void columns_named_and_typed(rd_db_engine engine)
{
	static const sql_pair named = {
		"SELECT id, name AS label, data, n FROM t WHERE id = ?1",
		"SELECT id, name AS label, data, n FROM t WHERE id = $1"
	};
	static const unsigned char bytes[] = { 0, 1, 2 };
	rd_db_stmt *ins = NULL, *sel = NULL;
	engine_case c;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(open_with_tables(&c, engine, &err), &err);
	ins = prepared(c.db, INSERT);
	sel = prepared(c.db, named);
	if (!ins || !sel)
		goto done;
	/* named before the statement runs, as after */
	CHECK_STR(rd_db_column_name(sel, 1), "label");
	CHECK_INT(insert_row(ins, 1, "a", bytes, sizeof(bytes), 5),
		  RD_DB_DONE);
	CHECK_INT(rd_db_bind_int64(ins, 1, 2) | rd_db_bind_text(ins, 2, NULL) |
		  rd_db_bind_null(ins, 3) | rd_db_bind_null(ins, 4), RD_DB_OK);
	CHECK_INT(rd_db_step(ins), RD_DB_DONE);
	rd_db_reset(ins);

	CHECK_INT(rd_db_bind_int64(sel, 1, 1), RD_DB_OK);
	CHECK_INT(rd_db_step(sel), RD_DB_ROW);
	CHECK_STR(rd_db_column_name(sel, 0), "id");
	CHECK_STR(rd_db_column_name(sel, 1), "label");
	CHECK_STR(rd_db_column_name(sel, 2), "data");
	CHECK_STR(rd_db_column_name(sel, 3), "n");
	CHECK(rd_db_column_name(sel, 4) == NULL);
	CHECK_INT(rd_db_column_type(sel, 0), RD_DB_TYPE_INTEGER);
	CHECK_INT(rd_db_column_type(sel, 1), RD_DB_TYPE_TEXT);
	CHECK_INT(rd_db_column_type(sel, 2), RD_DB_TYPE_BLOB);
	CHECK_INT(rd_db_column_type(sel, 3), RD_DB_TYPE_INTEGER);
	rd_db_reset(sel);
	/* NULLs are NULL whatever the column's type */
	CHECK_INT(rd_db_bind_int64(sel, 1, 2), RD_DB_OK);
	CHECK_INT(rd_db_step(sel), RD_DB_ROW);
	CHECK_INT(rd_db_column_type(sel, 0), RD_DB_TYPE_INTEGER);
	CHECK_INT(rd_db_column_type(sel, 1), RD_DB_TYPE_NULL);
	CHECK_INT(rd_db_column_type(sel, 2), RD_DB_TYPE_NULL);
	CHECK_INT(rd_db_column_type(sel, 3), RD_DB_TYPE_NULL);
	rd_db_reset(sel);
	/* still named after a reset */
	CHECK_STR(rd_db_column_name(sel, 3), "n");
done:
	rd_db_finalize(ins);
	rd_db_finalize(sel);
	close_case(&c);
}

/* A row written twice is told from two rows a unique rule keeps apart. */
static void primary_key_told_from_unique(rd_db_engine engine)
{
	static const sql_pair insert = {
		"INSERT INTO u (id, code) VALUES (?1, ?2)",
		"INSERT INTO u (id, code) VALUES ($1, $2)"
	};
	rd_db_stmt *ins = NULL;
	engine_case c;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(open_case(&c, engine, &err), &err);
	CHECK_INT(rd_db_exec(c.db, "CREATE TABLE u (id BIGINT PRIMARY KEY,"
			     " code TEXT NOT NULL UNIQUE)"), RD_DB_OK);
	if (!(ins = prepared(c.db, insert)))
		goto done;
	CHECK_INT(rd_db_bind_int64(ins, 1, 1) | rd_db_bind_text(ins, 2, "a"),
		  RD_DB_OK);
	CHECK_INT(rd_db_step(ins), RD_DB_DONE);
	rd_db_reset(ins);
	CHECK_INT(rd_db_bind_int64(ins, 1, 1) | rd_db_bind_text(ins, 2, "b"),
		  RD_DB_OK);
	CHECK_INT(rd_db_step(ins), RD_DB_EUNIQUE);
	CHECK_INT(rd_db_failed_on_primary_key(c.db), 1);
	rd_db_reset(ins);
	CHECK_INT(rd_db_bind_int64(ins, 1, 2) | rd_db_bind_text(ins, 2, "a"),
		  RD_DB_OK);
	CHECK_INT(rd_db_step(ins), RD_DB_EUNIQUE);
	CHECK_INT(rd_db_failed_on_primary_key(c.db), 0);
	rd_db_reset(ins);
done:
	rd_db_finalize(ins);
	close_case(&c);
}

/*
 * A failed statement: SQLite undoes the statement and the transaction
 * commits; PostgreSQL aborts the transaction, and its COMMIT, which the
 * server answers by rolling back, is reported as a failure rather than
 * taken for a commit. Prepared or run by rd_db_exec alike.
 */
static void commit_after_failure(rd_db_engine engine)
{
	static const sql_pair count = { "SELECT count(*) FROM t",
					"SELECT count(*) FROM t" };
	static const sql_pair commit = { "COMMIT", "COMMIT" };
	int pg = engine == RD_DB_POSTGRES;
	rd_db_stmt *ins = NULL, *cnt = NULL, *end = NULL;
	engine_case c;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(open_with_tables(&c, engine, &err), &err);
	ins = prepared(c.db, INSERT);
	cnt = prepared(c.db, count);
	end = prepared(c.db, commit);
	if (!ins || !cnt || !end)
		goto done;
	/* a commit after no failure is one, however the COMMIT is run */
	CHECK_INT(rd_db_exec(c.db, "BEGIN"), RD_DB_OK);
	CHECK_INT(insert_row(ins, 1, "a", NULL, 0, 1), RD_DB_DONE);
	CHECK_INT(rd_db_step(end), RD_DB_DONE);
	rd_db_reset(end);
	CHECK_INT(rd_db_exec(c.db, "BEGIN"), RD_DB_OK);
	CHECK_INT(insert_row(ins, 2, "b", NULL, 0, 2), RD_DB_DONE);
	CHECK_INT(rd_db_exec(c.db, "commit;"), RD_DB_OK);

	CHECK_INT(rd_db_exec(c.db, "BEGIN"), RD_DB_OK);
	CHECK_INT(insert_row(ins, 3, "c", NULL, 0, 3), RD_DB_DONE);
	CHECK_INT(insert_row(ins, 1, "dup", NULL, 0, 1), RD_DB_EUNIQUE);
	CHECK_INT(rd_db_step(end), pg ? RD_DB_EIO : RD_DB_DONE);
	rd_db_reset(end);
	if (pg)
		CHECK_HAS(rd_db_errmsg(c.db), "rolled back, not committed");
	CHECK_INT(rd_db_in_transaction(c.db), 0);
	CHECK_INT(rd_db_step(cnt), RD_DB_ROW);
	CHECK_INT(rd_db_column_int64(cnt, 0), pg ? 2 : 3);
	rd_db_reset(cnt);

	CHECK_INT(rd_db_exec(c.db, "BEGIN"), RD_DB_OK);
	CHECK_INT(insert_row(ins, 4, "d", NULL, 0, 13), RD_DB_ECONSTRAINT);
	CHECK_INT(rd_db_exec(c.db, "COMMIT"), pg ? RD_DB_EIO : RD_DB_OK);
	CHECK_INT(rd_db_in_transaction(c.db), 0);
done:
	rd_db_finalize(ins);
	rd_db_finalize(cnt);
	rd_db_finalize(end);
	close_case(&c);
}

/*
 * PostgreSQL names the constraint a refusal broke, so that the store can
 * tell which rule refused a row without asking again (the transaction is
 * aborted); SQLite names none, its message says which.
 */
static void constraint_named(rd_db_engine engine)
{
	static const sql_pair orphan = {
		"INSERT INTO t (id, parent) VALUES (?1, ?2)",
		"INSERT INTO t (id, parent) VALUES ($1, $2)"
	};
	int pg = engine == RD_DB_POSTGRES;
	rd_db_stmt *ins = NULL, *child = NULL;
	engine_case c;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(open_with_tables(&c, engine, &err), &err);
	ins = prepared(c.db, INSERT);
	child = prepared(c.db, orphan);
	if (!ins || !child)
		goto done;
	CHECK_INT(insert_row(ins, 1, "a", NULL, 0, 1), RD_DB_DONE);
	CHECK_INT(insert_row(ins, 2, "thirteen", NULL, 0, 13),
		  RD_DB_ECONSTRAINT);
	if (pg)
		CHECK_STR(rd_db_failed_constraint(c.db), "t_n_check");
	else
		CHECK(rd_db_failed_constraint(c.db) == NULL);
	CHECK_HAS(rd_db_errmsg(c.db), pg ? "t_n_check" : "n <> 13");
	CHECK_INT(insert_row(ins, 1, "again", NULL, 0, 1), RD_DB_EUNIQUE);
	if (pg)
		CHECK_STR(rd_db_failed_constraint(c.db), "t_pkey");
	else
		CHECK(rd_db_failed_constraint(c.db) == NULL);
	CHECK_INT(rd_db_bind_int64(child, 1, 3) | rd_db_bind_int64(child, 2, 77),
		  RD_DB_OK);
	CHECK_INT(rd_db_step(child), RD_DB_EFOREIGN);
	rd_db_reset(child);
	if (pg)
		CHECK_STR(rd_db_failed_constraint(c.db), "t_parent_fkey");
	else
		CHECK(rd_db_failed_constraint(c.db) == NULL);
	/* a failure that breaks no constraint names none */
	CHECK(rd_db_exec(c.db, "SELECT missing FROM nowhere") != RD_DB_OK);
	CHECK(rd_db_failed_constraint(c.db) == NULL);
done:
	rd_db_finalize(ins);
	rd_db_finalize(child);
	close_case(&c);
}

static void sqlite_values(void) { values_round_trip(RD_DB_SQLITE); }
static void sqlite_rows(void) { rows_and_changes(RD_DB_SQLITE); }
static void sqlite_failures(void) { failures_have_codes(RD_DB_SQLITE); }
static void sqlite_transactions(void) { transactions(RD_DB_SQLITE); }
static void sqlite_columns(void) { columns_named_and_typed(RD_DB_SQLITE); }
static void sqlite_primary(void)
{
	primary_key_told_from_unique(RD_DB_SQLITE);
}
static void sqlite_constraint(void) { constraint_named(RD_DB_SQLITE); }
static void sqlite_commit(void) { commit_after_failure(RD_DB_SQLITE); }
static void pg_values(void) { values_round_trip(RD_DB_POSTGRES); }
static void pg_rows(void) { rows_and_changes(RD_DB_POSTGRES); }
static void pg_failures(void) { failures_have_codes(RD_DB_POSTGRES); }
static void pg_transactions(void) { transactions(RD_DB_POSTGRES); }
static void pg_columns(void) { columns_named_and_typed(RD_DB_POSTGRES); }
static void pg_primary(void) { primary_key_told_from_unique(RD_DB_POSTGRES); }
static void pg_constraint(void) { constraint_named(RD_DB_POSTGRES); }
static void pg_commit(void) { commit_after_failure(RD_DB_POSTGRES); }

/* A column of a type the store does not read is refused at prepare. */
static void pg_unread_type_refused(void)
{
	rd_db_stmt *stmt = NULL;
	engine_case c;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(open_case(&c, RD_DB_POSTGRES, &err), &err);
	CHECK_INT(rd_db_prepare(c.db, "SELECT sum(1::bigint) AS total",
				&stmt), RD_DB_EMISUSE);
	CHECK_HAS(rd_db_errmsg(c.db), "total");
	CHECK_HAS(rd_db_errmsg(c.db), "cast it");
	CHECK_INT(rd_db_prepare(c.db, "SELECT sum(1::bigint)::bigint AS total",
				&stmt), RD_DB_OK);
	CHECK_INT(rd_db_step(stmt), RD_DB_ROW);
	CHECK_INT(rd_db_column_int64(stmt, 0), 1);
	rd_db_finalize(stmt);
	close_case(&c);
}

/* A URI's password never reaches a message. */
static void pg_password_not_shown(void)
{
	rd_db *db = NULL;
	rd_error err;

	rd_error_clear(&err);
	CHECK(rd_db_open(&db, "postgresql://redress:s3cret-pw@127.0.0.1:1/x"
			      "?connect_timeout=2", 0, &err) < 0);
	CHECK(db == NULL);
	CHECK_HAS(err.message, "redress:***@127.0.0.1:1/x");
	CHECK(strstr(err.message, "s3cret") == NULL);
	rd_error_clear(&err);
	CHECK(rd_db_open(&db, "postgres://127.0.0.1:1/x?password=s3cret-pw"
			      "&connect_timeout=2", 0, &err) < 0);
	CHECK_HAS(err.message, "password=***&connect_timeout=2");
	CHECK(strstr(err.message, "s3cret") == NULL);
}

/* A target as messages show it: a path as it is, a URI's passwords hidden. */
static void targets_shown(void)
{
	char out[128], tiny[12];

	rd_db_target_shown(out, sizeof(out), "/var/lib/redress/redress.db");
	CHECK_STR(out, "/var/lib/redress/redress.db");
	rd_db_target_shown(out, sizeof(out), "postgresql://postgres@h:5/db");
	CHECK_STR(out, "postgresql://postgres@h:5/db");
	rd_db_target_shown(out, sizeof(out), "postgresql://u:pw@h/db");
	CHECK_STR(out, "postgresql://u:***@h/db");
	/* a colon after the host is a port, not a password */
	rd_db_target_shown(out, sizeof(out), "postgres://h:5432/db?x=1");
	CHECK_STR(out, "postgres://h:5432/db?x=1");
	rd_db_target_shown(out, sizeof(out), "postgres://u:a@h/db?password=b"
			   "&sslmode=require&password=c");
	CHECK_STR(out, "postgres://u:***@h/db?password=***&sslmode=require"
		  "&password=***");
	/* cut short within the buffer, never a byte of the password */
	memset(tiny, 'x', sizeof(tiny));
	rd_db_target_shown(tiny, 9, "postgresql://u:secret@h/db");
	CHECK_STR(tiny, "postgres");
	CHECK(tiny[9] == 'x');
	rd_db_target_shown(tiny, sizeof(tiny), "postgres://h/?password=secret");
	CHECK(strstr(tiny, "sec") == NULL);
	CHECK_INT(strlen(tiny), sizeof(tiny) - 1);
	rd_db_target_shown(tiny, 1, "postgres://u:secret@h/db");
	CHECK_STR(tiny, "");
}

static void targets_told_apart(void)
{
	CHECK_INT(rd_db_target_is_postgres("postgresql://h/db"), 1);
	CHECK_INT(rd_db_target_is_postgres("postgres://h/db"), 1);
	CHECK_INT(rd_db_target_is_postgres("/var/lib/redress/redress.db"), 0);
	CHECK_INT(rd_db_target_is_postgres("postgresql.db"), 0);
	CHECK_INT(rd_db_target_is_postgres(NULL), 0);
}

/* REDRESS_TEST_PG_STATE names a server tests/support/pg.sh started. */
static void pg_server_started(void)
{
	CHECK_INT(rd_test_pg_server(), 1);
}

int main(void)
{
	int server = rd_test_pg_server();

	RUN(targets_told_apart);
	RUN(targets_shown);
	RUN(sqlite_values);
	RUN(sqlite_rows);
	RUN(sqlite_failures);
	RUN(sqlite_transactions);
	RUN(sqlite_columns);
	RUN(sqlite_primary);
	RUN(sqlite_constraint);
	RUN(sqlite_commit);
	RUN(pg_password_not_shown);
	if (server == 0)
		printf("PostgreSQL cases left out: REDRESS_TEST_PG_STATE is "
		       "not set (ctest sets it)\n");
	else
		RUN(pg_server_started);
	if (server > 0) {
		RUN(pg_values);
		RUN(pg_rows);
		RUN(pg_failures);
		RUN(pg_transactions);
		RUN(pg_columns);
		RUN(pg_primary);
		RUN(pg_constraint);
		RUN(pg_commit);
		RUN(pg_unread_type_refused);
	}
	return rd_test_summary();
}
