/*
 * ceiling-record: the ceilings of a record kept in one database
 * transaction per change (docs/architecture.md, "The record: one
 * transaction per change"). Raw SQLite, raw libgit2 and raw system calls,
 * no redress code, no HTTP, no JSON:
 *
 *   ceiling-record fsync --dir DIR [--size BYTES] [--new-files] [options]
 *       the disk's durable write rate. Without --new-files (the default,
 *       as pg_test_fsync's "fdatasync" line): BYTES (default 4096) written
 *       at the next offset of a 16 MiB file made and synced beforehand,
 *       then fdatasync. With --new-files: each operation writes a new file
 *       of BYTES pseudo-random bytes under a temporary name, fdatasyncs
 *       it, renames it to its final name and fsyncs the directory (an
 *       evidence file made durable before the transaction that names it).
 *
 *   ceiling-record sqlite --dir DIR [--objects raw|git] [--batch N]
 *                  [--dispute TEMPLATE] [--event TEMPLATE] [options]
 *       one "dispute change" per savepoint, N changes per transaction
 *       (BEGIN IMMEDIATE ... COMMIT, WAL, synchronous=FULL): the change's
 *       git objects as rows of an objects table (a new dispute.json blob
 *       of the template's size made unique per change, the event file,
 *       which has the same bytes every time as in ceiling-git except for
 *       each dispute's first (so no two disputes share a tree), the events
 *       tree, the root tree and the commit), the ref's new head by
 *       compare-and-swap on the old one, and the index rows (the dispute's
 *       row by compare-and-swap on its version, an event row, a deadline,
 *       an outbox row). Changes go round a pool of --disputes disputes
 *       (default 1024), so one transaction never holds two changes of one
 *       dispute.
 *       --objects raw (default): the objects' rows have the sizes of a
 *       real change; their ids are made up, nothing is hashed. The
 *       ceiling of the database alone.
 *       --objects git: libgit2 makes the objects, in memory, through an
 *       object database whose only backend is the objects table: it reads
 *       the parent commit and trees from the table, hashes and serialises
 *       the new objects and hands their bytes to the backend's write,
 *       which inserts them in the open transaction. No loose file, no
 *       pack. The same bytes and ids git would write.
 *
 *       --fail-every K: every K-th change is refused after it has written
 *       all its rows, rolled back to its savepoint while the batch's
 *       others commit (a guard refusing an event, in a batch): the cost
 *       of a change that fails alone. "changes" counts those committed.
 *
 *       --mirror K (with --objects git): afterwards, pack every object
 *       into a bare repository DIR/mirror.git, K objects a pack, as the
 *       mirror writer would, and move the refs (see run_mirror).
 *
 * Options: --seconds S (default 3) of measured time after a warm-up of
 * --warmup W seconds (default 0.5). Every program writes only under DIR
 * (created if missing; its files are removed at the end unless --keep).
 *
 * Prints one line:
 *   fsync:  ops=N seconds=S ops_per_s=X p50_ms=Y p99_ms=Z syncs_per_op=K
 *           all_ops=A all_syncs=C
 *   sqlite: changes=N failed=F txns=T seconds=S changes_per_s=X txns_per_s=Y
 *           p50_ms=P p99_ms=Q syncs_per_change=K bytes_per_change=B
 *           all_changes=A all_syncs=C
 * (the latencies are of one transaction; all_ops, all_changes and
 * all_syncs count the whole process, set-up and warm-up included, for
 * comparing with strace). The syncs are counted in the
 * program: for fsync, the calls it makes; for sqlite, every xSync SQLite
 * asks of its operating-system layer, counted by a VFS that wraps the
 * default one (each xSync is one fdatasync or fsync of the unix VFS; the
 * first sync of a new WAL also syncs its directory).
 * `strace -f -c -e trace=fdatasync,fsync` counts the same calls from
 * outside; bench/record.sh prints both when strace is there.
 * It must never turn synchronisation off.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fdatasync, O_DIRECTORY */
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>
#include <sqlite3.h>

#define MAX_SAMPLES (1 << 20)
#define FSYNC_FILE_BYTES (16u * 1024 * 1024)
#define OID_LEN 20

typedef struct config {
	const char *dir;
	int mode_sqlite;
	int objects_git;
	int new_files;
	int keep;
	size_t size;
	unsigned batch;
	unsigned disputes;
	unsigned fail_every;
	unsigned mirror_objects;   /* > 0: mirror afterwards, so many a pack */
	double seconds;
	double warmup;
	unsigned char *dispute_tpl;
	size_t dispute_len;
	unsigned char *event_tpl;
	size_t event_len;
} config;

typedef struct samples {
	double *ms;
	size_t count;
} samples;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill_random(unsigned char *buf, size_t len, uint64_t *state)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t r = next_random(state);

		memcpy(buf + i, &r, 8);
	}
	for (; i < len; i++)
		buf[i] = (unsigned char)next_random(state);
}

static void sample_add(samples *s, double ms)
{
	if (s->count < MAX_SAMPLES)
		s->ms[s->count++] = ms;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double percentile(samples *s, unsigned pct)
{
	if (!s->count)
		return 0;
	qsort(s->ms, s->count, sizeof(double), compare_doubles);
	return s->ms[(s->count * pct) / 100];
}

/* ---- fsync ---------------------------------------------------------------- */

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int write_all(int fd, const unsigned char *buf, size_t len, off_t at)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		at += n;
	}
	return 0;
}

