/*
 * Listing disputes a page at a time, newest first, by keyset; or, for a
 * search, the most relevant first, by keyset on (rank, id).
 *
 * A page starts below the key (created_at, id) of the previous page's last
 * row, found by an index seek, so reading page 1000 costs what page 1 costs
 * (see the plans in statements.c). The cursor handed to clients is that key,
 * as base64url of "<created_at>.<id>"; it is opaque to them and must be
 * validated strictly here, never trusted. This file never builds SQL: the
 * filters are parameters of fixed statements.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define LIST_DEFAULT_LIMIT 50
#define LIST_MAX_LIMIT 500

/* Longest cursor: base64url of 20 digits, a dot and an id (47 bytes). */
#define CURSOR_RAW_MAX (20 + 1 + RD_ID_LEN)
#define CURSOR_BUFSZ RD_STORE_CURSOR_BUFSZ

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding of len bytes into out (CURSOR_BUFSZ). */
static void b64url_encode(char *out, const unsigned char *in, size_t len)
{
	size_t o = 0;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
			     in[i + 2];

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
}

/* Decode base64url without padding; -1 on any character outside it. */
static int b64url_decode(unsigned char *out, size_t room, size_t *outlen,
			 const char *in)
{
	size_t len = strlen(in);
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *p = strchr(b64url, in[i]);

		if (!p)
			return -1;
		acc = (acc << 6 | (unsigned)(p - b64url)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == room)
				return -1;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	*outlen = o;
	return 0;
}

void rd_store__cursor_encode(char out[CURSOR_BUFSZ], int64_t key,
			     const char *id)
{
	char raw[CURSOR_RAW_MAX + 1];
	int len = snprintf(raw, sizeof(raw), "%lld.%s", (long long)key, id);

	if (len < 0 || (size_t)len >= sizeof(raw))
		len = 0;  /* cannot happen for a valid id */
	b64url_encode(out, (const unsigned char *)raw, (size_t)len);
}

static int bad_cursor(rd_error *err, const char *why)
{
	return rd_error_set_field(err, RD_EINVALID, "cursor",
				  "cursor: %s; pass the next_cursor of the "
				  "previous page unchanged, or none for the "
				  "first page", why);
}

/*
 * Parse a cursor into its key. Strict: it must be exactly what
 * rd_store__cursor_encode would produce for that key.
 */
