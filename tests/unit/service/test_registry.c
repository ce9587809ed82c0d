/*
 * The data directory's registry (<data>/redress.registry): a reindex needs the
 * directory to itself and names the processes that have it open; while
 * one holds it alone, others are refused with its name; what libgit2 was
 * writing is removed by the first to open the directory when nobody else
 * has it open; while another service has it open, only what nobody has
 * written to for a day.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "test.h"

static int exists(const char *dir, const char *name)
{
	char *path = rd_test_path(dir, name);
	struct stat sb;
	int found = path && stat(path, &sb) == 0;

	free(path);
	return found;
}

static int put(const char *dir, const char *name)
{
	char *path = rd_test_path(dir, name);
	int rc = path ? rd_test_write(path, "half an object") : -1;

	free(path);
	return rc;
}

/* Make dir/name look last written `seconds` ago. */
static int age(const char *dir, const char *name, long seconds)
{
	char *path = rd_test_path(dir, name);
	struct timespec times[2];
	int rc;

	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec -= seconds;
	times[1] = times[0];
	rc = path ? utimensat(AT_FDCWD, path, times, 0) : -1;
	free(path);
	return rc;
}

static void reindex_needs_the_directory_alone(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_service *other = rd_test_service_open(dir, NULL);
	char me[64];
	size_t count = 9;
	rd_error err;

	CHECK(svc != NULL && other != NULL);
	/* the other service, though of this very process, has it open */
	CHECK_FAILS(rd_service_reindex(svc, &count, NULL, NULL, &err),
		    RD_EBUSY);
	snprintf(me, sizeof(me), "process %ld (", (long)getpid());
	CHECK_HAS(err.message, "redress reindex needs the data directory");
	CHECK_HAS(err.message, me);
	CHECK_HAS(err.message, "test_registry");
	CHECK_HAS(err.message, "stop it and try again");
	CHECK_INT((int)count, 9);

	rd_service_close(other);
	CHECK_OK(rd_service_reindex(svc, &count, NULL, NULL, &err), &err);
	CHECK_INT((int)count, 0);
	/* done, the directory is shared again */
	other = rd_test_service_open(dir, NULL);
	CHECK(other != NULL);
	rd_service_close(other);
	rd_service_close(svc);
	free(dir);
}

static void held_alone_refuses_others_naming_the_holder(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_service_options opts = rd_test_service_options(dir, NULL);
	rd_service *late = NULL;
	char lock[4096], journal[4096], me[64];
	struct timespec t0, t1;
	int lock_fd, journal_fd;
	rd_error err;

	CHECK(svc != NULL);
	rd_service_close(svc);
	/* what a running reindex holds: the registry alone, and its journal */
	snprintf(lock, sizeof(lock), "%s/redress.registry", dir);
	snprintf(journal, sizeof(journal), "%s/journal-%ld-1", dir,
		 (long)getpid());
	lock_fd = open(lock, O_RDWR | O_CLOEXEC);
	journal_fd = open(journal, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(lock_fd >= 0 && journal_fd >= 0);
	CHECK_INT(flock(lock_fd, LOCK_EX | LOCK_NB), 0);
	CHECK_INT(flock(journal_fd, LOCK_EX | LOCK_NB), 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_FAILS(rd_service_open(&late, &opts, &err), RD_EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(late == NULL);
	snprintf(me, sizeof(me), "held alone by process %ld (", (long)getpid());
	CHECK_HAS(err.message, me);
	CHECK_HAS(err.message, "try again when it has finished");
	/* it waited out what could have been another opener's moment */
	CHECK(t1.tv_sec - t0.tv_sec >= 2);

	close(lock_fd);
	close(journal_fd);
	unlink(journal);
	svc = rd_test_service_open(dir, NULL);
	CHECK(svc != NULL);
	rd_service_close(svc);
	free(dir);
}

static void leftovers_removed_when_alone_or_a_day_old(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_service *other = NULL;
	char *objects = rd_test_path(dir, "evidence.git/objects");
	char *repo = rd_test_path(dir, "evidence.git");
	char *nowhere = rd_test_path(dir, "nowhere.git");
	size_t removed = 0;
	int64_t bytes = 0;
	rd_error err;

	CHECK(svc != NULL && objects && repo && nowhere);
	CHECK_INT(put(objects, "tmp_object_git2_0123456789abcdef"), 0);
	CHECK_INT(put(objects, "pack/pack_git2_a1B2c3"), 0);
	/* not libgit2's temporaries: kept */
	CHECK_INT(put(objects, "tmp_object_git2_"), 0);
	CHECK_INT(put(objects, "tmp_object_git2_..hidden"), 0);
	CHECK_INT(put(objects, "tmp_object_other"), 0);
	CHECK_INT(put(objects, "info/tmp_object_git2_0123456789abcdef"), 0);

	/* one nobody has written to for two days is a dead writer's */
	CHECK_INT(put(objects, "tmp_object_git2_0ld0ld0ld0ld0ld0"), 0);
	CHECK_INT(age(objects, "tmp_object_git2_0ld0ld0ld0ld0ld0", 2 * 86400), 0);
	CHECK_INT(age(objects, "pack/pack_git2_a1B2c3", 3600), 0);

	/* svc has the directory open: the others may be its own */
	other = rd_test_service_open(dir, NULL);
	CHECK(other != NULL);
	rd_service_close(other);
	CHECK(exists(objects, "tmp_object_git2_0123456789abcdef"));
	CHECK(exists(objects, "pack/pack_git2_a1B2c3"));
	CHECK(!exists(objects, "tmp_object_git2_0ld0ld0ld0ld0ld0"));

	/* nobody has it open: they are leftovers of a dead writer */
	rd_service_close(svc);
	svc = rd_test_service_open(dir, NULL);
	CHECK(svc != NULL);
	CHECK(!exists(objects, "tmp_object_git2_0123456789abcdef"));
	CHECK(!exists(objects, "pack/pack_git2_a1B2c3"));
	CHECK(exists(objects, "tmp_object_git2_"));
	CHECK(exists(objects, "tmp_object_git2_..hidden"));
	CHECK(exists(objects, "tmp_object_other"));
	CHECK(exists(objects, "info/tmp_object_git2_0123456789abcdef"));
	rd_service_close(svc);

	/* the evidence module's own count */
	CHECK_INT(put(objects, "tmp_object_git2_abcdef"), 0);
	CHECK_OK(rd_evidence_leftovers_find(repo, &removed, &err), &err);
	CHECK_INT((int)removed, 1);
	CHECK(exists(objects, "tmp_object_git2_abcdef"));
	CHECK_OK(rd_evidence_leftovers_remove(objects, 0, &removed, &bytes, &err),
		 &err);
	CHECK_INT((int)removed, 0); /* objects/ is not a repository */
	CHECK_OK(rd_evidence_leftovers_remove(repo, 0, &removed, &bytes, &err),
		 &err);
	CHECK_INT((int)removed, 1);
	CHECK_INT((int)bytes, (int)strlen("half an object"));
	CHECK_OK(rd_evidence_leftovers_remove(nowhere, 0, &removed, &bytes, &err),
		 &err);
	CHECK_INT((int)removed, 0);
	free(objects);
	free(repo);
	free(nowhere);
	free(dir);
}

int main(void)
{
	RUN(reindex_needs_the_directory_alone);
	RUN(held_alone_refuses_others_naming_the_holder);
	RUN(leftovers_removed_when_alone_or_a_day_old);
	return rd_test_summary();
}
