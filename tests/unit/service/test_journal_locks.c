/*
 * Recovery from a crash that killed a writer while it held the lock file
 * of a dispute's ref (refs/disputes/<id>.lock, libgit2's): the next open
 * replays the dead process's journal, removes that stale lock, and the
 * dispute takes writes again. A lock with no dead journal naming its
 * dispute is left alone (a live writer may hold it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "redress/service.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */

static const char *example =
	"{\"order_ref\": \"ORD-1\", \"storefront\": \"acme\", \"buyer_ref\": \"b\","
	" \"currency\": \"USD\", \"reason\": \"damaged\", \"channel\": \"chat\","
	" \"items\": [{\"sku\": \"L\", \"title\": \"Lamp\", \"quantity\": 1,"
	" \"unit_price\": 10000, \"unit_cost\": 4000}]}";

static rd_service *open_service(const char *data)
{
	rd_service_options opts = {
		.data_dir = data,
		.workflows_dir = REDRESS_SOURCE_DIR "/workflows",
		.kinds_path = REDRESS_SOURCE_DIR "/evidence/kinds.json",
		.policy_path = REDRESS_SOURCE_DIR "/workflows/policy.json",
		.create = 1,
	};
	rd_service *svc = NULL;
	rd_error err;

	if (rd_service_open(&svc, &opts, &err) < 0)
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
	return svc;
}

static int investigate(rd_service *svc, const char *id, rd_error *err)
{
	rd_event_request req = { "investigate", NULL, 0, NULL, 0 };
	rd_actor agent = { .role = RD_ROLE_AGENT, .name = "alice" };

	return rd_service_event_apply(svc, id, &req, &agent, T0 + 60, NULL,
				      err);
}

static void stale_ref_lock_removed_on_recovery(void)
{
	char *dir = rd_test_tmpdir();
	char lock[4096], journal[4096], line[64];
	rd_actor agent = { .role = RD_ROLE_AGENT, .name = "alice" };
	rd_dispute *input = NULL, *d = NULL;
	rd_service *svc = open_service(dir);
	struct stat sb;
	rd_error err;

	CHECK(svc != NULL);
	CHECK_OK(rd_dispute_parse(&input, example, strlen(example), &err),
		 &err);
	CHECK_OK(rd_service_dispute_open(svc, input, &agent, T0, &d, &err),
		 &err);
	rd_service_close(svc);

	/* what a writer killed while moving the ref leaves behind */
	snprintf(lock, sizeof(lock), "%s/evidence.git/refs/disputes/%s.lock",
		 dir, d->id);
	CHECK_INT(rd_test_write(lock, "0123456789abcdef0123456789abcdef"
			       "01234567\n"), 0);

	/* without a dead journal naming the dispute, the lock is kept */
	svc = open_service(dir);
	CHECK(svc != NULL);
	CHECK_FAILS(investigate(svc, d->id, &err), RD_ECONFLICT);
	CHECK_HAS(err.message, ".lock");
	rd_service_close(svc);
	CHECK_INT(stat(lock, &sb), 0);

	/* the dead writer's journal: nobody holds its flock */
	snprintf(journal, sizeof(journal), "%s/journal-999999-1", dir);
	snprintf(line, sizeof(line), "%s\n", d->id);
	CHECK_INT(rd_test_write(journal, line), 0);
	svc = open_service(dir);
	CHECK(svc != NULL);
	CHECK(stat(lock, &sb) != 0);
	CHECK(stat(journal, &sb) != 0);
	CHECK_OK(investigate(svc, d->id, &err), &err);
	rd_service_close(svc);

	rd_dispute_free(d);
	rd_dispute_free(input);
	free(dir);
}

int main(void)
{
	RUN(stale_ref_lock_removed_on_recovery);
	return rd_test_summary();
}
