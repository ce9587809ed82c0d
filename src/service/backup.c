/*
 * An online backup of a data directory: the database as one committed
 * state, then the evidence files that copy names. Writers go on meanwhile.
 *
 * The order is what makes it consistent: an evidence file is made durable
 * before any row names it, never changes (it is named by its bytes' git
 * id) and is never removed while a row names it, so every file the copied
 * database names is still there, whole, when it is copied afterwards.
 * The mirror (evidence.git) is derived from the record and is not copied:
 * a restore makes it again (`redress mirror --rebuild`). Nor are the
 * files that belong to running processes (locks, registry, holders) or
 * the WAL, which the database copy already includes.
 *
 * This must never write into the data directory being backed up.
 */
#include "service_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redress/store.h"
#include "redress/hex.h"

/* Evidence files listed from the copy at a time. */
#define BACKUP_PAGE 1000

/* The buffer one evidence file is copied through. */
#define COPY_BUFSZ (64 * 1024)

static int sys_fail(rd_error *err, int why, const char *what,
		    const char *path)
{
	return rd_error_set(err, RD_EIO, "cannot %s %s: %s", what, path,
			    strerror(why));
}

static int sync_dir(const char *path, rd_error *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		int why = errno;

		if (fd >= 0)
			close(fd);
		return sys_fail(err, why, "make durable the entries of",
				path);
	}
	close(fd);
	return RD_OK;
}

static int join(char *out, size_t size, const char *dir, const char *name,
		rd_error *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return rd_error_set(err, RD_EINVALID, "%s/%s: the path is too "
				    "long", dir, name);
	return RD_OK;
}

/*
 * The absolute path, without symbolic links, of `path`, which may not
 * exist yet (its parent must); its parent into `parent`.
 */
static int canonical(const char *path, char out[PATH_MAX],
		     char parent[PATH_MAX], rd_error *err)
{
	char copy[PATH_MAX], *base, *slash;
	size_t len = strlen(path);
	int n;

	if (len == 0 || len >= sizeof(copy))
		return rd_error_set_field(err, RD_EINVALID, "to",
					  "\"%.64s\" is not a directory to "
					  "back up into", path);
	memcpy(copy, path, len + 1);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	base = slash ? slash + 1 : copy;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		/* "/", ".", "dir/..": it exists, or cannot be made */
		if (!realpath(copy, out))
			return sys_fail(err, errno, "find", path);
		snprintf(parent, PATH_MAX, "%s/..", out);
		return RD_OK;
	}
	if (slash == copy)
		n = realpath("/", parent) ? 0 : -1;
	else if (slash) {
		*slash = '\0';
		n = realpath(copy, parent) ? 0 : -1;
	} else
		n = realpath(".", parent) ? 0 : -1;
	if (n < 0)
		return sys_fail(err, errno, "find the directory to hold", path);
	n = snprintf(out, PATH_MAX, "%s/%s", strcmp(parent, "/") ? parent : "",
		     base);
	if (n < 0 || n >= PATH_MAX)
		return rd_error_set(err, RD_EINVALID, "%s: the path is too "
				    "long", path);
	/* a symbolic link or a directory already there: resolve it */
	if (realpath(out, copy))
		memcpy(out, copy, strlen(copy) + 1);
	return RD_OK;
}

