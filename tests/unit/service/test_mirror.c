/*
 * The mirror's packs: a step writes its objects fast, each deflated on its
 * own (no deltas: "plain"); once more than 24 packs are listed and the
 * mirror has caught up, a merge replaces the newest run of them. Mostly
 * plain (and large enough: the threshold is lowered here), the run is
 * written again from the record with deltas; otherwise its packs are
 * joined as they are. Stock git reads every state: fsck
 * --strict is clean and each ref is the record's head. A ref trades
 * places with a spare file outside refs/ (ref.spare): refs/disputes holds
 * the refs and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "test.h"

#include "redress/store.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
#define DISPUTES 50

/* Whether `git verify-pack -v` finds deltas in pack `name`. */
static int has_deltas(const char *git, const char *name)
{
	return rd_test_sh(NULL, "git verify-pack -v '%s/objects/pack/"
			  "pack-%s.idx' | grep -q '^chain length'", git,
			  name) == 0;
}

/* The listed pack holding the most objects, and how many are listed. */
static void largest_pack(rd_service *svc, rd_mirror_pack *largest,
			 size_t *count)
{
	rd_mirror_pack *list = NULL;
	rd_error err;

	memset(largest, 0, sizeof(*largest));
	*count = 0;
	CHECK_OK(rd_store_mirror_packs(rd_service_store(svc), &list, count,
				       &err), &err);
	for (size_t i = 0; i < *count; i++)
		if (list[i].objects > largest->objects)
			*largest = list[i];
	free(list);
}

static void steps_fast_merges_with_deltas(void)
{
	char *dir = rd_test_tmpdir();
	char *git = rd_test_path(dir, "evidence.git");
	rd_service *svc = rd_test_service_open(dir, NULL);
	char ids[DISPUTES][RD_ID_BUFSZ];
	rd_mirror_report report;
	rd_mirror_pack big;
	size_t most = 0, listed = 0;
	rd_error err;

	CHECK(svc != NULL && git != NULL);
	/* the default waits for 50,000 objects: these merges are small */
	rd_service_mirror_delta_min(svc, 0);
	for (int i = 0; i < DISPUTES; i++) {
		CHECK_OK(rd_test_open_dispute(svc, ids[i], i + 1, "acme",
					      "damaged", T0 + i, &err), &err);
		CHECK_OK(rd_test_apply(svc, ids[i], "investigate",
				       RD_ROLE_AGENT, NULL, NULL, T0 + i + 60,
				       &err), &err);
		CHECK_OK(rd_service_mirror_update(svc, 1, &report, &err),
			 &err);
		CHECK_INT(report.busy, 0);
		if (report.packs > most)
			most = report.packs;
		/* each step's own pack: objects one by one */
		if (i < 10) {
			largest_pack(svc, &big, &listed);
			CHECK_INT((int)listed, i + 1);
			CHECK(!has_deltas(git, big.name));
			CHECK(big.plain == big.objects && big.plain > 0);
			/* its index is redress's own: git checks every entry */
			CHECK_INT(rd_test_sh(NULL, "git verify-pack '%s/objects/"
					     "pack/pack-%s.idx' && test \"$(git "
					     "show-index < '%s/objects/pack/"
					     "pack-%s.idx' | wc -l)\" = %lld",
					     git, big.name, git, big.name,
					     (long long)big.objects), 0);
		}
		/* 25 plain packs: written again with deltas, none plain */
		if (i == 24) {
			largest_pack(svc, &big, &listed);
			CHECK(listed < 10);
			CHECK(big.objects > 24 * 5);
			CHECK_INT((int)big.plain, 0);
			CHECK(has_deltas(git, big.name));
		}
	}

	/* then 24 plain packs beside it, fewer than half: joined to it */
	CHECK(most <= 25);
	largest_pack(svc, &big, &listed);
	CHECK(listed < 10);
	CHECK(big.plain > 0 && big.plain * 2 < big.objects);
	CHECK(big.objects > 48 * 5);
	CHECK(has_deltas(git, big.name));

	/* stock git reads it all, and each ref is the record's head */
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' fsck --strict "
			     "--no-progress >/dev/null 2>&1", git), 0);
	for (int i = 0; i < DISPUTES; i++) {
		char head[RD_OID_BUFSZ], *log = NULL;
		int found = 0;

		CHECK_OK(rd_store_ref_get(rd_service_store(svc), ids[i], head,
					  &found, &err), &err);
		CHECK_INT(found, 1);
		CHECK_INT(rd_test_sh(&log, "git --git-dir='%s' log --format=%%H "
				     "refs/disputes/%s", git, ids[i]), 0);
		CHECK(log != NULL && strncmp(log, head, 40) == 0);
		CHECK(log != NULL && strchr(log, '\n') != NULL &&
		      strchr(log, '\n')[1] != '\0');   /* two commits */
		free(log);
	}
	/* one file a dispute in refs/disputes, none left half-written */
	CHECK_INT(rd_test_sh(NULL, "test \"$(ls -A '%s/refs/disputes' | wc -l)\" "
			     "= %d", git, DISPUTES), 0);
	CHECK_INT(rd_test_sh(NULL, "test -z \"$(find '%s/refs/disputes' -type f "
			     "! -size 41c)\"", git), 0);

	/* a ref that moves again trades places: the spare holds the old one */
	{
		char before[RD_OID_BUFSZ], after[RD_OID_BUFSZ], *spare = NULL;
		char *path = rd_test_path(git, "ref.spare");
		int found = 0;

		CHECK_OK(rd_store_ref_get(rd_service_store(svc), ids[0],
					  before, &found, &err), &err);
		CHECK_OK(rd_test_apply(svc, ids[0], "escalate", RD_ROLE_AGENT,
				       NULL, NULL, T0 + 3600, &err), &err);
		CHECK_OK(rd_service_mirror_update(svc, 1, &report, &err),
			 &err);
		CHECK_OK(rd_store_ref_get(rd_service_store(svc), ids[0], after,
					  &found, &err), &err);
		spare = rd_test_read(path, NULL);
		CHECK(spare != NULL && strlen(spare) == 41 &&
		      strncmp(spare, before, 40) == 0);
		CHECK(strcmp(before, after) != 0);
		CHECK_INT(rd_test_sh(NULL, "test \"$(git --git-dir='%s' "
				     "rev-parse refs/disputes/%s)\" = %s",
				     git, ids[0], after), 0);
		free(spare);
		free(path);
	}
	rd_service_close(svc);
	free(git);
	free(dir);
}

