/*
 * Private declarations of the HTTP module: the route table and what a
 * handler sees of a request. Only src/http and its tests include this;
 * nothing here names libmicrohttpd, so handlers stay testable alone.
 */
#ifndef REDRESS_HTTP_INT_H
#define REDRESS_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "redress/http.h"

/* Longest path parameter kept ("{id}"); longer values match no route. */
#define HTTP_PARAM_MAX 64
#define HTTP_MAX_PARAMS 2

/*
 * Longest spanning parameter kept ("{buyer_ref}", see http_pattern_spans):
 * longer values match no route; shorter ones are judged by their handler
 * against their own limit (422 naming the field).
 */
#define HTTP_SPAN_PARAM_MAX 512

/* A path parameter's buffer: room for either kind and its NUL. */
#define HTTP_PARAM_BUFSZ (HTTP_SPAN_PARAM_MAX + 1)

/* Most query parameters kept; a request with more is refused (422). */
#define HTTP_MAX_QUERY 16

/* Body limit of the routes that take JSON. */
#define HTTP_JSON_BODY_LIMIT (1024 * 1024)

/*
 * Body limit of the evidence upload route: above the largest kind's limit;
 * the service refuses what is over the limit of the upload's own kind.
 */
#define HTTP_UPLOAD_BODY_LIMIT ((size_t)200 * 1024 * 1024)

/* Role bitmasks for the route table; 0 means no authentication. */
#define HTTP_ROLE(r) (1u << (r))
/*
 * In place of roles: no authentication, but the handler reads the record
 * (call->svc is the thread's service; failing to open it is the answer).
 */
#define HTTP_PUBLIC_RECORD (1u << 31)
#define HTTP_ANY_ROLE (HTTP_ROLE(RD_ROLE_AGENT) | HTTP_ROLE(RD_ROLE_STOREFRONT) | \
		       HTTP_ROLE(RD_ROLE_AUDITOR) | HTTP_ROLE(RD_ROLE_ADMIN))
/* Who manages webhook endpoints: a storefront (its own) and an admin. */
#define HTTP_WEBHOOK_ROLES (HTTP_ROLE(RD_ROLE_STOREFRONT) | \
			    HTTP_ROLE(RD_ROLE_ADMIN))
#define HTTP_WRITERS (HTTP_ROLE(RD_ROLE_AGENT) | HTTP_ROLE(RD_ROLE_STOREFRONT) | \
		      HTTP_ROLE(RD_ROLE_ADMIN))

/* One query parameter, decoded; both strings borrowed from the request. */
typedef struct http_query_arg {
	const char *name;
	const char *value;              /* "" when given without "=" */
} http_query_arg;

struct http_metrics;
struct http_slow_job;

/* One request as a handler sees it, and the answer it fills. */
/* http_call.key_refused */
enum {
	HTTP_KEY_REUSED = 1,    /* 422 idempotency_key_reused */
	HTTP_KEY_IN_FLIGHT      /* 409 idempotency_key_in_flight */
};