static int run_fsync(const config *cfg)
{
	char path[4096], tmp[4096];
	unsigned char *buf = NULL;
	samples s = { NULL, 0 };
	uint64_t rng = (uint64_t)getpid() ^ (uint64_t)time(NULL);
	uint64_t ops = 0, syncs = 0, n = 0, all_syncs = 0;
	off_t at = 0;
	double start = 0, stop_at, end;
	int fd = -1, rc = 1, measuring = 0;

	if (!(buf = malloc(cfg->size)) ||
	    !(s.ms = malloc(MAX_SAMPLES * sizeof(double))))
		goto done;
	fill_random(buf, cfg->size, &rng);
	if (!cfg->new_files) {
		/* the file exists with its blocks before the runs: fdatasync
		 * then has data to write, never the file's size */
		snprintf(path, sizeof(path), "%s/fsync.dat", cfg->dir);
		if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
			goto done;
		for (off_t o = 0; o < (off_t)FSYNC_FILE_BYTES;
		     o += (off_t)cfg->size)
			if (write_all(fd, buf, cfg->size, o) < 0)
				goto done;
		if (fsync(fd) < 0 || sync_dir(cfg->dir) < 0)
			goto done;
		all_syncs += 2;
	}
	stop_at = now_s() + cfg->warmup;
	for (;;) {
		double t0 = now_s();

		if (t0 >= stop_at) {
			if (measuring)
				break;
			measuring = 1;
			start = t0;
			stop_at = t0 + cfg->seconds;
			ops = syncs = 0;
		}
		memcpy(buf, &n, sizeof(n));     /* every write is new bytes */
		if (cfg->new_files) {
			snprintf(tmp, sizeof(tmp), "%s/tmp-%" PRIu64, cfg->dir,
				 n);
			snprintf(path, sizeof(path), "%s/obj-%016" PRIx64,
				 cfg->dir, n);
			if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL,
				       0600)) < 0 ||
			    write_all(fd, buf, cfg->size, 0) < 0 ||
			    fdatasync(fd) < 0 || close(fd) < 0 ||
			    rename(tmp, path) < 0 || sync_dir(cfg->dir) < 0)
				goto done;
			fd = -1;
			syncs += 2;
			all_syncs += 2;
			/* keep the directory small: the previous file goes */
			if (n > 0) {
				snprintf(path, sizeof(path),
					 "%s/obj-%016" PRIx64, cfg->dir, n - 1);
				unlink(path);
			}
		} else {
			if (write_all(fd, buf, cfg->size, at) < 0 ||
			    fdatasync(fd) < 0)
				goto done;
			syncs++;
			all_syncs++;
			at += (off_t)cfg->size;
			if (at + (off_t)cfg->size > (off_t)FSYNC_FILE_BYTES)
				at = 0;
		}
		n++;
		if (measuring) {
			ops++;
			sample_add(&s, (now_s() - t0) * 1e3);
		}
	}
	end = now_s();
	printf("ops=%" PRIu64 " seconds=%.2f ops_per_s=%.1f p50_ms=%.3f "
	       "p99_ms=%.3f syncs_per_op=%.2f all_ops=%" PRIu64
	       " all_syncs=%" PRIu64 "\n", ops, end - start,
	       (double)ops / (end - start), percentile(&s, 50),
	       percentile(&s, 99), ops ? (double)syncs / (double)ops : 0, n,
	       all_syncs);
	rc = 0;
done:
	if (rc)
		fprintf(stderr, "ceiling-record: fsync: %s\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	if (!cfg->keep) {
		if (cfg->new_files) {
			snprintf(path, sizeof(path), "%s/obj-%016" PRIx64,
				 cfg->dir, n ? n - 1 : 0);
			unlink(path);
			snprintf(tmp, sizeof(tmp), "%s/tmp-%" PRIu64, cfg->dir,
				 n);
			unlink(tmp);
		} else {
			snprintf(path, sizeof(path), "%s/fsync.dat", cfg->dir);
			unlink(path);
		}
	}
	free(buf);
	free(s.ms);
	return rc;
}

/* ---- a VFS that counts syncs ---------------------------------------------- */

/*
 * The default VFS with each file's xSync counted: after the default xOpen
 * the file's method table is swapped for a copy whose xSync counts and
 * calls the original. The file itself is the default VFS's, untouched.
 */
typedef struct wrapped_methods {
	const sqlite3_io_methods *orig;
	sqlite3_io_methods copy;
} wrapped_methods;

static wrapped_methods wrapped[4];
static int wrapped_count;
static sqlite3_vfs *base_vfs;
static sqlite3_vfs counting_vfs;
static uint64_t sqlite_syncs;

static int counting_sync(sqlite3_file *file, int flags)
{
	for (int i = 0; i < wrapped_count; i++)
		if (file->pMethods == &wrapped[i].copy) {
			sqlite_syncs++;
			return wrapped[i].orig->xSync(file, flags);
		}
	return SQLITE_IOERR_FSYNC;
}

static int counting_open(sqlite3_vfs *vfs, const char *name,
			 sqlite3_file *file, int flags, int *out_flags)
{
	int rc = base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
	int i;

	(void)vfs;
	if (rc != SQLITE_OK || !file->pMethods)
		return rc;
	for (i = 0; i < wrapped_count; i++)
		if (wrapped[i].orig == file->pMethods)
			break;
	if (i == wrapped_count) {
		if (wrapped_count == (int)(sizeof(wrapped) / sizeof(wrapped[0])))
			return rc;          /* not counted: said by strace */
		wrapped[i].orig = file->pMethods;
		wrapped[i].copy = *file->pMethods;
		wrapped[i].copy.xSync = counting_sync;
		wrapped_count++;
	}
	file->pMethods = &wrapped[i].copy;
	return rc;
}

static int register_counting_vfs(void)
{
	if (!(base_vfs = sqlite3_vfs_find(NULL)))
		return -1;
	counting_vfs = *base_vfs;
	counting_vfs.zName = "counting";
	counting_vfs.xOpen = counting_open;
	counting_vfs.pNext = NULL;
	return sqlite3_vfs_register(&counting_vfs, 0) == SQLITE_OK ? 0 : -1;
}

/* ---- the record's tables ---------------------------------------------------- */

