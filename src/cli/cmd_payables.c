/*
 * redress payables: the disputes whose settlement the storefront must pay
 * now (refunds and discounts), with the amount, the deadline and the event
 * that confirms the payment, oldest deadline first. The same list as
 * GET /v1/payables, for agents who follow up on late payments.
 *
 * It only reads; confirming a payment is `redress event`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void print_table(FILE *out, const rd_payable_row *rows, size_t count,
			int64_t now)
{
	fprintf(out, "%-26s  %-8s  %16s  %-14s  %-14s  %-28s  %s\n", "ID",
		"ACTION", "AMOUNT", "STOREFRONT", "ORDER", "DUE", "VERSION");
	for (size_t i = 0; i < count; i++) {
		const rd_payable_row *p = &rows[i];
		const rd_currency *cur = rd_currency_find(p->currency);
		const char *action = rd_payable_action(p->state);
		char money[RD_MONEY_BUFSZ], amount[RD_MONEY_BUFSZ + 8];
		char at[RD_TIME_BUFSZ], due[RD_TIME_BUFSZ + 16] = "-";

		if (p->has_offer && cur &&
		    rd_money_format(money, sizeof(money), p->buyer_refund,
				    cur) >= 0)
			snprintf(amount, sizeof(amount), "%s %s", money,
				 p->currency);
		else
			snprintf(amount, sizeof(amount), "unknown");
		if (p->due_at) {
			rd_time_format(at, p->due_at);
			snprintf(due, sizeof(due), "%s%s", at,
				 p->due_at <= now ? " OVERDUE" : "");
		}
		fprintf(out, "%-26s  %-8s  %16s  %-14.14s  %-14.14s  %-28s  %lld\n",
			p->dispute_id, action ? action : p->state, amount,
			p->storefront, p->order_ref, due,
			(long long)p->version);
	}
	if (count == 0)
		fputs("(nothing awaits payment)\n", out);
	else
		fputs("\nconfirm a payment: redress event ID refund_issued|"
		      "discount_issued --field payment_ref=REF --if-version "
		      "VERSION\n", out);
}

int cli_cmd_payables(cli_ctx *ctx, rd_error *err)
{
	rd_payable_row *rows = NULL;
	long long limit = 0;
	size_t count = 0;
	char *next = NULL;
	json_t *list = NULL;
	int rc;

	if ((rc = cli_opt_number(&limit, &ctx->args, "limit", 0, 1, 500,
				 err)) < 0)
		return rc;
	if ((rc = rd_service_payables(ctx->svc,
				      cli_opt(&ctx->args, "storefront"),
				      cli_opt(&ctx->args, "cursor"),
				      (size_t)limit,
				      &rows, &count, &next, err)) < 0)
		return rc;
	if (!ctx->json) {
		print_table(stdout, rows, count, ctx->now);
		if (next)
			printf("more: redress payables --cursor %s\n", next);
		rc = RD_OK;
		goto done;
	}
	if (!(list = json_array()))
		goto nomem;
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(list, rd_payable_to_json(&rows[i],
								   ctx->now)))
			goto nomem;
	rc = cli_print_page("payables", list, next, err);
	list = NULL;	/* taken */
	goto done;
nomem:
	rc = rd_error_set(err, RD_ENOMEM, "out of memory");
done:
	json_decref(list);
	free(rows);
	free(next);
	return rc;
}
