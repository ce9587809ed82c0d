/*
 * The CLI's API key commands: key create, list and revoke, and a
 * storefront's evidence quota (key quota).
 *
 * A new key is printed exactly once, by key create, on standard output;
 * nothing else here ever prints a key, its secret or its hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int need_args(const cli_ctx *ctx, size_t count, const char *usage,
		     rd_error *err)
{
	if (ctx->args.positional_count != count)
		return rd_error_set(err, RD_EUSAGE, "usage: redress %s", usage);
	return RD_OK;
}

/* The options only key create takes are refused elsewhere. */
static int refuse_create_options(const cli_ctx *ctx, const char *verb,
				 rd_error *err)
{
	static const char *const create_only[] = { "role", "storefront",
						   "name" };

	for (size_t i = 0; i < sizeof(create_only) / sizeof(create_only[0]);
	     i++)
		if (cli_flag(&ctx->args, create_only[i]))
			return rd_error_set(err, RD_EUSAGE,
					    "--%s is for `redress key create`, "
					    "not key %s", create_only[i], verb);
	return RD_OK;
}

/* The options only key quota takes are refused elsewhere. */
static int refuse_quota_options(const cli_ctx *ctx, const char *verb,
				rd_error *err)
{
	static const char *const quota_only[] = { "daily", "total" };

	for (size_t i = 0; i < sizeof(quota_only) / sizeof(quota_only[0]); i++)
		if (cli_flag(&ctx->args, quota_only[i]))
			return rd_error_set(err, RD_EUSAGE,
					    "--%s is for `redress key quota`, "
					    "not key %s", quota_only[i], verb);
	return RD_OK;
}

static int key_create(cli_ctx *ctx, rd_error *err)
{
	const char *role_name = cli_opt(&ctx->args, "role");
	const char *storefront = cli_opt(&ctx->args, "storefront");
	char key[RD_KEY_BUFSZ];
	char created[RD_TIME_BUFSZ];
	rd_api_key record;
	rd_role role;
	json_t *doc = NULL;
	int rc;

	if ((rc = need_args(ctx, 1, "key create --role ROLE [--storefront S] "
			    "[--name NAME]", err)) < 0 ||
	    (rc = refuse_quota_options(ctx, "create", err)) < 0)
		return rc;
	if (!role_name)
		return rd_error_set(err, RD_EUSAGE,
				    "key create needs --role (agent, auditor, "
				    "storefront or admin)");
	if (rd_role_parse(&role, role_name, NULL) < 0)
		return rd_error_set_field(err, RD_EINVALID, "role",
					  "--role must be agent, auditor, "
					  "storefront or admin");
	if ((rc = rd_service_key_create(ctx->svc, role, storefront,
					cli_opt(&ctx->args, "name"), ctx->now,
					key, &record, err)) < 0)
		return rc;
	if (ctx->json) {
		rd_time_format(created, record.created_at);
		doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}",
				"key", key, "id", record.id,
				"name", record.name,
				"role", rd_role_name(record.role),
				"storefront",
				record.storefront[0]
					? json_string(record.storefront)
					: json_null(),
				"created_at", created);
		rc = cli_print_json(doc, err);
	} else {
		printf("key %s\n", key);
		if (fflush(stdout) != 0)
			rc = rd_error_set(err, RD_EIO,
					  "cannot write to standard output");
	}
	memset(key, 0, sizeof(key));
	if (rc == RD_OK)
		fprintf(stderr, "created API key %s (%s%s%s, name \"%s\"); "
			"the key will not be shown again: store it now\n",
			record.id, rd_role_name(record.role),
			record.storefront[0] ? " of " : "", record.storefront,
			record.name);
	return rc;
}

static int key_list(cli_ctx *ctx, rd_error *err)
{
	rd_api_key *keys = NULL;
	json_t *list = NULL;
	size_t count = 0;
	int rc;

	if ((rc = need_args(ctx, 1, "key list", err)) < 0 ||
	    (rc = refuse_create_options(ctx, "list", err)) < 0 ||
	    (rc = refuse_quota_options(ctx, "list", err)) < 0 ||
	    (rc = rd_service_keys_list(ctx->svc, &keys, &count, err)) < 0)
		return rc;
	if (!ctx->json) {
		printf("%-16s  %-20s  %-10s  %-16s  %-20s  %s\n", "ID", "NAME",
		       "ROLE", "STOREFRONT", "CREATED", "REVOKED");
		for (size_t i = 0; i < count; i++) {
			char created[RD_TIME_BUFSZ], revoked[RD_TIME_BUFSZ];

			rd_time_format(created, keys[i].created_at);
			if (keys[i].revoked_at)
				rd_time_format(revoked, keys[i].revoked_at);
			printf("%-16s  %-20s  %-10s  %-16s  %-20s  %s\n",
			       keys[i].id, keys[i].name,
			       rd_role_name(keys[i].role),
			       keys[i].storefront[0] ? keys[i].storefront : "-",
			       created, keys[i].revoked_at ? revoked : "-");
		}
		goto done;
	}
	if ((list = json_array()) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(list, rd_api_key_to_json(&keys[i]))) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	rc = cli_print_json(json_pack("{s:o}", "keys", list), err);
	list = NULL;
done:
	json_decref(list);
	free(keys);
	return rc;
}

