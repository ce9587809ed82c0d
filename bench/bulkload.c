/*
 * bulkload: fill a data directory with many disputes for the scale runs of
 * `make bench`, fast, and exactly as redress would have written them.
 *
 * The run script first opens one dispute through redress itself (`redress
 * open`, with REDRESS_NOW fixed): the template. bulkload reads the
 * template's git objects (its commit, root tree, events tree, dispute.json
 * and events/000001-opened.json) and writes `count` copies in which only
 * same-length fields differ: the dispute id (a fresh id from
 * rd_id_generate), the order reference, and the times (the dispute is
 * opened `i` seconds before the template; its SLA deadline moves with it).
 * Every copy's objects are therefore byte for byte what `redress open`
 * writes for that input, which `redress audit verify` checks afterwards.
 * The copies are then imported into the record, with their index rows,
 * by `redress upgrade`, through redress's own code: bulkload writes them
 * as an earlier release kept its record, in evidence.git.
 *
 * It writes the objects into one pack (through libgit2's indexer, which
 * also writes the pack's index) rather than as loose objects: a million
 * disputes are five million objects, which as loose files would take
 * about 20 GB and five million inodes. The refs are written loose, one
 * file per dispute, as redress itself writes them (the default), or all
 * in packed-refs (--packed-refs), which is what `git pack-refs` would
 * leave. Nothing is fsynced one by one: the whole is flushed with one
 * syncfs() at the end, before any measurement starts.
 *
 *   bulkload --data DIR --template ID --count N [--packed-refs]
 *            [--ids FILE]       write every new id to FILE, one a line
 *
 * It must never touch a data directory that a server is using, and never
 * write an object the template does not have the shape of (it checks the
 * shape and every substitution, and stops on any surprise).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <nettle/sha1.h>
#include <jansson.h>
#include <zlib.h>

#include "redress/clock.h"
#include "redress/dispute.h"

#define OUT_CHUNK (1 << 20)
#define ORDER_PREFIX "BENCH-"
#define ORDER_DIGITS 8

/* One object of the template, raw (without git's header). */
typedef struct object {
	git_object_t type;
	unsigned char *data;
	size_t len;
	git_oid oid;
} object;

typedef struct template {
	char id[RD_ID_BUFSZ];
	object commit, root, events, dispute, opened;
	git_oid workflow;              /* shared by every copy */
	char created[RD_TIME_BUFSZ];   /* created_at, e.g. 2026-01-01T00:00:00Z */
	char deadline[RD_TIME_BUFSZ];  /* the SLA deadline's "at" */
	char order_ref[32];            /* BENCH-00000000 */
	int64_t created_s;
	int64_t deadline_after_s;      /* deadline - created */
} template;

