/*
 * The HTTP server: libmicrohttpd in epoll mode with a small thread pool,
 * each worker thread with its own rd_service opened on first use. It reads
 * a request's body up to its route's limit, authenticates the key, calls
 * the route's handler and writes JSON, a file or a problem document. A
 * streamed route (evidence uploads) is started when the headers arrive and
 * fed each chunk as it comes; its state is released when the request ends,
 * however it ends. It must never queue a response before the body is read
 * (keep-alive depends on it; the one exception is the 503 of a stopping
 * server, which closes the connection anyway), never print and never exit.
 *
 * Around every request it counts what metrics.c reports and, for keys,
 * applies the per-key rate limit (ratelimit.c). Stopping marks the server
 * first: from then on a request arriving on a connection still open is
 * answered 503 at once and that connection closed, while the requests
 * already being handled finish before the daemon stops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/deadline.h"
#include "http/http_int.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "http/slow.h"
#include "http/writer.h"
#include "http/ui.h"
#include "redress/clock.h"
#include "redress/json.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define CONNECTION_LIMIT 256
#define PER_IP_CONNECTION_LIMIT 64
/*
 * At most this many connections per worker thread. libmicrohttpd 0.9.75
 * takes at most 128 epoll events per call, and when it gets exactly 128
 * it waits again, with the full timeout, before handling them: a worker
 * whose 128 connections all close at once (a deadline cutting 128
 * trickling clients) stalls until its next connection timeout. With 126
 * connections, its listening socket and its wake-up pipe, it never gets
 * 128.
 */
#define WORKER_CONNECTION_LIMIT 126
#define CONNECTION_TIMEOUT_S 30
/* The request deadlines unless told otherwise (deadline.h). */
#define HEADER_TIMEOUT_S RD_HTTP_DEFAULT_HEADER_TIMEOUT
#define BODY_TIMEOUT_S RD_HTTP_DEFAULT_BODY_TIMEOUT
#define BODY_MIN_RATE RD_HTTP_DEFAULT_BODY_MIN_RATE
#define IDLE_TIMEOUT_S RD_HTTP_DEFAULT_IDLE_TIMEOUT
#define CONNECTION_MEMORY_LIMIT (64 * 1024)
/* The post processor's buffer for a form upload's parts. */
#define FORM_BUFFER (16 * 1024)
/* How long stopping waits for the requests in flight to finish. */
#define DRAIN_LIMIT_S 30

/* One worker thread's service; freed at stop. */
typedef struct worker_slot {
	struct rd_http_server *server;
	rd_service *svc;
	struct worker_slot *next;
} worker_slot;

struct rd_http_server {
	struct MHD_Daemon *daemon;
	uint16_t port;
	rd_service_options service;
	char *data_dir, *store, *workflows_dir, *kinds_path, *policy_path;
	char *calendars_path, *templates_dir;
	pthread_key_t key;
	int key_made;
	pthread_mutex_t lock;       /* guards slots */
	worker_slot *slots;
	http_idem_table *idem;      /* Idempotency-Keys in flight */
	http_metrics *metrics;
	http_ratelimit *limiter;    /* NULL: no rate limit */
	http_slow_pool *slow;       /* slow work's threads (slow.c) */
	http_writer *writer;        /* group commit's thread (writer.c) */
	unsigned rate_limit;        /* requests per second per key */
	http_deadlines *deadlines;  /* of each request's phases */
	atomic_int stopping;        /* 1: new requests get 503 */
	/*
	 * The service that checked the data directory, kept open until the
	 * workers have ended, so that the last user of libgit2 closes in
	 * the stopping thread: a worker that closed it while another was
	 * still ending would leave that one's per-thread state behind.
	 */
	rd_service *keeper;
};

/* What MHD keeps for one request between its calls (req_cls). */
typedef struct request {
	http_match match;
	int too_large;              /* the body went past the route's limit */
	char *body;
	size_t len, cap;
	/* a streamed body (route->stream, or the form upload) */
	const http_stream *stream;  /* which, chosen with the headers */
	struct MHD_PostProcessor *form; /* parses multipart/form-data */
	http_call call;             /* prepared when the headers came */
	void *state;                /* the stream's, released at the end */
	int failed;                 /* 1: err is the answer; body dropped */
	int refusal;                /* how the failure is answered */
	rd_error err;
	/* Idempotency-Key, when a POST gives one */
	char idem_key[RD_IDEM_KEY_MAX + 1];
	int idem_op;                /* rd_idem_operation */
	http_idem_claim *claim;     /* held until the request ends */
	int idem_problem;           /* how err is answered: enum refusal */
	/* what the metrics and the guards need */
	uint64_t started_ns;        /* monotonic, at the headers */
	unsigned series;            /* of the metrics */
	int answered;               /* its answer was counted */
	unsigned retry_after_s;     /* of a 429 */
	int reading_body;           /* the body deadline runs */
	/* a slow route's job, run off the request threads (slow.c) */
	http_slow_job *job;
	int waiting;                /* 1: suspended, no answer queued yet */
	/* a write, queued for the writer's next batch (writer.c) */
	http_write_job *write;
	char digest[65];            /* of an idempotent write's request */
} request;

/* How a refusal of prepare() is answered. */
enum refusal {
	REFUSED_BY_TABLE = 0,       /* the error table's status */
	REFUSED_UNAUTHORIZED,       /* 401: no valid key */
	REFUSED_RATE_LIMITED,       /* 429: the key's bucket is empty */
	REFUSED_IDEM_IN_FLIGHT,     /* 409: the Idempotency-Key is in use */
	REFUSED_IDEM_REUSED,        /* 422: the key was for another request */
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) +
	       (uint64_t)ts.tv_nsec;
}

/* ---- per-thread services -------------------------------------------------- */

static void slot_close(void *arg)
{
	worker_slot *slot = arg;

	pthread_mutex_lock(&slot->server->lock);
	rd_service_close(slot->svc);
	slot->svc = NULL;
	pthread_mutex_unlock(&slot->server->lock);
}

static int thread_service(rd_service **out, struct rd_http_server *server,
			  rd_error *err)
{
	worker_slot *slot = pthread_getspecific(server->key);
	int rc;

	if (slot && slot->svc) {
		*out = slot->svc;
		return RD_OK;
	}
	if (!slot) {
		if (!(slot = calloc(1, sizeof(*slot))))
			return rd_error_set(err, RD_ENOMEM,
					    "out of memory starting a worker");
		slot->server = server;
		pthread_mutex_lock(&server->lock);
		slot->next = server->slots;
		server->slots = slot;
		pthread_mutex_unlock(&server->lock);
		if (pthread_setspecific(server->key, slot) != 0)
			return rd_error_set(err, RD_ENOMEM,
					    "out of memory starting a worker");
	}
	if ((rc = rd_service_open(&slot->svc, &server->service, err)) < 0)
		return rc;
	*out = slot->svc;
	return RD_OK;
}

/* ---- answers -------------------------------------------------------------- */

/*
 * Queue a response. While the server stops, every answer closes its
 * connection, so that no client sends another request on it. Every answer
 * forbids content sniffing and, unless it set its own policy (the
 * console's pages), carries a Content-Security-Policy that lets nothing
 * load from it or frame it.
 */
