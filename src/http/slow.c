/*
 * Slow work off the request threads. The request thread checks the key
 * and its bounds, copies the call into a job and suspends the connection;
 * a slow-work thread (its own rd_service: a git repository is never used
 * by two threads) runs the route's handler and resumes the connection
 * when the answer is there. A handler that streams (http_body_begin,
 * http_body_write) fills a bounded buffer that the response's content
 * reader drains as the client reads: the producer waits while the buffer
 * is full, the reader suspends the connection while it is empty (a
 * reader returning 0 without suspending would spin the request thread).
 *
 * Suspended connections never time out in libmicrohttpd, so a watchdog
 * resumes any that waited longer than the slow timeout: before the answer
 * began, with a 503; after, by cutting the body. Every wait and every
 * count here is under one mutex; its order is always pool->lock, then
 * libmicrohttpd's own (suspend, resume). It never prints and never exits.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "http/slow.h"

/* Bytes between a streaming handler and its client. */
#define BUFFER_BYTES (256 * 1024)
/* How often the watchdog looks at the waiting connections. */
#define WATCH_EVERY_MS 200
/* Slow threads yield the processor to the request threads. */
#define SLOW_NICE 10

enum job_state { QUEUED, RUNNING, FINISHED };

/* What one key has under way. */
typedef struct key_load {
	char key_id[sizeof(((rd_actor *)0)->key_id)];
	unsigned jobs, exports, running;
} key_load;

struct http_slow_job {
	http_slow_pool *pool;
	struct http_slow_job *prev, *next;  /* pool->jobs */
	unsigned refs;
	struct MHD_Connection *conn;  /* NULL once the request ended */
	const http_route *route;
	http_call call;               /* the handler's, with its answer */
	char **strings;               /* the query copied (2 per parameter) */
	char *unclean;
	char *body;                   /* a POST's body (a bulk request's) */
	char *idem_key;               /* its Idempotency-Key */
	enum job_state state;
	int counted;                  /* 1 while in the pool's counts */
	int is_export;
	int suspended;                /* the connection waits on this job */
	uint64_t waiting_since_ms;
	int expired;                  /* the watchdog or a stop gave up */
	int cancelled;                /* the producer must stop */
	int rc;                       /* the handler's */
	rd_error err;
	/* a streamed body */
	int streaming;
	int ended;                    /* 1: produced whole; -1: failed */
	uint64_t declared;            /* the size, or MHD_SIZE_UNKNOWN */
	uint64_t produced, sent;
	char *buf;                    /* ring of BUFFER_BYTES */
	size_t head, len;
	pthread_cond_t space;         /* the producer waits for room */
};

