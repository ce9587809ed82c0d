/*
 * The outbox and the webhooks' tables: the feed in commit order with its
 * cursor and filters; an endpoint receiving the events committed after
 * it was made, of its storefront and types, its position moving past the
 * others; leases that hold back a dispute's later deliveries for the
 * endpoint but no other dispute's, a lease another worker cannot take
 * until it runs out, and an outcome recorded only by the lease's holder;
 * redelivery. On PostgreSQL: an event that commits late is not passed
 * over by a reader of the feed, and two workers leasing at once never
 * take the same delivery.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "fixtures.h"
#include "test.h"

/* endpoint_init's id of endpoint 1 */
#define EP1 "we_01J00000000000000000000001"

/* Event `n` of dispute fixture `dispute` at `version`, inside a transaction. */
static int add_event(rd_store *st, int n, int dispute, const char *storefront,
		     const char *type, int64_t version, rd_error *err)
{
	rd_outbox_event ev;
	char payload[128];

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.id, sizeof(ev.id), "evt_01J%023d", n);
	rd_test_make_id(ev.dispute_id, dispute);
	snprintf(ev.storefront, sizeof(ev.storefront), "%s", storefront);
	snprintf(ev.type, sizeof(ev.type), "%s", type);
	ev.version = version;
	ev.created_at = 1000 + n;
	snprintf(payload, sizeof(payload), "{\"type\":\"%s\",\"n\":%d}", type,
		 n);
	ev.payload = payload;
	return rd_store_outbox_add(st, &ev, err);
}

