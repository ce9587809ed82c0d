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

int rd_mirror_write_pack(rd_mirror *m, rd_evidence_repo *record,
			 const unsigned char *ids, size_t count,
			 char name[RD_OID_BUFSZ], rd_error *err)
{
	git_packbuilder *pb = NULL;
	char dir[4096];
	const char *made;
	int rc = RD_OK;

	name[0] = '\0';
	if (count == 0)
		return RD_OK;
	snprintf(dir, sizeof(dir), "%s/objects/pack", m->path);
	if (git_packbuilder_new(&pb, record->git) < 0)
		return ev_git_fail(err, RD_EIO, "cannot start a pack of the "
				   "mirror");
	/* no deltas: the record's objects are small, the files are photos */
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
	    git_packbuilder_write(pb, dir, 0644, NULL, NULL) < 0)
		rc = ev_git_fail(err, RD_EIO, "cannot write a pack of %zu "
				 "objects into %s", count, dir);
	if (rc == RD_OK && (made = git_packbuilder_name(pb)) != NULL)
		snprintf(name, RD_OID_BUFSZ, "%s", made);
	git_packbuilder_free(pb);
	/* a reader of the mirror lists its packs again */
	if (rc == RD_OK && m->repo && git_odb_refresh(m->repo->odb) < 0)
		git_error_clear();
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

