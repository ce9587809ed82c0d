/*
 * Webhook deliveries over HTTP with libcurl: several at once on one multi
 * handle, each a POST with its signature, bounded in time and in the bytes
 * read back, never redirected, never through a proxy, and - unless the
 * operator allows private addresses - checked at the moment libcurl opens
 * its socket, on the address it resolved itself. A failed delivery is
 * described in its result for the caller to log and retry; this file
 * decides nothing about retries and keeps nothing between calls.
 * See include/redress/webhook.h.
 */
#include "webhook/webhook_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

#ifndef REDRESS_VERSION
#define REDRESS_VERSION "0"
#endif
#define USER_AGENT_DEFAULT "redress/" REDRESS_VERSION
/* Test only: extra name resolutions, libcurl's CURLOPT_RESOLVE form. */
#define TEST_RESOLVE_ENV "REDRESS_TEST_RESOLVE"
/* Retry-After values are cut to this (about 68 years). */
#define RETRY_AFTER_MAX INT64_C(2147483647)

/* One delivery in flight. */
typedef struct delivery {
	rd_webhook_result *result;
	CURL *easy;
	struct curl_slist *headers;
	char *signature;
	size_t answer_len;      /* bytes kept in result->answer */
	size_t read_len;        /* bytes of the answer read in all */
	int added;              /* on the multi handle */
	int read_too_much;      /* ended on purpose past the read limit */
	char host[256];
	char refused[160];      /* why the address check refused a socket */
	char curl_error[CURL_ERROR_SIZE];
} delivery;

/* --- callbacks ------------------------------------------------------------ */

static size_t on_answer(char *bytes, size_t size, size_t count, void *userdata)
{
	delivery *d = userdata;
	size_t len = size * count, room = RD_WEBHOOK_ANSWER_MAX - d->answer_len;
	size_t keep = len < room ? len : room;

	memcpy(d->result->answer + d->answer_len, bytes, keep);
	d->answer_len += keep;
	d->read_len += len;
	if (d->read_len > RD_WEBHOOK_ANSWER_READ_MAX) {
		d->read_too_much = 1;
		return 0; /* ends the transfer: CURLE_WRITE_ERROR */
	}
	return len;
}

/*
 * Called by libcurl for each address it is about to connect to, after its
 * own name resolution; refusing here is refusing that connection, whatever
 * name or spelling led to it.
 */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose,
				    struct curl_sockaddr *address)
{
	delivery *d = clientp;
	struct sockaddr_storage addr;

	(void)purpose;
	memset(&addr, 0, sizeof(addr));
	memcpy(&addr, &address->addr,
	       address->addrlen < sizeof(addr) ? address->addrlen
					       : sizeof(addr));
	if (!rd_webhook_address_allowed((const struct sockaddr *)&addr,
					d->refused, sizeof(d->refused)))
		return CURL_SOCKET_BAD;
	return socket(address->family, address->socktype | SOCK_CLOEXEC,
		      address->protocol);
}

/* --- the answer ----------------------------------------------------------- */

static int continuation(const unsigned char *at, size_t i, size_t len)
{
	return i < len && (at[i] & 0xc0) == 0x80;
}

/*
 * Length of the valid UTF-8 sequence at the start of text (len bytes), or
 * 0 when it is not one (a NUL counts as not one: it would end the string).
 */
static size_t utf8_sequence(const unsigned char *text, size_t len)
{
	unsigned char c = text[0];
	unsigned char low = 0x80, high = 0xbf;
	size_t need;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3;
	else
		return 0;
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if (c == 0xe0)
		low = 0xa0;
	else if (c == 0xed)
		high = 0x9f;
	else if (c == 0xf0)
		low = 0x90;
	else if (c == 0xf4)
		high = 0x8f;
	if (len < 2 || text[1] < low || text[1] > high)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if (!continuation(text, i, len))
			return 0;
	return need + 1;
}

/* Replace what is not UTF-8 in answer (len bytes) by '?'; add the NUL. */
static void answer_clean(char *answer, size_t len)
{
	unsigned char *text = (unsigned char *)answer;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_sequence(text + i, len - i);

		if (n == 0) {
			text[i] = '?';
			n = 1;
		}
		i += n;
	}
	answer[len] = '\0';
}

