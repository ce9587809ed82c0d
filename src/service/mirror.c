/*
 * Keeping the mirror (<data>/evidence.git) current from the record: the
 * changes after the mirror's position are written as one pack of the
 * objects they first stored, then each changed dispute's ref is moved to
 * its head, everything is made durable with one syncfs, and only then is
 * the new position recorded. A writer that dies redoes what came after the
 * position: writing a pack twice or a ref to the head it has is harmless.
 *
 * One mirror writer at a time per data directory (<data>/mirror.lock,
 * flock): a server's thread, or a command after its write; the others
 * leave it be. Several data directories may share one record (nodes on
 * PostgreSQL): the record's mirror state (position, packs) describes one
 * mirror, its owner, named by the id in <data>/mirror-id; one process at
 * a time among them writes it, the one
 * holding the record's mirror lead (rd_store_mirror_lead). A data
 * directory that takes the lead with a mirror that is not the owner takes
 * the state over (the outgoing owner's saved, schema 16): its own saved
 * state back when it was the owner before, going on from there, else the
 * state starts again and its mirror is made from the first change. When
 * a node dies, another takes over and catches up. Packs stay few: past MIRROR_FREE_PACKS, when the newest
 * packs break a geometric progression (each at least twice the objects of
 * the next newer one) they are replaced by one pack of their range built
 * again from the record.
 */
#include "service_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdatomic.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "redress/hex.h"
#include "redress/store.h"

/* Changes written into one pack, at most. */
#define MIRROR_STEP_CHANGES 5000

/*
 * Packs left alone before any is merged: each merge writes its objects
 * again, and merging at every step (a pack a step, each the size of the
 * last) would write every object about log2(steps) times.
 */
#define MIRROR_FREE_PACKS 24

/*
 * A merge writes its packs' objects again, which takes seconds at a
 * million objects: it waits until the mirror has caught up with the
 * record, unless the packs pass this many.
 */
#define MIRROR_MAX_PACKS 64

typedef struct id_buf {
	unsigned char *ids;
	size_t count;
	size_t room;
	rd_error *err;
	struct id_buf *files;    /* evidence files go here */
} id_buf;

static int add_id(void *ctx, const unsigned char id[RD_OID_RAWSZ], int type,
		  int64_t size, int in_file)
{
	id_buf *b = ctx;

	(void)type;
	(void)size;
	if (in_file)
		b = b->files;
	if (b->count == b->room) {
		size_t room = b->room ? b->room * 2 : 1024;
		unsigned char *more = realloc(b->ids, room * RD_OID_RAWSZ);

		if (!more)
			return rd_error_set(b->err, RD_ENOMEM, "out of memory");
		b->ids = more;
		b->room = room;
	}
	memcpy(b->ids + b->count * RD_OID_RAWSZ, id, RD_OID_RAWSZ);
	b->count++;
	return 0;
}

static int mirror_path(const rd_service *svc, const char *name, char *out,
		       size_t size, rd_error *err)
{
	if (snprintf(out, size, "%s/%s", svc->data_dir, name) >= (int)size)
		return rd_error_set(err, RD_EINVALID, "the data directory's "
				    "path is too long");
	return RD_OK;
}

