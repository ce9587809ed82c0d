/*
 * Group commit: the writer threads of a server (its lanes), each with its
 * own rd_service, run the queued writes in batches. See writer.h.
 *
 * The writer never waits for a batch to fill: it takes what is queued
 * when it becomes free, so at low load a batch is one change and its
 * latency one flush, and under load the batch grows while the previous
 * one flushes. The queue is first in, first out, so two changes of one
 * dispute keep their order (a later one sees the earlier one's rows in
 * the same transaction, and the version compare-and-swap still refuses a
 * stale If-Match). With several lanes (a PostgreSQL record) a dispute's
 * changes always go to the same lane, chosen by a hash of its id, so that
 * this holds still; an opening goes to the next lane in turn. Every wait
 * and count of a lane is under its lock; the order is the lane's lock,
 * then libmicrohttpd's own (suspend, resume).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/ratelimit.h"
#include "http/writer.h"
#include "redress/store.h"

typedef struct lane lane;

struct http_write_job {
	lane *w;
	struct MHD_Connection *conn;
	http_call *call;
	int (*run)(void *ctx, http_call *call, rd_error *err);
	void *ctx;
	http_write_job *next;         /* the queue */
	int done;
	int suspended;
	int rc;
	rd_error err;
	struct write_group *group;    /* a job of http_writer_run_all */
};

/*
 * The jobs of one http_writer_run_all: its caller waits for `remaining`
 * to reach 0 (the lock is taken after a lane's, never before).
 */
typedef struct write_group {
	pthread_mutex_t lock;
	pthread_cond_t done;
	size_t remaining;
} write_group;

struct lane {
	const rd_service_options *service;
	rd_service *svc;              /* the thread's own */
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t work;          /* a job queued, or stopping */
	pthread_cond_t opened_cond;
	int opened, open_rc;
	rd_error open_err;
	int stopping;
	http_write_job *head, *tail;  /* queued */
	unsigned queued;
};

struct http_writer {
	lane *lanes;
	unsigned count;
	atomic_uint next;             /* the lane of the next opening */
};

/* The job has its answer: let its connection go on (under w->lock). */
static void finish(http_write_job *job, int rc, const rd_error *err)
{
	job->rc = rc;
	if (rc < 0)
		job->err = *err;
	job->done = 1;
	if (job->group) {
		pthread_mutex_lock(&job->group->lock);
		job->group->remaining--;
		pthread_cond_broadcast(&job->group->done);
		pthread_mutex_unlock(&job->group->lock);
		return;
	}
	if (job->suspended) {
		job->suspended = 0;
		MHD_resume_connection(job->conn);
	}
}

/* A change that ran but was not committed: its answer is the failure. */
static void undo_answer(http_write_job *job)
{
	json_decref(job->call->reply);
	job->call->reply = NULL;
	job->call->status = 0;
	job->call->etag[0] = '\0';
	job->call->location[0] = '\0';
	job->call->replayed = 0;
}

static void run_batch(lane *w, http_write_job *batch)
{
	rd_store *st = rd_service_store(w->svc);
	http_write_job *job;
	rd_error err;
	int lost = 0;  /* an earlier change of the batch lost the database */
	int rc;

	rd_error_clear(&err);
	rc = rd_store_batch_begin(st, &err);
	for (job = batch; rc == RD_OK && job; job = job->next) {
		rd_error_clear(&job->err);
		if (!rd_store_batch_alive(st)) {
			/*
			 * The database ended the transaction: the batch is
			 * lost. When it went away (an earlier change met
			 * it, or the connection is found lost), the answer
			 * is the same 503 (retry later), not a failure of
			 * redress.
			 */
			rc = lost || rd_store_batch_lost(st)
				? rd_error_set(&err, RD_EUNAVAILABLE,
					"the database was lost during this "
					"change's transaction; nothing of it "
					"was recorded: retry later")
				: rd_error_set(&err, RD_EIO,
					"the transaction of this change ended "
					"after an error; nothing of it was "
					"recorded");
			break;
		}
		job->call->svc = w->svc;
		job->rc = job->run(job->ctx, job->call, &job->err);
		if (job->rc == RD_EUNAVAILABLE)
			lost = 1;
	}
	if (rc == RD_OK)
		rc = rd_store_batch_commit(st, &err);
	else
		rd_store_batch_rollback(st);
	pthread_mutex_lock(&w->lock);
	for (job = batch; job;) {
		http_write_job *next = job->next;

		job->next = NULL;
		if (rc < 0 && job->rc == RD_OK)
			undo_answer(job);
		if (rc < 0)
			finish(job, job->rc < 0 ? job->rc : rc,
			       job->rc < 0 ? &job->err : &err);
		else
			finish(job, job->rc, &job->err);
		job = next;
	}
	pthread_mutex_unlock(&w->lock);
}

