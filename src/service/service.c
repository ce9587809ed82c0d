/*
 * The service: each user action as one store transaction in which the
 * workflow engine decides and the store records.
 *
 * This is the only place that combines the modules. It must never speak SQL
 * (the store does) nor judge a transition itself (the workflow does): it
 * gathers what the guards need, asks, and records the answer. Anything that
 * fails before the commit leaves the store exactly as it was.
 */
#include "redress/service.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "redress/clock.h"
#include "redress/money.h"
#include "redress/offer.h"

/* The workflow every new dispute follows. */
#define DISPUTE_WORKFLOW "dispute"

/* An offer that a newer offer replaced before it was answered. */
#define OFFER_SUPERSEDED "superseded"

/* How many due deadlines one sweep reads per round trip. */
#define SWEEP_BATCH 64

struct rd_service {
	rd_store *store;
	rd_workflow_set *workflows;
};

static int make_dir(const char *path, int create, rd_error *err)
{
	struct stat sb;

	if (stat(path, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return rd_error_set(err, RD_EINVALID,
					    "%s is not a directory", path);
		return RD_OK;
	}
	if (errno != ENOENT)
		return rd_error_set(err, RD_EIO, "cannot read %s: %s", path,
				    strerror(errno));
	if (!create)
		return rd_error_set(err, RD_ENOTFOUND,
				    "data directory %s does not exist; run "
				    "`redress init` first",
				    path);
	if (mkdir(path, 0700) != 0)
		return rd_error_set(err, RD_EIO, "cannot create %s: %s", path,
				    strerror(errno));
	return RD_OK;
}

static int register_workflows(rd_service *svc, rd_error *err)
{
	size_t count = rd_workflow_set_count(svc->workflows);
	int rc;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	for (size_t i = 0; i < count; i++) {
		const rd_workflow *wf = rd_workflow_set_at(svc->workflows, i);

		rc = rd_store_workflow_put(svc->store, rd_workflow_hash(wf),
					   rd_workflow_name(wf),
					   rd_workflow_version(wf),
					   rd_workflow_source(wf), err);
		if (rc < 0) {
			rd_store_rollback(svc->store);
			return rc;
		}
	}
	return rd_store_commit(svc->store, err);
}

int rd_service_open(rd_service **out, const rd_service_options *opts,
		    rd_error *err)
{
	rd_service *svc = NULL;
	char db_path[PATH_MAX];
	int rc;

	*out = NULL;
	if (!opts->data_dir || !*opts->data_dir || !opts->workflows_dir)
		return rd_error_set(err, RD_EUSAGE,
				    "a data directory and a workflow "
				    "directory are required");
	if (snprintf(db_path, sizeof(db_path), "%s/redress.db",
		     opts->data_dir) >= (int)sizeof(db_path))
		return rd_error_set(err, RD_EINVALID,
				    "data directory path is too long");
	if ((svc = calloc(1, sizeof(*svc))) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if ((rc = rd_workflow_set_load_dir(&svc->workflows, opts->workflows_dir,
					   err)) < 0)
		goto done;
	if (!rd_workflow_set_latest(svc->workflows, DISPUTE_WORKFLOW)) {
		rc = rd_error_set(err, RD_EDEFINITION,
				  "%s holds no \"%s\" workflow",
				  opts->workflows_dir, DISPUTE_WORKFLOW);
		goto done;
	}
	if ((rc = make_dir(opts->data_dir, opts->create, err)) < 0 ||
	    (rc = rd_store_open(&svc->store, db_path, err)) < 0 ||
	    (rc = register_workflows(svc, err)) < 0)
		goto done;
	*out = svc;
	svc = NULL;
done:
	rd_service_close(svc);
	return rc;
}

void rd_service_close(rd_service *svc)
{
	if (!svc)
		return;
	rd_store_close(svc->store);
	rd_workflow_set_free(svc->workflows);
	free(svc);
}

const rd_workflow_set *rd_service_workflows(const rd_service *svc)
{
	return svc->workflows;
}

rd_store *rd_service_store(rd_service *svc)
{
	return svc->store;
}

/*
 * The definition a dispute is pinned to: from the loaded files when they
 * still hold it, else from the copy the store kept when it was first seen.
 */
static int pinned_workflow(const rd_workflow **out, rd_service *svc,
			   const rd_dispute *d, rd_error *err)
{
	rd_workflow *wf = NULL;
	char *source = NULL;
	char origin[128];
	int rc;

	*out = rd_workflow_set_by_hash(svc->workflows, d->workflow_hash);
	if (*out)
		return RD_OK;
	if ((rc = rd_store_workflow_source(svc->store, d->workflow_hash,
					   &source, err)) < 0)
		return rd_error_prefix(err, "workflow of dispute %s", d->id);
	snprintf(origin, sizeof(origin), "stored workflow %.16s",
		 d->workflow_hash);
	rc = rd_workflow_parse(&wf, source, strlen(source), origin, err);
	free(source);
	if (rc < 0)
		return rc;
	if ((rc = rd_workflow_set_add(svc->workflows, wf, err)) < 0)
		return rc;
	*out = rd_workflow_set_by_hash(svc->workflows, d->workflow_hash);
	if (!*out)
		return rd_error_set(err, RD_EINTERNAL,
				    "stored workflow %s has another hash",
				    d->workflow_hash);
	return RD_OK;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Replace *slot with a copy of value; RD_ENOMEM on failure. */
static int set_string(char **slot, const char *value, rd_error *err)
{
	char *copy = dup_or_null(value);

	if (value && !copy)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return RD_OK;
}

int rd_service_dispute_open(rd_service *svc, const rd_dispute *input,
			    const rd_actor *actor, int64_t now,
			    rd_dispute **out, rd_error *err)
{
	const rd_workflow *wf =
		rd_workflow_set_latest(svc->workflows, DISPUTE_WORKFLOW);
	rd_dispute *d = NULL;
	rd_event_record opened;
	const char *deadline_event = NULL;
	int rc;

	if (out)
		*out = NULL;
	if ((d = rd_dispute_clone(input)) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	free(d->outcome);
	free(d->assignee);
	d->outcome = d->assignee = NULL;
	if ((rc = rd_id_generate(d->id, now, err)) < 0)
		goto done;
	d->workflow_version = rd_workflow_version(wf);
	snprintf(d->workflow_hash, sizeof(d->workflow_hash), "%s",
		 rd_workflow_hash(wf));
	if ((rc = set_string(&d->workflow_name, rd_workflow_name(wf), err)) < 0 ||
	    (rc = set_string(&d->state, rd_workflow_initial(wf), err)) < 0)
		goto done;
	d->version = 1;
	d->created_at = d->updated_at = now;
	rd_workflow_deadline(wf, d->state, now, &d->deadline_at,
			     &deadline_event);
	if ((rc = set_string(&d->deadline_event, deadline_event, err)) < 0)
		goto done;

	memset(&opened, 0, sizeof(opened));
	snprintf(opened.dispute_id, sizeof(opened.dispute_id), "%s", d->id);
	opened.seq = 1;
	opened.event = (char *)"opened";
	opened.actor = *actor;
	opened.at = now;
	opened.to_state = d->state;
	opened.fields_json = (char *)"{}";

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		goto done;
	if ((rc = rd_store_dispute_insert(svc->store, d, err)) < 0 ||
	    (rc = rd_store_event_append(svc->store, &opened, err)) < 0 ||
	    (rc = rd_store_deadline_set(svc->store, d->id, d->deadline_at,
					d->deadline_event, d->state, err)) < 0 ||
	    (rc = rd_store_commit(svc->store, err)) < 0) {
		rd_store_rollback(svc->store);
		goto done;
	}
	if (out) {
		*out = d;
		d = NULL;
	}
done:
	rd_dispute_free(d);
	return rc;
}

int rd_service_dispute_get(rd_service *svc, const char *id,
			   rd_dispute **out, rd_error *err)
{
	if (!rd_id_valid(id))
		return rd_error_set_field(err, RD_ENOTFOUND, "id",
					  "no dispute %s (not a dispute id)",
					  id);
	return rd_store_dispute_get(svc->store, id, out, err);
}

int rd_service_events(rd_service *svc, const char *id,
		      rd_event_record **out, size_t *count, rd_error *err)
{
	rd_dispute *d = NULL;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = rd_service_dispute_get(svc, id, &d, err)) < 0)
		return rc;
	rd_dispute_free(d);
	return rd_store_events_list(svc->store, id, out, count, err);
}

int rd_service_offers(rd_service *svc, const char *id,
		      rd_offer_record **out, size_t *count, rd_error *err)
{
	rd_dispute *d = NULL;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = rd_service_dispute_get(svc, id, &d, err)) < 0)
		return rc;
	rd_dispute_free(d);
	return rd_store_offers_list(svc->store, id, out, count, err);
}

