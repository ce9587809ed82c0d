/*
 * The store's database driver (db.h): the choice of engine and SQLite's
 * side of it; PostgreSQL's side is db_pg.c.
 *
 * SQLite's calls pass straight through: the driver adds one branch on the
 * engine per call and no copy, so the embedded record runs as fast with it
 * as without it. It must never retry, sleep or decide: a busy database is
 * reported as RD_DB_EBUSY for the store to handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/db_int.h"

int rd_db_target_is_postgres(const char *target)
{
	return target && (strncmp(target, "postgresql://", 13) == 0 ||
			  strncmp(target, "postgres://", 11) == 0);
}

void rd_db_target_shown(char *out, size_t size, const char *target)
{
	if (size == 0)
		return;
	if (rd_db_target_is_postgres(target))
		rd_db__pg_redact(out, size, target);
	else
		snprintf(out, size, "%s", target ? target : "");
}

/* SQLite's result codes, extended ones included, as rd_db_codes. */
static int lite_code(int rc)
{
	switch (rc) {
	case SQLITE_OK:
		return RD_DB_OK;
	case SQLITE_ROW:
		return RD_DB_ROW;
	case SQLITE_DONE:
		return RD_DB_DONE;
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return RD_DB_EUNIQUE;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return RD_DB_EFOREIGN;
	default:
		break;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return RD_DB_EBUSY;
	case SQLITE_CONSTRAINT:
		return RD_DB_ECONSTRAINT;
	case SQLITE_NOMEM:
		return RD_DB_ENOMEM;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		return RD_DB_EMISUSE;
	default:
		return RD_DB_EIO;
	}
}

/* An embedded database at path, opened with flags (and NOMUTEX). */
static int lite_open(rd_db **out, const char *path, int flags, rd_error *err)
{
	rd_db *db;
	int rc;

	if (!(db = calloc(1, sizeof(*db))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	db->engine = RD_DB_SQLITE;
	rc = sqlite3_open_v2(path, &db->lite, flags | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		rc = rd_error_set(err, rc == SQLITE_NOMEM ? RD_ENOMEM : RD_EIO,
				  "cannot open %s: %s", path,
				  db->lite ? sqlite3_errmsg(db->lite)
					   : sqlite3_errstr(rc));
		rd_db_close(db);
		return rc;
	}
	sqlite3_extended_result_codes(db->lite, 1);
	*out = db;
	return RD_OK;
}

int rd_db_open(rd_db **out, const char *target, int create, rd_error *err)
{
	*out = NULL;
	if (!target || !*target)
		return rd_error_set(err, RD_EINVALID, "no database given");
	if (rd_db_target_is_postgres(target))
		return rd_db__pg_open(out, target, err);
	return lite_open(out, target, SQLITE_OPEN_READWRITE |
				      (create ? SQLITE_OPEN_CREATE : 0), err);
}

int rd_db_open_readonly(rd_db **out, const char *path, rd_error *err)
{
	*out = NULL;
	if (!path || !*path)
		return rd_error_set(err, RD_EINVALID, "no database given");
	if (rd_db_target_is_postgres(path))
		return rd_error_set(err, RD_EINVALID, "a PostgreSQL database "
				    "is not opened read-only by redress");
	return lite_open(out, path, SQLITE_OPEN_READONLY, err);
}

void rd_db_close(rd_db *db)
{
	if (!db)
		return;
	if (db->engine == RD_DB_POSTGRES) {
		rd_db__pg_close(db);
		return;
	}
	/* statements still prepared are finalized by the close */
	sqlite3_close_v2(db->lite);
	free(db);
}

rd_db_engine rd_db_engine_of(const rd_db *db)
{
	return db->engine;
}

const char *rd_db_errmsg(const rd_db *db)
{
	if (db->engine == RD_DB_POSTGRES)
		return db->message;
	return sqlite3_errmsg(db->lite);
}

int rd_db_failed_on_primary_key(const rd_db *db)
{
	if (db->engine == RD_DB_POSTGRES)
		return db->primary_key;
	return sqlite3_extended_errcode(db->lite) ==
	       SQLITE_CONSTRAINT_PRIMARYKEY;
}

const char *rd_db_failed_constraint(const rd_db *db)
{
	if (db->engine == RD_DB_POSTGRES && db->constraint[0])
		return db->constraint;
	return NULL;
}

int rd_db_exec(rd_db *db, const char *sql)
{
	if (db->engine == RD_DB_POSTGRES)
		return rd_db__pg_exec(db, sql);
	return lite_code(sqlite3_exec(db->lite, sql, NULL, NULL, NULL));
}

int rd_db_prepare(rd_db *db, const char *sql, rd_db_stmt **out)
{
	rd_db_stmt *stmt;
	int rc;

	*out = NULL;
	if (!(stmt = calloc(1, sizeof(*stmt))))
		return RD_DB_ENOMEM;
	stmt->db = db;
	if (db->engine == RD_DB_POSTGRES)
		rc = rd_db__pg_prepare(stmt, sql);
	else
		rc = lite_code(sqlite3_prepare_v3(db->lite, sql, -1,
						  SQLITE_PREPARE_PERSISTENT,
						  &stmt->lite, NULL));
	if (rc != RD_DB_OK) {
		rd_db_finalize(stmt);
		return rc;
	}
	*out = stmt;
	return RD_DB_OK;
}

void rd_db_finalize(rd_db_stmt *stmt)
{
	if (!stmt)
		return;
	if (stmt->db->engine == RD_DB_POSTGRES)
		rd_db__pg_finalize(stmt);
	else
		sqlite3_finalize(stmt->lite);
	free(stmt);
}

int rd_db_bind_int64(rd_db_stmt *stmt, int i, int64_t value)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_bind_int64(stmt, i, value);
	return lite_code(sqlite3_bind_int64(stmt->lite, i, value));
}

int rd_db_bind_text(rd_db_stmt *stmt, int i, const char *value)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_bind(stmt, i, value,
				      value ? strlen(value) : 0, 0);
	if (!value)
		return lite_code(sqlite3_bind_null(stmt->lite, i));
	return lite_code(sqlite3_bind_text(stmt->lite, i, value, -1,
					   SQLITE_STATIC));
}

