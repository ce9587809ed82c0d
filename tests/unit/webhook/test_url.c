/*
 * The check of an endpoint's URL: schemes, user information, fragments,
 * lengths, and hosts that are addresses in any spelling libcurl accepts,
 * with and without the operator's allowances.
 */
#include "test.h"

#include <string.h>

#include "redress/webhook.h"

/* allowed under the defaults, with allow_http, with allow_private */
typedef struct url_case {
	const char *url;
	int by_default, with_http, with_private;
	const char *message; /* in the message when refused by default */
} url_case;

static const url_case cases[] = {
	{ "https://example.com", 1, 1, 1, NULL },
	{ "https://example.com/hooks/redress?x=1", 1, 1, 1, NULL },
	{ "HTTPS://Example.COM:8443/h", 1, 1, 1, NULL },
	{ "https://93.184.216.34/h", 1, 1, 1, NULL },
	{ "https://[2606:4700:4700::1111]/h", 1, 1, 1, NULL },
	{ "http://example.com/h", 0, 1, 0, "https" },
	{ "ftp://example.com/h", 0, 0, 0, "https://" },
	{ "file:///etc/passwd", 0, 0, 0, "https://" },
	{ "gopher://example.com/", 0, 0, 0, "https://" },
	{ "example.com/h", 0, 0, 0, "absolute" },
	{ "/h", 0, 0, 0, "absolute" },
	{ "https://", 0, 0, 0, "absolute" },
	{ "https://u:p@example.com/h", 0, 0, 0, "password" },
	{ "https://u@example.com/h", 0, 0, 0, "password" },
	{ "https://example.com/h#top", 0, 0, 0, "fragment" },
	{ "https://exa mple.com/", 0, 0, 0, "absolute" },
	/* hosts that are this machine or a private network */
	{ "https://127.0.0.1/h", 0, 0, 1, "loopback" },
	{ "https://127.0.0.1./h", 0, 0, 1, "loopback" },
	{ "https://[::1]/h", 0, 0, 1, "loopback" },
	{ "https://[::ffff:127.0.0.1]/h", 0, 0, 1, "loopback" },
	{ "https://[0:0:0:0:0:ffff:7f00:1]/h", 0, 0, 1, "loopback" },
	{ "https://10.0.0.1/h", 0, 0, 1, "private" },
	{ "https://169.254.169.254/latest/meta-data", 0, 0, 1, "link-local" },
	{ "https://[fe80::1%25eth0]/h", 0, 0, 1, "link-local" },
	{ "https://0x7f.1/h", 0, 0, 1, "loopback" },
	{ "https://2130706433/h", 0, 0, 1, "loopback" },
	{ "https://017700000001/h", 0, 0, 1, "loopback" },
	{ "https://127.1/h", 0, 0, 1, "loopback" },
	{ "https://0/h", 0, 0, 1, "unspecified" },
	{ "https://%31%32%37.0.0.1/h", 0, 0, 1, "loopback" },
	{ "https://localhost/h", 0, 0, 1, "loopback" },
	{ "https://LocalHost:8080/h", 0, 0, 1, "loopback" },
	{ "https://localhost./h", 0, 0, 1, "loopback" },
	{ "https://hooks.localhost/h", 0, 0, 1, "loopback" },
	{ "https://localhost.example.com/h", 1, 1, 1, NULL },
	{ "https://notlocalhost/h", 1, 1, 1, NULL },
	{ "http://127.0.0.1:8080/h", 0, 0, 0, "https" },
};

static void url_table(void)
{
	rd_webhook_options defaults = { 0 }, http = { .allow_http = 1 },
			   private = { .allow_private = 1 },
			   both = { .allow_http = 1, .allow_private = 1 };
	rd_error err = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const url_case *c = &cases[i];
		int rc = rd_webhook_url_check(c->url, &defaults, &err);

		if ((rc == RD_OK) != c->by_default) {
			rd_test_fail(__FILE__, __LINE__, "%s: %d (%s)",
				     c->url, rc, err.message);
			return;
		}
		if (rc != RD_OK) {
			CHECK_INT(rc, RD_EINVALID);
			CHECK_STR(err.field, "url");
			CHECK_HAS(err.message, c->message);
		}
		CHECK_INT(rd_webhook_url_check(c->url, NULL, &err) == RD_OK,
			  c->by_default);
		rc = rd_webhook_url_check(c->url, &http, &err);
		if ((rc == RD_OK) != c->with_http) {
			rd_test_fail(__FILE__, __LINE__, "%s with http: %d (%s)",
				     c->url, rc, err.message);
			return;
		}
		rc = rd_webhook_url_check(c->url, &private, &err);
		if ((rc == RD_OK) != c->with_private) {
			rd_test_fail(__FILE__, __LINE__,
				     "%s with private: %d (%s)", c->url, rc,
				     err.message);
			return;
		}
	}
	/* both allowances: plain http to this machine, as the tests do */
	CHECK_OK(rd_webhook_url_check("http://127.0.0.1:8080/h", &both, &err),
		 &err);
	CHECK_OK(rd_webhook_url_check("http://localhost/h", &both, &err),
		 &err);
}

static void messages_say_what_to_do(void)
{
	rd_error err = { 0 };

	CHECK_FAILS(rd_webhook_url_check("https://0x7f.1/h", NULL, &err),
		    RD_EINVALID);
	CHECK_STR(err.message, "the endpoint URL's host 127.0.0.1 is a "
			       "loopback address: give an address reachable "
			       "from the internet");
	CHECK_FAILS(rd_webhook_url_check("http://example.com/", NULL, &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "must use https://");
	CHECK_FAILS(rd_webhook_url_check("ftp://example.com/", NULL, &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "(not ftp://)");
}

static void lengths(void)
{
	char url[RD_WEBHOOK_URL_MAX + 2];
	size_t prefix = strlen("https://example.com/");
	rd_error err = { 0 };

	CHECK_FAILS(rd_webhook_url_check(NULL, NULL, &err), RD_EINVALID);
	CHECK_STR(err.field, "url");
	CHECK_FAILS(rd_webhook_url_check("", NULL, &err), RD_EINVALID);
	memcpy(url, "https://example.com/", prefix);
	memset(url + prefix, 'a', RD_WEBHOOK_URL_MAX - prefix);
	url[RD_WEBHOOK_URL_MAX] = '\0';
	CHECK_OK(rd_webhook_url_check(url, NULL, &err), &err);
	url[RD_WEBHOOK_URL_MAX] = 'a';
	url[RD_WEBHOOK_URL_MAX + 1] = '\0';
	CHECK_FAILS(rd_webhook_url_check(url, NULL, &err), RD_EINVALID);
	CHECK_HAS(err.message, "longer than 2048 bytes");
}

int main(void)
{
	RUN(url_table);
	RUN(messages_say_what_to_do);
	RUN(lengths);
	return rd_test_summary();
}
