/*
 * The HTTP API: JSON over HTTP/1.1 in front of the service (service.h).
 *
 * The server speaks HTTP, authenticates API keys and maps results and
 * errors to statuses through the one error table (error.h); every decision
 * about disputes stays in the service. It never prints and never exits.
 */
#ifndef REDRESS_HTTP_H
#define REDRESS_HTTP_H

#include <stdint.h>

#include "redress/error.h"
#include "redress/service.h"

/* A running server. */
typedef struct rd_http_server rd_http_server;

typedef struct rd_http_options {
	const char *listen;          /* "HOST:PORT" (IPv4; port 0 = any free
				      * port), NULL for 127.0.0.1:8080 */
	rd_service_options service;  /* each worker thread opens its own */
	unsigned threads;            /* worker threads, 0 for the core count;
				      * never more than the core count */
	unsigned rate_limit;         /* requests per second per API key, in
				      * bursts of up to twice that; 0: no
				      * limit (redress serve's default is
				      * RD_HTTP_DEFAULT_RATE_LIMIT) */
	unsigned connection_timeout_s; /* a connection with nothing sent
				      * or received for this long is closed
				      * (a stalled client too); 0 for 30 */
	/*
	 * Deadlines that bytes sent slowly do not move (0 for the
	 * RD_HTTP_DEFAULT_* below): a request's line and headers must
	 * arrive within header_timeout_s (of the accept for a connection's
	 * first request, else of its request line); its body within
	 * body_timeout_s of the headers plus one second for each
	 * body_min_rate bytes received (up to its declared length, or its
	 * route's limit); a keep-alive connection must send its next
	 * request line within idle_timeout_s of the last answer. A
	 * connection past its deadline is closed without an answer.
	 */
	unsigned header_timeout_s;
	unsigned body_timeout_s;
	unsigned body_min_rate;      /* bytes per second */
	unsigned idle_timeout_s;
	/*
	 * Slow work (exports, verifications, histories, evidence
	 * downloads) runs on threads of its own; 0 takes the default.
	 */
	unsigned slow_threads;       /* its threads (default: four per
				      * core); one key runs on half of
				      * them at most */
	unsigned slow_per_key;       /* slow requests one key may have
				      * under way; more: 429 */
	unsigned exports_per_key;    /* exports one key may have under
				      * way; more: 429 */
	unsigned slow_queue;         /* slow requests under way in all;
				      * more: 503 */
	unsigned slow_timeout_s;     /* longest wait for a slow answer to
				      * begin, or for its next bytes */
	/*
	 * Group-commit writer threads, each with a connection and a batch
	 * transaction of its own, a dispute's changes always on the same
	 * one. 0 takes the default: 1 on the embedded record (one writer
	 * at a time: more is refused); on PostgreSQL one per core, at least
	 * RD_HTTP_MIN_PG_WRITERS and at most RD_HTTP_DEFAULT_MAX_PG_WRITERS.
	 */
	unsigned writers;
} rd_http_options;

#define RD_HTTP_DEFAULT_HEADER_TIMEOUT 10
#define RD_HTTP_DEFAULT_BODY_TIMEOUT 20
#define RD_HTTP_DEFAULT_BODY_MIN_RATE 16384
#define RD_HTTP_DEFAULT_IDLE_TIMEOUT 15

/* The rate limit of `redress serve` unless told otherwise. */
#define RD_HTTP_DEFAULT_RATE_LIMIT 100
/* The slow-work bounds unless told otherwise. */
#define RD_HTTP_DEFAULT_SLOW_THREADS_PER_CORE 4
#define RD_HTTP_DEFAULT_SLOW_PER_KEY 32
#define RD_HTTP_DEFAULT_EXPORTS_PER_KEY 2
#define RD_HTTP_DEFAULT_SLOW_QUEUE 128
#define RD_HTTP_DEFAULT_SLOW_TIMEOUT_S 60
/* Writer threads on PostgreSQL unless told otherwise, and the most. */
#define RD_HTTP_MIN_PG_WRITERS 2
#define RD_HTTP_DEFAULT_MAX_PG_WRITERS 8
#define RD_HTTP_MAX_WRITERS 32
/* The largest any of the slow-work bounds may be. */
#define RD_HTTP_MAX_SLOW 4096

/*
 * Check the listen address (RD_EUSAGE naming "listen" when it is not
 * HOST:PORT with an IPv4 host and a port of 0..65535) and the rate limit
 * (RD_EUSAGE naming "rate_limit" above 1000000), open the data
 * directory once to check it (the codes of rd_service_open, RD_ENOTFOUND
 * when it does not exist), then listen and answer in background threads.
 * A port that cannot be bound is RD_EIO. On success *out is new; stop it
 * with rd_http_stop.
 */
int rd_http_start(rd_http_server **out, const rd_http_options *opts,
		  rd_error *err);

/* The port the server listens on (the chosen one when port 0 was asked). */
uint16_t rd_http_port(const rd_http_server *server);

/*
 * The answers 503 database_unavailable given so far by the servers of
 * this process, and the store's own words for the last one (which name
 * the database and what it said): a client is told only that the
 * database cannot be reached, so that an address of the operator's never
 * reaches it; the operator reads the rest here (redress serve logs it).
 */
uint64_t rd_http_unavailable(rd_error *last);

/*
 * Stop: from now on a request arriving on a connection still open is
 * answered 503 (Retry-After: 1, Connection: close) and new connections are
 * refused; the requests already being handled finish (for at most 30
 * seconds, then what remains is cut). Then close every worker's service
 * and free the server. NULL is accepted.
 */
void rd_http_stop(rd_http_server *server);

#endif
