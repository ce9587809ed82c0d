/*
 * The store's database driver: one small interface over the two engines a
 * record can live in, SQLite (embedded, a file path) and PostgreSQL (a
 * `postgresql://` or `postgres://` URI, through libpq).
 *
 * The interface has the shape of SQLite's own (prepare, bind by position,
 * step row by row, read columns), so that the store's code reads the same
 * whichever engine runs it. It must never build SQL: the caller hands it
 * the text of a statement, one text per engine where they differ. It must
 * never decide anything either: results and failures are reported as
 * rd_db_code values, which the store turns into rd_codes and messages.
 *
 * Engines differ where the store can see it:
 * - parameters are written `?N` for SQLite and `$N` for PostgreSQL;
 * - PostgreSQL runs a statement whole at the first rd_db_step and keeps
 *   its rows in memory until rd_db_reset (the store's statements read a
 *   bounded number of rows: a page, one dispute's rows, a batch);
 * - in PostgreSQL an error inside a transaction aborts it: the store rolls
 *   back or returns to a savepoint, as it already does for SQLite;
 * - a PostgreSQL server may go away and come back: a connection it closed
 *   is made again on the next use outside a transaction (its statements
 *   prepared again as each is next run, its lock timeout applied again);
 *   a transaction open when it was lost fails every command with
 *   RD_DB_ECONNECTION until the caller ends it (ROLLBACK succeeds, COMMIT
 *   fails), and is never carried over to the new connection.
 *
 * A connection and its statements belong to one thread at a time.
 */
#ifndef REDRESS_STORE_DB_H
#define REDRESS_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "redress/error.h"

typedef struct rd_db rd_db;
typedef struct rd_db_stmt rd_db_stmt;

typedef enum rd_db_engine {
	RD_DB_SQLITE,
	RD_DB_POSTGRES
} rd_db_engine;

/*
 * Results of binding and stepping. RD_DB_OK is 0 and the failures are
 * bits apart from one another, so that a caller may OR the results of
 * several binds and test the sum once.
 */
typedef enum rd_db_code {
	RD_DB_OK = 0,
	RD_DB_ROW = 1,          /* rd_db_step: a row is ready to read */
	RD_DB_DONE = 2,         /* rd_db_step: no (more) rows */
	RD_DB_EBUSY = 4,        /* locked, or a serialization failure: retry */
	RD_DB_EUNIQUE = 8,      /* a primary key or unique constraint */
	RD_DB_EFOREIGN = 16,    /* a row referred to does not exist */
	RD_DB_ECONSTRAINT = 32, /* CHECK, NOT NULL, a trigger's refusal */
	RD_DB_ENOMEM = 64,
	RD_DB_ECONNECTION = 128, /* the server is gone, or cannot be reached
				    again yet: the transaction is lost */
	RD_DB_EMISUSE = 256,    /* a bad bind index, a statement in use */
	RD_DB_EIO = 512         /* anything else */
} rd_db_code;

/* 1 when `target` names a PostgreSQL database (a libpq URI). */
int rd_db_target_is_postgres(const char *target);

/*
 * `target` as messages may show it, into out (at most size - 1 bytes, cut
 * short when longer): a SQLite path as it is, a PostgreSQL URI with its
 * password, in the user part or as a parameter, replaced by "***".
 */
void rd_db_target_shown(char *out, size_t size, const char *target);

/*
 * Open a connection to `target`: a SQLite file path (created when
 * `create` is set, else it must exist) or a PostgreSQL URI (the database
 * must exist; `create` is ignored). New connection in *out, closed with
 * rd_db_close. RD_EIO with the engine's reason (the URI's password never
 * appears in it) when it cannot be opened.
 */
int rd_db_open(rd_db **out, const char *target, int create, rd_error *err);

/*
 * Open the SQLite file `path` to read only: the file must exist, and the
 * connection never writes it (a write is refused by SQLite). RD_EINVALID
 * for a PostgreSQL URI; RD_EIO with SQLite's reason otherwise.
 */
int rd_db_open_readonly(rd_db **out, const char *path, rd_error *err);

/* Close a connection (NULL is accepted); finalize its statements first. */
void rd_db_close(rd_db *db);

rd_db_engine rd_db_engine_of(const rd_db *db);

/*
 * The reason of the last failure on db, for messages (borrowed, valid
 * until the next call on db).
 */
const char *rd_db_errmsg(const rd_db *db);

/*
 * 1 when the last failure on db was RD_DB_EUNIQUE on a primary key rather
 * than on another unique constraint, so that a caller can tell a row
 * written twice from two rows a uniqueness rule keeps apart (an offer id
 * used again, or a second offer while one awaits an answer). PostgreSQL
 * knows a primary key by the name it gives one, "<table>_pkey".
 */
int rd_db_failed_on_primary_key(const rd_db *db);

/*
 * The name of the constraint the last failure on db broke (borrowed,
 * valid until the next call on db), so that a caller can tell which rule
 * refused a row from the failure itself: after a failure PostgreSQL runs
 * nothing more in the transaction, so a second statement cannot ask.
 * PostgreSQL names the CHECK, unique, primary or foreign key constraint
 * (its default names are "<table>_<column>_check", "<table>_pkey", ...);
 * NULL when the failure named none (NOT NULL, a trigger's refusal, not a
 * constraint at all), and always on SQLite, whose message names the rule
 * instead (rd_db_errmsg: "CHECK constraint failed: <expression>").
 */
