/*
 * The evidence repository: opening and creating one on disk, commits into
 * the record (a fresh store, its objects read and written through it) with
 * the head moved in the store by compare-and-swap, nested paths that never
 * lose a file, paths git would refuse, authors, history and the list of
 * disputes. What redress wrote is checked again with the stock git command
 * (show, log, ls-tree, fsck --strict) on the mirror written from the
 * record: that is what "readable with stock git" means now.
 */
#include "fixtures.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "redress/evidence.h"

/* ---- helpers ------------------------------------------------------------ */

/* A valid dispute id, different for every n below 100. */
static void make_id(char out[RD_ID_BUFSZ], int n)
{
	snprintf(out, RD_ID_BUFSZ, "01HV00000000000000000000%02u",
		 (unsigned)n % 100u);
}

/* The names rd_evidence_list gives: each, then the array. */
static void free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

static const rd_actor *alice(void)
{
	static rd_actor a;

	a = rd_test_keyed_actor(RD_ROLE_AGENT, "Alice Agent", "");
	return &a;
}

/* One commit of one file with content, its head moved in the store. */
static int commit_one(rd_test_record *r, const char *id,
		      const char *parent, const char *path,
		      const char *content, const char *message,
		      char out[RD_OID_BUFSZ], rd_error *err)
{
	rd_tree_file file = { path, content, strlen(content), NULL };
	rd_commit_request req = { id, parent, &file, 1, alice(), 1700000000,
				  message };

	return rd_test_record_commit(r, &req, out, err);
}

/* How many objects the changes after..upto stored. */
static int count_object(void *ctx, const unsigned char id[RD_OID_RAWSZ],
			int type, int64_t size, int in_file)
{
	(void)id;
	(void)type;
	(void)size;
	(void)in_file;
	++*(long *)ctx;
	return 0;
}

static long objects_of(rd_test_record *r, int64_t after, int64_t upto)
{
	long count = 0;
	rd_error err = { 0 };

	if (rd_store_objects_of_changes(r->store, after, upto, count_object,
					&count, &err) < 0)
		return -1;
	return count;
}

/* The number of the last change in the store, -1 on failure. */
static int64_t last_change(rd_test_record *r)
{
	int64_t seq = -1;
	rd_error err = { 0 };

	if (rd_store_changes_last(r->store, &seq, &err) < 0)
		return -1;
	return seq;
}

static int fsck_clean(const char *git)
{
	return rd_test_sh(NULL, "git --git-dir='%s' fsck --strict "
			  "--no-progress >/dev/null 2>&1", git) == 0;
}

/* ---- opening ------------------------------------------------------------ */

static void open_creates_and_reopens(void)
{
	char *dir = rd_test_tmpdir();
	char *git = rd_test_path(dir, "data/evidence.git");
	char *head = rd_test_path(git, "HEAD");
	char *bare = NULL;
	rd_evidence_repo *repo = NULL;
	rd_error err = { 0 };
	struct stat st;

	CHECK(stat(git, &st) != 0);
	CHECK_OK(rd_evidence_repo_open(&repo, git, 1, &err), &err);
	CHECK(repo != NULL);
	rd_evidence_repo_close(repo);
	repo = NULL;
	CHECK(stat(head, &st) == 0);
	CHECK_INT(rd_test_sh(&bare, "git --git-dir='%s' rev-parse "
			     "--is-bare-repository", git), 0);
	CHECK_STR(bare, "true\n");

	/* open again, without create; two handles at once */
	rd_evidence_repo *second = NULL;

	CHECK_OK(rd_evidence_repo_open(&repo, git, 0, &err), &err);
	CHECK_OK(rd_evidence_repo_open(&second, git, 1, &err), &err);
	rd_evidence_repo_close(second);
	rd_evidence_repo_close(repo);
	rd_evidence_repo_close(NULL);
	CHECK(fsck_clean(git));
	free(bare);
	free(head);
	free(git);
	free(dir);
}

static void open_missing_is_not_found(void)
{
	char *dir = rd_test_tmpdir();
	char *git = rd_test_path(dir, "nothing.git");
	char *other = rd_test_path(dir, "other");
	char *inside = rd_test_path(other, "notes.txt");
	char *head = rd_test_path(other, "HEAD");
	rd_evidence_repo *repo = NULL;
	rd_error err = { 0 };
	struct stat st;

	CHECK_FAILS(rd_evidence_repo_open(&repo, git, 0, &err), RD_ENOTFOUND);
	CHECK(repo == NULL);
	CHECK_HAS(err.message, git);
	CHECK(stat(git, &st) != 0);   /* nothing created */

	/* a directory holding other files is never made a repository */
	CHECK(mkdir(other, 0755) == 0);
	CHECK(rd_test_write(inside, "keep me\n") == 0);
	CHECK_FAILS(rd_evidence_repo_open(&repo, other, 0, &err),
		    RD_ENOTFOUND);
	CHECK_FAILS(rd_evidence_repo_open(&repo, other, 1, &err),
		    RD_EINVALID);
	CHECK_HAS(err.message, "not an evidence repository");
	CHECK(stat(head, &st) != 0);
	CHECK(repo == NULL);
	free(head);
	free(inside);
	free(other);
	free(git);
	free(dir);
}

