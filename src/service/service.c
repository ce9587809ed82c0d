/*
 * The service: each user action as one store transaction in which the
 * workflow engine decides and the record and its index are written
 * together.
 *
 * This is the only place that combines the modules. It must never speak SQL
 * (the store does), call libgit2 (the evidence module does), nor judge a
 * transition itself (the workflow does): it gathers what the guards need,
 * asks, and records the answer. Anything that fails before the commit leaves
 * the record and the index exactly as they were.
 */
#include "service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/file.h"
#include "redress/json.h"

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
				    "no data directory at %s: point at an "
				    "existing one with --data DIR or "
				    "REDRESS_DATA, or create a new one there "
				    "with `redress init`",
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

/* Policies are small; a bigger file is a mistake. */
#define POLICY_FILE_MAX (256 * 1024)

static int load_policy(rd_service *svc, const char *path, rd_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = rd_file_read(&text, &len, path, POLICY_FILE_MAX,
			       RD_EDEFINITION, err)) < 0)
		return rc;
	rc = rd_policy_parse(&svc->policy, text, len, path, err);
	free(text);
	return rc;
}

static char *join_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);

	if (path)
		snprintf(path, len, "%s/%s", dir, name);
	return path;
}

/*
 * A temporary nobody has written to for this long is a dead writer's even
 * while others have the directory open: the server cuts a stalled upload
 * within its connection timeout, and a command reads a file that is there.
 */
#define LEFTOVER_AGE_SECONDS (24 * 3600)

/*
 * Register as a process that has the directory open. When evidence files
 * being written lie in the blobs directory, or libgit2's temporaries in the
 * mirror (a mirror writer killed while writing a pack), and nobody else has
 * the directory open, they are what a killed writer left: remove them then;
 * beside others, only those unwritten for LEFTOVER_AGE_SECONDS.
 */
static int enter_registry(rd_service *svc, const char *blobs_path,
			  const char *mirror_path, rd_error *err)
{
	size_t in_blobs = 0, in_mirror = 0;
	int64_t before;
	int alone = 0, rc;

	if ((rc = svc_registry_enter(svc, err)) < 0 ||
	    (blobs_path && (rc = rd_evidence_leftovers_find(blobs_path,
							    &in_blobs,
							    err)) < 0) ||
	    (rc = rd_evidence_leftovers_find(mirror_path, &in_mirror,
					     err)) < 0 ||
	    in_blobs + in_mirror == 0 ||
	    (rc = svc_registry_try_alone(svc, &alone, err)) < 0)
		return rc;
	before = alone ? 0 : (int64_t)time(NULL) - LEFTOVER_AGE_SECONDS;
	if ((in_blobs && rd_evidence_leftovers_remove(blobs_path, before,
						      NULL, NULL, err) < 0) ||
	    (in_mirror && rd_evidence_leftovers_remove(mirror_path, before,
						       NULL, NULL, err) < 0))
		return rd_error_prefix(err, "removing what a crash left");
	return alone ? svc_registry_share(svc, err) : RD_OK;
}

/* The record's objects, as the evidence module reads and writes them. */
static int record_get(void *ctx, const unsigned char id[20], int *found,
		      int *type, int64_t *size, int *in_file, void **data,
		      rd_error *err)
{
	return rd_store_object_get(((rd_service *)ctx)->store, id, found, type,
				   size, in_file, data, err);
}

static int record_get_many(void *ctx, const unsigned char *ids, size_t count,
			   int (*fn)(void *fn_ctx, const unsigned char id[20],
				     int type, int64_t size, int in_file,
				     const void *data),
			   void *fn_ctx, rd_error *err)
{
	return rd_store_objects_get(((rd_service *)ctx)->store, ids, count,
				    fn, fn_ctx, err);
}

static int record_put(void *ctx, const unsigned char id[20], int type,
		      int64_t size, const void *data, rd_error *err)
{
	return rd_store_object_put(((rd_service *)ctx)->store, id, type, size,
				   data, err);
}

/*
 * Business hours and buyer texts: the calendars file given, else the
 * workflow directory's calendars.json when there is one; the templates
 * directory when given. Each is validated whole, or the service does not
 * open.
 */
static int load_locale(rd_service *svc, const rd_service_options *opts,
		       rd_error *err)
{
	char *path = NULL;
	int rc = RD_OK;

	if (opts->calendars_path && *opts->calendars_path) {
		rc = rd_calendars_load(&svc->calendars, opts->calendars_path,
				       err);
	} else {
		if ((path = join_path(opts->workflows_dir,
				      "calendars.json")) == NULL)
			return rd_error_set(err, RD_ENOMEM, "out of memory");
		if (access(path, F_OK) == 0)
			rc = rd_calendars_load(&svc->calendars, path, err);
		free(path);
	}
	if (rc < 0)
		return rc;
	if (opts->templates_dir && *opts->templates_dir)
		rc = rd_templates_load(&svc->templates, opts->templates_dir,
				       err);
	return rc;
}

