/*
 * The route table and the problem documents: a path with the right method
 * finds its route and its {id}; the same path with another method is a
 * 405 listing the methods it takes; anything else is a 404; problems carry
 * the status and type of the error table, with field and guard.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"
#include "redress/clock.h"
#include "test.h"

static void finds_routes_and_params(void)
{
	http_match m;

	CHECK_INT(http_route_find(&m, "GET", "/healthz"), 1);
	CHECK(m.route != NULL);
	CHECK_INT((int)m.route->roles, 0);
	/* readiness: public too, but it reads the record */
	CHECK_INT(http_route_find(&m, "GET", "/readyz"), 1);
	CHECK_INT((int)m.route->roles, (int)HTTP_PUBLIC_RECORD);
	CHECK(!(m.route->roles & HTTP_ANY_ROLE));

	CHECK_INT(http_route_find(&m, "GET", "/v1/disputes/01ABC"), 1);
	CHECK_STR(m.route->pattern, "/v1/disputes/{id}");
	CHECK_STR(m.params[0], "01ABC");
	CHECK(m.route->roles & HTTP_ROLE(RD_ROLE_AUDITOR));

	CHECK_INT(http_route_find(&m, "POST", "/v1/disputes/XYZ/events"), 1);
	CHECK_STR(m.route->pattern, "/v1/disputes/{id}/events");
	CHECK_STR(m.params[0], "XYZ");
	CHECK(!(m.route->roles & HTTP_ROLE(RD_ROLE_AUDITOR)));
	CHECK(m.route->roles & HTTP_ROLE(RD_ROLE_STOREFRONT));
	CHECK_INT((int)m.route->body_limit, HTTP_JSON_BODY_LIMIT);

	CHECK_INT(http_route_find(&m, "POST", "/v1/disputes"), 1);
	CHECK_STR(m.route->pattern, "/v1/disputes");
	CHECK(!(m.route->roles & HTTP_ROLE(RD_ROLE_AUDITOR)));
}

static void wrong_method_lists_allowed(void)
{
	http_match m;

	CHECK_INT(http_route_find(&m, "DELETE", "/v1/workflows"), 0);
	CHECK(m.route == NULL);
	CHECK_STR(m.allow, "GET");

	CHECK_INT(http_route_find(&m, "PUT", "/v1/disputes"), 0);
	CHECK_STR(m.allow, "GET, POST");

	CHECK_INT(http_route_find(&m, "DELETE", "/v1/disputes/X/offers"), 0);
	CHECK_STR(m.allow, "GET");
	CHECK_INT(http_route_find(&m, "POST", "/v1/disputes/X/verify"), 0);
	CHECK_STR(m.allow, "GET");

	CHECK_INT(http_route_find(&m, "GET", "/v1/disputes/X/events"), 0);
	CHECK_STR(m.allow, "POST");
}

static void read_routes_take_any_role(void)
{
	static const char *const tails[] = {
		"offers", "history", "verify", "evidence",
	};
	char path[128], pattern[128];
	http_match m;

	CHECK_INT(http_route_find(&m, "GET", "/v1/disputes"), 1);
	CHECK_STR(m.route->pattern, "/v1/disputes");
	CHECK_INT((int)m.route->roles, (int)HTTP_ANY_ROLE);
	CHECK_INT((int)m.route->body_limit, 0);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(path, sizeof(path), "/v1/disputes/D%zu/%s", i,
			 tails[i]);
		snprintf(pattern, sizeof(pattern), "/v1/disputes/{id}/%s",
			 tails[i]);
		CHECK_INT(http_route_find(&m, "GET", path), 1);
		CHECK_STR(m.route->pattern, pattern);
		snprintf(path, sizeof(path), "D%zu", i);
		CHECK_STR(m.params[0], path);
		CHECK_INT((int)m.route->roles, (int)HTTP_ANY_ROLE);
		CHECK_INT((int)m.route->body_limit, 0);
	}
}

