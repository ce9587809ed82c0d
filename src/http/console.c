/*
 * The routes the web console needs besides the core API, each one service
 * call turned into JSON like the handlers of routes.c: who the key is, the
 * evidence kinds, the overview, the events the key's role may apply next,
 * and the auditor's export. They read only; a storefront key sees its own
 * storefront only, and a dispute of another storefront answers as a
 * missing one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/http_int.h"

static int nomem(rd_error *err, const char *what)
{
	return rd_error_set(err, RD_ENOMEM, "out of memory writing %s", what);
}

/* Refuse every query parameter but the ones named (none when NULL). */
static int only_params(const http_call *call, const char *allowed,
		       const char *route, rd_error *err)
{
	int rc;

	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		const char *name = call->query[i].name;

		if (allowed && strcmp(name, allowed) == 0)
			continue;
		return rd_error_set_field(err, RD_EINVALID, name,
					  "unknown query parameter \"%.64s\" "
					  "(%s takes %s)", name, route,
					  allowed ? allowed : "none");
	}
	return RD_OK;
}

/* ---- GET /v1/me ---------------------------------------------------------- */

int http_get_me(http_call *call, rd_error *err)
{
	int rc;

	if ((rc = only_params(call, NULL, "/v1/me", err)) < 0)
		return rc;
	call->reply = json_pack("{s:s, s:s, s:s, s:o}",
				"key_id", call->actor.key_id,
				"name", call->actor.name,
				"role", rd_role_name(call->actor.role),
				"storefront", call->storefront[0]
					? json_string(call->storefront)
					: json_null());
	return call->reply ? RD_OK : nomem(err, "the key");
}

/* ---- GET /v1/evidence-kinds ---------------------------------------------- */

static json_t *kind_to_json(const rd_evidence_kind *kind)
{
	json_t *types = json_array(), *requires = json_array();

	if (!types || !requires)
		goto fail;
	for (size_t i = 0; i < kind->content_type_count; i++)
		if (json_array_append_new(types,
				json_string(kind->content_types[i])))
			goto fail;
	if ((kind->requires_captured_at &&
	     json_array_append_new(requires, json_string("captured_at"))) ||
	    (kind->requires_channel &&
	     json_array_append_new(requires, json_string("channel"))) ||
	    (kind->requires_note &&
	     json_array_append_new(requires, json_string("note"))))
		goto fail;
	return json_pack("{s:s, s:o, s:I, s:o}", "name", kind->name,
			 "content_types", types,
			 "max_size", (json_int_t)kind->max_size,
			 "requires", requires);
fail:
	json_decref(types);
	json_decref(requires);
	return NULL;
}

int http_get_evidence_kinds(http_call *call, rd_error *err)
{
	const rd_evidence_kinds *kinds = rd_service_kinds(call->svc);
	json_t *list = json_array();
	int rc;

	if ((rc = only_params(call, NULL, "/v1/evidence-kinds", err)) < 0)
		goto done;
	if (!list)
		goto fail;
	for (size_t i = 0; i < rd_evidence_kind_count(); i++) {
		const rd_evidence_kind *kind =
			rd_evidence_kinds_find(kinds, rd_evidence_kind_at(i));

		if (kind && json_array_append_new(list, kind_to_json(kind)))
			goto fail;
	}
	call->reply = json_pack("{s:o}", "kinds", list);
	list = NULL;
	if (!call->reply)
		goto fail;
	rc = RD_OK;
	goto done;
fail:
	rc = nomem(err, "the evidence kinds");
done:
	json_decref(list);
	return rc;
}

/* ---- GET /v1/overview ---------------------------------------------------- */

