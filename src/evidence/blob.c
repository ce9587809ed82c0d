/*
 * Streaming an evidence file into the record: the bytes go to a temporary
 * file in the blobs directory while their git blob id (SHA-1 over git's
 * header and the bytes) and SHA-256 are computed, and only the first
 * RD_SNIFF_BYTES are kept, to tell the content type. Finishing makes the
 * file durable (fdatasync), renames it to its id and makes the rename
 * durable, all before any transaction names it: a crash then leaves at
 * worst a file no row names, which is harmless and removed later. A
 * record whose files are kept elsewhere (rd_file_io: the database) gets
 * the bytes as they come and keeps them under their id at the finish,
 * committed likewise before any change names them.
 *
 * A writer must never hold a whole file in memory, and must never leave a
 * file under its id unless every declared byte arrived and finish was
 * called: an abandoned or short upload leaves only its temporary, removed
 * when the writer is freed. A successful finish releases the writer; a
 * failed one leaves it to rd_blob_writer_free.
 */
#include "evidence/evidence_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha1.h>
#include <nettle/sha2.h>

struct rd_blob_writer {
	rd_evidence_repo *repo;       /* borrowed */
	int fd;                       /* the temporary file, or */
	void *kept;                   /* the file of repo->files */
	char temp[4096];
	struct sha256_ctx sha;
	struct sha1_ctx object;       /* the git blob id */
	int64_t size;                 /* declared */
	int64_t written;
	unsigned char *prefix;        /* the first bytes, for libmagic */
	size_t prefix_len;
	size_t prefix_want;           /* min(size, RD_SNIFF_BYTES) */
	int sniffed;
	int failed;                   /* a write went wrong: never finish */
	char content_type[128];
};

static int system_fail(rd_error *err, int why, const char *what,
		       const char *path)
{
	return rd_error_set(err, RD_EIO, "%s %s: %s", what, path,
			    why == ENOSPC ? "no space left on the device"
					  : strerror(why));
}

int rd_blob_writer_new(rd_blob_writer **out, rd_evidence_repo *repo,
		       int64_t size, rd_error *err)
{
	rd_blob_writer *w = NULL;
	char header[40];
	int rc, n;

	if (!out || !repo)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_blob_writer_new needs an output and a "
				    "repository");
	*out = NULL;
	if (!ev_is_record(repo))
		return rd_error_set(err, RD_EINTERNAL, "evidence files are "
				    "written into the record only");
	if (size <= 0)
		return rd_error_set_field(err, RD_EINVALID, "size",
					  "size: a file of %lld bytes cannot "
					  "be stored; evidence has at least "
					  "one byte", (long long)size);
	w = calloc(1, sizeof(*w));
	if (!w) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	w->fd = -1;
	w->repo = repo;
	w->size = size;
	w->prefix_want = size < RD_SNIFF_BYTES ? (size_t)size : RD_SNIFF_BYTES;
	w->prefix = malloc(w->prefix_want);
	if (!w->prefix) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	sha256_init(&w->sha);
	sha1_init(&w->object);
	n = snprintf(header, sizeof(header), "blob %lld", (long long)size);
	sha1_update(&w->object, (size_t)n + 1, (const uint8_t *)header);
	if (repo->has_files) {
		if ((rc = repo->files.create(repo->files.ctx, size, &w->kept,
					     err)) < 0)
			goto done;
		*out = w;
		return RD_OK;
	}
	n = snprintf(w->temp, sizeof(w->temp), "%s/" EV_UPLOAD_PREFIX
		     EV_UPLOAD_MARK "XXXXXX", repo->blobs);
	if (n < 0 || (size_t)n >= sizeof(w->temp)) {
		rc = rd_error_set(err, RD_EINTERNAL, "the blobs directory's "
				  "path is too long");
		goto done;
	}
	if ((w->fd = mkostemp(w->temp, O_CLOEXEC)) < 0) {
		rc = system_fail(err, errno, "cannot start writing a file in",
				 repo->blobs);
		w->temp[0] = '\0';
		goto done;
	}
	*out = w;
	w = NULL;
	rc = RD_OK;
done:
	rd_blob_writer_free(w);
	return rc;
}

