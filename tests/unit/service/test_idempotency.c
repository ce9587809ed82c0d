/*
 * Idempotent writes in the service: an armed write records its request
 * with its effect (the response is the document the commit wrote); a
 * second armed write under the same key changes nothing and is
 * RD_ECONFLICT; a refused write records nothing; the commit's trailers name
 * the request; a record is found for 24 hours only, and after that the key
 * makes a new request; keys are checked; a key claimed in flight by one
 * service is refused to another on the same record until given back, or
 * until the first is closed. A write whose index update fails
 * after its git commit is undone in git at once (the ref moves back), so
 * that the request's retry does it once, not twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */
#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static rd_actor keyed_agent(void)
{
	return rd_test_keyed_actor(RD_ROLE_AGENT, "alice", "00000000000000a1");
}

static size_t dispute_count(rd_service *svc)
{
	rd_dispute_filter filter;
	rd_dispute **list = NULL;
	char *cursor = NULL;
	size_t n = 0;
	rd_error err;

	memset(&filter, 0, sizeof(filter));
	filter.limit = 100;
	if (rd_service_dispute_list(svc, &filter, &list, &n, &cursor,
				    &err) < 0) {
		rd_test_fail(__FILE__, __LINE__, "%s", err.message);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		rd_dispute_free(list[i]);
	free(list);
	free(cursor);
	return n;
}

static void armed_open_records_its_answer(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_actor agent = keyed_agent();
	rd_dispute *input = NULL, *d = NULL, *again = NULL;
	rd_idem_record rec;
	rd_commit_info *log = NULL;
	size_t log_count = 0;
	json_t *doc = NULL;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(rd_dispute_parse(&input, rd_test_example,
				  strlen(rd_test_example), &err), &err);
	CHECK_OK(rd_service_idem_arm(svc, &agent, "order-1", SHA_A,
				     RD_IDEM_OPEN, &err), &err);
	CHECK_OK(rd_service_dispute_open(svc, input, &agent, T0, &d, &err),
		 &err);
	rd_service_idem_disarm(svc);
	CHECK_OK(rd_service_idem_get(svc, &agent, "order-1", T0 + 5, &rec,
				     &err), &err);
	CHECK_STR(rec.request_sha256, SHA_A);
	CHECK_INT(rec.operation, RD_IDEM_OPEN);
	CHECK_STR(rec.dispute_id, d->id);
	CHECK_INT(rec.created_at, T0);
	doc = json_loads(rec.response, 0, NULL);
	CHECK(doc != NULL);
	CHECK_STR(json_string_value(json_object_get(doc, "id")), d->id);
	CHECK_INT(json_integer_value(json_object_get(doc, "version")), 1);
	json_decref(doc);
	rd_idem_record_clear(&rec);

	/* the commit names the request in its trailers */
	CHECK_OK(rd_service_audit_log(svc, d->id, &log, &log_count, &err),
		 &err);
	CHECK_INT(log_count, 1);
	if (log_count == 1) {
		CHECK_HAS(log[0].message,
			  "\nRedress-Idempotency-Key: order-1\n");
		CHECK_HAS(log[0].message, "\nRedress-Idempotency-Request: "
			  "00000000000000a1 open " SHA_A "\n");
	}
	rd_commit_infos_free(log, log_count);

	/* a racing duplicate, armed the same, changes nothing */
	CHECK_OK(rd_service_idem_arm(svc, &agent, "order-1", SHA_A,
				     RD_IDEM_OPEN, &err), &err);
	CHECK_FAILS(rd_service_dispute_open(svc, input, &agent, T0 + 1, &again,
					    &err), RD_ECONFLICT);
	CHECK_STR(err.field, "Idempotency-Key");
	rd_service_idem_disarm(svc);
	CHECK_INT(dispute_count(svc), 1);

	/* kept for 24 hours, then gone */
	CHECK_OK(rd_service_idem_get(svc, &agent, "order-1",
				     T0 + RD_IDEM_KEEP_S, &rec, &err), &err);
	rd_idem_record_clear(&rec);
	CHECK_FAILS(rd_service_idem_get(svc, &agent, "order-1",
					T0 + RD_IDEM_KEEP_S + 1, &rec, &err),
		    RD_ENOTFOUND);

	/* unarmed, the same write is a new dispute */
	CHECK_OK(rd_service_dispute_open(svc, input, &agent, T0 + 2, &again,
					 &err), &err);
	CHECK_INT(dispute_count(svc), 2);

	rd_dispute_free(again);
	rd_dispute_free(input);
	rd_dispute_free(d);
	rd_service_close(svc);
	free(dir);
}

static void refused_write_records_nothing(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_actor agent = keyed_agent();
	rd_dispute *input = NULL, *d = NULL, *after = NULL;
	rd_event_request bad = { "refund_issued", NULL, 0, NULL, 0 };
	rd_event_request ok = { "investigate", NULL, 0, NULL, 0 };
	rd_idem_record rec;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(rd_dispute_parse(&input, rd_test_example,
				  strlen(rd_test_example), &err), &err);
	CHECK_OK(rd_service_dispute_open(svc, input, &agent, T0, &d, &err),
		 &err);
	CHECK_OK(rd_service_idem_arm(svc, &agent, "ev-1", SHA_A,
				     RD_IDEM_EVENT, &err), &err);
	CHECK_FAILS(rd_service_event_apply(svc, d->id, &bad, &agent, T0 + 1,
					   &after, &err), RD_ESTATE);
	rd_service_idem_disarm(svc);
	CHECK_FAILS(rd_service_idem_get(svc, &agent, "ev-1", T0 + 1, &rec,
					&err), RD_ENOTFOUND);

	/* the key is free for the next request, which records its answer */
	CHECK_OK(rd_service_idem_arm(svc, &agent, "ev-1", SHA_B,
				     RD_IDEM_EVENT, &err), &err);
	CHECK_OK(rd_service_event_apply(svc, d->id, &ok, &agent, T0 + 2,
					&after, &err), &err);
	rd_service_idem_disarm(svc);
	CHECK_OK(rd_service_idem_get(svc, &agent, "ev-1", T0 + 2, &rec, &err),
		 &err);
	CHECK_STR(rec.request_sha256, SHA_B);
	CHECK_INT(rec.operation, RD_IDEM_EVENT);
	CHECK_HAS(rec.response, "\"version\": 2");
	rd_idem_record_clear(&rec);

	rd_dispute_free(after);
	rd_dispute_free(input);
	rd_dispute_free(d);
	rd_service_close(svc);
	free(dir);
}

static void keys_and_callers_checked(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_actor agent = keyed_agent();
	rd_actor cli = keyed_agent();
	char big[300];
	rd_idem_record rec;
	rd_error err;

	rd_error_clear(&err);
	cli.key_id[0] = '\0';
	memset(big, 'k', sizeof(big));
	big[256] = '\0';
	CHECK_FAILS(rd_idem_key_check(big, &err), RD_EUSAGE);
	big[255] = '\0';
	CHECK_OK(rd_idem_key_check(big, &err), &err);
	CHECK_FAILS(rd_idem_key_check("", &err), RD_EUSAGE);
	CHECK_FAILS(rd_idem_key_check("a b", &err), RD_EUSAGE);
	CHECK_FAILS(rd_idem_key_check("a\tb", &err), RD_EUSAGE);
	CHECK_FAILS(rd_idem_key_check("caf\xc3\xa9", &err), RD_EUSAGE);
	CHECK_OK(rd_idem_key_check("!~azAZ09-_/:", &err), &err);
	/* a caller without an API key has no idempotent requests */
	CHECK_FAILS(rd_service_idem_arm(svc, &cli, "k", SHA_A, RD_IDEM_OPEN,
					&err), RD_EUSAGE);
	CHECK_FAILS(rd_service_idem_get(svc, &cli, "k", T0, &rec, &err),
		    RD_EUSAGE);
	/* a digest that is not 64 lower-case hex digits is a caller's bug */
	CHECK_FAILS(rd_service_idem_arm(svc, &agent, "k", "ABC", RD_IDEM_OPEN,
					&err), RD_EINTERNAL);
	CHECK_FAILS(rd_service_idem_arm(svc, &agent, "k", SHA_A,
					(rd_idem_operation)7, &err),
		    RD_EINTERNAL);
	rd_service_idem_disarm(svc);
	rd_service_idem_disarm(NULL);
	rd_service_close(svc);
	free(dir);
}

/* Two services on one record, as two nodes: a key in flight is one's. */
static void claim_is_refused_to_another_service(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *a = rd_test_service_open(dir, NULL);
	rd_service *b = rd_test_service_open(dir, NULL);
	rd_actor agent = keyed_agent();
	rd_actor other = rd_test_keyed_actor(RD_ROLE_AGENT, "bob",
					     "00000000000000b2");
	rd_actor cli = keyed_agent();
	rd_error err;

	rd_error_clear(&err);
	cli.key_id[0] = '\0';
	CHECK(a && b);
	CHECK_OK(rd_service_idem_claim(a, &agent, "pay-1", &err), &err);
	CHECK_FAILS(rd_service_idem_claim(b, &agent, "pay-1", &err),
		    RD_ECONFLICT);
	CHECK_STR(err.field, "Idempotency-Key");
	CHECK_OK(rd_service_idem_claim(b, &other, "pay-1", &err), &err);
	CHECK_FAILS(rd_service_idem_claim(b, &cli, "pay-1", &err), RD_EUSAGE);
	CHECK_FAILS(rd_service_idem_claim(b, &agent, "pay 1", &err),
		    RD_EUSAGE);
	rd_service_idem_release(a, &agent, "pay-1");
	CHECK_OK(rd_service_idem_claim(b, &agent, "pay-1", &err), &err);
	CHECK_FAILS(rd_service_idem_claim(a, &agent, "pay-1", &err),
		    RD_ECONFLICT);
	rd_service_idem_release(NULL, &agent, "pay-1");
	rd_service_close(b);
	/* a PostgreSQL server ends the session a moment after the close */
	for (int i = 0; i < 500 &&
	     rd_service_idem_claim(a, &agent, "pay-1", &err) == RD_ECONFLICT;
	     i++)
		usleep(10000);
	rd_service_idem_release(a, &agent, "pay-1");
	CHECK_OK(rd_service_idem_claim(a, &agent, "pay-1", &err), &err);
	rd_service_close(a);
	free(dir);
}

static void expired_key_is_a_new_request(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_actor agent = keyed_agent();
	rd_dispute *input = NULL, *d = NULL, *later = NULL;
	rd_idem_record rec;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(rd_dispute_parse(&input, rd_test_example,
				  strlen(rd_test_example), &err), &err);
	CHECK_OK(rd_service_idem_arm(svc, &agent, "k", SHA_A, RD_IDEM_OPEN,
				     &err), &err);
	CHECK_OK(rd_service_dispute_open(svc, input, &agent, T0, &d, &err),
		 &err);
	rd_service_idem_disarm(svc);
	/* a day and a second later the same key and body: a new request */
	CHECK_OK(rd_service_idem_arm(svc, &agent, "k", SHA_A, RD_IDEM_OPEN,
				     &err), &err);
	CHECK_OK(rd_service_dispute_open(svc, input, &agent,
					 T0 + RD_IDEM_KEEP_S + 1, &later, &err),
		 &err);
	rd_service_idem_disarm(svc);
	CHECK(strcmp(d->id, later->id) != 0);
	CHECK_INT(dispute_count(svc), 2);
	CHECK_OK(rd_service_idem_get(svc, &agent, "k", T0 + RD_IDEM_KEEP_S + 1,
				     &rec, &err), &err);
	CHECK_STR(rec.dispute_id, later->id);
	CHECK_INT(rec.created_at, T0 + RD_IDEM_KEEP_S + 1);
	rd_idem_record_clear(&rec);
	rd_dispute_free(later);
	rd_dispute_free(input);
	rd_dispute_free(d);
	rd_service_close(svc);
	free(dir);
}

/*
 * Run SQL on the data directory's index through a connection of its own:
 * `lite` on SQLite, `pg` on PostgreSQL.
 */
static void index_sql(const char *dir, const char *lite, const char *pg)
{
	char *target = rd_test_record_of(dir);

	rd_test_sql(target, rd_test_on_postgres() ? pg : lite);
	free(target);
}

static size_t commits_of(rd_service *svc, const char *id)
{
	rd_commit_info *log = NULL;
	size_t count = 0;
	rd_error err;

	if (rd_service_audit_log(svc, id, &log, &count, &err) < 0) {
		if (err.code != RD_ENOTFOUND)
			rd_test_fail(__FILE__, __LINE__, "%s", err.message);
		return 0;
	}
	rd_commit_infos_free(log, count);
	return count;
}

static void verify_clean(rd_service *svc)
{
	rd_verify_report report;
	rd_error err;

	memset(&report, 0, sizeof(report));
	CHECK_OK(rd_service_audit_verify(svc, NULL, &report, NULL, NULL, &err),
		 &err);
	CHECK_INT(report.count, 0);
	for (size_t i = 0; i < report.count; i++)
		fprintf(stderr, "finding: %s %s %s\n",
			report.findings[i].dispute_id,
			report.findings[i].check, report.findings[i].detail);
	rd_verify_report_free(&report);
}

#define FAIL_HEADS                                                       \
	"CREATE TRIGGER fail_heads BEFORE UPDATE OF head ON disputes "   \
	"BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
#define FAIL_HEADS_PG                                                    \
	"CREATE FUNCTION fail_heads() RETURNS trigger LANGUAGE plpgsql "  \
	"AS $$BEGIN RAISE EXCEPTION 'injected failure'; END$$;"          \
	"CREATE TRIGGER fail_heads BEFORE UPDATE OF head ON disputes "   \
	"FOR EACH ROW EXECUTE FUNCTION fail_heads();"

static void failed_index_write_undoes_git(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	rd_actor agent = keyed_agent();
	rd_event_request investigate = { "investigate", NULL, 0, NULL, 0 };
	rd_dispute *input = NULL, *d = NULL, *after = NULL, *again = NULL;
	rd_idem_record rec;
	rd_error err;

	rd_error_clear(&err);
	CHECK_OK(rd_dispute_parse(&input, rd_test_example,
				  strlen(rd_test_example), &err), &err);
	CHECK_OK(rd_service_dispute_open(svc, input, &agent, T0, &d, &err),
		 &err);
	CHECK_INT(commits_of(svc, d->id), 1);

	/* an event whose index update fails after its commit */
	index_sql(dir, FAIL_HEADS, FAIL_HEADS_PG);
	CHECK_FAILS(rd_service_event_apply(svc, d->id, &investigate, &agent,
					   T0 + 1, &after, &err), RD_EINVALID);
	CHECK_INT(commits_of(svc, d->id), 1);       /* the ref moved back */
	rd_dispute_free(after);
	after = NULL;
	CHECK_OK(rd_service_dispute_get(svc, d->id, &after, &err), &err);
	CHECK_INT(after->version, 1);
	rd_dispute_free(after);
	after = NULL;

	/* an idempotent opening the same way: no ref is left behind */
	CHECK_OK(rd_service_idem_arm(svc, &agent, "open-1", SHA_A,
				     RD_IDEM_OPEN, &err), &err);
	CHECK_FAILS(rd_service_dispute_open(svc, input, &agent, T0 + 2, &again,
					    &err), RD_EINVALID);
	rd_service_idem_disarm(svc);
	CHECK_FAILS(rd_service_idem_get(svc, &agent, "open-1", T0 + 2, &rec,
					&err), RD_ENOTFOUND);
	CHECK_INT(dispute_count(svc), 1);
	verify_clean(svc);

	/* once the index works again, the retries do it once */
	index_sql(dir, "DROP TRIGGER fail_heads;",
		  "DROP TRIGGER fail_heads ON disputes;");
	CHECK_OK(rd_service_event_apply(svc, d->id, &investigate, &agent,
					T0 + 3, &after, &err), &err);
	CHECK_INT(after->version, 2);
	CHECK_INT(commits_of(svc, d->id), 2);
	CHECK_OK(rd_service_idem_arm(svc, &agent, "open-1", SHA_A,
				     RD_IDEM_OPEN, &err), &err);
	CHECK_OK(rd_service_dispute_open(svc, input, &agent, T0 + 4, &again,
					 &err), &err);
	rd_service_idem_disarm(svc);
	CHECK_INT(dispute_count(svc), 2);
	verify_clean(svc);
	rd_service_close(svc);

	/* and nothing is replayed from the journal at the next open */
	svc = rd_test_service_open(dir, NULL);
	CHECK_INT(dispute_count(svc), 2);
	CHECK_INT(commits_of(svc, d->id), 2);
	verify_clean(svc);

	rd_dispute_free(again);
	rd_dispute_free(after);
	rd_dispute_free(input);
	rd_dispute_free(d);
	rd_service_close(svc);
	free(dir);
}

int main(void)
{
	RUN(armed_open_records_its_answer);
	RUN(refused_write_records_nothing);
	RUN(keys_and_callers_checked);
	RUN(claim_is_refused_to_another_service);
	RUN(expired_key_is_a_new_request);
	RUN(failed_index_write_undoes_git);
	return rd_test_summary();
}