static int count_object(void *ctx, const unsigned char id[RD_OID_RAWSZ],
			int type, int64_t size, int in_file)
{
	(void)id;
	(void)type;
	(void)size;
	if (!in_file)
		(*(int64_t *)ctx)++;
	return 0;
}

/* The objects the listed packs hold, in all (-1: cannot list them). */
static int64_t listed_objects(rd_service *svc)
{
	rd_mirror_pack *list = NULL;
	size_t count = 0;
	int64_t sum = 0;
	rd_error err;

	if (rd_store_mirror_packs(rd_service_store(svc), &list, &count,
				  &err) != RD_OK)
		return -1;
	for (size_t i = 0; i < count; i++)
		sum += list[i].objects;
	free(list);
	return sum;
}

/*
 * A merge writes again the objects its packs hold, not those of their
 * range of changes: after an upgrade the mirror's position jumps past
 * changes whose objects the earlier repository holds, and a pack written
 * before it (as `redress open` may leave) makes a merged range span them.
 */
static void merges_write_their_packs_objects(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_mirror_report report;
	int64_t last = 0, skipped = 0, before = 0;
	rd_error err;
	char id[RD_ID_BUFSZ];

	CHECK(svc != NULL);
	rd_service_mirror_delta_min(svc, 0);
	CHECK_OK(rd_test_open_dispute(svc, id, 1, "acme", "damaged", T0,
				      &err), &err);
	CHECK_OK(rd_service_mirror_update(svc, 1, &report, &err), &err);
	/* 20 disputes the mirror's packs never hold: the position jumps */
	CHECK_OK(rd_store_changes_last(rd_service_store(svc), &before, &err),
		 &err);
	for (int i = 0; i < 20; i++)
		CHECK_OK(rd_test_open_dispute(svc, id, 100 + i, "acme",
					      "damaged", T0 + i, &err), &err);
	CHECK_OK(rd_store_changes_last(rd_service_store(svc), &last, &err),
		 &err);
	CHECK_OK(rd_store_objects_of_changes(rd_service_store(svc), before,
					     last, count_object, &skipped,
					     &err), &err);
	CHECK(skipped > 20);
	CHECK_OK(rd_store_begin(rd_service_store(svc), &err), &err);
	CHECK_OK(rd_store_mirror_position_set(rd_service_store(svc), last,
					      &err), &err);
	CHECK_OK(rd_store_commit(rd_service_store(svc), &err), &err);
	/* then steps enough for merges, the first pack among them */
	for (int i = 0; i < 30; i++) {
		CHECK_OK(rd_test_open_dispute(svc, id, 200 + i, "acme",
					      "damaged", T0 + 100 + i, &err),
			 &err);
		CHECK_OK(rd_service_mirror_update(svc, 1, &report, &err),
			 &err);
	}
	CHECK_OK(rd_store_changes_last(rd_service_store(svc), &last, &err),
		 &err);
	{
		int64_t all = 0;

		CHECK_OK(rd_store_objects_of_changes(rd_service_store(svc), 0,
						     last, count_object, &all,
						     &err), &err);
		/* every object once, the skipped ones in no pack */
		CHECK(listed_objects(svc) == all - skipped);
	}
	rd_service_close(svc);
	free(dir);
}

/* Below the default size a merge never searches for deltas: it joins. */
static void small_merges_join(void)
{
	char *dir = rd_test_tmpdir();
	char *git = rd_test_path(dir, "evidence.git");
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_mirror_report report;
	rd_mirror_pack big;
	size_t listed = 0;
	rd_error err;

	CHECK(svc != NULL && git != NULL);
	for (int i = 0; i < 26; i++) {
		char id[RD_ID_BUFSZ];

		CHECK_OK(rd_test_open_dispute(svc, id, i + 1, "acme",
					      "damaged", T0 + i, &err), &err);
		CHECK_OK(rd_service_mirror_update(svc, 1, &report, &err),
			 &err);
	}
	largest_pack(svc, &big, &listed);
	CHECK(listed < 10);
	CHECK(big.objects > 24 && big.plain == big.objects);
	CHECK(!has_deltas(git, big.name));
	CHECK_INT(rd_test_sh(NULL, "git --git-dir='%s' fsck --strict "
			     "--no-progress >/dev/null 2>&1", git), 0);
	rd_service_close(svc);
	free(git);
	free(dir);
}

int main(void)
{
	RUN(steps_fast_merges_with_deltas);
	RUN(small_merges_join);
	RUN(merges_write_their_packs_objects);
	return rd_test_summary();
}
