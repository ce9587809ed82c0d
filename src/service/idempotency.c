/*
 * Idempotent writes: a request made under an Idempotency-Key is recorded
 * with its effect, so that a retry is answered from the record instead of
 * being done twice.
 *
 * The record is written in the index transaction of the effect, and the
 * commit of the effect names the request in two trailers:
 *
 *   Redress-Idempotency-Key: <the client's key>
 *   Redress-Idempotency-Request: <api key id> <operation> <sha-256>
 *
 * so that when a crash leaves git ahead of the index, the replay that
 * brings the index up to git (svc_sync_dispute) records the request too:
 * the effect and its record are never found apart. The response kept is
 * the document the commit wrote (dispute.json, or the evidence's
 * meta.json), which is what the API answered.
 *
 * This file must never decide whether a retry matches (the caller compares
 * digests) and never record a request without its effect.
 */
#include "service_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/json.h"
#include "redress/store.h"

#define TRAILER_KEY "Redress-Idempotency-Key: "
#define TRAILER_REQUEST "Redress-Idempotency-Request: "

int rd_idem_key_check(const char *key, rd_error *err)
{
	size_t len = key ? strlen(key) : 0;

	if (len == 0 || len > RD_IDEM_KEY_MAX)
		return rd_error_set_field(err, RD_EUSAGE, "Idempotency-Key",
					  "an Idempotency-Key is 1 to %d "
					  "characters, not %zu",
					  RD_IDEM_KEY_MAX, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c < 0x21 || c > 0x7e)
			return rd_error_set_field(err, RD_EUSAGE,
				"Idempotency-Key", "an Idempotency-Key is "
				"visible ASCII characters only (no spaces or "
				"control characters); character %zu is not",
				i + 1);
	}
	return RD_OK;
}

static int is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

static int need_key_id(const rd_actor *actor, rd_error *err)
{
	if (!actor->key_id[0] || strlen(actor->key_id) >= 64)
		return rd_error_set_field(err, RD_EUSAGE, "Idempotency-Key",
					  "an Idempotency-Key is taken only "
					  "from a caller with an API key");
	return RD_OK;
}

int rd_service_idem_get(rd_service *svc, const rd_actor *actor,
			const char *key, int64_t now, rd_idem_record *out,
			rd_error *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = need_key_id(actor, err)) < 0 ||
	    (rc = rd_idem_key_check(key, err)) < 0)
		return rc;
	if ((rc = rd_store_idem_get(svc->store, actor->key_id, key, out,
				    err)) < 0)
		return rc;
	if (out->created_at < now - RD_IDEM_KEEP_S) {
		/* kept past its time; the next write purges it */
		rd_idem_record_clear(out);
		memset(out, 0, sizeof(*out));
		return rd_error_set(err, RD_ENOTFOUND, "no request was made "
				    "with this Idempotency-Key in the last "
				    "24 hours");
	}
	return RD_OK;
}

int rd_service_idem_claim(rd_service *svc, const rd_actor *actor,
			  const char *key, rd_error *err)
{
	int rc;

	if ((rc = need_key_id(actor, err)) < 0 ||
	    (rc = rd_idem_key_check(key, err)) < 0)
		return rc;
	return rd_store_idem_claim(svc->store, actor->key_id, key, err);
}

void rd_service_idem_release(rd_service *svc, const rd_actor *actor,
			     const char *key)
{
	rd_error ignored;

	/* a release that fails leaves a claim that ends with the connection */
	rd_error_clear(&ignored);
	if (svc && actor && key)
		(void)rd_store_idem_release(svc->store, actor->key_id, key,
					    &ignored);
}

int rd_service_idem_arm(rd_service *svc, const rd_actor *actor,
			const char *key, const char *request_sha256,
			rd_idem_operation operation, rd_error *err)
{
	svc_idem *idem = &svc->idem;
	int rc;

	rd_service_idem_disarm(svc);
	if ((rc = need_key_id(actor, err)) < 0 ||
	    (rc = rd_idem_key_check(key, err)) < 0)
		return rc;
	if (!request_sha256 || !is_sha256_hex(request_sha256) ||
	    !rd_idem_operation_name(operation))
		return rd_error_set(err, RD_EINTERNAL, "an idempotent write "
				    "needs a request digest of 64 lower-case "
				    "hex digits and a known operation");
	snprintf(idem->rec.key_id, sizeof(idem->rec.key_id), "%s",
		 actor->key_id);
	snprintf(idem->rec.key, sizeof(idem->rec.key), "%s", key);
	snprintf(idem->rec.request_sha256, sizeof(idem->rec.request_sha256),
		 "%s", request_sha256);
	idem->rec.operation = operation;
	idem->armed = 1;
	return RD_OK;
}

