/*
 * Webhook deliveries as Standard Webhooks describes them
 * (https://www.standardwebhooks.com/): the check of an endpoint's URL, the
 * check of the address a delivery connects to, the signature, new secrets,
 * the retry schedule, and the HTTP POST itself.
 *
 * This module is the only one that speaks to libcurl. It never follows a
 * redirect, never uses a proxy from the environment, and, unless the
 * operator allows it, never connects to a loopback, private, link-local or
 * otherwise internal address: the check is made on the address libcurl is
 * about to connect to, after its own name resolution, so that no spelling
 * of an address and no name that resolves elsewhere at the time of the
 * call gets past it. It prints nothing and keeps no state between calls
 * but libcurl's one-time global initialisation.
 */
#ifndef REDRESS_WEBHOOK_H
#define REDRESS_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "redress/error.h"
#include "redress/webhook_sizes.h"

/* Whole-attempt timeout when rd_webhook_options.timeout_ms is 0. */
#define RD_WEBHOOK_TIMEOUT_MS_DEFAULT 15000L

/* Bytes of an answer read at most; past them the transfer is ended. */
#define RD_WEBHOOK_ANSWER_READ_MAX (64 * 1024)

/* Retries after the first attempt: rd_webhook_retry_delay(1..this). */
#define RD_WEBHOOK_RETRIES 9

/* How deliveries are made; borrowed by the functions that take it. */
typedef struct rd_webhook_options {
	const char *user_agent; /* "redress/<version>" when NULL */
	long timeout_ms;     /* the whole attempt; RD_WEBHOOK_TIMEOUT_MS_DEFAULT
				when 0 */
	int allow_http;      /* http:// too (tests, on-premise receivers);
				else https only */
	int allow_private;   /* loopback, private, link-local... addresses
				allowed (rd_webhook_address_allowed) */
} rd_webhook_options;

/*
 * Check a URL a user gives for an endpoint, before it is stored: an
 * absolute http(s) URL of at most RD_WEBHOOK_URL_MAX bytes, with a host,
 * without user name or password and without fragment; https unless
 * opts->allow_http. Unless opts->allow_private, a host that is an address
 * (in any spelling libcurl accepts: 127.0.0.1, 127.1, 0x7f.1, 2130706433,
 * [::1]...) must pass rd_webhook_address_allowed, and "localhost" and the
 * names under ".localhost" are refused. Other names pass: where they lead
 * is checked at each connection by rd_webhook_send.
 *
 * The URL is parsed by libcurl, exactly as rd_webhook_send will parse it.
 * opts may be NULL (all defaults). RD_OK, or RD_EINVALID with field "url"
 * and a message saying what to change.
 */
int rd_webhook_url_check(const char *url, const rd_webhook_options *opts,
			 rd_error *err);

/*
 * Whether a delivery may connect to addr (an AF_INET or AF_INET6 address)
 * when private addresses are not allowed. Refused: loopback (127/8, ::1),
 * private (10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10), shared
 * (100.64/10), link-local (169.254/16, fe80::/10), multicast (224/4,
 * ff00::/8), unspecified (0/8, ::), broadcast (255.255.255.255), reserved
 * (192.0.0/24, 240/4, 100::/64, 64:ff9b:1::/48), benchmarking (198.18/15),
 * documentation (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32),
 * and any other family. An IPv4 address inside IPv6 (::ffff:0:0/96 mapped,
 * 64:ff9b::/96 NAT64, ::/96 compatible, 2002::/16 6to4) is judged by the
 * IPv4 address it holds.
 *
 * Returns 1 when allowed, 0 when refused; then why (why_size bytes, may be
 * NULL when why_size is 0) says so: "127.0.0.1 is a loopback address".
 */
int rd_webhook_address_allowed(const struct sockaddr *addr, char *why,
			       size_t why_size);

/*
 * The value of a webhook-signature header: "v1,<signature>" for each of
 * the secret_count secrets, separated by one space, where a signature is
 * base64 of HMAC-SHA256(key, id "." timestamp "." body) and a secret is
 * "whsec_" followed by the base64 of its key (24 to 64 bytes; padding
 * optional). Several secrets sign while an endpoint's secret is rotated.
 *
 * *out is a new string (free()). RD_EINVALID (field "secret") for a
 * malformed secret or no secret at all, with the secret's position, never
 * its text; RD_EINVALID (field "id") for an id that is empty, longer than
 * 255 bytes, or not printable ASCII without spaces; RD_EINVALID for a
 * negative timestamp; RD_ENOMEM. *out is NULL on error.
 */
