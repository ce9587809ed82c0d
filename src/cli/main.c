/*
 * redress: the command line for agents and auditors.
 *
 * One table of subcommands drives dispatch and --help. Options may stand
 * before or after the arguments. Every failure is one line on stderr and
 * the exit status of the error table (include/redress/error.h), so scripts
 * can tell "not found" from "refused by a guard".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#include "redress/json.h"

#ifndef REDRESS_VERSION
#define REDRESS_VERSION "0"
#endif
#ifndef REDRESS_DEFAULT_SHARE_DIR
#define REDRESS_DEFAULT_SHARE_DIR "."
#endif

#define DEFAULT_DATA_DIR "./redress-data"

static const cli_option global_options[] = {
	{ "data", "DIR", 0, "data directory (default $REDRESS_DATA or ./redress-data)" },
	{ "store", "TARGET", 0, "the record: a PostgreSQL URI (postgresql://user@host:port/db) or an embedded database file (default $REDRESS_STORE or DIR/redress.db)" },
	{ "workflows", "DIR", 0, "workflow definitions (default $REDRESS_WORKFLOWS or the installed ones)" },
	{ "kinds", "FILE", 0, "evidence kinds (default $REDRESS_KINDS or the installed evidence/kinds.json)" },
	{ "policy", "FILE", 0, "settlement policy (default $REDRESS_POLICY or the installed workflows/policy.json)" },
	{ "calendars", "FILE", 0, "business hours (default $REDRESS_CALENDARS or calendars.json of the workflow directory, when there is one)" },
	{ "templates", "DIR", 0, "message templates (default $REDRESS_TEMPLATES or the installed templates/, when there are any)" },
	{ "json", NULL, 0, "machine-readable output" },
	{ "help", NULL, 0, "show help" },
	{ "version", NULL, 0, "print the version of redress" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option mirror_options[] = {
	{ "rebuild", NULL, 0, "make evidence.git again from the record" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option clean_options[] = {
	{ "older-than", "SECONDS", 0, "remove only files last written more than SECONDS ago (default 86400, a day)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option backup_options[] = {
	{ "to", "DIR", 0, "the directory to back up into: new, or empty, outside the data directory" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option migrate_options[] = {
	{ "from", "DIR", 0, "the embedded data directory to copy (only read; no process may have it open)" },
	{ "to", "URI", 0, "an empty PostgreSQL database (postgresql://user@host:port/db)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option open_options[] = {
	{ "as", "ROLE:NAME", 0, "act as this role and name (default agent:$USER)" },
	{ "allow-duplicate", NULL, 0, "open even while a dispute of the same storefront, order and items is open" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option list_options[] = {
	{ "state", "STATE", 0, "only disputes in this state" },
	{ "reason", "REASON", 0, "only disputes with this reason" },
	{ "storefront", "NAME", 0, "only this storefront's disputes" },
	{ "assignee", "NAME", 0, "only disputes assigned to NAME (me: to the --as name)" },
	{ "overdue", NULL, 0, "only disputes past their SLA deadline" },
	{ "awaiting-reply", NULL, 0, "only disputes whose buyer awaits an answer, the most overdue first" },
	{ "limit", "N", 0, "page size, 1 to 500 (default 50)" },
	{ "cursor", "CURSOR", 0, "continue after a previous page" },
	{ "order-ref", "REF", 0, "only disputes of this order reference" },
	{ "buyer-ref", "REF", 0, "only disputes of this buyer reference" },
	{ "sku", "SKU", 0, "only disputes with an item of this SKU" },
	{ "q", "WORDS", 0, "only disputes whose text holds every word (references, SKUs, titles, description, messages; never an internal note), the most relevant first" },
	{ "updated-since", "TIME", 0, "only disputes updated at or after TIME (RFC 3339)" },
	{ "as", "ROLE:NAME", 0, "the name --assignee me stands for (default agent:$USER)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option event_options[] = {
	{ "field", "NAME=VALUE", 1, "a field the event needs (repeatable)" },
	{ "note", "TEXT", 0, "a note recorded with the event" },
	{ "as", "ROLE:NAME", 0, "act as this role and name (default agent:$USER)" },
	{ "if-version", "N", 0, "refuse unless the dispute is at version N" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option message_options[] = {
	{ "direction", "DIR", 0, "inbound (the buyer's words), outbound (to the buyer) or internal (a note storefronts never see)" },
	{ "channel", "CHANNEL", 0, "chat, email, phone, platform, sms or other" },
	{ "body", "TEXT", 0, "the text (or --body-file, or --template)" },
	{ "body-file", "FILE", 0, "the text, read from FILE (- for standard input)" },
	{ "template", "NAME", 0, "an outbound text from this template, in the buyer's language" },
	{ "var", "NAME=VALUE", 1, "a template variable (repeatable; money in minor units, dates in RFC 3339)" },
	{ "language", "TAG", 0, "the text's language, BCP 47 (outbound: default the dispute's locale)" },
	{ "time-zone", "ZONE", 0, "template dates in this IANA zone (default the storefront's calendar's, else UTC)" },
	{ "author", "NAME", 0, "the name shown as the author (default the actor's)" },
	{ "evidence", "N", 1, "an evidence number the message refers to (repeatable)" },
	{ "caller", "WHO", 0, "phone: who called" },
	{ "duration", "SECONDS", 0, "phone: how long the call lasted" },
	{ "preview", NULL, 0, "show the template's text without recording anything" },
	{ "as", "ROLE:NAME", 0, "act as this role and name (default agent:$USER)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option messages_options[] = {
	{ "after", "N", 0, "only messages numbered above N (the next_after of a page)" },
	{ "limit", "N", 0, "page size, 1 to 200 (default 50)" },
	{ "as", "ROLE:NAME", 0, "read as this role and name (a storefront reads no internal note)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option evidence_options[] = {
	{ "kind", "KIND", 0, "add: the evidence kind (photo, tracking_record, ...)" },
	{ "channel", "CHANNEL", 0, "add: where it came from (default: the dispute's channel)" },
	{ "captured-at", "TIME", 0, "add: when it was captured (RFC 3339)" },
	{ "note", "TEXT", 0, "add: a note kept with it" },
	{ "name", "NAME", 0, "add: the original file name to record (default: FILE's name)" },
	{ "output", "FILE", 0, "get: write the bytes to FILE (also -o) instead of standard output" },
	{ "reason", "TEXT", 0, "withdraw: why (required)" },
	{ "as", "ROLE:NAME", 0, "act as this role and name (default agent:$USER)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option audit_options[] = {
	{ "all", NULL, 0, "verify: every dispute" },
	{ "out", "FILE", 0, "export: the archive to write (.tar.gz)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option key_options[] = {
	{ "role", "ROLE", 0, "create: agent, auditor, storefront or admin" },
	{ "storefront", "NAME", 0, "create: the storefront a storefront key is scoped to" },
	{ "name", "NAME", 0, "create: a name for the key (default: the role)" },
	{ "daily", "BYTES", 0, "quota: evidence bytes a UTC day (500MiB, 2GiB...; 0 or none: no quota; default: the server's)" },
	{ "total", "BYTES", 0, "quota: evidence bytes in all (0 or none: no quota; default: the server's)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option serve_options[] = {
	{ "listen", "HOST:PORT", 0, "address to listen on (default 127.0.0.1:8080; port 0: any free port)" },
	{ "rate-limit", "N", 0, "requests per second per API key, in bursts of up to 2N (default 100; 0: no limit)" },
	{ "sweep-interval", "SECONDS", 0, "fire due SLA deadlines every SECONDS (default 10; 0: no sweeper)" },
	{ "connection-timeout", "SECONDS", 0, "close a connection idle or stalled this long (default 30)" },
	{ "quota-daily", "BYTES", 0, "evidence bytes per storefront a UTC day, unless set by key quota (default 2GiB; 0 or none: no quota)" },
	{ "quota-total", "BYTES", 0, "evidence bytes per storefront in all, unless set by key quota (default 50GiB; 0 or none: no quota)" },
	{ "header-timeout", "SECONDS", 0, "a request's line and headers must arrive within SECONDS (default 10)" },
	{ "body-timeout", "SECONDS", 0, "a request's body must arrive within SECONDS of its headers, plus its allowance (default 20)" },
	{ "body-min-rate", "BYTES", 0, "each BYTES of body received earn 1 s more (default 16384)" },
	{ "idle-timeout", "SECONDS", 0, "close a keep-alive connection with no new request for SECONDS (default 15)" },
	{ "slow-threads", "N", 0, "threads for slow work: exports, verifications, histories, downloads (default: 4 per core; one key runs on half of them at most)" },
	{ "slow-per-key", "N", 0, "slow requests one API key may have under way; more get 429 (default 32)" },
	{ "exports-per-key", "N", 0, "exports one API key may have under way; more get 429 (default 2)" },
	{ "slow-queue", "N", 0, "slow requests under way in all; more get 503 (default 128)" },
	{ "slow-timeout", "SECONDS", 0, "longest wait for a slow answer to begin, or for its next bytes (default 60)" },
	{ "writers", "N", 0, "group-commit writer threads, a dispute always on the same one (PostgreSQL only; default one per core, 2 to 8; 1 on the embedded record)" },
	{ "webhook-allow-http", NULL, 0, "deliver webhooks to http:// URLs too (test and on-premise receivers only)" },
	{ "webhook-allow-private", NULL, 0, "deliver webhooks to loopback, private and link-local addresses too (test and on-premise receivers only)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option payables_options[] = {
	{ "storefront", "NAME", 0, "only this storefront's payables" },
	{ "limit", "N", 0, "page size, 1 to 500 (default 50)" },
	{ "cursor", "CURSOR", 0, "continue after a previous page" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option webhook_options[] = {
	{ "url", "URL", 0, "create, update: where to deliver (https://...)" },
	{ "events", "TYPES", 0, "create, update: event types, separated by commas, or \"*\" for all" },
	{ "description", "TEXT", 0, "create, update: what the endpoint is for" },
	{ "storefront", "NAME", 0, "create: the storefront whose events it receives (default: every storefront's)" },
	{ "enable", NULL, 0, "update: deliver to it again" },
	{ "disable", NULL, 0, "update: stop delivering to it" },
	{ "limit", "N", 0, "deliveries: page size, 1 to 100 (default 20)" },
	{ "cursor", "CURSOR", 0, "deliveries: continue after a previous page" },
	{ "allow-http", NULL, 0, "create, update: accept an http:// URL (test and on-premise receivers)" },
	{ "allow-private", NULL, 0, "create, update: accept a URL naming a loopback or private address (test and on-premise receivers)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option assign_options[] = {
	{ "note", "TEXT", 0, "a note recorded with the event" },
	{ "as", "ROLE:NAME", 0, "act as this role and name (default agent:$USER)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option bulk_options[] = {
	{ "event", "EVENT", 0, "the event to apply to each dispute" },
	{ "ids", "ID,ID,...", 0, "the disputes, 1 to 500, separated by commas" },
	{ "field", "NAME=VALUE", 1, "a field the event needs (repeatable)" },
	{ "note", "TEXT", 0, "a note recorded with each event" },
	{ "as", "ROLE:NAME", 0, "act as this role and name (default agent:$USER)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option claim_options[] = {
	{ "as", "ROLE:NAME", 0, "claim as this agent (default agent:$USER)" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option buyer_options[] = {
	{ "storefront", "NAME", 0, "the storefront whose buyer this is (required)" },
	{ "limit", "N", 0, "page size, 1 to 500 (default 50)" },
	{ "cursor", "CURSOR", 0, "continue after a previous page" },
	{ NULL, NULL, 0, NULL },
};

static const cli_option no_options[] = {
	{ NULL, NULL, 0, NULL },
};

static int cli_cmd_version(cli_ctx *ctx, rd_error *err);

static const cli_command commands[] = {
	{ "init", cli_cmd_init, "", "create the data directory and its database",
	  no_options, 0, 0, 0 },
	{ "open", cli_cmd_open, "FILE|-", "open a dispute from a JSON document",
	  open_options, 1, 1, 1 },
	{ "show", cli_cmd_show, "ID", "show a dispute, its offers and events",
	  no_options, 1, 1, 1 },
	{ "list", cli_cmd_list, "", "list disputes, newest first, a page at a time",
	  list_options, 0, 0, 1 },
	{ "event", cli_cmd_event, "ID EVENT", "apply a workflow event to a dispute",
	  event_options, 2, 2, 1 },
	{ "message", cli_cmd_message,
	  "ID --direction D --channel C (--body TEXT | --body-file F | --template NAME [--var K=V]...)",
	  "record a message of the conversation with the buyer",
	  message_options, 1, 1, 1 },
	{ "messages", cli_cmd_messages, "ID",
	  "a dispute's messages, oldest first, a page at a time",
	  messages_options, 1, 1, 1 },
	{ "templates", cli_cmd_templates, "",
	  "the message templates, their variables and languages",
	  no_options, 0, 0, 1 },
	{ "bulk-event", cli_cmd_bulk_event,
	  "--event EVENT --ids ID,ID,... [--field K=V]... [--note TEXT]",
	  "apply one event to many disputes, each in its own transaction, and report each",
	  bulk_options, 0, 0, 1 },
	{ "buyer", cli_cmd_buyer, "REF --storefront NAME",
	  "a buyer's disputes in one storefront, newest first, a page at a time",
	  buyer_options, 1, 1, 1 },
	{ "offers", cli_cmd_offers, "ID",
	  "the settlement offers proposed now, ranked, with their costs",
	  no_options, 1, 1, 1 },
	{ "payables", cli_cmd_payables, "",
	  "refunds and discounts awaiting the storefront's payment, oldest due first",
	  payables_options, 0, 0, 1 },
	{ "sweep", cli_cmd_sweep, "", "fire every SLA deadline that is due, once",
	  no_options, 0, 0, 1 },
	{ "workflows", cli_cmd_workflows, "[NAME]", "show the loaded workflows",
	  no_options, 0, 1, 0 },
	{ "evidence", cli_cmd_evidence,
	  "add ID FILE --kind K | list ID | get ID N [-o FILE] | withdraw ID N --reason R",
	  "add, list, read or withdraw a dispute's evidence",
	  evidence_options, 2, 3, 1 },
	{ "audit", cli_cmd_audit, "log ID | verify ID|--all | export ID --out FILE",
	  "a dispute's history, verification of record, index and mirror, export",
	  audit_options, 1, 2, 1 },
	{ "reindex", cli_cmd_reindex, "",
	  "rebuild the index from the record (alone: refused while another process has the data directory open)",
	  no_options, 0, 0, 1 },
	{ "mirror", cli_cmd_mirror, "[--rebuild]",
	  "bring evidence.git, the record's git mirror, up to date (or make it again)",
	  mirror_options, 0, 0, 1 },
	{ "clean", cli_cmd_clean, "[--older-than SECONDS]",
	  "remove the evidence files no change names (an upload cut short leaves one), older than a day",
	  clean_options, 0, 0, 1 },
	{ "backup", cli_cmd_backup, "--to DIR",
	  "copy the data directory, while in use, into DIR: the database as one committed state and its evidence files",
	  backup_options, 0, 0, 1 },
	{ "migrate", cli_cmd_migrate, "--from DIR --to URI",
	  "copy an embedded data directory into an empty PostgreSQL database, every id unchanged",
	  migrate_options, 0, 0, 0 },
	{ "upgrade", cli_cmd_upgrade, "",
	  "upgrade a data directory of an earlier release in place (any command does it on first open)",
	  no_options, 0, 0, 1 },
	{ "key", cli_cmd_key,
	  "create --role R [--storefront S] [--name N] | list | revoke ID | quota S [--daily B] [--total B]",
	  "create, list or revoke API keys (a new key is shown once); a storefront's evidence quota",
	  key_options, 1, 2, 1 },
	{ "webhook", cli_cmd_webhook,
	  "create --url URL --events TYPES | list | show ID | update ID | delete ID | rotate-secret ID | deliveries ID | retry ID DELIVERY_ID",
	  "the endpoints that receive events for storefronts, their secrets and delivery logs",
	  webhook_options, 1, 3, 1 },
	{ "assign", cli_cmd_assign, "ID NAME",
	  "assign a dispute to an agent (its key's name), or hand it over",
	  assign_options, 2, 2, 1 },
	{ "unassign", cli_cmd_unassign, "ID",
	  "put an assigned dispute back in the claim queue",
	  assign_options, 1, 1, 1 },
	{ "claim", cli_cmd_claim, "",
	  "take the most urgent unassigned open dispute (soonest SLA due, then oldest)",
	  claim_options, 0, 0, 1 },
	{ "agents", cli_cmd_agents, "",
	  "the agents (live agent keys' names) with their open, overdue and awaiting-reply disputes",
	  no_options, 0, 0, 1 },
	{ "version", cli_cmd_version, "", "print the version of redress",
	  no_options, 0, 0, 0 },
	{ "serve", cli_cmd_serve, "[--listen HOST:PORT] [--rate-limit N]",
	  "serve the HTTP API until SIGINT or SIGTERM",
	  serve_options, 0, 0, 0 },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const struct {
	int code;
	const char *meaning;
} exit_help[] = {
	{ RD_OK, "success" },
	{ RD_EIO, "internal or input/output error" },
	{ RD_EUSAGE, "bad usage" },
	{ RD_EINVALID, "invalid input (malformed JSON, bad field, bad money, too large, content type not allowed)" },
	{ RD_ENOTFOUND, "not found" },
	{ RD_ESTALE, "conflict, stale --if-version, or audit verify found a mismatch" },
	{ RD_EGUARD, "refused by the workflow (event not allowed now, or a guard)" },
	{ RD_EFORBIDDEN, "role not permitted" },
	{ RD_EBUSY, "database busy; try again" },
	{ RD_EDEFINITION, "invalid workflow or evidence kinds definition" },
	{ RD_EQUOTA, "the storefront's evidence quota is used up" },
	{ RD_EUNAVAILABLE, "the database cannot be reached; try again later" },
};

int cli_parse_int(int64_t *out, const char *text, const char *option,
		  int64_t min, rd_error *err)
{
	char *end = NULL;
	long long value;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno || end == text || *end != '\0' || value < min ||
	    text[0] < '0' || text[0] > '9')
		return rd_error_set_field(err, RD_EUSAGE, option,
					  "--%s must be an integer of %lld or "
					  "more, not \"%s\"", option,
					  (long long)min, text);
	*out = (int64_t)value;
	return RD_OK;
}

/*
 * A size: digits with an optional unit (B, KiB, MiB, GiB, TiB, or the
 * decimal kB, MB, GB, TB), "none" or 0 for no quota (RD_QUOTA_NONE), and
 * when allowed "default" (RD_QUOTA_DEFAULT).
 */