typedef struct http_call {
	/* in */
	rd_service *svc;
	struct http_metrics *metrics;   /* the server's counters (metrics.h) */
	rd_actor actor;                 /* the authenticated key */
	char storefront[65];            /* its storefront, "" unless scoped */
	char params[HTTP_MAX_PARAMS][HTTP_PARAM_BUFSZ];
	const char *body;               /* NUL-terminated, body_len bytes */
	size_t body_len;
	const char *if_match;           /* the If-Match header, or NULL */
	const char *idempotency_key;    /* the Idempotency-Key header, or
					 * NULL (routes of their own keys:
					 * webhook endpoints) */
	const char *content_length;     /* the Content-Length header, or NULL */
	http_query_arg query[HTTP_MAX_QUERY];
	size_t query_count;
	int query_overflow;             /* 1: more than HTTP_MAX_QUERY given */
	const char *query_unclean;      /* the name of the first parameter
					 * holding NUL, a control character
					 * (but tab and line breaks) or bytes
					 * that are not UTF-8; else NULL */
	int64_t now;
	int idempotent;                 /* 1: an Idempotency-Key came with a
					 * streamed request (set before it
					 * begins): its digest will be asked */
	struct http_slow_job *slow;     /* set when the handler runs as slow
					 * work: it may stream its answer
					 * (http_body_begin) */
	struct http_writer *writer;     /* the server's writer lanes, for a
					 * bulk request's items (writer.h) */

	/* out */
	unsigned status;                /* 200 unless set */
	json_t *reply;                  /* new reference, sent as JSON */
	char etag[72];                  /* sent when not empty */
	char location[128];             /* sent when not empty */
	int malformed;                  /* 1: the body is not JSON (400) */
	int key_refused;                /* the error is a refusal of the
					 * Idempotency-Key, answered with the
					 * problem every route gives it:
					 * HTTP_KEY_REUSED or _IN_FLIGHT */
	int replayed;                   /* 1: answered from an Idempotency-Key
					 * record (Idempotent-Replayed) */
	int deprecated;                 /* 1: the request used a deprecated
					 * form (a decimal string amount):
					 * the answer says so (Deprecation) */

	/* out, instead of reply: bytes from a file (the handler's own) */
	int has_file;                   /* 1: send file_fd, not reply */
	int file_fd;                    /* read from offset 0; closed by the
					 * server (the handler on failure) */
	uint64_t file_size;
	char content_type[128];         /* of the file */
	char disposition[128];          /* Content-Disposition, or empty */
	char repr_digest[64];           /* Repr-Digest, or empty */

	/* out, instead of reply: text sent with content_type */
	char *text;                     /* new (malloc); the server frees it */
	size_t text_len;

	/* in and out: the web console's files (ui.c) */
	const char *if_none_match;      /* in: the If-None-Match header */
	int console;                    /* out, 1: send `bytes` (none for a
					 * 304 or a redirect) with
					 * content_type, the etag, the
					 * location and the console's
					 * security and cache headers */
	const unsigned char *bytes;     /* static; NULL: no body */
	size_t bytes_len;
} http_call;

typedef int (*http_handler)(http_call *call, rd_error *err);

/*
 * A route that streams its body instead of collecting it: `begin` runs
 * once the headers are in and the key is checked (*state is what it
 * starts), `write` takes each chunk as it arrives, `end` runs after the
 * body and fills the answer like a handler. After the first failure the
 * rest of the body is read and dropped and that failure is the answer.
 * `digest` gives the request digest (http_idem_digest_upload) after the
 * body and before `end`. `release` (given NULL too) frees the state when the request ends,
 * however it ends, so an upload cut short records nothing.
 */
struct http_route;

typedef struct http_stream {
	int (*begin)(http_call *call, void **state, rd_error *err);
	int (*write)(void *state, const char *buf, size_t len, rd_error *err);
	/* the request's digest for Idempotency-Key, once the body is in */
	void (*digest)(void *state, const struct http_route *route,
		       const http_call *call, char out[65]);
	int (*end)(http_call *call, void *state, rd_error *err);
	void (*release)(void *state);
	/*
	 * Optional: the work of the end that needs no transaction (making
	 * the bytes durable), on the request's thread; its failure is kept
	 * for end to answer. With it, a server that has a writer queues end
	 * for the writer's batch, which runs it on the writer's service
	 * (call->svc), so that concurrent uploads share a flush.
	 */
	void (*seal)(void *state);
} http_stream;

/*
 * The evidence upload as multipart/form-data: the server feeds it the
 * parts its post processor finds (http_form_part), not raw bytes; begin,
 * digest, end and release are as for any stream.
 */
extern const http_stream http_form_upload;

/*
 * One chunk of a form part: `name` the part's field name, `filename` its
 * file name (or NULL), `off` where the chunk starts in the part. Fields
 * kind, channel, captured_at and note (bounded), one part named "file";
 * anything else is RD_EINVALID naming it.
 */
int http_form_part(void *state, const char *name, const char *filename,
		   const char *data, uint64_t off, size_t size, rd_error *err);

/* What kind of slow work a route is (http_route.slow). */
enum http_slow_kind {
	HTTP_SLOW_NONE = 0,             /* run on the request thread */
	HTTP_SLOW_JOB,                  /* run on a slow-work thread */
	HTTP_SLOW_EXPORT,               /* the same, counted as an export */
};

