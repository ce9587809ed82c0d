/*
 * Records as JSON: the event, offer and evidence files of a dispute's git
 * tree, its dispute.json snapshot read back, and the CLI's --json output.
 *
 * What is written here is what an auditor reads with stock git and what the
 * index is rebuilt from, so every writer has a reader beside it and both
 * stay in one file. Readers validate: a tree edited by hand is refused with
 * the member at fault, never half-read.
 */
#include "redress/service.h"

#include <stdlib.h>
#include <string.h>

#include "redress/clock.h"
#include "redress/json.h"

static json_t *time_or_null(int64_t t)
{
	char buf[RD_TIME_BUFSZ];

	if (t == 0)
		return json_null();
	rd_time_format(buf, t);
	return json_string(buf);
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- readers' helpers ---- */

static int bad(rd_error *err, const char *what, const char *member,
	       const char *expected)
{
	return rd_error_set_field(err, RD_EINVALID, member,
				  "%s: member %s must be %s", what, member,
				  expected);
}

static int get_string(const char **out, const json_t *doc, const char *what,
		      const char *member, int nullable, rd_error *err)
{
	const json_t *v = json_object_get(doc, member);

	*out = NULL;
	if (nullable && (!v || json_is_null(v)))
		return RD_OK;
	if (!json_is_string(v))
		return bad(err, what, member, "a string");
	*out = json_string_value(v);
	return RD_OK;
}

static int get_int(int64_t *out, const json_t *doc, const char *what,
		   const char *member, int64_t if_null, rd_error *err)
{
	const json_t *v = json_object_get(doc, member);

	if (json_is_null(v) || (!v && if_null != INT64_MIN)) {
		if (if_null == INT64_MIN)
			return bad(err, what, member, "an integer");
		*out = if_null;
		return RD_OK;
	}
	if (!json_is_integer(v))
		return bad(err, what, member, "an integer");
	*out = json_integer_value(v);
	return RD_OK;
}

/* A time member: RFC 3339 text, or null (0) when nullable. */
static int get_time(int64_t *out, const json_t *doc, const char *what,
		    const char *member, int nullable, rd_error *err)
{
	const char *text;
	int rc;

	*out = 0;
	if ((rc = get_string(&text, doc, what, member, nullable, err)) < 0)
		return rc;
	if (!text)
		return RD_OK;
	if (rd_time_parse(out, text, NULL) < 0)
		return bad(err, what, member, "an RFC 3339 time");
	/* 0 stands for "no time" in a record: a required one comes after */
	if (!nullable && *out == 0)
		return bad(err, what, member, "a time after 1970-01-01T00:00:00Z");
	return RD_OK;
}

static int copy_to(char *dst, size_t size, const char *src, const char *what,
		   const char *member, rd_error *err)
{
	if (!src || strlen(src) >= size)
		return bad(err, what, member, "a short string");
	memcpy(dst, src, strlen(src) + 1);
	return RD_OK;
}

static int dup_to(char **dst, const char *src, rd_error *err)
{
	*dst = NULL;
	if (src && (*dst = strdup(src)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return RD_OK;
}

/* ---- events ---- */

json_t *rd_event_record_to_json(const rd_event_record *event)
{
	char at[RD_TIME_BUFSZ];
	const char *text = event->fields_json ? event->fields_json : "{}";
	json_t *fields = rd_json_loadb(text, strlen(text), 0, NULL);

	/* no fields to write is no memory: never an event without them */
	if (!fields)
		return NULL;
	rd_time_format(at, event->at);
	return json_pack("{s:I, s:s, s:{s:s, s:s, s:o}, s:s, s:o, s:s, s:o, s:o}",
			 "seq", (json_int_t)event->seq,
			 "event", event->event,
			 "actor",
			 "name", event->actor.name,
			 "role", rd_role_name(event->actor.role),
			 "key_id", event->actor.key_id[0]
					   ? json_string(event->actor.key_id)
					   : json_null(),
			 "at", at,
			 "from", string_or_null(event->from_state),
			 "to", event->to_state,
			 "fields", fields,
			 "note", string_or_null(event->note));
}

void rd_event_record_clear(rd_event_record *event)
{
	if (!event)
		return;
	free(event->event);
	free(event->from_state);
	free(event->to_state);
	free(event->fields_json);
	free(event->note);
	memset(event, 0, sizeof(*event));
}

int rd_event_record_from_json(rd_event_record *out, const json_t *doc,
			      rd_error *err)
{
	static const char what[] = "event";
	const json_t *actor = json_object_get(doc, "actor");
	const json_t *fields = json_object_get(doc, "fields");
	const char *event, *from, *to, *note, *name, *role, *key;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc) || !json_is_object(actor))
		return bad(err, what, "actor", "an object");
	if (!json_is_object(fields))
		return bad(err, what, "fields", "an object");
	if ((rc = get_int(&out->seq, doc, what, "seq", INT64_MIN, err)) < 0 ||
	    (rc = get_string(&event, doc, what, "event", 0, err)) < 0 ||
	    (rc = get_time(&out->at, doc, what, "at", 0, err)) < 0 ||
	    (rc = get_string(&from, doc, what, "from", 1, err)) < 0 ||
	    (rc = get_string(&to, doc, what, "to", 0, err)) < 0 ||
	    (rc = get_string(&note, doc, what, "note", 1, err)) < 0 ||
	    (rc = get_string(&name, actor, "event actor", "name", 0, err)) < 0 ||
	    (rc = get_string(&role, actor, "event actor", "role", 0, err)) < 0 ||
	    (rc = get_string(&key, actor, "event actor", "key_id", 1, err)) < 0)
		return rc;
	if (out->seq < 1)
		return bad(err, what, "seq", "a positive integer");
	if (rd_role_parse(&out->actor.role, role, NULL) < 0)
		return bad(err, what, "actor.role", "a role");
	if ((rc = copy_to(out->actor.name, sizeof(out->actor.name), name, what,
			  "actor.name", err)) < 0 ||
	    (key && (rc = copy_to(out->actor.key_id, sizeof(out->actor.key_id),
				  key, what, "actor.key_id", err)) < 0))
		return rc;
	if ((rc = dup_to(&out->event, event, err)) < 0 ||
	    (rc = dup_to(&out->from_state, from, err)) < 0 ||
	    (rc = dup_to(&out->to_state, to, err)) < 0 ||
	    (rc = dup_to(&out->note, note, err)) < 0)
		goto fail;
	out->fields_json = rd_json_dumps(fields, JSON_COMPACT | JSON_SORT_KEYS);
	if (!out->fields_json) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto fail;
	}
	return RD_OK;
fail:
	rd_event_record_clear(out);
	return rc;
}