static enum MHD_Result queue_response(struct MHD_Connection *conn,
				      unsigned status,
				      struct MHD_Response *resp)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn,
				MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct rd_http_server *server = info ? info->socket_context : NULL;

	if (server && atomic_load(&server->stopping))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
					"close");
	if (!MHD_get_response_header(resp, "X-Content-Type-Options"))
		MHD_add_response_header(resp, "X-Content-Type-Options",
					"nosniff");
	if (!MHD_get_response_header(resp, "Content-Security-Policy"))
		MHD_add_response_header(resp, "Content-Security-Policy",
					HTTP_DEFAULT_CSP);
	return MHD_queue_response(conn, status, resp);
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status,
				 json_t *doc, const char *content_type,
				 const http_call *call, const char *allow,
				 int challenge)
{
	static const char fallback[] =
		"{\"type\":\"https://redress.dev/problems/no_memory\","
		"\"title\":\"Out of memory\",\"status\":500}";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = doc ? rd_json_dumps(doc, JSON_COMPACT) : NULL;

	if (text) {
		resp = MHD_create_response_from_buffer(strlen(text), text,
						       MHD_RESPMEM_MUST_FREE);
	} else {
		status = 500;
		content_type = "application/problem+json";
		resp = MHD_create_response_from_buffer(sizeof(fallback) - 1,
				(void *)fallback, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				content_type);
	if (call && call->etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
					call->etag);
	if (call && call->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
					call->location);
	if (call && call->repr_digest[0])
		MHD_add_response_header(resp, "Repr-Digest",
					call->repr_digest);
	if (call && call->replayed)
		MHD_add_response_header(resp, "Idempotent-Replayed", "true");
	/* RFC 9745: deprecated since 2026-12-06 (docs/api.md) */
	if (call && call->deprecated)
		MHD_add_response_header(resp, "Deprecation", "@1796515200");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (challenge)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer");
	ret = queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_refusing(struct MHD_Connection *conn,
				     json_t *doc, unsigned status,
				     unsigned retry_after_s,
				     int close_connection);

/*
 * The problem document of err. A code a retry may cure (the database busy
 * or out of reach: the error table's retry_after_s) says when to retry.
 */
static enum MHD_Result send_problem(struct MHD_Connection *conn,
				    const rd_error *err, int malformed,
				    const char *allow, int challenge)
{
	const rd_code_info *info = rd_code_info_get(err->code);
	unsigned status = 500;
	json_t *doc = http_problem(err, malformed, &status);
	enum MHD_Result ret;

	if (!malformed && info->retry_after_s > 0)
		return send_refusing(conn, doc, status,
				     (unsigned)info->retry_after_s, 0);
	ret = send_json(conn, status, doc, "application/problem+json", NULL,
			allow, challenge);
	json_decref(doc);
	return ret;
}

/* The problem document of err with its own status, type and title. */
static json_t *problem_as(const rd_error *err, unsigned status,
			  const char *name, const char *title)
{
	unsigned table_status;
	json_t *doc = http_problem(err, 0, &table_status);
	char type[128];

	snprintf(type, sizeof(type), "https://redress.dev/problems/%s", name);
	if (doc && (json_object_set_new(doc, "type", json_string(type)) ||
		    json_object_set_new(doc, "title", json_string(title)) ||
		    json_object_set_new(doc, "status",
					json_integer(status)))) {
		json_decref(doc);
		doc = NULL;
	}
	return doc;
}

/* A problem with its own status and type, outside the error table. */
static enum MHD_Result send_problem_as(struct MHD_Connection *conn,
				       const rd_error *err, unsigned status,
				       const char *name, const char *title,
				       const char *allow, int challenge)
{
	json_t *doc = problem_as(err, status, name, title);
	enum MHD_Result ret;

	ret = send_json(conn, status, doc, "application/problem+json", NULL,
			allow, challenge);
	json_decref(doc);
	return ret;
}

/*
 * A problem document (doc, given up here) with `status`, a Retry-After of
 * retry_after_s whole seconds (0: none), closing the connection when asked.
 */
static enum MHD_Result send_refusing(struct MHD_Connection *conn,
				     json_t *doc, unsigned status,
				     unsigned retry_after_s,
				     int close_connection)
{
	char *body = doc ? rd_json_dumps(doc, JSON_COMPACT) : NULL;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char retry[16];

	json_decref(doc);
	if (!body)
		return send_json(conn, 500, NULL, NULL, NULL, NULL, 0);
	resp = MHD_create_response_from_buffer(strlen(body), body,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/problem+json");
	if (retry_after_s) {
		snprintf(retry, sizeof(retry), "%u", retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
					retry);
	}
	if (close_connection)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
					"close");
	ret = queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * A refusal of the server's own (429, 503): a problem with Retry-After
 * (whole seconds), closing the connection when asked.
 */
static enum MHD_Result send_guard(struct MHD_Connection *conn,
				  const rd_error *err, unsigned status,
				  const char *name, const char *title,
				  unsigned retry_after_s, int close_connection)
{
	return send_refusing(conn, problem_as(err, status, name, title),
			     status, retry_after_s, close_connection);
}

/* ---- one request ---------------------------------------------------------- */

static int authenticate(http_call *call, struct MHD_Connection *conn,
			rd_error *err)
{
	const char *header = MHD_lookup_connection_value(conn,
				MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return rd_error_set(err, RD_EFORBIDDEN,
				    "an API key is required: send "
				    "\"Authorization: Bearer <key>\"");
	header += 7;
	while (*header == ' ')
		header++;
	return rd_service_key_authenticate(call->svc, header, &call->actor,
					   call->storefront, err);
}

/* 1 when len bytes at s are UTF-8 without NUL or other control characters
 * (tab and line breaks allowed, as in a note). */
static int query_text_ok(const char *s, size_t len)
{
	return !s || rd_text_check(s, len, 1) == RD_TEXT_OK;
}

/*
 * MHD iterator: keep each query parameter (MHD has decoded it). A decoded
 * %00 would cut the C string short and a stray %FF is no text: note the
 * first such parameter, for the routes that read the query to refuse
 * rather than read it as something else.
 */
static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind,
				     const char *key, size_t key_size,
				     const char *value, size_t value_size)
{
	http_call *call = cls;

	(void)kind;
	if (!call->query_unclean && (!query_text_ok(key, key_size) ||
				     !query_text_ok(value, value_size)))
		call->query_unclean = key ? key : "";
	if (call->query_count >= HTTP_MAX_QUERY) {
		call->query_overflow = 1;
		return MHD_NO;
	}
	call->query[call->query_count].name = key ? key : "";
	call->query[call->query_count].value = value ? value : "";
	call->query_count++;
	return MHD_YES;
}

/* The headers of a file or a streamed body, from the handler's call. */
static enum MHD_Result send_bytes(struct MHD_Connection *conn,
				  const http_call *call,
				  struct MHD_Response *resp)
{
	enum MHD_Result ret;

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				call->content_type);
	if (call->disposition[0])
		MHD_add_response_header(resp, "Content-Disposition",
					call->disposition);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (call->etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
					call->etag);
	if (call->repr_digest[0])
		MHD_add_response_header(resp, "Repr-Digest",
					call->repr_digest);
	ret = queue_response(conn, call->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Bytes of a file the handler made (call->file_fd, given up here). */
static enum MHD_Result send_file(struct MHD_Connection *conn,
				 http_call *call)
{
	struct MHD_Response *resp;
	rd_error err;

	resp = MHD_create_response_from_fd64(call->file_size, call->file_fd);
	if (!resp) {
		close(call->file_fd);
		rd_error_clear(&err);
		rd_error_set(&err, RD_ENOMEM, "out of memory sending a file");
		return send_problem(conn, &err, 0, NULL, 0);
	}
	return send_bytes(conn, call, resp);
}

/* Text a handler made (call->text, given up here). */
static enum MHD_Result send_text(struct MHD_Connection *conn,
				 http_call *call)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	rd_error err;

	resp = MHD_create_response_from_buffer(call->text_len, call->text,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(call->text);
		call->text = NULL;
		rd_error_clear(&err);
		rd_error_set(&err, RD_ENOMEM, "out of memory sending text");
		return send_problem(conn, &err, 0, NULL, 0);
	}
	call->text = NULL;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				call->content_type);
	ret = queue_response(conn, call->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A file of the web console, or its 304 or redirect (ui.c). */
static enum MHD_Result send_console(struct MHD_Connection *conn,
				    http_call *call)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(call->bytes ? call->bytes_len
							    : 0,
					       (void *)call->bytes,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				call->content_type);
	if (call->etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
					call->etag);
	if (call->location[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
					call->location);
	/* revalidate every time: a 304 is cheap, a stale console is not */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-cache");
	MHD_add_response_header(resp, "Content-Security-Policy", HTTP_UI_CSP);
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy",
				"same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
				"same-origin");
	ret = queue_response(conn, call->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* 204: done, nothing to say. */
static enum MHD_Result send_no_content(struct MHD_Connection *conn,
				       const http_call *call)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	if (call && call->replayed)
		MHD_add_response_header(resp, "Idempotent-Replayed", "true");
	ret = queue_response(conn, 204, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The answer a handler filled, or its problem. */
static enum MHD_Result send_result(struct MHD_Connection *conn,
				   http_call *call, int rc,
				   const rd_error *err)
{
	enum MHD_Result ret;

	if (rc < 0 && call->key_refused == HTTP_KEY_REUSED)
		ret = send_problem_as(conn, err, 422, "idempotency_key_reused",
				      "Idempotency-Key reused", NULL, 0);
	else if (rc < 0 && call->key_refused == HTTP_KEY_IN_FLIGHT)
		ret = send_problem_as(conn, err, 409,
				      "idempotency_key_in_flight",
				      "Idempotency-Key in flight", NULL, 0);
	else if (rc < 0)
		ret = send_problem(conn, err, call->malformed, NULL, 0);
	else if (call->console)
		ret = send_console(conn, call);
	else if (call->has_file)
		ret = send_file(conn, call);
	else if (call->text)
		ret = send_text(conn, call);
	else if (call->status == 204)
		ret = send_no_content(conn, call);
	else
		ret = send_json(conn, call->status, call->reply,
				"application/json", call, NULL, 0);
	json_decref(call->reply);
	call->reply = NULL;
	free(call->text);
	call->text = NULL;
	return ret;
}

/*
 * Take a token from the key's bucket; an empty bucket is a refusal with
 * the whole seconds until a token is back in req->retry_after_s.
 */
static int rate_check(struct rd_http_server *server, const http_call *call,
		      request *req, rd_error *err)
{
	uint64_t wait_ns = 0;

	if (!server->limiter ||
	    http_ratelimit_take(server->limiter, call->actor.key_id,
				monotonic_ns(), &wait_ns))
		return RD_OK;
	req->retry_after_s = (unsigned)((wait_ns + UINT64_C(999999999)) /
					UINT64_C(1000000000));
	if (req->retry_after_s == 0)
		req->retry_after_s = 1;
	return rd_error_set(err, RD_EBUSY,
			    "this API key is over its rate limit (%u requests "
			    "per second, bursts of up to %u); retry after "
			    "%u s", server->rate_limit,
			    2 * server->rate_limit, req->retry_after_s);
}

/*
 * Fill what a handler sees of the request and check its key, its rate and
 * its role. On failure *refusal tells a 401 (bad or missing key) or a 429
 * (over the key's rate) from err's own status.
 */
static int prepare(struct rd_http_server *server, struct MHD_Connection *conn,
		   request *req, http_call *call, int *refusal,
		   rd_error *err)
{
	const http_route *route = req->match.route;
	int rc;

	*refusal = REFUSED_BY_TABLE;
	memset(call, 0, sizeof(*call));
	call->metrics = server->metrics;
	call->writer = server->writer;
	memcpy(call->params, req->match.params, sizeof(call->params));
	call->body = req->body ? req->body : "";
	call->body_len = req->len;
	call->file_fd = -1;
	call->if_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_IF_MATCH);
	call->idempotency_key = MHD_lookup_connection_value(conn,
			MHD_HEADER_KIND, "Idempotency-Key");
	call->content_length = MHD_lookup_connection_value(conn,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	call->if_none_match = MHD_lookup_connection_value(conn,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND,
				    collect_query, call);
	call->status = 200;
	if ((rc = rd_clock_now(&call->now, err)) < 0)
		return rc;
	if (!route->roles)
		return RD_OK;
	if ((rc = thread_service(&call->svc, server, err)) < 0 ||
	    route->roles == HTTP_PUBLIC_RECORD)
		return rc;
	if ((rc = authenticate(call, conn, err)) < 0) {
		/* Not a valid key: 401, the same answer every time. */
		if (rc == RD_EFORBIDDEN)
			*refusal = REFUSED_UNAUTHORIZED;
		return rc;
	}
	if ((rc = rate_check(server, call, req, err)) < 0) {
		*refusal = REFUSED_RATE_LIMITED;
		return rc;
	}
	if (!(route->roles & HTTP_ROLE(call->actor.role)))
		return rd_error_set(err, RD_EFORBIDDEN,
				    "role %s may not %s %s",
				    rd_role_name(call->actor.role),
				    route->method, route->pattern);
	return RD_OK;
}

static enum MHD_Result send_refusal(struct MHD_Connection *conn,
				    const request *req, const rd_error *err,
				    int refusal)
{
	if (refusal == REFUSED_UNAUTHORIZED)
		return send_problem_as(conn, err, 401, "unauthorized",
				       "Unauthorized", NULL, 1);
	if (refusal == REFUSED_RATE_LIMITED)
		return send_guard(conn, err, 429, "rate_limited",
				  "Too many requests", req->retry_after_s, 0);
	if (refusal == REFUSED_IDEM_IN_FLIGHT)
		return send_problem_as(conn, err, 409,
				       "idempotency_key_in_flight",
				       "Idempotency-Key in flight", NULL, 0);
	if (refusal == REFUSED_IDEM_REUSED)
		return send_problem_as(conn, err, 422,
				       "idempotency_key_reused",
				       "Idempotency-Key reused", NULL, 0);
	return send_problem(conn, err, 0, NULL, 0);
}

/* ---- Idempotency-Key ------------------------------------------------------ */

/*
 * Take the Idempotency-Key of a POST that accepts one: check it and claim
 * it for this request, in this process and for every other process and
 * node on the record (a duplicate in flight anywhere is refused). The
 * recorded answer is looked up only once the claim is held (idem_run), so
 * that a request that got the claim after the first one was answered
 * finds its record. Without a key, or on a route that takes none, nothing
 * happens.
 */
static int idem_start(struct rd_http_server *server,
		      struct MHD_Connection *conn, request *req,
		      const http_call *call, rd_error *err)
{
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      "Idempotency-Key");
	int op = http_idem_operation(req->match.route);
	int rc;

	if (!key || op < 0)
		return RD_OK;
	if ((rc = rd_idem_key_check(key, err)) < 0)
		return rc;
	if ((rc = http_idem_claim_take(server->idem, call->svc, &call->actor,
				       key, &req->claim, err)) < 0) {
		if (rc == RD_ECONFLICT)
			req->idem_problem = REFUSED_IDEM_IN_FLIGHT;
		return rc;
	}
	snprintf(req->idem_key, sizeof(req->idem_key), "%s", key);
	req->idem_op = op;
	return RD_OK;
}

/*
 * Answer from the record of an earlier request under the same key: 1 when
 * call holds the replayed answer, 0 when there is no record, negative when
 * the key was used for another request (idem_problem says so) or the
 * record cannot be read.
 */
static int idem_lookup(request *req, http_call *call, const char *digest,
		       rd_error *err)
{
	rd_idem_record rec;
	int rc;

	rc = rd_service_idem_get(call->svc, &call->actor, req->idem_key,
				 call->now, &rec, err);
	if (rc == RD_ENOTFOUND) {
		rd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (strcmp(rec.request_sha256, digest) != 0) {
		req->idem_problem = REFUSED_IDEM_REUSED;
		rc = rd_error_set_field(err, RD_EINVALID, "Idempotency-Key",
					"this Idempotency-Key was used for "
					"another request (another path, "
					"body or file); send a new key with "
					"a new request");
	} else if ((rc = http_idem_replay(call, &rec, err)) == RD_OK) {
		rc = 1;
	}
	rd_idem_record_clear(&rec);
	return rc;
}

/*
 * Run `run` (a handler, or the end of a stream) as an idempotent write:
 * replay an earlier answer if there is one; else arm the service so that
 * the write records its request with its effect. A write that fails
 * because a racing request with the same key got there first is answered
 * with that request's record.
 */
static int idem_run(request *req, http_call *call, const char *digest,
		    int (*run)(request *req, http_call *call, rd_error *err),
		    rd_error *err)
{
	rd_error again;
	int rc;

	if ((rc = idem_lookup(req, call, digest, err)) != 0)
		return rc < 0 ? rc : RD_OK;
	if ((rc = rd_service_idem_arm(call->svc, &call->actor, req->idem_key,
				      digest, (rd_idem_operation)req->idem_op,
				      err)) < 0)
		return rc;
	rc = run(req, call, err);
	rd_service_idem_disarm(call->svc);
	if (rc < 0) {
		int found;

		rd_error_clear(&again);
		found = idem_lookup(req, call, digest, &again);
		if (found == 1) {
			rd_error_clear(err);
			req->idem_problem = REFUSED_BY_TABLE;
			return RD_OK;
		}
		/* a racing request under the same key, with another body */
		if (found < 0 && req->idem_problem == REFUSED_IDEM_REUSED)
			*err = again;
	}
	return rc;
}

/*
 * The idempotent write has run: its record, if any, is durable. Release
 * the key (here and for the other nodes) before the answer is queued, so
 * that a client that read the answer and retries at once on another
 * connection, to this node or another, is replayed the record rather
 * than told the key is still in flight.
 */
static void idem_done(struct rd_http_server *server, request *req)
{
	http_idem_claim_release(server->idem, req->claim);
	req->claim = NULL;
}

static int run_handler(request *req, http_call *call, rd_error *err)
{
	return req->match.route->handler(call, err);
}

static int run_stream_end(request *req, http_call *call, rd_error *err)
{
	return req->stream->end(call, req->state, err);
}

/* The form's end: its closing boundary must have come. */
static void form_close(request *req)
{
	struct MHD_PostProcessor *form = req->form;

	req->form = NULL;
	if (form && MHD_destroy_post_processor(form) != MHD_YES &&
	    !req->failed && !req->too_large) {
		rd_error_set(&req->err, RD_EUSAGE, "the multipart/form-data "
			     "body ends before its closing boundary");
		req->failed = 1;
	}
}

/* ---- slow work (slow.c) ---------------------------------------------------- */

/*
 * A slow route, its key checked: hand it to the slow-work threads and
 * suspend the connection (MHD calls on_request again once it is resumed),
 * or refuse it when a bound is full: 429 for the key's, 503 for the
 * server's, each with Retry-After.
 */
static enum MHD_Result slow_start(struct rd_http_server *server,
				  struct MHD_Connection *conn, request *req,
				  const http_call *call)
{
	unsigned retry_after_s = 0;
	int refusal = 0;
	rd_error err;

	rd_error_clear(&err);
	if (http_slow_submit(&req->job, server->slow, conn, req->match.route,
			     call, &refusal, &retry_after_s, &err) == RD_OK) {
		req->waiting = 1;
		return MHD_YES;
	}
	if (refusal == HTTP_SLOW_KEY_FULL)
		return send_guard(conn, &err, 429, "slow_work_limited",
				  "Too many slow requests", retry_after_s, 0);
	if (refusal == HTTP_SLOW_POOL_FULL)
		return send_guard(conn, &err, 503, "unavailable",
				  "Service unavailable", retry_after_s, 0);
	return send_problem(conn, &err, 0, NULL, 0);
}

/* A streamed body of a slow job: its headers now, its bytes as read. */
static enum MHD_Result send_stream(struct MHD_Connection *conn,
				   http_call *call, http_slow_job *job)
{
	struct MHD_Response *resp = http_slow_response(job);
	rd_error err;

	if (!resp) {
		rd_error_clear(&err);
		rd_error_set(&err, RD_ENOMEM, "out of memory sending a body");
		return send_problem(conn, &err, 0, NULL, 0);
	}
	return send_bytes(conn, call, resp);
}

/* MHD resumed a slow request: answer it, or wait on. */
static enum MHD_Result slow_continue(struct rd_http_server *server,
				     struct MHD_Connection *conn,
				     request *req)
{
	int state = http_slow_poll(req->job);
	enum MHD_Result ret;
	http_call *call;
	rd_error err;
	int rc;

	req->waiting = state == HTTP_SLOW_WAIT;
	if (state == HTTP_SLOW_WAIT)
		return MHD_YES;
	if (state == HTTP_SLOW_EXPIRED) {
		unsigned retry_after_s = http_slow_retry_after(server->slow);

		rd_error_clear(&err);
		rd_error_set(&err, RD_EBUSY, "the answer did not begin in "
			     "time (the server is busy or stopping); retry "
			     "after %u s", retry_after_s);
		return send_guard(conn, &err, 503, "unavailable",
				  "Service unavailable", retry_after_s, 0);
	}
	call = http_slow_answer(req->job, &rc, &err);
	if (state == HTTP_SLOW_STREAM)
		return send_stream(conn, call, req->job);
	ret = send_result(conn, call, rc, &err);
	/* a file, if any, is the response's now */
	call->has_file = 0;
	call->file_fd = -1;
	return ret;
}

/* ---- writes, group-committed (writer.c) --------------------------------------- */

/* What the writer runs for a queued write, in its batch's transaction. */
static int write_run(void *ctx, http_call *call, rd_error *err)
{
	request *req = ctx;

	if (req->idem_key[0])
		return idem_run(req, call, req->digest, run_handler, err);
	return run_handler(req, call, err);
}

/*
 * Queue req for the writer, which runs `run` in its batch, and suspend the
 * connection until the batch has committed; 503 when the writer takes no
 * more (its key released: nothing was written).
 */
static enum MHD_Result write_queue(struct rd_http_server *server,
				   struct MHD_Connection *conn, request *req,
				   int (*run)(void *ctx, http_call *call,
					      rd_error *err))
{
	rd_error err;

	rd_error_clear(&err);
	if (http_writer_submit(&req->write, server->writer, conn, &req->call,
			       run, req, &err) == RD_OK) {
		req->waiting = 1;
		return MHD_YES;
	}
	idem_done(server, req);
	return send_guard(conn, &err, 503, "unavailable",
			  "Service unavailable", 1, 0);
}

/*
 * A write route, its key checked: its Idempotency-Key claimed, queued for
 * the writer and the connection suspended until its batch has committed.
 */
static enum MHD_Result write_start(struct rd_http_server *server,
				   struct MHD_Connection *conn, request *req,
				   const http_call *call)
{
	rd_error err;

	rd_error_clear(&err);
	req->call = *call;
	if (idem_start(server, conn, req, &req->call, &err) < 0)
		return send_refusal(conn, req, &err, req->idem_problem);
	if (req->idem_key[0])
		http_idem_digest_body(req->digest, req->match.route,
				      &req->call);
	return write_queue(server, conn, req, write_run);
}

/* What the writer runs for a queued stream's end, in its batch. */
static int stream_write_run(void *ctx, http_call *call, rd_error *err)
{
	request *req = ctx;

	if (req->idem_key[0])
		return idem_run(req, call, req->digest, run_stream_end, err);
	return run_stream_end(req, call, err);
}

/*
 * A stream's body is in: its bytes made durable here (seal), then its end
 * queued for the writer, the connection suspended until the batch has
 * committed; the answer is write_continue's.
 */
static enum MHD_Result stream_write_start(struct rd_http_server *server,
					  struct MHD_Connection *conn,
					  request *req)
{
	req->stream->seal(req->state);
	if (req->idem_key[0])
		req->stream->digest(req->state, req->match.route, &req->call,
				    req->digest);
	return write_queue(server, conn, req, stream_write_run);
}

/* MHD resumed a queued write: answer it once its batch has committed. */
static enum MHD_Result write_continue(struct rd_http_server *server,
				      struct MHD_Connection *conn,
				      request *req)
{
	rd_error err;
	int rc = RD_OK;

	rd_error_clear(&err);
	if (!http_write_job_done(req->write, &rc, &err)) {
		req->waiting = 1;
		return MHD_YES;
	}
	req->waiting = 0;
	idem_done(server, req);
	if (rc < 0 && req->idem_problem) {
		json_decref(req->call.reply);
		req->call.reply = NULL;
		return send_refusal(conn, req, &err, req->idem_problem);
	}
	return send_result(conn, &req->call, rc, &err);
}

static enum MHD_Result answer(struct rd_http_server *server,
			      struct MHD_Connection *conn, request *req)
{
	const http_route *route = req->match.route;
	http_call call;
	rd_error err;
	int refusal;
	int rc;

	rd_error_clear(&err);
	if (!route) {
		if (req->match.allow[0]) {
			rd_error_set(&err, RD_EUSAGE, "this path takes %s only",
				     req->match.allow);
			return send_problem_as(conn, &err, 405,
					       "method_not_allowed",
					       "Method not allowed",
					       req->match.allow, 0);
		}
		rd_error_set(&err, RD_ENOTFOUND, "no such resource");
		return send_problem(conn, &err, 0, NULL, 0);
	}
	if (route->stream) {
		form_close(req);
		if (req->failed || req->too_large)
			idem_done(server, req);  /* nothing was written */
		if (req->failed)
			return send_refusal(conn, req, &req->err,
					    req->idem_problem ? req->idem_problem
							      : req->refusal);
		if (req->too_large) {
			rd_error_set(&err, RD_ETOOLARGE,
				     "the request body is over this route's "
				     "limit of %zu bytes", route->body_limit);
			return send_problem(conn, &err, 0, NULL, 0);
		}
		if (req->stream->seal && server->writer)
			return stream_write_start(server, conn, req);
		if (req->idem_key[0]) {
			char digest[65];

			req->stream->digest(req->state, route, &req->call,
					    digest);
			rc = idem_run(req, &req->call, digest, run_stream_end,
				      &err);
			idem_done(server, req);
			if (rc < 0 && req->idem_problem)
				return send_refusal(conn, req, &err,
						    req->idem_problem);
		} else {
			rc = run_stream_end(req, &req->call, &err);
		}
		return send_result(conn, &req->call, rc, &err);
	}
	if (req->too_large) {
		rd_error_set(&err, RD_ETOOLARGE,
			     "the request body is over this route's limit of "
			     "%zu bytes", route->body_limit);
		return send_problem(conn, &err, 0, NULL, 0);
	}
	if (prepare(server, conn, req, &call, &refusal, &err) < 0)
		return send_refusal(conn, req, &err, refusal);
	if (http_route_slow(route))
		return slow_start(server, conn, req, &call);
	if (http_route_writes(route) && server->writer)
		return write_start(server, conn, req, &call);
	if (idem_start(server, conn, req, &call, &err) < 0)
		return send_refusal(conn, req, &err, req->idem_problem);
	if (req->idem_key[0]) {
		char digest[65];

		http_idem_digest_body(digest, route, &call);
		rc = idem_run(req, &call, digest, run_handler, &err);
		idem_done(server, req);
		if (rc < 0 && req->idem_problem) {
			json_decref(call.reply);
			return send_refusal(conn, req, &err,
					    req->idem_problem);
		}
	} else {
		rc = run_handler(req, &call, &err);
	}
	return send_result(conn, &call, rc, &err);
}

/* MHD's post processor found (part of) a form part: hand it on. */
static enum MHD_Result on_form_part(void *cls, enum MHD_ValueKind kind,
				    const char *key, const char *filename,
				    const char *content_type,
				    const char *transfer_encoding,
				    const char *data, uint64_t off,
				    size_t size)
{
	request *req = cls;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (req->failed)
		return MHD_YES;
	if (http_form_part(req->state, key, filename, data, off, size,
			   &req->err) < 0)
		req->failed = 1;
	return MHD_YES;
}

/* Headers of a streamed route: check the key and start the stream. */
static void stream_begin(struct rd_http_server *server,
			 struct MHD_Connection *conn, request *req)
{
	int rc;

	rd_error_clear(&req->err);
	rc = prepare(server, conn, req, &req->call, &req->refusal,
		     &req->err);
	if (rc >= 0)
		rc = idem_start(server, conn, req, &req->call, &req->err);
	req->call.idempotent = req->idem_key[0] != '\0';
	if (rc >= 0)
		rc = req->stream->begin(&req->call, &req->state, &req->err);
	if (rc >= 0 && req->stream == &http_form_upload &&
	    !(req->form = MHD_create_post_processor(conn, FORM_BUFFER,
						    on_form_part, req)))
		rc = rd_error_set(&req->err, RD_EUSAGE, "the multipart/"
				  "form-data body has no usable boundary in "
				  "its Content-Type");
	if (rc < 0)
		req->failed = 1;
}

/* The stream for an upload: a multipart form, or the raw body. */
static const http_stream *choose_stream(struct MHD_Connection *conn,
					const http_route *route)
{
	const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_CONTENT_TYPE);

	if (type && strncasecmp(type, "multipart/form-data", 19) == 0 &&
	    (type[19] == ';' || type[19] == ' ' || type[19] == '\0'))
		return &http_form_upload;
	return route->stream;
}

/* One chunk of a streamed body; after a failure it is dropped. */
static void stream_chunk(request *req, const char *data, size_t n)
{
	const http_route *route = req->match.route;

	if (req->failed || req->too_large)
		return;
	if (req->len + n > route->body_limit) {
		req->too_large = 1;
		return;
	}
	req->len += n;
	if (req->form) {
		if (MHD_post_process(req->form, data, n) != MHD_YES &&
		    !req->failed) {
			rd_error_set(&req->err, RD_EUSAGE, "the multipart/"
				     "form-data body is malformed");
			req->failed = 1;
		}
		return;
	}
	if (req->stream->write(req->state, data, n, &req->err) < 0)
		req->failed = 1;
}


/*
 * Count the answer just queued, before MHD writes it: a client that has
 * read an answer finds it counted in the next scrape.
 */
static void count_answer(struct rd_http_server *server,
			 struct MHD_Connection *conn, request *req)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn,
				MHD_CONNECTION_INFO_HTTP_STATUS);

	if (req->answered)
		return;
	req->answered = 1;
	http_metrics_answered(server->metrics, req->series,
			      info ? info->http_status
				   : HTTP_METRICS_NO_STATUS);
}

/* A request on a connection still open while the server stops. */
static enum MHD_Result send_stopping(struct MHD_Connection *conn)
{
	rd_error err;

	rd_error_clear(&err);
	rd_error_set(&err, RD_EBUSY, "the server is stopping; retry on a "
		     "new connection");
	/* Queued before any body is read, which also closes the connection. */
	return send_guard(conn, &err, 503, "unavailable",
			  "Service unavailable", 1, 1);
}

/*
 * libmicrohttpd's decoding of %XX in the path and the query, except that a
 * decoded NUL byte becomes the control character 0x01. The path reaches
 * the handler as a C string, and a NUL would cut it short, so that
 * /v1/disputes/<id>%00<anything> would be read as /v1/disputes/<id>. A
 * control character matches no dispute id or evidence number, and is
 * refused wherever text is checked (a query parameter: 422).
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	size_t len = MHD_http_unescape(s);

	(void)cls;
	(void)conn;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0')
			s[i] = '\x01';
	return len;
}

/* MHD iterator: count the Content-Length headers into *cls. */
static enum MHD_Result count_content_length(void *cls,
					    enum MHD_ValueKind kind,
					    const char *key, const char *value)
{
	unsigned *count = cls;

	(void)kind;
	(void)value;
	if (key && strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		(*count)++;
	return MHD_YES;
}

/*
 * A refusal made from the headers alone, before any body is read: the
 * connection is closed after it, since the body that follows is not read.
 */
static enum MHD_Result send_closing(struct MHD_Connection *conn,
				    const rd_error *err)
{
	unsigned status = 500;
	json_t *doc = http_problem(err, 0, &status);

	return send_refusing(conn, doc, status,
			     (unsigned)rd_code_info_get(err->code)
				     ->retry_after_s, 1);
}

/*
 * What the headers alone refuse: Content-Length given more than once
 * (libmicrohttpd would read the body by the first and take the rest for
 * the next request, while another reader could go by the other), a
 * chunked evidence upload (its size must be declared), and a
 * declared body over the route's limit, which would otherwise be read to
 * the end only to be dropped. RD_OK, or the refusal in err.
 */
static int check_framing(struct MHD_Connection *conn,
			 const http_route *route, rd_error *err)
{
	const char *declared = MHD_lookup_connection_value(conn,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned lengths = 0;
	unsigned long long size;
	char *end = NULL;

	MHD_get_connection_values(conn, MHD_HEADER_KIND,
				  count_content_length, &lengths);
	if (lengths > 1)
		return rd_error_set_field(err, RD_EUSAGE,
					  MHD_HTTP_HEADER_CONTENT_LENGTH,
					  "Content-Length is given more than "
					  "once; send it once");
	if (route && route->stream &&
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return rd_error_set_field(err, RD_EUSAGE,
					  MHD_HTTP_HEADER_CONTENT_LENGTH,
					  "an evidence upload needs a "
					  "Content-Length header giving the "
					  "body's size in bytes (chunked "
					  "uploads are not taken)");
	if (!route || !declared)
		return RD_OK;
	errno = 0;
	size = strtoull(declared, &end, 10);
	if (errno == 0 && end != declared && size > route->body_limit)
		return rd_error_set(err, RD_ETOOLARGE,
				    "the request body is over this route's "
				    "limit of %zu bytes", route->body_limit);
	return RD_OK;
}

/*
 * 1 when a streamed upload refused at its headers for its size (over the
 * kind's limit, 413, or the storefront's quota, 507) is answered at once:
 * when the client waits for "100 Continue" before sending its body, so
 * that none of the body is sent for nothing. Any other client has its
 * body read and dropped, then the same answer; neither stores a byte.
 */
static int stream_refused_early(struct MHD_Connection *conn,
				const request *req)
{
	const char *expect;

	if (!req->failed || req->refusal != REFUSED_BY_TABLE ||
	    req->idem_problem ||
	    (req->err.code != RD_EQUOTA && req->err.code != RD_ETOOLARGE))
		return 0;
	expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_EXPECT);
	return expect && strcasecmp(expect, "100-continue") == 0;
}

/* ---- message framing (RFC 9112) ------------------------------------------- */

/*
 * What the walk over the header lines keeps. libmicrohttpd hands each
 * header as a C string measured with strlen(), so a NUL inside a value
 * ends it early: "Authorization: Bearer <key>\0junk" would read as the
 * key alone. It parses the lines in place in one buffer (the request line
 * starts it, at `method`; REQUEST_HEADER_SIZE bytes long) and turns each
 * line's CR LF into NULs, so the bytes between the end of one value and
 * the next name can only be that line end: one or two NULs. Anything else
 * there is a NUL inside the value, or a folded line (obs-fold), which
 * RFC 9112 allows a server to refuse.
 */
typedef struct header_walk {
	const char *start, *end;    /* the request line and headers */
	const char *after;          /* the end of the last value seen */
	const char *last;           /* the name of the last header seen */
	const char *bad;            /* the first header refused, or NULL */
	unsigned transfer_encodings;
} header_walk;

/*
 * 1 when the bytes from p to `to` (both within the request's buffer) are
 * NULs, least to most of them.
 */
static int line_end_ok(const char *p, const char *to, size_t least,
		       size_t most)
{
	size_t len;

	if ((uintptr_t)to < (uintptr_t)p)
		return 0;
	len = (size_t)((uintptr_t)to - (uintptr_t)p);
	if (len < least || len > most)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] != '\0')
			return 0;
	return 1;
}

/* 1 when the n bytes at s hold no control byte (HTAB only where tab). */
static int field_bytes_ok(const char *s, size_t n, int tab)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && !(tab && c == '\t')) || c == 0x7f)
			return 0;
	}
	return 1;
}

