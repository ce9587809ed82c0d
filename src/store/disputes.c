/*
 * Disputes, their items and the workflow definitions they are pinned to.
 *
 * A dispute row changes only by compare-and-swap on its version, so two
 * writers can never both believe they moved the same dispute; the one
 * exception is rebuilding the index from git, which writes what the
 * snapshot says. The git head the index last saw is kept beside the row
 * and is never part of the document. Nothing here judges whether a change
 * is allowed: that is the workflow engine's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/clock.h"
#include "redress/json.h"
#include "store/store_int.h"

int rd_store_workflow_put(rd_store *st, const char *hash, const char *name,
			  int64_t version, const char *source, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int64_t now = 0;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_workflow_put", err)) < 0)
		return ret;
	/* first_seen is informative; it honours REDRESS_NOW like the CLI */
	if ((ret = rd_clock_now(&now, err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_WORKFLOW_PUT, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, hash);
	rc |= rd_store__bind_text(stmt, 2, name);
	rc |= rd_db_bind_int64(stmt, 3, version);
	rc |= rd_store__bind_text(stmt, 4, source);
	rc |= rd_db_bind_int64(stmt, 5, now);
	rc = rd_store__step(st, stmt, rc);
	/* the same hash is DO NOTHING: a name and version used again */
	if (rc == RD_DB_EUNIQUE && !rd_db_failed_on_primary_key(st->db))
		ret = rd_error_set(err, RD_EDEFINITION,
				   "workflow %s version %lld is already "
				   "recorded with a different definition; "
				   "give the changed definition a new version",
				   name, (long long)version);
	else if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot record workflow %s version %lld",
				     name ? name : "(null)",
				     (long long)version);
	rd_store__release(stmt);
	return ret;
}

int rd_store_workflow_source(rd_store *st, const char *hash, char **out,
			     rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*out = NULL;
	if ((ret = rd_store__stmt(st, RD_STMT_WORKFLOW_SOURCE, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, hash);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_DONE)
		ret = rd_error_set(err, RD_ENOTFOUND,
				   "no workflow definition with hash %s is "
				   "recorded in this data directory",
				   hash ? hash : "(null)");
	else if (rc != RD_DB_ROW)
		ret = rd_store__fail(st, rc, err,
				     "cannot read workflow definition %s",
				     hash ? hash : "(null)");
	else
		ret = rd_store__column_strdup(stmt, 0, out, err);
	rd_store__release(stmt);
	return ret;
}

static int insert_items(rd_store *st, const rd_dispute *d, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_ITEM_INSERT, &stmt, err)) < 0)
		return ret;
	for (size_t i = 0; i < d->item_count; i++) {
		const rd_item *item = &d->items[i];
		int rc;

		rc = rd_store__bind_text(stmt, 1, d->id);
		rc |= rd_db_bind_int64(stmt, 2, (int64_t)i);
		rc |= rd_store__bind_text(stmt, 3, item->sku);
		rc |= rd_store__bind_text(stmt, 4, item->title);
		rc |= rd_db_bind_int64(stmt, 5, item->quantity);
		rc |= rd_db_bind_int64(stmt, 6, item->unit_price);
		rc |= rd_store__bind_amount(stmt, 7, item->unit_cost);
		rc = rd_store__step(st, stmt, rc);
		if (rc != RD_DB_DONE) {
			ret = rd_store__fail(st, rc, err,
					     "cannot insert item %zu of "
					     "dispute %s", i, d->id);
			break;
		}
		rd_store__release(stmt);
	}
	rd_store__release(stmt);
	return ret;
}

/* Bind d to ?1 .. ?21 of DISPUTE_INSERT (statements.c). */
static int bind_dispute(rd_db_stmt *stmt, const rd_dispute *d)
{
	int rc;

	rc = rd_store__bind_text(stmt, 1, d->id);
	rc |= rd_store__bind_text(stmt, 2, d->order_ref);
	rc |= rd_store__bind_text(stmt, 3, d->storefront);
	rc |= rd_store__bind_text(stmt, 4, d->buyer_ref);
	rc |= rd_store__bind_text(stmt, 5, d->currency);
	rc |= rd_store__bind_text(stmt, 6, rd_reason_name(d->reason));
	rc |= rd_store__bind_text(stmt, 7, rd_channel_name(d->channel));
	rc |= rd_store__bind_text(stmt, 8, d->locale);
	rc |= rd_store__bind_text(stmt, 9, d->description);
	rc |= rd_db_bind_int64(stmt, 10, d->shipping_paid);
	rc |= rd_store__bind_amount(stmt, 11, d->ship_cost);
	rc |= rd_store__bind_amount(stmt, 12, d->return_cost);
	rc |= rd_store__bind_text(stmt, 13, d->workflow_name);
	rc |= rd_db_bind_int64(stmt, 14, d->workflow_version);
	rc |= rd_store__bind_text(stmt, 15, d->workflow_hash);
	rc |= rd_store__bind_text(stmt, 16, d->state);
	rc |= rd_store__bind_text(stmt, 17, d->outcome);
	rc |= rd_store__bind_text(stmt, 18, d->assignee);
	rc |= rd_db_bind_int64(stmt, 19, d->version);
	rc |= rd_db_bind_int64(stmt, 20, d->created_at);
	rc |= rd_db_bind_int64(stmt, 21, d->updated_at);
	return rc;
}

