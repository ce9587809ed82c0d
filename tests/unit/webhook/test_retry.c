/*
 * The retry schedule of webhook deliveries: each step within 10% of its
 * place, the first one exact, the extremes of the jitter reached, the same
 * random value giving the same delay, and -1 once retries are used up.
 */
#include "test.h"

#include "redress/webhook.h"

static const int64_t expected_s[RD_WEBHOOK_RETRIES] = {
	5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
};

static void each_step_in_range(void)
{
	static const uint64_t randoms[] = { 0, 1, 2, 7, 12345, 99991,
					    UINT64_C(0x9e3779b97f4a7c15),
					    UINT64_MAX };

	CHECK_INT(RD_WEBHOOK_RETRIES, 9);
	for (int attempt = 1; attempt <= RD_WEBHOOK_RETRIES; attempt++) {
		int64_t base = expected_s[attempt - 1];

		for (size_t i = 0; i < sizeof(randoms) / sizeof(randoms[0]);
		     i++) {
			int64_t delay = rd_webhook_retry_delay(attempt,
							       randoms[i]);

			CHECK(delay * 10 >= base * 9);
			CHECK(delay * 10 <= base * 11);
			CHECK_INT(rd_webhook_retry_delay(attempt, randoms[i]),
				  delay);
		}
	}
}

static void first_retry_exact(void)
{
	for (uint64_t r = 0; r < 100; r++)
		CHECK_INT(rd_webhook_retry_delay(1, r), 5);
}

static void jitter_reaches_both_ends(void)
{
	/* 5 min: 10% is 30 s, so 61 values from 270 to 330 */
	CHECK_INT(rd_webhook_retry_delay(2, 0), 270);
	CHECK_INT(rd_webhook_retry_delay(2, 30), 300);
	CHECK_INT(rd_webhook_retry_delay(2, 60), 330);
	CHECK_INT(rd_webhook_retry_delay(2, 61), 270);
	/* 24 h: 8640 s either way */
	CHECK_INT(rd_webhook_retry_delay(9, 0), 86400 - 8640);
	CHECK_INT(rd_webhook_retry_delay(9, 2 * 8640), 86400 + 8640);
}

static void exhausted(void)
{
	CHECK_INT(rd_webhook_retry_delay(0, 42), 0);
	CHECK_INT(rd_webhook_retry_delay(RD_WEBHOOK_RETRIES + 1, 0), -1);
	CHECK_INT(rd_webhook_retry_delay(RD_WEBHOOK_RETRIES + 1, UINT64_MAX),
		  -1);
	CHECK_INT(rd_webhook_retry_delay(1000, 3), -1);
	CHECK_INT(rd_webhook_retry_delay(-1, 3), -1);
}

int main(void)
{
	RUN(each_step_in_range);
	RUN(first_retry_exact);
	RUN(jitter_reaches_both_ends);
	RUN(exhausted);
	return rd_test_summary();
}
