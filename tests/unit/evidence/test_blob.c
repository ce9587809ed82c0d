/*
 * Evidence files: streaming bytes into the object database (the blob id
 * git would give, the SHA-256 sha256sum would give, nothing left behind by
 * an abandoned or wrong-sized upload), content types told from the bytes,
 * streaming a file back out, and corrupted objects reported as errors.
 */
#include "fixtures.h"
#include "test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "redress/evidence.h"

/* ---- helpers ------------------------------------------------------------ */

static int write_bytes(const char *path, const void *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f)
		return -1;
	if (len && fwrite(bytes, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* The first word of a command's output (an id or a hash), into out. */
__attribute__((format(printf, 3, 4)))
static int sh_word(char *out, size_t size, const char *fmt, ...)
{
	char cmd[4096];
	char *output = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = rd_test_sh(&output, "%s", cmd);
	out[0] = '\0';
	if (output)
		snprintf(out, size, "%.*s", (int)strcspn(output, " \t\n"),
			 output);
	free(output);
	return rc;
}

/* Files under objects/ (loose objects and anything temporary). */
static long object_files(const char *git)
{
	char count[32];

	if (sh_word(count, sizeof(count),
		    "find '%s/objects' -type f | wc -l", git) != 0)
		return -1;
	return strtol(count, NULL, 10);
}

/* Deterministic bytes that compress badly and look like nothing. */
static unsigned char *random_bytes(size_t len)
{
	unsigned char *bytes = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15u;

	for (size_t i = 0; bytes && i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bytes[i] = (unsigned char)(x >> 24);
	}
	return bytes;
}

static int store_blob(rd_evidence_repo *repo, const void *bytes, size_t len,
		      rd_blob_info *info, rd_error *err)
{
	rd_blob_writer *w = NULL;
	int rc;

	if ((rc = rd_blob_writer_new(&w, repo, (int64_t)len, err)) == 0 &&
	    (rc = rd_blob_writer_write(w, bytes, len, err)) == 0 &&
	    (rc = rd_blob_writer_finish(w, info, err)) == 0)
		w = NULL;   /* a successful finish released it */
	rd_blob_writer_free(w);
	return rc;
}

static const rd_actor *bob(void)
{
	static rd_actor a = { .role = RD_ROLE_AGENT, .name = "Bob" };

	return &a;
}

/* ---- samples ------------------------------------------------------------ */

static const unsigned char png[] = {
	0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
	0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1,
	8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
};
static const unsigned char jpeg[] = {
	0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01,
	0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
};
static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
			  "trailer\n<< /Root 1 0 R >>\n%%EOF\n";
static const char text[] = "The lamp arrived with a cracked base.\n"
			   "Photos were taken on delivery.\n";
static const char json[] = "{\"tracking\": \"1Z999\", \"events\": "
			   "[{\"status\": \"delivered\"}]}\n";

struct sample {
	const char *name;
	const void *bytes;
	size_t len;
	const char *type;
};

static const struct sample samples[] = {
	{ "png", png, sizeof(png), "image/png" },
	{ "jpeg", jpeg, sizeof(jpeg), "image/jpeg" },
	{ "pdf", pdf, sizeof(pdf) - 1, "application/pdf" },
	{ "text", text, sizeof(text) - 1, "text/plain" },
	{ "json", json, sizeof(json) - 1, "application/json" },
};

/* ---- tests -------------------------------------------------------------- */

static void large_blob_streamed(void)
{
	const size_t size = 3 * 1024 * 1024 + 17;
	static const size_t chunks[] = { 1, 7, 4093, 65537, 333333, 1 << 20 };
	char *dir = NULL, *git = NULL, *file = NULL;
	rd_evidence_repo *repo = rd_test_fresh_repo(&dir, &git);
	unsigned char *bytes = random_bytes(size);
	rd_blob_writer *w = NULL;
	rd_blob_info info;
	char expect[80], *out = NULL;
	size_t done = 0;
	rd_error err = { 0 };

	CHECK(repo != NULL && bytes != NULL);
	CHECK_OK(rd_blob_writer_new(&w, repo, (int64_t)size, &err), &err);
	for (size_t i = 0; done < size; i++) {
		size_t n = chunks[i % 6];

		if (n > size - done)
			n = size - done;
		CHECK_OK(rd_blob_writer_write(w, bytes + done, n, &err), &err);
		done += n;
		/* the type is known exactly once the first 64 KiB are in */
		if (done < RD_SNIFF_BYTES)
			CHECK(rd_blob_writer_content_type(w) == NULL);
		else
			CHECK(rd_blob_writer_content_type(w) != NULL);
	}
	CHECK_STR(rd_blob_writer_content_type(w), "application/octet-stream");
	CHECK_OK(rd_blob_writer_finish(w, &info, &err), &err);
	w = NULL;   /* released by the successful finish */
	CHECK_INT(info.size, (long long)size);
	CHECK_STR(info.content_type, "application/octet-stream");

	/* git and sha256sum say the same of the same bytes */
	file = rd_test_path(dir, "bytes.bin");
	CHECK(write_bytes(file, bytes, size) == 0);
	CHECK_INT(sh_word(expect, sizeof(expect), "git --git-dir='%s' "
			  "hash-object --no-filters '%s'", git, file), 0);
	CHECK_STR(info.oid, expect);
	CHECK_INT(sh_word(expect, sizeof(expect), "sha256sum '%s'", file), 0);
	CHECK_STR(info.sha256, expect);
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' cat-file -s %s", git,
			     info.oid), 0);
	CHECK_INT(strtoll(out, NULL, 10), (long long)size);
	free(out);
	out = NULL;
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' cat-file blob %s | "
			     "cmp -s - '%s'", git, info.oid, file), 0);

	free(file);
	free(bytes);
	rd_evidence_repo_close(repo);
	free(git);
	free(dir);
}

