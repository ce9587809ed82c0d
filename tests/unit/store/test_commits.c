/*
 * Commit order (schema 15): the mirror follows changes by the number of
 * their commit, which orders commits as they happened. On PostgreSQL a
 * change numbered lower may commit later: its commit is numbered after;
 * a transaction's changes share its commit's number; a change rolled back
 * to its savepoint leaves no number; two transactions committing at once
 * get numbers without a gap. The record's mirror lead is one connection's
 * at a time, given up when it closes; the mirror's owner is recorded, and
 * mirrors taking the state in turns each get their own back.
 * On SQLite (one writer) a commit's number is its change's own.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/store.h"
#include "store/store_int.h"
#include "fixtures.h"
#include "test.h"

/* Head n: 40 hex digits. */
static void head_of(char out[41], int n)
{
	snprintf(out, 41, "%040d", n);
}

/* Move dispute `n`'s head (new: from nothing) to head `to`. */
static int move(rd_store *st, int n, int from, int to, rd_error *err)
{
	char id[RD_ID_BUFSZ], old[41], head[41];

	rd_test_make_id(id, n);
	head_of(old, from);
	head_of(head, to);
	return rd_store_ref_move(st, id, from ? old : NULL, head, 100 + to,
				 err);
}

static rd_store *open_record(char **path)
{
	rd_store *st = NULL;
	rd_error err;

	rd_error_clear(&err);
	*path = rd_test_db_path();
	if (!*path || rd_store_open(&st, *path, &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "cannot open the record: %s",
			     err.message);
		return NULL;
	}
	return st;
}

/* Every change after commit `after`: "dispute-n@commit" words. */
static void changes_text(rd_store *st, int64_t after, char *out, size_t size)
{
	rd_change_row *rows = NULL;
	rd_error err;
	size_t count = 0, used = 0;

	out[0] = '\0';
	rd_error_clear(&err);
	if (rd_store_changes_after(st, after, 100, &rows, &count, &err) < 0) {
		snprintf(out, size, "error: %.200s", err.message);
		return;
	}
	for (size_t i = 0; i < count && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%d@%lld",
					 i ? " " : "",
					 (int)strtol(rows[i].dispute_id + 3,
						     NULL, 10),
					 (long long)rows[i].commit);
	free(rows);
}

/* A change numbered first but committed last is numbered last. */
static void commits_in_the_order_they_happen(void)
{
	rd_store *a, *b = NULL;
	rd_error err;
	char text[256], *path;
	int64_t last = -1;

	RD_TEST_POSTGRES_ONLY("SQLite has one writer: its changes commit in "
			      "the order of their numbers");
	if (!(a = open_record(&path)))
		return;
	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&b, path, &err), &err);
	CHECK_OK(rd_store_begin(a, &err), &err);
	CHECK_OK(move(a, 1, 0, 1, &err), &err);   /* change 1 */
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_OK(move(b, 2, 0, 2, &err), &err);   /* change 2 */
	CHECK_OK(rd_store_commit(b, &err), &err);
	/* a's own change has no commit yet, even to a */
	changes_text(a, 0, text, sizeof(text));
	CHECK_STR(text, "2@1");
	CHECK_OK(rd_store_commit(a, &err), &err);
	changes_text(b, 0, text, sizeof(text));
	CHECK_STR(text, "2@1 1@2");
	/* a mirror at commit 1 reads dispute 1's change next, not never */
	changes_text(b, 1, text, sizeof(text));
	CHECK_STR(text, "1@2");
	CHECK_OK(rd_store_changes_last(b, &last, &err), &err);
	CHECK_INT(last, 2);
	{
		char id[RD_ID_BUFSZ];
		int64_t n = 0;

		rd_test_make_id(id, 1);
		CHECK_OK(rd_store_dispute_last_change(b, id, &n, &err), &err);
		CHECK_INT(n, 2);
	}
	rd_store_close(b);
	rd_store_close(a);
	free(path);
}

/*
 * A batch: its changes share one commit; one rolled back to its savepoint
 * is not there; a batch whose every change was rolled back, and a
 * transaction with no change, take no number.
 */