void rd_service_idem_disarm(rd_service *svc)
{
	if (!svc)
		return;
	rd_idem_record_clear(&svc->idem.rec);
	memset(&svc->idem, 0, sizeof(svc->idem));
}

/*
 * Once per transaction: drop the records past their time, and refuse a
 * key recorded already (a retry that raced the first loses).
 */
static int idem_check(rd_service *svc, int64_t now, rd_error *err)
{
	svc_idem *idem = &svc->idem;
	rd_idem_record found;
	int rc;

	if (!idem->checked) {
		/* a record past its time is no record: drop it first */
		if ((rc = rd_store_idem_purge(svc->store, now - RD_IDEM_KEEP_S,
					      err)) < 0)
			return rc;
		/* Under the write lock: a retry that raced the first loses. */
		rc = rd_store_idem_get(svc->store, idem->rec.key_id,
				       idem->rec.key, &found, err);
		rd_idem_record_clear(&found);
		if (rc == RD_OK)
			return rd_error_set_field(err, RD_ECONFLICT,
				"Idempotency-Key", "a request with this "
				"Idempotency-Key has just been made; it is "
				"answered from its record");
		if (rc != RD_ENOTFOUND)
			return rc;
		rd_error_clear(err);
		idem->checked = 1;
	}
	return RD_OK;
}

