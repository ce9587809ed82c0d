/*
 * Ownership on the command line: redress assign, unassign, claim and
 * agents. Each is one service call (the events assign and unassign, the
 * claim queue, the agents' load); the rules are the service's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "redress/json.h"

static int print_result(cli_ctx *ctx, const rd_dispute *d, const char *what,
			rd_error *err)
{
	if (ctx->json) {
		json_t *doc = rd_dispute_to_json(d);

		if (!doc)
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		return cli_print_json(doc, err);
	}
	printf("dispute %s: %s%s%s, %s (version %lld)\n", d->id, what,
	       d->assignee ? " " : "", d->assignee ? d->assignee : "",
	       d->state, (long long)d->version);
	return RD_OK;
}

static int apply(cli_ctx *ctx, const char *event, const char *assignee,
		 rd_error *err)
{
	rd_field field = { "assignee", assignee };
	rd_event_request req;
	rd_dispute *d = NULL;
	int rc;

	memset(&req, 0, sizeof(req));
	req.event = event;
	req.note = cli_opt(&ctx->args, "note");
	req.fields = assignee ? &field : NULL;
	req.field_count = assignee ? 1 : 0;
	if ((rc = rd_service_event_apply(ctx->svc, ctx->args.positional[0],
					 &req, &ctx->actor, ctx->now, &d,
					 err)) < 0)
		return rc;
	rc = print_result(ctx, d, assignee ? "assigned to" : "unassigned",
			  err);
	rd_dispute_free(d);
	return rc;
}

int cli_cmd_assign(cli_ctx *ctx, rd_error *err)
{
	return apply(ctx, RD_EVENT_ASSIGN, ctx->args.positional[1], err);
}

int cli_cmd_unassign(cli_ctx *ctx, rd_error *err)
{
	return apply(ctx, RD_EVENT_UNASSIGN, NULL, err);
}

int cli_cmd_claim(cli_ctx *ctx, rd_error *err)
{
	rd_dispute *d = NULL;
	int rc;

	if ((rc = rd_service_claim(ctx->svc, &ctx->actor, ctx->now, &d,
				   err)) < 0)
		return rc;
	if (!d) {
		if (ctx->json)
			printf("null\n");
		else
			printf("nothing to claim: every open dispute is "
			       "assigned\n");
		return RD_OK;
	}
	rc = print_result(ctx, d, "claimed by", err);
	rd_dispute_free(d);
	return rc;
}

int cli_cmd_agents(cli_ctx *ctx, rd_error *err)
{
	rd_agent_load *agents = NULL;
	size_t count = 0;
	json_t *items = NULL;
	int rc;

	if ((rc = rd_service_agents(ctx->svc, ctx->now, &agents, &count,
				    err)) < 0)
		return rc;
	if (!ctx->json) {
		printf("%-24s %6s %8s %15s\n", "NAME", "OPEN", "OVERDUE",
		       "AWAITING_REPLY");
		for (size_t i = 0; i < count; i++)
			printf("%-24s %6lld %8lld %15lld\n", agents[i].name,
			       (long long)agents[i].open,
			       (long long)agents[i].overdue,
			       (long long)agents[i].awaiting_reply);
		free(agents);
		return RD_OK;
	}
	if ((items = rd_agents_to_json(agents, count)) == NULL)
		goto nomem;
	free(agents);
	return cli_print_json(json_pack("{s:o}", "items", items), err);
nomem:
	json_decref(items);
	free(agents);
	return rd_error_set(err, RD_ENOMEM, "out of memory");
}
