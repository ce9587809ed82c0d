/*
 * Webhook endpoints and the event feed: who may register a receiver of
 * events and for which storefront, what an endpoint may say (its URL, its
 * event types), its secret and the rotation of it, the delivery log and
 * redelivery, and the feed of the same events for pollers.
 *
 * A storefront key manages its own storefront's endpoints and reads its
 * own disputes' events; an admin manages every endpoint (one without a
 * storefront receives every storefront's events) and reads every event;
 * agents and auditors read the feed and manage no endpoint. Another
 * storefront's endpoint does not exist for a storefront key (404).
 *
 * The delivery itself is deliver.c's.
 */
#include "service_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/clock.h"
#include "redress/json.h"
#include "redress/store.h"
#include "redress/webhook.h"

/* Endpoints one storefront (or the admin's every-storefront set) may have. */
#define WEBHOOKS_PER_STOREFRONT 16

/* How long the secret before a rotation keeps signing. */
#define PREVIOUS_SECRET_S (24 * 3600)

static int may_manage(const rd_actor *actor, rd_error *err)
{
	if (actor->role == RD_ROLE_ADMIN ||
	    (actor->role == RD_ROLE_STOREFRONT && actor->storefront[0]))
		return RD_OK;
	return rd_error_set(err, RD_EFORBIDDEN,
			    "only a storefront key (for its own storefront) "
			    "or an admin key may manage webhook endpoints; "
			    "this key's role is %s",
			    rd_role_name(actor->role));
}

/* The endpoint as actor may see it: another storefront's does not exist. */
static int endpoint_read(rd_service *svc, const rd_actor *actor,
			 const char *id, rd_webhook_endpoint *out,
			 rd_error *err)
{
	int rc;

	if ((rc = may_manage(actor, err)) < 0)
		return rc;
	if (strlen(id) >= sizeof(out->id))
		return rd_error_set_field(err, RD_ENOTFOUND, "id",
					  "no webhook endpoint %.40s", id);
	if ((rc = rd_store_webhook_get(svc->store, id, out, err)) < 0)
		return rc;
	if (actor->role != RD_ROLE_ADMIN &&
	    strcmp(out->storefront, actor->storefront) != 0)
		return rd_error_set_field(err, RD_ENOTFOUND, "id",
					  "no webhook endpoint %.40s", id);
	return RD_OK;
}

/* events: ["*"] alone, or known types, each once; "a,b" into out. */
static int events_join(char out[RD_WEBHOOK_EVENTS_MAX + 1],
		       const char *const *events, size_t count, rd_error *err)
{
	size_t used = 0;

	if (count == 0)
		return rd_error_set_field(err, RD_EINVALID, "events",
					  "events: name at least one event "
					  "type, or \"*\" for all of them");
	for (size_t i = 0; i < count; i++) {
		const char *type = events[i];
		size_t len = strlen(type);

		if (strcmp(type, "*") == 0) {
			if (count != 1)
				return rd_error_set_field(err, RD_EINVALID,
					"events", "events: \"*\" stands for "
					"every type and comes alone");
		} else if (!rd_event_type_valid(type)) {
			return rd_error_set_field(err, RD_EINVALID, "events",
				"events: \"%.40s\" is not an event type "
				"(docs/webhooks.md lists them: "
				"dispute.opened, offer.accepted, "
				"payment.due, ...)", type);
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(events[j], type) == 0)
				return rd_error_set_field(err, RD_EINVALID,
					"events", "events: \"%s\" is named "
					"twice", type);
		if (used + len + 2 > RD_WEBHOOK_EVENTS_MAX + 1)
			return rd_error_set_field(err, RD_ETOOLARGE, "events",
						  "events: too many types");
		if (used)
			out[used++] = ',';
		memcpy(out + used, type, len + 1);
		used += len;
	}
	return RD_OK;
}

