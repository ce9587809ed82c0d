/*
 * POST /v1/disputes/bulk-events: one event on up to 500 disputes.
 *
 * The whole body is checked first (ids, then the event request exactly as
 * POST /v1/disputes/{id}/events reads it); then every dispute's change is
 * queued on the writer lane of its dispute, like a single event
 * (writer.h), and runs there in its own savepoint of a group commit, with
 * the same service call (rd_service_event_apply), the same roles and the
 * same storefront scoping: an item fails alone, with the problem the
 * single route would have answered. The items queue among everyone else's
 * changes, so a bulk never holds a lane for long; the request itself runs
 * as slow work (slow.c), off the request threads, while it waits.
 *
 * Idempotency-Key covers the whole call: the answer is recorded (operation
 * "bulk", no dispute) once every item has run, and a retry with the same
 * body is answered from that record; a retry with another body is refused
 * (422 idempotency_key_reused), and one while the first is under way too
 * (409 idempotency_key_in_flight). The items are separate transactions, so
 * a crash half way leaves the items done done and no record: a retry then
 * applies the rest, and the done ones answer their problem (a 409 of a
 * state that no longer takes the event, typically).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "http/writer.h"
#include "redress/json.h"
#include "redress/money.h"
#include "redress/store.h"

#define BULK_MAX 500

/* One dispute of a bulk request, run on its lane. */
typedef struct bulk_item {
	http_call call;               /* the request's, svc the lane's */
	const char *id;
	const rd_event_request *req;  /* shared, fields copied per item */
	int has_amount;
	int64_t amount;
	json_t *ok;                   /* {"version", "state"} once applied */
} bulk_item;

/* Apply the event to one dispute, as post_event does (in its savepoint). */
static int item_run(void *ctx, http_call *call, rd_error *err)
{
	bulk_item *item = ctx;
	rd_field fields[RD_EVENT_MAX_FIELDS];
	char amount_text[RD_MONEY_BUFSZ];
	rd_event_request req = *item->req;
	rd_dispute *visible = NULL, *d = NULL;
	int rc;

	memcpy(fields, item->req->fields,
	       item->req->field_count * sizeof(fields[0]));
	req.fields = fields;
	if ((call->storefront[0] || item->has_amount) &&
	    (rc = http_visible_dispute(call, item->id, &visible, err)) < 0)
		goto done;
	if (item->has_amount &&
	    (rc = http_amount_as_text(amount_text, fields, req.field_count,
				      item->amount, visible, err)) < 0)
		goto done;
	if ((rc = rd_service_event_apply(call->svc, item->id, &req,
					 &call->actor, call->now, &d,
					 err)) < 0)
		goto done;
	item->ok = json_pack("{s:I, s:s}", "version", (json_int_t)d->version,
			     "state", d->state);
	if (!item->ok)
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
done:
	rd_dispute_free(visible);
	rd_dispute_free(d);
	return rc;
}

/* "ids": 1 to 500 distinct dispute ids, into ids[] (borrowed from doc). */
static int read_ids(const char **ids, size_t *count, const json_t *doc,
		    rd_error *err)
{
	json_t *list = json_object_get(doc, "ids"), *v;
	size_t i;

	if (!list)
		return rd_error_set_field(err, RD_EINVALID, "ids",
					  "ids is required: an array of 1 to "
					  "%d dispute ids", BULK_MAX);
	if (!json_is_array(list))
		return rd_error_set_field(err, RD_EINVALID, "ids",
					  "ids must be an array of dispute "
					  "ids");
	if (json_array_size(list) == 0 || json_array_size(list) > BULK_MAX)
		return rd_error_set_field(err, RD_EINVALID, "ids",
					  "ids must hold 1 to %d dispute ids, "
					  "not %zu", BULK_MAX,
					  json_array_size(list));
	json_array_foreach(list, i, v) {
		const char *id = json_string_value(v);

		if (!id || !rd_id_valid(id)) {
			rd_error_set(err, RD_EINVALID, "ids[%zu] is not a "
				     "dispute id", i);
			snprintf(err->field, sizeof(err->field), "ids[%zu]",
				 i);
			return RD_EINVALID;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(ids[j], id) == 0) {
				rd_error_set(err, RD_EINVALID, "ids[%zu] "
					     "repeats ids[%zu] (%s): each "
					     "dispute may be named once", i,
					     j, id);
				snprintf(err->field, sizeof(err->field),
					 "ids[%zu]", i);
				return RD_EINVALID;
			}
		ids[i] = id;
	}
	*count = json_array_size(list);
	return RD_OK;
}