static void content_types_from_bytes(void)
{
	char *dir = NULL, *git = NULL;
	rd_evidence_repo *repo = rd_test_fresh_repo(&dir, &git);
	char type[128], expect[128];
	rd_error err = { 0 };

	/* the file command is libmagic's own front end, when installed */
	int have_file = rd_test_sh(NULL, "command -v file >/dev/null") == 0;

	CHECK(repo != NULL);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		const struct sample *s = &samples[i];
		char *file = rd_test_path(dir, s->name);
		rd_blob_writer *w = NULL;
		rd_blob_info info;

		CHECK_OK(rd_evidence_sniff(repo, s->bytes, s->len, type, &err),
			 &err);
		CHECK_STR(type, s->type);
		/* the same answer as the file command over the same bytes */
		CHECK(write_bytes(file, s->bytes, s->len) == 0);
		if (have_file) {
			CHECK_INT(sh_word(expect, sizeof(expect),
					  "file --brief --mime-type '%s'",
					  file), 0);
			CHECK_STR(type, expect);
		}
		free(file);

		/* a small file's type is known once all of it is written */
		CHECK_OK(rd_blob_writer_new(&w, repo, (int64_t)s->len, &err),
			 &err);
		CHECK_OK(rd_blob_writer_write(w, s->bytes, s->len - 3, &err),
			 &err);
		CHECK(rd_blob_writer_content_type(w) == NULL);
		CHECK_OK(rd_blob_writer_write(w, (const char *)s->bytes +
					      s->len - 3, 3, &err), &err);
		CHECK_STR(rd_blob_writer_content_type(w), s->type);
		/* a successful finish also releases the writer */
		CHECK_OK(rd_blob_writer_finish(w, &info, &err), &err);
		CHECK_STR(info.content_type, s->type);
	}
	CHECK_OK(rd_evidence_sniff(repo, "", 0, type, &err), &err);
	CHECK_STR(type, "application/x-empty");
	rd_evidence_repo_close(repo);
	free(git);
	free(dir);
}