const char *rd_db_failed_constraint(const rd_db *db);

/*
 * Run `sql`, one or more statements without parameters or rows to read
 * (schema scripts, BEGIN, COMMIT, pragmas). RD_DB_OK or a failure code.
 */
int rd_db_exec(rd_db *db, const char *sql);

/*
 * Prepare one statement; *out is new, freed with rd_db_finalize (or by
 * rd_db_close). RD_DB_OK or a failure code, the reason in rd_db_errmsg.
 */
int rd_db_prepare(rd_db *db, const char *sql, rd_db_stmt **out);
void rd_db_finalize(rd_db_stmt *stmt);

/*
 * Binding, by position from 1. Text and blobs are borrowed, not copied:
 * they must stay as they are until the statement is reset. NULL text
 * binds SQL NULL. Each returns RD_DB_OK or a failure code.
 */
int rd_db_bind_int64(rd_db_stmt *stmt, int i, int64_t value);
int rd_db_bind_text(rd_db_stmt *stmt, int i, const char *value);
int rd_db_bind_blob(rd_db_stmt *stmt, int i, const void *data, size_t size);
int rd_db_bind_null(rd_db_stmt *stmt, int i);

/*
 * Run the statement (first call) or move to its next row: RD_DB_ROW,
 * RD_DB_DONE or a failure code, the reason in rd_db_errmsg.
 */
int rd_db_step(rd_db_stmt *stmt);

/* Make the statement ready to run again; its bindings are cleared. */
void rd_db_reset(rd_db_stmt *stmt);

/*
 * Rows inserted, updated or deleted by the statement's last run (valid
 * after rd_db_step returned RD_DB_DONE).
 */
int64_t rd_db_changes(const rd_db_stmt *stmt);

/*
 * Reading the current row (after RD_DB_ROW), columns from 0. A NULL reads
 * as 0, NULL text, or a NULL blob of 0 bytes. Text and blob pointers are
 * borrowed until the next step or reset; text is NUL-terminated.
 */
int rd_db_column_count(const rd_db_stmt *stmt);
int rd_db_column_is_null(const rd_db_stmt *stmt, int i);

/*
 * The name of result column i (borrowed, valid until the statement is
 * finalized): its alias, else the engine's choice. For messages and for
 * the dump, whose lines name every column; NULL for a column that does
 * not exist.
 */
const char *rd_db_column_name(const rd_db_stmt *stmt, int i);

/*
 * What the value of column i in the current row is. SQLite types each
 * value, so a column may hold values of several types; PostgreSQL types
 * the column, and a NULL value reads as RD_DB_TYPE_NULL. RD_DB_TYPE_FLOAT
 * is SQLite's only: PostgreSQL refuses such a column at rd_db_prepare.
 * Ask before reading the column: SQLite reports the type of a value a
 * reader has converted (text read from an integer) as the new type.
 */
typedef enum rd_db_type {
	RD_DB_TYPE_NULL,
	RD_DB_TYPE_INTEGER,
	RD_DB_TYPE_FLOAT,
	RD_DB_TYPE_TEXT,
	RD_DB_TYPE_BLOB
} rd_db_type;

rd_db_type rd_db_column_type(const rd_db_stmt *stmt, int i);

int64_t rd_db_column_int64(const rd_db_stmt *stmt, int i);
const char *rd_db_column_text(const rd_db_stmt *stmt, int i);
const void *rd_db_column_blob(const rd_db_stmt *stmt, int i);
size_t rd_db_column_bytes(const rd_db_stmt *stmt, int i);

/*
 * 1 when a transaction is open on db: on PostgreSQL also one whose
 * connection was lost, until the caller rolls it back (or its COMMIT
 * fails).
 */
int rd_db_in_transaction(const rd_db *db);

/*
 * How long a statement waits for a lock another connection holds before
 * it fails with RD_DB_EBUSY, in milliseconds: SQLite's busy timeout;
 * PostgreSQL's lock_timeout for the session (0 or less waits as short as
 * it can, as SQLite's does not wait), applied again on every new
 * connection. Call it outside a transaction (on PostgreSQL a transaction
 * that rolls back would take the setting with it). RD_DB_OK or the code
 * of the server's refusal.
 */
int rd_db_set_lock_timeout(rd_db *db, int ms);

/*
 * Which session of the server db is on: 1 after open, one more each time
 * the driver made the connection again (PostgreSQL), so that a caller
 * holding something of the session (an advisory lock) knows it is gone.
 * Always 1 on SQLite.
 */
unsigned long rd_db_session(const rd_db *db);

/*
 * 1 when db's connection is lost: the server closed it, or said it ends
 * it (PostgreSQL; it is made again before the next command outside a
 * transaction). Always 0 on SQLite.
 */
int rd_db_lost(const rd_db *db);

/*
 * The SQLite connection under db (borrowed), for what only SQLite has
 * (online backup, pragmas, the busy timeout); NULL for PostgreSQL.
 */
struct sqlite3 *rd_db_sqlite(rd_db *db);

#endif