/* ---- commits ------------------------------------------------------------ */

static void commit_chain_readable_with_git(void)
{
	rd_test_record r;
	rd_evidence_repo *repo;
	const char *git;
	char *out = NULL;
	char id[RD_ID_BUFSZ];
	char first[RD_OID_BUFSZ], second[RD_OID_BUFSZ], head[RD_OID_BUFSZ];
	char *bytes = NULL;
	size_t len = 0;
	int found = -1;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	git = r.git;
	make_id(id, 1);
	CHECK_OK(rd_test_record_head(&r, id, head, &found, &err), &err);
	CHECK_INT(found, 0);
	CHECK_STR(head, "");

	CHECK_OK(commit_one(&r, id, NULL, "dispute.json",
			    "{\"version\": 1}\n", "opened\n", first, &err),
		 &err);
	CHECK_INT(strlen(first), 40);
	CHECK_OK(rd_test_record_head(&r, id, head, &found, &err), &err);
	CHECK_INT(found, 1);
	CHECK_STR(head, first);

	CHECK_OK(commit_one(&r, id, first, "dispute.json",
			    "{\"version\": 2}\n",
			    "investigate\n\nAssigned to alice.\n", second,
			    &err), &err);
	CHECK(strcmp(first, second) != 0);
	CHECK_OK(rd_test_record_head(&r, id, head, &found, &err), &err);
	CHECK_STR(head, second);

	/* each change is one row, holding its blob, tree and commit */
	CHECK_INT(last_change(&r), 2);
	CHECK_INT(objects_of(&r, 0, 1), 3);
	CHECK_INT(objects_of(&r, 1, 2), 3);

	/* redress reads both versions back */
	CHECK_OK(rd_evidence_read(repo, second, "dispute.json", &bytes, &len,
				  &err), &err);
	CHECK_STR(bytes, "{\"version\": 2}\n");
	CHECK_INT(len, 15);
	free(bytes);
	bytes = NULL;
	CHECK_OK(rd_evidence_read(repo, first, "dispute.json", &bytes, &len,
				  &err), &err);
	CHECK_STR(bytes, "{\"version\": 1}\n");
	free(bytes);
	bytes = NULL;

	/* and so does stock git, from the mirror */
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' show refs/disputes/%s:"
			     "dispute.json", git, id), 0);
	CHECK_STR(out, "{\"version\": 2}\n");
	free(out);
	out = NULL;
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' rev-parse "
			     "refs/disputes/%s", git, id), 0);
	CHECK(strncmp(out, second, 40) == 0);
	free(out);
	out = NULL;
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' log "
			     "--format=%%an%%x09%%ae%%x09%%s refs/disputes/%s",
			     git, id), 0);
	CHECK_STR(out, "Alice Agent\tagent@redress\tinvestigate\n"
		       "Alice Agent\tagent@redress\topened\n");
	free(out);
	out = NULL;
	CHECK(fsck_clean(git));

	rd_test_record_close(&r);
}

