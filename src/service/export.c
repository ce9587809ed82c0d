/*
 * The auditor's archive: one dispute as a tar.gz that can be read without
 * redress — its snapshot, workflow, timeline, every evidence file beside
 * its metadata, the verification result, and a summary in plain text.
 *
 * Evidence is streamed from git into the archive; nothing is held whole in
 * memory. The archive appears under its final name only when complete.
 */
#include "service_int.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/json.h"
#include "redress/money.h"

typedef struct exporter {
	const rd_actor *reader;  /* who reads it: what they may see */
	struct archive *ar;
	char root[RD_ID_BUFSZ + 16];
	int64_t mtime;
	rd_error *err;
} exporter;

static int ar_fail(exporter *x, const char *what)
{
	return rd_error_set(x->err, RD_EIO, "cannot write the archive (%s): %s",
			    what, archive_error_string(x->ar)
				      ? archive_error_string(x->ar) : "unknown");
}

static int add_header(exporter *x, const char *path, int64_t size)
{
	struct archive_entry *entry = archive_entry_new();
	char name[300];
	int rc = RD_OK;

	if (!entry)
		return rd_error_set(x->err, RD_ENOMEM, "out of memory");
	snprintf(name, sizeof(name), "%s/%s", x->root, path);
	archive_entry_set_pathname(entry, name);
	archive_entry_set_size(entry, size);
	archive_entry_set_filetype(entry, AE_IFREG);
	archive_entry_set_perm(entry, 0644);
	archive_entry_set_mtime(entry, (time_t)x->mtime, 0);
	if (archive_write_header(x->ar, entry) != ARCHIVE_OK)
		rc = ar_fail(x, path);
	archive_entry_free(entry);
	return rc;
}

static int add_bytes(exporter *x, const char *path, const char *bytes,
		     size_t len)
{
	int rc;

	if ((rc = add_header(x, path, (int64_t)len)) < 0)
		return rc;
	if (len && archive_write_data(x->ar, bytes, len) != (la_ssize_t)len)
		return ar_fail(x, path);
	return RD_OK;
}

static int add_json(exporter *x, const char *path, json_t *doc)
{
	char *text;
	int rc;

	if (!doc)
		return rd_error_set(x->err, RD_ENOMEM, "out of memory");
	text = rd_json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return rd_error_set(x->err, RD_ENOMEM, "out of memory");
	rc = add_bytes(x, path, text, strlen(text));
	free(text);
	return rc;
}

static int archive_sink(void *ctx, const void *buf, size_t len)
{
	exporter *x = ctx;

	return archive_write_data(x->ar, buf, len) == (la_ssize_t)len ? 0 : -1;
}