static void a_batch_is_one_commit(void)
{
	rd_store *st;
	rd_error err;
	char text[256], *path;
	int64_t last = -1;

	if (!(st = open_record(&path)))
		return;
	rd_error_clear(&err);
	CHECK_OK(rd_store_batch_begin(st, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(move(st, 1, 0, 1, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(move(st, 2, 0, 2, &err), &err);
	rd_store_rollback(st);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(move(st, 1, 1, 3, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_batch_commit(st, &err), &err);
	changes_text(st, 0, text, sizeof(text));
	CHECK_STR(text, rd_test_on_postgres() ? "1@1 1@1" : "1@1 1@2");

	CHECK_OK(rd_store_batch_begin(st, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(move(st, 2, 0, 4, &err), &err);
	rd_store_rollback(st);
	CHECK_OK(rd_store_batch_commit(st, &err), &err);
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_mirror_position_set(st, 0, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_OK(rd_store_changes_last(st, &last, &err), &err);
	CHECK_INT(last, rd_test_on_postgres() ? 1 : 2);

	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(move(st, 2, 0, 5, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	changes_text(st, rd_test_on_postgres() ? 1 : 2, text, sizeof(text));
	CHECK_STR(text, rd_test_on_postgres() ? "2@2" : "2@3");
	rd_store_close(st);
	free(path);
}

/* Writers of many connections committing at once: numbers with no gap. */
typedef struct writer {
	const char *path;
	int first;
	int rc;
	rd_error err;
} writer;

#define WRITERS 4
#define CHANGES 25

static void *write_changes(void *arg)
{
	writer *w = arg;
	rd_store *st = NULL;

	rd_error_clear(&w->err);
	if ((w->rc = rd_store_open(&st, w->path, &w->err)) < 0)
		return NULL;
	for (int i = 0; i < CHANGES && w->rc == RD_OK; i++) {
		if ((w->rc = rd_store_begin(st, &w->err)) < 0)
			break;
		if ((w->rc = move(st, w->first + i, 0, w->first + i,
				  &w->err)) < 0) {
			rd_store_rollback(st);
			break;
		}
		w->rc = rd_store_commit(st, &w->err);
	}
	rd_store_close(st);
	return NULL;
}

static void numbers_without_gaps(void)
{
	pthread_t threads[WRITERS];
	writer writers[WRITERS];
	rd_change_row *rows = NULL;
	rd_store *st;
	rd_error err;
	size_t count = 0;
	char *path;

	RD_TEST_POSTGRES_ONLY("SQLite's writers take turns whole");
	if (!(st = open_record(&path)))
		return;
	rd_error_clear(&err);
	for (int i = 0; i < WRITERS; i++) {
		memset(&writers[i], 0, sizeof(writers[i]));
		writers[i].path = path;
		writers[i].first = 1000 * (i + 1);
		CHECK(pthread_create(&threads[i], NULL, write_changes,
				     &writers[i]) == 0);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(threads[i], NULL);
	for (int i = 0; i < WRITERS; i++)
		CHECK_OK(writers[i].rc, &writers[i].err);
	CHECK_OK(rd_store_changes_after(st, 0, 1000, &rows, &count, &err),
		 &err);
	CHECK_INT(count, WRITERS * CHANGES);
	for (size_t i = 0; i < count; i++)
		CHECK_INT(rows[i].commit, (int64_t)i + 1);
	free(rows);
	/* read in steps, nothing is passed over nor read twice */
	{
		int64_t after = 0;
		size_t seen = 0;

		do {
			CHECK_OK(rd_store_changes_after(st, after, 7, &rows,
							&count, &err), &err);
			if (count)
				after = rows[count - 1].commit;
			seen += count;
			free(rows);
			rows = NULL;
		} while (count);
		CHECK_INT(seen, WRITERS * CHANGES);
	}
	rd_store_close(st);
	free(path);
}

/* The mirror's lead: one connection's, until it closes; and its owner. */
static void one_mirror_lead(void)
{
	rd_store *a, *b = NULL;
	rd_error err;
	char owner[64], *path;
	int leading = -1;

	if (!(a = open_record(&path)))
		return;
	rd_error_clear(&err);
	CHECK_OK(rd_store_open(&b, path, &err), &err);
	CHECK_OK(rd_store_mirror_lead(a, &leading, &err), &err);
	CHECK_INT(leading, 1);
	CHECK_OK(rd_store_mirror_lead(a, &leading, &err), &err);
	CHECK_INT(leading, 1);
	CHECK_OK(rd_store_mirror_lead(b, &leading, &err), &err);
	/* the embedded record's mirror has its data directory's lock */
	CHECK_INT(leading, rd_test_on_postgres() ? 0 : 1);
	/*
	 * the lock goes when the server has ended a's session, a moment
	 * after a closed its connection
	 */
	rd_store_close(a);
	for (int i = 0; i < 100; i++) {
		CHECK_OK(rd_store_mirror_lead(b, &leading, &err), &err);
		if (leading)
			break;
		usleep(50 * 1000);
	}
	CHECK_INT(leading, 1);

	CHECK_OK(rd_store_mirror_owner(b, owner, sizeof(owner), &err), &err);
	CHECK_STR(owner, "");
	CHECK_FAILS(rd_store_mirror_owner_set(b, "abc", &err), RD_EINTERNAL);
	CHECK_OK(rd_store_begin(b, &err), &err);
	CHECK_OK(rd_store_mirror_owner_set(b, "0123456789abcdef", &err), &err);
	CHECK_OK(rd_store_commit(b, &err), &err);
	CHECK_OK(rd_store_mirror_owner(b, owner, sizeof(owner), &err), &err);
	CHECK_STR(owner, "0123456789abcdef");
	CHECK_FAILS(rd_store_mirror_owner(b, owner, 8, &err), RD_EIO);
	rd_store_close(b);
	free(path);
}

/* Pack n of a mirror state: changes n*10+1 to n*10+10. */
static int add_pack(rd_store *st, int n, rd_error *err)
{
	rd_mirror_pack pack;

	memset(&pack, 0, sizeof(pack));
	snprintf(pack.name, sizeof(pack.name), "%040d", n);
	pack.first_change = n * 10 + 1;
	pack.last_change = n * 10 + 10;
	pack.objects = 5;
	pack.plain = 5;
	return rd_store_mirror_pack_add(st, &pack, err);
}

/*
 * Mirrors taking the state in turns: each gets its own position and packs
 * back; one never the owner starts again.
 */
static void mirror_state_taken_in_turns(void)
{
	rd_mirror_pack *packs = NULL;
	rd_store *st;
	rd_error err;
	int64_t position = -1;
	size_t count = 0;
	int resumed = -1;
	char owner[64], *path;

	if (!(st = open_record(&path)))
		return;
	rd_error_clear(&err);
	CHECK_FAILS(rd_store_mirror_take(st, "aaaa", &resumed, &err),
		    RD_EINTERNAL);
	/* a writes two packs up to 20 */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_mirror_take(st, "aaaa", &resumed, &err), &err);
	CHECK_INT(resumed, 0);
	CHECK_OK(add_pack(st, 0, &err), &err);
	CHECK_OK(add_pack(st, 1, &err), &err);
	CHECK_OK(rd_store_mirror_position_set(st, 20, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* b takes over: starts again, writes one pack */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_mirror_take(st, "bbbb", &resumed, &err), &err);
	CHECK_INT(resumed, 0);
	CHECK_OK(rd_store_mirror_position(st, &position, &err), &err);
	CHECK_INT(position, 0);
	CHECK_OK(rd_store_mirror_packs(st, &packs, &count, &err), &err);
	CHECK_INT(count, 0);
	free(packs);
	packs = NULL;
	CHECK_OK(add_pack(st, 0, &err), &err);
	CHECK_OK(rd_store_mirror_position_set(st, 10, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	/* a back: its own two packs and position 20 */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_mirror_take(st, "aaaa", &resumed, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_INT(resumed, 1);
	CHECK_OK(rd_store_mirror_position(st, &position, &err), &err);
	CHECK_INT(position, 20);
	CHECK_OK(rd_store_mirror_packs(st, &packs, &count, &err), &err);
	CHECK_INT(count, 2);
	CHECK_INT(packs[1].last_change, 20);
	free(packs);
	packs = NULL;
	CHECK_OK(rd_store_mirror_owner(st, owner, sizeof(owner), &err), &err);
	CHECK_STR(owner, "aaaa");
	/* and b back: its one pack, position 10 */
	CHECK_OK(rd_store_begin(st, &err), &err);
	CHECK_OK(rd_store_mirror_take(st, "bbbb", &resumed, &err), &err);
	CHECK_OK(rd_store_commit(st, &err), &err);
	CHECK_INT(resumed, 1);
	CHECK_OK(rd_store_mirror_position(st, &position, &err), &err);
	CHECK_INT(position, 10);
	CHECK_OK(rd_store_mirror_packs(st, &packs, &count, &err), &err);
	CHECK_INT(count, 1);
	free(packs);
	rd_store_close(st);
	free(path);
}

int main(void)
{
	RUN(commits_in_the_order_they_happen);
	RUN(a_batch_is_one_commit);
	RUN(numbers_without_gaps);
	RUN(one_mirror_lead);
	RUN(mirror_state_taken_in_turns);
	return rd_test_summary();
}
