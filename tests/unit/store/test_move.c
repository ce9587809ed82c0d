/*
 * Moving an embedded record into PostgreSQL (rd_store_move): an embedded
 * record opened read-only is never written and an older schema is
 * refused; every row arrives with its ids and numbers, the dumps of both
 * are equal, the running totals are the source's (not counted again by
 * the triggers), each change is its own commit, and the next numbers
 * follow the copied ones; a target holding a record is refused, and a
 * copy that fails half-way leaves no row. The source is always a SQLite
 * file of the test's own; the target is the PostgreSQL database of the
 * @pg run (the cases that need one are skipped on SQLite).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

static char source_dir[64];
static char source_path[128];

/* A new embedded record, of schema `version`, at source_path. */
static int make_source(int version)
{
	rd_store *st = NULL;
	rd_error err;

	rd_error_clear(&err);
	snprintf(source_dir, sizeof(source_dir), "/tmp/rd-move-XXXXXX");
	if (!mkdtemp(source_dir))
		return -1;
	snprintf(source_path, sizeof(source_path), "%s/redress.db",
		 source_dir);
	if (rd_store_open_at_version(&st, source_path, version, &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
		return -1;
	}
	rd_store_close(st);
	return 0;
}

static void drop_source(void)
{
	char path[160];
	static const char *const tails[] = { "", "-wal", "-shm", "-claims" };

	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", source_path, tails[i]);
		unlink(path);
	}
	rmdir(source_dir);
}

/* Rows of every kind; the totals set apart from what triggers count. */
static const char source_rows[] =
	"INSERT INTO workflows VALUES ("
	" 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
	" 'standard', 1, '{}', 100);"
	"INSERT INTO disputes (id, order_ref, storefront, currency, reason,"
	" channel, shipping_paid, workflow_name, workflow_version,"
	" workflow_hash, state, outcome, version, created_at, updated_at, head)"
	" VALUES ('01J00000000000000000000001', 'ORD-1', 'acme', 'EUR',"
	" 'not_received', 'web', 495, 'standard', 1,"
	" 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
	" 'resolved', 'refunded', 3, 1000, 90000,"
	" '0123456789abcdef0123456789abcdef01234567');"
	"INSERT INTO items VALUES ('01J00000000000000000000001', 0, 'SKU-1',"
	" 'A lamp', 1, 11500, NULL);"
	"INSERT INTO events VALUES ('01J00000000000000000000001', 1, 'open',"
	" 'agent', 'alice', NULL, 1000, NULL, 'opened', '{}', NULL);"
	"INSERT INTO events VALUES ('01J00000000000000000000001', 2,"
	" 'escalate', 'system', 'sla', NULL, 5000, 'opened', 'escalated',"
	" '{\"x\":1}', 'late');"
	"INSERT INTO evidence (dispute_id, n, kind, channel, submitted_by,"
	" added_at, content_type, size, sha256, withdrawn, withdrawn_reason,"
	" path, blob_oid) VALUES ('01J00000000000000000000001', 1, 'photo',"
	" 'web', 'agent:alice', 2000, 'image/png', 69,"
	" 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',"
	" 1, 'wrong', 'evidence/1/content.png',"
	" '1111111111111111111111111111111111111111');"
	"INSERT INTO offers VALUES ('01J00000000000000000000001', 'o-1-refund',"
	" 'refund_keep_item', 11500, 0, 11500, 'accepted', 3000, 4000, 2);"
	"INSERT INTO api_keys VALUES ('00112233445566ff', 'agent', 'agent',"
	" NULL,"
	" 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',"
	" 100, NULL);"
	"INSERT INTO idempotency VALUES ('00112233445566ff', 'k-1',"
	" 'dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd',"
	" 'open', '01J00000000000000000000001', NULL, '{\"id\":1}', 1000);"
	"INSERT INTO storefront_quotas VALUES ('acme', 1000, NULL, 50);"
	"INSERT INTO objects (n, id, type, size, data, change) VALUES"
	" (1, x'0101010101010101010101010101010101010101', 3, 2, x'6869', 1),"
	" (2, x'0202020202020202020202020202020202020202', 3, 69, NULL, 1),"
	" (5, x'0303030303030303030303030303030303030303', 1, 1, x'63', 7);"
	"INSERT INTO refs VALUES ('01J00000000000000000000001',"
	" '0123456789abcdef0123456789abcdef01234567');"
	"INSERT INTO changes (seq, dispute_id, head, at) VALUES"
	" (1, '01J00000000000000000000001',"
	" 'fedcba9876543210fedcba9876543210fedcba98', 1000),"
	" (7, '01J00000000000000000000001',"
	" '0123456789abcdef0123456789abcdef01234567', 90000);"
	"UPDATE record_state SET value = 'done' WHERE name = 'import';"
	/* totals a count of the rows would not give */
	"INSERT INTO stats_states VALUES ('investigating', 0)"
	" ON CONFLICT (state) DO UPDATE SET disputes = 0;"
	"UPDATE stats_totals SET value = 77 WHERE name = 'evidence_bytes';"
	"UPDATE stats_overview SET value = 9 WHERE what = 'resolved_within';"
	"UPDATE mirror_state SET position = 7, owner = 'elsewhere';"
	"INSERT INTO mirror_packs (name, first_change, last_change, objects)"
	" VALUES ('pack-1', 1, 7, 3);";

