/*
 * Recording a change: one store transaction holds all of it (the record's
 * git objects, the dispute's head moved by compare-and-swap, the change in
 * commit order, the index rows and the Idempotency-Key record), so a change
 * is recorded whole or not at all. See docs/architecture.md, "The record".
 */
#include "service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/json.h"
#include "redress/store.h"
#include "redress/workflow.h"

/* ---- the files of a commit ---- */

static int change_grow(tree_change *c, rd_error *err)
{
	if (c->count < c->room)
		return RD_OK;
	size_t room = c->room ? c->room * 2 : 8;
	rd_tree_file *files = realloc(c->files, room * sizeof(*files));

	if (!files)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	c->files = files;
	char **owned = realloc(c->owned, room * sizeof(*owned));
	if (!owned)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	c->owned = owned;
	c->room = room;
	return RD_OK;
}

__attribute__((format(printf, 6, 0)))
static int change_add(tree_change *c, const char *content, size_t len,
		      const char *blob_oid, rd_error *err, const char *fmt,
		      va_list ap)
{
	char path[160];
	size_t plen, olen;
	char *buf;
	int n, rc;

	n = vsnprintf(path, sizeof(path), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return rd_error_set(err, RD_EINTERNAL, "tree path too long");
	if (!content && !blob_oid)
		return rd_error_set(err, RD_EINTERNAL,
				    "tree file %s has neither content nor a "
				    "blob", path);
	if ((rc = change_grow(c, err)) < 0)
		return rc;
	plen = (size_t)n + 1;
	olen = blob_oid ? strlen(blob_oid) + 1 : 0;
	if ((buf = malloc(plen + (content ? len + 1 : 0) + olen)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	memcpy(buf, path, plen);
	rd_tree_file *f = &c->files[c->count];
	memset(f, 0, sizeof(*f));
	f->path = buf;
	if (content) {
		memcpy(buf + plen, content, len);
		buf[plen + len] = '\0';
		f->content = buf + plen;
		f->len = len;
	} else {
		memcpy(buf + plen, blob_oid, olen);
		f->blob_oid = buf + plen;
	}
	c->owned[c->count++] = buf;
	return RD_OK;
}

int svc_change_json(tree_change *change, json_t *doc, rd_error *err,
		    const char *path_fmt, ...)
{
	char *text, *line;
	size_t len;
	va_list ap;
	int rc;

	if (!doc)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	text = rd_json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	/* every JSON file ends with a newline, as text files should */
	len = strlen(text);
	line = realloc(text, len + 2);
	if (!line) {
		free(text);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	va_start(ap, path_fmt);
	rc = change_add(change, line, len + 1, NULL, err, path_fmt, ap);
	va_end(ap);
	free(line);
	return rc;
}

int svc_change_blob(tree_change *change, const char *blob_oid,
		    rd_error *err, const char *path_fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, path_fmt);
	rc = change_add(change, NULL, 0, blob_oid, err, path_fmt, ap);
	va_end(ap);
	return rc;
}

int svc_change_text(tree_change *change, const char *text, rd_error *err,
		    const char *path_fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, path_fmt);
	rc = change_add(change, text, strlen(text), NULL, err, path_fmt, ap);
	va_end(ap);
	return rc;
}

void svc_change_free(tree_change *change)
{
	for (size_t i = 0; i < change->count; i++)
		free(change->owned[i]);
	free(change->owned);
	free(change->files);
	memset(change, 0, sizeof(*change));
}

int svc_change_offers(rd_service *svc, tree_change *change,
		      const rd_dispute *d, rd_error *err)
{
	rd_offer_record *offers = NULL;
	size_t count = 0;
	int rc;

	if ((rc = rd_store_offers_list(svc->store, d->id, &offers, &count,
				       err)) < 0)
		return rc;
	for (size_t i = 0; i < count && rc == RD_OK; i++)
		rc = svc_change_json(change,
				     rd_offer_record_to_json(&offers[i],
							     d->currency),
				     err, "offers/%s.json", offers[i].offer_id);
	free(offers);
	return rc;
}

void svc_crash_point(const char *point)
{
	const char *wanted = getenv("REDRESS_TEST_CRASH");

	if (wanted && strcmp(wanted, point) == 0)
		abort();
}

int svc_record(rd_service *svc, const rd_dispute *d, const char *parent,
	       tree_change *change, const rd_actor *actor, int64_t now,
	       const char *message, rd_error *err)
{
	rd_commit_request req;
	char head[RD_OID_BUFSZ];
	char *trailed = NULL;
	int rc;

	if ((rc = svc_change_json(change, rd_dispute_to_json(d), err,
				  "dispute.json")) < 0)
		return rc;
	if (!parent) {
		const rd_workflow *wf = NULL;

		if ((rc = svc_pinned_workflow(&wf, svc, d, err)) < 0 ||
		    (rc = svc_change_text(change, rd_workflow_source(wf), err,
					  "workflow.json")) < 0)
			return rc;
	}
	if ((rc = svc_idem_message(svc, message, now, &trailed, err)) < 0)
		return rc;
	memset(&req, 0, sizeof(req));
	req.dispute_id = d->id;
	req.parent = parent && *parent ? parent : NULL;
	req.files = change->files;
	req.file_count = change->count;
	req.author = actor;
	req.when = now;
	req.message = trailed ? trailed : message;
	if ((rc = rd_evidence_commit(svc->repo, &req, head, err)) < 0 ||
	    (rc = rd_store_ref_move(svc->store, d->id, req.parent, head, now,
				    err)) < 0)
		goto done;
	svc_crash_point("after-git-commit");
	if ((rc = rd_store_head_set(svc->store, d->id, head, err)) < 0)
		goto done;
	rc = svc_idem_capture(svc, d, change, head, now, err);
done:
	free(trailed);
	return rc;
}

/* The commit message: a short first line, the note, then trailers. */
static char *commit_message(const rd_dispute *d, const rd_actor *actor,
			    const char *event, const char *note,
			    const char *summary, const char *trailers)
{
	char key[96] = "";
	char *msg = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&msg, &size);

	if (!f)
		return NULL;
	if (actor->key_id[0])
		snprintf(key, sizeof(key), " key %s", actor->key_id);
	fprintf(f, "%s by %s:%s: %s\n\n", event, rd_role_name(actor->role),
		actor->name, summary);
	if (note && *note)
		fprintf(f, "%s\n\n", note);
	fprintf(f, "Redress-Dispute: %s\nRedress-Version: %lld\n"
		"Redress-Event: %s\nRedress-Actor: %s:%s%s\n", d->id,
		(long long)d->version, event, rd_role_name(actor->role),
		actor->name, key);
	if (trailers)
		fputs(trailers, f);
	if (fclose(f) != 0) {
		free(msg);
		return NULL;
	}
	return msg;
}

int svc_record_event(rd_service *svc, rd_dispute *d, int64_t old_version,
		     const char *head, tree_change *change,
		     const rd_actor *actor, int64_t now, const char *event,
		     const char *from, const char *fields_json,
		     const char *note, const char *summary, rd_error *err)
{
	rd_event_record record;
	char *message = NULL;
	int rc;

	d->version = old_version + 1;
	d->updated_at = now;
	memset(&record, 0, sizeof(record));
	snprintf(record.dispute_id, sizeof(record.dispute_id), "%s", d->id);
	record.seq = d->version;
	record.event = (char *)event;
	record.actor = *actor;
	record.at = now;
	record.from_state = (char *)from;
	record.to_state = d->state;
	record.fields_json = (char *)(fields_json ? fields_json : "{}");
	record.note = (char *)note;
	if ((rc = rd_store_event_append(svc->store, &record, err)) < 0 ||
	    (rc = rd_store_dispute_update(svc->store, d, old_version,
					  err)) < 0 ||
	    (rc = rd_store_deadline_set(svc->store, d->id, d->deadline_at,
					d->deadline_event, d->state, err)) < 0 ||
	    (rc = svc_change_offers(svc, change, d, err)) < 0 ||
	    (rc = svc_change_json(change, rd_event_record_to_json(&record),
				  err, SVC_EVENT_PATH, (long long)record.seq,
				  event)) < 0)
		return rc;
	if ((message = commit_message(d, actor, event, note, summary,
				      change->trailers)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	rc = svc_record(svc, d, head, change, actor, now, message, err);
	free(message);
	return rc;
}

int svc_record_open(rd_service *svc, rd_dispute *d, const rd_actor *actor,
		    int64_t now, rd_error *err)
{
	tree_change change = { 0 };
	rd_event_record opened;
	char *message = NULL;
	char summary[160];
	int rc;

	memset(&opened, 0, sizeof(opened));
	snprintf(opened.dispute_id, sizeof(opened.dispute_id), "%s", d->id);
	opened.seq = 1;
	opened.event = (char *)"opened";
	opened.actor = *actor;
	opened.at = now;
	opened.to_state = d->state;
	opened.fields_json = (char *)"{}";
	snprintf(summary, sizeof(summary), "%s at %s, %s", d->order_ref,
		 d->storefront, rd_reason_name(d->reason));
	if ((rc = rd_store_dispute_insert(svc->store, d, err)) < 0 ||
	    (rc = rd_store_event_append(svc->store, &opened, err)) < 0 ||
	    (rc = rd_store_deadline_set(svc->store, d->id, d->deadline_at,
					d->deadline_event, d->state, err)) < 0 ||
	    (rc = svc_change_json(&change, rd_event_record_to_json(&opened),
				  err, SVC_EVENT_PATH, 1LL, "opened")) < 0)
		goto done;
	if ((message = commit_message(d, actor, "opened", NULL, summary,
				      NULL)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = svc_record(svc, d, NULL, &change, actor, now, message,
			     err)) < 0)
		goto done;
	rc = svc_outbox_add(svc, d, NULL, "dispute.opened", now, json_object(),
			    err);
done:
	free(message);
	svc_change_free(&change);
	return rc;
}

/* ---- replaying git into the index ---- */

static int read_json(json_t **out, rd_service *svc, const char *head,
		     const char *path, rd_error *err)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = rd_evidence_read(svc->repo, head, path, &text, &len,
				   err)) < 0)
		return rc;
	*out = rd_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!*out && json_error_code(&jerr) == json_error_out_of_memory)
		return rd_error_set(err, RD_ENOMEM, "out of memory reading %s "
				    "at %.12s", path, head);
	if (!*out)
		return rd_error_set(err, RD_EINVALID, "%s at %.12s: line %d: %s",
				    path, head, jerr.line, jerr.text);
	return RD_OK;
}