static void compare_and_swap(void)
{
	rd_test_record r;
	const char *git;
	char *out = NULL;
	char id[RD_ID_BUFSZ], other[RD_ID_BUFSZ];
	char first[RD_OID_BUFSZ], second[RD_OID_BUFSZ];
	char lost[RD_OID_BUFSZ], head[RD_OID_BUFSZ], made[RD_OID_BUFSZ];
	int found = 0;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	git = r.git;
	make_id(id, 2);
	make_id(other, 3);
	CHECK_OK(commit_one(&r, id, NULL, "dispute.json", "1", "opened",
			    first, &err), &err);
	CHECK_OK(commit_one(&r, id, first, "dispute.json", "2", "second",
			    second, &err), &err);

	/* the commit alone moves nothing: the caller moves the head */
	{
		rd_tree_file file = { "dispute.json", "2b", 2, NULL };
		rd_commit_request req = { id, first, &file, 1, alice(),
					  1700000000, "not moved" };

		CHECK_OK(rd_store_begin(r.store, &err), &err);
		CHECK_OK(rd_evidence_commit(r.repo, &req, made, &err), &err);
		CHECK_OK(rd_test_record_head(&r, id, head, &found, &err),
			 &err);
		CHECK_STR(head, second);
		/* the store refuses the stale parent, within the change */
		CHECK_FAILS(rd_store_ref_move(r.store, id, first, made,
					      1700000000, &err),
			    RD_ECONFLICT);
		rd_store_rollback(r.store);
	}

	/* a writer that read `first` lost the race */
	snprintf(lost, sizeof(lost), "unchanged");
	CHECK_FAILS(commit_one(&r, id, first, "dispute.json", "3", "late",
			       lost, &err), RD_ECONFLICT);
	CHECK_INT(err.code, RD_ECONFLICT);
	CHECK_HAS(err.message, "changed meanwhile");
	CHECK_HAS(err.message, second);
	CHECK_HAS(err.message, first);
	CHECK_STR(lost, "unchanged");   /* written only on success */
	CHECK_OK(rd_test_record_head(&r, id, head, &found, &err), &err);
	CHECK_STR(head, second);

	/* opening a dispute that exists */
	CHECK_FAILS(commit_one(&r, id, NULL, "dispute.json", "x", "again",
			       lost, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, second);
	CHECK_OK(rd_test_record_head(&r, id, head, &found, &err), &err);
	CHECK_STR(head, second);

	/* a parent for a dispute with no history */
	CHECK_FAILS(commit_one(&r, other, second, "dispute.json", "x",
			       "stray", lost, &err), RD_ECONFLICT);
	CHECK_OK(rd_test_record_head(&r, other, head, &found, &err), &err);
	CHECK_INT(found, 0);

	/* the refused changes left no change and none of their objects */
	CHECK_INT(last_change(&r), 2);
	CHECK_INT(objects_of(&r, 0, 1000), 6);
	{
		unsigned char raw[RD_OID_RAWSZ];
		int type = 0, in_file = 0;
		int64_t size = 0;

		for (size_t i = 0; i < RD_OID_RAWSZ; i++)
			CHECK(sscanf(made + 2 * i, "%2hhx", &raw[i]) == 1);
		found = -1;
		CHECK_OK(rd_store_object_get(r.store, raw, &found, &type,
					     &size, &in_file, NULL, &err),
			 &err);
		CHECK_INT(found, 0);
	}

	/* stock git agrees: two commits, the ref where it was */
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' rev-list --count "
			     "refs/disputes/%s", git, id), 0);
	CHECK_STR(out, "2\n");
	free(out);
	out = NULL;
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' rev-parse --verify -q "
			     "refs/disputes/%s >/dev/null", git, other), 1);
	CHECK(fsck_clean(git));

	rd_test_record_close(&r);
}