/* A call whose query is the given name/value pairs (NULL-terminated). */
static void set_query(http_call *call, const char *const *pairs)
{
	memset(call, 0, sizeof(*call));
	call->now = 1772442000;
	for (size_t i = 0; pairs[i]; i += 2) {
		call->query[call->query_count].name = pairs[i];
		call->query[call->query_count].value = pairs[i + 1];
		call->query_count++;
	}
}

static void list_filter_reads_every_parameter(void)
{
	static const char *const q[] = {
		"state", "investigating", "reason", "not_received",
		"storefront", "acme-eu", "assignee", "alice",
		"overdue", "true", "created_from", "2026-03-01T00:00:00Z",
		"created_to", "2026-03-02T00:00:00Z", "limit", "500",
		"cursor", "abc", NULL,
	};
	rd_dispute_filter f;
	http_call call;
	rd_error err;

	set_query(&call, q);
	rd_error_clear(&err);
	CHECK_OK(http_list_filter(&f, &call, &err), &err);
	CHECK_STR(f.state, "investigating");
	CHECK_STR(f.reason, "not_received");
	CHECK_STR(f.storefront, "acme-eu");
	CHECK_STR(f.assignee, "alice");
	CHECK_INT(f.overdue, 1);
	CHECK(f.created_from == 1772323200);
	CHECK(f.created_to == 1772409600);
	CHECK_INT((int)f.limit, 500);
	CHECK_STR(f.cursor, "abc");
	CHECK(f.now == 1772442000);

	set_query(&call, (const char *const[]){ NULL });
	CHECK_OK(http_list_filter(&f, &call, &err), &err);
	CHECK(f.state == NULL && f.storefront == NULL && f.cursor == NULL);
	CHECK_INT((int)f.limit, 0);
	CHECK_INT(f.overdue, 0);
}

static void list_filter_refuses_bad_parameters(void)
{
	static const char *const bad[][3] = {
		{ "limit", "0", "limit" }, { "limit", "501", "limit" },
		{ "limit", "-1", "limit" }, { "limit", "5x", "limit" },
		{ "limit", "", "limit" }, { "overdue", "yes", "overdue" },
		{ "overdue", "", "overdue" },
		{ "created_from", "yesterday", "created_from" },
		{ "created_to", "2026-13-01T00:00:00Z", "created_to" },
		{ "state", "", "state" }, { "colour", "red", "colour" },
	};
	rd_dispute_filter f;
	http_call call;
	rd_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *q[] = { bad[i][0], bad[i][1], NULL };

		set_query(&call, q);
		rd_error_clear(&err);
		CHECK_FAILS(http_list_filter(&f, &call, &err), RD_EINVALID);
		CHECK_STR(err.field, bad[i][2]);
	}

	{
		const char *q[] = { "state", "a", "state", "b", NULL };

		set_query(&call, q);
		rd_error_clear(&err);
		CHECK_FAILS(http_list_filter(&f, &call, &err), RD_EINVALID);
		CHECK_STR(err.field, "state");
		CHECK_HAS(err.message, "more than once");
	}
	set_query(&call, (const char *const[]){ NULL });
	call.query_overflow = 1;
	CHECK_FAILS(http_list_filter(&f, &call, &err), RD_EINVALID);
	/* a parameter the server found not to be text (a decoded %00...) */
	set_query(&call, (const char *const[]){ "state", "a", NULL });
	call.query_unclean = "state";
	CHECK_FAILS(http_list_filter(&f, &call, &err), RD_EINVALID);
	CHECK_STR(err.field, "state");
	CHECK_HAS(err.message, "not UTF-8 text");
}