typedef struct http_route {
	const char *method;
	const char *pattern;            /* "/v1/disputes/{id}" */
	http_handler handler;
	unsigned roles;                 /* HTTP_ROLE bits allowed; 0: public;
					 * HTTP_PUBLIC_RECORD: public, with
					 * the service */
	size_t body_limit;              /* bytes; 0 refuses any body */
	const http_stream *stream;      /* NULL: the body is collected and
					 * handler called; else streamed */
} http_route;

/*
 * 1 for the routes that write a dispute from a JSON body (opening one,
 * applying an event): the server queues them for group commit.
 */
int http_route_writes(const http_route *route);

/*
 * What kind of slow work a route is (enum http_slow_kind): the routes
 * that read a whole dispute (export, verify, history, an evidence
 * download) run off the request threads (slow.c).
 */
int http_route_slow(const http_route *route);

/*
 * A streamed answer, for a handler run as slow work (call->slow): set the
 * status, content type, disposition, ETag, Repr-Digest and file_size (the
 * body's size, sent as Content-Length; 0 when unknown, sent chunked), then
 * http_body_begin sends the headers and http_body_write the bytes, waiting
 * while the client has not read what came before (a bounded buffer).
 * Once begun, the handler's failure cuts the connection, so that the
 * client never takes a partial body for a whole one; its success ends the
 * body. RD_EINTERNAL outside slow work; RD_EIO when the client went away
 * or read nothing for too long, or more than file_size bytes are written.
 */
int http_body_begin(http_call *call, rd_error *err);
int http_body_write(http_call *call, const void *bytes, size_t len,
		    rd_error *err);

/* What routing a method and path found. */
typedef struct http_match {
	const http_route *route;        /* NULL: no route for this method */
	char params[HTTP_MAX_PARAMS][HTTP_PARAM_BUFSZ];
	char allow[64];                 /* methods of the path, "GET, POST";
					 * empty when no pattern matches */
} http_match;

/*
 * The route table (static), its number of routes into *count: for the
 * metrics and the check against the API's contract (docs/openapi.yaml).
 */
const http_route *http_routes(size_t *count);

/*
 * Route `method` `path` through the table. Returns 1 with out->route set on
 * a match; 0 otherwise, with out->allow listing the methods the path does
 * take (405) or empty (404).
 */
int http_route_find(http_match *out, const char *method, const char *path);

/*
 * 1 when the pattern segment `segment` (len bytes, "{buyer_ref}") is a
 * spanning parameter: one that may hold '/'. libmicrohttpd hands over the
 * path already percent-decoded, so a client's "%2F" arrives as '/'; such a
 * parameter takes everything between the pattern's fixed parts before it
 * and after it (the part after it has no parameter), 1 to
 * HTTP_SPAN_PARAM_MAX bytes.
 */
int http_pattern_spans(const char *segment, size_t len);


/*
 * The filter of GET /v1/disputes from call's query parameters (state,
 * reason, storefront, assignee, overdue, created_from, created_to, limit,
 * cursor), scoped to call's storefront for a storefront key. A bad, repeated
 * or unknown parameter is RD_EINVALID naming it in the error's field; a
 * storefront key asking for another storefront is RD_EFORBIDDEN. The
 * filter's strings are borrowed from call.
 */
int http_list_filter(rd_dispute_filter *out, const http_call *call,
		     rd_error *err);

/*
 * What every reader of query parameters checks first: RD_EINVALID when the
 * call has more parameters than are kept, or one that is not text
 * (query_unclean).
 */
int http_query_usable(const http_call *call, rd_error *err);

/* RD_EINVALID naming the first query parameter: the route takes none. */
int http_no_query(const http_call *call, rd_error *err);

/*
 * The query of a page of a storefront's rows: storefront, limit and
 * cursor, each optional (NULL, 0: not given). `what` names the rows in
 * the errors. A storefront key's storefront is its own: naming another is
 * RD_EFORBIDDEN, and *storefront is set to its own.
 */
int http_storefront_page(http_call *call, const char *what,
			 const char **storefront, size_t *limit,
			 const char **cursor, rd_error *err);

