/*
 * The record's objects (schema 13): stored in the order of their changes,
 * found by id, an object stored twice kept once, and the migration from
 * schema 12 keeping every object and putting the rows in change order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

#define DISPUTE "01J00000000000000000000001"

/* One integer answer of a query on a raw connection, or -1. */
static long long raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	long long value = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

/* An object id whose bytes spread ids apart: k and 255 - k alternate. */
static void make_id(unsigned char id[RD_OID_RAWSZ], int k)
{
	for (int i = 0; i < RD_OID_RAWSZ; i++)
		id[i] = (unsigned char)((k % 2 ? 255 - k : k) + i);
}

/* A head of 40 hex digits for change `seq`. */
static void make_head(char head[41], int seq)
{
	snprintf(head, 41, "%040x", (unsigned)seq);
}

/*
 * `changes` changes to one dispute, each storing `per` objects whose ids
 * do not grow with the change: ids are stored out of id order.
 */
static int write_changes(rd_store *st, int changes, int per, rd_error *err)
{
	char old[41] = "", head[41];
	int ret = RD_OK;

	for (int c = 1; c <= changes && ret == RD_OK; c++) {
		if ((ret = rd_store_begin(st, err)) < 0)
			break;
		for (int k = 0; k < per && ret == RD_OK; k++) {
			unsigned char id[RD_OID_RAWSZ];
			char data[32];
			int len = snprintf(data, sizeof(data), "object %d.%d", c,
					   k);

			make_id(id, (changes - c) * per + k);
			ret = rd_store_object_put(st, id, RD_OBJECT_BLOB, len,
						  data, err);
		}
		make_head(head, c);
		if (ret == RD_OK)
			ret = rd_store_ref_move(st, DISPUTE, old[0] ? old : NULL,
						head, 1700000000 + c, err);
		if (ret == RD_OK)
			ret = rd_store_commit(st, err);
		else
			rd_store_rollback(st);
		memcpy(old, head, sizeof(old));
	}
	return ret;
}

struct listed {
	int count;
	int in_order;     /* each id one of the next change's */
	int changes, per;
	int after;        /* the changes before the range listed */
};

static int note_object(void *ctx, const unsigned char id[RD_OID_RAWSZ],
		       int type, int64_t size, int in_file)
{
	struct listed *l = ctx;
	int c = l->count / l->per + 1 + l->after, of_c = 0;

	/* one of change c's objects (their order within it is free) */
	for (int k = 0; k < l->per; k++) {
		unsigned char want[RD_OID_RAWSZ];

		make_id(want, (l->changes - c) * l->per + k);
		of_c |= memcmp(id, want, RD_OID_RAWSZ) == 0;
	}
	if (!of_c || type != RD_OBJECT_BLOB || size <= 0 || in_file)
		l->in_order = 0;
	l->count++;
	return 0;
}

/* Every object readable by id, with its own bytes. */
static void check_objects(rd_store *st, int changes, int per)
{
	rd_error err;

	for (int c = 1; c <= changes; c++)
		for (int k = 0; k < per; k++) {
			unsigned char id[RD_OID_RAWSZ];
			char want[32];
			void *data = NULL;
			int64_t size = 0;
			int found = 0, type = 0, in_file = 1;

			make_id(id, (changes - c) * per + k);
			snprintf(want, sizeof(want), "object %d.%d", c, k);
			CHECK_OK(rd_store_object_get(st, id, &found, &type,
						     &size, &in_file, &data,
						     &err), &err);
			CHECK_INT(found, 1);
			CHECK_INT(type, RD_OBJECT_BLOB);
			CHECK_INT(in_file, 0);
			CHECK_INT(size, (int64_t)strlen(want));
			CHECK(data && memcmp(data, want, strlen(want)) == 0);
			free(data);
		}
}

