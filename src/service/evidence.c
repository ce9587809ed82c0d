/*
 * Evidence: streaming a file into the dispute's git history, listing it,
 * reading it back with its hash checked, and withdrawing it.
 *
 * The bytes go into git's object database as they arrive and become part of
 * a commit only when everything about them has been checked; a refused or
 * abandoned upload leaves no commit and no index row. Nothing is ever
 * deleted: withdrawal is a new commit.
 */
#include "service_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/json.h"

struct rd_evidence_upload {
	rd_service *svc;
	char id[RD_ID_BUFSZ];
	const rd_evidence_kind *kind;
	rd_actor actor;
	int64_t now;
	rd_channel channel;
	int64_t captured_at;
	char *note;
	char *original_name;
	rd_blob_writer *writer;
	int type_checked;
	int sealed;                 /* the bytes are durable, in info */
	rd_blob_info info;
};

/* File name extensions for the content types redress accepts. */
static const struct {
	const char *content_type;
	const char *ext;
} extensions[] = {
	{ "image/jpeg", "jpg" },       { "image/png", "png" },
	{ "image/webp", "webp" },      { "image/gif", "gif" },
	{ "image/heic", "heic" },      { "video/mp4", "mp4" },
	{ "video/quicktime", "mov" },  { "video/webm", "webm" },
	{ "video/x-matroska", "mkv" }, { "audio/mpeg", "mp3" },
	{ "audio/x-wav", "wav" },      { "audio/ogg", "ogg" },
	{ "audio/mp4", "m4a" },        { "audio/webm", "weba" },
	{ "audio/flac", "flac" },      { "application/pdf", "pdf" },
	{ "application/json", "json" },{ "text/plain", "txt" },
	{ "text/csv", "csv" },         { "text/html", "html" },
	{ "message/rfc822", "eml" },
};

static const char *extension_of(const char *content_type)
{
	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++)
		if (strcmp(extensions[i].content_type, content_type) == 0)
			return extensions[i].ext;
	return "bin";
}

static int may_submit(const rd_actor *actor, const char *what, rd_error *err)
{
	if (actor->role == RD_ROLE_AGENT || actor->role == RD_ROLE_ADMIN ||
	    (actor->role == RD_ROLE_STOREFRONT && strcmp(what, "add") == 0))
		return RD_OK;
	return rd_error_set_guard(err, RD_EFORBIDDEN, "role",
				  "role %s may not %s evidence",
				  rd_role_name(actor->role), what);
}

/*
 * An open dispute the actor (NULL: anyone) may see, read from the index;
 * RD_ESTATE once it is closed.
 */
static int open_dispute(rd_service *svc, const char *id,
			const rd_actor *actor, rd_dispute **out, rd_error *err)
{
	const rd_workflow *wf = NULL;
	int rc;

	if ((rc = rd_service_dispute_get(svc, id, out, err)) < 0 ||
	    (actor && (rc = svc_actor_sees(actor, *out, err)) < 0) ||
	    (rc = svc_pinned_workflow(&wf, svc, *out, err)) < 0)
		return rc;
	if (rd_workflow_is_terminal(wf, (*out)->state))
		return rd_error_set_guard(err, RD_ESTATE, "state",
					  "dispute %s is %s (%s): its evidence "
					  "can no longer change",
					  id, (*out)->state,
					  (*out)->outcome ? (*out)->outcome : "");
	return actor ? svc_owner_check(wf, actor, *out, err) : RD_OK;
}

static int check_name(const char *name, rd_error *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > RD_EVIDENCE_MAX_NAME)
		return rd_error_set_field(err, RD_EINVALID, "original_name",
					  "the file name must be 1 to %d bytes, "
					  "got %zu", RD_EVIDENCE_MAX_NAME, len);
	if (rd_text_check(name, len, 0) != RD_TEXT_OK)
		return rd_error_set_field(err, RD_EINVALID, "original_name",
					  "the file name must be UTF-8 without "
					  "control characters");
	if (strchr(name, '/') || strchr(name, '\\') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return rd_error_set_field(err, RD_EINVALID, "original_name",
					  "the file name must be a plain name, "
					  "without '/', '\\' or a parent "
					  "reference");
	return RD_OK;
}

