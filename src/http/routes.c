/*
 * The routes of the HTTP API: one table of {method, pattern, handler,
 * roles, body limit}, the matching that tells 404 from 405, and the
 * handlers, which turn a request into one service call and its result
 * into JSON. Handlers never decide a transition and never reveal that a
 * dispute of another storefront exists.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/base64.h>
#include <nettle/sha2.h>

#include "http/http_int.h"
#include "http/metrics.h"
#include "redress/clock.h"
#include "redress/hex.h"
#include "redress/json.h"
#include "redress/locale.h"
#include "redress/money.h"

/* ---- helpers ------------------------------------------------------------ */

int http_parse_body(json_t **out, http_call *call, rd_error *err)
{
	json_error_t jerr;

	*out = rd_json_loadb(call->body, call->body_len,
			  JSON_REJECT_DUPLICATES, &jerr);
	if (*out)
		return RD_OK;
	if (json_error_code(&jerr) == json_error_out_of_memory)
		return rd_error_set(err, RD_ENOMEM,
				    "out of memory reading the request body");
	call->malformed = 1;
	if (json_error_code(&jerr) == json_error_null_character)
		return rd_error_set(err, RD_EINVALID,
				    "the request body is refused: line %d, "
				    "column %d: a string holds \\u0000 (a NUL "
				    "character), which is not accepted",
				    jerr.line, jerr.column);
	return rd_error_set(err, RD_EINVALID,
			    "the request body is not valid JSON: line %d, "
			    "column %d: %s", jerr.line, jerr.column, jerr.text);
}

static int reply_dispute(http_call *call, const rd_dispute *d, rd_error *err)
{
	call->reply = rd_dispute_to_json(d);
	if (!call->reply)
		return rd_error_set(err, RD_ENOMEM,
				    "out of memory writing dispute %s", d->id);
	snprintf(call->etag, sizeof(call->etag), "\"%" PRId64 "\"",
		 d->version);
	return RD_OK;
}

/*
 * Read dispute `id` as the caller may see it: a storefront key sees its
 * own storefront's disputes only, and any other answers exactly as a
 * missing one does.
 */
static int visible_dispute(http_call *call, const char *id, rd_dispute **out,
			   rd_error *err)
{
	int rc;

	if ((rc = rd_service_dispute_get(call->svc, id, out, err)) < 0)
		return rc;
	if (call->storefront[0] &&
	    (!(*out)->storefront ||
	     strcmp((*out)->storefront, call->storefront) != 0)) {
		rd_dispute_free(*out);
		*out = NULL;
		return rd_error_set(err, RD_ENOTFOUND, "no dispute with id %s",
				    id);
	}
	return RD_OK;
}

int http_visible_dispute(http_call *call, const char *id, rd_dispute **out,
			 rd_error *err)
{
	return visible_dispute(call, id, out, err);
}

/* If-Match: "N" (a strong ETag of ours) -> N; absent -> 0 (http_int.h). */
int http_if_match_parse(int64_t *out, const char *header, rd_error *err)
{
	const char *digits;
	char *end = NULL;
	long long v;
	size_t len;

	*out = 0;
	if (!header)
		return RD_OK;
	len = strlen(header);
	/* ETags compare as strings: "01" is not the "1" we sent */
	if (len < 3 || header[0] != '"' || header[len - 1] != '"' ||
	    header[1] < '1' || header[1] > '9')
		goto bad;
	digits = header + 1;
	errno = 0;
	v = strtoll(digits, &end, 10);
	if (errno != 0 || end != header + len - 1 || v <= 0)
		goto bad;
	*out = (int64_t)v;
	return RD_OK;
bad:
	return rd_error_set_field(err, RD_EUSAGE, "If-Match",
				  "If-Match must be one ETag of a dispute "
				  "version such as \"3\" (with the quotes)");
}

/* ---- handlers ------------------------------------------------------------ */

static int get_healthz(http_call *call, rd_error *err)
{
	call->reply = json_pack("{s:s}", "status", "ok");
	if (!call->reply)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return RD_OK;
}

/*
 * Readiness, for a load balancer: 200 while this server can read its
 * record; the store's problem otherwise (503 database_unavailable, with
 * Retry-After, while its database cannot be reached), so that the
 * balancer sends requests elsewhere until it can again. /healthz stays
 * 200 meanwhile: the process is alive, and needs no restart.
 */
static int get_readyz(http_call *call, rd_error *err)
{
	int rc;

	if ((rc = rd_service_ready(call->svc, err)) < 0)
		return rc;
	call->reply = json_pack("{s:s}", "status", "ready");
	if (!call->reply)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return RD_OK;
}

static int get_workflows(http_call *call, rd_error *err)
{
	const rd_workflow_set *set = rd_service_workflows(call->svc);
	json_t *list = json_array();
	size_t n = rd_workflow_set_count(set);

	if (!list)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(list,
				rd_workflow_to_json(rd_workflow_set_at(set, i))))
			goto nomem;
	call->reply = json_pack("{s:o}", "workflows", list);
	list = NULL;
	if (!call->reply)
		goto nomem;
	return RD_OK;
nomem:
	json_decref(list);
	return rd_error_set(err, RD_ENOMEM, "out of memory listing workflows");
}

/*
 * The buyer's other disputes in this storefront (service/buyers.c), in
 * the document GET /v1/disputes/{id} answers. The answers of writes keep
 * the document as recorded, which their Idempotency-Key replays byte for
 * byte, and so do webhook payloads.
 */
static int add_buyer_history(http_call *call, const rd_dispute *d,
			     rd_error *err)
{
	json_t *history = NULL;
	int rc;

	if ((rc = rd_service_buyer_history(call->svc, d, call->now, &history,
					   err)) < 0)
		return rc;
	if (json_object_set_new(call->reply, "buyer_history", history) < 0)
		return rd_error_set(err, RD_ENOMEM, "out of memory writing "
				    "dispute %s", d->id);
	return RD_OK;
}

static int get_dispute(http_call *call, rd_error *err)
{
	rd_dispute *d = NULL;
	int rc;

	if ((rc = visible_dispute(call, call->params[0], &d, err)) < 0)
		goto done;
	if ((rc = reply_dispute(call, d, err)) < 0)
		goto done;
	rc = add_buyer_history(call, d, err);
done:
	rd_dispute_free(d);
	return rc;
}

/*
 * The opening document's "allow_duplicate" (true: open even while a
 * dispute of the same order and items is open), taken out of doc so that
 * the rest is read as a dispute. Absent is false; anything but a boolean
 * is RD_EINVALID naming it.
 */
static int take_allow_duplicate(unsigned *flags, json_t *doc, rd_error *err)
{
	json_t *value = json_is_object(doc) ?
			json_object_get(doc, "allow_duplicate") : NULL;

	*flags = 0;
	if (!value)
		return RD_OK;
	if (!json_is_boolean(value))
		return rd_error_set_field(err, RD_EINVALID, "allow_duplicate",
					  "allow_duplicate must be true or "
					  "false");
	if (json_is_true(value))
		*flags = RD_OPEN_ALLOW_DUPLICATE;
	json_object_del(doc, "allow_duplicate");
	return RD_OK;
}

static int post_dispute(http_call *call, rd_error *err)
{
	rd_dispute *input = NULL, *d = NULL;
	json_t *doc = NULL;
	unsigned flags = 0;
	int rc;

	if ((rc = http_parse_body(&doc, call, err)) < 0)
		goto done;
	if ((rc = take_allow_duplicate(&flags, doc, err)) < 0 ||
	    (rc = rd_dispute_from_json(&input, doc, err)) < 0)
		goto done;
	if (call->storefront[0] &&
	    strcmp(input->storefront, call->storefront) != 0) {
		rc = rd_error_set_field(err, RD_EFORBIDDEN, "storefront",
					"this key may only open disputes of "
					"storefront %s, not %s",
					call->storefront, input->storefront);
		goto done;
	}
	if ((rc = rd_service_dispute_open_checked(call->svc, input, flags,
						  &call->actor, call->now, &d,
						  err)) < 0)
		goto done;
	if ((rc = reply_dispute(call, d, err)) < 0)
		goto done;
	call->status = 201;
	snprintf(call->location, sizeof(call->location), "/v1/disputes/%s",
		 d->id);
done:
	json_decref(doc);
	rd_dispute_free(input);
	rd_dispute_free(d);
	return rc;
}

/*
 * {"event": "...", "fields": {"k": "v"}, "note": "..."}, strictly. Field
 * values are strings, but for `amount`, which is a JSON integer of minor
 * units like every amount of the API: *amount receives it and *has_amount
 * is set (its field's value is then left NULL for the caller to fill). A
 * string amount is the deprecated decimal text ("25.00"): *deprecated is
 * set and it is passed on as it is.
 */
