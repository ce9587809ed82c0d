/*
 * What the web console asks of the service beyond the core actions: the
 * events a role may apply next (judged by the workflow engine, never
 * re-decided here), the overview built from the store's running totals,
 * and the loaded evidence kinds. It changes nothing, and it never counts
 * disputes one by one: the overview reads totals the store keeps.
 */
#include "service_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const rd_evidence_kinds *rd_service_kinds(const rd_service *svc)
{
	return svc->kinds;
}

/* ---- the events a role may apply next ----------------------------------- */

#define MAX_OPTIONS 64

/*
 * The built-in events of ownership (assign.c applies them): not in any
 * workflow's transitions, but on every open state for agents and admins,
 * so they are listed after the workflow's own, with what they ask for.
 */
static const char *const assign_fields[] = { "assignee" };

static const rd_transition_info assign_info = {
	RD_EVENT_ASSIGN,
	"Give the dispute to an agent: assignee is an agent key's name "
	"(GET /v1/agents lists them; your own key's name takes it). The "
	"state and the SLA deadline stay as they are.",
	assign_fields, 1, NULL, 0, 0, 0, RD_ACTION_NONE
};

static const rd_transition_info unassign_info = {
	RD_EVENT_UNASSIGN,
	"Put the dispute back in the queue, assigned to nobody. The state "
	"and the SLA deadline stay as they are.",
	NULL, 0, NULL, 0, 0, 0, RD_ACTION_NONE
};

/*
 * Append assign, and unassign when the dispute has an assignee, for the
 * roles that may send them on an open dispute. Like the workflow's events
 * they are listed by role: an agent other than the assignee of an
 * exclusively assigned dispute sees them too and is answered 409 when it
 * sends one, as it would be for any other event.
 */
static void add_ownership(rd_event_options *out, const rd_workflow *wf,
			  const rd_dispute *d, rd_role role)
{
	if ((role != RD_ROLE_AGENT && role != RD_ROLE_ADMIN) ||
	    rd_workflow_is_terminal(wf, d->state))
		return;
	out->options[out->count].info = assign_info;
	out->options[out->count++].ready = 1;
	if (d->assignee && *d->assignee) {
		out->options[out->count].info = unassign_info;
		out->options[out->count++].ready = 1;
	}
}

/*
 * Ask the engine about one event with every required field filled, so
 * that only the guards on evidence and offers can refuse it.
 */
static int judge(rd_event_option *opt, const rd_workflow *wf,
		 const char *state, rd_role role, const rd_guard_ctx *ctx,
		 int64_t now, rd_error *err)
{
	rd_field fields[RD_EVENT_MAX_FIELDS];
	size_t n = opt->info.field_count;
	rd_decision dec;
	rd_error refusal;
	int rc;

	if (n > RD_EVENT_MAX_FIELDS)
		n = RD_EVENT_MAX_FIELDS;
	for (size_t i = 0; i < n; i++) {
		fields[i].name = opt->info.fields[i];
		fields[i].value = "-";
	}
	rd_error_clear(&refusal);
	rc = rd_workflow_decide(&dec, wf, state, opt->info.event, role,
				fields, n, ctx, now, &refusal);
	if (rc == RD_OK) {
		opt->ready = 1;
		return RD_OK;
	}
	if (rc != RD_EGUARD)
		return rd_error_set(err, rc, "%s", refusal.message);
	opt->ready = 0;
	snprintf(opt->blocked_guard, sizeof(opt->blocked_guard), "%.15s",
		 refusal.guard);
	snprintf(opt->blocked_reason, sizeof(opt->blocked_reason), "%.255s",
		 refusal.message);
	return RD_OK;
}

