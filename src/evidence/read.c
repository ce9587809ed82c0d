/*
 * Reading the evidence repository back: files and directories of a
 * commit's tree and their object ids, the bytes of an evidence file with
 * their SHA-256, and a dispute's history.
 *
 * Reading never writes: no object, no ref, no cache file. Every object is
 * read with libgit2's hash verification on, so a corrupted file or commit
 * is reported as RD_EIO naming it, never passed on as if it were good.
 */
#include "evidence/evidence_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nettle/sha1.h>
#include <nettle/sha2.h>

/* Bytes handed to a stream's sink at a time. */
#define STREAM_CHUNK (64 * 1024)

int ev_commit_tree(rd_evidence_repo *repo, const char *hex,
		   git_commit **commit, git_tree **tree, rd_error *err)
{
	git_commit *c = NULL;
	git_tree *t = NULL;
	git_oid oid;
	int rc, grc;

	*commit = NULL;
	*tree = NULL;
	if ((rc = ev_oid_parse(&oid, hex, "commit", err)) < 0)
		goto done;
	grc = git_commit_lookup(&c, repo->git, &oid);
	if (grc < 0) {
		rc = ev_git_fail(err, ev_read_code(grc),
				 grc == GIT_ENOTFOUND
					 ? "commit %s is not in the evidence "
					   "repository"
					 : "commit %s cannot be read", hex);
		goto done;
	}
	if (git_commit_tree(&t, c) < 0) {
		rc = ev_git_fail(err, RD_EIO,
				 "the tree of commit %s cannot be read", hex);
		goto done;
	}
	*commit = c;
	*tree = t;
	c = NULL;
	t = NULL;
	rc = RD_OK;
done:
	git_tree_free(t);
	git_commit_free(c);
	return rc;
}

/*
 * The blob at `path` in `commit`: new (git_blob_free). RD_ENOTFOUND when
 * there is no such file, RD_EINVALID when it is a directory.
 */
/* The id of the blob at `path` in `commit`, without reading the blob. */
static int find_blob_id(rd_evidence_repo *repo, const char *commit,
			const char *path, git_oid *out, rd_error *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int rc, grc;

	if ((rc = ev_path_check(path, "path", err)) < 0)
		goto done;
	if ((rc = ev_commit_tree(repo, commit, &c, &tree, err)) < 0)
		goto done;
	grc = git_tree_entry_bypath(&entry, tree, path);
	if (grc == GIT_ENOTFOUND) {
		rc = rd_error_set_field(err, RD_ENOTFOUND, "path",
					"%s: not in commit %s", path, commit);
		goto done;
	}
	if (grc < 0) {
		rc = ev_git_fail(err, RD_EIO, "%s in commit %s: cannot be "
				 "read", path, commit);
		goto done;
	}
	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
		rc = rd_error_set_field(err, RD_EINVALID, "path",
					"%s: is a directory in commit %s, not "
					"a file", path, commit);
		goto done;
	}
	git_oid_cpy(out, git_tree_entry_id(entry));
	rc = RD_OK;
done:
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

static int find_blob(rd_evidence_repo *repo, const char *commit,
		     const char *path, git_blob **out, rd_error *err)
{
	git_oid id;
	int rc;

	*out = NULL;
	if ((rc = find_blob_id(repo, commit, path, &id, err)) < 0)
		return rc;
	if (git_blob_lookup(out, repo->git, &id) < 0) {
		char hex[RD_OID_BUFSZ];

		ev_oid_hex(hex, &id);
		return ev_git_fail(err, RD_EIO, "%s in commit %s (blob %s): "
				   "cannot be read", path, commit, hex);
	}
	return RD_OK;
}