static void nested_paths_keep_every_file(void)
{
	rd_test_record r;
	rd_evidence_repo *repo;
	const char *git;
	char *out = NULL;
	char id[RD_ID_BUFSZ];
	char c1[RD_OID_BUFSZ], c2[RD_OID_BUFSZ], c3[RD_OID_BUFSZ];
	char **names = NULL;
	size_t count = 0, len = 0;
	char *bytes = NULL;
	rd_error err = { 0 };
	const rd_tree_file first[] = {
		{ "dispute.json", "{\"v\":1}", 7, NULL },
		{ "events/000001-opened.json", "{\"e\":1}", 7, NULL },
	};
	/* deliberately unsorted, with two files in one new directory */
	const rd_tree_file second[] = {
		{ "evidence/0001/meta.json", "{\"kind\":\"photo\"}", 16, NULL },
		{ "events/000002-investigate.json", "{\"e\":2}", 7, NULL },
		{ "evidence/0001/content.jpg", "JPEG", 4, NULL },
	};
	const rd_tree_file third[] = {
		{ "dispute.json", "{\"v\":3}", 7, NULL },
		{ "evidence/0002/meta.json", "{\"kind\":\"note\"}", 15, NULL },
		{ "evidence/0002/content.txt", "a note", 6, NULL },
		{ "events/000003-evidence.json", "{\"e\":3}", 7, NULL },
	};
	rd_commit_request req = { NULL, NULL, first, 2, alice(), 1700000000,
				  "opened" };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	git = r.git;
	make_id(id, 4);
	req.dispute_id = id;
	CHECK_OK(rd_test_record_commit(&r, &req, c1, &err), &err);
	req.parent = c1;
	req.files = second;
	req.file_count = 3;
	req.message = "evidence added";
	CHECK_OK(rd_test_record_commit(&r, &req, c2, &err), &err);
	req.parent = c2;
	req.files = third;
	req.file_count = 4;
	req.message = "note added";
	CHECK_OK(rd_test_record_commit(&r, &req, c3, &err), &err);

	CHECK_OK(rd_evidence_list(repo, c3, "", &names, &count, &err), &err);
	CHECK_INT(count, 3);
	CHECK_STR(names[0], "dispute.json");
	CHECK_STR(names[1], "events");
	CHECK_STR(names[2], "evidence");
	free_names(names, count);
	CHECK_OK(rd_evidence_list(repo, c3, "events", &names, &count, &err),
		 &err);
	CHECK_INT(count, 3);
	CHECK_STR(names[0], "000001-opened.json");
	CHECK_STR(names[2], "000003-evidence.json");
	free_names(names, count);
	CHECK_OK(rd_evidence_list(repo, c3, "evidence/0001", &names, &count,
				  &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(names[0], "content.jpg");
	CHECK_STR(names[1], "meta.json");
	free_names(names, count);
	CHECK_OK(rd_evidence_list(repo, c1, "evidence", &names, &count, &err),
		 &err);
	CHECK_INT(count, 0);   /* not there yet: an empty list */
	CHECK(names == NULL);

	/* earlier files are still there, the replaced one is new */
	CHECK_OK(rd_evidence_read(repo, c3, "events/000001-opened.json",
				  &bytes, &len, &err), &err);
	CHECK_STR(bytes, "{\"e\":1}");
	free(bytes);
	CHECK_OK(rd_evidence_read(repo, c3, "evidence/0001/content.jpg",
				  &bytes, &len, &err), &err);
	CHECK_STR(bytes, "JPEG");
	free(bytes);
	CHECK_OK(rd_evidence_read(repo, c3, "dispute.json", &bytes, &len,
				  &err), &err);
	CHECK_STR(bytes, "{\"v\":3}");
	free(bytes);
	bytes = NULL;

	/* object ids without reading, as git names them */
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	{
		static const char *const paths[] = {
			"evidence/0001/content.jpg", "evidence", "events",
			"dispute.json",
		};
		char oid[RD_OID_BUFSZ];
		int found = 0;

		for (size_t i = 0; i < 4; i++) {
			CHECK_OK(rd_evidence_oid(repo, c3, paths[i], oid,
						 &found, &err), &err);
			CHECK_INT(found, 1);
			CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' "
					     "rev-parse '%s:%s'", git, c3,
					     paths[i]), 0);
			CHECK(strlen(out) == 41 && strncmp(out, oid, 40) == 0);
			free(out);
			out = NULL;
		}
		CHECK_OK(rd_evidence_oid(repo, c3, "", oid, &found, &err),
			 &err);
		CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' rev-parse "
				     "'%s^{tree}'", git, c3), 0);
		CHECK(found == 1 && strncmp(out, oid, 40) == 0);
		free(out);
		out = NULL;
		/* absent: in an older commit, under a file, nowhere */
		CHECK_OK(rd_evidence_oid(repo, c1, "evidence/0001/meta.json",
					 oid, &found, &err), &err);
		CHECK_INT(found, 0);
		CHECK_STR(oid, "");
		CHECK_OK(rd_evidence_oid(repo, c3, "dispute.json/x", oid,
					 &found, &err), &err);
		CHECK_INT(found, 0);
		CHECK_FAILS(rd_evidence_oid(repo, c3, "evidence/../x", oid,
					    &found, &err), RD_EINVALID);
		CHECK_FAILS(rd_evidence_oid(repo,
					    "0123456789abcdef0123456789abcdef"
					    "01234567", "dispute.json", oid,
					    &found, &err), RD_ENOTFOUND);
	}

	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' ls-tree -r --name-only "
			     "refs/disputes/%s", git, id), 0);
	CHECK_STR(out, "dispute.json\n"
		       "events/000001-opened.json\n"
		       "events/000002-investigate.json\n"
		       "events/000003-evidence.json\n"
		       "evidence/0001/content.jpg\n"
		       "evidence/0001/meta.json\n"
		       "evidence/0002/content.txt\n"
		       "evidence/0002/meta.json\n");
	free(out);
	out = NULL;
	/* the first commit's tree is untouched */
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' ls-tree -r "
			     "--name-only %s", git, c1), 0);
	CHECK_STR(out, "dispute.json\nevents/000001-opened.json\n");
	free(out);
	CHECK(fsck_clean(git));

	rd_test_record_close(&r);
}

