/*
 * Evidence files: streaming bytes into the record's blobs directory (a file
 * named by the blob id git would give, holding the bytes sha256sum hashes
 * to the SHA-256 given; nothing left behind by an abandoned or wrong-sized
 * upload; the same bytes kept once), content types told from the bytes,
 * streaming a file back out once a change names it, and a damaged file or
 * object reported as an error and never copied into the mirror.
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

/* Files under the blobs directory (evidence files and temporaries). */
static long blob_files(const char *blobs)
{
	char count[32];

	if (sh_word(count, sizeof(count),
		    "find '%s' -type f | wc -l", blobs) != 0)
		return -1;
	return strtol(count, NULL, 10);
}

/* The evidence file of blob oid: <blobs>/<2 hex>/<38 hex>, new. */
static char *blob_path(const char *blobs, const char *oid)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "%.2s/%.38s", oid, oid + 2);
	return rd_test_path(blobs, rel);
}

/* 1 when the record holds an evidence file for oid, 0 when not, -1. */
static int file_present(rd_evidence_repo *repo, const char *oid)
{
	int present = 0;
	int64_t size = 0;
	rd_error err = { 0 };

	if (rd_evidence_file_present(repo, oid, &present, &size, &err) < 0)
		return -1;
	return present;
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
	rd_test_record r;
	rd_evidence_repo *repo;
	const char *git, *dir;
	char *file = NULL, *stored = NULL;
	unsigned char *bytes = random_bytes(size);
	rd_blob_writer *w = NULL;
	rd_blob_info info;
	char expect[80], commit[RD_OID_BUFSZ], *out = NULL;
	size_t done = 0;
	int present = 0;
	int64_t on_disk = 0;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	git = r.git;
	dir = r.dir;
	CHECK(bytes != NULL);
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

	/* the file under its id holds exactly the bytes */
	file = rd_test_path(dir, "bytes.bin");
	CHECK(write_bytes(file, bytes, size) == 0);
	stored = blob_path(r.blobs, info.oid);
	CHECK_INT(rd_test_sh(NULL, "cmp -s '%s' '%s'", stored, file), 0);
	CHECK_OK(rd_evidence_file_present(repo, info.oid, &present, &on_disk,
					  &err), &err);
	CHECK_INT(present, 1);
	CHECK_INT(on_disk, (long long)size);
	CHECK_INT(blob_files(r.blobs), 1);   /* no temporary left */

	/* git and sha256sum say the same of the same bytes */
	CHECK_INT(sh_word(expect, sizeof(expect), "git hash-object "
			  "--no-filters '%s'", file), 0);
	CHECK_STR(info.oid, expect);
	CHECK_INT(sh_word(expect, sizeof(expect), "sha256sum '%s'", file), 0);
	CHECK_STR(info.sha256, expect);

	/* and once a change names it, stock git reads it from the mirror */
	{
		rd_tree_file f = { "evidence/0001/content.bin", NULL, 0,
				   info.oid };
		rd_commit_request req = { "01HV00000000000000000000CC", NULL,
					  &f, 1, bob(), 1700000000,
					  "evidence added" };

		CHECK_OK(rd_test_record_commit(&r, &req, commit, &err), &err);
	}
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	CHECK_INT(rd_test_sh(&out, "git --git-dir='%s' cat-file -s %s", git,
			     info.oid), 0);
	CHECK_INT(strtoll(out, NULL, 10), (long long)size);
	free(out);
	out = NULL;
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' cat-file blob %s | "
			     "cmp -s - '%s'", git, info.oid, file), 0);
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' fsck --strict "
			     "--no-progress >/dev/null 2>&1", git), 0);

	free(stored);
	free(file);
	free(bytes);
	rd_test_record_close(&r);
}

static void content_types_from_bytes(void)
{
	rd_test_record r;
	rd_evidence_repo *repo;
	const char *dir;
	char type[128], expect[128];
	rd_error err = { 0 };

	/* the file command is libmagic's own front end, when installed */
	int have_file = rd_test_sh(NULL, "command -v file >/dev/null") == 0;

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	dir = r.dir;
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
	rd_test_record_close(&r);
}

