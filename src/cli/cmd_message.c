/*
 * redress message, messages and templates: the conversation with the
 * buyer from the command line. The options become the same JSON document
 * the API takes, so that both are checked by the one service function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "redress/json.h"

/* A message body read from a file: its limit and a little room to refuse. */
#define BODY_FILE_MAX (64 * 1024 + 1)

static int nomem(rd_error *err)
{
	return rd_error_set(err, RD_ENOMEM, "out of memory");
}

/* The type a template declares for `var` ("money", "date", "text"). */
static const char *var_type(cli_ctx *ctx, const char *name, const char *var)
{
	json_t *list = NULL;
	const char *type = "text";
	json_t *item, *v;
	size_t i, k;
	rd_error ignored;

	if (rd_service_templates(ctx->svc, &list, &ignored) < 0)
		return type;
	json_array_foreach(json_object_get(list, "items"), i, item) {
		if (strcmp(json_string_value(json_object_get(item, "name")),
			   name) != 0)
			continue;
		json_array_foreach(json_object_get(item, "vars"), k, v) {
			if (strcmp(json_string_value(json_object_get(v, "name")),
				   var) == 0)
				type = strcmp(json_string_value(json_object_get(
						     v, "type")), "money") == 0
					       ? "money" : "text";
		}
	}
	json_decref(list);
	return type;
}

/* --var NAME=VALUE... as the template's "vars": money as an integer. */
static int template_vars(json_t *vars, cli_ctx *ctx, const char *name,
			 rd_error *err)
{
	for (size_t i = 0; i < ctx->args.option_count; i++) {
		const char *spec = ctx->args.options[i].value;
		const char *eq = strchr(spec, '=');
		char key[96];
		json_t *value;

		if (strcmp(ctx->args.options[i].name, "var") != 0)
			continue;
		if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof(key))
			return rd_error_set(err, RD_EUSAGE, "--var must be "
					    "NAME=VALUE, not \"%s\"", spec);
		memcpy(key, spec, (size_t)(eq - spec));
		key[eq - spec] = '\0';
		if (strcmp(var_type(ctx, name, key), "money") == 0) {
			int64_t minor = 0;
			int rc = cli_parse_int(&minor, eq + 1, "var", 0, err);

			if (rc < 0)
				return rd_error_set(err, RD_EUSAGE, "--var %s: "
						    "an amount in minor units "
						    "(11500 for 115.00)", key);
			value = json_integer(minor);
		} else {
			value = json_string(eq + 1);
		}
		if (!value || json_object_set_new(vars, key, value) != 0)
			return value ? rd_error_set(err, RD_EUSAGE, "--var %s: "
						    "not UTF-8 text", key)
				     : nomem(err);
	}
	return RD_OK;
}

/* The options as the JSON document of POST .../messages. */
static int build_request(json_t **out, cli_ctx *ctx, rd_error *err)
{
	const char *body = cli_opt(&ctx->args, "body");
	const char *body_file = cli_opt(&ctx->args, "body-file");
	const char *tmpl = cli_opt(&ctx->args, "template");
	const char *caller = cli_opt(&ctx->args, "caller");
	const char *duration = cli_opt(&ctx->args, "duration");
	const char *direction = cli_opt(&ctx->args, "direction");
	static const char *const strings[][2] = {
		{ "direction", "direction" }, { "channel", "channel" },
		{ "language", "language" }, { "author", "author" },
		{ "time-zone", "time_zone" },
	};
	json_t *doc = json_object(), *evidence = json_array();
	char *text = NULL;
	size_t len = 0;
	int rc = RD_OK;

	*out = NULL;
	if (!doc || !evidence) {
		rc = nomem(err);
		goto done;
	}
	if (!!body + !!body_file + !!tmpl != 1) {
		rc = rd_error_set(err, RD_EUSAGE, "give one of --body, "
				  "--body-file and --template");
		goto done;
	}
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		const char *v = cli_opt(&ctx->args, strings[i][0]);

		if (v && json_object_set_new(doc, strings[i][1],
					     json_string(v)) != 0) {
			rc = rd_error_set(err, RD_EUSAGE, "--%s: not UTF-8 text",
					  strings[i][0]);
			goto done;
		}
	}
	if (body_file) {
		if ((rc = cli_read_input(&text, &len, body_file, BODY_FILE_MAX,
					 err)) < 0)
			goto done;
		body = text;
	}
	if (body && json_object_set_new(doc, "body", json_stringn(body,
						 strlen(body))) != 0) {
		rc = rd_error_set(err, RD_EINVALID, "body: is not valid UTF-8");
		goto done;
	}
	if (tmpl) {
		json_t *vars = json_object();

		if (!vars || json_object_set_new(doc, "template",
				json_pack("{s:s, s:o}", "name", tmpl, "vars",
					  vars)) != 0) {
			rc = nomem(err);
			goto done;
		}
		if ((rc = template_vars(vars, ctx, tmpl, err)) < 0)
			goto done;
	}
	for (size_t i = 0; i < ctx->args.option_count; i++) {
		int64_t n = 0;

		if (strcmp(ctx->args.options[i].name, "evidence") != 0)
			continue;
		if ((rc = cli_parse_int(&n, ctx->args.options[i].value,
					"evidence", 1, err)) < 0)
			goto done;
		json_array_append_new(evidence, json_integer(n));
	}
	if (json_array_size(evidence) > 0)
		json_object_set(doc, "evidence", evidence);
	if (caller || duration) {
		int64_t seconds = 0;

		if (!caller || !duration) {
			rc = rd_error_set(err, RD_EUSAGE, "a call needs both "
					  "--caller and --duration");
			goto done;
		}
		if ((rc = cli_parse_int(&seconds, duration, "duration", 0,
					err)) < 0)
			goto done;
		json_object_set_new(doc, "call", json_pack("{s:s, s:I}",
				    "caller", caller, "duration_seconds",
				    (json_int_t)seconds));
	}
	if (!direction && !cli_flag(&ctx->args, "preview")) {
		rc = rd_error_set(err, RD_EUSAGE, "--direction is required "
				  "(inbound, outbound or internal)");
		goto done;
	}
	*out = doc;
	doc = NULL;