static const char *const schema =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE objects(id BLOB PRIMARY KEY, type INTEGER NOT NULL,"
	"  size INTEGER NOT NULL, data BLOB NOT NULL);"
	"CREATE TABLE refs(name TEXT PRIMARY KEY, head BLOB NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TABLE disputes(id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
	"  state TEXT NOT NULL, updated_at INTEGER NOT NULL,"
	"  doc BLOB NOT NULL);"
	"CREATE TABLE events(dispute_id TEXT NOT NULL, seq INTEGER NOT NULL,"
	"  name TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT NOT NULL,"
	"  doc BLOB NOT NULL, PRIMARY KEY(dispute_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE deadlines(dispute_id TEXT PRIMARY KEY,"
	"  due_at INTEGER NOT NULL, event TEXT NOT NULL);"
	"CREATE INDEX deadlines_due ON deadlines(due_at);"
	"CREATE TABLE outbox(id INTEGER PRIMARY KEY, dispute_id TEXT NOT NULL,"
	"  version INTEGER NOT NULL, kind TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL);";

enum {
	ST_REF_GET,
	ST_REF_CAS,
	ST_REF_NEW,
	ST_OBJ_PUT,
	ST_OBJ_GET,
	ST_OBJ_HEADER,
	ST_OBJ_HAS,
	ST_DISPUTE_CAS,
	ST_DISPUTE_NEW,
	ST_EVENT_NEW,
	ST_DEADLINE_SET,
	ST_OUTBOX_NEW,
	ST_COUNT
};

static const char *const statements[ST_COUNT] = {
	[ST_REF_GET] = "SELECT head FROM refs WHERE name = ?1",
	[ST_REF_CAS] = "UPDATE refs SET head = ?2 WHERE name = ?1 AND head = ?3",
	[ST_REF_NEW] = "INSERT INTO refs(name, head) VALUES (?1, ?2)",
	[ST_OBJ_PUT] = "INSERT OR IGNORE INTO objects(id, type, size, data) "
		       "VALUES (?1, ?2, ?3, ?4)",
	[ST_OBJ_GET] = "SELECT type, size, data FROM objects WHERE id = ?1",
	[ST_OBJ_HEADER] = "SELECT type, size FROM objects WHERE id = ?1",
	[ST_OBJ_HAS] = "SELECT 1 FROM objects WHERE id = ?1",
	[ST_DISPUTE_CAS] = "UPDATE disputes SET version = ?2 + 1, state = ?3,"
			   " updated_at = ?4, doc = ?5 "
			   "WHERE id = ?1 AND version = ?2",
	[ST_DISPUTE_NEW] = "INSERT INTO disputes(id, version, state, "
			   "updated_at, doc) VALUES (?1, 1, 'open', ?2, ?3)",
	[ST_EVENT_NEW] = "INSERT INTO events(dispute_id, seq, name, at, actor,"
			 " doc) VALUES (?1, ?2, ?3, ?4, 'storefront:bench', ?5)",
	[ST_DEADLINE_SET] = "INSERT OR REPLACE INTO deadlines(dispute_id, "
			    "due_at, event) VALUES (?1, ?2, ?3)",
	[ST_OUTBOX_NEW] = "INSERT INTO outbox(dispute_id, version, kind, "
			  "created_at) VALUES (?1, ?2, ?3, ?4)",
};

typedef struct record {
	const config *cfg;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	git_odb *odb;
	git_repository *repo;
	unsigned *versions;        /* per dispute: its version */
	unsigned char *scratch;
	unsigned char *event_scratch;
	uint64_t rng;
	uint64_t bytes;            /* object and index bytes written */
	int opening;               /* the disputes' first changes: none fails */
	char error[512];
} record;

static int db_fail(record *r, const char *what)
{
	snprintf(r->error, sizeof(r->error), "%s: %s", what,
		 sqlite3_errmsg(r->db));
	return -1;
}

static int git_fail(record *r, const char *what)
{
	const git_error *e = git_error_last();

	snprintf(r->error, sizeof(r->error), "%s: %s", what,
		 e && e->message ? e->message : "unknown error");
	return -1;
}

static int exec(record *r, const char *sql)
{
	return sqlite3_exec(r->db, sql, NULL, NULL, NULL) == SQLITE_OK
		       ? 0 : db_fail(r, sql);
}

/* Run a statement that returns no row; its changes() in *changed. */
static int step_done(record *r, sqlite3_stmt *st, int *changed)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return db_fail(r, sqlite3_sql(st));
	if (changed)
		*changed = sqlite3_changes(r->db);
	return 0;
}

static int put_object(record *r, const unsigned char id[OID_LEN], int type,
		      const void *data, size_t len)
{
	sqlite3_stmt *st = r->st[ST_OBJ_PUT];

	sqlite3_bind_blob(st, 1, id, OID_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, type);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)len);
	sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_STATIC);
	r->bytes += len + OID_LEN;
	return step_done(r, st, NULL);
}

/* ---- the objects table as libgit2's object database ------------------------ */

typedef struct table_backend {
	git_odb_backend parent;
	record *rec;
} table_backend;

static table_backend *backend_of(git_odb_backend *b)
{
	/* the git_odb_backend is the first member */
	return (table_backend *)(void *)b;
}

