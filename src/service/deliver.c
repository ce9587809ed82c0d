/*
 * The delivery of webhooks: a round fans new events out to the endpoints
 * that take them, leases the deliveries that are due, sends them all at
 * once (src/webhook/, outside any transaction) and records each outcome.
 * Every node of a PostgreSQL deployment runs rounds; the leases and the
 * locks of the fan-out (store/webhooks.c) keep any delivery from going
 * out twice at once, and a node that dies mid-send only delays its
 * deliveries by the lease.
 *
 * Outcomes: a 2xx answer is success; 410 Gone fails the delivery and
 * disables its endpoint; anything else is tried again on the schedule of
 * rd_webhook_retry_delay (a later Retry-After of the receiver wins), and
 * fails for good once the schedule is spent. An endpoint that has had no
 * success for RD_WEBHOOK_FAILING_MAX_S is disabled, saying why.
 *
 * The clock of all this is the system's (svc_webhook_clock), not
 * REDRESS_NOW: the receiver checks a delivery's timestamp against its own
 * clock, and a retry is due in real time. Events are kept by the clock
 * they were made with (rd_clock_now).
 */
#include "service_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redress/clock.h"
#include "redress/store.h"
#include "redress/webhook.h"

/* Deliveries leased per round, and how long a lease lasts. */
#define ROUND_DELIVERIES 32
#define LEASE_S 60
/* Events fanned out per endpoint per round. */
#define FANOUT_EVENTS 500
/* A round fans out at least this often even when the outbox seems still. */
#define FANOUT_EVERY_S 5
/* Old events and finished deliveries are removed once an hour. */
#define PURGE_EVERY_S 3600

/* Process-wide counts of attempts by outcome, for /metrics. */
static _Atomic uint64_t counts[RD_DELIVERY_OUTCOMES];

void rd_webhook_counts_get(uint64_t out[RD_DELIVERY_OUTCOMES])
{
	for (int i = 0; i < RD_DELIVERY_OUTCOMES; i++)
		out[i] = atomic_load_explicit(&counts[i],
					      memory_order_relaxed);
}

const char *rd_delivery_outcome_name(rd_delivery_outcome outcome)
{
	static const char *const names[RD_DELIVERY_OUTCOMES] = {
		"delivered", "retry", "failed",
	};

	return (int)outcome >= 0 && outcome < RD_DELIVERY_OUTCOMES
		       ? names[outcome] : NULL;
}

int svc_webhook_clock(int64_t *out, rd_error *err)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return rd_error_set(err, RD_EIO, "the system clock cannot be "
				    "read");
	*out = (int64_t)ts.tv_sec;
	return RD_OK;
}

void rd_delivery_judge(rd_delivery_verdict *out,
		       const rd_webhook_result *res, int64_t tries,
		       int64_t failing_since, int64_t now, uint64_t random)
{
	char when[RD_TIME_BUFSZ];
	int64_t delay;

	memset(out, 0, sizeof(*out));
	if (res->status >= 200 && res->status <= 299 && !res->error[0]) {
		out->outcome = RD_DELIVERY_DELIVERED;
		return;
	}
	if (res->status == 410) {
		out->outcome = RD_DELIVERY_FAILED;
		out->disable = 1;
		rd_time_format(when, now);
		snprintf(out->reason, sizeof(out->reason), "the endpoint "
			 "answered 410 Gone at %s: it asked not to be sent "
			 "anything more", when);
		return;
	}
	delay = rd_webhook_retry_delay((int)(tries < 1000 ? tries + 1 : 1000),
				       random);
	if (delay < 0) {
		out->outcome = RD_DELIVERY_FAILED;
	} else {
		if (res->retry_after_s > delay)
			delay = res->retry_after_s < RD_WEBHOOK_RETRY_AFTER_MAX_S
					? res->retry_after_s
					: RD_WEBHOOK_RETRY_AFTER_MAX_S;
		out->outcome = RD_DELIVERY_RETRY;
		out->next_at = now + delay;
	}
	if (failing_since && now - failing_since >= RD_WEBHOOK_FAILING_MAX_S) {
		out->disable = 1;
		rd_time_format(when, failing_since);
		snprintf(out->reason, sizeof(out->reason), "no delivery "
			 "succeeded since %s (5 days): last %.160s", when,
			 res->error[0] ? res->error : "answer not 2xx");
	}
}

