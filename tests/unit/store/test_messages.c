/*
 * The messages of a dispute and its reply clock in the store: numbered per
 * dispute, read a page at a time in order, internal notes left out when
 * asked, never changed once written, rebuilt without doubles; whether the
 * seller has answered; a reply clock set, moved, read back with the
 * dispute and cleared; the clocks due, soonest first; the disputes
 * awaiting a reply listed soonest due first a page at a time, filtered
 * like the list; and a clock claimed only while it is due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "store/db.h"
#include "fixtures.h"
#include "test.h"

#define HEAD "0123456789abcdef0123456789abcdef01234567"

/* `disputes` disputes, odd ones of acme and even ones of other, each with a head. */
static rd_store *fixture_at(char *path, int disputes)
{
	rd_error err;
	rd_store *st = rd_test_store_open(path);
	int ok = st && rd_store_begin(st, &err) == RD_OK &&
		 rd_store_workflow_put(st, RD_TEST_WORKFLOW_HASH, "dispute", 1,
				       "{}", &err) == RD_OK;

	for (int i = 1; ok && i <= disputes; i++) {
		rd_dispute *d = rd_test_stored_dispute(i, i % 2 ? "acme" :
							     "other",
						       RD_REASON_DAMAGED,
						       "opened",
						       1700000000 + i);

		ok = d && rd_store_dispute_insert(st, d, &err) == RD_OK &&
		     rd_store_ref_move(st, d->id, NULL, HEAD, 500, &err) ==
			     RD_OK;
		rd_dispute_free(d);
	}
	if (!ok || rd_store_commit(st, &err) != RD_OK) {
		fprintf(stderr, "fixture: %s\n", err.message);
		rd_store_close(st);
		return NULL;
	}
	return st;
}

static rd_store *fixture(int disputes)
{
	char *path = rd_test_db_path();
	rd_store *st = fixture_at(path, disputes);

	free(path);
	return st;
}

static rd_message_row message(int dispute, int64_t n, const char *direction)
{
	rd_message_row row;

	memset(&row, 0, sizeof(row));
	rd_test_make_id(row.dispute_id, dispute);
	row.n = n;
	row.version = n + 1;
	snprintf(row.direction, sizeof(row.direction), "%s", direction);
	snprintf(row.channel, sizeof(row.channel), "chat");
	row.body = (char *)"hello\nthere";
	snprintf(row.author, sizeof(row.author), "alice");
	snprintf(row.role, sizeof(row.role), "agent");
	row.evidence = (char *)"[1]";
	row.created_at = 1700000100 + n;
	return row;
}

