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

#include <stdatomic.h>

#include <nettle/sha1.h>
#include <zlib.h>

struct rd_mirror {
	rd_evidence_repo *repo;  /* opened when first read */
	char *path;
	const atomic_int *cancel;  /* set: merges stop */
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

void rd_mirror_cancel_on(rd_mirror *m, const atomic_int *flag)
{
	m->cancel = flag;
}

rd_evidence_repo *rd_mirror_repo(rd_mirror *m)
{
	rd_error ignored;

	if (!m->repo &&
	    rd_evidence_repo_open(&m->repo, m->path, 0, &ignored) < 0)
		return NULL;
	return m->repo;
}

/*
 * The pack's bytes reach libgit2's indexer in chunks of at least this
 * many: the indexer maps a new window of the pack file for each object
 * that lies past the windows it has, and unmapping one costs every CPU
 * running the process a TLB flush. Fed object by object (as
 * git_packbuilder_write does), a pack cost one mmap and one munmap an
 * object, a third of the mirror's time under load; fed in chunks, one a
 * chunk.
 */
#define PACK_CHUNK (4u * 1024 * 1024)

typedef struct pack_feed {
	const atomic_int *cancel;  /* set: the feed refuses more */
	git_indexer *indexer;
	git_indexer_progress stats;
	unsigned char *buf;
	size_t len;
} pack_feed;

static int feed_flush(pack_feed *f)
{
	int grc = 0;

	if (f->len)
		grc = git_indexer_append(f->indexer, f->buf, f->len, &f->stats);
	f->len = 0;
	return grc;
}

static int feed(void *data, size_t size, void *payload)
{
	pack_feed *f = payload;
	int grc;

	if (f->cancel && atomic_load(f->cancel)) {
		git_error_set_str(GIT_ERROR_NONE, "the merge was cancelled: "
				  "the server is stopping");
		return GIT_EUSER;
	}
	if (f->len + size > PACK_CHUNK && (grc = feed_flush(f)) < 0)
		return grc;
	if (size >= PACK_CHUNK)
		return git_indexer_append(f->indexer, data, size, &f->stats);
	memcpy(f->buf + f->len, data, size);
	f->len += size;
	return 0;
}

/* A feed into a new pack of the mirror: its chunk buffer and indexer. */
static int feed_open(pack_feed *f, rd_mirror *m, rd_error *err)
{
	git_indexer_options opts;
	char dir[4096];

	memset(f, 0, sizeof(*f));
	f->cancel = m->cancel;
	snprintf(dir, sizeof(dir), "%s/objects/pack", m->path);
	if (git_indexer_options_init(&opts, GIT_INDEXER_OPTIONS_VERSION) < 0)
		return ev_git_fail(err, RD_EINTERNAL, "cannot set up an indexer");
	if (!(f->buf = malloc(PACK_CHUNK)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	if (git_indexer_new(&f->indexer, dir, 0644, NULL, &opts) < 0)
		return ev_git_fail(err, RD_EIO, "cannot start a pack in %s",
				   dir);
	return RD_OK;
}

/*
 * The pack fed whole: indexed and named (name), and the mirror's readers
 * list their packs again. `count` and `what` name it in an error.
 */
static int feed_close(pack_feed *f, rd_mirror *m, size_t count,
		      const char *what, char name[RD_OID_BUFSZ], rd_error *err)
{
	const char *made;

	if (feed_flush(f) < 0 ||
	    git_indexer_commit(f->indexer, &f->stats) < 0)
		return ev_git_fail(err, RD_EIO, "cannot write a pack of %zu "
				   "%s into %s/objects/pack", count, what,
				   m->path);
	if ((made = git_indexer_name(f->indexer)) != NULL)
		snprintf(name, RD_OID_BUFSZ, "%s", made);
	if (m->repo && git_odb_refresh(m->repo->odb) < 0)
		git_error_clear();
	return RD_OK;
}

static void feed_free(pack_feed *f)
{
	git_indexer_free(f->indexer);
	free(f->buf);
}

/* ---- packs written by redress itself --------------------------------------- */

/*
 * The packs of a mirror step are written by redress itself, each object
 * deflated once and never compared with another: libgit2's pack builder
 * searches every object for a delta against ten others, which under load
 * was the mirror's largest cost, for packs that a merge writes again
 * anyway (with deltas, rd_mirror_write_pack's `deltas`). Evidence files
 * are streamed from their file and never whole in memory (the pack
 * builder reads an object whole), and deflated only when they compress:
 * on a photo or a video zlib costs the CPU for nothing. Each object is
 * hashed on the way (nettle's SHA-1), so that bytes that are not what
 * their id says never reach the mirror, and redress writes the pack's
 * index itself (version 2: the ids in order, each entry's CRC-32 and
 * offset): libgit2's indexer would inflate every object again and hash it
 * with its collision-detecting SHA-1, which under 1 MiB uploads was a
 * quarter of the whole server's time.
 */
#define FILE_READ (256u * 1024)
/* the first bytes, deflated fast, tell whether a file compresses */
#define FILE_SAMPLE (16u * 1024)

/* An entry of a pack written by redress, for its index. */
typedef struct pack_entry {
	unsigned char id[GIT_OID_RAWSZ];
	uint32_t crc;              /* of the entry's bytes in the pack */
	uint64_t offset;
} pack_entry;

typedef struct pack_out {
	pack_feed f;               /* !direct: the indexer's feed */
	int direct;                /* 1: to fd, indexed by redress */
	int fd;
	char tmp[4096];            /* the pack's temporary name */
	uint64_t offset;           /* the pack's bytes so far */
	uint32_t crc;              /* of the entry being written */
	pack_entry *entries;
	size_t count;
	struct sha1_ctx pack;      /* the pack's trailer */
	unsigned char *in, *out;   /* FILE_READ each */
	z_stream z;
	int z_ready;
	const char *what;          /* "objects", "evidence files" */
	rd_error *err;
} pack_out;

/*
 * A pack written by redress goes to its file in writes of this many bytes:
 * on the machine of docs/performance.md, `dd bs=4M` into the page cache
 * ran at 0.37 GB/s and `bs=256K` at 5.1 GB/s, and the 4 MiB writes were a
 * third of the mirror's time under 1 MiB uploads.
 */
#define OUT_CHUNK (256u * 1024)

/* The chunk buffer's bytes into the pack file. */
static int out_flush(pack_out *p)
{
	size_t done = 0;

	while (done < p->f.len) {
		ssize_t w = write(p->fd, p->f.buf + done, p->f.len - done);

		if (w < 0)
			return rd_error_set(p->err, RD_EIO, "cannot write %s: "
					    "%s", p->tmp, strerror(errno));
		done += (size_t)w;
	}
	p->f.len = 0;
	return RD_OK;
}

/* The bytes into the pack file, through the chunk buffer. */
static int out_write(pack_out *p, const void *data, size_t size)
{
	const unsigned char *at = data;
	int rc;

	while (size > 0) {
		size_t n = OUT_CHUNK - p->f.len;

		if (n > size)
			n = size;
		memcpy(p->f.buf + p->f.len, at, n);
		p->f.len += n;
		at += n;
		size -= n;
		if (p->f.len == OUT_CHUNK && (rc = out_flush(p)) < 0)
			return rc;
	}
	return RD_OK;
}

static int emit(pack_out *p, const void *data, size_t size)
{
	sha1_update(&p->pack, size, data);
	if (p->direct) {
		p->crc = (uint32_t)crc32_z(p->crc, data, size);
		p->offset += size;
		return out_write(p, data, size);
	}
	if (feed((void *)data, size, &p->f) < 0)
		return ev_git_fail(p->err, RD_EIO, "the mirror's indexer "
				   "refused a pack of %s", p->what);
	return RD_OK;
}

/* Z_NO_COMPRESSION when the sample hardly shrinks, else the default. */
static int file_level(const unsigned char *sample, size_t len)
{
	unsigned char out[FILE_SAMPLE + 1024];
	uLongf out_len = sizeof(out);

	if (len < 512)
		return Z_DEFAULT_COMPRESSION;
	if (compress2(out, &out_len, sample, len, Z_BEST_SPEED) != Z_OK)
		return Z_NO_COMPRESSION;
	return out_len * 10 >= (uLongf)len * 9 ? Z_NO_COMPRESSION
						: Z_DEFAULT_COMPRESSION;
}

/* A new deflate stream at `level` for the next object. */
static int z_start(pack_out *p, int level)
{
	if (p->z_ready ? deflateReset(&p->z) == Z_OK &&
			 deflateParams(&p->z, level, Z_DEFAULT_STRATEGY) ==
				 Z_OK
		       : deflateInit(&p->z, level) == Z_OK) {
		p->z_ready = 1;
		return RD_OK;
	}
	return rd_error_set(p->err, RD_ENOMEM, "zlib cannot start: out of "
			    "memory");
}

/* Deflate what p->z holds as input into the pack (flush: Z_NO_FLUSH...). */
static int deflate_out(pack_out *p, int flush)
{
	int zrc;

	do {
		p->z.next_out = p->out;
		p->z.avail_out = FILE_READ;
		zrc = deflate(&p->z, flush);
		if (zrc == Z_STREAM_ERROR)
			return rd_error_set(p->err, RD_EINTERNAL, "zlib failed "
					    "while packing %s", p->what);
		if (FILE_READ - p->z.avail_out > 0 &&
		    emit(p, p->out, FILE_READ - p->z.avail_out) < 0)
			return RD_EIO;
	} while (p->z.avail_out == 0 || (flush == Z_FINISH &&
					 zrc != Z_STREAM_END));
	return RD_OK;
}

/*
 * An entry's header into the pack (its type, then its size, 4 and 7 bits),
 * and the start of its object id's hash into `object`.
 */
static int entry_start(pack_out *p, int type, int64_t size,
		       struct sha1_ctx *object)
{
	unsigned char head[16];
	char id_head[48];
	uint64_t left = (uint64_t)size;
	size_t n = 0;

	p->crc = (uint32_t)crc32_z(0, Z_NULL, 0);
	if (p->direct)
		p->entries[p->count].offset = p->offset;
	head[n] = (unsigned char)((type << 4) | (int)(left & 15));
	for (left >>= 4; left; left >>= 7) {
		head[n++] |= 0x80;
		head[n] = (unsigned char)(left & 0x7f);
	}
	sha1_init(object);
	n++;
	sha1_update(object, (size_t)snprintf(id_head, sizeof(id_head),
					     "%s %lld",
					     git_object_type2string(type),
					     (long long)size) + 1,
		    (const uint8_t *)id_head);
	return emit(p, head, n);
}

/* The entry's bytes hashed to its id, or an error naming what changed. */
static int entry_check(pack_out *p, struct sha1_ctx *object,
		       const git_oid *id, const char *where)
{
	uint8_t digest[SHA1_DIGEST_SIZE];
	char hex[RD_OID_BUFSZ];

	sha1_digest(object, sizeof(digest), digest);
	if (memcmp(digest, id->id, sizeof(digest)) == 0) {
		if (p->direct) {
			memcpy(p->entries[p->count].id, id->id, GIT_OID_RAWSZ);
			p->entries[p->count++].crc = p->crc;
		}
		return RD_OK;
	}
	ev_oid_hex(hex, id);
	return rd_error_set(p->err, RD_EIO, "%s %s does not hash to its "
			    "name: %s", where, hex, strcmp(where, "object")
			    ? "it was changed on disk"
			    : "the record's copy is damaged");
}

/*
 * The level a step gives an object of the record. A tree is mostly
 * object ids, which do not shrink: zlib's fastest level took 120 us for
 * the 18 KiB tree of a dispute's 500 events and made it 0.63 of its size;
 * stored as it is (zlib's stored blocks, which git reads as any other) it
 * takes 7 us. A tree's next version differs from it by an entry or two,
 * so the merge that writes packs again with deltas (rd_mirror_write_pack
 * with deltas on) is what makes trees small, not zlib.
 */
static int object_level(int type)
{
	return type == GIT_OBJECT_TREE ? Z_NO_COMPRESSION : Z_BEST_SPEED;
}

/* One object of the record held in memory: deflated fast, in one go. */
static int pack_bytes(pack_out *p, const git_oid *id, int type,
		      const unsigned char *data, int64_t size)
{
	struct sha1_ctx object;
	size_t left = (size_t)size;
	int rc;

	if ((rc = entry_start(p, type, size, &object)) < 0 ||
	    (rc = z_start(p, object_level(type))) < 0)
		return rc;
	sha1_update(&object, left, data);
	do {
		size_t n = left < FILE_READ ? left : FILE_READ;

		p->z.next_in = (unsigned char *)data;
		p->z.avail_in = (uInt)n;
		data += n;
		left -= n;
		if ((rc = deflate_out(p, left ? Z_NO_FLUSH : Z_FINISH)) < 0)
			return rc;
	} while (left);
	return entry_check(p, &object, id, "object");
}

/* One object of the pack: the evidence file of id, `size` bytes. */
static int pack_file(pack_out *p, rd_evidence_repo *record,
		     const git_oid *id, int64_t size)
{
	ev_file_reader *r = NULL;
	struct sha1_ctx object;
	uint64_t left = (uint64_t)size;
	int rc, first = 1;

	if ((rc = entry_start(p, GIT_OBJECT_BLOB, size, &object)) < 0)
		return rc;
	if ((rc = ev_file_open(record, id, size, &r, p->err)) < 0)
		return rc;
	for (;;) {
		size_t got = 0;

		if (left > 0) {
			if ((rc = ev_file_read(r, p->in, left < FILE_READ
							   ? (size_t)left
							   : FILE_READ,
					       &got, p->err)) < 0)
				break;
			left -= (uint64_t)got;
			sha1_update(&object, got, p->in);
		}
		if (first) {
			if ((rc = z_start(p, file_level(p->in,
					got < FILE_SAMPLE ? got
							  : FILE_SAMPLE))) < 0)
				break;
			first = 0;
		}
		p->z.next_in = p->in;
		p->z.avail_in = (uInt)got;
		if ((rc = deflate_out(p, left ? Z_NO_FLUSH : Z_FINISH)) < 0 ||
		    left == 0)
			break;
	}
	ev_file_close(r);
	if (rc < 0)
		return rc;
	return entry_check(p, &object, id, "evidence file");
}

static int by_id(const void *a, const void *b)
{
	return memcmp(((const pack_entry *)a)->id, ((const pack_entry *)b)->id,
		      GIT_OID_RAWSZ);
}

static unsigned char *put32(unsigned char *at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		at[i] = (unsigned char)(v >> (24 - 8 * i));
	return at + 4;
}

/*
 * The index of a pack written by redress (git's version 2), under a
 * temporary name in the same directory: *idx_tmp receives it.
 */
static int write_index(pack_out *p, const uint8_t trailer[SHA1_DIGEST_SIZE],
		       char *idx_tmp, size_t idx_tmp_size)
{
	size_t large = 0, size, n = p->count;
	unsigned char *idx, *at;
	struct sha1_ctx sum;
	uint32_t fan = 0;
	int fd, rc = RD_OK;

	qsort(p->entries, n, sizeof(*p->entries), by_id);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && memcmp(p->entries[i - 1].id, p->entries[i].id,
				    GIT_OID_RAWSZ) == 0)
			return rd_error_set(p->err, RD_EINTERNAL, "an object "
					    "is twice in a pack of %s",
					    p->what);
		if (p->entries[i].offset >= UINT32_C(0x80000000))
			large++;
	}
	size = 8 + 256 * 4 + n * (GIT_OID_RAWSZ + 4 + 4) + large * 8 +
	       2 * SHA1_DIGEST_SIZE;
	if (!(idx = malloc(size)))
		return rd_error_set(p->err, RD_ENOMEM, "out of memory");
	at = put32(put32(idx, 0xff744f63u), 2);
	for (unsigned b = 0, i = 0; b < 256; b++) {
		while (i < n && p->entries[i].id[0] == b) {
			i++;
			fan++;
		}
		at = put32(at, fan);
	}
	for (size_t i = 0; i < n; i++, at += GIT_OID_RAWSZ)
		memcpy(at, p->entries[i].id, GIT_OID_RAWSZ);
	for (size_t i = 0; i < n; i++)
		at = put32(at, p->entries[i].crc);
	large = 0;
	for (size_t i = 0; i < n; i++)
		at = put32(at, p->entries[i].offset < UINT32_C(0x80000000)
				       ? (uint32_t)p->entries[i].offset
				       : UINT32_C(0x80000000) |
						 (uint32_t)large++);
	for (size_t i = 0; i < n; i++)
		if (p->entries[i].offset >= UINT32_C(0x80000000)) {
			at = put32(at, (uint32_t)(p->entries[i].offset >> 32));
			at = put32(at, (uint32_t)p->entries[i].offset);
		}
	memcpy(at, trailer, SHA1_DIGEST_SIZE);
	at += SHA1_DIGEST_SIZE;
	sha1_init(&sum);
	sha1_update(&sum, (size_t)(at - idx), idx);
	sha1_digest(&sum, SHA1_DIGEST_SIZE, at);
	snprintf(idx_tmp, idx_tmp_size, "%.*s_git2_XXXXXX",
		 (int)(strrchr(p->tmp, '/') - p->tmp) + 5, p->tmp);
	if ((fd = mkstemp(idx_tmp)) < 0 ||
	    write(fd, idx, size) != (ssize_t)size || fchmod(fd, 0444) != 0)
		rc = rd_error_set(p->err, RD_EIO, "cannot write the index of "
				  "a pack of %s: %s", p->what,
				  strerror(errno));
	if (fd >= 0 && close(fd) != 0 && rc == RD_OK)
		rc = rd_error_set(p->err, RD_EIO, "cannot write %s: %s",
				  idx_tmp, strerror(errno));
	if (fd >= 0 && rc < 0)
		unlink(idx_tmp);
	if (fd < 0)
		idx_tmp[0] = '\0';
	free(idx);
	return rc;
}

/*
 * The pack written whole: its trailer, its index, then both moved to their
 * names (the pack first: git finds a pack by its index).
 */
static int direct_finish(pack_out *p, rd_mirror *m, char name[RD_OID_BUFSZ])
{
	uint8_t trailer[SHA1_DIGEST_SIZE];
	char idx_tmp[4096 + 32], path[4096 + 64];
	int rc;

	sha1_digest(&p->pack, sizeof(trailer), trailer);
	if ((rc = out_write(p, trailer, sizeof(trailer))) < 0 ||
	    (rc = out_flush(p)) < 0)
		return rc;
	if (fchmod(p->fd, 0444) != 0 || close(p->fd) != 0) {
		p->fd = -1;
		return rd_error_set(p->err, RD_EIO, "cannot write %s: %s",
				    p->tmp, strerror(errno));
	}
	p->fd = -1;
	if ((rc = write_index(p, trailer, idx_tmp, sizeof(idx_tmp))) < 0)
		return rc;
	for (int i = 0; i < SHA1_DIGEST_SIZE; i++)
		snprintf(name + 2 * i, 3, "%02x", trailer[i]);
	snprintf(path, sizeof(path), "%s/objects/pack/pack-%s.pack", m->path,
		 name);
	if (rename(p->tmp, path) != 0) {
		rc = rd_error_set(p->err, RD_EIO, "cannot move %s to %s: %s",
				  p->tmp, path, strerror(errno));
		unlink(idx_tmp);
		return rc;
	}
	p->tmp[0] = '\0';
	snprintf(path, sizeof(path), "%s/objects/pack/pack-%s.idx", m->path,
		 name);
	if (rename(idx_tmp, path) != 0) {
		rc = rd_error_set(p->err, RD_EIO, "cannot move %s to %s: %s",
				  idx_tmp, path, strerror(errno));
		unlink(idx_tmp);
		return rc;
	}
	if (m->repo && git_odb_refresh(m->repo->odb) < 0)
		git_error_clear();
	return RD_OK;
}

/* A new pack file of the mirror under a temporary name, for p. */
static int direct_open(pack_out *p, rd_mirror *m, size_t count)
{
	p->direct = 1;
	if (!(p->entries = calloc(count ? count : 1, sizeof(*p->entries))) ||
	    !(p->f.buf = malloc(OUT_CHUNK)))
		return rd_error_set(p->err, RD_ENOMEM, "out of memory");
	/*
	 * Named as libgit2 names its temporaries, which the removal of a
	 * dead writer's leftovers knows (rd_evidence_leftovers_remove); p->tmp
	 * names a file only once mkstemp made one, so direct_free never
	 * removes the template's own name.
	 */
	snprintf(p->tmp, sizeof(p->tmp), "%s/objects/pack/pack_git2_XXXXXX",
		 m->path);
	if ((p->fd = mkstemp(p->tmp)) < 0) {
		p->tmp[0] = '\0';
		return rd_error_set(p->err, RD_EIO, "cannot start a pack in "
				    "%s/objects/pack: %s", m->path,
				    strerror(errno));
	}
	return RD_OK;
}

static void direct_free(pack_out *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->tmp[0])
		unlink(p->tmp);
	free(p->entries);
	free(p->f.buf);
}

