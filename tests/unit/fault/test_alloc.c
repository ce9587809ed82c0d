/*
 * Fault injection: the Nth allocation fails, for N = 1, 2, 3... until the
 * operation no longer reaches an Nth allocation and succeeds, through every
 * allocator a write goes through:
 *
 *   - SQLite's, wrapped with SQLITE_CONFIG_MALLOC (src/store/fault.c);
 *   - libgit2's, wrapped with GIT_OPT_SET_ALLOCATOR (src/evidence/fault.c);
 *   - redress's own malloc, calloc, realloc, strdup and strndup, wrapped at
 *     link time for this test binary only (-Wl,--wrap=..., see
 *     tests/CMakeLists.txt); jansson allocates through redress
 *     (rd_json_init, src/core/json.c), so its allocations are among them.
 *
 * One counter runs across all four, so "the Nth allocation" is the Nth of
 * the operation whichever library makes it; exactly that one fails (a few
 * allocations inside libgit2 1.5 whose failure libgit2 itself does not
 * survive are never failed: they are listed below with the reason). After
 * every injected failure the operation must have returned RD_ENOMEM or
 * RD_EIO with a message, and either changed nothing (the index dump, every
 * head of the record, its changes and objects as before) or, when the
 * failure came after the change's transaction committed, have recorded it
 * in full, Idempotency-Key included; the audit verification must find
 * nothing, and the same call without injection must then succeed. At the
 * end the mirror (evidence.git), brought up to the record, holds every
 * head the record holds. Leaks are found by AddressSanitizer's leak check
 * in the sanitizer build.
 *
 * This test must never hold its counter across anything but the one call
 * under test.
 */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence/evidence_fault.h"
#include "redress/json.h"
#include "redress/service.h"
#include "store/store_fault.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
#define KINDS REDRESS_SOURCE_DIR "/evidence/kinds.json"
#define POLICY REDRESS_SOURCE_DIR "/workflows/policy.json"
#define WORKFLOWS REDRESS_SOURCE_DIR "/workflows"

/* ---- the failing allocation ------------------------------------------------ */

static int armed;            /* counting the call under test */
static long seen;            /* allocations the call made so far */
static long fail_at;         /* the one that fails */
static int injected;         /* it was reached */

static int fail_now(size_t size)
{
	(void)size;
	if (!armed)
		return 0;
	if (++seen == fail_at) {
		injected = 1;
		return 1;
	}
	return 0;
}

/*
 * libgit2's test allocator (src/evidence/fault.c) asks first, then calls
 * malloc, which this binary wraps: that call is the same allocation and
 * passes through uncounted.
 */
static int pass_next;

/*
 * Allocations of libgit2 1.5 (Debian 12's) whose failure libgit2 itself
 * does not survive: failing them would test libgit2, not redress, so they
 * are never failed. By libgit2 1.5.1's source lines:
 *
 *   refs.c:42        alloc_ref(): loose_lookup() in refdb_fs.c stores
 *                    its result unchecked and git_refdb_lookup() then
 *                    dereferences NULL (fixed upstream since: "fix(refdb):
 *                    check loose ref allocation failures");
 *   odb.c:1564       git_odb_open_wstream(): the hash context; the
 *                    backend's stream is neither freed nor usable (and
 *                    git_odb_stream_free on it crashes; redress's own
 *                    caller frees it by hand, src/evidence/blob.c);
 *   signature.c:67   git_signature_new(): the name or e-mail copy; the
 *                    signature allocated before is leaked;
 *   odb_loose.c:1020 loose_backend__readstream(): the stream and its hash
 *   odb_loose.c:1023 context; the object's path and the stream before
 *                    them are leaked;
 *   filebuf.c:323,   git_filebuf_open_withsize(): the deflate buffer and
 *   filebuf.c:363    the lock path; the buffers and zlib stream before
 *                    them are leaked;
 *   str.c:86 right   resolve_symlink() in filebuf.c: the copy of the path
 *   after a 4104-    right after its GIT_PATH_MAX + 1 buffer (4104 bytes
 *   byte str.c:86    once rounded), which is then leaked.
 */