static void list_filter_scopes_a_storefront_key(void)
{
	rd_dispute_filter f;
	http_call call;
	rd_error err;

	set_query(&call, (const char *const[]){ NULL });
	snprintf(call.storefront, sizeof(call.storefront), "acme-eu");
	rd_error_clear(&err);
	CHECK_OK(http_list_filter(&f, &call, &err), &err);
	CHECK_STR(f.storefront, "acme-eu");

	set_query(&call, (const char *const[]){ "storefront", "acme-eu",
						NULL });
	snprintf(call.storefront, sizeof(call.storefront), "acme-eu");
	CHECK_OK(http_list_filter(&f, &call, &err), &err);
	CHECK_STR(f.storefront, "acme-eu");

	set_query(&call, (const char *const[]){ "storefront", "other-shop",
						NULL });
	snprintf(call.storefront, sizeof(call.storefront), "acme-eu");
	CHECK_FAILS(http_list_filter(&f, &call, &err), RD_EFORBIDDEN);
	CHECK_STR(err.field, "storefront");
}

static void unknown_paths_match_nothing(void)
{
	static const char *paths[] = {
		"//", "", "/v1", "/v1/disputes/", "/v1/disputes//events",
		"/openapi.yml", "/openapi.yaml/", "/v1/openapi.yaml",
		"/healthz/", "/v1/workflows/x", "/v1/disputes/a/b",
		"/v1/disputes/X/events/1", "v1/workflows", "/HEALTHZ",
	};
	http_match m;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		CHECK_INT(http_route_find(&m, "GET", paths[i]), 0);
		CHECK_STR(m.allow, "");
	}
}

static void overlong_param_matches_nothing(void)
{
	char path[200];
	http_match m;

	memset(path, 0, sizeof(path));
	memcpy(path, "/v1/disputes/", 13);
	memset(path + 13, 'A', HTTP_PARAM_MAX + 1);
	CHECK_INT(http_route_find(&m, "GET", path), 0);
	path[13 + HTTP_PARAM_MAX] = '\0';
	CHECK_INT(http_route_find(&m, "GET", path), 1);
	CHECK_INT((int)strlen(m.params[0]), HTTP_PARAM_MAX);
}

static void buyer_ref_spans_segments(void)
{
	char path[HTTP_SPAN_PARAM_MAX + 64];
	char ref[HTTP_SPAN_PARAM_MAX + 2];
	http_match m;

	/* the rest of the path up to the final /disputes, '/' included */
	CHECK_INT(http_route_find(&m, "GET", "/v1/buyers/a/b/disputes"), 1);
	CHECK_STR(m.route->pattern, "/v1/buyers/{buyer_ref}/disputes");
	CHECK_STR(m.params[0], "a/b");
	CHECK_INT(http_route_find(&m, "GET",
				  "/v1/buyers/x/disputes/disputes"), 1);
	CHECK_STR(m.params[0], "x/disputes");
	CHECK_INT(http_route_find(&m, "GET", "/v1/buyers//x//disputes"), 1);
	CHECK_STR(m.params[0], "/x/");
	CHECK_INT(http_route_find(&m, "POST", "/v1/buyers/a/b/disputes"), 0);
	CHECK_STR(m.allow, "GET");
	CHECK_INT(http_route_find(&m, "GET", "/v1/buyers//disputes"), 0);
	CHECK_STR(m.allow, "");
	CHECK_INT(http_route_find(&m, "GET", "/v1/buyers/a/b"), 0);
	CHECK_INT(http_route_find(&m, "GET", "/v1/buyers/a/disputes/"), 0);
	CHECK_INT(http_route_find(&m, "GET", "/v1/buyers/disputes"), 0);

	/* up to HTTP_SPAN_PARAM_MAX bytes; the handler judges its own limit */
	memset(ref, 'b', sizeof(ref) - 1);
	ref[HTTP_SPAN_PARAM_MAX] = '\0';
	snprintf(path, sizeof(path), "/v1/buyers/%s/disputes", ref);
	CHECK_INT(http_route_find(&m, "GET", path), 1);
	CHECK_INT((int)strlen(m.params[0]), HTTP_SPAN_PARAM_MAX);
	ref[HTTP_SPAN_PARAM_MAX] = 'b';
	ref[HTTP_SPAN_PARAM_MAX + 1] = '\0';
	snprintf(path, sizeof(path), "/v1/buyers/%s/disputes", ref);
	CHECK_INT(http_route_find(&m, "GET", path), 0);

	/* other parameters still end at '/' */
	CHECK(http_pattern_spans("{buyer_ref}", 11));
	CHECK(!http_pattern_spans("{id}", 4));
	CHECK_INT(http_route_find(&m, "GET", "/v1/disputes/a/b/events"), 0);
}

