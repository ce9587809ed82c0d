/*
 * The evidence store: one bare git repository (evidence.git in the data
 * directory) in which each dispute has its own ref, refs/disputes/<id>, and
 * every change to a dispute is one commit. Git is the system of record for
 * the audit trail: append-only, tamper-evident, readable with stock git.
 *
 * This is the only module that calls libgit2 (and libmagic, to tell what
 * bytes are). It knows files, trees, commits and refs; it does not know
 * workflows or the SQLite index: the service decides what to commit.
 * One rd_evidence_repo must be used by one thread at a time.
 */
#ifndef REDRESS_EVIDENCE_H
#define REDRESS_EVIDENCE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "redress/dispute.h"
#include "redress/error.h"

/* A git object id as 40 lower-case hex digits plus NUL. */
#define RD_OID_BUFSZ 41

typedef struct rd_evidence_repo rd_evidence_repo;

/*
 * Open the bare repository at `path`, creating it when `create` is set and
 * it does not exist (RD_ENOTFOUND otherwise). Turns on libgit2's fsync of
 * objects and refs (GIT_OPT_ENABLE_FSYNC_GITDIR) and strict object hash
 * verification, so that an acknowledged commit survives power loss and a
 * corrupted object is detected when read. *out is new; close with
 * rd_evidence_repo_close.
 */
int rd_evidence_repo_open(rd_evidence_repo **out, const char *path,
			  int create, rd_error *err);

/* Close the repository. NULL is accepted. */
void rd_evidence_repo_close(rd_evidence_repo *repo);

/*
 * Remove the temporary files libgit2 writes beside the object database of
 * the repository at `path` and renames into place when complete: a loose
 * object being written (objects/tmp_object_git2_<random>) and a pack
 * being written (objects/pack/pack_git2_<random>). A process killed while
 * writing leaves them behind, as large as the evidence it was receiving.
 *
 * With `before` 0, every such file goes: call it so only when no other
 * process can be writing to the repository (the service does while it
 * holds the data directory alone). Otherwise only files last written
 * before `before` (seconds since the epoch) go: a live writer writes on.
 * A repository that does not exist holds none. *removed and *bytes (each
 * may be NULL) count the files removed and their size. RD_EIO when a
 * directory cannot be read or a file removed.
 */
int rd_evidence_leftovers_remove(const char *path, int64_t before,
				 size_t *removed, int64_t *bytes,
				 rd_error *err);

/* How many such temporaries lie there now (*found), removing nothing. */
int rd_evidence_leftovers_find(const char *path, size_t *found,
			       rd_error *err);

/* ---- the record's objects ------------------------------------------------ */

/*
 * How the record keeps git objects, as the evidence module needs it: the
 * service fills this from the store (the store speaks SQL, the evidence
 * module libgit2, neither the other's). Ids are 20 raw bytes, types git's
 * numbers (1 commit, 2 tree, 3 blob). get: *found 0 when absent; *in_file
 * 1 when the bytes are an evidence file; with data non-NULL a new copy of
 * the bytes (free()) unless in a file. put: store an object of the change
 * being written (data NULL: an evidence file). Both return an rd status.
 */
typedef struct rd_object_io {
	void *ctx;
	int (*get)(void *ctx, const unsigned char id[20], int *found,
		   int *type, int64_t *size, int *in_file, void **data,
		   rd_error *err);
	int (*put)(void *ctx, const unsigned char id[20], int type,
		   int64_t size, const void *data, rd_error *err);
	/*
	 * Optional (NULL: a get each): read ids[0..count) (20 raw bytes
	 * each) together, fn called for each one found, in any order, its
	 * bytes valid during the call (NULL for a file's); fn returns
	 * non-zero to stop, and that is returned.
	 */
	int (*get_many)(void *ctx, const unsigned char *ids, size_t count,
			int (*fn)(void *fn_ctx, const unsigned char id[20],
				  int type, int64_t size, int in_file,
				  const void *data),
			void *fn_ctx, rd_error *err);
} rd_object_io;

