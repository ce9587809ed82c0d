/*
 * The outbox of events for storefronts, and the webhooks that deliver
 * them: endpoints, the fan-out of events to them, the leases of the
 * workers that send, and the log of every attempt.
 *
 * This file only keeps rows. What an event says (service/outbox.c), when
 * a failed delivery is tried again and when an endpoint is disabled
 * (service/webhooks.c) and how a delivery is sent (src/webhook/) are
 * decided elsewhere. A position along the outbox is two numbers (see
 * statements.c): on PostgreSQL a commit's number and a row's within it,
 * so that readers follow commit order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* ---- positions ---- */

static void position_format(char out[RD_OUTBOX_CURSOR_BUFSZ], int64_t n,
			    int64_t seq)
{
	snprintf(out, RD_OUTBOX_CURSOR_BUFSZ, "%" PRId64 ".%" PRId64, n, seq);
}

/* One decimal number of a position: digits only, no sign, no leading 0. */
static const char *number_parse(const char *s, int64_t *out)
{
	int64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return NULL;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return p;
}

static int position_parse(const char *text, int64_t *n, int64_t *seq,
			  rd_error *err)
{
	const char *p;

	*n = 0;
	*seq = 0;
	if (!text || !*text)
		return RD_OK;
	if ((p = number_parse(text, n)) == NULL || *p != '.' ||
	    (p = number_parse(p + 1, seq)) == NULL || *p != '\0')
		return rd_error_set_field(err, RD_EINVALID, "after",
					  "after: \"%.64s\" is not a cursor of "
					  "the event feed (pass back a "
					  "next_cursor as it was given)", text);
	return RD_OK;
}

/* ---- lists ---- */

/* Fill the element at `elem` from the statement's current row. */
typedef int (*row_reader)(rd_db_stmt *stmt, void *elem, rd_error *err);

/*
 * Read every row of stmt, whose first step's result is `rc`, into a new
 * array of `size`-byte elements: *out and *count are the rows read, also
 * on failure (the element being read counted, zeroed first by its
 * reader), for the caller's own free function. `what` ends the message
 * of a failed step ("cannot read <what>").
 */
static int read_rows(rd_store *st, rd_db_stmt *stmt, int rc, size_t size,
		     row_reader read, void **out, size_t *count,
		     const char *what, rd_error *err)
{
	size_t room = 0;

	*out = NULL;
	*count = 0;
	for (; rc == RD_DB_ROW; rc = rd_db_step(stmt)) {
		char *elem;
		int ret;

		if ((ret = rd_store__grow(out, *count, &room, size, err)) < 0)
			return ret;
		elem = (char *)*out + *count * size;
		memset(elem, 0, size);
		ret = read(stmt, elem, err);
		(*count)++;
		if (ret < 0)
			return ret;
	}
	if (rc != RD_DB_DONE)
		return rd_store__fail(st, rc, err, "cannot read %s", what);
	return RD_OK;
}

/* ---- the outbox ---- */

int rd_store_outbox_add(rd_store *st, const rd_outbox_event *ev,
			rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_outbox_add", err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_OUTBOX_ADD, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, ev->id);
	rc |= rd_store__bind_text(stmt, 2, ev->dispute_id);
	rc |= rd_store__bind_text(stmt, 3, ev->storefront);
	rc |= rd_db_bind_int64(stmt, 4, ev->version);
	rc |= rd_store__bind_text(stmt, 5, ev->type);
	rc |= rd_db_bind_int64(stmt, 6, ev->created_at);
	rc |= rd_store__bind_text(stmt, 7, ev->payload);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record event %s of "
				     "dispute %s", ev->type, ev->dispute_id);
	else
		st->tx_changes = 1;  /* numbered in commit order as it commits */
	rd_store__release(stmt);
	return ret;
}

void rd_outbox_events_free(rd_outbox_event *events, size_t count)
{
	for (size_t i = 0; events && i < count; i++)
		free(events[i].payload);
	free(events);
}