static const struct {
	const char *file;
	int line;
} unchecked_in_libgit2[] = {
	{ "refs.c", 42 },
	{ "odb.c", 1564 },
	{ "signature.c", 67 },
	{ "odb_loose.c", 1020 },
	{ "odb_loose.c", 1023 },
	{ "filebuf.c", 323 },
	{ "filebuf.c", 363 },
};

/* 1 when file:line (libgit2's __FILE__, a path) is name:want_line. */
static int site_is(const char *file, int line, const char *name,
		   int want_line)
{
	size_t flen = file ? strlen(file) : 0, nlen = strlen(name);

	return line == want_line && flen >= nlen &&
	       strcmp(file + flen - nlen, name) == 0 &&
	       (flen == nlen || file[flen - nlen - 1] == '/');
}

static int unchecked_site(const char *file, int line)
{
	for (size_t i = 0; i < sizeof(unchecked_in_libgit2) /
			       sizeof(unchecked_in_libgit2[0]); i++)
		if (site_is(file, line, unchecked_in_libgit2[i].file,
			    unchecked_in_libgit2[i].line))
			return 1;
	return 0;
}

/*
 * 1 when libgit2's git_error_set is on the stack: it is growing the
 * thread's error message. libgit2 1.5 leaves a pointer to a static buffer
 * there when that fails, and frees it at shutdown ("free(): invalid
 * pointer"): a libgit2 bug on a path redress cannot check, so that growth
 * is never failed.
 */
static int in_git_error_set(void)
{
	void *frames[16];
	int n = backtrace(frames, 16);

	for (int i = 0; i < n; i++) {
		Dl_info info;

		if (dladdr(frames[i], &info) && info.dli_sname &&
		    strncmp(info.dli_sname, "git_error_", 10) == 0)
			return 1;
	}
	return 0;
}

static int git_fail_now(size_t size, const char *file, int line)
{
	static size_t last_size;
	static int last_in_str;
	int in_str = site_is(file, line, "str.c", 86);
	int fail = !unchecked_site(file, line) &&
		   !(in_str && last_in_str && last_size == 4104) &&
		   !(in_str && in_git_error_set()) &&
		   fail_now(size);

	last_size = size;
	last_in_str = in_str;

	if (fail && getenv("REDRESS_FAULT_VERBOSE"))
		fprintf(stderr, "  libgit2 allocation %ld fails at %s:%d\n",
			seen, file ? file : "?", line);
	pass_next = !fail;
	return fail;
}

static int counted_fail(size_t size)
{
	if (pass_next) {
		pass_next = 0;
		return 0;
	}
	return fail_now(size);
}

static void arm(long n)
{
	seen = 0;
	fail_at = n;
	injected = 0;
	armed = 1;
}

static void disarm(void)
{
	armed = 0;
}

/*
 * redress's own allocations, wrapped by the linker (--wrap=NAME): the
 * linker gives these names, reserved as they are.
 */
/* NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
void *__real_malloc(size_t size);
void *__real_calloc(size_t nelem, size_t elsize);
void *__real_realloc(void *ptr, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t nelem, size_t elsize);
void *__wrap_realloc(void *ptr, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t size)
{
	if (counted_fail(size)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_malloc(size);
}

void *__wrap_calloc(size_t nelem, size_t elsize)
{
	if (counted_fail(nelem * elsize)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(nelem, elsize);
}

void *__wrap_realloc(void *ptr, size_t size)
{
	if (counted_fail(size)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_realloc(ptr, size);
}

char *__wrap_strdup(const char *s)
{
	if (counted_fail(strlen(s) + 1)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	if (counted_fail(n + 1)) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_strndup(s, n);
}
/* NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */

/* ---- the data directory under test ----------------------------------------- */

