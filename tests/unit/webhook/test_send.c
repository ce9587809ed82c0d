/*
 * Webhook deliveries against a small HTTP receiver started here on
 * 127.0.0.1: the headers and signature that arrive, the status, answer
 * and Retry-After that come back, a redirect that is not followed, a
 * receiver that never answers, an answer too long to read, several
 * deliveries at once, and the address check at connect, reached through
 * a name (REDRESS_TEST_RESOLVE) as well as a literal address.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "redress/webhook.h"

/* The example of the Standard Webhooks specification (see test_sign.c). */
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define TIMESTAMP INT64_C(1614265330)
#define BODY "{\"test\": 2432232314}"
#define SIGNATURE "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

/* A receiver: one thread answering each request with `answer`. */
typedef struct receiver {
	pthread_t thread;
	pthread_mutex_t lock;
	int listen_fd;
	int stop;           /* under lock */
	int requests;       /* requests read, under lock */
	int silent;         /* read requests, never answer */
	uint16_t port;
	char *answer;       /* what is sent back, whole */
	size_t answer_len;
	char first[8192];   /* the first request, under lock */
} receiver;

static int receiver_stopping(receiver *r)
{
	int stop;

	pthread_mutex_lock(&r->lock);
	stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return stop;
}

/* Read one request (headers and Content-Length bytes) into buf. */
static size_t read_request(int fd, char *buf, size_t room)
{
	size_t len = 0;
	const char *end = NULL;

	while (len + 1 < room) {
		ssize_t n = recv(fd, buf + len, room - 1 - len, 0);

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end != NULL) {
			const char *field = strcasestr(buf, "content-length:");
			size_t body = field != NULL ?
					      strtoul(field + 15, NULL, 10) :
					      0;

			if (len >= (size_t)(end + 4 - buf) + body)
				break;
		}
	}
	buf[len] = '\0';
	return len;
}

static void serve_one(receiver *r, int fd)
{
	char request[8192];
	struct timeval limit = { 5, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	if (read_request(fd, request, sizeof(request)) == 0)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->requests++ == 0)
		memcpy(r->first, request, sizeof(r->first));
	pthread_mutex_unlock(&r->lock);
	if (r->silent) {
		/* until the client gives up */
		char byte;

		while (!receiver_stopping(r) && recv(fd, &byte, 1, 0) > 0)
			;
		return;
	}
	(void)rd_test_send_all(fd, r->answer, r->answer_len);
}