/* Columns: position (2), then OUTBOX_COLUMNS of statements.c. */
static int event_from_row(rd_db_stmt *stmt, void *elem, rd_error *err)
{
	rd_outbox_event *ev = elem;
	int ret;

	position_format(ev->cursor, rd_db_column_int64(stmt, 0),
			rd_db_column_int64(stmt, 1));
	if ((ret = rd_store__column_copy(stmt, 2, ev->id, sizeof(ev->id),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, ev->dispute_id,
					 sizeof(ev->dispute_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, ev->storefront,
					 sizeof(ev->storefront), err)) < 0)
		return ret;
	ev->version = rd_db_column_int64(stmt, 5);
	if ((ret = rd_store__column_copy(stmt, 6, ev->type, sizeof(ev->type),
					 err)) < 0)
		return ret;
	ev->created_at = rd_db_column_int64(stmt, 7);
	if (rd_db_column_count(stmt) > 8)
		return rd_store__column_strdup(stmt, 8, &ev->payload, err);
	return RD_OK;
}

int rd_store_outbox_after(rd_store *st, const char *after,
			  const char *storefront, const char *types,
			  size_t limit, rd_outbox_event **out, size_t *count,
			  char next_cursor[RD_OUTBOX_CURSOR_BUFSZ],
			  rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	void *list = NULL;
	size_t n = 0;
	int64_t pos_n, pos_seq;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	/* read before next_cursor is written: they may be one buffer */
	if ((ret = position_parse(after, &pos_n, &pos_seq, err)) < 0)
		return ret;
	next_cursor[0] = '\0';
	if (limit < 1 || limit > 500)
		return rd_error_set_field(err, RD_EINVALID, "limit",
					  "limit: %zu is not between 1 and "
					  "500", limit);
	if ((ret = rd_store__stmt(st, RD_STMT_OUTBOX_AFTER, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, pos_n);
	rc |= rd_db_bind_int64(stmt, 2, pos_seq);
	rc |= rd_store__bind_text(stmt, 3, storefront);
	rc |= rd_store__bind_text(stmt, 4, types);
	rc |= rd_db_bind_int64(stmt, 5, (int64_t)limit);
	ret = read_rows(st, stmt, rd_store__step(st, stmt, rc),
			sizeof(rd_outbox_event), event_from_row, &list, &n,
			"the event feed", err);
	rd_store__release(stmt);
	if (ret < 0) {
		rd_outbox_events_free(list, n);
		return ret;
	}
	if (n > 0)
		snprintf(next_cursor, RD_OUTBOX_CURSOR_BUFSZ, "%s",
			 ((rd_outbox_event *)list)[n - 1].cursor);
	else
		position_format(next_cursor, pos_n, pos_seq);
	*out = list;
	*count = n;
	return RD_OK;
}

static int outbox_end(rd_store *st, int64_t *pos_n, int64_t *pos_seq,
		      rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_OUTBOX_END, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, RD_DB_OK);
	if (rc == RD_DB_ROW) {
		*pos_n = rd_db_column_int64(stmt, 0);
		*pos_seq = rd_db_column_int64(stmt, 1);
	} else {
		ret = rd_store__fail(st, rc, err,
				     "cannot read the end of the event feed");
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_outbox_end(rd_store *st, char cursor[RD_OUTBOX_CURSOR_BUFSZ],
			rd_error *err)
{
	int64_t n = 0, seq = 0;
	int ret = outbox_end(st, &n, &seq, err);

	if (ret == RD_OK)
		position_format(cursor, n, seq);
	return ret;
}

/* Run a statement of one time parameter that answers no row. */
static int exec_at(rd_store *st, int id, int64_t at, size_t *changed,
		   const char *what, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, rd_db_bind_int64(stmt, 1, at));
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot %s", what);
	else if (changed)
		*changed = (size_t)rd_db_changes(stmt);
	rd_store__release(stmt);
	return ret;
}

int rd_store_outbox_purge(rd_store *st, int64_t events_before,
			  int64_t deliveries_before, size_t *removed,
			  rd_error *err)
{
	int ret;

	*removed = 0;
	if ((ret = rd_store__require_tx(st, "rd_store_outbox_purge",
					err)) < 0 ||
	    (ret = exec_at(st, RD_STMT_DELIVERIES_PURGE, deliveries_before,
			   NULL, "remove the old webhook deliveries", err)) < 0)
		return ret;
	return exec_at(st, RD_STMT_OUTBOX_PURGE, events_before, removed,
		       "remove the old events of the outbox", err);
}

/* ---- endpoints ---- */

/* Columns as ENDPOINT_COLUMNS of statements.c. */
static int endpoint_from_row(rd_db_stmt *stmt, void *elem, rd_error *err)
{
	rd_webhook_endpoint *ep = elem;
	int ret;

	if ((ret = rd_store__column_copy(stmt, 0, ep->id, sizeof(ep->id),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 1, ep->url, sizeof(ep->url),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, ep->events,
					 sizeof(ep->events), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, ep->description,
					 sizeof(ep->description), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, ep->storefront,
					 sizeof(ep->storefront), err)) < 0)
		return ret;
	ep->enabled = rd_db_column_int64(stmt, 5) != 0;
	if ((ret = rd_store__column_copy(stmt, 6, ep->disabled_reason,
					 sizeof(ep->disabled_reason),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 7, ep->secret,
					 sizeof(ep->secret), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 8, ep->previous_secret,
					 sizeof(ep->previous_secret),
					 err)) < 0)
		return ret;
	ep->previous_expires_at = rd_store__column_optional(stmt, 9);
	ep->created_at = rd_db_column_int64(stmt, 10);
	ep->updated_at = rd_db_column_int64(stmt, 11);
	ep->failing_since = rd_store__column_optional(stmt, 12);
	return RD_OK;
}

/* Bind ENDPOINT_COLUMNS' values from ?1 (insert) or the update's order. */
static int bind_endpoint(rd_db_stmt *stmt, const rd_webhook_endpoint *ep,
			 int for_insert)
{
	int rc;
	int i = 2;

	rc = rd_store__bind_text(stmt, 1, ep->id);
	rc |= rd_store__bind_text(stmt, i++, ep->url);
	rc |= rd_store__bind_text(stmt, i++, ep->events);
	rc |= rd_store__bind_text(stmt, i++, ep->description);
	if (for_insert)
		rc |= rd_store__bind_text(stmt, i++, ep->storefront[0]
						     ? ep->storefront : NULL);
	rc |= rd_db_bind_int64(stmt, i++, ep->enabled ? 1 : 0);
	rc |= rd_store__bind_text(stmt, i++, ep->disabled_reason[0]
					     ? ep->disabled_reason : NULL);
	rc |= rd_store__bind_text(stmt, i++, ep->secret);
	rc |= rd_store__bind_text(stmt, i++, ep->previous_secret[0]
					     ? ep->previous_secret : NULL);
	rc |= rd_store__bind_optional(stmt, i++, ep->previous_expires_at);
	if (for_insert)
		rc |= rd_db_bind_int64(stmt, i++, ep->created_at);
	rc |= rd_db_bind_int64(stmt, i++, ep->updated_at);
	rc |= rd_store__bind_optional(stmt, i, ep->failing_since);
	return rc;
}

int rd_store_webhook_insert(rd_store *st, const rd_webhook_endpoint *ep,
			    const rd_webhook_idem *idem, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_webhook_insert",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_WEBHOOK_INSERT, &stmt, err)) < 0)
		return ret;
	rc = bind_endpoint(stmt, ep, 1);
	rc |= rd_store__bind_text(stmt, 14, idem ? idem->key_id : NULL);
	rc |= rd_store__bind_text(stmt, 15, idem ? idem->key : NULL);
	rc |= rd_store__bind_text(stmt, 16, idem ? idem->request_sha256
						 : NULL);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record webhook "
				     "endpoint %s", ep->id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_webhook_by_idem(rd_store *st, const char *key_id,
			     const char *key, int64_t since,
			     rd_webhook_endpoint *out, char digest[65],
			     int *found, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*found = 0;
	digest[0] = '\0';
	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__require_tx(st, "rd_store_webhook_by_idem",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_WEBHOOK_IDEM_EXPIRE, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, key_id);
	rc |= rd_store__bind_text(stmt, 2, key);
	rc |= rd_db_bind_int64(stmt, 3, since);
	rc = rd_store__step(st, stmt, rc);
	rd_store__release(stmt);
	if (rc != RD_DB_DONE)
		return rd_store__fail(st, rc, err, "cannot free an old "
				      "Idempotency-Key of webhook endpoints");
	if ((ret = rd_store__stmt(st, RD_STMT_WEBHOOK_BY_IDEM, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, key_id);
	rc |= rd_store__bind_text(stmt, 2, key);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		if ((ret = endpoint_from_row(stmt, out, err)) == RD_OK &&
		    (ret = rd_store__column_copy(stmt, 13, digest, 65,
						 err)) == RD_OK)
			*found = 1;
	} else if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot read the webhook "
				     "endpoint of an Idempotency-Key");
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_webhook_get(rd_store *st, const char *id,
			 rd_webhook_endpoint *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_WEBHOOK_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, rd_store__bind_text(stmt, 1, id));
	if (rc == RD_DB_ROW)
		ret = endpoint_from_row(stmt, out, err);
	else if (rc == RD_DB_DONE)
		ret = rd_error_set_field(err, RD_ENOTFOUND, "id",
					 "no webhook endpoint %.40s", id);
	else
		ret = rd_store__fail(st, rc, err, "cannot read webhook "
				     "endpoint %.40s", id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_webhooks_list(rd_store *st, const char *storefront,
			   rd_webhook_endpoint **out, size_t *count,
			   rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	void *list = NULL;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_WEBHOOKS_LIST, &stmt, err)) < 0)
		return ret;
	ret = read_rows(st, stmt,
			rd_store__step(st, stmt,
				       rd_store__bind_text(stmt, 1, storefront)),
			sizeof(rd_webhook_endpoint), endpoint_from_row, &list,
			count, "the webhook endpoints", err);
	rd_store__release(stmt);
	if (ret < 0) {
		free(list);
		*count = 0;
		return ret;
	}
	*out = list;
	return RD_OK;
}

int rd_store_webhook_update(rd_store *st, const rd_webhook_endpoint *ep,
			    rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_webhook_update",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_WEBHOOK_UPDATE, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, bind_endpoint(stmt, ep, 0));
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot change webhook "
				     "endpoint %s", ep->id);
	else if (rd_db_changes(stmt) == 0)
		ret = rd_error_set_field(err, RD_ENOTFOUND, "id",
					 "no webhook endpoint %s", ep->id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_webhook_delete(rd_store *st, const char *id, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_webhook_delete",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_WEBHOOK_DELETE, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, rd_store__bind_text(stmt, 1, id));
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot remove webhook "
				     "endpoint %.40s", id);
	else if (rd_db_changes(stmt) == 0)
		ret = rd_error_set_field(err, RD_ENOTFOUND, "id",
					 "no webhook endpoint %.40s", id);
	rd_store__release(stmt);
	return ret;
}

/* ---- the fan-out ---- */

/* What the fan-out reads of an endpoint. */
typedef struct fanout_target {
	char id[RD_WEBHOOK_ID_BUFSZ];
	char storefront[65];
	char events[RD_WEBHOOK_EVENTS_MAX + 1];
	int64_t pos_n;
	int64_t pos_seq;
} fanout_target;

/* 1 when an endpoint of `events` ("*" or a comma-separated list) takes type. */
static int takes_type(const char *events, const char *type)
{
	size_t len = strlen(type);

	const char *rest = events, *item;
	size_t n;

	if (strcmp(events, "*") == 0)
		return 1;
	while (rd_event_types_next(&rest, &item, &n))
		if (n == len && memcmp(item, type, len) == 0)
			return 1;
	return 0;
}

static int target_from_row(rd_db_stmt *stmt, void *elem, rd_error *err)
{
	fanout_target *t = elem;
	int ret;

	if ((ret = rd_store__column_copy(stmt, 0, t->id, sizeof(t->id),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 1, t->storefront,
					 sizeof(t->storefront), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, t->events,
					 sizeof(t->events), err)) < 0)
		return ret;
	t->pos_n = rd_db_column_int64(stmt, 3);
	t->pos_seq = rd_db_column_int64(stmt, 4);
	return RD_OK;
}

static int fanout_targets(rd_store *st, void **out, size_t *count,
			  rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_WEBHOOK_FANOUT_LOCK, &stmt,
				  err)) < 0)
		return ret;
	ret = read_rows(st, stmt, rd_store__step(st, stmt, RD_DB_OK),
			sizeof(fanout_target), target_from_row, out, count,
			"the webhook endpoints to fan events out to", err);
	rd_store__release(stmt);
	return ret;
}