int cli_parse_size(int64_t *out, const char *text, const char *name,
		   int allow_default, rd_error *err)
{
	static const struct {
		const char *unit;
		int64_t factor;
	} units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", (int64_t)1 << 10 }, { "MiB", (int64_t)1 << 20 },
		{ "GiB", (int64_t)1 << 30 }, { "TiB", (int64_t)1 << 40 },
		{ "kB", 1000 }, { "KB", 1000 }, { "MB", 1000000 },
		{ "GB", 1000000000 }, { "TB", 1000000000000 },
	};
	char *end = NULL;
	long long value;

	if (strcmp(text, "none") == 0) {
		*out = RD_QUOTA_NONE;
		return RD_OK;
	}
	if (allow_default && strcmp(text, "default") == 0) {
		*out = RD_QUOTA_DEFAULT;
		return RD_OK;
	}
	if (text[0] < '0' || text[0] > '9')
		goto bad;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || value < 0)
		goto bad;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (value > INT64_MAX / units[i].factor)
			goto bad;
		*out = value == 0 ? RD_QUOTA_NONE
				  : (int64_t)value * units[i].factor;
		return RD_OK;
	}
bad:
	return rd_error_set_field(err, RD_EUSAGE, name,
				  "--%s must be a number of bytes, with an "
				  "optional unit (B, KiB, MiB, GiB, TiB, kB, "
				  "MB, GB, TB), or none%s; not \"%.32s\"",
				  name, allow_default ? " or default" : "",
				  text);
}

