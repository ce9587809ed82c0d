/*
 * The CLI's dispute commands: init, open, show, list, event, sweep and
 * workflows. Each turns its arguments into one service call and prints the
 * result as text or, with --json, as the documents of SPEC section 4.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "redress/json.h"

int cli_cmd_init(cli_ctx *ctx, rd_error *err)
{
	rd_service_options opts;
	const rd_workflow_set *set;
	json_t *doc = NULL, *names = NULL;
	int rc;

	memset(&opts, 0, sizeof(opts));
	opts.data_dir = ctx->data_dir;
	opts.store = ctx->store;
	opts.workflows_dir = ctx->workflows_dir;
	opts.kinds_path = ctx->kinds_path;
	opts.policy_path = ctx->policy_path;
	opts.calendars_path = ctx->calendars_path;
	opts.templates_dir = ctx->templates_dir;
	opts.create = 1;
	if ((rc = rd_service_open(&ctx->svc, &opts, err)) < 0)
		return rc;
	set = rd_service_workflows(ctx->svc);
	if (!ctx->json) {
		printf("initialised %s\n", ctx->data_dir);
		for (size_t i = 0; i < rd_workflow_set_count(set); i++) {
			const rd_workflow *wf = rd_workflow_set_at(set, i);

			printf("workflow %s v%lld (%.12s)\n",
			       rd_workflow_name(wf),
			       (long long)rd_workflow_version(wf),
			       rd_workflow_hash(wf));
		}
		return RD_OK;
	}
	doc = json_object();
	names = json_array();
	if (!doc || !names)
		goto nomem;
	for (size_t i = 0; i < rd_workflow_set_count(set); i++) {
		const rd_workflow *wf = rd_workflow_set_at(set, i);

		if (json_array_append_new(names, json_pack("{s:s, s:I, s:s}",
			"name", rd_workflow_name(wf),
			"version", (json_int_t)rd_workflow_version(wf),
			"hash", rd_workflow_hash(wf))) != 0)
			goto nomem;
	}
	if (json_object_set_new(doc, "data_dir", json_string(ctx->data_dir)) ||
	    json_object_set_new(doc, "workflows", names))
		goto nomem_doc;
	return cli_print_json(doc, err);
nomem:
	json_decref(names);
nomem_doc:
	json_decref(doc);
	return rd_error_set(err, RD_ENOMEM, "out of memory");
}

int cli_read_input(char **out, size_t *len, const char *path, size_t limit,
		   rd_error *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t size = 0, cap = 0;
	int rc = RD_OK;

	*out = NULL;
	if (!f)
		return rd_error_set(err, errno == ENOENT ? RD_ENOTFOUND : RD_EIO,
				    "cannot open %s: %s", path,
				    strerror(errno));
	for (;;) {
		size_t got;

		if (size == cap) {
			char *bigger;

			cap = cap ? cap * 2 : 8192;
			if ((bigger = realloc(buf, cap + 1)) == NULL) {
				rc = rd_error_set(err, RD_ENOMEM, "out of memory");
				goto done;
			}
			buf = bigger;
		}
		got = fread(buf + size, 1, cap - size, f);
		size += got;
		if (size > limit) {
			rc = rd_error_set(err, RD_ETOOLARGE,
					  "%s is larger than %zu bytes",
					  strcmp(path, "-") ? path
							    : "standard input",
					  limit);
			goto done;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = rd_error_set(err, RD_EIO, "cannot read %s", path);
		goto done;
	}
	buf[size] = '\0';
	*out = buf;
	*len = size;
	buf = NULL;
done:
	free(buf);
	if (f != stdin)
		(void)fclose(f);	/* read only: what was read is checked */
	return rc;
}

static int print_dispute_json(const rd_dispute *d, rd_error *err)
{
	json_t *doc = rd_dispute_to_json(d);

	if (!doc)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return cli_print_json(doc, err);
}

int cli_cmd_open(cli_ctx *ctx, rd_error *err)
{
	rd_dispute *input = NULL, *d = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = cli_read_input(&text, &len, ctx->args.positional[0],
			     RD_DISPUTE_MAX_DOCUMENT, err)) < 0)
		goto done;
	if ((rc = rd_dispute_parse(&input, text, len, err)) < 0 ||
	    (rc = rd_service_dispute_open_checked(ctx->svc, input,
				cli_flag(&ctx->args, "allow-duplicate")
					? RD_OPEN_ALLOW_DUPLICATE : 0,
				&ctx->actor, ctx->now, &d, err)) < 0)
		goto done;
	if (ctx->json)
		rc = print_dispute_json(d, err);
	else
		printf("opened dispute %s (state %s)\n", d->id, d->state);