static const char *example =
	"{\"order_ref\": \"ORD-1\", \"storefront\": \"acme\", \"buyer_ref\": \"b\","
	" \"currency\": \"USD\", \"reason\": \"damaged\", \"channel\": \"chat\","
	" \"items\": [{\"sku\": \"L\", \"title\": \"Lamp\", \"quantity\": 1,"
	" \"unit_price\": 10000, \"unit_cost\": 4000}],"
	" \"shipping_paid\": 1500, \"ship_cost\": 3000, \"return_cost\": 2500}";

static const char transcript[] =
	"2026-03-01 10:02 buyer: the lamp arrived with a cracked base\n"
	"2026-03-01 10:05 agent: sorry to hear it; could you send a photo?\n";

typedef struct fixture {
	char *dir;
	rd_service_options opts;
	rd_service *svc;
	rd_dispute *input;
	rd_actor agent;
	char target[RD_ID_BUFSZ];    /* the dispute the operation works on */
	int64_t target_version;
	int64_t evidence_n;          /* evidence the read operation reads */
	long calls;                  /* for unique Idempotency-Keys */
	char key[48];                /* the last call's Idempotency-Key */
} fixture;

static int fixture_open(fixture *fx)
{
	rd_error err;
	int rc;

	memset(fx, 0, sizeof(*fx));
	if (!(fx->dir = rd_test_tmpdir()))
		return RD_ENOMEM;
	fx->opts.data_dir = fx->dir;
	fx->opts.workflows_dir = WORKFLOWS;
	fx->opts.kinds_path = KINDS;
	fx->opts.policy_path = POLICY;
	fx->opts.create = 1;
	fx->agent.role = RD_ROLE_AGENT;
	snprintf(fx->agent.name, sizeof(fx->agent.name), "alice");
	snprintf(fx->agent.key_id, sizeof(fx->agent.key_id),
		 "00112233aabbccdd");
	if ((rc = rd_service_open(&fx->svc, &fx->opts, &err)) < 0 ||
	    (rc = rd_dispute_parse(&fx->input, example, strlen(example),
				   &err)) < 0)
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fixture_close(fixture *fx)
{
	rd_dispute_free(fx->input);
	rd_service_close(fx->svc);
	if (fx->dir && !getenv("REDRESS_TEST_KEEP"))
		nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx->dir);
	memset(fx, 0, sizeof(*fx));
}

/* Counts the objects the record holds. */
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

/*
 * "ID HEAD\n" for every head of the record, in dispute order, then the
 * number of its changes and objects, into *out (new); an rd status.
 */
static int record_text(rd_store *st, char **out, rd_error *err)
{
	rd_ref_row *rows = NULL;
	char after[RD_ID_BUFSZ] = "";
	char *text = NULL, *more;
	size_t len = 0, count = 0;
	int64_t last = 0;
	long objects = 0;
	int rc;

	*out = NULL;
	do {
		if ((rc = rd_store_refs_after(st, after, 64, &rows, &count,
					      err)) < 0)
			goto done;
		for (size_t i = 0; i < count; i++) {
			size_t add = strlen(rows[i].dispute_id) + 43;

			if (!(more = realloc(text, len + add))) {
				rc = rd_error_set(err, RD_ENOMEM,
						  "out of memory");
				goto done;
			}
			text = more;
			len += (size_t)snprintf(text + len, add, "%s %s\n",
						rows[i].dispute_id,
						rows[i].head);
		}
		if (count)
			snprintf(after, sizeof(after), "%s",
				 rows[count - 1].dispute_id);
		free(rows);
		rows = NULL;
	} while (count == 64);
	if ((rc = rd_store_changes_last(st, &last, err)) < 0 ||
	    (rc = rd_store_objects_of_changes(st, 0, last, count_object,
					      &objects, err)) < 0)
		goto done;
	if (!(more = realloc(text, len + 64))) {
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
		goto done;
	}
	text = more;
	snprintf(text + len, 64, "changes %lld, objects %ld\n",
		 (long long)last, objects);
	*out = text;
	text = NULL;
done:
	free(rows);
	free(text);
	return rc;
}

