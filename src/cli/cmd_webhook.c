/*
 * The CLI's webhook commands: the endpoints that receive events for
 * storefronts, their secrets and their delivery logs, as an admin of the
 * data directory (docs/webhooks.md). A secret is printed by create and
 * rotate-secret only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The actor of these commands: the operator of the data directory. */
static void operator_actor(rd_actor *out)
{
	memset(out, 0, sizeof(*out));
	out->role = RD_ROLE_ADMIN;
	snprintf(out->name, sizeof(out->name), "cli");
}

static const char *arg(const cli_ctx *ctx, size_t i)
{
	return ctx->args.positional_count > i ? ctx->args.positional[i] : NULL;
}

static int need_args(const cli_ctx *ctx, size_t count, const char *usage,
		     rd_error *err)
{
	if (ctx->args.positional_count != count)
		return rd_error_set(err, RD_EUSAGE, "usage: redress webhook %s",
				    usage);
	return RD_OK;
}

/* "a,b,c" into at most 64 borrowed pieces of a copy (*copy: free()). */
static int split_events(const char *text, char **copy, const char **events,
			size_t *count, rd_error *err)
{
	char *save = NULL, *part;

	*count = 0;
	if ((*copy = strdup(text)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (part = strtok_r(*copy, ",", &save); part;
	     part = strtok_r(NULL, ",", &save)) {
		if (*count == 64)
			return rd_error_set_field(err, RD_EUSAGE, "events",
						  "--events names too many "
						  "types");
		events[(*count)++] = part;
	}
	return RD_OK;
}

static void print_endpoint(const rd_webhook_endpoint *ep)
{
	char when[RD_TIME_BUFSZ];

	rd_time_format(when, ep->created_at);
	printf("%s  %s\n", ep->id, ep->url);
	printf("  events      %s\n", ep->events);
	printf("  storefront  %s\n", ep->storefront[0] ? ep->storefront
						       : "(every storefront)");
	printf("  enabled     %s%s%s\n", ep->enabled ? "yes" : "no",
	       ep->enabled ? "" : ": ", ep->disabled_reason);
	if (ep->description[0])
		printf("  description %s\n", ep->description);
	printf("  created     %s\n", when);
}

/* An endpoint as JSON or as text; with its secret when one was made. */
static int show_endpoint(cli_ctx *ctx, const rd_webhook_endpoint *ep,
			 int with_secret, rd_error *err)
{
	if (ctx->json)
		return cli_print_json(rd_webhook_endpoint_to_json(ep,
								  with_secret),
				      err);
	print_endpoint(ep);
	if (with_secret)
		printf("secret %s\n", ep->secret);
	if (fflush(stdout) != 0)
		return rd_error_set(err, RD_EIO, "cannot write to standard "
				    "output");
	if (with_secret)
		fprintf(stderr, "the signing secret will not be shown again: "
			"give it to the receiver now\n");
	return RD_OK;
}

/* What --url, --events, --description, --enable and --disable ask. */
static int read_change(cli_ctx *ctx, rd_webhook_change *change, char **copy,
		       const char **events, rd_error *err)
{
	const char *list = cli_opt(&ctx->args, "events");
	int rc;

	memset(change, 0, sizeof(*change));
	*copy = NULL;
	change->url = cli_opt(&ctx->args, "url");
	change->description = cli_opt(&ctx->args, "description");
	change->storefront = cli_opt(&ctx->args, "storefront");
	change->enabled = -1;
	if (cli_flag(&ctx->args, "enable") && cli_flag(&ctx->args, "disable"))
		return rd_error_set(err, RD_EUSAGE, "--enable and --disable "
				    "together say nothing");
	if (cli_flag(&ctx->args, "enable"))
		change->enabled = 1;
	if (cli_flag(&ctx->args, "disable"))
		change->enabled = 0;
	if (list) {
		if ((rc = split_events(list, copy, events,
				       &change->event_count, err)) < 0)
			return rc;
		change->events = events;
	}
	return RD_OK;
}

static int webhook_create(cli_ctx *ctx, const rd_actor *actor, rd_error *err)
{
	rd_webhook_change change;
	rd_webhook_endpoint ep;
	const char *events[64];
	char *copy = NULL;
	int replayed = 0;
	int rc;

	if ((rc = need_args(ctx, 1, "create --url URL --events TYPES "
			    "[--description TEXT] [--storefront S]", err)) < 0 ||
	    (rc = read_change(ctx, &change, &copy, events, err)) < 0)
		goto done;
	if (!change.url || !change.events) {
		rc = rd_error_set(err, RD_EUSAGE, "webhook create needs --url "
				  "and --events (types separated by commas, "
				  "or \"*\" for all)");
		goto done;
	}
	if ((rc = rd_service_webhook_create(ctx->svc, actor, &change,
					    ctx->now, &ep, &replayed,
					    err)) < 0)
		goto done;
	rc = show_endpoint(ctx, &ep, 1, err);
	memset(ep.secret, 0, sizeof(ep.secret));
done:
	free(copy);
	return rc;
}

static int webhook_list(cli_ctx *ctx, const rd_actor *actor, rd_error *err)
{
	rd_webhook_endpoint *list = NULL;
	json_t *items = NULL;
	size_t count = 0;
	int rc;

	if ((rc = need_args(ctx, 1, "list", err)) < 0 ||
	    (rc = rd_service_webhooks_list(ctx->svc, actor, &list, &count,
					   err)) < 0)
		return rc;
	if (!ctx->json) {
		for (size_t i = 0; i < count; i++)
			print_endpoint(&list[i]);
		if (count == 0)
			printf("no webhook endpoints\n");
		free(list);
		return RD_OK;
	}
	if ((items = json_array()) == NULL)
		goto nomem;
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(items,
				rd_webhook_endpoint_to_json(&list[i], 0)))
			goto nomem;
	free(list);
	return cli_print_json(json_pack("{s:o}", "items", items), err);
nomem:
	json_decref(items);
	free(list);
	return rd_error_set(err, RD_ENOMEM, "out of memory");
}

static int webhook_update(cli_ctx *ctx, const rd_actor *actor, rd_error *err)
{
	rd_webhook_change change;
	rd_webhook_endpoint ep;
	const char *events[64];
	char *copy = NULL;
	int rc;

	if ((rc = need_args(ctx, 2, "update ID [--url URL] [--events TYPES] "
			    "[--description TEXT] [--enable|--disable]",
			    err)) < 0 ||
	    (rc = read_change(ctx, &change, &copy, events, err)) < 0 ||
	    (rc = rd_service_webhook_update(ctx->svc, actor, arg(ctx, 1),
					    &change, ctx->now, &ep, err)) < 0)
		goto done;
	rc = show_endpoint(ctx, &ep, 0, err);
done:
	free(copy);
	return rc;
}

static void print_delivery(const rd_webhook_delivery *d)
{
	char when[RD_TIME_BUFSZ];

	rd_time_format(when, d->created_at);
	printf("%s  %-9s %-22s %s v%lld  %s, %lld attempt%s\n", d->id,
	       d->status, d->event_type, d->dispute_id, (long long)d->version,
	       when, (long long)d->attempt_count,
	       d->attempt_count == 1 ? "" : "s");
	for (size_t i = 0; i < d->attempts_count; i++) {
		const rd_webhook_attempt *a = &d->attempts[i];

		rd_time_format(when, a->at);
		printf("    #%lld %s  %ld  %lld ms  %s\n", (long long)a->n,
		       when, a->status_code, (long long)a->latency_ms,
		       a->error[0] ? a->error : a->answer);
	}
}

static int webhook_deliveries(cli_ctx *ctx, const rd_actor *actor,
			      rd_error *err)
{
	char next[RD_OUTBOX_CURSOR_BUFSZ];
	rd_webhook_delivery *list = NULL;
	json_t *items = NULL;
	long long limit = 0;
	size_t count = 0;
	int rc;

	if ((rc = need_args(ctx, 2, "deliveries ID [--limit N] "
			    "[--cursor C]", err)) < 0 ||
	    (rc = cli_opt_number(&limit, &ctx->args, "limit", 20, 1, 100,
				 err)) < 0 ||
	    (rc = rd_service_webhook_deliveries(ctx->svc, actor, arg(ctx, 1),
						cli_opt(&ctx->args, "cursor"),
						(size_t)limit, &list, &count,
						next, err)) < 0)
		return rc;
	if (!ctx->json) {
		for (size_t i = 0; i < count; i++)
			print_delivery(&list[i]);
		if (next[0])
			printf("more: --cursor %s\n", next);
		rd_webhook_deliveries_free(list, count);
		return RD_OK;
	}
	if ((items = json_array()) == NULL)
		goto nomem;
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(items,
				rd_webhook_delivery_to_json(&list[i])))
			goto nomem;
	rd_webhook_deliveries_free(list, count);
	return cli_print_page("items", items, next[0] ? next : NULL, err);
nomem:
	json_decref(items);
	rd_webhook_deliveries_free(list, count);
	return rd_error_set(err, RD_ENOMEM, "out of memory");
}

