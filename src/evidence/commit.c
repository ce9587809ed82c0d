/*
 * Recording a change: the new tree is the parent's tree with the given
 * files added or replaced, the commit names the actor as its author, and
 * the dispute's ref moves from the head the caller read to the new commit
 * with a compare-and-swap, so that two writers can never both win.
 *
 * This file must never remove anything from a tree, never move a ref that
 * is not where the caller saw it, and never write a path stock git would
 * refuse (fsck --strict stays clean).
 */
#include "evidence/evidence_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define REF_BUFSZ (sizeof(EV_REF_PREFIX) + RD_ID_LEN)

/* ---- paths -------------------------------------------------------------- */

static int name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int ev_path_check(const char *path, const char *field, rd_error *err)
{
	size_t len, start = 0;

	if (!path || !*path)
		return rd_error_set_field(err, RD_EINVALID, field,
					  "%s: a path is needed", field);
	len = strnlen(path, EV_PATH_MAX + 1);
	if (len > EV_PATH_MAX)
		return rd_error_set_field(err, RD_EINVALID, field,
					  "%s: longer than %d bytes", field,
					  EV_PATH_MAX);
	for (size_t i = 0; i <= len; i++) {
		size_t n;
		const char *name = path + start;

		if (i < len && path[i] != '/') {
			if (!name_char_ok(path[i]))
				return rd_error_set_field(
					err, RD_EINVALID, field,
					"%s: \"%.200s\" has the character "
					"0x%02x; names hold only letters, "
					"digits, '.', '_' and '-'", field,
					path, (unsigned char)path[i]);
			continue;
		}
		n = i - start;
		if (n == 0)
			return rd_error_set_field(err, RD_EINVALID, field,
						  "%s: \"%.200s\" has an empty "
						  "name (a leading, trailing "
						  "or doubled '/')", field,
						  path);
		if (n > EV_NAME_MAX)
			return rd_error_set_field(err, RD_EINVALID, field,
						  "%s: a name in \"%.200s\" is "
						  "longer than %d bytes",
						  field, path, EV_NAME_MAX);
		if ((n == 1 && name[0] == '.') ||
		    (n == 2 && name[0] == '.' && name[1] == '.'))
			return rd_error_set_field(err, RD_EINVALID, field,
						  "%s: \"%.200s\" has a \".\" "
						  "or \"..\" name", field,
						  path);
		if (n == 4 && strncasecmp(name, ".git", 4) == 0)
			return rd_error_set_field(err, RD_EINVALID, field,
						  "%s: \"%.200s\" has a "
						  "\".git\" name", field, path);
		start = i + 1;
	}
	return RD_OK;
}

/* ---- the request -------------------------------------------------------- */

/* One file of the request; its path is the sort key. */
struct pending {
	const rd_tree_file *file;
};

/* '/' sorts before every name character: a directory's files are adjacent. */
static int path_byte(char c)
{
	return c == '/' ? 1 : (unsigned char)c;
}

static int compare_paths(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return path_byte(*a) - path_byte(*b);
}

static int compare_pending(const void *a, const void *b)
{
	const struct pending *pa = a, *pb = b;

	return compare_paths(pa->file->path, pb->file->path);
}

static int check_request(const rd_commit_request *req, rd_error *err)
{
	char field[48];
	int rc;

	if (!rd_id_valid(req->dispute_id))
		return rd_error_set_field(err, RD_EINVALID, "dispute_id",
					  "dispute_id: \"%.64s\" is not a "
					  "dispute id",
					  req->dispute_id ? req->dispute_id
							  : "");
	if (!req->author || !rd_role_name(req->author->role))
		return rd_error_set_field(err, RD_EINVALID, "author",
					  "author: a commit needs an actor "
					  "with a known role");
	if (!req->message || !*req->message)
		return rd_error_set_field(err, RD_EINVALID, "message",
					  "message: a commit needs a message "
					  "saying what happened");
	if (req->file_count && !req->files)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_commit: %zu files announced, "
				    "none given", req->file_count);
	for (size_t i = 0; i < req->file_count; i++) {
		const rd_tree_file *f = &req->files[i];

		snprintf(field, sizeof(field), "files[%zu].path", i);
		if ((rc = ev_path_check(f->path, field, err)) < 0)
			return rc;
		snprintf(field, sizeof(field), "files[%zu]", i);
		if (!f->content == !f->blob_oid)
			return rd_error_set_field(err, RD_EINVALID, field,
						  "%s (%s): give either the "
						  "content or a blob id, not "
						  "%s", field, f->path,
						  f->content ? "both"
							     : "neither");
	}
	return RD_OK;
}