static enum MHD_Result walk_header(void *cls, enum MHD_ValueKind kind,
				   const char *key, size_t key_size,
				   const char *value, size_t value_size)
{
	header_walk *w = cls;

	(void)kind;
	/* in the buffer, in order: else it was moved, a folded line */
	if (!key || !value || (uintptr_t)key < (uintptr_t)w->start ||
	    (uintptr_t)key + key_size > (uintptr_t)w->end ||
	    (uintptr_t)value < (uintptr_t)key ||
	    (uintptr_t)value + value_size > (uintptr_t)w->end) {
		w->bad = key && w->last ? w->last : "";
		return MHD_NO;
	}
	if (w->after && !line_end_ok(w->after, key, 1, 2)) {
		w->bad = w->last;       /* its value went on after a NUL */
		return MHD_NO;
	}
	if (!field_bytes_ok(key, key_size, 0) ||
	    !field_bytes_ok(value, value_size, 1)) {
		w->bad = key;
		return MHD_NO;
	}
	if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		w->transfer_encodings++;
	w->after = value + value_size;
	w->last = key;
	return MHD_YES;
}

/* 1 when name can be shown: a header name of printable ASCII. */
static int name_showable(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(((rd_error *)0)->field))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return 0;
	return 1;
}

/*
 * RFC 9112's rules on what frames a request, which libmicrohttpd does not
 * apply: no control byte but HTAB in a header (a NUL would cut a value
 * short), no folded header line, Transfer-Encoding only on HTTP/1.1 and
 * never with Content-Length (the two readers of such a request disagree on
 * where it ends), and no transfer coding but chunked (libmicrohttpd would
 * read any other one until the client closes, answering nothing). `method`
 * is the handler's own argument, the start of the request in the buffer.
 * 0, or the status of the refusal (400, 501) with err filled.
 */
