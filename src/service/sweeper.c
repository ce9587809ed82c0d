/*
 * The SLA sweeper thread of `redress serve`: rd_service_sweep (the code of
 * `redress sweep`) at an interval, on a service of its own, since a
 * service is used by one thread at a time. It sleeps on a condition
 * variable timed on the monotonic clock, so that stopping it wakes it at
 * once and a change of the wall clock neither hurries nor stalls it.
 *
 * The service is opened and closed in the thread itself: libgit2 keeps
 * per-thread state that is released when its thread ends, and a thread
 * that is not the one closing the last user of the library would leave it
 * behind. rd_sweeper_start still reports a failure to open.
 *
 * It must never print or exit: a failed sweep is counted and kept for the
 * caller to report, and the next interval tries again.
 */
#include "service_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redress/clock.h"

struct rd_sweeper {
	rd_service *svc;            /* the thread's own, opened there */
	const rd_service_options *opts;  /* borrowed until it is opened */
	uint64_t interval_ms;
	rd_clock_fn clock;
	pthread_t thread;
	pthread_mutex_t lock;       /* guards what follows */
	pthread_cond_t wake;        /* timed on CLOCK_MONOTONIC */
	int opened;                 /* 1: open_rc and open_err are set */
	int open_rc;
	rd_error open_err;
	int stopping;
	rd_sweeper_status status;
};

static int is_stopping(void *ctx)
{
	rd_sweeper *sw = ctx;
	int stopping;

	pthread_mutex_lock(&sw->lock);
	stopping = sw->stopping;
	pthread_mutex_unlock(&sw->lock);
	return stopping;
}

static void sweep_once(rd_sweeper *sw)
{
	size_t fired = 0;
	int64_t now = 0;
	rd_error err;
	int rc;

	rd_error_clear(&err);
	rc = sw->clock(&now, &err);
	if (rc == RD_OK)
		rc = rd_service_sweep_until(sw->svc, now, is_stopping, sw,
					    &fired, &err);
	pthread_mutex_lock(&sw->lock);
	sw->status.sweeps++;
	sw->status.fired += fired;
	if (rc < 0) {
		sw->status.failures++;
		sw->status.last_failure_at = now;
		sw->status.last_error = err;
	}
	pthread_mutex_unlock(&sw->lock);
}

/* now + ms on the monotonic clock */
static struct timespec deadline_after(uint64_t ms)
{
	struct timespec at;

	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_sec += (time_t)(ms / 1000);
	at.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	return at;
}

static void *sweeper_main(void *arg)
{
	rd_sweeper *sw = arg;
	rd_error err;
	int rc, stopping = 0;

	rd_error_clear(&err);
	rc = rd_service_open(&sw->svc, sw->opts, &err);
	pthread_mutex_lock(&sw->lock);
	sw->opened = 1;
	sw->open_rc = rc;
	sw->open_err = err;
	pthread_cond_broadcast(&sw->wake);
	pthread_mutex_unlock(&sw->lock);
	if (rc < 0)
		return NULL;

	while (!stopping) {
		struct timespec next;

		sweep_once(sw);
		next = deadline_after(sw->interval_ms);
		pthread_mutex_lock(&sw->lock);
		/* 0 is a signal or a spurious wake-up: sleep on */
		while (!sw->stopping &&
		       pthread_cond_timedwait(&sw->wake, &sw->lock, &next) == 0)
			;
		stopping = sw->stopping;
		pthread_mutex_unlock(&sw->lock);
	}
	rd_service_close(sw->svc);
	sw->svc = NULL;
	return NULL;
}

int rd_sweeper_start(rd_sweeper **out, const rd_service_options *opts,
		     uint64_t interval_ms, rd_clock_fn clock, rd_error *err)
{
	rd_sweeper *sw = NULL;
	pthread_condattr_t attr;
	int64_t now;
	int rc, lock_made = 0, cond_made = 0;

	*out = NULL;
	if (interval_ms == 0)
		return rd_error_set_field(err, RD_EUSAGE, "interval",
					  "a sweep interval must be above 0");
	if (!clock)
		clock = rd_clock_now;
	/* A REDRESS_NOW that does not parse is refused now, not each sweep. */
	if ((rc = clock(&now, err)) < 0)
		return rc;
	if (!(sw = calloc(1, sizeof(*sw))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	sw->interval_ms = interval_ms;
	sw->clock = clock;
	if (pthread_mutex_init(&sw->lock, NULL) != 0) {
		rc = rd_error_set(err, RD_ENOMEM, "cannot make a mutex");
		goto fail;
	}
	lock_made = 1;
	if (pthread_condattr_init(&attr) != 0) {
		rc = rd_error_set(err, RD_ENOMEM,
				  "cannot make a condition variable");
		goto fail;
	}
	cond_made = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
		    pthread_cond_init(&sw->wake, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!cond_made) {
		rc = rd_error_set(err, RD_ENOMEM,
				  "cannot make a condition variable on the "
				  "monotonic clock");
		goto fail;
	}
	sw->opts = opts;
	if (pthread_create(&sw->thread, NULL, sweeper_main, sw) != 0) {
		rc = rd_error_set(err, RD_ENOMEM,
				  "cannot start the sweeper thread");
		goto fail;
	}
	/* Wait for the thread to open its service, or to fail to. */
	pthread_mutex_lock(&sw->lock);
	while (!sw->opened)
		pthread_cond_wait(&sw->wake, &sw->lock);
	rc = sw->open_rc;
	pthread_mutex_unlock(&sw->lock);
	sw->opts = NULL;
	if (rc < 0) {
		*err = sw->open_err;
		pthread_join(sw->thread, NULL);
		goto fail;
	}
	*out = sw;
	return RD_OK;
fail:
	if (cond_made)
		pthread_cond_destroy(&sw->wake);
	if (lock_made)
		pthread_mutex_destroy(&sw->lock);
	free(sw);
	return rc;
}

void rd_sweeper_status_get(rd_sweeper *sw, rd_sweeper_status *out)
{
	pthread_mutex_lock(&sw->lock);
	*out = sw->status;
	pthread_mutex_unlock(&sw->lock);
}

void rd_sweeper_stop(rd_sweeper *sw)
{
	if (!sw)
		return;
	pthread_mutex_lock(&sw->lock);
	sw->stopping = 1;
	pthread_cond_signal(&sw->wake);
	pthread_mutex_unlock(&sw->lock);
	pthread_join(sw->thread, NULL);
	pthread_cond_destroy(&sw->wake);
	pthread_mutex_destroy(&sw->lock);
	free(sw);
}
