/*
 * An online copy of the database: SQLite's backup API, page by page, from
 * one read transaction held for the whole copy. In WAL mode a reader
 * blocks no writer, so the server goes on committing while the copy is
 * taken, and the copy is the one committed state that read transaction
 * sees (without it, every commit of another connection would restart the
 * copy, and a busy server could keep it from ever finishing).
 *
 * The copy is written to a temporary file beside the destination, made
 * durable, and only then renamed into place: a destination that exists
 * is a whole copy. This must never write to the source database.
 *
 * The statements go through the database driver; the backup API itself is
 * SQLite's own, reached through rd_db_sqlite.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store_int.h"

/* Pages copied by one step (about 4 MiB at SQLite's default page size). */
#define BACKUP_STEP_PAGES 1024

/* The pause between two steps, in milliseconds, so the copy yields I/O. */
#define BACKUP_PAUSE_MS 1

/* The pause after a busy or locked step before it is tried again. */
#define BACKUP_BUSY_PAUSE_MS 10

static int sys_fail(rd_error *err, const char *what, const char *path)
{
	return rd_error_set(err, RD_EIO, "cannot %s %s: %s", what, path,
			    strerror(errno));
}

/* fsync a file or directory by path. */
static int sync_path(const char *path, int directory, rd_error *err)
{
	int fd = open(path, (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) |
				    O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		int why = errno;

		if (fd >= 0)
			close(fd);
		errno = why;
		return sys_fail(err, "make durable", path);
	}
	close(fd);
	return RD_OK;
}

/*
 * Open the read transaction the copy is taken from: BEGIN, then a read,
 * which is what fixes the snapshot in WAL mode. Retried while busy.
 */
static int begin_snapshot(rd_store *st, rd_error *err)
{
	rd_db_stmt *stmt = NULL;
	int waited = 0;
	int version;
	int rc;

	if ((rc = rd_store__stmt(st, RD_STMT_BEGIN_READ, &stmt, err)) < 0)
		return rc;
	rc = rd_db_step(stmt);
	if (rc != RD_DB_DONE) {
		rc = rd_store__fail(st, rc, err, "cannot begin to copy %s",
				    st->path);
		rd_store__release(stmt);
		return rc;
	}
	rd_store__release(stmt);
	while ((rc = rd_store_schema_version(st, &version, err)) == RD_EBUSY &&
	       waited < st->busy_timeout_ms) {
		sqlite3_sleep(BACKUP_BUSY_PAUSE_MS);
		waited += BACKUP_BUSY_PAUSE_MS;
	}
	if (rc < 0)
		rd_store_rollback(st);
	return rc;
}

/* Copy every page of st's snapshot into the open database `to`. */
static int copy_pages(rd_store *st, sqlite3 *to, const char *temp,
		      rd_error *err)
{
	sqlite3_backup *backup;
	int waited = 0;
	int rc;

	if ((backup = sqlite3_backup_init(to, "main", rd_db_sqlite(st->db),
					  "main")) == NULL)
		return rd_error_set(err, sqlite3_errcode(to) == SQLITE_NOMEM
						 ? RD_ENOMEM
						 : RD_EIO,
				    "cannot start to copy %s into %s: %s",
				    st->path, temp, sqlite3_errmsg(to));
	for (;;) {
		rc = sqlite3_backup_step(backup, BACKUP_STEP_PAGES);
		if (rc == SQLITE_DONE)
			break;
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
			if (waited >= st->busy_timeout_ms)
				break;
			sqlite3_sleep(BACKUP_BUSY_PAUSE_MS);
			waited += BACKUP_BUSY_PAUSE_MS;
			continue;
		}
		if (rc != SQLITE_OK)
			break;
		waited = 0;
		sqlite3_sleep(BACKUP_PAUSE_MS);
	}
	/* finish reports the step's error, or SQLITE_OK after DONE */
	if (sqlite3_backup_finish(backup) != SQLITE_OK || rc != SQLITE_DONE)
		return rd_error_set(err,
				    rc == SQLITE_BUSY || rc == SQLITE_LOCKED
					    ? RD_EBUSY
				    : rc == SQLITE_NOMEM ? RD_ENOMEM
							 : RD_EIO,
				    "cannot copy %s into %s: %s", st->path, temp,
				    rc == SQLITE_DONE ? sqlite3_errmsg(to)
						      : sqlite3_errstr(rc));
	return RD_OK;
}

int rd_store_backup(rd_store *st, const char *dest_path, rd_error *err)
{
	char temp[4096], dir[4096];
	const char *slash;
	sqlite3 *to = NULL;
	int n;
	int rc;

	if (!rd_db_sqlite(st->db))
		return rd_error_set(err, RD_EINVALID, "%s: an online copy is "
				    "SQLite's; copy a PostgreSQL database "
				    "with its own tools (pg_dump, or a base "
				    "backup with pg_basebackup)", st->path);
	if (rd_db_in_transaction(st->db))
		return rd_error_set(err, RD_EINTERNAL, "rd_store_backup runs "
				    "outside a transaction");
	n = snprintf(temp, sizeof(temp), "%s.tmp-%ld", dest_path,
		     (long)getpid());
	slash = strrchr(dest_path, '/');
	if (n < 0 || (size_t)n >= sizeof(temp))
		return rd_error_set(err, RD_EINVALID, "%s: the path is too "
				    "long", dest_path);
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s",
			 slash == dest_path ? 1 : (int)(slash - dest_path),
			 dest_path);
	else
		snprintf(dir, sizeof(dir), ".");
	if (unlink(temp) != 0 && errno != ENOENT)
		return sys_fail(err, "remove", temp);
	/*
	 * The temporary is a plain file written once: no journal, no syncs
	 * of its own (it is made durable whole before the rename, and a
	 * crash before then leaves only a temporary to remove).
	 */
	if (sqlite3_open_v2(temp, &to, SQLITE_OPEN_READWRITE |
					       SQLITE_OPEN_CREATE |
					       SQLITE_OPEN_EXRESCODE,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(to, "PRAGMA journal_mode = OFF", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_exec(to, "PRAGMA synchronous = OFF", NULL, NULL,
			 NULL) != SQLITE_OK) {
		rc = rd_error_set(err, to ? RD_EIO : RD_ENOMEM,
				  "cannot create %s: %s", temp,
				  to ? sqlite3_errmsg(to) : "out of memory");
		goto done;
	}
	if ((rc = begin_snapshot(st, err)) < 0)
		goto done;
	rc = copy_pages(st, to, temp, err);
	rd_store_rollback(st);
	if (rc < 0)
		goto done;
	if (sqlite3_close(to) != SQLITE_OK) {
		rc = rd_error_set(err, RD_EIO, "cannot close %s: %s", temp,
				  sqlite3_errmsg(to));
		goto done;
	}
	to = NULL;
	if ((rc = sync_path(temp, 0, err)) < 0)
		goto done;
	if (rename(temp, dest_path) != 0) {
		rc = sys_fail(err, "rename into place", dest_path);
		goto done;
	}
	temp[0] = '\0';
	rc = sync_path(dir, 1, err);
done:
	if (to)
		sqlite3_close(to);
	if (temp[0])
		unlink(temp);
	return rc;
}
