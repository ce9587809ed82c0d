/*
 * Opening and closing the evidence repository, libgit2's process-wide
 * lifetime, and telling what bytes are with libmagic.
 *
 * libgit2 is initialised when the first repository opens and shut down when
 * the last one closes, never while a repository is still open. Opening must
 * never create a repository unless asked to, and never turn a directory
 * holding other files into one.
 */
#include "evidence/evidence_int.h"
#include "evidence/evidence_fault.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redress/hex.h"

/* ---- shared helpers ----------------------------------------------------- */

int ev_git_fail(rd_error *err, int code, const char *fmt, ...)
{
	const git_error *last = git_error_last();
	char what[320];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* the record's own failure (busy, full, out of memory) says more */
	if (ev_io_code) {
		code = ev_io_code;
		ev_io_code = 0;
	}
	/* whatever was being done, no memory is never the caller's fault */
	if (last && last->klass == GIT_ERROR_NOMEMORY)
		code = RD_ENOMEM;
	if (last && last->message && *last->message)
		rc = rd_error_set(err, code, "%s: %s", what, last->message);
	else
		rc = rd_error_set(err, code, "%s", what);
	/* read once: a later failure must not be told this one's cause */
	git_error_clear();
	return rc;
}

int ev_read_code(int git_rc)
{
	return git_rc == GIT_ENOTFOUND ? RD_ENOTFOUND : RD_EIO;
}

static int is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

int ev_oid_parse(git_oid *out, const char *hex, const char *what,
		 rd_error *err)
{
	size_t n = 0;

	if (!hex)
		return rd_error_set_field(err, RD_EINVALID, what,
					  "%s: a commit or blob id is needed",
					  what);
	while (n <= 40 && hex[n] && is_hex_digit(hex[n]))
		n++;
	if (n != 40 || hex[n] != '\0')
		return rd_error_set_field(err, RD_EINVALID, what,
					  "%s: \"%.64s\" is not a git object "
					  "id (40 hex digits)", what, hex);
	if (git_oid_fromstrn(out, hex, 40) < 0)
		return ev_git_fail(err, RD_EINVALID, "%s: \"%s\"", what, hex);
	return RD_OK;
}

void ev_oid_hex(char out[RD_OID_BUFSZ], const git_oid *oid)
{
	git_oid_fmt(out, oid);
	out[RD_OID_BUFSZ - 1] = '\0';
}

void ev_sha256_hex(char out[65], const unsigned char digest[32])
{
	rd_hex_encode(out, digest, 32);
}

/* ---- libgit2's lifetime ------------------------------------------------- */

static pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned library_users;
static int fault_wanted;      /* a test asked for the failing allocator */

/*
 * Count one more user of libgit2, initialising it for the first. The
 * options are process-wide: set them on every initialisation, since a
 * shutdown may forget them.
 */
static int library_acquire(rd_error *err)
{
	int rc = RD_OK;

	pthread_mutex_lock(&library_lock);
	if (library_users == 0) {
		if (git_libgit2_init() < 0) {
			rc = ev_git_fail(err, RD_EIO,
					 "cannot initialise libgit2");
			goto done;
		}
		/*
		 * The record is the database: the mirror makes its writes
		 * durable with one syncfs a pack, not one fsync a file.
		 */
		/*
		 * libgit2's object cache is off. libgit2 1.5 caches an
		 * object twice, read and then parsed; when the cache's
		 * table cannot grow as the parsed object replaces the read
		 * one, it frees the parsed object and hands the caller the
		 * read one in its place, so an allocation failing there
		 * turned a parent tree into garbage and a change was
		 * committed without the files before it (found by
		 * tests/unit/fault/test_alloc.c). The record is a query
		 * away; a change reads three or four objects.
		 */
		if (git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0) < 0 ||
		    git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0) < 0 ||
		    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION,
				     1) < 0) {
			rc = ev_git_fail(err, RD_EIO,
					 "cannot set libgit2's fsync, cache and "
					 "hash verification");
			git_libgit2_shutdown();
			goto done;
		}
		if (fault_wanted && ev_fault_install() < 0) {
			rc = ev_git_fail(err, RD_EINTERNAL, "cannot install "
					 "the test allocator in libgit2");
			git_libgit2_shutdown();
			goto done;
		}
	}
	library_users++;
done:
	pthread_mutex_unlock(&library_lock);
	return rc;
}

static void library_release(void)
{
	pthread_mutex_lock(&library_lock);
	if (library_users > 0 && --library_users == 0)
		git_libgit2_shutdown();
	pthread_mutex_unlock(&library_lock);
}

