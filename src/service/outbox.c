/*
 * What a change tells storefronts: the events it writes into the outbox,
 * in its own transaction, so that a change and its events commit together
 * or not at all (docs/webhooks.md lists them). Each event's data is the
 * dispute as GET /v1/disputes/{id} answers it after the change, with its
 * version, plus the event's own fields; its id ("evt_" and a ULID) is made
 * once, here, and every delivery and the feed carry it unchanged. The
 * dispute's document is built once for all the events of one change (an
 * accepted refund writes offer.accepted, dispute.state_changed and
 * payment.due), each event adding its own fields to a copy of its top level.
 *
 * This file decides which events a change causes and what they say; it
 * never sends anything (service/webhooks.c and src/webhook/ do).
 */
#include "service_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/clock.h"
#include "redress/json.h"
#include "redress/store.h"
#include "redress/workflow.h"

static const char *const event_types[] = {
	"dispute.opened",
	"dispute.state_changed",
	"offer.made",
	"offer.accepted",
	"offer.rejected",
	"offer.expired",
	"payment.due",
	"dispute.resolved",
	"dispute.closed",
	"evidence.added",
	"sla.breached",
	"message.created",
};

const char *const *rd_event_types(size_t *count)
{
	*count = sizeof(event_types) / sizeof(event_types[0]);
	return event_types;
}

int rd_event_type_valid(const char *type)
{
	for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]);
	     i++)
		if (strcmp(event_types[i], type) == 0)
			return 1;
	return 0;
}

int svc_outbox_add(rd_service *svc, const rd_dispute *d, json_t **doc,
		   const char *type, int64_t now, json_t *extra, rd_error *err)
{
	char ulid[RD_ID_BUFSZ], when[RD_TIME_BUFSZ];
	rd_outbox_event ev;
	json_t *own = NULL;
	json_t *data = NULL;
	json_t *body = NULL;
	int rc;

	if (!doc)
		doc = &own;
	if (!*doc)
		*doc = rd_dispute_to_json(d);
	/* a copy of the document's top level: the extra fields are this
	   event's alone, the dispute's values are shared */
	if (!*doc || !(data = json_copy(*doc)) || !extra ||
	    json_object_update(data, extra) != 0) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	rd_time_format(when, now);
	body = json_pack("{s:s, s:s, s:O}", "type", type, "timestamp", when,
			 "data", data);
	if (!body) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	memset(&ev, 0, sizeof(ev));
	if ((rc = rd_id_generate(ulid, now, err)) < 0)
		goto done;
	snprintf(ev.id, sizeof(ev.id), "evt_%s", ulid);
	snprintf(ev.dispute_id, sizeof(ev.dispute_id), "%s", d->id);
	snprintf(ev.storefront, sizeof(ev.storefront), "%s",
		 d->storefront ? d->storefront : "");
	snprintf(ev.type, sizeof(ev.type), "%s", type);
	ev.version = d->version;
	ev.created_at = now;
	if ((ev.payload = rd_json_dumps(body, JSON_COMPACT |
					      JSON_PRESERVE_ORDER)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	rc = rd_store_outbox_add(svc->store, &ev, err);
	free(ev.payload);
done:
	json_decref(extra);
	json_decref(data);
	json_decref(body);
	json_decref(own);
	return rc;
}

/* {"offer": the offer as the offers route lists it, with its new status} */
static json_t *offer_fields(const rd_offer_record *offer, const char *status,
			    const char *currency)
{
	rd_offer_record copy = *offer;

	if (status)
		snprintf(copy.status, sizeof(copy.status), "%s", status);
	return json_pack("{s:o}", "offer",
			 rd_offer_record_to_json(&copy, currency));
}

/* payment.due: what the storefront must pay now, and how to confirm it. */
static int payment_due(rd_service *svc, const rd_dispute *d, json_t **doc,
		       int64_t now, rd_error *err)
{
	const char *action = rd_payable_action(d->state);
	const char *confirm = rd_payable_confirm_event(d->state);
	char due[RD_TIME_BUFSZ];
	rd_offer_record offer;
	json_t *payment;
	int found = 0;
	int rc;

	if ((rc = rd_store_offer_accepted(svc->store, d->id, &offer, &found,
					  err)) < 0)
		return rc;
	if (d->deadline_at)
		rd_time_format(due, d->deadline_at);
	payment = json_pack("{s:s, s:o, s:s, s:o, s:o, s:s, s:[s]}",
			    "action", action,
			    "amount", found ? json_integer(offer.buyer_refund)
					    : json_null(),
			    "currency", d->currency,
			    "offer_id", found ? json_string(offer.offer_id)
					      : json_null(),
			    "due_at", d->deadline_at ? json_string(due)
						     : json_null(),
			    "confirm_event", confirm,
			    "confirm_fields", RD_PAYABLE_CONFIRM_FIELD);
	return svc_outbox_add(svc, d, doc, "payment.due", now,
			      json_pack("{s:o}", "payment", payment), err);
}

int svc_outbox_transition(rd_service *svc, const rd_dispute *d,
			  json_t **doc, const char *from, const char *event,
			  int64_t now, rd_error *err)
{
	const rd_workflow *wf = NULL;
	int rc;

	if (!from || strcmp(from, d->state) == 0)
		return RD_OK;
	if ((rc = svc_outbox_add(svc, d, doc, "dispute.state_changed", now,
				 json_pack("{s:s, s:s}", "previous_state",
					   from, "event", event), err)) < 0 ||
	    (rc = svc_pinned_workflow(&wf, svc, d, err)) < 0)
		return rc;
	if (rd_payable_action(d->state) &&
	    (rc = payment_due(svc, d, doc, now, err)) < 0)
		return rc;
	if (!rd_workflow_is_terminal(wf, d->state))
		return RD_OK;
	return svc_outbox_add(svc, d, doc, strcmp(d->state, "closed") == 0
						   ? "dispute.closed"
						   : "dispute.resolved",
			      now, json_pack("{s:s, s:s}", "previous_state",
					     from, "event", event), err);
}

int svc_outbox_offer(rd_service *svc, const rd_dispute *d, json_t **doc,
		     const char *type, const rd_offer_record *offer,
		     const char *status, int64_t now, rd_error *err)
{
	return svc_outbox_add(svc, d, doc, type, now,
			      offer_fields(offer, status, d->currency), err);
}
