/*
 * Listing disputes: keyset pages cover every matching row exactly once, in
 * order (created_at, id descending), with and without filters; cursors are
 * validated strictly; every list statement walks an index (no scan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ROWS 250
#define BASE INT64_C(1700000000)
#define NOW (BASE + 1500)

static const char *const storefronts[] = { "acme-eu", "acme-us", "bolt" };
static const char *const states[] = {
	"opened", "investigating", "offer_pending", "resolved"
};

/* What the fixture stored, to compute the expected pages. */
typedef struct row {
	char id[RD_ID_BUFSZ];
	int64_t created_at;
	const char *storefront;
	const char *state;
	rd_reason reason;
	const char *assignee;
	int64_t due_at;    /* 0: no deadline */
	char order_ref[16];
	char buyer_ref[16];
	char sku[16];
	int64_t updated_at;
} row;

static row rows[ROWS];

static void fill_rows(void)
{
	for (int i = 0; i < ROWS; i++) {
		row *r = &rows[i];

		/* ids out of creation order, three disputes per second */
		snprintf(r->id, sizeof(r->id), "01J%023d", (i * 37) % 1000 + 1);
		r->created_at = BASE + (i / 3) * 10;
		r->storefront = storefronts[i % 3];
		r->state = states[(i / 2) % 4];
		r->reason = (rd_reason)(i % 5);
		r->assignee = i % 7 == 0 ? NULL : (i % 2 ? "bob" : "alice");
		r->due_at = i % 4 == 0 ? BASE + 2000 - i * 5 : 0;
		snprintf(r->order_ref, sizeof(r->order_ref), "ORD-%d", i % 10);
		snprintf(r->buyer_ref, sizeof(r->buyer_ref), "cust-%d", i % 4);
		snprintf(r->sku, sizeof(r->sku), "SKU-%d", i % 6);
		r->updated_at = r->created_at + (i % 5) * 100;
	}
}

static rd_dispute *dispute_of(const row *r)
{
	rd_dispute *d = rd_dispute_new();

	if (!d)
		return NULL;
	memcpy(d->id, r->id, sizeof(d->id));
	d->order_ref = strdup(r->order_ref);
	d->storefront = strdup(r->storefront);
	d->buyer_ref = strdup(r->buyer_ref);
	memcpy(d->currency, "EUR", 4);
	d->reason = r->reason;
	d->channel = RD_CHANNEL_WEB;
	d->items = calloc(1, sizeof(*d->items));
	d->item_count = 1;
	d->items[0].sku = strdup(r->sku);
	d->items[0].title = strdup("Thing");
	d->items[0].quantity = 2;
	d->items[0].unit_price = 500;
	d->items[0].unit_cost = RD_AMOUNT_UNSET;
	d->workflow_name = strdup("dispute");
	d->workflow_version = 1;
	memcpy(d->workflow_hash, HASH, sizeof(HASH));
	d->state = strdup(r->state);
	d->assignee = r->assignee ? strdup(r->assignee) : NULL;
	d->version = 1;
	d->created_at = r->created_at;
	d->updated_at = r->updated_at;
	return d;
}

static rd_store *fixture(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	int ok;

	fill_rows();
	ok = rd_store_open(&st, path, &err) == RD_OK &&
	     rd_store_begin(st, &err) == RD_OK &&
	     rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err) ==
		     RD_OK;
	for (int i = 0; ok && i < ROWS; i++) {
		rd_dispute *d = dispute_of(&rows[i]);

		ok = d && rd_store_dispute_insert(st, d, &err) == RD_OK;
		if (ok && rows[i].due_at)
			ok = rd_store_deadline_set(st, d->id, rows[i].due_at,
						   "escalate", d->state,
						   &err) == RD_OK;
		rd_dispute_free(d);
	}
	ok = ok && rd_store_commit(st, &err) == RD_OK;
	if (!ok) {
		fprintf(stderr, "fixture: %s\n", err.message);
		rd_store_close(st);
		st = NULL;
	}
	free(path);
	return st;
}