/* One item's result: ok with its version and state, or its problem. */
static int item_result(json_t *results, const bulk_item *item, int rc,
		       const rd_error *err, size_t *failed)
{
	json_t *doc;

	if (rc == RD_OK && item->ok) {
		doc = json_pack("{s:s, s:b}", "id", item->id, "ok", 1);
		if (!doc || json_object_update(doc, item->ok) < 0) {
			json_decref(doc);
			return -1;
		}
	} else {
		unsigned status = 0;
		json_t *problem = http_problem(err, 0, &status);

		if (!problem)
			return -1;
		doc = json_pack("{s:s, s:b, s:o}", "id", item->id, "ok", 0,
				"problem", problem);
		(*failed)++;
	}
	return doc ? json_array_append_new(results, doc) : -1;
}

/* Run every item on its lane; the answer document into call->reply. */
static int run_items(http_call *call, const char **ids, size_t count,
		     const rd_event_request *req, int has_amount,
		     int64_t amount, rd_error *err)
{
	bulk_item *items = calloc(count, sizeof(*items));
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	http_call **calls = calloc(count, sizeof(*calls));
	void **ctxs = calloc(count, sizeof(*ctxs));
	int *rcs = calloc(count, sizeof(*rcs));
	rd_error *errs = calloc(count, sizeof(*errs));
	json_t *results = json_array();
	size_t failed = 0;
	int rc = RD_OK;

	if (!items || !calls || !ctxs || !rcs || !errs || !results) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		items[i].call = *call;
		items[i].call.reply = NULL;
		items[i].call.slow = NULL;
		items[i].id = ids[i];
		items[i].req = req;
		items[i].has_amount = has_amount;
		items[i].amount = amount;
		calls[i] = &items[i].call;
		ctxs[i] = &items[i];
	}
	if ((rc = http_writer_run_all(call->writer, count, ids, calls,
				      item_run, ctxs, rcs, errs, err)) < 0)
		goto done;
	for (size_t i = 0; i < count; i++) {
		/* a batch that failed to commit: its items are that failure */
		if (rcs[i] < 0) {
			json_decref(items[i].ok);
			items[i].ok = NULL;
		}
		if (item_result(results, &items[i], rcs[i], &errs[i],
				&failed) < 0) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	}
	call->reply = json_pack("{s:O, s:I, s:I}", "results", results,
				"succeeded", (json_int_t)(count - failed),
				"failed", (json_int_t)failed);
	if (!call->reply)
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
done:
	if (items)
		for (size_t i = 0; i < count; i++)
			json_decref(items[i].ok);
	json_decref(results);
	free(items);
	free(calls);
	free(ctxs);
	free(rcs);
	free(errs);
	return rc;
}

/* ---- Idempotency-Key of the whole call ------------------------------------ */

/*
 * A refusal about the key (HTTP_KEY_REUSED or _IN_FLIGHT), answered with
 * the problem the single routes give it; err's code, to return.
 */
static int key_refusal(http_call *call, int which, rd_error *err)
{
	call->key_refused = which;
	snprintf(err->field, sizeof(err->field), "Idempotency-Key");
	return err->code;
}

/* The record of the answer, written on a lane like every other write. */
typedef struct idem_write {
	rd_idem_record rec;
} idem_write;