static int description_check(const char *text, rd_error *err)
{
	if (strlen(text) > RD_WEBHOOK_DESCRIPTION_MAX)
		return rd_error_set_field(err, RD_ETOOLARGE, "description",
					  "description: longer than %d bytes",
					  RD_WEBHOOK_DESCRIPTION_MAX);
	if (!svc_text_ok(text, 0))
		return rd_error_set_field(err, RD_EINVALID, "description",
					  "description: not UTF-8 text "
					  "without control characters");
	return RD_OK;
}

void rd_service_webhook_allow(rd_service *svc, int allow_http,
			      int allow_private)
{
	svc->webhook_allow_http = allow_http;
	svc->webhook_allow_private = allow_private;
}

static void webhook_options(const rd_service *svc, rd_webhook_options *out)
{
	memset(out, 0, sizeof(*out));
	out->allow_http = svc->webhook_allow_http;
	out->allow_private = svc->webhook_allow_private;
}

/* What a change asks for, checked and written into ep. */
static int apply_change(rd_service *svc, rd_webhook_endpoint *ep,
			const rd_webhook_change *change, rd_error *err)
{
	rd_webhook_options opts;
	int rc;

	webhook_options(svc, &opts);
	if (change->url) {
		if ((rc = rd_webhook_url_check(change->url, &opts, err)) < 0)
			return rc;
		snprintf(ep->url, sizeof(ep->url), "%s", change->url);
	}
	if (change->events &&
	    (rc = events_join(ep->events, change->events,
			      change->event_count, err)) < 0)
		return rc;
	if (change->description) {
		if ((rc = description_check(change->description, err)) < 0)
			return rc;
		snprintf(ep->description, sizeof(ep->description), "%s",
			 change->description);
	}
	if (change->enabled == 1 && !ep->enabled) {
		ep->enabled = 1;
		ep->disabled_reason[0] = '\0';
		ep->failing_since = 0;
	} else if (change->enabled == 0 && ep->enabled) {
		ep->enabled = 0;
		snprintf(ep->disabled_reason, sizeof(ep->disabled_reason),
			 "disabled by request");
	}
	return RD_OK;
}

/* The storefront a new endpoint is for: the key's own, or the admin's pick. */
static int endpoint_storefront(char out[65], const rd_actor *actor,
			       const char *asked, rd_error *err)
{
	out[0] = '\0';
	if (actor->role == RD_ROLE_STOREFRONT) {
		if (asked && strcmp(asked, actor->storefront) != 0)
			return rd_error_set_field(err, RD_EFORBIDDEN,
				"storefront", "a storefront key registers "
				"endpoints for its own storefront (%s) only",
				actor->storefront);
		snprintf(out, 65, "%.64s", actor->storefront);
		return RD_OK;
	}
	if (asked) {
		if (!rd_storefront_valid(asked))
			return rd_error_set_field(err, RD_EINVALID,
				"storefront", "storefront: \"%.64s\" is not "
				"a storefront name (a lower-case letter or "
				"digit, then up to 63 of a-z 0-9 . _ -)",
				asked);
		snprintf(out, 65, "%.64s", asked);
	}
	return RD_OK;
}

/*
 * In the open transaction: the endpoint the request's Idempotency-Key
 * made within 24 hours, if any (*replayed; out is it), refused when that
 * key came with another request.
 */
static int idem_replay(rd_service *svc, const rd_webhook_idem *idem,
		       int64_t now, rd_webhook_endpoint *out, int *replayed,
		       rd_error *err)
{
	rd_webhook_endpoint made;
	char digest[65];
	int rc;

	*replayed = 0;
	if ((rc = rd_store_webhook_by_idem(svc->store, idem->key_id, idem->key,
					   now - RD_IDEM_KEEP_S, &made, digest,
					   replayed, err)) < 0 ||
	    !*replayed)
		return rc;
	if (strcmp(digest, idem->request_sha256) != 0) {
		*replayed = 0;
		return rd_error_set_field(err, RD_EINVALID, "Idempotency-Key",
					  "Idempotency-Key %.64s came with "
					  "another request within 24 hours: "
					  "send a new request under a new key",
					  idem->key);
	}
	*out = made;
	return RD_OK;
}

