/*
 * Store records: disputes and their compare-and-swap update, the
 * append-only event log, deadlines, evidence, offers, transactions (atomic
 * rollback, RD_EBUSY under a held lock) and the dump.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH
#define OTHER_HASH \
	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* A dispute with three items, one without its unit cost. */
static rd_dispute *sample_dispute(int n)
{
	static const char *const skus[] = { "SKU-C", "SKU-A", "SKU-B" };
	rd_dispute *d = rd_dispute_new();

	if (!d)
		return NULL;
	rd_test_make_id(d->id, n);
	d->order_ref = strdup("ORD-1001");
	d->storefront = strdup("acme-eu");
	d->buyer_ref = strdup("cust-77");
	memcpy(d->currency, "USD", 4);
	d->reason = RD_REASON_NOT_AS_DESCRIBED;
	d->channel = RD_CHANNEL_EMAIL;
	d->locale = strdup("de-DE");
	d->description = NULL;
	d->items = calloc(3, sizeof(*d->items));
	d->item_count = 3;
	for (size_t i = 0; i < 3; i++) {
		d->items[i].sku = strdup(skus[i]);
		d->items[i].title = strdup("A thing");
		d->items[i].quantity = (int64_t)i + 1;
		d->items[i].unit_price = 1000 * ((int64_t)i + 1);
		d->items[i].unit_cost = i == 1 ? RD_AMOUNT_UNSET : 400;
	}
	d->shipping_paid = 1500;
	d->ship_cost = 3000;
	d->return_cost = RD_AMOUNT_UNSET;
	d->workflow_name = strdup("dispute");
	d->workflow_version = 3;
	memcpy(d->workflow_hash, HASH, sizeof(HASH));
	d->state = strdup("opened");
	d->outcome = NULL;
	d->assignee = strdup("alice");
	d->version = 1;
	d->created_at = 1700000000 + n;
	d->updated_at = 1700000000 + n;
	return d;
}

/* A store holding the workflow and disputes 1..count. */
static rd_store *store_with(const char *path, int count)
{
	rd_error err;
	rd_store *st = NULL;
	int ok = 1;

	if (rd_store_open(&st, path, &err) < 0 ||
	    rd_store_begin(st, &err) < 0 ||
	    rd_store_workflow_put(st, HASH, "dispute", 3, "{\"x\": 1}",
				  &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.message);
		rd_store_close(st);
		return NULL;
	}
	for (int n = 1; ok && n <= count; n++) {
		rd_dispute *d = sample_dispute(n);

		ok = d && rd_store_dispute_insert(st, d, &err) == RD_OK;
		rd_dispute_free(d);
	}
	if (!ok || rd_store_commit(st, &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.message);
		rd_store_close(st);
		return NULL;
	}
	return st;
}

/* ---- disputes --------------------------------------------------------- */