static void *receiver_main(void *arg)
{
	receiver *r = arg;

	while (!receiver_stopping(r)) {
		struct pollfd pfd = { .fd = r->listen_fd, .events = POLLIN };
		int fd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		fd = accept(r->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(r, fd);
		close(fd);
	}
	return NULL;
}

/* Listen on 127.0.0.1 and a free port; 0 or -1. */
static int receiver_listen(receiver *r)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (r->listen_fd < 0 ||
	    bind(r->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(r->listen_fd, 16) < 0 ||
	    getsockname(r->listen_fd, (struct sockaddr *)&addr, &len) < 0)
		return -1;
	r->port = ntohs(addr.sin_port);
	return 0;
}

/* Start answering with answer (a new string the receiver frees). */
static int receiver_start(receiver *r, char *answer, size_t answer_len)
{
	r->answer = answer;
	r->answer_len = answer_len;
	return pthread_create(&r->thread, NULL, receiver_main, r) == 0 ? 0 : -1;
}

static void receiver_stop(receiver *r)
{
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	close(r->listen_fd);
	free(r->answer);
	pthread_mutex_destroy(&r->lock);
}

static int receiver_requests(receiver *r)
{
	int n;

	pthread_mutex_lock(&r->lock);
	n = r->requests;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* A receiver answering answer_text; 0 or -1. */
static int receiver_answering(receiver *r, const char *answer_text)
{
	char *answer = strdup(answer_text);

	if (answer == NULL || receiver_listen(r) < 0) {
		free(answer);
		return -1;
	}
	return receiver_start(r, answer, strlen(answer));
}

static const char *const secrets[] = { SECRET };

static rd_webhook_request request_to(const char *url)
{
	rd_webhook_request req = {
		.url = url,
		.id = ID,
		.timestamp = TIMESTAMP,
		.body = BODY,
		.body_len = strlen(BODY),
		.secrets = secrets,
		.secret_count = 1,
	};

	return req;
}

static const rd_webhook_options local = {
	.allow_http = 1,
	.allow_private = 1,
	.timeout_ms = 5000,
	.user_agent = "redress-test/1",
};

static void headers_arrive(void)
{
	receiver r;
	char url[64], first[8192];
	rd_webhook_request req;
	rd_webhook_result result;
	rd_error err = { 0 };

	CHECK(receiver_answering(&r, "HTTP/1.1 200 OK\r\n"
				     "Content-Length: 6\r\n"
				     "Retry-After: 120\r\n"
				     "Connection: close\r\n\r\n"
				     "thanks") == 0);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook",
		       (unsigned)r.port);
	req = request_to(url);
	/* a proxy from the environment is never used */
	(void)setenv("http_proxy", "http://127.0.0.1:9/", 1);
	(void)setenv("HTTPS_PROXY", "http://127.0.0.1:9/", 1);
	(void)setenv("ALL_PROXY", "http://127.0.0.1:9/", 1);
	CHECK_OK(rd_webhook_send(&result, &req, 1, &local, &err), &err);
	(void)unsetenv("http_proxy");
	(void)unsetenv("HTTPS_PROXY");
	(void)unsetenv("ALL_PROXY");
	pthread_mutex_lock(&r.lock);
	memcpy(first, r.first, sizeof(first));
	pthread_mutex_unlock(&r.lock);
	receiver_stop(&r);

	CHECK_STR(result.error, "");
	CHECK_INT(result.status, 200);
	CHECK_STR(result.answer, "thanks");
	CHECK_INT(result.retry_after_s, 120);
	CHECK(result.latency_ms >= 0 && result.latency_ms < 5000);
	CHECK(strncmp(first, "POST /hook HTTP/1.1\r\n", 21) == 0);
	CHECK_HAS(first, "\r\ncontent-type: application/json\r\n");
	CHECK_HAS(first, "\r\nwebhook-id: " ID "\r\n");
	CHECK_HAS(first, "\r\nwebhook-timestamp: 1614265330\r\n");
	CHECK_HAS(first, "\r\nwebhook-signature: " SIGNATURE "\r\n");
	CHECK_HAS(first, "\r\nUser-Agent: redress-test/1\r\n");
	CHECK(strcasestr(first, "x-www-form-urlencoded") == NULL);
	CHECK(strcasestr(first, "\r\nExpect:") == NULL);
	CHECK_HAS(first, "\r\n\r\n" BODY);
}

static void status_answer_and_retry_after(void)
{
	char answer[1024], body[300], url[64];
	receiver r;
	rd_webhook_request req;
	rd_webhook_result result;
	rd_error err = { 0 };
	int len;

	/* "é", a stray continuation byte, 0xff, a NUL; then filler */
	memset(body, 'x', sizeof(body));
	memcpy(body, "busy \xc3\xa9 \x80 \xff \0 ok", 16);
	len = snprintf(answer, sizeof(answer),
		       "HTTP/1.1 503 Service Unavailable\r\n"
		       "Content-Length: %zu\r\n"
		       "Retry-After: Tue, 21 Oct 2059 07:28:00 GMT\r\n"
		       "Connection: close\r\n\r\n",
		       sizeof(body));
	CHECK(len > 0 && (size_t)len + sizeof(body) < sizeof(answer));
	memcpy(answer + len, body, sizeof(body));
	CHECK(receiver_listen(&r) == 0);
	{
		char *copy = malloc((size_t)len + sizeof(body));

		CHECK(copy != NULL);
		memcpy(copy, answer, (size_t)len + sizeof(body));
		CHECK(receiver_start(&r, copy, (size_t)len + sizeof(body)) ==
		      0);
	}
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
		       (unsigned)r.port);
	req = request_to(url);
	CHECK_OK(rd_webhook_send(&result, &req, 1, &local, &err), &err);
	receiver_stop(&r);

	CHECK_STR(result.error, "");
	CHECK_INT(result.status, 503);
	CHECK_INT(strlen(result.answer), RD_WEBHOOK_ANSWER_MAX);
	CHECK(strncmp(result.answer, "busy \xc3\xa9 ? ? ? ok", 16) == 0);
	CHECK_INT(result.answer[RD_WEBHOOK_ANSWER_MAX - 1], 'x');
	/* an HTTP-date: the seconds from now until then */
	{
		int64_t expected = INT64_C(2833946880) - (int64_t)time(NULL);

		CHECK(result.retry_after_s <= expected + 5);
		CHECK(result.retry_after_s >= expected - 5);
	}
}