/* The mirror lock: *held 0 when another writer has it (wait: 0). */
static int lock_mirror(rd_service *svc, int wait, int *fd, int *held,
		       rd_error *err)
{
	char path[4096];
	int rc;

	*held = 0;
	if ((rc = mirror_path(svc, "mirror.lock", path, sizeof(path),
			      err)) < 0)
		return rc;
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return rd_error_set(err, RD_EIO, "cannot open %s: %s", path,
				    strerror(errno));
	if (flock(*fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) {
		*held = 1;
		return RD_OK;
	}
	if (errno == EWOULDBLOCK)
		return RD_OK;
	return rd_error_set(err, RD_EIO, "cannot lock %s: %s", path,
			    strerror(errno));
}

/*
 * One pack of the objects the changes after `after` up to `upto` first
 * stored, but the evidence files: those go (with_files) into a pack of
 * their own that is kept (.keep) and never merged, so that a merge never
 * writes photos and videos again.
 */
static int write_pack(rd_service *svc, rd_mirror *m, int64_t after,
		      int64_t upto, rd_mirror_pack *pack, rd_error *err)
{
	id_buf files = { NULL, 0, 0, err, NULL };
	id_buf ids = { NULL, 0, 0, err, &files };
	char kept[RD_OID_BUFSZ];
	int rc;

	memset(pack, 0, sizeof(*pack));
	if ((rc = rd_store_objects_of_changes(svc->store, after, upto, add_id,
					      &ids, err)) == RD_OK &&
	    (rc = rd_mirror_write_files_pack(m, svc->repo, files.ids,
					     files.count, kept, err)) == RD_OK &&
	    (!kept[0] || (rc = rd_mirror_keep_pack(m, kept, err)) == RD_OK) &&
	    (rc = rd_mirror_write_pack(m, svc->repo, ids.ids, ids.count, 0,
				       pack->name, err)) == RD_OK) {
		pack->first_change = after + 1;
		pack->last_change = upto;
		pack->objects = (int64_t)ids.count;
		pack->plain = pack->objects;
	}
	free(files.ids);
	free(ids.ids);
	return rc;
}

static int by_dispute_then_seq(const void *a, const void *b)
{
	const rd_change_row *x = a, *y = b;
	int c = strcmp(x->dispute_id, y->dispute_id);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Each changed dispute's ref at its newest head among `changes`. */
static int move_refs(rd_mirror *m, rd_change_row *changes, size_t count,
		     rd_error *err)
{
	int rc = RD_OK;

	qsort(changes, count, sizeof(*changes), by_dispute_then_seq);
	for (size_t i = 0; i < count && rc == RD_OK; i++)
		if (i + 1 == count ||
		    strcmp(changes[i].dispute_id,
			   changes[i + 1].dispute_id) != 0)
			rc = rd_mirror_set_ref(m, changes[i].dispute_id,
					       changes[i].head, err);
	return rc;
}

/*
 * Inside a transaction: RD_ECONFLICT unless the record's mirror state is
 * this service's mirror's (svc->mirror_id; none yet: a mirror being made
 * again, whose owner is recorded after). On PostgreSQL the state's row
 * stays locked until the transaction ends.
 */
static int check_owner(rd_service *svc, rd_error *err)
{
	char owner[64];
	int rc;

	if (!svc->mirror_id[0])
		return RD_OK;
	if ((rc = rd_store_mirror_owner(svc->store, owner, sizeof(owner),
					err)) < 0)
		return rc;
	if (strcmp(owner, svc->mirror_id) != 0)
		return rd_error_set(err, RD_ECONFLICT, "the record's mirror is "
				    "now another data directory's (%s): this "
				    "one (%s) leaves it be", owner,
				    svc->mirror_id);
	return RD_OK;
}

/* Record the position and the packs (added, and those replaced). */
static int record_step(rd_service *svc, int64_t position,
		       const rd_mirror_pack *added,
		       const rd_mirror_pack *replaced, size_t replaced_count,
		       rd_error *err)
{
	int rc;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	rc = check_owner(svc, err);
	for (size_t i = 0; i < replaced_count && rc == RD_OK; i++)
		rc = rd_store_mirror_pack_supersede(svc->store,
						    replaced[i].name,
						    (int64_t)time(NULL), err);
	if (rc == RD_OK && position >= 0)
		rc = rd_store_mirror_position_set(svc->store, position, err);
	if (rc == RD_OK && added && added->name[0])
		rc = rd_store_mirror_pack_add(svc->store, added, err);
	if (rc < 0) {
		rd_store_rollback(svc->store);
		return rc;
	}
	return rd_store_commit(svc->store, err);
}

/*
 * Packs a merge replaced are removed once they have been out of the
 * record's list for this long: a reader (git log, git fsck) that listed
 * them a moment before still finds them meanwhile.
 */
#define MIRROR_PACK_GRACE_S 60

/* Remove the packs a merge replaced more than the grace ago. */
static int drop_superseded(rd_service *svc, rd_mirror *m, rd_error *err)
{
	rd_mirror_pack *list = NULL;
	size_t count = 0;
	int rc;

	if ((rc = rd_store_mirror_packs_superseded(svc->store,
			(int64_t)time(NULL) - MIRROR_PACK_GRACE_S, &list,
			&count, err)) < 0)
		return rc;
	for (size_t i = 0; i < count && rc == RD_OK; i++)
		if ((rc = rd_mirror_drop_pack(m, list[i].name, err)) == RD_OK &&
		    (rc = rd_store_begin(svc->store, err)) == RD_OK) {
			if ((rc = rd_store_mirror_pack_remove(svc->store,
							      list[i].name,
							      err)) < 0)
				rd_store_rollback(svc->store);
			else
				rc = rd_store_commit(svc->store, err);
		}
	free(list);
	return rc;
}

/*
 * Packs of `list` from `first` on joined into one (rd_mirror_join_packs):
 * the same objects, copied as they are.
 */
static int join_packs(rd_mirror *m, const rd_mirror_pack *list,
		      size_t first, size_t count, rd_mirror_pack *merged,
		      rd_error *err)
{
	const char **names = calloc(count - first, sizeof(*names));
	int64_t objects = 0;
	int rc;

	memset(merged, 0, sizeof(*merged));
	if (!names)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	for (size_t i = first; i < count; i++) {
		names[i - first] = list[i].name;
		objects += list[i].objects;
		merged->plain += list[i].plain;
	}
	rc = rd_mirror_join_packs(m, names, count - first, (uint64_t)objects,
				  merged->name, err);
	if (rc == RD_OK) {
		merged->first_change = list[first].first_change;
		merged->last_change = list[count - 1].last_change;
		merged->objects = objects;
	}
	free(names);
	return rc;
}

/*
 * Packs of `list` from `first` on written again as one, with deltas: the
 * objects their indexes list, read from the record. (Not the objects of
 * their range of changes: a range may span changes whose objects the
 * mirror holds elsewhere, such as those an upgrade imported.)
 */
static int rebuild_packs(rd_service *svc, rd_mirror *m,
			 const rd_mirror_pack *list, size_t first,
			 size_t count, rd_mirror_pack *merged, rd_error *err)
{
	unsigned char *ids = NULL;
	size_t n = 0;
	int64_t objects = 0;
	int rc = RD_OK;

	memset(merged, 0, sizeof(*merged));
	for (size_t i = first; i < count && rc == RD_OK; i++) {
		objects += list[i].objects;
		rc = rd_mirror_pack_ids(m, list[i].name, &ids, &n, err);
	}
	if (rc == RD_OK && (int64_t)n != objects)
		rc = rd_error_set(err, RD_EINTERNAL, "the mirror's packs to "
				  "merge hold %zu objects, the record lists "
				  "%lld", n, (long long)objects);
	if (rc == RD_OK &&
	    (rc = rd_mirror_write_pack(m, svc->repo, ids, n, 1, merged->name,
				       err)) == RD_OK) {
		merged->first_change = list[first].first_change;
		merged->last_change = list[count - 1].last_change;
		merged->objects = objects;
	}
	free(ids);
	return rc;
}

/*
 * When the newest packs break the geometric progression, one pack of
 * their range replaces them. While fewer than half of their objects were
 * written with no search for deltas (plain), the packs are joined as they
 * are (cheap: nothing read from the record, nothing deflated again);
 * otherwise their objects are written again from the record with deltas. Each
 * such write makes at least as many plain objects delta-searched as it
 * writes again, so the costly search runs about twice an object in all,
 * however many merges it goes through, and at least half of every merged
 * pack is stored as compactly as git would. A range of fewer than
 * svc->mirror_delta_min objects (RD_MIRROR_DELTA_MIN) is always joined:
 * the search waits until it is worth the room it saves, out of the way of
 * short bursts. A join that fails (a pack missing from the mirror) writes
 * the objects from the record instead.
 */
#define JOIN_BELOW_PLAIN(plain, objects) ((plain) * 2 < (objects))
static int compact(rd_service *svc, rd_mirror *m, size_t *packs,
		   rd_error *err)
{
	rd_mirror_pack *list = NULL, merged;
	size_t count = 0, first;
	int64_t total, plain;
	int rc;

	if ((rc = drop_superseded(svc, m, err)) < 0 ||
	    (rc = rd_store_mirror_packs(svc->store, &list, &count, err)) < 0)
		return rc;
	*packs = count;
	if (count <= MIRROR_FREE_PACKS)
		goto done;
	first = count - 1;
	total = list[first].objects;
	plain = list[first].plain;
	while (first > 0 && list[first - 1].objects < 2 * total) {
		first--;
		total += list[first].objects;
		plain += list[first].plain;
	}
	if (first == count - 1)
		goto done;
	rc = RD_EIO;
	if (JOIN_BELOW_PLAIN(plain, total) || total < svc->mirror_delta_min)
		rc = join_packs(m, list, first, count, &merged, err);
	if (rc < 0)
		rc = rebuild_packs(svc, m, list, first, count, &merged, err);
	if (rc < 0 ||
	    (rc = rd_mirror_sync(m, err)) < 0 ||
	    (rc = record_step(svc, -1, &merged, list + first, count - first,
			      err)) < 0)
		goto done;
	/* the packs replaced go later (drop_superseded): a reader may have
	 * listed them */
	*packs = first + 1;
done:
	free(list);
	return rc;
}

/* compact() under the merge lock, or nothing when another merger has it. */
static int compact_locked(rd_service *svc, rd_mirror *m, size_t *packs,
			  rd_error *err)
{
	char lock[4096];
	int fd, rc;

	if ((rc = mirror_path(svc, "mirror-compact.lock", lock, sizeof(lock),
			      err)) < 0)
		return rc;
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return rd_error_set(err, RD_EIO, "cannot open %s: %s", lock,
				    strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		rc = compact(svc, m, packs, err);
	close(fd);
	return rc;
}

static int count_packs(rd_service *svc, size_t *packs, rd_error *err)
{
	rd_mirror_pack *list = NULL;
	int rc = rd_store_mirror_packs(svc->store, &list, packs, err);

	free(list);
	return rc;
}

/* A mirror that is gone starts again from the first change. */
static int open_mirror(rd_service *svc, rd_mirror **m, rd_error *err)
{
	char path[4096];
	struct stat sb;
	int rc;

	if ((rc = mirror_path(svc, "evidence.git", path, sizeof(path),
			      err)) < 0)
		return rc;
	if (stat(path, &sb) != 0 && errno == ENOENT &&
	    (rc = record_step(svc, 0, NULL, NULL, 0, err)) == RD_OK &&
	    (rc = rd_store_begin(svc->store, err)) == RD_OK) {
		if ((rc = rd_store_mirror_pack_remove(svc->store, NULL,
						      err)) < 0) {
			rd_store_rollback(svc->store);
			return rc;
		}
		rc = rd_store_commit(svc->store, err);
	}
	if (rc < 0)
		return rc;
	return rd_mirror_open(m, path, 1, err);
}

/* The id of the data directory's mirror. */
#define MIRROR_ID_FILE "mirror-id"

/* The id of this data directory's mirror into out ("": none yet). */
static int mirror_id_read(rd_service *svc, char out[33], rd_error *err)
{
	char path[4096], text[40];
	ssize_t n;
	int fd, rc;

	out[0] = '\0';
	if ((rc = mirror_path(svc, MIRROR_ID_FILE, path, sizeof(path),
			      err)) < 0)
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT
			? RD_OK
			: rd_error_set(err, RD_EIO, "cannot open %s: %s", path,
				       strerror(errno));
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 32 || strspn(text, "0123456789abcdef") < 32)
		return RD_OK;  /* cut short: the mirror is made again */
	memcpy(out, text, 32);
	out[32] = '\0';
	return RD_OK;
}

/* Give this data directory's mirror a new id (durably) in svc->mirror_id. */
static int mirror_id_new(rd_service *svc, rd_error *err)
{
	char path[4096], temp[4200], id[34];
	const char *dir = svc->data_dir;
	uint8_t bytes[16];
	int fd, rc;

	if ((rc = mirror_path(svc, MIRROR_ID_FILE, path, sizeof(path),
			      err)) < 0 ||
	    (rc = rd_random_bytes(bytes, sizeof(bytes), err)) < 0)
		return rc;
	rd_hex_encode(id, bytes, sizeof(bytes));
	id[32] = '\n';
	snprintf(temp, sizeof(temp), "%s.tmp", path);
	if ((fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0644)) < 0 ||
	    write(fd, id, 33) != 33 || fsync(fd) != 0 ||
	    rename(temp, path) != 0) {
		rc = rd_error_set(err, RD_EIO, "cannot write %s: %s", path,
				  strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	memcpy(svc->mirror_id, id, 32);
	svc->mirror_id[32] = '\0';
	return RD_OK;
}

/* Record this mirror as the one the record's mirror state describes. */
static int owner_set(rd_service *svc, rd_error *err)
{
	int rc;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_mirror_owner_set(svc->store, svc->mirror_id,
					    err)) < 0) {
		rd_store_rollback(svc->store);
		return rc;
	}
	return rd_store_commit(svc->store, err);
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw);

int svc_mirror_is_owner(rd_service *svc, int *owner, rd_error *err)
{
	char recorded[64];
	int rc;

	*owner = 0;
	if ((rc = mirror_id_read(svc, svc->mirror_id, err)) < 0 ||
	    (rc = rd_store_mirror_owner(svc->store, recorded,
					sizeof(recorded), err)) < 0)
		return rc;
	/* unclaimed: the state of a release before owners, this one's */
	*owner = !recorded[0] || strcmp(recorded, svc->mirror_id) == 0;
	return RD_OK;
}

/* Take the record's mirror state for this mirror (*resumed: its own back). */
static int take_state(rd_service *svc, int *resumed, rd_error *err)
{
	int rc;

	if ((rc = rd_store_begin(svc->store, err)) < 0)
		return rc;
	if ((rc = rd_store_mirror_take(svc->store, svc->mirror_id, resumed,
				       err)) < 0) {
		rd_store_rollback(svc->store);
		return rc;
	}
	return rd_store_commit(svc->store, err);
}

/*
 * Open this data directory's mirror as the record's (the lead held): the
 * owner already (a mirror that is gone starts again from the first
 * change), or one of a release before owners, which claims the state as it
 * is. Otherwise it takes the state over: its own saved state back when it
 * was the owner before and its mirror is still there (it goes on from
 * where it was), else the state starts again and the mirror is made again
 * from the first change.
 */
static int claim_and_open(rd_service *svc, rd_mirror **m, rd_error *err)
{
	char path[4096], recorded[64];
	struct stat sb;
	int exists, resumed = 0, rc;

	if ((rc = mirror_path(svc, "evidence.git", path, sizeof(path),
			      err)) < 0 ||
	    (rc = mirror_id_read(svc, svc->mirror_id, err)) < 0 ||
	    (rc = rd_store_mirror_owner(svc->store, recorded,
					sizeof(recorded), err)) < 0)
		return rc;
	exists = stat(path, &sb) == 0;
	if (svc->mirror_id[0] && strcmp(recorded, svc->mirror_id) == 0)
		return open_mirror(svc, m, err);
	if (!svc->mirror_id[0] && !recorded[0] && exists) {
		if ((rc = mirror_id_new(svc, err)) < 0 ||
		    (rc = owner_set(svc, err)) < 0)
			return rc;
		return open_mirror(svc, m, err);
	}
	if ((!svc->mirror_id[0] && (rc = mirror_id_new(svc, err)) < 0) ||
	    (rc = take_state(svc, &resumed, err)) < 0)
		return rc;
	/* made again: open_mirror starts the state again for a missing one */
	if (exists && !resumed &&
	    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
	    errno != ENOENT)
		return rd_error_set(err, RD_EIO, "cannot remove %s to make it "
				    "again as the record's mirror: %s", path,
				    strerror(errno));
	return open_mirror(svc, m, err);
}

static int step(rd_service *svc, rd_mirror *m, size_t max_changes,
		int compact_here, rd_mirror_report *r, rd_error *err)
{
	rd_change_row *changes = NULL;
	rd_mirror_pack pack;
	size_t count = 0;
	int64_t position = 0, upto;
	int rc;

	if ((rc = rd_store_mirror_position(svc->store, &position, err)) < 0 ||
	    (rc = rd_store_changes_after(svc->store, position, max_changes,
					 &changes, &count, err)) < 0 ||
	    (rc = count_packs(svc, &r->packs, err)) < 0)
		return rc;
	r->position = position;
	if (count == 0)
		goto done;
	upto = changes[count - 1].commit;
	if ((rc = write_pack(svc, m, position, upto, &pack, err)) < 0 ||
	    (rc = move_refs(m, changes, count, err)) < 0 ||
	    (rc = rd_mirror_sync(m, err)) < 0 ||
	    (rc = record_step(svc, upto, &pack, NULL, 0, err)) < 0)
		goto done;
	r->position = upto;
	r->changes += count;
	r->objects += (size_t)pack.objects;
	r->packs++;
	if (compact_here &&
	    (rc = rd_store_changes_last(svc->store, &r->last, err)) == RD_OK &&
	    (r->last == upto || r->packs > MIRROR_MAX_PACKS))
		rc = compact_locked(svc, m, &r->packs, err);
done:
	free(changes);
	return rc;
}

/*
 * A writer that finds the mirror's lock held leaves its change to the
 * holder (it does not wait). A change committed after the holder's last
 * look at the record but before it let go would then wait for the next
 * update: so once it has let go, an update that brings the mirror up to
 * date (`all`) looks at the record again, and takes the lock again for
 * what came meanwhile (a few times at most; whoever holds it then writes
 * it otherwise).
 */
#define UPDATE_ROUNDS 3

static int update(rd_service *svc, int wait, size_t max_changes, int all,
		  int compact_here, rd_mirror_report *r, rd_error *err)
{
	rd_mirror *m = NULL;
	int fd = -1, held = 0, rc = RD_OK;
	int64_t last = 0;

	memset(r, 0, sizeof(*r));
	for (int round = 0; round < UPDATE_ROUNDS; round++) {
		if ((rc = lock_mirror(svc, wait, &fd, &held, err)) < 0)
			break;
		if (!held ||
		    (rc = rd_store_mirror_lead(svc->store, &held, err)) < 0 ||
		    !held) {
			r->busy = rc == RD_OK && round == 0;
			break;
		}
		if ((rc = claim_and_open(svc, &m, err)) < 0)
			break;
		do {
			size_t before = r->changes;

			if ((rc = step(svc, m, max_changes, compact_here, r,
				       err)) < 0 ||
			    r->changes == before)
				break;
		} while (all);
		if (rc == RD_OK)
			rc = rd_store_changes_last(svc->store, &r->last, err);
		rd_mirror_close(m);
		m = NULL;
		close(fd);
		fd = -1;
		if (rc < 0 || !all ||
		    (rc = rd_store_changes_last(svc->store, &last, err)) < 0 ||
		    last <= r->position)
			break;
	}
	rd_mirror_close(m);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		rd_error_prefix(err, "updating the mirror %s/evidence.git",
				svc->data_dir);
	return rc;
}

void rd_service_mirror_delta_min(rd_service *svc, int64_t objects)
{
	svc->mirror_delta_min = objects;
}

int rd_service_mirror_update(rd_service *svc, int all,
			     rd_mirror_report *report, rd_error *err)
{
	return update(svc, 0, MIRROR_STEP_CHANGES, all, 1, report, err);
}

int rd_service_mirror_catch_up(rd_service *svc, rd_mirror_report *report,
			       rd_error *err)
{
	return update(svc, 1, MIRROR_STEP_CHANGES, 1, 1, report, err);
}

/*
 * Merge packs, apart from the updates (a server's compaction thread):
 * the merge writes older packs again while updates append newer ones.
 * One merger at a time (<data>/mirror-compact.lock); a mirror that is
 * missing is left to the next update.
 */
static int compact_apart(rd_service *svc, size_t *packs,
			 const atomic_int *cancel, rd_error *err)
{
	char path[4096];
	rd_mirror *m = NULL;
	struct stat sb;
	int owner = 0, rc;

	*packs = 0;
	if ((rc = mirror_path(svc, "evidence.git", path, sizeof(path),
			      err)) < 0 ||
	    stat(path, &sb) != 0)
		return rc;
	/* another data directory's packs are not this one's to merge */
	if ((rc = svc_mirror_is_owner(svc, &owner, err)) < 0 || !owner)
		return rc;
	if ((rc = rd_mirror_open(&m, path, 0, err)) == RD_OK) {
		rd_mirror_cancel_on(m, cancel);
		rc = compact_locked(svc, m, packs, err);
	}
	rd_mirror_close(m);
	return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 ||
			       errno == ENOENT
		       ? 0
		       : -1;
}

int rd_service_mirror_rebuild(rd_service *svc, rd_mirror_report *report,
			      rd_error *err)
{
	char current[4096], aside[4096], merge_lock[4096];
	int fd = -1, merge_fd = -1, held = 0, rc;

	memset(report, 0, sizeof(*report));
	/* no merge may write into the mirror being moved aside */
	if ((rc = mirror_path(svc, "mirror-compact.lock", merge_lock,
			      sizeof(merge_lock), err)) < 0)
		return rc;
	if ((merge_fd = open(merge_lock, O_RDWR | O_CREAT | O_CLOEXEC,
			     0600)) < 0 || flock(merge_fd, LOCK_EX) != 0) {
		rc = rd_error_set(err, RD_EIO, "cannot lock %s: %s",
				  merge_lock, strerror(errno));
		if (merge_fd >= 0)
			close(merge_fd);
		return rc;
	}
	if ((rc = mirror_path(svc, "evidence.git", current, sizeof(current),
			      err)) < 0 ||
	    (rc = mirror_path(svc, "evidence.git.old", aside, sizeof(aside),
			      err)) < 0 ||
	    (rc = lock_mirror(svc, 1, &fd, &held, err)) < 0 ||
	    (rc = rd_store_mirror_lead(svc->store, &held, err)) < 0)
		goto done;
	if (!held) {
		rc = rd_error_set(err, RD_EBUSY, "another process writes the "
				  "record's mirror (it holds the mirror's "
				  "lead, on this node or another): the "
				  "mirror is its data directory's; stop it "
				  "to make the mirror here");
		goto done;
	}
	if (nftw(aside, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
	    errno != ENOENT) {
		rc = rd_error_set(err, RD_EIO, "cannot remove %s: %s", aside,
				  strerror(errno));
		goto done;
	}
	if (rename(current, aside) != 0 && errno != ENOENT) {
		rc = rd_error_set(err, RD_EIO, "cannot move %s aside: %s",
				  current, strerror(errno));
		goto done;
	}
	close(fd);
	fd = -1;
	/* the old lock is given back: the update takes it again, waiting */
	if ((rc = update(svc, 1, MIRROR_STEP_CHANGES * 10, 1, 1, report,
			 err)) < 0)
		goto done;
	if (nftw(aside, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
	    errno != ENOENT)
		rc = rd_error_set(err, RD_EIO, "the mirror was made again, but "
				  "the old one at %s cannot be removed: %s",
				  aside, strerror(errno));
done:
	if (fd >= 0)
		close(fd);
	close(merge_fd);
	return rc;
}

/* ---- the mirror writer of a server ---- */

struct rd_mirror_writer {
	rd_service *svc;                 /* the thread's own */
	rd_service *merger;              /* the compaction thread's own */
	pthread_t merge_thread;
	int merge_started;
	const rd_service_options *opts;  /* borrowed while the writer runs */
	uint64_t interval_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;             /* timed on CLOCK_MONOTONIC */
	int opened, open_rc, stopping;
	rd_error open_err;
	rd_mirror_report last;           /* of the last update */
	uint64_t failures;
	atomic_int cancel;               /* stopping: a merge under way stops */
};

/*
 * A step builds its pack in memory that is free again when it ends; the C
 * library keeps such memory in the thread's arena rather than give it back
 * to the system, and a server under load grew by tens of MiB a minute
 * that way (RssAnon, with a fraction of it in use). Trimming after a step
 * gives it back: a few madvise calls, five times a second at most.
 */
static void give_back_memory(void)
{
	(void)malloc_trim(0);
}

static void *writer_main(void *arg)
{
	rd_mirror_writer *w = arg;
	rd_error err;
	int rc, stopping = 0;

	(void)pthread_setname_np(pthread_self(), "rd-mirror");
	rd_error_clear(&err);
	rc = rd_service_open(&w->svc, w->opts, &err);
	pthread_mutex_lock(&w->lock);
	w->opened = 1;
	w->open_rc = rc;
	w->open_err = err;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	if (rc < 0)
		return NULL;
	/*
	 * Once told to stop, one last update, waiting for the mirror lock if
	 * another writer has it: the server stops answering first, so this
	 * one brings the mirror up to every change it acknowledged.
	 */
	for (;;) {
		rd_mirror_report r;
		struct timespec next;

		rd_error_clear(&err);
		rc = update(w->svc, stopping, MIRROR_STEP_CHANGES, 1, 0, &r,
			    &err);
		if (stopping)
			break;
		if (r.changes)
			give_back_memory();
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_nsec += (long)w->interval_ms * 1000000L;
		next.tv_sec += next.tv_nsec / 1000000000L;
		next.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&w->lock);
		if (rc < 0)
			w->failures++;
		else
			w->last = r;
		while (!w->stopping &&
		       pthread_cond_timedwait(&w->wake, &w->lock, &next) == 0)
			;
		stopping = w->stopping;
		pthread_mutex_unlock(&w->lock);
	}
	rd_service_close(w->svc);
	w->svc = NULL;
	return NULL;
}

/*
 * A merge is never urgent: it yields the CPU to the writes. Linux gives
 * each thread its own nice value (setpriority on its thread id).
 */
#define MERGE_NICE 19

static void lower_priority(int nice)
{
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), nice);
}

