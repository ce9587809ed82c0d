/*
 * ceiling-git: the durable-write ceilings of `make bench`, raw libgit2 with
 * the settings redress uses (GIT_OPT_ENABLE_FSYNC_GITDIR and strict hash
 * verification), no index, no HTTP, no JSON:
 *
 *   ceiling-git commit --repo DIR [--new-refs] --file PATH=TEMPLATE ...
 *                      [--fixed PATH=TEMPLATE ...] [options]
 *       one durable commit per operation, as redress writes one change:
 *       the blobs of the files, the trees from the parent's tree, the
 *       commit, and the ref moved with a compare-and-swap. With --new-refs
 *       each operation starts a new ref (an opened dispute: no parent, the
 *       ref must not exist); otherwise it appends to one of a pool of refs
 *       (an event). A --file is written with the template's size and
 *       bytes, made unique per operation (a counter is written into its
 *       middle); a --fixed file has the same bytes every time (git finds
 *       it already stored, as redress does with workflow.json). "%06u" in
 *       a path becomes the ref's commit number (events/%06u-escalate.json).
 *
 *   ceiling-git blob --repo DIR --size BYTES [options]
 *       one blob of BYTES pseudo-random (incompressible, like a photo)
 *       bytes per operation, streamed in 64 KiB chunks as redress streams
 *       an upload.
 *
 * Options: --seconds S (default 10) of measured time after --warmup W
 * operations per thread (default 3), --threads T (default: the core count;
 * each thread has its own repository, as redress's workers do), --refs R
 * (refs per thread in the pool, default 64), --ops N (stop each thread
 * after N measured operations, for counting system calls). Prints one line:
 *   ops=N seconds=S ops_per_s=X p50_ms=Y p99_ms=Z
 * It must never turn fsync off: a ceiling without durability would not be
 * the machine's ceiling for durable writes.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#define MAX_FILES 8
#define CHUNK (64 * 1024)
#define MAX_SAMPLES (1 << 20)

typedef struct file_spec {
	char path[256];
	unsigned char *bytes;
	size_t len;
	int fixed;
} file_spec;

typedef struct config {
	const char *repo;
	int mode_blob;
	int new_refs;
	file_spec files[MAX_FILES];
	size_t file_count;
	size_t blob_size;
	double seconds;
	unsigned warmup;
	unsigned threads;
	unsigned refs;
	unsigned long ops;        /* > 0: stop each thread after this many */
} config;

typedef struct worker {
	const config *cfg;
	unsigned index;
	pthread_t thread;
	uint64_t ops;
	double *samples;          /* latency of each measured op, ms */
	size_t sample_count;
	int failed;
	char error[512];
} worker;

static pthread_barrier_t start_line;
/* in every ref name, so that runs on one repository never collide */
static unsigned run_id;
static volatile double stop_at;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail_git(worker *w, const char *what)
{
	const git_error *e = git_error_last();

	snprintf(w->error, sizeof(w->error), "%s: %s", what,
		 e && e->message ? e->message : "unknown error");
	w->failed = 1;
	return -1;
}

/* Write a counter into the middle of a template's bytes: unique content. */
static void make_unique(unsigned char *buf, const file_spec *f,
			unsigned thread, uint64_t n)
{
	char mark[32];
	int len;

	memcpy(buf, f->bytes, f->len);
	len = snprintf(mark, sizeof(mark), "%04x%012" PRIx64, thread, n);
	if ((size_t)len <= f->len)
		memcpy(buf + (f->len - (size_t)len) / 2, mark, (size_t)len);
}

/* ---- commits ------------------------------------------------------------- */

/* The path with "%06u" replaced by the commit number. */
static void expand_path(char *out, size_t size, const char *tpl, unsigned seq)
{
	const char *mark = strstr(tpl, "%06u");

	if (!mark) {
		snprintf(out, size, "%s", tpl);
		return;
	}
	snprintf(out, size, "%.*s%06u%s", (int)(mark - tpl), tpl, seq,
		 mark + 4);
}