static void wrong_sizes_leave_nothing(void)
{
	rd_test_record r;
	rd_evidence_repo *repo;
	const char *blobs;
	char *file = NULL, *stored = NULL;
	unsigned char *bytes = random_bytes(200);
	rd_blob_writer *w = NULL;
	rd_blob_info info;
	char oid[80];
	struct stat sb;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	blobs = r.blobs;
	CHECK(bytes != NULL);
	CHECK_INT(blob_files(blobs), 0);

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
	CHECK_INT(blob_files(blobs), 0);

	/* fewer: truncated, and no file under an id */
	CHECK_OK(rd_blob_writer_new(&w, repo, 100, &err), &err);
	CHECK_OK(rd_blob_writer_write(w, bytes, 50, &err), &err);
	CHECK_INT(blob_files(blobs), 1);   /* its temporary, for now */
	CHECK_FAILS(rd_blob_writer_finish(w, &info, &err), RD_EINVALID);
	CHECK_HAS(err.message, "truncated");
	CHECK_HAS(err.message, "50 of the 100");
	CHECK_FAILS(rd_blob_writer_finish(w, &info, &err), RD_EINVALID);
	rd_blob_writer_free(w);
	w = NULL;
	CHECK_INT(blob_files(blobs), 0);
	file = rd_test_path(r.dir, "half.bin");
	CHECK(write_bytes(file, bytes, 50) == 0);
	CHECK_INT(sh_word(oid, sizeof(oid), "git hash-object --no-filters "
			  "'%s'", file), 0);
	CHECK_INT(file_present(repo, oid), 0);

	/* every byte, but abandoned: still nothing */
	CHECK(write_bytes(file, bytes, 200) == 0);
	CHECK_INT(sh_word(oid, sizeof(oid), "git hash-object --no-filters "
			  "'%s'", file), 0);
	CHECK_OK(rd_blob_writer_new(&w, repo, 200, &err), &err);
	CHECK_OK(rd_blob_writer_write(w, bytes, 200, &err), &err);
	rd_blob_writer_free(w);
	w = NULL;
	rd_blob_writer_free(NULL);
	CHECK_INT(blob_files(blobs), 0);
	CHECK_INT(file_present(repo, oid), 0);
	stored = blob_path(blobs, oid);
	CHECK(stat(stored, &sb) != 0);

	/* the same bytes finished: the file is there, under that id */
	CHECK_OK(store_blob(repo, bytes, 200, &info, &err), &err);
	CHECK_STR(info.oid, oid);
	CHECK_INT(file_present(repo, oid), 1);
	CHECK(stat(stored, &sb) == 0 && sb.st_size == 200);
	CHECK_INT(rd_test_sh(NULL, "cmp -s '%s' '%s'", stored, file), 0);
	CHECK_INT(blob_files(blobs), 1);

	/* the same bytes again: one file still, under the same id */
	memset(&info, 0, sizeof(info));
	CHECK_OK(store_blob(repo, bytes, 200, &info, &err), &err);
	CHECK_STR(info.oid, oid);
	CHECK_INT(blob_files(blobs), 1);
	CHECK_INT(rd_test_sh(NULL, "cmp -s '%s' '%s'", stored, file), 0);

	/* a file is not yet in the record: no change names it */
	{
		unsigned char raw[RD_OID_RAWSZ];
		int found = -1, type = 0, in_file = 0;
		int64_t size = 0;

		for (size_t i = 0; i < RD_OID_RAWSZ; i++)
			CHECK(sscanf(oid + 2 * i, "%2hhx", &raw[i]) == 1);
		CHECK_OK(rd_store_object_get(r.store, raw, &found, &type,
					     &size, &in_file, NULL, &err),
			 &err);
		CHECK_INT(found, 0);
	}

	free(stored);
	free(file);
	free(bytes);
	rd_test_record_close(&r);
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
	rd_test_record r;
	rd_evidence_repo *repo;
	unsigned char *bytes = random_bytes(size);
	struct received back = { 0 };
	char id[RD_ID_BUFSZ] = "01HV00000000000000000000AA";
	char commit[RD_OID_BUFSZ], sha[65], oid[RD_OID_BUFSZ];
	rd_blob_info info;
	int64_t got = 0;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	CHECK(bytes != NULL);
	CHECK_OK(store_blob(repo, bytes, size, &info, &err), &err);
	{
		rd_tree_file files[] = {
			{ "evidence/0001/content.bin", NULL, 0, info.oid },
			{ "evidence/0001/meta.json", "{}", 2, NULL },
		};
		rd_commit_request req = { id, NULL, files, 2, bob(),
					  1700000000, "evidence added" };

		CHECK_OK(rd_test_record_commit(&r, &req, commit, &err), &err);
	}
	/* the change named the file: the record has it, its bytes a file */
	{
		unsigned char raw[RD_OID_RAWSZ];
		int found = 0, type = 0, in_file = 0;
		int64_t stored = 0;

		for (size_t i = 0; i < RD_OID_RAWSZ; i++)
			CHECK(sscanf(info.oid + 2 * i, "%2hhx", &raw[i]) == 1);
		CHECK_OK(rd_store_object_get(r.store, raw, &found, &type,
					     &stored, &in_file, NULL, &err),
			 &err);
		CHECK_INT(found, 1);
		CHECK_INT(type, RD_OBJECT_BLOB);
		CHECK_INT(stored, (long long)size);
		CHECK_INT(in_file, 1);
	}
	back.bytes = malloc(size);
	back.cap = size;
	CHECK(back.bytes != NULL);
	CHECK_OK(rd_evidence_stream(repo, commit, "evidence/0001/content.bin",
				    receive, &back, sha, &got, oid, &err),
		 &err);
	CHECK_INT(back.len, (long long)size);
	CHECK(memcmp(back.bytes, bytes, size) == 0);
	CHECK_INT(back.calls, 5);              /* 64 KiB at a time */
	CHECK_INT(back.largest, 64 * 1024);
	CHECK_INT(got, (long long)size);
	CHECK_STR(sha, info.sha256);
	CHECK_STR(oid, info.oid);

	/* only hashing */
	memset(sha, 0, sizeof(sha));
	CHECK_OK(rd_evidence_stream(repo, commit, "evidence/0001/content.bin",
				    NULL, NULL, sha, NULL, NULL, &err), &err);
	CHECK_STR(sha, info.sha256);

	/* a receiver that gives up */
	back.len = 0;
	back.calls = 0;
	back.stop_at = 2;
	CHECK_FAILS(rd_evidence_stream(repo, commit,
				       "evidence/0001/content.bin", receive,
				       &back, sha, &got, oid, &err), RD_EIO);
	CHECK_HAS(err.message, "stopped");
	CHECK_INT(back.calls, 2);
	CHECK_FAILS(rd_evidence_stream(repo, commit, "evidence/0002/x",
				       receive, &back, sha, &got, oid, &err),
		    RD_ENOTFOUND);

	free(back.bytes);
	free(bytes);
	rd_test_record_close(&r);
}