static json_t *commits_json(const rd_commit_info *log, size_t count)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < count; i++) {
		char when[RD_TIME_BUFSZ];

		rd_time_format(when, log[i].when);
		if (json_array_append_new(list, json_pack(
			"{s:s, s:s, s:s, s:s, s:s}", "commit", log[i].oid,
			"author", log[i].author_name,
			"email", log[i].author_email, "at", when,
			"message", log[i].message ? log[i].message : "")) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static char *summary_text(const rd_dispute *d, const rd_commit_info *log,
			  size_t commits, const rd_evidence_row *rows,
			  size_t row_count, const rd_verify_report *report)
{
	const rd_currency *cur = rd_currency_find(d->currency);
	char created[RD_TIME_BUFSZ], updated[RD_TIME_BUFSZ], price[32];
	int64_t paid = 0;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	rd_time_format(created, d->created_at);
	rd_time_format(updated, d->updated_at);
	rd_dispute_price(&paid, d, NULL);
	if (cur)
		rd_money_format(price, sizeof(price), paid, cur);
	fprintf(f, "Dispute %s\n\n", d->id);
	fprintf(f, "Order %s at storefront %s, buyer %s\n", d->order_ref,
		d->storefront, d->buyer_ref);
	fprintf(f, "Reason %s, opened via %s on %s\n", rd_reason_name(d->reason),
		rd_channel_name(d->channel), created);
	fprintf(f, "Price paid %s %s\n", cur ? price : "?", d->currency);
	fprintf(f, "State %s%s%s, version %lld, last change %s\n", d->state,
		d->outcome ? ", outcome " : "", d->outcome ? d->outcome : "",
		(long long)d->version, updated);
	fprintf(f, "Workflow %s version %lld (SHA-256 %s)\n\n", d->workflow_name,
		(long long)d->workflow_version, d->workflow_hash);
	fprintf(f, "History: %zu commits on refs/disputes/%s, head %s\n",
		commits, d->id, commits ? log[commits - 1].oid : "-");
	fprintf(f, "Evidence: %zu files\n", row_count);
	for (size_t i = 0; i < row_count; i++)
		fprintf(f, "  %04lld %-18s %-24s %10lld bytes  sha256 %s%s\n",
			(long long)rows[i].n, rows[i].kind, rows[i].content_type,
			(long long)rows[i].size, rows[i].sha256,
			rows[i].withdrawn ? "  (withdrawn)" : "");
	fprintf(f, "\nVerification: %s (%zu commits walked, %zu files "
		"re-hashed, %zu findings)\n", report->count ? "FAILED" : "passed",
		report->commits, report->files_hashed, report->count);
	for (size_t i = 0; i < report->count; i++)
		fprintf(f, "  [%s] %s\n", report->findings[i].check,
			report->findings[i].detail);
	fputs("\nFiles: dispute.json (the dispute as it stands), workflow.json "
	      "(the rules it follows),\ntimeline.json (events and commits), "
	      "evidence/NNNN/ (each file and its meta.json),\ndecisions/ (why "
	      "each offer was made: policy, inputs, every proposal),\n"
	      "verify.json (the verification result). Check a file with "
	      "sha256sum against its meta.json.\n", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int copy_file(exporter *x, rd_service *svc, const char *head,
		     const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = rd_evidence_read(svc->repo, head, path, &text, &len,
				   x->err)) < 0)
		return rc;
	rc = add_bytes(x, path, text, len);
	free(text);
	return rc;
}

/* The messages the reader may read, each its file as recorded. */
static int copy_messages(exporter *x, rd_service *svc, const char *head,
			 char ***names, size_t *count)
{
	int rc;

	if ((rc = rd_evidence_list(svc->repo, head, "messages", names, count,
				   x->err)) < 0)
		return rc;
	for (size_t i = 0; i < *count; i++) {
		char path[160];
		char *text = NULL;
		size_t len = 0;
		json_t *doc;
		const char *direction;

		snprintf(path, sizeof(path), "messages/%s", (*names)[i]);
		if ((rc = rd_evidence_read(svc->repo, head, path, &text, &len,
					   x->err)) < 0)
			return rc;
		doc = json_loadb(text, len, 0, NULL);
		direction = json_string_value(json_object_get(doc,
							      "direction"));
		if (direction && rd_service_message_visible(x->reader,
							    direction))
			rc = add_bytes(x, path, text, len);
		json_decref(doc);
		free(text);
		if (rc < 0)
			return rc;
	}
	return RD_OK;
}

static int write_archive(exporter *x, rd_service *svc, const rd_dispute *d,
			 const char *head)
{
	rd_commit_info *log = NULL;
	rd_event_record *events = NULL;
	rd_evidence_row *rows = NULL;
	rd_verify_report report;
	size_t commits = 0, event_count = 0, row_count = 0, shown = 0;
	json_t *timeline = NULL, *list = NULL;
	char *summary = NULL, **decisions = NULL, **messages = NULL;
	size_t decision_count = 0, message_count = 0;
	int rc;

	memset(&report, 0, sizeof(report));
	if ((rc = rd_evidence_log(svc->repo, head, &log, &commits, x->err)) < 0 ||
	    (rc = rd_store_events_list(svc->store, d->id, &events, &event_count,
				       x->err)) < 0 ||
	    (rc = rd_store_evidence_list(svc->store, d->id, &rows, &row_count,
					 x->err)) < 0 ||
	    (rc = rd_service_audit_verify(svc, d->id, &report, NULL, NULL,
					  x->err)) < 0)
		goto done;
	/* what the reader may not see is left out (internal notes) */
	for (size_t i = 0; i < commits; i++)
		if (rd_service_commit_visible(x->reader, log[i].message)) {
			rd_commit_info keep = log[i];

			log[i] = log[shown];
			log[shown++] = keep;
		}
	if ((summary = summary_text(d, log, shown, rows, row_count,
				    &report)) == NULL) {
		rc = rd_error_set(x->err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = add_bytes(x, "SUMMARY.txt", summary, strlen(summary))) < 0 ||
	    (rc = copy_file(x, svc, head, "dispute.json")) < 0 ||
	    (rc = copy_file(x, svc, head, "workflow.json")) < 0)
		goto done;
	if ((list = json_array()) == NULL) {
		rc = rd_error_set(x->err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < event_count; i++)
		if (rd_service_event_visible(x->reader, &events[i]) &&
		    json_array_append_new(list,
					  rd_event_record_to_json(&events[i])) != 0) {
			rc = rd_error_set(x->err, RD_ENOMEM, "out of memory");
			goto done;
		}
	timeline = json_pack("{s:s, s:o, s:o, s:b}", "dispute", d->id,
			     "events", list, "commits", commits_json(log, shown),
			     "internal_notes_left_out",
			     !rd_service_message_visible(x->reader,
							 "internal"));
	list = NULL;
	if ((rc = add_json(x, "timeline.json", timeline)) < 0 ||
	    (rc = add_json(x, "verify.json",
			   rd_verify_report_to_json(&report))) < 0)
		goto done;
	if ((rc = rd_evidence_list(svc->repo, head, "decisions", &decisions,
				   &decision_count, x->err)) < 0)
		goto done;
	for (size_t i = 0; i < decision_count; i++) {
		char path[160];

		snprintf(path, sizeof(path), "decisions/%s", decisions[i]);
		if ((rc = copy_file(x, svc, head, path)) < 0)
			goto done;
	}
	if ((rc = copy_messages(x, svc, head, &messages,
				&message_count)) < 0)
		goto done;
	for (size_t i = 0; i < row_count; i++) {
		char meta[64];

		snprintf(meta, sizeof(meta), "evidence/%04lld/meta.json",
			 (long long)rows[i].n);
		if ((rc = copy_file(x, svc, head, meta)) < 0 ||
		    (rc = add_header(x, rows[i].path, rows[i].size)) < 0 ||
		    (rc = rd_evidence_stream(svc->repo, head, rows[i].path,
					     archive_sink, x, NULL, NULL, NULL,
					     x->err)) < 0)
			goto done;
	}
done:
	json_decref(list);
	free(summary);
	rd_strings_free(decisions, decision_count);
	rd_strings_free(messages, message_count);
	rd_commit_infos_free(log, commits);
	rd_event_records_free(events, event_count);
	rd_evidence_rows_free(rows, row_count);
	rd_verify_report_free(&report);
	return rc;
}

/* Where the archive goes: a file (path) or a sink. */
typedef struct export_target {
	const char *path;
	int (*sink)(void *ctx, const void *buf, size_t len);
	void *ctx;
	int sink_failed;
} export_target;

static la_ssize_t target_write(struct archive *ar, void *data,
			       const void *buf, size_t len)
{
	export_target *to = data;

	(void)ar;
	if (to->sink(to->ctx, buf, len) != 0) {
		to->sink_failed = 1;
		return -1;
	}
	return (la_ssize_t)len;
}

static int export_to(rd_service *svc, const char *id, export_target *to,
		     const rd_actor *reader, rd_error *err)
{
	char head[RD_OID_BUFSZ];
	rd_dispute *d = NULL;
	exporter x;
	int found = 0, rc, opened;

	memset(&x, 0, sizeof(x));
	x.err = err;
	x.reader = reader;
	if ((rc = rd_service_dispute_get(svc, id, &d, err)) < 0 ||
	    (rc = rd_store_ref_get(svc->store, id, head, &found, err)) < 0)
		goto done;
	if (!found) {
		rc = rd_error_set(err, RD_ENOTFOUND,
				  "dispute %s has no history in git", id);
		goto done;
	}
	snprintf(x.root, sizeof(x.root), "dispute-%s", id);
	x.mtime = d->updated_at;
	if ((x.ar = archive_write_new()) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if (archive_write_set_format_pax_restricted(x.ar) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(x.ar) != ARCHIVE_OK) {
		rc = rd_error_set(err, RD_EIO, "cannot set up the archive: %s",
				  archive_error_string(x.ar));
		goto done;
	}
	opened = to->path ? archive_write_open_filename(x.ar, to->path)
			  : archive_write_open(x.ar, to, NULL, target_write,
					       NULL);
	if (opened != ARCHIVE_OK) {
		rc = rd_error_set(err, RD_EIO, "cannot create %s: %s",
				  to->path ? to->path : "the archive",
				  archive_error_string(x.ar));
		goto done;
	}
	if ((rc = write_archive(&x, svc, d, head)) < 0)
		goto done;
	if (archive_write_close(x.ar) != ARCHIVE_OK)
		rc = ar_fail(&x, "closing");
done:
	if (x.ar)
		archive_write_free(x.ar);
	if (rc < 0 && to->sink_failed)
		rd_error_set(err, RD_EIO, "the archive's receiver stopped");
	rd_dispute_free(d);
	return rc;
}

int rd_service_audit_export(rd_service *svc, const char *id,
			    const char *path, rd_error *err)
{
	char tmp[4096];
	export_target to;
	rd_actor everyone;
	int rc;

	memset(&to, 0, sizeof(to));
	if (snprintf(tmp, sizeof(tmp), "%s.partial", path) >= (int)sizeof(tmp))
		return rd_error_set(err, RD_EINVALID, "output path too long");
	to.path = tmp;
	memset(&everyone, 0, sizeof(everyone));
	everyone.role = RD_ROLE_ADMIN;
	if ((rc = export_to(svc, id, &to, &everyone, err)) < 0) {
		unlink(tmp);
		return rc;
	}
	if (rename(tmp, path) != 0) {
		rc = rd_error_set(err, RD_EIO, "cannot rename %s to %s: %s", tmp,
				  path, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

int rd_service_audit_export_stream(rd_service *svc, const char *id,
				   const rd_actor *reader,
				   int (*sink)(void *ctx, const void *buf,
					       size_t len),
				   void *ctx, rd_error *err)
{
	export_target to;

	memset(&to, 0, sizeof(to));
	to.sink = sink;
	to.ctx = ctx;
	return export_to(svc, id, &to, reader, err);
}
