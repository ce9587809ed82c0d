/*
 * Who has the data directory open: every rd_service holds a lock on
 * <data>/redress.registry from open to close, shared (flock LOCK_SH) while it
 * works beside others, exclusive (LOCK_EX) while it needs the directory to
 * itself: to remove what dead processes left behind at open, and for
 * `redress reindex`, which replaces the index file under everyone's feet.
 *
 * An ordinary open takes the shared lock at once; only when something
 * needs the directory alone does it try to turn it into an exclusive one,
 * without waiting (two such never wait for each other). A lock dies with
 * its process, so the file never goes stale and is never removed. Who holds
 * it is told by the holder files: <data>/holder-<pid>-<n>, one per open
 * service, each locked by its living process; the command line of such a
 * pid is read from /proc. Naming is only done on a refusal; an open
 * removes the holder files of dead processes (svc_holders_clean), which
 * costs one reading of the data directory's few names.
 */
#include "service_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define REGISTRY_FILE "redress.registry"
#define HOLDER_PREFIX "holder-"

/*
 * An opener holds the lock alone for a moment while it removes leftovers
 * (only when there are some); only a reindex holds it for long. Wait this
 * long for the moment to pass.
 */
#define REGISTRY_WAIT_MS 3000
#define REGISTRY_STEP_MS 2

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* "pid (command line)" of a living process, the command line cut short. */
static void describe_pid(char *out, size_t size, long pid)
{
	char path[64], cmdline[160];
	ssize_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		got = read(fd, cmdline, sizeof(cmdline) - 1);
		close(fd);
	}
	if (got <= 0) {
		snprintf(out, size, "%ld", pid);
		return;
	}
	/* the arguments are NUL-separated; the last NUL ends the line */
	while (got > 0 && cmdline[got - 1] == '\0')
		got--;
	for (ssize_t i = 0; i < got; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
		else if ((unsigned char)cmdline[i] < 0x20)
			cmdline[i] = '?';
	cmdline[got] = '\0';
	snprintf(out, size, "%ld (%s%s)", pid, cmdline,
		 got == (ssize_t)sizeof(cmdline) - 1 ? "..." : "");
}

/*
 * The living processes that have the directory open (by their holder files,
 * this service's own left out),
 * as "pid (command line), ..." in out; "" when none can be named (one may
 * hold the lock before its holder file exists).
 */
static void name_holders_of(char *out, size_t size, const char *data_dir,
			    const char *own_holder)
{
	DIR *dir = opendir(data_dir);
	struct dirent *entry;
	long seen[8];
	size_t seen_count = 0, used = 0, more = 0;

	out[0] = '\0';
	if (!dir)
		return;
	while ((entry = readdir(dir)) != NULL) {
		char path[4096], who[200];
		size_t plen = strlen(HOLDER_PREFIX);
		long pid;
		char *end = NULL;
		int fd, known = 0;

		if (strncmp(entry->d_name, HOLDER_PREFIX, plen) != 0)
			continue;
		pid = strtol(entry->d_name + plen, &end, 10);
		if (pid <= 0 || !end || *end != '-' ||
		    snprintf(path, sizeof(path), "%s/%s", data_dir,
			     entry->d_name) >= (int)sizeof(path) ||
		    (own_holder && strcmp(path, own_holder) == 0))
			continue;
		for (size_t i = 0; i < seen_count; i++)
			known |= seen[i] == pid;
		if (known || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		/* a holder file nobody holds is a dead process's */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			close(fd);
			continue;
		}
		close(fd);
		if (seen_count == sizeof(seen) / sizeof(seen[0])) {
			more++;
			continue;
		}
		seen[seen_count++] = pid;
		describe_pid(who, sizeof(who), pid);
		if (used < size)
			used += (size_t)snprintf(out + used, size - used,
						 "%sprocess %s",
						 used ? ", " : "", who);
	}
	closedir(dir);
	if (more && used < size)
		snprintf(out + used, size - used, " and %zu more", more);
}

static void name_holders(char *out, size_t size, const rd_service *svc)
{
	name_holders_of(out, size, svc->data_dir, svc->holder_path);
}

/*
 * A holder file is renamed into place only once locked, and its name is
 * never used again, so one that nobody holds locked was left by a process
 * that ended without closing (a kill, a crash): remove it, or such files
 * would pile up with every crash.
 */
int svc_holders_clean(rd_service *svc, rd_error *err)
{
	DIR *dir = opendir(svc->data_dir);
	struct dirent *entry;
	int rc = RD_OK;

	if (!dir)
		return rd_error_set(err, RD_EIO, "cannot read %s: %s",
				    svc->data_dir, strerror(errno));
	while (rc == RD_OK && (entry = readdir(dir)) != NULL) {
		char path[4096];
		int fd;

		if (strncmp(entry->d_name, HOLDER_PREFIX,
			    strlen(HOLDER_PREFIX)) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", svc->data_dir,
			     entry->d_name) >= (int)sizeof(path) ||
		    (svc->holder_path &&
		     strcmp(path, svc->holder_path) == 0) ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && unlink(path) != 0 &&
		    errno != ENOENT)
			rc = rd_error_set(err, RD_EIO, "cannot remove the "
					  "leftover %s: %s", path,
					  strerror(errno));
		close(fd);
	}
	closedir(dir);
	return rc;
}

/*
 * Take the shared lock, waiting out another process's moment alone; held
 * alone for longer (a reindex), RD_EBUSY naming the holder.
 */
