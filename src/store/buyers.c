/*
 * A buyer's disputes in one storefront: a page of them, newest first, and
 * the rows of their history, both from the index disputes_buyer
 * (storefront, buyer_ref, created_at, id) of schema 20.
 *
 * Why the history costs O(log n + k) for n disputes of which k are the
 * buyer's in the window: the three leading columns of the index are the
 * two equalities and the range of the query, so the engine seeks once
 * down the B-tree (log n) to the first entry of (storefront, buyer_ref,
 * from) and reads the k entries up to `to` in order, stopping at the
 * first past it; each entry leads to its row by primary key, and its last
 * accepted offer by the offers' primary key (dispute_id, ...), a seek per
 * row over that dispute's few offers. Nothing scans other buyers' rows or
 * other storefronts'. A page of the list is the same seek from the
 * cursor's key, downwards, for `limit` + 1 entries.
 *
 * This file never builds SQL: the statements are in statements.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define BUYER_DEFAULT_LIMIT 50
#define BUYER_MAX_LIMIT 500

int rd_store_buyer_disputes(rd_store *st, const char *storefront,
			    const char *buyer_ref, size_t limit,
			    const char *cursor, rd_dispute ***out,
			    size_t *count, char **next_cursor, rd_error *err)
{
	char next[RD_STORE_CURSOR_BUFSZ];
	char high_id[RD_ID_BUFSZ] = "~";  /* sorts after every id */
	int64_t high_at = INT64_MAX;
	rd_db_stmt *stmt = NULL;
	rd_dispute **page = NULL;
	size_t n = 0;
	int more = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	*next_cursor = NULL;
	if (limit == 0)
		limit = BUYER_DEFAULT_LIMIT;
	if (limit > BUYER_MAX_LIMIT)
		return rd_error_set_field(err, RD_EINVALID, "limit",
					  "limit: must be from 1 to %d, got "
					  "%zu", BUYER_MAX_LIMIT, limit);
	if (cursor && (ret = rd_store__cursor_decode(cursor, &high_at,
						     high_id, err)) < 0)
		return ret;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	if (!(page = calloc(limit, sizeof(*page))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((ret = rd_store__stmt(st, RD_STMT_BUYER_LIST, &stmt, err)) < 0)
		goto done;
	rc = rd_store__bind_text(stmt, 1, storefront);
	rc |= rd_store__bind_text(stmt, 2, buyer_ref);
	rc |= rd_db_bind_int64(stmt, 3, high_at);
	rc |= rd_store__bind_text(stmt, 4, high_id);
	rc |= rd_db_bind_int64(stmt, 5, (int64_t)limit + 1);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if (n == limit) {
			more = 1;
			break;
		}
		if ((ret = rd_store__dispute_from_row(st, stmt, &page[n],
						      err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_ROW && rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot list the disputes "
				     "of a buyer");
		goto done;
	}
	if (more) {
		rd_store__cursor_encode(next, page[n - 1]->created_at,
					page[n - 1]->id);
		if (!(*next_cursor = strdup(next))) {
			ret = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	}
	*out = page;
	*count = n;
	page = NULL;
done:
	rd_store__release(stmt);
	rd_dispute_list_free(page, n);
	return ret;
}

int rd_store_buyer_history(rd_store *st, const char *storefront,
			   const char *buyer_ref, const char *except,
			   int64_t from, int64_t to, int64_t most,
			   int (*fn)(const rd_buyer_dispute *d, void *ctx),
			   void *ctx, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_buyer_dispute row;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_BUYER_HISTORY, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, storefront);
	rc |= rd_store__bind_text(stmt, 2, buyer_ref);
	rc |= rd_db_bind_int64(stmt, 3, from);
	rc |= rd_db_bind_int64(stmt, 4, to);
	rc |= rd_store__bind_text(stmt, 5, except ? except : "");
	rc |= rd_db_bind_int64(stmt, 6, most);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		memset(&row, 0, sizeof(row));
		if ((ret = rd_store__column_copy(stmt, 0, row.reason,
						 sizeof(row.reason),
						 err)) < 0 ||
		    (ret = rd_store__column_copy(stmt, 1, row.outcome,
						 sizeof(row.outcome),
						 err)) < 0 ||
		    (ret = rd_store__column_copy(stmt, 2, row.currency,
						 sizeof(row.currency),
						 err)) < 0)
			goto done;
		row.created_at = rd_db_column_int64(stmt, 3);
		row.refund = rd_db_column_is_null(stmt, 4)
				     ? -1 : rd_db_column_int64(stmt, 4);
		if ((ret = fn(&row, ctx)) != 0)
			goto done;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot read the history of "
				     "a buyer");
	else
		ret = RD_OK;
done:
	rd_store__release(stmt);
	return ret;
}
