/*
 * HTTP over loopback for the tests and the test tools (net.h). It must
 * never retry a request or hide a short read: the tests judge both.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int rd_test_connect_within(uint16_t port, int timeout_s)
{
	struct sockaddr_in addr;
	struct timeval limit = { timeout_s, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((timeout_s > 0 &&
	     setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)) < 0) ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int rd_test_connect(uint16_t port)
{
	return rd_test_connect_within(port, 0);
}

int rd_test_send_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one byte more into buf (kept NUL-terminated); 0 or -1. */
static int read_byte(int fd, char *buf, size_t *len, size_t room)
{
	if (*len + 1 >= room || recv(fd, buf + *len, 1, 0) != 1)
		return -1;
	buf[++*len] = '\0';
	return 0;
}

int rd_test_read_response(int fd, char *buf, size_t room)
{
	size_t len = 0;
	long status = -1, body = 0;
	const char *cl;

	if (room == 0)
		return -1;
	buf[0] = '\0';
	while (!strstr(buf, "\r\n\r\n"))
		if (read_byte(fd, buf, &len, room) < 0)
			return -1;
	if (sscanf(buf, "HTTP/1.1 %ld", &status) != 1)
		return -1;
	if (status >= 200 && (cl = strstr(buf, "Content-Length: ")))
		body = strtol(cl + 16, NULL, 10);
	for (; body > 0; body--)
		if (read_byte(fd, buf, &len, room) < 0)
			return -1;
	return (int)status;
}