static int backend_read(void **out, size_t *len_out, git_object_t *type_out,
			git_odb_backend *b, const git_oid *oid)
{
	record *r = backend_of(b)->rec;
	sqlite3_stmt *st = r->st[ST_OBJ_GET];
	int rc = GIT_ENOTFOUND;

	sqlite3_bind_blob(st, 1, oid->id, OID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		void *buf = git_odb_backend_data_alloc(b, len ? len : 1);

		if (!buf) {
			rc = -1;
		} else {
			if (len)
				memcpy(buf, sqlite3_column_blob(st, 2), len);
			*out = buf;
			*len_out = len;
			*type_out = (git_object_t)sqlite3_column_int(st, 0);
			rc = 0;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int backend_read_header(size_t *len_out, git_object_t *type_out,
			       git_odb_backend *b, const git_oid *oid)
{
	record *r = backend_of(b)->rec;
	sqlite3_stmt *st = r->st[ST_OBJ_HEADER];
	int rc = GIT_ENOTFOUND;

	sqlite3_bind_blob(st, 1, oid->id, OID_LEN, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*type_out = (git_object_t)sqlite3_column_int(st, 0);
		*len_out = (size_t)sqlite3_column_int64(st, 1);
		rc = 0;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int backend_exists(git_odb_backend *b, const git_oid *oid)
{
	record *r = backend_of(b)->rec;
	sqlite3_stmt *st = r->st[ST_OBJ_HAS];
	int found;

	sqlite3_bind_blob(st, 1, oid->id, OID_LEN, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return found;
}

static int backend_write(git_odb_backend *b, const git_oid *oid,
			 const void *data, size_t len, git_object_t type)
{
	record *r = backend_of(b)->rec;

	return put_object(r, oid->id, (int)type, data, len) < 0 ? -1 : 0;
}

static void backend_free(git_odb_backend *b)
{
	free(backend_of(b));
}

static int open_git(record *r)
{
	table_backend *tb = calloc(1, sizeof(*tb));

	if (!tb)
		return git_fail(r, "out of memory");
	if (git_odb_init_backend(&tb->parent, GIT_ODB_BACKEND_VERSION) < 0) {
		free(tb);
		return git_fail(r, "odb backend");
	}
	tb->rec = r;
	tb->parent.read = backend_read;
	tb->parent.read_header = backend_read_header;
	tb->parent.write = backend_write;
	tb->parent.exists = backend_exists;
	tb->parent.free = backend_free;
	if (git_odb_new(&r->odb) < 0) {
		free(tb);
		return git_fail(r, "odb");
	}
	if (git_odb_add_backend(r->odb, &tb->parent, 1) < 0) {
		free(tb);
		return git_fail(r, "odb backend");
	}
	if (git_repository_wrap_odb(&r->repo, r->odb) < 0)
		return git_fail(r, "repository over the odb");
	return 0;
}

/* ---- one change --------------------------------------------------------------- */

static void dispute_name(char *out, size_t size, unsigned d)
{
	snprintf(out, size, "d%015u", d);
}

/* The template's bytes with a counter in their middle: unique content. */
static const unsigned char *unique_bytes(record *r, const unsigned char *tpl,
					 size_t len, uint64_t n)
{
	char mark[32];
	int m = snprintf(mark, sizeof(mark), "%016" PRIx64, n);

	memcpy(r->scratch, tpl, len);
	if ((size_t)m <= len)
		memcpy(r->scratch + (len - (size_t)m) / 2, mark, (size_t)m);
	return r->scratch;
}

/* The event template made unique: the first event of a dispute. */
static const unsigned char *unique_event(record *r, uint64_t n)
{
	char mark[32];
	int m = snprintf(mark, sizeof(mark), "%016" PRIx64, n);

	memcpy(r->event_scratch, r->cfg->event_tpl, r->cfg->event_len);
	if ((size_t)m <= r->cfg->event_len)
		memcpy(r->event_scratch + (r->cfg->event_len - (size_t)m) / 2,
		       mark, (size_t)m);
	return r->event_scratch;
}

static void made_up_id(record *r, unsigned char id[OID_LEN])
{
	uint64_t a = next_random(&r->rng), b = next_random(&r->rng);
	uint32_t c = (uint32_t)next_random(&r->rng);

	memcpy(id, &a, 8);
	memcpy(id + 8, &b, 8);
	memcpy(id + 16, &c, 4);
}

/* The head of refs/disputes/<name> into head (0), or 1 when absent. */
static int ref_get(record *r, const char *ref, unsigned char head[OID_LEN])
{
	sqlite3_stmt *st = r->st[ST_REF_GET];
	int rc;

	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);

	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == OID_LEN)
		memcpy(head, sqlite3_column_blob(st, 0), OID_LEN);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : db_fail(r, "read ref");
}

/* The git objects of one change (raw rows): into commit_id. */
static int objects_raw(record *r, unsigned d, unsigned version,
		       const unsigned char *parent, uint64_t n,
		       unsigned char commit_id[OID_LEN])
{
	const config *cfg = r->cfg;
	static const unsigned char fixed_event_id[OID_LEN] = { 0xe7, 0x01 };
	unsigned char id[OID_LEN];
	unsigned char tree[8192];
	size_t events_tree = 46 * ((size_t)version + 1); /* an entry an event */
	int rc;

	made_up_id(r, id);
	if ((rc = put_object(r, id, GIT_OBJECT_BLOB,
			     unique_bytes(r, cfg->dispute_tpl,
					  cfg->dispute_len, n),
			     cfg->dispute_len)) < 0)
		return rc;
	if (parent) {
		rc = put_object(r, fixed_event_id, GIT_OBJECT_BLOB,
				cfg->event_tpl, cfg->event_len);
	} else {
		made_up_id(r, id);      /* a dispute's first event: its own */
		rc = put_object(r, id, GIT_OBJECT_BLOB, unique_event(r, n),
				cfg->event_len);
	}
	if (rc < 0)
		return rc;
	if (events_tree > sizeof(tree))
		events_tree = sizeof(tree);
	memset(tree, 'e', sizeof(tree));
	memcpy(tree, &n, sizeof(n));
	made_up_id(r, id);
	if ((rc = put_object(r, id, GIT_OBJECT_TREE, tree, events_tree)) < 0)
		return rc;
	made_up_id(r, id);      /* root: dispute.json, events, workflow.json */
	if ((rc = put_object(r, id, GIT_OBJECT_TREE, tree, 114)) < 0)
		return rc;
	made_up_id(r, commit_id);
	(void)d;
	(void)parent;
	/* tree, parent, author, committer, message with trailers: the
	 * sizes of the commits --objects git makes */
	return put_object(r, commit_id, GIT_OBJECT_COMMIT, tree,
			  parent ? 300 : 252);
}

/* The same objects made by libgit2 through the table's backend. */
static int objects_git(record *r, unsigned d, unsigned version,
		       const unsigned char *parent_id, uint64_t n,
		       unsigned char commit_id[OID_LEN])
{
	const config *cfg = r->cfg;
	char ref[64], path[64], message[256];
	git_oid parent_oid, blob, sub_oid, root_oid, out;
	git_commit *parent = NULL;
	git_tree *base = NULL, *events = NULL, *root = NULL;
	git_treebuilder *bld = NULL, *sub = NULL;
	git_signature *author = NULL, *committer = NULL;
	const git_tree_entry *e;
	git_time_t when = (git_time_t)time(NULL);
	int rc = -1;

	dispute_name(ref, sizeof(ref), d);
	if (parent_id) {
		memcpy(parent_oid.id, parent_id, OID_LEN);
		if (git_commit_lookup(&parent, r->repo, &parent_oid) < 0 ||
		    git_commit_tree(&base, parent) < 0) {
			git_fail(r, "read parent");
			goto done;
		}
		if ((e = git_tree_entry_byname(base, "events")) &&
		    git_tree_lookup(&events, r->repo,
				    git_tree_entry_id(e)) < 0) {
			git_fail(r, "read events tree");
			goto done;
		}
	}
	if (git_treebuilder_new(&sub, r->repo, events) < 0 ||
	    git_treebuilder_new(&bld, r->repo, base) < 0) {
		git_fail(r, "treebuilder");
		goto done;
	}
	/* the first event of each dispute is its own (its "opened" event
	 * names the dispute), so no two disputes share an events tree */
	if (git_blob_create_from_buffer(&blob, r->repo,
					parent_id ? cfg->event_tpl
						  : unique_event(r, n),
					cfg->event_len) < 0) {
		git_fail(r, "event blob");
		goto done;
	}
	snprintf(path, sizeof(path), "%06u-resume.json", version + 1);
	if (git_treebuilder_insert(NULL, sub, path, &blob,
				   GIT_FILEMODE_BLOB) < 0 ||
	    git_treebuilder_write(&sub_oid, sub) < 0 ||
	    git_treebuilder_insert(NULL, bld, "events", &sub_oid,
				   GIT_FILEMODE_TREE) < 0) {
		git_fail(r, "events tree");
		goto done;
	}
	if (git_blob_create_from_buffer(&blob, r->repo,
					unique_bytes(r, cfg->dispute_tpl,
						     cfg->dispute_len, n),
					cfg->dispute_len) < 0 ||
	    git_treebuilder_insert(NULL, bld, "dispute.json", &blob,
				   GIT_FILEMODE_BLOB) < 0) {
		git_fail(r, "dispute blob");
		goto done;
	}
	if (!parent_id) {
		/* a new dispute: its workflow, as redress pins it */
		if (git_blob_create_from_buffer(&blob, r->repo,
						cfg->dispute_tpl,
						cfg->dispute_len) < 0 ||
		    git_treebuilder_insert(NULL, bld, "workflow.json", &blob,
					   GIT_FILEMODE_BLOB) < 0) {
			git_fail(r, "workflow blob");
			goto done;
		}
	}
	if (git_treebuilder_write(&root_oid, bld) < 0 ||
	    git_tree_lookup(&root, r->repo, &root_oid) < 0) {
		git_fail(r, "root tree");
		goto done;
	}
	if (git_signature_new(&author, "storefront",
			      "storefront.0123456789abcdef@redress", when,
			      0) < 0 ||
	    git_signature_new(&committer, "redress", "redress@localhost",
			      when, 0) < 0) {
		git_fail(r, "signature");
		goto done;
	}
	snprintf(message, sizeof(message),
		 "resume\n\nRedress-Dispute: %s\nRedress-Version: %u\n", ref,
		 version + 1);
	if (git_commit_create(&out, r->repo, NULL, author, committer, NULL,
			      message, root, parent ? 1 : 0,
			      (const git_commit **)&parent) < 0) {
		git_fail(r, "commit");
		goto done;
	}
	memcpy(commit_id, out.id, OID_LEN);
	rc = 0;
done:
	git_signature_free(author);
	git_signature_free(committer);
	git_treebuilder_free(bld);
	git_treebuilder_free(sub);
	git_tree_free(root);
	git_tree_free(events);
	git_tree_free(base);
	git_commit_free(parent);
	return rc;
}

/*
 * One change of dispute d in its own savepoint: the objects, the ref by
 * compare-and-swap, the index rows. A change that fails rolls back to
 * its savepoint and leaves the batch's others alone.
 */
static int one_change(record *r, unsigned d, uint64_t n)
{
	const config *cfg = r->cfg;
	char name[32], ref[64];
	unsigned char head[OID_LEN], commit_id[OID_LEN];
	unsigned version = r->versions[d];
	int64_t at = (int64_t)time(NULL);
	int changed = 0, rc, absent;
	sqlite3_stmt *st;

	dispute_name(name, sizeof(name), d);
	snprintf(ref, sizeof(ref), "refs/disputes/%s", name);
	if (exec(r, "SAVEPOINT change") < 0)
		return -1;
	if ((absent = ref_get(r, ref, head)) < 0)
		goto fail;
	rc = cfg->objects_git
		     ? objects_git(r, d, version, absent ? NULL : head, n,
				   commit_id)
		     : objects_raw(r, d, version, absent ? NULL : head, n,
				   commit_id);
	if (rc < 0)
		goto fail;
	if (absent) {
		st = r->st[ST_REF_NEW];
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, commit_id, OID_LEN, SQLITE_STATIC);
		if (step_done(r, st, &changed) < 0)
			goto fail;
		st = r->st[ST_DISPUTE_NEW];
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, at);
		sqlite3_bind_blob(st, 3, r->scratch, (int)cfg->dispute_len,
				  SQLITE_STATIC);
		if (step_done(r, st, NULL) < 0)
			goto fail;
	} else {
		st = r->st[ST_REF_CAS];
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, commit_id, OID_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, head, OID_LEN, SQLITE_STATIC);
		if (step_done(r, st, &changed) < 0)
			goto fail;
		if (changed != 1) {
			snprintf(r->error, sizeof(r->error),
				 "%s moved meanwhile", ref);
			goto fail;
		}
		st = r->st[ST_DISPUTE_CAS];
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)version);
		sqlite3_bind_text(st, 3, version % 2 ? "escalated" : "open",
				  -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, at);
		/* the dispute.json the objects hold, as the index keeps it */
		sqlite3_bind_blob(st, 5, r->scratch, (int)cfg->dispute_len,
				  SQLITE_STATIC);
		if (step_done(r, st, &changed) < 0)
			goto fail;
		if (changed != 1) {
			snprintf(r->error, sizeof(r->error),
				 "%s: version %u is stale", name, version);
			goto fail;
		}
	}
	r->bytes += cfg->dispute_len;
	st = r->st[ST_EVENT_NEW];
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)version + 1);
	sqlite3_bind_text(st, 3, "resume", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, at);
	sqlite3_bind_blob(st, 5, cfg->event_tpl, (int)cfg->event_len,
			  SQLITE_STATIC);
	if (step_done(r, st, NULL) < 0)
		goto fail;
	r->bytes += cfg->event_len;
	st = r->st[ST_DEADLINE_SET];
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, at + 86400 * 3);
	sqlite3_bind_text(st, 3, "expire", -1, SQLITE_STATIC);
	if (step_done(r, st, NULL) < 0)
		goto fail;
	st = r->st[ST_OUTBOX_NEW];
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)version + 1);
	sqlite3_bind_text(st, 3, "dispute.updated", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, at);
	if (step_done(r, st, NULL) < 0)
		goto fail;
	if (cfg->fail_every && !r->opening &&
	    n % cfg->fail_every == cfg->fail_every - 1) {
		/* a change refused after all its rows were written */
		sqlite3_exec(r->db, "ROLLBACK TO change; RELEASE change", NULL,
			     NULL, NULL);
		return 1;
	}
	if (exec(r, "RELEASE change") < 0)
		goto fail;
	r->versions[d] = version + 1;
	return 0;
