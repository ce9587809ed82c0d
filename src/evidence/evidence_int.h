/*
 * Private layout of an open evidence repository, shared by the files of the
 * evidence module: repo.c (opening, libgit2's lifetime, content sniffing),
 * blob.c (streaming a file in), commit.c (trees, commits, refs) and read.c
 * (reading trees, blobs and history back).
 *
 * Nothing outside src/evidence/ may include git2.h or magic.h; this header
 * is the only place their types meet redress's. It must never be included
 * by another module.
 */
#ifndef REDRESS_EVIDENCE_INT_H
#define REDRESS_EVIDENCE_INT_H

#include <stdatomic.h>
#include <stddef.h>

#include <git2.h>
#include <magic.h>

#include "redress/evidence.h"

/* Where every dispute's ref lives: refs/disputes/<id>. */
#define EV_REF_PREFIX "refs/disputes/"

/* Longest path accepted in a tree, and longest name of one entry. */
#define EV_PATH_MAX 1024
#define EV_NAME_MAX 255

/* An evidence file being written: <blobs>/upload.tmp-XXXXXX. */
#define EV_UPLOAD_PREFIX "upload"
#define EV_UPLOAD_MARK ".tmp-"

/* Content type given to an empty file, whatever libmagic would say. */
#define EV_EMPTY_TYPE "application/x-empty"

struct rd_evidence_repo {
	git_repository *git;
	git_odb *odb;
	magic_t magic;
	char *path;
	int holds_library;       /* counted as a user of libgit2 */
	/* the record (record.c): objects through io, evidence files in blobs */
	rd_object_io io;
	char *blobs;             /* the record's files in a directory, or */
	rd_file_io files;        /* ... kept elsewhere (has_files) */
	int has_files;
	struct ev_cached *cache; /* whole objects read or written (record.c) */
	size_t cache_bytes;
	const atomic_int *cancel;  /* set: the record's reads fail */
};

/*
 * The rd_error code of the record's last failure on this thread (record.c),
 * which ev_git_fail uses, then clears, instead of the code it is given.
 */
extern _Thread_local int ev_io_code;

/* libmagic opened and loaded into repo->magic. */
int ev_magic_open(rd_evidence_repo *repo, rd_error *err);

/* libgit2 in use by repo (released by rd_evidence_repo_close). */
int ev_library_acquire(rd_evidence_repo *repo, rd_error *err);

/*
 * The path of the evidence file of object id under repo->blobs:
 * <blobs>/<2 hex>/<38 hex>. RD_EINTERNAL when it does not fit.
 */
int ev_blob_path(const rd_evidence_repo *repo, const git_oid *id,
		 char *out, size_t size, rd_error *err);

/* Free the record's cache of objects (record.c); NULL is accepted. */
void ev_cache_free(rd_evidence_repo *repo);

/* 1 when repo is the record (its evidence files in a directory or not). */
int ev_is_record(const rd_evidence_repo *repo);

/*
 * A reader of one evidence file of the record, wherever it is kept:
 * ev_file_open fails (RD_EIO) when the file cannot be opened or does not
 * hold `want` bytes; ev_file_read gives up to len bytes, *got 0 at the
 * end, RD_EIO when the file ends before `want`.
 */
typedef struct ev_file_reader ev_file_reader;
int ev_file_open(rd_evidence_repo *repo, const git_oid *id, int64_t want,
		 ev_file_reader **out, rd_error *err);
int ev_file_read(ev_file_reader *r, void *buf, size_t len, size_t *got,
		 rd_error *err);
void ev_file_close(ev_file_reader *r);

/*
 * The last steps of opening any repository: its identity for ref updates
 * and its content sniffer. `what` names it in an error.
 */
int ev_repo_ready(rd_evidence_repo *repo, const char *what, rd_error *err);

/* Make the directory entries in dir durable (fsync of the directory). */
int ev_sync_dir(const char *dir, rd_error *err);

/*
 * Fill err with `code` and "<what>: <libgit2's last message>", the message
 * naming what was being done, and clear libgit2's last error. When that
 * error is libgit2 running out of memory the code is RD_ENOMEM, whatever
 * `code` says. Returns the code set.
 */
int ev_git_fail(rd_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * RD_ENOTFOUND for GIT_ENOTFOUND, else RD_EIO: what a failed read of the
 * repository means to a caller.
 */
int ev_read_code(int git_rc);

/* Parse 40 hex digits into *out; RD_EINVALID naming `what` otherwise. */
int ev_oid_parse(git_oid *out, const char *hex, const char *what,
		 rd_error *err);

/* 40 lower-case hex digits and a NUL into out. */
void ev_oid_hex(char out[RD_OID_BUFSZ], const git_oid *oid);

/* 64 lower-case hex digits and a NUL from a SHA-256 digest. */
void ev_sha256_hex(char out[65], const unsigned char digest[32]);

/*
 * Check a tree path ("events/000002-investigate.json"): 1..EV_PATH_MAX
 * bytes, '/'-separated names of 1..EV_NAME_MAX characters from
 * [A-Za-z0-9._-], none "." or "..", none ".git" in any case. RD_EINVALID
 * naming `field` and the fault otherwise.
 */
int ev_path_check(const char *path, const char *field, rd_error *err);

/* The content type of up to RD_SNIFF_BYTES of buf, into out. */
int ev_sniff(rd_evidence_repo *repo, const void *buf, size_t len,
	     char out[128], rd_error *err);

/*
 * The commit `hex` and its tree, both new (git_commit_free,
 * git_tree_free). RD_EINVALID for a malformed id, RD_ENOTFOUND when there
 * is no such commit, RD_EIO when it cannot be read.
 */
int ev_commit_tree(rd_evidence_repo *repo, const char *hex,
		   git_commit **commit, git_tree **tree, rd_error *err);

/*
 * Test-only fault injection (fault.c, evidence_fault.h): the hook the
 * wrapping allocator asks, and putting that allocator in place in libgit2
 * (0, or libgit2's negative error).
 */
void ev_fault_set_hook(int (*fail_now)(size_t size, const char *file,
					int line));
int ev_fault_install(void);

#endif
