/*
 * The server over real sockets: bad listen addresses and a missing data
 * directory are refused before anything listens; a started server answers
 * on the port it reports, keeps a connection alive across requests,
 * answers /readyz without a key once its record answers, authenticates
 * keys (401 without, 403 for a role not allowed), reads bodies sent in
 * pieces, streams evidence uploads (a refused or cut-short upload records
 * nothing, the connection stays usable), serves evidence bytes with their
 * digest headers, and stops cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/http.h"
#include "fixtures.h"
#include "test.h"

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
		rd_test_http_options(&opts, "/nonexistent", bad[i]);
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

	rd_test_http_options(&opts, data, "127.0.0.1:0");
	CHECK_FAILS(rd_http_start(&server, &opts, &err), RD_ENOTFOUND);
	CHECK(server == NULL);
	CHECK_HAS(err.message, "init");
	free(data);
	free(dir);
}

static void answers_and_keeps_alive(void)
{
	char key[RD_KEY_BUFSZ];
	char *data = rd_test_data_with_key(RD_ROLE_AUDITOR, key);
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;
	char req[512], buf[16384];
	int fd;

	rd_test_http_options(&opts, data, "127.0.0.1:0");
	opts.threads = 1;
	CHECK_OK(rd_http_start(&server, &opts, &err), &err);
	CHECK(rd_http_port(server) != 0);
	fd = rd_test_connect(rd_http_port(server));
	CHECK(fd >= 0);

	/* Several requests on one connection. */
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 200);
	CHECK_HAS(buf, "{\"status\":\"ok\"}");

	/* readiness reads the record, without a key */
	snprintf(req, sizeof(req), "GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 200);
	CHECK_HAS(buf, "{\"status\":\"ready\"}");

	snprintf(req, sizeof(req), "GET /v1/workflows HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 401);
	CHECK_HAS(buf, "WWW-Authenticate: Bearer");
	CHECK_HAS(buf, "application/problem+json");

	snprintf(req, sizeof(req), "GET /v1/workflows HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\n\r\n", key);
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 200);
	CHECK_HAS(buf, "\"workflows\"");

	/* An auditor may not write, whatever the body. */
	snprintf(req, sizeof(req), "POST /v1/disputes HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
		 key, strlen(rd_test_example));
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK(rd_test_send_all(fd, rd_test_example,
			       strlen(rd_test_example)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 403);
	CHECK_HAS(buf, "problems/forbidden");

	snprintf(req, sizeof(req), "DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 405);
	CHECK_HAS(buf, "Allow: GET");

	snprintf(req, sizeof(req), "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 404);
	close(fd);

	rd_http_stop(server);
	rd_http_stop(NULL);
	free(data);
}

static void reads_body_in_pieces(void)
{
	char key[RD_KEY_BUFSZ];
	char *data = rd_test_data_with_key(RD_ROLE_AGENT, key);
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;
	char req[512], buf[16384];
	size_t half = strlen(rd_test_example) / 2;
	int fd;

	rd_test_http_options(&opts, data, "127.0.0.1:0");
	CHECK_OK(rd_http_start(&server, &opts, &err), &err);
	fd = rd_test_connect(rd_http_port(server));
	CHECK(fd >= 0);
	snprintf(req, sizeof(req), "POST /v1/disputes HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
		 key, strlen(rd_test_example));
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK(rd_test_send_all(fd, rd_test_example, half) == 0);
	usleep(50000);
	CHECK(rd_test_send_all(fd, rd_test_example + half,
			       strlen(rd_test_example) - half) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 201);
	CHECK_HAS(buf, "Location: /v1/disputes/");
	CHECK_HAS(buf, "ETag: \"1\"");
	CHECK_HAS(buf, "\"state\":\"opened\"");

	/* A body the route does not take at all. */
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: t\r\n"
		 "Content-Length: 3\r\n\r\nabc");
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 413);
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

	rd_test_http_options(&opts, data, NULL);
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
	char *data = rd_test_data_with_key(RD_ROLE_AGENT, key);
	rd_http_server *server = NULL;
	rd_http_options opts;
	rd_error err;
	char req[1024], buf[16384], id[64];
	const char *p;
	size_t half = strlen(text) / 2;
	int fd, fd2;

	rd_test_http_options(&opts, data, "127.0.0.1:0");
	CHECK_OK(rd_http_start(&server, &opts, &err), &err);
	fd = rd_test_connect(rd_http_port(server));
	CHECK(fd >= 0);
	snprintf(req, sizeof(req), "POST /v1/disputes HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n",
		 key, strlen(rd_test_example));
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK(rd_test_send_all(fd, rd_test_example,
			       strlen(rd_test_example)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 201);
	p = strstr(buf, "\"id\":\"");
	CHECK(p != NULL);
	p += 6;
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(p, "\""), p);

	/* An upload cut short by the client records nothing. */
	fd2 = rd_test_connect(rd_http_port(server));
	CHECK(fd2 >= 0);
	snprintf(req, sizeof(req), "POST /v1/disputes/%s/evidence?kind=note "
		 "HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		 "Content-Length: %zu\r\n\r\n", id, key, strlen(text));
	CHECK(rd_test_send_all(fd2, req, strlen(req)) == 0);
	CHECK(rd_test_send_all(fd2, text, half) == 0);
	usleep(50000);
	close(fd2);
	usleep(100000);
	CHECK_INT((int)evidence_count(data, id), 0);

	/* Streamed in pieces, then recorded. */
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK(rd_test_send_all(fd, text, half) == 0);
	usleep(50000);
	CHECK(rd_test_send_all(fd, text + half, strlen(text) - half) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 201);
	snprintf(req, sizeof(req), "Location: /v1/disputes/%s/evidence/1", id);
	CHECK_HAS(buf, req);
	CHECK_HAS(buf, "\"kind\":\"note\"");
	CHECK_INT((int)evidence_count(data, id), 1);

	/* Refused at the first chunk (binary is not a note): the rest is
	 * read, then 415, and the connection still works. */
	snprintf(req, sizeof(req), "POST /v1/disputes/%s/evidence?kind=note "
		 "HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		 "Content-Length: 8\r\n\r\n\x89PNG\r\n\x1a\n", id, key);
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 415);
	CHECK_HAS(buf, "application/problem+json");
	CHECK_INT((int)evidence_count(data, id), 1);

	/* Without Content-Length: 400 from the headers alone, and the
	 * connection closed, since the body is not read. */
	snprintf(req, sizeof(req), "POST /v1/disputes/%s/evidence?kind=note "
		 "HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
		 "0\r\n\r\n", id, key);
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 400);
	CHECK_HAS(buf, "Content-Length");
	CHECK_HAS(buf, "Connection: close");
	close(fd);
	fd = rd_test_connect(rd_http_port(server));
	CHECK(fd >= 0);

	/* The bytes back, with their headers. */
	snprintf(req, sizeof(req), "GET /v1/disputes/%s/evidence/1 HTTP/1.1\r\n"
		 "Host: t\r\nAuthorization: Bearer %s\r\n\r\n", id, key);
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 200);
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
	CHECK(rd_test_send_all(fd, req, strlen(req)) == 0);
	CHECK_INT(rd_test_read_response(fd, buf, sizeof(buf)), 404);
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
