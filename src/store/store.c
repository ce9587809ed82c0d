/*
 * The store's connection: open and close, the prepared statement table,
 * transactions, and the translation of the database driver's results
 * (db.h) into rd_codes.
 *
 * The store records; it never decides (no workflow rule lives here), never
 * prints, and never builds SQL at run time. Every database failure leaves
 * the caller an rd_error saying what was being done and why it failed.
 * SQLite itself is called only for what the driver does not cover: the
 * library's configuration.
 *
 * On PostgreSQL (a `postgresql://` URI) there are no pragmas and no writer
 * lock: the server has its locking, and BEGIN is a plain READ COMMITTED
 * transaction whose compare-and-swaps (a dispute's version, a ref's head)
 * are UPDATEs checked by the rows they changed; a lock waited for past
 * the busy timeout (lock_timeout) is RD_EBUSY as on SQLite. A connection
 * the server closed is the driver's to make again (db_pg.c); the store
 * sees a lost connection as RD_DB_ECONNECTION, RD_EUNAVAILABLE to its
 * callers, and never retries what failed. st->path is then the URI
 * without its password, and must never hold one.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store_int.h"

/*
 * One writer at a time per process: the connections of one process (a
 * server's worker threads, its sweeper) take this lock before BEGIN
 * IMMEDIATE and give it back when their transaction ends (and hold it
 * while an open sets the journal mode or upgrades the schema), so that their
 * writes, and the WAL checkpoints SQLite runs at commit, never overlap
 * (SQLite before 3.51.3 can corrupt a WAL database when two connections
 * write or checkpoint at once). Writers of other processes still meet at
 * SQLite's own lock. Waiting here is bounded by the busy timeout too.
 */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;

static int writer_take(rd_store *st, rd_error *err);
static void writer_give(rd_store *st);

/*
 * SQLite's memory statistics take one process-wide mutex on every
 * allocation, which the server's worker threads would queue on for each
 * read; redress never asks for them. Switched off once, before SQLite's
 * first use (a later call is refused by SQLite and changes nothing).
 */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;

static void library_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#define BUSY_MESSAGE                                                         \
	"the database is busy (locked by another writer for more than "      \
	"%d %s); try again"

/* A reason for a failure when there is no connection to ask. */
static const char *code_reason(int rc)
{
	switch (rc) {
	case RD_DB_EBUSY:
		return "database is locked";
	case RD_DB_EUNIQUE:
	case RD_DB_EFOREIGN:
	case RD_DB_ECONSTRAINT:
		return "constraint failed";
	case RD_DB_ENOMEM:
		return "out of memory";
	case RD_DB_ECONNECTION:
		return "the connection is closed";
	case RD_DB_EMISUSE:
		return "bad parameter or other API misuse";
	default:
		return "database error";
	}
}

int rd_store__fail(rd_store *st, int rc, rd_error *err, const char *fmt, ...)
{
	char doing[256];
	const char *reason;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(doing, sizeof(doing), fmt, ap);
	va_end(ap);
	reason = st && st->db ? rd_db_errmsg(st->db) : code_reason(rc);

	switch (rc) {
	case RD_DB_EBUSY: {
		int ms = st ? st->busy_timeout_ms : RD_STORE_BUSY_TIMEOUT_MS;

		if (ms % 1000 == 0)
			return rd_error_set(err, RD_EBUSY, BUSY_MESSAGE,
					    ms / 1000, "s");
		return rd_error_set(err, RD_EBUSY, BUSY_MESSAGE, ms, "ms");
	}
	case RD_DB_ENOMEM:
		return rd_error_set(err, RD_ENOMEM, "%s: out of memory", doing);
	case RD_DB_EUNIQUE:
		return rd_error_set(err, RD_ECONFLICT,
				    "%s: it already exists (%s)", doing,
				    reason);
	case RD_DB_EFOREIGN:
		return rd_error_set(err, RD_ENOTFOUND,
				    "%s: a row it refers to does not exist "
				    "(%s)", doing, reason);
	case RD_DB_ECONSTRAINT:
		return rd_error_set(err, RD_EINVALID, "%s: %s", doing, reason);
	case RD_DB_ECONNECTION:
		/* nothing of a change in flight was kept: it may be retried */
		return rd_error_set(err, RD_EUNAVAILABLE, "%s: the database "
				    "cannot be reached (%s)", doing, reason);
	default:
		return rd_error_set(err, RD_EIO, "%s: %s", doing, reason);
	}
}