static unsigned check_message(struct MHD_Connection *conn, const char *method,
			      const char *version, rd_error *err)
{
	const union MHD_ConnectionInfo *size = MHD_get_connection_info(conn,
				MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	header_walk w;
	const char *coding;

	memset(&w, 0, sizeof(w));
	w.start = method;
	w.end = size ? method + size->header_size : NULL;
	if (w.end) {
		MHD_get_connection_values_n(conn, MHD_HEADER_KIND, walk_header,
					    &w);
		/* the last line's end, then the empty line's */
		if (!w.bad && w.after && !line_end_ok(w.after, w.end, 2, 4))
			w.bad = w.last;
	}
	if (w.bad && name_showable(w.bad)) {
		rd_error_set_field(err, RD_EUSAGE, w.bad, "the header %s "
				   "holds a control character (only HTAB is "
				   "allowed in a value) or is folded onto "
				   "the next line", w.bad);
		return 400;
	}
	if (w.bad) {
		rd_error_set(err, RD_EUSAGE, "a header line holds a control "
			     "character (only HTAB is allowed in a value) or "
			     "is folded onto the next line");
		return 400;
	}
	coding = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (!coding)
		return 0;
	if (w.transfer_encodings > 1 || strcmp(version, "HTTP/1.1") != 0) {
		rd_error_set_field(err, RD_EUSAGE,
				   MHD_HTTP_HEADER_TRANSFER_ENCODING,
				   "Transfer-Encoding must be given once, in "
				   "an HTTP/1.1 request");
		return 400;
	}
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		rd_error_set_field(err, RD_EUSAGE,
				   MHD_HTTP_HEADER_TRANSFER_ENCODING,
				   "a request may not give both "
				   "Content-Length and Transfer-Encoding; "
				   "send one");
		return 400;
	}
	if (strcasecmp(coding, "chunked") != 0) {
		rd_error_set_field(err, RD_EUSAGE,
				   MHD_HTTP_HEADER_TRANSFER_ENCODING,
				   "the transfer coding \"%.64s\" is not "
				   "implemented; send chunked, or a "
				   "Content-Length", coding);
		return 501;
	}
	return 0;
}