static int check_submission(rd_evidence_upload *up, const rd_dispute *d,
			    const rd_evidence_submission *sub, rd_error *err)
{
	const rd_evidence_kinds *kinds = up->svc->kinds;
	char limit[32];
	int rc;

	if (!sub->kind || !(up->kind = rd_evidence_kinds_find(kinds, sub->kind)))
		return rd_error_set_field(err, RD_EINVALID, "kind",
					  "unknown evidence kind \"%.40s\"; "
					  "kinds are photo, video, "
					  "chat_transcript, email, "
					  "call_recording, tracking_record, "
					  "carrier_report, invoice, "
					  "inspection_report, note, other",
					  sub->kind ? sub->kind : "");
	snprintf(limit, sizeof(limit), "%lld", (long long)up->kind->max_size);
	if (sub->size <= 0)
		return rd_error_set_field(err, RD_EINVALID, "size",
					  "the file is empty");
	if (sub->size > up->kind->max_size)
		return rd_error_set_field(err, RD_ETOOLARGE, "size",
					  "%lld bytes is over the limit of %s "
					  "bytes for %s evidence",
					  (long long)sub->size, limit,
					  up->kind->name);
	up->channel = d->channel;
	if (sub->channel &&
	    (rc = rd_channel_parse(&up->channel, sub->channel, err)) < 0)
		return rd_error_set_field(err, rc, "channel", "%s",
					  "unknown channel; channels are chat, "
					  "email, phone, platform, carrier, web, "
					  "other");
	if (up->kind->requires_channel && !sub->channel)
		return rd_error_set_field(err, RD_EINVALID, "channel",
					  "%s evidence needs its channel",
					  up->kind->name);
	if (up->kind->requires_captured_at && sub->captured_at == 0)
		return rd_error_set_field(err, RD_EINVALID, "captured_at",
					  "%s evidence needs the time it was "
					  "captured", up->kind->name);
	if (sub->captured_at < 0 || sub->captured_at > up->now + 86400)
		return rd_error_set_field(err, RD_EINVALID, "captured_at",
					  "the capture time lies in the future");
	if (up->kind->requires_note && (!sub->note || !*sub->note))
		return rd_error_set_field(err, RD_EINVALID, "note",
					  "%s evidence needs a note",
					  up->kind->name);
	if (sub->note && (strlen(sub->note) > RD_EVIDENCE_MAX_NOTE ||
			  !svc_text_ok(sub->note, 1)))
		return rd_error_set_field(err, RD_EINVALID, "note",
					  "the note must be UTF-8 text of at "
					  "most %d bytes", RD_EVIDENCE_MAX_NOTE);
	if (sub->original_name && (rc = check_name(sub->original_name, err)) < 0)
		return rc;
	up->captured_at = sub->captured_at;
	if ((sub->note && !(up->note = strdup(sub->note))) ||
	    (sub->original_name &&
	     !(up->original_name = strdup(sub->original_name))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return RD_OK;
}

int rd_service_evidence_upload_new(rd_evidence_upload **out, rd_service *svc,
				   const char *id,
				   const rd_evidence_submission *sub,
				   const rd_actor *actor, int64_t now,
				   rd_error *err)
{
	rd_evidence_upload *up = NULL;
	rd_dispute *d = NULL;
	int rc;

	*out = NULL;
	if ((rc = may_submit(actor, "add", err)) < 0)
		return rc;
	if ((up = calloc(1, sizeof(*up))) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	up->svc = svc;
	up->actor = *actor;
	up->now = now;
	if ((rc = open_dispute(svc, id, actor, &d, err)) < 0 ||
	    (rc = check_submission(up, d, sub, err)) < 0 ||
	    /* before a byte is stored; checked again as the row is written */
	    (rc = rd_service_quota_check(svc, d->storefront, now, sub->size,
					 err)) < 0 ||
	    (rc = rd_blob_writer_new(&up->writer, svc->repo, sub->size,
				     err)) < 0)
		goto done;
	snprintf(up->id, sizeof(up->id), "%s", id);
	*out = up;
	up = NULL;
done:
	rd_dispute_free(d);
	rd_service_evidence_upload_free(up);
	return rc;
}

static int check_type(rd_evidence_upload *up, rd_error *err)
{
	const char *type = rd_blob_writer_content_type(up->writer);

	if (!type || up->type_checked)
		return RD_OK;
	up->type_checked = 1;
	if (!rd_evidence_kind_allows(up->kind, type))
		return rd_error_set_field(err, RD_ECONTENT, "content",
					  "the content is %s, which %s "
					  "evidence may not be", type,
					  up->kind->name);
	return RD_OK;
}

int rd_service_evidence_upload_write(rd_evidence_upload *up, const void *buf,
				     size_t len, rd_error *err)
{
	int rc;

	if ((rc = rd_blob_writer_write(up->writer, buf, len, err)) < 0)
		return rc;
	return check_type(up, err);
}

static int fill_row(rd_evidence_row *row, const rd_evidence_upload *up,
		    const rd_blob_info *info, int64_t n, rd_error *err)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->dispute_id, sizeof(row->dispute_id), "%s", up->id);
	row->n = n;
	snprintf(row->kind, sizeof(row->kind), "%s", up->kind->name);
	snprintf(row->channel, sizeof(row->channel), "%s",
		 rd_channel_name(up->channel));
	snprintf(row->submitted_by, sizeof(row->submitted_by), "%s:%s",
		 rd_role_name(up->actor.role), up->actor.name);
	row->captured_at = up->captured_at;
	row->added_at = up->now;
	snprintf(row->content_type, sizeof(row->content_type), "%s",
		 info->content_type);
	row->size = info->size;
	snprintf(row->sha256, sizeof(row->sha256), "%s", info->sha256);
	snprintf(row->path, sizeof(row->path), "evidence/%04lld/content.%s",
		 (long long)n, extension_of(info->content_type));
	snprintf(row->blob_oid, sizeof(row->blob_oid), "%s", info->oid);
	if ((up->original_name &&
	     !(row->original_name = strdup(up->original_name))) ||
	    (up->note && !(row->note = strdup(up->note))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return RD_OK;
}

static char *small_fields(const char *a, const char *av, const char *b,
			  const char *bv)
{
	json_t *doc = json_object();
	char *text = NULL;

	if (doc && json_object_set_new(doc, a, json_string(av)) == 0 &&
	    (!b || json_object_set_new(doc, b, json_string(bv)) == 0))
		text = rd_json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	return text;
}

int rd_service_evidence_upload_seal(rd_evidence_upload *up, rd_error *err)
{
	int rc;

	if (up->sealed)
		return RD_OK;
	if (!up->writer)
		return rd_error_set(err, RD_EINTERNAL, "this upload has ended");
	if ((rc = rd_blob_writer_finish(up->writer, &up->info, err)) < 0)
		return rc;
	up->writer = NULL;
	up->type_checked = 0;
	if (!rd_evidence_kind_allows(up->kind, up->info.content_type))
		return rd_error_set_field(err, RD_ECONTENT, "content",
					  "the content is %s, which %s "
					  "evidence may not be",
					  up->info.content_type,
					  up->kind->name);
	up->sealed = 1;
	return RD_OK;
}

int rd_service_evidence_upload_finish(rd_evidence_upload *up,
				      rd_evidence_row *out, rd_error *err)
{
	return rd_service_evidence_upload_record(up, up->svc, out, err);
}

int rd_service_evidence_upload_record(rd_evidence_upload *up, rd_service *svc,
				      rd_evidence_row *out, rd_error *err)
{
	tree_change change = { 0 };
	rd_evidence_row row;
	const rd_blob_info *info = &up->info;
	rd_dispute *d = NULL;
	char head[RD_OID_BUFSZ], number[24], summary[200];
	char *fields = NULL;
	int64_t n = 0;
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = rd_service_evidence_upload_seal(up, err)) < 0)
		return rc;
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = svc_head(svc, up->id, head, err)) < 0 ||
	    (rc = open_dispute(svc, up->id, &up->actor, &d, err)) < 0 ||
	    /* in the row's transaction: racing uploads cannot both fit */
	    (rc = rd_service_quota_check(svc, d->storefront, up->now,
					 info->size, err)) < 0 ||
	    (rc = rd_store_evidence_next(svc->store, up->id, &n, err)) < 0 ||
	    (rc = fill_row(&row, up, info, n, err)) < 0 ||
	    (rc = rd_store_evidence_insert(svc->store, &row, err)) < 0)
		goto fail;
	snprintf(number, sizeof(number), "%lld", (long long)n);
	snprintf(summary, sizeof(summary), "evidence %lld, %s (%s, %lld bytes)",
		 (long long)n, row.kind, row.content_type,
		 (long long)row.size);
	if ((fields = small_fields("kind", row.kind, "n", number)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = svc_change_blob(&change, info->oid, err, "%s", row.path)) < 0 ||
	    (rc = svc_change_json(&change, rd_evidence_row_to_json(&row), err,
				  "evidence/%04lld/meta.json", (long long)n)) < 0 ||
	    (rc = svc_record_event(svc, d, d->version, head, &change,
				   &up->actor, up->now, "evidence_added",
				   d->state, fields, up->note, summary,
				   err)) < 0 ||
	    (rc = svc_outbox_add(svc, d, NULL, "evidence.added", up->now,
				 json_pack("{s:o}", "evidence",
					   rd_evidence_row_to_json(&row)),
				 err)) < 0 ||
	    (rc = svc_commit(svc, err)) < 0)
		goto fail;
	if (out) {
		*out = row;
		memset(&row, 0, sizeof(row));
	}
	goto done;
