/*
 * The retry schedule of webhook deliveries: fixed steps, each but the
 * first moved by up to 10% either way. Pure arithmetic on the caller's
 * random value, so that a test can pin every delay.
 * See include/redress/webhook.h.
 */
#include "redress/webhook.h"

/* Seconds before retry 1, 2, ... RD_WEBHOOK_RETRIES. */
static const int64_t schedule_s[RD_WEBHOOK_RETRIES] = {
	5,               /* 5 s */
	5 * 60,          /* 5 min */
	30 * 60,         /* 30 min */
	2 * 3600,        /* 2 h */
	5 * 3600,        /* 5 h */
	10 * 3600,       /* 10 h */
	14 * 3600,       /* 14 h */
	20 * 3600,       /* 20 h */
	24 * 3600,       /* 24 h */
};

int64_t rd_webhook_retry_delay(int attempt, uint64_t random)
{
	int64_t base, spread;

	if (attempt == 0)
		return 0;
	if (attempt < 0 || attempt > RD_WEBHOOK_RETRIES)
		return -1;
	base = schedule_s[attempt - 1];
	/* 10% of 5 s rounds down to 0: the first retry is not moved */
	spread = base / 10;
	return base - spread +
	       (int64_t)(random % (uint64_t)(2 * spread + 1));
}
