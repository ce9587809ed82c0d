/*
 * Requests made under an Idempotency-Key: look one up, record one with its
 * effect, walk them for a rebuild, drop the old ones; and claim one in
 * flight for every process and node on the record.
 *
 * A claim is no row, so that nothing outlives the connection that holds it:
 * on PostgreSQL a session advisory lock, on SQLite a lock on one byte of
 * the file <record>-claims beside the database, an open file description
 * lock (F_OFD_SETLK), which belongs to the connection's own descriptor
 * (a POSIX record lock would be the process's, and would be lost when any
 * other descriptor of the file in the process is closed). The kernel drops
 * it when the process ends, PostgreSQL when the session does.
 *
 * This file keeps what the service hands over; it must never decide whether
 * a retry matches its first request (the service compares the digests) and
 * never record a request outside the transaction of its effect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "store/store_int.h"

#define CLAIMS_SUFFIX "-claims"

static const char *const operation_names[] = {
	[RD_IDEM_OPEN] = "open",
	[RD_IDEM_EVENT] = "event",
	[RD_IDEM_EVIDENCE] = "evidence",
	[RD_IDEM_MESSAGE] = "message",
	[RD_IDEM_BULK] = "bulk",
	[RD_IDEM_CLAIM] = "claim",
};

#define OPERATION_COUNT \
	(sizeof(operation_names) / sizeof(operation_names[0]))

const char *rd_idem_operation_name(rd_idem_operation op)
{
	if ((unsigned)op >= OPERATION_COUNT)
		return NULL;
	return operation_names[op];
}

void rd_idem_record_clear(rd_idem_record *rec)
{
	if (!rec)
		return;
	free(rec->response);
	rec->response = NULL;
}

/* Columns as in IDEM_COLUMNS of statements.c. */
static int record_from_row(rd_db_stmt *stmt, rd_idem_record *rec,
			   rd_error *err)
{
	char op[16];
	size_t i;
	int ret;

	memset(rec, 0, sizeof(*rec));
	if ((ret = rd_store__column_copy(stmt, 0, rec->key_id,
					 sizeof(rec->key_id), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 1, rec->key, sizeof(rec->key),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 2, rec->request_sha256,
					 sizeof(rec->request_sha256),
					 err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 3, op, sizeof(op), err)) < 0 ||
	    (ret = rd_store__column_copy(stmt, 4, rec->dispute_id,
					 sizeof(rec->dispute_id), err)) < 0)
		return ret;
	for (i = 0; i < OPERATION_COUNT; i++)
		if (strcmp(op, operation_names[i]) == 0)
			break;
	if (i == OPERATION_COUNT)
		return rd_error_set(err, RD_EIO, "the idempotency record %s/%s "
				    "has the unknown operation \"%s\"",
				    rec->key_id, rec->key, op);
	rec->operation = (rd_idem_operation)i;
	rec->evidence_n = rd_store__column_optional(stmt, 5);
	if ((ret = rd_store__column_strdup(stmt, 6, &rec->response,
					   err)) < 0)
		return ret;
	if (!rec->response)
		return rd_error_set(err, RD_EIO, "the idempotency record %s/%s "
				    "has no response", rec->key_id, rec->key);
	rec->created_at = rd_db_column_int64(stmt, 7);
	return RD_OK;
}

