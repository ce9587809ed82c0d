/*
 * Settlement offers made on disputes, and their answers.
 *
 * The schema allows at most one offer per dispute awaiting the buyer
 * ("made"); a second is a conflict, never silently kept. This file records
 * offers; it never computes or ranks them (that is the offer module).
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* The statuses an offer may leave "made" for. */
static const char *const decided_statuses[] = {
	RD_OFFER_ACCEPTED,
	RD_OFFER_REJECTED,
	RD_OFFER_COUNTERED,
	RD_OFFER_EXPIRED,
};

/* Insert or upsert one offer with statement `id` (OFFER_INSERT's ?1..?10). */
static int write_offer(rd_store *st, int id, const char *what,
		       const rd_offer_record *offer, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, what, err)) < 0)
		return ret;
	if (!rd_offer_type_name(offer->type))
		return rd_error_set_field(err, RD_EINVALID, "type",
					  "offer %s has no valid type (%d)",
					  offer->offer_id, (int)offer->type);
	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, offer->dispute_id);
	rc |= rd_store__bind_text(stmt, 2, offer->offer_id);
	rc |= rd_store__bind_text(stmt, 3, rd_offer_type_name(offer->type));
	rc |= rd_db_bind_int64(stmt, 4, offer->buyer_refund);
	rc |= rd_db_bind_int64(stmt, 5, offer->buyer_copay);
	rc |= rd_store__bind_amount(stmt, 6, offer->seller_cost);
	rc |= rd_store__bind_text(stmt, 7, offer->status);
	rc |= rd_db_bind_int64(stmt, 8, offer->made_at);
	rc |= rd_store__bind_optional(stmt, 9, offer->decided_at);
	rc |= rd_db_bind_int64(stmt, 10, offer->event_seq);
	rc = rd_store__step(st, stmt, rc);
	/* the one-made index; an offer id used again is the primary key */
	if (rc == RD_DB_EUNIQUE && !rd_db_failed_on_primary_key(st->db))
		ret = rd_error_set(err, RD_ECONFLICT,
				   "cannot record offer %s on dispute %s: "
				   "another offer is still awaiting an answer",
				   offer->offer_id, offer->dispute_id);
	else if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot record offer %s on dispute %s",
				     offer->offer_id, offer->dispute_id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_offer_insert(rd_store *st, const rd_offer_record *offer,
			  rd_error *err)
{
	return write_offer(st, RD_STMT_OFFER_INSERT, "rd_store_offer_insert",
			   offer, err);
}

/*
 * Rebuilding: the snapshot's version of the offer wins. A "made" offer
 * while the index holds another one "made" is still RD_ECONFLICT, so a
 * rebuild writes a dispute's offers oldest first (each earlier offer
 * leaves "made" before the next one is written).
 */
int rd_store_offer_upsert(rd_store *st, const rd_offer_record *offer,
			  rd_error *err)
{
	return write_offer(st, RD_STMT_OFFER_UPSERT, "rd_store_offer_upsert",
			   offer, err);
}

/* Columns as in OFFER_COLUMNS of statements.c. */
static int offer_from_row(rd_db_stmt *stmt, rd_offer_record *o,
			  rd_error *err)
{
	char type[32];
	int ret;

	memset(o, 0, sizeof(*o));
	if ((ret = rd_store__column_copy(stmt, 0, o->dispute_id,
					 sizeof(o->dispute_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 1, o->offer_id,
					 sizeof(o->offer_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, type, sizeof(type),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 6, o->status,
					 sizeof(o->status), err)) < 0)
		return ret;
	if (rd_offer_type_parse(&o->type, type, NULL) < 0)
		return rd_error_set(err, RD_EIO, "offer %s of dispute %s has "
				    "the unknown type \"%s\" in the database",
				    o->offer_id, o->dispute_id, type);
	o->buyer_refund = rd_db_column_int64(stmt, 3);
	o->buyer_copay = rd_db_column_int64(stmt, 4);
	o->seller_cost = rd_store__column_amount(stmt, 5);
	o->made_at = rd_db_column_int64(stmt, 7);
	o->decided_at = rd_store__column_optional(stmt, 8);
	o->event_seq = rd_db_column_int64(stmt, 9);
	return RD_OK;
}

/* The one offer a lookup statement finds, if any. */
static int offer_lookup(rd_store *st, int id, const char *what,
			const char *dispute_id, rd_offer_record *out,
			int *found, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*found = 0;
	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		if ((ret = offer_from_row(stmt, out, err)) == RD_OK)
			*found = 1;
	} else if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot look up the %s offer "
				     "of dispute %s", what, dispute_id);
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_offer_pending(rd_store *st, const char *dispute_id,
			   rd_offer_record *out, int *found, rd_error *err)
{
	return offer_lookup(st, RD_STMT_OFFER_PENDING, "pending", dispute_id,
			    out, found, err);
}

int rd_store_offer_accepted(rd_store *st, const char *dispute_id,
			    rd_offer_record *out, int *found, rd_error *err)
{
	return offer_lookup(st, RD_STMT_OFFER_ACCEPTED, "accepted",
			    dispute_id, out, found, err);
}

int rd_store_offer_decide(rd_store *st, const char *dispute_id,
			  const char *offer_id, const char *status,
			  int64_t decided_at, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t known = sizeof(decided_statuses) / sizeof(decided_statuses[0]);
	size_t i;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_offer_decide", err)) < 0)
		return ret;
	for (i = 0; status && i < known; i++)
		if (strcmp(status, decided_statuses[i]) == 0)
			break;
	if (!status || i == known)
		return rd_error_set_field(err, RD_EINVALID, "status",
					  "an offer can be decided as "
					  "accepted, rejected, countered or "
					  "expired, not \"%s\"",
					  status ? status : "(null)");
	if ((ret = rd_store__stmt(st, RD_STMT_OFFER_DECIDE, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_store__bind_text(stmt, 2, offer_id);
	rc |= rd_store__bind_text(stmt, 3, status);
	rc |= rd_store__bind_optional(stmt, 4, decided_at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot record the answer to offer %s "
				     "of dispute %s", offer_id, dispute_id);
	else if (rd_db_changes(stmt) != 1)
		ret = rd_error_set(err, RD_ENOTFOUND,
				   "dispute %s has no offer %s awaiting an "
				   "answer", dispute_id, offer_id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_offers_list(rd_store *st, const char *dispute_id,
			 rd_offer_record **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_offer_record *list = NULL;
	size_t n = 0;
	size_t room = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_OFFERS_OF, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = rd_store__grow(&list, n, &room, sizeof(*list),
					  err)) < 0)
			goto done;
		if ((ret = offer_from_row(stmt, &list[n], err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err,
				     "cannot read the offers of dispute %s",
				     dispute_id);
		goto done;
	}
	*out = list;
	*count = n;
	list = NULL;
done:
	rd_store__release(stmt);
	free(list);
	return ret;
}