static int idem_write_run(void *ctx, http_call *call, rd_error *err)
{
	idem_write *w = ctx;
	rd_store *st = rd_service_store(call->svc);
	int rc;

	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	/* replace: the key is claimed, and a record found was past its time */
	if ((rc = rd_store_idem_insert(st, &w->rec, 1, err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

static int idem_record(http_call *call, const char *key, const char *digest,
		       rd_error *err)
{
	idem_write w;
	http_call copy = *call;
	http_call *calls[1] = { &copy };
	void *ctxs[1] = { &w };
	const char *lanes[1] = { "" };
	rd_error errs[1];
	int rcs[1];
	int rc;

	memset(&w, 0, sizeof(w));
	copy.reply = NULL;
	snprintf(w.rec.key_id, sizeof(w.rec.key_id), "%s", call->actor.key_id);
	snprintf(w.rec.key, sizeof(w.rec.key), "%s", key);
	snprintf(w.rec.request_sha256, sizeof(w.rec.request_sha256), "%s",
		 digest);
	w.rec.operation = RD_IDEM_BULK;
	w.rec.created_at = call->now;
	w.rec.response = rd_json_dumps(call->reply,
				       JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!w.rec.response)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	rc = http_writer_run_all(call->writer, 1, lanes, calls,
				 idem_write_run, ctxs, rcs, errs, err);
	if (rc == RD_OK && rcs[0] < 0) {
		rc = rcs[0];
		*err = errs[0];
	}
	free(w.rec.response);
	return rc;
}

/* The digest of this request, as the single routes' (method, path, body). */
static void bulk_digest(char out[65], const http_call *call)
{
	http_match m;

	http_route_find(&m, "POST", "/v1/disputes/bulk-events");
	http_idem_digest_body(out, m.route, call);
}

/*
 * Under the key: 1 when the call was answered from the record (or
 * refused: another body), 0 when the request is to be made.
 */
static int idem_lookup(http_call *call, const char *key, const char *digest,
		       rd_error *err)
{
	rd_idem_record rec;
	int rc;

	rc = rd_service_idem_get(call->svc, &call->actor, key, call->now,
				 &rec, err);
	if (rc == RD_ENOTFOUND) {
		rd_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	if (rec.operation != RD_IDEM_BULK ||
	    strcmp(rec.request_sha256, digest) != 0) {
		rd_error_set(err, RD_EINVALID, "this Idempotency-Key was used "
			     "for another request (another path, body or "
			     "file); send a new key with a new request");
		rc = key_refusal(call, HTTP_KEY_REUSED, err);
	} else if ((rc = http_idem_replay(call, &rec, err)) == RD_OK) {
		call->etag[0] = '\0';
	}
	rd_idem_record_clear(&rec);
	if (rc == RD_ENOMEM)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return rc < 0 ? rc : 1;
}

/* ---- the route ------------------------------------------------------------ */

/* The body: ids, and the event request (the members but ids). */
static int read_bulk(json_t **event_doc, const char **ids, size_t *count,
		     const json_t *doc, rd_error *err)
{
	*event_doc = NULL;
	if (!json_is_object(doc))
		return rd_error_set(err, RD_EINVALID, "the body must be a JSON "
				    "object {\"ids\", \"event\", \"fields\", "
				    "\"note\"}");
	if (read_ids(ids, count, doc, err) < 0)
		return RD_EINVALID;
	if (!(*event_doc = json_copy((json_t *)doc)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	json_object_del(*event_doc, "ids");
	return RD_OK;
}

static int bulk_apply(http_call *call, const char *key, const char *digest,
		      rd_error *err)
{
	rd_field fields[RD_EVENT_MAX_FIELDS];
	const char **ids = calloc(BULK_MAX, sizeof(*ids));
	json_t *doc = NULL, *event_doc = NULL;
	rd_event_request req;
	int64_t amount = 0;
	int has_amount = 0;
	size_t count = 0;
	int rc;

	memset(&req, 0, sizeof(req));
	if (!ids)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((rc = http_parse_body(&doc, call, err)) < 0 ||
	    (rc = read_bulk(&event_doc, ids, &count, doc, err)) < 0)
		goto done;
	if (event_doc && (rc = http_read_event_request(&req, fields, &amount,
				&has_amount, &call->deprecated, event_doc,
				err)) < 0) {
		/* "unknown member" names the event's; the body's are ours */
		if (strstr(err->message, "unknown member"))
			snprintf(err->message, sizeof(err->message),
				 "unknown member \"%.64s\" (a bulk event "
				 "takes \"ids\", \"event\", \"fields\" and "
				 "\"note\")", err->field);
		goto done;
	}
	if ((rc = run_items(call, ids, count, &req, has_amount, amount,
			    err)) < 0)
		goto done;
	/*
	 * The items are done whatever becomes of the record: their results
	 * are answered even when it could not be written (a retry then
	 * applies the event again, and the items done answer their problem).
	 */
	if (key && idem_record(call, key, digest, err) < 0)
		rd_error_clear(err);
	rc = RD_OK;
done:
	json_decref(event_doc);
	json_decref(doc);
	free(ids);
	return rc;
}

int http_post_bulk_events(http_call *call, rd_error *err)
{
	const char *key = call->idempotency_key;
	char digest[65];
	int rc;

	if (!call->writer)
		return rd_error_set(err, RD_EINTERNAL, "bulk events need the "
				    "server's writer");
	if (!key)
		return bulk_apply(call, NULL, NULL, err);
	if ((rc = rd_idem_key_check(key, err)) < 0)
		return rc;
	bulk_digest(digest, call);
	/* in flight for every thread, process and node on the record */
	if ((rc = rd_service_idem_claim(call->svc, &call->actor, key,
					err)) < 0) {
		if (rc != RD_ECONFLICT)
			return rc;
		rd_error_set(err, RD_ECONFLICT, "a request with this "
			     "Idempotency-Key is still being processed; "
			     "retry once it has been answered");
		return key_refusal(call, HTTP_KEY_IN_FLIGHT, err);
	}
	rc = idem_lookup(call, key, digest, err);
	if (rc == 0)
		rc = bulk_apply(call, key, digest, err);
	else if (rc == 1)
		rc = RD_OK;
	rd_service_idem_release(call->svc, &call->actor, key);
	return rc;
}

/* ---- GET /v1/buyers/{buyer_ref}/disputes ------------------------------------ */

/*
 * A buyer's disputes in one storefront, newest first. A storefront key
 * sees its own storefront's (storefront= may name it, and no other: 403);
 * any other key names the storefront with storefront=, which is required:
 * a buyer reference means something in one storefront only, and the index
 * that serves the page leads with the storefront. The buyer_ref is the
 * rest of the path up to "/disputes", percent-decoded (routes.c), so
 * every buyer_ref a dispute may carry, '/' included, can be named.
 */
int http_get_buyer_disputes(http_call *call, rd_error *err)
{
	const char *storefront, *cursor;
	const char *buyer = call->params[0];
	rd_dispute **list = NULL;
	size_t limit, count = 0;
	char *next = NULL;
	int rc;

	if ((rc = http_storefront_page(call, "disputes", &storefront, &limit,
				       &cursor, err)) < 0)
		return rc;
	if (strlen(buyer) > RD_DISPUTE_MAX_REF)
		return rd_error_set_field(err, RD_EINVALID, "buyer_ref",
					  "a buyer_ref is at most %d bytes "
					  "(percent-decoded), this one is %zu",
					  RD_DISPUTE_MAX_REF, strlen(buyer));
	if (rd_text_check(buyer, strlen(buyer), 0) != RD_TEXT_OK)
		return rd_error_set_field(err, RD_EINVALID, "buyer_ref",
					  "a buyer_ref is UTF-8 text without "
					  "control characters; percent-encode "
					  "it in the path (%%2F for '/')");
	if (!storefront)
		return rd_error_set_field(err, RD_EINVALID, "storefront",
					  "query parameter storefront is "
					  "required: a buyer_ref belongs to "
					  "one storefront");
	if ((rc = rd_service_buyer_disputes(call->svc, storefront, buyer,
					    limit, cursor, &list, &count,
					    &next, err)) < 0)
		goto done;
	call->reply = rd_dispute_page_to_json("items", list, count, next, 0);
	rc = call->reply ? RD_OK
			 : rd_error_set(err, RD_ENOMEM,
					"out of memory listing disputes");
done:
	rd_dispute_list_free(list, count);
	free(next);
	return rc;
}
