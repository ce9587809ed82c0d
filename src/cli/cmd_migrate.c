/*
 * The CLI's migrate command: an embedded data directory's record moved
 * into an empty PostgreSQL database, every id unchanged, and what a node
 * does next to use it.
 */
#include <stdio.h>

#include "cli.h"

/* Files first (no total), then the record's objects. */
static void migrate_progress(void *ctx, size_t done, size_t total)
{
	static char files[] = "evidence files";
	static char objects[] = "objects";

	(void)ctx;
	cli_progress(total ? objects : files, done, total);
}

int cli_cmd_migrate(cli_ctx *ctx, rd_error *err)
{
	const char *from = cli_opt(&ctx->args, "from");
	const char *to = cli_opt(&ctx->args, "to");
	rd_migrate_report r;
	int rc;

	if ((rc = rd_service_migrate(from, to, migrate_progress, NULL, &r,
				     err)) < 0)
		return rc;
	if (ctx->json)
		return cli_print_json(json_pack(
			"{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "from", from,
			"disputes", (json_int_t)r.disputes,
			"events", (json_int_t)r.events,
			"objects", (json_int_t)r.objects,
			"changes", (json_int_t)r.changes,
			"keys", (json_int_t)r.keys,
			"rows", (json_int_t)r.rows,
			"files", (json_int_t)r.files,
			"file_bytes", (json_int_t)r.file_bytes), err);
	printf("moved %s into PostgreSQL: %lld disputes, %lld events, %lld "
	       "API keys, %lld rows in all\n", from, (long long)r.disputes,
	       (long long)r.events, (long long)r.keys, (long long)r.rows);
	printf("  the record: %lld objects, %lld changes, ids unchanged\n",
	       (long long)r.objects, (long long)r.changes);
	printf("  evidence files: %lld, %lld bytes, each checked against its "
	       "id\n", (long long)r.files, (long long)r.file_bytes);
	printf("%s was only read. To use the record, give each node a data "
	       "directory of its own on it:\n"
	       "  redress --store URI --data NEW_DIR init\n"
	       "  redress --store URI --data NEW_DIR audit verify --all\n",
	       from);
	return RD_OK;
}
