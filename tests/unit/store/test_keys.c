/*
 * Store schema 4: API keys. The migration from schema 3 keeps every row,
 * keys are inserted, read, listed in creation order and revoked once, and
 * the schema itself refuses keys that break its rules.
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

static rd_api_key sample_key(const char *id, rd_role role,
			     const char *storefront, int64_t created_at)
{
	rd_api_key k;

	memset(&k, 0, sizeof(k));
	snprintf(k.id, sizeof(k.id), "%s", id);
	snprintf(k.name, sizeof(k.name), "key %s", id);
	k.role = role;
	snprintf(k.storefront, sizeof(k.storefront), "%s",
		 storefront ? storefront : "");
	snprintf(k.secret_sha256, sizeof(k.secret_sha256), "%s", SECRET_HASH);
	k.created_at = created_at;
	return k;
}

/* Store fixture dispute 1, its item named SKU-1. */
static rd_dispute *sample_dispute(void)
{
	rd_dispute *d = rd_test_stored_dispute(1, "acme-eu", RD_REASON_DAMAGED,
					       "opened", 1700000000);

	if (d) {
		free(d->items[0].sku);
		d->items[0].sku = strdup("SKU-1");
	}
	return d;
}

/* Insert in its own transaction; the result of the insert. */
static int insert(rd_store *st, const rd_api_key *k, rd_error *err)
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