/* The index dump and the record, as one text (free()); NULL on failure. */
static char *snapshot(fixture *fx)
{
	char *dump = NULL, *record = NULL, *all = NULL;
	rd_error err;
	size_t len;

	if (rd_store_dump(rd_service_store(fx->svc), &dump, &err) < 0 ||
	    record_text(rd_service_store(fx->svc), &record, &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "snapshot: %s", err.message);
		goto done;
	}
	len = strlen(dump) + strlen(record) + 16;
	if ((all = malloc(len)) != NULL)
		snprintf(all, len, "%s--record--\n%s", dump, record);
done:
	free(dump);
	free(record);
	return all;
}

/* "ID HEAD\n" of every dispute ref of a repository on disk (the mirror). */
typedef struct ref_text {
	char *text;
	size_t len;
	rd_evidence_repo *repo;
	rd_error *err;
} ref_text;

static int add_ref(const char *id, void *ctx)
{
	ref_text *rt = ctx;
	char head[RD_OID_BUFSZ];
	int found = 0;
	char *more;
	size_t add = strlen(id) + RD_OID_BUFSZ + 2;
	int rc;

	if ((rc = rd_evidence_head(rt->repo, id, head, &found, rt->err)) < 0)
		return rc;
	if (!(more = realloc(rt->text, rt->len + add)))
		return RD_ENOMEM;
	rt->text = more;
	rt->len += (size_t)snprintf(rt->text + rt->len, add, "%s %s\n", id,
				    found ? head : "-");
	return 0;
}

/*
 * Bring the mirror up to the record; its refs must then be the record's
 * heads, every one.
 */
static void check_mirror(fixture *fx)
{
	rd_mirror_report report;
	rd_evidence_repo *mirror = NULL;
	ref_text rt = { NULL, 0, NULL, NULL };
	char *git = rd_test_path(fx->dir, "evidence.git");
	char *record = NULL, *heads;
	rd_error err;

	rt.err = &err;
	CHECK(git != NULL);
	CHECK_OK(rd_service_mirror_update(fx->svc, 1, &report, &err), &err);
	CHECK_INT(report.position, report.last);
	CHECK_OK(rd_evidence_repo_open(&mirror, git, 0, &err), &err);
	rt.repo = mirror;
	CHECK_OK(rd_evidence_foreach_dispute(mirror, add_ref, &rt, &err),
		 &err);
	rd_evidence_repo_close(mirror);
	CHECK_OK(record_text(rd_service_store(fx->svc), &record, &err), &err);
	/* the heads only, without the counts that follow them */
	heads = strstr(record, "changes ");
	CHECK(heads != NULL);
	*heads = '\0';
	CHECK(record[0] != '\0');   /* the loop left disputes */
	CHECK_STR(rt.text ? rt.text : "", record);
	free(record);
	free(rt.text);
	free(git);
}

/* Findings of the audit verification of `id` (NULL: everything). */
static long findings(fixture *fx, const char *id)
{
	rd_verify_report report;
	rd_error err;
	long count;

	memset(&report, 0, sizeof(report));
	if (rd_service_audit_verify(fx->svc, id, &report, NULL, NULL,
				    &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "verify: %s", err.message);
		return -1;
	}
	for (size_t i = 0; i < report.count; i++)
		fprintf(stderr, "  finding: %s %s: %s\n",
			report.findings[i].dispute_id,
			report.findings[i].check, report.findings[i].detail);
	count = (long)report.count;
	rd_verify_report_free(&report);
	return count;
}

