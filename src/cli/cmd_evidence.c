/*
 * The CLI's evidence and audit commands: evidence add, list, get and
 * withdraw; audit log, verify and export; reindex.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int parse_number(int64_t *out, const char *text, const char *what,
			rd_error *err)
{
	char *end = NULL;
	long long value;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno || end == text || *end || value < 1)
		return rd_error_set(err, RD_EUSAGE,
				    "%s must be a positive integer, not \"%s\"",
				    what, text);
	*out = value;
	return RD_OK;
}

static int need_args(const cli_ctx *ctx, size_t count, const char *usage,
		     rd_error *err)
{
	if (ctx->args.positional_count != count)
		return rd_error_set(err, RD_EUSAGE, "usage: redress %s", usage);
	return RD_OK;
}

static int print_row(const cli_ctx *ctx, const rd_evidence_row *row,
		     rd_error *err)
{
	if (ctx->json)
		return cli_print_json(rd_evidence_row_to_json(row), err);
	printf("evidence %lld of dispute %s: %s, %s, %lld bytes, sha256 %s\n",
	       (long long)row->n, row->dispute_id, row->kind, row->content_type,
	       (long long)row->size, row->sha256);
	return RD_OK;
}

/*
 * The service names the fields of the submission as the API does
 * (captured_at); on the command line they are options (--captured-at).
 */
static void name_option(rd_error *err)
{
	static const struct {
		const char *field;
		const char *option;
	} options[] = {
		{ "kind", "--kind" },
		{ "channel", "--channel" },
		{ "captured_at", "--captured-at" },
		{ "note", "--note" },
		{ "original_name", "--name" },
	};

	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(err->field, options[i].field) == 0) {
			snprintf(err->field, sizeof(err->field), "%s",
				 options[i].option);
			return;
		}
}

/* --channel's default, the dispute's channel, named (it must outlive
 * the submission: a static name of the channel table). */
static int default_channel(const char **out, cli_ctx *ctx, const char *id,
			   rd_error *err)
{
	rd_dispute *d = NULL;
	int rc;

	if ((rc = rd_service_dispute_get(ctx->svc, id, &d, err)) < 0)
		return rc;
	*out = rd_channel_name(d->channel);
	rd_dispute_free(d);
	return RD_OK;
}

static int evidence_add(cli_ctx *ctx, rd_error *err)
{
	const char *id = ctx->args.positional[1];
	const char *file = ctx->args.positional[2];
	const char *captured = cli_opt(&ctx->args, "captured-at");
	rd_evidence_submission sub;
	rd_evidence_row row;
	char *copy = NULL;
	int fd = -1, rc;

	memset(&sub, 0, sizeof(sub));
	memset(&row, 0, sizeof(row));
	if ((rc = need_args(ctx, 3, "evidence add ID FILE --kind KIND", err)) < 0)
		return rc;
	sub.kind = cli_opt(&ctx->args, "kind");
	if (!sub.kind)
		return rd_error_set(err, RD_EUSAGE, "evidence add needs --kind");
	sub.channel = cli_opt(&ctx->args, "channel");
	if (!sub.channel &&
	    (rc = default_channel(&sub.channel, ctx, id, err)) < 0)
		return rc;
	sub.note = cli_opt(&ctx->args, "note");
	sub.original_name = cli_opt(&ctx->args, "name");
	if (captured && rd_time_parse(&sub.captured_at, captured, err) < 0)
		return rd_error_prefix(err, "--captured-at");
	if (!sub.original_name) {
		if ((copy = strdup(file)) == NULL)
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		sub.original_name = basename(copy);
	}
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = rd_error_set(err, errno == ENOENT ? RD_ENOTFOUND : RD_EIO,
				  "cannot open %s: %s", file, strerror(errno));
		goto done;
	}
	if ((rc = rd_service_evidence_add_fd(ctx->svc, id, &sub, fd, &ctx->actor,
					     ctx->now, &row, err)) < 0) {
		name_option(err);
		goto done;
	}
	rc = print_row(ctx, &row, err);
done:
	if (fd >= 0)
		close(fd);
	free(copy);
	rd_evidence_row_clear(&row);
	return rc;
}