static const char totals_sql[] =
	"SELECT CAST((SELECT sum(disputes) FROM stats_states) * 1000000"
	" + (SELECT value FROM stats_totals WHERE name = 'evidence_bytes')"
	" * 1000 + (SELECT sum(value) FROM stats_overview) AS BIGINT)";

/* One integer a query answers on st's connection; -1 when none. */
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

static void readonly_never_writes(void)
{
	rd_store *st = NULL;
	rd_error err;
	int64_t before, after;

	rd_error_clear(&err);
	if (make_source(RD_STORE_SCHEMA_VERSION) < 0)
		return;
	CHECK(rd_test_sql(source_path, source_rows) == 0);
	CHECK_OK(rd_store_open_readonly(&st, source_path, &err), &err);
	if (!st)
		goto done;
	before = scalar(st, "SELECT count(*) FROM disputes");
	CHECK_INT(before, 1);
	/* a write is refused by the connection itself */
	CHECK(rd_db_exec(st->db, "DELETE FROM items") != RD_DB_OK);
	CHECK_OK(rd_store_read_begin(st, &err), &err);
	CHECK_FAILS(rd_store_read_begin(st, &err), RD_EINTERNAL);
	rd_store_rollback(st);
	after = scalar(st, "SELECT count(*) FROM items");
	CHECK_INT(after, 1);
	/* a PostgreSQL URI is not opened read-only */
	rd_store_close(st);
	st = NULL;
	CHECK_FAILS(rd_store_open_readonly(&st, "postgresql://nobody@127.0.0.1"
					   ":1/none", &err), RD_EINVALID);
done:
	rd_store_close(st);
	drop_source();
}

