/*
 * Moving an embedded data directory's record into PostgreSQL (`redress
 * migrate --from DIR --to URI`), every id unchanged.
 *
 * The source is read, never written: its database is opened read-only
 * (so an older schema is refused rather than upgraded), its registry is
 * held alone through a read-only descriptor (no server, sweep or command
 * may have the directory open while it is copied, and none opens it
 * until the copy is done: writes made after the copy would be left
 * behind), and everything is read in one read transaction, so the files
 * and the rows are those of one committed state.
 *
 * Evidence files go first, each streamed from <from>/blobs/ into the
 * target's file tables through rd_store_file_* and checked against its id
 * (the git blob id of its bytes) before it is kept; then every row, in one
 * transaction of the target (rd_store_move). Files commit as they are
 * kept, so a copy that fails after them leaves files that no object names:
 * the target still counts as empty, a second run renews them, and
 * `redress clean` removes them.
 */
#include "service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "redress/store.h"
#include "redress/hex.h"

/* Evidence files listed from the source at a time. */
#define MIGRATE_PAGE 1000

/* The buffer a file is copied through (one chunk of the target's). */
#define MIGRATE_BUFSZ (1024 * 1024)

/*
 * Copy <from>/blobs/<2 hex>/<38 hex> into the target as file `id` of
 * `size` bytes, hashing as it goes: kept only when its bytes are blob
 * `id`.
 */
static int copy_file(rd_store *to, const char *from_dir,
		     const unsigned char id[RD_OID_RAWSZ], int64_t size,
		     unsigned char *buf, rd_error *err)
{
	char hex[41], path[4096], header[48];
	uint8_t digest[SHA1_DIGEST_SIZE];
	struct sha1_ctx sha;
	rd_store_file *f = NULL;
	struct stat sb;
	int64_t copied = 0;
	int fd = -1;
	int n;
	int rc = RD_OK;

	rd_hex_encode(hex, id, RD_OID_RAWSZ);
	if (snprintf(path, sizeof(path), "%s/blobs/%.2s/%s", from_dir, hex,
		     hex + 2) >= (int)sizeof(path))
		return rd_error_set(err, RD_EINVALID, "%s: the path is too "
				    "long", from_dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = rd_error_set(err, RD_EIO, "cannot read the evidence file "
				  "%s: %s", path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &sb) != 0 || sb.st_size != size) {
		rc = rd_error_set(err, RD_EIO, "the evidence file %s holds "
				  "%lld bytes, the record says %lld", path,
				  (long long)sb.st_size, (long long)size);
		goto done;
	}
	if ((rc = rd_store_file_create(to, size, &f, err)) < 0)
		goto done;
	sha1_init(&sha);
	n = snprintf(header, sizeof(header), "blob %lld", (long long)size);
	sha1_update(&sha, (size_t)n + 1, (const uint8_t *)header);
	while (copied < size) {
		size_t want = (size_t)(size - copied < MIGRATE_BUFSZ
					       ? size - copied
					       : MIGRATE_BUFSZ);
		ssize_t got = read(fd, buf, want);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			rc = rd_error_set(err, RD_EIO, "cannot read the "
					  "evidence file %s: %s", path,
					  got < 0 ? strerror(errno)
						  : "it ended early");
			goto done;
		}
		sha1_update(&sha, (size_t)got, buf);
		if ((rc = rd_store_file_append(f, buf, (size_t)got, err)) < 0)
			goto done;
		copied += got;
	}
	sha1_digest(&sha, sizeof(digest), digest);
	if (memcmp(digest, id, RD_OID_RAWSZ) != 0) {
		char found[41];

		rd_hex_encode(found, digest, RD_OID_RAWSZ);
		rc = rd_error_set(err, RD_EIO, "the evidence file %s does not "
				  "hold blob %s: its bytes are blob %s; the "
				  "source is damaged, nothing of its rows was "
				  "copied", path, hex, found);
		goto done;
	}
	rc = rd_store_file_keep(f, id, size, err);
done:
	rd_store_file_free(f);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Every evidence file the source's snapshot names, into the target. */
