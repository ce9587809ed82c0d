/*
 * Private header of the HTTP metrics (metrics.c): request counters by
 * route pattern, method and status, a latency histogram per route, the
 * requests in flight, and their rendering with the service's running
 * totals in the Prometheus text exposition format 0.0.4 (GET /metrics).
 *
 * Counting a request costs a few relaxed atomic additions and never
 * allocates or locks, so it may run on every request of every worker
 * thread. Label values come from bounded sets (the route table, a fixed
 * list of methods, three-digit statuses), so the number of series never
 * depends on what clients send.
 */
#ifndef REDRESS_HTTP_METRICS_H
#define REDRESS_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "http/http_int.h"

typedef struct http_metrics http_metrics;

/* The Content-Type of the exposition. */
#define HTTP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A status that stands for "no answer was sent" (the client went away). */
#define HTTP_METRICS_NO_STATUS 0u

/* Counters for the routes of the table, all at zero. *out is new. */
int http_metrics_new(http_metrics **out, rd_error *err);

/* NULL is accepted. */
void http_metrics_free(http_metrics *m);

/*
 * The series a request is counted in: its route's (route from the table),
 * or for a request no route takes (route NULL: 404, 405) the "unmatched"
 * series of its method (GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS,
 * else "other").
 */
unsigned http_metrics_series(const http_metrics *m, const http_route *route,
			     const char *method);

/* A request begins: one more in flight. */
void http_metrics_begin(http_metrics *m);

/*
 * The answer of a request in `series` was queued with `status`
 * (HTTP_METRICS_NO_STATUS: none was). Counted before the answer is
 * written, so a client that has read it sees it counted.
 */
void http_metrics_answered(http_metrics *m, unsigned series, unsigned status);

/*
 * A request in `series` completed `elapsed_ns` after it began: its
 * duration is observed and it is no longer in flight.
 */
void http_metrics_end(http_metrics *m, unsigned series, uint64_t elapsed_ns);

/* Requests begun and not yet completed. */
int64_t http_metrics_in_flight(const http_metrics *m);

/*
 * The whole exposition: the HTTP metrics of m and the running totals of
 * stats (may be NULL: no domain metrics), each metric with its HELP and
 * TYPE lines. *out is new (free()), *len its length without the NUL.
 */
int http_metrics_render(char **out, size_t *len, const http_metrics *m,
			const rd_store_stats *stats, rd_error *err);

/*
 * A label value as the exposition format writes it between quotes:
 * backslash, double quote and line feed become \\, \" and \n. Writes at
 * most `room` bytes including the NUL (nothing when room is 0) and returns
 * the length the whole escaped value needs, as snprintf does.
 */
size_t http_label_escape(char *out, size_t room, const char *value);

/*
 * GET /metrics: the running totals from the worker's service and the
 * exposition of call->metrics, as text.
 */
int http_get_metrics(http_call *call, rd_error *err);

#endif