int rd_store_idem_get(rd_store *st, const char *key_id, const char *key,
		      rd_idem_record *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = rd_store__stmt(st, RD_STMT_IDEM_GET, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, key_id);
	rc |= rd_store__bind_text(stmt, 2, key);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		if ((ret = record_from_row(stmt, out, err)) < 0)
			rd_idem_record_clear(out);
	} else if (rc == RD_DB_DONE) {
		ret = rd_error_set(err, RD_ENOTFOUND, "no request was made "
				   "with this Idempotency-Key");
	} else {
		ret = rd_store__fail(st, rc, err, "cannot read the request "
				     "made with an Idempotency-Key");
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_idem_insert(rd_store *st, const rd_idem_record *rec,
			 int replace, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	const char *op = rd_idem_operation_name(rec->operation);
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_idem_insert", err)) < 0)
		return ret;
	if (!op || !rec->response)
		return rd_error_set(err, RD_EINVALID, "an idempotency record "
				    "needs a known operation and a response");
	if ((ret = rd_store__stmt(st, replace ? RD_STMT_IDEM_REPLACE
					      : RD_STMT_IDEM_INSERT,
				  &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, rec->key_id);
	rc |= rd_store__bind_text(stmt, 2, rec->key);
	rc |= rd_store__bind_text(stmt, 3, rec->request_sha256);
	rc |= rd_store__bind_text(stmt, 4, op);
	/* a bulk request names no dispute (schema 22), nor a claim that
	 * found nothing to claim (schema 23) */
	rc |= rd_store__bind_text(stmt, 5, rec->operation == RD_IDEM_BULK ||
					   (rec->operation == RD_IDEM_CLAIM &&
					    !rec->dispute_id[0])
					   ? NULL : rec->dispute_id);
	rc |= rd_store__bind_optional(stmt, 6, rec->evidence_n);
	rc |= rd_store__bind_text(stmt, 7, rec->response);
	rc |= rd_db_bind_int64(stmt, 8, rec->created_at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the request "
				     "made with Idempotency-Key \"%.64s\"",
				     rec->key);
	rd_store__release(stmt);
	return ret;
}

int rd_store_idem_foreach(rd_store *st,
			  int (*fn)(const rd_idem_record *rec, void *ctx),
			  void *ctx, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	rd_idem_record rec;
	int rc;
	int ret = RD_OK;

	memset(&rec, 0, sizeof(rec));
	if ((ret = rd_store__stmt(st, RD_STMT_IDEM_ALL, &stmt, err)) < 0)
		return ret;
	for (rc = rd_db_step(stmt); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if ((ret = record_from_row(stmt, &rec, err)) < 0)
			goto done;
		ret = fn(&rec, ctx);
		rd_idem_record_clear(&rec);
		if (ret != 0)
			goto done;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot read the requests "
				     "made with an Idempotency-Key");
done:
	rd_idem_record_clear(&rec);
	rd_store__release(stmt);
	return ret;
}

int rd_store_idem_purge(rd_store *st, int64_t before, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_idem_purge", err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_IDEM_PURGE, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, before);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot drop old requests "
				     "made with an Idempotency-Key");
	rd_store__release(stmt);
	return ret;
}

/*
 * 64 bits of the SHA-256 of the pair: the key id (no NUL in it) and the
 * key with a NUL between, so that no two pairs hash the same bytes.
 */
static uint64_t claim_hash(const char *key_id, const char *key)
{
	struct sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	uint64_t h = 0;

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(key_id) + 1, (const uint8_t *)key_id);
	sha256_update(&ctx, strlen(key), (const uint8_t *)key);
	sha256_digest(&ctx, sizeof(digest), digest);
	for (int i = 0; i < 8; i++)
		h = h << 8 | digest[i];
	return h;
}

/* A 32-bit half of the hash as the signed integer PostgreSQL takes. */
static int64_t signed_half(uint64_t half)
{
	int64_t v = (int64_t)(half & UINT32_MAX);

	return v > INT32_MAX ? v - (INT64_C(1) << 32) : v;
}

/* SQLite: the claims file of the connection, opened on first use. */
static int claims_file(rd_store *st, rd_error *err)
{
	size_t len = strlen(st->path) + sizeof(CLAIMS_SUFFIX);
	mode_t mode = 0600;
	struct stat sb;
	char *path;
	int rc;

	if (st->claims_fd >= 0)
		return RD_OK;
	if (!(path = malloc(len)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	snprintf(path, len, "%s" CLAIMS_SUFFIX, st->path);
	/* readable and writable by whoever may write the database */
	if (stat(st->path, &sb) == 0)
		mode = sb.st_mode & 0666;
	st->claims_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode);
	rc = st->claims_fd >= 0
		? RD_OK
		: rd_error_set(err, RD_EIO, "cannot open %s to claim an "
			       "Idempotency-Key: %s", path, strerror(errno));
	free(path);
	return rc;
}

/* SQLite: lock (F_WRLCK) or unlock (F_UNLCK) the pair's byte. */
static int claims_lock(rd_store *st, uint64_t h, short type, rd_error *err)
{
	/* a byte anywhere below 2^62: no file grows there, none need */
	struct flock fl = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = (off_t)(h >> 2),
		.l_len = 1,
	};
	int rc;

	if ((rc = claims_file(st, err)) < 0)
		return rc;
	if (fcntl(st->claims_fd, F_OFD_SETLK, &fl) == 0)
		return RD_OK;
	if (type == F_WRLCK && (errno == EAGAIN || errno == EACCES))
		return RD_ECONFLICT;
	return rd_error_set(err, RD_EIO, "cannot %s an Idempotency-Key in "
			    "%s" CLAIMS_SUFFIX ": %s",
			    type == F_WRLCK ? "claim" : "give back",
			    st->path, strerror(errno));
}

/* PostgreSQL: run the claim's or the release's statement; its answer. */
static int claims_advisory(rd_store *st, int id, uint64_t h, int *answer,
			   rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*answer = 0;
	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, signed_half(h >> 32));
	rc |= rd_db_bind_int64(stmt, 2, signed_half(h));
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		*answer = rd_db_column_int64(stmt, 0) != 0;
	else
		ret = rd_store__fail(st, rc, err, "cannot %s an "
				     "Idempotency-Key",
				     id == RD_STMT_IDEM_CLAIM ? "claim"
							      : "give back");
	rd_store__release(stmt);
	return ret;
}

