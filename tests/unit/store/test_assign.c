/*
 * Store schema 21: ownership. Key names are unique per role among live
 * keys (a revoked key's name is free again); rd_store_key_name_live finds
 * a live key by role and name; the claim queue's head is the open
 * unassigned dispute with the soonest deadline, those without one last,
 * then the oldest, then the smallest id, found by walking indexes, not by
 * sorting every unassigned dispute; rd_store_agents counts each live
 * agent name's open, overdue and awaiting-reply disputes. On both engines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define HASH RD_TEST_WORKFLOW_HASH
#define SECRET_HASH \
	"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define BASE 1700000000

static rd_api_key key(const char *id, rd_role role, const char *name)
{
	rd_api_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.id, sizeof(k.id), "%s", id);
	snprintf(k.name, sizeof(k.name), "%s", name);
	k.role = role;
	if (role == RD_ROLE_STOREFRONT)
		snprintf(k.storefront, sizeof(k.storefront), "acme-eu");
	snprintf(k.secret_sha256, sizeof(k.secret_sha256), "%s", SECRET_HASH);
	k.created_at = BASE;
	return k;
}

static int insert_key(rd_store *st, const rd_api_key *k, rd_error *err)
{
	int rc;

	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	if ((rc = rd_store_key_insert(st, k, err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

static rd_store *open_store(void)
{
	char *path = rd_test_db_path();
	rd_store *st = rd_test_store_open(path);

	free(path);
	return st;
}

static void names_unique_per_role(void)
{
	rd_store *st = open_store();
	rd_api_key a = key("00000000000000a1", RD_ROLE_AGENT, "alice");
	rd_api_key b = key("00000000000000a2", RD_ROLE_AGENT, "alice");
	rd_api_key c = key("00000000000000a3", RD_ROLE_AUDITOR, "alice");
	char id[17];
	int found = 0;
	rd_error err;

	CHECK_OK(insert_key(st, &a, &err), &err);
	CHECK(insert_key(st, &b, &err) < 0);
	CHECK_OK(insert_key(st, &c, &err), &err);
	CHECK_OK(rd_store_key_name_live(st, RD_ROLE_AGENT, "alice", id, &found,
					&err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(id, "00000000000000a1");
	CHECK_OK(rd_store_key_name_live(st, RD_ROLE_ADMIN, "alice", NULL,
					&found, &err), &err);
	CHECK_INT(found, 0);
	/* revoked, the name is free again */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_key_revoke(st, a.id, BASE + 1, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_key_name_live(st, RD_ROLE_AGENT, "alice", NULL,
					&found, &err), &err);
	CHECK_INT(found, 0);
	CHECK_OK(insert_key(st, &b, &err), &err);
	rd_store_close(st);
}

/* Dispute n created at `at`, assigned to `assignee`, ended when outcome. */
static int put(rd_store *st, int n, int64_t at, const char *assignee,
	       const char *outcome, int64_t due_at, rd_error *err)
{
	rd_dispute *d = rd_test_stored_dispute(n, "acme-eu", RD_REASON_DAMAGED,
					       outcome ? "closed" : "opened",
					       at);
	int rc;

	if (!d)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	d->assignee = assignee ? strdup(assignee) : NULL;
	d->outcome = outcome ? strdup(outcome) : NULL;
	rc = rd_store_dispute_insert(st, d, err);
	/* its record's head, as every dispute has (PostgreSQL locks it) */
	if (rc == RD_OK)
		rc = rd_store_ref_move(st, d->id, NULL,
				       "0123456789abcdef0123456789abcdef01234567",
				       at, err);
	if (rc == RD_OK && due_at)
		rc = rd_store_deadline_set(st, d->id, due_at, "escalate",
					   d->state, err);
	rd_dispute_free(d);
	return rc;
}

static void claim_order(void)
{
	rd_store *st = open_store();
	char id[RD_ID_BUFSZ], want[RD_ID_BUFSZ];
	int found = -1;
	rd_error err;

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	/* empty queue */
	CHECK_OK(rd_store_claim_next(st, id, &found, &err), &err);
	CHECK_INT(found, 0);
	CHECK_OK(put(st, 1, BASE + 10, NULL, NULL, 0, &err), &err);
	CHECK_OK(put(st, 2, BASE + 1, NULL, NULL, BASE + 500, &err), &err);
	CHECK_OK(put(st, 3, BASE + 5, NULL, NULL, BASE + 400, &err), &err);
	CHECK_OK(put(st, 4, BASE + 2, NULL, NULL, BASE + 400, &err), &err);
	CHECK_OK(put(st, 5, BASE, "bob", NULL, BASE + 100, &err), &err);
	CHECK_OK(put(st, 6, BASE, NULL, "withdrawn", BASE + 100, &err), &err);
	CHECK_OK(put(st, 7, BASE + 3, NULL, NULL, 0, &err), &err);
	/* due BASE+400 twice: the older (4) first */
	CHECK_OK(rd_store_claim_next(st, id, &found, &err), &err);
	CHECK_INT(found, 1);
	rd_test_make_id(want, 4);
	CHECK_STR(id, want);
	CHECK_OK(rd_store_commit(st, &err), &err);
	rd_store_close(st);
}

