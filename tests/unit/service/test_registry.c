/*
 * The data directory's registry (<data>/redress.registry): a reindex needs the
 * directory to itself and names the processes that have it open (by their
 * holder files, <data>/holder-<pid>-<n>); while one holds it alone, others
 * are refused with its name; a holder file nobody holds is a dead
 * process's and goes at the next open. What a killed writer was writing (an
 * evidence file in <data>/blobs, a pack libgit2 was writing into the
 * mirror) is removed by the first to open the directory when nobody else
 * has it open; while another service has it open, only what nobody has
 * written to for a day.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	RD_TEST_SQLITE_ONLY("reindex rebuilds an embedded record's file");
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_service *other = rd_test_service_open(dir, NULL);
	char me[64];
	size_t count = 9;
	rd_error err;

	CHECK(svc != NULL && other != NULL);
	/* each open service has its holder file */
	CHECK_INT(rd_test_holder_files(dir), 2);
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
	CHECK_INT(rd_test_holder_files(dir), 1);
	CHECK_OK(rd_service_reindex(svc, &count, NULL, NULL, &err), &err);
	CHECK_INT((int)count, 0);
	/* done, the directory is shared again */
	other = rd_test_service_open(dir, NULL);
	CHECK(other != NULL);
	rd_service_close(other);
	rd_service_close(svc);
	CHECK_INT(rd_test_holder_files(dir), 0);
	free(dir);
}

