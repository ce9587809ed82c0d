/*
 * The routes of webhook endpoints and of the event feed: requests read
 * strictly, answers written as docs/openapi.yaml describes them. Who may
 * do what is the service's to decide (service/webhooks.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "redress/json.h"

/* Feed pages: 100 events unless limit says otherwise; deliveries: 20. */
#define EVENTS_LIMIT_DEFAULT 100
#define DELIVERIES_LIMIT_DEFAULT 20
#define DELIVERIES_LIMIT_MAX 100
/* The types query parameter: every type, comma-separated, fits. */
#define TYPES_MAX 1024

static int nomem(rd_error *err)
{
	return rd_error_set(err, RD_ENOMEM, "out of memory");
}

/*
 * The body of a create or an update: {"url", "events", "description",
 * "enabled", "storefront"}, each optional here, nothing else. Strings are
 * borrowed from doc; *events is a new array of borrowed strings.
 */
static int read_change(rd_webhook_change *out, const char ***events,
		       json_t *doc, rd_error *err)
{
	const char *key;
	json_t *value;

	memset(out, 0, sizeof(*out));
	out->enabled = -1;
	*events = NULL;
	if (!json_is_object(doc))
		return rd_error_set(err, RD_EINVALID, "the request body must "
				    "be a JSON object");
	json_object_foreach(doc, key, value) {
		if (strcmp(key, "url") == 0 || strcmp(key, "description") == 0 ||
		    strcmp(key, "storefront") == 0) {
			if (!json_is_string(value))
				return rd_error_set_field(err, RD_EINVALID,
					key, "%s: must be a string", key);
			if (key[0] == 'u')
				out->url = json_string_value(value);
			else if (key[0] == 'd')
				out->description = json_string_value(value);
			else
				out->storefront = json_string_value(value);
		} else if (strcmp(key, "enabled") == 0) {
			if (!json_is_boolean(value))
				return rd_error_set_field(err, RD_EINVALID,
					key, "enabled: must be true or false");
			out->enabled = json_is_true(value);
		} else if (strcmp(key, "events") == 0) {
			size_t n = json_array_size(value), i;
			json_t *item;

			if (!json_is_array(value))
				return rd_error_set_field(err, RD_EINVALID,
					key, "events: must be an array of "
					"event types, or [\"*\"]");
			if (n > 64)
				return rd_error_set_field(err, RD_ETOOLARGE,
					key, "events: too many types");
			free((void *)*events);
			if ((*events = calloc(n + 1, sizeof(**events))) == NULL)
				return nomem(err);
			json_array_foreach(value, i, item) {
				if (!json_is_string(item))
					return rd_error_set_field(err,
						RD_EINVALID, key, "events: "
						"item %zu is not a string", i);
				(*events)[i] = json_string_value(item);
			}
			out->events = *events;
			out->event_count = n;
		} else {
			return rd_error_set_field(err, RD_EINVALID, key,
				"unknown field \"%.64s\" (an endpoint has "
				"url, events, description, enabled and, at "
				"creation by an admin, storefront)", key);
		}
	}
	return RD_OK;
}

static int reply_endpoint(http_call *call, const rd_webhook_endpoint *ep,
			  int with_secret, rd_error *err)
{
	if ((call->reply = rd_webhook_endpoint_to_json(ep, with_secret)) == NULL)
		return nomem(err);
	return RD_OK;
}

