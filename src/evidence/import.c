/*
 * Importing the history of a dispute from a repository on disk, as an
 * earlier release kept it (git was its record), into the record: every
 * commit, tree and blob reachable from the head, with the same bytes and
 * the same ids. Evidence files (evidence/<n>/content.*) become files of
 * the blobs directory, made durable before the transaction that names
 * them; everything else becomes rows of the change being written.
 *
 * A tree is written after everything under it, and a commit after its
 * tree, so that within the record an object present means its whole
 * subtree is: the walk skips what is there and the import can resume.
 */
#include "evidence/evidence_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COPY_CHUNK (256 * 1024)

typedef struct importer {
	rd_evidence_repo *from;
	rd_evidence_repo *to;
	size_t objects;
	rd_error *err;
} importer;

static int present(importer *im, const git_oid *id)
{
	return git_odb_exists(im->to->odb, id);
}

/* Copy one object's bytes as they are; its id must come out the same. */
static int copy_raw(importer *im, const git_oid *id)
{
	git_odb_object *obj = NULL;
	git_oid written;
	char hex[RD_OID_BUFSZ];
	int rc = RD_OK;

	ev_oid_hex(hex, id);
	if (git_odb_read(&obj, im->from->odb, id) < 0)
		return ev_git_fail(im->err, RD_EIO, "object %s cannot be read "
				   "from %s", hex, im->from->path);
	if (git_odb_write(&written, im->to->odb, git_odb_object_data(obj),
			  git_odb_object_size(obj),
			  git_odb_object_type(obj)) < 0)
		rc = ev_git_fail(im->err, RD_EIO, "object %s cannot be written "
				 "into the record", hex);
	else if (!git_oid_equal(&written, id))
		rc = rd_error_set(im->err, RD_EIO, "object %s of %s does not "
				  "hash to its id", hex, im->from->path);
	else
		im->objects++;
	git_odb_object_free(obj);
	return rc;
}

/* An evidence file: streamed into the blobs directory, then its row. */
static int copy_file(importer *im, const git_oid *id)
{
	rd_blob_writer *w = NULL;
	git_odb_object *obj = NULL;
	rd_blob_info info;
	char hex[RD_OID_BUFSZ];
	const unsigned char *bytes;
	size_t size, done = 0;
	int rc;

	ev_oid_hex(hex, id);
	/* an evidence file is read whole here, as libgit2 reads a packed one */
	if (git_odb_read(&obj, im->from->odb, id) < 0)
		return ev_git_fail(im->err, RD_EIO, "evidence file %s cannot "
				   "be read from %s", hex, im->from->path);
	size = git_odb_object_size(obj);
	bytes = git_odb_object_data(obj);
	if (size == 0) {
		/* an empty blob is a row with its (no) bytes */
		git_odb_object_free(obj);
		return copy_raw(im, id);
	}
	if ((rc = rd_blob_writer_new(&w, im->to, (int64_t)size, im->err)) < 0)
		goto done;
	while (rc == RD_OK && done < size) {
		size_t chunk = size - done > COPY_CHUNK ? COPY_CHUNK
							: size - done;

		rc = rd_blob_writer_write(w, bytes + done, chunk, im->err);
		done += chunk;
	}
	if (rc < 0 || (rc = rd_blob_writer_finish(w, &info, im->err)) < 0)
		goto done;
	w = NULL;
	if (strcmp(info.oid, hex) != 0) {
		rc = rd_error_set(im->err, RD_EIO, "evidence file %s of %s "
				  "does not hash to its id", hex,
				  im->from->path);
		goto done;
	}
	if ((rc = im->to->io.put(im->to->io.ctx, id->id, GIT_OBJECT_BLOB,
				 (int64_t)size, NULL, im->err)) == RD_OK)
		im->objects++;
done:
	rd_blob_writer_free(w);
	git_odb_object_free(obj);
	return rc;
}

static int is_evidence_file(const char *dir, const char *name)
{
	/* evidence/<n>/content.<ext>: dir is "evidence/<n>/" */
	return strncmp(dir, "evidence/", 9) == 0 &&
	       strchr(dir + 9, '/') == dir + strlen(dir) - 1 &&
	       strncmp(name, "content.", 8) == 0;
}