/*
 * Write the tree `base` (NULL for none) with the files whose path starts
 * with `dir` (of `dir_len` bytes, "" for the root) put in, writing each
 * changed tree once: the same objects as redress's build_tree writes.
 */
static int build_tree(worker *w, git_repository *repo, const git_tree *base,
		      char paths[][256], const git_oid *blobs, size_t count,
		      const char *dir, size_t dir_len, git_oid *out)
{
	git_treebuilder *bld = NULL;
	int rc = -1;

	if (git_treebuilder_new(&bld, repo, base) < 0) {
		fail_git(w, "treebuilder");
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		const char *rest = paths[i] + dir_len;
		const char *slash = strchr(rest, '/');
		char sub_dir[256];
		const git_tree_entry *e;
		git_tree *sub = NULL;
		git_oid sub_oid;
		size_t n;
		int seen = 0;

		if (strncmp(paths[i], dir, dir_len) != 0)
			continue;
		if (!slash) {
			if (git_treebuilder_insert(NULL, bld, rest, &blobs[i],
						   GIT_FILEMODE_BLOB) < 0) {
				fail_git(w, "insert");
				goto done;
			}
			continue;
		}
		/* a subdirectory: once, for its first file */
		n = (size_t)(slash - rest);
		for (size_t j = 0; j < i; j++)
			if (strncmp(paths[j], paths[i], dir_len + n + 1) == 0)
				seen = 1;
		if (seen)
			continue;
		memcpy(sub_dir, paths[i], dir_len + n + 1);
		sub_dir[dir_len + n + 1] = '\0';
		sub_dir[dir_len + n] = '\0';
		e = base ? git_tree_entry_byname(base, sub_dir + dir_len)
			 : NULL;
		if (e && git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0) {
			fail_git(w, "read subtree");
			goto done;
		}
		sub_dir[dir_len + n] = '/';
		rc = build_tree(w, repo, sub, paths, blobs, count, sub_dir,
				dir_len + n + 1, &sub_oid);
		git_tree_free(sub);
		if (rc < 0)
			goto done;
		rc = -1;
		sub_dir[dir_len + n] = '\0';
		if (git_treebuilder_insert(NULL, bld, sub_dir + dir_len,
					   &sub_oid, GIT_FILEMODE_TREE) < 0) {
			fail_git(w, "insert tree");
			goto done;
		}
	}
	if (git_treebuilder_write(out, bld) < 0) {
		fail_git(w, "write tree");
		goto done;
	}
	rc = 0;
done:
	git_treebuilder_free(bld);
	return rc;
}

/*
 * One commit on refs/bench/<run>-<thread>-<slot>: blobs, trees, commit, ref
 * (compare-and-swap from the head read, or created when new).
 */