static void readonly_refuses_older_schema(void)
{
	rd_store *st = NULL;
	rd_error err;

	rd_error_clear(&err);
	if (make_source(12) < 0)
		return;
	CHECK_FAILS(rd_store_open_readonly(&st, source_path, &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "schema 12");
	CHECK_HAS(err.message, "run any redress command");
	CHECK(st == NULL);
	/* and it was not upgraded */
	CHECK_OK(rd_store_open_at_version(&st, source_path, 12, &err), &err);
	if (st)
		CHECK_INT(scalar(st, "PRAGMA user_version"), 12);
	rd_store_close(st);
	drop_source();
}

/* The source with rows, opened read-only, and the target; 0 or -1. */
static int open_both(rd_store **from, rd_store **to, char **target)
{
	rd_error err;

	rd_error_clear(&err);
	*from = *to = NULL;
	*target = NULL;
	if (make_source(RD_STORE_SCHEMA_VERSION) < 0)
		return -1;
	if (rd_test_sql(source_path, source_rows) != 0)
		return -1;
	*target = rd_test_db_path();
	if (rd_store_open_readonly(from, source_path, &err) < 0 ||
	    !*target || rd_store_open(to, *target, &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
		return -1;
	}
	return 0;
}

static void move_copies_every_row(void)
{
	rd_store *from = NULL, *to = NULL;
	rd_store_move_report r;
	char *target = NULL, *dump_from = NULL, *dump_to = NULL;
	rd_error err;

	RD_TEST_POSTGRES_ONLY("a record moves into PostgreSQL");
	rd_error_clear(&err);
	if (open_both(&from, &to, &target) < 0)
		goto done;
	CHECK_OK(rd_store_move_target_check(to, &err), &err);
	CHECK_OK(rd_store_move(to, from, NULL, NULL, &r, &err), &err);
	CHECK_INT(r.disputes, 1);
	CHECK_INT(r.events, 2);
	CHECK_INT(r.objects, 3);
	CHECK_INT(r.changes, 2);
	CHECK_INT(r.keys, 1);
	/* every table of the dump, row for row */
	CHECK_OK(rd_store_dump(from, &dump_from, &err), &err);
	CHECK_OK(rd_store_dump(to, &dump_to, &err), &err);
	if (dump_from && dump_to)
		CHECK_STR(dump_to, dump_from);
	/* the totals are the source's, not counted again */
	CHECK_INT(scalar(to, totals_sql), scalar(from, totals_sql));
	CHECK_INT(scalar(to, "SELECT count(*) FROM stats_states"
			     " WHERE state = 'investigating' AND disputes = 0"),
		  1);
	/* the record: numbers kept, each change its own commit */
	CHECK_INT(scalar(to, "SELECT CAST(sum(n * change) AS BIGINT) FROM objects"), 1 + 2 + 35);
	CHECK_INT(scalar(to, "SELECT count(*) FROM commits m JOIN changes c"
			     " ON c.seq = m.n AND c.batch = m.batch"), 2);
	CHECK_INT(scalar(to, "SELECT n FROM commit_counter"), 7);
	CHECK_INT(scalar(to, "SELECT count(*) FROM record_state"
			     " WHERE name = 'import' AND value = 'done'"), 1);
	/* the mirror afresh */
	CHECK_INT(scalar(to, "SELECT position FROM mirror_state"
			     " WHERE owner IS NULL"), 0);
	CHECK_INT(scalar(to, "SELECT count(*) FROM mirror_packs"), 0);
	/* the next numbers follow the copied ones */
	CHECK_INT(scalar(to, "SELECT nextval(pg_get_serial_sequence("
			     "'changes', 'seq'))"), 8);
	CHECK_INT(scalar(to, "SELECT nextval(pg_get_serial_sequence("
			     "'objects', 'n'))"), 6);
	CHECK_INT(scalar(to, "SELECT nextval('change_batches')"), 8);
	/* the source was not written */
	CHECK_INT(scalar(from, "SELECT position FROM mirror_state"), 7);
done:
	free(dump_from);
	free(dump_to);
	rd_store_close(from);
	rd_store_close(to);
	free(target);
	drop_source();
}

static void move_refuses_a_record(void)
{
	rd_store *from = NULL, *to = NULL;
	rd_store_move_report r;
	char *target = NULL;
	rd_error err;

	RD_TEST_POSTGRES_ONLY("a record moves into PostgreSQL");
	rd_error_clear(&err);
	if (open_both(&from, &to, &target) < 0)
		goto done;
	CHECK_OK(rd_store_move(to, from, NULL, NULL, &r, &err), &err);
	CHECK_FAILS(rd_store_move_target_check(to, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, "1 disputes");
	CHECK_FAILS(rd_store_move(to, from, NULL, NULL, &r, &err),
		    RD_ECONFLICT);
	CHECK_HAS(err.message, "never merged");
	CHECK_INT(scalar(to, "SELECT count(*) FROM events"), 2);
	/* an embedded target is refused */
	CHECK_FAILS(rd_store_move_target_check(from, &err), RD_EINVALID);
done:
	rd_store_close(from);
	rd_store_close(to);
	free(target);
	drop_source();
}

static void failed_move_leaves_no_row(void)
{
	rd_store *from = NULL, *to = NULL;
	rd_store_move_report r;
	char *target = NULL;
	rd_error err;

	RD_TEST_POSTGRES_ONLY("a record moves into PostgreSQL");
	rd_error_clear(&err);
	if (open_both(&from, &to, &target) < 0)
		goto done;
	/* a quota (no record: the target counts as empty) the copy collides
	 * with, after the disputes and events went in */
	CHECK(rd_db_exec(to->db, "INSERT INTO storefront_quotas VALUES"
				 " ('acme', 1, 1, 1)") == RD_DB_OK);
	CHECK_OK(rd_store_move_target_check(to, &err), &err);
	CHECK_FAILS(rd_store_move(to, from, NULL, NULL, &r, &err),
		    RD_ECONFLICT);
	CHECK_HAS(err.message, "storefront_quotas");
	CHECK_INT(scalar(to, "SELECT count(*) FROM disputes"), 0);
	CHECK_INT(scalar(to, "SELECT count(*) FROM events"), 0);
	CHECK_INT(scalar(to, "SELECT count(*) FROM stats_states"), 0);
	/* and once the collision is gone, the move is made whole */
	CHECK(rd_db_exec(to->db, "DELETE FROM storefront_quotas") == RD_DB_OK);
	CHECK_OK(rd_store_move(to, from, NULL, NULL, &r, &err), &err);
	CHECK_INT(scalar(to, "SELECT count(*) FROM events"), 2);
done:
	rd_store_close(from);
	rd_store_close(to);
	free(target);
	drop_source();
}

int main(void)
{
	RUN(readonly_never_writes);
	RUN(readonly_refuses_older_schema);
	RUN(move_copies_every_row);
	RUN(move_refuses_a_record);
	RUN(failed_move_leaves_no_row);
	return rd_test_summary();
}