const char *cli_opt(const cli_args *args, const char *name)
{
	const char *value = NULL;

	for (size_t i = 0; i < args->option_count; i++)
		if (strcmp(args->options[i].name, name) == 0)
			value = args->options[i].value;
	return value;
}

int cli_flag(const cli_args *args, const char *name)
{
	return cli_opt(args, name) != NULL;
}

int cli_opt_number(long long *out, const cli_args *args, const char *name,
		   long long fallback, long long min, long long max,
		   rd_error *err)
{
	const char *text = cli_opt(args, name);
	char *end = NULL;
	long long value;

	*out = fallback;
	if (!text)
		return RD_OK;
	if (text[0] < '0' || text[0] > '9')
		goto bad;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || value < min || value > max)
		goto bad;
	*out = value;
	return RD_OK;
bad:
	return rd_error_set_field(err, RD_EUSAGE, name,
				  "--%s must be a whole number from %lld to "
				  "%lld, not \"%.32s\"", name, min, max, text);
}

static const cli_option *find_option(const cli_option *table, const char *name,
				     size_t len)
{
	for (; table && table->name; table++)
		if (strlen(table->name) == len &&
		    strncmp(table->name, name, len) == 0)
			return table;
	return NULL;
}

static const cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * The subcommand is the first argument that is neither an option nor the
 * value of a global option before it.
 */