fail:
	sqlite3_exec(r->db, "ROLLBACK TO change; RELEASE change", NULL, NULL,
		     NULL);
	return -1;
}

/* One transaction of `count` changes from dispute `first` on. */
static int one_batch(record *r, unsigned first, unsigned count, uint64_t *n,
		     uint64_t *failed)
{
	if (exec(r, "BEGIN IMMEDIATE") < 0)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		int rc = one_change(r, (first + i) % r->cfg->disputes, *n);

		if (rc < 0) {
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (rc > 0)             /* failed alone; the others go on */
			(*failed)++;
		(*n)++;
	}
	return exec(r, "COMMIT");
}

/* ---- the mirror -------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove the repositories run_mirror made under DIR. */
static void remove_mirror(const config *cfg)
{
	char path[4200];

	snprintf(path, sizeof(path), "%.4000s/mirror.git", cfg->dir);
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(path, sizeof(path), "%.4000s/packer.git", cfg->dir);
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * After the measured run: every object of the table packed into a bare
 * repository DIR/mirror.git, cfg->mirror_objects a pack (in the order they
 * were stored, as a mirror writer takes them), by a git_packbuilder of a
 * repository with no refs (DIR/packer.git) whose object database reads the
 * table; after each pack every dispute's ref is moved to its head (loose
 * refs, without fsync) and the file system synced once (syncfs), as the
 * mirror records its position. Prints one line:
 *   mirror: objects=N packs=P seconds=S objects_per_s=X pack_p50_ms=Y
 *           refs_per_pack=R ref_seconds=T
 */
