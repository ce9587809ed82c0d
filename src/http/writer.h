/*
 * Group commit (writer.c): the routes that write a dispute (opening one,
 * applying an event) are not run on the request threads but queued for
 * the server's one writer thread, which takes everything queued, runs each
 * in a savepoint of one transaction (rd_store_batch_*) and commits them
 * all with one flush. Only then is each request answered, with its own
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

/* The most changes in one transaction, and the most queued. */
#define HTTP_WRITER_BATCH 64
#define HTTP_WRITER_QUEUE 4096

/*
 * Start the writer thread; it opens its service with `service` (borrowed
 * until http_writer_free), and its failure to do so is this call's.
 */
int http_writer_new(http_writer **out, const rd_service_options *service,
		    rd_error *err);

/*
 * Stop: the changes still queued are answered RD_EBUSY (503), the batch
 * under way finishes, the thread is joined and every waiting connection
 * resumed. NULL allowed.
 */
void http_writer_stop(http_writer *w);
void http_writer_free(http_writer *w);

/*
 * Queue `run(ctx, call, err)` and suspend conn until it has run in a
 * committed (or failed) batch: call->svc is the writer's service while it
 * runs. RD_OK with *out (free with http_write_job_free once answered);
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

/* Batches committed, and changes in them, since the start (for metrics). */
void http_writer_counts(http_writer *w, uint64_t *batches,
			uint64_t *changes);

#endif