int rd_evidence_read(rd_evidence_repo *repo, const char *commit,
		     const char *path, char **out, size_t *len, rd_error *err)
{
	git_blob *blob = NULL;
	git_object_size_t size;
	char *bytes = NULL;
	int rc;

	if (!repo || !out || !len)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_read needs a repository and "
				    "outputs");
	*out = NULL;
	*len = 0;
	if ((rc = find_blob(repo, commit, path, &blob, err)) < 0)
		goto done;
	size = git_blob_rawsize(blob);
	if (size >= SIZE_MAX) {
		rc = rd_error_set(err, RD_ETOOLARGE, "%s: too large to read "
				  "into memory", path);
		goto done;
	}
	bytes = malloc((size_t)size + 1);
	if (!bytes) {
		rc = rd_error_set(err, RD_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	if (size)
		memcpy(bytes, git_blob_rawcontent(blob), (size_t)size);
	bytes[size] = '\0';
	*out = bytes;
	*len = (size_t)size;
	bytes = NULL;
	rc = RD_OK;
done:
	free(bytes);
	git_blob_free(blob);
	return rc;
}

static void free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

int rd_evidence_list(rd_evidence_repo *repo, const char *commit,
		     const char *dir, char ***names, size_t *count,
		     rd_error *err)
{
	git_commit *c = NULL;
	git_tree *root = NULL, *sub = NULL;
	git_tree_entry *entry = NULL;
	const git_tree *tree;
	char **list = NULL;
	size_t n = 0, total;
	int rc, grc;

	if (!repo || !names || !count)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_list needs a repository and "
				    "outputs");
	*names = NULL;
	*count = 0;
	if (dir && *dir && (rc = ev_path_check(dir, "dir", err)) < 0)
		goto done;
	if ((rc = ev_commit_tree(repo, commit, &c, &root, err)) < 0)
		goto done;
	tree = root;
	if (dir && *dir) {
		grc = git_tree_entry_bypath(&entry, root, dir);
		if (grc == GIT_ENOTFOUND) {
			rc = RD_OK;     /* a missing directory lists nothing */
			goto done;
		}
		if (grc < 0) {
			rc = ev_git_fail(err, RD_EIO, "%s in commit %s: "
					 "cannot be read", dir, commit);
			goto done;
		}
		if (git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
			rc = rd_error_set_field(err, RD_EINVALID, "dir",
						"%s: is a file in commit %s, "
						"not a directory", dir,
						commit);
			goto done;
		}
		if (git_tree_lookup(&sub, repo->git,
				    git_tree_entry_id(entry)) < 0) {
			rc = ev_git_fail(err, RD_EIO, "%s in commit %s: "
					 "cannot be read", dir, commit);
			goto done;
		}
		tree = sub;
	}
	total = git_tree_entrycount(tree);
	if (total) {
		list = calloc(total, sizeof(*list));
		if (!list) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	}
	/* a tree's entries are already in git's order */
	for (; n < total; n++) {
		const char *name =
			git_tree_entry_name(git_tree_entry_byindex(tree, n));

		if (!(list[n] = strdup(name))) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
	}
	*names = list;
	*count = n;
	list = NULL;
	n = 0;
	rc = RD_OK;
done:
	free_names(list, n);
	git_tree_free(sub);
	git_tree_entry_free(entry);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

/* What rd_evidence_stream passes on, hashed and counted on the way. */
typedef struct pass_state {
	struct sha256_ctx sha;
	int (*sink)(void *ctx, const void *buf, size_t len);
	void *ctx;
	size_t passed, total;
	const char *path;
} pass_state;

static int pass(pass_state *p, const void *buf, size_t len, rd_error *err)
{
	sha256_update(&p->sha, len, buf);
	if (p->sink && p->sink(p->ctx, buf, len) != 0)
		return rd_error_set(err, RD_EIO, "%s: the receiver stopped "
				    "after %zu of %zu bytes", p->path,
				    p->passed, p->total);
	p->passed += len;
	return RD_OK;
}

/*
 * Read a loose object as a stream (inflated a chunk at a time), so that a
 * large file never sits whole in memory. 1 when the object database has
 * no stream for it (a packed object): the caller reads it whole instead.
 */
static int pass_streamed(rd_evidence_repo *repo, const git_oid *id,
			 pass_state *p, rd_error *err)
{
	git_odb *odb = NULL;
	git_odb_stream *stream = NULL;
	git_object_t type;
	struct sha1_ctx object;
	uint8_t digest[SHA1_DIGEST_SIZE];
	char header[40];
	char *buf = NULL;
	int rc = 1, n;

	if (git_repository_odb(&odb, repo->git) < 0 ||
	    git_odb_open_rstream(&stream, &p->total, &type, odb, id) < 0) {
		git_error_clear();
		goto done;
	}
	if (type != GIT_OBJECT_BLOB) {
		rc = rd_error_set(err, RD_EIO, "%s: the object is not a blob",
				  p->path);
		goto done;
	}
	if (!(buf = malloc(STREAM_CHUNK))) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	/* a stream is not checked against its id, as a lookup is: do it */
	sha1_init(&object);
	n = snprintf(header, sizeof(header), "blob %zu", p->total);
	sha1_update(&object, (size_t)n + 1, (const uint8_t *)header);
	while (p->passed < p->total) {
		int got = git_odb_stream_read(stream, buf, STREAM_CHUNK);

		if (got <= 0) {
			rc = ev_git_fail(err, RD_EIO, "%s: cannot be read after "
					 "%zu of %zu bytes", p->path,
					 p->passed, p->total);
			goto done;
		}
		sha1_update(&object, (size_t)got, (const uint8_t *)buf);
		if ((rc = pass(p, buf, (size_t)got, err)) < 0)
			goto done;
	}
	sha1_digest(&object, sizeof(digest), digest);
	if (memcmp(digest, id->id, sizeof(digest)) != 0) {
		char hex[RD_OID_BUFSZ];

		ev_oid_hex(hex, id);
		rc = rd_error_set(err, RD_EIO, "%s: object %s is corrupted "
				  "(its bytes do not hash to its id)", p->path,
				  hex);
		goto done;
	}
	rc = RD_OK;
done:
	free(buf);
	/*
	 * libgit2 1.5 frees a stream's hash context without checking it: a
	 * read stream of the record's (an evidence file) has none, and frees
	 * itself.
	 */
	if (stream && !stream->hash_ctx)
		stream->free(stream);
	else
		git_odb_stream_free(stream);
	git_odb_free(odb);
	return rc;
}

int rd_evidence_stream(rd_evidence_repo *repo, const char *commit,
		       const char *path,
		       int (*sink)(void *ctx, const void *buf, size_t len),
		       void *ctx, char sha256[65], int64_t *size,
		       char oid[RD_OID_BUFSZ], rd_error *err)
{
	unsigned char digest[SHA256_DIGEST_SIZE];
	git_blob *blob = NULL;
	pass_state p;
	git_oid id;
	int rc;

	if (!repo)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_stream needs a repository");
	memset(&p, 0, sizeof(p));
	p.sink = sink;
	p.ctx = ctx;
	p.path = path;
	sha256_init(&p.sha);
	if ((rc = find_blob_id(repo, commit, path, &id, err)) < 0)
		goto done;
	if ((rc = pass_streamed(repo, &id, &p, err)) == 1) {
		const unsigned char *bytes;

		if (git_blob_lookup(&blob, repo->git, &id) < 0) {
			char hex[RD_OID_BUFSZ];

			ev_oid_hex(hex, &id);
			rc = ev_git_fail(err, RD_EIO, "%s in commit %s (blob "
					 "%s): cannot be read", path, commit,
					 hex);
			goto done;
		}
		bytes = git_blob_rawcontent(blob);
		p.total = (size_t)git_blob_rawsize(blob);
		rc = RD_OK;
		while (rc == RD_OK && p.passed < p.total) {
			size_t chunk = p.total - p.passed;

			if (chunk > STREAM_CHUNK)
				chunk = STREAM_CHUNK;
			rc = pass(&p, bytes + p.passed, chunk, err);
		}
	}
	if (rc < 0)
		goto done;
	sha256_digest(&p.sha, sizeof(digest), digest);
	if (sha256)
		ev_sha256_hex(sha256, digest);
	if (size)
		*size = (int64_t)p.total;
	if (oid)
		ev_oid_hex(oid, &id);
	rc = RD_OK;
done:
	git_blob_free(blob);
	return rc;
}

int rd_evidence_oid(rd_evidence_repo *repo, const char *commit,
		    const char *path, char out[RD_OID_BUFSZ], int *found,
		    rd_error *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int rc, grc;

	if (!repo || !path || !out || !found)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_oid needs a repository, a "
				    "path and outputs");
	out[0] = '\0';
	*found = 0;
	if (*path && (rc = ev_path_check(path, "path", err)) < 0)
		goto done;
	if ((rc = ev_commit_tree(repo, commit, &c, &tree, err)) < 0)
		goto done;
	rc = RD_OK;
	if (!*path) {
		/* the root directory */
		ev_oid_hex(out, git_tree_id(tree));
		*found = 1;
		goto done;
	}
	/* also "not found" when a directory on the way is a file */
	grc = git_tree_entry_bypath(&entry, tree, path);
	if (grc == GIT_ENOTFOUND)
		goto done;
	if (grc < 0) {
		rc = ev_git_fail(err, RD_EIO, "%s in commit %s: cannot be "
				 "read", path, commit);
		goto done;
	}
	ev_oid_hex(out, git_tree_entry_id(entry));
	*found = 1;
done:
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

/* ---- history ------------------------------------------------------------ */

static int fill_info(rd_commit_info *info, const git_commit *c,
		     rd_error *err)
{
	const git_signature *author = git_commit_author(c);
	const char *message = git_commit_message(c);

	memset(info, 0, sizeof(*info));
	ev_oid_hex(info->oid, git_commit_id(c));
	info->parent_count = git_commit_parentcount(c);
	if (info->parent_count)
		ev_oid_hex(info->parent, git_commit_parent_id(c, 0));
	snprintf(info->author_name, sizeof(info->author_name), "%s",
		 author && author->name ? author->name : "");
	snprintf(info->author_email, sizeof(info->author_email), "%s",
		 author && author->email ? author->email : "");
	info->when = author ? (int64_t)author->when.time : 0;
	info->message = strdup(message ? message : "");
	if (!info->message)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	return RD_OK;
}

/*
 * The walk follows first parents from the head by hand rather than with a
 * revwalk: on a linear history the order is the same, and a commit that
 * cannot be read is then known by its id, to name it.
 */
int rd_evidence_log(rd_evidence_repo *repo, const char *head,
		    rd_commit_info **out, size_t *count, rd_error *err)
{
	rd_commit_info *infos = NULL;
	size_t n = 0, capacity = 0;
	git_commit *c = NULL;
	git_oid next;
	char hex[RD_OID_BUFSZ];
	int rc, grc, more;

	if (!repo || !out || !count)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_log needs a repository and "
				    "outputs");
	*out = NULL;
	*count = 0;
	if ((rc = ev_oid_parse(&next, head, "head", err)) < 0)
		goto done;
	do {
		ev_oid_hex(hex, &next);
		grc = git_commit_lookup(&c, repo->git, &next);
		if (grc < 0) {
			rc = ev_git_fail(err, n == 0 ? ev_read_code(grc)
						     : RD_EIO,
					 grc == GIT_ENOTFOUND
						 ? "commit %s is missing from "
						   "the evidence repository"
						 : "commit %s cannot be read",
					 hex);
			goto done;
		}
		if (n == capacity) {
			size_t bigger = capacity ? 2 * capacity : 16;
			rd_commit_info *grown =
				realloc(infos, bigger * sizeof(*grown));

			if (!grown) {
				rc = rd_error_set(err, RD_ENOMEM,
						  "out of memory");
				goto done;
			}
			infos = grown;
			capacity = bigger;
		}
		if ((rc = fill_info(&infos[n], c, err)) < 0)
			goto done;
		n++;
		more = git_commit_parentcount(c) > 0;
		if (more)
			git_oid_cpy(&next, git_commit_parent_id(c, 0));
		git_commit_free(c);
		c = NULL;
	} while (more);

	/* oldest first */
	for (size_t i = 0; i < n / 2; i++) {
		rd_commit_info swap = infos[i];

		infos[i] = infos[n - 1 - i];
		infos[n - 1 - i] = swap;
	}
	*out = infos;
	*count = n;
	infos = NULL;
	n = 0;
	rc = RD_OK;
done:
	git_commit_free(c);
	rd_commit_infos_free(infos, n);
	return rc;
}

void rd_commit_infos_free(rd_commit_info *infos, size_t count)
{
	if (!infos)
		return;
	for (size_t i = 0; i < count; i++)
		free(infos[i].message);
	free(infos);
}