/* A delivery of the event at the scan's current row to endpoint t. */
static int delivery_insert(rd_store *st, const fanout_target *t,
			   int64_t seq, const rd_outbox_event *ev, int64_t now,
			   rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	char id[RD_WEBHOOK_ID_BUFSZ];
	char ulid[RD_ID_BUFSZ];
	int rc;
	int ret;

	if ((ret = rd_id_generate(ulid, now, err)) < 0)
		return ret;
	snprintf(id, sizeof(id), "wd_%s", ulid);
	if ((ret = rd_store__stmt(st, RD_STMT_DELIVERY_INSERT, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, id);
	rc |= rd_store__bind_text(stmt, 2, t->id);
	rc |= rd_db_bind_int64(stmt, 3, seq);
	rc |= rd_store__bind_text(stmt, 4, ev->id);
	rc |= rd_store__bind_text(stmt, 5, ev->type);
	rc |= rd_store__bind_text(stmt, 6, ev->dispute_id);
	rc |= rd_db_bind_int64(stmt, 7, ev->version);
	rc |= rd_db_bind_int64(stmt, 8, now);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the delivery "
				     "of event %s to webhook endpoint %s",
				     ev->id, t->id);
	rd_store__release(stmt);
	return ret;
}

/* The events of the scan, read whole first: one statement at a time. */
typedef struct scanned {
	int64_t n;
	int64_t seq;
	rd_outbox_event ev;
} scanned;

static int scanned_from_row(rd_db_stmt *stmt, void *elem, rd_error *err)
{
	scanned *row = elem;

	row->n = rd_db_column_int64(stmt, 0);
	row->seq = rd_db_column_int64(stmt, 1);
	return event_from_row(stmt, &row->ev, err);
}

static int scan_after(rd_store *st, const fanout_target *t, size_t limit,
		      void **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_OUTBOX_SCAN, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, t->pos_n);
	rc |= rd_db_bind_int64(stmt, 2, t->pos_seq);
	rc |= rd_db_bind_int64(stmt, 3, (int64_t)limit);
	ret = read_rows(st, stmt, rd_store__step(st, stmt, rc),
			sizeof(scanned), scanned_from_row, out, count,
			"the outbox to fan out", err);
	rd_store__release(stmt);
	return ret;
}