int rd_blob_writer_write(rd_blob_writer *w, const void *buf, size_t len,
			 rd_error *err)
{
	const unsigned char *bytes = buf;
	size_t done = 0;

	if (!w || (!buf && len))
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_blob_writer_write needs a writer and "
				    "bytes");
	if (w->failed)
		return rd_error_set(err, RD_EINVALID,
				    "this file can take no more bytes: it was "
				    "refused earlier");
	if (len == 0)
		return RD_OK;
	if (len > (uint64_t)(w->size - w->written)) {
		w->failed = 1;
		return rd_error_set_field(err, RD_EINVALID, "size",
					  "more bytes than the %lld declared: "
					  "%lld already written, %zu more "
					  "given", (long long)w->size,
					  (long long)w->written, len);
	}
	sha256_update(&w->sha, len, bytes);
	sha1_update(&w->object, len, bytes);
	if (w->kept) {
		int rc = w->repo->files.append(w->kept, bytes, len, err);

		if (rc < 0) {
			w->failed = 1;
			return rc;
		}
		done = len;
	}
	while (done < len) {
		ssize_t n = write(w->fd, bytes + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->failed = 1;
			return rd_error_set(err, RD_EIO,
					    "cannot write the evidence file "
					    "after %lld bytes: %s",
					    (long long)(w->written + (int64_t)done),
					    n < 0 ? strerror(errno)
						  : "nothing written");
		}
		done += (size_t)n;
	}
	w->written += (int64_t)len;
	if (w->prefix_len < w->prefix_want) {
		size_t take = w->prefix_want - w->prefix_len;

		if (take > len)
			take = len;
		memcpy(w->prefix + w->prefix_len, bytes, take);
		w->prefix_len += take;
	}
	if (!w->sniffed && w->prefix_len == w->prefix_want) {
		int rc = ev_sniff(w->repo, w->prefix, w->prefix_len,
				  w->content_type, err);

		if (rc < 0) {
			w->failed = 1;
			return rc;
		}
		w->sniffed = 1;
		/* the prefix has served its purpose */
		free(w->prefix);
		w->prefix = NULL;
	}
	return RD_OK;
}

const char *rd_blob_writer_content_type(const rd_blob_writer *w)
{
	return w && w->sniffed ? w->content_type : NULL;
}

/*
 * The temporary file becomes <blobs>/<2 hex>/<38 hex>, durably: its bytes
 * flushed, renamed, the directory flushed (and the blobs directory, when
 * the two-digit directory is new). A file already there holds the same
 * bytes (same id): it is kept and the temporary dropped.
 */
static int settle(rd_blob_writer *w, git_oid *oid, rd_error *err)
{
	uint8_t digest[SHA1_DIGEST_SIZE];
	char path[4096], dir[4096];
	struct stat sb;
	int rc, made = 0;

	sha1_digest(&w->object, sizeof(digest), digest);
	memcpy(oid->id, digest, sizeof(digest));
	if (w->kept)
		return w->repo->files.keep(w->kept, oid->id, w->size, err);
	if ((rc = ev_blob_path(w->repo, oid, path, sizeof(path), err)) < 0)
		return rc;
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path),
		 path);
	if (fdatasync(w->fd) != 0)
		return system_fail(err, errno, "cannot make durable", w->temp);
	close(w->fd);
	w->fd = -1;
	if (mkdir(dir, 0755) == 0)
		made = 1;
	else if (errno != EEXIST)
		return system_fail(err, errno, "cannot create", dir);
	if (stat(path, &sb) == 0 && sb.st_size == w->size) {
		/* the same bytes are there: renew their time, keep them */
		unlink(w->temp);
		w->temp[0] = '\0';
		(void)utimensat(AT_FDCWD, path, NULL, 0);
		return RD_OK;
	}
	if (rename(w->temp, path) != 0)
		return system_fail(err, errno, "cannot store", path);
	w->temp[0] = '\0';
	if ((rc = ev_sync_dir(dir, err)) < 0 ||
	    (made && (rc = ev_sync_dir(w->repo->blobs, err)) < 0))
		return rc;
	return RD_OK;
}

int rd_blob_writer_finish(rd_blob_writer *w, rd_blob_info *info,
			  rd_error *err)
{
	unsigned char digest[SHA256_DIGEST_SIZE];
	git_oid oid;
	int rc;

	if (!w || !info)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_blob_writer_finish needs a writer and "
				    "an output");
	if (w->failed)
		return rd_error_set(err, RD_EINVALID,
				    "this file cannot be stored: it was "
				    "refused earlier");
	if (w->written != w->size) {
		/* a short file is abandoned, never finalised */
		w->failed = 1;
		return rd_error_set_field(err, RD_EINVALID, "size",
					  "truncated: %lld of the %lld bytes "
					  "declared arrived",
					  (long long)w->written,
					  (long long)w->size);
	}
	if ((rc = settle(w, &oid, err)) < 0) {
		w->failed = 1;
		return rc;
	}
	memset(info, 0, sizeof(*info));
	ev_oid_hex(info->oid, &oid);
	sha256_digest(&w->sha, sizeof(digest), digest);
	ev_sha256_hex(info->sha256, digest);
	info->size = w->size;
	memcpy(info->content_type, w->content_type,
	       sizeof(info->content_type));
	/* a finished writer is done with: finishing releases it */
	rd_blob_writer_free(w);
	return RD_OK;
}

void rd_blob_writer_free(rd_blob_writer *w)
{
	if (!w)
		return;
	/* without a finish this discards the temporary file */
	if (w->kept)
		w->repo->files.drop(w->kept);
	if (w->fd >= 0)
		close(w->fd);
	if (w->temp[0])
		unlink(w->temp);
	free(w->prefix);
	free(w);
}