/* Retry-After: delta-seconds, or an HTTP-date less now; -1 if neither. */
static int64_t retry_after_parse(const char *value, time_t now)
{
	int64_t seconds = 0;
	time_t when;

	while (*value == ' ' || *value == '\t')
		value++;
	if (*value >= '0' && *value <= '9') {
		for (; *value >= '0' && *value <= '9'; value++) {
			seconds = seconds * 10 + (*value - '0');
			if (seconds > RETRY_AFTER_MAX)
				seconds = RETRY_AFTER_MAX;
		}
		while (*value == ' ' || *value == '\t')
			value++;
		return *value == '\0' ? seconds : -1;
	}
	when = curl_getdate(value, NULL);
	if (when == -1)
		return -1;
	if (when <= now)
		return 0;
	return (int64_t)(when - now) > RETRY_AFTER_MAX ? RETRY_AFTER_MAX
						       : (int64_t)(when - now);
}

static int is_tls_error(CURLcode code)
{
	switch (code) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

/* libcurl's own words for code: its error buffer, else the code's text. */
static const char *curl_words(const delivery *d, CURLcode code)
{
	return d->curl_error[0] != '\0' ? d->curl_error
					: curl_easy_strerror(code);
}

static void describe_failure(delivery *d, CURLcode code, long timeout_ms)
{
	char *error = d->result->error;
	size_t size = sizeof(d->result->error);

	if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && d->read_too_much))
		error[0] = '\0';
	else if (code == CURLE_OPERATION_TIMEDOUT && timeout_ms % 1000 == 0)
		(void)snprintf(error, size, "timed out after %ld s",
			       timeout_ms / 1000);
	else if (code == CURLE_OPERATION_TIMEDOUT)
		(void)snprintf(error, size, "timed out after %ld ms",
			       timeout_ms);
	else if (code == CURLE_COULDNT_RESOLVE_HOST)
		(void)snprintf(error, size, "could not resolve host %.200s",
			       d->host);
	else if (code == CURLE_COULDNT_CONNECT && d->refused[0] != '\0')
		(void)snprintf(error, size, "refused: %s", d->refused);
	else if (code == CURLE_COULDNT_CONNECT)
		(void)snprintf(error, size, "could not connect: %.230s",
			       curl_words(d, code));
	else if (is_tls_error(code))
		(void)snprintf(error, size, "TLS: %.240s", curl_words(d, code));
	else
		(void)snprintf(error, size, "%s", curl_words(d, code));
}

/* Fill d's result once its transfer has ended with code. */
static void finish(delivery *d, CURLcode code, long timeout_ms)
{
	rd_webhook_result *result = d->result;
	struct curl_header *header = NULL;
	curl_off_t total_us = 0;
	long status = 0;

	if (curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status) ==
	    CURLE_OK)
		result->status = status;
	if (curl_easy_getinfo(d->easy, CURLINFO_TOTAL_TIME_T, &total_us) ==
	    CURLE_OK)
		result->latency_ms = (int64_t)total_us / 1000;
	answer_clean(result->answer, d->answer_len);
	if (result->status > 0 &&
	    curl_easy_header(d->easy, "Retry-After", 0, CURLH_HEADER, -1,
			     &header) == CURLHE_OK)
		result->retry_after_s =
			retry_after_parse(header->value, time(NULL));
	describe_failure(d, code, timeout_ms);
}

/* --- setting a delivery up ------------------------------------------------ */

/* The REDRESS_TEST_RESOLVE entries as a list; *out NULL when unset. */
static int test_resolve_list(struct curl_slist **out, rd_error *err)
{
	const char *value = getenv(TEST_RESOLVE_ENV);
	struct curl_slist *list = NULL;
	char entry[512];

	*out = NULL;
	while (value != NULL && *value != '\0') {
		size_t len = strcspn(value, ",");
		struct curl_slist *longer;

		if (len > 0 && len < sizeof(entry)) {
			memcpy(entry, value, len);
			entry[len] = '\0';
			longer = curl_slist_append(list, entry);
			if (longer == NULL) {
				curl_slist_free_all(list);
				return rd_error_set(err, RD_ENOMEM,
						    "out of memory");
			}
			list = longer;
		}
		value += len;
		if (*value == ',')
			value++;
	}
	*out = list;
	return RD_OK;
}