static void dispute_round_trip(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 0);
	rd_dispute *d = sample_dispute(1);
	rd_dispute *got = NULL;
	char *source = NULL;

	CHECK(st && d);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_insert(st, d, &err), &err);
	CHECK_OK(rd_store_deadline_set(st, d->id, 1700086400, "escalate",
				       "opened", &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_STR(got->id, d->id);
	CHECK_STR(got->order_ref, "ORD-1001");
	CHECK_STR(got->storefront, "acme-eu");
	CHECK_STR(got->buyer_ref, "cust-77");
	CHECK_STR(got->currency, "USD");
	CHECK_INT(got->reason, RD_REASON_NOT_AS_DESCRIBED);
	CHECK_INT(got->channel, RD_CHANNEL_EMAIL);
	CHECK_STR(got->locale, "de-DE");
	CHECK(got->description == NULL);
	CHECK_INT(got->shipping_paid, 1500);
	CHECK_INT(got->ship_cost, 3000);
	CHECK_INT(got->return_cost, RD_AMOUNT_UNSET);
	CHECK_STR(got->workflow_name, "dispute");
	CHECK_INT(got->workflow_version, 3);
	CHECK_STR(got->workflow_hash, HASH);
	CHECK_STR(got->state, "opened");
	CHECK(got->outcome == NULL);
	CHECK_STR(got->assignee, "alice");
	CHECK_INT(got->version, 1);
	CHECK_INT(got->created_at, 1700000001);
	CHECK_INT(got->updated_at, 1700000001);
	CHECK_INT(got->deadline_at, 1700086400);
	CHECK_STR(got->deadline_event, "escalate");
	/* items come back in their original order, not sorted by sku */
	CHECK_INT(got->item_count, 3);
	CHECK_STR(got->items[0].sku, "SKU-C");
	CHECK_STR(got->items[1].sku, "SKU-A");
	CHECK_STR(got->items[2].sku, "SKU-B");
	CHECK_STR(got->items[2].title, "A thing");
	CHECK_INT(got->items[2].quantity, 3);
	CHECK_INT(got->items[2].unit_price, 3000);
	CHECK_INT(got->items[0].unit_cost, 400);
	CHECK_INT(got->items[1].unit_cost, RD_AMOUNT_UNSET);
	rd_dispute_free(got);
	got = NULL;

	/* clearing the deadline shows as no deadline */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_deadline_set(st, d->id, 0, NULL, NULL, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_INT(got->deadline_at, 0);
	CHECK(got->deadline_event == NULL);

	CHECK_OK(rd_store_workflow_source(st, HASH, &source, &err), &err);
	CHECK_STR(source, "{\"x\": 1}");
	free(source);
	source = NULL;
	CHECK_FAILS(rd_store_workflow_source(st, OTHER_HASH, &source, &err),
		    RD_ENOTFOUND);
	CHECK(source == NULL);
	CHECK_HAS(err.message, OTHER_HASH);

	rd_dispute_free(got);
	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

static void workflow_put_is_idempotent(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 0);
	char *before = NULL;
	char *after = NULL;

	CHECK(st);
	CHECK_OK(rd_store_dump(st, &before, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	/* the same definition again, even at another time: no change */
	setenv("REDRESS_NOW", "2030-01-01T00:00:00Z", 1);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 3, "{\"x\": 1}",
				       &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/*
	 * another definition under a recorded name and version, refused in
	 * a transaction of its own, rolled back
	 */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_workflow_put(st, OTHER_HASH, "dispute", 3, "{}",
					  &err), RD_EDEFINITION);
	CHECK_HAS(err.message, "dispute version 3");
	rd_store_rollback(st);
	CHECK_OK(rd_store_dump(st, &after, &err), &err);
	CHECK_STR(after, before);
	free(after);
	after = NULL;

	/* a new version is recorded, with the time REDRESS_NOW gives */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, OTHER_HASH, "dispute", 4, "{}",
				       &err), &err);
	setenv("REDRESS_NOW", "not a time", 1);
	CHECK_FAILS(rd_store_workflow_put(st, OTHER_HASH, "dispute", 4, "{}",
					  &err), RD_EINVALID);
	CHECK_HAS(err.message, "REDRESS_NOW");
	unsetenv("REDRESS_NOW");
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_dump(st, &after, &err), &err);
	CHECK_HAS(after, "name=\"dispute\" version=4 source=\"{}\" "
		  "first_seen=1893456000");
	free(before);
	free(after);
	rd_store_close(st);
	free(path);
}

static void dispute_insert_refusals(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 1);
	rd_dispute *d = sample_dispute(1);
	rd_dispute *got = NULL;

	CHECK(st && d);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_insert(st, d, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, d->id);
	CHECK_HAS(err.message, "already exists");
	rd_store_rollback(st);

	/* a workflow definition never recorded */
	rd_test_make_id(d->id, 2);
	memcpy(d->workflow_hash, OTHER_HASH, sizeof(OTHER_HASH));
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_insert(st, d, &err), RD_ENOTFOUND);
	rd_store_rollback(st);

	/* an item the schema refuses: the caller's rollback leaves nothing */
	memcpy(d->workflow_hash, HASH, sizeof(HASH));
	d->items[2].quantity = 0;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_insert(st, d, &err), RD_EINVALID);
	CHECK_HAS(err.message, "quantity");
	rd_store_rollback(st);
	CHECK_FAILS(rd_store_dispute_get(st, d->id, &got, &err),
		    RD_ENOTFOUND);
	CHECK(got == NULL);

	/* writes outside a transaction are refused, and write nothing */
	d->items[2].quantity = 1;
	CHECK_FAILS(rd_store_dispute_insert(st, d, &err), RD_EINTERNAL);
	CHECK_HAS(err.message, "transaction");
	CHECK_FAILS(rd_store_dispute_get(st, d->id, &got, &err),
		    RD_ENOTFOUND);

	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