int rd_service_dispute_list(rd_service *svc, const rd_dispute_filter *filter,
			    rd_dispute ***out, size_t *count,
			    char **next_cursor, rd_error *err)
{
	return rd_store_dispute_list(svc->store, filter, out, count,
				     next_cursor, err);
}

/* 1 when s is a field name: [a-z][a-z0-9_]{0,63} */
static int field_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= RD_EVENT_MAX_FIELD_NAME || s[0] < 'a' ||
	    s[0] > 'z')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* 1 when s holds no ASCII control character (tab and newline allowed). */
static int text_ok(const char *s, int allow_newline)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == 0x7f || (c < 0x20 && !(allow_newline &&
						(c == '\n' || c == '\t'))))
			return 0;
	}
	return 1;
}

static int check_request(const rd_event_request *req, rd_error *err)
{
	if (!req->event || !*req->event)
		return rd_error_set_field(err, RD_EINVALID, "event",
					  "an event name is required");
	if (req->field_count > RD_EVENT_MAX_FIELDS)
		return rd_error_set_field(err, RD_ETOOLARGE, "fields",
					  "at most %d fields per event",
					  RD_EVENT_MAX_FIELDS);
	for (size_t i = 0; i < req->field_count; i++) {
		const rd_field *f = &req->fields[i];

		if (!field_name_ok(f->name))
			return rd_error_set_field(err, RD_EINVALID, "fields",
				"field name \"%.64s\" is not valid (lower-case "
				"letters, digits and _, starting with a letter, "
				"at most %d characters)",
				f->name, RD_EVENT_MAX_FIELD_NAME - 1);
		if (strlen(f->value) > RD_EVENT_MAX_FIELD_VALUE)
			return rd_error_set_field(err, RD_ETOOLARGE, f->name,
				"field %s is longer than %d bytes", f->name,
				RD_EVENT_MAX_FIELD_VALUE);
		if (!text_ok(f->value, 0))
			return rd_error_set_field(err, RD_EINVALID, f->name,
				"field %s holds control characters", f->name);
		for (size_t j = 0; j < i; j++)
			if (strcmp(req->fields[j].name, f->name) == 0)
				return rd_error_set_field(err, RD_EINVALID,
					f->name, "field %s is given twice",
					f->name);
	}
	if (req->note && strlen(req->note) > RD_EVENT_MAX_NOTE)
		return rd_error_set_field(err, RD_ETOOLARGE, "note",
					  "the note is longer than %d bytes",
					  RD_EVENT_MAX_NOTE);
	if (req->note && !text_ok(req->note, 1))
		return rd_error_set_field(err, RD_EINVALID, "note",
					  "the note holds control characters");
	return RD_OK;
}