/* 1 when `path` is `root` or inside it (both canonical). */
static int within(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return 1;
	return strncmp(path, root, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

/*
 * Create `path`, or accept it when it is an empty directory; `shown` is
 * how the caller named it, for messages.
 */
static int prepare_dir(const char *path, const char *parent,
		       const char *shown, rd_error *err)
{
	struct dirent *entry;
	DIR *d;
	int empty = 1;

	if (mkdir(path, 0700) == 0)
		return sync_dir(parent, err);
	if (errno != EEXIST)
		return sys_fail(err, errno, "create", shown);
	if ((d = opendir(path)) == NULL) {
		if (errno == ENOTDIR)
			return rd_error_set_field(err, RD_EINVALID, "to",
						  "%s is not a directory: a "
						  "backup goes into a new or "
						  "an empty directory", shown);
		return sys_fail(err, errno, "read", shown);
	}
	while (empty && (entry = readdir(d)) != NULL)
		if (strcmp(entry->d_name, ".") != 0 &&
		    strcmp(entry->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty)
		return rd_error_set_field(err, RD_EINVALID, "to",
					  "%s is not empty: a backup goes into "
					  "a new or an empty directory", shown);
	return RD_OK;
}

/*
 * Copy the evidence file `from` (the record says `want` bytes) to `to`:
 * into a temporary beside it, flushed, its size checked, renamed.
 */
static int copy_file(const char *from, const char *to, int64_t want,
		     char *buf, rd_error *err)
{
	char temp[PATH_MAX];
	struct stat sb;
	int64_t copied = 0;
	int in = -1, out = -1;
	int rc = RD_OK;

	if (snprintf(temp, sizeof(temp), "%s.tmp", to) >= (int)sizeof(temp))
		return rd_error_set(err, RD_EINVALID, "%s: the path is too "
				    "long", to);
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = sys_fail(err, errno, "read the evidence file", from);
		goto done;
	}
	if (fstat(in, &sb) != 0 || sb.st_size != want) {
		rc = rd_error_set(err, RD_EIO, "evidence file %s holds %lld "
				  "bytes, the record says %lld", from,
				  (long long)sb.st_size, (long long)want);
		goto done;
	}
	if ((out = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			sb.st_mode & 0777)) < 0) {
		rc = sys_fail(err, errno, "create", temp);
		goto done;
	}
	for (;;) {
		ssize_t got = read(in, buf, COPY_BUFSZ);
		ssize_t put;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = sys_fail(err, errno, "read", from);
			goto done;
		}
		if (got == 0)
			break;
		for (ssize_t at = 0; at < got; at += put) {
			put = write(out, buf + at, (size_t)(got - at));
			if (put < 0 && errno == EINTR) {
				put = 0;
				continue;
			}
			if (put < 0) {
				rc = sys_fail(err, errno, "write", temp);
				goto done;
			}
		}
		copied += got;
	}
	if (copied != want) {
		rc = rd_error_set(err, RD_EIO, "evidence file %s: %lld bytes "
				  "read, the record says %lld", from,
				  (long long)copied, (long long)want);
		goto done;
	}
	if (fdatasync(out) != 0) {
		rc = sys_fail(err, errno, "make durable", temp);
		goto done;
	}
	if (close(out) != 0) {
		out = -1;
		rc = sys_fail(err, errno, "write", temp);
		goto done;
	}
	out = -1;
	if (rename(temp, to) != 0) {
		rc = sys_fail(err, errno, "rename into place", to);
		goto done;
	}
	temp[0] = '\0';
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (rc < 0 && temp[0])
		unlink(temp);
	return rc;
}

/* The heads, changes and objects of the copy, for the report. */
static int count_objects(void *ctx, const unsigned char id[RD_OID_RAWSZ],
			 int type, int64_t size, int in_file)
{
	(void)id;
	(void)type;
	(void)size;
	(void)in_file;
	(*(int64_t *)ctx)++;
	return 0;
}

static int count_record(rd_store *copy, rd_backup_report *out,
			rd_error *err)
{
	char after[RD_ID_BUFSZ] = "";
	int rc;

	if ((rc = rd_store_changes_last(copy, &out->changes, err)) < 0 ||
	    (rc = rd_store_objects_of_changes(copy, 0, out->changes,
					      count_objects, &out->objects,
					      err)) < 0)
		return rc;
	for (;;) {
		rd_ref_row *refs = NULL;
		size_t count = 0;

		if ((rc = rd_store_refs_after(copy, after, BACKUP_PAGE, &refs,
					      &count, err)) < 0)
			return rc;
		out->disputes += (int64_t)count;
		if (count)
			memcpy(after, refs[count - 1].dispute_id,
			       sizeof(after));
		free(refs);
		if (count < BACKUP_PAGE)
			return RD_OK;
	}
}

