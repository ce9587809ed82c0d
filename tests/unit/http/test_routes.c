/*
 * The route table and the problem documents: a path with the right method
 * finds its route and its {id}; the same path with another method is a
 * 405 listing the methods it takes; anything else is a 404; problems carry
 * the status and type of the error table, with field and guard.
 */
#include <string.h>

#include "http/http_int.h"
#include "test.h"

static void finds_routes_and_params(void)
{
	http_match m;

	CHECK_INT(http_route_find(&m, "GET", "/healthz"), 1);
	CHECK(m.route != NULL);
	CHECK_INT((int)m.route->roles, 0);

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
	CHECK_STR(m.allow, "POST");

	CHECK_INT(http_route_find(&m, "GET", "/v1/disputes/X/events"), 0);
	CHECK_STR(m.allow, "POST");
}

static void unknown_paths_match_nothing(void)
{
	static const char *paths[] = {
		"/", "", "/v1", "/v1/disputes/", "/v1/disputes//events",
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

int main(void)
{
	RUN(finds_routes_and_params);
	RUN(wrong_method_lists_allowed);
	RUN(unknown_paths_match_nothing);
	RUN(overlong_param_matches_nothing);
	RUN(problems_follow_the_error_table);
	return rd_test_summary();
}
