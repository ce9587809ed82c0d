/*
 * redress serve: run the HTTP API, and the SLA sweeper beside it, until
 * SIGINT or SIGTERM, then stop gracefully: the sweeper first (it wakes at
 * once, or ends after the deadline it is firing), then the server
 * (requests in flight are finished). It announces the address it listens
 * on, so that scripts can read the port chosen for port 0, and logs each
 * failed sweep, and each second in which requests found the database out
 * of reach, on standard error with its time; it never opens a service
 * itself (the sweeper and each worker thread of the server do).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "redress/http.h"

#define DEFAULT_SWEEP_INTERVAL_S 10
/* How often the webhook worker looks for events to deliver, in ms. */
#define WEBHOOK_INTERVAL_MS 250
#define DEFAULT_CONNECTION_TIMEOUT_S 30
/* A day: longer makes no sense for either option. */
#define MAX_SECONDS 86400
/* requests per second per key; the server takes no more */
#define MAX_RATE_LIMIT 1000000
/* bytes per second: 1 GiB/s, far above any link it would slow */
#define MAX_BODY_MIN_RATE (1024LL * 1024 * 1024)

/* Log the webhook worker's failed rounds since the last call. */
static void report_webhooks(rd_webhook_worker *w, uint64_t *reported)
{
	char at[RD_TIME_BUFSZ];
	rd_error last;
	uint64_t failures = rd_webhook_worker_failures(w, &last);

	if (failures == *reported)
		return;
	rd_time_format(at, time(NULL));
	fprintf(stderr, "redress: %s webhook delivery round failed (%llu "
		"failure%s so far): %s\n", at, (unsigned long long)failures,
		failures == 1 ? "" : "s", last.message);
	*reported = failures;
}

/* Log the sweeper's failures since the last call, once each. */
static void report_sweeper(rd_sweeper *sweeper, uint64_t *reported)
{
	rd_sweeper_status status;
	char at[RD_TIME_BUFSZ];

	if (!sweeper)
		return;
	rd_sweeper_status_get(sweeper, &status);
	if (status.failures == *reported)
		return;
	rd_time_format(at, status.last_failure_at);
	fprintf(stderr, "redress: %s SLA sweep failed (%llu failure%s so "
		"far; retried every interval): %s\n", at,
		(unsigned long long)status.failures,
		status.failures == 1 ? "" : "s", status.last_error.message);
	*reported = status.failures;
}

/*
 * Log that the database could not be reached, with the store's words that
 * the clients' 503 answers leave out, once for what happened since the
 * last call.
 */
static void report_unavailable(uint64_t *reported)
{
	rd_error last;
	char at[RD_TIME_BUFSZ];
	uint64_t count = rd_http_unavailable(&last);

	if (count == *reported)
		return;
	rd_time_format(at, time(NULL));
	fprintf(stderr, "redress: %s the database could not be reached: "
		"%llu request%s answered 503 since the last report (%llu "
		"in all); the last: %s\n", at,
		(unsigned long long)(count - *reported),
		count - *reported == 1 ? "" : "s",
		(unsigned long long)count, last.message);
	*reported = count;
}