int rd_store__stmt(rd_store *st, int id, rd_db_stmt **out, rd_error *err)
{
	int min_schema = 0;

	if (id < 0 || id >= RD_STMT_COUNT || !st->stmts[id]) {
		if (id >= 0 && id < RD_STMT_COUNT &&
		    !rd_store__stmt_sql_for(id, rd_db_engine_of(st->db),
					    &min_schema))
			return rd_error_set(err, RD_EINTERNAL,
					    "statement %d is not %s's", id,
					    rd_db_engine_of(st->db) ==
							RD_DB_SQLITE
						? "SQLite"
						: "PostgreSQL");
		rd_store__stmt_sql(id, &min_schema);
		return rd_error_set(err, RD_EINTERNAL,
				    "statement %d needs schema %d, the "
				    "database has schema %d", id, min_schema,
				    st->schema);
	}
	*out = st->stmts[id];
	return RD_OK;
}

int rd_store__step(rd_store *st, rd_db_stmt *stmt, int bind_rc)
{
	(void)st;
	if (bind_rc == RD_DB_OK)
		return rd_db_step(stmt);
	return bind_rc;
}

void rd_store__release(rd_db_stmt *stmt)
{
	rd_db_reset(stmt);  /* NULL is accepted, bindings are cleared */
}

int rd_store__require_tx(rd_store *st, const char *what, rd_error *err)
{
	/*
	 * Begun, but ended by SQLite itself after an error (out of memory,
	 * a full disk) that a caller did not see: libgit2 takes a failed
	 * lookup of an object for "absent" and writes on
	 */
	if (!rd_db_in_transaction(st->db) && (st->holds_writer || st->batch))
		return rd_error_set(err, RD_EIO,
				    "%s: the transaction on %s was rolled "
				    "back after an earlier error", what,
				    st->path);
	if (!rd_db_in_transaction(st->db))
		return rd_error_set(err, RD_EINTERNAL,
				    "%s must run inside a transaction "
				    "(rd_store_begin first)", what);
	return RD_OK;
}

int rd_store__bind_text(rd_db_stmt *stmt, int i, const char *value)
{
	return rd_db_bind_text(stmt, i, value);  /* NULL binds SQL NULL */
}

int rd_store__bind_amount(rd_db_stmt *stmt, int i, int64_t amount)
{
	if (amount == RD_AMOUNT_UNSET)
		return rd_db_bind_null(stmt, i);
	return rd_db_bind_int64(stmt, i, amount);
}

int rd_store__bind_optional(rd_db_stmt *stmt, int i, int64_t value)
{
	if (value == 0)
		return rd_db_bind_null(stmt, i);
	return rd_db_bind_int64(stmt, i, value);
}

int rd_store__column_strdup(rd_db_stmt *stmt, int i, char **out,
			    rd_error *err)
{
	const char *text = rd_db_column_text(stmt, i);
	size_t len;

	*out = NULL;
	if (!text) {
		if (rd_db_column_is_null(stmt, i))
			return RD_OK;
		return rd_error_set(err, RD_ENOMEM,
				    "out of memory reading column %s",
				    rd_db_column_name(stmt, i));
	}
	len = rd_db_column_bytes(stmt, i);  /* after the text: SQLite */
	*out = malloc(len + 1);
	if (!*out)
		return rd_error_set(err, RD_ENOMEM,
				    "out of memory reading column %s",
				    rd_db_column_name(stmt, i));
	memcpy(*out, text, len);
	(*out)[len] = '\0';
	return RD_OK;
}

int64_t rd_store__column_amount(rd_db_stmt *stmt, int i)
{
	if (rd_db_column_is_null(stmt, i))
		return RD_AMOUNT_UNSET;
	return rd_db_column_int64(stmt, i);
}

