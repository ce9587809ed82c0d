/*
 * The record (schema 11): git objects, the heads of disputes and the
 * changes in commit order, the mirror's position and the record's own
 * settings. See docs/architecture.md, "The record".
 *
 * A head moves only by compare-and-swap and every move appends one change,
 * in the same transaction: the record can never hold a head whose change
 * is missing, nor a change whose head was not reached.
 */
#include "store/store_int.h"
#include "redress/hex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int valid_id(const char *dispute_id, rd_error *err)
{
	if (!rd_id_valid(dispute_id))
		return rd_error_set_field(err, RD_EINVALID, "dispute_id",
					  "\"%.64s\" is not a dispute id",
					  dispute_id ? dispute_id : "");
	return RD_OK;
}

/*
 * On PostgreSQL each statement is a round trip, and a change stores
 * several objects (its files' blobs, its trees, its commit), which libgit2
 * then asks about again (whether each entry of a new tree is stored). So
 * a transaction's objects are kept here (st->txobj) and their rows sent
 * together, in one statement, as it commits: a batch of the group commit
 * stores all its changes' objects at once, after the last change's
 * savepoint. Until then this list answers for them (found, their header,
 * their bytes), and a change of a batch that rolls back to its savepoint
 * drops its own from it. Their bytes are small (a change's trees, commit
 * and event file; evidence files are rows of their own, written as they
 * arrive) and a batch has at most 64 changes. SQLite's statements are
 * calls, not round trips: there each object is stored at once, as before.
 */

/* Rows in one statement at most, and the bytes of their data. */
#define TXOBJ_ROWS_MAX 512
#define TXOBJ_STMT_BYTES (16 * 1024 * 1024)

static int deferred(const rd_store *st)
{
	return rd_db_engine_of(st->db) == RD_DB_POSTGRES;
}

/* The open transaction's object `id`, or NULL. */
static rd_store_txobj *txobj_find(rd_store *st,
				  const unsigned char id[RD_OID_RAWSZ])
{
	for (size_t i = st->txobj_count; i-- > 0;)
		if (memcmp(st->txobj[i].id, id, RD_OID_RAWSZ) == 0)
			return &st->txobj[i];
	return NULL;
}

void rd_store__objects_forget(rd_store *st, size_t keep)
{
	for (size_t i = keep; i < st->txobj_count; i++) {
		free(st->txobj[i].data);
		st->txobj[i].data = NULL;
	}
	if (keep < st->txobj_count)
		st->txobj_count = keep;
	if (st->txobj_sent > st->txobj_count)
		st->txobj_sent = st->txobj_count;
	if (st->txobj_mark > st->txobj_count)
		st->txobj_mark = st->txobj_count;
	if (keep == 0) {
		free(st->txobj);
		st->txobj = NULL;
		st->txobj_room = 0;
	}
}

/* Big-endian 32 bits at p. */
static unsigned char *put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

/*
 * A one-dimensional array in PostgreSQL's binary form (array_recv), built
 * element by element: a header (dimensions, whether any element is NULL,
 * the elements' type, their count, the lower bound), then each element's
 * length (-1: NULL) and bytes, all integers big-endian. Out of memory,
 * `failed` is set and the rest is ignored.
 */
typedef struct pg_array {
	unsigned char *buf;
	size_t len, room;
	uint32_t count;
	int nulls;
	int failed;
} pg_array;

#define PG_ARRAY_HEADER 20

/* PostgreSQL's type ids of bytea and bigint (pg_type.dat). */
#define OID_BYTEA 17
#define OID_INT8 20

static void array_put(pg_array *a, const void *bytes, size_t n)
{
	size_t need = a->len + n;

	if (a->failed)
		return;
	if (need > a->room) {
		size_t room = a->room ? a->room : 256;
		unsigned char *more;

		while (room < need)
			room *= 2;
		if (!(more = realloc(a->buf, room))) {
			a->failed = 1;
			return;
		}
		a->buf = more;
		a->room = room;
	}
	if (n)
		memcpy(a->buf + a->len, bytes, n);
	a->len = need;
}

static void array_put32(pg_array *a, uint32_t v)
{
	unsigned char b[4];

	put32(b, v);
	array_put(a, b, sizeof(b));
}

/* Start an array of elements of type `oid`. */
static void array_start(pg_array *a, uint32_t oid)
{
	memset(a, 0, sizeof(*a));
	array_put32(a, 1);
	array_put32(a, 0);
	array_put32(a, oid);
	array_put32(a, 0);
	array_put32(a, 1);
}