static int find_command_index(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const cli_option *opt;

		if (strcmp(arg, "--") == 0)
			return i + 1 < argc ? i + 1 : -1;
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
			return arg[0] == '-' && arg[1] != '\0' ? -1 : i;
		opt = find_option(global_options, arg + 2, strcspn(arg + 2, "="));
		if (opt && opt->value && !strchr(arg, '='))
			i++;
	}
	return -1;
}

static int parse_args(cli_args *out, const cli_command *cmd, int argc,
		      char **argv, int cmd_index, rd_error *err)
{
	int only_positional = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *name, *eq, *value = "";
		const cli_option *opt;
		size_t len;

		if (i == cmd_index)
			continue;
		if (only_positional || arg[0] != '-' || arg[1] == '\0') {
			if (out->positional_count >= 16)
				return rd_error_set(err, RD_EUSAGE,
						    "too many arguments");
			out->positional[out->positional_count++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_positional = 1;
			continue;
		}
		if (strcmp(arg, "-h") == 0)
			arg = "--help";
		else if (strcmp(arg, "-o") == 0)
			arg = "--output";
		if (strncmp(arg, "--", 2) != 0)
			return rd_error_set(err, RD_EUSAGE,
					    "unknown option %s (options are "
					    "written --name)", arg);
		name = arg + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		opt = find_option(global_options, name, len);
		if (!opt && cmd)
			opt = find_option(cmd->options, name, len);
		if (!opt)
			return rd_error_set(err, RD_EUSAGE,
					    "unknown option --%.*s%s%s", (int)len,
					    name, cmd ? " for redress " : "",
					    cmd ? cmd->name : "");
		if (opt->value) {
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				return rd_error_set(err, RD_EUSAGE,
						    "option --%s needs a value "
						    "(%s)", opt->name,
						    opt->value);
		} else if (eq) {
			return rd_error_set(err, RD_EUSAGE,
					    "option --%s takes no value",
					    opt->name);
		}
		if (!opt->repeatable && opt->value) {
			for (size_t k = 0; k < out->option_count; k++)
				if (strcmp(out->options[k].name, opt->name) == 0)
					return rd_error_set(err, RD_EUSAGE,
						"option --%s is given twice",
						opt->name);
		}
		if (out->option_count >= 64)
			return rd_error_set(err, RD_EUSAGE, "too many options");
		out->options[out->option_count].name = opt->name;
		out->options[out->option_count].value = value;
		out->option_count++;
	}
	return RD_OK;
}