static void held_alone_refuses_others_naming_the_holder(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_service_options opts = rd_test_service_options(dir, NULL);
	rd_service *late = NULL;
	char lock[4096], holder[4096], me[64];
	struct timespec t0, t1;
	int lock_fd, holder_fd;
	rd_error err;

	CHECK(svc != NULL);
	rd_service_close(svc);
	/* what a running reindex holds: the registry alone, and its holder file */
	snprintf(lock, sizeof(lock), "%s/redress.registry", dir);
	snprintf(holder, sizeof(holder), "%s/holder-%ld-1", dir,
		 (long)getpid());
	lock_fd = open(lock, O_RDWR | O_CLOEXEC);
	holder_fd = open(holder, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(lock_fd >= 0 && holder_fd >= 0);
	CHECK_INT(flock(lock_fd, LOCK_EX | LOCK_NB), 0);
	CHECK_INT(flock(holder_fd, LOCK_EX | LOCK_NB), 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_FAILS(rd_service_open(&late, &opts, &err), RD_EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(late == NULL);
	snprintf(me, sizeof(me), "held alone by process %ld (", (long)getpid());
	CHECK_HAS(err.message, me);
	CHECK_HAS(err.message, "try again when it has finished");
	/* it waited out what could have been another opener's moment */
	CHECK(t1.tv_sec - t0.tv_sec >= 2);

	/* the holder ends without closing: its file is left, nobody holds it */
	close(lock_fd);
	close(holder_fd);
	CHECK_INT(rd_test_holder_files(dir), 1);
	svc = rd_test_service_open(dir, NULL);
	CHECK(svc != NULL);
	/* the dead holder's file is gone; only svc's own is there */
	CHECK(access(holder, F_OK) != 0);
	CHECK_INT(rd_test_holder_files(dir), 1);
	rd_service_close(svc);
	CHECK_INT(rd_test_holder_files(dir), 0);
	free(dir);
}

/* A living holder is named, never removed, even when it is not a service. */
static void a_living_holder_file_is_kept(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	char holder[4096];
	int fd;

	CHECK(svc != NULL);
	rd_service_close(svc);
	snprintf(holder, sizeof(holder), "%s/holder-%ld-2", dir,
		 (long)getpid());
	fd = open(holder, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK_INT(flock(fd, LOCK_EX | LOCK_NB), 0);
	svc = rd_test_service_open(dir, NULL);
	CHECK(svc != NULL);
	CHECK_INT(access(holder, F_OK), 0);
	CHECK_INT(rd_test_holder_files(dir), 2);
	rd_service_close(svc);
	CHECK_INT(access(holder, F_OK), 0);
	close(fd);
	unlink(holder);
	free(dir);
}

static void leftovers_removed_when_alone_or_a_day_old(void)
{
	RD_TEST_SQLITE_ONLY("the temporaries of uploads in blobs/: on "
			    "PostgreSQL an upload's bytes go to the database "
			    "(store/test_files covers its abandoned uploads)");
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_service *other = NULL;
	char *blobs = rd_test_path(dir, "blobs");
	char *mirror = rd_test_path(dir, "evidence.git");
	char *packs = rd_test_path(dir, "evidence.git/objects/pack");
	char *nowhere = rd_test_path(dir, "nowhere");
	char *fan = rd_test_path(dir, "blobs/ab");
	rd_mirror_report report;
	size_t removed = 0;
	int64_t bytes = 0;
	rd_error err;

	CHECK(svc != NULL && blobs && mirror && packs && nowhere && fan);
	/* the mirror exists once it has been updated */
	CHECK_OK(rd_service_mirror_update(svc, 1, &report, &err), &err);
	/* evidence files being received, as the blob writer names them */
	CHECK_INT(put(blobs, "upload.tmp-a1B2c3"), 0);
	CHECK_INT(put(blobs, "upload.tmp-0123456789abcdef"), 0);
	/* a pack a killed mirror writer was writing (libgit2's name) */
	CHECK_INT(put(packs, "pack_git2_d4E5f6"), 0);
	/* not temporaries: kept */
	CHECK_INT(put(blobs, "upload.tmp-"), 0);
	CHECK_INT(put(blobs, "upload.tmp-..hidden"), 0);
	CHECK_INT(put(blobs, "upload.other"), 0);
	CHECK_INT(mkdir(fan, 0700), 0);
	CHECK_INT(put(blobs, "ab/upload.tmp-a1B2c3"), 0);

	/* one nobody has written to for two days is a dead writer's */
	CHECK_INT(put(blobs, "upload.tmp-0ld0ld"), 0);
	CHECK_INT(age(blobs, "upload.tmp-0ld0ld", 2 * 86400), 0);
	CHECK_INT(put(packs, "pack_git2_0ld0ld"), 0);
	CHECK_INT(age(packs, "pack_git2_0ld0ld", 2 * 86400), 0);
	CHECK_INT(age(blobs, "upload.tmp-a1B2c3", 3600), 0);

	/* svc has the directory open: the others may be its own */
	other = rd_test_service_open(dir, NULL);
	CHECK(other != NULL);
	rd_service_close(other);
	CHECK(exists(blobs, "upload.tmp-a1B2c3"));
	CHECK(exists(blobs, "upload.tmp-0123456789abcdef"));
	CHECK(exists(packs, "pack_git2_d4E5f6"));
	CHECK(!exists(blobs, "upload.tmp-0ld0ld"));
	CHECK(!exists(packs, "pack_git2_0ld0ld"));

	/* nobody has it open: they are leftovers of a dead writer */
	rd_service_close(svc);
	svc = rd_test_service_open(dir, NULL);
	CHECK(svc != NULL);
	CHECK(!exists(blobs, "upload.tmp-a1B2c3"));
	CHECK(!exists(blobs, "upload.tmp-0123456789abcdef"));
	CHECK(!exists(packs, "pack_git2_d4E5f6"));
	CHECK(exists(blobs, "upload.tmp-"));
	CHECK(exists(blobs, "upload.tmp-..hidden"));
	CHECK(exists(blobs, "upload.other"));
	CHECK(exists(blobs, "ab/upload.tmp-a1B2c3"));
	rd_service_close(svc);

	/* the evidence module's own count */
	CHECK_INT(put(blobs, "upload.tmp-abcdef"), 0);
	CHECK_OK(rd_evidence_leftovers_find(blobs, &removed, &err), &err);
	CHECK_INT((int)removed, 1);
	CHECK(exists(blobs, "upload.tmp-abcdef"));
	CHECK_OK(rd_evidence_leftovers_remove(packs, 0, &removed, &bytes, &err),
		 &err);
	CHECK_INT((int)removed, 0); /* not where temporaries are written */
	CHECK_OK(rd_evidence_leftovers_remove(blobs, 0, &removed, &bytes, &err),
		 &err);
	CHECK_INT((int)removed, 1);
	CHECK_INT((int)bytes, (int)strlen("half an object"));
	CHECK_OK(rd_evidence_leftovers_remove(nowhere, 0, &removed, &bytes, &err),
		 &err);
	CHECK_INT((int)removed, 0);
	free(blobs);
	free(mirror);
	free(packs);
	free(nowhere);
	free(fan);
	free(dir);
}

int main(void)
{
	RUN(reindex_needs_the_directory_alone);
	RUN(held_alone_refuses_others_naming_the_holder);
	RUN(a_living_holder_file_is_kept);
	RUN(leftovers_removed_when_alone_or_a_day_old);
	return rd_test_summary();
}
