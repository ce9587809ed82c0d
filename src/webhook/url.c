/*
 * The check of an endpoint's URL before it is stored and before each
 * delivery. libcurl parses it, as it will when it sends: this file holds
 * no URL parser of its own, only the rules on the parts libcurl gives back.
 * A host that is an address is judged as rd_webhook_address_allowed judges
 * the address of a connection; a name is left to that check at connect.
 * See include/redress/webhook.h.
 */
#include "webhook/webhook_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int webhook_curl_init(rd_error *err)
{
	if (pthread_once(&curl_once, curl_init_once) != 0 ||
	    curl_init_result != CURLE_OK)
		return rd_error_set(err, RD_EINTERNAL,
				    "libcurl could not be initialised (%s)",
				    curl_easy_strerror(curl_init_result));
	return RD_OK;
}

/* The part of u, or NULL when it has none; a new string (curl_free). */
static char *url_part(CURLU *u, CURLUPart what)
{
	char *part = NULL;

	if (curl_url_get(u, what, &part, 0) != CURLUE_OK) {
		curl_free(part);
		return NULL;
	}
	return part;
}

/* "localhost", "LOCALHOST." and names under ".localhost" (RFC 6761). */
static int is_localhost(const char *host, size_t len)
{
	static const char suffix[] = ".localhost";
	size_t suffix_len = sizeof(suffix) - 1;

	if (len == suffix_len - 1 && strncasecmp(host, suffix + 1, len) == 0)
		return 1;
	return len > suffix_len &&
	       strncasecmp(host + len - suffix_len, suffix, suffix_len) == 0;
}

/*
 * The address a host names by its spelling alone, into *addr: an IPv6
 * address (brackets removed by the caller), or an IPv4 address in any form
 * the system's resolver takes for one (inet_aton: 127.1, 0x7f.1,
 * 2130706433, 0177.0.0.1). libcurl writes the usual IPv4 forms back as
 * dotted quads already; this covers what it leaves. 0 when the host is a
 * name.
 */
static int host_address(struct sockaddr_storage *addr, const char *host)
{
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };

	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
		memcpy(addr, &v6, sizeof(v6));
		return 1;
	}
	if (inet_aton(host, &v4.sin_addr) != 0) {
		memcpy(addr, &v4, sizeof(v4));
		return 1;
	}
	return 0;
}

static int check_host(const char *raw_host, const rd_webhook_options *opts, char *host,
		      size_t host_size, rd_error *err)
{
	char name[RD_WEBHOOK_URL_MAX + 1], why[160];
	struct sockaddr_storage addr;
	size_t len = strlen(raw_host);

	/* [v6] loses its brackets; a root label's dot goes too */
	if (len >= 2 && raw_host[0] == '[' && raw_host[len - 1] == ']') {
		raw_host++;
		len -= 2;
	}
	if (len > 1 && raw_host[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof(name))
		return rd_error_set_field(err, RD_EINVALID, "url",
					  "the endpoint URL has no host");
	memcpy(name, raw_host, len);
	name[len] = '\0';
	if (host != NULL && host_size > 0)
		(void)snprintf(host, host_size, "%s", name);
	if (opts->allow_private)
		return RD_OK;
	if (is_localhost(name, len))
		return rd_error_set_field(err, RD_EINVALID, "url",
					  "the endpoint URL's host %s is this "
					  "machine (loopback): give an address "
					  "reachable from the internet",
					  name);
	if (host_address(&addr, name) &&
	    !rd_webhook_address_allowed((const struct sockaddr *)&addr, why,
					sizeof(why)))
		return rd_error_set_field(err, RD_EINVALID, "url",
					  "the endpoint URL's host %s: give an "
					  "address reachable from the internet",
					  why);
	return RD_OK;
}

int webhook_url_check_host(char *host, size_t host_size, const char *url,
			   const rd_webhook_options *opts, rd_error *err)
{
	static const rd_webhook_options defaults = { 0 };
	CURLU *u = NULL;
	CURLUcode urc;
	char *scheme = NULL, *raw_host = NULL, *user = NULL, *password = NULL,
	     *options = NULL, *fragment = NULL;
	int rc = RD_OK;

	if (host != NULL && host_size > 0)
		host[0] = '\0';
	if (opts == NULL)
		opts = &defaults;
	if (url == NULL || url[0] == '\0')
		return rd_error_set_field(err, RD_EINVALID, "url",
					  "an endpoint needs a URL");
	if (strnlen(url, RD_WEBHOOK_URL_MAX + 1) > RD_WEBHOOK_URL_MAX)
		return rd_error_set_field(err, RD_EINVALID, "url",
					  "the endpoint URL is longer than %d "
					  "bytes",
					  RD_WEBHOOK_URL_MAX);
	if ((rc = webhook_curl_init(err)) < 0)
		return rc;
	u = curl_url();
	if (u == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	/* any scheme parses, so that the message can name the wrong one */
	urc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (urc == CURLUE_OUT_OF_MEMORY) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if (urc != CURLUE_OK) {
		rc = rd_error_set_field(err, RD_EINVALID, "url",
					"the endpoint URL is not an absolute "
					"URL (%s): give one such as "
					"https://hooks.example.com/redress",
					curl_url_strerror(urc));
		goto done;
	}
	scheme = url_part(u, CURLUPART_SCHEME);
	raw_host = url_part(u, CURLUPART_HOST);
	user = url_part(u, CURLUPART_USER);
	password = url_part(u, CURLUPART_PASSWORD);
	options = url_part(u, CURLUPART_OPTIONS);
	fragment = url_part(u, CURLUPART_FRAGMENT);
	if (scheme == NULL ||
	    (strcasecmp(scheme, "https") != 0 &&
	     strcasecmp(scheme, "http") != 0)) {
		rc = rd_error_set_field(err, RD_EINVALID, "url",
					"the endpoint URL must start with "
					"https:// (not %s://)",
					scheme != NULL ? scheme : "");
		goto done;
	}
	if (strcasecmp(scheme, "http") == 0 && !opts->allow_http) {
		rc = rd_error_set_field(err, RD_EINVALID, "url",
					"the endpoint URL must use https://: "
					"plain http:// is not allowed on this "
					"server");
		goto done;
	}
	if (user != NULL || password != NULL || options != NULL) {
		rc = rd_error_set_field(err, RD_EINVALID, "url",
					"the endpoint URL must not hold a user "
					"name or password (user:password@): "
					"deliveries are authenticated by their "
					"signature");
		goto done;
	}
	if (fragment != NULL) {
		rc = rd_error_set_field(err, RD_EINVALID, "url",
					"the endpoint URL must not have a "
					"fragment (#...): it is never sent");
		goto done;
	}
	if (raw_host == NULL) {
		rc = rd_error_set_field(err, RD_EINVALID, "url",
					"the endpoint URL has no host");
		goto done;
	}
	rc = check_host(raw_host, opts, host, host_size, err);
done:
	curl_free(scheme);
	curl_free(raw_host);
	curl_free(user);
	curl_free(password);
	curl_free(options);
	curl_free(fragment);
	curl_url_cleanup(u);
	return rc;
}

int rd_webhook_url_check(const char *url, const rd_webhook_options *opts,
			 rd_error *err)
{
	return webhook_url_check_host(NULL, 0, url, opts, err);
}
