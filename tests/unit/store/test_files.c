/*
 * Evidence files in the database (schema 14, PostgreSQL): written in
 * chunks and read back byte for byte, the same bytes kept once, a file not
 * kept leaving nothing, a keep inside the caller's transaction going with
 * it, the removal of unnamed files racing a change that names one, the
 * removal of abandoned uploads, the walk over every file, and a schema 13
 * database upgraded. On SQLite (whose files are in its data directory)
 * every function is refused.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

/* The file of n bytes whose byte i is a function of i and seed. */
static unsigned char *bytes_of(size_t n, unsigned seed)
{
	unsigned char *b = malloc(n ? n : 1);

	for (size_t i = 0; b && i < n; i++)
		b[i] = (unsigned char)((i * 2654435761u + seed) >> 13);
	return b;
}

/* A made-up blob id (the store does not hash: the evidence module does). */
static void id_of(unsigned char id[RD_OID_RAWSZ], unsigned n)
{
	for (int i = 0; i < RD_OID_RAWSZ; i++)
		id[i] = (unsigned char)(n * 31 + (unsigned)i * 7);
	id[0] = (unsigned char)(n >> 8);
	id[1] = (unsigned char)n;
}

/* One integer a query answers on st's connection; -1 when none. */
static int64_t scalar(rd_store *st, const char *sql)
{
	rd_db_stmt *stmt = NULL;
	int64_t value = -1;

	if (rd_db_prepare(st->db, sql, &stmt) == RD_DB_OK &&
	    rd_db_step(stmt) == RD_DB_ROW)
		value = rd_db_column_int64(stmt, 0);
	rd_db_finalize(stmt);
	return value;
}

/* A fresh record, or NULL (the case is skipped) on SQLite. */
static rd_store *open_pg(char **path)
{
	rd_store *st = NULL;
	rd_error err;

	*path = NULL;
	if (!rd_test_on_postgres()) {
		rd_test_skip("PostgreSQL only: the embedded record keeps its "
			     "files in its data directory");
		return NULL;
	}
	rd_error_clear(&err);
	*path = rd_test_db_path();
	if (!*path || rd_store_open(&st, *path, &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "cannot open the record: %s",
			     err.message);
		return NULL;
	}
	return st;
}

/* Write data as file id in pieces of `piece` bytes, and keep it. */
static int put_file(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
		    const unsigned char *data, size_t n, size_t piece,
		    rd_error *err)
{
	rd_store_file *f = NULL;
	int rc;

	if ((rc = rd_store_file_create(st, (int64_t)n, &f, err)) < 0)
		return rc;
	for (size_t at = 0; rc == RD_OK && at < n; at += piece)
		rc = rd_store_file_append(f, data + at,
					  n - at < piece ? n - at : piece,
					  err);
	if (rc == RD_OK)
		rc = rd_store_file_keep(f, id, (int64_t)n, err);
	rd_store_file_free(f);
	return rc;
}

/* 1 when file id holds exactly data, read in pieces of `piece` bytes. */
static int reads_back(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
		      const unsigned char *data, size_t n, size_t piece)
{
	rd_store_file_reader *r = NULL;
	unsigned char *buf = malloc(piece);
	rd_error err;
	size_t at = 0, got = 0;
	int same = buf != NULL;

	rd_error_clear(&err);
	if (!same || rd_store_file_open(st, id, (int64_t)n, &r, &err) < 0) {
		free(buf);
		return 0;
	}
	while (same && rd_store_file_read(r, buf, piece, &got, &err) == RD_OK &&
	       got > 0) {
		same = at + got <= n && memcmp(buf, data + at, got) == 0;
		at += got;
	}
	same = same && at == n && got == 0 && !err.code;
	rd_store_file_close(r);
	free(buf);
	return same;
}