/* Put sql to the record's database through a connection of its own. */
static int damage(rd_test_record *r, const char *sql)
{
	return rd_test_sql(r->db, sql);
}

static void corrupted_objects_reported(void)
{
	rd_test_record r;
	rd_evidence_repo *repo;
	char *blob = NULL;
	char id[RD_ID_BUFSZ] = "01HV00000000000000000000BB";
	char c1[RD_OID_BUFSZ], c2[RD_OID_BUFSZ], oid[RD_OID_BUFSZ];
	char sha[65], sql[512];
	unsigned char *bytes = random_bytes(4096);
	rd_commit_info *log = NULL;
	rd_blob_info info;
	char *text_out = NULL;
	size_t len = 0, count = 0;
	int64_t size = 0;
	FILE *f;
	rd_error err = { 0 };

	CHECK(rd_test_record_open(&r) == 0);
	repo = r.repo;
	CHECK(bytes != NULL);
	CHECK_OK(store_blob(repo, bytes, 4096, &info, &err), &err);
	{
		rd_tree_file files[] = {
			{ "evidence/0001/content.bin", NULL, 0, info.oid },
			{ "notes.txt", "a note that will be replaced\n", 29,
			  NULL },
		};
		rd_commit_request req = { id, NULL, files, 2, bob(),
					  1700000000, "opened" };

		CHECK_OK(rd_test_record_commit(&r, &req, c1, &err), &err);
		req.parent = c1;
		req.file_count = 0;
		req.message = "second";
		CHECK_OK(rd_test_record_commit(&r, &req, c2, &err), &err);
	}
	CHECK_OK(rd_evidence_stream(repo, c2, "notes.txt", NULL, NULL, sha,
				    &size, oid, &err), &err);

	/* 1. bytes overwritten inside the evidence file */
	blob = blob_path(r.blobs, info.oid);
	CHECK(chmod(blob, 0644) == 0);
	f = fopen(blob, "r+b");
	CHECK(f != NULL);
	CHECK(fseek(f, 2000, SEEK_SET) == 0);
	CHECK(fwrite("\xff\x00\xff\x00\xff\x00\xff\x00", 1, 8, f) == 8);
	CHECK(fclose(f) == 0);
	CHECK(rd_test_record_reopen(&r) == 0);
	repo = r.repo;
	CHECK_FAILS(rd_evidence_stream(repo, c2, "evidence/0001/content.bin",
				       NULL, NULL, sha, &size, NULL, &err),
		    RD_EIO);
	CHECK_HAS(err.message, "evidence/0001/content.bin");

	/* 2. a well-formed object under the wrong name: the hash check */
	snprintf(sql, sizeof(sql), "UPDATE objects SET data = CAST('a note "
		 "that was swapped in!!' || char(10) AS BLOB) WHERE id = "
		 "x'%s'", oid);
	CHECK_INT(damage(&r, sql), 0);
	CHECK(rd_test_record_reopen(&r) == 0);
	repo = r.repo;
	CHECK_FAILS(rd_evidence_read(repo, c2, "notes.txt", &text_out, &len,
				     &err), RD_EIO);
	CHECK(text_out == NULL);
	CHECK_FAILS(rd_evidence_stream(repo, c2, "notes.txt", NULL, NULL,
				       sha, &size, NULL, &err), RD_EIO);

	/* 3. a commit of the history swapped for another: log names it */
	snprintf(sql, sizeof(sql), "UPDATE objects SET (size, data) = "
		 "(SELECT size, data FROM objects WHERE id = x'%s') "
		 "WHERE id = x'%s'", c2, c1);
	CHECK_INT(damage(&r, sql), 0);
	CHECK(rd_test_record_reopen(&r) == 0);
	repo = r.repo;
	CHECK_FAILS(rd_evidence_log(repo, c2, &log, &count, &err), RD_EIO);
	CHECK_HAS(err.message, c1);
	CHECK(log == NULL);
	CHECK_INT(count, 0);

	/*
	 * The damage never reaches stock git: the mirror refuses to copy
	 * it, and is left without the dispute's ref
	 */
	CHECK_FAILS(rd_test_record_mirror(&r, &err), RD_EIO);
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' rev-parse --verify -q "
			     "refs/disputes/%s >/dev/null", r.git, id), 1);

	free(blob);
	free(bytes);
	rd_test_record_close(&r);
}

