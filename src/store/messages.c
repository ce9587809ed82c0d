/*
 * The messages of a dispute and its reply clock (schema 19). A message's
 * text lives in the record (messages/NNNNNN.json of the dispute's tree);
 * this index serves the paginated reads and says whether the seller has
 * answered. A message row is never changed once written.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define MESSAGES_MAX_LIMIT 500

void rd_message_row_clear(rd_message_row *row)
{
	if (!row)
		return;
	free(row->body);
	free(row->evidence);
	free(row->call);
	memset(row, 0, sizeof(*row));
}

void rd_message_rows_free(rd_message_row *rows, size_t count)
{
	if (!rows)
		return;
	for (size_t i = 0; i < count; i++)
		rd_message_row_clear(&rows[i]);
	free(rows);
}

int rd_store_message_insert(rd_store *st, const rd_message_row *row,
			    int rebuild, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_message_insert",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, rebuild ? RD_STMT_MESSAGE_REBUILD :
						RD_STMT_MESSAGE_INSERT,
				  &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, row->dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, row->n);
	rc |= rd_db_bind_int64(stmt, 3, row->version);
	rc |= rd_store__bind_text(stmt, 4, row->direction);
	rc |= rd_store__bind_text(stmt, 5, row->channel);
	rc |= rd_store__bind_text(stmt, 6, row->body ? row->body : "");
	rc |= rd_store__bind_text(stmt, 7, row->language[0] ? row->language :
				  NULL);
	rc |= rd_store__bind_text(stmt, 8, row->author);
	rc |= rd_store__bind_text(stmt, 9, row->role);
	rc |= rd_store__bind_text(stmt, 10, row->key_id);
	rc |= rd_store__bind_text(stmt, 11, row->evidence ? row->evidence :
				  "[]");
	rc |= rd_store__bind_text(stmt, 12, row->template_name[0] ?
				  row->template_name : NULL);
	rc |= rd_store__bind_text(stmt, 13, row->template_locale[0] ?
				  row->template_locale : NULL);
	rc |= rd_db_bind_int64(stmt, 14, row->fell_back ? 1 : 0);
	rc |= rd_store__bind_text(stmt, 15, row->call);
	rc |= rd_db_bind_int64(stmt, 16, row->created_at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record message %lld "
				     "of dispute %s", (long long)row->n,
				     row->dispute_id);
	rd_store__release(stmt);
	return ret;
}

/* One integer answered by statement `id` for a dispute. */
static int dispute_integer(rd_store *st, int id, const char *dispute_id,
			   int64_t *out, const char *what, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, rd_store__bind_text(stmt, 1,
							  dispute_id));
	if (rc == RD_DB_ROW)
		*out = rd_db_column_int64(stmt, 0);
	else
		ret = rd_store__fail(st, rc, err, "cannot read %s of dispute "
				     "%s", what, dispute_id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_message_next(rd_store *st, const char *dispute_id, int64_t *n,
			  rd_error *err)
{
	return dispute_integer(st, RD_STMT_MESSAGE_NEXT, dispute_id, n,
			       "the next message number", err);
}

int rd_store_message_answered(rd_store *st, const char *dispute_id,
			      int *answered, rd_error *err)
{
	int64_t v = 0;
	int ret = dispute_integer(st, RD_STMT_MESSAGE_ANSWERED, dispute_id,
				  &v, "whether the seller answered", err);

	*answered = v != 0;
	return ret;
}

static int read_message(rd_db_stmt *stmt, rd_message_row *row, rd_error *err)
{
	int ret;

	memset(row, 0, sizeof(*row));
	row->n = rd_db_column_int64(stmt, 1);
	row->version = rd_db_column_int64(stmt, 2);
	row->fell_back = rd_db_column_int64(stmt, 13) != 0;
	row->created_at = rd_db_column_int64(stmt, 15);
	if ((ret = rd_store__column_copy(stmt, 0, row->dispute_id,
					 sizeof(row->dispute_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, row->direction,
					 sizeof(row->direction), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, row->channel,
					 sizeof(row->channel), err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 5, &row->body, err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 6, row->language,
					 sizeof(row->language), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 7, row->author,
					 sizeof(row->author), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 8, row->role,
					 sizeof(row->role), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 9, row->key_id,
					 sizeof(row->key_id), err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 10, &row->evidence,
					   err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 11, row->template_name,
					 sizeof(row->template_name),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 12, row->template_locale,
					 sizeof(row->template_locale),
					 err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 14, &row->call, err)) < 0)
		rd_message_row_clear(row);
	return ret;
}

int rd_store_messages_list(rd_store *st, const char *dispute_id,
			   int64_t after, size_t limit, int with_internal,
			   rd_message_row **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_message_row *rows = NULL;
	size_t n = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if (limit == 0 || limit > MESSAGES_MAX_LIMIT)
		return rd_error_set_field(err, RD_EINVALID, "limit",
					  "limit: must be from 1 to %d",
					  MESSAGES_MAX_LIMIT);
	if ((rows = calloc(limit, sizeof(*rows))) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((ret = rd_store__stmt(st, RD_STMT_MESSAGES_OF, &stmt, err)) < 0)
		goto done;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, after);
	rc |= rd_db_bind_int64(stmt, 3, with_internal ? 1 : 0);
	rc |= rd_db_bind_int64(stmt, 4, (int64_t)limit);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW && n < limit;
	     rc = rd_db_step(stmt)) {
		if ((ret = read_message(stmt, &rows[n], err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_DONE && rc != RD_DB_ROW) {
		ret = rd_store__fail(st, rc, err, "cannot read the messages of "
				     "dispute %s", dispute_id);
		goto done;
	}
	*out = rows;
	*count = n;
	rows = NULL;
done:
	rd_store__release(stmt);
	rd_message_rows_free(rows, n);
	return ret;
}

int rd_store_reply_set(rd_store *st, const char *dispute_id, int64_t due_at,
		       int64_t since, const char *event, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_reply_set", err)) < 0 ||
	    (ret = rd_store__stmt(st, due_at > 0 ? RD_STMT_REPLY_PUT :
						   RD_STMT_REPLY_CLEAR,
				  &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	if (due_at > 0) {
		rc |= rd_db_bind_int64(stmt, 2, due_at);
		rc |= rd_db_bind_int64(stmt, 3, since);
		rc |= rd_store__bind_text(stmt, 4, event && *event ? event :
					  NULL);
	}
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot set the reply clock "
				     "of dispute %s", dispute_id);
	rd_store__release(stmt);
	return ret;
}

int rd_store__reply_fill(rd_store *st, rd_dispute *d, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	/* a record older than schema 19 has no reply clocks */
	if (!st->stmts[RD_STMT_REPLY_GET])
		return RD_OK;
	if ((ret = rd_store__stmt(st, RD_STMT_REPLY_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, rd_store__bind_text(stmt, 1, d->id));
	if (rc == RD_DB_ROW) {
		d->reply_due_at = rd_db_column_int64(stmt, 0);
		d->reply_since = rd_db_column_int64(stmt, 1);
		ret = rd_store__column_strdup(stmt, 2, &d->reply_event, err);
	} else if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot read the reply clock "
				     "of dispute %s", d->id);
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_replies_due(rd_store *st, int64_t now, rd_reply_due *out,
			 size_t max, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t n = 0;
	int rc;
	int ret;

	*count = 0;
	if (max == 0)
		return RD_OK;
	if ((ret = rd_store__stmt(st, RD_STMT_REPLIES_DUE, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, now);
	rc |= rd_db_bind_int64(stmt, 2, max > INT64_MAX ? INT64_MAX :
			       (int64_t)max);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW && n < max;
	     rc = rd_db_step(stmt)) {
		rd_reply_due *r = &out[n];

		memset(r, 0, sizeof(*r));
		r->due_at = rd_db_column_int64(stmt, 1);
		r->since = rd_db_column_int64(stmt, 2);
		if ((ret = rd_store__column_copy(stmt, 0, r->dispute_id,
						 sizeof(r->dispute_id),
						 err)) < 0 ||
		    (ret = rd_store__column_copy(stmt, 3, r->event,
						 sizeof(r->event), err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_DONE && rc != RD_DB_ROW) {
		ret = rd_store__fail(st, rc, err,
				     "cannot read the reply clocks due");
		goto done;
	}
	*count = n;
done:
	rd_store__release(stmt);
	return ret;
}

int rd_store_reply_claim(rd_store *st, const char *dispute_id, int64_t now,
			 int *claimed, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*claimed = 0;
	if ((ret = rd_store__require_tx(st, "rd_store_reply_claim",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_REPLY_CLAIM, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, now);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		*claimed = 1;
	else if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot take the reply clock "
				     "of dispute %s", dispute_id);
	rd_store__release(stmt);
	return ret;
}
