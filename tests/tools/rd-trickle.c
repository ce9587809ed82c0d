/*
 * rd-trickle: clients that send a request one byte at a time, against a
 * running `redress serve` on 127.0.0.1, for tests/e2e/http_deadlines.sh.
 *
 *   rd-trickle cut PORT MODE INTERVAL_MS BOUND_MS [KEY]
 *       one connection; prints "closed MS" (the milliseconds from the
 *       start of the phase at stake to the server's close) or "open"
 *       (still open at BOUND_MS), and "answered" when the server sent
 *       anything before closing. MODE:
 *         headers  the request line and headers, a byte per INTERVAL_MS,
 *                  never ending (timed from the connect);
 *         body     whole headers of a 4000-byte POST, then its body a
 *                  byte per INTERVAL_MS (timed from the end of the
 *                  headers);
 *         idle     a whole GET /healthz, its answer read, then nothing
 *                  (timed from the end of the answer);
 *         line     the same, then the next request line a byte per
 *                  INTERVAL_MS (timed from the end of the answer).
 *
 *   rd-trickle flood PORT CONNS ADDRS INTERVAL_MS BOUND_MS WARMUP_MS
 *       CONNS connections from ADDRS source addresses 127.0.0.2 and up
 *       (so that the per-address limit does not stop them first), each
 *       sending headers a byte per INTERVAL_MS and opening again when the
 *       server closes it. After WARMUP_MS a fresh client, from 127.0.0.1,
 *       asks GET /healthz; prints "fresh STATUS MS" (MS from its connect
 *       to its answer; status 0: none within BOUND_MS, or refused), then
 *       "flood OPENED CUT": connections the flood opened, and how many of
 *       them the server closed.
 *
 * It never judges: the test compares the figures with the settings.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define MAX_CONNS 1000
/* after a close, a flood connection waits this long before opening again */
#define REOPEN_MS 20
/* How long the flood goes on after the fresh client is done (run_flood). */
#define SETTLE_MS 3000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(void)
{
	fprintf(stderr, "usage: rd-trickle cut PORT headers|body|idle|line "
		"INTERVAL_MS BOUND_MS [KEY]\n"
		"       rd-trickle flood PORT CONNS ADDRS INTERVAL_MS BOUND_MS "
		"WARMUP_MS\n");
	return 2;
}

static long arg_number(const char *s)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	return end != s && *end == '\0' && v >= 0 ? v : -1;
}

/*
 * Wait up to ms for the server: 1 when it closed the connection (or reset
 * it), 0 when the time passed, with *answered set when it sent bytes.
 */
static int wait_close(int fd, long long ms, int *answered)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char buf[4096];
	long long until = now_ms() + ms;

	for (;;) {
		long long left = until - now_ms();
		ssize_t n;

		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
		if (n > 0)
			*answered = 1;
	}
}

/* Send text a byte per interval until the server closes or bound passes. */
static int trickle(int fd, const char *text, size_t len, long interval,
		   long long until, int *answered)
{
	for (size_t i = 0;; i++) {
		char c = text[i % len];
		long long left = until - now_ms();

		if (left <= 0)
			return 0;
		if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
			return 1;
		if (wait_close(fd, left < interval ? left : interval, answered))
			return 1;
	}
}