int rd_db_bind_blob(rd_db_stmt *stmt, int i, const void *data, size_t size)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_bind(stmt, i, data ? data : "", size, 1);
	return lite_code(sqlite3_bind_blob64(stmt->lite, i, data ? data : "",
					     size, SQLITE_STATIC));
}

int rd_db_bind_null(rd_db_stmt *stmt, int i)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_bind(stmt, i, NULL, 0, 0);
	return lite_code(sqlite3_bind_null(stmt->lite, i));
}

int rd_db_step(rd_db_stmt *stmt)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_step(stmt);
	return lite_code(sqlite3_step(stmt->lite));
}

void rd_db_reset(rd_db_stmt *stmt)
{
	if (!stmt)
		return;
	if (stmt->db->engine == RD_DB_POSTGRES) {
		rd_db__pg_reset(stmt);
		return;
	}
	sqlite3_reset(stmt->lite);
	sqlite3_clear_bindings(stmt->lite);
}

int64_t rd_db_changes(const rd_db_stmt *stmt)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return stmt->changes;
	return sqlite3_changes64(stmt->db->lite);
}

int rd_db_column_count(const rd_db_stmt *stmt)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_column_count(stmt);
	return sqlite3_column_count(stmt->lite);
}

int rd_db_column_is_null(const rd_db_stmt *stmt, int i)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_column_is_null(stmt, i);
	return sqlite3_column_type(stmt->lite, i) == SQLITE_NULL;
}

const char *rd_db_column_name(const rd_db_stmt *stmt, int i)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_column_name(stmt, i);
	return sqlite3_column_name(stmt->lite, i);
}

rd_db_type rd_db_column_type(const rd_db_stmt *stmt, int i)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_column_type(stmt, i);
	switch (sqlite3_column_type(stmt->lite, i)) {
	case SQLITE_INTEGER:
		return RD_DB_TYPE_INTEGER;
	case SQLITE_FLOAT:
		return RD_DB_TYPE_FLOAT;
	case SQLITE_TEXT:
		return RD_DB_TYPE_TEXT;
	case SQLITE_BLOB:
		return RD_DB_TYPE_BLOB;
	default:
		return RD_DB_TYPE_NULL;
	}
}

int64_t rd_db_column_int64(const rd_db_stmt *stmt, int i)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_column_int64(stmt, i);
	return sqlite3_column_int64(stmt->lite, i);
}

const char *rd_db_column_text(const rd_db_stmt *stmt, int i)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_column_bytes(stmt, i, NULL);
	return (const char *)sqlite3_column_text(stmt->lite, i);
}

const void *rd_db_column_blob(const rd_db_stmt *stmt, int i)
{
	if (stmt->db->engine == RD_DB_POSTGRES)
		return rd_db__pg_column_bytes(stmt, i, NULL);
	return sqlite3_column_blob(stmt->lite, i);
}

size_t rd_db_column_bytes(const rd_db_stmt *stmt, int i)
{
	size_t size = 0;

	if (stmt->db->engine == RD_DB_POSTGRES) {
		(void)rd_db__pg_column_bytes(stmt, i, &size);
		return size;
	}
	return (size_t)sqlite3_column_bytes(stmt->lite, i);
}

unsigned long rd_db_session(const rd_db *db)
{
	if (db->engine == RD_DB_POSTGRES)
		return rd_db__pg_session(db);
	return 1;
}

int rd_db_lost(const rd_db *db)
{
	return db->engine == RD_DB_POSTGRES && rd_db__pg_lost(db);
}

int rd_db_in_transaction(const rd_db *db)
{
	if (db->engine == RD_DB_POSTGRES)
		return rd_db__pg_in_transaction(db);
	return !sqlite3_get_autocommit(db->lite);
}

int rd_db_set_lock_timeout(rd_db *db, int ms)
{
	if (db->engine == RD_DB_POSTGRES)
		return rd_db__pg_set_lock_timeout(db, ms);
	return lite_code(sqlite3_busy_timeout(db->lite, ms));
}

struct sqlite3 *rd_db_sqlite(rd_db *db)
{
	return db->engine == RD_DB_SQLITE ? db->lite : NULL;
}
