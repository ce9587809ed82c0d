/*
 * The mirror: <data>/evidence.git, a bare repository that stock git reads,
 * kept current from the record by the service (service/mirror.c). Objects
 * arrive in packs built from the record's objects one by one (never a
 * commit's or a tree's whole walk), in a repository that has no refs;
 * refs are written loose, then everything is made durable with one syncfs.
 * Nothing is ever written loose, and nothing here is the record: the
 * mirror can be deleted and made again.
 */
#include "evidence/evidence_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rd_mirror {
	rd_evidence_repo *repo;  /* opened when first read */
	char *path;
};

int rd_mirror_open(rd_mirror **out, const char *path, int create,
		   rd_error *err)
{
	rd_mirror *m = calloc(1, sizeof(*m));
	char head[4096];
	struct stat sb;
	int rc;

	*out = NULL;
	if (!m || !(m->path = strdup(path))) {
		free(m);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	snprintf(head, sizeof(head), "%s/HEAD", path);
	/* a repository is made, or checked, by libgit2 once */
	if (stat(head, &sb) != 0 &&
	    (rc = rd_evidence_repo_open(&m->repo, path, create, err)) < 0) {
		rd_mirror_close(m);
		return rc;
	}
	*out = m;
	return RD_OK;
}

void rd_mirror_close(rd_mirror *m)
{
	if (!m)
		return;
	rd_evidence_repo_close(m->repo);
	free(m->path);
	free(m);
}

rd_evidence_repo *rd_mirror_repo(rd_mirror *m)
{
	rd_error ignored;

	if (!m->repo &&
	    rd_evidence_repo_open(&m->repo, m->path, 0, &ignored) < 0)
		return NULL;
	return m->repo;
}

/*
 * The pack's bytes reach libgit2's indexer in chunks of at least this
 * many: the indexer maps a new window of the pack file for each object
 * that lies past the windows it has, and unmapping one costs every CPU
 * running the process a TLB flush. Fed object by object (as
 * git_packbuilder_write does), a pack cost one mmap and one munmap an
 * object, a third of the mirror's time under load; fed in chunks, one a
 * chunk.
 */
#define PACK_CHUNK (4u * 1024 * 1024)

typedef struct pack_feed {
	git_indexer *indexer;
	git_indexer_progress stats;
	unsigned char *buf;
	size_t len;
} pack_feed;

static int feed_flush(pack_feed *f)
{
	int grc = 0;

	if (f->len)
		grc = git_indexer_append(f->indexer, f->buf, f->len, &f->stats);
	f->len = 0;
	return grc;
}

static int feed(void *data, size_t size, void *payload)
{
	pack_feed *f = payload;
	int grc;

	if (f->len + size > PACK_CHUNK && (grc = feed_flush(f)) < 0)
		return grc;
	if (size >= PACK_CHUNK)
		return git_indexer_append(f->indexer, data, size, &f->stats);
	memcpy(f->buf + f->len, data, size);
	f->len += size;
	return 0;
}

int rd_mirror_write_pack(rd_mirror *m, rd_evidence_repo *record,
			 const unsigned char *ids, size_t count,
			 char name[RD_OID_BUFSZ], rd_error *err)
{
	git_indexer_options opts;
	git_packbuilder *pb = NULL;
	pack_feed f;
	char dir[4096];
	const char *made;
	int rc = RD_OK;

	name[0] = '\0';
	if (count == 0)
		return RD_OK;
	memset(&f, 0, sizeof(f));
	if (git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION) < 0)
		return ev_git_fail(err, RD_EINTERNAL, "cannot set up an indexer");
	snprintf(dir, sizeof(dir), "%s/objects/pack", m->path);
	if (!(f.buf = malloc(PACK_CHUNK)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if (git_packbuilder_new(&pb, record->git) < 0) {
		rc = ev_git_fail(err, RD_EIO, "cannot start a pack of the "
				 "mirror");
		goto done;
	}
	git_packbuilder_set_threads(pb, 1);
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		git_oid id;

		memcpy(id.id, ids + i * GIT_OID_RAWSZ, GIT_OID_RAWSZ);
		if (git_packbuilder_insert(pb, &id, NULL) < 0) {
			char hex[RD_OID_BUFSZ];

			ev_oid_hex(hex, &id);
			rc = ev_git_fail(err, RD_EIO, "object %s cannot go "
					 "into the mirror's pack", hex);
		}
	}
	if (rc == RD_OK &&
	    (git_indexer_new(&f.indexer, dir, 0644, NULL, &opts) < 0 ||
	     git_packbuilder_foreach(pb, feed, &f) < 0 ||
	     feed_flush(&f) < 0 ||
	     git_indexer_commit(f.indexer, &f.stats) < 0))
		rc = ev_git_fail(err, RD_EIO, "cannot write a pack of %zu "
				 "objects into %s", count, dir);
	if (rc == RD_OK && (made = git_indexer_name(f.indexer)) != NULL)
		snprintf(name, RD_OID_BUFSZ, "%s", made);
	/* a reader of the mirror lists its packs again */
	if (rc == RD_OK && m->repo && git_odb_refresh(m->repo->odb) < 0)
		git_error_clear();
done:
	git_indexer_free(f.indexer);
	git_packbuilder_free(pb);
	free(f.buf);
	return rc;
}

int rd_mirror_set_ref(rd_mirror *m, const char *dispute_id, const char *head,
		      rd_error *err)
{
	char path[4096], temp[4096 + 16], line[RD_OID_BUFSZ + 1];
	git_oid id;
	int fd, rc, n;

	if (!rd_id_valid(dispute_id))
		return rd_error_set(err, RD_EINVALID, "\"%.64s\" is not a "
				    "dispute id", dispute_id);
	if ((rc = ev_oid_parse(&id, head, "head", err)) < 0)
		return rc;
	snprintf(path, sizeof(path), "%s/refs/disputes", m->path);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return rd_error_set(err, RD_EIO, "cannot create %s: %s", path,
				    strerror(errno));
	snprintf(path, sizeof(path), "%s/" EV_REF_PREFIX "%s", m->path,
		 dispute_id);
	snprintf(temp, sizeof(temp), "%s.redress-new", path);
	n = snprintf(line, sizeof(line), "%s\n", head);
	if ((fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0644)) < 0 ||
	    write(fd, line, (size_t)n) != n || close(fd) != 0 ||
	    rename(temp, path) != 0) {
		int why = errno;

		if (fd >= 0)
			unlink(temp);
		return rd_error_set(err, RD_EIO, "cannot move %s in the mirror: "
				    "%s", path, strerror(why));
	}
	/* a writer killed while moving it with git left its lock file */
	snprintf(temp, sizeof(temp), "%s.lock", path);
	(void)unlink(temp);
	return RD_OK;
}

int rd_mirror_sync(rd_mirror *m, rd_error *err)
{
	int fd = open(m->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || syncfs(fd) != 0) {
		int why = errno;

		if (fd >= 0)
			close(fd);
		return rd_error_set(err, RD_EIO, "cannot make the mirror %s "
				    "durable: %s", m->path, strerror(why));
	}
	close(fd);
	return RD_OK;
}

int rd_mirror_keep_pack(rd_mirror *m, const char *name, rd_error *err)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/objects/pack/pack-%s.keep", m->path,
		 name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
	    close(fd) != 0)
		return rd_error_set(err, RD_EIO, "cannot write %s: %s", path,
				    strerror(errno));
	return RD_OK;
}

int rd_mirror_drop_pack(rd_mirror *m, const char *name, rd_error *err)
{
	static const char *const ext[] = { "keep", "idx", "pack", "rev" };

	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/objects/pack/pack-%s.%s",
			 m->path, name, ext[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			return rd_error_set(err, RD_EIO, "cannot remove %s: %s",
					    path, strerror(errno));
	}
	if (m->repo && git_odb_refresh(m->repo->odb) < 0)
		git_error_clear();
	return RD_OK;
}

