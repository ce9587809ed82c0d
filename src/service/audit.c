/*
 * Audit: a dispute's history from git, verification of git against itself
 * and against the index, and rebuilding the index from git.
 *
 * Verification trusts nothing it reads: each commit is checked against its
 * parent (linear, versions rising by one, nothing once written changed or
 * removed), every evidence file is re-hashed against its recorded SHA-256,
 * and the head is compared with every index row of the dispute. It reports;
 * it never repairs.
 */
#include "service_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/json.h"

/* ---- the report ---- */

__attribute__((format(printf, 4, 5)))
static int finding(rd_verify_report *r, const char *id, const char *check,
		   const char *fmt, ...)
{
	rd_finding *f;
	va_list ap;

	if (r->count == r->room) {
		size_t room = r->room ? r->room * 2 : 16;
		rd_finding *more = realloc(r->findings, room * sizeof(*more));

		if (!more)
			return RD_ENOMEM;
		r->findings = more;
		r->room = room;
	}
	f = &r->findings[r->count++];
	snprintf(f->dispute_id, sizeof(f->dispute_id), "%s", id);
	snprintf(f->check, sizeof(f->check), "%s", check);
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
	return RD_OK;
}

void rd_verify_report_free(rd_verify_report *report)
{
	if (!report)
		return;
	free(report->findings);
	memset(report, 0, sizeof(*report));
}

json_t *rd_verify_report_to_json(const rd_verify_report *r)
{
	json_t *list = json_array();

	if (!list)
		return NULL;
	for (size_t i = 0; i < r->count; i++)
		if (json_array_append_new(list, json_pack("{s:s, s:s, s:s}",
			"dispute", r->findings[i].dispute_id,
			"check", r->findings[i].check,
			"detail", r->findings[i].detail)) != 0) {
			json_decref(list);
			return NULL;
		}
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:b, s:o}",
			 "ok", r->count == 0,
			 "disputes", (json_int_t)r->disputes,
			 "commits", (json_int_t)r->commits,
			 "files_hashed", (json_int_t)r->files_hashed,
			 "bytes_hashed", (json_int_t)r->bytes_hashed,
			 "mirror_elsewhere", r->mirror_elsewhere,
			 "findings", list);
}

int rd_service_audit_log(rd_service *svc, const char *id,
			 rd_commit_info **out, size_t *count, rd_error *err)
{
	char head[RD_OID_BUFSZ];
	int found = 0, rc;

	*out = NULL;
	*count = 0;
	if (!rd_id_valid(id))
		return rd_error_set_field(err, RD_ENOTFOUND, "id",
					  "no dispute %s (not a dispute id)",
					  id);
	if ((rc = rd_store_ref_get(svc->store, id, head, &found, err)) < 0)
		return rc;
	if (!found)
		return rd_error_set(err, RD_ENOTFOUND,
				    "dispute %s has no history in the record",
				    id);
	return rd_evidence_log(svc->repo, head, out, count, err);
}

/* ---- reading one commit ---- */

static int read_doc(json_t **out, rd_service *svc, const char *commit,
		    const char *path, rd_error *err)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = rd_evidence_read(svc->repo, commit, path, &text, &len,
				   err)) < 0)
		return rc;
	*out = rd_json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!*out && json_error_code(&jerr) == json_error_out_of_memory)
		return rd_error_set(err, RD_ENOMEM, "out of memory reading %s",
				    path);
	if (!*out)
		return rd_error_set(err, RD_EINVALID, "%s is not JSON: %s",
				    path, jerr.text);
	return RD_OK;
}

/* A directory's entries with the object id of each. */
typedef struct entries {
	char **names;
	char (*oids)[RD_OID_BUFSZ];
	size_t count;
} entries;

static void entries_free(entries *e)
{
	rd_strings_free(e->names, e->count);
	free(e->oids);
	memset(e, 0, sizeof(*e));
}

