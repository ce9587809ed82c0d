/*
 * Running totals of schema 5: disputes per state follow inserts, state
 * changes and rebuilds (and not rolled-back changes); SLA breaches count
 * only the sweeper's fired deadlines; evidence bytes follow inserts and
 * rebuilt sizes, withdrawn evidence included; a database of schema 4
 * starts with the totals of the rows it already holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH

static rd_dispute *sample_dispute(int n, const char *state)
{
	return rd_test_stored_dispute(n, "acme-eu", RD_REASON_DAMAGED, state,
				      1700000000 + n);
}

static int insert_dispute(rd_store *st, int n, const char *state,
			  rd_error *err)
{
	rd_dispute *d = sample_dispute(n, state);
	int rc = d ? rd_store_dispute_insert(st, d, err) : RD_ENOMEM;

	rd_dispute_free(d);
	return rc;
}

static rd_event_record event_by(int n, int64_t seq, const char *event,
				rd_role role, const char *name)
{
	rd_event_record ev = rd_test_event_record(n, seq, event, "opened",
						  "escalated");

	ev.actor = rd_test_actor(role, name);
	return ev;
}

static rd_evidence_row evidence(int n, int64_t number, int64_t size)
{
	rd_evidence_row row = rd_test_evidence_row(n, number, "note");

	snprintf(row.content_type, sizeof(row.content_type), "text/plain");
	row.size = size;
	return row;
}

static void disputes_by_state(void)
{
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_store_stats stats;
	rd_dispute *d = NULL;
	rd_error err;

	memset(&stats, 0, sizeof(stats));
	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(stats.state_count, 0);
	CHECK(stats.states == NULL);
	CHECK_INT(stats.sla_breaches, 0);
	CHECK_INT(stats.evidence_bytes, 0);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	for (int n = 1; n <= 3; n++)
		CHECK_OK(insert_dispute(st, n, "opened", &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(stats.state_count, 1);
	CHECK_INT(rd_test_in_state(&stats, "opened"), 3);
	rd_store_stats_clear(&stats);

	/* A state change moves one dispute. */
	CHECK((d = sample_dispute(2, "investigating")) != NULL);
	d->version = 2;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_update(st, d, 1, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(rd_test_in_state(&stats, "opened"), 2);
	CHECK_INT(rd_test_in_state(&stats, "investigating"), 1);
	rd_store_stats_clear(&stats);

	/* A change rolled back counts for nothing. */
	free(d->state);
	d->state = strdup("closed");
	d->version = 3;
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_update(st, d, 2, &err), &err);
	CHECK_OK(insert_dispute(st, 4, "opened", &err), &err);
	rd_store_rollback(st);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(rd_test_in_state(&stats, "opened"), 2);
	CHECK_INT(rd_test_in_state(&stats, "investigating"), 1);
	CHECK_INT(rd_test_in_state(&stats, "closed"), -1);
	rd_store_stats_clear(&stats);

	/* A rebuild (upsert) moves it too; the state it left stays at 0;
	 * an update that keeps the state changes nothing. */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_dispute_replace(st, d, &err), &err);
	CHECK_OK(rd_store_dispute_replace(st, d, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(stats.state_count, 3);
	CHECK_STR(stats.states[0].state, "closed");
	CHECK_INT(stats.states[0].disputes, 1);
	CHECK_STR(stats.states[1].state, "investigating");
	CHECK_INT(stats.states[1].disputes, 0);
	CHECK_STR(stats.states[2].state, "opened");
	CHECK_INT(stats.states[2].disputes, 2);

	rd_store_stats_clear(&stats);
	rd_store_stats_clear(NULL);
	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

static void sla_breaches_and_evidence_bytes(void)
{
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_store_stats stats;
	rd_event_record ev;
	rd_evidence_row row;
	rd_error err;

	memset(&stats, 0, sizeof(stats));
	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(insert_dispute(st, 1, "opened", &err), &err);
	ev = event_by(1, 1, "investigate", RD_ROLE_AGENT, "sla");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = event_by(1, 2, "escalate", RD_ROLE_SYSTEM, "sla");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = event_by(1, 3, "deadline_dropped", RD_ROLE_SYSTEM, "sla");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = event_by(1, 4, "accept_offer", RD_ROLE_SYSTEM, "offers");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = event_by(1, 5, "expire_offer", RD_ROLE_SYSTEM, "sla");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);

	row = evidence(1, 1, 1000);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	row = evidence(1, 2, 234);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(stats.sla_breaches, 2);
	CHECK_INT(stats.evidence_bytes, 1234);
	rd_store_stats_clear(&stats);

	/* Withdrawn evidence is still stored; a rebuilt row's size counts
	 * once; a refused insert counts for nothing. */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_evidence_withdraw(st, "01J00000000000000000000001",
					    1, "wrong file", &err), &err);
	row = evidence(1, 2, 300);
	CHECK_OK(rd_store_evidence_upsert(st, &row, &err), &err);
	row = evidence(1, 3, 66);
	CHECK_OK(rd_store_evidence_upsert(st, &row, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* the refusal in a transaction of its own, rolled back */
	CHECK_OK(rd_store_begin(st, &err), &err);
	row = evidence(1, 3, 5000);
	CHECK_FAILS(rd_store_evidence_insert(st, &row, &err), RD_ECONFLICT);
	rd_store_rollback(st);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(stats.evidence_bytes, 1000 + 300 + 66);
	CHECK_INT(stats.sla_breaches, 2);

	rd_store_stats_clear(&stats);
	rd_store_close(st);
	free(path);
}

/* Schema 4 with rows in it, then opened by this build: totals from the rows. */
static void migration_counts_existing_rows(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 4; PostgreSQL records "
			    "start at 13");
	char *path = rd_test_db_path();
	rd_store *st = NULL;
	rd_store_stats stats;
	rd_event_record ev;
	rd_evidence_row row;
	rd_error err;
	int version = 0;

	memset(&stats, 0, sizeof(stats));
	CHECK_OK(rd_store_open_at_version(&st, path, 4, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(insert_dispute(st, 1, "opened", &err), &err);
	CHECK_OK(insert_dispute(st, 2, "escalated", &err), &err);
	CHECK_OK(insert_dispute(st, 3, "escalated", &err), &err);
	ev = event_by(2, 1, "escalate", RD_ROLE_SYSTEM, "sla");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	ev = event_by(3, 1, "deadline_dropped", RD_ROLE_SYSTEM, "sla");
	CHECK_OK(rd_store_event_append(st, &ev, &err), &err);
	row = evidence(1, 1, 4096);
	CHECK_OK(rd_store_evidence_insert(st, &row, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* schema 4 has no totals to read */
	CHECK_FAILS(rd_store_stats_read(st, &stats, &err), RD_EINTERNAL);
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	CHECK_OK(rd_store_stats_read(st, &stats, &err), &err);
	CHECK_INT(rd_test_in_state(&stats, "opened"), 1);
	CHECK_INT(rd_test_in_state(&stats, "escalated"), 2);
	CHECK_INT(stats.sla_breaches, 1);
	CHECK_INT(stats.evidence_bytes, 4096);

	rd_store_stats_clear(&stats);
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(disputes_by_state);
	RUN(sla_breaches_and_evidence_bytes);
	RUN(migration_counts_existing_rows);
	return rd_test_summary();
}