/* Store `len` bytes as an evidence file; its blob id into oid. */
static void store_file(rd_test_record *r, const unsigned char *bytes,
		       size_t len, char oid[RD_OID_BUFSZ])
{
	rd_blob_writer *w = NULL;
	rd_blob_info info;
	rd_error err = { 0 };

	CHECK_OK(rd_blob_writer_new(&w, r->repo, (int64_t)len, &err), &err);
	CHECK_OK(rd_blob_writer_write(w, bytes, len, &err), &err);
	CHECK_OK(rd_blob_writer_finish(w, &info, &err), &err);
	snprintf(oid, RD_OID_BUFSZ, "%s", info.oid);
}

/* The bytes of the mirror's packs that hold no .keep: 0 when none. */
static long kept_pack_bytes(const char *git)
{
	char out[32];

	if (sh_word(out, sizeof(out), "for k in '%s'/objects/pack/*.keep; do "
		    "stat -c %%s \"${k%%.keep}.pack\"; done | "
		    "awk '{ s += $1 } END { print s + 0 }'", git) != 0)
		return -1;
	return strtol(out, NULL, 10);
}

/*
 * Evidence files reach the mirror in a kept pack of their own, deflated
 * only when they compress (a photo's bytes are stored as they are), read
 * back by stock git byte for byte; a file changed on disk since it was
 * stored is refused by name and never copied.
 */