/* In the open transaction: RD_ETOOLARGE when the storefront has its fill. */
static int room_for_one(rd_service *svc, const char *storefront,
			rd_error *err)
{
	rd_webhook_endpoint *existing = NULL;
	size_t count = 0, same = 0;
	int rc;

	if ((rc = rd_store_webhooks_list(svc->store,
					 storefront[0] ? storefront : NULL,
					 &existing, &count, err)) < 0)
		return rc;
	for (size_t i = 0; i < count; i++)
		same += strcmp(existing[i].storefront, storefront) == 0;
	free(existing);
	if (same >= WEBHOOKS_PER_STOREFRONT)
		return rd_error_set(err, RD_ETOOLARGE, "%s has %zu webhook "
				    "endpoints already, the most it may have; "
				    "remove one first",
				    storefront[0] ? storefront
						  : "every storefront",
				    same);
	return RD_OK;
}

int rd_service_webhook_create(rd_service *svc, const rd_actor *actor,
			      const rd_webhook_change *change, int64_t now,
			      rd_webhook_endpoint *out, int *replayed,
			      rd_error *err)
{
	rd_webhook_endpoint made;
	rd_webhook_idem idem = { actor->key_id, change->idempotency_key,
				 change->request_sha256 };
	int keyed = change->idempotency_key && actor->key_id[0] &&
		    change->request_sha256;
	char ulid[RD_ID_BUFSZ];
	int rc;

	*replayed = 0;
	memset(&made, 0, sizeof(made));
	if ((rc = may_manage(actor, err)) < 0 ||
	    (keyed && (rc = rd_idem_key_check(change->idempotency_key,
					      err)) < 0) ||
	    (rc = endpoint_storefront(made.storefront, actor,
				      change->storefront, err)) < 0)
		return rc;
	if (!change->url)
		return rd_error_set_field(err, RD_EINVALID, "url",
					  "url: the address to deliver to is "
					  "missing");
	if (!change->events)
		return rd_error_set_field(err, RD_EINVALID, "events",
					  "events: the event types to deliver "
					  "are missing (\"*\" for all)");
	made.enabled = 1;
	if ((rc = apply_change(svc, &made, change, err)) < 0)
		return rc;
	made.enabled = change->enabled != 0;
	if (!made.enabled)
		snprintf(made.disabled_reason, sizeof(made.disabled_reason),
			 "disabled by request");
	if ((rc = rd_id_generate(ulid, now, err)) < 0 ||
	    (rc = rd_webhook_secret_new(made.secret, err)) < 0)
		return rc;
	snprintf(made.id, sizeof(made.id), "we_%s", ulid);
	made.created_at = now;
	made.updated_at = now;
	/*
	 * Twice at most: two requests under one key at once (several
	 * nodes) both find none; the second's insert is refused once the
	 * first commits, and it then finds the first's endpoint.
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = rd_store_begin(svc->store, err)) < 0)
			return rc;
		if (keyed && ((rc = idem_replay(svc, &idem, now, out, replayed,
						err)) < 0 || *replayed)) {
			svc_rollback(svc);
			return rc;
		}
		if ((rc = room_for_one(svc, made.storefront, err)) == RD_OK &&
		    (rc = rd_store_webhook_insert(svc->store, &made,
						  keyed ? &idem : NULL,
						  err)) == RD_OK &&
		    (rc = svc_commit_aside(svc, err)) == RD_OK) {
			*out = made;
			return RD_OK;
		}
		svc_rollback(svc);
		if (rc != RD_ECONFLICT || !keyed)
			break;
	}
	return rc;
}

int rd_service_webhooks_list(rd_service *svc, const rd_actor *actor,
			     rd_webhook_endpoint **out, size_t *count,
			     rd_error *err)
{
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = may_manage(actor, err)) < 0)
		return rc;
	return rd_store_webhooks_list(svc->store,
				      actor->role == RD_ROLE_ADMIN
					      ? NULL : actor->storefront,
				      out, count, err);
}

int rd_service_webhook_get(rd_service *svc, const rd_actor *actor,
			   const char *id, rd_webhook_endpoint *out,
			   rd_error *err)
{
	return endpoint_read(svc, actor, id, out, err);
}

/*
 * Read the endpoint inside a write transaction, let `edit` change it and
 * write it back; out is the endpoint as it now is.
 */
static int endpoint_edit(rd_service *svc, const rd_actor *actor,
			 const char *id, int64_t now,
			 int (*edit)(rd_service *svc, rd_webhook_endpoint *ep,
				     const void *arg, int64_t now,
				     rd_error *err),
			 const void *arg, rd_webhook_endpoint *out,
			 rd_error *err)
{
	int rc;

	if ((rc = may_manage(actor, err)) < 0 ||
	    (rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = endpoint_read(svc, actor, id, out, err)) < 0 ||
	    (rc = edit(svc, out, arg, now, err)) < 0)
		goto fail;
	out->updated_at = now;
	if ((rc = rd_store_webhook_update(svc->store, out, err)) < 0 ||
	    (rc = svc_commit_aside(svc, err)) < 0)
		goto fail;
	return RD_OK;
fail:
	svc_rollback(svc);
	return rc;
}

static int edit_change(rd_service *svc, rd_webhook_endpoint *ep,
		       const void *arg, int64_t now, rd_error *err)
{
	(void)now;
	return apply_change(svc, ep, arg, err);
}

int rd_service_webhook_update(rd_service *svc, const rd_actor *actor,
			      const char *id, const rd_webhook_change *change,
			      int64_t now, rd_webhook_endpoint *out,
			      rd_error *err)
{
	if (!change->url && !change->events && !change->description &&
	    change->enabled < 0 && !change->storefront)
		return rd_error_set(err, RD_EINVALID, "the request changes "
				    "nothing: give url, events, description "
				    "or enabled");
	if (change->storefront)
		return rd_error_set_field(err, RD_EINVALID, "storefront",
					  "storefront: an endpoint's "
					  "storefront cannot change; remove "
					  "it and register another");
	return endpoint_edit(svc, actor, id, now, edit_change, change, out,
			     err);
}

/*
 * The old secret signs until 24 hours from now by the deliveries' clock
 * (the system's, never REDRESS_NOW: the one that decides whether it
 * still signs). Rotated again while an older secret still signs, the
 * older one stays and the one in between goes: a rotation whose answer
 * was lost, sent again, must not leave the receiver with no secret that
 * verifies.
 */
static int edit_rotate(rd_service *svc, rd_webhook_endpoint *ep,
		       const void *arg, int64_t now, rd_error *err)
{
	int64_t real_now = 0;
	int rc;

	(void)svc;
	(void)arg;
	(void)now;
	if ((rc = svc_webhook_clock(&real_now, err)) < 0)
		return rc;
	if (!ep->previous_secret[0] || ep->previous_expires_at <= real_now) {
		memcpy(ep->previous_secret, ep->secret, sizeof(ep->secret));
		ep->previous_expires_at = real_now + PREVIOUS_SECRET_S;
	}
	return rd_webhook_secret_new(ep->secret, err);
}

int rd_service_webhook_rotate(rd_service *svc, const rd_actor *actor,
			      const char *id, int64_t now,
			      rd_webhook_endpoint *out, rd_error *err)
{
	return endpoint_edit(svc, actor, id, now, edit_rotate, NULL, out, err);
}

int rd_service_webhook_delete(rd_service *svc, const rd_actor *actor,
			      const char *id, rd_error *err)
{
	rd_webhook_endpoint ep;
	int rc;

	if ((rc = may_manage(actor, err)) < 0 ||
	    (rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = endpoint_read(svc, actor, id, &ep, err)) < 0 ||
	    (rc = rd_store_webhook_delete(svc->store, id, err)) < 0 ||
	    (rc = svc_commit_aside(svc, err)) < 0) {
		svc_rollback(svc);
		return rc;
	}
	return RD_OK;
}

int rd_service_webhook_deliveries(rd_service *svc, const rd_actor *actor,
				  const char *id, const char *cursor,
				  size_t limit, rd_webhook_delivery **out,
				  size_t *count,
				  char next_cursor[RD_OUTBOX_CURSOR_BUFSZ],
				  rd_error *err)
{
	rd_webhook_endpoint ep;
	int rc;

	*out = NULL;
	*count = 0;
	next_cursor[0] = '\0';
	if ((rc = endpoint_read(svc, actor, id, &ep, err)) < 0)
		return rc;
	return rd_store_webhook_deliveries(svc->store, id, cursor, limit, out,
					   count, next_cursor, err);
}

int rd_service_webhook_retry(rd_service *svc, const rd_actor *actor,
			     const char *id, const char *delivery_id,
			     rd_webhook_delivery *out, rd_error *err)
{
	rd_webhook_endpoint ep;
	int64_t now = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = svc_webhook_clock(&now, err)) < 0 ||
	    (rc = may_manage(actor, err)) < 0 ||
	    (rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = endpoint_read(svc, actor, id, &ep, err)) < 0 ||
	    (!ep.enabled &&
	     (rc = rd_error_set(err, RD_ECONFLICT, "webhook endpoint %s is "
				"disabled (%s): enable it first, and its "
				"deliveries go out again", ep.id,
				ep.disabled_reason)) < 0) ||
	    (rc = rd_store_webhook_retry(svc->store, id, delivery_id, now,
					 err)) < 0 ||
	    (rc = rd_store_webhook_delivery_get(svc->store, id, delivery_id,
						out, err)) < 0 ||
	    (rc = svc_commit_aside(svc, err)) < 0) {
		svc_rollback(svc);
		free(out->attempts);
		out->attempts = NULL;
		return rc;
	}
	return RD_OK;
}

