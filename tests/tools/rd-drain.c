/*
 * rd-drain PORT PID KEY DISPUTE_ID: drive a running `redress serve`
 * through its stop, deterministically, and print what it saw, one fact a
 * line, for tests/e2e/http_guard.sh to check:
 *
 *   1. connection A: GET /healthz, kept alive;
 *   2. connection B: an evidence upload of a note with
 *      "Expect: 100-continue"; the "100 Continue" proves the server has
 *      begun the request; half the body is sent, the rest held back;
 *   3. SIGTERM to PID;
 *   4. new connections until one is refused: the server now stops;
 *   5. connection A: GET /v1/workflows, which must be refused with 503,
 *      Retry-After and Connection: close, and A closed after it;
 *   6. connection B: the rest of the body; the upload, begun before the
 *      stop, must complete normally.
 *
 * No step waits on a timer for the server: each waits for an answer or a
 * refused connection, so the order of events is always the same.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

static const char note[] =
	"Courier called: the parcel was left at the depot, signed.\n";

/* The value of header `name` in a response, or "-". */
static void header(char *out, size_t room, const char *response,
		   const char *name)
{
	char needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "\r\n%s: ", name);
	p = strstr(response, needle);
	if (!p) {
		snprintf(out, room, "-");
		return;
	}
	p += strlen(needle);
	snprintf(out, room, "%.*s", (int)strcspn(p, "\r"), p);
}

/* The problem's "type" member, or "-". */
static void problem_type(char *out, size_t room, const char *response)
{
	const char *p = strstr(response, "\"type\":\"");

	if (!p) {
		snprintf(out, room, "-");
		return;
	}
	p += 8;
	snprintf(out, room, "%.*s", (int)strcspn(p, "\""), p);
}

int main(int argc, char **argv)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 };
	char req[1024], buf[16384], value[256];
	size_t half = strlen(note) / 2;
	unsigned port;
	pid_t pid;
	int a, b, probe, status, refused = 0;

	if (argc != 5) {
		fputs("usage: rd-drain PORT PID KEY DISPUTE_ID\n", stderr);
		return 2;
	}
	port = (unsigned)strtoul(argv[1], NULL, 10);
	pid = (pid_t)strtol(argv[2], NULL, 10);

	/* 1. an idle keep-alive connection */
	if ((a = rd_test_connect_within((uint16_t)port, 10)) < 0) {
		perror("rd-drain: connect");
		return 1;
	}
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	if (rd_test_send_all(a, req, strlen(req)) < 0)
		return 1;
	printf("first %d\n", rd_test_read_response(a, buf, sizeof(buf)));

	/* 2. a request in flight */
	if ((b = rd_test_connect_within((uint16_t)port, 10)) < 0)
		return 1;
	snprintf(req, sizeof(req),
		 "POST /v1/disputes/%s/evidence?kind=note HTTP/1.1\r\n"
		 "Host: t\r\nAuthorization: Bearer %s\r\n"
		 "Content-Type: application/octet-stream\r\n"
		 "Content-Length: %zu\r\nExpect: 100-continue\r\n\r\n",
		 argv[4], argv[3], strlen(note));
	if (rd_test_send_all(b, req, strlen(req)) < 0)
		return 1;
	printf("continue %d\n", rd_test_read_response(b, buf, sizeof(buf)));
	if (rd_test_send_all(b, note, half) < 0)
		return 1;

	/* 3, 4. stop, and wait until new connections are refused */
	if (kill(pid, SIGTERM) != 0) {
		perror("rd-drain: kill");
		return 1;
	}
	for (int i = 0; i < 500 && !refused; i++) {
		if ((probe = rd_test_connect_within((uint16_t)port, 10)) < 0) {
			refused = errno == ECONNREFUSED;
			break;
		}
		close(probe);
		nanosleep(&pause, NULL);
	}
	printf("new-connections %s\n", refused ? "refused" : "accepted");

	/* 5. a new request on the open connection */
	snprintf(req, sizeof(req), "GET /v1/workflows HTTP/1.1\r\nHost: t\r\n"
		 "Authorization: Bearer %s\r\n\r\n", argv[3]);
	if (rd_test_send_all(a, req, strlen(req)) < 0)
		return 1;
	status = rd_test_read_response(a, buf, sizeof(buf));
	printf("keepalive %d\n", status);
	header(value, sizeof(value), buf, "Retry-After");
	printf("retry-after %s\n", value);
	header(value, sizeof(value), buf, "Connection");
	printf("connection %s\n", value);
	problem_type(value, sizeof(value), buf);
	printf("type %s\n", value);
	printf("closed %s\n", recv(a, buf, 1, 0) == 0 ? "yes" : "no");
	close(a);

	/* 6. the request in flight completes */
	if (rd_test_send_all(b, &note[half], strlen(note) - half) < 0)
		return 1;
	status = rd_test_read_response(b, buf, sizeof(buf));
	printf("upload %d\n", status);
	header(value, sizeof(value), buf, "Connection");
	printf("upload-connection %s\n", value);
	close(b);
	return 0;
}