static int matches(const row *r, const rd_dispute_filter *f)
{
	if (f->state && strcmp(r->state, f->state) != 0)
		return 0;
	if (f->reason && strcmp(rd_reason_name(r->reason), f->reason) != 0)
		return 0;
	if (f->storefront && strcmp(r->storefront, f->storefront) != 0)
		return 0;
	if (f->assignee && (!r->assignee || strcmp(r->assignee,
						   f->assignee) != 0))
		return 0;
	if (f->overdue && (!r->due_at || r->due_at > f->now))
		return 0;
	if (f->created_from && r->created_at < f->created_from)
		return 0;
	if (f->created_to && r->created_at >= f->created_to)
		return 0;
	if (f->order_ref && strcmp(r->order_ref, f->order_ref) != 0)
		return 0;
	if (f->buyer_ref && strcmp(r->buyer_ref, f->buyer_ref) != 0)
		return 0;
	if (f->sku && strcmp(r->sku, f->sku) != 0)
		return 0;
	if (f->updated_since && r->updated_at < f->updated_since)
		return 0;
	return 1;
}

static int newest_first(const void *a, const void *b)
{
	const row *x = *(const row *const *)a;
	const row *y = *(const row *const *)b;

	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? 1 : -1;
	return -strcmp(x->id, y->id);
}

/* The rows a filter should list, newest first. */
static size_t expected_rows(const rd_dispute_filter *f, const row **out)
{
	size_t n = 0;

	for (int i = 0; i < ROWS; i++)
		if (matches(&rows[i], f))
			out[n++] = &rows[i];
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	qsort(out, n, sizeof(*out), newest_first);
	return n;
}

/*
 * Walk every page of `filter` at page size `limit` and compare with the
 * expected rows: same rows, same order, no repeats, full pages but the last.
 * Returns the number of pages, or -1 after reporting a failure.
 */
static int walk(rd_store *st, rd_dispute_filter filter, size_t limit)
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
		rd_dispute **page = NULL;
		size_t count = 0;
		char *next = NULL;
		int bad = 0;

		if (rd_store_dispute_list(st, &filter, &page, &count, &next,
					  &err) < 0) {
			rd_test_fail(__FILE__, __LINE__, "page %d: %s", pages,
				     err.message);
			free(cursor);
			return -1;
		}
		pages++;
		for (size_t i = 0; i < count; i++) {
			if (seen >= expected ||
			    strcmp(page[i]->id, want[seen]->id) != 0 ||
			    page[i]->created_at != want[seen]->created_at ||
			    page[i]->item_count != 1)
				bad = 1;
			seen++;
		}
		if (next && count != (limit ? limit : 50))
			bad = 1;
		for (size_t i = 0; i < count; i++)
			rd_dispute_free(page[i]);
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

static void pages_cover_everything_once(void)
{
	rd_store *st = fixture();
	rd_dispute_filter f;

	CHECK(st);
	memset(&f, 0, sizeof(f));
	CHECK_INT(walk(st, f, 20), 13);   /* 250 rows: 12 full pages + 10 */
	CHECK_INT(walk(st, f, 250), 1);
	CHECK_INT(walk(st, f, 125), 2);   /* exactly full: no empty page */
	CHECK_INT(walk(st, f, 1), 250);
	CHECK_INT(walk(st, f, 0), 5);     /* 0 means 50 */
	rd_store_close(st);
}

static void pages_with_filters(void)
{
	rd_store *st = fixture();
	rd_dispute_filter f;
	const row *want[ROWS];

	CHECK(st);
	memset(&f, 0, sizeof(f));
	f.state = "investigating";
	CHECK(expected_rows(&f, want) > 20);
	CHECK(walk(st, f, 20) > 1);

	memset(&f, 0, sizeof(f));
	f.storefront = "bolt";
	CHECK(walk(st, f, 20) > 1);

	memset(&f, 0, sizeof(f));
	f.reason = "defective";
	CHECK(walk(st, f, 20) > 1);

	memset(&f, 0, sizeof(f));
	f.assignee = "bob";
	CHECK(walk(st, f, 20) > 1);

	memset(&f, 0, sizeof(f));
	f.storefront = "acme-us";
	f.state = "offer_pending";
	f.reason = "damaged";
	CHECK(expected_rows(&f, want) > 0);
	CHECK(walk(st, f, 3) > 1);

	memset(&f, 0, sizeof(f));
	f.assignee = "alice";
	f.state = "resolved";
	CHECK(walk(st, f, 7) > 1);

	/* created range, bounds on shared seconds: [from, to) */
	memset(&f, 0, sizeof(f));
	f.created_from = BASE + 300;
	f.created_to = BASE + 600;
	CHECK_INT(expected_rows(&f, want), 90);
	CHECK_INT(walk(st, f, 20), 5);
	f.state = "opened";
	CHECK(walk(st, f, 4) > 1);

	/* no match at all: one empty page */
	memset(&f, 0, sizeof(f));
	f.storefront = "nobody";
	CHECK_INT(walk(st, f, 20), 1);
	rd_store_close(st);
}

