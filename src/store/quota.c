/*
 * Evidence quotas per storefront in the index (schema 9): the settings of
 * `redress key quota`, and the bytes each storefront has stored, per UTC
 * day, as the triggers of schema 9 keep them.
 *
 * This file only reads and records; it never decides whether an upload
 * fits (the service does), and never counts evidence rows itself: the
 * usage is kept in the transaction of each evidence row, so it cannot
 * drift from them.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* A setting as stored: NULL is the server's default. */
static int64_t setting_of(rd_db_stmt *stmt, int i)
{
	if (rd_db_column_is_null(stmt, i))
		return RD_QUOTA_DEFAULT;
	return rd_db_column_int64(stmt, i);
}

static int bind_setting(rd_db_stmt *stmt, int i, int64_t value)
{
	if (value < 0)
		return rd_db_bind_null(stmt, i);
	return rd_db_bind_int64(stmt, i, value);
}

/* Columns as in RD_STMT_QUOTA_GET. */
static int quota_from_row(rd_db_stmt *stmt, rd_storefront_quota *q,
			  rd_error *err)
{
	int ret;

	memset(q, 0, sizeof(*q));
	if ((ret = rd_store__column_copy(stmt, 0, q->storefront,
					 sizeof(q->storefront), err)) < 0)
		return ret;
	q->daily = setting_of(stmt, 1);
	q->total = setting_of(stmt, 2);
	q->updated_at = rd_db_column_int64(stmt, 3);
	return RD_OK;
}

int rd_store_quota_get(rd_store *st, const char *storefront,
		       rd_storefront_quota *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret = RD_OK;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_QUOTA_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, storefront);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		ret = quota_from_row(stmt, out, err);
	} else if (rc == RD_DB_DONE) {
		snprintf(out->storefront, sizeof(out->storefront), "%s",
			 storefront);
		out->daily = RD_QUOTA_DEFAULT;
		out->total = RD_QUOTA_DEFAULT;
	} else {
		ret = rd_store__fail(st, rc, err, "cannot read the quota of "
				     "storefront %s", storefront);
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_quota_put(rd_store *st, const rd_storefront_quota *quota,
		       rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_quota_put", err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_QUOTA_PUT, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, quota->storefront);
	rc |= bind_setting(stmt, 2, quota->daily);
	rc |= bind_setting(stmt, 3, quota->total);
	rc |= rd_db_bind_int64(stmt, 4, quota->updated_at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the quota of "
				     "storefront %s", quota->storefront);
	rd_store__release(stmt);
	return ret;
}

int rd_store_quotas_list(rd_store *st, rd_storefront_quota **out,
			 size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_storefront_quota *list = NULL;
	size_t n = 0, room = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_QUOTAS_LIST, &stmt, err)) < 0)
		return ret;
	for (rc = rd_db_step(stmt); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = rd_store__grow(&list, n, &room, sizeof(*list),
					  err)) < 0)
			goto done;
		if ((ret = quota_from_row(stmt, &list[n], err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot list the quotas");
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

/* Columns: storefront, total, today. */
static int usage_from_row(rd_db_stmt *stmt, rd_evidence_usage *u,
			  rd_error *err)
{
	int ret;

	memset(u, 0, sizeof(*u));
	if ((ret = rd_store__column_copy(stmt, 0, u->storefront,
					 sizeof(u->storefront), err)) < 0)
		return ret;
	u->total = rd_db_column_int64(stmt, 1);
	u->today = rd_db_column_int64(stmt, 2);
	return RD_OK;
}

int rd_store_usage_get(rd_store *st, const char *storefront, int64_t day,
		       rd_evidence_usage *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_USAGE_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, storefront);
	rc |= rd_db_bind_int64(stmt, 2, day);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		ret = usage_from_row(stmt, out, err);
	else
		ret = rd_store__fail(st, rc, err, "cannot read the evidence "
				     "usage of storefront %s", storefront);
	rd_store__release(stmt);
	return ret;
}

int rd_store_usage_list(rd_store *st, int64_t day, size_t limit,
			rd_evidence_usage **out, size_t *count,
			rd_evidence_usage *others, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_evidence_usage *list = NULL;
	rd_evidence_usage row;
	size_t n = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	memset(others, 0, sizeof(*others));
	if (limit && !(list = calloc(limit, sizeof(*list))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((ret = rd_store__stmt(st, RD_STMT_USAGE_LIST, &stmt, err)) < 0)
		goto done;
	rc = rd_db_bind_int64(stmt, 1, day);
	if (rc != RD_DB_OK) {
		ret = rd_store__fail(st, rc, err, "cannot read the evidence "
				     "usage");
		goto done;
	}
	for (rc = rd_db_step(stmt); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = usage_from_row(stmt, &row, err)) < 0)
			goto done;
		if (n < limit) {
			list[n++] = row;
		} else {
			others->total += row.total;
			others->today += row.today;
		}
	}
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot read the evidence "
				     "usage");
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