done:
	free(text);
	rd_dispute_free(input);
	rd_dispute_free(d);
	return rc;
}

int cli_cmd_show(cli_ctx *ctx, rd_error *err)
{
	const char *id = ctx->args.positional[0];
	rd_dispute *d = NULL;
	rd_event_record *events = NULL;
	rd_offer_record *offers = NULL;
	size_t event_count = 0, offer_count = 0;
	int rc;

	if ((rc = rd_service_dispute_get(ctx->svc, id, &d, err)) < 0)
		goto done;
	if (ctx->json) {
		rc = print_dispute_json(d, err);
		goto done;
	}
	if ((rc = rd_service_offers(ctx->svc, id, &offers, &offer_count,
				    err)) < 0 ||
	    (rc = rd_service_events(ctx->svc, id, &events, &event_count,
				    err)) < 0)
		goto done;
	cli_print_dispute(stdout, d, offers, offer_count, events, event_count,
			  ctx->now);
done:
	rd_dispute_free(d);
	free(offers);
	rd_event_records_free(events, event_count);
	return rc;
}

static int parse_count(size_t *out, const char *text, const char *option,
		       rd_error *err)
{
	int64_t value = 0;
	int rc = cli_parse_int(&value, text, option, 1, err);

	if (rc == RD_OK)
		*out = (size_t)value;
	return rc;
}

int cli_cmd_list(cli_ctx *ctx, rd_error *err)
{
	rd_dispute_filter filter;
	rd_dispute **disputes = NULL;
	size_t count = 0;
	char *next = NULL;
	const char *limit = cli_opt(&ctx->args, "limit");
	const char *updated_since = cli_opt(&ctx->args, "updated-since");
	int rc;

	memset(&filter, 0, sizeof(filter));
	filter.state = cli_opt(&ctx->args, "state");
	filter.reason = cli_opt(&ctx->args, "reason");
	filter.storefront = cli_opt(&ctx->args, "storefront");
	filter.assignee = cli_opt(&ctx->args, "assignee");
	if (filter.assignee && strcmp(filter.assignee, "me") == 0)
		filter.assignee = ctx->actor.name;
	filter.order_ref = cli_opt(&ctx->args, "order-ref");
	filter.buyer_ref = cli_opt(&ctx->args, "buyer-ref");
	filter.sku = cli_opt(&ctx->args, "sku");
	filter.q = cli_opt(&ctx->args, "q");
	if (updated_since &&
	    rd_time_parse(&filter.updated_since, updated_since, err) < 0)
		return rd_error_prefix(err, "--updated-since");
	filter.overdue = cli_flag(&ctx->args, "overdue");
	filter.awaiting_reply = cli_flag(&ctx->args, "awaiting-reply");
	filter.now = ctx->now;
	filter.cursor = cli_opt(&ctx->args, "cursor");
	if (filter.reason) {
		rd_reason reason;

		if (rd_reason_parse(&reason, filter.reason, err) < 0)
			return rd_error_prefix(err, "--reason");
	}
	if (limit && (rc = parse_count(&filter.limit, limit, "limit", err)) < 0)
		return rc;
	if (filter.limit > 500)
		return rd_error_set_field(err, RD_EUSAGE, "limit",
					  "--limit must be at most 500");
	if ((rc = rd_service_dispute_list(ctx->svc, &filter, &disputes, &count,
					  &next, err)) < 0)
		return rc;
	if (!ctx->json) {
		cli_print_dispute_table(stdout, disputes, count, ctx->now);
		if (next)
			printf("more: redress list --cursor %s\n", next);
		goto done;
	}
	rc = cli_print_json(rd_dispute_page_to_json("disputes", disputes, count,
						    next, filter.q != NULL),
			    err);
done:
	rd_dispute_list_free(disputes, count);
	free(next);
	return rc;
}