static int evidence_list(cli_ctx *ctx, rd_error *err)
{
	rd_evidence_row *rows = NULL;
	json_t *list = NULL;
	size_t count = 0;
	int rc;

	if ((rc = need_args(ctx, 2, "evidence list ID", err)) < 0 ||
	    (rc = rd_service_evidence_list(ctx->svc, ctx->args.positional[1],
					   &rows, &count, err)) < 0)
		return rc;
	if (!ctx->json) {
		cli_print_evidence_table(stdout, rows, count);
		goto done;
	}
	if ((list = json_array()) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < count; i++)
		if (json_array_append_new(list, rd_evidence_row_to_json(&rows[i]))) {
			json_decref(list);
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	rc = cli_print_json(json_pack("{s:o}", "evidence", list), err);
done:
	rd_evidence_rows_free(rows, count);
	return rc;
}

static int file_sink(void *ctx, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}

/*
 * The bytes go to a temporary file beside the output and are renamed into
 * place only once their SHA-256 matched the record.
 */
static int evidence_get(cli_ctx *ctx, rd_error *err)
{
	const char *output = cli_opt(&ctx->args, "output");
	char tmp[4096] = "";
	rd_evidence_row row;
	FILE *f = stdout;
	int64_t n = 0;
	int fd, rc;

	memset(&row, 0, sizeof(row));
	if ((rc = need_args(ctx, 3, "evidence get ID N [-o FILE]", err)) < 0 ||
	    (rc = parse_number(&n, ctx->args.positional[2], "N", err)) < 0)
		return rc;
	if (output) {
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s.partial-XXXXXX",
				     output) >= sizeof(tmp))
			return rd_error_set(err, RD_EUSAGE,
					    "the output path is too long");
		if ((fd = mkstemp(tmp)) < 0) {
			rc = rd_error_set(err, RD_EIO, "cannot write %s: %s", tmp,
					  strerror(errno));
			tmp[0] = '\0';	/* nothing was made */
			goto done;
		}
		if ((f = fdopen(fd, "wb")) == NULL) {
			rc = rd_error_set(err, RD_EIO, "cannot write %s: %s", tmp,
					  strerror(errno));
			(void)close(fd);
			goto done;	/* the file made is removed */
		}
	}
	if ((rc = rd_service_evidence_get(ctx->svc, ctx->args.positional[1], n,
					  &row, file_sink, f, err)) < 0)
		goto done;
	if (fflush(f) != 0) {
		rc = rd_error_set(err, RD_EIO, "cannot write the evidence: %s",
				  strerror(errno));
		goto done;
	}
	if (output) {
		int closed = fclose(f);

		f = NULL;
		if (closed != 0 || rename(tmp, output) != 0) {
			rc = rd_error_set(err, RD_EIO, "cannot write %s: %s",
					  output, strerror(errno));
			goto done;
		}
		tmp[0] = '\0';
		fprintf(stderr, "wrote %s (%lld bytes, %s, sha256 %s)\n", output,
			(long long)row.size, row.content_type, row.sha256);
	}
done:
	if (f && f != stdout)
		(void)fclose(f);	/* a failure is already the answer */
	if (tmp[0])
		unlink(tmp);
	rd_evidence_row_clear(&row);
	return rc;
}

static int evidence_withdraw(cli_ctx *ctx, rd_error *err)
{
	const char *reason = cli_opt(&ctx->args, "reason");
	rd_dispute *d = NULL;
	int64_t n = 0;
	int rc;

	if ((rc = need_args(ctx, 3, "evidence withdraw ID N --reason TEXT",
			    err)) < 0 ||
	    (rc = parse_number(&n, ctx->args.positional[2], "N", err)) < 0)
		return rc;
	if (!reason)
		return rd_error_set(err, RD_EUSAGE,
				    "evidence withdraw needs --reason");
	if ((rc = rd_service_evidence_withdraw(ctx->svc, ctx->args.positional[1],
					       n, reason, &ctx->actor, ctx->now,
					       &d, err)) < 0)
		return rc;
	if (ctx->json)
		rc = cli_print_json(rd_dispute_to_json(d), err);
	else
		printf("evidence %lld of dispute %s withdrawn (version %lld)\n",
		       (long long)n, d->id, (long long)d->version);
	rd_dispute_free(d);
	return rc;
}

