/*
 * Running totals of the index for monitoring: disputes per state, SLA
 * deadlines fired, evidence bytes stored; and, per storefront, those of
 * the console's overview (schema 7).
 *
 * The totals are kept by the triggers of schemas 5 and 7 in the transaction of
 * every change; this file only reads them, in one statement. It must never
 * count rows of disputes, events or evidence itself: a scrape every few
 * seconds must cost the same with a million disputes as with ten.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static int add_state(rd_store_stats *out, size_t *room, rd_db_stmt *stmt,
		     rd_error *err)
{
	rd_state_count *slot;
	int ret;

	if (out->state_count == *room) {
		size_t grown = *room ? *room * 2 : 16;
		rd_state_count *more = realloc(out->states,
					       grown * sizeof(*more));

		if (!more)
			return rd_error_set(err, RD_ENOMEM, "out of memory "
					    "reading the dispute totals");
		out->states = more;
		*room = grown;
	}
	slot = &out->states[out->state_count];
	memset(slot, 0, sizeof(*slot));
	if ((ret = rd_store__column_copy(stmt, 1, slot->state,
					 sizeof(slot->state), err)) < 0)
		return ret;
	slot->disputes = rd_db_column_int64(stmt, 2);
	out->state_count++;
	return RD_OK;
}

int rd_store_stats_read(rd_store *st, rd_store_stats *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t room = 0;
	int rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_STATS, &stmt, err)) < 0)
		return ret;
	for (rc = rd_db_step(stmt); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		const char *what = rd_db_column_text(stmt, 0);
		const char *name = rd_db_column_text(stmt, 1);

		if (!what || !name) {
			ret = rd_error_set(err, RD_EIO, "a running total in "
					   "the index has no name");
			goto done;
		}
		if (strcmp(what, "state") == 0) {
			if ((ret = add_state(out, &room, stmt, err)) < 0)
				goto done;
		} else if (strcmp(name, "sla_breaches") == 0) {
			out->sla_breaches = rd_db_column_int64(stmt, 2);
		} else if (strcmp(name, "evidence_bytes") == 0) {
			out->evidence_bytes = rd_db_column_int64(stmt, 2);
		}
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot read the running totals");
	rd_store__release(stmt);
	stmt = NULL;
	/* two reads of one row each, from the primary key */
	if (ret == RD_OK &&
	    (ret = rd_store_changes_last(st, &out->changes, err)) == RD_OK)
		ret = rd_store_mirror_position(st, &out->mirror_position, err);
done:
	rd_store__release(stmt);
	if (ret < 0)
		rd_store_stats_clear(out);
	return ret;
}

void rd_store_stats_clear(rd_store_stats *stats)
{
	if (!stats)
		return;
	free(stats->states);
	memset(stats, 0, sizeof(*stats));
}

/* ---- the overview's totals (schema 7) ----------------------------------- */

static const char *const overview_names[RD_OVERVIEW_WHAT_COUNT] = {
	[RD_OVERVIEW_STATE] = "state",
	[RD_OVERVIEW_REASON] = "reason",
	[RD_OVERVIEW_OFFER_MADE] = "offer_made",
	[RD_OVERVIEW_OFFER_ACCEPTED] = "offer_accepted",
	[RD_OVERVIEW_RESOLVED_WITHIN] = "resolved_within",
	[RD_OVERVIEW_SLA_BREACHES] = "sla_breaches",
};

static int overview_add(rd_store_overview *out, size_t *room,
			rd_overview_what what, rd_db_stmt *stmt,
			rd_error *err)
{
	rd_overview_count *slot;
	int ret;

	if (out->count == *room) {
		size_t grown = *room ? *room * 2 : 32;
		rd_overview_count *more = realloc(out->counts,
						  grown * sizeof(*more));

		if (!more)
			return rd_error_set(err, RD_ENOMEM, "out of memory "
					    "reading the overview's totals");
		out->counts = more;
		*room = grown;
	}
	slot = &out->counts[out->count];
	memset(slot, 0, sizeof(*slot));
	slot->what = what;
	if ((ret = rd_store__column_copy(stmt, 1, slot->name,
					 sizeof(slot->name), err)) < 0)
		return ret;
	slot->value = rd_db_column_int64(stmt, 2);
	out->count++;
	return RD_OK;
}

int rd_store_overview_read(rd_store *st, const char *storefront,
			   rd_store_overview *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t room = 0;
	int rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_OVERVIEW, &stmt, err)) < 0)
		return ret;
	if ((rc = rd_store__bind_text(stmt, 1, storefront)) != RD_DB_OK) {
		ret = rd_store__fail(st, rc, err, "cannot read the overview");
		goto done;
	}
	for (rc = rd_db_step(stmt); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		const char *what = rd_db_column_text(stmt, 0);
		size_t k;

		for (k = 0; what && k < RD_OVERVIEW_WHAT_COUNT; k++)
			if (strcmp(what, overview_names[k]) == 0)
				break;
		if (!what || k == RD_OVERVIEW_WHAT_COUNT) {
			ret = rd_error_set(err, RD_EIO, "a total of the "
					   "overview in the index is of no "
					   "known kind");
			goto done;
		}
		if ((ret = overview_add(out, &room, (rd_overview_what)k, stmt,
					err)) < 0)
			goto done;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot read the overview's totals");
done:
	rd_store__release(stmt);
	if (ret < 0)
		rd_store_overview_clear(out);
	return ret;
}

void rd_store_overview_clear(rd_store_overview *overview)
{
	if (!overview)
		return;
	free(overview->counts);
	memset(overview, 0, sizeof(*overview));
}