int64_t rd_store__column_optional(rd_db_stmt *stmt, int i)
{
	return rd_db_column_int64(stmt, i);  /* NULL reads as 0 */
}

int rd_store__grow(void *array_at, size_t count, size_t *room,
		   size_t element_size, rd_error *err)
{
	size_t grown = *room ? *room * 2 : 8;
	void *array, *more;

	if (count < *room)
		return RD_OK;
	if (grown > SIZE_MAX / element_size)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	memcpy(&array, array_at, sizeof(array));
	if (!(more = realloc(array, grown * element_size)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	memcpy(array_at, &more, sizeof(more));
	*room = grown;
	return RD_OK;
}

int rd_store__column_copy(rd_db_stmt *stmt, int i, char *buf,
			  size_t size, rd_error *err)
{
	const char *text = rd_db_column_text(stmt, i);
	size_t len;

	buf[0] = '\0';
	if (!text) {
		if (rd_db_column_is_null(stmt, i))
			return RD_OK;
		return rd_error_set(err, RD_ENOMEM,
				    "out of memory reading column %s",
				    rd_db_column_name(stmt, i));
	}
	len = rd_db_column_bytes(stmt, i);  /* after the text: SQLite */
	if (len >= size)
		return rd_error_set(err, RD_EIO,
				    "the database holds a %s of %zu bytes, "
				    "longer than the %zu redress allows",
				    rd_db_column_name(stmt, i), len,
				    size - 1);
	memcpy(buf, text, len);
	buf[len] = '\0';
	return RD_OK;
}

int rd_store__is_oid(const char *oid)
{
	size_t i;

	if (!oid)
		return 0;
	for (i = 0; i < 40; i++)
		if (!((oid[i] >= '0' && oid[i] <= '9') ||
		      (oid[i] >= 'a' && oid[i] <= 'f')))
			return 0;
	return oid[i] == '\0';
}

/* Run a PRAGMA that answers one text value and compare the answer. */
static int pragma_expect(rd_store *st, const char *sql, const char *expected,
			 rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	const char *answer;
	int rc;
	int ret = RD_OK;

	rc = rd_db_prepare(st->db, sql, &stmt);
	if (rc == RD_DB_OK)
		rc = rd_db_step(stmt);
	if (rc != RD_DB_ROW) {
		ret = rd_store__fail(st, rc, err, "cannot set up %s (%s)",
				     st->path, sql);
		goto done;
	}
	answer = rd_db_column_text(stmt, 0);
	if (!answer || strcmp(answer, expected) != 0)
		ret = rd_error_set(err, RD_EIO,
				   "cannot set up %s: %s answered \"%s\", "
				   "expected \"%s\"", st->path, sql,
				   answer ? answer : "", expected);
done:
	rd_db_finalize(stmt);
	return ret;
}

/*
 * SQLite's own settings of the connection, which the driver leaves to the
 * store (it reports SQLite's extended result codes already).
 *
 * temp_store = MEMORY keeps the statement journal of a savepoint in
 * memory: on disk it spills past 64 KiB into a new temporary file, one
 * created and deleted a batch of the group commit, a new inode each time.
 */
static int configure(rd_store *st, rd_error *err)
{
	static const char *const pragmas[] = {
		"PRAGMA synchronous = FULL",
		"PRAGMA foreign_keys = ON",
		"PRAGMA temp_store = MEMORY",
	};
	int ret;
	int rc;

	rd_store_set_busy_timeout(st, RD_STORE_BUSY_TIMEOUT_MS);
	if ((ret = pragma_expect(st, "PRAGMA journal_mode = WAL", "wal",
				 err)) < 0)
		return ret;
	for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
		rc = rd_db_exec(st->db, pragmas[i]);
		if (rc != RD_DB_OK)
			return rd_store__fail(st, rc, err,
					      "cannot set up %s (%s)",
					      st->path, pragmas[i]);
	}
	return RD_OK;
}

static int prepare_all(rd_store *st, rd_error *err)
{
	rd_db_engine engine = rd_db_engine_of(st->db);

	for (int id = 0; id < RD_STMT_COUNT; id++) {
		int min_schema = 0;
		const char *sql = rd_store__stmt_sql_for(id, engine,
							 &min_schema);
		int rc;

		/* a statement of the other engine only, or of a later schema */
		if (!sql || min_schema > st->schema)
			continue;
		rc = rd_db_prepare(st->db, sql, &st->stmts[id]);
		if (rc != RD_DB_OK)
			return rd_store__fail(st, rc, err,
					      "cannot prepare statement %d "
					      "on %s", id, st->path);
	}
	return RD_OK;
}

int rd_store_open_at_version(rd_store **out, const char *path, int version,
			     rd_error *err)
{
	rd_store *st = NULL;
	size_t size;
	int ret = RD_OK;

	*out = NULL;
	if (!path || !*path)
		return rd_error_set(err, RD_EINVALID,
				    "no database path given");
	/* "***" may be longer than a password it hides: each of "u:@" or
	 * "password=" around it is longer than what it adds */
	size = 2 * strlen(path) + 1;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = malloc(size))) {
		ret = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	rd_db_target_shown(st->path, size, path);
	st->busy_timeout_ms = RD_STORE_BUSY_TIMEOUT_MS;
	st->claims_fd = -1;
	(void)pthread_once(&library_once, library_configure);
	/* read-write, created when missing; the message names the path */
	if ((ret = rd_db_open(&st->db, path, 1, err)) < 0)
		goto done;
	/*
	 * PostgreSQL: no pragma, no writer lock (rd_store__migrate_pg); a
	 * lock waited for longer than the busy timeout is RD_EBUSY, as on
	 * SQLite (a schema upgrade under way elsewhere is waited for whole)
	 */
	if (rd_db_engine_of(st->db) == RD_DB_POSTGRES) {
		int rc;

		if ((ret = rd_store__migrate(st, version, err)) < 0 ||
		    (ret = prepare_all(st, err)) < 0)
			goto done;
		if ((rc = rd_db_set_lock_timeout(st->db,
						 st->busy_timeout_ms)) != 0) {
			ret = rd_store__fail(st, rc, err, "cannot set the lock "
					     "timeout of %s", st->path);
			goto done;
		}
		*out = st;
		st = NULL;
		goto done;
	}
	/* the journal mode and a schema upgrade write: one writer at a time */
	if ((ret = writer_take(st, err)) < 0)
		goto done;
	if ((ret = configure(st, err)) >= 0)
		ret = rd_store__migrate(st, version, err);
	writer_give(st);
	if (ret < 0)
		goto done;
	if ((ret = prepare_all(st, err)) < 0)
		goto done;
	*out = st;
	st = NULL;
done:
	rd_store_close(st);
	return ret;
}