static void wrong_sizes_leave_nothing(void)
{
	char *dir = NULL, *git = NULL, *file = NULL;
	rd_evidence_repo *repo = rd_test_fresh_repo(&dir, &git);
	unsigned char *bytes = random_bytes(200);
	rd_blob_writer *w = NULL;
	rd_blob_info info;
	char oid[80];
	rd_error err = { 0 };

	CHECK(repo != NULL && bytes != NULL);
	CHECK_INT(object_files(git), 0);

	/* nothing to store */
	CHECK_FAILS(rd_blob_writer_new(&w, repo, 0, &err), RD_EINVALID);
	CHECK_FAILS(rd_blob_writer_new(&w, repo, -5, &err), RD_EINVALID);
	CHECK(w == NULL);

	/* more bytes than declared */
	CHECK_OK(rd_blob_writer_new(&w, repo, 10, &err), &err);
	CHECK_OK(rd_blob_writer_write(w, bytes, 6, &err), &err);
	CHECK_FAILS(rd_blob_writer_write(w, bytes + 6, 5, &err), RD_EINVALID);
	CHECK_HAS(err.message, "more bytes than the 10 declared");
	CHECK_FAILS(rd_blob_writer_write(w, bytes + 6, 4, &err), RD_EINVALID);
	CHECK_FAILS(rd_blob_writer_finish(w, &info, &err), RD_EINVALID);
	rd_blob_writer_free(w);
	w = NULL;
	CHECK_INT(object_files(git), 0);

	/* fewer: truncated, and no object */
	CHECK_OK(rd_blob_writer_new(&w, repo, 100, &err), &err);
	CHECK_OK(rd_blob_writer_write(w, bytes, 50, &err), &err);
	CHECK_FAILS(rd_blob_writer_finish(w, &info, &err), RD_EINVALID);
	CHECK_HAS(err.message, "truncated");
	CHECK_HAS(err.message, "50 of the 100");
	CHECK_FAILS(rd_blob_writer_finish(w, &info, &err), RD_EINVALID);
	rd_blob_writer_free(w);
	w = NULL;
	CHECK_INT(object_files(git), 0);
	file = rd_test_path(dir, "half.bin");
	CHECK(write_bytes(file, bytes, 50) == 0);
	CHECK_INT(sh_word(oid, sizeof(oid), "git --git-dir='%s' hash-object "
			  "--no-filters '%s'", git, file), 0);
	CHECK(rd_test_sh(NULL, "git --git-dir='%s' cat-file -e %s 2>/dev/null",
			 git, oid) != 0);

	/* every byte, but abandoned: still nothing */
	CHECK(write_bytes(file, bytes, 200) == 0);
	CHECK_INT(sh_word(oid, sizeof(oid), "git --git-dir='%s' hash-object "
			  "--no-filters '%s'", git, file), 0);
	CHECK_OK(rd_blob_writer_new(&w, repo, 200, &err), &err);
	CHECK_OK(rd_blob_writer_write(w, bytes, 200, &err), &err);
	rd_blob_writer_free(w);
	w = NULL;
	rd_blob_writer_free(NULL);
	CHECK_INT(object_files(git), 0);
	CHECK(rd_test_sh(NULL, "git --git-dir='%s' cat-file -e %s 2>/dev/null",
			 git, oid) != 0);

	/* the same bytes finished: the object is there, under that id */
	CHECK_OK(store_blob(repo, bytes, 200, &info, &err), &err);
	CHECK_STR(info.oid, oid);
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' cat-file -e %s", git,
			     oid), 0);
	CHECK_INT(object_files(git), 1);

	free(file);
	free(bytes);
	rd_evidence_repo_close(repo);
	free(git);
	free(dir);
}

struct received {
	unsigned char *bytes;
	size_t len;
	size_t cap;
	size_t calls;
	size_t largest;
	size_t stop_at;      /* refuse this call (1-based); 0: never */
};

static int receive(void *ctx, const void *buf, size_t len)
{
	struct received *r = ctx;

	r->calls++;
	if (r->stop_at && r->calls == r->stop_at)
		return -1;
	if (len > r->largest)
		r->largest = len;
	if (r->len + len > r->cap)
		return -1;
	memcpy(r->bytes + r->len, buf, len);
	r->len += len;
	return 0;
}

