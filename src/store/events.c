/*
 * The event log and SLA deadlines.
 *
 * Events are the audit trail: this file only ever appends them (the schema
 * also refuses UPDATE and DELETE on them, whoever asks). A dispute has at
 * most one pending deadline, replaced whenever its state changes.
 */
#include <stdlib.h>
#include <string.h>

#include "redress/json.h"
#include "store/store_int.h"

/*
 * SQLite 3.40's json_valid() answers 0, not an error, when it runs out of
 * memory while parsing, so the CHECK on events.fields fails on valid JSON;
 * PostgreSQL's redress_json_valid (schema_pg.c) catches every failure of
 * its cast, a lack of memory too. A CHECK failure on that column is
 * therefore only RD_EINVALID when the text is not JSON; valid JSON (or no
 * memory to tell) is RD_ENOMEM. The failure itself says which rule it
 * was, SQLite's message or PostgreSQL's constraint name: in PostgreSQL the
 * transaction runs nothing more until it is rolled back.
 */
static int fields_check_failed(rd_store *st, int rc, const char *fields,
			       const rd_event_record *ev, rd_error *err)
{
	const char *constraint = rd_db_failed_constraint(st->db);
	int pg = rd_db_engine_of(st->db) == RD_DB_POSTGRES;
	json_error_t jerr;
	json_t *doc;

	if (rc != RD_DB_ECONSTRAINT)
		return 0;
	if (pg ? !constraint || strcmp(constraint, "events_fields_check") != 0
	       : !strstr(rd_db_errmsg(st->db), "json_valid"))
		return 0;
	doc = rd_json_loadb(fields, strlen(fields), JSON_DECODE_ANY, &jerr);
	json_decref(doc);
	if (!doc && json_error_code(&jerr) != json_error_out_of_memory)
		return 0;
	return rd_error_set(err, RD_ENOMEM, "cannot record event %lld (%s) "
			    "of dispute %s: out of memory (%s could not "
			    "check its fields)", (long long)ev->seq,
			    ev->event ? ev->event : "(null)", ev->dispute_id,
			    pg ? "PostgreSQL" : "SQLite");
}

int rd_store_event_append(rd_store *st, const rd_event_record *ev,
			  rd_error *err)
{
	const char *fields = ev->fields_json ? ev->fields_json : "{}";
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_event_append", err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_EVENT_APPEND, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, ev->dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, ev->seq);
	rc |= rd_store__bind_text(stmt, 3, ev->event);
	rc |= rd_store__bind_text(stmt, 4, rd_role_name(ev->actor.role));
	rc |= rd_store__bind_text(stmt, 5, ev->actor.name);
	rc |= rd_store__bind_text(stmt, 6, ev->actor.key_id[0] ?
				  ev->actor.key_id : NULL);
	rc |= rd_db_bind_int64(stmt, 7, ev->at);
	rc |= rd_store__bind_text(stmt, 8, ev->from_state);
	rc |= rd_store__bind_text(stmt, 9, ev->to_state);
	rc |= rd_store__bind_text(stmt, 10, fields);
	rc |= rd_store__bind_text(stmt, 11, ev->note);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE &&
	    (ret = fields_check_failed(st, rc, fields, ev, err)) == 0)
		ret = rd_store__fail(st, rc, err,
				     "cannot record event %lld (%s) of "
				     "dispute %s", (long long)ev->seq,
				     ev->event ? ev->event : "(null)",
				     ev->dispute_id);
	rd_store__release(stmt);
	return ret;
}

static void event_record_clear(rd_event_record *r)
{
	free(r->event);
	free(r->from_state);
	free(r->to_state);
	free(r->fields_json);
	free(r->note);
}

void rd_event_records_free(rd_event_record *records, size_t count)
{
	if (!records)
		return;
	for (size_t i = 0; i < count; i++)
		event_record_clear(&records[i]);
	free(records);
}

static int event_from_row(rd_db_stmt *stmt, const char *dispute_id,
			  rd_event_record *r, rd_error *err)
{
	char role[32];
	int ret;

	memset(r, 0, sizeof(*r));
	memcpy(r->dispute_id, dispute_id, sizeof(r->dispute_id));
	r->seq = rd_db_column_int64(stmt, 0);
	r->at = rd_db_column_int64(stmt, 5);
	if ((ret = rd_store__column_copy(stmt, 2, role, sizeof(role),
					 err)) < 0)
		return ret;
	if (rd_role_parse(&r->actor.role, role, NULL) < 0)
		return rd_error_set(err, RD_EIO, "event %lld of dispute %s has "
				    "the unknown actor role \"%s\" in the "
				    "database", (long long)r->seq, dispute_id,
				    role);
	if ((ret = rd_store__column_copy(stmt, 3, r->actor.name,
					 sizeof(r->actor.name), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, r->actor.key_id,
					 sizeof(r->actor.key_id), err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 1, &r->event, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 6, &r->from_state,
					   err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 7, &r->to_state, err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 8, &r->fields_json,
					   err)) < 0 ||
	    (ret = rd_store__column_strdup(stmt, 9, &r->note, err)) < 0)
		return ret;
	return RD_OK;
}

