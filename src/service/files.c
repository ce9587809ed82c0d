/*
 * Evidence files no change names: an upload's bytes are made durable
 * before the transaction that names them, so a crash between the two, or
 * a change refused after the bytes were stored, leaves a file in
 * <data>/blobs that nothing names. Harmless, but it takes room: the files
 * older than a grace are removed here.
 *
 * The check and the removal happen inside a write transaction: a change
 * that names a file checks in its own write transaction that the file is
 * there (src/evidence/commit.c), so the two are ordered by the database.
 * Either the change committed first, and the file is named and kept, or
 * the file went first, and the change fails on its own. An upload of the
 * same bytes renews the file's time, which puts it back in its grace.
 */
#include "service_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redress/store.h"

/* Files checked and removed under one write transaction, at most. */
#define CLEAN_BATCH 256

typedef struct cleaner {
	rd_service *svc;
	int64_t before;               /* written before this: old enough */
	rd_files_clean_report *r;
	char (*oids)[RD_OID_BUFSZ];   /* old files of the batch */
	unsigned char (*ids)[RD_OID_RAWSZ];
	int64_t *sizes;
	size_t count;
} cleaner;

/* Check and remove the batch's files in one write transaction. */
static int clean_batch(cleaner *c, rd_error *err)
{
	rd_store *st = c->svc->store;
	int64_t unnamed = 0, removed = 0, bytes = 0;
	int rc;

	if (c->count == 0)
		return RD_OK;
	if ((rc = rd_store_begin(st, err)) < 0)
		return rc;
	for (size_t i = 0; i < c->count && rc == RD_OK; i++) {
		int found = 0, type = 0, in_file = 0, gone = 0;
		int64_t size = 0;

		if ((rc = rd_store_object_get(st, c->ids[i], &found, &type,
					      &size, &in_file, NULL,
					      err)) < 0 ||
		    found)
			continue;
		unnamed++;
		if ((rc = rd_evidence_file_remove(c->svc->repo, c->oids[i],
						  c->before, &gone, err)) < 0)
			break;
		if (gone) {
			removed++;
			bytes += c->sizes[i];
		}
	}
	/* nothing was written: the transaction only held the order */
	rd_store_rollback(st);
	c->count = 0;
	c->r->unnamed += unnamed;
	c->r->removed += removed;
	c->r->removed_bytes += bytes;
	return rc;
}

static int consider(void *ctx, const unsigned char id[RD_OID_RAWSZ],
		    const char *oid, int64_t size, int64_t mtime, rd_error *err)
{
	cleaner *c = ctx;

	c->r->files++;
	if (mtime >= c->before)
		return RD_OK;
	memcpy(c->ids[c->count], id, RD_OID_RAWSZ);
	snprintf(c->oids[c->count], RD_OID_BUFSZ, "%s", oid);
	c->sizes[c->count] = size;
	if (++c->count == CLEAN_BATCH)
		return clean_batch(c, err);
	return RD_OK;
}

int rd_service_files_clean(rd_service *svc, int64_t older_than_s,
			   rd_files_clean_report *report, rd_error *err)
{
	cleaner c;
	int rc;

	memset(report, 0, sizeof(*report));
	if (older_than_s < 0)
		return rd_error_set_field(err, RD_EINVALID, "older_than",
					  "the age of the files to remove "
					  "must be 0 or more seconds, not "
					  "%lld", (long long)older_than_s);
	memset(&c, 0, sizeof(c));
	c.svc = svc;
	c.r = report;
	c.before = (int64_t)time(NULL) - older_than_s;
	c.oids = calloc(CLEAN_BATCH, sizeof(*c.oids));
	c.ids = calloc(CLEAN_BATCH, sizeof(*c.ids));
	c.sizes = calloc(CLEAN_BATCH, sizeof(*c.sizes));
	if (!c.oids || !c.ids || !c.sizes) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = rd_evidence_files_foreach(svc->repo, consider, &c,
					    err)) == RD_OK)
		rc = clean_batch(&c, err);
done:
	free(c.oids);
	free(c.ids);
	free(c.sizes);
	if (rc < 0)
		rd_error_prefix(err, "removing the evidence files no change "
				"names from %s/blobs", svc->data_dir);
	return rc;
}