static int revoke(rd_store *st, const char *id, int64_t at, rd_error *err)
{
	int rc;

	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	if ((rc = rd_store_key_revoke(st, id, at, err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

static void migrates_version_3_keeping_data(void)
{
	RD_TEST_SQLITE_ONLY("a migration from schema 3; "
			    "PostgreSQL records start at 13");
	rd_error err;
	rd_store *st = NULL;
	rd_dispute *d = sample_dispute();
	rd_dispute *got = NULL;
	rd_api_key k = sample_key("00000000000000a1", RD_ROLE_AGENT, NULL,
				  1700000000);
	rd_api_key *keys = NULL;
	size_t count = 9;
	char *path = rd_test_db_path();
	char *dump = NULL;
	char schema_line[32];
	int version = -1;

	CHECK(d);
	CHECK_OK(rd_store_open_at_version(&st, path, 3, &err), &err);
	/* the keys table does not exist yet: its functions say so */
	CHECK_FAILS(rd_store_keys_list(st, &keys, &count, &err),
		    RD_EINTERNAL);
	CHECK_HAS(err.message, "schema 4");
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_FAILS(rd_store_key_insert(st, &k, &err), RD_EINTERNAL);
	CHECK_OK(rd_store_workflow_put(st, HASH, "dispute", 1, "{}", &err),
		 &err);
	CHECK_OK(rd_store_dispute_insert(st, d, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* a schema 3 dump has no keys section */
	CHECK_OK(rd_store_dump(st, &dump, &err), &err);
	CHECK(strstr(dump, "[api_keys]") == NULL);
	free(dump);
	dump = NULL;
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	CHECK_OK(rd_store_dispute_get(st, d->id, &got, &err), &err);
	CHECK_STR(got->order_ref, "ORD-1");
	CHECK_STR(got->items[0].sku, "SKU-1");
	CHECK_OK(rd_store_keys_list(st, &keys, &count, &err), &err);
	CHECK_INT(count, 0);
	CHECK_OK(insert(st, &k, &err), &err);
	CHECK_OK(rd_store_dump(st, &dump, &err), &err);
	snprintf(schema_line, sizeof(schema_line), "schema %d\n",
		 RD_STORE_SCHEMA_VERSION);
	CHECK_HAS(dump, schema_line);
	CHECK_HAS(dump, "\n[api_keys]\nid=\"00000000000000a1\" "
		  "name=\"key 00000000000000a1\" role=\"agent\" "
		  "storefront=NULL secret_sha256=\"" SECRET_HASH "\" "
		  "created_at=1700000000 revoked_at=NULL\n");

	free(dump);
	free(keys);
	rd_dispute_free(got);
	rd_dispute_free(d);
	rd_store_close(st);
	free(path);
}

static void insert_get_list(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	rd_api_key a = sample_key("00000000000000b2", RD_ROLE_STOREFRONT,
				  "acme-eu", 1700000200);
	rd_api_key b = sample_key("00000000000000ff", RD_ROLE_ADMIN, NULL,
				  1700000100);
	rd_api_key c = sample_key("00000000000000a1", RD_ROLE_AUDITOR, NULL,
				  1700000200);
	rd_api_key got;
	rd_api_key *keys = NULL;
	size_t count = 0;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	/* writes need a transaction */
	CHECK_FAILS(rd_store_key_insert(st, &a, &err), RD_EINTERNAL);
	CHECK_OK(insert(st, &a, &err), &err);
	CHECK_OK(insert(st, &b, &err), &err);
	CHECK_OK(insert(st, &c, &err), &err);

	CHECK_OK(rd_store_key_get(st, "00000000000000b2", &got, &err), &err);
	CHECK_STR(got.id, "00000000000000b2");
	CHECK_STR(got.name, "key 00000000000000b2");
	CHECK_INT(got.role, RD_ROLE_STOREFRONT);
	CHECK_STR(got.storefront, "acme-eu");
	CHECK_STR(got.secret_sha256, SECRET_HASH);
	CHECK_INT(got.created_at, 1700000200);
	CHECK_INT(got.revoked_at, 0);
	CHECK_OK(rd_store_key_get(st, "00000000000000ff", &got, &err), &err);
	CHECK_INT(got.role, RD_ROLE_ADMIN);
	CHECK_STR(got.storefront, "");

	CHECK_FAILS(rd_store_key_get(st, "0000000000000000", &got, &err),
		    RD_ENOTFOUND);
	CHECK_HAS(err.message, "0000000000000000");

	/* oldest first, then by id */
	CHECK_OK(rd_store_keys_list(st, &keys, &count, &err), &err);
	CHECK_INT(count, 3);
	CHECK_STR(keys[0].id, "00000000000000ff");
	CHECK_STR(keys[1].id, "00000000000000a1");
	CHECK_STR(keys[2].id, "00000000000000b2");
	CHECK_INT(keys[1].role, RD_ROLE_AUDITOR);
	CHECK_STR(keys[2].storefront, "acme-eu");

	/* the same id twice is a conflict, and the first key stays */
	b.role = RD_ROLE_AGENT;
	snprintf(b.id, sizeof(b.id), "%s", "00000000000000b2");
	CHECK_FAILS(insert(st, &b, &err), RD_ECONFLICT);
	CHECK_OK(rd_store_key_get(st, "00000000000000b2", &got, &err), &err);
	CHECK_INT(got.role, RD_ROLE_STOREFRONT);

	free(keys);
	rd_store_close(st);
	free(path);
}

static void revoke_once(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	rd_api_key a = sample_key("00000000000000a1", RD_ROLE_AGENT, NULL,
				  1700000000);
	rd_api_key got;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(insert(st, &a, &err), &err);
	CHECK_FAILS(rd_store_key_revoke(st, a.id, 1700000500, &err),
		    RD_EINTERNAL);
	CHECK_FAILS(revoke(st, "00000000000000a2", 1700000500, &err),
		    RD_ENOTFOUND);
	CHECK_HAS(err.message, "00000000000000a2");
	CHECK_FAILS(revoke(st, a.id, 0, &err), RD_EINVALID);
	CHECK_OK(rd_store_key_get(st, a.id, &got, &err), &err);
	CHECK_INT(got.revoked_at, 0);

	CHECK_OK(revoke(st, a.id, 1700000500, &err), &err);
	CHECK_OK(rd_store_key_get(st, a.id, &got, &err), &err);
	CHECK_INT(got.revoked_at, 1700000500);
	/* a second revocation is a conflict and keeps the first time */
	CHECK_FAILS(revoke(st, a.id, 1700000900, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, "already revoked");
	CHECK_OK(rd_store_key_get(st, a.id, &got, &err), &err);
	CHECK_INT(got.revoked_at, 1700000500);

	rd_store_close(st);
	free(path);
}

static void schema_refuses_bad_keys(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	rd_api_key k;
	rd_api_key *keys = NULL;
	size_t count = 9;

	CHECK_OK(rd_store_open(&st, path, &err), &err);

	/* a storefront key without its storefront */
	k = sample_key("00000000000000a1", RD_ROLE_STOREFRONT, NULL, 1);
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);
	CHECK_HAS(err.message, "cannot record API key 00000000000000a1: ");
	/* the rest is the engine's own wording */
	CHECK_HAS(err.message, rd_test_on_postgres()
				       ? "violates check constraint"
				       : "CHECK constraint failed");
	/* a storefront on a key of another role */
	k = sample_key("00000000000000a2", RD_ROLE_AGENT, "acme-eu", 1);
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);
	/* the system role is redress itself, never a key */
	k = sample_key("00000000000000a3", RD_ROLE_SYSTEM, NULL, 1);
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);
	/* a role out of range */
	k = sample_key("00000000000000a4", RD_ROLE_COUNT, NULL, 1);
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);
	CHECK_STR(err.field, "role");
	/* malformed ids: upper case, short */
	k = sample_key("00000000000000A5", RD_ROLE_AGENT, NULL, 1);
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);
	k = sample_key("00a6", RD_ROLE_AGENT, NULL, 1);
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);
	/* a malformed hash */
	k = sample_key("00000000000000a7", RD_ROLE_AGENT, NULL, 1);
	k.secret_sha256[0] = 'X';
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);
	k.secret_sha256[0] = '\0';
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);
	/* an empty name */
	k = sample_key("00000000000000a8", RD_ROLE_AGENT, NULL, 1);
	k.name[0] = '\0';
	CHECK_FAILS(insert(st, &k, &err), RD_EINVALID);

	/* nothing of it was kept */
	CHECK_OK(rd_store_keys_list(st, &keys, &count, &err), &err);
	CHECK_INT(count, 0);
	CHECK(keys == NULL);

	/*
	 * the same rule holds for SQL written by hand (each statement on
	 * its own, outside any transaction)
	 */
	CHECK_INT(rd_db_exec(st->db,
			     "INSERT INTO api_keys (id, name, role,"
			     " storefront, secret_sha256, created_at) VALUES"
			     " ('00000000000000b1', 'x', 'storefront', NULL,"
			     " '" SECRET_HASH "', 1)"),
		  RD_DB_ECONSTRAINT);
	if (rd_test_on_postgres())
		CHECK_STR(rd_db_failed_constraint(st->db), "api_keys_check");
	else
		CHECK_HAS(rd_db_errmsg(st->db), "CHECK constraint failed");
	CHECK_INT(rd_db_exec(st->db,
			     "INSERT INTO api_keys (id, name, role, storefront,"
			     " secret_sha256, created_at) VALUES"
			     " ('00000000000000b1', 'x', 'storefront', 'acme', '"
			     SECRET_HASH "', 1)"), RD_DB_OK);

	rd_store_close(st);
	free(path);
}

static void list_uses_its_index(void)
{
	RD_TEST_SQLITE_ONLY("SQLite's query plan (EXPLAIN QUERY PLAN)");
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	char plan[1024];

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	rd_test_stmt_plan(st, RD_STMT_KEYS_LIST, plan, sizeof(plan));
	CHECK_HAS(plan, "api_keys_created");
	CHECK(!strstr(plan, "TEMP B-TREE"));
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(migrates_version_3_keeping_data);
	RUN(insert_get_list);
	RUN(revoke_once);
	RUN(schema_refuses_bad_keys);
	RUN(list_uses_its_index);
	return rd_test_summary();
}
