/*
 * Output of the CLI: human-readable text for agents, JSON for scripts.
 * Formatting only; nothing here reads the store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "redress/json.h"

int cli_print_json(json_t *value, rd_error *err)
{
	char *text = NULL;
	int rc = RD_OK;

	if (!value)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	/* the whole text first: jansson's dumpf can leave out a member it
	 * could not allocate for and still succeed */
	if (!(text = rd_json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		rc = rd_error_set(err, RD_ENOMEM,
				  "out of memory writing the answer");
	else if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF)
		rc = rd_error_set(err, RD_EIO, "cannot write to standard output");
	free(text);
	json_decref(value);
	return rc;
}

int cli_print_page(const char *name, json_t *items, const char *next,
		   rd_error *err)
{
	return cli_print_json(items ? json_pack("{s:o, s:o}", name, items,
						"next_cursor",
						next ? json_string(next)
						     : json_null())
				    : NULL,
			      err);
}

static void format_amount(char buf[RD_MONEY_BUFSZ], int64_t amount,
			  const rd_currency *cur)
{
	if (amount == RD_AMOUNT_UNSET)
		snprintf(buf, RD_MONEY_BUFSZ, "unknown");
	else if (cur)
		rd_money_format(buf, RD_MONEY_BUFSZ, amount, cur);
	else
		snprintf(buf, RD_MONEY_BUFSZ, "%lld", (long long)amount);
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

void cli_print_dispute(FILE *out, const rd_dispute *d,
		       const rd_offer_record *offers, size_t offer_count,
		       const rd_event_record *events, size_t event_count,
		       int64_t now)
{
	const rd_currency *cur = rd_currency_find(d->currency);
	char created[RD_TIME_BUFSZ], updated[RD_TIME_BUFSZ];
	char due[RD_TIME_BUFSZ], amount[RD_MONEY_BUFSZ];
	char cost[RD_MONEY_BUFSZ], extra[RD_MONEY_BUFSZ];
	int64_t price = 0;

	rd_time_format(created, d->created_at);
	rd_time_format(updated, d->updated_at);
	fprintf(out, "dispute %s (version %lld)\n", d->id,
		(long long)d->version);
	fprintf(out, "  state      %s%s%s\n", d->state,
		d->outcome ? ", outcome " : "", d->outcome ? d->outcome : "");
	fprintf(out, "  order      %s at %s, buyer %s\n", d->order_ref,
		d->storefront, d->buyer_ref);
	fprintf(out, "  reason     %s, via %s%s%s\n", rd_reason_name(d->reason),
		rd_channel_name(d->channel), d->locale ? ", locale " : "",
		d->locale ? d->locale : "");
	if (d->description)
		fprintf(out, "  about      %s\n", d->description);
	fprintf(out, "  workflow   %s v%lld (%.12s)\n", d->workflow_name,
		(long long)d->workflow_version, d->workflow_hash);
	fprintf(out, "  assignee   %s\n", or_dash(d->assignee));
	fprintf(out, "  created    %s\n  updated    %s\n", created, updated);
	if (d->deadline_at) {
		rd_time_format(due, d->deadline_at);
		fprintf(out, "  deadline   %s, then %s%s\n", due,
			d->deadline_event,
			d->deadline_at <= now ? " (OVERDUE)" : "");
	} else {
		fprintf(out, "  deadline   -\n");
	}

	fprintf(out, "\nitems (%s)\n", d->currency);
	for (size_t i = 0; i < d->item_count; i++) {
		const rd_item *item = &d->items[i];

		format_amount(amount, item->unit_price, cur);
		format_amount(cost, item->unit_cost, cur);
		fprintf(out, "  %-12s %-28s %lld x %s (goods cost %s)\n",
			item->sku, item->title, (long long)item->quantity,
			amount, cost);
	}
	if (rd_dispute_price(&price, d, NULL) == RD_OK) {
		format_amount(amount, price, cur);
		fprintf(out, "  price paid %s", amount);
	}
	format_amount(amount, d->shipping_paid, cur);
	format_amount(cost, d->ship_cost, cur);
	format_amount(extra, d->return_cost, cur);
	fprintf(out, ", shipping paid %s, ship cost %s, return cost %s\n",
		amount, cost, extra);

	if (offer_count) {
		fputs("\noffers\n", out);
		for (size_t i = 0; i < offer_count; i++) {
			const rd_offer_record *o = &offers[i];

			format_amount(amount, o->buyer_refund, cur);
			format_amount(extra, o->buyer_copay, cur);
			format_amount(cost, o->seller_cost, cur);
			fprintf(out, "  %-26s %-18s refund %s, co-pay %s, "
				"seller cost %s  [%s]\n",
				o->offer_id, rd_offer_type_name(o->type),
				amount, extra, cost, o->status);
		}
	}

	fputs("\nevents\n", out);
	for (size_t i = 0; i < event_count; i++) {
		const rd_event_record *e = &events[i];
		char at[RD_TIME_BUFSZ], actor[200];

		rd_time_format(at, e->at);
		snprintf(actor, sizeof(actor), "%s:%s",
			 rd_role_name(e->actor.role), e->actor.name);
		fprintf(out, "  %3lld %s %-18s %-22s %s -> %s", (long long)e->seq,
			at, e->event, actor, or_dash(e->from_state),
			e->to_state);
		if (e->fields_json && strcmp(e->fields_json, "{}") != 0)
			fprintf(out, " %s", e->fields_json);
		if (e->note)
			fprintf(out, " \"%s\"", e->note);
		fputc('\n', out);
	}
}

void cli_print_dispute_table(FILE *out, rd_dispute *const *disputes,
			     size_t count, int64_t now)
{
	fprintf(out, "%-26s  %-18s  %-16s  %-14s  %-14s  %s\n", "ID", "STATE",
		"REASON", "STOREFRONT", "ORDER", "DEADLINE");
	for (size_t i = 0; i < count; i++) {
		const rd_dispute *d = disputes[i];
		char at[RD_TIME_BUFSZ], due[RD_TIME_BUFSZ + 16] = "-";
		char state[160];

		if (d->deadline_at) {
			rd_time_format(at, d->deadline_at);
			snprintf(due, sizeof(due), "%s%s", at,
				 d->deadline_at <= now ? " OVERDUE" : "");
		}
		snprintf(state, sizeof(state), "%s%s%s", d->state,
			 d->outcome ? "/" : "", d->outcome ? d->outcome : "");
		fprintf(out, "%-26s  %-18s  %-16s  %-14.14s  %-14.14s  %s\n",
			d->id, state,
			rd_reason_name(d->reason), d->storefront, d->order_ref,
			due);
	}
	if (count == 0)
		fputs("(no disputes)\n", out);
}

void cli_print_evidence_table(FILE *out, const rd_evidence_row *rows,
			      size_t count)
{
	fprintf(out, "%-4s  %-18s  %-9s  %-24s  %10s  %-20s  %s\n", "N", "KIND",
		"CHANNEL", "CONTENT TYPE", "BYTES", "ADDED", "NAME");
	for (size_t i = 0; i < count; i++) {
		const rd_evidence_row *r = &rows[i];
		char added[RD_TIME_BUFSZ];

		rd_time_format(added, r->added_at);
		fprintf(out, "%-4lld  %-18s  %-9s  %-24s  %10lld  %-20s  %s%s%s\n",
			(long long)r->n, r->kind, r->channel, r->content_type,
			(long long)r->size, added,
			r->original_name ? r->original_name : "-",
			r->withdrawn ? "  WITHDRAWN: " : "",
			r->withdrawn && r->withdrawn_reason ? r->withdrawn_reason
							    : "");
	}
	if (count == 0)
		fputs("(no evidence)\n", out);
}

void cli_progress(void *ctx, size_t done, size_t total)
{
	const char *what = ctx;

	if (!isatty(STDERR_FILENO))
		return;
	if (total)
		fprintf(stderr, "\r%s %zu/%zu", what, done, total);
	else
		fprintf(stderr, "\r%s %zu", what, done);
	if (total && done == total)
		fputc('\n', stderr);
	(void)fflush(stderr);	/* progress only */
}
