/*
 * Streaming an evidence file into the object database: the bytes go
 * straight to a libgit2 write stream while SHA-256 is computed over them,
 * and only the first RD_SNIFF_BYTES are kept, to tell the content type.
 *
 * A writer must never hold a whole file in memory, and must never leave a
 * blob behind unless every declared byte arrived and finish was called: an
 * abandoned or short upload leaves the repository as it was. A successful
 * finish releases the writer; a failed one leaves it to rd_blob_writer_free.
 */
#include "evidence/evidence_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha2.h>

struct rd_blob_writer {
	rd_evidence_repo *repo;       /* borrowed */
	git_odb_stream *stream;
	struct sha256_ctx sha;
	int64_t size;                 /* declared */
	int64_t written;
	unsigned char *prefix;        /* the first bytes, for libmagic */
	size_t prefix_len;
	size_t prefix_want;           /* min(size, RD_SNIFF_BYTES) */
	int sniffed;
	int failed;                   /* a write went wrong: never finish */
	char content_type[128];
};

int rd_blob_writer_new(rd_blob_writer **out, rd_evidence_repo *repo,
		       int64_t size, rd_error *err)
{
	rd_blob_writer *w = NULL;
	int rc;

	if (!out || !repo)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_blob_writer_new needs an output and a "
				    "repository");
	*out = NULL;
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
	w->repo = repo;
	w->size = size;
	w->prefix_want = size < RD_SNIFF_BYTES ? (size_t)size : RD_SNIFF_BYTES;
	w->prefix = malloc(w->prefix_want);
	if (!w->prefix) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	sha256_init(&w->sha);
	if (git_odb_open_wstream(&w->stream, repo->odb,
				 (git_object_size_t)size,
				 GIT_OBJECT_BLOB) < 0) {
		rc = ev_git_fail(err, RD_EIO,
				 "cannot start writing a file of %lld bytes "
				 "into the evidence repository",
				 (long long)size);
		/*
		 * libgit2 1.5 fails after its backend made the stream
		 * (out of memory for the hash) without freeing it, and
		 * git_odb_stream_free would then crash on the missing
		 * hash: let the backend free its own part.
		 */
		if (w->stream && !w->stream->hash_ctx)
			w->stream->free(w->stream);
		else
			git_odb_stream_free(w->stream);
		w->stream = NULL;
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
	errno = 0;
	if (git_odb_stream_write(w->stream, buf, len) < 0) {
		/* libgit2 may say nothing: the system's reason, if any */
		int why = errno;

		w->failed = 1;
		return ev_git_fail(err, RD_EIO,
				   "cannot write into the evidence repository "
				   "after %lld bytes%s%s%s", (long long)w->written,
				   why ? " (" : "", why ? strerror(why) : "",
				   why ? ")" : "");
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

int rd_blob_writer_finish(rd_blob_writer *w, rd_blob_info *info,
			  rd_error *err)
{
	unsigned char digest[SHA256_DIGEST_SIZE];
	git_oid oid;

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
	if (git_odb_stream_finalize_write(&oid, w->stream) < 0) {
		w->failed = 1;
		return ev_git_fail(err, RD_EIO,
				   "cannot store a file of %lld bytes in the "
				   "evidence repository", (long long)w->size);
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
	/* without a finalised write this discards the temporary object */
	git_odb_stream_free(w->stream);
	free(w->prefix);
	free(w);
}
