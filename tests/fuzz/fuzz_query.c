/*
 * Fuzz target: the query parameters of GET /v1/disputes (http_list_filter)
 * and of an evidence upload (http_upload_submission, with its
 * Content-Length), through an http_call built as the server builds one.
 *
 * Input: one byte of flags (bit 0: a storefront key; bit 1: a
 * Content-Length header given), then the query string, a newline, the
 * Content-Length value. The query is split at '&' and '=' the way
 * libmicrohttpd hands it over (already decoded; a NUL ends a value), at
 * most HTTP_MAX_QUERY kept and the rest flagged, as server.c does.
 *
 * Invariants: a refusal is one the API can answer (a problem document with
 * the status of its code, never a 500 for want of valid UTF-8 in a
 * parameter's name or value); an accepted list filter took only known
 * parameters, each once, its strings borrowed from the request, its limit
 * 1..500 or unset, its times after the epoch, and a storefront key sees
 * its own storefront only; its cursor is accepted by the store only in the
 * one form the store writes; an accepted submission has a kind and the
 * declared size, a whole number of bytes within the upload limit.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "store/store_int.h"

/* NOLINTNEXTLINE(readability-non-const-parameter): libFuzzer's signature */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static const char *const list_names[] = {
	"state", "reason", "storefront", "assignee", "overdue",
	"created_from", "created_to", "limit", "cursor", "awaiting_reply",
	"order_ref", "buyer_ref", "sku", "q", "updated_since",
};

#define LIST_NAME_COUNT (sizeof(list_names) / sizeof(list_names[0]))

static const char *const upload_names[] = {
	"kind", "channel", "captured_at", "note", "name",
};

static int known(const char *name, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* Known names, none twice, no overflow: needed for any acceptance. */
static int names_fit(const http_call *call, const char *const *names,
		     size_t count)
{
	if (call->query_overflow)
		return 0;
	for (size_t i = 0; i < call->query_count; i++) {
		if (!known(call->query[i].name, names, count))
			return 0;
		for (size_t j = 0; j < i; j++)
			if (strcmp(call->query[i].name,
				   call->query[j].name) == 0)
				return 0;
	}
	return 1;
}

/*
 * 1 when p points into one of the request's query values, or is NULL, or is
 * the key's own storefront or name (assignee=me).
 */
static int borrowed(const http_call *call, const char *p)
{
	if (!p || p == call->storefront || p == call->actor.name)
		return 1;
	for (size_t i = 0; i < call->query_count; i++)
		if (p == call->query[i].value)
			return 1;
	return 0;
}

/*
 * The cursor the store reads next: accepted only in the one form the
 * store writes for its key, so that it encodes back to itself.
 */
static void check_cursor(const char *cursor)
{
	char again[RD_STORE_CURSOR_BUFSZ], id[RD_ID_BUFSZ];
	int64_t key = 0, key2 = 0;
	rd_error err;
	int rc = rd_store__cursor_decode(cursor, &key, id, &err);

	if (rc < 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EINVALID &&
			   strcmp(err.field, "cursor") == 0);
		fuzz_check_problem(&err);
		return;
	}
	FUZZ_CHECK(rd_id_valid(id));
	rd_store__cursor_encode(again, key, id);
	FUZZ_CHECK(strcmp(again, cursor) == 0);
	/* and a key of any value survives the trip */
	rd_store__cursor_encode(again, ~key, id);
	FUZZ_CHECK(rd_store__cursor_decode(again, &key2, id, &err) == RD_OK);
	FUZZ_CHECK(key2 == ~key);
}

static void check_list(const http_call *call)
{
	rd_dispute_filter filter;
	rd_error err;
	int rc = http_list_filter(&filter, call, &err);

	if (rc < 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EINVALID || rc == RD_EFORBIDDEN);
		FUZZ_CHECK(rc != RD_EFORBIDDEN || call->storefront[0]);
		fuzz_check_problem(&err);
		return;
	}
	FUZZ_CHECK(names_fit(call, list_names, LIST_NAME_COUNT));
	FUZZ_CHECK(borrowed(call, filter.state) &&
		   borrowed(call, filter.reason) &&
		   borrowed(call, filter.storefront) &&
		   borrowed(call, filter.assignee) &&
		   borrowed(call, filter.cursor) &&
		   borrowed(call, filter.order_ref) &&
		   borrowed(call, filter.buyer_ref) &&
		   borrowed(call, filter.sku) &&
		   borrowed(call, filter.q));
	FUZZ_CHECK(filter.limit <= 500);
	FUZZ_CHECK(filter.created_from >= 0 && filter.created_to >= 0);
	FUZZ_CHECK(filter.now == call->now);
	if (call->storefront[0])
		FUZZ_CHECK(filter.storefront &&
			   strcmp(filter.storefront, call->storefront) == 0);
	if (filter.cursor)
		check_cursor(filter.cursor);
}

/* A Content-Length as the rule reads: digits only, within int64. */
static int reference_length(int64_t *out, const char *h)
{
	uint64_t v = 0;

	if (!h || !*h)
		return 0;
	for (; *h; h++) {
		if (*h < '0' || *h > '9')
			return 0;
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(*h - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*h - '0');
	}
	*out = (int64_t)v;
	return 1;
}

static void check_upload(const http_call *call)
{
	rd_evidence_submission sub;
	int64_t size = -1;
	rd_error err;
	int rc = http_upload_submission(&sub, call, &err);
	int length_ok = reference_length(&size, call->content_length);

	if (rc < 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == RD_EINVALID || rc == RD_EUSAGE ||
			   rc == RD_ETOOLARGE);
		fuzz_check_problem(&err);
		/* a good query and length is never refused */
		FUZZ_CHECK(!(rc == RD_EUSAGE && length_ok));
		return;
	}
	FUZZ_CHECK(names_fit(call, upload_names, 5));
	FUZZ_CHECK(sub.kind && sub.kind[0] && borrowed(call, sub.kind));
	FUZZ_CHECK(borrowed(call, sub.channel) && borrowed(call, sub.note) &&
		   borrowed(call, sub.original_name));
	FUZZ_CHECK(length_ok && sub.size == size);
	FUZZ_CHECK(sub.size >= 0 &&
		   (uint64_t)sub.size <= (uint64_t)HTTP_UPLOAD_BODY_LIMIT);
	FUZZ_CHECK(sub.captured_at >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_bytes in = { data, size };
	uint8_t flags = fuzz_u8(&in);
	char *query = fuzz_take_until(&in, '\n');
	char *length = fuzz_strndup(in.data, in.size);
	http_call call;
	char *p = query;

	memset(&call, 0, sizeof(call));
	call.now = INT64_C(1795404669);
	call.actor.role = RD_ROLE_AGENT;
	if (flags & 1) {
		call.actor.role = RD_ROLE_STOREFRONT;
		memcpy(call.storefront, "acme-eu", 8);
	}
	if (flags & 2)
		call.content_length = length;
	/* name=value&name=value, kept as server.c's collect_query keeps them */
	while (*p) {
		char *amp = strchr(p, '&');
		char *eq;

		if (amp)
			*amp = '\0';
		eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		if (call.query_count >= HTTP_MAX_QUERY) {
			call.query_overflow = 1;
		} else {
			call.query[call.query_count].name = p;
			call.query[call.query_count].value = eq ? eq + 1 : "";
			call.query_count++;
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	check_list(&call);
	check_upload(&call);
	free(query);
	free(length);
	return 0;
}