/* The refusal of check_message, closing the connection: its body is not
 * read. */
static enum MHD_Result send_unframed(struct MHD_Connection *conn,
				     const rd_error *err, unsigned status)
{
	if (status == 501)
		return send_refusing(conn, problem_as(err, 501,
						      "not_implemented",
						      "Not implemented"),
				     501, 0, 1);
	return send_closing(conn, err);
}

/* ---- deadlines -------------------------------------------------------------- */

/*
 * The most body bytes that may earn time for this request: its declared
 * length, or its route's limit when chunked; 0 when it has no body.
 */
static uint64_t body_allowance(struct MHD_Connection *conn,
			       const http_route *route)
{
	const char *declared = MHD_lookup_connection_value(conn,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t limit = route ? route->body_limit : HTTP_JSON_BODY_LIMIT;
	unsigned long long size;
	char *end = NULL;

	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return limit;
	if (!declared)
		return 0;
	errno = 0;
	size = strtoull(declared, &end, 10);
	if (errno != 0 || end == declared)
		return limit;
	return size < limit ? size : limit;
}

/* MHD: the request line arrived (req_cls stays NULL: on_request makes it). */
static void *on_request_line(void *cls, const char *uri,
			     struct MHD_Connection *conn)
{
	struct rd_http_server *server = cls;

	(void)uri;
	http_deadlines_request_line(server->deadlines, conn);
	return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct rd_http_server *server = cls;
	request *req = *req_cls;
	enum MHD_Result ret;
	unsigned refused;
	rd_error err;

	if (!req) {
		/* Headers only: route now, answer once the body is read. */
		if (!(req = calloc(1, sizeof(*req))))
			return MHD_NO;
		req->started_ns = monotonic_ns();
		http_route_find(&req->match, method, url);
		req->series = http_metrics_series(server->metrics,
						  req->match.route, method);
		http_metrics_begin(server->metrics);
		*req_cls = req;
		if (atomic_load(&server->stopping)) {
			ret = send_stopping(conn);
			count_answer(server, conn, req);
			return ret;
		}
		rd_error_clear(&err);
		if ((refused = check_message(conn, method, version, &err))) {
			ret = send_unframed(conn, &err, refused);
			count_answer(server, conn, req);
			return ret;
		}
		if (check_framing(conn, req->match.route, &err) < 0) {
			ret = send_closing(conn, &err);
			count_answer(server, conn, req);
			return ret;
		}
		if (req->match.route && req->match.route->stream) {
			req->stream = choose_stream(conn, req->match.route);
			stream_begin(server, conn, req);
			if (stream_refused_early(conn, req)) {
				ret = send_closing(conn, &req->err);
				count_answer(server, conn, req);
				return ret;
			}
		}
		/* from here the body has its deadline */
		http_deadlines_body_start(server->deadlines, conn,
			body_allowance(conn, req->match.route));
		req->reading_body = 1;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
		http_deadlines_body_bytes(server->deadlines, conn,
					  *upload_data_size);
	if (*upload_data_size > 0 && req->match.route &&
	    req->match.route->stream) {
		stream_chunk(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		size_t limit = req->match.route ? req->match.route->body_limit
						: 0;

		*upload_data_size = 0;
		if (req->too_large || req->len + n > limit) {
			/* Read and drop the rest; answer 413 at the end. */
			req->too_large = 1;
			return MHD_YES;
		}
		if (req->len + n + 1 > req->cap) {
			size_t cap = req->cap ? req->cap : 4096;
			char *grown;

			while (cap < req->len + n + 1)
				cap *= 2;
			if (!(grown = realloc(req->body, cap)))
				return MHD_NO;
			req->body = grown;
			req->cap = cap;
		}
		memcpy(req->body + req->len, upload_data, n);
		req->len += n;
		req->body[req->len] = '\0';
		return MHD_YES;
	}
	if (req->reading_body) {
		req->reading_body = 0;
		http_deadlines_busy(server->deadlines, conn);
	}
	if (req->job)
		ret = slow_continue(server, conn, req);
	else if (req->write)
		ret = write_continue(server, conn, req);
	else
		ret = answer(server, conn, req);
	if (!req->waiting)
		count_answer(server, conn, req);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_cls, enum MHD_RequestTerminationCode code)
{
	struct rd_http_server *server = cls;
	request *req = *req_cls;

	(void)code;
	/* the answer is out: the connection waits for another request */
	http_deadlines_idle(server->deadlines, conn);
	if (req) {
		http_idem_claim_release(server->idem, req->claim);
		http_slow_release(req->job);
		http_write_job_free(req->write);
		if (!req->answered)
			http_metrics_answered(server->metrics, req->series,
					      HTTP_METRICS_NO_STATUS);
		http_metrics_end(server->metrics, req->series,
				 monotonic_ns() - req->started_ns);
		if (req->form)
			MHD_destroy_post_processor(req->form);
		if (req->stream)
			req->stream->release(req->state);
		json_decref(req->call.reply);
		free(req->call.text);
		free(req->body);
		free(req);
		*req_cls = NULL;
	}
}

/*
 * Every connection knows its server (queue_response looks at it), and has
 * its deadlines from its accept to its close: the socket is still open
 * when MHD tells of the close.
 */
static void on_connection(void *cls, struct MHD_Connection *conn,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct rd_http_server *server = cls;
	const union MHD_ConnectionInfo *info;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = cls;
		info = MHD_get_connection_info(conn,
				MHD_CONNECTION_INFO_CONNECTION_FD);
		if (info)
			http_deadlines_opened(server->deadlines, conn,
					      info->connect_fd);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		http_deadlines_closed(server->deadlines, conn);
	}
}

/* ---- start and stop --------------------------------------------------------- */

static int parse_listen(struct sockaddr_in *out, const char *listen,
			rd_error *err)
{
	const char *colon = strrchr(listen, ':');
	char host[64];
	char *end = NULL;
	long long port;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (!colon || colon == listen || colon[1] == '\0')
		goto bad;
	hlen = (size_t)(colon - listen);
	if (hlen >= sizeof(host))
		goto bad;
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		goto bad;
	errno = 0;
	port = strtoll(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 0 || port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		goto bad;
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return RD_OK;
bad:
	return rd_error_set_field(err, RD_EUSAGE, "listen",
				  "listen address \"%.100s\" is not HOST:PORT "
				  "with an IPv4 host and a port of 0 to 65535 "
				  "(e.g. 127.0.0.1:8080)", listen);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The request deadlines of opts (0: the default), and their reaper. */
static int start_deadlines(struct rd_http_server *server,
			   const rd_http_options *opts, rd_error *err)
{
	http_deadline_limits limits;

	limits.header_ms = 1000u * (uint64_t)(opts->header_timeout_s
					      ? opts->header_timeout_s
					      : HEADER_TIMEOUT_S);
	limits.body_ms = 1000u * (uint64_t)(opts->body_timeout_s
					    ? opts->body_timeout_s
					    : BODY_TIMEOUT_S);
	limits.body_min_rate = opts->body_min_rate ? opts->body_min_rate
						   : BODY_MIN_RATE;
	limits.idle_ms = 1000u * (uint64_t)(opts->idle_timeout_s
					    ? opts->idle_timeout_s
					    : IDLE_TIMEOUT_S);
	return http_deadlines_start(&server->deadlines, &limits, err);
}

/*
 * The group-commit writer threads: one on the embedded record, whose one
 * writer at a time would make more of them wait on each other; several
 * on PostgreSQL, which runs writers of different rows at once, one per
 * core by default: each spends its time between round trips, and more
 * than the cores (on a machine that also runs the database) only made
 * them wait on each other for the processor (docs/performance.md).
 */
static int writer_lanes(const rd_http_options *opts, long cores,
			unsigned *lanes, rd_error *err)
{
	int pg = opts->service.store &&
		 rd_store_target_is_postgres(opts->service.store);

	if (opts->writers > RD_HTTP_MAX_WRITERS)
		return rd_error_set_field(err, RD_EUSAGE, "writers",
					  "writers must be 1 to %d, not %u",
					  RD_HTTP_MAX_WRITERS, opts->writers);
	if (!pg && opts->writers > 1)
		return rd_error_set_field(err, RD_EUSAGE, "writers",
					  "the embedded record has one writer "
					  "at a time, so a server on it has "
					  "one writer thread; several need a "
					  "PostgreSQL record (--store "
					  "postgresql://...)");
	if (opts->writers)
		*lanes = opts->writers;
	else if (!pg)
		*lanes = 1;
	else if (cores < RD_HTTP_MIN_PG_WRITERS)
		*lanes = RD_HTTP_MIN_PG_WRITERS;
	else if (cores > RD_HTTP_DEFAULT_MAX_PG_WRITERS)
		*lanes = RD_HTTP_DEFAULT_MAX_PG_WRITERS;
	else
		*lanes = (unsigned)cores;
	return RD_OK;
}

/* The slow-work threads, their bounds checked. */
static int slow_pool_start(struct rd_http_server *server,
			   const rd_http_options *opts, rd_error *err)
{
	static const struct {
		const char *name;
		size_t offset;
	} bounds[] = {
		{ "slow_threads", offsetof(rd_http_options, slow_threads) },
		{ "slow_per_key", offsetof(rd_http_options, slow_per_key) },
		{ "exports_per_key",
		  offsetof(rd_http_options, exports_per_key) },
		{ "slow_queue", offsetof(rd_http_options, slow_queue) },
		{ "slow_timeout_s", offsetof(rd_http_options, slow_timeout_s) },
	};
	http_slow_limits limits;

	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		unsigned value;

		memcpy(&value, (const char *)opts + bounds[i].offset,
		       sizeof(value));
		if (value > RD_HTTP_MAX_SLOW)
			return rd_error_set_field(err, RD_EUSAGE,
						  bounds[i].name,
						  "%s must be 0 (the default) "
						  "to %u, not %u",
						  bounds[i].name,
						  RD_HTTP_MAX_SLOW, value);
	}
	memset(&limits, 0, sizeof(limits));
	limits.threads = opts->slow_threads;
	limits.per_key = opts->slow_per_key;
	limits.exports_per_key = opts->exports_per_key;
	limits.queue = opts->slow_queue;
	limits.timeout_s = opts->slow_timeout_s;
	return http_slow_pool_new(&server->slow, &limits, &server->service,
				  err);
}

int rd_http_start(rd_http_server **out, const rd_http_options *opts,
		  rd_error *err)
{
	struct rd_http_server *server = NULL;
	const union MHD_DaemonInfo *info;
	rd_service *probe = NULL;
	struct sockaddr_in addr;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads, connections, lanes = 1;
	int rc;

	*out = NULL;
	if ((rc = parse_listen(&addr, opts->listen ? opts->listen
						   : DEFAULT_LISTEN, err)) < 0)
		return rc;
	if (opts->rate_limit > HTTP_RATELIMIT_MAX_RATE)
		return rd_error_set_field(err, RD_EUSAGE, "rate_limit",
					  "the rate limit must be 0 (off) to "
					  "%u requests per second, not %u",
					  HTTP_RATELIMIT_MAX_RATE,
					  opts->rate_limit);
	/* The data directory must open before anything listens. */
	if ((rc = rd_service_open(&probe, &opts->service, err)) < 0)
		return rc;

	if (cores < 1)
		cores = 1;
	threads = opts->threads ? opts->threads : (unsigned)cores;
	if (threads > (unsigned)cores)
		threads = (unsigned)cores;
	connections = WORKER_CONNECTION_LIMIT * threads;
	if (connections > CONNECTION_LIMIT)
		connections = CONNECTION_LIMIT;

	if (!(server = calloc(1, sizeof(*server)))) {
		rd_service_close(probe);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	if (pthread_mutex_init(&server->lock, NULL) != 0) {
		rd_service_close(probe);
		free(server);
		return rd_error_set(err, RD_ENOMEM, "cannot make a mutex");
	}
	server->keeper = probe;
	server->data_dir = dup_or_null(opts->service.data_dir);
	server->store = dup_or_null(opts->service.store);
	server->workflows_dir = dup_or_null(opts->service.workflows_dir);
	server->kinds_path = dup_or_null(opts->service.kinds_path);
	server->policy_path = dup_or_null(opts->service.policy_path);
	server->calendars_path = dup_or_null(opts->service.calendars_path);
	server->templates_dir = dup_or_null(opts->service.templates_dir);
	if ((opts->service.data_dir && !server->data_dir) ||
	    (opts->service.calendars_path && !server->calendars_path) ||
	    (opts->service.templates_dir && !server->templates_dir) ||
	    (opts->service.store && !server->store) ||
	    (opts->service.workflows_dir && !server->workflows_dir) ||
	    (opts->service.kinds_path && !server->kinds_path) ||
	    (opts->service.policy_path && !server->policy_path)) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto fail;
	}
	server->service.data_dir = server->data_dir;
	server->service.store = server->store;
	server->service.workflows_dir = server->workflows_dir;
	server->service.kinds_path = server->kinds_path;
	server->service.policy_path = server->policy_path;
	server->service.calendars_path = server->calendars_path;
	server->service.templates_dir = server->templates_dir;
	server->service.create = 0;
	server->service.quota_daily = opts->service.quota_daily;
	server->service.quota_total = opts->service.quota_total;
	server->service.webhook_allow_http = opts->service.webhook_allow_http;
	server->service.webhook_allow_private =
		opts->service.webhook_allow_private;
	if ((rc = http_idem_table_new(&server->idem, err)) < 0)
		goto fail;
	if (pthread_key_create(&server->key, slot_close) != 0) {
		rc = rd_error_set(err, RD_ENOMEM, "cannot make a thread key");
		goto fail;
	}
	server->key_made = 1;
	atomic_init(&server->stopping, 0);
	if ((rc = http_metrics_new(&server->metrics, err)) < 0)
		goto fail;
	server->rate_limit = opts->rate_limit;
	if (opts->rate_limit &&
	    (rc = http_ratelimit_new(&server->limiter, opts->rate_limit,
				     err)) < 0)
		goto fail;
	if ((rc = start_deadlines(server, opts, err)) < 0)
		goto fail;
	if ((rc = writer_lanes(opts, cores, &lanes, err)) < 0 ||
	    (rc = slow_pool_start(server, opts, err)) < 0 ||
	    (rc = http_writer_new(&server->writer, &server->service, lanes,
				  err)) < 0)
		goto fail;

	server->daemon = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC |
		MHD_ALLOW_SUSPEND_RESUME,
		0, NULL, NULL, on_request, server,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)PER_IP_CONNECTION_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT,
		opts->connection_timeout_s ? opts->connection_timeout_s
					   : (unsigned)CONNECTION_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONNECTION_MEMORY_LIMIT,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, server,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
		MHD_OPTION_URI_LOG_CALLBACK, on_request_line, server,
		MHD_OPTION_END);
	if (!server->daemon) {
		char shown[INET_ADDRSTRLEN] = "?";

		inet_ntop(AF_INET, &addr.sin_addr, shown, sizeof(shown));
		rc = rd_error_set(err, RD_EIO,
				  "cannot listen on %s:%u (is the port in "
				  "use, or reserved?)", shown,
				  (unsigned)ntohs(addr.sin_port));
		goto fail;
	}
	info = MHD_get_daemon_info(server->daemon,
				   MHD_DAEMON_INFO_BIND_PORT);
	server->port = info ? info->port : ntohs(addr.sin_port);
	*out = server;
	return RD_OK;
fail:
	rd_http_stop(server);
	return rc;
}

uint16_t rd_http_port(const rd_http_server *server)
{
	return server ? server->port : 0;
}

/*
 * Wait until no request is in flight, or DRAIN_LIMIT_S has passed. New
 * requests meanwhile get 503 and close their connection, so only the
 * requests begun before the stop are waited for.
 */
static void drain(struct rd_http_server *server)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	uint64_t deadline = monotonic_ns() +
			    (uint64_t)DRAIN_LIMIT_S * UINT64_C(1000000000);

	while (http_metrics_in_flight(server->metrics) > 0 &&
	       monotonic_ns() < deadline)
		nanosleep(&pause, NULL);
}