/* Arm the service with a fresh Idempotency-Key, as the HTTP API does. */
static int arm_key(fixture *fx, rd_idem_operation op, rd_error *err)
{
	snprintf(fx->key, sizeof(fx->key), "fault-%ld", ++fx->calls);
	return rd_service_idem_arm(fx->svc, &fx->agent, fx->key,
		"0123456789abcdef0123456789abcdef"
		"0123456789abcdef0123456789abcdef", op, err);
}

/* ---- the operations ---------------------------------------------------------- */

static int do_open(fixture *fx, rd_error *err)
{
	rd_dispute *d = NULL;
	int rc;

	if ((rc = arm_key(fx, RD_IDEM_OPEN, err)) == RD_OK)
		rc = rd_service_dispute_open(fx->svc, fx->input, &fx->agent,
					     T0, &d, err);
	rd_service_idem_disarm(fx->svc);
	if (rc == RD_OK) {
		snprintf(fx->target, sizeof(fx->target), "%s", d->id);
		fx->target_version = d->version;
	}
	rd_dispute_free(d);
	return rc;
}

static int do_event(fixture *fx, rd_error *err)
{
	rd_event_request req = { "investigate", NULL, 0, "called the buyer",
				 fx->target_version };
	rd_dispute *d = NULL;
	int rc;

	if ((rc = arm_key(fx, RD_IDEM_EVENT, err)) == RD_OK)
		rc = rd_service_event_apply(fx->svc, fx->target, &req,
					    &fx->agent, T0 + 60, &d, err);
	rd_service_idem_disarm(fx->svc);
	if (rc == RD_OK)
		fx->target_version = d->version;
	rd_dispute_free(d);
	return rc;
}

static int do_evidence(fixture *fx, rd_error *err)
{
	rd_evidence_submission sub = {
		.kind = "chat_transcript", .channel = "chat",
		.captured_at = T0 - 3600, .note = "the first chat",
		.original_name = "chat.txt",
		.size = (int64_t)sizeof(transcript) - 1,
	};
	rd_evidence_upload *up = NULL;
	rd_evidence_row row;
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = arm_key(fx, RD_IDEM_EVIDENCE, err)) == RD_OK &&
	    (rc = rd_service_evidence_upload_new(&up, fx->svc, fx->target,
						 &sub, &fx->agent, T0 + 120,
						 err)) == RD_OK &&
	    (rc = rd_service_evidence_upload_write(up, transcript,
						   sizeof(transcript) - 1,
						   err)) == RD_OK) {
		rc = rd_service_evidence_upload_finish(up, &row, err);
	}
	rd_service_evidence_upload_free(up);
	rd_service_idem_disarm(fx->svc);
	if (rc == RD_OK) {
		fx->evidence_n = row.n;
		fx->target_version++;
	}
	rd_evidence_row_clear(&row);
	return rc;
}

static int count_bytes(void *ctx, const void *buf, size_t len)
{
	(void)buf;
	*(size_t *)ctx += len;
	return 0;
}

/* Every read a client makes: the dispute, its events, evidence, history. */
static int do_read(fixture *fx, rd_error *err)
{
	rd_dispute *d = NULL;
	rd_event_record *events = NULL;
	rd_evidence_row *rows = NULL;
	rd_commit_info *log = NULL;
	rd_evidence_row row;
	size_t nevents = 0, nrows = 0, nlog = 0, bytes = 0;
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = rd_service_dispute_get(fx->svc, fx->target, &d, err)) < 0 ||
	    (rc = rd_service_events(fx->svc, fx->target, &events, &nevents,
				    err)) < 0 ||
	    (rc = rd_service_evidence_list(fx->svc, fx->target, &rows, &nrows,
					   err)) < 0 ||
	    (rc = rd_service_evidence_get(fx->svc, fx->target, fx->evidence_n,
					  &row, count_bytes, &bytes,
					  err)) < 0 ||
	    (rc = rd_service_audit_log(fx->svc, fx->target, &log, &nlog,
				       err)) < 0)
		goto done;
	if (bytes != sizeof(transcript) - 1 || nrows != 1 || nevents < 2 ||
	    nlog < 3)
		rc = rd_error_set(err, RD_EINTERNAL, "read back the wrong "
				  "things: %zu bytes, %zu evidence, %zu "
				  "events, %zu commits", bytes, nrows,
				  nevents, nlog);
