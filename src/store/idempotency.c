/*
 * Requests made under an Idempotency-Key: look one up, record one with its
 * effect, walk them for a rebuild, drop the old ones.
 *
 * This file keeps what the service hands over; it must never decide whether
 * a retry matches its first request (the service compares the digests) and
 * never record a request outside the transaction of its effect.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static const char *const operation_names[] = {
	[RD_IDEM_OPEN] = "open",
	[RD_IDEM_EVENT] = "event",
	[RD_IDEM_EVIDENCE] = "evidence",
};

#define OPERATION_COUNT \
	(sizeof(operation_names) / sizeof(operation_names[0]))

const char *rd_idem_operation_name(rd_idem_operation op)
{
	if ((unsigned)op >= OPERATION_COUNT)
		return NULL;
	return operation_names[op];
}

void rd_idem_record_clear(rd_idem_record *rec)
{
	if (!rec)
		return;
	free(rec->response);
	rec->response = NULL;
}

/* Columns as in IDEM_COLUMNS of statements.c. */
static int record_from_row(rd_db_stmt *stmt, rd_idem_record *rec,
			   rd_error *err)
{
	char op[16];
	size_t i;
	int ret;

	memset(rec, 0, sizeof(*rec));
	if ((ret = rd_store__column_copy(stmt, 0, rec->key_id,
					 sizeof(rec->key_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 1, rec->key, sizeof(rec->key),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, rec->request_sha256,
					 sizeof(rec->request_sha256),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, op, sizeof(op), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, rec->dispute_id,
					 sizeof(rec->dispute_id), err)) < 0)
		return ret;
	for (i = 0; i < OPERATION_COUNT; i++)
		if (strcmp(op, operation_names[i]) == 0)
			break;
	if (i == OPERATION_COUNT)
		return rd_error_set(err, RD_EIO, "the idempotency record %s/%s "
				    "has the unknown operation \"%s\"",
				    rec->key_id, rec->key, op);
	rec->operation = (rd_idem_operation)i;
	rec->evidence_n = rd_store__column_optional(stmt, 5);
	if ((ret = rd_store__column_strdup(stmt, 6, &rec->response,
					   err)) < 0)
		return ret;
	if (!rec->response)
		return rd_error_set(err, RD_EIO, "the idempotency record %s/%s "
				    "has no response", rec->key_id, rec->key);
	rec->created_at = rd_db_column_int64(stmt, 7);
	return RD_OK;
}

int rd_store_idem_get(rd_store *st, const char *key_id, const char *key,
		      rd_idem_record *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_IDEM_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, key_id);
	rc |= rd_store__bind_text(stmt, 2, key);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		if ((ret = record_from_row(stmt, out, err)) < 0)
			rd_idem_record_clear(out);
	} else if (rc == RD_DB_DONE) {
		ret = rd_error_set(err, RD_ENOTFOUND, "no request was made "
				   "with this Idempotency-Key");
	} else {
		ret = rd_store__fail(st, rc, err, "cannot read the request "
				     "made with an Idempotency-Key");
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_idem_insert(rd_store *st, const rd_idem_record *rec,
			 int replace, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	const char *op = rd_idem_operation_name(rec->operation);
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_idem_insert", err)) < 0)
		return ret;
	if (!op || !rec->response)
		return rd_error_set(err, RD_EINVALID, "an idempotency record "
				    "needs a known operation and a response");
	if ((ret = rd_store__stmt(st, replace ? RD_STMT_IDEM_REPLACE
					      : RD_STMT_IDEM_INSERT,
				  &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, rec->key_id);
	rc |= rd_store__bind_text(stmt, 2, rec->key);
	rc |= rd_store__bind_text(stmt, 3, rec->request_sha256);
	rc |= rd_store__bind_text(stmt, 4, op);
	rc |= rd_store__bind_text(stmt, 5, rec->dispute_id);
	rc |= rd_store__bind_optional(stmt, 6, rec->evidence_n);
	rc |= rd_store__bind_text(stmt, 7, rec->response);
	rc |= rd_db_bind_int64(stmt, 8, rec->created_at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the request "
				     "made with Idempotency-Key \"%.64s\"",
				     rec->key);
	rd_store__release(stmt);
	return ret;
}

int rd_store_idem_foreach(rd_store *st,
			  int (*fn)(const rd_idem_record *rec, void *ctx),
			  void *ctx, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_idem_record rec;
	int rc;
	int ret = RD_OK;

	memset(&rec, 0, sizeof(rec));
	if ((ret = rd_store__stmt(st, RD_STMT_IDEM_ALL, &stmt, err)) < 0)
		return ret;
	for (rc = rd_db_step(stmt); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = record_from_row(stmt, &rec, err)) < 0)
			goto done;
		ret = fn(&rec, ctx);
		rd_idem_record_clear(&rec);
		if (ret != 0)
			goto done;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot read the requests "
				     "made with an Idempotency-Key");
done:
	rd_idem_record_clear(&rec);
	rd_store__release(stmt);
	return ret;
}

int rd_store_idem_purge(rd_store *st, int64_t before, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_idem_purge", err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_IDEM_PURGE, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, before);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot drop old requests "
				     "made with an Idempotency-Key");
	rd_store__release(stmt);
	return ret;
}
