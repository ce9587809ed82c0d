/*
 * Store schema 5: requests made under an Idempotency-Key. A record is
 * written only inside a transaction, found by (key id, key), refused when
 * its key is already taken unless replaced, checked by the schema, walked
 * oldest first, and dropped once older than the purge time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/store.h"
#include "fixtures.h"
#include "test.h"

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static rd_store *fresh_store(void)
{
	char *path = rd_test_db_path();
	rd_store *st = rd_test_store_open(path);

	free(path);
	return st;
}

static rd_idem_record sample(const char *key_id, const char *key,
			     rd_idem_operation op, int64_t at)
{
	rd_idem_record r;

	memset(&r, 0, sizeof(r));
	snprintf(r.key_id, sizeof(r.key_id), "%s", key_id);
	snprintf(r.key, sizeof(r.key), "%s", key);
	snprintf(r.request_sha256, sizeof(r.request_sha256), "%s", SHA_A);
	r.operation = op;
	snprintf(r.dispute_id, sizeof(r.dispute_id), "01J%023d", 7);
	r.evidence_n = op == RD_IDEM_EVIDENCE ? 3 : 0;
	r.response = (char *)"{\"id\":\"x\"}";
	r.created_at = at;
	return r;
}

static int put(rd_store *st, const rd_idem_record *r, int replace,
	       rd_error *err)
{
	int rc = rd_store_begin(st, err);

	if (rc < 0)
		return rc;
	if ((rc = rd_store_idem_insert(st, r, replace, err)) < 0) {
		rd_store_rollback(st);
		return rc;
	}
	return rd_store_commit(st, err);
}

static void insert_and_get(void)
{
	rd_store *st = fresh_store();
	rd_idem_record r = sample("00000000000000a1", "order-1/open",
				  RD_IDEM_OPEN, 1000);
	rd_idem_record ev = sample("00000000000000a1", "upload-1",
				   RD_IDEM_EVIDENCE, 1001);
	rd_idem_record got;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(put(st, &r, 0, &err), &err);
	CHECK_OK(put(st, &ev, 0, &err), &err);
	CHECK_OK(rd_store_idem_get(st, "00000000000000a1", "order-1/open",
				   &got, &err), &err);
	CHECK_STR(got.request_sha256, SHA_A);
	CHECK_INT(got.operation, RD_IDEM_OPEN);
	CHECK_STR(got.dispute_id, r.dispute_id);
	CHECK_INT(got.evidence_n, 0);
	CHECK_STR(got.response, "{\"id\":\"x\"}");
	CHECK_INT(got.created_at, 1000);
	rd_idem_record_clear(&got);
	CHECK_OK(rd_store_idem_get(st, "00000000000000a1", "upload-1", &got,
				   &err), &err);
	CHECK_INT(got.operation, RD_IDEM_EVIDENCE);
	CHECK_INT(got.evidence_n, 3);
	rd_idem_record_clear(&got);
	/* the key is scoped to its API key */
	CHECK_FAILS(rd_store_idem_get(st, "00000000000000b2", "order-1/open",
				      &got, &err), RD_ENOTFOUND);
	CHECK_FAILS(rd_store_idem_get(st, "00000000000000a1", "order-2",
				      &got, &err), RD_ENOTFOUND);
	rd_store_close(st);
}

static void duplicate_refused_unless_replaced(void)
{
	rd_store *st = fresh_store();
	rd_idem_record r = sample("00000000000000a1", "k", RD_IDEM_EVENT, 5);
	rd_idem_record got;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(put(st, &r, 0, &err), &err);
	snprintf(r.request_sha256, sizeof(r.request_sha256), "%s", SHA_B);
	CHECK_FAILS(put(st, &r, 0, &err), RD_ECONFLICT);
	CHECK_OK(rd_store_idem_get(st, "00000000000000a1", "k", &got, &err),
		 &err);
	CHECK_STR(got.request_sha256, SHA_A);
	rd_idem_record_clear(&got);
	CHECK_OK(put(st, &r, 1, &err), &err);
	CHECK_OK(rd_store_idem_get(st, "00000000000000a1", "k", &got, &err),
		 &err);
	CHECK_STR(got.request_sha256, SHA_B);
	rd_idem_record_clear(&got);
	rd_store_close(st);
}

static void schema_refuses_bad_records(void)
{
	rd_store *st = fresh_store();
	rd_idem_record r;
	char long_key[300];
	rd_error err;

	rd_error_clear(&err);
	/* outside a transaction */
	r = sample("00000000000000a1", "k", RD_IDEM_OPEN, 1);
	CHECK_FAILS(rd_store_idem_insert(st, &r, 0, &err), RD_EINTERNAL);

	snprintf(r.request_sha256, sizeof(r.request_sha256), "%s",
		 "not-a-digest");
	CHECK_FAILS(put(st, &r, 0, &err), RD_EINVALID);
	r = sample("00000000000000a1", "", RD_IDEM_OPEN, 1);
	CHECK_FAILS(put(st, &r, 0, &err), RD_EINVALID);
	memset(long_key, 'k', sizeof(long_key));
	long_key[256] = '\0';
	r = sample("00000000000000a1", "k", RD_IDEM_OPEN, 1);
	memcpy(r.key, long_key, sizeof(r.key) - 1);
	r.key[sizeof(r.key) - 1] = '\0';
	CHECK_OK(put(st, &r, 0, &err), &err);  /* 255 bytes: the limit */
	/* an evidence number only with the evidence operation */
	r = sample("00000000000000a1", "e1", RD_IDEM_EVENT, 1);
	r.evidence_n = 2;
	CHECK_FAILS(put(st, &r, 0, &err), RD_EINVALID);
	r = sample("00000000000000a1", "e2", RD_IDEM_EVIDENCE, 1);
	r.evidence_n = 0;
	CHECK_FAILS(put(st, &r, 0, &err), RD_EINVALID);
	r = sample("00000000000000a1", "e3", RD_IDEM_OPEN, 1);
	r.response = NULL;
	CHECK_FAILS(put(st, &r, 0, &err), RD_EINVALID);
	r.response = (char *)"{}";
	r.operation = (rd_idem_operation)9;
	CHECK_FAILS(put(st, &r, 0, &err), RD_EINVALID);
	rd_store_close(st);
}