static void bad_paths_refused(void)
{
	static const char *const bad[] = {
		"../x", "a/../b", ".git/config", "events/.git", "a/.GIT/b",
		"a//b", "a/./b", "/abs", "trailing/", ".", "..", "",
		"with space.json", "tab\there", "quote\"s", "back\\slash",
		"star*", "colon:x", "new\nline", "caf\xc3\xa9.json",
	};
	rd_test_record r;
	const char *git;
	char *out = NULL;
	char id[RD_ID_BUFSZ], head[RD_OID_BUFSZ];
	char long_name[300], long_path[1100];
	rd_error err = { 0 };
	int found = 1;

	CHECK(rd_test_record_open(&r) == 0);
	git = r.git;
	make_id(id, 5);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char c[RD_OID_BUFSZ];
		int rc = commit_one(&r, id, NULL, bad[i], "x", "bad", c,
				    &err);

		if (rc != RD_EINVALID) {
			rd_test_fail(__FILE__, __LINE__,
				     "path \"%s\" gave %d, not RD_EINVALID",
				     bad[i], rc);
			return;
		}
		CHECK_STR(err.field, "files[0].path");
	}
	memset(long_name, 'a', 256);
	long_name[256] = '\0';
	CHECK_FAILS(commit_one(&r, id, NULL, long_name, "x", "bad", head,
			       &err), RD_EINVALID);
	for (size_t i = 0; i + 1 < sizeof(long_path); i++)
		long_path[i] = i % 8 == 7 ? '/' : 'a';
	long_path[sizeof(long_path) - 1] = '\0';
	CHECK_FAILS(commit_one(&r, id, NULL, long_path, "x", "bad", head,
			       &err), RD_EINVALID);
	CHECK_HAS(err.message, "longer than");

	/* names at the limits are fine */
	memset(long_name, 'a', 255);
	long_name[255] = '\0';
	CHECK_OK(commit_one(&r, id, NULL, "A-z_0.9/...x/-", "x", "odd",
			    head, &err), &err);
	CHECK_OK(commit_one(&r, id, head, long_name, "x", "long", head,
			    &err), &err);

	/* nothing of the refused commits reached the ref */
	CHECK_OK(rd_test_record_head(&r, id, head, &found, &err), &err);
	CHECK_INT(found, 1);
	CHECK_INT(last_change(&r), 2);
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' rev-list --count "
			     "refs/disputes/%s", git, id), 0);
	CHECK_STR(out, "2\n");
	free(out);
	CHECK(fsck_clean(git));
	rd_test_record_close(&r);
}

static void bad_requests_refused(void)
{
	rd_test_record r;
	const char *git;
	char id[RD_ID_BUFSZ], c1[RD_OID_BUFSZ], c[RD_OID_BUFSZ];
	char head[RD_OID_BUFSZ], tree_id[RD_OID_BUFSZ + 1];
	char *out = NULL;
	rd_error err = { 0 };
	rd_tree_file files[2];
	rd_commit_request req;
	int found = 0;

	CHECK(rd_test_record_open(&r) == 0);
	git = r.git;
	make_id(id, 6);
	CHECK_OK(commit_one(&r, id, NULL, "evidence/0001/meta.json", "{}",
			    "opened", c1, &err), &err);

	/* dispute ids */
	CHECK_FAILS(commit_one(&r, "not-an-id", NULL, "a", "x", "m", c,
			       &err), RD_EINVALID);
	CHECK_STR(err.field, "dispute_id");
	CHECK_FAILS(commit_one(&r, "01hv0000000000000000000001", NULL, "a",
			       "x", "m", c, &err), RD_EINVALID);
	CHECK_FAILS(rd_test_record_head(&r, "../../HEAD", head, &found, &err),
		    RD_EINVALID);

	/* parent ids */
	CHECK_FAILS(commit_one(&r, id, "abc", "a", "x", "m", c, &err),
		    RD_EINVALID);
	CHECK_STR(err.field, "parent");

	memset(&req, 0, sizeof(req));
	req.dispute_id = id;
	req.parent = c1;
	req.author = alice();
	req.message = "m";
	req.files = files;
	req.file_count = 1;

	/* content and blob: exactly one */
	files[0] = (rd_tree_file){ "a", NULL, 0, NULL };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);
	CHECK_HAS(err.message, "neither");
	files[0] = (rd_tree_file){ "a", "x", 1, c1 };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);
	CHECK_HAS(err.message, "both");

	/* blob ids: malformed, unknown, not a blob */
	files[0] = (rd_tree_file){ "a", NULL, 0, "1234" };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);
	/* a blob the caller says it stored, missing: the repository failed */
	files[0] = (rd_tree_file){ "a", NULL, 0,
				   "0123456789abcdef0123456789abcdef01234567" };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EIO);
	CHECK_HAS(err.message, "0123456789abcdef0123456789abcdef01234567");
	files[0] = (rd_tree_file){ "a", NULL, 0, c1 };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);
	CHECK_HAS(err.message, "commit");
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' rev-parse '%s^{tree}'",
			     git, c1), 0);
	snprintf(tree_id, sizeof(tree_id), "%.40s", out);
	free(out);
	out = NULL;
	files[0] = (rd_tree_file){ "a", NULL, 0, tree_id };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);

	/* one path twice; a path both file and directory */
	files[0] = (rd_tree_file){ "events/x.json", "1", 1, NULL };
	files[1] = (rd_tree_file){ "events/x.json", "2", 1, NULL };
	req.file_count = 2;
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);
	CHECK_HAS(err.message, "twice");
	files[1] = (rd_tree_file){ "events", "2", 1, NULL };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);
	CHECK_HAS(err.message, "both");

	/* nothing is removed: a directory cannot become a file, nor back */
	req.file_count = 1;
	files[0] = (rd_tree_file){ "evidence/0001", "x", 1, NULL };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, "directory");
	files[0] = (rd_tree_file){ "evidence/0001/meta.json/x", "x", 1, NULL };
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, "is a file");

	/* author and message */
	files[0] = (rd_tree_file){ "a", "x", 1, NULL };
	req.message = "";
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);
	CHECK_STR(err.field, "message");
	req.message = "m";
	req.author = NULL;
	CHECK_FAILS(rd_test_record_commit(&r, &req, c, &err), RD_EINVALID);
	CHECK_STR(err.field, "author");

	/* none of it moved the ref, nor left a change */
	CHECK_OK(rd_test_record_head(&r, id, head, &found, &err), &err);
	CHECK_STR(head, c1);
	CHECK_INT(last_change(&r), 1);
	rd_test_record_close(&r);
}