int rd_service_event_options(rd_service *svc, const char *id, rd_role role,
			     int64_t now, rd_event_options *out,
			     rd_error *err)
{
	const char *names[MAX_OPTIONS];
	const rd_workflow *wf = NULL;
	rd_dispute *d = NULL;
	char **kinds = NULL;
	size_t kind_count = 0, evidence_total = 0, n;
	rd_guard_ctx ctx;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = rd_service_dispute_get(svc, id, &d, err)) < 0 ||
	    (rc = svc_pinned_workflow(&wf, svc, d, err)) < 0 ||
	    (rc = rd_store_evidence_kinds(svc->store, d->id, &kinds,
					  &kind_count, &evidence_total,
					  err)) < 0 ||
	    (rc = rd_store_offer_pending(svc->store, d->id, &out->pending,
					 &out->has_pending, err)) < 0)
		goto done;
	snprintf(out->dispute_id, sizeof(out->dispute_id), "%s", d->id);
	snprintf(out->state, sizeof(out->state), "%s", d->state);
	snprintf(out->currency, sizeof(out->currency), "%s", d->currency);
	out->version = d->version;

	memset(&ctx, 0, sizeof(ctx));
	ctx.evidence_kinds = (const char *const *)kinds;
	ctx.evidence_kind_count = kind_count;
	ctx.evidence_count = evidence_total;
	ctx.offer_pending = out->has_pending;
	ctx.has_offer_type = out->has_pending;
	ctx.offer_type = out->pending.type;

	n = rd_workflow_events_from(wf, d->state, role, names, MAX_OPTIONS);
	if (n > MAX_OPTIONS)
		n = MAX_OPTIONS;
	/* room for the workflow's events and the two of ownership */
	if (!(out->options = calloc(n + 2, sizeof(*out->options)))) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		rd_event_option *opt = &out->options[out->count];

		if (!rd_workflow_transition(wf, d->state, names[i],
					    &opt->info))
			continue;
		if ((rc = judge(opt, wf, d->state, role, &ctx, now, err)) < 0)
			goto done;
		out->count++;
	}
	add_ownership(out, wf, d, role);
	if (!out->count) {
		free(out->options);
		out->options = NULL;
	}
	rc = RD_OK;
done:
	if (rc < 0)
		rd_event_options_clear(out);
	rd_strings_free(kinds, kind_count);
	rd_dispute_free(d);
	return rc;
}

void rd_event_options_clear(rd_event_options *options)
{
	if (!options)
		return;
	free(options->options);
	memset(options, 0, sizeof(*options));
}

/* ---- the overview ------------------------------------------------------- */

static const int64_t bucket_bounds[RD_OVERVIEW_BUCKET_COUNT] =
	RD_OVERVIEW_BUCKET_BOUNDS;

/* The bucket index of a resolved_within name: 0.., COUNT for "inf". */
static int bucket_of(const char *name, size_t *out)
{
	char *end = NULL;
	long long v;

	if (strcmp(name, "inf") == 0) {
		*out = RD_OVERVIEW_BUCKET_COUNT;
		return 1;
	}
	v = strtoll(name, &end, 10);
	if (!end || *end != '\0')
		return 0;
	for (size_t i = 0; i < RD_OVERVIEW_BUCKET_COUNT; i++)
		if (bucket_bounds[i] == v) {
			*out = i;
			return 1;
		}
	return 0;
}

/* The resolved disputes per bucket, the last one unbounded. */
static void buckets_of(const rd_store_overview *totals,
		       int64_t counts[RD_OVERVIEW_BUCKET_COUNT + 1])
{
	memset(counts, 0, (RD_OVERVIEW_BUCKET_COUNT + 1) * sizeof(*counts));
	for (size_t i = 0; i < totals->count; i++) {
		const rd_overview_count *c = &totals->counts[i];
		size_t b;

		if (c->what == RD_OVERVIEW_RESOLVED_WITHIN &&
		    bucket_of(c->name, &b))
			counts[b] += c->value;
	}
}