static int run_mirror(record *r)
{
	const config *cfg = r->cfg;
	char path[4200];
	git_repository *packer = NULL, *mirror = NULL;
	git_odb *packer_odb = NULL;
	table_backend *tb = NULL;
	git_packbuilder *pb = NULL;
	sqlite3_stmt *ids = NULL;
	git_oid *heads = NULL;
	unsigned char *touched = NULL;
	samples s = { NULL, 0 };
	sqlite3_int64 after = 0;
	uint64_t objects = 0, packs = 0, ref_writes = 0;
	double t0 = now_s(), ref_time = 0;
	int rc = -1, fd = -1;

	if (!(s.ms = malloc(MAX_SAMPLES * sizeof(double))) ||
	    !(tb = calloc(1, sizeof(*tb)))) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto done;
	}
	snprintf(path, sizeof(path), "%.4000s/packer.git", cfg->dir);
	if (git_repository_init(&packer, path, 1) < 0 ||
	    git_repository_odb(&packer_odb, packer) < 0) {
		git_fail(r, "packer repository");
		goto done;
	}
	git_odb_init_backend(&tb->parent, GIT_ODB_BACKEND_VERSION);
	tb->rec = r;
	tb->parent.read = backend_read;
	tb->parent.read_header = backend_read_header;
	tb->parent.exists = backend_exists;
	tb->parent.free = backend_free;
	if (git_odb_add_backend(packer_odb, &tb->parent, 1000) < 0) {
		git_fail(r, "packer backend");
		goto done;
	}
	tb = NULL;                       /* the odb owns it now */
	snprintf(path, sizeof(path), "%.4000s/mirror.git", cfg->dir);
	if (git_repository_init(&mirror, path, 1) < 0) {
		git_fail(r, "mirror repository");
		goto done;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY)) < 0) {
		snprintf(r->error, sizeof(r->error), "open mirror");
		goto done;
	}
	snprintf(path, sizeof(path), "%.4000s/mirror.git/objects/pack",
		 cfg->dir);
	if (sqlite3_prepare_v2(r->db, "SELECT rowid, id, type FROM objects "
			       "WHERE rowid > ?1 ORDER BY rowid LIMIT ?2", -1,
			       &ids, NULL) != SQLITE_OK) {
		db_fail(r, "mirror statements");
		goto done;
	}
	if (!(heads = calloc(cfg->disputes, sizeof(*heads))) ||
	    !(touched = calloc(cfg->disputes, 1))) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		goto done;
	}
	for (;;) {
		double p0 = now_s(), r0;
		uint64_t in_pack = 0;

		if (git_packbuilder_new(&pb, packer) < 0) {
			git_fail(r, "packbuilder");
			goto done;
		}
		git_packbuilder_set_threads(pb, 1);
		sqlite3_bind_int64(ids, 1, after);
		sqlite3_bind_int(ids, 2, (int)cfg->mirror_objects);
		while (sqlite3_step(ids) == SQLITE_ROW) {
			git_oid oid;

			after = sqlite3_column_int64(ids, 0);
			memcpy(oid.id, sqlite3_column_blob(ids, 1), OID_LEN);
			/* one object at a time: never a walk of its tree */
			if (git_packbuilder_insert(pb, &oid, NULL) < 0) {
				git_fail(r, "pack insert");
				goto done;
			}
			in_pack++;
			/* a commit: its dispute's head as of this pack (the
			 * mirror writer knows it from the changes table) */
			if (sqlite3_column_int(ids, 2) == GIT_OBJECT_COMMIT) {
				git_commit *c = NULL;
				const char *m;
				unsigned long d;

				if (git_commit_lookup(&c, packer, &oid) < 0) {
					git_fail(r, "mirror commit");
					goto done;
				}
				m = strstr(git_commit_message(c),
					   "Redress-Dispute: d");
				d = m ? strtoul(m + 18, NULL, 10) : ULONG_MAX;
				if (d < cfg->disputes) {
					heads[d] = oid;
					touched[d] = 1;
				}
				git_commit_free(c);
			}
		}
		sqlite3_reset(ids);
		if (!in_pack)
			break;
		if (git_packbuilder_write(pb, path, 0, NULL, NULL) < 0) {
			git_fail(r, "pack write");
			goto done;
		}
		git_packbuilder_free(pb);
		pb = NULL;
		r0 = now_s();
		for (unsigned d = 0; d < cfg->disputes; d++) {
			git_reference *ref = NULL;
			char name[64];

			if (!touched[d])
				continue;
			touched[d] = 0;
			snprintf(name, sizeof(name), "refs/disputes/d%015u", d);
			if (git_reference_create(&ref, mirror, name, &heads[d],
						 1, NULL) < 0) {
				git_fail(r, "mirror ref");
				goto done;
			}
			git_reference_free(ref);
			ref_writes++;
		}
		if (syncfs(fd) < 0) {
			snprintf(r->error, sizeof(r->error), "syncfs");
			goto done;
		}
		ref_time += now_s() - r0;
		objects += in_pack;
		packs++;
		sample_add(&s, (r0 - p0) * 1e3);
	}
	printf("mirror: objects=%" PRIu64 " packs=%" PRIu64 " seconds=%.2f "
	       "objects_per_s=%.0f pack_p50_ms=%.1f refs_per_pack=%.0f "
	       "ref_seconds=%.2f\n", objects, packs, now_s() - t0,
	       (double)objects / (now_s() - t0), percentile(&s, 50),
	       packs ? (double)ref_writes / (double)packs : 0, ref_time);
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	git_packbuilder_free(pb);
	sqlite3_finalize(ids);
	free(heads);
	free(touched);
	git_repository_free(mirror);
	git_odb_free(packer_odb);
	git_repository_free(packer);
	free(tb);
	free(s.ms);
	return rc;
}

