/*
 * The store on PostgreSQL: rd_store_open on a `postgresql://` URI creates
 * schema 13 once (two nodes opening a fresh database at once included),
 * prepares every statement with its PostgreSQL text, refuses a database
 * of a newer redress and a schema below 13, and the public store API does
 * on PostgreSQL what it does on SQLite: disputes and their compare-and-
 * swap update, the append-only event log, keyset lists, API keys, the
 * record's objects and heads, and the totals its triggers keep. What only
 * SQLite can do (an online copy, a record copied by ATTACH) is refused.
 *
 * Each case runs in a database of its own on the server the suite starts
 * (tests/support/pg.sh, state file in REDRESS_TEST_PG_STATE), dropped
 * afterwards. Run by hand without that variable, the cases are skipped
 * with a line saying so.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH

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

/* A dispute with three items, one without its unit cost. */
static rd_dispute *sample_dispute(int n, const char *storefront,
				  int64_t created_at)
{
	static const char *const skus[] = { "SKU-C", "SKU-A", "SKU-B" };
	rd_dispute *d = rd_test_stored_dispute(n, storefront,
					       RD_REASON_NOT_AS_DESCRIBED,
					       "opened", created_at);

	if (!d)
		return NULL;
	free(d->items[0].sku);
	free(d->items);
	d->item_count = 0;
	if (!(d->items = calloc(3, sizeof(*d->items)))) {
		rd_dispute_free(d);
		return NULL;
	}
	d->item_count = 3;
	for (size_t i = 0; i < 3; i++) {
		d->items[i].sku = strdup(skus[i]);
		d->items[i].title = i == 2 ? NULL : strdup("A thing \xc3\xa9");
		d->items[i].quantity = (int64_t)i + 1;
		d->items[i].unit_price = 1000 * ((int64_t)i + 1);
		d->items[i].unit_cost = i == 1 ? RD_AMOUNT_UNSET : 400;
	}
	d->buyer_ref = strdup("cust-77");
	d->locale = strdup("de-DE");
	d->shipping_paid = 1500;
	d->ship_cost = 3000;
	d->assignee = strdup("alice");
	return d;
}

/*
 * 1 when a and b say the same (their JSON documents are equal); both are
 * printed when they differ.
 */
static int same_dispute(const rd_dispute *a, const rd_dispute *b)
{
	json_t *ja = rd_dispute_to_json(a), *jb = rd_dispute_to_json(b);
	int same = ja && jb && json_equal(ja, jb);

	if (!same && ja && jb) {
		char *ta = json_dumps(ja, JSON_SORT_KEYS);
		char *tb = json_dumps(jb, JSON_SORT_KEYS);

		fprintf(stderr, "  wrote %s\n  read  %s\n", ta, tb);
		free(ta);
		free(tb);
	}

	json_decref(ja);
	json_decref(jb);
	return same && a->version == b->version &&
	       a->deadline_at == b->deadline_at;
}