static void problems_follow_the_error_table(void)
{
	unsigned status = 0;
	rd_error err;
	json_t *doc;

	rd_error_set_guard(&err, RD_EGUARD, "offer_id", "needs an offer");
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_INT((int)status, 409);
	CHECK_STR(json_string_value(json_object_get(doc, "type")),
		  "https://redress.dev/problems/guard");
	CHECK_INT((int)json_integer_value(json_object_get(doc, "status")), 409);
	CHECK_STR(json_string_value(json_object_get(doc, "detail")),
		  "needs an offer");
	CHECK_STR(json_string_value(json_object_get(doc, "guard")), "offer_id");
	CHECK(json_object_get(doc, "field") == NULL);
	json_decref(doc);

	rd_error_set_field(&err, RD_EINVALID, "items[0].quantity", "bad");
	doc = http_problem(&err, 0, &status);
	CHECK_INT((int)status, 422);
	CHECK_STR(json_string_value(json_object_get(doc, "field")),
		  "items[0].quantity");
	CHECK(json_object_get(doc, "guard") == NULL);
	json_decref(doc);

	doc = http_problem(&err, 1, &status);
	CHECK_INT((int)status, 400);
	CHECK_STR(json_string_value(json_object_get(doc, "type")),
		  "https://redress.dev/problems/malformed");
	json_decref(doc);

	rd_error_set(&err, RD_ESTALE, "stale");
	doc = http_problem(&err, 0, &status);
	CHECK_INT((int)status, 412);
	json_decref(doc);
}

/*
 * A quota refusal is 507 quota_exceeded with which quota, its limit and
 * the bytes left; another error made with the same rd_error afterwards
 * carries none of them.
 */
static void quota_problem_says_what_is_left(void)
{
	unsigned status = 0;
	rd_error err;
	json_t *doc;

	rd_error_set_quota(&err, "daily", 102400, 42400, "no room");
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_INT((int)status, 507);
	CHECK_STR(json_string_value(json_object_get(doc, "type")),
		  "https://redress.dev/problems/quota_exceeded");
	CHECK_STR(json_string_value(json_object_get(doc, "title")),
		  "Storage quota exceeded");
	CHECK_STR(json_string_value(json_object_get(doc, "quota")), "daily");
	CHECK_INT(json_integer_value(json_object_get(doc, "limit")), 102400);
	CHECK_INT(json_integer_value(json_object_get(doc, "remaining")),
		  42400);
	json_decref(doc);
	CHECK_INT(rd_code_info_get(RD_EQUOTA)->exit_code, 10);

	rd_error_set(&err, RD_ETOOLARGE, "too large");
	doc = http_problem(&err, 0, &status);
	CHECK_INT((int)status, 413);
	CHECK(json_object_get(doc, "quota") == NULL);
	CHECK(json_object_get(doc, "remaining") == NULL);
	json_decref(doc);
}

/*
 * What a retry may cure is 503 with the seconds to wait: a database busy
 * past its timeout (1 s) or out of this node's reach (2 s, its own type
 * and exit status); nothing else has a Retry-After.
 */