/* ---- offers ---- */

json_t *rd_offer_record_to_json(const rd_offer_record *offer,
				const char *currency)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:s, s:o, s:o, s:I}",
			 "offer_id", offer->offer_id,
			 "type", rd_offer_type_name(offer->type),
			 "currency", currency,
			 "buyer_refund", (json_int_t)offer->buyer_refund,
			 "buyer_copay", (json_int_t)offer->buyer_copay,
			 "seller_cost",
			 offer->seller_cost == RD_AMOUNT_UNSET
				 ? json_null()
				 : json_integer(offer->seller_cost),
			 "status", offer->status,
			 "made_at", time_or_null(offer->made_at),
			 "decided_at", time_or_null(offer->decided_at),
			 "event_seq", (json_int_t)offer->event_seq);
}

int rd_offer_record_from_json(rd_offer_record *out, const json_t *doc,
			      const char *dispute_id, rd_error *err)
{
	static const char what[] = "offer";
	const char *id, *type, *status;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc))
		return bad(err, what, "offer", "an object");
	if ((rc = get_string(&id, doc, what, "offer_id", 0, err)) < 0 ||
	    (rc = get_string(&type, doc, what, "type", 0, err)) < 0 ||
	    (rc = get_string(&status, doc, what, "status", 0, err)) < 0 ||
	    (rc = get_int(&out->buyer_refund, doc, what, "buyer_refund",
			  INT64_MIN, err)) < 0 ||
	    (rc = get_int(&out->buyer_copay, doc, what, "buyer_copay",
			  INT64_MIN, err)) < 0 ||
	    (rc = get_int(&out->seller_cost, doc, what, "seller_cost",
			  RD_AMOUNT_UNSET, err)) < 0 ||
	    (rc = get_int(&out->event_seq, doc, what, "event_seq", INT64_MIN,
			  err)) < 0 ||
	    (rc = get_time(&out->made_at, doc, what, "made_at", 0, err)) < 0 ||
	    (rc = get_time(&out->decided_at, doc, what, "decided_at", 1,
			   err)) < 0)
		return rc;
	if (rd_offer_type_parse(&out->type, type, NULL) < 0)
		return bad(err, what, "type", "an offer type");
	if ((rc = copy_to(out->offer_id, sizeof(out->offer_id), id, what,
			  "offer_id", err)) < 0 ||
	    (rc = copy_to(out->status, sizeof(out->status), status, what,
			  "status", err)) < 0 ||
	    (rc = copy_to(out->dispute_id, sizeof(out->dispute_id), dispute_id,
			  what, "dispute", err)) < 0)
		return rc;
	return RD_OK;
}