int rd_webhook_sign(char **out, const char *const *secrets,
		    size_t secret_count, const char *id, int64_t timestamp,
		    const char *body, size_t body_len, rd_error *err);

/*
 * A new secret, "whsec_" and the base64 of RD_WEBHOOK_SECRET_BYTES bytes
 * from getrandom(), NUL-terminated into out. RD_EIO when the system gives
 * no randomness.
 */
int rd_webhook_secret_new(char out[RD_WEBHOOK_SECRET_BUFSZ], rd_error *err);

/*
 * The delay in seconds before retry number `attempt` of a delivery
 * (1: after the first attempt failed; the first attempt is made at once,
 * and attempt 0 gives 0). The schedule is 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 14 h, 20 h, 24 h: RD_WEBHOOK_RETRIES retries over a little more
 * than three days, after which (attempt > RD_WEBHOOK_RETRIES) it returns -1: the
 * delivery has failed for good. Each delay but the first moves by up to
 * 10% either way, chosen by `random` (any value, e.g. from getrandom), so
 * that deliveries that failed together do not all come back together; the
 * same `random` always gives the same delay. A Retry-After from the
 * receiver is the caller's to honour on top of this.
 */
int64_t rd_webhook_retry_delay(int attempt, uint64_t random);

/* One delivery to make; every pointer borrowed for the call. */
typedef struct rd_webhook_request {
	const char *url;      /* the endpoint, as rd_webhook_url_check allows */
	const char *id;       /* webhook-id: the same on every retry */
	const char *body;     /* the JSON payload, body_len bytes */
	const char *const *secrets; /* secret_count secrets that sign it */
	size_t body_len;
	size_t secret_count;
	int64_t timestamp;    /* webhook-timestamp, Unix seconds */
} rd_webhook_request;

/* What came of one delivery. */
typedef struct rd_webhook_result {
	int64_t latency_ms;     /* from start to the end of the answer */
	int64_t retry_after_s;  /* the answer's Retry-After (delta-seconds, or
				   an HTTP-date less now, at least 0); -1 when
				   absent or unparsable */
	long status;            /* the HTTP status; 0 when none came */
	/* the first RD_WEBHOOK_ANSWER_MAX bytes of the answer's body,
	   NUL-terminated; each byte that is not part of valid UTF-8, and
	   each NUL, replaced by '?', so that it is valid JSON string text */
	char answer[RD_WEBHOOK_ANSWER_MAX + 1];
	/* "" when a whole answer came; else what failed, for a person:
	   "refused: 127.0.0.1 is a loopback address", "timed out after
	   15 s", "could not resolve host hook.example", "TLS: ...",
	   "url: ...", "signature: ..." (status may be set too when an
	   answer was cut short) */
	char error[256];
} rd_webhook_result;

/*
 * Make the n deliveries of reqs at once and wait for all of them; each
 * ends within opts->timeout_ms. results[i] (n of them, the caller's) is
 * filled for reqs[i], always.
 *
 * Each is a POST of the body with the headers content-type:
 * application/json, webhook-id, webhook-timestamp, webhook-signature
 * (rd_webhook_sign) and user-agent. The URL must pass rd_webhook_url_check
 * with opts; libcurl may use https only (http too with allow_http), never
 * follows a redirect (a 3xx is an answer like any other), ignores the
 * proxy environment variables, and, unless allow_private, connects only to
 * addresses rd_webhook_address_allowed allows, checked on the address it
 * is about to connect to. At most RD_WEBHOOK_ANSWER_READ_MAX bytes of an
 * answer are read.
 *
 * A failed delivery is a result, not an error: the function fails only
 * when it cannot run at all: RD_ENOMEM, RD_EINTERNAL when libcurl cannot
 * be initialised, RD_EINVALID when results or reqs is NULL with n > 0 or
 * opts->user_agent holds a control character.
 * opts may be NULL (all defaults). Several threads may call it at once.
 *
 * For tests only: when the environment variable REDRESS_TEST_RESOLVE is
 * set, its entries ("host:port:address", libcurl's CURLOPT_RESOLVE form,
 * several separated by commas) make those names resolve to those
 * addresses without DNS. Never set it in production.
 */
int rd_webhook_send(rd_webhook_result *results,
		    const rd_webhook_request *reqs, size_t n,
		    const rd_webhook_options *opts, rd_error *err);

#endif
