/*
 * The server's guards in process: a rate limit out of range is refused
 * before anything listens; with a limit, one keep-alive connection gets its
 * key's burst, then 429 with Retry-After, and stays usable; GET /metrics
 * answers the exposition to an auditor and counts what came before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/http.h"
#include "fixtures.h"
#include "test.h"

/* Send a GET with the key; read the whole answer into buf; its status. */
static int get(int fd, const char *path, const char *key, char *buf,
	       size_t room)
{
	char req[512];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\n\r\n", path, key);
	if (rd_test_send_all(fd, req, strlen(req)) < 0)
		return -1;
	return rd_test_read_response(fd, buf, room);
}

static void refuses_rate_out_of_range(void)
{
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;

	rd_test_http_options(&opts, "/nonexistent", "127.0.0.1:0");
	opts.threads = 1;
	opts.rate_limit = 1000001;
	CHECK_FAILS(rd_http_start(&server, &opts, &err), RD_EUSAGE);
	CHECK(server == NULL);
	CHECK_STR(err.field, "rate_limit");
	CHECK_HAS(err.message, "1000001");
}

static void limits_a_key_and_counts_it(void)
{
	char key[RD_KEY_BUFSZ];
	char *data = rd_test_data_with_key(RD_ROLE_AUDITOR, key);
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;
	static char buf[262144];
	int fd;

	rd_test_http_options(&opts, data, "127.0.0.1:0");
	opts.threads = 1;
	opts.rate_limit = 1;
	CHECK_OK(rd_http_start(&server, &opts, &err), &err);
	fd = rd_test_connect(rd_http_port(server));
	CHECK(fd >= 0);
	/* a burst of two, then refused with the time to wait */
	CHECK_INT(get(fd, "/v1/workflows", key, buf, sizeof(buf)), 200);
	CHECK_INT(get(fd, "/v1/workflows", key, buf, sizeof(buf)), 200);
	CHECK_INT(get(fd, "/v1/workflows", key, buf, sizeof(buf)), 429);
	CHECK_HAS(buf, "Retry-After: 1\r\n");
	CHECK_HAS(buf, "Content-Type: application/problem+json");
	CHECK_HAS(buf, "\"type\":\"https://redress.dev/problems/rate_limited\"");
	CHECK_HAS(buf, "\"status\":429");
	/* the connection stays open; /metrics takes a token too */
	sleep(1);
	CHECK_INT(get(fd, "/metrics", key, buf, sizeof(buf)), 200);
	CHECK_HAS(buf, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	CHECK_HAS(buf, "\nredress_http_requests_total{route=\"/v1/workflows\","
		  "method=\"GET\",status=\"200\"} 2\n");
	CHECK_HAS(buf, "\nredress_http_requests_total{route=\"/v1/workflows\","
		  "method=\"GET\",status=\"429\"} 1\n");
	close(fd);
	rd_http_stop(server);
	free(data);
}

int main(void)
{
	RUN(refuses_rate_out_of_range);
	RUN(limits_a_key_and_counts_it);
	return rd_test_summary();
}