/* Files over several chunks, written and read in odd pieces. */
static void written_in_chunks_read_back(void)
{
	size_t n = 2 * RD_STORE_FILE_CHUNK + RD_STORE_FILE_CHUNK / 2 + 1;
	unsigned char id[RD_OID_RAWSZ], small_id[RD_OID_RAWSZ];
	unsigned char *data = NULL;
	rd_store_file_reader *r = NULL;
	rd_store *st;
	rd_error err;
	int64_t size = 0;
	int present = 0;
	char *path;

	if (!(st = open_pg(&path)))
		return;
	data = bytes_of(n, 1);
	CHECK(data != NULL);
	rd_error_clear(&err);
	id_of(id, 1);
	id_of(small_id, 2);
	CHECK_OK(put_file(st, id, data, n, 7777, &err), &err);
	CHECK_OK(put_file(st, small_id, data, 1, 1, &err), &err);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_chunks"), 4);
	CHECK_INT(scalar(st, "SELECT max(octet_length(data)) FROM "
			     "file_chunks"), RD_STORE_FILE_CHUNK);
	CHECK_OK(rd_store_file_stat(st, id, &present, &size, &err), &err);
	CHECK_INT(present, 1);
	CHECK_INT(size, (int64_t)n);
	CHECK(reads_back(st, id, data, n, 4096));
	CHECK(reads_back(st, id, data, n, 3 * RD_STORE_FILE_CHUNK));
	CHECK(reads_back(st, small_id, data, 1, 10));
	/* a size other than the record's, and a file never kept */
	CHECK_FAILS(rd_store_file_open(st, id, (int64_t)n - 1, &r, &err),
		    RD_EIO);
	CHECK_HAS(err.message, "the record says");
	id_of(id, 3);
	CHECK_OK(rd_store_file_stat(st, id, &present, &size, &err), &err);
	CHECK_INT(present, 0);
	CHECK_FAILS(rd_store_file_open(st, id, 5, &r, &err), RD_EIO);
	CHECK_HAS(err.message, "is not in");
	/* more bytes than declared are refused, and nothing is kept */
	{
		rd_store_file *f = NULL;

		CHECK_OK(rd_store_file_create(st, 3, &f, &err), &err);
		CHECK_FAILS(rd_store_file_append(f, data, 4, &err),
			    RD_EINTERNAL);
		CHECK_FAILS(rd_store_file_keep(f, id, 4, &err), RD_EINTERNAL);
		rd_store_file_free(f);
	}
	free(data);
	rd_store_close(st);
	free(path);
}

/* The same bytes kept twice: one file, the second upload dropped. */
static void same_bytes_kept_once(void)
{
	size_t n = RD_STORE_FILE_CHUNK + 10;
	unsigned char id[RD_OID_RAWSZ];
	unsigned char *data = NULL;
	rd_store *st;
	rd_error err;
	char *path;

	if (!(st = open_pg(&path)))
		return;
	data = bytes_of(n, 2);
	CHECK(data != NULL);
	rd_error_clear(&err);
	id_of(id, 4);
	CHECK_OK(put_file(st, id, data, n, 65536, &err), &err);
	CHECK(rd_db_exec(st->db, "UPDATE files SET written_at = 5") ==
	      RD_DB_OK);
	CHECK_OK(put_file(st, id, data, n, 65536, &err), &err);
	CHECK_INT(scalar(st, "SELECT count(*) FROM files"), 1);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_uploads"), 1);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_chunks"), 2);
	/* renewed: a removal of old unnamed files passes it over */
	CHECK(scalar(st, "SELECT written_at FROM files") > 5);
	CHECK(reads_back(st, id, data, n, 65536));
	free(data);
	rd_store_close(st);
	free(path);
}

/*
 * A file freed before it was kept leaves no row, and a keep inside the
 * caller's transaction is undone with it.
 */