int rd_store__cursor_decode(const char *cursor, int64_t *key,
			    char id[RD_ID_BUFSZ], rd_error *err)
{
	unsigned char raw[CURSOR_RAW_MAX + 1];
	char canonical[CURSOR_BUFSZ];
	size_t len = 0;
	const char *dot;
	char *end = NULL;
	long long value;

	if (strlen(cursor) >= CURSOR_BUFSZ)
		return bad_cursor(err, "too long");
	if (b64url_decode(raw, CURSOR_RAW_MAX, &len, cursor) < 0)
		return bad_cursor(err, "not a cursor issued by this server");
	raw[len] = '\0';
	if (memchr(raw, '\0', len))
		return bad_cursor(err, "not a cursor issued by this server");
	dot = strchr((const char *)raw, '.');
	if (!dot || dot == (const char *)raw)
		return bad_cursor(err, "not a cursor issued by this server");
	if (!(raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')))
		return bad_cursor(err, "not a cursor issued by this server");
	errno = 0;
	value = strtoll((const char *)raw, &end, 10);
	if (errno != 0 || end != dot)
		return bad_cursor(err, "its time is not a number");
	if (!rd_id_valid(dot + 1))
		return bad_cursor(err, "its dispute id is malformed");
	rd_store__cursor_encode(canonical, (int64_t)value, dot + 1);
	if (strcmp(canonical, cursor) != 0)
		return bad_cursor(err, "not in canonical form");
	*key = (int64_t)value;
	memcpy(id, dot + 1, RD_ID_BUFSZ);
	return RD_OK;
}

/*
 * The statement walking the index that serves this filter best: an exact
 * reference first (a handful of disputes), the overdue ones (few, the
 * sweep sees to it), then the usually most selective equality.
 */
static int pick_statement(const rd_dispute_filter *f)
{
	if (f->awaiting_reply)
		return RD_STMT_LIST_AWAITING_REPLY;
	if (f->order_ref)
		return RD_STMT_LIST_BY_ORDER_REF;
	if (f->buyer_ref)
		return f->storefront ? RD_STMT_LIST_BY_BUYER
				     : RD_STMT_LIST_BY_BUYER_REF;
	if (f->sku)
		return RD_STMT_LIST_BY_SKU;
	if (f->overdue)
		return RD_STMT_LIST_OVERDUE;
	if (f->assignee)
		return RD_STMT_LIST_BY_ASSIGNEE;
	if (f->storefront)
		return RD_STMT_LIST_BY_STOREFRONT;
	if (f->state)
		return RD_STMT_LIST_BY_STATE;
	if (f->reason)
		return RD_STMT_LIST_BY_REASON;
	if (f->updated_since)
		return RD_STMT_LIST_UPDATED;
	return RD_STMT_LIST_ALL;
}

static int bad_q(rd_error *err, const char *why)
{
	return rd_error_set_field(err, RD_EINVALID, "q",
				  "q: %s; give 1 to %d words of at most %d "
				  "bytes in all, such as q=blue%%20kettle",
				  why, RD_SEARCH_MAX_WORDS, RD_SEARCH_MAX_BYTES);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\f' || c == '\v';
}

/*
 * The full-text query of q: each word (a run of non-space bytes) in double
 * quotes, its own quotes doubled, so that FTS5 reads it as a phrase of the
 * tokens it holds and never as query syntax (AND, OR, NOT, NEAR, *, ^,
 * column filters, parentheses); words side by side must all be present.
 * PostgreSQL's plainto_tsquery reads the same text as the same words. *out
 * is new (free()).
 */
static int search_query(char **out, const char *q, rd_error *err)
{
	size_t len = strlen(q);
	size_t words = 0;
	int has_word_char = 0;
	char *query;
	size_t o = 0;

	*out = NULL;
	if (len > RD_SEARCH_MAX_BYTES)
		return bad_q(err, "too long");
	/* at most: every byte a quote (doubled) plus two quotes and a space
	   per word */
	query = malloc(len * 2 + 3 * (len / 2 + 1) + 1);
	if (!query)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (size_t i = 0; i < len;) {
		if (is_space(q[i])) {
			i++;
			continue;
		}
		if (++words > RD_SEARCH_MAX_WORDS) {
			free(query);
			return bad_q(err, "too many words");
		}
		if (o)
			query[o++] = ' ';
		query[o++] = '"';
		for (; i < len && !is_space(q[i]); i++) {
			unsigned char c = (unsigned char)q[i];

			if (c >= 0x80 || (c >= '0' && c <= '9') ||
			    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
				has_word_char = 1;
			if (c == '"')
				query[o++] = '"';
			query[o++] = (char)c;
		}
		query[o++] = '"';
	}
	query[o] = '\0';
	if (!has_word_char) {
		free(query);
		return bad_q(err, words ? "it holds no letter or digit"
					: "it holds no word");
	}
	*out = query;
	return RD_OK;
}

/*
 * Bind what every list statement takes the same way: ?1 to ?4 the
 * filters, ?8 the rows to fetch (a page and one), ?9 the overdue time,
 * ?11 to ?14 the exact filters of schema 20; ?10 (created_at below) and
 * ?15 (the words) NULL, which the variants that use them bind again.
 */
static int bind_filters(rd_db_stmt *stmt, const rd_dispute_filter *f,
			size_t limit)
{
	int rc;

	rc = rd_store__bind_text(stmt, 1, f->state);
	rc |= rd_store__bind_text(stmt, 2, f->reason);
	rc |= rd_store__bind_text(stmt, 3, f->storefront);
	rc |= rd_store__bind_text(stmt, 4, f->assignee);
	rc |= rd_db_bind_int64(stmt, 8, (int64_t)limit + 1);
	if (f->overdue)
		rc |= rd_db_bind_int64(stmt, 9, f->now);
	else
		rc |= rd_db_bind_null(stmt, 9);
	rc |= rd_db_bind_null(stmt, 10);
	rc |= rd_store__bind_text(stmt, 11, f->order_ref);
	rc |= rd_store__bind_text(stmt, 12, f->buyer_ref);
	rc |= rd_store__bind_text(stmt, 13, f->sku);
	if (f->updated_since)
		rc |= rd_db_bind_int64(stmt, 14, f->updated_since);
	else
		rc |= rd_db_bind_null(stmt, 14);
	rc |= rd_db_bind_null(stmt, 15);
	return rc;
}

/* What orders a page, and so what its cursor holds. */
enum page_key { KEY_CREATED, KEY_REPLY_DUE, KEY_RANK };

/*
 * Run a bound list statement (bind_rc: its binding's result) and hand out
 * its page of at most `limit` disputes; the next page's cursor is the last
 * row's key, its reply due time when by_reply, else its creation time.
 */
static int read_page(rd_store *st, rd_db_stmt *stmt, int bind_rc,
		     size_t limit, enum page_key by, rd_dispute ***out,
		     size_t *count, char **next_cursor, rd_error *err)
{
	rd_dispute **page = NULL;
	char next[CURSOR_BUFSZ];
	size_t n = 0;
	int more = 0;
	int rc;
	int ret = RD_OK;

	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	page = calloc(limit, sizeof(*page));
	if (!page)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (rc = rd_store__step(st, stmt, bind_rc); rc == RD_DB_ROW;
	     rc = rd_db_step(stmt)) {
		if (n == limit) {
			more = 1;  /* the extra row fetched: another page */
			break;
		}
		if ((ret = rd_store__dispute_from_row(st, stmt, &page[n],
						      err)) < 0)
			goto done;
		if (by == KEY_RANK)
			page[n]->search_rank =
				rd_db_column_int64(stmt, RD_COL_SEARCH_RANK);
		n++;
	}
	if (rc != RD_DB_ROW && rc != RD_DB_DONE) {
		ret = rd_store__fail(st, rc, err, "cannot list disputes");
		goto done;
	}
	if (more) {
		const rd_dispute *last = page[n - 1];

		rd_store__cursor_encode(next,
					by == KEY_REPLY_DUE ? last->reply_due_at
					: by == KEY_RANK    ? last->search_rank
							    : last->created_at,
					last->id);
		if ((*next_cursor = strdup(next)) == NULL) {
			ret = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	}
	*out = page;
	*count = n;
	page = NULL;
done:
	rd_dispute_list_free(page, n);
	return ret;
}

/*
 * The disputes awaiting a reply, the soonest due first: the page starts
 * above the key (reply due time, id) of the previous page's last row.
 */
static int list_awaiting_reply(rd_store *st, const rd_dispute_filter *f,
			       size_t limit, rd_dispute ***out, size_t *count,
			       char **next_cursor, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int64_t after_at = INT64_MIN;
	char after_id[RD_ID_BUFSZ] = "";
	int rc;
	int ret;

	if (f->cursor && (ret = rd_store__cursor_decode(f->cursor, &after_at,
							after_id, err)) < 0)
		return ret;
	if ((ret = rd_store__stmt(st, RD_STMT_LIST_AWAITING_REPLY, &stmt,
				  err)) < 0)
		return ret;
	rc = bind_filters(stmt, f, limit);
	rc |= rd_db_bind_int64(stmt, 5, f->created_from ? f->created_from :
							  INT64_MIN);
	rc |= rd_db_bind_int64(stmt, 6, after_at);
	rc |= rd_store__bind_text(stmt, 7, after_id);
	rc |= rd_db_bind_int64(stmt, 10, f->created_to ? f->created_to :
							 INT64_MAX);
	ret = read_page(st, stmt, rc, limit, KEY_REPLY_DUE, out, count,
			next_cursor, err);
	rd_store__release(stmt);
	return ret;
}

/*
 * The disputes whose text holds the words of f->q, the most relevant
 * first: the page starts below the key (rank, id) of the previous page's
 * last row. A rank is computed when the page is read, from what the index
 * holds then: a dispute whose text, or the rest of the index, changed
 * between two pages may rank otherwise on the next, and so be missed or
 * shown twice, as with any ordering by a value that changes.
 */
static int list_search(rd_store *st, const rd_dispute_filter *f,
		       size_t limit, rd_dispute ***out, size_t *count,
		       char **next_cursor, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	char *query = NULL;
	int64_t below_rank = INT64_MAX;
	char below_id[RD_ID_BUFSZ] = "~";  /* sorts after every id */
	int rc;
	int ret;

	if (f->awaiting_reply)
		return rd_error_set_field(err, RD_EINVALID, "q",
					  "q: the disputes awaiting a reply "
					  "are listed by due time, not "
					  "searched; drop q or awaiting_reply");
	if ((ret = search_query(&query, f->q, err)) < 0)
		return ret;
	if (f->cursor && (ret = rd_store__cursor_decode(f->cursor, &below_rank,
							below_id, err)) < 0)
		goto done;
	if ((ret = rd_store__stmt(st, RD_STMT_LIST_SEARCH, &stmt, err)) < 0)
		goto done;
	rc = bind_filters(stmt, f, limit);
	rc |= rd_db_bind_int64(stmt, 5, f->created_from ? f->created_from :
							  INT64_MIN);
	rc |= rd_db_bind_int64(stmt, 6, below_rank);
	rc |= rd_store__bind_text(stmt, 7, below_id);
	rc |= rd_db_bind_int64(stmt, 10, f->created_to ? f->created_to :
							 INT64_MAX);
	rc |= rd_store__bind_text(stmt, 15, query);
	ret = read_page(st, stmt, rc, limit, KEY_RANK, out, count,
			next_cursor, err);
	rd_store__release(stmt);
done:
	free(query);
	return ret;
}

int rd_store_dispute_list(rd_store *st, const rd_dispute_filter *filter,
			  rd_dispute ***out, size_t *count, char **next_cursor,
			  rd_error *err)
{
	static const rd_dispute_filter no_filter;
	const rd_dispute_filter *f = filter ? filter : &no_filter;
	rd_db_stmt *stmt = NULL;
	size_t limit;
	int64_t low = INT64_MIN;
	int64_t high_at = INT64_MAX;
	const char *high_id = "~";  /* sorts after every id */
	int64_t cursor_at = 0;
	char cursor_id[RD_ID_BUFSZ];
	int rc;
	int ret;

	*out = NULL;
	*count = 0;
	*next_cursor = NULL;
	limit = f->limit ? f->limit : LIST_DEFAULT_LIMIT;
	if (limit > LIST_MAX_LIMIT)
		return rd_error_set_field(err, RD_EINVALID, "limit",
					  "limit: must be from 1 to %d, got "
					  "%zu", LIST_MAX_LIMIT, f->limit);
	if (f->q)
		return list_search(st, f, limit, out, count, next_cursor, err);
	if (f->awaiting_reply)
		return list_awaiting_reply(st, f, limit, out, count,
					   next_cursor, err);
	if (f->created_from)
		low = f->created_from;
	if (f->created_to) {
		high_at = f->created_to;
		high_id = "";  /* (created_to, "") excludes created_to */
	}
	if (f->cursor) {
		if ((ret = rd_store__cursor_decode(f->cursor, &cursor_at,
						   cursor_id, err)) < 0)
			return ret;
		if (cursor_at < high_at ||
		    (cursor_at == high_at && strcmp(cursor_id, high_id) < 0)) {
			high_at = cursor_at;
			high_id = cursor_id;
		}
	}
	if ((ret = rd_store__stmt(st, pick_statement(f), &stmt, err)) < 0)
		return ret;
	rc = bind_filters(stmt, f, limit);
	rc |= rd_db_bind_int64(stmt, 5, low);
	rc |= rd_db_bind_int64(stmt, 6, high_at);
	rc |= rd_store__bind_text(stmt, 7, high_id);
	ret = read_page(st, stmt, rc, limit, KEY_CREATED, out, count,
			next_cursor, err);
	rd_store__release(stmt);
	return ret;
}
