/*
 * The store's database driver, PostgreSQL's half (libpq).
 *
 * Each statement is prepared on the server once per connection and
 * described there, so that its parameters are counted and the type of
 * every result column is known before the first run. Parameters travel as
 * text (numbers) or as bytes (blobs); results come back in binary, so that
 * numbers and bytes need no parsing or unescaping. A statement runs whole
 * at its first rd_db_step and its rows are kept until it is reset.
 *
 * A connection the server closed (a restart, a failover, a network cut)
 * is made again on the next use, with the same URI, when no transaction
 * of the caller's was open on it: outside a transaction a command first
 * reads what the server may have sent meanwhile (its last words and the
 * end of the stream, without a round trip), so that a connection found
 * dead is replaced before the command rather than failing it. Statements
 * are then prepared again on the new connection as each is next run, and
 * the session's settings (the lock timeout) applied again. A transaction
 * open when its connection was lost is gone with it (the server rolls it
 * back): every command fails until the caller ends it, its ROLLBACK
 * succeeding without a server and its COMMIT failing, so that no part of
 * it can run on a new connection outside it. A COMMIT cut off on its way
 * may or may not have been applied; the driver says so and never runs it
 * again.
 *
 * It must never print: libpq's notices (a NOTICE of a schema script) are
 * dropped, never written to standard error. It must never let a
 * connection URI's password reach a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libpq-fe.h>

#include "store/db_int.h"

/* Type OIDs of PostgreSQL's catalog (pg_type), as fixed since 8.x. */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_CHAR = 18,
	OID_NAME = 19,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_TEXT = 25,
	OID_OID = 26,
	OID_JSON = 114,
	OID_UNKNOWN = 705,
	OID_BPCHAR = 1042,
	OID_VARCHAR = 1043,
	OID_VOID = 2278
};

/*
 * Seconds libpq waits for a connection to be made, unless the URI says
 * (connect_timeout): a server that does not answer at all then fails a
 * command after this long rather than never.
 */
#define CONNECT_TIMEOUT_S "5"

/* What a statement does to the caller's transaction. */
enum {
	ENDS_NOTHING = 0,
	ENDS_COMMIT,
	ENDS_ROLLBACK
};

struct rd_db_pg {
	PGconn *conn;
	unsigned long next_name;       /* of the next prepared statement */
	unsigned long session;         /* connections made: 1 after open */
	int in_tx;                     /* the caller's transaction is open;
					* kept when the connection is lost,
					* until the caller ends it */
	int lock_timeout_ms;           /* -1: the server's own */
	int doomed;                    /* the server said it ends the session */
};

struct rd_db_pg_stmt {
	char name[32];
	char *sql;                     /* to prepare it again */
	unsigned long session;         /* when it was last prepared */
	int ends;                      /* ENDS_*: COMMIT or ROLLBACK */
	int params;
	const char **values;           /* borrowed, or numbers[i] */
	int *lengths;
	int *formats;
	char (*numbers)[24];           /* int64 parameters as text */
	int columns;
	Oid *types;                    /* of the result columns */
	char **names;                  /* of the result columns, copied */
	PGresult *result;              /* of the current run */
	int row;                       /* current row, -1 before the first */
	int rows;
};

/*
 * COMMIT of a transaction a failed statement aborted succeeds with the
 * command tag "ROLLBACK": nothing was written. The driver reports it as a
 * failure, as SQLite reports a COMMIT without a transaction, so that a
 * caller never takes the rollback for its commit.
 */
static int commit_rolled_back(rd_db *db, PGresult *res)
{
	if (strcmp(PQcmdStatus(res), "ROLLBACK") != 0)
		return 0;
	snprintf(db->message, sizeof(db->message), "the transaction was "
		 "rolled back, not committed: a statement of it had failed");
	db->constraint[0] = '\0';
	db->primary_key = 0;
	return 1;
}

/* 1 when sql is the one word `word`, whatever its case and spacing. */
static int is_word(const char *sql, const char *word)
{
	size_t len = strlen(word);

	sql += strspn(sql, " \t\n");
	return strncasecmp(sql, word, len) == 0 &&
	       sql[len + strspn(sql + len, " \t\n;")] == '\0';
}