static int rebuild_events(rd_service *svc, rd_store *st, const char *id,
			  const char *head, rd_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int64_t have = 0;
	int rc;

	if ((rc = rd_store_events_max_seq(st, id, &have, err)) < 0 ||
	    (rc = rd_evidence_list(svc->repo, head, "events", &names, &count,
				   err)) < 0)
		return rc;
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		char path[160];
		json_t *doc = NULL;
		rd_event_record ev;

		/* names sort by their zero-padded sequence number */
		if (strtoll(names[i], NULL, 10) <= have)
			continue;
		snprintf(path, sizeof(path), "events/%s", names[i]);
		if ((rc = read_json(&doc, svc, head, path, err)) < 0)
			break;
		rc = rd_event_record_from_json(&ev, doc, err);
		json_decref(doc);
		if (rc < 0)
			break;
		snprintf(ev.dispute_id, sizeof(ev.dispute_id), "%s", id);
		rc = rd_store_event_append(st, &ev, err);
		rd_event_record_clear(&ev);
	}
	rd_strings_free(names, count);
	return rc;
}

/*
 * Offers are written in two passes, decided ones first: the index allows one
 * "made" offer per dispute, and a stale index may still hold an older offer
 * as "made" that the snapshot records as decided.
 */
static int rebuild_offers(rd_service *svc, rd_store *st, const char *id,
			  const char *head, rd_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int rc;

	if ((rc = rd_evidence_list(svc->repo, head, "offers", &names, &count,
				   err)) < 0)
		return rc;
	for (int pass = 0; pass < 2 && rc == RD_OK; pass++) {
		for (size_t i = 0; i < count && rc == RD_OK; i++) {
			char path[160];
			json_t *doc = NULL;
			rd_offer_record offer;
			int made;

			snprintf(path, sizeof(path), "offers/%s", names[i]);
			if ((rc = read_json(&doc, svc, head, path, err)) < 0)
				break;
			rc = rd_offer_record_from_json(&offer, doc, id, err);
			json_decref(doc);
			if (rc < 0)
				break;
			made = strcmp(offer.status, RD_OFFER_MADE) == 0;
			if (made == pass)
				rc = rd_store_offer_upsert(st, &offer, err);
		}
	}
	rd_strings_free(names, count);
	return rc;
}