/* ---- evidence metadata ---- */

json_t *rd_evidence_row_to_json(const rd_evidence_row *row)
{
	char added[RD_TIME_BUFSZ];

	rd_time_format(added, row->added_at);
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:s, s:o,"
			 " s:o, s:s, s:s, s:b, s:o}",
			 "n", (json_int_t)row->n,
			 "kind", row->kind,
			 "channel", row->channel,
			 "submitted_by", row->submitted_by,
			 "captured_at", time_or_null(row->captured_at),
			 "added_at", added,
			 "content_type", row->content_type,
			 "size", (json_int_t)row->size,
			 "sha256", row->sha256,
			 "original_name", string_or_null(row->original_name),
			 "note", string_or_null(row->note),
			 "path", row->path,
			 "blob", row->blob_oid,
			 "withdrawn", row->withdrawn,
			 "withdrawn_reason", string_or_null(row->withdrawn_reason));
}

int rd_evidence_row_from_json(rd_evidence_row *out, const json_t *doc,
			      const char *dispute_id, rd_error *err)
{
	static const char what[] = "evidence metadata";
	const char *kind, *channel, *by, *type, *sha, *name, *note, *path,
		*blob, *reason;
	const json_t *withdrawn = json_object_get(doc, "withdrawn");
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc))
		return bad(err, what, "metadata", "an object");
	if (!json_is_boolean(withdrawn))
		return bad(err, what, "withdrawn", "true or false");
	if ((rc = get_int(&out->n, doc, what, "n", INT64_MIN, err)) < 0 ||
	    (rc = get_int(&out->size, doc, what, "size", INT64_MIN, err)) < 0 ||
	    (rc = get_time(&out->captured_at, doc, what, "captured_at", 1,
			   err)) < 0 ||
	    (rc = get_time(&out->added_at, doc, what, "added_at", 0, err)) < 0 ||
	    (rc = get_string(&kind, doc, what, "kind", 0, err)) < 0 ||
	    (rc = get_string(&channel, doc, what, "channel", 0, err)) < 0 ||
	    (rc = get_string(&by, doc, what, "submitted_by", 0, err)) < 0 ||
	    (rc = get_string(&type, doc, what, "content_type", 0, err)) < 0 ||
	    (rc = get_string(&sha, doc, what, "sha256", 0, err)) < 0 ||
	    (rc = get_string(&path, doc, what, "path", 0, err)) < 0 ||
	    (rc = get_string(&blob, doc, what, "blob", 0, err)) < 0 ||
	    (rc = get_string(&name, doc, what, "original_name", 1, err)) < 0 ||
	    (rc = get_string(&note, doc, what, "note", 1, err)) < 0 ||
	    (rc = get_string(&reason, doc, what, "withdrawn_reason", 1,
			     err)) < 0)
		return rc;
	if (out->n < 1)
		return bad(err, what, "n", "a positive integer");
	if (strlen(sha) != 64)
		return bad(err, what, "sha256", "64 hex digits");
	if ((rc = copy_to(out->dispute_id, sizeof(out->dispute_id), dispute_id,
			  what, "dispute", err)) < 0 ||
	    (rc = copy_to(out->kind, sizeof(out->kind), kind, what, "kind",
			  err)) < 0 ||
	    (rc = copy_to(out->channel, sizeof(out->channel), channel, what,
			  "channel", err)) < 0 ||
	    (rc = copy_to(out->submitted_by, sizeof(out->submitted_by), by,
			  what, "submitted_by", err)) < 0 ||
	    (rc = copy_to(out->content_type, sizeof(out->content_type), type,
			  what, "content_type", err)) < 0 ||
	    (rc = copy_to(out->sha256, sizeof(out->sha256), sha, what,
			  "sha256", err)) < 0 ||
	    (rc = copy_to(out->path, sizeof(out->path), path, what, "path",
			  err)) < 0 ||
	    (rc = copy_to(out->blob_oid, sizeof(out->blob_oid), blob, what,
			  "blob", err)) < 0)
		return rc;
	out->withdrawn = json_is_true(withdrawn);
	if ((rc = dup_to(&out->original_name, name, err)) < 0 ||
	    (rc = dup_to(&out->note, note, err)) < 0 ||
	    (rc = dup_to(&out->withdrawn_reason, reason, err)) < 0) {
		rd_evidence_row_clear(out);
		return rc;
	}
	return RD_OK;
}

/* ---- the dispute snapshot ---- */