/*
 * ENDS_COMMIT when sql is one COMMIT (or END), ENDS_ROLLBACK when it is
 * one ROLLBACK (or ABORT) of the whole transaction ("ROLLBACK TO" a
 * savepoint is not), else ENDS_NOTHING.
 */
static int statement_ends(const char *sql)
{
	if (is_word(sql, "COMMIT") || is_word(sql, "END"))
		return ENDS_COMMIT;
	if (is_word(sql, "ROLLBACK") || is_word(sql, "ABORT"))
		return ENDS_ROLLBACK;
	return ENDS_NOTHING;
}

/*
 * Keep libpq's message on one line: its lines (a DETAIL, a HINT, a second
 * address tried) joined by "; ", without the trailing newline.
 */
static void keep_message(rd_db *db, const char *message)
{
	size_t at = 0;

	if (!message || !*message)
		message = "unknown PostgreSQL failure";
	for (const char *c = message; *c && at + 3 < sizeof(db->message);
	     c++) {
		if (*c != '\n') {
			db->message[at++] = *c;
			continue;
		}
		while (c[1] == '\t' || c[1] == ' ')
			c++;
		if (c[1]) {
			db->message[at++] = ';';
			db->message[at++] = ' ';
		}
	}
	db->message[at] = '\0';
}

/*
 * A failed result as an rd_db_code, from its SQLSTATE (PostgreSQL's
 * appendix A) or the connection's state.
 */
static int result_code(rd_db *db, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
				: NULL;
	const char *name = res ? PQresultErrorField(res,
						    PG_DIAG_CONSTRAINT_NAME)
			       : NULL;
	size_t len = name ? strlen(name) : 0;

	keep_message(db, res ? PQresultErrorMessage(res)
			     : PQerrorMessage(db->pg->conn));
	/* kept now: the result holding it is freed before anyone asks */
	snprintf(db->constraint, sizeof(db->constraint), "%s",
		 name ? name : "");
	db->primary_key = 0;
	if (PQstatus(db->pg->conn) != CONNECTION_OK || !state)
		return RD_DB_ECONNECTION;
	if (strcmp(state, "23505") == 0) {
		db->primary_key = len > 5 &&
				  strcmp(name + len - 5, "_pkey") == 0;
		return RD_DB_EUNIQUE;
	}
	if (strcmp(state, "23503") == 0)
		return RD_DB_EFOREIGN;
	if (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0)
		return RD_DB_ECONSTRAINT;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0)
		return RD_DB_EBUSY;
	if (strcmp(state, "53200") == 0)
		return RD_DB_ENOMEM;
	/* connection exceptions, and the server shutting down */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
		return RD_DB_ECONNECTION;
	return RD_DB_EIO;
}

/*
 * libpq's notices, and the messages a server sends between commands: all
 * dropped, but a FATAL one, the last words of a session the server ends
 * (a shutdown, pg_terminate_backend): the connection is doomed, and is
 * made again before its next command rather than failing it.
 */
static void on_notice(void *arg, const PGresult *res)
{
	struct rd_db_pg *pg = arg;
	const char *severity = PQresultErrorField(res,
					PG_DIAG_SEVERITY_NONLOCALIZED);

	if (severity && (strcmp(severity, "FATAL") == 0 ||
			 strcmp(severity, "PANIC") == 0))
		pg->doomed = 1;
}

/* Forget the constraint of an earlier failure: this one broke none. */
static void no_constraint(rd_db *db)
{
	db->constraint[0] = '\0';
	db->primary_key = 0;
}

/*
 * Put `prefix` before the message kept of the last failure, cut short at
 * the size of the message.
 */
static void prefix_message(rd_db *db, const char *prefix)
{
	size_t room = sizeof(db->message) - 1;
	size_t add = strlen(prefix), keep = strnlen(db->message, room);

	if (add > room)
		add = room;
	if (keep > room - add)
		keep = room - add;
	memmove(db->message + add, db->message, keep);
	memcpy(db->message, prefix, add);
	db->message[add + keep] = '\0';
}