static void redirect_not_followed(void)
{
	char answer[256], url[64];
	receiver r;
	rd_webhook_request req;
	rd_webhook_result result;
	rd_error err = { 0 };

	CHECK(receiver_listen(&r) == 0);
	(void)snprintf(answer, sizeof(answer),
		       "HTTP/1.1 302 Found\r\n"
		       "Location: http://127.0.0.1:%u/elsewhere\r\n"
		       "Content-Length: 0\r\n"
		       "Connection: close\r\n\r\n",
		       (unsigned)r.port);
	{
		char *copy = strdup(answer);

		CHECK(copy != NULL);
		CHECK(receiver_start(&r, copy, strlen(copy)) == 0);
	}
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
		       (unsigned)r.port);
	req = request_to(url);
	CHECK_OK(rd_webhook_send(&result, &req, 1, &local, &err), &err);
	/* a second request would have come at once; give it a moment */
	usleep(100 * 1000);
	CHECK_INT(receiver_requests(&r), 1);
	receiver_stop(&r);
	CHECK_INT(result.status, 302);
	CHECK_STR(result.error, "");
	CHECK_INT(result.retry_after_s, -1);
}

static void silent_receiver_times_out(void)
{
	rd_webhook_options quick = local;
	char url[64];
	receiver r;
	rd_webhook_request req;
	rd_webhook_result result;
	rd_error err = { 0 };

	CHECK(receiver_listen(&r) == 0);
	r.silent = 1;
	CHECK(receiver_start(&r, NULL, 0) == 0);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
		       (unsigned)r.port);
	req = request_to(url);
	quick.timeout_ms = 500;
	CHECK_OK(rd_webhook_send(&result, &req, 1, &quick, &err), &err);
	receiver_stop(&r);
	CHECK_INT(result.status, 0);
	CHECK_STR(result.error, "timed out after 500 ms");
	CHECK(result.latency_ms >= 400 && result.latency_ms < 3000);
}

static void long_answer_cut(void)
{
	size_t body_len = 200 * 1024;
	char head[128], url[64], *answer;
	receiver r;
	rd_webhook_request req;
	rd_webhook_result result;
	rd_error err = { 0 };
	int len = snprintf(head, sizeof(head),
			   "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			   "Connection: close\r\n\r\n",
			   body_len);

	answer = malloc((size_t)len + body_len);
	CHECK(answer != NULL);
	memcpy(answer, head, (size_t)len);
	memset(answer + len, 'a', body_len);
	CHECK(receiver_listen(&r) == 0);
	CHECK(receiver_start(&r, answer, (size_t)len + body_len) == 0);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
		       (unsigned)r.port);
	req = request_to(url);
	CHECK_OK(rd_webhook_send(&result, &req, 1, &local, &err), &err);
	receiver_stop(&r);
	CHECK_INT(result.status, 200);
	CHECK_STR(result.error, "");
	CHECK_INT(strlen(result.answer), RD_WEBHOOK_ANSWER_MAX);
}

