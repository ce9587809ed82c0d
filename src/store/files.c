/*
 * Evidence files in the database (schema 14, PostgreSQL only), so that
 * several nodes share no disk. See docs/architecture.md, "Evidence files
 * in the database".
 *
 * A file being written goes into rows of file_chunks, RD_STORE_FILE_CHUNK
 * bytes a row, under the number of its upload (a row of file_uploads,
 * made when its first row is). Only a chunk's worth is ever in memory.
 * Keeping it writes the last chunk and the row of `files` that names the
 * upload by the blob id of its bytes, in one transaction, committed before
 * the change that names the blob begins (as a file in a directory is made
 * durable before), or in the caller's own transaction when one is open.
 * The same bytes kept already: their row is renewed and this upload
 * dropped.
 *
 * A file no change names is removed only under a lock on its row, after
 * reading again whether an object names it (a change locks the row, shared,
 * when it names the file: one of the two waits for the other and then
 * sees what it did). An upload no file names is removed after a grace.
 */
#include "store/store_int.h"
#include "redress/hex.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Files listed a page at a time. */
#define FILES_PAGE 256

struct rd_store_file {
	rd_store *st;              /* borrowed */
	int64_t upload;            /* 0 until the first row is written */
	int64_t chunks;            /* rows written */
	int64_t written;           /* bytes given */
	unsigned char *buf;        /* the chunk being filled */
	size_t len, room;
	int failed;                /* a row failed: never kept */
	int kept;
};

struct rd_store_file_reader {
	rd_store *st;              /* borrowed */
	int64_t upload;
	int64_t size;
	int64_t pos;               /* the next byte to read */
	int64_t chunk;             /* the chunk held in buf, -1 for none */
	unsigned char *buf;
	size_t len;
};

int rd_store_files_in_db(const rd_store *st)
{
	return st && rd_db_engine_of(st->db) == RD_DB_POSTGRES;
}

static int need_db_files(rd_store *st, const char *what, rd_error *err)
{
	if (!rd_store_files_in_db(st))
		return rd_error_set(err, RD_EINTERNAL, "%s: the evidence files "
				    "of %s are in its data directory, not in "
				    "the database", what, st ? st->path : "");
	return RD_OK;
}

