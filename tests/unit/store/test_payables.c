/*
 * Payables in the store: pages cover every dispute in the given states
 * exactly once, oldest deadline first (ties by id, no deadline last), each
 * with its latest accepted offer (by the event that made it, not by name or
 * time); other states, other storefronts and the deadline of another state
 * never leak in; cursors and limits are checked; the walk seeks the state
 * index and scans no table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ROWS 150
#define BASE INT64_C(1772442000)

static const char *const storefronts[] = { "acme-eu", "acme-us", "bolt" };
static const char *const states[] = {
	"refund_pending", "discount_pending", "investigating", "resolved",
	"offer_pending",
};

/* What the fixture stored, to compute the expected pages. */
typedef struct row {
	char id[RD_ID_BUFSZ];
	const char *storefront;
	const char *state;
	int64_t due_at;        /* the deadline of its state; 0: none */
	int has_offer;
	char offer_id[48];
	int64_t amount;
} row;

static row rows[ROWS];

static rd_dispute *dispute_of(const row *r, int i)
{
	rd_dispute *d = rd_dispute_new();

	if (!d)
		return NULL;
	memcpy(d->id, r->id, sizeof(d->id));
	d->order_ref = strdup("ORD-7");
	d->storefront = strdup(r->storefront);
	d->buyer_ref = strdup("cust");
	memcpy(d->currency, "EUR", 4);
	d->reason = RD_REASON_DAMAGED;
	d->channel = RD_CHANNEL_WEB;
	d->items = calloc(1, sizeof(*d->items));
	d->item_count = 1;
	d->items[0].sku = strdup("SKU");
	d->items[0].title = strdup("Thing");
	d->items[0].quantity = 1;
	d->items[0].unit_price = 5000;
	d->items[0].unit_cost = RD_AMOUNT_UNSET;
	d->workflow_name = strdup("dispute");
	d->workflow_version = 2;
	memcpy(d->workflow_hash, HASH, sizeof(HASH));
	d->state = strdup(r->state);
	d->version = 3 + i % 4;
	d->created_at = BASE;
	d->updated_at = BASE;
	return d;
}

static int offer(rd_store *st, const char *id, const char *offer_id,
		 rd_offer_type type, int64_t refund, int64_t seq,
		 const char *status, rd_error *err)
{
	rd_offer_record o;
	int rc;

	memset(&o, 0, sizeof(o));
	snprintf(o.dispute_id, sizeof(o.dispute_id), "%s", id);
	snprintf(o.offer_id, sizeof(o.offer_id), "%s", offer_id);
	o.type = type;
	o.buyer_refund = refund;
	o.seller_cost = refund;
	snprintf(o.status, sizeof(o.status), "%s", RD_OFFER_MADE);
	o.made_at = BASE;
	o.event_seq = seq;
	if ((rc = rd_store_offer_insert(st, &o, err)) < 0)
		return rc;
	/* every decision in the same second: only event_seq orders them */
	return rd_store_offer_decide(st, id, offer_id, status, BASE, err);
}

static int store_row(rd_store *st, const row *r, int i, rd_error *err)
{
	rd_dispute *d = dispute_of(r, i);
	int rc;

	if (!d)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	rc = rd_store_dispute_insert(st, d, err);
	rd_dispute_free(d);
	if (rc < 0)
		return rc;
	if (i % 4 != 0)
		rc = rd_store_deadline_set(st, r->id, r->due_at, "escalate",
					   r->state, err);
	else if (i % 8 == 0)  /* a stale row of another state: no deadline */
		rc = rd_store_deadline_set(st, r->id, BASE + 5, "escalate",
					   "opened", err);
	if (rc < 0)
		return rc;
	if (i % 6 == 5)
		return RD_OK;  /* no offer was ever accepted */
	if (i % 3 == 0) {
		/*
		 * An earlier settlement accepted (a reshipment, lost since),
		 * whose id sorts after the later one's; and a later offer
		 * rejected: neither is what is owed.
		 */
		if ((rc = offer(st, r->id, "v9-reshipment-0",
				RD_OFFER_RESHIPMENT, 0, 9, RD_OFFER_ACCEPTED,
				err)) < 0)
			return rc;
		if ((rc = offer(st, r->id, "v10-partial_discount-9",
				RD_OFFER_PARTIAL_DISCOUNT, 9, 10,
				RD_OFFER_REJECTED, err)) < 0)
			return rc;
	}
	if ((rc = offer(st, r->id, r->offer_id, RD_OFFER_REFUND_KEEP_ITEM,
			r->amount, 11, RD_OFFER_ACCEPTED, err)) < 0)
		return rc;
	if (i % 3 == 0)
		rc = offer(st, r->id, "v12-partial_discount-7",
			   RD_OFFER_PARTIAL_DISCOUNT, 7, 12, RD_OFFER_REJECTED,
			   err);
	return rc;
}

