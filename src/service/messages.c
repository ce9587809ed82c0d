/*
 * The conversation with the buyer: each message is one change of its
 * dispute (messages/NNNNNN.json in its tree, a "message" event in its
 * history), indexed for the paginated reads; an inbound message starts
 * the reply clock and an outbound one stops it; an outbound message goes
 * to the storefront as message.created. Internal notes stay inside: the
 * one rule of who reads what is svc_message_visible, and every read a
 * storefront key makes (messages, history, export, events) goes through
 * it. See docs/messages.md.
 */
#include "service_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/clock.h"
#include "redress/json.h"
#include "redress/locale.h"
#include "redress/money.h"
#include "redress/store.h"
#include "redress/workflow.h"

#define MESSAGE_BODY_MAX (64 * 1024)
#define MESSAGE_EVIDENCE_MAX 20
#define MESSAGE_CALL_MAX_SECONDS (24 * 3600)
#define MESSAGE_PAGE_DEFAULT 50
#define MESSAGE_PAGE_MAX 200

static const char *const directions[] = { "inbound", "outbound", "internal" };
static const char *const channels[] = { "chat", "email", "phone",
					"platform", "sms", "other" };

static int listed(const char *s, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(s, names[i]) == 0)
			return 1;
	return 0;
}

/* ---- who reads what ---- */

int rd_service_message_visible(const rd_actor *actor, const char *direction)
{
	return actor->role != RD_ROLE_STOREFRONT ||
	       strcmp(direction, "internal") != 0;
}

int rd_service_event_visible(const rd_actor *actor, const rd_event_record *ev)
{
	json_t *fields;
	const char *direction;
	int visible = 1;

	if (actor->role != RD_ROLE_STOREFRONT ||
	    strcmp(ev->event, "message") != 0)
		return 1;
	fields = json_loads(ev->fields_json ? ev->fields_json : "{}", 0, NULL);
	direction = json_string_value(json_object_get(fields, "direction"));
	/* a message event that cannot be read is not shown to a storefront */
	visible = direction && rd_service_message_visible(actor, direction);
	json_decref(fields);
	return visible;
}

int rd_service_commit_visible(const rd_actor *actor, const char *message)
{
	return actor->role != RD_ROLE_STOREFRONT || !message ||
	       !strstr(message, "\n" SVC_TRAILER_INTERNAL "\n");
}

/* ---- the request ---- */

typedef struct message_input {
	const char *direction;
	const char *channel;
	const char *body;
	const char *language;
	const char *author;
	const char *time_zone;
	const json_t *evidence;
	const json_t *template_doc;
	const json_t *call;
	rd_rendered render;              /* a template's text, owned */
} message_input;