/*
 * Open the record's repository: no directory and no refs, its objects read
 * and written through io (copied), evidence files kept under blobs_dir
 * (<blobs_dir>/<2 hex>/<38 hex>, created when absent). Commits, reads and
 * streams work on it as on a repository on disk; refs are the store's.
 */
int rd_evidence_record_open(rd_evidence_repo **out, const char *blobs_dir,
			    const rd_object_io *io, rd_error *err);

/*
 * Where the record keeps evidence files when they are not files of a
 * directory: the store's database (PostgreSQL), which the service wires
 * in (the evidence module never speaks SQL). Ids are git blob ids, 20 raw
 * bytes; every function returns an rd status.
 *
 * create: a new file of `size` bytes in *file; append its bytes in order;
 * keep: every byte given, keep it durably as blob `id` (the same bytes
 * kept already: renew them); drop: free a file, its bytes dropped unless
 * kept. open: a reader of the kept file `id` of `size` bytes (RD_EIO when
 * missing or of another size); read: up to len bytes, *got 0 at the end;
 * close. stat: whether `id` is kept, and its size; in a change's
 * transaction no removal may go between the look and the change. foreach:
 * every kept file (cb as rd_evidence_files_foreach's). remove: remove `id`
 * if last written before `before` and no object of the record names it.
 */
typedef struct rd_file_io {
	void *ctx;
	int (*create)(void *ctx, int64_t size, void **file, rd_error *err);
	int (*append)(void *file, const void *buf, size_t len, rd_error *err);
	int (*keep)(void *file, const unsigned char id[20], int64_t size,
		    rd_error *err);
	void (*drop)(void *file);
	int (*open)(void *ctx, const unsigned char id[20], int64_t size,
		    void **reader, rd_error *err);
	int (*read)(void *reader, void *buf, size_t len, size_t *got,
		    rd_error *err);
	void (*close)(void *reader);
	int (*stat)(void *ctx, const unsigned char id[20], int *present,
		    int64_t *size, rd_error *err);
	int (*foreach)(void *ctx,
		       int (*cb)(void *cb_ctx, const unsigned char id[20],
				 const char *oid, int64_t size,
				 int64_t mtime, rd_error *err),
		       void *cb_ctx, rd_error *err);
	int (*remove)(void *ctx, const unsigned char id[20], int64_t before,
		      int *removed, rd_error *err);
} rd_file_io;

/*
 * Open the record's repository as rd_evidence_record_open does, its
 * evidence files kept through `files` (copied) instead of a directory.
 */
int rd_evidence_record_open_files(rd_evidence_repo **out,
				  const rd_object_io *io,
				  const rd_file_io *files, rd_error *err);

/*
 * Once *flag is set (borrowed; it outlives repo), every read of the
 * record's objects through repo fails: a long merge of the mirror's packs
 * on this repository stops there.
 */
void rd_evidence_cancel_on(rd_evidence_repo *repo, const atomic_int *flag);

/*
 * Every evidence file of the record (its blobs directory, or its files
 * elsewhere): cb gets its blob id
 * (20 raw bytes, and in hex), its size and the time it was last written
 * (Unix seconds); a status < 0 from cb stops the walk and is returned.
 */
typedef int (*rd_evidence_file_cb)(void *ctx, const unsigned char id[20],
				   const char *oid, int64_t size,
				   int64_t mtime, rd_error *err);
int rd_evidence_files_foreach(rd_evidence_repo *repo, rd_evidence_file_cb cb,
			      void *ctx, rd_error *err);

/*
 * Remove the evidence file of blob `oid` if it was last written before
 * `before` (Unix seconds): *removed 1 when it was. A file written since
 * (an upload of the same bytes renews it) or already gone is left alone.
 * In a directory the caller knows that no change names it; elsewhere
 * (rd_file_io) the file is also kept when an object names it.
 */
int rd_evidence_file_remove(rd_evidence_repo *repo, const char *oid,
			    int64_t before, int *removed, rd_error *err);

/*
 * Whether the evidence file of blob `oid` is in the record (*present),
 * and its size.
 */
int rd_evidence_file_present(rd_evidence_repo *repo, const char *oid,
			     int *present, int64_t *size, rd_error *err);

