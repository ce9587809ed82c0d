/*
 * The crash journal: which disputes may have a git commit the index has not
 * recorded yet.
 *
 * Each process writes its own file, <data>/journal-<pid>-<n>, and holds an
 * exclusive flock on it while it lives. Before a change goes to git, the
 * dispute's id is appended and fdatasync'd; once the index transaction has
 * committed, the file is emptied again (no sync needed: a stale line only
 * costs a needless check). A file nobody holds a lock on belongs to a
 * process that died: opening a data directory replays each dispute it names
 * from git (svc_sync_dispute), after removing the lock file the dead
 * process may have left on the dispute's ref, and removes it. Writers never
 * touch another process's file, so nothing here races.
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
#include <time.h>
#include <unistd.h>

#define JOURNAL_PREFIX "journal-"

/*
 * The journal is created under a name recovery ignores, locked, and only
 * then renamed into place: another process's recovery must never find it
 * unlocked and take it for the journal of a dead process.
 */
int svc_journal_open(rd_service *svc, rd_error *err)
{
	struct timespec ts;
	size_t len = strlen(svc->data_dir) + 64;
	char *fresh = NULL;
	int rc = RD_OK;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((svc->journal_path = malloc(len)) == NULL ||
	    (fresh = malloc(len)) == NULL) {
		free(fresh);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	snprintf(svc->journal_path, len, "%s/" JOURNAL_PREFIX "%ld-%ld%09ld",
		 svc->data_dir, (long)getpid(), (long)ts.tv_sec,
		 (long)ts.tv_nsec);
	snprintf(fresh, len, "%s/.new-%ld-%ld%09ld", svc->data_dir,
		 (long)getpid(), (long)ts.tv_sec, (long)ts.tv_nsec);
	svc->journal_fd = open(fresh,
			       O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
			       0600);
	if (svc->journal_fd < 0) {
		rc = rd_error_set(err, RD_EIO, "cannot create %s: %s", fresh,
				  strerror(errno));
	} else if (flock(svc->journal_fd, LOCK_EX | LOCK_NB) != 0 ||
		   rename(fresh, svc->journal_path) != 0) {
		rc = rd_error_set(err, RD_EIO, "cannot set up %s: %s",
				  svc->journal_path, strerror(errno));
		unlink(fresh);
	}
	free(fresh);
	return rc;
}

void svc_journal_close(rd_service *svc)
{
	struct stat sb;

	if (svc->journal_fd < 0)
		return;
	/* an entry left by a failed write stays for the next open to replay */
	if (!svc->journal_dirty && fstat(svc->journal_fd, &sb) == 0 &&
	    sb.st_size == 0)
		unlink(svc->journal_path);
	close(svc->journal_fd);
	svc->journal_fd = -1;
}

int svc_journal_note(rd_service *svc, const char *id, rd_error *err)
{
	char line[RD_ID_BUFSZ + 1];
	size_t len;

	len = (size_t)snprintf(line, sizeof(line), "%s\n", id);
	if (write(svc->journal_fd, line, len) != (ssize_t)len ||
	    fdatasync(svc->journal_fd) != 0)
		return rd_error_set(err, RD_EIO, "cannot write %s: %s",
				    svc->journal_path, strerror(errno));
	svc->journal_pending = 1;
	return RD_OK;
}

void svc_tx_note_commit(rd_service *svc, const char *id, const char *parent,
			const char *head)
{
	svc_tx_commit *c = NULL;

	for (size_t i = 0; i < svc->tx_commit_count; i++)
		if (strcmp(svc->tx_commits[i].id, id) == 0)
			c = &svc->tx_commits[i];
	if (!c) {
		if (svc->tx_commit_count == SVC_TX_COMMITS) {
			svc->tx_commit_overflow = 1;
			return;
		}
		c = &svc->tx_commits[svc->tx_commit_count++];
		snprintf(c->id, sizeof(c->id), "%s", id);
		snprintf(c->parent, sizeof(c->parent), "%s",
			 parent ? parent : "");
	}
	snprintf(c->head, sizeof(c->head), "%s", head);
}

static void tx_forget_commits(rd_service *svc)
{
	svc->tx_commit_count = 0;
	svc->tx_commit_overflow = 0;
}

/*
 * Move back the refs the transaction moved, while it still holds the
 * write lock (no other writer can have seen them): 1 when git is back
 * where the index is, 0 when it may not be (the journal entry must stay
 * for the next open to replay).
 */
static int tx_undo_commits(rd_service *svc)
{
	int all = !svc->tx_commit_overflow;
	rd_error ignored;

	if (!rd_store_tx_open(svc->store))
		return svc->tx_commit_count == 0 && all;
	for (size_t i = svc->tx_commit_count; i-- > 0;) {
		const svc_tx_commit *c = &svc->tx_commits[i];

		rd_error_clear(&ignored);
		if (rd_evidence_ref_restore(svc->repo, c->id, c->head,
					    c->parent, &ignored) < 0)
			all = 0;
	}
	return all;
}

int svc_commit(rd_service *svc, rd_error *err)
{
	int rc = svc_idem_flush(svc, err);

	if (rc < 0) {
		svc_rollback(svc);
		return rc;
	}
	rc = rd_store_commit(svc->store, err);

	if (rc < 0) {
		svc_rollback(svc);
		return rc;
	}
	tx_forget_commits(svc);
	if (svc->journal_pending && !svc->journal_dirty &&
	    ftruncate(svc->journal_fd, 0) != 0)
		svc->journal_dirty = 1;
	svc->journal_pending = 0;
	return RD_OK;
}

/*
 * The refs could not all be moved back (SQLite had already ended the
 * transaction after an error such as running out of memory, so another
 * writer may have seen them): bring the index up to git at once instead,
 * each dispute in a transaction of its own, as the next open would. The
 * change is then recorded in full, its Idempotency-Key with it, though the
 * caller reports the failure. 1 when the index agrees with git again.
 */
static int tx_catch_up(rd_service *svc, const svc_tx_commit *moved,
		       size_t count)
{
	char head[RD_OID_BUFSZ];
	rd_error ignored;

	for (size_t i = 0; i < count; i++) {
		rd_error_clear(&ignored);
		if (rd_store_begin(svc->store, &ignored) < 0)
			return 0;
		if (svc_sync_dispute(svc, moved[i].id, head, &ignored) < 0 ||
		    rd_store_commit(svc->store, &ignored) < 0) {
			rd_store_rollback(svc->store);
			return 0;
		}
	}
	return 1;
}

void svc_rollback(rd_service *svc)
{
	svc_tx_commit moved[SVC_TX_COMMITS];
	size_t moved_count = svc->tx_commit_count;
	int overflow = svc->tx_commit_overflow;
	int undone = tx_undo_commits(svc);

	memcpy(moved, svc->tx_commits, moved_count * sizeof(*moved));
	tx_forget_commits(svc);
	svc_idem_reset(svc);
	rd_store_rollback(svc->store);
	if (!undone && !overflow)
		undone = tx_catch_up(svc, moved, moved_count);
	/* git may have moved and stayed so: keep the entry for replay */
	if (svc->journal_pending &&
	    (!undone || svc->journal_dirty ||
	     ftruncate(svc->journal_fd, 0) != 0))
		svc->journal_dirty = 1;
	svc->journal_pending = 0;
}

/* Replay the disputes one orphaned journal names. */
static int replay(rd_service *svc, int fd, const char *path, rd_error *err)
{
	struct stat sb;
	char *text = NULL, *line, *next;
	ssize_t got;
	int rc = RD_OK;

	if (fstat(fd, &sb) != 0)
		return rd_error_set(err, RD_EIO, "cannot read %s: %s", path,
				    strerror(errno));
	if ((text = calloc(1, (size_t)sb.st_size + 1)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	got = pread(fd, text, (size_t)sb.st_size, 0);
	if (got < 0) {
		rc = rd_error_set(err, RD_EIO, "cannot read %s: %s", path,
				  strerror(errno));
		goto done;
	}
	text[got] = '\0';
	for (line = text; line && *line && rc == RD_OK; line = next) {
		char head[RD_OID_BUFSZ];

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!rd_id_valid(line)) /* a line cut short by the crash */
			continue;
		/*
		 * The dead process may have died moving the ref, holding its
		 * lock file; we hold the index's write lock, so no live
		 * writer can be moving it now.
		 */
		if ((rc = rd_evidence_ref_unlock_stale(svc->repo, line, NULL,
						       err)) == RD_OK)
			rc = svc_sync_dispute(svc, line, head, err);
	}
done:
	free(text);
	return rc;
}

int svc_journal_recover(rd_service *svc, rd_error *err)
{
	DIR *dir = opendir(svc->data_dir);
	struct dirent *entry;
	int rc = RD_OK, began = 0;

	if (!dir)
		return rd_error_set(err, RD_EIO, "cannot read %s: %s",
				    svc->data_dir, strerror(errno));
	while (rc == RD_OK && (entry = readdir(dir)) != NULL) {
		char path[4096];
		int fd;

		if (strncmp(entry->d_name, JOURNAL_PREFIX,
			    strlen(JOURNAL_PREFIX)) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", svc->data_dir,
			     entry->d_name) >= (int)sizeof(path) ||
		    strcmp(path, svc->journal_path) == 0)
			continue;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue; /* removed meanwhile by another process */
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			close(fd); /* its process is alive */
			continue;
		}
		if (!began && (rc = rd_store_begin(svc->store, err)) == RD_OK)
			began = 1;
		if (rc == RD_OK && (rc = replay(svc, fd, path, err)) == RD_OK &&
		    (rc = rd_store_commit(svc->store, err)) == RD_OK) {
			began = 0;
			unlink(path);
		}
		close(fd);
	}
	closedir(dir);
	if (began)
		rd_store_rollback(svc->store);
	if (rc < 0)
		rd_error_prefix(err, "recovering after a crash");
	return rc;
}
