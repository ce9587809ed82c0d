/*
 * The overview's running totals (schemas 7 and 8), per storefront:
 * disputes by state and by reason follow inserts and changes (not
 * rolled-back ones), offers count when recorded and when accepted, a
 * dispute counts in a resolution bucket once when it gets its outcome,
 * SLA breaches count the sweeper's fired deadlines; a storefront reads
 * its own totals only; a database of schema 6 starts with the totals of
 * the rows it holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH
#define T0 1700000000

static rd_dispute *sample(int n, const char *storefront, rd_reason reason,
			  const char *state)
{
	return rd_test_stored_dispute(n, storefront, reason, state, T0);
}

static int insert(rd_store *st, int n, const char *storefront,
		  rd_reason reason, const char *state, rd_error *err)
{
	rd_dispute *d = sample(n, storefront, reason, state);
	int rc = d ? rd_store_dispute_insert(st, d, err) : RD_ENOMEM;

	rd_dispute_free(d);
	return rc;
}

/* Move dispute n to `state` (with `outcome`, may be NULL) at `at`. */
static int move(rd_store *st, int n, const char *storefront, rd_reason reason,
		int64_t version, const char *state, const char *outcome,
		int64_t at, rd_error *err)
{
	rd_dispute *d = sample(n, storefront, reason, state);
	int rc;

	if (!d)
		return RD_ENOMEM;
	d->version = version + 1;
	d->updated_at = at;
	if (outcome)
		d->outcome = strdup(outcome);
	rc = rd_store_dispute_update(st, d, version, err);
	rd_dispute_free(d);
	return rc;
}

static rd_offer_record offer(int n, const char *offer_id, rd_offer_type type,
			     const char *status)
{
	rd_offer_record o;

	memset(&o, 0, sizeof(o));
	rd_test_make_id(o.dispute_id, n);
	snprintf(o.offer_id, sizeof(o.offer_id), "%s", offer_id);
	o.type = type;
	o.buyer_refund = 500;
	o.seller_cost = 500;
	snprintf(o.status, sizeof(o.status), "%s", status);
	o.made_at = T0 + 10;
	o.event_seq = 2;
	return o;
}

static rd_event_record fired(int n, int64_t seq, const char *event)
{
	rd_event_record ev = rd_test_event_record(n, seq, event, "opened",
						  "escalated");

	ev.actor = rd_test_actor(RD_ROLE_SYSTEM, "sla");
	ev.at = T0 + 100;
	return ev;
}

/* The total of (what, name), -1 when it is not listed. */
static int64_t total(const rd_store_overview *ov, rd_overview_what what,
		     const char *name)
{
	for (size_t i = 0; i < ov->count; i++)
		if (ov->counts[i].what == what &&
		    strcmp(ov->counts[i].name, name) == 0)
			return ov->counts[i].value;
	return -1;
}

