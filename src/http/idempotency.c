/*
 * Idempotency-Key in the HTTP layer: the keys in flight, the digest that
 * tells a retry from another request, and the replay of a recorded
 * answer. Recording a request with its effect is the service's
 * (service/idempotency.c); this file only translates.
 *
 * A key in flight is claimed twice: in this process's table, which keeps
 * two requests of the process apart (and a connection from claiming a key
 * it holds already), then through the request's service, whose connection
 * holds it for every other process and node on the record until it is
 * given back (rd_service_idem_claim). Both are given back by the thread
 * that took them: libmicrohttpd runs all of a connection's calls on the
 * worker thread that accepted it, and the service is that thread's.
 *
 * It must never hold the table's mutex across anything but a list walk,
 * and never across a call to the service.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

#include "http/http_int.h"
#include "redress/hex.h"
#include "redress/json.h"

struct http_idem_claim {
	char key_id[64];
	char key[RD_IDEM_KEY_MAX + 1];
	rd_service *svc;            /* holds it beyond the process; borrowed */
	rd_actor actor;
	struct http_idem_claim *next;
};

struct http_idem_table {
	pthread_mutex_t lock;
	http_idem_claim *head;
};

int http_idem_table_new(http_idem_table **out, rd_error *err)
{
	http_idem_table *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t);
		return rd_error_set(err, RD_ENOMEM, "cannot make a mutex");
	}
	*out = t;
	return RD_OK;
}

void http_idem_table_free(http_idem_table *table)
{
	http_idem_claim *c, *next;

	if (!table)
		return;
	for (c = table->head; c; c = next) {
		next = c->next;
		free(c);
	}
	pthread_mutex_destroy(&table->lock);
	free(table);
}

/* Take the claim out of the table. */
static void unlist(http_idem_table *table, http_idem_claim *claim)
{
	http_idem_claim **p;

	pthread_mutex_lock(&table->lock);
	for (p = &table->head; *p; p = &(*p)->next)
		if (*p == claim) {
			*p = claim->next;
			break;
		}
	pthread_mutex_unlock(&table->lock);
}

int http_idem_claim_take(http_idem_table *table, rd_service *svc,
			 const rd_actor *actor, const char *key,
			 http_idem_claim **out, rd_error *err)
{
	http_idem_claim *claim = calloc(1, sizeof(*claim));
	http_idem_claim *c;
	int rc;

	*out = NULL;
	if (!claim)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	snprintf(claim->key_id, sizeof(claim->key_id), "%s", actor->key_id);
	snprintf(claim->key, sizeof(claim->key), "%s", key);
	claim->actor = *actor;
	pthread_mutex_lock(&table->lock);
	for (c = table->head; c; c = c->next)
		if (strcmp(c->key_id, claim->key_id) == 0 &&
		    strcmp(c->key, claim->key) == 0)
			break;
	if (!c) {
		claim->next = table->head;
		table->head = claim;
	}
	pthread_mutex_unlock(&table->lock);
	if (c) {
		free(claim);
		return rd_error_set_field(err, RD_ECONFLICT, "Idempotency-Key",
					  "a request with this Idempotency-Key "
					  "is still being processed; retry "
					  "once it has been answered");
	}
	/* then for the other processes and nodes on the record */
	if (svc && (rc = rd_service_idem_claim(svc, actor, key, err)) < 0) {
		unlist(table, claim);
		free(claim);
		return rc;
	}
	claim->svc = svc;
	*out = claim;
	return RD_OK;
}

void http_idem_claim_release(http_idem_table *table, http_idem_claim *claim)
{
	if (!claim)
		return;
	/*
	 * The other processes' first: until then this process still turns
	 * away a request with the key, so none of its own threads' claims
	 * meets the one being given back.
	 */
	if (claim->svc)
		rd_service_idem_release(claim->svc, &claim->actor, claim->key);
	unlist(table, claim);
	free(claim);
}