static int snapshot_lifecycle(rd_dispute *d, const json_t *doc, rd_error *err)
{
	static const char what[] = "dispute.json";
	const json_t *wf = json_object_get(doc, "workflow");
	const json_t *deadline = json_object_get(doc, "deadline");
	const json_t *reply = json_object_get(doc, "reply_deadline");
	const char *id, *state, *outcome, *assignee, *wf_name, *wf_hash,
		*dl_event = NULL, *reply_event = NULL;
	int rc;

	if (!json_is_object(wf))
		return bad(err, what, "workflow", "an object");
	if ((rc = get_string(&id, doc, what, "id", 0, err)) < 0 ||
	    (rc = get_string(&state, doc, what, "state", 0, err)) < 0 ||
	    (rc = get_string(&outcome, doc, what, "outcome", 1, err)) < 0 ||
	    (rc = get_string(&assignee, doc, what, "assignee", 1, err)) < 0 ||
	    (rc = get_int(&d->version, doc, what, "version", INT64_MIN,
			  err)) < 0 ||
	    (rc = get_time(&d->created_at, doc, what, "created_at", 0,
			   err)) < 0 ||
	    (rc = get_time(&d->updated_at, doc, what, "updated_at", 0,
			   err)) < 0 ||
	    (rc = get_string(&wf_name, wf, "dispute.json workflow", "name", 0,
			     err)) < 0 ||
	    (rc = get_string(&wf_hash, wf, "dispute.json workflow", "hash", 0,
			     err)) < 0 ||
	    (rc = get_int(&d->workflow_version, wf, "dispute.json workflow",
			  "version", INT64_MIN, err)) < 0)
		return rc;
	if (!rd_id_valid(id))
		return bad(err, what, "id", "a dispute id");
	if (d->version < 1)
		return bad(err, what, "version", "a positive integer");
	if (deadline && !json_is_null(deadline)) {
		if (!json_is_object(deadline) ||
		    (rc = get_time(&d->deadline_at, deadline,
				   "dispute.json deadline", "at", 0, err)) < 0 ||
		    (rc = get_string(&dl_event, deadline,
				     "dispute.json deadline", "event", 0,
				     err)) < 0)
			return rc < 0 ? rc : bad(err, what, "deadline",
						 "an object or null");
	}
	if (reply && !json_is_null(reply)) {
		if (!json_is_object(reply) ||
		    (rc = get_time(&d->reply_due_at, reply,
				   "dispute.json reply_deadline", "at", 0,
				   err)) < 0 ||
		    (rc = get_int(&d->reply_since, reply,
				  "dispute.json reply_deadline",
				  "since_message", INT64_MIN, err)) < 0 ||
		    (rc = get_string(&reply_event, reply,
				     "dispute.json reply_deadline", "event", 1,
				     err)) < 0)
			return rc < 0 ? rc : bad(err, what, "reply_deadline",
						 "an object or null");
	}
	memcpy(d->id, id, RD_ID_BUFSZ);
	if ((rc = copy_to(d->workflow_hash, sizeof(d->workflow_hash), wf_hash,
			  what, "workflow.hash", err)) < 0 ||
	    (rc = dup_to(&d->state, state, err)) < 0 ||
	    (rc = dup_to(&d->outcome, outcome, err)) < 0 ||
	    (rc = dup_to(&d->assignee, assignee, err)) < 0 ||
	    (rc = dup_to(&d->workflow_name, wf_name, err)) < 0 ||
	    (rc = dup_to(&d->deadline_event, dl_event, err)) < 0 ||
	    (rc = dup_to(&d->reply_event, reply_event, err)) < 0)
		return rc;
	return RD_OK;
}

int rd_dispute_from_snapshot(rd_dispute **out, const json_t *doc,
			     rd_error *err)
{
	static const char *const lifecycle[] = {
		"id", "state", "outcome", "version", "workflow", "assignee",
		"created_at", "updated_at", "deadline", "reply_deadline",
	};
	json_t *opening = NULL;
	rd_dispute *d = NULL;
	int rc;

	*out = NULL;
	if (!json_is_object(doc))
		return bad(err, "dispute.json", "dispute", "an object");
	if ((opening = json_deep_copy(doc)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(lifecycle) / sizeof(lifecycle[0]); i++)
		json_object_del(opening, lifecycle[i]);
	if ((rc = rd_dispute_from_json(&d, opening, err)) < 0) {
		rd_error_prefix(err, "dispute.json");
		goto done;
	}
	if ((rc = snapshot_lifecycle(d, doc, err)) < 0)
		goto done;
	*out = d;
	d = NULL;
done:
	json_decref(opening);
	rd_dispute_free(d);
	return rc;
}
