/*
 * The per-key rate limit: one token bucket per API key id.
 *
 * Each bucket is kept as one number, the time at which it would be full
 * again (the generic cell rate algorithm, GCRA): a request at `now` takes a
 * token when that time lies no further ahead than the burst allows, and
 * pushes it one interval later. This is exactly a bucket of `burst` tokens
 * refilled at `rate` a second, with integer nanoseconds and no timer.
 *
 * Buckets live in a fixed table of sets of 8, each set under its own
 * mutex, so two workers only ever wait for each other on the same set.
 * It must never allocate after it is made, never grow, and never hold a
 * lock for more than a scan of one set.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ratelimit.h"

#define WAYS 8
#define SETS (HTTP_RATELIMIT_KEYS / WAYS)
#define ID_MAX 23       /* key ids are 16 hex digits */

typedef struct bucket {
	char id[ID_MAX + 1];    /* "" when free */
	uint64_t full_at;       /* ns: when the bucket is full again */
	uint64_t seen_at;       /* ns: the last request */
} bucket;

typedef struct bucket_set {
	pthread_mutex_t lock;
	bucket ways[WAYS];
} bucket_set;

struct http_ratelimit {
	uint64_t interval_ns;   /* one token every interval */
	uint64_t tolerance_ns;  /* (burst - 1) intervals */
	bucket_set sets[SETS];
};

int http_ratelimit_new(http_ratelimit **out, unsigned rate, rd_error *err)
{
	http_ratelimit *rl;
	size_t made = 0;

	*out = NULL;
	if (rate < 1 || rate > HTTP_RATELIMIT_MAX_RATE)
		return rd_error_set_field(err, RD_EUSAGE, "rate_limit",
					  "the rate limit must be 1 to %u "
					  "requests per second (0 turns it "
					  "off), not %u",
					  HTTP_RATELIMIT_MAX_RATE, rate);
	if (!(rl = calloc(1, sizeof(*rl))))
		return rd_error_set(err, RD_ENOMEM,
				    "out of memory for the rate limit");
	rl->interval_ns = UINT64_C(1000000000) / rate;
	rl->tolerance_ns = (2 * (uint64_t)rate - 1) * rl->interval_ns;
	for (made = 0; made < SETS; made++)
		if (pthread_mutex_init(&rl->sets[made].lock, NULL) != 0)
			break;
	if (made < SETS) {
		while (made > 0)
			pthread_mutex_destroy(&rl->sets[--made].lock);
		free(rl);
		return rd_error_set(err, RD_ENOMEM,
				    "cannot make the rate limit's locks");
	}
	*out = rl;
	return RD_OK;
}

void http_ratelimit_free(http_ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < SETS; i++)
		pthread_mutex_destroy(&rl->sets[i].lock);
	free(rl);
}

/* FNV-1a: key ids are random, any fair spread will do. */
uint32_t http_hash_text(const char *text)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

/* The way of `set` for id: its own, else a free one, else one to reuse. */
static bucket *find_way(bucket_set *set, const char *id, uint64_t now_ns)
{
	bucket *refilled = NULL, *oldest = NULL, *free_way = NULL;

	for (size_t i = 0; i < WAYS; i++) {
		bucket *b = &set->ways[i];

		if (b->id[0] == '\0') {
			if (!free_way)
				free_way = b;
			continue;
		}
		if (strcmp(b->id, id) == 0)
			return b;
		if (!refilled && b->full_at <= now_ns)
			refilled = b;
		if (!oldest || b->seen_at < oldest->seen_at)
			oldest = b;
	}
	return free_way ? free_way : refilled ? refilled : oldest;
}

int http_ratelimit_take(http_ratelimit *rl, const char *key_id,
			uint64_t now_ns, uint64_t *retry_after_ns)
{
	char id[ID_MAX + 1];
	bucket_set *set;
	bucket *b;
	uint64_t full_at;
	int taken;

	/* ids longer than ID_MAX share the bucket of their prefix; an
	 * empty id (none of ours is) is limited as "-" */
	snprintf(id, sizeof(id), "%s",
		 key_id && key_id[0] ? key_id : "-");
	set = &rl->sets[http_hash_text(id) % SETS];
	pthread_mutex_lock(&set->lock);
	b = find_way(set, id, now_ns);
	if (strcmp(b->id, id) != 0) {
		/* a key not remembered (or no longer) starts full */
		memcpy(b->id, id, sizeof(id));
		b->full_at = now_ns;
	}
	b->seen_at = now_ns;
	full_at = b->full_at > now_ns ? b->full_at : now_ns;
	taken = full_at - now_ns <= rl->tolerance_ns;
	if (taken)
		b->full_at = full_at + rl->interval_ns;
	else if (retry_after_ns)
		*retry_after_ns = full_at - now_ns - rl->tolerance_ns;
	pthread_mutex_unlock(&set->lock);
	return taken;
}

size_t http_ratelimit_tracked(http_ratelimit *rl)
{
	size_t n = 0;

	for (size_t i = 0; i < SETS; i++) {
		pthread_mutex_lock(&rl->sets[i].lock);
		for (size_t w = 0; w < WAYS; w++)
			n += rl->sets[i].ways[w].id[0] != '\0';
		pthread_mutex_unlock(&rl->sets[i].lock);
	}
	return n;
}