static int put(rd_store *st, int dispute, int64_t n, const char *direction,
	       int rebuild, rd_error *err)
{
	rd_message_row row = message(dispute, n, direction);
	int rc;

	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	if ((rc = rd_store_message_insert(st, &row, rebuild, err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

/* The page as "n:direction ..." */
static const char *page(rd_store *st, int dispute, int64_t after,
			size_t limit, int with_internal)
{
	static char out[256];
	rd_message_row *rows = NULL;
	char id[RD_ID_BUFSZ];
	size_t count = 0, used = 0;
	rd_error err;

	out[0] = '\0';
	rd_test_make_id(id, dispute);
	if (rd_store_messages_list(st, id, after, limit, with_internal, &rows,
				   &count, &err) < 0) {
		snprintf(out, sizeof(out), "error: %.200s", err.message);
		return out;
	}
	for (size_t i = 0; i < count; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 "%s%lld:%s", i ? " " : "",
					 (long long)rows[i].n,
					 rows[i].direction);
	rd_message_rows_free(rows, count);
	return out;
}

static void numbered_listed_and_filtered(void)
{
	rd_store *st = fixture(2);
	rd_message_row *rows = NULL;
	char id[RD_ID_BUFSZ];
	size_t count = 0;
	int64_t next = 0;
	int answered = -1;
	rd_error err;

	CHECK(st);
	rd_test_make_id(id, 1);
	CHECK_OK(rd_store_message_next(st, id, &next, &err), &err);
	CHECK_INT(next, 1);
	CHECK_OK(rd_store_message_answered(st, id, &answered, &err), &err);
	CHECK_INT(answered, 0);
	CHECK_OK(put(st, 1, 1, "inbound", 0, &err), &err);
	CHECK_OK(put(st, 1, 2, "internal", 0, &err), &err);
	CHECK_OK(put(st, 1, 3, "outbound", 0, &err), &err);
	CHECK_OK(put(st, 2, 1, "inbound", 0, &err), &err);
	CHECK_OK(rd_store_message_next(st, id, &next, &err), &err);
	CHECK_INT(next, 4);
	CHECK_OK(rd_store_message_answered(st, id, &answered, &err), &err);
	CHECK_INT(answered, 1);
	CHECK_STR(page(st, 1, 0, 10, 1), "1:inbound 2:internal 3:outbound");
	CHECK_STR(page(st, 1, 0, 10, 0), "1:inbound 3:outbound");
	CHECK_STR(page(st, 1, 1, 1, 1), "2:internal");
	CHECK_STR(page(st, 1, 1, 1, 0), "3:outbound");
	CHECK_STR(page(st, 2, 0, 10, 0), "1:inbound");
	/* the row as written */
	CHECK_OK(rd_store_messages_list(st, id, 0, 1, 1, &rows, &count, &err),
		 &err);
	CHECK_INT(count, 1);
	CHECK_STR(rows[0].body, "hello\nthere");
	CHECK_STR(rows[0].evidence, "[1]");
	CHECK_STR(rows[0].language, "");
	CHECK_STR(rows[0].template_name, "");
	CHECK(rows[0].call == NULL);
	CHECK_INT(rows[0].version, 2);
	CHECK_INT(rows[0].created_at, 1700000101);
	rd_message_rows_free(rows, count);
	/* a number taken twice is refused, a rebuild finds what it has */
	CHECK_FAILS(put(st, 1, 3, "inbound", 0, &err), RD_ECONFLICT);
	CHECK_OK(put(st, 1, 3, "inbound", 1, &err), &err);
	CHECK_STR(page(st, 1, 2, 10, 1), "3:outbound");
	CHECK_FAILS(rd_store_messages_list(st, id, 0, 501, 1, &rows, &count,
					   &err), RD_EINVALID);
	rd_store_close(st);
}

static void never_changed(void)
{
	RD_TEST_SQLITE_ONLY("a trigger refuses an UPDATE (SQLite's text)");
	char *path = rd_test_db_path();
	rd_store *st = fixture_at(path, 1);
	rd_db *db = NULL;
	rd_error err;

	CHECK(st);
	CHECK_OK(put(st, 1, 1, "inbound", 0, &err), &err);
	rd_store_close(st);
	CHECK_OK(rd_db_open(&db, path, 1, &err), &err);
	CHECK(rd_db_exec(db, "UPDATE messages SET body = 'x'") != RD_DB_OK);
	CHECK_HAS(rd_db_errmsg(db), "messages are append-only");
	rd_db_close(db);
	free(path);
}

static void reply_clock(void)
{
	rd_store *st = fixture(4);
	rd_reply_due due[8];
	rd_dispute *d = NULL;
	char id[RD_ID_BUFSZ];
	size_t count = 0;
	int claimed = -1;
	rd_error err;

	CHECK(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	for (int i = 1; i <= 3; i++) {
		rd_test_make_id(id, i);
		CHECK_OK(rd_store_reply_set(st, id, 1700100000 - i * 10, i,
					    i == 2 ? NULL : "escalate", &err),
			 &err);
	}
	CHECK_OK(rd_store_commit(st, &err), &err);
	rd_test_make_id(id, 2);
	CHECK_OK(rd_store_dispute_get(st, id, &d, &err), &err);
	CHECK_INT(d->reply_due_at, 1700099980);
	CHECK_INT(d->reply_since, 2);
	CHECK(d->reply_event == NULL);
	rd_dispute_free(d);
	rd_test_make_id(id, 4);
	CHECK_OK(rd_store_dispute_get(st, id, &d, &err), &err);
	CHECK_INT(d->reply_due_at, 0);
	rd_dispute_free(d);

	/* due: the soonest first, only those due */
	CHECK_OK(rd_store_replies_due(st, 1700099980, due, 8, &count, &err),
		 &err);
	CHECK_INT(count, 2);
	CHECK_INT(due[0].since, 3);
	CHECK_INT(due[1].since, 2);
	CHECK_STR(due[0].event, "escalate");
	CHECK_STR(due[1].event, "");

	/* claimed only while due, in a transaction */
	rd_test_make_id(id, 1);
	CHECK_FAILS(rd_store_reply_claim(st, id, 1700100000, &claimed, &err),
		    RD_EINTERNAL);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_reply_claim(st, id, 1700099000, &claimed, &err),
		 &err);
	CHECK_INT(claimed, 0);
	CHECK_OK(rd_store_reply_claim(st, id, 1700099990, &claimed, &err),
		 &err);
	CHECK_INT(claimed, 1);
	/* moved, then cleared */
	CHECK_OK(rd_store_reply_set(st, id, 1700200000, 5, "escalate", &err),
		 &err);
	rd_test_make_id(id, 3);
	CHECK_OK(rd_store_reply_set(st, id, 0, 0, NULL, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_replies_due(st, 1800000000, due, 8, &count, &err),
		 &err);
	CHECK_INT(count, 2);
	CHECK_INT(due[0].since, 2);
	CHECK_INT(due[1].since, 5);
	rd_store_close(st);
}

/* The awaiting-reply list as "n n n" (fixture numbers) and its cursor. */
static const char *awaiting(rd_store *st, const char *storefront,
			    size_t limit, const char *cursor, char **next)
{
	static char out[256];
	rd_dispute_filter f;
	rd_dispute **page_out = NULL;
	size_t count = 0, used = 0;
	rd_error err;

	memset(&f, 0, sizeof(f));
	f.awaiting_reply = 1;
	f.storefront = storefront;
	f.limit = limit;
	f.cursor = cursor;
	out[0] = '\0';
	*next = NULL;
	if (rd_store_dispute_list(st, &f, &page_out, &count, next, &err) < 0) {
		snprintf(out, sizeof(out), "error: %.200s", err.message);
		return out;
	}
	for (size_t i = 0; i < count; i++) {
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 "%s%ld", i ? " " : "",
					 strtol(page_out[i]->id + 3, NULL, 10));
		rd_dispute_free(page_out[i]);
	}
	free(page_out);
	return out;
}

static void awaiting_reply_list(void)
{
	rd_store *st = fixture(6);
	char id[RD_ID_BUFSZ];
	char *next = NULL, *again = NULL;
	rd_error err;

	CHECK(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	/* dispute n due at 1700100000 - 10n: 5 first, then 4, 3, 1 */
	for (int i = 1; i <= 5; i++) {
		if (i == 2)
			continue;
		rd_test_make_id(id, i);
		CHECK_OK(rd_store_reply_set(st, id, 1700100000 - i * 10, 1,
					    "escalate", &err), &err);
	}
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_STR(awaiting(st, NULL, 50, NULL, &next), "5 4 3 1");
	CHECK(next == NULL);
	CHECK_STR(awaiting(st, NULL, 2, NULL, &next), "5 4");
	CHECK(next != NULL);
	CHECK_STR(awaiting(st, NULL, 2, next, &again), "3 1");
	CHECK(again == NULL);
	free(next);
	CHECK_STR(awaiting(st, "acme", 50, NULL, &next), "5 3 1");
	CHECK_STR(awaiting(st, "other", 50, NULL, &next), "4");
	rd_store_close(st);
}

int main(void)
{
	rd_test_run("numbered_listed_and_filtered",
		    numbered_listed_and_filtered);
	rd_test_run("never_changed", never_changed);
	rd_test_run("reply_clock", reply_clock);
	rd_test_run("awaiting_reply_list", awaiting_reply_list);
	return rd_test_summary();
}