/* The pack being written: streamed into libgit2's indexer. */
typedef struct pack {
	git_indexer *indexer;
	git_indexer_progress stats;
	struct sha1_ctx sha;
	unsigned char *buf;
	size_t used;
	z_stream z;
	unsigned char *zbuf;
	size_t zcap;
} pack;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						     noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bulkload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void die_git(const char *what)
{
	const git_error *e = git_error_last();

	fprintf(stderr, "bulkload: %s: %s\n", what,
		e && e->message ? e->message : "unknown error");
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

/* ---- the template ------------------------------------------------------- */

static void read_object(object *out, git_odb *odb, const git_oid *oid)
{
	git_odb_object *obj = NULL;

	if (git_odb_read(&obj, odb, oid) < 0)
		die_git("read a template object");
	out->type = git_odb_object_type(obj);
	out->len = git_odb_object_size(obj);
	out->data = xmalloc(out->len);
	memcpy(out->data, git_odb_object_data(obj), out->len);
	git_oid_cpy(&out->oid, oid);
	git_odb_object_free(obj);
}

/* The entry `name` of a tree, which must be there with the given type. */
static const git_oid *entry(const git_tree *tree, const char *name,
			    git_object_t type)
{
	const git_tree_entry *e = git_tree_entry_byname(tree, name);

	if (!e || git_tree_entry_type(e) != type)
		die("the template has no %s of the expected type", name);
	return git_tree_entry_id(e);
}

/* A string member of the template's dispute.json, at `path` (a.b). */
static void json_string_member(char *out, size_t size, const object *doc,
			       const char *member, const char *sub)
{
	json_error_t error;
	json_t *root = json_loadb((const char *)doc->data, doc->len, 0, &error);
	json_t *value = root ? json_object_get(root, member) : NULL;
	const char *text;

	if (value && sub)
		value = json_object_get(value, sub);
	text = json_string_value(value);
	if (!text || strlen(text) >= size)
		die("the template's dispute.json has no string %s", member);
	snprintf(out, size, "%s", text);
	json_decref(root);
}

static void load_template(template *t, git_repository *repo, const char *id)
{
	char ref[96];
	git_odb *odb = NULL;
	git_oid head;
	git_commit *commit = NULL;
	git_tree *root = NULL, *events = NULL;
	int64_t deadline_s;

	if (!rd_id_valid(id))
		die("%s is not a dispute id", id);
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(ref, sizeof(ref), "refs/disputes/%s", id);
	if (git_reference_name_to_id(&head, repo, ref) < 0)
		die_git("find the template dispute");
	if (git_repository_odb(&odb, repo) < 0 ||
	    git_commit_lookup(&commit, repo, &head) < 0 ||
	    git_commit_tree(&root, commit) < 0)
		die_git("read the template's commit");
	if (git_commit_parentcount(commit) != 0 ||
	    git_tree_entrycount(root) != 3)
		die("the template must be a dispute just opened (one commit: "
		    "dispute.json, events/, workflow.json)");
	read_object(&t->commit, odb, &head);
	read_object(&t->root, odb, git_tree_id(root));
	read_object(&t->dispute, odb,
		    entry(root, "dispute.json", GIT_OBJECT_BLOB));
	git_oid_cpy(&t->workflow,
		    entry(root, "workflow.json", GIT_OBJECT_BLOB));
	if (git_tree_lookup(&events, repo,
			    entry(root, "events", GIT_OBJECT_TREE)) < 0)
		die_git("read the template's events");
	if (git_tree_entrycount(events) != 1)
		die("the template's events/ must hold one event");
	read_object(&t->events, odb, git_tree_id(events));
	read_object(&t->opened, odb,
		    entry(events, "000001-opened.json", GIT_OBJECT_BLOB));

	json_string_member(t->created, sizeof(t->created), &t->dispute,
			   "created_at", NULL);
	json_string_member(t->deadline, sizeof(t->deadline), &t->dispute,
			   "deadline", "at");
	json_string_member(t->order_ref, sizeof(t->order_ref), &t->dispute,
			   "order_ref", NULL);
	if (strlen(t->order_ref) != strlen(ORDER_PREFIX) + ORDER_DIGITS ||
	    strncmp(t->order_ref, ORDER_PREFIX, strlen(ORDER_PREFIX)) != 0)
		die("the template's order_ref must be BENCH- and 8 digits, "
		    "not %s", t->order_ref);
	if (rd_time_parse(&t->created_s, t->created, NULL) < 0 ||
	    rd_time_parse(&deadline_s, t->deadline, NULL) < 0)
		die("the template's times (%s) are not RFC 3339", t->created);
	t->deadline_after_s = deadline_s - t->created_s;
	git_tree_free(events);
	git_tree_free(root);
	git_commit_free(commit);
	git_odb_free(odb);
}

/* ---- copies ------------------------------------------------------------- */

/* Replace every occurrence of `from` by `to` (same length); the count. */
static unsigned replace(unsigned char *buf, size_t len, const void *from,
			const void *to, size_t n)
{
	unsigned count = 0;
	unsigned char *at = buf;

	while ((size_t)(at - buf) + n <= len &&
	       (at = memmem(at, len - (size_t)(at - buf), from, n)) != NULL) {
		memcpy(at, to, n);
		at += n;
		count++;
	}
	return count;
}

static void must(unsigned got, unsigned min, const char *what)
{
	if (got < min)
		die("substitution failed in %s: the template changed shape",
		    what);
}

static void copy_object(object *out, const object *from)
{
	out->type = from->type;
	out->len = from->len;
	memcpy(out->data, from->data, from->len);
}

static void hash(object *o)
{
	if (git_odb_hash(&o->oid, o->data, o->len, o->type) < 0)
		die_git("hash an object");
}

/* The values one copy changes. */
typedef struct copy_values {
	char id[RD_ID_BUFSZ];
	char created[RD_TIME_BUFSZ];
	char deadline[RD_TIME_BUFSZ];
	char order_ref[32];
	char epoch[24];          /* " <seconds> +0000" in the commit */
} copy_values;

static void make_copy(object out[5], const template *t, const copy_values *v,
		      const copy_values *tv)
{
	object *dispute = &out[0], *opened = &out[1], *events = &out[2],
	       *root = &out[3], *commit = &out[4];
	char hex_from[GIT_OID_HEXSZ + 1], hex_to[GIT_OID_HEXSZ + 1];

	copy_object(dispute, &t->dispute);
	must(replace(dispute->data, dispute->len, tv->id, v->id, RD_ID_LEN),
	     1, "dispute.json id");
	must(replace(dispute->data, dispute->len, tv->created, v->created,
		     20), 2, "dispute.json times");
	must(replace(dispute->data, dispute->len, tv->deadline, v->deadline,
		     20), 1, "dispute.json deadline");
	must(replace(dispute->data, dispute->len, tv->order_ref, v->order_ref,
		     strlen(tv->order_ref)), 1, "dispute.json order_ref");
	hash(dispute);

	copy_object(opened, &t->opened);
	must(replace(opened->data, opened->len, tv->created, v->created, 20),
	     1, "opened event time");
	hash(opened);

	copy_object(events, &t->events);
	must(replace(events->data, events->len, t->opened.oid.id,
		     opened->oid.id, GIT_OID_RAWSZ), 1, "events tree");
	hash(events);

	copy_object(root, &t->root);
	must(replace(root->data, root->len, t->dispute.oid.id,
		     dispute->oid.id, GIT_OID_RAWSZ), 1, "root tree");
	must(replace(root->data, root->len, t->events.oid.id, events->oid.id,
		     GIT_OID_RAWSZ), 1, "root tree");
	hash(root);

	copy_object(commit, &t->commit);
	git_oid_tostr(hex_from, sizeof(hex_from), &t->root.oid);
	git_oid_tostr(hex_to, sizeof(hex_to), &root->oid);
	must(replace(commit->data, commit->len, hex_from, hex_to,
		     GIT_OID_HEXSZ), 1, "commit tree");
	must(replace(commit->data, commit->len, tv->id, v->id, RD_ID_LEN), 1,
	     "commit id");
	must(replace(commit->data, commit->len, tv->order_ref, v->order_ref,
		     strlen(tv->order_ref)), 1, "commit order_ref");
	if (strlen(tv->epoch) != strlen(v->epoch))
		die("the time of a copy does not have the template's length");
	must(replace(commit->data, commit->len, tv->epoch, v->epoch,
		     strlen(tv->epoch)), 2, "commit times");
	hash(commit);
}

static void values_of(copy_values *v, const char *id, int64_t created,
		      int64_t deadline, unsigned order)
{
	snprintf(v->id, sizeof(v->id), "%s", id);
	rd_time_format(v->created, created);
	rd_time_format(v->deadline, deadline);
	snprintf(v->order_ref, sizeof(v->order_ref), ORDER_PREFIX "%0*u",
		 ORDER_DIGITS, order);
	snprintf(v->epoch, sizeof(v->epoch), " %" PRId64 " +0000", created);
}

/* ---- the pack ------------------------------------------------------------- */

static void pack_flush(pack *p)
{
	if (!p->used)
		return;
	if (git_indexer_append(p->indexer, p->buf, p->used, &p->stats) < 0)
		die_git("write the pack");
	p->used = 0;
}

static void pack_put(pack *p, const void *data, size_t len)
{
	const unsigned char *bytes = data;

	sha1_update(&p->sha, len, bytes);
	while (len) {
		size_t n = OUT_CHUNK - p->used;

		if (n > len)
			n = len;
		memcpy(p->buf + p->used, bytes, n);
		p->used += n;
		bytes += n;
		len -= n;
		if (p->used == OUT_CHUNK)
			pack_flush(p);
	}
}

static void pack_start(pack *p, const char *pack_dir, uint32_t count)
{
	unsigned char header[12] = { 'P', 'A', 'C', 'K', 0, 0, 0, 2 };

	memset(p, 0, sizeof(*p));
	if (git_indexer_new(&p->indexer, pack_dir, 0, NULL, NULL) < 0)
		die_git("start a pack");
	sha1_init(&p->sha);
	p->buf = xmalloc(OUT_CHUNK);
	p->zcap = 64 * 1024;
	p->zbuf = xmalloc(p->zcap);
	header[8] = (unsigned char)(count >> 24);
	header[9] = (unsigned char)(count >> 16);
	header[10] = (unsigned char)(count >> 8);
	header[11] = (unsigned char)count;
	pack_put(p, header, sizeof(header));
}

/* One object: the type-and-size header, then its deflated bytes. */
static void pack_object(pack *p, const object *o)
{
	unsigned char head[16];
	size_t n = 0, size = o->len;
	uLongf zlen;

	head[n] = (unsigned char)((o->type << 4) | (size & 0x0f));
	size >>= 4;
	while (size) {
		head[n++] |= 0x80;
		head[n] = (unsigned char)(size & 0x7f);
		size >>= 7;
	}
	n++;
	pack_put(p, head, n);
	zlen = compressBound((uLong)o->len);
	if (zlen > p->zcap) {
		free(p->zbuf);
		p->zcap = zlen;
		p->zbuf = xmalloc(p->zcap);
	}
	if (compress2(p->zbuf, &zlen, o->data, (uLong)o->len,
		      Z_DEFAULT_COMPRESSION) != Z_OK)
		die("zlib could not deflate an object");
	pack_put(p, p->zbuf, zlen);
}

static void pack_finish(pack *p)
{
	unsigned char digest[SHA1_DIGEST_SIZE];

	sha1_digest(&p->sha, sizeof(digest), digest);
	pack_flush(p);
	if (git_indexer_append(p->indexer, digest, sizeof(digest),
			       &p->stats) < 0 ||
	    git_indexer_commit(p->indexer, &p->stats) < 0)
		die_git("finish the pack");
	git_indexer_free(p->indexer);
	free(p->buf);
	free(p->zbuf);
}

/* ---- refs ----------------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die("cannot write %s", path);
}

/* ---- main ----------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: bulkload --data DIR --template ID --count N "
		"[--packed-refs] [--ids FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *data = NULL, *template_id = NULL, *ids_path = NULL;
	unsigned long count = 0;
	int packed = 0;
	char git_dir[4096], path[4096 + 128], line[160];
	git_repository *repo = NULL;
	FILE *ids = NULL, *packed_refs = NULL;
	object copy[5];
	copy_values tv, v;
	template t;
	pack p;
	rd_error err;
	double started;
	struct timespec ts;
	int fd;

	for (int i = 1; i < argc; i++) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--packed-refs") == 0) {
			packed = 1;
			continue;
		}
		if (!val)
			return usage();
		i++;
		if (strcmp(argv[i - 1], "--data") == 0)
			data = val;
		else if (strcmp(argv[i - 1], "--template") == 0)
			template_id = val;
		else if (strcmp(argv[i - 1], "--count") == 0)
			count = strtoul(val, NULL, 10);
		else if (strcmp(argv[i - 1], "--ids") == 0)
			ids_path = val;
		else
			return usage();
	}
	if (!data || !template_id || count == 0 || count > 99999999UL)
		return usage();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	started = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;

	git_libgit2_init();
	snprintf(git_dir, sizeof(git_dir), "%s/evidence.git", data);
	if (git_repository_open_bare(&repo, git_dir) < 0)
		die_git("open the evidence repository");
	memset(&t, 0, sizeof(t));
	load_template(&t, repo, template_id);
	values_of(&tv, t.id, t.created_s, 0, 0);
	snprintf(tv.created, sizeof(tv.created), "%s", t.created);
	snprintf(tv.deadline, sizeof(tv.deadline), "%s", t.deadline);
	snprintf(tv.order_ref, sizeof(tv.order_ref), "%s", t.order_ref);
	for (int k = 0; k < 5; k++) {
		const object *o = k == 0 ? &t.dispute : k == 1 ? &t.opened :
				  k == 2 ? &t.events : k == 3 ? &t.root :
				  &t.commit;

		copy[k].data = xmalloc(o->len);
	}
	if (ids_path && !(ids = fopen(ids_path, "w")))
		die("cannot write %s", ids_path);
	if (packed) {
		snprintf(path, sizeof(path), "%s/packed-refs", git_dir);
		if (access(path, F_OK) == 0)
			die("%s exists already", path);
		if (!(packed_refs = fopen(path, "w")) ||
		    fputs("# pack-refs with: peeled fully-peeled sorted \n",
			  packed_refs) < 0)
			die("cannot write %s", path);
	}
	snprintf(path, sizeof(path), "%s/objects/pack", git_dir);
	pack_start(&p, path, (uint32_t)(count * 5));

	rd_error_clear(&err);
	for (unsigned long i = 0; i < count; i++) {
		/* oldest first: ids (time first) then come out sorted */
		int64_t created = t.created_s - (int64_t)(count - i);
		int64_t deadline = created + t.deadline_after_s;
		char id[RD_ID_BUFSZ], hex[GIT_OID_HEXSZ + 1];

		if (rd_id_generate(id, created, &err) < 0)
			die("%s", err.message);
		values_of(&v, id, created, deadline, (unsigned)(i + 1));
		make_copy(copy, &t, &v, &tv);
		for (int k = 0; k < 5; k++)
			pack_object(&p, &copy[k]);
		git_oid_tostr(hex, sizeof(hex), &copy[4].oid);
		if (packed) {
			if (fprintf(packed_refs, "%s refs/disputes/%s\n", hex,
				    id) < 0)
				die("cannot write packed-refs");
		} else {
			snprintf(path, sizeof(path), "%s/refs/disputes/%s",
				 git_dir, id);
			snprintf(line, sizeof(line), "%s\n", hex);
			write_file(path, line);
		}
		if (ids)
			fprintf(ids, "%s\n", id);
		if ((i + 1) % 100000 == 0) {
			fprintf(stderr, "bulkload: %lu disputes\n", i + 1);
			fflush(stderr);
		}
	}
	pack_finish(&p);
	if (packed_refs && fclose(packed_refs) != 0)
		die("cannot write packed-refs");
	if (ids && fclose(ids) != 0)
		die("cannot write %s", ids_path);

	/* everything on disk before anything is measured */
	if ((fd = open(git_dir, O_RDONLY | O_DIRECTORY)) < 0 ||
	    syncfs(fd) != 0)
		die("cannot flush %s to disk", git_dir);
	close(fd);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("disputes=%lu objects=%lu refs=%s seconds=%.1f\n", count,
	       count * 5, packed ? "packed" : "loose",
	       (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - started);
	for (int k = 0; k < 5; k++)
		free(copy[k].data);
	free(t.commit.data);
	free(t.root.data);
	free(t.events.data);
	free(t.dispute.data);
	free(t.opened.data);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return 0;
}