/* ---- one round ---- */

/* What a worker remembers between rounds. */
struct rd_webhook_state {
	rd_webhook_options opts;
	int64_t lease_s;          /* LEASE_S; REDRESS_TEST_WEBHOOK_LEASE_S */
	char fanned_to[RD_OUTBOX_CURSOR_BUFSZ]; /* the outbox's end then */
	int64_t fanned_at;
	int64_t purged_at;
};

static int purge(rd_service *svc, rd_webhook_state *state, int64_t now,
		 rd_error *err)
{
	int64_t business_now = 0;
	size_t removed = 0;
	int rc;

	if (now - state->purged_at < PURGE_EVERY_S)
		return RD_OK;
	if ((rc = rd_clock_now(&business_now, err)) < 0 ||
	    (rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_outbox_purge(svc->store,
					business_now - RD_OUTBOX_KEEP_S,
					now - RD_OUTBOX_KEEP_S, &removed,
					err)) < 0 ||
	    (rc = svc_commit_aside(svc, err)) < 0) {
		svc_rollback(svc);
		return rc;
	}
	state->purged_at = now;
	return RD_OK;
}

/*
 * Fan the events committed since the last round out to the endpoints
 * (none to do, no write transaction: on the embedded record it would
 * take the writer's lock from the requests every round).
 */
static int fanout(rd_service *svc, rd_webhook_state *state, int endpoints,
		  int64_t now, size_t *made, rd_error *err)
{
	char end[RD_OUTBOX_CURSOR_BUFSZ];
	int rc;

	*made = 0;
	if (!endpoints)
		return RD_OK;
	if ((rc = rd_store_outbox_end(svc->store, end, err)) < 0)
		return rc;
	if (strcmp(end, state->fanned_to) == 0 &&
	    now - state->fanned_at < FANOUT_EVERY_S)
		return RD_OK;
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_webhook_fanout(svc->store, now, FANOUT_EVENTS,
					  made, err)) < 0 ||
	    (rc = svc_commit_aside(svc, err)) < 0) {
		svc_rollback(svc);
		return rc;
	}
	snprintf(state->fanned_to, sizeof(state->fanned_to), "%s", end);
	state->fanned_at = now;
	return RD_OK;
}

/* Disable an endpoint, saying why (inside the open transaction). */
static int endpoint_disable(rd_service *svc, const char *id,
			    const char *reason, int64_t now, rd_error *err)
{
	rd_webhook_endpoint ep;
	int rc;

	if ((rc = rd_store_webhook_get(svc->store, id, &ep, err)) < 0)
		return rc == RD_ENOTFOUND ? RD_OK : rc;  /* removed meanwhile */
	if (!ep.enabled)
		return RD_OK;
	ep.enabled = 0;
	snprintf(ep.disabled_reason, sizeof(ep.disabled_reason), "%s", reason);
	ep.updated_at = now;
	return rd_store_webhook_update(svc->store, &ep, err);
}

