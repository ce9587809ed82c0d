/*
 * HTTP over loopback for the tests and the test tools: a connection, a
 * whole send, one response read back. Plain sockets on purpose: the tests
 * control every byte, including the malformed ones a client library
 * would refuse to send. Nothing here asserts; callers decide.
 */
#ifndef REDRESS_TEST_NET_H
#define REDRESS_TEST_NET_H

#include <stddef.h>
#include <stdint.h>

/* A TCP connection to 127.0.0.1:port, or -1. */
int rd_test_connect(uint16_t port);

/*
 * The same, whose reads give up after timeout_s seconds (0: never), so
 * that a server that hangs ends a test instead of hanging it.
 */
int rd_test_connect_within(uint16_t port, int timeout_s);

/* Send all of text; 0 or -1. */
int rd_test_send_all(int fd, const char *text, size_t len);

/*
 * Read one response into buf: exactly its headers and, unless it is an
 * interim 1xx, Content-Length bytes of body (the connection can carry
 * another request); its status, or -1.
 */
int rd_test_read_response(int fd, char *buf, size_t room);

#endif
