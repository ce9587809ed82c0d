/*
 * Fuzz target: the readers of a dispute's git tree (src/service/records.c):
 * an evidence item's meta.json (rd_evidence_row_from_json), an event file,
 * an offer file and the dispute.json snapshot. They rebuild the index from
 * git (`redress reindex`, crash recovery) and feed `redress audit verify`,
 * so a tree edited by hand must be refused or read whole, never half-read.
 *
 * Input: one byte choosing the reader, then the JSON text.
 *
 * Invariants: a refusal is a well-formed RD_EINVALID naming the member; an
 * accepted record keeps the limits of its struct (n and seq from 1, a
 * 64-character SHA-256, known role, offer type and reason) and is a fixed
 * point of writing and reading: written back to JSON and read again, it
 * writes the same JSON (times included: a time the reader accepts is one
 * the writer can write).
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "redress/service.h"

#define DISPUTE_ID "01KA0000000000000000000000"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);
	return 0;
}

static void check_refusal(int rc, const rd_error *err)
{
	fuzz_check_error(rc, err);
	FUZZ_CHECK(rc == RD_EINVALID || rc == RD_ENOMEM);
}

static void check_evidence(const json_t *doc)
{
	rd_evidence_row row, again;
	json_t *out = NULL, *out2 = NULL;
	rd_error err;
	int rc = rd_evidence_row_from_json(&row, doc, DISPUTE_ID, &err);

	if (rc < 0) {
		check_refusal(rc, &err);
		return;
	}
	FUZZ_CHECK(row.n >= 1 && strlen(row.sha256) == 64);
	FUZZ_CHECK(strcmp(row.dispute_id, DISPUTE_ID) == 0);
	out = rd_evidence_row_to_json(&row);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(rd_evidence_row_from_json(&again, out, DISPUTE_ID, &err) ==
		   RD_OK);
	out2 = rd_evidence_row_to_json(&again);
	FUZZ_CHECK(out2 != NULL && json_equal(out, out2));
	FUZZ_CHECK(again.added_at == row.added_at &&
		   again.captured_at == row.captured_at);
	json_decref(out);
	json_decref(out2);
	rd_evidence_row_clear(&row);
	rd_evidence_row_clear(&again);
}

static void check_event(const json_t *doc)
{
	rd_event_record ev, again;
	json_t *out = NULL, *out2 = NULL;
	rd_error err;
	int rc = rd_event_record_from_json(&ev, doc, &err);

	if (rc < 0) {
		check_refusal(rc, &err);
		return;
	}
	FUZZ_CHECK(ev.seq >= 1 && (unsigned)ev.actor.role < RD_ROLE_COUNT);
	FUZZ_CHECK(ev.event && ev.to_state && ev.fields_json);
	out = rd_event_record_to_json(&ev);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(rd_event_record_from_json(&again, out, &err) == RD_OK);
	out2 = rd_event_record_to_json(&again);
	FUZZ_CHECK(out2 != NULL && json_equal(out, out2));
	FUZZ_CHECK(again.at == ev.at);
	json_decref(out);
	json_decref(out2);
	rd_event_record_clear(&ev);
	rd_event_record_clear(&again);
}

static void check_offer(const json_t *doc)
{
	rd_offer_record offer, again;
	json_t *out = NULL, *out2 = NULL;
	rd_error err;
	int rc = rd_offer_record_from_json(&offer, doc, DISPUTE_ID, &err);

	if (rc < 0) {
		check_refusal(rc, &err);
		return;
	}
	FUZZ_CHECK((unsigned)offer.type < RD_OFFER_TYPE_COUNT);
	out = rd_offer_record_to_json(&offer, "USD");
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(rd_offer_record_from_json(&again, out, DISPUTE_ID, &err) ==
		   RD_OK);
	out2 = rd_offer_record_to_json(&again, "USD");
	FUZZ_CHECK(out2 != NULL && json_equal(out, out2));
	FUZZ_CHECK(again.made_at == offer.made_at &&
		   again.decided_at == offer.decided_at);
	json_decref(out);
	json_decref(out2);
}

static void check_snapshot(const json_t *doc)
{
	rd_dispute *d = NULL, *again = NULL;
	json_t *out = NULL, *out2 = NULL;
	rd_error err;
	int rc = rd_dispute_from_snapshot(&d, doc, &err);

	if (rc < 0) {
		FUZZ_CHECK(d == NULL);
		check_refusal(rc, &err);
		return;
	}
	FUZZ_CHECK(rd_id_valid(d->id) && d->version >= 1 && d->state);
	out = rd_dispute_to_json(d);
	FUZZ_CHECK(out != NULL);
	FUZZ_CHECK(rd_dispute_from_snapshot(&again, out, &err) == RD_OK);
	out2 = rd_dispute_to_json(again);
	FUZZ_CHECK(out2 != NULL && json_equal(out, out2));
	FUZZ_CHECK(again->created_at == d->created_at &&
		   again->updated_at == d->updated_at &&
		   again->deadline_at == d->deadline_at);
	json_decref(out);
	json_decref(out2);
	rd_dispute_free(d);
	rd_dispute_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_bytes in = { data, size };
	uint8_t which = fuzz_u8(&in);
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)in.data, in.size,
				 JSON_REJECT_DUPLICATES, &jerr);

	if (!doc)
		return 0;
	switch (which % 4) {
	case 0:
		check_evidence(doc);
		break;
	case 1:
		check_event(doc);
		break;
	case 2:
		check_offer(doc);
		break;
	default:
		check_snapshot(doc);
		break;
	}
	json_decref(doc);
	return 0;
}