int rd_service_webhook_backlog(rd_service *svc, int64_t *pending,
			       int64_t *oldest_created_at, rd_error *err)
{
	return rd_store_webhook_backlog(svc->store, pending, oldest_created_at,
					err);
}

/* ---- the feed ---- */

/* 1 when `type` is among the comma-separated types before `upto`. */
static int type_listed(const char *types, const char *upto, const char *type)
{
	size_t len = strlen(type), n;
	const char *rest = types, *item;

	while (rd_event_types_next(&rest, &item, &n) && item < upto)
		if (n == len && memcmp(item, type, len) == 0)
			return 1;
	return 0;
}

/* types: a comma-separated list of known types, each once. */
static int types_check(const char *types, rd_error *err)
{
	const char *rest = types, *item;
	size_t len;

	if (!*types)
		return rd_error_set_field(err, RD_EINVALID, "types",
					  "types: empty; leave it out for "
					  "every type");
	while (rd_event_types_next(&rest, &item, &len)) {
		char type[40];

		if (len == 0 || len >= sizeof(type))
			return rd_error_set_field(err, RD_EINVALID, "types",
				"types: \"%.64s\" is not a comma-separated "
				"list of event types", types);
		memcpy(type, item, len);
		type[len] = '\0';
		if (!rd_event_type_valid(type))
			return rd_error_set_field(err, RD_EINVALID, "types",
				"types: \"%s\" is not an event type", type);
		if (type_listed(types, item, type))
			return rd_error_set_field(err, RD_EINVALID, "types",
				"types: \"%s\" is named twice", type);
		if (item[len] == ',' && !*rest)
			return rd_error_set_field(err, RD_EINVALID, "types",
				"types: \"%.64s\" ends with a comma", types);
	}
	return RD_OK;
}