/* ---- building trees ----------------------------------------------------- */

struct builder {
	rd_evidence_repo *repo;
	rd_error *err;
};

/* The blob of one file: written from its content, or checked to exist. */
static int file_blob(struct builder *b, const rd_tree_file *f, git_oid *out)
{
	git_object_t type = GIT_OBJECT_INVALID;
	size_t size = 0;
	int rc, grc;

	if (f->content) {
		if (git_blob_create_from_buffer(out, b->repo->git, f->content,
						f->len) < 0)
			return ev_git_fail(b->err, RD_EIO,
					   "%s: cannot store the file",
					   f->path);
		return RD_OK;
	}
	if ((rc = ev_oid_parse(out, f->blob_oid, f->path, b->err)) < 0)
		return rc;
	grc = git_odb_read_header(&size, &type, b->repo->odb, out);
	/* an evidence file of the record: its row goes with this change */
	if (grc == GIT_ENOTFOUND && ev_is_record(b->repo)) {
		int64_t bytes = 0;
		int present = 0;

		git_error_clear();
		if ((rc = rd_evidence_file_present(b->repo, f->blob_oid,
						   &present, &bytes,
						   b->err)) < 0)
			return rc;
		if (present) {
			if ((rc = b->repo->io.put(b->repo->io.ctx, out->id,
						  GIT_OBJECT_BLOB, bytes,
						  NULL, b->err)) < 0)
				return rc;
			return RD_OK;
		}
	}
	/*
	 * The blobs of a change were stored by redress just before: one
	 * that cannot be found is the repository failing (libgit2 1.5 also
	 * answers "not found" when it runs out of memory looking), not
	 * something the caller could look for.
	 */
	if (grc == GIT_ENOTFOUND)
		return rd_error_set_field(b->err, RD_EIO, f->path,
					  "%s: blob %s cannot be found in the "
					  "evidence repository", f->path,
					  f->blob_oid);
	if (grc < 0)
		return ev_git_fail(b->err, RD_EIO, "%s: cannot read blob %s",
				   f->path, f->blob_oid);
	if (type != GIT_OBJECT_BLOB)
		return rd_error_set_field(b->err, RD_EINVALID, f->path,
					  "%s: %s is a %s, not a file's blob",
					  f->path, f->blob_oid,
					  git_object_type2string(type));
	return RD_OK;
}

/*
 * The name of the next component of items[0]'s path after `offset` bytes:
 * its length, and whether it is the last (a file rather than a directory).
 */
static size_t component(const struct pending *item, size_t offset, int *leaf)
{
	const char *rest = item->file->path + offset;
	const char *slash = strchr(rest, '/');

	*leaf = slash == NULL;
	return slash ? (size_t)(slash - rest) : strlen(rest);
}

static int build_tree(struct builder *b, const git_tree *base,
		      const struct pending *items, size_t count,
		      size_t offset, git_oid *out);

/*
 * Put the group items[0..count) — every item whose next component is the
 * same name — into the directory being built: one file, or a subtree.
 * With build_tree it recurses once per directory of a path, so at most
 * EV_PATH_MAX / 2 levels deep.
 */