/* Record what came of one job (inside the open transaction). */
static int record(rd_service *svc, const char *lease,
		  const rd_webhook_job *job, const rd_webhook_result *res,
		  int64_t now, uint64_t random, rd_error *err)
{
	rd_delivery_verdict verdict;
	rd_webhook_attempt attempt;
	int64_t since = 0;
	int ok = res->status >= 200 && res->status <= 299 && !res->error[0];
	int kept = 0;
	int rc;

	if (!job->payload) {
		/* nothing to send, ever: no fault of the endpoint's */
		memset(&verdict, 0, sizeof(verdict));
		verdict.outcome = RD_DELIVERY_FAILED;
	} else {
		if ((rc = rd_store_webhook_failing(svc->store,
						   job->endpoint_id, ok, now,
						   &since, err)) < 0)
			return rc;
		rd_delivery_judge(&verdict, res, job->tries, since, now,
				  random);
	}
	memset(&attempt, 0, sizeof(attempt));
	attempt.at = now;
	attempt.status_code = res->status;
	attempt.latency_ms = res->latency_ms;
	attempt.next_at = verdict.next_at;
	snprintf(attempt.answer, sizeof(attempt.answer), "%s", res->answer);
	snprintf(attempt.error, sizeof(attempt.error), "%s", res->error);
	if ((rc = rd_store_webhook_attempt_add(svc->store, job->n, lease,
					       &attempt,
					       verdict.outcome ==
							       RD_DELIVERY_DELIVERED
						       ? "delivered"
					       : verdict.outcome ==
							       RD_DELIVERY_RETRY
						       ? "pending"
						       : "failed",
					       &kept, err)) < 0)
		return rc;
	if (!kept)
		return RD_OK;  /* the lease ran out: another worker has it */
	atomic_fetch_add_explicit(&counts[verdict.outcome], 1,
				  memory_order_relaxed);
	if (verdict.disable)
		return endpoint_disable(svc, job->endpoint_id, verdict.reason,
					now, err);
	return RD_OK;
}

/* Send the jobs, then record every outcome in one transaction. */
static int send_jobs(rd_service *svc, rd_webhook_state *state,
		     const char *lease, const rd_webhook_job *jobs,
		     size_t count, int64_t now, rd_error *err)
{
	rd_webhook_request *reqs = calloc(count, sizeof(*reqs));
	rd_webhook_result *results = calloc(count, sizeof(*results));
	const char *(*secrets)[2] = calloc(count, sizeof(*secrets));
	size_t *sent = calloc(count, sizeof(*sent));
	uint64_t random[ROUND_DELIVERIES];
	size_t n = 0;
	int rc;

	if (!reqs || !results || !secrets || !sent) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = rd_random_bytes((uint8_t *)random, sizeof(random),
				   err)) < 0)
		goto done;
	for (size_t i = 0; i < count; i++) {
		const rd_webhook_job *job = &jobs[i];

		if (!job->payload) {
			snprintf(results[i].error, sizeof(results[i].error),
				 "the event is no longer kept (events are "
				 "kept %d days)", RD_OUTBOX_KEEP_S / 86400);
			results[i].retry_after_s = -1;
			continue;
		}
		secrets[i][0] = job->secret;
		secrets[i][1] = job->previous_secret;
		reqs[n].url = job->url;
		reqs[n].id = job->event_id;
		reqs[n].body = job->payload;
		reqs[n].body_len = strlen(job->payload);
		reqs[n].secrets = secrets[i];
		reqs[n].secret_count = job->previous_secret[0] ? 2 : 1;
		reqs[n].timestamp = now;
		sent[n++] = i;
	}
	if (n > 0) {
		rd_webhook_result *got = calloc(n, sizeof(*got));

		if (!got) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
		rc = rd_webhook_send(got, reqs, n, &state->opts, err);
		for (size_t k = 0; rc == RD_OK && k < n; k++)
			results[sent[k]] = got[k];
		free(got);
		if (rc < 0)
			goto done;
	}
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		goto done;
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		int64_t at = 0;

		/* each outcome at the time it is known: after the sends */
		if ((rc = svc_webhook_clock(&at, err)) == RD_OK)
			rc = record(svc, lease, &jobs[i], &results[i],
				    jobs[i].payload ? at : now,
				    random[i % ROUND_DELIVERIES], err);
	}
	if (rc == RD_OK)
		rc = svc_commit_aside(svc, err);
	if (rc < 0)
		svc_rollback(svc);
done:
	free(reqs);
	free(results);
	free(secrets);
	free(sent);
	return rc;
}

int rd_webhook_state_new(rd_webhook_state **out,
			 const rd_webhook_options *opts, rd_error *err)
{
	const char *lease;

	*out = calloc(1, sizeof(**out));
	if (!*out)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if (opts)
		(*out)->opts = *opts;
	(*out)->lease_s = LEASE_S;
	/* test-only: a shorter lease, for a test that kills a sender */
	if ((lease = getenv("REDRESS_TEST_WEBHOOK_LEASE_S")) != NULL &&
	    strtol(lease, NULL, 10) > 0)
		(*out)->lease_s = strtol(lease, NULL, 10);
	return RD_OK;
}