/*
 * Apply the session's lock timeout on the connection: how long a
 * statement waits for a lock (a row, an advisory lock) before it fails
 * with SQLSTATE 55P03, which result_code reports as RD_DB_EBUSY. 0 ms,
 * SQLite's "do not wait", would be PostgreSQL's "wait for ever": it is
 * the shortest wait instead.
 */
static int apply_lock_timeout(rd_db *db)
{
	static const char sql[] = "SELECT set_config('lock_timeout', $1, "
				  "false)";
	char value[24];
	const char *values[1] = { value };
	PGresult *res;
	int rc = RD_DB_OK;

	snprintf(value, sizeof(value), "%dms",
		 db->pg->lock_timeout_ms > 0 ? db->pg->lock_timeout_ms : 1);
	res = PQexecParams(db->pg->conn, sql, 1, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = result_code(db, res);
	PQclear(res);
	return rc;
}

/*
 * A new connection in place of one the server closed, with the URI the
 * first was made with, and the session's settings. Statements learn of
 * it by the session number and are prepared again as each is next run.
 */
static int reconnect(rd_db *db)
{
	struct rd_db_pg *pg = db->pg;

	PQreset(pg->conn);
	pg->doomed = 0;
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		keep_message(db, PQerrorMessage(pg->conn));
		no_constraint(db);
		return RD_DB_ECONNECTION;
	}
	pg->session++;
	pg->in_tx = 0;
	if (pg->lock_timeout_ms >= 0)
		return apply_lock_timeout(db);
	return RD_DB_OK;
}

/* 1 when the connection is lost, or the server said it ends it. */
static int lost(const struct rd_db_pg *pg)
{
	return PQstatus(pg->conn) != CONNECTION_OK || pg->doomed;
}

/*
 * The connection, ready for a command that ends the caller's transaction
 * as `ends` says. Outside a transaction, what the server sent since the
 * last command is read and parsed first, without waiting: a server that
 * ends the session (a shutdown, a terminated backend) sends a FATAL
 * message (on_notice) and closes the stream, which libpq finds on reading
 * its end; twice, since a read may take the message and stop short of
 * the end. A connection so found lost is made again; inside a
 * transaction it is not (the transaction is lost), and a COMMIT on it
 * ends the transaction without being sent.
 */
static int connection_ready(rd_db *db, int ends)
{
	struct rd_db_pg *pg = db->pg;

	for (int i = 0; i < 2 && !pg->in_tx && !lost(pg); i++) {
		if (!PQconsumeInput(pg->conn))
			break;
		(void)PQisBusy(pg->conn);  /* parses what was read */
	}
	if (!lost(pg))
		return RD_DB_OK;
	if (!pg->in_tx)
		return reconnect(db);
	if (ends == ENDS_COMMIT) {
		pg->in_tx = 0;
		snprintf(db->message, sizeof(db->message), "the connection to "
			 "PostgreSQL was lost before COMMIT: the server rolled "
			 "the transaction back");
	} else {
		snprintf(db->message, sizeof(db->message), "the connection to "
			 "PostgreSQL was lost during the transaction: the "
			 "server rolled it back");
	}
	no_constraint(db);
	return RD_DB_ECONNECTION;
}

/*
 * After a command: whether the caller's transaction is open, as the
 * server says. On a connection lost meanwhile, the transaction stays open
 * for the caller to end, unless the command ended it: a COMMIT lost on
 * its way (the caller is told its outcome is unknown) or a ROLLBACK.
 */
static void track_transaction(rd_db *db, int ends, int failed)
{
	struct rd_db_pg *pg = db->pg;

	if (!lost(pg)) {
		pg->in_tx = PQtransactionStatus(pg->conn) != PQTRANS_IDLE;
		return;
	}
	if (ends == ENDS_COMMIT && failed && pg->in_tx)
		prefix_message(db, "the connection to PostgreSQL was lost "
			       "during COMMIT, so whether the transaction "
			       "was committed is unknown: ");
	if (ends != ENDS_NOTHING)
		pg->in_tx = 0;
}

/*
 * A ROLLBACK on a lost connection: nothing is left to roll back (the
 * server did as the connection closed), and the caller's transaction is
 * over. 1 when that is the case, and the ROLLBACK done.
 */