/*
 * With every dispute that has a due time assigned or ended, the head is
 * the oldest open unassigned dispute without one.
 */
static void claim_falls_back_to_the_undated(void)
{
	rd_store *st = open_store();
	char id[RD_ID_BUFSZ], want[RD_ID_BUFSZ];
	int found = -1;
	rd_error err;

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(put(st, 1, BASE + 10, NULL, NULL, 0, &err), &err);
	CHECK_OK(put(st, 2, BASE, "bob", NULL, BASE + 100, &err), &err);
	CHECK_OK(put(st, 3, BASE, NULL, "withdrawn", BASE + 100, &err), &err);
	CHECK_OK(put(st, 4, BASE + 1, "bob", NULL, 0, &err), &err);
	CHECK_OK(put(st, 5, BASE + 3, NULL, NULL, 0, &err), &err);
	CHECK_OK(rd_store_claim_next(st, id, &found, &err), &err);
	CHECK_INT(found, 1);
	rd_test_make_id(want, 5);
	CHECK_STR(id, want);
	CHECK_OK(rd_store_commit(st, &err), &err);
	rd_store_close(st);
}

/*
 * A claim walks an index in the queue's order and stops at its first
 * row: it never sorts every unassigned dispute (a temporary b-tree for
 * the whole ORDER BY). Only ties of one due time are sorted.
 */
static void claim_walks_indexes(void)
{
	RD_TEST_SQLITE_ONLY("SQLite's query plan (EXPLAIN QUERY PLAN)");
	rd_store *st = open_store();
	char plan[2048];

	CHECK(st);
	rd_test_stmt_plan(st, RD_STMT_CLAIM_NEXT, plan, sizeof(plan));
	CHECK_HAS(plan, "SCAN dl USING COVERING INDEX deadlines_due");
	CHECK_HAS(plan, "SEARCH d USING PRIMARY KEY (id=?)");
	if (strstr(plan, "TEMP B-TREE FOR ORDER BY"))
		rd_test_fail(__FILE__, __LINE__, "plan sorts: %s", plan);
	rd_test_stmt_plan(st, RD_STMT_CLAIM_UNDATED, plan, sizeof(plan));
	CHECK_HAS(plan, "SCAN d USING INDEX disputes_unassigned");
	if (strstr(plan, "TEMP B-TREE"))
		rd_test_fail(__FILE__, __LINE__, "plan sorts: %s", plan);
	rd_store_close(st);
}

static void agents_counts(void)
{
	rd_store *st = open_store();
	rd_api_key keys[] = {
		key("00000000000000b1", RD_ROLE_AGENT, "bob"),
		key("00000000000000b2", RD_ROLE_AGENT, "alice"),
		key("00000000000000b3", RD_ROLE_AUDITOR, "carol"),
		key("00000000000000b4", RD_ROLE_AGENT, "dave"),
	};
	rd_agent_load *agents = NULL;
	size_t count = 0;
	char id[RD_ID_BUFSZ];
	rd_error err;

	for (size_t i = 0; i < 4; i++)
		CHECK_OK(insert_key(st, &keys[i], &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_key_revoke(st, "00000000000000b4", BASE + 1, &err),
		 &err);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(put(st, 1, BASE, "alice", NULL, BASE + 50, &err), &err);
	CHECK_OK(put(st, 2, BASE, "alice", NULL, BASE + 500, &err), &err);
	CHECK_OK(put(st, 3, BASE, "alice", "withdrawn", BASE + 50, &err),
		 &err);
	CHECK_OK(put(st, 4, BASE, "alice", NULL, 0, &err), &err);
	CHECK_OK(put(st, 5, BASE, "carol", NULL, BASE + 50, &err), &err);
	rd_test_make_id(id, 2);
	CHECK_OK(rd_store_reply_set(st, id, BASE + 900, 1, "escalate", &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	CHECK_OK(rd_store_agents(st, BASE + 100, &agents, &count, &err), &err);
	CHECK_INT(count, 2);
	if (count == 2) {
		CHECK_STR(agents[0].name, "alice");
		CHECK_INT(agents[0].open, 3);
		CHECK_INT(agents[0].overdue, 1);
		CHECK_INT(agents[0].awaiting_reply, 1);
		CHECK_STR(agents[1].name, "bob");
		CHECK_INT(agents[1].open, 0);
		CHECK_INT(agents[1].overdue, 0);
		CHECK_INT(agents[1].awaiting_reply, 0);
	}
	free(agents);
	rd_store_close(st);
}

int main(void)
{
	RUN(names_unique_per_role);
	RUN(claim_order);
	RUN(claim_falls_back_to_the_undated);
	RUN(claim_walks_indexes);
	RUN(agents_counts);
	return rd_test_summary();
}