void rd_webhook_state_free(rd_webhook_state *state)
{
	free(state);
}

int rd_service_webhook_round(rd_service *svc, rd_webhook_state *state,
			     size_t *sent, rd_error *err)
{
	uint8_t token[16];
	char lease[33];
	rd_webhook_job *jobs = NULL;
	size_t count = 0, made = 0;
	int64_t now = 0, next_due = 0;
	int endpoints = 0;
	int rc;

	*sent = 0;
	if ((rc = svc_webhook_clock(&now, err)) < 0 ||
	    (rc = purge(svc, state, now, err)) < 0 ||
	    (rc = rd_store_webhook_work(svc->store, &endpoints, &next_due,
					err)) < 0 ||
	    (rc = fanout(svc, state, endpoints, now, &made, err)) < 0)
		return rc;
	/* what the fan-out just made is due now; else only if one is due */
	if (made == 0 && (!next_due || next_due > now))
		return RD_OK;
	if ((rc = rd_random_bytes(token, sizeof(token), err)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(token); i++)
		snprintf(lease + 2 * i, 3, "%02x", token[i]);
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_webhook_claim(svc->store, now, state->lease_s, lease,
					 ROUND_DELIVERIES, &jobs, &count,
					 err)) < 0 ||
	    (rc = svc_commit_aside(svc, err)) < 0) {
		svc_rollback(svc);
		rd_webhook_jobs_free(jobs, count);
		return rc;
	}
	if (count > 0) {
		svc_crash_point("webhook-leased");
		rc = send_jobs(svc, state, lease, jobs, count, now, err);
	}
	if (rc == RD_OK)
		*sent = count;
	rd_webhook_jobs_free(jobs, count);
	return rc;
}

/* ---- the worker thread of `redress serve` ---- */

struct rd_webhook_worker {
	svc_thread *thread;
	rd_webhook_state *state;
	pthread_mutex_t lock;      /* guards what follows */
	uint64_t failures;
	rd_error last_error;
};

/* One round (svc_round_fn): again at once when it had a full load. */
static int worker_round(rd_service *svc, void *ctx, int (*stopping)(void *),
			void *stop_ctx)
{
	rd_webhook_worker *w = ctx;
	size_t sent = 0;
	rd_error err;

	(void)stopping;
	(void)stop_ctx;
	rd_error_clear(&err);
	if (rd_service_webhook_round(svc, w->state, &sent, &err) < 0) {
		pthread_mutex_lock(&w->lock);
		w->failures++;
		w->last_error = err;
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
	return sent == ROUND_DELIVERIES;
}

int rd_webhook_worker_start(rd_webhook_worker **out,
			    const rd_service_options *opts,
			    const rd_webhook_options *webhook,
			    uint64_t interval_ms, rd_error *err)
{
	rd_webhook_worker *w = NULL;
	int rc;

	*out = NULL;
	if (interval_ms == 0)
		return rd_error_set_field(err, RD_EUSAGE, "interval",
					  "a delivery interval must be above "
					  "0");
	if (!(w = calloc(1, sizeof(*w))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		return rd_error_set(err, RD_ENOMEM, "cannot make a mutex");
	}
	if ((rc = rd_webhook_state_new(&w->state, webhook, err)) < 0 ||
	    (rc = svc_thread_start(&w->thread, opts, interval_ms, worker_round,
				   w, "webhook delivery", err)) < 0) {
		rd_webhook_state_free(w->state);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return rc;
	}
	*out = w;
	return RD_OK;
}

uint64_t rd_webhook_worker_failures(rd_webhook_worker *w, rd_error *last)
{
	uint64_t failures;

	pthread_mutex_lock(&w->lock);
	failures = w->failures;
	if (last)
		*last = w->last_error;
	pthread_mutex_unlock(&w->lock);
	return failures;
}

void rd_webhook_worker_stop(rd_webhook_worker *w)
{
	if (!w)
		return;
	svc_thread_stop(w->thread);
	rd_webhook_state_free(w->state);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