static int one_commit(worker *w, git_repository *repo, unsigned slot,
		      uint64_t n, unsigned seq, unsigned char *scratch)
{
	const config *cfg = w->cfg;
	char ref[96], message[256];
	char paths[MAX_FILES][256];
	git_oid blobs[MAX_FILES];
	git_signature *author = NULL, *committer = NULL;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_reference *moved = NULL;
	git_oid head, tree_oid, commit_oid;
	git_time_t when = (git_time_t)time(NULL);
	int have_parent = 0, rc = -1;

	snprintf(ref, sizeof(ref), "refs/bench/%08x-%02u-%08u", run_id,
		 w->index, slot);
	if (!cfg->new_refs &&
	    git_reference_name_to_id(&head, repo, ref) == 0) {
		have_parent = 1;
		if (git_commit_lookup(&parent, repo, &head) < 0 ||
		    git_commit_tree(&base, parent) < 0) {
			fail_git(w, "read parent");
			goto done;
		}
	}
	for (size_t i = 0; i < cfg->file_count; i++) {
		const file_spec *f = &cfg->files[i];
		const unsigned char *bytes = f->bytes;

		if (!f->fixed) {
			make_unique(scratch, f, w->index, n);
			bytes = scratch;
		}
		expand_path(paths[i], sizeof(paths[i]), f->path, seq);
		if (git_blob_create_from_buffer(&blobs[i], repo, bytes,
						f->len) < 0) {
			fail_git(w, "write blob");
			goto done;
		}
	}
	if (build_tree(w, repo, base, paths, blobs, cfg->file_count, "", 0,
		       &tree_oid) < 0)
		goto done;
	if (git_tree_lookup(&tree, repo, &tree_oid) < 0) {
		fail_git(w, "read tree");
		goto done;
	}
	if (git_signature_new(&author, "storefront",
			      "storefront.0123456789abcdef@redress", when,
			      0) < 0 ||
	    git_signature_new(&committer, "redress", "redress@localhost",
			      when, 0) < 0) {
		fail_git(w, "signature");
		goto done;
	}
	snprintf(message, sizeof(message),
		 "bench commit %u of %s\n\nRedress-Dispute: %s\n"
		 "Redress-Version: %u\n", seq, ref, ref, seq);
	if (git_commit_create(&commit_oid, repo, NULL, author, committer,
			      NULL, message, tree, have_parent ? 1 : 0,
			      (const git_commit **)&parent) < 0) {
		fail_git(w, "write commit");
		goto done;
	}
	if (git_reference_create_matching(&moved, repo, ref, &commit_oid,
					  have_parent ? 1 : 0,
					  have_parent ? &head : NULL,
					  "bench") < 0) {
		fail_git(w, "move ref");
		goto done;
	}
	rc = 0;
done:
	git_reference_free(moved);
	git_signature_free(author);
	git_signature_free(committer);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	return rc;
}

/* ---- blobs ----------------------------------------------------------------- */

static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static int one_blob(worker *w, git_odb *odb, uint64_t *rng,
		    unsigned char *chunk)
{
	git_odb_stream *stream = NULL;
	size_t left = w->cfg->blob_size;
	git_oid oid;
	int rc = -1;

	if (git_odb_open_wstream(&stream, odb, (git_object_size_t)left,
				 GIT_OBJECT_BLOB) < 0) {
		fail_git(w, "open blob stream");
		goto done;
	}
	while (left > 0) {
		size_t n = left < CHUNK ? left : CHUNK;

		for (size_t i = 0; i + 8 <= n; i += 8) {
			uint64_t r = next_random(rng);

			memcpy(chunk + i, &r, 8);
		}
		if (git_odb_stream_write(stream, (const char *)chunk, n) < 0) {
			fail_git(w, "write blob");
			goto done;
		}
		left -= n;
	}
	if (git_odb_stream_finalize_write(&oid, stream) < 0) {
		fail_git(w, "finish blob");
		goto done;
	}
	rc = 0;
done:
	git_odb_stream_free(stream);
	return rc;
}

/* ---- the workers ------------------------------------------------------------ */