/* Feed one length-prefixed part, so that parts cannot run into each other. */
static void digest_part(struct sha256_ctx *ctx, const char *data, size_t len)
{
	uint8_t prefix[8];

	for (int i = 0; i < 8; i++)
		prefix[i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	sha256_update(ctx, sizeof(prefix), prefix);
	sha256_update(ctx, len, (const uint8_t *)data);
}

static void digest_text(struct sha256_ctx *ctx, const char *text)
{
	if (text)
		digest_part(ctx, text, strlen(text));
	else
		digest_part(ctx, "\xff", 1);  /* absent, unlike "" */
}

static void digest_start(struct sha256_ctx *ctx, const http_route *route,
			 const http_call *call)
{
	sha256_init(ctx);
	digest_text(ctx, route->method);
	digest_text(ctx, route->pattern);
	for (size_t i = 0; i < HTTP_MAX_PARAMS; i++)
		digest_text(ctx, call->params[i]);
}

static void digest_end(struct sha256_ctx *ctx, char out[65])
{
	uint8_t raw[SHA256_DIGEST_SIZE];

	sha256_digest(ctx, sizeof(raw), raw);
	rd_hex_encode(out, raw, sizeof(raw));
}

void http_idem_digest_body(char out[65], const http_route *route,
			   const http_call *call)
{
	struct sha256_ctx ctx;

	digest_start(&ctx, route, call);
	digest_part(&ctx, call->body, call->body_len);
	digest_end(&ctx, out);
}

void http_idem_digest_upload(char out[65], const http_route *route,
			     const http_call *call,
			     const rd_evidence_submission *sub,
			     const char content_sha256[65])
{
	struct sha256_ctx ctx;
	char captured[32];

	snprintf(captured, sizeof(captured), "%" PRId64, sub->captured_at);
	digest_start(&ctx, route, call);
	digest_text(&ctx, sub->kind);
	digest_text(&ctx, sub->channel);
	digest_text(&ctx, captured);
	digest_text(&ctx, sub->note);
	digest_text(&ctx, sub->original_name);
	digest_text(&ctx, content_sha256);
	digest_end(&ctx, out);
}

int http_idem_replay(http_call *call, const rd_idem_record *rec,
		     rd_error *err)
{
	json_t *doc = NULL;
	json_t *version;

	call->location[0] = '\0';
	call->etag[0] = '\0';
	if (rec->operation == RD_IDEM_CLAIM && !rec->dispute_id[0]) {
		/* a claim that found nothing: 204, no body */
		call->reply = NULL;
		call->replayed = 1;
		call->status = 204;
		return RD_OK;
	}
	doc = rd_json_loadb(rec->response, strlen(rec->response), 0, NULL);
	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		return rd_error_set(err, RD_EINTERNAL, "the recorded answer "
				    "to Idempotency-Key \"%.64s\" is not a "
				    "JSON object", rec->key);
	}
	call->reply = doc;
	call->replayed = 1;
	call->status = 200;
	call->location[0] = '\0';
	call->etag[0] = '\0';
	switch (rec->operation) {
	case RD_IDEM_OPEN:
		call->status = 201;
		snprintf(call->location, sizeof(call->location),
			 "/v1/disputes/%s", rec->dispute_id);
		break;
	case RD_IDEM_EVIDENCE:
		call->status = 201;
		snprintf(call->location, sizeof(call->location),
			 "/v1/disputes/%s/evidence/%" PRId64, rec->dispute_id,
			 rec->evidence_n);
		break;
	case RD_IDEM_MESSAGE:
		call->status = 201;
		snprintf(call->location, sizeof(call->location),
			 "/v1/disputes/%s/messages", rec->dispute_id);
		break;
	case RD_IDEM_EVENT:
	case RD_IDEM_BULK:
	case RD_IDEM_CLAIM:
		break;
	}
	if (rec->operation != RD_IDEM_EVIDENCE &&
	    rec->operation != RD_IDEM_MESSAGE &&
	    json_is_integer(version = json_object_get(doc, "version")))
		snprintf(call->etag, sizeof(call->etag), "\"%" JSON_INTEGER_FORMAT
			 "\"", json_integer_value(version));
	return RD_OK;
}
