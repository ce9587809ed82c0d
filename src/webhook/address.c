/*
 * The address check of webhook deliveries: which addresses a delivery may
 * connect to when private addresses are not allowed. One table per
 * family, searched in order, first match wins; an IPv6 range that holds an
 * IPv4 address sends the question to the IPv4 table. This file knows
 * nothing of URLs or names: it judges the bytes of one address.
 * See include/redress/webhook.h.
 */
#include "redress/webhook.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A range of IPv4 addresses, in host order, and what it is. */
typedef struct v4_range {
	const char *what;
	uint32_t network;
	int prefix;
} v4_range;

#define V4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | \
	 (uint32_t)(d))

/* Broadcast comes before 240/4, which holds it. */
static const v4_range v4_refused[] = {
	{ "an unspecified (\"this network\")", V4(0, 0, 0, 0), 8 },
	{ "a private", V4(10, 0, 0, 0), 8 },
	{ "a shared (carrier-grade NAT)", V4(100, 64, 0, 0), 10 },
	{ "a loopback", V4(127, 0, 0, 0), 8 },
	{ "a link-local", V4(169, 254, 0, 0), 16 },
	{ "a private", V4(172, 16, 0, 0), 12 },
	{ "a reserved (IETF protocol assignments)", V4(192, 0, 0, 0), 24 },
	{ "a documentation", V4(192, 0, 2, 0), 24 },
	{ "a private", V4(192, 168, 0, 0), 16 },
	{ "a benchmarking", V4(198, 18, 0, 0), 15 },
	{ "a documentation", V4(198, 51, 100, 0), 24 },
	{ "a documentation", V4(203, 0, 113, 0), 24 },
	{ "a multicast", V4(224, 0, 0, 0), 4 },
	{ "a broadcast", V4(255, 255, 255, 255), 32 },
	{ "a reserved", V4(240, 0, 0, 0), 4 },
};

/*
 * A range of IPv6 addresses and what it is. When embedded_at is not -1
 * the range holds an IPv4 address at that byte offset, which is judged
 * instead (`what` then names the range for the message).
 */
typedef struct v6_range {
	const char *what;
	uint8_t network[16];
	int prefix;
	int embedded_at;
} v6_range;

/* The exact addresses :: and ::1 come before ::/96, which holds them. */
static const v6_range v6_refused[] = {
	{ "an unspecified", { 0 }, 128, -1 },
	{ "a loopback", { [15] = 1 }, 128, -1 },
	{ "IPv4-mapped", { [10] = 0xff, [11] = 0xff }, 96, 12 },
	{ "NAT64", { 0x00, 0x64, 0xff, 0x9b }, 96, 12 },
	{ "IPv4-compatible", { 0 }, 96, 12 },
	{ "6to4", { 0x20, 0x02 }, 16, 2 },
	{ "a reserved (local-use NAT64)", { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 },
	  48, -1 },
	{ "a reserved (discard-only)", { 0x01, 0x00 }, 64, -1 },
	{ "a documentation", { 0x20, 0x01, 0x0d, 0xb8 }, 32, -1 },
	{ "a private (unique local)", { 0xfc }, 7, -1 },
	{ "a link-local", { 0xfe, 0x80 }, 10, -1 },
	{ "a private (site-local)", { 0xfe, 0xc0 }, 10, -1 },
	{ "a multicast", { 0xff }, 8, -1 },
};

static int v4_in(uint32_t address, const v4_range *range)
{
	uint32_t mask = range->prefix == 0 ? 0 :
			UINT32_MAX << (32 - range->prefix);

	return (address & mask) == range->network;
}

static int v6_in(const uint8_t address[16], const v6_range *range)
{
	int whole = range->prefix / 8, bits = range->prefix % 8;

	if (memcmp(address, range->network, (size_t)whole) != 0)
		return 0;
	if (bits == 0)
		return 1;
	{
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		return (address[whole] & mask) == range->network[whole];
	}
}

static void say(char *why, size_t why_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *why, size_t why_size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || why_size == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, why_size, fmt, ap);
	va_end(ap);
}

/* The IPv4 range address (host order) falls in, or NULL. */
static const v4_range *v4_find(uint32_t address)
{
	for (size_t i = 0; i < sizeof(v4_refused) / sizeof(v4_refused[0]); i++)
		if (v4_in(address, &v4_refused[i]))
			return &v4_refused[i];
	return NULL;
}

static int v4_allowed(const struct in_addr *addr, char *why, size_t why_size)
{
	char text[INET_ADDRSTRLEN];
	const v4_range *range = v4_find(ntohl(addr->s_addr));

	if (range == NULL)
		return 1;
	if (inet_ntop(AF_INET, addr, text, sizeof(text)) == NULL)
		(void)snprintf(text, sizeof(text), "?");
	say(why, why_size, "%s is %s address", text, range->what);
	return 0;
}

static int v6_allowed(const struct in6_addr *addr, char *why, size_t why_size)
{
	char text[INET6_ADDRSTRLEN], inner_text[INET_ADDRSTRLEN];
	const uint8_t *bytes = addr->s6_addr;

	if (inet_ntop(AF_INET6, addr, text, sizeof(text)) == NULL)
		(void)snprintf(text, sizeof(text), "?");
	for (size_t i = 0; i < sizeof(v6_refused) / sizeof(v6_refused[0]); i++) {
		const v6_range *range = &v6_refused[i];
		struct in_addr inner;
		const v4_range *inner_range;

		if (!v6_in(bytes, range))
			continue;
		if (range->embedded_at < 0) {
			say(why, why_size, "%s is %s address", text,
			    range->what);
			return 0;
		}
		memcpy(&inner.s_addr, bytes + range->embedded_at, 4);
		inner_range = v4_find(ntohl(inner.s_addr));
		if (inner_range == NULL)
			return 1;
		if (inet_ntop(AF_INET, &inner, inner_text,
			      sizeof(inner_text)) == NULL)
			(void)snprintf(inner_text, sizeof(inner_text), "?");
		say(why, why_size, "%s is %s address (%s inside IPv6, %s)",
		    text, inner_range->what, inner_text, range->what);
		return 0;
	}
	return 1;
}

int rd_webhook_address_allowed(const struct sockaddr *addr, char *why,
			       size_t why_size)
{
	if (why != NULL && why_size > 0)
		why[0] = '\0';
	if (addr == NULL) {
		say(why, why_size, "no address");
		return 0;
	}
	if (addr->sa_family == AF_INET) {
		struct sockaddr_in v4;

		memcpy(&v4, addr, sizeof(v4));
		return v4_allowed(&v4.sin_addr, why, why_size);
	}
	if (addr->sa_family == AF_INET6) {
		struct sockaddr_in6 v6;

		memcpy(&v6, addr, sizeof(v6));
		return v6_allowed(&v6.sin6_addr, why, why_size);
	}
	say(why, why_size, "not an IP address (IPv4 or IPv6)");
	return 0;
}