/*
 * Copy the history of one dispute, from `head` down, out of a repository
 * on disk (an earlier release's record, opened with rd_evidence_repo_open)
 * into the record, inside the caller's store transaction: the same bytes
 * and ids; evidence files (evidence/<n>/content.*) become files of the
 * blobs directory. What the record already holds is skipped. *objects
 * receives how many objects were copied.
 */
int rd_evidence_import(rd_evidence_repo *from, rd_evidence_repo *record,
		       const char *head, size_t *objects, rd_error *err);

/* ---- the mirror (<data>/evidence.git) ----------------------------------- */

typedef struct rd_mirror rd_mirror;

/* Open the mirror's bare repository at path (create: when absent). */
int rd_mirror_open(rd_mirror **out, const char *path, int create,
		   rd_error *err);
void rd_mirror_close(rd_mirror *m);

/*
 * Merges (packs written by libgit2's pack builder, packs joined) stop with
 * an error as soon as *flag is set (borrowed; it outlives m). Steps'
 * packs are not stopped.
 */
void rd_mirror_cancel_on(rd_mirror *m, const atomic_int *flag);

/* The mirror as a repository to read (borrowed; NULL if it cannot be opened). */
rd_evidence_repo *rd_mirror_repo(rd_mirror *m);

/*
 * Write one pack of `count` objects (ids: 20 raw bytes each) held in the
 * record's rows into the mirror; name receives the pack's name ("" when
 * count is 0). deltas 1: libgit2's pack builder stores objects as deltas
 * of others where that pays (compact, and costly); 0: each object deflated
 * once on its own (fast). Not durable until rd_mirror_sync.
 */
int rd_mirror_write_pack(rd_mirror *m, rd_evidence_repo *record,
			 const unsigned char *ids, size_t count, int deltas,
			 char name[RD_OID_BUFSZ], rd_error *err);

/*
 * The same for `count` evidence files of the record (objects kept in
 * files): each streamed from its file and checked against its id, deflated
 * only when it compresses.
 */
int rd_mirror_write_files_pack(rd_mirror *m, rd_evidence_repo *record,
			       const unsigned char *ids, size_t count,
			       char name[RD_OID_BUFSZ], rd_error *err);

/*
 * One pack of the `count` packs `names` of the mirror, each copied whole
 * (entries as they are, no object read or deflated again); `objects` is
 * how many they hold together, checked against their headers. name
 * receives the new pack's name. Not durable until rd_mirror_sync.
 */
int rd_mirror_join_packs(rd_mirror *m, const char *const *names,
			 size_t count, uint64_t objects,
			 char name[RD_OID_BUFSZ], rd_error *err);

/*
 * Append the ids of pack `name`'s objects (20 raw bytes each, as its index
 * lists them) to *ids (realloc'd; free()), *count growing by as many.
 */
int rd_mirror_pack_ids(rd_mirror *m, const char *name, unsigned char **ids,
		       size_t *count, rd_error *err);

/* Point refs/disputes/<dispute_id> at head, whatever it was. */
int rd_mirror_set_ref(rd_mirror *m, const char *dispute_id, const char *head,
		      rd_error *err);

/* Make what was written durable (syncfs of the mirror's file system). */
int rd_mirror_sync(rd_mirror *m, rd_error *err);

/* Mark pack `name` kept (.keep): git's own repacking leaves it alone. */
int rd_mirror_keep_pack(rd_mirror *m, const char *name, rd_error *err);

/* Remove pack `name` (its .pack, .idx and companions). */
int rd_mirror_drop_pack(rd_mirror *m, const char *name, rd_error *err);

/* ---- streaming a file into the object database ------------------------ */

/* What a streamed blob turned out to be. */
typedef struct rd_blob_info {
	char oid[RD_OID_BUFSZ];   /* git blob id */
	char sha256[65];          /* SHA-256 of the bytes, lower-case hex */
	int64_t size;
	char content_type[128];   /* detected from the bytes by libmagic */
} rd_blob_info;

typedef struct rd_blob_writer rd_blob_writer;