/* The exact filters of schema 20, alone and with the others. */
static void search_exact_filters(void)
{
	rd_store *st = fixture();
	rd_dispute_filter f;
	const row *want[ROWS];

	CHECK(st);
	memset(&f, 0, sizeof(f));
	f.order_ref = "ORD-3";
	CHECK_INT(expected_rows(&f, want), 25);
	CHECK_INT(walk(st, f, 10), 3);
	f.state = "opened";
	CHECK(walk(st, f, 2) > 1);

	memset(&f, 0, sizeof(f));
	f.buyer_ref = "cust-1";
	CHECK(walk(st, f, 20) > 1);
	f.storefront = "acme-us";  /* the buyer index with the storefront */
	CHECK(expected_rows(&f, want) > 5);
	CHECK(walk(st, f, 5) > 1);

	memset(&f, 0, sizeof(f));
	f.sku = "SKU-2";
	CHECK(walk(st, f, 9) > 1);
	f.assignee = "alice";
	CHECK(walk(st, f, 3) > 1);

	memset(&f, 0, sizeof(f));
	f.updated_since = BASE + 600;
	CHECK(expected_rows(&f, want) > 100);
	CHECK(walk(st, f, 30) > 1);
	f.reason = "damaged";
	f.created_to = BASE + 700;
	CHECK(walk(st, f, 4) > 1);

	memset(&f, 0, sizeof(f));
	f.order_ref = "ORD-4";
	f.sku = "SKU-4";
	f.buyer_ref = "cust-0";
	f.overdue = 1;
	f.now = NOW;
	CHECK(walk(st, f, 1) >= 1);
	rd_store_close(st);
}

/*
 * A search: every matching dispute once over the pages, the most
 * relevant first (rank, then id, descending), what the words do not hold
 * never; words read as words, never as query syntax; bad q refused.
 */