struct http_slow_pool {
	http_slow_limits limits;
	const rd_service_options *service;
	pthread_mutex_t lock;
	pthread_cond_t work;          /* a job queued, or stopping */
	pthread_cond_t watch;         /* the watchdog's sleep */
	pthread_t *threads;
	unsigned started;
	pthread_t watchdog;
	int watchdog_started;
	int stopping;
	http_slow_job *jobs;          /* every live job */
	unsigned count;               /* jobs queued or running */
	key_load *keys;               /* limits.queue of them */
	unsigned key_count;
	unsigned running_per_key;     /* half the threads, at least 1 */
	/*
	 * Test-only (REDRESS_TEST_SLOW_HOLD_MS, like REDRESS_TEST_CRASH):
	 * each job holds its thread this long before it runs, so that a
	 * test can fill the pool without depending on how fast it works.
	 */
	unsigned test_hold_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- counts (under pool->lock) --------------------------------------------- */

static key_load *key_find(http_slow_pool *pool, const char *key_id)
{
	for (unsigned i = 0; i < pool->key_count; i++)
		if (strcmp(pool->keys[i].key_id, key_id) == 0)
			return &pool->keys[i];
	return NULL;
}

/* The job leaves the counts: its key's and the pool's. */
static void uncount(http_slow_pool *pool, http_slow_job *job)
{
	key_load *load;

	if (!job->counted)
		return;
	job->counted = 0;
	pool->count--;
	if (!(load = key_find(pool, job->call.actor.key_id)))
		return;
	load->jobs--;
	if (job->is_export)
		load->exports--;
	if (job->state == RUNNING && load->running)
		load->running--;
	if (load->jobs == 0)
		*load = pool->keys[--pool->key_count];
}

static void job_free(http_slow_job *job)
{
	size_t n = job->call.query_count;

	for (size_t i = 0; job->strings && i < 2 * n; i++)
		free(job->strings[i]);
	free(job->strings);
	free(job->unclean);
	free(job->body);
	free(job->idem_key);
	json_decref(job->call.reply);
	free(job->call.text);
	if (job->call.has_file && job->call.file_fd >= 0)
		close(job->call.file_fd);
	free(job->buf);
	pthread_cond_destroy(&job->space);
	free(job);
}

/* Drop one reference (under pool->lock); the last frees the job. */
static void job_unref(http_slow_pool *pool, http_slow_job *job)
{
	if (--job->refs > 0)
		return;
	if (job->prev)
		job->prev->next = job->next;
	else
		pool->jobs = job->next;
	if (job->next)
		job->next->prev = job->prev;
	job_free(job);
}

/* Let the connection go on, if it waits on this job (under pool->lock). */
static void wake(http_slow_job *job)
{
	if (job->suspended && job->conn) {
		job->suspended = 0;
		MHD_resume_connection(job->conn);
	}
}

/* The connection waits on this job (under pool->lock). */
static void suspend(http_slow_job *job)
{
	job->suspended = 1;
	job->waiting_since_ms = now_ms();
	MHD_suspend_connection(job->conn);
}

/* ---- the threads ------------------------------------------------------------- */

/*
 * The queued job to run next: of the keys with a job waiting, the one
 * with the fewest running, so that one key's many jobs do not hold back
 * another's one; the oldest of its jobs. A key never runs on more than
 * half the threads: a job whose client reads slowly holds its thread, and
 * another key must still find one free.
 */
static http_slow_job *pick(http_slow_pool *pool)
{
	http_slow_job *best = NULL;
	unsigned best_running = 0;

	for (http_slow_job *job = pool->jobs; job; job = job->next) {
		key_load *load;
		unsigned running;

		if (job->state != QUEUED || job->cancelled)
			continue;
		load = key_find(pool, job->call.actor.key_id);
		running = load ? load->running : 0;
		if (running >= pool->running_per_key)
			continue;
		/* the list is newest first: ties go to the older */
		if (!best || running <= best_running) {
			best = job;
			best_running = running;
		}
	}
	return best;
}

static void run(http_slow_job *job, rd_service **svc)
{
	http_slow_pool *pool = job->pool;
	rd_error err;
	int rc = RD_OK;

	rd_error_clear(&err);
	if (!*svc)
		rc = rd_service_open(svc, pool->service, &err);
	if (rc == RD_OK) {
		job->call.svc = *svc;
		job->call.slow = job;
		rc = job->route->handler(&job->call, &err);
	}
	pthread_mutex_lock(&pool->lock);
	if (job->streaming) {
		job->ended = rc < 0 ? -1 : 1;
	} else {
		job->rc = rc;
		job->err = err;
	}
	uncount(pool, job);
	job->state = FINISHED;
	wake(job);
	job_unref(pool, job);
	pthread_mutex_unlock(&pool->lock);
}

static void *worker(void *arg)
{
	http_slow_pool *pool = arg;
	rd_service *svc = NULL;

#ifdef SYS_gettid
	/* Linux: nice applies to this thread alone. Best effort. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), SLOW_NICE);
#endif
	pthread_mutex_lock(&pool->lock);
	while (!pool->stopping) {
		http_slow_job *job = pick(pool);
		key_load *load;

		if (!job) {
			pthread_cond_wait(&pool->work, &pool->lock);
			continue;
		}
		job->state = RUNNING;
		if ((load = key_find(pool, job->call.actor.key_id)))
			load->running++;
		pthread_mutex_unlock(&pool->lock);
		if (pool->test_hold_ms) {
			struct timespec hold = {
				(time_t)(pool->test_hold_ms / 1000u),
				(long)(pool->test_hold_ms % 1000u) * 1000000L
			};

			nanosleep(&hold, NULL);
		}
		run(job, &svc);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	rd_service_close(svc);
	return NULL;
}

/* Give up on a job (under pool->lock): its connection goes on, expired. */
static void expire(http_slow_pool *pool, http_slow_job *job)
{
	job->expired = 1;
	job->cancelled = 1;
	if (job->state == QUEUED) {
		uncount(pool, job);
		job->state = FINISHED;
		job_unref(pool, job);   /* the worker's, never taken */
	}
	pthread_cond_broadcast(&job->space);
}

static void *watchdog(void *arg)
{
	http_slow_pool *pool = arg;
	uint64_t limit = (uint64_t)pool->limits.timeout_s * 1000u;

	pthread_mutex_lock(&pool->lock);
	while (!pool->stopping) {
		struct timespec until;
		uint64_t now = now_ms();
		http_slow_job *job, *next;

		for (job = pool->jobs; job; job = next) {
			next = job->next;
			if (job->suspended && now - job->waiting_since_ms > limit) {
				/* a queued job may be freed by expire: wake first */
				wake(job);
				expire(pool, job);
			}
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += WATCH_EVERY_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&pool->watch, &pool->lock, &until);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* ---- the pool ---------------------------------------------------------------- */

unsigned http_slow_retry_after(const http_slow_pool *pool)
{
	unsigned s = pool->limits.timeout_s / 4;

	return s ? s : 1;
}

int http_slow_pool_new(http_slow_pool **out, const http_slow_limits *limits,
		       const rd_service_options *service, rd_error *err)
{
	http_slow_pool *pool;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	const char *hold;

	*out = NULL;
	if (!(pool = calloc(1, sizeof(*pool))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	pool->limits = *limits;
	if (cores < 1)
		cores = 1;
	if (!pool->limits.threads)
		pool->limits.threads = (unsigned)cores *
				       RD_HTTP_DEFAULT_SLOW_THREADS_PER_CORE;
	pool->running_per_key = pool->limits.threads / 2;
	if (!pool->running_per_key)
		pool->running_per_key = 1;
	if (!pool->limits.per_key)
		pool->limits.per_key = RD_HTTP_DEFAULT_SLOW_PER_KEY;
	if (!pool->limits.exports_per_key)
		pool->limits.exports_per_key = RD_HTTP_DEFAULT_EXPORTS_PER_KEY;
	if (!pool->limits.queue)
		pool->limits.queue = RD_HTTP_DEFAULT_SLOW_QUEUE;
	if (!pool->limits.timeout_s)
		pool->limits.timeout_s = RD_HTTP_DEFAULT_SLOW_TIMEOUT_S;
	pool->service = service;
	if ((hold = getenv("REDRESS_TEST_SLOW_HOLD_MS")) != NULL)
		pool->test_hold_ms = (unsigned)strtoul(hold, NULL, 10);
	if (!(pool->keys = calloc(pool->limits.queue, sizeof(*pool->keys))) ||
	    !(pool->threads = calloc(pool->limits.threads,
				     sizeof(*pool->threads)))) {
		free(pool->keys);
		free(pool);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->work, NULL);
	pthread_cond_init(&pool->watch, NULL);
	*out = pool;
	for (; pool->started < pool->limits.threads; pool->started++)
		if (pthread_create(&pool->threads[pool->started], NULL, worker,
				   pool) != 0)
			goto fail;
	if (pthread_create(&pool->watchdog, NULL, watchdog, pool) != 0)
		goto fail;
	pool->watchdog_started = 1;
	return RD_OK;
fail:
	http_slow_pool_stop(pool);
	http_slow_pool_free(pool);
	*out = NULL;
	return rd_error_set(err, RD_ENOMEM, "cannot start the slow-work "
			    "threads");
}

void http_slow_pool_stop(http_slow_pool *pool)
{
	http_slow_job *job, *next;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = 1;
	for (job = pool->jobs; job; job = next) {
		next = job->next;
		wake(job);
		expire(pool, job);
	}
	pthread_cond_broadcast(&pool->work);
	pthread_cond_broadcast(&pool->watch);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->started; i++)
		pthread_join(pool->threads[i], NULL);
	pool->started = 0;
	if (pool->watchdog_started)
		pthread_join(pool->watchdog, NULL);
	pool->watchdog_started = 0;
	/* A connection suspended while the threads ended goes on too. */
	pthread_mutex_lock(&pool->lock);
	for (job = pool->jobs; job; job = job->next)
		wake(job);
	pthread_mutex_unlock(&pool->lock);
}

void http_slow_pool_free(http_slow_pool *pool)
{
	if (!pool)
		return;
	/* Jobs still referenced by requests are freed by their release. */
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->work);
	pthread_cond_destroy(&pool->watch);
	free(pool->threads);
	free(pool->keys);
	free(pool);
}

/* ---- one job ----------------------------------------------------------------- */

static char *dup_text(const char *s)
{
	return strdup(s ? s : "");
}

/* The call, its borrowed strings copied (the job may outlive them). */
static int copy_call(http_slow_job *job, const http_call *call)
{
	size_t n = call->query_count;

	job->call = *call;
	job->call.body = "";
	job->call.body_len = 0;
	job->call.idempotency_key = NULL;
	if (call->body_len) {
		/* the connection's own may go before the job ends */
		if (!(job->body = malloc(call->body_len + 1)))
			return RD_ENOMEM;
		memcpy(job->body, call->body, call->body_len);
		job->body[call->body_len] = '\0';
		job->call.body = job->body;
		job->call.body_len = call->body_len;
	}
	if (call->idempotency_key) {
		if (!(job->idem_key = dup_text(call->idempotency_key)))
			return RD_ENOMEM;
		job->call.idempotency_key = job->idem_key;
	}
	job->call.if_match = NULL;
	job->call.content_length = NULL;
	job->call.if_none_match = NULL;
	job->call.file_fd = -1;
	if (n && !(job->strings = calloc(2 * n, sizeof(char *))))
		return RD_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(job->strings[2 * i] = dup_text(call->query[i].name)) ||
		    !(job->strings[2 * i + 1] = dup_text(call->query[i].value)))
			return RD_ENOMEM;
		job->call.query[i].name = job->strings[2 * i];
		job->call.query[i].value = job->strings[2 * i + 1];
	}
	if (call->query_unclean) {
		if (!(job->unclean = dup_text(call->query_unclean)))
			return RD_ENOMEM;
		job->call.query_unclean = job->unclean;
	}
	return RD_OK;
}

int http_slow_submit(http_slow_job **out, http_slow_pool *pool,
		     struct MHD_Connection *conn, const http_route *route,
		     const http_call *call, int *refusal,
		     unsigned *retry_after_s, rd_error *err)
{
	http_slow_job *job;
	key_load *load;
	int is_export = http_route_slow(route) == HTTP_SLOW_EXPORT;

	*out = NULL;
	*refusal = 0;
	if (!(job = calloc(1, sizeof(*job))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	pthread_cond_init(&job->space, NULL);
	if (copy_call(job, call) < 0) {
		job_free(job);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	job->pool = pool;
	job->conn = conn;
	job->route = route;
	job->is_export = is_export;
	job->declared = MHD_SIZE_UNKNOWN;

	pthread_mutex_lock(&pool->lock);
	load = key_find(pool, call->actor.key_id);
	if (pool->stopping || pool->count >= pool->limits.queue) {
		*refusal = HTTP_SLOW_POOL_FULL;
		*retry_after_s = http_slow_retry_after(pool);
		rd_error_set(err, RD_EBUSY, "the server has %u slow requests "
			     "(exports, verifications, histories, downloads) "
			     "under way, its limit; retry after %u s",
			     pool->limits.queue, *retry_after_s);
	} else if (load && load->jobs >= pool->limits.per_key) {
		*refusal = HTTP_SLOW_KEY_FULL;
		*retry_after_s = 1;
		rd_error_set(err, RD_EBUSY, "this API key has %u slow requests "
			     "(exports, verifications, histories, downloads) "
			     "under way, its limit; retry after one of them "
			     "has ended", pool->limits.per_key);
	} else if (is_export && load &&
		   load->exports >= pool->limits.exports_per_key) {
		*refusal = HTTP_SLOW_KEY_FULL;
		*retry_after_s = 1;
		rd_error_set(err, RD_EBUSY, "this API key has %u exports under "
			     "way, its limit; retry after one of them has "
			     "ended", pool->limits.exports_per_key);
	}
	if (*refusal) {
		pthread_mutex_unlock(&pool->lock);
		job_free(job);
		return RD_EBUSY;
	}
	if (!load) {
		load = &pool->keys[pool->key_count++];
		memset(load, 0, sizeof(*load));
		memcpy(load->key_id, call->actor.key_id, sizeof(load->key_id));
	}
	load->jobs++;
	if (is_export)
		load->exports++;
	pool->count++;
	job->counted = 1;
	job->refs = 2;                /* the request's and the worker's */
	job->next = pool->jobs;
	if (pool->jobs)
		pool->jobs->prev = job;
	pool->jobs = job;
	suspend(job);
	pthread_cond_signal(&pool->work);
	pthread_mutex_unlock(&pool->lock);
	*out = job;
	return RD_OK;
}

int http_slow_poll(http_slow_job *job)
{
	http_slow_pool *pool = job->pool;
	int state;

	pthread_mutex_lock(&pool->lock);
	if (job->expired ||
	    (pool->stopping && !job->streaming && job->state != FINISHED))
		state = HTTP_SLOW_EXPIRED;
	else if (job->streaming)
		state = HTTP_SLOW_STREAM;
	else if (job->state == FINISHED)
		state = HTTP_SLOW_DONE;
	else {
		suspend(job);
		state = HTTP_SLOW_WAIT;
	}
	pthread_mutex_unlock(&pool->lock);
	return state;
}

http_call *http_slow_answer(http_slow_job *job, int *rc, rd_error *err)
{
	pthread_mutex_lock(&job->pool->lock);
	*rc = job->rc;
	*err = job->err;
	pthread_mutex_unlock(&job->pool->lock);
	return &job->call;
}

void http_slow_release(http_slow_job *job)
{
	http_slow_pool *pool;

	if (!job)
		return;
	pool = job->pool;
	pthread_mutex_lock(&pool->lock);
	job->conn = NULL;
	job->suspended = 0;
	job->cancelled = 1;
	if (job->state == QUEUED) {
		/* never to run: out of the counts, the worker's reference too */
		uncount(pool, job);
		job->state = FINISHED;
		job_unref(pool, job);
	}
	pthread_cond_broadcast(&job->space);
	job_unref(pool, job);
	pthread_mutex_unlock(&pool->lock);
}

/* ---- a streamed body ------------------------------------------------------- */

int http_body_begin(http_call *call, rd_error *err)
{
	http_slow_job *job = call->slow;
	http_slow_pool *pool;

	if (!job)
		return rd_error_set(err, RD_EINTERNAL, "a streamed answer "
				    "needs a slow-work thread");
	pool = job->pool;
	if (!job->buf && !(job->buf = malloc(BUFFER_BYTES)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	pthread_mutex_lock(&pool->lock);
	job->declared = call->file_size ? call->file_size : MHD_SIZE_UNKNOWN;
	job->streaming = 1;
	wake(job);
	pthread_mutex_unlock(&pool->lock);
	return RD_OK;
}

int http_body_write(http_call *call, const void *bytes, size_t len,
		    rd_error *err)
{
	http_slow_job *job = call->slow;
	http_slow_pool *pool = job->pool;
	const char *p = bytes;
	int rc = RD_OK;

	pthread_mutex_lock(&pool->lock);
	if (job->declared != MHD_SIZE_UNKNOWN &&
	    job->produced + len > job->declared) {
		rc = rd_error_set(err, RD_EIO, "the body is longer than the "
				  "%llu bytes announced",
				  (unsigned long long)job->declared);
		goto done;
	}
	while (len > 0) {
		size_t room, tail, n;

		/*
		 * Wait while the client reads nothing, as long as the slow
		 * timeout: a client that stops reading frees the thread.
		 */
		if (job->len == BUFFER_BYTES && !job->cancelled) {
			struct timespec until;
			uint64_t sent = job->sent;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (time_t)pool->limits.timeout_s;
			while (job->len == BUFFER_BYTES && !job->cancelled &&
			       pthread_cond_timedwait(&job->space, &pool->lock,
						      &until) == 0)
				;
			if (job->len == BUFFER_BYTES && !job->cancelled &&
			    job->sent == sent) {
				job->cancelled = 1;
				job->expired = 1;
			}
			if (job->len == BUFFER_BYTES && !job->cancelled)
				continue;
		}
		if (job->cancelled) {
			rc = rd_error_set(err, RD_EIO, job->expired
					  ? "the client read nothing for too "
					    "long" : "the client went away");
			goto done;
		}
		room = BUFFER_BYTES - job->len;
		tail = (job->head + job->len) % BUFFER_BYTES;
		n = len < room ? len : room;
		if (n > BUFFER_BYTES - tail)
			n = BUFFER_BYTES - tail;
		memcpy(job->buf + tail, p, n);
		job->len += n;
		job->produced += n;
		p += n;
		len -= n;
		wake(job);
	}
done:
	pthread_mutex_unlock(&pool->lock);
	return rc;
}

/* MHD's content reader: what the buffer holds, up to max. */
static ssize_t read_body(void *cls, uint64_t pos, char *out, size_t max)
{
	http_slow_job *job = cls;
	http_slow_pool *pool = job->pool;
	ssize_t ret;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&pool->lock);
	if (job->expired || job->ended < 0 || !job->conn) {
		ret = MHD_CONTENT_READER_END_WITH_ERROR;
		goto done;
	}
	n = job->len;
	if (job->ended != 1) {
		/* Hold the last byte back: a failure may yet cut the body. */
		n = n ? n - 1 : 0;
		if (job->declared != MHD_SIZE_UNKNOWN &&
		    job->sent + n >= job->declared)
			n = (size_t)(job->declared - job->sent - 1);
	}
	if (n > max)
		n = max;
	if (n > 0) {
		size_t first = BUFFER_BYTES - job->head;

		if (first > n)
			first = n;
		memcpy(out, job->buf + job->head, first);
		memcpy(out + first, job->buf, n - first);
		job->head = (job->head + n) % BUFFER_BYTES;
		job->len -= n;
		job->sent += n;
		pthread_cond_broadcast(&job->space);
		ret = (ssize_t)n;
	} else if (job->ended == 1) {
		ret = MHD_CONTENT_READER_END_OF_STREAM;
	} else if (pool->stopping) {
		ret = MHD_CONTENT_READER_END_WITH_ERROR;
	} else {
		/* Nothing yet: wait suspended, not spinning. */
		suspend(job);
		ret = 0;
	}
done:
	pthread_mutex_unlock(&pool->lock);
	return ret;
}

static void read_done(void *cls)
{
	http_slow_job *job = cls;
	http_slow_pool *pool = job->pool;

	pthread_mutex_lock(&pool->lock);
	job->cancelled = 1;
	pthread_cond_broadcast(&job->space);
	job_unref(pool, job);
	pthread_mutex_unlock(&pool->lock);
}

struct MHD_Response *http_slow_response(http_slow_job *job)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_callback(job->declared, 64 * 1024,
						 read_body, job, read_done);
	if (resp) {
		pthread_mutex_lock(&job->pool->lock);
		job->refs++;
		pthread_mutex_unlock(&job->pool->lock);
	}
	return resp;
}