int rd_store_open_readonly(rd_store **out, const char *path, rd_error *err)
{
	rd_store *st = NULL;
	int found = 0;
	int ret = RD_OK;

	*out = NULL;
	if (!path || !*path)
		return rd_error_set(err, RD_EINVALID,
				    "no database path given");
	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		ret = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	st->busy_timeout_ms = RD_STORE_BUSY_TIMEOUT_MS;
	st->claims_fd = -1;
	(void)pthread_once(&library_once, library_configure);
	if ((ret = rd_db_open_readonly(&st->db, path, err)) < 0)
		goto done;
	rd_store_set_busy_timeout(st, RD_STORE_BUSY_TIMEOUT_MS);
	if ((ret = rd_store__user_version(st, &found, err)) < 0)
		goto done;
	if (found > rd_store__migration_count()) {
		ret = rd_store__refuse_newer(st, found,
					     rd_store__migration_count(), err);
		goto done;
	}
	if (found < rd_store__migration_count()) {
		ret = rd_error_set(err, RD_EINVALID,
				   "%s has schema %d, older than this "
				   "build's %d, and is read as it is: run "
				   "any redress command on its data directory "
				   "first (`redress upgrade` upgrades it)",
				   st->path, found,
				   rd_store__migration_count());
		goto done;
	}
	st->schema = found;
	if ((ret = prepare_all(st, err)) < 0)
		goto done;
	*out = st;
	st = NULL;
done:
	rd_store_close(st);
	return ret;
}

