/*
 * API keys in the index: insert, look up, list and revoke.
 *
 * This file records keys as the service hands them over: an id, a name, a
 * role, a storefront scope and the SHA-256 of the secret. It must never see
 * or store a key's secret, never decide whether a presented key is valid
 * (that is the service's constant-time comparison), and never delete a key:
 * a revoked key stays, so that its id is never handed out again.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* Columns as in KEY_COLUMNS of statements.c. */
static int key_from_row(rd_db_stmt *stmt, rd_api_key *k, rd_error *err)
{
	char role[32];
	int ret;

	memset(k, 0, sizeof(*k));
	if ((ret = rd_store__column_copy(stmt, 0, k->id, sizeof(k->id),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 1, k->name, sizeof(k->name),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, role, sizeof(role),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, k->storefront,
					 sizeof(k->storefront), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, k->secret_sha256,
					 sizeof(k->secret_sha256), err)) < 0)
		return ret;
	if (rd_role_parse(&k->role, role, NULL) < 0 ||
	    k->role == RD_ROLE_SYSTEM)
		return rd_error_set(err, RD_EIO, "API key %s has the role "
				    "\"%s\" in the database, which no key may "
				    "have", k->id, role);
	k->created_at = rd_db_column_int64(stmt, 5);
	k->revoked_at = rd_store__column_optional(stmt, 6);
	return RD_OK;
}

int rd_store_key_insert(rd_store *st, const rd_api_key *key, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	const char *role = rd_role_name(key->role);
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_key_insert", err)) < 0)
		return ret;
	if (!role)
		return rd_error_set_field(err, RD_EINVALID, "role",
					  "API key %s has no valid role (%d)",
					  key->id, (int)key->role);
	if ((ret = rd_store__stmt(st, RD_STMT_KEY_INSERT, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, key->id);
	rc |= rd_store__bind_text(stmt, 2, key->name);
	rc |= rd_store__bind_text(stmt, 3, role);
	rc |= rd_store__bind_text(stmt, 4,
				  key->storefront[0] ? key->storefront : NULL);
	rc |= rd_store__bind_text(stmt, 5, key->secret_sha256);
	rc |= rd_db_bind_int64(stmt, 6, key->created_at);
	rc |= rd_store__bind_optional(stmt, 7, key->revoked_at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record API key %s",
				     key->id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_key_get(rd_store *st, const char *id, rd_api_key *out,
		     rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_KEY_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		ret = key_from_row(stmt, out, err);
	else if (rc == RD_DB_DONE)
		ret = rd_error_set(err, RD_ENOTFOUND, "no API key %s", id);
	else
		ret = rd_store__fail(st, rc, err, "cannot read API key %s",
				     id);
	rd_store__release(stmt);
	return ret;
}

int rd_store_keys_list(rd_store *st, rd_api_key **out, size_t *count,
		       rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_api_key *list = NULL;
	size_t n = 0;
	size_t room = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_KEYS_LIST, &stmt, err)) < 0)
		return ret;
	for (rc = rd_db_step(stmt); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = rd_store__grow(&list, n, &room, sizeof(*list),
					  err)) < 0)
			goto done;
		if ((ret = key_from_row(stmt, &list[n], err)) < 0)
			goto done;
		n++;
	}
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot list the API keys");
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

int rd_store_key_revoke(rd_store *st, const char *id, int64_t revoked_at,
			rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_api_key existing;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_key_revoke", err)) < 0)
		return ret;
	if (revoked_at <= 0)
		return rd_error_set_field(err, RD_EINVALID, "revoked_at",
					  "a revocation time must be after "
					  "1970, got %lld",
					  (long long)revoked_at);
	if ((ret = rd_store__stmt(st, RD_STMT_KEY_REVOKE, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, id);
	rc |= rd_db_bind_int64(stmt, 2, revoked_at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot revoke API key %s",
				     id);
		goto done;
	}
	if (rd_db_changes(stmt) == 1)
		goto done;
	/* nothing changed: tell a missing key from one already revoked */
	rd_store__release(stmt);
	stmt = NULL;
	if ((ret = rd_store_key_get(st, id, &existing, err)) < 0)
		goto done;
	ret = rd_error_set(err, RD_ECONFLICT, "API key %s is already revoked",
			   id);
done:
	rd_store__release(stmt);
	return ret;
}
