/*
 * redress bulk-event: one event on many disputes, each in its own
 * transaction, every result reported (as POST /v1/disputes/bulk-events);
 * redress buyer: a buyer's disputes in one storefront.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BULK_MAX 500

/* --ids ID,ID,...: 1 to 500 distinct dispute ids into a new array. */
static int split_ids(char ***out, size_t *count, const char *list,
		     rd_error *err)
{
	char **ids = calloc(BULK_MAX, sizeof(*ids));
	const char *p = list;
	size_t n = 0;

	*out = NULL;
	*count = 0;
	if (!ids)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (n == BULK_MAX) {
			rd_strings_free(ids, n);
			return rd_error_set_field(err, RD_EUSAGE, "ids",
						  "--ids takes at most %d "
						  "dispute ids", BULK_MAX);
		}
		if (!(ids[n] = strndup(p, len))) {
			rd_strings_free(ids, n);
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		}
		if (!rd_id_valid(ids[n])) {
			rd_error_set_field(err, RD_EUSAGE, "ids", "--ids: "
					   "\"%.40s\" is not a dispute id",
					   ids[n]);
			rd_strings_free(ids, n + 1);
			return RD_EUSAGE;
		}
		for (size_t j = 0; j < n; j++)
			if (strcmp(ids[j], ids[n]) == 0) {
				rd_error_set_field(err, RD_EUSAGE, "ids",
						   "--ids names %s twice",
						   ids[n]);
				rd_strings_free(ids, n + 1);
				return RD_EUSAGE;
			}
		n++;
		p += len;
		if (*p == ',')
			p++;
	}
	if (n == 0) {
		free(ids);
		return rd_error_set_field(err, RD_EUSAGE, "ids", "--ids needs "
					  "1 to %d dispute ids, separated by "
					  "commas", BULK_MAX);
	}
	*out = ids;
	*count = n;
	return RD_OK;
}

/* The --field NAME=VALUE options into fields[] (names new, in names[]). */
static int read_fields(rd_field *fields, char **names, size_t *count,
		       const cli_args *args, rd_error *err)
{
	*count = 0;
	for (size_t i = 0; i < args->option_count; i++) {
		const char *spec = args->options[i].value;
		const char *eq;

		if (strcmp(args->options[i].name, "field") != 0)
			continue;
		eq = strchr(spec, '=');
		if (!eq || eq == spec)
			return rd_error_set(err, RD_EUSAGE, "--field must be "
					    "NAME=VALUE, not \"%s\"", spec);
		if (*count == RD_EVENT_MAX_FIELDS)
			return rd_error_set(err, RD_ETOOLARGE, "at most %d "
					    "--field options",
					    RD_EVENT_MAX_FIELDS);
		if (!(names[*count] = strndup(spec, (size_t)(eq - spec))))
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		fields[*count].name = names[*count];
		fields[*count].value = eq + 1;
		(*count)++;
	}
	return RD_OK;
}

/* One item's result as the API answers it, with the CLI's exit status. */
static json_t *item_json(const char *id, const rd_dispute *d,
			 const rd_error *err)
{
	const rd_code_info *info;

	if (d)
		return json_pack("{s:s, s:b, s:I, s:s}", "id", id, "ok", 1,
				 "version", (json_int_t)d->version, "state",
				 d->state);
	info = rd_code_info_get(err->code);
	return json_pack("{s:s, s:b, s:{s:s, s:i, s:s, s:s?, s:s?}}", "id", id,
			 "ok", 0, "error", "type", info->name, "exit",
			 info->exit_code, "message", err->message, "field",
			 err->field[0] ? err->field : NULL, "guard",
			 err->guard[0] ? err->guard : NULL);
}