static int claim_check(const char *key_id, const char *key, rd_error *err)
{
	if (!key_id || !*key_id || !key || !*key)
		return rd_error_set(err, RD_EINVALID, "a claim needs an API "
				    "key id and an Idempotency-Key");
	return RD_OK;
}

int rd_store_idem_claim(rd_store *st, const char *key_id, const char *key,
			rd_error *err)
{
	uint64_t h;
	int got = 0;
	int rc;

	if ((rc = claim_check(key_id, key, err)) < 0)
		return rc;
	h = claim_hash(key_id, key);
	if (rd_db_engine_of(st->db) == RD_DB_POSTGRES) {
		if ((rc = claims_advisory(st, RD_STMT_IDEM_CLAIM, h, &got,
					  err)) < 0)
			return rc;
	} else {
		if ((rc = claims_lock(st, h, F_WRLCK, err)) < 0 &&
		    rc != RD_ECONFLICT)
			return rc;
		got = rc == RD_OK;
	}
	if (!got)
		return rd_error_set_field(err, RD_ECONFLICT, "Idempotency-Key",
					  "a request with this "
					  "Idempotency-Key is still being "
					  "processed; retry once it has been "
					  "answered");
	return RD_OK;
}

int rd_store_idem_release(rd_store *st, const char *key_id, const char *key,
			  rd_error *err)
{
	uint64_t h;
	int held = 0;
	int rc;

	if ((rc = claim_check(key_id, key, err)) < 0)
		return rc;
	h = claim_hash(key_id, key);
	if (rd_db_engine_of(st->db) == RD_DB_POSTGRES)
		return claims_advisory(st, RD_STMT_IDEM_RELEASE, h, &held,
				       err);
	if (st->claims_fd < 0)
		return RD_OK;     /* it never claimed anything */
	return claims_lock(st, h, F_UNLCK, err);
}