static void authors_and_committer(void)
{
	rd_test_record r;
	rd_evidence_repo *repo;
	const char *git;
	char *out = NULL;
	char id[RD_ID_BUFSZ], c1[RD_OID_BUFSZ], c2[RD_OID_BUFSZ];
	rd_actor shop = rd_test_keyed_actor(RD_ROLE_STOREFRONT,
					    "Acme <shop>\nEU", "k_123");
	rd_actor sla = rd_test_keyed_actor(RD_ROLE_SYSTEM, "", "");
	rd_tree_file file = { "dispute.json", "{}", 2, NULL };
	rd_commit_request req = { NULL, NULL, &file, 1, &shop, 1700000123,
				  "opened\n\nBy the storefront.\n" };
	rd_commit_info *log = NULL;
	size_t count = 0;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	git = r.git;
	make_id(id, 7);
	req.dispute_id = id;
	CHECK_OK(rd_test_record_commit(&r, &req, c1, &err), &err);
	req.parent = c1;
	req.author = &sla;
	req.when = 1700086523;
	req.message = "escalate";
	CHECK_OK(rd_test_record_commit(&r, &req, c2, &err), &err);

	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' log --reverse "
			     "--format='%%an|%%ae|%%at|%%ai|%%cn|%%ce|%%ct' "
			     "refs/disputes/%s", git, id), 0);
	CHECK_STR(out, "Acme  shop  EU|storefront.k_123@redress|1700000123|"
		       "2023-11-14 22:15:23 +0000|redress|redress@localhost|"
		       "1700000123\n"
		       "system|system@redress|1700086523|"
		       "2023-11-15 22:15:23 +0000|redress|redress@localhost|"
		       "1700086523\n");
	free(out);

	CHECK_OK(rd_evidence_log(repo, c2, &log, &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_STR(log[0].author_email, "storefront.k_123@redress");
	CHECK_INT(log[0].when, 1700000123);
	CHECK_STR(log[0].message, "opened\n\nBy the storefront.\n");
	CHECK_STR(log[1].author_name, "system");
	rd_commit_infos_free(log, count);
	CHECK(fsck_clean(git));
	rd_test_record_close(&r);
}

/* ---- history and disputes ----------------------------------------------- */

struct seen {
	char ids[8][RD_ID_BUFSZ];
	size_t count;
	size_t stop_after;   /* 0: never stop */
};

static int collect(const char *dispute_id, void *ctx)
{
	struct seen *s = ctx;

	if (s->count < 8)
		snprintf(s->ids[s->count], RD_ID_BUFSZ, "%s", dispute_id);
	s->count++;
	return s->stop_after && s->count == s->stop_after ? 42 : 0;
}

static void log_and_foreach_dispute(void)
{
	rd_test_record r;
	rd_evidence_repo *repo, *mirror;
	const char *git;
	char ids[3][RD_ID_BUFSZ], commits[3][RD_OID_BUFSZ];
	char c[RD_OID_BUFSZ];
	rd_commit_info *log = NULL;
	rd_ref_row *heads = NULL;
	size_t count = 0;
	struct seen seen = { .count = 0 };
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	git = r.git;
	CHECK_OK(rd_store_refs_after(r.store, "", 10, &heads, &count, &err),
		 &err);
	CHECK_INT(count, 0);
	free(heads);
	heads = NULL;
	/* the mirror of an empty record: no disputes */
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	mirror = rd_mirror_repo(r.mirror);
	CHECK_OK(rd_evidence_foreach_dispute(mirror, collect, &seen, &err),
		 &err);
	CHECK_INT(seen.count, 0);

	/* created out of order: the walk is in ref-name order */
	make_id(ids[0], 30);
	make_id(ids[1], 10);
	make_id(ids[2], 20);
	for (int i = 0; i < 3; i++)
		/* cppcheck-suppress legacyUninitvar ; an output, not read */
		CHECK_OK(commit_one(&r, ids[i], NULL, "dispute.json", "{}",
				    "opened", i == 0 ? commits[0] : c, &err),
			 &err);
	CHECK_OK(commit_one(&r, ids[0], commits[0], "events/1.json",
			    "{\"e\":1}", "investigate", commits[1], &err),
		 &err);
	CHECK_OK(commit_one(&r, ids[0], commits[1], "events/2.json",
			    "{\"e\":2}", "make_offer\n\nOffer 1.\n",
			    commits[2], &err), &err);

	/* the record's heads, in dispute id order */
	CHECK_OK(rd_store_refs_after(r.store, "", 10, &heads, &count, &err),
		 &err);
	CHECK_INT(count, 3);
	CHECK_STR(heads[0].dispute_id, ids[1]);
	CHECK_STR(heads[1].dispute_id, ids[2]);
	CHECK_STR(heads[2].dispute_id, ids[0]);
	CHECK_STR(heads[2].head, commits[2]);
	free(heads);
	heads = NULL;
	CHECK_OK(rd_store_refs_after(r.store, ids[1], 1, &heads, &count, &err),
		 &err);
	CHECK_INT(count, 1);
	CHECK_STR(heads[0].dispute_id, ids[2]);
	free(heads);
	heads = NULL;

	/* the mirror's refs, walked in ref-name order */
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	/* a ref that is no dispute id is not a dispute */
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' update-ref "
			     "refs/disputes/not-a-dispute %s", git,
			     commits[0]), 0);
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' update-ref "
			     "refs/heads/main %s", git, commits[0]), 0);

	CHECK_OK(rd_evidence_foreach_dispute(mirror, collect, &seen, &err),
		 &err);
	CHECK_INT(seen.count, 3);
	CHECK_STR(seen.ids[0], ids[1]);
	CHECK_STR(seen.ids[1], ids[2]);
	CHECK_STR(seen.ids[2], ids[0]);

	/* the walk stops at the first non-zero answer and returns it */
	seen.count = 0;
	seen.stop_after = 2;
	CHECK_INT(rd_evidence_foreach_dispute(mirror, collect, &seen, &err),
		  42);
	CHECK_INT(seen.count, 2);

	/* packed refs are disputes too */
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' pack-refs --all", git),
		  0);
	seen.count = 0;
	seen.stop_after = 0;
	CHECK_OK(rd_evidence_foreach_dispute(mirror, collect, &seen, &err),
		 &err);
	CHECK_INT(seen.count, 3);
	CHECK_STR(seen.ids[0], ids[1]);

	/* history: oldest first, linked by parents */
	CHECK_OK(rd_evidence_log(repo, commits[2], &log, &count, &err), &err);
	CHECK_INT(count, 3);
	CHECK_STR(log[0].oid, commits[0]);
	CHECK_STR(log[0].parent, "");
	CHECK_INT(log[0].parent_count, 0);
	CHECK_STR(log[0].message, "opened");
	CHECK_STR(log[1].oid, commits[1]);
	CHECK_STR(log[1].parent, commits[0]);
	CHECK_INT(log[1].parent_count, 1);
	CHECK_STR(log[2].oid, commits[2]);
	CHECK_STR(log[2].parent, commits[1]);
	CHECK_STR(log[2].message, "make_offer\n\nOffer 1.\n");
	CHECK_STR(log[2].author_name, "Alice Agent");
	CHECK_STR(log[2].author_email, "agent@redress");
	CHECK_INT(log[2].when, 1700000000);
	rd_commit_infos_free(log, count);
	log = NULL;

	/* a log from the middle stops there */
	CHECK_OK(rd_evidence_log(repo, commits[1], &log, &count, &err), &err);
	CHECK_INT(count, 2);
	rd_commit_infos_free(log, count);
	log = NULL;

	CHECK_FAILS(rd_evidence_log(repo, "nope", &log, &count, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_evidence_log(repo,
				    "0123456789abcdef0123456789abcdef01234567",
				    &log, &count, &err), RD_ENOTFOUND);
	CHECK(log == NULL);
	CHECK_INT(count, 0);
	rd_commit_infos_free(NULL, 0);
	rd_test_record_close(&r);
}