static int rolled_back_already(rd_db *db, int ends)
{
	if (ends != ENDS_ROLLBACK || !lost(db->pg))
		return 0;
	db->pg->in_tx = 0;
	return 1;
}

/* Append n bytes of s to out (of size), cut short, NUL-terminated. */
static void append(char *out, size_t size, size_t *len, const char *s,
		   size_t n)
{
	if (*len + 1 >= size)
		return;
	if (n > size - 1 - *len)
		n = size - 1 - *len;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = '\0';
}

/*
 * The URI with its passwords, if any, replaced by "***", for messages:
 * scheme://user:secret@host/db?password=secret&x=y. Whatever size is, out
 * is written within it.
 */
void rd_db__pg_redact(char *out, size_t size, const char *uri)
{
	const char *rest = strstr(uri, "://"), *at, *slash, *colon;
	const char *p = uri;
	size_t len = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	if (rest) {
		rest += 3;
		slash = strchr(rest, '/');
		at = strchr(rest, '@');
		if (at && (!slash || at < slash) &&
		    (colon = memchr(rest, ':', (size_t)(at - rest)))) {
			append(out, size, &len, uri, (size_t)(colon - uri) + 1);
			append(out, size, &len, "***", 3);
			p = at;
		}
	}
	/* the rest, each password given as a parameter hidden */
	while (*p) {
		const char *pw = strstr(p, "password=");

		if (!pw) {
			append(out, size, &len, p, strlen(p));
			break;
		}
		append(out, size, &len, p, (size_t)(pw - p) + 9);
		append(out, size, &len, "***", 3);
		p = pw + 9 + strcspn(pw + 9, "&");
	}
}

