/*
 * A buyer's history through the service, on a real record: the document
 * counts the newest RD_BUYER_HISTORY_MAX of the buyer's other disputes and
 * says when there were more (a buyer_ref shared by thousands of disputes,
 * a storefront's "guest", must not make each read of a dispute walk them
 * all), while the count an offer policy asks for takes every one.
 */
#include <stdlib.h>
#include <string.h>

#include "redress/service.h"
#include "fixtures.h"
#include "test.h"

#define T0 INT64_C(1772442000) /* 2026-03-02T09:00:00Z */

/* Open the example dispute of buyer "guest" with reason at now. */
static int open_guest(rd_service *svc, char id[RD_ID_BUFSZ], int order,
		      const char *reason, int64_t now, rd_error *err)
{
	char doc[1024];
	rd_dispute *input = NULL, *d = NULL;
	rd_actor agent = rd_test_actor(RD_ROLE_AGENT, "alice");
	int rc;

	rd_test_example_doc(doc, sizeof(doc), order, "acme-eu", reason);
	if ((rc = rd_dispute_parse(&input, doc, strlen(doc), err)) != RD_OK)
		return rc;
	free(input->buyer_ref);
	if (!(input->buyer_ref = strdup("guest")))
		rc = rd_error_set(err, RD_ENOMEM, "out of memory");
	if (rc == RD_OK &&
	    (rc = rd_service_dispute_open(svc, input, &agent, now, &d,
					  err)) == RD_OK && id)
		snprintf(id, RD_ID_BUFSZ, "%s", d->id);
	rd_dispute_free(input);
	rd_dispute_free(d);
	return rc;
}

static int64_t member(const json_t *obj, const char *path1, const char *path2)
{
	const json_t *v = json_object_get(obj, path1);

	if (path2)
		v = json_object_get(v, path2);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static void history_counts_the_newest_and_says_so(void)
{
	char *dir = rd_test_tmpdir();
	rd_service *svc = rd_test_service_open(dir, NULL);
	char subject[RD_ID_BUFSZ];
	rd_dispute *d = NULL;
	json_t *history = NULL;
	int64_t now = T0, refunds = -1;
	rd_error err;

	CHECK(svc);
	/* the oldest: the one the cap drops first */
	CHECK_OK(open_guest(svc, NULL, 1, "not_received", now++, &err), &err);
	for (int i = 0; i < RD_BUYER_HISTORY_MAX - 1; i++)
		CHECK_OK(open_guest(svc, NULL, 2 + i, "damaged", now++, &err),
			 &err);
	CHECK_OK(open_guest(svc, subject, 9000, "damaged", now++, &err),
		 &err);
	CHECK_OK(rd_service_dispute_get(svc, subject, &d, &err), &err);

	/* exactly RD_BUYER_HISTORY_MAX others: all counted */
	CHECK_OK(rd_service_buyer_history(svc, d, now, &history, &err), &err);
	CHECK_INT(member(history, "disputes", NULL), RD_BUYER_HISTORY_MAX);
	CHECK(json_is_false(json_object_get(history, "truncated")));
	CHECK_INT(member(history, "by_reason", "not_received"), 1);
	CHECK_INT(member(history, "by_reason", "damaged"),
		  RD_BUYER_HISTORY_MAX - 1);
	json_decref(history);

	/* one more: the newest are counted, the oldest left out, and said */
	CHECK_OK(open_guest(svc, NULL, 9001, "damaged", now++, &err), &err);
	CHECK_OK(rd_service_buyer_history(svc, d, now, &history, &err), &err);
	CHECK_INT(member(history, "disputes", NULL), RD_BUYER_HISTORY_MAX);
	CHECK(json_is_true(json_object_get(history, "truncated")));
	CHECK_INT(member(history, "by_reason", "not_received"), -1);
	CHECK_INT(member(history, "by_reason", "damaged"),
		  RD_BUYER_HISTORY_MAX);
	CHECK_INT(member(history, "by_outcome", "open"), RD_BUYER_HISTORY_MAX);
	json_decref(history);

	/* the policy's count is not capped (none refunded here) */
	CHECK_OK(rd_service_buyer_refunds(svc, d, now, 365, &refunds, &err),
		 &err);
	CHECK_INT(refunds, 0);

	rd_dispute_free(d);
	rd_service_close(svc);
	free(dir);
}

int main(void)
{
	RUN(history_counts_the_newest_and_says_so);
	return rd_test_summary();
}