fail:
	svc_rollback(svc);
done:
	rd_evidence_row_clear(&row);
	svc_change_free(&change);
	rd_dispute_free(d);
	free(fields);
	return rc;
}

void rd_service_evidence_upload_free(rd_evidence_upload *up)
{
	if (!up)
		return;
	rd_blob_writer_free(up->writer);
	free(up->note);
	free(up->original_name);
	free(up);
}

int rd_service_evidence_add_fd(rd_service *svc, const char *id,
			       rd_evidence_submission *sub, int fd,
			       const rd_actor *actor, int64_t now,
			       rd_evidence_row *out, rd_error *err)
{
	enum { CHUNK = 64 * 1024 };
	rd_evidence_upload *up = NULL;
	char *buf = NULL;
	struct stat sb;
	int rc;

	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return rd_error_set(err, RD_EINVALID,
				    "evidence must be a regular file");
	sub->size = (int64_t)sb.st_size;
	if ((rc = rd_service_evidence_upload_new(&up, svc, id, sub, actor, now,
						 err)) < 0)
		return rc;
	if ((buf = malloc(CHUNK)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (;;) {
		ssize_t got = read(fd, buf, CHUNK);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = rd_error_set(err, RD_EIO, "cannot read the file: %s",
					  strerror(errno));
			goto done;
		}
		if (got == 0)
			break;
		if ((rc = rd_service_evidence_upload_write(up, buf, (size_t)got,
							   err)) < 0)
			goto done;
	}
	rc = rd_service_evidence_upload_finish(up, out, err);
done:
	free(buf);
	rd_service_evidence_upload_free(up);
	return rc;
}

int rd_service_evidence_list(rd_service *svc, const char *id,
			     rd_evidence_row **out, size_t *count,
			     rd_error *err)
{
	rd_dispute *d = NULL;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = rd_service_dispute_get(svc, id, &d, err)) < 0)
		return rc;
	rd_dispute_free(d);
	return rd_store_evidence_list(svc->store, id, out, count, err);
}

