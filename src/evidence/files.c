/*
 * The record's evidence files as files: listing them and removing one.
 * Which of them a change names is the record's to say (the service asks
 * the store); this module only knows where they are:
 * <blobs>/<2 hex>/<38 hex>, named by the git blob id of their bytes, or
 * kept elsewhere through the record's rd_file_io, which lists and
 * removes them itself.
 */
#include "evidence/evidence_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* One shard, <blobs>/<2 hex>: every file named as the rest of a blob id. */
static int walk_shard(const char *blobs, const char *shard,
		      rd_evidence_file_cb cb, void *ctx, rd_error *err)
{
	char dir[4096];
	DIR *d;
	struct dirent *entry;
	int rc = RD_OK;

	if (snprintf(dir, sizeof(dir), "%s/%s", blobs, shard) >=
	    (int)sizeof(dir))
		return rd_error_set(err, RD_EINVALID, "the path of %s is too "
				    "long", blobs);
	if (!(d = opendir(dir)))
		return errno == ENOENT
			? RD_OK
			: rd_error_set(err, RD_EIO, "cannot read %s: %s", dir,
				       strerror(errno));
	while (rc == RD_OK && (entry = readdir(d)) != NULL) {
		char path[4096 + 64], oid[RD_OID_BUFSZ];
		struct stat sb;
		git_oid id;

		if (!is_hex(entry->d_name, RD_OID_BUFSZ - 3))
			continue;
		/* a name of 38 hex digits fits both; checked all the same */
		if (snprintf(path, sizeof(path), "%s/%s", dir,
			     entry->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;   /* gone meanwhile, or not ours */
		if (snprintf(oid, sizeof(oid), "%s%s", shard,
			     entry->d_name) >= (int)sizeof(oid))
			continue;
		if (git_oid_fromstr(&id, oid) < 0) {
			git_error_clear();
			continue;
		}
		rc = cb(ctx, id.id, oid, (int64_t)sb.st_size,
			(int64_t)sb.st_mtime, err);
	}
	closedir(d);
	return rc;
}

int rd_evidence_files_foreach(rd_evidence_repo *repo, rd_evidence_file_cb cb,
			      void *ctx, rd_error *err)
{
	int rc = RD_OK;

	if (!ev_is_record(repo) || !cb)
		return rd_error_set(err, RD_EINTERNAL, "rd_evidence_files_"
				    "foreach needs the record's repository "
				    "and a callback");
	if (repo->has_files)
		return repo->files.foreach(repo->files.ctx, cb, ctx, err);
	for (int i = 0; i < 256 && rc == RD_OK; i++) {
		char shard[3];

		snprintf(shard, sizeof(shard), "%02x", i);
		rc = walk_shard(repo->blobs, shard, cb, ctx, err);
	}
	return rc;
}

int rd_evidence_file_remove(rd_evidence_repo *repo, const char *oid,
			    int64_t before, int *removed, rd_error *err)
{
	char path[4096];
	git_oid id;
	struct stat sb;
	int rc;

	*removed = 0;
	if (!ev_is_record(repo))
		return rd_error_set(err, RD_EINTERNAL, "rd_evidence_file_remove "
				    "needs the record's repository");
	if ((rc = ev_oid_parse(&id, oid, "evidence file", err)) < 0)
		return rc;
	if (repo->has_files)
		return repo->files.remove(repo->files.ctx, id.id, before,
					  removed, err);
	if ((rc = ev_blob_path(repo, &id, path, sizeof(path), err)) < 0)
		return rc;
	if (lstat(path, &sb) != 0)
		return errno == ENOENT
			? RD_OK
			: rd_error_set(err, RD_EIO, "%s: %s", path,
				       strerror(errno));
	/* an upload of the same bytes renewed it: it is about to be named */
	if ((int64_t)sb.st_mtime >= before || !S_ISREG(sb.st_mode))
		return RD_OK;
	if (unlink(path) != 0)
		return errno == ENOENT
			? RD_OK
			: rd_error_set(err, RD_EIO, "cannot remove %s: %s",
				       path, strerror(errno));
	*removed = 1;
	return RD_OK;
}