/* Copy every evidence file the copy `copy` names into <dir>/blobs. */
static int copy_files(rd_service *svc, rd_store *copy, const char *blobs,
		      rd_backup_report *out, rd_error *err)
{
	unsigned char after[RD_OID_RAWSZ];
	unsigned char made[256] = { 0 };
	char from[PATH_MAX], to[PATH_MAX], sub[PATH_MAX];
	unsigned char *ids = NULL;
	char *buf;
	size_t count = 0;
	int started = 0;
	int rc = RD_OK;

	if ((buf = malloc(COPY_BUFSZ)) == NULL)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	do {
		if ((rc = rd_store_objects_in_files(copy, started ? after
								  : NULL,
						    BACKUP_PAGE, &ids, &count,
						    err)) < 0)
			goto done;
		started = 1;
		for (size_t i = 0; i < count; i++) {
			const unsigned char *id = ids + i * RD_OID_RAWSZ;
			int found = 0, type = 0, in_file = 0;
			int64_t size = 0;
			char hex[41];

			rd_hex_encode(hex, id, RD_OID_RAWSZ);
			if ((rc = rd_store_object_get(copy, id, &found, &type,
						      &size, &in_file, NULL,
						      err)) < 0)
				goto done;
			if (!found || !in_file) {
				rc = rd_error_set(err, RD_EINTERNAL,
						  "object %s was listed as an "
						  "evidence file and is not "
						  "one", hex);
				goto done;
			}
			if (snprintf(from, sizeof(from), "%s/blobs/%.2s/%s",
				     svc->data_dir, hex, hex + 2) >=
				    (int)sizeof(from) ||
			    snprintf(sub, sizeof(sub), "%s/%.2s", blobs,
				     hex) >= (int)sizeof(sub) ||
			    snprintf(to, sizeof(to), "%s/%s", sub, hex + 2) >=
				    (int)sizeof(to)) {
				rc = rd_error_set(err, RD_EINVALID, "the path "
						  "of evidence file %s is too "
						  "long", hex);
				goto done;
			}
			if (!made[id[0]]) {
				if (mkdir(sub, 0755) != 0 && errno != EEXIST) {
					rc = sys_fail(err, errno, "create",
						      sub);
					goto done;
				}
				made[id[0]] = 1;
			}
			if ((rc = copy_file(from, to, size, buf, err)) < 0)
				goto done;
			out->files++;
			out->file_bytes += size;
		}
		if (count)
			memcpy(after, ids + (count - 1) * RD_OID_RAWSZ,
			       RD_OID_RAWSZ);
		free(ids);
		ids = NULL;
	} while (count == BACKUP_PAGE);
	for (int i = 0; i < 256 && rc == RD_OK; i++)
		if (made[i] && snprintf(sub, sizeof(sub), "%s/%02x", blobs,
					i) < (int)sizeof(sub))
			rc = sync_dir(sub, err);
	if (rc == RD_OK)
		rc = sync_dir(blobs, err);
done:
	free(ids);
	free(buf);
	return rc;
}

int rd_service_backup(rd_service *svc, const char *dir,
		      rd_backup_report *out, rd_error *err)
{
	char data[PATH_MAX], target[PATH_MAX], parent[PATH_MAX];
	char db[PATH_MAX], blobs[PATH_MAX];
	rd_store *copy = NULL;
	struct stat sb;
	int made = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (rd_store_target_is_postgres(svc->store_target))
		return rd_error_set(err, RD_EINVALID, "redress backup copies "
				    "an embedded record; back a PostgreSQL "
				    "record up with PostgreSQL's own tools "
				    "(pg_dump, or base backups and WAL "
				    "archiving)");
	if (!dir || !*dir)
		return rd_error_set_field(err, RD_EUSAGE, "to", "the directory "
					  "to back up into is required");
	if (!realpath(svc->data_dir, data))
		return sys_fail(err, errno, "find the data directory",
				svc->data_dir);
	if ((rc = canonical(dir, target, parent, err)) < 0)
		return rc;
	if (within(target, data))
		return rd_error_set_field(err, RD_EINVALID, "to",
					  "%s is inside the data directory %s: "
					  "a backup goes elsewhere", dir,
					  svc->data_dir);
	if ((rc = prepare_dir(target, parent, dir, err)) < 0)
		return rc;
	made = 1;
	if ((rc = join(db, sizeof(db), target, "redress.db", err)) < 0 ||
	    (rc = join(blobs, sizeof(blobs), target, "blobs", err)) < 0 ||
	    (rc = rd_store_backup(svc->store, db, err)) < 0)
		goto done;
	if (stat(db, &sb) != 0) {
		rc = sys_fail(err, errno, "find", db);
		goto done;
	}
	out->database_bytes = (int64_t)sb.st_size;
	if (mkdir(blobs, 0755) != 0) {
		rc = sys_fail(err, errno, "create", blobs);
		goto done;
	}
	if ((rc = rd_store_open(&copy, db, err)) < 0 ||
	    (rc = count_record(copy, out, err)) < 0 ||
	    (rc = copy_files(svc, copy, blobs, out, err)) < 0)
		goto done;
	/* closing the last connection folds its WAL back into the file */
	rd_store_close(copy);
	copy = NULL;
	rc = sync_dir(target, err);
done:
	rd_store_close(copy);
	if (rc < 0 && made && err) {
		rd_error why = *err;

		rd_error_set(err, rc, "%s; %s holds an incomplete backup: "
			     "remove it", why.message, dir);
		memcpy(err->field, why.field, sizeof(err->field));
	}
	return rc;
}