int rd_db__pg_open(rd_db **out, const char *uri, rd_error *err)
{
	/* the URI's own connect_timeout, after ours, wins */
	static const char *const keywords[] = { "connect_timeout", "dbname",
						NULL };
	const char *values[] = { CONNECT_TIMEOUT_S, uri, NULL };
	PQconninfoOption *parsed;
	char shown[512];
	char *why = NULL;
	rd_db *db;
	int rc;

	rd_db__pg_redact(shown, sizeof(shown), uri);
	/* a URI libpq cannot read is the caller's to fix, not to retry */
	if (!(parsed = PQconninfoParse(uri, &why))) {
		if (!why)
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		rc = rd_error_set(err, RD_EINVALID, "%s is not a PostgreSQL "
				  "URI libpq can read: %.*s", shown,
				  (int)strcspn(why, "\n"), why);
		PQfreemem(why);
		return rc;
	}
	PQconninfoFree(parsed);
	if (!(db = calloc(1, sizeof(*db))) ||
	    !(db->pg = calloc(1, sizeof(*db->pg)))) {
		free(db);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	db->engine = RD_DB_POSTGRES;
	db->pg->session = 1;
	db->pg->lock_timeout_ms = -1;
	db->pg->conn = PQconnectdbParams(keywords, values, 1);
	if (!db->pg->conn || PQstatus(db->pg->conn) != CONNECTION_OK) {
		keep_message(db, db->pg->conn ? PQerrorMessage(db->pg->conn)
					      : "out of memory");
		rc = rd_error_set(err, db->pg->conn ? RD_EUNAVAILABLE
						    : RD_ENOMEM,
				  "cannot connect to PostgreSQL at %s: %s",
				  shown, db->message);
		rd_db_close(db);
		return rc;
	}
	(void)PQsetNoticeReceiver(db->pg->conn, on_notice, db->pg);
	*out = db;
	return RD_OK;
}

void rd_db__pg_close(rd_db *db)
{
	if (db->pg)
		PQfinish(db->pg->conn);
	free(db->pg);
	free(db);
}

int rd_db__pg_exec(rd_db *db, const char *sql)
{
	int ends = statement_ends(sql);
	ExecStatusType status;
	PGresult *res;
	int rc;

	if (rolled_back_already(db, ends))
		return RD_DB_OK;
	if ((rc = connection_ready(db, ends)) != RD_DB_OK)
		return rc;
	res = PQexec(db->pg->conn, sql);
	status = PQresultStatus(res);
	if (!res)
		rc = result_code(db, NULL);
	else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		rc = result_code(db, res);
	else if (ends == ENDS_COMMIT && commit_rolled_back(db, res))
		rc = RD_DB_EIO;
	track_transaction(db, ends, rc != RD_DB_OK);
	PQclear(res);
	return rc;
}

static int readable_type(Oid type)
{
	switch (type) {
	case OID_BOOL: case OID_BYTEA: case OID_CHAR: case OID_NAME:
	case OID_INT8: case OID_INT2: case OID_INT4: case OID_TEXT:
	case OID_OID: case OID_JSON: case OID_UNKNOWN: case OID_BPCHAR:
	case OID_VARCHAR: case OID_VOID:
		return 1;
	default:
		return 0;
	}
}

/* Prepare p on the server, under its name, on the current connection. */
static int server_prepare(rd_db *db, struct rd_db_pg_stmt *p)
{
	PGresult *res = PQprepare(db->pg->conn, p->name, p->sql, 0, NULL);
	int rc = RD_DB_OK;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = result_code(db, res);
	else
		p->session = db->pg->session;
	PQclear(res);
	return rc;
}

int rd_db__pg_prepare(rd_db_stmt *stmt, const char *sql)
{
	rd_db *db = stmt->db;
	struct rd_db_pg_stmt *p;
	PGresult *res;
	int rc;

	if (!(p = calloc(1, sizeof(*p))))
		return RD_DB_ENOMEM;
	stmt->pg = p;
	p->row = -1;
	p->ends = statement_ends(sql);
	if (!(p->sql = strdup(sql)))
		return RD_DB_ENOMEM;
	snprintf(p->name, sizeof(p->name), "rd%lu", ++db->pg->next_name);
	if ((rc = connection_ready(db, ENDS_NOTHING)) != RD_DB_OK ||
	    (rc = server_prepare(db, p)) != RD_DB_OK)
		return rc;
	res = PQdescribePrepared(db->pg->conn, p->name);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = result_code(db, res);
		PQclear(res);
		return rc;
	}
	p->params = PQnparams(res);
	p->columns = PQnfields(res);
	if ((p->params > 0 &&
	     (!(p->values = calloc((size_t)p->params, sizeof(*p->values))) ||
	      !(p->lengths = calloc((size_t)p->params, sizeof(*p->lengths))) ||
	      !(p->formats = calloc((size_t)p->params, sizeof(*p->formats))) ||
	      !(p->numbers = calloc((size_t)p->params,
				    sizeof(*p->numbers))))) ||
	    (p->columns > 0 &&
	     (!(p->types = calloc((size_t)p->columns, sizeof(*p->types))) ||
	      !(p->names = calloc((size_t)p->columns,
				  sizeof(*p->names)))))) {
		PQclear(res);
		return RD_DB_ENOMEM;
	}
	for (int i = 0; i < p->columns && rc == RD_DB_OK; i++) {
		/* the description is freed below; the names outlive it */
		if (!(p->names[i] = strdup(PQfname(res, i)))) {
			rc = RD_DB_ENOMEM;
			break;
		}
		p->types[i] = PQftype(res, i);
		if (!readable_type(p->types[i])) {
			snprintf(db->message, sizeof(db->message),
				 "result column %d (%s) has the type of OID "
				 "%u, which the store does not read: cast it "
				 "to bigint, text or bytea", i + 1,
				 PQfname(res, i), (unsigned)p->types[i]);
			rc = RD_DB_EMISUSE;
		}
	}
	PQclear(res);
	return rc;
}

void rd_db__pg_finalize(rd_db_stmt *stmt)
{
	struct rd_db_pg_stmt *p = stmt->pg;
	char sql[64];

	if (!p)
		return;
	PQclear(p->result);
	/*
	 * The connection may be gone already, or be a new one the statement
	 * was never prepared on: nothing to deallocate then
	 */
	if (stmt->db->pg && p->session == stmt->db->pg->session &&
	    !lost(stmt->db->pg) &&
	    PQtransactionStatus(stmt->db->pg->conn) == PQTRANS_IDLE) {
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", p->name);
		PQclear(PQexec(stmt->db->pg->conn, sql));
	}
	free(p->sql);
	free(p->values);
	free(p->lengths);
	free(p->formats);
	free(p->numbers);
	free(p->types);
	for (int i = 0; p->names && i < p->columns; i++)
		free(p->names[i]);
	free(p->names);
	free(p);
	stmt->pg = NULL;
}