int cli_cmd_evidence(cli_ctx *ctx, rd_error *err)
{
	static const struct {
		const char *verb;
		int (*run)(cli_ctx *, rd_error *);
	} verbs[] = {
		{ "add", evidence_add },
		{ "list", evidence_list },
		{ "get", evidence_get },
		{ "withdraw", evidence_withdraw },
	};
	const char *verb = ctx->args.positional[0];

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].verb, verb) == 0)
			return verbs[i].run(ctx, err);
	return rd_error_set(err, RD_EUSAGE,
			    "unknown evidence command \"%s\": add, list, get "
			    "or withdraw", verb);
}

/* ---- audit ---- */

static int audit_log(cli_ctx *ctx, rd_error *err)
{
	rd_commit_info *log = NULL;
	json_t *list = NULL;
	size_t count = 0;
	int rc;

	if ((rc = need_args(ctx, 2, "audit log ID", err)) < 0 ||
	    (rc = rd_service_audit_log(ctx->svc, ctx->args.positional[1], &log,
				       &count, err)) < 0)
		return rc;
	if (ctx->json && (list = json_array()) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		char when[RD_TIME_BUFSZ], subject[200];
		const char *msg = log[i].message ? log[i].message : "";
		size_t len = strcspn(msg, "\n");

		rd_time_format(when, log[i].when);
		snprintf(subject, sizeof(subject), "%.*s", (int)len, msg);
		if (!ctx->json) {
			printf("%s  %.12s  %-24s  %s\n", when, log[i].oid,
			       log[i].author_email, subject);
			continue;
		}
		if (json_array_append_new(list, json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:s}", "commit", log[i].oid,
			"parent", log[i].parent, "at", when,
			"author", log[i].author_name,
			"email", log[i].author_email, "message", msg)) != 0) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (ctx->json) {
		rc = cli_print_json(json_pack("{s:s, s:o}", "dispute",
					      ctx->args.positional[1],
					      "commits", list), err);
		list = NULL;
	}
done:
	json_decref(list);
	rd_commit_infos_free(log, count);
	return rc;
}

static int audit_verify(cli_ctx *ctx, rd_error *err)
{
	int all = cli_flag(&ctx->args, "all");
	const char *id = ctx->args.positional_count > 1 ? ctx->args.positional[1]
							: NULL;
	rd_verify_report report;
	int rc;

	if (ctx->args.positional_count > 2 || (all == (id != NULL)))
		return rd_error_set(err, RD_EUSAGE,
				    "usage: redress audit verify ID | --all");
	if ((rc = rd_service_audit_verify(ctx->svc, id, &report, cli_progress,
					  (void *)"verified", err)) < 0)
		return rc;
	if (ctx->json) {
		rc = cli_print_json(rd_verify_report_to_json(&report), err);
	} else {
		for (size_t i = 0; i < report.count; i++)
			printf("MISMATCH %s [%s] %s\n",
			       report.findings[i].dispute_id,
			       report.findings[i].check,
			       report.findings[i].detail);
		printf("%s: %zu dispute%s, %zu commits, %zu evidence files "
		       "re-hashed (%lld bytes), %zu mismatch%s\n",
		       report.count ? "FAILED" : "ok", report.disputes,
		       report.disputes == 1 ? "" : "s", report.commits,
		       report.files_hashed, (long long)report.bytes_hashed,
		       report.count, report.count == 1 ? "" : "es");
		if (report.mirror_elsewhere)
			printf("the record's mirror is another data "
			       "directory's (the node that writes it): this "
			       "one's was not compared\n");
	}
	if (rc == RD_OK && report.count)
		rc = rd_error_set(err, RD_ECONFLICT,
				  "verification found %zu mismatch%s",
				  report.count, report.count == 1 ? "" : "es");
	rd_verify_report_free(&report);
	return rc;
}

static int audit_export(cli_ctx *ctx, rd_error *err)
{
	const char *out = cli_opt(&ctx->args, "out");
	int rc;

	if ((rc = need_args(ctx, 2, "audit export ID --out FILE", err)) < 0)
		return rc;
	if (!out)
		return rd_error_set(err, RD_EUSAGE, "audit export needs --out FILE");
	if ((rc = rd_service_audit_export(ctx->svc, ctx->args.positional[1], out,
					  err)) < 0)
		return rc;
	if (ctx->json)
		return cli_print_json(json_pack("{s:s, s:s}", "dispute",
						ctx->args.positional[1],
						"archive", out), err);
	printf("wrote %s\n", out);
	return RD_OK;
}

