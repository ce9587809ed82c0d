/*
 * The HTTP server: libmicrohttpd in epoll mode with a small thread pool,
 * each worker thread with its own rd_service opened on first use. It reads
 * a request's body up to its route's limit, authenticates the key, calls
 * the route's handler and writes JSON, a file or a problem document. A
 * streamed route (evidence uploads) is started when the headers arrive and
 * fed each chunk as it comes; its state is released when the request ends,
 * however it ends. It must never queue a response before the body is read
 * (keep-alive depends on it), never print and never exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/http_int.h"
#include "redress/clock.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define CONNECTION_LIMIT 256
#define PER_IP_CONNECTION_LIMIT 64
#define CONNECTION_TIMEOUT_S 30
#define CONNECTION_MEMORY_LIMIT (64 * 1024)

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
	char *data_dir, *workflows_dir, *kinds_path, *policy_path;
	pthread_key_t key;
	int key_made;
	pthread_mutex_t lock;       /* guards slots */
	worker_slot *slots;
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
	/* a streamed body (route->stream) */
	http_call call;             /* prepared when the headers came */
	void *state;                /* the stream's, released at the end */
	int failed;                 /* 1: err is the answer; body dropped */
	int unauthorized;           /* 1: the failure is a 401 */
	rd_error err;
} request;

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
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

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
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (challenge)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_problem(struct MHD_Connection *conn,
				    const rd_error *err, int malformed,
				    const char *allow, int challenge)
{
	unsigned status = 500;
	json_t *doc = http_problem(err, malformed, &status);
	enum MHD_Result ret;

	ret = send_json(conn, status, doc, "application/problem+json", NULL,
			allow, challenge);
	json_decref(doc);
	return ret;
}

/* A problem with its own status and type, outside the error table. */
static enum MHD_Result send_problem_as(struct MHD_Connection *conn,
				       const rd_error *err, unsigned status,
				       const char *name, const char *title,
				       const char *allow, int challenge)
{
	unsigned table_status;
	json_t *doc = http_problem(err, 0, &table_status);
	char type[128];
	enum MHD_Result ret;

	snprintf(type, sizeof(type), "https://redress.dev/problems/%s", name);
	if (doc && (json_object_set_new(doc, "type", json_string(type)) ||
		    json_object_set_new(doc, "title", json_string(title)) ||
		    json_object_set_new(doc, "status",
					json_integer(status)))) {
		json_decref(doc);
		doc = NULL;
	}
	ret = send_json(conn, status, doc, "application/problem+json", NULL,
			allow, challenge);
	json_decref(doc);
	return ret;
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

/* MHD iterator: keep each query parameter (MHD has decoded it). */
static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	http_call *call = cls;

	(void)kind;
	if (call->query_count >= HTTP_MAX_QUERY) {
		call->query_overflow = 1;
		return MHD_NO;
	}
	call->query[call->query_count].name = key ? key : "";
	call->query[call->query_count].value = value ? value : "";
	call->query_count++;
	return MHD_YES;
}

/* Bytes of a file the handler made (call->file_fd, given up here). */
static enum MHD_Result send_file(struct MHD_Connection *conn,
				 http_call *call)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	rd_error err;

	resp = MHD_create_response_from_fd64(call->file_size, call->file_fd);
	if (!resp) {
		close(call->file_fd);
		rd_error_clear(&err);
		rd_error_set(&err, RD_ENOMEM, "out of memory sending a file");
		return send_problem(conn, &err, 0, NULL, 0);
	}
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
	ret = MHD_queue_response(conn, call->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The answer a handler filled, or its problem. */
static enum MHD_Result send_result(struct MHD_Connection *conn,
				   http_call *call, int rc,
				   const rd_error *err)
{
	enum MHD_Result ret;

	if (rc < 0)
		ret = send_problem(conn, err, call->malformed, NULL, 0);
	else if (call->has_file)
		ret = send_file(conn, call);
	else
		ret = send_json(conn, call->status, call->reply,
				"application/json", call, NULL, 0);
	json_decref(call->reply);
	call->reply = NULL;
	return ret;
}

/*
 * Fill what a handler sees of the request and check its key and role.
 * On failure *unauthorized tells a 401 (bad or missing key) from err's own.
 */
static int prepare(struct rd_http_server *server, struct MHD_Connection *conn,
		   request *req, http_call *call, int *unauthorized,
		   rd_error *err)
{
	const http_route *route = req->match.route;
	int rc;

	*unauthorized = 0;
	memset(call, 0, sizeof(*call));
	memcpy(call->params, req->match.params, sizeof(call->params));
	call->body = req->body ? req->body : "";
	call->body_len = req->len;
	call->file_fd = -1;
	call->if_match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_IF_MATCH);
	call->content_length = MHD_lookup_connection_value(conn,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query,
				  call);
	call->status = 200;
	if ((rc = rd_clock_now(&call->now, err)) < 0)
		return rc;
	if (!route->roles)
		return RD_OK;
	if ((rc = thread_service(&call->svc, server, err)) < 0)
		return rc;
	if ((rc = authenticate(call, conn, err)) < 0) {
		/* Not a valid key: 401, the same answer every time. */
		*unauthorized = rc == RD_EFORBIDDEN;
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
				    const rd_error *err, int unauthorized)
{
	if (unauthorized)
		return send_problem_as(conn, err, 401, "unauthorized",
				       "Unauthorized", NULL, 1);
	return send_problem(conn, err, 0, NULL, 0);
}

static enum MHD_Result answer(struct rd_http_server *server,
			      struct MHD_Connection *conn, request *req)
{
	const http_route *route = req->match.route;
	http_call call;
	rd_error err;
	int unauthorized;
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
		if (req->failed)
			return send_refusal(conn, &req->err,
					    req->unauthorized);
		if (req->too_large) {
			rd_error_set(&err, RD_ETOOLARGE,
				     "the request body is over this route's "
				     "limit of %zu bytes", route->body_limit);
			return send_problem(conn, &err, 0, NULL, 0);
		}
		rc = route->stream->end(&req->call, req->state, &err);
		return send_result(conn, &req->call, rc, &err);
	}
	if (req->too_large) {
		rd_error_set(&err, RD_ETOOLARGE,
			     "the request body is over this route's limit of "
			     "%zu bytes", route->body_limit);
		return send_problem(conn, &err, 0, NULL, 0);
	}
	if ((rc = prepare(server, conn, req, &call, &unauthorized, &err)) < 0)
		return send_refusal(conn, &err, unauthorized);
	rc = route->handler(&call, &err);
	return send_result(conn, &call, rc, &err);
}

