/*
 * Fuzz target: the opening dispute document (rd_dispute_parse, SPEC
 * section 4), the body of POST /v1/disputes and of `redress open`.
 *
 * Invariants: a refusal is a well-formed error the API can answer; an
 * accepted document obeys every limit of dispute.h (items, quantities,
 * amounts, text, totals that cannot overflow); and it survives the trip
 * the service makes with it: to JSON with its lifecycle members, through
 * the dispute.json snapshot reader (rd_dispute_from_snapshot), and back to
 * the same JSON, and a clone equals the original.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "redress/money.h"
#include "redress/service.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);
	return 0;
}

static int text_ok(const char *s, size_t max, int multiline)
{
	return s == NULL || (strlen(s) <= max &&
			     rd_text_check(s, strlen(s), multiline) ==
				     RD_TEXT_OK);
}

static void check_limits(const rd_dispute *d)
{
	int64_t price = 0, goods = 0, total = 0;
	rd_error err;

	FUZZ_CHECK(d->order_ref && d->storefront && d->buyer_ref);
	FUZZ_CHECK(rd_storefront_valid(d->storefront));
	FUZZ_CHECK(text_ok(d->order_ref, RD_DISPUTE_MAX_REF, 0));
	FUZZ_CHECK(text_ok(d->buyer_ref, RD_DISPUTE_MAX_REF, 0));
	FUZZ_CHECK(text_ok(d->description, RD_DISPUTE_MAX_TEXT, 1));
	FUZZ_CHECK(rd_currency_find(d->currency) != NULL);
	FUZZ_CHECK((unsigned)d->reason < RD_REASON_COUNT);
	FUZZ_CHECK((unsigned)d->channel < RD_CHANNEL_COUNT);
	FUZZ_CHECK(d->item_count >= 1 &&
		   d->item_count <= RD_DISPUTE_MAX_ITEMS);
	for (size_t i = 0; i < d->item_count; i++) {
		const rd_item *it = &d->items[i];

		FUZZ_CHECK(text_ok(it->sku, RD_DISPUTE_MAX_REF, 0));
		FUZZ_CHECK(text_ok(it->title, RD_DISPUTE_MAX_TITLE, 0));
		FUZZ_CHECK(it->quantity >= 1 &&
			   it->quantity <= RD_DISPUTE_MAX_QUANTITY);
		FUZZ_CHECK(it->unit_price >= 0 &&
			   it->unit_price <= RD_MONEY_INPUT_MAX);
		FUZZ_CHECK(it->unit_cost == RD_AMOUNT_UNSET ||
			   (it->unit_cost >= 0 &&
			    it->unit_cost <= RD_MONEY_INPUT_MAX));
	}
	FUZZ_CHECK(d->shipping_paid >= 0 &&
		   d->shipping_paid <= RD_MONEY_INPUT_MAX);
	FUZZ_CHECK(d->ship_cost == RD_AMOUNT_UNSET ||
		   (d->ship_cost >= 0 && d->ship_cost <= RD_MONEY_INPUT_MAX));
	FUZZ_CHECK(d->return_cost == RD_AMOUNT_UNSET ||
		   (d->return_cost >= 0 &&
		    d->return_cost <= RD_MONEY_INPUT_MAX));
	/* the totals the offer engine needs never overflow */
	FUZZ_CHECK(rd_dispute_price(&price, d, &err) == RD_OK);
	FUZZ_CHECK(price >= 0 && price <= RD_MONEY_INPUT_MAX);
	FUZZ_CHECK(rd_dispute_goods_cost(&goods, d, &err) == RD_OK);
	FUZZ_CHECK(goods == RD_AMOUNT_UNSET ||
		   (goods >= 0 && goods <= RD_MONEY_INPUT_MAX));
	FUZZ_CHECK(rd_money_add(&total, price, d->shipping_paid, &err) ==
		   RD_OK);
	/* lifecycle members never come from the document */
	FUZZ_CHECK(d->id[0] == '\0' && !d->state && !d->outcome &&
		   !d->assignee && d->version == 0);
}

/* The dispute as the service records it, read back by the snapshot reader. */
static void check_round_trip(rd_dispute *d)
{
	rd_dispute *back = NULL, *copy = NULL;
	json_t *doc = NULL, *again = NULL, *copied = NULL, *reread = NULL;
	char *text = NULL;
	json_error_t jerr;
	rd_error err;

	memcpy(d->id, "01KA0000000000000000000000", RD_ID_BUFSZ);
	d->state = strdup("opened");
	d->workflow_name = strdup("dispute");
	FUZZ_CHECK(d->state && d->workflow_name);
	d->workflow_version = 2;
	memset(d->workflow_hash, 'a', 64);
	d->workflow_hash[64] = '\0';
	d->version = 1;
	d->created_at = d->updated_at = 1795404669;

	doc = rd_dispute_to_json(d);
	FUZZ_CHECK(doc != NULL);
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	FUZZ_CHECK(text != NULL);
	reread = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(reread != NULL);
	FUZZ_CHECK(rd_dispute_from_snapshot(&back, reread, &err) == RD_OK);
	again = rd_dispute_to_json(back);
	FUZZ_CHECK(again != NULL && json_equal(doc, again));

	copy = rd_dispute_clone(d);
	FUZZ_CHECK(copy != NULL);
	copied = rd_dispute_to_json(copy);
	FUZZ_CHECK(copied != NULL && json_equal(doc, copied));

	json_decref(doc);
	json_decref(again);
	json_decref(copied);
	json_decref(reread);
	free(text);
	rd_dispute_free(back);
	rd_dispute_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rd_dispute *d = NULL;
	rd_error err;
	int rc;

	rc = rd_dispute_parse(&d, (const char *)data, size, &err);
	if (rc < 0) {
		FUZZ_CHECK(d == NULL);
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EINVALID || rc == RD_ETOOLARGE);
		fuzz_check_problem(&err);
		return 0;
	}
	FUZZ_CHECK(d != NULL);
	check_limits(d);
	check_round_trip(d);
	rd_dispute_free(d);
	return 0;
}