int rd_service_open(rd_service **out, const rd_service_options *opts,
		    rd_error *err)
{
	rd_service *svc = NULL;
	char *blobs_path = NULL, *mirror_path = NULL;
	const char *hold;
	rd_object_io io;
	rd_file_io files;
	int in_db, rc;

	*out = NULL;
	rd_json_init();
	if (!opts->data_dir || !*opts->data_dir || !opts->workflows_dir ||
	    !opts->kinds_path || !opts->policy_path)
		return rd_error_set(err, RD_EUSAGE,
				    "a data directory, a workflow directory, "
				    "an evidence kinds file and a settlement "
				    "policy are required");
	if ((svc = calloc(1, sizeof(*svc))) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	svc->holder_fd = -1;
	svc->mirror_delta_min = RD_MIRROR_DELTA_MIN;
	svc->webhook_allow_http = opts->webhook_allow_http;
	svc->webhook_allow_private = opts->webhook_allow_private;
	svc->quota_daily = opts->quota_daily > 0 ? opts->quota_daily
						 : RD_QUOTA_DAILY_DEFAULT;
	svc->quota_total = opts->quota_total > 0 ? opts->quota_total
						 : RD_QUOTA_TOTAL_DEFAULT;
	svc->lock_fd = -1;
	if ((hold = getenv("REDRESS_TEST_SWEEP_HOLD_MS")) != NULL)
		svc->test_sweep_hold_ms = (unsigned)strtoul(hold, NULL, 10);
	if ((svc->data_dir = strdup(opts->data_dir)) == NULL ||
	    (svc->store_target = opts->store && *opts->store
					 ? strdup(opts->store)
					 : join_path(opts->data_dir,
						     "redress.db")) == NULL ||
	    (blobs_path = join_path(opts->data_dir, "blobs")) == NULL ||
	    (mirror_path = join_path(opts->data_dir, "evidence.git")) == NULL) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = rd_workflow_set_load_dir(&svc->workflows, opts->workflows_dir,
					   err)) < 0 ||
	    (rc = rd_evidence_kinds_load(&svc->kinds, opts->kinds_path,
					 err)) < 0 ||
	    (rc = load_policy(svc, opts->policy_path, err)) < 0 ||
	    (rc = load_locale(svc, opts, err)) < 0)
		goto done;
	if (!rd_workflow_set_latest(svc->workflows, "dispute")) {
		rc = rd_error_set(err, RD_EDEFINITION,
				  "%s holds no \"dispute\" workflow",
				  opts->workflows_dir);
		goto done;
	}
	memset(&io, 0, sizeof(io));
	io.ctx = svc;
	io.get = record_get;
	io.put = record_put;
	io.get_many = record_get_many;
	svc_file_io(svc, &files);
	/* on PostgreSQL the evidence files are the database's too */
	in_db = rd_store_target_is_postgres(svc->store_target);
	if ((rc = make_dir(opts->data_dir, opts->create, err)) < 0 ||
	    (!in_db && (rc = make_dir(blobs_path, 1, err)) < 0) ||
	    (rc = enter_registry(svc, in_db ? NULL : blobs_path, mirror_path,
				 err)) < 0 ||
	    (rc = svc_holders_clean(svc, err)) < 0 ||
	    (rc = svc_holder_open(svc, err)) < 0 ||
	    (rc = rd_store_open(&svc->store, svc->store_target, err)) < 0 ||
	    (rc = in_db ? rd_evidence_record_open_files(&svc->repo, &io,
							&files, err)
			: rd_evidence_record_open(&svc->repo, blobs_path,
						  &io, err)) < 0 ||
	    (rc = register_workflows(svc, err)) < 0 ||
	    (rc = svc_upgrade_if_needed(svc, err)) < 0)
		goto done;
	*out = svc;
	svc = NULL;
done:
	free(blobs_path);
	free(mirror_path);
	rd_service_close(svc);
	return rc;
}

void rd_service_close(rd_service *svc)
{
	if (!svc)
		return;
	/*
	 * A command that wrote brings the mirror up to date before it ends,
	 * unless a server's mirror writer has it (then that one will); a
	 * failure here loses nothing: the next update redoes it.
	 */
	if (svc->wrote && svc->store && svc->repo) {
		rd_mirror_report report;
		rd_error ignored;

		rd_error_clear(&ignored);
		(void)rd_service_mirror_update(svc, 1, &report, &ignored);
	}
	rd_store_close(svc->store);
	rd_evidence_repo_close(svc->repo);
	rd_workflow_set_free(svc->workflows);
	rd_evidence_kinds_free(svc->kinds);
	rd_policy_free(svc->policy);
	rd_calendars_free(svc->calendars);
	rd_templates_free(svc->templates);
	svc_holder_close(svc);
	svc_registry_leave(svc);
	free(svc->holder_path);
	free(svc->data_dir);
	free(svc->store_target);
	free(svc);
}

const rd_workflow_set *rd_service_workflows(const rd_service *svc)
{
	return svc->workflows;
}

const rd_policy *rd_service_policy(const rd_service *svc)
{
	return svc->policy;
}

rd_store *rd_service_store(rd_service *svc)
{
	return svc->store;
}

int svc_set_string(char **slot, const char *value, rd_error *err)
{
	char *copy = NULL;

	if (value && (copy = strdup(value)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	free(*slot);
	*slot = copy;
	return RD_OK;
}

int svc_actor_sees(const rd_actor *actor, const rd_dispute *d, rd_error *err)
{
	/* as the API answers a storefront key: exactly as a missing one */
	if (actor->storefront[0] &&
	    (!d->storefront || strcmp(d->storefront, actor->storefront) != 0))
		return rd_error_set(err, RD_ENOTFOUND, "no dispute with id %s",
				    d->id);
	return RD_OK;
}

int svc_text_ok(const char *s, int allow_newline)
{
	return rd_text_check(s, strlen(s), allow_newline) == RD_TEXT_OK;
}

/*
 * The definition a dispute is pinned to: from the loaded files when they
 * still hold it, else from the copy the store kept when it was first seen.
 */
int svc_pinned_workflow(const rd_workflow **out, rd_service *svc,
			   const rd_dispute *d, rd_error *err)
{
	rd_workflow *wf = NULL;
	char *source = NULL;
	char origin[128];
	int rc;

	*out = rd_workflow_set_by_hash(svc->workflows, d->workflow_hash);
	if (*out)
		return RD_OK;
	if (rd_store_workflow_source(svc->store, d->workflow_hash, &source,
				     err) < 0)
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