/*
 * Which of `names` (count of them) query parameter i of call is: its
 * index, counted in seen[]. RD_EINVALID naming it when it is unknown
 * (`takes`, what the route takes, ends the message) or given a second
 * time. Call http_query_usable first.
 */
int http_query_param(const http_call *call, size_t i,
		     const char *const *names, size_t count, int *seen,
		     const char *takes, rd_error *err);

/*
 * The evidence submission of POST /v1/disputes/{id}/evidence from call's
 * query parameters (kind, required; channel; captured_at, RFC 3339; note;
 * name, the original file name) and its Content-Length (required, the
 * declared size: RD_EUSAGE when absent or not a number; RD_ETOOLARGE over
 * HTTP_UPLOAD_BODY_LIMIT). A bad, repeated or unknown parameter is
 * RD_EINVALID naming it. The strings are borrowed from call.
 */
int http_upload_submission(rd_evidence_submission *sub,
			   const http_call *call, rd_error *err);

/* The value of hex digit c (either case), or -1. */
int http_hex_value(char c);

/*
 * The If-Match header of a change: one strong ETag of a dispute version,
 * "N" with the quotes, N a whole number from 1 -> *out = N; absent (NULL)
 * -> *out = 0. Anything else (a weak or listed ETag, "*", a sign, spaces)
 * is RD_EUSAGE naming If-Match.
 */
int http_if_match_parse(int64_t *out, const char *header, rd_error *err);

/*
 * The Repr-Digest header value (RFC 9530) of a SHA-256 given as 64 hex
 * digits: "sha-256=:<base64 of the 32 bytes>:". RD_EINTERNAL when the
 * digest is not 64 hex digits.
 */
int http_repr_digest(char out[64], const char *sha256_hex, rd_error *err);

/*
 * The problem document (RFC 9457) for err: {"type", "title", "status",
 * "detail", "field"?, "guard"?}. `malformed` selects the 400 "malformed"
 * type for unparsable JSON. *status receives the HTTP status. New
 * reference, NULL when out of memory.
 */
json_t *http_problem(const rd_error *err, int malformed, unsigned *status);

/*
 * Read dispute `id` as the caller may see it: a storefront key sees its
 * own storefront's disputes only; any other answers exactly as a missing
 * one does (RD_ENOTFOUND). *out is new.
 */
/* The routes of messages and templates (messages.c). */
int http_get_messages(http_call *call, rd_error *err);
int http_post_message(http_call *call, rd_error *err);
int http_post_message_preview(http_call *call, rd_error *err);
int http_get_templates(http_call *call, rd_error *err);

int http_visible_dispute(http_call *call, const char *id, rd_dispute **out,
			 rd_error *err);

/*
 * Reading requests (routes.c): the body as strict JSON (duplicate keys
 * refused; not JSON sets call->malformed), a limit query parameter
 * (1..500), a text query parameter (1..128 bytes).
 */
int http_parse_body(json_t **out, http_call *call, rd_error *err);
int http_parse_limit(size_t *out, const char *value, rd_error *err);
int http_parse_text(const char **out, const char *name, const char *value,
		    rd_error *err);

/*
 * An event request's body {"event", "fields", "note"} read strictly into
 * req (fields[] of RD_EVENT_MAX_FIELDS; an integer amount into *amount,
 * its field left NULL), and that amount as the decimal text of dispute d's
 * currency into text and the NULL field (routes.c).
 */
int http_read_event_request(rd_event_request *req, rd_field *fields,
			    int64_t *amount, int *has_amount,
			    int *deprecated, const json_t *doc,
			    rd_error *err);
int http_amount_as_text(char *text, rd_field *fields, size_t count,
			int64_t amount, const rd_dispute *d, rd_error *err);

/* Bulk events and a buyer's disputes (bulk.c). */
int http_post_bulk_events(http_call *call, rd_error *err);
int http_get_buyer_disputes(http_call *call, rd_error *err);

/* ---- webhook endpoints and the event feed (webhooks.c) ------------------- */

int http_post_webhook(http_call *call, rd_error *err);
int http_get_webhooks(http_call *call, rd_error *err);
int http_get_webhook(http_call *call, rd_error *err);
int http_patch_webhook(http_call *call, rd_error *err);
int http_delete_webhook(http_call *call, rd_error *err);
int http_post_webhook_rotate(http_call *call, rd_error *err);
int http_get_webhook_deliveries(http_call *call, rd_error *err);
int http_post_webhook_retry(http_call *call, rd_error *err);
int http_get_events(http_call *call, rd_error *err);