static void read_errors(void)
{
	rd_test_record r;
	rd_evidence_repo *repo;
	char id[RD_ID_BUFSZ], c1[RD_OID_BUFSZ];
	char **names = NULL;
	char *bytes = NULL;
	size_t len = 0, count = 0;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	make_id(id, 8);
	CHECK_OK(commit_one(&r, id, NULL, "events/000001-opened.json", "{}",
			    "opened", c1, &err), &err);
	CHECK_FAILS(rd_evidence_read(repo, c1, "dispute.json", &bytes, &len,
				     &err), RD_ENOTFOUND);
	CHECK_HAS(err.message, "dispute.json");
	CHECK_FAILS(rd_evidence_read(repo, c1, "events", &bytes, &len, &err),
		    RD_EINVALID);
	CHECK_FAILS(rd_evidence_read(repo, c1, "../events", &bytes, &len,
				     &err), RD_EINVALID);
	CHECK_FAILS(rd_evidence_read(repo,
				     "0123456789abcdef0123456789abcdef01234567",
				     "dispute.json", &bytes, &len, &err),
		    RD_ENOTFOUND);
	CHECK_FAILS(rd_evidence_read(repo, "HEAD", "dispute.json", &bytes,
				     &len, &err), RD_EINVALID);
	CHECK(bytes == NULL);
	CHECK_FAILS(rd_evidence_list(repo, c1, "events/000001-opened.json",
				     &names, &count, &err), RD_EINVALID);
	CHECK_FAILS(rd_evidence_list(repo, c1, "a//b", &names, &count, &err),
		    RD_EINVALID);
	CHECK_OK(rd_evidence_list(repo, c1, "evidence/0001", &names, &count,
				  &err), &err);
	CHECK_INT(count, 0);
	rd_test_record_close(&r);
}