int rd_store_file_create(rd_store *st, int64_t size, rd_store_file **out,
			 rd_error *err)
{
	rd_store_file *f;
	int ret;

	*out = NULL;
	if ((ret = need_db_files(st, "rd_store_file_create", err)) < 0)
		return ret;
	if (size <= 0)
		return rd_error_set(err, RD_EINTERNAL, "rd_store_file_create: "
				    "a file of %lld bytes", (long long)size);
	if (!(f = calloc(1, sizeof(*f))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	f->st = st;
	f->room = size < RD_STORE_FILE_CHUNK ? (size_t)size
					     : RD_STORE_FILE_CHUNK;
	if (!(f->buf = malloc(f->room))) {
		free(f);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	*out = f;
	return RD_OK;
}

/* The upload's row, made with its first chunk. */
static int upload_start(rd_store_file *f, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if (f->upload)
		return RD_OK;
	if ((ret = rd_store__stmt(f->st, RD_STMT_FILE_UPLOAD_NEW, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, (int64_t)time(NULL));
	rc = rd_store__step(f->st, stmt, rc);
	if (rc == RD_DB_ROW)
		f->upload = rd_db_column_int64(stmt, 0);
	else
		ret = rd_store__fail(f->st, rc, err, "cannot start storing an "
				     "evidence file in %s", f->st->path);
	rd_store__release(stmt);
	return ret;
}

/* Write the chunk being filled as the upload's next row. */
static int chunk_flush(rd_store_file *f, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if (f->len == 0)
		return RD_OK;
	if ((ret = upload_start(f, err)) < 0 ||
	    (ret = rd_store__stmt(f->st, RD_STMT_FILE_CHUNK_PUT, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, f->upload);
	rc |= rd_db_bind_int64(stmt, 2, f->chunks);
	rc |= rd_db_bind_blob(stmt, 3, f->buf, f->len);
	rc = rd_store__step(f->st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(f->st, rc, err, "cannot store an evidence "
				     "file in %s after %lld bytes",
				     f->st->path,
				     (long long)(f->written - (int64_t)f->len));
	rd_store__release(stmt);
	if (ret == RD_OK) {
		f->chunks++;
		f->len = 0;
	}
	return ret;
}

int rd_store_file_append(rd_store_file *f, const void *buf, size_t len,
			 rd_error *err)
{
	const unsigned char *bytes = buf;
	int ret;

	if (!f || (!buf && len))
		return rd_error_set(err, RD_EINTERNAL, "rd_store_file_append "
				    "needs a file and bytes");
	if (f->failed || f->kept)
		return rd_error_set(err, RD_EINTERNAL, "this evidence file "
				    "takes no more bytes");
	while (len) {
		size_t take;

		if (f->len == f->room) {
			if (f->room < RD_STORE_FILE_CHUNK) {
				/* more than the size given at creation */
				f->failed = 1;
				return rd_error_set(err, RD_EINTERNAL,
						    "an evidence file longer "
						    "than it was declared");
			}
			if ((ret = chunk_flush(f, err)) < 0) {
				f->failed = 1;
				return ret;
			}
		}
		take = f->room - f->len;
		if (take > len)
			take = len;
		memcpy(f->buf + f->len, bytes, take);
		f->len += take;
		f->written += (int64_t)take;
		bytes += take;
		len -= take;
	}
	return RD_OK;
}

/* Run one statement of a file taking (id, a second integer). */
static int run_id(rd_store *st, int id_stmt, const unsigned char *id,
		  int64_t value, int want, rd_db_stmt **keep, rd_error *err,
		  const char *doing)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, id_stmt, &stmt, err)) < 0)
		return ret;
	rc = id ? rd_db_bind_blob(stmt, 1, id, RD_OID_RAWSZ)
		: rd_db_bind_int64(stmt, 1, value);
	if (id && value != INT64_MIN)
		rc |= rd_db_bind_int64(stmt, 2, value);
	rc = rd_store__step(st, stmt, rc);
	if (rc != want && !(want == RD_DB_ROW && rc == RD_DB_DONE)) {
		ret = rd_store__fail(st, rc, err, "%s", doing);
		rd_store__release(stmt);
		return ret;
	}
	if (keep) {
		*keep = stmt;
		return rc == RD_DB_ROW ? 1 : 0;
	}
	rd_store__release(stmt);
	return RD_OK;
}

/* The last chunk, the upload locked, and the row naming it by its id. */
static int keep_rows(rd_store_file *f, const unsigned char id[RD_OID_RAWSZ],
		     int64_t now, int *had, rd_error *err)
{
	rd_store *st = f->st;
	rd_db_stmt *stmt = NULL;
	char hex[41];
	char doing[160];
	int rc;
	int ret;

	rd_hex_encode(hex, id, RD_OID_RAWSZ);
	snprintf(doing, sizeof(doing), "cannot keep evidence file %s in %s",
		 hex, st->path);
	/*
	 * Rows written before (committed) are locked: a removal of abandoned
	 * uploads passes over a locked one. Rows made now are this
	 * transaction's, seen by no one else.
	 */
	if (f->upload) {
		if ((ret = run_id(st, RD_STMT_FILE_UPLOAD_LOCK, NULL, f->upload,
				  RD_DB_ROW, &stmt, err, doing)) < 0)
			return ret;
		rd_store__release(stmt);
		if (ret == 0)
			return rd_error_set(err, RD_EIO, "%s: its upload was "
					    "removed as abandoned while it "
					    "was written", doing);
	}
	if ((ret = chunk_flush(f, err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_FILE_PUT, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_blob(stmt, 1, id, RD_OID_RAWSZ);
	rc |= rd_db_bind_int64(stmt, 2, f->upload);
	rc |= rd_db_bind_int64(stmt, 3, f->written);
	rc |= rd_db_bind_int64(stmt, 4, now);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "%s", doing);
		rd_store__release(stmt);
		return ret;
	}
	*had = rd_db_changes(stmt) == 0;
	rd_store__release(stmt);
	if (!*had)
		return RD_OK;
	/* the same bytes, kept before: renew them, drop these */
	if ((ret = run_id(st, RD_STMT_FILE_RENEW, id, now, RD_DB_DONE, NULL,
			  err, doing)) < 0 ||
	    (ret = run_id(st, RD_STMT_FILE_UPLOAD_DROP, NULL, f->upload,
			  RD_DB_DONE, NULL, err, doing)) < 0)
		return ret;
	f->upload = 0;
	return RD_OK;
}

int rd_store_file_keep(rd_store_file *f, const unsigned char id[RD_OID_RAWSZ],
		       int64_t size, rd_error *err)
{
	rd_store *st;
	int own, had = 0;
	int ret;

	if (!f || !id)
		return rd_error_set(err, RD_EINTERNAL, "rd_store_file_keep "
				    "needs a file and its id");
	st = f->st;
	if (f->failed || f->kept || size != f->written)
		return rd_error_set(err, RD_EINTERNAL, "an evidence file of "
				    "%lld bytes cannot be kept as %lld",
				    (long long)f->written, (long long)size);
	/* alone, or within the caller's transaction (an import) */
	own = !rd_db_in_transaction(st->db) && !st->batch;
	if (own && (ret = rd_store_begin(st, err)) < 0)
		return ret;
	ret = keep_rows(f, id, (int64_t)time(NULL), &had, err);
	if (own) {
		if (ret == RD_OK)
			ret = rd_store_commit(st, err);
		else
			rd_store_rollback(st);
	}
	if (ret < 0) {
		/* its rows were rolled back, or are left to the grace */
		f->failed = 1;
		return ret;
	}
	f->kept = 1;
	return RD_OK;
}

void rd_store_file_free(rd_store_file *f)
{
	if (!f)
		return;
	/*
	 * Not kept: drop the rows written so far, unless a transaction is
	 * open (a failed one cannot run it; the grace removes them later)
	 */
	if (!f->kept && f->upload && !rd_db_in_transaction(f->st->db)) {
		rd_error ignored;

		rd_error_clear(&ignored);
		(void)run_id(f->st, RD_STMT_FILE_UPLOAD_DROP, NULL, f->upload,
			     RD_DB_DONE, NULL, &ignored, "dropping an upload");
	}
	free(f->buf);
	free(f);
}

int rd_store_file_stat(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
		       int *present, int64_t *size, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	char hex[41], doing[120];
	int ret;

	*present = 0;
	*size = 0;
	if ((ret = need_db_files(st, "rd_store_file_stat", err)) < 0)
		return ret;
	rd_hex_encode(hex, id, RD_OID_RAWSZ);
	snprintf(doing, sizeof(doing), "cannot look for evidence file %s", hex);
	if ((ret = run_id(st, RD_STMT_FILE_STAT, id, INT64_MIN, RD_DB_ROW,
			  &stmt, err, doing)) < 0)
		return ret;
	if (ret == 1) {
		*present = 1;
		*size = rd_db_column_int64(stmt, 0);
	}
	rd_store__release(stmt);
	return RD_OK;
}

int rd_store_file_open(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
		       int64_t size, rd_store_file_reader **out, rd_error *err)
{
	rd_store_file_reader *r;
	rd_db_stmt *stmt = NULL;
	char hex[41], doing[120];
	int64_t upload, found_size;
	int ret;

	*out = NULL;
	if ((ret = need_db_files(st, "rd_store_file_open", err)) < 0)
		return ret;
	rd_hex_encode(hex, id, RD_OID_RAWSZ);
	snprintf(doing, sizeof(doing), "cannot read evidence file %s", hex);
	if ((ret = run_id(st, RD_STMT_FILE_GET, id, INT64_MIN, RD_DB_ROW,
			  &stmt, err, doing)) < 0)
		return ret;
	if (ret == 0) {
		rd_store__release(stmt);
		return rd_error_set(err, RD_EIO, "evidence file %s is not in "
				    "%s", hex, st->path);
	}
	upload = rd_db_column_int64(stmt, 0);
	found_size = rd_db_column_int64(stmt, 1);
	rd_store__release(stmt);
	if (found_size != size)
		return rd_error_set(err, RD_EIO, "evidence file %s holds %lld "
				    "bytes, the record says %lld", hex,
				    (long long)found_size, (long long)size);
	if (!(r = calloc(1, sizeof(*r))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	r->st = st;
	r->upload = upload;
	r->size = size;
	r->chunk = -1;
	*out = r;
	return RD_OK;
}

/* Read chunk n into the reader, checking its length. */
static int chunk_load(rd_store_file_reader *r, int64_t n, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int64_t want = r->size - n * RD_STORE_FILE_CHUNK;
	const void *data;
	size_t len;
	int rc;
	int ret;

	if (want > RD_STORE_FILE_CHUNK)
		want = RD_STORE_FILE_CHUNK;
	if ((ret = rd_store__stmt(r->st, RD_STMT_FILE_CHUNK_GET, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, r->upload);
	rc |= rd_db_bind_int64(stmt, 2, n);
	rc = rd_store__step(r->st, stmt, rc);
	if (rc != RD_DB_ROW) {
		ret = rc == RD_DB_DONE
			      ? rd_error_set(err, RD_EIO, "an evidence file "
					     "of %s lacks its part %lld",
					     r->st->path, (long long)n)
			      : rd_store__fail(r->st, rc, err, "cannot read "
					       "an evidence file");
		rd_store__release(stmt);
		return ret;
	}
	data = rd_db_column_blob(stmt, 0);
	len = rd_db_column_bytes(stmt, 0);
	if ((int64_t)len != want || !data) {
		rd_store__release(stmt);
		return rd_error_set(err, RD_EIO, "part %lld of an evidence "
				    "file of %s holds %zu bytes, not %lld",
				    (long long)n, r->st->path, len,
				    (long long)want);
	}
	if (!r->buf && !(r->buf = malloc(RD_STORE_FILE_CHUNK))) {
		rd_store__release(stmt);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	memcpy(r->buf, data, len);
	r->len = len;
	r->chunk = n;
	rd_store__release(stmt);
	return RD_OK;
}

int rd_store_file_read(rd_store_file_reader *r, void *buf, size_t len,
		       size_t *got, rd_error *err)
{
	int64_t n, at;
	size_t take;
	int ret;

	*got = 0;
	if (!r || (!buf && len))
		return rd_error_set(err, RD_EINTERNAL, "rd_store_file_read "
				    "needs a reader and room");
	if (r->pos >= r->size || len == 0)
		return RD_OK;
	n = r->pos / RD_STORE_FILE_CHUNK;
	if (n != r->chunk && (ret = chunk_load(r, n, err)) < 0)
		return ret;
	at = r->pos - n * RD_STORE_FILE_CHUNK;
	take = r->len - (size_t)at;
	if (take > len)
		take = len;
	memcpy(buf, r->buf + at, take);
	r->pos += (int64_t)take;
	*got = take;
	return RD_OK;
}

void rd_store_file_close(rd_store_file_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

int rd_store_files_foreach(rd_store *st, rd_store_file_cb cb, void *ctx,
			   rd_error *err)
{
	struct row {
		unsigned char id[RD_OID_RAWSZ];
		int64_t size, written_at;
	} *page = NULL;
	unsigned char after[RD_OID_RAWSZ];
	size_t count, after_len = 0;
	int ret;

	if ((ret = need_db_files(st, "rd_store_files_foreach", err)) < 0)
		return ret;
	if (!(page = calloc(FILES_PAGE, sizeof(*page))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	do {
		rd_db_stmt *stmt = NULL;
		int rc;

		count = 0;
		if ((ret = rd_store__stmt(st, RD_STMT_FILES_PAGE, &stmt,
					  err)) < 0)
			break;
		/* every id sorts after the empty one */
		rc = rd_db_bind_blob(stmt, 1, after_len ? after : page->id,
				     after_len);
		rc |= rd_db_bind_int64(stmt, 2, FILES_PAGE);
		for (rc = rd_store__step(st, stmt, rc); rc == RD_DB_ROW;
		     rc = rd_db_step(stmt)) {
			const void *id = rd_db_column_blob(stmt, 0);

			if (!id || rd_db_column_bytes(stmt, 0) !=
					   RD_OID_RAWSZ) {
				rc = RD_DB_EIO;
				break;
			}
			memcpy(page[count].id, id, RD_OID_RAWSZ);
			page[count].size = rd_db_column_int64(stmt, 1);
			page[count].written_at = rd_db_column_int64(stmt, 2);
			count++;
		}
		if (rc != RD_DB_DONE)
			ret = rc == RD_DB_EIO
				      ? rd_error_set(err, RD_EIO, "a file of %s "
						     "has an id that is not "
						     "20 bytes", st->path)
				      : rd_store__fail(st, rc, err, "cannot "
						       "list the evidence "
						       "files of %s",
						       st->path);
		rd_store__release(stmt);
		/* the statement is done with: cb may use the store */
		for (size_t i = 0; ret == RD_OK && i < count; i++)
			ret = cb(ctx, page[i].id, page[i].size,
				 page[i].written_at, err);
		if (count) {
			memcpy(after, page[count - 1].id, RD_OID_RAWSZ);
			after_len = RD_OID_RAWSZ;
		}
	} while (ret == RD_OK && count == FILES_PAGE);
	free(page);
	return ret;
}

int rd_store_file_remove(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
			 int64_t before, int *removed, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	char hex[41], doing[120];
	int found = 0, type = 0, in_file = 0;
	int64_t size = 0;
	int ret;

	*removed = 0;
	if ((ret = need_db_files(st, "rd_store_file_remove", err)) < 0 ||
	    (ret = rd_store__require_tx(st, "rd_store_file_remove", err)) < 0)
		return ret;
	rd_hex_encode(hex, id, RD_OID_RAWSZ);
	snprintf(doing, sizeof(doing), "cannot remove evidence file %s", hex);
	/* locked first: a change naming it has finished, or waits */
	if ((ret = run_id(st, RD_STMT_FILE_LOCK_OLD, id, before, RD_DB_ROW,
			  &stmt, err, doing)) < 0)
		return ret;
	rd_store__release(stmt);
	if (ret == 0)
		return RD_OK;  /* gone, or written since */
	/* read after the lock: sees the object of a change that had it */
	if ((ret = rd_store_object_get(st, id, &found, &type, &size, &in_file,
				       NULL, err)) < 0 ||
	    found)
		return ret;
	if ((ret = run_id(st, RD_STMT_FILE_DELETE, id, INT64_MIN, RD_DB_DONE,
			  NULL, err, doing)) < 0)
		return ret;
	*removed = 1;
	return RD_OK;
}

int rd_store_files_abandoned_remove(rd_store *st, int64_t before,
				    int64_t *removed, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*removed = 0;
	if ((ret = need_db_files(st, "rd_store_files_abandoned_remove",
				 err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_FILE_UPLOADS_ABANDONED, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, before);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_DONE)
		*removed = rd_db_changes(stmt);
	else
		ret = rd_store__fail(st, rc, err, "cannot remove the abandoned "
				     "uploads of %s", st->path);
	rd_store__release(stmt);
	return ret;
}