/* Everything one event application reads, owns and writes. */
typedef struct apply_state {
	rd_dispute *d;
	char **kinds;
	size_t kind_count;
	size_t evidence_total;
	rd_offer_record pending;
	int has_pending;
	json_t *fields;
	char *fields_text;
} apply_state;

static void apply_state_free(apply_state *s)
{
	rd_dispute_free(s->d);
	rd_strings_free(s->kinds, s->kind_count);
	json_decref(s->fields);
	free(s->fields_text);
}

static const char *find_field(const rd_event_request *req, const char *name)
{
	for (size_t i = 0; i < req->field_count; i++)
		if (strcmp(req->fields[i].name, name) == 0)
			return req->fields[i].value;
	return NULL;
}

static void offer_init(rd_offer_record *offer, const rd_dispute *d,
		       const rd_offer_terms *terms, int64_t seq, int64_t now)
{
	memset(offer, 0, sizeof(*offer));
	snprintf(offer->dispute_id, sizeof(offer->dispute_id), "%s", d->id);
	snprintf(offer->offer_id, sizeof(offer->offer_id), "offer-%lld",
		 (long long)seq);
	offer->type = terms->type;
	offer->buyer_refund = terms->buyer_refund;
	offer->buyer_copay = terms->buyer_copay;
	offer->seller_cost = terms->seller_cost;
	snprintf(offer->status, sizeof(offer->status), "%s", RD_OFFER_MADE);
	offer->made_at = now;
	offer->event_seq = seq;
}

