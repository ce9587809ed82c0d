/*
 * The service's running totals against a real data directory: disputes
 * per state follow opening and events, SLA breaches count the deadlines a
 * sweep fired (and nothing else), evidence bytes the sizes added, and a
 * reindex from git arrives at the same totals.
 */
#include <stdlib.h>
#include <string.h>

#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */

static void totals_follow_the_work(void)
{
	static const char note[] = "Buyer called: the lamp base is cracked.\n";
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "data");
	rd_service_options opts = rd_test_service_options(data, NULL);
	rd_event_request investigate = { "investigate", NULL, 0, NULL, 0 };
	rd_actor agent = rd_test_actor(RD_ROLE_AGENT, "alice");
	rd_service *svc = NULL;
	rd_store_stats stats;
	char id[3][RD_ID_BUFSZ];
	size_t fired = 0, rebuilt = 0;
	rd_error err;

	memset(&stats, 0, sizeof(stats));
	CHECK_OK(rd_service_open(&svc, &opts, &err), &err);
	CHECK_OK(rd_service_stats(svc, &stats, &err), &err);
	CHECK_INT(stats.state_count, 0);
	CHECK_INT(stats.sla_breaches, 0);
	CHECK_INT(stats.evidence_bytes, 0);

	for (int i = 0; i < 3; i++)
		CHECK_OK(rd_test_open_dispute(svc, id[i], 1, "acme", "damaged",
					      T0, &err), &err);
	CHECK_OK(rd_service_event_apply(svc, id[0], &investigate, &agent,
					T0 + 10, NULL, &err), &err);
	CHECK_OK(rd_test_add_text_evidence(svc, id[0], "note", note, T0 + 30,
					   &err), &err);
	CHECK_OK(rd_service_stats(svc, &stats, &err), &err);
	CHECK_INT(rd_test_in_state(&stats, "opened"), 2);
	CHECK_INT(rd_test_in_state(&stats, "investigating"), 1);
	CHECK_INT(stats.sla_breaches, 0);
	CHECK_INT(stats.evidence_bytes, (int64_t)strlen(note));
	rd_store_stats_clear(&stats);

	/* A day later the two opened disputes escalate: two breaches. */
	CHECK_OK(rd_service_sweep(svc, T0 + 86400, &fired, &err), &err);
	CHECK_INT(fired, 2);
	CHECK_OK(rd_service_sweep(svc, T0 + 86400, &fired, &err), &err);
	CHECK_INT(fired, 0);
	CHECK_OK(rd_service_stats(svc, &stats, &err), &err);
	CHECK_INT(rd_test_in_state(&stats, "opened"), 0);
	CHECK_INT(rd_test_in_state(&stats, "escalated"), 2);
	CHECK_INT(rd_test_in_state(&stats, "investigating"), 1);
	CHECK_INT(stats.sla_breaches, 2);
	rd_store_stats_clear(&stats);

	/*
	 * Rebuilt from git, the index arrives at the same totals (reindex
	 * rebuilds an embedded record's file: on PostgreSQL the totals are
	 * read again as they are).
	 */
	if (!rd_test_on_postgres()) {
		CHECK_OK(rd_service_reindex(svc, &rebuilt, NULL, NULL, &err),
			 &err);
		CHECK_INT(rebuilt, 3);
	}
	CHECK_OK(rd_service_stats(svc, &stats, &err), &err);
	CHECK_INT(rd_test_in_state(&stats, "escalated"), 2);
	CHECK_INT(rd_test_in_state(&stats, "investigating"), 1);
	CHECK_INT(stats.sla_breaches, 2);
	CHECK_INT(stats.evidence_bytes, (int64_t)strlen(note));

	rd_store_stats_clear(&stats);
	rd_service_close(svc);
	free(data);
	free(dir);
}

int main(void)
{
	RUN(totals_follow_the_work);
	return rd_test_summary();
}