int cli_cmd_event(cli_ctx *ctx, rd_error *err)
{
	const char *id = ctx->args.positional[0];
	const char *if_version = cli_opt(&ctx->args, "if-version");
	rd_field fields[RD_EVENT_MAX_FIELDS];
	char *names[RD_EVENT_MAX_FIELDS];
	rd_event_request req;
	rd_dispute *d = NULL;
	size_t nfields = 0, version = 0;
	int rc = RD_OK;

	memset(&req, 0, sizeof(req));
	req.event = ctx->args.positional[1];
	req.note = cli_opt(&ctx->args, "note");
	if (if_version) {
		if ((rc = parse_count(&version, if_version, "if-version",
				      err)) < 0)
			return rc;
		req.if_version = (int64_t)version;
	}
	for (size_t i = 0; i < ctx->args.option_count; i++) {
		const char *spec = ctx->args.options[i].value;
		const char *eq;

		if (strcmp(ctx->args.options[i].name, "field") != 0)
			continue;
		eq = strchr(spec, '=');
		if (!eq || eq == spec) {
			rc = rd_error_set(err, RD_EUSAGE,
					  "--field must be NAME=VALUE, not "
					  "\"%s\"", spec);
			goto done;
		}
		if (nfields == RD_EVENT_MAX_FIELDS) {
			rc = rd_error_set(err, RD_ETOOLARGE,
					  "at most %d --field options",
					  RD_EVENT_MAX_FIELDS);
			goto done;
		}
		if ((names[nfields] = strndup(spec, (size_t)(eq - spec))) == NULL) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
		fields[nfields].name = names[nfields];
		fields[nfields].value = eq + 1;
		nfields++;
	}
	req.fields = fields;
	req.field_count = nfields;
	if ((rc = rd_service_event_apply(ctx->svc, id, &req, &ctx->actor,
					 ctx->now, &d, err)) < 0)
		goto done;
	if (ctx->json)
		rc = print_dispute_json(d, err);
	else
		printf("dispute %s: %s, now %s%s%s (version %lld)\n", d->id,
		       req.event, d->state, d->outcome ? ", outcome " : "",
		       d->outcome ? d->outcome : "", (long long)d->version);
done:
	for (size_t i = 0; i < nfields; i++)
		free(names[i]);
	rd_dispute_free(d);
	return rc;
}

int cli_cmd_sweep(cli_ctx *ctx, rd_error *err)
{
	size_t fired = 0;
	int rc;

	if ((rc = rd_service_sweep(ctx->svc, ctx->now, &fired, err)) < 0)
		return rc;
	if (ctx->json)
		return cli_print_json(json_pack("{s:I}", "fired",
						(json_int_t)fired), err);
	printf("fired %zu SLA deadline%s\n", fired, fired == 1 ? "" : "s");
	return RD_OK;
}