int http_get_overview(http_call *call, rd_error *err)
{
	const char *storefront = NULL;
	rd_overview ov;
	int rc;

	memset(&ov, 0, sizeof(ov));
	if ((rc = only_params(call, "storefront", "/v1/overview", err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		const char *value = call->query[i].value;
		size_t len = strlen(value);

		if (storefront)
			return rd_error_set_field(err, RD_EINVALID,
				"storefront", "query parameter storefront is "
				"given more than once");
		if (len == 0 || len > 128)
			return rd_error_set_field(err, RD_EINVALID,
				"storefront", "query parameter storefront "
				"must be 1 to 128 characters");
		storefront = value;
	}
	if (call->storefront[0]) {
		if (storefront && strcmp(storefront, call->storefront) != 0)
			return rd_error_set_field(err, RD_EFORBIDDEN,
				"storefront", "this key may only see the "
				"overview of storefront %s", call->storefront);
		storefront = call->storefront;
	}
	if ((rc = rd_service_overview(call->svc, storefront, &ov, err)) < 0)
		return rc;
	if (!(call->reply = rd_overview_to_json(&ov, storefront)))
		rc = nomem(err, "the overview");
	rd_overview_clear(&ov);
	return rc;
}

/* ---- GET /v1/disputes/{id}/actions --------------------------------------- */

static json_t *strings_json(const char *const *list, size_t count)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < count; i++)
		if (json_array_append_new(arr, json_string(list[i]))) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *option_to_json(const rd_event_option *opt)
{
	const rd_transition_info *t = &opt->info;
	json_t *blocked = json_null();

	if (!opt->ready)
		blocked = json_pack("{s:s, s:s}", "guard", opt->blocked_guard,
				    "detail", opt->blocked_reason);
	return json_pack("{s:s, s:o, s:o, s:o, s:b, s:b, s:b, s:o}",
			 "event", t->event,
			 "description", t->description
				? json_string(t->description) : json_null(),
			 "fields", strings_json(t->fields, t->field_count),
			 "evidence_kinds", strings_json(t->evidence_kinds,
						t->evidence_kind_count),
			 "evidence_any", t->evidence_any,
			 "requires_offer", t->requires_offer,
			 "ready", opt->ready,
			 "blocked", blocked);
}

int http_get_actions(http_call *call, rd_error *err)
{
	rd_event_options opts;
	rd_dispute *d = NULL;
	json_t *events = NULL;
	int rc;

	memset(&opts, 0, sizeof(opts));
	if ((rc = only_params(call, NULL, "/v1/disputes/{id}/actions",
			      err)) < 0 ||
	    (rc = http_visible_dispute(call, call->params[0], &d, err)) < 0 ||
	    (rc = rd_service_event_options(call->svc, d->id, call->actor.role,
					   call->now, &opts, err)) < 0)
		goto done;
	if (!(events = json_array()))
		goto fail;
	for (size_t i = 0; i < opts.count; i++)
		if (json_array_append_new(events,
					  option_to_json(&opts.options[i])))
			goto fail;
	call->reply = json_pack("{s:s, s:s, s:I, s:s, s:o, s:o}",
				"dispute", opts.dispute_id,
				"state", opts.state,
				"version", (json_int_t)opts.version,
				"role", rd_role_name(call->actor.role),
				"pending_offer", opts.has_pending
					? rd_offer_record_to_json(&opts.pending,
								  opts.currency)
					: json_null(),
				"events", events);
	events = NULL;
	if (!call->reply)
		goto fail;
	snprintf(call->etag, sizeof(call->etag), "\"%" PRId64 "\"",
		 opts.version);
	rc = RD_OK;
	goto done;
fail:
	rc = nomem(err, "the next events");
done:
	json_decref(events);
	rd_event_options_clear(&opts);
	rd_dispute_free(d);
	return rc;
}

/* ---- GET /v1/disputes/{id}/export ---------------------------------------- */

/*
 * The archive streams to the client as it is built (slow work: see
 * slow.c), through a bounded buffer: no temporary file, nothing whole in
 * memory. The headers go with its first bytes, so a failure before them
 * is still a problem document; a failure after them cuts the connection
 * (the chunked body then has no end, which no client takes for whole).
 */
typedef struct export_out {
	http_call *call;
	int begun;
	rd_error err;                 /* why the body stopped */
} export_out;

static int export_sink(void *ctx, const void *buf, size_t len)
{
	export_out *out = ctx;

	if (!out->begun) {
		out->begun = 1;
		if (http_body_begin(out->call, &out->err) < 0)
			return -1;
	}
	return http_body_write(out->call, buf, len, &out->err) < 0 ? -1 : 0;
}

int http_get_export(http_call *call, rd_error *err)
{
	rd_dispute *d = NULL;
	export_out out;
	int rc;

	memset(&out, 0, sizeof(out));
	out.call = call;
	rd_error_clear(&out.err);
	if ((rc = only_params(call, NULL, "/v1/disputes/{id}/export",
			      err)) < 0 ||
	    (rc = http_visible_dispute(call, call->params[0], &d, err)) < 0)
		goto done;
	snprintf(call->content_type, sizeof(call->content_type),
		 "application/gzip");
	snprintf(call->disposition, sizeof(call->disposition),
		 "attachment; filename=\"dispute-%s.tar.gz\"", d->id);
	call->file_size = 0;          /* unknown until built: chunked */
	rc = rd_service_audit_export_stream(call->svc, d->id, &call->actor,
					    export_sink, &out, err);
	if (rc < 0 && out.err.code)
		*err = out.err;
done:
	rd_dispute_free(d);
	return rc;
}
