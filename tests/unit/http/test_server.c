/*
 * The server over real sockets: bad listen addresses and a missing data
 * directory are refused before anything listens; a started server answers
 * on the port it reports, keeps a connection alive across requests,
 * authenticates keys (401 without, 403 for a role not allowed), reads
 * bodies sent in pieces, streams evidence uploads (a refused or cut-short
 * upload records nothing, the connection stays usable), serves evidence
 * bytes with their digest headers, and stops cleanly.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/http.h"
#include "test.h"

#define KINDS REDRESS_SOURCE_DIR "/evidence/kinds.json"
#define POLICY REDRESS_SOURCE_DIR "/workflows/policy.json"
#define WORKFLOWS REDRESS_SOURCE_DIR "/workflows"

static const char *example =
	"{\"order_ref\": \"ORD-1\", \"storefront\": \"acme\","
	" \"buyer_ref\": \"b\", \"currency\": \"USD\", \"reason\": \"damaged\","
	" \"channel\": \"chat\","
	" \"items\": [{\"sku\": \"L\", \"title\": \"Lamp\", \"quantity\": 1,"
	" \"unit_price\": 10000, \"unit_cost\": 4000}]}";

static void options_for(rd_http_options *opts, const char *data,
			const char *listen)
{
	memset(opts, 0, sizeof(*opts));
	opts->listen = listen;
	opts->service.data_dir = data;
	opts->service.workflows_dir = WORKFLOWS;
	opts->service.kinds_path = KINDS;
	opts->service.policy_path = POLICY;
}

/* A fresh data directory with one key of `role`, written into key. */
static char *make_data(rd_role role, char key[RD_KEY_BUFSZ])
{
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "data");
	rd_http_options opts;
	rd_service *svc = NULL;
	rd_error err;

	options_for(&opts, data, NULL);
	opts.service.create = 1;
	if (rd_service_open(&svc, &opts.service, &err) < 0 ||
	    rd_service_key_create(svc, role, NULL, "tester",
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

static int send_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read one response: its status (or -1), its whole text into buf.
 * Reads exactly the headers and Content-Length bytes, so the connection
 * can carry another request.
 */
static int read_response(int fd, char *buf, size_t room)
{
	size_t len = 0;
	char *end = NULL;
	long status = -1, body = 0;

	while (!end) {
		ssize_t n;

		if (len + 1 >= room)
			return -1;
		n = recv(fd, buf + len, 1, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (sscanf(buf, "HTTP/1.1 %ld", &status) != 1)
		return -1;
	{
		const char *cl = strstr(buf, "Content-Length: ");

		if (cl)
			body = strtol(cl + 16, NULL, 10);
	}
	while (body > 0) {
		ssize_t n;

		if (len + 1 >= room)
			return -1;
		n = recv(fd, buf + len, 1, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		body--;
	}
	return (int)status;
}

static void refuses_bad_listen(void)
{
	static const char *bad[] = {
		"localhost:8080", "127.0.0.1", "127.0.0.1:", ":8080",
		"127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
		"1.2.3:80", "127.0.0.1:+80",
	};
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		options_for(&opts, "/nonexistent", bad[i]);
		CHECK_FAILS(rd_http_start(&server, &opts, &err), RD_EUSAGE);
		CHECK(server == NULL);
		CHECK_STR(err.field, "listen");
		CHECK_HAS(err.message, bad[i]);
	}
}

static void refuses_missing_data_dir(void)
{
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "absent");
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;

	options_for(&opts, data, "127.0.0.1:0");
	CHECK_FAILS(rd_http_start(&server, &opts, &err), RD_ENOTFOUND);
	CHECK(server == NULL);
	CHECK_HAS(err.message, "init");
	free(data);
	free(dir);
}

static void answers_and_keeps_alive(void)
{
	char key[RD_KEY_BUFSZ];
	char *data = make_data(RD_ROLE_AUDITOR, key);
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;
	char req[512], buf[16384];
	int fd;

	options_for(&opts, data, "127.0.0.1:0");
	opts.threads = 1;
	CHECK_OK(rd_http_start(&server, &opts, &err), &err);
	CHECK(rd_http_port(server) != 0);
	fd = connect_to(rd_http_port(server));
	CHECK(fd >= 0);

	/* Several requests on one connection. */
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 200);
	CHECK_HAS(buf, "{\"status\":\"ok\"}");

	snprintf(req, sizeof(req), "GET /v1/workflows HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 401);
	CHECK_HAS(buf, "WWW-Authenticate: Bearer");
	CHECK_HAS(buf, "application/problem+json");

	snprintf(req, sizeof(req), "GET /v1/workflows HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\n\r\n", key);
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 200);
	CHECK_HAS(buf, "\"workflows\"");

	/* An auditor may not write, whatever the body. */
	snprintf(req, sizeof(req), "POST /v1/disputes HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
		 key, strlen(example));
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(send_all(fd, example, strlen(example)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 403);
	CHECK_HAS(buf, "problems/forbidden");

	snprintf(req, sizeof(req), "DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 405);
	CHECK_HAS(buf, "Allow: GET");

	snprintf(req, sizeof(req), "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 404);
	close(fd);

	rd_http_stop(server);
	rd_http_stop(NULL);
	free(data);
}

static void reads_body_in_pieces(void)
{
	char key[RD_KEY_BUFSZ];
	char *data = make_data(RD_ROLE_AGENT, key);
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;
	char req[512], buf[16384];
	size_t half = strlen(example) / 2;
	int fd;

	options_for(&opts, data, "127.0.0.1:0");
	CHECK_OK(rd_http_start(&server, &opts, &err), &err);
	fd = connect_to(rd_http_port(server));
	CHECK(fd >= 0);
	snprintf(req, sizeof(req), "POST /v1/disputes HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
		 key, strlen(example));
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(send_all(fd, example, half) == 0);
	usleep(50000);
	CHECK(send_all(fd, example + half, strlen(example) - half) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 201);
	CHECK_HAS(buf, "Location: /v1/disputes/");
	CHECK_HAS(buf, "ETag: \"1\"");
	CHECK_HAS(buf, "\"state\":\"opened\"");

	/* A body the route does not take at all. */
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: t\r\n"
		 "Content-Length: 3\r\n\r\nabc");
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 413);
	close(fd);
	rd_http_stop(server);
	free(data);
}

/* How many evidence items dispute `id` has, read through the service. */
static size_t evidence_count(const char *data, const char *id)
{
	rd_http_options opts;
	rd_service *svc = NULL;
	rd_evidence_row *rows = NULL;
	size_t count = 0;
	rd_error err;

	options_for(&opts, data, NULL);
	if (rd_service_open(&svc, &opts.service, &err) < 0 ||
	    rd_service_evidence_list(svc, id, &rows, &count, &err) < 0)
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	rd_evidence_rows_free(rows, count);
	rd_service_close(svc);
	return count;
}

static void streams_evidence(void)
{
	static const char text[] = "Carrier scan: parcel delivered to the "
				   "sender depot, signed J. Smith.\n";
	char key[RD_KEY_BUFSZ];
	char *data = make_data(RD_ROLE_AGENT, key);
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;
	char req[1024], buf[16384], id[64];
	const char *p;
	size_t half = strlen(text) / 2;
	int fd, fd2;

	options_for(&opts, data, "127.0.0.1:0");
	CHECK_OK(rd_http_start(&server, &opts, &err), &err);
	fd = connect_to(rd_http_port(server));
	CHECK(fd >= 0);
	snprintf(req, sizeof(req), "POST /v1/disputes HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
		 key, strlen(example));
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(send_all(fd, example, strlen(example)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 201);
	p = strstr(buf, "\"id\":\"");
	CHECK(p != NULL);
	p += 6;
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(p, "\""), p);

	/* An upload cut short by the client records nothing. */
	fd2 = connect_to(rd_http_port(server));
	CHECK(fd2 >= 0);
	snprintf(req, sizeof(req), "POST /v1/disputes/%s/evidence?kind=note "
		 "HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		 "Content-Length: %zu\r\n\r\n", id, key, strlen(text));
	CHECK(send_all(fd2, req, strlen(req)) == 0);
	CHECK(send_all(fd2, text, half) == 0);
	usleep(50000);
	close(fd2);
	usleep(100000);
	CHECK_INT((int)evidence_count(data, id), 0);

	/* Streamed in pieces, then recorded. */
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK(send_all(fd, text, half) == 0);
	usleep(50000);
	CHECK(send_all(fd, text + half, strlen(text) - half) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 201);
	snprintf(req, sizeof(req), "Location: /v1/disputes/%s/evidence/1", id);
	CHECK_HAS(buf, req);
	CHECK_HAS(buf, "\"kind\":\"note\"");
	CHECK_INT((int)evidence_count(data, id), 1);

	/* Refused at the first chunk (binary is not a note): the rest is
	 * read, then 415, and the connection still works. */
	snprintf(req, sizeof(req), "POST /v1/disputes/%s/evidence?kind=note "
		 "HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		 "Content-Length: 8\r\n\r\n\x89PNG\r\n\x1a\n", id, key);
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 415);
	CHECK_HAS(buf, "application/problem+json");
	CHECK_INT((int)evidence_count(data, id), 1);

	/* Without Content-Length: 400. */
	snprintf(req, sizeof(req), "POST /v1/disputes/%s/evidence?kind=note "
		 "HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
		 "0\r\n\r\n", id, key);
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 400);
	CHECK_HAS(buf, "Content-Length");

	/* The bytes back, with their headers. */
	snprintf(req, sizeof(req), "GET /v1/disputes/%s/evidence/1 HTTP/1.1\r\n"
		 "Host: t\r\nAuthorization: Bearer %s\r\n\r\n", id, key);
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 200);
	CHECK_HAS(buf, "Content-Type: text/plain");
	CHECK_HAS(buf, "Content-Disposition: attachment; "
		  "filename=\"evidence-1.txt\"");
	CHECK_HAS(buf, "X-Content-Type-Options: nosniff");
	CHECK_HAS(buf, "Repr-Digest: sha-256=:");
	CHECK_HAS(buf, "ETag: \"");
	CHECK(strstr(buf, "\r\n\r\n") &&
	      strcmp(strstr(buf, "\r\n\r\n") + 4, text) == 0);

	snprintf(req, sizeof(req), "GET /v1/disputes/%s/evidence/2 HTTP/1.1\r\n"
		 "Host: t\r\nAuthorization: Bearer %s\r\n\r\n", id, key);
	CHECK(send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(read_response(fd, buf, sizeof(buf)), 404);
	close(fd);
	rd_http_stop(server);
	free(data);
}

int main(void)
{
	RUN(refuses_bad_listen);
	RUN(refuses_missing_data_dir);
	RUN(answers_and_keeps_alive);
	RUN(reads_body_in_pieces);
	RUN(streams_evidence);
	return rd_test_summary();
}