static int read_event_request(rd_event_request *req, rd_field *fields,
			      int64_t *amount, int *has_amount,
			      int *deprecated, const json_t *doc,
			      rd_error *err)
{
	const char *key;
	json_t *value;
	size_t n = 0;

	if (!json_is_object(doc))
		return rd_error_set(err, RD_EINVALID,
				    "the body must be a JSON object "
				    "{\"event\", \"fields\", \"note\"}");
	json_object_foreach((json_t *)doc, key, value) {
		if (strcmp(key, "event") == 0) {
			if (!json_is_string(value))
				return rd_error_set_field(err, RD_EINVALID,
					"event", "event must be a string");
			req->event = json_string_value(value);
		} else if (strcmp(key, "note") == 0) {
			if (json_is_null(value))
				continue;
			if (!json_is_string(value))
				return rd_error_set_field(err, RD_EINVALID,
					"note", "note must be a string");
			req->note = json_string_value(value);
		} else if (strcmp(key, "fields") != 0) {
			return rd_error_set_field(err, RD_EINVALID, key,
				"unknown member \"%.64s\" (an event takes "
				"\"event\", \"fields\" and \"note\")", key);
		}
	}
	if (!req->event)
		return rd_error_set_field(err, RD_EINVALID, "event",
					  "event is required");
	value = json_object_get(doc, "fields");
	if (value && !json_is_null(value)) {
		const char *name;
		json_t *v;

		if (!json_is_object(value))
			return rd_error_set_field(err, RD_EINVALID, "fields",
				"fields must be an object of strings");
		if (json_object_size(value) > RD_EVENT_MAX_FIELDS)
			return rd_error_set_field(err, RD_EINVALID, "fields",
				"at most %d fields", RD_EVENT_MAX_FIELDS);
		json_object_foreach(value, name, v) {
			if (strcmp(name, "amount") == 0 && json_is_integer(v)) {
				*amount = (int64_t)json_integer_value(v);
				*has_amount = 1;
				fields[n].name = name;
				fields[n].value = NULL;
				n++;
				continue;
			}
			if (strcmp(name, "amount") == 0 && json_is_string(v))
				*deprecated = 1;
			if (strcmp(name, "amount") == 0 && !json_is_string(v)) {
				rd_error_set(err, RD_EINVALID,
					     "fields.amount must be a whole "
					     "number of minor units, such as "
					     "2500 for 25.00 USD");
				snprintf(err->field, sizeof(err->field),
					 "fields.amount");
				return RD_EINVALID;
			}
			if (!json_is_string(v)) {
				rd_error_set(err, RD_EINVALID,
					     "fields.%.64s must be a string",
					     name);
				snprintf(err->field, sizeof(err->field),
					 "fields.%.50s", name);
				return RD_EINVALID;
			}
			fields[n].name = name;
			fields[n].value = json_string_value(v);
			n++;
		}
	}
	req->fields = fields;
	req->field_count = n;
	return RD_OK;
}

/*
 * The integer amount of an event as the service takes it: decimal text in
 * the dispute's currency (2500 -> "25.00" for USD), into fields[i] of the
 * field left NULL by read_event_request. The currency of a dispute never
 * changes, so reading it before the change is safe.
 */
static int amount_as_text(char text[RD_MONEY_BUFSZ], rd_field *fields,
			  size_t count, int64_t amount, const rd_dispute *d,
			  rd_error *err)
{
	const rd_currency *cur = rd_currency_find(d->currency);

	if (!cur || rd_money_format(text, RD_MONEY_BUFSZ, amount, cur) < 0)
		return rd_error_set_field(err, RD_EINVALID, "fields.amount",
					  "fields.amount %" PRId64 " cannot be "
					  "read in currency %.3s", amount,
					  d->currency);
	for (size_t i = 0; i < count; i++)
		if (!fields[i].value)
			fields[i].value = text;
	return RD_OK;
}

int http_read_event_request(rd_event_request *req, rd_field *fields,
			    int64_t *amount, int *has_amount,
			    int *deprecated, const json_t *doc,
			    rd_error *err)
{
	return read_event_request(req, fields, amount, has_amount,
				  deprecated, doc, err);
}

int http_amount_as_text(char *text, rd_field *fields, size_t count,
			int64_t amount, const rd_dispute *d, rd_error *err)
{
	return amount_as_text(text, fields, count, amount, d, err);
}

static int post_event(http_call *call, rd_error *err)
{
	rd_field fields[RD_EVENT_MAX_FIELDS];
	char amount_text[RD_MONEY_BUFSZ];
	rd_event_request req;
	rd_dispute *d = NULL, *visible = NULL;
	json_t *doc = NULL;
	int64_t amount = 0;
	int has_amount = 0;
	int rc;

	memset(&req, 0, sizeof(req));
	if ((rc = http_if_match_parse(&req.if_version, call->if_match,
				      err)) < 0)
		goto done;
	if ((rc = http_parse_body(&doc, call, err)) < 0)
		goto done;
	if ((rc = read_event_request(&req, fields, &amount, &has_amount,
				     &call->deprecated, doc, err)) < 0)
		goto done;
	if ((call->storefront[0] || has_amount) &&
	    (rc = visible_dispute(call, call->params[0], &visible, err)) < 0)
		goto done;
	if (has_amount &&
	    (rc = amount_as_text(amount_text, fields, req.field_count, amount,
				 visible, err)) < 0)
		goto done;
	if ((rc = rd_service_event_apply(call->svc, call->params[0], &req,
					 &call->actor, call->now, &d,
					 err)) < 0)
		goto done;
	rc = reply_dispute(call, d, err);
done:
	json_decref(doc);
	rd_dispute_free(visible);
	rd_dispute_free(d);
	return rc;
}

/* ---- GET /v1/disputes ------------------------------------------------------ */

#define QUERY_TEXT_MAX 128

static const char *const list_params[] = {
	"state", "reason", "storefront", "assignee", "overdue",
	"created_from", "created_to", "limit", "cursor", "awaiting_reply",
	"order_ref", "buyer_ref", "sku", "q", "updated_since",
};

#define LIST_PARAM_COUNT (sizeof(list_params) / sizeof(list_params[0]))

static int bad_param(rd_error *err, const char *name, const char *why)
{
	return rd_error_set_field(err, RD_EINVALID, name,
				  "query parameter %s %s", name, why);
}

int http_parse_text(const char **out, const char *name, const char *value,
		    rd_error *err)
{
	size_t len = strlen(value);

	if (len == 0 || len > QUERY_TEXT_MAX)
		return bad_param(err, name, "must be 1 to 128 characters");
	*out = value;
	return RD_OK;
}

static int parse_time_param(int64_t *out, const char *name, const char *value,
			    rd_error *err)
{
	rd_error inner;

	rd_error_clear(&inner);
	if (rd_time_parse(out, value, &inner) < 0 || *out <= 0)
		return rd_error_set_field(err, RD_EINVALID, name,
					  "query parameter %s must be an RFC "
					  "3339 time such as "
					  "2026-03-02T09:00:00Z, not \"%.64s\"",
					  name, value);
	return RD_OK;
}

int http_parse_limit(size_t *out, const char *value, rd_error *err)
{
	char *end = NULL;
	long long v;

	if (value[0] < '0' || value[0] > '9')
		goto bad;
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > 500)
		goto bad;
	*out = (size_t)v;
	return RD_OK;
bad:
	return bad_param(err, "limit", "must be a whole number from 1 to 500");
}

int http_query_usable(const http_call *call, rd_error *err)
{
	if (call->query_overflow)
		return rd_error_set(err, RD_EINVALID,
				    "too many query parameters (at most %d)",
				    HTTP_MAX_QUERY);
	if (call->query_unclean)
		return rd_error_set_field(err, RD_EINVALID,
					  call->query_unclean,
					  "query parameter \"%.64s\" is not "
					  "UTF-8 text without NUL or control "
					  "characters", call->query_unclean);
	return RD_OK;
}

int http_no_query(const http_call *call, rd_error *err)
{
	int rc;

	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	if (call->query_count > 0)
		return rd_error_set_field(err, RD_EINVALID,
					  call->query[0].name,
					  "query parameter %s: this route "
					  "takes none", call->query[0].name);
	return RD_OK;
}

int http_query_param(const http_call *call, size_t i,
		     const char *const *names, size_t count, int *seen,
		     const char *takes, rd_error *err)
{
	const char *name = call->query[i].name;

	for (size_t k = 0; k < count; k++) {
		if (strcmp(name, names[k]) != 0)
			continue;
		if (seen[k]++)
			return bad_param(err, name, "is given more than once");
		return (int)k;
	}
	return rd_error_set_field(err, RD_EINVALID, name,
				  "unknown query parameter \"%.64s\" (%s)",
				  name, takes);
}

/* A true-or-false query parameter. */
static int parse_flag(int *out, const char *name, const char *value,
		      rd_error *err)
{
	if (strcmp(value, "true") == 0)
		*out = 1;
	else if (strcmp(value, "false") == 0)
		*out = 0;
	else
		return bad_param(err, name, "must be true or false");
	return RD_OK;
}