static void files_packed_as_they_compress(void)
{
	const size_t size = 1024 * 1024;
	unsigned char *noise = random_bytes(size), *lines = malloc(size);
	char noise_oid[RD_OID_BUFSZ], text_oid[RD_OID_BUFSZ];
	char commit[RD_OID_BUFSZ], *noise_file = NULL, *stored = NULL;
	rd_test_record r;
	rd_error err = { 0 };
	long bytes;

	CHECK(rd_test_record_open(&r) == 0);
	CHECK(noise != NULL && lines != NULL);
	for (size_t i = 0; i < size; i++)
		lines[i] = (unsigned char)("a chat transcript line\n"[i % 23]);
	store_file(&r, noise, size, noise_oid);
	store_file(&r, lines, size, text_oid);
	{
		rd_tree_file f[] = {
			{ "evidence/0001/content.bin", NULL, 0, noise_oid },
			{ "evidence/0002/content.txt", NULL, 0, text_oid },
		};
		rd_commit_request req = { "01HV00000000000000000000DD", NULL,
					  f, 2, bob(), 1700000000,
					  "two files" };

		CHECK_OK(rd_test_record_commit(&r, &req, commit, &err), &err);
	}
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);

	/* the noise as it is (zlib's stored blocks), the text deflated */
	bytes = kept_pack_bytes(r.git);
	CHECK(bytes > (long)size);
	CHECK(bytes < (long)size + (long)size / 50);

	/* stock git reads both back, and finds nothing wrong */
	noise_file = rd_test_path(r.dir, "noise.bin");
	CHECK(write_bytes(noise_file, noise, size) == 0);
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' cat-file blob %s | "
			     "cmp -s - '%s'", r.git, noise_oid, noise_file),
		  0);
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' cat-file blob %s | "
			     "head -c 23 | grep -qx 'a chat transcript line'",
			     r.git, text_oid), 0);
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' fsck --strict "
			     "--no-progress >/dev/null 2>&1", r.git), 0);
	/* every pack's index (redress's own) checked entry by entry */
	CHECK_INT(rd_test_sh(NULL, "for i in '%s'/objects/pack/*.idx; do "
			     "git verify-pack \"$i\" >/dev/null || exit 1; "
			     "done", r.git), 0);

	/* a file changed on disk after it was stored is not copied */
	noise[0] ^= 0x01;
	store_file(&r, noise, size, noise_oid);
	noise[size / 2] ^= 0x5a;
	stored = blob_path(r.blobs, noise_oid);
	CHECK(write_bytes(stored, noise, size) == 0);
	{
		rd_tree_file f = { "evidence/0001/content.bin", NULL, 0,
				   noise_oid };
		rd_commit_request req = { "01HV00000000000000000000EE", NULL,
					  &f, 1, bob(), 1700000060,
					  "the same photo again" };

		CHECK_OK(rd_test_record_commit(&r, &req, commit, &err), &err);
	}
	CHECK_FAILS(rd_test_record_mirror(&r, &err), RD_EIO);
	CHECK_HAS(err.message, noise_oid);
	CHECK_HAS(err.message, "does not hash to its name");
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' rev-parse --verify -q "
			     "refs/disputes/01HV00000000000000000000EE "
			     ">/dev/null", r.git), 1);
	/* and the pack being written is gone, not left half-written */
	CHECK_INT(rd_test_sh(NULL, "test -z \"$(ls '%s/objects/pack' | "
			     "grep -v '^pack-[0-9a-f]*\\.\\(pack\\|idx\\|keep\\)$')\"",
			     r.git), 0);

	free(stored);
	free(noise_file);
	free(lines);
	free(noise);
	rd_test_record_close(&r);
}