/*
 * Merge the mirror's packs every MERGE_EVERY_S, beside the updates; every
 * CLEAN_EVERY_S, remove the evidence files no change names
 * (rd_service_files_clean, src/service/files.c), on the same low-priority
 * thread.
 */
#define MERGE_EVERY_S 2
#define CLEAN_EVERY_S 3600

static void *merger_main(void *arg)
{
	rd_mirror_writer *w = arg;
	struct timespec clean_at;
	rd_error err;
	int stopping = 0;

	(void)pthread_setname_np(pthread_self(), "rd-mirror-merge");
	lower_priority(MERGE_NICE);
	rd_error_clear(&err);
	if (rd_service_open(&w->merger, w->opts, &err) < 0)
		return NULL;
	rd_evidence_cancel_on(w->merger->repo, &w->cancel);
	clock_gettime(CLOCK_MONOTONIC, &clean_at);
	clean_at.tv_sec += CLEAN_EVERY_S;
	while (!stopping) {
		struct timespec next;
		size_t packs = 0;

		rd_error_clear(&err);
		(void)compact_apart(w->merger, &packs, &w->cancel, &err);
		give_back_memory();
		clock_gettime(CLOCK_MONOTONIC, &next);
		if (next.tv_sec >= clean_at.tv_sec) {
			rd_files_clean_report cleaned;

			rd_error_clear(&err);
			(void)rd_service_files_clean(w->merger,
						     RD_FILES_CLEAN_AGE_S,
						     &cleaned, &err);
			clean_at.tv_sec = next.tv_sec + CLEAN_EVERY_S;
		}
		next.tv_sec += MERGE_EVERY_S;
		pthread_mutex_lock(&w->lock);
		while (!w->stopping &&
		       pthread_cond_timedwait(&w->wake, &w->lock, &next) == 0)
			;
		stopping = w->stopping;
		pthread_mutex_unlock(&w->lock);
	}
	rd_service_close(w->merger);
	w->merger = NULL;
	return NULL;
}

