/*
 * Request deadlines (deadline.h): the open connections in a hash table of
 * fixed size under one mutex, and a thread that looks at them every tick
 * and shuts down the socket of each one past the deadline of its phase.
 *
 * The mutex is held for a lookup and a few assignments, or for one walk of
 * the table (a few hundred connections at most); it must never be held
 * across anything that waits. Only the reaper calls shutdown(2), and only
 * under the mutex: a connection is removed under the same mutex before its
 * socket is closed, so the reaper never shuts down a reused number.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "http/deadline.h"

#define BUCKETS 1024

enum phase {
	PHASE_ACCEPTED,         /* first request: header_ms from the accept */
	PHASE_IDLE,             /* between requests: idle_ms */
	PHASE_HEADERS,          /* a request line came: header_ms */
	PHASE_BODY,             /* body_ms plus the allowance of its bytes */
	PHASE_BUSY,             /* handled and answered: none */
};

typedef struct entry {
	const void *conn;
	int fd;
	enum phase phase;
	uint64_t since_ms;      /* when the phase began (monotonic) */
	uint64_t received;      /* body bytes so far */
	uint64_t max_body;      /* the most that earn an allowance */
	int cut;                /* shut down already */
	struct entry *next;
} entry;

struct http_deadlines {
	http_deadline_limits limits;
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* signalled to stop */
	int stopping;
	pthread_t reaper;
	entry *buckets[BUCKETS];
	atomic_uint_fast64_t cut;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t bucket_of(const void *conn)
{
	uint64_t h = (uint64_t)(uintptr_t)conn;

	h ^= h >> 17;
	h *= UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(h >> 40) % BUCKETS;
}

/* The entry of conn, under the lock; NULL when it is not registered. */
static entry *find(http_deadlines *d, const void *conn)
{
	entry *e;

	for (e = d->buckets[bucket_of(conn)]; e; e = e->next)
		if (e->conn == conn)
			return e;
	return NULL;
}

/* When the phase of e ends, in ms; 0: never. */
static uint64_t deadline_of(const http_deadlines *d, const entry *e)
{
	uint64_t counted;

	switch (e->phase) {
	case PHASE_ACCEPTED:
	case PHASE_HEADERS:
		return e->since_ms + d->limits.header_ms;
	case PHASE_IDLE:
		return e->since_ms + d->limits.idle_ms;
	case PHASE_BODY:
		counted = e->received < e->max_body ? e->received
						    : e->max_body;
		return e->since_ms + d->limits.body_ms +
		       counted * 1000u / d->limits.body_min_rate;
	case PHASE_BUSY:
		break;
	}
	return 0;
}

static void *reap(void *arg)
{
	http_deadlines *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		struct timespec until;
		uint64_t now = now_ms();

		for (size_t b = 0; b < BUCKETS; b++)
			for (entry *e = d->buckets[b]; e; e = e->next) {
				uint64_t due = deadline_of(d, e);

				if (e->cut || due == 0 || now < due)
					continue;
				/* libmicrohttpd reads the end and closes it */
				(void)shutdown(e->fd, SHUT_RDWR);
				e->cut = 1;
				atomic_fetch_add(&d->cut, 1);
			}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += HTTP_DEADLINE_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!d->stopping &&
		       pthread_cond_timedwait(&d->wake, &d->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int http_deadlines_start(http_deadlines **out,
			 const http_deadline_limits *limits, rd_error *err)
{
	http_deadlines *d;
	pthread_condattr_t attr;
	int made = 0;

	*out = NULL;
	if (!limits->header_ms || !limits->body_ms || !limits->body_min_rate ||
	    !limits->idle_ms)
		return rd_error_set(err, RD_EUSAGE, "every request deadline "
				    "and the body's minimum rate must be "
				    "above 0");
	if (!(d = calloc(1, sizeof(*d))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	d->limits = *limits;
	atomic_init(&d->cut, 0);
	if (pthread_mutex_init(&d->lock, NULL) != 0) {
		free(d);
		return rd_error_set(err, RD_ENOMEM, "cannot make a mutex");
	}
	if (pthread_condattr_init(&attr) == 0) {
		made = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
		       pthread_cond_init(&d->wake, &attr) == 0;
		pthread_condattr_destroy(&attr);
	}
	if (!made) {
		pthread_mutex_destroy(&d->lock);
		free(d);
		return rd_error_set(err, RD_ENOMEM, "cannot make a condition "
				    "variable");
	}
	if (pthread_create(&d->reaper, NULL, reap, d) != 0) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return rd_error_set(err, RD_ENOMEM, "cannot start the thread "
				    "that enforces request deadlines");
	}
	*out = d;
	return RD_OK;
}

void http_deadlines_stop(http_deadlines *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->reaper, NULL);
	for (size_t b = 0; b < BUCKETS; b++) {
		entry *e, *next;

		for (e = d->buckets[b]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void http_deadlines_opened(http_deadlines *d, const void *conn, int fd)
{
	entry *e;
	size_t b = bucket_of(conn);

	if (!d || fd < 0 || !(e = calloc(1, sizeof(*e))))
		return;
	e->conn = conn;
	e->fd = fd;
	e->phase = PHASE_ACCEPTED;
	e->since_ms = now_ms();
	pthread_mutex_lock(&d->lock);
	e->next = d->buckets[b];
	d->buckets[b] = e;
	pthread_mutex_unlock(&d->lock);
}

void http_deadlines_closed(http_deadlines *d, const void *conn)
{
	entry **p, *gone = NULL;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	for (p = &d->buckets[bucket_of(conn)]; *p; p = &(*p)->next)
		if ((*p)->conn == conn) {
			gone = *p;
			*p = gone->next;
			break;
		}
	pthread_mutex_unlock(&d->lock);
	free(gone);
}

/* Enter `phase` now, unless the entry is already in it. */
static void enter(http_deadlines *d, const void *conn, enum phase from_only,
		  int any, enum phase phase, uint64_t max_body)
{
	entry *e;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if ((e = find(d, conn)) && (any || e->phase == from_only)) {
		e->phase = phase;
		e->since_ms = now_ms();
		e->received = 0;
		e->max_body = max_body;
	}
	pthread_mutex_unlock(&d->lock);
}

void http_deadlines_request_line(http_deadlines *d, const void *conn)
{
	enter(d, conn, PHASE_IDLE, 0, PHASE_HEADERS, 0);
}

void http_deadlines_body_start(http_deadlines *d, const void *conn,
			       uint64_t max_body)
{
	enter(d, conn, PHASE_BUSY, 1, max_body ? PHASE_BODY : PHASE_BUSY,
	      max_body);
}

void http_deadlines_body_bytes(http_deadlines *d, const void *conn,
			       uint64_t n)
{
	entry *e;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if ((e = find(d, conn)) && e->phase == PHASE_BODY)
		e->received = e->received + n < e->received ? UINT64_MAX
							    : e->received + n;
	pthread_mutex_unlock(&d->lock);
}

void http_deadlines_busy(http_deadlines *d, const void *conn)
{
	enter(d, conn, PHASE_BUSY, 1, PHASE_BUSY, 0);
}

void http_deadlines_idle(http_deadlines *d, const void *conn)
{
	enter(d, conn, PHASE_BUSY, 1, PHASE_IDLE, 0);
}

uint64_t http_deadlines_cut(http_deadlines *d)
{
	return d ? (uint64_t)atomic_load(&d->cut) : 0;
}
