/*
 * The address check of webhook deliveries: each refused range at its
 * edges and just outside them, IPv4 and IPv6, and the IPv4 addresses
 * carried inside IPv6 judged by what they carry.
 */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "redress/webhook.h"

/* text: an IPv4 or IPv6 address; why: in the reason, NULL when allowed */
typedef struct address_case {
	const char *text;
	const char *why;
} address_case;

static const address_case cases[] = {
	/* 0.0.0.0/8 */
	{ "0.0.0.0", "unspecified" },
	{ "0.255.255.255", "unspecified" },
	{ "1.0.0.0", NULL },
	/* 10/8 */
	{ "9.255.255.255", NULL },
	{ "10.0.0.0", "private" },
	{ "10.255.255.255", "private" },
	{ "11.0.0.0", NULL },
	/* 100.64/10 */
	{ "100.63.255.255", NULL },
	{ "100.64.0.0", "shared" },
	{ "100.127.255.255", "shared" },
	{ "100.128.0.0", NULL },
	/* 127/8 */
	{ "126.255.255.255", NULL },
	{ "127.0.0.1", "loopback" },
	{ "127.255.255.255", "loopback" },
	{ "128.0.0.0", NULL },
	/* 169.254/16 */
	{ "169.253.255.255", NULL },
	{ "169.254.169.254", "link-local" },
	{ "169.255.0.0", NULL },
	/* 172.16/12 */
	{ "172.15.255.255", NULL },
	{ "172.16.0.0", "private" },
	{ "172.31.255.255", "private" },
	{ "172.32.0.0", NULL },
	/* 192.0.0/24, 192.0.2/24 */
	{ "191.255.255.255", NULL },
	{ "192.0.0.0", "reserved" },
	{ "192.0.0.255", "reserved" },
	{ "192.0.1.0", NULL },
	{ "192.0.2.1", "documentation" },
	{ "192.0.3.0", NULL },
	/* 192.168/16 */
	{ "192.167.255.255", NULL },
	{ "192.168.1.1", "private" },
	{ "192.169.0.0", NULL },
	/* 198.18/15, 198.51.100/24 */
	{ "198.17.255.255", NULL },
	{ "198.18.0.0", "benchmarking" },
	{ "198.19.255.255", "benchmarking" },
	{ "198.20.0.0", NULL },
	{ "198.51.100.7", "documentation" },
	{ "203.0.113.9", "documentation" },
	{ "203.0.114.0", NULL },
	/* 224/4, 240/4, broadcast */
	{ "223.255.255.255", NULL },
	{ "224.0.0.1", "multicast" },
	{ "239.255.255.255", "multicast" },
	{ "240.0.0.0", "reserved" },
	{ "255.255.255.254", "reserved" },
	{ "255.255.255.255", "broadcast" },
	{ "8.8.8.8", NULL },
	{ "93.184.216.34", NULL },

	/* ::, ::1 and ::/96 (IPv4-compatible) */
	{ "::", "unspecified" },
	{ "::1", "loopback" },
	{ "::2", "unspecified" },
	{ "::127.0.0.1", "loopback" },
	{ "::8.8.8.8", NULL },
	{ "::1:0:0:0", NULL },
	/* ::ffff:0:0/96 mapped */
	{ "::ffff:127.0.0.1", "loopback" },
	{ "::ffff:10.1.2.3", "private" },
	{ "::ffff:169.254.169.254", "link-local" },
	{ "::ffff:0.0.0.0", "unspecified" },
	{ "::ffff:8.8.8.8", NULL },
	{ "::fffe:127.0.0.1", NULL },
	/* 64:ff9b::/96 NAT64 and 64:ff9b:1::/48 */
	{ "64:ff9b::127.0.0.1", "loopback" },
	{ "64:ff9b::192.168.0.1", "private" },
	{ "64:ff9b::8.8.8.8", NULL },
	{ "64:ff9b:1::1", "reserved" },
	{ "64:ff9b:2::1", NULL },
	{ "64:ff9a::127.0.0.1", NULL },
	/* 2002::/16 6to4 */
	{ "2002:7f00:1::", "loopback" },
	{ "2002:808:808::1", NULL },
	/* fc00::/7 */
	{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL },
	{ "fc00::", "private" },
	{ "fd12:3456::1", "private" },
	{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private" },
	{ "fe00::", NULL },
	/* fe80::/10, fec0::/10 */
	{ "fe7f:ffff::", NULL },
	{ "fe80::1", "link-local" },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "link-local" },
	{ "fec0::1", "private" },
	{ "ff00::", "multicast" },
	{ "ff02::1", "multicast" },
	{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private" },
	/* documentation, discard-only */
	{ "2001:db8::1", "documentation" },
	{ "2001:db9::1", NULL },
	{ "100::1", "reserved" },
	{ "100:0:0:1::", NULL },
	{ "2606:4700:4700::1111", NULL },
	{ "2a00:1450:4001:82a::200e", NULL },
};

static int judge(const char *text, char *why, size_t why_size)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, text, &v4.sin_addr) == 1)
		return rd_webhook_address_allowed((struct sockaddr *)&v4, why,
						  why_size);
	if (inet_pton(AF_INET6, text, &v6.sin6_addr) == 1)
		return rd_webhook_address_allowed((struct sockaddr *)&v6, why,
						  why_size);
	return -1;
}

static void address_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[160] = "untouched";
		int allowed = judge(cases[i].text, why, sizeof(why));

		if (allowed != (cases[i].why == NULL)) {
			rd_test_fail(__FILE__, __LINE__, "%s: %d (%s)",
				     cases[i].text, allowed, why);
			return;
		}
		if (cases[i].why == NULL)
			CHECK_STR(why, "");
		else
			CHECK_HAS(why, cases[i].why);
	}
}

static void messages(void)
{
	char why[160];

	CHECK_INT(judge("127.0.0.1", why, sizeof(why)), 0);
	CHECK_STR(why, "127.0.0.1 is a loopback address");
	CHECK_INT(judge("::1", why, sizeof(why)), 0);
	CHECK_STR(why, "::1 is a loopback address");
	CHECK_INT(judge("::ffff:169.254.169.254", why, sizeof(why)), 0);
	CHECK_STR(why, "::ffff:169.254.169.254 is a link-local address "
		       "(169.254.169.254 inside IPv6, IPv4-mapped)");
	/* a short buffer is cut, not overrun; none at all is fine */
	CHECK_INT(judge("10.0.0.1", why, 5), 0);
	CHECK_STR(why, "10.0");
	CHECK_INT(judge("10.0.0.1", NULL, 0), 0);
}

static void other_families(void)
{
	struct sockaddr_un local = { .sun_family = AF_UNIX };
	char why[160];

	CHECK_INT(rd_webhook_address_allowed((struct sockaddr *)&local, why,
					     sizeof(why)),
		  0);
	CHECK_HAS(why, "not an IP address");
	CHECK_INT(rd_webhook_address_allowed(NULL, why, sizeof(why)), 0);
}

int main(void)
{
	RUN(address_table);
	RUN(messages);
	RUN(other_families);
	return rd_test_summary();
}
