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
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char note[] =
	"Courier called: the parcel was left at the depot, signed.\n";

static int connect_to(unsigned port)
{
	struct sockaddr_in addr;
	struct timeval limit = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* never hang the test: every read gives up after 10 seconds */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_text(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		text += (size_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read one response (headers, then Content-Length bytes) into buf; its
 * status, or -1. An interim 100 has no body.
 */
static int read_response(int fd, char *buf, size_t room)
{
	size_t len = 0;
	long status = -1, body = 0;
	const char *cl;

	buf[0] = '\0';
	while (!strstr(buf, "\r\n\r\n")) {
		if (len + 1 >= room || recv(fd, buf + len, 1, 0) != 1)
			return -1;
		buf[++len] = '\0';
	}
	if (sscanf(buf, "HTTP/1.1 %ld", &status) != 1)
		return -1;
	if (status >= 200 && (cl = strstr(buf, "Content-Length: ")))
		body = strtol(cl + 16, NULL, 10);
	for (; body > 0; body--) {
		if (len + 1 >= room || recv(fd, buf + len, 1, 0) != 1)
			return -1;
		buf[++len] = '\0';
	}
	return (int)status;
}

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
	if ((a = connect_to(port)) < 0) {
		perror("rd-drain: connect");
		return 1;
	}
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	if (send_text(a, req, strlen(req)) < 0)
		return 1;
	printf("first %d\n", read_response(a, buf, sizeof(buf)));

	/* 2. a request in flight */
	if ((b = connect_to(port)) < 0)
		return 1;
	snprintf(req, sizeof(req),
		 "POST /v1/disputes/%s/evidence?kind=note HTTP/1.1\r\n"
		 "Host: t\r\nAuthorization: Bearer %s\r\n"
		 "Content-Type: application/octet-stream\r\n"
		 "Content-Length: %zu\r\nExpect: 100-continue\r\n\r\n",
		 argv[4], argv[3], strlen(note));
	if (send_text(b, req, strlen(req)) < 0)
		return 1;
	printf("continue %d\n", read_response(b, buf, sizeof(buf)));
	if (send_text(b, note, half) < 0)
		return 1;

	/* 3, 4. stop, and wait until new connections are refused */
	if (kill(pid, SIGTERM) != 0) {
		perror("rd-drain: kill");
		return 1;
	}
	for (int i = 0; i < 500 && !refused; i++) {
		if ((probe = connect_to(port)) < 0) {
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
	if (send_text(a, req, strlen(req)) < 0)
		return 1;
	status = read_response(a, buf, sizeof(buf));
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
	if (send_text(b, &note[half], strlen(note) - half) < 0)
		return 1;
	status = read_response(b, buf, sizeof(buf));
	printf("upload %d\n", status);
	header(value, sizeof(value), buf, "Connection");
	printf("upload-connection %s\n", value);
	close(b);
	return 0;
}