static int bind_index(rd_db_stmt *stmt, int i)
{
	if (i < 1 || i > stmt->pg->params || stmt->pg->result) {
		snprintf(stmt->db->message, sizeof(stmt->db->message),
			 i < 1 || i > stmt->pg->params
				 ? "parameter %d of %d does not exist"
				 : "parameter %d of %d bound while the "
				   "statement runs (reset it first)",
			 i, stmt->pg->params);
		return -1;
	}
	return i - 1;
}

int rd_db__pg_bind_int64(rd_db_stmt *stmt, int i, int64_t value)
{
	struct rd_db_pg_stmt *p = stmt->pg;
	int at = bind_index(stmt, i);

	if (at < 0)
		return RD_DB_EMISUSE;
	snprintf(p->numbers[at], sizeof(p->numbers[at]), "%lld",
		 (long long)value);
	p->values[at] = p->numbers[at];
	p->lengths[at] = 0;
	p->formats[at] = 0;
	return RD_DB_OK;
}

int rd_db__pg_bind(rd_db_stmt *stmt, int i, const void *value, size_t size,
		   int binary)
{
	struct rd_db_pg_stmt *p = stmt->pg;
	int at = bind_index(stmt, i);

	if (at < 0)
		return RD_DB_EMISUSE;
	if (size > 0x7fffffff) {
		snprintf(stmt->db->message, sizeof(stmt->db->message),
			 "parameter %d is %zu bytes, over the 2 GiB a "
			 "PostgreSQL parameter may hold", i, size);
		return RD_DB_EMISUSE;
	}
	p->values[at] = value;
	p->lengths[at] = (int)size;
	p->formats[at] = value ? binary : 0;
	return RD_DB_OK;
}

int rd_db__pg_step(rd_db_stmt *stmt)
{
	struct rd_db_pg_stmt *p = stmt->pg;
	rd_db *db = stmt->db;
	ExecStatusType status;

	if (!p->result) {
		int rc;

		if (rolled_back_already(db, p->ends)) {
			stmt->changes = 0;
			p->rows = 0;
			p->row = 0;
			return RD_DB_DONE;
		}
		/* on a new connection, the statement is prepared again */
		if ((rc = connection_ready(db, p->ends)) != RD_DB_OK ||
		    (p->session != db->pg->session &&
		     (rc = server_prepare(db, p)) != RD_DB_OK)) {
			track_transaction(db, p->ends, 1);
			return rc;
		}
		p->result = PQexecPrepared(db->pg->conn, p->name, p->params,
					   p->values, p->lengths, p->formats,
					   1);
		status = PQresultStatus(p->result);
		if (status == PGRES_COMMAND_OK &&
		    p->ends == ENDS_COMMIT &&
		    commit_rolled_back(db, p->result)) {
			track_transaction(db, p->ends, 1);
			PQclear(p->result);
			p->result = NULL;
			return RD_DB_EIO;
		}
		if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
			const char *tuples = PQcmdTuples(p->result);

			stmt->changes = *tuples ? strtoll(tuples, NULL, 10)
						: 0;
			p->rows = status == PGRES_TUPLES_OK
					  ? PQntuples(p->result)
					  : 0;
			p->row = -1;
		} else {
			rc = result_code(db, p->result);
			track_transaction(db, p->ends, 1);
			/* a failed run leaves nothing to read */
			PQclear(p->result);
			p->result = NULL;
			return rc;
		}
		track_transaction(db, p->ends, 0);
	}
	if (p->row + 1 < p->rows) {
		p->row++;
		return RD_DB_ROW;
	}
	p->row = p->rows;
	return RD_DB_DONE;
}

void rd_db__pg_reset(rd_db_stmt *stmt)
{
	struct rd_db_pg_stmt *p = stmt->pg;

	PQclear(p->result);
	p->result = NULL;
	p->row = -1;
	p->rows = 0;
	for (int i = 0; i < p->params; i++) {
		p->values[i] = NULL;
		p->lengths[i] = 0;
		p->formats[i] = 0;
	}
}

