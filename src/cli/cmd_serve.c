/*
 * redress serve: run the HTTP API until SIGINT or SIGTERM, then stop
 * gracefully (requests in flight are finished). It announces the address
 * it listens on, so that scripts can read the port chosen for port 0; it
 * never opens a service itself (each worker thread of the server does).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "redress/http.h"

/* --rate-limit N: requests per second per key, 0 (off) to 1000000. */
static int parse_rate_limit(unsigned *out, const char *text, rd_error *err)
{
	char *end = NULL;
	long long value;

	*out = RD_HTTP_DEFAULT_RATE_LIMIT;
	if (!text)
		return RD_OK;
	errno = 0;
	value = (text[0] >= '0' && text[0] <= '9') ? strtoll(text, &end, 10)
						   : -1;
	if (value < 0 || errno || *end != '\0' || value > 1000000)
		return rd_error_set_field(err, RD_EUSAGE, "rate-limit",
					  "--rate-limit must be a number of "
					  "requests per second from 0 (no "
					  "limit) to 1000000, not \"%.32s\"",
					  text);
	*out = (unsigned)value;
	return RD_OK;
}

int cli_cmd_serve(cli_ctx *ctx, rd_error *err)
{
	const char *listen = cli_opt(&ctx->args, "listen");
	rd_http_server *server = NULL;
	rd_http_options opts;
	char host[64];
	sigset_t stop_signals;
	size_t hlen;
	int rc, sig = 0;

	if (!listen)
		listen = "127.0.0.1:8080";
	memset(&opts, 0, sizeof(opts));
	opts.listen = listen;
	opts.service.data_dir = ctx->data_dir;
	opts.service.workflows_dir = ctx->workflows_dir;
	opts.service.kinds_path = ctx->kinds_path;
	opts.service.policy_path = ctx->policy_path;
	if ((rc = parse_rate_limit(&opts.rate_limit,
				   cli_opt(&ctx->args, "rate-limit"),
				   err)) < 0)
		return rc;

	/* Block the stop signals before any thread starts: all inherit it. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &stop_signals, NULL) != 0)
		return rd_error_set(err, RD_EIO, "cannot block SIGINT/SIGTERM");
	if ((rc = rd_http_start(&server, &opts, err)) < 0)
		return rc;

	hlen = strcspn(listen, ":");
	if (hlen >= sizeof(host))
		hlen = sizeof(host) - 1;
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	printf("redress listening on http://%s:%u\n", host,
	       (unsigned)rd_http_port(server));
	fflush(stdout);

	while (sigwait(&stop_signals, &sig) != 0)
		;
	fprintf(stderr, "redress: %s received, stopping\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM");
	rd_http_stop(server);
	return RD_OK;
}