/* The words of a search, which the store splits and checks further. */
static int parse_search(const char **out, const char *value, rd_error *err)
{
	size_t len = strlen(value);

	if (len == 0 || len > RD_SEARCH_MAX_BYTES)
		return rd_error_set_field(err, RD_EINVALID, "q",
					  "query parameter q must be 1 to %d "
					  "bytes of words, not %zu",
					  RD_SEARCH_MAX_BYTES, len);
	*out = value;
	return RD_OK;
}

int http_list_filter(rd_dispute_filter *out, const http_call *call,
		     rd_error *err)
{
	int seen[LIST_PARAM_COUNT];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(seen, 0, sizeof(seen));
	out->now = call->now;
	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		const char *name = call->query[i].name;
		const char *value = call->query[i].value;
		int k = http_query_param(call, i, list_params, LIST_PARAM_COUNT,
					 seen, "the list takes state, reason, "
					 "storefront, assignee, overdue, "
					 "awaiting_reply, created_from, "
					 "created_to, order_ref, buyer_ref, "
					 "sku, q, updated_since, limit and "
					 "cursor", err);

		if (k < 0)
			return k;
		if (strcmp(name, "state") == 0)
			rc = http_parse_text(&out->state, name, value, err);
		else if (strcmp(name, "reason") == 0)
			rc = http_parse_text(&out->reason, name, value, err);
		else if (strcmp(name, "storefront") == 0)
			rc = http_parse_text(&out->storefront, name, value, err);
		else if (strcmp(name, "assignee") == 0)
			/* "me": the calling key's name */
			rc = http_parse_text(&out->assignee, name,
					     strcmp(value, "me") == 0
						     ? call->actor.name
						     : value, err);
		else if (strcmp(name, "order_ref") == 0)
			rc = http_parse_text(&out->order_ref, name, value, err);
		else if (strcmp(name, "buyer_ref") == 0)
			rc = http_parse_text(&out->buyer_ref, name, value, err);
		else if (strcmp(name, "sku") == 0)
			rc = http_parse_text(&out->sku, name, value, err);
		else if (strcmp(name, "q") == 0)
			rc = parse_search(&out->q, value, err);
		else if (strcmp(name, "updated_since") == 0)
			rc = parse_time_param(&out->updated_since, name, value,
					      err);
		else if (strcmp(name, "cursor") == 0)
			rc = http_parse_text(&out->cursor, name, value, err);
		else if (strcmp(name, "limit") == 0)
			rc = http_parse_limit(&out->limit, value, err);
		else if (strcmp(name, "created_from") == 0)
			rc = parse_time_param(&out->created_from, name, value,
					      err);
		else if (strcmp(name, "created_to") == 0)
			rc = parse_time_param(&out->created_to, name, value,
					      err);
		else
			rc = parse_flag(strcmp(name, "overdue") == 0
						? &out->overdue
						: &out->awaiting_reply,
					name, value, err);
		if (rc < 0)
			return rc;
	}
	if (call->storefront[0]) {
		if (out->storefront &&
		    strcmp(out->storefront, call->storefront) != 0)
			return rd_error_set_field(err, RD_EFORBIDDEN,
				"storefront", "this key may only list disputes "
				"of storefront %s", call->storefront);
		out->storefront = call->storefront;
	}
	return RD_OK;
}

/*
 * A page of a list: {NAME: items, "next_cursor": next or null}. items is
 * taken whatever happens; -1 when out of memory.
 */
static int http_reply_page(http_call *call, const char *name,
			   json_t *items, const char *next)
{
	call->reply = json_pack("{s:o, s:o}", name, items, "next_cursor",
				next ? json_string(next) : json_null());
	return call->reply ? 0 : -1;
}

static int get_disputes(http_call *call, rd_error *err)
{
	rd_dispute_filter filter;
	rd_dispute **list = NULL;
	size_t count = 0;
	char *next = NULL;
	int rc;

	if ((rc = http_list_filter(&filter, call, err)) < 0)
		goto done;
	if ((rc = rd_service_dispute_list(call->svc, &filter, &list, &count,
					  &next, err)) < 0)
		goto done;
	call->reply = rd_dispute_page_to_json("disputes", list, count, next,
					      filter.q != NULL);
	rc = call->reply ? RD_OK
			 : rd_error_set(err, RD_ENOMEM,
					"out of memory listing disputes");
done:
	rd_dispute_list_free(list, count);
	free(next);
	return rc;
}

/* ---- GET /v1/payables ------------------------------------------------------ */

static const char *const page_params[] = { "storefront", "limit", "cursor" };

#define PAGE_PARAM_COUNT (sizeof(page_params) / sizeof(page_params[0]))

int http_storefront_page(http_call *call, const char *what,
			 const char **storefront, size_t *limit,
			 const char **cursor, rd_error *err)
{
	int seen[PAGE_PARAM_COUNT];
	int rc;

	*storefront = *cursor = NULL;
	*limit = 0;
	memset(seen, 0, sizeof(seen));
	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		const char *name = call->query[i].name;
		const char *value = call->query[i].value;
		char taken[96];
		int k;

		snprintf(taken, sizeof(taken), "%s take storefront, limit and "
			 "cursor", what);
		if ((k = http_query_param(call, i, page_params,
					  PAGE_PARAM_COUNT, seen, taken,
					  err)) < 0)
			return k;
		if (k == 0)
			rc = http_parse_text(storefront, name, value, err);
		else if (k == 1)
			rc = http_parse_limit(limit, value, err);
		else
			rc = http_parse_text(cursor, name, value, err);
		if (rc < 0)
			return rc;
	}
	if (call->storefront[0]) {
		if (*storefront && strcmp(*storefront, call->storefront) != 0)
			return rd_error_set_field(err, RD_EFORBIDDEN,
				"storefront", "this key may only list the "
				"%s of storefront %s", what, call->storefront);
		*storefront = call->storefront;
	}
	return RD_OK;
}

/*
 * The disputes awaiting the storefront's payment. A storefront key sees
 * its own storefront's only (asking for another is 403, as for the list);
 * other keys see every storefront's, or one with ?storefront=.
 */
static int get_payables(http_call *call, rd_error *err)
{
	const char *storefront, *cursor;
	rd_payable_row *rows = NULL;
	size_t limit, count = 0;
	char *next = NULL;
	json_t *items = NULL;
	int rc;

	if ((rc = http_storefront_page(call, "payables", &storefront, &limit,
				       &cursor, err)) < 0)
		return rc;
	if ((rc = rd_service_payables(call->svc, storefront, cursor, limit,
				      &rows, &count, &next, err)) < 0)
		goto done;
	if (!(items = json_array()))
		goto nomem;
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(items, rd_payable_to_json(&rows[i],
								    call->now)))
			goto nomem;
	rc = http_reply_page(call, "payables", items, next);
	items = NULL;	/* taken */
	if (rc < 0)
		goto nomem;
	rc = RD_OK;
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory listing payables");
done:
	json_decref(items);
	free(rows);
	free(next);
	return rc;
}

/* ---- GET /v1/disputes/{id}/... -------------------------------------------- */

static const char *const offers_params[] = { "locale", "time_zone" };

/*
 * ?locale=TAG (and ?time_zone=ZONE): each proposed offer with the text
 * that tells the buyer of it, in the buyer's language.
 */
static int offers_query(const http_call *call, const char **locale,
			const char **zone, rd_error *err)
{
	int seen[2] = { 0, 0 };
	int rc;

	*locale = *zone = NULL;
	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		int k = http_query_param(call, i, offers_params, 2, seen,
					 "the offers take locale and "
					 "time_zone", err);

		if (k < 0)
			return k;
		if ((rc = http_parse_text(k == 0 ? locale : zone,
					  call->query[i].name,
					  call->query[i].value, err)) < 0)
			return rc;
	}
	if (*zone && !*locale)
		return rd_error_set_field(err, RD_EINVALID, "time_zone",
					  "query parameter time_zone goes "
					  "with locale (the buyer's texts)");
	if (*locale && !rd_locale_tag_valid(*locale))
		return rd_error_set_field(err, RD_EINVALID, "locale",
					  "query parameter locale must be a "
					  "BCP 47 language tag such as de-DE");
	if (*zone && !rd_locale_zone_valid(*zone))
		return rd_error_set_field(err, RD_EINVALID, "time_zone",
					  "query parameter time_zone must be "
					  "an IANA time zone such as "
					  "Europe/Berlin");
	return RD_OK;
}