int rd_service_evidence_get(rd_service *svc, const char *id, int64_t n,
			    rd_evidence_row *row,
			    int (*sink)(void *ctx, const void *buf, size_t len),
			    void *ctx, rd_error *err)
{
	char head[RD_OID_BUFSZ], sha256[65];
	int64_t size = 0;
	int found = 0;
	int rc;

	memset(row, 0, sizeof(*row));
	if (!rd_id_valid(id))
		return rd_error_set_field(err, RD_ENOTFOUND, "id",
					  "no dispute %s (not a dispute id)",
					  id);
	if ((rc = rd_store_evidence_get(svc->store, id, n, row, err)) < 0)
		return rc;
	if ((rc = rd_store_ref_get(svc->store, id, head, &found, err)) < 0)
		return rc;
	if (!found)
		return rd_error_set(err, RD_EIO, "dispute %s has no history in "
				    "the record", id);
	if ((rc = rd_evidence_stream(svc->repo, head, row->path, sink, ctx,
				     sha256, &size, NULL, err)) < 0)
		return rc;
	if (strcmp(sha256, row->sha256) != 0 || size != row->size)
		return rd_error_set(err, RD_EIO,
				    "evidence %lld of dispute %s does not match "
				    "its record: SHA-256 %s, recorded %s; run "
				    "`redress audit verify %s`",
				    (long long)n, id, sha256, row->sha256, id);
	return RD_OK;
}