static void retryable_problems_say_when(void)
{
	unsigned status = 0;
	rd_error err;
	json_t *doc;

	uint64_t before = rd_http_unavailable(NULL);
	rd_error last;

	rd_error_set(&err, RD_EUNAVAILABLE, "cannot start a transaction: the "
		     "database cannot be reached (connection to server at "
		     "\"10.0.0.5\", port 5432 failed: Connection refused)");
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_INT((int)status, 503);
	CHECK_STR(json_string_value(json_object_get(doc, "type")),
		  "https://redress.dev/problems/database_unavailable");
	CHECK_STR(json_string_value(json_object_get(doc, "title")),
		  "Database unavailable");
	/* the client is not told where the database is; the operator is */
	CHECK_HAS(json_string_value(json_object_get(doc, "detail")),
		  "the database cannot be reached, so nothing of this request "
		  "was recorded");
	CHECK(strstr(json_string_value(json_object_get(doc, "detail")),
		     "10.0.0.5") == NULL);
	CHECK(strstr(json_string_value(json_object_get(doc, "detail")),
		     "5432") == NULL);
	CHECK_INT(rd_http_unavailable(&last), before + 1);
	CHECK_HAS(last.message, "\"10.0.0.5\", port 5432 failed");
	json_decref(doc);
	/* a commit cut off: the client is told its outcome is unknown */
	rd_error_set(&err, RD_EUNAVAILABLE, "cannot commit: the database "
		     "cannot be reached (the connection to PostgreSQL was lost "
		     "during COMMIT, so whether the transaction was committed "
		     "is unknown: server closed the connection)");
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_HAS(json_string_value(json_object_get(doc, "detail")),
		  "whether it was recorded is unknown");
	CHECK_INT(rd_http_unavailable(NULL), before + 2);
	json_decref(doc);
	CHECK_INT(rd_code_info_get(RD_EUNAVAILABLE)->retry_after_s, 2);
	CHECK_INT(rd_code_info_get(RD_EUNAVAILABLE)->exit_code, 11);
	CHECK_INT(rd_code_info_get(RD_EBUSY)->http_status, 503);
	CHECK_INT(rd_code_info_get(RD_EBUSY)->retry_after_s, 1);
	for (int code = 0; code > -RD_CODE_COUNT; code--) {
		const rd_code_info *info = rd_code_info_get(code);

		CHECK_INT(info->code, code);
		if (code != RD_EBUSY && code != RD_EUNAVAILABLE)
			CHECK_INT(info->retry_after_s, 0);
	}
}

/*
 * A message or field that quotes what a client sent (bytes that are not
 * UTF-8, control characters) still makes a problem document: those bytes
 * become '?', valid UTF-8 is kept.
 */
static void problems_take_any_bytes(void)
{
	unsigned status = 0;
	rd_error err;
	json_t *doc;

	rd_error_set_field(&err, RD_EINVALID, "\xff\xfe",
			   "unknown query parameter \"\xff\xfe\", "
			   "not \"caf\xc3\xa9\" \xc3(\x01\xe2\x82");
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_INT((int)status, 422);
	CHECK_STR(json_string_value(json_object_get(doc, "detail")),
		  "unknown query parameter \"??\", not \"caf\xc3\xa9\" ?(???");
	CHECK_STR(json_string_value(json_object_get(doc, "field")), "??");
	json_decref(doc);

	rd_error_set(&err, RD_ENOTFOUND, "no dispute with id \xc0\xaf");
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_INT((int)status, 404);
	CHECK_STR(json_string_value(json_object_get(doc, "detail")),
		  "no dispute with id ??");
	json_decref(doc);
}

/*
 * A message quoting what a client sent need not be UTF-8: an unknown query
 * parameter "%FF" reaches the handler as the byte 0xff, and is named in
 * both the detail and the field. The problem is still written (a 422, not
 * a 500 for want of memory), the bad bytes shown as '?'. Found by
 * tests/fuzz/fuzz_query.c.
 */
