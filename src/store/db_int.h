/*
 * Inside the store's database driver: the structures of db.h and the
 * PostgreSQL half (db_pg.c) that db.c calls. Only db.c and db_pg.c include
 * this header.
 */
#ifndef REDRESS_STORE_DB_INT_H
#define REDRESS_STORE_DB_INT_H

#include "store/db.h"

struct sqlite3;
struct sqlite3_stmt;
struct rd_db_pg;
struct rd_db_pg_stmt;

struct rd_db {
	rd_db_engine engine;
	struct sqlite3 *lite;          /* RD_DB_SQLITE */
	struct rd_db_pg *pg;           /* RD_DB_POSTGRES */
	char message[512];             /* PostgreSQL's last failure */
	int primary_key;               /* it was on a primary key */
	char constraint[64];           /* its name, "" for none (PostgreSQL) */
};

struct rd_db_stmt {
	rd_db *db;
	struct sqlite3_stmt *lite;
	struct rd_db_pg_stmt *pg;
	int64_t changes;               /* PostgreSQL: rows of the last run */
};

int rd_db__pg_open(rd_db **out, const char *uri, rd_error *err);
/* The URI with its password replaced by "***" (rd_db_target_shown). */
void rd_db__pg_redact(char *out, size_t size, const char *uri);
void rd_db__pg_close(rd_db *db);
int rd_db__pg_exec(rd_db *db, const char *sql);
int rd_db__pg_prepare(rd_db_stmt *stmt, const char *sql);
void rd_db__pg_finalize(rd_db_stmt *stmt);
int rd_db__pg_bind_int64(rd_db_stmt *stmt, int i, int64_t value);
/* binary: 1 for a blob (bytea), 0 for text; value NULL binds SQL NULL */
int rd_db__pg_bind(rd_db_stmt *stmt, int i, const void *value, size_t size,
		   int binary);
int rd_db__pg_step(rd_db_stmt *stmt);
void rd_db__pg_reset(rd_db_stmt *stmt);
int rd_db__pg_column_count(const rd_db_stmt *stmt);
int rd_db__pg_column_is_null(const rd_db_stmt *stmt, int i);
const char *rd_db__pg_column_name(const rd_db_stmt *stmt, int i);
rd_db_type rd_db__pg_column_type(const rd_db_stmt *stmt, int i);
int64_t rd_db__pg_column_int64(const rd_db_stmt *stmt, int i);
/* The bytes of a column (NULL for SQL NULL), their number in *size. */
const void *rd_db__pg_column_bytes(const rd_db_stmt *stmt, int i,
				   size_t *size);
int rd_db__pg_in_transaction(const rd_db *db);
unsigned long rd_db__pg_session(const rd_db *db);
int rd_db__pg_lost(const rd_db *db);
int rd_db__pg_set_lock_timeout(rd_db *db, int ms);

#endif
