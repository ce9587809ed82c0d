/*
 * A deterministic text dump of the whole database, for tests and crash
 * checks: two dumps are equal exactly when every table holds the same rows.
 *
 * Tables come in a fixed order, rows sorted by primary key, one line per
 * row, text escaped so that no value can fake a line or a column break.
 * The dump only reads; it must never change the database.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

static const struct {
	int stmt;
	const char *table;
} dump_tables[] = {
	{ RD_STMT_DUMP_WORKFLOWS, "workflows" },
	{ RD_STMT_DUMP_DISPUTES, "disputes" },
	{ RD_STMT_DUMP_ITEMS, "items" },
	{ RD_STMT_DUMP_EVENTS, "events" },
	{ RD_STMT_DUMP_DEADLINES, "deadlines" },
	{ RD_STMT_DUMP_EVIDENCE, "evidence" },
	{ RD_STMT_DUMP_OFFERS, "offers" },
	{ RD_STMT_DUMP_API_KEYS, "api_keys" },
	{ RD_STMT_DUMP_IDEMPOTENCY, "idempotency" },
	{ RD_STMT_DUMP_QUOTAS, "storefront_quotas" },
	{ RD_STMT_DUMP_USAGE, "evidence_usage" },
	{ RD_STMT_DUMP_MESSAGES, "messages" },
	{ RD_STMT_DUMP_REPLIES, "reply_deadlines" },
};

/* A growing string; `failed` sticks once an allocation failed. */
typedef struct text_buf {
	char *data;
	size_t len;
	size_t room;
	int failed;
} text_buf;

static void buf_add(text_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->room) {
		size_t grown = b->room ? b->room : 4096;
		char *more;

		while (grown < b->len + n + 1)
			grown *= 2;
		more = realloc(b->data, grown);
		if (!more) {
			b->failed = 1;
			return;
		}
		b->data = more;
		b->room = grown;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_addf(text_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void buf_addf(text_buf *b, const char *fmt, ...)
{
	char piece[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(piece)) {
		b->failed = 1;
		return;
	}
	buf_add(b, piece, (size_t)n);
}

/* Text between double quotes; \, " and control bytes escaped. */
static void buf_add_quoted(text_buf *b, const unsigned char *s, size_t n)
{
	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '\\' || c == '"') {
			char esc[2] = { '\\', (char)c };

			buf_add(b, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			buf_addf(b, "\\x%02x", c);
		} else {
			buf_add(b, (const char *)&s[i], 1);
		}
	}
	buf_add(b, "\"", 1);
}

static void dump_value(text_buf *b, rd_db_stmt *stmt, int col)
{
	/* the type first: SQLite retypes a value a reader converted */
	switch (rd_db_column_type(stmt, col)) {
	case RD_DB_TYPE_NULL:
		buf_add(b, "NULL", 4);
		break;
	case RD_DB_TYPE_INTEGER:
		buf_addf(b, "%lld",
			 (long long)rd_db_column_int64(stmt, col));
		break;
	case RD_DB_TYPE_BLOB: {
		const unsigned char *p = rd_db_column_blob(stmt, col);
		size_t n = rd_db_column_bytes(stmt, col);

		buf_add(b, "x'", 2);
		for (size_t i = 0; i < n; i++)
			buf_addf(b, "%02x", p[i]);
		buf_add(b, "'", 1);
		break;
	}
	default: /* TEXT; STRICT tables hold no REAL in this schema */
		buf_add_quoted(b, (const unsigned char *)
				  rd_db_column_text(stmt, col),
			       rd_db_column_bytes(stmt, col));
		break;
	}
}

static int dump_table(rd_store *st, int id, const char *table, text_buf *b,
		      rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int rc;
	int ret;

	if ((ret = rd_store__stmt(st, id, &stmt, err)) < 0)
		return ret;
	buf_addf(b, "[%s]\n", table);
	for (rc = rd_db_step(stmt); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		int columns = rd_db_column_count(stmt);

		for (int col = 0; col < columns; col++) {
			const char *name = rd_db_column_name(stmt, col);

			buf_add(b, col ? " " : "", col ? 1 : 0);
			buf_add(b, name, strlen(name));
			buf_add(b, "=", 1);
			dump_value(b, stmt, col);
		}
		buf_add(b, "\n", 1);
	}
	if (rc != RD_DB_DONE)
		ret = rd_store__fail(st, rc, err, "cannot dump table %s",
				     table);
	rd_store__release(stmt);
	return ret;
}

int rd_store_dump(rd_store *st, char **out, rd_error *err)
{
	text_buf b = { NULL, 0, 0, 0 };
	rd_db_stmt *stmt = NULL;
	int own_tx = 0;
	int version = 0;
	int ret;

	*out = NULL;
	/* one read transaction, so the dump is one consistent snapshot */
	if (!rd_db_in_transaction(st->db)) {
		if ((ret = rd_store__stmt(st, RD_STMT_BEGIN_READ, &stmt,
					  err)) < 0)
			goto done;
		ret = rd_db_step(stmt);
		if (ret != RD_DB_DONE) {
			ret = rd_store__fail(st, ret, err, "cannot dump %s",
					     st->path);
			goto done;
		}
		rd_store__release(stmt);
		stmt = NULL;
		own_tx = 1;
	}
	if ((ret = rd_store_schema_version(st, &version, err)) < 0)
		goto done;
	buf_addf(&b, "schema %d\n", version);
	for (size_t i = 0; i < sizeof(dump_tables) / sizeof(dump_tables[0]);
	     i++) {
		int min_schema = 0;

		rd_store__stmt_sql(dump_tables[i].stmt, &min_schema);
		if (min_schema > st->schema)
			continue;
		if ((ret = dump_table(st, dump_tables[i].stmt,
				      dump_tables[i].table, &b, err)) < 0)
			goto done;
	}
	if (b.failed) {
		ret = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	*out = b.data;
	b.data = NULL;
	ret = RD_OK;
done:
	rd_store__release(stmt);
	if (own_tx)
		rd_store_rollback(st);  /* nothing was written */
	free(b.data);
	return ret;
}
