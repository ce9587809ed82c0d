/*
 * Payables: the disputes in which the storefront owes the buyer money, with
 * the accepted offer that says how much, a page at a time, oldest deadline
 * first, by keyset.
 *
 * Which states owe money is the caller's knowledge (the workflow's); this
 * file only reads. It never builds SQL: the one statement is in
 * statements.c, and the cursor is the one list.c issues, keyed here by
 * (deadline, dispute id).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define PAYABLES_DEFAULT_LIMIT 50
#define PAYABLES_MAX_LIMIT 500

/* Result columns of RD_STMT_PAYABLES. */
enum {
	PAY_ID,
	PAY_ORDER_REF,
	PAY_STOREFRONT,
	PAY_STATE,
	PAY_CURRENCY,
	PAY_VERSION,
	PAY_DUE_AT,
	PAY_OFFER_ID,
	PAY_OFFER_TYPE,
	PAY_BUYER_REFUND
};

static int payable_from_row(rd_db_stmt *stmt, rd_payable_row *p,
			    rd_error *err)
{
	char type[32];
	int ret;

	memset(p, 0, sizeof(*p));
	if ((ret = rd_store__column_copy(stmt, PAY_ID, p->dispute_id,
					 sizeof(p->dispute_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, PAY_ORDER_REF, p->order_ref,
					 sizeof(p->order_ref), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, PAY_STOREFRONT, p->storefront,
					 sizeof(p->storefront), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, PAY_STATE, p->state,
					 sizeof(p->state), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, PAY_CURRENCY, p->currency,
					 sizeof(p->currency), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, PAY_OFFER_ID, p->offer_id,
					 sizeof(p->offer_id), err)) < 0)
		return ret;
	p->version = rd_db_column_int64(stmt, PAY_VERSION);
	p->due_at = rd_store__column_optional(stmt, PAY_DUE_AT);
	if (rd_db_column_is_null(stmt, PAY_OFFER_ID))
		return RD_OK;
	if ((ret = rd_store__column_copy(stmt, PAY_OFFER_TYPE, type,
					 sizeof(type), err)) < 0)
		return ret;
	if (rd_offer_type_parse(&p->offer_type, type, NULL) < 0)
		return rd_error_set(err, RD_EIO, "offer %s of dispute %s has "
				    "the unknown type \"%s\" in the database",
				    p->offer_id, p->dispute_id, type);
	p->buyer_refund = rd_db_column_int64(stmt, PAY_BUYER_REFUND);
	p->has_offer = 1;
	return RD_OK;
}

/* The sort key of a row: its deadline, or after every deadline. */
static int64_t due_key(const rd_payable_row *p)
{
	return p->due_at ? p->due_at : INT64_MAX;
}

int rd_store_payables_list(rd_store *st, const rd_payable_filter *filter,
			   rd_payable_row **out, size_t *count,
			   char **next_cursor, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_payable_row *page = NULL;
	char after_id[RD_ID_BUFSZ] = "";
	char next[RD_STORE_CURSOR_BUFSZ];
	int64_t after_due = INT64_MIN;
	size_t n = 0;
	size_t limit;
	int more = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	*next_cursor = NULL;
	limit = filter->limit ? filter->limit : PAYABLES_DEFAULT_LIMIT;
	if (limit > PAYABLES_MAX_LIMIT)
		return rd_error_set_field(err, RD_EINVALID, "limit",
					  "limit: must be from 1 to %d, got "
					  "%zu", PAYABLES_MAX_LIMIT,
					  filter->limit);
	if (filter->cursor &&
	    (ret = rd_store__cursor_decode(filter->cursor, &after_due,
					   after_id, err)) < 0)
		return ret;

	page = calloc(limit, sizeof(*page));
	if (!page)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((ret = rd_store__stmt(st, RD_STMT_PAYABLES, &stmt, err)) < 0)
		goto done;
	rc = rd_store__bind_text(stmt, 1, filter->states[0]);
	rc |= rd_store__bind_text(stmt, 2, filter->states[1]);
	rc |= rd_store__bind_text(stmt, 3, filter->storefront);
	rc |= rd_db_bind_int64(stmt, 4, after_due);
	rc |= rd_store__bind_text(stmt, 5, after_id);
	rc |= rd_db_bind_int64(stmt, 6, (int64_t)limit + 1);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if (n == limit) {
			more = 1;  /* the extra row fetched: another page */
			break;
		}
		if ((ret = payable_from_row(stmt, &page[n], err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_ROW && rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err,
				     "cannot list the disputes awaiting "
				     "payment");
		goto done;
	}
	if (more) {
		rd_store__cursor_encode(next, due_key(&page[n - 1]),
					page[n - 1].dispute_id);
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
	free(page);
	return ret;
}