int rd_evidence__fault_alloc(int (*fail_now)(size_t size, const char *file,
					     int line),
			     rd_error *err)
{
	int rc = RD_OK;

	pthread_mutex_lock(&library_lock);
	ev_fault_set_hook(fail_now);
	fault_wanted = 1;
	if (library_users > 0 && ev_fault_install() < 0)
		rc = ev_git_fail(err, RD_EINTERNAL, "cannot install the test "
				 "allocator in libgit2");
	pthread_mutex_unlock(&library_lock);
	return rc;
}

/* ---- opening ------------------------------------------------------------ */

/* 1 when path names a directory holding nothing, 0 otherwise. */
static int is_empty_directory(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *entry;
	int empty = 1;

	if (!d)
		return 0;
	while ((entry = readdir(d)) != NULL) {
		if (strcmp(entry->d_name, ".") != 0 &&
		    strcmp(entry->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(d);
	return empty;
}

/* Create a bare repository at path, which is missing or an empty directory. */
static int repo_create(rd_evidence_repo *repo, const char *path,
		       rd_error *err)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode) || !is_empty_directory(path))
			return rd_error_set(err, RD_EINVALID,
					    "%s: exists and is not an evidence "
					    "repository; give a new or empty "
					    "directory", path);
	} else if (errno != ENOENT) {
		return rd_error_set(err, RD_EIO, "%s: cannot look at it: %s",
				    path, strerror(errno));
	}
	if (git_repository_init(&repo->git, path, 1) < 0)
		return ev_git_fail(err, RD_EIO,
				   "%s: cannot create the evidence repository",
				   path);
	return RD_OK;
}

int ev_magic_open(rd_evidence_repo *repo, rd_error *err)
{
	repo->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (!repo->magic)
		return rd_error_set(err, RD_EIO,
				    "cannot start libmagic to detect content "
				    "types: %s", strerror(errno));
	if (magic_load(repo->magic, NULL) != 0) {
		const char *why = magic_error(repo->magic);

		return rd_error_set(err, RD_EIO,
				    "cannot load libmagic's database of content "
				    "types: %s", why ? why : "unknown error");
	}
	return RD_OK;
}

int ev_library_acquire(rd_evidence_repo *repo, rd_error *err)
{
	int rc = library_acquire(err);

	if (rc == RD_OK)
		repo->holds_library = 1;
	return rc;
}