static int rebuild_evidence(rd_service *svc, rd_store *st, const char *id,
			    const char *head, rd_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int rc;

	if ((rc = rd_evidence_list(svc->repo, head, "evidence", &names, &count,
				   err)) < 0)
		return rc;
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		char path[160];
		json_t *doc = NULL;
		rd_evidence_row row;

		snprintf(path, sizeof(path), "evidence/%s/meta.json", names[i]);
		if ((rc = read_json(&doc, svc, head, path, err)) < 0)
			break;
		rc = rd_evidence_row_from_json(&row, doc, id, err);
		json_decref(doc);
		if (rc == RD_OK)
			rc = rd_store_evidence_upsert(st, &row, err);
		rd_evidence_row_clear(&row);
	}
	rd_strings_free(names, count);
	return rc;
}

static int rebuild_messages(rd_service *svc, rd_store *st, const char *id,
			    const char *head, rd_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int rc;

	if ((rc = rd_evidence_list(svc->repo, head, "messages", &names, &count,
				   err)) < 0)
		return rc;
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		char path[160];
		json_t *doc = NULL;
		rd_message_row row;

		snprintf(path, sizeof(path), "messages/%s", names[i]);
		if ((rc = read_json(&doc, svc, head, path, err)) < 0)
			break;
		rc = svc_message_from_json(&row, doc, id, err);
		json_decref(doc);
		if (rc == RD_OK)
			rc = rd_store_message_insert(st, &row, 1, err);
		rd_message_row_clear(&row);
	}
	rd_strings_free(names, count);
	return rc;
}