static int count_cb(const rd_idem_record *rec, void *ctx)
{
	int64_t *last = ctx;

	/* oldest first */
	if (rec->created_at < last[0])
		return -100;
	last[0] = rec->created_at;
	last[1]++;
	return 0;
}

static void purge_and_walk(void)
{
	rd_store *st = fresh_store();
	rd_idem_record r;
	int64_t seen[2] = { 0, 0 };
	rd_idem_record got;
	char key[16];
	rd_error err;

	rd_error_clear(&err);
	for (int i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		/* inserted out of time order */
		r = sample("00000000000000a1", key, RD_IDEM_OPEN,
			   (int64_t)((i * 7) % 6) * 100);
		CHECK_OK(put(st, &r, 0, &err), &err);
	}
	CHECK_OK(rd_store_idem_foreach(st, count_cb, seen, &err), &err);
	CHECK_INT(seen[1], 6);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_idem_purge(st, 300, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	seen[0] = seen[1] = 0;
	CHECK_OK(rd_store_idem_foreach(st, count_cb, seen, &err), &err);
	CHECK_INT(seen[1], 3);  /* 300, 400, 500 stay */
	CHECK_INT(seen[0], 500);
	CHECK_FAILS(rd_store_idem_get(st, "00000000000000a1", "k0", &got,
				      &err), RD_ENOTFOUND);
	/* a walk stopped by its callback returns what the callback did */
	CHECK_INT(rd_store_idem_foreach(st, count_cb, (int64_t[2]){ 9999, 0 },
					&err), -100);
	/* purging needs a transaction */
	CHECK_FAILS(rd_store_idem_purge(st, 1000, &err), RD_EINTERNAL);
	rd_store_close(st);
}

/*
 * Schema 20: a bulk request's record names no dispute (its dispute_id is
 * NULL, read back as "").
 */
static void bulk_record_names_no_dispute(void)
{
	rd_store *st = fresh_store();
	rd_idem_record r = sample("00000000000000a1", "bulk-1", RD_IDEM_BULK,
				  1000);
	rd_idem_record got;
	rd_error err;

	rd_error_clear(&err);
	r.response = (char *)"{\"results\":[],\"succeeded\":0,\"failed\":0}";
	CHECK_OK(put(st, &r, 0, &err), &err);
	CHECK_OK(rd_store_idem_get(st, "00000000000000a1", "bulk-1", &got,
				   &err), &err);
	CHECK_INT(got.operation, RD_IDEM_BULK);
	CHECK_STR(got.dispute_id, "");
	CHECK_STR(got.response, r.response);
	CHECK_STR(rd_idem_operation_name(got.operation), "bulk");
	rd_idem_record_clear(&got);
	/* replaced in place, as a record past its time is */
	r.created_at = 2000;
	CHECK_OK(put(st, &r, 1, &err), &err);
	CHECK_OK(rd_store_idem_get(st, "00000000000000a1", "bulk-1", &got,
				   &err), &err);
	CHECK_INT(got.created_at, 2000);
	rd_idem_record_clear(&got);
	rd_store_close(st);
}

/*
 * Schema 23: a claim's record names the dispute it took, or none (NULL,
 * read back as "") when there was nothing to claim: its answer was 204,
 * kept as an empty response.
 */
static void claim_record_names_its_dispute_or_none(void)
{
	rd_store *st = fresh_store();
	rd_idem_record r = sample("00000000000000a1", "claim-1", RD_IDEM_CLAIM,
				  1000);
	rd_idem_record got;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(put(st, &r, 0, &err), &err);
	CHECK_OK(rd_store_idem_get(st, "00000000000000a1", "claim-1", &got,
				   &err), &err);
	CHECK_INT(got.operation, RD_IDEM_CLAIM);
	CHECK_STR(got.dispute_id, r.dispute_id);
	CHECK_STR(got.response, r.response);
	CHECK_STR(rd_idem_operation_name(got.operation), "claim");
	rd_idem_record_clear(&got);

	r = sample("00000000000000a1", "claim-2", RD_IDEM_CLAIM, 1000);
	r.dispute_id[0] = '\0';
	r.response = (char *)"";
	CHECK_OK(put(st, &r, 0, &err), &err);
	CHECK_OK(rd_store_idem_get(st, "00000000000000a1", "claim-2", &got,
				   &err), &err);
	CHECK_INT(got.operation, RD_IDEM_CLAIM);
	CHECK_STR(got.dispute_id, "");
	CHECK_STR(got.response, "");
	rd_idem_record_clear(&got);
	rd_store_close(st);
}

int main(void)
{
	RUN(insert_and_get);
	RUN(duplicate_refused_unless_replaced);
	RUN(schema_refuses_bad_records);
	RUN(purge_and_walk);
	RUN(bulk_record_names_no_dispute);
	RUN(claim_record_names_its_dispute_or_none);
	return rd_test_summary();
}