static void not_kept_leaves_nothing(void)
{
	size_t n = 2 * RD_STORE_FILE_CHUNK;
	unsigned char id[RD_OID_RAWSZ];
	unsigned char *data = NULL;
	rd_store_file *f = NULL;
	rd_store *st;
	rd_error err;
	int64_t size = 0;
	int present = 1;
	char *path;

	if (!(st = open_pg(&path)))
		return;
	data = bytes_of(n, 3);
	CHECK(data != NULL);
	rd_error_clear(&err);
	id_of(id, 5);
	CHECK_OK(rd_store_file_create(st, (int64_t)n, &f, &err), &err);
	CHECK_OK(rd_store_file_append(f, data, n - 1, &err), &err);
	/* its first chunk is stored already */
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_chunks"), 1);
	rd_store_file_free(f);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_uploads"), 0);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_chunks"), 0);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(put_file(st, id, data, n, n, &err), &err);
	CHECK_OK(rd_store_file_stat(st, id, &present, &size, &err), &err);
	CHECK_INT(present, 1);
	rd_store_rollback(st);
	CHECK_OK(rd_store_file_stat(st, id, &present, &size, &err), &err);
	CHECK_INT(present, 0);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_chunks"), 0);
	free(data);
	rd_store_close(st);
	free(path);
}

/* Name file id by an object of a new change. */
static int name_file(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
		     int64_t size, rd_error *err)
{
	return rd_store_object_put(st, id, RD_OBJECT_BLOB, size, NULL, err);
}

/* Removing: only old files that no object names. */
static void removes_only_old_unnamed_files(void)
{
	unsigned char named[RD_OID_RAWSZ], young[RD_OID_RAWSZ];
	unsigned char old[RD_OID_RAWSZ];
	unsigned char *data = NULL;
	rd_store *st;
	rd_error err;
	int64_t now = (int64_t)time(NULL), size = 0;
	int removed = -1, present = 1;
	char *path;

	if (!(st = open_pg(&path)))
		return;
	data = bytes_of(100, 4);
	CHECK(data != NULL);
	rd_error_clear(&err);
	id_of(named, 6);
	id_of(young, 7);
	id_of(old, 8);
	CHECK_OK(put_file(st, named, data, 100, 100, &err), &err);
	CHECK_OK(put_file(st, young, data + 1, 99, 99, &err), &err);
	CHECK_OK(put_file(st, old, data + 2, 98, 98, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(name_file(st, named, 100, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);

	/* outside a transaction it is refused */
	CHECK_FAILS(rd_store_file_remove(st, old, now + 60, &removed, &err),
		    RD_EINTERNAL);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_file_remove(st, named, now + 60, &removed, &err),
		 &err);
	CHECK_INT(removed, 0);
	CHECK_OK(rd_store_file_remove(st, young, now - 60, &removed, &err),
		 &err);
	CHECK_INT(removed, 0);
	CHECK_OK(rd_store_file_remove(st, old, now + 60, &removed, &err),
		 &err);
	CHECK_INT(removed, 1);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_file_stat(st, old, &present, &size, &err), &err);
	CHECK_INT(present, 0);
	CHECK_INT(scalar(st, "SELECT count(*) FROM files"), 2);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_uploads"), 2);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_chunks"), 2);
	free(data);
	rd_store_close(st);
	free(path);
}

/*
 * A change that names a file while a removal runs: the change looked at
 * the file first (stat locks it), so the removal waits for the change,
 * then sees the object and keeps the file.
 */
typedef struct remover {
	const char *path;
	const unsigned char *id;
	pthread_barrier_t *looked;
	int removed;
	int rc;
	rd_error err;
} remover;

static void *remove_after_look(void *arg)
{
	remover *r = arg;
	rd_store *st = NULL;

	rd_error_clear(&r->err);
	r->rc = rd_store_open(&st, r->path, &r->err);
	(void)pthread_barrier_wait(r->looked);
	if (r->rc == RD_OK && (r->rc = rd_store_begin(st, &r->err)) == RD_OK) {
		r->rc = rd_store_file_remove(st, r->id,
					     (int64_t)time(NULL) + 10,
					     &r->removed, &r->err);
		if (r->rc == RD_OK)
			r->rc = rd_store_commit(st, &r->err);
		else
			rd_store_rollback(st);
	}
	rd_store_close(st);
	return NULL;
}