static int refuse(rd_error *err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(rd_error *err, const char *field, const char *fmt, ...)
{
	va_list ap;
	char text[sizeof(err->message)];

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return rd_error_set_field(err, RD_EINVALID, field, "%s", text);
}

static int optional_string(const json_t *doc, const char *member,
			   const char **out, rd_error *err)
{
	const json_t *v = json_object_get(doc, member);

	*out = NULL;
	if (!v || json_is_null(v))
		return RD_OK;
	if (!json_is_string(v))
		return refuse(err, member, "%s: must be a string", member);
	*out = json_string_value(v);
	return RD_OK;
}

/* The body: 1 byte to 64 KiB of UTF-8, newlines and tabs its only controls. */
static int check_body(const char *body, const char *field, rd_error *err)
{
	size_t len = strlen(body);

	if (len == 0)
		return refuse(err, field, "%s: must not be empty", field);
	if (len > MESSAGE_BODY_MAX)
		return rd_error_set_field(err, RD_ETOOLARGE, field,
					  "%s: %zu bytes, more than the %d a "
					  "message may hold", field, len,
					  MESSAGE_BODY_MAX);
	if (strchr(body, '\r'))
		return refuse(err, field, "%s: holds a carriage return; "
			      "separate lines with a line feed (\\n) only",
			      field);
	switch (rd_text_check(body, len, 1)) {
	case RD_TEXT_OK:
		return RD_OK;
	case RD_TEXT_NOT_UTF8:
		return refuse(err, field, "%s: is not valid UTF-8", field);
	default:
		return refuse(err, field, "%s: holds a control character; "
			      "only line feeds and tabs are allowed", field);
	}
}

/* A phone call: {"caller": who called, "duration_seconds": how long}. */
static int check_call(const json_t *call, rd_error *err)
{
	static const char *const members[] = { "caller", "duration_seconds" };
	const json_t *caller = json_object_get(call, "caller");
	const json_t *seconds = json_object_get(call, "duration_seconds");
	const char *key;
	json_t *value;

	if (!json_is_object(call))
		return refuse(err, "call", "call: must be an object with "
			      "\"caller\" and \"duration_seconds\"");
	json_object_foreach((json_t *)call, key, value) {
		if (!listed(key, members, 2))
			return refuse(err, "call", "call: unknown member "
				      "\"%.64s\" (known: caller, "
				      "duration_seconds)", key);
	}
	if (!json_is_string(caller) || json_string_length(caller) == 0 ||
	    json_string_length(caller) > 127 ||
	    !svc_text_ok(json_string_value(caller), 0))
		return refuse(err, "call.caller", "call.caller: who called, "
			      "1 to 127 characters without control "
			      "characters");
	if (!json_is_integer(seconds) || json_integer_value(seconds) < 0 ||
	    json_integer_value(seconds) > MESSAGE_CALL_MAX_SECONDS)
		return refuse(err, "call.duration_seconds",
			      "call.duration_seconds: the call's length in "
			      "seconds, from 0 to %d",
			      MESSAGE_CALL_MAX_SECONDS);
	return RD_OK;
}

static int parse_input(message_input *in, const json_t *doc,
		       const rd_actor *actor, rd_error *err)
{
	static const char *const members[] = {
		"direction", "channel", "body", "language", "author",
		"evidence", "template", "call", "time_zone"
	};
	const char *key;
	json_t *value;
	int rc;

	memset(in, 0, sizeof(*in));
	if (!json_is_object(doc))
		return refuse(err, NULL, "a message must be a JSON object");
	json_object_foreach((json_t *)doc, key, value) {
		if (!listed(key, members, sizeof(members) / sizeof(members[0])))
			return refuse(err, key, "unknown member \"%.64s\" (known: "
				      "direction, channel, body, language, "
				      "author, evidence, template, call, "
				      "time_zone)", key);
	}
	if ((rc = optional_string(doc, "direction", &in->direction, err)) < 0 ||
	    (rc = optional_string(doc, "channel", &in->channel, err)) < 0 ||
	    (rc = optional_string(doc, "body", &in->body, err)) < 0 ||
	    (rc = optional_string(doc, "language", &in->language, err)) < 0 ||
	    (rc = optional_string(doc, "author", &in->author, err)) < 0 ||
	    (rc = optional_string(doc, "time_zone", &in->time_zone, err)) < 0)
		return rc;
	if (!in->direction || !listed(in->direction, directions, 3))
		return refuse(err, "direction", "direction: must be inbound (what "
			      "the buyer wrote), outbound (what the seller "
			      "says) or internal (a note storefronts never "
			      "see)");
	if (!in->channel || !listed(in->channel, channels, 6))
		return refuse(err, "channel", "channel: must be chat, email, "
			      "phone, platform, sms or other");
	/* who may post what: storefronts relay their buyer's words */
	if (actor->role == RD_ROLE_AUDITOR || actor->role == RD_ROLE_SYSTEM)
		return rd_error_set(err, RD_EFORBIDDEN, "the %s role may read "
				    "messages but not post them",
				    rd_role_name(actor->role));
	if (actor->role == RD_ROLE_STOREFRONT &&
	    strcmp(in->direction, "inbound") != 0)
		return rd_error_set_field(err, RD_EFORBIDDEN, "direction",
					  "a storefront key posts inbound "
					  "messages only (what its buyer "
					  "wrote); outbound and internal ones "
					  "are the seller's agents'");
	in->template_doc = json_object_get(doc, "template");
	if (json_is_null(in->template_doc))
		in->template_doc = NULL;
	if (!in->body == !in->template_doc)
		return refuse(err, "body", "give either body (the text) or "
			      "template (a moment's name and its variables), "
			      "not both and not neither");
	if (in->template_doc && strcmp(in->direction, "outbound") != 0)
		return refuse(err, "template", "template: texts from templates "
			      "are for outbound messages to the buyer");
	if (in->body && (rc = check_body(in->body, "body", err)) < 0)
		return rc;
	if (in->language && !rd_locale_tag_valid(in->language))
		return refuse(err, "language", "language: \"%.40s\" is not a "
			      "BCP 47 language tag such as de-DE", in->language);
	if (in->time_zone && !rd_locale_zone_valid(in->time_zone))
		return refuse(err, "time_zone", "time_zone: \"%.60s\" is not "
			      "an IANA time zone such as Europe/Berlin",
			      in->time_zone);
	if (in->author &&
	    (strlen(in->author) == 0 || strlen(in->author) > 127 ||
	     !svc_text_ok(in->author, 0)))
		return refuse(err, "author", "author: a display name of 1 to "
			      "127 characters without control characters");
	in->evidence = json_object_get(doc, "evidence");
	if (json_is_null(in->evidence))
		in->evidence = NULL;
	if (in->evidence && (!json_is_array(in->evidence) ||
			     json_array_size(in->evidence) >
				     MESSAGE_EVIDENCE_MAX))
		return refuse(err, "evidence", "evidence: an array of at most "
			      "%d evidence numbers of this dispute",
			      MESSAGE_EVIDENCE_MAX);
	in->call = json_object_get(doc, "call");
	if (json_is_null(in->call))
		in->call = NULL;
	if (strcmp(in->channel, "phone") == 0 && !in->call)
		return refuse(err, "call", "call: a phone message logs a call: "
			      "give {\"caller\": who called, "
			      "\"duration_seconds\": its length}, and the "
			      "summary as body");
	if (in->call && strcmp(in->channel, "phone") != 0)
		return refuse(err, "call", "call: only a message of channel "
			      "phone logs a call");
	if (in->call && (rc = check_call(in->call, err)) < 0)
		return rc;
	return RD_OK;
}

/* Every evidence number exists on the dispute; the array as JSON text. */
static int check_evidence(rd_service *svc, const char *id,
			  const json_t *evidence, char **out, rd_error *err)
{
	int64_t next = 1;
	size_t i;
	json_t *v;
	int rc;

	*out = NULL;
	if (evidence && json_array_size(evidence) > 0 &&
	    (rc = rd_store_evidence_next(svc->store, id, &next, err)) < 0)
		return rc;
	json_array_foreach(evidence, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return refuse(err, "evidence", "evidence[%zu]: must be "
				      "an evidence number (1, 2, ...)", i);
		if (json_integer_value(v) >= next)
			return refuse(err, "evidence", "evidence[%zu]: dispute "
				      "%s has no evidence %lld", i, id,
				      (long long)json_integer_value(v));
		for (size_t k = 0; k < i; k++)
			if (json_integer_value(json_array_get(evidence, k)) ==
			    json_integer_value(v))
				return refuse(err, "evidence", "evidence[%zu]: "
					      "evidence %lld is listed twice",
					      i, (long long)
					      json_integer_value(v));
	}
	*out = evidence ? rd_json_dumps(evidence, JSON_COMPACT) : strdup("[]");
	if (!*out)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return RD_OK;
}

/* ---- texts from templates ---- */

/* The values the service knows for a dispute, before the caller's own. */
typedef struct value_set {
	rd_tvalue items[24];
	size_t count;
} value_set;

static void value_put(value_set *v, rd_tvalue value)
{
	for (size_t i = 0; i < v->count; i++)
		if (strcmp(v->items[i].name, value.name) == 0) {
			v->items[i] = value;
			return;
		}
	if (v->count < sizeof(v->items) / sizeof(v->items[0]))
		v->items[v->count++] = value;
}

static void value_text(value_set *v, const char *name, const char *text)
{
	rd_tvalue t = { name, RD_TVAR_TEXT, text, 0, NULL, 0 };

	if (text)
		value_put(v, t);
}

static void value_money(value_set *v, const char *name, int64_t minor,
			const char *currency)
{
	rd_tvalue t = { name, RD_TVAR_MONEY, NULL, minor, currency, 0 };

	value_put(v, t);
}

static void value_date(value_set *v, const char *name, int64_t at)
{
	rd_tvalue t = { name, RD_TVAR_DATE, NULL, 0, NULL, at };

	value_put(v, t);
}

/*
 * What the dispute gives: its order, its first item, the author, and
 * from its pending offer (else its accepted one) the amounts a buyer is
 * told and the time to answer by. Never a cost of the seller's.
 */
static int known_values(rd_service *svc, const rd_dispute *d,
			const char *author, value_set *v,
			rd_offer_record *offer, int64_t now, rd_error *err)
{
	int found = 0;
	int rc;

	value_text(v, "order_ref", d->order_ref);
	value_text(v, "agent_name", author);
	if (d->item_count > 0)
		value_text(v, "item", d->items[0].title ? d->items[0].title
							: d->items[0].sku);
	if ((rc = rd_store_offer_pending(svc->store, d->id, offer, &found,
					 err)) < 0)
		return rc;
	if (!found && (rc = rd_store_offer_accepted(svc->store, d->id, offer,
						    &found, err)) < 0)
		return rc;
	if (!found)
		return RD_OK;
	value_money(v, "amount", offer->buyer_refund, d->currency);
	value_money(v, "buyer_pays", offer->buyer_copay, d->currency);
	value_date(v, "respond_by", d->deadline_at && strcmp(d->state,
				"offer_pending") == 0 ? d->deadline_at : now);
	return RD_OK;
}

/* The caller's variables, typed by what the moment declares. */
static int caller_values(rd_service *svc, const char *name,
			 const json_t *vars, const rd_dispute *d,
			 value_set *v, rd_error *err)
{
	const rd_tvar *decl = NULL;
	size_t count = 0;
	const char *key;
	json_t *value;
	int rc;

	if ((rc = rd_templates_vars(svc->templates, name, &decl, &count,
				    err)) < 0)
		return rc;
	json_object_foreach((json_t *)vars, key, value) {
		const rd_tvar *t = NULL;
		char field[96];

		snprintf(field, sizeof(field), "template.vars.%.64s", key);
		for (size_t i = 0; i < count; i++)
			if (strcmp(decl[i].name, key) == 0)
				t = &decl[i];
		if (!t)
			return refuse(err, field, "%s: template %s has no "
				      "variable of that name", field, name);
		switch (t->type) {
		case RD_TVAR_TEXT:
			if (!json_is_string(value) ||
			    json_string_length(value) > 512 ||
			    !svc_text_ok(json_string_value(value), 0))
				return refuse(err, field, "%s: a text of at "
					      "most 512 characters on one "
					      "line", field);
			value_text(v, key, json_string_value(value));
			break;
		case RD_TVAR_MONEY:
			if (!json_is_integer(value) ||
			    json_integer_value(value) < 0 ||
			    json_integer_value(value) > RD_MONEY_INPUT_MAX)
				return refuse(err, field, "%s: an amount in "
					      "minor units of %s (an integer, "
					      "e.g. 11500 for 115.00)", field,
					      d->currency);
			value_money(v, key, json_integer_value(value),
				    d->currency);
			break;
		case RD_TVAR_DATE: {
			int64_t at = 0;
			rd_error terr;

			if (!json_is_string(value) ||
			    rd_time_parse(&at, json_string_value(value),
					  &terr) < 0)
				return refuse(err, field, "%s: an RFC 3339 time "
					      "such as 2026-03-09T17:00:00Z",
					      field);
			value_date(v, key, at);
			break;
		}
		}
	}
	return RD_OK;
}

/* The zone dates are shown in: the request's, else the storefront's calendar's. */
static const char *zone_for(rd_service *svc, const rd_dispute *d,
			    const char *asked)
{
	const rd_calendar *cal;

	if (asked)
		return asked;
	cal = svc->calendars ? rd_calendars_for(svc->calendars, d->storefront)
			     : NULL;
	return cal ? rd_calendar_zone(cal) : "UTC";
}

/*
 * Render `name` with those of `values` its moment declares (the dispute
 * gives more than any one text uses).
 */
static int render_values(rd_service *svc, const rd_dispute *d,
			 const char *name, const value_set *values,
			 const char *tag, const char *zone, rd_rendered *out,
			 rd_error *err)
{
	const rd_tvar *decl = NULL;
	value_set chosen;
	size_t count = 0;
	int rc;

	memset(&chosen, 0, sizeof(chosen));
	if ((rc = rd_templates_vars(svc->templates, name, &decl, &count,
				    err)) < 0)
		return rc;
	for (size_t i = 0; i < values->count; i++)
		for (size_t k = 0; k < count; k++)
			if (strcmp(values->items[i].name, decl[k].name) == 0)
				value_put(&chosen, values->items[i]);
	return rd_templates_render(svc->templates, name, tag,
				   zone_for(svc, d, zone), chosen.items,
				   chosen.count, out, err);
}

int svc_render_template(rd_service *svc, const rd_dispute *d,
			const char *name, const json_t *vars,
			const char *tag, const char *zone, const char *author,
			int64_t now, rd_rendered *out, rd_error *err)
{
	rd_offer_record offer;
	value_set values;
	int rc;

	memset(&values, 0, sizeof(values));
	memset(out, 0, sizeof(*out));
	if (!svc->templates)
		return rd_error_set(err, RD_EINVALID, "this server has no "
				    "message templates (start it with "
				    "--templates DIR)");
	if (!name || !rd_templates_description(svc->templates, name))
		return rd_error_set_field(err, RD_EINVALID, "template.name",
					  "template.name: no template \"%.64s\" "
					  "(GET /v1/templates lists them)",
					  name ? name : "");
	if (vars && !json_is_object(vars))
		return refuse(err, "template.vars", "template.vars: must be an "
			      "object of the template's variables");
	if ((rc = known_values(svc, d, author, &values, &offer, now,
			       err)) < 0 ||
	    (vars && (rc = caller_values(svc, name, vars, d, &values,
					 err)) < 0))
		return rc;
	return render_values(svc, d, name, &values, tag, zone, out, err);
}

static int render_input(rd_service *svc, const rd_dispute *d,
			message_input *in, const char *author, int64_t now,
			rd_error *err)
{
	static const char *const members[] = { "name", "vars" };
	const char *key;
	json_t *value;
	int rc;

	if (!json_is_object(in->template_doc))
		return refuse(err, "template", "template: an object "
			      "{\"name\": a moment, \"vars\": {...}}");
	json_object_foreach((json_t *)in->template_doc, key, value) {
		if (!listed(key, members, 2))
			return refuse(err, "template", "template: unknown "
				      "member \"%.64s\" (known: name, vars)",
				      key);
	}
	if ((rc = svc_render_template(svc, d,
			json_string_value(json_object_get(in->template_doc,
							  "name")),
			json_object_get(in->template_doc, "vars"),
			in->language ? in->language : d->locale, in->time_zone,
			author, now, &in->render, err)) < 0)
		return rc;
	in->body = in->render.text;
	return check_body(in->body, "template", err);
}

/* ---- the reply clock ---- */

int svc_due_at(rd_service *svc, const rd_dispute *d, int64_t start,
	       int64_t seconds, int business_hours, int64_t *due,
	       rd_error *err)
{
	const rd_calendar *cal = NULL;

	if (business_hours && svc->calendars)
		cal = rd_calendars_for(svc->calendars, d->storefront);
	if (!cal) {
		*due = start > INT64_MAX - seconds ? INT64_MAX
						   : start + seconds;
		return RD_OK;
	}
	return rd_calendar_add(cal, start, seconds, due, err);
}

/*
 * After message n of direction `direction` on d at `now`: an inbound
 * message with none waiting before it starts the clock (the first answer
 * or a later one, as the dispute's workflow says), an outbound one stops
 * it. A terminal dispute, or one whose workflow has no reply clock, keeps
 * none.
 */
static int reply_clock(rd_service *svc, rd_dispute *d, const char *direction,
		       int64_t n, int64_t now, int *changed, rd_error *err)
{
	const rd_workflow *wf = NULL;
	const char *on_timeout = NULL;
	int64_t first = 0, next = 0, due = 0;
	int business = 0, answered = 0;
	int rc;

	*changed = 0;
	if (strcmp(direction, "outbound") == 0) {
		if (d->reply_due_at) {
			d->reply_due_at = d->reply_since = 0;
			*changed = 1;
			return svc_set_string(&d->reply_event, NULL, err);
		}
		return RD_OK;
	}
	if (strcmp(direction, "inbound") != 0 || d->reply_due_at)
		return RD_OK;
	if ((rc = svc_pinned_workflow(&wf, svc, d, err)) < 0)
		return rc;
	if (rd_workflow_is_terminal(wf, d->state) ||
	    !rd_workflow_reply(wf, &first, &next, &on_timeout, &business))
		return RD_OK;
	if ((rc = rd_store_message_answered(svc->store, d->id, &answered,
					    err)) < 0 ||
	    (rc = svc_due_at(svc, d, now, answered ? next : first, business,
			     &due, err)) < 0)
		return rc;
	d->reply_due_at = due;
	d->reply_since = n;
	*changed = 1;
	return svc_set_string(&d->reply_event, on_timeout, err);
}

/* ---- posting ---- */

json_t *rd_message_row_to_json(const rd_message_row *row)
{
	char at[RD_TIME_BUFSZ];
	json_t *evidence = json_loads(row->evidence ? row->evidence : "[]", 0,
				      NULL);
	json_t *call = row->call ? json_loads(row->call, 0, NULL) : NULL;

	rd_time_format(at, row->created_at);
	return json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:o, "
			 "s:o, s:o, s:o, s:o, s:s}",
			 "dispute_id", row->dispute_id,
			 "n", (json_int_t)row->n,
			 "version", (json_int_t)row->version,
			 "direction", row->direction,
			 "channel", row->channel,
			 "body", row->body ? row->body : "",
			 "language", row->language[0] ?
				json_string(row->language) : json_null(),
			 "author", row->author,
			 "role", row->role,
			 "key_id", row->key_id[0] ? json_string(row->key_id)
						  : json_null(),
			 "evidence", evidence ? evidence : json_array(),
			 "template", row->template_name[0] ?
				json_string(row->template_name) : json_null(),
			 "template_locale", row->template_name[0] ?
				json_pack("{s:s, s:b}", "locale",
					  row->template_locale, "fell_back",
					  row->fell_back) : json_null(),
			 "call", call ? call : json_null(),
			 "created_at", at);
}