int rd_store_open(rd_store **out, const char *path, rd_error *err)
{
	return rd_store_open_at_version(out, path, rd_store__migration_count(),
					err);
}

void rd_store_close(rd_store *st)
{
	if (!st)
		return;
	/* the driver wants its statements finalized before the close */
	for (int id = 0; id < RD_STMT_COUNT; id++)
		rd_db_finalize(st->stmts[id]);
	/*
	 * An abandoned transaction is rolled back by the close, and the last
	 * connection to close checkpoints: both under the writer lock (which
	 * PostgreSQL, or a connection never opened, does without).
	 */
	if (!st->db || rd_db_engine_of(st->db) == RD_DB_POSTGRES) {
		rd_db_close(st->db);
	} else {
		if (!st->holds_writer)
			pthread_mutex_lock(&writer_lock);
		rd_db_close(st->db);
		pthread_mutex_unlock(&writer_lock);
	}
	/* the claims of the connection end with it (idempotency.c) */
	if (st->claims_fd >= 0)
		close(st->claims_fd);
	rd_store__objects_forget(st, 0);
	free(st->path);
	free(st);
}

sqlite3 *rd_store_db(rd_store *st)
{
	return rd_db_sqlite(st->db);
}

void rd_store_set_busy_timeout(rd_store *st, int ms)
{
	st->busy_timeout_ms = ms;
	/* a connection lost meanwhile gets it when it is made again */
	(void)rd_db_set_lock_timeout(st->db, ms);
}

int rd_store_schema_version(rd_store *st, int *out, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, RD_STMT_USER_VERSION, &stmt, err)) < 0)
		return ret;
	rc = rd_db_step(stmt);
	if (rc != RD_DB_ROW) {
		ret = rd_store__fail(st, rc, err, "cannot read the schema "
				     "version of %s", st->path);
		goto done;
	}
	*out = (int)rd_db_column_int64(stmt, 0);
done:
	rd_store__release(stmt);
	return ret;
}

/* Step a statement that returns no rows (transaction control). */
static int run(rd_store *st, int id, const char *doing, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	rc = rd_db_step(stmt);
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "%s", doing);
	rd_store__release(stmt);
	return ret;
}