static int get_offers(http_call *call, rd_error *err)
{
	rd_dispute *d = NULL;
	rd_proposals *set = NULL;
	json_t *offers = NULL, *cut = NULL;
	const char *locale = NULL, *zone = NULL;
	int rc;

	if ((rc = offers_query(call, &locale, &zone, err)) < 0 ||
	    (rc = visible_dispute(call, call->params[0], &d, err)) < 0)
		goto done;
	if (!(set = calloc(1, sizeof(*set))))
		goto nomem;
	if ((rc = rd_service_offer_proposals(call->svc, d->id, set, err)) < 0)
		goto done;
	offers = json_array();
	cut = json_array();
	if (!offers || !cut)
		goto nomem;
	for (size_t i = 0; i < set->count; i++) {
		json_t *offer = rd_proposal_to_json(&set->items[i]);
		json_t *text = NULL;

		if (offer && locale && i < set->proposed) {
			if ((rc = rd_service_offer_text(call->svc, d,
						&set->items[i].terms, locale,
						zone, call->now, &text,
						err)) < 0) {
				json_decref(offer);
				goto done;
			}
			json_object_set_new(offer, "buyer_text", text);
		}
		if (json_array_append_new(i < set->proposed ? offers : cut,
					  offer))
			goto nomem;
	}
	call->reply = json_pack("{s:s, s:I, s:o, s:o}", "dispute", d->id,
				"version", (json_int_t)d->version,
				"offers", offers, "cut", cut);
	offers = cut = NULL;
	if (!call->reply)
		goto nomem;
	snprintf(call->etag, sizeof(call->etag), "\"%" PRId64 "\"",
		 d->version);
	rc = RD_OK;
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory listing offers");
done:
	json_decref(offers);
	json_decref(cut);
	free(set);
	rd_dispute_free(d);
	return rc;
}

static json_t *commit_to_json(const rd_commit_info *c)
{
	char at[RD_TIME_BUFSZ];

	rd_time_format(at, c->when);
	return json_pack("{s:s, s:o, s:s, s:s, s:s, s:s}", "commit", c->oid,
			 "parent", c->parent[0] ? json_string(c->parent)
						: json_null(),
			 "at", at, "author", c->author_name,
			 "email", c->author_email,
			 "message", c->message ? c->message : "");
}

static int get_history(http_call *call, rd_error *err)
{
	rd_dispute *d = NULL;
	rd_event_record *events = NULL;
	rd_commit_info *commits = NULL;
	size_t nevents = 0, ncommits = 0;
	json_t *ev = NULL, *cm = NULL;
	int rc;

	if ((rc = visible_dispute(call, call->params[0], &d, err)) < 0)
		goto done;
	if ((rc = rd_service_events(call->svc, d->id, &events, &nevents,
				    err)) < 0)
		goto done;
	if ((rc = rd_service_audit_log(call->svc, d->id, &commits, &ncommits,
				       err)) < 0)
		goto done;
	ev = json_array();
	cm = json_array();
	if (!ev || !cm)
		goto nomem;
	/* a storefront never reads an internal note, nor its change */
	for (size_t i = 0; i < nevents; i++)
		if (rd_service_event_visible(&call->actor, &events[i]) &&
		    json_array_append_new(ev,
					  rd_event_record_to_json(&events[i])))
			goto nomem;
	for (size_t i = 0; i < ncommits; i++)
		if (rd_service_commit_visible(&call->actor,
					      commits[i].message) &&
		    json_array_append_new(cm, commit_to_json(&commits[i])))
			goto nomem;
	call->reply = json_pack("{s:s, s:o, s:o}", "dispute", d->id,
				"events", ev, "commits", cm);
	ev = cm = NULL;
	if (!call->reply)
		goto nomem;
	rc = RD_OK;
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory writing history");
done:
	json_decref(ev);
	json_decref(cm);
	rd_event_records_free(events, nevents);
	rd_commit_infos_free(commits, ncommits);
	rd_dispute_free(d);
	return rc;
}

static int get_verify(http_call *call, rd_error *err)
{
	rd_verify_report report;
	rd_dispute *d = NULL;
	int rc;

	memset(&report, 0, sizeof(report));
	if ((rc = visible_dispute(call, call->params[0], &d, err)) < 0)
		goto done;
	if ((rc = rd_service_audit_verify(call->svc, d->id, &report, NULL,
					  NULL, err)) < 0)
		goto done;
	if (!(call->reply = rd_verify_report_to_json(&report)))
		rc = rd_error_set(err, RD_ENOMEM,
				  "out of memory writing the verification");
done:
	rd_verify_report_free(&report);
	rd_dispute_free(d);
	return rc;
}

static int get_evidence(http_call *call, rd_error *err)
{
	rd_dispute *d = NULL;
	rd_evidence_row *rows = NULL;
	size_t count = 0;
	json_t *list = NULL;
	int rc;

	if ((rc = visible_dispute(call, call->params[0], &d, err)) < 0)
		goto done;
	if ((rc = rd_service_evidence_list(call->svc, d->id, &rows, &count,
					   err)) < 0)
		goto done;
	if (!(list = json_array()))
		goto nomem;
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(list,
					  rd_evidence_row_to_json(&rows[i])))
			goto nomem;
	call->reply = json_pack("{s:o}", "evidence", list);
	list = NULL;
	if (!call->reply)
		goto nomem;
	rc = RD_OK;
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory listing evidence");
done:
	json_decref(list);
	rd_evidence_rows_free(rows, count);
	rd_dispute_free(d);
	return rc;
}

/* ---- evidence files --------------------------------------------------------- */

static const char *const upload_params[] = {
	"kind", "channel", "captured_at", "note", "name",
};

#define UPLOAD_PARAM_COUNT (sizeof(upload_params) / sizeof(upload_params[0]))

/* The declared size from Content-Length, required. */
static int parse_content_length(int64_t *out, const char *header,
				rd_error *err)
{
	char *end = NULL;
	long long v;

	if (!header)
		return rd_error_set_field(err, RD_EUSAGE, "Content-Length",
			"an evidence upload needs a Content-Length header "
			"giving the file's size in bytes (chunked uploads "
			"are not taken)");
	if (header[0] < '0' || header[0] > '9')
		goto bad;
	errno = 0;
	v = strtoll(header, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		goto bad;
	*out = (int64_t)v;
	return RD_OK;
bad:
	return rd_error_set_field(err, RD_EUSAGE, "Content-Length",
				  "Content-Length must be a whole number of "
				  "bytes, not \"%.32s\"", header);
}

/* The submission of an upload from its query parameters and headers. */
int http_upload_submission(rd_evidence_submission *sub,
			   const http_call *call, rd_error *err)
{
	int seen[UPLOAD_PARAM_COUNT];
	int rc;

	memset(sub, 0, sizeof(*sub));
	memset(seen, 0, sizeof(seen));
	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		const char *name = call->query[i].name;
		const char *value = call->query[i].value;
		int k = http_query_param(call, i, upload_params,
					 UPLOAD_PARAM_COUNT, seen,
					 "an upload takes kind, channel, "
					 "captured_at, note and name", err);

		if (k < 0)
			return k;
		if (strcmp(name, "captured_at") == 0) {
			if ((rc = parse_time_param(&sub->captured_at, name,
						   value, err)) < 0)
				return rc;
		} else if (value[0] == '\0') {
			return bad_param(err, name, "must not be empty");
		} else if (strcmp(name, "kind") == 0) {
			sub->kind = value;
		} else if (strcmp(name, "channel") == 0) {
			sub->channel = value;
		} else if (strcmp(name, "note") == 0) {
			sub->note = value;
		} else {
			sub->original_name = value;
		}
	}
	if (!sub->kind)
		return rd_error_set_field(err, RD_EINVALID, "kind",
					  "query parameter kind is required "
					  "(the kind of evidence, e.g. "
					  "kind=photo)");
	if ((rc = parse_content_length(&sub->size, call->content_length,
				       err)) < 0)
		return rc;
	if ((uint64_t)sub->size > (uint64_t)HTTP_UPLOAD_BODY_LIMIT)
		return rd_error_set_field(err, RD_ETOOLARGE, "Content-Length",
					  "the upload of %" PRId64 " bytes is "
					  "over this route's limit of %zu "
					  "bytes", sub->size,
					  HTTP_UPLOAD_BODY_LIMIT);
	return RD_OK;
}

/* The answer to an upload: 201, the evidence row and its Location. */
static int reply_evidence(http_call *call, const rd_evidence_row *row,
			  rd_error *err)
{
	if (!(call->reply = rd_evidence_row_to_json(row)))
		return rd_error_set(err, RD_ENOMEM, "out of memory writing "
				    "evidence %" PRId64, row->n);
	call->status = 201;
	snprintf(call->location, sizeof(call->location),
		 "/v1/disputes/%.*s/evidence/%" PRId64, HTTP_PARAM_MAX,
		 call->params[0], row->n);
	return RD_OK;
}

/* The request digest of an upload whose file hashed so far to `content`. */
static void upload_request_digest(char out[65],
				  const struct sha256_ctx *content,
				  const http_route *route,
				  const http_call *call,
				  const rd_evidence_submission *sub)
{
	struct sha256_ctx copy = *content;
	uint8_t raw[SHA256_DIGEST_SIZE];
	char text[65];

	sha256_digest(&copy, sizeof(raw), raw);
	rd_hex_encode(text, raw, sizeof(raw));
	http_idem_digest_upload(out, route, call, sub, text);
}

