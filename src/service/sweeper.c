/*
 * The SLA sweeper thread of `redress serve`: rd_service_sweep (the code of
 * `redress sweep`) at an interval, on a thread of thread.c with a service
 * of its own.
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
	svc_thread *thread;
	rd_clock_fn clock;
	pthread_mutex_t lock;       /* guards status */
	rd_sweeper_status status;
};

/* One sweep on the thread's service (svc_round_fn): then sleep. */
static int sweep_once(rd_service *svc, void *ctx, int (*stopping)(void *),
		      void *stop_ctx)
{
	rd_sweeper *sw = ctx;
	size_t fired = 0;
	int64_t now = 0;
	rd_error err;
	int rc;

	rd_error_clear(&err);
	rc = sw->clock(&now, &err);
	if (rc == RD_OK)
		rc = rd_service_sweep_until(svc, now, stopping, stop_ctx,
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
	return 0;
}

int rd_sweeper_start(rd_sweeper **out, const rd_service_options *opts,
		     uint64_t interval_ms, rd_clock_fn clock, rd_error *err)
{
	rd_sweeper *sw = NULL;
	int64_t now;
	int rc;

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
	sw->clock = clock;
	if (pthread_mutex_init(&sw->lock, NULL) != 0) {
		free(sw);
		return rd_error_set(err, RD_ENOMEM, "cannot make a mutex");
	}
	if ((rc = svc_thread_start(&sw->thread, opts, interval_ms, sweep_once,
				   sw, "sweeper", err)) < 0) {
		pthread_mutex_destroy(&sw->lock);
		free(sw);
		return rc;
	}
	*out = sw;
	return RD_OK;
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
	svc_thread_stop(sw->thread);
	pthread_mutex_destroy(&sw->lock);
	free(sw);
}
