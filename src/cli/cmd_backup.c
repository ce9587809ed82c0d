/*
 * The CLI's backup command: a consistent copy of a data directory that may
 * be in use (a server running on it), and how to restore it.
 */
#include <stdio.h>

#include "cli.h"

int cli_cmd_backup(cli_ctx *ctx, rd_error *err)
{
	const char *dir = cli_opt(&ctx->args, "to");
	rd_backup_report r;
	int rc;

	if (!dir || !*dir)
		return rd_error_set(err, RD_EUSAGE, "backup needs --to DIR, a "
				    "new or empty directory");
	if ((rc = rd_service_backup(ctx->svc, dir, &r, err)) < 0)
		return rc;
	if (ctx->json)
		return cli_print_json(json_pack(
			"{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:[s,s]}", "to", dir,
			"disputes", (json_int_t)r.disputes,
			"changes", (json_int_t)r.changes,
			"objects", (json_int_t)r.objects,
			"database_bytes", (json_int_t)r.database_bytes,
			"files", (json_int_t)r.files,
			"file_bytes", (json_int_t)r.file_bytes,
			"restore", "redress mirror --rebuild",
			"redress audit verify --all"), err);
	printf("backed up %s into %s: %lld disputes, %lld changes, %lld "
	       "objects\n", ctx->data_dir, dir, (long long)r.disputes,
	       (long long)r.changes, (long long)r.objects);
	printf("  redress.db  %lld bytes, the record and index as of change "
	       "%lld\n", (long long)r.database_bytes, (long long)r.changes);
	printf("  blobs/      %lld evidence files, %lld bytes\n",
	       (long long)r.files, (long long)r.file_bytes);
	printf("not copied: evidence.git (the mirror, made again from the "
	       "record), lock, registry and holder files\n");
	printf("to restore: with redress stopped, put %s in place of the data "
	       "directory (or point --data or REDRESS_DATA at it), then run\n"
	       "  redress mirror --rebuild\n"
	       "  redress audit verify --all\n", dir);
	return RD_OK;
}