/* NOLINTNEXTLINE(misc-no-recursion): bounded by the path's depth */
static int insert_group(struct builder *b, git_treebuilder *bld,
			const git_tree *base, const struct pending *items,
			size_t count, size_t offset)
{
	char name[EV_NAME_MAX + 1];
	const git_tree_entry *existing;
	git_tree *sub = NULL;
	git_oid oid;
	int leaf, rc;
	size_t n = component(&items[0], offset, &leaf);
	const char *path = items[0].file->path;

	memcpy(name, path + offset, n);
	name[n] = '\0';
	existing = base ? git_tree_entry_byname(base, name) : NULL;
	if (leaf && count > 1) {
		int dup = strcmp(path, items[1].file->path) == 0;

		rc = rd_error_set_field(b->err, RD_EINVALID, path,
					"%s: %s", path,
					dup ? "given twice in one commit"
					    : "given both as a file and as a "
					      "directory");
		goto done;
	}
	if (leaf) {
		if (existing &&
		    git_tree_entry_type(existing) != GIT_OBJECT_BLOB) {
			rc = rd_error_set_field(b->err, RD_ECONFLICT, path,
						"%s: is a directory; files are "
						"never removed, so it cannot "
						"become a file", path);
			goto done;
		}
		if ((rc = file_blob(b, items[0].file, &oid)) < 0)
			goto done;
		if (git_treebuilder_insert(NULL, bld, name, &oid,
					   GIT_FILEMODE_BLOB) < 0) {
			rc = ev_git_fail(b->err, RD_EIO, "%s: cannot add it",
					 path);
			goto done;
		}
		rc = RD_OK;
		goto done;
	}
	if (existing) {
		if (git_tree_entry_type(existing) != GIT_OBJECT_TREE) {
			rc = rd_error_set_field(b->err, RD_ECONFLICT, path,
						"%s: %.*s is a file; files are "
						"never removed, so it cannot "
						"become a directory", path,
						(int)(offset + n), path);
			goto done;
		}
		if (git_tree_lookup(&sub, b->repo->git,
				    git_tree_entry_id(existing)) < 0) {
			rc = ev_git_fail(b->err, RD_EIO,
					 "%.*s: cannot read the directory",
					 (int)(offset + n), path);
			goto done;
		}
	}
	if ((rc = build_tree(b, sub, items, count, offset + n + 1, &oid)) < 0)
		goto done;
	if (git_treebuilder_insert(NULL, bld, name, &oid,
				   GIT_FILEMODE_TREE) < 0) {
		rc = ev_git_fail(b->err, RD_EIO, "%.*s: cannot add the "
				 "directory", (int)(offset + n), path);
		goto done;
	}
	rc = RD_OK;
done:
	git_tree_free(sub);
	return rc;
}

/*
 * Write the tree `base` (NULL for none) with items[0..count) added, where
 * every item's path has its first `offset` bytes in common (this
 * directory). Items are sorted so that each name's items are adjacent.
 */
/* NOLINTNEXTLINE(misc-no-recursion): bounded by the path's depth */
static int build_tree(struct builder *b, const git_tree *base,
		      const struct pending *items, size_t count,
		      size_t offset, git_oid *out)
{
	git_treebuilder *bld = NULL;
	size_t i = 0;
	int rc;

	if (git_treebuilder_new(&bld, b->repo->git, base) < 0) {
		rc = ev_git_fail(b->err, RD_EIO, "cannot start a tree");
		goto done;
	}
	while (i < count) {
		int leaf;
		size_t n = component(&items[i], offset, &leaf);
		const char *name = items[i].file->path + offset;
		size_t j = i + 1;

		/* the group: every following item with the same next name */
		while (j < count) {
			const char *other = items[j].file->path + offset;

			if (strncmp(other, name, n) != 0 ||
			    (other[n] != '/' && other[n] != '\0'))
				break;
			j++;
		}
		if ((rc = insert_group(b, bld, base, items + i, j - i,
				       offset)) < 0)
			goto done;
		i = j;
	}
	if (git_treebuilder_write(out, bld) < 0) {
		rc = ev_git_fail(b->err, RD_EIO, "cannot write a tree");
		goto done;
	}
	rc = RD_OK;
done:
	git_treebuilder_free(bld);
	return rc;
}