static int run_cut(uint16_t port, const char *mode, long interval,
		   long bound, const char *key)
{
	static const char get[] =
		"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	/* headers that never end: the same header line again and again */
	static const char endless[] = "GET /healthz HTTP/1.1\r\nX-Slow: a\r\n";
	char buf[8192];
	long long start;
	int fd = rd_test_connect(port), answered = 0, closed;

	if (fd < 0) {
		fprintf(stderr, "rd-trickle: cannot connect to port %u\n",
			(unsigned)port);
		return 1;
	}
	start = now_ms();
	if (strcmp(mode, "headers") == 0) {
		closed = trickle(fd, endless, sizeof(endless) - 1, interval,
				 start + bound, &answered);
	} else if (strcmp(mode, "body") == 0) {
		int n = snprintf(buf, sizeof(buf),
				 "POST /v1/disputes HTTP/1.1\r\nHost: "
				 "127.0.0.1\r\nAuthorization: Bearer %s\r\n"
				 "Content-Type: application/json\r\n"
				 "Content-Length: 4000\r\n\r\n",
				 key ? key : "none");

		if (rd_test_send_all(fd, buf, (size_t)n) < 0)
			return 1;
		start = now_ms();
		closed = trickle(fd, "{", 1, interval, start + bound,
				 &answered);
	} else if (strcmp(mode, "idle") == 0 || strcmp(mode, "line") == 0) {
		if (rd_test_send_all(fd, get, sizeof(get) - 1) < 0 ||
		    rd_test_read_response(fd, buf, sizeof(buf)) != 200) {
			fprintf(stderr, "rd-trickle: GET /healthz failed\n");
			return 1;
		}
		start = now_ms();
		closed = mode[0] == 'i'
			 ? wait_close(fd, bound, &answered)
			 : trickle(fd, get, sizeof(get) - 1, interval,
				   start + bound, &answered);
	} else {
		close(fd);
		return usage();
	}
	if (closed)
		printf("closed %lld\n", now_ms() - start);
	else
		printf("open\n");
	if (answered)
		printf("answered\n");
	close(fd);
	return 0;
}

/* ---- flood ------------------------------------------------------------------ */

typedef struct flooder {
	int fd;                 /* -1: closed, waiting to open again */
	int connected;
	unsigned addr;          /* 127.0.0.addr */
	size_t sent;
	long long next_ms;      /* next byte, or next open */
} flooder;

/* A non-blocking connection from 127.0.0.addr to port, or -1. */
static int open_from(unsigned addr, uint16_t port)
{
	struct sockaddr_in from, to;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	memset(&from, 0, sizeof(from));
	from.sin_family = AF_INET;
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + addr);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 &&
	     errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

typedef struct fresh_client {
	int fd;
	int state;              /* 0 not yet, 1 connecting, 2 sent, 3 done */
	long long start_ms, answer_ms;
	int status;
	char buf[256];
	size_t len;
} fresh_client;

