/*
 * What an attempt's result makes of a delivery (rd_delivery_judge): 2xx
 * delivered; 410 failed and its endpoint disabled; anything else tried
 * again on the schedule, later when the receiver's Retry-After says so
 * (up to a day), failed once the schedule is spent; an endpoint failing
 * for five days disabled, saying since when.
 */
#include <stdio.h>
#include <string.h>

#include "redress/service.h"
#include "test.h"

#define NOW 1800000000

static rd_webhook_result answer(long status, const char *error,
				int64_t retry_after_s)
{
	rd_webhook_result res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.retry_after_s = retry_after_s;
	snprintf(res.error, sizeof(res.error), "%s", error);
	return res;
}

static void success(void)
{
	rd_webhook_result res = answer(204, "", -1);
	rd_delivery_verdict v;

	rd_delivery_judge(&v, &res, 3, NOW - 86400, NOW, 7);
	CHECK_INT(v.outcome, RD_DELIVERY_DELIVERED);
	CHECK_INT(v.disable, 0);
	CHECK_INT(v.next_at, 0);
	/* a 2xx whose transfer failed is no success */
	res = answer(200, "timed out after 15 s", -1);
	rd_delivery_judge(&v, &res, 0, 0, NOW, 7);
	CHECK_INT(v.outcome, RD_DELIVERY_RETRY);
}

static void gone(void)
{
	rd_webhook_result res = answer(410, "", -1);
	rd_delivery_verdict v;

	rd_delivery_judge(&v, &res, 0, 0, NOW, 7);
	CHECK_INT(v.outcome, RD_DELIVERY_FAILED);
	CHECK_INT(v.disable, 1);
	CHECK_HAS(v.reason, "410 Gone");
}

static void retried_on_schedule(void)
{
	rd_webhook_result res = answer(500, "", -1);
	rd_delivery_verdict v;

	rd_delivery_judge(&v, &res, 0, NOW, NOW, 7);
	CHECK_INT(v.outcome, RD_DELIVERY_RETRY);
	CHECK_INT(v.next_at, NOW + 5);
	CHECK_INT(v.disable, 0);
	rd_delivery_judge(&v, &res, 1, NOW, NOW, 7);
	CHECK(v.next_at >= NOW + 270 && v.next_at <= NOW + 330);
	/* no answer at all: the same */
	res = answer(0, "refused: 127.0.0.1 is a loopback address", -1);
	rd_delivery_judge(&v, &res, 0, NOW, NOW, 7);
	CHECK_INT(v.outcome, RD_DELIVERY_RETRY);
	CHECK_INT(v.next_at, NOW + 5);
	/* the schedule spent: failed for good */
	res = answer(503, "", -1);
	rd_delivery_judge(&v, &res, RD_WEBHOOK_RETRIES, NOW, NOW, 7);
	CHECK_INT(v.outcome, RD_DELIVERY_FAILED);
	CHECK_INT(v.next_at, 0);
}

static void retry_after_honoured(void)
{
	rd_webhook_result res = answer(429, "", 120);
	rd_delivery_verdict v;

	rd_delivery_judge(&v, &res, 0, NOW, NOW, 7);
	CHECK_INT(v.next_at, NOW + 120);       /* later than 5 s */
	res = answer(503, "", 1);
	rd_delivery_judge(&v, &res, 0, NOW, NOW, 7);
	CHECK_INT(v.next_at, NOW + 5);         /* never sooner */
	res = answer(503, "", 10 * 86400);
	rd_delivery_judge(&v, &res, 0, NOW, NOW, 7);
	CHECK_INT(v.next_at, NOW + RD_WEBHOOK_RETRY_AFTER_MAX_S);
}

static void five_days_disable(void)
{
	rd_webhook_result res = answer(500, "", -1);
	rd_delivery_verdict v;

	rd_delivery_judge(&v, &res, 2, NOW - RD_WEBHOOK_FAILING_MAX_S + 1,
			  NOW, 7);
	CHECK_INT(v.disable, 0);
	rd_delivery_judge(&v, &res, 2, NOW - RD_WEBHOOK_FAILING_MAX_S, NOW, 7);
	CHECK_INT(v.disable, 1);
	CHECK_INT(v.outcome, RD_DELIVERY_RETRY);
	CHECK_HAS(v.reason, "no delivery succeeded since 2027-01-10T08:00:00Z");
	CHECK_HAS(v.reason, "5 days");
}

static void outcome_names(void)
{
	CHECK_STR(rd_delivery_outcome_name(RD_DELIVERY_DELIVERED), "delivered");
	CHECK_STR(rd_delivery_outcome_name(RD_DELIVERY_RETRY), "retry");
	CHECK_STR(rd_delivery_outcome_name(RD_DELIVERY_FAILED), "failed");
	CHECK(rd_delivery_outcome_name(RD_DELIVERY_OUTCOMES) == NULL);
}

int main(void)
{
	RUN(success);
	RUN(gone);
	RUN(retried_on_schedule);
	RUN(retry_after_honoured);
	RUN(five_days_disable);
	RUN(outcome_names);
	return rd_test_summary();
}