static void search_pages(void)
{
	rd_store *st = fixture();
	rd_dispute_filter f;
	const row *want[ROWS];
	size_t expected, seen = 0;
	char *cursor = NULL;
	int64_t last_rank = INT64_MAX;
	char last_id[RD_ID_BUFSZ] = "~";
	rd_error err;
	static const char *const syntax[] = {
		"\"ORD-3", "ORD-3*", "NEAR(ORD 3)", "refs:ORD", "-ORD",
		"(ORD OR 3)", "ORD AND", "^ORD", "a\"\"b", "{refs} : ORD",
	};

	CHECK(st);
	memset(&f, 0, sizeof(f));
	f.order_ref = "ORD-3";
	expected = expected_rows(&f, want);
	memset(&f, 0, sizeof(f));
	f.q = "ord-3";
	f.limit = 4;
	for (;;) {
		rd_dispute **page = NULL;
		size_t count = 0;
		char *next = NULL;

		if (rd_store_dispute_list(st, &f, &page, &count, &next,
					  &err) < 0) {
			rd_test_fail(__FILE__, __LINE__, "%s", err.message);
			break;
		}
		for (size_t i = 0; i < count; i++) {
			CHECK_STR(page[i]->order_ref, "ORD-3");
			CHECK(page[i]->search_rank > 0);
			CHECK(page[i]->search_rank < last_rank ||
			      (page[i]->search_rank == last_rank &&
			       strcmp(page[i]->id, last_id) < 0));
			last_rank = page[i]->search_rank;
			memcpy(last_id, page[i]->id, sizeof(last_id));
			rd_dispute_free(page[i]);
			seen++;
		}
		free(page);
		free(cursor);
		cursor = next;
		if (!cursor)
			break;
		f.cursor = cursor;
	}
	CHECK_INT(seen, expected);

	/* within a creation range */
	{
		rd_dispute **page = NULL;
		size_t count = 0;
		char *next = NULL;

		memset(&f, 0, sizeof(f));
		f.order_ref = "ORD-3";
		f.created_from = BASE + 100;
		f.created_to = BASE + 300;
		expected = expected_rows(&f, want);
		CHECK(expected > 0);
		f.order_ref = NULL;
		f.q = "ORD-3";
		f.limit = 500;
		CHECK_OK(rd_store_dispute_list(st, &f, &page, &count, &next,
					       &err), &err);
		CHECK_INT(count, expected);
		for (size_t i = 0; i < count; i++) {
			CHECK(page[i]->created_at >= BASE + 100 &&
			      page[i]->created_at < BASE + 300);
			rd_dispute_free(page[i]);
		}
		free(page);
		free(next);
	}

	/* with the other filters */
	{
		rd_dispute **page = NULL;
		size_t count = 0;
		char *next = NULL;

		memset(&f, 0, sizeof(f));
		f.q = "SKU-3 cust-1";
		f.storefront = "acme-eu";
		f.limit = 500;
		CHECK_OK(rd_store_dispute_list(st, &f, &page, &count, &next,
					       &err), &err);
		CHECK(count > 0);
		for (size_t i = 0; i < count; i++) {
			CHECK_STR(page[i]->storefront, "acme-eu");
			CHECK_STR(page[i]->buyer_ref, "cust-1");
			CHECK_STR(page[i]->items[0].sku, "SKU-3");
			rd_dispute_free(page[i]);
		}
		free(page);
		free(next);
	}

	for (size_t k = 0; k < sizeof(syntax) / sizeof(syntax[0]); k++) {
		rd_dispute **page = NULL;
		size_t count = 0;
		char *next = NULL;

		memset(&f, 0, sizeof(f));
		f.q = syntax[k];
		CHECK_OK(rd_store_dispute_list(st, &f, &page, &count, &next,
					       &err), &err);
		for (size_t i = 0; i < count; i++)
			rd_dispute_free(page[i]);
		free(page);
		free(next);
	}

	memset(&f, 0, sizeof(f));
	f.q = "*** ( ) :";
	CHECK_FAILS(rd_store_dispute_list(st, &f, &(rd_dispute **){ NULL },
					  &(size_t){ 0 }, &(char *){ NULL },
					  &err), RD_EINVALID);
	CHECK_STR(err.field, "q");
	f.q = "a b c d e f g h i j k l m n o p q";  /* 17 words */
	CHECK_FAILS(rd_store_dispute_list(st, &f, &(rd_dispute **){ NULL },
					  &(size_t){ 0 }, &(char *){ NULL },
					  &err), RD_EINVALID);
	CHECK_STR(err.field, "q");
	f.q = "x";
	f.awaiting_reply = 1;
	CHECK_FAILS(rd_store_dispute_list(st, &f, &(rd_dispute **){ NULL },
					  &(size_t){ 0 }, &(char *){ NULL },
					  &err), RD_EINVALID);
	rd_store_close(st);
}

static void overdue_filter(void)
{
	rd_store *st = fixture();
	rd_dispute_filter f;
	const row *want[ROWS];
	size_t n;

	CHECK(st);
	memset(&f, 0, sizeof(f));
	f.overdue = 1;
	f.now = NOW;
	n = expected_rows(&f, want);
	CHECK(n > 20 && n < ROWS / 4);
	CHECK(walk(st, f, 20) > 1);
	CHECK_INT(walk(st, f, 5), (int)(n + 4) / 5);

	/* a deadline due exactly now is overdue, one second later it is not */
	f.now = BASE + 2000 - 8 * 5;  /* row 8's deadline */
	n = expected_rows(&f, want);
	CHECK(n > 0);
	CHECK_STR(want[n - 1]->id, rows[8].id);  /* the oldest listed */
	CHECK(walk(st, f, 2) >= 1);
	f.now -= 1;
	CHECK_INT(expected_rows(&f, want), n - 1);
	CHECK(walk(st, f, 2) >= 1);

	memset(&f, 0, sizeof(f));
	f.overdue = 1;
	f.now = NOW;
	f.storefront = "acme-eu";
	f.assignee = "alice";
	CHECK(walk(st, f, 2) > 1);

	f.now = BASE;  /* nothing due yet */
	CHECK_INT(expected_rows(&f, want), 0);
	CHECK_INT(walk(st, f, 20), 1);
	rd_store_close(st);
}