static void *run_worker(void *arg)
{
	worker *w = arg;
	const config *cfg = w->cfg;
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	unsigned char *scratch = NULL;
	unsigned *seqs = NULL;
	size_t scratch_len = CHUNK;
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)w->index << 32) ^
		       (uint64_t)time(NULL);
	uint64_t n = 0;
	int waited = 0;

	for (size_t i = 0; i < cfg->file_count; i++)
		if (cfg->files[i].len > scratch_len)
			scratch_len = cfg->files[i].len;
	if (!(scratch = malloc(scratch_len)) ||
	    !(seqs = calloc(cfg->refs, sizeof(*seqs))) ||
	    !(w->samples = malloc(MAX_SAMPLES * sizeof(double)))) {
		snprintf(w->error, sizeof(w->error), "out of memory");
		w->failed = 1;
		goto done;
	}
	if (git_repository_open_bare(&repo, cfg->repo) < 0 ||
	    git_repository_odb(&odb, repo) < 0) {
		fail_git(w, "open repository");
		goto done;
	}
	/* warm-up, unmeasured: every ref of the pool gets its first commit */
	for (unsigned i = 0;
	     i < (cfg->new_refs || cfg->mode_blob ? cfg->warmup
						  : cfg->warmup + cfg->refs) &&
	     !w->failed;
	     i++) {
		if (cfg->mode_blob) {
			one_blob(w, odb, &rng, scratch);
		} else {
			unsigned slot = cfg->new_refs ? (unsigned)n
						      : i % cfg->refs;

			one_commit(w, repo, slot, n, ++seqs[slot % cfg->refs],
				   scratch);
		}
		n++;
	}
	pthread_barrier_wait(&start_line);
	waited = 1;
	while (!w->failed && now_s() < stop_at &&
	       (!cfg->ops || w->ops < cfg->ops)) {
		double t0 = now_s();
		int rc;

		if (cfg->mode_blob) {
			rc = one_blob(w, odb, &rng, scratch);
		} else {
			unsigned slot = cfg->new_refs ? (unsigned)n
						      : (unsigned)(n % cfg->refs);

			rc = one_commit(w, repo, slot, n,
					++seqs[slot % cfg->refs], scratch);
		}
		if (rc < 0)
			break;
		n++;
		w->ops++;
		if (w->sample_count < MAX_SAMPLES)
			w->samples[w->sample_count++] = (now_s() - t0) * 1e3;
	}
done:
	if (!waited)
		pthread_barrier_wait(&start_line);
	git_odb_free(odb);
	git_repository_free(repo);
	free(scratch);
	free(seqs);
	return NULL;
}

/* ---- arguments -------------------------------------------------------------- */

static int load_template(file_spec *f, const char *arg, int fixed)
{
	const char *eq = strchr(arg, '=');
	FILE *in;
	struct stat st;
	size_t n;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(f->path)) {
		fprintf(stderr, "ceiling-git: %s is not PATH=TEMPLATE\n", arg);
		return -1;
	}
	memcpy(f->path, arg, (size_t)(eq - arg));
	f->path[eq - arg] = '\0';
	f->fixed = fixed;
	if (!(in = fopen(eq + 1, "rb")) || fstat(fileno(in), &st) != 0 ||
	    st.st_size <= 0) {
		fprintf(stderr, "ceiling-git: cannot read %s\n", eq + 1);
		if (in)
			fclose(in);
		return -1;
	}
	f->len = (size_t)st.st_size;
	if (!(f->bytes = malloc(f->len)))
		n = 0;
	else
		n = fread(f->bytes, 1, f->len, in);
	fclose(in);
	if (n != f->len) {
		fprintf(stderr, "ceiling-git: cannot read %s\n", eq + 1);
		return -1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ceiling-git commit --repo DIR [--new-refs] "
		"--file PATH=TEMPLATE... [--fixed PATH=TEMPLATE...] [options]\n"
		"       ceiling-git blob --repo DIR --size BYTES [options]\n"
		"options: --seconds S --warmup N --threads T --refs R "
		"--ops N\n");
	return 2;
}