int rd_service_events_feed(rd_service *svc, const rd_actor *actor,
			   const char *after, const char *types,
			   size_t limit, rd_outbox_event **out, size_t *count,
			   char next_cursor[RD_OUTBOX_CURSOR_BUFSZ],
			   rd_error *err)
{
	int rc;

	*out = NULL;
	*count = 0;
	next_cursor[0] = '\0';
	if (types && (rc = types_check(types, err)) < 0)
		return rc;
	return rd_store_outbox_after(svc->store, after,
				     actor->storefront[0] ? actor->storefront
							  : NULL,
				     types, limit, out, count, next_cursor,
				     err);
}

/* ---- as JSON ---- */

static json_t *time_or_null(int64_t t)
{
	char text[RD_TIME_BUFSZ];

	if (!t)
		return json_null();
	rd_time_format(text, t);
	return json_string(text);
}

static json_t *text_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

/* "a,b" (or "*") as the JSON array of an endpoint's events. */
static json_t *events_json(const char *events)
{
	json_t *list = json_array();
	const char *rest = events, *type;
	size_t len;

	while (list && rd_event_types_next(&rest, &type, &len))
		if (json_array_append_new(list, json_stringn(type, len)) != 0) {
			json_decref(list);
			return NULL;
		}
	return list;
}