static void print_options(FILE *out, const cli_option *table)
{
	for (; table->name; table++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", table->name,
			 table->value ? " " : "",
			 table->value ? table->value : "");
		if (strlen(left) > 24)  /* a long option: help on its own line */
			fprintf(out, "  %s\n  %-24s %s\n", left, "",
				table->help);
		else
			fprintf(out, "  %-24s %s\n", left, table->help);
	}
}

static void print_exit_codes(FILE *out)
{
	fputs("\nExit status:\n", out);
	for (size_t i = 0; i < sizeof(exit_help) / sizeof(exit_help[0]); i++)
		fprintf(out, "  %-3d %s\n",
			rd_code_info_get(exit_help[i].code)->exit_code,
			exit_help[i].meaning);
}

static void print_help(FILE *out)
{
	fputs("usage: redress [--data DIR] COMMAND [ARGS] [OPTIONS]\n\n"
	      "A dispute-resolution workflow engine: open disputes, advance\n"
	      "them through their workflow, gather their evidence, propose\n"
	      "settlements, and audit their history in git.\n\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		char left[160];

		snprintf(left, sizeof(left), "%s %s", commands[i].name,
			 commands[i].usage);
		if (strlen(left) > 24)
			fprintf(out, "  %s\n  %-24s %s\n", left, "",
				commands[i].summary);
		else
			fprintf(out, "  %-24s %s\n", left, commands[i].summary);
	}
	fputs("\nGlobal options:\n", out);
	print_options(out, global_options);
	fputs("\nEnvironment:\n"
	      "  REDRESS_DATA             data directory, when --data is not given\n"
	      "  REDRESS_STORE            the record, when --store is not given\n"
	      "  REDRESS_WORKFLOWS        workflow directory, when --workflows is not given\n"
	      "  REDRESS_KINDS            evidence kinds file, when --kinds is not given\n"
	      "  REDRESS_POLICY           settlement policy file, when --policy is not given\n"
	      "  REDRESS_NOW              an RFC 3339 time used as the current time\n",
	      out);
	print_exit_codes(out);
	fputs("\nRun `redress COMMAND --help` for a command's options.\n", out);
}