static int run_sqlite(const config *cfg)
{
	record r;
	char path[4096];
	samples s = { NULL, 0 };
	size_t scratch_len = cfg->dispute_len + 64;
	uint64_t n = 0, changes = 0, txns = 0, syncs0 = 0, bytes0 = 0;
	uint64_t failed = 0;
	unsigned next = 0;
	double start = 0, stop_at, end;
	int rc = 1, measuring = 0;
	static const char *const suffixes[] = { "", "-wal", "-shm",
						"-journal" };

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.rng = (uint64_t)getpid() ^ ((uint64_t)time(NULL) << 20);
	snprintf(path, sizeof(path), "%s/record.db", cfg->dir);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char p[4200];

		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
	if (!(r.versions = calloc(cfg->disputes, sizeof(*r.versions))) ||
	    !(r.scratch = malloc(scratch_len)) ||
	    !(r.event_scratch = malloc(cfg->event_len)) ||
	    !(s.ms = malloc(MAX_SAMPLES * sizeof(double)))) {
		snprintf(r.error, sizeof(r.error), "out of memory");
		goto done;
	}
	if (register_counting_vfs() < 0 ||
	    sqlite3_open_v2(path, &r.db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    "counting") != SQLITE_OK) {
		snprintf(r.error, sizeof(r.error), "cannot open %.400s", path);
		goto done;
	}
	if (exec(&r, schema) < 0)
		goto done;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(r.db, statements[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &r.st[i],
				       NULL) != SQLITE_OK) {
			db_fail(&r, statements[i]);
			goto done;
		}
	if (cfg->objects_git && open_git(&r) < 0)
		goto done;
	/* every dispute opened (its first commit), unmeasured */
	if (exec(&r, "BEGIN IMMEDIATE") < 0)
		goto done;
	r.opening = 1;
	for (unsigned d = 0; d < cfg->disputes; d++)
		if (one_change(&r, d, n++) < 0)
			goto done;
	r.opening = 0;
	if (exec(&r, "COMMIT") < 0)
		goto done;
	stop_at = now_s() + cfg->warmup;
	for (;;) {
		double t0 = now_s();

		if (t0 >= stop_at) {
			if (measuring)
				break;
			measuring = 1;
			start = t0;
			stop_at = t0 + cfg->seconds;
			syncs0 = sqlite_syncs;
			bytes0 = r.bytes;
			failed = 0;
		}
		if (one_batch(&r, next, cfg->batch, &n, &failed) < 0)
			goto done;
		next = (next + cfg->batch) % cfg->disputes;
		if (measuring) {
			changes += cfg->batch;
			txns++;
			sample_add(&s, (now_s() - t0) * 1e3);
		}
	}
	end = now_s();
	changes -= failed;
	printf("changes=%" PRIu64 " failed=%" PRIu64 " txns=%" PRIu64
	       " seconds=%.2f "
	       "changes_per_s=%.1f txns_per_s=%.1f p50_ms=%.3f p99_ms=%.3f "
	       "syncs_per_change=%.3f bytes_per_change=%.0f all_changes=%"
	       PRIu64 " all_syncs=%" PRIu64 "\n",
	       changes, failed, txns, end - start,
	       (double)changes / (end - start),
	       (double)txns / (end - start), percentile(&s, 50),
	       percentile(&s, 99),
	       changes ? (double)(sqlite_syncs - syncs0) / (double)changes : 0,
	       changes ? (double)(r.bytes - bytes0) / (double)changes : 0, n,
	       sqlite_syncs);
	if (cfg->mirror_objects && run_mirror(&r) < 0)
		goto done;
	rc = 0;
done:
	if (rc)
		fprintf(stderr, "ceiling-record: sqlite: %s\n", r.error);
	git_repository_free(r.repo);
	git_odb_free(r.odb);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(r.st[i]);
	sqlite3_close(r.db);
	if (!cfg->keep && cfg->mirror_objects)
		remove_mirror(cfg);
	if (!cfg->keep)
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]);
		     i++) {
			char p[4200];

			snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
			unlink(p);
		}
	free(r.versions);
	free(r.scratch);
	free(r.event_scratch);
	free(s.ms);
	return rc;
}