/* Headers of a streamed route: check the key and start the stream. */
static void stream_begin(struct rd_http_server *server,
			 struct MHD_Connection *conn, request *req)
{
	int rc;

	rd_error_clear(&req->err);
	rc = prepare(server, conn, req, &req->call, &req->unauthorized,
		     &req->err);
	if (rc >= 0)
		rc = req->match.route->stream->begin(&req->call, &req->state,
						     &req->err);
	if (rc < 0)
		req->failed = 1;
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
	if (route->stream->write(req->state, data, n, &req->err) < 0)
		req->failed = 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	request *req = *req_cls;

	(void)version;
	if (!req) {
		/* Headers only: route now, answer once the body is read. */
		if (!(req = calloc(1, sizeof(*req))))
			return MHD_NO;
		http_route_find(&req->match, method, url);
		*req_cls = req;
		if (req->match.route && req->match.route->stream)
			stream_begin(cls, conn, req);
		return MHD_YES;
	}
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
	return answer(cls, conn, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **req_cls, enum MHD_RequestTerminationCode code)
{
	request *req = *req_cls;

	(void)cls;
	(void)conn;
	(void)code;
	if (req) {
		if (req->match.route && req->match.route->stream)
			req->match.route->stream->release(req->state);
		json_decref(req->call.reply);
		free(req->body);
		free(req);
		*req_cls = NULL;
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

int rd_http_start(rd_http_server **out, const rd_http_options *opts,
		  rd_error *err)
{
	struct rd_http_server *server = NULL;
	const union MHD_DaemonInfo *info;
	rd_service *probe = NULL;
	struct sockaddr_in addr;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads;
	int rc;

	*out = NULL;
	if ((rc = parse_listen(&addr, opts->listen ? opts->listen
						   : DEFAULT_LISTEN, err)) < 0)
		return rc;
	/* The data directory must open before anything listens. */
	if ((rc = rd_service_open(&probe, &opts->service, err)) < 0)
		return rc;

	if (cores < 1)
		cores = 1;
	threads = opts->threads ? opts->threads : (unsigned)cores;
	if (threads > (unsigned)cores)
		threads = (unsigned)cores;

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
	server->workflows_dir = dup_or_null(opts->service.workflows_dir);
	server->kinds_path = dup_or_null(opts->service.kinds_path);
	server->policy_path = dup_or_null(opts->service.policy_path);
	if ((opts->service.data_dir && !server->data_dir) ||
	    (opts->service.workflows_dir && !server->workflows_dir) ||
	    (opts->service.kinds_path && !server->kinds_path) ||
	    (opts->service.policy_path && !server->policy_path)) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto fail;
	}
	server->service.data_dir = server->data_dir;
	server->service.workflows_dir = server->workflows_dir;
	server->service.kinds_path = server->kinds_path;
	server->service.policy_path = server->policy_path;
	server->service.create = 0;
	if (pthread_key_create(&server->key, slot_close) != 0) {
		rc = rd_error_set(err, RD_ENOMEM, "cannot make a thread key");
		goto fail;
	}
	server->key_made = 1;

	server->daemon = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC,
		0, NULL, NULL, on_request, server,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)PER_IP_CONNECTION_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT,
		opts->connection_timeout_s ? opts->connection_timeout_s
					   : (unsigned)CONNECTION_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONNECTION_MEMORY_LIMIT,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
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

void rd_http_stop(rd_http_server *server)
{
	worker_slot *slot, *next;

	if (!server)
		return;
	if (server->daemon) {
		MHD_socket fd = MHD_quiesce_daemon(server->daemon);

		MHD_stop_daemon(server->daemon);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	/* Worker threads have ended; close what their exit did not. */
	for (slot = server->slots; slot; slot = next) {
		next = slot->next;
		rd_service_close(slot->svc);
		free(slot);
	}
	if (server->key_made)
		pthread_key_delete(server->key);
	rd_service_close(server->keeper);
	pthread_mutex_destroy(&server->lock);
	free(server->data_dir);
	free(server->workflows_dir);
	free(server->kinds_path);
	free(server->policy_path);
	free(server);
}