static void dispute_get_missing(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 1);
	rd_dispute *got = NULL;

	CHECK(st);
	CHECK_FAILS(rd_store_dispute_get(st, "01J00000000000000000000999",
					 &got, &err), RD_ENOTFOUND);
	CHECK(got == NULL);
	CHECK_HAS(err.message, "01J00000000000000000000999");
	rd_store_close(st);
	free(path);
}

static void dispute_update_is_compare_and_swap(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 1);
	rd_dispute *d = sample_dispute(1);
	rd_dispute *got = NULL;

	CHECK(st && d);
	free(d->state);
	d->state = strdup("investigating");
	d->outcome = strdup("refunded");
	free(d->assignee);
	d->assignee = NULL;
	d->version = 2;
	d->updated_at = 1700000500;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_update(st, d, 1, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_STR(got->state, "investigating");
	CHECK_STR(got->outcome, "refunded");
	CHECK(got->assignee == NULL);
	CHECK_INT(got->version, 2);
	CHECK_INT(got->updated_at, 1700000500);
	/* only lifecycle members are written */
	CHECK_STR(got->order_ref, "ORD-1001");
	rd_dispute_free(got);
	got = NULL;

	/* a writer that still believes version 1 is refused */
	free(d->state);
	d->state = strdup("closed");
	d->version = 2;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_update(st, d, 1, &err), RD_ESTALE);
	CHECK_HAS(err.message, "version 1");
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_STR(got->state, "investigating");
	CHECK_INT(got->version, 2);

	rd_test_make_id(d->id, 42);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_dispute_update(st, d, 1, &err), RD_ENOTFOUND);
	CHECK_HAS(err.message, d->id);
	rd_store_rollback(st);

	rd_dispute_free(got);
	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

/* ---- events ----------------------------------------------------------- */