done:
	rd_commit_infos_free(log, nlog);
	rd_evidence_row_clear(&row);
	rd_evidence_rows_free(rows, nrows);
	rd_event_records_free(events, nevents);
	rd_dispute_free(d);
	return rc;
}

/* ---- the loop -------------------------------------------------------------- */

/* Iterations on one data directory before the loop takes a fresh one. */
#define FRESH_EVERY 40

typedef struct fault_op {
	const char *name;
	int (*run)(fixture *fx, rd_error *err);
	/* make fx->target ready for one more run (uninjected); NULL: none */
	int (*prepare)(fixture *fx, rd_error *err);
	int writes;
} fault_op;

static int prepare_opened(fixture *fx, rd_error *err)
{
	return do_open(fx, err);
}

static int prepare_investigating(fixture *fx, rd_error *err)
{
	int rc = do_open(fx, err);

	return rc < 0 ? rc : do_event(fx, err);
}

static int prepare_readable(fixture *fx, rd_error *err)
{
	int rc = prepare_investigating(fx, err);

	return rc < 0 ? rc : do_evidence(fx, err);
}

/* What one loop found. */
typedef struct fault_tally {
	long allocations;    /* the operation's allocations when none fails */
	long failed;         /* injected failures answered with an error */
	long unchanged;      /* ... that changed nothing */
	long completed;      /* ... whose change had committed, in full */
	long absorbed;       /* injected failures the operation survived */
} fault_tally;

static void run_loop(fixture *fx, const fault_op *op, fault_tally *tally)
{
	char *before = NULL, *after = NULL;
	/* a write changes its target: the next run needs a fresh one */
	int renew = op->writes && op->prepare != NULL;
	int need_target = op->prepare != NULL;
	rd_error err;
	int rc;

	memset(tally, 0, sizeof(*tally));
	for (long n = 1;; n++) {
		int changed = 0;

		/*
		 * A fresh data directory now and then, so that the index
		 * dumped twice a run stays small.
		 */
		if (n % FRESH_EVERY == 0) {
			if (findings(fx, NULL) != 0) {
				rd_test_fail(__FILE__, __LINE__, "%s: the "
					     "verification found the above",
					     op->name);
				break;
			}
			fixture_close(fx);
			if (fixture_open(fx) < 0)
				break;
			need_target = op->prepare != NULL;
		}
		if (need_target) {
			CHECK_OK(op->prepare(fx, &err), &err);
			need_target = 0;
		}
		free(before);
		before = snapshot(fx);
		CHECK(before != NULL);
		rd_error_clear(&err);
		arm(n);
		rc = op->run(fx, &err);
		disarm();
		if (!injected) {
			/* the operation made fewer than n allocations */
			if (rc != RD_OK)
				rd_test_fail(__FILE__, __LINE__,
					     "%s failed on its own at n = %ld: "
					     "%d %s", op->name, n, rc,
					     err.message);
			tally->allocations = seen;
			break;
		}
		if (rc == RD_OK) {
			tally->absorbed++;
			need_target = renew;
			if (findings(fx, fx->target) != 0) {
				rd_test_fail(__FILE__, __LINE__, "%s survived "
					     "allocation %ld failing, but the "
					     "verification found the above",
					     op->name, n);
				break;
			}
			continue;
		}
		if (rc != RD_ENOMEM && rc != RD_EIO) {
			rd_test_fail(__FILE__, __LINE__, "%s, allocation %ld "
				     "failing: %d %s", op->name, n, rc,
				     err.message);
			break;
		}
		if (!err.message[0]) {
			rd_test_fail(__FILE__, __LINE__, "%s, allocation %ld "
				     "failing: no message", op->name, n);
			break;
		}
		tally->failed++;
		free(after);
		after = snapshot(fx);
		CHECK(after != NULL);
		if (strcmp(before, after) == 0) {
			tally->unchanged++;
		} else if (op->writes) {
			/*
			 * the change committed before the failure: it is
			 * recorded in full, with its Idempotency-Key, so
			 * that a retry is answered from the record
			 */
			rd_idem_record rec;

			tally->completed++;
			changed = 1;
			need_target = renew;
			if (rd_service_idem_get(fx->svc, &fx->agent, fx->key,
						T0 + 600, &rec, &err) < 0) {
				rd_test_fail(__FILE__, __LINE__, "%s, "
					     "allocation %ld failing: the "
					     "change is in, its key is not: "
					     "%s", op->name, n, err.message);
				break;
			}
			rd_idem_record_clear(&rec);
		} else {
			rd_test_fail(__FILE__, __LINE__, "%s, allocation %ld "
				     "failing, changed the data directory",
				     op->name, n);
			fprintf(stderr, "before:\n%s\nafter:\n%s\n", before,
				after);
			break;
		}
		/* after a change, every dispute: it may be one just opened */
		if (findings(fx, fx->target[0] && !changed ? fx->target
							    : NULL) != 0) {
			rd_test_fail(__FILE__, __LINE__, "%s, allocation %ld "
				     "failing (%s): the verification found "
				     "the above", op->name, n, err.message);
			break;
		}
		if (need_target)
			continue;
		/* the same call without injection works */
		rd_error_clear(&err);
		if ((rc = op->run(fx, &err)) != RD_OK) {
			rd_test_fail(__FILE__, __LINE__, "%s after allocation "
				     "%ld failed: %d %s", op->name, n, rc,
				     err.message);
			break;
		}
		need_target = renew;
	}
	free(before);
	free(after);
	printf("  %-24s %5ld allocations; %5ld failures answered (%ld "
	       "changed nothing, %ld committed before it), %ld survived\n",
	       op->name, tally->allocations, tally->failed, tally->unchanged,
	       tally->completed, tally->absorbed);
	(void)fflush(stdout);  /* progress only */
}