static int position_set(rd_store *st, const char *id, int64_t n,
			int64_t seq, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_WEBHOOK_POSITION_SET, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, id);
	rc |= rd_db_bind_int64(stmt, 2, n);
	rc |= rd_db_bind_int64(stmt, 3, seq);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot move webhook "
				     "endpoint %s along the outbox", id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_webhook_fanout(rd_store *st, int64_t now, size_t limit,
			    size_t *made, rd_error *err)
{
	void *targets_read = NULL, *events_read = NULL;
	size_t target_count = 0, event_count = 0;
	int ret;

	*made = 0;
	if ((ret = rd_store__require_tx(st, "rd_store_webhook_fanout",
					err)) < 0 ||
	    (ret = fanout_targets(st, &targets_read, &target_count,
				  err)) < 0) {
		free(targets_read);
		return ret;
	}
	for (size_t i = 0; i < target_count && ret == RD_OK; i++) {
		const fanout_target *t = (fanout_target *)targets_read + i;
		const scanned *events;

		ret = scan_after(st, t, limit, &events_read, &event_count,
				 err);
		events = events_read;
		for (size_t j = 0; j < event_count && ret == RD_OK; j++) {
			const rd_outbox_event *ev = &events[j].ev;

			if ((t->storefront[0] &&
			     strcmp(t->storefront, ev->storefront) != 0) ||
			    !takes_type(t->events, ev->type))
				continue;
			ret = delivery_insert(st, t, events[j].seq, ev, now,
					      err);
			*made += ret == RD_OK;
		}
		if (ret == RD_OK && event_count > 0)
			ret = position_set(st, t->id,
					   events[event_count - 1].n,
					   events[event_count - 1].seq, err);
		free(events_read);
		events_read = NULL;
	}
	free(targets_read);
	return ret;
}