int cli_cmd_bulk_event(cli_ctx *ctx, rd_error *err)
{
	rd_field fields[RD_EVENT_MAX_FIELDS];
	char *names[RD_EVENT_MAX_FIELDS];
	const char *list = cli_opt(&ctx->args, "ids");
	rd_event_request req;
	json_t *results = NULL;
	rd_error first;
	char **ids = NULL;
	size_t count = 0, nfields = 0, failed = 0;
	int rc;

	memset(&req, 0, sizeof(req));
	rd_error_clear(&first);
	req.event = cli_opt(&ctx->args, "event");
	req.note = cli_opt(&ctx->args, "note");
	if (!req.event)
		return rd_error_set_field(err, RD_EUSAGE, "event",
					  "--event is required");
	if (!list)
		return rd_error_set_field(err, RD_EUSAGE, "ids",
					  "--ids is required: dispute ids "
					  "separated by commas");
	if ((rc = split_ids(&ids, &count, list, err)) < 0)
		return rc;
	if ((rc = read_fields(fields, names, &nfields, &ctx->args, err)) < 0)
		goto done;
	req.fields = fields;
	req.field_count = nfields;
	if (!(results = json_array())) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	/* each in its own transaction, as the service applies one event */
	for (size_t i = 0; i < count; i++) {
		rd_dispute *d = NULL;
		rd_error item;
		int irc;

		rd_error_clear(&item);
		irc = rd_service_event_apply(ctx->svc, ids[i], &req,
					     &ctx->actor, ctx->now, &d,
					     &item);
		if (irc < 0 && !first.code)
			first = item;
		failed += irc < 0;
		if (json_array_append_new(results, item_json(ids[i],
				irc < 0 ? NULL : d, &item)) < 0) {
			rd_dispute_free(d);
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
		if (!ctx->json && irc == RD_OK)
			printf("dispute %s: %s, now %s (version %lld)\n",
			       ids[i], req.event, d->state,
			       (long long)d->version);
		else if (!ctx->json)
			printf("dispute %s: refused: %s\n", ids[i],
			       item.message);
		rd_dispute_free(d);
	}
	if (ctx->json &&
	    (rc = cli_print_json(json_pack("{s:O, s:I, s:I}", "results",
					   results, "succeeded",
					   (json_int_t)(count - failed),
					   "failed", (json_int_t)failed),
				 err)) < 0)
		goto done;
	if (!ctx->json)
		printf("%zu applied, %zu refused\n", count - failed, failed);
	rc = RD_OK;
	/* the exit status of the first refusal, once every one was tried */
	if (failed) {
		*err = first;
		rc = first.code;
	}
done:
	for (size_t i = 0; i < nfields; i++)
		free(names[i]);
	json_decref(results);
	rd_strings_free(ids, count);
	return rc;
}

int cli_cmd_buyer(cli_ctx *ctx, rd_error *err)
{
	const char *buyer = ctx->args.positional[0];
	const char *storefront = cli_opt(&ctx->args, "storefront");
	const char *cursor = cli_opt(&ctx->args, "cursor");
	rd_dispute **disputes = NULL;
	long long limit = 0;
	size_t count = 0;
	char *next = NULL;
	int rc;

	if (!storefront)
		return rd_error_set_field(err, RD_EUSAGE, "storefront",
					  "--storefront is required: a buyer "
					  "reference belongs to one storefront");
	if ((rc = cli_opt_number(&limit, &ctx->args, "limit", 50, 1, 500,
				 err)) < 0)
		return rc;
	if ((rc = rd_service_buyer_disputes(ctx->svc, storefront, buyer,
					    (size_t)limit, cursor, &disputes,
					    &count, &next, err)) < 0)
		return rc;
	if (!ctx->json) {
		cli_print_dispute_table(stdout, disputes, count, ctx->now);
		if (next)
			printf("more: redress buyer %s --storefront %s "
			       "--cursor %s\n", buyer, storefront, next);
		goto done;
	}
	rc = cli_print_json(rd_dispute_page_to_json("items", disputes, count,
						    next, 0),
			    err);
done:
	rd_dispute_list_free(disputes, count);
	free(next);
	return rc;
}