int cli_cmd_audit(cli_ctx *ctx, rd_error *err)
{
	static const struct {
		const char *verb;
		int (*run)(cli_ctx *, rd_error *);
	} verbs[] = {
		{ "log", audit_log },
		{ "verify", audit_verify },
		{ "export", audit_export },
	};
	const char *verb = ctx->args.positional[0];

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].verb, verb) == 0)
			return verbs[i].run(ctx, err);
	return rd_error_set(err, RD_EUSAGE,
			    "unknown audit command \"%s\": log, verify or "
			    "export", verb);
}

int cli_cmd_reindex(cli_ctx *ctx, rd_error *err)
{
	size_t count = 0;
	int rc;

	if ((rc = rd_service_reindex(ctx->svc, &count, cli_progress,
				     (void *)"reindexed", err)) < 0)
		return rc;
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
	if (ctx->json)
		return cli_print_json(json_pack("{s:I}", "disputes",
						(json_int_t)count), err);
	printf("rebuilt the index of %zu dispute%s from the record\n", count,
	       count == 1 ? "" : "s");
	return RD_OK;
}

int cli_cmd_mirror(cli_ctx *ctx, rd_error *err)
{
	rd_mirror_report r;
	int rc;

	rc = cli_flag(&ctx->args, "rebuild")
		? rd_service_mirror_rebuild(ctx->svc, &r, err)
		: rd_service_mirror_catch_up(ctx->svc, &r, err);
	if (rc < 0)
		return rc;
	if (ctx->json)
		return cli_print_json(json_pack("{s:b,s:I,s:I,s:I,s:I,s:I}",
				"busy", r.busy, "position", (json_int_t)r.position,
				"last", (json_int_t)r.last,
				"changes", (json_int_t)r.changes,
				"objects", (json_int_t)r.objects,
				"packs", (json_int_t)r.packs), err);
	if (r.busy)
		printf("another process is updating the mirror; it keeps it "
		       "current\n");
	else
		printf("the mirror holds every change up to %lld of %lld "
		       "(%zu written now, %zu objects, %zu packs)\n",
		       (long long)r.position, (long long)r.last, r.changes,
		       r.objects, r.packs);
	return RD_OK;
}

int cli_cmd_clean(cli_ctx *ctx, rd_error *err)
{
	const char *age = cli_opt(&ctx->args, "older-than");
	int64_t older_than = RD_FILES_CLEAN_AGE_S;
	rd_files_clean_report r;
	int rc;

	if ((age && (rc = cli_parse_int(&older_than, age, "older-than", 0,
					err)) < 0) ||
	    (rc = rd_service_files_clean(ctx->svc, older_than, &r, err)) < 0)
		return rc;
	if (ctx->json)
		return cli_print_json(json_pack("{s:I,s:I,s:I,s:I,s:I}",
				"files", (json_int_t)r.files,
				"unnamed", (json_int_t)r.unnamed,
				"removed", (json_int_t)r.removed,
				"removed_bytes", (json_int_t)r.removed_bytes,
				"abandoned_uploads",
				(json_int_t)r.abandoned), err);
	printf("removed %lld evidence file%s that no change names (%lld "
	       "bytes), of %lld file%s\n", (long long)r.removed,
	       r.removed == 1 ? "" : "s", (long long)r.removed_bytes,
	       (long long)r.files, r.files == 1 ? "" : "s");
	if (r.abandoned)
		printf("removed %lld upload%s cut short\n",
		       (long long)r.abandoned, r.abandoned == 1 ? "" : "s");
	return RD_OK;
}

int cli_cmd_upgrade(cli_ctx *ctx, rd_error *err)
{
	size_t disputes = 0, objects = 0;
	int upgraded = 0;

	/* opening the service did the work */
	rd_service_upgrade_report(ctx->svc, &upgraded, &disputes, &objects);
	if (ctx->json)
		return cli_print_json(json_pack("{s:b,s:I,s:I}", "upgraded",
				upgraded, "disputes", (json_int_t)disputes,
				"objects", (json_int_t)objects), err);
	if (upgraded)
		printf("upgraded: imported the history of %zu dispute%s (%zu "
		       "objects) into the record\n", disputes,
		       disputes == 1 ? "" : "s", objects);
	else
		printf("already up to date: nothing to upgrade\n");
	return RD_OK;
}