static void print_command_help(FILE *out, const cli_command *cmd)
{
	fprintf(out, "usage: redress %s %s [OPTIONS]\n\n%s.\n", cmd->name,
		cmd->usage, cmd->summary);
	if (cmd->options[0].name) {
		fputs("\nOptions:\n", out);
		print_options(out, cmd->options);
	}
	fputs("\nGlobal options:\n", out);
	print_options(out, global_options);
	print_exit_codes(out);
}

static int cli_cmd_version(cli_ctx *ctx, rd_error *err)
{
	(void)ctx;
	(void)err;
	printf("redress %s\n", REDRESS_VERSION);
	return RD_OK;
}

static int prepare_actor(cli_ctx *ctx, rd_error *err)
{
	const char *spec = cli_opt(&ctx->args, "as");
	char fallback[160];
	const char *user = getenv("USER");

	if (!spec) {
		snprintf(fallback, sizeof(fallback), "agent:%s",
			 user && *user ? user : "cli");
		spec = fallback;
	}
	if (rd_actor_parse(&ctx->actor, spec, err) < 0)
		return rd_error_prefix(err, "--as");
	if (ctx->actor.role == RD_ROLE_SYSTEM)
		return rd_error_set(err, RD_EUSAGE,
				    "--as: role system is reserved for "
				    "redress itself (SLA deadlines)");
	return RD_OK;
}