/*
 * A counter-offer: the pending offer's type with the buyer's amount, as the
 * discount or refund for money offers, or as the co-pay for a reshipment.
 */
static int counter_terms(rd_offer_terms *terms, const apply_state *s,
			 const char *amount, rd_error *err)
{
	rd_field fields[2];
	rd_error terms_err;
	int rc;

	fields[0].name = "type";
	fields[0].value = rd_offer_type_name(s->pending.type);
	fields[1].name = s->pending.type == RD_OFFER_RESHIPMENT ? "copay"
								: "refund";
	fields[1].value = amount;
	rc = rd_offer_terms_from_fields(terms, s->d, fields, 2, &terms_err);
	if (rc == RD_OK)
		return RD_OK;
	if (strcmp(terms_err.field, fields[1].name) == 0)
		return rd_error_set_field(err, rc, "amount",
					  "counter-offer amount: %s",
					  terms_err.message);
	*err = terms_err;
	return rc;
}

/* Record what the decision does to the dispute's offers. */
static int apply_offer_action(apply_state *s, const rd_decision *dec,
			      const rd_event_request *req, rd_store *st,
			      int64_t seq, int64_t now, rd_error *err)
{
	rd_offer_terms terms;
	rd_offer_record offer;
	const char *decided = NULL;
	int rc;

	switch (dec->action) {
	case RD_ACTION_NONE:
		return RD_OK;
	case RD_ACTION_OFFER_ACCEPT:
		decided = RD_OFFER_ACCEPTED;
		break;
	case RD_ACTION_OFFER_REJECT:
		decided = RD_OFFER_REJECTED;
		break;
	case RD_ACTION_OFFER_EXPIRE:
		decided = RD_OFFER_EXPIRED;
		break;
	case RD_ACTION_OFFER_MAKE:
		if ((rc = rd_offer_terms_from_fields(&terms, s->d, req->fields,
						     req->field_count, err)) < 0)
			return rc;
		if (s->has_pending &&
		    (rc = rd_store_offer_decide(st, s->d->id,
						s->pending.offer_id,
						OFFER_SUPERSEDED, now, err)) < 0)
			return rc;
		offer_init(&offer, s->d, &terms, seq, now);
		break;
	case RD_ACTION_OFFER_COUNTER:
		if ((rc = counter_terms(&terms, s, find_field(req, "amount"),
					err)) < 0)
			return rc;
		if ((rc = rd_store_offer_decide(st, s->d->id,
						s->pending.offer_id,
						RD_OFFER_COUNTERED, now,
						err)) < 0)
			return rc;
		offer_init(&offer, s->d, &terms, seq, now);
		break;
	}
	if (decided)
		return rd_store_offer_decide(st, s->d->id, s->pending.offer_id,
					     decided, now, err);
	if (json_object_set_new(s->fields, "offer_id",
				json_string(offer.offer_id)) != 0)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return rd_store_offer_insert(st, &offer, err);
}

/* What a deadline sweep expects to find before it fires. */
typedef struct expected_deadline {
	int64_t due_at;
	const char *event;
	const char *state;
} expected_deadline;

static int deadline_still_due(const rd_dispute *d, const expected_deadline *x)
{
	return d->deadline_at == x->due_at && d->deadline_event &&
	       strcmp(d->deadline_event, x->event) == 0 &&
	       strcmp(d->state, x->state) == 0;
}

