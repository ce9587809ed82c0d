/*
 * The evidence index: one row per attachment, with its metadata. The
 * attachment's bytes live elsewhere; this file must never read or store
 * them, only describe them.
 */
#include <stdlib.h>

#include "store/store_int.h"

int rd_store_evidence_insert(rd_store *st, const rd_evidence_row *row,
			     rd_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_evidence_insert",
					err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_EVIDENCE_INSERT, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, row->dispute_id);
	rc |= sqlite3_bind_int64(stmt, 2, row->n);
	rc |= rd_store__bind_text(stmt, 3, row->kind);
	rc |= rd_store__bind_text(stmt, 4, row->channel);
	rc |= rd_store__bind_text(stmt, 5, row->submitted_by);
	rc |= rd_store__bind_optional(stmt, 6, row->captured_at);
	rc |= sqlite3_bind_int64(stmt, 7, row->added_at);
	rc |= rd_store__bind_text(stmt, 8, row->content_type);
	rc |= sqlite3_bind_int64(stmt, 9, row->size);
	rc |= rd_store__bind_text(stmt, 10, row->sha256);
	rc |= rd_store__bind_text(stmt, 11, row->original_name);
	rc |= sqlite3_bind_int(stmt, 12, row->withdrawn ? 1 : 0);
	rc |= rd_store__bind_text(stmt, 13, row->withdrawn_reason);
	rc = rd_store__step(st, stmt, rc);
	if (rc != SQLITE_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot record evidence %lld of dispute "
				     "%s", (long long)row->n, row->dispute_id);
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

static int count_items(rd_store *st, const char *dispute_id, size_t *total,
		       rd_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_EVIDENCE_TOTAL, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == SQLITE_ROW)
		*total = (size_t)sqlite3_column_int64(stmt, 0);
	else
		ret = rd_store__fail(st, rc, err, "cannot count the evidence "
				     "of dispute %s", dispute_id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_evidence_kinds(rd_store *st, const char *dispute_id,
			    char ***kinds, size_t *kind_count, size_t *total,
			    rd_error *err)
{
	sqlite3_stmt *stmt = NULL;
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
	for (rc = rd_store__step(st, stmt, rc); rc == SQLITE_ROW;
	     rc = sqlite3_step(stmt)) {
		if (n == room) {
			size_t grown = room ? room * 2 : 8;
			char **more = realloc(list, grown * sizeof(*more));

			if (!more) {
				ret = rd_error_set(err, RD_ENOMEM,
						   "out of memory");
				goto done;
			}
			list = more;
			room = grown;
		}
		if ((ret = rd_store__column_strdup(stmt, 0, &list[n],
						   err)) < 0)
			goto done;
		n++;
	}
	if (rc != SQLITE_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot read the evidence "
				     "kinds of dispute %s", dispute_id);
		goto done;
	}
	rd_store__release(stmt);
	stmt = NULL;
	if ((ret = count_items(st, dispute_id, total, err)) < 0)
		goto done;
	*kinds = list;
	*kind_count = n;
	list = NULL;
done:
	rd_store__release(stmt);
	rd_strings_free(list, n);
	return ret;
}