static int read_entries(entries *e, rd_service *svc, const char *commit,
			const char *dir, const char *suffix, rd_error *err)
{
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = rd_evidence_list(svc->repo, commit, dir, &e->names,
				   &e->count, err)) < 0)
		return rc;
	if (e->count && !(e->oids = calloc(e->count, sizeof(*e->oids))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (size_t i = 0; i < e->count; i++) {
		char path[200];
		int found = 0;

		snprintf(path, sizeof(path), "%s/%s%s", dir, e->names[i],
			 suffix);
		if ((rc = rd_evidence_oid(svc->repo, commit, path, e->oids[i],
					  &found, err)) < 0)
			return rc;
		if (!found)
			e->oids[i][0] = '\0';
	}
	return RD_OK;
}

/* ---- verifying one dispute's history ---- */

/* What verification keeps from one commit to the next. */
typedef struct walk_state {
	entries events;          /* of the previous commit */
	entries evidence;        /* content blobs, by evidence directory */
	entries metas;           /* metadata blobs */
	int64_t version;
} walk_state;

static void walk_state_free(walk_state *w)
{
	entries_free(&w->events);
	entries_free(&w->evidence);
	entries_free(&w->metas);
}

/* Index of name in e, or -1. */
static long entry_index(const entries *e, const char *name)
{
	for (size_t i = 0; i < e->count; i++)
		if (strcmp(e->names[i], name) == 0)
			return (long)i;
	return -1;
}

/* The content file's name inside evidence/NNNN ("content.jpg"). */
static int content_path(char *out, size_t size, rd_service *svc,
			const char *commit, const char *dir, rd_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int rc;

	out[0] = '\0';
	if ((rc = rd_evidence_list(svc->repo, commit, dir, &names, &count,
				   err)) < 0)
		return rc;
	for (size_t i = 0; i < count; i++)
		if (strncmp(names[i], "content.", 8) == 0)
			snprintf(out, size, "%s/%s", dir, names[i]);
	rd_strings_free(names, count);
	return RD_OK;
}

/* The evidence directories of a commit with the object id of each content file. */
static int read_contents(entries *e, rd_service *svc, const char *commit,
			 rd_error *err)
{
	int rc;

	memset(e, 0, sizeof(*e));
	if ((rc = rd_evidence_list(svc->repo, commit, "evidence", &e->names,
				   &e->count, err)) < 0)
		return rc;
	if (e->count && !(e->oids = calloc(e->count, sizeof(*e->oids))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (size_t i = 0; i < e->count; i++) {
		char dir[200], path[200];
		int found = 0;

		snprintf(dir, sizeof(dir), "evidence/%s", e->names[i]);
		if ((rc = content_path(path, sizeof(path), svc, commit, dir,
				       err)) < 0)
			return rc;
		if (path[0] && (rc = rd_evidence_oid(svc->repo, commit, path,
						     e->oids[i], &found,
						     err)) < 0)
			return rc;
		if (!found)
			e->oids[i][0] = '\0';
	}
	return RD_OK;
}

/* Re-hash one evidence file against its metadata. */
static int check_evidence_file(rd_service *svc, const char *id,
			       const char *commit, const char *dir,
			       rd_verify_report *r, rd_error *err)
{
	char meta_path[200], dir_path[200], path[200], sha256[65];
	char oid[RD_OID_BUFSZ];
	rd_evidence_row row;
	json_t *meta = NULL;
	int64_t size = 0;
	rd_error read_err;
	int rc;

	memset(&row, 0, sizeof(row));
	snprintf(meta_path, sizeof(meta_path), "evidence/%s/meta.json", dir);
	if (read_doc(&meta, svc, commit, meta_path, &read_err) < 0 ||
	    rd_evidence_row_from_json(&row, meta, id, &read_err) < 0) {
		json_decref(meta);
		return finding(r, id, "history", "commit %.12s: %s: %s", commit,
			       meta_path, read_err.message);
	}
	json_decref(meta);
	snprintf(dir_path, sizeof(dir_path), "evidence/%s", dir);
	if ((rc = content_path(path, sizeof(path), svc, commit, dir_path,
			       err)) < 0)
		goto done;
	if (!path[0]) {
		rc = finding(r, id, "history", "commit %.12s: evidence %s has "
			     "no content file", commit, dir);
		goto done;
	}
	if (rd_evidence_stream(svc->repo, commit, path, NULL, NULL, sha256,
			       &size, oid, &read_err) < 0) {
		rc = finding(r, id, "object", "commit %.12s: %s cannot be read: "
			     "%s", commit, path, read_err.message);
		goto done;
	}
	r->files_hashed++;
	r->bytes_hashed += size;
	if (strcmp(sha256, row.sha256) != 0 || size != row.size)
		rc = finding(r, id, "hash", "commit %.12s: %s has SHA-256 %s "
			     "(%lld bytes) but its metadata records %s (%lld "
			     "bytes)", commit, path, sha256, (long long)size,
			     row.sha256, (long long)row.size);
	else if (strcmp(path, row.path) != 0 || strcmp(oid, row.blob_oid) != 0)
		rc = finding(r, id, "history", "commit %.12s: %s does not match "
			     "its metadata (path %s, blob %.12s)", commit, path,
			     row.path, row.blob_oid);
done:
	rd_evidence_row_clear(&row);
	return rc;
}

/*
 * Nothing once written may change or go: every entry of `before` is in
 * `after` with the same object id, except metadata, which may change
 * (withdrawal) but not vanish.
 */
static int check_kept(const entries *before, const entries *after,
		      int may_change, const char *what, const char *id,
		      const char *commit, rd_verify_report *r)
{
	for (size_t i = 0; i < before->count; i++) {
		long j = entry_index(after, before->names[i]);

		if (j < 0)
			return finding(r, id, "history", "commit %.12s removes "
				       "%s %s", commit, what, before->names[i]);
		if (!may_change && strcmp(before->oids[i], after->oids[j]) != 0)
			return finding(r, id, "history", "commit %.12s changes "
				       "%s %s, which was already recorded",
				       commit, what, before->names[i]);
	}
	return RD_OK;
}

static int verify_commit(rd_service *svc, const char *id,
			 const rd_commit_info *c, size_t index, walk_state *w,
			 rd_verify_report *r, rd_error *err)
{
	entries events, evidence, metas;
	json_t *doc = NULL;
	rd_error read_err;
	int64_t version;
	int rc;

	if (c->parent_count != (index == 0 ? 0u : 1u))
		return finding(r, id, "history", "commit %.12s has %zu parents; "
			       "a dispute's history is linear", c->oid,
			       c->parent_count);
	if (read_doc(&doc, svc, c->oid, "dispute.json", &read_err) < 0)
		return finding(r, id, "object", "commit %.12s: dispute.json: %s",
			       c->oid, read_err.message);
	version = json_integer_value(json_object_get(doc, "version"));
	json_decref(doc);
	if (version != w->version + 1)
		if ((rc = finding(r, id, "history", "commit %.12s holds version "
				  "%lld after version %lld", c->oid,
				  (long long)version,
				  (long long)w->version)) < 0)
			return rc;
	w->version = version;

	rc = read_entries(&events, svc, c->oid, "events", "", err);
	if (rc < 0) {
		entries_free(&events);
		return rc;
	}
	if (events.count != (size_t)index + 1)
		rc = finding(r, id, "history", "commit %.12s holds %zu event "
			     "files, expected %zu", c->oid, events.count,
			     index + 1);
	if (rc == RD_OK)
		rc = check_kept(&w->events, &events, 0, "event", id, c->oid, r);
	entries_free(&w->events);
	w->events = events;
	if (rc < 0)
		return rc;

	if ((rc = read_contents(&evidence, svc, c->oid, err)) < 0) {
		entries_free(&evidence);
		return rc;
	}
	if ((rc = read_entries(&metas, svc, c->oid, "evidence",
			       "/meta.json", err)) < 0) {
		entries_free(&evidence);
		entries_free(&metas);
		return rc;
	}
	rc = check_kept(&w->evidence, &evidence, 0, "evidence", id, c->oid, r);
	if (rc == RD_OK)
		rc = check_kept(&w->metas, &metas, 1, "evidence metadata", id,
				c->oid, r);
	/* re-hash each evidence file once: where it first appears or changes */
	for (size_t i = 0; rc == RD_OK && i < evidence.count; i++) {
		long j = entry_index(&w->evidence, evidence.names[i]);
		long k = entry_index(&w->metas, metas.names[i]);

		if (j >= 0 && strcmp(w->evidence.oids[j], evidence.oids[i]) == 0 &&
		    k >= 0 && strcmp(w->metas.oids[k], metas.oids[i]) == 0)
			continue;
		rc = check_evidence_file(svc, id, c->oid, evidence.names[i], r,
					 err);
	}
	entries_free(&w->evidence);
	entries_free(&w->metas);
	w->evidence = evidence;
	w->metas = metas;
	return rc;
}

/* ---- comparing git's head with the index ---- */

static int same_json(json_t *a, json_t *b)
{
	char *ta = a ? rd_json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *tb = b ? rd_json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int same = ta && tb && strcmp(ta, tb) == 0;

	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
	return same;
}

static int compare_dispute(rd_service *svc, const char *id, const char *head,
			   rd_verify_report *r, rd_dispute **git_d,
			   rd_error *err)
{
	rd_dispute *indexed = NULL;
	json_t *doc = NULL;
	rd_error read_err;
	int rc = RD_OK;

	*git_d = NULL;
	if (read_doc(&doc, svc, head, "dispute.json", &read_err) < 0 ||
	    rd_dispute_from_snapshot(git_d, doc, &read_err) < 0) {
		json_decref(doc);
		return finding(r, id, "object", "head %.12s: dispute.json: %s",
			       head, read_err.message);
	}
	json_decref(doc);
	rc = rd_store_dispute_get(svc->store, id, &indexed, err);
	if (rc == RD_ENOTFOUND)
		return finding(r, id, "index", "the index has no row for "
			       "dispute %s", id);
	if (rc < 0)
		return rc;
	if (!same_json(rd_dispute_to_json(*git_d), rd_dispute_to_json(indexed)))
		rc = finding(r, id, "index", "the index row of dispute %s "
			     "differs from dispute.json at %.12s (index: "
			     "version %lld, state %s; git: version %lld, state "
			     "%s)", id, head, (long long)indexed->version,
			     indexed->state, (long long)(*git_d)->version,
			     (*git_d)->state);
	rd_dispute_free(indexed);
	return rc;
}

static int compare_events(rd_service *svc, const char *id, const char *head,
			  rd_verify_report *r, rd_error *err)
{
	rd_event_record *rows = NULL;
	char **names = NULL;
	size_t count = 0, nnames = 0;
	int rc;

	if ((rc = rd_store_events_list(svc->store, id, &rows, &count, err)) < 0)
		return rc;
	if ((rc = rd_evidence_list(svc->repo, head, "events", &names, &nnames,
				   err)) < 0)
		goto done;
	if (count != nnames) {
		rc = finding(r, id, "index", "the index holds %zu events, git "
			     "holds %zu at %.12s", count, nnames, head);
		goto done;
	}
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		char path[200];
		json_t *doc = NULL;
		rd_error read_err;

		snprintf(path, sizeof(path), "events/%s", names[i]);
		if (read_doc(&doc, svc, head, path, &read_err) < 0) {
			rc = finding(r, id, "object", "%s: %s", path,
				     read_err.message);
			break;
		}
		if (!same_json(doc, rd_event_record_to_json(&rows[i])))
			rc = finding(r, id, "index", "event %lld (%s) in the "
				     "index differs from %s", (long long)rows[i].seq,
				     rows[i].event, path);
	}
done:
	rd_event_records_free(rows, count);
	rd_strings_free(names, nnames);
	return rc;
}

static int compare_evidence(rd_service *svc, const char *id, const char *head,
			    rd_verify_report *r, rd_error *err)
{
	rd_evidence_row *rows = NULL;
	char **names = NULL;
	size_t count = 0, nnames = 0;
	int rc;

	if ((rc = rd_store_evidence_list(svc->store, id, &rows, &count,
					 err)) < 0)
		return rc;
	if ((rc = rd_evidence_list(svc->repo, head, "evidence", &names, &nnames,
				   err)) < 0)
		goto done;
	for (size_t i = 0; i < nnames && rc == RD_OK; i++) {
		char path[200];
		json_t *doc = NULL;
		rd_error read_err;
		long n = strtol(names[i], NULL, 10);
		size_t j;

		for (j = 0; j < count && rows[j].n != n; j++)
			;
		if (j == count) {
			rc = finding(r, id, "index", "evidence %ld is in git but "
				     "has no index row", n);
			continue;
		}
		snprintf(path, sizeof(path), "evidence/%s/meta.json", names[i]);
		if (read_doc(&doc, svc, head, path, &read_err) < 0) {
			rc = finding(r, id, "object", "%s: %s", path,
				     read_err.message);
			break;
		}
		if (!same_json(doc, rd_evidence_row_to_json(&rows[j])))
			rc = finding(r, id, "index", "the index row of evidence "
				     "%ld differs from %s (index SHA-256 %.16s..., "
				     "withdrawn %d)", n, path, rows[j].sha256,
				     rows[j].withdrawn);
	}
	if (rc == RD_OK && count > nnames)
		rc = finding(r, id, "index", "the index holds %zu evidence rows, "
			     "git holds %zu", count, nnames);
done:
	rd_evidence_rows_free(rows, count);
	rd_strings_free(names, nnames);
	return rc;
}

static int compare_offers(rd_service *svc, const char *id, const char *head,
			  const rd_dispute *d, rd_verify_report *r,
			  rd_error *err)
{
	rd_offer_record *rows = NULL;
	char **names = NULL;
	size_t count = 0, nnames = 0;
	int rc;

	if ((rc = rd_store_offers_list(svc->store, id, &rows, &count, err)) < 0)
		return rc;
	if ((rc = rd_evidence_list(svc->repo, head, "offers", &names, &nnames,
				   err)) < 0)
		goto done;
	if (count != nnames) {
		rc = finding(r, id, "index", "the index holds %zu offers, git "
			     "holds %zu", count, nnames);
		goto done;
	}
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		char path[200];
		json_t *doc = NULL;
		rd_error read_err;

		snprintf(path, sizeof(path), "offers/%s.json", rows[i].offer_id);
		if (read_doc(&doc, svc, head, path, &read_err) < 0) {
			rc = finding(r, id, "index", "offer %s of the index is "
				     "not in git: %s", rows[i].offer_id,
				     read_err.message);
			continue;
		}
		if (!same_json(doc, rd_offer_record_to_json(&rows[i],
							    d->currency)))
			rc = finding(r, id, "index", "offer %s in the index "
				     "differs from %s", rows[i].offer_id, path);
	}
done:
	free(rows);
	rd_strings_free(names, nnames);
	return rc;
}

static int verify_dispute(rd_service *svc, const char *id,
			  rd_verify_report *r, rd_error *err)
{
	char head[RD_OID_BUFSZ], indexed[RD_OID_BUFSZ] = "";
	rd_commit_info *log = NULL;
	rd_dispute *git_d = NULL;
	walk_state w;
	size_t count = 0;
	rd_error read_err;
	int found = 0, known, rc;

	memset(&w, 0, sizeof(w));
	r->disputes++;
	if ((rc = rd_store_ref_get(svc->store, id, head, &found, err)) < 0)
		return rc;
	rc = rd_store_head_get(svc->store, id, indexed, err);
	if (rc < 0 && rc != RD_ENOTFOUND)
		return rc;
	known = rc == RD_OK;
	if (!found)
		return known ? finding(r, id, "ref", "the index holds dispute "
				       "%s (head %.12s) but git has no ref "
				       "refs/disputes/%s", id, indexed, id)
			     : RD_OK;
	if (!known)
		rc = finding(r, id, "index", "git holds dispute %s (head %.12s) "
			     "but the index has no row", id, head);
	else if (strcmp(indexed, head) != 0)
		rc = finding(r, id, "head", "refs/disputes/%s is at %.12s but "
			     "the index records %.12s", id, head, indexed);
	if (rc < 0)
		return rc;
	if (rd_evidence_log(svc->repo, head, &log, &count, &read_err) < 0)
		return finding(r, id, "object", "the history of %s cannot be "
			       "read: %s", id, read_err.message);
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		r->commits++;
		rc = verify_commit(svc, id, &log[i], i, &w, r, err);
	}
	rd_commit_infos_free(log, count);
	walk_state_free(&w);
	if (rc < 0 || !known)
		return rc;
	if ((rc = compare_dispute(svc, id, head, r, &git_d, err)) == RD_OK &&
	    git_d &&
	    (rc = compare_events(svc, id, head, r, err)) == RD_OK &&
	    (rc = compare_evidence(svc, id, head, r, err)) == RD_OK)
		rc = compare_offers(svc, id, head, git_d, r, err);
	rd_dispute_free(git_d);
	return rc;
}

