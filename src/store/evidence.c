/*
 * The evidence index: one row per attachment, with its metadata and where
 * its content lives in git (path and blob id). The attachment's bytes live
 * there; this file must never read or store them, only describe them. A
 * row is never deleted: withdrawing it marks it, with a reason, and leaves
 * it listed for the audit trail.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* Refuse what the schema would refuse, with the member at fault named. */
static int check_row(const rd_evidence_row *row, rd_error *err)
{
	if (!memchr(row->path, '\0', sizeof(row->path)))
		return rd_error_set_field(err, RD_EINVALID, "path",
					  "the path of evidence %lld of "
					  "dispute %s is not terminated",
					  (long long)row->n, row->dispute_id);
	if (row->blob_oid[0] && !rd_store__is_oid(row->blob_oid))
		return rd_error_set_field(err, RD_EINVALID, "blob_oid",
					  "evidence %lld of dispute %s: the "
					  "blob id must be 40 lowercase hex "
					  "digits", (long long)row->n,
					  row->dispute_id);
	return RD_OK;
}

/* Bind row to ?1 .. ?16 of EVIDENCE_INSERT (statements.c). */
static int bind_row(rd_db_stmt *stmt, const rd_evidence_row *row)
{
	int rc;

	rc = rd_store__bind_text(stmt, 1, row->dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, row->n);
	rc |= rd_store__bind_text(stmt, 3, row->kind);
	rc |= rd_store__bind_text(stmt, 4, row->channel);
	rc |= rd_store__bind_text(stmt, 5, row->submitted_by);
	rc |= rd_store__bind_optional(stmt, 6, row->captured_at);
	rc |= rd_db_bind_int64(stmt, 7, row->added_at);
	rc |= rd_store__bind_text(stmt, 8, row->content_type);
	rc |= rd_db_bind_int64(stmt, 9, row->size);
	rc |= rd_store__bind_text(stmt, 10, row->sha256);
	rc |= rd_store__bind_text(stmt, 11, row->original_name);
	rc |= rd_db_bind_int64(stmt, 12, row->withdrawn ? 1 : 0);
	rc |= rd_store__bind_text(stmt, 13, row->withdrawn_reason);
	rc |= rd_store__bind_text(stmt, 14, row->note);
	/* "" is "not recorded", stored as NULL like rows older than schema 3 */
	rc |= rd_store__bind_text(stmt, 15, row->path[0] ? row->path : NULL);
	rc |= rd_store__bind_text(stmt, 16, row->blob_oid[0] ?
				  row->blob_oid : NULL);
	return rc;
}

/* Insert or upsert one row with statement `id`. */
static int write_row(rd_store *st, int id, const char *what,
		     const rd_evidence_row *row, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, what, err)) < 0)
		return ret;
	if ((ret = check_row(row, err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, bind_row(stmt, row));
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot record evidence %lld of dispute "
				     "%s", (long long)row->n, row->dispute_id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_evidence_insert(rd_store *st, const rd_evidence_row *row,
			     rd_error *err)
{
	return write_row(st, RD_STMT_EVIDENCE_INSERT,
			 "rd_store_evidence_insert", row, err);
}

int rd_store_evidence_upsert(rd_store *st, const rd_evidence_row *row,
			     rd_error *err)
{
	return write_row(st, RD_STMT_EVIDENCE_UPSERT,
			 "rd_store_evidence_upsert", row, err);
}

void rd_evidence_row_clear(rd_evidence_row *row)
{
	if (!row)
		return;
	free(row->original_name);
	free(row->withdrawn_reason);
	free(row->note);
	row->original_name = NULL;
	row->withdrawn_reason = NULL;
	row->note = NULL;
}

void rd_evidence_rows_free(rd_evidence_row *rows, size_t count)
{
	if (!rows)
		return;
	for (size_t i = 0; i < count; i++)
		rd_evidence_row_clear(&rows[i]);
	free(rows);
}

/*
 * The current row of a statement reading EVIDENCE_COLUMNS into *row. On
 * failure *row holds what was read so far: rd_evidence_row_clear frees it.
 */
static int row_from_stmt(rd_db_stmt *stmt, rd_evidence_row *row,
			 rd_error *err)
{
	int ret;

	memset(row, 0, sizeof(*row));
	row->n = rd_db_column_int64(stmt, 1);
	row->captured_at = rd_store__column_optional(stmt, 5);
	row->added_at = rd_db_column_int64(stmt, 6);
	row->size = rd_db_column_int64(stmt, 8);
	row->withdrawn = (int)rd_db_column_int64(stmt, 11) != 0;
	if ((ret = rd_store__column_copy(stmt, 0, row->dispute_id,
					 sizeof(row->dispute_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, row->kind,
					 sizeof(row->kind), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, row->channel,
					 sizeof(row->channel), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, row->submitted_by,
					 sizeof(row->submitted_by),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 7, row->content_type,
					 sizeof(row->content_type),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 9, row->sha256,
					 sizeof(row->sha256), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 14, row->path,
					 sizeof(row->path), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 15, row->blob_oid,
					 sizeof(row->blob_oid), err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 10, &row->original_name,
					   err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 12, &row->withdrawn_reason,
					   err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 13, &row->note, err)) < 0)
		return ret;
	return RD_OK;
}

int rd_store_evidence_list(rd_store *st, const char *dispute_id,
			   rd_evidence_row **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_evidence_row *rows = NULL;
	size_t n = 0;
	size_t room = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_EVIDENCE_OF, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = rd_store__grow(&rows, n, &room, sizeof(*rows),
					  err)) < 0)
			goto done;
		/* counted first: row_from_stmt leaves a row freeable */
		n++;
		if ((ret = row_from_stmt(stmt, &rows[n - 1], err)) < 0)
			goto done;
	}
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err,
				     "cannot read the evidence of dispute %s",
				     dispute_id ? dispute_id : "(null)");
		goto done;
	}
	*out = rows;
	*count = n;
	rows = NULL;
