/*
 * Fuzz target: the settlement policy loader (rd_policy_parse,
 * workflows/policy.json, docs/offers.md) and, for every policy it accepts,
 * the offer engine under it.
 *
 * Invariants: a refused policy is a well-formed RD_EDEFINITION naming the
 * origin; an accepted one hashes its bytes and loads again the same; under
 * it, for every reason and for disputes of several currencies and shapes
 * (the worked example, unknown costs, one minor unit, the largest amounts,
 * a price of zero), every answer of rd_offer_propose keeps the promises of
 * offers.h (fuzz_check_proposals) and so does every counter-offer against
 * each proposed offer (fuzz_check_counter), amounts at and around the
 * rungs and the limits included.
 */
#include "fuzz.h"
#include "offers.h"

#include <stdlib.h>
#include <string.h>

#include "redress/money.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);
	return 0;
}

/* The shapes of dispute every accepted policy is tried on. */
struct shape {
	const char *currency;
	int64_t unit_price[2], unit_cost[2], quantity[2];
	size_t items;
	int64_t shipping_paid, ship_cost, return_cost;
};

#define UNSET RD_AMOUNT_UNSET
#define BIG RD_MONEY_INPUT_MAX

static const struct shape shapes[] = {
	/* SPEC section 5's worked example */
	{ "USD", { 10000 }, { 4000 }, { 1 }, 1, 1500, 3000, 2500 },
	/* unknown goods cost, shipping and return costs */
	{ "JPY", { 12345, 999 }, { UNSET, 500 }, { 1, 3 }, 2, 700, UNSET,
	  UNSET },
	/* one minor unit, and a return dearer than everything */
	{ "KWD", { 1 }, { 1 }, { 1 }, 1, 0, 0, 50000 },
	/* the largest amounts accepted */
	{ "USD", { BIG }, { BIG }, { 1 }, 1, BIG, BIG, BIG },
	/* nothing paid for the goods */
	{ "CLF", { 0 }, { 0 }, { 5 }, 1, 1, 1, 0 },
	/* a replacement dearer than the price; cheap return */
	{ "BHD", { 3333 }, { 5000 }, { 3 }, 1, 125, 9000, 1 },
};

#define SHAPE_COUNT (sizeof(shapes) / sizeof(shapes[0]))

static void try_counters(const rd_policy *policy, const rd_offer_inputs *in,
			 const rd_proposals *set)
{
	fuzz_figures f;

	fuzz_offer_figures(&f, policy, in->dispute);
	for (size_t i = 0; i < set->proposed && i < 6; i++) {
		const rd_offer_terms *pending = &set->items[i].terms;
		int64_t at = pending->type == RD_OFFER_RESHIPMENT
				     ? pending->buyer_copay
				     : pending->buyer_refund;
		const int64_t amounts[] = {
			0, at - 1, at, at + 1, f.price, f.paid, f.paid + 1,
			f.replacement, f.replacement + 1, -1,
		};

		for (size_t k = 0; k < sizeof(amounts) / sizeof(amounts[0]);
		     k++)
			fuzz_check_counter(policy, in, pending, amounts[k]);
	}
}

static void try_engine(const rd_policy *policy, size_t shape_index)
{
	const struct shape *sh = &shapes[shape_index];
	rd_proposals *set = malloc(sizeof(*set));
	rd_error err;

	FUZZ_CHECK(set != NULL);
	for (size_t r = 0; r < RD_REASON_COUNT; r++) {
		rd_dispute *d = fuzz_dispute_make(sh->currency, (rd_reason)r,
			sh->unit_price, sh->unit_cost, sh->quantity, sh->items,
			sh->shipping_paid, sh->ship_cost, sh->return_cost);
		rd_offer_inputs in;

		memset(&in, 0, sizeof(in));
		in.dispute = d;
		FUZZ_CHECK(rd_offer_propose(set, policy, &in, &err) == RD_OK);
		fuzz_check_proposals(set, policy, &in);
		try_counters(policy, &in, set);
		/* the best offer declined: still every promise kept */
		if (set->proposed > 0) {
			rd_offer_terms declined = set->items[0].terms;

			in.declined = &declined;
			in.declined_count = 1;
			FUZZ_CHECK(rd_offer_propose(set, policy, &in, &err) ==
				   RD_OK);
			fuzz_check_proposals(set, policy, &in);
		}
		rd_dispute_free(d);
	}
	free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rd_policy *policy = NULL, *again = NULL;
	const char *hash;
	rd_error err;
	int rc;

	rc = rd_policy_parse(&policy, (const char *)data, size, "fuzz.json",
			     &err);
	if (rc < 0) {
		FUZZ_CHECK(policy == NULL);
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EDEFINITION);
		FUZZ_CHECK(strncmp(err.message, "fuzz.json", 9) == 0);
		return 0;
	}
	FUZZ_CHECK(memcmp(rd_policy_source(policy), data, size) == 0);
	FUZZ_CHECK(rd_policy_parse(&again, (const char *)data, size, "again",
				   &err) == RD_OK);
	FUZZ_CHECK(strcmp(rd_policy_hash(again), rd_policy_hash(policy)) == 0);
	FUZZ_CHECK(rd_policy_version(policy) >= 1);
	rd_policy_free(again);
	/* the worked example always, and one more shape the hash picks */
	hash = rd_policy_hash(policy);
	try_engine(policy, 0);
	try_engine(policy, 1 + (size_t)(hash[0] + hash[1]) % (SHAPE_COUNT - 1));
	rd_policy_free(policy);
	return 0;
}