int rd_evidence_repo_open(rd_evidence_repo **out, const char *path,
			  int create, rd_error *err)
{
	rd_evidence_repo *repo = NULL;
	int rc, grc;

	if (!out || !path || !*path)
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_repo_open needs an output "
				    "and a path");
	*out = NULL;
	repo = calloc(1, sizeof(*repo));
	if (!repo) {
		rc = rd_error_set(err, RD_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	if ((rc = library_acquire(err)) < 0)
		goto done;
	repo->holds_library = 1;
	if (!(repo->path = strdup(path))) {
		rc = rd_error_set(err, RD_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	grc = git_repository_open_bare(&repo->git, path);
	if (grc == GIT_ENOTFOUND && create) {
		if ((rc = repo_create(repo, path, err)) < 0)
			goto done;
	} else if (grc == GIT_ENOTFOUND) {
		rc = rd_error_set(err, RD_ENOTFOUND,
				  "%s: no evidence repository there", path);
		goto done;
	} else if (grc < 0) {
		rc = ev_git_fail(err, RD_EIO,
				 "%s: cannot open the evidence repository",
				 path);
		goto done;
	}
	if (git_repository_odb(&repo->odb, repo->git) < 0) {
		rc = ev_git_fail(err, RD_EIO,
				 "%s: cannot open the object database", path);
		goto done;
	}
	if ((rc = ev_repo_ready(repo, path, err)) < 0)
		goto done;
	*out = repo;
	repo = NULL;
	rc = RD_OK;
done:
	rd_evidence_repo_close(repo);
	return rc;
}

int ev_repo_ready(rd_evidence_repo *repo, const char *what, rd_error *err)
{
	/*
	 * The identity of ref updates (for a reflog, should one be kept),
	 * set once, so that moving a ref never reads git's configuration:
	 * libgit2 1.5 reading it again can crash when memory runs out.
	 */
	if (git_repository_set_ident(repo->git, "redress", "system@redress") < 0)
		return ev_git_fail(err, RD_EIO, "%s: cannot set the identity "
				   "of ref updates", what);
	return ev_magic_open(repo, err);
}

void rd_evidence_repo_close(rd_evidence_repo *repo)
{
	if (!repo)
		return;
	if (repo->magic)
		magic_close(repo->magic);
	git_odb_free(repo->odb);
	git_repository_free(repo->git);
	ev_cache_free(repo);
	free(repo->path);
	free(repo->blobs);
	if (repo->holds_library)
		library_release();
	free(repo);
}

/* ---- content types ------------------------------------------------------ */

int ev_sniff(rd_evidence_repo *repo, const void *buf, size_t len,
	     char out[128], rd_error *err)
{
	const char *type;

	if (len == 0) {
		snprintf(out, 128, "%s", EV_EMPTY_TYPE);
		return RD_OK;
	}
	if (len > RD_SNIFF_BYTES)
		len = RD_SNIFF_BYTES;
	type = magic_buffer(repo->magic, buf, len);
	if (!type || !*type) {
		const char *why = magic_error(repo->magic);

		out[0] = '\0';
		return rd_error_set(err, RD_EIO,
				    "cannot tell the content type: %s",
				    why ? why : "libmagic gave no answer");
	}
	snprintf(out, 128, "%s", type);
	return RD_OK;
}

int rd_evidence_sniff(rd_evidence_repo *repo, const void *buf, size_t len,
		      char out[128], rd_error *err)
{
	if (!repo || !out || (!buf && len))
		return rd_error_set(err, RD_EINTERNAL,
				    "rd_evidence_sniff needs a repository, "
				    "bytes and an output");
	return ev_sniff(repo, buf, len, out, err);
}

/* ---- leftovers of dead writers ------------------------------------------ */

/*
 * libgit2 names a temporary file (git_futils_mktmp) after its final name,
 * "_git2_" and a random suffix: 16 hex digits in libgit2 1.5, mkstemp's
 * six characters in older releases.
 */
#define EV_TEMP_MARK "_git2_"

static int is_temporary(const char *name, const char *prefix)
{
	/* an evidence file being written: EV_UPLOAD_TEMP and mkstemp's six */
	const char *mark_text = strcmp(prefix, EV_UPLOAD_PREFIX) == 0
		? EV_UPLOAD_MARK : EV_TEMP_MARK;
	size_t plen = strlen(prefix), mark = strlen(mark_text);
	const char *suffix = name + plen + mark;
	size_t slen;

	if (strncmp(name, prefix, plen) != 0 ||
	    strncmp(name + plen, mark_text, mark) != 0)
		return 0;
	slen = strlen(suffix);
	return slen >= 6 && slen <= 32 &&
	       strspn(suffix, "0123456789abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == slen;
}

/*
 * Count (and, when `remove` is set, remove) the temporaries in dir last
 * written before `before` (0: any).
 */
static int scan_temporaries(const char *dir, const char *prefix, int remove,
			    int64_t before, size_t *removed, int64_t *bytes,
			    rd_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *entry;
	int rc = RD_OK;

	if (!d)
		return errno == ENOENT
			? RD_OK
			: rd_error_set(err, RD_EIO, "cannot read %s: %s", dir,
				       strerror(errno));
	while (rc == RD_OK && (entry = readdir(d)) != NULL) {
		char path[4096];
		struct stat sb;

		if (!is_temporary(entry->d_name, prefix) ||
		    snprintf(path, sizeof(path), "%s/%s", dir,
			     entry->d_name) >= (int)sizeof(path) ||
		    lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    (before > 0 && (int64_t)sb.st_mtime >= before))
			continue;
		if (remove && unlink(path) != 0 && errno != ENOENT) {
			rc = rd_error_set(err, RD_EIO,
					  "cannot remove the leftover %s: %s",
					  path, strerror(errno));
			break;
		}
		(*removed)++;
		*bytes += (int64_t)sb.st_size;
	}
	closedir(d);
	return rc;
}

static int leftovers(const char *path, int remove, int64_t before,
		     size_t *removed, int64_t *bytes, rd_error *err)
{
	char objects[4096], pack[4096];
	size_t count = 0;
	int64_t size = 0;
	int rc;

	if (removed)
		*removed = 0;
	if (bytes)
		*bytes = 0;
	if (snprintf(objects, sizeof(objects), "%s/objects", path) >=
		    (int)sizeof(objects) ||
	    snprintf(pack, sizeof(pack), "%s/objects/pack", path) >=
		    (int)sizeof(pack))
		return rd_error_set(err, RD_EINVALID,
				    "the repository path %.64s... is too long",
				    path);
	if ((rc = scan_temporaries(objects, "tmp_object", remove, before,
				   &count, &size, err)) == RD_OK)
		rc = scan_temporaries(pack, "pack", remove, before, &count,
				      &size, err);
	/* the record's evidence files being written, when path is blobs/ */
	if (rc == RD_OK)
		rc = scan_temporaries(path, EV_UPLOAD_PREFIX, remove, before,
				      &count, &size, err);
	if (removed)
		*removed = count;
	if (bytes)
		*bytes = size;
	return rc;
}

int rd_evidence_leftovers_remove(const char *path, int64_t before,
				 size_t *removed, int64_t *bytes,
				 rd_error *err)
{
	return leftovers(path, 1, before, removed, bytes, err);
}

int rd_evidence_leftovers_find(const char *path, size_t *found,
			       rd_error *err)
{
	return leftovers(path, 0, 0, found, NULL, err);
}