int rd_store_dispute_insert(rd_store *st, const rd_dispute *d, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_dispute_insert",
					err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_DISPUTE_INSERT, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, bind_dispute(stmt, d));
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot insert dispute %s",
				     d->id);
	rd_store__release(stmt);
	if (ret < 0)
		return ret;
	return insert_items(st, d, err);
}

/* Run a statement whose only parameter is the dispute id ?1. */
static int run_for_dispute(rd_store *st, int id, const char *dispute_id,
			   const char *doing, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot %s of dispute %s",
				     doing, dispute_id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_dispute_replace(rd_store *st, const rd_dispute *d, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_dispute_replace",
					err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_DISPUTE_UPSERT, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, bind_dispute(stmt, d));
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot rewrite dispute %s",
				     d->id);
	rd_store__release(stmt);
	if (ret < 0)
		return ret;
	/* the snapshot's items, in its order, whatever was there before */
	if ((ret = run_for_dispute(st, RD_STMT_ITEMS_DELETE, d->id,
				   "remove the items", err)) < 0 ||
	    (ret = insert_items(st, d, err)) < 0)
		return ret;
	/* a deadline applies to the state the dispute is in */
	if ((ret = rd_store_deadline_set(st, d->id,
					 d->deadline_at > 0 ? d->deadline_at :
							      0,
					 d->deadline_event, d->state,
					 err)) < 0)
		return ret;
	if (!st->stmts[RD_STMT_REPLY_PUT])
		return RD_OK;
	return rd_store_reply_set(st, d->id, d->reply_due_at > 0 ?
					     d->reply_due_at : 0,
				  d->reply_since, d->reply_event, err);
}

/* Read the items of d->id, in their original order, into d. */
static int load_items(rd_store *st, rd_dispute *d, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t room = 0;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_ITEMS_OF, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, d->id);
	if (rc != RD_DB_OK)
		goto failed;
	while ((rc = rd_db_step(stmt)) == RD_DB_ROW) {
		rd_item *item;

		if (d->item_count == room) {
			size_t grown = room ? room * 2 : 4;
			rd_item *items = realloc(d->items,
						 grown * sizeof(*items));

			if (!items) {
				ret = rd_error_set(err, RD_ENOMEM,
						   "out of memory");
				goto done;
			}
			d->items = items;
			room = grown;
		}
		item = &d->items[d->item_count++];
		memset(item, 0, sizeof(*item));
		item->quantity = rd_db_column_int64(stmt, 2);
		item->unit_price = rd_db_column_int64(stmt, 3);
		item->unit_cost = rd_store__column_amount(stmt, 4);
		if ((ret = rd_store__column_strdup(stmt, 0, &item->sku,
						   err)) < 0 ||
		    (ret = rd_store__column_strdup(stmt, 1, &item->title,
						   err)) < 0)
			goto done;
	}
failed:
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot read the items of dispute %s",
				     d->id);
done:
	rd_store__release(stmt);
	return ret;
}