/*
 * A new pack of `count` objects into p, up to its header: written by
 * redress and indexed by it (direct), or fed to libgit2's indexer.
 */
static int pack_start(pack_out *p, rd_mirror *m, uint64_t count, int direct,
		      const char *what, rd_error *err)
{
	unsigned char head[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };
	int rc;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->err = err;
	p->what = what;
	sha1_init(&p->pack);
	if ((rc = direct ? direct_open(p, m, (size_t)count)
			 : feed_open(&p->f, m, err)) < 0)
		return rc;
	if (!(p->in = malloc(FILE_READ)) || !(p->out = malloc(FILE_READ)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (int i = 0; i < 4; i++)
		head[8 + i] = (unsigned char)(count >> (24 - 8 * i));
	return emit(p, head, sizeof(head));
}

/* What pack_start and the writing took, whether the pack was made or not. */
static void pack_free(pack_out *p)
{
	if (p->z_ready)
		deflateEnd(&p->z);
	if (p->direct)
		direct_free(p);
	else
		feed_free(&p->f);
	free(p->in);
	free(p->out);
}

/*
 * The objects of a pack read ahead of it, READ_AHEAD at a time, through
 * the record's get_many where it has one (on PostgreSQL a round trip for
 * them all rather than one each).
 */
#define READ_AHEAD 64

typedef struct ahead_obj {
	int found;
	int type;
	int in_file;
	int64_t size;
	void *data;
} ahead_obj;

typedef struct read_ahead {
	const unsigned char *ids;     /* the chunk's */
	size_t count;
	ahead_obj objs[READ_AHEAD];
	rd_error *err;
} read_ahead;

static int ahead_keep(void *ctx, const unsigned char id[20], int type,
		      int64_t size, int in_file, const void *data)
{
	read_ahead *a = ctx;

	for (size_t i = 0; i < a->count; i++) {
		ahead_obj *o = &a->objs[i];

		if (o->found || memcmp(a->ids + i * GIT_OID_RAWSZ, id,
				       GIT_OID_RAWSZ) != 0)
			continue;
		if (!in_file && !(o->data = malloc(size ? (size_t)size : 1)))
			return rd_error_set(a->err, RD_ENOMEM,
					    "out of memory");
		if (!in_file && size)
			memcpy(o->data, data, (size_t)size);
		o->found = 1;
		o->type = type;
		o->size = size;
		o->in_file = in_file;
		break;
	}
	return 0;
}

static void ahead_clear(read_ahead *a)
{
	for (size_t i = 0; i < a->count; i++)
		free(a->objs[i].data);
	memset(a->objs, 0, sizeof(a->objs));
	a->count = 0;
}

/*
 * Every object of ids into a new pack: files 1 for evidence files (kept in
 * files), 0 for objects held in the record's rows.
 */
static int write_own_pack(rd_mirror *m, rd_evidence_repo *record,
			  const unsigned char *ids, size_t count, int files,
			  char name[RD_OID_BUFSZ], rd_error *err)
{
	read_ahead ahead;
	pack_out p;
	int rc;

	memset(&ahead, 0, sizeof(ahead));
	ahead.err = err;
	if (count > UINT32_MAX)
		return rd_error_set(err, RD_EINVALID, "a pack holds at most "
				    "2^32 - 1 objects");
	if ((rc = pack_start(&p, m, count, 1, files ? "evidence files"
						 : "objects", err)) < 0)
		goto done;
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		git_oid id;
		int64_t size = 0;
		void *data = NULL;
		int found = 0, type = 0, in_file = 0;

		memcpy(id.id, ids + i * GIT_OID_RAWSZ, GIT_OID_RAWSZ);
		if (!files && record->io.get_many &&
		    i % READ_AHEAD == 0) {
			ahead_clear(&ahead);
			ahead.ids = ids + i * GIT_OID_RAWSZ;
			ahead.count = count - i < READ_AHEAD ? count - i
							      : READ_AHEAD;
			if ((rc = record->io.get_many(record->io.ctx,
						      ahead.ids, ahead.count,
						      ahead_keep, &ahead,
						      err)) < 0)
				break;
		}
		if (!files && record->io.get_many) {
			ahead_obj *o = &ahead.objs[i % READ_AHEAD];

			found = o->found;
			type = o->type;
			size = o->size;
			in_file = o->in_file;
			data = o->data;
			o->data = NULL;
		} else if ((rc = record->io.get(record->io.ctx, id.id, &found,
						&type, &size, &in_file,
						files ? NULL : &data,
						err)) < 0) {
			break;
		}
		if (!found || in_file != files ||
		    (files && type != GIT_OBJECT_BLOB) ||
		    (!files && !data && size > 0)) {
			char hex[RD_OID_BUFSZ];

			ev_oid_hex(hex, &id);
			rc = rd_error_set(err, RD_EINTERNAL, "object %s is not "
					  "%s of the record", hex, files
					  ? "an evidence file"
					  : "an object held in the rows");
		} else if (files) {
			rc = pack_file(&p, record, &id, size);
		} else {
			rc = pack_bytes(&p, &id, type, data ? data : "", size);
		}
		free(data);
	}
	if (rc == RD_OK)
		rc = direct_finish(&p, m, name);
done:
	ahead_clear(&ahead);
	pack_free(&p);
	return rc;
}

/* A pack by libgit2's pack builder: each object a delta where one pays. */
static int write_delta_pack(rd_mirror *m, rd_evidence_repo *record,
			    const unsigned char *ids, size_t count,
			    char name[RD_OID_BUFSZ], rd_error *err)
{
	git_packbuilder *pb = NULL;
	pack_feed f;
	int rc;

	if ((rc = feed_open(&f, m, err)) < 0)
		goto done;
	if (git_packbuilder_new(&pb, record->git) < 0) {
		rc = ev_git_fail(err, RD_EIO, "cannot start a pack of the "
				 "mirror");
		goto done;
	}
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
	if (rc == RD_OK && git_packbuilder_foreach(pb, feed, &f) < 0)
		rc = ev_git_fail(err, RD_EIO, "cannot write a pack of %zu "
				 "objects into %s/objects/pack", count,
				 m->path);
	if (rc == RD_OK)
		rc = feed_close(&f, m, count, "objects", name, err);
done:
	feed_free(&f);
	git_packbuilder_free(pb);
	return rc;
}

int rd_mirror_write_pack(rd_mirror *m, rd_evidence_repo *record,
			 const unsigned char *ids, size_t count, int deltas,
			 char name[RD_OID_BUFSZ], rd_error *err)
{
	name[0] = '\0';
	if (count == 0)
		return RD_OK;
	return deltas ? write_delta_pack(m, record, ids, count, name, err)
		      : write_own_pack(m, record, ids, count, 0, name, err);
}

int rd_mirror_write_files_pack(rd_mirror *m, rd_evidence_repo *record,
			       const unsigned char *ids, size_t count,
			       char name[RD_OID_BUFSZ], rd_error *err)
{
	name[0] = '\0';
	if (count == 0)
		return RD_OK;
	return write_own_pack(m, record, ids, count, 1, name, err);
}

/*
 * Merging packs by joining them: every entry of each pack, copied as it is
 * (compressed, and a delta where it is one: an offset delta's base lies
 * before it in the same pack, and a pack copied whole keeps the distance),
 * under one new header and trailer. Nothing is read from the record and
 * nothing is deflated again; the indexer checks every object as ever.
 */
static int join_one(pack_out *p, rd_mirror *m, const char *name,
		    uint32_t *objects)
{
	char path[4096];
	unsigned char head[12];
	struct stat sb;
	off_t left;
	int fd, rc = RD_OK;

	snprintf(path, sizeof(path), "%s/objects/pack/pack-%s.pack", m->path,
		 name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rd_error_set(p->err, RD_EIO, "cannot open %s: %s", path,
				    strerror(errno));
	if (fstat(fd, &sb) != 0 || sb.st_size < 32 ||
	    read(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    memcmp(head, "PACK\0\0\0\2", 8) != 0) {
		close(fd);
		return rd_error_set(p->err, RD_EIO, "%s is not a pack of "
				    "version 2", path);
	}
	*objects = (uint32_t)head[8] << 24 | (uint32_t)head[9] << 16 |
		   (uint32_t)head[10] << 8 | head[11];
	for (left = sb.st_size - 12 - SHA1_DIGEST_SIZE; left > 0 && rc == 0;) {
		ssize_t got = read(fd, p->in, left < FILE_READ ? (size_t)left
							       : FILE_READ);

		if (got <= 0) {
			rc = rd_error_set(p->err, RD_EIO, "cannot read %s: %s",
					  path, got < 0 ? strerror(errno)
							: "shorter than it was");
			break;
		}
		left -= got;
		rc = emit(p, p->in, (size_t)got);
	}
	close(fd);
	return rc;
}

int rd_mirror_join_packs(rd_mirror *m, const char *const *names,
			 size_t count, uint64_t objects,
			 char name[RD_OID_BUFSZ], rd_error *err)
{
	pack_out p;
	uint8_t trailer[SHA1_DIGEST_SIZE];
	uint64_t found = 0;
	int rc;

	name[0] = '\0';
	if (objects == 0 || objects > UINT32_MAX)
		return rd_error_set(err, RD_EINVALID, "a pack holds 1 to "
				    "2^32 - 1 objects, not %llu",
				    (unsigned long long)objects);
	if ((rc = pack_start(&p, m, objects, 0, "objects", err)) < 0)
		goto done;
	for (size_t i = 0; i < count && rc == RD_OK; i++) {
		uint32_t in_pack = 0;

		rc = join_one(&p, m, names[i], &in_pack);
		found += in_pack;
	}
	if (rc == RD_OK && found != objects)
		rc = rd_error_set(err, RD_EINTERNAL, "the packs to join hold "
				  "%llu objects, the record lists %llu",
				  (unsigned long long)found,
				  (unsigned long long)objects);
	if (rc < 0)
		goto done;
	sha1_digest(&p.pack, sizeof(trailer), trailer);
	if (feed(trailer, sizeof(trailer), &p.f) < 0)
		rc = ev_git_fail(err, RD_EIO, "the mirror's indexer refused "
				 "the packs joined");
	else
		rc = feed_close(&p.f, m, (size_t)objects, "objects", name,
				err);
done:
	pack_free(&p);
	return rc;
}

/*
 * A ref is written into a spare file outside refs/ (<mirror>/ref.spare),
 * which then trades places with the ref (renameat2 RENAME_EXCHANGE): a
 * reader sees the old file or the new one, never a part of either, and
 * the old ref's file becomes the next spare. Moving a new file over the
 * ref instead allocated an inode and freed one (with its blocks
 * discarded) a ref, the largest part of a mirror step under load. Where
 * the file system cannot exchange, and for a dispute's first ref, the
 * spare is renamed over the ref and made again next time.
 */
static int write_spare(const char *spare, const char *line, size_t n)
{
	struct stat sb;
	int fd = open(spare, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	int ok;

	if (fd < 0)
		return -1;
	ok = pwrite(fd, line, n, 0) == (ssize_t)n && fstat(fd, &sb) == 0 &&
	     (sb.st_size == (off_t)n || ftruncate(fd, (off_t)n) == 0);
	if (close(fd) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int rd_mirror_pack_ids(rd_mirror *m, const char *name, unsigned char **ids,
		       size_t *count, rd_error *err)
{
	char path[4096];
	unsigned char head[8 + 256 * 4], *more;
	size_t n, room;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "%s/objects/pack/pack-%s.idx", m->path,
		 name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return rd_error_set(err, RD_EIO, "cannot open %s: %s", path,
				    strerror(errno));
	if (read(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    memcmp(head, "\377tOc\0\0\0\2", 8) != 0) {
		close(fd);
		return rd_error_set(err, RD_EIO, "%s is not a pack index of "
				    "version 2", path);
	}
	n = (size_t)head[sizeof(head) - 4] << 24 |
	    (size_t)head[sizeof(head) - 3] << 16 |
	    (size_t)head[sizeof(head) - 2] << 8 | head[sizeof(head) - 1];
	room = (*count + n) * GIT_OID_RAWSZ;
	if (!(more = realloc(*ids, room ? room : 1))) {
		close(fd);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	*ids = more;
	for (size_t done = 0; done < n * GIT_OID_RAWSZ; done += (size_t)got)
		if ((got = read(fd, more + *count * GIT_OID_RAWSZ + done,
				n * GIT_OID_RAWSZ - done)) <= 0) {
			close(fd);
			return rd_error_set(err, RD_EIO, "%s is shorter than "
					    "its %zu objects", path, n);
		}
	close(fd);
	*count += n;
	return RD_OK;
}

int rd_mirror_set_ref(rd_mirror *m, const char *dispute_id, const char *head,
		      rd_error *err)
{
	char path[4096], spare[4096 + 8], line[RD_OID_BUFSZ + 1];
	git_oid id;
	int rc, n;

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
	snprintf(spare, sizeof(spare), "%s/ref.spare", m->path);
	n = snprintf(line, sizeof(line), "%s\n", head);
	if (write_spare(spare, line, (size_t)n) != 0 ||
	    (renameat2(AT_FDCWD, spare, AT_FDCWD, path, RENAME_EXCHANGE) != 0 &&
	     ((errno != ENOENT && errno != EINVAL && errno != ENOSYS) ||
	      rename(spare, path) != 0)))
		return rd_error_set(err, RD_EIO, "cannot move %s in the mirror: "
				    "%s", path, strerror(errno));
	/* a writer killed while moving it with git left its lock file */
	snprintf(spare, sizeof(spare), "%s.lock", path);
	(void)unlink(spare);
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

