/*
 * The builders of recent trees (src/evidence/trees.c): a change that
 * starts from a kept builder writes exactly the commit a repository with
 * nothing kept writes; a change that fails half-way leaves no builder
 * holding its files; the cache stays within its bounds.
 */
#include "fixtures.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/evidence_int.h"
#include "redress/evidence.h"

static const rd_actor *alice(void)
{
	static rd_actor a;

	a = rd_test_keyed_actor(RD_ROLE_AGENT, "Alice Agent", "");
	return &a;
}

static void make_id(char out[RD_ID_BUFSZ], int n)
{
	snprintf(out, RD_ID_BUFSZ, "01HV0000000000000000000%03u",
		 (unsigned)n % 1000u);
}

/*
 * Change n of a dispute: its dispute.json replaced and event n added
 * (both naming the dispute, so that disputes have trees of their own),
 * from `parent` (NULL for the first).
 */
static int event_change(rd_test_record *r, const char *id, int n,
			const char *parent, char out[RD_OID_BUFSZ],
			rd_error *err)
{
	char path[64], event[96], dispute[96];

	snprintf(path, sizeof(path), "events/%06d-escalate.json", n);
	snprintf(event, sizeof(event), "{\"id\":\"%s\",\"n\":%d}", id, n);
	snprintf(dispute, sizeof(dispute), "{\"id\":\"%s\",\"version\":%d}",
		 id, n);
	const rd_tree_file files[2] = {
		{ "dispute.json", dispute, strlen(dispute), NULL },
		{ path, event, strlen(event), NULL },
	};
	const rd_commit_request req = { id, parent, files, 2, alice(),
					1700000000 + n, "event" };

	return rd_test_record_commit(r, &req, out, err);
}

static void kept_builders_make_the_same_commits(void)
{
	rd_test_record kept, fresh;
	char id[RD_ID_BUFSZ];
	char a[RD_OID_BUFSZ] = "", b[RD_OID_BUFSZ] = "";
	rd_error err = { 0 };
	uint64_t hits = 0, misses = 0;
	size_t builders = 0, entries = 0;

	CHECK(rd_test_record_open(&kept) == 0);
	CHECK(rd_test_record_open(&fresh) == 0);
	make_id(id, 1);
	for (int n = 1; n <= 40; n++) {
		CHECK_OK(event_change(&kept, id, n, n > 1 ? a : NULL, a, &err),
			 &err);
		/* a new handle each time: every tree read back */
		CHECK(rd_test_record_reopen(&fresh) == 0);
		CHECK_OK(event_change(&fresh, id, n, n > 1 ? b : NULL, b,
				      &err), &err);
		CHECK_STR(a, b);
	}
	/* from the second change on, the root and events/ came from builders */
	ev_tree_cache_stats(kept.repo, &hits, &misses, &builders, &entries);
	CHECK_INT(hits, 2 * 39);
	CHECK_INT(misses, 0);
	CHECK(builders >= 2);
	CHECK(entries >= 40);
	/* and the mirror of the kept record is what stock git accepts */
	CHECK(rd_test_record_mirror(&kept, &err) == 0);
	CHECK(rd_test_sh(NULL, "git --git-dir='%s' fsck --strict "
			 "--no-progress >/dev/null 2>&1", kept.git) == 0);
	rd_test_record_close(&kept);
	rd_test_record_close(&fresh);
}

static void failed_change_keeps_nothing_of_it(void)
{
	rd_test_record kept, fresh;
	char id[RD_ID_BUFSZ];
	char c1[RD_OID_BUFSZ], a[RD_OID_BUFSZ], b[RD_OID_BUFSZ];
	char got[RD_OID_BUFSZ] = "";
	char **names = NULL;
	size_t count = 0;
	rd_error err = { 0 };
	const rd_tree_file first[] = {
		{ "dispute.json", "{}", 2, NULL },
		{ "events/000001-opened.json", "{}", 2, NULL },
		{ "events/zz.json", "{}", 2, NULL },
	};
	/* 000002 goes into events/ first, then zz.json cannot be a directory */
	const rd_tree_file refused[] = {
		{ "events/000002-escalate.json", "{\"n\":2}", 7, NULL },
		{ "events/zz.json/x", "{}", 2, NULL },
	};
	const rd_tree_file next[] = {
		{ "events/000003-resume.json", "{\"n\":3}", 7, NULL },
	};
	rd_commit_request req = { NULL, NULL, first, 3, alice(), 1700000000,
				  "opened" };

	CHECK(rd_test_record_open(&kept) == 0);
	CHECK(rd_test_record_open(&fresh) == 0);
	make_id(id, 2);
	req.dispute_id = id;
	CHECK_OK(rd_test_record_commit(&kept, &req, c1, &err), &err);
	CHECK_OK(rd_test_record_commit(&fresh, &req, b, &err), &err);
	CHECK_STR(c1, b);

	req.parent = c1;
	req.files = refused;
	req.file_count = 2;
	CHECK_FAILS(rd_test_record_commit(&kept, &req, got, &err),
		    RD_ECONFLICT);
	CHECK_HAS(err.message, "zz.json is a file");
	CHECK_STR(got, "");

	/* the next change from the same parent knows nothing of 000002 */
	req.files = next;
	req.file_count = 1;
	CHECK_OK(rd_test_record_commit(&kept, &req, a, &err), &err);
	CHECK_OK(rd_test_record_commit(&fresh, &req, b, &err), &err);
	CHECK_STR(a, b);
	CHECK_OK(rd_evidence_list(kept.repo, a, "events", &names, &count,
				  &err), &err);
	CHECK_INT(count, 3);
	for (size_t i = 0; i < count; i++) {
		CHECK(strstr(names[i], "000002") == NULL);
		free(names[i]);
	}
	free(names);
	rd_test_record_close(&kept);
	rd_test_record_close(&fresh);
}

static void cache_stays_bounded(void)
{
	rd_test_record r;
	char id[RD_ID_BUFSZ], head[RD_OID_BUFSZ];
	rd_error err = { 0 };
	uint64_t hits = 0, misses = 0;
	size_t builders = 0, entries = 0;
	int disputes = EV_TREE_CACHE_SLOTS / 2 + 20;

	CHECK(rd_test_record_open(&r) == 0);
	/* two trees a dispute (the root, events/): more than the slots */
	for (int n = 0; n < disputes; n++) {
		make_id(id, n);
		CHECK_OK(event_change(&r, id, 1, NULL, head, &err), &err);
	}
	ev_tree_cache_stats(r.repo, &hits, &misses, &builders, &entries);
	CHECK_INT(builders, EV_TREE_CACHE_SLOTS);
	CHECK(entries <= EV_TREE_CACHE_ENTRIES);
	/* the oldest went first: the first dispute's trees are read back */
	make_id(id, 0);
	{
		char parent[RD_OID_BUFSZ];
		int found = 0;

		CHECK_OK(rd_test_record_head(&r, id, parent, &found, &err),
			 &err);
		CHECK_INT(found, 1);
		CHECK_OK(event_change(&r, id, 2, parent, head, &err), &err);
	}
	ev_tree_cache_stats(r.repo, &hits, &misses, &builders, &entries);
	CHECK_INT(hits, 0);
	CHECK_INT(misses, 2);
	rd_test_record_close(&r);
}

int main(void)
{
	RUN(kept_builders_make_the_same_commits);
	RUN(failed_change_keeps_nothing_of_it);
	RUN(cache_stays_bounded);
	return rd_test_summary();
}