static int parse_args(config *cfg, int argc, char **argv)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	cfg->seconds = 10;
	cfg->warmup = 3;
	cfg->threads = cores > 0 ? (unsigned)cores : 1;
	cfg->refs = 64;
	if (argc < 2)
		return -1;
	if (strcmp(argv[1], "blob") == 0)
		cfg->mode_blob = 1;
	else if (strcmp(argv[1], "commit") != 0)
		return -1;
	for (int i = 2; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--new-refs") == 0) {
			cfg->new_refs = 1;
			continue;
		}
		if (!val)
			return -1;
		i++;
		if (strcmp(opt, "--repo") == 0) {
			cfg->repo = val;
		} else if (strcmp(opt, "--file") == 0 ||
			   strcmp(opt, "--fixed") == 0) {
			if (cfg->file_count == MAX_FILES ||
			    load_template(&cfg->files[cfg->file_count++], val,
					  opt[2] == 'f' && opt[3] == 'i' &&
						  opt[4] == 'x') < 0)
				return -1;
		} else if (strcmp(opt, "--size") == 0) {
			cfg->blob_size = strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--seconds") == 0) {
			cfg->seconds = strtod(val, NULL);
		} else if (strcmp(opt, "--warmup") == 0) {
			cfg->warmup = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--threads") == 0) {
			cfg->threads = (unsigned)strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--ops") == 0) {
			cfg->ops = strtoul(val, NULL, 10);
		} else if (strcmp(opt, "--refs") == 0) {
			cfg->refs = (unsigned)strtoul(val, NULL, 10);
		} else {
			return -1;
		}
	}
	if (!cfg->repo || cfg->threads < 1 || cfg->refs < 1 ||
	    cfg->seconds <= 0)
		return -1;
	if (cfg->mode_blob ? cfg->blob_size == 0 : cfg->file_count == 0)
		return -1;
	return 0;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	config cfg;
	worker *workers = NULL;
	git_repository *repo = NULL;
	double *all = NULL, started, elapsed;
	size_t total_samples = 0, k = 0;
	uint64_t ops = 0;
	int rc = 1;

	if (parse_args(&cfg, argc, argv) < 0)
		return usage();
	git_libgit2_init();
	if (git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) < 0 ||
	    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1) < 0) {
		fprintf(stderr, "ceiling-git: cannot turn fsync on\n");
		goto done;
	}
	if (git_repository_open_bare(&repo, cfg.repo) < 0 &&
	    git_repository_init(&repo, cfg.repo, 1) < 0) {
		fprintf(stderr, "ceiling-git: cannot open or create %s\n",
			cfg.repo);
		goto done;
	}
	git_repository_free(repo);
	run_id = (unsigned)getpid() ^ (unsigned)time(NULL);
	if (!(workers = calloc(cfg.threads, sizeof(*workers))))
		goto done;
	pthread_barrier_init(&start_line, NULL, cfg.threads + 1);
	stop_at = 1e300;
	for (unsigned i = 0; i < cfg.threads; i++) {
		workers[i].cfg = &cfg;
		workers[i].index = i;
		pthread_create(&workers[i].thread, NULL, run_worker,
			       &workers[i]);
	}
	pthread_barrier_wait(&start_line);
	started = now_s();
	stop_at = started + cfg.seconds;
	for (unsigned i = 0; i < cfg.threads; i++)
		pthread_join(workers[i].thread, NULL);
	elapsed = now_s() - started;
	for (unsigned i = 0; i < cfg.threads; i++) {
		if (workers[i].failed) {
			fprintf(stderr, "ceiling-git: thread %u: %s\n", i,
				workers[i].error);
			goto done;
		}
		ops += workers[i].ops;
		total_samples += workers[i].sample_count;
	}
	if (!ops || !(all = malloc(total_samples * sizeof(double))))
		goto done;
	for (unsigned i = 0; i < cfg.threads; i++)
		for (size_t j = 0; j < workers[i].sample_count; j++)
			all[k++] = workers[i].samples[j];
	qsort(all, k, sizeof(double), compare_doubles);
	printf("ops=%" PRIu64 " seconds=%.2f ops_per_s=%.1f p50_ms=%.2f "
	       "p99_ms=%.2f\n", ops, elapsed, (double)ops / elapsed,
	       all[k / 2], all[(k * 99) / 100]);
	rc = 0;
done:
	if (workers)
		for (unsigned i = 0; i < cfg.threads; i++)
			free(workers[i].samples);
	free(workers);
	free(all);
	for (size_t i = 0; i < cfg.file_count; i++)
		free(cfg.files[i].bytes);
	git_libgit2_shutdown();
	return rc;
}