static void objects_in_change_order(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	struct listed l = { 0, 1, 6, 4, 0 };
	unsigned char id[RD_OID_RAWSZ];

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(write_changes(st, 6, 4, &err), &err);
	check_objects(st, 6, 4);
	CHECK_OK(rd_store_objects_of_changes(st, 0, 6, note_object, &l, &err),
		 &err);
	CHECK_INT(l.count, 24);
	CHECK(l.in_order);
	/* a range lists only its own changes' objects */
	l = (struct listed){ 0, 1, 6, 4, 2 };
	CHECK_OK(rd_store_objects_of_changes(st, 2, 3, note_object, &l, &err),
		 &err);
	CHECK_INT(l.count, 4);
	CHECK(l.in_order);
	/* rows follow their changes: none stored after a later change's */
	CHECK_INT(raw_int(rd_store_db(st), "SELECT count(*) FROM objects a"
			  " JOIN objects b ON a.n < b.n AND a.change > b.change"),
		  0);
	/* an object stored again is kept once, with its first change */
	make_id(id, 0);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_object_put(st, id, RD_OBJECT_BLOB, 3, "abc", &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_INT(raw_int(rd_store_db(st), "SELECT count(*) FROM objects"), 24);
	CHECK_INT(raw_int(rd_store_db(st), "SELECT max(change) FROM objects"),
		  6);
	/* an id is 20 bytes: the table refuses any other */
	CHECK((sqlite3_exec(rd_store_db(st), "INSERT INTO objects (id, type,"
			    " size, data, change) VALUES (x'00', 3, 0, x'', 1)",
			    NULL, NULL, NULL) & 0xff) == SQLITE_CONSTRAINT);
	rd_store_close(st);
	free(path);
}

static void migrates_12_keeping_objects(void)
{
	rd_error err;
	rd_store *st = NULL;
	char *path = rd_test_db_path();
	struct listed l = { 0, 1, 5, 3, 0 };
	unsigned char id[RD_OID_RAWSZ];
	char old[41], head[41];
	int version = -1;

	CHECK_OK(rd_store_open_at_version(&st, path, 12, &err), &err);
	CHECK_OK(write_changes(st, 5, 3, &err), &err);
	/* schema 12 keyed the rows by id: no number of their own */
	CHECK_INT(raw_int(rd_store_db(st), "SELECT count(*) FROM "
			  "pragma_table_info('objects') WHERE name = 'n'"), 0);
	rd_store_close(st);
	st = NULL;

	CHECK_OK(rd_store_open(&st, path, &err), &err);
	CHECK_OK(rd_store_schema_version(st, &version, &err), &err);
	CHECK_INT(version, RD_STORE_SCHEMA_VERSION);
	check_objects(st, 5, 3);
	CHECK_OK(rd_store_objects_of_changes(st, 0, 5, note_object, &l, &err),
		 &err);
	CHECK_INT(l.count, 15);
	CHECK(l.in_order);
	/* the copied rows are numbered in change order, from 1 */
	CHECK_INT(raw_int(rd_store_db(st), "SELECT count(*) FROM objects a"
			  " JOIN objects b ON a.n < b.n AND a.change > b.change"),
		  0);
	CHECK_INT(raw_int(rd_store_db(st), "SELECT min(n) FROM objects"), 1);
	/* the indexes came back with the table */
	CHECK_INT(raw_int(rd_store_db(st), "SELECT count(*) FROM sqlite_schema"
			  " WHERE tbl_name = 'objects' AND type = 'index' AND"
			  " name IN ('objects_by_change', 'objects_in_files')"),
		  2);
	/* and a new object goes after the copied ones */
	make_head(old, 5);
	make_head(head, 6);
	make_id(id, 100);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_object_put(st, id, RD_OBJECT_TREE, 1, "t", &err),
		 &err);
	CHECK_OK(rd_store_ref_move(st, DISPUTE, old, head, 1700000006, &err),
		 &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_INT(raw_int(rd_store_db(st), "SELECT change FROM objects"
			  " WHERE n = (SELECT max(n) FROM objects)"), 6);
	CHECK_INT(raw_int(rd_store_db(st), "SELECT max(n) FROM objects"), 16);
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(objects_in_change_order);
	RUN(migrates_12_keeping_objects);
	return rd_test_summary();
}