int rd_service_evidence_withdraw(rd_service *svc, const char *id, int64_t n,
				 const char *reason, const rd_actor *actor,
				 int64_t now, rd_dispute **out, rd_error *err)
{
	tree_change change = { 0 };
	rd_evidence_row row;
	rd_dispute *d = NULL;
	char head[RD_OID_BUFSZ], number[24], summary[96];
	char *fields = NULL;
	int rc;

	memset(&row, 0, sizeof(row));
	if (out)
		*out = NULL;
	if ((rc = may_submit(actor, "withdraw", err)) < 0)
		return rc;
	if (!reason || !*reason || strlen(reason) > RD_EVIDENCE_MAX_NOTE ||
	    !svc_text_ok(reason, 1))
		return rd_error_set_field(err, RD_EINVALID, "reason",
					  "withdrawing evidence needs a reason "
					  "(UTF-8 text of at most %d bytes)",
					  RD_EVIDENCE_MAX_NOTE);
	if (!rd_id_valid(id))
		return rd_error_set_field(err, RD_ENOTFOUND, "id",
					  "no dispute %s (not a dispute id)",
					  id);
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = svc_head(svc, id, head, err)) < 0 ||
	    (rc = open_dispute(svc, id, actor, &d, err)) < 0 ||
	    (rc = rd_store_evidence_withdraw(svc->store, id, n, reason,
					     err)) < 0 ||
	    (rc = rd_store_evidence_get(svc->store, id, n, &row, err)) < 0)
		goto fail;
	snprintf(number, sizeof(number), "%lld", (long long)n);
	snprintf(summary, sizeof(summary), "evidence %lld withdrawn",
		 (long long)n);
	if ((fields = small_fields("n", number, NULL, NULL)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = svc_change_json(&change, rd_evidence_row_to_json(&row), err,
				  "evidence/%04lld/meta.json", (long long)n)) < 0 ||
	    (rc = svc_record_event(svc, d, d->version, head, &change, actor,
				   now, "evidence_withdrawn", d->state, fields,
				   reason, summary, err)) < 0 ||
	    (rc = svc_commit(svc, err)) < 0)
		goto fail;
	if (out) {
		*out = d;
		d = NULL;
	}
	goto done;
fail:
	svc_rollback(svc);
done:
	rd_evidence_row_clear(&row);
	svc_change_free(&change);
	rd_dispute_free(d);
	free(fields);
	return rc;
}
