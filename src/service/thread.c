/*
 * The background threads of `redress serve` (the SLA sweeper, the webhook
 * deliveries): each runs rounds of work on a service of its own, since a
 * service is used by one thread at a time, and sleeps between them on a
 * condition variable timed on the monotonic clock, so that stopping it
 * wakes it at once and a change of the wall clock neither hurries nor
 * stalls it.
 *
 * The service is opened and closed in the thread itself: libgit2 keeps
 * per-thread state that is released when its thread ends, and a thread
 * that is not the one closing the last user of the library would leave it
 * behind. svc_thread_start still reports a failure to open.
 */
#include "service_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct svc_thread {
	rd_service *svc;            /* the thread's own, opened there */
	const rd_service_options *opts;  /* borrowed until it is opened */
	uint64_t interval_ms;
	svc_round_fn round;
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;       /* guards what follows */
	pthread_cond_t wake;        /* timed on CLOCK_MONOTONIC */
	int opened;                 /* 1: open_rc and open_err are set */
	int open_rc;
	rd_error open_err;
	int stopping;
};

static int is_stopping(void *arg)
{
	svc_thread *t = arg;
	int stopping;

	pthread_mutex_lock(&t->lock);
	stopping = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return stopping;
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

static void *thread_main(void *arg)
{
	svc_thread *t = arg;
	rd_error err;
	int rc, stopping = 0;

	rd_error_clear(&err);
	rc = rd_service_open(&t->svc, t->opts, &err);
	pthread_mutex_lock(&t->lock);
	t->opened = 1;
	t->open_rc = rc;
	t->open_err = err;
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
	if (rc < 0)
		return NULL;

	while (!stopping) {
		struct timespec next;

		if (t->round(t->svc, t->ctx, is_stopping, t) > 0) {
			stopping = is_stopping(t);
			continue;  /* more to do at once */
		}
		next = deadline_after(t->interval_ms);
		pthread_mutex_lock(&t->lock);
		/* 0 is a signal or a spurious wake-up: sleep on */
		while (!t->stopping &&
		       pthread_cond_timedwait(&t->wake, &t->lock, &next) == 0)
			;
		stopping = t->stopping;
		pthread_mutex_unlock(&t->lock);
	}
	rd_service_close(t->svc);
	t->svc = NULL;
	return NULL;
}

int svc_thread_start(svc_thread **out, const rd_service_options *opts,
		     uint64_t interval_ms, svc_round_fn round, void *ctx,
		     const char *what, rd_error *err)
{
	svc_thread *t = NULL;
	pthread_condattr_t attr;
	int rc, lock_made = 0, cond_made = 0;

	*out = NULL;
	if (!(t = calloc(1, sizeof(*t))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	t->interval_ms = interval_ms;
	t->round = round;
	t->ctx = ctx;
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
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
		    pthread_cond_init(&t->wake, &attr) == 0;
	pthread_condattr_destroy(&attr);
	if (!cond_made) {
		rc = rd_error_set(err, RD_ENOMEM,
				  "cannot make a condition variable on the "
				  "monotonic clock");
		goto fail;
	}
	t->opts = opts;
	if (pthread_create(&t->thread, NULL, thread_main, t) != 0) {
		rc = rd_error_set(err, RD_ENOMEM, "cannot start the %s thread",
				  what);
		goto fail;
	}
	/* Wait for the thread to open its service, or to fail to. */
	pthread_mutex_lock(&t->lock);
	while (!t->opened)
		pthread_cond_wait(&t->wake, &t->lock);
	rc = t->open_rc;
	pthread_mutex_unlock(&t->lock);
	t->opts = NULL;
	if (rc < 0) {
		*err = t->open_err;
		pthread_join(t->thread, NULL);
		goto fail;
	}
	*out = t;
	return RD_OK;
fail:
	if (cond_made)
		pthread_cond_destroy(&t->wake);
	if (lock_made)
		pthread_mutex_destroy(&t->lock);
	free(t);
	return rc;
}

void svc_thread_stop(svc_thread *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