static int writer_take(rd_store *st, rd_error *err)
{
	struct timespec until;
	int rc;

	/* PostgreSQL's writers meet at the server's row locks */
	if (rd_db_engine_of(st->db) == RD_DB_POSTGRES)
		return RD_OK;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += st->busy_timeout_ms / 1000;
	until.tv_nsec += (long)(st->busy_timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	rc = pthread_mutex_timedlock(&writer_lock, &until);
	if (rc == ETIMEDOUT)
		return rd_store__fail(st, RD_DB_EBUSY, err,
				      "cannot start a transaction");
	if (rc != 0)
		return rd_error_set(err, RD_EINTERNAL, "cannot take the "
				    "writer lock: %s", strerror(rc));
	st->holds_writer = 1;
	return RD_OK;
}

/* Give the lock back once the connection's transaction has ended. */
static void writer_give(rd_store *st)
{
	if (st->holds_writer && !rd_db_in_transaction(st->db)) {
		st->holds_writer = 0;
		pthread_mutex_unlock(&writer_lock);
	}
}

int rd_store_tx_open(rd_store *st)
{
	return st && rd_db_in_transaction(st->db);
}

int rd_store_begin(rd_store *st, rd_error *err)
{
	int ret;

	if (st->batch) {
		/* a change of the batch: a savepoint of its transaction */
		if (!rd_db_in_transaction(st->db))
			return rd_error_set(err, RD_EIO,
					    "the batch's transaction on %s "
					    "ended after an earlier error",
					    st->path);
		if ((ret = run(st, RD_STMT_SAVEPOINT, "cannot start a change",
			       err)) == RD_OK)
			st->txobj_mark = st->txobj_count;
		return ret;
	}
	if (rd_db_in_transaction(st->db) || st->holds_writer)
		return rd_error_set(err, RD_EINTERNAL,
				    "a transaction is already open on %s",
				    st->path);
	if ((ret = writer_take(st, err)) < 0)
		return ret;
	ret = run(st, RD_STMT_BEGIN, "cannot start a transaction", err);
	writer_give(st);
	st->write_tx = ret == RD_OK;
	return ret;
}

int rd_store_commit(rd_store *st, rd_error *err)
{
	int ret;

	/* SQLite rolls back by itself after some errors (full disk, I/O) */
	if (!st->batch)
		st->write_tx = 0;
	if (!rd_db_in_transaction(st->db)) {
		if (!st->batch) {
			rd_store__objects_forget(st, 0);
			writer_give(st);
		}
		return rd_error_set(err, RD_EIO,
				    "no transaction to commit on %s (it was "
				    "rolled back after an earlier error)",
				    st->path);
	}
	/* a change of a batch: its objects go with the batch's (record.c) */
	if (st->batch)
		return run(st, RD_STMT_RELEASE, "cannot end a change", err);
	/*
	 * PostgreSQL: the transaction's objects, then its place in commit
	 * order (schema 15)
	 */
	if ((ret = rd_store__objects_flush(st, err)) < 0 ||
	    (st->tx_changes && rd_db_engine_of(st->db) == RD_DB_POSTGRES &&
	     (ret = run(st, RD_STMT_COMMIT_NUMBER,
			"cannot number the commit", err)) < 0)) {
		st->tx_changes = 0;
		rd_store__objects_forget(st, 0);
		run(st, RD_STMT_ROLLBACK, "cannot roll back", NULL);
		writer_give(st);
		return ret;
	}
	st->tx_changes = 0;
	rd_store__objects_forget(st, 0);
	ret = run(st, RD_STMT_COMMIT, "cannot commit the transaction", err);
	writer_give(st);
	return ret;
}

void rd_store_rollback(rd_store *st)
{
	if (!st)
		return;
	if (st->batch) {
		/* the change's objects, sent or not, go with its savepoint */
		rd_store__objects_forget(st, st->txobj_mark);
		if (rd_db_in_transaction(st->db) &&
		    run(st, RD_STMT_ROLLBACK_TO, "cannot roll back a change",
			NULL) == RD_OK)
			run(st, RD_STMT_RELEASE, "cannot end a change", NULL);
		return;
	}
	st->write_tx = 0;
	st->tx_changes = 0;
	rd_store__objects_forget(st, 0);
	if (rd_db_in_transaction(st->db))
		run(st, RD_STMT_ROLLBACK, "cannot roll back", NULL);
	writer_give(st);
}

int rd_store_batch_begin(rd_store *st, rd_error *err)
{
	int ret;

	if (st->batch || rd_db_in_transaction(st->db) || st->holds_writer)
		return rd_error_set(err, RD_EINTERNAL,
				    "a transaction is already open on %s",
				    st->path);
	if ((ret = writer_take(st, err)) < 0)
		return ret;
	ret = run(st, RD_STMT_BEGIN, "cannot start a transaction", err);
	writer_give(st);
	if (ret == RD_OK) {
		st->batch = 1;
		st->batch_session = rd_db_session(st->db);
	}
	return ret;
}

int rd_store_batch_alive(rd_store *st)
{
	return st->batch && rd_db_in_transaction(st->db);
}

int rd_store_batch_lost(rd_store *st)
{
	return st->batch && (rd_db_lost(st->db) ||
			     rd_db_session(st->db) != st->batch_session);
}

int rd_store_batch_commit(rd_store *st, rd_error *err)
{
	if (!st->batch)
		return rd_error_set(err, RD_EINTERNAL, "no batch is open on %s",
				    st->path);
	st->batch = 0;
	return rd_store_commit(st, err);
}

void rd_store_batch_rollback(rd_store *st)
{
	if (!st)
		return;
	st->batch = 0;
	rd_store_rollback(st);
}

int rd_store_target_is_postgres(const char *target)
{
	return rd_db_target_is_postgres(target);
}