/*
 * Start writing a blob of exactly `size` bytes (> 0) into the object
 * database. Bytes are hashed (SHA-256) and streamed as they come, never held
 * whole in memory; the content type is detected from the first bytes. The
 * blob becomes visible only when rd_blob_writer_finish succeeds: a writer
 * freed before, or given a different number of bytes, leaves nothing in
 * the repository.
 */
int rd_blob_writer_new(rd_blob_writer **out, rd_evidence_repo *repo,
		       int64_t size, rd_error *err);

/*
 * Append `len` bytes. More bytes than declared is RD_EINVALID. The first
 * call that brings the buffered prefix to RD_SNIFF_BYTES (or the end)
 * detects the content type; rd_blob_writer_content_type then returns it.
 */
int rd_blob_writer_write(rd_blob_writer *w, const void *buf, size_t len,
			 rd_error *err);

/* Bytes the content type is detected from: the first 64 KiB. */
#define RD_SNIFF_BYTES (64 * 1024)

/*
 * The detected content type ("image/jpeg"), or NULL until enough bytes have
 * been written to tell (RD_SNIFF_BYTES, or all of a smaller blob). Lets a
 * caller refuse content before the rest is streamed. Borrowed.
 */
const char *rd_blob_writer_content_type(const rd_blob_writer *w);

/*
 * Finish: fewer bytes than declared is RD_EINVALID ("truncated"). On
 * success fills *info and the blob is stored.
 * Ownership: a successful finish also releases the writer (never use or
 * free it again); after a failed one, release it with rd_blob_writer_free.
 */
int rd_blob_writer_finish(rd_blob_writer *w, rd_blob_info *info,
			  rd_error *err);

/* Abandon and free a writer. NULL is accepted. */
void rd_blob_writer_free(rd_blob_writer *w);

/* Detect the content type of a buffer (the first bytes of a file). */
int rd_evidence_sniff(rd_evidence_repo *repo, const void *buf, size_t len,
		      char out[128], rd_error *err);

/* ---- commits ------------------------------------------------------------ */

/* One file to add or replace in the dispute's tree. */
typedef struct rd_tree_file {
	const char *path;        /* "events/000002-investigate.json"; '/' separates directories */
	const char *content;     /* the bytes, or NULL when blob_oid is given */
	size_t len;
	const char *blob_oid;    /* an existing blob (a streamed evidence file) */
} rd_tree_file;

/* A change to record as one commit on refs/disputes/<dispute_id>. */
typedef struct rd_commit_request {
	const char *dispute_id;
	const char *parent;      /* the head the caller read, or NULL for a new dispute */
	const rd_tree_file *files;
	size_t file_count;
	const rd_actor *author;
	int64_t when;            /* author and committer time */
	const char *message;     /* first line short; body and trailers after a blank line */
} rd_commit_request;

/*
 * Build the new tree (the parent's tree with `files` added or replaced) and
 * write the commit (author = the actor: name, and role plus key id in the
 * e-mail field; committer = redress); in the record, every object goes
 * into the change being written, with the row of each evidence file it
 * names. The head is not moved here: the caller moves it in the store, by
 * compare-and-swap from `parent`. An id that is not a valid dispute id is
 * RD_EINVALID. Nothing is ever removed from a tree. On success `out` holds
 * the new commit id.
 */
int rd_evidence_commit(rd_evidence_repo *repo, const rd_commit_request *req,
		       char out[RD_OID_BUFSZ], rd_error *err);

/* The commit refs/disputes/<id> points to: *found = 0 when there is no ref. */
int rd_evidence_head(rd_evidence_repo *repo, const char *dispute_id,
		     char out[RD_OID_BUFSZ], int *found, rd_error *err);

/*
 * Call `fn` with every dispute id that has a ref, in ref-name order;
 * a non-zero return from fn stops the walk and is returned. For full scans
 * only (reindex, verify --all): ordinary operations never list refs.
 */
int rd_evidence_foreach_dispute(rd_evidence_repo *repo,
				int (*fn)(const char *dispute_id, void *ctx),
				void *ctx, rd_error *err);

/* ---- reading ------------------------------------------------------------ */

/*
 * The file at `path` in the tree of `commit`, as a new NUL-terminated
 * buffer (free()) of *len bytes. RD_ENOTFOUND when absent. For small files
 * (metadata, events); evidence content is read with rd_evidence_stream.
 */