static int append_header(struct curl_slist **list, rd_error *err,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int append_header(struct curl_slist **list, rd_error *err,
			 const char *fmt, ...)
{
	char line[1024];
	struct curl_slist *longer;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(line))
		return rd_error_set(err, RD_EINTERNAL,
				    "a webhook header is too long");
	longer = curl_slist_append(*list, line);
	if (longer == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	*list = longer;
	return RD_OK;
}

static int curl_failure(CURLcode code, rd_error *err)
{
	if (code == CURLE_OUT_OF_MEMORY)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return rd_error_set(err, RD_EINTERNAL,
			    "libcurl refused a webhook option (%s): libcurl "
			    "7.85 or later, built with http and https, is "
			    "needed",
			    curl_easy_strerror(code));
}

static int configure(delivery *d, const rd_webhook_request *req,
		     const rd_webhook_options *opts, long timeout_ms,
		     const char *user_agent, struct curl_slist *resolve,
		     rd_error *err)
{
	const char *protocols = opts->allow_http ? "http,https" : "https";
	const char *body = req->body != NULL ? req->body : "";
	CURL *easy = d->easy;
	CURLcode c = CURLE_OK;

#define SET(option, value)                                                   \
	do {                                                                 \
		if (c == CURLE_OK)                                           \
			c = curl_easy_setopt(easy, option, value);           \
	} while (0)
	SET(CURLOPT_PRIVATE, (void *)d);
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, protocols);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	/* "" uses no proxy, whatever http_proxy and friends say */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, timeout_ms);
	SET(CURLOPT_USERAGENT, user_agent);
	SET(CURLOPT_HTTPHEADER, d->headers);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	SET(CURLOPT_POSTFIELDS, body);
	SET(CURLOPT_WRITEFUNCTION, on_answer);
	SET(CURLOPT_WRITEDATA, (void *)d);
	SET(CURLOPT_ERRORBUFFER, d->curl_error);
	if (resolve != NULL)
		SET(CURLOPT_RESOLVE, resolve);
	if (!opts->allow_private) {
		SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
		SET(CURLOPT_OPENSOCKETDATA, (void *)d);
	}
#undef SET
	return c == CURLE_OK ? RD_OK : curl_failure(c, err);
}

/*
 * Prepare d for req. RD_OK with d->easy set when it is to be sent, RD_OK
 * with d->easy NULL and the result's error set when the request itself is
 * wrong; < 0 when nothing can be sent at all.
 */
static int prepare(delivery *d, const rd_webhook_request *req,
		   const rd_webhook_options *opts, long timeout_ms,
		   const char *user_agent, struct curl_slist *resolve,
		   rd_error *err)
{
	rd_webhook_result *result = d->result;
	rd_error problem = { 0 };
	int rc;

	rc = webhook_url_check_host(d->host, sizeof(d->host), req->url, opts,
				    &problem);
	if (rc == RD_EINVALID) {
		(void)snprintf(result->error, sizeof(result->error), "url: %.240s",
			       problem.message);
		return RD_OK;
	}
	if (rc < 0)
		return rd_error_set(err, rc, "%s", problem.message);
	rc = rd_webhook_sign(&d->signature, req->secrets, req->secret_count,
			     req->id, req->timestamp, req->body, req->body_len,
			     &problem);
	if (rc == RD_EINVALID) {
		(void)snprintf(result->error, sizeof(result->error),
			       "signature: %.240s", problem.message);
		return RD_OK;
	}
	if (rc < 0)
		return rd_error_set(err, rc, "%s", problem.message);
	if ((rc = append_header(&d->headers, err, "%s",
				"content-type: application/json")) < 0 ||
	    (rc = append_header(&d->headers, err, "webhook-id: %s",
				req->id)) < 0 ||
	    (rc = append_header(&d->headers, err,
				"webhook-timestamp: %" PRId64,
				req->timestamp)) < 0 ||
	    (rc = append_header(&d->headers, err, "webhook-signature: %s",
				d->signature)) < 0 ||
	    /* no "Expect: 100-continue" and its wait on larger bodies */
	    (rc = append_header(&d->headers, err, "%s", "Expect:")) < 0)
		return rc;
	d->easy = curl_easy_init();
	if (d->easy == NULL)
		return rd_error_set(err, RD_EINTERNAL,
				    "libcurl could not make a transfer");
	return configure(d, req, opts, timeout_ms, user_agent, resolve, err);
}