static int fail(const rd_error *err)
{
	const rd_code_info *info = rd_code_info_get(err->code);

	fprintf(stderr, "redress: %s", err->message);
	if (err->field[0] && !strstr(err->message, err->field))
		fprintf(stderr, " (%s %s)",
			strncmp(err->field, "--", 2) == 0 ? "option" : "field",
			err->field);
	if (err->guard[0])
		fprintf(stderr, " [guard: %s]", err->guard);
	fputc('\n', stderr);
	return info->exit_code;
}

int main(int argc, char **argv)
{
	const cli_command *cmd = NULL;
	rd_service_options opts;
	cli_ctx ctx;
	rd_error err;
	int cmd_index, rc;

	rd_json_init();
	memset(&ctx, 0, sizeof(ctx));
	rd_error_clear(&err);
	cmd_index = find_command_index(argc, argv);
	if (cmd_index > 0 && !(cmd = find_command(argv[cmd_index]))) {
		rd_error_set(&err, RD_EUSAGE,
			     "unknown command \"%s\"; run `redress --help`",
			     argv[cmd_index]);
		return fail(&err);
	}
	if (parse_args(&ctx.args, cmd, argc, argv, cmd_index, &err) < 0)
		return fail(&err);
	if (cli_flag(&ctx.args, "version") && !cli_flag(&ctx.args, "help"))
		return cli_cmd_version(&ctx, &err);
	if (cli_flag(&ctx.args, "help") || !cmd) {
		if (cmd)
			print_command_help(stdout, cmd);
		else
			print_help(cmd_index < 0 && argc > 1 &&
				   !cli_flag(&ctx.args, "help") ? stderr
								: stdout);
		return cmd || cli_flag(&ctx.args, "help") ? 0
			: rd_code_info_get(RD_EUSAGE)->exit_code;
	}
	if (ctx.args.positional_count < cmd->min_args ||
	    ctx.args.positional_count > cmd->max_args) {
		rd_error_set(&err, RD_EUSAGE, "usage: redress %s %s",
			     cmd->name, cmd->usage);
		return fail(&err);
	}
	ctx.json = cli_flag(&ctx.args, "json");
	ctx.data_dir = cli_opt(&ctx.args, "data");
	if (!ctx.data_dir)
		ctx.data_dir = getenv("REDRESS_DATA");
	if (!ctx.data_dir || !*ctx.data_dir)
		ctx.data_dir = DEFAULT_DATA_DIR;
	ctx.store = cli_opt(&ctx.args, "store");
	if (!ctx.store)
		ctx.store = getenv("REDRESS_STORE");
	if (ctx.store && !*ctx.store)
		ctx.store = NULL;
	ctx.workflows_dir = cli_opt(&ctx.args, "workflows");
	if (!ctx.workflows_dir)
		ctx.workflows_dir = getenv("REDRESS_WORKFLOWS");
	if (!ctx.workflows_dir || !*ctx.workflows_dir)
		ctx.workflows_dir = REDRESS_DEFAULT_SHARE_DIR "/workflows";
	ctx.kinds_path = cli_opt(&ctx.args, "kinds");
	if (!ctx.kinds_path)
		ctx.kinds_path = getenv("REDRESS_KINDS");
	if (!ctx.kinds_path || !*ctx.kinds_path)
		ctx.kinds_path = REDRESS_DEFAULT_SHARE_DIR "/evidence/kinds.json";
	ctx.policy_path = cli_opt(&ctx.args, "policy");
	if (!ctx.policy_path)
		ctx.policy_path = getenv("REDRESS_POLICY");
	if (!ctx.policy_path || !*ctx.policy_path)
		ctx.policy_path = REDRESS_DEFAULT_SHARE_DIR "/workflows/policy.json";
	ctx.calendars_path = cli_opt(&ctx.args, "calendars");
	if (!ctx.calendars_path)
		ctx.calendars_path = getenv("REDRESS_CALENDARS");
	ctx.templates_dir = cli_opt(&ctx.args, "templates");
	if (!ctx.templates_dir)
		ctx.templates_dir = getenv("REDRESS_TEMPLATES");
	if ((!ctx.templates_dir || !*ctx.templates_dir) &&
	    access(REDRESS_DEFAULT_SHARE_DIR "/templates/moments.json",
		   F_OK) == 0)
		ctx.templates_dir = REDRESS_DEFAULT_SHARE_DIR "/templates";
	if (rd_clock_now(&ctx.now, &err) < 0 ||
	    prepare_actor(&ctx, &err) < 0)
		return fail(&err);
	if (cmd->needs_service) {
		memset(&opts, 0, sizeof(opts));
		opts.data_dir = ctx.data_dir;
		opts.store = ctx.store;
		opts.workflows_dir = ctx.workflows_dir;
		opts.kinds_path = ctx.kinds_path;
		opts.policy_path = ctx.policy_path;
		opts.calendars_path = ctx.calendars_path;
		opts.templates_dir = ctx.templates_dir;
		if (rd_service_open(&ctx.svc, &opts, &err) < 0)
			return fail(&err);
	}
	rc = cmd->run(&ctx, &err);
	rd_service_close(ctx.svc);
	if (rc < 0)
		return fail(&err);
	return 0;
}