static int key_revoke(cli_ctx *ctx, rd_error *err)
{
	const char *id = ctx->args.positional_count > 1
				 ? ctx->args.positional[1] : NULL;
	char when[RD_TIME_BUFSZ];
	int rc;

	if ((rc = need_args(ctx, 2, "key revoke ID", err)) < 0 ||
	    (rc = refuse_create_options(ctx, "revoke", err)) < 0 ||
	    (rc = refuse_quota_options(ctx, "revoke", err)) < 0 ||
	    (rc = rd_service_key_revoke(ctx->svc, id, ctx->now, err)) < 0)
		return rc;
	rd_time_format(when, ctx->now);
	if (ctx->json)
		return cli_print_json(json_pack("{s:s, s:s}", "id", id,
						"revoked_at", when), err);
	printf("revoked API key %s at %s\n", id, when);
	return RD_OK;
}

/* One quota as JSON: its setting, the limit in force, use and room. */
static json_t *quota_json(int64_t own, int64_t limit, int64_t used)
{
	json_t *setting = own == RD_QUOTA_DEFAULT ? json_string("default")
			  : own == 0 ? json_string("none")
				     : json_integer((json_int_t)own);
	int none = limit == RD_QUOTA_NONE;

	return json_pack("{s:o, s:o, s:I, s:o}", "setting", setting,
			 "limit", none ? json_null()
				       : json_integer((json_int_t)limit),
			 "used", (json_int_t)used,
			 "remaining", none ? json_null()
					   : json_integer((json_int_t)
						(used >= limit ? 0
							       : limit - used)));
}

static void print_quota(const char *name, int64_t own, int64_t limit,
			int64_t used, const char *period)
{
	const char *source = own == RD_QUOTA_DEFAULT ? "the default"
						     : "set for the storefront";

	if (limit == RD_QUOTA_NONE) {
		printf("%-6s none (%s); %lld bytes used %s\n", name, source,
		       (long long)used, period);
		return;
	}
	printf("%-6s %lld bytes (%s); %lld used %s, %lld left\n", name,
	       (long long)limit, source, (long long)used, period,
	       (long long)(used >= limit ? 0 : limit - used));
}

/* A size option of key quota: RD_QUOTA_KEEP when absent. */
static int quota_option(int64_t *out, const cli_ctx *ctx, const char *name,
			rd_error *err)
{
	const char *text = cli_opt(&ctx->args, name);
	int rc;

	*out = RD_QUOTA_KEEP;
	if (!text)
		return RD_OK;
	if ((rc = cli_parse_size(out, text, name, 1, err)) < 0)
		return rc;
	/* the service stores no quota as 0 */
	if (*out == RD_QUOTA_NONE)
		*out = 0;
	return RD_OK;
}

/*
 * key quota STOREFRONT [--daily B] [--total B]: set a storefront's own
 * evidence quotas (each as given, others kept), then show them with what
 * the storefront has stored. The defaults shown are this command's
 * (RD_QUOTA_*_DEFAULT): a server started with --quota-daily or
 * --quota-total applies its own to a storefront left to the default.
 */
static int key_quota(cli_ctx *ctx, rd_error *err)
{
	const char *storefront = ctx->args.positional_count > 1
					 ? ctx->args.positional[1] : NULL;
	rd_quota_status status;
	int64_t daily = RD_QUOTA_KEEP, total = RD_QUOTA_KEEP;
	json_t *doc;
	int rc;

	if ((rc = need_args(ctx, 2, "key quota STOREFRONT [--daily BYTES] "
			    "[--total BYTES]", err)) < 0 ||
	    (rc = refuse_create_options(ctx, "quota", err)) < 0 ||
	    (rc = quota_option(&daily, ctx, "daily", err)) < 0 ||
	    (rc = quota_option(&total, ctx, "total", err)) < 0)
		return rc;
	if ((daily != RD_QUOTA_KEEP || total != RD_QUOTA_KEEP) &&
	    (rc = rd_service_quota_set(ctx->svc, storefront, daily, total,
				       ctx->now, err)) < 0)
		return rc;
	if ((rc = rd_service_quota_status(ctx->svc, storefront, ctx->now,
					  &status, err)) < 0)
		return rc;
	if (ctx->json) {
		doc = json_pack("{s:s, s:o, s:o}", "storefront", storefront,
				"daily", quota_json(status.own.daily,
						    status.daily,
						    status.usage.today),
				"total", quota_json(status.own.total,
						    status.total,
						    status.usage.total));
		return cli_print_json(doc, err);
	}
	printf("storefront %s\n", storefront);
	print_quota("daily", status.own.daily, status.daily,
		    status.usage.today, "today (UTC)");
	print_quota("total", status.own.total, status.total,
		    status.usage.total, "in all");
	return RD_OK;
}

int cli_cmd_key(cli_ctx *ctx, rd_error *err)
{
	static const struct {
		const char *verb;
		int (*run)(cli_ctx *, rd_error *);
	} verbs[] = {
		{ "create", key_create },
		{ "list", key_list },
		{ "revoke", key_revoke },
		{ "quota", key_quota },
	};
	const char *verb = ctx->args.positional[0];

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].verb, verb) == 0)
			return verbs[i].run(ctx, err);
	return rd_error_set(err, RD_EUSAGE,
			    "unknown key command \"%s\": create, list, "
			    "revoke or quota", verb);
}