/* "24h", "5d", "90m": the largest unit that divides the duration. */
static void format_duration(char *buf, size_t size, int64_t seconds)
{
	static const struct {
		int64_t seconds;
		char unit;
	} units[] = { { 7 * 86400, 'w' }, { 86400, 'd' }, { 3600, 'h' },
		      { 60, 'm' }, { 1, 's' } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (seconds % units[i].seconds == 0) {
			snprintf(buf, size, "%lld%c",
				 (long long)(seconds / units[i].seconds),
				 units[i].unit);
			return;
		}
}

static void print_workflow(const rd_workflow *wf)
{
	json_t *doc = rd_workflow_to_json(wf);
	json_t *states, *transitions, *value;
	const char *name;
	size_t i;

	printf("workflow %s v%lld\nhash %s\ninitial state %s\n\nstates:\n",
	       rd_workflow_name(wf), (long long)rd_workflow_version(wf),
	       rd_workflow_hash(wf), rd_workflow_initial(wf));
	if (!doc)
		return;
	states = json_object_get(doc, "states");
	json_object_foreach(states, name, value) {
		int64_t within;
		const char *on_timeout;

		char duration[32];

		if (rd_workflow_is_terminal(wf, name)) {
			printf("  %-20s terminal\n", name);
		} else if (rd_workflow_sla(wf, name, &within, &on_timeout)) {
			format_duration(duration, sizeof(duration), within);
			printf("  %-20s SLA %s, then %s\n", name, duration,
			       on_timeout);
		} else {
			printf("  %s\n", name);
		}
	}
	fputs("\ntransitions:\n", stdout);
	transitions = json_object_get(doc, "transitions");
	json_array_foreach(transitions, i, value) {
		char *from = rd_json_dumps(json_object_get(value, "from"),
					JSON_COMPACT);
		char *to = rd_json_dumps(json_object_get(value, "to"),
				      JSON_COMPACT | JSON_ENCODE_ANY);
		char *roles = rd_json_dumps(json_object_get(value, "roles"),
					 JSON_COMPACT);

		printf("  %-18s %s -> %s by %s\n",
		       json_string_value(json_object_get(value, "event")),
		       from ? from : "?", to ? to : "?", roles ? roles : "?");
		free(from);
		free(to);
		free(roles);
	}
	json_decref(doc);
}

int cli_cmd_workflows(cli_ctx *ctx, rd_error *err)
{
	const char *name = ctx->args.positional_count ? ctx->args.positional[0]
						       : NULL;
	rd_workflow_set *set = NULL;
	json_t *list = NULL;
	int rc;

	if ((rc = rd_workflow_set_load_dir(&set, ctx->workflows_dir, err)) < 0)
		return rc;
	if (name && !rd_workflow_set_latest(set, name)) {
		rc = rd_error_set(err, RD_ENOTFOUND, "no workflow named %s in %s",
				  name, ctx->workflows_dir);
		goto done;
	}
	if (!ctx->json) {
		for (size_t i = 0; i < rd_workflow_set_count(set); i++) {
			const rd_workflow *wf = rd_workflow_set_at(set, i);

			if (name && strcmp(rd_workflow_name(wf), name) != 0)
				continue;
			if (name) {
				print_workflow(wf);
				continue;
			}
			printf("%-16s v%-4lld %.12s  initial %s\n",
			       rd_workflow_name(wf),
			       (long long)rd_workflow_version(wf),
			       rd_workflow_hash(wf), rd_workflow_initial(wf));
		}
		goto done;
	}
	if ((list = json_array()) == NULL)
		goto nomem;
	for (size_t i = 0; i < rd_workflow_set_count(set); i++) {
		const rd_workflow *wf = rd_workflow_set_at(set, i);

		if (name && strcmp(rd_workflow_name(wf), name) != 0)
			continue;
		if (json_array_append_new(list, rd_workflow_to_json(wf)) != 0)
			goto nomem;
	}
	rc = cli_print_json(json_pack("{s:o}", "workflows", list), err);
	list = NULL;
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory");
	json_decref(list);
done:
	rd_workflow_set_free(set);
	return rc;
}

static void print_proposal(const rd_proposal *p, const rd_currency *cur)
{
	char refund[RD_MONEY_BUFSZ], copay[RD_MONEY_BUFSZ], cost[RD_MONEY_BUFSZ];

	rd_money_format(refund, sizeof(refund), p->terms.buyer_refund, cur);
	rd_money_format(copay, sizeof(copay), p->terms.buyer_copay, cur);
	if (p->terms.seller_cost == RD_AMOUNT_UNSET)
		snprintf(cost, sizeof(cost), "unknown");
	else
		rd_money_format(cost, sizeof(cost), p->terms.seller_cost, cur);
	if (p->cut) {
		printf("  -   %-32s %-18s cut: %s\n", p->offer_id,
		       rd_offer_type_name(p->terms.type), p->cut_reason);
		return;
	}
	printf("  %-3d %-32s %-18s refund %10s  co-pay %10s  seller cost %10s\n",
	       p->rank, p->offer_id, rd_offer_type_name(p->terms.type), refund,
	       copay, cost);
	for (size_t i = 0; i < p->line_count; i++) {
		char amount[RD_MONEY_BUFSZ];

		rd_money_format(amount, sizeof(amount), p->lines[i].amount, cur);
		printf("        %-44s %12s\n", p->lines[i].label, amount);
	}
	printf("        %s\n", p->explanation);
}

int cli_cmd_offers(cli_ctx *ctx, rd_error *err)
{
	const char *id = ctx->args.positional[0];
	const rd_policy *policy = rd_service_policy(ctx->svc);
	rd_proposals *set = NULL;
	rd_dispute *d = NULL;
	json_t *offers = NULL, *cut = NULL;
	int rc;

	if ((set = malloc(sizeof(*set))) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((rc = rd_service_dispute_get(ctx->svc, id, &d, err)) < 0 ||
	    (rc = rd_service_offer_proposals(ctx->svc, id, set, err)) < 0)
		goto done;
	if (!ctx->json) {
		const rd_currency *cur = rd_currency_find(d->currency);

		printf("offers for dispute %s at version %lld (%s), policy %s v%lld\n",
		       d->id, (long long)d->version, d->currency,
		       rd_policy_name(policy),
		       (long long)rd_policy_version(policy));
		for (size_t i = 0; i < set->count; i++)
			print_proposal(&set->items[i], cur);
		if (set->proposed == 0)
			puts("  (no offer is eligible)");
		goto done;
	}
	if (!(offers = json_array()) || !(cut = json_array()))
		goto nomem;
	for (size_t i = 0; i < set->count; i++)
		if (json_array_append_new(i < set->proposed ? offers : cut,
					  rd_proposal_to_json(&set->items[i])))
			goto nomem;
	rc = cli_print_json(json_pack("{s:s, s:I, s:s, s:{s:s, s:I, s:s}, s:o, s:o}",
		"dispute", d->id, "version", (json_int_t)d->version,
		"currency", d->currency, "policy",
		"name", rd_policy_name(policy),
		"version", (json_int_t)rd_policy_version(policy),
		"hash", rd_policy_hash(policy),
		"offers", offers, "cut", cut), err);
	offers = cut = NULL;
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory");
done:
	json_decref(offers);
	json_decref(cut);
	rd_dispute_free(d);
	free(set);
	return rc;
}