static int commit_event(rd_store *st, int n, int dispute,
			const char *storefront, const char *type,
			int64_t version, rd_error *err)
{
	int rc;

	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	if ((rc = add_event(st, n, dispute, storefront, type, version,
			    err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

/* The feed after `after` as "n n n" (the events' own numbers). */
static char *feed(rd_store *st, const char *from, const char *storefront,
		  const char *types, size_t limit,
		  char cursor_out[RD_OUTBOX_CURSOR_BUFSZ])
{
	static char out[512];
	rd_outbox_event *events = NULL;
	size_t count = 0, used = 0;
	rd_error err;

	rd_error_clear(&err);
	out[0] = '\0';
	if (rd_store_outbox_after(st, from, storefront, types, limit, &events,
				  &count, cursor_out, &err) < 0) {
		snprintf(out, sizeof(out), "error: %.200s", err.message);
		return out;
	}
	for (size_t i = 0; i < count; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 "%s%d", i ? " " : "",
					 (int)strtol(events[i].id + 7, NULL, 10));
	rd_outbox_events_free(events, count);
	return out;
}

static void endpoint_init(rd_webhook_endpoint *ep, int n,
			  const char *storefront, const char *events)
{
	memset(ep, 0, sizeof(*ep));
	snprintf(ep->id, sizeof(ep->id), "we_01J%023d", n);
	snprintf(ep->url, sizeof(ep->url), "https://shop.example/%d", n);
	snprintf(ep->events, sizeof(ep->events), "%s", events);
	snprintf(ep->storefront, sizeof(ep->storefront), "%s", storefront);
	snprintf(ep->secret, sizeof(ep->secret), "whsec_c2VjcmV0");
	ep->enabled = 1;
	ep->created_at = 1;
	ep->updated_at = 1;
}

static int add_endpoint(rd_store *st, int n, const char *storefront,
			const char *events, rd_error *err)
{
	rd_webhook_endpoint ep;
	int rc;

	endpoint_init(&ep, n, storefront, events);
	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	if ((rc = rd_store_webhook_insert(st, &ep, NULL, err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

static int fanout(rd_store *st, int64_t now, size_t *made, rd_error *err)
{
	int rc;

	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	if ((rc = rd_store_webhook_fanout(st, now, 500, made, err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

/* Lease what is due at now to `lease`: "event-number..." of the jobs. */
static char *claim(rd_store *st, int64_t now, const char *lease,
		   rd_webhook_job **jobs_out, size_t *count_out)
{
	static char out[256];
	rd_webhook_job *jobs = NULL;
	size_t count = 0, used = 0;
	rd_error err;

	rd_error_clear(&err);
	out[0] = '\0';
	if (rd_store_begin(st, &err) < 0 ||
	    rd_store_webhook_claim(st, now, 60, lease, 32, &jobs, &count,
				   &err) < 0 ||
	    rd_store_commit(st, &err) < 0) {
		rd_store_rollback(st);
		snprintf(out, sizeof(out), "error: %.200s", err.message);
		return out;
	}
	for (size_t i = 0; i < count; i++)
		used += (size_t)snprintf(out + used, sizeof(out) - used,
					 "%s%d", i ? " " : "",
					 (int)strtol(jobs[i].event_id + 7, NULL, 10));
	if (jobs_out) {
		*jobs_out = jobs;
		*count_out = count;
	} else {
		rd_webhook_jobs_free(jobs, count);
	}
	return out;
}

static int finish(rd_store *st, const rd_webhook_job *job, const char *lease,
		  const char *status, int64_t now, int *kept, rd_error *err)
{
	rd_webhook_attempt a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.at = now;
	a.status_code = strcmp(status, "delivered") == 0 ? 200 : 500;
	a.latency_ms = 12;
	snprintf(a.answer, sizeof(a.answer), "ok");
	a.next_at = strcmp(status, "pending") == 0 ? now + 5 : 0;
	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	if ((rc = rd_store_webhook_attempt_add(st, job->n, lease, &a, status,
					       kept, err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

/* The feed: commit order, cursors, filters, refusals. */
static void feed_reads_in_order(void)
{
	char *path = rd_test_db_path();
	rd_store *st = rd_test_store_open(path);
	char next[RD_OUTBOX_CURSOR_BUFSZ], end[RD_OUTBOX_CURSOR_BUFSZ];
	rd_outbox_event *events = NULL;
	size_t count = 0;
	rd_error err;

	rd_error_clear(&err);
	CHECK_STR(feed(st, NULL, NULL, NULL, 10, next), "");
	CHECK_OK(commit_event(st, 1, 1, "acme", "dispute.opened", 1, &err),
		 &err);
	CHECK_OK(commit_event(st, 2, 2, "other", "dispute.opened", 1, &err),
		 &err);
	CHECK_OK(commit_event(st, 3, 1, "acme", "offer.made", 2, &err), &err);
	CHECK_STR(feed(st, NULL, NULL, NULL, 10, next), "1 2 3");
	CHECK_STR(feed(st, "", NULL, NULL, 2, next), "1 2");
	CHECK_STR(feed(st, next, NULL, NULL, 2, next), "3");
	CHECK_STR(feed(st, next, NULL, NULL, 2, end), "");
	CHECK_STR(end, next);      /* caught up: the cursor stays */
	CHECK_OK(rd_store_outbox_end(st, end, &err), &err);
	CHECK_STR(end, next);
	CHECK_STR(feed(st, NULL, "acme", NULL, 10, next), "1 3");
	CHECK_STR(feed(st, NULL, NULL, "offer.made,payment.due", 10, next),
		  "3");
	CHECK_FAILS(rd_store_outbox_after(st, "1.x", NULL, NULL, 10, &events,
					  &count, next, &err), RD_EINVALID);
	CHECK_STR(err.field, "after");
	CHECK_FAILS(rd_store_outbox_after(st, "01.1", NULL, NULL, 10, &events,
					  &count, next, &err), RD_EINVALID);
	CHECK_FAILS(rd_store_outbox_after(st, NULL, NULL, NULL, 501, &events,
					  &count, next, &err), RD_EINVALID);
	CHECK_STR(err.field, "limit");
	/* outside a transaction nothing is written */
	CHECK_FAILS(add_event(st, 9, 1, "acme", "x", 3, &err), RD_EINTERNAL);
	rd_store_close(st);
	free(path);
}

/* An endpoint takes what commits after it, of its storefront and types. */
static void fanout_takes_its_own(void)
{
	char *path = rd_test_db_path();
	rd_store *st = rd_test_store_open(path);
	rd_webhook_endpoint ep;
	size_t made = 0;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(commit_event(st, 1, 1, "acme", "dispute.opened", 1, &err),
		 &err);
	CHECK_OK(add_endpoint(st, 1, "acme", "*", &err), &err);
	CHECK_OK(add_endpoint(st, 2, "acme", "payment.due,offer.made", &err),
		 &err);
	CHECK_OK(add_endpoint(st, 3, "", "*", &err), &err);
	CHECK_OK(fanout(st, 5000, &made, &err), &err);
	CHECK_INT(made, 0);                 /* made before them */
	CHECK_OK(commit_event(st, 2, 2, "other", "dispute.opened", 1, &err),
		 &err);
	CHECK_OK(commit_event(st, 3, 1, "acme", "offer.made", 2, &err), &err);
	CHECK_OK(commit_event(st, 4, 1, "acme", "dispute.state_changed", 2,
			      &err), &err);
	CHECK_OK(fanout(st, 5000, &made, &err), &err);
	/* 1: 3 and 4; 2: 3; 3 (every storefront): 2, 3 and 4 */
	CHECK_INT(made, 6);
	CHECK_OK(fanout(st, 5000, &made, &err), &err);
	CHECK_INT(made, 0);                 /* each once */
	/* a disabled endpoint is passed over */
	CHECK_OK(rd_store_webhook_get(st, EP1,
				      &ep, &err), &err);
	ep.enabled = 0;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_webhook_update(st, &ep, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(commit_event(st, 5, 1, "acme", "payment.due", 3, &err), &err);
	CHECK_OK(fanout(st, 5000, &made, &err), &err);
	CHECK_INT(made, 2);                 /* 2 and 3 only */
	rd_store_close(st);
	free(path);
}

/*
 * A dispute's later delivery waits for its earlier one, for that
 * endpoint; other disputes' do not. A lease is the holder's until it runs
 * out; only the holder records the outcome.
 */
static void leases_keep_order(void)
{
	char *path = rd_test_db_path();
	rd_store *st = rd_test_store_open(path);
	rd_webhook_job *jobs = NULL, *again = NULL;
	size_t count = 0, again_count = 0, made = 0;
	int kept = -1;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(add_endpoint(st, 1, "acme", "*", &err), &err);
	CHECK_OK(commit_event(st, 1, 1, "acme", "dispute.opened", 1, &err),
		 &err);
	CHECK_OK(commit_event(st, 2, 1, "acme", "dispute.state_changed", 2,
			      &err), &err);
	CHECK_OK(commit_event(st, 3, 2, "acme", "dispute.opened", 1, &err),
		 &err);
	CHECK_OK(fanout(st, 5000, &made, &err), &err);
	CHECK_INT(made, 3);
	CHECK_STR(claim(st, 4999, "lease-a", NULL, NULL), "");  /* not due */
	CHECK_STR(claim(st, 5000, "lease-a", &jobs, &count), "1 3");
	if (!jobs || count != 2)
		goto done;
	CHECK_STR(jobs[0].url, "https://shop.example/1");
	CHECK_STR(jobs[0].secret, "whsec_c2VjcmV0");
	CHECK(jobs[0].payload && strstr(jobs[0].payload, "\"n\":1"));
	/* leased: another worker takes nothing, 2 waits for 1 */
	CHECK_STR(claim(st, 5001, "lease-b", NULL, NULL), "");
	/* 1 fails: retried at 5006, and 2 still waits behind it */
	CHECK_OK(finish(st, &jobs[0], "lease-a", "pending", 5001, &kept,
			&err), &err);
	CHECK_INT(kept, 1);
	CHECK_STR(claim(st, 5002, "lease-b", NULL, NULL), "");
	CHECK_STR(claim(st, 5006, "lease-b", &again, &again_count), "1");
	if (!again || again_count != 1) {
		rd_webhook_jobs_free(again, again_count);
		goto done;
	}
	CHECK_INT(again[0].tries, 1);
	CHECK_OK(finish(st, &again[0], "lease-b", "delivered", 5006, &kept,
			&err), &err);
	CHECK_INT(kept, 1);
	rd_webhook_jobs_free(again, again_count);
	CHECK_STR(claim(st, 5006, "lease-b", &again, &again_count), "2");
	rd_webhook_jobs_free(again, again_count);
	/* 3's lease ran out (60 s) and another took it: the first is late */
	CHECK_STR(claim(st, 5061, "lease-c", NULL, NULL), "3");
	CHECK_OK(finish(st, &jobs[1], "lease-a", "delivered", 5062, &kept,
			&err), &err);
	CHECK_INT(kept, 0);
done:
	rd_webhook_jobs_free(jobs, count);
	rd_store_close(st);
	free(path);
}

/* The log, and a delivery made again on request. */
static void log_and_retry(void)
{
	char *path = rd_test_db_path();
	rd_store *st = rd_test_store_open(path);
	char next[RD_OUTBOX_CURSOR_BUFSZ];
	rd_webhook_delivery *list = NULL;
	rd_webhook_job *jobs = NULL;
	size_t count = 0, made = 0;
	int kept = 0;
	int64_t pending = 0, oldest = 0;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(add_endpoint(st, 1, "acme", "*", &err), &err);
	for (int n = 1; n <= 3; n++)
		CHECK_OK(commit_event(st, n, n, "acme", "dispute.opened", 1,
				      &err), &err);
	CHECK_OK(fanout(st, 5000, &made, &err), &err);
	CHECK_OK(rd_store_webhook_backlog(st, &pending, &oldest, &err), &err);
	CHECK_INT(pending, 3);
	CHECK_INT(oldest, 1001);
	CHECK_STR(claim(st, 5000, "lease-a", &jobs, &count), "1 2 3");
	if (!jobs || count != 3) {
		rd_webhook_jobs_free(jobs, count);
		goto done;
	}
	CHECK_OK(finish(st, &jobs[0], "lease-a", "failed", 5001, &kept, &err),
		 &err);
	CHECK_OK(rd_store_webhook_deliveries(st, jobs[0].endpoint_id, NULL, 2,
					     &list, &count, next, &err), &err);
	CHECK_INT(count, 2);
	CHECK(next[0] != '\0');
	rd_webhook_deliveries_free(list, count);
	CHECK_OK(rd_store_webhook_deliveries(st, jobs[0].endpoint_id, next, 2,
					     &list, &count, next, &err), &err);
	CHECK_INT(count, 1);
	CHECK_STR(next, "");
	CHECK_STR(list[0].status, "failed");
	CHECK_INT(list[0].attempts_count, 1);
	CHECK_INT(list[0].attempts[0].status_code, 500);
	CHECK_STR(list[0].attempts[0].answer, "ok");
	rd_webhook_deliveries_free(list, count);
	/* a delivery being sent is not made again under its sender */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_webhook_retry(st, jobs[1].endpoint_id, jobs[1].id,
					   5002, &err), RD_ECONFLICT);
	rd_store_rollback(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_webhook_retry(st, jobs[0].endpoint_id, jobs[0].id,
					5002, &err), &err);
	CHECK_FAILS(rd_store_webhook_retry(st, jobs[0].endpoint_id,
					   "wd_nosuch", 5002, &err),
		    RD_ENOTFOUND);
	CHECK_OK(rd_store_commit(st, &err), &err);
	rd_webhook_jobs_free(jobs, 3);
	/* 1 due again, 2 and 3 because their leases ran out */
	CHECK_STR(claim(st, 5061, "lease-b", &jobs, &count), "1 2 3");
	if (jobs && count == 3) {
		CHECK_INT(jobs[0].tries, 0);
		CHECK_INT(jobs[0].attempts, 1);
	}
	rd_webhook_jobs_free(jobs, count);
done:
	rd_store_close(st);
	free(path);
}

/* Removing an endpoint removes its deliveries; purging, old events. */
static void delete_and_purge(void)
{
	char *path = rd_test_db_path();
	rd_store *st = rd_test_store_open(path);
	char next[RD_OUTBOX_CURSOR_BUFSZ];
	size_t made = 0, removed = 0;
	int64_t pending = 0, oldest = 0;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(add_endpoint(st, 1, "acme", "*", &err), &err);
	CHECK_OK(commit_event(st, 1, 1, "acme", "dispute.opened", 1, &err),
		 &err);
	CHECK_OK(commit_event(st, 2, 2, "acme", "dispute.opened", 1, &err),
		 &err);
	CHECK_OK(fanout(st, 5000, &made, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_outbox_purge(st, 1002, 1002, &removed, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_INT(removed, 1);
	CHECK_STR(feed(st, NULL, NULL, NULL, 10, next), "2");
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_webhook_delete(st, EP1,
					 &err), &err);
	CHECK_FAILS(rd_store_webhook_delete(st,
					    EP1,
					    &err), RD_ENOTFOUND);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_webhook_backlog(st, &pending, &oldest, &err), &err);
	CHECK_INT(pending, 0);
	rd_store_close(st);
	free(path);
}

/*
 * PostgreSQL: an event whose transaction began first but commits last
 * comes after the events a reader has already passed, never before its
 * cursor.
 */
static void late_commit_not_passed(void)
{
	char *path = NULL;
	rd_store *a, *b;
	char next[RD_OUTBOX_CURSOR_BUFSZ];
	rd_error err;

	RD_TEST_POSTGRES_ONLY("several writers commit at once");
	rd_error_clear(&err);
	path = rd_test_db_path();
	a = rd_test_store_open(path);
	b = rd_test_store_open(path);
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_OK(add_event(a, 1, 1, "acme", "dispute.opened", 1, &err), &err);
	CHECK_OK(commit_event(b, 2, 2, "acme", "dispute.opened", 1, &err),
		 &err);
	CHECK_STR(feed(b, NULL, NULL, NULL, 10, next), "2");
	CHECK_OK(rd_store_commit(a, &err), &err);
	CHECK_STR(feed(b, next, NULL, NULL, 10, next), "1");
	rd_store_close(a);
	rd_store_close(b);
	free(path);
}

/* PostgreSQL: two workers leasing at once never take the same delivery. */
static void concurrent_leases_disjoint(void)
{
	char *path = NULL;
	rd_store *a, *b;
	rd_webhook_job *ja = NULL, *jb = NULL;
	size_t ca = 0, cb = 0, made = 0;
	rd_error err;

	RD_TEST_POSTGRES_ONLY("workers of several connections lease at once");
	rd_error_clear(&err);
	path = rd_test_db_path();
	a = rd_test_store_open(path);
	b = rd_test_store_open(path);
	CHECK_OK(add_endpoint(a, 1, "acme", "*", &err), &err);
	for (int n = 1; n <= 6; n++)
		CHECK_OK(commit_event(a, n, n, "acme", "dispute.opened", 1,
				      &err), &err);
	CHECK_OK(fanout(a, 5000, &made, &err), &err);
	CHECK_INT(made, 6);
	/* a's lease not yet committed: b passes over what a holds */
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_OK(rd_store_webhook_claim(a, 5000, 60, "lease-a", 4, &ja, &ca,
					&err), &err);
	CHECK_INT(ca, 4);
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_OK(rd_store_webhook_claim(b, 5000, 60, "lease-b", 32, &jb, &cb,
					&err), &err);
	CHECK_INT(cb, 2);
	for (size_t i = 0; i < ca; i++)
		for (size_t j = 0; j < cb; j++)
			CHECK(ja[i].n != jb[j].n);
	CHECK_OK(rd_store_commit(a, &err), &err);
	CHECK_OK(rd_store_commit(b, &err), &err);
	rd_webhook_jobs_free(ja, ca);
	rd_webhook_jobs_free(jb, cb);
	rd_store_close(a);
	rd_store_close(b);
	free(path);
}

int main(void)
{
	RUN(feed_reads_in_order);
	RUN(fanout_takes_its_own);
	RUN(leases_keep_order);
	RUN(log_and_retry);
	RUN(delete_and_purge);
	RUN(late_commit_not_passed);
	RUN(concurrent_leases_disjoint);
	return rd_test_summary();
}