int cli_cmd_webhook(cli_ctx *ctx, rd_error *err)
{
	const char *verb = arg(ctx, 0);
	rd_webhook_endpoint ep;
	rd_webhook_delivery d;
	rd_actor actor;
	int rc;

	operator_actor(&actor);
	rd_service_webhook_allow(ctx->svc,
				 cli_flag(&ctx->args, "allow-http"),
				 cli_flag(&ctx->args, "allow-private"));
	if (strcmp(verb, "create") == 0)
		return webhook_create(ctx, &actor, err);
	if (strcmp(verb, "list") == 0)
		return webhook_list(ctx, &actor, err);
	if (strcmp(verb, "update") == 0)
		return webhook_update(ctx, &actor, err);
	if (strcmp(verb, "deliveries") == 0)
		return webhook_deliveries(ctx, &actor, err);
	if (strcmp(verb, "show") == 0) {
		if ((rc = need_args(ctx, 2, "show ID", err)) < 0 ||
		    (rc = rd_service_webhook_get(ctx->svc, &actor, arg(ctx, 1),
						 &ep, err)) < 0)
			return rc;
		return show_endpoint(ctx, &ep, 0, err);
	}
	if (strcmp(verb, "rotate-secret") == 0) {
		if ((rc = need_args(ctx, 2, "rotate-secret ID", err)) < 0 ||
		    (rc = rd_service_webhook_rotate(ctx->svc, &actor,
						    arg(ctx, 1), ctx->now, &ep,
						    err)) < 0)
			return rc;
		rc = show_endpoint(ctx, &ep, 1, err);
		memset(ep.secret, 0, sizeof(ep.secret));
		return rc;
	}
	if (strcmp(verb, "delete") == 0) {
		if ((rc = need_args(ctx, 2, "delete ID", err)) < 0 ||
		    (rc = rd_service_webhook_delete(ctx->svc, &actor,
						    arg(ctx, 1), err)) < 0)
			return rc;
		if (ctx->json)
			return cli_print_json(json_pack("{s:s, s:b}", "id",
							arg(ctx, 1), "deleted",
							1), err);
		printf("removed webhook endpoint %s\n", arg(ctx, 1));
		return RD_OK;
	}
	if (strcmp(verb, "retry") == 0) {
		if ((rc = need_args(ctx, 3, "retry ID DELIVERY_ID", err)) < 0 ||
		    (rc = rd_service_webhook_retry(ctx->svc, &actor,
						   arg(ctx, 1), arg(ctx, 2),
						   &d, err)) < 0)
			return rc;
		if (ctx->json)
			rc = cli_print_json(rd_webhook_delivery_to_json(&d),
					    err);
		else
			print_delivery(&d);
		free(d.attempts);
		return rc;
	}
	return rd_error_set(err, RD_EUSAGE, "unknown webhook command \"%s\" "
			    "(create, list, show, update, delete, "
			    "rotate-secret, deliveries, retry)", verb);
}