int svc_idem_message(rd_service *svc, const char *message, int64_t now,
		     char **out, rd_error *err)
{
	svc_idem *idem = &svc->idem;
	size_t len, size;
	int rc;

	*out = NULL;
	if (!idem->armed)
		return RD_OK;
	if ((rc = idem_check(svc, now, err)) < 0)
		return rc;
	len = strlen(message);
	size = len + sizeof(TRAILER_KEY) + sizeof(idem->rec.key) +
	       sizeof(TRAILER_REQUEST) + sizeof(idem->rec.key_id) + 96;
	if (!(*out = malloc(size)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	/* the message ends with its trailer block and a newline */
	snprintf(*out, size, "%s%s" TRAILER_KEY "%s\n" TRAILER_REQUEST
		 "%s %s %s\n", message,
		 len && message[len - 1] == '\n' ? "" : "\n", idem->rec.key,
		 idem->rec.key_id, rd_idem_operation_name(idem->rec.operation),
		 idem->rec.request_sha256);
	return RD_OK;
}

/* The file at `path` among a change's files, or NULL. */
static const rd_tree_file *change_file(const tree_change *change,
				       const char *path)
{
	for (size_t i = 0; i < change->count; i++)
		if (strcmp(change->files[i].path, path) == 0)
			return &change->files[i];
	return NULL;
}

/*
 * The number N of the file "<prefix>N<suffix>" a change adds (evidence's
 * "evidence/0003/meta.json", a message's "messages/000003.json"), or 0.
 */
static int64_t change_number(const tree_change *change, const char *prefix,
			     const char *suffix)
{
	const size_t plen = strlen(prefix);

	for (size_t i = 0; i < change->count; i++) {
		const char *p = change->files[i].path;
		char *end = NULL;
		long long n;

		if (strncmp(p, prefix, plen) != 0 ||
		    !isdigit((unsigned char)p[plen]))
			continue;
		errno = 0;
		n = strtoll(p + plen, &end, 10);
		if (errno == 0 && n > 0 && strcmp(end, suffix) == 0)
			return (int64_t)n;
	}
	return 0;
}

/* The response path of an operation in a commit's tree. */
static void response_path(char out[64], rd_idem_operation op, int64_t n)
{
	if (op == RD_IDEM_EVIDENCE)
		snprintf(out, 64, "evidence/%04" PRId64 "/meta.json", n);
	else if (op == RD_IDEM_MESSAGE)
		snprintf(out, 64, SVC_MESSAGE_PATH, (long long)n);
	else
		snprintf(out, 64, "dispute.json");
}

/*
 * The answer to a message's POST: its file and the commit that recorded
 * it (new, NULL when the file is not a JSON object or memory ran out).
 */
static char *message_response(const char *file, size_t len,
			      const char *commit)
{
	json_t *doc = json_loadb(file, len, 0, NULL);
	char *text = NULL;

	if (json_is_object(doc) &&
	    json_object_set_new(doc, "commit", json_string(commit)) == 0)
		text = rd_json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return text;
}

int svc_idem_capture(rd_service *svc, const rd_dispute *d,
		     const tree_change *change, const char *head, int64_t now,
		     rd_error *err)
{
	svc_idem *idem = &svc->idem;
	const rd_tree_file *file;
	char path[64];
	char *copy;

	if (!idem->armed)
		return RD_OK;
	idem->rec.evidence_n = 0;
	if (idem->rec.operation == RD_IDEM_EVIDENCE &&
	    !(idem->rec.evidence_n = change_number(change, "evidence/",
						   "/meta.json"))) {
		/* a later commit of the same write (none today) keeps the first */
		if (idem->captured)
			return RD_OK;
		return rd_error_set(err, RD_EINTERNAL, "an idempotent evidence "
				    "upload made a commit without evidence");
	}
	if (idem->rec.operation == RD_IDEM_MESSAGE &&
	    !(idem->rec.evidence_n = change_number(change, "messages/",
						   ".json")))
		return rd_error_set(err, RD_EINTERNAL, "an idempotent message "
				    "made a commit without a message");
	response_path(path, idem->rec.operation, idem->rec.evidence_n);
	file = change_file(change, path);
	if (!file || !file->content)
		return rd_error_set(err, RD_EINTERNAL, "the commit of an "
				    "idempotent write has no %s", path);
	if (idem->rec.operation == RD_IDEM_MESSAGE)
		copy = message_response(file->content, file->len, head);
	else if ((copy = malloc(file->len + 1)) != NULL) {
		memcpy(copy, file->content, file->len);
		copy[file->len] = '\0';
	}
	if (!copy)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	free(idem->rec.response);
	idem->rec.response = copy;
	snprintf(idem->rec.dispute_id, sizeof(idem->rec.dispute_id), "%s",
		 d->id);
	idem->rec.created_at = now;
	idem->captured = 1;
	return RD_OK;
}

int svc_idem_flush(rd_service *svc, rd_error *err)
{
	svc_idem *idem = &svc->idem;
	int rc;

	if (!idem->armed || !idem->captured)
		return RD_OK;
	if ((rc = rd_store_idem_insert(svc->store, &idem->rec, 0, err)) < 0)
		return rc;
	idem->captured = 0;
	idem->checked = 0;
	return RD_OK;
}

int svc_idem_nothing(rd_service *svc, int64_t now, rd_error *err)
{
	svc_idem *idem = &svc->idem;
	char *empty;
	int rc;

	if (!idem->armed || idem->rec.operation != RD_IDEM_CLAIM)
		return RD_OK;
	if ((rc = idem_check(svc, now, err)) < 0)
		return rc;
	if (!(empty = calloc(1, 1)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	free(idem->rec.response);
	idem->rec.response = empty;
	idem->rec.dispute_id[0] = '\0';
	idem->rec.evidence_n = 0;
	idem->rec.created_at = now;
	idem->captured = 1;
	return RD_OK;
}

void svc_idem_reset(rd_service *svc)
{
	svc->idem.captured = 0;
	svc->idem.checked = 0;
}

/*
 * The last paragraph of a commit message: the trailer block redress writes
 * after everything else. The note above it is a caller's text, which may
 * hold lines that read like trailers.
 */
static const char *trailer_block(const char *message)
{
	size_t end = strlen(message);

	while (end > 0 && message[end - 1] == '\n')
		end--;
	for (size_t i = end; i >= 2; i--)
		if (message[i - 1] == '\n' && message[i - 2] == '\n')
			return message + i;
	return message;
}

/* The value of trailer `name` in a commit's trailers, into out; 0 if absent. */
static int trailer(const char *message, const char *name, char *out,
		   size_t size)
{
	size_t nlen = strlen(name);
	const char *p = trailer_block(message);

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > nlen && strncmp(p, name, nlen) == 0) {
			if (len - nlen >= size)
				return 0;
			memcpy(out, p + nlen, len - nlen);
			out[len - nlen] = '\0';
			return 1;
		}
		p = eol ? eol + 1 : NULL;
	}
	return 0;
}

/* The record a commit's trailers name; 0 when it names none. */
static int commit_request(const rd_commit_info *info, rd_idem_record *rec)
{
	char request[160], op[16];
	int used = 0;

	memset(rec, 0, sizeof(*rec));
	if (!info->message ||
	    !trailer(info->message, TRAILER_KEY, rec->key, sizeof(rec->key)) ||
	    !trailer(info->message, TRAILER_REQUEST, request,
		     sizeof(request)))
		return 0;
	if (sscanf(request, "%63s %15s %64s%n", rec->key_id, op,
		   rec->request_sha256, &used) != 3 || request[used] != '\0')
		return 0;
	if (strcmp(op, "open") == 0)
		rec->operation = RD_IDEM_OPEN;
	else if (strcmp(op, "event") == 0)
		rec->operation = RD_IDEM_EVENT;
	else if (strcmp(op, "evidence") == 0)
		rec->operation = RD_IDEM_EVIDENCE;
	else if (strcmp(op, "message") == 0)
		rec->operation = RD_IDEM_MESSAGE;
	else if (strcmp(op, "claim") == 0)
		rec->operation = RD_IDEM_CLAIM;
	else
		return 0;
	rec->created_at = info->when;
	return 1;
}

/* Record the request one replayed commit names, if any. */
/* *n = the highest number named in directory `dir` of `commit`'s tree. */
static int highest_number(rd_service *svc, const char *commit,
			  const char *dir, int64_t *n, rd_error *err)
{
	char **names = NULL;
	size_t count = 0;
	int rc;

	*n = 0;
	if ((rc = rd_evidence_list(svc->repo, commit, dir, &names, &count,
				   err)) < 0)
		return rc;
	for (size_t i = 0; i < count; i++) {
		long long v = strtoll(names[i], NULL, 10);

		if (v > *n)
			*n = (int64_t)v;
	}
	rd_strings_free(names, count);
	return RD_OK;
}

static int replay_commit(rd_service *svc, const rd_commit_info *info,
			 const char *id, rd_error *err)
{
	rd_idem_record rec;
	char path[64];
	size_t len = 0;
	int rc = RD_OK;

	if (!commit_request(info, &rec))
		return RD_OK;
	snprintf(rec.dispute_id, sizeof(rec.dispute_id), "%s", id);
	/* what an upload or a message added: the highest of its commit */
	if ((rec.operation == RD_IDEM_EVIDENCE ||
	     rec.operation == RD_IDEM_MESSAGE) &&
	    ((rc = highest_number(svc, info->oid,
				  rec.operation == RD_IDEM_EVIDENCE ? "evidence"
								    : "messages",
				  &rec.evidence_n, err)) < 0 ||
	     rec.evidence_n <= 0))
		return rc;
	response_path(path, rec.operation, rec.evidence_n);
	if ((rc = rd_evidence_read(svc->repo, info->oid, path, &rec.response,
				   &len, err)) < 0)
		return rc;
	if (rec.operation == RD_IDEM_MESSAGE) {
		char *answer = message_response(rec.response, len, info->oid);

		free(rec.response);
		if ((rec.response = answer) == NULL)
			return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	rc = rd_store_idem_insert(svc->store, &rec, 1, err);
	rd_idem_record_clear(&rec);
	return rc;
}

int svc_idem_replay(rd_service *svc, const char *id, const char *head,
		    const char *indexed, rd_error *err)
{
	rd_commit_info *log = NULL;
	size_t count = 0, first = 0;
	int rc;

	if ((rc = rd_evidence_log(svc->repo, head, &log, &count, err)) < 0)
		return rc;
	/* the commits after the indexed head: those the index lacked */
	if (indexed && indexed[0])
		for (size_t i = 0; i < count; i++)
			if (strcmp(log[i].oid, indexed) == 0)
				first = i + 1;
	for (size_t i = first; i < count && rc == RD_OK; i++)
		rc = replay_commit(svc, &log[i], id, err);
	rd_commit_infos_free(log, count);
	return rc;
}