static void malformed_cursors_refused(void)
{
	static const char *const bad[] = {
		"",
		"garbage!",
		/* a valid cursor with padding */
		"MTcwMDAwMDAwMC4wMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMQ=",
		/* "abc.def" */
		"YWJjLmRlZg",
		/* "1700000000": no id */
		"MTcwMDAwMDAwMA",
		/* lower-case id */
		"MTcwMDAwMDAwMC4wMWowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMQ",
		/* leading zero */
		"MDE3MDAwMDAwMDAuMDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDE",
		/* plus sign */
		"KzE3MDAwMDAwMDAuMDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDE",
		/* time out of range; split to fit the line */
		/* NOLINTNEXTLINE(bugprone-suspicious-missing-comma) */
		"OTk5OTk5OTk5OTk5OTk5OTk5OTkuMDFKMDAwMDAwMDAwMDAwMDAwMDAw"
		"MDAwMDE",
		/* two keys */
		"MTcwMDAwMDAwMC4wMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTE3MDAw"
		"MDAwMDAuMDFKMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDE",
		/* trailing bits set */
		"MTcwMDAwMDAwMC4wMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMR",
		/* a NUL byte */
		"MTcwMDAwMDAwMC4wMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwADE",
	};
	rd_store *st = fixture();
	rd_dispute_filter f;
	rd_dispute **page = NULL;
	size_t count = 7;
	char *next = NULL;
	rd_error err;

	CHECK(st);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.cursor = bad[i];
		if (rd_store_dispute_list(st, &f, &page, &count, &next,
					  &err) != RD_EINVALID) {
			rd_test_fail(__FILE__, __LINE__,
				     "cursor \"%s\" was accepted", bad[i]);
			return;
		}
		CHECK_STR(err.field, "cursor");
		CHECK(page == NULL && count == 0 && next == NULL);
	}

	/* a well-formed cursor of the same shape is accepted */
	memset(&f, 0, sizeof(f));
	f.cursor = "MTcwMDAwMDAwMC4wMUowMDAwMDAwMDAwMDAwMDAwMDAwMDAwMQ";
	CHECK_OK(rd_store_dispute_list(st, &f, &page, &count, &next, &err),
		 &err);
	CHECK_INT(count, 0);  /* nothing is older than the first second */
	CHECK(next == NULL);
	free(page);

	memset(&f, 0, sizeof(f));
	f.limit = 501;
	CHECK_FAILS(rd_store_dispute_list(st, &f, &page, &count, &next, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "limit");
	rd_store_close(st);
}

/* Every list statement seeks an index and never scans a table. */
static void list_plans_use_indexes(void)
{
	RD_TEST_SQLITE_ONLY("SQLite's query plans (EXPLAIN QUERY PLAN)");
	static const struct {
		int stmt;
		const char *index;
	} plans[] = {
		{ RD_STMT_LIST_ALL, "USING INDEX disputes_created (" },
		{ RD_STMT_LIST_BY_ASSIGNEE, "USING INDEX disputes_assignee (" },
		{ RD_STMT_LIST_BY_STOREFRONT,
		  "USING INDEX disputes_storefront (" },
		{ RD_STMT_LIST_BY_STATE, "USING INDEX disputes_state (" },
		{ RD_STMT_LIST_BY_REASON, "USING INDEX disputes_reason (" },
		{ RD_STMT_LIST_OVERDUE,
		  "USING INDEX deadlines_due (due_at<?)" },
		{ RD_STMT_DEADLINES_DUE,
		  "USING INDEX deadlines_due (due_at<?)" },
		{ RD_STMT_REPLIES_DUE,
		  "USING INDEX reply_deadlines_due (due_at<?)" },
		{ RD_STMT_LIST_AWAITING_REPLY,
		  "reply_deadlines_due ((due_at,dispute_id)>(?,?))" },
		{ RD_STMT_LIST_BY_ORDER_REF,
		  "USING INDEX disputes_order_ref (order_ref=? AND" },
		{ RD_STMT_LIST_BY_BUYER,
		  "USING INDEX disputes_buyer (storefront=? AND buyer_ref=? AND" },
		{ RD_STMT_LIST_BY_BUYER_REF,
		  "USING INDEX disputes_buyer_ref (buyer_ref=? AND" },
		{ RD_STMT_LIST_BY_SKU, "USING COVERING INDEX items_sku (sku=?)" },
		{ RD_STMT_LIST_UPDATED,
		  "USING INDEX disputes_updated (updated_at>?)" },
		/* the full-text index's match (M), never a scan of its rows */
		{ RD_STMT_LIST_SEARCH,
		  "SCAN search_text VIRTUAL TABLE INDEX 0:M" },
	};
	rd_store *st = fixture();

	CHECK(st);
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		char plan[1024];
		const char *rest;

		rd_test_stmt_plan(st, plans[i].stmt, plan, sizeof(plan));
		CHECK_HAS(plan, plans[i].index);
		/* a full-text match reads as a SCAN of the virtual table */
		rest = plans[i].stmt == RD_STMT_LIST_SEARCH
			       ? strstr(plan, plans[i].index)
			       : NULL;
		rest = rest ? rest + strlen(plans[i].index) : plan;
		if (strstr(rest, "SCAN")) {
			rd_test_fail(__FILE__, __LINE__, "plan scans: %s",
				     plan);
			break;
		}
		/* keyset seeks: the page starts by a b-tree search */
		if (plans[i].stmt != RD_STMT_LIST_OVERDUE &&
		    plans[i].stmt != RD_STMT_DEADLINES_DUE &&
		    plans[i].stmt != RD_STMT_REPLIES_DUE &&
		    plans[i].stmt != RD_STMT_LIST_AWAITING_REPLY &&
		    /* these find their few disputes, then sort them */
		    plans[i].stmt != RD_STMT_LIST_BY_SKU &&
		    plans[i].stmt != RD_STMT_LIST_UPDATED &&
		    plans[i].stmt != RD_STMT_LIST_SEARCH) {
			CHECK_HAS(plan, "(created_at,id)<(?,?)");
			if (strstr(plan, "TEMP B-TREE")) {
				rd_test_fail(__FILE__, __LINE__,
					     "plan sorts: %s", plan);
				break;
			}
		}
	}
	rd_store_close(st);
}