int rd_mirror_writer_start(rd_mirror_writer **out,
			   const rd_service_options *opts,
			   uint64_t interval_ms, rd_error *err)
{
	rd_mirror_writer *w = calloc(1, sizeof(*w));
	pthread_condattr_t attr;
	int rc;

	*out = NULL;
	if (!w)
		return rd_error_set(err, RD_ENOMEM, "out of memory");
	w->opts = opts;
	atomic_init(&w->cancel, 0);
	w->interval_ms = interval_ms ? interval_ms : 200;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&w->lock, NULL) != 0 ||
	    pthread_cond_init(&w->wake, &attr) != 0 ||
	    pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_condattr_destroy(&attr);
		free(w);
		return rd_error_set(err, RD_ENOMEM, "cannot start the mirror "
				    "writer's thread");
	}
	pthread_condattr_destroy(&attr);
	/* the thread's own service must open before the server answers */
	pthread_mutex_lock(&w->lock);
	while (!w->opened)
		pthread_cond_wait(&w->wake, &w->lock);
	rc = w->open_rc;
	if (rc < 0)
		*err = w->open_err;
	pthread_mutex_unlock(&w->lock);
	if (rc < 0) {
		rd_mirror_writer_stop(w);
		return rc;
	}
	/* the opts outlive the writer (the caller's), as the thread needs */
	if (pthread_create(&w->merge_thread, NULL, merger_main, w) == 0)
		w->merge_started = 1;
	*out = w;
	return RD_OK;
}

void rd_mirror_writer_status(rd_mirror_writer *w, rd_mirror_report *last,
			     uint64_t *failures)
{
	pthread_mutex_lock(&w->lock);
	*last = w->last;
	*failures = w->failures;
	pthread_mutex_unlock(&w->lock);
}

void rd_mirror_writer_stop(rd_mirror_writer *w)
{
	if (!w)
		return;
	atomic_store(&w->cancel, 1);
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	if (w->merge_started)
		pthread_join(w->merge_thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
