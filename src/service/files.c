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

#include "redress/evidence.h"
#include "redress/hex.h"
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
	/*
	 * A directory's files are removed outside it (the transaction only
	 * held the order); a database's with it
	 */
	if (rc == RD_OK)
		rc = rd_store_commit(st, err);
	else
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
	if (rc == RD_OK && rd_store_files_in_db(svc->store))
		rc = rd_store_files_abandoned_remove(svc->store, c.before,
						     &report->abandoned, err);
done:
	free(c.oids);
	free(c.ids);
	free(c.sizes);
	if (rc < 0) {
		if (rd_store_files_in_db(svc->store))
			rd_error_prefix(err, "removing the evidence files no "
					"change names from the database");
		else
			rd_error_prefix(err, "removing the evidence files no "
					"change names from %s/blobs",
					svc->data_dir);
	}
	return rc;
}

/*
 * Evidence files in the store's database (PostgreSQL): the functions the
 * record's repository keeps them through, each on this service's store.
 */
static int file_create(void *ctx, int64_t size, void **file, rd_error *err)
{
	rd_store_file *f = NULL;
	int rc = rd_store_file_create(((rd_service *)ctx)->store, size, &f,
				      err);

	*file = f;
	return rc;
}

static int file_append(void *file, const void *buf, size_t len, rd_error *err)
{
	return rd_store_file_append(file, buf, len, err);
}

static int file_keep(void *file, const unsigned char id[20], int64_t size,
		     rd_error *err)
{
	return rd_store_file_keep(file, id, size, err);
}

static void file_drop(void *file)
{
	rd_store_file_free(file);
}

static int file_open(void *ctx, const unsigned char id[20], int64_t size,
		     void **reader, rd_error *err)
{
	rd_store_file_reader *r = NULL;
	int rc = rd_store_file_open(((rd_service *)ctx)->store, id, size, &r,
				    err);

	*reader = r;
	return rc;
}

static int file_read(void *reader, void *buf, size_t len, size_t *got,
		     rd_error *err)
{
	return rd_store_file_read(reader, buf, len, got, err);
}

static void file_close(void *reader)
{
	rd_store_file_close(reader);
}

static int file_stat(void *ctx, const unsigned char id[20], int *present,
		     int64_t *size, rd_error *err)
{
	return rd_store_file_stat(((rd_service *)ctx)->store, id, present,
				  size, err);
}

/* The store's walk, handing each file on with its id in hex too. */
typedef struct file_walk {
	int (*cb)(void *ctx, const unsigned char id[20], const char *oid,
		  int64_t size, int64_t mtime, rd_error *err);
	void *ctx;
} file_walk;

static int file_each(void *ctx, const unsigned char id[RD_OID_RAWSZ],
		     int64_t size, int64_t written_at, rd_error *err)
{
	file_walk *walk = ctx;
	char oid[RD_OID_BUFSZ];

	rd_hex_encode(oid, id, RD_OID_RAWSZ);
	return walk->cb(walk->ctx, id, oid, size, written_at, err);
}

static int file_foreach(void *ctx,
			int (*cb)(void *cb_ctx, const unsigned char id[20],
				  const char *oid, int64_t size, int64_t mtime,
				  rd_error *err),
			void *cb_ctx, rd_error *err)
{
	file_walk walk = { cb, cb_ctx };

	return rd_store_files_foreach(((rd_service *)ctx)->store, file_each,
				      &walk, err);
}

static int file_remove(void *ctx, const unsigned char id[20], int64_t before,
		       int *removed, rd_error *err)
{
	return rd_store_file_remove(((rd_service *)ctx)->store, id, before,
				    removed, err);
}

void svc_file_io(rd_service *svc, rd_file_io *out)
{
	memset(out, 0, sizeof(*out));
	out->ctx = svc;
	out->create = file_create;
	out->append = file_append;
	out->keep = file_keep;
	out->drop = file_drop;
	out->open = file_open;
	out->read = file_read;
	out->close = file_close;
	out->stat = file_stat;
	out->foreach = file_foreach;
	out->remove = file_remove;
}