static void problems_survive_bytes_that_are_not_utf8(void)
{
	const http_query_arg args[] = { { "\xff\xc3", "1" } };
	rd_dispute_filter filter;
	unsigned status = 0;
	http_call call;
	rd_error err;
	json_t *doc;

	memset(&call, 0, sizeof(call));
	call.query[0] = args[0];
	call.query_count = 1;
	CHECK_INT(http_list_filter(&filter, &call, &err), RD_EINVALID);
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_INT((int)status, 422);
	CHECK_HAS(json_string_value(json_object_get(doc, "detail")),
		  "unknown query parameter \"??\"");
	CHECK_STR(json_string_value(json_object_get(doc, "field")), "??");
	json_decref(doc);

	/* control characters around the bad byte become '?' as well */
	rd_error_set_field(&err, RD_EINVALID, "q", "a\x7f\xff\x1f b");
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_STR(json_string_value(json_object_get(doc, "detail")),
		  "a??? b");
	json_decref(doc);

	/* a character cut by a length limit, valid ones kept */
	rd_error_set_field(&err, RD_EINVALID, "note", "caf\xc3\xa9 \xe2\x82");
	doc = http_problem(&err, 0, &status);
	CHECK(doc != NULL);
	CHECK_STR(json_string_value(json_object_get(doc, "detail")),
		  "caf\xc3\xa9 ??");
	json_decref(doc);
}

static void evidence_routes(void)
{
	http_match m;

	CHECK_INT(http_route_find(&m, "POST", "/v1/disputes/D1/evidence"), 1);
	CHECK_STR(m.route->pattern, "/v1/disputes/{id}/evidence");
	CHECK_STR(m.params[0], "D1");
	CHECK(m.route->stream != NULL);
	CHECK(m.route->handler == NULL);
	CHECK_INT((int)m.route->roles, (int)HTTP_WRITERS);
	CHECK(!(m.route->roles & HTTP_ROLE(RD_ROLE_AUDITOR)));
	CHECK(m.route->body_limit == HTTP_UPLOAD_BODY_LIMIT);

	CHECK_INT(http_route_find(&m, "GET", "/v1/disputes/D1/evidence/7"), 1);
	CHECK_STR(m.route->pattern, "/v1/disputes/{id}/evidence/{n}");
	CHECK_STR(m.params[0], "D1");
	CHECK_STR(m.params[1], "7");
	CHECK(m.route->stream == NULL);
	CHECK_INT((int)m.route->roles, (int)HTTP_ANY_ROLE);
	CHECK_INT((int)m.route->body_limit, 0);

	CHECK_INT(http_route_find(&m, "PUT", "/v1/disputes/D1/evidence"), 0);
	CHECK_STR(m.allow, "GET, POST");
	CHECK_INT(http_route_find(&m, "POST", "/v1/disputes/D1/evidence/7"),
		  0);
	CHECK_STR(m.allow, "GET");
	CHECK_INT(http_route_find(&m, "GET", "/v1/disputes/D1/evidence/7/x"),
		  0);
	CHECK_STR(m.allow, "");
}

static void upload_submission_reads_the_query(void)
{
	static const char *const q[] = {
		"kind", "photo", "channel", "email",
		"captured_at", "2026-03-01T08:00:00Z", "note", "box dented",
		"name", "IMG_1.png", NULL,
	};
	rd_evidence_submission sub;
	http_call call;
	rd_error err;
	int64_t when;

	set_query(&call, q);
	call.content_length = "1234";
	CHECK_OK(http_upload_submission(&sub, &call, &err), &err);
	CHECK_STR(sub.kind, "photo");
	CHECK_STR(sub.channel, "email");
	CHECK_STR(sub.note, "box dented");
	CHECK_STR(sub.original_name, "IMG_1.png");
	CHECK_OK(rd_time_parse(&when, "2026-03-01T08:00:00Z", &err), &err);
	CHECK(sub.captured_at == when);
	CHECK(sub.size == 1234);
}