static void removal_waits_for_a_change_naming_the_file(void)
{
	unsigned char id[RD_OID_RAWSZ];
	unsigned char *data = NULL;
	pthread_barrier_t looked;
	pthread_t thread;
	remover r;
	rd_store *st;
	rd_error err;
	int64_t size = 0;
	int present = 0;
	char *path;

	if (!(st = open_pg(&path)))
		return;
	data = bytes_of(50, 5);
	CHECK(data != NULL);
	rd_error_clear(&err);
	id_of(id, 9);
	CHECK_OK(put_file(st, id, data, 50, 50, &err), &err);
	memset(&r, 0, sizeof(r));
	r.path = path;
	r.id = id;
	r.looked = &looked;
	CHECK(pthread_barrier_init(&looked, NULL, 2) == 0);
	CHECK(pthread_create(&thread, NULL, remove_after_look, &r) == 0);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_file_stat(st, id, &present, &size, &err), &err);
	CHECK_INT(present, 1);
	(void)pthread_barrier_wait(&looked);
	/* the removal is under way, and must wait for this change */
	usleep(300 * 1000);
	CHECK_OK(name_file(st, id, size, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	pthread_join(thread, NULL);
	pthread_barrier_destroy(&looked);
	CHECK_OK(r.rc, &r.err);
	CHECK_INT(r.removed, 0);
	CHECK(reads_back(st, id, data, 50, 64));
	free(data);
	rd_store_close(st);
	free(path);
}

/* An upload cut short is removed after its grace; a kept one is not. */
static void abandoned_uploads_removed(void)
{
	size_t n = RD_STORE_FILE_CHUNK + 1;
	unsigned char id[RD_OID_RAWSZ], kept[RD_OID_RAWSZ];
	unsigned char *data = NULL;
	rd_store_file *f = NULL;
	rd_store *other = NULL;
	rd_store *st;
	rd_error err;
	int64_t removed = -1;
	char *path;

	if (!(st = open_pg(&path)))
		return;
	data = bytes_of(n, 6);
	CHECK(data != NULL);
	rd_error_clear(&err);
	id_of(id, 10);
	id_of(kept, 11);
	CHECK_OK(put_file(st, kept, data, 10, 10, &err), &err);
	CHECK_OK(rd_store_file_create(st, (int64_t)n, &f, &err), &err);
	CHECK_OK(rd_store_file_append(f, data, n, &err), &err);
	/* a second node cleans while this one still writes */
	CHECK_OK(rd_store_open(&other, path, &err), &err);
	CHECK_OK(rd_store_files_abandoned_remove(other, (int64_t)time(NULL) -
								 3600,
						 &removed, &err), &err);
	CHECK_INT(removed, 0);
	CHECK_OK(rd_store_files_abandoned_remove(other, (int64_t)time(NULL) +
								 10,
						 &removed, &err), &err);
	CHECK_INT(removed, 1);
	CHECK_INT(scalar(st, "SELECT count(*) FROM file_chunks"), 1);
	/* the writer finds its upload gone: an error, not a broken file */
	CHECK_FAILS(rd_store_file_keep(f, id, (int64_t)n, &err), RD_EIO);
	CHECK_HAS(err.message, "removed as abandoned");
	rd_store_file_free(f);
	CHECK_INT(scalar(st, "SELECT count(*) FROM files"), 1);
	CHECK(reads_back(st, kept, data, 10, 10));
	rd_store_close(other);
	free(data);
	rd_store_close(st);
	free(path);
}

/* The walk: every file once, in id order, over several pages. */
typedef struct walk {
	unsigned count;
	unsigned char last[RD_OID_RAWSZ];
	int ordered;
	int64_t bytes;
} walk;

static int walked(void *ctx, const unsigned char id[RD_OID_RAWSZ],
		  int64_t size, int64_t written_at, rd_error *err)
{
	walk *w = ctx;

	(void)err;
	if (w->count && memcmp(w->last, id, RD_OID_RAWSZ) >= 0)
		w->ordered = 0;
	if (written_at <= 0)
		w->ordered = 0;
	memcpy(w->last, id, RD_OID_RAWSZ);
	w->count++;
	w->bytes += size;
	return RD_OK;
}

static void walks_every_file(void)
{
	unsigned char *data = NULL;
	rd_store *st;
	rd_error err;
	walk w = { 0, { 0 }, 1, 0 };
	char *path;

	if (!(st = open_pg(&path)))
		return;
	data = bytes_of(300, 7);
	CHECK(data != NULL);
	rd_error_clear(&err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	for (unsigned i = 1; i <= 300; i++) {
		unsigned char id[RD_OID_RAWSZ];

		id_of(id, 1000 + i);
		CHECK_OK(put_file(st, id, data, i, i, &err), &err);
	}
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_files_foreach(st, walked, &w, &err), &err);
	CHECK_INT(w.count, 300);
	CHECK_INT(w.ordered, 1);
	CHECK_INT(w.bytes, 300 * 301 / 2);
	free(data);
	rd_store_close(st);
	free(path);
}

/* A PostgreSQL record of schema 13 gains the tables of files. */
static void schema_13_upgraded(void)
{
	rd_store *st = NULL;
	rd_error err;
	char *path;

	if (!(st = open_pg(&path)))
		return;
	rd_store_close(st);
	free(path);
	st = NULL;
	path = rd_test_db_path();
	rd_error_clear(&err);
	CHECK_OK(rd_store_open_at_version(&st, path, 13, &err), &err);
	CHECK_INT(scalar(st, "SELECT count(*) FROM pg_catalog.pg_tables WHERE "
			     "tablename = 'files'"), 0);
	CHECK(!st->stmts[RD_STMT_FILE_GET]);
	rd_store_close(st);
	st = NULL;
	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_INT(st->schema, RD_STORE_SCHEMA_VERSION);
	CHECK_INT(scalar(st, "SELECT version FROM redress_schema"),
		  RD_STORE_SCHEMA_VERSION);
	CHECK_INT(scalar(st, "SELECT count(*) FROM pg_catalog.pg_tables WHERE "
			     "tablename IN ('files', 'file_chunks', "
			     "'file_uploads')"), 3);
	CHECK(st->stmts[RD_STMT_FILE_GET] != NULL);
	rd_store_close(st);
	free(path);
}

/* The embedded record keeps files in its directory: every call refused. */
static void sqlite_refuses(void)
{
	unsigned char id[RD_OID_RAWSZ] = { 0 };
	rd_store_file *f = NULL;
	rd_store_file_reader *r = NULL;
	rd_store *st = NULL;
	rd_error err;
	int64_t size = 0, removed = 0;
	int present = 0;
	char *path;

	if (rd_test_on_postgres()) {
		rd_test_skip("SQLite only: the embedded record keeps its files "
			     "in its data directory");
		return;
	}
	rd_error_clear(&err);
	path = rd_test_db_path();
	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_INT(rd_store_files_in_db(st), 0);
	CHECK_FAILS(rd_store_file_create(st, 1, &f, &err), RD_EINTERNAL);
	CHECK_HAS(err.message, "in its data directory");
	CHECK_FAILS(rd_store_file_stat(st, id, &present, &size, &err),
		    RD_EINTERNAL);
	CHECK_FAILS(rd_store_file_open(st, id, 1, &r, &err), RD_EINTERNAL);
	CHECK_FAILS(rd_store_files_abandoned_remove(st, 0, &removed, &err),
		    RD_EINTERNAL);
	/* and its statements of files are not prepared */
	CHECK(!st->stmts[RD_STMT_FILE_GET]);
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(written_in_chunks_read_back);
	RUN(same_bytes_kept_once);
	RUN(not_kept_leaves_nothing);
	RUN(removes_only_old_unnamed_files);
	RUN(removal_waits_for_a_change_naming_the_file);
	RUN(abandoned_uploads_removed);
	RUN(walks_every_file);
	RUN(schema_13_upgraded);
	RUN(sqlite_refuses);
	return rd_test_summary();
}