static void check_loop(const fault_op *op)
{
	fixture fx;
	fault_tally tally;

	if (fixture_open(&fx) < 0) {
		fixture_close(&fx);
		return;
	}
	run_loop(&fx, op, &tally);
	if (!rd_test_failed()) {
		CHECK(tally.allocations > 0);
		CHECK(tally.failed > 0);
		CHECK_INT(findings(&fx, NULL), 0);
		check_mirror(&fx);
	}
	fixture_close(&fx);
}

static void opening_a_dispute(void)
{
	static const fault_op op = { "open a dispute", do_open, NULL, 1 };

	check_loop(&op);
}

static void applying_an_event(void)
{
	static const fault_op op = { "apply an event", do_event,
				     prepare_opened, 1 };

	check_loop(&op);
}

static void adding_evidence(void)
{
	static const fault_op op = { "add evidence", do_evidence,
				     prepare_investigating, 1 };

	check_loop(&op);
}

static void reading(void)
{
	static const fault_op op = { "read", do_read, prepare_readable, 0 };

	check_loop(&op);
}

int main(void)
{
	struct stat sb;
	rd_error err;

	/* Before anything uses SQLite, libgit2 or jansson. */
	rd_json_init();
	if (rd_store__fault_alloc(fail_now, &err) < 0 ||
	    rd_evidence__fault_alloc(git_fail_now, &err) < 0) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	/* fsync costs nothing on a tmpfs, and this test commits a lot */
	if (!getenv("TMPDIR") && stat("/dev/shm", &sb) == 0 &&
	    S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK | X_OK) == 0)
		setenv("TMPDIR", "/dev/shm", 1);
	RUN(opening_a_dispute);
	RUN(applying_an_event);
	RUN(adding_evidence);
	RUN(reading);
	return rd_test_summary();
}
