/*
 * Ownership: the built-in events assign and unassign, which every workflow
 * has on every open state, and the rule of exclusive assignment.
 *
 * An agent is known by its key's name (unique per role among live keys
 * from schema 21). Assigning is a change of the dispute like any other (an
 * event row, a commit, a version) that leaves its state and its deadline
 * as they are. When the dispute's workflow makes assignment exclusive (its
 * default), an agent other than the assignee may not write to an assigned
 * dispute: only its assignee hands it over; admins, storefronts and redress
 * itself are never held back. Assignment is the seller's own staffing, so
 * it sends no webhook: storefronts are not told who works on a dispute.
 */
#include "service_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redress/json.h"

int svc_is_assign_event(const char *event)
{
	return event && (strcmp(event, RD_EVENT_ASSIGN) == 0 ||
			 strcmp(event, RD_EVENT_UNASSIGN) == 0);
}

int svc_owner_check(const rd_workflow *wf, const rd_actor *actor,
		    const rd_dispute *d, rd_error *err)
{
	int rc;

	if (actor->role != RD_ROLE_AGENT || !d->assignee || !*d->assignee ||
	    strcmp(d->assignee, actor->name) == 0 ||
	    !rd_workflow_assign_exclusive(wf))
		return RD_OK;
	rc = rd_error_set(err, RD_ECONFLICT,
			  "dispute %s is assigned to %.64s; ask %.64s or an "
			  "admin to reassign it", d->id, d->assignee,
			  d->assignee);
	if (err)
		snprintf(err->assignee, sizeof(err->assignee), "%s",
			 d->assignee);
	return rc;
}

int svc_owner_check_dispute(rd_service *svc, const rd_actor *actor,
			    const rd_dispute *d, rd_error *err)
{
	const rd_workflow *wf = NULL;
	int rc;

	if (actor->role != RD_ROLE_AGENT || !d->assignee)
		return RD_OK;
	if ((rc = svc_pinned_workflow(&wf, svc, d, err)) < 0)
		return rc;
	return svc_owner_check(wf, actor, d, err);
}

/* The assignee an assign event names, checked. */
static int assign_target(const char **out, rd_service *svc,
			 const rd_event_request *req, const rd_actor *actor,
			 rd_error *err)
{
	const char *name = NULL;
	int found = 0;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < req->field_count; i++) {
		if (strcmp(req->fields[i].name, "assignee") != 0)
			return rd_error_set_field(err, RD_EINVALID,
				req->fields[i].name,
				"event assign takes one field, assignee (an "
				"agent key's name), not %s",
				req->fields[i].name);
		name = req->fields[i].value;
	}
	if (!name || !*name)
		return rd_error_set_field(err, RD_EINVALID, "assignee",
					  "event assign needs field assignee: "
					  "the name of an agent key (`redress "
					  "agents` lists them)");
	/*
	 * Whoever takes a dispute itself is its own assignee: over the API
	 * its name is its live key's (an admin's too); on the command line,
	 * the --as it acts as.
	 */
	if (strcmp(name, actor->name) == 0)
		goto ok;
	if ((rc = rd_store_key_name_live(svc->store, RD_ROLE_AGENT, name,
					 NULL, &found, err)) < 0)
		return rc;
	if (!found)
		return rd_error_set_field(err, RD_EINVALID, "assignee",
					  "no live agent key is named %.64s: "
					  "assign a dispute to an agent key's "
					  "name (`redress agents` lists them)",
					  name);
ok:
	*out = name;
	return RD_OK;
}

int svc_assign_event(rd_service *svc, const rd_workflow *wf, rd_dispute *d,
		     const char *head, const rd_event_request *req,
		     const rd_actor *actor, int64_t now, rd_error *err)
{
	int assign = strcmp(req->event, RD_EVENT_ASSIGN) == 0;
	tree_change change = { 0 };
	const char *name = NULL;
	char summary[200];
	char *fields = NULL;
	json_t *doc = NULL;
	int rc;

	if (actor->role != RD_ROLE_AGENT && actor->role != RD_ROLE_ADMIN)
		return rd_error_set_guard(err, RD_EFORBIDDEN, "role",
					  "role %s may not %s a dispute: "
					  "agents and admins do",
					  rd_role_name(actor->role),
					  req->event);
	if (rd_workflow_is_terminal(wf, d->state))
		return rd_error_set_guard(err, RD_ESTATE, "state",
					  "dispute %s is %s: an ended dispute "
					  "is no longer worked on, so it is "
					  "not %sed", d->id, d->state,
					  req->event);
	if (assign) {
		if ((rc = assign_target(&name, svc, req, actor, err)) < 0)
			return rc;
		if (d->assignee && strcmp(d->assignee, name) == 0)
			return rd_error_set_field(err, RD_ECONFLICT,
						  "assignee",
						  "dispute %s is already "
						  "assigned to %.64s",
						  d->id, name);
	} else {
		if (req->field_count)
			return rd_error_set_field(err, RD_EINVALID,
						  req->fields[0].name,
						  "event unassign takes no "
						  "fields");
		if (!d->assignee)
			return rd_error_set_guard(err, RD_ESTATE, "assignee",
						  "dispute %s is not assigned",
						  d->id);
	}
	doc = assign ? json_pack("{s:s, s:s*}", "assignee", name, "previous",
				 d->assignee)
		     : json_pack("{s:s}", "previous", d->assignee);
	if (!doc || !(fields = rd_json_dumps(doc, JSON_COMPACT |
						  JSON_SORT_KEYS))) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if (assign)
		snprintf(summary, sizeof(summary), "assigned to %.64s", name);
	else
		snprintf(summary, sizeof(summary), "unassigned from %.64s",
			 d->assignee);
	if ((rc = svc_set_string(&d->assignee, name, err)) < 0)
		goto done;
	rc = svc_record_event(svc, d, d->version, head, &change, actor, now,
			      req->event, d->state, fields, req->note,
			      summary, err);
done:
	svc_change_free(&change);
	json_decref(doc);
	free(fields);
	return rc;
}

json_t *rd_agents_to_json(const rd_agent_load *agents, size_t count)
{
	json_t *items = json_array();

	for (size_t i = 0; items && i < count; i++)
		if (json_array_append_new(items, json_pack(
			    "{s:s, s:I, s:I, s:I}", "name", agents[i].name,
			    "open", (json_int_t)agents[i].open, "overdue",
			    (json_int_t)agents[i].overdue, "awaiting_reply",
			    (json_int_t)agents[i].awaiting_reply)) != 0) {
			json_decref(items);
			return NULL;
		}
	return items;
}
