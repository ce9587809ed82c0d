/*
 * The routes of the conversation with the buyer: a dispute's messages,
 * the preview of a text from a template, and the templates themselves.
 * Who may post or read what is the service's to decide (messages.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "redress/json.h"

static const char *const page_params[] = { "after", "limit" };

static int parse_after(int64_t *out, const char *value, rd_error *err)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = (value[0] >= '0' && value[0] <= '9') ? strtoll(value, &end, 10)
						 : -1;
	if (v < 0 || errno != 0 || !end || *end != '\0')
		return rd_error_set_field(err, RD_EINVALID, "after",
					  "query parameter after must be a "
					  "message number (0 or more), the "
					  "next_after of the previous page");
	*out = (int64_t)v;
	return RD_OK;
}

int http_get_messages(http_call *call, rd_error *err)
{
	int seen[2] = { 0, 0 };
	int64_t after = 0;
	size_t limit = 0;
	int rc;

	if ((rc = http_query_usable(call, err)) < 0)
		return rc;
	for (size_t i = 0; i < call->query_count; i++) {
		int k = http_query_param(call, i, page_params, 2, seen,
					 "the messages take after and limit",
					 err);

		if (k < 0)
			return k;
		rc = k == 0 ? parse_after(&after, call->query[i].value, err)
			    : http_parse_limit(&limit, call->query[i].value,
					       err);
		if (rc < 0)
			return rc;
	}
	return rd_service_messages_list(call->svc, call->params[0],
					&call->actor, after, limit,
					&call->reply, err);
}

int http_post_message(http_call *call, rd_error *err)
{
	json_t *doc = NULL;
	int rc;

	if ((rc = http_parse_body(&doc, call, err)) < 0)
		return rc;
	rc = rd_service_message_post(call->svc, call->params[0], doc,
				     &call->actor, call->now, &call->reply,
				     err);
	json_decref(doc);
	if (rc < 0)
		return rc;
	call->status = 201;
	snprintf(call->location, sizeof(call->location),
		 "/v1/disputes/%.*s/messages", HTTP_PARAM_MAX,
		 call->params[0]);
	return RD_OK;
}

int http_post_message_preview(http_call *call, rd_error *err)
{
	json_t *doc = NULL;
	int rc;

	if ((rc = http_parse_body(&doc, call, err)) < 0)
		return rc;
	rc = rd_service_message_preview(call->svc, call->params[0], doc,
					&call->actor, call->now, &call->reply,
					err);
	json_decref(doc);
	return rc;
}

int http_get_templates(http_call *call, rd_error *err)
{
	int rc;

	if ((rc = http_no_query(call, err)) < 0)
		return rc;
	return rd_service_templates(call->svc, &call->reply, err);
}
