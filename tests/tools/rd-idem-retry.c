/*
 * rd-idem-retry PORT KEY BODY_FILE TRIES: for each try i, POST the body
 * (BODY_FILE, its first "{N}" replaced by i) to /v1/disputes with
 * "Idempotency-Key: retry-<pid>-<i>" on one connection, read the whole
 * answer, then at once send the same request again on a new connection:
 * a client retrying after it read the answer. Prints one line,
 *
 *   first F replayed R in_flight C other O
 *
 * F first requests answered 201, R retries answered 201 with
 * "Idempotent-Replayed: true", C retries answered 409 (the key still in
 * flight), O retries answered anything else. Exits 1 only when it cannot
 * talk to the server; the test judges the figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net.h"

#define BODY_MAX 65536
#define REQUEST_MAX (BODY_MAX + 1024)

static char template_text[BODY_MAX];
static char body[BODY_MAX];
static char request[REQUEST_MAX];
static char answer[BODY_MAX];

/* One request on a new connection: its status (-1: no answer). */
static int post(uint16_t port, size_t len)
{
	int fd = rd_test_connect_within(port, 10);
	int status;

	if (fd < 0)
		return -1;
	status = rd_test_send_all(fd, request, len) < 0
		 ? -1 : rd_test_read_response(fd, answer, sizeof(answer));
	close(fd);
	return status;
}

int main(int argc, char **argv)
{
	FILE *f;
	size_t got;
	long port, tries;
	long first = 0, replayed = 0, in_flight = 0, other = 0;
	const char *mark;

	if (argc != 5 || (port = strtol(argv[1], NULL, 10)) < 1 ||
	    port > 65535 || (tries = strtol(argv[4], NULL, 10)) < 1) {
		fprintf(stderr, "usage: rd-idem-retry PORT KEY BODY_FILE "
			"TRIES\n");
		return 2;
	}
	if (!(f = fopen(argv[3], "rb"))) {
		perror(argv[3]);
		return 1;
	}
	got = fread(template_text, 1, sizeof(template_text) - 1, f);
	(void)fclose(f);   /* read only */
	template_text[got] = '\0';
	if (!(mark = strstr(template_text, "{N}"))) {
		fprintf(stderr, "rd-idem-retry: %s has no {N}\n", argv[3]);
		return 1;
	}
	for (long i = 1; i <= tries; i++) {
		int n = snprintf(body, sizeof(body), "%.*s%ld%s",
				 (int)(mark - template_text), template_text,
				 i, mark + 3);
		int len = snprintf(request, sizeof(request),
				   "POST /v1/disputes HTTP/1.1\r\n"
				   "Host: 127.0.0.1\r\n"
				   "Authorization: Bearer %s\r\n"
				   "Content-Type: application/json\r\n"
				   "Idempotency-Key: retry-%ld-%ld\r\n"
				   "Content-Length: %d\r\n\r\n%s",
				   argv[2], (long)getpid(), i, n, body);
		int status;

		if (n < 0 || (size_t)n >= sizeof(body) || len < 0 ||
		    (size_t)len >= sizeof(request))
			return 1;
		if ((status = post((uint16_t)port, (size_t)len)) < 0) {
			fprintf(stderr, "rd-idem-retry: no answer to try %ld\n",
				i);
			return 1;
		}
		if (status == 201)
			first++;
		status = post((uint16_t)port, (size_t)len);
		if (status == 201 &&
		    strstr(answer, "\r\nIdempotent-Replayed: true\r\n"))
			replayed++;
		else if (status == 409)
			in_flight++;
		else
			other++;
	}
	printf("first %ld replayed %ld in_flight %ld other %ld\n", first,
	       replayed, in_flight, other);
	return 0;
}
