/*
 * Slow work off the request threads (slow.c): a few threads of their own,
 * each with its own rd_service, run the routes that read a whole dispute
 * (export, verify, history, evidence downloads) while the request's
 * connection is suspended, so that the request threads stay free for
 * everyone else. A streamed answer (a download, an export) goes through a
 * bounded buffer that the client's reading drains: nothing is spooled.
 *
 * What one key may have under way at once is bounded, and so is the
 * whole; a connection never waits suspended longer than the slow timeout.
 * Only server.c uses this; it names libmicrohttpd, handlers do not.
 */
#ifndef REDRESS_HTTP_SLOW_H
#define REDRESS_HTTP_SLOW_H

#include <microhttpd.h>

#include "http/http_int.h"

typedef struct http_slow_pool http_slow_pool;
typedef struct http_slow_job http_slow_job;

/* The bounds (rd_http_options; 0 everywhere: the defaults below). */
typedef struct http_slow_limits {
	unsigned threads;          /* threads running slow work */
	unsigned per_key;          /* slow requests of one key under way */
	unsigned exports_per_key;  /* exports of one key under way */
	unsigned queue;            /* slow requests under way in all */
	unsigned timeout_s;        /* longest wait for a job or its bytes */
} http_slow_limits;

/*
 * Start the threads (they open their services on first use, with
 * `service`, which is borrowed until http_slow_pool_free). Limits of 0
 * take the defaults of redress/http.h.
 */
int http_slow_pool_new(http_slow_pool **out, const http_slow_limits *limits,
		       const rd_service_options *service, rd_error *err);

/*
 * Stop: every job still queued is answered 503, every producer told to
 * stop, the threads joined, and every suspended connection resumed; from
 * then on nothing suspends a connection again, so that the daemon may
 * stop. NULL allowed.
 */
void http_slow_pool_stop(http_slow_pool *pool);
void http_slow_pool_free(http_slow_pool *pool);

/* Why a job was refused. */
enum http_slow_refusal {
	HTTP_SLOW_KEY_FULL = 1,    /* the key's bound: 429 */
	HTTP_SLOW_POOL_FULL,       /* the server-wide bound: 503 */
};

/*
 * Queue route's handler for call (copied; its query strings too) on
 * behalf of call->actor.key_id and suspend conn until it has an answer.
 * RD_OK with *out, the request's reference (http_slow_release it when the
 * request ends). RD_EBUSY when a bound refuses it: *refusal says which and
 * *retry_after_s when to try again; the connection is not suspended.
 * Call from the access handler only.
 */
int http_slow_submit(http_slow_job **out, http_slow_pool *pool,
		     struct MHD_Connection *conn, const http_route *route,
		     const http_call *call, int *refusal,
		     unsigned *retry_after_s, rd_error *err);

/* What a resumed request finds (http_slow_poll). */
enum http_slow_state {
	HTTP_SLOW_WAIT = 0,        /* not yet: suspended again */
	HTTP_SLOW_DONE,            /* the handler's answer: http_slow_answer */
	HTTP_SLOW_STREAM,          /* a streamed body: http_slow_response */
	HTTP_SLOW_EXPIRED,         /* no answer within the timeout, or the
				    * server stops: 503 */
};

/* Where job stands; suspends the connection again when it must wait. */
int http_slow_poll(http_slow_job *job);

/*
 * The handler's call and result of a job that is DONE, or whose body
 * streams (its headers). The call stays the job's: what is sent from it
 * (reply, text, file) the caller takes and clears.
 */
http_call *http_slow_answer(http_slow_job *job, int *rc, rd_error *err);

/*
 * A response whose body is read from the job's buffer as the client reads
 * (size: call->file_size when the handler gave one, else unknown, sent
 * chunked). Until the handler has ended well, the last byte is kept back,
 * so a body whose producer fails is cut short and can never pass as whole.
 */
struct MHD_Response *http_slow_response(http_slow_job *job);

/*
 * The request ended, however it ended: the job forgets the connection,
 * its producer is told to stop, and the request's reference is dropped.
 * NULL allowed.
 */
void http_slow_release(http_slow_job *job);

/* Seconds to retry after when the whole bound is full (the timeout's
 * share), for the 503 of an expired job. */
unsigned http_slow_retry_after(const http_slow_pool *pool);

#endif