/*
 * The one function that changes a dispute's state. Runs inside the
 * caller's open transaction; any failure leaves the transaction to be
 * rolled back by the caller.
 */
static int apply_in_transaction(apply_state *s, rd_service *svc,
				const char *id, const rd_event_request *req,
				const rd_actor *actor, int64_t now,
				rd_error *err)
{
	const rd_workflow *wf = NULL;
	rd_guard_ctx ctx;
	rd_decision dec;
	rd_event_record record;
	int64_t old_version, seq;
	int rc;

	if ((rc = rd_store_dispute_get(svc->store, id, &s->d, err)) < 0)
		return rc;
	if (req->if_version > 0 && req->if_version != s->d->version)
		return rd_error_set_field(err, RD_ESTALE, "if_version",
			"dispute %s is at version %lld, not %lld; read it "
			"again and retry",
			id, (long long)s->d->version,
			(long long)req->if_version);
	if ((rc = pinned_workflow(&wf, svc, s->d, err)) < 0 ||
	    (rc = rd_store_evidence_kinds(svc->store, id, &s->kinds,
					  &s->kind_count, &s->evidence_total,
					  err)) < 0 ||
	    (rc = rd_store_offer_pending(svc->store, id, &s->pending,
					 &s->has_pending, err)) < 0)
		return rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.evidence_kinds = (const char *const *)s->kinds;
	ctx.evidence_kind_count = s->kind_count;
	ctx.evidence_count = s->evidence_total;
	ctx.offer_pending = s->has_pending;
	ctx.has_offer_type = s->has_pending;
	ctx.offer_type = s->pending.type;
	if ((rc = rd_workflow_decide(&dec, wf, s->d->state, req->event,
				     actor->role, req->fields,
				     req->field_count, &ctx, now, err)) < 0)
		return rc;

	old_version = s->d->version;
	seq = old_version + 1;
	if ((s->fields = json_object()) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (size_t i = 0; i < req->field_count; i++)
		if (json_object_set_new(s->fields, req->fields[i].name,
					json_string(req->fields[i].value)) != 0)
			return rd_error_set_field(err, RD_EINVALID,
				req->fields[i].name,
				"field %s is not valid UTF-8",
				req->fields[i].name);
	if ((rc = apply_offer_action(s, &dec, req, svc->store, seq, now,
				     err)) < 0)
		return rc;
	s->fields_text = json_dumps(s->fields, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s->fields_text)
		return rd_error_set(err, RD_ENOMEM, "out of memory");

	if ((rc = set_string(&s->d->state, dec.to, err)) < 0 ||
	    (rc = set_string(&s->d->outcome, dec.outcome, err)) < 0 ||
	    (dec.assign &&
	     (rc = set_string(&s->d->assignee, actor->name, err)) < 0) ||
	    (rc = set_string(&s->d->deadline_event, dec.deadline_event,
			     err)) < 0)
		return rc;
	s->d->version = seq;
	s->d->updated_at = now;
	s->d->deadline_at = dec.deadline_at;

	memset(&record, 0, sizeof(record));
	snprintf(record.dispute_id, sizeof(record.dispute_id), "%s", id);
	record.seq = seq;
	record.event = (char *)dec.event;
	record.actor = *actor;
	record.at = now;
	record.from_state = (char *)dec.from;
	record.to_state = (char *)dec.to;
	record.fields_json = s->fields_text;
	record.note = (char *)req->note;
	if ((rc = rd_store_event_append(svc->store, &record, err)) < 0 ||
	    (rc = rd_store_dispute_update(svc->store, s->d, old_version,
					  err)) < 0 ||
	    (rc = rd_store_deadline_set(svc->store, id, dec.deadline_at,
					dec.deadline_event, dec.to, err)) < 0)
		return rc;
	return RD_OK;
}

static int event_apply(rd_service *svc, const char *id,
		       const rd_event_request *req, const rd_actor *actor,
		       int64_t now, const expected_deadline *expect,
		       int *fired, rd_dispute **out, rd_error *err)
{
	apply_state s;
	int rc;

	memset(&s, 0, sizeof(s));
	if (out)
		*out = NULL;
	if (fired)
		*fired = 0;
	if (!rd_id_valid(id))
		return rd_error_set_field(err, RD_ENOTFOUND, "id",
					  "no dispute %s (not a dispute id)",
					  id);
	if ((rc = check_request(req, err)) < 0)
		return rc;
	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if (expect) {
		/* A sweep: fire only if the deadline it read still stands. */
		if ((rc = rd_store_dispute_get(svc->store, id, &s.d, err)) < 0)
			goto fail;
		if (!deadline_still_due(s.d, expect)) {
			rd_store_rollback(svc->store);
			goto done;
		}
		rd_dispute_free(s.d);
		s.d = NULL;
	}
	if ((rc = apply_in_transaction(&s, svc, id, req, actor, now, err)) < 0)
		goto fail;
	if ((rc = rd_store_commit(svc->store, err)) < 0)
		goto fail;
	if (fired)
		*fired = 1;
	if (out) {
		*out = s.d;
		s.d = NULL;
	}
	goto done;
fail:
	rd_store_rollback(svc->store);
done:
	apply_state_free(&s);
	return rc;
}

int rd_service_event_apply(rd_service *svc, const char *id,
			   const rd_event_request *req, const rd_actor *actor,
			   int64_t now, rd_dispute **out, rd_error *err)
{
	return event_apply(svc, id, req, actor, now, NULL, NULL, out, err);
}

/*
 * A deadline whose event the workflow refuses (say, an offer that is no
 * longer pending) can never fire: drop it so that it is not retried forever.
 */
static int drop_deadline(rd_service *svc, const rd_deadline *dl,
			 rd_error *err)
{
	rd_dispute *d = NULL;
	expected_deadline expect = { dl->due_at, dl->event, dl->state };
	int rc;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	rc = rd_store_dispute_get(svc->store, dl->dispute_id, &d, err);
	if (rc == RD_OK && deadline_still_due(d, &expect))
		rc = rd_store_deadline_set(svc->store, dl->dispute_id, 0, NULL,
					   NULL, err);
	rd_dispute_free(d);
	if (rc == RD_OK)
		return rd_store_commit(svc->store, err);
	rd_store_rollback(svc->store);
	return rc;
}

int rd_service_sweep(rd_service *svc, int64_t now, size_t *fired,
		     rd_error *err)
{
	rd_actor system;
	rd_deadline due[SWEEP_BATCH];
	size_t count, total = 0, progress;
	int rc;

	memset(&system, 0, sizeof(system));
	system.role = RD_ROLE_SYSTEM;
	snprintf(system.name, sizeof(system.name), "sla");
	if (fired)
		*fired = 0;
	/*
	 * Each round either fires a deadline (the new state's deadline, if
	 * any, lies after `now`) or drops it, so the rounds end.
	 */
	do {
		progress = 0;
		if ((rc = rd_store_deadlines_due(svc->store, now, due,
						 SWEEP_BATCH, &count, err)) < 0)
			return rc;
		for (size_t i = 0; i < count; i++) {
			char due_text[RD_TIME_BUFSZ], note[160];
			expected_deadline expect = { due[i].due_at,
						     due[i].event,
						     due[i].state };
			rd_event_request req;
			rd_error fire_err;
			int one = 0;

			rd_time_format(due_text, due[i].due_at);
			snprintf(note, sizeof(note),
				 "SLA deadline of state %s passed (due %s)",
				 due[i].state, due_text);
			memset(&req, 0, sizeof(req));
			req.event = due[i].event;
			req.note = note;
			rc = event_apply(svc, due[i].dispute_id, &req, &system,
					 now, &expect, &one, NULL, &fire_err);
			if (rc == RD_EBUSY || rc == RD_EIO || rc == RD_ENOMEM) {
				*err = fire_err;
				return rc;
			}
			if (rc < 0) {
				if ((rc = drop_deadline(svc, &due[i], err)) < 0)
					return rc;
				progress++;
			}
			total += (size_t)one;
			progress += (size_t)one;
		}
	} while (count == SWEEP_BATCH && progress > 0);
	if (fired)
		*fired = total;
	return RD_OK;
}