int rd_evidence_read(rd_evidence_repo *repo, const char *commit,
		     const char *path, char **out, size_t *len, rd_error *err);

/*
 * The names of the entries directly under directory `dir` ("" for the
 * root) of `commit`'s tree, sorted as git sorts them. *names is a new array
 * of new strings (rd_strings_free from store.h, or free each and the
 * array). A missing directory gives 0 names.
 */
int rd_evidence_list(rd_evidence_repo *repo, const char *commit,
		     const char *dir, char ***names, size_t *count,
		     rd_error *err);

/*
 * Pass the bytes of the file at `path` in `commit` to `sink` in chunks; a
 * non-zero return from sink stops with RD_EIO. Also computes the SHA-256
 * and size of what was passed, into sha256/size when not NULL (a sink may
 * be NULL to only hash). The blob id is written to `oid` when not NULL.
 */
int rd_evidence_stream(rd_evidence_repo *repo, const char *commit,
		       const char *path,
		       int (*sink)(void *ctx, const void *buf, size_t len),
		       void *ctx, char sha256[65], int64_t *size,
		       char oid[RD_OID_BUFSZ], rd_error *err);

/*
 * The id of the object at `path` in `commit` (blob or tree) without reading
 * it: *found = 0 when there is none.
 */
int rd_evidence_oid(rd_evidence_repo *repo, const char *commit,
		    const char *path, char out[RD_OID_BUFSZ], int *found,
		    rd_error *err);

/* One commit of a dispute's history. */
typedef struct rd_commit_info {
	char oid[RD_OID_BUFSZ];
	char parent[RD_OID_BUFSZ];   /* "" for the first commit */
	size_t parent_count;         /* 1 on a linear history (0 for the first) */
	char author_name[128];
	char author_email[192];
	int64_t when;
	char *message;               /* the whole message, heap */
} rd_commit_info;

/*
 * The dispute's commits from the first to `head` (first-parent order,
 * oldest first). *out is a new array (free with rd_commit_infos_free). A
 * commit that cannot be read (a corrupted object) is RD_EIO naming it.
 */
int rd_evidence_log(rd_evidence_repo *repo, const char *head,
		    rd_commit_info **out, size_t *count, rd_error *err);

void rd_commit_infos_free(rd_commit_info *infos, size_t count);

/* ---- evidence kinds (evidence/kinds.json) -------------------------------- */

typedef struct rd_evidence_kind {
	char name[32];                 /* one of rd_evidence_kind_at() */
	char **content_types;          /* allowed types: "image/jpeg", or a family written "text/" + "*" */
	size_t content_type_count;
	int64_t max_size;              /* bytes */
	int requires_captured_at;      /* metadata the submitter must give */
	int requires_channel;
	int requires_note;
} rd_evidence_kind;

typedef struct rd_evidence_kinds rd_evidence_kinds;

/*
 * Load and validate evidence/kinds.json: every kind of rd_evidence_kind_at
 * defined exactly once, known member names only, content types of the form
 * type/subtype (or a family, type/ followed by a star), max_size an integer
 * from 1 byte to 1 GiB.
 * RD_EDEFINITION naming the file, the JSON path and the reason (line and
 * column for syntax errors). *out is new.
 */
int rd_evidence_kinds_load(rd_evidence_kinds **out, const char *path,
			   rd_error *err);
int rd_evidence_kinds_parse(rd_evidence_kinds **out, const char *text,
			    size_t len, const char *origin, rd_error *err);
void rd_evidence_kinds_free(rd_evidence_kinds *kinds);

/* The kind named `name`, or NULL (borrowed). */
const rd_evidence_kind *rd_evidence_kinds_find(const rd_evidence_kinds *kinds,
					       const char *name);

/* 1 when `content_type` is allowed for `kind`, else 0. */
int rd_evidence_kind_allows(const rd_evidence_kind *kind,
			    const char *content_type);

/* The largest max_size of any kind (the upload limit before the kind is known). */
int64_t rd_evidence_kinds_max_size(const rd_evidence_kinds *kinds);

#endif