json_t *rd_webhook_endpoint_to_json(const rd_webhook_endpoint *ep, int with_secret)
{
	json_t *doc = json_pack("{s:s, s:s, s:o, s:s, s:o, s:b, s:o, s:o, s:o,"
				" s:o}",
				"id", ep->id,
				"url", ep->url,
				"events", events_json(ep->events),
				"description", ep->description,
				"storefront", text_or_null(ep->storefront),
				"enabled", ep->enabled,
				"disabled_reason",
				text_or_null(ep->disabled_reason),
				"created_at", time_or_null(ep->created_at),
				"updated_at", time_or_null(ep->updated_at),
				"previous_secret_expires_at",
				time_or_null(ep->previous_expires_at));

	if (doc && with_secret &&
	    json_object_set_new(doc, "secret", json_string(ep->secret)) != 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

json_t *rd_webhook_delivery_to_json(const rd_webhook_delivery *d)
{
	json_t *attempts = json_array();
	json_t *doc;

	for (size_t i = 0; attempts && i < d->attempts_count; i++) {
		const rd_webhook_attempt *a = &d->attempts[i];
		json_t *one = json_pack("{s:I, s:o, s:o, s:I, s:s, s:o, s:o}",
					"n", (json_int_t)a->n,
					"at", time_or_null(a->at),
					"status_code", a->status_code
						? json_integer(a->status_code)
						: json_null(),
					"latency_ms", (json_int_t)a->latency_ms,
					"answer", a->answer,
					"error", text_or_null(a->error),
					"next_attempt_at",
					time_or_null(a->next_at));

		if (json_array_append_new(attempts, one) != 0) {
			json_decref(attempts);
			return NULL;
		}
	}
	doc = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:o, s:o, s:o,"
			" s:o}",
			"id", d->id,
			"event_id", d->event_id,
			"event_type", d->event_type,
			"dispute_id", d->dispute_id,
			"version", (json_int_t)d->version,
			"status", d->status,
			"attempt_count", (json_int_t)d->attempt_count,
			"next_attempt_at", time_or_null(d->next_at),
			"created_at", time_or_null(d->created_at),
			"finished_at", time_or_null(d->finished_at),
			"attempts", attempts);
	return doc;
}

json_t *rd_outbox_event_to_json(const rd_outbox_event *ev)
{
	json_t *body = rd_json_loadb(ev->payload, strlen(ev->payload), 0,
				     NULL);
	json_t *item;

	if (!body)
		return NULL;
	item = json_pack("{s:s, s:O, s:O, s:O}", "id", ev->id,
			 "type", json_object_get(body, "type"),
			 "timestamp", json_object_get(body, "timestamp"),
			 "data", json_object_get(body, "data"));
	json_decref(body);
	return item;
}
