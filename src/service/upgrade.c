/*
 * Upgrading a data directory of an earlier release, in which git
 * (<data>/evidence.git) was the record and the database its index: every
 * dispute's history is imported into the record with the same object ids,
 * its head becomes the record's, and where the earlier release's index had
 * not caught up with git (a crash between the two) the index rows and the
 * Idempotency-Key records are rebuilt from the history, as that release's
 * own recovery would have done. The repository stays, as the mirror, at
 * the position the import ends at.
 *
 * The import runs in transactions of IMPORT_BATCH disputes and is
 * resumable: a dispute whose head the record holds is done. It must never
 * change the bytes or the ids of a history.
 */
#include "service_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redress/clock.h"
#include "redress/store.h"

#define IMPORT_BATCH 200

typedef struct id_list {
	char **ids;
	size_t count;
	size_t room;
} id_list;

/* Add id to the list; 1 (stop) when out of memory. */
static int collect(const char *id, void *ctx)
{
	id_list *l = ctx;

	if (l->count == l->room) {
		size_t room = l->room ? l->room * 2 : 64;
		char **more = realloc(l->ids, room * sizeof(*more));

		if (!more)
			return 1;
		l->ids = more;
		l->room = room;
	}
	if (!(l->ids[l->count] = strdup(id)))
		return 1;
	l->count++;
	return 0;
}

/* One dispute: its history, its head, and the index where it lagged. */
static int import_one(rd_service *svc, rd_evidence_repo *old, const char *id,
		      size_t *objects, rd_error *err)
{
	char head[RD_OID_BUFSZ], indexed[RD_OID_BUFSZ] = "";
	size_t copied = 0;
	int64_t now = 0;
	int found = 0, known = 1, rc;

	if ((rc = rd_store_ref_get(svc->store, id, head, &found, err)) < 0 ||
	    found)
		return rc;
	if ((rc = rd_evidence_head(old, id, head, &found, err)) < 0 || !found)
		return rc;
	if ((rc = rd_clock_now(&now, err)) < 0 ||
	    (rc = rd_evidence_import(old, svc->repo, head, &copied, err)) < 0 ||
	    (rc = rd_store_ref_move(svc->store, id, NULL, head, now, err)) < 0)
		return rc;
	*objects += copied;
	rc = rd_store_head_get(svc->store, id, indexed, err);
	if (rc == RD_ENOTFOUND)
		known = 0;
	else if (rc < 0)
		return rc;
	if (known && strcmp(indexed, head) == 0)
		return RD_OK;
	/* the earlier release crashed between git and its index */
	if ((rc = svc_rebuild_dispute(svc, svc->store, id, head, err)) < 0)
		return rc;
	return svc_idem_replay(svc, id, head, known ? indexed : "", err);
}

/*
 * The crash journals of the earlier release, which named disputes whose
 * index might lag: the import has brought every one up to its history.
 * A journal still locked belongs to a living process of that release.
 */
static void remove_journals(const char *data_dir)
{
	DIR *dir = opendir(data_dir);
	struct dirent *entry;

	if (!dir)
		return;
	while ((entry = readdir(dir)) != NULL) {
		char path[4096];
		int fd;

		if (strncmp(entry->d_name, "journal-", 8) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", data_dir,
			     entry->d_name) >= (int)sizeof(path) ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlink(path);
		close(fd);
	}
	closedir(dir);
}

static int finish(rd_service *svc, rd_error *err)
{
	int64_t last = 0;
	int rc;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_changes_last(svc->store, &last, err)) < 0 ||
	    (rc = rd_store_mirror_position_set(svc->store, last, err)) < 0 ||
	    (rc = rd_store_record_state_set(svc->store, "import", "done",
					    err)) < 0) {
		rd_store_rollback(svc->store);
		return rc;
	}
	return rd_store_commit(svc->store, err);
}

int svc_upgrade_if_needed(rd_service *svc, rd_error *err)
{
	rd_evidence_repo *old = NULL;
	char state[64], git_path[4096];
	id_list ids = { 0 };
	size_t done = 0, objects = 0;
	int rc, open_tx = 0;

	if ((rc = rd_store_record_state(svc->store, "import", state,
					err)) < 0 ||
	    strcmp(state, "pending") != 0)
		return rc;
	snprintf(git_path, sizeof(git_path), "%s/evidence.git",
		 svc->data_dir);
	rc = rd_evidence_repo_open(&old, git_path, 0, err);
	if (rc == RD_ENOTFOUND) {
		/* a new data directory: nothing to import */
		rd_error_clear(err);
		return finish(svc, err);
	}
	if (rc < 0)
		goto done;
	if ((rc = rd_evidence_foreach_dispute(old, collect, &ids, err)) != 0) {
		if (rc > 0)
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < ids.count; i++) {
		if (!open_tx) {
			if ((rc = rd_store_begin(svc->store, err)) < 0)
				goto done;
			open_tx = 1;
		}
		if ((rc = import_one(svc, old, ids.ids[i], &objects,
				     err)) < 0) {
			rd_error_prefix(err, "importing dispute %s",
					ids.ids[i]);
			goto done;
		}
		if (++done % IMPORT_BATCH == 0) {
			open_tx = 0;
			if ((rc = svc_commit(svc, err)) < 0)
				goto done;
		}
	}
	if (open_tx) {
		open_tx = 0;
		if ((rc = svc_commit(svc, err)) < 0)
			goto done;
	}
	if ((rc = finish(svc, err)) < 0)
		goto done;
	remove_journals(svc->data_dir);
	svc->upgraded = 1;
	svc->upgraded_disputes = ids.count;
	svc->upgraded_objects = objects;
done:
	if (open_tx)
		svc_rollback(svc);
	for (size_t i = 0; i < ids.count; i++)
		free(ids.ids[i]);
	free(ids.ids);
	rd_evidence_repo_close(old);
	if (rc < 0)
		rd_error_prefix(err, "upgrading %s to the record of this "
				"release (it can be retried: what was "
				"imported stays)", svc->data_dir);
	return rc;
}

int rd_service_upgrade_report(const rd_service *svc, int *upgraded,
			      size_t *disputes, size_t *objects)
{
	*upgraded = svc->upgraded;
	*disputes = svc->upgraded_disputes;
	*objects = svc->upgraded_objects;
	return RD_OK;
}