static rd_store *fixture(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	int ok;

	for (int i = 0; i < ROWS; i++) {
		row *r = &rows[i];

		/* ids out of deadline order; many deadlines shared */
		snprintf(r->id, sizeof(r->id), "01J%023d", (i * 37) % 1000 + 1);
		r->storefront = storefronts[i % 3];
		r->state = states[(i / 3) % 5];
		r->due_at = i % 4 ? BASE + ((i * 7) % 13) * 60 : 0;
		r->has_offer = i % 6 != 5;
		snprintf(r->offer_id, sizeof(r->offer_id),
			 "v11-refund_keep_item-%d", 100 + i);
		r->amount = r->has_offer ? 100 + i : 0;
		if (!r->has_offer)
			r->offer_id[0] = '\0';
	}
	ok = rd_store_open(&st, path, &err) == RD_OK &&
	     rd_store_begin(st, &err) == RD_OK &&
	     rd_store_workflow_put(st, HASH, "dispute", 2, "{}", &err) ==
		     RD_OK;
	for (int i = 0; ok && i < ROWS; i++)
		ok = store_row(st, &rows[i], i, &err) == RD_OK;
	ok = ok && rd_store_commit(st, &err) == RD_OK;
	if (!ok) {
		fprintf(stderr, "fixture: %s\n", err.message);
		rd_store_close(st);
		st = NULL;
	}
	free(path);
	return st;
}

static int64_t key_of(const row *r)
{
	return r->due_at ? r->due_at : INT64_MAX;
}