/*
 * An upload under way: the service's, and what its digest needs. An
 * idempotent upload the service refuses at its start (the dispute has
 * moved on since, say) keeps the refusal for its end, so that a retry of
 * an upload already made is still answered from its record.
 */
typedef struct upload_state {
	rd_evidence_upload *up;         /* NULL when refused */
	rd_evidence_submission sub;     /* strings borrowed from the call */
	struct sha256_ctx content;      /* of the file's bytes, when
					 * idempotent (the digest needs it) */
	int idempotent;
	int refused;                    /* the refusal's code, or 0 */
	rd_error refusal;
} upload_state;

static int upload_begin(http_call *call, void **state, rd_error *err)
{
	upload_state *u = NULL;
	rd_dispute *d = NULL;
	int rc;

	*state = NULL;
	if (!(u = calloc(1, sizeof(*u))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	sha256_init(&u->content);
	u->idempotent = call->idempotent;
	if ((rc = http_upload_submission(&u->sub, call, err)) < 0)
		goto done;
	if ((rc = visible_dispute(call, call->params[0], &d, err)) < 0)
		goto done;
	rc = rd_service_evidence_upload_new(&u->up, call->svc, d->id, &u->sub,
					    &call->actor, call->now, err);
	if (rc < 0 && call->idempotent) {
		u->refused = rc;
		u->refusal = *err;
		rd_error_clear(err);
		rc = RD_OK;
	}
	if (rc < 0)
		goto done;
	*state = u;
	u = NULL;
done:
	free(u);
	rd_dispute_free(d);
	return rc;
}

static int upload_write(void *state, const char *buf, size_t len,
			rd_error *err)
{
	upload_state *u = state;

	/* the service hashes what it stores: hash here only for a digest */
	if (u->idempotent)
		sha256_update(&u->content, len, (const uint8_t *)buf);
	if (u->refused)
		return RD_OK;   /* only hashed, for the digest */
	return rd_service_evidence_upload_write(u->up, buf, len, err);
}

static void upload_digest(void *state, const http_route *route,
			  const http_call *call, char out[65])
{
	upload_state *u = state;

	upload_request_digest(out, &u->content, route, call, &u->sub);
}

static int upload_end(http_call *call, void *state, rd_error *err)
{
	upload_state *u = state;
	rd_evidence_row row;
	int rc;

	memset(&row, 0, sizeof(row));
	if (u->refused) {
		*err = u->refusal;
		return u->refused;
	}
	if ((rc = rd_service_evidence_upload_record(u->up, call->svc, &row,
						    err)) < 0)
		return rc;
	rc = reply_evidence(call, &row, err);
	rd_evidence_row_clear(&row);
	return rc;
}

/* The bytes made durable on the request's thread; a refusal kept for end. */
static void upload_seal(void *state)
{
	upload_state *u = state;
	rd_error err;
	int rc;

	if (u->refused)
		return;
	rd_error_clear(&err);
	if ((rc = rd_service_evidence_upload_seal(u->up, &err)) < 0) {
		u->refused = rc;
		u->refusal = err;
	}
}

static void upload_release(void *state)
{
	upload_state *u = state;

	if (!u)
		return;
	rd_service_evidence_upload_free(u->up);
	free(u);
}

static const http_stream upload_stream = {
	upload_begin, upload_write, upload_digest, upload_end, upload_release,
	upload_seal,
};

/*
 * An unlinked temporary file in $TMPDIR (or /tmp), read and written by
 * this request alone; its descriptor into *fd.
 */
static int temp_file(int *fd, const char *what, rd_error *err)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	if (!dir || !*dir)
		dir = "/tmp";
	if (snprintf(path, sizeof(path), "%s/redress-%s-XXXXXX", dir, what) >=
	    (int)sizeof(path))
		return rd_error_set(err, RD_EIO, "TMPDIR is too long");
	if ((*fd = mkstemp(path)) < 0)
		return rd_error_set(err, RD_EIO, "cannot make a temporary file "
				    "in %s: %s", dir, strerror(errno));
	unlink(path);
	return RD_OK;
}

/* ---- evidence uploads as multipart/form-data ----------------------------- */

/*
 * A form upload: the fields kind, channel, captured_at and note, and one
 * file part named "file" whose filename is the original name. The file
 * part's size is not known until its closing boundary, and a git object's
 * size is written before its bytes, so the part is spooled to an unlinked
 * temporary file (hashed on the way for an Idempotency-Key) and streamed
 * into git from there once the body has ended: never whole in memory. The
 * fields then go through the same checks as an upload's query
 * parameters; a field given in both the query and the form is given twice
 * (422).
 */

enum { FORM_KIND, FORM_CHANNEL, FORM_CAPTURED_AT, FORM_NOTE, FORM_FIELDS };

static const struct {
	const char *name;
	size_t max;                     /* bytes */
} form_fields[FORM_FIELDS] = {
	[FORM_KIND] = { "kind", 64 },
	[FORM_CHANNEL] = { "channel", 64 },
	[FORM_CAPTURED_AT] = { "captured_at", 64 },
	[FORM_NOTE] = { "note", RD_EVIDENCE_MAX_NOTE },
};

typedef struct form_state {
	http_call *call;                /* the request's, for sealing */
	int fd;                         /* the spooled file part, or -1 */
	int64_t size;
	struct sha256_ctx content;      /* when idempotent, as for a raw one */
	char *value[FORM_FIELDS];       /* NUL-terminated, or NULL */
	size_t len[FORM_FIELDS];
	char *filename;                 /* of the file part, or NULL */
	int file_seen;
	int sealed;
	char length[24];                /* the spooled size, as text */
	/* what bounds the spool while the file part arrives */
	char storefront[65];            /* of the dispute, for its quota */
	int64_t kind_limit;             /* the kind's, once the part starts */
	const char *kind_name;          /* borrowed; NULL: the largest kind's */
	int64_t room;                   /* quota left; RD_QUOTA_NONE: none */
} form_state;

/*
 * Room for the form's fields, boundaries and part headers around its file
 * part: a body whose Content-Length passes the quota left by more than
 * this cannot hold a file that fits.
 */
#define FORM_OVERHEAD ((int64_t)16 * 1024)

/*
 * A form upload's quota at its headers: a body that cannot fit is refused
 * before any of it is read, else the room left bounds the spool. An
 * idempotent upload is checked only as its evidence is written, so that a
 * retry of one already made is answered from its record.
 */
static int form_quota(form_state *f, const rd_dispute *d, rd_error *err)
{
	http_call *call = f->call;
	int64_t declared = 0;
	int rc;

	f->room = RD_QUOTA_NONE;
	if (call->idempotent || !d->storefront)
		return RD_OK;
	snprintf(f->storefront, sizeof(f->storefront), "%s", d->storefront);
	if ((rc = rd_service_quota_room(call->svc, f->storefront, call->now,
					&f->room, err)) < 0)
		return rc;
	if (f->room != RD_QUOTA_NONE &&
	    parse_content_length(&declared, call->content_length, err) == 0 &&
	    declared > f->room + FORM_OVERHEAD)
		return rd_service_quota_check(call->svc, f->storefront,
					      call->now,
					      declared - FORM_OVERHEAD, err);
	rd_error_clear(err);
	return RD_OK;
}

static int form_begin(http_call *call, void **state, rd_error *err)
{
	form_state *f = NULL;
	rd_dispute *d = NULL;
	int rc;

	*state = NULL;
	if (!(f = calloc(1, sizeof(*f))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	f->fd = -1;
	f->call = call;
	sha256_init(&f->content);
	if ((rc = visible_dispute(call, call->params[0], &d, err)) < 0 ||
	    (rc = form_quota(f, d, err)) < 0)
		goto done;
	if ((rc = temp_file(&f->fd, "form", err)) < 0)
		goto done;
	*state = f;
	f = NULL;
	rc = RD_OK;
done:
	if (f && f->fd >= 0)
		close(f->fd);
	free(f);
	rd_dispute_free(d);
	return rc;
}

/* Raw body bytes never reach a form: the server parses it into parts. */
static int form_write(void *state, const char *buf, size_t len,
		      rd_error *err)
{
	(void)state;
	(void)buf;
	(void)len;
	return rd_error_set(err, RD_EINTERNAL, "a form upload was given raw "
			    "bytes instead of its parts");
}

/*
 * The limit of the file part, when it starts: its kind's, if the kind came
 * before it (a form field or the query), else the largest kind's until
 * the kind is known at the end.
 */
static int form_file_limit(form_state *f, rd_error *err)
{
	const rd_evidence_kinds *kinds = rd_service_kinds(f->call->svc);
	const rd_evidence_kind *kind;
	const char *name = f->value[FORM_KIND];

	for (size_t i = 0; !name && i < f->call->query_count; i++)
		if (strcmp(f->call->query[i].name, "kind") == 0)
			name = f->call->query[i].value;
	f->kind_limit = rd_evidence_kinds_max_size(kinds);
	f->kind_name = NULL;
	if (!name)
		return RD_OK;
	if (!(kind = rd_evidence_kinds_find(kinds, name)))
		return rd_error_set_field(err, RD_EINVALID, "kind",
					  "unknown evidence kind \"%.40s\"",
					  name);
	f->kind_limit = kind->max_size;
	f->kind_name = kind->name;
	return RD_OK;
}

/*
 * Refuse the file part the moment it passes its kind's limit (413) or the
 * storefront's quota (507): nothing more is written, and the spool never
 * holds more than the limit.
 */
static int spool_limit(form_state *f, size_t size, rd_error *err)
{
	int64_t after = f->size + (int64_t)size;

	if (after > f->kind_limit) {
		if (f->kind_name)
			return rd_error_set_field(err, RD_ETOOLARGE, "file",
						  "the file is over the limit "
						  "of %" PRId64 " bytes for %s "
						  "evidence", f->kind_limit,
						  f->kind_name);
		return rd_error_set_field(err, RD_ETOOLARGE, "file",
					  "the file is over %" PRId64 " bytes, "
					  "the limit of the largest kind (send "
					  "the kind field before the file part "
					  "to be held to its own)",
					  f->kind_limit);
	}
	if (f->room != RD_QUOTA_NONE && after > f->room)
		return rd_service_quota_check(f->call->svc, f->storefront,
					      f->call->now, after, err);
	return RD_OK;
}

static int spool(form_state *f, const char *data, size_t size, rd_error *err)
{
	int rc;

	if ((rc = spool_limit(f, size, err)) < 0)
		return rc;
	if (f->call->idempotent)
		sha256_update(&f->content, size, (const uint8_t *)data);
	while (size > 0) {
		ssize_t w = write(f->fd, data, size);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return rd_error_set(err, RD_EIO, "cannot keep the "
					    "uploaded file: %s",
					    strerror(errno));
		data += w;
		size -= (size_t)w;
		f->size += w;
	}
	return RD_OK;
}

int http_form_part(void *state, const char *name, const char *filename,
		   const char *data, uint64_t off, size_t size, rd_error *err)
{
	form_state *f = state;
	size_t k;

	if (!name)
		name = "";
	if (strcmp(name, "file") == 0) {
		if (off == 0 && f->file_seen)
			return rd_error_set_field(err, RD_EINVALID, "file",
						  "a form upload carries one "
						  "file part, not several");
		if (off == 0) {
			int rc = form_file_limit(f, err);

			if (rc < 0)
				return rc;
			f->file_seen = 1;
			if (filename && *filename &&
			    !(f->filename = strdup(filename)))
				return rd_error_set(err, RD_ENOMEM,
						    "out of memory");
		}
		return spool(f, data, size, err);
	}
	for (k = 0; k < FORM_FIELDS; k++)
		if (strcmp(name, form_fields[k].name) == 0)
			break;
	if (k == FORM_FIELDS)
		return rd_error_set_field(err, RD_EINVALID, name,
					  "unknown form field \"%.64s\" (a form "
					  "upload takes kind, channel, "
					  "captured_at, note and one part "
					  "named file)", name);
	if (off == 0 && f->value[k])
		return rd_error_set_field(err, RD_EINVALID, name,
					  "form field %s is given more than "
					  "once", name);
	if (f->len[k] + size > form_fields[k].max)
		return rd_error_set_field(err, RD_EINVALID, name,
					  "form field %s is over %zu bytes",
					  name, form_fields[k].max);
	{
		char *grown = realloc(f->value[k], f->len[k] + size + 1);

		if (!grown)
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		memcpy(grown + f->len[k], data, size);
		f->len[k] += size;
		grown[f->len[k]] = '\0';
		f->value[k] = grown;
	}
	if (memchr(f->value[k], '\0', f->len[k]))
		return rd_error_set_field(err, RD_EINVALID, name,
					  "form field %s holds a NUL byte",
					  name);
	return RD_OK;
}

/*
 * Once the body is in: the form's fields join the call's query
 * parameters and the spooled size stands for Content-Length, so that the
 * upload is checked exactly as a raw one is.
 */
static int form_seal(form_state *f, rd_error *err)
{
	http_call *call = f->call;

	/* refused every time it is asked (the digest asks first) */
	if (!f->file_seen)
		return rd_error_set_field(err, RD_EINVALID, "file",
					  "a form upload needs a part named "
					  "file holding the evidence");
	if (f->sealed)
		return RD_OK;
	f->sealed = 1;
	for (size_t k = 0; k < FORM_FIELDS; k++) {
		if (!f->value[k])
			continue;
		if (call->query_count >= HTTP_MAX_QUERY) {
			call->query_overflow = 1;
			break;
		}
		call->query[call->query_count].name = form_fields[k].name;
		call->query[call->query_count].value = f->value[k];
		call->query_count++;
	}
	if (f->filename && call->query_count < HTTP_MAX_QUERY) {
		call->query[call->query_count].name = "name";
		call->query[call->query_count].value = f->filename;
		call->query_count++;
	}
	snprintf(f->length, sizeof(f->length), "%" PRId64, f->size);
	call->content_length = f->length;
	return RD_OK;
}

static void form_digest(void *state, const http_route *route,
			const http_call *call, char out[65])
{
	form_state *f = state;
	rd_evidence_submission sub;
	rd_error ignored;

	rd_error_clear(&ignored);
	if (form_seal(f, &ignored) < 0 ||
	    http_upload_submission(&sub, call, &ignored) < 0)
		memset(&sub, 0, sizeof(sub));  /* refused at the end anyway */
	upload_request_digest(out, &f->content, route, call, &sub);
}

static int form_end(http_call *call, void *state, rd_error *err)
{
	form_state *f = state;
	rd_evidence_submission sub;
	rd_evidence_row row;
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = form_seal(f, err)) < 0 ||
	    (rc = http_upload_submission(&sub, call, err)) < 0)
		return rc;
	if (lseek(f->fd, 0, SEEK_SET) != 0)
		return rd_error_set(err, RD_EIO, "cannot read the uploaded "
				    "file back: %s", strerror(errno));
	if ((rc = rd_service_evidence_add_fd(call->svc, call->params[0], &sub,
					     f->fd, &call->actor, call->now,
					     &row, err)) < 0)
		return rc;
	rc = reply_evidence(call, &row, err);
	rd_evidence_row_clear(&row);
	return rc;
}

static void form_release(void *state)
{
	form_state *f = state;

	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	for (size_t k = 0; k < FORM_FIELDS; k++)
		free(f->value[k]);
	free(f->filename);
	free(f);
}

const http_stream http_form_upload = {
	form_begin, form_write, form_digest, form_end, form_release, NULL,
};

/* The evidence number of a path: 1, 2, 3...; anything else is none. */
static int parse_evidence_n(int64_t *out, const char *id, const char *text,
			    rd_error *err)
{
	char *end = NULL;
	long long v;

	if (text[0] >= '1' && text[0] <= '9') {
		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0' && v > 0) {
			*out = (int64_t)v;
			return RD_OK;
		}
	}
	return rd_error_set(err, RD_ENOTFOUND,
			    "dispute %s has no evidence %.32s", id, text);
}