static void upload_submission_refusals(void)
{
	static const char *const ok[] = { "kind", "note", NULL };
	static const char *const none[] = { "channel", "chat", NULL };
	static const char *const twice[] = { "kind", "note", "kind", "photo",
					     NULL };
	static const char *const unknown[] = { "kind", "note", "colour",
					       "red", NULL };
	static const char *const when[] = { "kind", "photo", "captured_at",
					    "yesterday", NULL };
	static const char *const empty[] = { "kind", "note", "name", "",
					     NULL };
	rd_evidence_submission sub;
	http_call call;
	rd_error err;

	set_query(&call, none);
	call.content_length = "10";
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_EINVALID);
	CHECK_STR(err.field, "kind");
	set_query(&call, twice);
	call.content_length = "10";
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_EINVALID);
	CHECK_STR(err.field, "kind");
	set_query(&call, unknown);
	call.content_length = "10";
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_EINVALID);
	CHECK_STR(err.field, "colour");
	set_query(&call, when);
	call.content_length = "10";
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_EINVALID);
	CHECK_STR(err.field, "captured_at");
	set_query(&call, empty);
	call.content_length = "10";
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_EINVALID);
	CHECK_STR(err.field, "name");

	/* Content-Length: required, a number, within the route's limit. */
	set_query(&call, ok);
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_EUSAGE);
	CHECK_STR(err.field, "Content-Length");
	CHECK_HAS(err.message, "Content-Length");
	call.content_length = "-5";
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_EUSAGE);
	call.content_length = "12abc";
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_EUSAGE);
	call.content_length = "209715201";
	CHECK_FAILS(http_upload_submission(&sub, &call, &err), RD_ETOOLARGE);
	call.content_length = "209715200";
	CHECK_OK(http_upload_submission(&sub, &call, &err), &err);
	CHECK(sub.size == 209715200);
	CHECK(sub.channel == NULL && sub.captured_at == 0);
}

static void repr_digest_is_base64_of_the_bytes(void)
{
	char out[64];
	rd_error err;

	/* SHA-256 of "abc". */
	CHECK_OK(http_repr_digest(out, "ba7816bf8f01cfea414140de5dae2223"
				  "b00361a396177a9cb410ff61f20015ad", &err),
		 &err);
	CHECK_STR(out, "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:");
	CHECK_OK(http_repr_digest(out, "BA7816BF8F01CFEA414140DE5DAE2223"
				  "B00361A396177A9CB410FF61F20015AD", &err),
		 &err);
	CHECK_STR(out, "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:");
	CHECK_FAILS(http_repr_digest(out, "ba7816bf", &err), RD_EINTERNAL);
	CHECK_FAILS(http_repr_digest(out, "zz7816bf8f01cfea414140de5dae2223"
				     "b00361a396177a9cb410ff61f20015ad", &err),
		    RD_EINTERNAL);
}

int main(void)
{
	RUN(finds_routes_and_params);
	RUN(wrong_method_lists_allowed);
	RUN(read_routes_take_any_role);
	RUN(list_filter_reads_every_parameter);
	RUN(list_filter_refuses_bad_parameters);
	RUN(list_filter_scopes_a_storefront_key);
	RUN(unknown_paths_match_nothing);
	RUN(overlong_param_matches_nothing);
	RUN(buyer_ref_spans_segments);
	RUN(problems_follow_the_error_table);
	RUN(quota_problem_says_what_is_left);
	RUN(retryable_problems_say_when);
	RUN(problems_take_any_bytes);
	RUN(problems_survive_bytes_that_are_not_utf8);
	RUN(evidence_routes);
	RUN(upload_submission_reads_the_query);
	RUN(upload_submission_refusals);
	RUN(repr_digest_is_base64_of_the_bytes);
	return rd_test_summary();
}
