/*
 * The record's repository: a libgit2 repository with no directory and no
 * refs, whose object database has one backend, this file's, that reads and
 * writes objects through the table of functions the service gives
 * (rd_object_io, the store's), and reads evidence files from the blobs
 * directory. libgit2 makes the objects (hashes, trees, commits); the
 * store keeps them in the transaction of the change.
 *
 * A failure of the store is handed to libgit2 as its error message, and
 * its code kept for ev_git_fail, so that "the database is busy" reaches
 * the caller as RD_EBUSY rather than as a git failure.
 *
 * Each read of the record is a query (on PostgreSQL a round trip), and
 * libgit2's own cache is off (repo.c says why), so the backend keeps the
 * small objects it last read or wrote (a dispute's trees and commit,
 * which its next change reads again) in a cache of its own: a slot per
 * leading bits of the id, at most EV_CACHE_BYTES in all. It answers
 * whole reads only. An object never changes (its id is its bytes), so a
 * cached one is always right; one written by a change that was then
 * rolled back may be cached but gone from the record, and is only ever
 * asked for through a tree or commit that names it, which went with it.
 * Whether an object is stored (exists, headers) is always the record's
 * to say. A write does not ask first (freshen answers "absent"): the
 * store keeps an object already there as it is, and the question cost
 * as much as the write.
 */
#include "evidence/evidence_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2/sys/odb_backend.h>
#include <git2/sys/repository.h>

typedef struct record_backend {
	git_odb_backend parent;
	rd_evidence_repo *repo;
} record_backend;

/* A read stream over an evidence file. */
typedef struct file_stream {
	git_odb_stream parent;
	ev_file_reader *reader;
} file_stream;

_Thread_local int ev_io_code;

/* The cache: slots, the largest object kept, the bytes kept at most. */
#define EV_CACHE_SLOTS 2048
#define EV_CACHE_OBJECT_MAX (32 * 1024)
#define EV_CACHE_BYTES (2 * 1024 * 1024)

struct ev_cached {
	git_oid id;
	int type;                     /* 0: the slot is empty */
	size_t len;
	unsigned char *data;
};

static struct ev_cached *cache_slot(rd_evidence_repo *repo, const git_oid *id)
{
	unsigned slot = ((unsigned)id->id[0] << 8 | id->id[1]) % EV_CACHE_SLOTS;

	return repo->cache ? &repo->cache[slot] : NULL;
}

/* Keep a copy of an object in the cache (nothing when it is large). */
static void cache_put(rd_evidence_repo *repo, const git_oid *id, int type,
		      const void *data, size_t len)
{
	struct ev_cached *c;
	unsigned char *copy;

	if (len > EV_CACHE_OBJECT_MAX || (len && !data))
		return;
	if (!repo->cache &&
	    !(repo->cache = calloc(EV_CACHE_SLOTS, sizeof(*repo->cache))))
		return;
	c = cache_slot(repo, id);
	if (c->type && git_oid_equal(&c->id, id))
		return;
	if (c->type) {
		repo->cache_bytes -= c->len;
		free(c->data);
		c->type = 0;
		c->data = NULL;
	}
	if (repo->cache_bytes + len > EV_CACHE_BYTES ||
	    !(copy = malloc(len ? len : 1)))
		return;
	if (len)
		memcpy(copy, data, len);
	git_oid_cpy(&c->id, id);
	c->type = type;
	c->len = len;
	c->data = copy;
	repo->cache_bytes += len;
}

void ev_cache_free(rd_evidence_repo *repo)
{
	if (!repo || !repo->cache)
		return;
	for (size_t i = 0; i < EV_CACHE_SLOTS; i++)
		free(repo->cache[i].data);
	free(repo->cache);
	repo->cache = NULL;
	repo->cache_bytes = 0;
}

/* Hand a store failure to libgit2, keeping its code for ev_git_fail. */
static int io_failed(const rd_error *err)
{
	ev_io_code = err->code ? err->code : RD_EIO;
	git_error_set_str(GIT_ERROR_ODB, err->message[0] ? err->message
							 : "the record failed");
	return GIT_ERROR;
}

int ev_blob_path(const rd_evidence_repo *repo, const git_oid *id,
		 char *out, size_t size, rd_error *err)
{
	char hex[RD_OID_BUFSZ];
	int n;

	ev_oid_hex(hex, id);
	n = snprintf(out, size, "%s/%.2s/%s", repo->blobs, hex, hex + 2);
	if (n < 0 || (size_t)n >= size)
		return rd_error_set(err, RD_EINTERNAL,
				    "the path of evidence file %s is too long",
				    hex);
	return RD_OK;
}