/* A fresh database gets the newest schema, every statement prepared. */
static void fresh_body(const char *uri)
{
	rd_store *st = NULL;
	rd_error err;
	int version = 0;

	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	for (int id = 0; id < RD_STMT_COUNT; id++)
		if (!st->stmts[id]) {
			rd_test_fail(__FILE__, __LINE__, "statement %d is not "
				     "prepared", id);
			rd_store_close(st);
			return;
		}
	/*
	 * SQLite's 29 tables, the version's, the three of evidence files and
	 * the two of commit order, and the search's dispute_search (schema
	 * 20); its 20 triggers and one, and the search's five
	 */
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM pg_tables"
			 " WHERE schemaname = current_schema()"), 36);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM pg_trigger"
			 " WHERE NOT tgisinternal"), 26);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM stats_totals"), 2);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM overview_buckets"), 10);
	CHECK_STR(st->path, uri);
	/* what only SQLite can do is refused, saying what to use */
	CHECK_FAILS(rd_store_backup(st, "/nonexistent/copy.db", &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "pg_dump");
	CHECK_FAILS(rd_store_record_copy(st, "/nonexistent/redress.db", &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "pg_dump");
	CHECK(rd_store_db(st) == NULL);
	rd_store_close(st);
}

static void fresh_database_gets_newest_schema(void) { in_case(fresh_body); }

/* Opening again changes nothing: the schema is not applied twice. */
static void reopen_body(const char *uri)
{
	rd_store *st = NULL;
	rd_error err;
	char *source = NULL;

	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_INT(st->schema, RD_STORE_SCHEMA_VERSION);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM redress_schema"), 1);
	CHECK_OK(rd_store_workflow_source(st, HASH, &source, &err), &err);
	CHECK_STR(source, "{}");
	free(source);
	rd_store_close(st);
}

static void reopening_is_a_no_op(void) { in_case(reopen_body); }

/* Two nodes starting at once on a fresh database. */
typedef struct opener {
	const char *uri;
	pthread_barrier_t *start;
	int rc;
	rd_error err;
} opener;

static void *open_at_once(void *arg)
{
	opener *o = arg;
	rd_store *st = NULL;

	(void)pthread_barrier_wait(o->start);
	o->rc = rd_store_open(&st, o->uri, &o->err);
	rd_store_close(st);
	return NULL;
}

static void concurrent_body(const char *uri)
{
	pthread_barrier_t start;
	pthread_t threads[2];
	opener openers[2];
	rd_store *st = NULL;
	rd_error err;

	rd_error_clear(&err);
	CHECK(pthread_barrier_init(&start, NULL, 2) == 0);
	for (int i = 0; i < 2; i++) {
		memset(&openers[i], 0, sizeof(openers[i]));
		openers[i].uri = uri;
		openers[i].start = &start;
		CHECK(pthread_create(&threads[i], NULL, open_at_once,
				     &openers[i]) == 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&start);
	CHECK_OK(openers[0].rc, &openers[0].err);
	CHECK_OK(openers[1].rc, &openers[1].err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM redress_schema"), 1);
	CHECK_INT(scalar(st->db, "SELECT version FROM redress_schema"),
		  RD_STORE_SCHEMA_VERSION);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM mirror_state"), 1);
	rd_store_close(st);
}

static void two_nodes_open_at_once(void) { in_case(concurrent_body); }

/* A newer redress's database, and a schema below 13, are refused. */
static void refuse_body(const char *uri)
{
	rd_store *st = NULL;
	rd_error err;
	char want[128];

	rd_error_clear(&err);
	CHECK_FAILS(rd_store_open_at_version(&st, uri, 12, &err), RD_EINVALID);
	CHECK_HAS(err.message, "PostgreSQL records start at schema 13");
	CHECK(st == NULL);
	/* nothing was created by the refusal */
	CHECK_OK(rd_store_open_at_version(&st, uri, 13, &err), &err);
	CHECK(rd_db_exec(st->db, "UPDATE redress_schema SET version = 99") ==
	      RD_DB_OK);
	rd_store_close(st);
	st = NULL;
	CHECK_FAILS(rd_store_open(&st, uri, &err), RD_EINVALID);
	snprintf(want, sizeof(want), "newer redress (schema 99, this build "
		 "knows %d)", RD_STORE_SCHEMA_VERSION);
	CHECK_HAS(err.message, want);
	CHECK(st == NULL);
}

static void newer_database_refused(void) { in_case(refuse_body); }

/* The count of state `name` in stats, -1 when it is not listed. */
static int64_t state_total(const rd_store_stats *stats, const char *name)
{
	for (size_t i = 0; i < stats->state_count; i++)
		if (strcmp(stats->states[i].state, name) == 0)
			return stats->states[i].disputes;
	return -1;
}

/* The overview's count of (what, name), -1 when it is not listed. */
static int64_t overview_total(const rd_store_overview *ov,
			      rd_overview_what what, const char *name)
{
	for (size_t i = 0; i < ov->count; i++)
		if (ov->counts[i].what == what &&
		    strcmp(ov->counts[i].name, name) == 0)
			return ov->counts[i].value;
	return -1;
}

/*
 * Two connections move disputes between the same two states at once, in
 * opposite directions, each holding its transaction open: neither waits
 * on the other's totals (schema 17 keeps them in a shard per session), so
 * the second commits while the first is still open, under a lock timeout
 * that a wait on the first's rows would exceed. The totals read back are
 * the sums over the shards.
 */
static void shards_body(const char *uri)
{
	rd_store *a = NULL, *b = NULL;
	rd_dispute *d[3] = { 0 };
	rd_store_stats stats;
	rd_store_overview ov;
	rd_error err;

	rd_error_clear(&err);
	memset(&stats, 0, sizeof(stats));
	memset(&ov, 0, sizeof(ov));
	CHECK_OK(rd_store_open(&a, uri, &err), &err);
	CHECK_OK(rd_store_open(&b, uri, &err), &err);
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_OK(rd_store_workflow_put(a, HASH, "dispute", 1, "{}", &err),
		 &err);
	for (int i = 0; i < 3; i++) {
		CHECK((d[i] = sample_dispute(i + 1, "acme",
					     1700000000 + i)) != NULL);
		if (i == 2) {
			free(d[i]->state);
			CHECK((d[i]->state = strdup("escalated")) != NULL);
		}
		CHECK_OK(rd_store_dispute_insert(a, d[i], &err), &err);
	}
	CHECK_OK(rd_store_commit(a, &err), &err);

	/* a: opened -> escalated, left open */
	CHECK_OK(rd_store_begin(a, &err), &err);
	free(d[0]->state);
	CHECK((d[0]->state = strdup("escalated")) != NULL);
	d[0]->version = 2;
	CHECK_OK(rd_store_dispute_update(a, d[0], 1, &err), &err);

	/* b: escalated -> opened, committed meanwhile */
	rd_store_set_busy_timeout(b, 500);
	CHECK_OK(rd_store_begin(b, &err), &err);
	free(d[2]->state);
	CHECK((d[2]->state = strdup("opened")) != NULL);
	d[2]->version = 2;
	CHECK_OK(rd_store_dispute_update(b, d[2], 1, &err), &err);
	CHECK_OK(rd_store_commit(b, &err), &err);
	CHECK_OK(rd_store_commit(a, &err), &err);

	/* two shards were written, b's below zero; the sums are the states */
	CHECK(scalar(a->db, "SELECT count(DISTINCT shard) FROM stats_states")
	      >= 2);
	CHECK(scalar(a->db, "SELECT count(*) FROM stats_states"
		     " WHERE disputes < 0") >= 1);
	CHECK_OK(rd_store_stats_read(b, &stats, &err), &err);
	CHECK_INT(state_total(&stats, "opened"), 2);
	CHECK_INT(state_total(&stats, "escalated"), 1);
	CHECK_OK(rd_store_overview_read(b, "acme", &ov, &err), &err);
	CHECK_INT(overview_total(&ov, RD_OVERVIEW_STATE, "opened"), 2);
	CHECK_INT(overview_total(&ov, RD_OVERVIEW_STATE, "escalated"), 1);
	rd_store_overview_clear(&ov);
	rd_store_stats_clear(&stats);
	for (int i = 0; i < 3; i++)
		rd_dispute_free(d[i]);
	rd_store_close(b);
	rd_store_close(a);
}

static void totals_in_shards(void) { in_case(shards_body); }

/* Disputes: insert, get, update by compare-and-swap, list by keyset. */
static void disputes_body(const char *uri)
{
	rd_store *st = NULL;
	rd_dispute *d[4] = { 0 }, *got = NULL, **page = NULL;
	rd_dispute_filter filter;
	rd_error err;
	size_t count = 0;
	char *cursor = NULL;
	char dup_id[RD_ID_BUFSZ];
	int found = 0;

	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	for (int i = 0; i < 4; i++) {
		d[i] = sample_dispute(i + 1, i == 3 ? "other" : "acme",
				      1700000000 + i);
		CHECK(d[i] != NULL);
		CHECK_OK(rd_store_dispute_insert(st, d[i], &err), &err);
	}
	CHECK_OK(rd_store_deadline_set(st, d[0]->id, 1700086400, "expire",
				       "opened", &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	d[0]->deadline_at = 1700086400;
	CHECK((d[0]->deadline_event = strdup("expire")) != NULL);

	/* back as it went in, items in order, NULLs kept */
	CHECK_OK(rd_store_dispute_get(st, d[0]->id, &got, &err), &err);
	CHECK(same_dispute(d[0], got));
	CHECK(got->items[2].title == NULL);
	CHECK_INT(got->items[1].unit_cost, RD_AMOUNT_UNSET);
	CHECK_INT(got->return_cost, RD_AMOUNT_UNSET);
	rd_dispute_free(got);
	got = NULL;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_insert(st, d[1], &err), RD_ECONFLICT);
	rd_store_rollback(st);

	/* an open duplicate is found by an item's SKU (json on PostgreSQL) */
	CHECK_OK(rd_store_dispute_open_duplicate(st, d[1], dup_id, &found,
						 &err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(dup_id, d[0]->id);

	/* compare-and-swap on the version; the stale one changes nothing */
	free(d[1]->state);
	d[1]->state = strdup("closed");
	d[1]->outcome = strdup("refunded");
	d[1]->version = 2;
	d[1]->updated_at = 1700003600;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_update(st, d[1], 1, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	d[1]->version = 3;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_update(st, d[1], 1, &err), RD_ESTALE);
	rd_store_rollback(st);
	d[1]->version = 2;
	CHECK_OK(rd_store_dispute_get(st, d[1]->id, &got, &err), &err);
	CHECK(same_dispute(d[1], got));
	rd_dispute_free(got);
	got = NULL;

	/* acme's disputes newest first, two a page, then the cursor's page */
	memset(&filter, 0, sizeof(filter));
	filter.storefront = "acme";
	filter.limit = 2;
	CHECK_OK(rd_store_dispute_list(st, &filter, &page, &count, &cursor,
				       &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(page[0]->id, d[2]->id);
	CHECK_STR(page[1]->id, d[1]->id);
	CHECK(cursor != NULL);
	for (size_t i = 0; i < count; i++)
		rd_dispute_free(page[i]);
	free(page);
	page = NULL;
	filter.cursor = cursor;
	CHECK_OK(rd_store_dispute_list(st, &filter, &page, &count, &cursor,
				       &err), &err);
	free((char *)filter.cursor);
	CHECK_INT(count, 1);
	CHECK(same_dispute(d[0], page[0]));
	CHECK(cursor == NULL);
	rd_dispute_free(page[0]);
	free(page);
	page = NULL;
	/* every dispute, and the filters checked on the rows walked */
	memset(&filter, 0, sizeof(filter));
	CHECK_OK(rd_store_dispute_list(st, &filter, &page, &count, &cursor,
				       &err), &err);
	CHECK_INT(count, 4);
	CHECK_STR(page[0]->id, d[3]->id);
	for (size_t i = 0; i < count; i++)
		rd_dispute_free(page[i]);
	free(page);
	page = NULL;
	filter.state = "opened";
	filter.storefront = "acme";
	CHECK_OK(rd_store_dispute_list(st, &filter, &page, &count, &cursor,
				       &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(page[0]->id, d[2]->id);
	CHECK_STR(page[1]->id, d[0]->id);
	for (size_t i = 0; i < count; i++)
		rd_dispute_free(page[i]);
	free(page);
	page = NULL;
	memset(&filter, 0, sizeof(filter));
	filter.overdue = 1;
	filter.now = 1700090000;
	CHECK_OK(rd_store_dispute_list(st, &filter, &page, &count, &cursor,
				       &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(page[0]->id, d[0]->id);
	rd_dispute_free(page[0]);
	free(page);

	for (int i = 0; i < 4; i++)
		rd_dispute_free(d[i]);
	rd_store_close(st);
}

static void disputes_round_trip(void) { in_case(disputes_body); }

/* The event log is append-only, and the totals follow every change. */
static void events_body(const char *uri)
{
	rd_store *st = NULL;
	rd_dispute *d = rd_test_stored_dispute(1, "acme", RD_REASON_DAMAGED,
					       "opened", 1700000000);
	rd_event_record ev[3], *read = NULL;
	rd_evidence_row row = rd_test_evidence_row(1, 1, "photo");
	rd_evidence_usage usage;
	rd_store_stats stats;
	rd_error err;
	size_t count = 0;
	char *dump = NULL;

	rd_error_clear(&err);
	memset(&stats, 0, sizeof(stats));
	CHECK(d != NULL);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(rd_store_dispute_insert(st, d, &err), &err);
	ev[0] = rd_test_event_record(1, 1, "opened", NULL, "opened");
	ev[1] = rd_test_event_record(1, 2, "assign", "opened", "opened");
	ev[1].fields_json = (char *)"{\"assignee\": \"bob\"}";
	ev[1].note = (char *)"taken";
	ev[2] = rd_test_event_record(1, 3, "deadline_passed", "opened",
				     "opened");
	ev[2].actor = rd_test_actor(RD_ROLE_SYSTEM, "sla");
	for (int i = 0; i < 3; i++)
		CHECK_OK(rd_store_event_append(st, &ev[i], &err), &err);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_event_append(st, &ev[1], &err), RD_ECONFLICT);
	rd_store_rollback(st);
	/* what the triggers refuse, whoever writes */
	CHECK_INT(rd_db_exec(st->db, "UPDATE events SET note = 'changed'"),
		  RD_DB_ECONSTRAINT);
	CHECK_HAS(rd_db_errmsg(st->db), "append-only");
	CHECK_INT(rd_db_exec(st->db, "DELETE FROM events"), RD_DB_ECONSTRAINT);
	CHECK_INT(rd_db_exec(st->db, "INSERT INTO events VALUES ('"
			     "01J00000000000000000000001', 9, 'e', 'agent',"
			     " 'a', NULL, 1, NULL, 'x', '{not json', NULL)"),
		  RD_DB_ECONSTRAINT);

	CHECK_OK(rd_store_events_list(st, d->id, &read, &count, &err), &err);
	CHECK_INT(count, 3);
	CHECK_STR(read[0].fields_json, "{}");
	CHECK(read[0].from_state == NULL);
	CHECK_STR(read[1].fields_json, "{\"assignee\": \"bob\"}");
	CHECK_STR(read[1].note, "taken");
	CHECK_INT(read[2].seq, 3);
	rd_event_records_free(read, count);

	/* the totals of the triggers: states, SLA breaches, evidence bytes */
	free(d->state);
	d->state = strdup("closed");
	d->version = 2;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_update(st, d, 1, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(rd_test_in_state(&stats, "opened"), 0);
	CHECK_INT(rd_test_in_state(&stats, "closed"), 1);
	CHECK_INT(stats.sla_breaches, 1);
	CHECK_INT(stats.evidence_bytes, 1234);
	rd_store_stats_clear(&stats);
	CHECK_OK(rd_store_usage_get(st, "acme", 1700000200 / 86400, &usage,
				    &err), &err);
	CHECK_INT(usage.total, 1234);
	CHECK_INT(usage.today, 1234);
	CHECK_OK(rd_store_usage_get(st, "acme", 1, &usage, &err), &err);
	CHECK_INT(usage.today, 0);

	/* the dump reads every table through the same statements */
	CHECK_OK(rd_store_dump(st, &dump, &err), &err);
	CHECK_HAS(dump, d->id);
	CHECK_HAS(dump, "deadline_passed");
	free(dump);
	rd_dispute_free(d);
	rd_store_close(st);
}

static void events_and_totals(void) { in_case(events_body); }

/* API keys: insert, get, revoke once; the schema's checks refuse. */
static void keys_body(const char *uri)
{
	rd_store *st = NULL;
	rd_api_key key, got, bad;
	rd_error err;

	rd_error_clear(&err);
	memset(&key, 0, sizeof(key));
	snprintf(key.id, sizeof(key.id), "0123456789abcdef");
	snprintf(key.name, sizeof(key.name), "ops \xc3\xa9quipe");
	key.role = RD_ROLE_STOREFRONT;
	snprintf(key.storefront, sizeof(key.storefront), "acme");
	snprintf(key.secret_sha256, sizeof(key.secret_sha256), "%s", HASH);
	key.created_at = 1700000000;
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_key_insert(st, &key, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_key_get(st, key.id, &got, &err), &err);
	CHECK_STR(got.id, key.id);
	CHECK_STR(got.name, key.name);
	CHECK_INT(got.role, RD_ROLE_STOREFRONT);
	CHECK_STR(got.storefront, "acme");
	CHECK_STR(got.secret_sha256, HASH);
	CHECK_INT(got.created_at, key.created_at);
	CHECK_INT(got.revoked_at, 0);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_key_insert(st, &key, &err), RD_ECONFLICT);
	rd_store_rollback(st);
	bad = key;
	snprintf(bad.id, sizeof(bad.id), "0123456789ABCDEF");
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_key_insert(st, &bad, &err), RD_EINVALID);
	rd_store_rollback(st);
	bad = key;
	snprintf(bad.id, sizeof(bad.id), "fedcba9876543210");
	bad.role = RD_ROLE_AGENT;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_key_insert(st, &bad, &err), RD_EINVALID);
	rd_store_rollback(st);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_key_revoke(st, key.id, 1700000500, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_key_revoke(st, key.id, 1700000900, &err),
		    RD_ECONFLICT);
	rd_store_rollback(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_key_revoke(st, "ffffffffffffffff", 1700000900,
					&err), RD_ENOTFOUND);
	rd_store_rollback(st);
	CHECK_OK(rd_store_key_get(st, key.id, &got, &err), &err);
	CHECK_INT(got.revoked_at, 1700000500);
	CHECK_FAILS(rd_store_key_get(st, "ffffffffffffffff", &got, &err),
		    RD_ENOTFOUND);
	rd_store_close(st);
}

static void keys_round_trip(void) { in_case(keys_body); }

/* The record: objects kept as bytes, heads moved by compare-and-swap. */
static void record_body(const char *uri)
{
	static const char head_a[] = "1111111111111111111111111111111111111111";
	static const char head_b[] = "2222222222222222222222222222222222222222";
	static const unsigned char blob[] = { 'b', 'l', 0, 0xff, 'b', '\n' };
	unsigned char id[RD_OID_RAWSZ], file_id[RD_OID_RAWSZ];
	unsigned char *ids = NULL;
	char dispute[RD_ID_BUFSZ], head[41];
	rd_store *st = NULL;
	rd_error err;
	int found = 0, type = 0, in_file = -1;
	int64_t size = 0, seq = 0;
	void *data = NULL;
	size_t count = 0;

	rd_error_clear(&err);
	for (int i = 0; i < RD_OID_RAWSZ; i++) {
		id[i] = (unsigned char)(i * 13);      /* a 0 byte first */
		file_id[i] = (unsigned char)(0xff - i);
	}
	rd_test_make_id(dispute, 1);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_object_put(st, id, RD_OBJECT_BLOB, sizeof(blob),
				     blob, &err), &err);
	CHECK_OK(rd_store_object_put(st, file_id, RD_OBJECT_BLOB, 1 << 20,
				     NULL, &err), &err);
	/* the same id again is the same object: left as it is */
	CHECK_OK(rd_store_object_put(st, id, RD_OBJECT_BLOB, sizeof(blob),
				     blob, &err), &err);
	CHECK_OK(rd_store_ref_move(st, dispute, NULL, head_a, 1700000000,
				   &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_object_get(st, id, &found, &type, &size, &in_file,
				     &data, &err), &err);
	CHECK_INT(found, 1);
	CHECK_INT(type, RD_OBJECT_BLOB);
	CHECK_INT(size, sizeof(blob));
	CHECK_INT(in_file, 0);
	CHECK(data && memcmp(data, blob, sizeof(blob)) == 0);
	free(data);
	data = NULL;
	CHECK_OK(rd_store_object_get(st, file_id, &found, &type, &size,
				     &in_file, NULL, &err), &err);
	CHECK_INT(found, 1);
	CHECK_INT(in_file, 1);
	CHECK_INT(size, 1 << 20);
	CHECK_OK(rd_store_objects_in_files(st, NULL, 10, &ids, &count, &err),
		 &err);
	CHECK_INT(count, 1);
	CHECK(memcmp(ids, file_id, RD_OID_RAWSZ) == 0);
	free(ids);
	CHECK_OK(rd_store_objects_in_files(st, file_id, 10, &ids, &count,
					   &err), &err);
	CHECK_INT(count, 0);
	free(ids);
	id[0] = 0xee;
	CHECK_OK(rd_store_object_get(st, id, &found, &type, &size, &in_file,
				     NULL, &err), &err);
	CHECK_INT(found, 0);

	/* a stale head is refused and changes nothing */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_ref_move(st, dispute, head_b, head_a, 1700000001,
				      &err), RD_ECONFLICT);
	rd_store_rollback(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_ref_move(st, dispute, NULL, head_b, 1700000001,
				      &err), RD_ECONFLICT);
	rd_store_rollback(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_ref_move(st, dispute, head_a, head_b, 1700000002,
				   &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_ref_get(st, dispute, head, &found, &err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(head, head_b);
	CHECK_OK(rd_store_changes_last(st, &seq, &err), &err);
	CHECK(seq >= 2);
	CHECK_OK(rd_store_dispute_last_change(st, dispute, &seq, &err), &err);
	CHECK(seq >= 2);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM changes"), 2);
	rd_store_close(st);
}

static void record_round_trip(void) { in_case(record_body); }

/*
 * A transaction's objects reach the table together as it commits, in the
 * order they were stored: before that the store answers for them (found,
 * header, bytes) without a row, a change of a batch that rolls back to
 * its savepoint takes its own objects with it and leaves the earlier
 * changes', and an object stored twice is one row.
 */
static void deferred_body(const char *uri)
{
	static const char *const bytes[3] = { "first", "second one",
					      "third, rolled back" };
	static const char head_a[] = "1111111111111111111111111111111111111111";
	static const char head_b[] = "2222222222222222222222222222222222222222";
	unsigned char ids[3][RD_OID_RAWSZ];
	char dispute[2][RD_ID_BUFSZ];
	rd_store *st = NULL;
	rd_error err;
	int found = 0, type = 0, in_file = -1;
	int64_t size = 0;
	void *data = NULL;

	rd_error_clear(&err);
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < RD_OID_RAWSZ; i++)
			ids[k][i] = (unsigned char)(0x40 * k + i);
	rd_test_make_id(dispute[0], 1);
	rd_test_make_id(dispute[1], 2);
	CHECK_OK(rd_store_open(&st, uri, &err), &err);
	CHECK_OK(rd_store_batch_begin(st, &err), &err);

	/* change 1: two objects, one of them twice, then its head */
	CHECK_OK(rd_store_begin(st, &err), &err);
	for (int k = 0; k < 2; k++)
		CHECK_OK(rd_store_object_put(st, ids[k], RD_OBJECT_BLOB,
					     (int64_t)strlen(bytes[k]),
					     bytes[k], &err), &err);
	CHECK_OK(rd_store_object_put(st, ids[0], RD_OBJECT_BLOB,
				     (int64_t)strlen(bytes[0]), bytes[0],
				     &err), &err);
	CHECK_OK(rd_store_object_get(st, ids[1], &found, &type, &size,
				     &in_file, NULL, &err), &err);
	CHECK_INT(found, 1);
	CHECK_INT(size, (int64_t)strlen(bytes[1]));
	CHECK_INT(in_file, 0);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM objects"), 0);
	CHECK_OK(rd_store_ref_move(st, dispute[0], NULL, head_a, 1700000000,
				   &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	/* change 2: reads change 1's bytes, stores one, rolls back */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_object_get(st, ids[0], &found, &type, &size,
				     &in_file, &data, &err), &err);
	CHECK_INT(found, 1);
	CHECK(data && memcmp(data, bytes[0], strlen(bytes[0])) == 0);
	free(data);
	data = NULL;
	CHECK_OK(rd_store_object_put(st, ids[2], RD_OBJECT_BLOB,
				     (int64_t)strlen(bytes[2]), bytes[2],
				     &err), &err);
	CHECK_OK(rd_store_ref_move(st, dispute[1], NULL, head_b, 1700000001,
				   &err), &err);
	rd_store_rollback(st);
	CHECK_OK(rd_store_object_get(st, ids[2], &found, &type, &size,
				     &in_file, NULL, &err), &err);
	CHECK_INT(found, 0);
	CHECK_OK(rd_store_batch_commit(st, &err), &err);

	/* the rows: change 1's two, in the order stored, one commit */
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM objects"), 2);
	CHECK_INT(scalar(st->db, "SELECT get_byte(id, 0) FROM objects"
		     " ORDER BY n LIMIT 1"), ids[0][0]);
	CHECK_INT(scalar(st->db, "SELECT get_byte(id, 0) FROM objects"
		     " ORDER BY n DESC LIMIT 1"), ids[1][0]);
	CHECK_INT(scalar(st->db, "SELECT count(DISTINCT change) FROM objects"),
		  1);
	CHECK_INT(scalar(st->db, "SELECT count(*) FROM commits"), 1);
	CHECK_OK(rd_store_object_get(st, ids[1], &found, &type, &size,
				     &in_file, &data, &err), &err);
	CHECK_INT(found, 1);
	CHECK(data && memcmp(data, bytes[1], strlen(bytes[1])) == 0);
	free(data);
	CHECK_OK(rd_store_object_get(st, ids[2], &found, &type, &size,
				     &in_file, NULL, &err), &err);
	CHECK_INT(found, 0);
	rd_store_close(st);
}

static void objects_sent_at_commit(void) { in_case(deferred_body); }

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
		RUN(fresh_database_gets_newest_schema);
		RUN(reopening_is_a_no_op);
		RUN(two_nodes_open_at_once);
		RUN(newer_database_refused);
		RUN(totals_in_shards);
		RUN(disputes_round_trip);
		RUN(events_and_totals);
		RUN(keys_round_trip);
		RUN(record_round_trip);
		RUN(objects_sent_at_commit);
	}
	return rd_test_summary();
}