int rd_store_events_list(rd_store *st, const char *dispute_id,
			 rd_event_record **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_event_record *records = NULL;
	size_t n = 0;
	size_t room = 0;
	char id[RD_ID_BUFSZ];
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if (!dispute_id || strlen(dispute_id) >= sizeof(id))
		return RD_OK;  /* no such dispute: no events */
	memcpy(id, dispute_id, strlen(dispute_id) + 1);
	if ((ret = rd_store__stmt(st, RD_STMT_EVENTS_OF, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, id);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = rd_store__grow(&records, n, &room, sizeof(*records),
					  err)) < 0)
			goto done;
		/* counted first: event_from_row leaves a record freeable */
		n++;
		if ((ret = event_from_row(stmt, id, &records[n - 1], err)) < 0)
			goto done;
	}
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err,
				     "cannot read the events of dispute %s",
				     id);
		goto done;
	}
	*out = records;
	*count = n;
	records = NULL;
done:
	rd_store__release(stmt);
	rd_event_records_free(records, n);
	return ret;
}

int rd_store_events_max_seq(rd_store *st, const char *dispute_id,
			    int64_t *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*out = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_EVENTS_MAX_SEQ, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		*out = rd_db_column_int64(stmt, 0);
	else
		ret = rd_store__fail(st, rc, err, "cannot read the last event "
				     "of dispute %s",
				     dispute_id ? dispute_id : "(null)");
	rd_store__release(stmt);
	return ret;
}

int rd_store_deadline_set(rd_store *st, const char *dispute_id,
			  int64_t due_at, const char *event, const char *state,
			  rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_deadline_set", err)) < 0)
		return ret;
	if (due_at < 0)
		return rd_error_set_field(err, RD_EINVALID, "due_at",
					  "a deadline cannot be before 1970 "
					  "(due_at %lld)", (long long)due_at);
	if (due_at > 0) {
		if (!event || !*event || strlen(event) >= 64)
			return rd_error_set_field(err, RD_EINVALID, "event",
						  "a deadline needs the event "
						  "it fires, 1 to 63 bytes");
		if (!state || !*state || strlen(state) >= 64)
			return rd_error_set_field(err, RD_EINVALID, "state",
						  "a deadline needs the state "
						  "it applies to, 1 to 63 "
						  "bytes");
	}
	if ((ret = rd_store__stmt(st, due_at ? RD_STMT_DEADLINE_PUT :
				  RD_STMT_DEADLINE_CLEAR, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	if (due_at) {
		rc |= rd_db_bind_int64(stmt, 2, due_at);
		rc |= rd_store__bind_text(stmt, 3, event);
		rc |= rd_store__bind_text(stmt, 4, state);
	}
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err,
				     "cannot %s the deadline of dispute %s",
				     due_at ? "set" : "clear",
				     dispute_id ? dispute_id : "(null)");
	rd_store__release(stmt);
	return ret;
}

int rd_store_deadlines_due(rd_store *st, int64_t now, rd_deadline *out,
			   size_t max, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t n = 0;
	int rc;
	int ret;

	*count = 0;
	if (max == 0)
		return RD_OK;
	if ((ret = rd_store__stmt(st, RD_STMT_DEADLINES_DUE, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, now);
	rc |= rd_db_bind_int64(stmt, 2, max > INT64_MAX ? INT64_MAX :
			       (int64_t)max);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW && n < max;
	     rc = rd_db_step(stmt)) {
		rd_deadline *d = &out[n];

		memset(d, 0, sizeof(*d));
		d->due_at = rd_db_column_int64(stmt, 1);
		if ((ret = rd_store__column_copy(stmt, 0, d->dispute_id,
						 sizeof(d->dispute_id),
						 err)) < 0 ||
		    (ret = rd_store__column_copy(stmt, 2, d->event,
						 sizeof(d->event), err)) < 0 ||
		    (ret = rd_store__column_copy(stmt, 3, d->state,
						 sizeof(d->state), err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_DONE && rc != RD_DB_ROW) {
		ret = rd_store__fail(st, rc, err,
				     "cannot read the deadlines due");
		goto done;
	}
	*count = n;
done:
	rd_store__release(stmt);
	return ret;
}

int rd_store_deadline_claim(rd_store *st, const char *dispute_id,
			    int64_t now, int *claimed, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*claimed = 0;
	if ((ret = rd_store__require_tx(st, "rd_store_deadline_claim",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_DEADLINE_CLAIM, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_db_bind_int64(stmt, 2, now);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		*claimed = 1;
	else if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot take the deadline of "
				     "dispute %s",
				     dispute_id ? dispute_id : "(null)");
	rd_store__release(stmt);
	return ret;
}