/* ---- every dispute ---- */

typedef struct id_list {
	char **ids;
	size_t count;
	size_t room;
} id_list;

static int id_list_add(id_list *l, const char *id)
{
	if (l->count == l->room) {
		size_t room = l->room ? l->room * 2 : 64;
		char **more = realloc(l->ids, room * sizeof(*more));

		if (!more)
			return RD_ENOMEM;
		l->ids = more;
		l->room = room;
	}
	if ((l->ids[l->count] = strdup(id)) == NULL)
		return RD_ENOMEM;
	l->count++;
	return RD_OK;
}

/* 1 (stop: out of memory) or 0, never an rd status of its own. */
static int collect_ref(const char *id, const char *head, void *ctx)
{
	(void)head;
	return id_list_add(ctx, id) < 0 ? 1 : 0;
}

/*
 * Call fn for every head of the record, in dispute id order (fn returns
 * non-zero to stop: that value is returned).
 */
static int foreach_ref(rd_store *st,
		       int (*fn)(const char *id, const char *head, void *ctx),
		       void *ctx, rd_error *err)
{
	char after[RD_ID_BUFSZ] = "";
	int rc;

	for (;;) {
		rd_ref_row *page = NULL;
		size_t count = 0;

		if ((rc = rd_store_refs_after(st, after, 500, &page, &count,
					      err)) < 0)
			return rc;
		for (size_t i = 0; i < count && rc == 0; i++)
			rc = fn(page[i].dispute_id, page[i].head, ctx);
		if (count)
			snprintf(after, sizeof(after), "%s",
				 page[count - 1].dispute_id);
		free(page);
		if (rc != 0 || count < 500)
			return rc;
	}
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every dispute id in git or in the index, sorted, each once. */
static int all_ids(rd_service *svc, id_list *l, rd_error *err)
{
	char after[RD_ID_BUFSZ] = "";
	size_t w = 0;
	int rc;

	if ((rc = foreach_ref(svc->store, collect_ref, l, err)) != 0)
		return rc < 0 ? rc : rd_error_set(err, RD_ENOMEM,
						  "out of memory");
	for (;;) {
		char **page = NULL;
		size_t count = 0;

		if ((rc = rd_store_dispute_ids(svc->store, after, 500, &page,
					       &count, err)) < 0)
			return rc;
		for (size_t i = 0; i < count && rc == RD_OK; i++)
			if (id_list_add(l, page[i]) < 0)
				rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		if (count)
			snprintf(after, sizeof(after), "%s", page[count - 1]);
		rd_strings_free(page, count);
		if (rc < 0 || count < 500)
			break;
	}
	if (rc < 0)
		return rc;
	if (l->count > 1)
		qsort(l->ids, l->count, sizeof(*l->ids), compare_ids);
	for (size_t i = 0; i < l->count; i++) {
		if (w > 0 && strcmp(l->ids[w - 1], l->ids[i]) == 0) {
			free(l->ids[i]);
			continue;
		}
		l->ids[w++] = l->ids[i];
	}
	l->count = w;
	return RD_OK;
}

/*
 * The mirror against the record: a dispute's ref in evidence.git must be
 * the record's head, unless the dispute changed after the mirror's
 * position (then it is late, not wrong). The mirror is opened once per
 * verification (*m), and its absence is one finding.
 */
static int verify_mirror(rd_service *svc, const char *id, rd_mirror **m,
			 int *missing, rd_verify_report *r, rd_error *err)
{
	char head[RD_OID_BUFSZ], mirrored[RD_OID_BUFSZ], path[4096];
	int64_t position = 0, last = 0;
	int found = 0, in_mirror = 0, rc;
	rd_error read_err;

	if (!*m && !*missing) {
		int owner = 0;

		/* another data directory's mirror is the record's */
		if ((rc = svc_mirror_is_owner(svc, &owner, err)) < 0)
			return rc;
		if (!owner) {
			*missing = 1;
			r->mirror_elsewhere = 1;
			return RD_OK;
		}
	}
	if ((rc = rd_store_ref_get(svc->store, id, head, &found, err)) < 0 ||
	    !found ||
	    (rc = rd_store_mirror_position(svc->store, &position, err)) < 0 ||
	    (rc = rd_store_dispute_last_change(svc->store, id, &last,
					       err)) < 0)
		return rc;
	if (last > position || *missing)
		return RD_OK; /* late, not wrong; or named once already */
	if (!*m) {
		snprintf(path, sizeof(path), "%s/evidence.git", svc->data_dir);
		rd_error_clear(&read_err);
		if (rd_mirror_open(m, path, 0, &read_err) < 0) {
			*missing = 1;
			return finding(r, id, "mirror", "the mirror %s cannot be "
				       "read (%s); make it again with `redress "
				       "mirror --rebuild`", path,
				       read_err.message);
		}
	}
	rd_error_clear(&read_err);
	if (!rd_mirror_repo(*m))
		rd_error_set(&read_err, RD_EIO, "the mirror cannot be opened");
	if (read_err.code ||
	    rd_evidence_head(rd_mirror_repo(*m), id, mirrored, &in_mirror,
			     &read_err) < 0)
		return finding(r, id, "mirror", "refs/disputes/%s cannot be "
			       "read in the mirror: %s", id, read_err.message);
	if (!in_mirror)
		return finding(r, id, "mirror", "the mirror has no "
			       "refs/disputes/%s; the record's head is %.12s",
			       id, head);
	if (strcmp(mirrored, head) != 0)
		return finding(r, id, "mirror", "refs/disputes/%s is at %.12s "
			       "in the mirror but the record's head is %.12s",
			       id, mirrored, head);
	return RD_OK;
}

int rd_service_audit_verify(rd_service *svc, const char *id,
			    rd_verify_report *report, rd_progress_fn progress,
			    void *progress_ctx, rd_error *err)
{
	id_list ids = { 0 };
	rd_mirror *m = NULL;
	int rc = RD_OK, missing = 0;

	memset(report, 0, sizeof(*report));
	if (id) {
		if (!rd_id_valid(id))
			return rd_error_set_field(err, RD_ENOTFOUND, "id",
						  "no dispute %s (not a "
						  "dispute id)", id);
		rc = verify_dispute(svc, id, report, err);
		if (rc == RD_OK && report->commits == 0 && report->count == 0)
			rc = rd_error_set(err, RD_ENOTFOUND, "no dispute %s",
					  id);
		if (rc == RD_OK)
			rc = verify_mirror(svc, id, &m, &missing, report, err);
		rd_mirror_close(m);
		return rc == RD_ENOMEM ? rd_error_set(err, rc, "out of memory")
				       : rc;
	}
	if ((rc = all_ids(svc, &ids, err)) < 0)
		goto done;
	for (size_t i = 0; i < ids.count && rc == RD_OK; i++) {
		rc = verify_dispute(svc, ids.ids[i], report, err);
		if (rc == RD_OK)
			rc = verify_mirror(svc, ids.ids[i], &m, &missing,
					   report, err);
		if (progress)
			progress(progress_ctx, i + 1, ids.count);
	}
	if (rc == RD_ENOMEM)
		rd_error_set(err, rc, "out of memory");
done:
	rd_mirror_close(m);
	rd_strings_free(ids.ids, ids.count);
	return rc;
}

/* ---- reindex ---- */

typedef struct reindex_ctx {
	rd_service *svc;
	rd_store *fresh;
	size_t done;
	rd_progress_fn progress;
	void *progress_ctx;
	rd_error *err;
	int rc;
} reindex_ctx;

static int reindex_one(const char *id, const char *head, void *arg)
{
	reindex_ctx *x = arg;

	if ((x->rc = svc_rebuild_dispute(x->svc, x->fresh, id, head,
					 x->err)) < 0)
		return 1;
	x->done++;
	/* commit in batches: one transaction per dispute would fsync each */
	if (x->done % 256 == 0 &&
	    ((x->rc = rd_store_commit(x->fresh, x->err)) < 0 ||
	     (x->rc = rd_store_begin(x->fresh, x->err)) < 0))
		return 1;
	if (x->progress)
		x->progress(x->progress_ctx, x->done, 0);
	return 0;
}

/*
 * API keys live in the index only (git holds no keys): carry every one,
 * revoked ones included, from the old index into the rebuilt one.
 */
static int copy_keys(rd_store *from, rd_store *to, rd_error *err)
{
	rd_api_key *keys = NULL;
	size_t count = 0;
	int rc;

	if ((rc = rd_store_keys_list(from, &keys, &count, err)) < 0)
		return rd_error_prefix(err, "cannot carry the API keys over");
	for (size_t i = 0; i < count; i++)
		if ((rc = rd_store_key_insert(to, &keys[i], err)) < 0) {
			rd_error_prefix(err, "cannot carry the API keys over");
			break;
		}
	free(keys);
	return rc;
}

/*
 * A storefront's own evidence quotas live in the index only: carry them
 * over. The usage they are checked against is not copied but counted
 * again, by the schema, as the evidence rows are rebuilt.
 */
static int copy_quotas(rd_store *from, rd_store *to, rd_error *err)
{
	rd_storefront_quota *quotas = NULL;
	size_t count = 0;
	int rc;

	if ((rc = rd_store_quotas_list(from, &quotas, &count, err)) < 0)
		return rd_error_prefix(err, "cannot carry the quotas over");
	for (size_t i = 0; i < count; i++)
		if ((rc = rd_store_quota_put(to, &quotas[i], err)) < 0) {
			rd_error_prefix(err, "cannot carry the quotas over");
			break;
		}
	free(quotas);
	return rc;
}

/* Where copy_idem puts each record. */
struct idem_copy {
	rd_store *to;
	rd_error *err;
};

static int put_idem(const rd_idem_record *rec, void *ctx)
{
	const struct idem_copy *c = ctx;

	return rd_store_idem_insert(c->to, rec, 0, c->err);
}

/*
 * Requests made under an Idempotency-Key live in the index, and in the
 * trailers of their commits only for crash replay: carry them over too, so
 * that a retry after a rebuild is still answered from its record.
 */
static int copy_idem(rd_store *from, rd_store *to, rd_error *err)
{
	struct idem_copy ctx = { to, err };
	int rc = rd_store_idem_foreach(from, put_idem, &ctx, err);

	if (rc < 0)
		rd_error_prefix(err, "cannot carry the idempotency records "
				"over");
	return rc;
}

/* Remove a database file with its WAL and shared-memory files. */
static int remove_db(const char *path, int keep_main, rd_error *err)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char name[4096];

	for (size_t i = keep_main ? 1 : 0; i < 3; i++) {
		if (snprintf(name, sizeof(name), "%s%s", path, suffixes[i]) >=
		    (int)sizeof(name))
			return rd_error_set(err, RD_EINVALID, "path too long: %s",
					    path);
		if (unlink(name) != 0 && errno != ENOENT)
			return rd_error_set(err, RD_EIO, "cannot remove %s: %s",
					    name, strerror(errno));
	}
	return RD_OK;
}