/* A tree deeper than any path redress writes is not one of its own. */
#define IMPORT_MAX_DEPTH 64

/* NOLINTNEXTLINE(misc-no-recursion): bounded by IMPORT_MAX_DEPTH */
static int copy_tree(importer *im, const git_oid *id, const char *dir,
		     int depth)
{
	git_tree *tree = NULL;
	int rc = RD_OK;

	if (present(im, id))
		return RD_OK;
	if (depth > IMPORT_MAX_DEPTH)
		return rd_error_set(im->err, RD_EIO, "a tree of %s is nested "
				    "deeper than %d directories; redress "
				    "never wrote it", im->from->path,
				    IMPORT_MAX_DEPTH);
	if (git_tree_lookup(&tree, im->from->git, id) < 0) {
		char hex[RD_OID_BUFSZ];

		ev_oid_hex(hex, id);
		return ev_git_fail(im->err, RD_EIO, "tree %s cannot be read "
				   "from %s", hex, im->from->path);
	}
	for (size_t i = 0; i < git_tree_entrycount(tree) && rc == RD_OK; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const git_oid *eid = git_tree_entry_id(e);
		const char *name = git_tree_entry_name(e);
		char sub[EV_PATH_MAX + EV_NAME_MAX + 2];

		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			if (snprintf(sub, sizeof(sub), "%s%s/", dir, name) >=
			    (int)sizeof(sub))
				rc = rd_error_set(im->err, RD_EIO, "a path in "
						  "%s is too long",
						  im->from->path);
			else
				rc = copy_tree(im, eid, sub, depth + 1);
		} else if (git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
			if (present(im, eid))
				continue;
			rc = is_evidence_file(dir, name) ? copy_file(im, eid)
							 : copy_raw(im, eid);
		}
	}
	git_tree_free(tree);
	return rc == RD_OK ? copy_raw(im, id) : rc;
}

int rd_evidence_import(rd_evidence_repo *from, rd_evidence_repo *record,
		       const char *head, size_t *objects, rd_error *err)
{
	importer im = { from, record, 0, err };
	git_revwalk *walk = NULL;
	git_oid id, *ids = NULL;
	size_t count = 0, room = 0;
	int rc = RD_OK;

	if (!from || !record || !ev_is_record(record) || !head)
		return rd_error_set(err, RD_EINTERNAL, "rd_evidence_import "
				    "needs a repository, the record and a "
				    "head");
	if ((rc = ev_oid_parse(&id, head, "head", err)) < 0)
		return rc;
	if (git_revwalk_new(&walk, from->git) < 0 ||
	    git_revwalk_push(walk, &id) < 0) {
		rc = ev_git_fail(err, RD_EIO, "the history of %s cannot be "
				 "walked in %s", head, from->path);
		goto done;
	}
	/* newest first; stop at the first commit the record holds */
	while (git_revwalk_next(&id, walk) == 0) {
		if (present(&im, &id))
			continue;
		if (count == room) {
			size_t grown = room ? room * 2 : 64;
			git_oid *more = realloc(ids, grown * sizeof(*more));

			if (!more) {
				rc = rd_error_set(err, RD_ENOMEM,
						  "out of memory");
				goto done;
			}
			ids = more;
			room = grown;
		}
		ids[count++] = id;
	}
	/* oldest first, each after its tree */
	for (size_t i = count; i-- > 0 && rc == RD_OK;) {
		git_commit *c = NULL;

		if (git_commit_lookup(&c, from->git, &ids[i]) < 0) {
			rc = ev_git_fail(err, RD_EIO, "a commit of %s cannot be "
					 "read", head);
			break;
		}
		rc = copy_tree(&im, git_commit_tree_id(c), "", 0);
		git_commit_free(c);
		if (rc == RD_OK)
			rc = copy_raw(&im, &ids[i]);
	}
done:
	if (objects)
		*objects = im.objects;
	free(ids);
	git_revwalk_free(walk);
	return rc;
}