int http_post_webhook(http_call *call, rd_error *err)
{
	rd_webhook_endpoint ep;
	rd_webhook_change change;
	http_match match;
	char digest[65];
	const char **events = NULL;
	json_t *doc = NULL;
	int rc;

	if ((rc = http_no_query(call, err)) < 0 ||
	    (rc = http_parse_body(&doc, call, err)) < 0 ||
	    (rc = read_change(&change, &events, doc, err)) < 0)
		goto done;
	/* the request, as an Idempotency-Key's digest names it */
	if (call->idempotency_key &&
	    http_route_find(&match, "POST", "/v1/webhook-endpoints") == 1) {
		http_idem_digest_body(digest, match.route, call);
		change.idempotency_key = call->idempotency_key;
		change.request_sha256 = digest;
	}
	if ((rc = rd_service_webhook_create(call->svc, &call->actor, &change,
					    call->now, &ep, &call->replayed,
					    err)) < 0) {
		/* the key came with another request: the problem the dispute
		   routes answer (a malformed key is RD_EUSAGE) */
		if (rc == RD_EINVALID &&
		    strcmp(err->field, "Idempotency-Key") == 0)
			call->key_refused = HTTP_KEY_REUSED;
		goto done;
	}
	if ((rc = reply_endpoint(call, &ep, 1, err)) < 0)
		goto done;
	call->status = 201;
	snprintf(call->location, sizeof(call->location),
		 "/v1/webhook-endpoints/%s", ep.id);
done:
	free((void *)events);
	json_decref(doc);
	return rc;
}

int http_get_webhooks(http_call *call, rd_error *err)
{
	rd_webhook_endpoint *list = NULL;
	json_t *items = NULL;
	size_t count = 0;
	int rc;

	if ((rc = http_no_query(call, err)) < 0 ||
	    (rc = rd_service_webhooks_list(call->svc, &call->actor, &list,
					   &count, err)) < 0)
		return rc;
	if (!(items = json_array()))
		goto nomem;
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(items, rd_webhook_endpoint_to_json(&list[i], 0)))
			goto nomem;
	if (!(call->reply = json_pack("{s:o}", "items", items))) {
		items = NULL;
		goto nomem;
	}
	free(list);
	return RD_OK;
nomem:
	json_decref(items);
	free(list);
	return nomem(err);
}

int http_get_webhook(http_call *call, rd_error *err)
{
	rd_webhook_endpoint ep;
	int rc;

	if ((rc = http_no_query(call, err)) < 0 ||
	    (rc = rd_service_webhook_get(call->svc, &call->actor,
					 call->params[0], &ep, err)) < 0)
		return rc;
	return reply_endpoint(call, &ep, 0, err);
}

int http_patch_webhook(http_call *call, rd_error *err)
{
	rd_webhook_endpoint ep;
	rd_webhook_change change;
	const char **events = NULL;
	json_t *doc = NULL;
	int rc;

	if ((rc = http_no_query(call, err)) < 0 ||
	    (rc = http_parse_body(&doc, call, err)) < 0 ||
	    (rc = read_change(&change, &events, doc, err)) < 0 ||
	    (rc = rd_service_webhook_update(call->svc, &call->actor,
					    call->params[0], &change,
					    call->now, &ep, err)) < 0)
		goto done;
	rc = reply_endpoint(call, &ep, 0, err);
done:
	free((void *)events);
	json_decref(doc);
	return rc;
}

int http_delete_webhook(http_call *call, rd_error *err)
{
	int rc;

	if ((rc = http_no_query(call, err)) < 0 ||
	    (rc = rd_service_webhook_delete(call->svc, &call->actor,
					    call->params[0], err)) < 0)
		return rc;
	call->status = 204;
	return RD_OK;
}

/* A body that says nothing: none, or {}. */
static int empty_body(http_call *call, rd_error *err)
{
	json_t *doc = NULL;
	int rc;

	if (call->body_len == 0)
		return RD_OK;
	if ((rc = http_parse_body(&doc, call, err)) < 0)
		return rc;
	if (!json_is_object(doc) || json_object_size(doc) != 0)
		rc = rd_error_set(err, RD_EINVALID, "this request takes no "
				  "body (or {})");
	json_decref(doc);
	return rc;
}

int http_post_webhook_rotate(http_call *call, rd_error *err)
{
	rd_webhook_endpoint ep;
	int rc;

	if ((rc = http_no_query(call, err)) < 0 ||
	    (rc = empty_body(call, err)) < 0 ||
	    (rc = rd_service_webhook_rotate(call->svc, &call->actor,
					    call->params[0], call->now, &ep,
					    err)) < 0)
		return rc;
	return reply_endpoint(call, &ep, 1, err);
}