/* ---- signatures --------------------------------------------------------- */

/* Copy src into out (size bytes), turning what git cannot hold into spaces. */
static void sanitize_name(char *out, size_t size, const char *src)
{
	size_t n = 0;

	for (; src && *src && n + 1 < size; src++) {
		unsigned char c = (unsigned char)*src;

		out[n++] = (char)((c == '<' || c == '>' || c < 0x20 ||
				   c == 0x7f) ? ' ' : c);
	}
	out[n] = '\0';
}

/* 1 when s holds something other than spaces. */
static int has_text(const char *s)
{
	for (; *s; s++)
		if (*s != ' ')
			return 1;
	return 0;
}

static int author_signature(git_signature **out, const rd_actor *actor,
			    int64_t when, rd_error *err)
{
	const char *role = rd_role_name(actor->role);
	char name[sizeof(actor->name)];
	char key[sizeof(actor->key_id)];
	char email[sizeof(key) + 32];
	size_t n = 0;

	sanitize_name(name, sizeof(name), actor->name);
	if (!has_text(name))
		snprintf(name, sizeof(name), "%s", role);
	for (size_t i = 0; i + 1 < sizeof(key) && actor->key_id[i]; i++)
		key[n++] = (char)(name_char_ok(actor->key_id[i])
					  ? actor->key_id[i] : '_');
	key[n] = '\0';
	if (n)
		snprintf(email, sizeof(email), "%s.%s@redress", role, key);
	else
		snprintf(email, sizeof(email), "%s@redress", role);
	if (git_signature_new(out, name, email, (git_time_t)when, 0) < 0)
		return ev_git_fail(err, RD_EINVALID,
				   "author: cannot make a signature for "
				   "\"%s\" <%s>", name, email);
	return RD_OK;
}

/* ---- committing --------------------------------------------------------- */

static void ref_name(char out[REF_BUFSZ], const char *dispute_id)
{
	snprintf(out, REF_BUFSZ, "%s%s", EV_REF_PREFIX, dispute_id);
}

int rd_evidence_commit(rd_evidence_repo *repo, const rd_commit_request *req,
		       char out[RD_OID_BUFSZ], rd_error *err)
{
	struct builder b = { repo, err };
	struct pending *items = NULL;
	git_signature *author = NULL, *committer = NULL;
	git_commit *parent = NULL;
	git_tree *parent_tree = NULL, *tree = NULL;
	git_oid parent_oid, tree_oid, commit_oid;
	int rc, grc;

	if (!repo || !req || !out)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_commit needs a repository, a "
				    "request and an output");
	/* out is written only on success: it may be the caller's parent */
	if ((rc = check_request(req, err)) < 0)
		goto done;
	if (req->parent) {
		if ((rc = ev_oid_parse(&parent_oid, req->parent, "parent",
				       err)) < 0)
			goto done;
		grc = git_commit_lookup(&parent, repo->git, &parent_oid);
		if (grc < 0 || git_commit_tree(&parent_tree, parent) < 0) {
			rc = ev_git_fail(err, RD_EIO, "dispute %s: cannot "
					 "read commit %s", req->dispute_id,
					 req->parent);
			goto done;
		}
	}

	/* the new tree */
	if (req->file_count) {
		items = calloc(req->file_count, sizeof(*items));
		if (!items) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < req->file_count; i++)
			items[i].file = &req->files[i];
		qsort(items, req->file_count, sizeof(*items), compare_pending);
	}
	if ((rc = build_tree(&b, parent_tree, items, req->file_count, 0,
			     &tree_oid)) < 0)
		goto done;
	if (git_tree_lookup(&tree, repo->git, &tree_oid) < 0) {
		rc = ev_git_fail(err, RD_EIO, "cannot read the tree just "
				 "written");
		goto done;
	}

	/* the commit; the caller moves the head */
	if ((rc = author_signature(&author, req->author, req->when, err)) < 0)
		goto done;
	if (git_signature_new(&committer, "redress", "redress@localhost",
			      (git_time_t)req->when, 0) < 0) {
		rc = ev_git_fail(err, RD_EIO, "cannot make the committer's "
				 "signature");
		goto done;
	}
	if (git_commit_create(&commit_oid, repo->git, NULL, author, committer,
			      NULL, req->message, tree, parent ? 1 : 0,
			      (const git_commit **)&parent) < 0) {
		rc = ev_git_fail(err, RD_EIO, "dispute %s: cannot write the "
				 "commit", req->dispute_id);
		goto done;
	}
	ev_oid_hex(out, &commit_oid);
	rc = RD_OK;