static void *writer_main(void *arg)
{
	lane *w = arg;
	rd_error err;
	int rc;

	(void)pthread_setname_np(pthread_self(), "rd-writer");
	rd_error_clear(&err);
	rc = rd_service_open(&w->svc, w->service, &err);
	pthread_mutex_lock(&w->lock);
	w->opened = 1;
	w->open_rc = rc;
	w->open_err = err;
	pthread_cond_broadcast(&w->opened_cond);
	while (rc == RD_OK && !w->stopping) {
		http_write_job *batch, *last;
		size_t count = 1;

		if (!w->head) {
			pthread_cond_wait(&w->work, &w->lock);
			continue;
		}
		/* everything queued, up to a batch, oldest first */
		batch = last = w->head;
		while (count < HTTP_WRITER_BATCH && last->next) {
			last = last->next;
			count++;
		}
		w->head = last->next;
		if (!w->head)
			w->tail = NULL;
		last->next = NULL;
		w->queued -= (unsigned)count;
		pthread_mutex_unlock(&w->lock);
		run_batch(w, batch);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	rd_service_close(w->svc);
	w->svc = NULL;
	return NULL;
}

/* Start a lane's thread and wait until it has opened its service. */
static int lane_start(lane *w, const rd_service_options *service,
		      rd_error *err)
{
	int rc;

	w->service = service;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->opened_cond, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		return rd_error_set(err, RD_ENOMEM, "cannot start a writer "
				    "thread");
	w->started = 1;
	pthread_mutex_lock(&w->lock);
	while (!w->opened)
		pthread_cond_wait(&w->opened_cond, &w->lock);
	rc = w->open_rc;
	if (rc < 0)
		*err = w->open_err;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

static void lane_stop(lane *w)
{
	rd_error err;

	rd_error_clear(&err);
	rd_error_set(&err, RD_EBUSY, "the server is stopping; nothing of "
		     "this change was recorded: retry it");
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	while (w->head) {
		http_write_job *job = w->head;

		w->head = job->next;
		job->next = NULL;
		finish(job, RD_EBUSY, &err);
	}
	w->tail = NULL;
	w->queued = 0;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = 0;
}

int http_writer_new(http_writer **out, const rd_service_options *service,
		    unsigned lanes, rd_error *err)
{
	http_writer *w = calloc(1, sizeof(*w));
	int rc = RD_OK;

	*out = NULL;
	if (lanes < 1 || lanes > HTTP_WRITER_LANES_MAX) {
		free(w);
		return rd_error_set(err, RD_EUSAGE, "writers must be 1 to %d",
				    HTTP_WRITER_LANES_MAX);
	}
	if (!w || !(w->lanes = calloc(lanes, sizeof(*w->lanes)))) {
		free(w);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	atomic_init(&w->next, 0);
	for (w->count = 0; w->count < lanes && rc == RD_OK; w->count++)
		rc = lane_start(&w->lanes[w->count], service, err);
	if (rc < 0) {
		http_writer_stop(w);
		http_writer_free(w);
		return rc;
	}
	*out = w;
	return RD_OK;
}

void http_writer_stop(http_writer *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->count; i++)
		lane_stop(&w->lanes[i]);
}

void http_writer_free(http_writer *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->count; i++) {
		pthread_mutex_destroy(&w->lanes[i].lock);
		pthread_cond_destroy(&w->lanes[i].work);
		pthread_cond_destroy(&w->lanes[i].opened_cond);
	}
	free(w->lanes);
	free(w);
}

/*
 * The lane of a change: a dispute's always the same one (a hash of its
 * id), an opening (no id yet) the next in turn.
 */
static lane *lane_of(http_writer *w, const char *dispute)
{
	if (w->count == 1)
		return &w->lanes[0];
	if (!dispute || !dispute[0])
		return &w->lanes[atomic_fetch_add(&w->next, 1) % w->count];
	return &w->lanes[http_hash_text(dispute) % w->count];
}

/*
 * Queue job at the end of lane w, whose lock the caller holds (so that
 * what it does to the job after, such as suspending its connection,
 * happens before the writer can take it): 0, or -1 when the lane is full
 * or stopping, nothing queued.
 */
static int lane_push(lane *w, http_write_job *job)
{
	if (w->stopping || w->queued >= HTTP_WRITER_QUEUE)
		return -1;
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	w->queued++;
	pthread_cond_signal(&w->work);
	return 0;
}

int http_writer_submit(http_write_job **out, http_writer *writer,
		       struct MHD_Connection *conn, http_call *call,
		       int (*run)(void *ctx, http_call *call, rd_error *err),
		       void *ctx, rd_error *err)
{
	http_write_job *job = calloc(1, sizeof(*job));
	lane *w = lane_of(writer, call->params[0]);

	*out = NULL;
	if (!job)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	job->w = w;
	job->conn = conn;
	job->call = call;
	job->run = run;
	job->ctx = ctx;
	pthread_mutex_lock(&w->lock);
	if (lane_push(w, job) < 0) {
		pthread_mutex_unlock(&w->lock);
		free(job);
		return rd_error_set(err, RD_EBUSY, "the server has %u changes "
				    "waiting to be written, its limit, or is "
				    "stopping; retry in a moment",
				    HTTP_WRITER_QUEUE);
	}
	job->suspended = 1;
	MHD_suspend_connection(conn);
	pthread_mutex_unlock(&w->lock);
	*out = job;
	return RD_OK;
}

int http_write_job_done(http_write_job *job, int *rc, rd_error *err)
{
	lane *w = job->w;
	int done;

	pthread_mutex_lock(&w->lock);
	done = job->done;
	if (done) {
		*rc = job->rc;
		if (job->rc < 0)
			*err = job->err;
	} else {
		job->suspended = 1;
		MHD_suspend_connection(job->conn);
	}
	pthread_mutex_unlock(&w->lock);
	return done;
}

void http_write_job_free(http_write_job *job)
{
	free(job);
}


int http_writer_run_all(http_writer *writer, size_t count,
			const char *const *disputes, http_call *const *calls,
			int (*run)(void *ctx, http_call *call, rd_error *err),
			void *const *ctxs, int *rcs, rd_error *errs,
			rd_error *err)
{
	http_write_job *jobs = calloc(count ? count : 1, sizeof(*jobs));
	write_group group;

	if (!jobs)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	pthread_mutex_init(&group.lock, NULL);
	pthread_cond_init(&group.done, NULL);
	group.remaining = count;
	for (size_t i = 0; i < count; i++) {
		http_write_job *job = &jobs[i];
		lane *w = lane_of(writer, disputes[i]);

		job->w = w;
		job->call = calls[i];
		job->run = run;
		job->ctx = ctxs[i];
		job->group = &group;
		pthread_mutex_lock(&w->lock);
		if (lane_push(w, job) < 0) {
			rd_error busy;

			rd_error_clear(&busy);
			rd_error_set(&busy, RD_EBUSY, "the server has %u "
				     "changes waiting to be written, its "
				     "limit, or is stopping; nothing of this "
				     "change was recorded: retry it",
				     HTTP_WRITER_QUEUE);
			finish(job, RD_EBUSY, &busy);
		}
		pthread_mutex_unlock(&w->lock);
	}
	pthread_mutex_lock(&group.lock);
	while (group.remaining > 0)
		pthread_cond_wait(&group.done, &group.lock);
	pthread_mutex_unlock(&group.lock);
	for (size_t i = 0; i < count; i++) {
		rcs[i] = jobs[i].rc;
		if (jobs[i].rc < 0)
			errs[i] = jobs[i].err;
		else
			rd_error_clear(&errs[i]);
	}
	pthread_cond_destroy(&group.done);
	pthread_mutex_destroy(&group.lock);
	free(jobs);
	return RD_OK;
}