int rd_db__pg_column_count(const rd_db_stmt *stmt)
{
	return stmt->pg->columns;
}

/* 1 when column i of the current row can be read. */
static int readable(const struct rd_db_pg_stmt *p, int i)
{
	return p->result && p->row >= 0 && p->row < p->rows && i >= 0 &&
	       i < p->columns;
}

int rd_db__pg_column_is_null(const rd_db_stmt *stmt, int i)
{
	const struct rd_db_pg_stmt *p = stmt->pg;

	return !readable(p, i) || PQgetisnull(p->result, p->row, i);
}

const char *rd_db__pg_column_name(const rd_db_stmt *stmt, int i)
{
	const struct rd_db_pg_stmt *p = stmt->pg;

	return i >= 0 && i < p->columns ? p->names[i] : NULL;
}

rd_db_type rd_db__pg_column_type(const rd_db_stmt *stmt, int i)
{
	if (rd_db__pg_column_is_null(stmt, i))
		return RD_DB_TYPE_NULL;
	switch (stmt->pg->types[i]) {
	case OID_INT8: case OID_INT4: case OID_INT2: case OID_OID:
	case OID_BOOL:
		return RD_DB_TYPE_INTEGER;
	case OID_BYTEA:
		return RD_DB_TYPE_BLOB;
	default:
		return RD_DB_TYPE_TEXT;
	}
}

static uint64_t big_endian(const unsigned char *at, int bytes)
{
	uint64_t v = 0;

	for (int k = 0; k < bytes; k++)
		v = (v << 8) | at[k];
	return v;
}

int64_t rd_db__pg_column_int64(const rd_db_stmt *stmt, int i)
{
	const struct rd_db_pg_stmt *p = stmt->pg;
	const unsigned char *at;
	int len;

	if (rd_db__pg_column_is_null(stmt, i))
		return 0;
	at = (const unsigned char *)PQgetvalue(p->result, p->row, i);
	len = PQgetlength(p->result, p->row, i);
	switch (p->types[i]) {
	case OID_INT8:
		return len == 8 ? (int64_t)big_endian(at, 8) : 0;
	case OID_INT4:
	case OID_OID:
		return len == 4 ? (p->types[i] == OID_OID
					   ? (int64_t)big_endian(at, 4)
					   : (int64_t)(int32_t)big_endian(at,
									  4))
				: 0;
	case OID_INT2:
		return len == 2 ? (int64_t)(int16_t)big_endian(at, 2) : 0;
	case OID_BOOL:
	case OID_CHAR:
		return len == 1 ? (int64_t)at[0] : 0;
	default:
		/* text: its number, as SQLite reads a text column */
		return strtoll((const char *)at, NULL, 10);
	}
}

const void *rd_db__pg_column_bytes(const rd_db_stmt *stmt, int i,
				   size_t *size)
{
	const struct rd_db_pg_stmt *p = stmt->pg;

	if (size)
		*size = 0;
	if (rd_db__pg_column_is_null(stmt, i))
		return NULL;
	if (size)
		*size = (size_t)PQgetlength(p->result, p->row, i);
	/* libpq ends every value, binary ones too, with a zero byte */
	return PQgetvalue(p->result, p->row, i);
}

unsigned long rd_db__pg_session(const rd_db *db)
{
	return db->pg->session;
}

int rd_db__pg_lost(const rd_db *db)
{
	return lost(db->pg);
}

int rd_db__pg_in_transaction(const rd_db *db)
{
	/* a lost connection's transaction is the caller's until it ends it */
	if (lost(db->pg))
		return db->pg->in_tx;
	return PQtransactionStatus(db->pg->conn) != PQTRANS_IDLE;
}

int rd_db__pg_set_lock_timeout(rd_db *db, int ms)
{
	db->pg->lock_timeout_ms = ms > 0 ? ms : 0;
	/* on a lost connection, the next one gets it */
	if (lost(db->pg))
		return RD_DB_OK;
	return apply_lock_timeout(db);
}