static int reindex(rd_service *svc, size_t *disputes,
		   rd_progress_fn progress, void *progress_ctx, rd_error *err)
{
	char fresh_path[4096], db_path[4096];
	reindex_ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	snprintf(db_path, sizeof(db_path), "%s", svc->store_target);
	snprintf(fresh_path, sizeof(fresh_path), "%s.reindex",
		 svc->store_target);
	if ((rc = remove_db(fresh_path, 0, err)) < 0 ||
	    (rc = rd_store_open(&x.fresh, fresh_path, err)) < 0)
		return rc;
	/* the record is carried over whole; the rest is derived from it */
	if ((rc = rd_store_record_copy(x.fresh, db_path, err)) < 0)
		goto fail;
	x.svc = svc;
	x.progress = progress;
	x.progress_ctx = progress_ctx;
	x.err = err;
	if ((rc = rd_store_begin(x.fresh, err)) < 0)
		goto fail;
	for (size_t i = 0; i < rd_workflow_set_count(svc->workflows); i++) {
		const rd_workflow *wf = rd_workflow_set_at(svc->workflows, i);

		if ((rc = rd_store_workflow_put(x.fresh, rd_workflow_hash(wf),
						rd_workflow_name(wf),
						rd_workflow_version(wf),
						rd_workflow_source(wf),
						err)) < 0)
			goto fail;
	}
	if ((rc = copy_keys(svc->store, x.fresh, err)) < 0 ||
	    (rc = copy_quotas(svc->store, x.fresh, err)) < 0 ||
	    (rc = copy_idem(svc->store, x.fresh, err)) < 0)
		goto fail;
	rc = foreach_ref(x.fresh, reindex_one, &x, err);
	if (rc != 0) {
		rc = x.rc < 0 ? x.rc : rc;
		goto fail;
	}
	if ((rc = rd_store_commit(x.fresh, err)) < 0)
		goto fail;
	rd_store_close(x.fresh);
	x.fresh = NULL;
	/*
	 * Swap: closing the last connection checkpoints the old WAL away;
	 * what is left of it is removed so that it can never be replayed
	 * onto the rebuilt file, which then takes the name atomically.
	 */
	rd_store_close(svc->store);
	svc->store = NULL;
	if ((rc = remove_db(db_path, 1, err)) < 0)
		return rc;
	if (rename(fresh_path, db_path) != 0)
		return rd_error_set(err, RD_EIO, "cannot rename %s to %s: %s",
				    fresh_path, db_path, strerror(errno));
	if ((rc = rd_store_open(&svc->store, db_path, err)) < 0)
		return rc;
	if (disputes)
		*disputes = x.done;
	return RD_OK;
fail:
	rd_store_rollback(x.fresh);
	rd_store_close(x.fresh);
	remove_db(fresh_path, 0, NULL);
	return rc;
}

int rd_service_reindex(rd_service *svc, size_t *disputes,
		       rd_progress_fn progress, void *progress_ctx,
		       rd_error *err)
{
	rd_error ignored;
	int rc;

	if (rd_store_target_is_postgres(svc->store_target))
		return rd_error_set(err, RD_EINVALID, "reindex rebuilds an "
				    "embedded record's file; a PostgreSQL "
				    "record is not rebuilt this way");
	/* any other process would keep writing to the file this replaces */
	if ((rc = svc_registry_alone(svc, "redress reindex", err)) < 0)
		return rc;
	rc = reindex(svc, disputes, progress, progress_ctx, err);
	rd_error_clear(&ignored);
	if (svc_registry_share(svc, rc < 0 ? &ignored : err) < 0 && rc == 0)
		rc = err->code;
	return rc;
}