done:
	rd_store__release(stmt);
	rd_evidence_rows_free(rows, n);
	return ret;
}

int rd_store_evidence_get(rd_store *st, const char *dispute_id, int64_t n,
			  rd_evidence_row *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_EVIDENCE_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, n);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_DONE) {
		ret = rd_error_set(err, RD_ENOTFOUND,
				   "dispute %s has no evidence %lld",
				   dispute_id ? dispute_id : "(null)",
				   (long long)n);
	} else if (rc != RD_DB_ROW) {
		ret = rd_store__fail(st, rc, err,
				     "cannot read evidence %lld of dispute %s",
				     (long long)n,
				     dispute_id ? dispute_id : "(null)");
	} else if ((ret = row_from_stmt(stmt, out, err)) < 0) {
		rd_evidence_row_clear(out);
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_evidence_next(rd_store *st, const char *dispute_id, int64_t *out,
			   rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*out = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_EVIDENCE_NEXT, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		*out = rd_db_column_int64(stmt, 0);
	else
		ret = rd_store__fail(st, rc, err, "cannot number the next "
				     "evidence of dispute %s",
				     dispute_id ? dispute_id : "(null)");
	rd_store__release(stmt);
	return ret;
}

/* After a withdraw changed nothing: say whether the row is absent or done. */
static int withdraw_refused(rd_store *st, const char *dispute_id, int64_t n,
			    rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_EVIDENCE_WITHDRAWN, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, n);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		ret = rd_error_set(err, RD_ECONFLICT,
				   "evidence %lld of dispute %s is already "
				   "withdrawn", (long long)n, dispute_id);
	else if (rc == RD_DB_DONE)
		ret = rd_error_set(err, RD_ENOTFOUND,
				   "dispute %s has no evidence %lld",
				   dispute_id, (long long)n);
	else
		ret = rd_store__fail(st, rc, err,
				     "cannot read evidence %lld of dispute %s",
				     (long long)n, dispute_id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_evidence_withdraw(rd_store *st, const char *dispute_id,
			       int64_t n, const char *reason, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_evidence_withdraw",
					err)) < 0)
		return ret;
	if (!dispute_id)
		return rd_error_set_field(err, RD_EINVALID, "dispute_id",
					  "no dispute given to withdraw "
					  "evidence %lld from", (long long)n);
	if (!reason || !*reason)
		return rd_error_set_field(err, RD_EINVALID, "reason",
					  "withdrawing evidence %lld of "
					  "dispute %s needs a reason",
					  (long long)n, dispute_id);
	if ((ret = rd_store__stmt(st, RD_STMT_EVIDENCE_WITHDRAW, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, n);
	rc |= rd_store__bind_text(stmt, 3, reason);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err,
				     "cannot withdraw evidence %lld of "
				     "dispute %s", (long long)n, dispute_id);
		goto done;
	}
	if (rd_db_changes(stmt) == 1)
		goto done;
	rd_store__release(stmt);
	stmt = NULL;
	ret = withdraw_refused(st, dispute_id, n, err);
done:
	rd_store__release(stmt);
	return ret;
}

void rd_strings_free(char **strings, size_t count)
{
	if (!strings)
		return;
	for (size_t i = 0; i < count; i++)
		free(strings[i]);
	free(strings);
}

int rd_store_evidence_kinds(rd_store *st, const char *dispute_id,
			    char ***kinds, size_t *kind_count, size_t *total,
			    rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	char **list = NULL;
	size_t n = 0;
	size_t room = 0;
	int rc;
	int ret;

	*kinds = NULL;
	*kind_count = 0;
	*total = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_EVIDENCE_KINDS, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = rd_store__grow(&list, n, &room, sizeof(*list),
					  err)) < 0)
			goto done;
		if ((ret = rd_store__column_strdup(stmt, 0, &list[n],
						   err)) < 0)
			goto done;
		n++;
		*total += (size_t)rd_db_column_int64(stmt, 1);
	}
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot read the evidence "
				     "kinds of dispute %s", dispute_id);
		goto done;
	}
	*kinds = list;
	*kind_count = n;
	list = NULL;
done:
	if (ret < 0)
		*total = 0;
	rd_store__release(stmt);
	rd_strings_free(list, n);
	return ret;
}