/* Nothing quadratic in an obvious way: a long history stays usable. */
static void hundred_commits(void)
{
	rd_test_record r;
	rd_evidence_repo *repo;
	const char *git;
	char *out = NULL;
	char id[RD_ID_BUFSZ], head[RD_OID_BUFSZ], next[RD_OID_BUFSZ];
	char path[64], body[64], message[64];
	rd_commit_info *log = NULL;
	char **names = NULL;
	size_t count = 0;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	git = r.git;
	make_id(id, 9);
	head[0] = '\0';
	for (int i = 1; i <= 100; i++) {
		rd_tree_file files[2];
		rd_commit_request req = { id, i == 1 ? NULL : head, files, 2,
					  alice(), 1700000000 + i, message };

		snprintf(path, sizeof(path), "events/%06d-event.json", i);
		snprintf(body, sizeof(body), "{\"version\": %d}", i);
		snprintf(message, sizeof(message), "event %d", i);
		files[0] = (rd_tree_file){ "dispute.json", body, strlen(body),
					   NULL };
		files[1] = (rd_tree_file){ path, body, strlen(body), NULL };
		CHECK_OK(rd_test_record_commit(&r, &req, next, &err), &err);
		memcpy(head, next, sizeof(head));
	}
	CHECK_OK(rd_evidence_log(repo, head, &log, &count, &err), &err);
	CHECK_INT(count, 100);
	CHECK_STR(log[0].message, "event 1");
	CHECK_STR(log[99].message, "event 100");
	CHECK_STR(log[99].oid, head);
	for (size_t i = 1; i < count; i++)
		CHECK_STR(log[i].parent, log[i - 1].oid);
	rd_commit_infos_free(log, count);
	CHECK_OK(rd_evidence_list(repo, head, "events", &names, &count, &err),
		 &err);
	CHECK_INT(count, 100);
	CHECK_STR(names[99], "000100-event.json");
	free_names(names, count);
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' log --oneline "
			     "refs/disputes/%s | wc -l", git, id), 0);
	CHECK_STR(out, "100\n");
	free(out);
	CHECK(fsck_clean(git));
	rd_test_record_close(&r);
}

int main(void)
{
	RUN(open_creates_and_reopens);
	RUN(open_missing_is_not_found);
	RUN(commit_chain_readable_with_git);
	RUN(compare_and_swap);
	RUN(nested_paths_keep_every_file);
	RUN(bad_paths_refused);
	RUN(bad_requests_refused);
	RUN(authors_and_committer);
	RUN(log_and_foreach_dispute);
	RUN(read_errors);
	RUN(hundred_commits);
	return rd_test_summary();
}
