/*
 * Ownership in the index (schema 21): whether a live key has a name, the
 * head of the claim queue, and each agent's load.
 *
 * This file only reads; the service records an assignment as an event of
 * the dispute (svc_record_event), like any other change.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

int rd_store_key_name_live(rd_store *st, rd_role role, const char *name,
			   char id[17], int *found, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	const char *role_name = rd_role_name(role);
	int rc;
	int ret;

	*found = 0;
	if (id)
		id[0] = '\0';
	if (!role_name)
		return rd_error_set(err, RD_EINTERNAL, "no role %d", (int)role);
	if ((ret = rd_store__stmt(st, RD_STMT_KEY_NAME_LIVE, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, role_name);
	rc |= rd_store__bind_text(stmt, 2, name);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		*found = 1;
		if (id)
			ret = rd_store__column_copy(stmt, 0, id,
						    17, err);
	} else if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot look up the %s key "
				     "named %.64s", role_name, name);
	}
	rd_store__release(stmt);
	return ret;
}

/* The first dispute statement `which` finds, into id (*found 1), if any. */
static int claim_head(rd_store *st, int which, char id[RD_ID_BUFSZ],
		      int *found, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, which, &stmt, err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, RD_DB_OK);
	if (rc == RD_DB_ROW) {
		if ((ret = rd_store__column_copy(stmt, 0, id, RD_ID_BUFSZ,
						 err)) == RD_OK)
			*found = 1;
	} else if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot read the claim "
				     "queue");
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_claim_next(rd_store *st, char id[RD_ID_BUFSZ], int *found,
			rd_error *err)
{
	int ret;

	*found = 0;
	id[0] = '\0';
	if ((ret = rd_store__require_tx(st, "rd_store_claim_next", err)) < 0 ||
	    (ret = claim_head(st, RD_STMT_CLAIM_NEXT, id, found, err)) < 0 ||
	    *found)
		return ret;
	/* none with a due time: the oldest without one */
	return claim_head(st, RD_STMT_CLAIM_UNDATED, id, found, err);
}

int rd_store_agents(rd_store *st, int64_t now, rd_agent_load **out,
		    size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_agent_load *list = NULL;
	size_t n = 0, room = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_AGENTS, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, now);
	for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = rd_store__grow(&list, n, &room, sizeof(*list),
					  err)) < 0)
			goto done;
		memset(&list[n], 0, sizeof(list[n]));
		if ((ret = rd_store__column_copy(stmt, 0, list[n].name,
						 sizeof(list[n].name),
						 err)) < 0)
			goto done;
		list[n].open = rd_db_column_int64(stmt, 1);
		list[n].overdue = rd_db_column_int64(stmt, 2);
		list[n].awaiting_reply = rd_db_column_int64(stmt, 3);
		n++;
	}
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot count the agents' "
				     "disputes");
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