/* ---- leases and attempts ---- */

void rd_webhook_jobs_free(rd_webhook_job *jobs, size_t count)
{
	for (size_t i = 0; jobs && i < count; i++)
		free(jobs[i].payload);
	free(jobs);
}

/* Columns as DELIVERY_JOB of statements.c. */
static int job_from_row(rd_db_stmt *stmt, void *elem, rd_error *err)
{
	rd_webhook_job *job = elem;
	int ret;

	job->n = rd_db_column_int64(stmt, 0);
	if ((ret = rd_store__column_copy(stmt, 1, job->id, sizeof(job->id),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, job->event_id,
					 sizeof(job->event_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, job->endpoint_id,
					 sizeof(job->endpoint_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, job->url, sizeof(job->url),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 5, job->secret,
					 sizeof(job->secret), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 6, job->previous_secret,
					 sizeof(job->previous_secret),
					 err)) < 0)
		return ret;
	job->tries = rd_db_column_int64(stmt, 7);
	job->attempts = rd_db_column_int64(stmt, 8);
	return rd_store__column_strdup(stmt, 9, &job->payload, err);
}

int rd_store_webhook_claim(rd_store *st, int64_t now, int64_t lease_s,
			   const char *lease, size_t limit,
			   rd_webhook_job **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	void *list = NULL;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__require_tx(st, "rd_store_webhook_claim",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_DELIVERIES_CLAIM, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, now);
	rc |= rd_db_bind_int64(stmt, 2, now + lease_s);
	rc |= rd_store__bind_text(stmt, 3, lease);
	rc |= rd_db_bind_int64(stmt, 4, (int64_t)limit);
	rc = rd_store__step(st, stmt, rc);
	rd_store__release(stmt);
	stmt = NULL;
	if (rc != RD_DB_DONE)
		return rd_store__fail(st, rc, err, "cannot lease the webhook "
				      "deliveries due");
	if ((ret = rd_store__stmt(st, RD_STMT_DELIVERY_JOBS, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, lease);
	rc |= rd_db_bind_int64(stmt, 2, now);
	ret = read_rows(st, stmt, rd_store__step(st, stmt, rc),
			sizeof(rd_webhook_job), job_from_row, &list, count,
			"the webhook deliveries leased", err);
	rd_store__release(stmt);
	if (ret < 0) {
		rd_webhook_jobs_free(list, *count);
		*count = 0;
		return ret;
	}
	*out = list;
	return RD_OK;
}

int rd_store_webhook_attempt_add(rd_store *st, int64_t delivery_n,
				 const char *lease,
				 const rd_webhook_attempt *attempt,
				 const char *status, int *kept, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int64_t number = 0;
	int rc;
	int ret;

	*kept = 0;
	if ((ret = rd_store__require_tx(st, "rd_store_webhook_attempt_add",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_DELIVERY_FINISH, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, delivery_n);
	rc |= rd_store__bind_text(stmt, 2, lease);
	rc |= rd_store__bind_text(stmt, 3, status);
	rc |= rd_store__bind_optional(stmt, 4, attempt->next_at);
	rc |= rd_db_bind_int64(stmt, 5, attempt->at);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		number = rd_db_column_int64(stmt, 0);
		rc = rd_db_step(stmt);
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the outcome "
				     "of a webhook delivery");
	rd_store__release(stmt);
	if (ret < 0 || number == 0)
		return ret;  /* the lease is another's now */
	if ((ret = rd_store__stmt(st, RD_STMT_ATTEMPT_INSERT, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, delivery_n);
	rc |= rd_db_bind_int64(stmt, 2, number);
	rc |= rd_db_bind_int64(stmt, 3, attempt->at);
	rc |= rd_store__bind_optional(stmt, 4, attempt->status_code);
	rc |= rd_db_bind_int64(stmt, 5, attempt->latency_ms);
	rc |= rd_store__bind_text(stmt, 6, attempt->answer);
	rc |= rd_store__bind_text(stmt, 7, attempt->error[0] ? attempt->error
							     : NULL);
	rc |= rd_store__bind_optional(stmt, 8, attempt->next_at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot log an attempt of a "
				     "webhook delivery");
	else
		*kept = 1;
	rd_store__release(stmt);
	return ret;
}

int rd_store_webhook_failing(rd_store *st, const char *endpoint_id, int ok,
			     int64_t now, int64_t *since, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*since = 0;
	if ((ret = rd_store__require_tx(st, "rd_store_webhook_failing",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_WEBHOOK_FAILING, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, endpoint_id);
	rc |= rd_db_bind_int64(stmt, 2, ok ? 1 : 0);
	rc |= rd_db_bind_int64(stmt, 3, now);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		*since = rd_store__column_optional(stmt, 0);
		rc = rd_db_step(stmt);
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the health "
				     "of webhook endpoint %s", endpoint_id);
	rd_store__release(stmt);
	return ret;
}

/* ---- the delivery log ---- */

void rd_webhook_deliveries_free(rd_webhook_delivery *list, size_t count)
{
	for (size_t i = 0; list && i < count; i++)
		free(list[i].attempts);
	free(list);
}

/* Columns as DELIVERY_COLUMNS of statements.c. */
static int delivery_from_row(rd_db_stmt *stmt, void *elem, rd_error *err)
{
	rd_webhook_delivery *d = elem;
	int ret;

	d->n = rd_db_column_int64(stmt, 0);
	if ((ret = rd_store__column_copy(stmt, 1, d->id, sizeof(d->id),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, d->event_id,
					 sizeof(d->event_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, d->event_type,
					 sizeof(d->event_type), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, d->dispute_id,
					 sizeof(d->dispute_id), err)) < 0)
		return ret;
	d->version = rd_db_column_int64(stmt, 5);
	if ((ret = rd_store__column_copy(stmt, 6, d->status,
					 sizeof(d->status), err)) < 0)
		return ret;
	d->attempt_count = rd_db_column_int64(stmt, 7);
	d->next_at = strcmp(d->status, "pending") == 0
			     ? rd_store__column_optional(stmt, 8) : 0;
	d->created_at = rd_db_column_int64(stmt, 9);
	d->finished_at = rd_store__column_optional(stmt, 10);
	return RD_OK;
}

static int attempt_from_row(rd_db_stmt *stmt, void *elem, rd_error *err)
{
	rd_webhook_attempt *a = elem;
	int ret;

	a->n = rd_db_column_int64(stmt, 0);
	a->at = rd_db_column_int64(stmt, 1);
	a->status_code = (long)rd_store__column_optional(stmt, 2);
	a->latency_ms = rd_db_column_int64(stmt, 3);
	if ((ret = rd_store__column_copy(stmt, 4, a->answer,
					 sizeof(a->answer), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 5, a->error, sizeof(a->error),
					 err)) < 0)
		return ret;
	a->next_at = rd_store__column_optional(stmt, 6);
	return RD_OK;
}

static int attempts_read(rd_store *st, rd_webhook_delivery *d, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	void *list = NULL;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_ATTEMPTS_OF, &stmt, err)) < 0)
		return ret;
	ret = read_rows(st, stmt,
			rd_store__step(st, stmt,
				       rd_db_bind_int64(stmt, 1, d->n)),
			sizeof(rd_webhook_attempt), attempt_from_row, &list,
			&d->attempts_count, "the attempts of a webhook "
			"delivery", err);
	d->attempts = list;
	rd_store__release(stmt);
	return ret;
}

int rd_store_webhook_deliveries(rd_store *st, const char *endpoint_id,
				const char *cursor, size_t limit,
				rd_webhook_delivery **out, size_t *count,
				char next_cursor[RD_OUTBOX_CURSOR_BUFSZ],
				rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_webhook_delivery *list;
	void *read = NULL;
	size_t n = 0;
	int64_t before = INT64_MAX;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if (limit < 1 || limit > 100)
		return rd_error_set_field(err, RD_EINVALID, "limit",
					  "limit: %zu is not between 1 and "
					  "100", limit);
	if (cursor && *cursor) {
		const char *end = number_parse(cursor, &before);

		if (!end || *end || before < 1)
			return rd_error_set_field(err, RD_EINVALID, "cursor",
				"cursor: \"%.64s\" is not a cursor of this "
				"list (pass back a next_cursor as it was "
				"given)", cursor);
	}
	next_cursor[0] = '\0';  /* once the cursor is read: one buffer */
	if ((ret = rd_store__stmt(st, RD_STMT_DELIVERIES_OF, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, endpoint_id);
	rc |= rd_db_bind_int64(stmt, 2, before);
	rc |= rd_db_bind_int64(stmt, 3, (int64_t)limit + 1);
	ret = read_rows(st, stmt, rd_store__step(st, stmt, rc),
			sizeof(rd_webhook_delivery), delivery_from_row, &read,
			&n, "the deliveries of a webhook endpoint", err);
	rd_store__release(stmt);
	list = read;
	if (ret == RD_OK && n > limit) {
		n = limit;
		snprintf(next_cursor, RD_OUTBOX_CURSOR_BUFSZ, "%" PRId64,
			 list[n - 1].n);
	}
	for (size_t i = 0; i < n && ret == RD_OK; i++)
		ret = attempts_read(st, &list[i], err);
	if (ret < 0) {
		rd_webhook_deliveries_free(list, n);
		return ret;
	}
	*out = list;
	*count = n;
	return RD_OK;
}

int rd_store_webhook_delivery_get(rd_store *st, const char *endpoint_id,
				  const char *delivery_id,
				  rd_webhook_delivery *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_DELIVERY_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, endpoint_id);
	rc |= rd_store__bind_text(stmt, 2, delivery_id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		ret = delivery_from_row(stmt, out, err);
	else if (rc == RD_DB_DONE)
		ret = rd_error_set_field(err, RD_ENOTFOUND, "delivery_id",
					 "no delivery %.40s of webhook "
					 "endpoint %.40s", delivery_id,
					 endpoint_id);
	else
		ret = rd_store__fail(st, rc, err, "cannot read delivery "
				     "%.40s", delivery_id);
	rd_store__release(stmt);
	if (ret == RD_OK && (ret = attempts_read(st, out, err)) < 0) {
		free(out->attempts);
		out->attempts = NULL;
	}
	return ret;
}

int rd_store_webhook_retry(rd_store *st, const char *endpoint_id,
			   const char *delivery_id, int64_t now, rd_error *err)
{
	rd_webhook_delivery existing;
	rd_db_stmt *stmt = NULL;
	int64_t changed = 0;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_webhook_retry",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_DELIVERY_RETRY, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, endpoint_id);
	rc |= rd_store__bind_text(stmt, 2, delivery_id);
	rc |= rd_db_bind_int64(stmt, 3, now);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot retry delivery "
				     "%.40s", delivery_id);
	else
		changed = rd_db_changes(stmt);
	rd_store__release(stmt);
	if (ret < 0 || changed > 0)
		return ret;
	/* none changed: no such delivery, or one being sent right now */
	if ((ret = rd_store_webhook_delivery_get(st, endpoint_id, delivery_id,
						 &existing, err)) < 0)
		return ret;
	free(existing.attempts);
	return rd_error_set(err, RD_ECONFLICT, "delivery %s is being sent "
			    "right now; see its outcome in the delivery log",
			    delivery_id);
}

int rd_store_webhook_backlog(rd_store *st, int64_t *pending,
			     int64_t *oldest_created_at, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*pending = 0;
	*oldest_created_at = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_WEBHOOK_BACKLOG, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, RD_DB_OK);
	if (rc == RD_DB_ROW) {
		*pending = rd_db_column_int64(stmt, 0);
		*oldest_created_at = rd_db_column_int64(stmt, 1);
	} else {
		ret = rd_store__fail(st, rc, err, "cannot count the webhook "
				     "deliveries pending");
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_webhook_work(rd_store *st, int *endpoints, int64_t *next_due,
			  rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*endpoints = 0;
	*next_due = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_WEBHOOK_WORK, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, RD_DB_OK);
	if (rc == RD_DB_ROW) {
		*endpoints = rd_db_column_int64(stmt, 0) != 0;
		*next_due = rd_db_column_is_null(stmt, 1)
				    ? 0 : rd_db_column_int64(stmt, 1);
	} else {
		ret = rd_store__fail(st, rc, err, "cannot read whether webhook "
				     "deliveries are due");
	}
	rd_store__release(stmt);
	return ret;
}