int rd_store__dispute_from_row(rd_store *st, rd_db_stmt *stmt,
			       rd_dispute **out, rd_error *err)
{
	rd_dispute *d = NULL;
	char name[64];
	int ret;

	*out = NULL;
	d = rd_dispute_new();
	if (!d)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((ret = rd_store__column_copy(stmt, RD_COL_ID, d->id,
					 sizeof(d->id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, RD_COL_CURRENCY, d->currency,
					 sizeof(d->currency), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, RD_COL_WORKFLOW_HASH,
					 d->workflow_hash,
					 sizeof(d->workflow_hash), err)) < 0)
		goto done;

	if ((ret = rd_store__column_copy(stmt, RD_COL_REASON, name,
					 sizeof(name), err)) < 0)
		goto done;
	if (rd_reason_parse(&d->reason, name, NULL) < 0) {
		ret = rd_error_set(err, RD_EIO, "dispute %s has the unknown "
				   "reason \"%s\" in the database", d->id,
				   name);
		goto done;
	}
	if ((ret = rd_store__column_copy(stmt, RD_COL_CHANNEL, name,
					 sizeof(name), err)) < 0)
		goto done;
	if (rd_channel_parse(&d->channel, name, NULL) < 0) {
		ret = rd_error_set(err, RD_EIO, "dispute %s has the unknown "
				   "channel \"%s\" in the database", d->id,
				   name);
		goto done;
	}

	d->shipping_paid = rd_db_column_int64(stmt, RD_COL_SHIPPING_PAID);
	d->ship_cost = rd_store__column_amount(stmt, RD_COL_SHIP_COST);
	d->return_cost = rd_store__column_amount(stmt, RD_COL_RETURN_COST);
	d->workflow_version = rd_db_column_int64(stmt,
						 RD_COL_WORKFLOW_VERSION);
	d->version = rd_db_column_int64(stmt, RD_COL_VERSION);
	d->created_at = rd_db_column_int64(stmt, RD_COL_CREATED_AT);
	d->updated_at = rd_db_column_int64(stmt, RD_COL_UPDATED_AT);
	d->deadline_at = rd_store__column_optional(stmt, RD_COL_DUE_AT);

	if ((ret = rd_store__column_strdup(stmt, RD_COL_ORDER_REF,
					   &d->order_ref, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_STOREFRONT,
					   &d->storefront, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_BUYER_REF,
					   &d->buyer_ref, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_LOCALE,
					   &d->locale, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_DESCRIPTION,
					   &d->description, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_WORKFLOW_NAME,
					   &d->workflow_name, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_STATE,
					   &d->state, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_OUTCOME,
					   &d->outcome, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_ASSIGNEE,
					   &d->assignee, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, RD_COL_DEADLINE_EVENT,
					   &d->deadline_event, err)) < 0)
		goto done;

	if ((ret = load_items(st, d, err)) < 0 ||
	    (ret = rd_store__reply_fill(st, d, err)) < 0)
		goto done;
	*out = d;
	d = NULL;
done:
	rd_dispute_free(d);
	return ret;
}

int rd_store_dispute_get(rd_store *st, const char *id, rd_dispute **out,
			 rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*out = NULL;
	if ((ret = rd_store__stmt(st, RD_STMT_DISPUTE_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_DONE)
		ret = rd_error_set(err, RD_ENOTFOUND, "no dispute with id %s",
				   id ? id : "(null)");
	else if (rc != RD_DB_ROW)
		ret = rd_store__fail(st, rc, err, "cannot read dispute %s",
				     id ? id : "(null)");
	else
		ret = rd_store__dispute_from_row(st, stmt, out, err);
	rd_store__release(stmt);
	return ret;
}

int rd_store_dispute_open_duplicate(rd_store *st, const rd_dispute *d,
				    char existing_id[RD_ID_BUFSZ], int *found,
				    rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	json_t *skus = json_array();
	char *skus_text = NULL;
	int rc;
	int ret;

	*found = 0;
	existing_id[0] = '\0';
	for (size_t i = 0; skus && i < d->item_count; i++)
		if (json_array_append_new(skus,
					  json_string(d->items[i].sku)) != 0) {
			json_decref(skus);
			skus = NULL;
		}
	if (!skus || !(skus_text = rd_json_dumps(skus, JSON_COMPACT))) {
		ret = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if ((ret = rd_store__stmt(st, RD_STMT_OPEN_ORDER_LOCK, &stmt,
				  err)) < 0)
		goto done;
	rc = rd_store__bind_text(stmt, 1, d->storefront);
	rc |= rd_store__bind_text(stmt, 2, d->order_ref);
	rc = rd_store__step(st, stmt, rc);
	/* the reason is read before the reset, as rd_store__fail asks */
	if (rc != RD_DB_ROW)
		ret = rd_store__fail(st, rc, err, "cannot wait for the other "
				     "openings of order %.64s", d->order_ref);
	rd_store__release(stmt);
	stmt = NULL;
	if (ret < 0)
		goto done;
	if ((ret = rd_store__stmt(st, RD_STMT_DISPUTE_OPEN_DUPLICATE, &stmt,
				  err)) < 0)
		goto done;
	rc = rd_store__bind_text(stmt, 1, d->storefront);
	rc |= rd_store__bind_text(stmt, 2, d->order_ref);
	rc |= rd_store__bind_text(stmt, 3, skus_text);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		ret = rd_store__column_copy(stmt, 0, existing_id, RD_ID_BUFSZ,
					    err);
		*found = ret == RD_OK;
	} else if (rc == RD_DB_DONE) {
		ret = RD_OK;
	} else {
		ret = rd_store__fail(st, rc, err, "cannot look up the open "
				     "disputes of order %.64s", d->order_ref);
	}
done:
	rd_store__release(stmt);
	free(skus_text);
	json_decref(skus);
	return ret;
}

/* 1 when a dispute with this id exists, 0 when not, or a negative code. */
static int dispute_exists(rd_store *st, const char *id, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_DISPUTE_EXISTS, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		ret = 1;
	else if (rc == RD_DB_DONE)
		ret = 0;
	else
		ret = rd_store__fail(st, rc, err, "cannot look up dispute %s",
				     id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_dispute_update(rd_store *st, const rd_dispute *d,
			    int64_t expected_version, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_dispute_update",
					err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_DISPUTE_UPDATE, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, d->id);
	rc |= rd_store__bind_text(stmt, 2, d->state);
	rc |= rd_store__bind_text(stmt, 3, d->outcome);
	rc |= rd_store__bind_text(stmt, 4, d->assignee);
	rc |= rd_db_bind_int64(stmt, 5, d->version);
	rc |= rd_db_bind_int64(stmt, 6, d->updated_at);
	rc |= rd_db_bind_int64(stmt, 7, expected_version);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot update dispute %s",
				     d->id);
		goto done;
	}
	if (rd_db_changes(stmt) == 1)
		goto done;

	rd_store__release(stmt);
	stmt = NULL;
	ret = dispute_exists(st, d->id, err);
	if (ret == 1)
		ret = rd_error_set(err, RD_ESTALE,
				   "dispute %s is no longer at version %lld "
				   "(it was changed meanwhile); reload it and "
				   "try again", d->id,
				   (long long)expected_version);
	else if (ret == 0)
		ret = rd_error_set(err, RD_ENOTFOUND, "no dispute with id %s",
				   d->id);
done:
	rd_store__release(stmt);
	return ret;
}

int rd_store_head_get(rd_store *st, const char *dispute_id, char out[41],
		      rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	out[0] = '\0';
	if ((ret = rd_store__stmt(st, RD_STMT_HEAD_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_DONE)
		ret = rd_error_set(err, RD_ENOTFOUND, "no dispute with id %s",
				   dispute_id ? dispute_id : "(null)");
	else if (rc != RD_DB_ROW)
		ret = rd_store__fail(st, rc, err,
				     "cannot read the git head of dispute %s",
				     dispute_id ? dispute_id : "(null)");
	else
		ret = rd_store__column_copy(stmt, 0, out, 41, err);
	rd_store__release(stmt);
	return ret;
}

/*
 * head is a commit id (40 lowercase hex digits); NULL or "" records that
 * none is known, as for a dispute indexed before schema 3.
 */
int rd_store_head_set(rd_store *st, const char *dispute_id, const char *head,
		      rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_head_set", err)) < 0)
		return ret;
	if (head && *head && !rd_store__is_oid(head))
		return rd_error_set_field(err, RD_EINVALID, "head",
					  "\"%s\" is not a git commit id "
					  "(40 lowercase hex digits)", head);
	if ((ret = rd_store__stmt(st, RD_STMT_HEAD_SET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_store__bind_text(stmt, 2, head && *head ? head : NULL);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot record the git head of dispute %s",
				     dispute_id ? dispute_id : "(null)");
	else if (rd_db_changes(stmt) != 1)
		ret = rd_error_set(err, RD_ENOTFOUND, "no dispute with id %s",
				   dispute_id ? dispute_id : "(null)");
	rd_store__release(stmt);
	return ret;
}

int rd_store_dispute_ids(rd_store *st, const char *after, size_t max,
			 char ***out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	char **ids = NULL;
	size_t n = 0;
	size_t room = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if (max == 0)
		return RD_OK;
	if ((ret = rd_store__stmt(st, RD_STMT_DISPUTE_IDS, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, after ? after : "");
	rc |= rd_db_bind_int64(stmt, 2, max > INT64_MAX ? INT64_MAX :
			       (int64_t)max);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW && n < max;
	     rc = rd_db_step(stmt)) {
		if (n == room) {
			size_t grown = room ? room * 2 : 64;
			char **more = realloc(ids, grown * sizeof(*more));

			if (!more) {
				ret = rd_error_set(err, RD_ENOMEM,
						   "out of memory");
				goto done;
			}
			ids = more;
			room = grown;
		}
		if ((ret = rd_store__column_strdup(stmt, 0, &ids[n],
						   err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_DONE && rc != RD_DB_ROW) {
		ret = rd_store__fail(st, rc, err,
				     "cannot list the dispute ids after \"%s\"",
				     after ? after : "");
		goto done;
	}
	*out = ids;
	*count = n;
	ids = NULL;
done:
	rd_store__release(stmt);
	rd_strings_free(ids, n);
	return ret;
}