/*
 * A merge stops once its server stops: with the flag set, the record's
 * reads fail (so libgit2's pack builder stops) and the feed of joined
 * packs refuses more; neither leaves a pack behind.
 */
static void merges_stop_when_cancelled(void)
{
	char commit[RD_OID_BUFSZ], name[RD_OID_BUFSZ], *packs = NULL;
	rd_tree_file f = { "notes.txt", "a note\n", 7, NULL };
	rd_commit_request req = { "01HV00000000000000000000FF", NULL, &f, 1,
				  bob(), 1700000000, "a note" };
	unsigned char id[20];
	atomic_int stop;
	rd_test_record r;
	rd_error err = { 0 };
	const char *one[1];

	atomic_init(&stop, 0);
	CHECK(rd_test_record_open(&r) == 0);
	CHECK_OK(rd_test_record_commit(&r, &req, commit, &err), &err);
	CHECK_OK(rd_test_record_mirror(&r, &err), &err);
	CHECK_INT(rd_test_sh(&packs, "ls '%s/objects/pack' | sort", r.git), 0);
	for (int i = 0; i < 20; i++)
		CHECK_INT(sscanf(commit + 2 * i, "%2hhx", &id[i]), 1);

	/* not stopped: a pack with deltas of the commit */
	CHECK_OK(rd_mirror_write_pack(r.mirror, r.repo, id, 1, 1, name, &err),
		 &err);
	CHECK(name[0] != '\0');
	CHECK_OK(rd_mirror_drop_pack(r.mirror, name, &err), &err);

	atomic_store(&stop, 1);
	rd_evidence_cancel_on(r.repo, &stop);
	rd_mirror_cancel_on(r.mirror, &stop);
	CHECK_FAILS(rd_mirror_write_pack(r.mirror, r.repo, id, 1, 1, name,
					 &err), RD_EBUSY);
	CHECK_HAS(err.message, "stopping");
	{
		char *listed = NULL;

		CHECK_INT(rd_test_sh(&listed, "ls '%s/objects/pack/' | grep "
				     "'\\.idx$' | head -1 | sed "
				     "'s/^pack-//; s/\\.idx$//'", r.git), 0);
		CHECK(listed != NULL && strlen(listed) >= 40);
		listed[40] = '\0';
		one[0] = listed;
		CHECK(rd_mirror_join_packs(r.mirror, one, 1, 1, name, &err) < 0);
		CHECK_HAS(err.message, "stopping");
		free(listed);
	}
	/* nothing left: the mirror's packs as they were */
	{
		char *after = NULL;

		CHECK_INT(rd_test_sh(&after, "ls '%s/objects/pack' | sort",
				     r.git), 0);
		CHECK(packs && after && strcmp(packs, after) == 0);
		free(after);
	}
	free(packs);
	rd_test_record_close(&r);
}

int main(void)
{
	RUN(large_blob_streamed);
	RUN(content_types_from_bytes);
	RUN(wrong_sizes_leave_nothing);
	RUN(stream_back);
	RUN(corrupted_objects_reported);
	RUN(files_packed_as_they_compress);
	RUN(merges_stop_when_cancelled);
	return rd_test_summary();
}