/*
 * The duplicate lookup of an opening: the oldest open dispute of one
 * storefront and order sharing a SKU, found through the index of open
 * disputes by order and each one's items by key; never a scan of the
 * disputes or the items.
 */
static void open_duplicate_lookup(void)
{
	rd_store *st = fixture();
	rd_dispute *probe = NULL;
	char existing[RD_ID_BUFSZ];
	const row *oldest = NULL;
	rd_error err;
	int found = -1;

	CHECK(st);
	for (int i = 0; i < ROWS; i++)
		if (strcmp(rows[i].storefront, "acme-us") == 0 &&
		    (!oldest || rows[i].created_at < oldest->created_at ||
		     (rows[i].created_at == oldest->created_at &&
		      strcmp(rows[i].id, oldest->id) < 0)))
			oldest = &rows[i];
	probe = dispute_of(oldest);
	CHECK(probe);
	/* every fixture dispute is of order "ORD" with SKU "SKU", open */
	CHECK_OK(rd_store_dispute_open_duplicate(st, probe, existing, &found,
						 &err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(existing, oldest->id);
	free(probe->items[0].sku);
	probe->items[0].sku = strdup("OTHER");
	CHECK_OK(rd_store_dispute_open_duplicate(st, probe, existing, &found,
						 &err), &err);
	CHECK_INT(found, 0);
	CHECK_STR(existing, "");
	free(probe->items[0].sku);
	probe->items[0].sku = strdup("SKU");
	free(probe->order_ref);
	probe->order_ref = strdup("ORD-2");
	CHECK_OK(rd_store_dispute_open_duplicate(st, probe, existing, &found,
						 &err), &err);
	CHECK_INT(found, 0);
	rd_dispute_free(probe);
	rd_store_close(st);
}

/* The lookup seeks its index rather than scanning the disputes. */
static void open_duplicate_plan(void)
{
	RD_TEST_SQLITE_ONLY("SQLite's query plan (EXPLAIN QUERY PLAN)");
	rd_store *st = fixture();
	char plan[1024];

	CHECK(st);
	rd_test_stmt_plan(st, RD_STMT_DISPUTE_OPEN_DUPLICATE, plan,
			  sizeof(plan));
	CHECK_HAS(plan, "SEARCH d USING INDEX disputes_open_order "
		  "(storefront=? AND order_ref=?)");
	CHECK_HAS(plan, "SEARCH i USING PRIMARY KEY (dispute_id=?)");
	if (strstr(plan, "SCAN d") || strstr(plan, "SCAN i"))
		rd_test_fail(__FILE__, __LINE__, "plan scans: %s", plan);
	rd_store_close(st);
}

int main(void)
{
	RUN(pages_cover_everything_once);
	RUN(pages_with_filters);
	RUN(overdue_filter);
	RUN(search_exact_filters);
	RUN(search_pages);
	RUN(malformed_cursors_refused);
	RUN(list_plans_use_indexes);
	RUN(open_duplicate_lookup);
	RUN(open_duplicate_plan);
	return rd_test_summary();
}
