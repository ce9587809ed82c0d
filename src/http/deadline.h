/*
 * Private header of the request deadlines (deadline.c): a registry of the
 * server's open connections, each with the one deadline of the phase it is
 * in, and a reaper thread that cuts a connection whose deadline passed.
 *
 * libmicrohttpd's own connection timeout starts again with every byte, so
 * a client sending one byte a second holds a connection forever. These
 * deadlines do not move with the bytes:
 *
 *   accepted ........ the first request's line and headers must be in
 *                     within header_ms of the accept;
 *   idle ............ after an answer, the next request line must come
 *                     within idle_ms (keep-alive);
 *   headers ......... then its headers within header_ms of that line;
 *   body ............ then its body within body_ms of the end of the
 *                     headers, plus 1 s per min_rate bytes received (at
 *                     most as many as the route takes);
 *   busy ............ handled and answered: no deadline here (the
 *                     connection timeout still applies).
 *
 * Cutting is shutdown(2) of the socket: libmicrohttpd then reads the end
 * of the stream and closes the connection itself, in its own thread, so
 * nothing is freed under it. The socket is shut down only under the
 * registry's lock, and a connection leaves the registry (under that lock)
 * before libmicrohttpd closes its socket, so a number reused by another
 * socket is never touched. It knows nothing of HTTP or libmicrohttpd.
 */
#ifndef REDRESS_HTTP_DEADLINE_H
#define REDRESS_HTTP_DEADLINE_H

#include <stdint.h>

#include "redress/error.h"

typedef struct http_deadlines http_deadlines;

typedef struct http_deadline_limits {
	uint64_t header_ms;     /* request line and headers */
	uint64_t body_ms;       /* the body, before its allowance */
	uint64_t body_min_rate; /* bytes per second earning 1 s more */
	uint64_t idle_ms;       /* between requests of a connection */
} http_deadline_limits;

/*
 * Start the registry and its reaper thread, which looks every
 * HTTP_DEADLINE_TICK_MS. Every limit must be above 0 (RD_EUSAGE otherwise).
 * *out is new; free it with http_deadlines_stop.
 */
int http_deadlines_start(http_deadlines **out,
			 const http_deadline_limits *limits, rd_error *err);

/* How often the reaper looks, in milliseconds. */
#define HTTP_DEADLINE_TICK_MS 100

/* End the reaper and free the registry. NULL is accepted. */
void http_deadlines_stop(http_deadlines *d);

/*
 * A connection was accepted: `conn` identifies it (borrowed; only compared)
 * and `fd` is its socket. Without memory it is not registered and has no
 * deadline (libmicrohttpd's timeout still applies).
 */
void http_deadlines_opened(http_deadlines *d, const void *conn, int fd);

/* The connection is closing; its socket is still open. */
void http_deadlines_closed(http_deadlines *d, const void *conn);

/*
 * A request line arrived: on a connection that was idle, the headers'
 * deadline starts now (the first request keeps the one from the accept).
 */
void http_deadlines_request_line(http_deadlines *d, const void *conn);

/*
 * The headers are in and a body of at most `max_body` bytes follows (the
 * declared length, or the route's limit when it is not declared): the
 * body's deadline starts now. With max_body 0 there is no body: busy.
 */
void http_deadlines_body_start(http_deadlines *d, const void *conn,
			       uint64_t max_body);

/* `n` more bytes of the body arrived: the deadline moves by n / min_rate. */
void http_deadlines_body_bytes(http_deadlines *d, const void *conn,
			       uint64_t n);

/* The whole request is in; it is being handled and answered: busy. */
void http_deadlines_busy(http_deadlines *d, const void *conn);

/* The answer is out; the connection waits for another request: idle. */
void http_deadlines_idle(http_deadlines *d, const void *conn);

/* How many connections were cut at a deadline so far. */
uint64_t http_deadlines_cut(http_deadlines *d);

#endif