static int fill_row(rd_message_row *row, const rd_dispute *d,
		    const message_input *in, const rd_actor *actor, int64_t n,
		    char *evidence, int64_t now, rd_error *err)
{
	const char *language = in->language;

	memset(row, 0, sizeof(*row));
	snprintf(row->direction, sizeof(row->direction), "%s", in->direction);
	if (in->template_doc)
		language = in->render.fell_back ? "en"
				: (in->language ? in->language : d->locale);
	else if (!language && strcmp(row->direction, "outbound") == 0)
		language = d->locale;
	snprintf(row->dispute_id, sizeof(row->dispute_id), "%s", d->id);
	row->n = n;
	row->version = d->version + 1;
	snprintf(row->channel, sizeof(row->channel), "%s", in->channel);
	snprintf(row->language, sizeof(row->language), "%s",
		 language ? language : "");
	snprintf(row->author, sizeof(row->author), "%s",
		 in->author ? in->author : actor->name);
	snprintf(row->role, sizeof(row->role), "%s", rd_role_name(actor->role));
	snprintf(row->key_id, sizeof(row->key_id), "%s", actor->key_id);
	if (in->template_doc) {
		snprintf(row->template_name, sizeof(row->template_name), "%s",
			 json_string_value(json_object_get(in->template_doc,
							   "name")));
		snprintf(row->template_locale, sizeof(row->template_locale),
			 "%s", in->render.locale);
		row->fell_back = in->render.fell_back;
	}
	row->created_at = now;
	row->evidence = evidence;
	if (!in->body)
		return rd_error_set(err, RD_EINTERNAL, "a message without a "
				    "body");
	if ((row->body = strdup(in->body)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if (in->call &&
	    (row->call = rd_json_dumps(in->call, JSON_COMPACT |
						 JSON_SORT_KEYS)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return RD_OK;
}

/* A message's file back into its row (rebuilding the index). */
int svc_message_from_json(rd_message_row *row, const json_t *doc,
			  const char *id, rd_error *err)
{
	const char *direction = json_string_value(json_object_get(doc,
							"direction"));
	const char *channel = json_string_value(json_object_get(doc,
							"channel"));
	const char *body = json_string_value(json_object_get(doc, "body"));
	const char *language = json_string_value(json_object_get(doc,
							"language"));
	const char *author = json_string_value(json_object_get(doc, "author"));
	const char *role = json_string_value(json_object_get(doc, "role"));
	const char *key = json_string_value(json_object_get(doc, "key_id"));
	const char *tmpl = json_string_value(json_object_get(doc, "template"));
	const char *at = json_string_value(json_object_get(doc, "created_at"));
	const json_t *evidence = json_object_get(doc, "evidence");
	const json_t *call = json_object_get(doc, "call");

	memset(row, 0, sizeof(*row));
	if (!direction || !listed(direction, directions, 3) || !channel ||
	    !listed(channel, channels, 6) || !body || !author || !role ||
	    !at || !json_is_array(evidence) ||
	    !json_is_integer(json_object_get(doc, "n")) ||
	    !json_is_integer(json_object_get(doc, "version")) ||
	    rd_time_parse(&row->created_at, at, err) < 0)
		return rd_error_set(err, RD_EINVALID, "a message file of "
				    "dispute %s is not a message", id);
	snprintf(row->dispute_id, sizeof(row->dispute_id), "%s", id);
	row->n = json_integer_value(json_object_get(doc, "n"));
	row->version = json_integer_value(json_object_get(doc, "version"));
	snprintf(row->direction, sizeof(row->direction), "%s", direction);
	snprintf(row->channel, sizeof(row->channel), "%s", channel);
	snprintf(row->language, sizeof(row->language), "%s",
		 language ? language : "");
	snprintf(row->author, sizeof(row->author), "%s", author);
	snprintf(row->role, sizeof(row->role), "%s", role);
	snprintf(row->key_id, sizeof(row->key_id), "%s", key ? key : "");
	snprintf(row->template_name, sizeof(row->template_name), "%s",
		 tmpl ? tmpl : "");
	if (tmpl) {
		const json_t *used = json_object_get(doc, "template_locale");
		const char *locale = json_string_value(json_object_get(used,
								"locale"));

		snprintf(row->template_locale, sizeof(row->template_locale),
			 "%s", locale ? locale : "");
		row->fell_back = json_is_true(json_object_get(used,
							      "fell_back"));
	}
	if ((row->body = strdup(body)) == NULL ||
	    (row->evidence = rd_json_dumps(evidence, JSON_COMPACT)) == NULL ||
	    (json_is_object(call) &&
	     (row->call = rd_json_dumps(call, JSON_COMPACT |
						JSON_SORT_KEYS)) == NULL)) {
		rd_message_row_clear(row);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	return RD_OK;
}

/* The event's fields: what the history shows of a message. */
static char *message_fields(const rd_message_row *row)
{
	char number[24];
	json_t *doc;
	char *text;

	snprintf(number, sizeof(number), "%lld", (long long)row->n);
	doc = json_pack("{s:s, s:s, s:s}", "n", number, "direction",
			row->direction, "channel", row->channel);
	text = doc ? rd_json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	return text;
}

int rd_service_message_post(rd_service *svc, const char *id,
			    const json_t *request, const rd_actor *actor,
			    int64_t now, json_t **answer, rd_error *err)
{
	tree_change change = { 0 };
	message_input in;
	rd_message_row row;
	rd_dispute *d = NULL;
	char head[RD_OID_BUFSZ], summary[160];
	char *evidence = NULL, *fields = NULL;
	int64_t n = 0;
	int changed = 0;
	int rc;

	*answer = NULL;
	memset(&row, 0, sizeof(row));
	if ((rc = parse_input(&in, request, actor, err)) < 0)
		goto done;
	if (!rd_id_valid(id)) {
		rc = rd_error_set_field(err, RD_ENOTFOUND, "id",
					"no dispute %s (not a dispute id)", id);
		goto done;
	}
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		goto done;
	if ((rc = svc_head(svc, id, head, err)) < 0 ||
	    (rc = rd_store_dispute_get(svc->store, id, &d, err)) < 0 ||
	    (rc = svc_actor_sees(actor, d, err)) < 0 ||
	    (rc = svc_owner_check_dispute(svc, actor, d, err)) < 0 ||
	    (rc = check_evidence(svc, id, in.evidence, &evidence, err)) < 0 ||
	    (in.template_doc &&
	     (rc = render_input(svc, d, &in, in.author ? in.author
						       : actor->name,
				now, err)) < 0) ||
	    (rc = rd_store_message_next(svc->store, id, &n, err)) < 0 ||
	    (rc = fill_row(&row, d, &in, actor, n, evidence, now, err)) < 0)
		goto fail;
	evidence = NULL;  /* the row's now */
	if ((rc = reply_clock(svc, d, row.direction, n, now, &changed,
			      err)) < 0 ||
	    (changed && (rc = rd_store_reply_set(svc->store, id,
						 d->reply_due_at,
						 d->reply_since,
						 d->reply_event, err)) < 0))
		goto fail;
	if ((fields = message_fields(&row)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto fail;
	}
	snprintf(summary, sizeof(summary), "message %lld, %s (%s)",
		 (long long)n, row.direction, row.channel);
	if (strcmp(row.direction, "internal") == 0)
		change.trailers = SVC_TRAILER_INTERNAL "\n";
	if ((rc = svc_change_json(&change, rd_message_row_to_json(&row), err,
				  SVC_MESSAGE_PATH, (long long)n)) < 0 ||
	    (rc = svc_record_event(svc, d, d->version, head, &change, actor,
				   now, "message", d->state, fields, NULL,
				   summary, err)) < 0 ||
	    (rc = rd_store_message_insert(svc->store, &row, 0, err)) < 0)
		goto fail;
	if (strcmp(row.direction, "outbound") == 0 &&
	    (rc = svc_outbox_add(svc, d, NULL, "message.created", now,
				 json_pack("{s:o}", "message",
					   rd_message_row_to_json(&row)),
				 err)) < 0)
		goto fail;
	if ((rc = svc_head(svc, id, head, err)) < 0 ||
	    (rc = svc_commit(svc, err)) < 0)
		goto fail;
	/* what a retry under the same Idempotency-Key is answered too */
	*answer = rd_message_row_to_json(&row);
	if (!*answer ||
	    json_object_set_new(*answer, "commit", json_string(head)) != 0) {
		json_decref(*answer);
		*answer = NULL;
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	goto done;
fail:
	svc_rollback(svc);
done:
	svc_change_free(&change);
	rd_message_row_clear(&row);
	rd_rendered_clear(&in.render);
	rd_dispute_free(d);
	free(evidence);
	free(fields);
	return rc;
}

int rd_service_messages_list(rd_service *svc, const char *id,
			     const rd_actor *actor, int64_t after,
			     size_t limit, json_t **answer, rd_error *err)
{
	rd_message_row *rows = NULL;
	rd_dispute *d = NULL;
	size_t count = 0;
	json_t *items = NULL;
	int rc;

	*answer = NULL;
	if (limit == 0)
		limit = MESSAGE_PAGE_DEFAULT;
	if (limit > MESSAGE_PAGE_MAX)
		return refuse(err, "limit", "limit: must be from 1 to %d",
			      MESSAGE_PAGE_MAX);
	if (after < 0)
		return refuse(err, "after", "after: a message number (0 or "
			      "more)");
	if ((rc = rd_service_dispute_get(svc, id, &d, err)) < 0 ||
	    (rc = svc_actor_sees(actor, d, err)) < 0)
		goto done;
	/* one more than the page: whether another page follows */
	if ((rc = rd_store_messages_list(svc->store, id, after,
					 limit + 1,
					 rd_service_message_visible(actor,
								    "internal"),
					 &rows, &count, err)) < 0)
		goto done;
	if ((items = json_array()) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < count && i < limit; i++)
		if (json_array_append_new(items,
					  rd_message_row_to_json(&rows[i]))) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	*answer = json_pack("{s:s, s:O, s:o}", "dispute_id", id, "items",
			    items, "next_after",
			    count > limit ? json_integer(rows[limit - 1].n)
					  : json_null());
	if (!*answer)
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
done:
	json_decref(items);
	rd_message_rows_free(rows, count);
	rd_dispute_free(d);
	return rc;
}

/* ---- previews and the templates' list ---- */

int rd_service_message_preview(rd_service *svc, const char *id,
			       const json_t *request, const rd_actor *actor,
			       int64_t now, json_t **answer, rd_error *err)
{
	static const char *const members[] = { "template", "language",
						"time_zone", "author" };
	const char *language = NULL, *zone = NULL, *author = NULL;
	const json_t *tmpl = json_object_get(request, "template");
	rd_rendered out;
	rd_dispute *d = NULL;
	const char *key;
	json_t *value;
	int rc;

	*answer = NULL;
	memset(&out, 0, sizeof(out));
	if (actor->role != RD_ROLE_AGENT && actor->role != RD_ROLE_ADMIN)
		return rd_error_set(err, RD_EFORBIDDEN, "texts to the buyer "
				    "are written by agents and admins");
	if (!json_is_object(request))
		return refuse(err, NULL, "a preview must be a JSON object");
	json_object_foreach((json_t *)request, key, value) {
		if (!listed(key, members, 4))
			return refuse(err, key, "unknown member \"%.64s\" "
				      "(known: template, language, time_zone, "
				      "author)", key);
	}
	if ((rc = optional_string(request, "language", &language, err)) < 0 ||
	    (rc = optional_string(request, "time_zone", &zone, err)) < 0 ||
	    (rc = optional_string(request, "author", &author, err)) < 0)
		return rc;
	if (language && !rd_locale_tag_valid(language))
		return refuse(err, "language", "language: \"%.40s\" is not a "
			      "BCP 47 language tag such as de-DE", language);
	if (zone && !rd_locale_zone_valid(zone))
		return refuse(err, "time_zone", "time_zone: \"%.60s\" is not "
			      "an IANA time zone such as Europe/Berlin", zone);
	if (!json_is_object(tmpl))
		return refuse(err, "template", "template: an object "
			      "{\"name\": a moment, \"vars\": {...}}");
	if ((rc = rd_service_dispute_get(svc, id, &d, err)) < 0 ||
	    (rc = svc_actor_sees(actor, d, err)) < 0 ||
	    (rc = svc_render_template(svc, d,
			json_string_value(json_object_get(tmpl, "name")),
			json_object_get(tmpl, "vars"),
			language ? language : d->locale, zone,
			author ? author : actor->name, now, &out, err)) < 0)
		goto done;
	*answer = json_pack("{s:s, s:s, s:s, s:b}", "body", out.text,
			    "language", out.fell_back ? "en"
				: (language ? language
					    : (d->locale ? d->locale : "en")),
			    "template_locale", out.locale, "fell_back",
			    out.fell_back);
	if (!*answer)
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
done:
	rd_rendered_clear(&out);
	rd_dispute_free(d);
	return rc;
}

static const char *tvar_type_name(rd_tvar_type type)
{
	switch (type) {
	case RD_TVAR_MONEY:
		return "money";
	case RD_TVAR_DATE:
		return "date";
	default:
		return "text";
	}
}

int rd_service_templates(rd_service *svc, json_t **answer, rd_error *err)
{
	json_t *items = json_array(), *locales = json_array();
	int rc = RD_OK;

	*answer = NULL;
	if (!items || !locales)
		goto nomem;
	for (size_t i = 0; svc->templates &&
			   i < rd_templates_locale_count(svc->templates);
	     i++)
		if (json_array_append_new(locales, json_string(
				rd_templates_locale_at(svc->templates, i))))
			goto nomem;
	for (size_t i = 0;
	     svc->templates && i < rd_templates_count(svc->templates); i++) {
		const char *name = rd_templates_name_at(svc->templates, i);
		const rd_tvar *vars = NULL;
		size_t count = 0;
		json_t *list = json_array();

		if (!list ||
		    (rc = rd_templates_vars(svc->templates, name, &vars,
					    &count, err)) < 0) {
			json_decref(list);
			if (rc < 0)
				goto done;
			goto nomem;
		}
		for (size_t k = 0; k < count; k++)
			json_array_append_new(list, json_pack(
				"{s:s, s:s, s:s}", "name", vars[k].name,
				"type", tvar_type_name(vars[k].type),
				"description", vars[k].description ?
					vars[k].description : ""));
		if (json_array_append_new(items, json_pack(
			    "{s:s, s:s, s:o}", "name", name, "description",
			    rd_templates_description(svc->templates, name),
			    "vars", list)))
			goto nomem;
	}
	*answer = json_pack("{s:o, s:o}", "locales", locales, "items", items);
	locales = items = NULL;
	if (*answer)
		goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory");
done:
	json_decref(items);
	json_decref(locales);
	return rc;
}

/* ---- the buyer's text of a proposed offer ---- */

/* The moment that tells the buyer of an offer of these terms. */
static const char *offer_moment(const rd_offer_terms *terms)
{
	switch (terms->type) {
	case RD_OFFER_REFUND_KEEP_ITEM:
		return "offer_refund_keep_item";
	case RD_OFFER_REFUND_WITH_RETURN:
		return "offer_refund_with_return";
	case RD_OFFER_RESHIPMENT:
		return terms->buyer_copay > 0 ? "offer_reshipment_copay"
					      : "offer_reshipment";
	case RD_OFFER_PARTIAL_DISCOUNT:
		return "offer_partial_discount";
	case RD_OFFER_TYPE_COUNT:
		break;
	}
	return NULL;
}

int rd_service_offer_text(rd_service *svc, const rd_dispute *d,
			  const rd_offer_terms *terms, const char *tag,
			  const char *zone, int64_t now, json_t **out,
			  rd_error *err)
{
	const rd_workflow *wf = NULL;
	const char *moment = offer_moment(terms);
	int64_t within = 0, respond_by = now;
	rd_rendered text;
	value_set values;
	int rc;

	*out = NULL;
	memset(&text, 0, sizeof(text));
	memset(&values, 0, sizeof(values));
	if (!moment)
		return rd_error_set(err, RD_EINTERNAL, "an offer of no known "
				    "type");
	/* the buyer answers by the end of the offer's SLA, were it made now */
	if ((rc = svc_pinned_workflow(&wf, svc, d, err)) < 0)
		return rc;
	if (rd_workflow_sla(wf, "offer_pending", &within, NULL) &&
	    (rc = svc_due_at(svc, d, now, within,
			     rd_workflow_sla_business(wf, "offer_pending"),
			     &respond_by, err)) < 0)
		return rc;
	if (!svc->templates)
		return rd_error_set(err, RD_EINVALID, "this server has no "
				    "message templates (start it with "
				    "--templates DIR)");
	/* only what the buyer is told: never a cost of the seller's */
	value_text(&values, "order_ref", d->order_ref);
	if (d->item_count > 0)
		value_text(&values, "item", d->items[0].title
						    ? d->items[0].title
						    : d->items[0].sku);
	value_money(&values, "amount", terms->buyer_refund, d->currency);
	value_money(&values, "buyer_pays", terms->buyer_copay, d->currency);
	value_date(&values, "respond_by", respond_by);
	if ((rc = render_values(svc, d, moment, &values, tag, zone, &text,
				err)) < 0)
		return rc;
	*out = json_pack("{s:s, s:s, s:s, s:b}", "template", moment, "body",
			 text.text, "template_locale", text.locale,
			 "fell_back", text.fell_back);
	rd_rendered_clear(&text);
	return *out ? RD_OK : rd_error_set(err, RD_ENOMEM, "out of memory");
}