int ev_sync_dir(const char *dir, rd_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		int why = errno;

		if (fd >= 0)
			close(fd);
		return rd_error_set(err, RD_EIO,
				    "%s: cannot make its entries durable: %s",
				    dir, strerror(why));
	}
	close(fd);
	return RD_OK;
}

int ev_is_record(const rd_evidence_repo *repo)
{
	return repo && (repo->blobs || repo->has_files);
}

struct ev_file_reader {
	rd_evidence_repo *repo;       /* borrowed */
	int fd;                       /* a file of the blobs directory, or */
	void *kept;                   /* a reader of repo->files */
	int64_t want, got;
};

/* A file of the blobs directory, checked to hold `want` bytes. */
static int open_in_dir(rd_evidence_repo *repo, const git_oid *id,
		       int64_t want, rd_error *err)
{
	char path[4096];
	struct stat sb;
	int fd;

	if (ev_blob_path(repo, id, path, sizeof(path), err) < 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rd_error_set(err, RD_EIO, "evidence file %s: %s", path,
			     strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || sb.st_size != want) {
		rd_error_set(err, RD_EIO, "evidence file %s holds %lld bytes, "
			     "the record says %lld", path,
			     (long long)sb.st_size, (long long)want);
		close(fd);
		return -1;
	}
	return fd;
}

int ev_file_open(rd_evidence_repo *repo, const git_oid *id, int64_t want,
		 ev_file_reader **out, rd_error *err)
{
	ev_file_reader *r;
	int rc;

	*out = NULL;
	if (!ev_is_record(repo))
		return rd_error_set(err, RD_EINTERNAL, "evidence files are the "
				    "record's");
	if (!(r = calloc(1, sizeof(*r))))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	r->repo = repo;
	r->fd = -1;
	r->want = want;
	if (repo->has_files) {
		if ((rc = repo->files.open(repo->files.ctx, id->id, want,
					   &r->kept, err)) < 0) {
			free(r);
			return rc;
		}
	} else if ((r->fd = open_in_dir(repo, id, want, err)) < 0) {
		free(r);
		return err->code ? err->code : RD_EIO;
	}
	*out = r;
	return RD_OK;
}

int ev_file_read(ev_file_reader *r, void *buf, size_t len, size_t *got,
		 rd_error *err)
{
	int rc;

	*got = 0;
	if (r->got >= r->want || len == 0)
		return RD_OK;
	if ((uint64_t)len > (uint64_t)(r->want - r->got))
		len = (size_t)(r->want - r->got);
	if (r->kept) {
		if ((rc = r->repo->files.read(r->kept, buf, len, got,
					      err)) < 0)
			return rc;
	} else {
		ssize_t n;

		do
			n = read(r->fd, buf, len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return rd_error_set(err, RD_EIO, "cannot read an "
					    "evidence file: %s",
					    strerror(errno));
		*got = (size_t)n;
	}
	if (*got == 0)
		return rd_error_set(err, RD_EIO, "an evidence file ended after "
				    "%lld of its %lld bytes",
				    (long long)r->got, (long long)r->want);
	r->got += (int64_t)*got;
	return RD_OK;
}

void ev_file_close(ev_file_reader *r)
{
	if (!r)
		return;
	if (r->kept)
		r->repo->files.close(r->kept);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

static int rb_header(record_backend *b, const git_oid *id, int *found,
		     int *type, int64_t *size, int *in_file, void **data)
{
	rd_error err;

	rd_error_clear(&err);
	if (b->repo->cancel && atomic_load(b->repo->cancel)) {
		rd_error_set(&err, RD_EBUSY, "cancelled: the server is "
			     "stopping");
		return io_failed(&err);
	}
	if (b->repo->io.get(b->repo->io.ctx, id->id, found, type, size,
			    in_file, data, &err) < 0)
		return io_failed(&err);
	return 0;
}

static int rb_read(void **data_p, size_t *len_p, git_object_t *type_p,
		   git_odb_backend *backend, const git_oid *id)
{
	record_backend *b = (record_backend *)backend;
	struct ev_cached *c = cache_slot(b->repo, id);
	void *data = NULL, *out;
	int64_t size = 0;
	int found = 0, type = 0, in_file = 0, rc;

	if (c && c->type && git_oid_equal(&c->id, id)) {
		if (!(out = git_odb_backend_data_alloc(backend, c->len + 1)))
			return GIT_ERROR;
		if (c->len)
			memcpy(out, c->data, c->len);
		*data_p = out;
		*len_p = c->len;
		*type_p = (git_object_t)c->type;
		return 0;
	}
	if ((rc = rb_header(b, id, &found, &type, &size, &in_file, &data)) < 0)
		return rc;
	if (!found)
		return GIT_ENOTFOUND;
	if (!(out = git_odb_backend_data_alloc(backend, (size_t)size + 1))) {
		free(data);
		return GIT_ERROR;
	}
	if (in_file) {
		ev_file_reader *r = NULL;
		rd_error err;
		size_t got = 0, n = 0;
		int frc;

		rd_error_clear(&err);
		frc = ev_file_open(b->repo, id, size, &r, &err);
		while (frc == RD_OK && got < (size_t)size &&
		       (frc = ev_file_read(r, (char *)out + got,
					   (size_t)size - got, &n,
					   &err)) == RD_OK)
			got += n;
		ev_file_close(r);
		if (frc < 0) {
			git_odb_backend_data_free(backend, out);
			free(data);
			return io_failed(&err);
		}
	} else {
		if (size)
			memcpy(out, data, (size_t)size);
		cache_put(b->repo, id, type, out, (size_t)size);
	}
	free(data);
	*data_p = out;
	*len_p = (size_t)size;
	*type_p = (git_object_t)type;
	return 0;
}

static int rb_read_header(size_t *len_p, git_object_t *type_p,
			  git_odb_backend *backend, const git_oid *id)
{
	record_backend *b = (record_backend *)backend;
	int64_t size = 0;
	int found = 0, type = 0, in_file = 0, rc;

	if ((rc = rb_header(b, id, &found, &type, &size, &in_file, NULL)) < 0)
		return rc;
	if (!found)
		return GIT_ENOTFOUND;
	*len_p = (size_t)size;
	*type_p = (git_object_t)type;
	return 0;
}

static int rb_exists(git_odb_backend *backend, const git_oid *id)
{
	record_backend *b = (record_backend *)backend;
	int64_t size = 0;
	int found = 0, type = 0, in_file = 0;

	/*
	 * libgit2 reads an error here as "absent": the write then tells,
	 * so this failure's code must not outlive it
	 */
	if (rb_header(b, id, &found, &type, &size, &in_file, NULL) < 0) {
		ev_io_code = 0;
		git_error_clear();
		return 0;
	}
	return found;
}

static int rb_write(git_odb_backend *backend, const git_oid *id,
		    const void *data, size_t len, git_object_t type)
{
	record_backend *b = (record_backend *)backend;
	rd_error err;

	rd_error_clear(&err);
	if (b->repo->io.put(b->repo->io.ctx, id->id, (int)type,
			    (int64_t)len, data ? data : "", &err) < 0)
		return io_failed(&err);
	cache_put(b->repo, id, (int)type, data, len);
	return 0;
}

/*
 * Before a write libgit2 asks whether the object is stored: "absent",
 * always (0 is "present"), and the write itself keeps one already there.
 */
static int rb_freshen(git_odb_backend *backend, const git_oid *id)
{
	(void)backend;
	(void)id;
	return GIT_ENOTFOUND;
}

static int fs_read(git_odb_stream *stream, char *buffer, size_t len)
{
	file_stream *fs = (file_stream *)stream;
	rd_error err;
	size_t got = 0;

	rd_error_clear(&err);
	if (ev_file_read(fs->reader, buffer, len, &got, &err) < 0)
		return io_failed(&err);
	return (int)got;
}

static void fs_free(git_odb_stream *stream)
{
	file_stream *fs = (file_stream *)stream;

	ev_file_close(fs->reader);
	free(fs);
}

/* Evidence files stream from their file; other objects are read whole. */
static int rb_readstream(git_odb_stream **out, size_t *len_p,
			 git_object_t *type_p, git_odb_backend *backend,
			 const git_oid *id)
{
	record_backend *b = (record_backend *)backend;
	file_stream *fs;
	rd_error err;
	int64_t size = 0;
	int found = 0, type = 0, in_file = 0, rc;

	if ((rc = rb_header(b, id, &found, &type, &size, &in_file, NULL)) < 0)
		return rc;
	if (!found || !in_file)
		return GIT_ENOTFOUND;
	if (!(fs = calloc(1, sizeof(*fs)))) {
		git_error_set_oom();
		return GIT_ERROR;
	}
	rd_error_clear(&err);
	if (ev_file_open(b->repo, id, size, &fs->reader, &err) < 0) {
		free(fs);
		return io_failed(&err);
	}
	fs->parent.backend = backend;
	fs->parent.mode = GIT_STREAM_RDONLY;
	fs->parent.declared_size = (git_object_size_t)size;
	fs->parent.read = fs_read;
	fs->parent.free = fs_free;
	*out = &fs->parent;
	*len_p = (size_t)size;
	*type_p = (git_object_t)type;
	return 0;
}

static void rb_free(git_odb_backend *backend)
{
	free(backend);
}

void rd_evidence_cancel_on(rd_evidence_repo *repo, const atomic_int *flag)
{
	repo->cancel = flag;
}

/* The record's repository, its files in blobs_dir or through files. */
static int record_open(rd_evidence_repo **out, const char *blobs_dir,
		       const rd_object_io *io, const rd_file_io *files,
		       rd_error *err)
{
	rd_evidence_repo *repo = NULL;
	record_backend *backend = NULL;
	int rc;

	*out = NULL;
	if (!(repo = calloc(1, sizeof(*repo))) ||
	    (blobs_dir && !(repo->blobs = strdup(blobs_dir))) ||
	    !(repo->path = strdup(blobs_dir ? blobs_dir : "the record"))) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	repo->io = *io;
	if (files) {
		repo->files = *files;
		repo->has_files = 1;
	} else if (mkdir(blobs_dir, 0755) != 0 && errno != EEXIST) {
		rc = rd_error_set(err, RD_EIO,
				  "%s: cannot create the directory of evidence "
				  "files: %s", blobs_dir, strerror(errno));
		goto done;
	}
	if ((rc = ev_library_acquire(repo, err)) < 0)
		goto done;
	if (!(backend = calloc(1, sizeof(*backend))) ||
	    git_odb_init_backend(&backend->parent,
				 GIT_ODB_BACKEND_VERSION) < 0) {
		free(backend);
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	backend->repo = repo;
	backend->parent.read = rb_read;
	backend->parent.read_header = rb_read_header;
	backend->parent.write = rb_write;
	backend->parent.exists = rb_exists;
	backend->parent.freshen = rb_freshen;
	backend->parent.readstream = rb_readstream;
	backend->parent.free = rb_free;
	if (git_odb_new(&repo->odb) < 0) {
		free(backend);
		rc = ev_git_fail(err, RD_EIO, "cannot make an object database");
		goto done;
	}
	if (git_odb_add_backend(repo->odb, &backend->parent, 1) < 0) {
		free(backend);
		rc = ev_git_fail(err, RD_EIO, "cannot add the record to the "
				 "object database");
		goto done;
	}
	if (git_repository_wrap_odb(&repo->git, repo->odb) < 0) {
		rc = ev_git_fail(err, RD_EIO, "cannot open the record's "
				 "repository");
		goto done;
	}
	if ((rc = ev_repo_ready(repo, "the record's repository", err)) < 0)
		goto done;
	*out = repo;
	repo = NULL;
	rc = RD_OK;
done:
	rd_evidence_repo_close(repo);
	return rc;
}

int rd_evidence_record_open(rd_evidence_repo **out, const char *blobs_dir,
			    const rd_object_io *io, rd_error *err)
{
	if (!out || !blobs_dir || !*blobs_dir || !io || !io->get || !io->put)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_record_open needs an output, "
				    "a blobs directory and the record's "
				    "functions");
	return record_open(out, blobs_dir, io, NULL, err);
}

int rd_evidence_record_open_files(rd_evidence_repo **out,
				  const rd_object_io *io,
				  const rd_file_io *files, rd_error *err)
{
	if (!out || !io || !io->get || !io->put || !files || !files->create ||
	    !files->append || !files->keep || !files->drop || !files->open ||
	    !files->read || !files->close || !files->stat ||
	    !files->foreach || !files->remove)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_record_open_files needs an "
				    "output and every function of the "
				    "record's objects and files");
	return record_open(out, NULL, io, files, err);
}

int rd_evidence_file_present(rd_evidence_repo *repo, const char *oid,
			     int *present, int64_t *size, rd_error *err)
{
	char path[4096];
	struct stat sb;
	git_oid id;
	int rc;

	*present = 0;
	*size = 0;
	if (!ev_is_record(repo))
		return rd_error_set(err, RD_EINTERNAL, "evidence files are the "
				    "record's");
	if ((rc = ev_oid_parse(&id, oid, "blob", err)) < 0)
		return rc;
	if (repo->has_files)
		return repo->files.stat(repo->files.ctx, id.id, present, size,
					err);
	if ((rc = ev_blob_path(repo, &id, path, sizeof(path), err)) < 0)
		return rc;
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		*present = 1;
		*size = (int64_t)sb.st_size;
		return RD_OK;
	}
	if (errno == ENOENT)
		return RD_OK;
	return rd_error_set(err, RD_EIO, "%s: %s", path, strerror(errno));
}