/* One element: n bytes, or a NULL for bytes NULL. */
static void array_add(pg_array *a, const void *bytes, size_t n)
{
	a->count++;
	if (!bytes) {
		a->nulls = 1;
		array_put32(a, 0xffffffffu);
		return;
	}
	array_put32(a, (uint32_t)n);
	array_put(a, bytes, n);
}

static void array_add64(pg_array *a, int64_t v)
{
	unsigned char b[8];
	uint64_t u = (uint64_t)v;

	for (int i = 7; i >= 0; i--) {
		b[i] = (unsigned char)u;
		u >>= 8;
	}
	array_add(a, b, sizeof(b));
}

/* The header's NULL flag and count, once every element is in. */
static int array_finish(pg_array *a)
{
	if (a->failed || a->len < PG_ARRAY_HEADER)
		return -1;
	put32(a->buf + 4, (uint32_t)a->nulls);
	put32(a->buf + 12, a->count);
	return 0;
}

/* Send the rows of objs[0..count) in one statement. */
static int send_rows(rd_store *st, const rd_store_txobj *objs, size_t count,
		     rd_error *err)
{
	pg_array arrays[4];
	rd_db_stmt *stmt = NULL;
	int rc = RD_DB_OK;
	int ret = RD_OK;

	array_start(&arrays[0], OID_BYTEA);
	array_start(&arrays[1], OID_INT8);
	array_start(&arrays[2], OID_INT8);
	array_start(&arrays[3], OID_BYTEA);
	for (size_t i = 0; i < count; i++) {
		const rd_store_txobj *o = &objs[i];

		array_add(&arrays[0], o->id, RD_OID_RAWSZ);
		array_add64(&arrays[1], o->type);
		array_add64(&arrays[2], o->size);
		array_add(&arrays[3], o->in_file ? NULL
				      : o->data ? (const void *)o->data : "",
			  o->in_file ? 0 : (size_t)o->size);
	}
	for (int i = 0; i < 4; i++)
		if (array_finish(&arrays[i]) < 0) {
			ret = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	if ((ret = rd_store__stmt(st, RD_STMT_OBJECTS_PUT, &stmt, err)) < 0)
		goto done;
	for (int i = 0; i < 4; i++)
		rc |= rd_db_bind_blob(stmt, i + 1, arrays[i].buf,
				      arrays[i].len);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot store the %zu "
				     "objects of the change", count);
	rd_store__release(stmt);
done:
	for (int i = 0; i < 4; i++)
		free(arrays[i].buf);
	return ret;
}

int rd_store__objects_flush(rd_store *st, rd_error *err)
{
	while (st->txobj_sent < st->txobj_count) {
		size_t first = st->txobj_sent, n = 0, bytes = 0;
		int ret;

		/* a file's object is a row without its bytes */
		while (first + n < st->txobj_count && n < TXOBJ_ROWS_MAX) {
			const rd_store_txobj *o = &st->txobj[first + n];
			size_t more = o->in_file ? 0 : (size_t)o->size;

			if (n > 0 && bytes + more > TXOBJ_STMT_BYTES)
				break;
			bytes += more;
			n++;
		}
		if ((ret = send_rows(st, &st->txobj[first], n, err)) < 0)
			return ret;
		st->txobj_sent = first + n;
	}
	return RD_OK;
}

/* PostgreSQL: keep the object for the transaction's one statement. */
static int object_defer(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
			int type, int64_t size, const void *data,
			rd_error *err)
{
	rd_store_txobj *o;
	int ret;

	if (txobj_find(st, id))
		return RD_OK;
	if ((ret = rd_store__grow(&st->txobj, st->txobj_count,
				  &st->txobj_room, sizeof(*st->txobj),
				  err)) < 0)
		return ret;
	o = &st->txobj[st->txobj_count];
	memset(o, 0, sizeof(*o));
	memcpy(o->id, id, RD_OID_RAWSZ);
	o->type = type;
	o->size = size;
	o->in_file = data == NULL;
	if (data && size) {
		if (!(o->data = malloc((size_t)size)))
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		memcpy(o->data, data, (size_t)size);
	}
	st->txobj_count++;
	return RD_OK;
}