/* ---- arguments ------------------------------------------------------------------ */

static int load_file(unsigned char **out, size_t *len, const char *path)
{
	FILE *in = fopen(path, "rb");
	struct stat st;

	if (!in || fstat(fileno(in), &st) != 0 || st.st_size <= 0 ||
	    st.st_size > 1 << 20 ||
	    !(*out = malloc((size_t)st.st_size)) ||
	    fread(*out, 1, (size_t)st.st_size, in) != (size_t)st.st_size) {
		fprintf(stderr, "ceiling-record: cannot read %s\n", path);
		if (in)
			fclose(in);
		return -1;
	}
	*len = (size_t)st.st_size;
	fclose(in);
	return 0;
}

/* JSON-looking text of `len` bytes: the default templates. */
static unsigned char *made_up_json(size_t len, const char *what)
{
	unsigned char *buf = malloc(len);
	int head;

	if (!buf)
		return NULL;
	memset(buf, ' ', len);
	head = snprintf((char *)buf, len, "{\"kind\": \"%s\", \"pad\": \"",
			what);
	if (head > 0 && (size_t)head < len - 3)
		for (size_t i = (size_t)head; i < len - 3; i++)
			buf[i] = (unsigned char)('a' + i % 26);
	memcpy(buf + len - 3, "\"}\n", 3);
	return buf;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ceiling-record fsync --dir DIR [--size BYTES] "
		"[--new-files] [options]\n"
		"       ceiling-record sqlite --dir DIR [--objects raw|git] "
		"[--batch N] [--disputes D] [--fail-every K]\n"
		"                      [--mirror OBJECTS-A-PACK]\n"
		"                      [--dispute TEMPLATE] [--event TEMPLATE] "
		"[options]\n"
		"options: --seconds S --warmup S --keep\n");
	return 2;
}

static int parse_args(config *cfg, int argc, char **argv)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = 4096;
	cfg->batch = 1;
	cfg->disputes = 1024;
	cfg->seconds = 3;
	cfg->warmup = 0.5;
	if (argc < 2)
		return -1;
	if (strcmp(argv[1], "sqlite") == 0)
		cfg->mode_sqlite = 1;
	else if (strcmp(argv[1], "fsync") != 0)
		return -1;
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--new-files") == 0) {
			cfg->new_files = 1;
			continue;
		}
		if (strcmp(opt, "--keep") == 0) {
			cfg->keep = 1;
			continue;
		}
		if (!val)
			return -1;
		i++;
		if (strcmp(opt, "--dir") == 0) {
			cfg->dir = val;
		} else if (strcmp(opt, "--size") == 0) {
			cfg->size = strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--batch") == 0) {
			cfg->batch = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--mirror") == 0) {
			cfg->mirror_objects = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--fail-every") == 0) {
			cfg->fail_every = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--disputes") == 0) {
			cfg->disputes = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--seconds") == 0) {
			cfg->seconds = strtod(val, NULL);
		} else if (strcmp(opt, "--warmup") == 0) {
			cfg->warmup = strtod(val, NULL);
		} else if (strcmp(opt, "--objects") == 0) {
			if (strcmp(val, "git") == 0)
				cfg->objects_git = 1;
			else if (strcmp(val, "raw") != 0)
				return -1;
		} else if (strcmp(opt, "--dispute") == 0) {
			if (load_file(&cfg->dispute_tpl, &cfg->dispute_len,
				      val) < 0)
				return -1;
		} else if (strcmp(opt, "--event") == 0) {
			if (load_file(&cfg->event_tpl, &cfg->event_len,
				      val) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	if (!cfg->dir || cfg->seconds <= 0 || cfg->seconds > 60 ||
	    cfg->warmup < 0 || cfg->size == 0 || cfg->size > (64u << 20) ||
	    cfg->batch < 1 || cfg->disputes < cfg->batch ||
	    (cfg->mirror_objects && !cfg->objects_git))
		return -1;
	if (!cfg->dispute_tpl) {
		cfg->dispute_len = 1400;
		cfg->dispute_tpl = made_up_json(cfg->dispute_len, "dispute");
	}
	if (!cfg->event_tpl) {
		cfg->event_len = 280;
		cfg->event_tpl = made_up_json(cfg->event_len, "event");
	}
	return cfg->dispute_tpl && cfg->event_tpl ? 0 : -1;
}

int main(int argc, char **argv)
{
	config cfg;
	int rc;

	if (parse_args(&cfg, argc, argv) < 0)
		return usage();
	if (mkdir(cfg.dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "ceiling-record: cannot make %s: %s\n",
			cfg.dir, strerror(errno));
		return 1;
	}
	if (cfg.mode_sqlite) {
		git_libgit2_init();
		git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
		rc = run_sqlite(&cfg);
		git_libgit2_shutdown();
	} else {
		rc = run_fsync(&cfg);
	}
	free(cfg.dispute_tpl);
	free(cfg.event_tpl);
	return rc;
}