static void stream_back(void)
{
	const size_t size = 300 * 1024 + 5;
	char *dir = NULL, *git = NULL;
	rd_evidence_repo *repo = rd_test_fresh_repo(&dir, &git);
	unsigned char *bytes = random_bytes(size);
	struct received r = { 0 };
	char id[RD_ID_BUFSZ] = "01HV00000000000000000000AA";
	char commit[RD_OID_BUFSZ], sha[65], oid[RD_OID_BUFSZ];
	rd_blob_info info;
	int64_t got = 0;
	rd_error err = { 0 };

	CHECK(repo != NULL && bytes != NULL);
	CHECK_OK(store_blob(repo, bytes, size, &info, &err), &err);
	{
		rd_tree_file files[] = {
			{ "evidence/0001/content.bin", NULL, 0, info.oid },
			{ "evidence/0001/meta.json", "{}", 2, NULL },
		};
		rd_commit_request req = { id, NULL, files, 2, bob(),
					  1700000000, "evidence added" };

		CHECK_OK(rd_evidence_commit(repo, &req, commit, &err), &err);
	}
	r.bytes = malloc(size);
	r.cap = size;
	CHECK(r.bytes != NULL);
	CHECK_OK(rd_evidence_stream(repo, commit, "evidence/0001/content.bin",
				    receive, &r, sha, &got, oid, &err), &err);
	CHECK_INT(r.len, (long long)size);
	CHECK(memcmp(r.bytes, bytes, size) == 0);
	CHECK_INT(r.calls, 5);                 /* 64 KiB at a time */
	CHECK_INT(r.largest, 64 * 1024);
	CHECK_INT(got, (long long)size);
	CHECK_STR(sha, info.sha256);
	CHECK_STR(oid, info.oid);

	/* only hashing */
	memset(sha, 0, sizeof(sha));
	CHECK_OK(rd_evidence_stream(repo, commit, "evidence/0001/content.bin",
				    NULL, NULL, sha, NULL, NULL, &err), &err);
	CHECK_STR(sha, info.sha256);

	/* a receiver that gives up */
	r.len = 0;
	r.calls = 0;
	r.stop_at = 2;
	CHECK_FAILS(rd_evidence_stream(repo, commit,
				       "evidence/0001/content.bin", receive,
				       &r, sha, &got, oid, &err), RD_EIO);
	CHECK_HAS(err.message, "stopped");
	CHECK_INT(r.calls, 2);
	CHECK_FAILS(rd_evidence_stream(repo, commit, "evidence/0002/x",
				       receive, &r, sha, &got, oid, &err),
		    RD_ENOTFOUND);

	free(r.bytes);
	free(bytes);
	rd_evidence_repo_close(repo);
	free(git);
	free(dir);
}

/* The loose object file of oid, as a new path. */
static char *object_path(const char *git, const char *oid)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "objects/%.2s/%.38s", oid, oid + 2);
	return rd_test_path(git, rel);
}

