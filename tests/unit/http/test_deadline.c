/*
 * The request deadlines on socket pairs, with short limits: a connection
 * is shut down at the deadline of its phase (headers from the accept, the
 * next request line from the last answer, a body from its headers plus
 * the allowance of the bytes received) and never while busy; a closed
 * connection is forgotten, so its socket is never touched again; zero
 * limits are refused. Upper bounds are loose: a loaded machine is slow.
 */
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/deadline.h"
#include "test.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * Milliseconds until the far end of the pair sees the server's end shut
 * down (its read gives 0), or -1 when it does not within `bound` ms.
 */
static long cut_after(int client, uint64_t since, int bound)
{
	struct pollfd p = { client, POLLIN, 0 };
	char c;

	if (poll(&p, 1, bound) != 1 || recv(client, &c, 1, 0) != 0)
		return -1;
	return (long)(now_ms() - since);
}

static const http_deadline_limits limits = {
	.header_ms = 300, .body_ms = 300, .body_min_rate = 1000,
	.idle_ms = 200,
};

static void phases_have_deadlines(void)
{
	http_deadlines *d = NULL;
	int headers[2], idle[2], body[2], busy[2];
	int conn_headers, conn_idle, conn_body, conn_busy;
	uint64_t start;
	rd_error err;
	long ms;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, headers) == 0 &&
	      socketpair(AF_UNIX, SOCK_STREAM, 0, idle) == 0 &&
	      socketpair(AF_UNIX, SOCK_STREAM, 0, body) == 0 &&
	      socketpair(AF_UNIX, SOCK_STREAM, 0, busy) == 0);
	CHECK_OK(http_deadlines_start(&d, &limits, &err), &err);
	start = now_ms();
	http_deadlines_opened(d, &conn_headers, headers[0]);
	http_deadlines_opened(d, &conn_idle, idle[0]);
	http_deadlines_opened(d, &conn_body, body[0]);
	http_deadlines_opened(d, &conn_busy, busy[0]);
	http_deadlines_busy(d, &conn_idle);
	http_deadlines_idle(d, &conn_idle);       /* answered: idle */
	/* 500 bytes at 1000/s earn 500 ms: 800 ms in all */
	http_deadlines_body_start(d, &conn_body, 4000);
	http_deadlines_body_bytes(d, &conn_body, 500);
	http_deadlines_body_start(d, &conn_busy, 0);  /* no body: busy */

	ms = cut_after(idle[1], start, 2000);
	CHECK(ms >= 200 && ms < 1500);
	ms = cut_after(headers[1], start, 2000);
	CHECK(ms >= 300 && ms < 1500);
	ms = cut_after(body[1], start, 2000);
	CHECK(ms >= 800 && ms < 2000);
	CHECK(cut_after(busy[1], start, 500) == -1);
	CHECK(http_deadlines_cut(d) == 3);

	/* a request line on an idle connection gives its headers time */
	http_deadlines_idle(d, &conn_busy);
	usleep(100 * 1000);
	http_deadlines_request_line(d, &conn_busy);
	start = now_ms();
	ms = cut_after(busy[1], start, 2000);
	CHECK(ms >= 250 && ms < 1500);

	http_deadlines_stop(d);
	for (int i = 0; i < 2; i++) {
		close(headers[i]);
		close(idle[i]);
		close(body[i]);
		close(busy[i]);
	}
}

static void closed_is_forgotten(void)
{
	http_deadlines *d = NULL;
	int pair[2], conn;
	rd_error err;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
	CHECK_OK(http_deadlines_start(&d, &limits, &err), &err);
	http_deadlines_opened(d, &conn, pair[0]);
	http_deadlines_closed(d, &conn);
	/* calls for a connection no longer known change nothing */
	http_deadlines_body_start(d, &conn, 10);
	http_deadlines_body_bytes(d, &conn, 10);
	http_deadlines_idle(d, &conn);
	CHECK(cut_after(pair[1], now_ms(), 700) == -1);
	CHECK(http_deadlines_cut(d) == 0);
	http_deadlines_stop(d);
	close(pair[0]);
	close(pair[1]);
}

static void zero_limits_refused(void)
{
	http_deadline_limits zero = limits;
	http_deadlines *d = NULL;
	rd_error err;

	zero.body_min_rate = 0;
	CHECK_FAILS(http_deadlines_start(&d, &zero, &err), RD_EUSAGE);
	CHECK(d == NULL);
	http_deadlines_stop(NULL);
}

int main(void)
{
	RUN(phases_have_deadlines);
	RUN(closed_is_forgotten);
	RUN(zero_limits_refused);
	return rd_test_summary();
}