int http_get_webhook_deliveries(http_call *call, rd_error *err)
{
	static const char *const params[] = { "limit", "cursor" };
	int seen[2] = { 0, 0 };
	char next[RD_OUTBOX_CURSOR_BUFSZ];
	const char *cursor = NULL;
	rd_webhook_delivery *list = NULL;
	size_t limit = DELIVERIES_LIMIT_DEFAULT, count = 0;
	json_t *items = NULL;
	int rc;

	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		int k = http_query_param(call, i, params, 2, seen,
					 "deliveries take limit and cursor",
					 err);

		if (k < 0)
			return k;
		rc = k == 0 ? http_parse_limit(&limit, call->query[i].value,
					       err)
			    : http_parse_text(&cursor, "cursor",
					      call->query[i].value, err);
		if (rc < 0)
			return rc;
	}
	if (limit > DELIVERIES_LIMIT_MAX)
		return rd_error_set_field(err, RD_EINVALID, "limit",
					  "query parameter limit must be a "
					  "whole number from 1 to %d",
					  DELIVERIES_LIMIT_MAX);
	if ((rc = rd_service_webhook_deliveries(call->svc, &call->actor,
						call->params[0], cursor, limit,
						&list, &count, next, err)) < 0)
		return rc;
	if (!(items = json_array()))
		goto nomem;
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(items, rd_webhook_delivery_to_json(&list[i])))
			goto nomem;
	call->reply = json_pack("{s:o, s:o}", "items", items, "next_cursor",
				next[0] ? json_string(next) : json_null());
	items = NULL;
	if (!call->reply)
		goto nomem;
	rd_webhook_deliveries_free(list, count);
	return RD_OK;
nomem:
	json_decref(items);
	rd_webhook_deliveries_free(list, count);
	return nomem(err);
}

int http_post_webhook_retry(http_call *call, rd_error *err)
{
	rd_webhook_delivery d;
	int rc;

	if ((rc = http_no_query(call, err)) < 0 ||
	    (rc = empty_body(call, err)) < 0 ||
	    (rc = rd_service_webhook_retry(call->svc, &call->actor,
					   call->params[0], call->params[1],
					   &d, err)) < 0)
		return rc;
	call->reply = rd_webhook_delivery_to_json(&d);
	free(d.attempts);
	if (!call->reply)
		return nomem(err);
	call->status = 202;
	return RD_OK;
}

int http_get_events(http_call *call, rd_error *err)
{
	static const char *const params[] = { "after", "types", "limit" };
	int seen[3] = { 0, 0, 0 };
	char next[RD_OUTBOX_CURSOR_BUFSZ];
	const char *after = NULL, *types = NULL;
	rd_outbox_event *list = NULL;
	size_t limit = EVENTS_LIMIT_DEFAULT, count = 0;
	json_t *items = NULL;
	int rc;

	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		const char *value = call->query[i].value;
		int k = http_query_param(call, i, params, 3, seen,
					 "the event feed takes after, types "
					 "and limit", err);

		if (k < 0)
			return k;
		if (k == 0) {
			rc = http_parse_text(&after, "after", value, err);
		} else if (k == 1) {
			types = value;
			if (strlen(value) > TYPES_MAX)
				rc = rd_error_set_field(err, RD_EINVALID,
					"types", "query parameter types is "
					"longer than %d bytes", TYPES_MAX);
		} else {
			rc = http_parse_limit(&limit, value, err);
		}
		if (rc < 0)
			return rc;
	}
	if ((rc = rd_service_events_feed(call->svc, &call->actor, after,
					 types, limit, &list, &count, next,
					 err)) < 0)
		return rc;
	if (!(items = json_array())) {
		rc = nomem(err);
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		json_t *item = rd_outbox_event_to_json(&list[i]);

		if (!item || json_array_append_new(items, item) != 0) {
			rc = rd_error_set(err, item ? RD_ENOMEM : RD_EIO,
					  "event %s cannot be read back from "
					  "the record", list[i].id);
			goto done;
		}
	}
	call->reply = json_pack("{s:o, s:s}", "items", items, "next_cursor",
				next);
	items = NULL;
	if (!call->reply)
		rc = nomem(err);
done:
	json_decref(items);
	rd_outbox_events_free(list, count);
	return rc;
}