/* --- the whole call ------------------------------------------------------- */

static int user_agent_valid(const char *user_agent)
{
	for (const char *at = user_agent; *at != '\0'; at++)
		if ((unsigned char)*at < ' ' || *at == 0x7f)
			return 0;
	return 1;
}

/* Run the transfers on multi until every one has ended. */
static int run(CURLM *multi, long timeout_ms, rd_error *err)
{
	int running = 1;

	while (running > 0) {
		CURLMcode mc = curl_multi_perform(multi, &running);

		if (mc == CURLM_OK && running > 0)
			mc = curl_multi_poll(multi, NULL, 0,
					     (int)(timeout_ms < 1000 ? timeout_ms
								     : 1000),
					     NULL);
		if (mc == CURLM_OUT_OF_MEMORY)
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		if (mc != CURLM_OK)
			return rd_error_set(err, RD_EINTERNAL,
					    "libcurl failed while sending "
					    "webhooks (%s)",
					    curl_multi_strerror(mc));
	}
	return RD_OK;
}

int rd_webhook_send(rd_webhook_result *results,
		    const rd_webhook_request *reqs, size_t n,
		    const rd_webhook_options *opts, rd_error *err)
{
	static const rd_webhook_options defaults = { 0 };
	delivery *deliveries = NULL;
	struct curl_slist *resolve = NULL;
	CURLM *multi = NULL;
	CURLMsg *message;
	const char *user_agent;
	long timeout_ms;
	int rc = RD_OK, left;

	if (n == 0)
		return RD_OK;
	if (results == NULL || reqs == NULL)
		return rd_error_set(err, RD_EINVALID,
				    "rd_webhook_send: no requests or no room "
				    "for their results");
	if (opts == NULL)
		opts = &defaults;
	for (size_t i = 0; i < n; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		results[i].retry_after_s = -1;
	}
	timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms
					  : RD_WEBHOOK_TIMEOUT_MS_DEFAULT;
	user_agent = opts->user_agent != NULL ? opts->user_agent
					      : USER_AGENT_DEFAULT;
	if (!user_agent_valid(user_agent))
		return rd_error_set(err, RD_EINVALID,
				    "the webhook user agent holds a control "
				    "character");
	if ((rc = webhook_curl_init(err)) < 0)
		return rc;
	if ((rc = test_resolve_list(&resolve, err)) < 0)
		goto done;
	deliveries = calloc(n, sizeof(*deliveries));
	multi = curl_multi_init();
	if (deliveries == NULL || multi == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		delivery *d = &deliveries[i];
		CURLMcode mc;

		d->result = &results[i];
		rc = prepare(d, &reqs[i], opts, timeout_ms, user_agent,
			     resolve, err);
		if (rc < 0)
			goto done;
		if (d->easy == NULL)
			continue;
		if ((mc = curl_multi_add_handle(multi, d->easy)) != CURLM_OK) {
			rc = rd_error_set(err, mc == CURLM_OUT_OF_MEMORY ?
						       RD_ENOMEM :
						       RD_EINTERNAL,
					  "libcurl could not start a webhook "
					  "delivery (%s)",
					  curl_multi_strerror(mc));
			goto done;
		}
		d->added = 1;
	}
	if ((rc = run(multi, timeout_ms, err)) < 0)
		goto done;
	while ((message = curl_multi_info_read(multi, &left)) != NULL) {
		delivery *d = NULL;

		if (message->msg != CURLMSG_DONE ||
		    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE,
				      (char **)&d) != CURLE_OK ||
		    d == NULL)
			continue;
		finish(d, message->data.result, timeout_ms);
	}
done:
	for (size_t i = 0; deliveries != NULL && i < n; i++) {
		delivery *d = &deliveries[i];

		if (d->added)
			(void)curl_multi_remove_handle(multi, d->easy);
		curl_easy_cleanup(d->easy);
		curl_slist_free_all(d->headers);
		free(d->signature);
	}
	free(deliveries);
	(void)curl_multi_cleanup(multi);
	curl_slist_free_all(resolve);
	return rc;
}
