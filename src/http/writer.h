/*
 * Group commit (writer.c): the routes that write a dispute (opening one,
 * applying an event) are not run on the request threads but queued for
 * one of the server's writer threads (its lanes: one on the embedded
 * record, which has one writer at a time; several on PostgreSQL, a
 * dispute always on the same one), which takes everything queued, runs
 * each in a savepoint of one transaction (rd_store_batch_*) and commits
 * them all with one flush. Only then is each request answered, with its own
 * result: a change that failed fails alone, and if the flush fails every
 * change of the batch is answered with that failure.
 *
 * The request's connection is suspended while its change waits; it is
 * resumed once its answer is there. Only server.c uses this.
 */
#ifndef REDRESS_HTTP_WRITER_H
#define REDRESS_HTTP_WRITER_H

#include <microhttpd.h>

#include "http/http_int.h"

typedef struct http_writer http_writer;
typedef struct http_write_job http_write_job;

/* The most changes in one transaction, and the most queued, a lane. */
#define HTTP_WRITER_BATCH 64
#define HTTP_WRITER_QUEUE 4096
/* The most lanes. */
#define HTTP_WRITER_LANES_MAX 32

/*
 * Start `lanes` writer threads (1 to HTTP_WRITER_LANES_MAX); each opens
 * its service with `service` (borrowed until http_writer_free), and the
 * failure of one to do so is this call's.
 */
int http_writer_new(http_writer **out, const rd_service_options *service,
		    unsigned lanes, rd_error *err);

/*
 * Stop: the changes still queued are answered RD_EBUSY (503), the batch
 * under way finishes, the thread is joined and every waiting connection
 * resumed. NULL allowed.
 */
void http_writer_stop(http_writer *w);
void http_writer_free(http_writer *w);

/*
 * Queue `run(ctx, call, err)` on the lane of call->params[0] (the
 * dispute's id; empty for an opening) and suspend conn until it has run
 * in a committed (or failed) batch: call->svc is the lane's service while
 * it runs. RD_OK with *out (free with http_write_job_free once answered);
 * RD_EBUSY when the queue is full or the writer stops (not suspended).
 * Call from the access handler only.
 */
int http_writer_submit(http_write_job **out, http_writer *w,
		       struct MHD_Connection *conn, http_call *call,
		       int (*run)(void *ctx, http_call *call, rd_error *err),
		       void *ctx, rd_error *err);

/*
 * 1 once the job's change has its answer (its rc and err filled), else 0
 * and the connection is suspended again.
 */
int http_write_job_done(http_write_job *job, int *rc, rd_error *err);

void http_write_job_free(http_write_job *job);

/*
 * Run count changes that belong to no connection (a bulk request's items,
 * each on the lane of its dispute disputes[i], "" for none) and wait until
 * every one has run in a committed (or failed) batch: run(ctxs[i],
 * calls[i], ...), calls[i]->svc being the lane's service meanwhile; its
 * result into rcs[i] and errs[i] (RD_EBUSY, nothing done, when a lane's
 * queue is full or the writer stops). The items queue among everyone
 * else's changes, so a large bulk never holds a lane for long. Call from a
 * thread that is no writer's (a slow-work thread): it blocks.
 */
int http_writer_run_all(http_writer *writer, size_t count,
			const char *const *disputes, http_call *const *calls,
			int (*run)(void *ctx, http_call *call, rd_error *err),
			void *const *ctxs, int *rcs, rd_error *errs,
			rd_error *err);

#endif