int svc_rebuild_dispute(rd_service *svc, rd_store *st, const char *id,
			const char *head, rd_error *err)
{
	rd_workflow *wf = NULL;
	rd_dispute *d = NULL;
	json_t *doc = NULL;
	char *source = NULL;
	size_t len = 0;
	int rc;

	if ((rc = rd_evidence_read(svc->repo, head, "workflow.json", &source,
				   &len, err)) < 0 ||
	    (rc = rd_workflow_parse(&wf, source, len, "workflow.json", err)) < 0 ||
	    (rc = rd_store_workflow_put(st, rd_workflow_hash(wf),
					rd_workflow_name(wf),
					rd_workflow_version(wf), source,
					err)) < 0)
		goto done;
	if ((rc = read_json(&doc, svc, head, "dispute.json", err)) < 0 ||
	    (rc = rd_dispute_from_snapshot(&d, doc, err)) < 0)
		goto done;
	if (strcmp(d->id, id) != 0 ||
	    strcmp(d->workflow_hash, rd_workflow_hash(wf)) != 0) {
		rc = rd_error_set(err, RD_EINVALID,
				  "commit %.12s of dispute %s holds another "
				  "dispute or workflow", head, id);
		goto done;
	}
	if ((rc = rd_store_dispute_replace(st, d, err)) < 0 ||
	    (rc = rebuild_events(svc, st, id, head, err)) < 0 ||
	    (rc = rebuild_offers(svc, st, id, head, err)) < 0 ||
	    (rc = rebuild_evidence(svc, st, id, head, err)) < 0 ||
	    (rc = rebuild_messages(svc, st, id, head, err)) < 0 ||
	    (rc = rd_store_head_set(st, id, head, err)) < 0)
		goto done;
done:
	if (rc < 0)
		rd_error_prefix(err, "rebuilding dispute %s from git", id);
	rd_workflow_free(wf);
	rd_dispute_free(d);
	json_decref(doc);
	free(source);
	return rc;
}

int svc_head(rd_service *svc, const char *id, char head[RD_OID_BUFSZ],
	     rd_error *err)
{
	int found = 0;

	return rd_store_ref_get(svc->store, id, head, &found, err);
}

int svc_commit(rd_service *svc, rd_error *err)
{
	int rc = svc_idem_flush(svc, err);

	if (rc == RD_OK)
		rc = rd_store_commit(svc->store, err);
	if (rc < 0)
		svc_rollback(svc);
	else
		svc->wrote = 1;
	return rc;
}

int svc_commit_aside(rd_service *svc, rd_error *err)
{
	int rc = rd_store_commit(svc->store, err);

	if (rc < 0)
		svc_rollback(svc);
	return rc;
}

void svc_rollback(rd_service *svc)
{
	svc_idem_reset(svc);
	rd_store_rollback(svc->store);
}