static void several_at_once(void)
{
	const char *const bad_secret[] = { "whsec_nope" };
	char url[64];
	receiver r;
	rd_webhook_request reqs[5];
	rd_webhook_result results[5];
	rd_error err = { 0 };

	CHECK(receiver_answering(&r, "HTTP/1.1 204 No Content\r\n"
				     "Connection: close\r\n\r\n") == 0);
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
		       (unsigned)r.port);
	for (size_t i = 0; i < 5; i++)
		reqs[i] = request_to(url);
	reqs[1].url = "ftp://127.0.0.1/";
	reqs[3].secrets = bad_secret;
	CHECK_OK(rd_webhook_send(results, reqs, 5, &local, &err), &err);
	CHECK_INT(receiver_requests(&r), 3);
	receiver_stop(&r);
	CHECK_INT(results[0].status, 204);
	CHECK_INT(results[2].status, 204);
	CHECK_INT(results[4].status, 204);
	CHECK_STR(results[4].error, "");
	CHECK_INT(results[1].status, 0);
	CHECK_HAS(results[1].error, "url: ");
	CHECK_HAS(results[1].error, "(not ftp://)");
	CHECK_INT(results[3].status, 0);
	CHECK_HAS(results[3].error, "signature: secret 1 of 1");
	CHECK_INT(results[3].retry_after_s, -1);
	/* nothing to send is no error */
	CHECK_OK(rd_webhook_send(NULL, NULL, 0, &local, &err), &err);
	CHECK_FAILS(rd_webhook_send(NULL, reqs, 1, &local, &err), RD_EINVALID);
}

static void private_addresses_refused(void)
{
	rd_webhook_options strict = local, strict_https = local;
	char url[64], resolve[64];
	receiver r;
	rd_webhook_request req;
	rd_webhook_result result;
	rd_error err = { 0 };

	strict.allow_private = 0;
	strict_https.allow_private = 0;
	strict_https.allow_http = 0;
	CHECK(receiver_answering(&r, "HTTP/1.1 200 OK\r\n"
				     "Content-Length: 2\r\n"
				     "Connection: close\r\n\r\nok") == 0);
	/* a literal address is refused before anything is sent */
	(void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
		       (unsigned)r.port);
	req = request_to(url);
	CHECK_OK(rd_webhook_send(&result, &req, 1, &strict, &err), &err);
	CHECK_INT(result.status, 0);
	CHECK_HAS(result.error, "url: ");
	CHECK_HAS(result.error, "127.0.0.1 is a loopback address");

	/* a name that resolves to loopback is refused at connect */
	(void)snprintf(resolve, sizeof(resolve),
		       "other.test:1:10.0.0.1,hook.test:%u:127.0.0.1",
		       (unsigned)r.port);
	CHECK(setenv("REDRESS_TEST_RESOLVE", resolve, 1) == 0);
	(void)snprintf(url, sizeof(url), "http://hook.test:%u/",
		       (unsigned)r.port);
	req = request_to(url);
	CHECK_OK(rd_webhook_send(&result, &req, 1, &strict, &err), &err);
	CHECK_INT(result.status, 0);
	CHECK_STR(result.error, "refused: 127.0.0.1 is a loopback address");
	(void)snprintf(url, sizeof(url), "https://hook.test:%u/",
		       (unsigned)r.port);
	req = request_to(url);
	CHECK_OK(rd_webhook_send(&result, &req, 1, &strict_https, &err),
		 &err);
	CHECK_STR(result.error, "refused: 127.0.0.1 is a loopback address");
	CHECK_INT(receiver_requests(&r), 0);

	/* and allowed when private addresses are */
	(void)snprintf(url, sizeof(url), "http://hook.test:%u/",
		       (unsigned)r.port);
	req = request_to(url);
	CHECK_OK(rd_webhook_send(&result, &req, 1, &local, &err), &err);
	CHECK(unsetenv("REDRESS_TEST_RESOLVE") == 0);
	CHECK_INT(receiver_requests(&r), 1);
	receiver_stop(&r);
	CHECK_STR(result.error, "");
	CHECK_INT(result.status, 200);
	CHECK_STR(result.answer, "ok");
}

static void http_refused_unless_allowed(void)
{
	rd_webhook_options https_only = local;
	rd_webhook_request req = request_to("http://hook.test:9/");
	rd_webhook_result result;
	rd_error err = { 0 };

	https_only.allow_http = 0;
	CHECK_OK(rd_webhook_send(&result, &req, 1, &https_only, &err), &err);
	CHECK_HAS(result.error, "url: the endpoint URL must use https://");
}

int main(void)
{
	RUN(headers_arrive);
	RUN(status_answer_and_retry_after);
	RUN(redirect_not_followed);
	RUN(silent_receiver_times_out);
	RUN(long_answer_cut);
	RUN(several_at_once);
	RUN(private_addresses_refused);
	RUN(http_refused_unless_allowed);
	return rd_test_summary();
}
