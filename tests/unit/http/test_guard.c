/*
 * The server's guards in process: a rate limit out of range is refused
 * before anything listens; with a limit, one keep-alive connection gets its
 * key's burst, then 429 with Retry-After, and stays usable; GET /metrics
 * answers the exposition to an auditor and counts what came before it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "redress/http.h"
#include "test.h"

#define KINDS REDRESS_SOURCE_DIR "/evidence/kinds.json"
#define POLICY REDRESS_SOURCE_DIR "/workflows/policy.json"
#define WORKFLOWS REDRESS_SOURCE_DIR "/workflows"

static void options_for(rd_http_options *opts, const char *data)
{
	memset(opts, 0, sizeof(*opts));
	opts->listen = "127.0.0.1:0";
	opts->service.data_dir = data;
	opts->service.workflows_dir = WORKFLOWS;
	opts->service.kinds_path = KINDS;
	opts->service.policy_path = POLICY;
	opts->threads = 1;
}

static char *make_data(char key[RD_KEY_BUFSZ])
{
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "data");
	rd_http_options opts;
	rd_service *svc = NULL;
	rd_error err;

	options_for(&opts, data);
	opts.service.create = 1;
	if (rd_service_open(&svc, &opts.service, &err) < 0 ||
	    rd_service_key_create(svc, RD_ROLE_AUDITOR, NULL, "tester",
				  INT64_C(1772442000), key, NULL, &err) < 0)
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	rd_service_close(svc);
	free(dir);
	return data;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in addr;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send a GET with the key; read the whole answer into buf; its status. */
static int get(int fd, const char *path, const char *key, char *buf,
	       size_t room)
{
	char req[512];
	size_t len = 0;
	long status = -1, body = 0;
	const char *cl;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\n\r\n", path, key);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		return -1;
	buf[0] = '\0';
	while (!strstr(buf, "\r\n\r\n")) {
		if (len + 1 >= room || recv(fd, buf + len, 1, 0) != 1)
			return -1;
		buf[++len] = '\0';
	}
	if (sscanf(buf, "HTTP/1.1 %ld", &status) != 1)
		return -1;
	if ((cl = strstr(buf, "Content-Length: ")))
		body = strtol(cl + 16, NULL, 10);
	for (; body > 0; body--) {
		if (len + 1 >= room || recv(fd, buf + len, 1, 0) != 1)
			return -1;
		buf[++len] = '\0';
	}
	return (int)status;
}

static void refuses_rate_out_of_range(void)
{
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;

	options_for(&opts, "/nonexistent");
	opts.rate_limit = 1000001;
	CHECK_FAILS(rd_http_start(&server, &opts, &err), RD_EUSAGE);
	CHECK(server == NULL);
	CHECK_STR(err.field, "rate_limit");
	CHECK_HAS(err.message, "1000001");
}

static void limits_a_key_and_counts_it(void)
{
	char key[RD_KEY_BUFSZ];
	char *data = make_data(key);
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;
	static char buf[65536];
	int fd;

	options_for(&opts, data);
	opts.rate_limit = 1;
	CHECK_OK(rd_http_start(&server, &opts, &err), &err);
	fd = connect_to(rd_http_port(server));
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