static void fresh_step(fresh_client *f, short revents)
{
	static const char get[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1"
				  "\r\nConnection: close\r\n\r\n";
	ssize_t n;

	if (f->state == 1 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		if (send(f->fd, get, sizeof(get) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)(sizeof(get) - 1)) {
			f->state = 3;   /* refused: status 0 */
			return;
		}
		f->state = 2;
		return;
	}
	if (f->state != 2 || !(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	n = recv(f->fd, f->buf + f->len, sizeof(f->buf) - 1 - f->len,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		f->len += (size_t)n;
		f->buf[f->len] = '\0';
		if (!strstr(f->buf, "\r\n") && f->len < sizeof(f->buf) - 1)
			return;
		if (sscanf(f->buf, "HTTP/1.1 %d", &f->status) != 1)
			f->status = 0;
		f->answer_ms = now_ms();
	}
	f->state = 3;
}

static int run_flood(uint16_t port, long conns, long addrs, long interval,
		     long bound, long warmup)
{
	static const char endless[] = "GET /healthz HTTP/1.1\r\nX-Slow: a\r\n";
	static flooder fl[MAX_CONNS];
	static struct pollfd polls[MAX_CONNS + 1];
	fresh_client fresh;
	long long start = now_ms();
	long opened = 0, cut = 0;
	long long done_ms = 0;          /* when the fresh client was done */

	if (conns < 1 || conns > MAX_CONNS || addrs < 1 || addrs > 200)
		return usage();
	memset(&fresh, 0, sizeof(fresh));
	fresh.fd = -1;
	for (long i = 0; i < conns; i++) {
		fl[i].fd = -1;
		fl[i].addr = 2 + (unsigned)(i % addrs);
		fl[i].next_ms = start;
	}
	/*
	 * Until the fresh client is done, then SETTLE_MS more, so that the
	 * cuts of the deadline that let it in are all seen, however slowly
	 * this machine (or a sanitizer) lets the server make them.
	 */
	while (now_ms() - start < warmup + bound &&
	       (fresh.state != 3 || now_ms() - done_ms < SETTLE_MS)) {
		long long now = now_ms();
		int n;

		for (long i = 0; i < conns; i++) {
			flooder *f = &fl[i];

			if (f->fd < 0 && now >= f->next_ms) {
				f->fd = open_from(f->addr, port);
				f->connected = 0;
				f->sent = 0;
				if (f->fd >= 0)
					opened++;
				f->next_ms = now + (f->fd < 0 ? REOPEN_MS : 0);
			}
			polls[i].fd = f->fd;
			polls[i].events = f->connected ? POLLIN : POLLOUT;
			polls[i].revents = 0;
		}
		if (fresh.state == 0 && now - start >= warmup) {
			fresh.fd = open_from(1, port);
			fresh.start_ms = now;
			fresh.state = fresh.fd < 0 ? 3 : 1;
			if (fresh.state == 3)
				done_ms = now;
		}
		polls[conns].fd = fresh.state == 1 || fresh.state == 2
				  ? fresh.fd : -1;
		polls[conns].events = fresh.state == 1 ? POLLOUT : POLLIN;
		polls[conns].revents = 0;
		n = poll(polls, (nfds_t)conns + 1, 10);
		now = now_ms();
		if (n > 0)
			fresh_step(&fresh, polls[conns].revents);
		if (fresh.state == 3 && !done_ms)
			done_ms = now;
		for (long i = 0; i < conns; i++) {
			flooder *f = &fl[i];
			short ev = polls[i].revents;
			int gone = 0;
			char c;

			if (f->fd < 0)
				continue;
			if (!f->connected && (ev & POLLOUT) &&
			    !(ev & (POLLERR | POLLHUP))) {
				f->connected = 1;
				f->next_ms = now;
			}
			if (ev & (POLLIN | POLLERR | POLLHUP)) {
				char buf[512];
				ssize_t got = recv(f->fd, buf, sizeof(buf),
						   MSG_DONTWAIT);

				gone = got == 0 ||
				       (got < 0 && errno != EAGAIN);
			}
			if (!gone && f->connected && now >= f->next_ms) {
				c = endless[f->sent % (sizeof(endless) - 1)];
				gone = send(f->fd, &c, 1, MSG_NOSIGNAL) != 1;
				f->sent++;
				f->next_ms = now + interval;
			}
			if (gone) {
				close(f->fd);
				f->fd = -1;
				f->next_ms = now + REOPEN_MS;
				cut++;
			}
		}
	}
	if (fresh.state == 3 && fresh.status)
		printf("fresh %d %lld\n", fresh.status,
		       fresh.answer_ms - fresh.start_ms);
	else
		printf("fresh 0 %lld\n", now_ms() - fresh.start_ms);
	printf("flood %ld %ld\n", opened, cut);
	if (fresh.fd >= 0)
		close(fresh.fd);
	for (long i = 0; i < conns; i++)
		if (fl[i].fd >= 0)
			close(fl[i].fd);
	return 0;
}

int main(int argc, char **argv)
{
	long port;

	if (argc < 3 || (port = arg_number(argv[2])) < 1 || port > 65535)
		return usage();
	if (strcmp(argv[1], "cut") == 0 && (argc == 6 || argc == 7)) {
		long interval = arg_number(argv[4]), bound = arg_number(argv[5]);

		if (interval < 1 || bound < 1)
			return usage();
		return run_cut((uint16_t)port, argv[3], interval, bound,
			       argc == 7 ? argv[6] : NULL);
	}
	if (strcmp(argv[1], "flood") == 0 && argc == 8)
		return run_flood((uint16_t)port, arg_number(argv[3]),
				 arg_number(argv[4]), arg_number(argv[5]),
				 arg_number(argv[6]), arg_number(argv[7]));
	return usage();
}