int cli_cmd_serve(cli_ctx *ctx, rd_error *err)
{
	const char *listen = cli_opt(&ctx->args, "listen");
	rd_http_server *server = NULL;
	rd_sweeper *sweeper = NULL;
	rd_webhook_worker *webhooks = NULL;
	rd_webhook_options webhook_opts;
	rd_mirror_writer *mirror = NULL;
	rd_http_options opts;
	long long interval_s = 0, timeout_s = 0, rate = 0;
	long long header_s = 0, body_s = 0, min_rate = 0, idle_s = 0;
	long long slow[5] = { 0 }, writers = 0;
	uint64_t reported = 0, unavailable = 0, webhook_reported = 0;
	char host[64];
	sigset_t stop_signals;
	size_t hlen;
	int rc, sig = 0;

	if (!listen)
		listen = "127.0.0.1:8080";
	memset(&opts, 0, sizeof(opts));
	opts.listen = listen;
	opts.service.data_dir = ctx->data_dir;
	opts.service.store = ctx->store;
	opts.service.workflows_dir = ctx->workflows_dir;
	opts.service.kinds_path = ctx->kinds_path;
	opts.service.policy_path = ctx->policy_path;
	opts.service.calendars_path = ctx->calendars_path;
	opts.service.templates_dir = ctx->templates_dir;
	opts.service.webhook_allow_http =
		cli_flag(&ctx->args, "webhook-allow-http");
	opts.service.webhook_allow_private =
		cli_flag(&ctx->args, "webhook-allow-private");
	memset(&webhook_opts, 0, sizeof(webhook_opts));
	webhook_opts.user_agent = "redress/" REDRESS_VERSION;
	webhook_opts.allow_http = opts.service.webhook_allow_http;
	webhook_opts.allow_private = opts.service.webhook_allow_private;
	if ((rc = cli_opt_number(&interval_s, &ctx->args, "sweep-interval",
				 DEFAULT_SWEEP_INTERVAL_S, 0, MAX_SECONDS,
				 err)) < 0 ||
	    (rc = cli_opt_number(&timeout_s, &ctx->args, "connection-timeout",
				 DEFAULT_CONNECTION_TIMEOUT_S, 1, MAX_SECONDS,
				 err)) < 0 ||
	    (rc = cli_opt_number(&rate, &ctx->args, "rate-limit",
				 RD_HTTP_DEFAULT_RATE_LIMIT, 0, MAX_RATE_LIMIT,
				 err)) < 0 ||
	    (rc = cli_opt_number(&header_s, &ctx->args, "header-timeout",
				 RD_HTTP_DEFAULT_HEADER_TIMEOUT, 1, MAX_SECONDS,
				 err)) < 0 ||
	    (rc = cli_opt_number(&body_s, &ctx->args, "body-timeout",
				 RD_HTTP_DEFAULT_BODY_TIMEOUT, 1, MAX_SECONDS,
				 err)) < 0 ||
	    (rc = cli_opt_number(&min_rate, &ctx->args, "body-min-rate",
				 RD_HTTP_DEFAULT_BODY_MIN_RATE, 1,
				 MAX_BODY_MIN_RATE, err)) < 0 ||
	    (rc = cli_opt_number(&idle_s, &ctx->args, "idle-timeout",
				 RD_HTTP_DEFAULT_IDLE_TIMEOUT, 1, MAX_SECONDS,
				 err)) < 0)
		return rc;
	if ((cli_opt(&ctx->args, "quota-daily") &&
	     (rc = cli_parse_size(&opts.service.quota_daily,
				  cli_opt(&ctx->args, "quota-daily"),
				  "quota-daily", 0, err)) < 0) ||
	    (cli_opt(&ctx->args, "quota-total") &&
	     (rc = cli_parse_size(&opts.service.quota_total,
				  cli_opt(&ctx->args, "quota-total"),
				  "quota-total", 0, err)) < 0))
		return rc;
	opts.connection_timeout_s = (unsigned)timeout_s;
	opts.header_timeout_s = (unsigned)header_s;
	opts.body_timeout_s = (unsigned)body_s;
	opts.body_min_rate = (unsigned)min_rate;
	opts.idle_timeout_s = (unsigned)idle_s;
	opts.rate_limit = (unsigned)rate;
	/* The slow-work bounds; 0 (not given) takes the server's default. */
	if ((rc = cli_opt_number(&slow[0], &ctx->args, "slow-threads", 0, 1,
				 RD_HTTP_MAX_SLOW, err)) < 0 ||
	    (rc = cli_opt_number(&slow[1], &ctx->args, "slow-per-key", 0, 1,
				 RD_HTTP_MAX_SLOW, err)) < 0 ||
	    (rc = cli_opt_number(&slow[2], &ctx->args, "exports-per-key", 0,
				 1, RD_HTTP_MAX_SLOW, err)) < 0 ||
	    (rc = cli_opt_number(&slow[3], &ctx->args, "slow-queue", 0, 1,
				 RD_HTTP_MAX_SLOW, err)) < 0 ||
	    (rc = cli_opt_number(&slow[4], &ctx->args, "slow-timeout", 0, 1,
				 MAX_SECONDS, err)) < 0 ||
	    (rc = cli_opt_number(&writers, &ctx->args, "writers", 0, 1,
				 RD_HTTP_MAX_WRITERS, err)) < 0)
		return rc;
	opts.slow_threads = (unsigned)slow[0];
	opts.slow_per_key = (unsigned)slow[1];
	opts.exports_per_key = (unsigned)slow[2];
	opts.slow_queue = (unsigned)slow[3];
	opts.slow_timeout_s = (unsigned)slow[4];
	opts.writers = (unsigned)writers;

	/* Block the stop signals before any thread starts: all inherit it. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &stop_signals, NULL) != 0)
		return rd_error_set(err, RD_EIO, "cannot block SIGINT/SIGTERM");
	if ((rc = rd_http_start(&server, &opts, err)) < 0)
		return rc;
	/* evidence.git follows the record within about 200 ms */
	if ((rc = rd_mirror_writer_start(&mirror, &opts.service, 200,
					 err)) < 0) {
		rd_http_stop(server);
		return rc;
	}
	if (interval_s > 0 &&
	    (rc = rd_sweeper_start(&sweeper, &opts.service,
				   (uint64_t)interval_s * 1000, rd_clock_now,
				   err)) < 0) {
		rd_mirror_writer_stop(mirror);
		rd_http_stop(server);
		return rc;
	}
	/* webhooks go out within about WEBHOOK_INTERVAL_MS of their change */
	if ((rc = rd_webhook_worker_start(&webhooks, &opts.service,
					  &webhook_opts, WEBHOOK_INTERVAL_MS,
					  err)) < 0) {
		rd_sweeper_stop(sweeper);
		rd_mirror_writer_stop(mirror);
		rd_http_stop(server);
		return rc;
	}

	hlen = strcspn(listen, ":");
	if (hlen >= sizeof(host))
		hlen = sizeof(host) - 1;
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	printf("redress listening on http://%s:%u\n", host,
	       (unsigned)rd_http_port(server));
	(void)fflush(stdout);	/* the server serves either way */

	/* Wake every second to log what the sweeper met meanwhile. */
	for (;;) {
		struct timespec tick = { 1, 0 };

		sig = sigtimedwait(&stop_signals, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		report_sweeper(sweeper, &reported);
		report_webhooks(webhooks, &webhook_reported);
		report_unavailable(&unavailable);
	}
	fprintf(stderr, "redress: %s received, stopping\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	report_sweeper(sweeper, &reported);
	report_unavailable(&unavailable);
	/* The sweeper first: nothing fires once the server stops answering. */
	rd_sweeper_stop(sweeper);
	/* a send under way ends within its timeout; its lease covers a kill */
	rd_webhook_worker_stop(webhooks);
	rd_http_stop(server);
	/* last, so that what the server acknowledged reaches the mirror */
	rd_mirror_writer_stop(mirror);
	return RD_OK;
}