static int oldest_due_first(const void *a, const void *b)
{
	const row *x = *(const row *const *)a;
	const row *y = *(const row *const *)b;

	if (key_of(x) != key_of(y))
		return key_of(x) < key_of(y) ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The rows a filter should list, in order. */
static size_t expected_rows(const rd_payable_filter *f, const row **out)
{
	size_t n = 0;

	for (int i = 0; i < ROWS; i++) {
		const row *r = &rows[i];
		int in_states = (f->states[0] &&
				 strcmp(r->state, f->states[0]) == 0) ||
				(f->states[1] &&
				 strcmp(r->state, f->states[1]) == 0);

		if (in_states && (!f->storefront ||
				  strcmp(r->storefront, f->storefront) == 0))
			out[n++] = r;
	}
	/* cppcheck-suppress uninitvar ; out[0..n) were set above */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	qsort(out, n, sizeof(*out), oldest_due_first);
	return n;
}

static int same(const rd_payable_row *got, const row *want)
{
	return strcmp(got->dispute_id, want->id) == 0 &&
	       strcmp(got->storefront, want->storefront) == 0 &&
	       strcmp(got->state, want->state) == 0 &&
	       strcmp(got->order_ref, "ORD-7") == 0 &&
	       strcmp(got->currency, "EUR") == 0 &&
	       got->due_at == want->due_at &&
	       got->has_offer == want->has_offer &&
	       strcmp(got->offer_id, want->offer_id) == 0 &&
	       got->buyer_refund == want->amount &&
	       (!got->has_offer ||
		got->offer_type == RD_OFFER_REFUND_KEEP_ITEM) &&
	       got->version >= 3 && got->version <= 6;
}

/*
 * Walk every page at page size `limit` and compare with the expected rows.
 * Returns the number of pages, or -1 after reporting a failure.
 */
static int walk(rd_store *st, rd_payable_filter filter, size_t limit)
{
	const row *want[ROWS];
	size_t expected = expected_rows(&filter, want);
	size_t seen = 0;
	char *cursor = NULL;
	int pages = 0;
	rd_error err;

	filter.limit = limit;
	filter.cursor = NULL;
	for (;;) {
		rd_payable_row *page = NULL;
		size_t count = 0;
		char *next = NULL;
		int bad = 0;

		if (rd_store_payables_list(st, &filter, &page, &count, &next,
					   &err) < 0) {
			rd_test_fail(__FILE__, __LINE__, "page %d: %s", pages,
				     err.message);
			free(cursor);
			return -1;
		}
		pages++;
		for (size_t i = 0; i < count; i++, seen++)
			if (seen >= expected || !same(&page[i], want[seen]))
				bad = 1;
		if (next && count != (limit ? limit : 50))
			bad = 1;
		free(page);
		free(cursor);
		cursor = next;
		if (bad) {
			rd_test_fail(__FILE__, __LINE__,
				     "page %d differs from the expected rows",
				     pages);
			free(cursor);
			return -1;
		}
		if (!cursor)
			break;
		filter.cursor = cursor;
	}
	if (seen != expected) {
		rd_test_fail(__FILE__, __LINE__, "saw %zu rows, expected %zu",
			     seen, expected);
		return -1;
	}
	return pages;
}

static rd_payable_filter payable_filter(void)
{
	rd_payable_filter f;

	memset(&f, 0, sizeof(f));
	f.states[0] = "refund_pending";
	f.states[1] = "discount_pending";
	return f;
}

static void pages_cover_every_payable_once(void)
{
	rd_store *st = fixture();
	rd_payable_filter f = payable_filter();
	const row *want[ROWS];
	size_t n;

	CHECK(st);
	n = expected_rows(&f, want);
	CHECK_INT(n, 60);  /* two states of five, 150 rows */
	CHECK_INT(walk(st, f, 7), 9);    /* 8 full pages + 4 */
	CHECK_INT(walk(st, f, 60), 1);   /* exactly full: no empty page */
	CHECK_INT(walk(st, f, 1), 60);
	CHECK_INT(walk(st, f, 0), 2);    /* 0 means 50 */
	/* the last pages hold the disputes without a deadline */
	CHECK_INT(want[n - 1]->due_at, 0);
	CHECK(want[0]->due_at == BASE);
	rd_store_close(st);
}

static void filters_by_storefront_and_state(void)
{
	rd_store *st = fixture();
	rd_payable_filter f = payable_filter();
	const row *want[ROWS];

	CHECK(st);
	f.storefront = "bolt";
	CHECK_INT(expected_rows(&f, want), 20);
	CHECK_INT(walk(st, f, 3), 7);
	f.storefront = "nobody";
	CHECK_INT(walk(st, f, 5), 1);     /* one empty page */

	f = payable_filter();
	f.states[1] = NULL;               /* refunds only */
	CHECK_INT(expected_rows(&f, want), 30);
	CHECK(walk(st, f, 4) > 1);
	f.states[0] = NULL;               /* no state: nothing */
	CHECK_INT(expected_rows(&f, want), 0);
	CHECK_INT(walk(st, f, 4), 1);

	f = payable_filter();
	f.states[0] = "investigating";    /* the store lists what it is told */
	f.states[1] = NULL;
	CHECK(walk(st, f, 9) > 1);
	rd_store_close(st);
}

static void latest_accepted_offer_is_owed(void)
{
	rd_store *st = fixture();
	rd_payable_filter f = payable_filter();
	rd_payable_row *page = NULL;
	size_t count = 0, checked = 0;
	char *next = NULL;
	rd_error err;

	CHECK(st);
	f.limit = 500;
	CHECK_OK(rd_store_payables_list(st, &f, &page, &count, &next, &err),
		 &err);
	CHECK_INT(count, 60);
	CHECK(next == NULL);
	for (size_t i = 0; i < count; i++) {
		int n = -1;

		for (int k = 0; k < ROWS; k++)
			if (strcmp(rows[k].id, page[i].dispute_id) == 0)
				n = k;
		if (n < 0 || n % 3 != 0 || n % 6 == 5)
			continue;
		/* three offers accepted or rejected in one second */
		if (strncmp(page[i].offer_id, "v11-", 4) != 0 ||
		    page[i].buyer_refund != 100 + n)
			break;
		checked++;
	}
	free(page);
	CHECK_INT(checked, 20);
	rd_store_close(st);
}

static void bad_cursor_and_limit_refused(void)
{
	rd_store *st = fixture();
	rd_payable_filter f = payable_filter();
	rd_payable_row *page = NULL;
	size_t count = 9;
	char *next = NULL;
	rd_error err;

	CHECK(st);
	f.cursor = "not-a-cursor!";
	CHECK_FAILS(rd_store_payables_list(st, &f, &page, &count, &next, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "cursor");
	CHECK(page == NULL && count == 0 && next == NULL);

	f.cursor = NULL;
	f.limit = 501;
	CHECK_FAILS(rd_store_payables_list(st, &f, &page, &count, &next, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "limit");

	/* a cursor past every deadline leaves the undated ones */
	f.limit = 0;
	f.cursor = "OTIyMzM3MjAzNjg1NDc3NTgwNi4wMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMQ";
	CHECK_OK(rd_store_payables_list(st, &f, &page, &count, &next, &err),
		 &err);
	CHECK_INT(count, 16);
	for (size_t i = 0; i < count; i++)
		CHECK_INT(page[i].due_at, 0);
	free(page);
	rd_store_close(st);
}

/* The walk seeks the state index, scans nothing, and sorts only its rows. */
static void plan_seeks_the_state_index(void)
{
	RD_TEST_SQLITE_ONLY("SQLite's query plan (EXPLAIN QUERY PLAN)");
	rd_store *st = fixture();
	char plan[2048];

	CHECK(st);
	rd_test_stmt_plan(st, RD_STMT_PAYABLES, plan, sizeof(plan));
	CHECK_HAS(plan, "USING INDEX disputes_state (state=?)");
	if (strstr(plan, "SCAN"))
		rd_test_fail(__FILE__, __LINE__, "plan scans: %s", plan);
	rd_store_close(st);
}

int main(void)
{
	RUN(pages_cover_every_payable_once);
	RUN(filters_by_storefront_and_state);
	RUN(latest_accepted_offer_is_owed);
	RUN(bad_cursor_and_limit_refused);
	RUN(plan_seeks_the_state_index);
	return rd_test_summary();
}
