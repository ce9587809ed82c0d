/*
 * Payables: what each storefront owes its buyers now. A dispute whose
 * settlement was accepted waits in refund_pending or discount_pending until
 * the storefront pays and confirms with refund_issued or discount_issued;
 * the amount is that of the accepted offer.
 *
 * This file only reads: it never records anything and never judges a
 * transition (confirming a payment is an ordinary event, decided by the
 * workflow like any other).
 */
#include "service_int.h"

#include <stdlib.h>
#include <string.h>

#include "redress/clock.h"

/* Each payable state, what it asks for and the event that confirms it. */
static const struct {
	const char *state;
	const char *action;
	const char *confirm_event;
} payable_states[] = {
	{ RD_PAYABLE_REFUND_STATE, "refund", "refund_issued" },
	{ RD_PAYABLE_DISCOUNT_STATE, "discount", "discount_issued" },
};

#define PAYABLE_STATE_COUNT \
	(sizeof(payable_states) / sizeof(payable_states[0]))

static size_t payable_index(const char *state)
{
	for (size_t i = 0; state && i < PAYABLE_STATE_COUNT; i++)
		if (strcmp(payable_states[i].state, state) == 0)
			return i;
	return PAYABLE_STATE_COUNT;
}

const char *rd_payable_action(const char *state)
{
	size_t i = payable_index(state);

	return i < PAYABLE_STATE_COUNT ? payable_states[i].action : NULL;
}

const char *rd_payable_confirm_event(const char *state)
{
	size_t i = payable_index(state);

	return i < PAYABLE_STATE_COUNT ? payable_states[i].confirm_event
				       : NULL;
}

int rd_service_payables(rd_service *svc, const char *storefront,
			const char *cursor, size_t limit,
			rd_payable_row **out, size_t *count,
			char **next_cursor, rd_error *err)
{
	rd_payable_filter filter;

	_Static_assert(PAYABLE_STATE_COUNT == 2,
		       "rd_payable_filter holds two states");
	*out = NULL;
	*count = 0;
	*next_cursor = NULL;
	if (storefront && !rd_storefront_valid(storefront))
		return rd_error_set_field(err, RD_EINVALID, "storefront",
					  "storefront: \"%.64s\" is not a "
					  "storefront name (a lower-case "
					  "letter or digit, then up to 63 of "
					  "a-z 0-9 . _ -)", storefront);
	memset(&filter, 0, sizeof(filter));
	filter.states[0] = payable_states[0].state;
	filter.states[1] = payable_states[1].state;
	filter.storefront = storefront;
	filter.cursor = cursor;
	filter.limit = limit;
	return rd_store_payables_list(svc->store, &filter, out, count,
				      next_cursor, err);
}

json_t *rd_payable_to_json(const rd_payable_row *p, int64_t now)
{
	const char *action = rd_payable_action(p->state);
	const char *confirm = rd_payable_confirm_event(p->state);
	char due[RD_TIME_BUFSZ];

	if (p->due_at)
		rd_time_format(due, p->due_at);
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:b,"
			 " s:I, s:o, s:[s]}",
			 "dispute_id", p->dispute_id,
			 "order_ref", p->order_ref,
			 "storefront", p->storefront,
			 "state", p->state,
			 "action", action ? json_string(action) : json_null(),
			 "amount", p->has_offer
				? json_integer((json_int_t)p->buyer_refund)
				: json_null(),
			 "currency", p->currency,
			 "offer_id", p->has_offer ? json_string(p->offer_id)
						  : json_null(),
			 "due_at", p->due_at ? json_string(due) : json_null(),
			 "overdue", p->due_at && p->due_at <= now,
			 "version", (json_int_t)p->version,
			 "confirm_event",
			 confirm ? json_string(confirm) : json_null(),
			 "confirm_fields", RD_PAYABLE_CONFIRM_FIELD);
}