static void corrupted_objects_reported(void)
{
	char *dir = NULL, *git = NULL, *blob = NULL, *other = NULL;
	char *first_obj = NULL, *second_obj = NULL;
	rd_evidence_repo *repo = rd_test_fresh_repo(&dir, &git);
	char id[RD_ID_BUFSZ] = "01HV00000000000000000000BB";
	char c1[RD_OID_BUFSZ], c2[RD_OID_BUFSZ], oid[RD_OID_BUFSZ];
	char sha[65], other_oid[80];
	unsigned char *bytes = random_bytes(4096);
	rd_commit_info *log = NULL;
	rd_blob_info info;
	char *text_out = NULL;
	size_t len = 0, count = 0;
	int64_t size = 0;
	FILE *f;
	rd_error err = { 0 };

	CHECK(repo != NULL && bytes != NULL);
	CHECK_OK(store_blob(repo, bytes, 4096, &info, &err), &err);
	{
		rd_tree_file files[] = {
			{ "evidence/0001/content.bin", NULL, 0, info.oid },
			{ "notes.txt", "a note that will be replaced\n", 29,
			  NULL },
		};
		rd_commit_request req = { id, NULL, files, 2, bob(),
					  1700000000, "opened" };

		CHECK_OK(rd_evidence_commit(repo, &req, c1, &err), &err);
		req.parent = c1;
		req.file_count = 0;
		req.message = "second";
		CHECK_OK(rd_evidence_commit(repo, &req, c2, &err), &err);
	}
	CHECK_OK(rd_evidence_stream(repo, c2, "notes.txt", NULL, NULL, sha,
				    &size, oid, &err), &err);
	rd_evidence_repo_close(repo);
	repo = NULL;

	/* 1. bytes overwritten inside the evidence file's object */
	blob = object_path(git, info.oid);
	CHECK(chmod(blob, 0644) == 0);
	f = fopen(blob, "r+b");
	CHECK(f != NULL);
	CHECK(fseek(f, 2000, SEEK_SET) == 0);
	CHECK(fwrite("\xff\x00\xff\x00\xff\x00\xff\x00", 1, 8, f) == 8);
	CHECK(fclose(f) == 0);
	CHECK_OK(rd_evidence_repo_open(&repo, git, 0, &err), &err);
	CHECK_FAILS(rd_evidence_stream(repo, c2, "evidence/0001/content.bin",
				       NULL, NULL, sha, &size, NULL, &err),
		    RD_EIO);
	CHECK_HAS(err.message, "evidence/0001/content.bin");
	rd_evidence_repo_close(repo);
	repo = NULL;

	/* 2. a well-formed object under the wrong name: the hash check */
	other = rd_test_path(dir, "other.txt");
	CHECK(rd_test_write(other, "a note that was swapped in!!\n") == 0);
	CHECK_INT(sh_word(other_oid, sizeof(other_oid), "git --git-dir='%s' "
			  "hash-object -w '%s'", git, other), 0);
	free(blob);
	blob = object_path(git, oid);
	first_obj = object_path(git, other_oid);
	CHECK(chmod(blob, 0644) == 0);
	CHECK_INT(rd_test_sh(NULL, "cp '%s' '%s'", first_obj, blob), 0);
	CHECK_OK(rd_evidence_repo_open(&repo, git, 0, &err), &err);
	CHECK_FAILS(rd_evidence_read(repo, c2, "notes.txt", &text_out, &len,
				     &err), RD_EIO);
	CHECK(text_out == NULL);
	CHECK_FAILS(rd_evidence_stream(repo, c2, "notes.txt", NULL, NULL,
				       sha, &size, NULL, &err), RD_EIO);
	rd_evidence_repo_close(repo);
	repo = NULL;

	/* 3. a commit of the history swapped for another: log names it */
	free(first_obj);
	first_obj = object_path(git, c1);
	second_obj = object_path(git, c2);
	CHECK(chmod(first_obj, 0644) == 0);
	CHECK_INT(rd_test_sh(NULL, "cp '%s' '%s'", second_obj, first_obj), 0);
	CHECK_OK(rd_evidence_repo_open(&repo, git, 0, &err), &err);
	CHECK_FAILS(rd_evidence_log(repo, c2, &log, &count, &err), RD_EIO);
	CHECK_HAS(err.message, c1);
	CHECK(log == NULL);
	CHECK_INT(count, 0);

	/* stock git sees the same damage */
	CHECK(rd_test_sh(NULL, "git --git-dir='%s' fsck --strict "
			 ">/dev/null 2>&1", git) != 0);

	rd_evidence_repo_close(repo);
	free(second_obj);
	free(first_obj);
	free(other);
	free(blob);
	free(bytes);
	free(git);
	free(dir);
}

int main(void)
{
	RUN(large_blob_streamed);
	RUN(content_types_from_bytes);
	RUN(wrong_sizes_leave_nothing);
	RUN(stream_back);
	RUN(corrupted_objects_reported);
	return rd_test_summary();
}