int rd_store_object_put(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
			int type, int64_t size, const void *data,
			rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_object_put", err)) < 0)
		return ret;
	if (type < RD_OBJECT_COMMIT || type > 4 || size < 0 ||
	    (data == NULL && type != RD_OBJECT_BLOB) || size > INT32_MAX)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_store_object_put: a %d object of %lld "
				    "bytes cannot be stored", type,
				    (long long)size);
	if (deferred(st))
		return object_defer(st, id, type, size, data, err);
	if ((ret = rd_store__stmt(st, RD_STMT_OBJECT_PUT, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_blob(stmt, 1, id, RD_OID_RAWSZ);
	rc |= rd_db_bind_int64(stmt, 2, type);
	rc |= rd_db_bind_int64(stmt, 3, size);
	if (data)
		rc |= rd_db_bind_blob(stmt, 4, size ? data : "", (size_t)size);
	else
		rc |= rd_db_bind_null(stmt, 4);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE) {
		char hex[41];

		rd_hex_encode(hex, id, RD_OID_RAWSZ);
		ret = rd_store__fail(st, rc, err, "cannot store object %s",
				     hex);
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_object_get(rd_store *st, const unsigned char id[RD_OID_RAWSZ],
			int *found, int *type, int64_t *size, int *in_file,
			void **data, rd_error *err)
{
	rd_store_txobj *o;
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	*found = 0;
	if (data)
		*data = NULL;
	/* stored by the open transaction: the list answers */
	if ((o = txobj_find(st, id))) {
		*found = 1;
		*type = o->type;
		*size = o->size;
		*in_file = o->in_file;
		if (data && !o->in_file) {
			if (!(*data = malloc(o->size ? (size_t)o->size : 1))) {
				*found = 0;
				return rd_error_set(err, RD_ENOMEM,
						    "out of memory");
			}
			if (o->size)
				memcpy(*data, o->data, (size_t)o->size);
		}
		return RD_OK;
	}
	if ((ret = rd_store__stmt(st, data ? RD_STMT_OBJECT_GET
					   : RD_STMT_OBJECT_HEADER,
				  &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_blob(stmt, 1, id, RD_OID_RAWSZ);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_DONE)
		goto done;
	if (rc != RD_DB_ROW) {
		char hex[41];

		rd_hex_encode(hex, id, RD_OID_RAWSZ);
		ret = rd_store__fail(st, rc, err, "cannot read object %s",
				     hex);
		goto done;
	}
	*found = 1;
	*type = (int)rd_db_column_int64(stmt, 0);
	*size = rd_db_column_int64(stmt, 1);
	*in_file = (int)rd_db_column_int64(stmt, 2);
	if (data && !*in_file) {
		const void *bytes = rd_db_column_blob(stmt, 3);
		size_t len = rd_db_column_bytes(stmt, 3);

		if ((!bytes && len) || (int64_t)len != *size ||
		    !(*data = malloc(len ? len : 1))) {
			ret = rd_error_set(err, bytes || !len ? RD_EIO
							      : RD_ENOMEM,
					   "cannot read the bytes of an "
					   "object of %lld bytes",
					   (long long)*size);
			*found = 0;
			goto done;
		}
		if (len)
			memcpy(*data, bytes, len);
	}
done:
	rd_store__release(stmt);
	return ret;
}

int rd_store_objects_get(rd_store *st, const unsigned char *ids,
			 size_t count,
			 int (*fn)(void *ctx,
				   const unsigned char id[RD_OID_RAWSZ],
				   int type, int64_t size, int in_file,
				   const void *data),
			 void *ctx, rd_error *err)
{
	pg_array array;
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret = RD_OK;

	if (count == 0)
		return RD_OK;
	/* SQLite: a call each */
	if (!deferred(st)) {
		for (size_t i = 0; i < count && ret == RD_OK; i++) {
			const unsigned char *id = ids + i * RD_OID_RAWSZ;
			int found = 0, type = 0, in_file = 0;
			int64_t size = 0;
			void *data = NULL;

			ret = rd_store_object_get(st, id, &found, &type, &size,
						  &in_file, &data, err);
			if (ret == RD_OK && found)
				ret = fn(ctx, id, type, size, in_file, data);
			free(data);
		}
		return ret;
	}
	array_start(&array, OID_BYTEA);
	for (size_t i = 0; i < count; i++)
		array_add(&array, ids + i * RD_OID_RAWSZ, RD_OID_RAWSZ);
	if (array_finish(&array) < 0) {
		ret = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if ((ret = rd_store__stmt(st, RD_STMT_OBJECTS_GET, &stmt, err)) < 0)
		goto done;
	rc = rd_db_bind_blob(stmt, 1, array.buf, array.len);
	while ((rc = rd_store__step(st, stmt,
				    rc == RD_DB_ROW ? RD_DB_OK : rc)) ==
	       RD_DB_ROW) {
		const void *id = rd_db_column_blob(stmt, 0);
		int in_file = (int)rd_db_column_int64(stmt, 3);
		const void *data = in_file ? NULL : rd_db_column_blob(stmt, 4);
		int64_t size = rd_db_column_int64(stmt, 2);

		if (rd_db_column_bytes(stmt, 0) != RD_OID_RAWSZ ||
		    (!in_file && (int64_t)rd_db_column_bytes(stmt, 4) != size)) {
			ret = rd_error_set(err, RD_EIO, "an object row of the "
					   "record does not hold what it says");
			goto done;
		}
		if (!in_file && !data)
			data = "";
		if ((ret = fn(ctx, id, (int)rd_db_column_int64(stmt, 1), size,
			      in_file, data)) != 0)
			goto done;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot read %zu objects of "
				     "the record", count);
done:
	rd_store__release(stmt);
	free(array.buf);
	return ret;
}

int rd_store_objects_in_files(rd_store *st, const unsigned char *after,
			      size_t limit, unsigned char **ids,
			      size_t *count, rd_error *err)
{
	static const unsigned char none[1] = { 0 };
	rd_db_stmt *stmt = NULL;
	size_t room = 0;
	int rc;
	int ret;

	*ids = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_OBJECTS_IN_FILES, &stmt,
				  err)) < 0)
		return ret;
	/* every id sorts after the empty blob */
	rc = after ? rd_db_bind_blob(stmt, 1, after, RD_OID_RAWSZ)
		   : rd_db_bind_blob(stmt, 1, none, 0);
	rc |= rd_db_bind_int64(stmt, 2, (int64_t)limit);
	while ((rc = rd_store__step(st, stmt,
				    rc == RD_DB_ROW ? RD_DB_OK : rc)) ==
	       RD_DB_ROW) {
		/* the blob before its size: SQLite */
		const void *oid = rd_db_column_blob(stmt, 0);

		if (rd_db_column_bytes(stmt, 0) != RD_OID_RAWSZ)
			continue;
		if (*count == room) {
			size_t grown = room ? room * 2 : 64;
			unsigned char *more = realloc(*ids, grown *
							     RD_OID_RAWSZ);

			if (!more) {
				ret = rd_error_set(err, RD_ENOMEM,
						   "out of memory");
				goto done;
			}
			*ids = more;
			room = grown;
		}
		memcpy(*ids + *count * RD_OID_RAWSZ, oid, RD_OID_RAWSZ);
		(*count)++;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot list the evidence "
				     "files of the record");
done:
	if (ret < 0) {
		free(*ids);
		*ids = NULL;
		*count = 0;
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_objects_of_changes(rd_store *st, int64_t after, int64_t upto,
				int (*fn)(void *ctx,
					  const unsigned char id[RD_OID_RAWSZ],
					  int type, int64_t size, int in_file),
				void *ctx, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_OBJECTS_OF_CHANGES, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, after);
	rc |= rd_db_bind_int64(stmt, 2, upto);
	while ((rc = rd_store__step(st, stmt,
				    rc == RD_DB_ROW ? RD_DB_OK : rc)) ==
	       RD_DB_ROW) {
		/* the blob before its size: SQLite */
		const void *oid = rd_db_column_blob(stmt, 0);

		if (rd_db_column_bytes(stmt, 0) != RD_OID_RAWSZ)
			continue;
		ret = fn(ctx, oid, (int)rd_db_column_int64(stmt, 1),
			 rd_db_column_int64(stmt, 2),
			 (int)rd_db_column_int64(stmt, 3));
		if (ret != 0)
			goto done;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot list the objects of "
				     "changes %lld to %lld", (long long)after + 1,
				     (long long)upto);
done:
	rd_store__release(stmt);
	return ret;
}

int rd_store_ref_get(rd_store *st, const char *dispute_id, char head[41],
		     int *found, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	head[0] = '\0';
	*found = 0;
	if ((ret = valid_id(dispute_id, err)) < 0 ||
	    (ret = rd_store__stmt(st, st->write_tx || st->batch
					      ? RD_STMT_REF_GET_LOCKED
					      : RD_STMT_REF_GET,
				  &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		if ((ret = rd_store__column_copy(stmt, 0, head, 41, err)) == 0)
			*found = 1;
	} else if (rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot read the head of "
				     "dispute %s", dispute_id);
	}
	rd_store__release(stmt);
	return ret;
}

/* Step a statement that changes rows: how many it changed, or < 0. */
static int change_rows(rd_store *st, rd_db_stmt *stmt, int bind_rc,
		       int *changed, rd_error *err, const char *doing,
		       const char *id)
{
	int rc = rd_store__step(st, stmt, bind_rc);
	int ret = RD_OK;

	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "%s of dispute %s", doing,
				     id);
	else
		*changed = (int)rd_db_changes(stmt);
	rd_store__release(stmt);
	return ret;
}

int rd_store_ref_move(rd_store *st, const char *dispute_id,
		      const char *old_head, const char *new_head, int64_t at,
		      rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int changed = 0;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_ref_move", err)) < 0 ||
	    (ret = valid_id(dispute_id, err)) < 0)
		return ret;
	if (!rd_store__is_oid(new_head) || (old_head &&
					    !rd_store__is_oid(old_head)))
		return rd_error_set(err, RD_EINTERNAL, "dispute %s: a head is "
				    "40 lower-case hex digits", dispute_id);
	if (old_head) {
		if ((ret = rd_store__stmt(st, RD_STMT_REF_MOVE, &stmt,
					  err)) < 0)
			return ret;
		rc = rd_store__bind_text(stmt, 1, dispute_id);
		rc |= rd_store__bind_text(stmt, 2, old_head);
		rc |= rd_store__bind_text(stmt, 3, new_head);
	} else {
		if ((ret = rd_store__stmt(st, RD_STMT_REF_CREATE, &stmt,
					  err)) < 0)
			return ret;
		rc = rd_store__bind_text(stmt, 1, dispute_id);
		rc |= rd_store__bind_text(stmt, 2, new_head);
	}
	if ((ret = change_rows(st, stmt, rc, &changed, err,
			       "cannot move the head", dispute_id)) < 0)
		return ret;
	if (changed != 1) {
		char now[41];
		int found = 0;

		if (rd_store_ref_get(st, dispute_id, now, &found, err) < 0)
			return rd_error_set(err, RD_ECONFLICT, "dispute %s "
					    "changed meanwhile", dispute_id);
		if (!old_head)
			return rd_error_set(err, RD_ECONFLICT,
					    "dispute %s already has a history "
					    "(its head is %s)", dispute_id,
					    now);
		if (!found)
			return rd_error_set(err, RD_ECONFLICT,
					    "dispute %s has no history yet, "
					    "so its head is not %s",
					    dispute_id, old_head);
		return rd_error_set(err, RD_ECONFLICT,
				    "dispute %s changed meanwhile: its head "
				    "is %s, not %s", dispute_id, now,
				    old_head);
	}
	if ((ret = rd_store__stmt(st, RD_STMT_CHANGE_INSERT, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, dispute_id);
	rc |= rd_store__bind_text(stmt, 2, new_head);
	rc |= rd_db_bind_int64(stmt, 3, at);
	if ((ret = change_rows(st, stmt, rc, &changed, err,
			       "cannot record the change", dispute_id)) < 0)
		return ret;
	/* its commit is numbered as the transaction's last statement */
	st->tx_changes = 1;
	return RD_OK;
}

int rd_store_refs_after(rd_store *st, const char *after, size_t limit,
			rd_ref_row **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t room = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_REFS_AFTER, &stmt, err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, after ? after : "");
	rc |= rd_db_bind_int64(stmt, 2, (int64_t)limit);
	while ((rc = rd_store__step(st, stmt,
				    rc == RD_DB_ROW ? RD_DB_OK : rc)) ==
	       RD_DB_ROW) {
		rd_ref_row *row;

		if ((ret = rd_store__grow(out, *count, &room,
					  sizeof(**out), err)) < 0)
			goto done;
		row = &(*out)[*count];
		if ((ret = rd_store__column_copy(stmt, 0, row->dispute_id,
						 sizeof(row->dispute_id),
						 err)) < 0 ||
		    (ret = rd_store__column_copy(stmt, 1, row->head,
						 sizeof(row->head), err)) < 0)
			goto done;
		(*count)++;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot list the heads of "
				     "the record");
done:
	if (ret < 0) {
		free(*out);
		*out = NULL;
		*count = 0;
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_changes_after(rd_store *st, int64_t after, size_t limit,
			   rd_change_row **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t room = 0;
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, RD_STMT_CHANGES_AFTER, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, after);
	rc |= rd_db_bind_int64(stmt, 2, (int64_t)limit);
	while ((rc = rd_store__step(st, stmt,
				    rc == RD_DB_ROW ? RD_DB_OK : rc)) ==
	       RD_DB_ROW) {
		rd_change_row *row;

		if ((ret = rd_store__grow(out, *count, &room,
					  sizeof(**out), err)) < 0)
			goto done;
		row = &(*out)[*count];
		row->seq = rd_db_column_int64(stmt, 0);
		row->at = rd_db_column_int64(stmt, 3);
		row->commit = rd_db_column_int64(stmt, 4);
		if ((ret = rd_store__column_copy(stmt, 1, row->dispute_id,
						 sizeof(row->dispute_id),
						 err)) < 0 ||
		    (ret = rd_store__column_copy(stmt, 2, row->head,
						 sizeof(row->head), err)) < 0)
			goto done;
		(*count)++;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot list the changes "
				     "after %lld", (long long)after);
done:
	if (ret < 0) {
		free(*out);
		*out = NULL;
		*count = 0;
	}
	rd_store__release(stmt);
	return ret;
}

/* A statement answering one integer, of one text parameter or none. */
static int read_int(rd_store *st, int id, const char *param, int64_t *out,
		    const char *what, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc = RD_DB_OK;
	int ret;

	*out = 0;
	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	if (param)
		rc = rd_store__bind_text(stmt, 1, param);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		*out = rd_db_column_int64(stmt, 0);
	else
		ret = rd_store__fail(st, rc == RD_DB_DONE ? RD_DB_EIO : rc,
				     err, "cannot read %s", what);
	rd_store__release(stmt);
	return ret;
}

int rd_store_changes_last(rd_store *st, int64_t *seq, rd_error *err)
{
	return read_int(st, RD_STMT_CHANGES_LAST, NULL, seq, "the last change",
			err);
}

int rd_store_dispute_last_change(rd_store *st, const char *dispute_id,
				 int64_t *seq, rd_error *err)
{
	return read_int(st, RD_STMT_DISPUTE_LAST_CHANGE, dispute_id, seq,
			"the last change of a dispute", err);
}

int rd_store_mirror_owner(rd_store *st, char *out, size_t size,
			  rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if (size)
		out[0] = '\0';
	if ((ret = rd_store__stmt(st, RD_STMT_MIRROR_OWNER_GET, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__step(st, stmt, RD_DB_OK);
	if (rc == RD_DB_ROW) {
		const char *owner = rd_db_column_text(stmt, 0);

		if (owner && strlen(owner) >= size)
			ret = rd_error_set(err, RD_EIO, "the mirror's owner "
					   "in %s is too long", st->path);
		else if (owner)
			memcpy(out, owner, strlen(owner) + 1);
	} else {
		ret = rd_store__fail(st, rc == RD_DB_DONE ? RD_DB_EIO : rc,
				     err, "cannot read the mirror's owner");
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_mirror_owner_set(rd_store *st, const char *owner, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_mirror_owner_set",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_MIRROR_OWNER_SET, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, owner);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the mirror's "
				     "owner");
	rd_store__release(stmt);
	return ret;
}

/* Run statement `id` binding text `owner` (NULL: none); RD_DB_DONE wanted. */
static int run_owner(rd_store *st, int id, const char *owner, const char *what,
		     rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc = RD_DB_OK;
	int ret;

	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	if (owner)
		rc = rd_store__bind_text(stmt, 1, owner);
	else if (id == RD_STMT_MIRROR_PACK_REMOVE)
		rc = rd_db_bind_null(stmt, 1);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot %s", what);
	rd_store__release(stmt);
	return ret;
}

int rd_store_mirror_take(rd_store *st, const char *owner, int *resumed,
			 rd_error *err)
{
	char outgoing[64];
	rd_db_stmt *stmt = NULL;
	int64_t position = 0;
	int rc;
	int ret;

	*resumed = 0;
	if ((ret = rd_store__require_tx(st, "rd_store_mirror_take",
					err)) < 0 ||
	    /* read locked: another taker waits for this one */
	    (ret = rd_store_mirror_owner(st, outgoing, sizeof(outgoing),
					 err)) < 0)
		return ret;
	if (outgoing[0] &&
	    ((ret = run_owner(st, RD_STMT_MIRROR_SAVE, NULL, "save the "
			      "mirror's position", err)) < 0 ||
	     (ret = run_owner(st, RD_STMT_MIRROR_SAVED_FORGET, outgoing,
			      "save the mirror's packs", err)) < 0 ||
	     (ret = run_owner(st, RD_STMT_MIRROR_SAVE_PACKS, NULL, "save the "
			      "mirror's packs", err)) < 0))
		return ret;
	if ((ret = run_owner(st, RD_STMT_MIRROR_PACK_REMOVE, NULL, "clear "
			     "the mirror's packs", err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_MIRROR_SAVED_POSITION, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, owner);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW) {
		position = rd_db_column_int64(stmt, 0);
		*resumed = 1;
		rc = rd_db_step(stmt);
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot read a saved state "
				     "of the mirror");
	rd_store__release(stmt);
	if (ret < 0 ||
	    (*resumed &&
	     (ret = run_owner(st, RD_STMT_MIRROR_RESTORE_PACKS, owner,
			      "restore the mirror's packs", err)) < 0) ||
	    (ret = run_owner(st, RD_STMT_MIRROR_SAVED_FORGET, owner,
			     "forget the mirror's saved packs", err)) < 0 ||
	    (ret = rd_store_mirror_position_set(st, position, err)) < 0 ||
	    (ret = rd_store_mirror_owner_set(st, owner, err)) < 0)
		return ret;
	return RD_OK;
}

int rd_store_mirror_lead(rd_store *st, int *leading, rd_error *err)
{
	int64_t got = 0;
	int ret;

	*leading = 1;
	/* the embedded record's one mirror is its data directory's */
	if (rd_db_engine_of(st->db) != RD_DB_POSTGRES)
		return RD_OK;
	/* a connection made again lost the lock with its old session */
	if (st->mirror_lead && st->lead_session == rd_db_session(st->db))
		return RD_OK;
	st->mirror_lead = 0;
	if ((ret = read_int(st, RD_STMT_MIRROR_LEAD, NULL, &got,
			    "the mirror's lead", err)) < 0) {
		*leading = 0;
		return ret;
	}
	st->mirror_lead = got != 0;
	st->lead_session = rd_db_session(st->db);
	*leading = st->mirror_lead;
	return RD_OK;
}

int rd_store_mirror_position(rd_store *st, int64_t *position, rd_error *err)
{
	return read_int(st, RD_STMT_MIRROR_GET, NULL, position,
			"the mirror's position", err);
}

int rd_store_mirror_position_set(rd_store *st, int64_t position,
				 rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_mirror_position_set",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_MIRROR_SET, &stmt, err)) < 0)
		return ret;
	rc = rd_db_bind_int64(stmt, 1, position);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the mirror's "
				     "position");
	rd_store__release(stmt);
	return ret;
}

int rd_store_record_state(rd_store *st, const char *name, char value[64],
			  rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	value[0] = '\0';
	if ((ret = rd_store__stmt(st, RD_STMT_RECORD_STATE_GET, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, name);
	rc = rd_store__step(st, stmt, rc);
	if (rc == RD_DB_ROW)
		ret = rd_store__column_copy(stmt, 0, value, 64, err);
	else if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot read the record's "
				     "%s", name);
	rd_store__release(stmt);
	return ret;
}

int rd_store_record_state_set(rd_store *st, const char *name,
			      const char *value, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_record_state_set",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_RECORD_STATE_SET, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, name);
	rc |= rd_store__bind_text(stmt, 2, value);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the record's "
				     "%s", name);
	rd_store__release(stmt);
	return ret;
}

/*
 * Copying the record into a new database (a rebuild of the derived
 * tables), with what is not derived from it either: the outbox of events
 * and the webhooks' endpoints, deliveries and log. The other file is
 * attached for the copy only, so these
 * statements are not in the table of statements.c, which every
 * connection prepares at open.
 */
static const char copy_record_sql[] =
	"BEGIN IMMEDIATE;"
	"DELETE FROM mirror_state;"
	"DELETE FROM record_state;"
	"INSERT INTO objects SELECT * FROM source.objects;"
	"INSERT INTO refs SELECT * FROM source.refs;"
	"INSERT INTO changes SELECT * FROM source.changes;"
	"INSERT INTO mirror_state SELECT * FROM source.mirror_state;"
	"INSERT INTO mirror_packs SELECT * FROM source.mirror_packs;"
	"INSERT INTO record_state SELECT * FROM source.record_state;"
	"INSERT INTO outbox_events SELECT * FROM source.outbox_events;"
	"INSERT INTO webhook_endpoints SELECT * FROM source.webhook_endpoints;"
	"INSERT INTO webhook_deliveries"
	" SELECT * FROM source.webhook_deliveries;"
	"INSERT INTO webhook_attempts SELECT * FROM source.webhook_attempts;"
	"COMMIT;";

int rd_store_record_copy(rd_store *to, const char *from_path, rd_error *err)
{
	rd_db_stmt *attach = NULL;
	int rc;
	int ret = RD_OK;

	/* ATTACH reads another SQLite file: no PostgreSQL database has one */
	if (rd_db_engine_of(to->db) != RD_DB_SQLITE)
		return rd_error_set(err, RD_EINVALID, "%s: the record is copied "
				    "from a SQLite file into a SQLite file "
				    "only; move a PostgreSQL record with "
				    "pg_dump and pg_restore", to->path);
	if (rd_db_in_transaction(to->db))
		return rd_error_set(err, RD_EINTERNAL, "rd_store_record_copy "
				    "runs outside a transaction");
	rc = rd_db_prepare(to->db, "ATTACH DATABASE ?1 AS source", &attach);
	if (rc == RD_DB_OK)
		rc = rd_store__step(to, attach,
				    rd_store__bind_text(attach, 1, from_path));
	/* the reason outlives the statement: it is the connection's */
	rd_db_finalize(attach);
	if (rc != RD_DB_DONE)
		return rd_store__fail(to, rc, err, "cannot open %s to copy its "
				      "record", from_path);
	rc = rd_db_exec(to->db, copy_record_sql);
	if (rc != RD_DB_OK) {
		ret = rd_store__fail(to, rc, err, "cannot copy the record of "
				     "%s: %s", from_path,
				     rd_db_errmsg(to->db));
		if (rd_db_in_transaction(to->db))
			(void)rd_db_exec(to->db, "ROLLBACK");
	}
	(void)rd_db_exec(to->db, "DETACH DATABASE source");
	return ret;
}

static int read_packs(rd_store *st, int id, int64_t before,
		      rd_mirror_pack **out, size_t *count, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	size_t room = 0;
	int rc = RD_DB_OK;
	int ret;

	*out = NULL;
	*count = 0;
	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	if (id == RD_STMT_MIRROR_PACKS_SUPERSEDED)
		rc = rd_db_bind_int64(stmt, 1, before);
	while ((rc = rd_store__step(st, stmt, rc == RD_DB_ROW ? RD_DB_OK
							      : rc)) ==
	       RD_DB_ROW) {
		rd_mirror_pack *p;

		if ((ret = rd_store__grow(out, *count, &room, sizeof(**out),
					  err)) < 0)
			goto done;
		p = &(*out)[*count];
		p->first_change = rd_db_column_int64(stmt, 1);
		p->last_change = rd_db_column_int64(stmt, 2);
		p->objects = rd_db_column_int64(stmt, 3);
		p->plain = rd_db_column_int64(stmt, 4);
		if ((ret = rd_store__column_copy(stmt, 0, p->name,
						 sizeof(p->name), err)) < 0)
			goto done;
		(*count)++;
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot list the mirror's "
				     "packs");
done:
	if (ret < 0) {
		free(*out);
		*out = NULL;
		*count = 0;
	}
	rd_store__release(stmt);
	return ret;
}

int rd_store_mirror_packs(rd_store *st, rd_mirror_pack **out, size_t *count,
			  rd_error *err)
{
	return read_packs(st, RD_STMT_MIRROR_PACKS, 0, out, count, err);
}

int rd_store_mirror_packs_superseded(rd_store *st, int64_t before,
				     rd_mirror_pack **out, size_t *count,
				     rd_error *err)
{
	return read_packs(st, RD_STMT_MIRROR_PACKS_SUPERSEDED, before, out,
			  count, err);
}

int rd_store_mirror_pack_supersede(rd_store *st, const char *name,
				   int64_t at, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_mirror_pack_supersede",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_MIRROR_PACK_SUPERSEDE, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, name);
	rc |= rd_db_bind_int64(stmt, 2, at);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot mark the mirror's "
				     "pack %s replaced", name);
	rd_store__release(stmt);
	return ret;
}

int rd_store_mirror_pack_add(rd_store *st, const rd_mirror_pack *pack,
			     rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_mirror_pack_add",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_MIRROR_PACK_ADD, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, pack->name);
	rc |= rd_db_bind_int64(stmt, 2, pack->first_change);
	rc |= rd_db_bind_int64(stmt, 3, pack->last_change);
	rc |= rd_db_bind_int64(stmt, 4, pack->objects);
	rc |= rd_db_bind_int64(stmt, 5, pack->plain);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot record the mirror's "
				     "pack %s", pack->name);
	rd_store__release(stmt);
	return ret;
}

int rd_store_mirror_pack_remove(rd_store *st, const char *name,
				rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__require_tx(st, "rd_store_mirror_pack_remove",
					err)) < 0 ||
	    (ret = rd_store__stmt(st, RD_STMT_MIRROR_PACK_REMOVE, &stmt,
				  err)) < 0)
		return ret;
	rc = rd_store__bind_text(stmt, 1, name);
	rc = rd_store__step(st, stmt, rc);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot forget the mirror's "
				     "pack %s", name ? name : "(all)");
	rd_store__release(stmt);
	return ret;
}
