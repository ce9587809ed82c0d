/*
 * offer-bench: how many settlement proposals the offer engine computes per
 * second on one core (one thread). It loads the policy, makes 1,024
 * disputes varied in reason, currency, item count and amounts (opening
 * documents parsed by rd_dispute_parse, as the service reads them), some
 * with unknown costs, some with evidence or declined offers, then calls
 * rd_offer_propose over them in a loop for the given time. Everything is
 * prepared before the clock starts: the loop measures the engine only.
 *
 *   offer-bench POLICY_FILE [SECONDS]
 *       prints: proposals=N seconds=S proposals_per_s=X offers_per_call=Y
 *
 * It must never print a figure from a failed call: any error stops it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redress/dispute.h"
#include "redress/offer.h"

#define DISPUTES 1024

static const char *const reasons[] = {
	"not_received", "damaged", "defective", "missing_parts",
	"not_as_described", "wrong_item", "late_delivery", "changed_mind",
	"other",
};
static const char *const currencies[] = { "USD", "EUR", "JPY", "KWD", "GBP" };
static const char *const kinds[] = { "photo", "tracking_record", "note" };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1))) {
		if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		} else {
			buf[size] = '\0';
			*len = (size_t)size;
		}
	}
	fclose(f);
	return buf;
}

/* Dispute number i: reason, currency, 1 to 3 items, costs known or not. */
static int make_dispute(rd_dispute **out, unsigned i, rd_error *err)
{
	char doc[2048], items[1024];
	size_t used = 0;
	unsigned item_count = 1 + i % 3;
	int64_t price = 500 + (int64_t)(i * 7919 % 200000);
	int costs_known = i % 5 != 0;

	for (unsigned k = 0; k < item_count; k++) {
		int64_t unit_price = price / (k + 1);
		char cost[48] = "";

		if (costs_known)
			snprintf(cost, sizeof(cost), ",\"unit_cost\":%" PRId64,
				 unit_price * 2 / 5);
		used += (size_t)snprintf(items + used, sizeof(items) - used,
				"%s{\"sku\":\"SKU-%u\",\"title\":\"Item "
				"%u\",\"quantity\":%u,\"unit_price\":%"
				PRId64 "%s}", k ? "," : "", k, k,
				1 + (i + k) % 2, unit_price, cost);
	}
	snprintf(doc, sizeof(doc),
		 "{\"order_ref\":\"ORD-%u\",\"storefront\":\"bench-shop\","
		 "\"buyer_ref\":\"cust-%u\",\"currency\":\"%s\","
		 "\"reason\":\"%s\",\"channel\":\"chat\",\"locale\":\"en-US\","
		 "\"items\":[%s],\"shipping_paid\":%" PRId64 "%s}",
		 i, i, currencies[i % 5], reasons[i % 9], items,
		 (int64_t)(i % 4) * 500,
		 costs_known ? ",\"ship_cost\":3000,\"return_cost\":2500" : "");
	return rd_dispute_parse(out, doc, strlen(doc), err);
}

int main(int argc, char **argv)
{
	static rd_proposals out;
	rd_dispute *disputes[DISPUTES] = { 0 };
	rd_offer_terms declined = { RD_OFFER_PARTIAL_DISCOUNT, 1000, 0, 1000 };
	rd_policy *policy = NULL;
	rd_error err;
	double seconds = argc > 2 ? strtod(argv[2], NULL) : 5;
	double start, elapsed;
	uint64_t calls = 0, offers = 0;
	size_t len = 0;
	char *text;
	int rc = 1;

	rd_error_clear(&err);
	if (argc < 2 || argc > 3 || seconds <= 0) {
		fprintf(stderr, "usage: offer-bench POLICY_FILE [SECONDS]\n");
		return 2;
	}
	if (!(text = read_file(argv[1], &len))) {
		fprintf(stderr, "offer-bench: cannot read %s\n", argv[1]);
		return 1;
	}
	if (rd_policy_parse(&policy, text, len, argv[1], &err) < 0)
		goto fail;
	for (unsigned i = 0; i < DISPUTES; i++)
		if (make_dispute(&disputes[i], i, &err) < 0)
			goto fail;

	start = now_s();
	do {
		/* a batch between clock reads: the clock is not measured */
		for (unsigned b = 0; b < 256; b++) {
			unsigned i = (unsigned)(calls % DISPUTES);
			rd_offer_inputs in = { 0 };

			in.dispute = disputes[i];
			if (i % 3 == 0) {
				in.evidence_kinds = kinds;
				in.evidence_kind_count = 1 + i % 3;
			}
			if (i % 4 == 0) {
				in.declined = &declined;
				in.declined_count = 1;
			}
			if (rd_offer_propose(&out, policy, &in, &err) < 0)
				goto fail;
			offers += out.proposed;
			calls++;
		}
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	printf("proposals=%" PRIu64 " seconds=%.2f proposals_per_s=%.0f "
	       "offers_per_call=%.1f\n", calls, elapsed,
	       (double)calls / elapsed, (double)offers / (double)calls);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "offer-bench: %s\n", err.message);
done:
	for (unsigned i = 0; i < DISPUTES; i++)
		rd_dispute_free(disputes[i]);
	rd_policy_free(policy);
	free(text);
	return rc;
}
