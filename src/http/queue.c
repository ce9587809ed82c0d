/*
 * The routes of ownership: claiming the most urgent unassigned dispute
 * (POST /v1/queue/claim, a write, run by the writer) and the agents with
 * their load (GET /v1/agents). What a claim takes and who may is the
 * service's to decide (rd_service_claim).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/http_int.h"
#include "redress/json.h"

int http_post_claim(http_call *call, rd_error *err)
{
	rd_dispute *d = NULL;
	json_t *doc = NULL;
	int rc;

	if ((rc = http_no_query(call, err)) < 0)
		return rc;
	if (call->body_len > 0) {
		if ((rc = http_parse_body(&doc, call, err)) < 0)
			return rc;
		if (!json_is_object(doc) || json_object_size(doc) != 0)
			rc = rd_error_set(err, RD_EINVALID, "a claim takes no "
					  "body (or {})");
		json_decref(doc);
		if (rc < 0)
			return rc;
	}
	if ((rc = rd_service_claim(call->svc, &call->actor, call->now, &d,
				   err)) < 0)
		return rc;
	if (!d) {
		call->status = 204;
		return RD_OK;
	}
	call->reply = rd_dispute_to_json(d);
	if (!call->reply)
		rc = rd_error_set(err, RD_ENOMEM, "out of memory writing "
				  "dispute %s", d->id);
	else
		snprintf(call->etag, sizeof(call->etag), "\"%" PRId64 "\"",
			 d->version);
	rd_dispute_free(d);
	return rc;
}

int http_get_agents(http_call *call, rd_error *err)
{
	rd_agent_load *agents = NULL;
	size_t count = 0;
	json_t *items = NULL;
	int rc;

	if ((rc = http_no_query(call, err)) < 0 ||
	    (rc = rd_service_agents(call->svc, call->now, &agents, &count,
				    err)) < 0)
		return rc;
	if ((items = rd_agents_to_json(agents, count)) == NULL)
		goto nomem;
	call->reply = json_pack("{s:o}", "items", items);
	items = NULL;
	if (!call->reply)
		goto nomem;
	free(agents);
	return RD_OK;
nomem:
	json_decref(items);
	free(agents);
	return rd_error_set(err, RD_ENOMEM, "out of memory listing agents");
}