/* The extension of the content's path in git, "bin" when it has none. */
static void path_extension(char out[16], const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;
	size_t len;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	len = dot ? strlen(dot + 1) : 0;
	if (len == 0 || len > 15)
		goto none;
	for (size_t i = 0; i < len; i++) {
		char c = dot[1 + i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			goto none;
	}
	memcpy(out, dot + 1, len);
	out[len] = '\0';
	return;
none:
	snprintf(out, 16, "bin");
}

int http_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int http_repr_digest(char out[64], const char *sha256_hex, rd_error *err)
{
	uint8_t raw[32];
	char b64[BASE64_ENCODE_RAW_LENGTH(32) + 1];

	if (strlen(sha256_hex) != 64)
		goto bad;
	for (size_t i = 0; i < 32; i++) {
		int hi = http_hex_value(sha256_hex[2 * i]);
		int lo = http_hex_value(sha256_hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		raw[i] = (uint8_t)(hi * 16 + lo);
	}
	base64_encode_raw(b64, sizeof(raw), raw);
	b64[BASE64_ENCODE_RAW_LENGTH(32)] = '\0';
	snprintf(out, 64, "sha-256=:%s:", b64);
	return RD_OK;
bad:
	return rd_error_set(err, RD_EINTERNAL,
			    "the recorded SHA-256 \"%.70s\" is not 64 hex "
			    "digits", sha256_hex);
}

/*
 * A download streams from git as the client reads (slow work): the
 * headers go with the first bytes, once the row is known (its SHA-256 is
 * the Repr-Digest). The bytes are re-hashed as they pass; a mismatch at
 * the end fails the handler, which cuts the connection before the last
 * byte, so the client cannot take the bytes for the whole file.
 */
typedef struct download {
	http_call *call;
	const rd_evidence_row *row;
	int begun;
	rd_error err;                 /* why the body stopped */
} download;

static int download_begin(download *dl)
{
	const rd_evidence_row *row = dl->row;
	http_call *call = dl->call;
	char ext[16];
	int rc;

	if ((rc = http_repr_digest(call->repr_digest, row->sha256,
				   &dl->err)) < 0)
		return rc;
	path_extension(ext, row->path);
	snprintf(call->disposition, sizeof(call->disposition),
		 "attachment; filename=\"evidence-%" PRId64 ".%s\"", row->n,
		 ext);
	snprintf(call->content_type, sizeof(call->content_type), "%s",
		 row->content_type[0] ? row->content_type
				      : "application/octet-stream");
	snprintf(call->etag, sizeof(call->etag), "\"%s\"", row->sha256);
	call->file_size = (uint64_t)row->size;
	dl->begun = 1;
	return http_body_begin(call, &dl->err);
}

static int sink_to_body(void *ctx, const void *buf, size_t len)
{
	download *dl = ctx;

	if (!dl->begun && download_begin(dl) < 0)
		return -1;
	return http_body_write(dl->call, buf, len, &dl->err) < 0 ? -1 : 0;
}

static int get_evidence_file(http_call *call, rd_error *err)
{
	rd_evidence_row row;
	rd_dispute *d = NULL;
	download dl;
	int64_t n = 0;
	int rc;

	memset(&row, 0, sizeof(row));
	memset(&dl, 0, sizeof(dl));
	dl.call = call;
	dl.row = &row;
	rd_error_clear(&dl.err);
	if ((rc = visible_dispute(call, call->params[0], &d, err)) < 0)
		goto done;
	if ((rc = parse_evidence_n(&n, d->id, call->params[1], err)) < 0)
		goto done;
	rc = rd_service_evidence_get(call->svc, d->id, n, &row, sink_to_body,
				     &dl, err);
	/* the sink's own reason is the better one */
	if (rc < 0 && dl.err.code)
		*err = dl.err;
done:
	rd_evidence_row_clear(&row);
	rd_dispute_free(d);
	return rc;
}

/* ---- the table ------------------------------------------------------------ */

static const http_route routes[] = {
	{ "GET", "/healthz", get_healthz, 0, 0, NULL },
	{ "GET", "/readyz", get_readyz, HTTP_PUBLIC_RECORD, 0, NULL },
	{ "GET", "/v1/workflows", get_workflows, HTTP_ANY_ROLE, 0, NULL },
	{ "GET", "/v1/disputes", get_disputes, HTTP_ANY_ROLE, 0, NULL },
	{ "POST", "/v1/disputes", post_dispute, HTTP_WRITERS,
	  HTTP_JSON_BODY_LIMIT, NULL },
	{ "GET", "/v1/disputes/{id}", get_dispute, HTTP_ANY_ROLE, 0, NULL },
	/* one event on many disputes; a buyer's disputes (bulk.c) */
	{ "POST", "/v1/disputes/bulk-events", http_post_bulk_events,
	  HTTP_WRITERS, HTTP_JSON_BODY_LIMIT, NULL },
	{ "GET", "/v1/buyers/{buyer_ref}/disputes", http_get_buyer_disputes,
	  HTTP_ANY_ROLE, 0, NULL },
	{ "POST", "/v1/disputes/{id}/events", post_event, HTTP_WRITERS,
	  HTTP_JSON_BODY_LIMIT, NULL },
	{ "GET", "/v1/disputes/{id}/offers", get_offers, HTTP_ANY_ROLE, 0,
	  NULL },
	{ "GET", "/v1/disputes/{id}/history", get_history, HTTP_ANY_ROLE, 0,
	  NULL },
	{ "GET", "/v1/disputes/{id}/verify", get_verify, HTTP_ANY_ROLE, 0,
	  NULL },
	{ "GET", "/v1/disputes/{id}/evidence", get_evidence, HTTP_ANY_ROLE,
	  0, NULL },
	{ "POST", "/v1/disputes/{id}/evidence", NULL, HTTP_WRITERS,
	  HTTP_UPLOAD_BODY_LIMIT, &upload_stream },
	{ "GET", "/v1/disputes/{id}/evidence/{n}", get_evidence_file,
	  HTTP_ANY_ROLE, 0, NULL },
	/* the conversation with the buyer (messages.c) */
	{ "GET", "/v1/disputes/{id}/messages", http_get_messages,
	  HTTP_ANY_ROLE, 0, NULL },
	{ "POST", "/v1/disputes/{id}/messages", http_post_message,
	  HTTP_WRITERS, HTTP_JSON_BODY_LIMIT, NULL },
	{ "POST", "/v1/disputes/{id}/messages/preview",
	  http_post_message_preview, HTTP_WRITERS, HTTP_JSON_BODY_LIMIT,
	  NULL },
	{ "GET", "/v1/templates", http_get_templates, HTTP_ANY_ROLE, 0, NULL },
	/* ownership: the claim queue and the agents (queue.c) */
	{ "POST", "/v1/queue/claim", http_post_claim,
	  HTTP_ROLE(RD_ROLE_AGENT) | HTTP_ROLE(RD_ROLE_ADMIN),
	  HTTP_JSON_BODY_LIMIT, NULL },
	{ "GET", "/v1/agents", http_get_agents,
	  HTTP_ROLE(RD_ROLE_AGENT) | HTTP_ROLE(RD_ROLE_ADMIN) |
	  HTTP_ROLE(RD_ROLE_AUDITOR), 0, NULL },
	{ "GET", "/metrics", http_get_metrics,
	  HTTP_ROLE(RD_ROLE_ADMIN) | HTTP_ROLE(RD_ROLE_AUDITOR), 0, NULL },
	{ "GET", "/v1/payables", get_payables, HTTP_ANY_ROLE, 0, NULL },
	/* events for storefronts: webhook endpoints and the feed (webhooks.c) */
	{ "POST", "/v1/webhook-endpoints", http_post_webhook, HTTP_WEBHOOK_ROLES,
	  HTTP_JSON_BODY_LIMIT, NULL },
	{ "GET", "/v1/webhook-endpoints", http_get_webhooks, HTTP_WEBHOOK_ROLES,
	  0, NULL },
	{ "GET", "/v1/webhook-endpoints/{id}", http_get_webhook,
	  HTTP_WEBHOOK_ROLES, 0, NULL },
	{ "PATCH", "/v1/webhook-endpoints/{id}", http_patch_webhook,
	  HTTP_WEBHOOK_ROLES, HTTP_JSON_BODY_LIMIT, NULL },
	{ "DELETE", "/v1/webhook-endpoints/{id}", http_delete_webhook,
	  HTTP_WEBHOOK_ROLES, 0, NULL },
	{ "POST", "/v1/webhook-endpoints/{id}/rotate-secret",
	  http_post_webhook_rotate, HTTP_WEBHOOK_ROLES, HTTP_JSON_BODY_LIMIT,
	  NULL },
	{ "GET", "/v1/webhook-endpoints/{id}/deliveries",
	  http_get_webhook_deliveries, HTTP_WEBHOOK_ROLES, 0, NULL },
	{ "POST", "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry",
	  http_post_webhook_retry, HTTP_WEBHOOK_ROLES, HTTP_JSON_BODY_LIMIT,
	  NULL },
	{ "GET", "/v1/events", http_get_events, HTTP_ANY_ROLE, 0, NULL },
	/* what the web console needs besides the routes above (console.c) */
	{ "GET", "/v1/me", http_get_me, HTTP_ANY_ROLE, 0, NULL },
	{ "GET", "/v1/evidence-kinds", http_get_evidence_kinds, HTTP_ANY_ROLE,
	  0, NULL },
	{ "GET", "/v1/overview", http_get_overview, HTTP_ANY_ROLE, 0, NULL },
	{ "GET", "/v1/disputes/{id}/actions", http_get_actions,
	  HTTP_ANY_ROLE, 0, NULL },
	{ "GET", "/v1/disputes/{id}/export", http_get_export, HTTP_ANY_ROLE,
	  0, NULL },
	/* the web console's files, public (ui.c) */
	{ "GET", "/ui", http_get_ui_root, 0, 0, NULL },
	{ "HEAD", "/ui", http_get_ui_root, 0, 0, NULL },
	{ "GET", "/ui/", http_get_ui_index, 0, 0, NULL },
	{ "HEAD", "/ui/", http_get_ui_index, 0, 0, NULL },
	{ "GET", "/ui/{path}", http_get_ui_asset, 0, 0, NULL },
	{ "HEAD", "/ui/{path}", http_get_ui_asset, 0, 0, NULL },
	/* the root leads to the console; the API's contract (ui.c) */
	{ "GET", "/", http_get_root, 0, 0, NULL },
	{ "HEAD", "/", http_get_root, 0, 0, NULL },
	{ "GET", "/openapi.yaml", http_get_openapi, 0, 0, NULL },
	{ "HEAD", "/openapi.yaml", http_get_openapi, 0, 0, NULL },
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

const http_route *http_routes(size_t *count)
{
	*count = ROUTE_COUNT;
	return routes;
}

/*
 * The parameters that may hold '/': a buyer_ref is any text up to
 * RD_DISPUTE_MAX_REF bytes, so the route that lists a buyer's disputes
 * must be able to name every one a dispute may carry.
 */
static const char *const spanning_params[] = { "{buyer_ref}" };

int http_pattern_spans(const char *segment, size_t len)
{
	for (size_t i = 0; i < sizeof(spanning_params) /
				   sizeof(spanning_params[0]); i++)
		if (strlen(spanning_params[i]) == len &&
		    memcmp(spanning_params[i], segment, len) == 0)
			return 1;
	return 0;
}

/*
 * A spanning parameter at the start of path, whose pattern continues with
 * `rest` (fixed text): 1 with the parameter copied into param when path is
 * 1 to HTTP_SPAN_PARAM_MAX bytes followed by exactly rest.
 */
static int span_match(const char *rest, const char *path,
		      char param[HTTP_PARAM_BUFSZ])
{
	size_t rlen = strlen(rest), len = strlen(path);

	if (len <= rlen || len - rlen > HTTP_SPAN_PARAM_MAX ||
	    memcmp(path + len - rlen, rest, rlen) != 0)
		return 0;
	memcpy(param, path, len - rlen);
	param[len - rlen] = '\0';
	return 1;
}

/* 1 when path fits pattern, capturing the "{...}" segments into params. */
static int pattern_match(const char *pattern, const char *path,
			 char params[HTTP_MAX_PARAMS][HTTP_PARAM_BUFSZ])
{
	size_t nparam = 0;

	while (*pattern && *path) {
		size_t plen, slen;

		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++;
		path++;
		plen = strcspn(pattern, "/");
		slen = strcspn(path, "/");
		if (plen > 0 && http_pattern_spans(pattern, plen))
			return nparam < HTTP_MAX_PARAMS &&
			       !strchr(pattern + plen, '{') &&
			       span_match(pattern + plen, path,
					  params[nparam]);
		if (plen > 0 && pattern[0] == '{') {
			if (slen == 0 || slen > HTTP_PARAM_MAX ||
			    nparam >= HTTP_MAX_PARAMS)
				return 0;
			memcpy(params[nparam], path, slen);
			params[nparam][slen] = '\0';
			nparam++;
		} else if (plen != slen || memcmp(pattern, path, plen) != 0) {
			return 0;
		}
		pattern += plen;
		path += slen;
	}
	return *pattern == '\0' && *path == '\0';
}

int http_route_slow(const http_route *route)
{
	if (!route || !route->handler)
		return HTTP_SLOW_NONE;
	if (route->handler == http_get_export)
		return HTTP_SLOW_EXPORT;
	if (route->handler == get_history || route->handler == get_verify ||
	    route->handler == get_evidence_file ||
	    route->handler == http_post_bulk_events)
		return HTTP_SLOW_JOB;
	return HTTP_SLOW_NONE;
}

int http_route_writes(const http_route *route)
{
	return route && (route->handler == post_dispute ||
			 route->handler == post_event ||
			 route->handler == http_post_message ||
			 route->handler == http_post_claim);
}

int http_idem_operation(const http_route *route)
{
	if (!route)
		return -1;
	if (route->handler == post_dispute)
		return RD_IDEM_OPEN;
	if (route->handler == post_event)
		return RD_IDEM_EVENT;
	if (route->handler == http_post_message)
		return RD_IDEM_MESSAGE;
	if (route->handler == http_post_claim)
		return RD_IDEM_CLAIM;
	if (route->stream == &upload_stream)
		return RD_IDEM_EVIDENCE;  /* raw or form */
	return -1;
}

int http_route_find(http_match *out, const char *method, const char *path)
{
	char params[HTTP_MAX_PARAMS][HTTP_PARAM_BUFSZ];

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ROUTE_COUNT; i++) {
		size_t used = strlen(out->allow);

		memset(params, 0, sizeof(params));
		if (!pattern_match(routes[i].pattern, path, params))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			out->route = &routes[i];
			memcpy(out->params, params, sizeof(params));
			return 1;
		}
		if (!strstr(out->allow, routes[i].method))
			snprintf(out->allow + used, sizeof(out->allow) - used,
				 "%s%s", used ? ", " : "", routes[i].method);
	}
	return 0;
}

/*
 * text as a JSON string may hold it: each byte that does not belong to a
 * UTF-8 sequence, and each control character, becomes '?'. A message or a
 * field may quote what a client sent (a path, a parameter's name), and a
 * problem document must be writable whatever that was.
 */
static void problem_text(char *out, size_t size, const char *text)
{
	size_t used = 0, len = strlen(text);

	for (size_t i = 0; i < len && used + 1 < size;) {
		unsigned char c = (unsigned char)text[i];
		size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

		if (i + n <= len &&
		    rd_text_check(text + i, n, 0) == RD_TEXT_OK) {
			if (used + n >= size)
				break;
			memcpy(out + used, text + i, n);
			used += n;
			i += n;
		} else {
			out[used++] = '?';
			i++;
		}
	}
	out[used] = '\0';
}

/* A quota refusal's members: which quota, its bytes, the bytes left. */
static int http_problem_quota(json_t *doc, const rd_error *err)
{
	const char *which = strcmp(err->quota, "daily") == 0 ? "daily"
								: "total";

	if (json_object_set_new(doc, "quota", json_string(which)) ||
	    json_object_set_new(doc, "limit",
				json_integer((json_int_t)err->quota_limit)) ||
	    json_object_set_new(doc, "remaining",
				json_integer((json_int_t)
					     err->quota_remaining)))
		return -1;
	return 0;
}

/* The answers 503 database_unavailable given, and the last one's error. */
static pthread_mutex_t unavailable_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t unavailable_count;
static rd_error unavailable_last;

uint64_t rd_http_unavailable(rd_error *last)
{
	uint64_t count;

	pthread_mutex_lock(&unavailable_lock);
	count = unavailable_count;
	if (last)
		*last = unavailable_last;
	pthread_mutex_unlock(&unavailable_lock);
	return count;
}

/*
 * The detail of a database that cannot be reached: what the client may
 * do, without the store's words (they name the database's address, and
 * GET /readyz needs no key); those are kept for the operator.
 */
static void unavailable_detail(char *detail, size_t size, const rd_error *err)
{
	int unknown = strstr(err->message, "is unknown") != NULL;

	pthread_mutex_lock(&unavailable_lock);
	unavailable_count++;
	unavailable_last = *err;
	pthread_mutex_unlock(&unavailable_lock);
	snprintf(detail, size, "%s", unknown
		 ? "the database cannot be reached: the connection was lost "
		   "while this change was being committed, so whether it "
		   "was recorded is unknown; retry it with the same "
		   "Idempotency-Key, which records it once"
		 : "the database cannot be reached, so nothing of this "
		   "request was recorded; retry after Retry-After seconds, "
		   "here or on another server");
}

json_t *http_problem(const rd_error *err, int malformed, unsigned *status)
{
	const rd_code_info *info = rd_code_info_get(err->code);
	char type[128], detail[sizeof(err->message)];
	char field[sizeof(err->field)], guard[sizeof(err->guard)];
	json_t *doc;

	int assigned = !malformed && err->code == RD_ECONFLICT &&
		       err->assignee[0];

	*status = malformed ? 400u : (unsigned)info->http_status;
	/* a write refused because another agent owns the dispute */
	snprintf(type, sizeof(type), "https://redress.dev/problems/%s",
		 malformed ? "malformed" : assigned ? "assigned" : info->name);
	if (!malformed && err->code == RD_EUNAVAILABLE)
		unavailable_detail(detail, sizeof(detail), err);
	else
		problem_text(detail, sizeof(detail), err->message);
	problem_text(field, sizeof(field), err->field);
	problem_text(guard, sizeof(guard), err->guard);
	doc = json_pack("{s:s, s:s, s:i, s:s}", "type", type,
			"title", malformed ? "Malformed JSON"
				 : assigned ? "Assigned to another agent"
					    : info->title,
			"status", (int)*status, "detail", detail);
	if (!doc)
		return NULL;
	if ((field[0] &&
	     json_object_set_new(doc, "field", json_string(field))) ||
	    (guard[0] &&
	     json_object_set_new(doc, "guard", json_string(guard))) ||
	    (err->code == RD_EQUOTA && http_problem_quota(doc, err) < 0) ||
	    (err->existing_id[0] && rd_id_valid(err->existing_id) &&
	     json_object_set_new(doc, "existing_id",
				 json_string(err->existing_id))) ||
	    (assigned && json_object_set_new(doc, "assignee",
					     json_string(err->assignee)))) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
