/*
 * Private header of the per-key rate limit (ratelimit.c): a token bucket
 * per API key id, `rate` tokens a second and room for twice as many, in a
 * table of fixed size shared by the worker threads.
 *
 * It never allocates after it is made and never blocks for longer than a
 * few comparisons under the lock of one small set of the table.
 */
#ifndef REDRESS_HTTP_RATELIMIT_H
#define REDRESS_HTTP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "redress/error.h"

typedef struct http_ratelimit http_ratelimit;

/* How many keys the table remembers at most (see http_ratelimit_take). */
#define HTTP_RATELIMIT_KEYS 4096

/* The highest rate taken, in requests per second per key. */
#define HTTP_RATELIMIT_MAX_RATE 1000000u

/*
 * A limiter of `rate` requests per second per key (1 to
 * HTTP_RATELIMIT_MAX_RATE, else RD_EUSAGE naming "rate_limit") with a
 * burst of 2 x rate: a key unused for a while may send that many at once.
 * *out is new.
 */
int http_ratelimit_new(http_ratelimit **out, unsigned rate, rd_error *err);

/* NULL is accepted. */
void http_ratelimit_free(http_ratelimit *rl);

/*
 * Take one token from the bucket of `key_id` at `now_ns` (a monotonic
 * clock). Returns 1 when taken, 0 when the bucket is empty, with
 * *retry_after_ns (may be NULL) the time until a token is back.
 *
 * The table remembers at most HTTP_RATELIMIT_KEYS keys, in sets of 8 by a
 * hash of the id. A key not remembered starts with a full bucket. When its
 * set is full, a key whose bucket has refilled is forgotten first (nothing
 * is lost: it would start full anyway); when none has, the least recently
 * seen is, and it starts with a full bucket again when it returns. So the
 * limit is exact while no more than 8 keys busy at once share a set, and
 * memory never grows.
 */
int http_ratelimit_take(http_ratelimit *rl, const char *key_id,
			uint64_t now_ns, uint64_t *retry_after_ns);

/* How many keys the table remembers now (for tests). */
size_t http_ratelimit_tracked(http_ratelimit *rl);

/*
 * FNV-1a of a text (ratelimit.c): a fair spread of ids that are random
 * already (API key ids, dispute ids), never a defence against chosen ones.
 */
uint32_t http_hash_text(const char *text);

#endif