void rd_http_stop(rd_http_server *server)
{
	worker_slot *slot, *next;

	if (!server)
		return;
	if (server->daemon) {
		MHD_socket fd;

		/*
		 * Mark the server stopping before anything else, so that
		 * every request from now on is refused (503) rather than
		 * started. MHD_quiesce_daemon takes the listening socket out
		 * of the workers' polling; shutting it down makes new
		 * connections refused at once rather than left waiting in
		 * the backlog (it is closed only after MHD_stop_daemon, which
		 * may still look at it). Then the requests in flight finish:
		 * MHD_stop_daemon would drop an answer not yet written.
		 */
		atomic_store(&server->stopping, 1);
		fd = MHD_quiesce_daemon(server->daemon);
		if (fd != MHD_INVALID_SOCKET)
			shutdown(fd, SHUT_RDWR);
		drain(server);
		/* No connection may stay suspended when the daemon stops. */
		http_writer_stop(server->writer);
		http_slow_pool_stop(server->slow);
		MHD_stop_daemon(server->daemon);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	/* every connection is closed: nothing is left to cut */
	http_deadlines_stop(server->deadlines);
	/* Worker threads have ended; close what their exit did not. */
	for (slot = server->slots; slot; slot = next) {
		next = slot->next;
		rd_service_close(slot->svc);
		free(slot);
	}
	if (server->key_made)
		pthread_key_delete(server->key);
	http_idem_table_free(server->idem);
	rd_service_close(server->keeper);
	pthread_mutex_destroy(&server->lock);
	free(server->data_dir);
	free(server->store);
	free(server->workflows_dir);
	free(server->kinds_path);
	free(server->policy_path);
	free(server->calendars_path);
	free(server->templates_dir);
	http_metrics_free(server->metrics);
	http_ratelimit_free(server->limiter);
	http_writer_stop(server->writer);
	http_writer_free(server->writer);
	http_slow_pool_stop(server->slow);
	http_slow_pool_free(server->slow);
	free(server);
}