int rd_service_overview(rd_service *svc, const char *storefront,
			rd_overview *out, rd_error *err)
{
	int64_t counts[RD_OVERVIEW_BUCKET_COUNT + 1];
	int64_t before = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->median_s = -1;
	out->median_from_s = -1;
	out->median_to_s = -1;
	if ((rc = rd_store_overview_read(svc->store, storefront, &out->totals,
					 err)) < 0)
		return rc;
	for (size_t i = 0; i < out->totals.count; i++) {
		const rd_overview_count *c = &out->totals.counts[i];

		if (c->what == RD_OVERVIEW_STATE)
			out->disputes += c->value;
		else if (c->what == RD_OVERVIEW_SLA_BREACHES)
			out->sla_breaches += c->value;
	}
	buckets_of(&out->totals, counts);
	for (size_t b = 0; b <= RD_OVERVIEW_BUCKET_COUNT; b++)
		out->resolved += counts[b];
	if (out->resolved == 0)
		return RD_OK;
	/*
	 * The median is the value at rank resolved/2: find its bucket, then
	 * place it linearly between the bucket's bounds by how far into the
	 * bucket that rank is (2 * rank = resolved, kept in integers).
	 */
	for (size_t b = 0; b <= RD_OVERVIEW_BUCKET_COUNT; b++) {
		int64_t lower = b ? bucket_bounds[b - 1] : 0;

		if (2 * (before + counts[b]) < out->resolved) {
			before += counts[b];
			continue;
		}
		out->median_from_s = lower;
		if (b == RD_OVERVIEW_BUCKET_COUNT) {
			out->median_s = lower;
			out->median_to_s = -1;
		} else {
			int64_t upper = bucket_bounds[b];

			out->median_to_s = upper;
			out->median_s = lower + (upper - lower) *
				(out->resolved - 2 * before) /
				(2 * counts[b]);
		}
		break;
	}
	return RD_OK;
}

void rd_overview_clear(rd_overview *overview)
{
	if (!overview)
		return;
	rd_store_overview_clear(&overview->totals);
	memset(overview, 0, sizeof(*overview));
}

static int put_count(json_t *obj, const char *name, int64_t value)
{
	return json_object_set_new(obj, name, json_integer(value));
}

json_t *rd_overview_to_json(const rd_overview *ov, const char *storefront)
{
	int64_t counts[RD_OVERVIEW_BUCKET_COUNT + 1];
	json_t *doc = NULL, *by_state = json_object(),
	       *by_reason = json_object(), *made = json_object(),
	       *accepted = json_object(), *buckets = json_array(),
	       *median_bucket = NULL;

	if (!by_state || !by_reason || !made || !accepted || !buckets)
		goto fail;
	for (size_t i = 0; i < ov->totals.count; i++) {
		const rd_overview_count *c = &ov->totals.counts[i];
		json_t *into = NULL;

		switch (c->what) {
		case RD_OVERVIEW_STATE:
			into = by_state;
			break;
		case RD_OVERVIEW_REASON:
			into = by_reason;
			break;
		case RD_OVERVIEW_OFFER_MADE:
			into = made;
			break;
		case RD_OVERVIEW_OFFER_ACCEPTED:
			into = accepted;
			break;
		case RD_OVERVIEW_RESOLVED_WITHIN:
		case RD_OVERVIEW_SLA_BREACHES:
		case RD_OVERVIEW_WHAT_COUNT:
			break;
		}
		if (into && put_count(into, c->name, c->value) != 0)
			goto fail;
	}
	buckets_of(&ov->totals, counts);
	for (size_t b = 0; b <= RD_OVERVIEW_BUCKET_COUNT; b++)
		if (json_array_append_new(buckets, json_pack("{s:o, s:I}",
				"le_s", b < RD_OVERVIEW_BUCKET_COUNT
					? json_integer(bucket_bounds[b])
					: json_null(),
				"disputes", (json_int_t)counts[b])) != 0)
			goto fail;
	if (ov->median_s >= 0 &&
	    !(median_bucket = json_pack("{s:I, s:o}", "from_s",
				(json_int_t)ov->median_from_s, "to_s",
				ov->median_to_s >= 0
					? json_integer(ov->median_to_s)
					: json_null())))
		goto fail;
	doc = json_pack("{s:o, s:{s:I, s:o, s:o}, s:{s:o, s:o},"
			" s:{s:I, s:o, s:o, s:o}, s:I}",
			"storefront",
			storefront ? json_string(storefront) : json_null(),
			"disputes", "total", (json_int_t)ov->disputes,
			"by_state", by_state, "by_reason", by_reason,
			"offers", "made", made, "accepted", accepted,
			"resolution", "resolved", (json_int_t)ov->resolved,
			"median_s", ov->median_s >= 0
				? json_integer(ov->median_s) : json_null(),
			"median_bucket",
			median_bucket ? median_bucket : json_null(),
			"buckets", buckets,
			"sla_breaches", (json_int_t)ov->sla_breaches);
	return doc;
fail:
	json_decref(by_state);
	json_decref(by_reason);
	json_decref(made);
	json_decref(accepted);
	json_decref(buckets);
	json_decref(median_bucket);
	return NULL;
}