static int take_shared(rd_service *svc, rd_error *err)
{
	char holders[1024];

	for (long waited = 0; waited < REGISTRY_WAIT_MS;
	     waited += REGISTRY_STEP_MS) {
		if (flock(svc->lock_fd, LOCK_SH | LOCK_NB) == 0)
			return RD_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return rd_error_set(err, RD_EIO,
					    "cannot lock the registry of %s: %s",
					    svc->data_dir, strerror(errno));
		sleep_ms(REGISTRY_STEP_MS);
	}
	name_holders(holders, sizeof(holders), svc);
	return rd_error_set(err, RD_EBUSY,
			    "the data directory %s is held alone by %s "
			    "(a `redress reindex`); try again when it has "
			    "finished",
			    svc->data_dir,
			    holders[0] ? holders : "another redress process");
}

int svc_registry_enter(rd_service *svc, rd_error *err)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/" REGISTRY_FILE, svc->data_dir) >=
	    (int)sizeof(path))
		return rd_error_set(err, RD_EINVALID,
				    "the data directory's path is too long");
	svc->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (svc->lock_fd < 0)
		return rd_error_set(err, RD_EIO, "cannot open %s: %s", path,
				    strerror(errno));
	return take_shared(svc, err);
}

int svc_registry_try_alone(rd_service *svc, int *alone, rd_error *err)
{
	*alone = 0;
	if (flock(svc->lock_fd, LOCK_EX | LOCK_NB) == 0) {
		*alone = 1;
		return RD_OK;
	}
	if (errno != EWOULDBLOCK)
		return rd_error_set(err, RD_EIO,
				    "cannot lock the registry of %s: %s",
				    svc->data_dir, strerror(errno));
	/* a refused conversion drops the shared lock: take it back */
	return take_shared(svc, err);
}

int svc_registry_share(rd_service *svc, rd_error *err)
{
	if (flock(svc->lock_fd, LOCK_SH) != 0)
		return rd_error_set(err, RD_EIO,
				    "cannot share the lock of %s: %s",
				    svc->data_dir, strerror(errno));
	return RD_OK;
}

int svc_registry_alone(rd_service *svc, const char *what, rd_error *err)
{
	char holders[1024];

	int alone = 0, rc;

	if ((rc = svc_registry_try_alone(svc, &alone, err)) < 0 || alone)
		return rc;
	name_holders(holders, sizeof(holders), svc);
	return rd_error_set(err, RD_EBUSY,
			    "%s needs the data directory %s to itself, but %s "
			    "has it open; stop it and try again",
			    what, svc->data_dir,
			    holders[0] ? holders : "another redress process");
}

int svc_registry_hold(const char *data_dir, const char *what, int *fd,
		      rd_error *err)
{
	char path[4096], holders[1024];

	*fd = -1;
	if (snprintf(path, sizeof(path), "%s/" REGISTRY_FILE, data_dir) >=
	    (int)sizeof(path))
		return rd_error_set(err, RD_EINVALID,
				    "the data directory's path is too long");
	/* read-only: holding the lock writes nothing into the directory */
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return RD_OK;  /* never opened by a service */
		return rd_error_set(err, RD_EIO, "cannot open %s: %s", path,
				    strerror(errno));
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return RD_OK;
	if (errno != EWOULDBLOCK) {
		int why = errno;

		close(*fd);
		*fd = -1;
		return rd_error_set(err, RD_EIO, "cannot lock %s: %s", path,
				    strerror(why));
	}
	close(*fd);
	*fd = -1;
	name_holders_of(holders, sizeof(holders), data_dir, NULL);
	return rd_error_set(err, RD_EBUSY,
			    "%s needs the data directory %s to itself, but %s "
			    "has it open; stop it and try again",
			    what, data_dir,
			    holders[0] ? holders : "another redress process");
}

void svc_registry_leave(rd_service *svc)
{
	if (svc->lock_fd >= 0)
		close(svc->lock_fd);
	svc->lock_fd = -1;
}

/*
 * The holder file is created under another name, locked, and only then
 * renamed into place: another process must never find it unlocked and
 * take it for a dead process's.
 */
int svc_holder_open(rd_service *svc, rd_error *err)
{
	struct timespec ts;
	size_t len = strlen(svc->data_dir) + 64;
	char *fresh = NULL;
	int rc = RD_OK;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((svc->holder_path = malloc(len)) == NULL ||
	    (fresh = malloc(len)) == NULL) {
		free(fresh);
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	}
	snprintf(svc->holder_path, len, "%s/" HOLDER_PREFIX "%ld-%ld%09ld",
		 svc->data_dir, (long)getpid(), (long)ts.tv_sec,
		 (long)ts.tv_nsec);
	snprintf(fresh, len, "%s/.new-%ld-%ld%09ld", svc->data_dir,
		 (long)getpid(), (long)ts.tv_sec, (long)ts.tv_nsec);
	svc->holder_fd = open(fresh,
			       O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			       0600);
	if (svc->holder_fd < 0) {
		rc = rd_error_set(err, RD_EIO, "cannot create %s: %s", fresh,
				  strerror(errno));
	} else if (flock(svc->holder_fd, LOCK_EX | LOCK_NB) != 0 ||
		   rename(fresh, svc->holder_path) != 0) {
		rc = rd_error_set(err, RD_EIO, "cannot set up %s: %s",
				  svc->holder_path, strerror(errno));
		unlink(fresh);
	}
	free(fresh);
	return rc;
}

void svc_holder_close(rd_service *svc)
{
	if (svc->holder_fd < 0)
		return;
	unlink(svc->holder_path);
	close(svc->holder_fd);
	svc->holder_fd = -1;
}
