/*
 * The payables route in the table: GET /v1/payables for every role, with
 * no body; other methods are 405 naming GET; paths under it are 404.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"
#include "test.h"

static void payables_route(void)
{
	static const char *const not_routes[] = {
		"/v1/payables/", "/v1/payables/x", "/v1/payable", "/payables",
	};
	http_match m;

	CHECK_INT(http_route_find(&m, "GET", "/v1/payables"), 1);
	CHECK_STR(m.route->pattern, "/v1/payables");
	CHECK_INT((int)m.route->roles, (int)HTTP_ANY_ROLE);
	CHECK((m.route->roles & HTTP_ROLE(RD_ROLE_STOREFRONT)) != 0);
	CHECK((m.route->roles & HTTP_ROLE(RD_ROLE_SYSTEM)) == 0);
	CHECK_INT((int)m.route->body_limit, 0);
	CHECK(m.route->handler != NULL && m.route->stream == NULL);

	CHECK_INT(http_route_find(&m, "POST", "/v1/payables"), 0);
	CHECK(m.route == NULL);
	CHECK_STR(m.allow, "GET");
	for (size_t i = 0; i < sizeof(not_routes) / sizeof(not_routes[0]);
	     i++) {
		CHECK_INT(http_route_find(&m, "GET", not_routes[i]), 0);
		CHECK_STR(m.allow, "");
	}
}

int main(void)
{
	RUN(payables_route);
	return rd_test_summary();
}