done:
	git_signature_free(committer);
	git_signature_free(author);
	git_tree_free(tree);
	git_tree_free(parent_tree);
	git_commit_free(parent);
	free(items);
	return rc;
}

int rd_evidence_head(rd_evidence_repo *repo, const char *dispute_id,
		     char out[RD_OID_BUFSZ], int *found, rd_error *err)
{
	char ref[REF_BUFSZ];
	git_oid oid;
	int grc;

	if (!repo || !out || !found)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_head needs a repository and "
				    "outputs");
	out[0] = '\0';
	*found = 0;
	if (!rd_id_valid(dispute_id))
		return rd_error_set_field(err, RD_EINVALID, "dispute_id",
					  "dispute_id: \"%.64s\" is not a "
					  "dispute id",
					  dispute_id ? dispute_id : "");
	ref_name(ref, dispute_id);
	grc = git_reference_name_to_id(&oid, repo->git, ref);
	if (grc == GIT_ENOTFOUND)
		return RD_OK;
	if (grc < 0)
		return ev_git_fail(err, RD_EIO, "dispute %s: cannot read its "
				   "head", dispute_id);
	ev_oid_hex(out, &oid);
	*found = 1;
	return RD_OK;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int rd_evidence_foreach_dispute(rd_evidence_repo *repo,
				int (*fn)(const char *dispute_id, void *ctx),
				void *ctx, rd_error *err)
{
	git_reference_iterator *it = NULL;
	char **ids = NULL;
	size_t count = 0, capacity = 0;
	const char *name;
	int rc, grc;

	if (!repo || !fn)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_foreach_dispute needs a "
				    "repository and a function");
	if (git_reference_iterator_glob_new(&it, repo->git,
					    EV_REF_PREFIX "*") < 0) {
		rc = ev_git_fail(err, RD_EIO, "cannot list the disputes' "
				 "refs");
		goto done;
	}
	/* collect first: fn may well commit, which moves refs */
	while ((grc = git_reference_next_name(&name, it)) == 0) {
		const char *id = name + strlen(EV_REF_PREFIX);

		if (strncmp(name, EV_REF_PREFIX, strlen(EV_REF_PREFIX)) != 0 ||
		    !rd_id_valid(id))
			continue;
		if (count == capacity) {
			size_t bigger = capacity ? 2 * capacity : 64;
			char **grown = realloc(ids, bigger * sizeof(*grown));

			if (!grown) {
				rc = rd_error_set(err, RD_ENOMEM,
						  "out of memory");
				goto done;
			}
			ids = grown;
			capacity = bigger;
		}
		if (!(ids[count] = strdup(id))) {
			rc = rd_error_set(err, RD_ENOMEM, "out of memory");
			goto done;
		}
		count++;
	}
	if (grc != GIT_ITEROVER) {
		rc = ev_git_fail(err, RD_EIO, "cannot list the disputes' "
				 "refs");
		goto done;
	}
	if (count)
		qsort(ids, count, sizeof(*ids), compare_strings);
	rc = RD_OK;
	for (size_t i = 0; i < count && rc == RD_OK; i++)
		rc = fn(ids[i], ctx);
done:
	git_reference_iterator_free(it);
	for (size_t i = 0; i < count; i++)
		free(ids[i]);
	free(ids);
	return rc;
}