static void totals_follow_changes(void)
{
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_store_overview ov;
	rd_offer_record o;
	rd_event_record ev;
	rd_error err;

	memset(&ov, 0, sizeof(ov));
	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_overview_read(st, NULL, &ov, &err), &err);
	CHECK_INT(ov.count, 0);
	CHECK(ov.counts == NULL);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(insert(st, 1, "shop-a", RD_REASON_DAMAGED, "opened", &err),
		 &err);
	CHECK_OK(insert(st, 2, "shop-a", RD_REASON_NOT_RECEIVED, "opened",
			&err), &err);
	CHECK_OK(insert(st, 3, "shop-b", RD_REASON_DAMAGED, "opened", &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_overview_read(st, NULL, &ov, &err), &err);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "opened"), 3);
	CHECK_INT(total(&ov, RD_OVERVIEW_REASON, "damaged"), 2);
	CHECK_INT(total(&ov, RD_OVERVIEW_REASON, "not_received"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_SLA_BREACHES, ""), -1);
	rd_store_overview_clear(&ov);

	/* An offer made, then accepted; another made and rejected; dispute 1
	 * resolved after two days (bucket 172800); an SLA fired on 3, and
	 * a dropped deadline that is no breach. */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(move(st, 1, "shop-a", RD_REASON_DAMAGED, 1, "offer_pending",
		      NULL, T0 + 10, &err), &err);
	o = offer(1, "o-1", RD_OFFER_PARTIAL_DISCOUNT, RD_OFFER_MADE);
	CHECK_OK(rd_store_offer_insert(st, &o, &err), &err);
	CHECK_OK(rd_store_offer_decide(st, o.dispute_id, "o-1",
				       RD_OFFER_ACCEPTED, T0 + 20, &err),
		 &err);
	o = offer(2, "o-2", RD_OFFER_RESHIPMENT, RD_OFFER_MADE);
	CHECK_OK(rd_store_offer_insert(st, &o, &err), &err);
	CHECK_OK(rd_store_offer_decide(st, o.dispute_id, "o-2",
				       RD_OFFER_REJECTED, T0 + 20, &err),
		 &err);
	CHECK_OK(move(st, 1, "shop-a", RD_REASON_DAMAGED, 2, "resolved",
		      "discounted", T0 + 2 * 86400 - 5, &err), &err);
	ev = fired(3, 1, "escalate");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = fired(3, 2, "deadline_dropped");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_overview_read(st, NULL, &ov, &err), &err);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "opened"), 2);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "offer_pending"), 0);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "resolved"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_REASON, "damaged"), 2);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_MADE, "partial_discount"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_MADE, "reshipment"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_ACCEPTED, "partial_discount"),
		  1);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_ACCEPTED, "reshipment"), -1);
	CHECK_INT(total(&ov, RD_OVERVIEW_RESOLVED_WITHIN, "172800"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_SLA_BREACHES, ""), 1);
	/* each kind's totals together, ordered by name */
	for (size_t i = 1; i < ov.count; i++)
		if (ov.counts[i - 1].what == ov.counts[i].what)
			CHECK(strcmp(ov.counts[i - 1].name,
				     ov.counts[i].name) < 0);
	rd_store_overview_clear(&ov);

	/* One storefront sees its own totals only. */
	CHECK_OK(rd_store_overview_read(st, "shop-b", &ov, &err), &err);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "opened"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "resolved"), -1);
	CHECK_INT(total(&ov, RD_OVERVIEW_REASON, "damaged"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_MADE, "reshipment"), -1);
	CHECK_INT(total(&ov, RD_OVERVIEW_SLA_BREACHES, ""), 1);
	rd_store_overview_clear(&ov);
	CHECK_OK(rd_store_overview_read(st, "nobody", &ov, &err), &err);
	CHECK_INT(ov.count, 0);
	rd_store_overview_clear(&ov);

	/* A change rolled back counts for nothing; a rebuild (upsert) of a
	 * resolved dispute does not count its resolution twice. */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(move(st, 2, "shop-a", RD_REASON_NOT_RECEIVED, 1, "closed",
		      "withdrawn", T0 + 60, &err), &err);
	o = offer(2, "o-3", RD_OFFER_REFUND_KEEP_ITEM, RD_OFFER_ACCEPTED);
	CHECK_OK(rd_store_offer_insert(st, &o, &err), &err);
	rd_store_rollback(st);
	{
		rd_dispute *d = sample(1, "shop-a", RD_REASON_DAMAGED,
				       "resolved");

		CHECK(d != NULL);
		d->outcome = strdup("discounted");
		d->version = 3;
		d->updated_at = T0 + 2 * 86400 - 5;
		CHECK_OK(rd_store_begin(st, &err), &err);
		CHECK_OK(rd_store_dispute_replace(st, d, &err), &err);
		CHECK_OK(rd_store_commit(st, &err), &err);
		rd_dispute_free(d);
	}
	CHECK_OK(rd_store_overview_read(st, "shop-a", &ov, &err), &err);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "opened"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "closed"), -1);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_MADE, "refund_keep_item"), -1);
	CHECK_INT(total(&ov, RD_OVERVIEW_RESOLVED_WITHIN, "172800"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_RESOLVED_WITHIN, "inf"), -1);
	rd_store_overview_clear(&ov);
	rd_store_overview_clear(NULL);

	rd_store_close(st);
	free(path);
}

