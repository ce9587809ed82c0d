/*
 * The redress command line: shared declarations of the CLI module.
 *
 * The CLI turns arguments into service calls and results into text or
 * JSON. It never speaks SQL and never decides a transition: everything it
 * does goes through include/redress/service.h.
 */
#ifndef REDRESS_CLI_H
#define REDRESS_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "redress.h"

/* An option a command accepts. */
typedef struct cli_option {
	const char *name;       /* without the leading "--" */
	const char *value;      /* placeholder ("DIR") when it takes a value, else NULL */
	int repeatable;         /* 1: may be given several times */
	const char *help;
} cli_option;

/* The parsed command line of one invocation. */
typedef struct cli_args {
	const char *positional[16];
	size_t positional_count;
	struct {
		const char *name;
		const char *value;   /* "" for flags */
	} options[64];
	size_t option_count;
} cli_args;

/* The last value of --name, or NULL when absent. */
const char *cli_opt(const cli_args *args, const char *name);

/* 1 when the flag --name was given. */
int cli_flag(const cli_args *args, const char *name);

/*
 * The value of --name as a whole number from min to max (digits only),
 * or `fallback` when the option is absent. RD_EUSAGE naming the option
 * otherwise.
 */
int cli_opt_number(long long *out, const cli_args *args, const char *name,
		   long long fallback, long long min, long long max,
		   rd_error *err);

/*
 * A size in bytes for --name: digits with an optional unit (500MiB, 2GiB,
 * 1GB), 0 or "none" for no quota (RD_QUOTA_NONE), and when allow_default
 * "default" (RD_QUOTA_DEFAULT). RD_EUSAGE naming the option otherwise.
 */
int cli_parse_size(int64_t *out, const char *text, const char *name,
		   int allow_default, rd_error *err);

/*
 * Read all of FILE (or standard input for "-"), at most `limit` bytes:
 * *out is new and NUL-terminated (free()), *len its length.
 */
int cli_read_input(char **out, size_t *len, const char *path, size_t limit,
		   rd_error *err);

/* Decimal digits only, at least min: --option's value (RD_EUSAGE). */
int cli_parse_int(int64_t *out, const char *text, const char *option,
		  int64_t min, rd_error *err);

/* Everything a command needs, prepared by main. */
typedef struct cli_ctx {
	cli_args args;
	const char *data_dir;
	const char *store;          /* NULL: <data_dir>/redress.db */
	const char *workflows_dir;
	const char *kinds_path;
	const char *policy_path;
	const char *calendars_path; /* NULL: <workflows_dir>/calendars.json */
	const char *templates_dir;  /* NULL: none */
	int json;
	int64_t now;
	rd_actor actor;
	rd_service *svc;        /* opened by main unless the command opens it */
} cli_ctx;

/* A subcommand: one row of the table that also generates --help. */
typedef struct cli_command {
	const char *name;
	int (*run)(cli_ctx *ctx, rd_error *err);
	const char *usage;       /* arguments, e.g. "ID EVENT" */
	const char *summary;
	const cli_option *options;
	size_t min_args;
	size_t max_args;
	int needs_service;       /* 1: main opens the data directory first */
} cli_command;

/* Commands (cmd_*.c). */
int cli_cmd_init(cli_ctx *ctx, rd_error *err);
int cli_cmd_open(cli_ctx *ctx, rd_error *err);
int cli_cmd_show(cli_ctx *ctx, rd_error *err);
int cli_cmd_list(cli_ctx *ctx, rd_error *err);
int cli_cmd_event(cli_ctx *ctx, rd_error *err);
int cli_cmd_message(cli_ctx *ctx, rd_error *err);
int cli_cmd_messages(cli_ctx *ctx, rd_error *err);
int cli_cmd_templates(cli_ctx *ctx, rd_error *err);
int cli_cmd_sweep(cli_ctx *ctx, rd_error *err);
int cli_cmd_workflows(cli_ctx *ctx, rd_error *err);
int cli_cmd_evidence(cli_ctx *ctx, rd_error *err);
int cli_cmd_offers(cli_ctx *ctx, rd_error *err);
int cli_cmd_audit(cli_ctx *ctx, rd_error *err);
int cli_cmd_reindex(cli_ctx *ctx, rd_error *err);
int cli_cmd_mirror(cli_ctx *ctx, rd_error *err);
int cli_cmd_clean(cli_ctx *ctx, rd_error *err);
int cli_cmd_backup(cli_ctx *ctx, rd_error *err);
int cli_cmd_migrate(cli_ctx *ctx, rd_error *err);
int cli_cmd_upgrade(cli_ctx *ctx, rd_error *err);
int cli_cmd_key(cli_ctx *ctx, rd_error *err);
int cli_cmd_serve(cli_ctx *ctx, rd_error *err);
int cli_cmd_payables(cli_ctx *ctx, rd_error *err);
int cli_cmd_webhook(cli_ctx *ctx, rd_error *err);
int cli_cmd_assign(cli_ctx *ctx, rd_error *err);
int cli_cmd_unassign(cli_ctx *ctx, rd_error *err);
int cli_cmd_claim(cli_ctx *ctx, rd_error *err);
int cli_cmd_agents(cli_ctx *ctx, rd_error *err);

int cli_cmd_bulk_event(cli_ctx *ctx, rd_error *err);
int cli_cmd_buyer(cli_ctx *ctx, rd_error *err);

/* Progress of long operations, on standard error when it is a terminal. */
void cli_progress(void *ctx, size_t done, size_t total);

/* Output helpers (print.c). */

/* Write JSON to stdout, indented, followed by a newline. */
int cli_print_json(json_t *value, rd_error *err);

/* A page of a list as JSON, {NAME: items, "next_cursor": next or null};
 * takes items (NULL: out of memory). */
int cli_print_page(const char *name, json_t *items, const char *next,
		   rd_error *err);

/* Human-readable dispute with its offers and events. */
void cli_print_dispute(FILE *out, const rd_dispute *d,
		       const rd_offer_record *offers, size_t offer_count,
		       const rd_event_record *events, size_t event_count,
		       int64_t now);

/* One line per dispute, with a header. */
void cli_print_dispute_table(FILE *out, rd_dispute *const *disputes,
			     size_t count, int64_t now);

/* Evidence rows as a table. */
void cli_print_evidence_table(FILE *out, const rd_evidence_row *rows,
			      size_t count);

#endif