static int copy_files(rd_store *to, rd_store *from, const char *from_dir,
		      rd_migrate_progress progress, void *ctx,
		      rd_migrate_report *out, rd_error *err)
{
	unsigned char after[RD_OID_RAWSZ];
	unsigned char *ids = NULL;
	unsigned char *buf = NULL;
	size_t count = 0;
	int started = 0;
	int rc = RD_OK;

	if (!(buf = malloc(MIGRATE_BUFSZ)))
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	do {
		if ((rc = rd_store_objects_in_files(from, started ? after
								  : NULL,
						    MIGRATE_PAGE, &ids, &count,
						    err)) < 0)
			goto done;
		for (size_t i = 0; i < count; i++) {
			const unsigned char *id = ids + i * RD_OID_RAWSZ;
			int found = 0, type = 0, in_file = 0;
			int64_t size = 0;

			if ((rc = rd_store_object_get(from, id, &found, &type,
						      &size, &in_file, NULL,
						      err)) < 0)
				goto done;
			if (!found || !in_file)
				continue;
			if ((rc = copy_file(to, from_dir, id, size, buf,
					    err)) < 0)
				goto done;
			out->files++;
			out->file_bytes += size;
			if (progress)
				progress(ctx, (size_t)out->files, 0);
		}
		if (count)
			memcpy(after, ids + (count - 1) * RD_OID_RAWSZ,
			       RD_OID_RAWSZ);
		started = 1;
		free(ids);
		ids = NULL;
	} while (count == MIGRATE_PAGE);
done:
	free(ids);
	free(buf);
	return rc;
}

/* The source: a directory holding redress.db. */
static int check_source(const char *from_dir, char *db_path, size_t size,
			rd_error *err)
{
	struct stat sb;

	if (!from_dir || !*from_dir)
		return rd_error_set_field(err, RD_EUSAGE, "from", "migrate "
					  "needs --from DATA_DIR, the "
					  "embedded data directory to copy");
	if (stat(from_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return rd_error_set_field(err, RD_EINVALID, "from",
					  "%s is not a directory: --from "
					  "names the data directory of an "
					  "embedded record", from_dir);
	if (snprintf(db_path, size, "%s/redress.db", from_dir) >= (int)size)
		return rd_error_set(err, RD_EINVALID, "%s: the path is too "
				    "long", from_dir);
	if (stat(db_path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return rd_error_set_field(err, RD_EINVALID, "from",
					  "%s is not a redress data directory "
					  "(it holds no redress.db)",
					  from_dir);
	return RD_OK;
}

int rd_service_migrate(const char *from_dir, const char *to_target,
		       rd_migrate_progress progress, void *ctx,
		       rd_migrate_report *out, rd_error *err)
{
	char db_path[4096];
	rd_store_move_report moved;
	rd_store *from = NULL;
	rd_store *to = NULL;
	int registry_fd = -1;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_source(from_dir, db_path, sizeof(db_path), err)) < 0)
		return rc;
	if (!to_target || !*to_target)
		return rd_error_set_field(err, RD_EUSAGE, "to", "migrate needs "
					  "--to URI, an empty PostgreSQL "
					  "database (postgresql://...)");
	if (!rd_store_target_is_postgres(to_target))
		return rd_error_set_field(err, RD_EUSAGE, "to",
					  "\"%.64s\" is not a PostgreSQL URI: "
					  "--to names the database to move "
					  "into (postgresql://user@host:port/"
					  "db)", to_target);
	if ((rc = svc_registry_hold(from_dir, "redress migrate",
				    &registry_fd, err)) < 0)
		goto done;
	if ((rc = rd_store_open_readonly(&from, db_path, err)) < 0)
		goto done;
	if ((rc = rd_store_open(&to, to_target, err)) < 0)
		goto done;
	/* before the files: refuse a target that holds a record at once */
	if ((rc = rd_store_move_target_check(to, err)) < 0)
		goto done;
	/* the files and the rows of one committed state */
	if ((rc = rd_store_read_begin(from, err)) < 0)
		goto done;
	if ((rc = copy_files(to, from, from_dir, progress, ctx, out, err)) < 0)
		goto done;
	if ((rc = rd_store_move(to, from, progress, ctx, &moved, err)) < 0)
		goto done;
	out->disputes = moved.disputes;
	out->events = moved.events;
	out->objects = moved.objects;
	out->changes = moved.changes;
	out->keys = moved.keys;
	out->rows = moved.rows;
done:
	if (from)
		rd_store_rollback(from);  /* a read transaction: nothing written */
	rd_store_close(from);
	rd_store_close(to);
	if (registry_fd >= 0)
		close(registry_fd);
	return rc;
}
