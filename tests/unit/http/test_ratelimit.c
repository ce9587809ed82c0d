/*
 * The per-key token bucket, on a clock the test moves: a burst of twice the
 * rate, then one request per interval, the time to wait when refused, keys
 * independent of each other, rates out of range refused, memory bounded
 * when more keys come than the table holds (a key pushed out starts full
 * again), and exactly the burst taken when threads race for one key.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ratelimit.h"
#include "test.h"

#define SEC UINT64_C(1000000000)
#define T0 (UINT64_C(1000) * SEC)

static void burst_then_rate(void)
{
	http_ratelimit *rl = NULL;
	uint64_t wait = 0;
	rd_error err;

	CHECK_OK(http_ratelimit_new(&rl, 2, &err), &err);
	/* a new key may send 2 x 2 at once */
	for (int i = 0; i < 4; i++)
		CHECK_INT(http_ratelimit_take(rl, "00000000000000a1", T0, &wait), 1);
	CHECK_INT(http_ratelimit_take(rl, "00000000000000a1", T0, &wait), 0);
	CHECK_INT(wait, SEC / 2);
	/* still refused just before the token is back, and told how long */
	CHECK_INT(http_ratelimit_take(rl, "00000000000000a1",
				      T0 + SEC / 2 - 1, &wait), 0);
	CHECK_INT(wait, 1);
	/* one token every half second */
	CHECK_INT(http_ratelimit_take(rl, "00000000000000a1", T0 + SEC / 2,
				      &wait), 1);
	CHECK_INT(http_ratelimit_take(rl, "00000000000000a1", T0 + SEC / 2,
				      &wait), 0);
	CHECK_INT(http_ratelimit_take(rl, "00000000000000a1", T0 + SEC,
				      NULL), 1);
	/* idle long enough, the bucket is full again, never fuller */
	for (int i = 0; i < 4; i++)
		CHECK_INT(http_ratelimit_take(rl, "00000000000000a1",
					      T0 + 100 * SEC, &wait), 1);
	CHECK_INT(http_ratelimit_take(rl, "00000000000000a1", T0 + 100 * SEC,
				      &wait), 0);

	/* another key is not affected */
	CHECK_INT(http_ratelimit_take(rl, "00000000000000b2", T0 + 100 * SEC,
				      &wait), 1);
	http_ratelimit_free(rl);
	http_ratelimit_free(NULL);
}

static void refuses_bad_rates(void)
{
	http_ratelimit *rl = NULL;
	rd_error err;

	CHECK_FAILS(http_ratelimit_new(&rl, 0, &err), RD_EUSAGE);
	CHECK(rl == NULL);
	CHECK_STR(err.field, "rate_limit");
	CHECK_FAILS(http_ratelimit_new(&rl, HTTP_RATELIMIT_MAX_RATE + 1, &err),
		    RD_EUSAGE);
	CHECK_OK(http_ratelimit_new(&rl, HTTP_RATELIMIT_MAX_RATE, &err), &err);
	/* a high rate still refuses past its burst at one instant */
	for (unsigned i = 0; i < 2 * HTTP_RATELIMIT_MAX_RATE; i++)
		if (!http_ratelimit_take(rl, "k", T0, NULL))
			rd_test_fail(__FILE__, __LINE__, "refused at %u", i);
	CHECK_INT(http_ratelimit_take(rl, "k", T0, NULL), 0);
	http_ratelimit_free(rl);
}

static void bounded_memory(void)
{
	http_ratelimit *rl = NULL;
	char id[32];
	rd_error err;

	CHECK_OK(http_ratelimit_new(&rl, 1, &err), &err);
	/* key "first" empties its bucket */
	CHECK_INT(http_ratelimit_take(rl, "first", T0, NULL), 1);
	CHECK_INT(http_ratelimit_take(rl, "first", T0, NULL), 1);
	CHECK_INT(http_ratelimit_take(rl, "first", T0, NULL), 0);
	/* then far more keys than the table holds, all busy */
	for (int i = 0; i < 4 * HTTP_RATELIMIT_KEYS; i++) {
		snprintf(id, sizeof(id), "%016x", i);
		CHECK_INT(http_ratelimit_take(rl, id, T0 + 1 + (uint64_t)i,
					      NULL), 1);
	}
	CHECK_INT(http_ratelimit_tracked(rl), HTTP_RATELIMIT_KEYS);
	/* "first" was the least recently seen of its set: forgotten, so
	 * it starts again with a full bucket */
	CHECK_INT(http_ratelimit_take(rl, "first", T0 + SEC / 2, NULL), 1);
	CHECK_INT(http_ratelimit_take(rl, "first", T0 + SEC / 2, NULL), 1);
	CHECK_INT(http_ratelimit_take(rl, "first", T0 + SEC / 2, NULL), 0);
	CHECK_INT(http_ratelimit_tracked(rl), HTTP_RATELIMIT_KEYS);
	http_ratelimit_free(rl);
}

struct racer {
	http_ratelimit *rl;
	int taken;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 2000; i++)
		r->taken += http_ratelimit_take(r->rl, "shared", T0, NULL);
	return NULL;
}

static void threads_share_one_bucket(void)
{
	struct racer racers[4];
	pthread_t threads[4];
	http_ratelimit *rl = NULL;
	int total = 0;
	rd_error err;

	CHECK_OK(http_ratelimit_new(&rl, 500, &err), &err);
	for (int i = 0; i < 4; i++) {
		racers[i].rl = rl;
		racers[i].taken = 0;
		CHECK(pthread_create(&threads[i], NULL, race, &racers[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		total += racers[i].taken;
	}
	CHECK_INT(total, 1000);
	http_ratelimit_free(rl);
}

int main(void)
{
	RUN(burst_then_rate);
	RUN(refuses_bad_rates);
	RUN(bounded_memory);
	RUN(threads_share_one_bucket);
	return rd_test_summary();
}
