/*
 * The service's running totals against a real data directory: disputes
 * per state follow opening and events, SLA breaches count the deadlines a
 * sweep fired (and nothing else), evidence bytes the sizes added, and a
 * reindex from git arrives at the same totals.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/service.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
#define KINDS REDRESS_SOURCE_DIR "/evidence/kinds.json"
#define POLICY REDRESS_SOURCE_DIR "/workflows/policy.json"
#define WORKFLOWS REDRESS_SOURCE_DIR "/workflows"

static const char *example =
	"{\"order_ref\": \"ORD-1\", \"storefront\": \"acme\", \"buyer_ref\": \"b\","
	" \"currency\": \"USD\", \"reason\": \"damaged\", \"channel\": \"chat\","
	" \"items\": [{\"sku\": \"L\", \"title\": \"Lamp\", \"quantity\": 1,"
	" \"unit_price\": 10000, \"unit_cost\": 4000}]}";

static rd_actor actor(rd_role role, const char *name)
{
	rd_actor a;

	memset(&a, 0, sizeof(a));
	a.role = role;
	snprintf(a.name, sizeof(a.name), "%s", name);
	return a;
}

static int open_example(rd_service *svc, char id[RD_ID_BUFSZ], rd_error *err)
{
	rd_dispute *input = NULL, *d = NULL;
	rd_actor agent = actor(RD_ROLE_AGENT, "alice");
	int rc;

	if ((rc = rd_dispute_parse(&input, example, strlen(example), err)) >= 0 &&
	    (rc = rd_service_dispute_open(svc, input, &agent, T0, &d, err)) >= 0)
		snprintf(id, RD_ID_BUFSZ, "%s", d->id);
	rd_dispute_free(input);
	rd_dispute_free(d);
	return rc;
}

static int64_t in_state(const rd_store_stats *stats, const char *state)
{
	for (size_t i = 0; i < stats->state_count; i++)
		if (strcmp(stats->states[i].state, state) == 0)
			return stats->states[i].disputes;
	return -1;
}

static int add_note(rd_service *svc, const char *dir, const char *id,
		    const char *text, rd_error *err)
{
	char *path = rd_test_path(dir, "note.txt");
	rd_evidence_submission sub;
	rd_actor agent = actor(RD_ROLE_AGENT, "alice");
	int fd = -1;
	int rc = RD_EIO;

	memset(&sub, 0, sizeof(sub));
	sub.kind = "note";
	if (rd_test_write(path, text) == 0 &&
	    (fd = open(path, O_RDONLY)) >= 0)
		rc = rd_service_evidence_add_fd(svc, id, &sub, fd, &agent,
						T0 + 30, NULL, err);
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static void totals_follow_the_work(void)
{
	static const char note[] = "Buyer called: the lamp base is cracked.\n";
	char *dir = rd_test_tmpdir();
	char *data = rd_test_path(dir, "data");
	rd_service_options opts = { .data_dir = data, .workflows_dir = WORKFLOWS,
				    .kinds_path = KINDS, .policy_path = POLICY,
				    .create = 1 };
	rd_event_request investigate = { "investigate", NULL, 0, NULL, 0 };
	rd_actor agent = actor(RD_ROLE_AGENT, "alice");
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
		CHECK_OK(open_example(svc, id[i], &err), &err);
	CHECK_OK(rd_service_event_apply(svc, id[0], &investigate, &agent,
					T0 + 10, NULL, &err), &err);
	CHECK_OK(add_note(svc, dir, id[0], note, &err), &err);
	CHECK_OK(rd_service_stats(svc, &stats, &err), &err);
	CHECK_INT(in_state(&stats, "opened"), 2);
	CHECK_INT(in_state(&stats, "investigating"), 1);
	CHECK_INT(stats.sla_breaches, 0);
	CHECK_INT(stats.evidence_bytes, (int64_t)strlen(note));
	rd_store_stats_clear(&stats);

	/* A day later the two opened disputes escalate: two breaches. */
	CHECK_OK(rd_service_sweep(svc, T0 + 86400, &fired, &err), &err);
	CHECK_INT(fired, 2);
	CHECK_OK(rd_service_sweep(svc, T0 + 86400, &fired, &err), &err);
	CHECK_INT(fired, 0);
	CHECK_OK(rd_service_stats(svc, &stats, &err), &err);
	CHECK_INT(in_state(&stats, "opened"), 0);
	CHECK_INT(in_state(&stats, "escalated"), 2);
	CHECK_INT(in_state(&stats, "investigating"), 1);
	CHECK_INT(stats.sla_breaches, 2);
	rd_store_stats_clear(&stats);

	/* Rebuilt from git, the index arrives at the same totals. */
	CHECK_OK(rd_service_reindex(svc, &rebuilt, NULL, NULL, &err), &err);
	CHECK_INT(rebuilt, 3);
	CHECK_OK(rd_service_stats(svc, &stats, &err), &err);
	CHECK_INT(in_state(&stats, "escalated"), 2);
	CHECK_INT(in_state(&stats, "investigating"), 1);
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