/* ---- the web console and the routes it needs (ui.c, console.c) ----------- */

/* GET|HEAD /ui (a redirect to /ui/), /ui/ (index.html) and /ui/{path}. */
int http_get_ui_root(http_call *call, rd_error *err);
int http_get_ui_index(http_call *call, rd_error *err);
int http_get_ui_asset(http_call *call, rd_error *err);

/*
 * GET|HEAD / (a 302 to the console, /ui/) and GET|HEAD /openapi.yaml (the
 * API's contract as built, with a strong ETag and 304), both public.
 */
int http_get_root(http_call *call, rd_error *err);
int http_get_openapi(http_call *call, rd_error *err);

/* GET /v1/me, /v1/evidence-kinds, /v1/overview,
 * /v1/disputes/{id}/actions, /v1/disputes/{id}/export */
int http_get_me(http_call *call, rd_error *err);
int http_get_evidence_kinds(http_call *call, rd_error *err);
int http_get_overview(http_call *call, rd_error *err);
int http_get_actions(http_call *call, rd_error *err);
int http_get_export(http_call *call, rd_error *err);

/* ---- Idempotency-Key (idempotency.c) -------------------------------------- */

/*
 * The requests under way with an Idempotency-Key, so that a duplicate
 * arriving while the first is still in flight, in this process or another
 * on the record, is told so (409) instead of waiting. The table is the
 * process's, bounded by the connection limit, one mutex; beyond the
 * process a claim is held by the request's service (rd_service_idem_claim).
 */
typedef struct http_idem_table http_idem_table;
typedef struct http_idem_claim http_idem_claim;

int http_idem_table_new(http_idem_table **out, rd_error *err);
void http_idem_table_free(http_idem_table *table);

/*
 * Claim (actor's key id, key) for one request, in the table and then
 * through svc (the worker thread's service; NULL: in this process only):
 * RD_OK with *out set; RD_ECONFLICT (the problem type
 * idempotency_key_in_flight) when another request holds it, here or on
 * another process or node; RD_ENOMEM, or the store's failure.
 */
int http_idem_claim_take(http_idem_table *table, rd_service *svc,
			 const rd_actor *actor, const char *key,
			 http_idem_claim **out, rd_error *err);
/*
 * Give a claim back (NULL allowed), on the thread that took it: its
 * service's connection is that thread's.
 */
void http_idem_claim_release(http_idem_table *table, http_idem_claim *claim);

/*
 * What an idempotent request is done as, from its route: RD_IDEM_OPEN,
 * RD_IDEM_EVENT or RD_IDEM_EVIDENCE; -1 for a route that takes no
 * Idempotency-Key (every route but the three POSTs).
 */
int http_idem_operation(const http_route *route);

/*
 * The digest of a request with a collected body: SHA-256 over the method,
 * the route's pattern, its path parameters and the body bytes, as 64
 * lower-case hex digits. Headers are not part of it.
 */
void http_idem_digest_body(char out[65], const http_route *route,
			   const http_call *call);

/*
 * The digest of an evidence upload: the same over the submission's
 * metadata (kind, channel, captured_at, note, name) and the SHA-256 of the
 * file's bytes, however they were sent (raw body or multipart part).
 */
void http_idem_digest_upload(char out[65], const http_route *route,
			     const http_call *call,
			     const rd_evidence_submission *sub,
			     const char content_sha256[65]);

/*
 * Fill call's answer from a recorded request, as first answered: the JSON
 * body, 201 with its Location for an opening or an upload, 200 for an
 * event or a claim, the ETag of a dispute's version; 204 without a body
 * for a claim that found nothing to claim. RD_EINTERNAL when the record's
 * response is not JSON.
 */
int http_idem_replay(http_call *call, const rd_idem_record *rec,
		     rd_error *err);

/* ---- ownership: the claim queue and the agents (queue.c) ---------------- */

int http_post_claim(http_call *call, rd_error *err);
int http_get_agents(http_call *call, rd_error *err);

#endif