static void events_append_and_list(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 2);
	rd_event_record ev;
	rd_event_record *list = NULL;
	size_t count = 99;

	CHECK(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	ev = rd_test_event_record(1, 1, "opened", NULL, "opened");
	snprintf(ev.actor.key_id, sizeof(ev.actor.key_id), "key-7");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = rd_test_event_record(1, 2, "investigate", "opened",
				  "investigating");
	ev.note = (char *)"looking into it";
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = rd_test_event_record(1, 3, "make_offer", "investigating",
				  "offer_pending");
	ev.actor.role = RD_ROLE_SYSTEM;
	ev.fields_json = (char *)"{\"offer_id\":\"o-1\"}";
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = rd_test_event_record(2, 1, "opened", NULL, "opened");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	/*
	 * Each refusal in a transaction of its own, rolled back as the
	 * service does: PostgreSQL runs nothing more in a transaction after
	 * a failed statement. Duplicate seq:
	 */
	CHECK_OK(rd_store_begin(st, &err), &err);
	ev = rd_test_event_record(1, 2, "withdraw", "investigating", "closed");
	CHECK_FAILS(rd_store_event_append(st, &ev, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, "already exists");
	rd_store_rollback(st);
	/* unknown dispute, malformed fields */
	CHECK_OK(rd_store_begin(st, &err), &err);
	ev = rd_test_event_record(77, 1, "opened", NULL, "opened");
	CHECK_FAILS(rd_store_event_append(st, &ev, &err), RD_ENOTFOUND);
	rd_store_rollback(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	ev = rd_test_event_record(2, 2, "investigate", "opened",
				  "investigating");
	ev.fields_json = (char *)"{not json";
	CHECK_FAILS(rd_store_event_append(st, &ev, &err), RD_EINVALID);
	CHECK_HAS(err.message, "cannot record event 2 (investigate) of "
		  "dispute 01J00000000000000000000002: ");
	/* the rule events.c tells a lack of memory by, on PostgreSQL */
	if (rd_test_on_postgres())
		CHECK_STR(rd_db_failed_constraint(st->db),
			  "events_fields_check");
	rd_store_rollback(st);

	CHECK_OK(rd_store_events_list(st, "01J00000000000000000000001",
				      &list, &count, &err), &err);
	CHECK_INT(count, 3);
	CHECK_INT(list[0].seq, 1);
	CHECK_STR(list[0].event, "opened");
	CHECK(list[0].from_state == NULL);
	CHECK_STR(list[0].to_state, "opened");
	CHECK_STR(list[0].actor.key_id, "key-7");
	CHECK_STR(list[0].fields_json, "{}");
	CHECK(list[0].note == NULL);
	CHECK_INT(list[0].at, 1700000101);
	CHECK_STR(list[1].event, "investigate");
	CHECK_STR(list[1].from_state, "opened");
	CHECK_STR(list[1].note, "looking into it");
	CHECK_STR(list[1].actor.name, "alice");
	CHECK_INT(list[1].actor.role, RD_ROLE_AGENT);
	CHECK_STR(list[1].actor.key_id, "");
	CHECK_INT(list[2].seq, 3);
	CHECK_INT(list[2].actor.role, RD_ROLE_SYSTEM);
	CHECK_STR(list[2].fields_json, "{\"offer_id\":\"o-1\"}");
	CHECK_STR(list[2].dispute_id, "01J00000000000000000000001");
	rd_event_records_free(list, count);
	list = NULL;

	CHECK_OK(rd_store_events_list(st, "01J00000000000000000000077",
				      &list, &count, &err), &err);
	CHECK_INT(count, 0);
	rd_event_records_free(list, count);
	rd_store_close(st);
	free(path);
}

static void events_are_append_only(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 1);
	rd_event_record ev = rd_test_event_record(1, 1, "opened", NULL,
						  "opened");
	rd_db *db = NULL;
	rd_event_record *list = NULL;
	size_t count = 0;
	int rc_update, rc_delete;
	char update_message[512], delete_message[512];

	CHECK(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	/*
	 * a connection that bypasses redress is refused too (each statement
	 * on its own, outside any transaction)
	 */
	CHECK_OK(rd_db_open(&db, path, 0, &err), &err);
	rc_update = rd_db_exec(db, "UPDATE events SET event = 'forged'");
	snprintf(update_message, sizeof(update_message), "%s",
		 rd_db_errmsg(db));
	rc_delete = rd_db_exec(db, "DELETE FROM events");
	snprintf(delete_message, sizeof(delete_message), "%s",
		 rd_db_errmsg(db));
	rd_db_close(db);
	CHECK_INT(rc_update, RD_DB_ECONSTRAINT);
	CHECK_HAS(update_message, "append-only");
	CHECK_INT(rc_delete, RD_DB_ECONSTRAINT);
	CHECK_HAS(delete_message, "append-only");

	CHECK_OK(rd_store_events_list(st, ev.dispute_id, &list, &count, &err),
		 &err);
	CHECK_INT(count, 1);
	CHECK_STR(list[0].event, "opened");
	rd_event_records_free(list, count);
	rd_store_close(st);
	free(path);
}

/* ---- transactions ----------------------------------------------------- */

static void rollback_leaves_no_trace(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 1);
	rd_dispute *d = sample_dispute(1);
	rd_event_record ev = rd_test_event_record(1, 2, "investigate", "opened",
						  "investigating");
	char *before = NULL;
	char *after = NULL;

	CHECK(st && d);
	CHECK_OK(rd_store_dump(st, &before, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	free(d->state);
	d->state = strdup("investigating");
	d->version = 2;
	CHECK_OK(rd_store_dispute_update(st, d, 1, &err), &err);
	CHECK_OK(rd_store_deadline_set(st, d->id, 1800000000, "escalate",
				       "investigating", &err), &err);
	/* inside the transaction the changes are visible... */
	CHECK_OK(rd_store_dump(st, &after, &err), &err);
	CHECK(strcmp(before, after) != 0);
	free(after);
	after = NULL;
	rd_store_rollback(st);
	/* ...and after the rollback nothing is left of them */
	CHECK_OK(rd_store_dump(st, &after, &err), &err);
	CHECK_STR(after, before);

	/* rollback without a transaction is harmless; commit is an error */
	rd_store_rollback(st);
	rd_store_rollback(NULL);
	CHECK_FAILS(rd_store_commit(st, &err), RD_EIO);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_begin(st, &err), RD_EINTERNAL);
	rd_store_rollback(st);

	free(before);
	free(after);
	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

/* ---- objects read together ------------------------------------------------ */

typedef struct got_objects {
	int seen[4];
	int same[4];
	int in_file[4];
	int calls;
	int stop_after;               /* 0: never */
} got_objects;

static const char *const object_bytes[4] = { "a tree, say", "", NULL,
					       "never stored" };

static int note_object(void *ctx, const unsigned char id[RD_OID_RAWSZ],
		       int type, int64_t size, int in_file, const void *data)
{
	got_objects *g = ctx;
	int k = id[0] - 1;

	(void)type;
	g->calls++;
	if (k < 0 || k > 3)
		return 0;
	g->seen[k]++;
	g->in_file[k] = in_file;
	g->same[k] = in_file ? data == NULL
			     : (int64_t)strlen(object_bytes[k]) == size &&
				       memcmp(data, object_bytes[k],
					      (size_t)size) == 0;
	return g->stop_after && g->calls == g->stop_after ? 7 : 0;
}

/*
 * rd_store_objects_get reads objects together (on PostgreSQL one
 * statement): each stored one once with its bytes, a file's without, an
 * empty one, and an id not stored left out; a non-zero answer of fn stops
 * it and is returned.
 */
static void objects_read_together(void)
{
	unsigned char ids[4 * RD_OID_RAWSZ];
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 0);
	got_objects got;
	rd_error err;

	CHECK(st != NULL);
	memset(ids, 0, sizeof(ids));
	for (int k = 0; k < 4; k++) {
		ids[k * RD_OID_RAWSZ] = (unsigned char)(k + 1);
		ids[k * RD_OID_RAWSZ + 19] = 0x5a;
	}
	rd_error_clear(&err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	for (int k = 0; k < 3; k++)
		CHECK_OK(rd_store_object_put(st, ids + k * RD_OID_RAWSZ,
					     k == 0 ? RD_OBJECT_TREE
						    : RD_OBJECT_BLOB,
					     object_bytes[k]
						     ? (int64_t)strlen(object_bytes[k])
						     : 4096,
					     object_bytes[k], &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	memset(&got, 0, sizeof(got));
	CHECK_OK(rd_store_objects_get(st, ids, 4, note_object, &got, &err),
		 &err);
	CHECK_INT(got.calls, 3);
	for (int k = 0; k < 3; k++) {
		CHECK_INT(got.seen[k], 1);
		CHECK_INT(got.same[k], 1);
		CHECK_INT(got.in_file[k], k == 2);
	}
	CHECK_INT(got.seen[3], 0);

	memset(&got, 0, sizeof(got));
	got.stop_after = 1;
	CHECK_INT(rd_store_objects_get(st, ids, 4, note_object, &got, &err),
		  7);
	CHECK_INT(got.calls, 1);
	CHECK_OK(rd_store_objects_get(st, ids, 0, note_object, &got, &err),
		 &err);
	rd_store_close(st);
	free(path);
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void second_writer_gets_busy(void)
{
	RD_TEST_SQLITE_ONLY("one writer at a time per file; PostgreSQL lets "
			    "writers of different rows run at once");
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *first = store_with(path, 1);
	rd_store *second = NULL;
	rd_dispute *got = NULL;
	struct timespec start;
	double waited;

	CHECK(first);
	CHECK_OK(rd_store_open(&second, path, &err), &err);
	rd_store_set_busy_timeout(second, 300);

	CHECK_OK(rd_store_begin(first, &err), &err);
	clock_gettime(CLOCK_MONOTONIC, &start);
	CHECK_FAILS(rd_store_begin(second, &err), RD_EBUSY);
	waited = seconds_since(&start);
	CHECK(waited >= 0.25);
	CHECK_STR(err.message, "the database is busy (locked by another "
		  "writer for more than 300 ms); try again");
	/* readers are not blocked by the writer (WAL) */
	CHECK_OK(rd_store_dispute_get(second, "01J00000000000000000000001",
				      &got, &err), &err);
	rd_dispute_free(got);
	CHECK_OK(rd_store_commit(first, &err), &err);
	CHECK_OK(rd_store_begin(second, &err), &err);
	rd_store_rollback(second);

	rd_store_close(second);
	rd_store_close(first);
	free(path);
}

/* A busy database and a lost server say so, whichever engine. */
static void busy_and_lost_messages(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 1);

	CHECK(st);
	/* the message at the default timeout */
	CHECK_INT(rd_store__fail(st, RD_DB_EBUSY, &err, "x"), RD_EBUSY);
	CHECK_STR(err.message, "the database is busy (locked by another "
		  "writer for more than 5 s); try again");
	/* a server gone away is "unavailable", not an I/O failure: 503 */
	CHECK_INT(rd_store__fail(st, RD_DB_ECONNECTION, &err, "x"),
		  RD_EUNAVAILABLE);
	CHECK_HAS(err.message, "x: the database cannot be reached (");

	rd_store_close(st);
	free(path);
}

/* ---- deadlines -------------------------------------------------------- */

static void deadlines_set_replace_clear_due(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 4);
	rd_deadline due[8];
	size_t count = 99;

	CHECK(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_deadline_set(st, "01J00000000000000000000001", 300,
				       "escalate", "opened", &err), &err);
	CHECK_OK(rd_store_deadline_set(st, "01J00000000000000000000002", 100,
				       "escalate", "opened", &err), &err);
	CHECK_OK(rd_store_deadline_set(st, "01J00000000000000000000003", 200,
				       "expire_offer", "offer_pending", &err),
		 &err);
	CHECK_OK(rd_store_deadline_set(st, "01J00000000000000000000004", 150,
				       "escalate", "opened", &err), &err);
	/* replace: one deadline per dispute, the latest wins */
	CHECK_OK(rd_store_deadline_set(st, "01J00000000000000000000002", 400,
				       "escalate", "investigating", &err),
		 &err);
	/* clear */
	CHECK_OK(rd_store_deadline_set(st, "01J00000000000000000000004", 0,
				       NULL, NULL, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* refusals, in a transaction rolled back after the database's */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_deadline_set(st, "01J00000000000000000000001", -5,
					  "escalate", "opened", &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "due_at");
	CHECK_FAILS(rd_store_deadline_set(st, "01J00000000000000000000001", 5,
					  "", "opened", &err), RD_EINVALID);
	CHECK_STR(err.field, "event");
	CHECK_FAILS(rd_store_deadline_set(st, "01J00000000000000000000001", 5,
					  "escalate", NULL, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "state");
	CHECK_FAILS(rd_store_deadline_set(st, "01J00000000000000000000099", 5,
					  "escalate", "opened", &err),
		    RD_ENOTFOUND);
	rd_store_rollback(st);

	CHECK_OK(rd_store_deadlines_due(st, 350, due, 8, &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(due[0].dispute_id, "01J00000000000000000000003");
	CHECK_INT(due[0].due_at, 200);
	CHECK_STR(due[0].event, "expire_offer");
	CHECK_STR(due[0].state, "offer_pending");
	CHECK_STR(due[1].dispute_id, "01J00000000000000000000001");
	CHECK_INT(due[1].due_at, 300);

	CHECK_OK(rd_store_deadlines_due(st, 1000, due, 1, &count, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(due[0].dispute_id, "01J00000000000000000000003");
	CHECK_OK(rd_store_deadlines_due(st, 1000, due, 0, &count, &err), &err);
	CHECK_INT(count, 0);
	CHECK_OK(rd_store_deadlines_due(st, 199, due, 8, &count, &err), &err);
	CHECK_INT(count, 0);
	CHECK_OK(rd_store_deadlines_due(st, 400, due, 8, &count, &err), &err);
	CHECK_INT(count, 3);
	CHECK_STR(due[2].dispute_id, "01J00000000000000000000002");
	CHECK_STR(due[2].state, "investigating");
	rd_store_close(st);
	free(path);
}

/* ---- evidence --------------------------------------------------------- */

static rd_evidence_row evidence(int64_t n, const char *kind, int withdrawn)
{
	rd_evidence_row row = rd_test_evidence_row(1, n, kind);

	row.withdrawn = withdrawn;
	row.withdrawn_reason = withdrawn ? (char *)"wrong file" : NULL;
	return row;
}

static void evidence_kinds_and_total(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 1);
	rd_evidence_row row;
	char **kinds = NULL;
	size_t kind_count = 99;
	size_t total = 99;

	CHECK(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(1, "photo", 0);
	row.original_name = (char *)"crack.png";
	row.captured_at = 1699990000;
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(2, "photo", 0);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(3, "invoice", 0);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(4, "note", 1);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* each refusal in a transaction of its own, rolled back */
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(2, "video", 0);
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_ECONFLICT);
	rd_store_rollback(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(5, "video", 0);
	rd_test_make_id(row.dispute_id, 9);
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_ENOTFOUND);
	rd_store_rollback(st);

	CHECK_OK(rd_store_evidence_kinds(st, "01J00000000000000000000001",
					 &kinds, &kind_count, &total, &err),
		 &err);
	CHECK_INT(kind_count, 2);
	CHECK_STR(kinds[0], "invoice");
	CHECK_STR(kinds[1], "photo");
	CHECK_INT(total, 3);
	rd_strings_free(kinds, kind_count);
	kinds = NULL;

	CHECK_OK(rd_store_evidence_kinds(st, "01J00000000000000000000009",
					 &kinds, &kind_count, &total, &err),
		 &err);
	CHECK_INT(kind_count, 0);
	CHECK_INT(total, 0);
	rd_strings_free(kinds, kind_count);
	rd_strings_free(NULL, 0);
	rd_store_close(st);
	free(path);
}

/* ---- offers ----------------------------------------------------------- */

static rd_offer_record offer(const char *id, rd_offer_type type,
			     int64_t made_at)
{
	rd_offer_record o;

	memset(&o, 0, sizeof(o));
	rd_test_make_id(o.dispute_id, 1);
	snprintf(o.offer_id, sizeof(o.offer_id), "%s", id);
	o.type = type;
	o.buyer_refund = 2000;
	o.buyer_copay = 0;
	o.seller_cost = 2000;
	snprintf(o.status, sizeof(o.status), RD_OFFER_MADE);
	o.made_at = made_at;
	o.event_seq = 3;
	return o;
}

static void offers_lifecycle(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 1);
	rd_offer_record o;
	rd_offer_record got;
	rd_offer_record *list = NULL;
	size_t count = 0;
	int found = -1;
	const char *id = "01J00000000000000000000001";

	CHECK(st);
	CHECK_OK(rd_store_offer_pending(st, id, &got, &found, &err), &err);
	CHECK_INT(found, 0);

	CHECK_OK(rd_store_begin(st, &err), &err);
	o = offer("o-1", RD_OFFER_PARTIAL_DISCOUNT, 1700000300);
	CHECK_OK(rd_store_offer_insert(st, &o, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/*
	 * a second offer while one awaits an answer; each refusal in a
	 * transaction of its own, rolled back
	 */
	CHECK_OK(rd_store_begin(st, &err), &err);
	o = offer("o-2", RD_OFFER_RESHIPMENT, 1700000400);
	CHECK_FAILS(rd_store_offer_insert(st, &o, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, "awaiting an answer");
	rd_store_rollback(st);
	/* the same offer id twice: the row exists, whatever awaits */
	CHECK_OK(rd_store_begin(st, &err), &err);
	o = offer("o-1", RD_OFFER_RESHIPMENT, 1700000400);
	snprintf(o.status, sizeof(o.status), RD_OFFER_REJECTED);
	CHECK_FAILS(rd_store_offer_insert(st, &o, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, "cannot record offer o-1 on dispute "
		  "01J00000000000000000000001: it already exists (");
	rd_store_rollback(st);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_offer_pending(st, id, &got, &found, &err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(got.offer_id, "o-1");
	CHECK_INT(got.type, RD_OFFER_PARTIAL_DISCOUNT);
	CHECK_INT(got.buyer_refund, 2000);
	CHECK_INT(got.seller_cost, 2000);
	CHECK_STR(got.status, "made");
	CHECK_INT(got.decided_at, 0);
	CHECK_INT(got.event_seq, 3);

	CHECK_OK(rd_store_offer_decide(st, id, "o-1", RD_OFFER_REJECTED,
				       1700000350, &err), &err);
	CHECK_OK(rd_store_offer_pending(st, id, &got, &found, &err), &err);
	CHECK_INT(found, 0);
	/* no longer "made" */
	CHECK_FAILS(rd_store_offer_decide(st, id, "o-1", RD_OFFER_ACCEPTED,
					  1700000360, &err), RD_ENOTFOUND);
	CHECK_FAILS(rd_store_offer_decide(st, id, "o-9", RD_OFFER_ACCEPTED,
					  1700000360, &err), RD_ENOTFOUND);
	CHECK_HAS(err.message, "o-9");

	o = offer("o-2", RD_OFFER_RESHIPMENT, 1700000400);
	o.buyer_refund = 0;
	o.buyer_copay = 700;
	o.seller_cost = RD_AMOUNT_UNSET;
	CHECK_OK(rd_store_offer_insert(st, &o, &err), &err);
	CHECK_FAILS(rd_store_offer_decide(st, id, "o-2", RD_OFFER_MADE,
					  1700000450, &err), RD_EINVALID);
	CHECK_STR(err.field, "status");
	CHECK_OK(rd_store_offer_accepted(st, id, &got, &found, &err), &err);
	CHECK_INT(found, 0);
	CHECK_OK(rd_store_offer_decide(st, id, "o-2", RD_OFFER_ACCEPTED,
				       1700000450, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_offer_accepted(st, id, &got, &found, &err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(got.offer_id, "o-2");
	CHECK_STR(got.status, "accepted");
	CHECK_INT(got.type, RD_OFFER_RESHIPMENT);
	CHECK_INT(got.buyer_copay, 700);
	CHECK_INT(got.seller_cost, RD_AMOUNT_UNSET);
	CHECK_INT(got.decided_at, 1700000450);

	CHECK_OK(rd_store_offers_list(st, id, &list, &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(list[0].offer_id, "o-1");
	CHECK_STR(list[0].status, "rejected");
	CHECK_INT(list[0].decided_at, 1700000350);
	CHECK_STR(list[1].offer_id, "o-2");
	free(list);
	list = NULL;
	CHECK_OK(rd_store_offers_list(st, "01J00000000000000000000009", &list,
				      &count, &err), &err);
	CHECK_INT(count, 0);
	free(list);
	rd_store_close(st);
	free(path);
}

/* ---- dump ------------------------------------------------------------- */

static void dump_is_deterministic_and_sensitive(void)
{
	rd_error err;
	char *path = rd_test_db_path();
	rd_store *st = store_with(path, 2);
	rd_store *other = NULL;
	rd_dispute *d = sample_dispute(2);
	char schema_line[48];
	char *first = NULL;
	char *second = NULL;
	char *third = NULL;

	CHECK(st && d);
	CHECK_OK(rd_store_dump(st, &first, &err), &err);
	CHECK_OK(rd_store_open(&other, path, &err), &err);
	CHECK_OK(rd_store_dump(other, &second, &err), &err);
	CHECK_STR(second, first);
	snprintf(schema_line, sizeof(schema_line), "schema %d\n[workflows]\n",
		 RD_STORE_SCHEMA_VERSION);
	CHECK(strncmp(first, schema_line, strlen(schema_line)) == 0);
	CHECK_HAS(first, "\n[disputes]\nid=\"01J00000000000000000000001\" "
		  "order_ref=\"ORD-1001\"");
	CHECK_HAS(first, "ship_cost=3000 return_cost=NULL");
	CHECK_HAS(first, "[items]\ndispute_id=\"01J00000000000000000000001\" "
		  "idx=0 sku=\"SKU-C\"");
	CHECK_HAS(first, "\n[offers]\n");

	/* one member of one row changes the dump */
	d->updated_at += 1;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_update(st, d, 1, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_dump(other, &third, &err), &err);
	CHECK(strcmp(third, first) != 0);
	free(third);
	third = NULL;

	/* text cannot fake a row break */
	rd_test_make_id(d->id, 3);
	free(d->description);
	d->description = strdup("line one\nid=\"x\" \\ \"quoted\"");
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_insert(st, d, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_dump(st, &third, &err), &err);
	CHECK_HAS(third, "description=\"line one\\x0aid=\\\"x\\\" \\\\ "
		  "\\\"quoted\\\"\"");

	free(first);
	free(second);
	free(third);
	rd_dispute_free(d);
	rd_store_close(other);
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(dispute_round_trip);
	RUN(workflow_put_is_idempotent);
	RUN(dispute_insert_refusals);
	RUN(dispute_get_missing);
	RUN(dispute_update_is_compare_and_swap);
	RUN(events_append_and_list);
	RUN(events_are_append_only);
	RUN(rollback_leaves_no_trace);
	RUN(objects_read_together);
	RUN(second_writer_gets_busy);
	RUN(busy_and_lost_messages);
	RUN(deadlines_set_replace_clear_due);
	RUN(evidence_kinds_and_total);
	RUN(offers_lifecycle);
	RUN(dump_is_deterministic_and_sensitive);
	return rd_test_summary();
}