/* A dispute rebuilt already resolved, and one resolved past 30 days. */
static void rebuilt_rows_and_the_last_bucket(void)
{
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_store_overview ov;
	rd_offer_record o;
	rd_dispute *d = NULL;
	rd_error err;

	memset(&ov, 0, sizeof(ov));
	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK((d = sample(7, "shop-a", RD_REASON_WRONG_ITEM, "resolved")) !=
	      NULL);
	d->outcome = strdup("refunded");
	d->updated_at = T0 + 3600;        /* exactly on the first bound */
	CHECK_OK(rd_store_dispute_replace(st, d, &err), &err);
	o = offer(7, "o-7", RD_OFFER_REFUND_WITH_RETURN, RD_OFFER_ACCEPTED);
	CHECK_OK(rd_store_offer_upsert(st, &o, &err), &err);
	CHECK_OK(insert(st, 8, "shop-a", RD_REASON_OTHER, "opened", &err),
		 &err);
	CHECK_OK(move(st, 8, "shop-a", RD_REASON_OTHER, 1, "closed",
		      "rejected", T0 + 40 * 86400, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_overview_read(st, NULL, &ov, &err), &err);
	CHECK_INT(total(&ov, RD_OVERVIEW_RESOLVED_WITHIN, "3600"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_RESOLVED_WITHIN, "inf"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_MADE, "refund_with_return"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_ACCEPTED,
			"refund_with_return"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_REASON, "wrong_item"), 1);

	rd_store_overview_clear(&ov);
	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

/* Schema 6 with rows in it, then opened by this build. */
static void migration_counts_existing_rows(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 6; "
			    "PostgreSQL records start at 13");
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_store_overview ov;
	rd_offer_record o;
	rd_event_record ev;
	rd_error err;

	memset(&ov, 0, sizeof(ov));
	CHECK_OK(rd_store_open_at_version(&st, path, 6, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(insert(st, 1, "shop-a", RD_REASON_DAMAGED, "opened", &err),
		 &err);
	CHECK_OK(insert(st, 2, "shop-b", RD_REASON_DAMAGED, "opened", &err),
		 &err);
	CHECK_OK(move(st, 2, "shop-b", RD_REASON_DAMAGED, 1, "resolved",
		      "refunded", T0 + 7200, &err), &err);
	o = offer(2, "o-1", RD_OFFER_REFUND_KEEP_ITEM, RD_OFFER_ACCEPTED);
	CHECK_OK(rd_store_offer_insert(st, &o, &err), &err);
	ev = fired(1, 1, "escalate");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_FAILS(rd_store_overview_read(st, NULL, &ov, &err),
		    RD_EINTERNAL);
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_overview_read(st, NULL, &ov, &err), &err);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "opened"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "resolved"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_REASON, "damaged"), 2);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_MADE, "refund_keep_item"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_OFFER_ACCEPTED, "refund_keep_item"),
		  1);
	CHECK_INT(total(&ov, RD_OVERVIEW_RESOLVED_WITHIN, "14400"), 1);
	CHECK_INT(total(&ov, RD_OVERVIEW_SLA_BREACHES, ""), 1);
	rd_store_overview_clear(&ov);

	/* and the triggers run from then on */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(insert(st, 3, "shop-a", RD_REASON_DAMAGED, "opened", &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_overview_read(st, "shop-a", &ov, &err), &err);
	CHECK_INT(total(&ov, RD_OVERVIEW_STATE, "opened"), 2);
	rd_store_overview_clear(&ov);

	rd_store_close(st);
	free(path);
}

/* The schema's bucket bounds are the ones the header names. */
static void bucket_bounds_agree(void)
{
	static const int64_t bounds[RD_OVERVIEW_BUCKET_COUNT] =
		RD_OVERVIEW_BUCKET_BOUNDS;
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_db_stmt *stmt = NULL;
	size_t n = 0;
	rd_error err;
	int rc;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	/* the same text on both engines: no parameters */
	CHECK_INT(rd_db_prepare(st->db, "SELECT le FROM overview_buckets "
				"ORDER BY le", &stmt), RD_DB_OK);
	while ((rc = rd_db_step(stmt)) == RD_DB_ROW) {
		CHECK(n < RD_OVERVIEW_BUCKET_COUNT);
		if (n < RD_OVERVIEW_BUCKET_COUNT)
			CHECK_INT(rd_db_column_int64(stmt, 0), bounds[n]);
		n++;
	}
	CHECK_INT(rc, RD_DB_DONE);
	CHECK_INT(n, RD_OVERVIEW_BUCKET_COUNT);
	rd_db_finalize(stmt);
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(bucket_bounds_agree);
	RUN(totals_follow_changes);
	RUN(rebuilt_rows_and_the_last_bucket);
	RUN(migration_counts_existing_rows);
	return rd_test_summary();
}