done:
	json_decref(doc);
	json_decref(evidence);
	free(text);
	return rc;
}

static void print_message(const json_t *m)
{
	const char *language = json_string_value(json_object_get(m,
								 "language"));

	printf("message %lld of dispute %s, %s by %s from %s (%s)%s%s\n",
	       (long long)json_integer_value(json_object_get(m, "n")),
	       json_string_value(json_object_get(m, "dispute_id")),
	       json_string_value(json_object_get(m, "direction")),
	       json_string_value(json_object_get(m, "channel")),
	       json_string_value(json_object_get(m, "author")),
	       json_string_value(json_object_get(m, "created_at")),
	       language ? ", in " : "", language ? language : "");
	printf("%s\n", json_string_value(json_object_get(m, "body")));
}

int cli_cmd_message(cli_ctx *ctx, rd_error *err)
{
	const char *id = ctx->args.positional[0];
	json_t *doc = NULL, *answer = NULL;
	int rc;

	if ((rc = build_request(&doc, ctx, err)) < 0)
		return rc;
	if (cli_flag(&ctx->args, "preview")) {
		json_t *preview = json_object();

		/* only what a preview reads */
		json_object_set(preview, "template",
				json_object_get(doc, "template"));
		if (json_object_get(doc, "language"))
			json_object_set(preview, "language",
					json_object_get(doc, "language"));
		if (json_object_get(doc, "time_zone"))
			json_object_set(preview, "time_zone",
					json_object_get(doc, "time_zone"));
		if (json_object_get(doc, "author"))
			json_object_set(preview, "author",
					json_object_get(doc, "author"));
		rc = rd_service_message_preview(ctx->svc, id, preview,
						&ctx->actor, ctx->now, &answer,
						err);
		json_decref(preview);
		if (rc == RD_OK && ctx->json) {
			rc = cli_print_json(answer, err);
			answer = NULL;
		} else if (rc == RD_OK) {
			printf("%s\n", json_string_value(json_object_get(answer,
								      "body")));
		}
		goto done;
	}
	if ((rc = rd_service_message_post(ctx->svc, id, doc, &ctx->actor,
					  ctx->now, &answer, err)) < 0)
		goto done;
	if (ctx->json) {
		rc = cli_print_json(answer, err);
		answer = NULL;
	} else {
		print_message(answer);
	}
done:
	json_decref(doc);
	json_decref(answer);
	return rc;
}

int cli_cmd_messages(cli_ctx *ctx, rd_error *err)
{
	long long after = 0, limit = 0;
	json_t *answer = NULL, *m;
	size_t i;
	int rc;

	if ((rc = cli_opt_number(&after, &ctx->args, "after", 0, 0,
				 INT64_MAX, err)) < 0 ||
	    (rc = cli_opt_number(&limit, &ctx->args, "limit", 50, 1, 200,
				 err)) < 0 ||
	    (rc = rd_service_messages_list(ctx->svc, ctx->args.positional[0],
					   &ctx->actor, after, (size_t)limit,
					   &answer, err)) < 0)
		return rc;
	if (ctx->json)
		return cli_print_json(answer, err);
	json_array_foreach(json_object_get(answer, "items"), i, m) {
		print_message(m);
		printf("\n");
	}
	if (json_is_integer(json_object_get(answer, "next_after")))
		printf("more: --after %lld\n",
		       (long long)json_integer_value(json_object_get(answer,
							"next_after")));
	json_decref(answer);
	return RD_OK;
}

int cli_cmd_templates(cli_ctx *ctx, rd_error *err)
{
	json_t *answer = NULL, *item, *v;
	size_t i, k;
	int rc;

	if ((rc = rd_service_templates(ctx->svc, &answer, err)) < 0)
		return rc;
	if (ctx->json)
		return cli_print_json(answer, err);
	json_array_foreach(json_object_get(answer, "items"), i, item) {
		printf("%s: %s\n", json_string_value(json_object_get(item,
								     "name")),
		       json_string_value(json_object_get(item,
							 "description")));
		json_array_foreach(json_object_get(item, "vars"), k, v)
			printf("  %s (%s)\n",
			       json_string_value(json_object_get(v, "name")),
			       json_string_value(json_object_get(v, "type")));
	}
	json_decref(answer);
	return RD_OK;
}
